"""Hypothesis fuzzing of the X.509 code: truncated, over-long, wrongly tagged, deeply
nested and mutated DER (from real pyca-made certificates) must give NetX X.509 / TLS
status codes, never an exception; anything that does parse keeps every offset inside
its buffer and survives host-name checks and chain verification."""
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings, strategies as st

from nxsecure.const import NxError, NX_SUCCESS
from nxsecure.x509 import der
from nxsecure.x509 import (
    NX_SECURE_X509_CERT,
    NX_SECURE_X509_CERTIFICATE_STORE,
    NX_SECURE_X509_KEY_TYPE_NONE,
    NX_SECURE_X509_TIME_UNCHECKED,
    X509_ROLE_SERVER,
    nx_secure_x509_certificate_initialize,
    nx_secure_x509_common_name_dns_check,
    signature_algorithm_info,
    store_remote_add,
    store_remote_buffer_set,
    store_trusted_add,
    x509_chain_verify,
    x509_default_verify_signature,
)
from nxsecure.x509.pem import pem_blocks

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _make_chain():
    t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    lk = ec.generate_private_key(ec.SECP256R1())
    rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fuzz Root")])
    root = (x509.CertificateBuilder().subject_name(rn).issuer_name(rn)
            .public_key(rk.public_key()).serial_number(7)
            .not_valid_before(t0).not_valid_after(t0 + datetime.timedelta(days=9000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=2), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(rk.public_key()), critical=False)
            .sign(rk, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fuzz"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "leaf.example.org")]))
            .issuer_name(rn).public_key(lk.public_key()).serial_number(2 ** 120 + 5)
            .not_valid_before(t0).not_valid_after(t0 + datetime.timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("leaf.example.org"), x509.DNSName("*.example.org"),
                x509.IPAddress(__import__("ipaddress").ip_address("192.0.2.1")),
                x509.UniformResourceIdentifier("coap://leaf.example.org/")]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(lk.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(rk.public_key()),
                           critical=False)
            .sign(rk, hashes.SHA256()))
    return (root.public_bytes(serialization.Encoding.DER),
            leaf.public_bytes(serialization.Encoding.DER))


ROOT, LEAF = _make_chain()
NOW = int(datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc).timestamp())


def _init(data):
    c = NX_SECURE_X509_CERT()
    st_ = nx_secure_x509_certificate_initialize(c, data, len(data), None, 0, None, 0,
                                                NX_SECURE_X509_KEY_TYPE_NONE)
    assert isinstance(st_, int)
    return st_, c


def _is_x509_code(code):
    return 0x181 <= code <= 0x1A0


def _check_parsed(c, n):
    """Every recorded offset lies inside the certificate buffer."""
    assert c._tbs_start < c._tbs_end <= n
    assert c._sig_alg_start < c._sig_alg_end <= n
    assert c.nx_secure_x509_signature_data + c.nx_secure_x509_signature_data_length <= n
    assert c.nx_secure_x509_serial_number + c.nx_secure_x509_serial_number_length <= n
    assert c._spki_start < c._spki_end <= n
    assert c._san_start <= c._san_end <= n
    for dn in (c.nx_secure_x509_issuer, c.nx_secure_x509_distinguished_name):
        assert 0 <= dn._start <= dn._end <= n
        if dn.nx_secure_x509_common_name >= 0:
            assert dn.nx_secure_x509_common_name + dn.nx_secure_x509_common_name_length <= n


def _exercise(data):
    """Parse; if it parses, run everything else on it. Only status codes allowed."""
    st_, c = _init(data)
    if st_ != NX_SUCCESS:
        assert _is_x509_code(st_), hex(st_)
        return st_
    _check_parsed(c, len(data))
    for host in ("leaf.example.org", "a.example.org", "x", "*.example.org"):
        r = nx_secure_x509_common_name_dns_check(c, host, len(host))
        assert r in (0, 0x195)
    signature_algorithm_info(c.signature_algorithm_view())
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    store_remote_buffer_set(store, 2, bytearray(4096), 4096)
    assert store_remote_add(store, data, 0, len(data)) == NX_SUCCESS
    rc = NX_SECURE_X509_CERT()
    _, rc = _init(ROOT)
    store_trusted_add(store, rc, 1)
    status, alert = x509_chain_verify(store, 0, NOW, X509_ROLE_SERVER,
                                      x509_default_verify_signature, dns_name="leaf.example.org")
    assert isinstance(status, int) and isinstance(alert, int)
    status, alert = x509_chain_verify(store, 0, NX_SECURE_X509_TIME_UNCHECKED, 0,
                                      x509_default_verify_signature, strict_name=True)
    assert isinstance(status, int)
    return st_


def test_real_certificates_parse_and_verify():
    assert _exercise(ROOT) == NX_SUCCESS
    assert _exercise(LEAF) == NX_SUCCESS
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    store_remote_buffer_set(store, 1, bytearray(4096), 4096)
    store_remote_add(store, LEAF, 0, len(LEAF))
    _, rc = _init(ROOT)
    store_trusted_add(store, rc, 1)
    assert x509_chain_verify(store, 0, NOW, X509_ROLE_SERVER, x509_default_verify_signature,
                             dns_name="leaf.example.org") == (NX_SUCCESS, 0)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data):
    if data:
        _exercise(data)


@FUZZ
@given(st.sampled_from([ROOT, LEAF]), st.integers(min_value=1), st.booleans())
def test_truncated(cert, cut, from_front):
    cut = 1 + cut % (len(cert) - 1)
    data = cert[cut:] if from_front else cert[:cut]
    if data:
        assert _exercise(data) != NX_SUCCESS


