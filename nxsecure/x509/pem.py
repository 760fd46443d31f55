"""Credentials in the formats people have: PEM (RFC 7468) or DER certificates and chains,
and SEC 1, PKCS#1 or PKCS#8 private keys in either encoding, into NX_SECURE_X509_CERT
control blocks; PEM text from DER for the peer's chain. Runs on boards (binascii);
decoding allocates the DER once, at set-up, and the control blocks parse it in place."""
import binascii

from nxsecure.const import (
    NxError, NX_SUCCESS, NX_NOT_FOUND, NX_PTR_ERROR, NX_INVALID_PARAMETERS,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA, NX_SECURE_X509_CERTIFICATE_NOT_FOUND,
    NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE, NX_SECURE_PKCS1_INVALID_PRIVATE_KEY,
    NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE,
)

_BEGIN = b"-----BEGIN "
_END = b"-----END "
_DASHES = b"-----"
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _bytes(text):
    if isinstance(text, str):
        return text.encode()
    return bytes(text)


def pem_blocks(text):
    """All PEM blocks in text (str or bytes) -> (status, [(label, der), ...]).
    Explanatory text between blocks is ignored (RFC 7468 2); the base64 text must be
    strict (RFC 7468 3: the standard alphabet, whitespace anywhere)."""
    text = _bytes(text)
    out = []
    pos = 0
    while True:
        b = text.find(_BEGIN, pos)
        if b < 0:
            break
        le = text.find(_DASHES, b + len(_BEGIN))
        if le < 0:
            return NX_SECURE_X509_INVALID_CERTIFICATE_DATA, out
        label = text[b + len(_BEGIN):le]
        end_marker = _END + label + _DASHES
        e = text.find(end_marker, le + len(_DASHES))
        if e < 0:
            return NX_SECURE_X509_INVALID_CERTIFICATE_DATA, out
        # RFC 7468 3 allows CRLF, LF and blanks anywhere in the text
        body = b"".join(text[le + len(_DASHES):e].split())
        for c in body:
            if c not in _B64:                      # RFC 1421 headers, stray characters
                return NX_SECURE_X509_INVALID_CERTIFICATE_DATA, out
        try:
            der = binascii.a2b_base64(body)
        except ValueError:   # binascii.Error is a ValueError
            return NX_SECURE_X509_INVALID_CERTIFICATE_DATA, out
        out.append((label.decode(), der))
        pos = e + len(end_marker)
    return NX_SUCCESS, out


def pem_to_der(text, label="CERTIFICATE"):
    """The first PEM block with `label` (None: any) -> (status, der)."""
    st, blocks = pem_blocks(text)
    if st != NX_SUCCESS:
        return st, None
    for lab, der in blocks:
        if label is None or lab == label:
            return NX_SUCCESS, der
    return NX_NOT_FOUND, None


def pem_encode(der, label="CERTIFICATE"):
    """RFC 7468 text of one DER element: 64 characters a line, LF line ends."""
    b = binascii.b2a_base64(bytes(der)).replace(b"\n", b"")
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    head = b"-----BEGIN " + label.encode() + b"-----\n"
    tail = b"-----END " + label.encode() + b"-----\n"
    return (head + b"\n".join(lines) + b"\n" + tail).decode()


def _is_pem(data):
    for c in data:
        if c not in b" \t\r\n":
            return c != 0x30                       # DER starts with a SEQUENCE
    return False


