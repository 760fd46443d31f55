"""Records that arrive before the engine can take them (issue #19, nxsecure/early.py).

On a link that reorders, the peer's final flight comes out of order: the Finished
(epoch 1) before the ChangeCipherSpec, the ChangeCipherSpec before the
ClientKeyExchange. Every record of the attempt arrived, so the handshake must finish
at once, without a retransmission, in both roles. And the buffer must not be a lever:
records that do not authenticate are dropped in silence (they may be anybody's), a
spoofer can neither block nor push out the genuine records once the keys exist, and
nothing planted early holds a slot for good.

The server side is driven by a hand-written client (host_tests/rawdtls.py) that
controls every record; the client side by tampering with our server's datagrams.

early.py's other job, resending our flight when such a record shows part of the peer's
flight missing, is switched off here so that "no retransmission" means the buffer
alone finished the handshake; host_tests/test_early_resend.py tests the resend."""
import itertools
import os

import pytest

from nxsecure import *
from nxsecure import netx, early
from nxsecure.dtls import S_WAIT_CKE, S_WAIT_CCS, C_WAIT_CCS

from memworld import SERVER_PORT, World, IDENTITY, PSK, _no_errors_raised
import rawdtls as R

SERVER = ("127.0.0.1", SERVER_PORT)
PEER = ("127.0.0.66", 6666)


@pytest.fixture(autouse=True)
def _buffer_alone():
    early.RESEND = False
    yield
    early.RESEND = True


def _replies(w, since):
    return [d for (src, dst, d) in w.net.captured[since:]
            if tuple(src[:2]) == SERVER and tuple(dst[:2]) == PEER]


def _send(w, datagram, src=PEER):
    since = len(w.net.captured)
    w.inject(datagram, src)
    w.pump()
    return _replies(w, since)


def _to_flight5(w, raw=None):
    """A raw client through the cookie exchange and the server's flight 4; returns it
    with its final flight as three single-record datagrams (CKE, CCS, Finished)."""
    raw = raw or R.RawPskClient(PSK, IDENTITY)
    out = _send(w, raw.hello())
    assert len(out) == 1 and raw.on_datagram(out[0]) == [R.HT_HVR]
    out = _send(w, raw.hello())
    assert any(R.HT_SHD in raw.on_datagram(d) for d in out)
    recs = _records(raw.final_flight())
    assert len(recs) == 3
    return raw, recs


def _records(data):
    """The records of a datagram, each as its own bytes."""
    return [R.record(t, e, s, b) for t, e, s, b in R.split_records(data)]


def _session(w):
    s = [e[1] for e in w.events if e[0] == "connect"]
    assert len(s) == 1
    return s[0]


def _junk(seq, n=48):
    """An epoch-1 handshake record no key opens (a spoofer's)."""
    return R.record(R.CT_HS, 1, seq, os.urandom(n))


def _connected_by(raw, out):
    return any(R.HT_FINISHED in raw.on_datagram(d) for d in out)


# ======================================================================== server side
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))),
                         ids=lambda o: "-".join(("CKE", "CCS", "FIN")[i] for i in o))
def test_server_takes_the_final_flight_in_any_order_at_once(order):
    w = World(sessions=1)
    try:
        raw, recs = _to_flight5(w)
        s = _session(w)
        out = []
        for i in order:
            out += _send(w, recs[i])
        # the flight was complete with its last record: the server answered then
        assert _connected_by(raw, out)
        assert s._engine.state == 20                      # CONNECTED
        assert s._engine.retransmits == 0
        assert w.errors() == []
        # and the keys are the real ones: application data flows both ways
        out = _send(w, raw.app(b"after a reordered flight"))
        assert w.received[s] == [b"after a reordered flight"]
    finally:
        w.close()


def test_early_plaintext_does_not_stay_in_session_memory():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, cke)
        _send(w, fin)                    # opened in its slot with the pending keys
        assert any(s._engine.early_mem)
        _send(w, ccs)
        assert s._engine.state == 20
        assert not any(s._engine.early_mem)
    finally:
        w.close()


