"""Portable tests of nxsecure.x509 (CPython pytest and the MicroPython runner): in-place
parsing of two small real certificates, host-name checks, stores, chain logic with a
stand-in signature check, and malformed input -> X.509 codes, never exceptions.

The certificates were made once with pyca/cryptography (self-made, P-256/SHA-256):
ROOT "O=nxsecure, CN=nx Root", CA pathLen 1, keyCertSign|cRLSign, subjectKeyIdentifier,
     2024-01-01T00:00:00Z .. 2051-01-01T00:00:00Z (GeneralizedTime after 2049);
LEAF "CN=device.example.com" issued by ROOT, 2024-02-29T12:30:45Z .. 2034-01-01,
     CA false, digitalSignature, EKU serverAuth, SAN DNS *.example.com, device.local,
     subject and authority key identifiers;
LEAF_KEY its RFC 5915 EC private key.
"""
import binascii

from nxsecure.const import (
    NX_SUCCESS,
    NX_PTR_ERROR,
    NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE,
    NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED,
    NX_SECURE_TLS_CERT_ID_INVALID,
    NX_SECURE_TLS_CERT_ID_DUPLICATE,
    NX_SECURE_TLS_CERTIFICATE_NOT_FOUND,
    NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED,
    NX_SECURE_X509_MULTIBYTE_TAG_UNSUPPORTED,
    NX_SECURE_X509_ASN1_LENGTH_TOO_LONG,
    NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA,
    NX_SECURE_X509_INVALID_DATE_FORMAT,
    NX_SECURE_X509_UNEXPECTED_ASN1_TAG,
    NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE,
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD,
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH,
    NX_SECURE_X509_CERTIFICATE_EXPIRED,
    NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID,
    NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
    NX_SECURE_PKCS1_INVALID_PRIVATE_KEY,
    NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND,
    AD_CERTIFICATE_EXPIRED,
    AD_UNKNOWN_CA,
    AD_DECRYPT_ERROR,
)
from nxsecure.x509 import der
from nxsecure.x509.cert import (
    NX_SECURE_X509_CERT,
    NX_SECURE_X509_CERTIFICATE,
    NX_SECURE_X509_KEY_TYPE_NONE,
    NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER,
    NX_SECURE_X509_KEY_TYPE_EC_DER,
    NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE,
    NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN,
    NX_SECURE_X509_KEY_USAGE_CRL_SIGN,
    NX_SECURE_X509_VERSION_3,
    NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256,
    NX_SECURE_TLS_X509_TYPE_EC,
    NX_SECURE_TLS_X509_EC_SECP256R1,
    X509_EKU_SERVER_AUTH,
    nx_secure_x509_certificate_initialize,
    dn_equal,
)
from nxsecure.x509.store import (
    NX_SECURE_X509_CERTIFICATE_STORE,
    store_local_add, store_local_remove, store_local_find,
    store_trusted_add, store_trusted_remove, store_trusted_find,
    store_remote_buffer_set, store_remote_add, store_remote_reset, store_remote_count,
    store_remote_get,
)
from nxsecure.x509.verify import (
    NX_SECURE_X509_NO_TIME_SOURCE,
    NX_SECURE_X509_TIME_UNCHECKED,
    X509_ROLE_SERVER, X509_ROLE_CLIENT,
    nx_secure_x509_common_name_dns_check,
    nx_secure_x509_time_function_set,
    x509_chain_verify,
    signature_algorithm_info,
    X509_SIG_ECDSA,
)

ROOT = binascii.unhexlify(
    "3082018030820126a003020102020101300a06082a8648ce3d04030230253111300f0603"
    "55040a0c086e787365637572653110300e06035504030c076e7820526f6f743020170d32"
    "34303130313030303030305a180f32303531303130313030303030305a30253111300f06"
    "0355040a0c086e787365637572653110300e06035504030c076e7820526f6f7430593013"
    "06072a8648ce3d020106082a8648ce3d030107034200049b77ad02b880c91028d99b3422"
    "5f19fdd4f501cd0b7ee21f116194bf376a6d840b7bb0dda3cb786593d7064fbd74935b49"
    "79ae971b4d58c869e1efe1e614a596a345304330120603551d130101ff040830060101ff"
    "020101300e0603551d0f0101ff040403020106301d0603551d0e04160414660571733090"
    "c9ca16d5220918ec1e5eca7c2fea300a06082a8648ce3d0403020348003045022100a372"
    "f3ba8b0151d3179fb1f8f673fe0eb17cb82d7f3e39cfed9b7099c380431402202d3fc73a"
    "9ce8de36de0b0d470aa61f7543ca1271a2c36fafe0b680f8356eabeb")

