"""Certificate revocation lists (RFC 5280 5, 6.3): the store's CRLs checked on every
path by x509_chain_verify, NetX's nx_secure_x509_crl_revocation_check with its codes
(0x197 issuer mismatch, 0x198 signature check failed, 0x199 revoked), the session and
server services in a real handshake, and the failures that fail closed (a CRL that
cannot be trusted is never skipped). CRLs are made at test time with pyca."""
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import cert_helpers as ch
from test_certificates import CertServer, cert_client, connect, pump_until
from nxsecure import *  # noqa: F401,F403
from nxsecure import dtls as _dtls
from nxsecure.x509 import *  # noqa: F401,F403
from nxsecure.x509 import NX_SECURE_X509_CRL_NOT_CURRENT

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def make_crl(issuer, revoked=(), number=1, number_critical=False, days=(-1, 7), signer=None,
             name=None):
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(name or issuer.cert.subject)
         .last_update(NOW + days[0] * DAY).next_update(NOW + days[1] * DAY))
    for c in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder()
                                      .serial_number(c.cert.serial_number)
                                      .revocation_date(NOW - DAY).build())
    if number is not None:
        b = b.add_extension(x509.CRLNumber(number), critical=number_critical)
    crl = b.sign((signer or issuer).key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def pki():
    root, inter, leaf = ch.chain("ec")
    other = ch.make("server2.example", "ec", issuer=inter, san=["server2.example"])
    return root, inter, leaf, other


def verify(chain, trusted, crls=(), now=None, role=X509_ROLE_SERVER):
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    assert store_remote_buffer_set(store, len(chain), bytearray(4000 * len(chain)),
                                   4000 * len(chain)) == NX_SUCCESS
    for c in chain:
        assert store_remote_add(store, c.der, 0, len(c.der)) == NX_SUCCESS
    keep = []
    for i, c in enumerate(trusted):
        tc = NX_SECURE_X509_CERT()
        assert nx_secure_x509_certificate_initialize(tc, c.der, len(c.der), None, 0, None, 0,
                                                     NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
        assert store_trusted_add(store, tc, i + 1) == NX_SUCCESS
        keep.append(tc)
    for crl in crls:
        assert store_crl_add(store, crl, len(crl)) == NX_SUCCESS
    when = int((now or NOW).timestamp())
    return x509_chain_verify(store, 0, when, role)


def test_revoked_leaf_and_revoked_intermediate(pki):
    root, inter, leaf, other = pki
    assert verify([leaf, inter], [root]) == (NX_SUCCESS, 0)
    crl = make_crl(inter, revoked=[leaf])
    assert verify([leaf, inter], [root], [crl]) == (NX_SECURE_X509_CRL_CERTIFICATE_REVOKED, 44)
    assert verify([other, inter], [root], [crl]) == (NX_SUCCESS, 0)        # not listed
    root_crl = make_crl(root, revoked=[inter])
    assert verify([other, inter], [root], [crl, root_crl])[0] == \
        NX_SECURE_X509_CRL_CERTIFICATE_REVOKED
    assert verify([other, inter], [root], [make_crl(root)])[0] == NX_SUCCESS


def test_crl_of_another_issuer_does_not_apply(pki):
    root, inter, leaf, _ = pki
    stranger = ch.make("Other CA", "ec", ca=True)
    assert verify([leaf, inter], [root], [make_crl(stranger, revoked=[leaf])]) == (NX_SUCCESS, 0)


@pytest.mark.parametrize("kind,code", [
    ("forged", NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED),   # right name, wrong key
    ("no_number", NX_SECURE_X509_INVALID_EXTENSIONS),        # RFC 5280 5.2.3: MUST
    ("critical_number", NX_SECURE_X509_INVALID_EXTENSIONS),  # ... and non-critical
    ("stale", NX_SECURE_X509_CRL_NOT_CURRENT),              # nextUpdate in the past
    ("future", NX_SECURE_X509_CRL_NOT_CURRENT),             # thisUpdate ahead
])
def test_untrustworthy_crl_fails_closed(pki, kind, code):
    root, inter, leaf, _ = pki
    crl = {"forged": lambda: make_crl(inter, signer=ch.make("x", "ec", ca=True)),
           "no_number": lambda: make_crl(inter, number=None),
           "critical_number": lambda: make_crl(inter, number_critical=True),
           "stale": lambda: make_crl(inter, days=(-9, -2)),
           "future": lambda: make_crl(inter, days=(2, 9))}[kind]()
    assert verify([leaf, inter], [root], [crl])[0] == code


def _ca(name, issuer, key_usage):
    """A CA certificate with the given keyUsage (None: no keyUsage extension)."""
    key = ch.new_key("ec")
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer.key.public_key()), False))
    if key_usage is not None:
        b = b.add_extension(key_usage, critical=True)
    return ch.Cert(b.sign(issuer.key, hashes.SHA256()), key)


