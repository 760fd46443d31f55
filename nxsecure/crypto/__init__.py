"""Crypto method objects (NetX's NX_CRYPTO_METHOD), algorithm ids and the portable backend."""
# A method describes one algorithm (sizes, metadata bytes one context needs) and makes a
# context with init(key, metadata_mv). Context contracts (docs/DESIGN.md):
#   AEAD  ctx.seal(nonce, aad, buf, off, n) / ctx.open(nonce, aad, buf, off, n) -> bool
#   CBC   ctx.encrypt(iv, buf, off, n) / ctx.decrypt(iv, buf, off, n)
#   HMAC  ctx.mac(head, buf, off, n, out, out_off)
# Hash methods carry `new` (a hashlib-style constructor), PRF methods carry
# `prf(secret, label, seed, n) -> bytes`; an HMAC method may carry `hmac(key, *parts) ->
# bytes`, a one-shot form that needs no context.
# A backend (CryptoBackend) is the set of methods one platform provides; the crypto table
# (nxsecure/crypto/table.py) builds cipher-suite rows from it. This module imports no
# algorithm code until portable_backend() is called.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# nx_crypto_algorithm values (NetX nx_crypto_const.h; low 16 bits from RFC 5996 3.3.2).
NX_CRYPTO_NONE = const(0x00000000)
NX_CRYPTO_ENCRYPTION_AES_CBC = const(0x0000000C)
NX_CRYPTO_ENCRYPTION_AES_CCM_8 = const(0x0000000E)
NX_CRYPTO_ENCRYPTION_AES_CCM_12 = const(0x0000000F)
NX_CRYPTO_ENCRYPTION_AES_CCM_16 = const(0x00000010)
NX_CRYPTO_ENCRYPTION_AES_GCM_16 = const(0x00000014)
NX_CRYPTO_AUTHENTICATION_HMAC_SHA1_160 = const(0x00010007)
NX_CRYPTO_AUTHENTICATION_HMAC_SHA2_256 = const(0x0001000C)
NX_CRYPTO_PRF_HMAC_SHA2_256 = const(0x00020005)
NX_CRYPTO_HASH_SHA1 = const(0x00030003)
NX_CRYPTO_HASH_SHA256 = const(0x00030005)

# nx_secure_tls_public_cipher: the key exchange of a suite.
TLS_KX_PSK = const(1)         # RFC 4279 2
TLS_KX_RSA = const(2)         # RFC 5246 7.4.7.1
TLS_KX_ECDHE = const(3)       # RFC 4492 2.4 / RFC 8422
TLS_KX_ECDHE_PSK = const(4)   # RFC 5489
# nx_secure_tls_public_auth: the server authentication (None for PSK).
TLS_AUTH_RSA = const(1)
TLS_AUTH_ECDSA = const(2)

# TLS AEAD nonce: 4-byte implicit salt from the key block + 8-byte explicit part
# (RFC 5288 3, RFC 6655 3).
AEAD_NONCE_BITS = const(96)


class NX_CRYPTO_METHOD:
    """One algorithm: sizes, the metadata bytes one context needs, and init()."""

    def __init__(self, name, algorithm, key_bits, iv_bits, icv_bits, block_bytes,
                 metadata_size, init_fn, key_fixed=True, load=None):
        self.name = name
        # load(): bring in what init() needs (a mode's module, the kernels compiled);
        # make_tls_crypto calls it, so that start-up pays for that, not a first handshake
        self.load = load
        self.nx_crypto_algorithm = algorithm
        self.nx_crypto_key_size_in_bits = key_bits
        self.nx_crypto_IV_size_in_bits = iv_bits
        self.nx_crypto_ICV_size_in_bits = icv_bits
        self.nx_crypto_block_size_in_bytes = block_bytes
        self.nx_crypto_metadata_area_size = metadata_size
        self._init = init_fn
        self._key_len = key_bits >> 3 if key_fixed else 0

    def init(self, key, metadata_mv=None):
        """A context for `key` whose state lives in metadata_mv (a writable memoryview of
        at least nx_crypto_metadata_area_size bytes; a private bytearray when None)."""
        if self._init is None:
            raise ValueError("method has no context")
        if self._key_len and len(key) != self._key_len:
            raise ValueError("wrong key size for " + self.name)
        size = self.nx_crypto_metadata_area_size
        if metadata_mv is None:
            metadata_mv = memoryview(bytearray(size)) if size else None
        elif len(metadata_mv) < size:
            raise ValueError("metadata area too small for " + self.name)
        return self._init(key, metadata_mv)

    nx_crypto_init = init

    def __repr__(self):
        return "<NX_CRYPTO_METHOD " + self.name + ">"


