"""AES-GCM (NIST SP 800-38D) in place with a 96-bit IV, whole buffers to the AES engine, no allocation."""
# The AES engine is MicroPython's cryptolib.aes (C) or nxsecure.crypto.aes.new (the same
# interface in Python; see ccm.py). CTR (SP 800-38D 6.5) is one ECB call over the
# counter blocks J_0, inc32(J_0), .. built in the scratch W, CHUNK bytes at a time; GHASH
# (6.4) is the kernels' (kernel.py; the Python ones are below, the native ones in
# kernel_viper.py). Opening checks the tag before it decrypts anything.
#
# GHASH multiplies by H one byte at a time (Shoup's method): A <- A * x^8 xor
# X[i] * H for i = 15 .. 0, where * x^8 moves every byte one place right and reduces
# the byte that falls off with _RH/_RL (x^128 = x^7 + x^2 + x + 1, SP 800-38D 6.3),
# and X[i] * H = Mhi[X[i] >> 4] xor Mlo[X[i] & 15] from the 512-byte table T made at
# key setup (Mlo at T[0:256], Mhi at T[256:512], 16 bytes per entry; the native kernels
# turn each entry into four 32-bit words). All buffers are slices of the caller's
# metadata; the view of W a block count needs is made when that count first occurs.
from . import kernel

# Reduction of a byte r shifted out past x^127 by a multiplication by x^8:
# the 16 bits (RH[r], RL[r]) to XOR into bytes 0 and 1.
_RH = (
    b'\x00\x01\x03\x02\x07\x06\x04\x05\x0e\x0f\x0d\x0c\x09\x08\x0a\x0b'
    b'\x1c\x1d\x1f\x1e\x1b\x1a\x18\x19\x12\x13\x11\x10\x15\x14\x16\x17'
    b'\x38\x39\x3b\x3a\x3f\x3e\x3c\x3d\x36\x37\x35\x34\x31\x30\x32\x33'
    b'\x24\x25\x27\x26\x23\x22\x20\x21\x2a\x2b\x29\x28\x2d\x2c\x2e\x2f'
    b'\x70\x71\x73\x72\x77\x76\x74\x75\x7e\x7f\x7d\x7c\x79\x78\x7a\x7b'
    b'\x6c\x6d\x6f\x6e\x6b\x6a\x68\x69\x62\x63\x61\x60\x65\x64\x66\x67'
    b'\x48\x49\x4b\x4a\x4f\x4e\x4c\x4d\x46\x47\x45\x44\x41\x40\x42\x43'
    b'\x54\x55\x57\x56\x53\x52\x50\x51\x5a\x5b\x59\x58\x5d\x5c\x5e\x5f'
    b'\xe1\xe0\xe2\xe3\xe6\xe7\xe5\xe4\xef\xee\xec\xed\xe8\xe9\xeb\xea'
    b'\xfd\xfc\xfe\xff\xfa\xfb\xf9\xf8\xf3\xf2\xf0\xf1\xf4\xf5\xf7\xf6'
    b'\xd9\xd8\xda\xdb\xde\xdf\xdd\xdc\xd7\xd6\xd4\xd5\xd0\xd1\xd3\xd2'
    b'\xc5\xc4\xc6\xc7\xc2\xc3\xc1\xc0\xcb\xca\xc8\xc9\xcc\xcd\xcf\xce'
    b'\x91\x90\x92\x93\x96\x97\x95\x94\x9f\x9e\x9c\x9d\x98\x99\x9b\x9a'
    b'\x8d\x8c\x8e\x8f\x8a\x8b\x89\x88\x83\x82\x80\x81\x84\x85\x87\x86'
    b'\xa9\xa8\xaa\xab\xae\xaf\xad\xac\xa7\xa6\xa4\xa5\xa0\xa1\xa3\xa2'
    b'\xb5\xb4\xb6\xb7\xb2\xb3\xb1\xb0\xbb\xba\xb8\xb9\xbc\xbd\xbf\xbe'
)
_RL = (
    b'\x00\xc2\x84\x46\x08\xca\x8c\x4e\x10\xd2\x94\x56\x18\xda\x9c\x5e'
    b'\x20\xe2\xa4\x66\x28\xea\xac\x6e\x30\xf2\xb4\x76\x38\xfa\xbc\x7e'
    b'\x40\x82\xc4\x06\x48\x8a\xcc\x0e\x50\x92\xd4\x16\x58\x9a\xdc\x1e'
    b'\x60\xa2\xe4\x26\x68\xaa\xec\x2e\x70\xb2\xf4\x36\x78\xba\xfc\x3e'
    b'\x80\x42\x04\xc6\x88\x4a\x0c\xce\x90\x52\x14\xd6\x98\x5a\x1c\xde'
    b'\xa0\x62\x24\xe6\xa8\x6a\x2c\xee\xb0\x72\x34\xf6\xb8\x7a\x3c\xfe'
    b'\xc0\x02\x44\x86\xc8\x0a\x4c\x8e\xd0\x12\x54\x96\xd8\x1a\x5c\x9e'
    b'\xe0\x22\x64\xa6\xe8\x2a\x6c\xae\xf0\x32\x74\xb6\xf8\x3a\x7c\xbe'
    b'\x00\xc2\x84\x46\x08\xca\x8c\x4e\x10\xd2\x94\x56\x18\xda\x9c\x5e'
    b'\x20\xe2\xa4\x66\x28\xea\xac\x6e\x30\xf2\xb4\x76\x38\xfa\xbc\x7e'
    b'\x40\x82\xc4\x06\x48\x8a\xcc\x0e\x50\x92\xd4\x16\x58\x9a\xdc\x1e'
    b'\x60\xa2\xe4\x26\x68\xaa\xec\x2e\x70\xb2\xf4\x36\x78\xba\xfc\x3e'
    b'\x80\x42\x04\xc6\x88\x4a\x0c\xce\x90\x52\x14\xd6\x98\x5a\x1c\xde'
    b'\xa0\x62\x24\xe6\xa8\x6a\x2c\xee\xb0\x72\x34\xf6\xb8\x7a\x3c\xfe'
    b'\xc0\x02\x44\x86\xc8\x0a\x4c\x8e\xd0\x12\x54\x96\xd8\x1a\x5c\x9e'
    b'\xe0\x22\x64\xa6\xe8\x2a\x6c\xae\xf0\x32\x74\xb6\xf8\x3a\x7c\xbe'
)



