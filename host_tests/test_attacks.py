"""Hostile peers (issue #11): each attack a hand-written DTLS peer (host_tests/rawdtls.py)
mounts against our server or client, on nxsecure.port.memnet where source addresses can
be forged. Every test here failed before its fix."""
import hashlib
import os
import struct

import pytest

from nxsecure import *
from nxsecure import netx

from memworld import SERVER_PORT, World, IDENTITY, PSK, _no_errors_raised
import rawdtls as R

SERVER = ("127.0.0.1", SERVER_PORT)
ATTACKER = ("127.0.0.66", 6666)


def replies(w, addr, since=0):
    return [d for (src, dst, d) in w.net.captured[since:]
            if tuple(src[:2]) == SERVER and tuple(dst[:2]) == tuple(addr[:2])]


def exchange(w, addr, datagram):
    """Send one datagram from addr, pump, return what the server sent back to addr."""
    since = len(w.net.captured)
    w.inject(datagram, addr)
    w.pump()
    return replies(w, addr, since)


def cookie_for(w, raw, addr=ATTACKER):
    out = exchange(w, addr, raw.hello())
    assert len(out) == 1 and raw.on_datagram(out[0]) == [R.HT_HVR]
    return raw.cookie


# ---------------------------------------------------------------- defect 1
def _lying_hello(raw, guess):
    """A cookie-carrying ClientHello whose last (unknown) extension claims len(guess)
    bytes of data that the datagram does not carry: the handshake length and the
    extension lengths all agree, only the record is shorter. Returns (datagram, the
    offset in the datagram where the missing bytes would start). raw's transcript is
    set as if those bytes were `guess`."""
    k = len(guess)
    ext_claimed = R.struct.pack(">HH", 0xFFAA, k) + guess
    body = R.client_hello_body(raw.client_random, raw.cookie)
    full_body = body + R.struct.pack(">H", len(ext_claimed)) + ext_claimed
    wire_body = full_body[:len(full_body) - k]
    msg = R.handshake(R.HT_CLIENT_HELLO, raw.msg_seq, wire_body, length=len(full_body),
                      frag_len=len(full_body))
    rec = R.struct.pack(">BHHHIH", R.CT_HS, R.DTLS12, 0, 0, raw.rec_seq, len(msg)) + msg
    raw.rec_seq += 1
    raw.transcript = R.handshake(R.HT_CLIENT_HELLO, raw.msg_seq, full_body)
    raw.msg_seq += 1
    return rec, len(rec)


def test_client_hello_longer_than_its_record_is_dropped():
    # The handshake length (and the extension lengths inside) claim 40 bytes the
    # datagram does not carry: the message must be bounded by its record, never
    # completed from whatever the packet buffer holds past the datagram.
    w = World(sessions=2)
    try:
        raw = R.RawPskClient(PSK, IDENTITY)
        cookie_for(w, raw)
        rec, _ = _lying_hello(raw, bytes(40))
        out = exchange(w, ATTACKER, rec)
        assert not any(R.HT_SERVER_HELLO in raw.on_datagram(d) for d in out)
        assert not [e for e in w.events if e[0] == "connect"]
        _no_errors_raised(w)
    finally:
        w.close()


def _leak_attempt(w, guess, stale_at):
    """One handshake of the plaintext-recovery attack. Returns True when the server's
    Finished came back (the guess matched the bytes the server read past the
    datagram), False on an alert, None when the hello was refused (the bound holds)."""
    raw = R.RawPskClient(PSK, IDENTITY)
    cookie_for(w, raw)
    rec, end = _lying_hello(raw, guess)
    assert end == stale_at
    out = exchange(w, ATTACKER, rec)
    seen = [t for d in out for t in raw.on_datagram(d)]
    if R.HT_SERVER_HELLO not in seen:
        return None
    out = exchange(w, ATTACKER, raw.final_flight())
    seen = [t for d in out for t in raw.on_datagram(d)]
    return R.HT_FINISHED in seen


def test_no_plaintext_of_another_client_through_an_overlong_hello():
    # The attack that found defect 1: a previous client's record is decrypted in place
    # in a pool packet; the packet is reused for the attacker's datagram, and a hello
    # that runs past its datagram would pull the stale plaintext into the transcript.
    # A right guess then gives Finished, a wrong one an alert. After the fix the hello
    # is refused whatever the guess, so nothing depends on the other client's data.
    w = World(sessions=3)
    w.echo = False
    try:
        victim = w.client()
        assert victim.status == NX_SUCCESS
        secret = bytes(range(65, 65 + 90)) + b"TOP-SECRET-READING-21.5C" + bytes(range(97, 123))
        assert victim.send(secret) == NX_SUCCESS
        w.pump()
        got = w.received[w.server_session(victim)]
        assert got == [secret]
        # where the attacker's hello ends in the reused packet, and the victim's
        # plaintext that sits there (record header 13 + explicit nonce 8 before it)
        stale_at = 13 + 12 + len(R.client_hello_body(bytes(32), bytes(16))) + 2 + 4
        truth = secret[stale_at - 21:stale_at - 21 + 6]
        right = _leak_attempt(w, truth, stale_at)
        wrong = _leak_attempt(w, bytes(6), stale_at)
        assert right is None and wrong is None, (right, wrong)
        _no_errors_raised(w)
    finally:
        w.close()


def test_released_packets_keep_no_plaintext():
    # Defence in depth: a packet that held a decrypted record is cleared when it goes
    # back to the pool, whether the application released it or the stack did.
    w = World(sessions=2)
    w.echo = False
    try:
        c = w.client()
        secret = b"PLAINTEXT-THAT-MUST-NOT-LINGER-" * 3
        assert c.send(secret) == NX_SUCCESS
        w.pump()
        assert w.received[w.server_session(c)] == [secret]
        # the server's copy was decrypted in place and released by the application
        assert secret not in w.pool_mem
        # two records in one datagram: the first is copied into a fresh packet
        srv = w.server_session(c)
        e = c.sess._engine
        buf = bytearray(1500)
        n = 0
        for part in (secret[:40], secret[40:]):
            pre = e.record.write_prefix(1)
            buf[n + pre:n + pre + len(part)] = part
            n += e.record.seal(buf, n, 23, 1, len(part))
        w.inject(bytes(buf[:n]), c.addr())
        w.pump()
        assert w.received[srv][1:] == [secret[:40], secret[40:]]
        assert secret[:40] not in w.pool_mem and secret[40:] not in w.pool_mem
        _no_errors_raised(w)
    finally:
        w.close()


# The property that would have caught defect 1 (also a fuzz harness, `canary` in
# host_tests/fuzz_harnesses.py): whatever lie a hello tells about its lengths, the
# server's answers, events and session states are the same whether the packet it
# landed in held zeros or other bytes beyond the datagram.
from hypothesis import given, settings, strategies as st  # noqa: E402

import fuzz_harnesses as F  # noqa: E402

_COOKIE = []


def _cookie():
    if not _COOKIE:
        _COOKIE.append(F.canary_run(None, 0, want_cookie=True)[1])
    return _COOKIE[0]


@settings(max_examples=60, deadline=None)
@given(extra=st.integers(0, 80), lie=st.sampled_from(["hs", "hs+frag", "ext", "record"]),
       ext_real=st.integers(0, 8), canary=st.sampled_from([0x01, 0xA5, 0xFF]))
def test_server_output_never_depends_on_bytes_past_the_datagram(extra, lie, ext_real, canary):
    raw = R.RawPskClient(PSK, IDENTITY, random=bytes(range(32)))
    raw.cookie = _cookie()
    body = R.client_hello_body(raw.client_random, raw.cookie)
    if lie == "ext":
        ext = R.struct.pack(">HH", 0xFFAA, ext_real + extra) + bytes(ext_real)
        carried = body + R.struct.pack(">H", len(ext) + extra) + ext
        claimed = len(carried) + extra
        msg = R.handshake(1, 1, carried, length=claimed, frag_len=claimed)
    elif lie == "hs":
        msg = R.handshake(1, 1, body, length=len(body) + extra)
    elif lie == "hs+frag":
        msg = R.handshake(1, 1, body, length=len(body) + extra, frag_len=len(body) + extra)
    else:
        msg = R.handshake(1, 1, body)
    rec_len = len(msg) + (extra if lie == "record" else 0)
    dgram = R.struct.pack(">BHHHIH", 22, R.DTLS12, 0, 0, 1, rec_len) + msg
    assert F.canary_run(dgram, 0x00)[0] == F.canary_run(dgram, canary)[0]


