"""Denial-of-service limits of the server (issue #5), on nxsecure.port.memnet where source
addresses can be forged:

- no session slot, handshake state or timer before a valid cookie;
- the HelloVerifyRequest is never larger than the ClientHello it answers;
- cookie secret rotation: a cookie is accepted for one more period, then rejected;
- a handshake that stalls times out: error_notify(session, NX_SECURE_TLS_HANDSHAKE_TIMEOUT)
  and the slot serves the next client;
- nxsecure_dtls_server_idle_timeout_set: idle sessions are ended (close_notify,
  disconnect_notify) and their slot freed; default off;
- 10,000 spoofed-source ClientHellos do not keep a legitimate client out (the
  per-hello cost is measured and printed);
- out-of-order handshake messages buffered per session are capped
  (config.NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS) and memory stays bounded."""
import random
import time
import tracemalloc

import pytest

from nxsecure import *
from nxsecure import config, netx
from nxsecure.codec import Writer
from nxsecure.cookie import CookieJar
from nxsecure.dtls import IDLE, S_WAIT_CKE, CONNECTED, CLOSED
from nxsecure.handshake import push_client_hello, push_handshake_header, pull_client_hello

from memworld import SERVER_PORT, World, _no_errors_raised

SERVER = ("127.0.0.1", SERVER_PORT)
CT_HS = 22
HT_CLIENT_HELLO, HT_HVR, HT_CKE = 1, 3, 16


def record(ctype, epoch, seq, body):
    n = len(body)
    return bytes([ctype, 0xFE, 0xFD, epoch >> 8, epoch & 0xFF]) + seq.to_bytes(6, "big") + \
        bytes([n >> 8, n & 0xFF]) + bytes(body)


def hs(msg_type, seq, body, length=None, frag_off=0):
    length = len(body) if length is None else length
    h = bytearray(12)
    push_handshake_header(h, 0, msg_type, length, seq, frag_off, len(body))
    return bytes(h) + bytes(body)


def client_hello(rng, cookie=b"", suites=(0xC0A8,), session_id=b"", ems=False, extra_ext=0,
                 minimal=False):
    """A valid ClientHello datagram (record + handshake header + body)."""
    buf = bytearray(2048)
    w = Writer(buf, 0)
    rnd = bytes(rng.getrandbits(8) for _ in range(32))
    if extra_ext or session_id or minimal:
        # hand-built: optional session id and a padding-like unknown extension
        w.u16(0xFEFD)
        w.put(rnd)
        w.vec8(session_id)
        w.vec8(cookie)
        w.u16(2 * len(suites))
        for s in suites:
            w.u16(s)
        w.vec8(b"\x00")
        if extra_ext:
            w.u16(4 + extra_ext)
            w.u16(0xFFAA)
            w.vec16(bytes(extra_ext))
    else:
        push_client_hello(w, rnd, cookie, list(suites), ems=ems)
    body = bytes(buf[:w.pos])
    pull_client_hello(memoryview(body))           # it is valid
    return record(CT_HS, 0, rng.getrandbits(16), hs(HT_CLIENT_HELLO, 0, body))


def replies_to(w, addr, since):
    return [d for (src, dst, d) in w.net.captured[since:]
            if tuple(src[:2]) == SERVER and tuple(dst[:2]) == tuple(addr[:2])]


