"""Crypto costs on a MicroPython board (or host): record protection per suite, the
handshake's PRF/HMAC, P-256 and X25519, with the heap each needs. Prints readable lines
and one line MPCRYPTO {json}. --bigint runs P-256 and X25519 on Python big ints even
where the firmware compiles the native arithmetic (nxsecure.pk.native).

    # emulated RP2040 (../shared/firmware/rp2040, after `npm ci` there), .mpy tree on flash:
    node run.js --put build/mpy/nxsecure:/lib/nxsecure --put bench/mp_crypto.py:/lib/ \\
        --put tools/mp_test_runner.py:/lib/ \\
        -c "import sys; sys.argv[:] = ['x', 'records']" -c "import mp_crypto"
    # 32-bit unix MicroPython, .mpy tree from `python tools/mpy_sizes.py --out DIR`:
    MICROPYPATH=DIR:bench:tools micropython-v1.27.0-unix-i386-static bench/mp_crypto.py records
    # WebAssembly build (no cryptolib: pure-Python AES):
    node tools/mp_run.js --seed-random bench/mp_crypto.py records
    python bench/mp_crypto.py records              # CPython, for comparison

Sections (argv; default: records prf): records, prf, p256, x25519, kernels, stack (the
rp2 firmware only: how deep below its caller a public-key operation takes the C stack).
Options: --size N (record payload, 100), --n N (repetitions, 20), --peak (also find
the smallest free heap each public-key operation runs in: slow), --load (import the
whole stack first, certificates and key exchange included, as an ECDHE-ECDSA client
holds it: the garbage collector then has that much live heap to walk).

Times are time.ticks_us() differences (emulated time on the RP2040 emulator: what a
125 MHz RP2040 takes). "alloc" is gc.mem_alloc() growth with the GC held (an upper bound of
the transient heap); "peak" is the smallest gc.mem_free() (1 KB steps, the rest held by
ballast, largest blocks first) in which the operation completes with the GC on.
"""
import gc
import sys

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

IS_MP = sys.implementation.name == "micropython"
if not IS_MP:
    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), "tools"))

OUT = {"impl": sys.implementation.name}


def alloc(fn):
    """(us, bytes allocated) of one fn() with the GC held (bytes: MicroPython only)."""
    if not IS_MP:
        t = _us()
        fn()
        return _diff(_us(), t), 0
    gc.collect()
    gc.disable()
    try:
        m = gc.mem_alloc()
        t = _us()
        fn()
        t = _diff(_us(), t)
        return t, gc.mem_alloc() - m
    finally:
        gc.enable()


# The emulated RP2040 is deterministic: one run is the figure. On a host, the best of three
# keeps the scheduler's noise out of it (and out of open = both - seal).
_REPS = 1 if sys.platform == "rp2" else 3
# The WebAssembly port's clock counts milliseconds: 20 times the calls, so that a mean
# of tens of microseconds still resolves.
_SPAN = 20 if sys.platform == "webassembly" else 1


def timed(fn, n, reps=_REPS, warm=True):
    """Mean us of fn() over n calls, the GC on (what an application sees); the best of
    reps such runs. warm: one call first, untimed (the views a buffer size makes once)."""
    if warm:
        fn()
    n *= _SPAN
    best = None
    for _ in range(reps):
        gc.collect()
        t = _us()
        for _ in range(n):
            fn()
        us = _diff(_us(), t) // n
        if best is None or us < best:
            best = us
    return best


def peak(fn):
    """Smallest free heap (bytes, as gc.mem_free() reports it just before the call; 1 KB
    steps) fn() completes in, the GC on; None off MicroPython. Ballast chunks hold the
    rest of the heap."""
    if not IS_MP:
        return None
    gc.collect()
    lo = 0
    hi = gc.mem_free()
    best = hi
    while hi - lo > 1024:
        mid = (lo + hi) // 2
        free = _run_with_free(fn, mid)
        if free >= 0:
            hi = mid
            best = free
        else:
            lo = mid
    return best


def _run_with_free(fn, target):
    """fn() with about `target` bytes left free: the free heap it ran with, or -1 if it
    ran out of memory. The ballast takes the largest blocks it can first, so what stays
    free is as contiguous as the heap allows."""
    ballast = []
    gc.collect()
    size = gc.mem_free() - target
    while size >= 64:
        try:
            ballast.append(bytearray(size - 16))
        except MemoryError:         # no block that large: a smaller one
            size >>= 1
            continue
        size = gc.mem_free() - target
    gc.collect()
    free = gc.mem_free()
    try:
        fn()
        return free
    except MemoryError:
        return -1
    finally:
        ballast = None
        gc.collect()


