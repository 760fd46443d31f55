"""AES-CCM (RFC 3610, NIST SP 800-38C) in place, whole buffers to the AES engine, no allocation."""
# General M (tag bytes: 4..16, even) and L (length-field bytes: 2..8, nonce 15-L bytes) so
# the published vectors can be checked; TLS uses L=3 with a 12-byte nonce and M=16 or 8
# (RFC 6655 3, RFC 7251).
#
# The AES engine is MicroPython's cryptolib.aes (C) or nxsecure.crypto.aes.new (the same
# interface in Python): aes_new(key, 1) is ECB, aes_new(key, 2, iv) CBC whose IV carries
# over from one call to the next; encrypt(in, out) runs over all of `in`. So:
# - CBC-MAC (RFC 3610 2.2) is one CBC call over the formatted MAC input (B_0, the
#   encoded associated data, the message, each zero-padded) staged in the scratch WM,
#   CHUNK message bytes at a time. The CBC object keeps the last output block (the
#   last MAC) as its IV; that value is kept in H too and XORed into B_0, so each
#   message's CBC-MAC starts from a zero IV with no new object.
# - CTR (RFC 3610 2.3) is one ECB call over the counter blocks A_0, A_1, .. built in
#   the scratch WC; the keystream is XORed into the record, S_0 = E(A_0) masks the tag.
# Byte work goes through the kernels (kernel.py; native code where the firmware compiles
# it), a record that fits the scratch in three kernel calls and two AES calls. All
# buffers are slices of the caller's metadata; the view of WM or WC that a block count
# needs is made the first time that count occurs and kept, so a record size's first
# seal or open allocates a view or two and every later one nothing.
from . import kernel

CHUNK = 128                      # message bytes per AES call
_WM = CHUNK + 32                 # MAC input: B_0, a block of associated data, CHUNK
_WC = CHUNK + 16                 # counter blocks: A_0 and CHUNK
SCRATCH_SIZE = _WM + _WC + 32    # WM, WC, H (last MAC), T (S_0 of a long message)


