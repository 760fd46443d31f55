# CPython cross-checks of nxsecure.pk against pyca `cryptography`: the portable
# backend and the pyca backend (nxsecure/port/pk_pyca.py) must interoperate in both
# directions with random keys, and give the same answers through the same API.
import hashlib
import os
import subprocess
import sys

import pytest

pytest.importorskip('cryptography')
from cryptography.hazmat.primitives import hashes, serialization as S  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec as pec, padding, rsa as prsa, x25519 as px  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402

from nxsecure.const import NX_SUCCESS  # noqa: E402
from nxsecure.pk import (portable_pk_backend, parse_spki, parse_rsa_private_key,  # noqa: E402
                         parse_ec_private_key)
from nxsecure.port.pk_pyca import pyca_pk_backend  # noqa: E402

PORTABLE = portable_pk_backend()
PYCA = pyca_pk_backend()
BACKENDS = [PORTABLE, PYCA]
IDS = ['portable', 'pyca']
CURVES = [(23, pec.SECP256R1, 'sha256'), (24, pec.SECP384R1, 'sha384')]
HASH = {'sha1': hashes.SHA1, 'sha256': hashes.SHA256, 'sha384': hashes.SHA384,
        'sha512': hashes.SHA512}


def _ec_pair(curve_cls):
    k = pec.generate_private_key(curve_cls())
    der = k.private_bytes(S.Encoding.DER, S.PrivateFormat.TraditionalOpenSSL, S.NoEncryption())
    st, key = parse_ec_private_key(der)
    assert st == NX_SUCCESS
    return k, key


def _rsa_pair(bits):
    k = prsa.generate_private_key(65537, bits)
    der = k.private_bytes(S.Encoding.DER, S.PrivateFormat.TraditionalOpenSSL, S.NoEncryption())
    st, key = parse_rsa_private_key(der)
    assert st == NX_SUCCESS
    spki = k.public_key().public_bytes(S.Encoding.DER, S.PublicFormat.SubjectPublicKeyInfo)
    st, pub = parse_spki(spki)
    assert st == NX_SUCCESS and pub.n == key.n
    return k, key, pub


# --- ECDSA ----------------------------------------------------------------------

@pytest.mark.parametrize('group,curve_cls,hname', CURVES)
@pytest.mark.parametrize('b', BACKENDS, ids=IDS)
def test_ecdsa_sign_interop_with_pyca(b, group, curve_cls, hname):
    for i in range(3):
        pk, key = _ec_pair(curve_cls)
        pub = pk.public_key()
        msg = os.urandom(40)
        digest = hashlib.new(hname, msg).digest()
        sig = b.ecdsa_sign(group, key, hname, digest)
        pub.verify(sig, msg, pec.ECDSA(HASH[hname]()))          # raises if bad
        # RFC 6979: the same bytes as OpenSSL's deterministic ECDSA
        assert sig == pk.sign(digest, pec.ECDSA(Prehashed(HASH[hname]()),
                                                deterministic_signing=True))
        psig = pk.sign(msg, pec.ECDSA(HASH[hname]()))
        point = pub.public_bytes(S.Encoding.X962, S.PublicFormat.UncompressedPoint)
        assert b.ecdsa_verify(group, point, hname, digest, psig)
        assert not b.ecdsa_verify(group, point, hname, hashlib.new(hname, msg + b'!').digest(), psig)
        assert b.ec_public(key) == point


@pytest.mark.parametrize('b', BACKENDS, ids=IDS)
def test_ecdsa_p256_with_sha384_digest(b):
    # TLS 1.2 allows any hash with any curve: bits2int truncation (SEC 1 4.1.3)
    pk, key = _ec_pair(pec.SECP256R1)
    digest = hashlib.sha384(b'm').digest()
    sig = b.ecdsa_sign(23, key, 'sha384', digest)
    pk.public_key().verify(sig, b'm', pec.ECDSA(hashes.SHA384()))
    point = pk.public_key().public_bytes(S.Encoding.X962, S.PublicFormat.UncompressedPoint)
    assert PORTABLE.ecdsa_verify(23, point, 'sha384', digest, sig)
    assert PYCA.ecdsa_verify(23, point, 'sha384', digest, sig)


# --- ECDH / X25519 --------------------------------------------------------------

def _seeded(seed):
    n = [0]

    def rand(k):
        out = b''
        while len(out) < k:
            n[0] += 1
            out += hashlib.sha256(seed + n[0].to_bytes(4, 'big')).digest()
        return out[:k]
    return rand


@pytest.mark.parametrize('group', [23, 24, 29])
def test_ecdh_agreement_across_backends(group):
    for i in range(3):
        seed = os.urandom(8)
        a_priv, a_pub = PORTABLE.ecdh_keypair(group, _seeded(seed))
        b_priv, b_pub = PYCA.ecdh_keypair(group, _seeded(seed + b'b'))
        # the same rand gives the same key pair in both backends
        assert PYCA.ecdh_keypair(group, _seeded(seed))[1] == a_pub
        s1 = PORTABLE.ecdh(group, a_priv, b_pub)
        s2 = PYCA.ecdh(group, b_priv, a_pub)
        assert s1 is not None and s1 == s2


