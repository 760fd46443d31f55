"""The peer in hand: host names checked by default (RFC 6125), keys in every format with
the key/certificate match checked when a certificate is added, and what a session
negotiated and received, asked after the handshake (nxsecure/session_info.py), in both
roles, over real UDP on 127.0.0.1 between our client and our server."""
import pytest
from cryptography.hazmat.primitives import serialization

import cert_helpers as ch
from dtls_helpers import suite_of
from nxsecure import *  # noqa: F401,F403
from nxsecure.x509 import *  # noqa: F401,F403
from nxsecure.session_info import *  # noqa: F401,F403
from nxsecure.sni import nxsecure_dtls_session_sni_extension_set
from test_certificates import CertServer, cert_client, connect, pump_until, x509_cert, alerts  # noqa: F401

ALERT_FATAL = 2


@pytest.fixture(scope="module")
def ec():
    return ch.chain("ec")                      # root, intermediate, leaf "server.example"


def dns(name):
    d = NX_SECURE_X509_DNS_NAME()
    assert nx_secure_x509_dns_name_initialize(d, name, len(name)) == NX_SUCCESS
    return d


def named_client(net, trusted, name, suites=(0xC0AE,)):
    session, sock = cert_client(net, list(suites), trusted=trusted)
    assert nxsecure_dtls_session_sni_extension_set(session, dns(name)) == NX_SUCCESS
    return session, sock


# ================================================================ host names
def test_named_client_accepts_its_server(net, ec):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = named_client(net, [root], b"server.example")
    assert connect(session, sock, srv) == NX_SUCCESS
    assert nxsecure_dtls_session_certificate_flags_get(session) == (NX_SUCCESS, 0)


def test_named_client_refuses_another_host(net, ec, alerts):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = named_client(net, [root], b"other.example")
    assert connect(session, sock, srv) == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    assert ("client", "sent", ALERT_FATAL, 42) in alerts                  # bad_certificate
    assert nxsecure_dtls_session_certificate_flags_get(session) == (
        NX_SUCCESS, NXSECURE_CERT_BAD_IDENTITY)
    # the server learns which alert ended the handshake, as a board would ask it
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_ALERT_RECEIVED]
    assert nxsecure_dtls_session_alert_value_get(srv.session()) == (NX_SUCCESS, ALERT_FATAL, 42)


def test_unnamed_client_keeps_todays_behaviour(net, ec):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert connect(session, sock, srv) == NX_SUCCESS


def test_ip_address_is_checked_against_ip_entries(net):
    root = ch.make("Test Root CA", "ec", ca=True)
    leaf = ch.make("gw", "ec", issuer=root, san_ip=["127.0.0.1"])
    srv = CertServer(net, [0xC0AE], local=[(leaf, True)])
    session, sock = named_client(net, [root], b"127.0.0.1")
    assert connect(session, sock, srv) == NX_SUCCESS
    srv2 = CertServer(net, [0xC0AE], local=[(leaf, True)])
    session, sock = named_client(net, [root], b"127.0.0.2")
    assert connect(session, sock, srv2) == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


# ================================================================ verification flags
def test_flags_name_every_reason(net, ec):
    """An expired certificate for another host from a CA the client does not trust: the
    handshake stops at the first reason, the flags give all three."""
    root, inter, leaf = ec
    other_root = ch.make("Other Root", "ec", ca=True)
    old = ch.make("server.example", "ec", issuer=inter, days=(-60, -1), san=["server.example"])
    srv = CertServer(net, [0xC0AE], local=[(old, True), (inter, False)])
    session, sock = named_client(net, [other_root], b"elsewhere.example")
    assert connect(session, sock, srv) != NX_SUCCESS
    st, flags = nxsecure_dtls_session_certificate_flags_get(session)
    assert st == NX_SUCCESS
    assert flags == NXSECURE_CERT_EXPIRED | NXSECURE_CERT_BAD_IDENTITY | NXSECURE_CERT_UNKNOWN_CA
    # the chain that was refused is there to look at
    st, ders = nxsecure_dtls_session_remote_chain_get(session)
    assert st == NX_SUCCESS and [bytes(d) for d in ders] == [old.der, inter.der]


