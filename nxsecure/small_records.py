"""Small records: max_fragment_length (RFC 6066 4) and record_size_limit (RFC 8449), negotiated and enforced both ways."""
# Optional: loaded only when the application calls one of these services.
#
#   nxsecure_dtls_session_max_fragment_length_set(session, length)   client: ask for
#       records of at most `length` bytes (512, 1024, 2048, 4096; 0: off) both ways
#   nxsecure_dtls_session_record_size_limit_set(session, limit)      client: announce the
#       largest record plaintext we accept (64..16384; 0: off)
#   nxsecure_dtls_server_record_size_limit_set(server, limit)        server: honour both
#       extensions from clients, announcing `limit` as ours (64..16384; 0: off)
#   nxsecure_dtls_session_record_size_get(session) -> (status, send, receive)
#       the limits in force: the largest plaintext we send / accept in one record
#
# A negotiated length bounds every record we send: handshake fragments (Flight.send)
# and application records (nx_secure_dtls_session_send answers NX_INVALID_PARAMETERS
# past it). A protected record from the peer longer than what we announced ends the
# association with record_overflow (RFC 6066 4, RFC 8449 4).
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_SECURE_TLS_HANDSHAKE_FAILURE,
)
from .feature import Feature, install, take, exact

EXT_MAX_FRAGMENT_LENGTH = 1       # RFC 6066 4
EXT_RECORD_SIZE_LIMIT = 28        # RFC 8449 4
MAX_PLAINTEXT = 16384             # RFC 5246 6.2.1: 2^14
_AD_ILLEGAL_PARAMETER = 47
_LENGTHS = (512, 1024, 2048, 4096)    # RFC 6066 4: codes 1..4 are 2^9..2^12


# --- codecs of the two extensions' data -------------------------------------------
def push_max_fragment_length(w, length):
    """RFC 6066 4: MaxFragmentLength, one byte: 1 = 2^9 ... 4 = 2^12."""
    w.u16(EXT_MAX_FRAGMENT_LENGTH)
    w.u16(1)
    w.u8(_LENGTHS.index(length) + 1)


def pull_max_fragment_length(data):
    """-> the length in bytes; illegal_parameter for a code outside 1..4 (RFC 6066 4)."""
    exact(data, 1)
    code = data.u8()
    if code < 1 or code > 4:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    return _LENGTHS[code - 1]


def push_record_size_limit(w, limit):
    """RFC 8449 4: RecordSizeLimit, uint16."""
    w.u16(EXT_RECORD_SIZE_LIMIT)
    w.u16(2)
    w.u16(limit)


def pull_record_size_limit(data):
    """-> the peer's limit, at most 2^14 (RFC 8449 4: a larger value means the protocol's
    maximum); illegal_parameter below 64."""
    exact(data, 2)
    limit = data.u16()
    if limit < 64:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    return limit if limit < MAX_PLAINTEXT else MAX_PLAINTEXT