# ---------------------------------------------------------------- hostile servers
class RawServer:
    """A UDP endpoint on the memnet that answers our client by hand."""

    def __init__(self, w, udp_port=5999):
        self.w = w
        self.sock = NX_UDP_SOCKET()
        assert nx_udp_socket_create(w.ip, self.sock, "raw server", NX_IP_NORMAL,
                                    NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 64) == NX_SUCCESS
        assert nx_udp_socket_bind(self.sock, udp_port, NX_NO_WAIT) == NX_SUCCESS
        w.raw.append(self.sock)
        self.port = udp_port

    def recv(self, wait=NX_NO_WAIT):
        st, p = nx_udp_socket_receive(self.sock, wait)
        if st != NX_SUCCESS:
            return None, None
        data = bytes(p._data())
        src = p._addr
        nx_packet_release(p)
        return data, src

    def send(self, data, addr):
        st, p = nx_packet_allocate(self.w.pool, NX_UDP_PACKET, NX_NO_WAIT)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(p, data, len(data), self.w.pool, NX_NO_WAIT) == NX_SUCCESS
        ip = IP_ADDRESS(*[int(x) for x in addr[0].split(".")])
        assert nx_udp_socket_send(self.sock, p, ip, addr[1]) == NX_SUCCESS


def _hello_of(data):
    """(message_seq, record_seq, body) of the ClientHello in a datagram."""
    for ctype, epoch, seq, body in R.split_records(data):
        for t, length, mseq, off, flen, frag in R.split_handshake(body):
            if t == R.HT_CLIENT_HELLO:
                return mseq, seq, frag
    return None


