# Hash constructors by TLS name, HMAC (RFC 2104) and MGF1 (RFC 8017 B.2.1) for the
# public-key code. Works on MicroPython's hashlib: objects have no copy() and
# digest() finalises them, so every HMAC runs two fresh hash objects.
#
# Names are the TLS HashAlgorithm names of RFC 5246 7.4.1.4.1: 'sha1', 'sha256',
# 'sha384', 'sha512'. Many MicroPython builds have no sha384/sha512: then
# nxsecure/crypto/sha512.py does them (where the build installs it), and a platform
# may plug in its own with register(name, ctor).
import hashlib

_SIZE = {'sha1': 20, 'sha256': 32, 'sha384': 48, 'sha512': 64}
_extra = {}


def register(name, ctor):
    """Install a hash constructor `ctor(data=b'') -> object with update/digest`."""
    _extra[name] = ctor


def ctor(name):
    """The constructor for a hash name, or None when this platform lacks it."""
    f = _extra.get(name)
    if f is None and name in _SIZE:
        f = getattr(hashlib, name, None)
        if f is None and name in ('sha384', 'sha512'):
            try:
                from nxsecure.crypto import sha512
            except ImportError:     # a build without it: the caller says unsupported
                return None
            f = getattr(sha512, name)
    return f


def size(name):
    """Digest length in bytes (0 for an unknown name)."""
    return _SIZE.get(name, 0)


def hmac(name, key, parts):
    """HMAC-`name`(key, b''.join(parts)) per RFC 2104; the caller checked that
    ctor(name) exists."""
    h = ctor(name)
    bs = 128 if name in ('sha384', 'sha512') else 64   # FIPS 180-4 block sizes
    if len(key) > bs:
        key = h(key).digest()
    kl = len(key)
    ipad = bytearray(bs)
    opad = bytearray(bs)
    for i in range(bs):
        c = key[i] if i < kl else 0
        ipad[i] = c ^ 0x36
        opad[i] = c ^ 0x5C
    inner = h(ipad)
    for p in parts:
        inner.update(p)
    outer = h(opad)
    outer.update(inner.digest())
    return outer.digest()


def mgf1(name, seed, length):
    """MGF1 mask of `length` bytes (RFC 8017 B.2.1) as a bytearray."""
    h = ctor(name)
    out = bytearray()
    counter = 0
    while len(out) < length:
        o = h(seed)
        o.update(counter.to_bytes(4, 'big'))
        out.extend(o.digest())
        counter += 1
    return out[:length]
