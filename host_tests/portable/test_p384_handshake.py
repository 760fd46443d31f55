# P-384 in both roles on a board as on the host (pytest, and the MicroPython runner: plain
# asserts): ECDHE over secp384r1 (RFC 8422 5.1.1) with an ECDSA P-384 chain signed with
# SHA-384 (root -> intermediate -> the server's leaf, the server sending the leaf and the
# intermediate), between our client and our server in one interpreter over an in-memory link
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
# P384_INTERMEDIATE "CN=nxsecure Test Intermediate P-384" issued by P384_ROOT, P-384, CA
#     with pathLenConstraint 0, keyCertSign|cRLSign, subject and authority key identifiers;
# P384_LEAF "CN=sensor-gw.example" issued by P384_INTERMEDIATE, P-384, CA false,
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
    "308201c73082014da00302010202145ae4e2d557764bab45ce6975c00077fc03373a40300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a30233121301f06035504030c186e7873"
    "6563757265205465737420526f6f7420502d3338343076301006072a8648ce3d020106052b81040022036200"
    "04d72c115b21a785ad7941423cf13e57839126b85dea929387b0987cea3052a536bf8df1c4e102832def4aa6"
    "9ab691845ab6942573c0cb0c589f6b88e449020ce6d6a2ae8f853cc7bdd5b8d0b519f17c5f422a8cb6852307"
    "d82d32d7b3514a5732a3423040300f0603551d130101ff040530030101ff300e0603551d0f0101ff04040302"
    "0106301d0603551d0e041604140264dfd477c4d9f30fcd67019c7cb39f024cbc18300a06082a8648ce3d0403"
    "0303680030650230504168c9729105faea2cc3d31b6a0463e1b01e8cb8334b574e99b713b42c29b73c61e448"
    "a2c2b6c98988ab51e1917068023100c30f55443a553cc8eb26e3329080fecdbf9296e47194f83cc96b833916"
    "02459b3b9773bd0bcf1900872e5d424adbb2ca")
P384_INTERMEDIATE_DER = unhexlify(
    "308201f230820179a003020102021408479b779275f5cdd2fbe81408683d649ce4c756300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a302b3129302706035504030c206e7873"
    "6563757265205465737420496e7465726d65646961746520502d3338343076301006072a8648ce3d02010605"
    "2b81040022036200040f95dcc987a06c050f201a63c7a891384b779759d4e452e1b7c4f920d4e20b199fa6ae"
    "a64d19b947ef478acd51feb5651b192a2b29cd8e13d81a158893c2898bc5a6db88155e755ff526aa16e2b711"
    "3b191cdbc25af6cc0aba257963ada578fea366306430120603551d130101ff040830060101ff020100300e06"
    "03551d0f0101ff040403020106301d0603551d0e04160414bfb1bb35bfb0fdddc1da771382b4add3b4aceefd"
    "301f0603551d230418301680140264dfd477c4d9f30fcd67019c7cb39f024cbc18300a06082a8648ce3d0403"
    "03036700306402303855006947f8d134787e1a29f186fc2aaa006f1821c5044bfb157666d0a7085daac8592e"
    "82d176b9d11b6811f263ea19023028acb15d40d914a3aa858cbf4cd2620036225b899900f2419f24c31c88de"
    "a2cfb5d9968e4784affa37acaa9717a47b91")
