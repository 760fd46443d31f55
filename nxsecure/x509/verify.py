"""Certificate path building and validation (RFC 5280 6.1) with the profile checks that
protect TLS clients (those pyca and rustls-webpki apply: RFC 5280 4.1-4.2 and the CA/B
Baseline Requirements 7.1), name constraints and CRLs, and host-name / IP checks
(RFC 6125 6.4), returning NetX status codes and the alert to send. What is checked,
and what is not, is listed in docs/CERTIFICATES.md.

The signature check is injected: verify_signature(sig_alg_id, spki, tbs, signature)
-> status, each argument a memoryview into a certificate:
  sig_alg_id  the signatureAlgorithm AlgorithmIdentifier TLV (OID and parameters: the
              RSASSA-PSS hash and salt live in the parameters, RFC 4055 3.1),
  spki        the issuer's SubjectPublicKeyInfo TLV,
  tbs         the subject's TBSCertificate TLV (the signed bytes),
  signature   the signatureValue BIT STRING contents without the unused-bits octet.
It returns NX_SUCCESS or a code (NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, ...).
x509_default_verify_signature uses nxsecure.pk (imported on first use).
"""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from nxsecure.const import (
    NxError,
    NX_SUCCESS,
    NX_PTR_ERROR,
    NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED,
    NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
    NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM,
    NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG,
    NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE,
    NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED,
    NX_SECURE_TLS_INVALID_CERTIFICATE,
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
    NX_SECURE_X509_CERTIFICATE_EXPIRED,
    NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID,
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH,
    NX_SECURE_X509_KEY_USAGE_ERROR,
    NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND,
    NX_SECURE_X509_INVALID_EXTENSIONS,
    NX_SECURE_X509_INVALID_VERSION,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA,
    NX_SECURE_X509_EXTENSION_NOT_FOUND,
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD,
    NX_SECURE_X509_CERTIFICATE_NOT_FOUND,
    NX_SECURE_X509_CRL_CERTIFICATE_REVOKED,
    NX_SECURE_X509_NAME_STRING_TOO_LONG,
    AD_BAD_CERTIFICATE,
    AD_UNSUPPORTED_CERTIFICATE,
    AD_CERTIFICATE_EXPIRED,
    AD_CERTIFICATE_REVOKED,
    AD_CERTIFICATE_UNKNOWN,
    AD_UNKNOWN_CA,
    AD_DECRYPT_ERROR,
    AD_HANDSHAKE_FAILURE,
    AD_INTERNAL_ERROR,
)
from nxsecure.x509 import der
from nxsecure.x509.der import TAG_SEQUENCE, TAG_OID, TAG_NULL, TAG_INTEGER
from nxsecure.x509 import cert as _c
from nxsecure.x509.cert import dn_equal

# --- nxsecure-specific status -------------------------------------------------------
# Every other check passed but no clock was available, so validity periods were not
# checked (RFC 5280 6.1.3 (a)(2) needs the current time). Fail-closed and distinct:
# the caller may retry with an explicit `now`, or pass NX_SECURE_X509_TIME_UNCHECKED
# to skip the dates deliberately. Value: first free number after NetX's X.509 range
# (nx_secure_x509.h ends at 0x1AA); not in the user guide.
NX_SECURE_X509_NO_TIME_SOURCE = const(0x1AB)
NX_SECURE_X509_TIME_UNCHECKED = const(-1)
# nxsecure-specific too: a CRL that applies is not current at the verification time
# (before its thisUpdate or after its nextUpdate; nxsecure/x509/crl.py).
NX_SECURE_X509_CRL_NOT_CURRENT = const(0x1AC)

# Which purpose the verified (leaf) certificate must serve.
X509_ROLE_ANY = const(0)        # no keyUsage / extendedKeyUsage check on the leaf
X509_ROLE_SERVER = const(1)     # peer is a TLS server (we are the client)
X509_ROLE_CLIENT = const(2)     # peer is a TLS client (client certificate authentication)

# Longest chain accepted, leaf and trust anchor included.
NX_SECURE_X509_MAX_CHAIN_DEPTH = 8

# Signature kinds returned by signature_algorithm_info.
X509_SIG_RSA_PKCS1 = const(1)
X509_SIG_RSA_PSS = const(2)
X509_SIG_ECDSA = const(3)

_time_function = None


