"""Shared by the benchmark processes (CPython only): the wire protocol between the
driver and the echo/handshake processes, and the PSK and ECDHE-ECDSA material.

Every application payload starts with one tag byte:
  W  warm-up echo (not measured)     M  measured echo
  Q  the client is done: the server prints its result line and exits (no echo)
A server prints "READY" once bound, and one JSON line when it exits. A client prints
one JSON line. CPU figures are time.process_time() (user + system) of that process.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

PSK = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
IDENTITY = b"Client_identity"
WARMUP = 200                      # echoes before the measured window

# suite key (as the driver names it) -> (our constant name, mbedtls name)
SUITES = {
    "psk-ccm8": ("TLS_PSK_WITH_AES_128_CCM_8", "TLS-PSK-WITH-AES-128-CCM-8"),
    "psk-gcm": ("TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS-PSK-WITH-AES-128-GCM-SHA256"),
    "ecdhe-ecdsa-ccm8": ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                         "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8"),
}
SUITE_IDS = {"TLS_PSK_WITH_AES_128_CCM_8": 0xC0A8, "TLS_PSK_WITH_AES_128_GCM_SHA256": 0x00A8,
             "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": 0xC0AE}


def ours_suite(suite_key):
    """The suite's number when nxsecure has it: the exported constant, or (while the
    constant is not exported yet) a row of the default crypto table; else None."""
    import nxsecure
    name = SUITES[suite_key][0]
    if hasattr(nxsecure, name):
        return getattr(nxsecure, name)
    sid = SUITE_IDS[name]
    try:
        rows = nxsecure.nx_crypto_tls_ciphers.nx_secure_tls_ciphersuite_lookup_table
        if any(r.nx_secure_tls_ciphersuite == sid for r in rows):
            return sid
    except AttributeError:
        pass
    return None


def ours_has(suite_key):
    return ours_suite(suite_key) is not None


def cpu():
    return time.process_time()


def now():
    return time.perf_counter()


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def ready():
    sys.stdout.write("READY\n")
    sys.stdout.flush()


def payload(tag, size):
    return bytes((tag,)) + bytes(size - 1)


class ServerStats:
    """Counts measured echoes or completed handshakes and the CPU they took."""

    def __init__(self):
        self.count = 0
        self.cpu0 = None

    def start(self):
        if self.cpu0 is None:
            self.cpu0 = cpu()

    def tag(self, tag):
        """A received echo's first byte: True for Q (the run is over); M is counted, and
        the server's CPU clock starts at the first one."""
        if tag == 81:
            return True
        if tag == 77:
            self.start()
            self.count += 1
        return False

    def report(self, what):
        used = cpu() - self.cpu0 if self.cpu0 is not None else 0.0
        emit(role="server", what=what, count=self.count, cpu_s=used)


def measure_echoes(echo, size, seconds):
    """The client's part of every echo figure: WARMUP round trips of W, then as many of M
    as fit in `seconds`, in batches of 20 between clock reads. echo(data) makes one round
    trip and checks the reply; every implementation pays the same call for it.
    -> (count, wall_s, cpu_s) of the measured part."""
    warm = payload(87, size)
    meas = payload(77, size)
    for _ in range(WARMUP):
        echo(warm)
    count = 0
    c0 = cpu()
    t0 = now()
    end = t0 + seconds
    while True:
        for _ in range(20):
            echo(meas)
        count += 20
        t = now()
        if t >= end:
            break
    return count, t - t0, cpu() - c0


def emit_echoes(measured):
    count, wall_s, cpu_s = measured
    emit(role="client", what="echo", count=count, wall_s=wall_s, cpu_s=cpu_s)


def args(argv, **defaults):
    """--name value pairs into a dict (values typed like the defaults)."""
    out = dict(defaults)
    i = 1
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        v = argv[i + 1]
        out[k] = type(defaults[k])(v) if k in defaults and defaults[k] is not None else v
        i += 2
    return out


# --- ECDHE-ECDSA material: one P-256 self-signed certificate, made at run time ---------
def p256_cert(dirname):
    """(cert_der, key_der_pkcs8, key_der_sec1) for CN=bench, P-256, made by pyca and
    cached in dirname so both sides of a run share it."""
    cert_path = os.path.join(dirname, "p256_cert.der")
    key_path = os.path.join(dirname, "p256_key.der")
    sec1_path = os.path.join(dirname, "p256_key_sec1.der")
    if not os.path.exists(sec1_path):
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
        t = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(1)
                .not_valid_before(t - datetime.timedelta(days=1))
                .not_valid_after(t + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                .sign(key, hashes.SHA256()))
        os.makedirs(dirname, exist_ok=True)
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.DER))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        with open(sec1_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    with open(cert_path, "rb") as f:
        c = f.read()
    with open(key_path, "rb") as f:
        k = f.read()
    with open(sec1_path, "rb") as f:
        s = f.read()
    return c, k, s
