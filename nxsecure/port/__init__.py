"""Platform port: picks cpython or micropython by sys.implementation.name and re-exports one small interface."""
import sys
# nxsecure.const is imported lazily (in random_into): nxsecure/__init__ imports netx,
# which imports this package, so a top-level import here would be circular.

sys_name = sys.implementation.name      # 'micropython' or 'cpython'
if sys_name == 'micropython':
    from . import micropython as _impl
else:
    from . import cpython as _impl

ticks_ms = _impl.ticks_ms
ticks_diff = _impl.ticks_diff
ticks_add = _impl.ticks_add
sleep_ms = _impl.sleep_ms
crypto_backend = _impl.crypto_backend
pk_backend = _impl.pk_backend
time_source = _impl.time_source
EADDRINUSE = _impl.EADDRINUSE


def loaded():
    """Called when code has just loaded on first use (the package's core, the server, a
    session role). On MicroPython: collect now. Its .mpy loader allocates a one-block
    record for each function, after the function's bytecode, and the function object
    made when the module runs does not keep it, so every function loaded leaves a
    garbage block between blocks that stay. Collected later (an application's own
    collection, or the next automatic one) they are hundreds of one-block holes in the
    low heap, and every allocation of two blocks or more (a hash object, a call frame of
    more than 11 words) first walks past them from the lowest one (the allocator's first
    fit): on an RP2040 ~0.3 ms for each early in a handshake. Collected now, what is
    allocated next (the rest of the import, the application's set-up) fills them. A
    collection takes ~17 ms on an RP2040 with the stack loaded: once per load, at
    start-up (docs/BOARDS.md, "Sixth round")."""
    if sys_name == 'micropython':
        import gc
        gc.collect()


def load(name, first=False):
    """The module `name` (a submodule's full name), imported on first use and then
    followed by loaded(); with `first`, collected before too, so that a large module's
    code fills the heap's holes rather than its large free blocks (the server)."""
    m = sys.modules.get(name)
    if m is None:
        if first:
            loaded()
        m = __import__(name, None, None, ("*",))
        loaded()
    return m


# --- threads: the platform's, or single-thread stand-ins -------------------------
try:
    import _thread                 # the same module on CPython and MicroPython builds
except ImportError:                # with threads (ESP32, RP2040, unix)
    _thread = None

if _thread is not None:
    allocate_lock = _thread.allocate_lock
    get_ident = _thread.get_ident
    start_new_thread = _thread.start_new_thread
    HAS_THREADS = True
else:
    # made only where there are no threads: a class costs heap at import
    class _DummyLock:
        """Lock for builds without threads: never contended, so acquire always succeeds."""

        def __init__(self):
            self._held = False

        def acquire(self, waitflag=1, timeout=-1):
            self._held = True
            return True

        def release(self):
            self._held = False

        def locked(self):
            return self._held

        def __enter__(self):
            self.acquire()
            return self

        def __exit__(self, *a):
            self.release()

    def _dummy_get_ident():
        return 1

    allocate_lock = _DummyLock
    get_ident = _dummy_get_ident
    start_new_thread = None
    HAS_THREADS = False


# --- secure random ---------------------------------------------------------------
_random_source = None
_random_ok = False      # the platform's source passed its start-up check (port/rngcheck.py)


def set_random_source(fn):
    """Install fn(n) -> n bytes from a cryptographically secure source; it takes
    precedence over the platform's (and is not health-checked: it is the
    application's). None removes it."""
    global _random_source
    _random_source = fn


def random_into(buf):
    """Fill buf (bytearray / writable memoryview) with secure random bytes.
    Raises NxError(NX_SECURE_TLS_NO_RANDOM_SOURCE) when there is none, or when the
    platform's fails its start-up health check (nxsecure/port/rngcheck.py: e.g. an
    emulator whose os.urandom returns constant bytes); never falls back to the
    non-cryptographic `random` module."""
    n = len(buf)
    if n == 0:
        return
    src = _random_source
    data = None
    if src is not None:
        data = src(n)
    else:
        if not _random_ok:
            from nxsecure.port import rngcheck     # once, on first use (sets _random_ok)
            rngcheck.platform_random_check()
        if _random_ok:
            data = _impl.platform_random(n)
    if data is None or len(data) != n:
        from nxsecure.const import NX_SECURE_TLS_NO_RANDOM_SOURCE, NxError
        raise NxError(NX_SECURE_TLS_NO_RANDOM_SOURCE)
    buf[:] = data


# --- UDP: the platform's sockets, or an in-memory network ------------------------
_net = None


def use_network(net):
    """Route udp_open/poll through net (a nxsecure.port.memnet.MemoryNetwork); None restores
    the platform's sockets. Handles already open keep their network."""
    global _net
    _net = net


def network():
    return _net


def udp_open(family, host, port):
    """A bound, non-blocking UDP handle: .sendto(mv, addr) (bytes sent; a negative
    errno on failure, or an OSError unless the handle's class says .raises = False),
    .recvfrom_into(mv), .close(), .local_port(),
    .net (None, or the nxsecure.port.memnet network it belongs to). Raises OSError when the
    bind fails."""
    if _net is not None:
        return _net.udp_open(family, host, port)
    return _impl.udp_open(family, host, port)


def poll(handles, timeout_ms):
    """The handles with a datagram queued, waiting at most timeout_ms (< 0: no limit).
    Only handles of the network in use are polled: sockets an application left open on
    another network (an in-memory one it has switched away from) are not reachable."""
    net = _net
    for h in handles:
        if h.net is not net:
            # only then a filtered copy: the usual case allocates no list
            handles = [x for x in handles if x.net is net]
            break
    if net is not None:
        return net.poll(handles, timeout_ms)
    return _impl.poll(handles, timeout_ms)
