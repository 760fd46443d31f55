# A minimal DER reader (ITU-T X.690 8.1, 10.1) over bytes/memoryview, and the DER
# codec of ECDSA signatures: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
# (RFC 3279 2.2.3, SEC 1 C.5). Self-contained on purpose: the X.509 parser lives in
# nxsecure/x509/ and PSK-only builds carry neither.
#
# The reader raises NxError(code) on malformed input; every public parser in this
# package catches it at its boundary and returns the code instead.
from nxsecure.const import NxError

TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30


def tlv(b, off, end, code):
    """The element starting at b[off] and ending no later than `end`:
    (tag, value_start, value_end). Definite, minimal lengths only (DER, X.690 10.1);
    single-byte tags only. Raises NxError(code) otherwise."""
    if off + 2 > end:
        raise NxError(code)
    tag = b[off]
    if tag & 0x1F == 0x1F:          # X.690 8.1.2.4 high tag numbers: never in keys
        raise NxError(code)
    ln = b[off + 1]
    off += 2
    if ln & 0x80:
        nb = ln & 0x7F
        # 0x80 is the BER indefinite form; more than 4 length bytes is absurd here
        if nb == 0 or nb > 4 or off + nb > end or b[off] == 0:
            raise NxError(code)
        ln = 0
        for i in range(nb):
            ln = (ln << 8) | b[off + i]
        off += nb
        if ln < 0x80:               # X.690 10.1: the short form was required
            raise NxError(code)
    if ln > end - off:
        raise NxError(code)
    return tag, off, off + ln


def expect(b, off, end, tag, code):
    """Like tlv() but the tag must be `tag`: returns (value_start, value_end)."""
    t, s, e = tlv(b, off, end, code)
    if t != tag:
        raise NxError(code)
    return s, e


def uint(b, s, e, code):
    """Value of a non-negative, minimally encoded INTEGER body b[s:e] (X.690 8.3)."""
    if s >= e or b[s] & 0x80:
        raise NxError(code)
    if e - s > 1 and b[s] == 0 and not b[s + 1] & 0x80:
        raise NxError(code)
    return int.from_bytes(bytes(b[s:e]), 'big')


def int_len(b, s, e):
    """Byte length of the magnitude of a checked INTEGER body (no sign zero)."""
    if e - s > 1 and b[s] == 0:
        return e - s - 1
    return e - s


def _len_bytes(n):
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    return bytes((0x82, n >> 8, n & 0xFF))


def _uint_bytes(x, size):
    # DER INTEGER body of 0 <= x < 256**size: shortest form, sign byte if needed.
    v = x.to_bytes(size, 'big')
    i = 0
    while i < size - 1 and v[i] == 0:
        i += 1
    v = v[i:]
    if v[0] & 0x80:
        v = b'\x00' + v
    return v


def ecdsa_sig_encode(r, s, size):
    """DER Ecdsa-Sig-Value for 0 < r, s < 256**size."""
    rb = _uint_bytes(r, size)
    sb = _uint_bytes(s, size)
    body = (b'\x02' + _len_bytes(len(rb)) + rb + b'\x02' + _len_bytes(len(sb)) + sb)
    return b'\x30' + _len_bytes(len(body)) + body


def ecdsa_sig_decode(sig, size):
    """(r, s) from a DER Ecdsa-Sig-Value that fills `sig` exactly, with r and s
    no longer than `size` bytes; None for anything else (never raises)."""
    try:
        n = len(sig)
        s0, e0 = expect(sig, 0, n, TAG_SEQUENCE, 1)
        if e0 != n:
            return None
        rs, re = expect(sig, s0, e0, TAG_INTEGER, 1)
        ss, se = expect(sig, re, e0, TAG_INTEGER, 1)
        if se != e0 or int_len(sig, rs, re) > size or int_len(sig, ss, se) > size:
            return None
        return uint(sig, rs, re, 1), uint(sig, ss, se, 1)
    except (NxError, TypeError, ValueError, IndexError):
        return None
