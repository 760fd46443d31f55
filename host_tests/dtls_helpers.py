"""Shared fixtures for the DTLS host tests (CPython only, real UDP on loopback).

- `free_udp_port(family)`: a port no one holds right now (bind to 0, close).
- `Net`: packet pool + IP instance (+ UDP) the way the guide's tx_application_define does.
- `suite_table(*ids)`: a crypto table restricted to the given suites (port backend).
- `make_server(...)`: an NX_SECURE_DTLS_SERVER with recording callbacks.
- `make_client(...)`: an NX_SECURE_DTLS_SESSION + UDP socket with a PSK.
- `OpenSSL`: an openssl s_server / s_client process whose stdin stays open (PEERS.md:
  s_server quits at stdin EOF) and whose stdout/stderr are collected by reader threads.
- `WireLog`: records every handshake fragment we receive (around the reassembler) and
  every datagram we send (around netx._udp_send), to prove fragmentation happened.
"""
import socket
import subprocess
import threading
import time

from nxsecure import port
from nxsecure import *  # noqa: F401,F403  (the application's view)
from nxsecure import netx
from nxsecure.crypto.table import make_tls_crypto
from nxsecure.reassembly import Reassembler

PSK = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
IDENTITY = b"Client_identity"
HINT = b"hint"

CCM8 = 0xC0A8
CCM = 0xC0A4
GCM = 0x00A8
CBC = 0x00AE
SUITES = (CCM8, CCM, GCM, CBC)
SUITE_NAMES = {CCM8: "PSK-AES128-CCM8", CCM: "PSK-AES128-CCM",
               GCM: "PSK-AES128-GCM-SHA256", CBC: "PSK-AES128-CBC-SHA256"}
LOOPBACK4 = IP_ADDRESS(127, 0, 0, 1)


def free_udp_port(family=socket.AF_INET):
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def suite_table(*suites):
    """A crypto table with only these suites (in this preference order)."""
    return make_tls_crypto(port.crypto_backend(), suites=list(suites))


def suite_of(session):
    """The negotiated suite id (internal, fine in tests); None before ServerHello."""
    s = session._engine.suite
    return None if s is None else s.nx_secure_tls_ciphersuite


def v4(address=LOOPBACK4):
    a = NXD_ADDRESS()
    a.nxd_ip_version = NX_IP_VERSION_V4
    a.nxd_ip_address.v4 = address
    return a


class Net:
    """Packet pool + IP instance with UDP enabled; close() removes every socket."""

    def __init__(self, address=LOOPBACK4, packets=48, ipv6=None):
        port.use_network(None)
        nx_system_initialize()
        self.pool = NX_PACKET_POOL()
        self.pool_mem = bytearray(packets * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "pool", 1536, self.pool_mem,
                                     len(self.pool_mem)) == NX_SUCCESS
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", address, 0xFFFFFF00, self.pool) == NX_SUCCESS
        if ipv6 is not None:
            assert nxd_ipv6_enable(self.ip) == NX_SUCCESS
            st, _ = nxd_ipv6_address_set(self.ip, 0, NXD_ADDRESS(ipv6), 128)
            assert st == NX_SUCCESS
        assert nx_udp_enable(self.ip) == NX_SUCCESS
        assert nx_secure_tls_initialize() == NX_SUCCESS
        self.servers = []
        self.sessions = []

    def close(self):
        for s in self.sessions:
            if s._id:
                nx_secure_dtls_session_delete(s)
        for srv in self.servers:
            if srv._id:
                nx_secure_dtls_server_stop(srv)
                nx_secure_dtls_server_delete(srv)
        for sock in list(self.ip._sockets):
            if sock.nx_udp_socket_port:
                nx_udp_socket_unbind(sock)
            nx_udp_socket_delete(sock)
        assert nx_ip_delete(self.ip) == NX_SUCCESS
        nx_packet_pool_delete(self.pool)


class ServerEvents:
    """Callbacks in the shape of the guide's Figure 1.2: flags plus the session they
    name, and lists of what disconnect/error notifications reported."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connect_flag = False
        self.receive_flag = False
        self.new_dtls_session = None
        self.receive_dtls_session = None
        self.connects = []            # (session, NXD_ADDRESS, port)
        self.disconnects = []         # sessions
        self.errors = []              # (session, code)
        self.on_connect = None        # optional extra actions (single-threaded use)
        self.on_receive = None

    def connect_notify(self, session, address, udp_port):
        with self.lock:
            self.connects.append((session, address, udp_port))
            self.new_dtls_session = session
            self.connect_flag = True
        if self.on_connect is not None:
            self.on_connect(session, address, udp_port)
        return NX_SUCCESS

    def receive_notify(self, session):
        with self.lock:
            self.receive_dtls_session = session
            self.receive_flag = True
        if self.on_receive is not None:
            self.on_receive(session)
        return NX_SUCCESS

    def disconnect_notify(self, session):
        with self.lock:
            self.disconnects.append(session)
        return NX_SUCCESS

    def error_notify(self, session, code):
        with self.lock:
            self.errors.append((session, code))
        return NX_SUCCESS


def server_buffers(table, sessions):
    st, md = nx_secure_tls_metadata_size_calculate(table)
    assert st == NX_SUCCESS and md > 0
    return (bytearray(sizeof(NX_SECURE_DTLS_SESSION) * sessions), bytearray(md * sessions),
            bytearray(4000 * sessions))


def make_server(net, udp_port, table=None, sessions=2, psk=PSK, identity=IDENTITY, hint=HINT,
                events=None, start=True):
    table = table if table is not None else nx_crypto_tls_ciphers
    events = events if events is not None else ServerEvents()
    server = NX_SECURE_DTLS_SERVER()
    sbuf, md, rs = server_buffers(table, sessions)
    server._test_buffers = (sbuf, md, rs)      # keep the caller-owned memory alive
    st = nx_secure_dtls_server_create(server, net.ip, udp_port, NX_IP_PERIODIC_RATE, sbuf,
                                      len(sbuf), table, md, len(md), rs, len(rs),
                                      events.connect_notify, events.receive_notify)
    assert st == NX_SUCCESS, hex(st)
    net.servers.append(server)
    assert nx_secure_dtls_server_notify_set(server, events.disconnect_notify,
                                            events.error_notify) == NX_SUCCESS
    assert nx_secure_dtls_server_psk_add(server, psk, len(psk), identity, len(identity),
                                         hint, len(hint) if hint else 0) == NX_SUCCESS
    if start:
        assert nx_secure_dtls_server_start(server) == NX_SUCCESS
    return server, events


def make_client(net, table=None, psk=PSK, identity=IDENTITY):
    """Session + PSK + UDP socket, in Figure 1.1's order."""
    table = table if table is not None else nx_crypto_tls_ciphers
    sock = NX_UDP_SOCKET()
    assert nx_udp_socket_create(net.ip, sock, "DTLS Client Socket", NX_IP_NORMAL,
                                NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8192) == NX_SUCCESS
    session = NX_SECURE_DTLS_SESSION()
    st, md = nx_secure_tls_metadata_size_calculate(table)
    assert st == NX_SUCCESS
    session._test_buffers = (bytearray(md), bytearray(4000))
    metadata, reassembly = session._test_buffers
    assert nx_secure_dtls_session_create(session, table, metadata, len(metadata), reassembly,
                                         len(reassembly), 0, None, 0) == NX_SUCCESS
    net.sessions.append(session)
    assert nx_secure_dtls_psk_add(session, psk, len(psk), identity, len(identity),
                                  None, 0) == NX_SUCCESS
    return session, sock


def send_data(session, pool, data, address, udp_port):
    st, pkt = nx_secure_dtls_packet_allocate(session, pool, NX_NO_WAIT)
    assert st == NX_SUCCESS, hex(st)
    assert nx_packet_data_append(pkt, data, len(data), pool, NX_NO_WAIT) == NX_SUCCESS
    st = nx_secure_dtls_session_send(session, pkt, address, udp_port)
    if st != NX_SUCCESS:
        nx_packet_release(pkt)
    return st


def packet_bytes(pkt):
    buf = bytearray(pkt.nx_packet_length)
    st, n = nx_packet_data_extract_offset(pkt, 0, buf, len(buf))
    assert st == NX_SUCCESS
    return bytes(buf[:n])


def receive_all(session, wait_ticks, until):
    """Receive records until until(bytes_so_far) holds or nothing more arrives."""
    got = b""
    deadline = time.monotonic() + wait_ticks / NX_IP_PERIODIC_RATE
    while not until(got):
        left = int((deadline - time.monotonic()) * NX_IP_PERIODIC_RATE)
        if left <= 0:
            break
        st, pkt = nx_secure_dtls_session_receive(session, left)
        if st != NX_SUCCESS:
            break
        got += packet_bytes(pkt)
        nx_packet_release(pkt)
    return got


