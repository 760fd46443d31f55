"""Viper source of native.py's field and point arithmetic (compiled by the board, then dropped)."""
# Field elements: 16 little-endian 16-bit limbs in a workspace bytearray w, addressed by
# byte offset (a "slot" is 32 bytes); T0..T7 are the slots at 0..224 and the field's
# prime is at 256 (native.py lays the workspaces out). fmul (P-256) and gmul
# (2^255 - 19) share the product; fmul/gmul/fadd/fsub give values below 2^256 that may
# be >= p ("lazy"); fzero tests for 0 mod p. No bounds checks: native.py passes only its
# own offsets into its own workspaces. One string per function: loading the module or
# compiling it never needs a large free block.

SRC = (
    """
@micropython.viper
def _prod(w, a: int, b: int):
    # the 512-bit product into 32 limbs (as words at _T): schoolbook, one row of
    # sixteen products per step, indices constant within the row
    base = uint(ptr16(w))
    x = ptr16(base + a)
    y = ptr16(base + b)
    tt = ptr32(_T)
    i = 0
    while i < 32:
        tt[i] = 0
        i += 1
    tb = uint(tt)
    i = 0
    while i < 16:
        xi = uint(x[i])
        tq = ptr32(tb + 4 * i)
        c = uint(0)
        v = xi * uint(y[0]) + uint(tq[0]) + c
        tq[0] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[1]) + uint(tq[1]) + c
        tq[1] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[2]) + uint(tq[2]) + c
        tq[2] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[3]) + uint(tq[3]) + c
        tq[3] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[4]) + uint(tq[4]) + c
        tq[4] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[5]) + uint(tq[5]) + c
        tq[5] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[6]) + uint(tq[6]) + c
        tq[6] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[7]) + uint(tq[7]) + c
        tq[7] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[8]) + uint(tq[8]) + c
        tq[8] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[9]) + uint(tq[9]) + c
        tq[9] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[10]) + uint(tq[10]) + c
        tq[10] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[11]) + uint(tq[11]) + c
        tq[11] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[12]) + uint(tq[12]) + c
        tq[12] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[13]) + uint(tq[13]) + c
        tq[13] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[14]) + uint(tq[14]) + c
        tq[14] = v & 0xFFFF
        c = v >> 16
        v = xi * uint(y[15]) + uint(tq[15]) + c
        tq[15] = v & 0xFFFF
        c = v >> 16
        tq[16] = c
        i += 1
""",
    """
@micropython.viper
def fmul(w, r: int, a: int, b: int):
    # r = a b mod the P-256 prime
    _prod(w, a, b)
    _red(w, r)
""",
    """
@micropython.viper
def _red(w, r: int):
    # FIPS 186-4 D.2.3 on the 32-bit words c0..c15 of the product at _T (two
    # limbs each): s1 + 2 s2 + 2 s3 + s4 + s5 - s6 - s7 - s8 - s9, limb by limb
    # with a signed carry; hK is limb K of the upper half (words c8..c15)
    t = ptr32(_T)
    o = ptr16(uint(ptr16(w)) + r)
    h16 = int(t[16])
    h17 = int(t[17])
    h18 = int(t[18])
    h19 = int(t[19])
    h20 = int(t[20])
    h21 = int(t[21])
    h22 = int(t[22])
    h23 = int(t[23])
    h24 = int(t[24])
    h25 = int(t[25])
    h26 = int(t[26])
    h27 = int(t[27])
    h28 = int(t[28])
    h29 = int(t[29])
    h30 = int(t[30])
    h31 = int(t[31])
    cr = 0
    e = cr + int(t[0]) + h16 + h18 - h22 - h24 - h26 - h28
    o[0] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[1]) + h17 + h19 - h23 - h25 - h27 - h29
    o[1] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[2]) + h18 + h20 - h24 - h26 - h28 - h30
    o[2] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[3]) + h19 + h21 - h25 - h27 - h29 - h31
    o[3] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[4]) + h20 + h22 - h26 - h28 - h30
    o[4] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[5]) + h21 + h23 - h27 - h29 - h31
    o[5] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[6]) + 2 * h22 + 2 * h24 + h26 - h30 - h16 - h18
    o[6] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[7]) + 2 * h23 + 2 * h25 + h27 - h31 - h17 - h19
    o[7] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[8]) + 2 * h24 + 2 * h26 + h28 - h18 - h20
    o[8] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[9]) + 2 * h25 + 2 * h27 + h29 - h19 - h21
    o[9] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[10]) + 2 * h26 + 2 * h28 + h30 - h20 - h22
    o[10] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[11]) + 2 * h27 + 2 * h29 + h31 - h21 - h23
    o[11] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[12]) + 3 * h28 + 2 * h30 + h26 - h16 - h18
    o[12] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[13]) + 3 * h29 + 2 * h31 + h27 - h17 - h19
    o[13] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[14]) + 3 * h30 + h16 - h20 - h22 - h24 - h26
    o[14] = e & 0xFFFF
    cr = e >> 16
    e = cr + int(t[15]) + 3 * h31 + h17 - h21 - h23 - h25 - h27
    o[15] = e & 0xFFFF
    cr = e >> 16
    while cr != 0:      # cr 2^256 = cr (2^224 - 2^192 - 2^96 + 1) mod p, at limbs 0, 6, 12, 14
        d = cr
        cr = 0
        k = 0
        while k < 16:
            if k == 0 or k == 14:
                cr += d
            elif k == 6 or k == 12:
                cr -= d
            if cr == 0:         # nothing to carry: on to the next limb that changes
                if k < 6:
                    k = 6
                elif k < 12:
                    k = 12
                elif k < 14:
                    k = 14
                else:
                    break
                continue
            e = int(o[k]) + cr
            o[k] = e & 0xFFFF
            cr = e >> 16
            k += 1
""",
    """
@micropython.viper
def fadd(w, r: int, a: int, b: int):
    base = uint(ptr16(w))
    x = ptr16(base + a)
    y = ptr16(base + b)
    o = ptr16(base + r)
    c = 0
    k = 0
    while k < 16:
        v = int(x[k]) + int(y[k]) + c
        o[k] = v & 0xFFFF
        c = v >> 16
        k += 1
    q = ptr16(base + 256)
    while c:            # at or past 2^256: minus p until below (once for P-256)
        d = 0
        k = 0
        while k < 16:
            v = int(o[k]) - int(q[k]) + d
            o[k] = v & 0xFFFF
            d = v >> 16
            k += 1
        c = c + d       # the borrow out of 2^256 pays the carry back
""",
    """
@micropython.viper
def fsub(w, r: int, a: int, b: int):
    base = uint(ptr16(w))
    x = ptr16(base + a)
    y = ptr16(base + b)
    o = ptr16(base + r)
    q = ptr16(base + 256)
    c = 0
    k = 0
    while k < 16:
        v = int(x[k]) - int(y[k]) + c
        o[k] = v & 0xFFFF
        c = v >> 16
        k += 1
    while c:            # below zero: plus p until not (P-256: twice at most)
        c = 0
        k = 0
        while k < 16:
            v = int(o[k]) + int(q[k]) + c
            o[k] = v & 0xFFFF
            c = v >> 16
            k += 1
        c = c - 1       # the carry out of 2^256 pays the borrow back
""",
    """
@micropython.viper
def fzero(w, a: int) -> int:
    # 1 when the lazy value at a is 0 mod p, i.e. 0 or p
    base = uint(ptr16(w))
    x = ptr16(base + a)
    q = ptr16(base + 256)
    z = 0
    e = 0
    k = 0
    while k < 16:
        z |= int(x[k])
        e |= int(x[k]) ^ int(q[k])
        k += 1
    return 1 if z == 0 or e == 0 else 0
""",
    """
@micropython.viper
def cp(w, d: int, src, s: int, n: int, neg: int):
    # n bytes of src from s to w at d (words when all are 4-aligned); with neg, then
    # Y <- p - Y (the second slot)
    da = uint(ptr8(w)) + d
    sa = uint(ptr8(src)) + s
    if ((da | sa | uint(n)) & uint(3)) == uint(0):
        o32 = ptr32(da)
        x32 = ptr32(sa)
        i = 0
        while i < n >> 2:
            o32[i] = x32[i]
            i += 1
    else:
        o = ptr8(da)
        x = ptr8(sa)
        i = 0
        while i < n:
            o[i] = x[i]
            i += 1
    if neg:
        fsub(w, d + 32, 256, d + 32)
""",
    """
@micropython.viper
def dbl(w, P: int):
    X = P
    Y = P + 32
    Z = P + 64
    fmul(w, 0, Z, Z)            # d = Z^2
    fmul(w, 32, Y, Y)           # g = Y^2
    fmul(w, 64, X, 32)          # be = X g
    fsub(w, 96, X, 0)
    fadd(w, 128, X, 0)
    fmul(w, 96, 96, 128)        # (X - d)(X + d)
    fadd(w, 128, 96, 96)
    fadd(w, 96, 96, 128)        # al = 3 (X - d)(X + d)
    fmul(w, Z, Y, Z)
    fadd(w, Z, Z, Z)            # Z3 = 2 Y Z
    fadd(w, 64, 64, 64)
    fadd(w, 64, 64, 64)         # 4 be
    fmul(w, X, 96, 96)
    fsub(w, X, X, 64)
    fsub(w, X, X, 64)           # X3 = al^2 - 8 be
    fsub(w, 64, 64, X)
    fmul(w, 64, 96, 64)         # al (4 be - X3)
    fmul(w, 32, 32, 32)
    fadd(w, 32, 32, 32)
    fadd(w, 32, 32, 32)
    fadd(w, 32, 32, 32)         # 8 g^2
    fsub(w, Y, 64, 32)          # Y3
""",
    """
@micropython.viper
def add(w, P: int, Q: int, aff: int):
    # P += Q (Q affine when aff: its Z is 1 and not read); never Q = O
    X1 = P
    Y1 = P + 32
    Z1 = P + 64
    if fzero(w, Z1):
        cp(w, P, w, Q, 96 - 32 * aff, 0)
        if aff:
            o = ptr16(uint(ptr16(w)) + Z1)
            o[0] = 1
            k = 1
            while k < 16:
                o[k] = 0
                k += 1
        return
    fmul(w, 0, Z1, Z1)          # z1z1
    if aff:
        U1 = X1
        S1 = Y1
    else:
        U1 = 160
        S1 = 192
        fmul(w, 32, Q + 64, Q + 64)     # z2z2
        fmul(w, U1, X1, 32)             # u1 = X1 z2z2
        fmul(w, 32, 32, Q + 64)
        fmul(w, S1, Y1, 32)             # s1 = Y1 z2^3
    fmul(w, 64, Q, 0)
    fsub(w, 64, 64, U1)         # h = X2 z1z1 - u1
    fmul(w, 96, 0, Z1)
    fmul(w, 96, Q + 32, 96)
    fsub(w, 96, 96, S1)         # r = Y2 z1^3 - s1
    if fzero(w, 64):
        if fzero(w, 96):
            dbl(w, P)
        else:
            o = ptr16(uint(ptr16(w)) + Z1)
            k = 0
            while k < 16:
                o[k] = 0
                k += 1
        return
    fmul(w, 128, 64, 64)        # hh
    fmul(w, 224, 128, 64)       # hhh
    fmul(w, 128, U1, 128)       # v = u1 hh
    fmul(w, 32, 96, 96)
    fsub(w, 32, 32, 224)
    fsub(w, 32, 32, 128)
    fsub(w, 32, 32, 128)        # X3 = r^2 - hhh - 2 v
    fsub(w, 128, 128, 32)
    fmul(w, 128, 96, 128)       # r (v - X3)
    fmul(w, 224, S1, 224)       # s1 hhh
    if not aff:
        fmul(w, Z1, Z1, Q + 64)
    fmul(w, Z1, Z1, 64)         # Z3 = Z1 (Z2) h
    fsub(w, Y1, 128, 224)       # Y3
    cp(w, X1, w, 32, 32, 0)
""",
)

