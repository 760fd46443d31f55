"""X.509 certificates for nxsecure (RFC 5280): in-place DER parsing, certificate
stores with ids, path validation, name constraints, CRLs and host-name checks.
Optional: a PSK-only application never imports this package. Certificates and keys
in PEM or DER, chains and PKCS#8 keys: nxsecure_x509_certificate_load and
nxsecure_x509_chain_load (nxsecure/x509/pem.py)."""
from nxsecure.x509.cert import (  # noqa: F401
    NX_SECURE_X509_CERT,
    NX_SECURE_X509_CERTIFICATE,
    NX_SECURE_X509_DISTINGUISHED_NAME,
    NX_SECURE_X509_KEY_TYPE_NONE,
    NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER,
    NX_SECURE_X509_KEY_TYPE_EC_DER,
    NX_SECURE_X509_KEY_TYPE_HARDWARE,
    NX_SECURE_X509_KEY_TYPE_USER_DEFINED_MASK,
    NX_SECURE_X509_PRIVATE_KEY_MISMATCH,
    nx_secure_x509_certificate_initialize,
    x509_parse_in_place,
    dn_equal,
)
from nxsecure.x509.store import (  # noqa: F401
    NX_SECURE_X509_CERTIFICATE_STORE,
    store_local_add, store_local_remove, store_local_find,
    store_trusted_add, store_trusted_remove, store_trusted_find,
    store_remote_buffer_set, store_remote_reset, store_remote_add,
    store_remote_count, store_remote_get,
    store_crl_add, store_crl_remove,
)

from nxsecure.x509.verify import (  # noqa: F401
    NX_SECURE_X509_NO_TIME_SOURCE,
    NX_SECURE_X509_CRL_NOT_CURRENT,
    NX_SECURE_X509_TIME_UNCHECKED,
    X509_ROLE_ANY, X509_ROLE_SERVER, X509_ROLE_CLIENT,
    nx_secure_x509_time_function_set,
    nx_secure_x509_common_name_dns_check,
    NX_SECURE_X509_DNS_NAME,
    NX_SECURE_X509_DNS_NAME_MAX,
    nx_secure_x509_dns_name_initialize,
    x509_chain_verify,
    x509_default_verify_signature,
    x509_error_to_alert,
    signature_algorithm_info,
    x509_pk_backend_set,
    nxsecure_x509_minimum_rsa_key_size_set,
)



# PEM text, chains and PKCS#8 keys (nxsecure/x509/pem.py) load on first use: a board
# that hands over DER never carries the PEM code (~4 KB of heap on a 32-bit board).
def nxsecure_x509_certificate_load(certificate, data, length, private_key=None, key_length=0):
    """nxsecure extension: a certificate (and its key) in PEM or DER
    (nxsecure/x509/pem.py says what is accepted)."""
    from nxsecure.x509.pem import nxsecure_x509_certificate_load as load
    return load(certificate, data, length, private_key, key_length)


def nxsecure_x509_chain_load(certificates, data, length, private_key=None, key_length=0):
    """nxsecure extension: a chain, leaf first, in PEM or DER (nxsecure/x509/pem.py)."""
    from nxsecure.x509.pem import nxsecure_x509_chain_load as load
    return load(certificates, data, length, private_key, key_length)


def nx_secure_x509_crl_revocation_check(crl_data, crl_length, store, certificate):
    """NetX service: is `certificate` revoked by the DER CRL crl_data[:crl_length]?
    (nxsecure/x509/crl.py, loaded on first use: an application without CRLs does not
    carry the CRL code.)"""
    from nxsecure.x509.crl import nx_secure_x509_crl_revocation_check as check
    return check(crl_data, crl_length, store, certificate)
