"""Connection ID (RFC 9146) over real UDP on 127.0.0.1: a client behind a NAT that
rebinds (host_tests/udp_proxy.py) keeps its session; and tshark (Wireshark 4.0, an
independent dissector of RFC 9146 records) decodes our tls12_cid records and, with our
key log, decrypts them in both directions.

No independent DTLS implementation with RFC 9146 Connection IDs installs here: OpenSSL
3.0 and GnuTLS 3.7 have none, python-mbedtls wraps Mbed TLS 2.28 whose CID is the
pre-RFC draft (other extension number and additional data), Debian's pion/dtls 2.2.6
predates its CID support, Debian's libwolfssl 5.5.4 has no CID symbols and PyPI's
wolfssl 5.9.2 does not install (its sdist lacks wolfSSL's sources), Bouncy Castle 1.72
(Debian's libbctls-java) only defines the extension number as far as bc-java issue 1601
tells (not tried). tshark is the outside check."""
import os
import shutil
import struct
import subprocess

import pytest

from dtls_helpers import (
    ServerEvents, free_udp_port, make_client, make_server, receive_all, send_data, v4,
    packet_bytes,
)
from udp_proxy import UdpProxy
from nxsecure import *  # noqa: F401,F403
from nxsecure.connection_id import (
    nxsecure_dtls_session_connection_id_set, nxsecure_dtls_server_connection_id_set,
    nxsecure_dtls_session_connection_id_get,
)

TIMEOUT = 8


class EchoServer:
    def __init__(self, net):
        events = ServerEvents()
        events.on_connect = lambda s, a, p: nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        events.on_receive = self._echo
        self.port = free_udp_port()
        self.server, self.events = make_server(net, self.port, events=events)
        self.net = net
        assert nxsecure_dtls_server_connection_id_set(self.server, 4) == NX_SUCCESS

    def _echo(self, session):
        while True:
            st, pkt = nx_secure_dtls_session_receive(session, NX_NO_WAIT)
            if st != NX_SUCCESS:
                return
            data = packet_bytes(pkt)
            nx_packet_release(pkt)
            st, out = nx_secure_dtls_packet_allocate(session, self.net.pool, NX_NO_WAIT)
            nx_packet_data_append(out, data, len(data), self.net.pool, NX_NO_WAIT)
            if nx_secure_dtls_server_session_send(session, out):
                nx_packet_release(out)


def _echo(session, net, udp_port, msg):
    assert send_data(session, net.pool, msg, v4(), udp_port) == NX_SUCCESS
    return receive_all(session, TIMEOUT * NX_IP_PERIODIC_RATE, lambda b: len(b) >= len(msg))


