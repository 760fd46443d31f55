"""Port for CPython: monotonic ticks, os.urandom, non-blocking UDP sockets, poll (threads: nxsecure/port/__init__.py)."""
import errno
import os
import select
import socket
import threading
import time

EADDRINUSE = errno.EADDRINUSE
ECONNREFUSED = errno.ECONNREFUSED

_T0 = time.monotonic()
_TICKS_PERIOD = 1 << 30          # same wrap as MicroPython's time.ticks_ms()
_TICKS_HALF = _TICKS_PERIOD >> 1


def ticks_ms():
    return int((time.monotonic() - _T0) * 1000) & (_TICKS_PERIOD - 1)


def ticks_diff(a, b):
    """a - b, signed, wrap-around safe (like MicroPython's time.ticks_diff)."""
    return ((a - b + _TICKS_HALF) & (_TICKS_PERIOD - 1)) - _TICKS_HALF


def ticks_add(t, delta):
    return (t + delta) & (_TICKS_PERIOD - 1)


def sleep_ms(ms):
    if ms > 0:
        time.sleep(ms / 1000)


def platform_random(n):
    return os.urandom(n)


class UdpHandle:
    """One bound, non-blocking UDP socket."""
    net = None              # the platform's network (nxsecure.port.memnet handles name theirs)
    raises = True           # sendto is the socket's own: it raises OSError

    def __init__(self, sock, family):
        self.sock = sock
        self.family = family
        self.owner = None   # set by the user of the handle (netx: its NX_UDP_SOCKET)
        self.refused = 0    # ICMP port unreachable reports (connected sockets)
        # The socket's own methods, so select and a send cost no Python frame:
        # select.select takes the handle itself (fileno), and sendto(mv, addr) gives
        # the bytes sent or raises OSError, which its caller (netx) turns into a code.
        self.fileno = sock.fileno
        self.sendto = sock.sendto

    def recvfrom_into(self, mv):
        """(n, addr) for one datagram, (0, None) when none is queued or on error.
        ECONNREFUSED -- an ICMP port unreachable came back for an earlier send of a
        connected socket (connect()) -- goes to the owner's _dtls_error(errno) hook."""
        try:
            return self.sock.recvfrom_into(mv)
        except (BlockingIOError, InterruptedError):
            return 0, None
        except ConnectionRefusedError:
            self._refused()
            return 0, None
        except OSError:
            return 0, None

    def connect(self, addr):
        """Connect the socket to addr (netx._udp_connect; raises OSError): the OS
        drops datagrams from other sources and reports an ICMP port unreachable from
        addr as ECONNREFUSED on the next receive or send, which goes to the owner's
        _dtls_error hook. Sends to addr then use send(): BSD kernels refuse sendto()
        with an address on a connected socket."""
        self.sock.connect(addr)
        self._peer = addr
        self.sendto = self._sendto_connected

    def _sendto_connected(self, mv, addr):
        try:
            if addr == self._peer:
                return self.sock.send(mv)
            return self.sock.sendto(mv, addr)
        except ConnectionRefusedError:
            self._refused()
            return -ECONNREFUSED

    def _refused(self):
        self.refused += 1
        fn = getattr(self.owner, "_dtls_error", None)
        if fn is not None:
            try:
                fn(ECONNREFUSED)
            except Exception:        # a hook must not break the pump
                pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def local_port(self):
        return self.sock.getsockname()[1]


def udp_open(family, host, port):
    """A bound non-blocking UDP handle; raises OSError (e.g. EADDRINUSE) on failure."""
    if family == 6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        if not host:
            host = '::'
        addr = (host, port, 0, 0)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if not host:
            host = '0.0.0.0'
        addr = (host, port)
    try:
        if family == 6:
            try:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            except (OSError, AttributeError):
                pass
        s.bind(addr)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return UdpHandle(s, family)


_POLLIN = getattr(select, "POLLIN", 1)


class _Poller:
    """select.poll over the bound handles, one per thread (several threads may wait
    at once): no FD_SETSIZE limit -- select() refuses descriptors above 1023, so a
    process with a thousand client sockets would see nothing ready, forever.
    Registrations follow the handle list the caller passes; they are redone only
    when the list changed."""

    def __init__(self):
        self.p = select.poll()
        self.by_fd = {}
        self.snapshot = []

    def sync(self, handles):
        if handles == self.snapshot:
            return
        for fd in self.by_fd:
            try:
                self.p.unregister(fd)
            except (KeyError, OSError, ValueError):
                pass
        self.by_fd = {}
        self.snapshot = list(handles)
        for h in handles:
            try:
                fd = h.fileno()
            except (OSError, ValueError):        # closed meanwhile
                continue
            if fd >= 0:
                self.p.register(fd, _POLLIN)
                self.by_fd[fd] = h


_local = threading.local()


def poll(handles, timeout_ms):
    """Handles with a datagram queued, waiting up to timeout_ms (< 0: forever)."""
    if not handles:
        sleep_ms(timeout_ms)
        return []
    p = getattr(_local, "poller", None)
    if p is None:
        p = _local.poller = _Poller()
    try:
        p.sync(handles)
        events = p.p.poll(None if timeout_ms < 0 else timeout_ms)
    except (OSError, ValueError):
        # a handle closed by another thread while we waited: report nothing ready
        p.snapshot = []
        return []
    by_fd = p.by_fd
    return [by_fd[fd] for fd, ev in events if fd in by_fd]


def crypto_backend():
    from .crypto_pyca import pyca_backend
    return pyca_backend()


def pk_backend():
    """Public-key operations for the certificate suites: pyca `cryptography`."""
    from .pk_pyca import pyca_pk_backend
    return pyca_pk_backend()


def time_source():
    """Seconds since 1970 for certificate validity: the host's clock is trusted."""
    import time
    return int(time.time())
