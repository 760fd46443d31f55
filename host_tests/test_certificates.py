"""Certificate suites end to end: our client with our server over real UDP on 127.0.0.1.

In the shape of the guide's Figure 1.2 (the server's identity certificate with its key:
nx_secure_x509_certificate_initialize + nx_secure_dtls_server_local_certificate_add) and
Figure 1.1 (the client's trusted CA with nx_secure_dtls_session_trusted_certificate_add,
remote certificate space given to nx_secure_dtls_session_create). Certificates are made
at test time with pyca (cert_helpers). Covered:
- every certificate suite with its key type (P-256: ECDHE-ECDSA CCM_8, CCM, GCM,
  CBC-SHA256; RSA-2048: ECDHE-RSA GCM, CBC-SHA256, RSA AES128-SHA, AES128-SHA256) and
  ECDHE_PSK (no certificates), data both ways, close_notify;
- both ECDHE groups (secp256r1 is the server's first choice; x25519 when preferred);
- a root -> intermediate -> leaf chain at MTU 300, so Certificate messages are fragmented,
  with client certificate authentication (requested, presented, verified);
- rejections with the NetX code on the side that rejects and the alert on the wire on the
  other: expired, not yet valid, unknown CA, bad signature, leaf used as an issuer,
  host-name mismatch (certificate callback), no time source, client certificate requested
  but not sent, client certificate from an unknown CA;
- certificate id rules and remote certificate space;
- RSA key exchange: a garbage ClientKeyExchange ends exactly like a well-formed one with
  a wrong premaster (RFC 5246 7.4.7.1, Bleichenbacher countermeasure).
"""
import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import padding as _rsa_padding

import cert_helpers as ch
from nxsecure import port
from dtls_helpers import (
    IDENTITY, PSK, ServerEvents, WireLog, free_udp_port, packet_bytes, receive_all,
    send_data, server_buffers, suite_of, suite_table, v4,
)
from nxsecure import *  # noqa: F401,F403
from nxsecure import config, kx
from nxsecure import dtls as _dtls
from nxsecure.x509 import *  # noqa: F401,F403

EC_SUITES = {0xC0AE: "ECDHE-ECDSA-AES128-CCM8", 0xC0AC: "ECDHE-ECDSA-AES128-CCM",
             0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC023: "ECDHE-ECDSA-AES128-SHA256"}
RSA_SUITES = {0xC02F: "ECDHE-RSA-AES128-GCM-SHA256", 0xC027: "ECDHE-RSA-AES128-SHA256",
              0x002F: "AES128-SHA", 0x003C: "AES128-SHA256"}
ECDHE_PSK = 0xC037
WAIT = 5 * NX_IP_PERIODIC_RATE
ALERT_FATAL = 2


# ======================================================================= certificates
@pytest.fixture(scope="module")
def ec():
    return ch.chain("ec")                      # root, intermediate, leaf "server.example"


@pytest.fixture(scope="module")
def rsa():
    return ch.chain("rsa")


@pytest.fixture(scope="module")
def client_ec():
    """The client's own chain under another root (other names too: an issuer is found
    by name, so a same-named root would be a bad signature, not an unknown CA),
    leaf "client-01" without SAN."""
    root = ch.make("Client Root CA", "ec", ca=True)
    inter = ch.make("Client Intermediate CA", "ec", issuer=root, ca=True, path_len=0)
    return root, inter, ch.make("client-01", "ec", issuer=inter)


def x509_cert(c, key=False):
    """An NX_SECURE_X509_CERT over c's DER, with its private key when key is true."""
    cert = NX_SECURE_X509_CERT()
    if key:
        kt = NX_SECURE_X509_KEY_TYPE_EC_DER if c.kind == "ec" else \
            NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER
        st = nx_secure_x509_certificate_initialize(cert, c.der, len(c.der), None, 0,
                                                   c.key_der, len(c.key_der), kt)
    else:
        st = nx_secure_x509_certificate_initialize(cert, c.der, len(c.der), None, 0, None, 0,
                                                   NX_SECURE_X509_KEY_TYPE_NONE)
    assert st == NX_SUCCESS, hex(st)
    return cert