@pytest.mark.parametrize("case,flag", [
    ("not_yet_valid", NXSECURE_CERT_NOT_ACTIVATED),
    ("bad_signature", NXSECURE_CERT_GENERIC_ERROR),
    ("revoked", NXSECURE_CERT_REVOKED),
])
def test_flags_of_one_reason(net, ec, case, flag):
    root, inter, leaf = ec
    crl = None
    if case == "not_yet_valid":
        bad = ch.make("server.example", "ec", issuer=inter, days=(1, 60), san=["server.example"])
    elif case == "bad_signature":
        bad = ch.make("server.example", "ec", issuer=inter, san=["server.example"],
                      bad_signature=True)
    else:
        bad = leaf
        from test_x509_crl import make_crl
        crl = make_crl(inter, revoked=[leaf])
    srv = CertServer(net, [0xC0AE], local=[(bad, True), (inter, False)])
    session, sock = named_client(net, [root], b"server.example")
    if crl is not None:
        assert nxsecure_dtls_session_crl_add(session, crl, len(crl)) == NX_SUCCESS
    assert connect(session, sock, srv) != NX_SUCCESS
    assert nxsecure_dtls_session_certificate_flags_get(session) == (NX_SUCCESS, flag)


def test_flags_of_a_callback_refusal_are_generic(net, ec):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = named_client(net, [root], b"server.example")
    assert nxsecure_dtls_session_certificate_callback_set(
        session, lambda s, c: NX_SECURE_X509_CHAIN_VERIFY_FAILURE) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SECURE_X509_CHAIN_VERIFY_FAILURE
    assert nxsecure_dtls_session_certificate_flags_get(session) == (
        NX_SUCCESS, NXSECURE_CERT_GENERIC_ERROR)


# ================================================================ the peer in hand
def test_getters_after_a_certificate_handshake_both_roles(net, ec):
    root, inter, leaf = ec
    croot = ch.make("Client Root CA", "ec", ca=True)
    cleaf = ch.make("client-01", "ec", issuer=croot)
    srv = CertServer(net, [0xC02B], local=[(leaf, True), (inter, False)], client_cas=[croot])
    session, sock = cert_client(net, [0xC02B], trusted=[root], local=[(cleaf, True)])
    assert connect(session, sock, srv) == NX_SUCCESS
    assert pump_until(lambda: srv.session() is not None and
                      nxsecure_dtls_session_ciphersuite_get(srv.session())[0] == NX_SUCCESS)
    for s, chain in ((session, [leaf, inter]), (srv.session(), [cleaf])):
        assert nxsecure_dtls_session_ciphersuite_get(s) == (NX_SUCCESS, 0xC02B)
        assert nxsecure_dtls_session_protocol_version_get(s) == (NX_SUCCESS, 0xFEFD)
        assert nxsecure_dtls_session_key_exchange_group_get(s) == (NX_SUCCESS, 23)
        assert nxsecure_dtls_session_extended_master_secret_get(s) == (NX_SUCCESS, 1)
        assert nxsecure_dtls_session_certificate_flags_get(s) == (NX_SUCCESS, 0)
        st, ders = nxsecure_dtls_session_remote_chain_get(s)
        assert st == NX_SUCCESS and [bytes(d) for d in ders] == [c.der for c in chain]
        st, pem = nxsecure_dtls_session_remote_chain_pem_get(s)
        assert st == NX_SUCCESS and pem.encode() == b"".join(c.pem for c in chain)
        st, cert = nxsecure_dtls_session_remote_certificate_get(s, 0)
        assert st == NX_SUCCESS and bytes(cert.nx_secure_x509_certificate_data) == chain[0].der
        assert nxsecure_dtls_session_remote_certificate_get(s, len(chain))[0] == \
            NX_SECURE_TLS_CERTIFICATE_NOT_FOUND


