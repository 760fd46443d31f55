"""Argument checks of every public service (the idea of NetX's nx_secure_dtls_nxe_api_test).

Every service named nx_*, nxd_*, nx_secure_*, nxsecure_* or tx_* in `dir(nxsecure)` is
called, with inspect.signature, once per control-block parameter with None there and
plausible values elsewhere: it returns NX_PTR_ERROR (the status, or the first element
of a status-first tuple) and never raises. Then explicit cases: never-created control
blocks, buffers too small for nx_secure_dtls_server_create / _session_create, and
wrong types, which return a NetX code instead of raising."""
import inspect

import pytest

from nxsecure import port
from nxsecure.port.memnet import MemoryNetwork
import nxsecure
from nxsecure import *
from nxsecure import netx

# parameters that carry a control block (a pointer in C)
CONTROL_BLOCKS = {"ip", "pool", "packet", "socket", "dtls_session", "session_ptr",
                  "server_ptr", "ip_ptr", "pool_ptr", "packet_ptr", "udp_socket",
                  "crypto_table"}
PREFIXES = ("nx_secure_", "nx_", "nxd_", "tx_", "nxsecure_")
# __all__, not dir(): the services that load on first use (netx_ext) are in __all__ only
# and the services of the optional features (issue 14), each in its own module
FEATURE_SERVICES = {}
for _m in ("small_records", "heartbeat", "resumption", "connection_id"):
    _mod = __import__("nxsecure." + _m, None, None, ("__all__",), 0)
    for _n in _mod.__all__:
        FEATURE_SERVICES[_n] = getattr(_mod, _n)


def _fn(name):
    return FEATURE_SERVICES.get(name) or getattr(nxsecure, name)


SERVICES = sorted([n for n in nxsecure.__all__
                   if n.startswith(PREFIXES) and inspect.isfunction(getattr(nxsecure, n))]
                  + list(FEATURE_SERVICES))


def _status(r):
    if isinstance(r, tuple):
        r = r[0]
    assert isinstance(r, int), r
    return r


class Env:
    def __init__(self):
        self.net = MemoryNetwork()
        port.use_network(self.net)
        self.pool = NX_PACKET_POOL()
        self.mem = bytearray(64 * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "p", 1536, self.mem, len(self.mem)) == 0
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, self.pool) == 0
        assert nx_udp_enable(self.ip) == 0
        self.sock = NX_UDP_SOCKET()
        assert nx_udp_socket_create(self.ip, self.sock, "s", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 8) == 0
        assert nx_udp_socket_bind(self.sock, NX_ANY_PORT, NX_NO_WAIT) == 0
        self.session = NX_SECURE_DTLS_SESSION()
        self.md = bytearray(400)
        self.rs = bytearray(2000)
        assert nx_secure_dtls_session_create(self.session, nx_crypto_tls_ciphers, self.md, 400,
                                             self.rs, 2000, 0, None, 0) == 0
        self.server = NX_SECURE_DTLS_SERVER()
        self.sbuf = bytearray(sizeof(NX_SECURE_DTLS_SESSION))
        self.smd = bytearray(400)
        self.srs = bytearray(2000)
        assert nx_secure_dtls_server_create(
            self.server, self.ip, 4433, 100, self.sbuf, len(self.sbuf), nx_crypto_tls_ciphers,
            self.smd, 400, self.srs, 2000, lambda *a: 0, lambda *a: 0) == 0
        self.packets = []

    def packet(self):
        st, p = nx_packet_allocate(self.pool, 0, NX_NO_WAIT)
        assert st == 0
        self.packets.append(p)
        return p

    def value(self, name):
        addr = NXD_ADDRESS()
        addr.nxd_ip_version = NX_IP_VERSION_V4
        addr.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1)
        table = {
            "ip": self.ip, "ip_ptr": self.ip, "pool": self.pool, "pool_ptr": self.pool,
            "default_pool": self.pool, "socket": self.sock, "udp_socket": self.sock,
            "dtls_session": self.session, "session_ptr": self.session,
            "server_ptr": self.server, "crypto_table": nx_crypto_tls_ciphers,
            "ip_address": addr, "wait_option": NX_NO_WAIT, "name": "n",
        }
        if name in table:
            return table[name]
        if name in ("packet", "packet_ptr"):
            return self.packet()
        if "buffer" in name or name in ("pool_memory", "pre_shared_key", "psk_identity",
                                        "data", "arp_cache_memory"):
            return bytearray(64)
        if "notify" in name or name == "write":
            return lambda *a: 0
        return 1

    def close(self):
        for p in self.packets:
            if p._allocated:
                nx_packet_release(p)
        nx_secure_dtls_session_delete(self.session)
        nx_secure_dtls_server_stop(self.server)
        nx_secure_dtls_server_delete(self.server)
        nx_udp_socket_unbind(self.sock)
        nx_udp_socket_delete(self.sock)
        for s in list(self.ip._sockets):
            nx_udp_socket_unbind(s)
            nx_udp_socket_delete(s)
        nx_ip_delete(self.ip)
        nx_packet_pool_delete(self.pool)
        port.use_network(None)


