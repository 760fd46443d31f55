# Key objects and their DER parsers: SubjectPublicKeyInfo (RFC 5280 4.1.2.7,
# RFC 3279 2.3.1, RFC 5480 2), PKCS#1 RSAPublicKey / RSAPrivateKey (RFC 8017
# A.1.1, A.1.2), SEC 1 ECPrivateKey (SEC 1 v2 C.4, RFC 5915 3) and the PKCS#8
# PrivateKeyInfo wrapper of either (RFC 5208 5).
#
# Every parser returns (status, key): (NX_SUCCESS, key) or (NetX error code, None).
# None of them raises on bad input. Input may be bytes or a memoryview and must
# hold exactly one DER element (trailing bytes are an error).
from nxsecure.const import (NxError, NX_SUCCESS, NX_SECURE_X509_INVALID_PUBLIC_KEY,
                            NX_SECURE_PKCS1_INVALID_PRIVATE_KEY,
                            NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
                            NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER)
from nxsecure.pk import der

# OID bodies (DER content octets)
OID_RSA = b'\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01'      # 1.2.840.113549.1.1.1
OID_EC = b'\x2a\x86\x48\xce\x3d\x02\x01'                # 1.2.840.10045.2.1
OID_P256 = b'\x2a\x86\x48\xce\x3d\x03\x01\x07'          # 1.2.840.10045.3.1.7
OID_P384 = b'\x2b\x81\x04\x00\x22'                      # 1.3.132.0.34

_CURVE_SIZE = {23: 32, 24: 48}


class RsaKey:
    """RSA key: n, e, size (modulus bytes); a private key also has d and the CRT
    values p, q, dp, dq, qinv (RFC 8017 3.2). `private` tells which it is.
    A backend may cache its own form of the key in `cache`."""

    def __init__(self, n, e, d=0, p=0, q=0, dp=0, dq=0, qinv=0, size=0):
        self.n = n
        self.e = e
        self.d = d
        self.p = p
        self.q = q
        self.dp = dp
        self.dq = dq
        self.qinv = qinv
        if size == 0:
            while n >> (8 * size):
                size += 1
        self.size = size
        self.private = d != 0
        self.cache = None


class EcKey:
    """EC key on a TLS NamedCurve `curve` (23 P-256, 24 P-384): `pub` the SEC 1
    uncompressed point (may be None for a private key stored without it) and,
    for a private key, the scalar `d`."""

    def __init__(self, curve, pub=None, d=0):
        self.curve = curve
        self.pub = pub
        self.d = d
        self.private = d != 0
        self.cache = None


def _curve_oid(b, s, e):
    o = bytes(b[s:e])
    if o == OID_P256:
        return 23
    if o == OID_P384:
        return 24
    return 0


def _rsa_public(b, s, e, code):
    # RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    s0, e0 = der.expect(b, s, e, der.TAG_SEQUENCE, code)
    if e0 != e:
        raise NxError(code)
    ns, ne = der.expect(b, s0, e0, der.TAG_INTEGER, code)
    es, ee = der.expect(b, ne, e0, der.TAG_INTEGER, code)
    if ee != e0:
        raise NxError(code)
    n = der.uint(b, ns, ne, code)
    ex = der.uint(b, es, ee, code)
    size = der.int_len(b, ns, ne)
    # n odd and at least 512 bits; e odd, 3 <= e < n (RFC 8017 3.1)
    if size < 64 or not n & 1 or ex < 3 or not ex & 1 or ex >= n:
        raise NxError(code)
    return RsaKey(n, ex, size=size)


def _ec_public(curve, b, s, e, code):
    from nxsecure.pk import ec
    pub = bytes(b[s:e])
    if ec.decode_point(ec.curve(curve), pub) is None:   # SEC 1 3.2.2.1
        raise NxError(code)
    return pub


