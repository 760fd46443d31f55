"""On-board self-test: crypto known-answer vectors, then a complete PSK-CCM_8 DTLS
handshake, application data both ways and close between a client and a server in this
one interpreter over an in-memory network (nxsecure.port.memnet). Prints one PASS/FAIL line per
check and a summary; the last line is "SELFTEST OK" or "SELFTEST FAILED".

    mpremote connect PORT run boards/common/selftest.py      (what `make board-test` runs)

It uses the deployed stack (/lib/nxsecure) and board_config. A board whose random source
the stack refuses (none: the WebAssembly emulated board; constant bytes: the emulated
RP2040; ESP32 and RP2040 chips have a working one) gets a clearly labelled TEST-ONLY
deterministic random source for the duration of the test."""
import gc
import sys
import time
from binascii import hexlify, unhexlify

results = [0, 0]


def check(name, fn):
    gc.collect()
    t0 = time.ticks_ms()
    try:
        detail = fn()
        ok = True
    except Exception as e:   # noqa: BLE001 - a self-test reports every failure
        ok = False
        detail = "%s: %s" % (type(e).__name__, e)
        if hasattr(sys, "print_exception"):
            sys.print_exception(e)
    ms = time.ticks_diff(time.ticks_ms(), t0)
    results[0 if ok else 1] += 1
    print("%s %s (%d ms)%s" % ("PASS" if ok else "FAIL", name, ms, "  " + detail if detail else ""))


def _eq(got, want):
    got = hexlify(bytes(got)).decode()
    if got != want:
        raise AssertionError("got %s want %s" % (got, want))


class _TestOnlyRandom:
    """TEST-ONLY deterministic random source (SHA-256 counter). Never for production."""

    def __init__(self):
        self.n = 0

    def __call__(self, n):
        import hashlib
        out = b""
        while len(out) < n:
            self.n += 1
            out += hashlib.sha256(b"nxsecure selftest TEST-ONLY" + self.n.to_bytes(8, "big")).digest()
        return out[:n]


def random_source():
    from nxsecure import port
    from nxsecure.port.rngcheck import platform_random_check
    reason = platform_random_check()
    if reason is None:
        return "os.urandom, start-up health check passed"
    # The stack refuses this source (a handshake would fail with
    # NX_SECURE_TLS_NO_RANDOM_SOURCE): the rest of the self-test runs on a test source.
    port.set_random_source(_TestOnlyRandom())
    print("NOTE: this board's random source is refused (%s): a TEST-ONLY deterministic "
          "random source is installed for this self-test (never for production)" % reason)
    return "TEST-ONLY (board source refused: %s)" % reason


