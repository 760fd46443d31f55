"""HMAC (RFC 2104) over hashlib constructors that lack copy(); keyed pads in caller memory."""
# MicroPython's hashlib objects have no copy() and digest() finalises them, so the keyed
# inner/outer states cannot be cached: each MAC is two hash objects, the fewest this
# hashlib allows, each starting from its 64-byte pad again. The pads are computed once per
# key, with one big-int XOR each (C speed: a byte loop over the pads costs ~2 ms on an
# RP2040, more than the hashing).
# Allocation per mac(): two hash objects, two digests, and a memoryview of the data.
import hashlib

# Block sizes in bytes (FIPS 180-4 1): SHA-1 and SHA-256 64, SHA-384/512 128.
SHA256_BLOCK = 64
_X36 = int.from_bytes(b"\x36" * 64, "little")
_X5C = int.from_bytes(b"\x5c" * 64, "little")


def pads_size(block_size):
    """Metadata bytes HMAC needs for one key: inner and outer padded keys."""
    return 2 * block_size


def pads(key, hash_new, block_size=SHA256_BLOCK):
    """(ipad, opad) as bytes: K xor 0x36.., K xor 0x5c.. with K the key zero-padded to
    the block, or its hash when longer (RFC 2104 2)."""
    if len(key) > block_size:
        key = hash_new(key).digest()
    # little-endian: the key's bytes are the low end and the zero padding the high end
    # of the integer, so no shift (a quarter less time on an RP2040: ~0.19 ms)
    k = int.from_bytes(key, "little")
    if block_size == SHA256_BLOCK:
        i = _X36
        o = _X5C
    else:
        i = int.from_bytes(b"\x36" * block_size, "little")
        o = int.from_bytes(b"\x5c" * block_size, "little")
    return (k ^ i).to_bytes(block_size, "little"), (k ^ o).to_bytes(block_size, "little")


class HMAC:
    """HMAC(key) with hash constructor `hash_new` (a hashlib-style callable).
    mac(head, buf, off, n, out, out_off) writes HMAC(key, head || buf[off:off+n])."""

    def __init__(self, key, hash_new=None, block_size=SHA256_BLOCK, pads_buf=None,
                 digest_size=0):
        if hash_new is None:
            hash_new = hashlib.sha256
            digest_size = 32
        self._h = hash_new
        if pads_buf is None:
            pads_buf = memoryview(bytearray(2 * block_size))
        elif len(pads_buf) < 2 * block_size:
            raise ValueError("HMAC pad buffer too small")
        i, o = pads(key, hash_new, block_size)
        pads_buf[0:block_size] = i
        pads_buf[block_size:2 * block_size] = o
        self._ipad = pads_buf[0:block_size]
        self._opad = pads_buf[block_size:2 * block_size]
        self.digest_size = digest_size or len(hash_new().digest())

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
        o = self._h(self._opad)
        o.update(h.digest())
        return o.digest()


def hmac_sha256(key, *parts):
    """HMAC-SHA256(key, parts...) as bytes (RFC 4231 vectors; handshake helper): two hash
    objects, the pads made on the fly."""
    i, o = pads(key, hashlib.sha256)
    h = hashlib.sha256(i)
    for p in parts:
        h.update(p)
    o = hashlib.sha256(o)
    o.update(h.digest())
    return o.digest()
