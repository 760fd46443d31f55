# Connection ID (nxsecure/connection_id.py, RFC 9146) between our client and our
# server: negotiation, the tls12_cid record format both ways, a client whose address
# changes keeping its session, and datagrams from a new address that must not move it
# (replayed, forged). Runs under pytest and on MicroPython.
from nxsecure import *
from nxsecure import netx
from nxsecure.codec import Reader, Writer
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import connection_id as C
from nxsecure.connection_id import (
    nxsecure_dtls_session_connection_id_set, nxsecure_dtls_server_connection_id_set,
    nxsecure_dtls_session_connection_id_get,
)

from dtls_pair import Pair, SERVER_PORT

SUITE = TLS_PSK_WITH_AES_128_CCM_8


def test_extension_codec_round_trip():
    buf = bytearray(16)
    w = Writer(buf, 0)
    C.push_connection_id_extension(w, b"\xaa\xbb\xcc")
    got = bytes(buf[:w.pos])
    assert got == b"\x00\x36\x00\x04\x03\xaa\xbb\xcc"             # RFC 9146 3
    assert C.pull_connection_id_extension(Reader(memoryview(got), 4)) == b"\xaa\xbb\xcc"
    w = Writer(buf, 0)
    C.push_connection_id_extension(w, b"")
    assert bytes(buf[:w.pos]) == b"\x00\x36\x00\x01\x00"


def test_additional_data_layout():
    # RFC 9146 5: 8 x 0xff, tls12_cid, cid_length, tls12_cid, version, epoch, seq, cid,
    # length_of_DTLSInnerPlaintext
    r = C.CidRecords(b"\x01\x02", None)
    hdr = bytes([25, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 7])
    got = bytes(r._aad(hdr, 0, b"\x01\x02", 300))
    assert got == b"\xff" * 8 + b"\x19\x02\x19\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x07" \
        + b"\x01\x02\x01\x2c"


def test_services_check_arguments():
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_connection_id_set(None, b"", 0) == NX_PTR_ERROR
        assert nxsecure_dtls_session_connection_id_set(p.client, b"123456789", 9) == \
            NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_connection_id_set(p.client, b"12", 3) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_connection_id_set(p.server, 9) == NX_INVALID_PARAMETERS
        assert nxsecure_dtls_server_connection_id_set(p.client, 4) == NX_PTR_ERROR
        assert nxsecure_dtls_session_connection_id_get(None)[0] == NX_PTR_ERROR
        assert nxsecure_dtls_session_connection_id_get(p.client) == (NX_SUCCESS, None, None)
    finally:
        p.close()


def _cid_pair(client_cid=b"", suite=SUITE, net=None):
    p = Pair(suite, net=net)
    assert nxsecure_dtls_server_connection_id_set(p.server, 4) == NX_SUCCESS
    assert nxsecure_dtls_session_connection_id_set(p.client, client_cid,
                                                   len(client_cid)) == NX_SUCCESS
    return p


def _server_session(p):
    for s in p.server._sessions:
        if s._engine.state == 20:
            return s
    return None


def test_server_cid_used_by_the_client():
    net = MemoryNetwork(capture=True)
    p = _cid_pair(net=net)
    try:
        assert p.connect() == NX_SUCCESS
        s = _server_session(p)
        st, ours, peers = nxsecure_dtls_session_connection_id_get(p.client)
        assert ours is None and len(peers) == 4
        assert nxsecure_dtls_session_connection_id_get(s) == (NX_SUCCESS, peers, None)
        del net.captured[:]
        assert p.echo(b"with a cid") == b"with a cid"
        up = [d for src, dst, d in net.captured if dst[1] == SERVER_PORT]
        down = [d for src, dst, d in net.captured if dst[1] != SERVER_PORT]
        assert up and all(d[0] == 25 and d[11:15] == peers for d in up)     # tls12_cid
        assert down and all(d[0] == 23 for d in down)                      # plain
    finally:
        p.close()


def test_cid_both_ways():
    net = MemoryNetwork(capture=True)
    p = _cid_pair(client_cid=b"\x07\x08", net=net)
    try:
        assert p.connect() == NX_SUCCESS
        del net.captured[:]
        assert p.echo(b"both") == b"both"
        down = [d for src, dst, d in net.captured if dst[1] != SERVER_PORT]
        assert down and all(d[0] == 25 and d[11:13] == b"\x07\x08" for d in down)
        assert nx_secure_dtls_session_end(p.client, NX_NO_WAIT) == NX_SUCCESS
        for _ in range(10):
            tx_thread_sleep(1)
        assert p.disconnects                # the close_notify, in a tls12_cid record
    finally:
        p.close()


def _move_client(p):
    """NAT rebinding: the client's datagrams come from another port from now on."""
    sock = p.sock
    hook = sock._dtls_receive
    old = sock.nx_udp_socket_port
    assert nx_udp_socket_unbind(sock) == NX_SUCCESS
    assert nx_udp_socket_bind(sock, old + 1000, NX_NO_WAIT) == NX_SUCCESS
    sock._dtls_receive = hook
    return old + 1000


