"""DTLS record layer: header, epochs, 48-bit sequence numbers, in-place protection, replay window (RFC 6347 4.1)."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from .const import (
    NxError, NX_SUCCESS, NX_SECURE_TLS_INVALID_PACKET, NX_SECURE_TLS_INVALID_EPOCH,
    NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,
    NX_SECURE_TLS_UNKNOWN_TLS_VERSION, NX_NOT_SUCCESSFUL,
)
_DTLS_1_2 = const(0xFEFD)  # RFC 6347 4.1
_DTLS_1_0 = const(0xFEFF)
_CT_CHANGE_CIPHER_SPEC = const(20)  # RFC 5246 6.2.1
_CT_APPLICATION_DATA = const(23)
_CT_HEARTBEAT = const(24)  # RFC 6520 3 (handled by a feature, nxsecure/heartbeat.py)
_CT_TLS12_CID = const(25)  # RFC 9146 4 (the record format of nxsecure/connection_id.py)

import sys

# CPython: an AEAD epoch's records go through record_host.py (struct packing, several
# times faster there than byte work); MicroPython: struct with 64-bit fields would
# allocate big ints, and a board does not install that file.
_host = None
if sys.implementation.name != "micropython":
    from .record_host import records as _host

RECORD_HEADER = 13
SCRATCH_SIZE = 72            # read nonce 12 + write nonce 12 + aad 13 + MAC 32, 8-aligned
MAX_SEQ = (1 << 48) - 1      # RFC 6347 4.1: the sequence number must not wrap
_ZERO8 = bytes(8)


class ReplayWindow:
    """64-record anti-replay window (RFC 6347 4.1.2.6) as a ring of bits in 8 bytes,
    so that checking and marking allocate nothing."""

    def __init__(self):
        self.bits = bytearray(8)
        self.reset()

    def reset(self):
        self.bits[0:8] = _ZERO8          # one slice store (no allocation), not a loop
        self.top = -1            # highest sequence number accepted so far

    def check(self, seq):
        """True if seq is new: above the window, or inside it and not yet seen."""
        top = self.top
        if seq > top:
            return True
        if top - seq >= 64:
            return False
        i = seq & 63
        return not (self.bits[i >> 3] >> (i & 7)) & 1

    def mark(self, seq):
        """Record seq as received. Call only after the record authenticated."""
        # few locals and a shallow stack: a frame of more than 11 words would go on the
        # heap at every call on a MicroPython board (its VM_MAX_STATE_ON_STACK)
        b = self.bits
        top = self.top
        if seq == top + 1:              # in order: its bit replaces seq - 64's
            self.top = seq
        elif seq > top:
            if seq - top >= 64:
                self.reset()
            else:
                while top < seq:        # clear the bits that slide into the window
                    top += 1
                    b[(top & 63) >> 3] &= ~(1 << (top & 7)) & 0xFF
            self.top = seq
        b[(seq & 63) >> 3] |= 1 << (seq & 7)


class CipherState:
    """One direction's keys for one epoch: the suite's contexts, its tag size (aead) and
    the key block's fixed IV; a MAC-then-encrypt suite's MAC context and size."""

    # AEAD unless told otherwise: a class attribute, so that an AEAD state has four
    # attributes, an attribute table a board's heap grows twice to (1 and 2 blocks; a
    # table of more is a bigger allocation, which walks a fragmented heap past every
    # smaller hole), and a handshake makes four states
    aead = True

    def __init__(self, suite, key, mac_key, fixed_iv, cipher_md, mac_md):
        # no local variable: a frame within 11 words
        self.tag = suite.tag_size
        self.fixed_iv = fixed_iv
        self.ctx = suite.nx_secure_tls_session_cipher.init(key, cipher_md)
        # byte kernels (crypto/kernel.py) lay out a record's header, nonce and additional
        # data in one call: the context's (native where the firmware compiles them), else
        # the Python ones
        self.k = getattr(self.ctx, "_k", None)
        if self.k is None:
            from .crypto.kernel import python as key    # (into a spent argument's slot)
            self.k = key()
        if not suite.aead:
            self.aead = False
            self.mac = suite.nx_secure_tls_hash.init(mac_key, mac_md)
            self.mac_size = suite.nx_secure_tls_hash_size

    def records(self, rl, sealing):
        """What seals (sealing) or opens the epoch's records for rl (RecordLayer.wfast /
        rfast): the context's generator (CCM: records()), or on CPython record_host.py;
        None: RecordLayer.seal / open's general path."""
        f = getattr(self.ctx, "records", None) or (_host if self.aead else None)
        return f(rl, self, sealing) if f else None


