"""The Pythonic layer (nxsecure/api.py), blocking use: DTLSServer's events (accept and
reject a client and its certificate, data, disconnects with their reason, errors, log),
its connections map, send_all, pause/resume, idle timeout, max connections; connect()
and DTLSConnection's negotiated parameters; exceptions that carry the NetX code."""
import os
import socket

import pytest

from dtls_helpers import free_udp_port
from nxsecure import api, credentials, netx
from nxsecure.api import DTLSError, DTLSRefused, DTLSTimeout

KEY = bytes(range(16))
PSK = {"sensor-01": KEY}
LOCAL = "127.0.0.1"


class Recorder(api.DTLSServer):
    """Records every event."""

    def __init__(self, *a, **kw):
        self.events = []
        self.accept = lambda address: True
        self.accept_cert = lambda conn, cert: True
        api.DTLSServer.__init__(self, *a, **kw)

    def on_connection_request(self, address):
        ok = self.accept(address)
        self.events.append(("request", address, ok))
        return ok

    def on_client_certificate(self, conn, certificate):
        ok = self.accept_cert(conn, certificate)
        self.events.append(("certificate", certificate.common_name, ok))
        return ok

    def on_connected(self, conn):
        self.events.append(("connected", conn))

    def on_disconnected(self, conn, reason):
        self.events.append(("disconnected", conn, reason))

    def on_error(self, conn, error):
        self.events.append(("error", conn, error))

    def kinds(self):
        return [e[0] for e in self.events]


@pytest.fixture
def server():
    made = []

    def make(cls=Recorder, **kw):
        kw.setdefault("psk", PSK)
        srv = cls(LOCAL, free_udp_port(), **kw)
        srv.start()
        made.append(srv)
        return srv
    yield make
    for srv in made:
        srv.stop()


def _client(srv, **kw):
    kw.setdefault("psk", ("sensor-01", KEY))
    return api.connect(LOCAL, srv.port, **kw)


def test_echo_and_what_was_negotiated(server):
    srv = server()
    srv.on_data = lambda conn, data: conn.send(data[::-1])
    c = _client(srv, suites=["PSK-AES128-GCM-SHA256"])
    assert c.connected and c.version == "DTLSv1.2"
    assert c.cipher_suite == "TLS_PSK_WITH_AES_128_GCM_SHA256" and c.cipher_suite_id == 0x00A8
    assert c.psk_identity == b"sensor-01" and c.extended_master_secret is True
    assert c.peer_certificate is None and c.last_alert is None
    assert 1000 < c.max_record_size < 1232
    for i in range(5):
        c.send(b"reading %d" % i)
        assert c.recv(2) == (b"reading %d" % i)[::-1]
    srv.run(0.05)
    (addr, sconn), = srv.connections.items()
    assert addr == sconn.address and addr[0] == LOCAL
    assert sconn.psk_identity == b"sensor-01" and sconn.cipher_suite == c.cipher_suite
    assert srv.kinds() == ["request", "connected"]
    c.close()
    srv.run(0.1)
    assert srv.connections == {}
    assert srv.events[-1][0] == "disconnected" and srv.events[-1][2] is None
    assert sconn.closed and sconn.recv() == b""
    assert sconn.last_alert == (1, 0, "close_notify")


def test_connection_request_can_reject_a_client_at_once(server):
    srv = server()
    srv.accept = lambda address: False
    with pytest.raises(DTLSError) as e:
        _client(srv, timeout=5)
    assert e.value.code == 0x114 and e.value.alert == (2, 49)      # fatal access_denied
    assert "access_denied" in str(e.value)
    assert srv.kinds() == ["request"] and srv.connections == {}
    srv.accept = lambda address: True                              # the next one is let in
    assert _client(srv).connected


def test_wrong_key_and_unknown_identity_fail_fast_with_the_alert(server):
    srv = server()
    with pytest.raises(DTLSError) as e:
        _client(srv, psk=("sensor-01", b"\x00" * 16))
    assert e.value.name == "NX_SECURE_TLS_ALERT_RECEIVED" and e.value.alert == (2, 20)
    with pytest.raises(DTLSError) as e:
        _client(srv, psk=("sensor-99", KEY))
    assert e.value.alert == (2, 115)                               # unknown_psk_identity
    srv.run(0.05)
    errors = [ev[2] for ev in srv.events if ev[0] == "error"]
    assert [x.name for x in errors] == ["NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE",
                                        "NX_SECURE_TLS_NO_MATCHING_PSK"]


