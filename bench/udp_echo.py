"""Raw Python UDP echo (no DTLS): the floor for one Python process per side.

    python bench/udp_echo.py server --port P
    python bench/udp_echo.py client --port P --size 100 --seconds 1

With --mode aead (the "floor" row of `make bench`), each side also makes the two pyca
calls a DTLS record needs at the least: AEAD-encrypt what it sends and AEAD-decrypt
what it receives (--suite psk-ccm8: AESCCM with an 8-byte tag; psk-gcm: AESGCM), with
a 13-byte header in front, and nothing else: no record parsing, no replay window, no
packet pool, no API. That is the best any CPython DTLS stack over pyca can do here.

With --mode record, each side runs nxsecure's own record layer (nxsecure/record.py:
header, nonce, AEAD through the crypto table, header parse, epoch and replay-window
check and mark) straight over the socket, without the NetX services, packet pool or
pump. Between it and the nxsecure row lies what the NetX API layer costs.
"""
import os
import socket
import sys

import common


class Aead:
    """seal(payload) -> header || ciphertext || tag; open(datagram) -> plaintext."""

    def __init__(self, suite):
        from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
        key = bytes(16)
        self.aead = AESCCM(key, tag_length=8) if suite == "psk-ccm8" else AESGCM(key)
        self.head = bytes(13)
        self.nonce = bytes(12)

    def seal(self, data):
        return self.head + self.aead.encrypt(self.nonce, data, self.head)

    def open(self, data):
        return self.aead.decrypt(self.nonce, data[13:], self.head)

    def recv_open(self, sock):
        """-> (plaintext, addr) for the next datagram."""
        d, addr = sock.recvfrom(2048)
        return self.open(d), addr


class Records:
    """nxsecure's RecordLayer in epoch 1, both directions keyed alike; the datagram is
    sealed in self.tx and opened in place in self.rx."""

    def __init__(self, suite):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from nxsecure import port
        from nxsecure import const
        from nxsecure.crypto.table import make_tls_crypto
        from nxsecure.record import CipherState, RecordLayer, SCRATCH_SIZE
        code = (const.TLS_PSK_WITH_AES_128_CCM_8 if suite == "psk-ccm8"
                else const.TLS_PSK_WITH_AES_128_GCM_SHA256)
        row = make_tls_crypto(port.crypto_backend(), [code]) \
            .nx_secure_tls_ciphersuite_lookup_table[0]
        md = memoryview(bytearray(512))
        rl = self.rl = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
        rl.set_pending(CipherState(row, bytes(16), b"", bytes(4), md[:256], None),
                       CipherState(row, bytes(16), b"", bytes(4), md[256:], None))
        rl.activate_read()
        rl.activate_write()
        self.tx = memoryview(bytearray(2048))
        self.rx = memoryview(bytearray(2048))

    def seal(self, data):
        rl = self.rl
        pre = rl.prefix1
        n = len(data)
        self.tx[pre:pre + n] = data
        return self.tx[:rl.seal(self.tx, 0, 23, 1, n)]

    def _open(self, n):
        """The record in rx[:n] -> its plaintext view, or None if it does not open."""
        rl = self.rl
        if rl.open(self.rx, 0, n):
            return None
        rl.w1.mark(rl.r_seq)
        return self.rx[rl.r_off:rl.r_off + rl.r_len]

    def recv_open(self, sock):
        """-> (plaintext view or None, addr) for the next datagram."""
        n, addr = sock.recvfrom_into(self.rx)
        return self._open(n), addr

    def open_copy(self, record):
        """Open a record held elsewhere (bench/records.py: no socket)."""
        n = len(record)
        self.rx[:n] = record
        return self._open(n)


CODECS = {"aead": Aead, "record": Records}


def server(a):
    if a["mode"] in CODECS:
        return server_codec(a, CODECS[a["mode"]](a["suite"]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a["port"]))
    stats = common.ServerStats()
    buf = bytearray(2048)
    mv = memoryview(buf)
    common.ready()
    while True:
        n, addr = s.recvfrom_into(buf)
        if stats.tag(buf[0]):
            break
        s.sendto(mv[:n], addr)
    stats.report("echo")


def server_codec(a, c):
    """The echo server with each datagram opened and each reply sealed by c."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a["port"]))
    stats = common.ServerStats()
    common.ready()
    while True:
        p, addr = c.recv_open(s)
        if p is None:
            continue
        if stats.tag(p[0]):
            break
        s.sendto(c.seal(p), addr)
    stats.report("echo")


def client(a):
    if a["mode"] in CODECS:
        return client_codec(a, CODECS[a["mode"]](a["suite"]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", a["port"]))
    size = a["size"]

    def echo(data):
        s.send(data)
        assert len(s.recv(2048)) == size

    measured = common.measure_echoes(echo, size, a["seconds"])
    s.send(common.payload(81, size))
    common.emit_echoes(measured)


def client_codec(a, c):
    """The echo client with each datagram sealed and each reply opened by c."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", a["port"]))
    size = a["size"]

    def echo(data):
        s.send(c.seal(data))
        assert len(c.recv_open(s)[0]) == size

    measured = common.measure_echoes(echo, size, a["seconds"])
    s.send(c.seal(common.payload(81, size)))
    common.emit_echoes(measured)


if __name__ == "__main__":
    a = common.args(sys.argv[1:], port=0, size=100, seconds=1.0, suite="", mode="echo")
    (server if sys.argv[1] == "server" else client)(a)
