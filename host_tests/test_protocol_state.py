"""Protocol-state negative tests: messages in the wrong state, order, epoch or session.

Each test drives our client against our server on nxsecure.port.memnet, puts one out-of-place
message in front of one side (by tampering with or injecting datagrams) and checks it
is rejected -- dropped and counted, or answered with the documented alert -- without
corrupting the association: the handshake still completes, or the established session
still carries data afterwards.

Already covered in test_bad_input.py (not repeated here): Finished before
ChangeCipherSpec at the server, ChangeCipherSpec injected at the client before the key
exchange, application data in epoch 0 / 2 / 257 to a connected server,
ClientKeyExchange instead of ServerHelloDone at the client, HelloVerifyRequest sent
to the server, alerts with unknown level/description after the handshake, replayed
application records. This file adds the other direction or phase of each, and the
rest of the list in issue #5."""
import pytest

from nxsecure import *
from nxsecure import netx
from nxsecure.dtls import (
    S_WAIT_CKE, S_WAIT_FINISHED, CONNECTED, CLOSED, ERROR,
)
from nxsecure.handshake import push_handshake_header
from nxsecure.record import MAX_SEQ

from memworld import (SERVER_PORT, World, records, record, CT_CCS, CT_ALERT, CT_HS, CT_APP,
                      _no_errors_raised)

SERVER = ("127.0.0.1", SERVER_PORT)
HT_HELLO_REQUEST, HT_CLIENT_HELLO, HT_SERVER_HELLO, HT_CKE, HT_FINISHED = 0, 1, 2, 16, 20


# ============================================================== helpers
def hs(msg_type, seq, body, length=None, frag_off=0):
    """One handshake fragment: header + body (length defaults to a whole message)."""
    length = len(body) if length is None else length
    h = bytearray(12)
    push_handshake_header(h, 0, msg_type, length, seq, frag_off, len(body))
    return bytes(h) + bytes(body)


def epoch_of(rec):
    return (rec[3] << 8) | rec[4]


def seal(engine, ctype, payload):
    """A record protected by `engine` in epoch 1 (its current write keys)."""
    rl = engine.record
    buf = bytearray(13 + 16 + len(payload) + 64)
    pre = rl.write_prefix(1)
    buf[pre:pre + len(payload)] = payload
    n = rl.seal(buf, 0, ctype, 1, len(payload))
    return bytes(buf[:n])


def client_to_server(w, c, data):
    w.inject(data, c.addr())


def server_to_client(w, c, data):
    w.inject(data, SERVER, dst=c.addr())


def connects(w):
    return [e for e in w.events if e[0] == "connect"]


def pump_until(cond, ticks=3 * NX_IP_PERIODIC_RATE):
    netx._wait(cond, ticks)
    return cond()


@pytest.fixture
def world():
    w = World(sessions=3)
    try:
        yield w
        _no_errors_raised(w)
    finally:
        w.close()


def connected(w):
    c = w.client()
    assert c.status == NX_SUCCESS, hex(c.status)
    assert c.round_trip(b"warm-up")
    return c, w.server_session(c)


