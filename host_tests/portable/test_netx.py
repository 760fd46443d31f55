# Portable tests of nxsecure/netx.py and nxsecure/port/memnet.py (CPython via pytest, MicroPython
# via tools/mp_test_runner.py): packet pools carved from caller memory, packet
# services, NetX argument checks, addresses, UDP sockets over the in-memory network,
# timers run by tx_thread_sleep, and deterministic lossy links.
from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import netx
from nxsecure import (
    NX_PACKET_POOL, NX_PACKET, NX_IP, NX_UDP_SOCKET, NXD_ADDRESS, IP_ADDRESS, sizeof,
    nx_packet_pool_create, nx_packet_pool_delete, nx_packet_allocate, nx_packet_release,
    nx_packet_data_append, nx_packet_data_extract_offset, nx_packet_length_get,
    nx_packet_pool_info_get, nx_ip_create, nx_ip_delete, nx_udp_enable, nx_arp_enable,
    nx_ip_fragment_enable, nx_ip_status_check, nx_udp_socket_create, nx_udp_socket_bind,
    nx_udp_socket_unbind, nx_udp_socket_delete, nx_udp_socket_send, nxd_udp_socket_send,
    nx_udp_socket_receive, nx_udp_source_extract, nxd_udp_source_extract,
    nx_udp_socket_port_get, nxd_ipv6_address_set, tx_thread_sleep, nx_system_initialize,
)
from nxsecure.const import (
    NX_SUCCESS, NX_PTR_ERROR, NX_NO_PACKET, NX_SIZE_ERROR, NX_OPTION_ERROR,
    NX_INVALID_PARAMETERS, NX_PACKET_OFFSET_ERROR, NX_NO_WAIT, NX_WAIT_FOREVER,
    NX_IP_PERIODIC_RATE, NX_UDP_PACKET, NX_IP_NORMAL, NX_FRAGMENT_OKAY,
    NX_IP_TIME_TO_LIVE, NX_ANY_PORT, NX_IP_VERSION_V4, NX_IP_VERSION_V6,
    NX_ALREADY_BOUND, NX_PORT_UNAVAILABLE, NX_NOT_BOUND, NX_STILL_BOUND, NX_NOT_ENABLED,
    NX_INVALID_PACKET, NX_IP_INITIALIZE_DONE, NX_UNDERFLOW, NX_SOCKETS_BOUND,
    NX_IP_ADDRESS_ERROR, NX_INVALID_PORT, NX_ALREADY_ENABLED, NX_IPv6_UDP_PACKET,
)

PAYLOAD = 256


def _pool(count=4, payload=PAYLOAD):
    pool = NX_PACKET_POOL()
    size = (payload + sizeof(NX_PACKET)) * count
    assert nx_packet_pool_create(pool, "pool", payload, bytearray(size), size) == NX_SUCCESS
    return pool


class _Stack:
    """Pool + IP (UDP enabled) on a fresh MemoryNetwork; close() undoes everything."""

    def __init__(self, net=None, address=IP_ADDRESS(127, 0, 0, 1), count=8):
        self.net = net if net is not None else MemoryNetwork()
        port.use_network(self.net)
        self.pool = _pool(count)
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", address, 0xFFFFFF00, self.pool) == NX_SUCCESS
        assert nx_udp_enable(self.ip) == NX_SUCCESS
        self.sockets = []

    def socket(self, udp_port=NX_ANY_PORT, queue=8):
        s = NX_UDP_SOCKET()
        assert nx_udp_socket_create(self.ip, s, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, queue) == NX_SUCCESS
        assert nx_udp_socket_bind(s, udp_port, NX_NO_WAIT) == NX_SUCCESS
        self.sockets.append(s)
        return s

    def close(self):
        for s in self.sockets:
            if s.nx_udp_socket_port:
                nx_udp_socket_unbind(s)
            nx_udp_socket_delete(s)
        nx_ip_delete(self.ip)
        nx_packet_pool_delete(self.pool)
        port.use_network(None)


def _send(stack, sock, data, ip_address, udp_port):
    st, pkt = nx_packet_allocate(stack.pool, NX_UDP_PACKET, NX_NO_WAIT)
    assert st == NX_SUCCESS
    assert nx_packet_data_append(pkt, data, len(data), stack.pool, NX_NO_WAIT) == NX_SUCCESS
    st = nx_udp_socket_send(sock, pkt, ip_address, udp_port)
    assert st == NX_SUCCESS, st
    return st


def _recv_bytes(sock, wait=NX_NO_WAIT):
    st, pkt = nx_udp_socket_receive(sock, wait)
    if st != NX_SUCCESS:
        return st, None
    buf = bytearray(PAYLOAD)
    st2, n = nx_packet_data_extract_offset(pkt, 0, buf, len(buf))
    assert st2 == NX_SUCCESS
    assert nx_packet_release(pkt) == NX_SUCCESS
    return st, bytes(buf[:n])