def spoofed(i):
    return ("10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255), 1024 + (i % 60000))


@pytest.fixture
def world():
    w = World(sessions=2)
    try:
        yield w
        _no_errors_raised(w)
    finally:
        w.close()


def untouched(w):
    for s in w.server._sessions:
        assert s._peer is None and s._engine.state == IDLE
        assert s._engine.reasm.buffered() == 0 and s._engine.flight.used == 0
        assert not netx._timer_armed(s)


# ============================================================== state before the cookie
def test_cookieless_client_hellos_leave_every_session_untouched(world):
    w = world
    rng = random.Random(1)
    timers = netx._timer_count()
    mark = len(w.net.captured)
    n = 500
    for i in range(n):
        w.inject(client_hello(rng, suites=(0xC0A8, 0x00A8)[:1 + i % 2]), spoofed(i))
        if i % 100 == 99:
            w.pump()
    w.pump()
    assert w.server.nxsecure_hello_verify_sent == n
    assert len(w.net.captured) - mark == n              # one HelloVerifyRequest each
    assert w.events == []
    assert netx._timer_count() == timers
    untouched(w)
    # wrong cookies (right length, from the same spoofed addresses) fare no better
    for i in range(50):
        w.inject(client_hello(rng, cookie=bytes(16)), spoofed(i))
    w.pump()
    assert w.events == []
    untouched(w)
    c = w.client()
    assert c.status == NX_SUCCESS and c.round_trip(b"after cookieless hellos")


# ============================================================== amplification
def test_hello_verify_request_is_never_larger_than_the_client_hello(world):
    w = world
    rng = random.Random(2)
    cases = [client_hello(rng, minimal=True)]   # the smallest: one suite, no extensions
    for i in range(150):
        k = rng.randint(1, 40)
        suites = tuple(rng.getrandbits(16) | 1 for _ in range(k - 1)) + (0xC0A8,)
        sid = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 0, 8, 32))))
        cases.append(client_hello(rng, suites=suites, session_id=sid,
                                  extra_ext=rng.choice((0, 0, 1, 50, 400))))
        cases.append(client_hello(rng, suites=suites, ems=bool(i & 1)))
    sizes = []
    for i, ch in enumerate(cases):
        src = spoofed(20000 + i)
        mark = len(w.net.captured)
        w.inject(ch, src)
        w.pump()
        out = replies_to(w, src, mark)
        assert len(out) == 1 and out[0][13] == HT_HVR, i
        assert len(out[0]) <= len(ch), (i, len(out[0]), len(ch))
        sizes.append((len(ch), len(out[0])))
    smallest = min(sizes)
    print("\nsmallest valid ClientHello %d bytes -> HelloVerifyRequest %d bytes" % smallest)
    assert smallest[0] == 67 and smallest[1] < smallest[0]
    untouched(w)


