"""python-mbedtls DTLS server for the benchmark: accept, HelloVerifyRequest (cookie
bound to the client address), accept again, handshake; then echo until Q, or (in
handshake mode) read until the client's close_notify and accept the next client.

    python bench/mbedtls_server.py --port P --suite psk-ccm8 --mode echo|handshake
"""
import socket
import sys

import common
from mbedtls_stack import config
from mbedtls import tls


def handshake(listener):
    conn, addr = listener.accept()
    conn.setcookieparam(addr[0].encode("ascii"))
    try:
        conn.do_handshake()
    except tls.HelloVerifyRequest:
        pass
    conn2, addr = conn.accept()
    conn.close()
    conn2.setcookieparam(addr[0].encode("ascii"))
    conn2.do_handshake()
    return conn2


def main(argv):
    a = common.args(argv, port=0, suite="psk-ccm8", mode="echo")
    ctx = tls.ServerContext(config(a["suite"], True))
    listener = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", a["port"]))
    stats = common.ServerStats()
    common.ready()
    if a["mode"] == "echo":
        conn = handshake(listener)
        while True:
            data = conn.recv(2048)
            if stats.tag(data[0]):
                break
            conn.send(data)
        stats.report("echo")
        return 0
    while True:
        stats.start()
        conn = handshake(listener)
        stats.count += 1
        quit_ = False
        try:
            while True:
                data = conn.recv(2048)
                if not data:
                    break
                if data[0] == 81:
                    quit_ = True
                    break
        except Exception:          # close_notify or a closed peer ends the connection
            pass
        try:
            conn.close()
        except Exception:
            pass
        if quit_:
            break
    stats.report("handshake")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