# --- packet pools --------------------------------------------------------------------
def test_pool_is_carved_from_caller_memory():
    nx_system_initialize()
    mem = bytearray((100 + sizeof(NX_PACKET)) * 5 + 10)
    pool = NX_PACKET_POOL()
    assert nx_packet_pool_create(pool, "p", 100, mem, len(mem)) == NX_SUCCESS
    try:
        st, total, free, empty, susp, invalid = nx_packet_pool_info_get(pool)
        assert (st, total, free) == (NX_SUCCESS, 5, 5)
        assert pool.nx_packet_pool_payload_size == 100
        st, pkt = nx_packet_allocate(pool, 0, NX_NO_WAIT)
        assert st == NX_SUCCESS and len(pkt._buf) == 100
        # the packet's payload is the caller's memory, not a copy
        assert nx_packet_data_append(pkt, b"\xAA\xBB", 2, pool, NX_NO_WAIT) == NX_SUCCESS
        assert bytes(mem).find(b"\xAA\xBB") >= sizeof(NX_PACKET)
        assert nx_packet_release(pkt) == NX_SUCCESS
    finally:
        nx_packet_pool_delete(pool)


def test_pool_payload_rounded_to_alignment_and_size_errors():
    pool = NX_PACKET_POOL()
    size = (102 + 2 + sizeof(NX_PACKET)) * 3
    assert nx_packet_pool_create(pool, "p", 102, bytearray(size), size) == NX_SUCCESS
    assert pool.nx_packet_pool_payload_size == 104
    assert pool.nx_packet_pool_total == 3
    # the same control block cannot be created twice
    assert nx_packet_pool_create(pool, "p", 102, bytearray(size), size) == NX_PTR_ERROR
    nx_packet_pool_delete(pool)
    p2 = NX_PACKET_POOL()
    assert nx_packet_pool_create(p2, "p", 100, bytearray(50), 50) == NX_SIZE_ERROR
    assert nx_packet_pool_create(p2, "p", 0, bytearray(500), 500) == NX_SIZE_ERROR
    # pool_size larger than the memory given
    assert nx_packet_pool_create(p2, "p", 100, bytearray(100), 1000) == NX_SIZE_ERROR
    assert nx_packet_pool_create(p2, "p", 100, b"\x00" * 1000, 1000) == NX_PTR_ERROR
    assert p2.nx_packet_pool_id == 0


def test_allocate_until_exhausted_then_no_packet_and_release_refills():
    pool = _pool(3)
    try:
        got = []
        for _ in range(3):
            st, p = nx_packet_allocate(pool, NX_UDP_PACKET, NX_NO_WAIT)
            assert st == NX_SUCCESS
            assert p.nx_packet_prepend_ptr == NX_UDP_PACKET == p.nx_packet_append_ptr
            assert p.nx_packet_length == 0
            got.append(p)
        assert len(set([id(p) for p in got])) == 3
        assert nx_packet_allocate(pool, NX_UDP_PACKET, NX_NO_WAIT) == (NX_NO_PACKET, None)
        # a short wait pumps then gives up
        assert nx_packet_allocate(pool, NX_UDP_PACKET, 2) == (NX_NO_PACKET, None)
        assert pool.nx_packet_pool_empty_requests == 2
        assert nx_packet_release(got[1]) == NX_SUCCESS
        st, p = nx_packet_allocate(pool, NX_UDP_PACKET, NX_NO_WAIT)
        assert st == NX_SUCCESS and p is got[1]
        for p in got:
            assert nx_packet_release(p) == NX_SUCCESS
        assert pool.nx_packet_pool_available == 3
    finally:
        nx_packet_pool_delete(pool)


def test_allocate_packet_type_checks():
    pool = _pool(1, payload=64)
    try:
        assert nx_packet_allocate(pool, 3, NX_NO_WAIT)[0] == NX_OPTION_ERROR
        assert nx_packet_allocate(pool, 68, NX_NO_WAIT)[0] == NX_INVALID_PARAMETERS
        assert pool.nx_packet_pool_available == 1
    finally:
        nx_packet_pool_delete(pool)


def test_double_release_is_ptr_error_and_counted():
    pool = _pool(2)
    try:
        st, p = nx_packet_allocate(pool, 0, NX_NO_WAIT)
        assert nx_packet_release(p) == NX_SUCCESS
        assert nx_packet_release(p) == NX_PTR_ERROR
        assert pool.nx_packet_pool_invalid_releases == 1
        assert pool.nx_packet_pool_available == 2
    finally:
        nx_packet_pool_delete(pool)


