"""`make bench`: speed and memory of nxsecure side by side with python-mbedtls (Mbed TLS),
raw Python UDP and MicroPython. Prints a table and writes BENCHMARKS.md.

    python bench/run.py [--reps 5] [--seconds 1.0] [--out BENCHMARKS.md]
                        [--only echo,handshake,records,mp,gateway,pythonic,board]
                        [--gateway 5000] [--crowd 1000] [--board_records 20]
                        [--board_layouts 4]

Host part: every server and client is its own process, both pinned to core 0 with
`taskset -c 0`; the implementations of one configuration run alternately (A B, then
B A, ...) in each repetition, and each figure is the median (min..max) over the
repetitions. Echo: one session, one record each way per round trip, a 200-echo warm-up,
then as many round trips as fit in --seconds. Handshakes: sequential full handshakes
with a cookie exchange (HelloVerifyRequest), each on a new client session and port.
CPU is user + system time of each process over the measured part. Records: bench/records.py,
one record sealed and opened in one process (pinned), nxsecure's record layer against
Mbed TLS's through python-mbedtls' memory buffers.
MicroPython part: bench/mp_bench.py inside the WebAssembly build under Node, and the
same script under this CPython, both with the pure-Python AES.
Gateway part: bench/gateway.py (--gateway sessions on one server port; server CPU per
handshake, per echo and per idle session ended, pinned), 3 runs, medians.
Pythonic part: bench/pythonic_part.py (echo through nxsecure.aio and nxsecure.api beside
python-mbedtls and the asyncio floor, alternated; the asyncio server with --crowd
connected sessions, 3 runs).
Board part (bench/boards.py): bench/mp_bench.py on the real rp2 firmware on the emulated
RP2040 (emulated time at 125 MHz) and on the 32-bit unix MicroPython with the RP2040's
free heap, with the AES the firmware offers, side by side with the ratio; the PSK-CCM_8
handshake also as a mean over 1 + --board_layouts heap layouts (mp_bench --layout).
"""
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402
import pythonic_part  # noqa: E402
import boards  # noqa: E402

PY = sys.executable
ECHO_SUITES = ("psk-ccm8", "psk-gcm")
SIZES = (100, 1000)
HS_SUITES = ("psk-ccm8", "ecdhe-ecdsa-ccm8")
TARGETS = {"echo_vs_mbedtls": 1.2, "echo_vs_udp": 0.55, "psk_hs_vs_mbedtls": 1.0,
           "ecdhe_hs_vs_mbedtls": 2.0}


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pinned(cmd):
    return (["taskset", "-c", "0"] if PIN else []) + cmd


def scripts(impl):
    py = pythonic_part.scripts(impl)          # the Pythonic path's (bench/pythonic_part.py)
    if py is not None:
        return py
    if impl in ("udp", "floor", "record"):
        return ([PY, os.path.join(HERE, "udp_echo.py"), "server"],
                [PY, os.path.join(HERE, "udp_echo.py"), "client"])
    return ([PY, os.path.join(HERE, impl + "_server.py")],
            [PY, os.path.join(HERE, impl + "_client.py")])