def pump_until(cond, seconds=3.0):
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        tx_thread_sleep(1)
    return True


# ======================================================================= our server
class CertServer:
    """Figure 1.2 with certificates: identity certificate (+ its issuers) with key,
    optional client certificate verification; sessions start in connect_notify
    (single-threaded) and echo what they receive."""

    def __init__(self, net, suites, local=(), client_cas=None, psk=False, mtu=None,
                 certs_per_session=3):
        self.net = net
        self.table = suite_table(*suites)
        self.got = []
        self.start_status = []
        self.events = ServerEvents()
        self.events.on_connect = self._connect
        self.events.on_receive = self._echo
        self.port = free_udp_port()
        self.server = NX_SECURE_DTLS_SERVER()
        sbuf, md, rs = server_buffers(self.table, 1)
        self.buffers = [sbuf, md, rs]
        assert nx_secure_dtls_server_create(
            self.server, net.ip, self.port, NX_IP_PERIODIC_RATE, sbuf, len(sbuf), self.table,
            md, len(md), rs, len(rs), self.events.connect_notify,
            self.events.receive_notify) == NX_SUCCESS
        net.servers.append(self.server)
        assert nx_secure_dtls_server_notify_set(self.server, self.events.disconnect_notify,
                                                self.events.error_notify) == NX_SUCCESS
        if psk:
            assert nx_secure_dtls_server_psk_add(self.server, PSK, len(PSK), IDENTITY,
                                                 len(IDENTITY), None, 0) == NX_SUCCESS
        # local: [(Cert, with_key)], the identity certificate first
        self.local = [x509_cert(c, k) for c, k in local]
        for i, cert in enumerate(self.local):
            assert nx_secure_dtls_server_local_certificate_add(self.server, cert,
                                                               i + 1) == NX_SUCCESS
        if client_cas is not None:
            self.trusted = [x509_cert(c) for c in client_cas]
            for i, cert in enumerate(self.trusted):
                assert nx_secure_dtls_server_trusted_certificate_add(self.server, cert,
                                                                     i + 1) == NX_SUCCESS
            cb = bytearray(certs_per_session * 2000)
            self.buffers.append(cb)
            assert nx_secure_dtls_server_x509_client_verify_configure(
                self.server, certs_per_session, cb, len(cb)) == NX_SUCCESS
        if mtu is not None:
            assert nxsecure_dtls_server_mtu_set(self.server, mtu) == NX_SUCCESS
        assert nx_secure_dtls_server_start(self.server) == NX_SUCCESS

    def _connect(self, session, address, udp_port):
        self.start_status.append(nx_secure_dtls_server_session_start(session, NX_NO_WAIT))

    def _echo(self, session):
        while True:
            st, pkt = nx_secure_dtls_session_receive(session, NX_NO_WAIT)
            if st != NX_SUCCESS:
                return
            data = packet_bytes(pkt)
            nx_packet_release(pkt)
            self.got.append(data)
            st, out = nx_secure_dtls_packet_allocate(session, self.net.pool, NX_NO_WAIT)
            assert st == NX_SUCCESS
            assert nx_packet_data_append(out, data, len(data), self.net.pool, NX_NO_WAIT) == 0
            assert nx_secure_dtls_server_session_send(session, out) == NX_SUCCESS

    def session(self):
        return self.server._sessions[0]

    def errors(self):
        return [code for _, code in self.events.errors]


