"""Our DTLS client against our DTLS server over real UDP on loopback (CPython).

The client follows the guide's Figure 1.1 (session_create, psk_add, udp_socket_create,
client_session_start, packet_allocate, data_append, session_send, session_receive,
data_extract_offset, session_end, socket unbind/delete, session_delete); the server
follows Figure 1.2 (server_create with connect/receive notify setting flags, notify_set,
server_psk_add, server_start, a thread looping over server_session_start /
session_receive / server_session_send / tx_thread_sleep, then server_stop / _delete).
"""
import re
import socket
import threading
import time

import pytest

from dtls_helpers import (
    CCM8, IDENTITY, LOOPBACK4, PSK, SUITES, Net, ServerEvents, WireLog, free_udp_port,
    has_ipv6, make_client, make_server, packet_bytes, suite_of, suite_table, v4,
)
from nxsecure import *  # noqa: F401,F403
from nxsecure import config

SIZES = (1, 17, 100, 555, 1000)


def wait_until(cond, seconds=5.0):
    """Pump the stack until cond() holds (bounded so a failure cannot hang)."""
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        tx_thread_sleep(1)
    return True


class Figure12Server(threading.Thread):
    """The server thread of Figure 1.2: react to the notify flags, echo what arrives."""

    def __init__(self, server, events, pool):
        super().__init__(daemon=True)
        self.server, self.events, self.pool = server, events, pool
        self.running = True
        self.start_status = []
        self.received = []
        self.client_info = []
        self.send_status = []
        self.end_status = None
        self.exc = None

    def run(self):
        try:
            self._loop()
        except BaseException as e:          # surfaced by finish()
            self.exc = e
        self.end_status = (nx_secure_dtls_server_stop(self.server),
                           nx_secure_dtls_server_delete(self.server))

    def _loop(self):
        ev = self.events
        receive_buffer = bytearray(1500)
        while self.running:
            with ev.lock:
                connect, new_session = ev.connect_flag, ev.new_dtls_session
                ev.connect_flag = False
            if connect:
                self.start_status.append(
                    nx_secure_dtls_server_session_start(new_session, NX_IP_PERIODIC_RATE))
            with ev.lock:
                receive, session = ev.receive_flag, ev.receive_dtls_session
                ev.receive_flag = False
            if receive:
                wait = NX_IP_PERIODIC_RATE
                while True:
                    status, packet = nx_secure_dtls_session_receive(session, wait)
                    wait = NX_NO_WAIT
                    if status != NX_SUCCESS:
                        break
                    status, n = nx_packet_data_extract_offset(packet, 0, receive_buffer,
                                                              len(receive_buffer))
                    assert status == NX_SUCCESS
                    nx_packet_release(packet)
                    data = bytes(receive_buffer[:n])
                    self.received.append(data)
                    self.client_info.append(nx_secure_dtls_session_client_info_get(session))
                    status, send_packet = nx_secure_dtls_packet_allocate(session, self.pool,
                                                                         NX_IP_PERIODIC_RATE)
                    assert status == NX_SUCCESS
                    assert nx_packet_data_append(send_packet, data, n, self.pool,
                                                 NX_WAIT_FOREVER) == NX_SUCCESS
                    status = nx_secure_dtls_server_session_send(session, send_packet)
                    if status:
                        nx_packet_release(send_packet)
                    self.send_status.append(status)
            if not connect and not receive:
                tx_thread_sleep(1)

    def finish(self):
        self.running = False
        self.join(10)
        assert not self.is_alive(), "server thread did not stop"
        if self.exc is not None:
            raise self.exc


@pytest.fixture
def net6():
    if not has_ipv6():
        pytest.skip("no IPv6 loopback on this host")   # the host, not the stack
    n = Net(address=LOOPBACK4, ipv6="::1")
    yield n
    n.close()


@pytest.fixture
def fast_timers(monkeypatch):
    """Short retransmission timers so failing handshakes give up within a second or two."""
    monkeypatch.setattr(config, "NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS", 100)
    monkeypatch.setattr(config, "NX_SECURE_DTLS_MAX_TRANSMISSIONS", 4)


