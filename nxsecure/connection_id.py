"""Connection ID (RFC 9146): the connection_id extension, the tls12_cid record format with its AEAD/MAC additional data, and a server that follows a client to a new address."""
# Optional: loaded only when the application calls one of these services.
#
#   nxsecure_dtls_session_connection_id_set(session, cid, cid_length)   client: offer
#       Connection IDs; cid (0..8 bytes, may be empty) is what the server is to put in
#       the records it sends us (empty: none; a client whose address changes needs
#       none, the server's CID finds its session). None turns it off.
#   nxsecure_dtls_server_connection_id_set(server, cid_length)          server: give
#       every client that offers the extension a fresh random CID of cid_length bytes
#       (1..8) to put in its records, and find its session by it. 0 turns it off.
#   nxsecure_dtls_session_connection_id_get(session) -> (status, ours, peers)
#       the CIDs in force: what we receive with, what we send with (None: not used).
#
# A CID is used in the records protected with the negotiated keys (epoch 1), AEAD
# suites only (a CBC record's header, explicit IV and CID would not fit the packet
# prepend room; the server does not answer the extension for those). When a datagram
# from an address the server does not know carries a tls12_cid record with a CID it
# gave, the record goes to that session; the session's peer address moves to the new
# one only once a record from it authenticates and is newer than any seen before
# (RFC 9146 6): a replayed or forged datagram moves nothing.
from nxsecure import port
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_NOT_SUCCESSFUL,
    NX_SECURE_TLS_INVALID_PACKET, NX_SECURE_TLS_INVALID_EPOCH,
    NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,
    NX_SECURE_TLS_UNKNOWN_TLS_VERSION,
)
from .feature import Feature, install, installed, take
from .record import RECORD_HEADER, MAX_SEQ, seal_cbc

EXT_CONNECTION_ID = 54            # RFC 9146 3
CT_TLS12_CID = 25                 # RFC 9146 4
MAX_CID = 8


def push_connection_id_extension(w, cid):
    """RFC 9146 3: ConnectionId cid<0..2^8-1>."""
    w.u16(EXT_CONNECTION_ID)
    w.u16(1 + len(cid))
    w.vec8(cid)


def pull_connection_id_extension(data):
    cid = data.vec8()
    data.done()
    return bytes(cid)


def _put48(buf, off, v):
    for i in range(5, -1, -1):
        buf[off + i] = v & 0xFF
        v >>= 8


