# The start-up health check of the platform's random source (nxsecure/port/rngcheck.py):
# a visibly broken source (constant bytes, as the emulated RP2040's os.urandom gives;
# repeated output; none) is refused, and a service that needs random bytes then fails
# with NX_SECURE_TLS_NO_RANDOM_SOURCE. Runs under pytest and on real MicroPython
# (tools/mp_test_runner.py): plain asserts, no pytest.
try:
    from mp_test_runner import TestOnlyDRBG as _DRBG          # MicroPython: on the path
except ImportError:
    from tools.mp_test_runner import TestOnlyDRBG as _DRBG    # pytest, from the repo root

from nxsecure import port
from nxsecure import *
from nxsecure.const import NxError
from nxsecure.port import rngcheck
from nxsecure.port.memnet import MemoryNetwork


def _hash_source(seed=b"healthy"):
    """A source that looks healthy (no secret, test only): the runner's SHA-256 counter."""
    return _DRBG(seed)


def test_a_healthy_source_passes():
    assert rngcheck.startup_check(_hash_source()) is None


def test_constant_bytes_are_refused():
    reason = rngcheck.startup_check(lambda n: b"*" * n)
    assert reason is not None and "repeated" in reason, reason


def test_a_run_of_equal_bytes_is_refused():
    good = _hash_source()

    def stuck(n):
        b = bytearray(good(n))
        b[10:16] = b"\x00" * 6              # 6 equal bytes in a row: the cutoff
        return bytes(b)
    reason = rngcheck.startup_check(stuck)
    assert reason is not None and "6 equal bytes in a row (0x00)" in reason, reason

    def five(n):
        b = bytearray(good(n))
        b[10:15] = b"\x00" * 5              # 5 is below it
        b[15] = 1
        return bytes(b)
    assert rngcheck.startup_check(five) is None


def test_repeated_output_is_refused():
    block = _hash_source()(32)
    reason = rngcheck.startup_check(lambda n: block[:n])
    assert reason == "the random source repeated its output", reason


def test_no_source_and_short_reads_are_refused():
    assert rngcheck.startup_check(lambda n: None) == "this platform has no random source"
    reason = rngcheck.startup_check(lambda n: b"ab")
    assert reason == "the random source returned fewer bytes than asked", reason


class _PlatformSource:
    """Replace the platform's random source for one test (and undo it)."""

    def __init__(self, fn):
        self.fn = fn

    def __enter__(self):
        self.saved = (port._impl.platform_random, port._random_ok, port._random_source)
        port._impl.platform_random = self.fn
        port._random_ok = False
        port._random_source = None
        return self

    def __exit__(self, *exc):
        port._impl.platform_random, port._random_ok, port._random_source = self.saved


def test_a_refused_platform_source_is_never_used():
    calls = []

    def constant(n):
        calls.append(n)
        return b"*" * n
    with _PlatformSource(constant):
        buf = bytearray(16)
        try:
            port.random_into(buf)
            raise AssertionError("a constant source must be refused")
        except NxError as e:
            assert e.code == NX_SECURE_TLS_NO_RANDOM_SOURCE
        assert buf == bytearray(16)              # nothing of it reached the caller
        assert calls == [32, 32]                 # only the check read it
        assert "repeated" in rngcheck.platform_random_check()
        assert not port._random_ok
        # an application's own source is its business: used, not checked
        port.set_random_source(lambda n: b"\x01" * n)
        port.random_into(buf)
        assert buf == b"\x01" * 16


def test_a_healthy_platform_source_is_checked_once():
    calls = []
    src = _hash_source()

    def counted(n):
        calls.append(n)
        return src(n)
    with _PlatformSource(counted):
        a, b = bytearray(32), bytearray(32)
        port.random_into(a)
        port.random_into(b)
        assert calls == [32, 32, 32, 32] and a != b
        assert port._random_ok and rngcheck.platform_random_check() is None


def test_server_start_fails_with_a_refused_source():
    with _PlatformSource(lambda n: b"*" * n):
        port.use_network(MemoryNetwork())
        try:
            table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
            st, md = nx_secure_tls_metadata_size_calculate(table)
            nx_system_initialize()
            pool, ip, server = NX_PACKET_POOL(), NX_IP(), NX_SECURE_DTLS_SERVER()
            pool_mem = bytearray(2 * (256 + sizeof(NX_PACKET)))
            assert nx_packet_pool_create(pool, "p", 256, pool_mem, len(pool_mem)) == NX_SUCCESS
            assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool) == 0
            nx_udp_enable(ip)
            sessions = bytearray(sizeof(NX_SECURE_DTLS_SESSION))
            meta, reasm = bytearray(md), bytearray(512)
            assert nx_secure_dtls_server_create(
                server, ip, 5684, NX_IP_PERIODIC_RATE, sessions, len(sessions), table, meta,
                len(meta), reasm, len(reasm), lambda s, a, p: NX_SUCCESS,
                lambda s: NX_SUCCESS) == NX_SUCCESS
            assert nx_secure_dtls_server_start(server) == NX_SECURE_TLS_NO_RANDOM_SOURCE
            nx_secure_dtls_server_delete(server)
            nx_ip_delete(ip)
            nx_packet_pool_delete(pool)
        finally:
            port.use_network(None)