def nx_secure_x509_time_function_set(time_func):
    """Install the default clock: time_func() -> seconds since 1970 (UTC), or 0/None
    when unknown (e.g. before NTP). The role of NetX's
    nx_secure_tls_session_time_function_set, for code that has no session; a
    session's own time function is passed as `now` to x509_chain_verify."""
    global _time_function
    _time_function = time_func
    return NX_SUCCESS


# Alerts for certificate failures (RFC 5246 7.2.2), taking OpenSSL's practice for a
# bad signature (decrypt_error: "unable to correctly verify a signature").
_ALERTS = {
    NX_SECURE_X509_CERTIFICATE_EXPIRED: AD_CERTIFICATE_EXPIRED,
    NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID: AD_CERTIFICATE_EXPIRED,
    NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND: AD_UNKNOWN_CA,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED: AD_DECRYPT_ERROR,
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD: AD_DECRYPT_ERROR,
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE: AD_BAD_CERTIFICATE,
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH: AD_BAD_CERTIFICATE,
    NX_SECURE_X509_KEY_USAGE_ERROR: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_X509_INVALID_EXTENSIONS: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER: AD_UNSUPPORTED_CERTIFICATE,
    NX_SECURE_X509_NO_TIME_SOURCE: AD_CERTIFICATE_UNKNOWN,
    NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED: AD_HANDSHAKE_FAILURE,
    NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE: AD_INTERNAL_ERROR,
    NX_SECURE_X509_CRL_CERTIFICATE_REVOKED: AD_CERTIFICATE_REVOKED,
    NX_SECURE_X509_CRL_NOT_CURRENT: AD_CERTIFICATE_UNKNOWN,
}


def x509_error_to_alert(code):
    """Alert description for a certificate-processing status. Parse errors
    (0x181-0x196 range) are bad_certificate."""
    if code == NX_SUCCESS:
        return 0
    a = _ALERTS.get(code)
    if a is not None:
        return a
    if 0x181 <= code <= 0x1A0:
        return AD_BAD_CERTIFICATE
    return AD_BAD_CERTIFICATE if code == NX_SECURE_TLS_INVALID_CERTIFICATE else AD_INTERNAL_ERROR


# --- signature algorithms ---------------------------------------------------------

_HASH_OIDS = ((_c.OID_SHA256, "sha256", 32), (_c.OID_SHA384, "sha384", 48),
              (_c.OID_SHA512, "sha512", 64))


def _hash_alg(buf, s, e):
    """AlgorithmIdentifier for a hash (params NULL or absent, RFC 4055 2.1) -> row."""
    os_, oe = der.expect(buf, s, e, TAG_OID)
    if oe != e:
        t, ps, pe = der.tlv(buf, oe, e)
        if t != TAG_NULL or ps != pe or pe != e:
            return None
    for row in _HASH_OIDS:
        if der.equal(buf, os_, oe, row[0]):
            return row
    return None


def _pss_params(buf, s, e):
    """RSASSA-PSS-params (RFC 4055 3.1) -> (hash_name, salt_len) or raises.
    Supported: SHA-256/384/512 with MGF1 over the same hash, trailerField 1.
    The SHA-1 defaults are refused."""
    ps, pe = der.expect(buf, s, e, TAG_SEQUENCE)
    if pe != e:
        raise NxError(NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM)
    hrow = None
    mgf_ok = False
    salt = 20
    p = ps
    if p < pe and buf[p] == 0xA0:
        s0, e0 = der.expect(buf, p, pe, 0xA0)
        hs, he = der.expect(buf, s0, e0, TAG_SEQUENCE)
        hrow = _hash_alg(buf, hs, he)
        p = e0
    if p < pe and buf[p] == 0xA1:
        s1, e1 = der.expect(buf, p, pe, 0xA1)
        ms, me = der.expect(buf, s1, e1, TAG_SEQUENCE)
        mos, moe = der.expect(buf, ms, me, TAG_OID)
        if der.equal(buf, mos, moe, _c.OID_MGF1) and hrow is not None:
            hs, he = der.expect(buf, moe, me, TAG_SEQUENCE)
            mrow = _hash_alg(buf, hs, he)
            mgf_ok = mrow is not None and mrow[1] == hrow[1]
        p = e1
    if p < pe and buf[p] == 0xA2:
        s2, e2 = der.expect(buf, p, pe, 0xA2)
        is_, ie = der.expect(buf, s2, e2, TAG_INTEGER)
        salt = der.small_uint(buf, is_, ie, 2)
        p = e2
    if p < pe and buf[p] == 0xA3:
        s3, e3 = der.expect(buf, p, pe, 0xA3)
        is_, ie = der.expect(buf, s3, e3, TAG_INTEGER)
        if der.small_uint(buf, is_, ie, 1) != 1:
            raise NxError(NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM)
        p = e3
    if p != pe or hrow is None or not mgf_ok:
        raise NxError(NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM)
    return hrow[1], salt