def run_figure_flow(net, suite, address, client_host_words=None, sizes=SIZES):
    """Figure 1.2 server thread + Figure 1.1 client in this thread; returns details."""
    table = suite_table(suite)
    udp_port = free_udp_port(socket.AF_INET6 if address.nxd_ip_version == NX_IP_VERSION_V6
                             else socket.AF_INET)
    server, events = make_server(net, udp_port, table=table)
    server_thread = Figure12Server(server, events, net.pool)
    server_thread.start()
    try:
        # --- Figure 1.1 --------------------------------------------------------------
        dtls_session = NX_SECURE_DTLS_SESSION()
        st, md_size = nx_secure_tls_metadata_size_calculate(table)
        assert st == NX_SUCCESS
        crypto_metadata, packet_buffer = bytearray(md_size), bytearray(4000)
        udp_socket = NX_UDP_SOCKET()
        assert nx_udp_socket_create(net.ip, udp_socket, "DTLS Client Socket", NX_IP_NORMAL,
                                    NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8192) == NX_SUCCESS
        assert nx_secure_dtls_session_create(dtls_session, table, crypto_metadata,
                                             len(crypto_metadata), packet_buffer,
                                             len(packet_buffer), 0, None, 0) == NX_SUCCESS
        assert nx_secure_dtls_psk_add(dtls_session, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                      None, 0) == NX_SUCCESS
        status = nx_secure_dtls_client_session_start(dtls_session, udp_socket, address,
                                                     udp_port, 5 * NX_IP_PERIODIC_RATE)
        assert status == NX_SUCCESS, hex(status)
        assert suite_of(dtls_session) == suite
        echoes = []
        for i, size in enumerate(sizes):
            request = bytes((i * 31 + k) & 0xFF for k in range(size))
            status, send_packet = nx_secure_dtls_packet_allocate(dtls_session, net.pool,
                                                                 NX_WAIT_FOREVER)
            assert status == NX_SUCCESS
            assert nx_packet_data_append(send_packet, request, len(request), net.pool,
                                         NX_WAIT_FOREVER) == NX_SUCCESS
            status = nx_secure_dtls_session_send(dtls_session, send_packet, address, udp_port)
            if status:
                nx_packet_release(send_packet)
            assert status == NX_SUCCESS, hex(status)
            status, receive_packet = nx_secure_dtls_session_receive(dtls_session,
                                                                    5 * NX_IP_PERIODIC_RATE)
            assert status == NX_SUCCESS, hex(status)
            receive_buffer = bytearray(1500)
            status, n = nx_packet_data_extract_offset(receive_packet, 0, receive_buffer,
                                                      len(receive_buffer))
            assert status == NX_SUCCESS
            nx_packet_release(receive_packet)
            echoes.append((request, bytes(receive_buffer[:n])))
        st, local_port = nx_udp_socket_port_get(udp_socket)
        assert st == NX_SUCCESS
        server_session = events.connects[0][0]
        assert suite_of(server_session) == suite
        assert events.disconnects == []
        assert nx_secure_dtls_session_end(dtls_session, NX_WAIT_FOREVER) == NX_SUCCESS
        # Figure 1.1 deletes the socket right after ending the session: the port the
        # session bound for itself went with it.
        assert nx_udp_socket_delete(udp_socket) == NX_SUCCESS
        assert nx_secure_dtls_session_delete(dtls_session) == NX_SUCCESS
        # --- the server saw the close --------------------------------------------------
        assert wait_until(lambda: events.disconnects, 5), "no disconnect_notify"
        assert events.disconnects == [server_session]
        after_close = nx_secure_dtls_session_receive(server_session, NX_NO_WAIT)
    finally:
        server_thread.finish()
    return dict(events=events, server=server_thread, echoes=echoes, local_port=local_port,
                udp_port=udp_port, after_close=after_close)


@pytest.mark.parametrize("suite", SUITES, ids=["CCM8", "CCM", "GCM", "CBC-SHA256"])
def test_figure_client_and_server_echo_every_suite(net, suite):
    r = run_figure_flow(net, suite, v4())
    for request, echo in r["echoes"]:
        assert echo == request
    assert [len(q) for q, _ in r["echoes"]] == list(SIZES)
    srv = r["server"]
    assert srv.start_status == [NX_SUCCESS]
    assert srv.received == [q for q, _ in r["echoes"]]
    assert srv.send_status == [NX_SUCCESS] * len(SIZES)
    assert r["events"].errors == []
    assert len(r["events"].connects) == 1
    for status, nxd, client_port, local_port in srv.client_info:
        assert status == NX_SUCCESS
        assert nxd.nxd_ip_version == NX_IP_VERSION_V4
        assert nxd.nxd_ip_address.v4 == LOOPBACK4
        assert client_port == r["local_port"]
        assert local_port == r["udp_port"]
    _, addr, cport = r["events"].connects[0]
    assert addr.nxd_ip_address.v4 == LOOPBACK4 and cport == r["local_port"]
    # After the client's close_notify the server session reports it on receive.
    assert r["after_close"] == (NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, None)
    assert srv.end_status == (NX_SUCCESS, NX_SUCCESS)


