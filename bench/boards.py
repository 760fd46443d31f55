"""`make bench`'s board part: bench/mp_bench.py on the real MicroPython rp2 firmware on the
emulated RP2040 (tools/mp_rp2040.py; emulated time at 125 MHz) and on the 32-bit unix
MicroPython (tools/mp_unix.py; this host's time) with the same free heap as the RP2040 at
boot, side by side with the ratio. Both load the stack and the bench as compiled .mpy
files (a board compiling the bench from source would spend its heap on the parser), use
the AES the firmware offers (cryptolib on both) and the TEST-ONLY seeded random source
(the emulated RP2040's os.urandom is refused by the stack).

Runs, each in a fresh interpreter: `import nxsecure`; PSK-CCM_8 (handshake with the
collector held, then records and send+receive pairs on a clean and on a fragmented heap);
ECDHE-ECDSA P-256 with the collector running (its big-integer garbage outgrows any held
heap), and on unix once more with a roomy heap, to show what it takes where it fits."""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tools import mp_rp2040, mp_unix, mpy_sizes  # noqa: E402

# -X heapsize giving the 32-bit unix port the free heap the emulated RP2040 has at boot
# (gc.mem_free(): 241 456 there, 241 872 on the RP2040)
BOARD_HEAP = "242k"
ROOMY_HEAP = "8m"
UNIX_REPS = 3
BUILD = os.path.join(ROOT, "build", "bench-board")
MP_RUN = os.path.join(ROOT, "tools", "mp_run.js")


def wasm_available():
    """None when MicroPython's WebAssembly port can run here (Node and the npm package
    the portable tests use), else what is missing."""
    if shutil.which("node") is None:
        return "node is not installed (make setup)"
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "@micropython")):
        return "node_modules/@micropython is missing (make setup: npm ci)"
    return None


