"""The internal API an event loop drives the stack with (nxsecure/evloop.py: pump,
next_deadline_ms; nxsecure/netx.py: _on_handle; used by nxsecure/aio.py): its
contract, tested on the NetX objects themselves so that the protocol core's redesign
keeps it."""
import socket

import pytest

from nxsecure import *  # noqa: F401,F403
from nxsecure import evloop, netx, port


def _socket(net, udp_port=NX_ANY_PORT):
    sock = NX_UDP_SOCKET()
    assert nx_udp_socket_create(net.ip, sock, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                NX_IP_TIME_TO_LIVE, 16) == NX_SUCCESS
    assert nx_udp_socket_bind(sock, udp_port, NX_NO_WAIT) == NX_SUCCESS
    return sock


def _raw_sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def _queued(sock):
    return sock.nx_udp_socket_receive_count


class _Timer:
    def __init__(self):
        self.fired = []

    def _timer_fire(self, now):
        self.fired.append(now)


@pytest.fixture
def watcher():
    seen = []
    netx._on_handle[0] = lambda h, added: seen.append((h, added, h.fileno()))
    yield seen
    netx._on_handle[0] = None


def test_bind_and_unbind_are_announced_with_the_open_handle(net, watcher):
    sock = _socket(net)
    h = sock._h4
    assert watcher == [(h, True, h.fileno())]
    assert nx_udp_socket_unbind(sock) == NX_SUCCESS
    # announced before the close: the handle's descriptor was still open then
    assert watcher[1][0] is h and watcher[1][1] is False and watcher[1][2] >= 0
    assert h.fileno() == -1
    nx_udp_socket_delete(sock)


def test_pump_reads_at_most_limit_datagrams_of_that_handle(net):
    sock = _socket(net)
    other = _socket(net)
    tx = _raw_sender()
    for i in range(3):
        tx.sendto(b"d%d" % i, ("127.0.0.1", sock.nx_udp_socket_port))
    tx.sendto(b"x", ("127.0.0.1", other.nx_udp_socket_port))
    assert port.poll([sock._h4], 1000)
    evloop.pump(sock._h4, 2)
    assert _queued(sock) == 2
    evloop.pump(sock._h4, 5)
    assert _queued(sock) == 3                 # the third; then an empty read ends it
    assert _queued(other) == 0                # another handle is not read
    evloop.pump(sock._h4, 5)                   # nothing queued: returns, reads nothing
    assert _queued(sock) == 3
    tx.close()


def test_pump_fires_due_timers_and_reports_the_next_deadline(net):
    assert netx._timer_count() == 0
    assert evloop.pump(None, 0) == -1
    due, later = _Timer(), _Timer()
    now = port.ticks_ms()
    netx._timer_set(due, port.ticks_add(now, -1))
    netx._timer_set(later, port.ticks_add(now, 400))
    try:
        left = evloop.pump(None, 0)
        assert len(due.fired) == 1 and later.fired == []
        assert 0 < left <= 400
        assert 0 < evloop.next_deadline_ms() <= 400
    finally:
        netx._timer_set(later, None)
    assert netx._timer_count() == 0
    assert evloop.next_deadline_ms() == -1
    assert evloop.pump(None, 0) == -1


def test_after_runs_inside_the_pump_so_services_do_not_pump_again(net):
    sock = _socket(net)
    tx = _raw_sender()
    tx.sendto(b"queued in the OS", ("127.0.0.1", sock.nx_udp_socket_port))
    port.poll([sock._h4], 1000)
    got = []

    def after():
        # a waiting service called from inside the pump reports what holds now: it
        # must not read the socket itself (that is the loop's job)
        got.append(nx_udp_socket_receive(sock, 100))

    evloop.pump(None, 0, after)
    assert got[0][0] == NX_NO_PACKET
    evloop.pump(sock._h4, 1)
    st, pkt = nx_udp_socket_receive(sock, NX_NO_WAIT)
    assert st == NX_SUCCESS and bytes(pkt._data()) == b"queued in the OS"
    nx_packet_release(pkt)
    tx.close()


def test_after_may_arm_a_timer_and_the_deadline_says_so(net):
    t = _Timer()

    def after():
        netx._timer_set(t, port.ticks_add(port.ticks_ms(), 250))
    try:
        left = evloop.pump(None, 0, after)
        assert 0 < left <= 250
    finally:
        netx._timer_set(t, None)
