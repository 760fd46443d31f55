# Published known-answer vectors for the portable crypto (AES, CCM, GCM, CBC, HMAC, the
# TLS 1.2 PRF) and the crypto table. Runs under pytest on CPython and inside MicroPython
# (tools/mp_test_runner.py calls every test_* function): plain asserts, small buffers.
from binascii import hexlify, unhexlify

from nxsecure.const import (
    NX_PTR_ERROR, NX_SUCCESS,
    TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256,
)
from nxsecure.crypto import portable_backend
from nxsecure.crypto.aes import AES
from nxsecure.crypto.ccm import CCM
from nxsecure.crypto.gcm import GCM
from nxsecure.crypto.mac import HMAC, hmac_sha256
from nxsecure.crypto.prf import prf
from nxsecure.crypto.table import (
    make_tls_crypto, nx_secure_tls_metadata_size_calculate, DEFAULT_SUITES,
)

_backend = None


def _h(s):
    return unhexlify(s.replace(" ", ""))


def _hex(b):
    return hexlify(bytes(b)).decode()


def _pb():
    global _backend
    if _backend is None:
        _backend = portable_backend()
    return _backend


# --- AES (FIPS-197 Appendix B and C) ---------------------------------------------------

def _aes_kat(key, pt, ct):
    a = AES(_h(key), None, True)
    out = bytearray(16)
    a.encrypt_block(_h(pt), 0, out, 0)
    assert _hex(out) == ct
    back = bytearray(16)
    a.decrypt_block(out, 0, back, 0)
    assert back == _h(pt)


def test_aes128_fips197_appendix_b():
    _aes_kat("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
             "3925841d02dc09fbdc118597196a0b32")


def test_aes128_fips197_c1():
    _aes_kat("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
             "69c4e0d86a7b0430d8cdb78070b4c55a")


def test_aes192_fips197_c2():
    _aes_kat("000102030405060708090a0b0c0d0e0f1011121314151617",
             "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191")


def test_aes256_fips197_c3():
    _aes_kat("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
             "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089")


def test_aes_block_at_offsets_in_place():
    a = AES(_h("000102030405060708090a0b0c0d0e0f"))
    buf = bytearray(40)
    buf[7:23] = _h("00112233445566778899aabbccddeeff")
    a.encrypt_block(buf, 7, buf, 7)
    assert _hex(buf[7:23]) == "69c4e0d86a7b0430d8cdb78070b4c55a"
    assert buf[0:7] == bytearray(7) and buf[23:] == bytearray(17)


def test_aes_rejects_bad_key_size():
    try:
        AES(bytes(15))
    except ValueError:
        return
    assert False, "15-byte key accepted"


# --- CCM (RFC 3610 section 8, NIST SP 800-38C Appendix C) -----------------------------

def _ccm_kat(key, nonce, aad, pt, expect, M):
    nonce = _h(nonce)
    ccm = CCM(AES(_h(key)), M, 15 - len(nonce), None)
    p = _h(pt)
    buf = bytearray(len(p) + M)
    buf[0:len(p)] = p
    ccm.seal(nonce, _h(aad), buf, 0, len(p))
    assert _hex(buf) == expect.replace(" ", "")
    assert ccm.open(nonce, _h(aad), buf, 0, len(buf))
    assert buf[0:len(p)] == p
    # One flipped bit anywhere (ciphertext or tag) must fail.
    for pos in (0, len(buf) - 1):
        ccm.seal(nonce, _h(aad), buf, 0, len(p))
        buf[pos] ^= 0x01
        assert not ccm.open(nonce, _h(aad), buf, 0, len(buf))


def test_ccm_rfc3610_packet_vector_1():
    _ccm_kat("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5",
             "0001020304050607", "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
             "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0", 8)


def test_ccm_rfc3610_packet_vector_2():
    _ccm_kat("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000004030201a0a1a2a3a4a5",
             "0001020304050607", "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
             "72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916", 8)


def test_ccm_sp800_38c_example_1():
    _ccm_kat("404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607",
             "20212223", "7162015b4dac255d", 4)


def test_ccm_sp800_38c_example_2():
    _ccm_kat("404142434445464748494a4b4c4d4e4f", "1011121314151617",
             "000102030405060708090a0b0c0d0e0f", "202122232425262728292a2b2c2d2e2f",
             "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", 6)


