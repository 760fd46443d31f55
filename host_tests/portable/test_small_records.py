# Small records (nxsecure/small_records.py): max_fragment_length (RFC 6066 4) and
# record_size_limit (RFC 8449) negotiated between our client and our server, and
# enforced in both directions. Runs under pytest and on real MicroPython.
from nxsecure import *
from nxsecure.codec import Reader, Writer
from nxsecure.const import NxError
from nxsecure import small_records as SR
from nxsecure.small_records import (
    nxsecure_dtls_session_max_fragment_length_set, nxsecure_dtls_session_record_size_limit_set,
    nxsecure_dtls_server_record_size_limit_set, nxsecure_dtls_session_record_size_get,
)

from dtls_pair import Pair

SUITE = TLS_PSK_WITH_AES_128_CCM_8


def written(fn, *args):
    buf = bytearray(16)
    w = Writer(buf, 0)
    fn(w, *args)
    return bytes(buf[:w.pos])


def test_extension_codecs_round_trip():
    # RFC 6066 4: type 1, length 1, code 1..4 for 2^9..2^12
    for code, n in ((1, 512), (2, 1024), (3, 2048), (4, 4096)):
        got = written(SR.push_max_fragment_length, n)
        assert got == b"\x00\x01\x00\x01" + bytes([code])
        assert SR.pull_max_fragment_length(Reader(memoryview(got), 4)) == n
    # RFC 8449 4: type 28, length 2, uint16
    got = written(SR.push_record_size_limit, 300)
    assert got == b"\x00\x1c\x00\x02\x01\x2c"
    assert SR.pull_record_size_limit(Reader(memoryview(got), 4)) == 300
    # larger than TLS 1.2's 2^14: the protocol's maximum stands
    assert SR.pull_record_size_limit(Reader(memoryview(b"\x40\x01"))) == 16384


def _alert(fn, data):
    try:
        fn(Reader(memoryview(data)))
    except NxError as e:
        return e.alert
    return None


def test_extension_codecs_refuse_bad_values():
    assert _alert(SR.pull_max_fragment_length, b"\x00") == 47      # illegal_parameter
    assert _alert(SR.pull_max_fragment_length, b"\x05") == 47
    assert _alert(SR.pull_max_fragment_length, b"\x01\x01") == 50  # decode_error
    assert _alert(SR.pull_record_size_limit, b"\x00\x3f") == 47    # below 64
    assert _alert(SR.pull_record_size_limit, b"\x01") == 50


def test_services_check_arguments():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_max_fragment_length_set(None, 512) == NX_PTR_ERROR
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 500) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_record_size_limit_set(p.client, 63) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_record_size_limit_set(p.client, 16385) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_record_size_limit_set(p.client, 512) == NX_PTR_ERROR
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 10) == NX_INVALID_PARAMETERS
        # a server's session is configured through its server
        s = p.server._sessions[0]
        assert nxsecure_dtls_session_record_size_limit_set(s, 512) == NX_PTR_ERROR
        assert nxsecure_dtls_session_record_size_get(None)[0] == NX_PTR_ERROR
        # nothing asked: the protocol's maximum both ways
        assert nxsecure_dtls_session_record_size_get(p.client) == (NX_SUCCESS, 16384, 16384)
        assert p.client._engine.x is None
    finally:
        p.close()


def _limits(session):
    st, send, recv = nxsecure_dtls_session_record_size_get(session)
    assert st == NX_SUCCESS
    return send, recv


def _send(p, session, n):
    st, pkt = nx_secure_dtls_packet_allocate(session, p.pool, NX_NO_WAIT)
    assert st == NX_SUCCESS
    assert nx_packet_data_append(pkt, b"z" * n, n, p.pool, NX_NO_WAIT) == NX_SUCCESS
    if session is p.client:
        st = nx_secure_dtls_session_send(session, pkt, p.addr, 5684)
    else:
        st = nx_secure_dtls_server_session_send(session, pkt)
    if st != NX_SUCCESS:
        nx_packet_release(pkt)
    return st


def test_max_fragment_length_negotiated_and_enforced_on_send():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 1024) == NX_SUCCESS
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        s = p.server._sessions[0]
        assert _limits(p.client) == (512, 512)
        assert _limits(s) == (512, 512)          # the server echoed and applies it
        data = bytes(range(256)) + bytes(range(256))
        assert p.echo(data) == data              # exactly 512: allowed
        assert _send(p, p.client, 513) == NX_INVALID_PARAMETERS
        assert _send(p, s, 513) == NX_INVALID_PARAMETERS
        assert p.echo(b"still up") == b"still up"
    finally:
        p.close()