def line(name, **kv):
    OUT[name] = kv
    print(name, " ".join("%s=%s" % (k, kv[k]) for k in sorted(kv)))


# --- records -------------------------------------------------------------------------

def records(size, n):
    from nxsecure import port
    from nxsecure.crypto.table import make_tls_crypto
    from nxsecure.record import RecordLayer, CipherState, SCRATCH_SIZE
    backend = port.crypto_backend()
    OUT["backend"] = backend.name
    try:
        from nxsecure.crypto import kernel
        kernels = [("native", kernel.native()), ("python", kernel.python())]
    except ImportError:                     # a tree from before the kernels: one row set
        kernel = None
        kernels = [("-", True)]
    nonce = bytes(range(12))
    aad = bytes(13)
    buf = bytearray(size + 64)
    for kname, k in kernels:
        if k is None:
            continue
        if kernel is not None:
            kernel.use(k)
        for name in ("aes_128_ccm_8", "aes_128_ccm", "aes_128_gcm"):
            m = getattr(backend, name)
            ctx = m.init(bytes(16))
            tag = ctx.tag_size

            def seal():
                ctx.seal(nonce, aad, buf, 21, size)

            def opn():
                if not ctx.open(nonce, aad, buf, 21, size + tag):
                    raise AssertionError("open failed")

            def both():
                seal()
                opn()
            seal_us = timed(seal, n)
            open_us = timed(both, n) - seal_us
            line("ctx %s %s %dB" % (name, kname, size), seal_us=seal_us, open_us=open_us,
                 alloc=alloc(both)[1])
        ctx = backend.aes_128_cbc.init(bytes(16))
        blocks = (size + 15) & ~15
        iv = bytes(16)

        def cbc_both():
            ctx.encrypt(iv, buf, 16, blocks)
            ctx.decrypt(iv, buf, 16, blocks)
        line("ctx aes_128_cbc %s %dB" % (kname, blocks),
             encrypt_us=timed(lambda: ctx.encrypt(iv, buf, 16, blocks), n),
             decrypt_us=timed(lambda: ctx.decrypt(iv, buf, 16, blocks), n),
             alloc=alloc(cbc_both)[1])
        mac = backend.hmac_sha256.init(bytes(32))
        out = bytearray(32)
        line("ctx hmac_sha256 %dB" % size,
             us=timed(lambda: mac.mac(aad, buf, 16, size, out, 0), n),
             alloc=alloc(lambda: mac.mac(aad, buf, 16, size, out, 0))[1])
        # the record layer around the context: what one application record costs
        from nxsecure.const import (TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_GCM_SHA256,
                                    TLS_PSK_WITH_AES_128_CBC_SHA256, NX_SUCCESS)
        for suite, sname in ((TLS_PSK_WITH_AES_128_CCM_8, "ccm8"),
                             (TLS_PSK_WITH_AES_128_GCM_SHA256, "gcm"),
                             (TLS_PSK_WITH_AES_128_CBC_SHA256, "cbc")):
            row = make_tls_crypto(backend, [suite]).find(suite)
            md = memoryview(bytearray(4 * row.metadata_size))
            q = row.metadata_size
            kb = bytes(range(row.key_block_size))
            mk = kb[0:row.mac_key_size]
            key = kb[0:16]
            iv = kb[0:row.nx_secure_tls_iv_size]
            wl = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
            rl = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
            wl.set_pending(None, CipherState(row, key, mk, iv, md[0:q], md[q:2 * q]))
            rl.set_pending(CipherState(row, key, mk, iv, md[2 * q:3 * q], md[3 * q:]), None)
            wl.activate_write()
            rl.activate_read()
            rec = bytearray(1536)
            pre = wl.write_prefix(1)

            def seal_rec():
                return wl.seal(rec, 0, 23, 1, size)

            def open_rec():
                total = seal_rec()
                if rl.open(rec, 0, total) != NX_SUCCESS:
                    raise AssertionError("record open failed")
                rl.accept()
            for i in range(size):
                rec[pre + i] = i & 0xFF
            s_us = timed(seal_rec, n)
            # open timed alone, on a copy of one sealed record put back each time (one
            # slice store; not accepted, so its sequence number opens again): as seal +
            # open less seal it took the difference of two allocating runs (CBC-HMAC's
            # hash objects), which a heap's layout moves by milliseconds
            total = seal_rec()
            sealed = bytes(rec[0:total])

            def open_only():
                rec[0:total] = sealed
                if rl.open(rec, 0, total) != NX_SUCCESS:
                    raise AssertionError("record open failed")
            o_us = timed(open_only, n)
            line("record %s %s %dB" % (sname, kname, size), seal_us=s_us, open_us=o_us,
                 total_us=s_us + o_us, alloc=alloc(open_rec)[1])
    if kernel is not None:
        kernel.use(None)


