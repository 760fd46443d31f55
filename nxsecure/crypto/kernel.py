"""Byte kernels of the AEAD and CBC modes: Python, or native code the firmware compiles at first use."""
# The modes (ccm.py, gcm.py, cbc.py) hand whole buffers to the AES engine (MicroPython's
# cryptolib, in C) and leave only byte work to Python: copying a span into the context's
# scratch, XORing keystream into a record, filling counter blocks, GHASH. Python spends
# ~9 us per byte on such loops on an RP2040 (measured: bench/mp_crypto.py), more than
# the AES itself, so the same functions also exist as viper source that the board's own
# compiler turns into machine code (MicroPython's native emitter: Thumb on RP2040,
# Xtensa on ESP32, x86 on the unix port) when a context is first made. Builds without a
# native emitter (the WebAssembly port) or without a compiler get the Python kernels.
# A call costs ~13 us on an RP2040 whatever it does, so the modes' common case (a record
# that fits the scratch) takes a handful of calls: the kernels below are cut to that.
#
# Every function takes (buffer, offset) pairs and lengths and allocates nothing. The
# native ones do no bounds checks (viper pointers): callers check every caller-supplied
# span first (the modes do, once per call), and internal spans are sized by construction.
#
#   copy(dst, do, src, so, n)            dst[do:do+n] = src[so:so+n] (no overlap)
#   zero(dst, do, n)                     dst[do:do+n] = 0
#   xor(dst, do, src, so, n)             dst[do+i] ^= src[so+i]
#   xor3(dst, do, a, ao, b, bo, n)       dst[do+i] = a[ao+i] ^ b[bo+i]
#   diff(a, ao, b, bo, c, co, n) -> int  OR of a[ao+i] ^ b[bo+i] ^ c[co+i] (0: equal);
#                                        no early exit (tag checks)
#   ctr(w, nb, flags, nonce, nl, L, c)   counter blocks j = 0..nb-1 at w[16j:]: the flags
#                                        byte (none when flags < 0), nonce[0:nl], then
#                                        c+j big-endian in L bytes (CCM A_i, RFC 3610
#                                        2.3; GCM inc32, SP 800-38D 6.2, L = 4);
#                                        0 <= c + nb < 2**30
#   ccm_b0(w, h, flags, nonce, nl, L, mlen, aad, la, buf, off, m, ks, ko, nc) -> q
#                                        CCM's MAC input from w[0]: B_0 = flags ||
#                                        nonce || mlen in L bytes, XORed with h; if la,
#                                        la in 2 bytes || aad; then buf[off:off+m]; each
#                                        part zero-padded to a block (RFC 3610 2.2).
#                                        With ko >= 0, buf[off:off+m] ^= ks[ko:ko+m]
#                                        first (decrypting); else, with nc, also the
#                                        counter blocks A_0..A_nc-1 into ks (sealing:
#                                        ctr(ks, nc, L - 1, nonce, nl, L, 0)).
#                                        q: bytes written.
#   seal_out(h, w, wo, s, buf, off, n, m, M)
#                                        h <- w[wo:wo+16] (the MAC); the tag
#                                        buf[off+n:off+n+M] = h ^ s[0:M];
#                                        buf[off:off+m] ^= s[16:16+m] (the keystream)
#   mac_check(h, w, wo, s, buf, at, M)   h <- w[wo:wo+16]; diff(h, s, buf[at:], M)
# The AEAD record's byte work (record.py; RFC 6347 4.1, RFC 5288 3, RFC 5246 6.2.3.3):
#   aead_out(buf, off, ctype, wire, shi, slo, n, total, nonce, aad)
#                                        the DTLS 1.2 header at buf[off:off+13] (type,
#                                        version 254.253, epoch `wire`, sequence number
#                                        shi << 24 | the low 24 bits of slo, length
#                                        `total`), the explicit
#                                        nonce buf[off+13:off+21] = epoch || seq, which
#                                        also goes to nonce[4:12] and aad[0:8]; then
#                                        aad[8:13] = type || version || n
#   aead_in(buf, off, n, nonce, aad)     the same nonce and additional data from a
#                                        received record: aad = epoch || seq || type ||
#                                        version (from its header) || n, nonce[4:12] =
#                                        its explicit nonce
#   rec_head(aad, buf, off, n)           aead_in's additional data alone (the MAC header
#                                        of a MAC-then-encrypt record, RFC 5246 6.2.3.1)
# GCM only (Kernels.gcm(): the Python ones live in gcm.py, the native ones are compiled
# when the first GCM context is made): ghash_prep, ghash, gcm_mac, misalign (gcm.py),
# and xor3 and diff above (GCM's tag), which a CCM or CBC board does not compile.
#
# The viper source lives in kernel_viper.py, which is imported only to compile it and
# then dropped, so its text costs no heap after that (nor at import: see gcm()).

