# A server that picks its certificate by the name its client asks for (server_name, RFC
# 6066 3), the host name the client checks (RFC 6125 6.4), and what each end learns when
# a handshake fails on an alert, on a board as on the host (pytest, and the MicroPython
# runner: plain asserts), between our client and our server in one interpreter over an
# in-memory link (nxsecure.port.memnet), one pair at a time (TLS_ECDHE_ECDSA_WITH_AES_128
# _CCM_8):
#   - the server holds two identity certificates, a.example's and b.example's: a client
#     that names one of them gets that one, a client that names none gets the first;
#   - a client that names a host neither certificate is issued to refuses the server's
#     with NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH and NXSECURE_CERT_BAD_IDENTITY, and
#     the server's error_notify learns the bad_certificate alert it received;
#   - a server whose callback refuses the name: the client learns the handshake_failure
#     alert it received.
# The server's error_notify reads nxsecure_dtls_session_alert_value_get inside the
# callback, as an application does.
#
# The credentials were made once with the project's own tool (P-256, ECDSA-SHA256,
# validity 2026-12-06 .. 2046-12-01):
#   python -m nxsecure ca --name "nxsecure Test Root SNI" --days 7300 --out DIR
#   python -m nxsecure cert --name a.example --dns a.example --usage server --days 7300
#       --ca-dir DIR --out DIR      (and the same for b.example)
# SNI_ROOT_DER is DIR/ca.der, A_DER and A_KEY_DER a.example.der and a.example.key.der
# (SEC 1); B_PEM and B_KEY_PEM are b.example.pem and b.example.key.pem as the tool wrote
# them (loaded with nxsecure_x509_certificate_load). The WebAssembly build has no clock:
# the tests run at a fixed time inside the validity window (dtls_pair.at_time).
from binascii import unhexlify

from nxsecure import *
from nxsecure.x509 import *
from nxsecure.sni import *
from nxsecure.session_info import *

from dtls_pair import Pair, at_time, certificate

FIXED_NOW = 1893456000          # 2030-01-01T00:00:00Z
AD_BAD_CERTIFICATE = 42          # RFC 5246 7.2.2
AD_HANDSHAKE_FAILURE = 40
FATAL = 2

SNI_ROOT_DER = unhexlify(
    "308201883082012fa00302010202141de2069c4efd75db0ed850041a7655dbd0aed90c300a06082a8648ce3d"
    "0403023021311f301d06035504030c166e78736563757265205465737420526f6f7420534e49301e170d3236"
    "313230363035353333305a170d3436313230313035353833305a3021311f301d06035504030c166e78736563"
    "757265205465737420526f6f7420534e493059301306072a8648ce3d020106082a8648ce3d03010703420004"
    "3d77a06d6b095796107a047e62b13ae99fbca88e78b8fa4e1821252dbcd8b672ddd42f449f18572e6990701e"
    "d5b311c0407291e93d9018508b7e1df574675190a345304330120603551d130101ff040830060101ff020100"
    "300e0603551d0f0101ff040403020106301d0603551d0e0416041481fe21f648ae1216ad75d1378d72dde8a0"
    "3f0fca300a06082a8648ce3d040302034700304402207d31f1942141835f0edc4dec0151e63af401df98e057"
    "26d591ccdb092c4f696b02207bd5937936a28c0e4a325d0071199f64df27dc084a862f9bad6cee945c06c9b3")
A_DER = unhexlify(
    "308201c23082016aa0030201020214058d04f1174014d351187215810231dc3b01cb3c300a06082a8648ce3d"
    "0403023021311f301d06035504030c166e78736563757265205465737420526f6f7420534e49301e170d3236"
    "313230363035353333305a170d3436313230313035353833305a30143112301006035504030c09612e657861"
    "6d706c653059301306072a8648ce3d020106082a8648ce3d03010703420004b426358425e912b236327a201f"
    "55164b1b81059aeefd12b6aa466d277473da21e4fc0c844bf63f5d8b98dce8e9e03dba2027aeb7961cafda17"
    "7bc3c64c456807a3818c308189300c0603551d130101ff04023000300e0603551d0f0101ff04040302038830"
    "130603551d25040c300a06082b06010505070301301d0603551d0e04160414a3126c0d547b912d820ca0ffe4"
    "d1fb28f5ec07a7301f0603551d2304183016801481fe21f648ae1216ad75d1378d72dde8a03f0fca30140603"
    "551d11040d300b8209612e6578616d706c65300a06082a8648ce3d04030203460030430220774c8b9b1b08e2"
    "92e500abe9703a6b6fd1004e8e1815cc80d50fac7e8c48d60d021f0ec6bb64db7b37ac0d2695fe24efb95d9c"
    "ad5c62491ace4d082fa82b113881")
