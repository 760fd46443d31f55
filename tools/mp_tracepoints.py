"""Where a handshake's time goes on the emulated RP2040: bench/mp_bench.py's PSK-CCM_8
handshake (both sides in one interpreter, as `make bench` runs it) with a tracepoint at
the entry of every function of the handshake's modules.

    python tools/mp_tracepoints.py [--top N] [--timeline FILE] [--unix]

A copy of nxsecure/ goes to build/tracepoints/src with `_tp.T(k)` as the first statement
of each function (k numbers the function), then compiled with mpy-cross; T records
(k, time.ticks_us()) into a preallocated list, nothing else. The handshake's events are
printed as, per function, the calls and the time from its entry to the next tracepoint
(its own work until it calls, or returns to, another traced function): self time
without callees, as a sampling profiler would see it, plus the return path to the next
traced function (the PRF's and HMACs' hashing shows under mac.keyed, the last function
traced before it). A tracepoint costs ~50 us on the RP2040 (the total says how much
slower the traced run is); the heap is too full there for wrappers per function, and
its C stack too shallow for a wrapper per level. --timeline writes every event;
--unix runs the 32-bit unix port (this host's time) instead."""
import argparse
import ast
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tools import mp_rp2040, mp_unix, mpy_sizes  # noqa: E402

OUT = os.path.join(ROOT, "build", "tracepoints")
MODULES = ("dtls", "dtls_server", "dtls_client", "handshake", "cookie", "server", "session",
           "netx", "record", "reassembly", "psk", "crypto/prf", "crypto/mac", "crypto/ccm",
           "crypto/__init__", "port/memnet")
# called too often to trace at ~20 us each (the lock, the network's dice, byte helpers)
SKIP = ("acquire", "release", "chance", "_rec_size", "_get48", "key")
EVENTS = 1600
_TP = """import time
_t = time.ticks_us
buf = [0] * %d
n = [%d]
def T(k):
    i = n[0]
    if i < %d:
        buf[i] = k
        buf[i + 1] = _t()
        n[0] = i + 2
""" % (2 * EVENTS, 2 * EVENTS, 2 * EVENTS)


def instrument():
    """build/tracepoints/src/nxsecure with tracepoints; -> the traced functions' names."""
    src = os.path.join(OUT, "src", "nxsecure")
    shutil.rmtree(os.path.join(OUT, "src"), ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "nxsecure"), src,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(os.path.join(src, "_tp.py"), "w") as f:
        f.write(_TP)
    names = []
    for mod in MODULES:
        path = os.path.join(src, mod + ".py")
        with open(path) as f:
            text = f.read()
        lines = text.split("\n")
        tree = ast.parse(text)
        inserts = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.name in SKIP:
                continue
            body = node.body
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                if len(body) == 1:
                    continue
                first = body[1]
            line = lines[first.lineno - 1]
            indent = line[:len(line) - len(line.lstrip())]
            inserts.append((first.lineno - 1, "%s_tp.T(%d)" % (indent, len(names))))
            names.append(mod.replace("/", ".") + "." + node.name)
        for at, stmt in sorted(inserts, reverse=True):
            lines.insert(at, stmt)
        top = tree.body[1] if isinstance(tree.body[0], ast.Expr) else tree.body[0]
        lines.insert(top.lineno - 1, "from nxsecure import _tp")
        with open(path, "w") as f:
            f.write("\n".join(lines))
    return names


