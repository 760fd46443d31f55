"""Interop with the OpenSSL 3 command line tools over real UDP on 127.0.0.1.

Roles: our client against `openssl s_server`, `openssl s_client` against our server,
for the four PSK suites both sides support; data both ways byte-exact, the negotiated
suite, cookies (s_server always sends HelloVerifyRequest; our server always does),
close_notify both ways, and handshake fragmentation in each direction.

What OpenSSL shows (checked with OpenSSL 3.0):
- s_server prints ACCEPT when bound, the peer's data on stdout, and on the client's
  close_notify "DONE" followed by "shutting down SSL" / "CONNECTION CLOSED"; with
  -naccept 1 it then exits with status 0.
- s_client -quiet implies -ign_eof: 'Q' on stdin is then just data. Without -quiet,
  "Q\\n" on stdin makes it print DONE (stderr), send close_notify and exit 0; it also
  prints "Cipher is <name>" and the session's Master-Key, which we compare with our key
  log. When our server ends the session, s_client sees the close_notify and exits.
"""
import time

import pytest

from dtls_helpers import (
    HINT, SUITE_NAMES, SUITES, OpenSSL, ServerEvents, WireLog, free_udp_port, make_client,
    make_server, packet_bytes, receive_all, send_data, suite_of, suite_table, v4,
)
from nxsecure import *  # noqa: F401,F403

IDS = ["CCM8", "CCM", "GCM", "CBC-SHA256"]
RESULTS = {}            # (suite name, role) -> "pass" / "FAIL"
TIMEOUT = 8             # seconds for any single step against the external process


def record(suite, role):
    """Decorator-less bookkeeping: mark FAIL first, pass at the end of the test."""
    key = (SUITE_NAMES[suite] if isinstance(suite, int) else suite, role)
    RESULTS[key] = "FAIL"
    return lambda: RESULTS.__setitem__(key, "pass")


def pump_until(cond, seconds=TIMEOUT):
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        tx_thread_sleep(1)
    return True


# ======================================================== our client, openssl s_server
def client_vs_s_server(net, procs, suite, s_server_extra=(), our_mtu=None, hint=HINT):
    udp_port = free_udp_port()
    srv = OpenSSL.s_server(udp_port, suite, hint=hint, extra=s_server_extra)
    procs.append(srv)
    assert srv.wait_output(b"ACCEPT", TIMEOUT), srv.transcript()
    # At a small MTU offer only the suite under test: a CBC Finished needs about 90
    # bytes, so nxsecure_dtls_session_mtu_set refuses 80 for a table that has CBC.
    session, sock = make_client(net, table=suite_table(suite) if our_mtu else None)
    if our_mtu is not None:
        assert nxsecure_dtls_session_mtu_set(session, our_mtu) == NX_SUCCESS
    keylog = []
    nxsecure_dtls_session_keylog_set(session, keylog.append)
    status = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                 TIMEOUT * NX_IP_PERIODIC_RATE)
    assert status == NX_SUCCESS, "%s %s" % (hex(status), srv.transcript())
    assert suite_of(session) == suite
    # s_server always asks for a cookie: our second ClientHello carried it.
    assert session._engine.cookie_len > 0
    assert len(keylog) == 1
    # ours -> openssl (printed on s_server's stdout)
    msg = ("nxsecure says hello over %s\n" % SUITE_NAMES[suite]).encode()
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    assert srv.wait_output(msg, TIMEOUT), srv.transcript()
    # openssl -> ours (a line typed on s_server's stdin)
    line = ("s_server line %s 0123456789\n" % SUITE_NAMES[suite]).encode()
    srv.write(line)
    got = receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(line))
    assert got == line
    # close_notify from us: s_server reports it and (-naccept 1) exits cleanly
    assert nx_secure_dtls_session_end(session, NX_WAIT_FOREVER) == NX_SUCCESS
    assert srv.wait_output(b"DONE", TIMEOUT, stream="any"), srv.transcript()
    assert srv.wait_exit(TIMEOUT) == 0, srv.transcript()
    return session, srv


@pytest.mark.parametrize("suite", SUITES, ids=IDS)
def test_our_client_with_openssl_s_server(net, procs, suite):
    done = record(suite, "our client / s_server")
    client_vs_s_server(net, procs, suite)
    done()