_CORE = ("copy", "zero", "xor", "ctr", "ccm_b0", "seal_out", "mac_check",
         "aead_out", "aead_in", "rec_head")
_GCM = ("ghash_prep", "ghash", "gcm_mac", "misalign", "xor3", "diff")


class Kernels:
    """One set of the functions above as attributes; `native` says whether they are
    machine code. The GCM ones are there once gcm() has been called."""

    def __init__(self, ns, native):
        for name in _CORE:
            setattr(self, name, ns[name])
        self.native = native
        self._ns = ns

    def gcm(self):
        """Make the GCM functions available: the native ones compiled now (checked
        against gcm.py's Python ones, which stand in if that fails), or gcm.py's."""
        if not hasattr(self, "ghash"):
            from . import gcm
            ns = {}
            for name in _GCM:
                ns[name] = getattr(gcm, name)
            if self.native:
                nat = self._ns
                nat["_RH"] = gcm._RH
                nat["_RL"] = gcm._RL
                nat["_ZERO16"] = bytes(16)
                if compile_part("GCM", nat) and gcm.agrees(nat, ns):
                    ns = nat
            for name in _GCM:
                setattr(self, name, ns[name])
        return self


# --- Python kernels ------------------------------------------------------------------

def copy(dst, do, src, so, n):
    for i in range(n):
        dst[do + i] = src[so + i]


def zero(dst, do, n):
    for i in range(do, do + n):
        dst[i] = 0


def xor(dst, do, src, so, n):
    for i in range(n):
        dst[do + i] ^= src[so + i]


def ctr(w, nb, flags, nonce, nl, L, c):
    for j in range(nb):
        p = 16 * j
        if flags >= 0:
            w[p] = flags
            p += 1
        for i in range(nl):
            w[p + i] = nonce[i]
        v = c + j
        for i in range(16 * j + 15, p + nl - 1, -1):
            w[i] = v & 0xFF
            v >>= 8


def ccm_b0(w, h, flags, nonce, nl, L, mlen, aad, la, buf, off, m, ks, ko, nc):
    if ko >= 0:
        xor(buf, off, ks, ko, m)
    elif nc:
        ctr(ks, nc, L - 1, nonce, nl, L, 0)
    w[0] = flags
    for i in range(nl):
        w[1 + i] = nonce[i]
    for i in range(15, nl, -1):
        w[i] = mlen & 0xFF
        mlen >>= 8
    for i in range(16):
        w[i] ^= h[i]
    q = 16
    if la:
        w[16] = la >> 8
        w[17] = la & 0xFF
        for i in range(la):
            w[18 + i] = aad[i]
        q = 18 + la
        while q & 15:
            w[q] = 0
            q += 1
    for i in range(m):
        w[q + i] = buf[off + i]
    q += m
    while q & 15:
        w[q] = 0
        q += 1
    return q


def seal_out(h, w, wo, s, buf, off, n, m, M):
    for i in range(16):
        h[i] = w[wo + i]
    for i in range(M):
        buf[off + n + i] = h[i] ^ s[i]
    xor(buf, off, s, 16, m)


