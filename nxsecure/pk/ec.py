# NIST P-256 and P-384 (short Weierstrass, a = -3): point codec, key generation,
# ECDH (SEC 1 v2 3.3.1) and ECDSA (SEC 1 v2 4.1.3 / 4.1.4, FIPS 186-4 6.4) with
# deterministic nonces (RFC 6979 3.2). Pure Python; big-int work is left to the
# interpreter's C code (pow, *, %), and the Python-level operation count is kept low.
#
# Scalar multiplication keeps one operation sequence whatever the scalar bits
# ("constant structure"): both methods first replace k by an odd representative
# (k or k + n, same point since the group order is n), then recode it into digits
# that are never zero, so every step is "double(s), then add a table point".
# - variable base (ECDH, the u2*Q of verify): width-4 regular signed recoding
#   (Joye-Tunstall), odd multiples P..15P, 4 doublings + 1 addition per digit.
# - fixed base G (key generation, signing): a signed all-bits comb with 6 teeth
#   (every bit recoded to +1/-1), 32 affine points built on first use:
#   P-256 43 doublings + 43 additions, P-384 65 + 65. The table is 64 field
#   elements: 2 KB of integer payload for P-256, 3 KB for P-384; measured on
#   MicroPython 1.27 (WebAssembly port) it keeps about 8 KB (P-256) and 12 KB
#   (P-384) of heap once built. Building it costs about one scalar multiplication.
#   Set `curve.comb` back to None to give the memory back.
# This is not constant time: interpreter big-int arithmetic takes data-dependent
# time, table lookups are list indexing, and the rare exceptional additions
# (equal or opposite points) take a branch. It is the best a pure-Python build
# can do; a platform backend replaces it where hardware exists.
#
# Scalars are ints, points on the wire are SEC 1 2.3.3 uncompressed
# 0x04 || X || Y. Failures return None or False; nothing here raises on input.
from nxsecure.pk import hashes


class Curve:
    def __init__(self, group, p, n, b, gx, gy, size, spacing):
        self.group = group      # TLS NamedCurve (RFC 8422 5.1.1)
        self.p = p
        self.n = n
        self.b = b
        self.gx = gx
        self.gy = gy
        self.size = size        # bytes of p and of n (both are full-length here)
        self.qlen = size * 8    # bit length of n (RFC 6979 2.3.2)
        self.ndig = size * 2 + 1   # width-4 digits of an odd k' < 2**(8*size+1)
        self.spacing = spacing  # comb: 6 * spacing >= 8*size + 1 recoded bits
        self.comb = None


# FIPS 186-4 D.1.2.3 / SEC 2 2.4.2
P256 = Curve(
    23,
    0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
    0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
    0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
    32, 43)

# FIPS 186-4 D.1.2.4 / SEC 2 2.5.1
P384 = Curve(
    24,
    0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff,
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973,
    0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef,
    0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7,
    0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f,
    48, 65)


def curve(group):
    """The Curve for a TLS NamedCurve id (23 secp256r1, 24 secp384r1), or None."""
    if group == 23:
        return P256
    if group == 24:
        return P384
    return None


# --- field and group arithmetic (Jacobian: x = X/Z^2, y = Y/Z^3; Z = 0 is O) ---

def _dbl(x, y, z, p):
    # EFD dbl-2001-b for a = -3 (Bernstein-Lange); doubles O to O (z3 = 0)
    d = z * z % p
    g = y * y % p
    be = x * g % p
    al = 3 * (x - d) * (x + d) % p
    x3 = (al * al - 8 * be) % p
    return x3, (al * (4 * be - x3) - 8 * g * g) % p, 2 * y * z % p


def _madd(x1, y1, z1, x2, y2, p):
    # Jacobian + affine (SEC 1 2.2.1 in Jacobian form, "mixed addition").
    # y2 may be given negated (-y2) for subtraction. Complete by branching only
    # on the exceptional cases: P1 = O, P1 = P2 (double), P1 = -P2 (gives O).
    if z1 == 0:
        return x2, y2 % p, 1
    zz = z1 * z1 % p
    h = (x2 * zz - x1) % p
    r = (y2 * zz * z1 - y1) % p
    if h == 0:
        if r == 0:
            return _dbl(x1, y1, z1, p)
        return 1, 1, 0
    hh = h * h % p
    hhh = hh * h % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p


def _inv(a, p):
    # Fermat: a^(p-2) mod p for prime p (no pow(a, -1, p) on MicroPython)
    return pow(a, p - 2, p)


