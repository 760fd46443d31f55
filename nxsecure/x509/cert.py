"""NX_SECURE_X509_CERT: an X.509 v1-v3 certificate parsed in place (RFC 5280 4.1).

The control block holds offsets into the caller's buffer (the certificate data, or the
raw_data_buffer it was copied into), exactly as NetX keeps pointers: the buffer must stay
alive and unchanged while the certificate is in use. Nothing of the certificate is
copied out except small integers (version, pathLen, key-usage bits, times).
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
    NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE,
    NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA,
    NX_SECURE_X509_MISSING_SIGNATURE_ALGORITHM,
    NX_SECURE_X509_INVALID_VERSION,
    NX_SECURE_X509_INVALID_EXTENSIONS,
    NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE,
    NX_SECURE_X509_MISSING_PUBLIC_KEY,
    NX_SECURE_X509_INVALID_PUBLIC_KEY,
    NX_SECURE_X509_UNEXPECTED_ASN1_TAG,
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD,
    NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
)
from nxsecure.x509 import der
from nxsecure.x509.der import (
    TAG_BOOLEAN, TAG_INTEGER, TAG_BIT_STRING, TAG_OCTET_STRING, TAG_NULL, TAG_OID,
    TAG_SEQUENCE, TAG_SET,
    TAG_CTX0_CONS, TAG_CTX1, TAG_CTX2, TAG_CTX3_CONS,
)

# --- NetX numbers (nx_secure_x509.h) ---------------------------------------------
NX_SECURE_X509_KEY_TYPE_USER_DEFINED_MASK = 0xFFFF0000
NX_SECURE_X509_KEY_TYPE_NONE = const(0x00000000)
NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER = const(0x00000001)
NX_SECURE_X509_KEY_TYPE_EC_DER = const(0x00000002)
NX_SECURE_X509_KEY_TYPE_HARDWARE = const(0x00000003)

NX_SECURE_X509_VERSION_1 = const(0x0)
NX_SECURE_X509_VERSION_2 = const(0x1)
NX_SECURE_X509_VERSION_3 = const(0x2)

# keyUsage bits as NetX numbers them: (first content octet << 8) | second (RFC 5280 4.2.1.3).
NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE = const(0x8000)
NX_SECURE_X509_KEY_USAGE_NON_REPUDIATION = const(0x4000)
NX_SECURE_X509_KEY_USAGE_KEY_ENCIPHERMENT = const(0x2000)
NX_SECURE_X509_KEY_USAGE_DATA_ENCIPHERMENT = const(0x1000)
NX_SECURE_X509_KEY_USAGE_KEY_AGREEMENT = const(0x0800)
NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN = const(0x0400)
NX_SECURE_X509_KEY_USAGE_CRL_SIGN = const(0x0200)
NX_SECURE_X509_KEY_USAGE_ENCIPHER_ONLY = const(0x0100)
NX_SECURE_X509_KEY_USAGE_DECIPHER_ONLY = const(0x0080)

# NetX internal identifiers for algorithm OIDs.
NX_SECURE_TLS_X509_TYPE_UNKNOWN = const(0)
NX_SECURE_TLS_X509_TYPE_RSA = const(1)
NX_SECURE_TLS_X509_TYPE_RSA_SHA_1 = const(3)
NX_SECURE_TLS_X509_TYPE_RSA_SHA_256 = const(4)
NX_SECURE_TLS_X509_TYPE_RSA_SHA_384 = const(5)
NX_SECURE_TLS_X509_TYPE_RSA_SHA_512 = const(6)
NX_SECURE_TLS_X509_TYPE_EC = const(57)
NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_1 = const(58)
NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_224 = const(59)
NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256 = const(60)
NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_384 = const(61)
NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_512 = const(62)
# nxsecure only (NetX has no RSASSA-PSS certificate signatures): the hash is in the
# AlgorithmIdentifier's parameters (RFC 4055 3.1).
NX_SECURE_TLS_X509_TYPE_RSASSA_PSS = const(63)

# nxsecure's own X.509 status (after NetX's range; NO_TIME_SOURCE and CRL_NOT_CURRENT are
# 0x1AB and 0x1AC, verify.py): the private key given with a certificate is not the
# key of the certificate's public key (another key, or another curve). NetX has no
# code for it; returned by nx_secure_x509_certificate_initialize (RSA, and an EC key
# that names another curve) and by the local certificate add services (an EC key
# whose public point is not the certificate's).
NX_SECURE_X509_PRIVATE_KEY_MISMATCH = const(0x1AD)

NX_SECURE_TLS_X509_EC_SECP256R1 = const(0x00060017)
NX_SECURE_TLS_X509_EC_SECP384R1 = const(0x00060018)
NX_SECURE_TLS_X509_EC_SECP521R1 = const(0x00060019)

# extendedKeyUsage purposes seen on a certificate (nxsecure bit flags).
X509_EKU_SERVER_AUTH = const(0x01)
X509_EKU_CLIENT_AUTH = const(0x02)
X509_EKU_ANY = const(0x04)

# --- OIDs (content octets) -----------------------------------------------------------
_PKCS1 = b"\x2a\x86\x48\x86\xf7\x0d\x01\x01"            # 1.2.840.113549.1.1
OID_RSA_ENCRYPTION = _PKCS1 + b"\x01"                    # RFC 8017 A.1
OID_RSASSA_PSS = _PKCS1 + b"\x0a"                        # RFC 4055 3.1
OID_EC_PUBLIC_KEY = b"\x2a\x86\x48\xce\x3d\x02\x01"     # RFC 5480 2.1.1
OID_P256 = b"\x2a\x86\x48\xce\x3d\x03\x01\x07"          # RFC 5480 2.1.1.1 secp256r1
OID_P384 = b"\x2b\x81\x04\x00\x22"                       # secp384r1
OID_P521 = b"\x2b\x81\x04\x00\x23"                       # secp521r1
_ECDSA = b"\x2a\x86\x48\xce\x3d\x04"                     # 1.2.840.10045.4
OID_SHA256 = b"\x60\x86\x48\x01\x65\x03\x04\x02\x01"    # RFC 5754 2
OID_SHA384 = b"\x60\x86\x48\x01\x65\x03\x04\x02\x02"
OID_SHA512 = b"\x60\x86\x48\x01\x65\x03\x04\x02\x03"
OID_MGF1 = _PKCS1 + b"\x08"                              # RFC 4055 2.1
OID_CN = b"\x55\x04\x03"                                 # RFC 5280 A.1 id-at-commonName

# Signature algorithm OID -> NetX id (RFC 5280 4.1.1.2, RFC 4055, RFC 5758 3.2).
_SIG_ALGS = (
    (_PKCS1 + b"\x0b", NX_SECURE_TLS_X509_TYPE_RSA_SHA_256),
    (_PKCS1 + b"\x0c", NX_SECURE_TLS_X509_TYPE_RSA_SHA_384),
    (_PKCS1 + b"\x0d", NX_SECURE_TLS_X509_TYPE_RSA_SHA_512),
    (_PKCS1 + b"\x05", NX_SECURE_TLS_X509_TYPE_RSA_SHA_1),
    (OID_RSASSA_PSS, NX_SECURE_TLS_X509_TYPE_RSASSA_PSS),
    (_ECDSA + b"\x03\x02", NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_256),
    (_ECDSA + b"\x03\x03", NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_384),
    (_ECDSA + b"\x03\x04", NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_512),
    (_ECDSA + b"\x03\x01", NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_224),
    (_ECDSA + b"\x01", NX_SECURE_TLS_X509_TYPE_ECDSA_SHA_1),
)

_CURVES = (
    (OID_P256, NX_SECURE_TLS_X509_EC_SECP256R1, 32),
    (OID_P384, NX_SECURE_TLS_X509_EC_SECP384R1, 48),
    (OID_P521, NX_SECURE_TLS_X509_EC_SECP521R1, 66),
)

# Certificate extensions (RFC 5280 4.2) we interpret: id-ce = 2.5.29 -> 55 1D xx, plus
# authorityInfoAccess (id-pe 1, RFC 5280 4.2.2.1). A known extension sets bit
# X509_EXT_* in cert._ext_present (and in cert._ext_critical when marked critical);
# the verifier (verify.py) applies the criticality and position rules. A critical
# extension outside this set makes the certificate unusable for path validation
# (RFC 5280 4.2, "MUST reject"). certificatePolicies carries no constraint under the
# RFC 5280 6.1.1 default inputs (any-policy, no explicit policy); policyConstraints is
# known only so that the verifier can refuse it (we do no policy processing).
_OID_AIA = b"\x2b\x06\x01\x05\x05\x07\x01\x01"          # id-pe-authorityInfoAccess
_EXT_IDS = (14, 15, 17, 19, 30, 32, 35, 36, 37)         # the last arc of 2.5.29.x
X509_EXT_SKI = const(0x001)
X509_EXT_KEY_USAGE = const(0x002)
X509_EXT_SAN = const(0x004)
X509_EXT_BASIC_CONSTRAINTS = const(0x008)
X509_EXT_NAME_CONSTRAINTS = const(0x010)
X509_EXT_CERT_POLICIES = const(0x020)
X509_EXT_AKI = const(0x040)
X509_EXT_POLICY_CONSTRAINTS = const(0x080)
X509_EXT_EKU = const(0x100)
X509_EXT_AIA = const(0x200)

_KP = b"\x2b\x06\x01\x05\x05\x07\x03"                    # id-kp 1.3.6.1.5.5.7.3
OID_KP_SERVER_AUTH = _KP + b"\x01"
OID_KP_CLIENT_AUTH = _KP + b"\x02"
OID_ANY_EKU = b"\x55\x1d\x25\x00"                        # RFC 5280 4.2.1.12

# GeneralName tags (RFC 5280 4.2.1.6), IMPLICIT, as they appear on the wire.
SAN_TAG_OTHER_NAME = const(0xA0)
SAN_TAG_RFC822_NAME = const(0x81)
SAN_TAG_DNS_NAME = const(0x82)
SAN_TAG_DIRECTORY_NAME = const(0xA4)
SAN_TAG_URI = const(0x86)
SAN_TAG_IP_ADDRESS = const(0x87)


class NX_SECURE_X509_DISTINGUISHED_NAME:
    """A Name (RFC 5280 4.1.2.4) located in the certificate buffer: the whole Name
    element (for strict compares) and the first commonName value (offset, length)."""

    def __init__(self):
        self._clear()

    def _clear(self):
        self._buf = None
        self._start = 0          # first octet of the Name's content
        self._end = 0
        self.nx_secure_x509_common_name = -1        # offset of the CN value, -1: none
        self.nx_secure_x509_common_name_length = 0

    def common_name(self):
        """The commonName value as a memoryview (no copy), or None."""
        if self.nx_secure_x509_common_name < 0:
            return None
        s = self.nx_secure_x509_common_name
        return self._buf[s:s + self.nx_secure_x509_common_name_length]


def dn_equal(a, b, strict):
    """Issuer/subject name match. strict (NX_SECURE_X509_STRICT_NAME_COMPARE): the
    encoded Names are identical (RFC 5280 7.1 allows binary comparison when the
    issuer copied the name, which conforming CAs do). Default, as NetX: the commonName
    values are equal; names without a CN on either side fall back to the full compare
    so two CN-less names never match by accident."""
    if not strict and a.nx_secure_x509_common_name >= 0 and b.nx_secure_x509_common_name >= 0:
        sa = a.nx_secure_x509_common_name
        sb = b.nx_secure_x509_common_name
        return der.same(a._buf, sa, sa + a.nx_secure_x509_common_name_length,
                        b._buf, sb, sb + b.nx_secure_x509_common_name_length)
    return der.same(a._buf, a._start, a._end, b._buf, b._start, b._end)


class NX_SECURE_X509_CERT:
    """Certificate control block. Offsets (ints) index `nx_secure_x509_certificate_data`,
    a memoryview of exactly the certificate's DER."""

    def __init__(self):
        self.nx_secure_x509_distinguished_name = NX_SECURE_X509_DISTINGUISHED_NAME()
        self.nx_secure_x509_issuer = NX_SECURE_X509_DISTINGUISHED_NAME()
        self.nx_secure_x509_cert_identifier = 0
        self.nx_secure_x509_certificate_is_identity_cert = 0
        self.nx_secure_x509_user_allocated_cert = 1
        self._x509_clear()

    def _x509_clear(self):
        self._valid = False
        self.nx_secure_x509_version = NX_SECURE_X509_VERSION_1
        self.nx_secure_x509_certificate_raw_data = None
        self.nx_secure_x509_certificate_raw_buffer_size = 0
        self.nx_secure_x509_certificate_raw_data_length = 0
        self.nx_secure_x509_certificate_data = None       # memoryview of the DER
        self.nx_secure_x509_certificate_data_length = 0
        self.nx_secure_x509_serial_number = 0              # offset
        self.nx_secure_x509_serial_number_length = 0
        self._tbs_start = 0                                # TBSCertificate TLV incl. header
        self._tbs_end = 0
        self.nx_secure_x509_signature_algorithm = NX_SECURE_TLS_X509_TYPE_UNKNOWN
        self._sig_alg_start = 0                            # outer AlgorithmIdentifier TLV
        self._sig_alg_end = 0
        self.nx_secure_x509_signature_data = 0             # offset of the signature octets
        self.nx_secure_x509_signature_data_length = 0
        self.nx_secure_x509_validity_format = 0            # ASN.1 tag of notAfter
        self.nx_secure_x509_not_before = 0                 # offset of the time string
        self.nx_secure_x509_not_before_length = 0
        self.nx_secure_x509_not_after = 0
        self.nx_secure_x509_not_after_length = 0
        self._not_before_time = 0                          # seconds since 1970
        self._not_after_time = 0
        self.nx_secure_x509_public_algorithm = NX_SECURE_TLS_X509_TYPE_UNKNOWN
        self._spki_start = 0                               # SubjectPublicKeyInfo TLV
        self._spki_end = 0
        self.nx_secure_x509_public_key_bits = 0
        self.nx_secure_rsa_public_modulus = 0
        self.nx_secure_rsa_public_modulus_length = 0
        self.nx_secure_rsa_public_exponent = 0
        self.nx_secure_rsa_public_exponent_length = 0
        self.nx_secure_ec_public_key = 0
        self.nx_secure_ec_public_key_length = 0
        self.nx_secure_ec_named_curve = 0
        self.nx_secure_x509_extensions_data = 0
        self.nx_secure_x509_extensions_data_length = 0
        self._ext_basic_constraints = False
        self._ca = False
        self._path_len = -1                               # -1: no pathLenConstraint
        self._ext_key_usage = False
        self._key_usage = 0
        self._ext_eku = False
        self._eku = 0
        self._san_start = 0                                # GeneralNames content
        self._san_end = 0
        self._san_dns_count = 0
        self._san_types = 0                                # 1 << GeneralName tag number
        self._unknown_critical = False
        self._ext_present = 0                              # X509_EXT_* bits
        self._ext_critical = 0
        self._ski_start = 0                                # subjectKeyIdentifier value
        self._ski_end = 0
        self._aki_key_start = 0                            # AKI keyIdentifier value
        self._aki_key_end = 0
        self._aki_issuer_serial = False                    # authorityCertIssuer/SerialNumber
        self._nc_permitted_start = 0                       # GeneralSubtrees contents
        self._nc_permitted_end = 0
        self._nc_excluded_start = 0
        self._nc_excluded_end = 0
        self.nx_secure_x509_private_key_type = NX_SECURE_X509_KEY_TYPE_NONE
        self._private_key = None                           # memoryview of the key DER
        self._private_key_fields = None                    # offsets, see _parse_*_key
        self._pk_key = None                                # key objects (nxsecure/kx.py)
        self._pub_key = None
        self.nx_secure_ec_private_key = 0
        self.nx_secure_ec_private_key_length = 0
        self.nx_secure_x509_issuer._clear()
        self.nx_secure_x509_distinguished_name._clear()

    # Views for crypto backends (each allocates only the view object).
    def tbs_view(self):
        return self.nx_secure_x509_certificate_data[self._tbs_start:self._tbs_end]

    def spki_view(self):
        return self.nx_secure_x509_certificate_data[self._spki_start:self._spki_end]

    def signature_algorithm_view(self):
        return self.nx_secure_x509_certificate_data[self._sig_alg_start:self._sig_alg_end]

    def signature_view(self):
        s = self.nx_secure_x509_signature_data
        return self.nx_secure_x509_certificate_data[s:s + self.nx_secure_x509_signature_data_length]

    def not_before(self):
        return self._not_before_time

    def not_after(self):
        return self._not_after_time

    def is_ca(self):
        return self._ca

    def path_len(self):
        return self._path_len


