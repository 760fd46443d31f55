"""The AES-256 suites: AES-256-GCM with SHA-384 (RFC 5289, RFC 5487), AES-256-CCM and CCM_8 (RFC 7251, RFC 6655), with the SHA-384 PRF and handshake transcript they need."""
# Importing this module describes the suites to the crypto table (define_suite) and adds
# the certificate ones to the default table nx_crypto_tls_ciphers; nothing else in the stack imports it
# but the certificate services (nxsecure/certs.py), so a PSK-only board that wants
# TLS_PSK_WITH_AES_256_GCM_SHA384 (or the AES-256 CCM ones) imports it before making its
# table (tools/profiles.py FEATURES "aes-256"):
#     import nxsecure.crypto.suites384
#     table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_256_GCM_SHA384])
# A SHA-384 suite's row carries the SHA-384 PRF method (RFC 5246 5: P_SHA384, the PRF
# "specified by the cipher suite"); once the engine negotiates one, it takes the suite's
# PRF for the master secret, key block and Finished and hashes the handshake with
# SHA-384 from the ClientHello on (RFC 5246 7.4.9; RFC 7627 4: the session hash too).
# SHA-384 comes from hashlib where it has it (CPython), else from crypto/sha512.py.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from nxsecure.crypto import (prf_method, TLS_KX_PSK, TLS_KX_ECDHE, TLS_AUTH_ECDSA,
                             TLS_AUTH_RSA)
from nxsecure.crypto import table as _table

TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = const(0xC02C)   # RFC 5289
TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = const(0xC030)     # RFC 5289
TLS_PSK_WITH_AES_256_GCM_SHA384 = const(0x00A9)           # RFC 5487
TLS_ECDHE_ECDSA_WITH_AES_256_CCM = const(0xC0AD)          # RFC 7251
TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = const(0xC0AF)        # RFC 7251
TLS_PSK_WITH_AES_256_CCM = const(0xC0A5)                  # RFC 6655
TLS_PSK_WITH_AES_256_CCM_8 = const(0xC0A9)                # RFC 6655
# nx_crypto_algorithm of the PRF (NetX nx_crypto_const.h)
NX_CRYPTO_PRF_HMAC_SHA2_384 = const(0x00020006)


def _prf(secret, label, seed, n):
    """P_SHA384 (RFC 5246 5): crypto/sha384_prf.py, loaded with the first SHA-384 suite."""
    from nxsecure.crypto import sha384_prf
    return sha384_prf.prf(secret, label, seed, n)


def _transcript(e, base):
    from nxsecure.crypto import sha384_prf
    return sha384_prf.Transcript384(e, base)


PRF_SHA384 = prf_method("TLS1.2-PRF-SHA384", NX_CRYPTO_PRF_HMAC_SHA2_384, _prf)
PRF_SHA384.transcript = _transcript

# AEAD suites only (no MAC method): the AES-256 methods every backend has, a 4-byte
# implicit salt (RFC 5288 3, RFC 6655 3), 32-byte keys.
_define = _table.define_suite
_define(TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_256_gcm",
        None, 4, 32, PRF_SHA384)
_define(TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_KX_ECDHE, TLS_AUTH_RSA, "aes_256_gcm", None,
        4, 32, PRF_SHA384)
_define(TLS_PSK_WITH_AES_256_GCM_SHA384, TLS_KX_PSK, None, "aes_256_gcm", None, 4, 32,
        PRF_SHA384)
_define(TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_256_ccm_8", None,
        4, 32)
_define(TLS_ECDHE_ECDSA_WITH_AES_256_CCM, TLS_KX_ECDHE, TLS_AUTH_ECDSA, "aes_256_ccm", None, 4,
        32)
_define(TLS_PSK_WITH_AES_256_CCM_8, TLS_KX_PSK, None, "aes_256_ccm_8", None, 4, 32)
_define(TLS_PSK_WITH_AES_256_CCM, TLS_KX_PSK, None, "aes_256_ccm", None, 4, 32)
SUITES = (TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
          TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
          TLS_PSK_WITH_AES_256_CCM_8, TLS_PSK_WITH_AES_256_CCM, TLS_PSK_WITH_AES_256_GCM_SHA384)
# The default table's order (table.ALL_SUITES): each certificate AES-256 suite after its
# AES-128 kin. The PSK ones only in tables that name them (make_tls_crypto), as 0xC037:
# a PSK session offers every PSK suite of its table, and three more would push its
# ClientHello's cipher suites out of the first fragment at a small MTU (the server
# checks the cookie against them there, RFC 6347 4.2.1) -- and a PSK board speaks the
# suite it names anyway.
if SUITES[0] not in _table.ALL_SUITES:
    _all = list(_table.ALL_SUITES)
    for _s, _kin in zip(SUITES[:4], (0xC0AE, 0xC0AC, 0xC02B, 0xC02F)):
        _all.insert(_all.index(_kin) + 1, _s)
    _table.ALL_SUITES = tuple(_all)
    del _all, _s, _kin
del _define