# ======================================================================= our client
def cert_client(net, suites, trusted=(), local=(), certs_number=3, remote_size=3 * 2000,
                psk=False, mtu=None):
    """Figure 1.1 with certificates: session with remote certificate space, trusted CAs,
    optionally its own certificate (+ issuers) with key."""
    table = suite_table(*suites)
    sock = NX_UDP_SOCKET()
    assert nx_udp_socket_create(net.ip, sock, "DTLS Client Socket", NX_IP_NORMAL,
                                NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8192) == NX_SUCCESS
    session = NX_SECURE_DTLS_SESSION()
    st, md = nx_secure_tls_metadata_size_calculate(table)
    assert st == NX_SUCCESS
    remote = bytearray(remote_size) if remote_size else None
    metadata, reassembly = bytearray(md), bytearray(4000)
    session._test_buffers = (metadata, reassembly, remote)
    assert nx_secure_dtls_session_create(session, table, metadata, len(metadata), reassembly,
                                         len(reassembly), certs_number, remote,
                                         remote_size) == NX_SUCCESS
    net.sessions.append(session)
    if psk:
        assert nx_secure_dtls_psk_add(session, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                      None, 0) == NX_SUCCESS
    for i, c in enumerate(trusted):
        assert nx_secure_dtls_session_trusted_certificate_add(session, x509_cert(c),
                                                              i + 1) == NX_SUCCESS
    for i, (c, k) in enumerate(local):
        assert nx_secure_dtls_session_local_certificate_add(session, x509_cert(c, k),
                                                            i + 1) == NX_SUCCESS
    if mtu is not None:
        assert nxsecure_dtls_session_mtu_set(session, mtu) == NX_SUCCESS
    return session, sock


def connect(session, sock, srv, wait=WAIT):
    return nx_secure_dtls_client_session_start(session, sock, v4(), srv.port, wait)