# --- handshake PRF / HMAC -------------------------------------------------------------

def prf(n):
    from nxsecure.crypto.prf import prf as tls_prf
    from nxsecure.crypto.mac import hmac_sha256
    secret = bytes(range(48))
    seed = bytes(64)
    for size, what in ((48, "master secret"), (40, "key block (CCM_8)"), (12, "finished")):
        line("prf %dB" % size, what=what.replace(" ", "_"),
             us=timed(lambda: tls_prf(secret, b"key expansion", seed, size), n),
             alloc=alloc(lambda: tls_prf(secret, b"key expansion", seed, size))[1])
    line("hmac_sha256 32B key 100B", us=timed(lambda: hmac_sha256(secret[:32], seed, seed[:36]), n))
    # the port's PRF: where it copies hash states (nxsecure/port/hash_state.py) the pads
    # are hashed once per call, or once per secret given its keyed form (the master's)
    from nxsecure import port
    p = port.crypto_backend().prf_sha256
    key = getattr(p, "key", None)
    if key is None:
        line("prf saved", available=False)
        return
    f = p.prf
    k = key(secret)
    for size in (48, 12):
        line("prf saved %dB" % size, us=timed(lambda: f(secret, b"key expansion", seed, size), n),
             keyed_us=timed(lambda: f(k, b"key expansion", seed, size), n),
             alloc=alloc(lambda: f(k, b"key expansion", seed, size))[1])


# --- public key -----------------------------------------------------------------------

def _rand(seed):
    """Scalars from the TEST-ONLY deterministic source (the same every run)."""
    from mp_test_runner import TestOnlyDRBG
    return TestOnlyDRBG(seed)


def p256(n, want_peak):
    import hashlib
    from nxsecure import port
    from nxsecure.pk.keys import EcKey
    from nxsecure.pk import ec
    pk = port.pk_backend()
    OUT["pk_backend"] = pk.name
    OUT["pk_native"] = hasattr(ec, "native") and ec.native() is not None
    rand = _rand(b"bench")
    gc.collect()
    t = _us()
    pk.ecdh_keypair(23, rand)
    line("p256 first keypair", us=_diff(_us(), t))
    kp = [None]

    def keypair():
        kp[0] = pk.ecdh_keypair(23, rand)
    peer = pk.ecdh_keypair(23, rand)
    keypair()
    priv, pub = kp[0]
    digest = hashlib.sha256(b"bench").digest()
    key = EcKey(23, pub, priv)
    sig = pk.ecdsa_sign(23, key, "sha256", digest)
    ops = (("keypair", keypair),
           ("ecdh", lambda: pk.ecdh(23, priv, peer[1])),
           ("sign", lambda: pk.ecdsa_sign(23, key, "sha256", digest)),
           ("verify", lambda: pk.ecdsa_verify(23, pub, "sha256", digest, sig)))
    if not pk.ecdsa_verify(23, pub, "sha256", digest, sig):
        raise AssertionError("verify failed")
    for name, fn in ops:
        line("p256 " + name, **_pk_row(fn, n, want_peak))


def x25519(n, want_peak):
    from nxsecure import port
    pk = port.pk_backend()
    rand = _rand(b"x25519")
    priv, pub = pk.x25519_keypair(rand)
    peer = pk.x25519_keypair(rand)
    for name, fn in (("keypair", lambda: pk.x25519_keypair(rand)),
                     ("shared", lambda: pk.x25519(priv, peer[1]))):
        line("x25519 " + name, **_pk_row(fn, n, want_peak))


def _pk_row(fn, n, want_peak):
    """us (GC on), alloc (bytes with the GC held; None when that outgrows the heap, as
    the big-int arithmetic's ~700 KB does) and, with --peak, the smallest free heap."""
    kv = {"us": timed(fn, n, warm=False)}
    try:
        kv["alloc"] = alloc(fn)[1]
    except MemoryError:
        kv["alloc"] = None
    if want_peak:
        kv["peak"] = peak(fn)
    return kv


