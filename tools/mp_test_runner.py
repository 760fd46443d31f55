# A minimal test runner that runs INSIDE MicroPython (tools/mp_run.js --test puts it in
# /lib and calls main()). It also runs on CPython, which keeps it honest.
#
#   main(["[--seed-random]", "[--gc]", "[-k SUBSTR]", "module", ...])
#
# For each module it calls every top-level function whose name starts with "test_" (no
# arguments, no fixtures), prints "PASS name" or "FAIL name" with the traceback, and the
# heap and time each test used:
#   alloc  bytes allocated while the test ran (the GC is held off during a test, so this is
#          the test's whole allocation volume and an upper bound of its peak live heap)
#   kept   bytes still reachable after the test and a collection (a leak shows here)
#   us     time.ticks_us() elapsed
# The last lines are the peak heap in use that was observed and "N passed, M failed";
# the exit status (SystemExit) is 1 when anything failed.
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
        import port
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


def _run_one(fn, hold_gc):
    """Run fn; returns (error or None, alloc, after, us)."""
    gc.collect()
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


def main(argv):
    seed_random = False
    hold_gc = True
    select = None
    modules = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--seed-random":
            seed_random = True
        elif a == "--gc":
            hold_gc = False
        elif a == "-k":
            i += 1
            select = argv[i]
        else:
            modules.append(a[:-3] if a.endswith(".py") else a)
        i += 1
    if not modules:
        print("usage: mp_test_runner [--seed-random] [--gc] [-k SUBSTR] module...")
        sys.exit(2)

    impl = sys.implementation
    print("runner: %s %s on %s" % (impl.name, ".".join(str(v) for v in impl.version[:3]),
                                   sys.platform))
    if seed_random:
        install_test_random()

    gc.collect()
    start_heap = _mem_alloc()
    peak = start_heap
    passed = failed = 0
    for modname in modules:
        try:
            mod = __import__(modname)
        except Exception as e:  # noqa: BLE001 - an import error fails the module
            print("FAIL %s (import)" % modname)
            _print_exception(e)
            failed += 1
            continue
        names = sorted(n for n in dir(mod) if n.startswith("test_"))
        for name in names:
            fn = getattr(mod, name)
            if not callable(fn) or (select is not None and select not in name):
                continue
            full = "%s.%s" % (modname, name)
            err, before, after, us = _run_one(fn, hold_gc)
            note = ""
            if isinstance(err, MemoryError) and hold_gc:
                # Allocation volume outgrew the heap with the GC held: rerun with it on.
                err, before, after, us = _run_one(fn, False)
                note = " (rerun with gc on)"
            gc.collect()
            kept = _mem_alloc() - before
            peak = max(peak, after)
            if err is None:
                passed += 1
                print("PASS %s  alloc=%d kept=%d us=%d%s" % (full, after - before, kept, us, note))
            else:
                failed += 1
                print("FAIL %s  alloc=%d kept=%d us=%d%s" % (full, after - before, kept, us, note))
                _print_exception(err)
    gc.collect()
    end_heap = _mem_alloc()
    print("heap: start=%d end=%d peak=%d bytes in use (peak observed with the GC held during "
          "each test)" % (start_heap, end_heap, peak))
    print("%d passed, %d failed" % (passed, failed))
    if failed or not passed:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
