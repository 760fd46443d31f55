"""Handshake message codecs: pull_X(reader) / push_X(writer, ...) pairs (RFC 5246 7.4, RFC 6347 4.2)."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from .codec import Reader, _short
from .const import (
    NxError, NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
    NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR, NX_SECURE_TLS_HANDSHAKE_FAILURE,
)
_DTLS_1_2 = const(0xFEFD)  # RFC 6347 4.1
_DTLS_1_0 = const(0xFEFF)
_EXT_EXTENDED_MASTER_SECRET = const(23)  # RFC 7627
_EXT_RENEGOTIATION_INFO = const(0xFF01)  # RFC 5746
_EXT_SUPPORTED_GROUPS = const(10)  # RFC 8422
_EXT_EC_POINT_FORMATS = const(11)
_EXT_SIGNATURE_ALGORITHMS = const(13)  # RFC 5246 7.4.1.4.1
_TLS_EMPTY_RENEGOTIATION_INFO_SCSV = const(0x00FF)  # RFC 5746 3.3
_AD_DECODE_ERROR = const(50)
_AD_HANDSHAKE_FAILURE = const(40)
_AD_ILLEGAL_PARAMETER = const(47)

HANDSHAKE_HEADER = 12   # RFC 6347 4.2.2: type, length, message_seq, fragment_offset, fragment_length


class Hello:
    """Fields of a ClientHello or ServerHello; byte fields are memoryviews into the message.
    version, random and session_id are always set (_pull_hello_start)."""
    cookie = None
    suites = None           # ClientHello: memoryview of the 2-byte suite list; ServerHello: None
    suite = 0               # ServerHello: the chosen suite
    compression_ok = False
    ems = False             # extended_master_secret extension present (RFC 7627)
    secure_reneg = False    # renegotiation_info present, or the SCSV (RFC 5746 3.6)
    reneg_info = None       # the renegotiated_connection bytes, when the extension came
    groups = None           # supported_groups list (RFC 8422 5.1.1), when present
    point_formats = None    # ec_point_formats list (RFC 8422 5.1.2), when present
    sig_algs = None         # signature_algorithms list (RFC 5246 7.4.1.4.1), when present
    exts = None             # extensions of a type not listed above: [(type, Reader of
                            # its data)], for the features (nxsecure/feature.py)


def _vec(b, p, w, end=0):
    """The opaque vector at b[p:] with a w-byte (1 or 2) length, within b; with `end`,
    it must end there."""
    if p + w > len(b):
        raise _short()
    n = p + w + (b[p] if w == 1 else (b[p] << 8) | b[p + 1])
    if n > len(b) or (end and n != end):
        raise _short()
    return b[p + w:n]


def _pull_extensions(b, q, hello):
    """RFC 5246 7.4.1.4: the optional extension block at b[q:], the message's last
    field, read in place at offsets (no Reader per extension: on a board each is an
    allocation and several calls); unknown extensions kept, duplicates rejected."""
    e = len(b)
    if q == e:
        return
    # the block is the hello's last field (RFC 5246 7.4.1.2, 7.4.1.3): that it ends
    # with the message is checked first, a decode_error before anything in it is read
    _whole(b[q:], 16)
    q += 2
    seen = []
    while q < e:
        if q + 4 > e:
            raise _short()
        t = b[q] << 8 | b[q + 1]
        n = (b[q + 2] << 8 | b[q + 3]) + q + 4    # this extension's data is b[q + 4:n]
        if n > e:
            raise _short()
        q += 4
        if t in seen:
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
        if len(seen) < 32:
            seen.append(t)
        if t == _EXT_EXTENDED_MASTER_SECRET:
            if n != q:                 # RFC 7627 5.1: extension_data is empty
                raise _short()
            hello.ems = True
        elif t == _EXT_RENEGOTIATION_INFO:      # one vector, nothing after it
            hello.reneg_info = _whole(b[q:n], 8)
            hello.secure_reneg = True
        elif t == _EXT_EC_POINT_FORMATS:
            hello.point_formats = _whole(b[q:n], 8)
        elif t == _EXT_SUPPORTED_GROUPS or t == _EXT_SIGNATURE_ALGORITHMS:
            if (n - q) & 1:              # RFC 8422 5.1.1, RFC 5246 7.4.1.4.1: u16 items
                raise _short()
            q = _whole(b[q:n], 16)       # (q: the list a moment; n still ends the data)
            if t == _EXT_SUPPORTED_GROUPS:
                hello.groups = q
            else:
                hello.sig_algs = q
        else:
            # for the features (nxsecure/feature.py): a Reader over the data, made here
            # only (the PSK handshakes have no other extensions)
            if hello.exts is None:
                hello.exts = []
            n = Reader(b, q, n)          # (for a moment n is the Reader, then its end again)
            hello.exts.append((t, n))
            n = n.end
        q = n


def _pull_hello_start(b, h, cookie):
    """The fields both hellos open with: version, random, session_id<0..32>, and a
    ClientHello's cookie<0..255> (RFC 6347 4.2.1) when `cookie`, into h; -> the
    offset after them."""
    if len(b) < 34:
        raise _short()
    h.version = (b[0] << 8) | b[1]
    h.random = b[2:34]
    h.session_id = v = _vec(b, 34, 1)
    if len(v) > 32:
        raise _short()
    p = 35 + len(v)
    if cookie:
        h.cookie = v = _vec(b, p, 1)
        p += 1 + len(v)
    return p


def pull_client_hello_prefix(frag):
    """A ClientHello's fields up to its cookie (version, random, session_id, cookie),
    from the message's first fragment: what a cookie is made from and checked against
    (RFC 6347 4.2.1), before any state is kept. Nothing after the cookie is needed, so
    a first fragment cut anywhere in the cipher suites still gets its answer."""
    h = Hello()
    _pull_hello_start(frag, h, True)
    return h


def pull_client_hello(b):
    """RFC 6347 4.2.1 ClientHello (with the DTLS cookie field)."""
    h = Hello()
    p = _pull_hello_start(b, h, True)
    h.suites = v = _vec(b, p, 2)
    if len(v) < 2 or len(v) & 1:
        raise _short()
    p += 2 + len(v)
    v = _vec(b, p, 1)                 # compression_methods<1..2^8-1>
    if len(v) == 0:
        raise _short()
    for c in v:
        if c == 0:
            h.compression_ok = True
    _pull_extensions(b, p + 1 + len(v), h)
    if u16_list_has(h.suites, _TLS_EMPTY_RENEGOTIATION_INFO_SCSV):
        h.secure_reneg = True
    return h


def client_hello_offers(hello, suite):
    return u16_list_has(hello.suites, suite)


def _push_flag_extensions(mv, p, ems, reneg):
    """extended_master_secret (RFC 7627 4) and renegotiation_info (RFC 5746 3.2), each
    when asked for, at mv[p:]: reneg True is the initial handshake's empty one (3.4),
    bytes a renegotiation's verify_data (3.5, 3.7). -> the offset after them."""
    if ems:
        mv[p:p + 4] = b"\x00\x17\x00\x00"
        p += 4
    if reneg is True:
        mv[p:p + 5] = b"\xff\x01\x00\x01\x00"
        p += 5
    elif reneg:
        mv[p:p + 3] = b"\xff\x01\x00"
        mv[p + 3] = len(reneg) + 1
        p = _push_vec8(mv, p + 4, reneg)
    return p


