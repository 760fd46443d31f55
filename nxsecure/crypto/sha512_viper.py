"""Viper source of sha512.py's compression function (compiled by the board, then this module is dropped)."""
# One 64-bit word is two 32-bit halves (hi, lo) in uint32 arrays: the state H (16 words),
# the round constants K (160) and the message schedule W (160). Locals are machine words:
# 32 bits on a 32-bit board, 64 on a 64-bit port, so every result is masked to 32 bits
# before it is shifted right again. A rotation right by n < 32 of (h, l) is
# (h >> n | l << 32-n, l >> n | h << 32-n); by n >= 32 the halves swap first.
# FIPS 180-4 4.1.3 (the functions) and 6.4.2 (the computation).

COMPRESS = """
@micropython.viper
def compress_native(h, kk, ww, blk, off: int):
    H = ptr32(h)
    K = ptr32(kk)
    W = ptr32(ww)
    B = ptr8(uint(ptr8(blk)) + off)
    m = uint(0xFFFFFFFF)
    i = 0
    while i < 32:
        j = i * 4
        W[i] = (uint(B[j]) << 24) | (uint(B[j + 1]) << 16) | (uint(B[j + 2]) << 8) | uint(B[j + 3])
        i += 1
    t = 32
    while t < 160:
        xh = uint(W[t - 30])
        xl = uint(W[t - 29])
        s0h = (((xh >> 1) | (xl << 31)) ^ ((xh >> 8) | (xl << 24)) ^ (xh >> 7)) & m
        s0l = (((xl >> 1) | (xh << 31)) ^ ((xl >> 8) | (xh << 24)) ^ ((xl >> 7) | (xh << 25))) & m
        xh = uint(W[t - 4])
        xl = uint(W[t - 3])
        s1h = (((xh >> 19) | (xl << 13)) ^ ((xl >> 29) | (xh << 3)) ^ (xh >> 6)) & m
        s1l = (((xl >> 19) | (xh << 13)) ^ ((xh >> 29) | (xl << 3)) ^ ((xl >> 6) | (xh << 26))) & m
        yl = uint(W[t - 31])
        rl = (yl + s0l) & m
        rh = uint(W[t - 32]) + s0h
        if rl < yl:
            rh += 1
        yl = rl
        rl = (rl + uint(W[t - 13])) & m
        rh += uint(W[t - 14])
        if rl < yl:
            rh += 1
        yl = rl
        rl = (rl + s1l) & m
        rh += s1h
        if rl < yl:
            rh += 1
        W[t] = rh & m
        W[t + 1] = rl
        t += 2
    ah = uint(H[0])
    al = uint(H[1])
    bh = uint(H[2])
    bl = uint(H[3])
    ch = uint(H[4])
    cl = uint(H[5])
    dh = uint(H[6])
    dl = uint(H[7])
    eh = uint(H[8])
    el = uint(H[9])
    fh = uint(H[10])
    fl = uint(H[11])
    gh = uint(H[12])
    gl = uint(H[13])
    hh = uint(H[14])
    hl = uint(H[15])
    t = 0
    while t < 160:
        # t1 = h + S1(e) + Ch(e, f, g) + K[t] + W[t]
        s1h = (((eh >> 14) | (el << 18)) ^ ((eh >> 18) | (el << 14)) ^ ((el >> 9) | (eh << 23))) & m
        s1l = (((el >> 14) | (eh << 18)) ^ ((el >> 18) | (eh << 14)) ^ ((eh >> 9) | (el << 23))) & m
        xh = gh ^ (eh & (fh ^ gh))
        xl = gl ^ (el & (fl ^ gl))
        yl = (hl + s1l) & m
        yh = hh + s1h
        if yl < hl:
            yh += 1
        zl = (yl + xl) & m
        yh += xh
        if zl < yl:
            yh += 1
        yl = (zl + uint(K[t + 1])) & m
        yh += uint(K[t])
        if yl < zl:
            yh += 1
        t1l = (yl + uint(W[t + 1])) & m
        t1h = yh + uint(W[t])
        if t1l < yl:
            t1h += 1
        t1h &= m
        # t2 = S0(a) + Maj(a, b, c)
        s0h = (((ah >> 28) | (al << 4)) ^ ((al >> 2) | (ah << 30)) ^ ((al >> 7) | (ah << 25))) & m
        s0l = (((al >> 28) | (ah << 4)) ^ ((ah >> 2) | (al << 30)) ^ ((ah >> 7) | (al << 25))) & m
        xh = (ah & bh) | (ch & (ah | bh))
        xl = (al & bl) | (cl & (al | bl))
        t2l = (s0l + xl) & m
        t2h = s0h + xh
        if t2l < s0l:
            t2h += 1
        hh = gh
        hl = gl
        gh = fh
        gl = fl
        fh = eh
        fl = el
        el = (dl + t1l) & m
        eh = dh + t1h
        if el < dl:
            eh += 1
        eh &= m
        dh = ch
        dl = cl
        ch = bh
        cl = bl
        bh = ah
        bl = al
        al = (t1l + t2l) & m
        ah = t1h + t2h
        if al < t1l:
            ah += 1
        ah &= m
        t += 2
    xl = uint(H[1])
    yl = (xl + al) & m
    H[1] = yl
    yh = uint(H[0]) + ah
    if yl < xl:
        yh += 1
    H[0] = yh & m
    xl = uint(H[3])
    yl = (xl + bl) & m
    H[3] = yl
    yh = uint(H[2]) + bh
    if yl < xl:
        yh += 1
    H[2] = yh & m
    xl = uint(H[5])
    yl = (xl + cl) & m
    H[5] = yl
    yh = uint(H[4]) + ch
    if yl < xl:
        yh += 1
    H[4] = yh & m
    xl = uint(H[7])
    yl = (xl + dl) & m
    H[7] = yl
    yh = uint(H[6]) + dh
    if yl < xl:
        yh += 1
    H[6] = yh & m
    xl = uint(H[9])
    yl = (xl + el) & m
    H[9] = yl
    yh = uint(H[8]) + eh
    if yl < xl:
        yh += 1
    H[8] = yh & m
    xl = uint(H[11])
    yl = (xl + fl) & m
    H[11] = yl
    yh = uint(H[10]) + fh
    if yl < xl:
        yh += 1
    H[10] = yh & m
    xl = uint(H[13])
    yl = (xl + gl) & m
    H[13] = yl
    yh = uint(H[12]) + gh
    if yl < xl:
        yh += 1
    H[12] = yh & m
    xl = uint(H[15])
    yl = (xl + hl) & m
    H[15] = yl
    yh = uint(H[14]) + hh
    if yl < xl:
        yh += 1
    H[14] = yh & m
"""
