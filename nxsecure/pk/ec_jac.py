"""P-256 and P-384 group arithmetic on Python big ints (Jacobian coordinates), for
nxsecure.pk.ec: its methods and their costs are described there. Loaded when a curve
has no native code (P-384; P-256 where the firmware compiles no native code, or while
the native code's start-up check compares against it, after which it is dropped)."""
from nxsecure.pk.ec import _comb_columns, _comb_entry, _inv, _naf5, _regular4


def dbl(x, y, z, p):
    # EFD dbl-2001-b for a = -3 (Bernstein-Lange): 3M + 5S; doubles O to O (z3 = 0)
    d = z * z % p
    g = y * y % p
    be = x * g % p
    al = (x - d) * (x + d) * 3 % p
    x3 = (al * al - (be << 3)) % p
    return x3, (al * ((be << 2) - x3) - ((g * g) << 3)) % p, (y * z << 1) % p


def madd(x1, y1, z1, x2, y2, p):
    # Jacobian + affine (SEC 1 2.2.1 in Jacobian form, "mixed addition"): 8M + 3S.
    # y2 may be given negated (-y2) for subtraction. Complete by branching only
    # on the exceptional cases: P1 = O, P1 = P2 (double), P1 = -P2 (gives O).
    if z1 == 0:
        return x2, y2 % p, 1
    zz = z1 * z1 % p
    h = (x2 * zz - x1) % p
    r = (y2 * (zz * z1 % p) - y1) % p
    if h == 0:
        if r == 0:
            return dbl(x1, y1, z1, p)
        return 1, 1, 0
    hh = h * h % p
    hhh = hh * h % p
    v = x1 * hh % p
    x3 = (r * r - hhh - (v << 1)) % p
    return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p


def add(x1, y1, z1, x2, y2, z2, p):
    # Jacobian + Jacobian (for building tables; 12M + 4S), exceptional cases as _madd
    if z2 == 0:
        return x1, y1, z1
    if z1 == 0:
        return x2, y2, z2
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    s1 = y1 * (z2z2 * z2 % p) % p
    h = (x2 * z1z1 - u1) % p
    r = (y2 * (z1z1 * z1 % p) - s1) % p
    if h == 0:
        if r == 0:
            return dbl(x1, y1, z1, p)
        return 1, 1, 0
    hh = h * h % p
    hhh = hh * h % p
    v = u1 * hh % p
    x3 = (r * r - hhh - (v << 1)) % p
    return x3, (r * (v - x3) - s1 * hhh) % p, z1 * z2 % p * h % p



def _batch_affine(pts, p):
    # Montgomery's trick: one inversion for the whole list (no point may be O);
    # returns the flat (x0, y0, x1, y1, ..)
    acc = 1
    pre = []
    for q in pts:
        pre.append(acc)
        acc = acc * q[2] % p
    inv = _inv(acc, p)
    out = [0] * (2 * len(pts))
    for i in range(len(pts) - 1, -1, -1):
        x, y, z = pts[i]
        zi = inv * pre[i] % p
        inv = inv * z % p
        zi2 = zi * zi % p
        out[2 * i] = x * zi2 % p
        out[2 * i + 1] = y * zi2 % p * zi % p
    return out


def _odd_multiples(px, py, p):
    # P, 3P, .., 15P of an affine point of odd order, affine (flat), one inversion
    dx, dy, dz = dbl(px, py, 1, p)
    pts = [(px, py, 1)]
    x, y, z = px, py, 1
    for _ in range(7):
        x, y, z = add(dx, dy, dz, x, y, z, p)
        pts.append((x, y, z))
    return _batch_affine(pts, p)


