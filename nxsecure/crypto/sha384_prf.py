"""The SHA-384 suites' handshake work: P_SHA384 (RFC 5246 5) and the SHA-384 handshake transcript; loaded when such a suite is first negotiated (crypto/suites384.py)."""
from nxsecure.crypto.prf import prf as _p

_SHA384_BLOCK = 128       # FIPS 180-4: SHA-384's block


def sha384():
    """The SHA-384 constructor: hashlib's, else the portable one."""
    import hashlib
    h = getattr(hashlib, "sha384", None)
    if h is None:
        from nxsecure.crypto.sha512 import sha384 as h
    return h


def prf(secret, label, seed, n):
    """P_SHA384 (RFC 5246 5), for the SHA-384 suites."""
    return _p(secret, label, seed, n, sha384(), _SHA384_BLOCK)


class Transcript384:
    """The handshake transcript of a SHA-384 suite, in the engine's Transcript's shape
    (update / digest / reset). One running SHA-384 whose digest() does not end it
    (hashlib's and crypto/sha512.py's), started when the suite is chosen from the
    ClientHello, which the engine still holds then: the client in its flight (RFC 6347
    4.2.6: the one with the cookie), the server in its flight buffer (the held hello).
    reset() gives the engine its SHA-256 transcript back for the next handshake."""
    hash_name = "sha384"

    def __init__(self, e, base):
        self._e = e
        self._base = base
        self._h = sha384()()
        if e.is_client:
            for seg in e.flight.entries[0][2]:
                self._h.update(seg)
        else:
            b = e.flight.buf
            n = (b[1] << 16) | (b[2] << 8) | b[3]          # RFC 6347 4.2.2: length
            self._h.update(b[:12 + n])

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()

    def reset(self):
        self._e.transcript = self._base
        self._base.reset()
