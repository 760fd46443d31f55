# Heap measurements of the stack on MicroPython, run by tools/measure_heap.py through
# tools/mp_run.js --test (tools/mp_test_runner.py): each test_* step is its own top-level
# execution with a collection before and after, and the GC held during the step, so the
# runner's "alloc" is everything the step allocated (an upper bound of its transient
# peak) and "kept" what is still live after it (the WebAssembly port collects only
# between executions). State lives in module globals across steps. Each step also prints
# "MEASURE name=value" lines that the driver reads. Uses board_config when on the path.
# Nothing of the stack is imported before step 1, which measures that import (so the
# driver runs it without the runner's --seed-random: step 2 installs the TEST-ONLY
# source where the platform's is refused).
import gc

S = {}
PSK, IDENT, SP = b"\x01\x02\x03\x04\x05\x06\x07\x08", b"sensor-01", 5684


def _m(name, value):
    print("MEASURE %s=%d" % (name, value))


def test_01_import_stack():
    import nxsecure  # noqa: F401
    import nxboard  # noqa: F401


def test_01b_harness():
    # what the measurement needs and a board application does not: the in-memory
    # network, and the TEST-ONLY random source where the platform's is refused
    from nxsecure import port
    from nxsecure.port.memnet import MemoryNetwork
    from nxsecure.port.rngcheck import platform_random_check
    if platform_random_check() is not None:
        import mp_test_runner
        mp_test_runner.install_test_random()
    port.use_network(MemoryNetwork())


def test_02_ip_and_pool():
    from nxsecure import (NX_PACKET_POOL, NX_PACKET, NX_IP, IP_ADDRESS, sizeof,
                          nx_system_initialize, nx_packet_pool_create, nx_ip_create, nx_udp_enable)
    import nxboard
    nx_system_initialize()
    S["payload"] = p = nxboard.get("PACKET_PAYLOAD")
    S["pool"] = pool = NX_PACKET_POOL()
    S["pool_mem"] = bytearray(nxboard.get("PACKET_COUNT") * (p + sizeof(NX_PACKET)))
    nx_packet_pool_create(pool, "p", p, S["pool_mem"], len(S["pool_mem"]))
    S["ip"] = ip = NX_IP()
    nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool)
    nx_udp_enable(ip)
    _m("pool_bytes", len(S["pool_mem"]))


def _server(n):
    from nxsecure import (NX_SECURE_DTLS_SERVER, NX_SECURE_DTLS_SESSION, NX_IP_PERIODIC_RATE,
                          NX_NO_WAIT, NX_SUCCESS, sizeof, nx_secure_tls_metadata_size_calculate,
                          nx_secure_dtls_server_create, nx_secure_dtls_server_psk_add,
                          nx_secure_dtls_server_start, nx_secure_dtls_server_session_start)
    import nxboard
    table = S.get("table")
    if table is None:
        table = S["table"] = nxboard.crypto_table()
    st, md = nx_secure_tls_metadata_size_calculate(table)
    srv = NX_SECURE_DTLS_SERVER()
    mem = (bytearray(n * sizeof(NX_SECURE_DTLS_SESSION)), bytearray(n * md),
           bytearray(n * nxboard.get("REASSEMBLY_PER_SESSION")))
    S["readable"] = []

    def on_connect(s, a, p):
        nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        return NX_SUCCESS

    def on_receive(s):
        S["readable"].append(s)
        return NX_SUCCESS

    assert nx_secure_dtls_server_create(srv, S["ip"], SP, NX_IP_PERIODIC_RATE, mem[0], len(mem[0]),
                                        table, mem[1], len(mem[1]), mem[2], len(mem[2]),
                                        on_connect, on_receive) == NX_SUCCESS
    nx_secure_dtls_server_psk_add(srv, PSK, len(PSK), IDENT, len(IDENT), None, 0)
    assert nx_secure_dtls_server_start(srv) == NX_SUCCESS
    _m("session_sizeof", sizeof(NX_SECURE_DTLS_SESSION))
    _m("metadata_per_session", md)
    return srv, mem


def _server_delete():
    from nxsecure import nx_secure_dtls_server_stop, nx_secure_dtls_server_delete
    srv = S.pop("server")
    nx_secure_dtls_server_stop(srv)
    nx_secure_dtls_server_delete(srv)
    S.pop("server_mem")


