"""Host helper: PEM (RFC 7468) text -> DER bytes, for loading certificates and keys
from files. Allocates freely; not needed on a board that stores DER."""
import binascii

from nxsecure.const import NX_SUCCESS, NX_NOT_FOUND, NX_SECURE_X509_INVALID_CERTIFICATE_DATA

_BEGIN = b"-----BEGIN "
_END = b"-----END "
_DASHES = b"-----"


def pem_blocks(text):
    """All PEM blocks in text (str or bytes) -> (status, [(label, der), ...]).
    Explanatory text between blocks is ignored (RFC 7468 2)."""
    if isinstance(text, str):
        text = text.encode()
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
        body = text[le + len(_DASHES):e]
        # Strip whitespace; RFC 7468 3 allows CRLF, LF and trailing blanks.
        body = b"".join(body.split())
        if b":" in body:
            return NX_SECURE_X509_INVALID_CERTIFICATE_DATA, out   # RFC 1421 headers
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
