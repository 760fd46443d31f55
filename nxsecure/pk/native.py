"""P-256 and X25519 arithmetic as native code (viper, compiled by the firmware), with no allocation."""
# nxsecure.pk.ec's P-256 operations and x25519's ladder run here when the firmware has
# MicroPython's native emitter (RP2040 Thumb, ESP32 Xtensa, the unix port's x86);
# without it they stay on Python big ints (ec.py, x25519.py). Why: each big-int
# operation allocates its result (a P-256
# doubling leaves ~2 KB of garbage, a scalar multiplication ~700 KB), and on a board
# with the stack loaded the collections that triggers cost more than the arithmetic:
# measured on the emulated RP2040 (bench/mp_crypto.py p256), one scalar
# multiplication takes 0.71 s with 200 KB free and 2.3 s with 30 KB free. Here a field
# element is 16 little-endian 16-bit limbs in a workspace bytearray (a 16x16-bit
# product fits a machine word), a multiplication is schoolbook into 32 limbs then
# the NIST fast reduction (FIPS 186-4 D.2.3) or, for 2^255 - 19, a fold by 38: ~170 us on
# an RP2040 at 125 MHz, and nothing is allocated between the ints that go in and out.
#
# Field values are kept "lazy": below 2^256 but not necessarily below p; they are
# reduced mod p where they leave (get) and compared to zero mod p where it matters.
# Points are Jacobian (X, Y, Z) in three consecutive slots; the formulas are ec.py's
# (dbl-2001-b for a = -3, the mixed and general additions), the exceptional cases
# (P = O, P = Q, P = -Q) branch exactly as there. The X25519 ladder runs all its steps
# in one call, swapping with a mask. Same timing remarks as ec.py: one operation
# sequence for a secret scalar, not constant time (branches on the exceptional cases,
# and on the carries of the reductions).
from nxsecure.pk import ec

_P = ec.P256.p

# P-256 workspace layout (byte offsets of 32-byte slots)
_T0 = 0          # temporaries T0..T7: 0..255
_PS = 256        # the prime p (for negation)
_R = 288         # accumulator point R (X, Y, Z)
_S = 384         # a point to add (a table entry, maybe negated)
_TAB = 480       # odd multiples Q, 3Q, .., 15Q (8 Jacobian points), then 2Q
_WS = _TAB + 9 * 96


# X25519 workspace: T0..T7, then p, a24, x1, x2, z2, x3, z3 (native_viper's ladder)
_P25519 = (1 << 255) - 19
_WX = 480


def _compile(part, ns):
    """native_viper.<part> compiled into ns (kernel.compile_part); -> ns or None."""
    from nxsecure.crypto.kernel import compile_part
    return ns if compile_part(part, ns, "nxsecure.pk.native_viper") else None


_NS = None      # None: not tried; False: not available
_X = None       # X25519's part of _NS: None not tried, else whether it is there


def available():
    """True when this firmware compiled the P-256 native code and it gives ec.py's
    answers (checked once: a doubling and additions)."""
    global _NS
    if _NS is None:
        _NS = False
        import array
        ns = _compile("SRC", {"_T": array.array("I", bytes(128))})
        if ns is not None and _agrees(ns):
            _NS = ns
            _give(_take(_WS))        # P-256's workspace is made now and kept: a board's
            # heap may later have no 1.3 KB block to spare (X25519's, 480 B, is made at
            # its first use: a P-256-only application never pays for it)
    return bool(_NS)


def x25519_available():
    """True when X25519's native code is compiled and checked (on the first call: its
    code is ~20% of the whole, left out of a P-256-only application's heap)."""
    global _X
    if _X is None:
        _X = available() and _compile("SRC_25519", _NS) is not None and _agrees_25519(_NS)
    return _X


# One kept workspace per size (P-256: _WS, X25519: _WX), lent to one operation at a
# time; an operation that finds it lent (another thread) gets a fresh one.
_SPARE = []


def _take(size):
    for i in range(len(_SPARE)):
        if len(_SPARE[i]) == size:
            return _SPARE.pop(i)
    w = bytearray(size)
    if size == _WS:
        _put(w, _PS, _P)
    else:
        _put(w, 256, _P25519)
    return w


def _give(w):
    for x in _SPARE:
        if len(x) == len(w):
            return
    _SPARE.append(w)


_Z32 = bytes(32)
_Z128 = bytes(128)


def _ws():
    """The P-256 workspace with R = O (Z = 0); hand it back with _give."""
    w = _take(_WS)
    w[_R + 64:_R + 96] = _Z32
    return w


def _put(w, off, v):
    w[off:off + 32] = v.to_bytes(32, "little")


def _get(w, off, p=_P):
    return int.from_bytes(bytes(w[off:off + 32]), "little") % p


def _jac(w, off):
    return _get(w, off), _get(w, off + 32), _get(w, off + 64)


def _odd_multiples(ns, w, qx, qy):
    # Q, 3Q, .., 15Q (Jacobian) at _TAB, 2Q after them
    _put(w, _TAB, qx)
    _put(w, _TAB + 32, qy)
    _put(w, _TAB + 64, 1)
    cp = ns["cp"]
    add = ns["add"]
    d = _TAB + 8 * 96
    cp(w, d, w, _TAB, 96, 0)
    ns["dbl"](w, d)
    for i in range(1, 8):
        o = _TAB + 96 * i
        cp(w, o, w, o - 96, 96, 0)
        add(w, o, d, 0)


