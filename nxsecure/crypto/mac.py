"""HMAC (RFC 2104) over hashlib constructors that lack copy(); keyed pads in caller memory."""
# MicroPython's hashlib objects have no copy() and digest() finalises them, so the keyed
# inner/outer states cannot be cached: each MAC is two hash objects, the fewest this
# hashlib allows, each starting from its 64-byte pad again. The pads are computed once per
# key into one buffer (ipad || opad), by the native kernels where the firmware compiles
# them: one 128-byte buffer, a slice store and two C calls, where the big-int form makes four 64-byte
# objects, each an allocation that walks a fragmented heap on a board (~0.2-0.4 ms on an
# RP2040), and a byte loop costs ~2 ms; elsewhere with one big-int XOR per pad.
# Allocation per mac(): two hash objects, two digests, and a memoryview of the data.
import hashlib

from . import kernel

# Block sizes in bytes (FIPS 180-4 1): SHA-1 and SHA-256 64, SHA-384/512 128.
SHA256_BLOCK = 64
_FILL = b"\x36" * 64 + b"\x5c" * 64


def pads_size(block_size):
    """Metadata bytes HMAC needs for one key: inner and outer padded keys."""
    return 2 * block_size


def keyed(key, hash_new, block_size=SHA256_BLOCK, out=None):
    """ipad || opad in out[0:2 * block_size] (a new buffer when None) -> out: K xor
    0x36.., K xor 0x5c.. with K the key zero-padded to the block, or its hash when
    longer (RFC 2104 2)."""
    # (frames within 11 words here and in _fill: a bigger one goes on a board's heap)
    if len(key) > block_size:
        key = hash_new(key).digest()
    if out is None:
        out = memoryview(bytearray(2 * block_size))
    k = kernel.best()
    if block_size == SHA256_BLOCK and k.native:
        _fill(out, key, k)
    else:
        _fill_int(out, key, block_size)
    return out


def _fill(out, key, k):
    """keyed() with native kernels k: the fill constant stored by one slice (a memcpy:
    ~10 us on an RP2040, where the kernels' byte loop takes ~70), the key (at most a
    block) XORed into both halves."""
    out[0:128] = _FILL
    n = len(key)
    x = k.xor
    x(out, 0, key, 0, n)
    x(out, SHA256_BLOCK, key, 0, n)


def _fill_int(out, key, block_size):
    """keyed() without native kernels (or for SHA-384's block): one big-int XOR per pad,
    little-endian so that the key's bytes are the low end and the zero padding the high
    end (no shift)."""
    k = int.from_bytes(key, "little")
    i = int.from_bytes(_FILL[0:1] * block_size, "little")
    o = int.from_bytes(_FILL[64:65] * block_size, "little")
    out[0:block_size] = (k ^ i).to_bytes(block_size, "little")
    out[block_size:2 * block_size] = (k ^ o).to_bytes(block_size, "little")


class HMAC:
    """HMAC(key) with hash constructor `hash_new` (a hashlib-style callable).
    mac(head, buf, off, n, out, out_off) writes HMAC(key, head || buf[off:off+n])."""

    def __init__(self, key, hash_new=None, block_size=SHA256_BLOCK, pads_buf=None,
                 digest_size=0):
        if hash_new is None:
            hash_new = hashlib.sha256
            digest_size = 32
        self._h = hash_new
        if pads_buf is not None and len(pads_buf) < 2 * block_size:
            raise ValueError("HMAC pad buffer too small")
        pads_buf = keyed(key, hash_new, block_size, pads_buf)
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
    key = keyed(key, hashlib.sha256)
    h = hashlib.sha256(key[0:SHA256_BLOCK])
    for p in parts:
        h.update(p)
    key = hashlib.sha256(key[SHA256_BLOCK:])
    key.update(h.digest())
    return key.digest()
