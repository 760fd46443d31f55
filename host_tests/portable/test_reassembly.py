"""Portable tests of nxsecure.reassembly (CPython pytest and MicroPython runner)."""
from nxsecure.const import (
    NxError,
    NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
    NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
    HT_CERTIFICATE,
    HT_FINISHED,
    HT_SERVER_HELLO,
    HT_SERVER_HELLO_DONE,
    HT_SERVER_KEY_EXCHANGE,
)
from nxsecure.reassembly import (
    Reassembler,
    ADD_OK,
    ADD_OLD,
    ADD_DUPLICATE,
    ADD_DROPPED,
)


def _body(n, salt=0):
    return bytes([(i * 7 + salt) & 0xFF for i in range(n)])


def _new(size=512, max_messages=None):
    buf = memoryview(bytearray(size))
    if max_messages is None:
        return Reassembler(buf)
    return Reassembler(buf, max_messages)


def _frag(r, t, body, seq, off, n):
    return r.add(t, len(body), seq, off, n, memoryview(body)[off:off + n])


def _header(t, length, seq):
    # RFC 6347 4.2.2 handshake header of an unfragmented message
    return bytes([t, length >> 16, (length >> 8) & 0xFF, length & 0xFF,
                  seq >> 8, seq & 0xFF, 0, 0, 0,
                  length >> 16, (length >> 8) & 0xFF, length & 0xFF])


def _expect_pop(r, t, seq, body):
    got = r.pop()
    assert got is not None, "message %d not complete" % seq
    gt, gseq, gbody, gwhole = got
    assert gt == t
    assert gseq == seq
    assert gbody == body
    assert gwhole[:12] == _header(t, len(body), seq)
    assert gwhole[12:] == body
    assert r.next_seq == seq + 1


def _raises(code, fn, *args):
    try:
        fn(*args)
    except NxError as e:
        assert e.code == code, "code 0x%x, expected 0x%x" % (e.code, code)
        return
    assert False, "no NxError 0x%x" % code


def _each_order(items, fn):
    # Heap's algorithm in place (itertools.permutations is not on every MicroPython
    # build, and a generator of fresh lists would dominate the test's heap)
    n = len(items)
    c = [0] * n
    fn(items)
    count = 1
    i = 0
    while i < n:
        if c[i] < i:
            j = 0 if i % 2 == 0 else c[i]
            items[j], items[i] = items[i], items[j]
            fn(items)
            count += 1
            c[i] += 1
            i = 0
        else:
            c[i] = 0
            i += 1
    return count


def test_in_order_single_fragment():
    r = _new()
    body = _body(40)
    assert r.pop() is None
    assert _frag(r, HT_SERVER_HELLO, body, 0, 0, 40) == ADD_OK
    assert r.buffered() == 1
    _expect_pop(r, HT_SERVER_HELLO, 0, body)
    assert r.buffered() == 0
    assert r.pop() is None


def test_incomplete_is_not_popped():
    r = _new()
    body = _body(20)
    assert _frag(r, HT_SERVER_HELLO, body, 0, 0, 19) == ADD_OK
    assert r.pop() is None
    assert r.next_seq == 0
    assert _frag(r, HT_SERVER_HELLO, body, 0, 19, 1) == ADD_OK
    _expect_pop(r, HT_SERVER_HELLO, 0, body)


def _check_permutations(length, cuts):
    body = _body(length, 3)
    whole = memoryview(body)
    pieces = []
    for i in range(len(cuts) - 1):
        off = cuts[i]
        n = cuts[i + 1] - off
        pieces.append((off, n, whole[off:off + n]))
    r = _new()                      # one buffer for every order keeps the heap small

    def run(order):
        r.reset()
        for off, n, view in order:
            assert r.pop() is None
            assert r.add(HT_CERTIFICATE, length, 0, off, n, view) == ADD_OK
        _expect_pop(r, HT_CERTIFICATE, 0, body)

    return _each_order(pieces, run)


def test_split_in_two_every_order():
    assert _check_permutations(17, [0, 9, 17]) == 2


