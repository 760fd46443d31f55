"""AES-CCM (RFC 3610, NIST SP 800-38C) in place, whole buffers to the AES engine, no allocation."""
# General M (tag bytes: 4..16, even) and L (length-field bytes: 2..8, nonce 15-L bytes) so
# the published vectors can be checked; TLS uses L=3 with a 12-byte nonce and M=16 or 8
# (RFC 6655 3, RFC 7251).
#
# The AES engine is MicroPython's cryptolib.aes (C) or nxsecure.crypto.aes.new (the same
# interface in Python): aes_new(key, 1) is ECB, aes_new(key, 2, iv) CBC whose IV carries
# over from one call to the next; encrypt(in, out) runs over all of `in`. So:
# - CBC-MAC (RFC 3610 2.2) is one CBC call over the formatted MAC input (B_0, the
#   encoded associated data, the message, each zero-padded) staged in the scratch WM,
#   CHUNK message bytes at a time. The CBC object keeps the last output block (the
#   last MAC) as its IV; that value is kept in H too and XORed into B_0, so each
#   message's CBC-MAC starts from a zero IV with no new object.
# - CTR (RFC 3610 2.3) is one ECB call over the counter blocks A_0, A_1, .. built in
#   the scratch WC; the keystream is XORed into the record, S_0 = E(A_0) masks the tag.
# Byte work goes through the kernels (kernel.py; native code where the firmware compiles
# it); a TLS application record in five kernel calls and two AES calls (records()). All
# buffers are slices of the caller's metadata; the view of WM or WC that a block count
# needs is made the first time that count occurs and kept, so a record size's first
# seal or open allocates a view or two and every later one nothing.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from . import kernel
from ..const import NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE

