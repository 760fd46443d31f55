"""SHA-512 and SHA-384 (FIPS 180-4) for boards whose hashlib has neither (MicroPython 1.27's builds have only sha256, sha1, md5): hashlib's shape, plus copy()."""
# Used only where the platform's hashlib lacks them (nxsecure.pk.hashes.ctor, the
# SHA-384 suites' PRF and transcript, ECDSA-SHA384 certificates): CPython's hashlib and
# any firmware built with them win. Words are Python ints (64-bit values), so on a
# 32-bit board each one is a heap integer: slow, and measured in docs/BOARDS.md
# ("SHA-384 without hashlib"). Where the firmware has a native emitter (the rp2 and
# ESP32 ports, the unix port; not the WebAssembly one) the compression function runs
# as viper code instead (compress_native, compiled on first use and checked against
# the Python one), on 32-bit halves.
#
#   sha512(data=b"") / sha384(data=b"") -> object with update(data), digest(),
#   hexdigest(), copy(), digest_size, block_size (a digest() does not end the object,
#   as in CPython: the transcript of a handshake takes several digests of one hash).

_K = (
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
)
# FIPS 180-4 5.3.5 (SHA-512) and 5.3.4 (SHA-384) initial hash values
_IV512 = (0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
          0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179)
_IV384 = (0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
          0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4)
_M = 0xFFFFFFFFFFFFFFFF


def compress(h, block, off):
    """FIPS 180-4 6.4.2: one 128-byte block block[off:off+128] into the state h (a list
    of eight 64-bit ints)."""
    w = [int.from_bytes(block[off + 8 * i:off + 8 * i + 8], "big") for i in range(16)]
    M = _M
    for t in range(16, 80):
        x = w[t - 15]
        s0 = ((x >> 1 | x << 63) ^ (x >> 8 | x << 56) ^ (x >> 7)) & M
        x = w[t - 2]
        s1 = ((x >> 19 | x << 45) ^ (x >> 61 | x << 3) ^ (x >> 6)) & M
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & M)
    a, b, c, d, e, f, g, hh = h
    K = _K
    for t in range(80):
        S1 = ((e >> 14 | e << 50) ^ (e >> 18 | e << 46) ^ (e >> 41 | e << 23)) & M
        ch = (e & f) ^ (~e & g)
        t1 = (hh + S1 + ch + K[t] + w[t]) & M
        S0 = ((a >> 28 | a << 36) ^ (a >> 34 | a << 30) ^ (a >> 39 | a << 25)) & M
        maj = (a & b) ^ (a & c) ^ (b & c)
        hh = g
        g = f
        f = e
        e = (d + t1) & M
        d = c
        c = b
        b = a
        a = (t1 + S0 + maj) & M
    h[0] = (h[0] + a) & M
    h[1] = (h[1] + b) & M
    h[2] = (h[2] + c) & M
    h[3] = (h[3] + d) & M
    h[4] = (h[4] + e) & M
    h[5] = (h[5] + f) & M
    h[6] = (h[6] + g) & M
    h[7] = (h[7] + hh) & M


_NATIVE = None      # None: not tried; False: this firmware cannot; else (kernel, K words)


def _words(v, out, at):
    """A 64-bit int as two 32-bit halves (hi, lo) into the uint32 array out[at:at+2]."""
    out[at] = v >> 32
    out[at + 1] = v & 0xFFFFFFFF


def native():
    """(compress_native, K as 160 uint32 words), compiled on first call from
    sha512_viper.py and checked against compress() on a test block; None when this
    firmware has no native emitter (the WebAssembly port, CPython) or the check fails."""
    global _NATIVE
    if _NATIVE is None:
        _NATIVE = False
        try:
            import sys
            import array
            from . import sha512_viper
            ns = {}
            try:
                exec(sha512_viper.COMPRESS, ns)
            finally:
                sys.modules.pop(sha512_viper.__name__, None)
            fn = ns["compress_native"]
            kk = array.array("I", bytes(640))
            for t in range(80):
                _words(_K[t], kk, 2 * t)
            blk = bytes((i * 29 + 7) & 0xFF for i in range(131))
            ref = list(_IV512)
            compress(ref, blk, 3)
            st = array.array("I", bytes(64))
            for i in range(8):
                _words(_IV512[i], st, 2 * i)
            fn(st, kk, array.array("I", bytes(640)), blk, 3)
            if all((st[2 * i] << 32 | st[2 * i + 1]) == ref[i] for i in range(8)):
                _NATIVE = (fn, kk)
        except Exception:       # ImportError, SyntaxError (no viper), MemoryError, ...
            pass
    return _NATIVE or None


def use_native(on):
    """Tests and benchmarks: False makes new hashes use compress() even where the native
    one compiles; True goes back to the automatic choice."""
    global _OFF
    _OFF = not on


_OFF = False


class _Sha512:
    block_size = 128

    def __init__(self, iv, size, data=None, _copy=None):
        self.digest_size = size
        if _copy is not None:
            self._nat = _copy._nat
            self._h = _copy._h[:] if self._nat is None else _array(_copy._h)
            self._w = _copy._w
            self._buf = bytearray(_copy._buf)
            self._n = _copy._n
            self._len = _copy._len
            return
        self._nat = None if _OFF else native()
        if self._nat is None:
            self._h = list(iv)
            self._w = None
        else:
            import array
            self._h = array.array("I", bytes(64))
            for i in range(8):
                _words(iv[i], self._h, 2 * i)
            self._w = array.array("I", bytes(640))     # the message schedule
        self._buf = bytearray(128)
        self._n = 0                 # bytes waiting in _buf
        self._len = 0               # message length in bytes
        if data:
            self.update(data)

    def _block(self, h, data, off):
        nat = self._nat
        if nat is None:
            compress(h, data, off)
        else:
            nat[0](h, nat[1], self._w, data, off)

    def update(self, data):
        mv = memoryview(data)
        n = len(mv)
        self._len += n
        pos = 0
        buf = self._buf
        if self._n:
            take = 128 - self._n
            if take > n:
                take = n
            buf[self._n:self._n + take] = mv[:take]
            self._n += take
            pos = take
            if self._n < 128:
                return
            self._block(self._h, buf, 0)
            self._n = 0
        while n - pos >= 128:
            self._block(self._h, mv, pos)
            pos += 128
        if pos < n:
            buf[0:n - pos] = mv[pos:]
            self._n = n - pos

    def copy(self):
        return _Sha512(None, self.digest_size, _copy=self)

    def digest(self):
        # FIPS 180-4 5.1.2: 0x80, zeros, the length in bits as 128 bits; on a copy of
        # the state, so that this object can go on
        h = self._h[:] if self._nat is None else _array(self._h)
        pad = bytearray(256)
        n = self._n
        pad[0:n] = self._buf[0:n]
        pad[n] = 0x80
        end = 128 if n < 112 else 256
        bits = self._len * 8
        for i in range(16):
            pad[end - 1 - i] = (bits >> (8 * i)) & 0xFF
        self._block(h, pad, 0)
        if end == 256:
            self._block(h, pad, 128)
        out = bytearray(64)
        for i in range(8):
            v = h[i] if self._nat is None else (h[2 * i] << 32 | h[2 * i + 1])
            out[8 * i:8 * i + 8] = v.to_bytes(8, "big")
        return bytes(out[:self.digest_size])

    def hexdigest(self):
        return "".join("%02x" % b for b in self.digest())


def _array(a):
    import array
    return array.array("I", a)


def sha512(data=None):
    return _Sha512(_IV512, 64, data)


def sha384(data=None):
    return _Sha512(_IV384, 48, data)
