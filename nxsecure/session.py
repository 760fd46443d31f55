"""NX_SECURE_DTLS_SESSION and the nx_secure_dtls_session_* / client services (guide chapter 4)."""
from nxsecure import port
from . import config, netx
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_NOT_CONNECTED, NX_NO_PACKET,
    NX_INVALID_SOCKET, NX_CONTINUE, NX_ANY_PORT,
    NX_SECURE_TLS_SESSION_UNINITIALIZED, NX_SECURE_TLS_ALLOCATE_PACKET_FAILED,
    NX_SECURE_TLS_TCP_SEND_FAILED, NX_SECURE_TLS_SEND_ADDRESS_MISMATCH,
    NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED,
)
from .dtls import Dtls, MEMORY_SIZE, IDLE, CONNECTED, CLOSED, ERROR
from .psk import PskStore
from .record import RECORD_HEADER
from .crypto.table import nx_secure_tls_metadata_size_calculate

_SESSION_ID = 0x44544C53          # "DTLS": set by _create, cleared by _delete
# Room nx_secure_dtls_packet_allocate reserves in front of the data: record header
# plus the largest explicit nonce/IV (16, CBC), rounded to NetX's packet alignment.
NX_SECURE_DTLS_PACKET_PREPEND = 32
# Room a send needs after the data: CBC's MAC (32) + padding (up to 16).
_TAIL_ROOM = 48
NX_SECURE_DTLS_MAX_RECEIVE_QUEUE = 8
# Smallest reassembly share a session accepts: a ClientHello or a PSK server flight.
_MIN_REASSEMBLY = 512


class NX_SECURE_DTLS_SESSION:
    """A DTLS session control block. sizeof(NX_SECURE_DTLS_SESSION) is the bytes one
    server session takes from the caller's session buffer."""
    SIZE = MEMORY_SIZE

    def __init__(self):
        self._id = 0
        self._engine = None

    # --- owner interface of the Dtls engine -----------------------------------------
    def _dtls_output(self, mv):
        sock = self._socket
        if sock is None or self._peer is None:
            return NX_SECURE_TLS_TCP_SEND_FAILED
        status = netx._udp_send(sock, mv, self._peer)
        if status != NX_SUCCESS:
            return NX_SECURE_TLS_TCP_SEND_FAILED
        return NX_SUCCESS

    def _dtls_app_data(self, buf, off, n, packet):
        """Queue one decrypted application record; False leaves it unaccepted."""
        if self._rx_count >= NX_SECURE_DTLS_MAX_RECEIVE_QUEUE:
            return False
        if packet is not None and not self._consumed:
            # The record is the datagram's last: hand over its packet, no copy.
            packet.nx_packet_prepend_ptr = off
            packet.nx_packet_append_ptr = off + n
            packet.nx_packet_length = n
            self._consumed = True
            pkt = packet
        else:
            pool = self._rx_pool()
            if pool is None:
                return False
            pkt = netx._take(pool, 0)
            if pkt is None or n > len(pkt._buf):
                if pkt is not None:
                    netx._give(pkt)
                return False
            pkt._buf[0:n] = buf[off:off + n]
            pkt._wipe = n                     # plaintext: cleared when released
            pkt.nx_packet_append_ptr = n
            pkt.nx_packet_length = n
        pkt.nx_packet_queue_next = None
        if self._rx_tail is None:
            self._rx_head = pkt
        else:
            self._rx_tail.nx_packet_queue_next = pkt
        self._rx_tail = pkt
        self._rx_count += 1
        self._notify_rx = True
        return True

    def _dtls_hello(self):
        """Server: the cookie-verified ClientHello is complete; connect_notify next."""
        self._notify_connect = True

    def _dtls_event(self, code):
        if code == NX_SUCCESS:
            return
        if code == self._engine.end_reason:
            # the peer is gone: its close_notify, or it went silent (keep-alive)
            self._notify_disconnect = True
        else:
            self._notify_error = code

    def _dtls_keylog(self, client_random, master):
        # (the try block only where a logger is set: in this frame it would put the
        # frame on the heap at every handshake)
        if self._keylog is not None:
            _keylog_write(self._keylog, client_random, master)

    # --- timer (netx calls it at the deadline _dtls_timer gave) -------------------------
    def _timer_fire(self, now):
        e = self._engine
        if e is None:
            return
        e.timer_fire(now)
        if self._server is not None:
            self._server._after(self)

    # --- receive path ----------------------------------------------------------------
    def _rx_pool(self):
        sock = self._socket
        if sock is None or sock.nx_udp_socket_ip_ptr is None:
            return None
        return sock.nx_udp_socket_ip_ptr.nx_ip_default_packet_pool

    def _receive_datagram(self, packet, addr, now):
        """Feed one datagram (a packet the caller owns) to the engine; the packet is
        released here unless an application record took it over. Also the UDP receive
        hook of a client session's socket (now: the pump pass's clock), which checks
        the source address `addr`; a server, whose table matched it, passes None. (One
        function for both: a call level less between the pump and an ECDHE client's key
        exchange, which the board's 8 KB C stack is tight for.)"""
        if addr is not None and (addr != self._peer or self._engine is None):
            netx._give(packet)              # not our server: ignore (RFC 6347 4.1)
            return
        self._consumed = False
        e = self._engine
        end = packet.nx_packet_append_ptr
        try:
            e.receive(packet._buf, packet.nx_packet_prepend_ptr, end, now, packet)
        finally:
            if e.record.read_epoch or e.record.base:
                # records were (or could have been) decrypted in place: the plaintext
                # is cleared when the packet goes back to its pool
                packet._wipe = end
            if not self._consumed:
                netx._give(packet)

    def _client_refused(self, err):
        """Error hook of a client session's socket, connected to the server
        (netx._udp_connect): the port reports an ICMP port unreachable -- nothing
        listens at the server's address and port. It ends a handshake at once with
        NX_NOT_CONNECTED, the guide's code for a server that cannot be reached, instead
        of retransmitting until the timeout; as TCP treats it (RFC 1122 4.2.3.9, RFC
        5461), the hard error aborts only connection establishment."""
        e = self._engine
        if e.state != IDLE and e.state < CONNECTED:
            e._fail(NX_NOT_CONNECTED, None)

    def _rx_ready(self):
        """The wait condition of nx_secure_dtls_session_receive (a bound method made
        once, so waiting allocates no closure per call)."""
        st = self._engine.state
        return self._rx_head is not None or st == CLOSED or st == ERROR

    def _drop_queue(self):
        p = self._rx_head
        while p is not None:
            nxt = p.nx_packet_queue_next
            netx._give(p)
            p = nxt
        self._rx_head = None
        self._rx_tail = None
        self._rx_count = 0