def wasm_run(name, script, args, tree, puts=(), timeout=900):
    """One bench script on the WebAssembly port (tools/mp_run.js, the stack as .mpy from
    tree, the TEST-ONLY seeded random source), its output marked as _program's is."""
    cmd = ["node", MP_RUN, "--seed-random", "--mpy", tree]
    for local, remote in puts:
        cmd += ["--put", "%s:%s" % (local, remote)]
    p = subprocess.run(cmd + [os.path.join(ROOT, script)] + list(args), cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return MARK + name + "\n" + p.stdout + p.stderr


def _compile(log):
    """build/mpy (the stack) and BUILD/{mp_bench,mp_crypto,mp_client_replay,mp_stack,
    mp_test_runner}.mpy."""
    assert mpy_sizes.main(["--out", os.path.join(ROOT, "build", "mpy"), "--quiet"]) == 0
    binary = mpy_sizes.mpy_cross_binary()
    for rel in ("bench/mp_bench.py", "bench/mp_crypto.py", "bench/mp_client_replay.py",
                "bench/mp_stack.py", "tools/mp_test_runner.py"):
        dst, err = mpy_sizes.compile_one(binary, rel, BUILD)
        if dst is None:
            raise RuntimeError("mpy-cross %s: %s" % (rel, err))
    return os.path.join(ROOT, "build", "mpy"), os.path.join(BUILD, "bench", "mp_bench.mpy"), \
        os.path.join(BUILD, "tools", "mp_test_runner.mpy")


# The PSK-CCM_8 handshake again, in heaps laid out differently (mp_bench --layout: N small
# objects live before the caller memory): where the allocator finds its blocks moves the
# emulated RP2040's handshake by several ms, the same every run of one build, so one run
# cannot tell a change of a few ms from a change of layout. The ccm8 run is layout 0; the
# others take the first `layouts` of these (bench/run.py --board_layouts).
LAYOUTS = (7, 19, 31, 53, 11, 41, 23, 67)


def runs(cert_args, records, layouts=4):
    """(name, mp_bench arguments), in the order they run, each in a fresh interpreter."""
    psk = ["--seed-random", "--aes", "platform", "--records", str(records)]
    hs_only = ["--seed-random", "--aes", "platform", "--records", "0"]
    return [
        ("import", ["--import"]),
        ("ccm8", psk + ["--fragment"]),
        ("ccm8-heap", psk + ["--meter", "heap"]),
        ("ecdsa", ["--seed-random", "--aes", "platform", "--suite", "ecdsa"] + cert_args),
    ] + [("ccm8-layout%d" % n, hs_only + ["--layout", str(n)]) for n in LAYOUTS[:layouts]]


MARK = "MPBENCH-RUN "


def _program(name, args, script="mp_bench"):
    if script == "mp_client_replay":
        # its main() is called from the top level: run inside an import, the handshake
        # would sit the import machinery's C stack deeper (the rp2 stack is 8 KB)
        return ("print(%r)\nimport %s\n%s.main(%r)\n"
                % (MARK + name, script, script, [script] + args))
    return ("print(%r)\nimport sys\nsys.argv[:] = %r\nimport %s\n"
            % (MARK + name, [script] + args, script))


def _split(text, names, tag="MPBENCH "):
    """{name: its result dict, or {"error": the end of what it printed}} from the output
    of runs marked by _program (stdout and tracebacks in order): the last line starting
    with `tag` carries the result as JSON."""
    out = {}
    parts = text.split(MARK)
    for part in parts[1:]:
        name, _, rest = part.partition("\n")
        got = [json.loads(ln[len(tag):]) for ln in rest.splitlines() if ln.startswith(tag)]
        tail = "\n".join(ln for ln in rest.splitlines() if not ln.startswith(("[rp2040js]",
                                                                               "Read from")))
        out[name.strip()] = got[-1] if got else {"error": tail.strip()[-600:] or "no output"}
    for n in names:
        out.setdefault(n, {"error": "did not run"})
    return out


def merge(time_run, heap_run):
    """One result from mp_bench's --meter time and --meter heap runs of the same thing."""
    if not heap_run or "error" in heap_run:
        if time_run is not None and heap_run:
            time_run["heap_error"] = heap_run["error"]
        return time_run
    if not time_run or "error" in time_run:
        return time_run
    for k, v in heap_run.items():
        if isinstance(v, dict) and isinstance(time_run.get(k), dict):
            time_run[k].update(v)
        else:
            time_run.setdefault(k, v)
    return time_run


def _best(runs):
    """Per figure, the fastest of several runs of the same plan (times: keys with "us")."""
    def pick(key, values):
        if "us" in key and all(isinstance(v, (int, float)) for v in values):
            return min(values)
        if all(isinstance(v, dict) for v in values):
            return dict((k, pick(k, [v[k] for v in values if k in v])) for k in values[0])
        return values[0]

    out = {}
    for name in runs[0]:
        got = [r[name] for r in runs if name in r and "error" not in r[name]]
        out[name] = pick(name, got) if got else runs[0][name]
    return out


def _merge(results):
    """Fold the heap run's figures into the timing run's (ccm8-heap into ccm8), and the
    layout runs' handshake times, with ccm8's own, into ccm8's "layouts": {figure: [us]}."""
    heap = results.pop("ccm8-heap", None)
    hands = [results.get("ccm8", {}).get("handshake")]
    hands += [results.pop(n).get("handshake") for n in list(results)
              if n.startswith("ccm8-layout")]
    if "ccm8" in results:
        results["ccm8"] = merge(results["ccm8"], heap)
        if "error" not in results["ccm8"]:
            done = [h for h in hands if h and "us" in h and "failed" not in h]
            results["ccm8"]["layouts"] = dict(
                (k, [h[k] for h in done]) for k in ("us", "client_us", "server_us"))
    return results


def layout_mean(d, key):
    """(mean, min, max, count) of a handshake figure over the heap layouts that ran."""
    got = _get(d, "ccm8", "layouts", key)
    if not got or len(got) < 2:
        return None
    return sum(got) / len(got), min(got), max(got), len(got)


def board_part(log, cert_args, records=20, layouts=4):
    """{"rp2040": {name: result}, "unix32": {...}, "unix32_roomy": {"ecdsa": ...}, ...};
    a run that failed is {"error": the end of its output}."""
    out = {"rp2040": {}, "unix32": {}, "unix32_roomy": {}, "wasm": {}, "notes": []}
    tree, bench_mpy, runner_mpy = _compile(log)
    plan = runs(cert_args, records, layouts)
    names = [n for n, _ in plan]
    why = wasm_available()
    if why:
        out["notes"].append("WebAssembly: %s" % why)
    else:
        # no cryptolib and no native emitter in this port: the pure-Python AES and
        # kernels; its clock counts milliseconds (means over many records still resolve)
        # (not `import nxsecure`: this port collects only between top-level executions,
        # and its heap grows, so the import's heap figures mean nothing there)
        # nor the layout runs (they measure the emulated RP2040's allocator)
        wplan = [(n, a) for n, a in plan if n != "import" and not n.startswith("ccm8-layout")]
        text = "".join(wasm_run(name, "bench/mp_bench.py", args, tree) for name, args in wplan)
        out["wasm"] = _merge(_split(text, [n for n, _ in wplan]))
    libdir = os.path.dirname(bench_mpy)
    if not os.path.exists(os.path.join(libdir, "mp_test_runner.mpy")):
        os.link(runner_mpy, os.path.join(libdir, "mp_test_runner.mpy"))
    try:
        mp_unix.binary(32)
        # this host's times vary with its load: each timing run three times, the best kept
        # (the emulated RP2040's are cycle counts, the same every run)
        results = []
        for rep in range(UNIX_REPS):
            text = ""
            for name, args in plan:
                if rep and (name.endswith("-heap") or name == "ecdsa"):
                    continue
                p = mp_unix.run(["-c", _program(name, args)], bits=32, heap=BOARD_HEAP,
                                path=[libdir], mpy=tree, timeout=900)
                text += p.stdout + p.stderr
            results.append(_split(text, names))
        out["unix32"] = _merge(_best(results))
        # ECDHE-ECDSA where it fits, and what it allocates there
        ecdsa = dict(plan)["ecdsa"]
        roomy = [("ecdsa", ecdsa), ("ecdsa-heap", ecdsa + ["--meter", "heap"])]
        text = ""
        for name, args in roomy:
            p = mp_unix.run(["-c", _program(name, args)], bits=32, heap=ROOMY_HEAP,
                            path=[libdir], mpy=tree, timeout=900)
            text += p.stdout + p.stderr
        out["unix32_roomy"] = _split(text, [n for n, _ in roomy])
    except FileNotFoundError as e:
        out["notes"].append("unix 32-bit: %s" % e)
        log("  %s" % e)
    out["crypto"] = crypto_part(log, tree, libdir, records)
    why = mp_rp2040.available()
    if why:
        out["notes"].append("RP2040: %s" % why)
        log("  RP2040 not run: %s" % why)
        return out
    res, r = _rp2040_plan(plan, tree, bench_mpy, runner_mpy, "rp2040.txt")
    out["rp2040"] = _merge(res)
    out["rp2040_items"] = r.items
    for where in ("unix32", "wasm", "rp2040"):
        for name, res in out[where].items():
            if "error" in res:
                log("  %s %s: %s" % (where, name, res["error"].splitlines()[-1]))
    return out


# ---- crypto on the chip: bench/mp_crypto.py and bench/mp_client_replay.py --------------
REPLAY = os.path.join(BUILD, "replay.json")
_TAGS = {"crypto": "MPCRYPTO ", "pk": "MPCRYPTO ", "replay": "REPLAY "}


def crypto_runs(n, replay_path):
    """(name, script, arguments): the crypto micro-bench (records and PRF; then the
    native code's compile costs, P-256 and X25519), and the ECDHE-ECDSA client replayed
    against the recording of a CPython server (the native code compiled first, as a board
    does at start-up)."""
    return [("crypto", "mp_crypto", ["prf", "records", "--n", str(n)]),
            ("pk", "mp_crypto", ["kernels", "p256", "x25519", "stack",
                                 "--n", str(max(1, n // 4))]),
            ("replay", "mp_client_replay", ["replay", replay_path, "--precompile"])]


def _split_tags(text):
    out = {}
    for name, tag in _TAGS.items():
        got = _split(text, [name], tag)
        out[name] = got[name]
    return out


def crypto_part(log, tree, libdir, n):
    """{"rp2040": {name: result}, "unix32": {...}}: crypto_runs on both, each run in a
    fresh interpreter, the unix port with the RP2040's free heap, and the WebAssembly
    port (its heap grows: no limit)."""
    out = {"rp2040": {}, "unix32": {}, "wasm": {}}
    log("== crypto on the chip: records, PRF, P-256, X25519, the ECDHE-ECDSA client")
    p = subprocess.run([sys.executable, os.path.join(HERE, "mp_client_record.py"), REPLAY],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    if p.returncode:
        log("  recording failed: %s" % (p.stderr or p.stdout)[-600:])
    try:
        mp_unix.binary(32)
        text = ""
        for name, script, args in crypto_runs(n, REPLAY):
            q = mp_unix.run(["-c", _program(name, args, script)], bits=32, heap=BOARD_HEAP,
                            path=[libdir, os.path.join(ROOT, "tools")], mpy=tree, timeout=900)
            text += q.stdout + q.stderr
        out["unix32"] = _split_tags(text)
    except FileNotFoundError as e:
        log("  %s" % e)
    if not wasm_available():
        text = ""
        for name, script, args in crypto_runs(n, "/replay.json"):
            puts = [(REPLAY, "/replay.json")] if script == "mp_client_replay" else []
            text += wasm_run(name, "bench/%s.py" % script, args, tree, puts)
        out["wasm"] = _split_tags(text)
    if mp_rp2040.available():
        return out
    items = []
    for i, (name, script, args) in enumerate(crypto_runs(n, "/replay.json")):
        if i:
            items.append("--soft-reset")
        items += ["-c", _program(name, args, script)]
    report = os.path.join(BUILD, "rp2040-crypto.txt")
    puts = [(os.path.join(tree, "nxsecure"), "/lib/nxsecure")]
    for f in ("mp_crypto.mpy", "mp_client_replay.mpy", "mp_stack.mpy", "mp_test_runner.mpy"):
        puts.append((os.path.join(libdir, f), "/lib/"))
    if os.path.exists(REPLAY):
        puts.append((REPLAY, "/replay.json"))
    mp_rp2040.run(items, puts=puts, report=report, timeout=1800)
    with open(report) as f:
        out["rp2040"] = _split_tags(f.read())
    for where in ("unix32", "wasm", "rp2040"):
        for name, res in out[where].items():
            if "error" in res:
                log("  crypto %s %s: %s" % (where, name, res["error"].splitlines()[-1]))
    return out


# ---- the report ------------------------------------------------------------------------
def _get(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _ms(us):
    return None if us is None else us / 1000.0


def _fmt(v, unit, fmt):
    return "n/a" if v is None else (fmt % v) + (" " + unit if unit else "")


def _where(error):
    """'MemoryError: ... (in set-up: nx_secure_dtls_session_create)' from a traceback."""
    import re
    frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', error)
    last = error.strip().splitlines()[-1] if error.strip() else "no output"
    step = [f for p, f in frames if p.endswith("mp_bench.py") and f in (
        "setup", "handshake", "records", "pairs", "fragment")]
    inner = [f for p, f in frames if p.startswith("nxsecure/")]
    where = ""
    if step:
        where = {"setup": "set-up", "fragment": "fragmenting the heap"}.get(step[-1], step[-1])
        if inner:
            where += ": " + inner[-1]
    return (last + (" (in %s)" % where if where else "")).replace("|", "/")


def _ecdsa_cell(e):
    if e is None:
        return "n/a"
    if "error" in e:
        return "**fails**: %s" % _where(e["error"])
    if e.get("suite") != "ecdsa":
        return "**not run**: the run was %s's" % e.get("suite")
    h = e.get("handshake", {})
    if "failed" in h:
        return "**fails** after %s: %s, %s (%s B in use after)" % (
            ("%.2f s" % (h["us"] / 1e6)) if h["us"] >= 1e6 else "%.0f ms" % (h["us"] / 1e3),
            h["failed"], (h.get("defect") or "no defect recorded").replace(
                "|", "/"), h.get("heap_in_use_after", "?"))
    return "%.3f s" % (h["us"] / 1e6) if h["us"] < 1e5 else "%.2f s" % (h["us"] / 1e6)


def report(w, data):
    """Append the board tables to the report (w: a line writer)."""
    rp, ux = data.get("rp2040", {}), data.get("unix32", {})
    wa = data.get("wasm", {})
    roomy = data.get("unix32_roomy", {})
    w("## Boards: the emulated RP2040 and the 32-bit unix MicroPython")
    w("")
    w("bench/mp_bench.py (both ends in one interpreter over nxsecure.port.memnet, the server's "
      "session started from the pump loop) on MicroPython v1.27's rp2 firmware (RPI_PICO) "
      "on the rp2040js emulator, in **emulated time at 125 MHz** (rp2040js's cycle model, "
      "no flash wait states), and on the 32-bit unix port on this host with `-X heapsize=%s`, "
      "the RP2040's free heap at boot. Both load the stack as `.mpy` from their filesystem "
      "and use `cryptolib`'s AES (the AES row says what each used); random bytes from the "
      "TEST-ONLY seeded source. \"Clean heap\": timed right after a collection; "
      "\"fragmented heap\": after 300 small blocks were left live between 300 freed ones. "
      "WebAssembly: the same runs on MicroPython v1.27's WebAssembly port under Node "
      "(tools/mp_run.js, this host's time, a millisecond clock), which has neither "
      "`cryptolib` nor a native emitter (pure-Python AES and kernels) and grows its heap."
      % BOARD_HEAP)
    w("")
    w("| figure | RP2040 (emulated, 125 MHz) | unix 32-bit (this host) | RP2040/unix "
      "| WebAssembly (this host) |")
    w("|---|---|---|---|---|")

    def row(label, f, unit, fmt="%.0f"):
        a, b, c = f(rp), f(ux), f(wa)
        ratio = "%.1f" % (a / b) if a is not None and b else ""
        w("| %s | %s | %s | %s | %s |" % (label, _fmt(a, unit, fmt), _fmt(b, unit, fmt), ratio,
                                          _fmt(c, unit, fmt)))

    w("| AES | %s | %s | | %s |" % (_get(rp, "ccm8", "aes") or "n/a",
                                   _get(ux, "ccm8", "aes") or "n/a",
                                   _get(wa, "ccm8", "aes") or "n/a"))
    row("`import nxsecure`: heap left live (bytes)", lambda d: _get(d, "import", "import_bytes"),
        "")
    row("`import nxsecure`: free heap after it (bytes)",
        lambda d: _get(d, "import", "heap_free_after"), "")
    row("`import nxsecure`: time", lambda d: _ms(_get(d, "import", "import_us")), "ms", "%.1f")
    row("PSK-CCM_8 handshake, both sides", lambda d: _ms(_get(d, "ccm8", "handshake", "us")),
        "ms", "%.1f")
    row("- of which client", lambda d: _ms(_get(d, "ccm8", "handshake", "client_us")), "ms",
        "%.1f")
    row("- of which server", lambda d: _ms(_get(d, "ccm8", "handshake", "server_us")), "ms",
        "%.1f")
    for label, key in (("PSK-CCM_8 handshake, both sides", "us"), ("- of which client",
                                                                  "client_us"),
                       ("- of which server", "server_us")):
        cells = []
        for d in (rp, ux, wa):
            m = layout_mean(d, key)
            cells.append("%.1f ms (%.1f-%.1f, %d layouts)" % (
                m[0] / 1000.0, m[1] / 1000.0, m[2] / 1000.0, m[3]) if m else "n/a")
        w("| %s, mean over heap layouts (min-max) | %s | %s | | %s |"
          % (label, cells[0], cells[1], cells[2]))
    row("PSK-CCM_8 handshake allocated, client (bytes, GC held)",
        lambda d: _get(d, "ccm8", "handshake", "client_alloc"), "")
    row("PSK-CCM_8 handshake allocated, server (bytes, GC held)",
        lambda d: _get(d, "ccm8", "handshake", "server_alloc"), "")
    row("peak bound, client: set-up + allocated (bytes)",
        lambda d: _get(d, "ccm8", "handshake", "client_peak_bound"), "")
    row("peak bound, server: set-up + allocated (bytes)",
        lambda d: _get(d, "ccm8", "handshake", "server_peak_bound"), "")
    for heap, key in (("clean", "record"), ("fragmented", "record_fragmented")):
        row("record seal, 100 B, %s heap" % heap, lambda d, k=key: _get(d, "ccm8", k, "seal_us"),
            "us")
        row("record open, 100 B, %s heap" % heap, lambda d, k=key: _get(d, "ccm8", k, "open_us"),
            "us")
    for heap, key in (("clean", "session"), ("fragmented", "session_fragmented")):
        row("NetX send + receive pair, 100 B, %s heap" % heap,
            lambda d, k=key: _get(d, "ccm8", k, "us_per_pair"), "us")
    row("allocated per record, seal + open (bytes)",
        lambda d: _get(d, "ccm8", "record", "alloc_per_record"), "", "%.1f")
    row("allocated per send + receive pair (bytes)",
        lambda d: _get(d, "ccm8", "session", "alloc_per_pair"), "", "%.1f")
    w("| ECDHE-ECDSA P-256 handshake, both sides, GC on | %s | %s | | %s |" % (
        _ecdsa_cell(rp.get("ecdsa")), _ecdsa_cell(ux.get("ecdsa")), _ecdsa_cell(wa.get("ecdsa"))))
    e = roomy.get("ecdsa")
    if e is not None:
        h = _get(roomy, "ecdsa-heap", "handshake") or {}
        if "error" in e or "failed" in e.get("handshake", {}):
            h = {}
        w("")
        w("Where it fits: ECDHE-ECDSA P-256, both sides, on the 32-bit unix port with "
          "`-X heapsize=%s`: %s; with the collector held it allocates %s bytes (client %s, "
          "server %s), most of it the short-lived big integers of the curve arithmetic."
          % (ROOMY_HEAP, _ecdsa_cell(e), h.get("alloc", "n/a"), h.get("client_alloc", "n/a"),
             h.get("server_alloc", "n/a")))
    items = data.get("rp2040_items")
    if items:
        w("")
        w("Emulator: %s (emulated seconds / wall seconds per run)." % ", ".join(
            "%.1f/%.1f" % (it["emu_s"], it["wall_s"]) for it in items))
    for n in data.get("notes", []):
        w("")
        w("Not run: %s." % n)
    w("")
    if data.get("crypto"):
        crypto_report(w, data["crypto"])


def _entry(d, key):
    """mp_crypto's entry `key`; on a port without native kernels (WebAssembly) a
    "... native ..." entry is the Python one that ran in its place."""
    if not isinstance(d, dict):
        return None
    if key not in d and " native " in key:
        key = key.replace(" native ", " python ")
    return d.get(key)


def _pair(d, key, a="seal_us", b="open_us"):
    """'x + y' (ms) of two figures of one micro-bench row."""
    r = _entry(d, key)
    if not isinstance(r, dict) or a not in r or b not in r:
        return None
    return (r[a] / 1000.0, r[b] / 1000.0)


def crypto_report(w, data):
    """The crypto rows: bench/mp_crypto.py and bench/mp_client_replay.py."""
    rp, ux, wa = data.get("rp2040", {}), data.get("unix32", {}), data.get("wasm", {})
    w("### Crypto on the chip")
    w("")
    w("bench/mp_crypto.py (the PSK part of the stack imported, the collector on; means of "
      "repeated operations) and bench/mp_client_replay.py (an ECDHE-ECDSA P-256 client, "
      "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, against the recorded datagrams of our server on "
      "CPython, recorded with bench/mp_client_record.py: given the client's recorded random "
      "draws it sends the same bytes, checked one by one; run from the board program's top "
      "level after its start-up work, compiling the native code), each in a fresh interpreter, same firmware and heap as above. "
      "\"native\": the byte kernels and P-256/X25519 arithmetic compiled by the firmware's "
      "native emitter; \"Python\": the same code where there is none (the WebAssembly "
      "port has no native emitter and no `cryptolib`: its \"native\" rows ran the Python "
      "kernels and AES). docs/BOARDS.md, \"Crypto on the chip\", says what the figures "
      "are made of.")
    w("")
    w("| figure | RP2040 (emulated, 125 MHz) | unix 32-bit (this host) "
      "| WebAssembly (this host) |")
    w("|---|---|---|---|")

    def num(fmt, v):
        # a host's figures are 100x smaller: three significant digits there
        return fmt % v if v >= 0.1 or v == 0 else "%.3g" % v

    def cell(v, unit, fmt, sep):
        if v is None or isinstance(v, tuple) and None in v:
            return "n/a"
        if isinstance(v, tuple):
            return ("%s%s%s %s" % (num(fmt, v[0]), sep, num(fmt, v[1]), unit)).strip()
        return ("%s %s" % (num(fmt, v), unit)).strip()

    def row(label, f, unit="ms", fmt="%.2f", sep=" + ", part="crypto"):
        w("| %s | %s | %s | %s |" % (label, cell(f(rp.get(part, {})), unit, fmt, sep),
                                      cell(f(ux.get(part, {})), unit, fmt, sep),
                                      cell(f(wa.get(part, {})), unit, fmt, sep)))

    def pkrow(label, f, unit="s", fmt="%.3f", sep=" / "):
        row(label, f, unit, fmt, sep, "pk")

    def us(d, key, field="us", scale=1000.0):
        r = _entry(d, key)
        if isinstance(r, dict) and r.get("available") is False:
            return None             # native code this firmware could not compile
        return r[field] / scale if isinstance(r, dict) and r.get(field) is not None else None

    for label, key in (("native kernels", "native kernels"),
                       ("GCM's native kernels", "native gcm kernels"),
                       ("P-256 native", "native p256"),
                       ("X25519 native, on its first use", "native x25519")):
        pkrow(label + ": compile once (ms) / heap kept (bytes)",
              lambda d, k=key: (us(d, k, "compile_us"), us(d, k, "live", 1)), "", "%.0f", " / ")
    for label, key in (("CCM_8 record seal + open, 100 B", "record ccm8 native 100B"),
                       ("CCM_8 context (cipher alone) seal + open",
                        "ctx aes_128_ccm_8 native 100B"),
                       ("GCM record seal + open", "record gcm native 100B"),
                       ("CBC-HMAC-SHA256 record seal + open", "record cbc native 100B"),
                       ("CCM_8 record seal + open, Python kernels", "record ccm8 python 100B")):
        row(label, lambda d, k=key: _pair(d, k))
    row("allocated per CCM_8 record, seal + open (bytes)",
        lambda d: us(d, "record ccm8 native 100B", "alloc", 1), "", "%.0f")
    row("PRF 48 B (master secret) / 12 B (Finished)",
        lambda d: (us(d, "prf 48B"), us(d, "prf 12B")), sep=" / ")
    row("the same, hash states copied (the port's PRF where it can)",
        lambda d: (us(d, "prf saved 48B"), us(d, "prf saved 12B")), sep=" / ")
    row("the same, the secret's keyed states made beforehand (the master secret's)",
        lambda d: (us(d, "prf saved 48B", "keyed_us"), us(d, "prf saved 12B", "keyed_us")),
        sep=" / ")
    for label, key in (("P-256 key pair", "p256 keypair"), ("P-256 ECDH", "p256 ecdh"),
                       ("P-256 ECDSA sign", "p256 sign"), ("P-256 ECDSA verify", "p256 verify"),
                       ("X25519 shared secret", "x25519 shared")):
        pkrow(label, lambda d, k=key: us(d, k, "us", 1e6))
    pkrow("P-256 ECDH / verify allocated (bytes)",
          lambda d: (us(d, "p256 ecdh", "alloc", 1), us(d, "p256 verify", "alloc", 1)), "",
          "%.0f")
    pkrow("C stack below the call: P-256 verify, big ints / native (bytes; rp2 only)",
          lambda d: (us(d, "stack ecdsa verify big ints", "below_entry", 1),
                     us(d, "stack ecdsa verify native", "below_entry", 1)), "", "%.0f")

    def replay_cell(r):
        if not isinstance(r, dict) or "error" in r or "us" not in r:
            return "**fails**: %s" % _where((r or {}).get("error", "no output"))
        extra = ""
        if r.get("c_stack_peak"):
            extra += "; C stack %d of 8192 B at its deepest" % r["c_stack_peak"]
        if r.get("mismatch"):
            extra += "; then %s" % r["mismatch"]
        if r.get("status"):
            return ("**fails** after %.3g s: 0x%X, %s (%d B free before it; public-key code "
                    "%s%s)" % (r["us"] / 1e6, r["status"], r.get("defect") or "no defect caught",
                               r.get("free_before", 0),
                               "native" if r.get("pk_native") else "on big ints", extra))
        return "%.3g s (%s; public-key code %s%s)" % (
            r["us"] / 1e6, "complete" if r.get("complete") else "incomplete",
            "native" if r.get("pk_native") else "on big ints", extra)
    w("| ECDHE-ECDSA P-256 client against a CPython server (replayed) | %s | %s | %s |"
      % (replay_cell(rp.get("replay")), replay_cell(ux.get("replay")),
         replay_cell(wa.get("replay"))))
    w("")


def _rp2040_plan(plan, tree, bench_mpy, runner_mpy, report_name):
    """Run a plan's mp_bench runs on the emulated RP2040, one soft reset apart;
    -> ({name: result}, the runner's result)."""
    items = []
    for i, (name, args) in enumerate(plan):
        if i:
            items.append("--soft-reset")
        items += ["-c", _program(name, args)]
    report = os.path.join(BUILD, report_name)
    r = mp_rp2040.run(items, puts=[(os.path.join(tree, "nxsecure"), "/lib/nxsecure"),
                                   (bench_mpy, "/lib/"), (runner_mpy, "/lib/")],
                      report=report, timeout=1800)
    with open(report) as f:
        return _split(f.read(), [n for n, _ in plan]), r


def handshake_layouts(layouts=4, log=print, extra=()):
    """The emulated RP2040's PSK-CCM_8 handshake alone, in 1 + layouts heap layouts: the
    quick measure of a change to the handshake's speed (`make bench` runs it too);
    extra: more mp_bench arguments for every run (e.g. --fill 300)."""
    tree, bench_mpy, runner_mpy = _compile(log)
    psk = ["--seed-random", "--aes", "platform", "--records", "0"] + list(extra)
    plan = [("ccm8", psk)] + [("ccm8-layout%d" % n, psk + ["--layout", str(n)])
                              for n in LAYOUTS[:layouts]]
    res, _ = _rp2040_plan(plan, tree, bench_mpy, runner_mpy, "rp2040-handshake.txt")
    for name, r in res.items():
        log("%-14s %s" % (name, r.get("handshake", r)))
    return _merge(res)


if __name__ == "__main__":
    # python bench/boards.py [LAYOUTS] [mp_bench arguments, e.g. --fill 300]: the RP2040
    # handshake's mean over 1 + LAYOUTS heap layouts
    why = mp_rp2040.available()
    if why:
        raise SystemExit("RP2040 emulator: %s" % why)
    got = handshake_layouts(int(sys.argv[1]) if len(sys.argv) > 1 else 4,
                            extra=sys.argv[2:])
    for key in ("us", "client_us", "server_us"):
        m = layout_mean(got, key)
        print("%-9s mean %.1f ms  min %.1f  max %.1f  (%d layouts)" % (
            key, m[0] / 1000.0, m[1] / 1000.0, m[2] / 1000.0, m[3]) if m else key + " n/a")
