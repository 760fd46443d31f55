# A minimal test runner that runs INSIDE MicroPython (tools/mp_run.js --test puts it in
# /lib). It also runs on CPython, which keeps it honest.
#
#   main(["[--seed-random]", "[--gc-on]", "[-k SUBSTR]...", "[--skip SUBSTR]...", "module", ...])
#
# For each module it calls every top-level function whose name starts with "test_" (no
# arguments, no fixtures; with -k only those whose name holds one of the SUBSTRs, and
# none whose name holds a --skip SUBSTR), prints "PASS name" or "FAIL name" with the traceback, and the
# heap and time each test used:
#   alloc  bytes allocated while the test ran (the GC is held off during a test, so this is
#          the test's whole allocation volume and an upper bound of its peak live heap);
#          "-" with --gc-on, which leaves the collector running during each test: on a
#          board-sized heap a held GC runs out of memory where the board would not, and
#          the stack turns a MemoryError inside a handshake into an alert, not an exception
#   kept   bytes still reachable after the test and a collection (a leak shows here)
#   us     time.ticks_us() elapsed (1 ms steps in the WebAssembly port)
# The last lines are the peak heap in use that was observed and "N passed, M failed";
# the exit status (SystemExit) is 1 when anything failed.
#
# The WebAssembly port collects garbage only between top-level executions (gc.collect()
# there just asks for a collection at the start of the next one), so main() is split into
# steps that mp_run.js calls one execution at a time:
#   n = start(argv); then for i in range(n): [gc.collect()] run_test(i) [gc.collect()]
#   report_test(); and finally finish().
import gc
import sys

try:
    import time
    _ticks_us = time.ticks_us
    _ticks_diff = time.ticks_diff
except AttributeError:  # CPython
    import time

    def _ticks_us():
        return time.perf_counter_ns() // 1000

    def _ticks_diff(a, b):
        return a - b

try:
    _mem_alloc = gc.mem_alloc
except AttributeError:  # CPython has no heap counter
    def _mem_alloc():
        return 0


def _print_exception(e):
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__)


class TestOnlyDRBG:
    """TEST-ONLY deterministic random source: SHA-256(seed || counter) blocks.

    Never use outside tests: every run produces the same "random" bytes. Installed by
    --seed-random because the WebAssembly port has no os.urandom. Callable as fn(buf)
    (fills a bytearray/memoryview in place, like port.random_into) or fn(n) (returns
    n bytes)."""

    def __init__(self, seed=b"nxsecure TEST-ONLY DRBG"):
        import hashlib
        self._sha256 = hashlib.sha256
        self._seed = bytes(seed)
        self._counter = 0
        self._block = b""
        self._used = 0

    def _next_byte_block(self):
        self._counter += 1
        self._block = self._sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        self._used = 0

    def __call__(self, arg):
        if isinstance(arg, int):
            out = bytearray(arg)
            self(out)
            return bytes(out)
        n = len(arg)
        i = 0
        while i < n:
            if self._used == len(self._block):
                self._next_byte_block()
            take = min(n - i, len(self._block) - self._used)
            arg[i:i + take] = self._block[self._used:self._used + take]
            self._used += take
            i += take
        return arg


def install_test_random():
    """Install TestOnlyDRBG through port.set_random_source when the port offers it."""
    try:
        from nxsecure import port
    except ImportError as e:
        print("seed-random: cannot import port (%s); not installed" % e)
        return False
    setter = getattr(port, "set_random_source", None)
    if setter is None:
        print("seed-random: port.set_random_source is missing; not installed")
        return False
    setter(TestOnlyDRBG())
    print("seed-random: TEST-ONLY deterministic random source installed")
    return True


class _State:
    tests = []          # (full name, function)
    passed = 0
    failed = 0
    start_heap = 0
    peak = 0
    last = None         # (full name, error, before, after, us, note)
    hold_gc = True


def _collect():
    gc.collect()