def test_ccm_sp800_38c_example_3():
    _ccm_kat("404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
             "000102030405060708090a0b0c0d0e0f10111213",
             "202122232425262728292a2b2c2d2e2f3031323334353637",
             "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", 8)


def _aead_roundtrip(method, n, off=5):
    """seal then open a record of n bytes at offset `off` with TLS-shaped nonce/aad."""
    key = bytes(range(1, 17))
    ctx = method.init(key)
    tag = method.nx_crypto_ICV_size_in_bits >> 3
    nonce = _h("a0a1a2a3a4a5a6a7a8a9aaab")
    aad = _h("00000000000000011700fefd0064")[0:13]
    buf = bytearray(off + n + tag + 3)
    for i in range(n):
        buf[off + i] = (i * 7) & 0xFF
    ctx.seal(nonce, aad, buf, off, n)
    assert buf[0:off] == bytearray(off) and buf[off + n + tag:] == bytearray(3)
    if n >= 8:
        assert buf[off:off + 8] != bytearray([(i * 7) & 0xFF for i in range(8)])
    assert ctx.open(nonce, aad, buf, off, n + tag)
    for i in range(n):
        assert buf[off + i] == (i * 7) & 0xFF
    return ctx, nonce, aad, buf, tag


def test_ccm8_tls_roundtrip_and_tamper_rejection():
    m = _pb().aes_128_ccm_8
    assert m.nx_crypto_ICV_size_in_bits == 64
    for n in (0, 1, 15, 16, 17, 100):
        ctx, nonce, aad, buf, tag = _aead_roundtrip(m, n)
    # Tampered tag, ciphertext, aad and nonce are each rejected.
    ctx.seal(nonce, aad, buf, 5, 100)
    buf[5 + 100 + tag - 1] ^= 0x80
    assert not ctx.open(nonce, aad, buf, 5, 100 + tag)
    ctx.seal(nonce, aad, buf, 5, 100)
    buf[5 + 50] ^= 0x01
    assert not ctx.open(nonce, aad, buf, 5, 100 + tag)
    ctx.seal(nonce, aad, buf, 5, 100)
    bad = bytearray(aad)
    bad[12] ^= 1
    assert not ctx.open(nonce, bad, buf, 5, 100 + tag)
    ctx.seal(nonce, aad, buf, 5, 100)
    badn = bytearray(nonce)
    badn[11] ^= 1
    assert not ctx.open(badn, aad, buf, 5, 100 + tag)
    # Shorter than a tag: rejected, not an exception.
    assert not ctx.open(nonce, aad, buf, 5, tag - 1)


def test_ccm16_tls_roundtrip_and_tamper_rejection():
    ctx, nonce, aad, buf, tag = _aead_roundtrip(_pb().aes_128_ccm, 33)
    assert tag == 16
    buf[5] ^= 0x04
    assert not ctx.open(nonce, aad, buf, 5, 33 + tag)


# --- GCM (McGrew & Viega, "The GCM mode of operation", test cases 1-4) ----------------

