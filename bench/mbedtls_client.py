"""python-mbedtls DTLS client for the benchmark (blocking socket).

    python bench/mbedtls_client.py --port P --suite psk-ccm8 --mode echo --size 100 --seconds 1
"""
import socket
import sys
from contextlib import suppress

import common
from mbedtls_stack import config
from mbedtls import tls


def connect(ctx, port_):
    sock = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), server_hostname=None
                           if not ctx.configuration.trust_store else "bench")
    sock.connect(("127.0.0.1", port_))
    sock.do_handshake()
    return sock


def close(sock):
    with suppress(Exception):
        sock.shutdown(socket.SHUT_RDWR)       # sends close_notify
    with suppress(Exception):
        sock.close()


def main(argv):
    a = common.args(argv, port=0, suite="psk-ccm8", mode="echo", size=100, seconds=1.0)
    ctx = tls.ClientContext(config(a["suite"], False))
    port_ = a["port"]
    seconds = a["seconds"]
    if a["mode"] == "echo":
        sock = connect(ctx, port_)
        size = a["size"]
        warm = common.payload(87, size)
        meas = common.payload(77, size)
        for _ in range(common.WARMUP):
            sock.send(warm)
            assert len(sock.recv(2048)) == size
        count = 0
        c0 = common.cpu()
        t0 = common.now()
        end = t0 + seconds
        while True:
            for _ in range(20):
                sock.send(meas)
                assert len(sock.recv(2048)) == size
            count += 20
            t = common.now()
            if t >= end:
                break
        c1 = common.cpu()
        sock.send(common.payload(81, size))
        close(sock)
        common.emit(role="client", what="echo", count=count, wall_s=t - t0, cpu_s=c1 - c0)
        return 0
    count = 0
    c0 = common.cpu()
    t0 = common.now()
    end = t0 + seconds
    while True:
        sock = connect(ctx, port_)
        count += 1
        t = common.now()
        if t >= end:
            break
        close(sock)
    c1 = common.cpu()
    sock.send(common.payload(81, 16))
    close(sock)
    common.emit(role="client", what="handshake", count=count, wall_s=t - t0, cpu_s=c1 - c0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