def _affine(x, y, z, p):
    if z == 0:
        return None
    zi = _inv(z, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def _batch_affine(pts, p):
    # Montgomery's trick: one inversion for the whole list (no point may be O)
    acc = 1
    pre = []
    for q in pts:
        pre.append(acc)
        acc = acc * q[2] % p
    inv = _inv(acc, p)
    out = [None] * len(pts)
    for i in range(len(pts) - 1, -1, -1):
        x, y, z = pts[i]
        zi = inv * pre[i] % p
        inv = inv * z % p
        zi2 = zi * zi % p
        out[i] = (x * zi2 % p, y * zi2 * zi % p)
    return out


def _comb_table(c):
    # Teeth B_i = 2^(s*i) G, i = 0..5. Entry idx (5 bits) is
    # B_5 + sum_{i<5} e_i B_i with e_i = +1 if bit i of idx is set, else -1.
    p = c.p
    s = c.spacing
    x, y, z = c.gx, c.gy, 1
    pts = [(x, y, z)]
    for i in range(5):
        for _ in range(s):
            x, y, z = _dbl(x, y, z, p)
        pts.append((x, y, z))
    for i in range(5):
        q = pts[i]
        pts.append(_dbl(q[0], q[1], q[2], p))
    aff = _batch_affine(pts, p)       # 6 teeth, then 2*B_0 .. 2*B_4
    x, y, z = aff[5][0], aff[5][1], 1
    for i in range(5):
        x, y, z = _madd(x, y, z, aff[i][0], -aff[i][1], p)
    jac = [(x, y, z)]
    h = 0
    for idx in range(1, 32):
        if idx == 2 << h:
            h += 1
        q = jac[idx ^ (1 << h)]       # same signs but -B_h instead of +B_h
        t = aff[6 + h]
        jac.append(_madd(q[0], q[1], q[2], t[0], t[1], p))
    c.comb = _batch_affine(jac, p)
    return c.comb


def mul_base(c, k):
    """k*G in Jacobian coordinates, for 0 <= k < n (fixed-base signed comb)."""
    tab = c.comb or _comb_table(c)
    p = c.p
    s = c.spacing
    k = k + c.n * (1 - (k & 1))       # odd, < 2n
    # every bit recoded to +-1: k = sum (2*b_i - 1) 2^i with m = (k + 2^L - 1)/2
    m = (k + (1 << (6 * s)) - 1) >> 1
    ms = (1 << s) - 1
    c0 = m & ms
    c1 = (m >> s) & ms
    c2 = (m >> (2 * s)) & ms
    c3 = (m >> (3 * s)) & ms
    c4 = (m >> (4 * s)) & ms
    c5 = m >> (5 * s)
    x = y = z = 0
    for j in range(s - 1, -1, -1):
        top = (c5 >> j) & 1
        idx = (((c0 >> j) & 1) | (((c1 >> j) & 1) << 1) | (((c2 >> j) & 1) << 2)
               | (((c3 >> j) & 1) << 3) | (((c4 >> j) & 1) << 4))
        idx ^= 31 * (1 - top)         # top tooth -1: use the negated entry
        t = tab[idx]
        ty = t[1] * (2 * top - 1)
        if j == s - 1:
            x, y, z = t[0], ty % p, 1
        else:
            x, y, z = _dbl(x, y, z, p)
            x, y, z = _madd(x, y, z, t[0], ty, p)
    return x, y, z


def mul_point(c, k, px, py):
    """k*(px, py) in Jacobian coordinates, for 0 <= k < n and a validated
    affine point (width-4 regular signed window)."""
    p = c.p
    k = k + c.n * (1 - (k & 1))       # odd, < 2n
    dx, dy, dz = _dbl(px, py, 1, p)
    dx, dy = _affine(dx, dy, dz, p)   # 2P (never O: the order n is odd)
    jx, jy, jz = px, py, 1
    pts = [(jx, jy, jz)]
    for i in range(7):
        jx, jy, jz = _madd(jx, jy, jz, dx, dy, p)
        pts.append((jx, jy, jz))
    tab = _batch_affine(pts, p)       # P, 3P, ..., 15P
    nd = c.ndig
    dig = bytearray(nd)
    for i in range(nd - 1):
        d = (k & 31) - 16             # odd digit in [-15, 15]; k stays odd
        dig[i] = d + 16
        k = (k - d) >> 4
    t = tab[k >> 1]                   # top digit: odd and positive (1 or 3)
    x, y, z = t[0], t[1], 1
    for i in range(nd - 2, -1, -1):
        x, y, z = _dbl(x, y, z, p)
        x, y, z = _dbl(x, y, z, p)
        x, y, z = _dbl(x, y, z, p)
        x, y, z = _dbl(x, y, z, p)
        d = dig[i] - 16
        sg = d >> 7                   # 0 or -1
        t = tab[((d ^ sg) - sg) >> 1]
        x, y, z = _madd(x, y, z, t[0], t[1] * (1 + 2 * sg), p)
    return x, y, z


# --- point codec (SEC 1 v2 2.3.3, 2.3.4, 3.2.2.1) ---

def decode_point(c, data):
    """(x, y) from an uncompressed point, or None unless it is a valid point of
    the curve: length, 0x04 prefix, 0 <= x, y < p, y^2 = x^3 - 3x + b. The point
    at infinity has no such encoding; the cofactor is 1, so on-curve is enough."""
    size = c.size
    if data is None or len(data) != 1 + 2 * size or data[0] != 4:
        return None
    p = c.p
    x = int.from_bytes(bytes(data[1:1 + size]), 'big')
    y = int.from_bytes(bytes(data[1 + size:]), 'big')
    if x >= p or y >= p:
        return None
    if (y * y - (x * x - 3) * x - c.b) % p != 0:
        return None
    return x, y


def encode_point(c, x, y):
    return b'\x04' + x.to_bytes(c.size, 'big') + y.to_bytes(c.size, 'big')


def _encode_jac(c, q):
    a = _affine(q[0], q[1], q[2], c.p)
    if a is None:
        return None
    return encode_point(c, a[0], a[1])


# --- keys and ECDH ---

def private_from_bytes(c, data):
    """Scalar from a big-endian octet string, or None unless 1 <= d < n."""
    if len(data) != c.size:
        return None
    d = int.from_bytes(bytes(data), 'big')
    if d == 0 or d >= c.n:
        return None
    return d


def keypair(c, rand):
    """(d, public point bytes) with d drawn from rand(n) -> bytes by rejection
    (FIPS 186-4 B.4.2), or None if rand keeps producing out-of-range values."""
    for _ in range(64):
        d = private_from_bytes(c, rand(c.size))
        if d is not None:
            return d, _encode_jac(c, mul_base(c, d))
    return None


def public_from_private(c, d):
    return _encode_jac(c, mul_base(c, d))


def ecdh(c, d, peer):
    """SEC 1 v2 3.3.1 shared secret (the x coordinate, `size` bytes), or None for
    an invalid peer point (3.2.2.1) or an O result."""
    q = decode_point(c, peer)
    if q is None:
        return None
    x, y, z = mul_point(c, d, q[0], q[1])
    a = _affine(x, y, z, c.p)
    if a is None:
        return None
    return a[0].to_bytes(c.size, 'big')


# --- ECDSA ---

def _bits2int(c, h):
    # RFC 6979 2.3.2 / SEC 1 4.1.3 step 5: the leftmost qlen bits of the hash
    e = int.from_bytes(bytes(h), 'big')
    extra = len(h) * 8 - c.qlen
    if extra > 0:
        e >>= extra
    return e


def _rfc6979(c, d, hn, digest):
    # RFC 6979 3.2: the candidate nonces, in order (a generator)
    n = c.n
    size = c.size
    hl = hashes.size(hn)
    xo = d.to_bytes(size, 'big')                            # int2octets(x), 2.3.3
    ho = (_bits2int(c, digest) % n).to_bytes(size, 'big')   # bits2octets(h1), 2.3.4
    v = b'\x01' * hl                              # 3.2 b
    k = bytes(hl)                                 # 3.2 c
    k = hashes.hmac(hn, k, (v, b'\x00', xo, ho))  # 3.2 d
    v = hashes.hmac(hn, k, (v,))                  # 3.2 e
    k = hashes.hmac(hn, k, (v, b'\x01', xo, ho))  # 3.2 f
    v = hashes.hmac(hn, k, (v,))                  # 3.2 g
    while True:                                   # 3.2 h
        t = b''
        while len(t) < size:                      # qlen is a multiple of 8 here
            v = hashes.hmac(hn, k, (v,))
            t += v
        kk = _bits2int(c, t[:size])
        if 0 < kk < n:
            yield kk
        k = hashes.hmac(hn, k, (v, b'\x00'))
        v = hashes.hmac(hn, k, (v,))


def nonce_hash(hash_name):
    """The HMAC hash RFC 6979 runs with: the message hash, or SHA-256 when this
    platform lacks it (still deterministic and secure, not the RFC's exact k)."""
    return hash_name if hashes.ctor(hash_name) is not None else 'sha256'


def rfc6979_nonce(c, d, hash_name, digest):
    """The first RFC 6979 nonce k (exposed for the published test vectors)."""
    for k in _rfc6979(c, d, nonce_hash(hash_name), digest):
        return k


def sign(c, d, hash_name, digest):
    """ECDSA signature (r, s) of a message digest with private scalar d
    (SEC 1 v2 4.1.3), the nonce from RFC 6979 3.2 with HMAC-`hash_name`."""
    n = c.n
    e = _bits2int(c, digest)                      # SEC 1 4.1.3 step 5
    for k in _rfc6979(c, d, nonce_hash(hash_name), digest):
        x, y, z = mul_base(c, k)
        r = _affine(x, y, z, c.p)[0] % n
        s = _inv(k, n) * (e + r * d) % n          # SEC 1 4.1.3 step 6
        if r != 0 and s != 0:
            return r, s


def verify(c, pub, digest, r, s):
    """SEC 1 v2 4.1.4: True iff (r, s) signs `digest` under the encoded public
    point `pub`. False for an invalid point or out-of-range r, s."""
    n = c.n
    if not (0 < r < n and 0 < s < n):
        return False
    q = decode_point(c, pub)
    if q is None:
        return False
    p = c.p
    w = _inv(s, n)
    u1 = _bits2int(c, digest) * w % n
    u2 = r * w % n
    x, y, z = mul_point(c, u2, q[0], q[1])
    a = mul_base(c, u1)
    a = _affine(a[0], a[1], a[2], p)
    if a is not None:
        x, y, z = _madd(x, y, z, a[0], a[1], p)
    a = _affine(x, y, z, p)
    if a is None:
        return False
    return a[0] % n == r