def test_getters_of_a_psk_session(net):
    from test_certificates import CertServer as _S  # noqa: F401
    from dtls_helpers import PSK, IDENTITY
    srv = CertServer(net, [0xC0A8], psk=True)
    session, sock = cert_client(net, [0xC0A8], psk=True, remote_size=0, certs_number=0)
    assert nxsecure_dtls_session_ciphersuite_get(session) == (NX_NOT_CONNECTED, 0)
    assert connect(session, sock, srv) == NX_SUCCESS
    assert nxsecure_dtls_session_ciphersuite_get(session) == (NX_SUCCESS, 0xC0A8)
    assert nxsecure_dtls_session_key_exchange_group_get(session) == (NX_SUCCESS, 0)
    assert nxsecure_dtls_session_certificate_flags_get(session) == (
        NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, 0)
    assert nxsecure_dtls_session_remote_chain_get(session) == (
        NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, [])
    assert nxsecure_dtls_session_alert_value_get(session) == (NX_NOT_FOUND, 0, 0)


def test_getters_refuse_what_is_not_a_session():
    for fn in (nxsecure_dtls_session_ciphersuite_get, nxsecure_dtls_session_protocol_version_get,
               nxsecure_dtls_session_key_exchange_group_get,
               nxsecure_dtls_session_extended_master_secret_get,
               nxsecure_dtls_session_remote_chain_get, nxsecure_dtls_session_remote_chain_pem_get,
               nxsecure_dtls_session_certificate_flags_get):
        assert fn(None)[0] == NX_PTR_ERROR
        assert fn(NX_SECURE_DTLS_SESSION())[0] == NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nxsecure_dtls_session_remote_certificate_get(None, 0)[0] == NX_PTR_ERROR
    assert nxsecure_dtls_session_alert_value_get(None)[0] == NX_PTR_ERROR


# ================================================================ credentials
def _key_formats(key):
    """Every encoding of a private key people have: name -> bytes."""
    E, F = serialization.Encoding, serialization.PrivateFormat
    none = serialization.NoEncryption()
    return {
        "sec1-or-pkcs1-der": key.private_bytes(E.DER, F.TraditionalOpenSSL, none),
        "sec1-or-pkcs1-pem": key.private_bytes(E.PEM, F.TraditionalOpenSSL, none),
        "pkcs8-der": key.private_bytes(E.DER, F.PKCS8, none),
        "pkcs8-pem": key.private_bytes(E.PEM, F.PKCS8, none),
    }


@pytest.mark.parametrize("kind,suite", [("ec", 0xC0AE), ("rsa", 0xC02F)])
@pytest.mark.parametrize("fmt", ["sec1-or-pkcs1-der", "sec1-or-pkcs1-pem", "pkcs8-der",
                                 "pkcs8-pem"])
def test_server_key_in_every_format(net, kind, suite, fmt):
    """nxsecure_x509_chain_load takes the server's chain file (PEM, leaf first) and its
    key in any format; the handshake proves the key is the certificate's."""
    root, inter, leaf = ch.chain(kind)
    key = _key_formats(leaf.key)[fmt]
    chain_pem = leaf.pem + inter.pem
    certs = [NX_SECURE_X509_CERT(), NX_SECURE_X509_CERT()]
    assert nxsecure_x509_chain_load(certs, chain_pem, len(chain_pem), key, len(key)) == (
        NX_SUCCESS, 2)
    srv = CertServer(net, [suite])
    for i, c in enumerate(certs):
        assert nx_secure_dtls_server_local_certificate_add(srv.server, c, i + 1) == NX_SUCCESS
    session, sock = named_client(net, [root], b"server.example", suites=(suite,))
    assert connect(session, sock, srv) == NX_SUCCESS


def test_pkcs8_der_through_the_netx_service(ec):
    """nx_secure_x509_certificate_initialize itself takes a PKCS#8 key (openssl genpkey's)
    under either NetX key type that names its algorithm."""
    root, inter, leaf = ec
    p8 = _key_formats(leaf.key)["pkcs8-der"]
    c = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(c, leaf.der, len(leaf.der), None, 0, p8, len(p8),
                                                 NX_SECURE_X509_KEY_TYPE_EC_DER) == NX_SUCCESS
    # an EC key in PKCS#8 given as an RSA key is the wrong type
    assert nx_secure_x509_certificate_initialize(
        c, leaf.der, len(leaf.der), None, 0, p8, len(p8),
        NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER) == NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE


def test_certificate_load_pem_and_der(ec):
    root, inter, leaf = ec
    for data in (leaf.pem, leaf.der, b"text before\n" + leaf.pem + inter.pem, leaf.der + inter.der):
        c = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(c, data, len(data)) == NX_SUCCESS
        assert bytes(c.nx_secure_x509_certificate_data) == leaf.der
    st, n = nxsecure_x509_chain_load([NX_SECURE_X509_CERT() for _ in range(3)],
                                     leaf.der + inter.der + root.der, 3 * 1000)
    assert st == NX_INVALID_PARAMETERS                     # length past the data
    data = leaf.der + inter.der + root.der
    certs = [NX_SECURE_X509_CERT() for _ in range(3)]
    assert nxsecure_x509_chain_load(certs, data, len(data)) == (NX_SUCCESS, 3)
    assert [bytes(c.nx_secure_x509_certificate_data) for c in certs] == [leaf.der, inter.der,
                                                                        root.der]
    assert nxsecure_x509_chain_load(certs[:2], data, len(data)) == (
        NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE, 0)


@pytest.mark.parametrize("data,code", [
    (b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
     NX_SECURE_X509_INVALID_CERTIFICATE_DATA),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n", NX_SECURE_X509_INVALID_CERTIFICATE_DATA),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     NX_SECURE_X509_CERTIFICATE_NOT_FOUND),
    (b"\x30\x03\x02\x01", NX_SECURE_X509_ASN1_LENGTH_TOO_LONG),
])
def test_certificate_load_refuses_what_is_not_a_certificate(data, code):
    assert nxsecure_x509_certificate_load(NX_SECURE_X509_CERT(), data, len(data)) == code


def test_encrypted_and_unknown_keys_are_refused(ec):
    root, inter, leaf = ec
    enc = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(b"pw"))
    c = NX_SECURE_X509_CERT()
    assert nxsecure_x509_certificate_load(c, leaf.pem, len(leaf.pem), enc, len(enc)) == \
        NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE
    junk = b"\x30\x03\x02\x01\x00"
    assert nxsecure_x509_certificate_load(c, leaf.pem, len(leaf.pem), junk, len(junk)) == \
        NX_SECURE_PKCS1_INVALID_PRIVATE_KEY


def test_a_key_that_is_not_the_certificates_is_refused_when_added(net, ec):
    """P-256: another key on the same curve passes parsing but is refused by the add
    services (its public point is not the certificate's); RSA: refused by
    nx_secure_x509_certificate_initialize (another modulus)."""
    root, inter, leaf = ec
    other = ch.new_key("ec")
    for fmt, key in _key_formats(other).items():
        c = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(c, leaf.pem, len(leaf.pem), key, len(key)) == \
            NX_SUCCESS, fmt
        srv = CertServer(net, [0xC0AE])
        assert nx_secure_dtls_server_local_certificate_add(srv.server, c, 1) == \
            NX_SECURE_X509_PRIVATE_KEY_MISMATCH
        session, _ = cert_client(net, [0xC0AE], trusted=[root])
        assert nx_secure_dtls_session_local_certificate_add(session, c, 1) == \
            NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    # a P-384 key for a P-256 certificate
    k384 = _key_formats(ch.new_key("ec384"))["pkcs8-der"]
    assert nxsecure_x509_certificate_load(NX_SECURE_X509_CERT(), leaf.pem, len(leaf.pem), k384,
                                          len(k384)) == NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    rroot, rinter, rleaf = ch.chain("rsa")
    rkey = _key_formats(ch.make("x", "rsa").key)
    for fmt, key in rkey.items():
        assert nxsecure_x509_certificate_load(NX_SECURE_X509_CERT(), rleaf.pem, len(rleaf.pem),
                                              key, len(key)) in (
            NX_SECURE_X509_PRIVATE_KEY_MISMATCH,), fmt


# ================================================================ server names (RFC 6066 3)
from nxsecure.sni import *  # noqa: E402,F401,F403
from nxsecure import sni as _sni  # noqa: E402


@pytest.fixture(scope="module")
def two_names():
    """One root, two servers' leaves: a.example and b.example."""
    root = ch.make("Test Root CA", "ec", ca=True)
    return root, ch.make("a.example", "ec", issuer=root, san=["a.example"]), \
        ch.make("b.example", "ec", issuer=root, san=["b.example"])


def _leaf_of(session):
    st, ders = nxsecure_dtls_session_remote_chain_get(session)
    assert st == NX_SUCCESS
    return bytes(ders[0])