def hash_method(name, algorithm, new, digest_bits, block_bytes):
    """A hash method: `.new()` returns a hashlib-style object."""
    m = NX_CRYPTO_METHOD(name, algorithm, 0, 0, digest_bits, block_bytes, 0, None)
    m.new = new
    return m


def prf_method(name, algorithm, prf_fn):
    """A PRF method: `.prf(secret, label, seed, n) -> bytes`. It may also carry
    `.key(secret) -> k`, a form of the secret that .prf takes in its place, for a
    secret used again (dtls.py: the master secret); likewise an HMAC method may carry
    `.keyed = (key, mac)`, mac(key(secret), data) -> HMAC bytes (cookie.py)."""
    m = NX_CRYPTO_METHOD(name, algorithm, 0, 0, 0, 0, 0, None)
    m.prf = prf_fn
    return m


class CryptoBackend:
    """The methods one platform provides. Attributes (None when unavailable):
    aes_128_ccm_8, aes_128_ccm, aes_128_gcm, aes_128_cbc, the aes_256_* equivalents,
    hmac_sha256, hmac_sha1, sha256, sha1 (hash methods), prf_sha256 (PRF method)."""

    def __init__(self, name):
        self.name = name
        self.aes_128_ccm_8 = self.aes_128_ccm = self.aes_128_gcm = self.aes_128_cbc = None
        self.aes_256_ccm_8 = self.aes_256_ccm = self.aes_256_gcm = self.aes_256_cbc = None
        self.hmac_sha256 = self.hmac_sha1 = None
        self.sha256 = self.sha1 = None
        self.prf_sha256 = None

    def __repr__(self):
        return "<CryptoBackend " + self.name + ">"


# Metadata bytes one context of each mode needs (the modes' SCRATCH_SIZE; a test checks
# they agree): here so that a backend can be described without importing the modes,
# which are loaded when a context of theirs is first made.
_CCM_SCRATCH = const(336)
_GCM_SCRATCH = const(692)
_CBC_SCRATCH = const(176)


