"""Secure renegotiation (RFC 5746): a new handshake inside an established association, started by either side, bound to the one before."""
# Optional: loaded only when the application calls one of these services. Off by
# default: without it (or when the application's callback refuses) the core answers a
# peer's HelloRequest or ClientHello with a no_renegotiation warning (RFC 5246 7.2.2).
#
#   nxsecure_dtls_session_renegotiation_enable(session, metadata_buffer, metadata_size)
#   nxsecure_dtls_server_renegotiation_enable(server, metadata_buffer, metadata_size)
#       allow renegotiation on a client session / on every session of a server; the
#       buffer holds the next epoch's keys while the current ones still protect the
#       handshake (the size nx_secure_tls_metadata_size_calculate gives, per session);
#       None turns it off
#   nxsecure_dtls_session_renegotiate_callback_set(session, func)
#   nxsecure_dtls_server_renegotiate_callback_set(server, func)
#       func(session) -> NX_SUCCESS accepts the peer's renegotiation, anything else
#       declines it (no callback: accepted)
#   nxsecure_dtls_session_renegotiate(session, wait_option)
#       start one: a client sends a new ClientHello, a server a HelloRequest
#       (RFC 5246 7.4.1.1). -> NX_SUCCESS once the new handshake finished,
#       NX_CONTINUE while under way, NX_SECURE_TLS_NO_RENEGOTIATION_ERROR when the
#       peer declined (the session goes on with its keys), the handshake's error else.
#
# Only with the binding: both hellos of the handshake before carried renegotiation_info
# (or the client the SCSV, RFC 5746 3.6); the new hellos carry the verify_data of the
# Finished messages before (3.5, 3.7) and the core checks them (handshake.check_reneg_info;
# handshake_failure on a mismatch); a renegotiating ClientHello with the SCSV is refused
# (3.7). Application data flows meanwhile: the handshake runs in the current epoch, under
# its keys, and moves to the next (RFC 6347 4.1, record.RecordLayer.renegotiate).
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_CONTINUE,
    NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_NO_RENEGOTIATION_ERROR,
    NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE, NX_SECURE_TLS_RENEGOTIATION_FAILURE,
)
from .feature import Feature, install, installed
from .handshake import u16_list_has
from . import config

_HT_HELLO_REQUEST = 0
_HT_CLIENT_HELLO = 1
_SCSV = 0x00FF                  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3)
_AD_HANDSHAKE_FAILURE = 40
_CONNECTED = 20                 # nxsecure.dtls states
_ERROR = 22
_CLOSED = 21
_C_HELLO = 1
_S_HELLO = 10
_RECORD_HEADER = 13
# what a declined renegotiation gives back to the engine (e.reset() cleared it)
_KEEP = ("suite", "kx", "ems", "secure_reneg", "session_id", "max_send", "max_recv", "psk",
         "psk_identity", "hint", "peer_key", "local_cert", "session_hash", "group",
         "sign_alg", "cert_requested", "peer_cert", "resumed")