def test_nothing_listening_is_connection_refused_at_once():
    before = len(netx._handles)
    with pytest.raises(ConnectionRefusedError) as e:
        api.connect(LOCAL, free_udp_port(), psk=("a", KEY), timeout=10)
    assert isinstance(e.value, DTLSRefused) and e.value.code == 0x38
    assert "ICMP port unreachable" in str(e.value)
    assert len(netx._handles) == before                           # its socket is closed


def test_a_silent_server_times_out_with_the_callers_timeout():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCAL, 0))
    try:
        with pytest.raises(TimeoutError) as e:
            api.connect(LOCAL, s.getsockname()[1], psk=("a", KEY), timeout=0.3)
        assert isinstance(e.value, DTLSTimeout)
    finally:
        s.close()


def test_connections_map_send_all_pause_and_resume(server):
    srv = server()
    got = []
    srv.on_data = lambda conn, data: got.append((conn.address, data))
    a, b = _client(srv), _client(srv)
    srv.run(0.05)
    assert len(srv.connections) == 2
    assert srv.send_all(b"to everyone") == 2
    assert a.recv(2) == b"to everyone" and b.recv(2) == b"to everyone"
    srv.send(srv.connections[_local(b)], b"only b")
    assert b.recv(2) == b"only b"
    sa = srv.connections[_local(a)]
    sa.pause()
    a.send(b"one")
    a.send(b"two")
    srv.run(0.1)
    assert got == [] and sa.paused
    sa.resume()
    assert got == [(sa.address, b"one"), (sa.address, b"two")]
    with pytest.raises(DTLSError):
        srv.send(("10.0.0.1", 1), b"nobody")


def _local(conn):
    st, port_ = netx.nx_udp_socket_port_get(conn._socket)
    return (LOCAL, port_)


def test_recv_queue_timeout_and_end_of_connection(server):
    srv = server()
    c = _client(srv)
    srv.run(0.05)
    sconn = next(iter(srv.connections.values()))
    c.send(b"queued")
    assert sconn.recv(2) == b"queued"                              # default on_data queues
    with pytest.raises(DTLSTimeout):
        sconn.recv(0.1)
    sconn.send(b"bye")
    sconn.close()
    assert c.recv(2) == b"bye"
    assert c.recv(2) == b""                                        # close_notify: end
    assert c.closed and list(c) == []
    with pytest.raises(DTLSError):
        c.send(b"too late")


def test_idle_connections_are_ended_with_a_timeout_reason(server):
    srv = server(idle_timeout=0.3)
    c = _client(srv)
    srv.run(0.8)
    assert srv.connections == {}
    ev = srv.events[-1]
    assert ev[0] == "disconnected" and isinstance(ev[2], DTLSTimeout)
    assert c.recv(1) == b""                                        # it got close_notify


def test_a_full_server_says_so_and_keeps_its_connections(server):
    srv = server(max_connections=1)
    first = _client(srv)
    with pytest.raises(TimeoutError):
        _client(srv, timeout=1.0)
    full = [ev for ev in srv.events if ev[0] == "error" and ev[1] is None]
    assert full and full[0][2].name == "NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS"
    first.send(b"still here")
    srv.run(0.05)
    assert next(iter(srv.connections.values())).recv(1) == b"still here"


def test_records_larger_than_the_mtu_allows_are_refused(server):
    srv = server(mtu=400)
    c = _client(srv, mtu=400)
    with pytest.raises(DTLSError) as e:
        c.send(b"x" * 1000)
    assert e.value.code == 0x4D and "max_record_size" in str(e.value)
    c.send(b"x" * c.max_record_size)
    srv.run(0.05)
    assert len(next(iter(srv.connections.values())).recv(1)) == c.max_record_size


def test_an_event_that_raises_does_not_stop_the_server(server):
    srv = server()
    logs = []
    srv.on_log = lambda level, message: logs.append((level, message))

    def boom(conn, data):
        raise RuntimeError("application bug")
    srv.on_data = boom
    c = _client(srv)
    c.send(b"x")
    srv.run(0.05)
    assert any("application bug" in m for lv, m in logs)
    srv.on_data = lambda conn, data: conn.send(data)
    c.send(b"y")
    assert c.recv(2) == b"y"
    assert any(" connected: TLS_PSK_WITH_" in m for lv, m in logs)


