"""Sensor client for a board: every period it sends a reading to a PSK DTLS server and
waits for the echo; after a failure (handshake, send or no reply) it ends the session
and reconnects, backing off from 1 s doubling to 60 s. NetX API (Figure 1.1 shape).

Server, port, PSK and identity come from /net_config.json (net_config.example.json),
as do "readings" (how many to send; forever when absent) and "period_s";
sizes and suites from the board's board_config. Copy to the board as main.py to start
it on boot (`make deploy ... MAIN=client`). On the host:
    python3 boards/common/dtls_sensor_client.py
"""
import sys

# The NetX API, as C's #include "nx_secure_dtls_api.h" -- by name: on a board every
# name a program imports costs heap, and a star import also loads what the stack keeps
# for first use (the default crypto tables, the rarely used services).
from nxsecure import (
    NXD_ADDRESS, NX_FRAGMENT_OKAY, NX_IP, NX_IP_NORMAL, NX_IP_PERIODIC_RATE,
    NX_IP_TIME_TO_LIVE, NX_IP_VERSION_V4, NX_NO_WAIT, NX_PACKET, NX_PACKET_POOL,
    NX_SECURE_DTLS_SESSION, NX_SECURE_TLS_INVALID_PACKET, NX_SUCCESS, NX_UDP_SOCKET,
    nx_ip_create, nx_ip_delete, nx_packet_data_append, nx_packet_data_extract_offset,
    nx_packet_pool_create, nx_packet_pool_delete, nx_packet_release,
    nx_secure_dtls_client_session_start, nx_secure_dtls_packet_allocate,
    nx_secure_dtls_psk_add, nx_secure_dtls_session_create,
    nx_secure_dtls_session_delete, nx_secure_dtls_session_end,
    nx_secure_dtls_session_receive, nx_secure_dtls_session_send,
    nx_secure_tls_initialize, nx_secure_tls_metadata_size_calculate,
    nx_system_initialize, nx_udp_enable, nx_udp_socket_create, nx_udp_socket_delete,
    sizeof, tx_thread_sleep,
)
import net
import nxboard

pool_0 = NX_PACKET_POOL()
ip_0 = NX_IP()
stats = {"sent": 0, "echoed": 0, "connects": 0, "failures": 0}


def read_sensor():
    """A reading: the chip's temperature where the firmware offers it, else a counter."""
    try:
        import esp32
        return "%.1f C" % ((esp32.raw_temperature() - 32) / 1.8)
    except (ImportError, AttributeError):
        pass
    try:
        import machine
        adc = machine.ADC(4)             # RP2040 internal temperature sensor
        v = adc.read_u16() * 3.3 / 65535
        return "%.1f C" % (27 - (v - 0.706) / 0.001721)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    return "reading %d" % (stats["sent"] + stats["failures"])


