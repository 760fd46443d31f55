"""Viper source of kernel.py's native kernels (compiled by the board, then this module is dropped)."""
# MicroPython's viper: ptr8/ptr32(x) is the address of x's buffer (or an integer address)
# and indexing it is a raw access; locals are machine words (uint: unsigned, so >> is
# logical). Data loops are not unrolled: on an RP2040 an unrolled loop saves ~3 us per
# 100 bytes and costs ~0.1 KB of machine code in the heap. kernel.py documents each function; gcm.py holds the Python twins of GCM's.
# No bounds checks here: the modes check every caller-supplied span before a call. One
# string per function: loading this module or compiling never needs a large free block.
# Not every kernel has a viper twin: where the record's other work dwarfs the Python one
# (rec_head: a CBC record's MAC header, next to its HMAC) machine code would cost the
# board more heap (~0.4 KB a function) than it saves time; kernel.native() takes the
# Python one. The sources are indented with tabs: a string goes into the .mpy as
# written, and a tab is one byte where four spaces are four (~2 KB of every profile).

CORE = (
    """
@micropython.viper
def copy(dst, do: int, src, so: int, n: int):
	d = ptr8(uint(ptr8(dst)) + do)
	s = ptr8(uint(ptr8(src)) + so)
	i = 0
	while i < n:
		d[i] = s[i]
		i += 1
""",
    """
@micropython.viper
def zero(dst, do: int, n: int):
	d = ptr8(uint(ptr8(dst)) + do)
	i = 0
	while i < n:
		d[i] = 0
		i += 1
""",
    """
@micropython.viper
def xor(dst, do: int, src, so: int, n: int):
	d = ptr8(uint(ptr8(dst)) + do)
	s = ptr8(uint(ptr8(src)) + so)
	i = 0
	while i < n:
		d[i] ^= s[i]
		i += 1
""",
    """
@micropython.viper
def ctr(w, nb: int, flags: int, nonce, nl: int, L: int, c: int):
	d = ptr8(w)
	t = ptr8(nonce)
	p = 0
	if flags >= 0:
		d[0] = flags
		p = 1
	i = 0
	while i < nl:
		d[p + i] = t[i]
		i += 1
	j = 0
	while j < nb:
		q = 16 * j
		if j:                   # blocks after the first: its bytes, then the counter
			i = 0
			while i < 16:
				d[q + i] = d[i]
				i += 1
		v = c + j
		i = q + 15
		while i >= q + p + nl:
			d[i] = v & 0xFF
			v = v >> 8
			i -= 1
		j += 1
""",
    """
@micropython.viper
def ccm_b0(w, h, flags: int, nonce, nl: int, L: int, mlen: int, aad, la: int, buf,
		   off: int, m: int, ks, ko: int, nc: int) -> int:
	if ko >= 0:
		xor(buf, off, ks, ko, m)
	elif nc:
		ctr(ks, nc, L - 1, nonce, nl, L, 0)
	d = ptr8(w)
	hp = ptr8(h)
	t = ptr8(nonce)
	d[0] = flags
	i = 0
	while i < nl:
		d[1 + i] = t[i]
		i += 1
	i = 15
	while i > nl:
		d[i] = mlen & 0xFF
		mlen = mlen >> 8
		i -= 1
	i = 0
	while i < 16:
		d[i] ^= hp[i]
		i += 1
	q = 16
	if la:
		d[16] = la >> 8
		d[17] = la & 0xFF
		a = ptr8(aad)
		i = 0
		while i < la:
			d[18 + i] = a[i]
			i += 1
		q = 18 + la
		while q & 15:
			d[q] = 0
			q += 1
	s = ptr8(uint(ptr8(buf)) + off)
	e = ptr8(uint(d) + q)
	i = 0
	while i < m:
		e[i] = s[i]
		i += 1
	q += m
	while q & 15:
		d[q] = 0
		q += 1
	return q
""",
    """
@micropython.viper
def seal_out(h, w, wo: int, s, buf, off: int, n: int, m: int, M: int):
	hp = ptr8(h)
	x = ptr8(uint(ptr8(w)) + wo)
	sp = ptr8(s)
	o = ptr8(uint(ptr8(buf)) + off + n)
	i = 0
	while i < 16:
		hp[i] = x[i]
		i += 1
	i = 0
	while i < M:
		o[i] = hp[i] ^ sp[i]
		i += 1
	xor(buf, off, s, 16, m)
""",
    """
@micropython.viper
def mac_check(h, w, wo: int, s, buf, at: int, M: int) -> int:
	hp = ptr8(h)
	x = ptr8(uint(ptr8(w)) + wo)
	sp = ptr8(s)
	o = ptr8(uint(ptr8(buf)) + at)
	i = 0
	while i < 16:
		hp[i] = x[i]
		i += 1
	d = 0
	i = 0
	while i < M:
		d |= hp[i] ^ sp[i] ^ o[i]
		i += 1
	return d
""",
    """
@micropython.viper
def aead_out(buf, off: int, ctype: int, wire: int, shi: int, slo: int, n: int, total: int,
			 nonce, aad):
	b = ptr8(uint(ptr8(buf)) + off)
	nc = ptr8(nonce)
	a = ptr8(aad)
	b[0] = ctype
	b[1] = 0xFE
	b[2] = 0xFD
	b[3] = wire >> 8
	b[4] = wire
	b[5] = shi >> 16
	b[6] = shi >> 8
	b[7] = shi
	b[8] = slo >> 16
	b[9] = slo >> 8
	b[10] = slo
	b[11] = total >> 8
	b[12] = total
	i = 0
	while i < 8:
		v = b[3 + i]
		b[13 + i] = v
		nc[4 + i] = v
		a[i] = v
		i += 1
	a[8] = ctype
	a[9] = 0xFE
	a[10] = 0xFD
	a[11] = n >> 8
	a[12] = n
""",
    """
@micropython.viper
def aead_in(buf, off: int, n: int, nonce, aad):
	b = ptr8(uint(ptr8(buf)) + off)
	nc = ptr8(nonce)
	a = ptr8(aad)
	i = 0
	while i < 8:
		nc[4 + i] = b[13 + i]
		a[i] = b[3 + i]
		i += 1
	a[8] = b[0]
	a[9] = b[1]
	a[10] = b[2]
	a[11] = n >> 8
	a[12] = n
""",
)

# GCM: GHASH over a table that ghash_prep turns into native 32-bit words (T must be
# 4-byte aligned; gcm.GCM places it by misalign), _RH/_RL and _ZERO16 from gcm.py.
GCM = (
    """
@micropython.viper
def xor3(dst, do: int, a, ao: int, b, bo: int, n: int):
	d = ptr8(uint(ptr8(dst)) + do)
	x = ptr8(uint(ptr8(a)) + ao)
	y = ptr8(uint(ptr8(b)) + bo)
	i = 0
	while i < n:
		d[i] = x[i] ^ y[i]
		i += 1
""",
    """
@micropython.viper
def diff(a, ao: int, b, bo: int, c, co: int, n: int) -> int:
	x = ptr8(uint(ptr8(a)) + ao)
	y = ptr8(uint(ptr8(b)) + bo)
	u = ptr8(uint(ptr8(c)) + co)
	d = 0
	i = 0
	while i < n:
		d |= x[i] ^ y[i] ^ u[i]
		i += 1
	return d
""",
    """
@micropython.viper
def misalign(b) -> int:
	return int(uint(ptr8(b)) & uint(3))
""",
    """
@micropython.viper
def ghash_prep(T):
	t = ptr8(T)
	w = ptr32(T)
	i = 0
	while i < 128:
		p = 4 * i
		w[i] = (t[p] << 24) | (t[p + 1] << 16) | (t[p + 2] << 8) | t[p + 3]
		i += 1
""",
    """
@micropython.viper
def _blocks(T, z, src, so: int, n: int):
	t = ptr32(T)
	zp = ptr8(z)
	s = ptr8(uint(ptr8(src)) + so)
	rh = ptr8(_RH)
	rl = ptr8(_RL)
	x0 = uint((zp[0] << 24) | (zp[1] << 16) | (zp[2] << 8) | zp[3])
	x1 = uint((zp[4] << 24) | (zp[5] << 16) | (zp[6] << 8) | zp[7])
	x2 = uint((zp[8] << 24) | (zp[9] << 16) | (zp[10] << 8) | zp[11])
	x3 = uint((zp[12] << 24) | (zp[13] << 16) | (zp[14] << 8) | zp[15])
	p = 0
	while p < n:
		if n - p >= 16:
			x0 ^= uint((s[p] << 24) | (s[p + 1] << 16) | (s[p + 2] << 8) | s[p + 3])
			x1 ^= uint((s[p + 4] << 24) | (s[p + 5] << 16) | (s[p + 6] << 8) | s[p + 7])
			x2 ^= uint((s[p + 8] << 24) | (s[p + 9] << 16) | (s[p + 10] << 8) | s[p + 11])
			x3 ^= uint((s[p + 12] << 24) | (s[p + 13] << 16) | (s[p + 14] << 8) | s[p + 15])
		else:
			i = 0
			while i < n - p:
				v = uint(s[p + i]) << (24 - 8 * (i & 3))
				if i < 4:
					x0 ^= v
				elif i < 8:
					x1 ^= v
				elif i < 12:
					x2 ^= v
				else:
					x3 ^= v
				i += 1
		a0 = uint(0)
		a1 = uint(0)
		a2 = uint(0)
		a3 = uint(0)
		w = x3
		k = 0
		while k < 16:
			if k == 4:
				w = x2
			elif k == 8:
				w = x1
			elif k == 12:
				w = x0
			b = w & 0xFF
			w = w >> 8
			r = a3 & 0xFF
			a3 = ((a3 >> 8) | (a2 << 24)) & uint(0xFFFFFFFF)
			a2 = ((a2 >> 8) | (a1 << 24)) & uint(0xFFFFFFFF)
			a1 = ((a1 >> 8) | (a0 << 24)) & uint(0xFFFFFFFF)
			a0 = (a0 >> 8) ^ (uint(rh[r]) << 24) ^ (uint(rl[r]) << 16)
			h = 64 + ((b >> 4) << 2)
			l = (b & 15) << 2
			a0 ^= t[h] ^ t[l]
			a1 ^= t[h + 1] ^ t[l + 1]
			a2 ^= t[h + 2] ^ t[l + 2]
			a3 ^= t[h + 3] ^ t[l + 3]
			k += 1
		x0 = a0 & uint(0xFFFFFFFF)
		x1 = a1 & uint(0xFFFFFFFF)
		x2 = a2 & uint(0xFFFFFFFF)
		x3 = a3 & uint(0xFFFFFFFF)
		p += 16
	i = 0
	while i < 4:
		sh = 24 - 8 * i
		zp[i] = (x0 >> sh) & 0xFF
		zp[4 + i] = (x1 >> sh) & 0xFF
		zp[8 + i] = (x2 >> sh) & 0xFF
		zp[12 + i] = (x3 >> sh) & 0xFF
		i += 1

ghash = _blocks
""",
    """
@micropython.viper
def gcm_mac(T, z, aad, la: int, buf, off: int, n: int):
	zp = ptr8(z)
	i = 0
	while i < 16:
		zp[i] = 0
		i += 1
	_blocks(T, z, aad, 0, la)
	_blocks(T, z, buf, off, n)
	la = la << 3
	n = n << 3
	i = 7
	while i >= 0:
		zp[i] ^= la & 0xFF
		zp[8 + i] ^= n & 0xFF
		la = la >> 8
		n = n >> 8
		i -= 1
	_blocks(T, z, _ZERO16, 0, 16)
""",
)


