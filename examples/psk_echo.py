"""PSK DTLS echo server and client in one thread, written with the NetX Secure DTLS API
like the guide's Figures 1.1 (client) and 1.2 (server), printing what happens: the way
in for firmware developers (the same calls run on a board). For the Pythonic and asyncio
way in, see examples/gateway.py.

    python3 examples/psk_echo.py [--suite ccm8|ccm|gcm|cbc] [--messages N]
                                 [--bind ADDRESS] [--port N] [--keylog FILE]

--bind is the server's local address (default 127.0.0.1; 0.0.0.0 or :: lets other
hosts in); the demo's client connects to it (to the loopback address for 0.0.0.0 / ::).
Runs on CPython and on MicroPython's unix port.
"""
import sys

import argparse

sys.path.insert(0, __file__.rsplit("/", 2)[0] if "/" in __file__ else "..")

from nxsecure import *                     # noqa: E402,F403
from nxsecure.crypto.table import make_tls_crypto   # noqa: E402
from nxsecure import port                                # noqa: E402

SUITES = {"ccm8": TLS_PSK_WITH_AES_128_CCM_8, "ccm": TLS_PSK_WITH_AES_128_CCM,
          "gcm": TLS_PSK_WITH_AES_128_GCM_SHA256, "cbc": TLS_PSK_WITH_AES_128_CBC_SHA256}
SERVER_PORT = 4443
DTLS_SERVER_SESSIONS = 3
PSK = b"\x1a\x2b\x3c\x4d\x5e\x6f\x70\x81"
IDENTITY = b"sensor-01"

# ---- control blocks and caller memory, as the C examples declare them -------------
pool_0 = NX_PACKET_POOL()
ip_0 = NX_IP()
packet_pool_area = bytearray(16 * (1536 + sizeof(NX_PACKET)))
dtls_server = NX_SECURE_DTLS_SERVER()
dtls_server_session_buffer = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * DTLS_SERVER_SESSIONS)
server_packet_buffer = bytearray(4000)
client_session = NX_SECURE_DTLS_SESSION()
client_socket = NX_UDP_SOCKET()
client_packet_buffer = bytearray(2000)

connected = []          # sessions handed over by connect_notify
readable = []           # sessions handed over by receive_notify


def say(who, text):
    print("%-6s %s" % (who, text))


def dtls_server_connect_notify(dtls_session, ip_address, port_):
    say("server", "connect_notify: client port %d, starting the handshake" % port_)
    connected.append(dtls_session)
    return NX_SUCCESS


def dtls_server_receive_notify(dtls_session):
    readable.append(dtls_session)
    return NX_SUCCESS


def dtls_server_disconnect_notify(dtls_session):
    say("server", "disconnect_notify: the client closed the session")
    return NX_SUCCESS


def dtls_server_error_notify(dtls_session, error_code):
    say("server", "error_notify: 0x%X" % error_code)
    return NX_SUCCESS


def server_service():
    """One pass of the Figure 1.2 loop body: start new sessions, echo received data."""
    while connected:
        s = connected.pop(0)
        status = nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        if status not in (NX_SUCCESS, NX_CONTINUE):
            say("server", "session start failed: 0x%X" % status)
    while readable:
        s = readable.pop(0)
        status, packet = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
        if status:
            continue
        data = bytearray(200)
        status, n = nx_packet_data_extract_offset(packet, 0, data, len(data))
        nx_packet_release(packet)
        status, ip_address, client_port, local_port = nx_secure_dtls_session_client_info_get(s)
        say("server", "received %r from port %d on port %d, echoing" % (bytes(data[:n]), client_port,
                                                                        local_port))
        status, send_packet = nx_secure_dtls_packet_allocate(s, pool_0, NX_NO_WAIT)
        if status == NX_SUCCESS:
            nx_packet_data_append(send_packet, data, n, pool_0, NX_NO_WAIT)
            if nx_secure_dtls_server_session_send(s, send_packet):
                nx_packet_release(send_packet)


def wait_for(condition, ticks):
    """Let the stack run (and serve) until condition() or the ticks run out."""
    for _ in range(ticks):
        server_service()
        if condition():
            return True
        tx_thread_sleep(1)
    return False