LEAF = binascii.unhexlify(
    "308201d73082017da00302010202081122334455667788300a06082a8648ce3d04030230"
    "253111300f060355040a0c086e787365637572653110300e06035504030c076e7820526f"
    "6f74301e170d3234303232393132333034355a170d3334303130313030303030305a301d"
    "311b301906035504030c126465766963652e6578616d706c652e636f6d3059301306072a"
    "8648ce3d020106082a8648ce3d03010703420004bdbeae1cdd57e6907a4f1ce48943670f"
    "7408498876eef0233708a45c0ee74275de01736e37525122fc810bd69be690eee6429ec0"
    "6e2b5c5b50e4692ff82f4bd1a3819e30819b300c0603551d130101ff04023000300e0603"
    "551d0f0101ff04040302078030130603551d25040c300a06082b06010505070301302606"
    "03551d11041f301d820d2a2e6578616d706c652e636f6d820c6465766963652e6c6f6361"
    "6c301d0603551d0e04160414b6457c9b0d490e01a9f50ced14efce7524d7b6c7301f0603"
    "551d23041830168014660571733090c9ca16d5220918ec1e5eca7c2fea300a06082a8648"
    "ce3d0403020348003045022100d160e157e0755d96a938329627542f156a5a59d026ff83"
    "29b0307a16abd280e202207e4a796acfb2beade2900b4e4526c35b51424fbc006b9bfc71"
    "b1e9237e3320a4")

LEAF_KEY = binascii.unhexlify(
    "3077020101042000000000000000000000000000000000fedcba0987654321fedcba0987"
    "654321a00a06082a8648ce3d030107a14403420004bdbeae1cdd57e6907a4f1ce4894367"
    "0f7408498876eef0233708a45c0ee74275de01736e37525122fc810bd69be690eee6429e"
    "c06e2b5c5b50e4692ff82f4bd1")

T_2024_01_01 = 1704067200
T_LEAF_NOT_BEFORE = 1709209845      # 2024-02-29T12:30:45Z
T_2034_01_01 = 2019686400
T_2051_01_01 = 2556144000
NOW = 1800000000                    # 2027-01-15


def _cert(data=LEAF):
    c = NX_SECURE_X509_CERT()
    st = nx_secure_x509_certificate_initialize(c, data, len(data), None, 0, None, 0,
                                               NX_SECURE_X509_KEY_TYPE_NONE)
    return st, c


def _text(mv):
    return bytes(mv).decode()


def _init(data):
    return _cert(data)[0]


# --- parsing real certificates --------------------------------------------------------

def test_root_fields_parse_in_place():
    st, c = _cert(ROOT)
    assert st == NX_SUCCESS
    assert c.nx_secure_x509_version == NX_SECURE_X509_VERSION_3
    s = c.nx_secure_x509_serial_number
    assert bytes(c.nx_secure_x509_certificate_data[s:s + c.nx_secure_x509_serial_number_length]) == b"\x01"
    assert c.nx_secure_x509_signature_algorithm == NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256
    assert _text(c.nx_secure_x509_distinguished_name.common_name()) == "nx Root"
    assert _text(c.nx_secure_x509_issuer.common_name()) == "nx Root"
    assert c.not_before() == T_2024_01_01
    assert c.not_after() == T_2051_01_01                       # GeneralizedTime
    assert c.nx_secure_x509_validity_format == der.TAG_GENERALIZED_TIME
    assert c.is_ca() and c.path_len() == 1
    assert c._key_usage == NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN | NX_SECURE_X509_KEY_USAGE_CRL_SIGN
    assert c.nx_secure_x509_public_algorithm == NX_SECURE_TLS_X509_TYPE_EC
    assert c.nx_secure_ec_named_curve == NX_SECURE_TLS_X509_EC_SECP256R1
    assert c.nx_secure_x509_public_key_bits == 256
    assert c.nx_secure_ec_public_key_length == 65
    assert not c._ext_eku and c._san_dns_count == 0
    assert c.nx_secure_x509_signature_data_length == 0x47
    assert len(c.tbs_view()) == 0x126 + 4 and c.tbs_view()[0] == 0x30


