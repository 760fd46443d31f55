"""Certificate-based DTLS echo on 127.0.0.1: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (0xC0AE)
with a P-256 server certificate, written like the NetX Secure DTLS guide's Figures 1.2
(server: identity certificate with its key) and 1.1 (client: trusted CA, remote
certificate space), one thread, printing what happens. The CA and the server
certificate are made at run time with pyca `cryptography` (host only).

    python3 examples/cert_echo.py [--messages N] [--bind ADDRESS] [--port N]

--bind is the server's local address (default 127.0.0.1; 0.0.0.0 lets other hosts in);
the demo's client connects to it (to 127.0.0.1 for 0.0.0.0). Certificates for real
devices: `python -m nxsecure ca` / `cert` (README, "Command line").
"""
import argparse
import datetime
import sys

sys.path.insert(0, __file__.rsplit("/", 2)[0] if "/" in __file__ else "..")

from cryptography import x509                                     # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec          # noqa: E402
from cryptography.x509.oid import NameOID                         # noqa: E402

from nxsecure import *                     # noqa: E402,F403
from nxsecure.x509 import *                # noqa: E402,F403
from nxsecure.sni import *                 # noqa: E402,F403
from nxsecure.session_info import *        # noqa: E402,F403
from nxsecure.crypto.table import make_tls_crypto   # noqa: E402
from nxsecure import port, netx                          # noqa: E402

SUITE = TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8        # 0xC0AE
SERVER_PORT = 4444
SERVER_NAME = "sensor-gw.example"


def make_certificates():
    """A root CA and a server certificate it signs: (ca DER, server DER, server key DER)."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def build(cn, key, issuer, signer, ca):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer or name).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        # Key identifiers (RFC 5280 4.2.1.1-2): the verifier requires them, as CA tools write them.
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                            critical=False)
        if issuer is not None:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer.public_key()), critical=False)
        return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER), name

    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    ca_der, ca_name = build("Example Root CA", ca_key, None, ca_key, True)
    der, _ = build(SERVER_NAME, key, ca_name, ca_key, False)
    key_der = key.private_bytes(serialization.Encoding.DER,        # SEC 1 ECPrivateKey
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return ca_der, der, key_der


# ---- control blocks and caller memory, as the C examples declare them -------------
pool_0 = NX_PACKET_POOL()
ip_0 = NX_IP()
packet_pool_area = bytearray(16 * (1536 + sizeof(NX_PACKET)))
dtls_server = NX_SECURE_DTLS_SERVER()
dtls_server_session_buffer = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * 2)
server_packet_buffer = bytearray(2 * 4000)
server_certificate = NX_SECURE_X509_CERT()
client_session = NX_SECURE_DTLS_SESSION()
client_socket = NX_UDP_SOCKET()
client_packet_buffer = bytearray(4000)
trusted_certificate = NX_SECURE_X509_CERT()
server_dns_name = NX_SECURE_X509_DNS_NAME()
remote_certificate_buffer = bytearray(2 * 1000)   # room for the server's chain
connected, readable = [], []


def say(who, text):
    print("%-6s %s" % (who, text))


def server_service():
    while connected:
        status = nx_secure_dtls_server_session_start(connected.pop(0), NX_NO_WAIT)
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
        say("server", "received %r, echoing" % bytes(data[:n]))
        status, out = nx_secure_dtls_packet_allocate(s, pool_0, NX_NO_WAIT)
        nx_packet_data_append(out, data, n, pool_0, NX_NO_WAIT)
        if nx_secure_dtls_server_session_send(s, out):
            nx_packet_release(out)


def wait_for(condition, ticks):
    for _ in range(ticks):
        server_service()
        if condition():
            return True
        tx_thread_sleep(1)
    return False


def parse_args(argv):
    def positive(text):
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError("must be a positive number, not %r" % text)
        return int(text)

    def udp_port(text):
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise argparse.ArgumentTypeError("must be 1..65535, not %r" % text)
        return int(text)

    def ipv4(text):
        if netx._v4_parse(text) is None:
            raise argparse.ArgumentTypeError("not an IPv4 address: %r" % text)
        return text
    p = argparse.ArgumentParser(description="Certificate DTLS echo (ECDHE-ECDSA, P-256): "
                                "server and client in one thread over the NetX Secure DTLS API.")
    p.add_argument("--messages", type=positive, default=3, help="echoes to send (default 3)")
    p.add_argument("--bind", type=ipv4, default="127.0.0.1",
                   help="server address (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=udp_port, default=SERVER_PORT,
                   help="server UDP port (default %d)" % SERVER_PORT)
    return p.parse_args(argv[1:])


def main(argv):
    args = parse_args(argv)
    messages = args.messages
    server_port = args.port
    target = "127.0.0.1" if args.bind == "0.0.0.0" else args.bind
    ca_der, server_der, server_key_der = make_certificates()
    say("setup", "made a P-256 CA and a server certificate for %s with pyca" % SERVER_NAME)
    table = make_tls_crypto(port.crypto_backend(), [SUITE])
    status, metadata_size = nx_secure_tls_metadata_size_calculate(table)
    server_metadata = bytearray(2 * metadata_size)
    client_metadata = bytearray(metadata_size)

    nx_system_initialize()
    nx_packet_pool_create(pool_0, "NetX Main Packet Pool", 1536, packet_pool_area,
                          len(packet_pool_area))
    nx_ip_create(ip_0, "NetX IP Instance 0", args.bind, 0xFFFFFF00, pool_0)
    nx_udp_enable(ip_0)
    nx_secure_tls_initialize()

    # ---- Figure 1.2: the server with its identity certificate and key --------------
    status = nx_secure_dtls_server_create(
        dtls_server, ip_0, server_port, NX_IP_PERIODIC_RATE, dtls_server_session_buffer,
        len(dtls_server_session_buffer), table, server_metadata, len(server_metadata),
        server_packet_buffer, len(server_packet_buffer),
        lambda s, ip, p: connected.append(s) or NX_SUCCESS,
        lambda s: readable.append(s) or NX_SUCCESS)
    say("server", "nx_secure_dtls_server_create: 0x%X" % status)
    nx_secure_dtls_server_notify_set(
        dtls_server, lambda s: say("server", "disconnect_notify: client closed") or 0,
        lambda s, code: say("server", "error_notify: 0x%X" % code) or 0)
    # a client that vanishes without close_notify gives its session back after 2 min
    nxsecure_dtls_server_idle_timeout_set(dtls_server, 120 * NX_IP_PERIODIC_RATE)
    status = nx_secure_x509_certificate_initialize(
        server_certificate, server_der, len(server_der), None, 0, server_key_der,
        len(server_key_der), NX_SECURE_X509_KEY_TYPE_EC_DER)
    say("server", "nx_secure_x509_certificate_initialize: 0x%X" % status)
    status = nx_secure_dtls_server_local_certificate_add(dtls_server, server_certificate, 1)
    say("server", "nx_secure_dtls_server_local_certificate_add: 0x%X" % status)
    say("server", "nx_secure_dtls_server_start: 0x%X" % nx_secure_dtls_server_start(dtls_server))

    # ---- Figure 1.1: the client trusts the CA and checks the server's name ---------
    nx_udp_socket_create(ip_0, client_socket, "DTLS Client Socket", NX_IP_NORMAL,
                         NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8192)
    status = nx_secure_dtls_session_create(
        client_session, table, client_metadata, len(client_metadata), client_packet_buffer,
        len(client_packet_buffer), 2, remote_certificate_buffer,
        len(remote_certificate_buffer))
    say("client", "nx_secure_dtls_session_create: 0x%X" % status)
    nx_secure_x509_certificate_initialize(trusted_certificate, ca_der, len(ca_der), None, 0,
                                          None, 0, NX_SECURE_X509_KEY_TYPE_NONE)
    status = nx_secure_dtls_session_trusted_certificate_add(client_session,
                                                           trusted_certificate, 1)
    say("client", "nx_secure_dtls_session_trusted_certificate_add: 0x%X" % status)

    # Name the server: the ClientHello says which server we want (server_name) and the
    # handshake fails unless the certificate is issued to that name (RFC 6125).
    status = nx_secure_x509_dns_name_initialize(server_dns_name, SERVER_NAME,
                                                len(SERVER_NAME))
    say("client", "nx_secure_x509_dns_name_initialize: 0x%X" % status)
    status = nxsecure_dtls_session_sni_extension_set(client_session, server_dns_name)
    say("client", "nxsecure_dtls_session_sni_extension_set(%s): 0x%X" % (SERVER_NAME, status))
    server_address = NXD_ADDRESS(target)
    status = nx_secure_dtls_client_session_start(client_session, client_socket,
                                                 server_address, server_port, NX_NO_WAIT)
    results = [status]

    def started():
        results[0] = nx_secure_dtls_client_session_start(
            client_session, client_socket, server_address, server_port, NX_NO_WAIT)
        return results[0] != NX_CONTINUE

    wait_for(started, 10 * NX_IP_PERIODIC_RATE)
    say("client", "nx_secure_dtls_client_session_start: 0x%X" % results[0])
    if results[0] != NX_SUCCESS:
        st, flags = nxsecure_dtls_session_certificate_flags_get(client_session)
        say("client", "certificate flags: 0x%X" % flags)
        return 1
    st, suite = nxsecure_dtls_session_ciphersuite_get(client_session)
    st, group = nxsecure_dtls_session_key_exchange_group_get(client_session)
    st, chain = nxsecure_dtls_session_remote_chain_get(client_session)
    say("client", "suite 0x%04X, group %d, server chain of %d certificate(s), flags 0x%X"
        % (suite, group, len(chain), nxsecure_dtls_session_certificate_flags_get(client_session)[1]))
    for i in range(messages):
        text = b"reading %d: 21.%d C" % (i, i)
        status, packet = nx_secure_dtls_packet_allocate(client_session, pool_0, NX_NO_WAIT)
        nx_packet_data_append(packet, text, len(text), pool_0, NX_NO_WAIT)
        say("client", "sending %r: 0x%X" % (text, nx_secure_dtls_session_send(
            client_session, packet, server_address, server_port)))
        got = []

        def echoed():
            st, p = nx_secure_dtls_session_receive(client_session, NX_NO_WAIT)
            if st == NX_SUCCESS:
                buf = bytearray(200)
                st, n = nx_packet_data_extract_offset(p, 0, buf, len(buf))
                nx_packet_release(p)
                got.append(bytes(buf[:n]))
            return got

        wait_for(echoed, 3 * NX_IP_PERIODIC_RATE)
        say("client", "echo: %r" % (got[0] if got else None))
    say("client", "nx_secure_dtls_session_end: 0x%X"
        % nx_secure_dtls_session_end(client_session, NX_NO_WAIT))
    wait_for(lambda: False, NX_IP_PERIODIC_RATE // 5)
    nx_secure_dtls_session_delete(client_session)
    nx_udp_socket_delete(client_socket)
    nx_secure_dtls_server_stop(dtls_server)
    nx_secure_dtls_server_delete(dtls_server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