class CidRecords:
    """The tls12_cid records of one association (RFC 9146 4, 5): sealed with the
    peer's CID (wcid), opened when they carry ours (rcid)."""

    def __init__(self, wcid, rcid):
        self.wcid = wcid
        self.rcid = rcid
        n = len(wcid) if wcid else 0
        m = len(rcid) if rcid else 0
        self.aad = bytearray(23 + (n if n > m else m))   # RFC 9146 5 additional data

    def activated(self, rl):
        """Our write keys are in use: the header grows by the CID, the plaintext by the
        real content type (DTLSInnerPlaintext, no padding)."""
        n = len(self.wcid)
        rl.prefix1 += n
        rl.overhead1 += n + 1

    def _aad(self, buf, off, cid, n):
        """RFC 9146 5: seq_num_placeholder (8 x 0xff), tls12_cid, cid_length, tls12_cid,
        version, epoch, sequence_number, cid, length_of_DTLSInnerPlaintext."""
        a = self.aad
        for i in range(8):
            a[i] = 0xFF
        a[8] = CT_TLS12_CID
        c = len(cid)
        a[9] = c
        a[10] = CT_TLS12_CID
        for i in range(10):               # version, epoch, sequence number
            a[11 + i] = buf[off + 1 + i]
        a[21:21 + c] = cid
        a[21 + c] = n >> 8
        a[22 + c] = n & 0xFF
        return memoryview(a)[:23 + c]

    def seal(self, rl, buf, off, ctype, n):
        """Protect the record whose plaintext (n bytes) is at off + rl.prefix1, in epoch 1
        (the core's seal with the CID header and the inner plaintext)."""
        seq = rl.seq[1]
        if seq > MAX_SEQ:
            raise NxError(NX_NOT_SUCCESSFUL)
        rl.seq[1] = seq + 1
        st = rl.write1
        cid = self.wcid
        c = len(cid)
        h = RECORD_HEADER + c
        buf[off] = CT_TLS12_CID
        buf[off + 1] = 0xFE
        buf[off + 2] = 0xFD
        buf[off + 3] = 0
        buf[off + 4] = 1
        _put48(buf, off + 5, seq)
        buf[off + 11:off + 11 + c] = cid
        p = off + h
        q = off + rl.prefix1              # the plaintext
        buf[q + n] = ctype                # DTLSInnerPlaintext.real_type
        n += 1
        if st.aead:
            nonce = rl.wnonce
            for i in range(8):
                nonce[4 + i] = buf[off + 3 + i]
                buf[p + i] = buf[off + 3 + i]
            st.ctx.seal(nonce, self._aad(buf, off, cid, n), buf, p + 8, n)
            total = 8 + n + st.tag
        else:
            total = seal_cbc(st, self._aad(buf, off, cid, n), buf, off, p, n)
        buf[off + 11 + c] = total >> 8
        buf[off + 12 + c] = total & 0xFF
        return h + total

    def open(self, rl, buf, off, end):
        """Parse and unprotect a tls12_cid record (the core's open for this format):
        NX_SUCCESS with r_type the real content type, or a code to discard it."""
        cid = self.rcid
        c = len(cid)
        h = RECORD_HEADER + c
        if end - off < h:
            rl.r_next = end
            return NX_SECURE_TLS_INVALID_PACKET
        length = (buf[off + 11 + c] << 8) | buf[off + 12 + c]
        nxt = off + h + length
        if nxt > end:
            rl.r_next = end
            return NX_SECURE_TLS_INVALID_PACKET
        rl.r_next = nxt
        if ((buf[off + 1] << 8) | buf[off + 2]) != 0xFEFD:
            return NX_SECURE_TLS_UNKNOWN_TLS_VERSION
        for i in range(c):
            if buf[off + 11 + i] != cid[i]:
                return NX_SECURE_TLS_INVALID_PACKET      # not our CID
        epoch = (buf[off + 3] << 8) | buf[off + 4]
        if epoch != 1 or rl.read_epoch != 1:
            return NX_SECURE_TLS_INVALID_EPOCH
        hi = (buf[off + 5] << 8) | buf[off + 6]
        seq = (((buf[off + 7] << 8) | buf[off + 8]) << 16) | (buf[off + 9] << 8) | buf[off + 10]
        if hi:
            seq |= hi << 32
        if seq <= rl.w1.top and not rl.w1.check(seq):
            return NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
        st = rl.read1
        p = off + h
        if st.aead:
            n = length - 8 - st.tag
            if n < 1:
                return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
            nonce = rl.rnonce
            for i in range(8):
                nonce[4 + i] = buf[p + i]
            if not st.ctx.open(nonce, self._aad(buf, off, cid, n), buf, p + 8, length - 8):
                return NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE
            q = p + 8
        else:
            status = rl.open_cbc(st, buf, p, length, self, off)
            if status != NX_SUCCESS:
                return status
            q = rl.r_off
            n = rl.r_len
        # RFC 9146 4: the real type is the last non-zero byte; zeros after it are padding
        while n > 0 and buf[q + n - 1] == 0:
            n -= 1
        if n == 0:
            return NX_SECURE_TLS_INVALID_PACKET
        rl.r_type = buf[q + n - 1]
        rl.r_epoch = 1
        rl.r_seq = seq
        rl.r_off = q
        rl.r_len = n - 1
        return NX_SUCCESS

    def mac_head(self, buf, off, n):
        """The MAC's header of a received tls12_cid record (RFC 9146 5)."""
        return self._aad(buf, off, self.rcid, n)


