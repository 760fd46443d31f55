"""A seeded UDP proxy for real-socket loss tests (CPython, 127.0.0.1).

Clients send to `proxy.port`; each client address gets its own upstream socket to
the server, so the server sees one address per client. Every datagram, in either
direction, is dropped, duplicated, held back (reordered behind the next datagram
of the same direction) or delayed according to a xorshift PRNG seeded with
`seed`: the decisions for the n-th datagram depend only on the seed and n.
`drop(data, direction)` (direction 'up' = to the server, 'down' = to the client)
drops chosen datagrams explicitly. Counters: forwarded, dropped, duplicated,
reordered. `rebind()` is a NAT rebinding: each client's datagrams leave from a new
port from then on (counted in `rebinds`). `log` keeps every datagram the proxy took
in, in arrival order, as [arrival time, direction, bytes, dropped, [times a copy was
sent on]] (time.monotonic() seconds): what tools/loss_report.py classifies failures
from."""
import select
import socket
import threading
import time


# The same seeded xorshift as the in-memory network, so a seed means the same
# impairment decisions on both.
from nxsecure.port.memnet import _Prng  # noqa: E402


class UdpProxy:
    def __init__(self, server_addr, seed=1, loss=0, duplicate=0, reorder=0, delay_ms=0,
                 drop=None, host="127.0.0.1"):
        self.server_addr = server_addr
        self.prng = _Prng(seed)
        self.loss, self.duplicate, self.reorder = loss, duplicate, reorder
        self.delay_ms = delay_ms
        self.drop = drop
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((host, 0))
        self.port = self.front.getsockname()[1]
        self.host = host
        self.up = {}            # client addr -> upstream socket
        self.down = {}          # upstream socket -> client addr
        self.held = {"up": None, "down": None}
        self.later = []         # [(due, sock, data, addr, log entry)] delayed datagrams
        self.log = []
        self.forwarded = self.dropped = self.duplicated = self.reordered = 0
        self.rebinds = 0
        self._rebind = False
        self._run = True
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def close(self):
        self._run = False
        self._t.join(2)
        self.front.close()
        for s in self.up.values():
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def rebind(self):
        """NAT rebinding: from the next datagram on, each client's traffic to the server
        leaves from a new port; the old one is closed (what the server sends there is
        lost, as after a NAT mapping changed). Returns once the proxy thread did it."""
        self._rebind = True
        end = time.monotonic() + 2
        while self._rebind and time.monotonic() < end:
            time.sleep(0.001)

    def _do_rebind(self):
        self._rebind = False
        for client, old in list(self.up.items()):
            new = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            new.bind((self.host, 0))
            del self.down[old]
            old.close()
            self.up[client] = new
            self.down[new] = client
            self.rebinds += 1

    def _upstream(self, client):
        s = self.up.get(client)
        if s is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((self.host, 0))
            self.up[client] = s
            self.down[s] = client
        return s

    def _forward(self, sock, data, addr, direction):
        entry = [time.monotonic(), direction, data, False, []]
        self.log.append(entry)
        p = self.prng
        lost = p.chance(self.loss)          # fixed draw order: determinism
        dup = p.chance(self.duplicate)
        hold = p.chance(self.reorder)
        late = p.next() % (self.delay_ms + 1) if self.delay_ms else 0
        if self.drop is not None and self.drop(data, direction):
            lost = True
        if lost:
            entry[3] = True
            self.dropped += 1
            return
        held = self.held[direction]
        if hold and held is None:
            self.held[direction] = (sock, data, addr, entry)
            self.reordered += 1
            return
        self._emit(sock, data, addr, entry, late)
        if dup:
            self.duplicated += 1
            self._emit(sock, data, addr, entry, late)
        if held is not None:
            self.held[direction] = None
            self._emit(*held, late)

    def _emit(self, sock, data, addr, entry, late):
        if late:
            self.later.append((time.monotonic() + late / 1000.0, sock, data, addr, entry))
            return
        try:
            sock.sendto(data, addr)
            self.forwarded += 1
            entry[4].append(time.monotonic())
        except OSError:
            pass

    def _loop(self):
        while self._run:
            if self._rebind:
                self._do_rebind()
            socks = [self.front] + list(self.down)
            # wake for a held datagram (an idle link releases it after 5 ms) or the
            # next delayed one; otherwise only for traffic, and every 50 ms to see
            # close(): a proxy per run, dozens at a time (tools/loss_report.py), must
            # not spin
            wait = 0.05
            if self.held["up"] is not None or self.held["down"] is not None:
                wait = 0.005
            if self.later:
                wait = min(wait, max(0.0, min(x[0] for x in self.later) - time.monotonic()))
            try:
                ready, _, _ = select.select(socks, [], [], wait)
            except (OSError, ValueError):
                return
            for s in ready:
                try:
                    data, addr = s.recvfrom(65535)
                except OSError:
                    continue
                if s is self.front:
                    self._forward(self._upstream(addr), data, self.server_addr, "up")
                else:
                    self._forward(self.front, data, self.down[s], "down")
            now = time.monotonic()
            due = [x for x in self.later if x[0] <= now]
            if due:
                self.later = [x for x in self.later if x[0] > now]
                for _, sock, data, addr, entry in due:
                    self._emit(sock, data, addr, entry, 0)
            if not ready:
                # an idle link releases what it held back
                for d in ("up", "down"):
                    h = self.held[d]
                    if h is not None:
                        self.held[d] = None
                        self._emit(*h, 0)