def portable_backend(aes_new=None, state_view=None):
    """The modes of this package (they run on MicroPython) over an AES engine: aes_new is
    MicroPython's cryptolib.aes, or anything with its interface (aes_new(key, 1) ECB,
    aes_new(key, 2, iv) CBC, encrypt/decrypt(in_buf, out_buf) over whole blocks); None
    means the pure-Python AES (nxsecure.crypto.aes.new). The modes' byte work runs in
    the kernels of kernel.py (native code where the firmware compiles it). state_view:
    the port's access to a SHA-256 object's state (nxsecure/port/hash_state.py), with
    which the PRF hashes HMAC's keyed pads once per key and the transcript each message
    once (dtls.Transcript); None: hashlib alone."""
    import hashlib
    from . import mac, prf

    if aes_new is None:
        def aes_new(key, mode, iv=None):
            from .aes import new
            return new(key, mode, iv)
        tag = "portable"
    else:
        tag = "portable+platform-aes"

    # The modes are imported, and the kernels compiled, when a table with a suite of
    # theirs is made (load) or, failing that, at the first context (init).
    # (load_ccm keeps what it loaded: an import statement for a module already loaded
    # still looks its dotted name up among every interned string, about 1 ms on an
    # RP2040 with the stack loaded, and a handshake makes four contexts)
    def load_ccm(got=[]):
        if not got:
            from .ccm import CCM
            got.append(CCM.load())          # the kernels compiled, the class's default
        return got[0]

    def load_gcm():
        from .gcm import GCM
        from . import kernel
        kernel.best().gcm()
        return GCM

    def load_cbc():
        from .cbc import CBC
        from . import kernel
        kernel.best()
        return CBC

    def ccm_method(key_bits, tag_len, algorithm):
        def init(key, md):
            return load_ccm()(aes_new, key, tag_len, 3, md)
        return NX_CRYPTO_METHOD("AES-%d-CCM%s" % (key_bits, "-8" if tag_len == 8 else ""),
                                algorithm, key_bits, AEAD_NONCE_BITS, tag_len * 8, 16,
                                _CCM_SCRATCH, init, load=load_ccm)

    def gcm_method(key_bits):
        def init(key, md):
            return load_gcm()(aes_new, key, 16, md)
        return NX_CRYPTO_METHOD("AES-%d-GCM" % key_bits, NX_CRYPTO_ENCRYPTION_AES_GCM_16,
                                key_bits, AEAD_NONCE_BITS, 128, 16, _GCM_SCRATCH, init,
                                load=load_gcm)

    def cbc_method(key_bits):
        def init(key, md):
            return load_cbc()(aes_new, key, md)
        return NX_CRYPTO_METHOD("AES-%d-CBC" % key_bits, NX_CRYPTO_ENCRYPTION_AES_CBC,
                                key_bits, 128, 0, 16, _CBC_SCRATCH, init, load=load_cbc)

    def hmac_method(name, algorithm, new, digest_bits):
        def init(key, md):
            return mac.HMAC(key, new, 64, md, digest_bits >> 3)
        return NX_CRYPTO_METHOD(name, algorithm, digest_bits, 0, digest_bits, 64,
                                mac.pads_size(64), init, False)

    b = CryptoBackend(tag)
    for kb in (128, 256):
        setattr(b, "aes_%d_ccm_8" % kb, ccm_method(kb, 8, NX_CRYPTO_ENCRYPTION_AES_CCM_8))
        setattr(b, "aes_%d_ccm" % kb, ccm_method(kb, 16, NX_CRYPTO_ENCRYPTION_AES_CCM_16))
        setattr(b, "aes_%d_gcm" % kb, gcm_method(kb))
        setattr(b, "aes_%d_cbc" % kb, cbc_method(kb))
    b.sha256 = hash_method("SHA-256", NX_CRYPTO_HASH_SHA256, hashlib.sha256, 256, 64)
    b.sha256.state_view = state_view
    b.hmac_sha256 = hmac_method("HMAC-SHA256", NX_CRYPTO_AUTHENTICATION_HMAC_SHA2_256,
                                hashlib.sha256, 256)
    b.hmac_sha256.hmac = mac.hmac_sha256        # one-shot form for the handshake
    sha1 = getattr(hashlib, "sha1", None)       # absent on some MicroPython builds
    if sha1 is not None:
        b.sha1 = hash_method("SHA-1", NX_CRYPTO_HASH_SHA1, sha1, 160, 64)
        b.hmac_sha1 = hmac_method("HMAC-SHA1", NX_CRYPTO_AUTHENTICATION_HMAC_SHA1_160,
                                  sha1, 160)
    if state_view is None:
        b.prf_sha256 = prf_method("TLS1.2-PRF-SHA256", NX_CRYPTO_PRF_HMAC_SHA2_256, prf.prf)
    else:
        from .prf_saved import prf_saved
        p, key, keyed_mac = prf_saved(state_view)
        b.prf_sha256 = prf_method("TLS1.2-PRF-SHA256", NX_CRYPTO_PRF_HMAC_SHA2_256, p)
        b.prf_sha256.key = key          # the master secret's keyed states, made once
        b.hmac_sha256.keyed = (key, keyed_mac)      # a long-lived key's (cookie.py)
    return b