class Link:
    """One DTLS client session and its caller memory, created once and reused."""

    def __init__(self, table, settings):
        status, md = nx_secure_tls_metadata_size_calculate(table)
        self.table = table
        self.settings = settings
        self.metadata = bytearray(md)
        self.reassembly = bytearray(nxboard.get("REASSEMBLY_PER_SESSION"))
        self.session = NX_SECURE_DTLS_SESSION()
        self.socket = NX_UDP_SOCKET()
        self.server_ip = NXD_ADDRESS()
        self.server_ip.nxd_ip_version = NX_IP_VERSION_V4
        self.server_ip.nxd_ip_address.v4 = nxboard.parse_ipv4(settings["server"])
        self.reply = bytearray(nxboard.get("PACKET_PAYLOAD"))
        self.up = False

    def connect(self, wait):
        s = self.session
        nx_secure_dtls_session_create(s, self.table, self.metadata, len(self.metadata),
                                      self.reassembly, len(self.reassembly), 0, None, 0)
        ident, psk = self.settings["identity"], self.settings["psk"]
        nx_secure_dtls_psk_add(s, psk, len(psk), ident, len(ident), None, 0)
        nx_udp_socket_create(ip_0, self.socket, "sensor", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                             NX_IP_TIME_TO_LIVE, 4)
        status = nx_secure_dtls_client_session_start(s, self.socket, self.server_ip,
                                                     self.settings["port"], wait)
        self.up = status == NX_SUCCESS
        if not self.up:
            self.close()
        return status

    def exchange(self, text, wait):
        """Send one reading, wait for its echo; NX_SUCCESS or the failing status."""
        s = self.session
        status, packet = nx_secure_dtls_packet_allocate(s, pool_0, NX_NO_WAIT)
        if status:
            return status
        data = text.encode()
        nx_packet_data_append(packet, data, len(data), pool_0, NX_NO_WAIT)
        status = nx_secure_dtls_session_send(s, packet, self.server_ip, self.settings["port"])
        if status:
            nx_packet_release(packet)
            return status
        stats["sent"] += 1
        status, packet = nx_secure_dtls_session_receive(s, wait)
        if status:
            return status
        status, n = nx_packet_data_extract_offset(packet, 0, self.reply, len(self.reply))
        nx_packet_release(packet)
        if self.reply[:n] != data:
            return NX_SECURE_TLS_INVALID_PACKET
        stats["echoed"] += 1
        return NX_SUCCESS

    def close(self):
        if self.up:
            nx_secure_dtls_session_end(self.session, NX_NO_WAIT)
        self.up = False
        nx_secure_dtls_session_delete(self.session)
        nx_udp_socket_delete(self.socket)


def main(readings=None, period_s=None, settings=None, bind="0.0.0.0"):
    """Send `readings` readings (None: as /net_config.json says, else forever), one every
    period_s seconds (None: as the config says, else 10)."""
    if settings is None:
        net.wlan_connect()
        settings = nxboard.app_settings()
    if readings is None:
        readings = settings.get("readings")
    if period_s is None:
        period_s = settings.get("period_s", 10)
    payload = nxboard.get("PACKET_PAYLOAD")
    pool_area = bytearray(4 * (payload + sizeof(NX_PACKET)))
    nx_system_initialize()
    nx_packet_pool_create(pool_0, "pool 0", payload, pool_area, len(pool_area))
    nx_ip_create(ip_0, "ip 0", bind, 0xFFFFFF00, pool_0)
    nx_udp_enable(ip_0)
    nx_secure_tls_initialize()
    link = Link(nxboard.crypto_table(), settings)
    backoff = 1
    done = 0
    try:
        while readings is None or done < readings:
            if not link.up:
                status = link.connect(10 * NX_IP_PERIODIC_RATE)
                print("client: handshake with %s:%d: 0x%X" % (settings["server"], settings["port"], status))
                if status:
                    stats["failures"] += 1
                    tx_thread_sleep(backoff * NX_IP_PERIODIC_RATE)
                    backoff = min(backoff * 2, 60)
                    continue
                stats["connects"] += 1
                backoff = 1
            reading = read_sensor()
            status = link.exchange(reading, 5 * NX_IP_PERIODIC_RATE)
            print("client: sent %r: 0x%X" % (reading, status))
            if status:
                stats["failures"] += 1
                link.close()              # reconnect on the next pass
                continue
            done += 1
            if readings is None or done < readings:
                tx_thread_sleep(period_s * NX_IP_PERIODIC_RATE)
    finally:
        if link.up:
            link.close()
        nx_ip_delete(ip_0)
        nx_packet_pool_delete(pool_0)
    print("client: done: %(echoed)d echoed of %(sent)d sent, %(connects)d handshakes, "
          "%(failures)d failures" % stats)
    return stats


if __name__ == "__main__":
    try:
        main()
    except net.NetError as e:
        print("client: no network: %s" % e)
        sys.exit(1)
    sys.exit(0)