def mac_check(h, w, wo, s, buf, at, M):
    for i in range(16):
        h[i] = w[wo + i]
    d = 0
    for i in range(M):
        d |= h[i] ^ s[i] ^ buf[at + i]
    return d


def aead_out(buf, off, ctype, wire, shi, slo, n, total, nonce, aad):
    buf[off] = ctype
    buf[off + 1] = 0xFE
    buf[off + 2] = 0xFD
    buf[off + 3] = wire >> 8
    buf[off + 4] = wire & 0xFF
    for i in range(3):
        buf[off + 7 - i] = (shi >> (8 * i)) & 0xFF
        buf[off + 10 - i] = (slo >> (8 * i)) & 0xFF
    buf[off + 11] = total >> 8
    buf[off + 12] = total & 0xFF
    for i in range(8):
        v = buf[off + 3 + i]
        buf[off + 13 + i] = v
        nonce[4 + i] = v
        aad[i] = v
    aad[8] = ctype
    aad[9] = 0xFE
    aad[10] = 0xFD
    aad[11] = n >> 8
    aad[12] = n & 0xFF


def aead_in(buf, off, n, nonce, aad):
    for i in range(8):
        nonce[4 + i] = buf[off + 13 + i]
    rec_head(aad, buf, off, n)


def rec_head(aad, buf, off, n):
    for i in range(8):
        aad[i] = buf[off + 3 + i]
    aad[8] = buf[off]
    aad[9] = buf[off + 1]
    aad[10] = buf[off + 2]
    aad[11] = n >> 8
    aad[12] = n & 0xFF


_PYTHON = None


def python():
    """The Python kernels (always available)."""
    global _PYTHON
    if _PYTHON is None:
        _PYTHON = Kernels(globals(), False)
    return _PYTHON


def forget(mod):
    """Drop a module imported for one use (a source to compile, a start-up check) from
    sys.modules and its package: its code is freed at the next collection."""
    import sys
    name = mod.__name__
    sys.modules.pop(name, None)
    i = name.rfind(".")
    pkg = sys.modules.get(name[:i])
    if pkg is not None:
        try:
            delattr(pkg, name[i + 1:])
        except AttributeError:
            pass


def compile_part(part, ns, source="nxsecure.crypto.kernel_viper", check=False):
    """exec <source>.<part> (a tuple of viper sources) into ns; False when this firmware
    cannot (no native emitter or compiler, or no room) or the source module is not
    installed, or with check when the compiled kernels disagree with the Python ones
    (the source's agrees(), kernel_viper's for CORE). The source module, its check with
    it, is dropped again after, so its text costs no heap once compiled."""
    import gc
    gc.collect()            # once a boot: the source and the code find the emptiest heap
    try:
        mod = __import__(source, None, None, (part,), 0)
    except (ImportError, MemoryError):  # left out of the profile, or no room to load
        return False
    try:
        for src in getattr(mod, part):
            exec(src, ns)
        return not check or mod.agrees(Kernels(ns, True), python())
    except Exception:           # SyntaxError / ValueError / MemoryError
        return False
    finally:
        forget(mod)


_NATIVE = None      # None: not tried yet; False: this firmware cannot compile it


def native():
    """The native kernels, compiled on first call, or None when this firmware has no
    native emitter (or no compiler) or the compiled code fails the self-check."""
    global _NATIVE
    if _NATIVE is None:
        _NATIVE = False
        ns = {"rec_head": rec_head}         # no viper twin (kernel_viper.py says why)
        if compile_part("CORE", ns, check=True):
            _NATIVE = Kernels(ns, True)
    return _NATIVE or None


_choice = None


def best():
    """The kernels the modes use by default: native where the firmware compiles them,
    else Python. use() overrides the choice (tests, benchmarks)."""
    global _choice
    if _choice is None:
        _choice = native() or python()
    return _choice


def use(k):
    """Make k (python(), native(), or None for the automatic choice) the default for
    contexts made from now on."""
    global _choice
    _choice = k
