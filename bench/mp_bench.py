"""Handshake and record costs inside one interpreter over the in-memory network, with
the pure-Python AES (nxsecure.crypto.portable_backend()) and, for --suite ecdsa, the
pure-Python P-256 (nxsecure.pk). Runs on MicroPython (tools/mp_run.js, the WebAssembly
build under Node) and on CPython (same code, for the ratios). Prints one line:
MPBENCH {json}.

    node tools/mp_run.js --seed-random bench/mp_bench.py [--suite ccm8|gcm] [--records 100]
    node tools/mp_run.js --seed-random bench/mp_bench.py --suite ecdsa --cert HEX --key HEX \
        --now SECONDS
    python bench/mp_bench.py

--suite ecdsa: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, a handshake only. --cert is a
self-signed P-256 certificate (DER, hex) that the server presents and the client
trusts, --key its SEC 1 private key, --now a time inside its validity (this build has
no clock); bench/run.py makes them with pyca.

Heap figures (MicroPython only) are gc.mem_alloc() deltas inside one execution. This
port collects garbage only between top-level executions, so inside one the heap never
shrinks and a delta is the bytes allocated (for the handshake: an upper bound on the
peak above the caller's static buffers).
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

from nxsecure import port                                 # noqa: E402
from nxsecure.port.memnet import MemoryNetwork       # noqa: E402
from nxsecure import *                      # noqa: E402,F401,F403
from nxsecure.crypto import portable_backend   # noqa: E402
from nxsecure.crypto.table import make_tls_crypto   # noqa: E402

PSK = b"\x01\x02\x03\x04\x05\x06\x07\x08"
IDENTITY = b"Client_identity"
SERVER_PORT = 5684


def mem():
    if IS_MP:
        return gc.mem_alloc()
    return 0


_active = []        # [us, bytes] taken by hooks nested inside each running hook


class Side:
    """Accumulates time and heap spent inside one side's receive hook. A hook may run
    inside the other side's (a service called with NX_NO_WAIT from a callback pumps
    the network): what the inner one takes is counted for the inner side only."""

    def __init__(self):
        self.us = 0
        self.alloc = 0

    def wrap(self, fn):
        def hook(packet, addr):
            inner = [0, 0]
            _active.append(inner)
            m0 = mem()
            t0 = _us()
            try:
                fn(packet, addr)
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


def main(argv):
    suite_name = "ccm8"
    records = 100
    size = 100
    cert_hex = key_hex = None
    now = 0
    i = 1
    while i < len(argv):
        if argv[i] == "--suite":
            suite_name = argv[i + 1]
        elif argv[i] == "--records":
            records = int(argv[i + 1])
        elif argv[i] == "--size":
            size = int(argv[i + 1])
        elif argv[i] == "--cert":
            cert_hex = argv[i + 1]
        elif argv[i] == "--key":
            key_hex = argv[i + 1]
        elif argv[i] == "--now":
            now = int(argv[i + 1])
        i += 2
    suite = {"ccm8": TLS_PSK_WITH_AES_128_CCM_8, "gcm": TLS_PSK_WITH_AES_128_GCM_SHA256,
             "ecdsa": TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8}[suite_name]
    ecdsa = suite_name == "ecdsa"
    if ecdsa:
        from binascii import unhexlify
        from nxsecure import kx, x509
        from nxsecure.pk import portable_pk_backend
        kx._backend = portable_pk_backend()     # CPython too: the same pure-Python P-256
        cert_der = unhexlify(cert_hex)
        key_der = unhexlify(key_hex)
        x509.nx_secure_x509_time_function_set(lambda: now)

        def certificate(key, key_type):
            c = x509.NX_SECURE_X509_CERT()
            st = x509.nx_secure_x509_certificate_initialize(
                c, cert_der, len(cert_der), None, 0, key, len(key) if key else 0, key_type)
            assert st == NX_SUCCESS, hex(st)
            return c
    out = {"impl": sys.implementation.name, "suite": suite_name, "size": size,
           "records": records}
    if not IS_MP:
        out["version"] = sys.version.split()[0]
    else:
        out["version"] = "%d.%d.%d" % sys.implementation.version[:3]

    # ---- set-up: what each side holds in caller memory ----------------------------
    m_start = mem()
    port.use_network(MemoryNetwork())
    table = make_tls_crypto(portable_backend(), [suite])
    st, md = nx_secure_tls_metadata_size_calculate(table)
    nx_system_initialize()
    pool = NX_PACKET_POOL()
    pool_mem = bytearray(8 * (1536 + sizeof(NX_PACKET)))
    nx_packet_pool_create(pool, "pool", 1536, pool_mem, len(pool_mem))
    ip = NX_IP()
    nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool)
    nx_udp_enable(ip)
    nx_secure_tls_initialize()
    m_net = mem()

    server = NX_SECURE_DTLS_SERVER()
    session_buffer = bytearray(sizeof(NX_SECURE_DTLS_SESSION))
    server_md = bytearray(md)
    server_reasm = bytearray(2048 if ecdsa else 1024)
    connects = []
    readable = []

    def connect_notify(session, address, port_):
        connects.append(session)
        nx_secure_dtls_server_session_start(session, NX_NO_WAIT)
        return NX_SUCCESS

    def receive_notify(session):
        readable.append(session)
        return NX_SUCCESS

    nx_secure_dtls_server_create(server, ip, SERVER_PORT, NX_IP_PERIODIC_RATE, session_buffer,
                                 len(session_buffer), table, server_md, len(server_md),
                                 server_reasm, len(server_reasm), connect_notify, receive_notify)
    if ecdsa:
        server_cert = certificate(key_der, x509.NX_SECURE_X509_KEY_TYPE_EC_DER)
        st = nx_secure_dtls_server_local_certificate_add(server, server_cert, 1)
        assert st == NX_SUCCESS, hex(st)
    else:
        nx_secure_dtls_server_psk_add(server, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    nx_secure_dtls_server_start(server)
    m_server = mem()

    client = NX_SECURE_DTLS_SESSION()
    client_md = bytearray(md)
    client_reasm = bytearray(2048 if ecdsa else 1024)
    remote = bytearray(1000) if ecdsa else None
    nx_secure_dtls_session_create(client, table, client_md, md, client_reasm, len(client_reasm),
                                  1 if ecdsa else 0, remote, len(remote) if ecdsa else 0)
    if ecdsa:
        trusted = certificate(None, x509.NX_SECURE_X509_KEY_TYPE_NONE)
        st = nx_secure_dtls_session_trusted_certificate_add(client, trusted, 1)
        assert st == NX_SUCCESS, hex(st)
    else:
        nx_secure_dtls_psk_add(client, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    sock = NX_UDP_SOCKET()
    nx_udp_socket_create(ip, sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8)
    addr = NXD_ADDRESS()
    addr.nxd_ip_version = NX_IP_VERSION_V4
    addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
    m_client = mem()
    out["setup_bytes"] = {"network_pool": m_net - m_start, "server": m_server - m_net,
                          "client": m_client - m_server}
    out["static_buffers"] = {"server": len(session_buffer) + len(server_md) + len(server_reasm),
                             "client": len(client_md) + len(client_reasm) +
                             (len(remote) if ecdsa else 0),
                             "packet_pool": len(pool_mem)}

    # ---- handshake --------------------------------------------------------------------
    srv_side = Side()
    cli_side = Side()
    ssock = server._socket if hasattr(server, "_socket") else None
    for s in ip._sockets:
        if s is not sock and s._dtls_receive is not None:
            ssock = s
    hooks = [(ssock, ssock._dtls_receive)]
    ssock._dtls_receive = srv_side.wrap(ssock._dtls_receive)
    m0 = mem()
    t0 = _us()
    st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT, NX_NO_WAIT)
    hooks.append((sock, sock._dtls_receive))
    sock._dtls_receive = cli_side.wrap(sock._dtls_receive)
    for _ in range(800):
        if st != NX_CONTINUE:
            break
        tx_thread_sleep(0)
        st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT, NX_NO_WAIT)
    hs_us = _diff(_us(), t0)
    hs_alloc = mem() - m0
    assert st == NX_SUCCESS, hex(st)
    out["handshake"] = {
        "us": hs_us, "server_us": srv_side.us, "client_us": hs_us - srv_side.us,
        "alloc": hs_alloc, "server_alloc": srv_side.alloc,
        "client_alloc": hs_alloc - srv_side.alloc,
    }
    if IS_MP:
        out["handshake"]["server_peak_bound"] = (out["setup_bytes"]["server"] +
                                                 srv_side.alloc)
        out["handshake"]["client_peak_bound"] = (out["setup_bytes"]["client"] +
                                                 hs_alloc - srv_side.alloc)
    srv = connects[0]
    for s, fn in hooks:                     # the measuring wrappers allocate: off again
        s._dtls_receive = fn
    if ecdsa:
        # the records are CCM_8's, measured by --suite ccm8
        nx_secure_dtls_session_end(client, NX_NO_WAIT)
        x509.nx_secure_x509_time_function_set(None)
        print("MPBENCH " + json_dumps(out))
        return 0

    # ---- record layer alone: seal by the client, open by the server --------------------
    crl = client._engine.record
    srl = srv._engine.record
    buf = bytearray(1536)
    pre = crl.write_prefix(1)
    for k in range(size):
        buf[pre + k] = k & 0xFF
    seal_us = 0
    open_us = 0
    ok = 0
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
    assert ok == records
    out["record"] = {"seal_us": seal_us / records, "open_us": open_us / records,
                     "alloc_per_record": rec_alloc / (2 * records)}

    # ---- the session path: send + (pump) + receive, 100 pairs, per step ---------------
    data = bytes(size)
    steps = {"allocate+append": 0, "session_send": 0, "pump+receive": 0, "release": 0}
    times = {"allocate+append": 0, "session_send": 0, "pump+receive": 0, "release": 0}
    send_only = {"seal": 0}

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
    readable.clear()
    for k in steps:
        steps[k] = 0
        times[k] = 0
    m0 = mem()
    t0 = _us()
    for _ in range(records):
        pair()
    total_us = _diff(_us(), t0)
    total_alloc = mem() - m0
    del send_only
    out["session"] = {"us_per_pair": total_us / records,
                      "alloc_per_pair": total_alloc / records,
                      "alloc_by_step": dict((k, v / records) for k, v in steps.items()),
                      "us_by_step": dict((k, v / records) for k, v in times.items())}
    nx_secure_dtls_session_end(client, NX_NO_WAIT)
    print("MPBENCH " + json_dumps(out))
    return 0


def json_dumps(v):
    try:
        import json
        return json.dumps(v)
    except ImportError:
        import ujson
        return ujson.dumps(v)


main(sys.argv)
