"""The TLS 1.2 PRF: P_hash(secret, label + seed) of RFC 5246 section 5 (SHA-256 by default)."""
# Each HMAC is two hash objects (no copy() in MicroPython's hashlib: the fewest it allows),
# fed in as few calls as possible; the keyed pads are made once per PRF (mac.pads: on the
# emulated RP2040 a handshake measured ~4 ms slower with mac.keyed here, its buffer of
# 128 bytes against the four of 64), and label and seed go in as they are (joining them
# allocates their sum, ~80 bytes, at every PRF: handshake 98.8 -> 97.2 ms).
import hashlib

from .mac import pads, SHA256_BLOCK


def prf(secret, label, seed, n, hash_new=None, block_size=SHA256_BLOCK):
    """PRF(secret, label, seed) truncated to n bytes (RFC 5246 5):
    A(0) = label + seed, A(i) = HMAC(secret, A(i-1)),
    P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + label + seed) + ...
    Handshake-time only: allocates its output and the intermediate digests."""
    h = hash_new or hashlib.sha256
    ipad, opad = pads(secret, h, block_size)
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
        out += y.digest()
        if len(out) >= n:
            return out[:n] if len(out) > n else out
        x = h(ipad)
        x.update(a)
        y = h(opad)
        y.update(x.digest())
        a = y.digest()                              # A(i+1)