def test_release_after_pool_delete_is_ptr_error():
    pool = _pool(1)
    st, p = nx_packet_allocate(pool, 0, NX_NO_WAIT)
    assert nx_packet_pool_delete(pool) == NX_SUCCESS
    assert nx_packet_release(p) == NX_PTR_ERROR
    assert nx_packet_allocate(pool, 0, NX_NO_WAIT)[0] == NX_PTR_ERROR


def test_append_and_extract_with_offsets():
    pool = _pool(2, payload=64)
    try:
        st, p = nx_packet_allocate(pool, 16, NX_NO_WAIT)
        assert nx_packet_data_append(p, b"hello ", 6, pool, NX_NO_WAIT) == NX_SUCCESS
        assert nx_packet_data_append(p, bytearray(b"world!!"), 5, pool, NX_WAIT_FOREVER) == NX_SUCCESS
        assert nx_packet_length_get(p) == (NX_SUCCESS, 11)
        assert bytes(p._data()) == b"hello world"
        buf = bytearray(20)
        assert nx_packet_data_extract_offset(p, 0, buf, 20) == (NX_SUCCESS, 11)
        assert bytes(buf[:11]) == b"hello world"
        buf = bytearray(4)
        assert nx_packet_data_extract_offset(p, 6, buf, 4) == (NX_SUCCESS, 4)
        assert bytes(buf) == b"worl"
        # buffer_length smaller than the data: fewer bytes (NetX)
        buf = bytearray(10)
        assert nx_packet_data_extract_offset(p, 3, buf, 2) == (NX_SUCCESS, 2)
        assert bytes(buf[:3]) == b"lo\x00"
        # buffer_length larger than the buffer: refused, buffer untouched
        assert nx_packet_data_extract_offset(p, 0, bytearray(2), 5) == (NX_INVALID_PARAMETERS, 0)
        assert nx_packet_data_extract_offset(p, 11, buf, 10) == (NX_PACKET_OFFSET_ERROR, 0)
        assert nx_packet_data_extract_offset(p, 50, buf, 10) == (NX_PACKET_OFFSET_ERROR, 0)
        # extract into a memoryview
        mv = memoryview(bytearray(5))
        assert nx_packet_data_extract_offset(p, 0, mv, 5) == (NX_SUCCESS, 5)
        assert bytes(mv) == b"hello"
        nx_packet_release(p)
        # an empty packet: offset 0 copies nothing
        st, q = nx_packet_allocate(pool, 0, NX_NO_WAIT)
        assert nx_packet_data_extract_offset(q, 0, buf, 10) == (NX_SUCCESS, 0)
        nx_packet_release(q)
    finally:
        nx_packet_pool_delete(pool)


def test_append_beyond_payload_is_size_error_and_length_checks():
    pool = _pool(2, payload=32)
    try:
        st, p = nx_packet_allocate(pool, 16, NX_NO_WAIT)
        assert nx_packet_data_append(p, bytes(17), 17, pool, NX_NO_WAIT) == NX_SIZE_ERROR
        assert nx_packet_data_append(p, bytes(16), 16, pool, NX_NO_WAIT) == NX_SUCCESS
        assert nx_packet_data_append(p, b"x", 1, pool, NX_NO_WAIT) == NX_SIZE_ERROR
        assert nx_packet_length_get(p) == (NX_SUCCESS, 16)
        assert nx_packet_data_append(p, b"ab", 0, pool, NX_NO_WAIT) == NX_SIZE_ERROR
        # length longer than the data given
        st, q = nx_packet_allocate(pool, 0, NX_NO_WAIT)
        assert nx_packet_data_append(q, b"ab", 3, pool, NX_NO_WAIT) == NX_INVALID_PARAMETERS
        assert nx_packet_data_append(q, b"abcd", 2, pool, NX_NO_WAIT) == NX_SUCCESS
        assert bytes(q._data()) == b"ab"
        nx_packet_release(p)
        nx_packet_release(q)
        # appending to a released packet is refused
        assert nx_packet_data_append(q, b"ab", 2, pool, NX_NO_WAIT) == NX_PTR_ERROR
    finally:
        nx_packet_pool_delete(pool)