def test_early_records_live_in_the_session_memory_it_was_given():
    # sizeof(NX_SECURE_DTLS_SESSION) counts the slots; the engine's view is into it
    assert sizeof(NX_SECURE_DTLS_SESSION) >= 2 * 128
    w = World(sessions=1)
    try:
        s = w.server._sessions[0]
        mem = s._engine.early_mem
        assert len(mem) == 2 * 128
        assert mem.obj is w.sbuf
    finally:
        w.close()


def test_junk_planted_before_the_keys_neither_blocks_the_finished_nor_ends_the_handshake():
    # Before the ClientKeyExchange the server cannot tell records apart. A spoofer fills
    # every slot first; the genuine Finished still gets one (the oldest unopened record
    # makes room), and junk that fails to open later is dropped in silence, not taken
    # for a wrong key (which would end the handshake with bad_record_mac).
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        for seq in range(2 + 3):
            _send(w, _junk(50 + seq))
        assert s._engine.state == S_WAIT_CKE
        _send(w, fin)
        _send(w, ccs)
        out = _send(w, cke)
        assert _connected_by(raw, out) and s._engine.retransmits == 0
        assert w.errors() == []
    finally:
        w.close()


def test_junk_with_the_finished_record_number_does_not_block_it_either():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        seq = R.split_records(fin)[0][2]
        for _ in range(3):
            _send(w, _junk(seq))
        _send(w, fin)
        _send(w, ccs)
        assert _connected_by(raw, _send(w, cke))
        assert w.errors() == []
    finally:
        w.close()


def test_once_the_keys_exist_a_flood_of_junk_cannot_push_out_the_genuine_finished():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, cke)
        assert s._engine.state == S_WAIT_CCS
        _send(w, fin)                    # authenticated with the pending keys: kept
        seq = R.split_records(fin)[0][2]
        for i in range(40):
            _send(w, _junk(i if i != seq else 99))
            _send(w, _junk(seq))         # the genuine one's record number too
        assert s._engine.state == S_WAIT_CCS and w.errors() == []
        assert _connected_by(raw, _send(w, ccs))
        assert s._engine.retransmits == 0
    finally:
        w.close()


def test_a_replayed_early_finished_takes_one_slot():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, cke)
        for _ in range(5):
            _send(w, fin)
        held = [m for m in s._engine.early.meta if m[0]]
        assert len(held) == 1
        assert _connected_by(raw, _send(w, ccs))
    finally:
        w.close()


def test_a_flood_between_an_early_finished_and_the_keys_costs_a_retransmission_only():
    # The documented limit: before the keys exist, a spoofer who outpaces the peer can
    # push its Finished out. The peer's retransmitted flight then completes the
    # handshake, as it would had nothing been kept.
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, fin)
        for i in range(2):
            _send(w, _junk(100 + i))
        _send(w, cke)
        out = _send(w, ccs)
        assert not _connected_by(raw, out) and s._engine.state != 20
        assert w.errors() == []
        # the peer's retransmission: the same messages in new records
        fin2 = raw.keys.seal(R.CT_HS, raw.finished)
        out = _send(w, fin2)
        assert _connected_by(raw, out)
    finally:
        w.close()


def test_a_spoofed_early_change_cipher_spec_does_no_harm():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, R.record(R.CT_CCS, 0, 77, b"\x01"))       # before the key exchange
        assert s._engine.state == S_WAIT_CKE and s._engine.record.read_epoch == 0
        out = _send(w, cke) + _send(w, ccs) + _send(w, fin)
        assert _connected_by(raw, out)
        assert w.errors() == []
    finally:
        w.close()


def test_a_wrong_key_is_still_reported_when_its_finished_came_early():
    # A Finished kept early that does not open is dropped in silence (anybody may have
    # sent it); the peer's next Finished, after the ChangeCipherSpec, is its own and
    # ends the handshake with bad_record_mac at once (issue #11).
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w, R.RawPskClient(b"wrong key", IDENTITY))
        s = _session(w)
        _send(w, fin)
        _send(w, cke)
        _send(w, ccs)
        assert s._engine.state != 20 and w.errors() == []
        out = _send(w, raw.keys.seal(R.CT_HS, b"\x14" + bytes(23)))
        assert (s, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE) in w.errors()
        assert any(("alert", bytes([2, 20])) in raw.on_datagram(d) for d in out)
    finally:
        w.close()


