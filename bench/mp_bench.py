"""Handshake and record costs inside one interpreter over the in-memory network. Runs on
MicroPython (the WebAssembly build under Node, the 32-bit unix port, the real rp2 firmware
on the emulated RP2040) and on CPython (same code, for the ratios). Prints one line:
MPBENCH {json}.

    node tools/mp_run.js --seed-random bench/mp_bench.py [--suite ccm8|gcm] [--records 100]
    python bench/mp_bench.py
    (bench/run.py runs these; bench/boards.py compiles it with mpy-cross and imports it on
    the 32-bit unix port and on the emulated RP2040, after sys.argv[:] = [...])

options:
  --suite ccm8|gcm|ecdsa  TLS_PSK_WITH_AES_128_CCM_8 (default), _GCM_SHA256, or
                          TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (a handshake only; --cert is a
                          self-signed P-256 certificate (DER, hex) the server presents and
                          the client trusts, --key its SEC 1 key, --now a time inside its
                          validity; bench/run.py makes them with pyca)
  --records N             records (and send+receive pairs) timed, default 100; 0: the
                          handshake only
  --size N                application payload, default 100 bytes
  --aes python|platform   python (default): the pure-Python AES everywhere, for the
                          interpreter ratios; platform: the port's choice (cryptolib where
                          the firmware has it, as a board application gets)
  --meter time|heap       time (default): times only, the collector running as it would
                          in an application; heap: what each part allocates, the collector
                          held while it runs (no times: gc.mem_alloc() walks the whole heap,
                          milliseconds on a board, so the two are never measured together)
  --fragment              also time records and pairs on a fragmented heap (below)
  --import                only measure `import nxsecure` (heap it leaves live, time);
                          must be the first thing in a fresh interpreter
  --layout N              leave N small objects live before the caller memory is
                          reserved: the same run with another heap layout (the
                          allocator's first-fit holes move; on the emulated RP2040 that
                          alone moves the handshake's time by several ms, so make bench
                          gives the handshake's mean over several layouts)
  --pre N                 leave N small objects live before the stack is imported (and
                          the garbage of the list that holds them): the same run with
                          another layout of the loaded code, which a change to the code's
                          size also moves; a mean over several N tells a change's own
                          effect from the layout it happened to get
  --fill N                a diagnosis, not a figure: right before the handshake, after
                          its collection, make N live one-block objects: they take the
                          lowest one-block holes, which every larger allocation
                          otherwise walks past (MicroPython's first fit); the difference
                          to a run without is what the handshake's allocations cost in
                          the allocator
  --heapmap               a diagnosis, not a figure: print the allocator's map
                          (micropython.mem_info(1)) right before the handshake, after
                          its collection; tools/heap_holes.py reads it
  --seed-random           install tools/mp_test_runner.py's TEST-ONLY deterministic random
                          source (the emulated RP2040's os.urandom is refused)

The server's session is started from the pump loop after connect_notify has queued it
(the guide's Figure 1.2 shape, as boards/common/dtls_echo_server.py does), so that each
side's time is its own.

Caller memory (packet pool, session, metadata and reassembly buffers) goes into room
reserved before the stack is loaded, largest first, as a C program's static memory. Heap figures
(MicroPython only, --meter heap) are gc.mem_alloc() deltas with the collector held: what
a part allocated (for the handshake: an upper bound on its peak above the caller's
buffers). Clean heap: timed right after a collection. Fragmented heap: after 300 small
blocks were left live between 300 freed ones, so the allocator's
first-fit search has holes to walk (MicroPython ports without a Python stack put large
call frames on the heap, so calls allocate even where the stack's own code does not).
"""
import sys
import gc

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

IS_MP = sys.implementation.name == "micropython"
if not IS_MP:
    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mem():
    if IS_MP:
        return gc.mem_alloc()
    return 0


def no_mem():
    return 0


try:
    import json     # now: at the end of a run that ran out of heap there may be no room
except ImportError:
    import ujson as json