class Renegotiation(Feature):
    """One per session: the other half of the key memory, the callback, counts."""

    def __init__(self, md):
        self.md = md
        self.callback = None
        self.count = 0              # renegotiations finished
        self.declined_by_peer = False
        self.saved = None

    # --- hooks
    def peer_hello(self, e, h):
        # RFC 5746 3.7: a renegotiating ClientHello must not carry the SCSV
        if e.reneg is self and not e.is_client and u16_list_has(h.suites, _SCSV):
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_HANDSHAKE_FAILURE)

    def connected(self, e, now):
        if e.reneg is self and e.reneg_bind is not None:
            self.count += 1
        e.reneg = None
        self.saved = None

    def failed(self, e):
        e.reneg = None

    def timer(self, e, now):
        # our HelloRequest waits for the client's ClientHello (RFC 6347 4.2.4)
        if e.reneg is self and e.state == _CONNECTED:
            if e.flight.transmissions >= config.NX_SECURE_DTLS_MAX_TRANSMISSIONS:
                e.reneg = None      # not answered: the session goes on as it was
                self.declined_by_peer = True
            else:
                e.flight.expired(now)

    def declined(self, e):
        """The peer answered with no_renegotiation (RFC 5246 7.2.2): keep the session."""
        self.declined_by_peer = True
        if e.state == _CONNECTED:               # the client declined our HelloRequest
            e.reneg = None
            e._arm(None)
        elif e.state == _C_HELLO and self.saved is not None:
            self._undo(e)

    def peer_renegotiates(self, e, msg_type, whole, seq, now):
        if not self._may(e) or e.is_client != (msg_type == _HT_HELLO_REQUEST):
            return False
        cb = self.callback
        if cb is not None and cb(e.owner) != NX_SUCCESS:
            return False
        if not e.is_client:
            return self._server_start(e, whole, seq, now)
        self._client_start(e, now)
        # RFC 6347 4.2.2: the server's messages go on from its HelloRequest's
        e.reasm.reset(seq + 1)
        return True

    # --- the new handshake
    def _may(self, e):
        # the binding was negotiated; Connection ID records are kept to epoch 1
        rl = e.record
        return e.secure_reneg and rl.cidw is None and rl.cidr is None

    def _begin(self, e, bind):
        e.reneg = self
        self.declined_by_peer = False
        _shift(e.record)
        e.metadata, self.md = self.md, e.metadata     # the new keys go to the other half
        e.reneg_bind = bind

    def _client_start(self, e, now):
        self.saved = [getattr(e, k) for k in _KEEP]
        # RFC 5746 3.5: the ClientHello carries client_verify_data, the ServerHello
        # client_verify_data then server_verify_data
        self._begin(e, (e.vd_sent, e.vd_sent + e.vd_peer))
        e.role.start(e, now)                # e.reset() keeps the record layer
        self._deadline(e, now)

    def _server_start(self, e, whole, seq, now):
        f = e.flight
        n = len(whole)
        if n > len(f.buf):
            return False                    # declined (no_renegotiation)
        # RFC 6347 4.2.2: our messages go on from our HelloRequest's message_seq, or
        # answer with the ClientHello's (as to a first ClientHello)
        nxt = e.send_seq if e.reneg is self else seq
        f.buf[:n] = whole                   # the ClientHello, held as dtls_server does
        # RFC 5746 3.7: the ClientHello carries client_verify_data, our ServerHello
        # client_verify_data then server_verify_data
        self._begin(e, (e.vd_peer + e.vd_sent, e.vd_peer))
        e.reset()
        f.used = n
        e.held_hello = True
        e.send_seq = nxt
        e.peer_flight_seq = seq
        e.reasm.reset(seq + 1)
        e._set_state(_S_HELLO)
        e.role.start(e, now)
        self._deadline(e, now)
        return True

    def _deadline(self, e, now):
        if e.state != _ERROR:
            e.hs_deadline = e.ticks_add(now, config.NX_SECURE_DTLS_HANDSHAKE_TIMEOUT_MS)
            e._timer_changed()

    def _undo(self, e):
        """The server declined our ClientHello: back to the current epoch as it was."""
        rl = e.record
        rl.base -= 1
        rl.read1 = rl.read0
        rl.write1 = rl.write0
        rl.read0 = rl.write0 = None
        rl.prefix1 = rl.prefix0
        rl.overhead1 = rl.overhead0
        rl.prefix0 = rl.overhead0 = _RECORD_HEADER
        _copy_window(rl.w1, rl.w0)
        rl.w0.reset()
        rl.seq[1] = rl.seq[0]
        rl.seq[0] = 0
        rl.read_epoch = rl.write_epoch = 1
        e.metadata, self.md = self.md, e.metadata
        for i in range(len(_KEEP)):
            setattr(e, _KEEP[i], self.saved[i])
        self.saved = None
        e.reneg = e.reneg_bind = None
        e.flight.reset()
        e._stop()
        e._set_state(_CONNECTED)

    def renegotiate(self, e, now):
        """nxsecure_dtls_session_renegotiate's work. -> a NetX code."""
        if e.state != _CONNECTED:
            return NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE
        if not self._may(e):
            return NX_SECURE_TLS_RENEGOTIATION_FAILURE
        if e.reneg is not None:
            return NX_CONTINUE
        try:
            if e.is_client:
                self._client_start(e, now)
                return NX_SUCCESS
            # RFC 5246 7.4.1.1: HelloRequest, not part of the handshake hash; its
            # message_seq opens a new count (RFC 6347 4.2.2)
            e.reneg = self
            self.declined_by_peer = False
            f = e.flight
            f.begin()
            e.send_seq = 0
            w = f.message(1)
            f.end(w, _HT_HELLO_REQUEST)
            f.send(now, True)
        except NxError as x:
            e._fail(x.code, x.alert)
            return x.code
        return NX_SUCCESS