def _push_vec8(mv, p, v):
    n = len(v)
    mv[p] = n & 0xFF
    mv[p + 1:p + 1 + n] = v
    return p + 1 + n


def _push_hello_start(w, random, session_id):
    # DTLS 1.2 (RFC 6347 4.1), random, session_id: written in place, few calls (on a
    # board a call costs more than a byte store); -> the offset after them
    mv = w.mv
    p = w.pos
    mv[p] = 0xFE
    mv[p + 1] = 0xFD
    mv[p + 2:p + 34] = random
    return _push_vec8(mv, p + 34, session_id)


def reneg_ours(secure, bind):
    """What our hello's renegotiation_info carries: nothing (not `secure`), empty (an
    initial handshake: bind None) or bind[0] (a renegotiation, nxsecure/renegotiation.py:
    RFC 5746 3.5 client_verify_data, 3.7 client_ then server_verify_data)."""
    if not secure:
        return False
    return True if bind is None else bind[0]


def push_client_hello(w, random, cookie, suites, ems=True, extra=None, session_id=b"",
                      reneg=True):
    mv = w.mv
    # the session_id is empty unless a session is offered for resumption
    p = m = _push_vec8(mv, _push_hello_start(w, random, session_id), cookie)
    for s in suites:
        p += 2
        mv[p] = s >> 8
        mv[p + 1] = s & 0xFF
    n = p - m
    mv[m] = n >> 8
    mv[m + 1] = n & 0xFF
    mv[p + 2] = 1
    mv[p + 3] = 0                     # null compression only
    m = p + 4
    w.pos = _push_flag_extensions(mv, m + 2, ems, reneg)   # a client always signals RFC 5746
    if extra is not None:
        extra(w)
    w.end16(m)


