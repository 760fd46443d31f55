# Credentials in the formats people have and the host name a client checks, on a board
# as on the host (pytest, and the MicroPython runner: plain asserts). The chain and keys
# are test_dtls_ecdsa_memory's (ROOT "nxsecure Test Root" -> LEAF "sensor-gw.example",
# P-256); LEAF_KEY_P8 is LEAF's key as PKCS#8 (what `openssl genpkey` writes), OTHER_P8
# another P-256 key (scalar 0x1234...cdef), both written once with pyca.
#   - PEM and DER certificates and chains, SEC 1 and PKCS#8 keys in DER and PEM;
#   - a key that is not the certificate's refused when the certificate is added;
#   - NX_SECURE_X509_DNS_NAME and a named client over an in-memory link: the right name
#     connects, another one fails with the NetX code, the flags say why, the server
#     learns the alert, and the getters report what was negotiated.
from binascii import unhexlify

from nxsecure import *
from nxsecure.x509 import *
from nxsecure.x509.pem import pem_encode, private_key_der
from nxsecure.sni import nxsecure_dtls_session_sni_extension_set
from nxsecure.session_info import *

from test_dtls_ecdsa_memory import (ROOT_DER, LEAF_DER, LEAF_KEY_DER, FIXED_NOW, CertPair)

LEAF_KEY_P8 = unhexlify(
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042083b627c5fe30150f"
    "f0c60fee44ee090d046866ccec641c5e1cfd9d0fba3ac0a9a14403420004281a00c55f2c18be777b37e17761"
    "afea7f6eb2e0fbb51c86a3ac0482195d847091132377401a85e42b648125e8c55a0c8d1fbdeeb393109fe0fa"
    "67280d0d5d93")
LEAF_KEY_P8_PEM = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg7Ynxf4wFQ/wxg/u\n"
    b"RO4JDQRoZszsZBxeHP2dD7o6wKmhRANCAAQoGgDFXywYvnd7N+F3Ya/qf26y4Pu1\n"
    b"HIajrASCGV2EcJETI3dAGoXkK2SBJejFWgyNH73us5MQn+D6ZygNDV2T\n"
    b"-----END PRIVATE KEY-----\n")
OTHER_P8 = unhexlify(
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104201234567890abcdef"
    "1234567890abcdef1234567890abcdef1234567890abcdefa14403420004471c3e758c4904285bba7e53118e"
    "d0f524adeb0757d25bd2f8e7b0d76dfa714cdd520f7aca8a8b917acc37f51de8f0c9bbe3ad858382e702dc25"
    "a12d09f7a858")


def _der(cert):
    return bytes(cert.nx_secure_x509_certificate_data[:cert.nx_secure_x509_certificate_data_length])


def test_dns_name_initialize():
    d = NX_SECURE_X509_DNS_NAME()
    assert nx_secure_x509_dns_name_initialize(d, b"sensor-gw.example", 17) == NX_SUCCESS
    assert d.name() == b"sensor-gw.example" and d.nx_secure_x509_dns_name_length == 17
    assert nx_secure_x509_dns_name_initialize(d, "gw", 2) == NX_SUCCESS and d.name() == b"gw"
    long_name = b"a" * (NX_SECURE_X509_DNS_NAME_MAX + 1)
    assert nx_secure_x509_dns_name_initialize(d, long_name, len(long_name)) == \
        NX_SECURE_X509_NAME_STRING_TOO_LONG
    assert d.name() == b"gw"                         # unchanged
    assert nx_secure_x509_dns_name_initialize(None, b"x", 1) == NX_PTR_ERROR
    assert nx_secure_x509_dns_name_initialize(d, b"x", 2) == NX_INVALID_PARAMETERS


def test_pem_and_der_certificates_and_chains():
    leaf_pem = pem_encode(LEAF_DER)
    root_pem = pem_encode(ROOT_DER)
    assert leaf_pem.startswith("-----BEGIN CERTIFICATE-----\n")
    for data in (leaf_pem, LEAF_DER, "text before\n" + leaf_pem + root_pem, LEAF_DER + ROOT_DER):
        c = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(c, data, len(data)) == NX_SUCCESS
        assert _der(c) == LEAF_DER
    for data in (leaf_pem + root_pem, LEAF_DER + ROOT_DER):
        certs = [NX_SECURE_X509_CERT(), NX_SECURE_X509_CERT()]
        assert nxsecure_x509_chain_load(certs, data, len(data)) == (NX_SUCCESS, 2)
        assert _der(certs[0]) == LEAF_DER and _der(certs[1]) == ROOT_DER
        assert nxsecure_x509_chain_load(certs[:1], data, len(data)) == (
            NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE, 0)
    bad = leaf_pem.replace("M", "*", 3)
    assert nxsecure_x509_certificate_load(NX_SECURE_X509_CERT(), bad, len(bad)) == \
        NX_SECURE_X509_INVALID_CERTIFICATE_DATA
    assert nxsecure_x509_certificate_load(NX_SECURE_X509_CERT(), b"\x30\x05\x02",
                                          3) != NX_SUCCESS


