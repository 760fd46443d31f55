# Final flights that arrive out of order (issue #19, nxsecure/early.py): our client and
# our server on an in-memory link that splits a flight's datagram into one datagram
# per record and delivers them last record first. Every record arrived, so the
# handshake finishes without a retransmission; junk records of the next epoch planted
# in front of the flight change nothing. Runs under pytest and on real MicroPython
# (tools/mp_test_runner.py): plain asserts, no pytest.
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *

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
    """The network's drop hook: the first datagram from `sender_port` that carries a
    ChangeCipherSpec (a final flight) is delivered one record at a time, last record
    first, after `junk` planted records."""

    def __init__(self, net, from_server, junk=0):
        self.net = net
        self.from_server = from_server
        self.junk = junk
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
        for r in recs[::-1]:
            self.net._deliver(h, bytes(r), src)
        return True


def _handshake(from_server, junk=0):
    net = MemoryNetwork()
    hook = _Reverse(net, from_server, junk)
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, net=net)
    try:
        assert p.connect() == NX_SUCCESS
        assert hook.done
        server = p.server._sessions
        assert p.client._engine.retransmits == 0
        assert sum(s._engine.retransmits for s in server) == 0
        assert p.echo(b"after a reordered final flight") == b"after a reordered final flight"
        assert p.errors == []
    finally:
        p.close()


def test_server_takes_the_clients_final_flight_finished_first():
    _handshake(from_server=False)


def test_client_takes_the_servers_final_flight_finished_first():
    _handshake(from_server=True)


def test_junk_of_the_next_epoch_in_front_of_the_flight_changes_nothing():
    _handshake(from_server=False, junk=3)
    _handshake(from_server=True, junk=3)