def test_none_arguments_are_ptr_error_for_every_service():
    pool = _pool(1)
    st, p = nx_packet_allocate(pool, 0, NX_NO_WAIT)
    buf = bytearray(8)
    try:
        assert nx_packet_pool_create(None, "p", 64, bytearray(512), 512) == NX_PTR_ERROR
        assert nx_packet_pool_create(NX_PACKET_POOL(), "p", 64, None, 512) == NX_PTR_ERROR
        assert nx_packet_pool_delete(None) == NX_PTR_ERROR
        assert nx_packet_pool_info_get(None)[0] == NX_PTR_ERROR
        assert nx_packet_allocate(None, 0, NX_NO_WAIT) == (NX_PTR_ERROR, None)
        assert nx_packet_release(None) == NX_PTR_ERROR
        assert nx_packet_data_append(None, b"a", 1, pool, NX_NO_WAIT) == NX_PTR_ERROR
        assert nx_packet_data_append(p, None, 1, pool, NX_NO_WAIT) == NX_PTR_ERROR
        assert nx_packet_data_append(p, b"a", 1, None, NX_NO_WAIT) == NX_PTR_ERROR
        assert nx_packet_data_extract_offset(None, 0, buf, 8) == (NX_PTR_ERROR, 0)
        assert nx_packet_data_extract_offset(p, 0, None, 8) == (NX_PTR_ERROR, 0)
        assert nx_packet_length_get(None) == (NX_PTR_ERROR, 0)
        assert nx_ip_create(None, "ip", IP_ADDRESS(127, 0, 0, 1), 0, pool) == NX_PTR_ERROR
        assert nx_ip_create(NX_IP(), "ip", IP_ADDRESS(127, 0, 0, 1), 0, None) == NX_PTR_ERROR
        assert nx_ip_delete(None) == NX_PTR_ERROR
        assert nx_udp_enable(None) == NX_PTR_ERROR
        assert nx_arp_enable(None, bytearray(64), 64) == NX_PTR_ERROR
        assert nx_ip_fragment_enable(None) == NX_PTR_ERROR
        assert nx_ip_status_check(None, NX_IP_INITIALIZE_DONE, NX_NO_WAIT)[0] == NX_PTR_ERROR
        assert nx_udp_socket_create(None, NX_UDP_SOCKET(), "s", NX_IP_NORMAL,
                                    NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 4) == NX_PTR_ERROR
        assert nx_udp_socket_bind(None, 0, NX_NO_WAIT) == NX_PTR_ERROR
        assert nx_udp_socket_unbind(None) == NX_PTR_ERROR
        assert nx_udp_socket_delete(None) == NX_PTR_ERROR
        assert nx_udp_socket_send(None, p, IP_ADDRESS(127, 0, 0, 1), 1) == NX_PTR_ERROR
        assert nx_udp_socket_receive(None, NX_NO_WAIT) == (NX_PTR_ERROR, None)
        assert nx_udp_socket_port_get(None)[0] == NX_PTR_ERROR
        assert nx_udp_source_extract(None)[0] == NX_PTR_ERROR
        assert nxd_udp_source_extract(None)[0] == NX_PTR_ERROR
        # never-created control blocks
        never = NX_UDP_SOCKET()
        assert nx_udp_socket_bind(never, 0, NX_NO_WAIT) == NX_PTR_ERROR
        assert nx_udp_socket_send(never, p, IP_ADDRESS(127, 0, 0, 1), 1) == NX_PTR_ERROR
        assert nx_udp_socket_receive(never, NX_NO_WAIT) == (NX_PTR_ERROR, None)
        assert nx_udp_enable(NX_IP()) == NX_PTR_ERROR
        assert nx_packet_allocate(NX_PACKET_POOL(), 0, NX_NO_WAIT)[0] == NX_PTR_ERROR
        assert nx_udp_socket_create(NX_IP(), NX_UDP_SOCKET(), "s", NX_IP_NORMAL,
                                    NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 4) == NX_PTR_ERROR
    finally:
        nx_packet_release(p)
        nx_packet_pool_delete(pool)


# --- addresses -----------------------------------------------------------------------
def test_ip_address_macro_and_nxd_address():
    assert IP_ADDRESS(192, 168, 1, 1) == 0xC0A80101
    assert IP_ADDRESS(127, 0, 0, 1) == 0x7F000001
    a = NXD_ADDRESS()
    assert a.nxd_ip_version == 0
    a.nxd_ip_version = NX_IP_VERSION_V4
    a.nxd_ip_address.v4 = IP_ADDRESS(10, 0, 0, 2)
    assert netx._addr_from_nxd(a, 4443) == ("10.0.0.2", 4443)
    b = NXD_ADDRESS()
    b.nxd_ip_version = NX_IP_VERSION_V6
    b.nxd_ip_address.v6 = [0, 0, 0, 1]
    assert netx._addr_from_nxd(b, 5684) == ("::1", 5684, 0, 0)
    c = NXD_ADDRESS("2001:db8::8:800:200c:417a")
    assert c.nxd_ip_address.v6 == [0x20010DB8, 0, 0x00080800, 0x200C417A]
    assert netx._addr_from_nxd(c, 1)[0] == "2001:db8::8:800:200c:417a"
    assert netx._addr_from_nxd(NXD_ADDRESS("fe80::1%lo"), 1)[0] == "fe80::1"
    assert netx._addr_from_nxd(NXD_ADDRESS("::ffff:127.0.0.1"), 1)[0] == "::ffff:127.0.0.1"
    assert netx._addr_from_nxd(NXD_ADDRESS("1:0:0:2:0:0:0:3"), 1)[0] == "1:0:0:2::3"
    assert netx._addr_from_nxd(NXD_ADDRESS("1:2:3:4:5:6:7:8"), 1)[0] == "1:2:3:4:5:6:7:8"
    nxd, p = netx._nxd_from_addr(("::1", 99, 0, 0))
    assert nxd.nxd_ip_version == NX_IP_VERSION_V6 and nxd.nxd_ip_address.v6 == [0, 0, 0, 1]
    assert p == 99
    nxd, p = netx._nxd_from_addr(("192.168.1.1", 7))
    assert nxd.nxd_ip_version == NX_IP_VERSION_V4 and nxd.nxd_ip_address.v4 == 0xC0A80101
    assert netx._nxd_from_addr(("not an address", 1)) == (None, 0)
    for bad in ("1::2::3", "1.2.3", "256.1.1.1", "12345::", "1:2:3:4:5:6:7:8:9"):
        assert not netx._nxd_set(NXD_ADDRESS(), bad), bad


