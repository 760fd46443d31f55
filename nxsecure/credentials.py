"""Credential tools for the host: PSK and identity generation, a P-256 CA, device and server certificates it issues, DER/PEM files and a ready-to-import Python module for a board, a certificate dump (host only; pyca `cryptography`)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
import datetime
import ipaddress
import os

from .api import Certificate, load_certificates, load_private_key, DTLSError

DEFAULT_DAYS_CA = 3650
DEFAULT_DAYS = 825            # the longest leaf lifetime browsers accepted for years


# ================================================================================ PSK
def generate_psk(nbytes=16):
    """A random key of nbytes (16 = AES-128's strength) from os.urandom."""
    if not isinstance(nbytes, int) or not 8 <= nbytes <= 64:
        raise ValueError("a PSK is 8..64 bytes (the stack's NX_SECURE_TLS_MAX_PSK_SIZE is 64)")
    return os.urandom(nbytes)


def generate_identity(prefix="device"):
    """An identity like 'device-3f9a01c2' (prefix, a dash, 8 random hex digits)."""
    if not prefix or len(prefix) > 100:
        raise ValueError("the identity prefix must be 1..100 characters")
    return "%s-%s" % (prefix, os.urandom(4).hex())


def psk_module(identity, key):
    """Python source a board imports: PSK_IDENTITY and PSK as bytes."""
    return ("# A DTLS pre-shared key, made by `python -m nxsecure psk`. Keep it secret.\n"
            "# nx_secure_dtls_psk_add(session, PSK, len(PSK), PSK_IDENTITY, "
            "len(PSK_IDENTITY), None, 0)\n"
            "PSK_IDENTITY = %r\nPSK = %r\n" % (_b(identity), bytes(key)))


# ================================================================================ X.509
def _pyca():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
    return x509, hashes, serialization, ec, NameOID, ExtendedKeyUsageOID


def _name(common_name, organization=None):
    x509, _, _, _, NameOID, _ = _pyca()
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _check_days(days):
    if not isinstance(days, int) or not 1 <= days <= 36500:
        raise ValueError("days must be 1..36500")


def make_ca(common_name="nxsecure CA", days=DEFAULT_DAYS_CA, organization=None):
    """A self-signed P-256 CA: -> (certificate DER, private key object)."""
    x509, hashes, _, ec, _, _ = _pyca()
    if not common_name:
        raise ValueError("the CA needs a common name")
    _check_days(days)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = _name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return _der(cert), key


def issue_certificate(ca_der, ca_key, common_name, dns_names=(), ip_addresses=(), server=True,
                      client=True, days=DEFAULT_DAYS, organization=None):
    """A P-256 certificate signed by the CA: -> (certificate DER, private key object).
    server/client: the extended key usages it carries (a device that is both a DTLS
    client and server keeps both). dns_names / ip_addresses go in subjectAltName (the
    name a client checks, RFC 6125); the common name is added as a DNS name when it
    looks like one and no names are given."""
    x509, hashes, _, ec, _, EKU = _pyca()
    if not common_name:
        raise ValueError("the certificate needs a common name")
    if not server and not client:
        raise ValueError("a certificate for neither server nor client use is of no use")
    _check_days(days)
    ca = x509.load_der_x509_certificate(ca_der)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.DNSName(n) for n in dns_names]
    for a in ip_addresses:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(a)))
        except ValueError:
            raise ValueError("not an IP address: %r" % a)
    if not names and _looks_like_dns(common_name):
        names.append(x509.DNSName(common_name))
    usages = []
    if server:
        usages.append(EKU.SERVER_AUTH)
    if client:
        usages.append(EKU.CLIENT_AUTH)
    b = (x509.CertificateBuilder().subject_name(_name(common_name, organization))
         .issuer_name(ca.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(min(now + datetime.timedelta(days=days), _not_after(ca)))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(True, False, False, False, True, False, False, False,
                                      False), critical=True)
         .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),
                        critical=False))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return _der(b.sign(ca_key, hashes.SHA256())), key


def _not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or \
        cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _looks_like_dns(name):
    return "." in name and all(c.isalnum() or c in "-." for c in name)


def _der(cert):
    from cryptography.hazmat.primitives import serialization
    return cert.public_bytes(serialization.Encoding.DER)


def key_der(key):
    """SEC 1 ECPrivateKey DER (what nx_secure_x509_certificate_initialize takes as
    NX_SECURE_X509_KEY_TYPE_EC_DER)."""
    _, _, serialization, _, _, _ = _pyca()
    return key.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def key_pem(key):
    _, _, serialization, _, _, _ = _pyca()
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def load_key(path):
    """A private key object from a PEM or DER file."""
    from cryptography.hazmat.primitives import serialization
    der, _ = load_private_key(path)
    return serialization.load_der_private_key(der, password=None)


