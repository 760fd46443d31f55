"""The TLS crypto table: cipher-suite rows built from a backend's methods (NetX's NX_SECURE_TLS_CRYPTO)."""
# Rows are described once in SUITE_SPECS by the *names* of the backend methods they use,
# so one description serves every backend; define_suite() adds rows (ECDHE-ECDSA, RSA,
# SHA-1 CBC, ...) later without touching this file's code. Certificate and public-key
# code is not imported here: a row's public_auth is whatever its definer passes.
from nxsecure.const import (
    NX_SUCCESS, NX_PTR_ERROR,
    TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256,
)
from nxsecure.crypto import (TLS_KX_PSK, TLS_KX_RSA, TLS_KX_ECDHE, TLS_KX_ECDHE_PSK, TLS_AUTH_RSA,
                             TLS_AUTH_ECDSA)

# suite id -> (public_cipher, public_auth, session cipher, MAC or None, fixed_iv bytes,
#              session key bytes, PRF). Method entries are backend attribute names or
#              method objects. fixed_iv: the implicit AEAD salt (RFC 5288 3, RFC 6655 3);
#              0 for TLS 1.2 CBC, whose IV is explicit per record (RFC 5246 6.2.3.2).
SUITE_SPECS = {
    TLS_PSK_WITH_AES_128_CCM_8: (TLS_KX_PSK, None, "aes_128_ccm_8", None, 4, 16, "prf_sha256"),
    TLS_PSK_WITH_AES_128_CCM: (TLS_KX_PSK, None, "aes_128_ccm", None, 4, 16, "prf_sha256"),
    TLS_PSK_WITH_AES_128_GCM_SHA256: (TLS_KX_PSK, None, "aes_128_gcm", None, 4, 16, "prf_sha256"),
    TLS_PSK_WITH_AES_128_CBC_SHA256: (TLS_KX_PSK, None, "aes_128_cbc", "hmac_sha256", 0, 16,
                                      "prf_sha256"),
    # Certificate suites (RFC 7251, RFC 5289, RFC 5246 A.5) and ECDHE_PSK (RFC 5489).
    0xC0AE: (TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_128_ccm_8", None, 4, 16, "prf_sha256"),
    0xC0AC: (TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_128_ccm", None, 4, 16, "prf_sha256"),
    0xC02B: (TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_128_gcm", None, 4, 16, "prf_sha256"),
    0xC023: (TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_128_cbc", "hmac_sha256", 0, 16, "prf_sha256"),
    0xC02F: (TLS_KX_ECDHE, TLS_AUTH_RSA, "aes_128_gcm", None, 4, 16, "prf_sha256"),
    0xC027: (TLS_KX_ECDHE, TLS_AUTH_RSA, "aes_128_cbc", "hmac_sha256", 0, 16, "prf_sha256"),
    0x002F: (TLS_KX_RSA, TLS_AUTH_RSA, "aes_128_cbc", "hmac_sha1", 0, 16, "prf_sha256"),
    0x003C: (TLS_KX_RSA, TLS_AUTH_RSA, "aes_128_cbc", "hmac_sha256", 0, 16, "prf_sha256"),
    0xC037: (TLS_KX_ECDHE_PSK, None, "aes_128_cbc", "hmac_sha256", 0, 16, "prf_sha256"),
}

# Every suite nxsecure implements, in the default server preference: forward-secret
# certificate suites first (CoAP's TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 leading), then
# static RSA, then the PSK suites. Credentials decide what is usable: a PSK-only
# session never negotiates a certificate suite and never loads the public-key code.
ALL_SUITES = (0xC0AE, 0xC0AC, 0xC02B, 0xC023, 0xC02F, 0xC027, 0x003C, 0x002F, 0xC037,
              TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM,
              TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256)

# Default preference: the smallest records first (CCM_8's 8-byte tag, RFC 6655 4).
DEFAULT_SUITES = (
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
)


def define_suite(suite_id, public_cipher, public_auth, cipher, mac, fixed_iv_size, key_size,
                 prf="prf_sha256"):
    """Describe a suite so make_tls_crypto can build its row."""
    SUITE_SPECS[suite_id] = (public_cipher, public_auth, cipher, mac, fixed_iv_size, key_size,
                             prf)


class NX_SECURE_TLS_CIPHERSUITE_INFO:
    """One cipher suite: NetX's fields plus the sizes the record layer uses
    (aead, tag_size, record_iv_size, mac_key_size, key_block_size, metadata_size)."""

    def __init__(self, suite, public_cipher, public_auth, session_cipher, iv_size, key_size,
                 hash_method, prf):
        self.nx_secure_tls_ciphersuite = suite
        self.nx_secure_tls_public_cipher = public_cipher
        self.nx_secure_tls_public_auth = public_auth
        self.nx_secure_tls_session_cipher = session_cipher
        self.nx_secure_tls_iv_size = iv_size
        self.nx_secure_tls_session_key_size = key_size
        self.nx_secure_tls_hash = hash_method
        self.nx_secure_tls_hash_size = (hash_method.nx_crypto_ICV_size_in_bits >> 3
                                        if hash_method is not None else 0)
        self.nx_secure_tls_prf = prf
        icv = session_cipher.nx_crypto_ICV_size_in_bits >> 3
        self.aead = icv > 0
        self.tag_size = icv
        # Explicit nonce on the wire: 8 bytes for AEAD (RFC 5288 3, RFC 6655 3), one
        # block for CBC (RFC 5246 6.2.3.2).
        self.record_iv_size = 8 if icv else session_cipher.nx_crypto_block_size_in_bytes
        # RFC 5246 6.3: mac_key_length = hash length; key block = client/server MAC keys,
        # client/server write keys, client/server fixed IVs.
        self.mac_key_size = self.nx_secure_tls_hash_size
        self.key_block_size = 2 * (self.mac_key_size + key_size + iv_size)
        md = session_cipher.nx_crypto_metadata_area_size
        if hash_method is not None:
            md += hash_method.nx_crypto_metadata_area_size
        # One session: a read and a write context of each method, plus the key block.
        self.metadata_size = 2 * md + self.key_block_size

    def __repr__(self):
        return "<suite 0x%04X %s>" % (self.nx_secure_tls_ciphersuite,
                                      self.nx_secure_tls_session_cipher.name)


class NX_SECURE_TLS_CRYPTO:
    """A crypto table: the suite rows in preference order plus the handshake methods
    (transcript hash, PRF, HMAC). sha256() -> hashlib-style object;
    prf(secret, label, seed, n) -> bytes; hmac_sha256(key, *parts) -> bytes."""

    def __init__(self, ciphersuites, sha256_method, prf_sha256_method, hmac_sha256_method,
                 sha1_method=None, name=""):
        self.name = name
        self.nx_secure_tls_ciphersuite_lookup_table = tuple(ciphersuites)
        self.nx_secure_tls_ciphersuite_lookup_table_size = len(
            self.nx_secure_tls_ciphersuite_lookup_table)
        self.nx_secure_tls_handshake_hash_sha256_method = sha256_method
        self.nx_secure_tls_handshake_hash_sha1_method = sha1_method
        self.nx_secure_tls_prf_sha256_method = prf_sha256_method
        self.nx_secure_tls_hmac_sha256_method = hmac_sha256_method
        self.sha256 = sha256_method.new
        # the port's access to a hash object's state, where it has one (dtls.Transcript)
        self.sha256_view = getattr(sha256_method, "state_view", None)
        self.prf = prf_sha256_method.prf
        # (key(secret), mac(k, data)) for a key used again and again (cookie.py), or None
        self.hmac_keyed = getattr(hmac_sha256_method, "keyed", None)
        one_shot = getattr(hmac_sha256_method, "hmac", None)
        if one_shot is not None:        # no context, no metadata: the method's own form
            self.hmac_sha256 = one_shot

    def hmac_sha256(self, key, *parts):
        """HMAC-SHA256(key, parts[0] || ...) as bytes (handshake use: allocates)."""
        return self.nx_secure_tls_hmac_sha256_method.init(key).digest(*parts)

    def find(self, suite_id):
        """The row for suite_id, or None when this table does not offer it."""
        for row in self.nx_secure_tls_ciphersuite_lookup_table:
            if row.nx_secure_tls_ciphersuite == suite_id:
                return row
        return None

    def __repr__(self):
        return "<NX_SECURE_TLS_CRYPTO %s %d suites>" % (
            self.name, self.nx_secure_tls_ciphersuite_lookup_table_size)


def _method(backend, m):
    """A spec entry: None, a backend attribute name (object or dict), or a method."""
    if m is None or not isinstance(m, str):
        return m
    if isinstance(backend, dict):
        return backend.get(m)
    return getattr(backend, m, None)


def make_tls_crypto(backend, suites=None, strict=True):
    """A crypto table over `backend` (a CryptoBackend or a dict of the same names).
    suites: suite ids in preference order; the default is DEFAULT_SUITES minus those the
    backend cannot do. An explicitly listed suite that cannot be built is a ValueError,
    unless strict is False (then it is left out)."""
    explicit = suites is not None and strict
    if suites is None:
        suites = DEFAULT_SUITES
    rows = []
    for sid in suites:
        spec = SUITE_SPECS.get(sid)
        if spec is None:
            raise ValueError("no description for suite 0x%04X" % sid)
        kx, auth, c, m, iv, ks, p = spec
        cipher = _method(backend, c)
        mac = _method(backend, m)
        prf = _method(backend, p)
        if cipher is None or prf is None or (m is not None and mac is None):
            if explicit:
                raise ValueError("backend lacks a method of suite 0x%04X" % sid)
            continue
        load = getattr(cipher, "load", None)
        if load is not None:
            load()              # the mode's code in now, not at a first handshake
        rows.append(NX_SECURE_TLS_CIPHERSUITE_INFO(sid, kx, auth, cipher, iv, ks, mac, prf))
    return NX_SECURE_TLS_CRYPTO(rows, _method(backend, "sha256"), _method(backend, "prf_sha256"),
                                _method(backend, "hmac_sha256"), _method(backend, "sha1"),
                                _method(backend, "name") or "")


def nx_secure_tls_metadata_size_calculate(crypto_table):
    """(status, bytes of crypto metadata one session needs): the largest row's two
    directions' cipher and MAC contexts plus its key block. NX_PTR_ERROR for None."""
    if crypto_table is None or not isinstance(crypto_table, NX_SECURE_TLS_CRYPTO):
        return NX_PTR_ERROR, 0
    size = 0
    for row in crypto_table.nx_secure_tls_ciphersuite_lookup_table:
        if row.metadata_size > size:
            size = row.metadata_size
    return NX_SUCCESS, size


def __getattr__(name):
    # NetX's default tables (nx_crypto_tls_ciphers, nx_crypto_tls_ciphers_psk): built on
    # first use (crypto/defaults.py), so that an application that makes its own table (a
    # board's, with the one suite it speaks) never builds them, nor loads the algorithms
    # they name
    from nxsecure.crypto.defaults import table
    return table(name)