def echo_and_close(net, session, srv, msg):
    assert send_data(session, net.pool, msg, v4(), srv.port) == NX_SUCCESS
    got = receive_all(session, 3 * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(msg))
    assert got == msg
    assert srv.got == [msg]
    assert nx_secure_dtls_session_end(session, NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert pump_until(lambda: srv.events.disconnects)
    assert srv.errors() == []


@pytest.fixture
def alerts(monkeypatch):
    """Every alert an engine sends or receives: (role, "sent"/"received", level, desc)."""
    log = []
    send, recv = _dtls.Dtls.send_alert, _dtls.Dtls._on_alert

    def send_alert(self, level, desc):
        log.append(("client" if self.is_client else "server", "sent", level, desc))
        return send(self, level, desc)

    def on_alert(self, epoch, buf, off, n):
        if n == 2:
            log.append(("client" if self.is_client else "server", "received", buf[off],
                        buf[off + 1]))
        return recv(self, epoch, buf, off, n)

    monkeypatch.setattr(_dtls.Dtls, "send_alert", send_alert)
    monkeypatch.setattr(_dtls.Dtls, "_on_alert", on_alert)
    return log


# ======================================================================= every suite
@pytest.mark.parametrize("suite", list(EC_SUITES) + list(RSA_SUITES),
                         ids=list(EC_SUITES.values()) + list(RSA_SUITES.values()))
def test_certificate_suite_handshake_data_and_close(net, ec, rsa, suite):
    root, inter, leaf = ec if suite in EC_SUITES else rsa
    srv = CertServer(net, [suite], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [suite], trusted=[root])
    assert connect(session, sock, srv) == NX_SUCCESS
    assert suite_of(session) == suite and suite_of(srv.session()) == suite
    assert srv.start_status == [NX_CONTINUE]       # NX_NO_WAIT: the flight went out
    e = session._engine
    if suite in (0x002F, 0x003C):
        assert e.group == 0                        # static RSA key exchange: no ECDHE
    else:
        assert e.group == kx.GROUP_SECP256R1 == srv.session()._engine.group
    # the client kept the server's chain (leaf, intermediate) in its remote space
    from nxsecure.x509 import store_remote_count
    assert store_remote_count(session._store) == 2
    assert srv.session()._engine.peer_cert is False       # no client certificate asked
    echo_and_close(net, session, srv, b"reading over %04X" % suite)


def test_ecdhe_psk_needs_no_certificate(net):
    srv = CertServer(net, [ECDHE_PSK], psk=True)
    session, sock = cert_client(net, [ECDHE_PSK], psk=True, certs_number=0, remote_size=0)
    assert connect(session, sock, srv) == NX_SUCCESS
    assert suite_of(session) == ECDHE_PSK
    assert session._engine.group == kx.GROUP_SECP256R1
    assert session._store is None and srv.session()._store is None   # X.509 never touched
    echo_and_close(net, session, srv, b"ecdhe-psk")


@pytest.mark.parametrize("suite", [0xC0AE, 0xC02F, ECDHE_PSK],
                         ids=["ECDHE-ECDSA-CCM8", "ECDHE-RSA-GCM", "ECDHE-PSK-CBC"])
def test_x25519_is_used_when_preferred(net, ec, rsa, monkeypatch, suite):
    # The server takes the first of kx.GROUPS that the client offers (RFC 8422 5.1.1);
    # with x25519 first both ends agree on it.
    monkeypatch.setattr(kx, "GROUPS", (kx.GROUP_X25519, kx.GROUP_SECP256R1))
    if suite == ECDHE_PSK:
        srv = CertServer(net, [suite], psk=True)
        session, sock = cert_client(net, [suite], psk=True)
    else:
        root, inter, leaf = ec if suite == 0xC0AE else rsa
        srv = CertServer(net, [suite], local=[(leaf, True), (inter, False)])
        session, sock = cert_client(net, [suite], trusted=[root])
    assert connect(session, sock, srv) == NX_SUCCESS
    assert session._engine.group == kx.GROUP_X25519 == srv.session()._engine.group
    echo_and_close(net, session, srv, b"x25519")


def test_client_offering_only_secp256r1_gets_secp256r1(net, ec, monkeypatch):
    # The mirror: x25519 is the server's first choice (nx_secure_dtls_server_ecc_initialize)
    # but the client's supported_groups (nx_secure_dtls_ecc_initialize) lists only
    # secp256r1.
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    assert nx_secure_dtls_server_ecc_initialize(srv.server, [kx.GROUP_X25519, kx.GROUP_SECP256R1],
                                                2, None) == NX_SUCCESS
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert nx_secure_dtls_ecc_initialize(session, [0x00060017], 1, None) == NX_SUCCESS
    groups = []
    original = kx.choose_group

    def choose(e, peer_groups):
        groups.append(bytes(peer_groups))
        return original(e, peer_groups)

    monkeypatch.setattr(kx, "choose_group", choose)
    assert connect(session, sock, srv) == NX_SUCCESS
    assert groups and groups[0] == b"\x00\x17"       # the client offered secp256r1 only
    assert session._engine.group == kx.GROUP_SECP256R1


def test_client_limited_to_x25519_is_not_given_a_p256_certificate(net, ec, monkeypatch):
    # RFC 8422 5.1: in TLS 1.2 the client's supported_groups also bound the curve of
    # the server's ECDSA key. A client offering only x25519 is refused the ECDSA suite
    # (handshake_failure) rather than sent a P-256 certificate it cannot use.
    root, inter, leaf = ec
    monkeypatch.setattr(kx, "GROUPS", (kx.GROUP_X25519,))      # both ends: x25519 only
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert srv.errors() == [NX_SECURE_TLS_NO_SUPPORTED_CIPHERS]


# ======================================================================= chains, MTU, client certs
def _cert_msg_len(*certs):
    return 3 + sum(3 + len(c.der) for c in certs)


def test_chain_fragmented_at_mtu_300_with_client_certificate(net, ec, client_ec):
    root, inter, leaf = ec
    croot, cinter, cleaf = client_ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)], client_cas=[croot],
                     mtu=300)
    session, sock = cert_client(net, [0xC0AE], trusted=[root],
                                local=[(cleaf, True), (cinter, False)], mtu=300)
    with WireLog() as wire:
        assert connect(session, sock, srv) == NX_SUCCESS
    assert wire.largest_datagram() <= 300
    # both Certificate messages (server's and client's chains of two) went out in pieces
    sent = {(f[0], f[1]) for f in wire.outgoing_fragments()}
    assert (11, _cert_msg_len(leaf, inter)) in sent, sent
    assert (11, _cert_msg_len(cleaf, cinter)) in sent, sent
    got = {(f[0], f[1]) for f in wire.incoming_fragments()}
    assert (11, _cert_msg_len(leaf, inter)) in got and (11, _cert_msg_len(cleaf, cinter)) in got
    assert srv.session()._engine.peer_cert is True
    echo_and_close(net, session, srv, b"fragmented chains")


@pytest.mark.parametrize("suite", [0xC0AE, 0xC02F, 0x002F],
                         ids=["ECDHE-ECDSA-CCM8", "ECDHE-RSA-GCM", "AES128-SHA"])
