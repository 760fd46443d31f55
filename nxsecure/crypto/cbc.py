"""AES-CBC (NIST SP 800-38A 6.2) in place, whole buffers to the AES engine, no allocation."""
# TLS 1.2 CBC records carry their own IV (RFC 5246 6.2.3.2), so every call gets one.
# Lengths are the record layer's to check (a multiple of 16; RFC 5246 6.2.3.2): here a
# bad length is a programming error and raises ValueError.
#
# The engine (cryptolib.aes or nxsecure.crypto.aes.new, see ccm.py) is one CBC object per
# direction, made once; its IV carries over from the previous call (the last ciphertext
# block, kept in H too). Each call stages CHUNK bytes at a time in the scratch W and
# corrects the first block for the record's own IV:
#   encrypt: C_1 = E(P_1 xor IV) = E((P_1 xor IV xor H) xor H)
#   decrypt: P_1 = D(C_1) xor IV = (D(C_1) xor H) xor H xor IV
from . import kernel

CHUNK = 128
SCRATCH_SIZE = CHUNK + 48        # W, encrypt-side H, decrypt-side H, next decrypt H


class CBC:
    """CBC with key `key` over an AES engine aes_new: encrypt(iv, buf, off, n) and
    decrypt(iv, buf, off, n) in place, n a multiple of 16."""

    def __init__(self, aes_new, key, scratch=None, kern=None):
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("CBC scratch too small")
        k = kern or kernel.best()
        self._copy = k.copy
        self._xor = k.xor
        self._new = aes_new
        self._key = bytes(key)
        self._enc = None                # made on first use: an engine does one direction
        self._dec = None
        w = scratch[0:CHUNK]
        self._w = w
        self._v = [None] * (CHUNK // 16)  # views of W by block count - 1, made on first use
        self._he = scratch[CHUNK:CHUNK + 16]
        self._hd = scratch[CHUNK + 16:CHUNK + 32]
        self._hn = scratch[CHUNK + 32:CHUNK + 48]

    def _run(self, f, dec, h, iv, buf, off, n):
        """f over buf[off:off+n] through W, the first block corrected by h xor iv (before
        encrypting, after decrypting). Returns the last chunk's length."""
        if n & 15:
            raise ValueError("CBC length must be a multiple of 16")
        if off < 0 or off + n > len(buf) or len(iv) < 16:
            raise ValueError("CBC: bad span")
        buf[off] = buf[off]              # TypeError for a read-only buffer, before any write
        w = self._w
        copy = self._copy
        xor = self._xor
        first = True
        end = off + n
        while off < end:
            m = end - off
            if m > CHUNK:
                m = CHUNK
            copy(w, 0, buf, off, m)
            if dec:
                if off + m >= end:
                    copy(self._hn, 0, w, m - 16, 16)     # the decryptor's next IV
            elif first:
                xor(w, 0, h, 0, 16)
                xor(w, 0, iv, 0, 16)
            b = self._v[(m >> 4) - 1]
            if b is None:
                b = self._v[(m >> 4) - 1] = w[0:m]
            f(b, b)
            if dec and first:
                xor(w, 0, h, 0, 16)
                xor(w, 0, iv, 0, 16)
            copy(buf, off, w, 0, m)
            first = False
            off += m
        return m

    def encrypt(self, iv, buf, off, n):
        """C_1 = E(P_1 xor IV), C_j = E(P_j xor C_j-1), in place over buf[off:off+n]."""
        if self._enc is None:
            self._enc = self._new(self._key, 2, bytes(16)).encrypt
            kernel.python().zero(self._he, 0, 16)
        if n:
            m = self._run(self._enc, False, self._he, iv, buf, off, n)
            self._copy(self._he, 0, self._w, m - 16, 16)

    def decrypt(self, iv, buf, off, n):
        """P_j = D(C_j) xor C_j-1, in place over buf[off:off+n]."""
        if self._dec is None:
            self._dec = self._new(self._key, 2, bytes(16)).decrypt
            kernel.python().zero(self._hd, 0, 16)
        if n:
            self._run(self._dec, True, self._hd, iv, buf, off, n)
            self._copy(self._hd, 0, self._hn, 0, 16)
