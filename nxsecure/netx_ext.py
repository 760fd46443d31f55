"""The NetX services a DTLS application rarely calls: plain UDP send and receive, IPv6
addresses and their text, status and info getters, the optional IP thread. Loaded on
first use (nxsecure's module __getattr__, or the core when a plain UDP datagram or an
IPv6 address turns up), so a board whose application never calls them keeps their code
out of RAM."""
from nxsecure import port as _port
from nxsecure.const import (
    NX_SUCCESS, NX_NO_PACKET, NX_UNDERFLOW, NX_OVERFLOW, NX_PTR_ERROR, NX_OPTION_ERROR,
    NX_INVALID_PACKET, NX_NOT_ENABLED, NX_ALREADY_ENABLED, NX_IP_ADDRESS_ERROR,
    NX_NOT_BOUND, NX_NOT_SUCCESSFUL, NX_INVALID_PORT, NX_INVALID_PARAMETERS,
    NX_IP_PERIODIC_RATE, NX_IP_VERSION_V4, NX_IP_VERSION_V6, NX_IP_UDP_ENABLED, NX_MAX_PORT,
    NX_IP_INITIALIZE_DONE, NX_IP_ADDRESS_RESOLVED, NX_IP_LINK_ENABLED, NX_IP_ARP_ENABLED,
    NX_IP_TCP_ENABLED, NX_IP_IGMP_ENABLED, NX_IP_RARP_COMPLETE, NX_IP_INTERFACE_LINK_ENABLED,
)
from nxsecure.netx import (
    NXD_ADDRESS, NX_PACKET, _lock, _wait, _give, _udp_send, _created_ip, _created_pool,
    _created_socket, _socket_checks, _addr_from_nxd, _nxd_from_addr, _nxd_set, _v4_parse,
    _v4_str, nx_packet_data_extract_offset,
)

# the status bits nx_ip_status_check accepts
_IP_STATUS_ALL = (NX_IP_INITIALIZE_DONE | NX_IP_ADDRESS_RESOLVED | NX_IP_LINK_ENABLED |
                  NX_IP_ARP_ENABLED | NX_IP_UDP_ENABLED | NX_IP_TCP_ENABLED |
                  NX_IP_IGMP_ENABLED | NX_IP_RARP_COMPLETE | NX_IP_INTERFACE_LINK_ENABLED)
# IPv4 and IPv6 header room nx_udp_socket_send requires in front of the data
_IPV4_UDP_HEADERS = 28
_IPV6_UDP_HEADERS = 48


def _enqueue(sock, pkt, ip):
    """A datagram for a socket with no DTLS layer on it: its receive queue (NetX
    drops the oldest datagram when the queue is over its maximum)."""
    if sock._tail is None:
        sock._head = pkt
    else:
        sock._tail.nx_packet_queue_next = pkt
    sock._tail = pkt
    sock.nx_udp_socket_receive_count += 1
    if sock.nx_udp_socket_receive_count > sock.nx_udp_socket_queue_maximum:
        old = sock._head
        sock._head = old.nx_packet_queue_next
        if sock._head is None:
            sock._tail = None
        old.nx_packet_queue_next = None
        sock.nx_udp_socket_receive_count -= 1
        sock.nx_udp_socket_packets_dropped += 1
        ip.nx_ip_udp_receive_packets_dropped += 1
        _give(old)
        if old is pkt:
            return
    notify = sock._receive_notify
    if notify is not None:
        try:
            notify(sock)
        except Exception as e:
            ip.nx_ip_callback_errors += 1
            ip._last_callback_error = e


