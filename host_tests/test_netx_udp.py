"""CPython-only tests of nxsecure/netx.py over real UDP sockets on 127.0.0.1 and ::1:
NetX socket services, threads blocked in nx_udp_socket_receive(NX_WAIT_FOREVER),
port allocation and conflicts, and the secure-random refusal."""
import socket
import sys
import threading
import time
import types

import pytest

from nxsecure import port
from nxsecure import netx
from nxsecure.const import (
    NX_SUCCESS, NX_NO_PACKET, NX_NO_WAIT, NX_WAIT_FOREVER, NX_IP_PERIODIC_RATE,
    NX_UDP_PACKET, NX_IPv6_UDP_PACKET, NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE,
    NX_ANY_PORT, NX_ALREADY_BOUND, NX_PORT_UNAVAILABLE, NX_IP_VERSION_V6,
    NX_SECURE_TLS_NO_RANDOM_SOURCE, NxError,
)
from nxsecure import (
    NX_PACKET_POOL, NX_PACKET, NX_IP, NX_UDP_SOCKET, NXD_ADDRESS, IP_ADDRESS, sizeof,
    nx_packet_pool_create, nx_packet_pool_delete, nx_packet_allocate, nx_packet_release,
    nx_packet_data_append, nx_packet_data_extract_offset, nx_ip_create, nx_ip_delete,
    nx_udp_enable, nx_udp_socket_create, nx_udp_socket_bind, nx_udp_socket_unbind,
    nx_udp_socket_delete, nx_udp_socket_send, nxd_udp_socket_send, nx_udp_socket_receive,
    nx_udp_socket_port_get, nx_udp_source_extract, nxd_udp_source_extract,
    nxd_ipv6_address_set, tx_thread_sleep, nxsecure_ip_thread_start, nxsecure_ip_thread_stop,
)

LOCAL = IP_ADDRESS(127, 0, 0, 1)


def _has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback on this host")


class Stack:
    def __init__(self, address=LOCAL, payload=1536, count=16):
        self.pool = NX_PACKET_POOL()
        size = (payload + sizeof(NX_PACKET)) * count
        self.memory = bytearray(size)
        assert nx_packet_pool_create(self.pool, "pool", payload, self.memory, size) == NX_SUCCESS
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", address, 0xFFFFFF00, self.pool) == NX_SUCCESS
        assert nx_udp_enable(self.ip) == NX_SUCCESS
        self.sockets = []

    def socket(self, udp_port=NX_ANY_PORT):
        s = NX_UDP_SOCKET()
        assert nx_udp_socket_create(self.ip, s, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 16) == NX_SUCCESS
        self.sockets.append(s)
        if udp_port is not None:
            assert nx_udp_socket_bind(s, udp_port, NX_NO_WAIT) == NX_SUCCESS
        return s

    def send(self, sock, data, address, udp_port, packet_type=NX_UDP_PACKET):
        st, pkt = nx_packet_allocate(self.pool, packet_type, NX_WAIT_FOREVER)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(pkt, data, len(data), self.pool, NX_NO_WAIT) == NX_SUCCESS
        if isinstance(address, NXD_ADDRESS):
            st = nxd_udp_socket_send(sock, pkt, address, udp_port)
        else:
            st = nx_udp_socket_send(sock, pkt, address, udp_port)
        if st != NX_SUCCESS:
            nx_packet_release(pkt)
        return st

    def close(self):
        for s in self.sockets:
            if s.nx_udp_socket_port:
                nx_udp_socket_unbind(s)
            nx_udp_socket_delete(s)
        assert nx_ip_delete(self.ip) == NX_SUCCESS
        nx_packet_pool_delete(self.pool)


@pytest.fixture
def stack():
    port.use_network(None)
    s = Stack()
    yield s
    s.close()