class RecordLayer:
    """Protects and unprotects records in place. The engine numbers epochs 0 and 1: the
    one its handshake runs in and the one the handshake establishes. In the first
    handshake those are the wire's epochs 0 (plaintext) and 1. A renegotiation
    (RFC 5746, nxsecure/renegotiation.py, which shifts them) has wire epoch `base` for
    the one the new handshake runs in, protected with the current keys (read0 /
    write0), and base + 1 for the one it establishes (RFC 6347 4.1: the epoch grows
    with every cipher state change)."""

    def __init__(self, scratch):
        # AEAD nonces, one per direction: the fixed IV part is written once when the
        # epoch's keys are activated, so a record writes only its explicit part
        self.rnonce = scratch[0:12]
        self.wnonce = scratch[12:24]
        self.aad = scratch[24:37]
        self.macbuf = scratch[40:72]
        self.w0 = ReplayWindow()
        self.w1 = ReplayWindow()
        self.reset()

    def reset(self):
        self.read_epoch = 0
        self.write_epoch = 0
        self.base = 0            # wire epoch of the engine's epoch 0
        self.read0 = None        # CipherState of the engine's epoch 0 (None: plaintext)
        self.write0 = None
        self.read1 = None        # CipherState for reading epoch 1
        self.write1 = None
        self.rcur = None         # the state whose fixed IV is in rnonce / wnonce
        self.wcur = None
        self.wfast = None        # the epoch-1 state's record generators (CipherState.records)
        self.rfast = None
        self.io = None           # the buffer and offset they work on
        self.io_off = 0
        self.prefix0 = self.overhead0 = RECORD_HEADER
        self.prefix1 = RECORD_HEADER      # write_prefix(1) and write_overhead(1), kept
        self.overhead1 = RECORD_HEADER    # as numbers for the per-record path
        self.pending_read = None
        self.pending_write = None
        # Connection ID (RFC 9146): the feature's tls12_cid format for the records we
        # seal (the peer asked for a CID) and open (we asked for one); None: plain
        self.cidw = None
        self.cidr = None
        self.seq = [0, 0]        # next write sequence number per epoch
        self.w0.reset()
        self.w1.reset()
        self.discarded = 0       # invalid records dropped (RFC 6347 4.1.2.7)
        # results of the last open(), kept as attributes so the steady path allocates no tuple
        self.r_type = 0
        self.r_epoch = 0
        self.r_seq = 0
        self.r_off = 0
        self.r_len = 0
        self.r_next = 0

    # --- keys -----------------------------------------------------------------------
    def set_pending(self, read_state, write_state):
        self.pending_read = read_state
        self.pending_write = write_state

    def activate_read(self):
        """On ChangeCipherSpec received: the next epoch's read state becomes current."""
        st = self.pending_read
        self.read1 = st
        self.read_epoch = 1
        _fixed_iv(self.rnonce, st)
        self.rcur = st
        self.rfast = st.records(self, 0)

    def activate_write(self):
        st = self.pending_write
        self.write1 = st
        self.write_epoch = 1
        _fixed_iv(self.wnonce, st)
        self.wcur = st
        self.wfast = st.records(self, 1)
        # the explicit nonce (RFC 5288 3, RFC 6655 3) or the CBC IV, one AES block (RFC
        # 5246 6.2.3.2): the suite row's record_iv_size
        self.prefix1 = RECORD_HEADER + (8 if st.aead else 16)
        self.overhead1 = self.prefix1 + (
            st.tag if st.aead else st.mac_size + 16)     # at most
        if self.cidw is not None:
            self.cidw.activated(self)         # its header carries the CID

    def write_overhead(self, epoch):
        """Bytes a record of the epoch adds to its plaintext, at most."""
        return self.overhead1 if epoch else self.overhead0

    def write_prefix(self, epoch):
        """Bytes between the record start and its plaintext."""
        return self.prefix1 if epoch else self.prefix0

    # --- sending --------------------------------------------------------------------
    def seal(self, buf, off, ctype, epoch, n):
        """Protect the record whose plaintext (n bytes) sits at off + write_prefix(epoch).
        Writes header, explicit nonce/IV, ciphertext and tag/MAC in place; returns the
        record's total length."""
        # An epoch whose context seals records itself (CipherState.records: ccm.CCM.records,
        # a generator per direction) takes an application record in one resumption;
        # what it declines (0) and every other protected record go to _seal_st, and a
        # plaintext one (the handshake's epoch 0) is written here. This frame and
        # open's stay within 11 words: a bigger one would go on the heap at every call
        # on a MicroPython board (its VM_MAX_STATE_ON_STACK), ~0.15 ms on an RP2040
        # whose heap has holes.
        if epoch:
            epoch = self.wfast
            if epoch is not None:
                self.io = buf
                self.io_off = off
                epoch = epoch.send(ctype | n << 8)
                if epoch:
                    return epoch
                ctype &= 0xFF
            if self.write1 is not None or self.cidw is not None:
                ctype |= 0x100 | (n << 9)
                return self._seal_st(buf, off, ctype)
            epoch = 1
        elif self.write0 is not None:
            ctype |= n << 9
            return self._seal_st(buf, off, ctype)
        buf[off] = ctype
        ctype = self.seq[epoch]                 # (the sequence number, in a spent slot)
        if ctype > MAX_SEQ:
            raise NxError(NX_NOT_SUCCESSFUL)
        self.seq[epoch] = ctype + 1
        buf[off + 1] = 0xFE
        buf[off + 2] = 0xFD
        epoch += self.base                      # the wire epoch
        buf[off + 3] = epoch >> 8
        buf[off + 4] = epoch & 0xFF
        # the 48-bit sequence number (< 2^48, checked above) written out, not looped
        # over in a helper: the loop and its call were 40% of a plaintext seal on a board
        buf[off + 5] = ctype >> 40
        buf[off + 6] = (ctype >> 32) & 0xFF
        buf[off + 7] = (ctype >> 24) & 0xFF
        buf[off + 8] = (ctype >> 16) & 0xFF
        buf[off + 9] = (ctype >> 8) & 0xFF
        buf[off + 10] = ctype & 0xFF
        buf[off + 11] = n >> 8
        buf[off + 12] = n & 0xFF
        return RECORD_HEADER + n

    def _seal_st(self, buf, off, x):
        """seal() for x = ctype | epoch << 8 | n << 9 of a record in the CID format, or
        under a CipherState (its sequence number taken here)."""
        ctype = x & 0xFF
        epoch = (x >> 8) & 1
        n = x >> 9
        if epoch and self.cidw is not None:
            return self.cidw.seal(self, buf, off, ctype, n)
        seq = self.seq[epoch]
        if seq > MAX_SEQ:
            raise NxError(NX_NOT_SUCCESSFUL)
        self.seq[epoch] = seq + 1
        st = self.write1 if epoch else self.write0
        if st is not self.wcur:
            _fixed_iv(self.wnonce, st)      # old and new epoch alternate (renegotiation)
            self.wcur = st
        # RFC 5288 3 / RFC 6655 3: nonce = fixed IV (4) || explicit (8) = epoch ||
        # seq; the additional data is RFC 5246 6.2.3.3's with the DTLS seq_num (RFC
        # 6347 4.1.2.1), in one kernel call: ~12 us native where byte loops take
        # ~0.6 ms on an RP2040. MAC-then-encrypt: the
        # additional data is the MAC's header too (RFC 5246 6.2.3.1); its explicit
        # IV and length are seal_cbc's to fill in
        total = 8 + n + st.tag
        st.k.aead_out(buf, off, ctype, self.base + epoch, seq >> 24, seq, n, total,
                      self.wnonce, self.aad)
        if st.aead:
            st.ctx.seal(self.wnonce, self.aad, buf, off + RECORD_HEADER + 8, n)
        else:
            total = seal_cbc(st, self.aad, buf, off, off + RECORD_HEADER, n)
            buf[off + 11] = total >> 8
            buf[off + 12] = total & 0xFF
        return RECORD_HEADER + total

    # --- receiving ------------------------------------------------------------------
    def open(self, buf, off, end):
        """Parse and unprotect the record at buf[off:end] in place. Returns NX_SUCCESS
        with r_type/r_epoch/r_seq/r_off/r_len/r_next set, or a code for a record to
        discard silently (r_next says where the next record starts, or end when the
        rest of the datagram cannot be parsed). The replay window is NOT marked: the
        caller calls accept() once it keeps the record."""
        # as in seal: the read epoch's generator takes an in-order record of
        # epoch 1 (-1: it declines, and it is parsed here); a plaintext record of epoch
        # 0 (the handshake's) is opened here, a protected one in _open_st. One local:
        # the frame stays within 11 words (see seal).
        x = self.rfast
        if x is not None:
            self.io = buf
            self.io_off = off
            x = x.send(end)
            if x >= 0:
                return x
        if end - off < RECORD_HEADER:
            self.r_next = end
            return NX_SECURE_TLS_INVALID_PACKET
        x = buf[off]
        if x == _CT_TLS12_CID and self.cidr is not None:
            return self.cidr.open(self, buf, off, end)
        self.r_next = off + RECORD_HEADER + ((buf[off + 11] << 8) | buf[off + 12])
        if self.r_next > end:
            self.r_next = end
            return NX_SECURE_TLS_INVALID_PACKET
        if x < _CT_CHANGE_CIPHER_SPEC or x > _CT_HEARTBEAT:
            return NX_SECURE_TLS_INVALID_PACKET
        x = (buf[off + 1] << 8) | buf[off + 2]
        if x != _DTLS_1_2 and x != _DTLS_1_0:
            return NX_SECURE_TLS_UNKNOWN_TLS_VERSION
        self.r_type = buf[off]
        # the sequence number: below 2^32 (a handshake's) read here, not in a helper
        if buf[off + 5] or buf[off + 6]:
            self.r_seq = _get48(buf, off + 5)
        else:
            self.r_seq = ((((buf[off + 7] << 8) | buf[off + 8]) << 16)
                          | (buf[off + 9] << 8) | buf[off + 10])
        x = ((buf[off + 3] << 8) | buf[off + 4]) - self.base
        self.r_epoch = x
        if x or self.read0 is not None:
            return self._open_st(buf, off)
        # RFC 6347 4.1.2.6: above the window is new (the window is asked only inside it)
        if self.r_seq <= self.w0.top and not self.w0.check(self.r_seq):
            return NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
        if buf[off] == _CT_APPLICATION_DATA or self.base:
            # RFC 6347 4.1: application data is never sent unprotected.
            return NX_SECURE_TLS_INVALID_EPOCH
        self.r_off = off + RECORD_HEADER
        self.r_len = self.r_next - off - RECORD_HEADER
        return NX_SUCCESS

    def _open_st(self, buf, off):
        """open() of a record of epoch 1, or of epoch 0 under a CipherState
        (renegotiation): header checked, r_type/r_epoch/r_seq/r_next set (r_next: the
        record's end)."""
        epoch = self.r_epoch
        seq = self.r_seq
        length = self.r_next - off - RECORD_HEADER
        p = off + RECORD_HEADER
        if epoch == 0:
            if not self.w0.check(seq):
                return NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
            st = self.read0
        else:
            if epoch != 1 or self.read_epoch != 1:
                return NX_SECURE_TLS_INVALID_EPOCH
            if seq <= self.w1.top and not self.w1.check(seq):    # above the window: new
                return NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
            st = self.read1
        if st is not self.rcur:
            _fixed_iv(self.rnonce, st)      # old and new epoch alternate (renegotiation)
            self.rcur = st
        aad = self.aad
        if st.aead:
            n = length - 8 - st.tag
            if n < 0:
                return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
            nonce = self.rnonce
            st.k.aead_in(buf, off, n, nonce, aad)
            if not st.ctx.open(nonce, aad, buf, p + 8, length - 8):
                return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
            self.r_off = p + 8
            self.r_len = n
            return NX_SUCCESS
        st.k.rec_head(aad, buf, off, 0)         # open_cbc puts the length in
        return self.open_cbc(st, buf, p, length)

    def open_cbc(self, st, buf, p, length, cid=None, off=0):
        """MAC-then-encrypt (RFC 5246 6.2.3.2) opened in place; the MAC's header is
        self.aad, or for a tls12_cid record the one cid.mac_head(buf, off, n) gives
        (RFC 9146 5)."""
        m = st.mac_size
        clen = length - 16
        # RFC 5246 6.2.3.2: at least the MAC and the padding_length byte, whole blocks
        if clen < m + 1 or clen & 15:
            return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
        st.ctx.decrypt(buf[p:p + 16], buf, p + 16, clen)
        q = p + 16
        last = q + clen - 1
        pad = buf[last]
        # RFC 5246 6.2.3.2: padding and MAC failures must look the same. Check every
        # padding byte and compute the MAC in all cases (over a plausible length when
        # the padding is bad), then fail once.
        bad = 0
        if pad + 1 + m > clen:
            bad = 1
            pad = 0
        for i in range(pad + 1):
            bad |= buf[last - i] ^ pad
        n = clen - pad - 1 - m
        if cid is None:
            aad = self.aad
            aad[11] = n >> 8
            aad[12] = n & 0xFF
        else:
            aad = cid.mac_head(buf, off, n)
        mb = self.macbuf
        st.mac.mac(aad, buf, q, n, mb, 0)
        for i in range(m):
            bad |= mb[i] ^ buf[q + n + i]
        if bad:
            return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
        self.r_off = q
        self.r_len = n
        return NX_SUCCESS

    def accept(self):
        """Mark the last opened record in its epoch's replay window."""
        if self.r_epoch == 0:
            self.w0.mark(self.r_seq)
        else:
            self.w1.mark(self.r_seq)