def write_pair(directory, stem, cert_der, key):
    """stem.pem / stem.der (certificate) and stem.key.pem / stem.key.der (SEC 1 key,
    written 0600) in directory: -> the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for suffix, data, private in ((".der", cert_der, False),
                                  (".pem", Certificate(cert_der).pem.encode(), False),
                                  (".key.der", key_der(key), True),
                                  (".key.pem", key_pem(key), True)):
        path = os.path.join(directory, stem + suffix)
        _write(path, data, private)
        paths.append(path)
    return paths


def _write(path, data, private=False):
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def board_module(cert_der, key, ca_der=None, comment=""):
    """Python source a board imports (copy it to the board's /lib): CERT_DER, KEY_DER
    (SEC 1: NX_SECURE_X509_KEY_TYPE_EC_DER) and CA_DER, the DER bytes
    nx_secure_x509_certificate_initialize takes."""
    lines = ["# Certificate and key for a board, made by `python -m nxsecure cert`. "
             "The key is secret.",
             "# %s" % comment if comment else "#",
             "# nx_secure_x509_certificate_initialize(cert, CERT_DER, len(CERT_DER), None, 0,",
             "#     KEY_DER, len(KEY_DER), NX_SECURE_X509_KEY_TYPE_EC_DER)",
             "CERT_DER = %s" % _bytes_literal(cert_der),
             "KEY_DER = %s" % _bytes_literal(key_der(key))]
    if ca_der is not None:
        lines.append("# the CA a peer's certificate must chain to "
                     "(nx_secure_dtls_session_trusted_certificate_add)")
        lines.append("CA_DER = %s" % _bytes_literal(ca_der))
    return "\n".join(lines) + "\n"


def _bytes_literal(b, per_line=24):
    """A bytes literal of b, split over lines of per_line bytes each."""
    b = bytes(b)
    if len(b) <= per_line:
        return repr(b)
    return "(\n" + "\n".join("    " + repr(b[i:i + per_line])
                             for i in range(0, len(b), per_line)) + "\n)"


def _b(v):
    return v.encode() if isinstance(v, str) else bytes(v)


# ================================================================================ info
def describe_certificate(data):
    """Readable lines about every certificate in data (a file name, DER or PEM), with
    whether nxsecure's own parser accepts it (what a board will see)."""
    from . import status
    from . import x509 as nx
    out = []
    for i, der in enumerate(load_certificates(data)):
        c = Certificate(der)
        if i:
            out.append("")
        try:
            x = c._x()
            out.append("subject:     %s" % c.subject)
            out.append("issuer:      %s" % c.issuer)
            out.append("serial:      %X" % c.serial_number)
            out.append("valid:       %s .. %s" % (c.not_before.strftime("%Y-%m-%d %H:%M:%S"),
                                                  c.not_after.strftime("%Y-%m-%d %H:%M:%S")))
            out.append("public key:  %s" % _key_text(x.public_key()))
            out.append("signature:   %s" % x.signature_hash_algorithm.name
                       if x.signature_hash_algorithm else "signature:   (none named)")
            for ext in x.extensions:
                out.append("extension:   %s%s" % (_ext_text(ext), " (critical)"
                                                  if ext.critical else ""))
        except Exception as e:        # pyca cannot read it: say so, then ours
            out.append("pyca cannot read it: %s" % e)
        out.append("sha256:      %s" % c.fingerprint)
        cert = nx.NX_SECURE_X509_CERT()
        st = nx.nx_secure_x509_certificate_initialize(cert, der, len(der), None, 0, None, 0,
                                                      nx.NX_SECURE_X509_KEY_TYPE_NONE)
        out.append("nxsecure:    %s" % ("parses it (%d bytes of DER)" % len(der)
                                        if st == 0 else "cannot use it: " + status.describe(st)))
    return out


def _key_text(pub):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return "EC %s (%d bits)" % (pub.curve.name, pub.curve.key_size)
    if isinstance(pub, rsa.RSAPublicKey):
        return "RSA %d bits" % pub.key_size
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return "Ed25519 (not usable by nxsecure)"
    return type(pub).__name__


def _ext_text(ext):
    from cryptography import x509
    v = ext.value
    if isinstance(v, x509.BasicConstraints):
        return "basicConstraints CA=%s%s" % (v.ca, ", pathlen=%d" % v.path_length
                                              if v.path_length is not None else "")
    if isinstance(v, x509.SubjectAlternativeName):
        return "subjectAltName %s" % ", ".join(str(n.value) for n in v)
    if isinstance(v, x509.ExtendedKeyUsage):
        return "extendedKeyUsage %s" % ", ".join(u._name for u in v)
    if isinstance(v, x509.KeyUsage):
        names = [n for n in ("digital_signature", "content_commitment", "key_encipherment",
                             "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")
                 if getattr(v, n)]
        return "keyUsage %s" % ", ".join(names)
    return ext.oid._name


def verify_certificate(cert_data, ca_data):
    """Check cert_data's chain against the CA with nxsecure's verifier (what a board
    does): -> None, or raises DTLSError with the NetX code."""
    from . import x509 as nx
    from .const import NX_SUCCESS
    from .api import _x509_cert
    store = nx.NX_SECURE_X509_CERTIFICATE_STORE()
    keep = []
    for i, der in enumerate(load_certificates(ca_data), 1):
        c = _x509_cert(der)
        keep.append(c)
        nx.store_trusted_add(store, c, i)
    chain = load_certificates(cert_data)
    space = bytearray(sum(len(d) for d in chain) + 512 * len(chain))
    nx.store_remote_buffer_set(store, len(chain), space, len(space))
    for der in chain:
        st = nx.store_remote_add(store, der, 0, len(der))
        if st != NX_SUCCESS:
            raise DTLSError(st, "certificate")
    from . import port
    st, alert = nx.x509_chain_verify(store, 0, now=port.time_source())
    if st != NX_SUCCESS:
        raise DTLSError(st, "verify")
