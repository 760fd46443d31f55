# The AES-256 suites on a board as on the host (pytest, and the MicroPython runner): a
# PSK handshake, data and close between our client and our server in one interpreter
# (nxsecure.port.memnet) with TLS_PSK_WITH_AES_256_GCM_SHA384 (the SHA-384 PRF and
# transcript: MicroPython's hashlib has no SHA-384, so crypto/sha512.py does the work)
# and TLS_PSK_WITH_AES_256_CCM_8 (SHA-256 PRF, AES-256 keys); the P_SHA384 output of
# the PRF against a published vector. Prints each handshake's time.
import nxsecure.crypto.suites384 as S
from nxsecure import *
from nxsecure.crypto import sha384_prf

from dtls_pair import Pair, ticks_ms, ticks_diff


def test_p_sha384():
    # P_SHA384 (RFC 5246 5) of secret b032..05eb, "test label" + seed d464..8ee5, 148
    # bytes; the expected bytes come from CPython's hmac and hashlib (five lines of
    # RFC 5246 5, independent of nxsecure), computed once.
    out = sha384_prf.prf(bytes.fromhex("b0323523c1853599584d88568bbb05eb"), b"test label",
                         bytes.fromhex("d4640e12e4bcdbfb437f03e6ae418ee5"), 148)
    assert len(out) == 148
    assert out == bytes.fromhex(
        "4b1b19d5bb426a4aa09ea433495619cd30eed36efd50c0450baed8d86ca59cb594c41d23da46d831"
        "66e8e95b23d77af6f1fe370a7e6496a572d985f7198001bfc40438b7677fd249a3d6d0f46376a77b"
        "3e35d0406ac36b7d332c80d0caf6e9e35eb8bc06cc0cbbe7e6b68739d72bc3a8cb915c0fe2db3a35"
        "4de6be5389c1de119b6cb77fa9fbedc1152d3f7531fa173df4fd37d2")


def _handshake(suite):
    p = Pair(suite)
    try:
        t0 = ticks_ms()
        st = p.connect()
        ms = ticks_diff(ticks_ms(), t0)
        print("0x%04X handshake: %d ms" % (suite, ms))
        assert st == NX_SUCCESS, p.why(st)
        assert p.client._engine.suite.nx_secure_tls_ciphersuite == suite
        assert p.echo(b"reading 21.5 C") == b"reading 21.5 C"
        return getattr(p.client._engine.transcript, "hash_name", "sha256")
    finally:
        st = p.close()


def test_psk_aes256_gcm_sha384_handshake():
    assert _handshake(S.TLS_PSK_WITH_AES_256_GCM_SHA384) == "sha384"


def test_psk_aes256_ccm8_handshake():
    assert _handshake(S.TLS_PSK_WITH_AES_256_CCM_8) == "sha256"