# --- the feature --------------------------------------------------------------------
class ConnectionId(Feature):
    def __init__(self, server, cid=b"", cid_length=0):
        self.server = server
        self.cid = cid                    # client: the CID we ask the server to use
        self.cid_length = cid_length      # server: the length of the CIDs we give
        self.by_cid = {}                  # server: CID -> session

    def hello(self, e, w):
        if not self.server:
            push_connection_id_extension(w, self.cid)
            return
        if e.cid_peer is None or not e.suite.aead:
            return                        # not offered, or a CBC suite: no CID
        owner = e.owner
        old = getattr(owner, "_cid", None)
        if old is not None and self.by_cid.get(old) is owner:
            del self.by_cid[old]
        cid = bytearray(self.cid_length)
        while True:
            e.random_into(cid)
            if bytes(cid) not in self.by_cid:
                break
        cid = bytes(cid)
        owner._cid = cid
        self.by_cid[cid] = owner
        push_connection_id_extension(w, cid)
        _use(e, e.cid_peer, cid)

    def peer_hello(self, e, h):
        data = take(h, EXT_CONNECTION_ID)
        peer = None if data is None else pull_connection_id_extension(data)
        if self.server:
            e.cid_peer = peer
            return
        if peer is not None:
            _use(e, peer, self.cid)

    # --- server: a datagram from an address we do not know (server.py _receive)
    def find(self, packet):
        """The session whose CID the datagram's first record carries, if any."""
        b = packet._buf
        p = packet.nx_packet_prepend_ptr
        n = self.cid_length
        if b[p] != CT_TLS12_CID or packet.nx_packet_append_ptr - p < RECORD_HEADER + n:
            return None
        return self.by_cid.get(bytes(b[p + 11:p + 11 + n]))

    def moved(self, server, s, addr):
        """RFC 9146 6: a newer record from addr authenticated: the peer is there now."""
        old = s._peer
        if old == addr:
            return
        if server._by_addr.get(old) is s:
            del server._by_addr[old]
        s._peer = addr
        s._match = None
        server._by_addr[addr] = s
        server._last = s
        self.moves = getattr(self, "moves", 0) + 1


def _use(e, wcid, rcid):
    """Records of epoch 1 carry the CIDs from now on: the peer's in what we send (when
    it asked for one), ours in what we receive (when we asked)."""
    r = CidRecords(wcid if wcid else None, rcid if rcid else None)
    rl = e.record
    rl.cidw = r if wcid else None
    rl.cidr = r if rcid else None


# --- services -----------------------------------------------------------------------
def nxsecure_dtls_session_connection_id_set(session_ptr, cid, cid_length):
    """nxsecure extension (RFC 9146): a client offers Connection IDs; `cid` (0..8
    bytes) is what the server is to put in the records it sends us; None turns it off.
    Applies to the next handshake."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR
    f = None
    if cid is not None:
        try:
            if not isinstance(cid_length, int) or cid_length < 0 or cid_length > MAX_CID \
                    or cid_length > len(cid):
                return NX_INVALID_PARAMETERS
            f = ConnectionId(False, bytes(cid[:cid_length]))
        except TypeError:
            return NX_INVALID_PARAMETERS
    install(session_ptr._engine, f, ConnectionId)
    return NX_SUCCESS


def nxsecure_dtls_server_connection_id_set(server_ptr, cid_length):
    """nxsecure extension (RFC 9146): give each client that offers the extension a
    random Connection ID of cid_length (1..8) bytes, and find its session by it when its
    address changes; 0 turns it off. Applies to handshakes that begin after the call."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    if not isinstance(cid_length, int) or cid_length < 0 or cid_length > MAX_CID:
        return NX_INVALID_PARAMETERS
    f = ConnectionId(True, cid_length=cid_length) if cid_length else None
    server_ptr._cid = f
    for s in server_ptr._sessions:
        install(s._engine, f, ConnectionId)
    return NX_SUCCESS


def nxsecure_dtls_session_connection_id_get(session_ptr):
    """nxsecure extension: -> (status, ours, peers): the CID records to us carry and the
    one ours to the peer carry (None: that direction has none)."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status, None, None
    rl = session_ptr._engine.record
    return (NX_SUCCESS, None if rl.cidr is None else rl.cidr.rcid,
            None if rl.cidw is None else rl.cidw.wcid)


__all__ = ("nxsecure_dtls_session_connection_id_set", "nxsecure_dtls_server_connection_id_set",
           "nxsecure_dtls_session_connection_id_get")
