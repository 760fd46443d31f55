# An ECDHE-ECDSA P-256 handshake (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, 0xC0AE) between
# our client and our server in one interpreter over an in-memory link (nxsecure.port.memnet), in
# the shape of the guide's Figures 1.1/1.2: the server's identity certificate with its
# key (nx_secure_x509_certificate_initialize + nx_secure_dtls_server_local_certificate_add),
# the client's trusted CA and remote certificate space. Runs under pytest (pyca public-key
# backend) and on real MicroPython (the portable P-256 code): plain asserts, no pytest.
# It prints the handshake time (time.ticks_ms) and, on MicroPython, gc.mem_alloc() before
# and after; the runner adds each test's allocation and the peak heap.
#
# The certificates were made once with pyca/cryptography (P-256, ECDSA-SHA256):
# ROOT "CN=nxsecure Test Root", CA, keyCertSign|cRLSign, subjectKeyIdentifier,
#      2025-01-01 .. 2045-01-01;
# LEAF "CN=sensor-gw.example" issued by ROOT, same validity, CA false,
#      digitalSignature|keyAgreement, SAN DNS sensor-gw.example, subject and
#      authority key identifiers;
# LEAF_KEY_DER its SEC 1 (RFC 5915) EC private key.
# The WebAssembly build has no clock, so the test installs a fixed time inside the
# validity window with nx_secure_x509_time_function_set and removes it afterwards.
from binascii import unhexlify

from nxsecure import port
from nxsecure import *
from nxsecure.x509 import *

from dtls_pair import Pair, SERVER_PORT, heap, ticks_ms, ticks_diff
FIXED_NOW = 1893456000          # 2030-01-01T00:00:00Z, inside 2025..2045
BEFORE_VALIDITY = 1704067200    # 2024-01-01T00:00:00Z

ROOT_DER = unhexlify(
    "3082017d30820124a0030201020214199bbe2b2a736bda2b803626010e46905bd34561300a06082a8648ce3d"
    "040302301d311b301906035504030c126e78736563757265205465737420526f6f74301e170d323530313031"
    "3030303030305a170d3435303130313030303030305a301d311b301906035504030c126e7873656375726520"
    "5465737420526f6f743059301306072a8648ce3d020106082a8648ce3d0301070342000477f4a2a1f1a8a1bc"
    "8707229128df84cf23730083f3ec9e8d9479159144b24dc51c65bdb01c037fb547be6a9da51263a84bfa7298"
    "b072afdb2fadff8b258712e8a3423040300f0603551d130101ff040530030101ff300e0603551d0f0101ff04"
    "0403020106301d0603551d0e0416041496939e5bb8d2a59732dbecca839c916473d2a58a300a06082a8648ce"
    "3d0403020347003044022042160b1018fbc1bc32e9865b0802df9ac19e264705db3c50328f69dc29095ebe02"
    "204277856c3b2014a79380dcc90dc4d1756c8fe90b38d5866ff43710ef8e3ca1fd")
LEAF_DER = unhexlify(
    "308201ba3082015fa00302010202141ddf28eaeb275b158a8810219c3935795357d645300a06082a8648ce3d"
    "040302301d311b301906035504030c126e78736563757265205465737420526f6f74301e170d323530313031"
    "3030303030305a170d3435303130313030303030305a301c311a301806035504030c1173656e736f722d6777"
    "2e6578616d706c653059301306072a8648ce3d020106082a8648ce3d03010703420004281a00c55f2c18be77"
    "7b37e17761afea7f6eb2e0fbb51c86a3ac0482195d847091132377401a85e42b648125e8c55a0c8d1fbdeeb3"
    "93109fe0fa67280d0d5d93a37e307c300c0603551d130101ff04023000300e0603551d0f0101ff0404030203"
    "88301c0603551d1104153013821173656e736f722d67772e6578616d706c65301d0603551d0e04160414bc70"
    "886d146b3f8ff7bc520b2be73a876e43e308301f0603551d2304183016801496939e5bb8d2a59732dbecca83"
    "9c916473d2a58a300a06082a8648ce3d0403020349003046022100a5d6050e778831466c5476b9796fb7e44a"
    "cb6c9ccaaa73a0681ac93e7e38c74a0221009306897e0ceded6bb5bf0a3a7143124eb620316054115f81f0c6"
    "51667439ff2f")