def test_figure_flow_over_ipv6(net6):
    r = run_figure_flow(net6, CCM8, NXD_ADDRESS("::1"), sizes=(5, 700))
    assert all(q == e for q, e in r["echoes"])
    for status, nxd, client_port, local_port in r["server"].client_info:
        assert status == NX_SUCCESS
        assert nxd.nxd_ip_version == NX_IP_VERSION_V6
        assert list(nxd.nxd_ip_address.v6) == [0, 0, 0, 1]
        assert client_port == r["local_port"]
        assert local_port == r["udp_port"]
    assert r["after_close"] == (NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, None)


def single_threaded_server(net, table=None, **kw):
    """Server that starts sessions from connect_notify (NX_NO_WAIT) and echoes from
    receive_notify: everything runs inside the client's waits."""
    events = ServerEvents()
    log = {"start": [], "echo": []}

    def on_connect(session, address, udp_port):
        log["start"].append(nx_secure_dtls_server_session_start(session, NX_NO_WAIT))

    def on_receive(session):
        st, pkt = nx_secure_dtls_session_receive(session, NX_NO_WAIT)
        if st != NX_SUCCESS:
            return
        data = packet_bytes(pkt)
        nx_packet_release(pkt)
        st, out = nx_secure_dtls_packet_allocate(session, net.pool, NX_NO_WAIT)
        nx_packet_data_append(out, b"echo:" + data, len(data) + 5, net.pool, NX_NO_WAIT)
        log["echo"].append(nx_secure_dtls_server_session_send(session, out))

    events.on_connect = on_connect
    events.on_receive = on_receive
    udp_port = free_udp_port()
    server, events = make_server(net, udp_port, table=table, events=events, **kw)
    return server, events, log, udp_port


def test_single_threaded_server_started_from_connect_notify(net):
    server, events, log, udp_port = single_threaded_server(net)
    session, sock = make_client(net)
    assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                               5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    # Server start with NX_NO_WAIT cannot finish the handshake inside the callback.
    assert log["start"] == [NX_CONTINUE]
    assert server.nxsecure_hello_verify_sent >= 1
    for msg in (b"a", b"hello" * 100):
        st, pkt = nx_secure_dtls_packet_allocate(session, net.pool, NX_NO_WAIT)
        nx_packet_data_append(pkt, msg, len(msg), net.pool, NX_NO_WAIT)
        assert nx_secure_dtls_session_send(session, pkt, v4(), udp_port) == NX_SUCCESS
        st, pkt = nx_secure_dtls_session_receive(session, 3 * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS
        assert packet_bytes(pkt) == b"echo:" + msg
        nx_packet_release(pkt)
    assert log["echo"] == [NX_SUCCESS, NX_SUCCESS]
    assert nx_secure_dtls_session_end(session, NX_NO_WAIT) == NX_SUCCESS
    assert wait_until(lambda: events.disconnects, 3)
    assert events.errors == []


def test_wrong_psk_key_fails_both_sides(net):
    server, events, log, udp_port = single_threaded_server(net)
    session, sock = make_client(net, psk=bytes(16))
    status = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                 10 * NX_IP_PERIODIC_RATE)
    # The client's Finished does not authenticate under the server's keys (issue #11,
    # defect 7): the server ends the handshake at once with a fatal bad_record_mac
    # and reports why; the client gets the alert instead of retransmitting until it
    # gives up, minutes later on real timers.
    assert status == NX_SECURE_TLS_ALERT_RECEIVED
    assert wait_until(lambda: events.errors, 3), "server error_notify never fired"
    assert [code for _, code in events.errors] == [NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE]
    assert events.disconnects == []
    assert session._engine.retransmits == 0      # no flight was repeated to find out


def test_wrong_psk_key_does_not_start_a_retransmission_storm(net, fast_timers):
    """Each side must not answer the other's repeats of the flight in progress with
    its own repeats: a bad Finished once made the two peers ping-pong flights 4 and 5
    at wire speed (tens of thousands of datagrams a second)."""
    server, events, log, udp_port = single_threaded_server(net)
    session, sock = make_client(net, psk=bytes(16))
    with WireLog() as wire:
        nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                            10 * NX_IP_PERIODIC_RATE)
        wait_until(lambda: events.errors, 10)
    # A few flights times NX_SECURE_DTLS_MAX_TRANSMISSIONS (4) on each side.
    assert len(wire.outgoing) < 60, len(wire.outgoing)