A_KEY_DER = unhexlify(
    "3077020101042013fe1a08fec0df011d3d5377354ce2132190b795699a513636552e3fdc35399da00a06082a"
    "8648ce3d030107a14403420004b426358425e912b236327a201f55164b1b81059aeefd12b6aa466d277473da"
    "21e4fc0c844bf63f5d8b98dce8e9e03dba2027aeb7961cafda177bc3c64c456807")
B_PEM = (
    b"-----BEGIN CERTIFICATE-----\n"
    b"MIIBwzCCAWqgAwIBAgIUXBJzoLBN6ClZ5jy2ep1haJdib1owCgYIKoZIzj0EAwIw\n"
    b"ITEfMB0GA1UEAwwWbnhzZWN1cmUgVGVzdCBSb290IFNOSTAeFw0yNjEyMDYwNTUz\n"
    b"MzBaFw00NjEyMDEwNTU4MzBaMBQxEjAQBgNVBAMMCWIuZXhhbXBsZTBZMBMGByqG\n"
    b"SM49AgEGCCqGSM49AwEHA0IABKgnPeMoQVelNdDoHn8JQ9QFafFnMv37SX5c19hI\n"
    b"3e7eDNS3ZqZKkhDyP5ZxWf9N21geCwp6zXusSbatzGDlYLOjgYwwgYkwDAYDVR0T\n"
    b"AQH/BAIwADAOBgNVHQ8BAf8EBAMCA4gwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHQYD\n"
    b"VR0OBBYEFFxtJioJ98IhISUyqjH2CkBihAhUMB8GA1UdIwQYMBaAFIH+IfZIrhIW\n"
    b"rXXRN41y3eigPw/KMBQGA1UdEQQNMAuCCWIuZXhhbXBsZTAKBggqhkjOPQQDAgNH\n"
    b"ADBEAiB8vM5iqEkNqJRoiyv5Sj1HH22uTN6JIQPdzlFTH6+zpQIgNlt5k12DEM6e\n"
    b"FRwXMRoAqmQKu+EmCviEKyUCoAZ9DAg=\n"
    b"-----END CERTIFICATE-----\n")
B_KEY_PEM = (
    b"-----BEGIN EC PRIVATE KEY-----\n"
    b"MHcCAQEEIDoBr2Wt6+E0nkZypKeVhCtRs5goOBRR4WdkxSvCX3bUoAoGCCqGSM49\n"
    b"AwEHoUQDQgAEqCc94yhBV6U10OgefwlD1AVp8Wcy/ftJflzX2Ejd7t4M1LdmpkqS\n"
    b"EPI/lnFZ/03bWB4LCnrNe6xJtq3MYOVgsw==\n"
    b"-----END EC PRIVATE KEY-----\n")


def _der(cert):
    return bytes(cert.nx_secure_x509_certificate_data[:cert.nx_secure_x509_certificate_data_length])


class NamesPair(Pair):
    """One server session with both identity certificates, one client trusting their
    root and naming `name` (None: no name). errors: (code, what
    nxsecure_dtls_session_alert_value_get said inside error_notify)."""

    def __init__(self, name):
        Pair.__init__(self, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, sessions=1, reassembly=2048,
                      remote_cert_space=2 * 1000)
        if name is not None:
            d = NX_SECURE_X509_DNS_NAME()
            assert nx_secure_x509_dns_name_initialize(d, name, len(name)) == NX_SUCCESS
            assert nxsecure_dtls_session_sni_extension_set(self.client, d) == NX_SUCCESS

    def server_credentials(self):
        self.a = certificate(A_DER, A_KEY_DER)
        self.b = NX_SECURE_X509_CERT()
        assert nxsecure_x509_certificate_load(self.b, B_PEM, len(B_PEM), B_KEY_PEM,
                                              len(B_KEY_PEM)) == NX_SUCCESS
        assert nx_secure_dtls_server_local_certificate_add(self.server, self.a, 1) == NX_SUCCESS
        assert nx_secure_dtls_server_local_certificate_add(self.server, self.b, 2) == NX_SUCCESS

    def client_credentials(self):
        self.ca = certificate(SNI_ROOT_DER)
        assert nx_secure_dtls_session_trusted_certificate_add(self.client, self.ca,
                                                              1) == NX_SUCCESS

    def _error(self, session, code):
        self.errors.append((code, nxsecure_dtls_session_alert_value_get(session)))
        return NX_SUCCESS

    def wait_error(self):
        for _ in range(100):
            if self.errors:
                break
            tx_thread_sleep(1)
        return self.errors


