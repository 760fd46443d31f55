"""DTLS handshake message reassembly inside a caller-provided fixed buffer (RFC 6347 4.2.2-4.2.3)."""
# Everything lives in the caller's memoryview; the only Python state is a handful of
# small ints.  Messages are stored back to back from offset 0 as records:
#
#   +0        received   u24  count of body bytes held (newly set bitmap bits only)
#   +3        epoch      u8   the record epoch every fragment of the message came in
#   +4        header     12   msg_type u8, length u24, message_seq u16,
#                             fragment_offset u24 = 0, fragment_length u24 = length
#                             (RFC 6347 4.2.2: the header as if unfragmented, which is
#                             what the transcript hashes, RFC 6347 4.2.6)
#   +16       body       length bytes
#   +16+len   bitmap     ceil(length / 8) bytes, bit (i & 7) of byte (i >> 3) set when
#                        body byte i has been received
#
# so a record takes 16 + length + ceil(length / 8) bytes.  Records are in arrival order;
# lookups walk at most max_messages + 1 records.
#
# Policy (RFC 6347 4.2.2 leaves it to the implementation): a future message is kept only
# when next_seq < message_seq <= next_seq + max_messages and its record fits in the free
# space; the message next_seq always gets room, evicting future records farthest first
# (the peer's retransmitted flight brings them again, RFC 6347 4.2.4).  Overlapping bytes
# keep their first copy.  A message's bytes all come from one epoch: a fragment of a
# later (authenticated) epoch replaces whatever an earlier (unauthenticated) epoch put at
# that message_seq, and an earlier epoch's fragment never joins a later epoch's message,
# so spoofed epoch-0 bytes cannot stand in for, or block, an epoch-1 message.  next_seq
# is read by callers; change it only through reset().

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from nxsecure.const import (
    NxError,
    NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
    NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
)
from nxsecure import config
from nxsecure.handshake import push_handshake_header

ADD_OK = const(0)         # fragment stored (it held bytes we lacked)
ADD_OLD = const(1)        # message_seq < next_seq: the peer repeated an old flight
ADD_DUPLICATE = const(2)  # every byte of the fragment was already held
ADD_DROPPED = const(3)    # future message outside the window or no room for it

_REC = const(16)          # received counter (3) + epoch (1) + handshake header (12)
_HDR = const(4)           # offset of the handshake header in a record


def _rec_size(length):
    return _REC + length + ((length + 7) >> 3)