CHUNK = 128                      # bytes of keystream per AES call (plus J_0's block)
_W = CHUNK + 16
SCRATCH_SIZE = 548 + _W          # GHASH table (4-byte aligned within 516), Z, E(K, J_0), W


def table(T, h):
    """T[0:512] <- the GHASH multiplication table of the hash key h (16 bytes):
    Mlo (T[0:256]) and Mhi (T[256:512]), entry n = (n at the low / high nibble) * H."""
    for i in range(512):
        T[i] = 0
    for i in range(16):
        T[256 + 128 + i] = h[i]          # Mhi[8] = (0x80 at byte 0) * H = H
    # Bit b of a byte (0x80 = x^0 ... 0x01 = x^7): Mhi[8,4,2,1] = H*x^0..3,
    # Mlo[8,4,2,1] = H*x^4..7; every other entry is the XOR of its bits.
    _mulx(T, 256 + 128, 256 + 64)
    _mulx(T, 256 + 64, 256 + 32)
    _mulx(T, 256 + 32, 256 + 16)
    _mulx(T, 256 + 16, 128)
    _mulx(T, 128, 64)
    _mulx(T, 64, 32)
    _mulx(T, 32, 16)
    for base in (0, 256):
        for n in (3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15):
            hb = 8 if n & 8 else (4 if n & 4 else 2)
            d = base + 16 * n
            u = base + 16 * hb
            v = base + 16 * (n ^ hb)
            for i in range(16):
                T[d + i] = T[u + i] ^ T[v + i]


def _mulx(T, src, dst):
    """T[dst:dst+16] = T[src:src+16] * x (SP 800-38D 6.3, the right shift of algorithm 1)."""
    carry = T[src + 15] & 1
    for i in range(15, 0, -1):
        T[dst + i] = (T[src + i] >> 1) | ((T[src + i - 1] & 1) << 7)
    T[dst] = T[src] >> 1
    if carry:
        T[dst] ^= 0xE1


# --- the Python GCM kernels (kernel.py's contract; the native twins are in
# kernel_viper.py) -----------------------------------------------------------------

def xor3(dst, do, a, ao, b, bo, n):
    for i in range(n):
        dst[do + i] = a[ao + i] ^ b[bo + i]


