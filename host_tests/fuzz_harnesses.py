"""Fuzz harnesses for nxsecure (issue #5), shared by tools/fuzz_campaign.py (the long
campaign, `make fuzz`) and host_tests/test_fuzz_smoke.py (a short run in `make test`).

Each harness is an object with `name`, `seeds` (real inputs to mutate), `one(data)`
(run one input; an exception that escapes is a crash) and `check()` (invariants after
a batch: the live session still works, memory stays bounded). Expected outcomes --
NxError for the parsers, a status code or a silent drop for the datagram paths -- are
counted by type in `outcomes`. The mutator is a small seeded byte-level one
(flip, set, insert, delete, duplicate, splice, header-aware length edits), so a run is
reproducible from its seed; `one(data)` also takes atheris' bytes directly.

Harnesses:
  record     RecordLayer.open over every record of a datagram, with epoch-1 read keys
  handshake  every pull_* of nxsecure/handshake.py on the same body
  reassembly Reassembler.add/pop over a stream of fragment headers
  x509       nx_secure_x509_certificate_initialize + der.check_structure on DER
  server     nxsecure.server._receive with a live established session (mutated real
             datagrams from the client's address and from fresh addresses), plus the
             client's receive hook; a round trip must still work after every batch
  canary     every input twice in fresh worlds whose pool packets hold different stale
             bytes: the server's output must not depend on bytes outside the datagram
"""
import random
import sys
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

from nxsecure import *  # noqa: E402,F401,F403
from nxsecure import netx, config, port  # noqa: E402
from nxsecure import handshake as H  # noqa: E402
from nxsecure.codec import Reader  # noqa: E402
from nxsecure.const import NxError  # noqa: E402
from nxsecure.reassembly import Reassembler  # noqa: E402
from nxsecure import server as _server  # noqa: E402


# ================================================================ mutator
_INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0xFE, 0xFD, 20, 21, 22, 23)


def mutate(rng, data, corpus):
    """A few random edits of data (bytes) -> bytes."""
    b = bytearray(data)
    for _ in range(1 + rng.randrange(4)):
        op = rng.randrange(10)
        n = len(b)
        if op == 0 and n:                                    # flip a bit
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:                                  # interesting byte
            b[rng.randrange(n)] = rng.choice(_INTERESTING)
        elif op == 2 and n:                                  # random byte
            b[rng.randrange(n)] = rng.randrange(256)
        elif op == 3:                                        # truncate
            del b[rng.randrange(n + 1):]
        elif op == 4 and n:                                  # delete a run
            i = rng.randrange(n)
            del b[i:i + 1 + rng.randrange(16)]
        elif op == 5:                                        # insert random bytes
            i = rng.randrange(n + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(1 + rng.randrange(16)))
        elif op == 6 and n:                                  # duplicate a chunk
            i = rng.randrange(n)
            j = min(n, i + 1 + rng.randrange(64))
            k = rng.randrange(n + 1)
            b[k:k] = b[i:j]
        elif op == 7 and corpus:                             # splice another input
            o = rng.choice(corpus)
            if o:
                i = rng.randrange(len(o))
                k = rng.randrange(n + 1)
                b = b[:k] + bytearray(o[i:i + 1 + rng.randrange(64)])
        elif op == 8 and n >= 2:                             # a 16-bit field: length-ish
            i = rng.randrange(n - 1)
            v = rng.choice((0, 1, 0xFF, 0x100, 0x3FFF, 0xFFFF, n, n - i, n - i - 2))
            b[i] = (v >> 8) & 0xFF
            b[i + 1] = v & 0xFF
        elif op == 9 and n >= 3:                             # a 24-bit field
            i = rng.randrange(n - 2)
            v = rng.choice((0, 1, 0xFFFFFF, n, n - i - 3, 0x10000))
            b[i] = (v >> 16) & 0xFF
            b[i + 1] = (v >> 8) & 0xFF
            b[i + 2] = v & 0xFF
    return bytes(b)


class Harness:
    name = "?"

    def __init__(self):
        self.inputs = 0
        self.outcomes = {}          # outcome name -> count (expected outcomes)
        self.crashes = {}           # (exception type, top frame) -> (count, example input)
        self.seeds = []

    def count(self, what):
        self.outcomes[what] = self.outcomes.get(what, 0) + 1

    def run(self, data):
        """one(data) with bookkeeping; returns False on a crash."""
        self.inputs += 1
        try:
            self.one(data)
            return True
        except Exception as e:           # anything but an expected outcome is a crash
            tb = e.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            key = (type(e).__name__, "%s:%d" % (os.path.basename(tb.tb_frame.f_code.co_filename),
                                                tb.tb_lineno))
            n, ex = self.crashes.get(key, (0, data))
            self.crashes[key] = (n + 1, ex)
            return False

    def check(self):
        pass

    def close(self):
        pass


# ================================================================ a live world
class Live:
    """One server with an established session (client A) on memnet, shared by the
    record and server harnesses."""

    def __init__(self):
        from memworld import World
        self.w = World(sessions=3)
        self.w.net.capture = True
        self.a = self.w.client()
        assert self.a.status == NX_SUCCESS, hex(self.a.status)
        for i in range(3):
            assert self.a.round_trip(b"seed-%d" % i)
        self.sa = self.w.server_session(self.a)
        self.datagrams = [d for (src, dst, d) in self.w.net.captured]
        self.w.net.capture = False
        self.w.net.captured = []
        self.pool_free = self.w.pool.nx_packet_pool_available

    def close(self):
        self.w.close()


# ================================================================ record
class RecordHarness(Harness):
    name = "record"

    def __init__(self, live):
        Harness.__init__(self)
        self.live = live
        self.rl = live.sa._engine.record           # epoch-1 read keys of a real session
        self.seeds = list(live.datagrams)

    def one(self, data):
        rl = self.rl
        buf = bytearray(data)
        off, end = 0, len(buf)
        while off < end:
            st = rl.open(buf, off, end)
            nxt = rl.r_next
            if st == NX_SUCCESS:
                if not (off < rl.r_off + rl.r_len <= end and rl.r_off >= off):
                    raise AssertionError("record outside its datagram")
                self.count("ok")
            else:
                self.count("discard:%#x" % st)
            if nxt <= off:
                raise AssertionError("no progress")
            off = nxt


# ================================================================ handshake codecs
def _handshake_seeds(live):
    """Bodies of every handshake message seen (epoch 0), plus the cert-suite shapes."""
    out = []
    for d in live.datagrams:
        p = 0
        while p + 13 <= len(d):
            n = (d[p + 11] << 8) | d[p + 12]
            if d[p] == 22 and d[p + 4] == 0 and n >= 12:
                out.append(bytes(d[p + 13 + 12:p + 13 + n]))
            p += 13 + n
    out.append(b"\x00\x00\x06" + b"\x00\x00\x03abc")                      # certificate list
    out.append(b"\x03\x00\x17\x41\x04" + bytes(64))                       # ec params
    out.append(b"\x02\x40\x01\x00\x04\x04\x03\x08\x04\x00\x00")           # cert request
    out.append(b"\x04\x03\x00\x02\x30\x00")                               # digitally signed
    return out


class HandshakeHarness(Harness):
    name = "handshake"

    def __init__(self, live):
        Harness.__init__(self)
        self.seeds = _handshake_seeds(live)

    def _try(self, label, fn, *args):
        try:
            fn(*args)
            self.count(label + ":ok")
        except NxError:
            self.count(label + ":NxError")

    def one(self, data):
        mv = memoryview(data)
        self._try("client_hello", H.pull_client_hello, mv)
        self._try("server_hello", H.pull_server_hello, mv)

        self._try("hello_verify_request", H.pull_hello_verify_request, mv)
        self._try("psk_vector", H.pull_psk_vector, mv)
        self._try("certificate_list", H.pull_certificate_list, mv)
        self._try("certificate_request", H.pull_certificate_request, mv)
        self._try("ec_params", lambda b: H.pull_ec_params(Reader(b)), mv)
        self._try("digitally_signed", lambda b: H.pull_digitally_signed(Reader(b)), mv)


# ================================================================ reassembly
class ReassemblyHarness(Harness):
    """The input is a stream of fragments: 12-byte handshake header + fragment bytes
    (the fragment is what follows, as much as the header says or the data holds)."""
    name = "reassembly"

    def __init__(self, live):
        Harness.__init__(self)
        self.mem = bytearray(700)
        self.r = Reassembler(memoryview(self.mem), config.NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS)
        seeds = []
        for body in _handshake_seeds(live)[:6]:
            whole = bytearray(12)
            H.push_handshake_header(whole, 0, 1, len(body), 0, 0, len(body))
            half = len(body) // 2
            a = bytearray(12)
            H.push_handshake_header(a, 0, 1, len(body), 0, half, len(body) - half)
            b = bytearray(12)
            H.push_handshake_header(b, 0, 1, len(body), 0, 0, half)
            seeds.append(bytes(a) + body[half:] + bytes(b) + body[:half])
            seeds.append(bytes(whole) + body)
        self.seeds = seeds

    def one(self, data):
        r = self.r
        r.reset(0)
        p = 0
        n = len(data)
        while p + 12 <= n:
            t = data[p]
            length = int.from_bytes(data[p + 1:p + 4], "big")
            seq = int.from_bytes(data[p + 4:p + 6], "big")
            off = int.from_bytes(data[p + 6:p + 9], "big")
            flen = int.from_bytes(data[p + 9:p + 12], "big")
            frag = memoryview(data)[p + 12:p + 12 + flen]
            p += 12 + len(frag)
            try:
                res = r.add(t, length, seq, off, len(frag), frag)
                self.count("add:%d" % res)
            except NxError as e:
                self.count("add:NxError:%#x" % e.code)
            while True:
                m = r.pop()
                if m is None:
                    break
                if len(m[2]) != ((m[3][1] << 16) | (m[3][2] << 8) | m[3][3]):
                    raise AssertionError("popped body length differs from its header")
                self.count("pop")
            if r._used > r._cap or r.buffered() > r.max_messages + 1:
                raise AssertionError("reassembly over its bounds")


# ================================================================ X.509 / DER
class X509Harness(Harness):
    name = "x509"

    def __init__(self, live=None):
        Harness.__init__(self)
        from nxsecure.x509 import der
        import cert_helpers as ch
        self.der = der
        seeds = []
        for kind in ("ec", "rsa"):
            for c in ch.chain(kind=kind):
                d = c[0] if isinstance(c, tuple) else getattr(c, "der", c)
                if isinstance(d, (bytes, bytearray)):
                    seeds.append(bytes(d))
        if not seeds:
            raise RuntimeError("no seed certificates")
        self.seeds = seeds

    def one(self, data):
        from nxsecure.x509 import NX_SECURE_X509_CERT, nx_secure_x509_certificate_initialize
        from nxsecure.x509 import NX_SECURE_X509_KEY_TYPE_NONE
        if not data:
            self.count("empty")
            return
        cert = NX_SECURE_X509_CERT()
        st = nx_secure_x509_certificate_initialize(cert, bytearray(data), len(data), None, 0,
                                                   None, 0, NX_SECURE_X509_KEY_TYPE_NONE)
        self.count("init:%#x" % st)
        try:
            self.der.check_structure(memoryview(data), 0, len(data))
            self.count("der:ok")
        except NxError:
            self.count("der:NxError")


# ================================================================ server datagram path
class ServerHarness(Harness):
    """Mutated real datagrams into nxsecure.server._receive (the server socket's hook)
    from the live client's address (the session path) and from fresh addresses (the
    stateless path), and into the client's receive hook."""
    name = "server"

    def __init__(self, live):
        Harness.__init__(self)
        self.live = live
        self.seeds = list(live.datagrams)
        self.addrs = [live.a.addr(), ("127.0.0.9", 7000), ("127.0.0.10", 7001)]
        self.k = 0
        self.round_trips = 0

    def _packet(self, data):
        w = self.live.w
        pkt = netx._take(w.pool, 0)
        if pkt is None:
            raise AssertionError("packet pool exhausted: a packet leaked")
        n = min(len(data), len(pkt._buf))
        pkt._buf[:n] = data[:n]
        pkt.nx_packet_prepend_ptr = 0
        pkt.nx_packet_append_ptr = n
        pkt.nx_packet_length = n
        return pkt

    def one(self, data):
        live = self.live
        self.k += 1
        k = self.k % 8
        if k == 7:
            # to the client session, as if from the server
            live.a.sess._receive_datagram(self._packet(data), live.a.sess._peer,
                                          port.ticks_ms())
        else:
            addr = self.addrs[0 if k < 5 else 1 + (k & 1)]
            _server._receive(live.w.server, self._packet(data), addr, port.ticks_ms())
        for e in (live.sa._engine, live.a.sess._engine):
            if e.last_exception is not None:
                exc = e.last_exception
                e.last_exception = None
                raise exc
        self.count("session:%d" % live.sa._engine.state)

    def check(self):
        """The live session still works and nothing grew."""
        live = self.live
        w = live.w
        w.pump()
        # drain what the mutated records delivered to either side
        while True:
            st, p = nx_secure_dtls_session_receive(live.a.sess, NX_NO_WAIT)
            if st != NX_SUCCESS:
                break
            nx_packet_release(p)
        if live.sa._engine.state != 20 or live.a.sess._engine.state != 20 \
                or w.server_session(live.a) is not live.sa:
            raise AssertionError("the live session was lost (server %d, client %d)"
                                 % (live.sa._engine.state, live.a.sess._engine.state))
        if not live.a.round_trip(b"fuzz-rt-%d" % self.round_trips, tries=2):
            raise AssertionError("round trip failed")
        self.round_trips += 1
        if w.ip.nx_ip_callback_errors or w.server.nxsecure_callback_errors \
                or netx._last_timer_error is not None:
            raise AssertionError("exception inside the stack: %r %r" % (
                getattr(w.ip, "_last_callback_error", None), netx._last_timer_error))
        # bounded: no leaked packets, no extra sessions or timers, reassembly in bounds
        if w.pool.nx_packet_pool_available < live.pool_free - 2:
            raise AssertionError("packets leaked: %d free of %d" % (
                w.pool.nx_packet_pool_available, live.pool_free))
        busy = [s for s in w.server._sessions if s._peer is not None]
        if len(busy) > len(w.server._sessions):
            raise AssertionError("sessions")
        for s in w.server._sessions:
            r = s._engine.reasm
            if r._used > r._cap or r.buffered() > r.max_messages + 1:
                raise AssertionError("reassembly over its bounds")
        if netx._timer_count() > 2 + len(w.server._sessions) + len(w.clients):
            raise AssertionError("timers grew: %d" % netx._timer_count())
        # the fuzz may have started handshakes on the other slots (a mutated hello with
        # a still-valid cookie): free them so every batch starts alike
        for s in w.server._sessions:
            if s is not live.sa and s._peer is not None:
                _server._release(s)


# ================================================================ canary: outputs vs stale bytes
class CanaryHarness(Harness):
    """No output depends on bytes outside the datagram (issue #11, defect 1). Every
    input runs twice, each time in a fresh world whose pool packets are filled with a
    different canary before a datagram lands in them (as a previous datagram, or a
    previous client's decrypted record, would have left them). The input arrives as a
    cookie-carrying attacker datagram; when the server answers with a ServerHello,
    the attacker finishes the handshake with the transcript it believes (missing bytes
    as zeros) and sends a record. What the server sends back, its events and its
    sessions' states must be identical in both runs."""
    name = "canary"
    CANARIES = (0x00, 0xA5)

    def __init__(self, live=None):
        Harness.__init__(self)
        import rawdtls as R
        self.R = R
        raw = R.RawPskClient(b"\x01\x02\x03\x04", b"Client_identity", random=bytes(range(32)))
        self._cookie = None
        sig, self._cookie = canary_run(None, 0, want_cookie=True)
        raw.cookie = self._cookie
        raw.msg_seq = 1
        raw.rec_seq = 1
        hello = raw.hello()
        seeds = [hello]
        # lying variants: longer handshake length / fragment length than carried
        body = hello[25:]
        for extra in (1, 2, 8, 40):
            seeds.append(hello[:13] + R.handshake(1, 1, body, length=len(body) + extra,
                                                  frag_len=len(body) + extra))
        # the plaintext-recovery shape: an extension block whose last extension
        # claims data the datagram does not carry, every length consistent with it
        for k in (1, 6):
            ext = R.struct.pack(">HH", 0xFFAA, k)
            full = len(body) + 2 + 4 + k
            msg = R.handshake(1, 1, body + R.struct.pack(">H", 4 + k) + ext, length=full,
                              frag_len=full)
            seeds.append(R.struct.pack(">BHHHIH", 22, R.DTLS12, 0, 0, 1, len(msg)) + msg)
        # fragments of the hello, and the hello after another record
        half = len(body) // 2
        seeds.append(R.record(22, 0, 1, R.handshake(1, 1, body[:half], length=len(body))))
        seeds.append(R.record(22, 0, 1, R.handshake(1, 1, body[half:], length=len(body),
                                                    frag_off=half)))
        seeds.append(R.record(21, 0, 1, b"\x01\x00") + hello)
        self.seeds = seeds

    def one(self, data):
        first = None
        for c in self.CANARIES:
            sig, _ = canary_run(data, c)
            if first is None:
                first = sig
            elif sig != first:
                raise AssertionError("the server's output depends on bytes outside the "
                                     "datagram (canary %#x)" % c)
        self.count("replies:%d" % len(first[0]))


def canary_run(data, canary, want_cookie=False):
    """One deterministic world: a fixed random source, pool packets filled with
    `canary` whenever the stack takes one. Returns (signature, cookie)."""
    import rawdtls as R
    from nxsecure import port
    from memworld import World
    rng = random.Random(7)
    port.set_random_source(lambda n: bytes(rng.getrandbits(8) for _ in range(n)))
    real_take = netx._take
    real_give = netx._give

    def fill(pkt):
        b = pkt._buf
        for i in range(len(b)):
            b[i] = canary

    def take(pool, prepend):
        pkt = real_take(pool, prepend)
        if pkt is not None:
            fill(pkt)
        return pkt

    def give(pkt):
        # the pump reads a datagram into the free list's head without _take: every
        # free packet holds the canary
        real_give(pkt)
        fill(pkt)

    netx._take = take
    netx._give = give
    outer = port.network()             # a live world of another harness keeps its network
    w = World(sessions=2, server_port=CANARY_PORT)
    for pkt in w.pool._packets:
        if not pkt._allocated:
            fill(pkt)
    attacker = ("127.0.0.66", 6666)
    try:
        raw = R.RawPskClient(b"\x01\x02\x03\x04", b"Client_identity", random=bytes(range(32)))
        got = []

        def send(d):
            since = len(w.net.captured)
            w.inject(d, attacker, ("127.0.0.1", CANARY_PORT))
            w.pump()
            out = [bytes(x) for (src, dst, x) in w.net.captured[since:]
                   if tuple(dst[:2]) == attacker]
            got.extend(out)
            return out

        for d in send(raw.hello()):
            raw.on_datagram(d)
        if want_cookie:
            return None, raw.cookie
        # the attacker's belief about its own hello: the first handshake message of
        # the datagram, padded with zeros to the length its header claims
        recs = R.split_records(data)
        for ctype, epoch, seq, body in recs:
            if ctype == 22 and len(body) >= 12:
                t, length, mseq, off, flen, frag = R.split_handshake(body)[0]
                if t == 1 and off == 0:
                    raw.transcript = R.handshake(1, mseq, (bytes(frag) + bytes(length))[:length])
                    raw.msg_seq = mseq + 1
                break
        seen = []
        for d in send(data):
            seen += raw.on_datagram(d)
        if R.HT_SERVER_HELLO in seen and R.HT_SHD in seen:
            for d in send(raw.final_flight()):
                seen += raw.on_datagram(d)
            if R.HT_FINISHED in seen:
                send(raw.app(b"after the handshake"))
        sessions = w.server._sessions
        events = [(k, sessions.index(s) if s in sessions else -1, c) for (k, s, c) in w.events]
        states = [s._engine.state for s in sessions]
        received = sorted((sessions.index(s), tuple(v)) for s, v in w.received.items())
        return (got, events, states, received), raw.cookie
    finally:
        w.close()
        port.use_network(outer)
        netx._take = real_take
        netx._give = real_give
        port.set_random_source(None)


CANARY_PORT = 4434


def make_all(names=None):
    live = Live()
    hs = []
    for cls in (RecordHarness, HandshakeHarness, ReassemblyHarness, X509Harness, ServerHarness,
                CanaryHarness):
        if names is None or cls.name in names:
            hs.append(cls(live))
    return live, hs


def campaign(h, n, seed, check_every=500, corpus_max=400):
    """Run n mutated inputs through harness h; returns elapsed seconds."""
    import time
    rng = random.Random(seed)
    corpus = list(h.seeds)
    t0 = time.perf_counter()
    for i in range(n):
        base = rng.choice(corpus)
        data = mutate(rng, base, corpus) if rng.randrange(16) else base
        h.run(data)
        if rng.randrange(64) == 0 and len(corpus) < corpus_max:
            corpus.append(data)
        if (i + 1) % check_every == 0:
            try:
                h.check()
            except Exception as e:
                key = ("check:" + type(e).__name__, str(e)[:80])
                c, ex = h.crashes.get(key, (0, data))
                h.crashes[key] = (c + 1, ex)
                if h.name == "server":
                    raise
    try:
        h.check()
    except Exception as e:
        key = ("check:" + type(e).__name__, str(e)[:80])
        c, ex = h.crashes.get(key, (0, b""))
        h.crashes[key] = (c + 1, ex)
    return time.perf_counter() - t0
