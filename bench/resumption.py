"""Full vs resumed handshake: time and bytes on the wire, our client and our server in one
interpreter over the in-memory network (nxsecure.port.memnet, capturing every datagram).
Runs on CPython and on MicroPython (the same file). Prints one line: RESUMEBENCH {json}.

    python bench/resumption.py [--suite ccm8|ecdsa] [--rounds 3] [--tickets]
    node tools/mp_run.js --seed-random bench/resumption.py              (WebAssembly)
    MICROPYPATH=build/mpy ../shared/firmware/unix/micropython-v1.27.0-unix-i386-static \
        bench/resumption.py
    (emulated RP2040: tools/resumption_rp2040.sh)

--suite ecdsa runs TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 with --cert/--key/--now as in
bench/mp_bench.py (a self-signed P-256 certificate, hex DER, and a time inside its
validity); ccm8 is TLS_PSK_WITH_AES_128_CCM_8. Each round: a full handshake (the
client's resumption state cleared first), then a resumed one; each handshake is timed
from nx_secure_dtls_client_session_start to both ends connected, and its datagrams and
bytes (UDP payload) counted both ways. The session cache (or --tickets: tickets only)
is our server's. A client whose platform has no os.urandom (the WebAssembly build, the
emulated RP2040) needs a random source installed first (mp_run.js --seed-random, or the
TEST-ONLY one --test-random installs here).
"""
import sys

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
# The caller's buffers come from one arena taken before the stack is imported, while
# the heap is still whole: a .mpy stack in RAM leaves it fragmented (on the emulated
# RP2040 no free block above 2.3 KB). _HOLD keeps room for the client control block,
# which nx_secure_dtls_session_create allocates itself; it is let go just before.
_ARENA = [bytearray(24000), 0]
_HOLD = [bytearray(8000)]


def carve(n):
    a, p = _ARENA
    if p + n > len(a):
        return bytearray(n)
    _ARENA[1] = p + n
    return memoryview(a)[p:p + n]


if not IS_MP:
    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nxsecure import port                                   # noqa: E402
from nxsecure.port.memnet import MemoryNetwork             # noqa: E402
from nxsecure import *                                      # noqa: E402,F401,F403
from nxsecure.crypto.table import make_tls_crypto          # noqa: E402
from nxsecure import resumption as R                        # noqa: E402

PSK = b"\x01\x02\x03\x04\x05\x06\x07\x08"
IDENTITY = b"Client_identity"
SERVER_PORT = 5684


def _test_random():
    """TEST-ONLY deterministic source, for a platform whose os.urandom is missing or
    constant (the emulated RP2040): never for real keys."""
    state = [0x2545F491]

    def fill(n):
        buf = bytearray(n)
        x = state[0]
        for i in range(n):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            buf[i] = x & 0xFF
        state[0] = x
        return buf
    port.set_random_source(fill)


