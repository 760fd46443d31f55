"""nxsecure: DTLS 1.2 with the NetX Secure DTLS API, in Python for MicroPython and CPython.

`from nxsecure import *` gives every service, control block and constant an
application uses, with NetX's names and numeric values."""
from .const import *
from .netx import *
from .session import *
# The optional pieces of a feature profile (tools/profiles.py): a board installs only
# what its profile needs, and gets every NetX name of what it installed.
try:
    from .server import *
except ImportError:          # a client-only profile
    pass
try:
    from .certs import *
except ImportError:          # a PSK-only profile
    pass
from .crypto.table import (nx_crypto_tls_ciphers, nx_crypto_tls_ciphers_psk, make_tls_crypto,
                           NX_SECURE_TLS_CRYPTO)

# The certificate services above import the X.509 code on first use only. The X.509
# control block and its services (NX_SECURE_X509_CERT, nx_secure_x509_certificate_initialize,
# nx_secure_x509_common_name_dns_check, ...) come from nxsecure.x509, so that a PSK-only
# application never loads them.

# What `from nxsecure import *` gives: NetX's names (services, control blocks, constants,
# the IP_ADDRESS macro), the nxsecure_ extensions, sizeof() and make_tls_crypto(). Not
# the stack's modules and internals: an application's own `port`, `server`, `session`
# or `config` is never replaced by a star import. A tuple: ~1.1 KB on a 32-bit board.
__all__ = tuple(_n for _n in globals()
                if _n.startswith(("NX", "nx", "TX", "tx", "TLS_"))
                or _n in ("sizeof", "make_tls_crypto", "IP_ADDRESS"))