# ======================================================================== client side
def test_client_takes_the_servers_final_flight_finished_first():
    w = World(sessions=1)
    try:
        seen = []

        def tamper(data, src, dst):
            recs = _records(data)
            if tuple(src[:2]) != SERVER or recs[0][0] != R.CT_CCS:
                return None
            seen.append([r[0] for r in recs])
            return recs[::-1]            # Finished (epoch 1), then ChangeCipherSpec

        w.tamper = tamper
        c = w.client(wait=5 * NX_IP_PERIODIC_RATE)
        assert c.status == NX_SUCCESS, hex(c.status)
        assert seen == [[R.CT_CCS, R.CT_HS]]
        assert c.sess._engine.retransmits == 0
        assert w.server_session(c)._engine.retransmits == 0
        assert c.round_trip(b"after a reordered flight 6")
        _no_errors_raised(w)
    finally:
        w.close()


def _data_overtakes_the_servers_finished(w, payload, client_setup=None, server_setup=None):
    """Our server sends `payload` right after its final flight; the client gets the
    data first, then the Finished, then the ChangeCipherSpec. client_setup(c) runs
    before the client starts, server_setup(s) before the server sends. Returns the
    client and the server session."""
    held = []

    def tamper(data, src, dst):
        if tuple(src[:2]) == SERVER and (data[0] == R.CT_CCS or held):
            held.append(bytes(data))
            return []
        return None

    w.tamper = tamper
    c = w.client(connect=False)
    if client_setup is not None:
        client_setup(c)
    c.start(NX_NO_WAIT)
    assert netx._wait(lambda: held, 2 * NX_IP_PERIODIC_RATE)
    s = w.server_session(c)
    assert s._engine.state == 20 and c.sess._engine.state == C_WAIT_CCS
    if server_setup is not None:
        server_setup(s)
    st, p = nx_secure_dtls_packet_allocate(s, w.pool, NX_NO_WAIT)
    assert nx_packet_data_append(p, payload, len(payload), w.pool, NX_NO_WAIT) == NX_SUCCESS
    assert nx_secure_dtls_server_session_send(s, p) == NX_SUCCESS
    assert len(held) == 2
    w.tamper = None
    flight6, app = held
    recs = _records(flight6)
    for d in [app, recs[1], recs[0]]:      # data, Finished, ChangeCipherSpec
        w.inject(d, SERVER, tuple(c.addr()))
    return c, s


