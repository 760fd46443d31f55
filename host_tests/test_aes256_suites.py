"""The AES-256 suites (nxsecure/crypto/suites384.py) between our client and our server
over real UDP on 127.0.0.1: AES-256-GCM with SHA-384 (ECDHE-ECDSA, ECDHE-RSA, PSK:
RFC 5289, RFC 5487), AES-256-CCM and CCM_8 (ECDHE-ECDSA: RFC 7251; PSK: RFC 6655).
Each: handshake, data both ways, close; what was negotiated read with the getters; the
SHA-384 suites hash the handshake with SHA-384 (the transcript's hash, and a client
certificate's CertificateVerify signed with it). Against OpenSSL, GnuTLS and Mbed TLS:
the interop matrix (test_interop_matrix.py)."""
import pytest

import cert_helpers as ch
from dtls_helpers import suite_of
from nxsecure import *  # noqa: F401,F403
from nxsecure.session_info import *  # noqa: F401,F403
from nxsecure.crypto import suites384
from test_certificates import CertServer, cert_client, connect, echo_and_close, pump_until, x509_cert

NEW = {
    0xC02C: ("ec", True), 0xC030: ("rsa", True), 0x00A9: ("psk", True),
    0xC0AD: ("ec", False), 0xC0AF: ("ec", False), 0xC0A5: ("psk", False), 0xC0A9: ("psk", False),
}
NAMES = {0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
         0x00A9: "PSK-AES256-GCM-SHA384", 0xC0AD: "ECDHE-ECDSA-AES256-CCM",
         0xC0AF: "ECDHE-ECDSA-AES256-CCM8", 0xC0A5: "PSK-AES256-CCM", 0xC0A9: "PSK-AES256-CCM8"}


@pytest.fixture(scope="module")
def chains():
    return {"ec": ch.chain("ec"), "rsa": ch.chain("rsa")}


def _pair(net, chains, suite, client_ca=None):
    kind, _ = NEW[suite]
    if kind == "psk":
        srv = CertServer(net, [suite], psk=True)
        session, sock = cert_client(net, [suite], psk=True, remote_size=0, certs_number=0)
    else:
        root, inter, leaf = chains[kind]
        srv = CertServer(net, [suite], local=[(leaf, True), (inter, False)],
                         client_cas=client_ca)
        session, sock = cert_client(net, [suite], trusted=[root])
    return srv, session, sock


@pytest.mark.parametrize("suite", list(NEW), ids=[NAMES[s] for s in NEW])
def test_aes256_suite_handshake_data_and_close(net, chains, suite):
    srv, session, sock = _pair(net, chains, suite)
    assert connect(session, sock, srv) == NX_SUCCESS
    assert suite_of(session) == suite and suite_of(srv.session()) == suite
    assert nxsecure_dtls_session_ciphersuite_get(session) == (NX_SUCCESS, suite)
    assert nxsecure_dtls_session_extended_master_secret_get(session) == (NX_SUCCESS, 1)
    sha384 = NEW[suite][1]
    for s in (session, srv.session()):
        assert getattr(s._engine.transcript, "hash_name", "sha256") == \
            ("sha384" if sha384 else "sha256")
        assert s._engine.suite.nx_secure_tls_session_key_size == 32
    echo_and_close(net, session, srv, b"aes-256 " + NAMES[suite].encode())
    # the next handshake of the same session starts on SHA-256 again (its suite is
    # not known until the ServerHello): a reset gives the engine its transcript back
    assert nx_secure_dtls_session_reset(session) == NX_SUCCESS
    assert getattr(session._engine.transcript, "hash_name", "sha256") == "sha256"


@pytest.mark.parametrize("suite", [0xC02C, 0xC030])
def test_client_certificate_signed_with_the_sha384_transcript(net, chains, suite):
    croot = ch.make("Client Root CA", "ec", ca=True)
    cleaf = ch.make("client-01", "ec", issuer=croot)
    srv, session, sock = _pair(net, chains, suite, client_ca=[croot])
    assert nx_secure_dtls_session_local_certificate_add(session, x509_cert(cleaf, True),
                                                        1) == NX_SUCCESS
    assert connect(session, sock, srv) == NX_SUCCESS
    assert session._engine.sign_alg == 0x0503                   # ecdsa_secp384r1_sha384
    assert pump_until(lambda: srv.session()._engine.state == 20)
    st, chain = nxsecure_dtls_session_remote_chain_get(srv.session())
    assert [bytes(d) for d in chain] == [cleaf.der]


def test_a_sha384_suite_and_a_sha256_one_in_one_table(net, chains):
    """The client offers both; the server prefers the SHA-384 one, then the SHA-256 one
    once the SHA-384 one is gone from its table: the transcript follows the suite."""
    root, inter, leaf = chains["ec"]
    for server_suites, want in (([0xC02C, 0xC02B], 0xC02C), ([0xC02B], 0xC02B)):
        srv = CertServer(net, server_suites, local=[(leaf, True), (inter, False)])
        session, sock = cert_client(net, [0xC02B, 0xC02C], trusted=[root])
        assert connect(session, sock, srv) == NX_SUCCESS
        assert suite_of(session) == want
        echo_and_close(net, session, srv, b"mixed table")


def test_the_default_table_has_the_certificate_ones_after_their_kin():
    rows = [r.nx_secure_tls_ciphersuite for r in
            nx_crypto_tls_ciphers.nx_secure_tls_ciphersuite_lookup_table]
    for s in (0xC0AF, 0xC0AD, 0xC02C, 0xC030):
        assert s in rows
    assert rows.index(0xC0AF) == rows.index(0xC0AE) + 1
    assert rows.index(0xC030) == rows.index(0xC02F) + 1
    # the PSK ones only in a table that names them: a PSK ClientHello stays as it was
    for s in (0x00A9, 0xC0A5, 0xC0A9):
        assert s not in rows