def pull_server_hello(b):
    h = Hello()
    p = _pull_hello_start(b, h, False)
    if p + 3 > len(b):
        raise _short()
    h.suite = (b[p] << 8) | b[p + 1]
    h.compression_ok = b[p + 2] == 0
    _pull_extensions(b, p + 3, h)
    return h


def push_server_hello(w, random, session_id, suite, ems, secure_reneg, extra=None):
    mv = w.mv
    p = _push_hello_start(w, random, session_id)
    mv[p] = suite >> 8
    mv[p + 1] = suite & 0xFF
    mv[p + 2] = 0                     # null compression
    p += 3
    if ems or secure_reneg or extra is not None:
        w.pos = _push_flag_extensions(mv, p + 2, ems, secure_reneg)
        if extra is not None:
            extra(w)
        w.end16(p)
    else:
        w.pos = p


def check_reneg_info(hello, bind):
    """RFC 5746 3.4/3.6: in an initial handshake (bind None) renegotiated_connection is
    empty; 3.5/3.7: in a renegotiation it came and is bind[1], the verify_data of the
    handshake before (else handshake_failure)."""
    got = hello.reneg_info
    if (got is not None and len(got) != 0) if bind is None else (
            got is None or bytes(got) != bind[1]):
        raise NxError(NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR, _AD_HANDSHAKE_FAILURE)


def pull_hello_verify_request(b):
    """RFC 6347 4.2.1: server_version, cookie<0..2^8-1>. Either version is accepted."""
    c = _vec(b, 2, 1, len(b))
    v = (b[0] << 8) | b[1]
    if v != _DTLS_1_2 and v != _DTLS_1_0:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_ILLEGAL_PARAMETER)
    return c


def push_hello_verify_request(w, cookie):
    # RFC 6347 4.2.1: servers SHOULD use DTLS 1.0 here regardless of the version
    # being negotiated; both are accepted by clients.
    w.u16(_DTLS_1_0)
    w.vec8(cookie)


def _whole(body, vec):
    """A message that is one opaque vector (vec: 8 or 16-bit length) and nothing else."""
    return _vec(body, 0, vec >> 3, len(body))


def pull_psk_vector(body):
    """ServerKeyExchange hint or ClientKeyExchange identity for plain PSK (RFC 4279 2)."""
    return _whole(body, 16)


def push_psk_vector(w, v):
    w.vec16(v)


def push_handshake_header(mv, off, msg_type, length, message_seq, frag_off, frag_len):
    """RFC 6347 4.2.2 handshake header, 12 bytes."""
    # (byte by byte, no helper calls: a call costs more than these stores on a board)
    mv[off] = msg_type
    mv[off + 1] = length >> 16
    mv[off + 2] = (length >> 8) & 0xFF
    mv[off + 3] = length & 0xFF
    mv[off + 4] = message_seq >> 8
    mv[off + 5] = message_seq & 0xFF
    mv[off + 6] = frag_off >> 16
    mv[off + 7] = (frag_off >> 8) & 0xFF
    mv[off + 8] = frag_off & 0xFF
    mv[off + 9] = frag_len >> 16
    mv[off + 10] = (frag_len >> 8) & 0xFF
    mv[off + 11] = frag_len & 0xFF


