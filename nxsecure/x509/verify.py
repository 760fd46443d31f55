"""Certificate path building and validation (RFC 5280 6.1, simplified) and host-name
checks (RFC 6125 6.4), returning NetX status codes and the alert to send.

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
    NX_SECURE_X509_WRONG_SIGNATURE_METHOD,
    NX_SECURE_X509_CERTIFICATE_NOT_FOUND,
    AD_BAD_CERTIFICATE,
    AD_UNSUPPORTED_CERTIFICATE,
    AD_CERTIFICATE_EXPIRED,
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


# --- host names (RFC 6125 6.4) --------------------------------------------------------

def _lower(c):
    return c + 32 if 0x41 <= c <= 0x5A else c


def _ieq(a, sa, b, sb, n):
    i = 0
    while i < n:
        if _lower(a[sa + i]) != _lower(b[sb + i]):
            return False
        i += 1
    return True


def _find(buf, s, e, c):
    while s < e:
        if buf[s] == c:
            return s
        s += 1
    return -1


def _dns_match(pat, ps, pe, ref, rn):
    """Presented identifier pat[ps:pe] against reference host ref[0:rn]
    (lower-case ASCII compare, RFC 6125 6.4.1). A wildcard is honoured only as the
    complete left-most label (6.4.3), matches exactly one non-empty label, and only
    when at least two labels follow it (no "*.com")."""
    if pe > ps and pat[pe - 1] == 0x2E:      # absolute form "example.com."
        pe -= 1
    if pe == ps:
        return False
    if pe - ps > 2 and pat[ps] == 0x2A and pat[ps + 1] == 0x2E:
        base = ps + 1                        # ".example.com"
        if _find(pat, base, pe, 0x2A) >= 0:
            return False
        dot = _find(pat, base + 1, pe, 0x2E)
        if dot < 0 or dot == base + 1 or dot == pe - 1:
            return False                     # fewer than two labels after the wildcard
        first = _find(ref, 0, rn, 0x2E)
        if first <= 0:
            return False                     # reference needs a non-empty first label
        n = pe - base
        return rn - first == n and _ieq(pat, base, ref, first, n)
    if _find(pat, ps, pe, 0x2A) >= 0:
        return False                         # partial / non-left-most wildcards refused
    n = pe - ps
    return rn == n and _ieq(pat, ps, ref, 0, n)


def nx_secure_x509_common_name_dns_check(certificate, dns_tld, length):
    """Does the certificate identify host `dns_tld[:length]`? Uses the
    subjectAltName dNSName entries when there are any, the subject commonName
    only when there are none (RFC 6125 6.4.4). Returns NX_SUCCESS or
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH."""
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
    rn = length
    if rn and ref[rn - 1] == 0x2E:
        rn -= 1
    if rn == 0 or _find(ref, 0, rn, 0x2A) >= 0:
        return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    buf = certificate.nx_secure_x509_certificate_data
    if certificate._san_dns_count:
        p = certificate._san_start
        e = certificate._san_end
        try:
            while p < e:
                t, s, q = der.tlv(buf, p, e)  # validated when the certificate was parsed
                if t == _c.SAN_TAG_DNS_NAME and _dns_match(buf, s, q, ref, rn):
                    return NX_SUCCESS
                p = q
        except NxError:
            pass                              # buffer changed since parsing
        return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    dn = certificate.nx_secure_x509_distinguished_name
    if dn.nx_secure_x509_common_name >= 0:
        s = dn.nx_secure_x509_common_name
        if _dns_match(buf, s, s + dn.nx_secure_x509_common_name_length, ref, rn):
            return NX_SUCCESS
    return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


# --- chain building and validation ------------------------------------------------------

def _identical(a, b):
    da = a.nx_secure_x509_certificate_data
    db = b.nx_secure_x509_certificate_data
    return der.same(da, 0, len(da), db, 0, len(db))


def _self_issued(c):
    # RFC 5280 6.1: subject and issuer names are identical.
    return dn_equal(c.nx_secure_x509_issuer, c.nx_secure_x509_distinguished_name, True)


def _find_issuer(subject, pool, count, chain, depth, strict, verify_signature):
    """First certificate among pool[0:count] whose subject name matches subject's
    issuer name and whose key verifies subject's signature. Returns (status, cert):
    NX_SUCCESS, or the last signature status when names matched but no key
    verified, or NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND."""
    status = NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND
    i = 0
    while i < count:
        cand = pool[i]
        i += 1
        if cand is subject or not cand._valid:
            continue
        j = 0
        while j < depth and chain[j] is not cand:
            j += 1
        if j < depth:
            continue                          # already on the path: no loops
        if not dn_equal(subject.nx_secure_x509_issuer,
                        cand.nx_secure_x509_distinguished_name, strict):
            continue
        try:
            st = verify_signature(subject.signature_algorithm_view(), cand.spki_view(),
                                  subject.tbs_view(), subject.signature_view())
        except NxError as err:
            st = err.code
        if st == NX_SUCCESS:
            return NX_SUCCESS, cand
        status = st
    return status, None


def _leaf_purpose(leaf, role):
    """Leaf keyUsage / extendedKeyUsage against its TLS role (RFC 5280 4.2.1.3,
    4.2.1.12; RFC 5246 7.4.2 and 7.4.6)."""
    if role == X509_ROLE_SERVER:
        ku = (_c.NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE |
              _c.NX_SECURE_X509_KEY_USAGE_KEY_ENCIPHERMENT |
              _c.NX_SECURE_X509_KEY_USAGE_KEY_AGREEMENT)
        eku = _c.X509_EKU_SERVER_AUTH
    elif role == X509_ROLE_CLIENT:
        ku = _c.NX_SECURE_X509_KEY_USAGE_DIGITAL_SIGNATURE
        eku = _c.X509_EKU_CLIENT_AUTH
    else:
        return NX_SUCCESS
    if leaf._ext_key_usage and not (leaf._key_usage & ku):
        return NX_SECURE_X509_KEY_USAGE_ERROR
    if leaf._ext_eku and not (leaf._eku & (eku | _c.X509_EKU_ANY)):
        return NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND
    return NX_SUCCESS


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
    trusted CA or intermediate CA). now: seconds since 1970, None for the default
    time function, NX_SECURE_X509_TIME_UNCHECKED to skip validity periods.
    role: X509_ROLE_*. dns_name: also run nx_secure_x509_common_name_dns_check.
    strict_name: full-DN issuer match (NX_SECURE_X509_STRICT_NAME_COMPARE).
    Returns (status, alert): (NX_SUCCESS, 0) or a NetX code and the alert for it.
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
    trusted = store.nx_secure_x509_trusted_certificates
    tcount = len(trusted)
    remote = store._remote_pool
    rcount = store._remote_count
    if max_depth < 1:
        return NX_INVALID_PARAMETERS
    chain = [None] * max_depth
    chain[0] = leaf
    depth = 1
    anchored = False
    # A peer certificate that is itself in the trusted store is its own anchor.
    i = 0
    while i < tcount:
        if _identical(trusted[i], leaf):
            anchored = True
            break
        i += 1
    cur = leaf
    while not anchored:
        # RFC 5280 6.1: build toward a trust anchor; prefer one from the trusted store.
        st, issuer = _find_issuer(cur, trusted, tcount, chain, depth, strict, verify_signature)
        if st == NX_SUCCESS:
            anchored = True
        else:
            st2, issuer = _find_issuer(cur, remote, rcount, chain, depth, strict, verify_signature)
            if st2 != NX_SUCCESS:
                if st != NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND:
                    return st
                return st2
        if depth == max_depth:
            return NX_SECURE_X509_CHAIN_VERIFY_FAILURE          # path too long
        chain[depth] = issuer
        depth += 1
        cur = issuer

    when = None
    if now != NX_SECURE_X509_TIME_UNCHECKED:
        when = _resolve_now(now)
    i = 0
    while i < depth:
        c = chain[i]
        if c._unknown_critical:
            return NX_SECURE_X509_INVALID_EXTENSIONS            # RFC 5280 4.2
        if when is not None:
            # RFC 5280 4.1.2.5 / 6.1.3 (a)(2): both bounds inclusive.
            if when < c._not_before_time:
                return NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID
            if when > c._not_after_time:
                return NX_SECURE_X509_CERTIFICATE_EXPIRED
        if i > 0:
            anchor = i == depth - 1
            if anchor:
                # Trust anchor: no constraint is required of it (RFC 5280 6.1.1 (d)), but
                # one that says it is not a CA is not used as one.
                if c._ext_basic_constraints and not c._ca:
                    return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
            elif (c.nx_secure_x509_version != _c.NX_SECURE_X509_VERSION_3 or
                  not c._ext_basic_constraints or not c._ca):
                return NX_SECURE_X509_CHAIN_VERIFY_FAILURE      # RFC 5280 6.1.4 (k)
            if c._ext_key_usage and not (c._key_usage & _c.NX_SECURE_X509_KEY_USAGE_KEY_CERT_SIGN):
                return NX_SECURE_X509_KEY_USAGE_ERROR          # RFC 5280 6.1.4 (n)
            if c._path_len >= 0:
                # RFC 5280 6.1.4 (l)/(m): non-self-issued intermediates below this CA.
                below = 0
                j = 1
                while j < i:
                    if not _self_issued(chain[j]):
                        below += 1
                    j += 1
                if below > c._path_len:
                    return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        i += 1
    st = _leaf_purpose(leaf, role)
    if st != NX_SUCCESS:
        return st
    if dns_name is not None:
        if isinstance(dns_name, str):
            dns_name = dns_name.encode()
        st = nx_secure_x509_common_name_dns_check(leaf, dns_name, len(dns_name))
        if st != NX_SUCCESS:
            return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    if when is None and now != NX_SECURE_X509_TIME_UNCHECKED:
        return NX_SECURE_X509_NO_TIME_SOURCE
    return NX_SUCCESS
