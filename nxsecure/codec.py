"""Reader and writer over memoryviews for TLS/DTLS wire structures (RFC 5246 4)."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x
from .const import NxError, NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH
_AD_DECODE_ERROR = const(50)


def _short():
    # Every buffer underrun or inconsistent length becomes decode_error here,
    # in one place (RFC 5246 7.2.2).
    return NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)


class Reader:
    """Reads big-endian fields from mv[pos:end]; raises NxError on underrun."""

    def __init__(self, mv, pos=0, end=None):
        self.mv = mv
        self.pos = pos
        self.end = len(mv) if end is None else end

    def left(self):
        return self.end - self.pos

    def u8(self):
        p = self.pos
        if p >= self.end:
            raise _short()
        self.pos = p + 1
        return self.mv[p]

    def u16(self):
        p = self.pos
        if p + 2 > self.end:
            raise _short()
        self.pos = p + 2
        m = self.mv
        return (m[p] << 8) | m[p + 1]

    def u24(self):
        p = self.pos
        if p + 3 > self.end:
            raise _short()
        self.pos = p + 3
        m = self.mv
        return (m[p] << 16) | (m[p + 1] << 8) | m[p + 2]

    def take(self, n):
        """The next n bytes as a memoryview (no copy)."""
        p = self.pos
        if n < 0 or p + n > self.end:
            raise _short()
        self.pos = p + n
        return self.mv[p:p + n]

    def vec8(self):
        return self.take(self.u8())

    def vec16(self):
        return self.take(self.u16())

    def sub16(self):
        """A Reader over the next u16-length-prefixed block; this reader skips it."""
        n = self.u16()
        p = self.pos
        if p + n > self.end:
            raise _short()
        self.pos = p + n
        return Reader(self.mv, p, p + n)

    def done(self):
        """The block must be consumed exactly."""
        if self.pos != self.end:
            raise _short()


def put_u24(mv, off, v):
    """A big-endian 24-bit field at mv[off:off + 3]."""
    mv[off] = (v >> 16) & 0xFF
    mv[off + 1] = (v >> 8) & 0xFF
    mv[off + 2] = v & 0xFF


class Writer:
    """Writes big-endian fields into a preallocated buffer at pos."""

    def __init__(self, mv, pos=0):
        self.mv = mv
        self.pos = pos

    def u8(self, v):
        self.mv[self.pos] = v & 0xFF
        self.pos += 1

    def u16(self, v):
        p = self.pos
        self.mv[p] = (v >> 8) & 0xFF
        self.mv[p + 1] = v & 0xFF
        self.pos = p + 2

    def u24(self, v):
        put_u24(self.mv, self.pos, v)
        self.pos += 3

    def put(self, data):
        n = len(data)
        p = self.pos
        self.mv[p:p + n] = data
        self.pos = p + n

    def vec8(self, data):
        self.u8(len(data))
        self.put(data)

    def vec16(self, data):
        self.u16(len(data))
        self.put(data)

    def begin16(self):
        """Reserve a u16 length; returns a mark for end16()."""
        mark = self.pos
        self.pos += 2
        return mark

    def end16(self, mark):
        n = self.pos - mark - 2
        self.mv[mark] = (n >> 8) & 0xFF
        self.mv[mark + 1] = n & 0xFF

    def begin24(self):
        mark = self.pos
        self.pos += 3
        return mark

    def end24(self, mark):
        put_u24(self.mv, mark, self.pos - mark - 3)
