# Byte-exact round trips of every handshake message codec of nxsecure/handshake.py
# (CPython via pytest, MicroPython via tools/mp_test_runner.py): push_X writes exactly
# the bytes the RFC layout gives (built here by hand), pull_X reads them back, and
# pushing what was pulled gives the same bytes again.
from nxsecure.codec import Reader, Writer
from nxsecure.const import NxError
from nxsecure import handshake as H

RANDOM = bytes(range(32))


def written(fn, *args):
    buf = bytearray(600)
    w = Writer(buf, 0)
    fn(w, *args)
    return bytes(buf[:w.pos])


def u16(v):
    return bytes(((v >> 8) & 0xFF, v & 0xFF))


def test_client_hello():
    cookie = bytes(range(16))
    suites = [0xC0A8, 0x00A8]
    got = written(H.push_client_hello, RANDOM, cookie, suites)
    # RFC 6347 4.2.1: version, random, session_id<0>, cookie<0..255>, suites, null
    # compression, extensions: extended_master_secret, renegotiation_info (empty)
    exts = u16(23) + u16(0) + u16(0xFF01) + u16(1) + b"\x00"
    want = (u16(0xFEFD) + RANDOM + b"\x00" + bytes([16]) + cookie + u16(4) + u16(0xC0A8)
            + u16(0x00A8) + b"\x01\x00" + u16(len(exts)) + exts)
    assert got == want
    h = H.pull_client_hello(memoryview(got))
    assert h.version == 0xFEFD and bytes(h.random) == RANDOM and bytes(h.cookie) == cookie
    assert H.client_hello_offers(h, 0xC0A8) and H.client_hello_offers(h, 0x00A8)
    assert not H.client_hello_offers(h, 0xC0AE)
    assert h.ems and h.secure_reneg and h.compression_ok
    assert written(H.push_client_hello, h.random, h.cookie,
                   [0xC0A8, 0x00A8]) == got
    # the cookie path's prefix ends at the cookie: a first fragment cut one byte into
    # the suite list still gives it
    p = H.pull_client_hello_prefix(memoryview(got)[:2 + 32 + 1 + 17 + 1])
    assert bytes(p.cookie) == cookie and bytes(p.random) == bytes(h.random)


def test_server_hello():
    got = written(H.push_server_hello, RANDOM, b"", 0xC0A8, True, True)
    exts = u16(23) + u16(0) + u16(0xFF01) + u16(1) + b"\x00"
    want = u16(0xFEFD) + RANDOM + b"\x00" + u16(0xC0A8) + b"\x00" + u16(len(exts)) + exts
    assert got == want
    h = H.pull_server_hello(memoryview(got))
    assert h.suite == 0xC0A8 and h.ems and h.secure_reneg and h.exts is None
    assert written(H.push_server_hello, h.random, h.session_id, h.suite, h.ems,
                   h.secure_reneg) == got
    bare = written(H.push_server_hello, RANDOM, b"", 0xC0A8, False, False)
    assert bare == u16(0xFEFD) + RANDOM + b"\x00" + u16(0xC0A8) + b"\x00"


def test_hello_verify_request():
    cookie = b"\xaa" * 20
    got = written(H.push_hello_verify_request, cookie)
    assert got == u16(0xFEFF) + bytes([20]) + cookie        # RFC 6347 4.2.1: 1.0 version
    assert bytes(H.pull_hello_verify_request(memoryview(got))) == cookie
    assert written(H.push_hello_verify_request, H.pull_hello_verify_request(got)) == got


def test_psk_vector():
    got = written(H.push_psk_vector, b"sensor-01")
    assert got == u16(9) + b"sensor-01"                     # RFC 4279 2
    assert bytes(H.pull_psk_vector(memoryview(got))) == b"sensor-01"
    assert written(H.push_psk_vector, H.pull_psk_vector(got)) == got