# kernel.native()'s start-up check, here so that its code is dropped with the sources
def agrees(a, b):
    """Run both kernel sets on the same odd-sized, offset inputs; True when every
    result is equal (a start-up check that the compiled code does what the Python does;
    the GCM functions are checked by gcm.GCM's first key setup against the Python ones)."""
    src = bytes((i * 37 + 11) & 0xFF for i in range(96))
    outs = []
    for k in (a, b):
        d = bytearray(120)
        k.copy(d, 3, src, 5, 41)
        k.xor(d, 10, src, 1, 33)
        k.zero(d, 50, 7)
        k.ctr(d, 2, 2, src, 12, 3, 0xFEFF)
        e = bytearray(src)
        q = k.ccm_b0(d, src, 0x5A, src, 13, 2, 300, src, 13, e, 7, 21, src, 30, 0)
        f = bytearray(48)
        k.ccm_b0(d, src, 0x5A, src, 13, 2, 300, src, 13, e, 7, 21, f, -1, 3)
        h = bytearray(16)
        k.seal_out(h, d, 16, src, d, 90, 8, 7, 8)
        c = k.mac_check(h, d, 16, src, d, 98, 8)
        r = bytearray(src[:40])
        nonce = bytearray(12)
        aad = bytearray(13)
        k.aead_out(r, 3, 23, 0x1FE, 0xABCDEF, 0x123456, 300, 0x1A2B, nonce, aad)
        g = bytearray(26)
        k.aead_in(src, 5, 0x2C3, d, g)
        k.rec_head(g, src, 9, 0x1FF)
        outs.append((bytes(d), bytes(e), bytes(f), bytes(h), q, c,
                     bytes(r), bytes(nonce), bytes(aad), bytes(g)))
    return outs[0] == outs[1]
