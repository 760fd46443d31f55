"""AES-GCM (NIST SP 800-38D) in place with a 96-bit IV; GHASH on bytes, 8 bits a step."""
# GHASH (SP 800-38D 6.4) keeps every value a byte, so nothing becomes a heap int on
# MicroPython. X*H is evaluated by Horner's rule one byte at a time (Shoup's method):
#   A <- A * x^8  xor  (X[i] at byte 0) * H,   i = 15 .. 0,
# where * x^8 moves each byte one place right and reduces the byte that falls off with
# the 256-entry table R (x^128 = x^7 + x^2 + x + 1, SP 800-38D 6.3), and
# (b at byte 0) * H = Mhi[b >> 4] xor Mlo[b & 15] uses two 16-entry tables of H
# multiples built at key setup (512 bytes of the caller's metadata per key).
# Allocation: none per seal/open beyond what the block cipher does; every scratch
# block is a slice of the metadata and all arithmetic is on ints below 2**31.

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

SCRATCH_SIZE = 560   # Mlo, Mhi (256 each), counter block, keystream block, GHASH state


def _mulx(T, src, dst):
    """T[dst:dst+16] = T[src:src+16] * x (SP 800-38D 6.3, the right shift of algorithm 1)."""
    carry = T[src + 15] & 1
    for i in range(15, 0, -1):
        T[dst + i] = (T[src + i] >> 1) | ((T[src + i - 1] & 1) << 7)
    T[dst] = T[src] >> 1
    if carry:
        T[dst] ^= 0xE1


class GCM:
    """GCM over `block` (an object with encrypt_block(src, so, dst, do)), 96-bit IV only
    (the TLS nonce, RFC 5288 3). seal/open per the crypto context contract."""

    def __init__(self, block, tag_len, scratch):
        if tag_len < 12 or tag_len > 16:
            raise ValueError("GCM tag must be 12..16 bytes")
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("GCM scratch too small")
        self._enc = block.encrypt_block  # bound once: loading it per call would allocate
        self.tag_size = tag_len
        T = scratch[0:512]
        self._t = T
        self._j = scratch[512:528]
        self._s = scratch[528:544]
        self._z = scratch[544:560]
        # H = E(K, 0^128) (SP 800-38D 7.1 step 1), into Mhi[8] = (0x80 at byte 0) * H.
        z = self._z
        for i in range(16):
            z[i] = 0
        for i in range(512):
            T[i] = 0
        self._enc(z, 0, T, 256 + 128)
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

    def _mul(self):
        """GHASH state z <- z * H (the caller has already XORed the block in)."""
        T = self._t
        RH = _RH
        RL = _RL
        z = self._z
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

    def _absorb(self, src, p, n):
        """GHASH over src[p:p+n], zero-padded to whole blocks (SP 800-38D 6.4)."""
        z = self._z
        end = p + n
        while p < end:
            m = end - p
            if m > 16:
                m = 16
            for i in range(m):
                z[i] ^= src[p + i]
            self._mul()
            p += m

    def _start(self, nonce, aad):
        """J0 = IV || 0^31 || 1 (SP 800-38D 7.1 step 2), GHASH state over A."""
        if len(nonce) != 12:
            raise ValueError("GCM nonce must be 12 bytes")
        j = self._j
        z = self._z
        for i in range(12):
            j[i] = nonce[i]
            z[i] = 0
        for i in range(12, 16):
            j[i] = 0
            z[i] = 0
        j[15] = 1
        self._absorb(aad, 0, len(aad))

    def _ctr(self, buf, p, m):
        """buf[p:p+m] ^= E(K, inc32(counter)) (SP 800-38D 6.5), counter += 1 first."""
        j = self._j
        s = self._s
        i = 15
        while i >= 12:                   # inc32: the last 32 bits only, mod 2^32
            c = (j[i] + 1) & 0xFF
            j[i] = c
            if c:
                break
            i -= 1
        self._enc(j, 0, s, 0)
        for i in range(m):
            buf[p + i] ^= s[i]

    def _finish(self, la, n):
        """S = GHASH(... || [len(A)]64 || [len(C)]64); keystream <- E(K, J0);
        the tag is then z xor keystream (SP 800-38D 7.1 steps 5-6)."""
        z = self._z
        j = self._j
        la <<= 3
        n <<= 3
        for i in range(7, -1, -1):
            z[i] ^= la & 0xFF
            z[8 + i] ^= n & 0xFF
            la >>= 8
            n >>= 8
        self._mul()
        j[12] = 0
        j[13] = 0
        j[14] = 0
        j[15] = 1
        self._enc(j, 0, self._s, 0)

    def seal(self, nonce, aad, buf, off, n):
        """Encrypt buf[off:off+n] in place; the tag goes to buf[off+n:off+n+tag]."""
        self._start(nonce, aad)
        z = self._z
        p = off
        end = off + n
        while p < end:
            m = end - p
            if m > 16:
                m = 16
            self._ctr(buf, p, m)
            for i in range(m):
                z[i] ^= buf[p + i]
            self._mul()
            p += m
        self._finish(len(aad), n)
        s = self._s
        for i in range(self.tag_size):
            buf[end + i] = z[i] ^ s[i]

    def open(self, nonce, aad, buf, off, n):
        """Check the tag at the end of buf[off:off+n] and decrypt in place (SP 800-38D 7.2).
        Returns False on a bad tag (the plaintext is then garbage) or a short input."""
        T = self.tag_size
        mlen = n - T
        if mlen < 0:
            return False
        self._start(nonce, aad)
        z = self._z
        p = off
        end = off + mlen
        while p < end:
            m = end - p
            if m > 16:
                m = 16
            for i in range(m):
                z[i] ^= buf[p + i]
            self._mul()
            self._ctr(buf, p, m)
            p += m
        self._finish(len(aad), mlen)
        s = self._s
        d = 0
        for i in range(T):               # constant time: accumulate, decide once
            d |= z[i] ^ s[i] ^ buf[end + i]
        return d == 0