def start(argv):
    """Parse argv, install the random source if asked, import the modules and list their
    tests; returns the number of tests. Import errors count as failures."""
    seed_random = False
    select = []
    skip = []
    modules = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--seed-random":
            seed_random = True
        elif a == "--gc-on":
            _State.hold_gc = False
        elif a == "-k":
            i += 1
            select.append(argv[i])
        elif a == "--skip":
            i += 1
            skip.append(argv[i])
        else:
            modules.append(a[:-3] if a.endswith(".py") else a)
        i += 1
    if not modules:
        print("usage: mp_test_runner [--seed-random] [--gc-on] [-k SUBSTR] [--skip SUBSTR] "
              "module...")
        sys.exit(2)

    impl = sys.implementation
    print("runner: %s %s on %s" % (impl.name, ".".join(str(v) for v in impl.version[:3]),
                                   sys.platform))
    if seed_random:
        install_test_random()
    gc.collect()
    _State.start_heap = _State.peak = _mem_alloc()
    tests = []
    for modname in modules:
        try:
            mod = __import__(modname)
        except Exception as e:  # noqa: BLE001 - an import error fails the module
            print("FAIL %s (import)" % modname)
            _print_exception(e)
            _State.failed += 1
            continue
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            fn = getattr(mod, name)
            if callable(fn) and selected(name, select, skip):
                tests.append(("%s.%s" % (modname, name), fn))
    _State.tests = tests
    return len(tests)


def selected(name, select, skip):
    """Is test `name` chosen by the -k SUBSTRs (any; none: all) and no --skip SUBSTR?"""
    return (not select or any(k in name for k in select)) and not any(k in name for k in skip)


def _run_one(fn, hold_gc):
    before = _mem_alloc()
    if hold_gc:
        gc.disable()
    t0 = _ticks_us()
    err = None
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - a test runner reports every failure
        err = e
    us = _ticks_diff(_ticks_us(), t0)
    after = _mem_alloc()
    gc.enable()
    return err, before, after, us


def run_test(index):
    """Run one test (call after a collection); the result is printed by report_test()."""
    full, fn = _State.tests[index]
    err, before, after, us = _run_one(fn, _State.hold_gc)
    note = ""
    if _State.hold_gc and isinstance(err, MemoryError):
        # Its allocation volume outgrew the heap with the GC held: rerun with the GC on.
        gc.collect()
        err, before, after, us = _run_one(fn, False)
        note = " (rerun with gc on)"
    _State.last = (full, err, before, after, us, note)


def report_test():
    """Print the last test's result (call after a collection, so "kept" is live data)."""
    full, err, before, after, us, note = _State.last
    _State.last = None
    kept = _mem_alloc() - before
    _State.peak = max(_State.peak, after)
    verdict = "PASS" if err is None else "FAIL"
    alloc = "%d" % (after - before) if _State.hold_gc else "-"
    print("%s %s  alloc=%s kept=%d us=%d%s" % (verdict, full, alloc, kept, us, note))
    if err is None:
        _State.passed += 1
    else:
        _State.failed += 1
        _print_exception(err)


def finish():
    """Print the heap and count summary; SystemExit(1) if anything failed or none ran."""
    end_heap = _mem_alloc()
    if _State.hold_gc:
        print("heap: start=%d end=%d peak=%d bytes in use (peak observed with the GC held during "
              "each test)" % (_State.start_heap, end_heap, _State.peak))
    else:
        print("heap: start=%d end=%d bytes in use (GC on during each test: no peak figure)"
              % (_State.start_heap, end_heap))
    print("%d passed, %d failed" % (_State.passed, _State.failed))
    if _State.failed or not _State.passed:
        sys.exit(1)


def main(argv):
    n = start(argv)
    for i in range(n):
        _collect()
        run_test(i)
        _collect()
        report_test()
    _collect()
    finish()


if __name__ == "__main__":
    if "" not in sys.path:  # CPython puts the script's directory first, not the cwd
        sys.path.insert(0, "")
    main(sys.argv[1:])
