"""CPython crypto backend over pyca `cryptography` (AEAD, CBC) and the stdlib hmac/hashlib."""
# Same method objects and context contracts as the portable backend (docs/DESIGN.md);
# state lives in Python objects, so every method's metadata area size is 0. AEAD objects
# are built once per context; results are copied back into the caller's buffer in place
# (pyca's in-place decryption is not defined, so nothing here relies on aliasing).
import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from nxsecure.crypto import (
    AEAD_NONCE_BITS, CryptoBackend, NX_CRYPTO_METHOD, hash_method, prf_method,
    NX_CRYPTO_ENCRYPTION_AES_CBC, NX_CRYPTO_ENCRYPTION_AES_CCM_8,
    NX_CRYPTO_ENCRYPTION_AES_CCM_16, NX_CRYPTO_ENCRYPTION_AES_GCM_16,
    NX_CRYPTO_AUTHENTICATION_HMAC_SHA1_160, NX_CRYPTO_AUTHENTICATION_HMAC_SHA2_256,
    NX_CRYPTO_HASH_SHA1, NX_CRYPTO_HASH_SHA256, NX_CRYPTO_PRF_HMAC_SHA2_256,
)


class _Aead:
    """seal/open over an AESCCM or AESGCM object."""

    def __init__(self, aead, tag_len):
        self._aead = aead
        self._encrypt = aead.encrypt          # bound once: one lookup less per record
        self._decrypt = aead.decrypt
        self.tag_size = tag_len

    def seal(self, nonce, aad, buf, off, n):
        mv = memoryview(buf)
        mv[off:off + n + self.tag_size] = self._encrypt(nonce, mv[off:off + n], aad)

    def open(self, nonce, aad, buf, off, n):
        t = self.tag_size
        if n < t:
            return False
        mv = memoryview(buf)
        try:
            pt = self._decrypt(nonce, mv[off:off + n], aad)
        except InvalidTag:
            return False
        mv[off:off + n - t] = pt
        return True


class _Cbc:
    """CBC with a fresh IV per call (TLS 1.2 explicit IVs, RFC 5246 6.2.3.2)."""

    def __init__(self, key):
        self._alg = algorithms.AES(bytes(key))

    def _run(self, ctx, buf, off, n):
        if n & 15:
            raise ValueError("CBC length must be a multiple of 16")
        mv = memoryview(buf)
        mv[off:off + n] = ctx.update(mv[off:off + n])

    def encrypt(self, iv, buf, off, n):
        self._run(Cipher(self._alg, modes.CBC(bytes(iv))).encryptor(), buf, off, n)

    def decrypt(self, iv, buf, off, n):
        self._run(Cipher(self._alg, modes.CBC(bytes(iv))).decryptor(), buf, off, n)


_IPAD = bytes(k ^ 0x36 for k in range(256))
_OPAD = bytes(k ^ 0x5C for k in range(256))


class _Hmac:
    """HMAC (RFC 2104) with the keyed inner and outer hash states computed once and
    copy()'d per MAC (CPython's hashlib can copy; MicroPython's cannot)."""

    def __init__(self, key, digestmod):
        key = bytes(key)
        block = digestmod().block_size
        if len(key) > block:
            key = digestmod(key).digest()
        key = key + bytes(block - len(key))
        self._i = digestmod(key.translate(_IPAD))     # translate: the XOR in C
        self._o = digestmod(key.translate(_OPAD))
        self.digest_size = self._i.digest_size

    def mac(self, head, buf, off, n, out, out_off):
        h = self._i.copy()
        if head:
            h.update(head)
        if n:
            h.update(memoryview(buf)[off:off + n])
        o = self._o.copy()
        o.update(h.digest())
        memoryview(out)[out_off:out_off + self.digest_size] = o.digest()

    def digest(self, *parts):
        h = self._i.copy()
        for p in parts:
            h.update(p)
        o = self._o.copy()
        o.update(h.digest())
        return o.digest()


def prf_sha256(secret, label, seed, n):
    """TLS 1.2 PRF, P_SHA256(secret, label + seed)[:n] (RFC 5246 5)."""
    m = _Hmac(secret, hashlib.sha256)
    ls = bytes(label) + bytes(seed)
    out = bytearray()
    a = ls
    while len(out) < n:
        a = m.digest(a)
        out += m.digest(a, ls)
    return bytes(out[:n])


def _aead_method(name, algorithm, key_bits, tag_len, make):
    def init(key, md):
        return _Aead(make(bytes(key)), tag_len)
    return NX_CRYPTO_METHOD(name, algorithm, key_bits, AEAD_NONCE_BITS, tag_len * 8, 16, 0, init)


def _cbc_method(key_bits):
    return NX_CRYPTO_METHOD("AES-%d-CBC" % key_bits, NX_CRYPTO_ENCRYPTION_AES_CBC, key_bits,
                            128, 0, 16, 0, lambda key, md: _Cbc(key))


def _hmac_method(name, algorithm, digestmod, bits):
    return NX_CRYPTO_METHOD(name, algorithm, bits, 0, bits, 64, 0,
                            lambda key, md: _Hmac(key, digestmod), False)


def pyca_backend():
    """The CPython backend (a CryptoBackend) over pyca `cryptography`."""
    b = CryptoBackend("pyca")
    for kb in (128, 256):
        setattr(b, "aes_%d_ccm_8" % kb, _aead_method(
            "AES-%d-CCM-8" % kb, NX_CRYPTO_ENCRYPTION_AES_CCM_8, kb, 8,
            lambda k: AESCCM(k, tag_length=8)))
        setattr(b, "aes_%d_ccm" % kb, _aead_method(
            "AES-%d-CCM" % kb, NX_CRYPTO_ENCRYPTION_AES_CCM_16, kb, 16,
            lambda k: AESCCM(k, tag_length=16)))
        setattr(b, "aes_%d_gcm" % kb, _aead_method(
            "AES-%d-GCM" % kb, NX_CRYPTO_ENCRYPTION_AES_GCM_16, kb, 16, AESGCM))
        setattr(b, "aes_%d_cbc" % kb, _cbc_method(kb))
    b.sha256 = hash_method("SHA-256", NX_CRYPTO_HASH_SHA256, hashlib.sha256, 256, 64)
    b.sha1 = hash_method("SHA-1", NX_CRYPTO_HASH_SHA1, hashlib.sha1, 160, 64)
    b.hmac_sha256 = _hmac_method("HMAC-SHA256", NX_CRYPTO_AUTHENTICATION_HMAC_SHA2_256,
                                 hashlib.sha256, 256)
    b.hmac_sha1 = _hmac_method("HMAC-SHA1", NX_CRYPTO_AUTHENTICATION_HMAC_SHA1_160,
                               hashlib.sha1, 160)
    b.prf_sha256 = prf_method("TLS1.2-PRF-SHA256", NX_CRYPTO_PRF_HMAC_SHA2_256, prf_sha256)
    return b
