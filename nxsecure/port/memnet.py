"""In-memory UDP network: deterministic delivery (optionally lossy, duplicating, reordering from a seed) for tests and socket-less builds."""
try:
    import errno
    _EADDRINUSE = errno.EADDRINUSE
except (ImportError, AttributeError):  # pragma: no cover
    _EADDRINUSE = 98

import time

if hasattr(time, 'ticks_ms'):
    _ticks_ms = time.ticks_ms
    _ticks_diff = time.ticks_diff
    _sleep_ms = time.sleep_ms
else:
    def _ticks_ms():
        return int(time.monotonic() * 1000)

    def _ticks_diff(a, b):
        return a - b

    def _sleep_ms(ms):
        time.sleep(ms / 1000)

_EPHEMERAL_FIRST = 49152
_WILD = ('', '0.0.0.0', '::')
_LOOPBACK = ('127.0.0.1', 'localhost', '::1')
_POLL_SLICE_MS = 2     # how often a waiting poll looks for datagrams sent by other threads


class _Prng:
    """xorshift32: deterministic impairment decisions from a seed (not for secrets)."""

    def __init__(self, seed):
        self.s = (seed or 0x9E3779B9) & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def chance(self, permille):
        return permille > 0 and (self.next() % 1000) < permille


class MemHandle:
    """A bound in-memory UDP endpoint with the port handle interface."""
    raises = False          # sendto never raises (a drop hook's error is a failed send)
    # defaults in the class: an instance's attribute table grows by reallocation as
    # attributes are added (two at a time, MicroPython), each one an allocation that on
    # a board walks the heap; these three are written later, if ever
    closed = False
    owner = None
    _route = None           # (addr, handle) of the last send's open destination

    def __init__(self, net, family, host, port):
        self.net = net
        self.family = family
        self.host = host
        self.port = port
        self.queue = []          # [(bytes, src_addr)], oldest first
        # the address peers see as this endpoint's source, made once
        if family == 6:
            self._src = (host if host and host != '::' else '::1', port, 0, 0)
        else:
            self._src = (host if host and host != '0.0.0.0' else '127.0.0.1', port)

    def address(self):
        """The address peers see as this endpoint's source."""
        return self._src

    def sendto(self, mv, addr):
        if self.closed:
            return -9   # EBADF
        net = self.net
        mv = bytes(mv)           # the datagram: the caller's buffer is reused at once
        r = self._route
        if r is None or r[0] != addr or r[1].closed:
            r = self._lookup(addr)
        if net.capture or net.loss or net.duplicate or net.reorder or net.held or \
                net.drop is not None:
            return net._send_hooked(self._src, mv, r)
        elif r[1] is None:
            net.dropped += 1     # no listener: the datagram is silently lost, as UDP
        else:
            r[1].queue.append((mv, self._src))
            net.delivered += 1
        return len(mv)

    def _lookup(self, addr):
        """-> (addr, the handle listening there or None); kept for the next send when
        found: handles are only appended, and a closed one never reopens, so the first
        match stays the first while it is open."""
        r = (addr, self.net._find(6 if len(addr) == 4 else 4, addr[0], addr[1]))
        if r[1] is not None:
            self._route = r
        return r

    def recvfrom_into(self, mv):
        if not self.queue:
            return 0, None
        data, src = self.queue.pop(0)
        n = len(data)
        if n > len(mv):      # a real UDP socket truncates too
            n = len(mv)
        mv[:n] = data[:n] if n < len(data) else data
        return n, src

    def close(self):
        if not self.closed:
            self.closed = True
            self.queue = []
            self.net._unbind(self)

    def local_port(self):
        return self.port


class MemoryNetwork:
    """A deterministic in-memory UDP network.

    Impairments (per mille, decided by a xorshift PRNG seeded with `seed`, so a
    given seed always drops/duplicates/reorders the same datagrams):
      loss      - the datagram vanishes
      duplicate - the datagram is delivered twice
      reorder   - the datagram is held back and delivered after the next datagram
                  to the same destination (or when the network is next idle)
    `drop(data, src, dst) -> bool`, if set, drops chosen datagrams explicitly.
    With capture=True every datagram sent is appended to `captured` as
    (src_addr, dst_addr, bytes) before impairments apply; `delivered` and
    `dropped` count what happened.
    """

    def __init__(self, seed=0, loss=0, duplicate=0, reorder=0, drop=None, capture=False):
        self.prng = _Prng(seed)
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.drop = drop
        self.capture = capture
        self.captured = []
        self.handles = []
        self.held = []           # [(handle, bytes, src)] reordered datagrams
        self.delivered = 0
        self.dropped = 0
        self._next_port = _EPHEMERAL_FIRST

    # --- port interface ------------------------------------------------------------
    def udp_open(self, family, host, port):
        if family not in (4, 6):
            raise OSError(97)    # EAFNOSUPPORT
        if port == 0:
            port = self._free_port(family)
        elif self._find(family, host, port, True) is not None:
            raise OSError(_EADDRINUSE)
        h = MemHandle(self, family, host, port)
        self.handles.append(h)
        return h

    def poll(self, handles, timeout_ms):
        """Ready handles at once if any; else wait (real time, in small slices so
        other threads' datagrams are seen) up to timeout_ms (< 0: no limit)."""
        ready = self._ready(handles)
        if ready or timeout_ms == 0:
            return ready
        if self.held:
            self._release_held(None)
            ready = self._ready(handles)
            if ready:
                return ready
        start = _ticks_ms()
        while True:
            left = _POLL_SLICE_MS
            if timeout_ms > 0:
                left = timeout_ms - _ticks_diff(_ticks_ms(), start)
                if left <= 0:
                    return ready
                if left > _POLL_SLICE_MS:
                    left = _POLL_SLICE_MS
            _sleep_ms(left)
            ready = self._ready(handles)
            if ready:
                return ready

    # --- helpers -------------------------------------------------------------------
    def _ready(self, handles):
        ready = []
        for h in handles:
            if h.queue:
                ready.append(h)
        return ready

    # (index loops below: a `for` keeps a 4-word iterator on the frame; within 11 words
    # MicroPython keeps a frame on the C stack, past them it allocates it on the heap,
    # and on a board an allocation of more than one block walks the heap)
    def _free_port(self, family):
        n = 65536 - _EPHEMERAL_FIRST
        while n:
            n -= 1
            p = self._next_port
            self._next_port = p + 1 if p < 65535 else _EPHEMERAL_FIRST
            if self._find(family, None, p, True) is None:
                return p
        raise OSError(_EADDRINUSE)

    def _find(self, family, host, port, for_bind=False):
        handles = self.handles
        i = 0
        while i < len(handles):
            h = handles[i]
            i += 1
            if h.family != family or h.port != port or h.closed:
                continue
            if for_bind or host is None or h.host in _WILD or host in _WILD or h.host == host \
                    or h.host in _LOOPBACK and host in _LOOPBACK:
                return h
        return None

    def _unbind(self, h):
        if h in self.handles:
            self.handles.remove(h)
        i = 0
        while i < len(self.held):
            if self.held[i][0] is h:
                self.held.pop(i)
            else:
                i += 1

    def _send_hooked(self, src, data, route):
        """_send, with a test's drop hook that raises taken as a failed send (-1): a
        handle's sendto never raises (its class says raises = False)."""
        try:
            self._send(src, data, route)
        except Exception:
            return -1
        return len(data)

    def _send(self, src, data, route):
        """A datagram through the capture and the impairments; route: (addr, the
        handle listening there or None)."""
        addr, dst = route
        if self.capture:
            self.captured.append((src, addr, data))
        prng = self.prng
        # decisions are drawn in a fixed order for every datagram: determinism
        lost = prng.chance(self.loss)
        dup = prng.chance(self.duplicate)
        hold = prng.chance(self.reorder)
        if self.drop is not None and self.drop(data, src, addr):
            lost = True
        if dst is None or lost:
            self.dropped += 1      # no listener: the datagram is silently lost, as UDP
            return
        if hold:
            self.held.append((dst, data, src))
            if dup:
                self._deliver(dst, data, src)
            return
        self._deliver(dst, data, src)
        if dup:
            self._deliver(dst, data, src)
        self._release_held(dst)

    def _deliver(self, dst, data, src):
        if not dst.closed:
            dst.queue.append((data, src))
            self.delivered += 1

    def _release_held(self, dst):
        i = 0
        held = self.held
        while i < len(held):
            h, data, src = held[i]
            if dst is None or h is dst:
                held.pop(i)
                self._deliver(h, data, src)
            else:
                i += 1

