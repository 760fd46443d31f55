"""Small records against independent implementations, over real UDP on 127.0.0.1:
max_fragment_length (RFC 6066 4) with OpenSSL 3 (`-maxfraglen`), record_size_limit
(RFC 8449) with GnuTLS 3.7 (`--recordsize`), both roles. Each test checks what the
handshake negotiated on our side, that data larger than one small record crosses in
both directions (the peer's records all fit our limit, or our engine would have ended
the association with record_overflow), and that our side refuses to send past it."""
import os

import pytest

from dtls_helpers import (
    HINT, IDENTITY, PSK, OpenSSL, free_udp_port, make_client, packet_bytes, receive_all,
    send_data, suite_table, v4,
)
from peers import Proc
from test_openssl_interop import OurServer, pump_until, TIMEOUT
from nxsecure import *  # noqa: F401,F403
from nxsecure.small_records import (
    nxsecure_dtls_session_max_fragment_length_set, nxsecure_dtls_session_record_size_limit_set,
    nxsecure_dtls_server_record_size_limit_set, nxsecure_dtls_session_record_size_get,
)

CCM8 = 0xC0A8
CELLS = {}              # (feature, peer, role) -> "pass" / "FAIL": the table make interop prints


def cell(feature, peer, role):
    """Records the test's outcome as one cell of the interop table."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def run(*a, **kw):
            k = (feature, peer, role + (" (%s)" % kw["mode"] if "mode" in kw else ""))
            CELLS[k] = "FAIL"
            fn(*a, **kw)
            CELLS[k] = "pass"
        return run
    return deco
GNUTLS_PRIORITY = ("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8:"
                   "-MAC-ALL:+AEAD")
# OpenSSL writes what it reads from stdin as one record and refuses one past the
# negotiated length ("exceeds max fragment size"): lines of exactly 512 bytes
LINE512 = bytes(range(48, 48 + 64)) * 7 + b"z" * 63 + b"\n"


def _limits(session):
    st, send, recv = nxsecure_dtls_session_record_size_get(session)
    assert st == NX_SUCCESS
    return send, recv


# ====================================================================== OpenSSL
@cell('small records', 'OpenSSL 3.0', 's_client -maxfraglen 512 / our server')
def test_openssl_s_client_maxfraglen_with_our_server(net, procs):
    ours = OurServer(net)
    assert nxsecure_dtls_server_record_size_limit_set(ours.server, 2048) == NX_SUCCESS
    cli = OpenSSL.s_client("127.0.0.1", ours.port, CCM8, quiet=False,
                           extra=("-maxfraglen", "512"))
    procs.append(cli)
    assert pump_until(ours.connected), cli.transcript()
    s = ours.session()
    assert _limits(s) == (512, 512)
    # ours -> openssl: a record of exactly 512 bytes, none larger
    assert ours.send(b"x" * 513) == NX_INVALID_PARAMETERS
    msg = b"m" * 511 + b"\n"
    assert ours.send(msg) == NX_SUCCESS
    assert cli.wait_output(msg, TIMEOUT), cli.transcript()
    # openssl -> ours: records of the full 512 bytes
    cli.write(LINE512)
    assert pump_until(lambda: b"".join(ours.got) == LINE512), (len(b"".join(ours.got)),
                                                                cli.transcript())
    assert max(len(g) for g in ours.got) <= 512
    cli.write(b"Q\n")
    assert pump_until(lambda: ours.events.disconnects), cli.transcript()
    assert ours.events.errors == []


@cell('small records', 'OpenSSL 3.0', 'our client max_fragment_length / s_server')
def test_our_client_maxfraglen_with_openssl_s_server(net, procs):
    udp_port = free_udp_port()
    srv = OpenSSL.s_server(udp_port, CCM8)
    procs.append(srv)
    assert srv.wait_output(b"ACCEPT", TIMEOUT), srv.transcript()
    session, sock = make_client(net)
    assert nxsecure_dtls_session_max_fragment_length_set(session, 512) == NX_SUCCESS
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
    assert _limits(session) == (512, 512)         # s_server echoed our request
    assert send_data(session, net.pool, b"x" * 513, v4(), udp_port) == NX_INVALID_PARAMETERS
    msg = b"c" * 511 + b"\n"
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    assert srv.wait_output(msg, TIMEOUT), srv.transcript()
    srv.write(LINE512)
    got = receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(LINE512))
    assert got == LINE512
    assert session._engine.state == 20         # no record_overflow: every record fit
    assert nx_secure_dtls_session_end(session, NX_WAIT_FOREVER) == NX_SUCCESS
    assert srv.wait_exit(TIMEOUT) == 0, srv.transcript()


# ====================================================================== GnuTLS
def _serv_ready(srv):
    """gnutls-serv prints "...listening on IPv4 ..." before it has bound, "done" after;
    the IPv6 line follows once IPv4 is done."""
    return srv.wait_output(b"listening on IPv6", TIMEOUT, stream="any")


def _psk_file(tmp_path):
    pw = os.path.join(str(tmp_path), "psk.txt")
    with open(pw, "w") as f:
        f.write("%s:%s\n" % (IDENTITY.decode(), PSK.hex()))
    return pw


@cell('small records', 'GnuTLS 3.7', 'gnutls-cli --recordsize / our server')
def test_gnutls_cli_recordsize_with_our_server(net, procs):
    ours = OurServer(net)
    assert nxsecure_dtls_server_record_size_limit_set(ours.server, 1000) == NX_SUCCESS
    cli = Proc(["gnutls-cli", "--udp", "--port", str(ours.port), "--priority", GNUTLS_PRIORITY,
                "--pskusername", IDENTITY.decode(), "--pskkey", PSK.hex(),
                "--recordsize", "512", "127.0.0.1"])
    procs.append(cli)
    assert pump_until(ours.connected), cli.transcript()
    s = ours.session()
    send, recv = _limits(s)
    # gnutls-cli 3.7 takes 512..4096 (powers of two) and asks with record_size_limit;
    # we answer with ours (RFC 8449 5: it wins over max_fragment_length)
    assert (send, recv) == (512, 1000), (send, recv)
    assert ours.send(b"x" * 513) == NX_INVALID_PARAMETERS
    msg = b"g" * 511 + b"\n"
    assert ours.send(msg) == NX_SUCCESS
    assert cli.wait_output(msg, TIMEOUT), cli.transcript()
    # gnutls-cli reads its stdin once the handshake is reported
    assert cli.wait_output(b"Handshake was completed", TIMEOUT, stream="any"), cli.transcript()
    # gnutls-cli sends a line as one record, and no longer than its own --recordsize
    # (a longer one fails with EMSGSIZE)
    line = LINE512
    cli.write(line)
    assert pump_until(lambda: b"".join(ours.got) == line), cli.transcript()
    assert ours.events.errors == []


@cell('small records', 'GnuTLS 3.7', 'our client record_size_limit / gnutls-serv')
def test_our_client_record_size_limit_with_gnutls_serv(net, procs, tmp_path):
    udp_port = free_udp_port()
    srv = Proc(["gnutls-serv", "--udp", "--port", str(udp_port), "--priority", GNUTLS_PRIORITY,
                "--echo", "--pskpasswd", _psk_file(tmp_path), "--pskhint", HINT.decode(),
                "--recordsize", "700"])
    procs.append(srv)
    assert _serv_ready(srv), srv.transcript()
    session, sock = make_client(net)
    assert nxsecure_dtls_session_record_size_limit_set(session, 600) == NX_SUCCESS
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
    send, recv = _limits(session)
    # gnutls-serv answers with its own --recordsize; GnuTLS 3.7 ignores a limit
    # below 512 (checked: with 256 it answered nothing), so we announce 600
    assert (send, recv) == (700, 600), (send, recv)
    assert send_data(session, net.pool, b"x" * 701, v4(), udp_port) == NX_INVALID_PARAMETERS
    # gnutls-serv --echo sends our 600-byte record back; a longer one would be
    # record_overflow on our side
    msg = b"e" * 600
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    got = receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(msg))
    assert got == msg
    assert session._engine.state == 20
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


# ====================================================================== heartbeat
@cell('keep-alive', 'GnuTLS 3.7', 'our client / gnutls-serv --heartbeat')
def test_our_client_keep_alive_with_gnutls_serv_heartbeat(net, procs, tmp_path):
    from nxsecure.heartbeat import nxsecure_dtls_session_keep_alive_set
    udp_port = free_udp_port()
    srv = Proc(["gnutls-serv", "--udp", "--port", str(udp_port), "--priority", GNUTLS_PRIORITY,
                "--echo", "--pskpasswd", _psk_file(tmp_path), "--pskhint", HINT.decode(),
                "--heartbeat"])
    procs.append(srv)
    assert _serv_ready(srv), srv.transcript()
    session, sock = make_client(net)
    # a probe after 0.2 s of silence; a slow answer (a loaded machine) is waited for 4 x 0.5 s
    assert nxsecure_dtls_session_keep_alive_set(session, 20, 50, 4) == NX_SUCCESS
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
    e = session._engine
    assert e.hb_mode == 1                    # gnutls-serv allows us to send
    assert pump_until(lambda: e.hb_answered >= 3), srv.transcript()
    assert e.state == 20
    # gnutls-serv's command (data from its client): it sends us a HeartbeatRequest
    # (gnutls_heartbeat_ping, 300 bytes, waiting for our response)
    assert send_data(session, net.pool, b"**HEARTBEAT**", v4(), udp_port) == NX_SUCCESS
    assert pump_until(lambda: e.hb_requests >= 1), srv.transcript()
    msg = b"still there\n"
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    assert receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(msg)) == msg
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


@cell('keep-alive', 'GnuTLS 3.7', 'gnutls-cli --heartbeat / our server')
def test_gnutls_cli_heartbeat_with_our_server(net, procs):
    from nxsecure.heartbeat import nxsecure_dtls_server_keep_alive_set
    ours = OurServer(net)
    assert nxsecure_dtls_server_keep_alive_set(ours.server, 20, 50, 4) == NX_SUCCESS
    cli = Proc(["gnutls-cli", "--udp", "--port", str(ours.port), "--priority", GNUTLS_PRIORITY,
                "--pskusername", IDENTITY.decode(), "--pskkey", PSK.hex(), "--heartbeat",
                "127.0.0.1"])
    procs.append(cli)
    assert pump_until(ours.connected), cli.transcript()
    e = ours.session()._engine
    assert e.hb_mode == 1
    assert pump_until(lambda: e.hb_answered >= 3), cli.transcript()
    assert ours.events.disconnects == [] and ours.events.errors == []


# ====================================================================== resumption
def _resumption_server(net, cache=True, tickets=True):
    from nxsecure import resumption as R
    ours = OurServer(net)
    ours.cache = bytearray(8 * R.NXSECURE_DTLS_SESSION_CACHE_ENTRY)
    if cache:
        assert R.nxsecure_dtls_server_session_cache_set(ours.server, ours.cache, len(ours.cache),
                                                        6000) == NX_SUCCESS
    if tickets:
        assert R.nxsecure_dtls_server_session_ticket_enable(ours.server, 6000) == NX_SUCCESS
    return ours


def _handshakes(ours):
    """(resumed, full) handshakes our server completed."""
    from nxsecure.resumption import nxsecure_dtls_server_resumption_info_get
    st, resumed, full = nxsecure_dtls_server_resumption_info_get(ours.server)
    assert st == NX_SUCCESS
    return resumed, full


@pytest.mark.parametrize("mode", ["id", "ticket"])
@cell('resumption', 'OpenSSL 3.0', 's_client -reconnect / our server')
def test_openssl_s_client_reconnect_resumes_with_our_server(net, procs, mode):
    ours = _resumption_server(net, cache=(mode == "id"), tickets=(mode == "ticket"))
    extra = ("-reconnect",) + (("-no_ticket",) if mode == "id" else ())
    cli = OpenSSL.s_client("127.0.0.1", ours.port, CCM8, quiet=False, extra=extra)
    procs.append(cli)
    # -reconnect: one full handshake, then five more with the same session
    assert pump_until(lambda: _handshakes(ours) == (5, 1)), (_handshakes(ours), cli.transcript())
    assert pump_until(lambda: cli.out.count(b"Reused, ") == 5), cli.transcript()
    assert ours.events.errors == []


@cell('resumption', 'OpenSSL 3.0', 's_client -sess_out/-sess_in / our server')
def test_openssl_s_client_sess_out_sess_in_with_our_server(net, procs, tmp_path):
    ours = _resumption_server(net)
    sess = os.path.join(str(tmp_path), "sess.pem")
    cli = OpenSSL.s_client("127.0.0.1", ours.port, CCM8, quiet=False, extra=("-sess_out", sess))
    procs.append(cli)
    assert pump_until(ours.connected), cli.transcript()
    assert cli.wait_output(b"New, ", TIMEOUT, stream="any"), cli.transcript()
    cli.write(b"Q\n")
    assert cli.wait_exit(TIMEOUT) == 0, cli.transcript()
    cli2 = OpenSSL.s_client("127.0.0.1", ours.port, CCM8, quiet=False, extra=("-sess_in", sess))
    procs.append(cli2)
    assert pump_until(lambda: len(ours.events.connects) == 2 and
                      ours.events.connects[1][0]._engine.state == 20), cli2.transcript()
    assert cli2.wait_output(b"Reused, ", TIMEOUT, stream="any"), cli2.transcript()
    assert pump_until(lambda: _handshakes(ours) == (1, 1)), _handshakes(ours)


def _our_resuming_client(net, udp_port, state):
    from nxsecure.resumption import nxsecure_dtls_session_resumption_enable
    session, sock = make_client(net)
    assert nxsecure_dtls_session_resumption_enable(session, state, len(state)) == NX_SUCCESS
    return session, sock


def _connect_twice(net, session, sock, udp_port, peer, msg=b"hello\n"):
    """Full handshake, data, close; then again: -> resumed flags of the two."""
    from nxsecure.resumption import nxsecure_dtls_session_resumed_get
    out = []
    for i in range(2):
        st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                 TIMEOUT * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, "%s %s" % (hex(st), peer.transcript())
        out.append(nxsecure_dtls_session_resumed_get(session)[1])
        assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
        assert peer.wait_output(msg, TIMEOUT), peer.transcript()
        assert nx_secure_dtls_session_end(session, NX_WAIT_FOREVER) == NX_SUCCESS
        tx_thread_sleep(20)
    return out


@pytest.mark.parametrize("mode", ["id", "ticket"])
@cell('resumption', 'OpenSSL 3.0', 'our client / s_server')
def test_our_client_resumes_with_openssl_s_server(net, procs, mode):
    udp_port = free_udp_port()
    srv = OpenSSL.s_server(udp_port, CCM8, extra=("-naccept", "2") +
                           (("-no_ticket",) if mode == "id" else ()))
    procs.append(srv)
    assert srv.wait_output(b"ACCEPT", TIMEOUT), srv.transcript()
    state = bytearray(300 if mode == "ticket" else 88)    # 88: no room for a ticket
    session, sock = _our_resuming_client(net, udp_port, state)
    assert _connect_twice(net, session, sock, udp_port, srv) == [False, True]
    ticket_len = (state[86] << 8) | state[87]
    assert (ticket_len > 0) == (mode == "ticket")


@pytest.mark.parametrize("mode", ["id", "ticket"])
@cell('resumption', 'GnuTLS 3.7', 'gnutls-cli --resume / our server')
def test_gnutls_cli_resume_with_our_server(net, procs, mode):
    ours = _resumption_server(net, cache=(mode == "id"), tickets=(mode == "ticket"))
    cli = Proc(["gnutls-cli", "--udp", "--port", str(ours.port), "--priority", GNUTLS_PRIORITY,
                "--pskusername", IDENTITY.decode(), "--pskkey", PSK.hex(), "--resume",
                "127.0.0.1"] + (["--noticket"] if mode == "id" else []))
    procs.append(cli)
    assert pump_until(lambda: _handshakes(ours) == (1, 1)), (_handshakes(ours), cli.transcript())
    assert cli.wait_output(b"This is a resumed session", TIMEOUT, stream="any"), cli.transcript()


@pytest.mark.parametrize("mode", ["id", "ticket"])
@cell('resumption', 'GnuTLS 3.7', 'our client / gnutls-serv')
def test_our_client_resumes_with_gnutls_serv(net, procs, tmp_path, mode):
    udp_port = free_udp_port()
    srv = Proc(["gnutls-serv", "--udp", "--port", str(udp_port), "--priority", GNUTLS_PRIORITY,
                "--echo", "--pskpasswd", _psk_file(tmp_path), "--pskhint", HINT.decode()] +
               (["--noticket"] if mode == "id" else []))
    procs.append(srv)
    assert _serv_ready(srv), srv.transcript()
    state = bytearray(600 if mode == "ticket" else 88)     # GnuTLS tickets: 326 bytes
    session, sock = _our_resuming_client(net, udp_port, state)
    # gnutls-serv --echo: what we send comes back (wait_output reads its log instead)
    from nxsecure.resumption import nxsecure_dtls_session_resumed_get
    got = []
    for i in range(2):
        st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                                 TIMEOUT * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
        got.append(nxsecure_dtls_session_resumed_get(session)[1])
        msg = b"round %d\n" % i
        assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
        assert receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE,
                           lambda b: len(b) >= len(msg)) == msg
        assert nx_secure_dtls_session_end(session, NX_WAIT_FOREVER) == NX_SUCCESS
        tx_thread_sleep(20)
    assert got == [False, True], srv.transcript()
    ticket_len = (state[86] << 8) | state[87]
    assert (ticket_len > 0) == (mode == "ticket")


# ====================================================================== renegotiation
def _reneg_feature(session):
    from nxsecure.feature import installed
    from nxsecure.renegotiation import Renegotiation
    return installed(session._engine, Renegotiation)


def _reneg_server(net):
    from nxsecure.renegotiation import nxsecure_dtls_server_renegotiation_enable
    ours = OurServer(net)
    n = len(ours.server._sessions)
    md = len(ours.server._sessions[0]._engine.metadata)
    ours.md2 = bytearray(n * md)
    assert nxsecure_dtls_server_renegotiation_enable(ours.server, ours.md2, n * md) == NX_SUCCESS
    return ours


def _reneg_client(net):
    from nxsecure.renegotiation import nxsecure_dtls_session_renegotiation_enable
    session, sock = make_client(net, table=suite_table(CCM8))
    md = len(session._engine.metadata)
    session._md2 = bytearray(md)
    assert nxsecure_dtls_session_renegotiation_enable(session, session._md2, md) == NX_SUCCESS
    return session, sock


def _renegotiated(session, n=1):
    e = session._engine
    return e.state == 20 and e.reneg is None and _reneg_feature(session).count >= n


def _both_ways_with_our_server(ours, cli, tag):
    msg = b"ours after %s\n" % tag
    assert ours.send(msg) == NX_SUCCESS
    assert cli.wait_output(msg, TIMEOUT), cli.transcript()
    line = b"peer after %s\n" % tag
    cli.write(line)
    assert pump_until(lambda: line in b"".join(ours.got)), cli.transcript()


def _s_client_with_our_server(net, procs):
    """s_client (its stdin commands on) connected to our server, data both ways."""
    ours = _reneg_server(net)
    cli = OpenSSL.s_client("127.0.0.1", ours.port, CCM8, quiet=False)
    procs.append(cli)
    assert pump_until(ours.connected), cli.transcript()
    _both_ways_with_our_server(ours, cli, b"handshake")
    return ours, cli


@cell('renegotiation', 'OpenSSL 3.0', 's_client "R" / our server')
def test_openssl_s_client_renegotiates_with_our_server(net, procs):
    ours, cli = _s_client_with_our_server(net, procs)
    cli.write(b"R\n")
    assert pump_until(lambda: _renegotiated(ours.session())), cli.transcript()
    assert ours.session()._engine.record.base == 1          # epoch 2 now
    _both_ways_with_our_server(ours, cli, b"renegotiation")
    assert ours.events.errors == []


@cell('renegotiation', 'OpenSSL 3.0', 'our server HelloRequest / s_client')
def test_our_server_renegotiates_with_openssl_s_client(net, procs):
    from nxsecure.renegotiation import nxsecure_dtls_session_renegotiate
    ours, cli = _s_client_with_our_server(net, procs)
    st = nxsecure_dtls_session_renegotiate(ours.session(), TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), cli.transcript())
    assert _renegotiated(ours.session())
    _both_ways_with_our_server(ours, cli, b"renegotiation")
    assert ours.events.errors == []


def _both_ways_with_our_client(session, net, udp_port, srv, tag, echo=False):
    msg = b"ours after %s\n" % tag
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    if echo:
        got = receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(msg))
        assert got == msg, srv.transcript()
        return
    assert srv.wait_output(msg, TIMEOUT), srv.transcript()
    line = b"peer after %s\n" % tag
    srv.write(line)
    got = receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(line))
    assert got == line, srv.transcript()


def _our_client_with(net, udp_port, srv, echo=False):
    """Our client (renegotiation on) connected to the peer server, data both ways."""
    session, sock = _reneg_client(net)
    st = nx_secure_dtls_client_session_start(session, sock, v4(), udp_port,
                                             TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
    _both_ways_with_our_client(session, net, udp_port, srv, b"handshake", echo)
    return session


@pytest.mark.parametrize("mode", ["allowed", "default"])
@cell('renegotiation', 'OpenSSL 3.0', 'our client / s_server')
def test_our_client_renegotiates_with_openssl_s_server(net, procs, mode):
    # OpenSSL 3 servers decline a client's renegotiation unless -client_renegotiation
    # (SSL_OP_ALLOW_CLIENT_RENEGOTIATION): then our client keeps its session and keys
    from nxsecure.renegotiation import nxsecure_dtls_session_renegotiate
    udp_port = free_udp_port()
    srv = OpenSSL.s_server(udp_port, CCM8,
                           extra=("-client_renegotiation",) if mode == "allowed" else ())
    procs.append(srv)
    assert srv.wait_output(b"ACCEPT", TIMEOUT), srv.transcript()
    session = _our_client_with(net, udp_port, srv)
    st = nxsecure_dtls_session_renegotiate(session, TIMEOUT * NX_IP_PERIODIC_RATE)
    if mode == "allowed":
        assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
        assert session._engine.record.base == 1
    else:
        assert st == NX_SECURE_TLS_NO_RENEGOTIATION_ERROR, "%s %s" % (hex(st), srv.transcript())
        assert session._engine.record.base == 0 and session._engine.last_alert == (1, 100)
    _both_ways_with_our_client(session, net, udp_port, srv, b"renegotiation")
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


@cell('renegotiation', 'OpenSSL 3.0', 's_server "r" HelloRequest / our client')
def test_openssl_s_server_renegotiates_with_our_client(net, procs):
    udp_port = free_udp_port()
    srv = OpenSSL.s_server(udp_port, CCM8)
    procs.append(srv)
    assert srv.wait_output(b"ACCEPT", TIMEOUT), srv.transcript()
    session = _our_client_with(net, udp_port, srv)
    srv.write(b"r\n")
    assert pump_until(lambda: _renegotiated(session)), srv.transcript()
    _both_ways_with_our_client(session, net, udp_port, srv, b"renegotiation")
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


@cell('renegotiation', 'GnuTLS 3.7', 'gnutls-cli --rehandshake / our server')
def test_gnutls_cli_rehandshake_with_our_server(net, procs):
    ours = _reneg_server(net)
    cli = Proc(["gnutls-cli", "--udp", "--port", str(ours.port), "--priority", GNUTLS_PRIORITY,
                "--pskusername", IDENTITY.decode(), "--pskkey", PSK.hex(), "--rehandshake",
                "127.0.0.1"])
    procs.append(cli)
    assert pump_until(lambda: ours.session() is not None and _renegotiated(ours.session())), \
        cli.transcript()
    _both_ways_with_our_server(ours, cli, b"renegotiation")
    assert ours.events.errors == []


@cell('renegotiation', 'GnuTLS 3.7', 'our client / gnutls-serv')
def test_our_client_renegotiates_with_gnutls_serv(net, procs, tmp_path):
    from nxsecure.renegotiation import nxsecure_dtls_session_renegotiate
    udp_port = free_udp_port()
    srv = Proc(["gnutls-serv", "--udp", "--port", str(udp_port), "--priority", GNUTLS_PRIORITY,
                "--echo", "--pskpasswd", _psk_file(tmp_path), "--pskhint", HINT.decode()])
    procs.append(srv)
    assert _serv_ready(srv), srv.transcript()
    session = _our_client_with(net, udp_port, srv, echo=True)
    st = nxsecure_dtls_session_renegotiate(session, TIMEOUT * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, "%s %s" % (hex(st), srv.transcript())
    _both_ways_with_our_client(session, net, udp_port, srv, b"renegotiation", echo=True)
    nx_secure_dtls_session_end(session, NX_NO_WAIT)


def test_zz_result_table():
    """The feature x peer x role table (printed with -rA or -s: make interop)."""
    assert CELLS, "no interop test ran"
    lines = ["| feature | peer | roles | result |", "|---|---|---|---|"]
    for (f, peer, role), r in sorted(CELLS.items()):
        lines.append("| %s | %s | %s | %s |" % (f, peer, role, r))
    print("\nOptional features, interop\n" + "\n".join(lines))
    assert all(v == "pass" for v in CELLS.values()), CELLS