# ----------------------------------------------------------------- certificates
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_der, ca_key = credentials.make_ca("Test CA")
    credentials.write_pair(str(d), "ca", ca_der, ca_key)
    out = {"ca": str(d / "ca.pem")}
    for name, server_use in (("gw.example", True), ("dev-good", False), ("dev-bad", False)):
        der, key = credentials.issue_certificate(ca_der, ca_key, name, server=server_use,
                                                 client=not server_use)
        credentials.write_pair(str(d), name, der, key)
        out[name] = (str(d / (name + ".pem")), str(d / (name + ".key.pem")))
    return out


def test_client_certificates_accepted_and_rejected_by_the_application(server, pki):
    cert, key = pki["gw.example"]
    srv = server(psk=None, certfile=cert, keyfile=key, cafile=pki["ca"], verify_clients=True)
    srv.accept_cert = lambda conn, c: c.common_name != "dev-bad"
    good = _client(srv, psk=None, cafile=pki["ca"], certfile=pki["dev-good"][0],
                   keyfile=pki["dev-good"][1], server_hostname="gw.example")
    assert good.cipher_suite.startswith("TLS_ECDHE_ECDSA_")
    assert good.peer_certificate.common_name == "gw.example"
    srv.run(0.05)
    sconn = next(iter(srv.connections.values()))
    assert sconn.peer_certificate.common_name == "dev-good"
    with pytest.raises(DTLSError) as e:
        _client(srv, psk=None, cafile=pki["ca"], certfile=pki["dev-bad"][0],
                keyfile=pki["dev-bad"][1])
    assert e.value.alert == (2, 42)                               # bad_certificate
    assert ("certificate", "dev-bad", False) in srv.events


def test_the_server_name_is_checked(server, pki):
    cert, key = pki["gw.example"]
    srv = server(psk=None, certfile=cert, keyfile=key)
    with pytest.raises(DTLSError) as e:
        _client(srv, psk=None, cafile=pki["ca"], server_hostname="other.example")
    assert e.value.name == "NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH"
    # every reason the chain fails, and the chain itself, come with the error
    assert e.value.certificate_errors == ("bad-identity",)
    assert [c.common_name for c in e.value.peer_certificate_chain] == ["gw.example"]
    assert "certificate: bad-identity" in str(e.value)
    conn = _client(srv, psk=None, cafile=pki["ca"], server_hostname="gw.example")
    assert conn.connected
    assert conn.key_exchange_group == "secp256r1"
    assert [c.common_name for c in conn.peer_certificate_chain] == ["gw.example"]
    assert conn.info()["key_exchange_group"] == "secp256r1"


def test_arguments_are_checked_with_clear_errors(pki):
    with pytest.raises(ValueError, match="port"):
        api.DTLSServer(LOCAL, 70000, psk=PSK)
    with pytest.raises(ValueError, match="needs a PSK"):
        api.DTLSServer(LOCAL, 5684)
    with pytest.raises(ValueError, match="unknown cipher suite 'FOO'.*PSK-AES128-CCM8"):
        api.DTLSServer(LOCAL, 5684, psk=PSK, suites=["FOO"])
    with pytest.raises(TypeError, match="bytes"):
        api.connect(LOCAL, 5684, psk=("id", "00112233"))
    with pytest.raises(ValueError, match="not an IP address|cannot resolve"):
        api.connect("no-such-host.invalid", 5684, psk=("id", KEY))
    with pytest.raises(ValueError, match="needs the CA"):
        api.DTLSServer(LOCAL, 5684, certfile=pki["gw.example"][0],
                       keyfile=pki["gw.example"][1], verify_clients=True)
    with pytest.raises(OSError):
        api.DTLSServer(LOCAL, 5684, certfile="/nonexistent.pem", keyfile="/nonexistent.key")
    with pytest.raises(ValueError, match="no certificate"):
        api.load_certificates(os.__file__.encode() if False else b"-----BEGIN X-----\n")
    assert api.suite_id("tls_psk_with_aes_128_ccm_8") == 0xC0A8 == api.suite_id("0xC0A8")


def test_port_in_use_is_a_dtls_error_with_the_netx_code():
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind((LOCAL, 0))
    try:
        srv = api.DTLSServer(LOCAL, busy.getsockname()[1], psk=PSK)
        with pytest.raises(DTLSError) as e:
            srv.start()
        assert e.value.name == "NX_PORT_UNAVAILABLE" and not srv.listening
    finally:
        busy.close()