def test_client_gives_up_on_a_server_that_only_sends_hello_verify_requests():
    # Defect 2: each HelloVerifyRequest restarted the client's give-up counter, so a
    # server asking for a new cookie every time held it forever (NX_WAIT_FOREVER).
    w = World(sessions=1)
    try:
        srv = RawServer(w)
        c = w.client(connect=False, dst_port=srv.port)
        assert c.start(NX_NO_WAIT) == NX_CONTINUE
        rounds = 0
        for i in range(20):
            data, src = srv.recv(NX_IP_PERIODIC_RATE // 10)
            if data is None or _hello_of(data) is None:
                break                              # silence, or the client's alert
            mseq, rseq, body = _hello_of(data)
            cookie = bytes([i]) * 16
            hvr = R.handshake(R.HT_HVR, mseq, b"\xfe\xff" + bytes([16]) + cookie)
            srv.send(R.record(R.CT_HS, 0, rseq, hvr), src)
            rounds += 1
            netx._wait(lambda: False, 1)
        st = c.start(NX_NO_WAIT)
        assert st == NX_SECURE_TLS_HANDSHAKE_FAILURE, hex(st)
        assert rounds <= 5
    finally:
        w.close()


@pytest.mark.parametrize("ext", [
    R.extension(0xFFAA, b"junk"),                 # a type nobody defined
    R.extension(35),                              # session_ticket, never offered
    R.extension(10, b"\x00\x02\x00\x17"),         # supported_groups: the client's alone
    R.extension(13, b"\x00\x02\x04\x03"),         # signature_algorithms: the client's alone
    R.extension(11, b"\x01\x00"),                 # ec_point_formats to a PSK-only hello
], ids=["unknown", "session_ticket", "supported_groups", "signature_algorithms",
        "ec_point_formats"])
def test_client_refuses_server_hello_extensions_it_never_offered(ext):
    # Defect 3 / RFC 5246 7.4.1.4: fatal unsupported_extension.
    w = World(sessions=1)
    try:
        srv = RawServer(w)
        c = w.client(connect=False, dst_port=srv.port)
        c.start(NX_NO_WAIT)
        data, src = srv.recv(NX_IP_PERIODIC_RATE)
        mseq, rseq, body = _hello_of(data)
        sh = R.handshake(R.HT_SERVER_HELLO, mseq, R.server_hello_body(os.urandom(32), extensions=ext))
        shd = R.handshake(R.HT_SHD, mseq + 1, b"")
        srv.send(R.record(R.CT_HS, 0, rseq + 1, sh) + R.record(R.CT_HS, 0, rseq + 2, shd), src)
        st = c.start(NX_IP_PERIODIC_RATE)
        assert st == NX_SECURE_TLS_UNSUPPORTED_FEATURE, hex(st)
        alert, _ = srv.recv(NX_IP_PERIODIC_RATE)
        assert alert is not None and alert[0] == R.CT_ALERT and alert[-2:] == b"\x02\x6e"
    finally:
        w.close()


# ---------------------------------------------------------------- cookies
class _Hello:
    def __init__(self, cookie=b""):
        self.random = bytes(range(32))
        self.session_id = b""
        self.suites = b"\xc0\xa8"
        self.cookie = cookie


def _jar():
    from nxsecure.cookie import CookieJar
    import hmac
    rng = __import__("random").Random(3)
    return CookieJar(lambda k, m: hmac.new(bytes(k), m, "sha256").digest(),
                     lambda b: b.__setitem__(slice(None), bytes(rng.getrandbits(8) for _ in b)),
                     0, lambda a, b: a - b, lambda t, d: t + d)


def test_cookie_lives_at_most_two_periods_however_sparse_the_traffic():
    # Defect 4: the secret rotated only when a hello came, so with sparse traffic a
    # cookie was accepted for up to three periods (172 s seen, 60 s periods).
    addr = ("10.0.0.1", 5000)
    jar = _jar()
    life = jar.lifetime
    cookie = jar.make(life - 100, addr, _Hello())               # late in period 0
    assert jar.check(2 * life - 100, addr, _Hello(cookie))      # a hello in period 1
    assert not jar.check(2 * life + 52000, addr, _Hello(cookie))   # period 2: too old
    jar = _jar()
    cookie = jar.make(100, addr, _Hello())
    assert jar.check(2 * life - 1, addr, _Hello(cookie))
    assert not jar.check(2 * life + 1, addr, _Hello(cookie))


def test_fragmented_client_hellos_are_not_locked_out_by_a_fragment_flood():
    # Defect 5: one pre-cookie reassembly slot was held for a second by whoever sent a
    # first fragment, so ~200 cookie-less fragments a second from rotating ports kept
    # every fragmented ClientHello out. The cookie is now checked in the first
    # fragment, and only a cookie-verified hello gets state.
    w = World(sessions=2)
    try:
        flood = [0]
        fragments = []

        def flood_before_each(data, src, dst):
            if tuple(dst[:2]) == SERVER and tuple(src[:2]) != ATTACKER[:1]:
                fragments.extend(f for ctype, epoch, seq, body in R.split_records(data)
                                 if ctype == R.CT_HS
                                 for f in R.split_handshake(body) if f[4] < f[1])
                raw = R.RawPskClient(PSK, IDENTITY)
                body = R.client_hello_body(raw.client_random, extensions=bytes(200))
                frag = R.handshake(R.HT_CLIENT_HELLO, 0, body[:60], length=len(body))
                for k in range(5):
                    flood[0] += 1
                    w.deliver_now(R.record(R.CT_HS, 0, 0, frag), ("127.0.0.66", 1000 + flood[0]))
            return None

        w.tamper = flood_before_each
        c = w.client(connect=False)
        assert nxsecure_dtls_session_mtu_set(c.sess, 90) == NX_SUCCESS
        st = c.start(5 * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        assert any(f[0] == R.HT_CLIENT_HELLO for f in fragments)    # it was fragmented
        assert flood[0] >= 25
        w.tamper = None
        assert c.round_trip(b"through the flood")
        assert [e for e in w.events if e[0] == "connect"] == [("connect", w.server_session(c), c.addr()[1])]
    finally:
        w.close()


def test_hello_fragmented_inside_its_cipher_suites_gets_a_cookie_and_connects():
    # A client offering many suites at a small MTU cuts its ClientHello inside the
    # suite list. The cookie is made and checked from the fields before it (random,
    # session_id), so the first fragment always suffices: such a hello used to be
    # dropped without an answer, and the client never connected.
    w = World(sessions=2)
    try:
        raw = R.RawPskClient(PSK, IDENTITY)
        suites = tuple(range(0xFE00, 0xFE00 + 60)) + (R.PSK_CCM_8,)

        def fragmented(body, cut):
            seq = raw.msg_seq
            raw.msg_seq += 1
            return [raw._rec(R.CT_HS, R.handshake(R.HT_CLIENT_HELLO, seq, body[:cut],
                                                  length=len(body))),
                    raw._rec(R.CT_HS, R.handshake(R.HT_CLIENT_HELLO, seq, body[cut:],
                                                  length=len(body), frag_off=cut))]

        first, rest = fragmented(R.client_hello_body(raw.client_random, suites=suites), 50)
        out = exchange(w, ATTACKER, first)
        assert len(out) == 1 and raw.on_datagram(out[0]) == [R.HT_HVR]
        assert len(raw.cookie) == 16
        body = R.client_hello_body(raw.client_random, raw.cookie, suites=suites)
        raw.transcript = R.handshake(R.HT_CLIENT_HELLO, raw.msg_seq, body)
        first, rest = fragmented(body, 60)          # 54 bytes reach the suite list
        assert exchange(w, ATTACKER, first) == []   # a session waits for the rest
        seen = [t for d in exchange(w, ATTACKER, rest) for t in raw.on_datagram(d)]
        assert R.HT_SERVER_HELLO in seen and R.HT_SHD in seen, seen
        seen = [t for d in exchange(w, ATTACKER, raw.final_flight()) for t in raw.on_datagram(d)]
        assert R.HT_FINISHED in seen, seen
        assert [e[0] for e in w.events] == ["connect"]
        _no_errors_raised(w)
    finally:
        w.close()


# ---------------------------------------------------------------- defect 6
def test_spoofed_epoch0_fragment_cannot_block_the_finished():
    # An unauthenticated epoch-0 fragment planted at the message_seq of the client's
    # Finished made the genuine (epoch-1) Finished be refused until timeout.
    w = World(sessions=2)
    try:
        c = w.client(connect=False)
        planted = []

        def plant(data, src, dst):
            if planted or tuple(dst[:2]) != SERVER:
                return None
            for ctype, epoch, seq, body in R.split_records(data):
                for t, length, mseq, off, flen, frag in R.split_handshake(body) if ctype == R.CT_HS and epoch == 0 else ():
                    if t == R.HT_CKE:
                        fake = R.handshake(R.HT_CKE, mseq + 1, b"\x00" * 4, length=40)
                        w.deliver_now(R.record(R.CT_HS, 0, seq + 100, fake), src)
                        planted.append(mseq + 1)
            return None

        w.tamper = plant
        st = c.start(5 * NX_IP_PERIODIC_RATE)
        assert planted and st == NX_SUCCESS, hex(st)
        assert c.sess._engine.retransmits == 0
        assert c.round_trip(b"finished got through")
    finally:
        w.close()


# ---------------------------------------------------------------- defect 7
def test_handshake_deadline_frees_a_silent_half_open_session():
    w = World(sessions=1)
    try:
        assert nxsecure_dtls_server_handshake_timeout_set(None, 10) == NX_PTR_ERROR
        assert nxsecure_dtls_server_handshake_timeout_set(w.server, 0) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_handshake_timeout_set(w.server, 30) == NX_SUCCESS  # 300 ms
        raw = R.RawPskClient(PSK, IDENTITY)
        cookie_for(w, raw)
        out = exchange(w, ATTACKER, raw.hello())           # then silence
        assert any(R.HT_SERVER_HELLO in raw.on_datagram(d) for d in out)
        s = [e[1] for e in w.events if e[0] == "connect"][0]
        assert netx._wait(lambda: (s, NX_SECURE_TLS_HANDSHAKE_TIMEOUT) in w.errors(),
                          NX_IP_PERIODIC_RATE)
        # long before the retransmission schedule (1 s doubling) would have given up
        assert s._engine.retransmits == 0
        c = w.client()
        assert c.status == NX_SUCCESS and w.server_session(c) is s
    finally:
        w.close()


def test_a_full_server_makes_room_from_the_oldest_half_open_handshake(monkeypatch):
    # Six datagrams (three cookie exchanges) filled a 3-slot server for ~183 s. Now a
    # cookie-verified client takes the session of the oldest half-open handshake once
    # that one has had a retransmission timeout to finish.
    from nxsecure import config
    monkeypatch.setattr(config, "NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS", 100)
    w = World(sessions=3)
    try:
        for i in range(3):
            raw = R.RawPskClient(PSK, IDENTITY)
            addr = ("127.0.0.%d" % (70 + i), 7000)
            cookie_for(w, raw, addr)
            exchange(w, addr, raw.hello())
        stuck = [e[1] for e in w.events if e[0] == "connect"]
        assert len(stuck) == 3 and all(s._peer is not None for s in w.server._sessions)
        w.pump(15)                                          # 150 ms
        c = w.client()
        assert c.status == NX_SUCCESS, hex(c.status)
        assert c.round_trip(b"room was made")
        assert w.server.nxsecure_handshakes_evicted == 1
        assert (w.server_session(c), NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS) in w.errors()
        # a connected session is never taken: with all three connected the next is refused
        d, e = w.client(), w.client()
        assert d.status == NX_SUCCESS and e.status == NX_SUCCESS
        f = w.client(wait=NX_IP_PERIODIC_RATE // 2)
        assert f.status != NX_SUCCESS
        assert (None, NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS) in w.errors()
        assert c.round_trip(b"still connected")
    finally:
        w.close()


def test_a_client_that_restarts_mid_handshake_is_not_locked_out_until_the_deadline():
    # Found by the gateway bench: a client that restarts (new random) from the same
    # address while its first handshake is half-open was fed to the old handshake and
    # ignored until that one's deadline. RFC 6347 4.2.8: it gets a cookie exchange,
    # and its proof of reachability replaces the old association.
    w = World(sessions=1)
    try:
        first = R.RawPskClient(PSK, IDENTITY)
        cookie_for(w, first)
        out = exchange(w, ATTACKER, first.hello())
        assert any(R.HT_SERVER_HELLO in first.on_datagram(d) for d in out)
        again = R.RawPskClient(PSK, IDENTITY)               # the same address, restarted
        cookie_for(w, again)
        out = exchange(w, ATTACKER, again.hello())
        assert any(R.HT_SHD in again.on_datagram(d) for d in out)
        out = exchange(w, ATTACKER, again.final_flight())
        assert any(R.HT_FINISHED in again.on_datagram(d) for d in out)
        # a retransmission of the handshake's own hello is still answered by it
        assert len([e for e in w.events if e[0] == "connect"]) == 2
    finally:
        w.close()


# ---------------------------------------------------------------- defect 13
def test_services_called_from_callbacks_do_not_recurse_into_the_pump():
    # connect_notify starts the session with NX_NO_WAIT (as the examples do): with 32
    # handshakes at once each nested wait pumped again, to RecursionError (a board's
    # C stack overflowed long before) and 32 leaked packets.
    import sys
    w = World(sessions=32, pool_count=96)
    depth = [0, 0]
    real = netx._wait

    def counting(cond, wait):
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        try:
            return real(cond, wait)
        finally:
            depth[0] -= 1

    raws = [(R.RawPskClient(PSK, IDENTITY), ("127.0.0.%d" % (100 + i), 9000)) for i in range(32)]
    for raw, addr in raws:
        cookie_for(w, raw, addr)
    netx._wait = counting
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        # 32 cookie-carrying hellos queued at once, then one pump takes them all in
        since = len(w.net.captured)
        for raw, addr in raws:
            w.inject(raw.hello(), addr)
        w.pump()
        answered = [a for raw, a in raws if any(R.HT_SERVER_HELLO in raw.on_datagram(d)
                                                 for d in replies(w, a, since))]
        assert len(answered) == 32
        assert depth[1] <= 2, depth
        _no_errors_raised(w)
    finally:
        sys.setrecursionlimit(limit)
        netx._wait = real
    for raw, addr in raws:
        out = exchange(w, addr, raw.final_flight())
        assert any(R.HT_FINISHED in raw.on_datagram(d) for d in out)
    assert all(s._engine.state == 20 for s in w.server._sessions)
    nx_secure_dtls_server_stop(w.server)
    assert w.pool.nx_packet_pool_available == w.pool.nx_packet_pool_total
    w.close()


def test_a_client_session_moves_to_another_server_without_ending_first():
    # Found by the Pythonic layer's work: starting a session for another server while it
    # was still attached to the first, on a socket the session had bound itself, unbound
    # that socket and failed with NX_SECURE_TLS_TCP_SEND_FAILED.
    w = World(sessions=2)
    try:
        c = w.client()
        assert c.status == NX_SUCCESS
        # a second server on another port of the same world
        srv2 = NX_SECURE_DTLS_SERVER()
        sbuf, md, rs = bytearray(sizeof(NX_SECURE_DTLS_SESSION)), bytearray(400), bytearray(2000)
        assert nx_secure_dtls_server_create(srv2, w.ip, SERVER_PORT + 1, 100, sbuf, len(sbuf),
                                            nx_crypto_tls_ciphers, md, 400, rs, 2000,
                                            lambda s, a, p: nx_secure_dtls_server_session_start(
                                                s, NX_NO_WAIT), lambda s: 0) == NX_SUCCESS
        assert nx_secure_dtls_server_psk_add(srv2, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                             None, 0) == NX_SUCCESS
        assert nx_secure_dtls_server_start(srv2) == NX_SUCCESS
        st = nx_secure_dtls_client_session_start(c.sess, c.sock, c.server_addr, SERVER_PORT + 1,
                                                 3 * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        assert c.sock.nx_udp_socket_port
        nx_secure_dtls_server_stop(srv2)
        nx_secure_dtls_server_delete(srv2)
    finally:
        w.close()