# ======================================================== openssl s_client, our server
class OurServer:
    """Single-threaded server: sessions start in connect_notify, data is collected in
    receive_notify."""

    def __init__(self, net, mtu=None, hint=HINT):
        self.net = net
        self.got = []
        self.keylog = []
        self.start_status = []
        events = ServerEvents()
        events.on_connect = self._connect
        events.on_receive = self._receive
        self.port = free_udp_port()
        # a small MTU needs a table without CBC (see client_vs_s_server)
        table = suite_table(0x00A8, 0xC0A8) if mtu is not None else None
        self.server, self.events = make_server(net, self.port, table=table, events=events,
                                               hint=hint)
        nxsecure_dtls_server_keylog_set(self.server, self.keylog.append)
        if mtu is not None:
            assert nxsecure_dtls_server_mtu_set(self.server, mtu) == NX_SUCCESS

    def _connect(self, session, address, udp_port):
        self.start_status.append(nx_secure_dtls_server_session_start(session, NX_NO_WAIT))

    def _receive(self, session):
        while True:
            st, pkt = nx_secure_dtls_session_receive(session, NX_NO_WAIT)
            if st != NX_SUCCESS:
                return
            self.got.append(packet_bytes(pkt))
            nx_packet_release(pkt)

    def session(self):
        return self.events.connects[0][0] if self.events.connects else None

    def connected(self):
        s = self.session()
        return s is not None and s._engine.state == 20 and suite_of(s) is not None

    def send(self, data):
        s = self.session()
        st, pkt = nx_secure_dtls_packet_allocate(s, self.net.pool, NX_NO_WAIT)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(pkt, data, len(data), self.net.pool, NX_NO_WAIT) == 0
        st = nx_secure_dtls_server_session_send(s, pkt)
        if st:
            nx_packet_release(pkt)
        return st


def s_client_vs_our_server(net, procs, suite, s_client_extra=(), our_mtu=None,
                           close_by="Q", hint=HINT, connect_timeout=TIMEOUT):
    ours = OurServer(net, mtu=our_mtu, hint=hint)
    cli = OpenSSL.s_client("127.0.0.1", ours.port, suite, quiet=False, extra=s_client_extra)
    procs.append(cli)
    assert pump_until(ours.connected, connect_timeout), "%r %s" % (ours.start_status, cli.transcript())
    session = ours.session()
    assert suite_of(session) == suite
    assert ours.server.nxsecure_hello_verify_sent >= 1
    assert ours.events.errors == []
    name = SUITE_NAMES[suite].encode()
    assert cli.wait_output(b"Cipher is " + name, TIMEOUT), cli.transcript()
    # openssl's view of the master secret equals ours (one key log line per handshake)
    assert len(ours.keylog) == 1
    master = ours.keylog[0].split()[2].upper().encode()
    assert cli.wait_output(b"Master-Key: " + master, TIMEOUT), cli.transcript()
    # ours -> openssl
    msg = ("our server to s_client over %s\n" % SUITE_NAMES[suite]).encode()
    if our_mtu is not None:
        # a record must fit one datagram: too much plaintext for the MTU is refused
        assert ours.send(b"x" * our_mtu) == NX_INVALID_PARAMETERS
        msg = b"small mtu\n"
    assert ours.send(msg) == NX_SUCCESS
    assert cli.wait_output(msg, TIMEOUT), cli.transcript()
    # openssl -> ours
    line = ("s_client line %s abcdefghij\n" % SUITE_NAMES[suite]).encode()
    cli.write(line)
    assert pump_until(lambda: b"".join(ours.got) == line), (ours.got, cli.transcript())
    if close_by == "Q":
        # s_client's quit command: DONE, close_notify, exit 0; our server is told.
        cli.write(b"Q\n")
        assert pump_until(lambda: ours.events.disconnects), cli.transcript()
        assert cli.wait_output(b"DONE", TIMEOUT, stream="err"), cli.transcript()
        assert nx_secure_dtls_session_receive(session, NX_NO_WAIT)[0] == \
            NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED
    else:
        # our server ends the session: s_client sees close_notify and exits
        assert nx_secure_dtls_session_end(session, NX_NO_WAIT) == NX_SUCCESS
    assert cli.wait_exit(TIMEOUT) == 0, cli.transcript()
    assert ours.events.errors == []
    return ours, cli


