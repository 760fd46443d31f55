"""DER reader in place over a memoryview: TLV headers, bounds, small integers, OIDs, times.

Every function takes the buffer and an explicit (pos, end) window and never reads past
`end`; a length that does not fit its enclosing block, a truncated header, an
indefinite length or a multi-byte tag raises NxError with an X.509 code (the one
internal exception, caught at the public services in cert.py / verify.py / store.py).
Nothing here slices `bytes`; callers get offsets. X.690 (DER) 8.1.2-8.1.3 and 10.1.
"""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from nxsecure.const import (
    NxError,
    NX_SECURE_X509_MULTIBYTE_TAG_UNSUPPORTED,
    NX_SECURE_X509_ASN1_LENGTH_TOO_LONG,
    NX_SECURE_X509_INVALID_CERTIFICATE_DATA,
    NX_SECURE_X509_UNEXPECTED_ASN1_TAG,
    NX_SECURE_X509_INVALID_DATE_FORMAT,
)

# Universal tags (X.680 8.4) as they appear in the identifier octet.
TAG_BOOLEAN = const(0x01)
TAG_INTEGER = const(0x02)
TAG_BIT_STRING = const(0x03)
TAG_OCTET_STRING = const(0x04)
TAG_NULL = const(0x05)
TAG_OID = const(0x06)
TAG_UTF8_STRING = const(0x0C)
TAG_PRINTABLE_STRING = const(0x13)
TAG_IA5_STRING = const(0x16)
TAG_UTC_TIME = const(0x17)
TAG_GENERALIZED_TIME = const(0x18)
TAG_SEQUENCE = const(0x30)          # constructed
TAG_SET = const(0x31)               # constructed
# Context-specific tags used by RFC 5280 4.1.
TAG_CTX0_CONS = const(0xA0)         # [0] EXPLICIT version
TAG_CTX1 = const(0x81)              # [1] IMPLICIT issuerUniqueID
TAG_CTX2 = const(0x82)              # [2] IMPLICIT subjectUniqueID
TAG_CTX3_CONS = const(0xA3)         # [3] EXPLICIT extensions

# Nesting limit for structural checks. An X.509 certificate nests about 7 deep
# (Certificate > TBS > [3] > Extensions > Extension > ... ); 16 leaves room for
# unusual extensions while bounding work and the walk's stack.
MAX_DEPTH = const(16)


def _fail(code):
    raise NxError(code)


def tlv(buf, pos, end):
    """Parse one TLV header at buf[pos] inside the block ending at `end`.

    Returns (tag, content_start, content_end). Raises NxError when the header is
    truncated, uses a multi-byte tag (X.690 8.1.2.4), the indefinite form (X.690
    10.1: DER forbids it), more than 4 length octets, a non-minimal length
    (X.690 10.1), or a length running past `end`.
    """
    if pos < 0 or pos + 2 > end:
        _fail(NX_SECURE_X509_ASN1_LENGTH_TOO_LONG)
    tag = buf[pos]
    if (tag & 0x1F) == 0x1F:
        _fail(NX_SECURE_X509_MULTIBYTE_TAG_UNSUPPORTED)
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0:
            # Indefinite length: BER only.
            _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
        if k > 4:
            _fail(NX_SECURE_X509_ASN1_LENGTH_TOO_LONG)
        if pos + k > end:
            _fail(NX_SECURE_X509_ASN1_LENGTH_TOO_LONG)
        if buf[pos] == 0:
            _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)   # leading zero octet
        n = 0
        stop = pos + k
        while pos < stop:
            n = (n << 8) | buf[pos]
            pos += 1
        if n < 0x80:
            _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)   # short form was required
    if n > end - pos:
        _fail(NX_SECURE_X509_ASN1_LENGTH_TOO_LONG)
    return tag, pos, pos + n


def expect(buf, pos, end, tag):
    """tlv() that also requires the identifier octet to be `tag`."""
    t, s, e = tlv(buf, pos, end)
    if t != tag:
        _fail(NX_SECURE_X509_UNEXPECTED_ASN1_TAG)
    return s, e


def check_structure(buf, pos, end, max_depth=MAX_DEPTH):
    """Walk every TLV in buf[pos:end], descending into constructed ones, without
    recursion. Checks each length against its enclosing block and bounds the
    nesting depth. Primitive contents (e.g. OCTET STRING wrapping DER) are not
    entered here; their parsers call tlv() with their own bounds."""
    stack = [0] * max_depth
    depth = 0
    while True:
        while depth and pos == stack[depth - 1]:
            depth -= 1
        limit = stack[depth - 1] if depth else end
        if pos == limit:
            return
        tag, s, e = tlv(buf, pos, limit)
        if tag & 0x20:
            if depth == max_depth:
                _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
            stack[depth] = e
            depth += 1
            pos = s
        else:
            pos = e


