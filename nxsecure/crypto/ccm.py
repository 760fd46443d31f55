"""AES-CCM (RFC 3610, NIST SP 800-38C) in place over a block cipher, with no allocation."""
# General M (tag bytes: 4..16, even) and L (length-field bytes: 2..8, nonce 15-L bytes) so
# the published vectors can be checked; TLS uses L=3 with a 12-byte nonce and M=16 or 8
# (RFC 6655 3, RFC 7251). Every scratch block is a 16-byte slice of the buffer given at
# construction (the session's crypto metadata), so seal/open allocate nothing: all
# arithmetic is on ints below 2**24 and the block cipher writes into those slices
# (measured: 0 bytes per seal+open with gc.mem_alloc() in MicroPython 1.27, WebAssembly).

SCRATCH_SIZE = 64   # four blocks: MAC state (two, alternating), counter, keystream


class CCM:
    """CCM over `block` (an object with encrypt_block(src, so, dst, do)).
    seal(nonce, aad, buf, off, n) / open(nonce, aad, buf, off, n) per the crypto
    context contract in docs/DESIGN.md."""

    def __init__(self, block, tag_len, length_len, scratch):
        if tag_len < 4 or tag_len > 16 or tag_len & 1 or length_len < 2 or length_len > 8:
            raise ValueError("CCM: M in 4..16 even, L in 2..8")
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("CCM scratch too small")
        self._enc = block.encrypt_block  # bound once: loading it per call would allocate
        self._m = tag_len
        self._l = length_len
        self._x = scratch[0:16]
        self._y = scratch[16:32]
        self._a = scratch[32:48]
        self._s = scratch[48:64]
        self.tag_size = tag_len

    def _start(self, nonce, aad, mlen):
        """B0 and the formatted associated data through CBC-MAC (RFC 3610 2.2);
        also loads the counter block A_0. Returns the MAC state buffer."""
        x = self._x
        y = self._y
        a = self._a
        e = self._enc
        L = self._l
        nl = 15 - L
        if len(nonce) != nl:
            raise ValueError("CCM nonce must be 15-L bytes")
        la = len(aad)
        # Flags = 64*Adata + 8*M' + L', M' = (M-2)/2, L' = L-1 (RFC 3610 2.2).
        x[0] = (64 if la else 0) | (((self._m - 2) >> 1) << 3) | (L - 1)
        a[0] = L - 1                     # A_i flags: L' only (RFC 3610 2.3)
        for i in range(nl):
            c = nonce[i]
            x[1 + i] = c
            a[1 + i] = c
        q = mlen
        for i in range(15, nl, -1):      # l(m), most significant byte first
            x[i] = q & 0xFF
            a[i] = 0
            q >>= 8
        if q:
            raise ValueError("CCM message too long for L")
        e(x, 0, y, 0)
        if not la:
            return y
        # l(a) encoding: 2 bytes below 2^16-2^8, else 0xFFFE + 4 bytes (RFC 3610 2.2).
        if la < 0xFF00:
            y[0] ^= la >> 8
            y[1] ^= la & 0xFF
            p = 2
        else:
            y[0] ^= 0xFF
            y[1] ^= 0xFE
            y[2] ^= (la >> 24) & 0xFF
            y[3] ^= (la >> 16) & 0xFF
            y[4] ^= (la >> 8) & 0xFF
            y[5] ^= la & 0xFF
            p = 6
        for i in range(la):
            y[p] ^= aad[i]
            p += 1
            if p == 16:
                e(y, 0, x, 0)
                t = x
                x = y
                y = t
                p = 0
        if p:                            # zero padding is a no-op under XOR
            e(y, 0, x, 0)
            return x
        return y

    def _tag_stream(self):
        """S_0 = E(K, A_0) into the keystream block (RFC 3610 2.3)."""
        a = self._a
        for i in range(16 - self._l, 16):
            a[i] = 0
        self._enc(a, 0, self._s, 0)

    def _step(self):
        """Keystream block for the current counter, then counter += 1 (mod 2^(8L))."""
        a = self._a
        self._enc(a, 0, self._s, 0)
        i = 15
        stop = 16 - self._l
        while i >= stop:
            c = (a[i] + 1) & 0xFF
            a[i] = c
            if c:
                break
            i -= 1

    def seal(self, nonce, aad, buf, off, n):
        """Encrypt buf[off:off+n] in place; the M-byte tag goes to buf[off+n:off+n+M]."""
        x = self._start(nonce, aad, n)
        y = self._y if x is self._x else self._x
        s = self._s
        e = self._enc
        a = self._a
        a[15] = 1                        # A_1 is the first message counter block
        p = off
        end = off + n
        while p < end:
            m = end - p
            if m > 16:
                m = 16
            for i in range(m):           # CBC-MAC over the plaintext (RFC 3610 2.2)
                x[i] ^= buf[p + i]
            e(x, 0, y, 0)
            t = x
            x = y
            y = t
            self._step()
            for i in range(m):           # CTR encryption (RFC 3610 2.3)
                buf[p + i] ^= s[i]
            p += m
        self._tag_stream()
        for i in range(self._m):         # U = T xor first-M-bytes(S_0)
            buf[end + i] = x[i] ^ s[i]

    def open(self, nonce, aad, buf, off, n):
        """Decrypt buf[off:off+n-M] in place and check the tag at its end (RFC 3610 2.5).
        Returns False on a bad tag (the plaintext is then garbage) or a short input."""
        M = self._m
        mlen = n - M
        if mlen < 0:
            return False
        x = self._start(nonce, aad, mlen)
        y = self._y if x is self._x else self._x
        s = self._s
        e = self._enc
        a = self._a
        a[15] = 1
        p = off
        end = off + mlen
        while p < end:
            m = end - p
            if m > 16:
                m = 16
            self._step()
            for i in range(m):
                c = buf[p + i] ^ s[i]
                buf[p + i] = c
                x[i] ^= c
            e(x, 0, y, 0)
            t = x
            x = y
            y = t
            p += m
        self._tag_stream()
        d = 0
        for i in range(M):               # constant time: accumulate, decide once
            d |= x[i] ^ s[i] ^ buf[end + i]
        return d == 0