def test_sizeof_returns_control_block_size():
    assert sizeof(NX_PACKET) == NX_PACKET.SIZE > 0
    assert sizeof(NX_UDP_SOCKET) > 0 and sizeof(NXD_ADDRESS) > 0


# --- IP instance ---------------------------------------------------------------------
def test_ip_create_status_check_and_enables():
    pool = _pool(2)
    ip = NX_IP()
    try:
        assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFF000000, pool,
                            None, bytearray(64), 64, 1) == NX_SUCCESS
        assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0, pool) == NX_PTR_ERROR
        st, actual = nx_ip_status_check(ip, NX_IP_INITIALIZE_DONE, NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS and actual & NX_IP_INITIALIZE_DONE
        assert nx_ip_status_check(ip, 0x8000, NX_NO_WAIT)[0] == NX_OPTION_ERROR
        assert nx_arp_enable(ip, bytearray(512), 512) == NX_SUCCESS
        assert nx_arp_enable(ip, bytearray(512), 512) == NX_ALREADY_ENABLED
        assert nx_ip_fragment_enable(ip) == NX_SUCCESS
        s = NX_UDP_SOCKET()
        assert nx_udp_socket_create(ip, s, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 4) == NX_NOT_ENABLED
        assert nx_udp_enable(ip) == NX_SUCCESS
        assert nx_udp_enable(ip) == NX_ALREADY_ENABLED
        assert nx_udp_socket_create(ip, s, "s", NX_IP_NORMAL, 7, NX_IP_TIME_TO_LIVE, 4) \
            == NX_OPTION_ERROR
        assert nx_udp_socket_create(ip, s, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 4) == NX_SUCCESS
        assert nx_ip_delete(ip) == NX_SOCKETS_BOUND
        assert nx_udp_socket_delete(s) == NX_SUCCESS
        assert nx_ip_create(NX_IP(), "x", "not-an-ip", 0, pool) == NX_IP_ADDRESS_ERROR
    finally:
        assert nx_ip_delete(ip) == NX_SUCCESS
        nx_packet_pool_delete(pool)


# --- UDP over the in-memory network --------------------------------------------------
def test_memnet_send_receive_through_udp_sockets():
    st = _Stack()
    try:
        a = st.socket(5000)
        b = st.socket(NX_ANY_PORT)
        status, bport = nx_udp_socket_port_get(b)
        assert status == NX_SUCCESS and bport >= 49152
        _send(st, a, b"ping", IP_ADDRESS(127, 0, 0, 1), bport)
        assert st.pool.nx_packet_pool_available == 8      # sent packet was released
        status, pkt = nx_udp_socket_receive(b, NX_NO_WAIT)
        assert status == NX_SUCCESS
        assert bytes(pkt._data()) == b"ping"
        assert pkt.nx_packet_length == 4 and pkt._addr == ("127.0.0.1", 5000)
        assert nx_udp_source_extract(pkt) == (NX_SUCCESS, IP_ADDRESS(127, 0, 0, 1), 5000)
        status, nxd, p = nxd_udp_source_extract(pkt)
        assert status == NX_SUCCESS and nxd.nxd_ip_address.v4 == IP_ADDRESS(127, 0, 0, 1)
        assert p == 5000
        assert nx_packet_release(pkt) == NX_SUCCESS
        # reply with an NXD_ADDRESS
        status, q = nx_packet_allocate(st.pool, NX_UDP_PACKET, NX_NO_WAIT)
        nx_packet_data_append(q, b"pong", 4, st.pool, NX_NO_WAIT)
        assert nxd_udp_socket_send(b, q, NXD_ADDRESS(IP_ADDRESS(127, 0, 0, 1)), 5000) == NX_SUCCESS
        assert _recv_bytes(a, NX_IP_PERIODIC_RATE) == (NX_SUCCESS, b"pong")
        assert nx_udp_socket_receive(a, NX_NO_WAIT) == (NX_NO_PACKET, None)
        assert nx_udp_socket_receive(a, 2) == (NX_NO_PACKET, None)
        assert st.pool.nx_packet_pool_available == 8
    finally:
        st.close()


def test_bind_errors_and_unbind_delete_rules():
    st = _Stack()
    try:
        a = st.socket(6000)
        assert nx_udp_socket_bind(a, 6001, NX_NO_WAIT) == NX_ALREADY_BOUND
        b = NX_UDP_SOCKET()
        assert nx_udp_socket_create(st.ip, b, "b", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 4) == NX_SUCCESS
        st.sockets.append(b)
        assert nx_udp_socket_bind(b, 6000, NX_NO_WAIT) == NX_PORT_UNAVAILABLE
        assert nx_udp_socket_bind(b, 6000, 2) == NX_PORT_UNAVAILABLE
        assert nx_udp_socket_bind(b, 70000, NX_NO_WAIT) == NX_INVALID_PORT
        assert nx_udp_socket_receive(b, NX_NO_WAIT) == (NX_NOT_BOUND, None)
        assert nx_udp_socket_unbind(b) == NX_NOT_BOUND
        assert nx_udp_socket_delete(a) == NX_STILL_BOUND
        assert nx_udp_socket_unbind(a) == NX_SUCCESS
        assert nx_udp_socket_bind(b, 6000, NX_NO_WAIT) == NX_SUCCESS
    finally:
        st.close()


def test_send_checks_header_room_address_and_keeps_packet_on_error():
    st = _Stack()
    try:
        a = st.socket(6100)
        status, p = nx_packet_allocate(st.pool, 0, NX_NO_WAIT)
        nx_packet_data_append(p, b"x", 1, st.pool, NX_NO_WAIT)
        assert nx_udp_socket_send(a, p, IP_ADDRESS(127, 0, 0, 1), 6100) == NX_UNDERFLOW
        status, q = nx_packet_allocate(st.pool, NX_UDP_PACKET, NX_NO_WAIT)
        assert nx_udp_socket_send(a, q, 0, 6100) == NX_IP_ADDRESS_ERROR
        assert nx_udp_socket_send(a, q, IP_ADDRESS(127, 0, 0, 1), 65536) == NX_INVALID_PORT
        # IPv6 needs more header room than NX_UDP_PACKET (an IPv4 build's) leaves
        assert nxd_udp_socket_send(a, q, NXD_ADDRESS("::1"), 6100) == NX_UNDERFLOW
        status, r = nx_packet_allocate(st.pool, NX_IPv6_UDP_PACKET, NX_NO_WAIT)
        # IPv6 destination but the IP instance has no IPv6 address
        assert nxd_udp_socket_send(a, r, NXD_ADDRESS("::1"), 6100) == NX_IP_ADDRESS_ERROR
        assert nx_packet_release(p) == NX_SUCCESS and nx_packet_release(q) == NX_SUCCESS
        assert nx_packet_release(r) == NX_SUCCESS
        assert st.pool.nx_packet_pool_available == 8
    finally:
        st.close()


def test_receive_queue_maximum_drops_oldest():
    st = _Stack()
    try:
        a = st.socket(6200)
        b = st.socket(6201, queue=2)
        for msg in (b"1", b"2", b"3"):
            _send(st, a, msg, IP_ADDRESS(127, 0, 0, 1), 6201)
        tx_thread_sleep(0)       # pump once
        assert b.nx_udp_socket_receive_count == 2
        assert b.nx_udp_socket_packets_dropped == 1
        assert _recv_bytes(b) == (NX_SUCCESS, b"2")
        assert _recv_bytes(b) == (NX_SUCCESS, b"3")
        assert st.pool.nx_packet_pool_available == 8
    finally:
        st.close()


def test_pool_empty_drops_received_datagram_into_scratch():
    st = _Stack(count=2)
    try:
        a = st.socket(6300)
        b = st.socket(6301)
        _send(st, a, b"keep", IP_ADDRESS(127, 0, 0, 1), 6301)
        held = []
        for _ in range(2):
            status, p = nx_packet_allocate(st.pool, 0, NX_NO_WAIT)
            held.append(p)
        tx_thread_sleep(0)
        assert st.ip.nx_ip_receive_packets_dropped == 1
        assert b.nx_udp_socket_receive_count == 0
        for p in held:
            nx_packet_release(p)
        _send(st, a, b"next", IP_ADDRESS(127, 0, 0, 1), 6301)
        assert _recv_bytes(b) == (NX_SUCCESS, b"next")
    finally:
        st.close()


def test_dtls_receive_hook_gets_packet_and_address():
    st = _Stack()
    try:
        a = st.socket(6400)
        b = st.socket(6401)
        got = []

        def hook(pkt, addr, now):
            got.append((bytes(pkt._data()), addr))
            nx_packet_release(pkt)

        b._dtls_receive = hook
        _send(st, a, b"rec", IP_ADDRESS(127, 0, 0, 1), 6401)
        assert nx_udp_socket_receive(b, 1) == (NX_NO_PACKET, None)
        assert got == [(b"rec", ("127.0.0.1", 6400))]
        assert st.pool.nx_packet_pool_available == 8
    finally:
        st.close()


def test_nested_wait_from_callback_processes_each_datagram_once():
    st = _Stack()
    try:
        a = st.socket(6500)
        b = st.socket(6501)
        seen = []

        def hook(pkt, addr, now):
            seen.append(bytes(pkt._data()))
            nx_packet_release(pkt)
            if len(seen) == 1:
                tx_thread_sleep(1)      # nested wait: runs the pump again

        b._dtls_receive = hook
        for msg in (b"a", b"b", b"c"):
            _send(st, a, msg, IP_ADDRESS(127, 0, 0, 1), 6501)
        tx_thread_sleep(1)
        assert seen == [b"a", b"b", b"c"]
        assert st.pool.nx_packet_pool_available == 8
    finally:
        st.close()


def test_ipv6_dual_stack_on_memnet():
    st = _Stack()
    try:
        assert nxd_ipv6_address_set(st.ip, 0, NXD_ADDRESS("::1"), 128) == (NX_SUCCESS, 0)
        a = st.socket(6600)
        b = st.socket(6601)
        status, p = nx_packet_allocate(st.pool, NX_IPv6_UDP_PACKET, NX_NO_WAIT)
        nx_packet_data_append(p, b"six", 3, st.pool, NX_NO_WAIT)
        assert nxd_udp_socket_send(a, p, NXD_ADDRESS("::1"), 6601) == NX_SUCCESS
        status, pkt = nx_udp_socket_receive(b, NX_NO_WAIT)
        assert status == NX_SUCCESS and pkt._addr == ("::1", 6600, 0, 0)
        assert nx_udp_source_extract(pkt)[0] == NX_INVALID_PACKET
        status, nxd, p6 = nxd_udp_source_extract(pkt)
        assert nxd.nxd_ip_version == NX_IP_VERSION_V6 and nxd.nxd_ip_address.v6 == [0, 0, 0, 1]
        nx_packet_release(pkt)
        _send(st, a, b"four", IP_ADDRESS(127, 0, 0, 1), 6601)
        assert _recv_bytes(b) == (NX_SUCCESS, b"four")
    finally:
        st.close()


# --- timers --------------------------------------------------------------------------
class _Timer:
    def __init__(self, delay_ms):
        self.deadline = port.ticks_add(port.ticks_ms(), delay_ms)
        self.fired = []

    def _timer_fire(self, now):
        self.fired.append(now)


def test_timers_fire_through_tx_thread_sleep():
    t1 = _Timer(20)
    t2 = _Timer(5000)
    armed = netx._timer_count()
    netx._timer_set(t1, t1.deadline)
    netx._timer_set(t2, t2.deadline)
    netx._timer_set(t1, t1.deadline)        # setting the same deadline twice arms once
    assert netx._timer_count() == armed + 2
    try:
        start = port.ticks_ms()
        due = t1.deadline
        assert tx_thread_sleep(5) == NX_SUCCESS        # 50 ms
        assert len(t1.fired) == 1
        assert port.ticks_diff(t1.fired[0], due) >= 0  # not before its deadline
        assert t2.fired == []
        assert port.ticks_diff(port.ticks_ms(), start) >= 50
        assert not netx._timer_armed(t1) and netx._timer_armed(t2)
    finally:
        netx._timer_set(t1, None)
        netx._timer_set(t2, None)
    assert netx._timer_count() == armed


def test_timer_moved_or_stopped_fires_at_its_last_deadline_only():
    t = _Timer(0)
    netx._timer_set(t, t.deadline)                     # due now...
    netx._timer_set(t, port.ticks_add(port.ticks_ms(), 5000))   # ...moved away
    u = _Timer(0)
    netx._timer_set(u, u.deadline)
    netx._timer_set(u, None)                            # ...stopped
    try:
        tx_thread_sleep(1)
        assert t.fired == [] and u.fired == []
        netx._timer_set(t, port.ticks_ms())
        tx_thread_sleep(1)
        assert len(t.fired) == 1
    finally:
        netx._timer_set(t, None)


def test_timer_that_waits_in_its_callback_is_fired_once_and_does_not_pump():
    # A wait entered from inside the pump (a timer or notify callback calling a
    # service) returns at once: pumping again from there would nest one pump per
    # event and fire this timer again while it is still running.
    class Sleepy(_Timer):
        inside = 0
        reentered = 0

        def _timer_fire(self, now):
            self.fired.append(now)
            if self.inside:
                self.reentered += 1
            self.inside += 1
            netx._timer_set(self, now)              # due again at once
            tx_thread_sleep(1)                      # nested: does not pump
            self.inside -= 1
            netx._timer_set(self, None)

    t = Sleepy(0)
    netx._timer_set(t, t.deadline)
    try:
        tx_thread_sleep(1)
        assert len(t.fired) == 1 and t.reentered == 0
    finally:
        netx._timer_set(t, None)


# --- lossy links ---------------------------------------------------------------------
def _lossy_run(seed):
    st = _Stack(net=MemoryNetwork(seed=seed, loss=300, duplicate=200, reorder=200,
                                  capture=True), count=8)
    got = []
    try:
        a = st.socket(6700)
        b = st.socket(6701, queue=64)

        def hook(pkt, addr, now):
            got.append(bytes(pkt._data()))
            nx_packet_release(pkt)

        b._dtls_receive = hook
        for i in range(40):
            _send(st, a, ("m%d" % i).encode(), IP_ADDRESS(127, 0, 0, 1), 6701)
            tx_thread_sleep(0)
        tx_thread_sleep(1)
        captured = len(st.net.captured)
    finally:
        st.close()
    return got, captured


def test_lossy_memnet_is_deterministic_by_seed():
    got1, cap1 = _lossy_run(1234)
    got2, cap2 = _lossy_run(1234)
    got3, _ = _lossy_run(99)
    assert cap1 == cap2 == 40
    assert got1 == got2
    assert got1 != got3
    sent = [("m%d" % i).encode() for i in range(40)]
    assert len(set(got1)) < 40                           # something was lost
    assert len(got1) > len(set(got1))                    # something was duplicated
    order = [sent.index(m) for m in got1]
    assert order != sorted(order)                        # something was reordered


def test_memnet_drop_hook_and_capture():
    dropped = []

    def drop(data, src, dst):
        if data == b"drop me":
            dropped.append(dst)
            return True
        return False

    st = _Stack(net=MemoryNetwork(drop=drop, capture=True))
    try:
        a = st.socket(6800)
        b = st.socket(6801)
        _send(st, a, b"drop me", IP_ADDRESS(127, 0, 0, 1), 6801)
        _send(st, a, b"keep me", IP_ADDRESS(127, 0, 0, 1), 6801)
        assert _recv_bytes(b) == (NX_SUCCESS, b"keep me")
        assert _recv_bytes(b)[0] == NX_NO_PACKET
        assert dropped == [("127.0.0.1", 6801)]
        assert st.net.captured[0] == (("127.0.0.1", 6800), ("127.0.0.1", 6801), b"drop me")
        assert st.net.dropped == 1
    finally:
        st.close()


def test_random_source_installed_is_used():
    calls = []

    def src(n):
        calls.append(n)
        return b"\x5A" * n

    previous = port._random_source
    port.set_random_source(src)
    try:
        buf = bytearray(12)
        port.random_into(buf)
        assert bytes(buf) == b"\x5A" * 12 and calls == [12]
        port.set_random_source(lambda n: b"short")
        try:
            port.random_into(bytearray(12))
            raise AssertionError("a short random source must be refused")
        except Exception as e:
            from nxsecure.const import NxError, NX_SECURE_TLS_NO_RANDOM_SOURCE
            assert isinstance(e, NxError) and e.code == NX_SECURE_TLS_NO_RANDOM_SOURCE
    finally:
        port.set_random_source(previous)


def test_ticks_diff_wraps():
    assert port.ticks_diff(5, 3) == 2
    assert port.ticks_diff(3, 5) == -2
    t = port.ticks_ms()
    assert port.ticks_diff(port.ticks_add(t, 100), t) == 100


def test_clear_zeroes_exactly_the_bytes_asked():
    # netx._clear wipes packets that held decrypted records (issue #11): whole blocks,
    # the tail, and nothing past n, on every path (a board's 64-byte zero block, or
    # CPython's grown buffer).
    for n in (0, 1, 63, 64, 65, 128, 200, 1500):
        buf = bytearray(b"\xa5" * 1600)
        netx._clear(memoryview(buf)[3:], n)
        assert buf[:3] == b"\xa5\xa5\xa5"
        assert buf[3:3 + n] == bytes(n)
        assert buf[3 + n] == 0xA5
