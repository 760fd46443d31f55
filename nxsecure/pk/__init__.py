# nxsecure.pk: public-key cryptography for the certificate cipher suites
# (ECDHE-ECDSA, ECDHE-RSA, RSA key exchange). A separate package so that a PSK-only
# build never imports or ships it; importing nxsecure.pk loads only this file, and
# each algorithm module is imported on first use.
#
# Key parsing (platform independent, never raises; returns (status, key)):
#   parse_spki(der)                  SubjectPublicKeyInfo -> RsaKey | EcKey
#   parse_rsa_public_key(der)        PKCS#1 RSAPublicKey  -> RsaKey
#   parse_rsa_private_key(der)       PKCS#1 RSAPrivateKey -> RsaKey
#   parse_ec_private_key(der, curve=0)  SEC 1 ECPrivateKey -> EcKey
#   parse_private_key(der)           PKCS#8 PrivateKeyInfo -> RsaKey | EcKey
# Key objects: nxsecure.pk.keys.RsaKey (n, e, size, private, d, p, q, dp, dq, qinv)
# and EcKey (curve, pub, private, d). Status codes come from nxsecure.const.
#
# The backend interface: one object per platform with these methods, the same
# signatures everywhere (portable_pk_backend() here, pyca_pk_backend() in
# nxsecure/port/pk_pyca.py). Groups/curves are TLS NamedCurve ids (RFC 8422 5.1.1):
# 23 secp256r1, 24 secp384r1, 29 x25519. Hash names: 'sha1', 'sha256', 'sha384',
# 'sha512'; digests are computed by the caller. rand is `rand(n) -> n bytes` from a
# secure source. Public points are SEC 1 uncompressed (0x04||X||Y), X25519 keys
# 32 bytes. Failures return None (or False); no method raises on peer data.
#
#   ecdh_keypair(group, rand) -> (priv, pub_bytes) | None   priv is opaque
#   ecdh(group, priv, peer_pub) -> shared | None   (None: invalid peer key,
#                                    all-zero X25519 result, unknown group)
#   ecdh_p256_keypair(rand), ecdh_p256(priv, peer_pub)   the same for group 23
#   x25519_keypair(rand), x25519(priv, peer_pub)         the same for group 29
#   ec_public(key) -> pub_bytes                      public point of an EcKey
#   ecdsa_sign(curve, key, hash_name, digest) -> DER Ecdsa-Sig-Value | None
#        key: EcKey with d; deterministic (RFC 6979), so both backends agree
#   ecdsa_verify(curve, pub, hash_name, digest, der_sig) -> bool
#        pub: point bytes or an EcKey
#   rsa_verify_pkcs1(key, hash_name, digest, sig) -> bool
#   rsa_verify_pss(key, hash_name, digest, sig, salt_len=-1) -> bool
#        MGF1 with the same hash; salt_len -1 means the hash length (RFC 8446 4.2.3)
#   rsa_sign_pkcs1(key, hash_name, digest) -> sig | None
#   rsa_sign_pss(key, hash_name, digest, rand) -> sig | None
#   rsa_encrypt_pkcs1(key, msg, rand) -> ciphertext | None
#   rsa_decrypt_pkcs1(key, ciphertext) -> msg | None
#   rsa_decrypt_premaster(key, ciphertext, client_version, rand) -> 48 bytes
#        RFC 5246 7.4.7.1 countermeasure: always 48 bytes, random on bad padding
# The portable backend's arithmetic methods first check that the C stack has room for
# them (stack_room below) and raise RuntimeError when not: the engine then ends the
# handshake as our defect (internal_error), where running on would have overwritten
# the heap under the stack and blamed the peer for what it found there.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

GROUP_SECP256R1 = const(23)
GROUP_SECP384R1 = const(24)
GROUP_X25519 = const(29)


# The C stack each firmware gives the main thread, where we know it (bytes): MicroPython
# 1.27's rp2 port (RPI_PICO) has 8 KB, with the GC heap right below it, and checks the
# stack only at Python calls; C code below the last check (the big-int routines, the
# native code, a collection) can run past its end. On the emulated RP2040 a P-256
# verification goes ~2.0 KB (big ints) / ~2.3 KB (native) below the backend call, ECDH
# the same (bench/mp_crypto.py's `stack` section; Python frames there take 240-340
# bytes each): PK_STACK_NEED is that with room for a collection starting at the deepest
# point (bench/mp_client_replay.py reports a handshake's deepest point, c_stack_peak).
# 0: no check (other ports, CPython).
_C_STACKS = {"rp2": 8192}
PK_STACK_NEED = const(3072)
try:
    import sys
    from micropython import stack_use as _stack_use
    c_stack_limit = _C_STACKS.get(sys.platform, 0)
