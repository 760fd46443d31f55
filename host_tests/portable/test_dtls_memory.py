# A complete PSK handshake, application data both ways and close between our client
# and our server in one interpreter over an in-memory link. Runs under pytest and on
# real MicroPython (tools/mp_test_runner.py): plain asserts, no pytest.
from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure.crypto.table import make_tls_crypto
from nxsecure.const import CT_APPLICATION_DATA
from nxsecure.record import ReplayWindow, RecordLayer
from nxsecure.cookie import CookieJar

from dtls_pair import Pair, PSK, IDENTITY, SERVER_PORT


def _round_trip(suite):
    p = Pair(suite)
    try:
        st = p.connect()
        assert st == NX_SUCCESS, p.why(st)
        assert p.client._engine.suite.nx_secure_tls_ciphersuite == suite
        assert len(p.connects) == 1
        for payload in (b"x", b"hello over dtls", bytes(range(256)) * 2):
            assert p.echo(payload) == payload
    finally:
        st = p.close()
    assert st == NX_SUCCESS
    assert len(p.disconnects) == 1
    assert p.errors == []


def test_psk_ccm8_handshake_data_close():
    _round_trip(TLS_PSK_WITH_AES_128_CCM_8)


def test_psk_gcm_handshake_data_close():
    _round_trip(TLS_PSK_WITH_AES_128_GCM_SHA256)


def test_psk_cbc_handshake_data_close():
    _round_trip(TLS_PSK_WITH_AES_128_CBC_SHA256)


def test_psk_ccm_with_hint_and_fragmented_flights():
    p = Pair(TLS_PSK_WITH_AES_128_CCM, hint=b"gateway-hint")
    # The server answers only an unfragmented ClientHello statelessly (as tinydtls
    # and Mbed TLS do), so the client's MTU leaves room for it; the server's flight and
    # the client's final flight are fragmented.
    try:
        assert nxsecure_dtls_session_mtu_set(p.client, 128) == NX_SUCCESS
        assert nxsecure_dtls_server_mtu_set(p.server, 64) == NX_SUCCESS
        st = p.connect()
        assert st == NX_SUCCESS, p.why(st)
        assert bytes(p.client._engine.hint) == b"gateway-hint"
        assert p.echo(b"small") == b"small"
    finally:
        p.close()


def test_wrong_psk_is_reported_to_both_sides_at_once():
    # With a different key the client's Finished fails to authenticate. The server
    # ends the handshake then and there (a fatal bad_record_mac) and reports why,
    # instead of retransmitting until it gives up (issue #11, defect 7).
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, client_key=b"\x09" * 8)
    try:
        st = p.connect()
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        for _ in range(200):
            if p.errors:
                break
            tx_thread_sleep(1)
        assert p.errors == [NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE]
        assert p.server._sessions[0]._engine.record.discarded > 0
        assert p.server._sessions[0]._engine.retransmits == 0
    finally:
        p.close()


def test_unknown_identity_is_reported_to_the_server():
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, client_identity=b"stranger")
    try:
        st = p.connect()
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        assert p.errors == [NX_SECURE_TLS_NO_MATCHING_PSK]
    finally:
        p.close()


def test_replay_window_edges():
    w = ReplayWindow()
    assert w.check(0)
    w.mark(0)
    assert not w.check(0)
    w.mark(100)
    assert not w.check(100)
    assert w.check(99) and w.check(37)      # inside the window (100 - 63 = 37), unseen
    assert not w.check(36)                  # just below the window
    w.mark(37)
    assert not w.check(37)
    w.mark(164)                             # slide by 64: everything older forgotten
    assert not w.check(100)
    assert w.check(101) and w.check(163)
    w.mark(1000)                            # a jump far beyond clears the bitmap
    assert w.check(999) and w.check(937) and not w.check(936)
    big = (1 << 48) - 1
    w.mark(big)
    assert not w.check(big) and w.check(big - 1)


def test_record_seal_open_and_tamper():
    table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
    row = table.nx_secure_tls_ciphersuite_lookup_table[0]
    from nxsecure.record import CipherState, SCRATCH_SIZE
    key = bytes(range(16))
    iv = b"\xa0\xa1\xa2\xa3"
    m = row.nx_secure_tls_session_cipher.nx_crypto_metadata_area_size   # one direction
    md = memoryview(bytearray(2 * m))
    a = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
    b = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
    a.set_pending(None, CipherState(row, key, b"", iv, md[0:m], None))
    b.set_pending(CipherState(row, key, b"", iv, md[m:2 * m], None), None)
    a.activate_write()
    b.activate_read()
    buf = bytearray(100)
    pre = a.write_prefix(1)
    buf[pre:pre + 5] = b"hello"
    n = a.seal(buf, 0, CT_APPLICATION_DATA, 1, 5)
    assert n == 13 + 8 + 5 + 8
    saved = bytes(buf[:n])
    assert b.open(buf, 0, n) == NX_SUCCESS
    assert bytes(buf[b.r_off:b.r_off + b.r_len]) == b"hello"
    b.accept()
    buf[:n] = saved
    assert b.open(buf, 0, n) == NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED   # replay
    for i in (0, 3, 5, 12, 20, n - 1):   # header, epoch, seq, length, body and tag bytes
        t = bytearray(saved)
        t[i] ^= 1
        assert b.open(t, 0, n) != NX_SUCCESS
    assert b.open(bytearray(saved[:n - 1]), 0, n - 1) != NX_SUCCESS      # truncated


