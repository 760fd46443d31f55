"""An in-memory world for DTLS tests: our server and clients over nxsecure.port.memnet (or real
UDP), with a hook to tamper with every datagram. Shared by the hostile-input, loss
and exhaustion tests."""
from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
from nxsecure import *
from nxsecure import netx

SERVER_PORT = 4433
PSK = b"\x01\x02\x03\x04"
IDENTITY = b"Client_identity"


def _nxd(host="127.0.0.1"):
    a = NXD_ADDRESS()
    a.nxd_ip_version = NX_IP_VERSION_V4
    a.nxd_ip_address.v4 = IP_ADDRESS(*[int(x) for x in host.split(".")])
    return a


class World:
    """Our server (n sessions) and clients over a MemoryNetwork. Every datagram goes
    through `tamper` (when set): it may return None (deliver as is) or a list of
    datagrams to deliver instead (an empty list drops it)."""

    def __init__(self, sessions=2, net=None, pool_count=48, start=True, server_port=SERVER_PORT):
        self.net = net if net is not None else MemoryNetwork(capture=True)
        if self.net != "real":
            self.net.drop = self._drop
        self.tamper = None
        self.server_port = server_port
        port.use_network(None if self.net == "real" else self.net)
        self.pool = NX_PACKET_POOL()
        self.pool_mem = bytearray(pool_count * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "p", 1536, self.pool_mem,
                                     len(self.pool_mem)) == NX_SUCCESS
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00,
                            self.pool) == NX_SUCCESS
        assert nx_udp_enable(self.ip) == NX_SUCCESS
        self.events = []         # ('connect'|'error'|'disconnect', session, code)
        self.received = {}       # server session -> [payload bytes]
        self.echo = True
        self.server = NX_SECURE_DTLS_SERVER()
        n = sessions
        self.sbuf = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * n)
        self.md = bytearray(n * 400)
        self.rs = bytearray(n * 2000)
        assert nx_secure_dtls_server_create(
            self.server, self.ip, server_port, NX_IP_PERIODIC_RATE, self.sbuf, len(self.sbuf),
            nx_crypto_tls_ciphers, self.md, len(self.md), self.rs, len(self.rs),
            self._on_connect, self._on_receive) == NX_SUCCESS
        assert nx_secure_dtls_server_psk_add(self.server, PSK, len(PSK), IDENTITY,
                                             len(IDENTITY), None, 0) == NX_SUCCESS
        assert nx_secure_dtls_server_notify_set(self.server, self._on_disconnect,
                                                self._on_error) == NX_SUCCESS
        if start:
            assert nx_secure_dtls_server_start(self.server) == NX_SUCCESS
        self.clients = []
        self.raw = []

    # --- server callbacks ---------------------------------------------------------
    def _on_connect(self, s, addr, peer_port):
        self.events.append(("connect", s, peer_port))
        nx_secure_dtls_server_session_start(s, NX_NO_WAIT)
        return NX_SUCCESS

    def _on_receive(self, s):
        while True:
            st, p = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
            if st != NX_SUCCESS:
                return NX_SUCCESS
            data = bytes(p._data())
            nx_packet_release(p)
            self.received.setdefault(s, []).append(data)
            if self.echo:
                st, out = nx_secure_dtls_packet_allocate(s, self.pool, NX_NO_WAIT)
                if st == NX_SUCCESS:
                    nx_packet_data_append(out, b"echo:" + data, len(data) + 5, self.pool,
                                          NX_NO_WAIT)
                    if nx_secure_dtls_server_session_send(s, out) != NX_SUCCESS:
                        nx_packet_release(out)

    def _on_disconnect(self, s):
        self.events.append(("disconnect", s, 0))

    def _on_error(self, s, code):
        self.events.append(("error", s, code))

    def errors(self):
        return [(s, c) for (k, s, c) in self.events if k == "error"]

    # --- network tampering --------------------------------------------------------
    def _drop(self, data, src, dst):
        if self.tamper is None:
            return False
        out = self.tamper(data, src, dst)
        if out is None:
            return False
        h = self.net._find(4, dst[0], dst[1])
        for d in out:
            if h is not None:
                self.net._deliver(h, bytes(d), src)
        return True

    def inject(self, data, src, dst=("127.0.0.1", SERVER_PORT)):
        """Deliver a datagram as if sent from src (spoofing is free on memnet)."""
        h = self.net._find(4, dst[0], dst[1])
        assert h is not None
        self.net._deliver(h, bytes(data), src)

    def deliver_now(self, data, src):
        """Hand a datagram from src straight to the server's receive hook, now (from
        inside a tamper callback, where the pump is already running and a nested wait
        does not pump again)."""
        pkt = netx._take(self.pool, 0)
        assert pkt is not None, "pool exhausted"
        pkt._buf[:len(data)] = data
        pkt.nx_packet_append_ptr = pkt.nx_packet_length = len(data)
        pkt._addr = src
        self.server._udp_receive(pkt, src, port.ticks_ms())

    def pump(self, ticks=0):
        netx._wait(lambda: False, ticks) if ticks else netx._wait(self._idle, 50)

    def _idle(self):
        for h in self.net.handles:
            if h.queue:
                return False
        return not self.net.held

    # --- clients ------------------------------------------------------------------
    def client(self, psk=PSK, identity=IDENTITY, wait=3 * NX_IP_PERIODIC_RATE, connect=True,
               dst_port=None):
        c = Client(self, psk, identity, dst_port or self.server_port)
        self.clients.append(c)
        if connect:
            c.status = c.start(wait)
        return c

    def raw_socket(self):
        s = NX_UDP_SOCKET()
        assert nx_udp_socket_create(self.ip, s, "raw", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 64) == NX_SUCCESS
        assert nx_udp_socket_bind(s, NX_ANY_PORT, NX_NO_WAIT) == NX_SUCCESS
        self.raw.append(s)
        return s

    def server_session(self, client):
        for s in self.server._sessions:
            if s._peer == client.addr():
                return s
        return None

    def close(self):
        for c in self.clients:
            c.close()
        nx_secure_dtls_server_stop(self.server)
        nx_secure_dtls_server_delete(self.server)
        for s in self.raw:
            netx._release_queue(s) if hasattr(netx, "_release_queue") else None
            nx_udp_socket_unbind(s)
            nx_udp_socket_delete(s)
        nx_ip_delete(self.ip)
        nx_packet_pool_delete(self.pool)
        port.use_network(None)