@pytest.mark.parametrize("name,which", [(b"a.example", 1), (b"b.example", 2), (None, 1)])
def test_server_with_two_certificates_picks_the_named_one(net, two_names, name, which):
    root = two_names[0]
    srv = CertServer(net, [0xC0AE], local=[(two_names[1], True), (two_names[2], True)])
    if name is None:
        session, sock = cert_client(net, [0xC0AE], trusted=[root])
    else:
        session, sock = named_client(net, [root], name)
    assert connect(session, sock, srv) == NX_SUCCESS
    assert _leaf_of(session) == two_names[which].der
    assert pump_until(lambda: srv.session() is not None)
    assert nxsecure_dtls_session_server_name_get(srv.session()) == (
        (NX_SUCCESS, name) if name else (NX_NOT_FOUND, None))
    assert nxsecure_dtls_session_server_name_get(session) == (
        (NX_SUCCESS, name) if name else (NX_NOT_FOUND, None))


def test_server_callback_parses_the_name_and_sets_the_certificate(net, two_names):
    root, a, b = two_names
    srv = CertServer(net, [0xC0AE], local=[(a, True)])
    b_cert = x509_cert(b, True)
    seen = []

    def callback(session, extensions, count):
        d = NX_SECURE_X509_DNS_NAME()
        st = nxsecure_dtls_session_sni_extension_parse(session, extensions, count, d)
        seen.append((st, d.name(), [x.nx_secure_tls_extension_id for x in extensions]))
        if st == NX_SUCCESS and d.name() == b"b.example":
            return nxsecure_dtls_active_certificate_set(session, b_cert)
        return NX_SUCCESS

    assert nxsecure_dtls_server_callback_set(srv.server, callback) == NX_SUCCESS
    session, sock = named_client(net, [root], b"b.example")
    assert connect(session, sock, srv) == NX_SUCCESS
    assert _leaf_of(session) == b.der
    assert seen == [(NX_SUCCESS, b"b.example", [0])]
    # a client that sends no name: the callback hears so, the default certificate goes
    assert nx_secure_dtls_session_end(session, NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert pump_until(lambda: srv.events.disconnects)
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert connect(session, sock, srv) == NX_SUCCESS
    assert _leaf_of(session) == a.der
    assert seen[-1][0] == NX_SECURE_TLS_EXTENSION_NOT_FOUND


def test_server_callback_that_refuses_ends_the_handshake(net, two_names, alerts):
    root, a, b = two_names
    srv = CertServer(net, [0xC0AE], local=[(a, True)])
    assert nxsecure_dtls_server_callback_set(
        srv.server, lambda s, x, n: NX_SECURE_TLS_SNI_EXTENSION_INVALID) == NX_SUCCESS
    session, sock = named_client(net, [root], b"a.example")
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert ("client", "received", ALERT_FATAL, 40) in alerts
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_TLS_SNI_EXTENSION_INVALID]


def test_ip_address_is_not_sent(net, monkeypatch):
    sent = []
    monkeypatch.setattr(_sni, "push_server_name", lambda w, n: sent.append(n))
    root = ch.make("Test Root CA", "ec", ca=True)
    leaf = ch.make("gw", "ec", issuer=root, san_ip=["127.0.0.1"])
    srv = CertServer(net, [0xC0AE], local=[(leaf, True)])
    session, sock = named_client(net, [root], b"127.0.0.1")
    assert connect(session, sock, srv) == NX_SUCCESS
    assert sent == []
    session, sock = named_client(net, [root], b"gw.example")
    connect(session, sock, srv)
    assert sent and set(sent) == {b"gw.example"}       # each ClientHello (after the cookie too)