def test_certificate_list():
    ders = [b"\x30\x03abc", b"\x30\x01z"]
    got = written(H.push_certificate_list, ders)
    want = b"\x00\x00\x0e" + b"\x00\x00\x05\x30\x03abc" + b"\x00\x00\x03\x30\x01z"
    assert got == want                                      # RFC 5246 7.4.2
    lst = H.pull_certificate_list(memoryview(got))
    assert [bytes(got[o:o + n]) for o, n in lst] == ders
    assert written(H.push_certificate_list, [got[o:o + n] for o, n in lst]) == got
    # the zero-copy form: the framing in the buffer, the DER as given
    buf = bytearray(64)
    w = Writer(buf, 0)
    segs = []
    H.push_certificate_list(w, ders, segs)
    assert b"".join(bytes(s) for s in segs) == want
    assert any(s is ders[0] for s in segs)


def test_ec_params_and_ecdh_public():
    point = b"\x04" + bytes(range(64))
    got = written(H.push_ec_params, 23, point)
    assert got == b"\x03" + u16(23) + bytes([65]) + point   # RFC 8422 5.4 named_curve
    group, p = H.pull_ec_params(Reader(memoryview(got)))
    assert group == 23 and bytes(p) == point
    assert written(H.push_ec_params, group, p) == got
    pub = written(H.push_ecdh_public, point)
    assert pub == bytes([65]) + point                       # RFC 8422 5.7
    assert bytes(H.pull_ecdh_public(memoryview(pub))) == point
    assert written(H.push_ecdh_public, H.pull_ecdh_public(pub)) == pub


def test_encrypted_premaster():
    ct = bytes(range(256)) * 1
    got = written(H.push_encrypted_premaster, ct)
    assert got == u16(256) + ct                             # RFC 5246 7.4.7.1
    assert bytes(H.pull_encrypted_premaster(memoryview(got))) == ct
    assert written(H.push_encrypted_premaster, H.pull_encrypted_premaster(got)) == got


def test_certificate_request():
    got = written(H.push_certificate_request, (64, 1), (0x0403, 0x0804))
    want = b"\x02\x40\x01" + u16(4) + u16(0x0403) + u16(0x0804) + u16(0)
    assert got == want                                      # RFC 5246 7.4.4
    types, algs = H.pull_certificate_request(memoryview(got))
    assert bytes(types) == b"\x40\x01" and bytes(algs) == u16(0x0403) + u16(0x0804)
    again = written(H.push_certificate_request, types,
                    [(algs[i] << 8) | algs[i + 1] for i in range(0, len(algs), 2)])
    assert again == got


def test_digitally_signed():
    sig = b"\x30\x06" + b"\x01" * 6
    got = written(H.push_digitally_signed, 0x0403, sig)
    assert got == u16(0x0403) + u16(8) + sig                # RFC 5246 4.7
    r = Reader(memoryview(got))
    alg, s = H.pull_digitally_signed(r)
    r.done()
    assert alg == 0x0403 and bytes(s) == sig
    assert written(H.push_digitally_signed, alg, s) == got


def test_handshake_header():
    buf = bytearray(12)
    H.push_handshake_header(buf, 0, 1, 0x010203, 0x0405, 0x060708, 0x090A0B)
    assert bytes(buf) == bytes([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])   # RFC 6347 4.2.2


def test_pulls_refuse_trailing_or_missing_bytes():
    for fn, good in ((H.pull_hello_verify_request, u16(0xFEFF) + b"\x01\x00"),
                     (H.pull_psk_vector, u16(1) + b"x"),
                     (H.pull_ecdh_public, b"\x01\x04"),
                     (H.pull_encrypted_premaster, u16(1) + b"x")):
        assert fn(memoryview(good)) is not None
        for bad in (good + b"\x00", good[:-1]):
            try:
                fn(memoryview(bad))
            except NxError:
                continue
            raise AssertionError("%s took %r" % (fn.__name__, bad))