_GCM_K = "feffe9928665731c6d6a8f9467308308"
_GCM_IV = "cafebabefacedbaddecaf888"
_GCM_P = ("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
_GCM_C = ("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985")


def _gcm_kat(key, iv, aad, pt, ct, tag):
    g = GCM(AES(_h(key)), 16, None)
    p = _h(pt)
    buf = bytearray(len(p) + 16)
    buf[0:len(p)] = p
    g.seal(_h(iv), _h(aad), buf, 0, len(p))
    assert _hex(buf) == ct + tag
    assert g.open(_h(iv), _h(aad), buf, 0, len(buf))
    assert buf[0:len(p)] == p
    buf[len(buf) - 16] ^= 0x01
    assert not g.open(_h(iv), _h(aad), buf, 0, len(buf))


def test_gcm_test_case_1_empty():
    _gcm_kat("00" * 16, "00" * 12, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a")


def test_gcm_test_case_2():
    _gcm_kat("00" * 16, "00" * 12, "", "00" * 16, "0388dace60b6a392f328c2b971b2fe78",
             "ab6e47d42cec13bdf53a67b21257bddf")


def test_gcm_test_case_3():
    _gcm_kat(_GCM_K, _GCM_IV, "", _GCM_P, _GCM_C, "4d5c2af327cd64a62cf35abd2ba6fab4")


def test_gcm_test_case_4_with_aad():
    _gcm_kat(_GCM_K, _GCM_IV, "feedfacedeadbeeffeedfacedeadbeefabaddad2", _GCM_P[:120],
             _GCM_C[:120], "5bc94fbc3221a5db94fae95ae7121a47")


def test_gcm_tls_roundtrip_and_tamper_rejection():
    for n in (0, 1, 16, 31, 100):
        ctx, nonce, aad, buf, tag = _aead_roundtrip(_pb().aes_128_gcm, n)
    buf[5 + 99] ^= 0x10
    assert not ctx.open(nonce, aad, buf, 5, 100 + tag)


# --- CBC (NIST SP 800-38A F.2.1-F.2.2 and F.2.5-F.2.6) ------------------------------------

_CBC_IV = "000102030405060708090a0b0c0d0e0f"
_CBC_P = ("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")


def _cbc_kat(method, key, ct):
    ctx = method.init(_h(key))
    buf = bytearray(3) + bytearray(_h(_CBC_P)) + bytearray(2)
    ctx.encrypt(_h(_CBC_IV), buf, 3, 64)
    assert _hex(buf[3:67]) == ct
    assert buf[0:3] == bytearray(3) and buf[67:] == bytearray(2)
    ctx.decrypt(_h(_CBC_IV), buf, 3, 64)
    assert _hex(buf[3:67]) == _CBC_P


def test_cbc_aes128_sp800_38a_f21_f22():
    _cbc_kat(_pb().aes_128_cbc, "2b7e151628aed2a6abf7158809cf4f3c",
             "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
             "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7")


def test_cbc_aes256_sp800_38a_f25_f26():
    _cbc_kat(_pb().aes_256_cbc,
             "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
             "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
             "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b")


def test_cbc_rejects_partial_block():
    ctx = _pb().aes_128_cbc.init(bytes(16))
    try:
        ctx.encrypt(bytes(16), bytearray(20), 0, 20)
    except ValueError:
        return
    assert False, "CBC accepted 20 bytes"


# --- HMAC-SHA256 (RFC 4231 test cases 1-4, 6, 7) -----------------------------------------

_RFC4231 = (
    ("0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    ("4a656665", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ("aa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    ("0102030405060708090a0b0c0d0e0f10111213141516171819", b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    ("aa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ("aa" * 131, b"This is a test using a larger than block-size key and a larger than "
     b"block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
)


def test_hmac_sha256_rfc4231():
    for key, data, mac in _RFC4231:
        assert _hex(hmac_sha256(_h(key), data)) == mac


def test_hmac_sha256_context_head_and_span():
    m = _pb().hmac_sha256
    assert m.nx_crypto_ICV_size_in_bits == 256
    for key, data, mac in _RFC4231:
        ctx = m.init(_h(key))
        buf = bytearray(3) + bytearray(data) + bytearray(4)
        out = bytearray(40)
        # head || buf[off:off+n] must equal the whole message, split anywhere.
        ctx.mac(data[0:5], buf, 3 + 5, len(data) - 5, out, 4)
        assert _hex(out[4:36]) == mac
        assert out[0:4] == bytearray(4) and out[36:] == bytearray(4)
        ctx.mac(b"", buf, 3, len(data), out, 0)
        assert _hex(out[0:32]) == mac


def test_hmac_wrong_key_differs():
    a = HMAC(b"k1").digest(b"x")
    b = HMAC(b"k2").digest(b"x")
    assert a != b and len(a) == 32


# --- TLS 1.2 PRF (P_SHA256; the vector posted to the IETF TLS list, msg03416) ------------

def test_tls12_prf_sha256_vector():
    out = prf(_h("9bbe436ba940f017b17652849a71db35"), b"test label",
              _h("a0ba9f936cda311827a6f796ffd5198c"), 100)
    assert _hex(out) == (
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
        "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
        "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
        "87347b66")


def test_tls12_prf_is_prefix_consistent():
    a = prf(b"s", b"l", b"seed", 20)
    b = prf(b"s", b"l", b"seed", 64)
    assert len(a) == 20 and len(b) == 64 and b[0:20] == a


# --- crypto table -------------------------------------------------------------------

def test_table_rows_in_preference_order():
    t = make_tls_crypto(_pb())
    ids = [r.nx_secure_tls_ciphersuite for r in t.nx_secure_tls_ciphersuite_lookup_table]
    assert ids == [0xC0A8, 0xC0A4, 0x00A8, 0x00AE]
    assert t.nx_secure_tls_ciphersuite_lookup_table_size == 4
    assert tuple(ids) == DEFAULT_SUITES


def test_table_row_sizes():
    t = make_tls_crypto(_pb())
    r = t.find(TLS_PSK_WITH_AES_128_CCM_8)
    assert r.aead and r.tag_size == 8 and r.record_iv_size == 8
    assert r.nx_secure_tls_iv_size == 4 and r.nx_secure_tls_session_key_size == 16
    assert r.nx_secure_tls_hash is None and r.nx_secure_tls_hash_size == 0
    assert r.nx_secure_tls_public_auth is None and r.nx_secure_tls_public_cipher == 1
    assert r.key_block_size == 40
    r = t.find(TLS_PSK_WITH_AES_128_CCM)
    assert r.tag_size == 16
    r = t.find(TLS_PSK_WITH_AES_128_GCM_SHA256)
    assert r.aead and r.tag_size == 16 and r.nx_secure_tls_iv_size == 4
    r = t.find(TLS_PSK_WITH_AES_128_CBC_SHA256)
    assert not r.aead and r.record_iv_size == 16 and r.nx_secure_tls_iv_size == 0
    assert r.nx_secure_tls_hash_size == 32 and r.key_block_size == 96
    assert t.find(0x1234) is None


def test_table_subset_and_order():
    t = make_tls_crypto(_pb(), (TLS_PSK_WITH_AES_128_GCM_SHA256,
                                TLS_PSK_WITH_AES_128_CCM_8))
    ids = [r.nx_secure_tls_ciphersuite for r in t.nx_secure_tls_ciphersuite_lookup_table]
    assert ids == [0x00A8, 0xC0A8]


def test_table_handshake_methods():
    t = make_tls_crypto(_pb())
    h = t.sha256()
    h.update(b"abc")
    assert _hex(h.digest()) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2
    assert t.prf(b"s", b"l", b"seed", 20) == prf(b"s", b"l", b"seed", 20)
    assert _hex(t.hmac_sha256(_h("0b" * 20), b"Hi ", b"There")) == _RFC4231[0][2]


def test_metadata_size_calculate():
    status, size = nx_secure_tls_metadata_size_calculate(None)
    assert status == NX_PTR_ERROR
    t = make_tls_crypto(_pb())
    status, size = nx_secure_tls_metadata_size_calculate(t)
    assert status == NX_SUCCESS
    # Every row's two contexts plus key block fit, and the biggest row sets the size.
    biggest = 0
    for r in t.nx_secure_tls_ciphersuite_lookup_table:
        need = 2 * r.nx_secure_tls_session_cipher.nx_crypto_metadata_area_size + r.key_block_size
        if r.nx_secure_tls_hash is not None:
            need += 2 * r.nx_secure_tls_hash.nx_crypto_metadata_area_size
        assert need <= size
        biggest = max(biggest, need)
    assert biggest == size
    t = make_tls_crypto(_pb(), (TLS_PSK_WITH_AES_128_CCM_8,))
    status, small = nx_secure_tls_metadata_size_calculate(t)
    assert small < size


def test_contexts_work_in_one_shared_metadata_buffer():
    # A session carves both directions' contexts out of one buffer: they must not
    # trample each other.
    t = make_tls_crypto(_pb())
    r = t.find(TLS_PSK_WITH_AES_128_CCM_8)
    status, size = nx_secure_tls_metadata_size_calculate(t)
    md = memoryview(bytearray(size))
    m = r.nx_secure_tls_session_cipher
    k = m.nx_crypto_metadata_area_size
    w = m.init(bytes(16), md[0:k])
    rd = m.init(bytes(16), md[k:2 * k])
    nonce = bytes(12)
    aad = bytes(13)
    buf = bytearray(b"hello, record") + bytearray(8)
    w.seal(nonce, aad, buf, 0, 13)
    assert rd.open(nonce, aad, buf, 0, 21)
    assert buf[0:13] == b"hello, record"


def test_metadata_too_small_is_refused():
    m = _pb().aes_128_ccm_8
    try:
        m.init(bytes(16), memoryview(bytearray(m.nx_crypto_metadata_area_size - 1)))
    except ValueError:
        return
    assert False, "short metadata accepted"
