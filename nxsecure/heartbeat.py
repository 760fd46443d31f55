"""Keep-alive with DTLS heartbeats (RFC 6520): a keep-alive time and retry interval, both roles, a silent peer reported as gone."""
# Optional: loaded only when the application calls one of these services.
#
#   nxsecure_dtls_session_keep_alive_set(session, keep_alive_time, keep_alive_interval,
#                                        keep_alive_retries)        a client session
#   nxsecure_dtls_server_keep_alive_set(server, keep_alive_time, keep_alive_interval,
#                                       keep_alive_retries)         every server session
#
# Times in ticks (like IPWorks' KeepAliveTime / KeepAliveInterval). With keep_alive_time
# > 0 both hellos carry the heartbeat extension in mode peer_allowed_to_send (we answer
# the peer's requests). Once connected, when nothing authenticated came from the peer
# for keep_alive_time, and the peer allows it, we send a HeartbeatRequest; unanswered,
# it is sent again every keep_alive_interval, keep_alive_retries times; then the peer is
# taken for gone: the association ends with NXSECURE_DTLS_PEER_TIMEOUT (a client's
# nx_secure_dtls_session_receive returns it; a server calls disconnect_notify, and
# nxsecure_dtls_session_disconnect_reason_get says NXSECURE_DTLS_PEER_TIMEOUT). Any
# authenticated record from the peer, a HeartbeatResponse among them, restarts the wait.
# keep_alive_time 0 turns the feature off.
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_SECURE_TLS_HANDSHAKE_FAILURE,
    NXSECURE_DTLS_PEER_TIMEOUT,
)
from .feature import Feature, install, take, exact

EXT_HEARTBEAT = 15                # RFC 6520 2
PEER_ALLOWED_TO_SEND = 1
PEER_NOT_ALLOWED_TO_SEND = 2
HEARTBEAT_REQUEST = 1             # RFC 6520 3
HEARTBEAT_RESPONSE = 2
_CT_HEARTBEAT = 24
_PAYLOAD = 16                     # our request's payload: fresh random bytes
_PADDING = 16                     # RFC 6520 4: at least 16 bytes of random padding
_AD_ILLEGAL_PARAMETER = 47


# --- codecs ------------------------------------------------------------------------
def push_heartbeat_extension(w, mode):
    """RFC 6520 2: HeartbeatExtension { HeartbeatMode mode; }."""
    w.u16(EXT_HEARTBEAT)
    w.u16(1)
    w.u8(mode)


def pull_heartbeat_extension(data):
    """-> the mode; illegal_parameter for an unknown one (RFC 6520 2)."""
    exact(data, 1)
    mode = data.u8()
    if mode != PEER_ALLOWED_TO_SEND and mode != PEER_NOT_ALLOWED_TO_SEND:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    return mode


def push_heartbeat_message(buf, off, msg_type, payload, padding):
    """RFC 6520 4: type, payload_length, payload, padding (`padding` bytes, already
    random in buf or written by the caller). -> the message length."""
    n = len(payload)
    buf[off] = msg_type
    buf[off + 1] = n >> 8
    buf[off + 2] = n & 0xFF
    buf[off + 3:off + 3 + n] = payload
    return 3 + n + padding


def pull_heartbeat_message(buf, off, n):
    """-> (type, payload offset, payload length), or None for a message to discard
    silently: a payload_length past the record less 16 bytes of padding (RFC 6520 4)."""
    if n < 3 + _PADDING:
        return None
    length = (buf[off + 1] << 8) | buf[off + 2]
    if 3 + length + _PADDING > n:
        return None
    return buf[off], off + 3, length


