"""Key exchange and handshake signatures for the certificate suites: ECDHE, RSA, ECDHE_PSK (RFC 8422, RFC 5246 7.4.7, RFC 5489).
Imported only when such a suite is negotiated, so a PSK-only application never loads
it or the public-key code behind it."""

from nxsecure import port
from . import certs
from .handshake import u16_list_has
from .const import (
    NxError, NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED, NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE,
    NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE, NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED,
    AD_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER, AD_DECRYPT_ERROR, AD_INTERNAL_ERROR,
)

GROUP_SECP256R1 = 23
GROUP_SECP384R1 = 24
GROUP_X25519 = 29
# Groups we offer and accept for ECDHE, in preference order (RFC 8422 5.1.1), unless the
# application chose its own (nx_secure_dtls_ecc_initialize): the fastest on a board first.
GROUPS = (GROUP_SECP256R1, GROUP_X25519, GROUP_SECP384R1)
SUPPORTED_GROUPS = (GROUP_SECP256R1, GROUP_SECP384R1, GROUP_X25519)


def groups(e):
    """The engine's ECDHE groups in preference order: its session's (the application's
    nx_secure_dtls_ecc_initialize / nx_secure_dtls_server_ecc_initialize), else GROUPS."""
    g = getattr(e.owner, "_ecc_groups", None)
    return GROUPS if g is None else g

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
    from nxsecure.pk.hashes import ctor     # hashlib's, else crypto/sha512.py's
    h = ctor(hash_name)
    if h is None:
        raise NxError(NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE, AD_INTERNAL_ERROR)
    return h(data).digest()


def is_ec(key):
    return hasattr(key, "curve")


def choose_sign_alg(key, peer_algs, hash_name=None):
    """The scheme we sign with: ours in preference order, among the peer's list
    (RFC 5246 7.4.1.4.1: absent means SHA-1, which we do not sign with; a peer that
    sends no list gets SHA-256). hash_name: only a scheme with that hash (a
    CertificateVerify signs the transcript's digest, RFC 5246 7.4.8)."""
    mine = _SIGN_EC if is_ec(key) else _SIGN_RSA
    if is_ec(key) and key.curve == GROUP_SECP384R1:
        mine = (ECDSA_SHA384, ECDSA_SHA256)
    for a in mine:
        if hash_name is not None and _hash_name(a) != hash_name:
            continue
        if peer_algs is None:
            if _hash_name(a) == "sha256":
                return a
        elif u16_list_has(peer_algs, a):
            return a
    return None


def transcript_hash(e):
    """The hash of the engine's handshake transcript (the suite's PRF hash, RFC 5246
    7.4.9): what a CertificateVerify can be signed and checked with."""
    return getattr(e.transcript, "hash_name", "sha256")


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


def choose_group(e, peer_groups):
    """Server: the first of our groups the client lists; RFC 8422 4: a client that
    sends no list leaves the choice to the server (secp256r1 when we have it)."""
    mine = groups(e)
    if peer_groups is None:
        return GROUP_SECP256R1 if GROUP_SECP256R1 in mine else mine[0]
    for g in mine:
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


def ecdh_shared(e, group, priv, peer_point):
    """RFC 8422 5.10: the shared secret; an invalid peer point is illegal_parameter."""
    if group not in groups(e):
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
    # keys.parse_spki itself, not pk's forwarder: one Python frame (240 bytes of the
    # rp2 firmware's 8 KB C stack) less on the client's deepest path
    from nxsecure.pk import keys
    status, key = keys.parse_spki(cert.spki_view())
    if status:
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)
    return key


def local_key(cert):
    """The private key given with a local certificate (nx_secure_x509_certificate_initialize),
    parsed and checked against the certificate once (local_key_check, which the local
    certificate add services run) and kept on the certificate; None when it has none
    or it is not the certificate's key."""
    key = getattr(cert, "_pk_key", None)
    if key is None and cert._private_key is not None and local_key_check(cert) == 0:
        key = cert._pk_key
    return key