def test_record_size_limit_each_side_its_own():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 1000) == NX_SUCCESS
        assert nxsecure_dtls_session_record_size_limit_set(p.client, 200) == NX_SUCCESS
        # asked for both: RFC 8449 5, the server answers record_size_limit only
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 2048) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        s = p.server._sessions[0]
        assert _limits(p.client) == (1000, 200)   # we send to its limit, accept ours
        assert _limits(s) == (200, 1000)
        assert _send(p, s, 201) == NX_INVALID_PARAMETERS
        assert p.echo(b"y" * 200) == b"y" * 200
    finally:
        p.close()


def test_server_without_the_feature_ignores_the_request():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        assert nxsecure_dtls_session_record_size_limit_set(p.client, 256) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        assert _limits(p.client) == (16384, 16384)
        assert p.server._sessions[0]._engine.x is None
        assert p.echo(b"q" * 600) == b"q" * 600
    finally:
        p.close()


def test_turned_off_again_offers_nothing():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 512) == NX_SUCCESS
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 0) == NX_SUCCESS
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 0) == NX_SUCCESS
        assert p.client._engine.x is None and p.server._sessions[0]._engine.x is None
        assert p.connect() == NX_SUCCESS
        assert _limits(p.client) == (16384, 16384)
    finally:
        p.close()


def test_oversized_record_from_the_peer_is_record_overflow():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 1024) == NX_SUCCESS
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        s = p.server._sessions[0]
        s._engine.max_send = 16384               # a server that ignores the limit
        assert _send(p, s, 600) == NX_SUCCESS
        for _ in range(20):
            tx_thread_sleep(1)
        st, pkt = nx_secure_dtls_session_receive(p.client, NX_NO_WAIT)
        assert st == NX_SECURE_TLS_INVALID_PACKET
        # the server was told why: a fatal record_overflow (RFC 6066 4)
        assert s._engine.last_alert == (2, 22)
        assert p.errors == [NX_SECURE_TLS_ALERT_RECEIVED]
    finally:
        p.close()


class _WrongEcho(SR.SmallRecords):
    """A server that answers max_fragment_length with another value, or
    record_size_limit unasked."""

    def __init__(self, mfl, rsl):
        SR.SmallRecords.__init__(self, True)
        self.force = (mfl, rsl)

    def peer_hello(self, e, h):
        SR.SmallRecords.peer_hello(self, e, h)
        e.sr_reply_mfl, e.sr_reply_rsl = self.force


def _pump_alert(p):
    for _ in range(20):                  # the client's alert reaches the server
        if p.server._sessions[0]._engine.last_alert is not None:
            return
        tx_thread_sleep(1)


def _wrong_server(p, mfl, rsl):
    from nxsecure.feature import install
    for s in p.server._sessions:
        install(s._engine, _WrongEcho(mfl, rsl), SR.SmallRecords)


def _refused(mfl, rsl, asked_rsl, status, alert):
    """A server that answers wrongly: the client ends the handshake with status and
    sends the alert."""
    p = Pair(SUITE)
    try:
        _wrong_server(p, mfl, rsl)
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        if asked_rsl:
            assert nxsecure_dtls_session_record_size_limit_set(p.client, asked_rsl) == NX_SUCCESS
        assert p.connect() == status
        _pump_alert(p)
        assert p.server._sessions[0]._engine.last_alert == (2, alert)
    finally:
        p.close()


def test_client_refuses_a_changed_max_fragment_length():
    # RFC 6066 4: the very value asked for, or illegal_parameter
    _refused(1024, 0, 0, NX_SECURE_TLS_HANDSHAKE_FAILURE, 47)


def test_client_refuses_an_unasked_record_size_limit():
    _refused(512, 100, 0, NX_SECURE_TLS_UNSUPPORTED_FEATURE, 110)   # unsupported_extension


def test_client_refuses_both_answers():
    # RFC 8449 5: a server answers one of the two
    _refused(512, 100, 300, NX_SECURE_TLS_HANDSHAKE_FAILURE, 47)


def test_the_smallest_limit_fragments_the_handshake():
    # RFC 8449 4: 64 bytes is the smallest limit; the server's ServerHello (with its
    # extensions) no longer fits one record and is fragmented to it
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 64) == NX_SUCCESS
        assert nxsecure_dtls_session_record_size_limit_set(p.client, 64) == NX_SUCCESS
        seen = []
        reasm = p.client._engine.reasm
        add = reasm.add

        def spy(msg_type, length, message_seq, frag_off, frag_len, frag, epoch=0):
            seen.append((msg_type, frag_len))
            return add(msg_type, length, message_seq, frag_off, frag_len, frag, epoch)
        reasm.add = spy
        assert p.connect() == NX_SUCCESS
        assert max(n for _, n in seen) <= 64 - 12
        assert len([t for t, _ in seen if t == 2]) >= 2      # the ServerHello in pieces
        assert p.echo(b"w" * 64) == b"w" * 64
    finally:
        p.close()