@pytest.mark.parametrize("suite", SUITES, ids=IDS)
def test_openssl_s_client_with_our_server(net, procs, suite):
    done = record(suite, "s_client / our server")
    s_client_vs_our_server(net, procs, suite)
    done()


def test_our_server_close_notify_ends_openssl_s_client(net, procs):
    done = record("close_notify", "our server -> s_client")
    s_client_vs_our_server(net, procs, 0xC0A8, close_by="us")
    done()


# ======================================================== handshake fragmentation
# OpenSSL 3.0 refuses -mtu below 256 ("MTU too small. Must be at least 256"): at 256
# (228 bytes of UDP payload) a PSK flight only needs fragmenting when a message is
# made large, so s_server gets a 250-byte identity hint (its ServerKeyExchange).
LONG_HINT = b"h" * 250


def test_openssl_server_fragmented_flight_reaches_our_client(net, procs):
    done = record("frag", "s_server -mtu 256 -> our client")
    with WireLog() as wire:
        client_vs_s_server(net, procs, 0xC0A4, s_server_extra=("-mtu", "256"), hint=LONG_HINT)
    # OpenSSL split at least one handshake message (its ServerKeyExchange)
    assert any(f[0] == 12 for f in wire.incoming_fragments()), wire.incoming
    done()


def test_our_client_fragments_its_flight_for_openssl_server(net, procs):
    done = record("frag", "our client mtu 80 -> s_server")
    with WireLog() as wire:
        client_vs_s_server(net, procs, 0xC0A8, our_mtu=80)
    assert wire.outgoing_fragments()        # our ClientHello went out in pieces
    assert wire.largest_datagram() <= 80
    done()


def test_our_server_fragments_its_flight_for_openssl_client(net, procs):
    done = record("frag", "our server mtu 80 -> s_client")
    with WireLog() as wire:
        # a 100-byte hint makes our ServerKeyExchange larger than one 80-byte datagram
        s_client_vs_our_server(net, procs, 0x00A8, our_mtu=80, hint=b"k" * 100)
    assert any(f[0] == 12 for f in wire.outgoing_fragments()), wire.outgoing_fragments()
    assert wire.largest_datagram() <= 80
    done()


def test_openssl_client_fragmented_client_hello_reaches_our_server(net, procs):
    host = ".".join(["a" * 60] * 4)          # a 243-byte server_name
    with WireLog() as wire:
        ours, cli = s_client_vs_our_server(net, procs, 0x00A8, connect_timeout=3,
                                           s_client_extra=("-mtu", "256", "-servername", host))
    assert wire.incoming_fragments()


def test_fragmented_client_hello_gets_a_cookie_before_any_session(net, procs):
    """A fragmented first ClientHello is reassembled (RFC 6347 4.2.3) and answered with
    a HelloVerifyRequest; the session slot is taken only when the cookie comes back."""
    ours = OurServer(net)
    seen = []
    connect = ours.server._connect_notify

    def on_connect(session, address, port_):
        seen.append(ours.server.nxsecure_hello_verify_sent)
        return connect(session, address, port_)

    ours.server._connect_notify = on_connect
    host = ".".join(["a" * 60] * 4)
    cli = OpenSSL.s_client("127.0.0.1", ours.port, 0xC0A8, quiet=False,
                           extra=("-mtu", "256", "-servername", host))
    procs.append(cli)
    assert pump_until(lambda: seen, TIMEOUT)
    assert seen[0] >= 1          # the HelloVerifyRequest went out before the slot was taken


def test_zz_result_table():
    """Compact suite x role table (visible with -rA or -s)."""
    assert RESULTS, "no interop test ran"
    width = max(len(k[0]) for k in RESULTS) + 2
    rwidth = max(len(k[1]) for k in RESULTS) + 2
    lines = ["%-*s%-*s%s" % (width, "suite", rwidth, "role", "result")]
    for (suite, role), result in sorted(RESULTS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append("%-*s%-*s%s" % (width, suite, rwidth, role, result))
    print("\nOpenSSL interop results\n" + "\n".join(lines))
    assert all(v == "pass" for v in RESULTS.values()), RESULTS
