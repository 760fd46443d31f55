"""NX_SECURE_DTLS_SERVER: sessions carved from the caller's buffers, demux by address, stateless cookies, notify callbacks."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from nxsecure import port
from . import config, netx
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_STILL_BOUND,
    NX_NOT_CONNECTED, NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE,
    NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS, NXSECURE_DTLS_PEER_TIMEOUT,
)
_CT_HANDSHAKE = const(22)
_HT_CLIENT_HELLO = const(1)
_HT_HELLO_VERIFY_REQUEST = const(3)
_DTLS_1_0 = const(0xFEFF)
_DTLS_1_2 = const(0xFEFD)  # RFC 6347 4.1
_AD_INTERNAL_ERROR = const(80)
from .cookie import CookieJar
from .dtls import IDLE, S_HELLO, CONNECTED, CLOSED, ERROR
from .handshake import HANDSHAKE_HEADER, pull_client_hello_prefix, push_hello_verify_request, \
    push_handshake_header
from .codec import Writer
from .psk import PskStore, equal
from .record import RECORD_HEADER, _get48
from . import session as _s
from .session import NX_SECURE_DTLS_SESSION

_SERVER_ID = 0x44545356          # "DTSV"


class _Queue:
    """An intrusive FIFO of sessions (links on the sessions themselves: _q, _qprev,
    _qnext). Each server session is in at most one: free (no client), half-open
    (handshaking, oldest first), connected (least recently active first), or spare
    (ended, its data drained: reusable). Moving costs O(1) and allocates nothing, so
    no datagram and no new client walks the session table."""

    def __init__(self):
        self.head = None
        self.tail = None

    def push(self, s):
        q = s._q
        if q is self:
            return
        if q is not None:
            q.unlink(s)
        s._q = self
        s._qnext = None
        s._qprev = self.tail
        if self.tail is None:
            self.head = s
        else:
            self.tail._qnext = s
        self.tail = s

    def unlink(self, s):
        p = s._qprev
        n = s._qnext
        if p is None:
            self.head = n
        else:
            p._qnext = n
        if n is None:
            self.tail = p
        else:
            n._qprev = p
        s._q = None
        s._qprev = None
        s._qnext = None


class NX_SECURE_DTLS_SERVER:
    """A DTLS server control block: one UDP port, many sessions."""

    def __init__(self):
        self._id = 0

    # --- the idle-session timer (nxsecure_dtls_server_idle_timeout_set) ---------------
    def _timer_fire(self, now):
        if self._id == _SERVER_ID and self._idle_ms and self._started:
            _idle_sweep(self, now)


def _live(server):
    if server is None or not isinstance(server, NX_SECURE_DTLS_SERVER) or server._id != _SERVER_ID:
        return NX_PTR_ERROR
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_create(server_ptr, ip_ptr, port_, timeout, session_buffer,
                                 session_buffer_size, crypto_table, crypto_metadata_buffer,
                                 crypto_metadata_size, packet_reassembly_buffer,
                                 packet_reassembly_buffer_size, connect_notify, receive_notify):
    if (server_ptr is None or not isinstance(server_ptr, NX_SECURE_DTLS_SERVER) or ip_ptr is None
            or session_buffer is None or crypto_table is None or crypto_metadata_buffer is None
            or packet_reassembly_buffer is None or connect_notify is None or receive_notify is None):
        return NX_PTR_ERROR
    if not isinstance(port_, int) or port_ <= 0 or port_ > 0xFFFF:
        return NX_INVALID_PARAMETERS
    status, per_md = _s.nx_secure_tls_metadata_size_calculate(crypto_table)
    if status:
        return status
    size = NX_SECURE_DTLS_SESSION.SIZE
    if (not _s._buffer_ok(session_buffer, session_buffer_size)
            or not _s._buffer_ok(crypto_metadata_buffer, crypto_metadata_size)
            or not _s._buffer_ok(packet_reassembly_buffer, packet_reassembly_buffer_size)):
        return NX_INVALID_PARAMETERS
    n = session_buffer_size // size
    if n < 1 or crypto_metadata_size // n < per_md or \
            packet_reassembly_buffer_size // n < _s._MIN_REASSEMBLY:
        return NX_INVALID_PARAMETERS
    if server_ptr._id == _SERVER_ID:
        nx_secure_dtls_server_delete(server_ptr)
    sock = netx.NX_UDP_SOCKET()
    status = netx.nx_udp_socket_create(ip_ptr, sock, "DTLS server", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                       NX_IP_TIME_TO_LIVE, 16)
    if status:
        return status
    # NetX's rule: the library only divides the caller's buffers among the sessions.
    smem = memoryview(session_buffer)
    mmem = memoryview(crypto_metadata_buffer)
    rmem = memoryview(packet_reassembly_buffer)
    md_share = crypto_metadata_size // n
    rs_share = packet_reassembly_buffer_size // n
    server_ptr._psk_mem = bytearray(PskStore.SIZE)     # one store shared by every session
    store = PskStore(memoryview(server_ptr._psk_mem))
    server_ptr._free = _Queue()
    server_ptr._halfopen = _Queue()
    server_ptr._connected = _Queue()
    server_ptr._spare = _Queue()
    sessions = []
    for i in range(n):
        s = NX_SECURE_DTLS_SESSION()
        _s._init(s, smem[i * size:(i + 1) * size], crypto_table,
                 mmem[i * md_share:(i + 1) * md_share], rmem[i * rs_share:(i + 1) * rs_share],
                 store, server_ptr)
        s._socket = sock
        s._q = s._qprev = s._qnext = None
        s._idle_top = -1        # last epoch-1 record number seen authenticated
        s._idle_at = 0          # when it was seen
        s._since = 0            # when its handshake began
        server_ptr._free.push(s)
        sessions.append(s)
    server_ptr._id = _SERVER_ID
    server_ptr._ip = ip_ptr
    server_ptr._port = port_
    server_ptr._timeout = timeout
    server_ptr._socket = sock
    server_ptr._sessions = sessions
    server_ptr._by_addr = {}                   # client address -> its session
    server_ptr._last = sessions[0]             # the session the last datagram was for
    server_ptr._psk_store = store
    server_ptr._crypto_table = crypto_table
    server_ptr._connect_notify = connect_notify
    server_ptr._receive_notify = receive_notify
    server_ptr._disconnect_notify = None
    server_ptr._error_notify = None
    server_ptr._started = False
    server_ptr._cookies = None
    server_ptr._hvr = bytearray(RECORD_HEADER + HANDSHAKE_HEADER + 3 + 32)
    server_ptr._keylog = None
    server_ptr._mtu = None
    server_ptr._due = None
    server_ptr._hs_ms = config.NX_SECURE_DTLS_HANDSHAKE_TIMEOUT_MS
    server_ptr._idle_ms = 0                    # nxsecure_dtls_server_idle_timeout_set: off
    server_ptr._cid = None                     # the Connection ID feature, when on
    server_ptr.nxsecure_idle_timeouts = 0
    # certificates (nxsecure/certs.py): the store is made on first use
    server_ptr._store = None
    server_ptr._client_verify = False
    # counters
    server_ptr.nxsecure_hello_verify_sent = 0
    server_ptr.nxsecure_datagrams_dropped = 0
    server_ptr.nxsecure_no_free_sessions = 0
    server_ptr.nxsecure_handshakes_evicted = 0
    server_ptr.nxsecure_callback_errors = 0
    server_ptr._after = lambda s: _after(server_ptr, s)
    server_ptr._place = lambda s: _place(server_ptr, s)
    server_ptr._detached = lambda s: _detached(server_ptr, s)
    for s in sessions:
        s._server = server_ptr
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_delete(server_ptr):
    if _live(server_ptr):
        return NX_PTR_ERROR
    if server_ptr._started:
        return NX_STILL_BOUND
    netx.nx_udp_socket_delete(server_ptr._socket)
    netx._timer_set(server_ptr, None)
    for s in server_ptr._sessions:
        s._id = 0
    server_ptr._sessions = []
    server_ptr._id = 0
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_start(server_ptr):
    if _live(server_ptr):
        return NX_PTR_ERROR
    if server_ptr._started:
        return NX_SUCCESS
    try:
        t = server_ptr._crypto_table
        server_ptr._cookies = CookieJar(t.hmac_sha256, port.random_into, port.ticks_ms(),
                                        port.ticks_diff, port.ticks_add, t.hmac_keyed)
    except NxError as e:
        return e.code
    sock = server_ptr._socket
    status = netx.nx_udp_socket_bind(sock, server_ptr._port, server_ptr._timeout)
    if status:
        return status
    sock._dtls_receive = server_ptr._udp_receive     # a bound method: one frame per datagram
    server_ptr._started = True
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_stop(server_ptr):
    """Stop listening and reset every session, halting in-progress communications."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        if s._peer is not None:
            try:
                s._engine.close()
            except NxError:
                pass
        _release(server_ptr, s)
    netx._timer_set(server_ptr, None)
    if server_ptr._started:
        server_ptr._socket._dtls_receive = None
        netx.nx_udp_socket_unbind(server_ptr._socket)
        server_ptr._started = False
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_psk_add(server_ptr, pre_shared_key, psk_length, psk_identity,
                                  identity_length, hint, hint_length):
    """Add a PSK; every session of the server uses the server's one store."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    return server_ptr._psk_store.add(pre_shared_key, psk_length, psk_identity, identity_length,
                                     hint, hint_length)


@netx.serialized
def nx_secure_dtls_server_notify_set(server_ptr, disconnect_notify, error_notify):
    if _live(server_ptr):
        return NX_PTR_ERROR
    server_ptr._disconnect_notify = disconnect_notify
    server_ptr._error_notify = error_notify
    return NX_SUCCESS


def _server_session(session):
    status = _s._live(session)
    if status:
        return status
    if session._server is None:
        return NX_PTR_ERROR
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_session_start(session_ptr, wait_option):
    """Run the server side of the handshake for a session given by connect_notify."""
    status = _server_session(session_ptr)
    if status:
        return status
    e = session_ptr._engine
    if e.state == S_HELLO:
        status = e.start_server(port.ticks_ms())
        _after(session_ptr._server, session_ptr)
        if status:
            return status
    elif e.state == IDLE:
        return NX_NOT_CONNECTED
    _s._wait_state(session_ptr, wait_option, _s._handshake_over)
    return _s._handshake_result(session_ptr)


def nx_secure_dtls_server_session_send(session_ptr, packet_ptr):
    status = _server_session(session_ptr)
    if status:
        return status
    if packet_ptr is None:
        return NX_PTR_ERROR
    if session_ptr._peer is None:
        return NX_NOT_CONNECTED
    return _s._send(session_ptr, packet_ptr)


@netx.serialized
def nxsecure_dtls_server_mtu_set(server_ptr, mtu):
    """nxsecure extension: the largest datagram the server's sessions send."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        status = _s.nxsecure_dtls_session_mtu_set(s, mtu)
        if status:
            return status
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_server_idle_timeout_set(server_ptr, timeout_ticks):
    """nxsecure extension (like IPWorks DTLS' DefaultIdleTimeout): a connected session
    that has received no authenticated record for timeout_ticks is ended: close_notify
    is sent, disconnect_notify(session) is called (nxsecure_idle_timeouts counts these),
    and the slot is freed once the application has received the session's queued data.
    0 (the default) turns it off."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    if not isinstance(timeout_ticks, int) or timeout_ticks < 0:
        return NX_INVALID_PARAMETERS
    server_ptr._idle_ms = timeout_ticks * netx._TICK_MS
    now = port.ticks_ms()
    s = server_ptr._connected.head
    while s is not None:
        s._idle_at = now                       # the clock starts now for everyone
        s = s._qnext
    _idle_arm(server_ptr)
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_server_handshake_timeout_set(server_ptr, timeout_ticks):
    """nxsecure extension: a handshake must be over this many ticks after its
    cookie-verified ClientHello (default config.NX_SECURE_DTLS_HANDSHAKE_TIMEOUT_MS,
    40 s), or it fails (error_notify(session, NX_SECURE_TLS_HANDSHAKE_TIMEOUT)) and its
    session is freed. It bounds how long a half-finished handshake -- a lost client, a
    peer that stops, a flood of cookie-verified hellos -- holds a session. Applies to
    handshakes that begin after the call."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    if not isinstance(timeout_ticks, int) or timeout_ticks <= 0:
        return NX_INVALID_PARAMETERS
    server_ptr._hs_ms = timeout_ticks * netx._TICK_MS
    return NX_SUCCESS