# ============================================================== cookie rotation
def test_cookie_secret_rotation_accepts_old_cookies_for_one_period_only():
    clock = [0]
    jar = CookieJar(lambda k, m: __import__("hmac").new(bytes(k), m, "sha256").digest(),
                    lambda b: b.__setitem__(slice(None), __import__("os").urandom(len(b))),
                    clock[0], lambda a, b: a - b)
    L = jar.lifetime

    class H:
        random = bytes(range(32))
        session_id = b""
        suites = b"\xc0\xa8"
        cookie = b""

    addr = ("192.0.2.1", 5684)
    h = H()
    h.cookie = jar.make(0, addr, h)
    assert jar.check(L // 2, addr, h)                # same period
    assert jar.check(L + L // 2, addr, h)            # rotated once: previous secret
    assert not jar.check(2 * L + L // 2 + 1, addr, h)   # rotated twice: rejected
    # a fresh cookie right before a rotation still gets its grace period
    h.cookie = jar.make(3 * L, addr, h)
    assert jar.check(3 * L + L - 1, addr, h)
    assert jar.check(4 * L + L // 2, addr, h)
    # and a wrong address never passes
    assert not jar.check(4 * L + L // 2, ("192.0.2.2", 5684), h)


def test_cookie_from_long_ago_is_rejected_after_an_idle_server():
    # Regression: the secret rotated lazily, once per check, so after a server had
    # seen no ClientHello for many periods the first rotation made the stale secret
    # the "previous" one and a cookie from long ago was accepted.
    jar = CookieJar(lambda k, m: __import__("hmac").new(bytes(k), m, "sha256").digest(),
                    lambda b: b.__setitem__(slice(None), __import__("os").urandom(len(b))),
                    0, lambda a, b: a - b)

    class H:
        random = bytes(32)
        session_id = b""
        suites = b"\xc0\xa8"
        cookie = b""

    h = H()
    addr = ("192.0.2.1", 5684)
    h.cookie = jar.make(0, addr, h)
    assert not jar.check(10 * jar.lifetime, addr, h)


def test_server_rejects_a_cookie_two_periods_old(world, monkeypatch):
    w = world
    jar = w.server._cookies
    rng = random.Random(3)
    src = spoofed(7)
    first = client_hello(rng)
    mark = len(w.net.captured)
    w.inject(first, src)
    w.pump()
    hvr = replies_to(w, src, mark)[0]
    cookie = hvr[13 + 12 + 3:]
    body = bytearray(first[25:])
    # insert the cookie: version(2) random(32) sid(1) | cookie len ...
    p = 2 + 32 + 1
    with_cookie = bytes(body[:p]) + bytes([len(cookie)]) + cookie + bytes(body[p + 1:])
    second = record(CT_HS, 0, 9, hs(HT_CLIENT_HELLO, 1, with_cookie))
    jar._born -= 2 * jar.lifetime + 1              # two periods pass without a hello
    w.inject(second, src)
    w.pump()
    assert w.events == []                           # answered with a new HelloVerifyRequest
    untouched(w)
    assert w.server.nxsecure_hello_verify_sent == 2


# ============================================================== handshake timeout
def test_stalled_handshake_times_out_frees_the_slot_and_reports_the_timeout(monkeypatch):
    monkeypatch.setattr(config, "NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS", 40)
    monkeypatch.setattr(config, "NX_SECURE_DTLS_MAX_TRANSMISSIONS", 3)
    w = World(sessions=1)
    try:
        c = w.client(connect=False)
        silent = []

        def mute_after_cookie(data, src, dst):
            # once the server has a session for the client, the client goes silent
            if tuple(src[:2]) == tuple(c.addr()) and w.server_session(c) is not None:
                silent.append(1)
                return []
            return None

        w.tamper = mute_after_cookie
        c.start(NX_NO_WAIT)
        s = None
        netx._wait(lambda: w.server_session(c) is not None, 50)
        s = w.server_session(c)
        assert s is not None and s._engine.state == S_WAIT_CKE
        assert netx._wait(lambda: (s, NX_SECURE_TLS_HANDSHAKE_TIMEOUT) in w.errors(),
                          2 * NX_IP_PERIODIC_RATE)
        assert NX_SECURE_TLS_HANDSHAKE_TIMEOUT == NX_NO_RESPONSE      # NetX alias
        assert not netx._timer_armed(s)
        w.tamper = None
        c.close()
        w.clients.remove(c)
        # the only slot serves the next client
        d = w.client()
        assert d.status == NX_SUCCESS, hex(d.status)
        assert w.server_session(d) is s
        assert d.round_trip(b"slot reused")
    finally:
        w.close()


def test_client_hello_never_started_by_the_application_times_out():
    w = World(sessions=1)
    try:
        assert nxsecure_dtls_server_handshake_timeout_set(w.server, 15) == NX_SUCCESS
        w._on_connect = lambda s, a, p: w.events.append(("connect", s, p))
        w.server._connect_notify = w._on_connect           # the application never starts it
        c = w.client(connect=False)
        c.start(NX_NO_WAIT)
        assert netx._wait(lambda: any(e[0] == "connect" for e in w.events), 50)
        s = w.events[0][1]
        assert netx._wait(lambda: (s, NX_SECURE_TLS_HANDSHAKE_TIMEOUT) in w.errors(),
                          NX_IP_PERIODIC_RATE)
    finally:
        w.close()


# ============================================================== idle timeout
def test_idle_timeout_is_off_by_default(world):
    w = world
    c = w.client()
    assert c.status == NX_SUCCESS and c.round_trip(b"x")
    s = w.server_session(c)
    w.pump(40)
    assert s._engine.state == CONNECTED and w.server.nxsecure_idle_timeouts == 0
    assert c.round_trip(b"still here")


def test_idle_timeout_ends_idle_sessions_and_frees_their_slot(world):
    w = world
    assert nxsecure_dtls_server_idle_timeout_set(None, 10) == NX_PTR_ERROR
    assert nxsecure_dtls_server_idle_timeout_set(w.server, -1) == NX_INVALID_PARAMETERS
    assert nxsecure_dtls_server_idle_timeout_set(w.server, 30) == NX_SUCCESS   # 300 ms
    busy = w.client()
    idle = w.client()
    assert busy.status == NX_SUCCESS and idle.status == NX_SUCCESS
    sb, si = w.server_session(busy), w.server_session(idle)
    assert idle.round_trip(b"once")
    t0 = time.monotonic()
    # the busy client talks every 100 ms; the idle one says nothing
    while time.monotonic() - t0 < 0.7:
        assert busy.round_trip(b"tick", tries=2)
        w.pump(10)
    assert ("disconnect", si, 0) in w.events
    assert w.server.nxsecure_idle_timeouts == 1
    assert si._peer is None and si._engine.state == IDLE         # the slot is free
    assert sb._engine.state == CONNECTED and ("disconnect", sb, 0) not in w.events
    # the idle client got close_notify
    st, _ = idle.recv(NX_NO_WAIT)
    assert st == NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED
    # its slot takes a new client; switching the option off stops the sweep
    assert nxsecure_dtls_server_idle_timeout_set(w.server, 0) == NX_SUCCESS
    assert not netx._timer_armed(w.server)
    idle.close()
    w.clients.remove(idle)
    again = w.client()
    assert again.status == NX_SUCCESS and w.server_session(again) is si
    w.pump(40)
    assert again.round_trip(b"no sweep now")


def test_idle_timeout_set_before_any_client_still_ends_a_later_idle_session(world):
    w = world
    assert nxsecure_dtls_server_idle_timeout_set(w.server, 20) == NX_SUCCESS   # 200 ms
    w.pump(30)                     # the first sweep finds no session at all
    assert w.server.nxsecure_idle_timeouts == 0
    c = w.client()
    assert c.status == NX_SUCCESS and c.round_trip(b"then quiet")
    s = w.server_session(c)
    assert netx._wait(lambda: ("disconnect", s, 0) in w.events, NX_IP_PERIODIC_RATE)
    assert w.server.nxsecure_idle_timeouts == 1
    st, _ = c.recv(NX_NO_WAIT)
    assert st == NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED


def test_only_sessions_with_a_retransmission_timer_running_are_in_the_timer_list(world):
    # Every wait looks at the armed timers: a gateway's connected sessions must arm none.
    w = world
    c = w.client(connect=False)
    assert c.start(NX_NO_WAIT) == NX_CONTINUE
    assert netx._timer_armed(c.sess)       # ClientHello sent, its retransmission armed
    assert w.server_session(c) is None     # the cookie exchange is stateless
    d = w.client()
    assert netx._wait(lambda: c.sess._engine.state == CONNECTED, NX_IP_PERIODIC_RATE)
    assert d.status == NX_SUCCESS and c.round_trip(b"a") and d.round_trip(b"b")
    sessions = [c.sess, d.sess, w.server_session(c), w.server_session(d)]
    assert all(s._engine.state == CONNECTED for s in sessions)
    assert [t for t in sessions if netx._timer_armed(t)] == []
    nx_secure_dtls_session_end(c.sess, NX_NO_WAIT)
    w.pump()
    assert [t for t in sessions if netx._timer_armed(t)] == []


# ============================================================== spoofed flood
def test_ten_thousand_spoofed_client_hellos_do_not_keep_a_client_out():
    w = World(sessions=2, pool_count=64)
    w.net.capture = False
    try:
        rng = random.Random(4)
        hello = client_hello(rng)
        c = w.client(connect=False)
        n = 10000
        t0 = time.perf_counter()
        started = False
        for i in range(n):
            w.inject(hello, spoofed(i))
            if i % 250 == 249:
                w.pump(NX_NO_WAIT or 1)
                if not started and i > n // 3:
                    c.status = c.start(NX_NO_WAIT)       # the real client, mid-flood
                    started = True
        w.pump()
        dt = time.perf_counter() - t0
        netx._wait(lambda: c.sess._engine.state == CONNECTED, 5 * NX_IP_PERIODIC_RATE)
        print("\n%d spoofed ClientHellos: %.2f s, %.0f us per hello (HelloVerifyRequests %d)"
              % (n, dt, dt / n * 1e6, w.server.nxsecure_hello_verify_sent))
        assert c.sess._engine.state == CONNECTED
        assert c.round_trip(b"through the flood", tries=3)
        assert w.server.nxsecure_hello_verify_sent >= n
        assert [e[0] for e in w.events] == ["connect"]
        assert sum(1 for s in w.server._sessions if s._peer is not None) == 1
        assert dt < 25
    finally:
        w.close()


# ============================================================== future fragments
def test_future_handshake_fragments_are_capped_and_memory_stays_bounded(world):
    w = world
    c = w.client(connect=False)
    held = []

    def hold_flight5(data, src, dst):
        if tuple(src[:2]) == tuple(c.addr()) and data[0] == CT_HS and data[13] == HT_CKE:
            held.append(bytes(data))
            return []
        return None

    w.tamper = hold_flight5
    c.start(NX_NO_WAIT)
    assert netx._wait(lambda: held, 50)
    s = w.server_session(c)
    e = s._engine
    assert e.state == S_WAIT_CKE
    nxt = e.reasm.next_seq
    cap = config.NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS
    rng = random.Random(5)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(4000):
            # message_seq beyond the one the real flight uses next (nxt, nxt + 1)
            seq = nxt + 2 + rng.randrange(0, 3 * cap)
            length = rng.randint(1, 3000)
            off = rng.randrange(0, length)
            frag = bytes(rng.getrandbits(8) for _ in range(min(rng.randint(1, 40), length - off)))
            w.inject(record(CT_HS, 0, 100 + i, hs(rng.choice((11, 12, 13, 15)), seq, frag,
                                                  length, off)), c.addr())
            if i % 200 == 199:
                w.pump()
                assert e.reasm.buffered() <= cap
                assert e.reasm._used <= e.reasm._cap
        w.pump()
        grown = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    print("\nfuture-fragment flood: %d messages buffered (cap %d), %d of %d bytes, "
          "traced peak growth %d bytes" % (e.reasm.buffered(), cap, e.reasm._used,
                                            e.reasm._cap, grown))
    assert e.reasm.buffered() <= cap
    assert grown < 256 * 1024
    assert e.state == S_WAIT_CKE
    # the genuine flight still completes the handshake
    w.tamper = None
    for d in held:
        w.inject(d, c.addr())
    assert c.start(3 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
    assert c.round_trip(b"after the fragment flood")
