# X25519 (RFC 7748 5): the Montgomery ladder on Curve25519 with clamped scalars,
# and the Diffie-Hellman of RFC 7748 6.1 / RFC 8422 5.11 (all-zero output rejected).
# Scalars and u-coordinates are 32-byte little-endian strings. The ladder runs all
# 255 steps whatever the scalar, with an arithmetic conditional swap (no branch on
# key bits); as everywhere in pure Python, big-int timing is not constant. Where the
# firmware compiles nxsecure.pk.native, the ladder runs there (no allocation; see
# ec.native), with the same steps and swaps.

_P = (1 << 255) - 19
_A24 = 121665           # (486662 - 2) / 4, RFC 7748 5
_BASE = b'\x09' + bytes(31)


def x25519(k, u):
    """X25519(k, u) as 32 bytes (RFC 7748 5), or None for bad lengths."""
    if len(k) != 32 or len(u) != 32:
        return None
    kb = bytearray(k)
    kb[0] &= 248                      # decodeScalar25519: clamp
    kb[31] = (kb[31] & 127) | 64
    ub = bytearray(u)
    ub[31] &= 127                     # decodeUCoordinate: mask the top bit
    from nxsecure.pk import ec
    m = ec.native()
    if m is not None and m.x25519_available():
        return m.x25519(kb, ub)
    kn = int.from_bytes(bytes(kb), 'little')
    p = _P
    x1 = int.from_bytes(bytes(ub), 'little') % p   # non-canonical u accepted
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        kt = (kn >> t) & 1
        swap ^= kt
        dm = swap * (x2 - x3)         # cswap without a branch
        x2 -= dm
        x3 += dm
        dm = swap * (z2 - z3)
        z2 -= dm
        z3 += dm
        swap = kt
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        da = (x3 - z3) * a % p
        cb = (x3 + z3) * b % p
        x3 = (da + cb) ** 2 % p
        z3 = x1 * ((da - cb) ** 2 % p) % p
        x2 = aa * bb % p
        z2 = e * (aa + _A24 * e) % p
    dm = swap * (x2 - x3)
    x2 -= dm
    dm = swap * (z2 - z3)
    z2 -= dm
    return (x2 * pow(z2, p - 2, p) % p).to_bytes(32, 'little')


def public(k):
    """The public key X25519(k, 9)."""
    return x25519(k, _BASE)


def keypair(rand):
    """(private 32 bytes from rand, public 32 bytes)."""
    k = bytes(rand(32))
    if len(k) != 32:
        return None
    return k, x25519(k, _BASE)


def shared(k, peer):
    """RFC 7748 6.1: the shared secret, or None for a bad length or the all-zero
    output of a small-order peer point (RFC 8422 5.11 requires the check)."""
    s = x25519(k, peer)
    if s is None or s == bytes(32):
        return None
    return s
