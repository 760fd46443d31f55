"""The Pythonic rows of `make bench` (issue #16), called by bench/run.py: echo through
nxsecure.aio and nxsecure.api beside python-mbedtls and the asyncio floor (raw UDP on the
same loop machinery), and the asyncio server with many connected sessions
(bench/pythonic.py crowd)."""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "pythonic.py")
IMPLS = ("aio", "sync", "floor", "aead", "mbedtls")
SUITE = "psk-ccm8"
SIZES = (100, 1000)
# issue #16: echo ours/mbedtls >= 1.0 at 1000 B and >= 0.8 at 100 B; 1,000 sessions on
# the asyncio server cost per echo within 1.2x of one session
TARGETS = {100: 0.8, 1000: 1.0}
CROWD_TARGET = 1.2
NAMES = {"aio": "nxsecure.aio server and client (asyncio)",
         "sync": "nxsecure.api server and client (blocking)",
         "floor": "floor: raw UDP echo on the same asyncio machinery, no DTLS",
         "aead": "floor + the two pyca AEAD calls per record, no framing",
         "mbedtls": "python-mbedtls (blocking sockets)"}


def scripts(impl):
    """run.py's scripts() for the Pythonic implementations (None: not one of ours)."""
    if impl.startswith("py-"):
        api = impl[3:]
        return ([sys.executable, SCRIPT, "server", "--api", api],
                [sys.executable, SCRIPT, "client", "--api", api])
    return None


def run(reps, seconds, run_pair, log):
    """{(impl, size): [{"rate", "ccpu", "scpu"}]}, implementations alternated within
    each repetition; failures under ("failed", impl, size)."""
    res = {}
    for rep in range(reps):
        for size in SIZES:
            order = IMPLS if rep % 2 == 0 else IMPLS[::-1]
            for impl in order:
                name = impl if impl == "mbedtls" else "py-" + impl
                try:
                    client, server = run_pair(name, "echo", SUITE, size, seconds)
                except Exception as e:      # noqa: BLE001  (reported, the run goes on)
                    log("  pythonic %s %d B failed: %s" % (impl, size, e))
                    res.setdefault(("failed", impl, size), []).append(
                        (str(e).splitlines() or [type(e).__name__])[0][:160])
                    continue
                res.setdefault((impl, size), []).append({
                    "rate": client["count"] / client["wall_s"],
                    "ccpu": client["cpu_s"] / (2 * client["count"]),
                    "scpu": server["cpu_s"] / max(2 * server["count"], 1)})
        log("  pythonic repetition %d/%d done" % (rep + 1, reps))
    return res


def crowd(sessions, runs, pinned, log):
    out = []
    for _ in range(runs):
        p = subprocess.run(pinned([sys.executable, SCRIPT, "crowd", "--sessions", str(sessions),
                                   "--echoes", str(min(3000, 3 * sessions)), "--json"]),
                           capture_output=True, text=True, timeout=900)
        line = [x for x in p.stdout.splitlines() if x.startswith("{")]
        if p.returncode != 0 or not line:
            log("  pythonic crowd failed: %s" % (p.stderr or p.stdout)[-1500:])
            continue
        out.append(json.loads(line[-1]))
    return out


def _med(xs):
    return statistics.median(xs), min(xs), max(xs)


def report(w, res, crowd_runs):
    """Markdown rows for BENCHMARKS.md."""
    if not res and not crowd_runs:
        return
    if res:
        w("## Pythonic path: echo through nxsecure.aio and nxsecure.api (%s)" % SUITE)
        w("")
        w("bench/pythonic.py server/client, one session, each process pinned to core 0, the "
          "four implementations alternated within each repetition (median, min..max). The "
          "nxsecure servers answer from their on_data event; the asyncio client awaits "
          "send() and recv() per round trip.")
        w("")
        w("| payload | implementation | round trips/s | client CPU us/record | "
          "server CPU us/record | /python-mbedtls |")
        w("|---|---|---|---|---|---|")
        ratios = {}
        for size in SIZES:
            m = res.get(("mbedtls", size))
            mrate = statistics.median(r["rate"] for r in m) if m else None
            for impl in IMPLS:
                rs = res.get((impl, size))
                if not rs:
                    continue
                rm = _med([r["rate"] for r in rs])
                x = rm[0] / mrate if mrate and impl != "mbedtls" else None
                if x is not None:
                    ratios[(impl, size)] = x
                w("| %d B | %s | %.0f (%.0f..%.0f) | %.1f | %.1f | %s |" % (
                    size, NAMES[impl], rm[0], rm[1], rm[2],
                    statistics.median(r["ccpu"] for r in rs) * 1e6,
                    statistics.median(r["scpu"] for r in rs) * 1e6,
                    "%.2f" % x if x is not None else ""))
        failed = sorted(k for k in res if k[0] == "failed")
        for k in failed:
            w("")
            w("- %s %d B failed in %d repetitions, e.g. %s" % (k[1], k[2], len(res[k]),
                                                             res[k][0].replace("|", "/")))
        w("")
        w("The floor row is the most any asyncio DTLS echo can reach here: raw UDP through "
          "the same loop machinery (add_reader, one awaited future per round trip), no "
          "record layer. The floor + AEAD row adds the two pyca AES-CCM_8 calls each side "
          "makes per round trip (encrypt what it sends, decrypt what it receives) and "
          "nothing else: the most an asyncio DTLS over pyca can reach, whatever its record "
          "layer and services cost. CPU per record = the process's CPU / (2 x round trips).")
        w("")
        w("| target (issue #16) | ratio | met |")
        w("|---|---|---|")
        for impl in ("aio", "sync"):
            for size in SIZES:
                x = ratios.get((impl, size))
                if x is None:
                    continue
                t = TARGETS[size]
                w("| echo %s / python-mbedtls >= %.1f at %d B | %.2f | %s |" % (
                    impl, t, size, x, "yes" if x >= t else "no"))
        w("")
    if crowd_runs:
        n = crowd_runs[0]["sessions"]
        one = _med([r["echo_one_us"] for r in crowd_runs])
        spread = _med([r["echo_spread_us"] for r in crowd_runs])
        ratio = _med([r["spread/one"] for r in crowd_runs])
        w("## Pythonic path: one asyncio server, %d connected sessions" % n)
        w("")
        w("bench/pythonic.py crowd, %d runs (median, min..max): an nxsecure.aio server "
          "(event-driven echo) and a driver playing %d clients with the tests' hand-written "
          "peer, both pinned to core 0; server CPU per echo." % (len(crowd_runs), n))
        w("")
        w("| figure | server CPU |")
        w("|---|---|")
        w("| echo, one session | %.1f us (%.1f..%.1f) |" % one)
        w("| echo, each on another of the %d sessions | %.1f us (%.1f..%.1f) |" % ((n,) + spread))
        w("")
        w("| target (issue #16) | ratio | met |")
        w("|---|---|---|")
        w("| %d sessions: echo spread / one session <= %.1f | %.2f (%.2f..%.2f) | %s |" % (
            n, CROWD_TARGET, ratio[0], ratio[1], ratio[2],
            "yes" if ratio[0] <= CROWD_TARGET else "no"))
        w("")
