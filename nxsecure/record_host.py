"""CPython's application records: an AEAD epoch's header, nonce and additional data packed with struct."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
# record.py's per-record hook (CipherState.records, RecordLayer.wfast / rfast) for a context
# without records() of its own (pyca's, port/crypto_pyca.py): one struct call writes or
# reads a whole header, several times faster on CPython than the byte work of the
# general path. On a board the modes seal and open the records themselves
# (crypto/ccm.py CCM.records). A generator per direction, as there; the buffer and
# offset are rl.io / rl.io_off.
import struct

from .const import NX_SUCCESS, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE

_HEADER = struct.Struct(">BHQH")      # type, version, epoch||seq, length (RFC 6347 4.1)
_AAD = struct.Struct(">QBHH")         # epoch||seq, type, version, length (RFC 5246 6.2.3.3)
_ES = struct.Struct(">Q")
_MAX_SEQ = (1 << 48) - 1


def records(rl, st, sealing):
    """The started generator that seals (sealing) or opens rl's records while st (an
    AEAD state) is its epoch-1 state."""
    g = _seal(rl, st) if sealing else _open(rl, st)
    next(g)
    return g


def _seal(rl, st):
    """send(ctype | n << 8) -> the record's length; 0: declined (a CID, the sequence
    numbers used up), rl.seal takes its general path."""
    seal = st.ctx.seal
    tag = st.tag
    nonce = rl.wnonce
    aad = rl.aad
    sq = rl.seq
    r = 0
    while True:
        x = yield r
        r = 0
        seq = sq[1]
        if rl.write1 is not st or rl.cidw is not None or seq > _MAX_SEQ:
            continue
        try:
            buf = rl.io
            off = rl.io_off
            sq[1] = seq + 1
            if rl.wcur is not st:
                nonce[0:4] = st.fixed_iv        # RFC 5288 3
                rl.wcur = st
            # RFC 5288 3 / RFC 6655 3: nonce = fixed IV || explicit (epoch || seq); the
            # additional data is RFC 5246 6.2.3.3's with the DTLS seq_num (RFC 6347 4.1.2.1)
            ctype = x & 0xFF
            n = x >> 8
            es = ((rl.base + 1) << 48) | seq
            _HEADER.pack_into(buf, off, ctype, 0xFEFD, es, 8 + n + tag)
            _AAD.pack_into(aad, 0, es, ctype, 0xFEFD, n)
            _ES.pack_into(buf, off + 13, es)
            _ES.pack_into(nonce, 4, es)
            seal(nonce, aad, buf, off + 21, n)
            r = 21 + n + tag
        except Exception:           # a wrong argument: the general path says so
            r = 0


def _open(rl, st):
    """send(end) -> a status with rl.r_* set as RecordLayer.open says; -1: declined
    (not a record of epoch 1 above the replay window, RFC 6347 4.1.2.6), rl.open parses
    it."""
    opn = st.ctx.open
    tag = st.tag
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
            if end - off < 13 or rl.read1 is not st or rl.read_epoch != 1:
                continue
            ctype, version, es, length = _HEADER.unpack_from(buf, off)
            seq = es & _MAX_SEQ
            n = length - 8 - tag
            nxt = off + 13 + length
            if (nxt > end or ctype < 20 or ctype > 24 or n < 0 or seq <= w.top
                    or (version != 0xFEFD and version != 0xFEFF) or es >> 48 != rl.base + 1):
                continue
            if rl.rcur is not st:
                nonce[0:4] = st.fixed_iv
                rl.rcur = st
            rl.r_type = ctype
            rl.r_epoch = 1
            rl.r_seq = seq
            rl.r_next = nxt
            _AAD.pack_into(aad, 0, es, ctype, version, n)
            nonce[4:12] = buf[off + 13:off + 21]
            r = NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
            if opn(nonce, aad, buf, off + 21, length - 8):
                rl.r_off = off + 21
                rl.r_len = n
                r = NX_SUCCESS
        except Exception:           # a wrong argument: the general path says so
            r = -1