def test_ecdh_against_pyca_native_keys():
    for i in range(3):
        peer = pec.generate_private_key(pec.SECP256R1())
        pt = peer.public_key().public_bytes(S.Encoding.X962, S.PublicFormat.UncompressedPoint)
        priv, pub = PORTABLE.ecdh_p256_keypair(os.urandom)
        mine = pec.EllipticCurvePublicKey.from_encoded_point(pec.SECP256R1(), pub)
        assert PORTABLE.ecdh_p256(priv, pt) == peer.exchange(pec.ECDH(), mine)
        xpeer = px.X25519PrivateKey.generate()
        xpt = xpeer.public_key().public_bytes(S.Encoding.Raw, S.PublicFormat.Raw)
        xpriv, xpub = PORTABLE.x25519_keypair(os.urandom)
        assert PORTABLE.x25519(xpriv, xpt) == xpeer.exchange(px.X25519PublicKey.from_public_bytes(xpub))


@pytest.mark.parametrize('b', BACKENDS, ids=IDS)
def test_invalid_peer_points_rejected_by_both(b):
    priv, pub = b.ecdh_p256_keypair(_seeded(b's'))
    bad = [b'', b'\x00', bytes(65), pub[:-1], pub + b'\x00', b'\x02' + pub[1:33],
           pub[:64] + bytes([pub[64] ^ 1]), b'\x04' + b'\xff' * 64]
    for q in bad:
        assert b.ecdh_p256(priv, q) is None
        assert not b.ecdsa_verify(23, q, 'sha256', bytes(32), b'\x30\x06\x02\x01\x01\x02\x01\x01')
    xpriv, xpub = b.x25519_keypair(_seeded(b'x'))
    assert b.x25519(xpriv, bytes(32)) is None
    assert b.x25519(xpriv, b'\x01' + bytes(31)) is None


# --- RSA ------------------------------------------------------------------------

@pytest.mark.parametrize('b', BACKENDS, ids=IDS)
@pytest.mark.parametrize('bits', [1024, 2048])
def test_rsa_pkcs1_and_pss_interop(b, bits):
    pk, key, pub = _rsa_pair(bits)
    ppub = pk.public_key()
    for hname in ('sha1', 'sha256', 'sha384', 'sha512'):
        msg = os.urandom(33)
        digest = hashlib.new(hname, msg).digest()
        H = HASH[hname]
        sig = b.rsa_sign_pkcs1(key, hname, digest)
        assert sig == pk.sign(msg, padding.PKCS1v15(), H())    # deterministic scheme
        assert b.rsa_verify_pkcs1(pub, hname, digest, sig)
        assert not b.rsa_verify_pkcs1(pub, hname, hashlib.new(hname, msg + b'.').digest(), sig)
        if hname == 'sha1' or (bits == 1024 and hname == 'sha512'):
            continue                  # PSS: TLS uses SHA-2; 1024 bits is too small
        pss = padding.PSS(padding.MGF1(H()), H.digest_size)
        psig = pk.sign(msg, pss, H())
        assert b.rsa_verify_pss(pub, hname, digest, psig)
        assert not b.rsa_verify_pss(pub, hname, digest, psig[:-1] + bytes([psig[-1] ^ 1]))
        osig = b.rsa_sign_pss(key, hname, digest, os.urandom)
        ppub.verify(osig, msg, pss, H())
        assert PORTABLE.rsa_verify_pss(pub, hname, digest, osig)
        # a certificate may use another salt length (RFC 4055 3.1 default: 20)
        psig = pk.sign(msg, padding.PSS(padding.MGF1(H()), 20), H())
        assert b.rsa_verify_pss(pub, hname, digest, psig, 20)
        assert not b.rsa_verify_pss(pub, hname, digest, psig)


@pytest.mark.parametrize('b', BACKENDS, ids=IDS)
def test_rsa_encryption_interop_and_premaster(b):
    for bits in (1024, 2048):
        pk, key, pub = _rsa_pair(bits)
        pm = b'\xfe\xfd' + os.urandom(46)
        ct = b.rsa_encrypt_pkcs1(pub, pm, os.urandom)
        assert pk.decrypt(ct, padding.PKCS1v15()) == pm
        ct = pk.public_key().encrypt(pm, padding.PKCS1v15())
        assert b.rsa_decrypt_pkcs1(key, ct) == pm
        assert b.rsa_decrypt_premaster(key, ct, b'\xfe\xfd', os.urandom) == pm
        assert b.rsa_decrypt_premaster(key, ct, b'\xfe\xff', os.urandom) == b'\xfe\xff' + pm[2:]
        # wrong-length message: R, whatever the backend
        ct = pk.public_key().encrypt(pm[:47], padding.PKCS1v15())
        r = os.urandom(48)
        assert b.rsa_decrypt_premaster(key, ct, b'\xfe\xfd', lambda n: r) == r
        for junk in (b'', bytes(key.size), os.urandom(key.size - 1)):
            assert len(b.rsa_decrypt_premaster(key, junk, b'\xfe\xfd', os.urandom)) == 48


# --- packaging ------------------------------------------------------------------

def test_psk_path_does_not_import_pk():
    # Importing the stack (and the PSK-side modules that exist) must not load
    # nxsecure.pk: a PSK-only application does not pay for public-key code.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (
        "import sys, importlib\n"
        "mods = ['nxsecure', 'nxsecure.dtls', 'nxsecure.server', 'nxsecure.session',\n"
        "        'nxsecure.record', 'nxsecure.handshake', 'nxsecure.psk', 'nxsecure.crypto']\n"
        "for m in mods:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ImportError:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('nxsecure.pk')))\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=root, capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=root))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]'