def json_dumps(v):
    gc.collect()
    return json.dumps(v)


def parse(argv):
    opt = {"suite": "ccm8", "records": 100, "size": 100, "cert": None, "key": None, "now": 0,
           "aes": "python", "meter": "time", "fragment": False, "import": False,
           "seed-random": False, "layout": 0, "fill": 0, "heapmap": False, "pre": 0}
    i = 1
    while i < len(argv):
        k = argv[i][2:]
        if k in ("fragment", "import", "seed-random", "heapmap"):
            opt[k] = True
            i += 1
            continue
        v = argv[i + 1]
        opt[k] = int(v) if k in ("records", "size", "now", "layout", "fill", "pre") else v
        i += 2
    return opt


def measure_import():
    """`import nxsecure` in a fresh interpreter: bytes it leaves live, and its time."""
    gc.collect()
    m0 = mem()
    t0 = _us()
    import nxsecure         # noqa: F401  (what is measured)
    us = _diff(_us(), t0)
    gc.collect()
    return {"import_bytes": mem() - m0, "import_us": us,
            "heap_free_after": gc.mem_free() if IS_MP else 0}


OPT = parse(sys.argv)
OUT = {"impl": sys.implementation.name, "platform": sys.platform}
if IS_MP:
    OUT["version"] = "%d.%d.%d" % sys.implementation.version[:3]
else:
    OUT["version"] = sys.version.split()[0]
if OPT["import"]:
    OUT.update(measure_import())
    print("MPBENCH " + json_dumps(OUT))
    raise SystemExit(0)

PRE = []            # --pre's objects, with garbage between them: holes the import fills
for _i in range(OPT["pre"]):
    PRE.append(bytearray(4 + (_i % 3) * 16))
    bytearray(4 + (_i % 5) * 16)
if PRE:
    gc.collect()
from nxsecure import port                                 # noqa: E402
if OPT["seed-random"]:
    from mp_test_runner import install_test_random
    install_test_random()
from nxsecure.port.memnet import MemoryNetwork       # noqa: E402
# the names this bench uses, not `import *`: on a board every name is a slot of this
# module's dict, and ~300 of them take a 3 KB block the heap may not have
from nxsecure import (                      # noqa: E402
    IP_ADDRESS, NXD_ADDRESS, NX_CONTINUE, NX_FRAGMENT_OKAY, NX_IP, NX_IP_NORMAL,
    NX_IP_PERIODIC_RATE, NX_IP_TIME_TO_LIVE, NX_IP_VERSION_V4, NX_NO_WAIT, NX_PACKET,
    NX_PACKET_POOL, NX_SECURE_DTLS_SERVER, NX_SECURE_DTLS_SESSION, NX_SUCCESS, NX_UDP_SOCKET,
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_GCM_SHA256, nx_ip_create, nx_ip_delete, nx_packet_data_append,
    nx_packet_pool_create, nx_packet_pool_delete, nx_packet_release,
    nx_secure_dtls_client_session_start, nx_secure_dtls_packet_allocate,
    nx_secure_dtls_psk_add, nx_secure_dtls_server_create, nx_secure_dtls_server_delete,
    nx_secure_dtls_server_psk_add, nx_secure_dtls_server_session_start,
    nx_secure_dtls_server_start, nx_secure_dtls_server_stop, nx_secure_dtls_session_create,
    nx_secure_dtls_session_delete, nx_secure_dtls_session_end, nx_secure_dtls_session_receive,
    nx_secure_dtls_session_send, nx_secure_tls_initialize, nx_secure_tls_metadata_size_calculate,
    nx_system_initialize, nx_udp_enable, nx_udp_socket_create, sizeof, tx_thread_sleep)
from nxsecure.crypto import portable_backend   # noqa: E402
from nxsecure.crypto.table import make_tls_crypto   # noqa: E402

