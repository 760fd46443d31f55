# Final flights that arrive out of order (issue #19, nxsecure/early.py): our client and
# our server on an in-memory link that splits a flight's datagram into one datagram
# per record and delivers them last record first. Every record arrived, so the
# handshake finishes without a retransmission; junk records of the next epoch planted
# in front of the flight change nothing (early.py's resend is off for these: the buffer
# alone finishes the handshake). Then the resend: a final flight whose first record is
# lost makes the receiver send its own flight again at once, once, so that the peer
# repeats the lost part without waiting for its timer; and nothing early is answered
# before the cookie exchange. Runs under pytest and on real MicroPython
# (tools/mp_test_runner.py): plain asserts, no pytest.
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure import early

from dtls_pair import Pair, SERVER_PORT

_CT_CCS = 20
_CT_HS = 22


def _records(data):
    out = []
    p = 0
    while p + 13 <= len(data):
        n = 13 + ((data[p + 11] << 8) | data[p + 12])
        out.append(data[p:p + n])
        p += n
    return out


def _junk(seq):
    # an epoch-1 handshake record that no key opens (40 bytes of body)
    return bytes([_CT_HS, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, seq, 0, 40]) + bytes(range(40))


class _Reverse:
    """The network's drop hook: the first datagram from the server (from_server) or the
    client that carries a ChangeCipherSpec (a final flight) is delivered one record at
    a time, last record first, after `junk` planted records; with lose_first, in order
    without its first record."""

    def __init__(self, net, from_server, junk=0, lose_first=False):
        self.net = net
        self.from_server = from_server
        self.junk = junk
        self.lose_first = lose_first     # the flight's first record is lost instead
        self.done = False
        net.drop = self

    def __call__(self, data, src, dst):
        if self.done or (src[1] == SERVER_PORT) != self.from_server:
            return False
        recs = _records(data)
        if not any(r[0] == _CT_CCS for r in recs) or len(recs) < 2:
            return False
        self.done = True
        h = self.net._find(4, dst[0], dst[1])
        for i in range(self.junk):
            self.net._deliver(h, _junk(60 + i), src)
        for r in (recs[1:] if self.lose_first else recs[::-1]):
            self.net._deliver(h, bytes(r), src)
        return True


def _handshake(from_server, junk=0, lose_first=False, resend=False):
    """A handshake whose final flight (the client's, or the server's) the hook splits:
    reversed (with `junk` planted in front), or without its first record. Reversed,
    the buffer alone finishes it: no retransmission on either side. Losing the head,
    with the resend the receiver sends its flight again at once, once, the sender
    repeats its final flight and the client's timer never fires; without, a timer
    has to."""
    early.RESEND = resend
    net = MemoryNetwork()
    hook = _Reverse(net, from_server, junk, lose_first)
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, net=net)
    try:
        assert p.connect() == NX_SUCCESS
        assert hook.done
        server = [s._engine for s in p.server._sessions]
        if not lose_first:
            assert p.client._engine.retransmits == 0
            assert sum(e.retransmits for e in server) == 0
        else:
            receiver = p.client._engine if from_server else \
                [e for e in server if e.early is not None][0]
            assert receiver.early.resends == (1 if resend else 0)
            if resend:
                # the client's final flight went out once, on its first timer
                assert p.client._engine.flight.transmissions == 1
            else:
                # a timer fired: the client's, or the server's for its flight 4
                assert p.client._engine.flight.transmissions == 2 or \
                    sum(e.retransmits for e in server) >= 1
        assert p.echo(b"after a reordered final flight") == b"after a reordered final flight"
        assert p.errors == []
    finally:
        early.RESEND = True
        p.close()


def test_server_takes_the_clients_final_flight_finished_first():
    _handshake(from_server=False)


def test_client_takes_the_servers_final_flight_finished_first():
    _handshake(from_server=True)


def test_junk_of_the_next_epoch_in_front_of_the_flight_changes_nothing():
    _handshake(from_server=False, junk=3)
    _handshake(from_server=True, junk=3)


def test_server_resends_its_flight_once_when_the_clients_key_exchange_is_lost():
    _handshake(from_server=False, lose_first=True, resend=True)


def test_client_resends_its_flight_once_when_the_servers_change_cipher_spec_is_lost():
    _handshake(from_server=True, lose_first=True, resend=True)


def test_without_the_resend_the_timer_does_it():
    _handshake(from_server=False, lose_first=True)
    _handshake(from_server=True, lose_first=True)


def test_nothing_early_is_answered_before_the_cookie_exchange():
    # records of the next epoch and a ChangeCipherSpec, sent to the server before any
    # ClientHello: it keeps no state and sends nothing (no early resend towards an
    # address that has not returned a cookie)
    net = MemoryNetwork()
    sent = []

    def hook(data, src, dst):
        if src[1] == SERVER_PORT:
            sent.append(data)
        return False

    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, net=net)
    try:
        net.drop = hook
        h = net._find(4, "127.0.0.1", SERVER_PORT)
        src = ("127.0.0.1", 40000)
        for d in (bytes([_CT_CCS, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1]),
                  _junk(2), _junk(3)):
            net._deliver(h, d, src)
        for _ in range(20):
            tx_thread_sleep(1)
        assert sent == []
        assert all(s._engine.early is None for s in p.server._sessions)
        assert p.connect() == NX_SUCCESS       # the server still serves
    finally:
        p.close()