NX_SECURE_X509_CERTIFICATE = NX_SECURE_X509_CERT


def _fail(code):
    raise NxError(code)


def _lookup(buf, s, e, table):
    for row in table:
        if der.equal(buf, s, e, row[0]):
            return row
    return None


def _parse_name(buf, pos, end, name):
    """Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue)."""
    s, e = der.expect(buf, pos, end, TAG_SEQUENCE)
    name._buf = buf
    name._start = s
    name._end = e
    p = s
    while p < e:
        rs, re_ = der.expect(buf, p, e, TAG_SET)
        if rs == re_:
            _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)   # SET SIZE (1..MAX)
        q = rs
        while q < re_:
            as_, ae = der.expect(buf, q, re_, TAG_SEQUENCE)
            os_, oe = der.expect(buf, as_, ae, TAG_OID)
            vt, vs, ve = der.tlv(buf, oe, ae)
            if ve != ae:
                _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
            if vt & 0x20:
                _fail(NX_SECURE_X509_UNEXPECTED_ASN1_TAG)   # DirectoryString is primitive
            if name.nx_secure_x509_common_name < 0 and der.equal(buf, os_, oe, OID_CN):
                name.nx_secure_x509_common_name = vs
                name.nx_secure_x509_common_name_length = ve - vs
            q = ae
        p = re_
    return e


def _parse_spki(buf, pos, end, cert):
    """SubjectPublicKeyInfo (RFC 5280 4.1.2.7; RSA: RFC 3279 2.3.1; EC: RFC 5480 2)."""
    s, e = der.expect(buf, pos, end, TAG_SEQUENCE)
    cert._spki_start = pos
    cert._spki_end = e
    as_, ae = der.expect(buf, s, e, TAG_SEQUENCE)
    os_, oe = der.expect(buf, as_, ae, TAG_OID)
    bt, bs, be = der.tlv(buf, ae, e)
    if bt != TAG_BIT_STRING or be != e:
        _fail(NX_SECURE_X509_MISSING_PUBLIC_KEY)
    unused, ks, ke = der.bit_string(buf, bs, be)
    if ks == ke:
        _fail(NX_SECURE_X509_MISSING_PUBLIC_KEY)
    if unused:
        _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)
    if der.equal(buf, os_, oe, OID_RSA_ENCRYPTION):
        # parameters MUST be NULL (RFC 3279 2.3.1); tolerate absence.
        if oe != ae:
            pt, ps, pe = der.tlv(buf, oe, ae)
            if pt != TAG_NULL or ps != pe or pe != ae:
                _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)
        try:
            rs, re_ = der.expect(buf, ks, ke, TAG_SEQUENCE)
            if re_ != ke:
                _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)
            ns, ne = der.expect(buf, rs, re_, TAG_INTEGER)
            es, ee = der.expect(buf, ne, re_, TAG_INTEGER)
            if ee != re_:
                _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)
            ns, ne = der.unsigned_span(buf, ns, ne)
            es, ee = der.unsigned_span(buf, es, ee)
        except NxError:
            raise NxError(NX_SECURE_X509_INVALID_PUBLIC_KEY)
        cert.nx_secure_x509_public_algorithm = NX_SECURE_TLS_X509_TYPE_RSA
        cert.nx_secure_rsa_public_modulus = ns
        cert.nx_secure_rsa_public_modulus_length = ne - ns
        cert.nx_secure_rsa_public_exponent = es
        cert.nx_secure_rsa_public_exponent_length = ee - es
        cert.nx_secure_x509_public_key_bits = der.bit_count(buf, ns, ne)
    elif der.equal(buf, os_, oe, OID_EC_PUBLIC_KEY):
        # ECParameters: only namedCurve is allowed (RFC 5480 2.1.1).
        cs, ce = der.expect(buf, oe, ae, TAG_OID)
        if ce != ae:
            _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)
        row = _lookup(buf, cs, ce, _CURVES)
        n = ke - ks
        first = buf[ks]
        if row is not None:
            coord = row[2]
            if not ((first == 4 and n == 1 + 2 * coord) or
                    ((first == 2 or first == 3) and n == 1 + coord)):
                _fail(NX_SECURE_X509_INVALID_PUBLIC_KEY)   # SEC 1 2.3.3 point encoding
            cert.nx_secure_ec_named_curve = row[1]
            cert.nx_secure_x509_public_key_bits = coord * 8 if coord != 66 else 521
        cert.nx_secure_x509_public_algorithm = NX_SECURE_TLS_X509_TYPE_EC
        cert.nx_secure_ec_public_key = ks
        cert.nx_secure_ec_public_key_length = n
    # Other algorithms parse (the certificate may sit unused in a store) but cannot
    # verify anything: public_algorithm stays UNKNOWN.
    return e


def _parse_bool(buf, pos, end):
    s, e = der.expect(buf, pos, end, TAG_BOOLEAN)
    if e - s != 1:
        _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
    v = buf[s]
    if v != 0 and v != 0xFF:
        _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)   # X.690 11.1
    return v == 0xFF, e


def _general_name_tag(t):
    """A GeneralName's tag: context-specific [0]..[8], constructed exactly for
    otherName, x400Address, directoryName and ediPartyName (RFC 5280 4.2.1.6)."""
    n = t & 0x1F
    if (t & 0xC0) != 0x80 or n > 8 or ((0x39 >> n) & 1) != ((t >> 5) & 1):
        _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)


def _general_names(buf, s, e):
    """GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName at buf[s:e] (the SEQUENCE
    content): context-specific tags only (RFC 5280 4.2.1.6). Returns a bit per tag
    number present (1 << (tag & 0x1F)) and the dNSName count."""
    if s == e:
        _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
    types = 0
    dns = 0
    while s < e:
        t, gs, ge = der.tlv(buf, s, e)
        _general_name_tag(t)
        if t & 0x20:
            der.check_structure(buf, gs, ge)
        types |= 1 << (t & 0x1F)
        if t == SAN_TAG_DNS_NAME:
            dns += 1
        s = ge
    return types, dns