LEAF_KEY_DER = unhexlify(
    "3077020101042083b627c5fe30150ff0c60fee44ee090d046866ccec641c5e1cfd9d0fba3ac0a9a00a06082a"
    "8648ce3d030107a14403420004281a00c55f2c18be777b37e17761afea7f6eb2e0fbb51c86a3ac0482195d84"
    "7091132377401a85e42b648125e8c55a0c8d1fbdeeb393109fe0fa67280d0d5d93"
)


class CertPair(Pair):
    """One server session and one client, authenticated with certificates."""

    def __init__(self, suite=TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8):
        Pair.__init__(self, suite, sessions=1, reassembly=2048, remote_cert_space=2 * 1000)

    def server_credentials(self):
        # Figure 1.2: the server's identity certificate and key
        self.server_cert = NX_SECURE_X509_CERT()
        assert nx_secure_x509_certificate_initialize(
            self.server_cert, LEAF_DER, len(LEAF_DER), None, 0, LEAF_KEY_DER,
            len(LEAF_KEY_DER), NX_SECURE_X509_KEY_TYPE_EC_DER) == NX_SUCCESS
        assert nx_secure_dtls_server_local_certificate_add(self.server, self.server_cert,
                                                           1) == NX_SUCCESS

    def client_credentials(self):
        # Figure 1.1: a trusted CA (the remote certificate space came with the session)
        self.ca = NX_SECURE_X509_CERT()
        assert nx_secure_x509_certificate_initialize(
            self.ca, ROOT_DER, len(ROOT_DER), None, 0, None, 0,
            NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
        assert nx_secure_dtls_session_trusted_certificate_add(self.client, self.ca,
                                                              1) == NX_SUCCESS

    def connect(self, ticks=3000):
        return Pair.connect(self, ticks)


def test_ecdhe_ecdsa_p256_ccm8_handshake_data_close():
    nx_secure_x509_time_function_set(lambda: FIXED_NOW)
    try:
        heap0 = heap()
        p = CertPair()
        heap1 = heap()
        try:
            t0 = ticks_ms()
            st = p.connect()
            ms = ticks_diff(ticks_ms(), t0)
            heap2 = heap()
            # gc.mem_alloc() on MicroPython (0 on CPython); the runner holds the GC off
            # during a test, so the last figure is the allocation volume so far
            print("ecdhe-ecdsa p-256 ccm8 handshake: %d ms; gc.mem_alloc: %d before setup, "
                  "%d after setup, %d after handshake" % (ms, heap0, heap1, heap2))
            assert st == NX_SUCCESS, p.why(st)
            assert p.client._engine.suite.nx_secure_tls_ciphersuite == 0xC0AE
            assert p.client._engine.group == 23           # secp256r1 (RFC 8422)
            assert len(p.connects) == 1 and p.errors == []
            p.echoes()
        finally:
            st = p.close()
        assert st == NX_SUCCESS
        assert len(p.disconnects) == 1
        assert p.errors == []
    finally:
        nx_secure_x509_time_function_set(None)


def test_ecdhe_ecdsa_rejects_a_certificate_not_yet_valid():
    # The same chain one year before its notBefore: our client refuses it with the NetX
    # code and the server is told by a certificate_expired alert (RFC 5246 7.2.2).
    nx_secure_x509_time_function_set(lambda: BEFORE_VALIDITY)
    try:
        p = CertPair()
        try:
            st = p.connect()
            assert st == NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID, p.why(st)
            for _ in range(50):
                if p.errors:
                    break
                tx_thread_sleep(1)
            assert p.errors == [NX_SECURE_TLS_ALERT_RECEIVED]
        finally:
            p.close()
    finally:
        nx_secure_x509_time_function_set(None)
