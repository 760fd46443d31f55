"""nxsecure: DTLS 1.2 with the NetX Secure DTLS API, in Python for MicroPython and CPython.

`from nxsecure import *` gives every service, control block and constant an
application uses, with NetX's names and numeric values."""
from .const import *
from .netx import *
from .session import *
from .server import *
from .crypto.table import nx_crypto_tls_ciphers, make_tls_crypto, NX_SECURE_TLS_CRYPTO

# NX_SECURE_X509_CERT / certificate services live in nxsecure.x509 (imported on demand
# so that a PSK-only application does not pay for them).

