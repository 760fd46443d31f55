"""An ECDHE-ECDSA P-256 client handshake on a board, against a CPython server, without a
network: the server's datagrams and the client's random draws are recorded on the host
(bench/mp_client_record.py), then replayed to the same client on the board. Given the
same draws the client sends the same bytes on the board as it did on the host, so the
recorded answers stay valid; the replayer checks each datagram it is sent against the
recording. All time on the board is the client's, and the board loads only this file.

    python bench/mp_client_record.py build/replay.json        # CPython, the server
    # emulated RP2040 (../shared/firmware/rp2040): the .mpy tree, this script, mp_stack
    # and the recording on its flash, then, from the top level (an import adds C stack)
    #   import mp_client_replay; mp_client_replay.main(['x', 'replay', '/replay.json'])
    MICROPYPATH=DIR:bench micropython bench/mp_client_replay.py replay build/replay.json

Prints REPLAY {json}: the handshake's time (emulated time on the RP2040 emulator), what
it allocated net of collections, and what the client did (datagrams sent and received,
retransmissions ignored). --precompile compiles the native code (crypto kernels, P-256)
before the clock starts, as a board would at start-up; without it the first handshake
after a boot pays for that too.
TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, a self-signed P-256 certificate made with pyca
(bench/common.py) that the server presents and the client trusts.
"""
import gc
import sys

IS_MP = sys.implementation.name == "micropython"

try:
    import time
    _us = time.ticks_us
    _diff = time.ticks_diff
except AttributeError:                     # CPython
    import time

    def _us():
        return int(time.perf_counter() * 1000000)

    def _diff(a, b):
        return a - b

SEED = b"nxsecure replay client"
SERVER = ("127.0.0.1", 5684)


def _json():
    try:
        import json
    except ImportError:
        import ujson as json
    return json


def _buffers():
    """The client's caller memory (packet pool, crypto metadata, reassembly, remote
    certificate), made before the stack is imported, as a board program does at boot:
    after the import a board's heap may have no block this large. The last one is a
    reserve for the session's own block, which nx_secure_dtls_session_create makes:
    released just before it."""
    return (bytearray(4 * 1600), bytearray(1024), bytearray(2048), bytearray(1000),
            [bytearray(5000)])


def _client(ca_der, now, bufs):
    """The guide's Figure 1.1 client: a session that trusts ca_der, on its own socket."""
    from nxsecure import (NX_SECURE_DTLS_SESSION, NX_UDP_SOCKET, NXD_ADDRESS, NX_PACKET_POOL,
                          NX_IP, NX_SUCCESS, NX_IP_VERSION_V4, NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                          NX_IP_TIME_TO_LIVE, IP_ADDRESS, NX_PACKET, sizeof,
                          nx_system_initialize, nx_packet_pool_create, nx_ip_create,
                          nx_udp_enable, nx_secure_tls_initialize, nx_udp_socket_create,
                          nx_secure_dtls_session_create,
                          nx_secure_dtls_session_trusted_certificate_add)
    from nxsecure import x509
    from nxsecure.crypto.table import make_tls_crypto
    from nxsecure import port
    x509.nx_secure_x509_time_function_set(lambda: now)
    table = make_tls_crypto(port.crypto_backend(), [0xC0AE])
    md = table.find(0xC0AE).metadata_size
    nx_system_initialize()
    pool = NX_PACKET_POOL()
    pool_mem = bufs[0]
    assert len(pool_mem) >= 4 * (1536 + sizeof(NX_PACKET)) and md <= len(bufs[1])
    nx_packet_pool_create(pool, "pool", 1536, pool_mem, len(pool_mem))
    ip = NX_IP()
    nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool)
    nx_udp_enable(ip)
    nx_secure_tls_initialize()
    s = NX_SECURE_DTLS_SESSION()
    keep = bufs
    keep[4].pop()
    gc.collect()
    st = nx_secure_dtls_session_create(s, table, keep[1], md, keep[2], 2048, 1, keep[3], 1000)
    assert st == NX_SUCCESS, hex(st)
    ca = x509.NX_SECURE_X509_CERT()
    st = x509.nx_secure_x509_certificate_initialize(ca, ca_der, len(ca_der), None, 0, None, 0,
                                                   x509.NX_SECURE_X509_KEY_TYPE_NONE)
    assert st == NX_SUCCESS, hex(st)
    assert nx_secure_dtls_session_trusted_certificate_add(s, ca, 1) == NX_SUCCESS
    sock = NX_UDP_SOCKET()
    nx_udp_socket_create(ip, sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8)
    addr = NXD_ADDRESS()
    addr.nxd_ip_version = NX_IP_VERSION_V4
    addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
    return s, sock, addr, (keep, ca, ip, pool)