def _idle_arm(server):
    """The server's timer: the least recently active connected session's idle
    deadline (activity only moves a session to the back of the queue)."""
    s = server._connected.head
    if not server._idle_ms or s is None or not server._started:
        netx._timer_set(server, None)
    else:
        netx._timer_set(server, port.ticks_add(s._idle_at, server._idle_ms))


def _idle_sweep(server, now):
    """End the sessions idle for the timeout: only those, from the front of the
    connected queue, so a sweep costs what expires, not the size of the table."""
    idle = server._idle_ms
    q = server._connected
    while True:
        s = q.head
        if s is None or port.ticks_diff(now, s._idle_at) < idle:
            break
        try:
            s._engine.close()                  # close_notify, state CLOSED
        except NxError:
            pass
        s._engine.end_reason = NXSECURE_DTLS_PEER_TIMEOUT
        q.unlink(s)
        server.nxsecure_idle_timeouts += 1
        _call(server, server._disconnect_notify, s)
        if s._peer is not None and s._rx_head is None and s._engine.state != CONNECTED:
            _release(server, s)                # nothing left to deliver: free now
        else:
            _after(server, s)
    _idle_arm(server)


@netx.serialized
def nxsecure_dtls_server_keylog_set(server_ptr, write):
    """nxsecure extension (host debugging): NSS key log lines for every session."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        s._keylog = write
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_server_trace_set(server_ptr, trace):
    """nxsecure extension (debugging): nxsecure_dtls_session_trace_set for every
    session of the server."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        s._engine.trace = None if trace is None else _s._tracer(s, trace)
    return NX_SUCCESS


