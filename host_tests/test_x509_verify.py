"""Chain verification against certificates made at test time with pyca/cryptography:
root -> intermediate -> leaf in RSA-2048 and P-256/P-384, and one failure per rule
(dates, unknown CA, bad signature, CA flag, pathLen, keyUsage/EKU, host name, unknown
critical extension, depth). The signature check is injected; `pyca_verify` below does
it with pyca directly, and the default (nxsecure.pk) check is exercised too."""
import datetime

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from nxsecure.const import (
    NX_SUCCESS,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED,
    NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
    NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM,
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH,
    NX_SECURE_X509_CERTIFICATE_EXPIRED,
    NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID,
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
    NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND,
    NX_SECURE_X509_INVALID_EXTENSIONS,
    NX_SECURE_X509_KEY_USAGE_ERROR,
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD,
    AD_BAD_CERTIFICATE,
    AD_CERTIFICATE_EXPIRED,
    AD_CERTIFICATE_UNKNOWN,
    AD_DECRYPT_ERROR,
    AD_UNKNOWN_CA,
    AD_UNSUPPORTED_CERTIFICATE,
)
from nxsecure.x509 import (
    NX_SECURE_X509_CERT,
    NX_SECURE_X509_CERTIFICATE_STORE,
    NX_SECURE_X509_KEY_TYPE_NONE,
    NX_SECURE_X509_NO_TIME_SOURCE,
    X509_ROLE_CLIENT,
    X509_ROLE_SERVER,
    nx_secure_x509_certificate_initialize,
    signature_algorithm_info,
    store_remote_add,
    store_remote_buffer_set,
    store_trusted_add,
    x509_chain_verify,
    x509_default_verify_signature,
)
from nxsecure.x509.pem import pem_blocks, pem_to_der
from nxsecure.x509.verify import X509_SIG_ECDSA, X509_SIG_RSA_PSS

UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 1, 1, tzinfo=UTC)
NOW = int((T0 + datetime.timedelta(days=100)).timestamp())
DAY = datetime.timedelta(days=1)

_HASH = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def pyca_verify(sig_alg_id, spki, tbs, sig):
    """The injected signature check, done with pyca (RFC 5280 4.1.1.3)."""
    st, kind, hash_name, salt = signature_algorithm_info(sig_alg_id)
    if st != NX_SUCCESS:
        return st
    pub = serialization.load_der_public_key(bytes(spki))
    h = _HASH[hash_name]
    try:
        if kind == X509_SIG_ECDSA:
            if not isinstance(pub, ec.EllipticCurvePublicKey):
                return NX_SECURE_X509_WRONG_SIGNATURE_METHOD
            pub.verify(bytes(sig), bytes(tbs), ec.ECDSA(h))
        else:
            if not isinstance(pub, rsa.RSAPublicKey):
                return NX_SECURE_X509_WRONG_SIGNATURE_METHOD
            if kind == X509_SIG_RSA_PSS:
                pad = padding.PSS(mgf=padding.MGF1(h), salt_length=salt)
            else:
                pad = padding.PKCS1v15()
            pub.verify(bytes(sig), bytes(tbs), pad, h)
    except InvalidSignature:
        return NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED
    return NX_SUCCESS


# --- certificate factory ---------------------------------------------------------------

_KEYS = {}


def key(kind, n=0):
    """Cached keys: ('rsa', i) RSA-2048, ('p256', i), ('p384', i)."""
    k = (kind, n)
    if k not in _KEYS:
        if kind == "rsa":
            _KEYS[k] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "p256":
            _KEYS[k] = ec.generate_private_key(ec.SECP256R1())
        else:
            _KEYS[k] = ec.generate_private_key(ec.SECP384R1())
    return _KEYS[k]


def name(cn, org="nxsecure tests"):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Issued:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key
        self.der = cert.public_bytes(serialization.Encoding.DER)


_UNSET = object()