def kernels():
    """What compiling the native code costs, once per boot (run first, in a fresh
    interpreter): the crypto kernels, GCM's, and P-256's then X25519's when pk is
    installed."""
    try:
        from nxsecure.crypto import kernel
    except ImportError:
        return
    _once("native kernels", kernel.native)
    if kernel.native() is not None:
        _once("native gcm kernels", lambda: kernel.native().gcm())
    try:
        from nxsecure.pk import ec
    except ImportError:
        return
    if hasattr(ec, "native"):
        _once("native p256", ec.native)
        # X25519's part is compiled on its first use (a P-256-only board never does)
        _once("native x25519", lambda: (ec.native() and ec.native().x25519_available()) or None)


def _once(name, fn):
    # the GC stays on: compiling allocates more than a board's free heap in total
    gc.collect()
    live = gc.mem_alloc() if IS_MP else 0
    t = _us()
    ok = fn() is not None
    t = _diff(_us(), t)
    gc.collect()
    line(name, available=ok, compile_us=t, live=(gc.mem_alloc() - live) if IS_MP else 0)


def stack():
    """How far below its caller each public-key operation (on big ints, then native where
    the firmware compiles it) and a collection take the C stack; rp2 firmware only (the
    stack painted: mp_test_runner.stack_paint), the figures pk.PK_STACK_NEED rests on."""
    from mp_stack import stack_paint, stack_peak
    if not stack_paint():
        return                          # not the rp2 firmware
    import micropython
    from nxsecure import port
    from nxsecure.pk import ec
    import hashlib
    pk = port.pk_backend()
    rand = _rand(b"stack")
    priv, pub = pk.ecdh_keypair(23, rand)
    peer = pk.ecdh_keypair(23, rand)[1]
    from nxsecure.pk.keys import EcKey
    digest = hashlib.sha256(b"stack").digest()
    sig = pk.ecdsa_sign(23, EcKey(23, pub, priv), "sha256", digest)

    def depth(n):
        # the same Python depth as n nested calls (240 bytes each on the RP2040)
        return micropython.stack_use() if n == 0 else depth(n - 1)
    line("stack python frame", bytes=(depth(10) - depth(0)) // 10)
    ops = (("ecdsa verify", lambda: pk.ecdsa_verify(23, pub, "sha256", digest, sig)),
           ("ecdh", lambda: pk.ecdh(23, priv, peer)),
           ("gc.collect", gc.collect))
    for native in (False, True):
        ec.use_native(native)
        for name, fn in ops:
            if native and name == "gc.collect":
                continue
            gc.collect()
            at = micropython.stack_use()
            if not stack_paint():
                return
            fn()
            line("stack %s%s" % (name, "" if name == "gc.collect" else
                                 (" native" if native and ec.native() else " big ints")),
                 below_entry=stack_peak() - at)
    ec.use_native(True)


def main(argv):
    size = 100
    n = 20
    want_peak = False
    what = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--size":
            i += 1
            size = int(argv[i])
        elif a == "--n":
            i += 1
            n = int(argv[i])
        elif a == "--peak":
            want_peak = True
        else:
            what.append(a)
        i += 1
    what = what or ["records", "prf"]
    if "--bigint" in what:
        what.remove("--bigint")
        from nxsecure.pk import ec
        if hasattr(ec, "use_native"):
            ec.use_native(False)
    if "--load" in what:
        what.remove("--load")
        import nxsecure                                       # noqa: F401
        from nxsecure import kx, x509, certs                  # noqa: F401
        gc.collect()
        OUT["loaded"] = {"mem_alloc": gc.mem_alloc() if IS_MP else 0,
                         "mem_free": gc.mem_free() if IS_MP else 0}
        print("loaded", OUT["loaded"])
    if "prf" in what:              # first: its allocation meets the emptiest heap
        prf(n)
    if "kernels" in what:
        kernels()
    if "records" in what:
        records(size, n)
    if "p256" in what:
        p256(max(1, n // 10), want_peak)
    if "x25519" in what:
        x25519(max(1, n // 10), want_peak)
    if "stack" in what:
        stack()
    try:
        import json
    except ImportError:
        import ujson as json
    print("MPCRYPTO " + json.dumps(OUT))


main(sys.argv)