# ============================================================== the datagram path
def _release(server, s):
    """Forget a session's client; it goes back to the free queue (_detached)."""
    _s._detach(s)
    s._engine.reset()


def _detached(server, s):
    """A session lost its client (released here, or ended by a service)."""
    peer = s._peer
    if peer is not None and server._by_addr.get(peer) is s:
        del server._by_addr[peer]
    s._idle_top = -1
    server._free.push(s)


def _take_session(server, now):
    """A session for a new client: a free one, else one whose association has ended
    and whose data the application has drained (nothing accepted is ever dropped),
    else the oldest half-open handshake once it has had a retransmission timeout to
    finish: it ends with internal_error (error_notify(session,
    NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS)) and the newer, cookie-verified client gets
    its session. None when every session is connected or handshaking younger."""
    s = server._free.head
    if s is not None:
        return s
    s = server._spare.head
    if s is not None:
        _release(server, s)
        return s
    s = server._halfopen.head
    if s is not None and port.ticks_diff(now, s._since) >= config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS:
        s._engine._fail(NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS, _AD_INTERNAL_ERROR)
        s._notify_error = 0
        server.nxsecure_handshakes_evicted += 1
        _call(server, server._error_notify, s, NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS)
        _release(server, s)
        return s
    return None


def _place(server, s):
    """Put a session in the queue its state says (after every event on it)."""
    if s._peer is None:
        server._free.push(s)
        return
    st = s._engine.state
    if st == CONNECTED or s._engine.reneg is not None:     # (renegotiating: still connected)
        if s._q is not server._connected:
            server._connected.push(s)
            if server._idle_ms and server._connected.head is s:
                _idle_arm(server)
    elif st == CLOSED or st == ERROR or st == IDLE:
        if s._rx_head is None:
            server._spare.push(s)
        elif s._q is not None:
            s._q.unlink(s)                     # reusable once its data is drained
    elif s._q is not server._halfopen:
        server._halfopen.push(s)


