"""Our DTLS server for the benchmark: echo (one session, the application blocks in
nx_secure_dtls_session_receive) or sequential handshakes (connect_notify starts each
session, the client's close_notify frees it).

    python bench/ours_server.py --port P --suite psk-ccm8 --mode echo|handshake
"""
import sys

import common
from ours_stack import Stack
from nxsecure import *  # noqa: F401,F403

SESSIONS = 4


def main(argv):
    a = common.args(argv, port=0, suite="psk-ccm8", mode="echo")
    stack = Stack(a["suite"])
    stats = common.ServerStats()
    connected = []
    readable = []
    server = NX_SECURE_DTLS_SERVER()
    sbuf = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * SESSIONS)
    md = bytearray(stack.md * SESSIONS)
    rs = bytearray(4000 * SESSIONS)

    def connect_notify(session, ip_address, port_):
        if a["mode"] == "echo":
            connected.append(session)
        else:
            # start the handshake right here (a callback may call any service), so no
            # datagram waits for the application loop's next turn
            stats.start()
            stats.count += 1
            nx_secure_dtls_server_session_start(session, NX_NO_WAIT)
        return NX_SUCCESS

    def receive_notify(session):
        if a["mode"] != "echo":            # echo: the application blocks in receive
            readable.append(session)
        return NX_SUCCESS

    def disconnect_notify(session):
        return NX_SUCCESS

    def error_notify(session, code):
        return NX_SUCCESS

    st = nx_secure_dtls_server_create(server, stack.ip, a["port"], NX_IP_PERIODIC_RATE, sbuf,
                                      len(sbuf), stack.table, md, len(md), rs, len(rs),
                                      connect_notify, receive_notify)
    assert st == NX_SUCCESS, hex(st)
    nx_secure_dtls_server_notify_set(server, disconnect_notify, error_notify)
    stack.server_credentials(server)
    assert nx_secure_dtls_server_start(server) == NX_SUCCESS
    common.ready()
    data = bytearray(2048)

    if a["mode"] == "echo":
        while not connected:
            tx_thread_sleep(1)
        s = connected.pop(0)
        st = nx_secure_dtls_server_session_start(s, NX_WAIT_FOREVER)
        assert st == NX_SUCCESS, hex(st)
        pool = stack.pool
        while True:
            st, pkt = nx_secure_dtls_session_receive(s, NX_WAIT_FOREVER)
            if st:
                break
            st, n = nx_packet_data_extract_offset(pkt, 0, data, len(data))
            nx_packet_release(pkt)
            if stats.tag(data[0]):
                break
            st, out = nx_secure_dtls_packet_allocate(s, pool, NX_WAIT_FOREVER)
            nx_packet_data_append(out, data, n, pool, NX_WAIT_FOREVER)
            if nx_secure_dtls_server_session_send(s, out):
                nx_packet_release(out)
        stats.report("echo")
    else:
        done = False
        while not done:
            tx_thread_sleep(1)
            while readable:
                s = readable.pop(0)
                st, pkt = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
                if st == NX_SUCCESS:
                    nx_packet_data_extract_offset(pkt, 0, data, len(data))
                    nx_packet_release(pkt)
                    if data[0] == 81:
                        done = True
        stats.report("handshake")
    nx_secure_dtls_server_stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