def diff(a, ao, b, bo, c, co, n):
    d = 0
    for i in range(n):
        d |= a[ao + i] ^ b[bo + i] ^ c[co + i]
    return d


def _mul(T, z):
    """z <- z * H (the caller has XORed the block in); byte accumulators, so nothing
    becomes a heap int."""
    RH = _RH
    RL = _RL
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0
    a8 = a9 = a10 = a11 = a12 = a13 = a14 = a15 = 0
    for i in range(15, -1, -1):
        b = z[i]
        h = 256 + ((b >> 4) << 4)
        l = (b & 15) << 4
        r = a15
        a15 = a14 ^ T[h + 15] ^ T[l + 15]
        a14 = a13 ^ T[h + 14] ^ T[l + 14]
        a13 = a12 ^ T[h + 13] ^ T[l + 13]
        a12 = a11 ^ T[h + 12] ^ T[l + 12]
        a11 = a10 ^ T[h + 11] ^ T[l + 11]
        a10 = a9 ^ T[h + 10] ^ T[l + 10]
        a9 = a8 ^ T[h + 9] ^ T[l + 9]
        a8 = a7 ^ T[h + 8] ^ T[l + 8]
        a7 = a6 ^ T[h + 7] ^ T[l + 7]
        a6 = a5 ^ T[h + 6] ^ T[l + 6]
        a5 = a4 ^ T[h + 5] ^ T[l + 5]
        a4 = a3 ^ T[h + 4] ^ T[l + 4]
        a3 = a2 ^ T[h + 3] ^ T[l + 3]
        a2 = a1 ^ T[h + 2] ^ T[l + 2]
        a1 = a0 ^ T[h + 1] ^ T[l + 1] ^ RL[r]
        a0 = T[h] ^ T[l] ^ RH[r]
    z[0] = a0
    z[1] = a1
    z[2] = a2
    z[3] = a3
    z[4] = a4
    z[5] = a5
    z[6] = a6
    z[7] = a7
    z[8] = a8
    z[9] = a9
    z[10] = a10
    z[11] = a11
    z[12] = a12
    z[13] = a13
    z[14] = a14
    z[15] = a15


def ghash_prep(T):
    pass


def ghash(T, z, src, so, n):
    end = so + n
    while so < end:
        m = end - so
        if m > 16:
            m = 16
        for i in range(m):
            z[i] ^= src[so + i]
        _mul(T, z)
        so += m


def gcm_mac(T, z, aad, la, buf, off, n):
    for i in range(16):
        z[i] = 0
    ghash(T, z, aad, 0, la)
    ghash(T, z, buf, off, n)
    la <<= 3
    n <<= 3
    for i in range(7, -1, -1):       # [len(A)]64 || [len(C)]64 (SP 800-38D 7.1 step 5)
        z[i] ^= la & 0xFF
        z[8 + i] ^= n & 0xFF
        la >>= 8
        n >>= 8
    _mul(T, z)


def misalign(b):
    return 0



def agrees(a, b):
    """The GCM functions of namespaces a and b give the same results."""
    src = bytes((i * 37 + 11) & 0xFF for i in range(96))
    outs = []
    for ns in (a, b):
        raw = memoryview(bytearray(520))
        pad = (4 - ns["misalign"](raw)) & 3
        T = raw[pad:pad + 512]
        for i in range(512):
            T[i] = (i * 101 + 7) & 0xFF
        ns["ghash_prep"](T)
        z = bytearray(src[0:16])
        ns["ghash"](T, z, src, 3, 37)
        d = bytearray(16)
        ns["gcm_mac"](T, d, src, 5, src, 20, 23)
        x = bytearray(40)
        ns["xor3"](x, 3, src, 2, src, 40, 19)
        outs.append((bytes(z), bytes(d), bytes(x), ns["diff"](src, 0, src, 16, x, 0, 16),
                     ns["diff"](src, 0, src, 0, x, 39, 1)))
    return outs[0] == outs[1]