def _shift(rl):
    """A renegotiation begins (RFC 6347 4.1): the record layer's current epoch, its
    keys, replay window and sequence numbers become the engine's epoch 0, in which the
    new handshake runs; epoch 1 waits for the new keys (record.RecordLayer)."""
    rl.base += 1
    rl.read0 = rl.read1
    rl.write0 = rl.write1
    rl.prefix0 = rl.prefix1
    rl.overhead0 = rl.overhead1
    _copy_window(rl.w0, rl.w1)
    rl.w1.reset()
    rl.seq[0] = rl.seq[1]
    rl.seq[1] = 0
    rl.read1 = rl.write1 = None
    rl.read_epoch = rl.write_epoch = 0


def _copy_window(dst, src):
    dst.bits[:] = src.bits
    dst.top = src.top


def _done(e):
    return e.reneg is None or e.state == _ERROR or e.state == _CLOSED


def nxsecure_dtls_session_renegotiate(dtls_session, wait_option):
    """nxsecure extension (RFC 5746): renegotiate the session's keys (see the module's
    comment)."""
    from .session import _live
    from . import netx, port
    status = _live(dtls_session)
    if status:
        return status
    e = dtls_session._engine
    f = installed(e, Renegotiation)
    if f is None:
        return NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
    status = f.renegotiate(e, port.ticks_ms())
    if status != NX_SUCCESS and status != NX_CONTINUE:
        return status
    netx._wait(lambda: _done(e), wait_option)
    if e.state == _ERROR:
        return e.error
    if e.state == _CLOSED:
        return NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE
    if e.reneg is not None:
        return NX_CONTINUE
    if f.declined_by_peer:
        return NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
    return NX_SUCCESS


def _areas(buf, size, n, need):
    if buf is None:
        return None
    if not isinstance(size, int) or size < 0 or size > len(buf) or size // n < need:
        return False
    mv = memoryview(buf)
    share = size // n
    return [mv[i * share:(i + 1) * share] for i in range(n)]


def nxsecure_dtls_session_renegotiation_enable(dtls_session, metadata_buffer, metadata_size):
    """nxsecure extension (RFC 5746): allow renegotiation on a client session; the
    buffer holds the next epoch's keys (the session's metadata size). None: off."""
    from .session import _live
    status = _live(dtls_session)
    if status:
        return status
    if dtls_session._server is not None:
        return NX_PTR_ERROR
    e = dtls_session._engine
    areas = _areas(metadata_buffer, metadata_size, 1, len(e.metadata))
    if areas is False:
        return NX_INVALID_PARAMETERS
    install(e, None if areas is None else Renegotiation(areas[0]), Renegotiation)
    return NX_SUCCESS


def nxsecure_dtls_server_renegotiation_enable(server_ptr, metadata_buffer, metadata_size):
    """nxsecure extension (RFC 5746): allow renegotiation on every session of the
    server; the buffer is divided among them (as nx_secure_dtls_server_create's
    metadata buffer). None: off."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    sessions = server_ptr._sessions
    areas = _areas(metadata_buffer, metadata_size, len(sessions),
                   len(sessions[0]._engine.metadata))
    if areas is False:
        return NX_INVALID_PARAMETERS
    for i in range(len(sessions)):
        install(sessions[i]._engine, None if areas is None else Renegotiation(areas[i]),
                Renegotiation)
    return NX_SUCCESS


def nxsecure_dtls_session_renegotiate_callback_set(dtls_session, func_ptr):
    """nxsecure extension: func(session) -> NX_SUCCESS accepts a peer's renegotiation
    on this session; None accepts every one (renegotiation must be enabled)."""
    from .session import _live
    status = _live(dtls_session)
    if status:
        return status
    f = installed(dtls_session._engine, Renegotiation)
    if f is None:
        return NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
    f.callback = func_ptr
    return NX_SUCCESS


def nxsecure_dtls_server_renegotiate_callback_set(server_ptr, func_ptr):
    """nxsecure extension: the callback of every session of the server."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        f = installed(s._engine, Renegotiation)
        if f is None:
            return NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
        f.callback = func_ptr
    return NX_SUCCESS


__all__ = ("nxsecure_dtls_session_renegotiate", "nxsecure_dtls_session_renegotiation_enable",
           "nxsecure_dtls_server_renegotiation_enable",
           "nxsecure_dtls_session_renegotiate_callback_set",
           "nxsecure_dtls_server_renegotiate_callback_set")
