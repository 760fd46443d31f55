"""Our DTLS client for the benchmark (Figure 1.1 calls, blocking waits).

    python bench/ours_client.py --port P --suite psk-ccm8 --mode echo --size 100 --seconds 1
    python bench/ours_client.py --port P --suite psk-ccm8 --mode handshake --seconds 1
"""
import sys

import common
from ours_stack import Stack
from nxsecure import *  # noqa: F401,F403


def new_session(stack):
    session = NX_SECURE_DTLS_SESSION()
    # certificate suites: room for the server's chain (certs_number, remote buffer)
    session._mem = (bytearray(stack.md), bytearray(4000),
                    bytearray(4000) if stack.ecdhe else None)
    md, rs, rc = session._mem
    st = nx_secure_dtls_session_create(session, stack.table, md, len(md), rs, len(rs),
                                       2 if rc else 0, rc, len(rc) if rc else 0)
    assert st == NX_SUCCESS, hex(st)
    stack.client_credentials(session)
    return session


def send(stack, session, data, port_):
    st, pkt = nx_secure_dtls_packet_allocate(session, stack.pool, NX_WAIT_FOREVER)
    assert st == NX_SUCCESS, hex(st)
    nx_packet_data_append(pkt, data, len(data), stack.pool, NX_WAIT_FOREVER)
    st = nx_secure_dtls_session_send(session, pkt, stack.server_ip, port_)
    assert st == NX_SUCCESS, hex(st)


def main(argv):
    a = common.args(argv, port=0, suite="psk-ccm8", mode="echo", size=100, seconds=1.0)
    stack = Stack(a["suite"])
    port_ = a["port"]
    sock = NX_UDP_SOCKET()
    assert nx_udp_socket_create(stack.ip, sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                NX_IP_TIME_TO_LIVE, 8) == NX_SUCCESS
    seconds = a["seconds"]
    if a["mode"] == "echo":
        session = new_session(stack)
        st = nx_secure_dtls_client_session_start(session, sock, stack.server_ip, port_,
                                                 5 * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        size = a["size"]
        buf = bytearray(size + 64)

        def echo(data):
            send(stack, session, data, port_)
            st, pkt = nx_secure_dtls_session_receive(session, 2 * NX_IP_PERIODIC_RATE)
            assert st == NX_SUCCESS, hex(st)
            st, n = nx_packet_data_extract_offset(pkt, 0, buf, len(buf))
            nx_packet_release(pkt)
            assert n == size

        measured = common.measure_echoes(echo, size, seconds)
        send(stack, session, common.payload(81, size), port_)
        nx_secure_dtls_session_end(session, NX_NO_WAIT)
        common.emit_echoes(measured)
        return 0
    # sequential full handshakes, each on a fresh session and a fresh port
    count = 0
    c0 = common.cpu()
    t0 = common.now()
    end = t0 + seconds
    while True:
        session = new_session(stack)
        st = nx_secure_dtls_client_session_start(session, sock, stack.server_ip, port_,
                                                 5 * NX_IP_PERIODIC_RATE)
        assert st == NX_SUCCESS, hex(st)
        count += 1
        t = common.now()
        if t >= end:
            break
        nx_secure_dtls_session_end(session, NX_NO_WAIT)
        nx_secure_dtls_session_delete(session)
    c1 = common.cpu()
    send(stack, session, common.payload(81, 16), port_)
    nx_secure_dtls_session_end(session, NX_NO_WAIT)
    common.emit(role="client", what="handshake", count=count, wall_s=t - t0, cpu_s=c1 - c0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