def test_name_checks_of_the_setter():
    s = NX_SECURE_DTLS_SESSION()
    md, rs = bytearray(4000), bytearray(2000)
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, len(md), rs, len(rs), 0,
                                         None, 0) == NX_SUCCESS
    try:
        for bad in (b"a..b", b"trailing.", b"sp ace", b"-" * 64 + b".x", b""):
            assert nxsecure_dtls_session_sni_extension_set(s, dns(bad) if bad else
                                                           NX_SECURE_X509_DNS_NAME()) == \
                NX_INVALID_PARAMETERS, bad
        for good in (b"gw.example", b"x", b"2001:db8::1", b"192.0.2.7", b"under_score.local"):
            assert nxsecure_dtls_session_sni_extension_set(s, dns(good)) == NX_SUCCESS, good
        assert nxsecure_dtls_session_sni_extension_set(s, None) == NX_SUCCESS
        assert nxsecure_dtls_session_server_name_get(s) == (NX_NOT_FOUND, None)
        assert nxsecure_dtls_session_sni_extension_set(s, object()) == NX_PTR_ERROR
    finally:
        nx_secure_dtls_session_delete(s)


# ================================================================ P-384
@pytest.fixture(scope="module")
def ec384():
    """root -> intermediate -> leaf "server.example", P-384 keys signed with SHA-384."""
    return ch.chain("ec384", hash_name="sha384")


@pytest.mark.parametrize("where", ["client", "server"])
def test_secp384r1_ecdhe_when_one_side_asks_for_it(net, ec, ec384, where):
    """A client limited to secp384r1 (its server's key is P-384: RFC 8422 5.1 binds the
    certificate's curve to the client's list), or a server that prefers it."""
    root, inter, leaf = ec384 if where == "client" else ec
    srv = CertServer(net, [0xC02B], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC02B], trusted=[root])
    if where == "client":
        assert nx_secure_dtls_ecc_initialize(session, [24], 1, None) == NX_SUCCESS
    else:
        assert nx_secure_dtls_server_ecc_initialize(srv.server, [0x00060018, 23], 2,
                                                    None) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS
    assert nxsecure_dtls_session_key_exchange_group_get(session) == (NX_SUCCESS, 24)
    assert pump_until(lambda: srv.session() is not None)
    assert nxsecure_dtls_session_key_exchange_group_get(srv.session()) == (NX_SUCCESS, 24)


@pytest.mark.parametrize("suite", [0xC0AE, 0xC02B, 0xC023])
def test_p384_certificates_both_roles(net, ec384, suite):
    """A P-384 chain signed with SHA-384 for the server, a P-384 client certificate;
    the server signs its ECDHE parameters with ECDSA-SHA384, the client its
    CertificateVerify with the transcript's hash."""
    root, inter, leaf = ec384
    croot = ch.make("Client Root CA", "ec384", ca=True, hash_name="sha384")
    cleaf = ch.make("client-01", "ec384", issuer=croot, hash_name="sha384")
    srv = CertServer(net, [suite], local=[(leaf, True), (inter, False)], client_cas=[croot])
    session, sock = named_client(net, [root], b"server.example", suites=(suite,))
    assert nx_secure_dtls_session_local_certificate_add(session, x509_cert(cleaf, True),
                                                        1) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS
    assert pump_until(lambda: srv.session() is not None and srv.session()._engine.state == 20)
    assert session._engine.peer_key.curve == 24 == srv.session()._engine.peer_key.curve
    st, chain = nxsecure_dtls_session_remote_chain_get(srv.session())
    assert [bytes(d) for d in chain] == [cleaf.der]


def test_unsupported_groups_are_refused():
    s = NX_SECURE_DTLS_SESSION()
    md, rs = bytearray(4000), bytearray(2000)
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, len(md), rs, len(rs), 0,
                                         None, 0) == NX_SUCCESS
    try:
        assert nx_secure_dtls_ecc_initialize(s, [25], 1, None) == NX_INVALID_PARAMETERS  # P-521
        assert nx_secure_dtls_ecc_initialize(s, [23, 24], 3, None) == NX_INVALID_PARAMETERS
        assert nx_secure_dtls_ecc_initialize(s, None, 1, None) == NX_PTR_ERROR
        assert nx_secure_dtls_ecc_initialize(s, [29, 24, 23], 3, None) == NX_SUCCESS
    finally:
        nx_secure_dtls_session_delete(s)


def test_client_limited_to_secp384r1_is_not_given_a_p256_certificate(net, ec):
    root, inter, leaf = ec
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    assert nx_secure_dtls_ecc_initialize(session, [24], 1, None) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SECURE_TLS_ALERT_RECEIVED
    assert srv.errors() == [NX_SECURE_TLS_NO_SUPPORTED_CIPHERS]