def _der_elements(data):
    """One or more DER SEQUENCEs back to back (a DER certificate, or a chain of them)."""
    from nxsecure.x509 import der
    out = []
    pos = 0
    n = len(data)
    while pos < n:
        t, s, e = der.tlv(data, pos, n)
        if t != der.TAG_SEQUENCE:
            raise NxError(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
        out.append(data[pos:e])
        pos = e
    return out


def certificates_der(data):
    """The certificates in data (PEM text with CERTIFICATE blocks, or DER, one or more
    back to back), in their order -> (status, [der, ...])."""
    if _is_pem(data):
        st, blocks = pem_blocks(data)
        if st != NX_SUCCESS:
            return st, []
        ders = [d for label, d in blocks if label == "CERTIFICATE"]
    else:
        try:
            ders = _der_elements(memoryview(data))
        except NxError as x:
            return x.code, []
    if not ders:
        return NX_SECURE_X509_CERTIFICATE_NOT_FOUND, []
    return NX_SUCCESS, ders


# PKCS#8 algorithm OIDs (content octets): rsaEncryption (RFC 8017 A.1), id-ecPublicKey
# (RFC 5480 2.1.1).
_OID_RSA = b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
_OID_EC = b"\x2a\x86\x48\xce\x3d\x02\x01"


def private_key_der(data):
    """A private key as the DER nx_secure_x509_certificate_initialize takes, and its
    NetX key type -> (status, der, key type). data: PEM ("EC PRIVATE KEY" SEC 1,
    "RSA PRIVATE KEY" PKCS#1, "PRIVATE KEY" PKCS#8) or DER of any of the three; an
    encrypted PKCS#8 key (RFC 5958 3) is refused."""
    from nxsecure.x509 import der
    from nxsecure.x509.cert import (NX_SECURE_X509_KEY_TYPE_EC_DER,
                                    NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER)
    key = _bytes(data)
    if _is_pem(key):
        st, blocks = pem_blocks(key)
        if st != NX_SUCCESS:
            return st, None, 0
        key = None
        for label, d in blocks:
            if label == "ENCRYPTED PRIVATE KEY":
                return NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE, None, 0
            if label in ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"):
                key = d
                break
        if key is None:
            return NX_SECURE_PKCS1_INVALID_PRIVATE_KEY, None, 0
    try:
        n = len(key)
        s, e = der.expect(key, 0, n, der.TAG_SEQUENCE)
        vs, ve = der.expect(key, s, e, der.TAG_INTEGER)
        t, ts, te = der.tlv(key, ve, e)
        if t == der.TAG_OCTET_STRING:
            return NX_SUCCESS, key, NX_SECURE_X509_KEY_TYPE_EC_DER          # SEC 1
        if t == der.TAG_INTEGER:
            return NX_SUCCESS, key, NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER   # PKCS#1
        if t == der.TAG_SEQUENCE:                                           # PKCS#8
            os_, oe = der.expect(key, ts, te, der.TAG_OID)
            if der.equal(key, os_, oe, _OID_RSA):
                return NX_SUCCESS, key, NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER
            if der.equal(key, os_, oe, _OID_EC):
                return NX_SUCCESS, key, NX_SECURE_X509_KEY_TYPE_EC_DER
            return NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE, None, 0
    except NxError:
        pass
    return NX_SECURE_PKCS1_INVALID_PRIVATE_KEY, None, 0


def _view(data, length):
    """(status, data[:length] as a memoryview)."""
    try:
        v = memoryview(data.encode() if isinstance(data, str) else data)
    except TypeError:
        return NX_PTR_ERROR, None
    if not isinstance(length, int) or length <= 0 or length > len(v):
        return NX_INVALID_PARAMETERS, None
    return NX_SUCCESS, v[:length]


def nxsecure_x509_chain_load(certificates, data, length, private_key=None, key_length=0):
    """nxsecure extension: initialise certificates[0], certificates[1], ... (each an
    NX_SECURE_X509_CERT) from the certificates in data[:length], in their order: PEM
    text (every CERTIFICATE block; other blocks and text between them are skipped) or
    DER (one certificate, or several back to back). private_key[:key_length], when
    given, is certificates[0]'s key (a chain file lists its owner's certificate first,
    RFC 5246 7.4.2): SEC 1, PKCS#1 or PKCS#8, PEM or DER. -> (status, count): the
    number of control blocks initialised; NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE when
    data holds more certificates than `certificates` has control blocks. The DER is
    decoded once into memory the control blocks keep."""
    from nxsecure.x509.cert import (nx_secure_x509_certificate_initialize,
                                    NX_SECURE_X509_KEY_TYPE_NONE)
    if certificates is None or data is None:
        return NX_PTR_ERROR, 0
    st, v = _view(data, length)
    if st:
        return st, 0
    kder = None
    ktype = NX_SECURE_X509_KEY_TYPE_NONE
    if private_key is not None:
        st, k = _view(private_key, key_length)
        if st:
            return st, 0
        st, kder, ktype = private_key_der(k)
        if st != NX_SUCCESS:
            return st, 0
    st, ders = certificates_der(v)
    if st != NX_SUCCESS:
        return st, 0
    try:
        room = len(certificates)
    except TypeError:
        return NX_PTR_ERROR, 0
    if len(ders) > room:
        return NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE, 0
    i = 0
    for d in ders:
        c = certificates[i]
        if c is None:
            return NX_PTR_ERROR, i
        if i == 0 and kder is not None:
            st = nx_secure_x509_certificate_initialize(c, d, len(d), None, 0, kder, len(kder),
                                                       ktype)
        else:
            st = nx_secure_x509_certificate_initialize(c, d, len(d), None, 0, None, 0,
                                                       NX_SECURE_X509_KEY_TYPE_NONE)
        if st != NX_SUCCESS:
            return st, i
        i += 1
    return NX_SUCCESS, i


def nxsecure_x509_certificate_load(certificate, data, length, private_key=None, key_length=0):
    """nxsecure extension: nx_secure_x509_certificate_initialize for the formats people
    have. data[:length]: a certificate in PEM (the first CERTIFICATE block) or DER;
    private_key[:key_length] (optional): SEC 1, PKCS#1 or PKCS#8, PEM or DER, its type
    read from the key itself. Returns a status (the key is checked against the
    certificate when it is added as a local certificate). Further certificates in
    data are not read: nxsecure_x509_chain_load takes a whole chain."""
    if certificate is None or data is None:
        return NX_PTR_ERROR
    st, v = _view(data, length)
    if st:
        return st
    st, ders = certificates_der(v)
    if st:
        return st
    d = ders[0]
    return nxsecure_x509_chain_load([certificate], d, len(d), private_key, key_length)[0]