def _general_subtrees(buf, s, e):
    """GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree (RFC 5280 4.2.1.10):
    base GeneralName, minimum 0 (DEFAULT, so absent in DER), no maximum."""
    if s == e:
        _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
    while s < e:
        gs, ge = der.expect(buf, s, e, TAG_SEQUENCE)
        t, bs, be = der.tlv(buf, gs, ge)
        _general_name_tag(t)
        if be != ge:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)   # minimum/maximum present
        if t & 0x20:
            der.check_structure(buf, bs, be)
        s = ge


def _parse_extension_value(buf, bit, vs, ve, cert):
    if bit == X509_EXT_BASIC_CONSTRAINTS:
        # RFC 5280 4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL }
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        if s < e and buf[s] == TAG_BOOLEAN:
            cert._ca, s = _parse_bool(buf, s, e)
        if s < e:
            is_, ie = der.expect(buf, s, e, TAG_INTEGER)
            cert._path_len = der.small_uint(buf, is_, ie, 2)
            s = ie
        if s != e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        cert._ext_basic_constraints = True
    elif bit == X509_EXT_KEY_USAGE:
        # RFC 5280 4.2.1.3: KeyUsage ::= BIT STRING (9 named bits).
        s, e = der.expect(buf, vs, ve, TAG_BIT_STRING)
        if e != ve:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        unused, s, e = der.bit_string(buf, s, e)
        bits = 0
        if s < e:
            bits = buf[s] << 8
            if s + 1 < e:
                bits |= buf[s + 1]
        cert._key_usage = bits & 0xFF80
        cert._ext_key_usage = True
    elif bit == X509_EXT_EKU:
        # RFC 5280 4.2.1.12: SEQUENCE SIZE (1..MAX) OF KeyPurposeId
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve or s == e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        flags = 0
        while s < e:
            os_, oe = der.expect(buf, s, e, TAG_OID)
            if der.equal(buf, os_, oe, OID_KP_SERVER_AUTH):
                flags |= X509_EKU_SERVER_AUTH
            elif der.equal(buf, os_, oe, OID_KP_CLIENT_AUTH):
                flags |= X509_EKU_CLIENT_AUTH
            elif der.equal(buf, os_, oe, OID_ANY_EKU):
                flags |= X509_EKU_ANY
            s = oe
        cert._eku = flags
        cert._ext_eku = True
    elif bit == X509_EXT_SAN:
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        cert._san_start = s
        cert._san_end = e
        cert._san_types, cert._san_dns_count = _general_names(buf, s, e)
    elif bit == X509_EXT_SKI:
        # RFC 5280 4.2.1.2: KeyIdentifier ::= OCTET STRING
        s, e = der.expect(buf, vs, ve, TAG_OCTET_STRING)
        if e != ve or s == e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        cert._ski_start = s
        cert._ski_end = e
    elif bit == X509_EXT_AKI:
        # RFC 5280 4.2.1.1: SEQUENCE { keyIdentifier [0] OPTIONAL,
        #   authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber [2] }
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        if s < e and buf[s] == 0x80:
            ks, ke = der.expect(buf, s, e, 0x80)
            if ks == ke:
                _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
            cert._aki_key_start = ks
            cert._aki_key_end = ke
            s = ke
        if s < e and buf[s] == 0xA1:
            gs, ge = der.expect(buf, s, e, 0xA1)
            _general_names(buf, gs, ge)
            cert._aki_issuer_serial = True
            s = ge
        if s < e and buf[s] == 0x82:
            is_, s = der.expect(buf, s, e, 0x82)
            cert._aki_issuer_serial = True
        if s != e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
    elif bit == X509_EXT_NAME_CONSTRAINTS:
        # RFC 5280 4.2.1.10: SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
        #   excludedSubtrees [1] GeneralSubtrees OPTIONAL }; one of them MUST be present.
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve or s == e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        if buf[s] == 0xA0:
            ps, pe = der.expect(buf, s, e, 0xA0)
            _general_subtrees(buf, ps, pe)
            cert._nc_permitted_start = ps
            cert._nc_permitted_end = pe
            s = pe
        if s < e:
            xs, xe = der.expect(buf, s, e, 0xA1)
            _general_subtrees(buf, xs, xe)
            cert._nc_excluded_start = xs
            cert._nc_excluded_end = xe
            s = xe
        if s != e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
    elif bit == X509_EXT_AIA:
        # RFC 5280 4.2.2.1: SEQUENCE SIZE (1..MAX) OF AccessDescription
        #   ::= SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName }
        s, e = der.expect(buf, vs, ve, TAG_SEQUENCE)
        if e != ve or s == e:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        while s < e:
            as_, ae = der.expect(buf, s, e, TAG_SEQUENCE)
            os_, oe = der.expect(buf, as_, ae, TAG_OID)
            t, gs, ge = der.tlv(buf, oe, ae)
            if (t & 0xC0) != 0x80 or ge != ae:
                _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
            s = ae
    # certificatePolicies and policyConstraints: structure checked by the caller only.