def _served(name):
    """Connect a client naming `name`; -> the leaf it was given, checked on both ends."""
    p = NamesPair(name)
    try:
        st = p.connect(3000)
        assert st == NX_SUCCESS, p.why(st)
        assert nxsecure_dtls_session_certificate_flags_get(p.client) == (NX_SUCCESS, 0)
        st, chain = nxsecure_dtls_session_remote_chain_get(p.client)
        assert st == NX_SUCCESS and len(chain) == 1
        server = p.server._sessions[0]
        want = (NX_SUCCESS, name) if name else (NX_NOT_FOUND, None)
        assert nxsecure_dtls_session_server_name_get(p.client) == want
        assert nxsecure_dtls_session_server_name_get(server) == want
        assert p.echo(b"GET /name") == b"GET /name"
        leaf = bytes(chain[0])
    finally:
        st = p.close()
    assert st == NX_SUCCESS
    assert p.errors == []
    return leaf


@at_time(FIXED_NOW)
def test_server_gives_each_name_its_certificate():
    assert _served(b"a.example") == A_DER
    b = NX_SECURE_X509_CERT()
    assert nxsecure_x509_certificate_load(b, B_PEM, len(B_PEM)) == NX_SUCCESS
    assert _served(b"b.example") == _der(b)


@at_time(FIXED_NOW)
def test_unnamed_client_gets_the_first_certificate():
    assert _served(None) == A_DER


@at_time(FIXED_NOW)
def test_client_refuses_a_server_not_issued_to_its_name_and_the_server_hears_why():
    p = NamesPair(b"c.example")
    try:
        st = p.connect(3000)
        assert st == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH, p.why(st)
        assert nxsecure_dtls_session_certificate_flags_get(p.client) == (
            NX_SUCCESS, NXSECURE_CERT_BAD_IDENTITY)
        st, chain = nxsecure_dtls_session_remote_chain_get(p.client)
        assert st == NX_SUCCESS and [bytes(d) for d in chain] == [A_DER]   # the refused one
        assert nxsecure_dtls_session_alert_value_get(p.client) == (NX_NOT_FOUND, 0, 0)
        # the server's error_notify: the handshake ended on an alert, and which one
        assert p.wait_error() == [(NX_SECURE_TLS_ALERT_RECEIVED,
                                   (NX_SUCCESS, FATAL, AD_BAD_CERTIFICATE))]
    finally:
        p.close()


@at_time(FIXED_NOW)
def test_server_that_refuses_the_name_and_the_client_hears_why():
    p = NamesPair(b"c.example")
    seen = []

    def only_my_names(session, extensions, count):
        d = NX_SECURE_X509_DNS_NAME()
        st = nxsecure_dtls_session_sni_extension_parse(session, extensions, count, d)
        seen.append((st, d.name()))
        if st == NX_SUCCESS and d.name() in (b"a.example", b"b.example"):
            return NX_SUCCESS
        return NX_SECURE_TLS_SNI_EXTENSION_INVALID

    try:
        assert nxsecure_dtls_server_callback_set(p.server, only_my_names) == NX_SUCCESS
        st = p.connect(3000)
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        assert seen and seen[-1] == (NX_SUCCESS, b"c.example")
        # the client learns which alert ended its handshake
        assert nxsecure_dtls_session_alert_value_get(p.client) == (
            NX_SUCCESS, FATAL, AD_HANDSHAKE_FAILURE)
        # the server's error_notify: its own refusal, no alert received
        assert p.wait_error() == [(NX_SECURE_TLS_SNI_EXTENSION_INVALID, (NX_NOT_FOUND, 0, 0))]
    finally:
        p.close()