_ZERO16 = bytes(16)


def seal_cbc(st, head, buf, off, p, n):
    """MAC-then-encrypt in place (RFC 5246 6.2.3.1/6.2.3.2) of the n plaintext bytes at
    p + 16, the record's header at off, head the MAC's header. -> bytes from p on."""
    # RFC 5246 6.2.3.2: explicit IV. NIST SP 800-38A Appendix C: the IV is the block
    # cipher applied, under the record key, to a unique nonce (epoch || seq), which is
    # unpredictable to the peer and allocation-free.
    for i in range(8):
        buf[p + i] = buf[off + 3 + i]
        buf[p + 8 + i] = 0
    st.ctx.encrypt(_ZERO16, buf, p, 16)
    m = st.mac_size
    st.mac.mac(head, buf, p + 16, n, buf, p + 16 + n)
    padlen = 15 - ((n + m) & 15)
    q = p + 16 + n + m
    for i in range(padlen + 1):
        buf[q + i] = padlen
    clen = n + m + padlen + 1
    st.ctx.encrypt(buf[p:p + 16], buf, p + 16, clen)
    return 16 + clen


def _fixed_iv(nonce, st):
    """RFC 5288 3: the first 4 bytes of an AEAD nonce are the key block's fixed IV."""
    if st is not None and st.aead:
        nonce[0:4] = st.fixed_iv        # one slice store (a memcpy, no allocation)


def _get48(buf, off):
    # Built from 16-bit pieces so that small sequence numbers stay small ints.
    hi = (buf[off] << 8) | buf[off + 1]
    mid = (buf[off + 2] << 8) | buf[off + 3]
    lo = (buf[off + 4] << 8) | buf[off + 5]
    if hi:
        return (((hi << 16) | mid) << 16) | lo
    return (mid << 16) | lo
