"""AES-CBC (NIST SP 800-38A 6.2) in place over a block cipher, with no allocation."""
# TLS 1.2 CBC records carry their own IV (RFC 5246 6.2.3.2), so every call gets one.
# Lengths are the record layer's to check (a multiple of 16; RFC 5246 6.2.3.2): here a
# bad length is a programming error and raises ValueError.

SCRATCH_SIZE = 32   # two blocks for decryption: previous and current ciphertext


class CBC:
    """CBC over `block` (encrypt_block, and decrypt_block for decrypt)."""

    def __init__(self, block, scratch):
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("CBC scratch too small")
        self._enc = block.encrypt_block     # bound once: loading per call would allocate
        self._blk = block
        self._dec = None
        self._p = scratch[0:16]
        self._q = scratch[16:32]

    def encrypt(self, iv, buf, off, n):
        """C_1 = E(P_1 xor IV), C_j = E(P_j xor C_j-1), in place over buf[off:off+n]."""
        if n & 15:
            raise ValueError("CBC length must be a multiple of 16")
        e = self._enc
        prev = iv
        po = 0
        for p in range(off, off + n, 16):
            for i in range(16):
                buf[p + i] ^= prev[po + i]
            e(buf, p, buf, p)
            prev = buf
            po = p

    def decrypt(self, iv, buf, off, n):
        """P_j = D(C_j) xor C_j-1, in place over buf[off:off+n]."""
        if n & 15:
            raise ValueError("CBC length must be a multiple of 16")
        d = self._dec
        if d is None:
            d = self._dec = self._blk.decrypt_block
        prev = self._p
        cur = self._q
        for i in range(16):
            prev[i] = iv[i]
        for p in range(off, off + n, 16):
            for i in range(16):
                cur[i] = buf[p + i]
            d(buf, p, buf, p)
            for i in range(16):
                buf[p + i] ^= prev[i]
            t = prev
            prev = cur
            cur = t