def _extension_bit(buf, os_, oe):
    """X509_EXT_* for a known extension OID, else 0."""
    if oe - os_ == 3 and buf[os_] == 0x55 and buf[os_ + 1] == 0x1D:
        arc = buf[os_ + 2]
        i = 0
        for x in _EXT_IDS:
            if x == arc:
                return 1 << i
            i += 1
        return 0
    if der.equal(buf, os_, oe, _OID_AIA):
        return X509_EXT_AIA
    return 0


def _parse_extensions(buf, pos, end, cert):
    """Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 4.1, 4.2)."""
    try:
        s, e = der.expect(buf, pos, end, TAG_SEQUENCE)
    except NxError:
        raise NxError(NX_SECURE_X509_INVALID_EXTENSIONS)
    if e != end or s == e:
        _fail(NX_SECURE_X509_INVALID_EXTENSIONS)
    cert.nx_secure_x509_extensions_data = s
    cert.nx_secure_x509_extensions_data_length = e - s
    first = s
    while s < e:
        xs, xe = der.expect(buf, s, e, TAG_SEQUENCE)
        os_, oe = der.expect(buf, xs, xe, TAG_OID)
        # RFC 5280 4.2: at most one instance of a particular extension, known or not.
        q = first
        while q < s:
            qs, qe = der.expect(buf, q, e, TAG_SEQUENCE)
            ps, pe = der.expect(buf, qs, qe, TAG_OID)
            if der.same(buf, ps, pe, buf, os_, oe):
                _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
            q = qe
        p = oe
        critical = False
        if p < xe and buf[p] == TAG_BOOLEAN:
            critical, p = _parse_bool(buf, p, xe)
        vs, ve = der.expect(buf, p, xe, TAG_OCTET_STRING)
        if ve != xe:
            _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
        bit = _extension_bit(buf, os_, oe)
        if bit:
            cert._ext_present |= bit
            if critical:
                cert._ext_critical |= bit
            if bit == X509_EXT_CERT_POLICIES or bit == X509_EXT_POLICY_CONSTRAINTS:
                t, ts, te = der.tlv(buf, vs, ve)
                if te != ve:
                    _fail(NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE)
            else:
                _parse_extension_value(buf, bit, vs, ve, cert)
        elif critical:
            cert._unknown_critical = True
        s = xe