def test_cookie_accept_reject_rotation():
    from nxsecure.handshake import Hello

    def hmac(key, msg):
        from nxsecure.crypto.mac import hmac_sha256
        return hmac_sha256(key, msg)

    # the jar over the one-shot HMAC, and over the keyed one where the port's table has
    # it (saved hash states: crypto/prf_saved.py), whose MACs must be the same
    keyed = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8]).hmac_keyed
    for k in [None] + ([keyed] if keyed is not None else []):
        clock = [0]
        jar = CookieJar(hmac, port.random_into, 0, port.ticks_diff, None, k)
        h = Hello()
        h.random = b"r" * 32
        h.session_id = b""
        h.suites = b"\xc0\xa8"
        addr = ("10.0.0.1", 5000)
        c = jar.make(clock[0], addr, h)
        assert len(c) == 16
        m = jar._material(c[0:4], addr, h)
        assert jar._mac(m, False) == hmac(jar._secret, m)
        h.cookie = c
        assert jar.check(clock[0], addr, h)
        assert not jar.check(clock[0], ("10.0.0.2", 5000), h)     # other address
        h.cookie = c[:-1] + bytes([c[-1] ^ 1])
        assert not jar.check(clock[0], addr, h)                   # altered cookie
        h.cookie = c
        h.random = b"s" * 32
        assert not jar.check(clock[0], addr, h)                   # other hello
        h.random = b"r" * 32
        t = jar.lifetime + 1
        assert jar.check(t, addr, h)      # one rotation later: the previous secret holds
        assert jar._mac(m, True) == hmac(jar._previous, m)
        assert jar._mac(m, False) == hmac(jar._secret, m) != hmac(jar._previous, m)
        assert not jar.check(3 * jar.lifetime + 3, addr, h)      # two rotations: gone
        jar.rotate(3 * jar.lifetime + 4)
        assert jar._mac(m, False) == hmac(jar._secret, m)
        assert jar._mac(m, True) == hmac(jar._previous, m)


def test_send_to_another_address_is_refused_even_after_a_good_send():
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8)
    try:
        st = p.connect()
        assert st == NX_SUCCESS, p.why(st)
        assert p.echo(b"one") == b"one"
        # the same NXD_ADDRESS control block, changed in place: not the peer any more
        p.addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 2)
        st, pkt = nx_secure_dtls_packet_allocate(p.client, p.pool, NX_NO_WAIT)
        assert nx_packet_data_append(pkt, b"x", 1, p.pool, NX_NO_WAIT) == NX_SUCCESS
        assert nx_secure_dtls_session_send(p.client, pkt, p.addr, SERVER_PORT) == \
            NX_SECURE_TLS_SEND_ADDRESS_MISMATCH
        assert nx_secure_dtls_session_send(p.client, pkt, p.addr, SERVER_PORT + 1) == \
            NX_SECURE_TLS_SEND_ADDRESS_MISMATCH
        nx_packet_release(pkt)
        p.addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
        assert p.echo(b"two") == b"two"
    finally:
        p.close()


def test_trace_sees_every_state_change_of_both_roles():
    # nxsecure_dtls_session_trace_set / _server_trace_set: the engine's one state
    # writer reports (session, old, new, cause); a whole PSK handshake in order.
    from nxsecure import dtls as D
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8)
    seen = []
    try:
        assert nxsecure_dtls_session_trace_set(p.client, lambda s, o, n, c: seen.append(
            ("c", o, n, c))) == NX_SUCCESS
        assert nxsecure_dtls_server_trace_set(p.server, lambda s, o, n, c: seen.append(
            ("s", o, n, c))) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        client = [(o, n) for (r, o, n, c) in seen if r == "c"]
        server = [(o, n) for (r, o, n, c) in seen if r == "s"]
        assert client[-3:] == [(D.C_KEY_EXCHANGE, D.C_WAIT_CCS), (D.C_WAIT_CCS, D.C_WAIT_FINISHED),
                               (D.C_WAIT_FINISHED, D.CONNECTED)] or \
            client[-3:] == [(D.C_SERVER_HELLO, D.C_WAIT_CCS), (D.C_WAIT_CCS, D.C_WAIT_FINISHED),
                            (D.C_WAIT_FINISHED, D.CONNECTED)]
        assert (D.S_WAIT_HELLO, D.S_HELLO) in server and server[-1] == (D.S_WAIT_FINISHED,
                                                                      D.CONNECTED)
        assert ("c", D.C_WAIT_FINISHED, D.CONNECTED, 20) in seen     # caused by Finished
        assert nxsecure_dtls_session_trace_set(p.client, None) == NX_SUCCESS
    finally:
        p.close()