class GCM:
    """GCM with key `key` over an AES engine aes_new, 96-bit IV only (the TLS nonce,
    RFC 5288 3). seal/open per the crypto context contract in docs/DESIGN.md; kern:
    the kernels (kernel.best())."""

    def __init__(self, aes_new, key, tag_len, scratch=None, kern=None):
        if tag_len < 12 or tag_len > 16:
            raise ValueError("GCM tag must be 12..16 bytes")
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("GCM scratch too small")
        k = (kern or kernel.best()).gcm()
        self._k = k
        self._ecb = aes_new(key, 1).encrypt
        self.tag_size = tag_len
        pad = (4 - k.misalign(scratch)) & 3      # native GHASH reads the table as words
        self._tab = scratch[pad:pad + 512]
        self._z = scratch[516:532]
        self._j = scratch[532:548]
        w = scratch[548:548 + _W]
        self._w = w
        self._v = [None] * (_W // 16)    # views of W by block count - 1, made on first use
        # H = E(K, 0^128) (SP 800-38D 7.1 step 1)
        k.zero(w, 0, 16)
        b = self._v[0] = w[0:16]
        self._ecb(b, b)
        table(self._tab, w)
        k.ghash_prep(self._tab)

    def _check(self, nonce, buf, off, n, end):
        # the kernels do not check (they may be machine code): every span here
        if len(nonce) != 12 or off < 0 or n < 0 or end > len(buf):
            raise ValueError("GCM: bad nonce or span")
        if end > off:
            buf[off] = buf[off]          # TypeError for a read-only buffer, before any write

    def _first(self, nonce, n):
        """J_0, inc32(J_0), .. (SP 800-38D 7.1 steps 2-3) into W and through ECB:
        E(K, J_0) at W[0:16], then keystream; returns the keystream blocks made."""
        nb = (n + 15) >> 4
        if nb > (_W >> 4) - 1:
            nb = (_W >> 4) - 1
        self._k.ctr(self._w, nb + 1, -1, nonce, 12, 4, 1)
        v = self._v[nb]
        if v is None:
            v = self._v[nb] = self._w[0:16 * nb + 16]
        self._ecb(v, v)
        return nb

    def _crypt(self, nonce, buf, off, n, nb):
        """buf[off:off+n] ^= the keystream (SP 800-38D 6.5): its first nb blocks are in
        W after _first, the rest made here from counter nb + 2 on. (seal and open do a
        short message's one xor themselves: a call to a frame this big costs MicroPython
        a heap allocation.)"""
        k = self._k
        w = self._w
        m = n if n < 16 * nb else 16 * nb
        k.xor(buf, off, w, 16, m)
        c = nb + 2
        off += m
        n -= m
        while n > 0:
            nb = (n + 15) >> 4
            if nb > _W >> 4:
                nb = _W >> 4
            k.ctr(w, nb, -1, nonce, 12, 4, c)
            v = self._v[nb - 1]
            if v is None:
                v = self._v[nb - 1] = w[0:16 * nb]
            self._ecb(v, v)
            m = n if n < 16 * nb else 16 * nb
            k.xor(buf, off, w, 0, m)
            c += nb
            off += m
            n -= m

    def seal(self, nonce, aad, buf, off, n):
        """Encrypt buf[off:off+n] in place; the tag goes to buf[off+n:off+n+tag]."""
        self._check(nonce, buf, off, n, off + n + self.tag_size)
        k = self._k
        nb = self._first(nonce, n)
        s0 = self._w
        if n > 16 * nb:                  # W is needed again: keep E(K, J_0)
            s0 = self._j
            k.copy(s0, 0, self._w, 0, 16)
        if n <= 16 * nb:                 # a record: its keystream is all in W
            k.xor(buf, off, self._w, 16, n)
        else:
            self._crypt(nonce, buf, off, n, nb)
        k.gcm_mac(self._tab, self._z, aad, len(aad), buf, off, n)
        k.xor3(buf, off + n, self._z, 0, s0, 0, self.tag_size)       # 7.1 step 6

    def open(self, nonce, aad, buf, off, n):
        """Check the tag at the end of buf[off:off+n], then decrypt in place (SP 800-38D
        7.2). Returns False on a bad tag (the buffer is then left as it was) or a short
        input."""
        T = self.tag_size
        mlen = n - T
        if mlen < 0:
            return False
        self._check(nonce, buf, off, mlen, off + n)
        k = self._k
        k.gcm_mac(self._tab, self._z, aad, len(aad), buf, off, mlen)
        nb = self._first(nonce, mlen)
        if k.diff(self._z, 0, self._w, 0, buf, off + mlen, T):
            return False
        if mlen <= 16 * nb:
            k.xor(buf, off, self._w, 16, mlen)
        else:
            self._crypt(nonce, buf, off, mlen, nb)
        return True