def _x509_parse(cert, buf):
    """Parse the certificate occupying exactly all of `buf` into `cert`.
    Raises NxError with an X.509 code."""
    n = len(buf)
    try:
        cs, ce = der.expect(buf, 0, n, TAG_SEQUENCE)
    except NxError as err:
        if err.code == NX_SECURE_X509_UNEXPECTED_ASN1_TAG:
            err.code = NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE
        raise
    if ce != n:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE)
    der.check_structure(buf, cs, ce)
    cert.nx_secure_x509_certificate_data = buf
    cert.nx_secure_x509_certificate_data_length = n

    # Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    ts, te = der.expect(buf, cs, ce, TAG_SEQUENCE)
    cert._tbs_start = cs
    cert._tbs_end = te
    tbs_body = ts
    try:
        as_, ae = der.expect(buf, te, ce, TAG_SEQUENCE)
    except NxError:
        raise NxError(NX_SECURE_X509_MISSING_SIGNATURE_ALGORITHM)
    cert._sig_alg_start = te
    cert._sig_alg_end = ae
    os_, oe = der.expect(buf, as_, ae, TAG_OID)
    row = _lookup(buf, os_, oe, _SIG_ALGS)
    cert.nx_secure_x509_signature_algorithm = row[1] if row else NX_SECURE_TLS_X509_TYPE_UNKNOWN
    ss, se = der.expect(buf, ae, ce, TAG_BIT_STRING)
    if se != ce:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE)
    unused, ss, se = der.bit_string(buf, ss, se)
    if unused or ss == se:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    cert.nx_secure_x509_signature_data = ss
    cert.nx_secure_x509_signature_data_length = se - ss

    # TBSCertificate (RFC 5280 4.1.2)
    p = tbs_body
    version = NX_SECURE_X509_VERSION_1
    if p < te and buf[p] == TAG_CTX0_CONS:
        vs, ve = der.expect(buf, p, te, TAG_CTX0_CONS)
        is_, ie = der.expect(buf, vs, ve, TAG_INTEGER)
        if ie != ve:
            _fail(NX_SECURE_X509_INVALID_VERSION)
        version = der.small_uint(buf, is_, ie, 1)
        if version > NX_SECURE_X509_VERSION_3:
            _fail(NX_SECURE_X509_INVALID_VERSION)
        p = ve
    cert.nx_secure_x509_version = version
    s, e = der.expect(buf, p, te, TAG_INTEGER)          # serialNumber (4.1.2.2)
    if s == e:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    cert.nx_secure_x509_serial_number = s
    cert.nx_secure_x509_serial_number_length = e - s
    # signature: MUST equal signatureAlgorithm (RFC 5280 4.1.2.3).
    p = e
    s, e = der.expect(buf, p, te, TAG_SEQUENCE)
    if not der.same(buf, p, e, buf, te, ae):
        _fail(NX_SECURE_X509_WRONG_SIGNATURE_METHOD)
    p = _parse_name(buf, e, te, cert.nx_secure_x509_issuer)
    if cert.nx_secure_x509_issuer._start == cert.nx_secure_x509_issuer._end:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)   # issuer MUST be non-empty (4.1.2.4)
    # Validity ::= SEQUENCE { notBefore Time, notAfter Time } (4.1.2.5)
    vs, ve = der.expect(buf, p, te, TAG_SEQUENCE)
    t1, bs, be = der.tlv(buf, vs, ve)
    t2, fs, fe = der.tlv(buf, be, ve)
    if fe != ve:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    cert._not_before_time = der.parse_time(buf, t1, bs, be)
    cert._not_after_time = der.parse_time(buf, t2, fs, fe)
    cert.nx_secure_x509_validity_format = t2
    cert.nx_secure_x509_not_before = bs
    cert.nx_secure_x509_not_before_length = be - bs
    cert.nx_secure_x509_not_after = fs
    cert.nx_secure_x509_not_after_length = fe - fs
    p = _parse_name(buf, ve, te, cert.nx_secure_x509_distinguished_name)
    p = _parse_spki(buf, p, te, cert)
    # issuerUniqueID [1], subjectUniqueID [2]: v2/v3 only (4.1.2.8)
    for tag in (TAG_CTX1, TAG_CTX2):
        if p < te and (buf[p] & 0xDF) == tag:
            if version == NX_SECURE_X509_VERSION_1:
                _fail(NX_SECURE_X509_INVALID_VERSION)
            t, s, p = der.tlv(buf, p, te)
    if p < te:
        if buf[p] != TAG_CTX3_CONS:
            _fail(NX_SECURE_X509_UNEXPECTED_ASN1_TAG)
        if version != NX_SECURE_X509_VERSION_3:
            _fail(NX_SECURE_X509_INVALID_VERSION)      # extensions: v3 only (4.1.2.9)
        xs, xe = der.expect(buf, p, te, TAG_CTX3_CONS)
        if xe != te:
            _fail(NX_SECURE_X509_INVALID_EXTENSIONS)
        _parse_extensions(buf, xs, xe, cert)
    cert._valid = True


