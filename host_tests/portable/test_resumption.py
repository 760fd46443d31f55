# Session resumption (nxsecure/resumption.py, RFC 5246 7.3, RFC 5077, RFC 7627 5.3)
# between our client and our server: session IDs, tickets, the client's state carried
# across a "deep sleep" as bytes, and the cases that must fall back to a full
# handshake or fail. Runs under pytest and on MicroPython.
from nxsecure import *
from nxsecure.codec import Reader, Writer
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import resumption as R
from nxsecure.resumption import (
    nxsecure_dtls_session_resumption_enable, nxsecure_dtls_session_resumption_state_export,
    nxsecure_dtls_session_resumption_state_import, nxsecure_dtls_session_resumed_get,
    nxsecure_dtls_server_session_cache_set, nxsecure_dtls_server_session_ticket_enable,
)

from dtls_pair import Pair, SERVER_PORT

SUITE = TLS_PSK_WITH_AES_128_CCM_8


def test_codecs_round_trip():
    buf = bytearray(64)
    w = Writer(buf, 0)
    R.push_new_session_ticket(w, 0x01020304, b"TICKET")
    got = bytes(buf[:w.pos])
    assert got == b"\x01\x02\x03\x04\x00\x06TICKET"           # RFC 5077 3.3
    hint, t = R.pull_new_session_ticket(memoryview(got))
    assert hint == 0x01020304 and bytes(t) == b"TICKET"
    w = Writer(buf, 0)
    R.push_session_ticket_extension(w, b"")
    assert bytes(buf[:w.pos]) == b"\x00\x23\x00\x00"           # RFC 5077 3.2, empty
    s = R._state_fields(0xC0A8, True, bytes(range(48)), b"id")
    assert R._parse_state(s) == (0xC0A8, 1, bytes(range(48)), b"id")
    assert R._parse_state(s[:-1]) is None


def _resumed(session):
    st, r = nxsecure_dtls_session_resumed_get(session)
    assert st == NX_SUCCESS
    return r


def _again(p):
    """The client ends its session and connects anew (as after a wake-up)."""
    assert nx_secure_dtls_session_end(p.client, NX_NO_WAIT) == NX_SUCCESS
    for _ in range(10):
        tx_thread_sleep(1)
    return p.connect()


def _pair(cache=True, tickets=False, state=200, net=None, lifetime=6000):
    p = Pair(SUITE, net=net)
    if cache:
        p.cache = bytearray(4 * R.NXSECURE_DTLS_SESSION_CACHE_ENTRY)
        assert nxsecure_dtls_server_session_cache_set(p.server, p.cache, len(p.cache),
                                                      lifetime) == NX_SUCCESS
    if tickets:
        assert nxsecure_dtls_server_session_ticket_enable(p.server, lifetime) == NX_SUCCESS
    if state:
        p.state = bytearray(state)
        assert nxsecure_dtls_session_resumption_enable(p.client, p.state, state) == NX_SUCCESS
    return p


def test_services_check_arguments():
    p = Pair(SUITE)
    try:
        buf = bytearray(200)
        assert nxsecure_dtls_session_resumption_enable(None, buf, 200) == NX_PTR_ERROR
        assert nxsecure_dtls_session_resumption_enable(p.client, buf, 10) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_resumption_enable(p.client, buf, 300) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_resumption_enable(p.server._sessions[0], buf, 200) == \
            NX_PTR_ERROR
        # not enabled: nothing to export or import into
        assert nxsecure_dtls_session_resumption_state_export(p.client, buf, 200)[0] == \
            NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_session_cache_set(p.client, buf, 200, 10) == NX_PTR_ERROR
        assert nxsecure_dtls_server_session_cache_set(p.server, buf, 10, 10) == \
            NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_session_ticket_enable(p.server, -1) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_resumed_get(None)[0] == NX_PTR_ERROR
        assert nxsecure_dtls_session_resumption_enable(p.client, buf, 200) == NX_SUCCESS
        assert nxsecure_dtls_session_resumption_state_export(p.client, buf, 200) == (NX_SUCCESS, 0)
        assert nxsecure_dtls_session_resumption_state_import(p.client, b"\x01" * 90, 90) == \
            NX_INVALID_PARAMETERS
    finally:
        p.close()


