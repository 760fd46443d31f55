"""A short run of every fuzz harness (host_tests/fuzz_harnesses.py; the long campaign
is `make fuzz`, tools/fuzz_campaign.py): seeded mutations of real inputs through the
record parser, the handshake codecs, reassembly, X.509/DER and the server's datagram
entry point with a live session. Zero crashes; the live session still completes a
round trip; memory (tracemalloc) and the stack's structures stay bounded."""
import tracemalloc

import pytest

import fuzz_harnesses as F

N = {"record": 6000, "handshake": 3000, "reassembly": 4000, "x509": 2000, "server": 6000,
     "canary": 1500}


@pytest.fixture(scope="module")
def harnesses():
    live, hs = F.make_all()
    try:
        yield live, {h.name: h for h in hs}
    finally:
        live.close()


@pytest.mark.parametrize("name", list(N))
def test_fuzz_harness_smoke_has_no_crashes(harnesses, name):
    live, hs = harnesses
    h = hs[name]
    F.campaign(h, N[name], seed=sum(name.encode()))
    assert h.inputs == N[name]
    assert h.crashes == {}, {k: (c, ex.hex()[:200]) for k, (c, ex) in h.crashes.items()}
    assert sum(h.outcomes.values()) > 0


def test_server_fuzz_keeps_the_live_session_and_memory_bounded(harnesses):
    live, hs = harnesses
    h = hs["server"]
    h.check()                                  # a warm-up round trip outside the trace
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        F.campaign(h, 4000, seed=99, check_every=1000)
        grown = tracemalloc.get_traced_memory()[0] - base
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert h.crashes == {}
    # nothing accumulates per input: what is still held after 4000 inputs is small
    assert grown < 64 * 1024, grown
    assert peak < 512 * 1024, peak
    assert live.sa._engine.state == 20
    assert live.a.round_trip(b"after the smoke fuzz")
