"""nxsecure: DTLS 1.2 with the NetX Secure DTLS API, in Python for MicroPython and CPython.

`from nxsecure import *` gives every service, control block and constant an
application uses, with NetX's names and numeric values."""
from .const import *
from .netx import *
from .session import *
# The core (netx, session, dtls, handshake, record and what they import) is loaded: a
# collection here lets the rest of the import and the application's set-up fill the
# holes its loading leaves (port.loaded). On the emulated RP2040 `import nxsecure` takes
# ~22 ms more, once (605 -> 627 ms), and a PSK-CCM_8 handshake ~7 ms less, every time
# (`python bench/boards.py 4`: 78.1 -> 70.8 ms; docs/BOARDS.md, "Sixth round").
port.loaded()
# The optional pieces of a feature profile (tools/profiles.py): a board installs only
# what its profile needs, and gets every NetX name of what it installed.
# With both roles installed, the server (nxsecure/server.py, its datagram path and
# cookies: ~10 KB of heap) loads on first use of one of its names, which
# nxsecure/server_services.py lists: a client application never carries it.
try:
    from .server_services import SERVICES as _SERVER, load as _server
except ImportError:
    _SERVER = ()
    try:
        from .server import *   # a server-only profile: what it is there for
    except ImportError:         # a client-only profile
        pass
try:
    from .certs import *
    from .const_ext import *  # the X.509 codes and certificate suites with them
except ImportError:          # a PSK-only profile
    pass
from .crypto.table import make_tls_crypto, NX_SECURE_TLS_CRYPTO

# NetX services a DTLS application rarely calls live in nxsecure/netx_ext.py and load on
# first use: `nxsecure.nx_udp_socket_send` and `from nxsecure import nx_udp_socket_send`
# work as for any other name (and a star import loads them with the rest).
_EXT = ("nx_packet_pool_info_get", "nx_packet_data_retrieve", "nxd_ipv6_enable",
        "nxd_ipv6_address_set", "nx_ip_address_get", "nx_ip_status_check", "nx_icmp_enable",
        "nx_udp_socket_receive_notify", "nx_udp_socket_send", "nxd_udp_socket_send",
        "nx_udp_socket_receive", "nx_udp_source_extract", "nxd_udp_source_extract",
        "nxsecure_ip_thread_start", "nxsecure_ip_thread_stop",
        "nxsecure_dtls_session_disconnect_reason_get")


_TABLES = ("nx_crypto_tls_ciphers", "nx_crypto_tls_ciphers_psk")


def __getattr__(name):
    if name in _SERVER:
        return _server(name)
    if name in _EXT:
        from .netx import _ext
        return getattr(_ext(), name)
    if name in _TABLES:                   # built on first use (crypto/table.py)
        from .crypto import table
        return getattr(table, name)
    # MicroPython asks a package's __getattr__ before it imports a submodule
    # (`from . import kx`): the submodule is imported here
    if not name.startswith("__"):
        try:
            return __import__("nxsecure." + name, None, None, ("__name__",), 0)
        except ImportError:
            pass
    raise AttributeError(name)

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
                or _n in ("sizeof", "make_tls_crypto", "IP_ADDRESS")) + _EXT + _TABLES + _SERVER