def test_client_certificate_requested_and_presented(net, ec, rsa, client_ec, suite):
    root, inter, leaf = ec if suite == 0xC0AE else rsa
    croot, cinter, cleaf = client_ec
    srv = CertServer(net, [suite], local=[(leaf, True), (inter, False)], client_cas=[croot])
    seen = []

    def on_client_cert(session, cert):
        seen.append(nx_secure_x509_common_name_dns_check(cert, b"client-01", 9))
        return NX_SUCCESS

    assert nxsecure_dtls_server_certificate_callback_set(srv.server, on_client_cert) == 0
    session, sock = cert_client(net, [suite], trusted=[root],
                                local=[(cleaf, True), (cinter, False)])
    assert connect(session, sock, srv) == NX_SUCCESS
    assert session._engine.cert_requested and session._engine.local_cert is not None
    assert srv.session()._engine.peer_cert is True
    assert seen == [NX_SUCCESS]            # the server's callback saw "client-01"
    echo_and_close(net, session, srv, b"mutual")


def test_client_certificate_requested_but_not_presented(net, ec, client_ec, alerts):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)],
                     client_cas=[client_ec[0]])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])        # no certificate
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED]
    assert ("server", "sent", ALERT_FATAL, 40) in alerts               # handshake_failure
    assert ("client", "received", ALERT_FATAL, 40) in alerts


def test_client_certificate_from_unknown_ca_rejected_by_server(net, ec, client_ec, alerts):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)], client_cas=[root])
    croot, cinter, cleaf = client_ec
    session, sock = cert_client(net, [0xC0AE], trusted=[root],
                                local=[(cleaf, True), (cinter, False)])
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND]
    assert ("client", "received", ALERT_FATAL, 48) in alerts           # unknown_ca


# ======================================================================= our client rejects
def _bad_server_chain(case, ec):
    """(server local certs, client trusted certs, callback host or None) for a case."""
    root, inter, leaf = ec
    if case == "expired":
        bad = ch.make("server.example", "ec", issuer=inter, days=(-60, -1),
                      san=["server.example"])
    elif case == "not_yet_valid":
        bad = ch.make("server.example", "ec", issuer=inter, days=(1, 60),
                      san=["server.example"])
    elif case == "bad_signature":
        bad = ch.make("server.example", "ec", issuer=inter, san=["server.example"],
                      bad_signature=True)
    elif case == "unknown_ca":
        return [(leaf, True), (inter, False)], [ch.make("Other Root", "ec", ca=True)], None
    elif case == "leaf_as_issuer":
        # a certificate without the CA flag (basicConstraints cA=FALSE) signs the leaf
        fake = ch.make("Not A CA", "ec", issuer=inter)
        bad = ch.make("server.example", "ec", issuer=fake, san=["server.example"])
        return [(bad, True), (fake, False), (inter, False)], [root], None
    elif case == "hostname_mismatch":
        return [(leaf, True), (inter, False)], [root], b"other.example"
    else:
        raise AssertionError(case)
    return [(bad, True), (inter, False)], [root], None


REJECTIONS = [
    # case, code our client returns, alert it sends (RFC 5246 7.2.2)
    ("expired", NX_SECURE_X509_CERTIFICATE_EXPIRED, 45),          # certificate_expired
    ("not_yet_valid", NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID, 45),
    ("unknown_ca", NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND, 48),  # unknown_ca
    ("bad_signature", NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, 51),  # decrypt_error
    ("leaf_as_issuer", NX_SECURE_X509_CHAIN_VERIFY_FAILURE, 42),  # bad_certificate
    ("hostname_mismatch", NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH, 42),
]


@pytest.mark.parametrize("case,code,alert", REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_our_client_rejects_bad_server_certificate(net, ec, alerts, case, code, alert):
    local, trusted, host = _bad_server_chain(case, ec)
    srv = CertServer(net, [0xC0AE], local=local)
    session, sock = cert_client(net, [0xC0AE], trusted=trusted)
    calls = []
    if host is not None:
        def check_name(s, cert):
            calls.append(cert)
            return nx_secure_x509_common_name_dns_check(cert, host, len(host))
        assert nxsecure_dtls_session_certificate_callback_set(session, check_name) == 0
    assert connect(session, sock, srv) == code
    assert session._engine.error == code
    assert ("client", "sent", ALERT_FATAL, alert) in alerts, alerts
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_ALERT_RECEIVED]
    assert ("server", "received", ALERT_FATAL, alert) in alerts, alerts
    if host is not None:
        assert len(calls) == 1               # the callback ran on the verified leaf