def test_02b_first_use():
    # a server and a client session made and deleted once: the code the services load
    # on first use (nxsecure keeps rarely used services out of `import nxsecure`) is
    # counted here, so the steps below are the control blocks and buffers alone
    from nxsecure import (NX_SECURE_DTLS_SESSION, NX_UDP_SOCKET, NX_IP_NORMAL,
                          NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, nx_secure_dtls_session_create,
                          nx_secure_dtls_session_delete, nx_secure_tls_metadata_size_calculate,
                          nx_udp_socket_create, nx_udp_socket_delete)
    S["server"], S["server_mem"] = _server(1)
    _server_delete()
    st, md = nx_secure_tls_metadata_size_calculate(S["table"])
    c, sock = NX_SECURE_DTLS_SESSION(), NX_UDP_SOCKET()
    nx_secure_dtls_session_create(c, S["table"], bytearray(md), md, bytearray(512), 512, 0,
                                  None, 0)
    nx_udp_socket_create(S["ip"], sock, "w", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                         NX_IP_TIME_TO_LIVE, 4)
    nx_udp_socket_delete(sock)
    nx_secure_dtls_session_delete(c)


def test_03_server_1_session():
    S["server"], S["server_mem"] = _server(1)


def test_04_server_delete():
    _server_delete()


def test_05_server_4_sessions():
    S["server"], S["server_mem"] = _server(4)


def test_06_client_create():
    from nxsecure import (NX_SECURE_DTLS_SESSION, NX_UDP_SOCKET, NXD_ADDRESS, IP_ADDRESS,
                          NX_IP_VERSION_V4, NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE,
                          nx_secure_tls_metadata_size_calculate, nx_secure_dtls_session_create,
                          nx_secure_dtls_psk_add, nx_udp_socket_create)
    import nxboard
    st, md = nx_secure_tls_metadata_size_calculate(S["table"])
    c = S["client"] = NX_SECURE_DTLS_SESSION()
    S["client_mem"] = (bytearray(md), bytearray(nxboard.get("REASSEMBLY_PER_SESSION")))
    nx_secure_dtls_session_create(c, S["table"], S["client_mem"][0], md, S["client_mem"][1],
                                  len(S["client_mem"][1]), 0, None, 0)
    nx_secure_dtls_psk_add(c, PSK, len(PSK), IDENT, len(IDENT), None, 0)
    S["sock"] = NX_UDP_SOCKET()
    nx_udp_socket_create(S["ip"], S["sock"], "c", NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 4)
    a = S["addr"] = NXD_ADDRESS()
    a.nxd_ip_version = NX_IP_VERSION_V4
    a.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)


_inner = [0, 0, 0, 0, 0, 0, 0, 0]   # bytes taken by hooks nested at each depth
_depth = [0]


def _metered(fn, side):
    """fn (a socket's receive hook), with what it allocates added to S[side]. A hook
    can run inside the other side's (a service called with NX_NO_WAIT from a callback
    pumps the network): what the inner one allocates counts for the inner side only.
    The wrapper itself allocates nothing."""
    def wrapped(packet, addr, now):
        d = _depth[0]
        _inner[d] = 0
        _depth[0] = d + 1
        before = gc.mem_alloc()
        try:
            return fn(packet, addr, now)
        finally:
            took = gc.mem_alloc() - before
            _depth[0] = d
            S[side] = S.get(side, 0) + took - _inner[d]
            if d:
                _inner[d - 1] += took
    return wrapped


def test_07_handshake_psk_ccm8():
    # Both ends run in this interpreter; each end's work is metered separately by
    # wrapping its socket's receive hook (the GC is held, so mem_alloc only grows).
    from nxsecure import (NX_CONTINUE, NX_NO_WAIT, NX_SUCCESS, tx_thread_sleep,
                          nx_secure_dtls_client_session_start)
    srv_sock = S["server"]._socket
    hooks = [(srv_sock, srv_sock._dtls_receive)]
    srv_sock._dtls_receive = _metered(srv_sock._dtls_receive, "hs_server")
    start = gc.mem_alloc()
    st = nx_secure_dtls_client_session_start(S["client"], S["sock"], S["addr"], SP, NX_NO_WAIT)
    S["hs_client"] = gc.mem_alloc() - start
    sock = S["sock"]
    hooks.append((sock, sock._dtls_receive))
    sock._dtls_receive = _metered(sock._dtls_receive, "hs_client")
    for _ in range(500):
        if st != NX_CONTINUE:
            break
        tx_thread_sleep(1)
        b = gc.mem_alloc()
        st = nx_secure_dtls_client_session_start(S["client"], S["sock"], S["addr"], SP, NX_NO_WAIT)
        S["hs_client"] += gc.mem_alloc() - b
    assert st == NX_SUCCESS, hex(st)
    total = gc.mem_alloc() - start
    # The client's calls pump the network, so the server's work runs inside them, and
    # the server's NX_NO_WAIT session start pumps the client's in turn: the server's
    # share is its metered hook less what ran nested in it, the client's the rest.
    _m("handshake_alloc_client", total - S["hs_server"])
    _m("handshake_alloc_server", S["hs_server"])
    _m("handshake_alloc_total", total)
    for so, fn in hooks:            # unwrapped again for the steps after this one
        so._dtls_receive = fn


