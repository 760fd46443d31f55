"""Test certificates made at test time with pyca `cryptography`: roots, intermediates
and leaves (P-256 or RSA-2048), valid or broken on purpose, as DER plus the key in
the DER form nx_secure_x509_certificate_initialize takes (SEC 1 / PKCS#1)."""
import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

_RSA_CACHE = []


def new_key(kind):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    # RSA key generation is slow: reuse a few keys across tests
    if len(_RSA_CACHE) < 3:
        _RSA_CACHE.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _RSA_CACHE[-1]
    k = _RSA_CACHE.pop(0)
    _RSA_CACHE.append(k)
    return k


def key_der(key):
    """SEC 1 ECPrivateKey or PKCS#1 RSAPrivateKey DER."""
    return key.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


class Cert:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        self.key_der = key_der(key)
        self.key_pem = key_pem(key)
        self.kind = "ec" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa"


def make(cn, kind="ec", issuer=None, ca=False, path_len=None, days=(-1, 30), san=None,
         eku=None, key_usage=True, bad_signature=False, san_ip=None, hash_name="sha256"):
    """A certificate for `cn`, signed by issuer (a Cert) or self-signed, with SHA-256
    (hash_name "sha384": SHA-384). kind: "ec" (P-256), "ec384" (P-384), "rsa"."""
    key = new_key(kind)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(issuer.cert.subject if issuer else name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days[0]))
         .not_valid_after(now + datetime.timedelta(days=days[1])))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
        if key_usage:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                              False, False), critical=True)
    else:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        if key_usage:
            ec_ = kind != "rsa"
            b = b.add_extension(x509.KeyUsage(True, False, not ec_, False, ec_,
                                              False, False, False, False), critical=True)
    if san or san_ip:
        names = [x509.DNSName(n) for n in san or ()]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in san_ip or ()]
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    # Key identifiers, as CA tools write them (RFC 5280 4.2.1.1-2; the verifier wants them).
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)
    signer = issuer.key if issuer else key
    cert = b.sign(signer, hashes.SHA384() if hash_name == "sha384" else hashes.SHA256())
    c = Cert(cert, key)
    if bad_signature:
        d = bytearray(c.der)
        d[-5] ^= 0x55                      # inside the signature value
        c.der = bytes(d)
    return c


SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT_AUTH = [ExtendedKeyUsageOID.CLIENT_AUTH]


def chain(kind="ec", leaf_cn="server.example", san=("server.example",), eku=None,
          intermediate=True, hash_name="sha256"):
    """root -> [intermediate ->] leaf; returns (root, intermediate or None, leaf)."""
    root = make("Test Root CA", kind, ca=True, hash_name=hash_name)
    inter = make("Test Intermediate CA", kind, issuer=root, ca=True, path_len=0,
                 hash_name=hash_name) if intermediate else None
    leaf = make(leaf_cn, kind, issuer=inter or root, san=list(san) if san else None, eku=eku,
                hash_name=hash_name)
    return root, inter, leaf