def test_leaf_fields_parse_in_place():
    st, c = _cert(LEAF)
    assert st == NX_SUCCESS
    s = c.nx_secure_x509_serial_number
    assert bytes(c.nx_secure_x509_certificate_data[s:s + 8]) == binascii.unhexlify("1122334455667788")
    assert _text(c.nx_secure_x509_distinguished_name.common_name()) == "device.example.com"
    assert c.not_before() == T_LEAF_NOT_BEFORE                 # leap day, UTCTime
    assert c.not_after() == T_2034_01_01
    assert c.nx_secure_x509_validity_format == der.TAG_UTC_TIME
    assert c._ext_basic_constraints and not c.is_ca() and c.path_len() == -1
    assert c._key_usage == NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE
    assert c._eku == X509_EKU_SERVER_AUTH
    assert c._san_dns_count == 2
    assert not c._unknown_critical


def test_leaf_issuer_matches_root_subject_by_cn_and_full_dn():
    _, root = _cert(ROOT)
    _, leaf = _cert(LEAF)
    assert dn_equal(leaf.nx_secure_x509_issuer, root.nx_secure_x509_distinguished_name, False)
    assert dn_equal(leaf.nx_secure_x509_issuer, root.nx_secure_x509_distinguished_name, True)
    assert not dn_equal(leaf.nx_secure_x509_distinguished_name,
                        root.nx_secure_x509_distinguished_name, False)


def test_parse_keeps_offsets_into_callers_buffer():
    data = bytearray(LEAF)
    st, c = _cert(data)
    assert st == NX_SUCCESS
    cn = c.nx_secure_x509_distinguished_name
    data[cn.nx_secure_x509_common_name] = ord("D")            # no copy was made
    assert _text(cn.common_name()) == "Device.example.com"


def test_raw_data_buffer_receives_copy_and_key():
    raw = bytearray(1024)
    c = NX_SECURE_X509_CERTIFICATE()
    st = nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF), raw, len(raw),
                                               LEAF_KEY, len(LEAF_KEY),
                                               NX_SECURE_X509_KEY_TYPE_EC_DER)
    assert st == NX_SUCCESS
    assert bytes(raw[:len(LEAF)]) == LEAF
    assert bytes(raw[len(LEAF):len(LEAF) + len(LEAF_KEY)]) == LEAF_KEY
    assert c.nx_secure_ec_private_key_length == 32
    assert c.nx_secure_x509_certificate_is_identity_cert == 1
    raw[c.nx_secure_x509_distinguished_name.nx_secure_x509_common_name] = ord("X")
    assert _text(c.nx_secure_x509_distinguished_name.common_name())[0] == "X"


def test_raw_data_buffer_too_small_is_insufficient_cert_space():
    c = NX_SECURE_X509_CERT()
    st = nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF), bytearray(len(LEAF)),
                                               len(LEAF), LEAF_KEY, len(LEAF_KEY),
                                               NX_SECURE_X509_KEY_TYPE_EC_DER)
    assert st == NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE


def test_private_key_type_mismatch_and_unknown_type():
    c = NX_SECURE_X509_CERT()
    st = nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF), None, 0, LEAF_KEY,
                                               len(LEAF_KEY), NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER)
    assert st == NX_SECURE_PKCS1_INVALID_PRIVATE_KEY
    st = nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF), None, 0, LEAF_KEY,
                                               len(LEAF_KEY), 0x77)
    assert st == NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE
    st = nx_secure_x509_certificate_initialize(c, ROOT, len(ROOT), None, 0, LEAF_KEY,
                                               len(LEAF_KEY), NX_SECURE_X509_KEY_TYPE_EC_DER)
    assert st == NX_SUCCESS       # same curve; the key is not checked against the point


