"""The TLS 1.2 PRF: P_hash(secret, label + seed) of RFC 5246 section 5 (SHA-256 by default)."""
from .mac import HMAC, SHA256_BLOCK


def prf(secret, label, seed, n, hash_new=None, block_size=SHA256_BLOCK):
    """PRF(secret, label, seed) truncated to n bytes (RFC 5246 5):
    A(0) = label + seed, A(i) = HMAC(secret, A(i-1)),
    P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + label + seed) + ...
    Handshake-time only: allocates its output and the intermediate digests."""
    m = HMAC(secret, hash_new, block_size)
    out = bytearray(n)
    a = m.digest(label, seed)
    pos = 0
    while pos < n:
        blk = m.digest(a, label, seed)
        take = len(blk)
        if take > n - pos:
            take = n - pos
        out[pos:pos + take] = memoryview(blk)[0:take]
        pos += take
        if pos < n:
            a = m.digest(a)
    return bytes(out)