def t_sha256():
    import hashlib
    _eq(hashlib.sha256(b"abc").digest(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def t_hmac():
    from nxsecure.crypto.mac import hmac_sha256     # RFC 4231 test case 2
    _eq(hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def t_aes():
    from nxsecure import port                                      # FIPS-197 C.1, the board's AES
    backend = port.crypto_backend()
    ctx = backend.aes_128_ccm_8.init(bytes(range(16)))
    del ctx
    try:
        import cryptolib
    except ImportError:
        try:
            import ucryptolib as cryptolib
        except ImportError:
            cryptolib = None
    pt = unhexlify("00112233445566778899aabbccddeeff")
    if cryptolib is not None:
        out = bytearray(16)
        cryptolib.aes(bytes(range(16)), 1).encrypt(pt, out)
        _eq(out, "69c4e0d86a7b0430d8cdb78070b4c55a")
        return "cryptolib (%s)" % backend.name
    from nxsecure.crypto.aes import AES
    out = bytearray(16)
    AES(bytes(range(16)), None, False).encrypt_block(pt, 0, out, 0)
    _eq(out, "69c4e0d86a7b0430d8cdb78070b4c55a")
    return "pure-Python AES (%s)" % backend.name


def _aes_engine(backend):
    """The AES engine under backend: cryptolib.aes, or the pure-Python AES."""
    if backend.name != "portable":
        try:
            import cryptolib
        except ImportError:
            import ucryptolib as cryptolib
        return cryptolib.aes
    from nxsecure.crypto.aes import new
    return new


def t_ccm8():
    from nxsecure import port                                      # RFC 3610 packet vector 1
    backend = port.crypto_backend()
    m = backend.aes_128_ccm_8
    ctx = m.init(unhexlify("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"))
    nonce = unhexlify("00000003020100a0a1a2a3a4a5")
    aad = unhexlify("0001020304050607")
    pt = unhexlify("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e")
    buf = bytearray(len(pt) + 8)
    buf[:len(pt)] = pt
    ccm_ctx = ctx
    # the TLS context takes a 12-byte nonce; use the mode object for RFC 3610's 13 bytes,
    # over the AES engine the port picked (cryptolib's, else the pure-Python one)
    from nxsecure.crypto.ccm import CCM
    c = CCM(_aes_engine(backend), unhexlify("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"), 8, 2)
    c.seal(nonce, aad, buf, 0, len(pt))
    _eq(buf, "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0")
    assert c.open(nonce, aad, buf, 0, len(buf)) and bytes(buf[:len(pt)]) == pt
    n12 = unhexlify("a0a1a2a3a4a5a6a7a8a9aaab")
    rec = bytearray(b"hello board" + bytes(8))
    ccm_ctx.seal(n12, aad, rec, 0, 11)
    assert ccm_ctx.open(n12, aad, rec, 0, 19) and bytes(rec[:11]) == b"hello board"
    rec[0] ^= 1
    assert not ccm_ctx.open(n12, aad, rec, 0, 19)


def t_prf():
    from nxsecure.crypto.prf import prf              # TLS 1.2 PRF (IETF TLS list vector)
    _eq(prf(unhexlify("9bbe436ba940f017b17652849a71db35"), b"test label",
            unhexlify("a0ba9f936cda311827a6f796ffd5198c"), 16),
        "e3f229ba727be17b8d122620557cd453")


def t_handshake():
    from nxsecure import port
    from nxsecure.port.memnet import MemoryNetwork
    from nxsecure import (NX_PACKET_POOL, NX_PACKET, NX_IP, NX_SECURE_DTLS_SERVER,
                          NX_SECURE_DTLS_SESSION, NX_UDP_SOCKET, NXD_ADDRESS, IP_ADDRESS,
                          NX_SUCCESS, NX_CONTINUE, NX_NO_WAIT, NX_IP_PERIODIC_RATE,
                          NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, NX_IP_VERSION_V4,
                          TLS_PSK_WITH_AES_128_CCM_8, sizeof, make_tls_crypto,
                          nx_system_initialize, nx_packet_pool_create, nx_ip_create,
                          nx_udp_enable, nx_secure_tls_metadata_size_calculate,
                          nx_secure_dtls_server_create, nx_secure_dtls_server_psk_add,
                          nx_secure_dtls_server_start, nx_secure_dtls_server_session_start,
                          nx_secure_dtls_server_notify_set, nx_secure_dtls_session_create,
                          nx_secure_dtls_psk_add, nx_udp_socket_create,
                          nx_secure_dtls_client_session_start, tx_thread_sleep,
                          nx_secure_dtls_session_receive, nx_secure_dtls_packet_allocate,
                          nx_packet_data_append, nx_packet_data_extract_offset,
                          nx_packet_release, nx_secure_dtls_server_session_send,
                          nx_secure_dtls_session_send, nx_secure_dtls_session_end,
                          nx_udp_socket_delete, nx_secure_dtls_session_delete,
                          nx_secure_dtls_server_stop, nx_secure_dtls_server_delete,
                          nx_ip_delete, nx_packet_pool_delete)
    psk, ident, sp = b"\x01\x02\x03\x04\x05\x06\x07\x08", b"selftest", 5684
    port.use_network(MemoryNetwork())
    try:
        table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
        st, md = nx_secure_tls_metadata_size_calculate(table)
        nx_system_initialize()
        pool = NX_PACKET_POOL()
        pool_mem = bytearray(6 * (1232 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(pool, "p", 1232, pool_mem, len(pool_mem)) == NX_SUCCESS
        ip = NX_IP()
        assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool) == NX_SUCCESS
        nx_udp_enable(ip)
        server = NX_SECURE_DTLS_SERVER()
        sbuf = bytearray(2 * sizeof(NX_SECURE_DTLS_SESSION))
        smd = bytearray(2 * md)
        sre = bytearray(2 * 512)
        readable, closed = [], []

        def on_connect(s, a, p):
            nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
            return NX_SUCCESS

        def on_receive(s):
            readable.append(s)
            return NX_SUCCESS

        assert nx_secure_dtls_server_create(server, ip, sp, NX_IP_PERIODIC_RATE, sbuf, len(sbuf),
                                            table, smd, len(smd), sre, len(sre),
                                            on_connect, on_receive) == NX_SUCCESS
        nx_secure_dtls_server_notify_set(server, closed.append, lambda s, c: NX_SUCCESS)
        nx_secure_dtls_server_psk_add(server, psk, len(psk), ident, len(ident), None, 0)
        assert nx_secure_dtls_server_start(server) == NX_SUCCESS
        client = NX_SECURE_DTLS_SESSION()
        cmd, cre = bytearray(md), bytearray(512)
        assert nx_secure_dtls_session_create(client, table, cmd, md, cre, len(cre), 0, None, 0) == 0
        nx_secure_dtls_psk_add(client, psk, len(psk), ident, len(ident), None, 0)
        sock = NX_UDP_SOCKET()
        nx_udp_socket_create(ip, sock, "c", NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 4)
        addr = NXD_ADDRESS()
        addr.nxd_ip_version = NX_IP_VERSION_V4
        addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
        st = NX_CONTINUE
        for _ in range(800):
            st = nx_secure_dtls_client_session_start(client, sock, addr, sp, NX_NO_WAIT)
            if st != NX_CONTINUE:
                break
            tx_thread_sleep(1)
        assert st == NX_SUCCESS, "handshake 0x%X%s" % (st, _defects(client, server))
        out = bytearray(64)
        for msg in (b"21.5 C", b"x" * 40):
            st, pkt = nx_secure_dtls_packet_allocate(client, pool, NX_NO_WAIT)
            nx_packet_data_append(pkt, msg, len(msg), pool, NX_NO_WAIT)
            assert nx_secure_dtls_session_send(client, pkt, addr, sp) == NX_SUCCESS
            got = None
            for _ in range(300):
                while readable:                    # the server echoes
                    s = readable.pop(0)
                    st, p = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
                    if st == NX_SUCCESS:
                        st, n = nx_packet_data_extract_offset(p, 0, out, len(out))
                        nx_packet_release(p)
                        st, e = nx_secure_dtls_packet_allocate(s, pool, NX_NO_WAIT)
                        nx_packet_data_append(e, out, n, pool, NX_NO_WAIT)
                        nx_secure_dtls_server_session_send(s, e)
                st, p = nx_secure_dtls_session_receive(client, NX_NO_WAIT)
                if st == NX_SUCCESS:
                    st, n = nx_packet_data_extract_offset(p, 0, out, len(out))
                    nx_packet_release(p)
                    got = bytes(out[:n])
                    break
                tx_thread_sleep(1)
            assert got == msg, "echo %r" % got
        assert nx_secure_dtls_session_end(client, NX_NO_WAIT) == NX_SUCCESS
        for _ in range(20):
            tx_thread_sleep(1)
            if closed:
                break
        assert closed, "no close_notify at the server"
        nx_udp_socket_delete(sock)
        nx_secure_dtls_session_delete(client)
        nx_secure_dtls_server_stop(server)
        nx_secure_dtls_server_delete(server)
        nx_ip_delete(ip)
        nx_packet_pool_delete(pool)
        return "session %d B, metadata %d B" % (sizeof(NX_SECURE_DTLS_SESSION), md)
    finally:
        port.use_network(None)


def _defects(client, server):
    """The exceptions the stack caught as its own defects (internal_error), for the
    failure line: "; client: RuntimeError(...)"."""
    out = ""
    ends = [("client", client)] + [("server", s) for s in getattr(server, "_sessions", ())]
    for name, s in ends:
        e = getattr(getattr(s, "_engine", None), "last_exception", None)
        if e is not None:
            out += "; %s: %s: %s" % (name, type(e).__name__, e)
    return out


def main():
    impl = sys.implementation
    board = "unknown"
    try:
        import board_config
        board = getattr(board_config, "BOARD", "?")
    except ImportError:
        pass
    print("selftest: nxsecure on %s %s (%s), board_config: %s"
          % (impl.name, ".".join(str(v) for v in impl.version[:3]), sys.platform, board))
    check("random source", random_source)
    check("sha256 (FIPS 180-2 'abc')", t_sha256)
    check("hmac-sha256 (RFC 4231 case 2)", t_hmac)
    check("aes-128 (FIPS-197 C.1)", t_aes)
    check("aes-128-ccm-8 (RFC 3610 vector 1, TLS nonce, tamper)", t_ccm8)
    check("tls12 prf sha256", t_prf)
    check("dtls psk-ccm8 handshake, echo, close over nxsecure.port.memnet", t_handshake)
    gc.collect()
    try:
        heap = "heap: %d bytes in use, %d free" % (gc.mem_alloc(), gc.mem_free())
    except AttributeError:
        heap = "heap: n/a"
    print("selftest: %d passed, %d failed; %s" % (results[0], results[1], heap))
    print("SELFTEST OK" if results[1] == 0 and results[0] else "SELFTEST FAILED")


main()