CHUNK = const(128)               # message bytes per AES call
_WM = const(CHUNK + 32)          # MAC input: B_0, a block of associated data, CHUNK
_WC = const(CHUNK + 16)          # counter blocks: A_0 and CHUNK
_H = const(_WM + _WC)            # H (the last MAC), then T (S_0 of a long message)
SCRATCH_SIZE = const(_H + 32)    # WM, WC, H, T
# CCM._v: the AES engine's ECB and CBC calls, WM, WC, H, T (views of the scratch), then
# the views of WM[0:16 * nb] by nb - 1 and of WC[0:16 * nb + 16] by nb
_VECB = const(0)
_VCBC = const(1)
_VWM = const(2)
_VWC = const(3)
_VH = const(4)
_VT = const(5)
_VM = const(6)
_VC = const(_VM + _WM // 16)
_NVIEW = const(_VC + _WC // 16)
_ZERO16 = bytes(16)


class CCM:
    """CCM with key `key` over an AES engine aes_new (see above); tag_len = M,
    length_len = L. seal(nonce, aad, buf, off, n) / open(nonce, aad, buf, off, n) per
    the crypto context contract in docs/DESIGN.md; kern: the kernels (kernel.best())."""

    # Each attribute of an instance is a slot in its table, which grows by reallocation
    # at the 3rd, 5th, .. slot (~35 us each on an RP2040, an allocation that walks a
    # fragmented heap), and a handshake makes four contexts: a context has two
    # attributes, its state is one list (_v: the indices above), and what is the same for
    # most contexts is a class attribute that a context of another kind shadows: TLS's L
    # (RFC 6655 3) and the default kernels (set by load(); a context made after
    # kernel.use() chose others keeps its own).
    _l = 3
    _nl = 12
    _nmax = 1 << 24
    _k = None

    def __init__(self, aes_new, key, tag_len, length_len, scratch=None, kern=None):
        # no local variable: a frame within 11 words (a bigger one goes on a board's heap)
        if tag_len < 4 or tag_len > 16 or tag_len & 1 or length_len < 2 or length_len > 8:
            raise ValueError("CCM: M in 4..16 even, L in 2..8")
        if scratch is None:
            scratch = memoryview(bytearray(SCRATCH_SIZE))
        elif len(scratch) < SCRATCH_SIZE:
            raise ValueError("CCM scratch too small")
        self.tag_size = tag_len          # M
        scratch[_H:_H + 16] = _ZERO16    # H = the IV the CBC object starts from
        # the AES calls, WM, WC, H, T, then the views of WM and WC that a record size
        # needs, made on first use (into a spent argument's slot: the frame stays within
        # 11 words)
        self._v = tag_len = [None] * _NVIEW
        tag_len[_VECB] = aes_new(key, 1).encrypt
        tag_len[_VCBC] = aes_new(key, 2, _ZERO16).encrypt
        tag_len[_VWM] = scratch[0:_WM]
        tag_len[_VWC] = scratch[_WM:_WM + _WC]
        tag_len[_VH] = scratch[_H:_H + 16]
        tag_len[_VT] = scratch[_H + 16:_H + 32]
        kern = kern or kernel.best()
        if kern is not CCM._k:
            self._k = kern
        if length_len != 3:
            self._l = length_len
            self._nl = 15 - length_len
            self._nmax = 1 << (8 * length_len) if length_len < 4 else 1 << 30
            self.records = None          # record.py uses records() for TLS's L only

    @staticmethod
    def load():
        """The class with the default kernels set (crypto/__init__.py: load_ccm)."""
        CCM._k = kernel.best()
        return CCM

    def _flags(self):
        """B_0's flags but Adata: 8*M' + L', M' = (M-2)/2, L' = L-1 (RFC 3610 2.2)."""
        return (((self.tag_size - 2) >> 1) << 3) | (self._l - 1)

    def _check(self, nonce, buf, off, n, end):
        # the kernels do not check (they may be machine code): every span here
        if (off < 0 or n < 0 or end > len(buf) or n >= self._nmax
                or len(nonce) != self._nl):
            raise ValueError("CCM: bad nonce or span")
        if end > off:
            buf[off] = buf[off]          # TypeError for a read-only buffer, before any write

    def _mac(self, nonce, aad, buf, off, n, ko, nc):
        """CBC-MAC of (nonce, aad, buf[off:off+n]) (RFC 3610 2.2); the MAC is left at
        WM[q-16:q], q returned. With ko >= 0, buf[off:off+n] is first decrypted with
        the keystream at WC[ko:] (all of it must be there); else, with nc, the counter
        blocks A_0..A_nc-1 are also put in WC (sealing: one kernel call less)."""
        k = self._k
        v = self._v
        wm = v[_VWM]
        L = self._l
        la = len(aad)
        flags = self._flags() | (64 if la else 0)
        head = 16 + ((17 + la) & ~15 if la else 0)     # B_0 and the encoded aad
        if la < 0xFF00 and head < _WM:
            m = n if n < _WM - head else _WM - head
            q = k.ccm_b0(wm, v[_VH], flags, nonce, 15 - L, L, n, aad, la, buf, off, m,
                         v[_VWC], ko, nc)
        else:
            m = 0
            k.ccm_b0(wm, v[_VH], flags, nonce, 15 - L, L, n, aad, 0, buf, off, 0,
                     v[_VWC], ko, nc)
            q = self._long_aad(aad, la)
        if ko >= 0 and m < n:
            k.xor(buf, off + m, v[_VWC], ko + m, n - m)
        off += m
        n -= m
        while True:
            self._cbc_m(q)
            if n <= 0:
                return q
            m = n if n < _WM else _WM
            k.copy(wm, 0, buf, off, m)
            q = (m + 15) & ~15
            k.zero(wm, m, q - m)
            off += m
            n -= m

    def _cbc_m(self, q):
        """CBC-MAC over WM[0:q] (whole blocks), the chain going on from H."""
        vs = self._v
        v = vs[_VM - 1 + (q >> 4)]
        if v is None:
            v = vs[_VM - 1 + (q >> 4)] = vs[_VWM][0:q]
        vs[_VCBC](v, v)

    def _long_aad(self, aad, la):
        """l(a) || aad after B_0 when it does not fit WM at once (RFC 3610 2.2: 0xFFFE
        and 4 bytes from 2^16-2^8 on); returns q, the zero-padded end in WM."""
        wm = self._v[_VWM]
        if la < 0xFF00:
            wm[16] = la >> 8
            wm[17] = la & 0xFF
            q = 18
        else:
            wm[16] = 0xFF
            wm[17] = 0xFE
            wm[18] = (la >> 24) & 0xFF
            wm[19] = (la >> 16) & 0xFF
            wm[20] = (la >> 8) & 0xFF
            wm[21] = la & 0xFF
            q = 22
        a = 0
        while True:
            m = la - a
            if m > _WM - q:
                m = _WM - q
            self._k.copy(wm, q, aad, a, m)
            a += m
            q += m
            if a == la:
                r = (-q) & 15
                self._k.zero(wm, q, r)
                return q + r
            self._v[_VCBC](wm, wm)       # WM is full: whole blocks
            q = 0

    def _blocks(self, n):
        """Keystream blocks after S_0 that the first ECB call makes for n bytes."""
        nb = (n + 15) >> 4
        return nb if nb < (_WC >> 4) - 1 else (_WC >> 4) - 1

    def _ecb_first(self, nb):
        """E(A_0 .. A_nb) in place in WC: S_0, then the first keystream blocks."""
        vs = self._v
        v = vs[_VC + nb]
        if v is None:
            v = vs[_VC + nb] = vs[_VWC][0:16 * nb + 16]
        vs[_VECB](v, v)

    def _rest(self, nonce, buf, off, n, c):
        """buf[off:off+n] ^= the keystream from counter c on (messages past CHUNK)."""
        k = self._k
        vs = self._v
        wc = vs[_VWC]
        L = self._l
        while n > 0:
            nb = (n + 15) >> 4
            if nb > _WC >> 4:
                nb = _WC >> 4
            k.ctr(wc, nb, L - 1, nonce, 15 - L, L, c)
            v = vs[_VC - 1 + nb]
            if v is None:
                v = vs[_VC - 1 + nb] = wc[0:16 * nb]
            vs[_VECB](v, v)
            m = n if n < 16 * nb else 16 * nb
            k.xor(buf, off, wc, 0, m)
            c += nb
            off += m
            n -= m

    def seal(self, nonce, aad, buf, off, n):
        """Encrypt buf[off:off+n] in place; the M-byte tag goes to buf[off+n:off+n+M]."""
        self._check(nonce, buf, off, n, off + n + self.tag_size)
        nb = self._blocks(n)
        q = self._mac(nonce, aad, buf, off, n, -1, nb + 1)
        self._ecb_first(nb)
        m = n if n < 16 * nb else 16 * nb
        # U = T xor first-M-bytes(S_0) (RFC 3610 2.3), T (the MAC) kept in H; then the
        # keystream S_1.. over the message
        v = self._v
        self._k.seal_out(v[_VH], v[_VWM], q - 16, v[_VWC], buf, off, n, m, self.tag_size)
        if m < n:
            self._rest(nonce, buf, off + m, n - m, nb + 1)

    def open(self, nonce, aad, buf, off, n):
        """Decrypt buf[off:off+n-M] in place and check the tag at its end (RFC 3610 2.5).
        Returns False on a bad tag (the plaintext is then garbage) or a short input."""
        M = self.tag_size
        mlen = n - M
        if mlen < 0:
            return False
        self._check(nonce, buf, off, mlen, off + n)
        k = self._k
        v = self._v
        L = self._l
        nb = self._blocks(mlen)
        k.ctr(v[_VWC], nb + 1, L - 1, nonce, 15 - L, L, 0)
        self._ecb_first(nb)
        s0 = v[_VWC]
        if mlen <= 16 * nb:              # the keystream is all in WC: decrypt as staged
            q = self._mac(nonce, aad, buf, off, mlen, 16, 0)
        else:
            s0 = v[_VT]
            k.copy(s0, 0, v[_VWC], 0, 16)
            k.xor(buf, off, v[_VWC], 16, 16 * nb)
            self._rest(nonce, buf, off + 16 * nb, mlen - 16 * nb, nb + 1)
            q = self._mac(nonce, aad, buf, off, mlen, -1, 0)
        return k.mac_check(v[_VH], v[_VWM], q - 16, s0, buf, off + mlen, M) == 0

    # --- the record layer's records of epoch 1 (record.py) -----------------------------
    # A generator per direction and epoch, made when the epoch's keys are activated:
    # its frame, as big as the work needs, is made once and resumed for every record,
    # where a function's frame of more than 11 words goes on the heap at every call on a
    # MicroPython board (its VM_MAX_STATE_ON_STACK; ~0.15 ms on an RP2040 whose heap has
    # holes, as much as the CBC-MAC). It does what RecordLayer.seal / open would do for
    # a record of epoch 1 (application data, handshake or alert: the Finished goes this
    # way too) with at most 128 bytes of data, in the same kernel calls, making the
    # scratch views a size needs on its first record as the general path would; for any
    # other record it yields the decline value and the record layer takes its general
    # path. The buffer and offset are rl.io / rl.io_off.

    def _view(self, nb):
        """Make the WM and WC views a record of nb blocks needs (once per size, as the
        general path does); -> the WM one."""
        vs = self._v
        vs[_VC + nb] = vs[_VWC][0:16 * nb + 16]
        v = vs[_VM + 1 + nb] = vs[_VWM][0:16 * nb + 32]
        return v

    def _locals(self):
        """What both generators keep in locals: WM, WC, H, the CBC and ECB calls, M and
        B_0's flags with Adata for TLS's L = 3 (RFC 3610 2.2; written out, not _flags():
        the receive path's deepest call stays where it was)."""
        vs = self._v
        return (vs[_VWM], vs[_VWC], vs[_VH], vs[_VCBC], vs[_VECB], self.tag_size,
                (((self.tag_size - 2) >> 1) << 3) | 2 | 64)

    def records(self, rl, st, sealing):
        """The generator that seals (sealing) or opens rl's records while st is its
        epoch-1 state, started."""
        g = self._rseal(rl, st) if sealing else self._ropen(rl, st)
        next(g)
        return g

    def _rseal(self, rl, st):
        """Seals for RecordLayer rl while its write1 is st: send(ctype | n << 8) ->
        the record's length, 0 declined (RFC 6347 4.1, RFC 6655 3)."""
        k = self._k
        out = k.aead_out
        b0 = k.ccm_b0
        fin = k.seal_out
        vs = self._v
        wm, wc, h, cbc, ecb, M, flags = self._locals()
        nonce = rl.wnonce
        aad = rl.aad
        sq = rl.seq
        r = 0
        while True:
            x = yield r
            r = 0
            try:
                buf = rl.io
                off = rl.io_off
                n = x >> 8
                nb = (n + 15) >> 4
                s = sq[1]
                if (rl.write1 is not st or rl.cidw is not None or n > 128
                        or s > 0xFFFFFFFFFFFF or off < 0 or off + 21 + n + M > len(buf)):
                    continue
                v = vs[_VM + 1 + nb]
                u = vs[_VC + nb]
                if v is None or u is None:      # the first record of this size
                    v = self._view(nb)
                    u = vs[_VC + nb]
                sq[1] = s + 1
                if rl.wcur is not st:
                    k.copy(nonce, 0, st.fixed_iv, 0, 4)
                    rl.wcur = st
                out(buf, off, x & 0xFF, rl.base + 1, s >> 24, s, n, 8 + n + M, nonce, aad)
                b0(wm, h, flags, nonce, 12, 3, n, aad, 13, buf, off + 21, n, wc, -1, nb + 1)
                cbc(v, v)
                ecb(u, u)
                fin(h, wm, 16 * nb + 16, wc, buf, off + 21, n, n, M)
                r = 21 + n + M
            except Exception:       # a wrong argument: the general path says so
                r = 0

    def _ropen(self, rl, st):
        """Opens for rl while its read1 is st: send(end) -> a status with rl.r_* set as
        RecordLayer.open says, or -1 declined: not an in-order record of
        epoch 1 (above the replay window, RFC 6347 4.1.2.6), or one it does not take
        (a sequence number from 2^32 on, more than 128 bytes, DTLS 1.0's version)."""
        k = self._k
        inp = k.aead_in
        ctr = k.ctr
        b0 = k.ccm_b0
        chk = k.mac_check
        vs = self._v
        wm, wc, h, cbc, ecb, M, flags = self._locals()
        nonce = rl.rnonce
        aad = rl.aad
        w = rl.w1
        r = 0
        while True:
            end = yield r
            r = -1
            try:
                buf = rl.io
                off = rl.io_off
                if (rl.read1 is not st or rl.read_epoch != 1 or off < 0 or end - off < 21
                        or end > len(buf) or buf[off] < 21 or buf[off] > 23
                        or buf[off + 1] != 0xFE
                        or buf[off + 2] != 0xFD
                        or (buf[off + 3] << 8) | buf[off + 4] != rl.base + 1):
                    continue
                s = ((buf[off + 7] << 24) | (buf[off + 8] << 16) | (buf[off + 9] << 8)
                     | buf[off + 10])
                nxt = off + 13 + ((buf[off + 11] << 8) | buf[off + 12])
                n = nxt - off - 21 - M
                if (buf[off + 5] or buf[off + 6] or s <= w.top or nxt > end or n < 0
                        or n > 128):
                    continue
                nb = (n + 15) >> 4
                v = vs[_VM + 1 + nb]
                u = vs[_VC + nb]
                if v is None or u is None:      # the first record of this size
                    v = self._view(nb)
                    u = vs[_VC + nb]
                if rl.rcur is not st:
                    k.copy(nonce, 0, st.fixed_iv, 0, 4)
                    rl.rcur = st
                inp(buf, off, n, nonce, aad)
                ctr(wc, nb + 1, 2, nonce, 12, 3, 0)
                ecb(u, u)
                b0(wm, h, flags, nonce, 12, 3, n, aad, 13, buf, off + 21, n, wc, 16, 0)
                cbc(v, v)
                rl.r_type = buf[off]
                rl.r_epoch = 1
                rl.r_seq = s
                rl.r_next = nxt
                r = NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
                if not chk(h, wm, 16 * nb + 16, wc, buf, off + 21 + n, M):
                    rl.r_off = off + 21
                    rl.r_len = n
                    r = 0
            except Exception:       # a wrong argument: the general path says so
                r = -1