def parse_args(argv):
    """The command line, checked here (MicroPython's argparse ignores type= and
    choices=): a wrong value is a clear message and exit status 2, never a traceback."""
    p = argparse.ArgumentParser(description="PSK DTLS echo: server and client in one "
                                "thread over the NetX Secure DTLS API.")
    p.add_argument("--suite", default="ccm8", help="ccm8 (default), ccm, gcm or cbc")
    p.add_argument("--messages", default="3", help="echoes to send (default 3)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="server address (default 127.0.0.1; 0.0.0.0 or :: for all)")
    p.add_argument("--port", default=str(SERVER_PORT), help="server UDP port (default %d)"
                   % SERVER_PORT)
    p.add_argument("--keylog", default=None, help="append the NSS key log line to FILE")
    a = p.parse_args(argv[1:])

    def fail(msg):
        print("psk_echo.py: error: %s (see --help)" % msg, file=sys.stderr)
        sys.exit(2)
    if a.suite not in SUITES:
        fail("unknown --suite %r; choose one of %s" % (a.suite, ", ".join(sorted(SUITES))))
    if not a.messages.isdigit() or int(a.messages) < 1:
        fail("--messages must be a positive number, not %r" % a.messages)
    if not a.port.isdigit() or not 0 < int(a.port) < 65536:
        fail("--port must be 1..65535, not %r" % a.port)
    try:
        NXD_ADDRESS(a.bind)
    except ValueError:
        fail("--bind must be an IP address (127.0.0.1, 0.0.0.0, ::1, ::), not %r" % a.bind)
    return a.suite, int(a.messages), a.bind, int(a.port), a.keylog


def main(argv):
    suite_name, messages, bind, server_port, keylog = parse_args(argv)
    if bind in ("0.0.0.0", "::"):
        target = "::1" if ":" in bind else "127.0.0.1"
    else:
        target = bind
    table = make_tls_crypto(port.crypto_backend(), [SUITES[suite_name]])
    status, metadata_size = nx_secure_tls_metadata_size_calculate(table)

    nx_system_initialize()
    nx_packet_pool_create(pool_0, "NetX Main Packet Pool", 1536, packet_pool_area,
                          len(packet_pool_area))
    nx_ip_create(ip_0, "NetX IP Instance 0", NXD_ADDRESS(bind), 0xFFFFFF00, pool_0)
    nx_udp_enable(ip_0)
    nx_secure_tls_initialize()

    # ---- server (Figure 1.2) -------------------------------------------------------
    server_metadata = bytearray(metadata_size * DTLS_SERVER_SESSIONS)
    status = nx_secure_dtls_server_create(
        dtls_server, ip_0, server_port, NX_IP_PERIODIC_RATE, dtls_server_session_buffer,
        len(dtls_server_session_buffer), table, server_metadata, len(server_metadata),
        server_packet_buffer, len(server_packet_buffer),
        dtls_server_connect_notify, dtls_server_receive_notify)
    say("server", "nx_secure_dtls_server_create: 0x%X (%d sessions of %d bytes)" % (
        status, DTLS_SERVER_SESSIONS, sizeof(NX_SECURE_DTLS_SESSION)))
    nx_secure_dtls_server_notify_set(dtls_server, dtls_server_disconnect_notify,
                                     dtls_server_error_notify)
    # a client that vanishes without close_notify gives its session back after 2 min
    nxsecure_dtls_server_idle_timeout_set(dtls_server, 120 * NX_IP_PERIODIC_RATE)
    nx_secure_dtls_server_psk_add(dtls_server, PSK, len(PSK), IDENTITY, len(IDENTITY), b"gw", 2)
    status = nx_secure_dtls_server_start(dtls_server)
    say("server", "listening on %s port %d: 0x%X" % (bind, server_port, status))
    if status:
        return 1

    # ---- client (Figure 1.1) -------------------------------------------------------
    client_metadata = bytearray(metadata_size)
    nx_secure_dtls_session_create(client_session, table, client_metadata, len(client_metadata),
                                  client_packet_buffer, len(client_packet_buffer), 0, None, 0)
    nx_secure_dtls_psk_add(client_session, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    if keylog:
        out = open(keylog, "a")
        nxsecure_dtls_session_keylog_set(client_session, lambda line: (out.write(line), out.flush()))
    nx_udp_socket_create(ip_0, client_socket, "DTLS Client Socket", NX_IP_NORMAL,
                         NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8)
    server_ip = NXD_ADDRESS(target)

    # The client starts with NX_NO_WAIT so this one thread can also run the server.
    status = nx_secure_dtls_client_session_start(client_session, client_socket, server_ip,
                                                 server_port, NX_NO_WAIT)
    wait_for(lambda: nx_secure_dtls_client_session_start(
        client_session, client_socket, server_ip, server_port, NX_NO_WAIT) != NX_CONTINUE,
        5 * NX_IP_PERIODIC_RATE)
    status = nx_secure_dtls_client_session_start(client_session, client_socket, server_ip,
                                                 server_port, NX_NO_WAIT)
    say("client", "nx_secure_dtls_client_session_start: 0x%X, suite %s" % (status, suite_name))
    if status:
        return 1

    failures = 0
    for k in range(messages):
        request = b"reading %d: 21.%d C" % (k, k)
        status, send_packet = nx_secure_dtls_packet_allocate(client_session, pool_0, NX_NO_WAIT)
        nx_packet_data_append(send_packet, request, len(request), pool_0, NX_NO_WAIT)
        status = nx_secure_dtls_session_send(client_session, send_packet, server_ip, server_port)
        if status:
            nx_packet_release(send_packet)
        say("client", "sent %r: 0x%X" % (request, status))
        reply = []

        def got():
            st, pkt = nx_secure_dtls_session_receive(client_session, NX_NO_WAIT)
            if st == NX_SUCCESS:
                reply.append(bytes(pkt._data()))
                nx_packet_release(pkt)
            return bool(reply)

        wait_for(got, 2 * NX_IP_PERIODIC_RATE)
        say("client", "received %r" % (reply[0] if reply else None))
        if not reply or reply[0] != request:
            failures += 1

    status = nx_secure_dtls_session_end(client_session, NX_NO_WAIT)
    say("client", "nx_secure_dtls_session_end: 0x%X" % status)
    wait_for(lambda: False, 20)
    nx_udp_socket_delete(client_socket)
    nx_secure_dtls_session_delete(client_session)
    nx_secure_dtls_server_stop(dtls_server)
    nx_secure_dtls_server_delete(dtls_server)
    say("done", "%d of %d echoes correct" % (messages - failures, messages))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