def test_session_id_resumption():
    p = _pair()
    try:
        assert p.connect() == NX_SUCCESS
        assert not _resumed(p.client)
        full_rx = p.client._engine.record.discarded
        assert p.echo(b"first") == b"first"
        assert _again(p) == NX_SUCCESS
        assert _resumed(p.client)
        assert any(_resumed(s) for s in p.server._sessions)
        assert p.client._engine.session_id == bytes(p.state[R._SID + 1:R._SID + 33])
        assert p.echo(b"resumed data") == b"resumed data"
        # and once more: the same session again
        assert _again(p) == NX_SUCCESS and _resumed(p.client)
        assert p.echo(b"third") == b"third"
        assert p.errors == [] and full_rx == 0
    finally:
        p.close()


def test_ticket_resumption_without_server_state():
    p = _pair(cache=False, tickets=True)
    try:
        assert p.connect() == NX_SUCCESS
        assert not _resumed(p.client)
        st, n = nxsecure_dtls_session_resumption_state_export(p.client, bytearray(200), 200)
        assert st == NX_SUCCESS and n > R._TICKET + 2 + 60      # a ticket is kept
        assert p.client._engine.session_id == b""               # no session ID given
        assert _again(p) == NX_SUCCESS
        assert _resumed(p.client)
        assert p.echo(b"ticket") == b"ticket"
    finally:
        p.close()


def test_state_survives_a_deep_sleep_as_bytes():
    p = _pair(tickets=True)
    try:
        assert p.connect() == NX_SUCCESS
        saved = bytearray(200)
        st, n = nxsecure_dtls_session_resumption_state_export(p.client, saved, 200)
        assert st == NX_SUCCESS and n > 0
        keep = bytes(saved[:n])            # what a board writes to RTC memory or flash
        assert nx_secure_dtls_session_end(p.client, NX_NO_WAIT) == NX_SUCCESS
        tx_thread_sleep(5)
        # wake-up: a new session control block, the state read back
        assert nx_secure_dtls_session_delete(p.client) == NX_SUCCESS
        p.client = NX_SECURE_DTLS_SESSION()
        st, md = nx_secure_tls_metadata_size_calculate(p.table)
        assert nx_secure_dtls_session_create(p.client, p.table, p.client_md, md, p.client_reasm,
                                             len(p.client_reasm), 0, None, 0) == NX_SUCCESS
        p.client_credentials()
        fresh = bytearray(200)
        assert nxsecure_dtls_session_resumption_enable(p.client, fresh, 200) == NX_SUCCESS
        assert nxsecure_dtls_session_resumption_state_import(p.client, keep, len(keep)) == \
            NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        assert _resumed(p.client)
        assert p.echo(b"woke up") == b"woke up"
        # a damaged state is refused
        bad = bytearray(keep)
        bad[0] = 9
        assert nxsecure_dtls_session_resumption_state_import(p.client, bad, len(bad)) == \
            NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_resumption_state_import(p.client, keep, len(keep) - 1) == \
            NX_INVALID_PARAMETERS
    finally:
        p.close()


def test_forged_ticket_and_unknown_id_fall_back_to_a_full_handshake():
    p = _pair(cache=True, tickets=True)
    try:
        assert p.connect() == NX_SUCCESS
        # flip a byte of the ticket and of the session ID
        t = R._TICKET + 2 + 20
        p.state[t] ^= 1
        p.state[R._SID + 1] ^= 1
        assert _again(p) == NX_SUCCESS
        assert not _resumed(p.client)
        assert p.echo(b"full again") == b"full again"
        assert _again(p) == NX_SUCCESS and _resumed(p.client)   # the new session resumes
    finally:
        p.close()