def finishes(w, c, tag):
    """The handshake under way completes and the session carries data."""
    assert c.start(5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert w.server_session(c)._engine.state == CONNECTED
    assert c.round_trip(b"after-" + tag, tries=3)


# ============================================================== order: Finished / CCS
def test_server_finished_before_its_change_cipher_spec_is_discarded_by_the_client(world):
    w = world
    c = w.client(connect=False)
    done = []

    def strip_server_ccs(data, src, dst):
        # flight 6 = CCS + Finished(epoch 1): deliver the Finished alone, once
        if done or tuple(src[:2]) != SERVER or not any(r[0] == CT_CCS for r in records(data)):
            return None
        done.append(1)
        return [b"".join(r for r in records(data) if r[0] != CT_CCS)]

    w.tamper = strip_server_ccs
    assert c.start(5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert done
    e = c.sess._engine
    assert e.record.discarded >= 1          # epoch-1 Finished without the read keys
    assert e.retransmits >= 1               # flight 5 again; flight 6 came back whole
    assert c.round_trip(b"fin-before-ccs-at-client")


def test_change_cipher_spec_injected_at_the_server_before_the_key_exchange(world):
    w = world
    c = w.client(connect=False)
    seen = []

    def ccs_before_cke(data, src, dst):
        # before the client's flight 5 reaches the server, a lone CCS from the
        # client's address: the server is in S_WAIT_CKE and has no pending keys
        if not seen and tuple(src[:2]) == tuple(c.addr()) and any(
                r[0] == CT_HS and len(r) > 13 and r[13] == HT_CKE for r in records(data)):
            s = w.server_session(c)
            seen.append(s._engine.state)
            before = s._engine.record.discarded
            w.deliver_now(record(CT_CCS, 0, 50, b"\x01"), c.addr())
            seen.append(s._engine.record.discarded - before)
            seen.append(s._engine.record.read_epoch)
        return None

    w.tamper = ccs_before_cke
    assert c.start(5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert seen == [S_WAIT_CKE, 1, 0]
    assert c.round_trip(b"after-ccs-injection")


# ============================================================== application data out of place
def test_application_data_before_finished_is_discarded(world):
    w = world
    c = w.client(connect=False)
    state = []

    def app_before_finished(data, src, dst):
        # flight 5 without its Finished, then application data in epoch 1: the
        # server has the keys (after CCS) but the handshake is not finished
        if state or tuple(src[:2]) != tuple(c.addr()) or not any(
                r[0] == CT_CCS for r in records(data)):
            return None
        early = seal(c.sess._engine, CT_APP, b"too early")
        state.append(1)
        return [b"".join(r for r in records(data) if epoch_of(r) == 0), early]

    w.tamper = app_before_finished
    st = c.start(NX_NO_WAIT)
    # both datagrams in: the flight (the server now waits for Finished) and the early
    # record, which must have been dropped
    assert pump_until(lambda: state and w.server_session(c) is not None
                      and w.server_session(c)._engine.state == S_WAIT_FINISHED
                      and w.server_session(c)._engine.record.discarded >= 1, 50)
    s = w.server_session(c)
    assert s._engine.state == S_WAIT_FINISHED
    assert s._rx_head is None and s not in w.received
    finishes(w, c, b"app-before-finished")
    assert w.received[s] == [b"after-app-before-finished"]     # the early record never


def test_application_data_in_epoch_0_to_the_client_is_discarded(world):
    w = world
    c, s = connected(w)
    e = c.sess._engine
    before = e.record.discarded
    server_to_client(w, c, record(CT_APP, 0, 77, b"plaintext to the client"))
    w.pump()
    assert e.record.discarded == before + 1
    assert c.sess._rx_head is None
    assert c.round_trip(b"epoch0-at-client")


def test_application_data_after_close_notify_is_discarded(world):
    w = world
    c, s = connected(w)
    n_rx = len(w.received[s])
    late = seal(c.sess._engine, CT_APP, b"after the end")     # sealed while connected
    assert nx_secure_dtls_session_end(c.sess, NX_NO_WAIT) == NX_SUCCESS
    w.pump()
    assert s._engine.state == CLOSED
    assert ("disconnect", s, 0) in w.events
    before = s._engine.record.discarded
    client_to_server(w, c, late)
    w.pump()
    assert len(w.received[s]) == n_rx
    # the closed session either still holds the address (the record is discarded) or
    # was already recycled (the datagram is dropped on the stateless path)
    assert s._engine.record.discarded == before + 1 or s._peer is None
    assert w.errors() == []


# ============================================================== handshake order
def test_second_client_hello_mid_handshake_without_and_with_a_cookie(world):
    w = world
    c = w.client(connect=False)
    hellos = []
    done = []

    def repeat_hellos(data, src, dst):
        if tuple(src[:2]) == tuple(c.addr()) and data[0] == CT_HS and data[13] == HT_CLIENT_HELLO:
            hellos.append(bytes(data))
            return None
        if not done and len(hellos) == 2 and tuple(src[:2]) == tuple(c.addr()) and any(
                r[0] == CT_HS and r[13] == HT_CKE for r in records(data)):
            # the server waits for flight 5 (S_WAIT_CKE); the client's address sends
            # its cookie-less hello again, then the cookie one with a new random
            s = w.server_session(c)
            done.append(s._engine.state)
            first, second = hellos
            w.inject(first, c.addr())
            other = bytearray(second)
            other[13 + 12 + 2 + 5] ^= 0x55              # a byte of the random
            other[5:11] = (999).to_bytes(6, "big")       # a new record number
            w.inject(other, c.addr())
            w.inject(second, c.addr())                   # and the cookie hello itself
            w.pump()
            done.append(s._engine.state)
            done.append(w.server_session(c) is s)
        return None

    w.tamper = repeat_hellos
    finishes(w, c, b"second-hello")
    assert done[0] == S_WAIT_CKE
    assert done[1] not in (ERROR, CLOSED) and done[2]      # same session, not poisoned
    assert len(connects(w)) == 1                 # no second session, no second connect


def test_wrong_message_seq_is_ignored_and_the_handshake_completes(world):
    w = world
    c = w.client(connect=False)
    done = []

    def bad_seqs(data, src, dst):
        if done or tuple(src[:2]) != tuple(c.addr()) or not any(
                r[0] == CT_HS and r[13] == HT_CKE for r in records(data)):
            return None
        done.append(None)                   # before pumping: the pump re-enters here
        s = w.server_session(c)
        nxt = s._engine.reasm.next_seq
        for seq in (0, nxt - 1, nxt + 200, 0xFFFF):         # old, old, beyond the window
            w.inject(record(CT_HS, 0, 300 + seq, hs(HT_CKE, seq, b"\x00\x03abc")), c.addr())
        w.pump()
        done[0] = (s._engine.state, s._engine.reasm.buffered(), s._engine.error)
        return None

    w.tamper = bad_seqs
    finishes(w, c, b"wrong-seq")
    state, buffered, error = done[0]
    assert state in (S_WAIT_CKE, CONNECTED) and buffered == 0 and error == 0


def test_fragments_whose_lengths_disagree_are_dropped_then_retransmission_completes(world):
    w = world
    c = w.client(connect=False)
    done = []

    def split_cke(data, src, dst):
        # the client's ClientKeyExchange as two fragments; the second claims a
        # different total length (RFC 6347 4.2.3: every fragment carries the same)
        if done or tuple(src[:2]) != tuple(c.addr()):
            return None
        out = []
        for r in records(data):
            if r[0] == CT_HS and epoch_of(r) == 0 and r[13] == HT_CKE:
                body = r[25:]
                seq = (r[17] << 8) | r[18]
                half = len(body) // 2
                r_seq = int.from_bytes(r[5:11], "big")
                out.append(record(CT_HS, 0, r_seq, hs(HT_CKE, seq, body[:half], len(body))))
                out.append(record(CT_HS, 0, r_seq + 1, hs(HT_CKE, seq, body[half:], len(body) + 7,
                                                    half)))
                done.append(1)
            else:
                out.append(r)
        return [b"".join(out)] if done else None

    w.tamper = split_cke
    finishes(w, c, b"length-disagree")
    s = w.server_session(c)
    assert done
    assert s._engine.record.discarded >= 1
    assert c.sess._engine.retransmits >= 1


def test_unknown_alert_level_during_the_handshake_is_ignored(world):
    w = world
    c = w.client(connect=False)
    done = []

    def odd_alerts(data, src, dst):
        if done or tuple(src[:2]) != tuple(c.addr()) or not any(
                r[0] == CT_HS and r[13] == HT_CKE for r in records(data)):
            return None
        done.append(1)
        w.inject(record(CT_ALERT, 0, 700, b"\x07\x28"), c.addr())      # level 7
        w.inject(record(CT_ALERT, 0, 701, b"\x01\xee"), c.addr())      # warning, unknown
        w.inject(record(CT_ALERT, 0, 702, b"\x01\x00\x00"), c.addr())  # 3 bytes
        return None

    w.tamper = odd_alerts
    finishes(w, c, b"odd-alerts")
    assert done and w.errors() == []


# ============================================================== replay across sessions / epochs
def test_records_replayed_from_an_earlier_session_are_discarded(world):
    w = world
    c, s = connected(w)
    mark = len(w.net.captured)
    assert c.round_trip(b"first session")
    old = [d for (src, dst, d) in w.net.captured[:] if tuple(src[:2]) == tuple(c.addr())]
    assert nx_secure_dtls_session_end(c.sess, NX_NO_WAIT) == NX_SUCCESS
    w.pump()
    # the same client (same address) connects again: a new association
    assert c.start(3 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    s2 = w.server_session(c)
    assert s2._engine.state == CONNECTED
    n_connect = len(connects(w))
    before = s2._engine.record.discarded
    n_rx = len(w.received.get(s2, []))
    # every datagram of the first session except its ClientHellos (a ClientHello from
    # a connected address is the RFC 6347 4.2.8 restart path, tested below)
    replay = [d for d in old if not (d[0] == CT_HS and d[13] == HT_CLIENT_HELLO)]
    assert any(d[0] == CT_APP for d in replay)
    for d in replay:
        client_to_server(w, c, d)
    w.pump()
    assert s2._engine.record.discarded > before
    assert len(w.received.get(s2, [])) == n_rx
    assert len(connects(w)) == n_connect
    assert s2._engine.state == CONNECTED and w.server_session(c) is s2
    assert c.round_trip(b"second session")
    del mark


def test_replayed_cookie_client_hello_does_not_end_the_live_association(world):
    # Regression: the ClientHello (with its still-valid cookie) that set up a live
    # association, replayed from the client's address, passed the cookie check and
    # the server released the association for a new handshake: anyone who saw the
    # hello could end the session for up to two cookie periods.
    w = world
    c, s = connected(w)
    hello = [d for (src, dst, d) in w.net.captured
             if tuple(src[:2]) == tuple(c.addr()) and d[0] == CT_HS and d[13] == HT_CLIENT_HELLO][-1]
    assert hello[13 + 12 + 2 + 32 + 1] != 0                  # it carries the cookie
    dropped = w.server.nxsecure_datagrams_dropped
    for i in range(3):
        again = bytearray(hello)
        again[5:11] = (5000 + i).to_bytes(6, "big")
        client_to_server(w, c, again)
    w.pump()
    assert len(connects(w)) == 1
    assert w.server.nxsecure_datagrams_dropped == dropped + 3
    assert w.server_session(c) is s and s._engine.state == CONNECTED
    assert c.round_trip(b"after hello replay")


def test_epoch_0_handshake_records_replayed_after_the_handshake_are_harmless(world):
    w = world
    c, s = connected(w)
    flight5 = [d for (src, dst, d) in w.net.captured
               if tuple(src[:2]) == tuple(c.addr()) and d[0] == CT_HS and d[13] == HT_CKE]
    assert flight5
    for d in flight5 * 3:
        client_to_server(w, c, d)
    w.pump()
    assert s._engine.state == CONNECTED and c.sess._engine.state == CONNECTED
    assert w.errors() == []
    assert c.round_trip(b"after flight-5 replay")


# ============================================================== renegotiation
def test_client_hello_in_epoch_1_is_declined_with_no_renegotiation_and_session_continues(world):
    w = world
    c, s = connected(w)
    e = c.sess._engine
    sent_before = len(w.net.captured)
    hello = hs(HT_CLIENT_HELLO, e.send_seq, b"\xfe\xfd" + bytes(32) + b"\x00\x00\x00\x02\xc0\xa8\x01\x00")
    client_to_server(w, c, seal(e, CT_HS, hello))
    w.pump()
    alerts = [d for (src, dst, d) in w.net.captured[sent_before:]
              if tuple(src[:2]) == SERVER and d[0] == CT_ALERT]
    assert len(alerts) == 1 and epoch_of(alerts[0]) == 1
    assert s._engine.state == CONNECTED and e.state == CONNECTED   # a warning: both go on
    assert w.errors() == [] and len(connects(w)) == 1
    assert c.round_trip(b"after renegotiation attempt")


def test_hello_request_to_the_client_is_declined_and_session_continues(world):
    w = world
    c, s = connected(w)
    se = s._engine
    sent_before = len(w.net.captured)
    server_to_client(w, c, seal(se, CT_HS, hs(HT_HELLO_REQUEST, se.send_seq, b"")))
    w.pump()
    alerts = [d for (src, dst, d) in w.net.captured[sent_before:]
              if tuple(src[:2]) == tuple(c.addr()) and d[0] == CT_ALERT]
    assert len(alerts) == 1 and epoch_of(alerts[0]) == 1
    assert se.state == CONNECTED and c.sess._engine.state == CONNECTED
    assert w.errors() == []
    assert c.round_trip(b"after hello request")


# ============================================================== sequence number exhaustion
def test_record_sequence_number_at_its_maximum_is_never_wrapped(world):
    w = world
    c, s = connected(w)
    e = c.sess._engine
    e.record.seq[1] = MAX_SEQ                    # the last number the epoch may use
    mark = len(w.net.captured)
    assert c.round_trip(b"the very last record")
    assert e.record.seq[1] == MAX_SEQ + 1
    # the next send must fail with a code, and nothing is sent
    n = len(w.net.captured)
    assert c.send(b"one too many") == NX_NOT_SUCCESSFUL
    w.pump()
    assert len(w.net.captured) == n
    assert e.record.seq[1] == MAX_SEQ + 1        # still exhausted, never wrapped
    mine = [d for (src, dst, d) in w.net.captured[mark:]
            if tuple(src[:2]) == tuple(c.addr()) and d[0] == CT_APP]
    seqs = [int.from_bytes(d[5:11], "big") for d in mine]
    assert seqs == [MAX_SEQ]
    # the packet stays the caller's (Client.send released it after the failure), the
    # pool is whole, and the server session is unharmed
    assert s._engine.state == CONNECTED
    assert c.send(b"still refused") == NX_NOT_SUCCESSFUL
    # closing cannot seal a close_notify either: a code, not an exception
    assert nx_secure_dtls_session_end(c.sess, NX_NO_WAIT) in (NX_SUCCESS,
                                                              NX_SECURE_TLS_TCP_SEND_FAILED)
    assert all(int.from_bytes(d[5:11], "big") != 0 for (src, dst, d) in w.net.captured[n:]
               if tuple(src[:2]) == tuple(c.addr()) and epoch_of(d) == 1)


def test_hello_replayed_from_an_earlier_connection_does_not_replace_the_live_one(world):
    # Regression (RFC 6347 4.2.8): a ClientHello with a cookie from an EARLIER
    # connection of the same address (still within the cookie lifetime) ended the
    # live association. Such a hello now gets a fresh HelloVerifyRequest; only a
    # cookie issued after the association began may replace it.
    w = world
    c, s = connected(w)
    first = [d for (src, dst, d) in w.net.captured
             if tuple(src[:2]) == tuple(c.addr()) and d[0] == CT_HS and d[13] == HT_CLIENT_HELLO][-1]
    # the client restarts from the same address and port: a new handshake replaces
    # the association once its new cookie comes back
    assert nx_secure_dtls_session_reset(c.sess) == NX_SUCCESS
    assert c.start(3 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert len(connects(w)) == 2
    s2 = w.server_session(c)
    assert s2._engine.state == CONNECTED
    assert c.round_trip(b"second connection")
    hvr_before = w.server.nxsecure_hello_verify_sent
    again = bytearray(first)
    again[5:11] = (7000).to_bytes(6, "big")
    client_to_server(w, c, again)           # the first connection's hello, replayed
    w.pump()
    assert len(connects(w)) == 2            # no new handshake began
    assert w.server.nxsecure_hello_verify_sent == hvr_before + 1
    assert w.server_session(c) is s2 and s2._engine.state == CONNECTED
    assert c.round_trip(b"after old hello replay")
