"""Viper source of p256_native's field and point arithmetic (compiled by the board, then dropped)."""
# Field elements: 16 little-endian 16-bit limbs in a workspace bytearray w, addressed by
# byte offset (a "slot" is 32 bytes); T0..T7 are the slots at 0..224, p is at 256
# (p256_native lays the workspace out). fmul/fadd/fsub give values below 2^256 that
# may be >= p ("lazy"); fzero tests for 0 mod p. No bounds checks: p256_native passes
# only its own offsets into its own workspace.
# One string per function (compiled in turn): loading the module or compiling never
# needs one large free block, which a board's fragmented heap may not have.
SRC = (
    """
@micropython.viper
def fmul(w, r: int, a: int, b: int):
    # schoolbook into 32 limbs (as words at _T), eight products per step, then _red
    base = uint(ptr16(w))
    x = ptr16(base + a)
    yb = base + b
    tt = ptr32(_T)
    i = 0
    while i < 32:
        tt[i] = 0
        i += 1
    tb = uint(tt)
    i = 0
    while i < 16:
        xi = uint(x[i])
        c = uint(0)
        j = 0
        while j < 16:
            yq = ptr16(yb + 2 * j)
            tq = ptr32(tb + 4 * (i + j))
            v = xi * uint(yq[0]) + uint(tq[0]) + c
            tq[0] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[1]) + uint(tq[1]) + c
            tq[1] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[2]) + uint(tq[2]) + c
            tq[2] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[3]) + uint(tq[3]) + c
            tq[3] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[4]) + uint(tq[4]) + c
            tq[4] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[5]) + uint(tq[5]) + c
            tq[5] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[6]) + uint(tq[6]) + c
            tq[6] = v & 0xFFFF
            c = v >> 16
            v = xi * uint(yq[7]) + uint(tq[7]) + c
            tq[7] = v & 0xFFFF
            c = v >> 16
            j += 8
        tt[i + 16] = c
        i += 1
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
    _red2(w, r, cr)
""",
    """
@micropython.viper
def _red2(w, r: int, cr: int):
    # limbs 8..15 of _red, then the carry folded back in
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
    while cr != 0:       # cr * 2^256 = cr * (2^224 - 2^192 - 2^96 + 1) mod p
        d = cr
        e = int(o[0]) + cr
        o[0] = e & 0xFFFF
        cr = e >> 16
        k = 1
        while k < 16:
            e = int(o[k]) + cr
            if k == 6 or k == 12:
                e -= d
            elif k == 14:
                e += d
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
    if c:               # at or past 2^256: minus p (the carry out cancels 2^256)
        q = ptr16(base + 256)
        c = 0
        k = 0
        while k < 16:
            v = int(o[k]) - int(q[k]) + c
            o[k] = v & 0xFFFF
            c = v >> 16
            k += 1
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
    while c:            # below zero: plus p (twice at most: 2p > 2^256)
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
    # n bytes of src from s to w at d; with neg, then Y <- p - Y (the second slot)
    o = ptr8(uint(ptr8(w)) + d)
    x = ptr8(uint(ptr8(src)) + s)
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