def _bit_string(b, s, e, code):
    # BIT STRING body: unused-bits octet must be 0 for a key (X.690 8.6.2)
    if e - s < 1 or b[s] != 0:
        raise NxError(code)
    return s + 1


def parse_rsa_public_key(data):
    """PKCS#1 RSAPublicKey -> (status, RsaKey)."""
    code = NX_SECURE_X509_INVALID_PUBLIC_KEY
    try:
        return NX_SUCCESS, _rsa_public(data, 0, len(data), code)
    except (NxError, TypeError, ValueError, IndexError):
        return code, None


def parse_spki(data):
    """SubjectPublicKeyInfo -> (status, RsaKey or EcKey).
    rsaEncryption (params NULL) and id-ecPublicKey with namedCurve P-256/P-384.
    Malformed: NX_SECURE_X509_INVALID_PUBLIC_KEY; well formed but another
    algorithm or curve: NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER."""
    code = NX_SECURE_X509_INVALID_PUBLIC_KEY
    try:
        n = len(data)
        s0, e0 = der.expect(data, 0, n, der.TAG_SEQUENCE, code)
        if e0 != n:
            return code, None
        as_, ae = der.expect(data, s0, e0, der.TAG_SEQUENCE, code)   # AlgorithmIdentifier
        os_, oe = der.expect(data, as_, ae, der.TAG_OID, code)
        bs, be = der.expect(data, ae, e0, der.TAG_BIT_STRING, code)
        if be != e0:
            return code, None
        ks = _bit_string(data, bs, be, code)
        oid = bytes(data[os_:oe])
        if oid == OID_RSA:
            # RFC 3279 2.3.1: parameters NULL (tolerate absent, as many do)
            if oe != ae:
                t, ps, pe = der.tlv(data, oe, ae, code)
                if t != der.TAG_NULL or ps != pe or pe != ae:
                    return code, None
            return NX_SUCCESS, _rsa_public(data, ks, be, code)
        if oid == OID_EC:
            # RFC 5480 2.1.1: parameters namedCurve OID (implicit/specified refused)
            ps, pe = der.expect(data, oe, ae, der.TAG_OID, code)
            if pe != ae:
                return code, None
            curve = _curve_oid(data, ps, pe)
            if curve == 0:
                return NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, None
            return NX_SUCCESS, EcKey(curve, _ec_public(curve, data, ks, be, code))
        return NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, None
    except (NxError, TypeError, ValueError, IndexError):
        return code, None


def _rsa_private(b, s, e, code):
    # RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, dP, dQ, qInv }
    s0, e0 = der.expect(b, s, e, der.TAG_SEQUENCE, code)
    if e0 != e:
        raise NxError(code)
    v = []
    off = s0
    size = 0
    for i in range(9):
        vs, ve = der.expect(b, off, e0, der.TAG_INTEGER, code)
        v.append(der.uint(b, vs, ve, code))
        if i == 1:
            size = der.int_len(b, vs, ve)
        off = ve
    if off != e0 or v[0] != 0:        # version 1 (multi-prime) is not supported
        raise NxError(code)
    n, ex, d, p, q, dp, dq, qi = v[1:]
    # consistency checks that cost no exponentiation (RFC 8017 3.2)
    if (size < 64 or ex < 3 or not ex & 1 or p * q != n or not 0 < dp < p
            or not 0 < dq < q or not 0 < qi < p or qi * q % p != 1 or not 0 < d < n):
        raise NxError(code)
    return RsaKey(n, ex, d, p, q, dp, dq, qi, size)


def parse_rsa_private_key(data):
    """PKCS#1 RSAPrivateKey (two-prime) -> (status, RsaKey);
    NX_SECURE_PKCS1_INVALID_PRIVATE_KEY when malformed or inconsistent."""
    code = NX_SECURE_PKCS1_INVALID_PRIVATE_KEY
    try:
        return NX_SUCCESS, _rsa_private(data, 0, len(data), code)
    except (NxError, TypeError, ValueError, IndexError):
        return code, None


