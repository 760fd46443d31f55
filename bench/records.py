"""Record protection alone, in one process: one application record sealed by one end
and opened by the other, for nxsecure's record layer and for Mbed TLS's through
python-mbedtls' memory-buffer API (its record layer with no socket). No I/O, no
services, no second process: the per-record cost the two record layers add. A third
figure is a lower bound rather than a record layer: the struct work every CPython DTLS
record needs besides its two AEAD calls, inlined, with nothing else (`framing`).

    python bench/records.py [--reps 5]      -> one JSON line per figure

Each figure is the best of --reps timings of a batch of records (a short batch keeps
the run under a few seconds); median and spread belong to the echo table, where
scheduling matters, not here.
"""
import struct
import sys
import timeit

import common
from udp_echo import Records

SUITES = ("psk-ccm8", "psk-gcm")
SIZES = (100, 1000)
BATCH = 20000


def ours(suite, size):
    a = Records(suite)
    b = Records(suite)
    data = common.payload(77, size)

    def one():
        d = a.seal(data)
        assert len(b.open_copy(d)) == size
    return one


def framing(suite, size):
    """Seal's header (RFC 6347 4.1: epoch and sequence number), additional data (RFC
    5246 6.2.3.3) and explicit nonce (RFC 5288 3); open's parse, epoch and replay check
    (RFC 6347 4.1.2.6), additional data and nonce; the window mark. One function, struct
    for every field, no AEAD, no copy of the payload, no call of ours."""
    head = struct.Struct(">BHQH")
    ad = struct.Struct(">QBHH")
    es8 = struct.Struct(">Q")
    buf = bytearray(RECORD_ROOM)
    aad = bytearray(13)
    wnonce = bytearray(12)
    rnonce = bytearray(12)
    bits = bytearray(8)
    st = [0, -1]                      # next sequence number, window top

    def one():
        seq = st[0]
        st[0] = seq + 1
        es = (1 << 48) | seq
        head.pack_into(buf, 0, 23, 0xFEFD, es, 16 + size)
        ad.pack_into(aad, 0, es, 23, 0xFEFD, size)
        es8.pack_into(buf, 13, es)
        es8.pack_into(wnonce, 4, es)
        ctype, version, es2, length = head.unpack_from(buf, 0)
        s = es2 & 0xFFFFFFFFFFFF
        assert es2 >> 48 == 1 and version == 0xFEFD and 13 + length <= RECORD_ROOM
        top = st[1]
        assert s > top or (top - s < 64 and not (bits[(s & 63) >> 3] >> (s & 7)) & 1)
        ad.pack_into(aad, 0, es2, ctype, version, length - 16)
        rnonce[4:12] = buf[13:21]
        if s > top:
            st[1] = s
        i = s & 63
        bits[i >> 3] |= 1 << (i & 7)
    return one


RECORD_ROOM = 2048


def mbedtls_pair(suite):
    """A client and a server wrapped buffer, handshake done, no socket."""
    from mbedtls import tls
    from mbedtls_stack import config
    cli = tls.ClientContext(config(suite, False)).wrap_buffers(None)
    srv = tls.ServerContext(config(suite, True)).wrap_buffers()
    srv.setcookieparam(b"127.0.0.1:1")

    def move(a, b):
        while True:
            out = a.peek_outgoing(4096)
            if not out:
                return
            a.consume_outgoing(len(out))
            b.receive_from_network(out)
    over = tls.HandshakeStep.HANDSHAKE_OVER
    for _ in range(50):
        for side in (cli, srv):
            if side._handshake_state is over:
                continue
            try:
                side.do_handshake()
            except (tls.WantReadError, tls.WantWriteError):
                pass
            except tls.HelloVerifyRequest:
                # the server answered with a cookie: the HelloVerifyRequest goes out,
                # and the server context starts over for the cookie ClientHello
                # (python-mbedtls' accept() does the same on a socket)
                move(srv, cli)
                srv._reset()
                srv.setcookieparam(b"127.0.0.1:1")
        move(cli, srv)
        move(srv, cli)
        if cli._handshake_state is over and srv._handshake_state is over:
            return cli, srv
    raise RuntimeError("python-mbedtls buffer handshake did not finish")


def mbedtls(suite, size):
    cli, srv = mbedtls_pair(suite)
    data = common.payload(77, size)
    buf = bytearray(2048)

    def one():
        cli.write(data)
        out = cli.peek_outgoing(4096)
        cli.consume_outgoing(len(out))
        srv.receive_from_network(out)
        assert srv.readinto(buf, 2048) == size
    return one


def main(argv):
    a = common.args(argv, reps=5)
    failed = 0
    for suite in SUITES:
        for size in SIZES:
            for name, make in (("ours", ours), ("mbedtls", mbedtls), ("framing", framing)):
                try:
                    one = make(suite, size)
                    for _ in range(1000):
                        one()
                    t = min(timeit.repeat(one, number=BATCH, repeat=a["reps"])) / BATCH
                except Exception as e:      # noqa: BLE001  (reported; the others go on)
                    failed = 1
                    print("records: %s %s %d B failed: %r" % (name, suite, size, e),
                          file=sys.stderr)
                    continue
                common.emit(impl=name, suite=suite, size=size, us=t * 1e6)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