def test_hostname_callback_accepts_the_right_name(net, ec):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert nxsecure_dtls_session_certificate_callback_set(
        session, lambda s, c: nx_secure_x509_common_name_dns_check(c, b"server.example", 14)) == 0
    assert connect(session, sock, srv) == NX_SUCCESS


def test_rsa_bad_signature_rejected(net, rsa, alerts):
    root, inter, leaf = rsa
    bad = ch.make("server.example", "rsa", issuer=inter, san=["server.example"],
                  bad_signature=True)
    srv = CertServer(net, [0xC02F], local=[(bad, True), (inter, False)])
    session, sock = cert_client(net, [0xC02F], trusted=[root])
    assert connect(session, sock, srv) == NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED
    assert ("client", "sent", ALERT_FATAL, 51) in alerts


def test_no_time_source_fails_closed(net, ec, alerts, monkeypatch):
    # No clock at all: the validity period cannot be checked, so the chain is refused
    # (never silently accepted).
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    monkeypatch.setattr(port, "time_source", None)
    nx_secure_x509_time_function_set(lambda: 0)
    try:
        assert connect(session, sock, srv) == NX_SECURE_X509_NO_TIME_SOURCE
    finally:
        nx_secure_x509_time_function_set(None)
    assert ("client", "sent", ALERT_FATAL, 46) in alerts               # certificate_unknown


def test_time_function_decides_validity(net, ec):
    # The installed time function wins over the host clock: one year ahead the
    # 30-day leaf has expired.
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    nx_secure_x509_time_function_set(lambda: int(time.time()) + 365 * 86400)
    try:
        assert connect(session, sock, srv) == NX_SECURE_X509_CERTIFICATE_EXPIRED
    finally:
        nx_secure_x509_time_function_set(None)


# ======================================================================= ids, space
def test_certificate_id_rules(net, ec):
    root, inter, leaf = ec
    session, sock = cert_client(net, [0xC0AE])
    srv = CertServer(net, [0xC0AE])
    for add, remove, owner in (
            (nx_secure_dtls_session_local_certificate_add,
             nx_secure_dtls_session_local_certificate_remove, session),
            (nx_secure_dtls_session_trusted_certificate_add,
             nx_secure_dtls_session_trusted_certificate_remove, session),
            (nx_secure_dtls_server_local_certificate_add,
             nx_secure_dtls_server_local_certificate_remove, srv.server),
            (nx_secure_dtls_server_trusted_certificate_add,
             nx_secure_dtls_server_trusted_certificate_remove, srv.server)):
        a, b, c = x509_cert(leaf, True), x509_cert(inter), x509_cert(root)
        assert add(owner, a, 0) == NX_SECURE_TLS_CERT_ID_INVALID
        assert add(owner, a, 1) == NX_SUCCESS
        assert add(owner, b, 1) == NX_SECURE_TLS_CERT_ID_DUPLICATE
        assert add(owner, b, 2) == NX_SUCCESS
        assert add(owner, c, 3) == NX_SUCCESS
        assert remove(owner, None, 0, 2) == NX_SUCCESS                  # by id
        assert remove(owner, None, 0, 2) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
        assert remove(owner, b"Test Root CA", 12, 0) == NX_SUCCESS       # by common name
        assert remove(owner, b"Test Root CA", 12, 0) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
        assert remove(owner, b"nobody", 6, 0) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
        assert remove(owner, None, 0, 99) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
        assert add(owner, b, 2) == NX_SUCCESS              # a removed id is free again
        assert remove(owner, b"server.example", 14, 0) == NX_SUCCESS
        assert remove(owner, None, 0, 2) == NX_SUCCESS


