"""Early resend of our last flight (issue #19, nxsecure/early.py): a record of the peer's
next flight that comes before what precedes it (a next-epoch record before the keys or
the ChangeCipherSpec, a ChangeCipherSpec before the ClientKeyExchange) shows that part
of that flight was lost or is late; our flight is sent again at once so that the peer
repeats its own, instead of both waiting for a timer (RFC 6347 4.2.4). At most once per
timer period, and a server resends nothing before the cookie exchange: only a flight
it sent to a verified address. The same behaviour on MicroPython:
host_tests/portable/test_early_records.py."""
import pytest

from nxsecure import *
from nxsecure import early
from nxsecure.dtls import S_WAIT_CKE

from memworld import World, PSK, IDENTITY, _no_errors_raised
import rawdtls as R
from test_early_records import SERVER, PEER, _send, _to_flight5, _session, _junk, \
    _records, _connected_by


@pytest.fixture(autouse=True)
def _resend_on():
    assert early.RESEND          # the default
    yield
    early.RESEND = True


def _flight4(out):
    """The server's datagrams are its flight 4 again (ServerHello .. ServerHelloDone)."""
    types = []
    for d in out:
        for ctype, epoch, seq, body in R.split_records(d):
            if ctype == R.CT_HS and epoch == 0:
                types += [t for t, *_ in R.split_handshake(body)]
    return types[:1] == [R.HT_SERVER_HELLO] and types[-1:] == [R.HT_SHD]


def test_a_finished_before_the_key_exchange_resends_flight_4_once():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        out = _send(w, fin)                      # the ClientKeyExchange is missing
        assert _flight4(out)
        assert s._engine.early.resends == 1
        # the rest of the same flight, late: no second resend in this timer period
        assert _send(w, ccs) == []
        out = _send(w, cke)
        assert _connected_by(raw, out)
        assert s._engine.early.resends == 1 and s._engine.retransmits == 1
        assert w.errors() == []
    finally:
        w.close()


def test_an_early_change_cipher_spec_resends_too():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        assert _flight4(_send(w, ccs))
        assert _send(w, fin) == []
        assert _connected_by(raw, _send(w, cke))
    finally:
        w.close()


def test_the_limit_is_one_resend_per_timer_period_not_one_ever():
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        e = s._engine
        assert _flight4(_send(w, _junk(70)))     # before the keys: it may be the peer's
        for i in range(5):
            assert _send(w, _junk(71 + i)) == []
        assert _send(w, R.record(R.CT_CCS, 0, 90, b"\x01")) == []
        assert e.early.resends == 1 and e.flight.transmissions == 1
        # the retransmission timer (1 s) starts the next period
        w.pump(2 * NX_IP_PERIODIC_RATE)
        assert e.flight.transmissions == 2 and e.state == S_WAIT_CKE
        assert _flight4(_send(w, _junk(80)))
        assert _send(w, _junk(81)) == []
        assert e.early.resends == 2
        assert _connected_by(raw, _send(w, cke) + _send(w, ccs) + _send(w, fin))
    finally:
        w.close()


def test_a_record_that_fails_to_open_with_the_keys_resends_nothing():
    # once the server has the keys, only the peer's own records count as evidence
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        s = _session(w)
        _send(w, cke)
        for i in range(3):
            assert _send(w, _junk(60 + i)) == []
        assert s._engine.early is None or s._engine.early.resends == 0
        assert _flight4(_send(w, fin))
        assert _connected_by(raw, _send(w, ccs))
    finally:
        w.close()


def test_nothing_is_resent_before_the_cookie_exchange():
    # a server keeps no state before a cookie-verified ClientHello: early records from
    # an unverified address get no answer, before the first hello and after the
    # HelloVerifyRequest
    w = World(sessions=1)
    try:
        for d in (R.record(R.CT_CCS, 0, 1, b"\x01"), _junk(2), _junk(3, 100)):
            assert _send(w, d) == []
        raw = R.RawPskClient(PSK, IDENTITY)
        out = _send(w, raw.hello())
        assert raw.on_datagram(out[0]) == [R.HT_HVR]
        for d in (R.record(R.CT_CCS, 0, 5, b"\x01"), _junk(6), _junk(7, 100)):
            assert _send(w, d) == []
        assert [e for e in w.events if e[0] == "connect"] == []
    finally:
        w.close()


def test_switched_off_it_resends_nothing():
    # the before of the loss report's before/after (tools/loss_report.py
    # --no-early-resend); also shows the tests above can fail
    early.RESEND = False
    w = World(sessions=1)
    try:
        raw, (cke, ccs, fin) = _to_flight5(w)
        assert _send(w, fin) == [] and _send(w, ccs) == []
        assert _connected_by(raw, _send(w, cke))
    finally:
        w.close()


@pytest.mark.parametrize("resend", [True, False], ids=["resend", "timer"])
def test_client_resends_its_final_flight_when_the_servers_ccs_is_lost(resend):
    # the server's flight 6 comes as two datagrams and its ChangeCipherSpec is lost:
    # the client holds the Finished (early.py) and resends flight 5 at once; our server
    # answers the repeated flight with its own, and the handshake is over without the
    # client's timer. Without the resend it takes a timer expiry.
    early.RESEND = resend
    w = World(sessions=1)
    try:
        cut = []

        def tamper(data, src, dst):
            recs = _records(data)
            if cut or tuple(src[:2]) != SERVER or recs[0][0] != R.CT_CCS:
                return None
            cut.append(1)
            return [recs[1]]                     # the Finished only

        w.tamper = tamper
        c = w.client(wait=5 * NX_IP_PERIODIC_RATE)
        assert c.status == NX_SUCCESS, hex(c.status)
        e = c.sess._engine
        assert cut
        if resend:
            assert e.early.resends == 1 and e.flight.transmissions == 1
        else:
            assert e.early.resends == 0 and e.flight.transmissions == 2
        assert c.round_trip(b"after a lost ChangeCipherSpec")
        _no_errors_raised(w)
    finally:
        w.close()