def test_split_in_three_every_order():
    assert _check_permutations(23, [0, 5, 16, 23]) == 6


def test_split_in_many_every_order():
    # unaligned cuts exercise the partial-bitmap-byte paths
    assert _check_permutations(37, [0, 1, 8, 13, 24, 37]) == 120


def test_byte_by_byte_reversed():
    r = _new()
    body = _body(30)
    for off in range(29, -1, -1):
        assert r.pop() is None
        assert _frag(r, HT_SERVER_KEY_EXCHANGE, body, 0, off, 1) == ADD_OK
    _expect_pop(r, HT_SERVER_KEY_EXCHANGE, 0, body)


def test_overlapping_fragments():
    r = _new()
    body = _body(20)
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 10) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, body, 0, 5, 10) == ADD_OK
    assert r.pop() is None
    assert _frag(r, HT_CERTIFICATE, body, 0, 3, 17) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 0, body)


def test_overlap_spanning_several_earlier_fragments():
    r = _new()
    body = _body(64)
    for off in (2, 11, 20, 33, 50):
        assert _frag(r, HT_CERTIFICATE, body, 0, off, 4) == ADD_OK
    assert r.pop() is None
    # covers gaps and all five earlier pieces at once
    assert _frag(r, HT_CERTIFICATE, body, 0, 1, 60) == ADD_OK
    assert r.pop() is None
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 64) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 0, body)


def test_overlap_keeps_first_copy():
    # bytes already held are not rewritten by a later overlapping fragment
    r = _new()
    body = _body(16)
    other = bytes([0xEE] * 16)
    assert _frag(r, HT_CERTIFICATE, body, 0, 4, 8) == ADD_OK
    assert r.add(HT_CERTIFICATE, 16, 0, 0, 16, memoryview(other)) == ADD_OK
    got = r.pop()
    assert bytes(got[2]) == other[:4] + body[4:12] + other[12:]


def test_duplicates():
    r = _new()
    body = _body(30)
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 20) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 20) == ADD_DUPLICATE
    assert _frag(r, HT_CERTIFICATE, body, 0, 3, 9) == ADD_DUPLICATE
    assert _frag(r, HT_CERTIFICATE, body, 0, 20, 0) == ADD_DUPLICATE
    assert _frag(r, HT_CERTIFICATE, body, 0, 10, 20) == ADD_OK
    # complete but not yet popped: every byte is had
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 30) == ADD_DUPLICATE
    assert r.buffered() == 1
    _expect_pop(r, HT_CERTIFICATE, 0, body)


def test_old_message():
    r = _new()
    body = _body(10)
    assert _frag(r, HT_SERVER_HELLO, body, 0, 0, 10) == ADD_OK
    _expect_pop(r, HT_SERVER_HELLO, 0, body)
    assert _frag(r, HT_SERVER_HELLO, body, 0, 0, 10) == ADD_OLD
    assert _frag(r, HT_SERVER_HELLO, body, 0, 2, 3) == ADD_OLD
    assert r.buffered() == 0
    r.reset(5)
    assert r.next_seq == 5
    assert _frag(r, HT_SERVER_HELLO, body, 4, 0, 10) == ADD_OLD
    assert r.pop() is None


def test_future_message_buffered_then_popped():
    r = _new()
    b0 = _body(30, 1)
    b1 = _body(25, 2)
    b2 = _body(0)
    assert r.add(HT_SERVER_HELLO_DONE, 0, 2, 0, 0, b2) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b1, 1, 10, 15) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b1, 1, 0, 10) == ADD_OK
    assert r.pop() is None          # message 0 missing
    assert r.buffered() == 2
    assert _frag(r, HT_SERVER_HELLO, b0, 0, 0, 30) == ADD_OK
    _expect_pop(r, HT_SERVER_HELLO, 0, b0)
    _expect_pop(r, HT_CERTIFICATE, 1, b1)
    _expect_pop(r, HT_SERVER_HELLO_DONE, 2, b2)
    assert r.pop() is None
    assert r.buffered() == 0


def test_views_valid_until_next_call():
    r = _new()
    b0 = _body(12, 1)
    b1 = _body(9, 2)
    assert _frag(r, HT_SERVER_HELLO, b0, 0, 0, 12) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b1, 1, 0, 9) == ADD_OK
    t, seq, body, whole = r.pop()
    assert r.buffered() == 1
    assert bytes(body) == b0 and seq == 0 and t == HT_SERVER_HELLO
    assert bytes(whole) == _header(HT_SERVER_HELLO, 12, 0) + b0
    # compaction on the next call moves message 1 to the front intact
    _expect_pop(r, HT_CERTIFICATE, 1, b1)


def test_future_cap_dropped():
    r = _new(1024, 2)
    b = _body(8)
    assert _frag(r, HT_CERTIFICATE, b, 1, 0, 8) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b, 2, 0, 8) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b, 3, 0, 8) == ADD_DROPPED
    assert r.buffered() == 2
    assert _frag(r, HT_SERVER_HELLO, b, 0, 0, 8) == ADD_OK
    _expect_pop(r, HT_SERVER_HELLO, 0, b)
    # the window moved: 3 fits now
    assert _frag(r, HT_CERTIFICATE, b, 3, 0, 8) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 1, b)
    _expect_pop(r, HT_CERTIFICATE, 2, b)
    _expect_pop(r, HT_CERTIFICATE, 3, b)


def test_no_future_messages_when_cap_zero():
    r = _new(256, 0)
    b = _body(8)
    assert _frag(r, HT_CERTIFICATE, b, 1, 0, 8) == ADD_DROPPED
    assert r.buffered() == 0


def test_future_without_room_dropped_current_evicts():
    # each 40-byte message takes 16 + 40 + 5 = 61 bytes
    r = _new(130, 8)
    b = _body(40)
    assert _frag(r, HT_CERTIFICATE, b, 1, 0, 40) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b, 2, 0, 40) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b, 3, 0, 40) == ADD_DROPPED
    assert r.buffered() == 2
    # the expected message pushes out the farthest future one
    assert _frag(r, HT_SERVER_HELLO, b, 0, 0, 40) == ADD_OK
    assert r.buffered() == 2
    _expect_pop(r, HT_SERVER_HELLO, 0, b)
    _expect_pop(r, HT_CERTIFICATE, 1, b)
    assert r.pop() is None
    assert _frag(r, HT_CERTIFICATE, b, 2, 0, 40) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 2, b)


def test_inconsistent_length_or_type():
    r = _new()
    body = _body(20)
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 5) == ADD_OK
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_CERTIFICATE, 21, 0, 5, 5, memoryview(body)[5:10])
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_SERVER_HELLO, 20, 0, 5, 5, memoryview(body)[5:10])
    # the stored part is intact
    assert _frag(r, HT_CERTIFICATE, body, 0, 5, 15) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 0, body)


def test_a_later_epoch_replaces_an_earlier_epochs_bytes():
    # Issue #11, defect 6: an unauthenticated (epoch 0) fragment planted at the
    # message_seq the Finished will use must not block the genuine (epoch 1) message,
    # and an epoch-0 fragment never joins an epoch-1 message.
    r = _new()
    planted = _body(30)
    assert r.add(HT_CERTIFICATE, 30, 0, 0, 10, memoryview(planted)[0:10], 0) == ADD_OK
    fin = bytes(range(100, 112))
    assert r.add(HT_FINISHED, 12, 0, 0, 6, memoryview(fin)[0:6], 1) == ADD_OK
    assert r.add(HT_CERTIFICATE, 30, 0, 10, 20, memoryview(planted)[10:30], 0) == ADD_DROPPED
    assert r.add(HT_FINISHED, 12, 0, 6, 6, memoryview(fin)[6:12], 0) == ADD_DROPPED
    assert r.pop() is None
    assert r.add(HT_FINISHED, 12, 0, 6, 6, memoryview(fin)[6:12], 1) == ADD_OK
    _expect_pop(r, HT_FINISHED, 0, fin)


def test_fragment_beyond_message():
    r = _new()
    body = _body(20)
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_CERTIFICATE, 10, 0, 5, 6, memoryview(body)[0:6])
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_CERTIFICATE, 10, 0, 11, 0, memoryview(body)[0:0])
    assert r.buffered() == 0


def test_fragment_length_mismatch():
    r = _new()
    body = _body(20)
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_CERTIFICATE, 20, 0, 0, 10, memoryview(body)[0:9])
    _raises(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
            r.add, HT_CERTIFICATE, 20, 0, 0, 10, memoryview(body)[0:11])
    assert r.buffered() == 0


def test_too_large_message():
    r = _new(100)
    # 16 + 74 + 10 = 100 fits exactly; 75 needs 101
    _raises(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
            r.add, HT_CERTIFICATE, 75, 0, 0, 10, _body(10))
    _raises(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
            r.add, HT_CERTIFICATE, 0xFFFFFF, 1, 0, 10, _body(10))
    body = _body(74)
    assert _frag(r, HT_CERTIFICATE, body, 0, 0, 74) == ADD_OK
    _expect_pop(r, HT_CERTIFICATE, 0, body)


def test_zero_length_message():
    r = _new()
    assert r.add(HT_SERVER_HELLO_DONE, 0, 0, 0, 0, b"") == ADD_OK
    assert r.add(HT_SERVER_HELLO_DONE, 0, 0, 0, 0, b"") == ADD_DUPLICATE
    _expect_pop(r, HT_SERVER_HELLO_DONE, 0, b"")
    assert r.add(HT_SERVER_HELLO_DONE, 0, 0, 0, 0, b"") == ADD_OLD


def test_empty_fragment_of_nonempty_message_stores_nothing():
    r = _new()
    assert r.add(HT_CERTIFICATE, 10, 0, 4, 0, b"") == ADD_DUPLICATE
    assert r.buffered() == 0
    assert r.pop() is None


def test_whole_header_bytes_exact():
    r = _new(0x200 + 0x80)
    body = _body(0x1A3, 9)
    r.reset(0x1234)
    # arrive as two fragments whose headers differ from the unfragmented one
    assert _frag(r, HT_CERTIFICATE, body, 0x1234, 0x100, 0xA3) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, body, 0x1234, 0, 0x100) == ADD_OK
    t, seq, b, whole = r.pop()
    assert bytes(whole[:12]) == bytes([0x0B, 0x00, 0x01, 0xA3, 0x12, 0x34,
                                       0x00, 0x00, 0x00, 0x00, 0x01, 0xA3])
    assert len(whole) == 12 + 0x1A3
    assert bytes(whole[12:]) == body
    assert seq == 0x1234 and t == HT_CERTIFICATE


def test_reset_forgets():
    r = _new()
    b = _body(10)
    assert _frag(r, HT_CERTIFICATE, b, 1, 0, 10) == ADD_OK
    assert _frag(r, HT_CERTIFICATE, b, 0, 0, 5) == ADD_OK
    r.reset()
    assert r.buffered() == 0 and r.next_seq == 0
    assert r.pop() is None
    assert _frag(r, HT_SERVER_HELLO, b, 0, 0, 10) == ADD_OK
    _expect_pop(r, HT_SERVER_HELLO, 0, b)


def test_bad_arguments_raise_nxerror_only():
    r = _new()
    bad = (
        (None, 1, 0, 0, 1, b"x"),
        (1, 1, 0, 0, 1, None),
        (1, 1, 0, 0, 1, 5),
        (1, 1, 0, 0, 1, "x"),
        (1.5, 1, 0, 0, 1, b"x"),
        (-1, 1, 0, 0, 1, b"x"),
        (256, 1, 0, 0, 1, b"x"),
        (1, -1, 0, 0, 0, b""),
        (1, 1 << 24, 0, 0, 0, b""),
        (1, 1, -1, 0, 1, b"x"),
        (1, 1, 1 << 16, 0, 1, b"x"),
        (1, 1, 0, -1, 1, b"x"),
        (1, 4, 0, 0, -1, b""),
    )
    for args in bad:
        raised = False
        try:
            r.add(*args)
        except NxError:
            raised = True
        assert raised, repr(args)
    assert r.buffered() == 0