def local_key_check(cert):
    """Is the certificate's private key the key of its public key? A status:
    NX_SUCCESS (no key, or a hardware/user key we cannot see, counts as one), the
    parse error of a key that does not parse, or NX_SECURE_X509_PRIVATE_KEY_MISMATCH.
    An EC key's public point is computed from its scalar (one scalar multiplication)
    and compared with the certificate's, whatever public key the key file carries; an
    RSA key must have the certificate's modulus and exponent."""
    from nxsecure import pk
    from nxsecure.x509.cert import NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    der = cert._private_key
    if der is None:
        return 0
    try:
        pub = peer_key(cert)
    except NxError as x:
        return x.code
    if is_ec(pub):
        status, key = pk.parse_ec_private_key(der, pub.curve)
        if status:
            return status
        from nxsecure.pk.keys import EcKey
        mine = backend().ec_public(EcKey(pub.curve, None, key.d))
        if mine is None or bytes(mine) != bytes(pub.pub):       # both SEC 1 uncompressed
            return NX_SECURE_X509_PRIVATE_KEY_MISMATCH
        key.pub = bytes(mine)
    else:
        status, key = pk.parse_rsa_private_key(der)
        if status:
            return status
        if key.n != pub.n or key.e != pub.e:
            return NX_SECURE_X509_PRIVATE_KEY_MISMATCH
    cert._pub_key = pub
    cert._pk_key = key
    return 0


def peer_key_type(cert):
    k = getattr(cert, "_pub_key", None)
    if k is None:
        k = peer_key(cert)
        cert._pub_key = k
    return "ec" if is_ec(k) else "rsa"


# ================================================================ key exchange objects
# The engine (dtls.py) holds the negotiated suite's key exchange as `e.kx`; the state
# tables of dtls_client.py / dtls_server.py call these for the certificate and ECDHE
# messages. (Plain PSK is dtls.PskKx: it never loads this module.)
_HT_CERTIFICATE = 11
_HT_SERVER_KEY_EXCHANGE = 12
_HT_CERTIFICATE_REQUEST = 13
_HT_CERTIFICATE_VERIFY = 15
_DTLS_1_2 = 0xFEFD


class _Kx:
    """What every certificate / ECDHE key exchange shares."""
    cert = True

    # --- client: the server's certificate and CertificateRequest
    def on_certificate(self, e, body):
        """The server's chain: kept in our remote certificate space, verified to one of
        our trusted certificates, then offered to the application's callback."""
        _store_peer_chain(e, body, True)
        want = e.suite.nx_secure_tls_public_auth == _auth_ecdsa()
        if is_ec(e.peer_key) != want:
            raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)

    def on_certificate_request(self, e, body):
        """RFC 5246 7.4.4: pick our certificate whose key type the server accepts and a
        SHA-256 signature scheme it lists; none means we send an empty Certificate."""
        from .handshake import pull_certificate_request, CERT_TYPE_RSA_SIGN, CERT_TYPE_ECDSA_SIGN
        from .dtls import has_byte
        types, algs = pull_certificate_request(body)
        e.cert_requested = True
        for c in certs.local_certs(e.owner):
            key = local_key(c)
            if key is None:
                continue
            t = CERT_TYPE_ECDSA_SIGN if is_ec(key) else CERT_TYPE_RSA_SIGN
            if not has_byte(types, t):
                continue
            alg = choose_sign_alg(key, algs, transcript_hash(e))
            if alg is not None:
                e.local_cert = c
                e.sign_alg = alg
                return

    def client_certificate(self, e):
        push_certificate(e, e.local_cert)

    def certificate_verify(self, e):
        """RFC 5246 7.4.8: signed over the handshake so far (the session hash)."""
        if e.local_cert is None:
            return
        from .handshake import push_digitally_signed
        sig = sign(e.sign_alg, local_key(e.local_cert), None, e.session_hash)
        w = e.flight.message()
        push_digitally_signed(w, e.sign_alg, sig)
        e.flight.end(w, _HT_CERTIFICATE_VERIFY)

    # --- server: our certificate (and the request for the client's)
    def server_messages(self, e, hello):
        """Certificate, ServerKeyExchange (ECDHE, signed), CertificateRequest
        (RFC 5246 7.4.2-7.4.4, RFC 8422 5.3-5.4)."""
        cert = server_cert_for(e, e.suite)
        e.local_cert = cert
        push_certificate(e, cert)
        self.server_key_exchange(e)
        if certs.client_verify(e.owner):
            from .handshake import push_certificate_request, CERT_TYPE_RSA_SIGN, \
                CERT_TYPE_ECDSA_SIGN
            w = e.flight.message()
            # Only schemes with the transcript's hash (SHA-256, or the SHA-384 suites'):
            # the transcript is kept as that one running hash, so a CertificateVerify
            # can only be checked in one of these (RFC 5246 7.4.8).
            if transcript_hash(e) == "sha384":
                algs = (ECDSA_SHA384, RSA_PSS_RSAE_SHA384, RSA_PKCS1_SHA384)
            else:
                algs = (ECDSA_SHA256, RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256)
            push_certificate_request(w, (CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN), algs)
            e.flight.end(w, _HT_CERTIFICATE_REQUEST)
            e.cert_requested = True

    def server_key_exchange(self, e):
        pass

    def on_client_certificate(self, e, body, seq):
        """RFC 5246 7.4.6: the client's chain. Verification was asked for, so an empty
        one fails the handshake (NetX requires the certificate once configured)."""
        e._flight5_seq = seq
        _store_peer_chain(e, body, False)
        e.peer_cert = True

    def on_certificate_verify(self, e, body):
        """RFC 5246 7.4.8: the client proves it holds its certificate's key."""
        from .codec import Reader
        from .handshake import pull_digitally_signed
        r = Reader(body)
        alg, sig = pull_digitally_signed(r)
        r.done()
        if _hash_name(alg) != transcript_hash(e):
            raise NxError(NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE, AD_ILLEGAL_PARAMETER)
        verify(alg, e.peer_key, None, sig, NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE,
               e.session_hash)