def signature_algorithm_info(sig_alg_id):
    """Classify a signatureAlgorithm AlgorithmIdentifier TLV (memoryview).
    Returns (status, kind, hash_name, pss_salt_length); kind is X509_SIG_*.
    RSA PKCS#1 v1.5 and ECDSA with SHA-256/384/512 (RFC 4055 5, RFC 5758 3.2),
    RSASSA-PSS with SHA-256/384/512 (RFC 4055 3.1). SHA-1 is refused."""
    try:
        s, e = der.expect(sig_alg_id, 0, len(sig_alg_id), TAG_SEQUENCE)
        os_, oe = der.expect(sig_alg_id, s, e, TAG_OID)
        alg = NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM
        for row in _c._SIG_ALGS:
            if der.equal(sig_alg_id, os_, oe, row[0]):
                alg = row[1]
                break
        if alg == _c.NX_SECURE_TLS_X509_TYPE_RSASSA_PSS:
            h, salt = _pss_params(sig_alg_id, oe, e)
            return NX_SUCCESS, X509_SIG_RSA_PSS, h, salt
        if alg in (_c.NX_SECURE_TLS_X509_TYPE_RSA_SHA_256, _c.NX_SECURE_TLS_X509_TYPE_RSA_SHA_384,
                   _c.NX_SECURE_TLS_X509_TYPE_RSA_SHA_512):
            if oe != e:
                t, ps, pe = der.tlv(sig_alg_id, oe, e)
                if t != TAG_NULL or ps != pe or pe != e:
                    return NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM, 0, None, 0
            h = ("sha256", "sha384", "sha512")[alg - _c.NX_SECURE_TLS_X509_TYPE_RSA_SHA_256]
            return NX_SUCCESS, X509_SIG_RSA_PKCS1, h, 0
        if alg in (_c.NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256, _c.NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_384,
                   _c.NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_512):
            if oe != e:
                return NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM, 0, None, 0
            h = ("sha256", "sha384", "sha512")[alg - _c.NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256]
            return NX_SUCCESS, X509_SIG_ECDSA, h, 0
    except NxError as err:
        if err.code == NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM:
            return err.code, 0, None, 0
    return NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM, 0, None, 0


_pk_backend = None


def x509_pk_backend_set(backend):
    """Choose the nxsecure.pk backend the default signature check uses (e.g. the
    port's pyca backend on CPython); None: nxsecure.pk.portable_pk_backend()."""
    global _pk_backend
    _pk_backend = backend
    return NX_SUCCESS


def x509_default_verify_signature(sig_alg_id, spki, tbs, signature):
    """Default verify_signature over nxsecure.pk (imported here, on first use, so a
    build without it still parses certificates): the key from pk.parse_spki, the
    digest from pk.hashes, then backend.ecdsa_verify(curve, key, hash, digest,
    der_sig) / rsa_verify_pkcs1(key, hash, digest, sig) / rsa_verify_pss(key, hash,
    digest, sig). Without nxsecure.pk: NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE."""
    status, kind, hash_name, salt = signature_algorithm_info(sig_alg_id)
    if status != NX_SUCCESS:
        return status
    try:
        import nxsecure.pk as pk
        from nxsecure.pk import hashes
    except ImportError:
        return NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE
    backend = _pk_backend if _pk_backend is not None else pk.portable_pk_backend()
    status, key = pk.parse_spki(spki)
    if status != NX_SUCCESS:
        return status
    ctor = hashes.ctor(hash_name)
    if ctor is None:
        return NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG       # e.g. no sha384 on this board
    h = ctor()
    h.update(tbs)
    digest = h.digest()
    is_ec = hasattr(key, "curve")
    if kind == X509_SIG_ECDSA:
        if not is_ec:
            return NX_SECURE_X509_WRONG_SIGNATURE_METHOD
        ok = backend.ecdsa_verify(key.curve, key, hash_name, digest, signature)
    elif is_ec:
        return NX_SECURE_X509_WRONG_SIGNATURE_METHOD
    elif kind == X509_SIG_RSA_PSS:
        if salt != hashes.size(hash_name):
            return NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG   # backend: salt = hash length
        ok = backend.rsa_verify_pss(key, hash_name, digest, signature)
    else:
        ok = backend.rsa_verify_pkcs1(key, hash_name, digest, signature)
    return NX_SUCCESS if ok else NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED


# --- host names (RFC 6125 6.4; the rules are in names.py) -------------------------------
# names.py is imported where it is used, so that an application that loads nxsecure.x509
# without verifying anything (a server without client certificates) does not carry it.

# Longest name an NX_SECURE_X509_DNS_NAME holds (NetX's build option, there 100 by
# default): a whole DNS name, RFC 1035 2.3.4.
NX_SECURE_X509_DNS_NAME_MAX = const(253)


class NX_SECURE_X509_DNS_NAME:
    """A host name (or IP address text) in the control block's own array, as NetX's
    struct holds it: nx_secure_x509_dns_name[:nx_secure_x509_dns_name_length]."""

    def __init__(self):
        self.nx_secure_x509_dns_name = bytearray(NX_SECURE_X509_DNS_NAME_MAX)
        self.nx_secure_x509_dns_name_length = 0

    def name(self):
        """The name as bytes (a copy)."""
        return bytes(self.nx_secure_x509_dns_name[:self.nx_secure_x509_dns_name_length])


def nx_secure_x509_dns_name_initialize(dns_name, name_string, length):
    """NetX service: copy name_string[:length] into dns_name (for
    nxsecure_dtls_session_sni_extension_set). A name longer than
    NX_SECURE_X509_DNS_NAME_MAX is refused with NX_SECURE_X509_NAME_STRING_TOO_LONG
    (NetX cuts it short, which would check another name than the one asked for)."""
    if dns_name is None or name_string is None or \
            not isinstance(dns_name, NX_SECURE_X509_DNS_NAME):
        return NX_PTR_ERROR
    if isinstance(name_string, str):
        name_string = name_string.encode()
    try:
        src = memoryview(name_string)
    except TypeError:
        return NX_PTR_ERROR
    if not isinstance(length, int) or length < 0 or length > len(src):
        return NX_INVALID_PARAMETERS
    if length > NX_SECURE_X509_DNS_NAME_MAX:
        return NX_SECURE_X509_NAME_STRING_TOO_LONG
    dns_name.nx_secure_x509_dns_name[:length] = src[:length]
    dns_name.nx_secure_x509_dns_name_length = length
    return NX_SUCCESS


def nx_secure_x509_common_name_dns_check(certificate, dns_tld, length):
    """Does the certificate identify host `dns_tld[:length]`? A host name is matched
    against the subjectAltName dNSName entries, or against the subject commonName when
    the certificate has no subjectAltName at all (RFC 6125 6.4.4); an IP address
    ('192.0.2.1', '2001:db8::1') against the iPAddress entries only. Returns
    NX_SUCCESS or NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH."""
    from nxsecure.x509 import names
    if certificate is None or dns_tld is None:
        return NX_PTR_ERROR
    if isinstance(dns_tld, str):
        dns_tld = dns_tld.encode()
    try:
        ref = memoryview(dns_tld)
    except TypeError:
        return NX_PTR_ERROR
    if not isinstance(length, int) or length < 0 or length > len(ref):
        return NX_INVALID_PARAMETERS
    if not certificate._valid:
        return NX_INVALID_PARAMETERS
    return names.host_check(certificate, ref, length)


# --- the certificate profile (RFC 5280 4.1-4.2, CA/B Baseline Requirements 7.1) -------------

_rsa_min_bits = 2048


def nxsecure_x509_minimum_rsa_key_size_set(bits):
    """Smallest RSA modulus, in bits, accepted in a certificate being verified (default
    2048, CA/B BR 6.1.5; NIST SP 800-131A). Lower it only for legacy devices whose
    certificates cannot be replaced; 1024 is the floor. Returns NX_SUCCESS or
    NX_INVALID_PARAMETERS."""
    global _rsa_min_bits
    if not isinstance(bits, int) or bits < 1024 or bits > 16384:
        return NX_INVALID_PARAMETERS
    _rsa_min_bits = bits
    return NX_SUCCESS