@FUZZ
@given(st.sampled_from([ROOT, LEAF]),
       st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
                min_size=1, max_size=6))
def test_byte_mutations(cert, edits):
    data = bytearray(cert)
    for pos, val in edits:
        data[pos % len(data)] = val
    _exercise(bytes(data))


@FUZZ
@given(st.sampled_from([ROOT, LEAF]), st.integers(min_value=0), st.binary(min_size=1, max_size=8),
       st.booleans())
def test_insertions_and_deletions(cert, pos, chunk, insert):
    pos = pos % len(cert)
    if insert:
        data = cert[:pos] + chunk + cert[pos:]
    else:
        data = cert[:pos] + cert[pos + len(chunk):]
    if data:
        _exercise(data)


def _tlv_positions(buf):
    """Offsets of every TLV header in a certificate (walking constructed types)."""
    out = []
    stack = [(0, len(buf))]
    while stack:
        pos, end = stack.pop()
        while pos < end:
            tag, s, e = der.tlv(buf, pos, end)
            out.append(pos)
            if tag & 0x20:
                stack.append((s, e))
            pos = e
    return out


POSITIONS = {c: _tlv_positions(memoryview(c)) for c in (ROOT, LEAF)}


@FUZZ
@given(st.sampled_from([ROOT, LEAF]), st.integers(min_value=0),
       st.sampled_from(["len+", "len-", "longform", "indefinite", "tag", "multibyte", "5octets"]),
       st.integers(min_value=1, max_value=2 ** 32 - 1))
def test_header_corruptions(cert, which, how, value):
    positions = POSITIONS[cert]
    p = positions[which % len(positions)]
    data = bytearray(cert)
    hdr_len = data[p + 1]
    if how == "tag":
        data[p] = value & 0xFF
    elif how == "multibyte":
        data[p] = (data[p] & 0xE0) | 0x1F
    elif how == "indefinite":
        data[p + 1] = 0x80
    elif how == "5octets":
        data[p + 1:p + 2] = b"\x85" + value.to_bytes(5, "big")
    elif how == "longform":
        data[p + 1:p + 2 + (hdr_len & 0x7F if hdr_len & 0x80 else 0)] = b"\x84" + value.to_bytes(4, "big")
    elif hdr_len < 0x80:
        n = hdr_len + 1 + value % 50 if how == "len+" else max(0, hdr_len - 1 - value % 5)
        if n > 0x7F:
            n = 0x7F
        if n == hdr_len:
            return
        data[p + 1] = n
    else:
        k = hdr_len & 0x7F
        n = int.from_bytes(data[p + 2:p + 2 + k], "big")
        n = n + 1 + value % 1000 if how == "len+" else max(0, n - 1 - value % 5)
        if n < 2 ** (8 * k):
            data[p + 2:p + 2 + k] = n.to_bytes(k, "big")
    st_ = _exercise(bytes(data))
    if how in ("multibyte", "indefinite", "5octets"):
        assert st_ != NX_SUCCESS


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.booleans())
def test_deeply_nested(depth, long_form):
    body = b"\x05\x00"
    for _ in range(depth):
        n = len(body)
        if long_form or n >= 128:
            ln = n.to_bytes(4, "big").lstrip(b"\x00") or b"\x00"
            if n < 128:
                body = b"\x30" + bytes([n]) + body
            else:
                body = b"\x30" + bytes([0x80 | len(ln)]) + ln + body
        else:
            body = b"\x30" + bytes([n]) + body
    st_ = _exercise(body)
    assert st_ != NX_SUCCESS


@FUZZ
@given(st.binary(max_size=64))
def test_der_reader_raises_only_nxerror(data):
    buf = memoryview(data)
    try:
        der.check_structure(buf, 0, len(buf))
    except NxError as e:
        assert _is_x509_code(e.code)
    pos = 0
    try:
        while pos < len(buf):
            tag, s, e = der.tlv(buf, pos, len(buf))
            assert pos < s <= e <= len(buf)
            pos = e
    except NxError as e:
        assert _is_x509_code(e.code)


@FUZZ
@given(st.sampled_from([der.TAG_UTC_TIME, der.TAG_GENERALIZED_TIME, 0x04]),
       st.text(alphabet="0123456789Z+-.", max_size=17))
def test_time_parser_raises_only_nxerror(tag, text):
    b = text.encode()
    try:
        t = der.parse_time(memoryview(b), tag, 0, len(b))
        assert isinstance(t, int)
    except NxError as e:
        assert e.code == 0x196


@FUZZ
@given(st.from_regex(r"\A[a-zA-Z0-9*.\-]{0,30}\Z"), st.from_regex(r"\A[a-zA-Z0-9.\-]{1,30}\Z"))
def test_dns_matcher_total_and_never_crosses_dots(pattern, host):
    from nxsecure.x509.names import _dns_match
    p = pattern.encode()
    h = host.encode()
    r = _dns_match(memoryview(p), 0, len(p), memoryview(h), len(h))
    if r:
        # A match means the same label count and, for every label that is not a
        # left-most "*", equality ignoring ASCII case.
        pl = pattern.lower().split(".")
        hl = host.lower().split(".")
        assert len(pl) == len(hl)
        for i, (a, b) in enumerate(zip(pl, hl)):
            assert a == b or (i == 0 and a == "*" and b and len(pl) >= 3)


@FUZZ
@given(st.binary(max_size=300))
def test_pem_garbage(data):
    st_, blocks = pem_blocks(b"-----BEGIN CERTIFICATE-----\n" + data + b"\n-----END CERTIFICATE-----\n")
    assert isinstance(st_, int)