def test_client_keeps_application_data_that_overtook_the_servers_finished():
    w = World(sessions=1)
    try:
        c, s = _data_overtakes_the_servers_finished(w, b"pushed")
        st = c.start(NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        assert c.recv() == (NX_SUCCESS, b"pushed")
        assert c.sess._engine.retransmits == 0
    finally:
        w.close()


def test_application_data_kept_early_is_held_to_the_announced_record_size_limit():
    # RFC 8449 4: a record larger than the limit we announced is a fatal
    # record_overflow, also when it came early and is taken from a slot
    from nxsecure.small_records import (nxsecure_dtls_server_record_size_limit_set,
                                         nxsecure_dtls_session_record_size_limit_set)
    w = World(sessions=1)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(w.server, 1024) == NX_SUCCESS

        def limit(c):
            assert nxsecure_dtls_session_record_size_limit_set(c.sess, 64) == NX_SUCCESS

        def ignore_it(s):
            assert s._engine.max_send == 64
            s._engine.max_send = 16384       # a peer that ignores the client's limit

        since = len(w.net.captured)
        c, s = _data_overtakes_the_servers_finished(w, b"x" * 80, limit, ignore_it)
        c.start(NX_IP_PERIODIC_RATE)
        alerts = [d for (src, dst, d) in w.net.captured[since:]
                  if tuple(dst[:2]) == SERVER and d[0] == 21]
        assert alerts, "no alert sent"
        assert c.sess._engine.state != 20
        assert c.recv()[0] != NX_SUCCESS
    finally:
        w.close()


# ======================================================================== Connection ID
CLIENT_CID = b"\xff\xff"        # also what bytes 11-12 of a tls12_cid record to the client are


def _cid_records(data, cid_len):
    out = []
    p = 0
    while p + 13 <= len(data):
        c = cid_len if data[p] == 25 else 0
        n = 13 + c + ((data[p + 11 + c] << 8) | data[p + 12 + c])
        out.append(bytes(data[p:p + n]))
        p += n
    return out


@pytest.mark.parametrize("from_server", [False, True], ids=["server-takes", "client-takes"])
def test_reordered_final_flight_with_connection_ids(from_server):
    # With RFC 9146 CIDs the early Finished is a tls12_cid record (its length field
    # sits behind the CID, its real type inside the plaintext): kept, opened and taken
    # the same way. Planted tls12_cid junk carrying the receiver's CID (to the client:
    # header bytes 11-12 that read as a 64 KiB length) is dropped without harm.
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "portable"))
    from dtls_pair import Pair, SERVER_PORT as PAIR_PORT
    from nxsecure.port.memnet import MemoryNetwork
    from nxsecure.connection_id import (nxsecure_dtls_session_connection_id_set,
                                        nxsecure_dtls_server_connection_id_set)
    net = MemoryNetwork()
    done = []

    def hook(data, src, dst):
        if done or (src[1] == PAIR_PORT) != from_server:
            return False
        recs = _cid_records(data, 2 if from_server else 4)
        if not any(r[0] == R.CT_CCS for r in recs) or len(recs) < 2:
            return False
        fin = recs[-1]
        assert fin[0] == 25                      # the Finished is a tls12_cid record
        cid = fin[11:11 + (2 if from_server else 4)]
        done.append(1)
        h = net._find(4, dst[0], dst[1])
        for i in range(3):
            junk = bytes([25, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 90 + i]) + cid + \
                bytes([0, 40]) + os.urandom(40)
            net._deliver(h, junk, src)
        for r in recs[::-1]:
            net._deliver(h, r, src)
        return True

    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, net=net)
    try:
        assert nxsecure_dtls_server_connection_id_set(p.server, 4) == NX_SUCCESS
        assert nxsecure_dtls_session_connection_id_set(p.client, CLIENT_CID, 2) == NX_SUCCESS
        net.drop = hook
        assert p.connect() == NX_SUCCESS
        assert done
        assert p.client._engine.retransmits == 0
        assert sum(s._engine.retransmits for s in p.server._sessions) == 0
        assert p.echo(b"after a reordered flight, with CIDs") == \
            b"after a reordered flight, with CIDs"
        assert p.errors == []
    finally:
        p.close()


# ======================================================================== resumption
def test_resumed_handshake_takes_the_servers_flight_finished_first():
    # The abbreviated handshake (RFC 5246 7.3): the server's one flight is ServerHello,
    # ChangeCipherSpec, Finished. Delivered last record first, the client gets the
    # Finished before it has keys (kept unopened), the ChangeCipherSpec before the state
    # that takes it, then the ServerHello: it finishes at once.
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "portable"))
    from dtls_pair import SERVER_PORT as PAIR_PORT
    from test_resumption import _pair, _again, _resumed
    from nxsecure.port.memnet import MemoryNetwork
    net = MemoryNetwork()
    seen = []

    def hook(data, src, dst):
        if seen or src[1] != PAIR_PORT or data[0] != R.CT_HS:
            return False
        recs = _records(data)
        if [r[0] for r in recs] != [R.CT_HS, R.CT_CCS, R.CT_HS]:
            return False
        seen.append(1)
        h = net._find(4, dst[0], dst[1])
        for r in recs[::-1]:
            net._deliver(h, r, src)
        return True

    p = _pair(net=net)
    try:
        assert p.connect() == NX_SUCCESS and not _resumed(p.client)
        net.drop = hook
        assert _again(p) == NX_SUCCESS
        assert seen and _resumed(p.client)
        assert p.client._engine.retransmits == 0
        assert p.echo(b"resumed after a reordered flight") == b"resumed after a reordered flight"
        assert p.errors == []
    finally:
        p.close()