def _identical(a, b):
    da = a.nx_secure_x509_certificate_data
    db = b.nx_secure_x509_certificate_data
    return der.same(da, 0, len(da), db, 0, len(db))


def _self_issued(c):
    # RFC 5280 6.1: subject and issuer names are identical.
    return dn_equal(c.nx_secure_x509_issuer, c.nx_secure_x509_distinguished_name, True)


def _serial_ok(c):
    """RFC 5280 4.1.2.2: a positive integer of at most 20 octets (a leading 00 that
    only keeps it positive does not count)."""
    buf = c.nx_secure_x509_certificate_data
    s = c.nx_secure_x509_serial_number
    e = s + c.nx_secure_x509_serial_number_length
    if buf[s] & 0x80:
        return False                                   # negative
    if buf[s] == 0:
        s += 1
    if e - s > 20:
        return False
    while s < e:
        if buf[s]:
            return True
        s += 1
    return False                                       # zero


def _key_ok(c):
    """Keys we can use: RSA of at least _rsa_min_bits (a whole number of octets, as
    rustls-webpki requires), EC on P-256 or P-384 (RFC 5480 named curves). Anything
    else (DSA, P-192, explicit curve parameters, ...) fails closed."""
    alg = c.nx_secure_x509_public_algorithm
    bits = c.nx_secure_x509_public_key_bits
    if alg == _c.NX_SECURE_TLS_X509_TYPE_RSA:
        return bits >= _rsa_min_bits and not bits & 7
    if alg == _c.NX_SECURE_TLS_X509_TYPE_EC:
        return c.nx_secure_ec_named_curve in (_c.NX_SECURE_TLS_X509_EC_SECP256R1,
                                              _c.NX_SECURE_TLS_X509_EC_SECP384R1)
    return False


def _check_common(c, when, anchor):
    """What every certificate on a path must satisfy, wherever it sits. anchor: a
    trusted certificate (the path's anchor, or a pinned leaf), whose serial number,
    version and authority key identifier are not the verifier's business."""
    from nxsecure.x509 import names
    if c._unknown_critical:
        return NX_SECURE_X509_INVALID_EXTENSIONS            # RFC 5280 4.2
    if when is not None:
        # RFC 5280 4.1.2.5 / 6.1.3 (a)(2): both bounds inclusive.
        if when < c._not_before_time:
            return NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID
        if when > c._not_after_time:
            return NX_SECURE_X509_CERTIFICATE_EXPIRED
    if c.nx_secure_x509_version != _c.NX_SECURE_X509_VERSION_3 and not anchor:
        return NX_SECURE_X509_INVALID_VERSION              # CA/B BR 7.1.1
    present = c._ext_present
    crit = c._ext_critical
    # RFC 5280 4.2.1.1, 4.2.1.2, 4.2.2.1: AKI, SKI and AIA MUST be non-critical.
    # 4.2.1.11: policyConstraints MUST be critical, and we do no policy processing
    # (RFC 5280 6.1.3 (d)-(f)), so a certificate carrying it fails closed.
    if crit & (_c.X509_EXT_AKI | _c.X509_EXT_SKI | _c.X509_EXT_AIA) or \
            present & _c.X509_EXT_POLICY_CONSTRAINTS:
        return NX_SECURE_X509_INVALID_EXTENSIONS
    if not anchor and not _serial_ok(c):
        return NX_SECURE_X509_INVALID_CERTIFICATE_DATA
    if not _key_ok(c):
        return NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER
    # RFC 5280 4.2.1.1: the keyIdentifier MUST be present in every certificate a CA
    # issues (the trust anchor is not issued on the path: RFC 5280 6.1.1 (d) takes only
    # its name and key); CA/B BR 7.1.2.1.3: a self-signed root's AKI is the
    # keyIdentifier alone and equals its SKI.
    aki = present & _c.X509_EXT_AKI
    if aki and c._aki_key_start == c._aki_key_end:
        return NX_SECURE_X509_INVALID_EXTENSIONS
    if anchor:
        if aki and _self_issued(c):
            buf = c.nx_secure_x509_certificate_data
            if c._aki_issuer_serial or (c._ski_end and not der.same(
                    buf, c._aki_key_start, c._aki_key_end, buf, c._ski_start, c._ski_end)):
                return NX_SECURE_X509_INVALID_EXTENSIONS
    elif not aki and not _self_issued(c):
        return NX_SECURE_X509_EXTENSION_NOT_FOUND
    # RFC 5280 4.2.1.6: an empty subject needs a critical subjectAltName.
    dn = c.nx_secure_x509_distinguished_name
    if dn._start == dn._end and not (crit & _c.X509_EXT_SAN):
        return NX_SECURE_X509_INVALID_EXTENSIONS
    if present & _c.X509_EXT_SAN:
        return names.san_syntax(c)
    return NX_SUCCESS