def mul_point(k, qx, qy):
    """k*(qx, qy) as Jacobian ints (ec.mul_point's recoding and contract)."""
    ns = _NS
    w = _ws()
    try:
        return _mul_point(ns, w, k, qx, qy)
    finally:
        _give(w)


def _mul_point(ns, w, k, qx, qy):
    _odd_multiples(ns, w, qx, qy)
    c = ec.P256
    dig = ec._regular4(c, k)
    nd = c.ndig
    cp = ns["cp"]
    dbl = ns["dbl"]
    add = ns["add"]
    cp(w, _R, w, _TAB + 96 * ((dig[nd - 1] - 17) >> 1), 96, 0)
    for i in range(nd - 2, -1, -1):
        dbl(w, _R)
        dbl(w, _R)
        dbl(w, _R)
        dbl(w, _R)
        d = dig[i] - 16
        sg = d >> 7
        cp(w, _S, w, _TAB + 96 * (((d ^ sg) - sg) >> 1), 96, sg)
        add(w, _R, _S, 0)
    return _jac(w, _R)


def _comb_step(ns, w, tab, cols, j):
    idx, top = ec._comb_entry(cols[j])
    ns["cp"](w, _S, tab[idx], 0, 64, 1 - top)
    ns["add"](w, _R, _S, 1)


def mul_base(k):
    """k*G as Jacobian ints (ec.mul_base's comb and contract)."""
    ns = _NS
    c = ec.P256
    cols = ec._comb_columns(c, k)
    dbl = ns["dbl"]
    w = _ws()
    try:
        for j in range(c.spacing - 1, -1, -1):
            dbl(w, _R)
            _comb_step(ns, w, c.comb, cols, j)
        return _jac(w, _R)
    finally:
        _give(w)


def shamir(u1, u2, qx, qy):
    """u1*G + u2*Q as Jacobian ints (ec._shamir's method and contract)."""
    w = _ws()
    try:
        return _shamir(_NS, w, u1, u2, qx, qy)
    finally:
        _give(w)


def _shamir(ns, w, u1, u2, qx, qy):
    c = ec.P256
    _odd_multiples(ns, w, qx, qy)
    cols = ec._comb_columns(c, u1)
    naf = ec._naf5(u2, c.size)
    s = c.spacing
    dbl = ns["dbl"]
    add = ns["add"]
    cp = ns["cp"]
    n = len(naf)
    for i in range(max(n, s) - 1, -1, -1):
        dbl(w, _R)
        if i < n:
            d = naf[i] - 16
            if d:
                sg = d >> 7
                cp(w, _S, w, _TAB + 96 * (((d ^ sg) - sg) >> 1), 96, sg)
                add(w, _R, _S, 0)
        if i < s:
            _comb_step(ns, w, c.comb, cols, i)
    return _jac(w, _R)


def _agrees(ns):
    """A doubling of G, then a mixed and a general addition, against ec.py's big-int
    formulas (a start-up check that the compiled code computes what the Python does)."""
    c = ec.P256
    p = c.p
    w = bytearray(_WS)
    _put(w, _PS, p)
    _put(w, _R, c.gx)
    _put(w, _R + 32, c.gy)
    _put(w, _R + 64, 1)
    ns["dbl"](w, _R)
    from nxsecure.pk import ec_jac      # the big-int formulas, dropped again after
    want = ec_jac.dbl(c.gx, c.gy, 1, p)
    got = _jac(w, _R)
    _put(w, _S, c.gx)
    _put(w, _S + 32, p - c.gy)
    ns["add"](w, _R, _S, 1)
    want = ec_jac.madd(want[0], want[1], want[2], c.gx, -c.gy, p)
    _put(w, _S + 64, 5)
    ns["add"](w, _R, _S, 0)
    want = ec_jac.add(want[0], want[1], want[2], c.gx, p - c.gy, 5, p)
    ok = got == ec_jac.dbl(c.gx, c.gy, 1, p) and _jac(w, _R) == want
    from nxsecure.crypto.kernel import forget
    forget(ec_jac)
    return ok


def _agrees_25519(ns):
    """2^255 - 19: a product, a sum past 2^256, a difference below zero, a swap, against
    Python's integers."""
    c = ec.P256
    q = _P25519
    w = bytearray(_WX)
    _put(w, 256, q)
    a = (1 << 256) - 1
    b = c.gx
    _put(w, 0, a)
    _put(w, 32, b)
    ns["gmul"](w, 64, 0, 32)
    ns["fadd"](w, 96, 0, 0)
    ns["fsub"](w, 128, 32, 0)
    ns["cswap"](w, 0, 32, 1)
    return (_get(w, 64, q) == a * b % q and _get(w, 96, q) == 2 * a % q
            and _get(w, 128, q) == (b - a) % q and _get(w, 0, q) == b % q)


def x25519(k, u):
    """X25519(k, u) (RFC 7748 5) with k already clamped and u's top bit masked, both
    32 bytes little-endian: the ladder in one native call, the inversion with pow."""
    q = _P25519
    w = _take(_WX)
    try:
        w[288:320] = _A24
        w[320:352] = u
        w[352:480] = _Z128
        w[352] = 1                                     # x2 = 1, z2 = 0
        w[416:448] = u                                 # x3 = u, z3 = 1
        w[448] = 1
        _NS["ladder"](w, k, 254)
        x2 = _get(w, 352, q)
        z2 = _get(w, 384, q)
    finally:
        _give(w)
    return (x2 * pow(z2, q - 2, q) % q).to_bytes(32, "little")


_A24 = (121665).to_bytes(32, "little")                 # (486662 - 2) / 4, RFC 7748 5