def test_unknown_identity_no_matching_psk(net):
    server, events, log, udp_port = single_threaded_server(net)
    session, sock = make_client(net, identity=b"nobody")
    status = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                 5 * NX_IP_PERIODIC_RATE)
    # The server answers with a fatal unknown_psk_identity alert.
    assert status == NX_SECURE_TLS_ALERT_RECEIVED
    assert wait_until(lambda: events.errors, 3)
    assert [code for _, code in events.errors] == [NX_SECURE_TLS_NO_MATCHING_PSK]


KEYLOG_LINE = re.compile(r"\ACLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n\Z")


def test_keylog_one_line_per_handshake_and_none_when_off(net):
    server, events, log, udp_port = single_threaded_server(net)
    client_lines, server_lines, off_lines = [], [], []
    for round_ in range(2):
        session, sock = make_client(net)
        if round_ == 0:
            assert nxsecure_dtls_session_keylog_set(session, client_lines.append) == NX_SUCCESS
            assert nxsecure_dtls_server_keylog_set(server, server_lines.append) == NX_SUCCESS
        else:
            # set, then turned off again: nothing may reach the old writer
            assert nxsecure_dtls_session_keylog_set(session, off_lines.append) == NX_SUCCESS
            assert nxsecure_dtls_session_keylog_set(session, None) == NX_SUCCESS
            assert nxsecure_dtls_server_keylog_set(server, off_lines.append) == NX_SUCCESS
            assert nxsecure_dtls_server_keylog_set(server, None) == NX_SUCCESS
        assert nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                   5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
        if round_ == 0:
            master = bytes(session._engine.master).hex()
            crandom = bytes(session._engine.client_random).hex()
        assert nx_secure_dtls_session_end(session, NX_NO_WAIT) == NX_SUCCESS
        assert wait_until(lambda: len(events.disconnects) == round_ + 1, 3)
        if sock.nx_udp_socket_port:
            nx_udp_socket_unbind(sock)
        assert nx_udp_socket_delete(sock) == NX_SUCCESS
    assert len(client_lines) == 1 and len(server_lines) == 1
    assert KEYLOG_LINE.match(client_lines[0]), client_lines
    assert client_lines == server_lines
    assert client_lines[0] == "CLIENT_RANDOM %s %s\n" % (crandom, master)
    assert off_lines == []


def test_metadata_and_session_sizes_are_exact_for_server_create(net):
    table = suite_table(*SUITES)
    st, md = nx_secure_tls_metadata_size_calculate(table)
    assert st == NX_SUCCESS and md > 0
    size = sizeof(NX_SECURE_DTLS_SESSION)
    assert size > 0
    noop = lambda *a: NX_SUCCESS  # noqa: E731

    def create(sessions_bytes, md_bytes, rs_bytes=4000):
        server = NX_SECURE_DTLS_SERVER()
        sb, mb, rb = bytearray(sessions_bytes), bytearray(md_bytes), bytearray(rs_bytes)
        st = nx_secure_dtls_server_create(server, net.ip, free_udp_port(), NX_IP_PERIODIC_RATE,
                                          sb, len(sb), table, mb, len(mb), rb, len(rb),
                                          noop, noop)
        if st == NX_SUCCESS:
            count = len(server._sessions)
            assert nx_secure_dtls_server_delete(server) == NX_SUCCESS
            return st, count
        return st, 0

    assert create(size, md) == (NX_SUCCESS, 1)
    assert create(size - 1, md)[0] == NX_INVALID_PARAMETERS
    assert create(size, md - 1)[0] == NX_INVALID_PARAMETERS
    assert create(2 * size, 2 * md, 8000) == (NX_SUCCESS, 2)
    assert create(2 * size, 2 * md - 1, 8000)[0] == NX_INVALID_PARAMETERS
    # one byte short of two sessions is one session
    assert create(2 * size - 1, 2 * md, 8000) == (NX_SUCCESS, 1)
    # the stand-alone session: the same metadata size
    s = NX_SECURE_DTLS_SESSION()
    assert nx_secure_dtls_session_create(s, table, bytearray(md - 1), md - 1, bytearray(4000),
                                         4000, 0, None, 0) == NX_INVALID_PARAMETERS
    assert nx_secure_dtls_session_create(s, table, bytearray(md), md, bytearray(4000),
                                         4000, 0, None, 0) == NX_SUCCESS
    assert nx_secure_dtls_session_delete(s) == NX_SUCCESS
    # a larger table never needs less metadata than one of its suites alone
    for suite in SUITES:
        st, one = nx_secure_tls_metadata_size_calculate(suite_table(suite))
        assert st == NX_SUCCESS and 0 < one <= md