def run_pair(impl, mode, suite, size, seconds):
    """One server + one client process; -> (client dict, server dict)."""
    srv_cmd, cli_cmd = scripts(impl)
    port_ = str(free_port())
    if impl == "floor":
        mode = "aead"
    elif impl == "record":
        mode = "record"
    common_args = ["--port", port_, "--suite", suite or "", "--mode", mode]
    srv = subprocess.Popen(pinned(srv_cmd + common_args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = srv.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError("%s server did not start: %s%s" % (impl, line, srv.stderr.read()))
        cli = subprocess.run(pinned(cli_cmd + common_args + ["--size", str(size),
                                                             "--seconds", str(seconds)]),
                             capture_output=True, text=True, cwd=ROOT, timeout=30)
        if cli.returncode != 0:
            raise RuntimeError("%s client failed: %s" % (impl, cli.stderr[-2000:]))
        client = json.loads(cli.stdout.strip().splitlines()[-1])
        out, err = srv.communicate(timeout=20)
        server = json.loads(out.strip().splitlines()[-1])
        return client, server
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def med(xs):
    return (statistics.median(xs), min(xs), max(xs))


def fmt_rate(m):
    return "%.0f (%.0f..%.0f)" % m


def host_part(reps, seconds, do_echo, do_hs, log):
    res = {}      # key -> list of {rate, ccpu, scpu}

    def add(key, client, server, per):
        rate = client["count"] / client["wall_s"]
        res.setdefault(key, []).append({
            "rate": rate,
            "ccpu": client["cpu_s"] / (client["count"] * per),
            "scpu": server["cpu_s"] / max(server["count"] * per, 1)})

    groups = []
    if do_echo:
        for size in SIZES:
            groups.append(("echo", None, size, ["udp"]))
            for suite in ECHO_SUITES:
                groups.append(("echo", suite, size, ["ours", "mbedtls", "floor", "record"]))
    if do_hs:
        for suite in HS_SUITES:
            impls = ["mbedtls"]
            if common.ours_has(suite):
                impls.insert(0, "ours")
            groups.append(("handshake", suite, 0, impls))
    for rep in range(reps):
        for mode, suite, size, impls in groups:
            order = impls if rep % 2 == 0 else impls[::-1]
            for impl in order:
                try:
                    client, server = run_pair(impl, mode, suite, size, seconds)
                except Exception as e:      # noqa: BLE001  (reported, the run goes on)
                    log("  %s %s %s %s failed: %s" % (impl, mode, suite, size, e))
                    if isinstance(e, subprocess.TimeoutExpired):
                        why = "%s timed out after %.0f s" % (next(
                            (os.path.basename(a) for a in e.cmd if str(a).endswith(".py")),
                            "a process"), e.timeout)
                    else:
                        why = (str(e).splitlines() or [type(e).__name__])[0][:160]
                    res.setdefault(("failed", mode, suite, size, impl), []).append(why)
                    continue
                # per record (echo: each side seals one and opens one record per round
                # trip) or per handshake
                add((mode, suite, size, impl), client, server, 2 if mode == "echo" else 1)
        log("  repetition %d/%d done" % (rep + 1, reps))
    return res


def records_part(reps, log):
    """bench/records.py: {(suite, size): {impl: us per record sealed and opened}}."""
    p = subprocess.run(pinned([PY, os.path.join(HERE, "records.py"), "--reps", str(reps)]),
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    out = {}
    if p.returncode != 0:
        log("  records.py: %s" % (p.stderr or p.stdout)[-1500:])
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            out.setdefault((r["suite"], r["size"]), {})[r["impl"]] = r["us"]
    return out


def gateway_part(sessions, runs, log):
    """bench/gateway.py `runs` times: [result dict] of the runs that completed."""
    out = []
    for _ in range(runs):
        p = subprocess.run(pinned([PY, os.path.join(HERE, "gateway.py"), "--json", "--sessions",
                                   str(sessions), "--echoes", str(min(3000, 3 * sessions))]),
                           capture_output=True, text=True, cwd=ROOT, timeout=900)
        line = [x for x in p.stdout.splitlines() if x.startswith("{")]
        if p.returncode != 0 or not line:
            log("  gateway.py failed: %s" % (p.stderr or p.stdout)[-1500:])
            continue
        out.append(json.loads(line[-1]))
    return out


def gateway_report(w, runs):
    if not runs:
        return
    n = runs[0]["sessions"]

    def m(key, sub=None):
        xs = [(r[key][sub] if sub else r[key]) for r in runs]
        return statistics.median(xs), min(xs), max(xs)

    w("## Gateway: %d PSK-CCM_8 sessions on one server port" % n)
    w("")
    w("bench/gateway.py, %d runs (median, min..max): one NetX server process and the "
      "driver playing every client (the tests' hand-written peer, so only the server's "
      "CPU is measured), both pinned to core 0. Server CPU (user + system) between marks." % len(runs))
    w("")
    w("| figure | server CPU | |")
    w("|---|---|---|")
    rows = [("handshake, first 10% of the fill", "handshake_first10_us", "us"),
            ("handshake, last 10% of the fill", "handshake_last10_us", "us"),
            ("echo, one session", "echo_one_us", "us"),
            ("echo, each on another of the %d sessions" % n, "echo_spread_us", "us"),
            ("echo, one session, %d silent half-open sessions beside" % n, "echo_halfopen_us", "us"),
            ("idle sweep, per session it ends (%d ended at once)" % runs[0]["idle_ended"],
             "idle_per_session_us", "us"),
            ("echo, one session: user time alone", "echo_one_user_us", "us"),
            ("echo, each on another session: user time alone", "echo_spread_user_us", "us"),
            ("a quiet second that ends nothing (the server's 100 ms wake-ups; the same at "
             "200 sessions)", "quiet_second_us", "us")]
    for label, key, unit in rows:
        md, lo, hi = m(key)
        w("| %s | %.1f %s (%.1f..%.1f) | |" % (label, md, unit, lo, hi))
    w("")
    w("| target (issue #11) | ratio | met |")
    w("|---|---|---|")
    for label, key in (("echo spread over all sessions / one session <= 1.2", "spread/one"),
                       ("handshake, last 10% / first 10% of the fill <= 1.2", "fill last/first"),
                       ("echo beside silent half-opens / alone <= 1.2", "halfopen/one")):
        md, lo, hi = m("ratios", key)
        w("| %s | %.2f (%.2f..%.2f) | %s |" % (label, md, lo, hi, "yes" if md <= 1.2 else "no"))
    md, lo, hi = m("ratios", "spread/one user")
    w("")
    w("User time alone (getrusage, whose user/system split the kernel samples per tick), "
      "echo spread / one session: %.2f (%.2f..%.2f). The lines of nxsecure/ run per "
      "datagram do not grow with the number of sessions "
      "(host_tests/test_gateway_scaling.py): what grows is the cost of touching %d cold "
      "sessions' objects and crypto contexts, and the kernel's delivery into %d "
      "destination sockets over loopback." % (md, lo, hi, n, n))
    w("")


def mp_part(log):
    out = {}
    node = shutil.which("node")
    cmds = {"cpython": [PY, os.path.join(HERE, "mp_bench.py")]}
    if node and os.path.isdir(os.path.join(ROOT, "node_modules", "@micropython")):
        cmds["micropython"] = [node, os.path.join(ROOT, "tools", "mp_run.js"), "--seed-random",
                               os.path.join(HERE, "mp_bench.py")]
    extra = {"ccm8": [], "gcm": [], "ecdsa": ecdsa_args()}

    def one(cmd, name):
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
        line = [x for x in p.stdout.splitlines() if x.startswith("MPBENCH ")]
        if p.returncode != 0 or not line:
            log("  %s mp_bench failed: %s" % (name, (p.stderr or p.stdout)[-1500:]))
            return None
        return json.loads(line[-1][8:])

    for name, cmd in cmds.items():
        for suite in ("ccm8", "gcm", "ecdsa"):
            args = cmd + ["--suite", suite] + extra[suite]
            res = one(args, name)
            if res is not None and name == "micropython":
                # the heap figures in a run of their own: gc.mem_alloc() walks the heap
                res = boards.merge(res, one(args + ["--meter", "heap"], name))
            if res is not None:
                out[(name, suite)] = res
    sizes = subprocess.run([PY, os.path.join(ROOT, "tools", "mpy_sizes.py"), "--out",
                            os.path.join(ROOT, "build", "mpy")], capture_output=True, text=True,
                           cwd=ROOT)
    out["mpy_sizes"] = [x for x in sizes.stdout.splitlines() if "total" in x.lower()]
    return out


def ecdsa_args():
    """mp_bench's ECDHE-ECDSA arguments: a self-signed P-256 certificate made here (pyca)
    and a time inside its validity (the WebAssembly build and the boards have no clock)."""
    cert_der, _, sec1 = common.p256_cert(os.path.join(ROOT, "build", "bench"))
    return ["--cert", cert_der.hex(), "--key", sec1.hex(), "--now", str(int(time.time()))]


def versions():
    v = {"python": sys.version.split()[0], "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    v["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    v["cores"] = os.cpu_count()
    try:
        import mbedtls.version
        import importlib.metadata as md
        v["mbedtls"] = "python-mbedtls %s (%s)" % (md.version("python-mbedtls"),
                                                   mbedtls.version.version)
        v["cryptography"] = md.version("cryptography")
    except Exception as e:      # noqa: BLE001
        v["mbedtls"] = "missing: %s" % e
    try:
        v["node"] = subprocess.run(["node", "--version"], capture_output=True,
                                   text=True).stdout.strip()
    except OSError:
        v["node"] = "missing"
    v["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ROOT).stdout.strip()
    return v


def report(res, mp, v, reps, seconds, command, elapsed, records=None, gateway=None,
           pythonic=None, board=None):
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w("Written by `make bench` (bench/run.py); do not edit by hand.")
    w("")
    w("- date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    w("- machine: %s, %s cores, %s" % (v.get("cpu", "?"), v.get("cores"), v["platform"]))
    w("- Python %s, cryptography %s; peer: %s; Node %s; commit %s" % (
        v["python"], v.get("cryptography", "?"), v["mbedtls"], v["node"], v["git"]))
    w("- command: `%s` (%d repetitions of %.1f s per figure, %s, took %.0f s)" % (
        command, reps, seconds,
        "server and client pinned to core 0 with taskset" if PIN else "NOT pinned (no taskset)",
        elapsed))
    failed = sorted(((k, v) for k, v in res.items() if k[0] == "failed"),
                    key=lambda kv: str(kv[0]))
    if failed:
        w("- runs that failed, left out of the figures (their medians are over fewer runs):")
        for (_, mode, suite, size, impl), whys in failed:
            w("  - %s %s %s%s: %d of %d, e.g. %s" % (
                impl, mode, suite or "", " %d B" % size if size else "", len(whys), reps,
                whys[0].replace("|", "/")))
    w("- figures: median (min..max) over the repetitions; implementations alternated "
      "within each repetition. CPU = user+system of that process.")
    w("")
    ratios = {}
    if any(k[0] == "echo" for k in res):
        w("## Application-data echo, one session (round trips per second)")
        w("")
        w("| payload | suite | implementation | round trips/s | client CPU us/record | "
          "server CPU us/record | ours/mbedtls | ours/raw UDP |")
        w("|---|---|---|---|---|---|---|---|")
        for size in SIZES:
            udp = res.get(("echo", None, size, "udp"))
            if udp:
                w("| %d B | - | raw Python UDP | %s | %.1f | %.1f | | |" % (
                    size, fmt_rate(med([r["rate"] for r in udp])),
                    statistics.median(r["ccpu"] for r in udp) * 1e6,
                    statistics.median(r["scpu"] for r in udp) * 1e6))
            for suite in ECHO_SUITES:
                o = res.get(("echo", suite, size, "ours"))
                m = res.get(("echo", suite, size, "mbedtls"))
                f = res.get(("echo", suite, size, "floor"))
                r = res.get(("echo", suite, size, "record"))
                for name, rs in (("nxsecure", o), ("python-mbedtls", m),
                                 ("floor: UDP + 1 pyca seal + 1 open", f),
                                 ("nxsecure record layer alone, no NetX API", r)):
                    if not rs:
                        continue
                    rm = med([r["rate"] for r in rs])
                    ra = rb = ""
                    if name != "python-mbedtls" and m:
                        x = rm[0] / statistics.median(r["rate"] for r in m)
                        if name == "nxsecure":
                            ratios[("echo_vs_mbedtls", suite, size)] = x
                        ra = "%.2f" % x
                    if name != "python-mbedtls" and udp:
                        x = rm[0] / statistics.median(r["rate"] for r in udp)
                        if name == "nxsecure":
                            ratios[("echo_vs_udp", suite, size)] = x
                        rb = "%.2f" % x
                    w("| %d B | %s | %s | %s | %.1f | %.1f | %s | %s |" % (
                        size, suite, name, fmt_rate(rm),
                        statistics.median(r["ccpu"] for r in rs) * 1e6,
                        statistics.median(r["scpu"] for r in rs) * 1e6, ra, rb))
        w("")
        w("The floor row is bench/udp_echo.py --mode aead: raw UDP plus the two pyca AEAD "
          "calls a record needs (encrypt what is sent, decrypt what is received) and nothing "
          "else; its ratios bound what any CPython DTLS stack over pyca reaches here. "
          "The record-layer row is bench/udp_echo.py --mode record: nxsecure/record.py "
          "(header, nonce, AEAD through the crypto table, parse, epoch and replay-window "
          "check and mark) straight over the socket; the gap between it and the nxsecure "
          "row is what the NetX services, packet pool and pump cost.")
        w("")
        w("CPU per record = the process's CPU over the measured round trips / (2 x round "
          "trips): per round trip each side seals one record and opens one, including its "
          "UDP system calls.")
        w("")
    if records:
        w("## Record protection alone, one process (us per record sealed and opened)")
        w("")
        w("| payload | suite | nxsecure record layer | python-mbedtls, memory buffers | "
          "mbedtls/ours | lower bound: framing without AEAD |")
        w("|---|---|---|---|---|---|")
        for size in SIZES:
            for suite in ECHO_SUITES:
                r = records.get((suite, size), {})
                if "ours" not in r:
                    continue
                m = r.get("mbedtls")
                f = r.get("framing")
                w("| %d B | %s | %.2f | %s | %s | %s |" % (
                    size, suite, r["ours"], "%.2f" % m if m else "n/a",
                    "%.2f" % (m / r["ours"]) if m else "", "%.2f" % f if f else "n/a"))
        w("")
        w("bench/records.py: one end seals a record (the payload copied in, header, nonce, "
          "AEAD) and the other opens it (parse, epoch and replay check, AEAD, window mark), "
          "in one process with no socket; best of the repetitions. This is the cost the "
          "record layers themselves add; the echo table above adds the system calls, the "
          "scheduler and, for nxsecure, the NetX services. The last column is no record "
          "layer but a lower bound for any in CPython: the struct packing and unpacking, "
          "epoch and replay-window check and mark of one seal and one open, inlined in one "
          "function, without the AEAD calls; half of it falls on each record of the echo "
          "table's per-record CPU.")
        w("")
    if any(k[0] == "handshake" for k in res):
        w("## Sequential full handshakes with cookie (handshakes per second)")
        w("")
        w("| suite | implementation | handshakes/s | client CPU ms/handshake | "
          "server CPU ms/handshake | ours/mbedtls |")
        w("|---|---|---|---|---|---|")
        for suite in HS_SUITES:
            o = res.get(("handshake", suite, 0, "ours"))
            m = res.get(("handshake", suite, 0, "mbedtls"))
            if o:
                rm = med([r["rate"] for r in o])
                x = rm[0] / statistics.median(r["rate"] for r in m) if m else None
                ratios[("hs_vs_mbedtls", suite, 0)] = x
                w("| %s | nxsecure | %s | %.2f | %.2f | %s |" % (
                    suite, fmt_rate(rm), statistics.median(r["ccpu"] for r in o) * 1e3,
                    statistics.median(r["scpu"] for r in o) * 1e3,
                    "%.2f" % x if x else ""))
            elif common.ours_has(suite):
                w("| %s | nxsecure | failed (see the run's log) | | | |" % suite)
            else:
                w("| %s | nxsecure | not yet (no %s in nxsecure) | | | |" % (
                    suite, common.SUITES[suite][0]))
            if m:
                w("| %s | python-mbedtls | %s | %.2f | %.2f | |" % (
                    suite, fmt_rate(med([r["rate"] for r in m])),
                    statistics.median(r["ccpu"] for r in m) * 1e3,
                    statistics.median(r["scpu"] for r in m) * 1e3))
        w("")
        w("python-mbedtls 2.10 has no curve setting: between two python-mbedtls peers the "
          "ECDHE key exchange runs on secp521r1 (its first curve); the certificate and "
          "ECDSA signature are P-256.")
        w("")
    if mp:
        w("## MicroPython (WebAssembly build under Node, a board proxy) vs CPython, "
          "pure-Python AES (and P-256 for ECDHE-ECDSA), in-memory network")
        w("")
        w("| figure | suite | MicroPython | CPython | MicroPython/CPython |")
        w("|---|---|---|---|---|")
        for suite in ("ccm8", "gcm", "ecdsa"):
            a = mp.get(("micropython", suite))
            b = mp.get(("cpython", suite))
            if not b:
                continue

            def row(label, fa, fb, unit, fmt="%.0f"):
                va = fa(a) if a else None
                vb = fb(b)
                w("| %s | %s | %s | %s | %s |" % (
                    label, suite, (fmt % va + " " + unit) if va is not None else "n/a",
                    fmt % vb + " " + unit, "%.1f" % (va / vb) if va and vb else ""))
            row("handshake, both sides", lambda d: d["handshake"]["us"] / 1e3,
                lambda d: d["handshake"]["us"] / 1e3, "ms", "%.1f")
            if "record" not in b:
                continue                # ecdsa: a handshake only (its records are ccm8's)
            row("record seal (100 B)", lambda d: d["record"]["seal_us"],
                lambda d: d["record"]["seal_us"], "us")
            row("record open (100 B)", lambda d: d["record"]["open_us"],
                lambda d: d["record"]["open_us"], "us")
            row("send+receive pair over memnet", lambda d: d["session"]["us_per_pair"],
                lambda d: d["session"]["us_per_pair"], "us")
        w("")
        w("| MicroPython heap | suite | server | client |")
        w("|---|---|---|---|")
        for suite in ("ccm8", "gcm", "ecdsa"):
            a = mp.get(("micropython", suite))
            if not a:
                continue
            h = a["handshake"]
            w("| objects + caller buffers at set-up (bytes) | %s | %d | %d |" % (
                suite, a["setup_bytes"]["server"], a["setup_bytes"]["client"]))
            w("| allocated during one handshake (bytes) | %s | %d | %d |" % (
                suite, h["server_alloc"], h["client_alloc"]))
            w("| peak bound: set-up + handshake (bytes) | %s | %d | %d |" % (
                suite, h["server_peak_bound"], h["client_peak_bound"]))
            w("| handshake time (ms, 1 ms clock) | %s | %.0f | %.0f |" % (
                suite, h["server_us"] / 1e3, h["client_us"] / 1e3))
        w("")
        w("| MicroPython steady state, per record (%d records) | suite | bytes allocated |"
          % (mp.get(("micropython", "ccm8")) or {}).get("records", 100))
        w("|---|---|---|")
        for suite in ("ccm8", "gcm"):
            a = mp.get(("micropython", suite))
            if not a:
                continue
            w("| record layer seal + open (per record) | %s | %.1f |" % (
                suite, a["record"]["alloc_per_record"]))
            w("| session send + pump + receive (per pair) | %s | %.1f |" % (
                suite, a["session"]["alloc_per_pair"]))
            for k, x in sorted(a["session"]["alloc_by_step"].items()):
                w("| - of which %s | %s | %.1f |" % (k, suite, x))
        w("")
        w("Heap: gc.mem_alloc() deltas inside one execution (this port collects only "
          "between executions, so a delta is bytes allocated). The session pair includes "
          "nxsecure/port/memnet.py, the test network, which copies every datagram into a new bytes "
          "object and queues a tuple; on a board MicroPython's socket has no recvfrom_into, "
          "so recvfrom allocates each datagram once (nxsecure/port/micropython.py) before it is "
          "copied into the pool packet. Per side: what each side's datagram handling "
          "took (a side's handler run from inside the other's is counted for its own side "
          "only); the client's column also holds the application's start calls and the "
          "pump loop. ECDHE-ECDSA (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, P-256 certificate, "
          "pure-Python P-256 on both interpreters): most of what it allocates is the "
          "short-lived big integers of the curve arithmetic, which the collector of a "
          "board frees as it goes, so its peak bound is far above a board's real peak.")
        w("")
        if mp.get("mpy_sizes"):
            w("`.mpy` sizes (tools/mpy_sizes.py):")
            w("")
            for line in mp["mpy_sizes"]:
                w("    " + line.strip())
            w("")
    if board:
        boards.report(w, board)
    if ratios:
        w("## Targets")
        w("")
        w("| target | figure | ratio | met |")
        w("|---|---|---|---|")
        for (kind, suite, size), x in sorted(ratios.items(), key=lambda kv: str(kv[0])):
            if x is None:
                continue
            if kind == "hs_vs_mbedtls":
                t = TARGETS["psk_hs_vs_mbedtls" if suite.startswith("psk")
                            else "ecdhe_hs_vs_mbedtls"]
                label = "handshakes/s ours/mbedtls >= %.1f" % t
            else:
                t = TARGETS[kind]
                label = ("echo ours/mbedtls >= %.2f" if kind == "echo_vs_mbedtls"
                         else "echo ours/raw UDP >= %.2f") % t
            w("| %s | %s %s | %.2f | %s |" % (label, suite, ("%d B" % size) if size else "",
                                               x, "yes" if x >= t else "no"))
        mpa = [mp.get(("micropython", s)) for s in ("ccm8", "gcm")] if mp else []
        for a in mpa:
            if a:
                x = a["record"]["alloc_per_record"]
                w("| 0 bytes allocated per steady-state record (MicroPython, record path) | "
                  "%s | %.1f B | %s |" % (a["suite"], x, "yes" if x == 0 else "no"))
        w("")
    gateway_report(w, gateway)
    if pythonic:
        pythonic_part.report(w, pythonic[0], pythonic[1])
    return "\n".join(L) + "\n"


PIN = True


def main(argv):
    global PIN
    a = {"reps": 5, "seconds": 1.0, "out": os.path.join(ROOT, "BENCHMARKS.md"),
         "only": "echo,handshake,records,mp,gateway,pythonic,board", "gateway": 5000,
         "crowd": 1000, "board_records": 20, "board_layouts": 4}
    i = 1
    while i < len(argv):
        k = argv[i].lstrip("-")
        a[k] = type(a[k])(argv[i + 1])
        i += 2
    only = set(a["only"].split(","))
    if not shutil.which("taskset"):
        print("bench: taskset (util-linux) not found: processes are NOT pinned")
        PIN = False

    def log(s):
        print(s, flush=True)

    t0 = time.time()
    res = {}
    if "echo" in only or "handshake" in only:
        log("== host: echo and handshakes, %d repetitions" % a["reps"])
        res = host_part(a["reps"], a["seconds"], "echo" in only, "handshake" in only, log)
    records = {}
    if "records" in only:
        log("== host: record protection alone, in one process")
        records = records_part(a["reps"], log)
    gateway = []
    if "gateway" in only:
        log("== host: gateway, %d sessions on one port" % a["gateway"])
        gateway = gateway_part(a["gateway"], 3 if a["reps"] > 1 else 1, log)
    pythonic = None
    if "pythonic" in only:
        log("== host: the Pythonic path (nxsecure.aio / nxsecure.api), %d repetitions; "
            "asyncio server with %d sessions" % (a["reps"], a["crowd"]))
        pythonic = (pythonic_part.run(a["reps"], a["seconds"], run_pair, log),
                    pythonic_part.crowd(a["crowd"], 3 if a["reps"] > 1 else 1, pinned, log))
    mp = {}
    if "mp" in only:
        log("== MicroPython (WebAssembly) and CPython, pure-Python AES")
        mp = mp_part(log)
    board = {}
    if "board" in only:
        log("== boards: the emulated RP2040 and the 32-bit unix MicroPython")
        board = boards.board_part(log, ecdsa_args(), a["board_records"],
                                  a["board_layouts"])
    command = "make bench" if os.environ.get("NXSECURE_BENCH_MAKE") else " ".join(
        ["python"] + [os.path.relpath(argv[0], ROOT)] + argv[1:])
    text = report(res, mp, versions(), a["reps"], a["seconds"], command, time.time() - t0,
                  records, gateway, pythonic, board)
    print(text)
    if a["out"]:
        with open(a["out"], "w") as f:
            f.write(text)
        log("written: %s" % os.path.relpath(a["out"], ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