# --- certificate and ECDHE messages (RFC 5246 7.4.2-7.4.8, RFC 8422 5) --------------
def push_cert_extensions(w, groups, sig_algs, point_formats=True):
    """Append supported_groups, ec_point_formats and signature_algorithms."""
    for t in (_EXT_SUPPORTED_GROUPS, _EXT_EC_POINT_FORMATS, _EXT_SIGNATURE_ALGORITHMS):
        if t == _EXT_EC_POINT_FORMATS:
            if point_formats:
                w.put(b"\x00\x0b\x00\x02\x01\x00")    # uncompressed only (RFC 8422 5.1.2)
            continue
        v = groups if t == _EXT_SUPPORTED_GROUPS else sig_algs
        if v:
            w.u16(t)
            w.u16(2 + 2 * len(v))
            w.u16(2 * len(v))
            for x in v:
                w.u16(x)


def u16_list_has(mv, value):
    for i in range(0, len(mv) - 1, 2):
        if (mv[i] << 8) | mv[i + 1] == value:
            return True
    return False


_CURVE_TYPE_NAMED = const(3)          # RFC 8422 5.4 ECCurveType named_curve
CERT_TYPE_RSA_SIGN = 1                # RFC 5246 7.4.4 ClientCertificateType
CERT_TYPE_ECDSA_SIGN = 64             # RFC 8422 5.5


def push_certificate_list(w, ders, segs=None):
    """RFC 5246 7.4.2. With segs (a list), the DER is not copied: segs gets the
    framing (views of w's buffer) and the certificates in wire order, for a flight that
    sends them from where the application keeps them."""
    total = 0
    for der in ders:
        total += 3 + len(der)
    start = w.pos
    w.u24(total)
    for der in ders:
        w.u24(len(der))
        if segs is None:
            w.put(der)
        else:
            segs.append(w.mv[start:w.pos])
            segs.append(der)
            start = w.pos
    if segs is not None and start < w.pos:
        segs.append(w.mv[start:w.pos])


def pull_certificate_list(body):
    """RFC 5246 7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.
    Returns a list of (offset, length) into body, sender's certificate first."""
    r = Reader(body)
    n = r.u24()
    if n != r.left():
        raise _short()
    out = []
    while r.left():
        m = r.u24()
        if m == 0:
            raise _short()
        out.append((r.pos, m))
        r.take(m)
    return out


def pull_ec_params(r):
    """RFC 8422 5.4 ServerECDHParams: named curve and the public point."""
    if r.u8() != _CURVE_TYPE_NAMED:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    group = r.u16()
    point = r.vec8()
    if len(point) == 0:
        raise _short()
    return group, point


def push_ec_params(w, group, point):
    w.u8(_CURVE_TYPE_NAMED)
    w.u16(group)
    w.vec8(point)


def pull_ecdh_public(body):
    """RFC 8422 5.7 ClientECDiffieHellmanPublic: the point, as one whole message."""
    point = _whole(body, 8)
    if len(point) == 0:
        raise _short()
    return point


def push_ecdh_public(w, point):
    w.vec8(point)


def pull_encrypted_premaster(body):
    """RFC 5246 7.4.7.1 EncryptedPreMasterSecret: opaque<0..2^16-1>."""
    return _whole(body, 16)


def push_encrypted_premaster(w, ct):
    w.vec16(ct)


def pull_certificate_request(body):
    """RFC 5246 7.4.4: certificate_types, supported_signature_algorithms,
    certificate_authorities. Returns (types, sig_algs) as memoryviews."""
    r = Reader(body)
    types = r.vec8()
    algs = r.vec16()
    if len(types) == 0 or len(algs) < 2 or len(algs) & 1:
        raise _short()
    cas = r.sub16()
    while cas.left():
        cas.vec16()                      # DistinguishedName<1..2^16-1>: not used to choose
    r.done()
    return types, algs


def pull_digitally_signed(r):
    """RFC 5246 4.7: SignatureAndHashAlgorithm then signature<0..2^16-1>."""
    alg = r.u16()
    sig = r.vec16()
    return alg, sig


def push_certificate_request(w, types, algs):
    """RFC 5246 7.4.4 (certificate_authorities empty: any)."""
    w.vec8(bytes(types))
    w.u16(2 * len(algs))
    for a in algs:
        w.u16(a)
    w.u16(0)


def push_digitally_signed(w, alg, sig):
    w.u16(alg)
    w.vec16(sig)


del const      # (compile-time only: one entry less in the module's dict, which is heap)
