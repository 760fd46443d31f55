"""What SHA-384 costs where hashlib has none: the portable SHA-384 (nxsecure/crypto/sha512.py)
per 128-byte block, natively compiled (viper) and in Python; the TLS PRF for a master
secret with SHA-256 and with SHA-384; and a whole PSK handshake (our client and our
server in one interpreter over nxsecure.port.memnet) with TLS_PSK_WITH_AES_128_CCM_8
(SHA-256) against TLS_PSK_WITH_AES_256_GCM_SHA384 (SHA-384 PRF and transcript). Runs on
CPython and MicroPython (the same file); prints one line: SHA384BENCH {json}.

    python bench/sha384.py
    python tools/sha384_report.py          (every platform: CPython, WebAssembly, the
                                            32-bit unix MicroPython, the emulated RP2040)

--test-random installs a TEST-ONLY deterministic random source (a platform whose
os.urandom is missing or constant: the WebAssembly build, the emulated RP2040).
host_tests/portable/dtls_pair.py (the portable tests' pair) must be importable.
"""
import sys

# Room for the handshakes' buffers (the pair's packet pool is one ~13 KB block), taken
# while the heap is still whole: the stack loaded as .mpy leaves it fragmented (on the
# emulated RP2040 no block that large is free afterwards). Let go before the first pair.
_HOLD = bytearray(32 * 1024) if sys.implementation.name == "micropython" else None

try:
    import time
    _us = time.ticks_us
    _diff = time.ticks_diff
except AttributeError:                     # CPython
    import time

    def _us():
        return int(time.perf_counter() * 1000000)

    def _diff(a, b):
        return a - b

if sys.implementation.name != "micropython":
    import os
    _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, _root)
    sys.path.insert(0, os.path.join(_root, "host_tests", "portable"))

from nxsecure import port                                     # noqa: E402
from nxsecure.crypto import sha512 as S                       # noqa: E402
from nxsecure.crypto import prf as P                          # noqa: E402
import nxsecure.crypto.suites384 as S384                      # noqa: E402
from nxsecure.crypto import sha384_prf                        # noqa: E402


def _test_random():
    """TEST-ONLY deterministic source: never for real keys."""
    state = [0x2545F491]

    def fill(n):
        buf = bytearray(n)
        x = state[0]
        for i in range(n):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            buf[i] = x & 0xFF
        state[0] = x
        return buf
    port.set_random_source(fill)


def block_us(native, blocks=16):
    """Microseconds per 128-byte block of the portable SHA-384 (padding block included
    in the count); None when the firmware cannot compile the native one."""
    if native and S.native() is None:
        return None
    S.use_native(native)
    try:
        data = bytes(range(128)) * (blocks - 1) + bytes(100)     # + the padding block
        best = None
        for _ in range(3):
            t = _us()
            S.sha384(data).digest()
            dt = _diff(_us(), t)
            best = dt if best is None or dt < best else best
        return best // blocks
    finally:
        S.use_native(True)


def prf_us(which, reps=3):
    """The master secret's PRF (RFC 5246 8.1: 48 bytes) with SHA-256 or SHA-384."""
    secret = bytes(range(48))
    seed = bytes(range(64))
    best = None
    for _ in range(reps):
        t = _us()
        if which == "sha256":
            P.prf(secret, b"master secret", seed, 48)
        else:
            sha384_prf.prf(secret, b"master secret", seed, 48)
        dt = _diff(_us(), t)
        best = dt if best is None or dt < best else best
    return best


def handshake_ms(suite, rounds=2):
    """Both ends of a PSK handshake in one interpreter: the best of `rounds`, ms."""
    from dtls_pair import Pair
    best = None
    for _ in range(rounds):
        p = Pair(suite)
        try:
            t = _us()
            st = p.connect()
            dt = _diff(_us(), t) // 1000
            if st != 0:
                raise RuntimeError("handshake 0x%X" % st)
        finally:
            p.close()
        best = dt if best is None or dt < best else best
    return best


def measure(name):
    if name == "handshake_ms_psk_ccm8":
        return handshake_ms(0xC0A8)
    if name == "handshake_ms_psk_gcm_sha384":
        return handshake_ms(S384.TLS_PSK_WITH_AES_256_GCM_SHA384)
    if name == "handshake_ms_psk_gcm_sha384_python":
        if S.native() is None:
            return None                 # the figure above is already Python's
        S.use_native(False)
        try:
            return handshake_ms(S384.TLS_PSK_WITH_AES_256_GCM_SHA384, 1)
        finally:
            S.use_native(True)
    if name == "block_us_native":
        return block_us(True)
    if name == "block_us_python":
        return block_us(False)
    if name == "prf48_us_sha256":
        return prf_us("sha256")
    if name == "prf48_us_sha384":
        return prf_us("sha384")
    raise ValueError(name)


NAMES = ("handshake_ms_psk_ccm8", "handshake_ms_psk_gcm_sha384",
         "handshake_ms_psk_gcm_sha384_python", "block_us_native", "block_us_python",
         "prf48_us_sha256", "prf48_us_sha384")


def main(argv):
    """All figures, or --only NAME (one per interpreter where the heap is small: the
    emulated RP2040 runs each after a soft reset)."""
    import gc
    import json
    global _HOLD
    _HOLD = None                        # the handshakes' room (above)
    gc.collect()
    if "--test-random" in argv:
        _test_random()
    names = NAMES
    if "--only" in argv:
        names = (argv[argv.index("--only") + 1],)
    out = {"platform": sys.implementation.name, "native": S.native() is not None,
           "hashlib_sha384": hasattr(__import__("hashlib"), "sha384")}
    for n in names:
        gc.collect()
        out[n] = measure(n)
    print("SHA384BENCH " + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
