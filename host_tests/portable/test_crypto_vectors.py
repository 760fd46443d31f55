# Published known-answer vectors for the portable crypto (AES, CCM, GCM, CBC, HMAC, the
# TLS 1.2 PRF) and the crypto table. Runs under pytest on CPython and inside MicroPython
# (tools/mp_test_runner.py calls every test_* function): plain asserts, small buffers.
# The modes run over every AES engine this interpreter has (the pure-Python one, and
# MicroPython's cryptolib where it passes the start-up check) and with every kernel set
# (Python, and the native one where the firmware compiles it): each combination must
# give the published answers.
import gc
import sys
from binascii import hexlify, unhexlify

from nxsecure.const import (
    NX_PTR_ERROR, NX_SUCCESS,
    TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256,
)
from nxsecure.crypto import portable_backend, kernel
from nxsecure.crypto.engine import engine_works
from nxsecure.crypto import aes
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


def _engines():
    """The AES engines here: pure Python, and cryptolib.aes where it works."""
    found = [aes.new]
    try:
        import cryptolib
        if engine_works(cryptolib.aes):
            found.append(cryptolib.aes)
    except ImportError:
        pass
    return found


def _kernels():
    n = kernel.native()
    return [kernel.python()] + ([n] if n else [])


def _variants():
    """(engine, kernels) pairs: every combination available here."""
    return [(e, k) for e in _engines() for k in _kernels()]


def _backends():
    """(backend, kernels) pairs; contexts made from a backend use kernel.best(), so the
    caller makes them inside `with_kernels`."""
    return [(portable_backend(None if e is aes.new else e), k) for e, k in _variants()]


def _with_kernels(k, fn):
    kernel.use(k)
    try:
        return fn()
    finally:
        kernel.use(None)


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
    for engine, k in _variants():
        _ccm_kat_one(CCM(engine, _h(key), M, 15 - len(_h(nonce)), None, k), key, nonce, aad,
                     pt, expect, M)


def _ccm_kat_one(ccm, key, nonce, aad, pt, expect, M):
    nonce = _h(nonce)
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
    for b, k in _backends():
        _with_kernels(k, lambda: _ccm8_roundtrip(b.aes_128_ccm_8))


def _ccm8_roundtrip(m):
    assert m.nx_crypto_ICV_size_in_bits == 64
    for n in (0, 1, 15, 16, 17, 100, 200, 300):
        ctx, nonce, aad, buf, tag = _aead_roundtrip(m, n)
    # Tampered tag, ciphertext, aad and nonce are each rejected, and the context keeps
    # working afterwards (the CBC-MAC chain stays in step).
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
    ctx.seal(nonce, aad, buf, 5, 100)
    assert ctx.open(nonce, aad, buf, 5, 100 + tag)
    # Shorter than a tag: rejected, not an exception.
    assert not ctx.open(nonce, aad, buf, 5, tag - 1)
    # A span past the buffer, or a read-only buffer, is refused before anything is
    # written (the kernels may be machine code with no bounds checks of their own).
    for bad_off in (-1, len(buf) - 100 - tag + 1):
        try:
            ctx.seal(nonce, aad, buf, bad_off, 100)
        except ValueError:
            continue
        assert False, "seal past the buffer accepted"
    frozen = bytes(buf)
    for ro in (frozen, memoryview(frozen)):
        try:
            ctx.seal(nonce, aad, ro, 5, 100)
        except TypeError:
            continue
        assert False, "seal into a read-only buffer accepted"
    assert frozen == bytes(buf)


def test_ccm16_tls_roundtrip_and_tamper_rejection():
    for b, k in _backends():
        ctx, nonce, aad, buf, tag = _with_kernels(k, lambda: _aead_roundtrip(b.aes_128_ccm, 33))
        assert tag == 16
        buf[5] ^= 0x04
        assert not ctx.open(nonce, aad, buf, 5, 33 + tag)


