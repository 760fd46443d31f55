"""CPython-only cross-checks: the portable backend against the pyca `cryptography` backend
(and pyca/stdlib primitives directly) on random keys, nonces and lengths, both directions."""
import hashlib
import hmac
import random

import pytest

pytest.importorskip("cryptography")

from cryptography.hazmat.primitives.ciphers.aead import AESCCM  # noqa: E402

from nxsecure.const import (  # noqa: E402
    TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CBC_SHA256, NX_SUCCESS,
)
from nxsecure.crypto import portable_backend  # noqa: E402
from nxsecure.crypto.engine import engine_works  # noqa: E402
from nxsecure.crypto.ccm import CCM  # noqa: E402
from nxsecure.crypto import aes  # noqa: E402
from nxsecure.crypto.table import (  # noqa: E402
    make_tls_crypto, nx_secure_tls_metadata_size_calculate, define_suite, SUITE_SPECS,
    nx_crypto_tls_ciphers,
)
from nxsecure.port.crypto_pyca import pyca_backend  # noqa: E402

PORTABLE = portable_backend()
PYCA = pyca_backend()
AEADS = ["aes_128_ccm_8", "aes_128_ccm", "aes_128_gcm", "aes_256_ccm_8", "aes_256_gcm"]
LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 100, 255, 256, 300]


class _FakeCryptolib:
    """Stands in for MicroPython's cryptolib.aes(key, mode[, iv]) with its exact rules,
    checked: ECB (1) or CBC (2), encrypt/decrypt(in_buf, out_buf) over whole blocks of
    in_buf into an out_buf at least as long, one direction per object (as the
    mbedTLS-based cryptolib), CBC carrying its IV over from call to call."""
    made = 0

    def __init__(self, key, mode, iv=None):
        assert mode in (1, 2) and (iv is None) == (mode == 1)
        _FakeCryptolib.made += 1
        self._c = aes.new(bytes(key), mode, iv)
        self._dir = None

    def _go(self, which, src, dst):
        assert self._dir in (None, which), "cryptolib cannot switch direction"
        self._dir = which
        assert len(src) % 16 == 0 and len(dst) >= len(src)
        getattr(self._c, which)(src, dst)

    def encrypt(self, src, dst):
        self._go("encrypt", src, dst)

    def decrypt(self, src, dst):
        self._go("decrypt", src, dst)


PLATFORM = portable_backend(_FakeCryptolib)
BACKENDS = [PORTABLE, PLATFORM]


def _rng(seed):
    r = random.Random(seed)
    return r, lambda n: bytes(r.getrandbits(8) for _ in range(n))


@pytest.mark.parametrize("name", AEADS)
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_aead_matches_pyca_both_directions(name, backend):
    r, rb = _rng(name)
    mine = getattr(backend, name)
    ref = getattr(PYCA, name)
    tag = mine.nx_crypto_ICV_size_in_bits >> 3
    assert tag == ref.nx_crypto_ICV_size_in_bits >> 3
    for n in LENGTHS + [r.randrange(0, 301) for _ in range(6)]:
        key = rb(mine.nx_crypto_key_size_in_bits >> 3)
        nonce, aad, pt = rb(12), rb(13), rb(n)
        a = mine.init(key)
        b = ref.init(key)
        off = r.randrange(0, 9)
        b1 = bytearray(off) + bytearray(pt) + bytearray(tag + 2)
        b2 = bytearray(b1)
        a.seal(nonce, aad, b1, off, n)
        b.seal(nonce, aad, memoryview(b2), off, n)
        assert b1 == b2
        # portable opens what pyca sealed and vice versa
        c1, c2 = bytearray(b1), bytearray(b1)
        assert a.open(nonce, aad, c1, off, n + tag)
        assert b.open(nonce, aad, c2, off, n + tag)
        assert c1[off:off + n] == pt and c2[off:off + n] == pt
        # one flipped bit: both refuse
        pos = off + r.randrange(0, n + tag)
        b1[pos] ^= 1 << r.randrange(8)
        assert not a.open(nonce, aad, bytearray(b1), off, n + tag)
        assert not b.open(nonce, aad, bytearray(b1), off, n + tag)