class Client:
    def __init__(self, world, psk, identity, dst_port=SERVER_PORT):
        self.w = world
        self.dst_port = dst_port
        self.sess = NX_SECURE_DTLS_SESSION()
        self.md = bytearray(400)
        self.rs = bytearray(2000)
        assert nx_secure_dtls_session_create(self.sess, nx_crypto_tls_ciphers, self.md,
                                             len(self.md), self.rs, len(self.rs), 0, None,
                                             0) == NX_SUCCESS
        assert nx_secure_dtls_psk_add(self.sess, psk, len(psk), identity, len(identity),
                                      None, 0) == NX_SUCCESS
        self.sock = NX_UDP_SOCKET()
        assert nx_udp_socket_create(world.ip, self.sock, "c", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 8) == NX_SUCCESS
        assert nx_udp_socket_bind(self.sock, NX_ANY_PORT, NX_NO_WAIT) == NX_SUCCESS
        self.server_addr = _nxd()
        self.status = None

    def addr(self):
        return self.sock._h4.address()

    def start(self, wait):
        return nx_secure_dtls_client_session_start(self.sess, self.sock, self.server_addr,
                                                   self.dst_port, wait)

    def send(self, data):
        st, p = nx_secure_dtls_packet_allocate(self.sess, self.w.pool, NX_NO_WAIT)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(p, data, len(data), self.w.pool, NX_NO_WAIT) == NX_SUCCESS
        st = nx_secure_dtls_session_send(self.sess, p, self.server_addr, self.dst_port)
        if st != NX_SUCCESS:
            nx_packet_release(p)
        return st

    def recv(self, wait=NX_IP_PERIODIC_RATE):
        st, p = nx_secure_dtls_session_receive(self.sess, wait)
        if st != NX_SUCCESS:
            return st, None
        data = bytes(p._data())
        nx_packet_release(p)
        return st, data

    def round_trip(self, data, tries=1, wait=NX_IP_PERIODIC_RATE):
        """Send data, expect b'echo:' + data back (resending up to `tries` times)."""
        for _ in range(tries):
            st = self.send(data)
            assert st == NX_SUCCESS, hex(st)
            while True:
                st, got = self.recv(wait)
                if st != NX_SUCCESS:
                    break
                if got == b"echo:" + data:
                    return True
        return False

    def close(self):
        if self.sess._id:
            nx_secure_dtls_session_end(self.sess, NX_NO_WAIT)
            nx_secure_dtls_session_delete(self.sess)
        if self.sock.nx_udp_socket_port:
            nx_udp_socket_unbind(self.sock)
        nx_udp_socket_delete(self.sock)


def _no_errors_raised(w):
    assert w.ip.nx_ip_callback_errors == 0, getattr(w.ip, "_last_callback_error", None)
    assert w.server.nxsecure_callback_errors == 0
    assert netx._last_timer_error is None, netx._last_timer_error


# ============================================================== wire helpers
CT_CCS, CT_ALERT, CT_HS, CT_APP = 20, 21, 22, 23


def records(d):
    """Split a datagram into its records (bytes each)."""
    out = []
    p = 0
    while p + 13 <= len(d):
        n = (d[p + 11] << 8) | d[p + 12]
        out.append(bytes(d[p:p + 13 + n]))
        p += 13 + n
    return out


def record(ctype, epoch, seq, body):
    """A plaintext DTLS 1.2 record (RFC 6347 4.1)."""
    n = len(body)
    return bytes([ctype, 0xFE, 0xFD, epoch >> 8, epoch & 0xFF]) + seq.to_bytes(6, "big") + \
        bytes([n >> 8, n & 0xFF]) + bytes(body)
