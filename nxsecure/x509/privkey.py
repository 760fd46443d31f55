"""The private key that comes with a local certificate (nx_secure_x509_certificate_initialize):
PKCS#1 RSAPrivateKey, SEC 1 ECPrivateKey, or either inside PKCS#8, checked against the
certificate's public key. Loaded only when a certificate is given its key."""
from nxsecure.const import (
    NxError,
    NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
    NX_SECURE_PKCS1_INVALID_PRIVATE_KEY,
)
from nxsecure.x509 import der
from nxsecure.x509.der import TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE
from nxsecure.x509.cert import (
    _fail, _lookup, _CURVES, OID_RSA_ENCRYPTION, OID_EC_PUBLIC_KEY,
    NX_SECURE_TLS_X509_TYPE_RSA, NX_SECURE_TLS_X509_TYPE_EC, NX_SECURE_X509_PRIVATE_KEY_MISMATCH,
)


def parse(cert, key, rsa):
    """The certificate's private key from key (PKCS#8 or bare; RSA when rsa, else EC):
    its fields are recorded in cert; returns the bare key. Raises NxError."""
    key = _pkcs8_inner(cert, key, rsa)
    if rsa:
        _parse_rsa_private_key(cert, key)
    else:
        _parse_ec_private_key(cert, key)
    return key


def _parse_int_seq(buf, s, e, count, out):
    """`count` INTEGERs at buf[s:e] -> (start, end) pairs appended to out (sign octet
    stripped); returns the position after the last."""
    i = 0
    while i < count:
        is_, ie = der.expect(buf, s, e, TAG_INTEGER)
        a, b = der.unsigned_span(buf, is_, ie)
        out.append(a)
        out.append(b)
        s = ie
        i += 1
    return s


def _parse_rsa_private_key(cert, key):
    """RSAPrivateKey (RFC 8017 A.1.2): version, n, e, d, p, q, dP, dQ, qInv.
    Offsets of n, e, d, p, q, dP, dQ, qInv are kept in _private_key_fields."""
    try:
        s, e = der.expect(key, 0, len(key), TAG_SEQUENCE)
        if e != len(key):
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
        vs, ve = der.expect(key, s, e, TAG_INTEGER)
        if der.small_uint(key, vs, ve, 1) > 1:
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
        fields = []
        _parse_int_seq(key, ve, e, 8, fields)
    except NxError:
        raise NxError(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
    if cert.nx_secure_x509_public_algorithm != NX_SECURE_TLS_X509_TYPE_RSA:
        _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
    # The modulus and the public exponent must be the certificate's.
    cd = cert.nx_secure_x509_certificate_data
    m = cert.nx_secure_rsa_public_modulus
    x = cert.nx_secure_rsa_public_exponent
    if not der.same(key, fields[0], fields[1], cd, m, m + cert.nx_secure_rsa_public_modulus_length) \
            or not der.same(key, fields[2], fields[3], cd, x,
                            x + cert.nx_secure_rsa_public_exponent_length):
        _fail(NX_SECURE_X509_PRIVATE_KEY_MISMATCH)
    cert._private_key_fields = tuple(fields)


def _parse_ec_private_key(cert, key):
    """ECPrivateKey (RFC 5915 3): version 1, privateKey OCTET STRING,
    [0] parameters OPTIONAL, [1] publicKey OPTIONAL."""
    try:
        s, e = der.expect(key, 0, len(key), TAG_SEQUENCE)
        if e != len(key):
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
        vs, ve = der.expect(key, s, e, TAG_INTEGER)
        if der.small_uint(key, vs, ve, 1) != 1:
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
        ks, ke = der.expect(key, ve, e, TAG_OCTET_STRING)
        p = ke
        curve = 0
        if p < e and key[p] == 0xA0:
            ps, pe = der.expect(key, p, e, 0xA0)
            cs, ce = der.expect(key, ps, pe, TAG_OID)
            row = _lookup(key, cs, ce, _CURVES)
            curve = row[1] if row else -1
            p = pe
        if p < e:
            ps, pe = der.expect(key, p, e, 0xA1)
            p = pe
        if p != e or ks == ke:
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
    except NxError:
        raise NxError(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
    if cert.nx_secure_x509_public_algorithm != NX_SECURE_TLS_X509_TYPE_EC:
        _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
    if curve and curve != cert.nx_secure_ec_named_curve:
        _fail(NX_SECURE_X509_PRIVATE_KEY_MISMATCH)
    cert.nx_secure_ec_private_key = ks
    cert.nx_secure_ec_private_key_length = ke - ks
    cert._private_key_fields = (ks, ke)


def _pkcs8_inner(cert, key, rsa):
    """The key inside a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208 5, RFC 5958
    2: what `openssl genpkey` and most tools write), or `key` itself when it is a bare
    PKCS#1 RSAPrivateKey (RFC 8017 A.1.2) or SEC 1 ECPrivateKey (RFC 5915 3). The two
    are told apart by what follows the version INTEGER: the AlgorithmIdentifier
    SEQUENCE in PKCS#8. The algorithm must be the certificate's (rsaEncryption, or
    id-ecPublicKey on the certificate's named curve)."""
    try:
        s, e = der.expect(key, 0, len(key), TAG_SEQUENCE)
        vs, ve = der.expect(key, s, e, TAG_INTEGER)
        if ve >= e or key[ve] != TAG_SEQUENCE:
            return key                                  # PKCS#1 or SEC 1
        if e != len(key) or der.small_uint(key, vs, ve, 1) > 1:
            _fail(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
        as_, ae = der.expect(key, ve, e, TAG_SEQUENCE)
        os_, oe = der.expect(key, as_, ae, TAG_OID)
        ks, ke = der.expect(key, ae, e, TAG_OCTET_STRING)
        # attributes [0] and publicKey [1] may follow; they are not needed
        if der.equal(key, os_, oe, OID_RSA_ENCRYPTION):
            if not rsa:
                _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
        elif der.equal(key, os_, oe, OID_EC_PUBLIC_KEY):
            if rsa:
                _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
            cs, ce = der.expect(key, oe, ae, TAG_OID)
            row = _lookup(key, cs, ce, _CURVES)
            if row is None or ce != ae:
                _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
            if cert.nx_secure_x509_public_algorithm == NX_SECURE_TLS_X509_TYPE_EC and \
                    row[1] != cert.nx_secure_ec_named_curve:
                _fail(NX_SECURE_X509_PRIVATE_KEY_MISMATCH)
        else:
            _fail(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
    except NxError as err:
        if err.code in (NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
                        NX_SECURE_X509_PRIVATE_KEY_MISMATCH):
            raise
        raise NxError(NX_SECURE_PKCS1_INVALID_PRIVATE_KEY)
    return key[ks:ke]