class Reassembler:
    def __init__(self, buf, max_messages=None):
        if max_messages is None:                 # read when made, not at import
            max_messages = config.NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS
        if not isinstance(max_messages, int) or max_messages < 0:
            raise NxError(NX_INVALID_PARAMETERS)
        try:
            buf = memoryview(buf)
        except TypeError:
            raise NxError(NX_INVALID_PARAMETERS)
        if (getattr(buf, "readonly", False) or getattr(buf, "format", "B") != "B"
                or getattr(buf, "ndim", 1) != 1):
            raise NxError(NX_INVALID_PARAMETERS)
        self._buf = buf
        self._cap = len(buf)
        self.max_messages = max_messages
        self.reset(0)

    def reset(self, next_seq=0):
        """Forget every message; next_seq is the message_seq expected next."""
        if not isinstance(next_seq, int) or next_seq < 0:
            raise NxError(NX_INVALID_PARAMETERS)
        self.next_seq = next_seq
        self._used = 0       # bytes of buf holding records
        self._count = 0      # records held (including a popped one awaiting removal)
        self._gone = -1      # offset of the record returned by pop(), removed lazily

    def buffered(self):
        """Messages held (complete or not), not counting one already popped."""
        return self._count - (1 if self._gone >= 0 else 0)

    # --- record helpers ----------------------------------------------------------
    def _len_at(self, off):
        b = self._buf
        return (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]

    def _find(self, seq):
        off = 0
        for _ in range(self._count):
            if (self._buf[off + 8] << 8) | self._buf[off + 9] == seq:    # its message_seq
                return off
            off += _rec_size(self._len_at(off))
        return -1

    def _remove(self, off):
        size = _rec_size(self._len_at(off))
        end = off + size
        used = self._used
        if end < used:
            b = self._buf
            b[off:used - size] = b[end:used]   # memmove down; views into buf are stale now
        self._used = used - size
        self._count -= 1

    def _new(self, msg_type, length, seq, epoch):
        b = self._buf
        off = self._used
        b[off] = 0
        b[off + 1] = 0
        b[off + 2] = 0
        b[off + 3] = epoch
        push_handshake_header(b, off + _HDR, msg_type, length, seq, 0, length)
        bm = off + _REC + length
        for i in range(bm, bm + ((length + 7) >> 3)):
            b[i] = 0
        self._used = off + _rec_size(length)
        self._count += 1
        return off

    def _evict_for(self, need):
        # The next expected message outranks buffered future ones (those will be
        # retransmitted with the peer's flight, RFC 6347 4.2.4): drop the farthest first.
        while self._cap - self._used < need and self._count:
            off = 0
            worst = -1
            worst_seq = -1
            for _ in range(self._count):
                s = (self._buf[off + 8] << 8) | self._buf[off + 9]
                if s > worst_seq:
                    worst_seq = s
                    worst = off
                off += _rec_size(self._len_at(off))
            self._remove(worst)

    def _mark(self, off, length, a, n, frag):
        # Set bitmap bits for body bytes [a, a + n), copy only bytes not held before
        # (the first copy of a byte wins), return how many were new.  Whole bitmap
        # bytes are handled at once, so in-order delivery costs O(n / 8) here.
        b = self._buf
        body = off + _REC
        bm = body + length
        end = a + n
        new = 0
        run = -1                      # start of a run of new bytes not yet copied
        p = a
        while p < end:
            i = bm + (p >> 3)
            old = b[i]
            if (p & 7) == 0 and p + 8 <= end and (old == 0 or old == 0xFF):
                if old == 0:
                    b[i] = 0xFF
                    new += 8
                    if run < 0:
                        run = p
                else:
                    if run >= 0:
                        b[body + run:body + p] = frag[run - a:p - a]
                        run = -1
                p += 8
                continue
            m = 1 << (p & 7)
            if old & m:
                if run >= 0:
                    b[body + run:body + p] = frag[run - a:p - a]
                    run = -1
            else:
                b[i] = old | m
                new += 1
                if run < 0:
                    run = p
            p += 1
        if run >= 0:
            b[body + run:body + end] = frag[run - a:n]
        return new

    # --- public ------------------------------------------------------------------
    def add(self, msg_type, length, message_seq, frag_offset, frag_len, frag, epoch=0):
        """Take one handshake fragment (RFC 6347 4.2.3) that came in a record of
        `epoch`; returns an ADD_* code or raises NxError for a malformed or
        inconsistent fragment."""
        try:
            # ints (else TypeError); `wide` is not 0 when one is negative or wider than
            # its field (RFC 6347 4.2.2: u8 type, u24 lengths and offset, u16 seq)
            wide = (msg_type >> 8) | (message_seq >> 16) | ((length | frag_offset | frag_len) >> 24)
            if isinstance(frag, str):   # MicroPython would take a str as a buffer
                raise TypeError
            if not isinstance(frag, memoryview):
                frag = memoryview(frag)
        except TypeError:
            raise NxError(NX_INVALID_PARAMETERS)
        # CPython only: a view of anything but plain bytes would not copy byte-wise.
        if getattr(frag, "format", "B") != "B" or getattr(frag, "ndim", 1) != 1:
            raise NxError(NX_INVALID_PARAMETERS)
        # RFC 6347 4.2.3: the fragment must lie inside the message and carry exactly
        # fragment_length bytes.
        if wide or len(frag) != frag_len or frag_offset + frag_len > length:
            raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH)

        off = self._gone
        if off >= 0:            # the record handed out by the last pop(): its views die here
            self._gone = -1
            self._remove(off)
        nxt = self.next_seq
        # RFC 6347 4.2.2: a message_seq already processed is a retransmission.
        if message_seq < nxt:
            return ADD_OLD
        need = _rec_size(length)
        if need > self._cap:
            raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL)

        off = self._find(message_seq)
        if off >= 0:
            b = self._buf
            held = b[off + 3]
            if epoch < held:
                return ADD_DROPPED           # never joins an authenticated message
            if epoch > held:
                self._remove(off)            # unauthenticated bytes do not stand in
                off = -1
            elif b[off + _HDR] != msg_type or self._len_at(off) != length:
                # RFC 6347 4.2.3: every fragment of a message carries the same length.
                raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH)
            elif frag_len == 0:
                return ADD_DUPLICATE
        if off < 0:
            # An empty fragment adds nothing unless the message itself is empty.
            if frag_len == 0 and length != 0:
                return ADD_DUPLICATE
            if message_seq != nxt:
                # RFC 6347 4.2.2: future messages may be queued, within our window.
                if message_seq - nxt > self.max_messages or self._cap - self._used < need:
                    return ADD_DROPPED
            elif self._cap - self._used < need:
                self._evict_for(need)
            off = self._new(msg_type, length, message_seq, epoch)
            if length == 0:
                return ADD_OK

        new = self._mark(off, length, frag_offset, frag_len, frag)
        if new == 0:
            return ADD_DUPLICATE
        b = self._buf
        got = ((b[off] << 16) | (b[off + 1] << 8) | b[off + 2]) + new
        b[off] = got >> 16
        b[off + 1] = (got >> 8) & 0xFF
        b[off + 2] = got & 0xFF
        return ADD_OK

    def take(self, message_seq, length):
        """A message that came whole in one fragment (offset 0, all `length` bytes) may
        skip the buffer when it is the one expected next and nothing is held (nothing
        earlier to wait for, nothing later to order it with) and it would fit: then it
        counts as taken, as pop() would have returned it, and True; else False (add() it)."""
        if (message_seq != self.next_seq or self._count
                or _REC + length + ((length + 7) >> 3) > self._cap):   # _rec_size, inline
            return False
        self.next_seq = message_seq + 1
        return True

    def pop(self):
        """(msg_type, message_seq, body, whole) of message next_seq once complete, else
        None.  whole is the 12-byte header rewritten as unfragmented plus the body, the
        transcript input of RFC 6347 4.2.6.  Views stay valid until the next
        add/pop/reset."""
        if not self._count:      # nothing held (a popped one still counts until settled)
            return None
        off = self._gone
        if off >= 0:            # as in add()
            self._gone = -1
            self._remove(off)
        seq = self.next_seq
        off = self._find(seq)
        if off < 0:
            return None
        b = self._buf
        # (few locals, _len_at inline: a frame within 11 words is not heap-allocated on
        # a board, and pop() runs after every handshake record)
        n = (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]
        if ((b[off] << 16) | (b[off + 1] << 8) | b[off + 2]) != n:
            return None
        self._gone = off
        self.next_seq = seq + 1
        off += _HDR                  # the header; the body follows it
        n += off + 12
        return (b[off], seq, b[off + 12:n], b[off:n])