# --- the feature ------------------------------------------------------------------
class SmallRecords(Feature):
    """One per client session, one shared by a server's sessions (what a handshake
    negotiated is kept on its engine)."""

    def __init__(self, server):
        self.server = server
        self.mfl = 0            # client: the max_fragment_length asked for (bytes)
        self.rsl = 0            # our record_size_limit (0: not announced)

    # client: ClientHello; server: ServerHello with what peer_hello chose
    def hello(self, e, w):
        if self.server:
            if e.sr_reply_mfl:
                push_max_fragment_length(w, e.sr_reply_mfl)
            if e.sr_reply_rsl:
                push_record_size_limit(w, e.sr_reply_rsl)
            return
        if self.mfl:
            push_max_fragment_length(w, self.mfl)
        if self.rsl:
            push_record_size_limit(w, self.rsl)

    def peer_hello(self, e, h):
        mfl = take(h, EXT_MAX_FRAGMENT_LENGTH)
        rsl = take(h, EXT_RECORD_SIZE_LIMIT)
        if self.server:
            self._server_choice(e, mfl, rsl)
            return
        if (mfl is not None and not self.mfl) or (rsl is not None and not self.rsl):
            h.exts.append((0, None))        # not offered: the core refuses it
            return
        if mfl is not None and rsl is not None:
            # RFC 8449 5: a server answers one of them, never both
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
        if mfl is not None:
            # RFC 6066 4: the server echoes the very value asked for
            if pull_max_fragment_length(mfl) != self.mfl:
                raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
            e.max_send = e.max_recv = self.mfl
        elif rsl is not None:
            e.max_send = pull_record_size_limit(rsl)
            e.max_recv = self.rsl

    def _server_choice(self, e, mfl, rsl):
        e.sr_reply_mfl = 0
        e.sr_reply_rsl = 0
        if rsl is not None:
            # RFC 8449 5: with both, record_size_limit wins and max_fragment_length is
            # ignored; ours is announced in the ServerHello
            e.max_send = pull_record_size_limit(rsl)
            e.max_recv = e.sr_reply_rsl = self.rsl
        elif mfl is not None:
            n = pull_max_fragment_length(mfl)
            e.max_send = e.max_recv = e.sr_reply_mfl = n


def _live_session(session):
    from .session import _live
    return _live(session)


def _client_feature(session):
    from .feature import installed
    e = session._engine
    f = installed(e, SmallRecords)
    if f is None:
        f = SmallRecords(False)
    return e, f


def _apply(e, f):
    install(e, f if (f.mfl or f.rsl) else None, SmallRecords)


def nxsecure_dtls_session_max_fragment_length_set(session_ptr, length):
    """nxsecure extension (RFC 6066 4): a client asks the server for records of at most
    `length` bytes of plaintext in both directions: 512, 1024, 2048 or 4096; 0 stops
    asking. Applies to the next handshake."""
    status = _live_session(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR
    if length not in _LENGTHS and length != 0:
        return NX_INVALID_PARAMETERS
    e, f = _client_feature(session_ptr)
    f.mfl = length
    _apply(e, f)
    return NX_SUCCESS


def _limit_ok(limit):
    return isinstance(limit, int) and (limit == 0 or 64 <= limit <= MAX_PLAINTEXT)


def nxsecure_dtls_session_record_size_limit_set(session_ptr, limit):
    """nxsecure extension (RFC 8449): a client announces the largest record plaintext it
    accepts, 64..16384 bytes; 0 stops announcing. Applies to the next handshake."""
    status = _live_session(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR
    if not _limit_ok(limit):
        return NX_INVALID_PARAMETERS
    e, f = _client_feature(session_ptr)
    f.rsl = limit
    _apply(e, f)
    return NX_SUCCESS


def nxsecure_dtls_server_record_size_limit_set(server_ptr, limit):
    """nxsecure extension: the server honours max_fragment_length (RFC 6066 4) and
    record_size_limit (RFC 8449) from its clients and announces `limit` (64..16384) as
    the largest record plaintext it accepts; 0 turns both off. Applies to handshakes
    that begin after the call."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    if not _limit_ok(limit):
        return NX_INVALID_PARAMETERS
    f = None
    if limit:
        f = SmallRecords(True)
        f.rsl = limit
    for s in server_ptr._sessions:
        install(s._engine, f, SmallRecords)
    return NX_SUCCESS


def nxsecure_dtls_session_record_size_get(session_ptr):
    """nxsecure extension: -> (status, send, receive): the largest record plaintext this
    session sends and accepts, as negotiated (16384 each without a limit)."""
    status = _live_session(session_ptr)
    if status:
        return status, 0, 0
    e = session_ptr._engine
    return NX_SUCCESS, e.max_send, e.max_recv


__all__ = ("nxsecure_dtls_session_max_fragment_length_set",
           "nxsecure_dtls_session_record_size_limit_set",
           "nxsecure_dtls_server_record_size_limit_set",
           "nxsecure_dtls_session_record_size_get")