def _v6_str(w):
    """RFC 5952 text (what CPython's socket reports), from four 32-bit words."""
    g = [0] * 8
    for i in range(4):
        g[2 * i] = (w[i] >> 16) & 0xFFFF
        g[2 * i + 1] = w[i] & 0xFFFF
    if g[0] == g[1] == g[2] == g[3] == g[4] == 0 and g[5] == 0xFFFF:
        return '::ffff:' + _v4_str(w[3])          # IPv4-mapped (RFC 4291 2.5.5.2)
    best, best_len, i = -1, 0, 0
    while i < 8:
        if g[i] == 0:
            j = i
            while j < 8 and g[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_len < 2:
        return ':'.join(['%x' % x for x in g])
    return (':'.join(['%x' % x for x in g[:best]]) + '::' +
            ':'.join(['%x' % x for x in g[best + best_len:]]))


def _v6_groups(part):
    if not part:
        return []
    out = []
    items = part.split(':')
    for k in range(len(items)):
        item = items[k]
        if '.' in item and k == len(items) - 1:
            v = _v4_parse(item)
            if v is None:
                return None
            out.append(v >> 16)
            out.append(v & 0xFFFF)
            continue
        if not item or len(item) > 4:
            return None
        try:
            out.append(int(item, 16))
        except ValueError:
            return None
    return out


def _v6_parse(s):
    """Four 32-bit words from IPv6 text (a %scope suffix is ignored), or None."""
    pct = s.find('%')
    if pct >= 0:
        s = s[:pct]
    halves = s.split('::')
    if len(halves) > 2:
        return None
    head = _v6_groups(halves[0])
    if head is None:
        return None
    if len(halves) == 2:
        tail = _v6_groups(halves[1])
        if tail is None or len(head) + len(tail) > 7:
            return None
        g = head + [0] * (8 - len(head) - len(tail)) + tail
    else:
        g = head
    if len(g) != 8:
        return None
    return [(g[0] << 16) | g[1], (g[2] << 16) | g[3], (g[4] << 16) | g[5], (g[6] << 16) | g[7]]


def nx_packet_pool_info_get(pool):
    """-> (status, total_packets, free_packets, empty_pool_requests,
    empty_pool_suspensions, invalid_packet_releases)."""
    if not _created_pool(pool):
        return NX_PTR_ERROR, 0, 0, 0, 0, 0
    return (NX_SUCCESS, pool.nx_packet_pool_total, pool.nx_packet_pool_available,
            pool.nx_packet_pool_empty_requests, pool.nx_packet_pool_empty_suspensions,
            pool.nx_packet_pool_invalid_releases)


def nx_packet_data_retrieve(packet, buffer):
    """-> (status, bytes_copied): all of the packet's data into buffer, which must
    hold it (NX_INVALID_PARAMETERS otherwise; C would overrun)."""
    if packet is None or buffer is None or not isinstance(packet, NX_PACKET):
        return NX_PTR_ERROR, 0
    try:
        blen = len(buffer)
    except TypeError:
        return NX_PTR_ERROR, 0
    if blen < packet.nx_packet_length:
        return NX_INVALID_PARAMETERS, 0
    return nx_packet_data_extract_offset(packet, 0, buffer, packet.nx_packet_length)


def nxd_ipv6_enable(ip):
    """Accepted for compatibility (IPv6 is always available): NX_SUCCESS."""
    return NX_SUCCESS if _created_ip(ip) else NX_PTR_ERROR


def nxd_ipv6_address_set(ip, interface_index, ip_address, prefix_length):
    """-> (status, address_index). Gives the IP instance its IPv6 address (one per
    instance here); sockets bound afterwards also listen on IPv6."""
    if not _created_ip(ip) or ip_address is None:
        return NX_PTR_ERROR, 0
    tmp = NXD_ADDRESS()
    if not _nxd_set(tmp, ip_address) or tmp.nxd_ip_version != NX_IP_VERSION_V6:
        return NX_IP_ADDRESS_ERROR, 0
    if interface_index != 0:
        return NX_INVALID_PARAMETERS, 0    # one interface
    ip._v6 = tmp.nxd_ip_address.v6
    return NX_SUCCESS, 0


def nx_ip_address_get(ip):
    """-> (status, ip_address, network_mask) of the IPv4 address."""
    if not _created_ip(ip):
        return NX_PTR_ERROR, 0, 0
    return NX_SUCCESS, ip._v4 or 0, ip.nx_ip_network_mask


def nx_ip_status_check(ip, needed_status, wait_option):
    """-> (status, actual_status): NX_SUCCESS once all needed_status bits are set
    (they all are once created), else NX_NOT_SUCCESSFUL after the wait."""
    if not _created_ip(ip):
        return NX_PTR_ERROR, 0
    if not isinstance(needed_status, int) or needed_status & ~_IP_STATUS_ALL:
        return NX_OPTION_ERROR, 0
    if _wait(lambda: (ip._status & needed_status) == needed_status, wait_option):
        return NX_SUCCESS, ip._status
    return NX_NOT_SUCCESSFUL, ip._status


def nx_icmp_enable(ip):
    """Accepted for source compatibility: NX_SUCCESS."""
    return NX_SUCCESS if _created_ip(ip) else NX_PTR_ERROR


def nx_udp_socket_receive_notify(socket, udp_receive_notify):
    """Call udp_receive_notify(socket) whenever a datagram is queued on socket."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status
    socket._receive_notify = udp_receive_notify
    return NX_SUCCESS


def _socket_send(socket, packet, ip_address, udp_port, need_nxd):
    if not _created_socket(socket) or packet is None or not isinstance(packet, NX_PACKET) \
            or not packet._allocated:
        return NX_PTR_ERROR
    if need_nxd and not isinstance(ip_address, NXD_ADDRESS):
        return NX_PTR_ERROR
    if not (socket.nx_udp_socket_ip_ptr._status & NX_IP_UDP_ENABLED):
        return NX_NOT_ENABLED
    if not ip_address:
        return NX_IP_ADDRESS_ERROR
    addr = _addr_from_nxd(ip_address, udp_port)
    if addr is None:
        return NX_IP_ADDRESS_ERROR
    if not isinstance(udp_port, int) or udp_port < 0 or udp_port > NX_MAX_PORT:
        return NX_INVALID_PORT
    room = _IPV6_UDP_HEADERS if len(addr) == 4 else _IPV4_UDP_HEADERS
    if packet.nx_packet_prepend_ptr < room:
        socket.nx_udp_socket_ip_ptr.nx_ip_udp_invalid_packets += 1
        return NX_UNDERFLOW                   # NetX needs room for the IP+UDP headers
    if packet.nx_packet_append_ptr > len(packet._buf):
        return NX_OVERFLOW
    status = _udp_send(socket, packet._data(), addr)
    if status == NX_SUCCESS:
        _give(packet)                         # on success the stack owns (frees) it
    return status


def nx_udp_socket_send(socket, packet, ip_address, port):
    """Send the packet's data to ip_address (an IPv4 ULONG; an NXD_ADDRESS is also
    accepted) and port. On NX_SUCCESS the packet is released by the stack; on
    error the caller still owns it."""
    if isinstance(ip_address, NXD_ADDRESS) and ip_address.nxd_ip_version == NX_IP_VERSION_V4:
        ip_address = ip_address.nxd_ip_address.v4
    return _socket_send(socket, packet, ip_address, port, False)


def nxd_udp_socket_send(socket, packet, ip_address, port):
    """Send to an NXD_ADDRESS (IPv4 or IPv6); otherwise as nx_udp_socket_send."""
    if isinstance(ip_address, NXD_ADDRESS):
        ver = ip_address.nxd_ip_version
        if ver != NX_IP_VERSION_V4 and ver != NX_IP_VERSION_V6:
            return NX_IP_ADDRESS_ERROR if _created_socket(socket) else NX_PTR_ERROR
        if ver == NX_IP_VERSION_V6 and not any(ip_address.nxd_ip_address.v6):
            return NX_IP_ADDRESS_ERROR
    return _socket_send(socket, packet, ip_address, port, True)


def nx_udp_socket_receive(socket, wait_option):
    """-> (status, packet): the oldest queued datagram, waiting (and pumping) up to
    wait_option ticks; NX_NO_PACKET on timeout, NX_NOT_BOUND if unbound."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status, None
    if not socket.nx_udp_socket_port:
        return NX_NOT_BOUND, None
    _wait(lambda: socket._head is not None or not socket.nx_udp_socket_port, wait_option)
    _lock.acquire()
    try:
        pkt = socket._head
        if pkt is None:
            return (NX_NO_PACKET if socket.nx_udp_socket_port else NX_NOT_BOUND), None
        socket._head = pkt.nx_packet_queue_next
        if socket._head is None:
            socket._tail = None
        socket.nx_udp_socket_receive_count -= 1
        pkt.nx_packet_queue_next = None
    finally:
        _lock.release()
    return NX_SUCCESS, pkt