# ======================================================================== OpenSSL
class OpenSSL:
    """openssl s_server / s_client with stdin kept open (an EOF on stdin makes
    s_server quit before the handshake) and output collected in the background."""

    def __init__(self, args):
        self.args = ["openssl"] + list(args)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self._out),
                                          daemon=True),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self._err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    @classmethod
    def s_server(cls, udp_port, suite, psk=PSK, identity=IDENTITY, hint=HINT, extra=()):
        return cls(["s_server", "-dtls1_2", "-accept", str(udp_port), "-psk", psk.hex(),
                    "-psk_identity", identity.decode(), "-psk_hint", hint.decode(),
                    "-cipher", SUITE_NAMES[suite], "-nocert", "-naccept", "1"] + list(extra))

    @classmethod
    def s_client(cls, host, udp_port, suite, psk=PSK, identity=IDENTITY, quiet=True, extra=()):
        """quiet: -quiet (stdout carries only the received data; it implies -ign_eof, so
        'Q' on stdin is then data, not the quit command)."""
        target = "[%s]:%d" % (host, udp_port) if ":" in host else "%s:%d" % (host, udp_port)
        return cls(["s_client", "-dtls1_2", "-connect", target, "-psk", psk.hex(),
                    "-psk_identity", identity.decode(), "-cipher", SUITE_NAMES[suite],
                    ] + (["-quiet"] if quiet else []) + list(extra))

    def _pump(self, stream, sink):
        while True:
            chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(1)
            if not chunk:
                break
            with self._cond:
                sink += chunk
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def out(self):
        with self._cond:
            return bytes(self._out)

    @property
    def err(self):
        with self._cond:
            return bytes(self._err)

    def wait_output(self, needle, timeout, stream="out"):
        """Wait until needle appears in stdout ("out"), stderr ("err") or either ("any")."""
        def seen():
            if stream == "out":
                return needle in self._out
            if stream == "err":
                return needle in self._err
            return needle in self._out or needle in self._err
        end = time.monotonic() + timeout
        with self._cond:
            while not seen():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for t in self._threads:
            t.join(2)
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def transcript(self):
        return "stdout=%r stderr=%r" % (self.out[-600:], self.err[-600:])


# ======================================================================== wire log
class WireLog:
    """Records handshake fragments we receive (Reassembler.add) and datagrams we
    send (netx._udp_send), for fragmentation checks. Use as a context manager."""

    def __init__(self):
        self.incoming = []        # (msg_type, length, frag_offset, frag_len)
        self.outgoing = []        # datagram bytes

    def __enter__(self):
        self._add = Reassembler.add
        self._send = netx._udp_send
        log = self

        def add(reasm, msg_type, length, message_seq, frag_offset, frag_len, frag, epoch=0):
            log.incoming.append((msg_type, length, frag_offset, frag_len))
            return log._add(reasm, msg_type, length, message_seq, frag_offset, frag_len, frag,
                            epoch)

        def send(sock, mv, addr):
            log.outgoing.append(bytes(mv))
            return log._send(sock, mv, addr)

        Reassembler.add = add
        netx._udp_send = send
        return self

    def __exit__(self, *exc):
        Reassembler.add = self._add
        netx._udp_send = self._send
        return False

    def incoming_fragments(self):
        """Received fragments that carry less than their whole message."""
        return [f for f in self.incoming if f[3] < f[1]]

    def outgoing_fragments(self):
        """(msg_type, length, frag_offset, frag_len) of every plaintext (epoch 0)
        handshake record we sent whose fragment is shorter than its message."""
        out = []
        for d in self.outgoing:
            p = 0
            while p + 13 <= len(d):
                ctype, epoch = d[p], (d[p + 3] << 8) | d[p + 4]
                n = (d[p + 11] << 8) | d[p + 12]
                body = d[p + 13:p + 13 + n]
                if ctype == 22 and epoch == 0 and len(body) >= 12:
                    length = int.from_bytes(body[1:4], "big")
                    f_off = int.from_bytes(body[6:9], "big")
                    f_len = int.from_bytes(body[9:12], "big")
                    if f_len < length:
                        out.append((body[0], length, f_off, f_len))
                p += 13 + n
        return out

    def largest_datagram(self):
        return max((len(d) for d in self.outgoing), default=0)
