# Our server and client in one interpreter over an in-memory network (nxsecure.port.memnet),
# written like the guide's Figures 1.1/1.2: the shared fixture of the portable
# handshake tests (they run under pytest and on real MicroPython). Subclasses change
# the credentials (server_credentials / client_credentials).
from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure.crypto.table import make_tls_crypto

try:
    from time import ticks_ms, ticks_diff
except ImportError:  # CPython
    import time

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

PSK = b"\x01\x02\x03\x04\x05\x06\x07\x08"
IDENTITY = b"Client_identity"
SERVER_PORT = 5684


class Pair:
    """A server with two sessions and one client on an in-memory network."""

    def __init__(self, suite, net=None, hint=None, client_key=PSK, client_identity=IDENTITY,
                 sessions=2, reassembly=1024, remote_cert_space=0):
        self.hint = hint
        self.client_key = client_key
        self.client_identity = client_identity
        port.use_network(net or MemoryNetwork())
        self.table = make_tls_crypto(port.crypto_backend(), [suite])
        st, md = nx_secure_tls_metadata_size_calculate(self.table)
        assert st == NX_SUCCESS
        nx_system_initialize()
        self.pool = NX_PACKET_POOL()
        self.pool_mem = bytearray(8 * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "pool", 1536, self.pool_mem, len(self.pool_mem)) == 0
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, self.pool) == 0
        assert nx_udp_enable(self.ip) == 0
        self.server = NX_SECURE_DTLS_SERVER()
        self.session_buffer = bytearray(sessions * sizeof(NX_SECURE_DTLS_SESSION))
        self.server_md = bytearray(sessions * md)
        self.server_reasm = bytearray(sessions * reassembly)
        self.connects = []
        self.readable = []
        self.disconnects = []
        self.errors = []
        st = nx_secure_dtls_server_create(
            self.server, self.ip, SERVER_PORT, NX_IP_PERIODIC_RATE, self.session_buffer,
            len(self.session_buffer), self.table, self.server_md, len(self.server_md),
            self.server_reasm, len(self.server_reasm), self._connect, self._receive)
        assert st == NX_SUCCESS
        assert nx_secure_dtls_server_notify_set(self.server, self.disconnects.append,
                                                self._error) == NX_SUCCESS
        self.server_credentials()
        assert nx_secure_dtls_server_start(self.server) == NX_SUCCESS
        self.client = NX_SECURE_DTLS_SESSION()
        self.client_md = bytearray(md)
        self.client_reasm = bytearray(reassembly)
        self.remote_certs = bytearray(remote_cert_space) if remote_cert_space else None
        assert nx_secure_dtls_session_create(
            self.client, self.table, self.client_md, md, self.client_reasm, reassembly,
            2 if remote_cert_space else 0, self.remote_certs, remote_cert_space) == NX_SUCCESS
        self.client_credentials()
        self.sock = NX_UDP_SOCKET()
        assert nx_udp_socket_create(self.ip, self.sock, "client", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 8) == NX_SUCCESS
        self.addr = NXD_ADDRESS()
        self.addr.nxd_ip_version = NX_IP_VERSION_V4
        self.addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)

    def server_credentials(self):
        h = self.hint
        assert nx_secure_dtls_server_psk_add(self.server, PSK, len(PSK), IDENTITY, len(IDENTITY),
                                             h, len(h) if h else 0) == NX_SUCCESS

    def client_credentials(self):
        k = self.client_key
        i = self.client_identity
        assert nx_secure_dtls_psk_add(self.client, k, len(k), i, len(i), None, 0) == NX_SUCCESS

    def _connect(self, session, address, port_):
        self.connects.append(port_)
        nx_secure_dtls_server_session_start(session, NX_NO_WAIT)
        return NX_SUCCESS

    def _receive(self, session):
        self.readable.append(session)
        return NX_SUCCESS

    def _error(self, session, code):
        self.errors.append(code)
        return NX_SUCCESS

    def serve(self):
        while self.readable:
            s = self.readable.pop(0)
            st, pkt = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
            if st:
                continue
            data = bytes(pkt._data())
            nx_packet_release(pkt)
            st, out = nx_secure_dtls_packet_allocate(s, self.pool, NX_NO_WAIT)
            assert st == NX_SUCCESS
            assert nx_packet_data_append(out, data, len(data), self.pool, NX_NO_WAIT) == 0
            assert nx_secure_dtls_server_session_send(s, out) == NX_SUCCESS

    def connect(self, ticks=800):
        st = nx_secure_dtls_client_session_start(self.client, self.sock, self.addr, SERVER_PORT,
                                                 NX_NO_WAIT)
        for _ in range(ticks):
            if st != NX_CONTINUE:
                break
            tx_thread_sleep(1)
            st = nx_secure_dtls_client_session_start(self.client, self.sock, self.addr,
                                                     SERVER_PORT, NX_NO_WAIT)
        return st

    def why(self, status):
        """status in hex, with the exceptions the stack caught on either end as its own
        defects (internal_error): what a failed handshake assert shows (on a board, e.g.
        the C stack running out)."""
        out = "0x%X" % status
        ends = [("client", self.client)] + [("server", s) for s in self.server._sessions]
        for name, s in ends:
            e = getattr(getattr(s, "_engine", None), "last_exception", None)
            if e is not None:
                out += "; %s: %s: %s" % (name, type(e).__name__, e)
        return out

    def echo(self, payload, ticks=300):
        st, pkt = nx_secure_dtls_packet_allocate(self.client, self.pool, NX_NO_WAIT)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(pkt, payload, len(payload), self.pool, NX_NO_WAIT) == 0
        assert nx_secure_dtls_session_send(self.client, pkt, self.addr, SERVER_PORT) == NX_SUCCESS
        for _ in range(ticks):
            self.serve()
            st, pkt = nx_secure_dtls_session_receive(self.client, NX_NO_WAIT)
            if st == NX_SUCCESS:
                data = bytearray(len(payload) + 16)
                st, n = nx_packet_data_extract_offset(pkt, 0, data, len(data))
                nx_packet_release(pkt)
                return bytes(data[:n])
            tx_thread_sleep(1)
        return None

    def echoes(self):
        """Three payloads (1, 14 and 200 bytes) client -> server -> client; prints the
        time they took."""
        t0 = ticks_ms()
        for payload in (b"x", b"reading 21.5 C", bytes(range(200))):
            assert self.echo(payload) == payload
        print("3 echoes: %d ms" % ticks_diff(ticks_ms(), t0))

    def close(self):
        st = nx_secure_dtls_session_end(self.client, NX_NO_WAIT)
        for _ in range(20):
            tx_thread_sleep(1)
            if self.disconnects:
                break
        # the session bound the socket itself, so ending it unbound it (Figure 1.1
        # deletes the socket right away)
        assert nx_udp_socket_delete(self.sock) == NX_SUCCESS
        nx_secure_dtls_session_delete(self.client)
        nx_secure_dtls_server_stop(self.server)
        nx_secure_dtls_server_delete(self.server)
        assert nx_ip_delete(self.ip) == NX_SUCCESS
        assert nx_packet_pool_delete(self.pool) == NX_SUCCESS
        port.use_network(None)
        return st