def _receive(server, packet, addr, now):
    """The server socket's receive hook: one datagram (its arrival time `now`, the
    pump pass's clock), one path."""
    s = server._last
    if s._peer != addr:                        # the usual case: same client as before
        s = server._by_addr.get(addr)
        if s is not None:
            if s._peer == addr:
                server._last = s
            else:
                del server._by_addr[addr]     # the session was detached meanwhile
                s = None
    roam = None
    if s is None and server._cid is not None:
        # RFC 9146 6: an address we do not know, with a Connection ID we gave
        s = roam = server._cid.find(packet)
    if s is not None:
        p = packet.nx_packet_prepend_ptr
        if (packet.nx_packet_append_ptr - p < _RANDOM_AT + 32     # too short for a hello
                or packet._buf[p] != _CT_HANDSHAKE or not _new_hello(s, packet)):
            s._receive_datagram(packet, None, now)
            # authenticated epoch-1 traffic moves the replay window's top (the peer's
            # record numbers only grow): that restarts the session's idle clock
            top = s._engine.record.w1.top
            if roam is not None and top > s._idle_top:
                server._cid.moved(server, s, addr)   # newer and authentic: it moved
            if top != s._idle_top:
                s._idle_top = top
                s._idle_at = now
                if server._idle_ms and s._q is server._connected and s._qnext is not None:
                    _to_back(server, s)         # the least recently active go first
            _after(server, s)
            return
        # RFC 6347 4.2.8: a new epoch-0 ClientHello from a known address is a client
        # that lost its state (during the handshake or after it); it gets a fresh
        # handshake once it proves reachability with a cookie, and the old association
        # stays until then.
    try:
        s = _stateless(server, packet, addr, now, s)
    except NxError:
        s = None
        server.nxsecure_datagrams_dropped += 1
    if s is None:
        netx._give(packet)
        return
    s._receive_datagram(packet, None, now)           # the ClientHello's records
    _after(server, s)


def _to_back(server, s):
    q = server._connected
    q.unlink(s)
    q.push(s)


# The server socket's receive hook, as a method so the pump calls it with no
# intermediate frame: _udp_receive(packet, addr, now) on the server is _receive(server, ...).
NX_SECURE_DTLS_SERVER._udp_receive = _receive


_RANDOM_AT = RECORD_HEADER + HANDSHAKE_HEADER + 2     # after client_version


def _new_hello(s, packet):
    """Does the datagram open with the first fragment of an epoch-0 ClientHello that is
    not this association's own (a retransmission of which the session answers)?"""
    b = packet._buf
    p = packet.nx_packet_prepend_ptr
    if not (packet.nx_packet_append_ptr - p >= _RANDOM_AT + 32    # read within it only
            and b[p] == _CT_HANDSHAKE and b[p + 3] == 0 and b[p + 4] == 0
            and b[p + RECORD_HEADER] == _HT_CLIENT_HELLO
            and b[p + 19] == 0 and b[p + 20] == 0 and b[p + 21] == 0):   # fragment_offset
        return False
    st = s._engine.state
    if st == CONNECTED or st == CLOSED or st == ERROR:
        return True
    r = s._engine.client_random
    q = p + _RANDOM_AT
    for i in range(32):
        if b[q + i] != r[i]:
            return True
    return False