# The engine's next deadline (None: none), the owner's _dtls_timer(due): netx wakes the
# session then (its _timer_fire). netx's own function as the method, so arming a timer
# takes no call level of ours. A connected session has none and costs the pump nothing.
NX_SECURE_DTLS_SESSION._dtls_timer = netx._timer_set


def _keylog_write(fn, client_random, master):
    try:
        fn("CLIENT_RANDOM %s %s\n" % (_hex(client_random), _hex(master)))
    except Exception:       # a broken logger must not break the handshake
        pass


def _hex(b):
    return "".join("%02x" % x for x in b)


def _live(session):
    """The common checks of NetX's nxe_ layer: NX_PTR_ERROR for a missing control
    block, NX_SECURE_TLS_SESSION_UNINITIALIZED for one never created."""
    if session is None or not isinstance(session, NX_SECURE_DTLS_SESSION):
        return NX_PTR_ERROR
    if session._id != _SESSION_ID:
        return NX_SECURE_TLS_SESSION_UNINITIALIZED
    return NX_SUCCESS


def _init(session, mem, table, metadata, reassembly, psk_store, server):
    session._id = _SESSION_ID
    session._server = server
    session._socket = None
    session._peer = None
    session._match = None
    session._cookie_floor = 0          # server: serial of the last cookie before it began
    session._rx_head = None
    session._rx_tail = None
    session._rx_count = 0
    session._consumed = False
    session._notify_rx = False
    session._notify_connect = False
    session._notify_disconnect = False
    session._notify_error = 0
    session._keylog = None
    session._due = None
    session._bound_here = False
    session._rx_ready_fn = session._rx_ready      # bound once: waiting allocates nothing
    session._psk_store = psk_store
    # certificates (nxsecure/certs.py): the store is made on first use
    session._store = None
    session._certificate_callback = None
    session._strict_names = False
    session._remote_certs_number = 0
    session._remote_certificate_buffer = None
    e = Dtls(session, mem, table, metadata, reassembly, server is None, port.random_into,
             port.ticks_add, port.ticks_diff)
    e.psk_store = psk_store
    session._engine = e


def _buffer_ok(buf, size):
    try:
        return size >= 0 and len(buf) >= size
    except TypeError:
        return False


def nx_secure_tls_initialize():
    """Nothing to set up: kept so ported code runs unchanged."""
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_session_create(dtls_session, crypto_table, metadata_buffer, metadata_size,
                                  packet_reassembly_buffer, packet_reassembly_buffer_size,
                                  certs_number, remote_certificate_buffer,
                                  remote_certificate_buffer_size):
    if (dtls_session is None or not isinstance(dtls_session, NX_SECURE_DTLS_SESSION)
            or crypto_table is None or metadata_buffer is None or packet_reassembly_buffer is None):
        return NX_PTR_ERROR
    status, need = nx_secure_tls_metadata_size_calculate(crypto_table)
    if status:
        return status
    if (not _buffer_ok(metadata_buffer, metadata_size) or metadata_size < need
            or not _buffer_ok(packet_reassembly_buffer, packet_reassembly_buffer_size)
            or packet_reassembly_buffer_size < _MIN_REASSEMBLY):
        return NX_INVALID_PARAMETERS
    if remote_certificate_buffer is not None and not _buffer_ok(
            remote_certificate_buffer, remote_certificate_buffer_size):
        return NX_INVALID_PARAMETERS
    if dtls_session._id == _SESSION_ID:
        nx_secure_dtls_session_delete(dtls_session)
    # A stand-alone session's control block is this one allocation, made once here
    # (the C struct's own storage); server sessions use the caller's session buffer.
    mem = memoryview(bytearray(MEMORY_SIZE + PskStore.SIZE))
    store = PskStore(mem[MEMORY_SIZE:])
    _init(dtls_session, mem[:MEMORY_SIZE], crypto_table, memoryview(metadata_buffer)[:metadata_size],
          memoryview(packet_reassembly_buffer)[:packet_reassembly_buffer_size], store, None)
    dtls_session._remote_certs_number = certs_number
    dtls_session._remote_certificate_buffer = remote_certificate_buffer
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_session_delete(dtls_session):
    status = _live(dtls_session)
    if status:
        return status
    _detach(dtls_session)
    dtls_session._engine.reset()
    dtls_session._id = 0
    return NX_SUCCESS


def _detach(session):
    """Stop a session: timers off, socket hook off, queue released, peer forgotten."""
    netx._timer_set(session, None)
    sock = session._socket
    if sock is not None and session._server is None and sock._dtls_receive == session._receive_datagram:
        sock._dtls_receive = None
        sock._dtls_error = None
        # The guide's Figure 1.1 deletes the socket right after ending the session:
        # a socket the session bound itself is unbound with it.
        if session._bound_here:
            netx.nx_udp_socket_unbind(sock)
    session._bound_here = False
    session._drop_queue()
    if session._server is not None:
        session._server._detached(session)
    session._peer = None
    session._match = None
    session._notify_rx = False
    session._notify_connect = False
    session._notify_disconnect = False
    session._notify_error = 0


@netx.serialized
def nx_secure_dtls_session_reset(dtls_session):
    """Clear ephemeral state; the PSK and certificate stores stay."""
    status = _live(dtls_session)
    if status:
        return status
    _detach(dtls_session)
    dtls_session._engine.reset()
    if dtls_session._server is None:
        dtls_session._socket = None
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_psk_add(session_ptr, pre_shared_key, psk_length, psk_identity,
                           identity_length, hint, hint_length):
    status = _live(session_ptr)
    if status:
        return status
    return session_ptr._psk_store.add(pre_shared_key, psk_length, psk_identity,
                                      identity_length, hint, hint_length)


def _wait_state(session, wait_option, done):
    """Pump until done(engine) or the wait expires."""
    e = session._engine
    return netx._wait(lambda: done(e), wait_option)


def _handshake_over(e):
    return e.state == CONNECTED or e.state == ERROR or e.state == CLOSED


def _handshake_result(session):
    e = session._engine
    if e.state == CONNECTED:
        return NX_SUCCESS
    if e.state == ERROR:
        return e.error
    if e.state == CLOSED:
        return NX_NOT_CONNECTED
    return NX_CONTINUE            # still in progress: the stack carries on while pumped


def nx_secure_dtls_client_session_start(dtls_session, udp_socket, ip_address, port_, wait_option):
    # The stack lock (netx.serialized's work) taken here: an application polling with
    # NX_NO_WAIT calls this again and again while the handshake runs, and the wrapper's
    # *args tuple and argument array are two allocations per call (on a board each walks
    # the heap) and a C stack level under the receive path.
    lock = netx._lock
    lock.acquire()
    try:
        status = _live(dtls_session)
        if status:
            return status
        if (not netx._created_socket(udp_socket) or ip_address is None
                or dtls_session._server is not None):
            return NX_PTR_ERROR
        peer = netx._addr_from_nxd(ip_address, port_)
        if peer is None:
            return NX_PTR_ERROR
        if not isinstance(port_, int) or port_ <= 0 or port_ > 0xFFFF:
            return NX_INVALID_PARAMETERS
        e = dtls_session._engine
        if e.state != IDLE and e.state != CLOSED and dtls_session._peer == peer:
            # Called again for the same server: the handshake an earlier call started
            # (NX_NO_WAIT, or a wait that expired) goes on, and its result is reported:
            # NX_CONTINUE while under way, NX_SUCCESS once established, the error once it
            # failed. To start over, end or reset the session first (as NetX requires).
            _wait_state(dtls_session, wait_option, _handshake_over)
            return _handshake_result(dtls_session)
        # the previous association goes first: a socket it bound itself is unbound with it,
        # and bound afresh below (in the other order the new handshake lost its socket)
        _detach(dtls_session)
        bound_here = False
        if not udp_socket.nx_udp_socket_port:
            status = netx.nx_udp_socket_bind(udp_socket, NX_ANY_PORT, wait_option)
            if status:
                return status
            bound_here = True
        dtls_session._bound_here = bound_here
        dtls_session._socket = udp_socket
        dtls_session._peer = peer
        udp_socket._dtls_receive = dtls_session._receive_datagram
        if bound_here:
            # a socket of its own: connected to the server, so that an ICMP port
            # unreachable ends the handshake at once (_client_refused)
            udp_socket._dtls_error = dtls_session._client_refused
            netx._udp_connect(udp_socket, peer)
        try:
            e.start_client(port.ticks_ms())
        except NxError as err:
            e._fail(err.code, None)         # nothing was sent: no alert either
            return err.code
        _wait_state(dtls_session, wait_option, _handshake_over)
        return _handshake_result(dtls_session)
    finally:
        lock.release()


def nx_secure_dtls_packet_allocate(session_ptr, pool_ptr, wait_option):
    """-> (status, packet) with room for the record header and protection."""
    status = _live(session_ptr)
    if status:
        return (status), None
    if pool_ptr is None:
        return NX_PTR_ERROR, None
    packet = netx._allocate(pool_ptr, NX_SECURE_DTLS_PACKET_PREPEND, wait_option)
    if type(packet) is int:
        return NX_SECURE_TLS_ALLOCATE_PACKET_FAILED, None
    return NX_SUCCESS, packet


def _send(session, packet):
    """Protect the packet's data as one application record and send it to the peer.
    On success the stack has released the packet (NetX ownership rule)."""
    e = session._engine
    if e.state != CONNECTED and e.reneg is None:     # (data flows during a renegotiation)
        return NX_NOT_CONNECTED
    if not isinstance(packet, netx.NX_PACKET) or not packet._allocated:
        return NX_PTR_ERROR
    rl = e.record
    buf = packet._buf
    start = packet.nx_packet_prepend_ptr - rl.prefix1
    end = packet.nx_packet_append_ptr
    n = end - packet.nx_packet_prepend_ptr
    if start < 0 or end + _TAIL_ROOM > len(buf) or n > e.mtu - rl.overhead1 or \
            n > e.max_send:
        return NX_INVALID_PARAMETERS
    lock = netx._lock               # netx.serialized, inline on the per-record path
    lock.acquire()
    try:
        status = e.send_app(buf, start, n)
        if status == NX_SUCCESS:
            netx._give(packet)        # NetX: on success the stack releases the packet
        return status
    except NxError as err:
        return err.code
    finally:
        lock.release()


def nx_secure_dtls_session_send(session_ptr, packet_ptr, ip_address, port_):
    status = _live(session_ptr)
    if status:
        return status
    if packet_ptr is None or ip_address is None:
        return NX_PTR_ERROR
    if session_ptr._peer is None:
        return NX_NOT_CONNECTED
    if not _same_peer(session_ptr, ip_address, port_):
        return NX_SECURE_TLS_SEND_ADDRESS_MISMATCH
    return _send(session_ptr, packet_ptr)


def _same_peer(session, ip_address, port_):
    """Is (ip_address, port_) the session's peer? The NXD_ADDRESS an application sends
    with is remembered with its fields, so the usual case - the same control block,
    unchanged - is answered without building an address (nothing allocated per record)."""
    m = session._match
    if m is not None and ip_address is m[0] and port_ == m[1]:
        a = ip_address.nxd_ip_address
        if ip_address.nxd_ip_version == m[2] and a.v4 == m[3] and a.v6 == m[4]:
            return True
    if netx._addr_from_nxd(ip_address, port_) != session._peer:
        return False
    if isinstance(ip_address, netx.NXD_ADDRESS):
        a = ip_address.nxd_ip_address
        v6 = a.v6
        session._match = (ip_address, port_, ip_address.nxd_ip_version, a.v4,
                          list(v6) if isinstance(v6, list) else v6)
    return True


def nx_secure_dtls_session_receive(dtls_session, wait_option):
    """-> (status, packet): the next application record's plaintext."""
    status = _live(dtls_session)
    if status:
        return (status), None
    e = dtls_session._engine
    if dtls_session._rx_head is None:
        if e.state == IDLE:
            return NX_NOT_CONNECTED, None
        netx._wait(dtls_session._rx_ready_fn, wait_option)
    lock = netx._lock               # the pump appends to the queue under this lock
    lock.acquire()
    try:
        pkt = dtls_session._rx_head
        if pkt is None:
            # Queued data is always delivered before the end of the session is reported.
            if e.state == CLOSED:
                return NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, None
            if e.state == ERROR:
                return e.error, None
            return NX_NO_PACKET, None
        dtls_session._rx_head = pkt.nx_packet_queue_next
        if dtls_session._rx_head is None:
            dtls_session._rx_tail = None
            if e.state >= CLOSED and dtls_session._server is not None:
                dtls_session._server._place(dtls_session)   # ended and drained: reusable
        dtls_session._rx_count -= 1
    finally:
        lock.release()
    pkt.nx_packet_queue_next = None
    return NX_SUCCESS, pkt


@netx.serialized
def nx_secure_dtls_session_end(dtls_session, wait_option):
    """Send close_notify and end the session (the peer's answer is not awaited: a
    datagram peer may never send one)."""
    status = _live(dtls_session)
    if status:
        return status
    e = dtls_session._engine
    try:
        status = e.close()
    except NxError as err:
        status = err.code
    if status != NX_SUCCESS:
        status = NX_SECURE_TLS_TCP_SEND_FAILED
    _detach(dtls_session)
    return status


@netx.serialized
def nx_secure_dtls_session_client_info_get(session_ptr):
    """-> (status, client_ip_address (NXD_ADDRESS), client_port, local_port)."""
    status = _live(session_ptr)
    if status:
        return status, None, 0, 0
    sock = session_ptr._socket
    if sock is None:
        return NX_INVALID_SOCKET, None, 0, 0
    if session_ptr._peer is None:
        return NX_NOT_CONNECTED, None, 0, 0
    nxd, peer_port = netx._nxd_from_addr(session_ptr._peer)
    status, local = netx.nx_udp_socket_port_get(sock)
    if status:
        return NX_INVALID_SOCKET, None, 0, 0
    return NX_SUCCESS, nxd, peer_port, local


def min_mtu(table):
    """Smallest MTU with which every suite of the table can still send a Finished
    fragment of at least one byte: record header, handshake header, the largest
    protection overhead (CBC: IV, MAC and a block of padding), plus one."""
    worst = 0
    for row in table.nx_secure_tls_ciphersuite_lookup_table:
        if row.aead:
            o = row.record_iv_size + row.tag_size
        else:
            o = row.record_iv_size + row.nx_secure_tls_hash_size + 16
        if o > worst:
            worst = o
    m = RECORD_HEADER + 12 + worst + 1
    return 64 if m < 64 else m


@netx.serialized
def nxsecure_dtls_session_mtu_set(session_ptr, mtu):
    """nxsecure extension: the largest datagram this session sends (default
    config.NX_SECURE_DTLS_DEFAULT_MTU, safe for IPv6's minimum MTU)."""
    status = _live(session_ptr)
    if status:
        return status
    if not isinstance(mtu, int) or mtu < min_mtu(session_ptr._engine.table) or \
            mtu > config.NX_SECURE_DTLS_MAX_DATAGRAM:
        return NX_INVALID_PARAMETERS
    session_ptr._engine.mtu = mtu
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_session_keylog_set(session_ptr, write):
    """nxsecure extension, host debugging only: write(line) receives one NSS key log
    line ("CLIENT_RANDOM <client_random> <master_secret>") per handshake. Off unless
    set; None turns it off."""
    status = _live(session_ptr)
    if status:
        return status
    session_ptr._keylog = write
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_session_trace_set(session_ptr, trace):
    """nxsecure extension (debugging): trace(session, old_state, new_state, cause) is
    called at every handshake state change of the session; cause is the handshake
    message type or content type that made it (None for a timer or a service). The
    state numbers are nxsecure.dtls's. None turns it off."""
    status = _live(session_ptr)
    if status:
        return status
    session_ptr._engine.trace = None if trace is None else _tracer(session_ptr, trace)
    return NX_SUCCESS


def _tracer(session, trace):
    def hook(old, new, cause):
        trace(session, old, new, cause)
    return hook
