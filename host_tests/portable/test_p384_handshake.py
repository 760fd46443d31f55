# P-384 in both roles on a board as on the host (pytest, and the MicroPython runner: plain
# asserts): ECDHE over secp384r1 (RFC 8422 5.1.1) with an ECDSA P-384 chain signed with
# SHA-384, between our client and our server in one interpreter over an in-memory link
# (nxsecure.port.memnet), data both ways, then close:
#   - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 with a client certificate too: the server
#     signs its ECDHE parameters and the client its CertificateVerify (over the SHA-384
#     transcript) with P-384 keys, each end verifies the other's ECDSA-SHA384 chain; the
#     client asks for secp384r1 alone (nx_secure_dtls_ecc_initialize);
#   - TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (SHA-256 PRF and transcript) with the server
#     preferring secp384r1 (nx_secure_dtls_server_ecc_initialize) to the client's
#     default offer.
# MicroPython's hashlib has no SHA-384: the certificate signatures, the SHA-384 suite's
# PRF and transcript and the RFC 6979 nonces come from crypto/sha512.py there. Prints
# each handshake's time and, on MicroPython, gc.mem_alloc() around it.
#
# The certificates were made once with pyca/cryptography (python -m nxsecure ca/cert
# issues P-256 only), ECDSA-SHA384 signatures, validity 2025-01-01 .. 2045-01-01:
# P384_ROOT "CN=nxsecure Test Root P-384", P-384, CA, keyCertSign|cRLSign,
#     subjectKeyIdentifier;
# P384_LEAF "CN=sensor-gw.example" issued by P384_ROOT, P-384, CA false,
#     digitalSignature|keyAgreement, extKeyUsage serverAuth, SAN DNS sensor-gw.example,
#     subject and authority key identifiers; P384_LEAF_KEY_DER its SEC 1 key;
# P384_CLIENT "CN=client-01" issued by P384_ROOT, the same but clientAuth and no SAN;
#     P384_CLIENT_KEY_DER its SEC 1 key.
# The WebAssembly build has no clock: the tests run at a fixed time inside the validity
# window (dtls_pair.at_time).
from binascii import unhexlify

from nxsecure import *
from nxsecure.x509 import *
from nxsecure.session_info import *
import nxsecure.crypto.suites384 as S

from dtls_pair import Pair, at_time, certificate, heap, ticks_ms, ticks_diff

FIXED_NOW = 1893456000          # 2030-01-01T00:00:00Z, inside 2025..2045
SECP256R1 = 23
SECP384R1 = 24                  # RFC 8422 5.1.1
ECDSA_SECP384R1_SHA384 = 0x0503  # RFC 5246 7.4.1.4.1: hash sha384 (5), signature ecdsa (3)

P384_ROOT_DER = unhexlify(
    "308201c73082014da0030201020214335440c0be5cf38b8497a521d55e9718db1ccb75300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a30233121301f06035504030c186e7873"
    "6563757265205465737420526f6f7420502d3338343076301006072a8648ce3d020106052b81040022036200"
    "040300baa33c9c1f2b0efcab00b6a19447b9d1b900bb88171bcd5d3d3eb50350cf2c15f8cf49f168740a3cb4"
    "1a7427ae02296facaf6c3da3447810d44449c6e138cd05f33a3896de368956a39ef16fcd78ec0bccd3b75743"
    "2801a8a86901eaae12a3423040300f0603551d130101ff040530030101ff300e0603551d0f0101ff04040302"
    "0106301d0603551d0e041604141b09a1e697fd2e58be17a5f1b7cdf7446a31e6c8300a06082a8648ce3d0403"
    "030368003065023100e324b7d16feb00463b0a87557371317d2c0f2e27e1d1f9cdc6a6bd67b894e48bfa5e93"
    "0b01d0cf3ed2138fb3d0bf355702303edd2b07c20616608182120cad468bef2f76a24d02a9fa4c457c3a05f6"
    "cf1d6dd050d91884938d20ae2ca31b6611cd30")