def test_bad_arguments_return_codes():
    c = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(None, LEAF, len(LEAF), None, 0, None, 0, 0) == NX_PTR_ERROR
    assert nx_secure_x509_certificate_initialize(c, None, 10, None, 0, None, 0, 0) == NX_PTR_ERROR
    assert nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF) + 1, None, 0, None, 0, 0) == NX_INVALID_PARAMETERS
    assert nx_secure_x509_certificate_initialize(c, LEAF, 0, None, 0, None, 0, 0) == NX_INVALID_PARAMETERS
    assert nx_secure_x509_certificate_initialize(c, LEAF, len(LEAF), None, 0, None, 5,
                                                 NX_SECURE_X509_KEY_TYPE_EC_DER) == NX_PTR_ERROR


# --- time -----------------------------------------------------------------------------

def test_epoch_seconds_without_datetime():
    assert der.epoch_seconds(1970, 1, 1, 0, 0, 0) == 0
    assert der.epoch_seconds(2000, 3, 1, 0, 0, 0) == 951868800
    assert der.epoch_seconds(2038, 1, 19, 3, 14, 8) == 2147483648
    assert der.epoch_seconds(1950, 1, 1, 0, 0, 0) == -631152000
    assert der.epoch_seconds(2100, 3, 1, 0, 0, 0) == 4107542400       # 2100 not leap


def _time(s, tag):
    b = s.encode()
    return der.parse_time(memoryview(b), tag, 0, len(b))


def test_utctime_century_window_and_bad_formats():
    assert _time("491231235959Z", der.TAG_UTC_TIME) == der.epoch_seconds(2049, 12, 31, 23, 59, 59)
    assert _time("500101000000Z", der.TAG_UTC_TIME) == der.epoch_seconds(1950, 1, 1, 0, 0, 0)
    for bad, tag in (("5001010000Z", der.TAG_UTC_TIME), ("500101000000+0100", der.TAG_UTC_TIME),
                     ("230229000000Z", der.TAG_UTC_TIME), ("241301000000Z", der.TAG_UTC_TIME),
                     ("20240101000000.5Z", der.TAG_GENERALIZED_TIME),
                     ("2024010100000aZ", der.TAG_GENERALIZED_TIME),
                     ("240101246000Z", der.TAG_UTC_TIME)):
        try:
            _time(bad, tag)
        except der.NxError as e:
            assert e.code == NX_SECURE_X509_INVALID_DATE_FORMAT, bad
        else:
            assert False, bad


# --- host names (RFC 6125) ---------------------------------------------------------------

def test_dns_check_uses_san_and_wildcard_rules():
    _, c = _cert(LEAF)
    ok, bad = NX_SUCCESS, NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    cases = (
        ("www.example.com", ok), ("WWW.Example.COM", ok), ("device.local", ok),
        ("DEVICE.LOCAL.", ok), ("example.com", bad), ("a.b.example.com", bad),
        (".example.com", bad), ("wwwexample.com", bad), ("device.local.evil", bad),
        ("device.example.com", ok),       # via the wildcard SAN, not via the CN
        ("*.example.com", bad), ("", bad),
    )
    for name, want in cases:
        assert nx_secure_x509_common_name_dns_check(c, name, len(name)) == want, name
    b = b"www.example.comXXXX"
    assert nx_secure_x509_common_name_dns_check(c, b, 15) == ok


def test_dns_wildcard_matcher_corner_cases():
    from nxsecure.x509.names import _dns_match

    def m(pat, ref):
        p = pat.encode()
        r = ref.encode()
        return _dns_match(memoryview(p), 0, len(p), memoryview(r), len(r))
    assert not m("*.com", "example.com")            # no wildcard over a public suffix
    assert not m("*", "localhost")
    assert not m("f*.example.com", "foo.example.com")   # partial wildcard refused
    assert not m("www.*.com", "www.example.com")
    assert not m("*.*.example.com", "a.b.example.com")
    assert m("*.example.com", "x.example.com")
    assert not m("*.example.com", "x.y.example.com")
    assert m("Host.Example.com", "host.example.com")
    assert not m("host.example.com.", "host.example.com")   # not in the SAN syntax


def test_dns_check_falls_back_to_cn_without_san():
    _, root = _cert(ROOT)
    assert nx_secure_x509_common_name_dns_check(root, "nx root", 7) == NX_SUCCESS
    assert nx_secure_x509_common_name_dns_check(root, "nx", 2) == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    assert nx_secure_x509_common_name_dns_check(None, "nx", 2) == NX_PTR_ERROR


# --- malformed input --------------------------------------------------------------------

def test_malformed_certificates_give_x509_codes():
    cases = (
        (LEAF[:-1], NX_SECURE_X509_ASN1_LENGTH_TOO_LONG),                      # truncated
        (b"\x31" + LEAF[1:], NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE),     # not a SEQUENCE
        (LEAF + b"\x00", NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE),         # trailing data
        (b"\x30\x80" + LEAF[4:] + b"\x00\x00", NX_SECURE_X509_INVALID_CERTIFICATE_DATA),  # indefinite
        (b"\x30\x85\x00\x00\x00\x01\x95" + LEAF[4:], NX_SECURE_X509_ASN1_LENGTH_TOO_LONG),  # 5 length octets
        (b"\x30\x83\x00\x01\x95" + LEAF[4:], NX_SECURE_X509_INVALID_CERTIFICATE_DATA),  # non-minimal length
        (b"\x1f\x81\x00", NX_SECURE_X509_MULTIBYTE_TAG_UNSUPPORTED),
        (b"\x30", NX_SECURE_X509_ASN1_LENGTH_TOO_LONG),
        (b"\x30\x00", NX_SECURE_X509_ASN1_LENGTH_TOO_LONG),
        (b"\x30\x02\x05\x00", NX_SECURE_X509_UNEXPECTED_ASN1_TAG),
    )
    for data, want in cases:
        st = _init(data)
        assert st == want, (hex(st), hex(want))


def test_tbs_signature_must_equal_outer_algorithm():
    data = bytearray(LEAF)
    # TBS signature AlgorithmIdentifier: ecdsa-with-SHA256 -> ecdsa-with-SHA384 (RFC 5280 4.1.2.3)
    i = data.find(b"\x2a\x86\x48\xce\x3d\x04\x03\x02")
    data[i + 7] = 3
    assert _init(bytes(data)) == NX_SECURE_X509_WRONG_SIGNATURE_METHOD


def test_every_truncation_of_a_real_certificate_gives_a_code():
    for n in range(1, len(LEAF)):
        st = _init(LEAF[:n])
        assert 0x181 <= st <= 0x1A0, (n, hex(st))


def test_deep_nesting_is_bounded():
    # 40 nested SEQUENCEs: 30 50 30 4e ... 30 02 05 00
    depth = 40
    data = b"".join(b"\x30" + bytes([2 * (depth - k)]) for k in range(depth)) + b"\x05\x00"
    try:
        der.check_structure(memoryview(data), 0, len(data))
    except der.NxError as e:
        assert e.code == NX_SECURE_X509_INVALID_CERTIFICATE_DATA
    else:
        assert False
    assert _init(data) == NX_SECURE_X509_INVALID_CERTIFICATE_DATA


# --- stores -------------------------------------------------------------------------------

def test_store_ids_and_names():
    s = NX_SECURE_X509_CERTIFICATE_STORE()
    _, leaf = _cert(LEAF)
    _, root = _cert(ROOT)
    assert store_local_add(s, leaf, 0) == NX_SECURE_TLS_CERT_ID_INVALID
    assert store_local_add(s, leaf, 1) == NX_SUCCESS
    assert store_local_add(s, root, 1) == NX_SECURE_TLS_CERT_ID_DUPLICATE
    assert store_local_add(s, NX_SECURE_X509_CERT(), 2) == NX_INVALID_PARAMETERS   # not initialized
    assert store_local_find(s, 1) == (NX_SUCCESS, leaf)
    assert store_local_remove(s, None, 0, 7) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
    assert store_local_remove(s, "device.example.com", 18, 0) == NX_SUCCESS
    assert store_local_find(s, 1)[0] == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
    assert store_trusted_add(s, root, 5) == NX_SUCCESS
    assert store_trusted_find(s, 0, b"nx Root", 7) == (NX_SUCCESS, root)
    assert store_trusted_remove(s, b"nx Roo", 6, 0) == NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
    assert store_trusted_remove(s, None, 0, 5) == NX_SUCCESS


def test_remote_chain_is_bounded_by_callers_buffer():
    s = NX_SECURE_X509_CERTIFICATE_STORE()
    assert store_remote_add(s, LEAF, 0, len(LEAF)) == NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED
    buf = bytearray(len(LEAF) + len(ROOT) - 1)
    assert store_remote_buffer_set(s, 2, buf, len(buf)) == NX_SUCCESS
    assert store_remote_add(s, LEAF, 0, len(LEAF)) == NX_SUCCESS
    assert store_remote_add(s, ROOT, 0, len(ROOT)) == NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
    assert store_remote_count(s) == 1
    assert store_remote_reset(s) == NX_SUCCESS
    buf = bytearray(4096)
    assert store_remote_buffer_set(s, 2, buf, len(buf)) == NX_SUCCESS
    wire = b"\x00" * 3 + LEAF + ROOT
    assert store_remote_add(s, wire, 3, len(LEAF)) == NX_SUCCESS
    assert store_remote_add(s, wire, 3 + len(LEAF), len(ROOT)) == NX_SUCCESS
    assert store_remote_add(s, LEAF, 0, len(LEAF)) == NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
    assert store_remote_add(s, LEAF, 0, len(LEAF) - 1) == NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
    st, c = store_remote_get(s, 1)
    assert st == NX_SUCCESS and _text(c.nx_secure_x509_distinguished_name.common_name()) == "nx Root"
    assert bytes(buf[:len(LEAF)]) == LEAF          # parsed in the caller's buffer


def test_remote_add_rejects_garbage_and_keeps_nothing():
    s = NX_SECURE_X509_CERTIFICATE_STORE()
    store_remote_buffer_set(s, 2, bytearray(1000), 1000)
    assert store_remote_add(s, LEAF[:100], 0, 100) == NX_SECURE_X509_ASN1_LENGTH_TOO_LONG
    assert store_remote_count(s) == 0


# --- chain logic with a stand-in signature check -----------------------------------------

def _accept_all(sig_alg, spki, tbs, sig):
    return NX_SUCCESS


def _reject_all(sig_alg, spki, tbs, sig):
    return NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


def _store(trust_root=True):
    s = NX_SECURE_X509_CERTIFICATE_STORE()
    store_remote_buffer_set(s, 3, bytearray(2048), 2048)
    assert store_remote_add(s, LEAF, 0, len(LEAF)) == NX_SUCCESS
    if trust_root:
        _, root = _cert(ROOT)
        store_trusted_add(s, root, 1)
    return s


def test_chain_to_trusted_root():
    s = _store()
    assert x509_chain_verify(s, 0, NOW, X509_ROLE_SERVER, _accept_all) == (NX_SUCCESS, 0)
    assert x509_chain_verify(s, 0, NOW, X509_ROLE_SERVER, _accept_all,
                             dns_name="www.example.com") == (NX_SUCCESS, 0)
    st, alert = x509_chain_verify(s, 0, NOW, X509_ROLE_CLIENT, _accept_all)
    assert st == NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND
    st, alert = x509_chain_verify(s, 0, NOW, X509_ROLE_SERVER, _reject_all)
    assert (st, alert) == (NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, AD_DECRYPT_ERROR)


def test_chain_dates_and_time_source():
    s = _store()
    assert x509_chain_verify(s, 0, T_2034_01_01 + 1, 0, _accept_all) == \
        (NX_SECURE_X509_CERTIFICATE_EXPIRED, AD_CERTIFICATE_EXPIRED)
    assert x509_chain_verify(s, 0, T_LEAF_NOT_BEFORE - 1, 0, _accept_all)[0] == \
        NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID
    assert x509_chain_verify(s, 0, T_LEAF_NOT_BEFORE, 0, _accept_all)[0] == NX_SUCCESS
    assert x509_chain_verify(s, 0, T_2034_01_01, 0, _accept_all)[0] == NX_SUCCESS
    # No clock: reported, not silently accepted.
    nx_secure_x509_time_function_set(None)
    assert x509_chain_verify(s, 0, None, 0, _accept_all)[0] == NX_SECURE_X509_NO_TIME_SOURCE
    assert x509_chain_verify(s, 0, NX_SECURE_X509_TIME_UNCHECKED, 0, _accept_all)[0] == NX_SUCCESS
    nx_secure_x509_time_function_set(lambda: NOW)
    try:
        assert x509_chain_verify(s, 0, None, 0, _accept_all)[0] == NX_SUCCESS
    finally:
        nx_secure_x509_time_function_set(None)