# --- the feature ------------------------------------------------------------------
class KeepAlive(Feature):
    """One per client session, one shared by a server's sessions; per association the
    state is on the engine (hb_* attributes)."""

    def __init__(self, server, time_ms, interval_ms, retries):
        self.server = server
        self.time_ms = time_ms
        self.interval_ms = interval_ms
        self.retries = retries

    def hello(self, e, w):
        # the client always offers; the server answers an offer (RFC 6520 2)
        if not self.server or e.hb_mode:
            push_heartbeat_extension(w, PEER_ALLOWED_TO_SEND)

    def peer_hello(self, e, h):
        data = take(h, EXT_HEARTBEAT)
        e.hb_mode = 0 if data is None else pull_heartbeat_extension(data)
        e.hb_due = None

    def connected(self, e, now):
        e.hb_top = e.record.w1.top
        e.hb_tries = 0
        e.hb_sent = 0               # requests we sent
        e.hb_answered = 0           # responses to them that came back
        e.hb_requests = 0           # the peer's requests we answered
        if getattr(e, "hb_payload", None) is None:
            e.hb_payload = bytearray(_PAYLOAD)      # once per engine, reused
        e.hb_waiting = False
        if e.hb_mode == PEER_ALLOWED_TO_SEND:
            self._wait(e, now, self.time_ms)

    def _wait(self, e, now, ms):
        e.hb_due = e.ticks_add(now, ms)
        e._arm(e.hb_due)

    def timer(self, e, now):
        due = getattr(e, "hb_due", None)
        if due is None:
            return
        if e.ticks_diff(now, due) < 0:
            e._arm(due)              # woken early (the deadline was borrowed)
            return
        top = e.record.w1.top
        if top != e.hb_top:
            # the peer was heard from since: wait the keep-alive time again
            e.hb_top = top
            e.hb_tries = 0
            e.hb_waiting = False
            self._wait(e, now, self.time_ms)
            return
        if e.hb_tries > self.retries:
            e.hb_due = None
            e.end_reason = NXSECURE_DTLS_PEER_TIMEOUT
            e._fail(NXSECURE_DTLS_PEER_TIMEOUT, None)
            return
        # RFC 6520 4: one request in flight, sent again with the same payload
        if not e.hb_waiting:
            e.random_into(e.hb_payload)
            e.hb_waiting = True
        e.hb_tries += 1
        self._send(e, HEARTBEAT_REQUEST, e.hb_payload)
        e.hb_sent += 1
        self._wait(e, now, self.interval_ms)

    def _send(self, e, msg_type, payload):
        rl = e.record
        tx = e.tx
        pre = rl.write_prefix(1)
        n = 3 + len(payload) + _PADDING
        if n > e.max_send or pre + n + 64 > len(tx):
            return                   # a response that would not fit is not sent
        e.random_into(tx[pre + 3 + len(payload):pre + n])
        push_heartbeat_message(tx, pre, msg_type, payload, _PADDING)
        total = rl.seal(tx, 0, _CT_HEARTBEAT, 1, n)
        e.owner._dtls_output(tx[:total])

    def record(self, e, ctype, buf, off, n, now):
        if ctype != _CT_HEARTBEAT or not e.hb_mode:
            return                   # not negotiated: dropped
        m = pull_heartbeat_message(buf, off, n)
        if m is None:
            return
        msg_type, p, length = m
        e.record.accept()
        if msg_type == HEARTBEAT_REQUEST:
            # RFC 6520 4: answer with a copy of the payload (we allowed the peer to send)
            self._send(e, HEARTBEAT_RESPONSE, bytes(buf[p:p + length]))
            e.hb_requests += 1
        elif msg_type == HEARTBEAT_RESPONSE and e.hb_waiting and length == _PAYLOAD:
            q = e.hb_payload
            for i in range(_PAYLOAD):
                if buf[p + i] != q[i]:
                    return           # not ours: discarded (RFC 6520 4)
            e.hb_waiting = False
            e.hb_tries = 0
            e.hb_answered += 1


def _check(keep_alive_time, keep_alive_interval, keep_alive_retries):
    for v in (keep_alive_time, keep_alive_interval, keep_alive_retries):
        if not isinstance(v, int) or v < 0:
            return False
    return keep_alive_time == 0 or keep_alive_interval > 0


def _feature(server, t, i, r):
    from .netx import _TICK_MS
    if not t:
        return None
    return KeepAlive(server, t * _TICK_MS, i * _TICK_MS, r)


def nxsecure_dtls_session_keep_alive_set(session_ptr, keep_alive_time, keep_alive_interval,
                                         keep_alive_retries):
    """nxsecure extension (RFC 6520): a client session's keep-alive (see the module's
    comment); keep_alive_time 0 turns it off. Applies to the next handshake."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR
    if not _check(keep_alive_time, keep_alive_interval, keep_alive_retries):
        return NX_INVALID_PARAMETERS
    install(session_ptr._engine, _feature(False, keep_alive_time, keep_alive_interval,
                                          keep_alive_retries), KeepAlive)
    return NX_SUCCESS


def nxsecure_dtls_server_keep_alive_set(server_ptr, keep_alive_time, keep_alive_interval,
                                        keep_alive_retries):
    """nxsecure extension (RFC 6520): keep-alive for every session of the server (see
    the module's comment); keep_alive_time 0 turns it off. Applies to handshakes that
    begin after the call."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    if not _check(keep_alive_time, keep_alive_interval, keep_alive_retries):
        return NX_INVALID_PARAMETERS
    f = _feature(True, keep_alive_time, keep_alive_interval, keep_alive_retries)
    for s in server_ptr._sessions:
        install(s._engine, f, KeepAlive)
    return NX_SUCCESS


__all__ = ("nxsecure_dtls_session_keep_alive_set", "nxsecure_dtls_server_keep_alive_set")
