"""Services called from an application thread while the IP thread pumps the stack
(nxsecure_ip_thread_start): both touch the same session, and the stack lock
(netx.serialized, taken inline on the per-record path) keeps them from interleaving."""
import time

import pytest

from memworld import World
from nxsecure import *  # noqa: F401,F403
from nxsecure import netx


def receive(c, count):
    """Up to count records the client receives (fewer if one does not come in 1 s)."""
    got = []
    for _ in range(count):
        st, data = c.recv(NX_IP_PERIODIC_RATE)
        if st != NX_SUCCESS:
            break
        got.append(data)
    return got


@pytest.fixture
def world():
    w = World(sessions=2)
    w.echo = True
    yield w
    if netx._ext()._ip_thread_run[0]:
        nxsecure_ip_thread_stop()
    w.close()


def test_a_seal_is_not_interleaved_with_the_ip_thread_opening_a_record(world):
    # The application seals record 2 of a session while the IP thread opens the echo
    # of record 1 for the same session; both use the session's additional-data and
    # nonce scratch. The seal is slowed down (after the record layer has written the
    # additional data, before the cipher reads it) so that the IP thread has all the
    # time it needs to run in between if nothing stops it: without the lock it did,
    # the seal used the open's additional data, and the server dropped record 2 as
    # forged (a silent loss of data the application had handed over).
    w = world
    c = w.client()
    ctx = c.sess._engine.record.write1.ctx
    real_seal = ctx.seal

    def slow_seal(nonce, aad, buf, off, n):
        time.sleep(0.05)                      # drops the GIL: other threads run
        return real_seal(nonce, aad, buf, off, n)

    ctx.seal = slow_seal
    s = w.server_session(c)
    assert nxsecure_ip_thread_start() == NX_SUCCESS
    assert c.send(b"one") == NX_SUCCESS
    assert c.send(b"two") == NX_SUCCESS
    got = receive(c, 2)
    assert nxsecure_ip_thread_stop() == NX_SUCCESS
    assert s._engine.record.discarded == 0
    assert c.sess._engine.record.discarded == 0
    assert got == [b"echo:one", b"echo:two"]


def test_many_threads_pipelining_records_lose_nothing(world):
    # Two client sessions, each driven by its own thread that sends 4 records
    # back to back and then collects the 4 echoes, 150 times, while the IP thread
    # pumps too. Every record is echoed in order and nothing is discarded.
    import sys
    import threading
    w = world
    clients = [w.client() for _ in range(2)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)               # switch threads as often as possible
    failures = []

    def drive(c, tag):
        for it in range(150):
            sent = [b"%s-%d-%d" % (tag, it, k) for k in range(4)]
            for d in sent:
                if c.send(d) != NX_SUCCESS:
                    failures.append((tag, it, "send"))
                    return
            got = receive(c, 4)
            if got != [b"echo:" + d for d in sent]:
                failures.append((tag, it, got))
                return

    try:
        assert nxsecure_ip_thread_start() == NX_SUCCESS
        threads = [threading.Thread(target=drive, args=(c, b"t%d" % i))
                   for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
    finally:
        sys.setswitchinterval(old)
        nxsecure_ip_thread_stop()
    assert failures == []
    assert [s._engine.record.discarded for s in w.server._sessions] == [0, 0]
    assert [c.sess._engine.record.discarded for c in clients] == [0, 0]