# Room for the caller memory, taken once everything is loaded and given back just before
# the buffers are made (Bench.setup), so that they find it in one piece: on the RP2040 the
# loaded .mpy modules leave tens of KB free, but in pieces smaller than a packet pool.
FRAG_SLOTS = [None] * 600 if OPT["fragment"] else None       # fragment()'s
# --layout: objects of 16 to 48 bytes (one to three blocks), kept to the end of the run
LAYOUT = [bytearray(4 + (i % 3) * 16) for i in range(OPT["layout"])]
FILL = [None] * OPT["fill"]     # --fill's objects
RESERVE = [bytearray((20 if OPT["suite"] == "ecdsa" else 16) * 1024)]

POOL_PACKETS = 4

PSK = b"\x01\x02\x03\x04\x05\x06\x07\x08"
IDENTITY = b"Client_identity"
SERVER_PORT = 5684
HOLD = OPT["meter"] == "heap"
if not HOLD:
    mem = no_mem        # noqa: F811  (timing runs never walk the heap)


def hold():
    if HOLD:
        gc.disable()


def release():
    gc.enable()


_active = []        # [us, bytes] taken by hooks nested inside each running hook


class Side:
    """Accumulates time and heap spent inside one side's receive hook. A hook may run
    inside the other side's (a service called with NX_NO_WAIT from a callback pumps
    the network): what the inner one takes is counted for the inner side only."""

    def __init__(self):
        self.us = 0
        self.alloc = 0

    def wrap(self, fn):
        def hook(packet, addr, now):
            inner = [0, 0]
            _active.append(inner)
            m0 = mem()
            t0 = _us()
            try:
                fn(packet, addr, now)
            finally:
                dt = _diff(_us(), t0)
                dm = mem() - m0
                _active.pop()
                self.us += dt - inner[0]
                self.alloc += dm - inner[1]
                if _active:
                    _active[-1][0] += dt
                    _active[-1][1] += dm
        return hook


def fragment():
    """Leave small blocks live between as many freed ones (FRAG_SLOTS holds them)."""
    for i in range(0, len(FRAG_SLOTS), 2):
        FRAG_SLOTS[i] = bytearray(8 + (i & 2) * 8)
        FRAG_SLOTS[i + 1] = bytearray(24)
    for i in range(1, len(FRAG_SLOTS), 2):
        FRAG_SLOTS[i] = None
    gc.collect()
    return len(FRAG_SLOTS) // 2


def defect(session):
    e = getattr(getattr(session, "_engine", None), "last_exception", None)
    return None if e is None else "%s: %s" % (type(e).__name__, e)


