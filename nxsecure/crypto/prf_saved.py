"""The TLS 1.2 PRF (RFC 5246 5) with SHA-256 where the port can copy a hash object's state
(nxsecure/port/hash_state.py): loaded only there, by portable_backend()."""
import hashlib

from .mac import keyed, SHA256_BLOCK


def prf_saved(view):
    """prf.prf() for SHA-256 where the port can copy a hash object's state (view(h): a
    writable buffer over it, nxsecure/port/hash_state.py): each keyed pad is hashed once
    per PRF and its state put back for every HMAC (RFC 2104 4), where prf.prf() hashes both
    pads again, in two new hash objects, for each. A 48-byte PRF: 10 compressions and 2
    hash objects instead of 16 and 8. (Its own loop, not prf.prf()'s with a function in
    place of the constructor: a call per HMAC half costs more than it saves.)"""
    sha256 = hashlib.sha256

    def prf_fast(secret, label, seed, n):
        p = keyed(secret, sha256)
        w = sha256(p[0:SHA256_BLOCK])
        v = view(w)
        si = bytes(v)                                   # after the inner pad
        o = sha256(p[SHA256_BLOCK:])
        so = bytes(view(o))                             # after the outer pad
        w.update(label)
        w.update(seed)
        d = w.digest()
        v[:] = so
        w.update(d)
        a = w.digest()                                  # A(1)
        out = b""
        while True:
            v[:] = si
            w.update(a)
            w.update(label)
            w.update(seed)
            d = w.digest()
            v[:] = so
            w.update(d)
            d = w.digest()
            if len(out) + len(d) >= n:
                return out + memoryview(d)[0:n - len(out)]
            out += d
            v[:] = si
            w.update(a)
            d = w.digest()
            v[:] = so
            w.update(d)
            a = w.digest()                              # A(i+1)
    return prf_fast
