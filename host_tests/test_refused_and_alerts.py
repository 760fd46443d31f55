"""Readable failures on the NetX API: a server that is not there is reported at once
(ICMP port unreachable -> NX_NOT_CONNECTED, the guide's code for a server that cannot be
reached), and the last alert a session received is available."""
import errno
import socket

from dtls_helpers import (CCM8, OpenSSL, free_udp_port, make_client, make_server, v4,
                          send_data)
from nxsecure import *  # noqa: F401,F403
from nxsecure import port, status


def _silent_port():
    """A bound UDP socket that never answers (a server that ignores us)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def test_closed_port_ends_the_handshake_at_once_with_not_connected(net):
    session, sock = make_client(net)
    udp_port = free_udp_port()
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             10 * NX_IP_PERIODIC_RATE)
    assert st == NX_NOT_CONNECTED
    assert session._engine.retransmits == 0           # not one retransmission waited for
    assert sock._h4.refused == 1
    # the result stays until the session is ended or reset
    assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                               NX_NO_WAIT) == NX_NOT_CONNECTED
    assert nx_secure_dtls_session_delete(session) == NX_SUCCESS
    assert sock.nx_udp_socket_port == 0               # the socket it bound is given back


def test_a_socket_the_application_bound_is_not_connected_and_keeps_trying(net):
    """Prompt refusal needs a socket of the session's own (the guide's order: create
    the socket, let the session bind it); one the application bound may be shared, so it
    stays unconnected and the handshake retransmits as before."""
    session, sock = make_client(net)
    assert nx_udp_socket_bind(sock, NX_ANY_PORT, NX_NO_WAIT) == NX_SUCCESS
    st = nx_secure_dtls_client_session_start(session, sock, v4(), free_udp_port(), 30)
    assert st == NX_CONTINUE
    assert sock._h4.refused == 0
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


def test_a_refusal_seen_when_retransmitting_ends_it_with_not_connected(net):
    silent, udp_port = _silent_port()
    session, sock = make_client(net)
    assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                               NX_NO_WAIT) == NX_CONTINUE

    class Refusing:
        """The OS socket, as it behaves once an ICMP port unreachable came back."""

        def __init__(self, real):
            self.real = real

        def send(self, mv):
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")

        def __getattr__(self, name):
            return getattr(self.real, name)
    sock._h4.sock = Refusing(sock._h4.sock)            # the next send sees the refusal
    e = session._engine
    e.timer_fire(port.ticks_add(e.deadline, 1))        # the retransmission is due
    assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                               NX_NO_WAIT) == NX_NOT_CONNECTED
    nx_secure_dtls_session_delete(session)
    silent.close()


def test_an_established_session_outlives_a_refusal(net):
    """RFC 1122 4.2.3.9 / RFC 5461: a hard ICMP error aborts connection establishment
    only; a connected session whose server went away (killed: no close_notify) is not
    ended by it, and neither would a forged ICMP message end it."""
    udp_port = free_udp_port()
    peer = OpenSSL.s_server(udp_port, CCM8)
    try:
        assert peer.wait_output(b"ACCEPT", 10, "any"), peer.transcript()
        session, sock = make_client(net)
        assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                   5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    finally:
        peer.close()                                   # SIGKILL: the port closes silently
    assert send_data(session, net.pool, b"anyone?", v4(), udp_port) == NX_SUCCESS
    st, pkt = nx_secure_dtls_session_receive(session, 30)
    assert st == NX_NO_PACKET
    assert sock._h4.refused == 1            # the refusal was seen...
    assert session._engine.state == 20                 # ...and the session is still up
    assert send_data(session, net.pool, b"again", v4(), udp_port) == NX_SUCCESS


def test_the_last_alert_received_is_kept(net):
    udp_port = free_udp_port()
    server, events = make_server(net, udp_port)
    events.on_connect = lambda s, a, p: nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
    session, sock = make_client(net, psk=b"not the right key")
    assert status.nxsecure_dtls_session_alert_value_get(session) == (NX_NOT_FOUND, 0, 0)
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             5 * NX_IP_PERIODIC_RATE)
    assert st == NX_SECURE_TLS_ALERT_RECEIVED
    assert status.last_alert(session) == (2, 20)       # fatal bad_record_mac
    assert status.nxsecure_dtls_session_alert_value_get(session) == (NX_SUCCESS, 2, 20)
    assert status.nxsecure_dtls_session_alert_value_get(None)[0] == NX_PTR_ERROR
    # a new handshake forgets it
    nx_secure_dtls_session_reset(session)
    assert status.last_alert(session) is None

    good, sock2 = make_client(net)
    assert nx_secure_dtls_client_session_start(good, sock2, v4(), udp_port,
                                               5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    srv_session = events.connects[-1][0]
    nx_secure_dtls_session_end(good, NX_NO_WAIT)
    tx_thread_sleep(5)
    assert status.last_alert(srv_session) == (1, 0)    # warning close_notify


def test_status_names_cover_every_code_of_const():
    import nxsecure.const as c0
    import nxsecure.const_ext as c1
    from nxsecure.x509 import verify as c2
    skip = ("NX_IP_", "NX_NO_WAIT", "NX_WAIT_FOREVER", "NX_FRAGMENT_OKAY", "NX_DONT_FRAGMENT",
            "NX_ANY_PORT", "NX_PHYSICAL_HEADER", "NX_IPv4_", "NX_IPv6_", "NX_UDP_PACKET",
            "NX_RECEIVE_PACKET", "NX_PACKET_ALIGNMENT", "NX_MAX_PORT", "NX_SEARCH_PORT_START",
            "NX_NULL", "NX_SECURE_X509_MAX_CHAIN_DEPTH", "NX_SECURE_X509_DNS_NAME_MAX")
    names = [(c, n) for c in (c0, c1, c2) for n in dir(c)]
    for c, name in names:
        v = getattr(c, name)
        if not name.startswith("NX_") or name.startswith(skip) or not isinstance(v, int) \
                or v < 0:
            continue
        assert status.known(v), name
        assert status.name(v) == name or name in status.ALIASES.get(v, ()) or \
            name.endswith("_SUCCESS"), (name, status.name(v))
    from nxsecure.x509.cert import NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    assert status.name(NX_SECURE_X509_PRIVATE_KEY_MISMATCH) == "NX_SECURE_X509_PRIVATE_KEY_MISMATCH"
    assert status.describe(0x114).startswith("NX_SECURE_TLS_ALERT_RECEIVED (0x114): ")
    assert "NX_SECURE_TLS_HANDSHAKE_TIMEOUT" in status.describe(NX_SECURE_TLS_HANDSHAKE_TIMEOUT)
    assert status.name(0x7777) == "unknown status 0x7777"
    assert status.name(None) == "unknown status None"
    assert status.describe_alert(2, 115) == "fatal unknown_psk_identity (2, 115)"
    assert status.alert_name(255) == "alert 255"