@pytest.mark.parametrize("tag", [4, 6, 8, 10, 12, 14, 16])
@pytest.mark.parametrize("nlen", [7, 8, 10, 12, 13])
def test_ccm_general_parameters_match_pyca(tag, nlen):
    r, rb = _rng(tag * 100 + nlen)
    for n in (0, 5, 16, 40):
        key, nonce, aad, pt = rb(16), rb(nlen), rb(r.randrange(0, 40)), rb(n)
        ccm = CCM(aes.new, key, tag, 15 - nlen)
        buf = bytearray(pt) + bytearray(tag)
        ccm.seal(nonce, aad, buf, 0, n)
        assert bytes(buf) == AESCCM(key, tag_length=tag).encrypt(nonce, pt, aad)


@pytest.mark.parametrize("la", [0, 1, 13, 14, 15, 30, 200, 239, 240, 300])
def test_ccm_one_call_bounds_match_pyca(la):
    # seal and open format a short MAC input themselves and leave longer ones to _mac:
    # both sides of that line, for each shape of associated data, against pyca
    r, rb = _rng(la)
    for n in (0, 95, 96, 111, 112, 113, 127, 128, 129, 143, 144, 145, 160):
        key, nonce, aad, pt = rb(16), rb(12), rb(la), rb(n)
        for backend in BACKENDS:
            ctx = backend.aes_128_ccm_8.init(key)
            buf = bytearray(3) + bytearray(pt) + bytearray(8)
            ctx.seal(nonce, aad, buf, 3, n)
            assert bytes(buf[3:]) == AESCCM(key, tag_length=8).encrypt(nonce, pt, aad), n
            assert ctx.open(nonce, aad, buf, 3, n + 8) and bytes(buf[3:3 + n]) == pt
            buf[3 + n // 2] ^= 1
            assert not ctx.open(nonce, aad, buf, 3, n + 8)


def test_ccm_long_aad_encoding_matches_pyca():
    # RFC 3610 2.2: aad of 2^16-2^8 bytes or more uses the 0xFFFE + 32-bit form.
    _, rb = _rng("long")
    key, nonce, pt = rb(16), rb(12), rb(20)
    for la in (0xFEFF, 0xFF00, 0x10001):
        aad = rb(la)
        ccm = CCM(aes.new, key, 8, 3)
        buf = bytearray(pt) + bytearray(8)
        ccm.seal(nonce, aad, buf, 0, len(pt))
        assert bytes(buf) == AESCCM(key, tag_length=8).encrypt(nonce, pt, aad)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("name", ["aes_128_cbc", "aes_256_cbc"])
def test_cbc_matches_pyca_both_directions(backend, name):
    r, rb = _rng(name)
    mine, ref = getattr(backend, name), getattr(PYCA, name)
    for blocks in (1, 2, 3, 7, 18):
        n = 16 * blocks
        key, iv, pt = rb(mine.nx_crypto_key_size_in_bits >> 3), rb(16), rb(n)
        a, b = mine.init(key), ref.init(key)
        off = r.randrange(0, 9)
        b1 = bytearray(off) + bytearray(pt) + bytearray(3)
        b2 = bytearray(b1)
        a.encrypt(iv, b1, off, n)
        b.encrypt(iv, b2, off, n)
        assert b1 == b2
        a.decrypt(iv, b1, off, n)
        b.decrypt(iv, b2, off, n)
        assert b1 == b2 and b1[off:off + n] == pt


@pytest.mark.parametrize("backend", [PORTABLE, PYCA], ids=lambda b: b.name)
def test_hmac_matches_stdlib(backend):
    r, rb = _rng("hmac")
    for n in LENGTHS:
        key, head, data = rb(r.choice([20, 32, 64, 65, 100])), rb(13), rb(n)
        want = hmac.new(key, head + data, hashlib.sha256).digest()
        ctx = backend.hmac_sha256.init(key)
        out = bytearray(40)
        buf = bytearray(3) + bytearray(data)
        ctx.mac(head, buf, 3, n, out, 5)
        assert bytes(out[5:37]) == want
        want1 = hmac.new(key, head + data, hashlib.sha1).digest()
        ctx = backend.hmac_sha1.init(key)
        ctx.mac(head, buf, 3, n, out, 0)
        assert bytes(out[0:20]) == want1


def test_prf_backends_agree():
    _, rb = _rng("prf")
    for n in (1, 12, 32, 33, 48, 104, 200):
        secret, seed = rb(48), rb(64)
        assert (PORTABLE.prf_sha256.prf(secret, b"key expansion", seed, n)
                == PYCA.prf_sha256.prf(secret, b"key expansion", seed, n))


def test_tables_from_both_backends_have_same_rows():
    a, b = make_tls_crypto(PORTABLE), make_tls_crypto(PYCA)
    for ra, rb_ in zip(a.nx_secure_tls_ciphersuite_lookup_table,
                       b.nx_secure_tls_ciphersuite_lookup_table):
        for attr in ("nx_secure_tls_ciphersuite", "nx_secure_tls_iv_size",
                     "nx_secure_tls_session_key_size", "nx_secure_tls_hash_size", "aead",
                     "tag_size", "record_iv_size", "key_block_size"):
            assert getattr(ra, attr) == getattr(rb_, attr), attr
    assert a.nx_secure_tls_ciphersuite_lookup_table_size == 4
    st, size = nx_secure_tls_metadata_size_calculate(b)
    assert st == NX_SUCCESS and size == b.find(TLS_PSK_WITH_AES_128_CBC_SHA256).key_block_size
    assert make_tls_crypto({"aes_128_ccm_8": PYCA.aes_128_ccm_8, "sha256": PYCA.sha256,
                            "prf_sha256": PYCA.prf_sha256, "hmac_sha256": PYCA.hmac_sha256}
                           ).nx_secure_tls_ciphersuite_lookup_table_size == 1


def test_default_table_is_built_and_usable():
    t = nx_crypto_tls_ciphers
    row = t.find(TLS_PSK_WITH_AES_128_CCM_8)
    ctx = row.nx_secure_tls_session_cipher.init(bytes(16))
    buf = bytearray(b"abc") + bytearray(8)
    ctx.seal(bytes(12), bytes(13), buf, 0, 3)
    assert ctx.open(bytes(12), bytes(13), buf, 0, 11) and buf[:3] == b"abc"


def test_later_rows_slot_in_without_rewrites():
    # TLS_RSA_WITH_AES_128_CBC_SHA (RFC 5246 A.5): SHA-1 HMAC, no public-key code needed
    # to build the row; an unknown suite or a missing method is an explicit error.
    t = make_tls_crypto(PYCA, (0x002F,))
    row = t.find(0x002F)
    assert row.nx_secure_tls_hash_size == 20 and row.key_block_size == 2 * (20 + 16)
    define_suite(0xFFF0, 1, None, "aes_128_gcm", None, 4, 16)
    try:
        assert make_tls_crypto(PORTABLE, (0xFFF0,)).find(0xFFF0).aead
    finally:
        del SUITE_SPECS[0xFFF0]
    with pytest.raises(ValueError):
        make_tls_crypto(PORTABLE, (0xFFF1,))
    with pytest.raises(ValueError):
        make_tls_crypto({"aes_128_ccm_8": None, "sha256": PYCA.sha256,
                         "prf_sha256": PYCA.prf_sha256, "hmac_sha256": None},
                        (TLS_PSK_WITH_AES_128_CCM_8,))


def test_platform_engine_is_used_and_checked():
    # the modes run over the engine they are given (here a checked stand-in for
    # cryptolib: every call within its rules), and the start-up check accepts it
    assert engine_works(_FakeCryptolib)
    before = _FakeCryptolib.made
    ctx = PLATFORM.aes_128_ccm_8.init(bytes(16))
    assert _FakeCryptolib.made == before + 2             # ECB for CTR, CBC for the MAC
    buf = bytearray(300)
    ctx.seal(bytes(12), bytes(13), buf, 0, 290)
    assert ctx.open(bytes(12), bytes(13), buf, 0, 298) and buf[:290] == bytes(290)