def _as_view(data):
    try:
        return memoryview(data)
    except TypeError:
        return None


def nx_secure_x509_certificate_initialize(certificate, certificate_data, length,
                                          raw_data_buffer, buffer_size,
                                          private_key, priv_len, private_key_type):
    """Parse a DER certificate (and optional private key) into `certificate`.

    raw_data_buffer None: parse in place in certificate_data (keep it alive).
    Otherwise the certificate (then the key) is copied into raw_data_buffer, which
    must hold length + priv_len bytes, and parsed there. Returns a status."""
    if certificate is None or certificate_data is None:
        return NX_PTR_ERROR
    src = _as_view(certificate_data)
    if src is None:
        return NX_PTR_ERROR
    if not isinstance(length, int) or length <= 0 or length > len(src):
        return NX_INVALID_PARAMETERS
    key = None
    if private_key_type != NX_SECURE_X509_KEY_TYPE_NONE:
        if private_key is None:
            return NX_PTR_ERROR
        key = _as_view(private_key)
        if key is None:
            return NX_PTR_ERROR
        if not isinstance(priv_len, int) or priv_len <= 0 or priv_len > len(key):
            return NX_INVALID_PARAMETERS
        key = key[:priv_len]
    certificate._x509_clear()
    if raw_data_buffer is not None:
        dst = _as_view(raw_data_buffer)
        if dst is None:
            return NX_PTR_ERROR
        if not isinstance(buffer_size, int) or buffer_size < 0 or buffer_size > len(dst):
            return NX_INVALID_PARAMETERS
        need = length + (priv_len if key is not None else 0)
        if buffer_size < need:
            return NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
        try:
            dst[0:length] = src[0:length]
            if key is not None:
                dst[length:need] = key
        except TypeError:
            return NX_INVALID_PARAMETERS     # read-only buffer
        buf = dst[0:length]
        if key is not None:
            key = dst[length:need]
        certificate.nx_secure_x509_certificate_raw_data = dst
        certificate.nx_secure_x509_certificate_raw_buffer_size = buffer_size
    else:
        buf = src[0:length]
        certificate.nx_secure_x509_certificate_raw_data = buf
        certificate.nx_secure_x509_certificate_raw_buffer_size = length
    certificate.nx_secure_x509_certificate_raw_data_length = length
    try:
        _x509_parse(certificate, buf)
        if private_key_type in (NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER,
                                NX_SECURE_X509_KEY_TYPE_EC_DER):
            # a local identity's key: its parsers load here (a client that only checks
            # its peer never carries them)
            from nxsecure.x509 import privkey
            key = privkey.parse(certificate, key,
                                private_key_type == NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER)
        elif private_key_type == NX_SECURE_X509_KEY_TYPE_HARDWARE:
            pass
        elif private_key_type != NX_SECURE_X509_KEY_TYPE_NONE and \
                not (private_key_type & NX_SECURE_X509_KEY_TYPE_USER_DEFINED_MASK):
            _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
    except NxError as err:
        certificate._valid = False
        return err.code
    certificate.nx_secure_x509_private_key_type = private_key_type
    certificate._private_key = key
    if key is not None:
        certificate.nx_secure_x509_certificate_is_identity_cert = 1
    return NX_SUCCESS


def x509_parse_in_place(certificate, buf):
    """Parse DER already in `buf` (a memoryview of exactly one certificate) without
    copying; used for remote certificates. Returns a status."""
    certificate._x509_clear()
    try:
        _x509_parse(certificate, buf)
    except NxError as err:
        certificate._valid = False
        return err.code
    certificate.nx_secure_x509_certificate_raw_data = buf
    certificate.nx_secure_x509_certificate_raw_buffer_size = len(buf)
    certificate.nx_secure_x509_certificate_raw_data_length = len(buf)
    return NX_SUCCESS