def make(cn, k, issuer=None, *, ca=False, path_len=None, bc=True, ku=_UNSET, eku=_UNSET,
         san=_UNSET, nb=T0 - DAY, na=T0 + 365 * DAY, hash_alg=None, pss=False,
         issuer_name=None, extra=(), org="nxsecure tests", sign_key=None, ski=True, aki=True):
    """Build a certificate. issuer None: self-signed. ku/eku/san default to the
    usual CA or TLS-server leaf profile; pass None to leave an extension out. Every
    certificate gets a subjectKeyIdentifier and, unless self-signed, an
    authorityKeyIdentifier (RFC 5280 4.2.1.1-2), as CA tools write them."""
    subject = name(cn, org)
    if issuer is None:
        iname, skey = subject, k
    else:
        iname, skey = issuer.cert.subject, issuer.key
    if issuer_name is not None:
        iname = issuer_name
    if sign_key is not None:
        skey = sign_key
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(iname)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na))
    if bc:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None),
                            critical=True)
    if ku is _UNSET:
        ku = "ca" if ca else "leaf"
    if ku == "ca":
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    elif ku == "leaf":
        b = b.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                            critical=True)
    elif ku is not None:
        b = b.add_extension(ku, critical=True)
    if eku is _UNSET:
        eku = None if ca else [ExtendedKeyUsageOID.SERVER_AUTH]
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san is _UNSET:
        san = None if ca else [cn]
    if san is not None:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in san]),
                            critical=False)
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()),
                            critical=False)
    if aki and issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)
    for ext, crit in extra:
        b = b.add_extension(ext, critical=crit)
    if hash_alg is None:
        hash_alg = hashes.SHA384() if isinstance(skey, ec.EllipticCurvePrivateKey) and \
            skey.curve.name == "secp384r1" else hashes.SHA256()
    if pss:
        cert = b.sign(skey, hash_alg, rsa_padding=padding.PSS(
            mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size))
    else:
        cert = b.sign(skey, hash_alg)
    return Issued(cert, k)


def chain3(kind="rsa", **leaf_kw):
    root = make("Test Root " + kind, key(kind, 0), ca=True)
    inter = make("Test Intermediate " + kind, key(kind, 1), root, ca=True, path_len=0)
    leaf = make(leaf_kw.pop("cn", "server.example.com"), key(kind, 2), inter, **leaf_kw)
    return root, inter, leaf


def verify(peer, trusted, now=NOW, role=X509_ROLE_SERVER, fn=pyca_verify, **kw):
    """Load `peer` (Issued, leaf first) as the remote chain and `trusted` as anchors."""
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    assert store_remote_buffer_set(store, len(peer), bytearray(8192 * len(peer)),
                                   8192 * len(peer)) == NX_SUCCESS
    for c in peer:
        assert store_remote_add(store, c.der, 0, len(c.der)) == NX_SUCCESS
    for i, c in enumerate(trusted):
        tc = NX_SECURE_X509_CERT()
        assert nx_secure_x509_certificate_initialize(tc, c.der, len(c.der), None, 0, None, 0,
                                                     NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
        assert store_trusted_add(store, tc, i + 1) == NX_SUCCESS
    return x509_chain_verify(store, 0, now, role, fn, **kw)


# --- good chains ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rsa", "p256", "p384"])
def test_three_level_chain_verifies(kind):
    root, inter, leaf = chain3(kind)
    assert verify([leaf, inter], [root], dns_name="server.example.com") == (NX_SUCCESS, 0)


@pytest.mark.parametrize("kind", ["rsa", "p256"])
def test_three_level_chain_verifies_with_default_nxsecure_pk_check(kind):
    root, inter, leaf = chain3(kind)
    assert verify([leaf, inter], [root], fn=x509_default_verify_signature) == (NX_SUCCESS, 0)
    bad = make("server.example.com", key(kind, 2), issuer=inter, sign_key=key(kind, 3))
    assert verify([bad, inter], [root], fn=x509_default_verify_signature)[0] == \
        NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


def test_p384_root_signs_p256_intermediate_with_sha384():
    root = make("P384 Root", key("p384", 0), ca=True)
    inter = make("P256 Int", key("p256", 5), root, ca=True)
    leaf = make("iot.example.net", key("p256", 6), inter)
    assert verify([leaf, inter], [root]) == (NX_SUCCESS, 0)
    assert verify([leaf, inter], [root], fn=x509_default_verify_signature) == (NX_SUCCESS, 0)


def test_rsa_pss_signatures():
    root = make("PSS Root", key("rsa", 0), ca=True, pss=True)
    leaf = make("pss.example.com", key("rsa", 2), root, pss=True, hash_alg=hashes.SHA384())
    assert verify([leaf], [root]) == (NX_SUCCESS, 0)
    assert verify([leaf], [root], fn=x509_default_verify_signature) == (NX_SUCCESS, 0)


def test_chain_order_and_intermediate_from_trusted_store():
    root, inter, leaf = chain3("p256")
    extra = make("Unrelated CA", key("p256", 7), ca=True)
    assert verify([leaf, extra, root, inter], [root]) == (NX_SUCCESS, 0)   # any order
    assert verify([leaf], [inter]) == (NX_SUCCESS, 0)      # trusted intermediate is an anchor
    assert verify([leaf], [root])[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


def test_pinned_self_signed_leaf():
    leaf = make("pinned.example.com", key("p256", 8))
    assert verify([leaf], [leaf]) == (NX_SUCCESS, 0)
    assert verify([leaf], []) == (NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND, AD_UNKNOWN_CA)


# --- dates ---------------------------------------------------------------------------------

def test_expired_leaf():
    root, inter, leaf = chain3("p256", na=T0 + 10 * DAY)
    assert verify([leaf, inter], [root]) == (NX_SECURE_X509_CERTIFICATE_EXPIRED,
                                             AD_CERTIFICATE_EXPIRED)


def test_not_yet_valid_leaf():
    root, inter, leaf = chain3("p256", nb=T0 + 200 * DAY, na=T0 + 300 * DAY)
    assert verify([leaf, inter], [root]) == (NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID,
                                             AD_CERTIFICATE_EXPIRED)


def test_expired_intermediate_and_root():
    root = make("R", key("p256", 0), ca=True)
    inter = make("I", key("p256", 1), root, ca=True, na=T0 + DAY)
    leaf = make("a.example.com", key("p256", 2), inter)
    assert verify([leaf, inter], [root])[0] == NX_SECURE_X509_CERTIFICATE_EXPIRED
    old_root = make("R", key("p256", 0), ca=True, na=T0 + DAY)
    inter = make("I", key("p256", 1), old_root, ca=True)
    leaf = make("a.example.com", key("p256", 2), inter)
    assert verify([leaf, inter], [old_root])[0] == NX_SECURE_X509_CERTIFICATE_EXPIRED


def test_no_time_source_is_reported_after_all_other_checks():
    root, inter, leaf = chain3("p256")
    assert verify([leaf, inter], [root], now=None) == (NX_SECURE_X509_NO_TIME_SOURCE,
                                                       AD_CERTIFICATE_UNKNOWN)
    assert verify([leaf], [root], now=None)[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


def test_generalized_time_after_2049():
    root = make("R2", key("p256", 0), ca=True, na=datetime.datetime(2060, 1, 1, tzinfo=UTC))
    leaf = make("x.example.com", key("p256", 2), root,
                nb=datetime.datetime(2050, 6, 1, tzinfo=UTC),
                na=datetime.datetime(2051, 6, 1, tzinfo=UTC))
    when = int(datetime.datetime(2051, 1, 1, tzinfo=UTC).timestamp())
    assert verify([leaf], [root], now=when) == (NX_SUCCESS, 0)
    assert verify([leaf], [root])[0] == NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID


# --- trust and signatures ---------------------------------------------------------------

def test_unknown_ca():
    root, inter, leaf = chain3("rsa")
    other = make("Other Root", key("rsa", 4), ca=True)
    assert verify([leaf, inter], [other]) == (NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
                                              AD_UNKNOWN_CA)
    assert verify([leaf, inter, root], [other])[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


def test_bad_signature_forged_issuer_name():
    root, inter, leaf = chain3("rsa")
    forged = make("server.example.com", key("rsa", 2), inter, sign_key=key("rsa", 4))
    assert verify([forged, inter], [root]) == (NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED,
                                               AD_DECRYPT_ERROR)


def test_bad_signature_flipped_bit():
    root, inter, leaf = chain3("p256")
    der = bytearray(leaf.der)
    der[-5] ^= 0x01
    leaf.der = bytes(der)
    assert verify([leaf, inter], [root])[0] == NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


def test_tampered_tbs_fails_signature():
    root, inter, leaf = chain3("rsa")
    der = bytearray(leaf.der)
    i = der.find(b"server.example.com")
    der[i] = ord("S")
    leaf.der = bytes(der)
    assert verify([leaf, inter], [root])[0] == NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


def test_sha1_signature_is_unsupported():
    # pyca no longer signs with SHA-1: relabel a sha256WithRSAEncryption certificate
    # as sha1WithRSAEncryption (both AlgorithmIdentifiers, RFC 5280 4.1.2.3).
    root = make("R", key("rsa", 0), ca=True)
    leaf = make("old.example.com", key("rsa", 2), root)
    sha256_rsa = bytes.fromhex("2a864886f70d01010b")
    assert leaf.der.count(sha256_rsa) == 2
    leaf.der = leaf.der.replace(sha256_rsa, bytes.fromhex("2a864886f70d010105"))
    assert verify([leaf], [root]) == (NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM,
                                      AD_UNSUPPORTED_CERTIFICATE)


def test_strict_name_compare():
    root = make("Same CN", key("p256", 0), ca=True, org="Org A")
    leaf = make("n.example.com", key("p256", 2), root,
                issuer_name=name("Same CN", "Org B"))      # CN matches, O does not
    assert verify([leaf], [root]) == (NX_SUCCESS, 0)
    assert verify([leaf], [root], strict_name=True)[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


def test_issuer_loop_terminates():
    a_key, b_key = key("p256", 10), key("p256", 11)
    a0 = make("Loop A", a_key, ca=True)
    b = make("Loop B", b_key, a0, ca=True)
    a = make("Loop A", a_key, b, ca=True)          # A issued by B, B issued by A
    leaf = make("l.example.com", key("p256", 2), a)
    root = make("Real Root", key("p256", 12), ca=True)
    assert verify([leaf, a, b], [root])[0] == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND


# --- CA constraints ------------------------------------------------------------------------

def test_leaf_as_issuer_without_ca_flag():
    root, inter, leaf = chain3("p256")
    victim = make("evil.example.com", key("p256", 3), leaf)
    assert verify([victim, leaf, inter], [root]) == (NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
                                                     AD_BAD_CERTIFICATE)


def test_intermediate_without_basic_constraints():
    root = make("R", key("p256", 0), ca=True)
    inter = make("I", key("p256", 1), root, bc=False, ku="ca", eku=None, san=None)
    leaf = make("a.example.com", key("p256", 2), inter)
    assert verify([leaf, inter], [root])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE


def test_trust_anchor_that_is_not_a_ca():
    root, inter, leaf = chain3("p256")
    other = make("b.example.com", key("p256", 3), leaf)
    assert verify([other], [leaf])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE


def test_path_len_violation():
    root = make("R", key("p256", 0), ca=True, path_len=0)
    inter = make("I", key("p256", 1), root, ca=True)
    leaf = make("a.example.com", key("p256", 2), inter)
    assert verify([leaf, inter], [root]) == (NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
                                             AD_BAD_CERTIFICATE)
    # pathLen 0 on the last CA is fine; pathLen 1 allows one intermediate.
    root1 = make("R", key("p256", 0), ca=True, path_len=1)
    inter0 = make("I", key("p256", 1), root1, ca=True, path_len=0)
    leaf = make("a.example.com", key("p256", 2), inter0)
    assert verify([leaf, inter0], [root1]) == (NX_SUCCESS, 0)
    inter2 = make("I2", key("p256", 4), inter0, ca=True)
    leaf2 = make("b.example.com", key("p256", 2), inter2)
    assert verify([leaf2, inter2, inter0], [root1])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE


def test_issuer_key_usage_without_key_cert_sign():
    root = make("R", key("p256", 0), ca=True)
    inter = make("I", key("p256", 1), root, ca=True,
                 ku=x509.KeyUsage(True, False, False, False, False, False, True, False, False))
    leaf = make("a.example.com", key("p256", 2), inter)
    assert verify([leaf, inter], [root]) == (NX_SECURE_X509_KEY_USAGE_ERROR,
                                             AD_UNSUPPORTED_CERTIFICATE)


def test_depth_limit():
    root = make("Deep Root", key("p256", 0), ca=True)
    chain = []
    issuer = root
    for i in range(9):
        issuer = make("Deep %d" % i, key("p256", 20 + i), issuer, ca=True)
        chain.insert(0, issuer)
    leaf = make("deep.example.com", key("p256", 2), issuer)
    peer = [leaf] + chain
    assert verify(peer, [root])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE
    assert verify(peer, [root], max_depth=11) == (NX_SUCCESS, 0)


def test_unknown_critical_extension():
    root, inter, _ = chain3("p256")
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    leaf = make("a.example.com", key("p256", 2), inter, extra=[(odd, True)])
    assert verify([leaf, inter], [root]) == (NX_SECURE_X509_INVALID_EXTENSIONS,
                                             AD_UNSUPPORTED_CERTIFICATE)
    leaf = make("a.example.com", key("p256", 2), inter, extra=[(odd, False)])
    assert verify([leaf, inter], [root]) == (NX_SUCCESS, 0)


# --- leaf purpose and host name ---------------------------------------------------------------

def test_eku_must_match_role():
    root, inter, leaf = chain3("p256", eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert verify([leaf, inter], [root], role=X509_ROLE_SERVER) == \
        (NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND, AD_UNSUPPORTED_CERTIFICATE)
    assert verify([leaf, inter], [root], role=X509_ROLE_CLIENT) == (NX_SUCCESS, 0)
    root, inter, leaf = chain3("p256", eku=None)             # no EKU: any purpose
    assert verify([leaf, inter], [root], role=X509_ROLE_CLIENT) == (NX_SUCCESS, 0)


def test_key_usage_must_match_role():
    ku = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    root, inter, leaf = chain3("rsa", ku=ku, eku=None)       # keyEncipherment only
    assert verify([leaf, inter], [root], role=X509_ROLE_SERVER) == (NX_SUCCESS, 0)
    assert verify([leaf, inter], [root], role=X509_ROLE_CLIENT)[0] == NX_SECURE_X509_KEY_USAGE_ERROR


def test_hostname_mismatch():
    root, inter, leaf = chain3("p256", cn="api.example.com", san=["api.example.com", "*.cdn.example.com"])
    assert verify([leaf, inter], [root], dns_name="img.cdn.example.com") == (NX_SUCCESS, 0)
    assert verify([leaf, inter], [root], dns_name="www.example.com") == \
        (NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH, AD_BAD_CERTIFICATE)
    assert verify([leaf, inter], [root], dns_name="a.b.cdn.example.com")[0] == \
        NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


def test_cn_ignored_when_san_has_dns_names():
    root, inter, leaf = chain3("p256", cn="cn-only.example.com", san=["other.example.com"])
    assert verify([leaf, inter], [root], dns_name="cn-only.example.com")[0] == \
        NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    root, inter, leaf = chain3("p256", cn="cn-only.example.com", san=None)
    assert verify([leaf, inter], [root], dns_name="cn-only.example.com") == (NX_SUCCESS, 0)


# --- PEM helper -----------------------------------------------------------------------------

def test_pem_round_trip():
    root, inter, leaf = chain3("p256")
    text = "junk\n" + leaf.cert.public_bytes(serialization.Encoding.PEM).decode() + \
        inter.cert.public_bytes(serialization.Encoding.PEM).decode()
    st, blocks = pem_blocks(text)
    assert st == NX_SUCCESS and [b[1] for b in blocks] == [leaf.der, inter.der]
    assert pem_to_der(text) == (NX_SUCCESS, leaf.der)
    k = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.NoEncryption())
    st, d = pem_to_der(k, "EC PRIVATE KEY")
    assert st == NX_SUCCESS and d[0] == 0x30
    assert pem_to_der(text, "PRIVATE KEY")[0] != NX_SUCCESS


# --- profile rules (RFC 5280 4.2, CA/B Baseline Requirements 7.1) ------------------------------

from nxsecure.const import (  # noqa: E402
    NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    NX_SECURE_X509_EXTENSION_NOT_FOUND,
)
from nxsecure.x509 import nxsecure_x509_minimum_rsa_key_size_set  # noqa: E402


def test_rsa_minimum_key_size_and_its_setter():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    root = make("R", key("rsa", 0), ca=True)
    leaf = make("old.example.com", small, root)
    assert verify([leaf], [root])[0] == NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER
    weak_root = make("WR", small, ca=True)
    leaf2 = make("a.example.com", key("p256", 2), weak_root)
    assert verify([leaf2], [weak_root])[0] == NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER
    try:
        assert nxsecure_x509_minimum_rsa_key_size_set(1024) == NX_SUCCESS
        assert verify([leaf], [root]) == (NX_SUCCESS, 0)
        assert verify([leaf2], [weak_root]) == (NX_SUCCESS, 0)
    finally:
        assert nxsecure_x509_minimum_rsa_key_size_set(2048) == NX_SUCCESS
    assert nxsecure_x509_minimum_rsa_key_size_set(512) == NX_INVALID_PARAMETERS
    assert nxsecure_x509_minimum_rsa_key_size_set("2048") == NX_INVALID_PARAMETERS


def test_key_identifiers_are_required_where_rfc5280_says_must():
    root = make("R", key("p256", 0), ca=True)
    assert verify([make("a.example.com", key("p256", 2), root, aki=False)], [root])[0] == \
        NX_SECURE_X509_EXTENSION_NOT_FOUND                   # 4.2.1.1: leaf without AKI
    bare_root = make("R", key("p256", 0), ca=True, ski=False)
    assert verify([make("a.example.com", key("p256", 2), bare_root)], [bare_root])[0] == \
        NX_SECURE_X509_EXTENSION_NOT_FOUND                   # 4.2.1.2: CA without SKI
    # AKI and SKI must not be critical (4.2.1.1, 4.2.1.2)
    crit_aki = make("a.example.com", key("p256", 2), root, aki=False, extra=[
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(key("p256", 0).public_key()), True)])
    assert verify([crit_aki], [root])[0] == NX_SECURE_X509_INVALID_EXTENSIONS


def test_leaf_that_is_a_ca_is_refused_unless_pinned():
    root = make("R", key("p256", 0), ca=True)
    ca_leaf = make("ca.example.com", key("p256", 2), root, ca=True, san=["ca.example.com"])
    assert verify([ca_leaf], [root])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE
    kcs = make("k.example.com", key("p256", 2), root,
               ku=x509.KeyUsage(True, False, False, False, False, True, False, False, False))
    assert verify([kcs], [root])[0] == NX_SECURE_X509_KEY_USAGE_ERROR
    # A device's self-signed certificate that the application trusts as it is.
    pinned = make("device.local", key("p256", 3), ca=True, ski=False, ku=None, san=["device.local"],
                  eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    assert verify([pinned], [pinned], dns_name="device.local") == (NX_SUCCESS, 0)
    assert verify([pinned], [pinned], dns_name="other.local")[0] == \
        NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


def test_any_eku_and_critical_eku_are_refused_in_a_leaf():
    root = make("R", key("p256", 0), ca=True)
    anyeku = make("a.example.com", key("p256", 2), root,
                  eku=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    assert verify([anyeku], [root])[0] == NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND
    crit = make("a.example.com", key("p256", 2), root, eku=None, extra=[
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), True)])
    assert verify([crit], [root])[0] == NX_SECURE_X509_INVALID_EXTENSIONS
    # A CA's EKU restricts what it vouches for.
    client_only = make("I", key("p256", 1), root, ca=True, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    leaf = make("a.example.com", key("p256", 2), client_only)
    assert verify([leaf, client_only], [root])[0] == NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND


def test_ip_address_reference_identities():
    import ipaddress
    root = make("R", key("p256", 0), ca=True)
    leaf = make("gw", key("p256", 2), root, san=None, extra=[(x509.SubjectAlternativeName([
        x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
        x509.IPAddress(ipaddress.ip_address("2001:db8::7")),
        x509.DNSName("gw.example.com")]), False)])
    for ok in ("192.0.2.7", "2001:db8::7", "2001:DB8:0:0:0:0:0:7", "gw.example.com"):
        assert verify([leaf], [root], dns_name=ok) == (NX_SUCCESS, 0), ok
    for bad in ("192.0.2.8", "2001:db8::8", "::ffff:192.0.2.7", "gw"):
        assert verify([leaf], [root], dns_name=bad)[0] == \
            NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH, bad
    # An IP address written as a dNSName does not identify that address (RFC 6125 6.2.1).
    ip_as_dns = make("x", key("p256", 2), root, san=["192.0.2.7"])
    assert verify([ip_as_dns], [root], dns_name="192.0.2.7")[0] == \
        NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    # A CN holding an address must be a SAN address in canonical text (BR 7.1.4.3).
    hexcn = make("0xC000027", key("p256", 2), root, san=None, extra=[(x509.SubjectAlternativeName([
        x509.IPAddress(ipaddress.ip_address("192.0.2.7"))]), False)])
    assert verify([hexcn], [root])[0] == NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


def test_name_constraints_bind_the_leaf():
    nc = x509.NameConstraints(permitted_subtrees=[x509.DNSName("plant.example")],
                              excluded_subtrees=[x509.DNSName("admin.plant.example")])
    root = make("R", key("p256", 0), ca=True)
    inter = make("Plant CA", key("p256", 1), root, ca=True, extra=[(nc, True)])
    for host, code in (("gw1.plant.example", NX_SUCCESS), ("plant.example", NX_SUCCESS),
                       ("gw1.other.example", NX_SECURE_X509_CHAIN_VERIFY_FAILURE),
                       ("x.admin.plant.example", NX_SECURE_X509_CHAIN_VERIFY_FAILURE)):
        leaf = make(host, key("p256", 2), inter)
        assert verify([leaf, inter], [root], dns_name=host)[0] == code, host
    # A CN-only leaf (matched by its CN) is held to the DNS constraints too.
    cn_only = make("gw1.other.example", key("p256", 2), inter, san=None)
    assert verify([cn_only, inter], [root])[0] == NX_SECURE_X509_CHAIN_VERIFY_FAILURE


def test_path_search_backtracks_past_a_dead_end():
    root = make("R", key("p256", 0), ca=True)
    # Two intermediates named alike: the first one sent has another key, the second
    # is expired under another key, the third is the real issuer.
    decoy = make("Issuing CA", key("p256", 4), root, ca=True)
    old = make("Issuing CA", key("p256", 1), root, ca=True, na=T0 + DAY)
    good = make("Issuing CA", key("p256", 1), root, ca=True)
    leaf = make("a.example.com", key("p256", 2), good)
    assert verify([leaf, decoy, old, good], [root]) == (NX_SUCCESS, 0)
    assert verify([leaf, decoy, old], [root])[0] == NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


def test_signature_budget_bounds_a_hostile_chain():
    calls = []

    def counting(*args):
        calls.append(1)
        return pyca_verify(*args)
    root = make("R", key("p256", 0), ca=True)
    junk = [make("Issuing CA", key("p256", 30 + i), root, ca=True) for i in range(40)]
    leaf = make("a.example.com", key("p256", 2), make("Issuing CA", key("p256", 1), root,
                                                      ca=True))
    st, _ = verify([leaf] + junk, [root], fn=counting)
    assert st != NX_SUCCESS and len(calls) <= 24