def main(argv):
    suite_name = "ccm8"
    rounds = 3
    tickets = False
    cert_hex = key_hex = None
    now = 0
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--tickets" or a == "--mem":
            tickets = tickets or a == "--tickets"
            i += 1
            continue
        if a == "--test-random":
            _test_random()
            i += 1
            continue
        v = argv[i + 1]
        if a == "--suite":
            suite_name = v
        elif a == "--rounds":
            rounds = int(v)
        elif a == "--cert":
            cert_hex = v
        elif a == "--key":
            key_hex = v
        elif a == "--now":
            now = int(v)
        i += 2
    ecdsa = suite_name == "ecdsa"
    suite = TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 if ecdsa else TLS_PSK_WITH_AES_128_CCM_8
    import gc
    gc.collect()
    net = MemoryNetwork(capture=True)
    port.use_network(net)
    table = make_tls_crypto(port.crypto_backend(), [suite])
    st, md = nx_secure_tls_metadata_size_calculate(table)
    nx_system_initialize()
    pool = NX_PACKET_POOL()
    pool_mem = carve(6 * (1300 + sizeof(NX_PACKET)))
    nx_packet_pool_create(pool, "pool", 1300, pool_mem, len(pool_mem))
    ip = NX_IP()
    nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool)
    nx_udp_enable(ip)
    if ecdsa:
        from binascii import unhexlify
        from nxsecure import x509
        cert_der = unhexlify(cert_hex)
        key_der = unhexlify(key_hex)
        x509.nx_secure_x509_time_function_set(lambda: now)

        def certificate(k, key_type):
            c = x509.NX_SECURE_X509_CERT()
            st = x509.nx_secure_x509_certificate_initialize(
                c, cert_der, len(cert_der), None, 0, k, len(k) if k else 0, key_type)
            assert st == NX_SUCCESS, hex(st)
            return c
    if "--mem" in argv:
        import gc, micropython
        gc.collect()
        micropython.mem_info()
    server = NX_SECURE_DTLS_SERVER()
    sbuf = carve(sizeof(NX_SECURE_DTLS_SESSION))          # one: handshakes in turn
    smd = carve(md)
    srs = carve(2048 if ecdsa else 1024)
    connects = []

    def connect_notify(session, address, port_):
        connects.append(session)
        nx_secure_dtls_server_session_start(session, NX_NO_WAIT)
        return NX_SUCCESS

    nx_secure_dtls_server_create(server, ip, SERVER_PORT, NX_IP_PERIODIC_RATE, sbuf, len(sbuf),
                                 table, smd, len(smd), srs, len(srs), connect_notify,
                                 lambda s: NX_SUCCESS)
    if ecdsa:
        st = nx_secure_dtls_server_local_certificate_add(
            server, certificate(key_der, x509.NX_SECURE_X509_KEY_TYPE_EC_DER), 1)
        assert st == NX_SUCCESS
    else:
        nx_secure_dtls_server_psk_add(server, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    cache = carve(2 * R.NXSECURE_DTLS_SESSION_CACHE_ENTRY)
    if tickets:
        R.nxsecure_dtls_server_session_ticket_enable(server, 60000)
    else:
        R.nxsecure_dtls_server_session_cache_set(server, cache, len(cache), 60000)
    nx_secure_dtls_server_start(server)
    client = NX_SECURE_DTLS_SESSION()
    cmd = carve(md)
    crs = carve(2048 if ecdsa else 1024)
    remote = carve(1000) if ecdsa else None
    _HOLD.pop()
    import gc
    gc.collect()
    nx_secure_dtls_session_create(client, table, cmd, md, crs, len(crs), 1 if ecdsa else 0,
                                  remote, len(remote) if ecdsa else 0)
    if ecdsa:
        st = nx_secure_dtls_session_trusted_certificate_add(
            client, certificate(None, x509.NX_SECURE_X509_KEY_TYPE_NONE), 1)
        assert st == NX_SUCCESS
    else:
        nx_secure_dtls_psk_add(client, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    state = carve(300)
    R.nxsecure_dtls_session_resumption_enable(client, state, len(state))
    sock = NX_UDP_SOCKET()
    nx_udp_socket_create(ip, sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8)
    addr = NXD_ADDRESS()
    addr.nxd_ip_version = NX_IP_VERSION_V4
    addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)

    def handshake():
        del net.captured[:]
        n0 = len(connects)
        t0 = _us()
        st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT, NX_NO_WAIT)
        for _ in range(20000):
            if st != NX_CONTINUE and len(connects) > n0 and connects[-1]._engine.state == 20:
                break
            tx_thread_sleep(0)
            st = nx_secure_dtls_client_session_start(client, sock, addr, SERVER_PORT,
                                                     NX_NO_WAIT)
        us = _diff(_us(), t0)
        assert st == NX_SUCCESS, hex(st)
        up = [len(d) for s, a, d in net.captured if a[1] == SERVER_PORT]
        down = [len(d) for s, a, d in net.captured if a[1] != SERVER_PORT]
        resumed = R.nxsecure_dtls_session_resumed_get(client)[1]
        nx_secure_dtls_session_end(client, NX_NO_WAIT)
        tx_thread_sleep(1)
        return {"us": us, "resumed": resumed, "datagrams": len(up) + len(down),
                "bytes_up": sum(up), "bytes_down": sum(down)}

    full = []
    resumed = []
    for _ in range(rounds):
        state[0] = 0                          # forget the session: a full handshake
        full.append(handshake())
        resumed.append(handshake())
    out = {"impl": sys.implementation.name, "suite": suite_name,
           "by": "tickets" if tickets else "session id", "rounds": rounds,
           "full": _summary(full), "resumed": _summary(resumed)}
    import json
    print("RESUMEBENCH " + json.dumps(out))
    return 0


def _summary(runs):
    us = sorted(r["us"] for r in runs)
    r0 = runs[0]
    for r in runs:
        assert r["datagrams"] == r0["datagrams"]
    return {"median_us": us[len(us) // 2], "all_resumed": all(r["resumed"] for r in runs),
            "datagrams": r0["datagrams"], "bytes_up": r0["bytes_up"],
            "bytes_down": r0["bytes_down"]}


if __name__ == "__main__":
    _rc = main(sys.argv)
    if not IS_MP:
        sys.exit(_rc)