def _ec_private(b, s, e, code, curve):
    # ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING,
    #   parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }
    s0, e0 = der.expect(b, s, e, der.TAG_SEQUENCE, code)
    if e0 != e:
        raise NxError(code)
    vs, ve = der.expect(b, s0, e0, der.TAG_INTEGER, code)
    if der.uint(b, vs, ve, code) != 1:
        raise NxError(code)
    ks, ke = der.expect(b, ve, e0, der.TAG_OCTET_STRING, code)
    off = ke
    pub_s = pub_e = -1
    if off < e0:
        t, ts, te = der.tlv(b, off, e0, code)
        if t == 0xA0:
            ps, pe = der.expect(b, ts, te, der.TAG_OID, code)
            if pe != te:
                raise NxError(code)
            named = _curve_oid(b, ps, pe)
            if named == 0 or (curve and curve != named):
                raise NxError(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
            curve = named
            off = te
    if off < e0:
        t, ts, te = der.tlv(b, off, e0, code)
        if t == 0xA1:
            bs, be = der.expect(b, ts, te, der.TAG_BIT_STRING, code)
            if be != te:
                raise NxError(code)
            pub_s, pub_e = _bit_string(b, bs, be, code), be
            off = te
    if off != e0:
        raise NxError(code)
    if curve not in _CURVE_SIZE:
        raise NxError(NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE)
    from nxsecure.pk import ec
    c = ec.curve(curve)
    d = ec.private_from_bytes(c, b[ks:ke])   # RFC 5915: exactly ceil(log2(n)/8) octets
    if d is None:
        raise NxError(code)
    pub = None
    if pub_s >= 0:
        pub = _ec_public(curve, b, pub_s, pub_e, code)
    return EcKey(curve, pub, d)


def parse_ec_private_key(data, curve=0):
    """SEC 1 ECPrivateKey -> (status, EcKey). `curve` (TLS id) is used when the
    key names no parameters, and must agree when it does. The public point, when
    present, is validated but not checked against d (that costs a scalar
    multiplication: see ec.public_from_private)."""
    code = NX_SECURE_PKCS1_INVALID_PRIVATE_KEY
    try:
        return NX_SUCCESS, _ec_private(data, 0, len(data), code, curve)
    except NxError as err:
        return err.code, None
    except (TypeError, ValueError, IndexError):
        return code, None


def parse_private_key(data):
    """PKCS#8 PrivateKeyInfo (unencrypted) holding an RSA or EC key
    -> (status, RsaKey or EcKey)."""
    code = NX_SECURE_PKCS1_INVALID_PRIVATE_KEY
    try:
        n = len(data)
        s0, e0 = der.expect(data, 0, n, der.TAG_SEQUENCE, code)
        if e0 != n:
            return code, None
        vs, ve = der.expect(data, s0, e0, der.TAG_INTEGER, code)
        if der.uint(data, vs, ve, code) != 0:
            return code, None
        as_, ae = der.expect(data, ve, e0, der.TAG_SEQUENCE, code)
        os_, oe = der.expect(data, as_, ae, der.TAG_OID, code)
        ks, ke = der.expect(data, ae, e0, der.TAG_OCTET_STRING, code)
        # attributes [0] may follow; they are ignored
        oid = bytes(data[os_:oe])
        if oid == OID_RSA:
            return NX_SUCCESS, _rsa_private(data, ks, ke, code)
        if oid == OID_EC:
            ps, pe = der.expect(data, oe, ae, der.TAG_OID, code)
            curve = _curve_oid(data, ps, pe)
            if curve == 0 or pe != ae:
                return NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE, None
            return NX_SUCCESS, _ec_private(data, ks, ke, code, curve)
        return NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE, None
    except NxError as err:
        return err.code, None
    except (TypeError, ValueError, IndexError):
        return code, None