@pytest.mark.parametrize("certs_number,remote_size,code", [
    (3, 300, NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE),   # buffer smaller than the leaf
    (1, 4000, NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE),  # room for one certificate of two
    (0, 0, NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED),     # no remote space at all
], ids=["small-buffer", "too-few-certs", "none"])
def test_remote_certificate_space(net, ec, certs_number, remote_size, code):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root], certs_number=certs_number,
                                remote_size=remote_size)
    assert connect(session, sock, srv) == code
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_ALERT_RECEIVED]


# ======================================================================= Bleichenbacher
def test_rsa_garbage_key_exchange_ends_like_a_wrong_premaster(net, rsa, alerts, monkeypatch):
    """RFC 5246 7.4.7.1: whatever the ClientKeyExchange decrypts to (bad padding, wrong
    length, wrong version, or a well-formed wrong premaster) the server goes on with a
    random premaster; the handshake then fails the same way, with nothing telling the
    cases apart: the client's Finished does not authenticate under the server's keys,
    so the server ends every one of them with the same bad_record_mac alert."""
    root, inter, leaf = rsa
    pub = leaf.key.public_key()
    n = pub.key_size // 8
    variants = {
        "wrong premaster": lambda: pub.encrypt(b"\xfe\xfd" + os.urandom(46),
                                               _rsa_padding.PKCS1v15()),
        "wrong version": lambda: pub.encrypt(b"\x03\x03" + os.urandom(46),
                                             _rsa_padding.PKCS1v15()),
        "wrong length": lambda: pub.encrypt(os.urandom(20), _rsa_padding.PKCS1v15()),
        "garbage": lambda: b"\x00" + os.urandom(n - 1),            # not PKCS #1 at all
        "short garbage": lambda: os.urandom(17),
    }
    monkeypatch.setattr(config, "NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS", 100)
    monkeypatch.setattr(config, "NX_SECURE_DTLS_MAX_TRANSMISSIONS", 3)
    decrypted = []
    real_decrypt = kx.rsa_decrypt_premaster

    def spy(key, ct, version):
        pms = real_decrypt(key, ct, version)
        decrypted.append(len(pms))
        return pms

    monkeypatch.setattr(kx, "rsa_decrypt_premaster", spy)
    outcomes = {}
    for name, make_ct in variants.items():
        monkeypatch.setattr(kx, "rsa_encrypt_premaster", lambda key, pms, f=make_ct: f())
        del alerts[:]
        srv = CertServer(net, [0x002F], local=[(leaf, True), (inter, False)])
        session, sock = cert_client(net, [0x002F], trusted=[root])
        status = connect(session, sock, srv, wait=10 * NX_IP_PERIODIC_RATE)
        assert pump_until(lambda: srv.events.errors, 5)
        outcomes[name] = (status, tuple(srv.errors()),
                          tuple(a for a in alerts if a[0] == "server"))
        assert nx_secure_dtls_session_delete(session) == NX_SUCCESS
        nx_udp_socket_unbind(sock)
        nx_udp_socket_delete(sock)
        nx_secure_dtls_server_stop(srv.server)
        nx_secure_dtls_server_delete(srv.server)
    assert decrypted == [48] * len(variants)    # always a 48-byte premaster, never an error
    first = outcomes["wrong premaster"]
    assert first[0] != NX_SUCCESS
    assert first[:2] == (NX_SECURE_TLS_ALERT_RECEIVED, (NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,))
    assert [a[1:] for a in first[2]] == [("sent", 2, 20)]   # fatal bad_record_mac
    for name, outcome in outcomes.items():
        assert outcome == first, (name, outcomes)


# ======================================================================= the example
def test_cert_echo_example_runs():
    """examples/cert_echo.py (README "Certificates"): handshake, three echoes, close."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, os.path.join(root, "examples", "cert_echo.py")],
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "nx_secure_dtls_client_session_start: 0x0" in out
    assert "nxsecure_dtls_session_sni_extension_set(sensor-gw.example): 0x0" in out
    assert "suite 0xC0AE, group 23, server chain of 1 certificate(s), flags 0x0" in out
    assert out.count("client echo: b'reading") == 3
    assert "disconnect_notify" in out
