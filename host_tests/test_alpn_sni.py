"""ALPN (RFC 7301) both roles, with PSK and with certificates, and the server_name
extension on the wire (RFC 6066 3): our client and our server over real UDP on
127.0.0.1. The interop cells (OpenSSL, GnuTLS, Mbed TLS) are in
test_interop_matrix.py's feature table."""
import pytest

import cert_helpers as ch
from nxsecure import *  # noqa: F401,F403
from nxsecure.x509 import *  # noqa: F401,F403
from nxsecure.alpn import *  # noqa: F401,F403
from nxsecure.sni import *  # noqa: F401,F403
from nxsecure import alpn as _alpn, sni as _sni
from test_certificates import CertServer, cert_client, connect, pump_until, alerts  # noqa: F401

ALERT_FATAL = 2


@pytest.fixture(scope="module")
def ec():
    return ch.chain("ec")


def _pair(net, ec, psk):
    if psk:
        srv = CertServer(net, [0xC0A8], psk=True)
        session, sock = cert_client(net, [0xC0A8], psk=True, remote_size=0, certs_number=0)
    else:
        root, inter, leaf = ec
        srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
        session, sock = cert_client(net, [0xC0AE], trusted=[root])
    return srv, session, sock


@pytest.mark.parametrize("psk", [True, False], ids=["psk", "certificate"])
def test_server_picks_its_preference_among_the_offer(net, ec, psk):
    srv, session, sock = _pair(net, ec, psk)
    assert nxsecure_dtls_server_alpn_set(srv.server, [b"coap", "mqtt"]) == NX_SUCCESS
    assert nxsecure_dtls_session_alpn_set(session, ["mqtt", b"coap"]) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS
    assert nxsecure_dtls_session_alpn_get(session) == (NX_SUCCESS, b"coap")
    assert pump_until(lambda: srv.session() is not None and
                      nxsecure_dtls_session_alpn_get(srv.session())[0] == NX_SUCCESS)
    assert nxsecure_dtls_session_alpn_get(srv.session()) == (NX_SUCCESS, b"coap")


@pytest.mark.parametrize("psk", [True, False], ids=["psk", "certificate"])
def test_no_common_protocol_is_refused_by_the_server(net, ec, psk, alerts):
    srv, session, sock = _pair(net, ec, psk)
    assert nxsecure_dtls_server_alpn_set(srv.server, [b"coap"]) == NX_SUCCESS
    assert nxsecure_dtls_session_alpn_set(session, [b"h3"]) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert ("client", "received", ALERT_FATAL, 120) in alerts        # no_application_protocol
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NXSECURE_DTLS_NO_APPLICATION_PROTOCOL]


def test_one_side_without_alpn_agrees_on_none(net, ec):
    srv, session, sock = _pair(net, ec, True)
    assert nxsecure_dtls_server_alpn_set(srv.server, [b"coap"]) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS                  # client offers none
    assert nxsecure_dtls_session_alpn_get(session) == (NX_SECURE_TLS_EXTENSION_NOT_FOUND, None)
    assert pump_until(lambda: srv.session() is not None)
    assert nxsecure_dtls_session_alpn_get(srv.session()) == (NX_SECURE_TLS_EXTENSION_NOT_FOUND,
                                                             None)
    srv, session, sock = _pair(net, ec, True)
    assert nxsecure_dtls_session_alpn_set(session, [b"coap"]) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS                  # server has none
    assert nxsecure_dtls_session_alpn_get(session) == (NX_SECURE_TLS_EXTENSION_NOT_FOUND, None)


def test_client_refuses_a_protocol_it_did_not_offer(net, ec, alerts, monkeypatch):
    srv, session, sock = _pair(net, ec, True)
    assert nxsecure_dtls_server_alpn_set(srv.server, [b"coap"]) == NX_SUCCESS
    assert nxsecure_dtls_session_alpn_set(session, [b"coap"]) == NX_SUCCESS
    real = _alpn.Alpn.hello

    def hello(self, e, w):
        if self.server:
            _alpn.push_alpn(w, (b"mqtt",))      # a server answering what was not offered
        else:
            real(self, e, w)
    monkeypatch.setattr(_alpn.Alpn, "hello", hello)
    assert connect(session, sock, srv) == NX_SECURE_TLS_HANDSHAKE_FAILURE
    assert ("client", "sent", ALERT_FATAL, 47) in alerts              # illegal_parameter


def test_service_arguments():
    s = NX_SECURE_DTLS_SESSION()
    md, rs = bytearray(4000), bytearray(2000)
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, len(md), rs, len(rs), 0,
                                         None, 0) == NX_SUCCESS
    try:
        for bad in ([b""], [b"x" * 256], [b"a", b"a"], [1], "coap"):
            assert nxsecure_dtls_session_alpn_set(s, bad) == NX_INVALID_PARAMETERS, bad
        assert nxsecure_dtls_session_alpn_set(s, [b"coap", "c" * 255]) == NX_SUCCESS
        assert nxsecure_dtls_session_alpn_set(s, None) == NX_SUCCESS
        assert nxsecure_dtls_session_alpn_get(s) == (NX_SECURE_TLS_EXTENSION_NOT_FOUND, None)
    finally:
        nx_secure_dtls_session_delete(s)


# ================================================================ server_name on the wire
def test_a_malformed_server_name_is_refused_by_the_server(net, ec, alerts, monkeypatch):
    root, inter, leaf = ec
    a = ch.make("a.example", "ec", issuer=root, san=["a.example"])
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (a, True)])   # two: SNI is read
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    d = NX_SECURE_X509_DNS_NAME()
    assert nx_secure_x509_dns_name_initialize(d, b"server.example", 14) == NX_SUCCESS
    assert nxsecure_dtls_session_sni_extension_set(session, d) == NX_SUCCESS

    def bad(w, name):
        w.u16(0)
        w.u16(len(name) + 5)
        w.u16(len(name) + 4)              # the list claims one byte more than it holds
        w.u8(0)
        w.u16(len(name))
        w.put(name)
    monkeypatch.setattr(_sni, "push_server_name", bad)
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert ("client", "received", ALERT_FATAL, 50) in alerts           # decode_error
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_SNI_EXTENSION_INVALID]


def test_a_server_name_answer_with_data_is_refused_by_the_client(net, ec, alerts, monkeypatch):
    root, inter, leaf = ec
    a = ch.make("a.example", "ec", issuer=root, san=["a.example"])
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (a, True)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    d = NX_SECURE_X509_DNS_NAME()
    assert nx_secure_x509_dns_name_initialize(d, b"server.example", 14) == NX_SUCCESS
    assert nxsecure_dtls_session_sni_extension_set(session, d) == NX_SUCCESS
    real = _sni.ServerName.hello

    def hello(self, e, w):
        if self.name is None and getattr(e, "sni", None) is not None:
            w.u16(0)
            w.u16(1)
            w.u8(0)                       # RFC 6066 3: the server's must be empty
            return
        real(self, e, w)
    monkeypatch.setattr(_sni.ServerName, "hello", hello)
    assert connect(session, sock, srv) == NX_SECURE_TLS_SNI_EXTENSION_INVALID
    assert ("client", "sent", ALERT_FATAL, 50) in alerts