@pytest.fixture
def env():
    e = Env()
    try:
        yield e
    finally:
        e.close()


def test_services_are_enumerated():
    assert len(SERVICES) > 40
    for n in ("nx_secure_dtls_session_create", "nx_secure_dtls_server_create",
              "nx_secure_dtls_session_receive", "nx_packet_allocate", "tx_thread_sleep"):
        assert n in SERVICES


CASES = [(n, p) for n in SERVICES
         for p in inspect.signature(_fn(n)).parameters if p in CONTROL_BLOCKS]


@pytest.mark.parametrize("name,param", CASES, ids=["%s:%s" % c for c in CASES])
def test_none_control_block_is_ptr_error(env, name, param):
    fn = _fn(name)
    params = list(inspect.signature(fn).parameters)
    args = [None if p == param else env.value(p) for p in params]
    assert _status(fn(*args)) == NX_PTR_ERROR


@pytest.mark.parametrize("name", SERVICES)
def test_every_argument_none_or_wrong_type_never_raises(env, name):
    fn = _fn(name)
    params = list(inspect.signature(fn).parameters)
    if name in ("nxsecure_ip_thread_start",):
        pytest.skip("starts a thread; no arguments")
    for i, p in enumerate(params):
        for bad in (None, "x", -1, object()):
            args = [env.value(q) for q in params]
            args[i] = bad
            _status(fn(*args))          # an int status, no exception


def test_never_created_control_blocks(env):
    s = NX_SECURE_DTLS_SESSION()
    assert nx_secure_dtls_session_receive(s, NX_NO_WAIT)[0] == NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_session_end(s, NX_NO_WAIT) == NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_session_delete(s) == NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_psk_add(s, b"k", 1, b"i", 1, None, 0) == \
        NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_packet_allocate(s, env.pool, NX_NO_WAIT)[0] == \
        NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_session_send(s, env.packet(), env.value("ip_address"), 4433) == \
        NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_client_session_start(s, env.sock, env.value("ip_address"), 4433,
                                               NX_NO_WAIT) == NX_SECURE_TLS_SESSION_UNINITIALIZED
    assert nx_secure_dtls_server_session_start(s, NX_NO_WAIT) in (
        NX_PTR_ERROR, NX_SECURE_TLS_SESSION_UNINITIALIZED)
    srv = NX_SECURE_DTLS_SERVER()
    for fn in (nx_secure_dtls_server_start, nx_secure_dtls_server_stop,
               nx_secure_dtls_server_delete):
        assert fn(srv) == NX_PTR_ERROR
    assert nx_secure_dtls_server_psk_add(srv, b"k", 1, b"i", 1, None, 0) == NX_PTR_ERROR
    assert nx_secure_dtls_server_notify_set(srv, None, None) == NX_PTR_ERROR


SESSION_SERVICES = [n for n in SERVICES
                    if list(inspect.signature(_fn(n)).parameters)[:1]
                    in (["dtls_session"], ["session_ptr"]) and n != "nx_secure_dtls_session_create"]


@pytest.mark.parametrize("name", SESSION_SERVICES)
def test_every_session_service_reports_a_never_created_session_the_same_way(env, name):
    # The checking layer's one answer for a session control block that was never created
    # (or was deleted): NX_SECURE_TLS_SESSION_UNINITIALIZED, from every session service.
    fn = _fn(name)
    params = list(inspect.signature(fn).parameters)
    for s in (NX_SECURE_DTLS_SESSION(), _deleted_session(env)):
        args = [s] + [env.value(p) for p in params[1:]]
        assert _status(fn(*args)) == NX_SECURE_TLS_SESSION_UNINITIALIZED, name


def _deleted_session(env):
    s = NX_SECURE_DTLS_SESSION()
    md, rs = bytearray(400), bytearray(2000)
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, 400, rs, 2000, 0, None,
                                         0) == NX_SUCCESS
    assert nx_secure_dtls_session_delete(s) == NX_SUCCESS
    return s