class CCM:
    """CCM with key `key` over an AES engine aes_new (see above); tag_len = M,
    length_len = L. seal(nonce, aad, buf, off, n) / open(nonce, aad, buf, off, n) per
    the crypto context contract in docs/DESIGN.md; kern: the kernels (kernel.best())."""

    def __init__(self, aes_new, key, tag_len, length_len, scratch=None, kern=None):
        if tag_len < 4 or tag_len > 16 or tag_len & 1 or length_len < 2 or length_len > 8:
            raise ValueError("CCM: M in 4..16 even, L in 2..8")
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("CCM scratch too small")
        k = kern or kernel.best()
        self._k = k
        self._ecb = aes_new(key, 1).encrypt
        self._cbc = aes_new(key, 2, bytes(16)).encrypt
        wm = scratch[0:_WM]
        wc = scratch[_WM:_WM + _WC]
        self._wm = wm
        self._wc = wc
        self._vm = [None] * (_WM // 16)  # views of WM / WC by block count - 1, made on
        self._vc = [None] * (_WC // 16)  # first use (a record size needs two)
        self._h = scratch[_WM + _WC:_WM + _WC + 16]
        self._t = scratch[_WM + _WC + 16:_WM + _WC + 32]
        k.zero(self._h, 0, 16)           # = the IV the CBC object starts from
        self._m = tag_len
        self._l = length_len
        self._nl = 15 - length_len
        self._nmax = 1 << (8 * length_len) if length_len < 4 else 1 << 30
        # B_0 flags = 64*Adata + 8*M' + L', M' = (M-2)/2, L' = L-1 (RFC 3610 2.2)
        self._flags = (((tag_len - 2) >> 1) << 3) | (length_len - 1)
        self.tag_size = tag_len

    def _check(self, nonce, buf, off, n, end):
        # the kernels do not check (they may be machine code): every span here
        if (off < 0 or n < 0 or end > len(buf) or n >= self._nmax
                or len(nonce) != self._nl):
            raise ValueError("CCM: bad nonce or span")
        if end > off:
            buf[off] = buf[off]          # TypeError for a read-only buffer, before any write

    def _mac(self, nonce, aad, buf, off, n, ko, nc):
        """CBC-MAC of (nonce, aad, buf[off:off+n]) (RFC 3610 2.2); the MAC is left at
        WM[q-16:q], q returned. With ko >= 0, buf[off:off+n] is first decrypted with
        the keystream at WC[ko:] (all of it must be there); else, with nc, the counter
        blocks A_0..A_nc-1 are also put in WC (sealing: one kernel call less)."""
        k = self._k
        wm = self._wm
        cbc = self._cbc
        L = self._l
        la = len(aad)
        flags = self._flags | (64 if la else 0)
        head = 16 + ((17 + la) & ~15 if la else 0)     # B_0 and the encoded aad
        if la < 0xFF00 and head < _WM:
            m = n if n < _WM - head else _WM - head
            q = k.ccm_b0(wm, self._h, flags, nonce, 15 - L, L, n, aad, la, buf, off, m,
                         self._wc, ko, nc)
        else:
            m = 0
            k.ccm_b0(wm, self._h, flags, nonce, 15 - L, L, n, aad, 0, buf, off, 0,
                     self._wc, ko, nc)
            q = self._long_aad(aad, la)
        if ko >= 0 and m < n:
            k.xor(buf, off + m, self._wc, ko + m, n - m)
        off += m
        n -= m
        while True:
            self._cbc_m(q)
            if n <= 0:
                return q
            m = n if n < _WM else _WM
            k.copy(wm, 0, buf, off, m)
            q = (m + 15) & ~15
            k.zero(wm, m, q - m)
            off += m
            n -= m

    def _cbc_m(self, q):
        """CBC-MAC over WM[0:q] (whole blocks), the chain going on from H."""
        vm = self._vm
        v = vm[(q >> 4) - 1]
        if v is None:
            v = vm[(q >> 4) - 1] = self._wm[0:q]
        self._cbc(v, v)

    def _long_aad(self, aad, la):
        """l(a) || aad after B_0 when it does not fit WM at once (RFC 3610 2.2: 0xFFFE
        and 4 bytes from 2^16-2^8 on); returns q, the zero-padded end in WM."""
        wm = self._wm
        if la < 0xFF00:
            wm[16] = la >> 8
            wm[17] = la & 0xFF
            q = 18
        else:
            wm[16] = 0xFF
            wm[17] = 0xFE
            wm[18] = (la >> 24) & 0xFF
            wm[19] = (la >> 16) & 0xFF
            wm[20] = (la >> 8) & 0xFF
            wm[21] = la & 0xFF
            q = 22
        a = 0
        while True:
            m = la - a
            if m > _WM - q:
                m = _WM - q
            self._k.copy(wm, q, aad, a, m)
            a += m
            q += m
            if a == la:
                r = (-q) & 15
                self._k.zero(wm, q, r)
                return q + r
            self._cbc(wm, wm)            # WM is full: whole blocks
            q = 0

    def _blocks(self, n):
        """Keystream blocks after S_0 that the first ECB call makes for n bytes."""
        nb = (n + 15) >> 4
        return nb if nb < (_WC >> 4) - 1 else (_WC >> 4) - 1

    def _ecb_first(self, nb):
        """E(A_0 .. A_nb) in place in WC: S_0, then the first keystream blocks."""
        v = self._vc[nb]
        if v is None:
            v = self._vc[nb] = self._wc[0:16 * nb + 16]
        self._ecb(v, v)

    def _rest(self, nonce, buf, off, n, c):
        """buf[off:off+n] ^= the keystream from counter c on (messages past CHUNK)."""
        k = self._k
        wc = self._wc
        L = self._l
        while n > 0:
            nb = (n + 15) >> 4
            if nb > _WC >> 4:
                nb = _WC >> 4
            k.ctr(wc, nb, L - 1, nonce, 15 - L, L, c)
            v = self._vc[nb - 1]
            if v is None:
                v = self._vc[nb - 1] = wc[0:16 * nb]
            self._ecb(v, v)
            m = n if n < 16 * nb else 16 * nb
            k.xor(buf, off, wc, 0, m)
            c += nb
            off += m
            n -= m

    def seal(self, nonce, aad, buf, off, n):
        """Encrypt buf[off:off+n] in place; the M-byte tag goes to buf[off+n:off+n+M]."""
        self._check(nonce, buf, off, n, off + n + self._m)
        nb = self._blocks(n)
        la = len(aad)
        if la < 240 and n <= _WM - 16 - ((17 + la) & ~15 if la else 0):
            # a record's MAC input fits WM: formatted and chained here, not in _mac
            # (MicroPython puts a frame as big as _mac's on the heap at every call)
            L = self._l
            q = self._k.ccm_b0(self._wm, self._h, self._flags | (64 if la else 0), nonce,
                               15 - L, L, n, aad, la, buf, off, n, self._wc, -1, nb + 1)
            self._cbc_m(q)
        else:
            q = self._mac(nonce, aad, buf, off, n, -1, nb + 1)
        self._ecb_first(nb)
        m = n if n < 16 * nb else 16 * nb
        # U = T xor first-M-bytes(S_0) (RFC 3610 2.3), T (the MAC) kept in H; then the
        # keystream S_1.. over the message
        self._k.seal_out(self._h, self._wm, q - 16, self._wc, buf, off, n, m, self._m)
        if m < n:
            self._rest(nonce, buf, off + m, n - m, nb + 1)

    def open(self, nonce, aad, buf, off, n):
        """Decrypt buf[off:off+n-M] in place and check the tag at its end (RFC 3610 2.5).
        Returns False on a bad tag (the plaintext is then garbage) or a short input."""
        M = self._m
        mlen = n - M
        if mlen < 0:
            return False
        self._check(nonce, buf, off, mlen, off + n)
        k = self._k
        L = self._l
        nb = self._blocks(mlen)
        k.ctr(self._wc, nb + 1, L - 1, nonce, 15 - L, L, 0)
        self._ecb_first(nb)
        s0 = self._wc
        la = len(aad)
        if mlen <= 16 * nb and la < 240 and mlen <= _WM - 16 - ((17 + la) & ~15 if la else 0):
            # as in seal, the ciphertext decrypted as it is staged
            q = k.ccm_b0(self._wm, self._h, self._flags | (64 if la else 0), nonce, 15 - L,
                         L, mlen, aad, la, buf, off, mlen, s0, 16, 0)
            self._cbc_m(q)
        elif mlen <= 16 * nb:            # the keystream is all in WC: decrypt as staged
            q = self._mac(nonce, aad, buf, off, mlen, 16, 0)
        else:
            s0 = self._t
            k.copy(s0, 0, self._wc, 0, 16)
            k.xor(buf, off, self._wc, 16, 16 * nb)
            self._rest(nonce, buf, off + 16 * nb, mlen - 16 * nb, nb + 1)
            q = self._mac(nonce, aad, buf, off, mlen, -1, 0)
        return k.mac_check(self._h, self._wm, q - 16, s0, buf, off + mlen, M) == 0