def test_ccm_long_associated_data_spans_chunks():
    # 300 bytes of associated data pass through the scratch in several CBC calls; the
    # tag is the one a single pass gives (all variants agree, and each opens its own).
    key = bytes(range(16))
    nonce = _h("00000003020100a0a1a2a3a4a5")
    aad = bytes((i * 3) & 0xFF for i in range(300))
    outs = []
    for engine, k in _variants():
        c = CCM(engine, key, 8, 2, None, k)
        buf = bytearray(bytes(range(40))) + bytearray(8)
        c.seal(nonce, aad, buf, 0, 40)
        assert c.open(nonce, aad, buf, 0, 48) and buf[:40] == bytes(range(40))
        c.seal(nonce, aad, buf, 0, 40)
        outs.append(bytes(buf))
    assert len(set(outs)) == 1


# --- GCM (McGrew & Viega, "The GCM mode of operation", test cases 1-4) ----------------

_GCM_K = "feffe9928665731c6d6a8f9467308308"
_GCM_IV = "cafebabefacedbaddecaf888"
_GCM_P = ("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
_GCM_C = ("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985")


def _gcm_kat(key, iv, aad, pt, ct, tag):
    for engine, k in _variants():
        _gcm_kat_one(GCM(engine, _h(key), 16, None, k), iv, aad, pt, ct, tag)


def _gcm_kat_one(g, iv, aad, pt, ct, tag):
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
    for b, k in _backends():
        for n in (0, 1, 16, 31, 100, 200, 300):
            ctx, nonce, aad, buf, tag = _with_kernels(
                k, lambda: _aead_roundtrip(b.aes_128_gcm, n))
        ctx.seal(nonce, aad, buf, 5, 100)
        sealed = bytes(buf)
        buf[5 + 99] ^= 0x10
        assert not ctx.open(nonce, aad, buf, 5, 100 + tag)
        # verified before decrypting: a rejected record is left as it came
        assert bytes(buf[5:5 + 99]) == sealed[5:5 + 99]


# --- CBC (NIST SP 800-38A F.2.1-F.2.2 and F.2.5-F.2.6) ------------------------------------

_CBC_IV = "000102030405060708090a0b0c0d0e0f"
_CBC_P = ("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")


def _cbc_kat(name, key, ct):
    for b, k in _backends():
        ctx = _with_kernels(k, lambda: getattr(b, name).init(_h(key)))
        # twice: the second call must not depend on the first (each record has its IV)
        for _ in range(2):
            buf = bytearray(3) + bytearray(_h(_CBC_P)) + bytearray(2)
            ctx.encrypt(_h(_CBC_IV), buf, 3, 64)
            assert _hex(buf[3:67]) == ct
            assert buf[0:3] == bytearray(3) and buf[67:] == bytearray(2)
            ctx.decrypt(_h(_CBC_IV), buf, 3, 64)
            assert _hex(buf[3:67]) == _CBC_P
        # one call per block, each with the previous ciphertext as its IV
        buf = bytearray(_h(_CBC_P))
        iv = _h(_CBC_IV)
        for p in range(0, 64, 16):
            ctx.encrypt(iv, buf, p, 16)
            iv = bytes(buf[p:p + 16])
        assert _hex(buf) == ct
        # longer than the scratch: several AES calls per record
        big = bytearray(bytes(range(256)) * 2)
        ctx.encrypt(iv, big, 0, 512)
        ctx.decrypt(iv, big, 0, 512)
        assert big == bytes(range(256)) * 2


def test_cbc_aes128_sp800_38a_f21_f22():
    _cbc_kat("aes_128_cbc", "2b7e151628aed2a6abf7158809cf4f3c",
             "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
             "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7")


def test_cbc_aes256_sp800_38a_f25_f26():
    _cbc_kat("aes_256_cbc",
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


# --- AES engines and kernels --------------------------------------------------------

def test_kernels_without_their_viper_source_fall_back_to_python():
    # a profile that does not install kernel_viper.py gets the Python kernels, no error
    # (CPython only: there a None in sys.modules is what a missing module imports as)
    if sys.implementation.name == "micropython":
        return
    saved = sys.modules.get("nxsecure.crypto.kernel_viper")
    sys.modules["nxsecure.crypto.kernel_viper"] = None      # "not installed"
    try:
        assert not kernel.compile_part("CORE", {})
    finally:
        if saved is None:
            del sys.modules["nxsecure.crypto.kernel_viper"]
        else:
            sys.modules["nxsecure.crypto.kernel_viper"] = saved


def test_pure_aes_engine_behaves_like_cryptolib():
    # nxsecure.crypto.aes.new mirrors cryptolib.aes: one direction per object, whole
    # blocks, CBC carrying its IV from call to call; engine_works accepts it
    assert engine_works(aes.new)
    e = aes.new(bytes(16), 1)
    out = bytearray(16)
    e.encrypt(bytes(16), out)
    try:
        e.decrypt(bytes(16), out)
    except TypeError:
        pass
    else:
        assert False, "an engine switched direction"
    try:
        aes.new(bytes(16), 1).encrypt(bytes(15), bytearray(16))
    except ValueError:
        pass
    else:
        assert False, "partial block accepted"
    for engine in _engines():
        # SP 800-38A F.2.2, one block per call: the IV carries over
        d = engine(_h("2b7e151628aed2a6abf7158809cf4f3c"), 2, _h(_CBC_IV))
        out = bytearray(16)
        d.decrypt(_h("7649abac8119b246cee98e9b12e9197d"), out)
        assert _hex(out) == _CBC_P[0:32]
        d.decrypt(_h("5086cb9b507219ee95db113a917678b2"), out)
        assert _hex(out) == _CBC_P[32:64]


def test_engine_without_iv_carry_over_is_refused():
    # a CBC engine that restarts from its first IV on every call would break the
    # modes' chaining: the start-up check must see it
    class Restarting:
        def __init__(self, key, mode, iv=None):
            self.key = key
            self.mode = mode
            self.iv = iv

        def encrypt(self, src, dst):
            aes.new(self.key, self.mode, self.iv).encrypt(src, dst)
    assert not engine_works(Restarting)


def test_a_module_used_once_is_forgotten():
    # kernel.forget (the engine check, the viper sources): gone from sys.modules and
    # from its package, so its code is garbage; importing it again brings it back
    from nxsecure import crypto
    from nxsecure.crypto import engine
    kernel.forget(engine)
    assert "nxsecure.crypto.engine" not in sys.modules
    assert not hasattr(crypto, "engine")
    from nxsecure.crypto import engine as again
    assert again.engine_works(aes.new)
    kernel.forget(again)
    if sys.implementation.name == "micropython":
        # the port checks cryptolib once and keeps no part of the check
        from nxsecure import port
        assert port.crypto_backend().sha256 is not None
        assert "nxsecure.crypto.engine" not in sys.modules


def _table(k, h):
    """A GHASH table for kernels k (4-byte aligned, in k's layout)."""
    from nxsecure.crypto.gcm import table
    raw = memoryview(bytearray(516))
    pad = (4 - k.misalign(raw)) & 3
    T = raw[pad:pad + 512]
    table(T, h)
    k.ghash_prep(T)
    return T


def test_native_kernels_are_used_where_the_port_compiles_them():
    # the unix, RP2040 and ESP32 ports have MicroPython's native emitter: there the
    # compiled kernels must load (a silent fall-back to Python would only show as time)
    if sys.implementation.name != "micropython" or sys.platform not in ("linux", "rp2",
                                                                         "esp32"):
        return
    k = kernel.native()
    assert k is not None and k.native
    assert k.gcm().ghash is not kernel.python().gcm().ghash


def test_kernels_agree_with_python():
    # every native kernel against the Python one on many offsets and lengths
    py = kernel.python().gcm()
    src = bytes((i * 29 + 3) & 0xFF for i in range(200))
    for k in _kernels():
        k.gcm()
        Tk = _table(k, src[0:16])
        Tp = _table(py, src[0:16])
        for n in (0, 1, 3, 4, 5, 15, 16, 17, 33, 100):
            res = []
            for kk, T in ((k, Tk), (py, Tp)):
                a = bytearray(src)
                kk.xor(a, 3, src, 50, n)
                kk.xor3(a, 120, src, 7, src, 90, n // 2)
                kk.copy(a, 60, src, 1, n)
                kk.zero(a, 11, n // 3)
                d = kk.diff(src, 0, a, 0, src, 9, n)
                z = bytearray(16)
                kk.ghash(T, z, src, 9, n)
                g = bytearray(16)
                kk.gcm_mac(T, g, src, n // 3, src, 40, n)
                w = bytearray(200)
                e = bytearray(src)
                ks = bytearray(src) if n & 1 else bytearray(80)
                q = kk.ccm_b0(w, src, 0x5A, src, 13, 2, 1000 + n, src[100:], n % 15, e, 5, n,
                              ks, 60 if n & 1 else -1, 5)
                h = bytearray(16)
                kk.seal_out(h, w, 16, src, a, 40, 100, n, 8)
                c = kk.mac_check(h, w, 16, src, a, 140, 8)
                c2 = kk.mac_check(h, w, 0, src, a, 140, 8)
                res.append((bytes(a), d, bytes(z), bytes(g), bytes(w), bytes(e), bytes(ks), q,
                            bytes(h), c, c2))
            assert res[0] == res[1], (k.native, n)
            assert res[0][9] == 0 and res[0][10] != 0          # mac_check: 0 iff equal
        for flags, nl, L in ((2, 12, 3), (7, 7, 8), (-1, 12, 4)):
            a = bytearray(64)
            b = bytearray(64)
            k.ctr(a, 4, flags, src, nl, L, 254)
            py.ctr(b, 4, flags, src, nl, L, 254)
            assert a == b
            assert a[16 - L:16] == bytes(L - 1) + b"\xfe"
            assert a[32 - L:32] == bytes(L - 1) + b"\xff" and a[48 - 2:48] == b"\x01\x00"
            if flags >= 0:
                assert a[16] == flags and a[17:17 + nl] == src[0:nl]
            else:
                assert a[16:16 + nl] == src[0:nl]


def _alloc(fn):
    """Bytes fn() allocates with the GC held (MicroPython's heap counter)."""
    held = not gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        m0 = gc.mem_alloc()
        fn()
        return gc.mem_alloc() - m0
    finally:
        if not held:
            gc.enable()


def test_seal_and_open_allocate_nothing():
    # the record path's promise: no heap allocation per record (MicroPython only:
    # CPython has no heap counter), for every mode, engine and kernel set
    if sys.implementation.name != "micropython":
        return
    nonce = bytes(12)
    aad = bytes(13)
    buf = bytearray(200)
    for b, k in _backends():
        for name in ("aes_128_ccm_8", "aes_128_ccm", "aes_128_gcm"):
            ctx = _with_kernels(k, lambda: getattr(b, name).init(bytes(16)))
            ctx.seal(nonce, aad, buf, 21, 100)          # first calls may bind things
            ctx.open(nonce, aad, buf, 21, 100 + ctx.tag_size)

            def records():
                for _ in range(3):
                    ctx.seal(nonce, aad, buf, 21, 100)
                    assert ctx.open(nonce, aad, buf, 21, 100 + ctx.tag_size)
            used = _alloc(records)
            assert used == 0, (name, k.native, used)
        ctx = _with_kernels(k, lambda: b.aes_128_cbc.init(bytes(16)))
        iv = bytes(16)
        ctx.encrypt(iv, buf, 16, 112)
        ctx.decrypt(iv, buf, 16, 112)

        def cbc_records():
            ctx.encrypt(iv, buf, 16, 112)
            ctx.decrypt(iv, buf, 16, 112)
        used = _alloc(cbc_records)
        assert used == 0, ("cbc", k.native, used)


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


# --- saved hash states (nxsecure/port/hash_state.py): the PRF and transcript fast path --

def _state_view():
    """The port's access to SHA-256 states where this interpreter offers it, else None."""
    if sys.implementation.name != "micropython":
        return None
    import hashlib
    from nxsecure.port.hash_state import view_maker
    from nxsecure.crypto.prf_saved import viewer
    return view_maker(hashlib.sha256, viewer)


def test_hash_state_access_where_the_firmware_allows_it():
    v = _state_view()
    mp = sys.implementation.name == "micropython"
    expected = mp and sys.implementation.version[:2] == (1, 27) and sys.platform in (
        "rp2", "linux", "darwin", "webassembly")
    if expected:
        try:
            import uctypes  # noqa: F401
        except ImportError:
            expected = False
    assert (v is not None) == expected
    if mp:
        # the port's backend uses it exactly then (prf_saved, the one-hash transcript)
        from nxsecure import port
        b = port.crypto_backend()
        assert (b.sha256.state_view is not None) == expected
        assert (b.prf_sha256.prf is not prf) == expected
        assert (getattr(b.prf_sha256, "key", None) is not None) == expected


def test_hash_state_check_refuses_a_copy_that_does_not_arrive():
    # the start-up check (_works) on a view whose writes land elsewhere, or in part
    import hashlib
    from nxsecure.port import hash_state
    assert not hash_state._works(hashlib.sha256, lambda h: bytearray(200))
    # a check that raises offers no view either
    assert hash_state.view_maker(hashlib.sha256, lambda at, o, n: None) is None
    v = _state_view()
    if v is not None:
        assert hash_state._works(hashlib.sha256, v)
        assert not hash_state._works(hashlib.sha256, lambda h: v(h)[0:40])


def test_prf_with_saved_states_gives_the_prf():
    v = _state_view()
    if v is None:
        # no view here: the backend's PRF is prf() itself (the vectors above), with no
        # keyed forms
        b = portable_backend()
        assert b.prf_sha256.prf is prf and getattr(b.prf_sha256, "key", None) is None
        assert getattr(b.hmac_sha256, "keyed", None) is None
        return
    from nxsecure.crypto.prf_saved import prf_saved
    f, key, mac = prf_saved(v)
    out = f(_h("9bbe436ba940f017b17652849a71db35"), b"test label",
            _h("a0ba9f936cda311827a6f796ffd5198c"), 100)
    assert out == prf(_h("9bbe436ba940f017b17652849a71db35"), b"test label",
                      _h("a0ba9f936cda311827a6f796ffd5198c"), 100)
    assert _hex(out[0:8]) == "e3f229ba727be17b"
    for klen in (0, 16, 48, 64, 65, 100):        # longer than a block: the key's hash
        secret = bytes(range(klen))
        for n in (1, 12, 32, 33, 40, 48, 64, 97):
            assert f(secret, b"key expansion", b"s" * 64, n) == prf(
                secret, b"key expansion", b"s" * 64, n)
        # the secret's keyed form, used again and again, in either order of lengths
        k = key(secret)
        for n in (12, 40, 12, 48, 1):
            assert f(k, b"client finished", b"h" * 32, n) == prf(
                secret, b"client finished", b"h" * 32, n)
            assert mac(k, b"m" * n) == hmac_sha256(secret, b"m" * n)


def test_transcript_with_saved_states_gives_the_same_digests():
    import hashlib
    from nxsecure.dtls import Transcript
    v = _state_view()
    parts = (b"client hello" * 7, b"server hello", b"x" * 130, b"finished")
    for n in (2, 3):
        ts = [Transcript(hashlib.sha256, n)] + ([Transcript(hashlib.sha256, n, v)]
                                               if v is not None else [])
        for t in ts:
            for rnd in range(2):                 # and again after reset()
                t.reset()
                seen = b""
                got = []
                for i in range(n):
                    t.update(parts[i])
                    seen += parts[i]
                    d = t.digest()
                    assert d == t.digest()       # asked again, nothing hashed since
                    assert d == hashlib.sha256(seen).digest()
                    got.append(d)
                assert len(set(got)) == n


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
