"""The TLS 1.2 PRF: P_hash(secret, label + seed) of RFC 5246 section 5 (SHA-256 by default)."""
# Each HMAC is two hash objects (no copy() in MicroPython's hashlib: the fewest it allows),
# fed in as few calls as possible; the keyed pads are made once per PRF into one buffer
# (mac.keyed), and label and seed go in as they are (joining them allocates their sum,
# ~80 bytes, at every PRF).
import hashlib

from .mac import keyed, SHA256_BLOCK


def prf(secret, label, seed, n, hash_new=None, block_size=SHA256_BLOCK):
    """PRF(secret, label, seed) truncated to n bytes (RFC 5246 5):
    A(0) = label + seed, A(i) = HMAC(secret, A(i-1)),
    P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + label + seed) + ...
    Handshake-time only: allocates its output and the intermediate digests (each
    allocation of more than one 16-byte block walks a board's heap from its first free
    block: ~0.1-0.5 ms on an RP2040 whose heap has holes)."""
    h = hash_new or hashlib.sha256
    p = keyed(secret, h, block_size)
    ipad = p[0:block_size]
    opad = p[block_size:2 * block_size]
    x = h(ipad)
    x.update(label)
    x.update(seed)
    y = h(opad)
    y.update(x.digest())
    a = y.digest()                                  # A(1)
    out = b""
    while True:
        x = h(ipad)
        x.update(a)
        x.update(label)
        x.update(seed)
        y = h(opad)
        y.update(x.digest())
        y = y.digest()
        if len(out) + len(y) >= n:
            # the last block's part joined to the rest: one allocation (was a join of
            # whole blocks, then a cut)
            return out + memoryview(y)[0:n - len(out)]
        out += y                                    # the first: y itself, no copy
        x = h(ipad)
        x.update(a)
        y = h(opad)
        y.update(x.digest())
        a = y.digest()                              # A(i+1)