def nx_udp_source_extract(packet):
    """-> (status, ip_address ULONG, port) of a received IPv4 datagram;
    NX_INVALID_PACKET for locally built or IPv6 packets (use nxd_udp_source_extract)."""
    if packet is None or not isinstance(packet, NX_PACKET):
        return NX_PTR_ERROR, 0, 0
    addr = packet._addr
    if addr is None or len(addr) != 2:
        return NX_INVALID_PACKET, 0, 0
    v = _v4_parse(addr[0])
    if v is None:
        return NX_INVALID_PACKET, 0, 0
    return NX_SUCCESS, v, addr[1]


def nxd_udp_source_extract(packet):
    """-> (status, NXD_ADDRESS, port) of a received datagram (IPv4 or IPv6)."""
    if packet is None or not isinstance(packet, NX_PACKET):
        return NX_PTR_ERROR, None, 0
    if packet._addr is None:
        return NX_INVALID_PACKET, None, 0
    nxd, p = _nxd_from_addr(packet._addr)
    if nxd is None:
        return NX_INVALID_PACKET, None, 0
    return NX_SUCCESS, nxd, p


_ip_thread_run = [False, False]      # [requested to run, running]


def nxsecure_ip_thread_start():
    """nxsecure extension (not NetX API): pump the stack from a background thread so
    callbacks and retransmissions happen while the application does other work.
    NX_NOT_SUCCESSFUL where the platform has no threads; NX_ALREADY_ENABLED if on."""
    if not _port.HAS_THREADS:
        return NX_NOT_SUCCESSFUL
    if _ip_thread_run[0]:
        return NX_ALREADY_ENABLED

    def stopped():
        return not _ip_thread_run[0]

    def run():
        _ip_thread_run[1] = True
        try:
            while _ip_thread_run[0]:
                _wait(stopped, NX_IP_PERIODIC_RATE)
        finally:
            _ip_thread_run[1] = False

    _ip_thread_run[0] = True
    _port.start_new_thread(run, ())
    return NX_SUCCESS


def nxsecure_ip_thread_stop():
    """Stop the background pump thread and wait (up to 1 s) for it to end."""
    if not _ip_thread_run[0]:
        return NX_NOT_SUCCESSFUL
    _ip_thread_run[0] = False
    start = _port.ticks_ms()
    while _ip_thread_run[1] and _port.ticks_diff(_port.ticks_ms(), start) < 1000:
        _port.sleep_ms(5)
    return NX_SUCCESS


# --- DTLS: rarely asked, so kept out of session.py ------------------------------------
def nxsecure_dtls_session_disconnect_reason_get(session_ptr):
    """nxsecure extension: -> (status, reason): why the peer is gone, for a
    disconnect_notify (whose signature NetX fixes): NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED
    (it closed), NXSECURE_DTLS_PEER_TIMEOUT (it went silent: the server's idle timeout,
    or keep-alives unanswered), 0 while it is there."""
    from nxsecure.session import _live
    status = _live(session_ptr)
    if status:
        return status, 0
    return NX_SUCCESS, session_ptr._engine.end_reason
