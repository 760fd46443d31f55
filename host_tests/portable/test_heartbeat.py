# Keep-alive with DTLS heartbeats (nxsecure/heartbeat.py, RFC 6520) between our client
# and our server, and how a server tells a silent peer from one that closed
# (nxsecure_dtls_session_disconnect_reason_get). Runs under pytest and on MicroPython.
from nxsecure import *
from nxsecure.codec import Reader, Writer
from nxsecure.const import NxError
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import heartbeat as HB
from nxsecure.heartbeat import nxsecure_dtls_session_keep_alive_set, nxsecure_dtls_server_keep_alive_set

from dtls_pair import Pair, SERVER_PORT

SUITE = TLS_PSK_WITH_AES_128_CCM_8


def test_extension_and_message_codecs():
    buf = bytearray(8)
    w = Writer(buf, 0)
    HB.push_heartbeat_extension(w, HB.PEER_ALLOWED_TO_SEND)
    assert bytes(buf[:w.pos]) == b"\x00\x0f\x00\x01\x01"        # RFC 6520 2
    assert HB.pull_heartbeat_extension(Reader(memoryview(buf), 4, 5)) == 1
    for bad, alert in ((b"\x03", 47), (b"\x01\x01", 50)):
        try:
            HB.pull_heartbeat_extension(Reader(memoryview(bad)))
            assert False
        except NxError as e:
            assert e.alert == alert
    msg = bytearray(40)
    n = HB.push_heartbeat_message(msg, 0, HB.HEARTBEAT_REQUEST, b"abcde", 16)
    assert n == 3 + 5 + 16 and bytes(msg[:8]) == b"\x01\x00\x05abcde"
    assert HB.pull_heartbeat_message(msg, 0, n) == (1, 3, 5)
    # RFC 6520 4: a payload_length that leaves less than 16 bytes of padding: discarded
    assert HB.pull_heartbeat_message(msg, 0, n - 1) is None
    msg[1] = 0xFF
    assert HB.pull_heartbeat_message(msg, 0, n) is None


def test_services_check_arguments():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_keep_alive_set(None, 1, 1, 1) == NX_PTR_ERROR
        assert nxsecure_dtls_session_keep_alive_set(p.client, 10, 0, 2) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_keep_alive_set(p.client, -1, 1, 2) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_keep_alive_set(p.client, 1, 1, 1) == NX_PTR_ERROR
        assert nxsecure_dtls_session_keep_alive_set(p.server._sessions[0], 1, 1, 1) == NX_PTR_ERROR
        assert nxsecure_dtls_session_keep_alive_set(p.client, 10, 5, 2) == NX_SUCCESS
        assert p.client._engine.x is not None
        assert nxsecure_dtls_session_keep_alive_set(p.client, 0, 0, 0) == NX_SUCCESS
        assert p.client._engine.x is None
        assert nxsecure_dtls_session_disconnect_reason_get(None)[0] == NX_PTR_ERROR
        assert nxsecure_dtls_session_disconnect_reason_get(p.client) == (NX_SUCCESS, 0)
    finally:
        p.close()


def _sleep_until(cond, ticks=200):
    for _ in range(ticks):
        if cond():
            return True
        tx_thread_sleep(1)
    return cond()


def test_client_keep_alive_answered_by_the_server():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_keep_alive_set(p.server, 1000, 100, 3) == NX_SUCCESS
        assert nxsecure_dtls_session_keep_alive_set(p.client, 3, 2, 2) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        c = p.client._engine
        assert c.hb_mode == HB.PEER_ALLOWED_TO_SEND
        assert p.server._sessions[0]._engine.hb_mode == HB.PEER_ALLOWED_TO_SEND
        assert _sleep_until(lambda: c.hb_answered >= 3)
        assert c.state == 20 and c.hb_sent >= c.hb_answered
        assert p.echo(b"after keep-alives") == b"after keep-alives"
        assert p.disconnects == [] and p.errors == []
    finally:
        p.close()


def test_client_finds_the_server_gone():
    cut = []
    net = MemoryNetwork(drop=lambda data, src, dst: bool(cut) and dst[1] == SERVER_PORT)
    p = Pair(SUITE, net=net)
    try:
        assert nxsecure_dtls_server_keep_alive_set(p.server, 1000, 100, 3) == NX_SUCCESS
        assert nxsecure_dtls_session_keep_alive_set(p.client, 3, 2, 2) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        cut.append(1)
        c = p.client._engine
        assert _sleep_until(lambda: c.state != 20)
        assert c.hb_sent == 3 and c.hb_answered == 0       # a request, 2 retries
        st, pkt = nx_secure_dtls_session_receive(p.client, NX_NO_WAIT)
        assert st == NXSECURE_DTLS_PEER_TIMEOUT
        assert nxsecure_dtls_session_disconnect_reason_get(p.client) == \
            (NX_SUCCESS, NXSECURE_DTLS_PEER_TIMEOUT)
    finally:
        p.close()


def test_server_reports_a_silent_client_as_gone_not_closed():
    cut = []
    net = MemoryNetwork(drop=lambda data, src, dst: bool(cut) and dst[1] != SERVER_PORT)
    p = Pair(SUITE, net=net)
    reasons = []
    # disconnect_notify(session) as NetX has it: the reason comes from the getter
    p.server._disconnect_notify = lambda s: reasons.append(
        nxsecure_dtls_session_disconnect_reason_get(s)[1])
    try:
        assert nxsecure_dtls_server_keep_alive_set(p.server, 3, 2, 1) == NX_SUCCESS
        # the client negotiates heartbeats (RFC 6520 2: else the server may not send
        # them) but waits long before it would probe on its own
        assert nxsecure_dtls_session_keep_alive_set(p.client, 100000, 100, 1) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        s = p.server._sessions[0]._engine
        assert _sleep_until(lambda: s.hb_answered >= 1)      # the client answers
        cut.append(1)
        assert _sleep_until(lambda: reasons)
        assert reasons == [NXSECURE_DTLS_PEER_TIMEOUT]
        assert p.errors == []
        assert p.client._engine.hb_sent == 0
    finally:
        p.close()


def test_close_notify_and_idle_timeout_are_told_apart():
    p = Pair(SUITE)
    reasons = []
    p.server._disconnect_notify = lambda s: reasons.append(
        nxsecure_dtls_session_disconnect_reason_get(s)[1])
    try:
        assert p.connect() == NX_SUCCESS
        assert nx_secure_dtls_session_end(p.client, NX_NO_WAIT) == NX_SUCCESS
        assert _sleep_until(lambda: reasons)
        assert reasons == [NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED]
        # a second client that goes silent: the server's idle timeout
        assert nxsecure_dtls_server_idle_timeout_set(p.server, 5) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        assert _sleep_until(lambda: len(reasons) == 2)
        assert reasons[1] == NXSECURE_DTLS_PEER_TIMEOUT
        assert p.server.nxsecure_idle_timeouts == 1
    finally:
        p.close()


def test_server_without_keep_alive_leaves_the_client_silent():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_keep_alive_set(p.client, 2, 2, 1) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        c = p.client._engine
        assert c.hb_mode == 0                # the server did not answer the extension
        tx_thread_sleep(20)
        assert c.hb_sent == 0 and c.state == 20
        assert p.echo(b"fine") == b"fine"
    finally:
        p.close()
