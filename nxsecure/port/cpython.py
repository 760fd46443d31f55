"""Port for CPython: monotonic ticks, os.urandom, non-blocking UDP sockets, select (threads: nxsecure/port/__init__.py)."""
import errno
import os
import select
import socket
import time

EADDRINUSE = errno.EADDRINUSE

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

    def __init__(self, sock, family):
        self.sock = sock
        self.family = family
        self.owner = None   # set by the user of the handle (netx: its NX_UDP_SOCKET)
        # The socket's own methods, so select and a send cost no Python frame:
        # select.select takes the handle itself (fileno), and sendto(mv, addr) gives
        # the bytes sent or raises OSError, which its caller (netx) turns into a code.
        self.fileno = sock.fileno
        self.sendto = sock.sendto

    def recvfrom_into(self, mv):
        """(n, addr) for one datagram, (0, None) when none is queued or on error."""
        try:
            return self.sock.recvfrom_into(mv)
        except (BlockingIOError, InterruptedError):
            return 0, None
        except OSError:
            # e.g. ECONNREFUSED reported for an earlier send (ICMP port unreachable)
            return 0, None

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


def poll(handles, timeout_ms):
    """Handles with a datagram queued, waiting up to timeout_ms (< 0: forever)."""
    if not handles:
        sleep_ms(timeout_ms)
        return []
    t = None if timeout_ms < 0 else timeout_ms / 1000
    try:
        r, _, _ = select.select(handles, (), (), t)
    except (OSError, ValueError):
        # a handle closed by another thread while we waited: report nothing ready
        return []
    return r


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
