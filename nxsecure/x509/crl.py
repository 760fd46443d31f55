"""Certificate revocation lists (RFC 5280 5, 6.3) read in place from caller memory:
NetX's nx_secure_x509_crl_revocation_check, and the check x509_chain_verify runs for
every certificate on a path when the store holds CRLs (store_crl_add).

A CRL applies to a certificate when its issuer name is the certificate's issuer name
(RFC 5280 6.3.3 (b), full CRLs only). An applicable CRL that cannot be trusted fails
the verification (fail closed) rather than being skipped: bad signature, an issuer
whose keyUsage lacks cRLSign (6.3.3 (f)), no CRL number or a critical one (5.2.3), an
unknown critical extension (5.2; delta CRLs, issuing distribution points and indirect
CRLs are not supported), or a validity window that does not hold the verification
time (thisUpdate .. nextUpdate, 6.3.3 (a))."""
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
    NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA,
    NX_SECURE_X509_INVALID_EXTENSIONS,
    NX_SECURE_X509_INVALID_VERSION,
    NX_SECURE_X509_KEY_USAGE_ERROR,
    NX_SECURE_X509_CRL_ISSUER_MISMATCH,
    NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED,
    NX_SECURE_X509_CRL_CERTIFICATE_REVOKED,
)
from nxsecure.x509 import der
from nxsecure.x509.der import (TAG_BOOLEAN, TAG_INTEGER, TAG_BIT_STRING, TAG_OCTET_STRING,
                               TAG_OID, TAG_SEQUENCE, TAG_UTC_TIME, TAG_GENERALIZED_TIME)
from nxsecure.x509 import cert as _c
from nxsecure.x509.verify import NX_SECURE_X509_CRL_NOT_CURRENT


_CE_CRL_NUMBER = const(20)        # 2.5.29.20, RFC 5280 5.2.3
_CE_AKI = const(35)               # 5.2.1
_CE_REASON = const(21)            # entry extensions 5.3.1, 5.3.2: non-critical
_CE_INVALIDITY_DATE = const(24)