def _eku_ok(c, role):
    if not c._ext_eku or role == X509_ROLE_ANY:
        return True
    want = _c.X509_EKU_SERVER_AUTH if role == X509_ROLE_SERVER else _c.X509_EKU_CLIENT_AUTH
    return c._eku & want


def _check_leaf(c, when, role, pinned):
    """The end-entity profile: RFC 5280 4.2.1.3, 4.2.1.9, 4.2.1.10, 4.2.1.12, with the
    CA/B rules pyca and rustls-webpki apply (BR 7.1.2.7). A leaf that is itself a
    trusted certificate (pinned) is taken as the application gave it: only the checks
    that do not depend on its place in a PKI run."""
    from nxsecure.x509 import names
    st = _check_common(c, when, pinned)
    if st != NX_SUCCESS:
        return st
    present = c._ext_present
    crit = c._ext_critical
    if not pinned:
        if c._ca:
            return NX_SECURE_X509_CHAIN_VERIFY_FAILURE      # a CA is not an end entity
        if c._key_usage & _c.NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN:
            return NX_SECURE_X509_KEY_USAGE_ERROR           # RFC 5280 4.2.1.9
        if present & _c.X509_EXT_NAME_CONSTRAINTS:
            return NX_SECURE_X509_INVALID_EXTENSIONS        # CA certificates only
        dn = c.nx_secure_x509_distinguished_name
        if crit & _c.X509_EXT_SAN and dn._start != dn._end:
            return NX_SECURE_X509_INVALID_EXTENSIONS        # BR 7.1.2.7.12
        if crit & _c.X509_EXT_EKU:
            return NX_SECURE_X509_INVALID_EXTENSIONS        # BR 7.1.2.7.6
        if role != X509_ROLE_ANY and c._eku & _c.X509_EKU_ANY:
            return NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND   # BR 7.1.2.7.10
        st = names.cn_address_check(c)
        if st != NX_SUCCESS:
            return st
    # The leaf's purpose for its TLS role (RFC 5280 4.2.1.3, 4.2.1.12; RFC 5246 7.4.2, 7.4.6).
    if role == X509_ROLE_SERVER:
        ku = (_c.NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE |
              _c.NX_SECURE_X509_KEY_USAGE_KEY_ENCIPHERMENT |
              _c.NX_SECURE_X509_KEY_USAGE_KEY_AGREEMENT)
    elif role == X509_ROLE_CLIENT:
        ku = _c.NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE
    else:
        return NX_SUCCESS
    if c._ext_key_usage and not (c._key_usage & ku):
        return NX_SECURE_X509_KEY_USAGE_ERROR
    if not _eku_ok(c, role):
        return NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND
    return NX_SUCCESS


def _check_ca(c, when, role, anchor):
    """A certificate used to verify another one: intermediate or trust anchor
    (RFC 5280 4.2.1.2, 4.2.1.3, 4.2.1.9, 6.1.4 (k), (n))."""
    from nxsecure.x509 import names
    st = _check_common(c, when, anchor)
    if st != NX_SUCCESS:
        return st
    if not c._ext_basic_constraints or not c._ca or \
            not (c._ext_critical & _c.X509_EXT_BASIC_CONSTRAINTS):
        return NX_SECURE_X509_CHAIN_VERIFY_FAILURE          # 4.2.1.9: present, critical
    if c._ext_key_usage and not (c._key_usage & _c.NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN):
        return NX_SECURE_X509_KEY_USAGE_ERROR
    if not c._ski_end:
        return NX_SECURE_X509_EXTENSION_NOT_FOUND           # 4.2.1.2: MUST in CAs
    dn = c.nx_secure_x509_distinguished_name
    if dn._start == dn._end:
        return NX_SECURE_X509_CHAIN_VERIFY_FAILURE          # 4.1.2.6: CAs are named
    # A CA's extendedKeyUsage restricts what it vouches for, as pyca and rustls-webpki
    # read it: it must allow the leaf's purpose (or be anyExtendedKeyUsage).
    if not _eku_ok(c, role) and not (c._eku & _c.X509_EKU_ANY):
        return NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND
    if c._ext_present & _c.X509_EXT_NAME_CONSTRAINTS:
        return names.nc_syntax(c)
    return NX_SUCCESS


# --- chain building and validation ------------------------------------------------------

# Signature checks one verification may spend searching for a path, so that a hostile
# peer (or a pathological store) costs a bounded time on a small board (rustls-webpki
# allows 100; a real chain needs one per certificate). Name constraints have their
# own bound (names.py).
_SIGNATURE_BUDGET = const(24)
# Certificates on one path, self-issued ones included (max_depth does not count those).
_PATH_CAP = const(16)


def _on_path(path, cand):
    """A loop: the same certificate, or the same subject with the same key."""
    cd = cand.nx_secure_x509_certificate_data
    cn = cand.nx_secure_x509_distinguished_name
    for p in path:
        if p is cand or _identical(p, cand):
            return True
        pd = p.nx_secure_x509_certificate_data
        pn = p.nx_secure_x509_distinguished_name
        if der.same(pd, pn._start, pn._end, cd, cn._start, cn._end) and \
                der.same(pd, p._spki_start, p._spki_end, cd, cand._spki_start, cand._spki_end):
            return True
    return False


def _depth(path):
    """Certificates on the path that count against max_depth: all but the self-issued
    intermediates (as pathLenConstraint counts them, RFC 5280 6.1.4 (l))."""
    n = 1
    i = 1
    while i < len(path):
        if not _self_issued(path[i]):
            n += 1
        i += 1
    return n


def _path_ok(path, role, when, store, verify_signature):
    """Checks of a complete path, leaf first, trust anchor last, that need more than
    one certificate: pathLenConstraint (6.1.4 (l), (m)), name constraints (6.1.3 (b),
    6.1.4 (g)) and revocation (6.1.3 (a)(3)) by the store's CRLs."""
    from nxsecure.x509 import names
    n = len(path)
    i = 1
    while i < n:
        c = path[i]
        if c._path_len >= 0:
            below = 0
            j = 1
            while j < i:
                if not _self_issued(path[j]):
                    below += 1
                j += 1
            if below > c._path_len:
                return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        if c._ext_present & _c.X509_EXT_NAME_CONSTRAINTS:
            j = 0
            while j < i:
                # Not applied to self-issued intermediates (RFC 5280 6.1.3 (b)).
                if j == 0 or not _self_issued(path[j]):
                    st = names.nc_check(c, path[j], j == 0)
                    if st != NX_SUCCESS:
                        return st
                j += 1
        i += 1
    crls = store._crls
    if crls:
        from nxsecure.x509 import crl
        i = 0
        while i < n - 1:
            st = crl.x509_crl_path_check(crls, path[i], path[i + 1], when, verify_signature)
            if st != NX_SUCCESS:
                return st
            i += 1
    return NX_SUCCESS


def _in_trusted(trusted, cand):
    for t in trusted:
        if _identical(t, cand):
            return True
    return False


def _resolve_now(now):
    if now is None:
        if _time_function is None:
            return None
        now = _time_function()
    if now is None or now == 0:
        return None                           # NetX convention: 0 means "no time"
    return now


def x509_chain_verify(store, leaf=0, now=None, role=X509_ROLE_ANY, verify_signature=None,
                      dns_name=None, strict_name=False, max_depth=NX_SECURE_X509_MAX_CHAIN_DEPTH):
    """Verify a peer certificate against store's trusted certificates.

    leaf: index into the store's remote certificates, or an NX_SECURE_X509_CERT.
    Intermediates come from the remote certificates (any order) and the trusted
    store; every certificate in the trusted store is a trust anchor (NetX semantics:
    trusted CA or intermediate CA), and a leaf that is itself trusted is accepted as
    pinned. When several paths exist they are tried in turn (trusted issuers first)
    until one validates. now: seconds since 1970, None for the default time function,
    NX_SECURE_X509_TIME_UNCHECKED to skip validity periods. role: X509_ROLE_*.
    dns_name: the host name or IP address the peer must be (RFC 6125; None: no check).
    strict_name: full-DN issuer match (NX_SECURE_X509_STRICT_NAME_COMPARE).
    max_depth: longest path, leaf and anchor included, self-issued intermediates not
    counted. The store's CRLs (store_crl_add) are checked for every certificate on
    the path. Returns (status, alert): (NX_SUCCESS, 0) or a NetX code and its alert.
    """
    if store is None:
        return NX_PTR_ERROR, AD_INTERNAL_ERROR
    if verify_signature is None:
        verify_signature = x509_default_verify_signature
    remote = store._remote_pool
    rcount = store._remote_count
    if isinstance(leaf, int):
        if leaf < 0 or leaf >= rcount:
            return NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED, AD_HANDSHAKE_FAILURE
        leaf = remote[leaf]
    if leaf is None or not leaf._valid:
        return NX_SECURE_X509_CERTIFICATE_NOT_FOUND, AD_BAD_CERTIFICATE
    status = _verify(store, leaf, now, role, verify_signature, dns_name, strict_name, max_depth)
    return status, x509_error_to_alert(status)


def _verify(store, leaf, now, role, verify_signature, dns_name, strict, max_depth):
    from nxsecure.x509 import names
    if max_depth < 1:
        return NX_INVALID_PARAMETERS
    when = None
    if now != NX_SECURE_X509_TIME_UNCHECKED:
        when = _resolve_now(now)
    trusted = store.nx_secure_x509_trusted_certificates
    pinned = _in_trusted(trusted, leaf)
    st = _check_leaf(leaf, when, role, pinned)
    if st == NX_SUCCESS and dns_name is not None:
        if isinstance(dns_name, str):
            dns_name = dns_name.encode()
        st = names.host_check(leaf, dns_name, len(dns_name))
    if st == NX_SUCCESS and not pinned:
        st = _build(store, leaf, when, role, verify_signature, strict, max_depth)
    if st == NX_SUCCESS and when is None and now != NX_SECURE_X509_TIME_UNCHECKED:
        return NX_SECURE_X509_NO_TIME_SOURCE
    return st


def _build(store, leaf, when, role, verify_signature, strict, max_depth):
    """Depth-first search for a path from `leaf` to a trust anchor (RFC 5280 6.1; RFC
    4158 for the search), backtracking over alternative issuers, within the budgets.
    Every candidate issuer passes its own profile checks before its signature is
    checked. Returns NX_SUCCESS, or the first failure met on the way (the most
    specific reason), or NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND."""
    trusted = store.nx_secure_x509_trusted_certificates
    tcount = len(trusted)
    remote = store._remote_pool
    rcount = store._remote_count
    path = [leaf]
    pos = [0]
    err = NX_SUCCESS
    sigs = _SIGNATURE_BUDGET
    while path:
        k = len(path) - 1
        cur = path[k]
        i = pos[k]
        grown = False
        while i < tcount + rcount:
            anchor = i < tcount
            cand = trusted[i] if anchor else remote[i - tcount]
            i += 1
            if cand is cur or not cand._valid or \
                    not dn_equal(cur.nx_secure_x509_issuer,
                                 cand.nx_secure_x509_distinguished_name, strict):
                continue
            if (not anchor and _in_trusted(trusted, cand)) or _on_path(path, cand):
                continue
            st = _check_ca(cand, when, role, anchor)
            if st == NX_SUCCESS:
                path.append(cand)
                deep = _depth(path) + (0 if anchor else 1)    # an anchor is still needed
                path.pop()
                if deep > max_depth or len(path) + 1 >= _PATH_CAP:
                    st = NX_SECURE_X509_CHAIN_VERIFY_FAILURE
            if st == NX_SUCCESS:
                if sigs == 0:
                    return err or NX_SECURE_X509_CHAIN_VERIFY_FAILURE
                sigs -= 1
                try:
                    st = verify_signature(cur.signature_algorithm_view(), cand.spki_view(),
                                          cur.tbs_view(), cur.signature_view())
                except NxError as e:
                    st = e.code
            if st == NX_SUCCESS and anchor:
                path.append(cand)
                st = _path_ok(path, role, when, store, verify_signature)
                path.pop()
                if st == NX_SUCCESS:
                    return NX_SUCCESS
            if st != NX_SUCCESS:
                if err == NX_SUCCESS:
                    err = st
                continue
            pos[k] = i
            path.append(cand)
            pos.append(0)
            grown = True
            break
        if not grown:
            path.pop()
            pos.pop()
    return err or NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND
