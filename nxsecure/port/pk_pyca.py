# The nxsecure.pk backend interface on CPython's pyca `cryptography` (OpenSSL).
# Same methods, arguments and results as nxsecure.pk.PortablePkBackend (see the
# interface in nxsecure/pk/__init__.py); key objects are the portable
# RsaKey / EcKey from nxsecure.pk.keys, converted once and cached in key.cache.
#
# Differences worth knowing:
# - ECDH private keys returned by ecdh_keypair are pyca objects (opaque to the
#   caller, like every backend's); they are derived from the caller's rand, so both
#   backends turn the same random bytes into the same key pair.
# - rsa_encrypt_pkcs1 uses OpenSSL's own randomness for the padding string.
# - rsa_decrypt_pkcs1 runs the portable code (CPython's pow is C anyway): OpenSSL
#   >= 3.2 answers bad PKCS#1 v1.5 padding with a synthetic message (implicit
#   rejection), which would break the "message or None" contract.
# - rsa_decrypt_premaster uses OpenSSL's decryption and then the RFC 5246 7.4.7.1
#   selection; bad padding gives R or a synthetic value, 48 bytes either way.
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as _h
from cryptography.hazmat.primitives.asymmetric import ec as _ec
from cryptography.hazmat.primitives.asymmetric import padding as _pad
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
from cryptography.hazmat.primitives.asymmetric import x25519 as _x
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from nxsecure.pk import PortablePkBackend

_CURVES = {23: (_ec.SECP256R1, 32), 24: (_ec.SECP384R1, 48)}
_N = {23: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
      24: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973}
_HASHES = {'sha1': _h.SHA1, 'sha256': _h.SHA256, 'sha384': _h.SHA384, 'sha512': _h.SHA512}


def _hash(name, digest):
    h = _HASHES.get(name)
    if h is None or len(digest) != h.digest_size:
        return None
    return Prehashed(h())


def _rsa_public(key):
    if key.cache is None:
        pub = _rsa.RSAPublicNumbers(key.e, key.n)
        if key.private:
            key.cache = _rsa.RSAPrivateNumbers(
                key.p, key.q, key.d, key.dp, key.dq, key.qinv, pub).private_key(
                    unsafe_skip_rsa_key_validation=True)
        else:
            key.cache = pub.public_key()
    c = key.cache
    return c.public_key() if key.private else c


def _rsa_private(key):
    if not key.private:
        return None
    _rsa_public(key)
    return key.cache


def _ec_private(key):
    if key.cache is None:
        key.cache = _ec.derive_private_key(key.d, _CURVES[key.curve][0]())
    return key.cache


class PycaPkBackend(PortablePkBackend):
    """pyca where it does the work; what it does not override (the per-group
    shorthands, PKCS#1 decryption without the premaster countermeasure) is the
    portable backend's."""
    name = 'pyca'

    def ecdh_keypair(self, group, rand):
        if group == 29:
            k = bytes(rand(32))
            if len(k) != 32:
                return None
            priv = _x.X25519PrivateKey.from_private_bytes(k)
            return priv, priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        cv = _CURVES.get(group)
        if cv is None:
            return None
        for _ in range(64):           # FIPS 186-4 B.4.2, as the portable code
            d = int.from_bytes(bytes(rand(cv[1])), 'big')
            if 0 < d < _N[group]:
                priv = _ec.derive_private_key(d, cv[0]())
                return priv, priv.public_key().public_bytes(
                    Encoding.X962, PublicFormat.UncompressedPoint)
        return None

    def ecdh(self, group, priv, peer_pub):
        try:
            if group == 29:
                if len(peer_pub) != 32:
                    return None
                s = priv.exchange(_x.X25519PublicKey.from_public_bytes(bytes(peer_pub)))
                return None if s == bytes(32) else s
            cv = _CURVES.get(group)
            if cv is None or len(peer_pub) != 1 + 2 * cv[1] or peer_pub[0] != 4:
                return None
            peer = _ec.EllipticCurvePublicKey.from_encoded_point(cv[0](), bytes(peer_pub))
            return priv.exchange(_ec.ECDH(), peer)
        except (ValueError, TypeError):
            return None               # off-curve point, all-zero X25519 output

    def ec_public(self, key):
        if key.pub is None and key.private:
            key.pub = _ec_private(key).public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
        return key.pub

    def ecdsa_sign(self, curve, key, hash_name, digest):
        h = _hash(hash_name, digest)
        if h is None or curve not in _CURVES or key.curve != curve or not key.private:
            return None
        return _ec_private(key).sign(
            bytes(digest), _ec.ECDSA(h, deterministic_signing=True))

    def ecdsa_verify(self, curve, pub, hash_name, digest, der_sig):
        h = _hash(hash_name, digest)
        cv = _CURVES.get(curve)
        pub = getattr(pub, 'pub', pub)
        if h is None or cv is None or pub is None:
            return False
        if len(pub) != 1 + 2 * cv[1] or pub[0] != 4:
            return False              # uncompressed points only, as in TLS 1.2
        try:
            k = _ec.EllipticCurvePublicKey.from_encoded_point(cv[0](), bytes(pub))
            k.verify(bytes(der_sig), bytes(digest), _ec.ECDSA(h))
            return True
        except (InvalidSignature, ValueError, TypeError):
            return False

    def rsa_verify_pkcs1(self, key, hash_name, digest, sig):
        h = _hash(hash_name, digest)
        if h is None or len(sig) != key.size:
            return False
        try:
            _rsa_public(key).verify(bytes(sig), bytes(digest), _pad.PKCS1v15(), h)
            return True
        except (InvalidSignature, ValueError, TypeError):
            return False

    def rsa_verify_pss(self, key, hash_name, digest, sig, salt_len=-1):
        h = _hash(hash_name, digest)
        if h is None or len(sig) != key.size:
            return False
        hc = _HASHES[hash_name]
        try:
            _rsa_public(key).verify(bytes(sig), bytes(digest), _pad.PSS(
                mgf=_pad.MGF1(hc()),
                salt_length=hc.digest_size if salt_len < 0 else salt_len), h)
            return True
        except (InvalidSignature, ValueError, TypeError):
            return False

    def rsa_sign_pkcs1(self, key, hash_name, digest):
        h = _hash(hash_name, digest)
        k = _rsa_private(key)
        if h is None or k is None:
            return None
        try:
            return k.sign(bytes(digest), _pad.PKCS1v15(), h)
        except ValueError:            # key too small for this DigestInfo
            return None

    def rsa_sign_pss(self, key, hash_name, digest, rand):
        h = _hash(hash_name, digest)
        k = _rsa_private(key)
        if h is None or k is None:
            return None
        hc = _HASHES[hash_name]
        try:
            return k.sign(bytes(digest), _pad.PSS(
                mgf=_pad.MGF1(hc()), salt_length=hc.digest_size), h)
        except ValueError:
            return None

    def rsa_encrypt_pkcs1(self, key, msg, rand):
        if len(msg) > key.size - 11:
            return None
        return _rsa_public(key).encrypt(bytes(msg), _pad.PKCS1v15())

    def rsa_decrypt_premaster(self, key, ciphertext, client_version, rand):
        r = bytes(rand(48))
        ok = len(r) == 48
        if not ok:
            r = bytes(48)             # a broken source: never trust the message
        cv = bytes(client_version)
        k = _rsa_private(key)
        m = b''
        if k is not None and len(ciphertext) == key.size:
            try:
                m = k.decrypt(bytes(ciphertext), _pad.PKCS1v15())
            except ValueError:
                m = b''
        # RFC 5246 7.4.7.1: client_version || M[2..47] for a 48-byte M, else R
        if not (ok and len(m) == 48 and len(cv) == 2):
            return r
        return cv + m[2:]

_backend = None


def pyca_pk_backend():
    """The pyca `cryptography` backend (shared instance)."""
    global _backend
    if _backend is None:
        _backend = PycaPkBackend()
    return _backend
