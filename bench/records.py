"""Record protection alone, in one process: one application record sealed by one end
and opened by the other, for nxsecure's record layer and for Mbed TLS's through
python-mbedtls' memory-buffer API (its record layer with no socket). No I/O, no
services, no second process: the per-record cost the two record layers add.

    python bench/records.py [--reps 5]      -> one JSON line per figure

Each figure is the best of --reps timings of a batch of records (a short batch keeps
the run under a few seconds); median and spread belong to the echo table, where
scheduling matters, not here.
"""
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
            for name, make in (("ours", ours), ("mbedtls", mbedtls)):
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
