"""Handshake message codecs: pull_X(reader) / push_X(writer, ...) pairs (RFC 5246 7.4, RFC 6347 4.2)."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from .codec import Reader
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
RECORD_HEADER = 13      # RFC 6347 4.1: type, version, epoch, sequence_number(48), length


class Hello:
    """Fields of a ClientHello or ServerHello; byte fields are memoryviews into the message."""
    version = 0
    random = None
    session_id = None
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


def _pull_extensions(r, hello):
    """RFC 5246 7.4.1.4: optional extension block; unknown extensions ignored,
    duplicates rejected."""
    if r.left() == 0:
        return
    ext = r.sub16()
    seen = []
    while ext.left():
        etype = ext.u16()
        data = ext.sub16()
        if etype in seen:
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
        if len(seen) < 32:
            seen.append(etype)
        if etype == _EXT_EXTENDED_MASTER_SECRET:
            data.done()            # RFC 7627 5.1: extension_data is empty
            hello.ems = True
        elif etype == _EXT_RENEGOTIATION_INFO:
            hello.reneg_info = data.vec8()
            data.done()
            hello.secure_reneg = True
        elif etype == _EXT_SUPPORTED_GROUPS:
            hello.groups = _u16_list(data)
        elif etype == _EXT_EC_POINT_FORMATS:
            hello.point_formats = data.vec8()
            data.done()
        elif etype == _EXT_SIGNATURE_ALGORITHMS:
            hello.sig_algs = _u16_list(data)
        else:
            if hello.exts is None:
                hello.exts = []
            hello.exts.append((etype, data))
    r.done()


def _u16_list(data):
    v = data.vec16()
    data.done()
    if len(v) & 1:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    return v


def _pull_hello_start(body):
    """The fields both hellos open with: version, random, session_id<0..32>."""
    r = Reader(body)
    h = Hello()
    h.version = r.u16()
    h.random = r.take(32)
    h.session_id = r.vec8()
    if len(h.session_id) > 32:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    return r, h


def pull_client_hello_prefix(frag):
    """A ClientHello's fields up to its cookie (version, random, session_id, cookie),
    from the message's first fragment: what a cookie is made from and checked against
    (RFC 6347 4.2.1), before any state is kept. Nothing after the cookie is needed, so
    a first fragment cut anywhere in the cipher suites still gets its answer."""
    r, h = _pull_hello_start(frag)
    h.cookie = r.vec8()
    return h


def pull_client_hello(body):
    """RFC 6347 4.2.1 ClientHello (with the DTLS cookie field)."""
    r, h = _pull_hello_start(body)
    h.cookie = r.vec8()
    h.suites = r.vec16()
    if len(h.suites) < 2 or len(h.suites) & 1:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    comp = r.vec8()
    if len(comp) < 1:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    for c in comp:
        if c == 0:
            h.compression_ok = True
    _pull_extensions(r, h)
    s = h.suites
    for i in range(0, len(s), 2):
        if (s[i] << 8) | s[i + 1] == _TLS_EMPTY_RENEGOTIATION_INFO_SCSV:
            h.secure_reneg = True
    return h


def client_hello_offers(hello, suite):
    return u16_list_has(hello.suites, suite)


def _push_flag_extensions(w, ems, reneg):
    """extended_master_secret (RFC 7627 4) and renegotiation_info (RFC 5746 3.2), each
    when asked for: reneg True is the initial handshake's empty one (3.4), bytes a
    renegotiation's verify_data (3.5, 3.7)."""
    if ems:
        w.u16(_EXT_EXTENDED_MASTER_SECRET)
        w.u16(0)
    if reneg:
        w.u16(_EXT_RENEGOTIATION_INFO)
        if reneg is True:
            reneg = b""
        w.u16(1 + len(reneg))
        w.vec8(reneg)


def reneg_ours(secure, bind):
    """What our hello's renegotiation_info carries: nothing (not `secure`), empty (an
    initial handshake: bind None) or bind[0] (a renegotiation, nxsecure/renegotiation.py:
    RFC 5746 3.5 client_verify_data, 3.7 client_ then server_verify_data)."""
    if not secure:
        return False
    return True if bind is None else bind[0]


def push_client_hello(w, random, cookie, suites, ems=True, extra=None, session_id=b"",
                      reneg=True):
    w.u16(_DTLS_1_2)
    w.put(random)
    w.vec8(session_id)           # empty unless a session is offered for resumption
    w.vec8(cookie)
    m = w.begin16()
    for s in suites:
        w.u16(s)
    w.end16(m)
    w.u8(1)
    w.u8(0)                      # null compression only
    m = w.begin16()
    _push_flag_extensions(w, ems, reneg)    # a client always signals RFC 5746
    if extra is not None:
        extra(w)
    w.end16(m)


def pull_server_hello(body):
    r, h = _pull_hello_start(body)
    h.suite = r.u16()
    h.compression_ok = r.u8() == 0
    _pull_extensions(r, h)
    return h