P384_LEAF_DER = unhexlify(
    "3082021a308201a1a003020102021465cbab670c6a1563fc2f5d89ceb648985ec50f81300a06082a8648ce3d"
    "040303302b3129302706035504030c206e78736563757265205465737420496e7465726d6564696174652050"
    "2d333834301e170d3235303130313030303030305a170d3435303130313030303030305a301c311a30180603"
    "5504030c1173656e736f722d67772e6578616d706c653076301006072a8648ce3d020106052b810400220362"
    "0004f61f8c90a3bd6d77eb3735deb11a9a0907209f9232072ace481987626735f04abeffc2a7230cd0fddbdd"
    "044fdd52860ea1f1600024de70b74a9b188ac5539e52430ae621c3b50b7609e974a91d0ffb8a962ab905c579"
    "f2d227be88b902d5fc73a38194308191300c0603551d130101ff04023000300e0603551d0f0101ff04040302"
    "038830130603551d25040c300a06082b06010505070301301d0603551d0e04160414e033117b1ec7990d4898"
    "0c2086dc80721897967b301f0603551d23041830168014bfb1bb35bfb0fdddc1da771382b4add3b4aceefd30"
    "1c0603551d1104153013821173656e736f722d67772e6578616d706c65300a06082a8648ce3d040303036700"
    "306402304544ae57c78b23a25aca6d7418f59c30717854f2e24aaa5014425d13af6c0c6e8ba88e88d9d76b1a"
    "5c9de6c32751de2c023019d21f69cfa378b3a5f74904e1340f7bddfef4bc366c9220ad3a2888e0954b1be522"
    "8317ae85d2dc386400f10fe465dd")
P384_LEAF_KEY_DER = unhexlify(
    "3081a402010104302733a5aa29dbdef9c4981e071f2d575766dc4cc76edd27d3aaa5b2c21846eb8271d2be76"
    "f3a83bd0ff3a67bb91b0ec99a00706052b81040022a16403620004f61f8c90a3bd6d77eb3735deb11a9a0907"
    "209f9232072ace481987626735f04abeffc2a7230cd0fddbdd044fdd52860ea1f1600024de70b74a9b188ac5"
    "539e52430ae621c3b50b7609e974a91d0ffb8a962ab905c579f2d227be88b902d5fc73")
P384_CLIENT_DER = unhexlify(
    "308201ec30820171a00302010202146bb1294f668d495519e2ab24871050642b3684aa300a06082a8648ce3d"
    "04030330233121301f06035504030c186e78736563757265205465737420526f6f7420502d333834301e170d"
    "3235303130313030303030305a170d3435303130313030303030305a30143112301006035504030c09636c69"
    "656e742d30313076301006072a8648ce3d020106052b810400220362000485baa4adf3ccad629e2762f35763"
    "a89277f597e54ac155870441143bbe810b65acdcf5191add38c47f03724fa04259c89f22f9430ac742da0700"
    "d1e237797d6c22ae9ed2c0b660fb2cbf34c3390f63a49fb475b1085ce6a7f5e1fb38ae31aa7aa3753073300c"
    "0603551d130101ff04023000300e0603551d0f0101ff04040302038830130603551d25040c300a06082b0601"
    "0505070302301d0603551d0e04160414a76b3831ba08df329935821ec9dde3f17d042137301f0603551d2304"
    "18301680140264dfd477c4d9f30fcd67019c7cb39f024cbc18300a06082a8648ce3d04030303690030660231"
    "00e6f0ef0ff8dd36b1c854cd912ce93383b2f6c4381203d1b6aab1fb8143535ee596918a837c7022320ec310"
    "76cd34dfbb023100f2f47e122abdcc2dea39ea14fc29290a1b6a24ea6ca1891b169d151f06aab508e7a3f3ab"
    "ea44ba2755432e558981976a")
P384_CLIENT_KEY_DER = unhexlify(
    "3081a40201010430691f534e6df4a1d080e9f2429998a5e448c353abe0239c23caf3766a3b6c9c92dfe64d80"
    "2829a18a3371af19d1b7ccbfa00706052b81040022a1640362000485baa4adf3ccad629e2762f35763a89277"
    "f597e54ac155870441143bbe810b65acdcf5191add38c47f03724fa04259c89f22f9430ac742da0700d1e237"
    "797d6c22ae9ed2c0b660fb2cbf34c3390f63a49fb475b1085ce6a7f5e1fb38ae31aa7a")


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
        self.intermediate = certificate(P384_INTERMEDIATE_DER)    # sent after the leaf
        assert nx_secure_dtls_server_local_certificate_add(self.server, self.intermediate,
                                                           2) == NX_SUCCESS
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
        assert st == NX_SUCCESS and [bytes(d) for d in chain] == [P384_LEAF_DER,
                                                           P384_INTERMEDIATE_DER]
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