def small_uint(buf, s, e, max_octets=4):
    """A non-negative INTEGER content of at most `max_octets` significant octets."""
    n = e - s
    if n == 0 or n > max_octets + 1:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    if buf[s] & 0x80:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)      # negative
    if n > 1 and buf[s] == 0 and not (buf[s + 1] & 0x80):
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)      # non-minimal (X.690 8.3.2)
    if n == max_octets + 1 and buf[s] != 0:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    v = 0
    while s < e:
        v = (v << 8) | buf[s]
        s += 1
    return v


def unsigned_span(buf, s, e):
    """Strip the sign octet of a positive INTEGER (RSA modulus, exponent)."""
    if e - s == 0 or buf[s] & 0x80:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    while e - s > 1 and buf[s] == 0:
        s += 1
    return s, e


def bit_count(buf, s, e):
    """Number of significant bits in the big-endian unsigned buf[s:e]
    (MicroPython has no int.bit_length)."""
    while s < e and buf[s] == 0:
        s += 1
    if s == e:
        return 0
    top = buf[s]
    bits = 0
    while top:
        bits += 1
        top >>= 1
    return (e - s - 1) * 8 + bits


def equal(buf, s, e, ref):
    """buf[s:e] == ref (bytes) without slicing."""
    n = len(ref)
    if e - s != n:
        return False
    i = 0
    while i < n:
        if buf[s + i] != ref[i]:
            return False
        i += 1
    return True


def same(buf_a, sa, ea, buf_b, sb, eb):
    """buf_a[sa:ea] == buf_b[sb:eb] without slicing."""
    n = ea - sa
    if eb - sb != n:
        return False
    i = 0
    while i < n:
        if buf_a[sa + i] != buf_b[sb + i]:
            return False
        i += 1
    return True


def bit_string(buf, s, e):
    """BIT STRING contents -> (unused_bits, first_content_octet, end)."""
    if e - s < 1:
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    unused = buf[s]
    if unused > 7 or (unused and e - s == 1):
        _fail(NX_SECURE_X509_INVALID_CERTIFICATE_DATA)
    return unused, s + 1, e


# --- time (RFC 5280 4.1.2.5) -------------------------------------------------------

_CUM_DAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def _leaps_before(y):
    # Leap years in [1, y).
    y -= 1
    return y // 4 - y // 100 + y // 400


def epoch_seconds(y, mo, d, h, mi, sec):
    """Proleptic Gregorian civil time (UTC) -> seconds since 1970-01-01T00:00:00Z,
    computed without datetime (not present on most MicroPython ports)."""
    days = (y - 1970) * 365 + _leaps_before(y) - _leaps_before(1970)
    days += _CUM_DAYS[mo - 1] + (d - 1)
    if mo > 2 and _leap(y):
        days += 1
    return ((days * 24 + h) * 60 + mi) * 60 + sec


def _digits(buf, p, n):
    v = 0
    stop = p + n
    while p < stop:
        c = buf[p] - 0x30
        if c < 0 or c > 9:
            _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
        v = v * 10 + c
        p += 1
    return v


def parse_time(buf, tag, s, e):
    """UTCTime / GeneralizedTime contents -> seconds since 1970.

    RFC 5280 4.1.2.5.1: UTCTime is YYMMDDHHMMSSZ, YY >= 50 means 19YY, else 20YY.
    RFC 5280 4.1.2.5.2: GeneralizedTime is YYYYMMDDHHMMSSZ, no fractional seconds.
    Anything else (offsets, missing seconds, out-of-range fields) is rejected.
    """
    n = e - s
    if tag == TAG_UTC_TIME:
        if n != 13:
            _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
        y = _digits(buf, s, 2)
        y += 1900 if y >= 50 else 2000
        p = s + 2
    elif tag == TAG_GENERALIZED_TIME:
        if n != 15:
            _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
        y = _digits(buf, s, 4)
        p = s + 4
    else:
        _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
    if buf[e - 1] != 0x5A:   # 'Z'
        _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
    mo = _digits(buf, p, 2)
    d = _digits(buf, p + 2, 2)
    h = _digits(buf, p + 4, 2)
    mi = _digits(buf, p + 6, 2)
    sec = _digits(buf, p + 8, 2)
    if mo < 1 or mo > 12 or d < 1 or d > _MONTH_DAYS[mo - 1] or h > 23 or mi > 59 or sec > 59:
        _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
    if mo == 2 and d == 29 and not _leap(y):
        _fail(NX_SECURE_X509_INVALID_DATE_FORMAT)
    return epoch_seconds(y, mo, d, h, mi, sec)