class Bench:
    def __init__(self, opt):
        self.opt = opt
        self.ecdsa = opt["suite"] == "ecdsa"
        self.suite = {"ccm8": TLS_PSK_WITH_AES_128_CCM_8,
                      "gcm": TLS_PSK_WITH_AES_128_GCM_SHA256,
                      "ecdsa": TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8}[opt["suite"]]
        self.backend = portable_backend() if opt["aes"] == "python" else port.crypto_backend()
        # the portable backend over cryptolib is named "...platform-aes"
        OUT["aes"] = "cryptolib" if "platform-aes" in self.backend.name else (
            "pure Python" if self.backend.name.startswith("portable") else self.backend.name)
        OUT.update({"suite": opt["suite"], "size": opt["size"], "records": opt["records"],
                    "meter": opt["meter"]})
        self.pending = []
        self.readable = []

    def certificate(self, key, key_type):
        from nxsecure import x509
        c = x509.NX_SECURE_X509_CERT()
        st = x509.nx_secure_x509_certificate_initialize(
            c, self.cert_der, len(self.cert_der), None, 0, key, len(key) if key else 0,
            key_type)
        assert st == NX_SUCCESS, hex(st)
        return c

    def setup(self):
        """Caller memory for both sides, as each would hold it: the buffers first, the
        largest first, into the room RESERVE kept, as a C program's static memory; then
        the control blocks."""
        table = make_tls_crypto(self.backend, [self.suite])
        st, md = nx_secure_tls_metadata_size_calculate(table)
        reasm = 2048 if self.ecdsa else 1024
        RESERVE.pop()
        gc.collect()
        pool_mem = bytearray(POOL_PACKETS * (1536 + sizeof(NX_PACKET)))
        session_buffer = bytearray(sizeof(NX_SECURE_DTLS_SESSION))
        server_reasm = bytearray(reasm)
        client_reasm = bytearray(reasm)
        self.rec_buf = bytearray(1536)      # the record-layer timing's own buffer
        remote = bytearray(1000) if self.ecdsa else None
        server_md = bytearray(md)
        client_md = bytearray(md)
        if self.ecdsa:
            from binascii import unhexlify
            from nxsecure import kx, x509
            from nxsecure.pk import portable_pk_backend
            kx._backend = portable_pk_backend()     # CPython too: the same pure-Python P-256
            self.cert_der = unhexlify(self.opt["cert"])
            self.key_der = unhexlify(self.opt["key"])
            now = self.opt["now"]
            x509.nx_secure_x509_time_function_set(lambda: now)
        gc.collect()
        m4 = mem()
        port.use_network(MemoryNetwork())
        nx_system_initialize()
        self.pool = NX_PACKET_POOL()
        nx_packet_pool_create(self.pool, "pool", 1536, pool_mem, len(pool_mem))
        self.ip = NX_IP()
        nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, self.pool)
        nx_udp_enable(self.ip)
        nx_secure_tls_initialize()
        m5 = mem()

        self.server = server = NX_SECURE_DTLS_SERVER()
        nx_secure_dtls_server_create(server, self.ip, SERVER_PORT, NX_IP_PERIODIC_RATE,
                                     session_buffer, len(session_buffer), table, server_md,
                                     len(server_md), server_reasm, len(server_reasm),
                                     self._connect, self._receive)
        if self.ecdsa:
            from nxsecure import x509
            from nxsecure import nx_secure_dtls_server_local_certificate_add
            st = nx_secure_dtls_server_local_certificate_add(
                server, self.certificate(self.key_der, x509.NX_SECURE_X509_KEY_TYPE_EC_DER), 1)
            assert st == NX_SUCCESS, hex(st)
        else:
            nx_secure_dtls_server_psk_add(server, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                          None, 0)
        nx_secure_dtls_server_start(server)
        m6 = mem()

        self.client = client = NX_SECURE_DTLS_SESSION()
        nx_secure_dtls_session_create(client, table, client_md, md, client_reasm,
                                      len(client_reasm), 1 if self.ecdsa else 0, remote,
                                      len(remote) if self.ecdsa else 0)
        if self.ecdsa:
            from nxsecure import x509
            from nxsecure import nx_secure_dtls_session_trusted_certificate_add
            st = nx_secure_dtls_session_trusted_certificate_add(
                client, self.certificate(None, x509.NX_SECURE_X509_KEY_TYPE_NONE), 1)
            assert st == NX_SUCCESS, hex(st)
        else:
            nx_secure_dtls_psk_add(client, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
        self.sock = NX_UDP_SOCKET()
        nx_udp_socket_create(self.ip, self.sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                             NX_IP_TIME_TO_LIVE, 8)
        self.addr = NXD_ADDRESS()
        self.addr.nxd_ip_version = NX_IP_VERSION_V4
        self.addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
        m7 = mem()
        # per side: its buffers and the objects its services made
        OUT["setup_bytes"] = {
            "network_pool": len(pool_mem) + m5 - m4,
            "server": len(session_buffer) + len(server_md) + len(server_reasm) + m6 - m5,
            "client": len(client_md) + len(client_reasm) + len(self.rec_buf) +
            (len(remote) if self.ecdsa else 0) + m7 - m6}
        OUT["static_buffers"] = {
            "server": len(session_buffer) + len(server_md) + len(server_reasm),
            "client": len(client_md) + len(client_reasm) + (len(remote) if self.ecdsa else 0),
            "packet_pool": len(pool_mem)}
        self.keep = (session_buffer, server_md, server_reasm, client_md, client_reasm, remote,
                     pool_mem)

    def _connect(self, session, address, port_):
        self.pending.append(session)           # started from the pump loop (Figure 1.2)
        return NX_SUCCESS

    def _receive(self, session):
        self.readable.append(session)
        return NX_SUCCESS

    def handshake(self):
        srv_side = Side()
        cli_side = Side()
        ssock = None
        for s in self.ip._sockets:
            if s is not self.sock and s._dtls_receive is not None:
                ssock = s
        hooks = [(ssock, ssock._dtls_receive)]
        ssock._dtls_receive = srv_side.wrap(ssock._dtls_receive)
        client, sock, addr = self.client, self.sock, self.addr
        gc.collect()
        if IS_MP and OPT["heapmap"]:
            import micropython
            micropython.mem_info(1)
        if IS_MP and FILL:
            f0 = gc.mem_free()
            for i in range(len(FILL)):
                FILL[i] = (i, i)      # a 2-tuple: one block
            OUT["fill_bytes"] = f0 - gc.mem_free()
        hold()
        m0 = mem()
        t0 = _us()
        started = None
        try:
            st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT,
                                                     NX_NO_WAIT)
            hooks.append((sock, sock._dtls_receive))
            sock._dtls_receive = cli_side.wrap(sock._dtls_receive)
            for _ in range(3000 if self.ecdsa else 800):
                if st != NX_CONTINUE:
                    break
                while self.pending:
                    started = self.pending.pop(0)
                    t1 = _us()
                    m1 = mem()
                    nx_secure_dtls_server_session_start(started, NX_NO_WAIT)
                    srv_side.us += _diff(_us(), t1)
                    srv_side.alloc += mem() - m1
                tx_thread_sleep(0)
                st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT,
                                                         NX_NO_WAIT)
            hs_us = _diff(_us(), t0)
            hs_alloc = mem() - m0
        finally:
            release()
            for s, fn in hooks:                 # the measuring wrappers allocate: off again
                s._dtls_receive = fn
        h = {}
        if HOLD:
            h.update({"alloc": hs_alloc, "server_alloc": srv_side.alloc,
                      "client_alloc": hs_alloc - srv_side.alloc})
        else:
            h.update({"us": hs_us, "server_us": srv_side.us, "client_us": hs_us - srv_side.us})
        if IS_MP and HOLD:
            h["server_peak_bound"] = OUT["setup_bytes"]["server"] + srv_side.alloc
            h["client_peak_bound"] = OUT["setup_bytes"]["client"] + hs_alloc - srv_side.alloc
        if st != NX_SUCCESS:
            # where it stopped: the status and the defect the stack caught, if any
            gc.collect()
            h["failed"] = "0x%X" % st
            h["defect"] = ("client: " + defect(client)) if defect(client) else (
                ("server: " + defect(started)) if started and defect(started) else None)
            h["heap_in_use_after"] = gc.mem_alloc() if IS_MP else 0
        OUT["handshake"] = h
        self.srv = started
        return st == NX_SUCCESS

    def records(self, label):
        """The record layer alone: seal by the client, open by the server."""
        crl = self.client._engine.record
        srl = self.srv._engine.record
        size, records = self.opt["size"], self.opt["records"]
        buf = self.rec_buf
        pre = crl.write_prefix(1)
        for k in range(size):
            buf[pre + k] = k & 0xFF
        seal_us = 0
        open_us = 0
        ok = 0
        # one record first: a mode's first use may make its workspace (once per
        # session, not per record); the steady state is what follows
        total = crl.seal(buf, 0, 23, 1, size)
        if srl.open(buf, 0, total) == NX_SUCCESS:
            srl.accept()
        for k in range(size):
            buf[pre + k] = k & 0xFF
        gc.collect()
        hold()
        m0 = mem()
        for _ in range(records):
            t = _us()
            total = crl.seal(buf, 0, 23, 1, size)
            t1 = _us()
            if srl.open(buf, 0, total) == NX_SUCCESS:
                srl.accept()
                ok += 1
            open_us += _diff(_us(), t1)
            seal_us += _diff(t1, t)
        rec_alloc = mem() - m0
        release()
        assert ok == records
        if HOLD:
            r = {"alloc_per_record": rec_alloc / (2 * records)}
        else:
            r = {"seal_us": seal_us / records, "open_us": open_us / records}
        OUT[label] = r

    def pairs(self, label):
        """The session path: send + (pump) + receive, per step."""
        client, srv, pool, addr = self.client, self.srv, self.pool, self.addr
        size, records = self.opt["size"], self.opt["records"]
        data = bytes(size)
        steps = {"allocate+append": 0, "session_send": 0, "pump+receive": 0, "release": 0}
        times = {"allocate+append": 0, "session_send": 0, "pump+receive": 0, "release": 0}

        def pair():
            m = mem()
            t = _us()
            st, pkt = nx_secure_dtls_packet_allocate(client, pool, NX_NO_WAIT)
            nx_packet_data_append(pkt, data, size, pool, NX_NO_WAIT)
            m1 = mem()
            t1 = _us()
            steps["allocate+append"] += m1 - m
            times["allocate+append"] += _diff(t1, t)
            st = nx_secure_dtls_session_send(client, pkt, addr, SERVER_PORT)
            m2 = mem()
            t2 = _us()
            steps["session_send"] += m2 - m1
            times["session_send"] += _diff(t2, t1)
            st, rp = nx_secure_dtls_session_receive(srv, NX_NO_WAIT)
            m3 = mem()
            t3 = _us()
            steps["pump+receive"] += m3 - m2
            times["pump+receive"] += _diff(t3, t2)
            assert st == NX_SUCCESS, hex(st)
            nx_packet_release(rp)
            steps["release"] += mem() - m3
            times["release"] += _diff(_us(), t3)

        for _ in range(5):                         # warm: first-call effects
            pair()
        self.readable.clear()
        for k in steps:
            steps[k] = 0
            times[k] = 0
        gc.collect()
        hold()
        m0 = mem()
        t0 = _us()
        for _ in range(records):
            pair()
        total_us = _diff(_us(), t0)
        total_alloc = mem() - m0
        release()
        self.readable.clear()
        if HOLD:
            s = {"alloc_per_pair": total_alloc / records,
                 "alloc_by_step": dict((k, v / records) for k, v in steps.items())}
        else:
            s = {"us_per_pair": total_us / records,
                 "us_by_step": dict((k, v / records) for k, v in times.items())}
        OUT[label] = s

    def end(self, ok):
        """Close (when the handshake succeeded) and free everything: after a run that
        ran out of heap there must be room left to print the result."""
        if ok:
            nx_secure_dtls_session_end(self.client, NX_NO_WAIT)
        nx_secure_dtls_session_delete(self.client)
        nx_secure_dtls_server_stop(self.server)
        nx_secure_dtls_server_delete(self.server)
        nx_ip_delete(self.ip)
        nx_packet_pool_delete(self.pool)
        port.use_network(None)
        if self.ecdsa:
            from nxsecure import x509
            x509.nx_secure_x509_time_function_set(None)
        self.client = self.server = self.srv = self.ip = self.pool = self.keep = None
        self.pending = self.readable = None


def main(opt):
    b = Bench(opt)
    b.setup()
    ok = b.handshake()
    if ok and not b.ecdsa and opt["records"]:   # ecdsa: a handshake only (records: ccm8's)
        b.records("record")
        b.pairs("session")
        if opt["fragment"]:
            OUT["fragment_blocks"] = fragment()
            b.records("record_fragmented")
            b.pairs("session_fragmented")
    b.end(ok)
    b = None
    print("MPBENCH " + json_dumps(OUT))
    return 0


main(OPT)