def _handshake(session, sock, addr, rounds=4000):
    from nxsecure import (nx_secure_dtls_client_session_start, tx_thread_sleep, NX_NO_WAIT,
                          NX_CONTINUE)
    st = nx_secure_dtls_client_session_start(session, sock, addr, SERVER[1], NX_NO_WAIT)
    for _ in range(rounds):
        if st != NX_CONTINUE:
            break
        tx_thread_sleep(0)
        st = nx_secure_dtls_client_session_start(session, sock, addr, SERVER[1], NX_NO_WAIT)
    return st


# --- replay (the board) -----------------------------------------------------------------

class _Replay:
    """A network (port.use_network) whose one peer is the recording: a datagram the
    client sends must be the next recorded client datagram; the server datagrams that
    followed it in the recording are then queued. A repeat of an earlier client datagram
    (a retransmission while the board was busy) is counted and ignored."""

    def __init__(self, events):
        self.events = events
        self.i = 0                 # next event
        self.sent = []             # client datagrams seen so far
        self.handle = None
        self.retransmits = 0
        self.received = 0
        # the first datagram that differs from the recording: kept here because the
        # exception _sent raises goes to netx's send path, which counts it as a failed
        # send (the client then retransmits or times out) and never shows it
        self.mismatch = None

    def udp_open(self, family, host, port):
        self.handle = _Handle(self, family, port or 49152)
        return self.handle

    def poll(self, handles, timeout_ms):
        # never waits: the recording answers at once, and a board that slept here
        # would add idle time to the handshake's
        return [h for h in handles if getattr(h, "queue", None)]

    def _sent(self, data):
        ev = self.events
        if self.i < len(ev) and ev[self.i][0] == "c" and ev[self.i][1] == data:
            self.sent.append(data)
            self.i += 1
            while self.i < len(ev) and ev[self.i][0] == "s":
                self.handle.queue.append(ev[self.i][1])
                self.received += 1
                self.i += 1
        elif data in self.sent:
            self.retransmits += 1
        else:
            if self.mismatch is None:
                self.mismatch = _difference(len(self.sent), data, self._expected())
            raise AssertionError(self.mismatch)

    def _expected(self):
        """The client datagram the recording has next (None: it has no more)."""
        for who, data in self.events[self.i:]:
            if who == "c":
                return data
        return None


def _difference(n, got, want):
    """Where datagram n (counted from 0) of the client left the recording."""
    if want is None:
        return "datagram %d (%d bytes) is not in the recording (it has no more)" % (n, len(got))
    i = 0
    while i < len(got) and i < len(want) and got[i] == want[i]:
        i += 1
    return ("datagram %d differs from the recording at byte %d (%d bytes sent, %d recorded)"
            % (n, i, len(got), len(want)))


class _Handle:
    net = None
    raises = False

    def __init__(self, net, family, port):
        self.net = net
        self.family = family
        self.port = port
        self.queue = []
        self.owner = None
        self.dropped = 0

    def sendto(self, mv, addr):
        self.net._sent(bytes(mv))
        return len(mv)

    def recvfrom_into(self, mv):
        if not self.queue:
            return 0, None
        d = self.queue.pop(0)
        mv[:len(d)] = d
        return len(d), SERVER

    def close(self):
        pass

    def local_port(self):
        return self.port


def _prepare(path, precompile):
    """The client and its replayed network, set up as a board program would: buffers
    first, then the stack imported and (precompile) its start-up work, then the client.
    -> (session, socket, address, network, kept objects, precompile us, start-up error)."""
    from binascii import unhexlify
    bufs = _buffers()
    with open(path) as f:
        rec = _json().load(f)
    events = [(e[0], unhexlify(e[1])) for e in rec["events"]]
    draws = [unhexlify(d) for d in rec["draws"]]
    draws.reverse()
    ca = unhexlify(rec["ca"])
    now = rec["now"]
    rec = None
    from nxsecure import port

    def recorded(n):
        # the host's draws, in order; a draw of another size means the client left the
        # recording (the datagram check then says where)
        d = draws.pop() if draws else b""
        return d if len(d) == n else bytes(n)
    port.set_random_source(recorded)
    start_up = None
    if precompile:                  # what a board would do at start-up (a boot, once),
        t = _us()                   # while its heap is still in one piece
        try:
            _start_up()
        except MemoryError as e:    # the handshake then imports what is missing itself
            start_up = "MemoryError: %s" % e
        precompile = _diff(_us(), t)
    net = _Replay(events)
    port.use_network(net)
    session, sock, addr, env = _client(ca, now, bufs)
    return session, sock, addr, net, env, precompile, start_up


def _report(run, st, us, free, alloc, peak):
    """Print REPLAY {json} (see the module's text); raise when the run failed."""
    from nxsecure import NX_SUCCESS
    session, net, precompile, start_up = run[0], run[3], run[5], run[6]
    out = {"impl": sys.implementation.name, "status": st, "us": us, "free_before": free,
           "alloc_net_of_gc": alloc, "sent": len(net.sent), "received": net.received,
           "retransmits_ignored": net.retransmits, "complete": net.i == len(net.events),
           "precompile_us": precompile}
    if peak is not None:
        out["c_stack_peak"] = peak
    if start_up is not None:
        out["start_up_failed"] = start_up
    e = getattr(getattr(session, "_engine", None), "last_exception", None)
    if st != NX_SUCCESS and e is not None:      # what the stack caught, if anything
        out["defect"] = "%s: %s" % (type(e).__name__, e)
        if IS_MP:
            sys.print_exception(e)              # where (the traceback it kept)
    if net.mismatch is not None:
        out["mismatch"] = net.mismatch
    try:
        from nxsecure.pk import ec
        out["pk_native"] = ec.native() is not None
    except (ImportError, AttributeError):
        pass
    mismatch = net.mismatch
    # after a run that ran out of heap there may be no block for the whole line: the
    # JSON goes out piece by piece (the client stays registered with the network, so
    # letting go of it here would free nothing)
    e = None
    gc.collect()
    sys.stdout.write("REPLAY ")
    _json().dump(out, sys.stdout)
    sys.stdout.write("\n")
    assert mismatch is None, mismatch
    assert st == NX_SUCCESS, hex(st)


def _start_up():
    """What a board does once at boot with --precompile: compile the native code (crypto
    kernels, P-256), then load the modules the handshake would import on first use (key
    exchange, certificates, the public-key code): an import needs a block as large as
    the module's code, which a heap cut up by the handshake may no longer have."""
    from nxsecure.crypto import kernel
    from nxsecure.pk import ec
    kernel.best()
    ec.native()
    from nxsecure import kx                         # noqa: F401
    from nxsecure.pk import keys, der, hashes       # noqa: F401
    from nxsecure.x509 import cert, verify, names   # noqa: F401
    gc.collect()


def main(argv):
    if len(argv) < 3 or argv[1] != "replay":
        print("usage: mp_client_replay replay RECORDING [--precompile]")
        return 2
    # the handshake is called from here, two frames below the program: the replay adds
    # no Python frame of its own to the C stack the client's handshake runs on
    run = _prepare(argv[2], "--precompile" in argv)
    from mp_stack import stack_paint, stack_peak
    gc.collect()
    free = gc.mem_free() if IS_MP else 0
    m0 = gc.mem_alloc() if IS_MP else 0
    painted = stack_paint()
    t0 = _us()
    st = _handshake(run[0], run[1], run[2])
    us = _diff(_us(), t0)
    peak = stack_peak() if painted else None
    alloc = (gc.mem_alloc() - m0) if IS_MP else 0
    _report(run, st, us, free, alloc, peak)
    return 0


if __name__ == "__main__":
    main(sys.argv)