P384_LEAF_DER = unhexlify(
    "3082021330820199a0030201020214266cf636fe191674840ef3bc4c046ec0386fc955300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a301c311a301806035504030c1173656e"
    "736f722d67772e6578616d706c653076301006072a8648ce3d020106052b8104002203620004da474d16d347"
    "d743c1fb894abc314544a1b6efc32704d0f61c644f932a7fb1f8c3365a06cfa488451c2e45c0597fbb97e4a2"
    "85354f831397d466c7a9d32b305c64263a5e638b0499c198b4d86fbda554da88aed1bb00ce0b228a57c819c5"
    "bfdca38194308191300c0603551d130101ff04023000300e0603551d0f0101ff04040302038830130603551d"
    "25040c300a06082b06010505070301301d0603551d0e04160414eda2a0a0e8abc0ba12be4db7e6994fe4f5b6"
    "e30b301f0603551d230418301680141b09a1e697fd2e58be17a5f1b7cdf7446a31e6c8301c0603551d110415"
    "3013821173656e736f722d67772e6578616d706c65300a06082a8648ce3d0403030368003065023100c40fe0"
    "4e9a0601b50d359616cf937bf2a466a01985614ade77873c63b46816728690a178f5370906b0e3d54482bcb7"
    "4b023012d3ba665c4c750c6bf1d5f835d5d3fa71f7e4fc6c39a4e5fc557bdab4764ad9308b645d43cf957783"
    "4a69271ed50f42")
P384_LEAF_KEY_DER = unhexlify(
    "3081a402010104300a7c7ece18d2dee2bfef4752f16329ffd6d89ce5724908e632b64992939e4d50e14876e9"
    "c566ef7b2a8d3e50f904a3bca00706052b81040022a16403620004da474d16d347d743c1fb894abc314544a1"
    "b6efc32704d0f61c644f932a7fb1f8c3365a06cfa488451c2e45c0597fbb97e4a285354f831397d466c7a9d3"
    "2b305c64263a5e638b0499c198b4d86fbda554da88aed1bb00ce0b228a57c819c5bfdc")
P384_CLIENT_DER = unhexlify(
    "308201eb30820171a0030201020214069dd648002d6f75dabf9c87aefc75e2a709b7d9300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a30143112301006035504030c09636c69"
    "656e742d30313076301006072a8648ce3d020106052b8104002203620004e0814f9eb9f0d1f49d61696767a6"
    "d9cae06cee025d6bb7eca941245c757f2bc5e85f8aace044a4a251fcf41b3794198b2e833fbd578b3926c858"
    "5fff080381a8d496e83b67a6a04d3f496bd626d895ca0fb126056d67bf210fbda402b16b6101a3753073300c"
    "0603551d130101ff04023000300e0603551d0f0101ff04040302038830130603551d25040c300a06082b0601"
    "0505070302301d0603551d0e04160414c5beab21b1ab821a4bd529bff6a831a36772e83d301f0603551d2304"
    "18301680141b09a1e697fd2e58be17a5f1b7cdf7446a31e6c8300a06082a8648ce3d04030303680030650231"
    "00fe9839afe5ebdb83e02a38c9c34b22cc9b9e921336dcaee2e682d3c3127f644c830fc3f63ea748e3f7326d"
    "7c8886da36023054670754f3e51645567c3bf12f458f5ef5837b885dad68834f09dd4e034de6ee41adbec680"
    "b25833528e7a4efea4023d")
P384_CLIENT_KEY_DER = unhexlify(
    "3081a40201010430e55f35368378ebf2209c45b9387874fedd95cbe646ba093bbd44970a66ee156bcfddf6f0"
    "1c454f6bfa2429a027f548caa00706052b81040022a16403620004e0814f9eb9f0d1f49d61696767a6d9cae0"
    "6cee025d6bb7eca941245c757f2bc5e85f8aace044a4a251fcf41b3794198b2e833fbd578b3926c8585fff08"
    "0381a8d496e83b67a6a04d3f496bd626d895ca0fb126056d67bf210fbda402b16b6101")