def compile_tree():
    binary = mpy_sizes.mpy_cross_binary()
    mpy = os.path.join(OUT, "mpy")
    shutil.rmtree(mpy, ignore_errors=True)
    base = os.path.join(OUT, "src")
    for dirpath, _, files in os.walk(os.path.join(base, "nxsecure")):
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, name), base)
                dst, err = mpy_sizes.compile_one(binary, rel, mpy, root=base)
                if dst is None:
                    raise SystemExit("mpy-cross %s: %s" % (rel, err))
    # mp_bench with the tracepoints on for its handshake only
    with open(os.path.join(ROOT, "bench", "mp_bench.py")) as f:
        bench = f.read()
    start = "        m0 = mem()\n        t0 = _us()\n        started = None"
    stop = "            hs_us = _diff(_us(), t0)\n"
    assert start in bench and stop in bench, "bench/mp_bench.py's handshake() changed"
    bench = bench.replace(start, "        from nxsecure import _tp\n        _tp.n[0] = 0\n" + start)
    bench = bench.replace(stop, stop + "            _tp.N = _tp.n[0]\n            _tp.n[0] = %d\n"
                          % (2 * EVENTS))
    os.makedirs(os.path.join(OUT, "bench"), exist_ok=True)
    with open(os.path.join(OUT, "bench", "mp_bench.py"), "w") as f:
        f.write(bench)
    for root, rel in ((OUT, "bench/mp_bench.py"), (ROOT, "tools/mp_test_runner.py")):
        dst, err = mpy_sizes.compile_one(binary, rel, os.path.join(OUT, "lib"), root=root)
        if dst is None:
            raise SystemExit("mpy-cross %s: %s" % (rel, err))
    return mpy


PROGRAM = ("import sys\nsys.argv[:] = ['mp_bench', '--seed-random', '--aes', 'platform',"
           " '--records', '1'] + %r\nimport mp_bench\nfrom nxsecure import _tp\n"
           "print('TPBUF', _tp.buf[:_tp.N])\n")


def run(mpy, unix, extra=()):
    lib = os.path.join(OUT, "lib")
    if unix:
        p = mp_unix.run(["-c", PROGRAM % (list(extra),)], bits=32, heap="242k",
                        path=[os.path.join(lib, "bench"), os.path.join(lib, "tools")],
                        mpy=mpy, timeout=600)
        return p.stdout + p.stderr
    why = mp_rp2040.available()
    if why:
        raise SystemExit(why)
    report = os.path.join(OUT, "rp2040.txt")
    mp_rp2040.run(["-c", PROGRAM % (list(extra),)], puts=[(os.path.join(mpy, "nxsecure"), "/lib/nxsecure"),
                                         (os.path.join(lib, "bench", "mp_bench.mpy"), "/lib/"),
                                         (os.path.join(lib, "tools", "mp_test_runner.mpy"),
                                          "/lib/")],
                  report=report, timeout=1200)
    with open(report) as f:
        return f.read()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--timeline")
    ap.add_argument("--unix", action="store_true")
    ap.add_argument("--bench", default="",
                    help="more bench/mp_bench.py arguments, e.g. '--layout 19'")
    a = ap.parse_args(argv)
    names = instrument()
    text = run(compile_tree(), a.unix, a.bench.split())
    buf = None
    for line in text.splitlines():
        if line.startswith("MPBENCH "):
            print(line[:400])
        if line.startswith("TPBUF "):
            buf = [int(x) for x in line[7:-1].split(",") if x.strip()]
    if not buf:
        raise SystemExit("no tracepoints came back:\n" + text[-2000:])
    ev = [(buf[i], buf[i + 1]) for i in range(0, len(buf) - 1, 2)]
    if len(ev) >= EVENTS:
        print("(the first %d events only: raise EVENTS)" % EVENTS)
    own = {}
    for (k, t), (_, t2) in zip(ev, ev[1:]):
        c = own.setdefault(names[k], [0, 0])
        c[0] += 1
        c[1] += t2 - t
    print("%d events over %d us (traced run)" % (len(ev), ev[-1][1] - ev[0][1]))
    print("%-44s %6s %9s" % ("function (to the next tracepoint)", "calls", "us"))
    for name, (calls, us) in sorted(own.items(), key=lambda x: -x[1][1])[:a.top]:
        print("%-44s %6d %9d" % (name, calls, us))
    if a.timeline:
        with open(a.timeline, "w") as f:
            for k, t in ev:
                f.write("%9d %s\n" % (t - ev[0][1], names[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