def test_keys_in_every_format():
    ec_der = NX_SECURE_X509_KEY_TYPE_EC_DER
    assert private_key_der(LEAF_KEY_DER) == (NX_SUCCESS, LEAF_KEY_DER, ec_der)
    assert private_key_der(LEAF_KEY_P8) == (NX_SUCCESS, LEAF_KEY_P8, ec_der)
    assert private_key_der(LEAF_KEY_P8_PEM) == (NX_SUCCESS, LEAF_KEY_P8, ec_der)
    sec1_pem = pem_encode(LEAF_KEY_DER, "EC PRIVATE KEY")
    assert private_key_der(sec1_pem) == (NX_SUCCESS, LEAF_KEY_DER, ec_der)
    # the NetX service itself unwraps PKCS#8
    c = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(c, LEAF_DER, len(LEAF_DER), None, 0,
                                                 LEAF_KEY_P8, len(LEAF_KEY_P8),
                                                 ec_der) == NX_SUCCESS
    assert nx_secure_x509_certificate_initialize(
        c, LEAF_DER, len(LEAF_DER), None, 0, LEAF_KEY_P8, len(LEAF_KEY_P8),
        NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER) == NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE
    for key in (LEAF_KEY_DER, LEAF_KEY_P8, LEAF_KEY_P8_PEM, sec1_pem):
        c = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(c, LEAF_DER, len(LEAF_DER), key,
                                              len(key)) == NX_SUCCESS


def _connect(p, name):
    if name is not None:
        d = NX_SECURE_X509_DNS_NAME()
        assert nx_secure_x509_dns_name_initialize(d, name, len(name)) == NX_SUCCESS
        assert nxsecure_dtls_session_sni_extension_set(p.client, d) == NX_SUCCESS
    return p.connect()


def test_a_key_that_is_not_the_certificates_is_refused_when_added():
    p = CertPair()
    try:
        c = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(c, LEAF_DER, len(LEAF_DER), OTHER_P8,
                                              len(OTHER_P8)) == NX_SUCCESS
        assert nx_secure_dtls_server_local_certificate_add(p.server, c, 2) == \
            NX_SECURE_X509_PRIVATE_KEY_MISMATCH
        assert nx_secure_dtls_session_local_certificate_add(p.client, c, 1) == \
            NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    finally:
        p.close()


def test_named_client_connects_to_its_server_and_reads_what_was_negotiated():
    nx_secure_x509_time_function_set(lambda: FIXED_NOW)
    try:
        p = CertPair()
        try:
            st = _connect(p, b"sensor-gw.example")
            assert st == NX_SUCCESS, p.why(st)
            s = p.client
            assert nxsecure_dtls_session_ciphersuite_get(s) == (NX_SUCCESS, 0xC0AE)
            assert nxsecure_dtls_session_protocol_version_get(s) == (NX_SUCCESS, 0xFEFD)
            assert nxsecure_dtls_session_key_exchange_group_get(s) == (NX_SUCCESS, 23)
            assert nxsecure_dtls_session_extended_master_secret_get(s) == (NX_SUCCESS, 1)
            assert nxsecure_dtls_session_certificate_flags_get(s) == (NX_SUCCESS, 0)
            st, chain = nxsecure_dtls_session_remote_chain_get(s)
            assert st == NX_SUCCESS and [bytes(d) for d in chain] == [LEAF_DER]
            assert nxsecure_dtls_session_remote_chain_pem_get(s) == (NX_SUCCESS,
                                                                     pem_encode(LEAF_DER))
        finally:
            p.close()
    finally:
        nx_secure_x509_time_function_set(None)


def test_named_client_refuses_another_host_and_the_server_hears_why():
    nx_secure_x509_time_function_set(lambda: FIXED_NOW)
    try:
        p = CertPair()
        try:
            st = _connect(p, b"other.example")
            assert st == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH, p.why(st)
            assert nxsecure_dtls_session_certificate_flags_get(p.client) == (
                NX_SUCCESS, NXSECURE_CERT_BAD_IDENTITY)
            for _ in range(50):
                if p.errors:
                    break
                tx_thread_sleep(1)
            assert p.errors == [NX_SECURE_TLS_ALERT_RECEIVED]
            server_session = p.server._sessions[0]
            assert nxsecure_dtls_session_alert_value_get(server_session) == (NX_SUCCESS, 2, 42)
        finally:
            p.close()
    finally:
        nx_secure_x509_time_function_set(None)
