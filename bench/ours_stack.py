"""Our stack's set-up for the benchmark processes: packet pool, IP, table, and (once
nxsecure has ECDHE-ECDSA) the certificate services, written as the guide's examples."""
from common import PSK, IDENTITY, SUITES, ROOT  # noqa: F401  (sys.path set up)
import os

from nxsecure import port
import nxsecure
from nxsecure import *  # noqa: F401,F403
from nxsecure.crypto.table import make_tls_crypto

CERT_DIR = os.path.join(ROOT, "build", "bench")


class Stack:
    def __init__(self, suite_key, packets=32):
        self.suite_key = suite_key
        from common import ours_suite
        self.suite = ours_suite(suite_key)
        self.ecdhe = suite_key.startswith("ecdhe")
        nx_system_initialize()
        self.pool = NX_PACKET_POOL()
        self.pool_mem = bytearray(packets * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "pool", 1536, self.pool_mem,
                                     len(self.pool_mem)) == NX_SUCCESS
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00,
                            self.pool) == NX_SUCCESS
        assert nx_udp_enable(self.ip) == NX_SUCCESS
        assert nx_secure_tls_initialize() == NX_SUCCESS
        self.table = make_tls_crypto(port.crypto_backend(), [self.suite])
        st, self.md = nx_secure_tls_metadata_size_calculate(self.table)
        assert st == NX_SUCCESS
        self.server_ip = NXD_ADDRESS()
        self.server_ip.nxd_ip_version = NX_IP_VERSION_V4
        self.server_ip.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)

    # --- ECDHE-ECDSA through the NetX Secure certificate services (when they exist) ---
    def _cert(self, with_key):
        from common import p256_cert
        from nxsecure import x509
        cert_der, _, sec1 = p256_cert(CERT_DIR)
        c = x509.NX_SECURE_X509_CERT()
        self._keep = (cert_der, sec1)
        if with_key:
            st = x509.nx_secure_x509_certificate_initialize(
                c, cert_der, len(cert_der), None, 0, sec1, len(sec1),
                x509.NX_SECURE_X509_KEY_TYPE_EC_DER)
        else:
            st = x509.nx_secure_x509_certificate_initialize(
                c, cert_der, len(cert_der), None, 0, None, 0, x509.NX_SECURE_X509_KEY_TYPE_NONE)
        assert st == NX_SUCCESS, hex(st)
        return c

    def server_credentials(self, server):
        if not self.ecdhe:
            assert nx_secure_dtls_server_psk_add(server, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                                 None, 0) == NX_SUCCESS
            return
        self.server_cert = self._cert(True)
        st = nxsecure.nx_secure_dtls_server_local_certificate_add(server, self.server_cert, 1)
        assert st == NX_SUCCESS, hex(st)

    def client_credentials(self, session):
        if not self.ecdhe:
            assert nx_secure_dtls_psk_add(session, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                          None, 0) == NX_SUCCESS
            return
        if not hasattr(self, "trusted"):
            self.trusted = self._cert(False)
        st = nxsecure.nx_secure_dtls_session_trusted_certificate_add(session, self.trusted, 1)
        assert st == NX_SUCCESS, hex(st)