def comb_table(c):
    # Teeth B_i = 2^(s*i) G, i = 0..5. Entry idx (5 bits) is
    # B_5 + sum_{i<5} e_i B_i with e_i = +1 if bit i of idx is set, else -1.
    p = c.p
    s = c.spacing
    x, y, z = c.gx, c.gy, 1
    pts = [(x, y, z)]
    for i in range(5):
        for _ in range(s):
            x, y, z = dbl(x, y, z, p)
        pts.append((x, y, z))
    for i in range(5):
        q = pts[i]
        pts.append(dbl(q[0], q[1], q[2], p))
    aff = _batch_affine(pts, p)       # 6 teeth, then 2*B_0 .. 2*B_4
    x, y, z = aff[10], aff[11], 1
    for i in range(5):
        x, y, z = madd(x, y, z, aff[2 * i], -aff[2 * i + 1], p)
    jac = [(x, y, z)]
    h = 0
    for idx in range(1, 32):
        if idx == 2 << h:
            h += 1
        q = jac[idx ^ (1 << h)]       # same signs but -B_h instead of +B_h
        jac.append(madd(q[0], q[1], q[2], aff[12 + 2 * h], aff[13 + 2 * h], p))
    aff = _batch_affine(jac, p)
    sz = c.size
    c.comb = tuple(aff[2 * i].to_bytes(sz, "little") + aff[2 * i + 1].to_bytes(sz, "little")
                   for i in range(32))
    return c.comb


def _comb_add(x, y, z, tab, sz, cols, j, p):
    idx, top = _comb_entry(cols[j])
    e = tab[idx]
    return madd(x, y, z, int.from_bytes(e[0:sz], "little"),
                int.from_bytes(e[sz:2 * sz], "little") * (2 * top - 1), p)


def mul_base(c, k):
    """k*G in Jacobian coordinates (ec.mul_base's contract)."""
    tab = c.comb or comb_table(c)
    p = c.p
    cols = _comb_columns(c, k)
    x, y, z = _comb_add(0, 0, 0, tab, c.size, cols, c.spacing - 1, p)
    for j in range(c.spacing - 2, -1, -1):
        x, y, z = dbl(x, y, z, p)
        x, y, z = _comb_add(x, y, z, tab, c.size, cols, j, p)
    return x, y, z


def mul_point(c, k, px, py):
    """k*(px, py) in Jacobian coordinates (ec.mul_point's contract)."""
    p = c.p
    tab = _odd_multiples(px, py, p)   # P, 3P, ..., 15P
    dig = _regular4(c, k)
    nd = c.ndig
    i = dig[nd - 1] - 17              # the top digit (1 or 3): its table entry
    x, y, z = tab[i], tab[i + 1], 1
    for i in range(nd - 2, -1, -1):
        x, y, z = dbl(x, y, z, p)
        x, y, z = dbl(x, y, z, p)
        x, y, z = dbl(x, y, z, p)
        x, y, z = dbl(x, y, z, p)
        d = dig[i] - 16
        sg = d >> 7                   # 0 or -1
        j = ((d ^ sg) - sg) & ~1      # 2 * (|d| >> 1): the entry of |d|
        x, y, z = madd(x, y, z, tab[j], tab[j + 1] * (1 + 2 * sg), p)
    return x, y, z


def shamir(c, u1, u2, qx, qy):
    """u1*G + u2*Q in Jacobian coordinates (ec._shamir's contract)."""
    p = c.p
    s = c.spacing
    tab = c.comb or comb_table(c)
    cols = _comb_columns(c, u1)
    qt = _odd_multiples(qx, qy, p)    # Q, 3Q, .., 15Q
    naf = _naf5(u2, c.size)
    x = y = z = 0
    for i in range(max(len(naf), s) - 1, -1, -1):
        x, y, z = dbl(x, y, z, p)
        if i < len(naf):
            d = naf[i] - 16
            if d > 0:
                x, y, z = madd(x, y, z, qt[d - 1], qt[d], p)
            elif d < 0:
                x, y, z = madd(x, y, z, qt[-d - 1], -qt[-d], p)
        if i < s:
            x, y, z = _comb_add(x, y, z, tab, c.size, cols, i, p)
    return x, y, z