class EcdheKx(_Kx):
    """ECDHE_ECDSA / ECDHE_RSA (RFC 8422): ServerKeyExchange with signed parameters."""

    def on_server_key_exchange(self, e, body):
        from .codec import Reader
        from .handshake import pull_digitally_signed
        r = Reader(body)
        start = r.pos
        _server_params(e, r)
        params = bytes(body[start:r.pos])
        alg, sig = pull_digitally_signed(r)
        verify(alg, e.peer_key, bytes(e.client_random) + bytes(e.server_random) + params, sig)
        r.done()

    def client_key_exchange(self, e, w):
        from .handshake import push_ecdh_public
        pub, z = _client_ecdh(e)
        push_ecdh_public(w, pub)                   # RFC 8422 5.7
        return z

    def server_key_exchange(self, e):
        """RFC 8422 5.4: fresh ECDHE parameters, signed with the certificate key."""
        from .handshake import push_ec_params
        e.group = choose_group(e, e.peer_groups)
        e.kx_priv, pub = ecdh_keypair(e.group)
        w = e.flight.message()
        start = w.pos
        push_ec_params(w, e.group, pub)
        params = bytes(e.flight.buf[start:w.pos])
        key = local_key(e.local_cert)
        alg = choose_sign_alg(key, e.peer_sig_algs)
        sig = sign(alg, key, bytes(e.client_random) + bytes(e.server_random) + params)
        from .handshake import push_digitally_signed
        push_digitally_signed(w, alg, sig)
        e.flight.end(w, _HT_SERVER_KEY_EXCHANGE)

    def on_client_key_exchange(self, e, r):
        point = r.vec8()                           # RFC 8422 5.7
        r.done()
        z = ecdh_shared(e, e.group, e.kx_priv, point)
        e.kx_priv = None
        return z


class RsaKx(_Kx):
    """RSA key transport (RFC 5246 7.4.7.1): no ServerKeyExchange."""

    def on_server_key_exchange(self, e, body):
        from .const import NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE
        raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)

    def client_key_exchange(self, e, w):
        # RFC 5246 7.4.7.1: client_version (as offered) || 46 random bytes
        pms = bytearray(48)
        e.random_into(pms)
        pms[0] = _DTLS_1_2 >> 8
        pms[1] = _DTLS_1_2 & 0xFF
        pms = bytes(pms)
        from .handshake import push_encrypted_premaster
        push_encrypted_premaster(w, rsa_encrypt_premaster(e.peer_key, pms))
        return pms

    def on_client_key_exchange(self, e, r):
        ct = r.vec16()                             # RFC 5246 7.4.7.1
        r.done()
        return rsa_decrypt_premaster(local_key(e.local_cert), ct,
                                     bytes((_DTLS_1_2 >> 8, _DTLS_1_2 & 0xFF)))


class EcdhePskKx(EcdheKx):
    """ECDHE_PSK (RFC 5489 2): the identity hint and unsigned ECDHE parameters; the
    premaster binds the ECDH secret and the PSK. No certificates."""
    cert = False

    def on_server_key_exchange(self, e, body):
        from .codec import Reader
        r = Reader(body)
        e.hint = bytes(r.vec16())                  # RFC 5489 2
        _server_params(e, r)
        r.done()

    def client_key_exchange(self, e, w):
        from .dtls import psk_premaster
        from .handshake import push_psk_vector, push_ecdh_public
        pub, z = _client_ecdh(e)
        push_psk_vector(w, e.psk_identity)         # RFC 5489 2
        push_ecdh_public(w, pub)
        return psk_premaster(z, e.psk)

    def server_messages(self, e, hello):
        from .handshake import push_ec_params
        e.group = choose_group(e, e.peer_groups)
        e.kx_priv, pub = ecdh_keypair(e.group)
        w = e.flight.message()
        from .handshake import push_psk_vector
        push_psk_vector(w, e.psk_store.hint() or b"")
        push_ec_params(w, e.group, pub)
        e.flight.end(w, _HT_SERVER_KEY_EXCHANGE)

    def on_client_key_exchange(self, e, r):
        from .dtls import psk_from_identity, psk_premaster
        psk_from_identity(e, r)
        return psk_premaster(EcdheKx.on_client_key_exchange(self, e, r), e.psk)