def _stateless(server, packet, addr, now, existing):
    """RFC 6347 4.2.1: answer a ClientHello without a valid cookie with a
    HelloVerifyRequest and keep nothing; only a valid cookie gets a session. The
    cookie is checked in the hello's first fragment (its fields up to the cookie),
    so a fragmented hello needs no state before the cookie either: the
    session it gets reassembles the rest. Returns the session that takes the
    datagram, or None (the caller releases the packet)."""
    # The record header (RFC 6347 4.1) and the fragment header (4.2.2) read in place:
    # no Reader objects (each an allocation, which on a board walks the heap).
    buf = packet._buf
    p = packet.nx_packet_prepend_ptr
    seq_mark = p + 5
    h = p + RECORD_HEADER                  # the fragment header
    if (packet.nx_packet_append_ptr - h < HANDSHAKE_HEADER or buf[p] != _CT_HANDSHAKE
            or buf[p + 3] or buf[p + 4]):                       # epoch 0 only
        raise NxError(0)
    version = (buf[p + 1] << 8) | buf[p + 2]
    # RFC 6347 4.1: the record is `length` bytes of this datagram, and (4.2.3) the
    # fragment fragment_length bytes of this record: a length that runs past its
    # container is malformed, never completed from whatever the packet buffer holds
    # beyond the datagram.
    p = h + ((buf[p + 11] << 8) | buf[p + 12])                 # (p: the record's end)
    if (p > packet.nx_packet_append_ptr or (version != _DTLS_1_0 and version != _DTLS_1_2)
            or p - h < HANDSHAKE_HEADER or buf[h] != _HT_CLIENT_HELLO
            or buf[h + 6] or buf[h + 7] or buf[h + 8]):          # fragment_offset 0
        raise NxError(0)
    version = (buf[h + 9] << 16) | (buf[h + 10] << 8) | buf[h + 11]   # fragment_length
    if (h + HANDSHAKE_HEADER + version > p
            or version > (buf[h + 1] << 16) | (buf[h + 2] << 8) | buf[h + 3]):  # length
        raise NxError(0)
    message_seq = (buf[h + 4] << 8) | buf[h + 5]
    h += HANDSHAKE_HEADER
    hello = pull_client_hello_prefix(buf[h:h + version])
    jar = server._cookies
    if len(hello.cookie) == 0 or not jar.check(now, addr, hello):
        _send_hello_verify(server, buf, seq_mark, message_seq, jar.make(now, addr, hello), addr)
        return None
    s = existing
    if s is not None and equal(hello.random, s._engine.client_random):
        # The very ClientHello that set up this association, replayed (its cookie is
        # still good for up to two periods): a client that lost its state sends a
        # fresh random, so this one must not end the live association.
        server.nxsecure_datagrams_dropped += 1
        return None
    if s is not None:
        if jar.last_serial <= s._cookie_floor:
            # RFC 6347 4.2.8: a new handshake may replace a live association only
            # once the client proved it is reachable now. This cookie was issued
            # before the association began (a replayed hello from an earlier
            # connection): ask again; a client that really restarted answers.
            _send_hello_verify(server, buf, seq_mark, message_seq,
                               jar.make(now, addr, hello), addr)
            return None
        _release(server, s)
    else:
        s = _take_session(server, now)
        if s is None:
            server.nxsecure_no_free_sessions += 1
            _call(server, server._error_notify, None, NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS)
            return None
    s._peer = addr
    server._by_addr[addr] = s
    server._last = s
    s._cookie_floor = jar.serial        # cookies issued from now on may replace it
    s._since = now
    s._engine.expect_client_hello(message_seq, _get48(buf, seq_mark),
                                  port.ticks_add(now, server._hs_ms), hello.random)
    server._halfopen.push(s)
    return s


def _send_hello_verify(server, buf, seq_mark, message_seq, cookie, addr):
    """The HelloVerifyRequest reuses the ClientHello's record sequence number and
    message_seq (RFC 6347 4.2.1, 4.2.2); it is smaller than any ClientHello."""
    out = server._hvr
    body_len = 3 + len(cookie)
    w = Writer(out, RECORD_HEADER + HANDSHAKE_HEADER)
    push_hello_verify_request(w, cookie)
    push_handshake_header(out, RECORD_HEADER, _HT_HELLO_VERIFY_REQUEST, body_len, message_seq, 0,
                          body_len)
    out[0] = _CT_HANDSHAKE
    out[1] = 0xFE
    out[2] = 0xFF
    out[3] = 0
    out[4] = 0
    out[5:11] = buf[seq_mark:seq_mark + 6]
    n = HANDSHAKE_HEADER + body_len
    out[11] = n >> 8
    out[12] = n & 0xFF
    server.nxsecure_hello_verify_sent += 1
    netx._udp_send(server._socket, memoryview(out)[:RECORD_HEADER + n], addr)


def _call(server, fn, *args):
    """Application callbacks must not take the server down."""
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:
        server.nxsecure_callback_errors += 1


def _after(server, s):
    """Deliver the notifications a datagram or timer produced, after the engine is
    done with it (so a callback may call any service): a new client, its data, then
    the end. Then the session goes to the queue its state says."""
    if s._notify_connect:
        s._notify_connect = False
        nxd, peer_port = netx._nxd_from_addr(s._peer)
        _call(server, server._connect_notify, s, nxd, peer_port)
    if s._notify_rx:
        s._notify_rx = False
        _call(server, server._receive_notify, s)
    if s._notify_disconnect:
        s._notify_disconnect = False
        _call(server, server._disconnect_notify, s)
    code = s._notify_error
    if code:
        s._notify_error = 0
        _call(server, server._error_notify, s, code)
    if s._server is server and s._id and (s._engine.state != CONNECTED
                                          or s._q is not server._connected):
        _place(server, s)              # (a connected session in its queue stays there)


# Not exported: `from nxsecure import *` must not bring a `const` that hides nxsecure.const.
del const