def test_chain_unknown_ca():
    s = _store(trust_root=False)
    assert x509_chain_verify(s, 0, NOW, 0, _accept_all) == \
        (NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND, AD_UNKNOWN_CA)
    # The root sent by the peer is not a trust anchor.
    assert store_remote_add(s, ROOT, 0, len(ROOT)) == NX_SUCCESS
    assert x509_chain_verify(s, 0, NOW, 0, _accept_all)[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


def test_signature_algorithm_info_for_ecdsa_sha256():
    _, c = _cert(LEAF)
    st, kind, h, salt = signature_algorithm_info(c.signature_algorithm_view())
    assert (st, kind, h) == (NX_SUCCESS, X509_SIG_ECDSA, "sha256")


def test_default_signature_check_with_nxsecure_pk():
    # The real ECDSA P-256 signatures of the embedded certificates, checked by the
    # default verify_signature (nxsecure.pk's portable backend).
    from nxsecure.x509.verify import x509_default_verify_signature
    s = _store()
    assert x509_chain_verify(s, 0, NOW, X509_ROLE_SERVER, x509_default_verify_signature,
                             dns_name="device.example.com") == (NX_SUCCESS, 0)
    bad = bytearray(LEAF)
    bad[-3] ^= 0x40
    s = NX_SECURE_X509_CERTIFICATE_STORE()
    store_remote_buffer_set(s, 1, bytearray(1024), 1024)
    assert store_remote_add(s, bad, 0, len(bad)) == NX_SUCCESS
    _, root = _cert(ROOT)
    store_trusted_add(s, root, 1)
    assert x509_chain_verify(s, 0, NOW, X509_ROLE_SERVER, x509_default_verify_signature) == \
        (NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, AD_DECRYPT_ERROR)


def _len(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def _with_extension(cert, old, new):
    """cert (DER) with extension `old` (its encoding) replaced by `new`, the lengths of
    Extensions, [3], TBSCertificate and Certificate fixed up."""
    mv = memoryview(cert)
    _, cs, ce = der.tlv(mv, 0, len(cert))
    _, ts, te = der.tlv(mv, cs, ce)
    p = ts
    while mv[p] != 0xA3:
        p = der.tlv(mv, p, te)[2]
    _, xs, xe = der.tlv(mv, p, te)
    _, es, ee = der.tlv(mv, xs, xe)
    exts = cert[es:ee]
    assert exts.count(old) == 1
    exts = exts.replace(old, new)
    ext3 = b"\xa3" + _len(len(exts) + len(_len(len(exts))) + 1) + b"\x30" + _len(len(exts)) + exts
    tbs = cert[ts:p] + ext3
    body = b"\x30" + _len(len(tbs)) + tbs + cert[te:ce]
    return b"\x30" + _len(len(body)) + body


def test_duplicate_extension_is_rejected():
    # Replace the leaf's extendedKeyUsage extension by a second keyUsage (RFC 5280 4.2:
    # one instance per extension), or by a second unknown extension.
    ku = binascii.unhexlify("300e0603551d0f0101ff040403020780")
    eku = binascii.unhexlify("30130603551d25040c300a06082b06010505070301")
    assert LEAF.count(ku) == 1
    assert _init(_with_extension(LEAF, eku, ku)) == NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE
    odd = b"\x30\x0a\x06\x06\x2b\x06\x01\x04\x01\x7f\x04\x00"    # 1.3.6.1.4.1.127
    d = _with_extension(LEAF, eku, odd)
    assert _init(d) == NX_SUCCESS                        # checks the length fix-up
    assert _init(_with_extension(d, ku, odd)) == NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE
