"""asyncio front end of the Pythonic layer: the stack pumped by the event loop (its sockets watched with add_reader, its timers with call_at), connect() and start_server() with awaitable handshake, send, recv and close (host only)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
# How the loop drives the stack: every bound port handle of the stack (netx tells us
# through netx._on_handle) is watched with loop.add_reader; when one is readable,
# evloop.pump(handle, n, after) reads what is queued straight into pool packets,
# processes it, fires due timers and runs the layer's per-pass work (after), all
# without blocking; it returns the next timer deadline, which one loop.call_at
# covers. Nothing busy-waits and no thread is started. The stack's sockets stay the
# stack's: add_reader on them costs half of what a DatagramProtocol transport does
# (which copies each datagram into a new bytes object of its own), measured with
# bench/pythonic.py. add_reader needs a selector event loop (the default on Linux
# and macOS, and uvloop); the CPython port itself needs select.poll, so no Windows.
#
# One event loop at a time drives the stack (its state is per process): the loop
# that made the last call of this module. Do not call blocking services of the NetX
# API or of nxsecure.api from inside the loop; they would run the stack themselves
# and block the loop meanwhile.
import asyncio

from . import api, evloop, netx
from .api import (DTLSError, DTLSRefused, DTLSTimeout, DEFAULT_PORT, Certificate,  # noqa: F401
                  error_for)

__all__ = ("connect", "start_server", "Server", "Connection", "DTLSError", "DTLSRefused",
           "DTLSTimeout", "Certificate", "error_for", "DEFAULT_PORT")
from .const import NX_NO_WAIT, NX_CONTINUE

# Datagrams read per readable event of a socket: one, as the blocking pump does
# (netx._wait: a poll, a read and no failed read per datagram). A socket with more
# queued is readable again at once (epoll is level-triggered); reading on until the
# queue is empty costs a failed read -- a raised BlockingIOError, about 5 us -- every
# time the queue held one datagram, which is the common case (measured with
# bench/pythonic.py: 10 us per echo round trip).
READ_BURST = 1


class _Driver:
    """The stack's event-loop pump on one loop."""

    def __init__(self, loop):
        self.loop = loop
        self.fds = {}
        self.timer = None
        self.when = 0.0
        self.after = self._after         # bound once: the pump's per-datagram callback
        netx._on_handle[0] = self._handle
        for h in list(netx._handles):
            self._handle(h, True)

    def detach(self):
        if netx._on_handle[0] == self._handle:
            netx._on_handle[0] = None
        if not self.loop.is_closed():
            for fd in self.fds.values():
                self.loop.remove_reader(fd)
            if self.timer is not None:
                self.timer.cancel()
        self.fds = {}
        self.timer = None

    def _handle(self, h, added):
        """netx: a socket was bound (watch it) or is about to be closed (stop)."""
        if self.loop.is_closed():
            self.detach()
            return
        if added:
            try:
                fd = h.fileno()
            except (AttributeError, OSError, ValueError):
                return                   # not an OS socket (nxsecure.port.memnet)
            self.loop.add_reader(fd, self._readable, h)
            self.fds[h] = fd
        else:
            fd = self.fds.pop(h, None)
            if fd is not None:
                self.loop.remove_reader(fd)

    def _readable(self, h):
        self._arm(evloop.pump(h, READ_BURST, self.after))

    def _after(self):
        """End of a pump pass (in the pump): on_data events of the records taken,
        pending handshakes."""
        if api._active or api._events:
            api._service_all()

    def _fire(self):
        self.timer = None
        self._arm(evloop.pump(None, 0, self.after))

    def _arm(self, ms):
        """One loop timer for the stack's earliest deadline (ms from now, -1: none)."""
        t = self.timer
        if ms < 0:
            if t is not None:
                t.cancel()
                self.timer = None
            return
        when = self.loop.time() + (ms + 1) / 1000.0
        if t is not None:
            if self.when <= when:
                return                   # it fires first; the pump re-arms after
            t.cancel()
        self.when = when
        self.timer = self.loop.call_at(when, self._fire)

    def kick(self):
        """After a call outside the pump that may have armed a timer or settled
        something (a handshake start, a server start)."""
        self._arm(evloop.next_deadline_ms())
        if api._active or api._events:
            evloop.pump(None, 0, self._after)


_current = [None]


def _driver():
    loop = asyncio.get_running_loop()
    d = _current[0]
    if d is None or d.loop is not loop:
        if d is not None:
            d.detach()
        d = _current[0] = _Driver(loop)
    return d


# ============================================================================ connection
class Connection(api.DTLSConnection):
    """A DTLS connection on the event loop: `await recv()`, `await send(data)`,
    `await close()`, `async for data in conn`; the negotiated parameters as in
    nxsecure.api.DTLSConnection (cipher_suite, psk_identity, peer_certificate,
    last_alert, max_record_size, ...). Cancelling a recv() leaves the connection as it
    was; asyncio.wait_for(conn.recv(), t) is the timeout."""

    async def recv(self):
        """The next record's data; b'' once the peer closed (close_notify) or the
        connection was closed here; DTLSError if it failed."""
        while True:
            if self._rxq:
                return self._rxq.popleft()
            if self._state == "closed":
                return self._eof()
            if self._waiter is not None:
                raise RuntimeError("another coroutine is already waiting in recv()")
            fut = self._waiter = _current[0].loop.create_future()
            try:
                await fut
            finally:
                if self._waiter is fut:
                    self._waiter = None

    async def send(self, data):
        """Send data as one record (UDP does not block: this never waits). From an
        event callback (a plain function), use send_nowait(data)."""
        self._send(data)

    async def close(self):
        """close_notify, then the session is freed. Idempotent. (From an event
        callback: close_nowait().)"""
        self._close()

    close_nowait = api.DTLSConnection._close

    def __iter__(self):
        raise TypeError("use `async for` on an nxsecure.aio connection")

    def __aiter__(self):
        return self

    async def __anext__(self):
        data = await self.recv()
        if not data and self._state == "closed":
            raise StopAsyncIteration
        return data

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False


async def connect(host, port=DEFAULT_PORT, psk=None, cafile=None, certfile=None, keyfile=None,
                  suites=None, server_hostname=None, mtu=None, keylog=None, timeout=10.0,
                  bind=None, trace=False):
    """Open a DTLS client connection on the running loop: -> Connection once the
    handshake is done. Arguments as nxsecure.api.connect(). Raises DTLSRefused at
    once when nothing listens there, DTLSError with the NetX code (a wrong PSK: the
    peer's alert), asyncio.TimeoutError after `timeout` seconds (None: the stack's own
    handshake timeout, DTLSTimeout). Cancelling it ends the handshake."""
    d = _driver()
    config = api._ClientConfig(psk, cafile, certfile, keyfile, suites, server_hostname, mtu,
                               keylog)
    conn = api._new_client(host, port, config, bind, Connection)
    if trace:
        api._trace(conn)
    st = api._start(conn, NX_NO_WAIT)
    if not api._client_result(conn, st):
        api._active.add(conn)
        d.kick()
        fut = conn._waiter = asyncio.get_running_loop().create_future()
        try:
            if timeout is None:
                await fut
            else:
                await asyncio.wait_for(fut, timeout)
        except BaseException:
            conn._waiter = None
            api._active.discard(conn)
            if conn._state == "handshake":
                s = conn._session
                conn._ended(DTLSTimeout(NX_CONTINUE, "handshake with %s:%d: cancelled or "
                                        "timed out" % conn.address))
                if s is not None:
                    conn._release(s)
            raise
    if conn.error is not None:
        raise conn.error
    return conn


# ============================================================================ server
class Server(api.DTLSServer):
    """A DTLS server on the event loop: nxsecure.api.DTLSServer's events (on_connected,
    on_data, on_disconnected, on_error, on_connection_request, on_client_certificate,
    on_log, connections, send_all, pause/resume), and, like asyncio.start_server, a
    coroutine client_connected_cb(conn) run as a task per connection (the connection
    is closed when it returns)."""

    connection_class = Connection

    def __init__(self, client_connected_cb=None, host=None, port=DEFAULT_PORT, **kwargs):
        api.DTLSServer.__init__(self, host, port, **kwargs)
        self._cb = client_connected_cb
        self._tasks = set()
        self._closed = None

    def start(self):
        d = _driver()
        api.DTLSServer.start(self)
        if self._closed is None or self._closed.done():
            self._closed = d.loop.create_future()
        d.kick()

    def on_connected(self, conn):
        if self._cb is not None:
            t = asyncio.get_running_loop().create_task(self._run(conn))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _run(self, conn):
        try:
            await self._cb(conn)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._log(api.ERROR, "client_connected_cb for %s:%d raised %r" % (
                conn.address + (e,)))
        finally:
            if not conn.closed:
                conn._close()

    def close(self):
        """Stop listening, close every connection (close_notify) and cancel the
        handler tasks."""
        api.DTLSServer.stop(self)
        for t in list(self._tasks):
            t.cancel()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    stop = close

    async def wait_closed(self):
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._closed is not None:
            await self._closed

    async def serve_forever(self):
        """Serve until close() (or cancellation, which closes)."""
        if not self.listening:
            self.start()
        try:
            await self._closed
        except asyncio.CancelledError:
            self.close()
            raise

    async def __aenter__(self):
        if not self.listening:
            self.start()
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()
        return False

    def run(self, seconds):
        raise TypeError("nxsecure.aio.Server runs on the event loop: await serve_forever()")


async def start_server(client_connected_cb=None, host=None, port=DEFAULT_PORT, **kwargs):
    """Start a DTLS server on the running loop: -> Server, listening. Keyword
    arguments as nxsecure.api.DTLSServer (psk={identity: key}, certfile=, keyfile=,
    cafile=, verify_clients=, suites=, mtu=, max_connections=, idle_timeout=, ...)."""
    srv = Server(client_connected_cb, host, port, **kwargs)
    srv.start()
    return srv
