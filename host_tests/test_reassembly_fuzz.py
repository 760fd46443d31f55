"""Property tests of nxsecure.reassembly against a reference model (CPython, hypothesis)."""
from hypothesis import given, settings, strategies as st

from nxsecure.const import NxError
from nxsecure.reassembly import (
    Reassembler,
    ADD_OK,
    ADD_OLD,
    ADD_DUPLICATE,
    ADD_DROPPED,
)


def rec_size(length):
    # 3-byte received counter + 12-byte header + body + 1 bit per body byte
    return 16 + length + (length + 7) // 8


def header(t, length, seq):
    # RFC 6347 4.2.2, unfragmented: fragment_offset 0, fragment_length = length
    return (bytes([t]) + length.to_bytes(3, "big") + seq.to_bytes(2, "big")
            + b"\0\0\0" + length.to_bytes(3, "big"))


class Model:
    """What Reassembler promises, written the obvious (allocating) way."""

    def __init__(self, cap, max_messages):
        self.cap = cap
        self.max = max_messages
        self.next = 0
        self.recs = {}     # seq -> [type, length, set of byte offsets held]

    def used(self):
        return sum(rec_size(r[1]) for r in self.recs.values())

    def add(self, t, length, seq, off, n):
        if seq < self.next:
            return ADD_OLD
        r = self.recs.get(seq)
        if r is not None:
            assert (r[0], r[1]) == (t, length)   # the tests only send consistent input
            new = set(range(off, off + n)) - r[2]
            r[2] |= new
            return ADD_OK if new else ADD_DUPLICATE
        if n == 0 and length != 0:
            return ADD_DUPLICATE
        need = rec_size(length)
        if seq != self.next:
            if seq - self.next > self.max or self.cap - self.used() < need:
                return ADD_DROPPED
        else:
            while self.cap - self.used() < need:
                del self.recs[max(self.recs)]
        self.recs[seq] = [t, length, set(range(off, off + n))]
        return ADD_OK

    def pop(self):
        r = self.recs.get(self.next)
        if r is None or len(r[2]) != r[1]:
            return None
        del self.recs[self.next]
        self.next += 1
        return r

    def buffered(self):
        return len(self.recs)


@st.composite
def messages(draw, max_len=200):
    n = draw(st.integers(1, 6))
    out = []
    for _ in range(n):
        t = draw(st.integers(0, 255))
        body = draw(st.binary(min_size=0, max_size=max_len))
        out.append((t, body))
    return out


@st.composite
def fragments(draw, length):
    """(offset, n) pieces covering [0, length): a partition, extra overlapping pieces,
    repeats."""
    if length == 0:
        pieces = [(0, 0)] * draw(st.integers(1, 3))
    else:
        cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=min(8, length - 1)))
                      if length > 1 else [])
        edges = [0] + cuts + [length]
        pieces = [(edges[i], edges[i + 1] - edges[i]) for i in range(len(edges) - 1)]
        for _ in range(draw(st.integers(0, 4))):
            a = draw(st.integers(0, length))
            pieces.append((a, draw(st.integers(0, length - a))))
        for _ in range(draw(st.integers(0, 3))):
            pieces.append(pieces[draw(st.integers(0, len(pieces) - 1))])
    return pieces


def deliver(data, msgs, cap, max_messages, check_model=True):
    r = Reassembler(memoryview(bytearray(cap)), max_messages)
    model = Model(cap, max_messages)
    flight = []
    for seq, (t, body) in enumerate(msgs):
        for off, n in data.draw(fragments(len(body))):
            flight.append((t, body, seq, off, n))
    popped = []
    # Each pass is the peer retransmitting the whole flight (RFC 6347 4.2.4); the
    # expected message is never dropped, so every pass completes at least one.
    for _ in range(len(msgs) + 1):
        order = data.draw(st.permutations(flight))
        for t, body, seq, off, n in order:
            got = r.add(t, len(body), seq, off, n, memoryview(body)[off:off + n])
            if check_model:
                assert got == model.add(t, len(body), seq, off, n)
                assert r.buffered() == model.buffered()
            while True:
                m = r.pop()
                if check_model:
                    assert (m is None) == (model.pop() is None)
                if m is None:
                    break
                mt, mseq, mbody, mwhole = m
                popped.append((mt, mseq, bytes(mbody), bytes(mwhole)))
        if len(popped) == len(msgs):
            break
    assert len(popped) == len(msgs)
    for seq, (t, body) in enumerate(msgs):
        assert popped[seq] == (t, seq, body, header(t, len(body), seq) + body)
    assert r.buffered() == 0
    assert r.pop() is None
    # a retransmission after everything was processed is recognised as old
    if flight:
        t, body, seq, off, n = flight[0]
        assert r.add(t, len(body), seq, off, n, memoryview(body)[off:off + n]) == ADD_OLD


@settings(max_examples=300, deadline=None)
@given(st.data(), messages(), st.integers(0, 8))
def test_roomy_buffer_matches_model(data, msgs, max_messages):
    cap = sum(rec_size(len(b)) for _, b in msgs) + data.draw(st.integers(0, 64))
    deliver(data, msgs, cap, max_messages)


@settings(max_examples=300, deadline=None)
@given(st.data(), messages(), st.integers(0, 8))
def test_tight_buffer_matches_model(data, msgs, max_messages):
    # just room for the largest message: futures get dropped and evicted
    biggest = max(rec_size(len(b)) for _, b in msgs)
    cap = biggest + data.draw(st.integers(0, biggest))
    deliver(data, msgs, cap, max_messages)


ints = st.one_of(st.integers(-3, 300), st.integers(-(1 << 30), 1 << 30),
                 st.sampled_from([0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000]))
junk = st.one_of(ints, st.none(), st.floats(allow_nan=False), st.text(max_size=3),
                 st.binary(max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(16, 600), st.integers(0, 8))
def test_garbage_raises_only_nxerror(data, cap, max_messages):
    r = Reassembler(memoryview(bytearray(cap)), max_messages)
    for _ in range(data.draw(st.integers(1, 40))):
        what = data.draw(st.integers(0, 9))
        if what == 0:
            r.pop()
        elif what == 1:
            r.reset(data.draw(st.integers(0, 70000)))
        else:
            frag = data.draw(st.binary(max_size=80))
            nlen = data.draw(st.one_of(st.just(len(frag)), ints))
            args = [data.draw(ints), data.draw(ints), data.draw(st.integers(-2, 40)),
                    data.draw(ints), nlen, frag]
            if data.draw(st.integers(0, 9)) == 0:
                args[data.draw(st.integers(0, 5))] = data.draw(junk)
            try:
                got = r.add(*args)
            except NxError:
                continue
            assert got in (ADD_OK, ADD_OLD, ADD_DUPLICATE, ADD_DROPPED)
        assert 0 <= r.buffered() <= max_messages + 1


@settings(max_examples=200, deadline=None)
@given(st.data(), messages(max_len=120), st.integers(1, 8))
def test_garbage_does_not_disturb_other_messages(data, msgs, max_messages):
    n = len(msgs)
    cap = 2 * max(rec_size(len(b)) for _, b in msgs) + data.draw(st.integers(0, 400))
    r = Reassembler(memoryview(bytearray(cap)), max_messages)
    flight = []
    for seq, (t, body) in enumerate(msgs):
        for off, k in data.draw(fragments(len(body))):
            flight.append((t, body, seq, off, k))
    popped = []
    for _ in range(n + 1):
        for t, body, seq, off, k in data.draw(st.permutations(flight)):
            for _ in range(data.draw(st.integers(0, 2))):
                # garbage for message_seq values no real message uses
                gseq = data.draw(st.one_of(st.integers(n, n + 12), st.integers(-3, 70000)))
                if 0 <= gseq < n:
                    continue
                g = data.draw(st.binary(max_size=60))
                glen = data.draw(st.integers(0, 300))
                goff = data.draw(st.integers(0, 300))
                gn = data.draw(st.one_of(st.just(len(g)), st.integers(0, 70)))
                try:
                    r.add(data.draw(st.integers(0, 255)), glen, gseq, goff, gn, g)
                except NxError:
                    pass
            if len(popped) < n:
                r.add(t, len(body), seq, off, k, memoryview(body)[off:off + k])
            while len(popped) < n:
                m = r.pop()
                if m is None:
                    break
                popped.append((m[0], m[1], bytes(m[2]), bytes(m[3])))
        if len(popped) == n:
            break
    assert len(popped) == n
    for seq, (t, body) in enumerate(msgs):
        assert popped[seq] == (t, seq, body, header(t, len(body), seq) + body)


def test_large_message_header_all_bytes():
    # length and message_seq with every header byte non-zero (too big for portable tests)
    length = 0x010203
    body = bytes((i * 31 + 7) & 0xFF for i in range(length))
    r = Reassembler(memoryview(bytearray(rec_size(length))), 0)
    r.reset(0xFEDC)
    cuts = [0, 1, 0x8000, 0x10001, length]
    for a, b in reversed(list(zip(cuts, cuts[1:]))):
        assert r.pop() is None
        assert r.add(11, length, 0xFEDC, a, b - a, memoryview(body)[a:b]) == ADD_OK
    t, seq, mbody, whole = r.pop()
    assert bytes(whole[:12]) == bytes([11, 1, 2, 3, 0xFE, 0xDC, 0, 0, 0, 1, 2, 3])
    assert bytes(mbody) == body and bytes(whole[12:]) == body