def _payload(pkt):
    buf = bytearray(pkt.nx_packet_length)
    st, n = nx_packet_data_extract_offset(pkt, 0, buf, len(buf))
    assert st == NX_SUCCESS
    return bytes(buf[:n])


def test_ipv4_loopback_exchange(stack):
    a = stack.socket(NX_ANY_PORT)
    b = stack.socket(NX_ANY_PORT)
    _, pa = nx_udp_socket_port_get(a)
    _, pb = nx_udp_socket_port_get(b)
    assert pa != pb
    assert stack.send(a, b"over the wire", LOCAL, pb) == NX_SUCCESS
    st, pkt = nx_udp_socket_receive(b, NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS
    assert _payload(pkt) == b"over the wire"
    assert nx_udp_source_extract(pkt) == (NX_SUCCESS, LOCAL, pa)
    assert nx_packet_release(pkt) == NX_SUCCESS
    assert stack.pool.nx_packet_pool_available == stack.pool.nx_packet_pool_total


def test_any_port_is_a_real_os_port(stack):
    s = stack.socket(NX_ANY_PORT)
    _, p = nx_udp_socket_port_get(s)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        raw.sendto(b"from a plain socket", ("127.0.0.1", p))
        st, pkt = nx_udp_socket_receive(s, NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS and _payload(pkt) == b"from a plain socket"
        assert pkt._addr == ("127.0.0.1", raw.getsockname()[1])
        nx_packet_release(pkt)
    finally:
        raw.close()


def test_receive_times_out_with_no_packet(stack):
    s = stack.socket(NX_ANY_PORT)
    t0 = time.monotonic()
    assert nx_udp_socket_receive(s, 20) == (NX_NO_PACKET, None)   # 20 ticks = 200 ms
    assert 0.18 <= time.monotonic() - t0 < 2.0


def test_already_bound_and_port_unavailable(stack):
    a = stack.socket(NX_ANY_PORT)
    _, pa = nx_udp_socket_port_get(a)
    assert nx_udp_socket_bind(a, NX_ANY_PORT, NX_NO_WAIT) == NX_ALREADY_BOUND
    b = stack.socket(None)
    assert nx_udp_socket_bind(b, pa, NX_NO_WAIT) == NX_PORT_UNAVAILABLE
    # a port held by something outside the stack (another process's socket)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.bind(("127.0.0.1", 0))
    try:
        assert nx_udp_socket_bind(b, raw.getsockname()[1], 5) == NX_PORT_UNAVAILABLE
    finally:
        raw.close()
    # once the other socket unbinds, a waiting bind gets the port
    timer = threading.Timer(0.1, nx_udp_socket_unbind, (a,))
    timer.start()
    try:
        assert nx_udp_socket_bind(b, pa, NX_IP_PERIODIC_RATE * 2) == NX_SUCCESS
    finally:
        timer.join()
    assert nx_udp_socket_port_get(b) == (NX_SUCCESS, pa)


def test_two_threads_exchange_with_wait_forever(stack):
    server = stack.socket(NX_ANY_PORT)
    _, sport = nx_udp_socket_port_get(server)
    client = stack.socket(NX_ANY_PORT)
    n = 20
    errors = []

    def serve():
        try:
            for _ in range(n):
                st, pkt = nx_udp_socket_receive(server, NX_WAIT_FOREVER)
                assert st == NX_SUCCESS
                st, ip_addr, cport = nx_udp_source_extract(pkt)
                data = _payload(pkt)
                nx_packet_release(pkt)
                assert stack.send(server, data.upper(), ip_addr, cport) == NX_SUCCESS
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    for i in range(n):
        msg = b"hello %d" % i
        assert stack.send(client, msg, LOCAL, sport) == NX_SUCCESS
        st, pkt = nx_udp_socket_receive(client, NX_WAIT_FOREVER)
        assert st == NX_SUCCESS
        assert _payload(pkt) == msg.upper()
        nx_packet_release(pkt)
    t.join(5)
    assert not t.is_alive() and not errors, errors
    assert stack.pool.nx_packet_pool_available == stack.pool.nx_packet_pool_total


def test_thread_blocked_forever_wakes_on_datagram_from_other_thread(stack):
    s = stack.socket(NX_ANY_PORT)
    _, p = nx_udp_socket_port_get(s)
    other = stack.socket(NX_ANY_PORT)
    result = []

    def waiter():
        result.append(nx_udp_socket_receive(s, NX_WAIT_FOREVER))

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    time.sleep(0.05)
    assert stack.send(other, b"wake", LOCAL, p) == NX_SUCCESS
    t.join(5)
    assert not t.is_alive()
    st, pkt = result[0]
    assert st == NX_SUCCESS and _payload(pkt) == b"wake"
    nx_packet_release(pkt)


@needs_ipv6
def test_ipv6_loopback_exchange():
    port.use_network(None)
    st6 = Stack(address="::1")
    try:
        a = st6.socket(NX_ANY_PORT)
        b = st6.socket(NX_ANY_PORT)
        _, pa = nx_udp_socket_port_get(a)
        _, pb = nx_udp_socket_port_get(b)
        assert st6.send(a, b"six", NXD_ADDRESS("::1"), pb, NX_IPv6_UDP_PACKET) == NX_SUCCESS
        status, pkt = nx_udp_socket_receive(b, NX_IP_PERIODIC_RATE)
        assert status == NX_SUCCESS and _payload(pkt) == b"six"
        status, nxd, sport = nxd_udp_source_extract(pkt)
        assert nxd.nxd_ip_version == NX_IP_VERSION_V6
        assert nxd.nxd_ip_address.v6 == [0, 0, 0, 1] and sport == pa
        nx_packet_release(pkt)
    finally:
        st6.close()


@needs_ipv6
def test_dual_stack_socket_serves_both_families(stack):
    assert nxd_ipv6_address_set(stack.ip, 0, NXD_ADDRESS("::1"), 128)[0] == NX_SUCCESS
    s = stack.socket(NX_ANY_PORT)
    _, p = nx_udp_socket_port_get(s)
    r4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        r4.sendto(b"v4", ("127.0.0.1", p))
        r6.sendto(b"v6", ("::1", p))
        got = set()
        for _ in range(2):
            status, pkt = nx_udp_socket_receive(s, NX_IP_PERIODIC_RATE)
            assert status == NX_SUCCESS
            got.add((_payload(pkt), len(pkt._addr)))
            nx_packet_release(pkt)
        assert got == {(b"v4", 2), (b"v6", 4)}
    finally:
        r4.close()
        r6.close()


def test_bind_falls_back_to_wildcard_for_a_board_address():
    port.use_network(None)
    st = Stack(address=IP_ADDRESS(192, 0, 2, 1))     # TEST-NET: not this host's
    try:
        s = st.socket(NX_ANY_PORT)
        _, p = nx_udp_socket_port_get(s)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(b"x", ("127.0.0.1", p))
        raw.close()
        status, pkt = nx_udp_socket_receive(s, NX_IP_PERIODIC_RATE)
        assert status == NX_SUCCESS
        nx_packet_release(pkt)
    finally:
        st.close()


def test_oversized_datagram_is_truncated_to_payload():
    port.use_network(None)
    st = Stack(payload=64, count=4)
    try:
        s = st.socket(NX_ANY_PORT)
        _, p = nx_udp_socket_port_get(s)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(bytes(range(100)), ("127.0.0.1", p))
        raw.close()
        status, pkt = nx_udp_socket_receive(s, NX_IP_PERIODIC_RATE)
        assert status == NX_SUCCESS and pkt.nx_packet_length == 64
        assert _payload(pkt) == bytes(range(64))
        nx_packet_release(pkt)
    finally:
        st.close()


def test_send_to_closed_port_does_not_raise(stack):
    a = stack.socket(NX_ANY_PORT)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.bind(("127.0.0.1", 0))
    dead = raw.getsockname()[1]
    raw.close()
    for _ in range(3):     # ICMP port unreachable may surface as ECONNREFUSED later
        assert stack.send(a, b"nobody", LOCAL, dead) == NX_SUCCESS
        assert nx_udp_socket_receive(a, 1) == (NX_NO_PACKET, None)


def test_timer_fires_while_thread_blocks_in_real_poll(stack):
    s = stack.socket(NX_ANY_PORT)

    class T:
        fired = 0

        def _timer_fire(self, now):
            self.fired += 1

    t = T()
    netx._timer_set(t, port.ticks_add(port.ticks_ms(), 50))
    try:
        t0 = time.monotonic()
        assert nx_udp_socket_receive(s, 20) == (NX_NO_PACKET, None)
        assert t.fired == 1
        assert time.monotonic() - t0 >= 0.18
    finally:
        netx._timer_set(t, None)


def test_wait_inside_a_timer_callback_returns_at_once_without_pumping(stack, monkeypatch):
    # A callback run by a timer (a notify that ends a session, say) may call a service
    # that waits. It must neither spin nor pump again from inside the pump (issue #11,
    # defect 13): the service reports what holds now, like NX_NO_WAIT, and the
    # datagram waiting on the socket is left for the pump that called the callback.
    s = stack.socket(NX_ANY_PORT)
    other = stack.socket(NX_ANY_PORT)
    polls = []
    real_poll = port.poll

    def counting_poll(handles, timeout_ms):
        polls.append(timeout_ms)
        return real_poll(handles, timeout_ms)
    monkeypatch.setattr(port, "poll", counting_poll)

    class T:
        fired = 0
        got = None

        def _timer_fire(self, now):
            self.fired += 1
            T.got = nx_udp_socket_receive(s, 10)      # nested: at once

    assert stack.send(other, b"queued", LOCAL, s.nx_udp_socket_port) == NX_SUCCESS
    time.sleep(0.05)                                   # the datagram is in the OS queue
    t = T()
    netx._timer_set(t, port.ticks_ms())
    try:
        polls.clear()
        tx_thread_sleep(0)
        assert t.fired == 1
        assert T.got == (NX_NO_PACKET, None)
        assert len(polls) <= 2, polls                  # the outer pass only
        st, pkt = nx_udp_socket_receive(s, NX_IP_PERIODIC_RATE)   # the outer pump has it
        assert st == NX_SUCCESS and bytes(pkt._data()) == b"queued"
        nx_packet_release(pkt)
    finally:
        netx._timer_set(t, None)


# --- port: random source and crypto backend selection ---------------------------------
def test_random_uses_os_urandom_by_default():
    a = bytearray(32)
    b = bytearray(32)
    port.random_into(a)
    port.random_into(b)
    assert a != b and any(a)


def test_random_refused_when_platform_has_none(monkeypatch):
    import random
    monkeypatch.setattr(port._impl, "platform_random", lambda n: None)
    monkeypatch.setattr(port, "_random_source", None)
    monkeypatch.setattr(random, "getrandbits", None)   # a fallback to `random` would crash
    with pytest.raises(NxError) as e:
        port.random_into(bytearray(16))
    assert e.value.code == NX_SECURE_TLS_NO_RANDOM_SOURCE
    port.set_random_source(lambda n: b"\x01" * n)
    buf = bytearray(4)
    port.random_into(buf)
    assert buf == b"\x01\x01\x01\x01"


def test_crypto_backend_on_cpython_is_pyca(monkeypatch):
    sentinel = object()
    fake = types.ModuleType("nxsecure.port.crypto_pyca")
    fake.pyca_backend = lambda: sentinel
    monkeypatch.setitem(sys.modules, "nxsecure.port.crypto_pyca", fake)
    assert port.crypto_backend() is sentinel


def _micropython_port():
    """nxsecure/port/micropython.py imported on CPython, with MicroPython's time.ticks_* faked."""
    import importlib
    fake_time = types.SimpleNamespace(ticks_ms=lambda: 0, ticks_diff=lambda a, b: a - b,
                                      ticks_add=lambda a, b: a + b, sleep_ms=lambda ms: None)
    saved = sys.modules.get("time")
    sys.modules["time"] = fake_time
    try:
        sys.modules.pop("nxsecure.port.micropython", None)
        return importlib.import_module("nxsecure.port.micropython")
    finally:
        sys.modules["time"] = saved
        sys.modules.pop("nxsecure.port.micropython", None)


def test_micropython_receive_with_no_heap_room_drops_the_datagram_and_never_raises():
    # A board's recvfrom(n) first takes an n-byte block: on a fragmented heap it raises
    # MemoryError. The datagram must be consumed (not polled again forever), counted,
    # and the stack must see "nothing queued", not an exception.
    mp = _micropython_port()

    class Sock:
        def __init__(self, queue):
            self.queue = queue
            self.fail = False

        def recvfrom(self, n):
            if not self.queue:
                raise OSError(11)                 # EAGAIN
            if self.fail:
                raise MemoryError("memory allocation failed, allocating %d bytes" % n)
            return self.queue.pop(0), ("10.0.0.2", 5684)

        def readinto(self, buf):                  # a UDP read consumes the datagram
            d = self.queue.pop(0)
            n = min(len(buf), len(d))
            buf[:n] = d[:n]
            return n

    sock = Sock([b"first", b"second", b"third"])
    h = mp.UdpHandle(sock, 4)
    mv = memoryview(bytearray(1568))
    assert h.recvfrom_into(mv) == (5, ("10.0.0.2", 5684)) and bytes(mv[:5]) == b"first"
    sock.fail = True
    assert h.recvfrom_into(mv) == (0, None)
    assert h.dropped == 1 and sock.queue == [b"third"]    # "second" was consumed
    sock.fail = False
    assert h.recvfrom_into(mv) == (5, ("10.0.0.2", 5684)) and bytes(mv[:5]) == b"third"
    assert h.recvfrom_into(mv) == (0, None) and h.dropped == 1


def test_micropython_poll_answers_one_ready_handle_without_a_new_list(monkeypatch):
    # nxsecure/port/micropython.py's poll over select.poll's ipoll (one reused event tuple): one
    # ready handle is answered with that handle's own 1-tuple, several with a list.
    mp = _micropython_port()

    class Poller:
        def __init__(self):
            self.registered = []
            self.events = []

        def register(self, sock, flags):
            self.registered.append(sock)

        def unregister(self, sock):
            self.registered.remove(sock)

        def ipoll(self, timeout_ms):
            if self.events is None:
                raise OSError(4)                   # EINTR
            ev = [None, 1]
            for sock in self.events:               # the same list object every time
                ev[0] = sock
                yield ev

    poller = Poller()
    monkeypatch.setattr(mp, "select", types.SimpleNamespace(poll=lambda: poller, POLLIN=1))
    a, b = mp.UdpHandle(object(), 4), mp.UdpHandle(object(), 4)
    poller.events = [a.sock]
    first = mp.poll([a, b], 10)
    assert first == (a,) and first is a._alone and mp.poll([a, b], 10) is first
    assert poller.registered == [a.sock, b.sock]
    poller.events = [b.sock, a.sock]
    assert mp.poll([a, b], 10) == [b, a]
    poller.events = []
    assert mp.poll([a, b], 0) == ()
    poller.events = None
    assert mp.poll([a, b], 0) == ()
    poller.events = [b.sock]
    assert mp.poll([b], 0) == (b,) and poller.registered == [b.sock]


def test_micropython_receive_converts_a_peer_address_once():
    # the unix port hands out a raw struct sockaddr: it becomes ('a.b.c.d', port) once
    # per peer, not once per datagram
    mp = _micropython_port()
    sa1 = bytes([2, 0, 0x16, 0x34, 127, 0, 0, 1]) + bytes(8)      # AF_INET, 5684
    sa2 = bytes([2, 0, 0x16, 0x35, 127, 0, 0, 1]) + bytes(8)      # another port

    class Sock:
        queue = [(b"a", sa1), (b"b", sa1), (b"c", sa2)]

        def recvfrom(self, n):
            return self.queue.pop(0)

    h = mp.UdpHandle(Sock(), 4)
    mv = memoryview(bytearray(64))
    n1, a1 = h.recvfrom_into(mv)
    n2, a2 = h.recvfrom_into(mv)
    n3, a3 = h.recvfrom_into(mv)
    assert a1 == ("127.0.0.1", 5684) and a2 is a1
    assert a3 == ("127.0.0.1", 5685) and bytes(mv[:1]) == b"c"
    # no heap room to convert a new peer's address: that datagram is dropped, and
    # only that one (it was already read; the next stays queued)
    Sock.queue = [(b"d", sa1), (b"e", sa1)]

    def no_room(a):
        raise MemoryError
    real, mp._addr_tuple = mp._addr_tuple, no_room
    assert h.recvfrom_into(mv) == (0, None) and h.dropped == 1
    mp._addr_tuple = real
    assert h.recvfrom_into(mv) == (1, ("127.0.0.1", 5684)) and bytes(mv[:1]) == b"e"


def test_micropython_port_picks_cryptolib_only_when_it_works():
    # nxsecure/port/micropython.py on CPython with a fake `cryptolib` module: a working
    # one is used (the modes run over it), a broken one (CBC that does not carry its IV
    # over between calls) is refused in favour of the pure-Python AES
    mp = _micropython_port()
    from nxsecure.crypto import aes
    made = []

    class Good:
        def __init__(self, key, mode, iv=None):
            made.append(mode)
            self._c = aes.new(key, mode, iv)
            self.encrypt = self._c.encrypt
            self.decrypt = self._c.decrypt

    class Restarting(Good):
        def __init__(self, key, mode, iv=None):
            Good.__init__(self, key, mode, iv)
            self.key, self.mode, self.iv = key, mode, iv
            self.encrypt = lambda src, dst: aes.new(self.key, self.mode, self.iv).encrypt(
                src, dst)

    saved = sys.modules.get("cryptolib")
    try:
        for fake, platform in ((Good, True), (Restarting, False)):
            sys.modules["cryptolib"] = types.SimpleNamespace(aes=fake)
            b = mp.crypto_backend()
            assert (b.name == "portable+platform-aes") == platform, b.name
            del made[:]
            ctx = b.aes_128_ccm_8.init(bytes(16))
            assert bool(made) == platform
            buf = bytearray(40)
            ctx.seal(bytes(12), bytes(13), buf, 0, 32)
            assert ctx.open(bytes(12), bytes(13), buf, 0, 40)
    finally:
        if saved is None:
            sys.modules.pop("cryptolib", None)
        else:
            sys.modules["cryptolib"] = saved


def test_background_ip_thread_delivers_without_a_waiter(stack):
    s = stack.socket(NX_ANY_PORT)
    _, p = nx_udp_socket_port_get(s)
    got = threading.Event()

    def hook(pkt, addr, now):
        nx_packet_release(pkt)
        got.set()

    s._dtls_receive = hook
    assert nxsecure_ip_thread_start() == NX_SUCCESS
    try:
        assert nxsecure_ip_thread_start() != NX_SUCCESS      # only one
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(b"bg", ("127.0.0.1", p))
        raw.close()
        assert got.wait(5)            # nobody in this thread called a waiting service
    finally:
        assert nxsecure_ip_thread_stop() == NX_SUCCESS
    assert not netx._ext()._ip_thread_run[1]