def _server_params(e, r):
    """RFC 8422 5.4 ServerECDHParams: a group of ours and the server's point."""
    from .handshake import pull_ec_params
    group, point = pull_ec_params(r)
    if group not in groups(e):
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER)
    e.group = group
    e.peer_point = bytes(point)


def _client_ecdh(e):
    """Our ephemeral key pair on the server's group: (our public point, the secret)."""
    priv, pub = ecdh_keypair(e.group)
    return pub, ecdh_shared(e, e.group, priv, e.peer_point)


_KX = {}


def kx_for(suite):
    from nxsecure import crypto
    k = suite.nx_secure_tls_public_cipher
    if not _KX:
        _KX[crypto.TLS_KX_ECDHE] = EcdheKx()
        _KX[crypto.TLS_KX_RSA] = RsaKx()
        _KX[crypto.TLS_KX_ECDHE_PSK] = EcdhePskKx()
    return _KX[k]


def _auth_ecdsa():
    from nxsecure import crypto
    return crypto.TLS_AUTH_ECDSA


def server_cert_for(e, row):
    """Our identity certificate for a row: the one the application chose for this
    handshake (nxsecure_dtls_active_certificate_set), else among the local certificates
    with their keys whose key suits the row's authentication the first issued to the
    name the client asked for (server_name, RFC 6066 3: nxsecure/sni.py), else the
    first of them."""
    want = "ec" if row.nx_secure_tls_public_auth == _auth_ecdsa() else "rsa"
    chosen = getattr(e, "sni_cert", None)
    if chosen is not None:
        return chosen if peer_key_type(chosen) == want and local_key(chosen) is not None \
            else None
    name = getattr(e, "sni", None)
    first = None
    for c in certs.local_certs(e.owner):
        if peer_key_type(c) == want and local_key(c) is not None:
            if name is None:
                return c
            if first is None:
                first = c
            from nxsecure.x509 import names
            if names.host_check(c, name, len(name)) == 0:
                return c
    return first


def server_can_meet(e, row, h):
    """The client's extensions allow this row: a common group for ECDHE, and a
    signature scheme for our certificate's key (RFC 8422 5.1, RFC 5246 7.4.1.4.1).
    RFC 8422 5.1: a server MUST NOT negotiate an ECC suite it cannot complete within
    the client's curves, and in TLS 1.2 those include the curve of an ECDSA
    certificate's key (a client limited to x25519 cannot take a P-256 one)."""
    from nxsecure import crypto
    k = row.nx_secure_tls_public_cipher
    if (k == crypto.TLS_KX_ECDHE or k == crypto.TLS_KX_ECDHE_PSK) and choose_group(e, h.groups) == 0:
        return False
    if k == crypto.TLS_KX_ECDHE:
        key = local_key(server_cert_for(e, row))
        if is_ec(key) and not group_listed(h.groups, key.curve):
            return False
        return choose_sign_alg(key, h.sig_algs) is not None
    return True


def _store_peer_chain(e, body, peer_is_server):
    """Copy a Certificate message's chain into the remote space and verify it."""
    from .handshake import pull_certificate_list
    lst = pull_certificate_list(body)
    if not lst:
        raise NxError(NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED, AD_HANDSHAKE_FAILURE)
    status, alert = certs.verify_chain(e.owner, body, lst, peer_is_server)
    if status:
        raise NxError(status, alert)
    e.peer_key = peer_key(certs.remote_leaf(e.owner))


def push_certificate(e, cert):
    """RFC 5246 7.4.2 Certificate: our certificate then its issuers from the local
    store. Only the framing goes into the flight buffer; the DER stays where the
    application keeps it."""
    from .handshake import push_handshake_header, push_certificate_list, HANDSHAKE_HEADER
    f = e.flight
    chain = certs.chain(e.owner, cert) if cert is not None else []
    w = f.message()
    start = f.used
    segs = []
    push_certificate_list(w, chain, segs)
    length = w.pos - start - HANDSHAKE_HEADER
    for der in chain:
        length += len(der)
    segs[0] = f.buf[start:start + HANDSHAKE_HEADER + len(segs[0])]
    push_handshake_header(f.buf, start, _HT_CERTIFICATE, length, e.send_seq, 0, length)
    f.add(segs, HANDSHAKE_HEADER + length)
    f.used = w.pos