class _Crl:
    """Offsets into one CRL's DER (TBSCertList, RFC 5280 5.1)."""

    def __init__(self, buf):
        self.buf = buf
        n = len(buf)
        cs, ce = der.expect(buf, 0, n, TAG_SEQUENCE)
        if ce != n:
            raise NxError(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
        der.check_structure(buf, cs, ce)
        ts, te = der.expect(buf, cs, ce, TAG_SEQUENCE)
        self.tbs = (cs, te)
        as_, ae = der.expect(buf, te, ce, TAG_SEQUENCE)
        self.sig_alg = (te, ae)
        ss, se = der.expect(buf, ae, ce, TAG_BIT_STRING)
        unused, ss, se = der.bit_string(buf, ss, se)
        if unused or se != ce or ss == se:
            raise NxError(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
        self.sig = (ss, se)
        p = ts
        if buf[p] == TAG_INTEGER:                        # version: v2 (1) only
            vs, p = der.expect(buf, p, te, TAG_INTEGER)
            if der.small_uint(buf, vs, p, 1) != 1:
                raise NxError(NX_SECURE_X509_INVALID_VERSION)
        s, e = der.expect(buf, p, te, TAG_SEQUENCE)      # signature: = signatureAlgorithm
        if not der.same(buf, p, e, buf, te, ae):
            raise NxError(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
        s, self.issuer_end = der.expect(buf, e, te, TAG_SEQUENCE)
        self.issuer = s
        t, s, e = der.tlv(buf, self.issuer_end, te)
        self.this_update = der.parse_time(buf, t, s, e)
        self.next_update = -1
        self.revoked = (0, 0)
        self.ext = (0, 0)
        p = e
        if p < te and buf[p] in (TAG_UTC_TIME, TAG_GENERALIZED_TIME):
            t, s, p = der.tlv(buf, p, te)
            self.next_update = der.parse_time(buf, t, s, p)
        if p < te and buf[p] == TAG_SEQUENCE:
            s, p = der.expect(buf, p, te, TAG_SEQUENCE)
            self.revoked = (s, p)
        if p < te:
            xs, xe = der.expect(buf, p, te, 0xA0)
            s, e = der.expect(buf, xs, xe, TAG_SEQUENCE)
            if e != xe:
                raise NxError(NX_SECURE_X509_INVALID_EXTENSIONS)
            self.ext = (s, e)
            p = xe
        if p != te:
            raise NxError(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)

    def extensions_ok(self):
        """5.2.3: a CRL number, not critical; no critical extension we do not know."""
        buf = self.buf
        number = False
        s, e = self.ext
        while s < e:
            arc, critical, s = _extension(buf, s, e)
            if arc == _CE_CRL_NUMBER:
                if critical or number:
                    return False
                number = True
            elif critical and arc != _CE_AKI:
                return False
        return number

    def find(self, serial_buf, ss, se):
        """Is the serial number serial_buf[ss:se] (INTEGER content) listed? Raises
        NxError for a malformed entry or an entry extension we must understand."""
        buf = self.buf
        s, e = self.revoked
        while s < e:
            rs, re_ = der.expect(buf, s, e, TAG_SEQUENCE)
            is_, ie = der.expect(buf, rs, re_, TAG_INTEGER)
            t, ds, de = der.tlv(buf, ie, re_)
            der.parse_time(buf, t, ds, de)
            if de < re_:
                xs, xe = der.expect(buf, de, re_, TAG_SEQUENCE)
                while xs < xe:
                    arc, critical, xs = _extension(buf, xs, xe)
                    if critical and arc not in (_CE_REASON, _CE_INVALIDITY_DATE):
                        raise NxError(NX_SECURE_X509_INVALID_EXTENSIONS)   # e.g. certificateIssuer
            if der.same(buf, is_, ie, serial_buf, ss, se):
                return True
            s = re_
        return False


def _extension(buf, s, e):
    """One Extension at buf[s]: (id-ce arc or -1, critical, next offset)."""
    xs, xe = der.expect(buf, s, e, TAG_SEQUENCE)
    os_, oe = der.expect(buf, xs, xe, TAG_OID)
    p = oe
    critical = False
    if p < xe and buf[p] == TAG_BOOLEAN:
        bs, p = der.expect(buf, p, xe, TAG_BOOLEAN)
        critical = p - bs == 1 and buf[bs] == 0xFF
    vs, ve = der.expect(buf, p, xe, TAG_OCTET_STRING)
    if ve != xe:
        raise NxError(NX_SECURE_X509_INVALID_EXTENSIONS)
    arc = -1
    if oe - os_ == 3 and buf[os_] == 0x55 and buf[os_ + 1] == 0x1D:
        arc = buf[os_ + 2]
    return arc, critical, xe


def x509_crl_parse(crl_data):
    """(status, _Crl) for the DER CRL occupying all of crl_data (structure only)."""
    try:
        return NX_SUCCESS, _Crl(memoryview(crl_data))
    except NxError as err:
        return err.code, None
    except TypeError:
        return NX_PTR_ERROR, None


def _issuer_is(crl, cert):
    dn = cert.nx_secure_x509_issuer
    return der.same(crl.buf, crl.issuer, crl.issuer_end, dn._buf, dn._start, dn._end)


def _status(crl, cert, issuer, when, verify_signature):
    """`crl` (already known to name cert's issuer) against `cert`, signed by `issuer`."""
    if issuer._ext_key_usage and not (issuer._key_usage & _c.NX_SECURE_X509_KEY_USAGE_CRL_SIGN):
        return NX_SECURE_X509_KEY_USAGE_ERROR              # RFC 5280 6.3.3 (f)
    buf = crl.buf
    try:
        st = verify_signature(buf[crl.sig_alg[0]:crl.sig_alg[1]], issuer.spki_view(),
                              buf[crl.tbs[0]:crl.tbs[1]], buf[crl.sig[0]:crl.sig[1]])
    except NxError:
        st = NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED
    if st != NX_SUCCESS:
        return NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED   # 6.3.3 (g)
    try:
        if not crl.extensions_ok():
            return NX_SECURE_X509_INVALID_EXTENSIONS
        if when is not None and (when < crl.this_update or
                                 (crl.next_update >= 0 and when > crl.next_update)):
            return NX_SECURE_X509_CRL_NOT_CURRENT
        s = cert.nx_secure_x509_serial_number
        if crl.find(cert.nx_secure_x509_certificate_data, s,
                    s + cert.nx_secure_x509_serial_number_length):
            return NX_SECURE_X509_CRL_CERTIFICATE_REVOKED
    except NxError as err:
        return err.code
    return NX_SUCCESS


def x509_crl_path_check(crls, cert, issuer, when, verify_signature):
    """Every CRL among `crls` (a store's (object, memoryview) pairs) that names cert's
    issuer, checked with `issuer`, the next certificate on the path. NX_SUCCESS when
    none revokes it."""
    for obj, data in crls:
        st, crl = x509_crl_parse(data)
        if st != NX_SUCCESS:
            return st
        if not _issuer_is(crl, cert):
            continue
        st = _status(crl, cert, issuer, when, verify_signature)
        if st != NX_SUCCESS:
            return st
    return NX_SUCCESS


def nx_secure_x509_crl_revocation_check(crl_data, crl_length, store, certificate):
    """NetX service: is `certificate` revoked by the DER CRL crl_data[:crl_length]?
    The CRL's issuer must be the certificate's issuer (else
    NX_SECURE_X509_CRL_ISSUER_MISMATCH); its signature is checked with that issuer's
    certificate from the store (trusted, then remote certificates;
    NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED when none verifies it). Returns
    NX_SUCCESS (not revoked), NX_SECURE_X509_CRL_CERTIFICATE_REVOKED, or another code.
    The validity window is checked against the default time function when one is set
    (nx_secure_x509_time_function_set). Use it from a certificate callback
    (nxsecure_dtls_session_certificate_callback_set), as NetX TLS applications do, or
    give the session its CRLs (nxsecure_dtls_session_crl_add) to have every path
    checked."""
    if crl_data is None or store is None or certificate is None:
        return NX_PTR_ERROR
    if not isinstance(crl_length, int) or crl_length <= 0:
        return NX_PTR_ERROR
    try:
        view = memoryview(crl_data)
    except TypeError:
        return NX_PTR_ERROR
    if crl_length > len(view) or not getattr(certificate, "_valid", False):
        return NX_INVALID_PARAMETERS
    st, crl = x509_crl_parse(view[:crl_length])
    if st != NX_SUCCESS:
        return st
    if not _issuer_is(crl, certificate):
        return NX_SECURE_X509_CRL_ISSUER_MISMATCH
    from nxsecure.x509 import verify
    when = verify._resolve_now(None)
    found = False
    status = NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND
    pool = list(store.nx_secure_x509_trusted_certificates) + \
        store._remote_pool[0:store._remote_count]
    for issuer in pool:
        dn = issuer.nx_secure_x509_distinguished_name
        if issuer is certificate or not issuer._valid or \
                not der.same(crl.buf, crl.issuer, crl.issuer_end, dn._buf, dn._start, dn._end):
            continue
        found = True
        status = _status(crl, certificate, issuer, when, verify.x509_default_verify_signature)
        if status != NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED:
            return status
    return status if found else NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND
