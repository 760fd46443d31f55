# ALPN (RFC 7301) and server_name (RFC 6066 3) on a board as on the host (pytest, and the
# MicroPython runner: plain asserts): the extensions' codecs byte for byte and their
# refusals, then ALPN over a PSK handshake between our client and our server in one
# interpreter (nxsecure.port.memnet): agreed, refused with no_application_protocol, and
# absent on one side.
from nxsecure import *
from nxsecure.codec import Reader, Writer
from nxsecure.const import NxError
from nxsecure.alpn import *
from nxsecure.alpn import push_alpn, pull_alpn, EXT_ALPN
from nxsecure.sni import push_server_name, pull_server_name, EXT_SERVER_NAME

from dtls_pair import Pair


def _ext(push, *args):
    """push one extension; -> (type, its data as a Reader)."""
    buf = bytearray(600)
    w = Writer(buf, 0)
    push(w, *args)
    r = Reader(memoryview(buf), 0, w.pos)
    t = r.u16()
    return t, r.sub16(), bytes(buf[:w.pos])


def _refused(pull, data, code, alert):
    try:
        pull(Reader(memoryview(data)))
    except NxError as x:
        assert (x.code, x.alert) == (code, alert), (hex(x.code), x.alert)
        return
    raise AssertionError("accepted %r" % (data,))


def test_server_name_codec():
    t, r, raw = _ext(push_server_name, b"gw.example")
    assert t == EXT_SERVER_NAME
    # RFC 6066 3: list length 13, host_name (0), name length 10, the name
    assert raw == b"\x00\x00\x00\x0f\x00\x0d\x00\x00\x0agw.example"
    assert pull_server_name(r) == b"gw.example"
    bad = NX_SECURE_TLS_SNI_EXTENSION_INVALID
    _refused(pull_server_name, b"\x00\x0e\x00\x00\x0agw.example", bad, 50)     # list too long
    _refused(pull_server_name, b"\x00\x00", bad, 50)                            # empty list
    _refused(pull_server_name, b"\x00\x03\x00\x00\x00", bad, 50)                # empty name
    _refused(pull_server_name, b"\x00\x04\x00\x00\x01.", bad, 47)               # not a name
    _refused(pull_server_name, b"\x00\x08\x00\x00\x01a\x00\x00\x01b", bad, 47)  # two names
    _refused(pull_server_name, b"\x00\x04\x01\x00\x01a", bad, 47)               # no host_name


def test_alpn_codec():
    t, r, raw = _ext(push_alpn, (b"coap", b"h2"))
    assert t == EXT_ALPN
    assert raw == b"\x00\x10\x00\x0a\x00\x08\x04coap\x02h2"        # RFC 7301 3.1
    assert [bytes(p) for p in pull_alpn(r)] == [b"coap", b"h2"]
    bad = NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH
    _refused(pull_alpn, b"\x00\x00", bad, 50)                        # empty list
    _refused(pull_alpn, b"\x00\x02\x00\x00", bad, 50)                # empty name
    _refused(pull_alpn, b"\x00\x06\x05coap", bad, 50)                # name runs past the list


class AlpnPair(Pair):
    def __init__(self, server_protocols, client_protocols):
        Pair.__init__(self, TLS_PSK_WITH_AES_128_CCM_8)
        if server_protocols:
            assert nxsecure_dtls_server_alpn_set(self.server, server_protocols) == NX_SUCCESS
        if client_protocols:
            assert nxsecure_dtls_session_alpn_set(self.client, client_protocols) == NX_SUCCESS


def _server_session(p):
    return p.server._sessions[0]


def test_alpn_agreed_over_psk():
    p = AlpnPair([b"coap", b"mqtt"], [b"mqtt", b"coap"])
    try:
        st = p.connect()
        assert st == NX_SUCCESS, p.why(st)
        assert nxsecure_dtls_session_alpn_get(p.client) == (NX_SUCCESS, b"coap")
        assert p.echo(b"GET /temperature") == b"GET /temperature"
        assert nxsecure_dtls_session_alpn_get(_server_session(p)) == (NX_SUCCESS, b"coap")
    finally:
        p.close()


def test_alpn_without_a_common_protocol_is_refused():
    p = AlpnPair([b"coap"], [b"h3"])
    try:
        st = p.connect()
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        assert p.client._engine.last_alert == (2, 120)       # no_application_protocol
        for _ in range(50):
            if p.errors:
                break
            tx_thread_sleep(1)
        assert p.errors == [NXSECURE_DTLS_NO_APPLICATION_PROTOCOL]
    finally:
        p.close()


def _one_side(server, client):
    # one pair at a time: a board's heap holds one pair's packet pool, not two
    p = AlpnPair(server, client)
    try:
        st = p.connect()
        assert st == NX_SUCCESS, p.why(st)
        assert nxsecure_dtls_session_alpn_get(p.client) == (
            NX_SECURE_TLS_EXTENSION_NOT_FOUND, None)
    finally:
        p.close()


def test_alpn_on_the_server_only_agrees_on_none():
    _one_side([b"coap"], None)


def test_alpn_offered_by_the_client_only_agrees_on_none():
    _one_side(None, [b"coap"])