except ImportError:
    _stack_use = None
    c_stack_limit = 0


def stack_room():
    """Raise RuntimeError when the C stack left (c_stack_limit minus what is in use) is
    less than PK_STACK_NEED, the public-key arithmetic's measured need."""
    if c_stack_limit:
        used = _stack_use()
        if used + PK_STACK_NEED > c_stack_limit:
            raise RuntimeError("C stack: %d of %d bytes in use, public-key arithmetic "
                               "needs %d more" % (used, c_stack_limit, PK_STACK_NEED))


def parse_spki(data):
    from nxsecure.pk import keys
    return keys.parse_spki(data)


def parse_rsa_public_key(data):
    from nxsecure.pk import keys
    return keys.parse_rsa_public_key(data)


def parse_rsa_private_key(data):
    from nxsecure.pk import keys
    return keys.parse_rsa_private_key(data)


def parse_ec_private_key(data, curve=0):
    from nxsecure.pk import keys
    return keys.parse_ec_private_key(data, curve)


def parse_private_key(data):
    from nxsecure.pk import keys
    return keys.parse_private_key(data)


class PortablePkBackend:
    """Pure Python (MicroPython and CPython) implementation of the interface."""
    name = 'portable'

    def ecdh_keypair(self, group, rand):
        stack_room()
        if group == 29:
            from nxsecure.pk import x25519
            return x25519.keypair(rand)
        from nxsecure.pk import ec
        c = ec.curve(group)
        if c is None:
            return None
        return ec.keypair(c, rand)

    def ecdh(self, group, priv, peer_pub):
        stack_room()
        if group == 29:
            from nxsecure.pk import x25519
            return x25519.shared(priv, peer_pub)
        from nxsecure.pk import ec
        c = ec.curve(group)
        if c is None:
            return None
        return ec.ecdh(c, priv, peer_pub)

    def ecdh_p256_keypair(self, rand):
        return self.ecdh_keypair(GROUP_SECP256R1, rand)

    def ecdh_p256(self, priv, peer_pub):
        return self.ecdh(GROUP_SECP256R1, priv, peer_pub)

    def x25519_keypair(self, rand):
        return self.ecdh_keypair(GROUP_X25519, rand)

    def x25519(self, priv, peer_pub):
        return self.ecdh(GROUP_X25519, priv, peer_pub)

    def ec_public(self, key):
        stack_room()
        if key.pub is None and key.private:
            from nxsecure.pk import ec
            key.pub = ec.public_from_private(ec.curve(key.curve), key.d)
        return key.pub

    def ecdsa_sign(self, curve, key, hash_name, digest):
        stack_room()
        from nxsecure.pk import ec, der
        c = ec.curve(curve)
        if c is None or key.curve != curve or not key.private:
            return None
        r, s = ec.sign(c, key.d, hash_name, digest)
        return der.ecdsa_sig_encode(r, s, c.size)

    def ecdsa_verify(self, curve, pub, hash_name, digest, der_sig):
        stack_room()
        from nxsecure.pk import ec, der
        c = ec.curve(curve)
        if c is None:
            return False
        pub = getattr(pub, 'pub', pub)
        rs = der.ecdsa_sig_decode(der_sig, c.size)
        if rs is None or pub is None:
            return False
        return ec.verify(c, pub, digest, rs[0], rs[1])

    def rsa_verify_pkcs1(self, key, hash_name, digest, sig):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.verify_pkcs1(key, hash_name, digest, sig)

    def rsa_verify_pss(self, key, hash_name, digest, sig, salt_len=-1):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.verify_pss(key, hash_name, digest, sig, salt_len)

    def rsa_sign_pkcs1(self, key, hash_name, digest):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.sign_pkcs1(key, hash_name, digest)

    def rsa_sign_pss(self, key, hash_name, digest, rand):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.sign_pss(key, hash_name, digest, rand)

    def rsa_encrypt_pkcs1(self, key, msg, rand):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.encrypt_pkcs1(key, msg, rand)

    def rsa_decrypt_pkcs1(self, key, ciphertext):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.decrypt_pkcs1(key, ciphertext)

    def rsa_decrypt_premaster(self, key, ciphertext, client_version, rand):
        stack_room()
        from nxsecure.pk import rsa
        return rsa.decrypt_premaster(key, ciphertext, client_version, rand)


_portable = None


def portable_pk_backend():
    """The pure-Python backend (one shared instance: it holds no state)."""
    global _portable
    if _portable is None:
        _portable = PortablePkBackend()
    return _portable