def test_client_keeps_its_session_across_an_address_change():
    p = _cid_pair()
    try:
        assert p.connect() == NX_SUCCESS
        assert p.echo(b"before") == b"before"
        s = _server_session(p)
        old = s._peer
        new_port = _move_client(p)
        assert p.echo(b"after the move") == b"after the move"
        assert s._peer[1] == new_port and s._peer != old
        assert p.server._by_addr.get(s._peer) is s and old not in p.server._by_addr
        assert p.server._cid.moves == 1
        assert p.echo(b"and again") == b"and again"
        assert p.errors == [] and len(p.connects) == 1
    finally:
        p.close()


def test_replayed_or_forged_records_from_elsewhere_move_nothing():
    net = MemoryNetwork(capture=True)
    p = _cid_pair(net=net)
    try:
        assert p.connect() == NX_SUCCESS
        del net.captured[:]
        assert p.echo(b"record to replay") == b"record to replay"
        rec = [d for src, dst, d in net.captured if dst[1] == SERVER_PORT][0]
        s = _server_session(p)
        peer = s._peer
        top = s._engine.record.w1.top
        other = NX_UDP_SOCKET()
        assert nx_udp_socket_create(p.ip, other, "attacker", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 8) == NX_SUCCESS
        assert nx_udp_socket_bind(other, 40000, NX_NO_WAIT) == NX_SUCCESS
        forged = bytearray(rec)
        forged[10] ^= 0x40                  # a newer sequence number, not authentic
        for d in (rec, bytes(forged)):
            assert netx._udp_send(other, memoryview(d), ("127.0.0.1", SERVER_PORT)) == 0
            for _ in range(5):
                tx_thread_sleep(1)
        assert s._peer == peer and s._engine.record.w1.top == top
        assert getattr(p.server._cid, "moves", 0) == 0
        assert s._engine.state == 20 and p.readable == []
        assert p.echo(b"unmoved") == b"unmoved"
        nx_udp_socket_unbind(other)
        nx_udp_socket_delete(other)
    finally:
        p.close()


def test_no_cid_for_a_cbc_suite_or_a_server_without_it():
    p = _cid_pair(suite=TLS_PSK_WITH_AES_128_CBC_SHA256)
    try:
        assert p.connect() == NX_SUCCESS
        assert nxsecure_dtls_session_connection_id_get(p.client) == (NX_SUCCESS, None, None)
        assert p.echo(b"plain") == b"plain"
    finally:
        p.close()
    p = Pair(SUITE)
    try:
        assert nxsecure_dtls_session_connection_id_set(p.client, b"", 0) == NX_SUCCESS
        assert p.connect() == NX_SUCCESS
        assert nxsecure_dtls_session_connection_id_get(p.client) == (NX_SUCCESS, None, None)
        assert p.echo(b"plain") == b"plain"
    finally:
        p.close()


def _record_pair(suite):
    from nxsecure import port
    from nxsecure.crypto.table import make_tls_crypto
    from nxsecure.record import RecordLayer, CipherState, SCRATCH_SIZE
    table = make_tls_crypto(port.crypto_backend(), [suite])
    row = table.nx_secure_tls_ciphersuite_lookup_table[0]
    key = bytes(range(16))
    mac = bytes(range(32))
    iv = b"\xa0\xa1\xa2\xa3"
    md = bytearray(2048)
    a = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
    b = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
    r = C.CidRecords(b"\x0c\x1d\x00", b"\x0c\x1d\x00")   # a CID may end in zero bytes
    a.cidw = r
    b.cidr = r
    a.set_pending(None, CipherState(row, key, mac, iv, memoryview(md)[0:512],
                                    memoryview(md)[512:768]))
    b.set_pending(CipherState(row, key, mac, iv, memoryview(md)[1024:1536],
                              memoryview(md)[1536:1792]), None)
    a.activate_write()
    b.activate_read()
    return a, b


def test_tls12_cid_records_seal_open_and_tamper():
    # both protections: AEAD and MAC-then-encrypt, with the RFC 9146 5 inputs
    for suite in (TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CBC_SHA256):
        a, b = _record_pair(suite)
        assert a.prefix1 == 13 + 3 + (8 if suite == TLS_PSK_WITH_AES_128_CCM_8 else 16)
        buf = bytearray(200)
        pre = a.write_prefix(1)
        buf[pre:pre + 5] = b"hello"
        n = a.seal(buf, 0, 23, 1, 5)
        assert buf[0] == 25 and bytes(buf[11:14]) == b"\x0c\x1d\x00"
        assert n <= a.overhead1 + 5
        saved = bytes(buf[:n])
        assert b.open(buf, 0, n) == NX_SUCCESS
        assert b.r_type == 23 and bytes(buf[b.r_off:b.r_off + b.r_len]) == b"hello"
        b.accept()
        buf[:n] = saved
        assert b.open(buf, 0, n) == NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
        for i in (0, 4, 10, 12, 14, 20, n - 1):   # type, epoch, seq, CID, length, body
            t = bytearray(saved)
            t[i] ^= 1
            assert b.open(t, 0, n) != NX_SUCCESS, (suite, i)