def test_buffers_too_small_are_invalid_parameters(env):
    st, need = nx_secure_tls_metadata_size_calculate(nx_crypto_tls_ciphers)
    assert st == NX_SUCCESS and need > 0
    s = NX_SECURE_DTLS_SESSION()
    md, rs = bytearray(need), bytearray(2000)
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, need - 1, rs, 2000,
                                         0, None, 0) == NX_INVALID_PARAMETERS
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, need, rs, 16,
                                         0, None, 0) == NX_INVALID_PARAMETERS
    # a size larger than the buffer really is
    assert nx_secure_dtls_session_create(s, nx_crypto_tls_ciphers, md, need + 100, rs, 2000,
                                         0, None, 0) == NX_INVALID_PARAMETERS
    srv = NX_SECURE_DTLS_SERVER()
    one = sizeof(NX_SECURE_DTLS_SESSION)

    def create(sbuf_n, md_n, rs_n):
        return nx_secure_dtls_server_create(
            srv, env.ip, 5684, 100, bytearray(sbuf_n), sbuf_n, nx_crypto_tls_ciphers,
            bytearray(md_n), md_n, bytearray(rs_n), rs_n, lambda *a: 0, lambda *a: 0)

    assert create(one - 1, need, 2000) == NX_INVALID_PARAMETERS
    assert create(one, need - 1, 2000) == NX_INVALID_PARAMETERS
    assert create(one, need, 16) == NX_INVALID_PARAMETERS
    assert create(2 * one, need, 2000) == NX_INVALID_PARAMETERS      # 2 sessions, 1 share
    assert create(one, need, 2000) == NX_SUCCESS
    assert nx_secure_dtls_server_delete(srv) == NX_SUCCESS


def test_wrong_types_return_a_code(env):
    s = env.session
    assert _status(nx_secure_dtls_session_receive(s, "forever")) == NX_NOT_CONNECTED
    assert _status(nxsecure_dtls_session_mtu_set(s, "1200")) == NX_INVALID_PARAMETERS
    assert _status(nx_secure_dtls_psk_add(s, "key", "3", b"id", 2, None, 0)) != NX_SUCCESS
    assert _status(nx_secure_dtls_session_create(NX_SECURE_DTLS_SESSION(), nx_crypto_tls_ciphers,
                                                 bytearray(400), "400", bytearray(2000), 2000,
                                                 0, None, 0)) != NX_SUCCESS
    assert _status(nx_secure_dtls_server_create(
        NX_SECURE_DTLS_SERVER(), env.ip, "4433", 100, bytearray(4096), 4096,
        nx_crypto_tls_ciphers, bytearray(400), 400, bytearray(2000), 2000,
        lambda *a: 0, lambda *a: 0)) == NX_INVALID_PARAMETERS
    assert _status(nx_secure_dtls_client_session_start(s, env.sock, env.value("ip_address"),
                                                       "4433", NX_NO_WAIT)) != NX_SUCCESS
    assert _status(nx_secure_dtls_session_send(s, "packet", env.value("ip_address"), 4433)) \
        != NX_SUCCESS
    assert _status(nx_secure_dtls_server_session_send(s, "packet")) != NX_SUCCESS
    assert _status(nx_secure_dtls_server_create(
        NX_SECURE_DTLS_SERVER(), "ip", 4433, 100, bytearray(4096), 4096, nx_crypto_tls_ciphers,
        bytearray(400), 400, bytearray(2000), 2000, lambda *a: 0, lambda *a: 0)) != NX_SUCCESS
    assert _status(tx_thread_sleep("10")) == NX_OPTION_ERROR


def test_non_int_wait_option_does_not_raise(env):
    # Regression: netx._wait multiplied the wait option by the tick length, so
    # nx_udp_socket_receive(sock, None) or nx_ip_status_check(..., "1") raised TypeError.
    assert _status(nx_udp_socket_receive(env.sock, None)) == NX_NO_PACKET
    assert _status(nx_ip_status_check(env.ip, NX_IP_INITIALIZE_DONE, "1")) == NX_SUCCESS


def test_client_session_start_with_a_non_socket_is_ptr_error(env):
    # Regression: a str (or a never-created NX_UDP_SOCKET) raised AttributeError.
    addr = env.value("ip_address")
    assert nx_secure_dtls_client_session_start(env.session, "sock", addr, 4433,
                                               NX_NO_WAIT) == NX_PTR_ERROR
    assert nx_secure_dtls_client_session_start(env.session, NX_UDP_SOCKET(), addr, 4433,
                                               NX_NO_WAIT) == NX_PTR_ERROR