def test_client_behind_a_rebinding_nat_keeps_its_session(net):
    ours = EchoServer(net)
    with UdpProxy(("127.0.0.1", ours.port)) as proxy:
        session, sock = make_client(net)
        assert nxsecure_dtls_session_connection_id_set(session, b"", 0) == NX_SUCCESS
        st = nx_secure_dtls_client_session_start(session, sock, v4(), proxy.port,
                                                 TIMEOUT * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        assert _echo(session, net, proxy.port, b"before the NAT rebinds") == \
            b"before the NAT rebinds"
        s = ours.events.connects[0][0]
        before = s._peer
        proxy.rebind()
        assert _echo(session, net, proxy.port, b"after it rebound") == b"after it rebound"
        assert proxy.rebinds == 1
        assert s._peer != before and s._peer[1] != before[1]       # the server followed
        assert ours.server._cid.moves == 1
        assert len(ours.events.connects) == 1 and ours.events.errors == []
        assert nxsecure_dtls_session_connection_id_get(session)[2] == \
            nxsecure_dtls_session_connection_id_get(s)[1]
        nx_secure_dtls_session_end(session, NX_NO_WAIT)


def test_without_cid_a_rebinding_nat_loses_the_session(net):
    """The control: the same rebinding without Connection IDs, and the server no longer
    knows the client (its records from the new port are dropped)."""
    ours = EchoServer(net)
    assert nxsecure_dtls_server_connection_id_set(ours.server, 0) == NX_SUCCESS
    with UdpProxy(("127.0.0.1", ours.port)) as proxy:
        session, sock = make_client(net)
        st = nx_secure_dtls_client_session_start(session, sock, v4(), proxy.port,
                                                 TIMEOUT * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS
        assert _echo(session, net, proxy.port, b"one") == b"one"
        proxy.rebind()
        assert send_data(session, net.pool, b"two", v4(), proxy.port) == NX_SUCCESS
        assert receive_all(session, NX_IP_PERIODIC_RATE, lambda b: len(b) >= 3) == b""
        assert ours.server.nxsecure_datagrams_dropped >= 1
        nx_secure_dtls_session_end(session, NX_NO_WAIT)


# ====================================================================== tshark
def _tshark():
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("tshark is missing (make setup installs it)")
        pytest.skip("tshark is not installed (apt-get install tshark)")
    return path


def _pcap(path, datagrams):
    """A pcap of raw IPv4/UDP packets (linktype 101) holding the datagrams."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (src, dst, data) in enumerate(datagrams):
            udp = struct.pack(">HHHH", src[1], dst[1], 8 + len(data), 0) + data
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            f.write(struct.pack("<IIII", i, 0, 20 + len(udp), 20 + len(udp)) + ip + udp)


def test_tshark_decodes_and_decrypts_our_cid_records_both_ways(tmp_path):
    tshark = _tshark()
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "portable"))
    from dtls_pair import Pair, SERVER_PORT
    from nxsecure.port.memnet import MemoryNetwork
    net = MemoryNetwork(capture=True)
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8, net=net)
    keylog = []
    try:
        assert nxsecure_dtls_server_connection_id_set(p.server, 4) == NX_SUCCESS
        assert nxsecure_dtls_session_connection_id_set(p.client, b"\x07\x08", 2) == NX_SUCCESS
        nxsecure_dtls_session_keylog_set(p.client, keylog.append)
        assert p.connect() == NX_SUCCESS
        server_cid = nxsecure_dtls_session_connection_id_get(p.client)[2]
        assert p.echo(b"cid record, decrypted") == b"cid record, decrypted"
    finally:
        p.close()
    cap = os.path.join(str(tmp_path), "cid.pcap")
    kl = os.path.join(str(tmp_path), "keys.txt")
    _pcap(cap, net.captured)
    with open(kl, "w") as f:
        f.write("".join(keylog))
    base = [tshark, "-r", cap, "-d", "udp.port==%d,dtls" % SERVER_PORT,
            "-o", "tls.keylog_file:" + kl]
    fields = subprocess.run(base + ["-T", "fields", "-e", "udp.dstport", "-e",
                                    "dtls.record.content_type", "-e",
                                    "dtls.record.connection_id"],
                            capture_output=True, text=True, timeout=60)
    rows = [ln.split("\t") for ln in fields.stdout.splitlines() if ln.strip()]
    up = [r for r in rows if r[0] == str(SERVER_PORT) and r[2]]
    down = [r for r in rows if r[0] != str(SERVER_PORT) and r[2]]
    # every protected record carries the receiver's CID, and tshark read its real type
    # (23: application data) from the decrypted inner plaintext
    assert up and all(r[2] == server_cid.hex() for r in up), rows
    assert down and all(r[2] == "0708" for r in down), rows
    assert any("23" in r[1].split(",") for r in up) and any("23" in r[1].split(",") for r in down)
    dump = subprocess.run(base + ["-x"], capture_output=True, text=True, timeout=60).stdout
    # the decrypted application data, once each way
    assert dump.count("Decrypted DTLS (21 bytes)") == 2, dump[-3000:]
    assert dump.count("cid record, decr") == 2