RECORDS = 100


def test_08_records_steady_state():
    # One application record client -> server and its echo server -> client, RECORDS
    # times, in one execution (the GC held): bytes allocated per round trip, per end.
    from nxsecure import (NX_NO_WAIT, NX_SUCCESS, tx_thread_sleep, nx_secure_dtls_packet_allocate,
                          nx_packet_data_append, nx_secure_dtls_session_send,
                          nx_secure_dtls_session_receive, nx_packet_data_extract_offset,
                          nx_packet_release, nx_secure_dtls_server_session_send)
    c, pool, addr, readable = S["client"], S["pool"], S["addr"], S["readable"]
    msg = b"21.5 C reading 0123456789"
    buf = bytearray(64)
    S["hs_client"] = S["hs_server"] = 0
    app = [0, 0]            # bytes the application code below allocates (client, server)

    def one_round():
        b = gc.mem_alloc()
        st, pkt = nx_secure_dtls_packet_allocate(c, pool, NX_NO_WAIT)
        nx_packet_data_append(pkt, msg, len(msg), pool, NX_NO_WAIT)
        assert nx_secure_dtls_session_send(c, pkt, addr, SP) == NX_SUCCESS
        S["hs_client"] += gc.mem_alloc() - b
        for _ in range(50):
            tx_thread_sleep(1)
            while readable:
                s = readable.pop(0)
                b = gc.mem_alloc()
                st, p = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
                st, n = nx_packet_data_extract_offset(p, 0, buf, len(buf))
                nx_packet_release(p)
                st, e = nx_secure_dtls_packet_allocate(s, pool, NX_NO_WAIT)
                nx_packet_data_append(e, buf, n, pool, NX_NO_WAIT)
                nx_secure_dtls_server_session_send(s, e)
                S["hs_server"] += gc.mem_alloc() - b
            b = gc.mem_alloc()
            st, p = nx_secure_dtls_session_receive(c, NX_NO_WAIT)
            if st == NX_SUCCESS:
                nx_packet_data_extract_offset(p, 0, buf, len(buf))
                nx_packet_release(p)
                S["hs_client"] += gc.mem_alloc() - b
                return True
            S["hs_client"] += gc.mem_alloc() - b
        return False

    srv_sock = S["server"]._socket
    srv_sock._dtls_receive = _metered(srv_sock._dtls_receive, "rec_server_stack")
    assert one_round()          # warm-up: first-use allocations (bound methods, caches)
    S["hs_client"] = S["hs_server"] = S["rec_server_stack"] = 0
    start = gc.mem_alloc()
    for _ in range(RECORDS):
        assert one_round()
    total = gc.mem_alloc() - start
    _m("record_alloc_total_x100", total * 100 // RECORDS)
    # server: its socket hook (record open, queue, notify) + the echo code's service
    # calls (receive, extract, allocate, append, send); the rest is the client's calls
    # and the pump, including the in-memory network (test_09).
    server = S["rec_server_stack"] + S["hs_server"]
    _m("record_alloc_server_x100", server * 100 // RECORDS)
    _m("record_alloc_client_x100", (total - server) * 100 // RECORDS)


def test_09_memnet_datagram_cost():
    from nxsecure import port
    # What the in-memory network itself allocates per datagram (not on a board, where a
    # socket's recvfrom allocates the datagram instead): send + receive of one datagram.
    from nxsecure import NX_UDP_SOCKET  # noqa: F401
    net = port.network()
    a = net.udp_open(4, "127.0.0.1", 40001)
    b = net.udp_open(4, "127.0.0.1", 40002)
    mv = memoryview(bytearray(64))
    a.sendto(mv[:40], ("127.0.0.1", 40002))
    b.recvfrom_into(mv)
    start = gc.mem_alloc()
    for _ in range(RECORDS):
        a.sendto(mv[:40], ("127.0.0.1", 40002))
        port.poll([b], 0)
        b.recvfrom_into(mv)
    _m("memnet_datagram_x100", (gc.mem_alloc() - start) * 100 // RECORDS)
    a.close()
    b.close()


def test_10_live_after():
    pass