def test_crl_signer_needs_crl_sign_when_it_has_key_usage():
    # RFC 5280 6.3.3 (f): cRLSign is checked only when keyUsage is present.
    root = ch.make("Root CA", "ec", ca=True)
    kcs_only = x509.KeyUsage(False, False, False, False, False, True, False, False, False)
    both = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    for ku, code in ((kcs_only, NX_SECURE_X509_KEY_USAGE_ERROR), (both, NX_SUCCESS),
                     (None, NX_SUCCESS)):
        inter = _ca("Issuing CA", root, ku)
        leaf = ch.make("server.example", "ec", issuer=inter, san=["server.example"])
        assert verify([leaf, inter], [root])[0] == NX_SUCCESS
        assert verify([leaf, inter], [root], [make_crl(inter)])[0] == code


def test_store_crl_add_and_remove():
    root = ch.make("Root CA", "ec", ca=True)
    crl = make_crl(root)
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    assert store_crl_add(store, crl, len(crl)) == NX_SUCCESS
    assert store_crl_add(store, crl, len(crl)) == NX_INVALID_PARAMETERS      # twice
    assert store_crl_add(store, b"\x30\x03\x02\x01\x01", 5) != NX_SUCCESS    # not a CRL
    assert store_crl_add(store, crl, len(crl) + 1) == NX_INVALID_PARAMETERS
    assert store_crl_add(None, crl, len(crl)) == NX_PTR_ERROR
    assert store_crl_add(store, None, 0) == NX_PTR_ERROR
    assert store_crl_remove(store, crl) == NX_SUCCESS
    assert store_crl_remove(store, crl) == NX_NOT_FOUND


def test_netx_revocation_check_service_codes(pki):
    root, inter, leaf, other = pki
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    ca = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(ca, inter.der, len(inter.der), None, 0, None,
                                                 0, NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
    assert store_trusted_add(store, ca, 1) == NX_SUCCESS
    cert = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(cert, leaf.der, len(leaf.der), None, 0, None,
                                                 0, NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
    revoked = make_crl(inter, revoked=[leaf])
    clean = make_crl(inter, revoked=[other])
    forged = make_crl(inter, revoked=[leaf], signer=ch.make("x", "ec", ca=True))
    foreign = make_crl(root, revoked=[leaf])
    check = nx_secure_x509_crl_revocation_check
    assert check(revoked, len(revoked), store, cert) == NX_SECURE_X509_CRL_CERTIFICATE_REVOKED
    assert check(clean, len(clean), store, cert) == NX_SUCCESS
    assert check(forged, len(forged), store, cert) == NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED
    assert check(foreign, len(foreign), store, cert) == NX_SECURE_X509_CRL_ISSUER_MISMATCH
    assert check(revoked, len(revoked), NX_SECURE_X509_CERTIFICATE_STORE(), cert) == \
        NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND
    assert check(None, 10, store, cert) == NX_PTR_ERROR
    assert check(revoked, 0, store, cert) == NX_PTR_ERROR
    assert check(revoked, len(revoked), None, cert) == NX_PTR_ERROR
    assert check(revoked, len(revoked) + 1, store, cert) == NX_INVALID_PARAMETERS
    assert check(revoked[:40], 40, store, cert) != NX_SUCCESS                   # truncated


@pytest.fixture
def sent_alerts(monkeypatch):
    log = []
    send = _dtls.Dtls.send_alert

    def send_alert(self, level, desc):
        log.append(("client" if self.is_client else "server", desc))
        return send(self, level, desc)
    monkeypatch.setattr(_dtls.Dtls, "send_alert", send_alert)
    return log


def test_client_refuses_a_revoked_server_certificate(net, pki, sent_alerts):
    root, inter, leaf, _ = pki
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session, sock = cert_client(net, [0xC0AE], trusted=[root])
    crl = make_crl(inter, revoked=[leaf])
    assert nxsecure_dtls_session_crl_add(session, crl, len(crl)) == NX_SUCCESS
    assert nxsecure_dtls_session_crl_add(None, crl, len(crl)) == NX_PTR_ERROR
    assert connect(session, sock, srv) == NX_SECURE_X509_CRL_CERTIFICATE_REVOKED
    assert ("client", 44) in sent_alerts                     # certificate_revoked
    # Without the CRL the same session connects.
    assert nxsecure_dtls_session_crl_remove(session, crl) == NX_SUCCESS
    srv2 = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)])
    session2, sock2 = cert_client(net, [0xC0AE], trusted=[root])
    assert connect(session2, sock2, srv2) == NX_SUCCESS


def test_server_refuses_a_revoked_client_certificate(net, pki, sent_alerts):
    root, inter, leaf, _ = pki
    croot = ch.make("Client Root CA", "ec", ca=True)
    cinter = ch.make("Client Intermediate CA", "ec", issuer=croot, ca=True, path_len=0)
    client = ch.make("client-01", "ec", issuer=cinter)
    srv = CertServer(net, [0xC0AE], local=[(leaf, True), (inter, False)], client_cas=[croot])
    crl = make_crl(cinter, revoked=[client])
    assert nxsecure_dtls_server_crl_add(srv.server, crl, len(crl)) == NX_SUCCESS
    session, sock = cert_client(net, [0xC0AE], trusted=[root],
                                local=[(client, True), (cinter, False)])
    assert connect(session, sock, srv) != NX_SUCCESS
    assert pump_until(lambda: srv.events.errors)
    assert srv.errors() == [NX_SECURE_X509_CRL_CERTIFICATE_REVOKED]
    assert ("server", 44) in sent_alerts