def test_expired_cache_entry_is_not_resumed():
    p = _pair(lifetime=2)
    try:
        assert p.connect() == NX_SUCCESS
        tx_thread_sleep(5)
        assert _again(p) == NX_SUCCESS
        assert not _resumed(p.client)
    finally:
        p.close()


def test_server_without_resumption_gives_a_full_handshake():
    p = _pair(cache=False)
    try:
        assert p.connect() == NX_SUCCESS
        assert _again(p) == NX_SUCCESS
        assert not _resumed(p.client)
        assert p.state[0] == 0          # no session ID, no ticket: nothing to keep
    finally:
        p.close()


def test_resumption_without_extended_master_secret_is_refused():
    # RFC 7627 5.3: the cached session has the extended master secret; a ClientHello
    # that offers it without the extension ends the handshake
    from nxsecure import dtls_client
    p = _pair()
    push = dtls_client.push_client_hello
    try:
        assert p.connect() == NX_SUCCESS

        def no_ems(w, random, cookie, suites, ems=True, extra=None, session_id=b"",
                   reneg=True):
            push(w, random, cookie, suites, False, extra, session_id, reneg)
        dtls_client.push_client_hello = no_ems
        st = _again(p)
        assert st != NX_SUCCESS and not _resumed(p.client)
        assert p.client._engine.last_alert == (2, 40)            # handshake_failure
    finally:
        dtls_client.push_client_hello = push
        p.close()


def test_lost_final_flight_of_the_client_is_sent_again():
    # In the abbreviated handshake the client speaks last (RFC 6347 4.2.4): when its
    # ChangeCipherSpec + Finished is lost, the server repeats its flight and the client
    # answers with its own again.
    drops = []

    def drop(data, src, dst):
        if drops and drops[0] and dst[1] == SERVER_PORT and data[0] == 20:
            drops[0] -= 1
            return True
        return False
    p = _pair(net=MemoryNetwork(drop=drop))
    try:
        assert p.connect() == NX_SUCCESS
        drops.append(1)
        assert _again(p) == NX_SUCCESS and _resumed(p.client)
        assert drops[0] == 0
        for _ in range(300):
            if any(s._engine.state == 20 and _resumed(s) for s in p.server._sessions):
                break
            tx_thread_sleep(1)
        assert any(s._engine.state == 20 and _resumed(s) for s in p.server._sessions)
        assert p.echo(b"after loss") == b"after loss"
    finally:
        p.close()


def test_a_fatal_alert_ends_the_session_for_good():
    # RFC 5246 7.2.2: after a fatal alert the session is not resumed; a timeout keeps it
    p = _pair()
    try:
        assert p.connect() == NX_SUCCESS
        assert p.state[0] == 1
        s = [x for x in p.server._sessions if x._engine.state == 20][0]
        # the server ends the connection with a fatal alert
        s._engine._fail(NX_SECURE_TLS_HANDSHAKE_FAILURE, 40)
        for _ in range(10):
            tx_thread_sleep(1)
        assert p.client._engine.last_alert == (2, 40)
        assert p.state[0] == 0                       # the client forgot it
        assert _again(p) == NX_SUCCESS
        assert not _resumed(p.client)                # a full handshake
        assert _again(p) == NX_SUCCESS and _resumed(p.client)   # the new session resumes
    finally:
        p.close()


def test_the_server_forgets_a_session_that_ended_in_a_fatal_alert():
    p = _pair()
    try:
        assert p.connect() == NX_SUCCESS
        saved = bytearray(200)
        st, n = nxsecure_dtls_session_resumption_state_export(p.client, saved, 200)
        # the client ends with a fatal alert of its own: the server's cache drops the ID
        p.client._engine._fail(NX_SECURE_TLS_HANDSHAKE_FAILURE, 40)
        for _ in range(10):
            tx_thread_sleep(1)
        # even with the old state put back, the server does not resume it
        assert nxsecure_dtls_session_resumption_state_import(p.client, saved, n) == NX_SUCCESS
        assert _again(p) == NX_SUCCESS
        assert not _resumed(p.client)
    finally:
        p.close()