def push_server_hello(w, random, session_id, suite, ems, secure_reneg, extra=None):
    w.u16(_DTLS_1_2)
    w.put(random)
    w.vec8(session_id)
    w.u16(suite)
    w.u8(0)
    if ems or secure_reneg or extra is not None:
        m = w.begin16()
        _push_flag_extensions(w, ems, secure_reneg)
        if extra is not None:
            extra(w)
        w.end16(m)


def check_reneg_info(hello, bind):
    """RFC 5746 3.4/3.6: in an initial handshake (bind None) renegotiated_connection is
    empty; 3.5/3.7: in a renegotiation it came and is bind[1], the verify_data of the
    handshake before (else handshake_failure)."""
    got = hello.reneg_info
    if bind is None:
        bad = got is not None and len(got) != 0
    else:
        bad = got is None or bytes(got) != bind[1]
    if bad:
        raise NxError(NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR, _AD_HANDSHAKE_FAILURE)


def pull_hello_verify_request(body):
    """RFC 6347 4.2.1: server_version, cookie<0..2^8-1>. Either version is accepted."""
    r = Reader(body)
    version = r.u16()
    cookie = r.vec8()
    r.done()
    if version != _DTLS_1_2 and version != _DTLS_1_0:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_ILLEGAL_PARAMETER)
    return cookie


def push_hello_verify_request(w, cookie):
    # RFC 6347 4.2.1: servers SHOULD use DTLS 1.0 here regardless of the version
    # being negotiated; both are accepted by clients.
    w.u16(_DTLS_1_0)
    w.vec8(cookie)


def _whole(body, vec):
    """A message that is one opaque vector and nothing else."""
    r = Reader(body)
    v = r.vec8() if vec == 8 else r.vec16()
    r.done()
    return v


def pull_psk_vector(body):
    """ServerKeyExchange hint or ClientKeyExchange identity for plain PSK (RFC 4279 2)."""
    return _whole(body, 16)


def push_psk_vector(w, v):
    w.vec16(v)


def push_handshake_header(mv, off, msg_type, length, message_seq, frag_off, frag_len):
    """RFC 6347 4.2.2 handshake header, 12 bytes."""
    # (byte by byte, no helper calls: a call costs more than these stores on a board)
    mv[off] = msg_type
    mv[off + 1] = (length >> 16) & 0xFF
    mv[off + 2] = (length >> 8) & 0xFF
    mv[off + 3] = length & 0xFF
    mv[off + 4] = (message_seq >> 8) & 0xFF
    mv[off + 5] = message_seq & 0xFF
    mv[off + 6] = (frag_off >> 16) & 0xFF
    mv[off + 7] = (frag_off >> 8) & 0xFF
    mv[off + 8] = frag_off & 0xFF
    mv[off + 9] = (frag_len >> 16) & 0xFF
    mv[off + 10] = (frag_len >> 8) & 0xFF
    mv[off + 11] = frag_len & 0xFF


# --- certificate and ECDHE messages (RFC 5246 7.4.2-7.4.8, RFC 8422 5) --------------
CURVE_TYPE_NAMED = 3                  # RFC 8422 5.4 ECCurveType named_curve
CERT_TYPE_RSA_SIGN = 1                # RFC 5246 7.4.4 ClientCertificateType
CERT_TYPE_ECDSA_SIGN = 64             # RFC 8422 5.5


def push_cert_extensions(w, groups, sig_algs, point_formats=True):
    """Append supported_groups, ec_point_formats and signature_algorithms."""
    if groups:
        w.u16(_EXT_SUPPORTED_GROUPS)
        w.u16(2 + 2 * len(groups))
        w.u16(2 * len(groups))
        for g in groups:
            w.u16(g)
    if point_formats:
        w.u16(_EXT_EC_POINT_FORMATS)
        w.u16(2)
        w.u8(1)
        w.u8(0)                          # uncompressed only (RFC 8422 5.1.2)
    if sig_algs:
        w.u16(_EXT_SIGNATURE_ALGORITHMS)
        w.u16(2 + 2 * len(sig_algs))
        w.u16(2 * len(sig_algs))
        for a in sig_algs:
            w.u16(a)


def u16_list_has(mv, value):
    hi = value >> 8
    lo = value & 0xFF
    for i in range(0, len(mv) - 1, 2):
        if mv[i] == hi and mv[i + 1] == lo:
            return True
    return False


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
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    out = []
    while r.left():
        m = r.u24()
        if m == 0:
            raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
        out.append((r.pos, m))
        r.take(m)
    return out


def pull_ec_params(r):
    """RFC 8422 5.4 ServerECDHParams: named curve and the public point."""
    if r.u8() != CURVE_TYPE_NAMED:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    group = r.u16()
    point = r.vec8()
    if len(point) == 0:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    return group, point


def push_ec_params(w, group, point):
    w.u8(CURVE_TYPE_NAMED)
    w.u16(group)
    w.vec8(point)


def pull_ecdh_public(body):
    """RFC 8422 5.7 ClientECDiffieHellmanPublic: the point, as one whole message."""
    point = _whole(body, 8)
    if len(point) == 0:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
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
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
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
