"""Records what bench/mp_client_replay.py replays on a board: our server (CPython, pyca
crypto) and the same ECDHE-ECDSA P-256 client over the in-memory network, each drawing
from its own TEST-ONLY deterministic stream (tools/mp_test_runner.TestOnlyDRBG); written
to PATH: the client's random draws and every datagram, in order.

    python bench/mp_client_record.py build/replay.json

CPython only; kept apart from the replayer so that the board loads none of it."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
sys.path.insert(0, HERE)

from mp_client_replay import SEED, SERVER, _buffers, _client, _handshake  # noqa: E402


def record(path):
    """Run our server (CPython: pyca crypto) and the client over the in-memory network,
    each drawing from its own deterministic stream, and write what the client sent and
    received, in order."""
    import common
    import json
    from binascii import hexlify
    import mp_test_runner
    from nxsecure import port, kx
    from nxsecure.pk import portable_pk_backend
    from nxsecure.port.memnet import MemoryNetwork
    from nxsecure import (NX_SECURE_DTLS_SERVER, NX_SECURE_DTLS_SESSION, NX_SUCCESS,
                          NX_NO_WAIT, NX_IP_PERIODIC_RATE, sizeof,
                          nx_secure_dtls_server_create, nx_secure_dtls_server_start,
                          nx_secure_dtls_server_session_start,
                          nx_secure_dtls_server_local_certificate_add)
    from nxsecure import x509
    from nxsecure.crypto.table import make_tls_crypto
    cert_der, _, sec1 = common.p256_cert(os.path.join(os.path.dirname(HERE), "build", "bench"))
    now = int(time.time())
    # the client's ECDHE key must come from its stream: the portable public-key code
    kx._backend = portable_pk_backend()
    client_rng = mp_test_runner.TestOnlyDRBG(SEED)
    server_rng = mp_test_runner.TestOnlyDRBG(b"server")
    in_server = [0]
    draws = []                         # the client's, in order: the board replays them

    def source(n):
        if in_server[0]:
            return server_rng(n)
        d = client_rng(n)
        draws.append(hexlify(d).decode())
        return d
    port.set_random_source(source)
    net = MemoryNetwork(capture=True)
    port.use_network(net)
    session, sock, addr, env = _client(cert_der, now, _buffers())
    ip = env[2]
    table = make_tls_crypto(port.crypto_backend(), [0xC0AE])
    md = table.find(0xC0AE).metadata_size
    server = NX_SECURE_DTLS_SERVER()
    sbuf = (bytearray(sizeof(NX_SECURE_DTLS_SESSION)), bytearray(md), bytearray(2048))

    def connect(s, address, port_):
        in_server[0] += 1
        try:
            nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        finally:
            in_server[0] -= 1
        return NX_SUCCESS
    in_server[0] += 1                  # the server's set-up draws (cookie secret) too
    st = nx_secure_dtls_server_create(server, ip, SERVER[1], NX_IP_PERIODIC_RATE, sbuf[0],
                                      len(sbuf[0]), table, sbuf[1], len(sbuf[1]), sbuf[2],
                                      len(sbuf[2]), connect, lambda s: NX_SUCCESS)
    assert st == NX_SUCCESS, hex(st)
    cert = x509.NX_SECURE_X509_CERT()
    st = x509.nx_secure_x509_certificate_initialize(cert, cert_der, len(cert_der), None, 0, sec1,
                                                   len(sec1), x509.NX_SECURE_X509_KEY_TYPE_EC_DER)
    assert st == NX_SUCCESS, hex(st)
    assert nx_secure_dtls_server_local_certificate_add(server, cert, 1) == NX_SUCCESS
    assert nx_secure_dtls_server_start(server) == NX_SUCCESS
    in_server[0] -= 1
    # the server's draws: those made inside its receive hook (or its session start)
    ssock = [x for x in ip._sockets if x is not sock][0]
    hook = ssock._dtls_receive

    def server_hook(packet, a, now):
        in_server[0] += 1
        try:
            hook(packet, a, now)
        finally:
            in_server[0] -= 1
    ssock._dtls_receive = server_hook
    st = _handshake(session, sock, addr)
    assert st == NX_SUCCESS, hex(st)
    events = []
    for src, dst, data in net.captured:
        events.append(["c" if dst[1] == SERVER[1] else "s", hexlify(data).decode()])
    with open(path, "w") as f:
        json.dump({"now": now, "ca": hexlify(cert_der).decode(), "draws": draws,
                   "events": events}, f)
    print("recorded %d datagrams (%d from the client) to %s"
          % (len(events), sum(1 for e in events if e[0] == "c"), path))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    record(sys.argv[1])