def heap():
    """gc.mem_alloc() after a collection on MicroPython; 0 on CPython."""
    import gc
    try:
        gc.collect()
        return gc.mem_alloc()
    except AttributeError:      # CPython
        return 0


def certificate(der, key=None):
    """An NX_SECURE_X509_CERT of `der`, with its SEC 1 EC private key `key` (an
    identity certificate) or none (a trusted one). nxsecure.x509 is imported here, so
    that the PSK tests do not load it."""
    from nxsecure.x509 import (NX_SECURE_X509_CERT, nx_secure_x509_certificate_initialize,
                               NX_SECURE_X509_KEY_TYPE_EC_DER, NX_SECURE_X509_KEY_TYPE_NONE)
    c = NX_SECURE_X509_CERT()
    assert nx_secure_x509_certificate_initialize(
        c, der, len(der), None, 0, key, len(key) if key else 0,
        NX_SECURE_X509_KEY_TYPE_EC_DER if key else NX_SECURE_X509_KEY_TYPE_NONE) == NX_SUCCESS
    return c


def at_time(now):
    """Decorator: the function runs with the X.509 clock fixed at `now` (seconds since
    1970; nx_secure_x509_time_function_set: the WebAssembly build has no clock), and
    the clock is given back afterwards."""
    def wrap(fn):
        def run(*args):
            from nxsecure.x509 import nx_secure_x509_time_function_set
            nx_secure_x509_time_function_set(lambda: now)
            try:
                return fn(*args)
            finally:
                nx_secure_x509_time_function_set(None)
        return run
    return wrap
