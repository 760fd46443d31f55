"""PSK DTLS echo server for a board (NetX Secure DTLS guide, Figure 1.2 shape).

Sizes come from the board's board_config (sessions, packet pool, reassembly, suites);
the PSK, identity and port from /net_config.json (net_config.example.json). WLAN is
brought up first where the board has one. Copy to the board as main.py to start it on
boot (`make deploy ... MAIN=server`). On the host: python3 boards/common/dtls_echo_server.py
"""
import sys

# The NetX API, as C's #include "nx_secure_dtls_api.h" -- by name: on a board every
# name a program imports costs heap, and a star import also loads what the stack keeps
# for first use (the default crypto tables, the rarely used services).
from nxsecure import (
    NX_CONTINUE, NX_IP, NX_IP_PERIODIC_RATE, NX_NO_WAIT, NX_PACKET, NX_PACKET_POOL,
    NX_SECURE_DTLS_SERVER, NX_SECURE_DTLS_SESSION, NX_SUCCESS, nx_ip_create,
    nx_ip_delete, nx_packet_data_append, nx_packet_data_extract_offset,
    nx_packet_pool_create, nx_packet_pool_delete, nx_packet_release,
    nx_secure_dtls_packet_allocate, nx_secure_dtls_server_create,
    nx_secure_dtls_server_delete, nx_secure_dtls_server_notify_set,
    nx_secure_dtls_server_psk_add, nx_secure_dtls_server_session_send,
    nx_secure_dtls_server_session_start, nx_secure_dtls_server_start,
    nx_secure_dtls_server_stop, nx_secure_dtls_session_client_info_get,
    nx_secure_dtls_session_receive, nx_secure_tls_initialize,
    nx_secure_tls_metadata_size_calculate, nx_system_initialize, nx_udp_enable,
    nxsecure_dtls_server_idle_timeout_set, sizeof, tx_thread_sleep,
)
import net
import nxboard

pool_0 = NX_PACKET_POOL()
ip_0 = NX_IP()
dtls_server = NX_SECURE_DTLS_SERVER()
connected = []      # sessions handed over by connect_notify
readable = []       # sessions handed over by receive_notify
stats = {"connects": 0, "echoed": 0, "errors": 0}


def connect_notify(dtls_session, ip_address, port_):
    connected.append(dtls_session)
    return NX_SUCCESS


def receive_notify(dtls_session):
    readable.append(dtls_session)
    return NX_SUCCESS


def disconnect_notify(dtls_session):
    print("server: client closed its session")
    return NX_SUCCESS


def error_notify(dtls_session, error_code):
    stats["errors"] += 1
    print("server: error_notify 0x%X" % error_code)
    return NX_SUCCESS


def service(data):
    """One pass of the Figure 1.2 loop body: start new sessions, echo what arrived."""
    while connected:
        s = connected.pop(0)
        status = nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        if status in (NX_SUCCESS, NX_CONTINUE):
            stats["connects"] += 1
            status, ip_address, client_port, local_port = nx_secure_dtls_session_client_info_get(s)
            print("server: handshake with a client on port %d" % client_port)
    while readable:
        s = readable.pop(0)
        status, packet = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
        if status:
            continue
        status, n = nx_packet_data_extract_offset(packet, 0, data, len(data))
        nx_packet_release(packet)
        status, send_packet = nx_secure_dtls_packet_allocate(s, pool_0, NX_NO_WAIT)
        if status == NX_SUCCESS:
            nx_packet_data_append(send_packet, data, n, pool_0, NX_NO_WAIT)
            if nx_secure_dtls_server_session_send(s, send_packet):
                nx_packet_release(send_packet)
            else:
                stats["echoed"] += 1


def main(run_ticks=None, settings=None, bind="0.0.0.0"):
    """Serve until run_ticks (NX_IP_PERIODIC_RATE per second) have passed; None: forever."""
    if settings is None:
        net.wlan_connect()
        settings = nxboard.app_settings()
    sessions = nxboard.get("DTLS_SERVER_SESSIONS")
    payload = nxboard.get("PACKET_PAYLOAD")
    table = nxboard.crypto_table()
    status, metadata_size = nx_secure_tls_metadata_size_calculate(table)

    # Caller memory, sized up front as in the C examples.
    packet_pool_area = bytearray(nxboard.get("PACKET_COUNT") * (payload + sizeof(NX_PACKET)))
    session_buffer = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * sessions)
    metadata = bytearray(metadata_size * sessions)
    reassembly = bytearray(nxboard.get("REASSEMBLY_PER_SESSION") * sessions)
    data = bytearray(payload)

    nx_system_initialize()
    nx_packet_pool_create(pool_0, "pool 0", payload, packet_pool_area, len(packet_pool_area))
    nx_ip_create(ip_0, "ip 0", bind, 0xFFFFFF00, pool_0)
    nx_udp_enable(ip_0)
    nx_secure_tls_initialize()
    status = nx_secure_dtls_server_create(
        dtls_server, ip_0, settings["port"], NX_IP_PERIODIC_RATE, session_buffer,
        len(session_buffer), table, metadata, len(metadata), reassembly, len(reassembly),
        connect_notify, receive_notify)
    if status:
        print("server: nx_secure_dtls_server_create failed: 0x%X" % status)
        return status
    nx_secure_dtls_server_notify_set(dtls_server, disconnect_notify, error_notify)
    # a client that vanishes without close_notify must not keep its session for good
    nxsecure_dtls_server_idle_timeout_set(dtls_server,
                                          settings.get("idle_s", 120) * NX_IP_PERIODIC_RATE)
    ident, psk = settings["identity"], settings["psk"]
    nx_secure_dtls_server_psk_add(dtls_server, psk, len(psk), ident, len(ident), None, 0)
    status = nx_secure_dtls_server_start(dtls_server)
    print("server: %s, %d sessions of %d bytes, listening on UDP %d: 0x%X"
          % (nxboard.get("BOARD"), sessions, sizeof(NX_SECURE_DTLS_SESSION), settings["port"], status))
    if status:
        return status
    ticks = 0
    try:
        while run_ticks is None or ticks < run_ticks:
            service(data)
            tx_thread_sleep(1)       # the stack runs (datagrams, timers, callbacks) while we sleep
            ticks += 1
    finally:
        nx_secure_dtls_server_stop(dtls_server)
        nx_secure_dtls_server_delete(dtls_server)
        nx_ip_delete(ip_0)
        nx_packet_pool_delete(pool_0)
    return NX_SUCCESS


if __name__ == "__main__":
    try:
        status = main()
    except net.NetError as e:
        print("server: no network: %s" % e)
        status = 1
    sys.exit(status)
