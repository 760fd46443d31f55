"""The TLS 1.2 PRF (RFC 5246 5) and HMAC-SHA256 where the port can copy a hash object's state
(nxsecure/port/hash_state.py): port.crypto_backend() loads it, and drops it where the
port cannot."""
import hashlib

from .mac import keyed, SHA256_BLOCK


def viewer(at, offset, n):
    """The view of a hash object's state that nxsecure/port/hash_state.py checks:
    at(id(h) + offset, n), at being uctypes.bytearray_at."""
    def view(h):
        return at(id(h) + offset, n)
    return view


def prf_saved(view):
    """-> (prf, key, mac) for SHA-256 where the port can copy a hash object's state (view(h):
    a writable buffer over it, nxsecure/port/hash_state.py). prf is prf.prf()'s
    function, but each keyed pad is hashed once and its state put back for every HMAC
    (RFC 2104 4), where prf.prf() hashes both pads again, in two new hash objects, for
    each: a 48-byte PRF compresses 10 blocks with 2 hash objects instead of 16 with 8.
    key(secret) makes those states once for a secret used again (the master secret:
    the key block and both Finished messages), and prf takes its result in the
    secret's place; mac(k, data) is HMAC-SHA256 under such a key (the server's cookie
    secrets). (prf's own loop, not prf.prf()'s with a function in place of the
    constructor: a call per HMAC half costs more than it saves.)"""
    sha256 = hashlib.sha256

    def key(secret):
        # (a working hash object, its view, its state after the inner pad, after the outer)
        p = keyed(secret, sha256)
        w = sha256(p[0:SHA256_BLOCK])
        v = view(w)
        si = bytes(v)
        p = sha256(p[SHA256_BLOCK:])
        return (w, v, si, bytes(view(p)))

    def prf_fast(secret, label, seed, n):
        k = secret if isinstance(secret, tuple) else key(secret)
        w = k[0]
        v = k[1]
        si = k[2]
        so = k[3]
        v[:] = si
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

    def mac(k, data):
        """HMAC-SHA256 of data under key(secret)'s states k (RFC 2104 2)."""
        w = k[0]
        v = k[1]
        v[:] = k[2]
        w.update(data)
        data = w.digest()
        v[:] = k[3]
        w.update(data)
        return w.digest()
    return prf_fast, key, mac
