"""Key exchange and handshake signatures for the certificate suites: ECDHE, RSA, ECDHE_PSK (RFC 8422, RFC 5246 7.4.7, RFC 5489).
Imported only when such a suite is negotiated, so a PSK-only application never loads
it or the public-key code behind it."""
import hashlib

from nxsecure import port
from .handshake import u16_list_has
from .const import (
    NxError, NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE,
    AD_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER, AD_DECRYPT_ERROR, AD_INTERNAL_ERROR,
)

GROUP_SECP256R1 = 23
GROUP_SECP384R1 = 24
GROUP_X25519 = 29
# Groups we offer and accept for ECDHE, in preference order (RFC 8422 5.1.1).
GROUPS = (GROUP_SECP256R1, GROUP_X25519)

# SignatureScheme values (RFC 5246 7.4.1.4.1 hash||signature, RFC 8446 4.2.3 for PSS).
ECDSA_SHA256 = 0x0403
ECDSA_SHA384 = 0x0503
RSA_PKCS1_SHA256 = 0x0401
RSA_PKCS1_SHA384 = 0x0501
RSA_PSS_RSAE_SHA256 = 0x0804
RSA_PSS_RSAE_SHA384 = 0x0805
# What we accept from a peer (signature_algorithms we send), strongest hash last.
VERIFY_ALGS = (ECDSA_SHA256, RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256, ECDSA_SHA384,
               RSA_PSS_RSAE_SHA384, RSA_PKCS1_SHA384)
# What we sign handshake data with, per key type, in preference order.
_SIGN_EC = (ECDSA_SHA256, ECDSA_SHA384)
_SIGN_RSA = (RSA_PKCS1_SHA256, RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA384, RSA_PSS_RSAE_SHA384)

_backend = None


def backend():
    global _backend
    if _backend is None:
        _backend = port.pk_backend()
    return _backend


def rand(n):
    b = bytearray(n)
    port.random_into(b)
    return bytes(b)


def _hash_name(alg):
    h = alg >> 8
    if h == 8:                           # rsa_pss_rsae_*: the hash is in the low byte
        return {4: "sha256", 5: "sha384", 6: "sha512"}.get(alg & 0xFF)
    return {2: "sha1", 4: "sha256", 5: "sha384", 6: "sha512"}.get(h)


def digest(hash_name, data):
    h = getattr(hashlib, hash_name, None)
    if h is None:
        raise NxError(NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE, AD_INTERNAL_ERROR)
    return h(data).digest()


def is_ec(key):
    return hasattr(key, "curve")


def choose_sign_alg(key, peer_algs):
    """The scheme we sign with: ours in preference order, among the peer's list
    (RFC 5246 7.4.1.4.1: absent means SHA-1, which we do not sign with; a peer that
    sends no list gets SHA-256)."""
    mine = _SIGN_EC if is_ec(key) else _SIGN_RSA
    if is_ec(key) and key.curve == GROUP_SECP384R1:
        mine = (ECDSA_SHA384, ECDSA_SHA256)
    if peer_algs is None:
        return mine[0]
    for a in mine:
        if u16_list_has(peer_algs, a):
            return a
    return None


def sha256_scheme(alg):
    return _hash_name(alg) == "sha256"


def sign(alg, key, data, d=None):
    """Sign data (or its digest d, already hashed with the scheme's hash)."""
    name = _hash_name(alg)
    if d is None:
        d = digest(name, data)
    b = backend()
    if alg & 0xFF == 3:
        sig = b.ecdsa_sign(key.curve, key, name, d)
    elif alg >> 8 == 8:
        sig = b.rsa_sign_pss(key, name, d, rand)
    else:
        sig = b.rsa_sign_pkcs1(key, name, d)
    if sig is None:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_INTERNAL_ERROR)
    return sig


def verify(alg, key, data, sig, code=NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, d=None):
    """Check a digitally-signed element (RFC 5246 4.7) made with the peer's
    certificate key (over data, or its digest d); a failure is decrypt_error
    (RFC 5246 7.2.2)."""
    name = _hash_name(alg)
    if name is None or alg not in VERIFY_ALGS:
        raise NxError(code, AD_ILLEGAL_PARAMETER)
    b = backend()
    if d is None:
        d = digest(name, data)
    if alg & 0xFF == 3:
        ok = is_ec(key) and b.ecdsa_verify(key.curve, key, name, d, bytes(sig))
    elif alg >> 8 == 8:
        ok = not is_ec(key) and b.rsa_verify_pss(key, name, d, bytes(sig))
    elif alg & 0xFF == 1:
        ok = not is_ec(key) and b.rsa_verify_pkcs1(key, name, d, bytes(sig))
    else:
        ok = False
    if not ok:
        raise NxError(code, AD_DECRYPT_ERROR)


def choose_group(peer_groups):
    """Server: the first of our groups the client lists; RFC 8422 4: no list means
    the client supports secp256r1."""
    if peer_groups is None:
        return GROUP_SECP256R1
    for g in GROUPS:
        if u16_list_has(peer_groups, g):
            return g
    return 0


def group_listed(peer_groups, group):
    """Does the client allow group? RFC 8422 4: a client that sends no
    supported_groups list leaves the server free to use any curve."""
    return peer_groups is None or u16_list_has(peer_groups, group)


def ecdh_keypair(group):
    kp = backend().ecdh_keypair(group, rand)
    if kp is None:
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)
    return kp


def ecdh_shared(group, priv, peer_point):
    """RFC 8422 5.10: the shared secret; an invalid peer point is illegal_parameter."""
    if group not in GROUPS:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER)
    z = backend().ecdh(group, priv, bytes(peer_point))
    if z is None:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER)
    return z


def rsa_encrypt_premaster(key, premaster):
    ct = backend().rsa_encrypt_pkcs1(key, premaster, rand)
    if ct is None:
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)
    return ct


def rsa_decrypt_premaster(key, ciphertext, client_version):
    """RFC 5246 7.4.7.1: always 48 bytes; a decoding failure yields a random premaster
    and no distinguishable alert (the Finished check fails later, as for a wrong key)."""
    return backend().rsa_decrypt_premaster(key, bytes(ciphertext), client_version, rand)


def peer_key(cert):
    """The public key of a verified peer certificate."""
    from nxsecure import pk
    status, key = pk.parse_spki(cert.spki_view())
    if status:
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)
    return key


def local_key(cert):
    """The private key given with a local certificate (nx_secure_x509_certificate_initialize),
    parsed once and kept on the certificate."""
    key = getattr(cert, "_pk_key", None)
    if key is not None:
        return key
    from nxsecure import pk
    der = cert._private_key
    if der is None:
        return None
    if is_ec_cert(cert):
        status, key = pk.parse_ec_private_key(der, cert_curve(cert))
        if status == 0 and key is not None and key.pub is None:
            key.pub = bytes(peer_key(cert).pub)
    else:
        status, key = pk.parse_rsa_private_key(der)
    if status:
        return None
    cert._pk_key = key
    return key


def is_ec_cert(cert):
    return peer_key_type(cert) == "ec"


def peer_key_type(cert):
    k = getattr(cert, "_pub_key", None)
    if k is None:
        k = peer_key(cert)
        cert._pub_key = k
    return "ec" if is_ec(k) else "rsa"


def cert_curve(cert):
    k = getattr(cert, "_pub_key", None) or peer_key(cert)
    return k.curve if is_ec(k) else 0
