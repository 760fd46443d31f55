"""HMAC (RFC 2104) over hashlib constructors that lack copy(); keyed pads in caller memory."""
# MicroPython's hashlib objects have no copy() and digest() finalises them, so the keyed
# inner/outer states cannot be cached: each MAC hashes the 64-byte pads again. The pads
# are computed once per key into the buffer given at construction.
# Allocation per mac(): two hash objects, two digests, and a memoryview of the data.
import hashlib

# Block sizes in bytes (FIPS 180-4 1): SHA-1 and SHA-256 64, SHA-384/512 128.
SHA256_BLOCK = 64


def pads_size(block_size):
    """Metadata bytes HMAC needs for one key: inner and outer padded keys."""
    return 2 * block_size


class HMAC:
    """HMAC(key) with hash constructor `hash_new` (a hashlib-style callable).
    mac(head, buf, off, n, out, out_off) writes HMAC(key, head || buf[off:off+n])."""

    def __init__(self, key, hash_new=None, block_size=SHA256_BLOCK, pads=None):
        if hash_new is None:
            hash_new = hashlib.sha256
        self._h = hash_new
        if pads is None:
            pads = memoryview(bytearray(2 * block_size))
        elif len(pads) < 2 * block_size:
            raise ValueError("HMAC pad buffer too small")
        if len(key) > block_size:          # RFC 2104 2: hash long keys first
            key = hash_new(key).digest()
        ipad = pads[0:block_size]
        opad = pads[block_size:2 * block_size]
        kl = len(key)
        for i in range(block_size):
            k = key[i] if i < kl else 0
            ipad[i] = k ^ 0x36
            opad[i] = k ^ 0x5C
        self._ipad = ipad
        self._opad = opad
        self.digest_size = len(hash_new().digest())

    def mac(self, head, buf, off, n, out, out_off):
        """out[out_off:out_off+digest_size] = HMAC(key, head || buf[off:off+n])."""
        h = self._h(self._ipad)
        if head:
            h.update(head)
        if n:
            if off == 0 and n == len(buf):
                h.update(buf)
            else:
                h.update(memoryview(buf)[off:off + n])
        inner = h.digest()
        h = self._h(self._opad)
        h.update(inner)
        d = h.digest()
        out[out_off:out_off + len(d)] = d

    def digest(self, *parts):
        """HMAC(key, parts[0] || parts[1] || ...) as bytes (handshake use: allocates)."""
        h = self._h(self._ipad)
        for p in parts:
            h.update(p)
        inner = h.digest()
        h = self._h(self._opad)
        h.update(inner)
        return h.digest()


def hmac_sha256(key, *parts):
    """HMAC-SHA256(key, parts...) as bytes (RFC 4231 vectors; handshake helper)."""
    return HMAC(key).digest(*parts)