# X25519 only (2^255 - 19: its product, the constant-time swap, the ladder): compiled
# on the first X25519 operation, so a P-256-only application never carries its code
SRC_25519 = (
    """
@micropython.viper
def gmul(w, r: int, a: int, b: int):
    # r = a b mod 2^255 - 19: the upper 256 bits times 38 (2^256 = 2 * 19 mod p)
    # added to the lower, the carry folded the same way (RFC 7748 5)
    _prod(w, a, b)
    t = ptr32(_T)
    o = ptr16(uint(ptr16(w)) + r)
    c = 0
    k = 0
    while k < 16:
        e = int(t[k]) + 38 * int(t[k + 16]) + c
        o[k] = e & 0xFFFF
        c = e >> 16
        k += 1
    while c != 0:
        e = int(o[0]) + 38 * c
        o[0] = e & 0xFFFF
        c = e >> 16
        k = 1
        while k < 16 and c != 0:
            e = int(o[k]) + c
            o[k] = e & 0xFFFF
            c = e >> 16
            k += 1
""",
    """
@micropython.viper
def cswap(w, a: int, b: int, s: int):
    # swap the slots a and b when s is 1, keep them when 0: the same operations either
    # way (a mask, no branch on s; RFC 7748 5 cswap)
    base = uint(ptr16(w))
    x = ptr16(base + a)
    y = ptr16(base + b)
    m = (0 - s) & 0xFFFF
    k = 0
    while k < 16:
        d = (int(x[k]) ^ int(y[k])) & m
        x[k] = int(x[k]) ^ d
        y[k] = int(y[k]) ^ d
        k += 1
""",
    """
@micropython.viper
def ladder(w, k, top: int):
    # RFC 7748 5 Montgomery ladder over the bits top..0 of the scalar k (32 bytes,
    # little-endian); slots: x1 320, x2 352, z2 384, x3 416, z3 448, a24 288, p 256
    kp = ptr8(k)
    swap = 0
    t = top
    while t >= 0:
        kt = (int(kp[t >> 3]) >> (t & 7)) & 1
        swap ^= kt
        cswap(w, 352, 416, swap)
        cswap(w, 384, 448, swap)
        swap = kt
        fadd(w, 0, 352, 384)        # A = x2 + z2
        gmul(w, 32, 0, 0)           # AA
        fsub(w, 64, 352, 384)       # B = x2 - z2
        gmul(w, 96, 64, 64)         # BB
        fsub(w, 128, 32, 96)        # E = AA - BB
        fadd(w, 160, 416, 448)      # C = x3 + z3
        fsub(w, 192, 416, 448)      # D = x3 - z3
        gmul(w, 192, 192, 0)        # DA
        gmul(w, 160, 160, 64)       # CB
        fadd(w, 416, 192, 160)
        gmul(w, 416, 416, 416)      # x3 = (DA + CB)^2
        fsub(w, 448, 192, 160)
        gmul(w, 448, 448, 448)
        gmul(w, 448, 448, 320)      # z3 = x1 (DA - CB)^2
        gmul(w, 352, 32, 96)        # x2 = AA BB
        gmul(w, 384, 128, 288)
        fadd(w, 384, 384, 32)
        gmul(w, 384, 384, 128)      # z2 = E (AA + a24 E)
        t -= 1
    cswap(w, 352, 416, swap)
    cswap(w, 384, 448, swap)
""",
)
