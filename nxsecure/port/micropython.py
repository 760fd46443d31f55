"""Port for MicroPython (boards and the WebAssembly build): time.ticks_*, os.urandom, socket + select.poll."""
import time

try:
    import os
except ImportError:  # pragma: no cover
    os = None
try:
    import errno
except ImportError:  # pragma: no cover - very old builds
    try:
        import uerrno as errno
    except ImportError:
        errno = None
try:
    import socket
except ImportError:  # WebAssembly port: no sockets (use port.use_network(MemoryNetwork()))
    socket = None
try:
    import select
except ImportError:
    select = None

EADDRINUSE = getattr(errno, 'EADDRINUSE', 112)

ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add


def sleep_ms(ms):
    if ms > 0:
        time.sleep_ms(ms)


_urandom = getattr(os, 'urandom', None) if os is not None else None


def platform_random(n):
    """n bytes from the board's hardware RNG; None when the platform has none (WebAssembly)."""
    if _urandom is None:
        return None
    return _urandom(n)


def _addr_tuple(a):
    # Bare-metal ports (lwIP) give ('a.b.c.d', port); the unix port gives a raw
    # struct sockaddr as bytes. Normalise to the CPython tuple shapes.
    if isinstance(a, tuple):
        if len(a) == 2 and ':' in a[0]:
            return (a[0], a[1], 0, 0)
        return a
    b = bytes(a)
    fam = b[0] | (b[1] << 8) if len(b) > 1 else 0
    port = (b[2] << 8) | b[3]
    if fam == 2 or (len(b) == 16 and fam != 10):
        return ('%d.%d.%d.%d' % (b[4], b[5], b[6], b[7]), port)
    groups = [(b[8 + 2 * i] << 8) | b[9 + 2 * i] for i in range(8)]
    return (':'.join('%x' % g for g in groups), port, 0, 0)


_NOTHING = (0, None)        # made once: the MemoryError path must not allocate
_DROP = bytearray(1)


class UdpHandle:
    """One bound, non-blocking UDP socket."""
    net = None              # the platform's network (nxsecure.port.memnet handles name theirs)
    raises = False          # sendto gives a negative errno instead

    def __init__(self, sock, family):
        self.sock = sock
        self.family = family
        self.owner = None
        self._dests = []            # [(address tuple, socket-level address)]
        self.dropped = 0            # datagrams dropped: no heap room to read them
        self._alone = (self,)       # poll's answer when this handle alone is ready
        self._raw = None            # the last datagram's source as the socket gave it,
        self._addr = None           # and as an address tuple

    def sendto(self, mv, addr):
        """Bytes sent, or a negative errno (never raises)."""
        try:
            n = self.sock.sendto(mv, self._resolve(addr))
            return len(mv) if n is None else n
        except OSError as e:
            return -(e.args[0] if e.args and isinstance(e.args[0], int) else 1)

    def _resolve(self, addr):
        """The socket-level address for addr: bare-metal ports take ('a.b.c.d', port),
        the unix port a struct sockaddr; getaddrinfo gives whichever the build wants.
        A few are kept, so sending to a known peer resolves (allocates) nothing."""
        cache = self._dests
        for i in range(len(cache)):
            if cache[i][0] == addr:
                return cache[i][1]
        try:
            a = socket.getaddrinfo(addr[0], addr[1], 0, socket.SOCK_DGRAM)[0][-1]
        except TypeError:   # getaddrinfo without the family/type arguments
            a = socket.getaddrinfo(addr[0], addr[1])[0][-1]
        if len(cache) >= 8:
            cache.pop(0)
        cache.append((addr, a))
        return a

    def recvfrom_into(self, mv):
        """(n, addr) for one datagram, (0, None) when none is queued.
        MicroPython sockets have no recvfrom_into: recvfrom allocates the datagram
        once and we copy it into the caller's buffer (the one allocation per
        datagram on boards). It first takes a block of len(mv) bytes and shrinks it
        to the datagram: on a heap too fragmented for that block it raises
        MemoryError, and the datagram is then read into one preallocated byte,
        which drops it (a datagram left queued would be polled again at once);
        self.dropped counts these. Never raises."""
        try:
            data, a = self.sock.recvfrom(len(mv))
        except OSError:
            return _NOTHING
        except MemoryError:
            self.dropped += 1
            try:
                self.sock.readinto(_DROP)
            except (OSError, MemoryError, AttributeError):
                pass
            return _NOTHING
        n = len(data)
        mv[:n] = data
        if a != self._raw:                  # a peer's sockaddr is converted once
            try:
                addr = _addr_tuple(a)
            except MemoryError:             # the datagram is already read: drop it
                self.dropped += 1
                return _NOTHING
            self._raw = a
            self._addr = addr
        return n, self._addr

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def local_port(self):
        try:
            a = self.sock.getsockname()   # absent on some ports
        except (AttributeError, OSError):
            return self._bound_port
        return _addr_tuple(a)[1]


