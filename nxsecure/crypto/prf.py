"""The TLS 1.2 PRF: P_hash(secret, label + seed) of RFC 5246 section 5 (SHA-256 by default)."""
# Each HMAC is two hash objects (no copy() in MicroPython's hashlib: the fewest it allows),
# fed in as few calls as possible; the keyed pads are made once per PRF into one buffer
# (mac.keyed), and label and seed go in as they are (joining them allocates their sum,
# ~80 bytes, at every PRF). On a board every allocation of more than one 16-byte block
# walks the heap from its first free block past every hole too small for it (~0.1-1 ms
# on an RP2040 whose heap is fragmented), so the output is one buffer filled in place,
# not a string grown by concatenation and then cut.
import hashlib

from .mac import keyed, SHA256_BLOCK


def prf(secret, label, seed, n, hash_new=None, block_size=SHA256_BLOCK):
    """PRF(secret, label, seed) truncated to n bytes (RFC 5246 5):
    A(0) = label + seed, A(i) = HMAC(secret, A(i-1)),
    P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + label + seed) + ...
    Handshake-time only: allocates its output (bytes when one hash output covers n,
    else a bytearray) and the intermediate digests."""
    h = hash_new or hashlib.sha256
    p = keyed(secret, h, block_size)
    ipad = p[0:block_size]
    opad = p[block_size:]
    x = h(ipad)
    x.update(label)
    x.update(seed)
    a = h(opad)
    a.update(x.digest())
    a = a.digest()                                  # A(1)
    out = None
    i = 0
    while True:
        x = h(ipad)
        x.update(a)
        x.update(label)
        x.update(seed)
        p = h(opad)
        p.update(x.digest())
        p = p.digest()
        if out is None:
            if len(p) >= n:                         # one output block: no buffer
                return p if len(p) == n else p[:n]
            out = bytearray(n)
        if n - i <= len(p):
            out[i:n] = memoryview(p)[0:n - i]
            return out
        out[i:i + len(p)] = p
        i += len(p)
        x = h(ipad)
        x.update(a)
        a = h(opad)
        a.update(x.digest())
        a = a.digest()                              # A(i+1)