class P384Pair(Pair):
    """One server session and one client with the P-384 chain; with client_cert the
    server asks for the client's certificate and trusts the same root."""

    def __init__(self, suite, client_cert):
        self.client_cert = client_cert
        Pair.__init__(self, suite, sessions=1, reassembly=2048, remote_cert_space=2 * 1000)

    def server_credentials(self):
        self.server_cert = certificate(P384_LEAF_DER, P384_LEAF_KEY_DER)
        assert nx_secure_dtls_server_local_certificate_add(self.server, self.server_cert,
                                                           1) == NX_SUCCESS
        if self.client_cert:
            self.server_ca = certificate(P384_ROOT_DER)
            assert nx_secure_dtls_server_trusted_certificate_add(self.server, self.server_ca,
                                                                 1) == NX_SUCCESS
            self.client_chain_space = bytearray(1000)
            assert nx_secure_dtls_server_x509_client_verify_configure(
                self.server, 1, self.client_chain_space, 1000) == NX_SUCCESS

    def client_credentials(self):
        self.ca = certificate(P384_ROOT_DER)
        assert nx_secure_dtls_session_trusted_certificate_add(self.client, self.ca,
                                                              1) == NX_SUCCESS
        if self.client_cert:
            self.own = certificate(P384_CLIENT_DER, P384_CLIENT_KEY_DER)
            assert nx_secure_dtls_session_local_certificate_add(self.client, self.own,
                                                                1) == NX_SUCCESS


@at_time(FIXED_NOW)
def _handshake(suite, client_cert, groups_of, transcript):
    """A P-384 handshake with `suite`; groups_of "client": the client offers secp384r1
    alone, "server": the server prefers it. Checks both ends, echoes data, closes."""
    heap0 = heap()
    p = P384Pair(suite, client_cert)
    try:
        if groups_of == "client":
            assert nx_secure_dtls_ecc_initialize(p.client, [SECP384R1], 1, None) == NX_SUCCESS
        else:
            assert nx_secure_dtls_server_ecc_initialize(
                p.server, [SECP384R1, SECP256R1], 2, None) == NX_SUCCESS
        heap1 = heap()
        t0 = ticks_ms()
        st = p.connect(6000)
        ms = ticks_diff(ticks_ms(), t0)
        print("p-384 0x%04X handshake: %d ms; gc.mem_alloc: %d before setup, %d after "
              "setup, %d after handshake" % (suite, ms, heap0, heap1, heap()))
        assert st == NX_SUCCESS, p.why(st)
        server = p.server._sessions[0]
        for s in (p.client, server):
            assert nxsecure_dtls_session_ciphersuite_get(s) == (NX_SUCCESS, suite)
            assert nxsecure_dtls_session_key_exchange_group_get(s) == (NX_SUCCESS, SECP384R1)
            assert getattr(s._engine.transcript, "hash_name", "sha256") == transcript
        # the client verified the server's P-384 chain (and the server the client's)
        assert p.client._engine.peer_key.curve == SECP384R1
        assert nxsecure_dtls_session_certificate_flags_get(p.client) == (NX_SUCCESS, 0)
        st, chain = nxsecure_dtls_session_remote_chain_get(p.client)
        assert st == NX_SUCCESS and [bytes(d) for d in chain] == [P384_LEAF_DER]
        if client_cert:
            assert p.client._engine.sign_alg == ECDSA_SECP384R1_SHA384
            assert server._engine.peer_key.curve == SECP384R1
            assert nxsecure_dtls_session_certificate_flags_get(server) == (NX_SUCCESS, 0)
            st, chain = nxsecure_dtls_session_remote_chain_get(server)
            assert st == NX_SUCCESS and [bytes(d) for d in chain] == [P384_CLIENT_DER]
        p.echoes()
    finally:
        st = p.close()
    assert st == NX_SUCCESS
    assert len(p.disconnects) == 1
    assert p.errors == []


def test_p384_aes256_gcm_sha384_certificates_both_ways_client_asks_for_secp384r1():
    _handshake(S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, True, "client", "sha384")


def test_p384_aes128_ccm8_server_prefers_secp384r1():
    _handshake(TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, False, "server", "sha256")