def udp_open(family, host, port):
    """A bound non-blocking UDP handle; raises OSError on failure."""
    if socket is None:
        raise OSError(95)   # EOPNOTSUPP: this build has no sockets
    if family == 6:
        af = getattr(socket, 'AF_INET6', None)
        if af is None:
            raise OSError(97)   # EAFNOSUPPORT
        host = host or '::'
    else:
        af = socket.AF_INET
        host = host or '0.0.0.0'
    s = socket.socket(af, socket.SOCK_DGRAM)
    try:
        if port:
            _bind(s, host, port, af)
        else:
            # Several ports have no getsockname, so a socket bound to port 0 could
            # not tell its port: pick an ephemeral one ourselves (RFC 6335 6).
            for _ in range(16):
                r = _urandom(2) if _urandom else b"%c%c" % (time.ticks_ms() & 0xFF, _ & 0xFF)
                port = 49152 + (((r[0] << 8) | r[1]) & 0x3FFF)
                try:
                    _bind(s, host, port, af)
                    break
                except OSError as e:
                    if not e.args or e.args[0] != EADDRINUSE:
                        raise
            else:
                raise OSError(EADDRINUSE)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    h = UdpHandle(s, family)
    h._bound_port = port
    return h


def _bind(s, host, port, af):
    try:
        s.bind(socket.getaddrinfo(host, port, af, socket.SOCK_DGRAM)[0][-1])
    except TypeError:   # getaddrinfo without the family argument
        s.bind(socket.getaddrinfo(host, port)[0][-1])


_poller = None
_registered = []


def poll(handles, timeout_ms):
    """Handles with a datagram queued (a tuple or list), waiting up to timeout_ms
    (< 0: forever)."""
    global _poller
    if not handles or select is None:
        sleep_ms(timeout_ms)
        return ()
    if _poller is None:
        _poller = select.poll()
    # keep the one poller's registrations equal to `handles` (no new poller per call)
    i = 0
    while i < len(_registered):
        h = _registered[i]
        if h not in handles:
            try:
                _poller.unregister(h.sock)
            except (OSError, KeyError, ValueError):
                pass
            _registered.pop(i)
        else:
            i += 1
    for h in handles:
        if h not in _registered:
            _poller.register(h.sock, select.POLLIN)
            _registered.append(h)
    # ipoll reuses one event tuple, and one ready handle (the usual case) is answered
    # with that handle's own 1-tuple: a wait allocates nothing here
    ready = ()
    try:
        for ev in _poller.ipoll(timeout_ms):
            h = _handle_of(ev[0], handles)
            if h is None:
                continue
            if not ready:
                ready = h._alone
            elif type(ready) is tuple:
                ready = [ready[0], h]
            else:
                ready.append(h)
    except OSError:
        return ()
    return ready


def _handle_of(sock, handles):
    for h in handles:
        if h.sock is sock:
            return h
    return None


def crypto_backend():
    """The modes of nxsecure.crypto over cryptolib's AES (C) where the firmware has it
    with ECB and CBC and it passes the start-up check, else over the pure-Python AES;
    with the access to hash states that the PRF and the transcript use where the
    firmware's hashlib allows it (nxsecure/port/hash_state.py).
    (CTR mode, where built, is not used: a cryptolib object's counter cannot be reset,
    so each record would need a new object.)"""
    import hashlib
    from nxsecure.crypto import portable_backend, kernel, prf_saved
    from nxsecure.port import hash_state
    view = hash_state.view_maker(hashlib.sha256, prf_saved.viewer)
    kernel.forget(hash_state)           # its check done: nothing of it is kept
    if view is None:
        kernel.forget(prf_saved)
    try:
        import cryptolib
    except ImportError:
        try:
            import ucryptolib as cryptolib
        except ImportError:
            cryptolib = None
    if cryptolib is not None:
        from nxsecure.crypto import engine
        works = engine.engine_works(cryptolib.aes)
        kernel.forget(engine)
        if works:
            return portable_backend(cryptolib.aes, view)
    return portable_backend(None, view)


def pk_backend():
    """Public-key operations for the certificate suites: the pure-Python ones."""
    from nxsecure.pk import portable_pk_backend
    return portable_pk_backend()


# A board has no trustworthy clock until NTP: certificate validity is then reported
# as unknown (NX_SECURE_X509_NO_TIME_SOURCE) unless the application installs a time
# function with nx_secure_x509_time_function_set.
time_source = None
