"""Short version of the lossy-link report (`make loss-report`, tools/loss_report.py):
our client and server on nxsecure.port.memnet at 10 % and 30 % loss (each direction) with 5 %
duplication and 10 % reordering, a handful of seeds each, retransmission timers
shortened through nxsecure.config. Asserts completion and a round trip only (no
timing asserts); test_loss.py holds the 20 % / real-UDP / targeted-loss cases."""
import pytest

from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure import config

from memworld import World, _no_errors_raised


@pytest.fixture
def fast_timers(monkeypatch):
    monkeypatch.setattr(config, "NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS", 60)
    monkeypatch.setattr(config, "NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS", 1000)
    monkeypatch.setattr(config, "NX_SECURE_DTLS_MAX_TRANSMISSIONS", 12)


@pytest.mark.parametrize("loss", (100, 300), ids=("10pct", "30pct"))
@pytest.mark.parametrize("seed", (11, 23, 37, 41))
def test_handshake_completes_on_a_lossy_link(fast_timers, loss, seed):
    net = MemoryNetwork(seed=seed, loss=loss, duplicate=50, reorder=100, capture=False)
    w = World(sessions=2, net=net)
    try:
        c = w.client(wait=30 * NX_IP_PERIODIC_RATE)
        assert c.status == NX_SUCCESS, hex(c.status)
        assert c.round_trip(b"over a lossy link", tries=10, wait=NX_IP_PERIODIC_RATE // 4)
        _no_errors_raised(w)
    finally:
        w.close()
