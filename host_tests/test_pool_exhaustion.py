"""Exhaustion: server session slots and packet pools.

A server with two sessions refuses a third client through error_notify
(NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS, session argument None) without disturbing the
two live sessions, and reuses a slot once a client ends (close_notify ->
disconnect_notify). An empty packet pool makes nx_secure_dtls_packet_allocate fail
with NX_SECURE_TLS_ALLOCATE_PACKET_FAILED, and makes the receive path drop (and
count) datagrams without raising; everything recovers once packets come back."""
import pytest
from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure import netx

from memworld import SERVER_PORT, PSK, IDENTITY, _nxd, World, Client, _no_errors_raised


@pytest.fixture
def world():
    w = World(sessions=2)
    try:
        yield w
        _no_errors_raised(w)
    finally:
        w.close()


def test_third_client_gets_no_free_sessions_and_a_freed_slot_is_reused(world):
    w = world
    a = w.client()
    b = w.client()
    assert a.status == NX_SUCCESS and b.status == NX_SUCCESS
    sa, sb = w.server_session(a), w.server_session(b)
    assert sa is not sb
    c = w.client(wait=NX_IP_PERIODIC_RATE)
    assert c.status == NX_CONTINUE                       # no ServerHello ever comes
    assert (None, NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS) in w.errors()
    assert w.server.nxsecure_no_free_sessions >= 1
    # the live sessions are undisturbed
    assert a.round_trip(b"a while full") and b.round_trip(b"b while full")
    assert w.server_session(a) is sa and w.server_session(b) is sb
    # a ends: close_notify -> disconnect_notify on the server, the slot frees
    assert nx_secure_dtls_session_end(a.sess, NX_NO_WAIT) == NX_SUCCESS
    w.pump(10)
    assert ("disconnect", sa, 0) in w.events
    assert nx_secure_dtls_session_reset(c.sess) == NX_SUCCESS
    c.status = c.start(3 * NX_IP_PERIODIC_RATE)
    assert c.status == NX_SUCCESS, hex(c.status)
    assert w.server_session(c) is sa                     # the freed slot
    assert c.round_trip(b"c in a's slot") and b.round_trip(b"b still")


def test_packet_allocate_on_an_empty_pool_fails_with_no_wait(world):
    w = world
    a = w.client()
    taken = []
    while True:
        st, p = nx_packet_allocate(w.pool, 0, NX_NO_WAIT)
        if st != NX_SUCCESS:
            break
        taken.append(p)
    st, p = nx_secure_dtls_packet_allocate(a.sess, w.pool, NX_NO_WAIT)
    assert st == NX_SECURE_TLS_ALLOCATE_PACKET_FAILED and p is None
    st, p = nx_secure_dtls_packet_allocate(a.sess, w.pool, 5)    # a short wait too
    assert st == NX_SECURE_TLS_ALLOCATE_PACKET_FAILED and p is None
    for p in taken:
        assert nx_packet_release(p) == NX_SUCCESS
    st, p = nx_secure_dtls_packet_allocate(a.sess, w.pool, NX_NO_WAIT)
    assert st == NX_SUCCESS
    nx_packet_release(p)


def test_receive_with_an_empty_default_pool_drops_counts_and_recovers(world):
    w = world
    a = w.client()
    assert a.round_trip(b"before")
    sa = w.server_session(a)
    taken = []
    while True:
        st, p = nx_packet_allocate(w.pool, 0, NX_NO_WAIT)
        if st != NX_SUCCESS:
            break
        taken.append(p)
    dropped = w.ip.nx_ip_receive_packets_dropped
    n_rx = len(w.received[sa])
    # the client's send path needs a packet: give one back for each message
    for i in range(3):
        nx_packet_release(taken.pop())
        assert a.send(b"lost-%d" % i) == NX_SUCCESS     # sent, and its packet released
        st, p = nx_packet_allocate(w.pool, 0, NX_NO_WAIT)
        assert st == NX_SUCCESS
        taken.append(p)                                 # empty again before it arrives
        w.pump()
    assert w.ip.nx_ip_receive_packets_dropped - dropped >= 3
    assert len(w.received[sa]) == n_rx                   # nothing arrived
    for p in taken:
        assert nx_packet_release(p) == NX_SUCCESS
    st, total, free, *_ = nx_packet_pool_info_get(w.pool)
    assert st == NX_SUCCESS and free == total            # nothing leaked
    assert a.round_trip(b"after")
    assert sa._engine.state == 20
