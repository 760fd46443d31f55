"""python-mbedtls (Mbed TLS 2.28) configuration for the benchmark processes."""
import os
from common import PSK, IDENTITY, SUITES, ROOT, p256_cert

from mbedtls import tls, x509, pk

CERT_DIR = os.path.join(ROOT, "build", "bench")


def config(suite_key, server):
    kw = dict(ciphers=[SUITES[suite_key][1]],
              lowest_supported_version=tls.DTLSVersion.DTLSv1_2,
              highest_supported_version=tls.DTLSVersion.DTLSv1_2)
    if suite_key.startswith("ecdhe"):
        cert_der, key_der, _ = p256_cert(CERT_DIR)
        crt = x509.CRT.from_DER(cert_der)
        if server:
            kw["certificate_chain"] = ([crt], pk.ECC.from_DER(key_der))
            kw["validate_certificates"] = False      # no client certificate asked for
        else:
            store = tls.TrustStore()
            store.add(crt)
            kw["trust_store"] = store
            kw["validate_certificates"] = True
    elif server:
        kw["pre_shared_key_store"] = {IDENTITY.decode(): PSK}
    else:
        kw["pre_shared_key"] = (IDENTITY.decode(), PSK)
    return tls.DTLSConfiguration(**kw)
