"""NetX's default crypto tables, nx_crypto_tls_ciphers and nx_crypto_tls_ciphers_psk, built at their first use."""
# `from nxsecure import *` binds every name of the package's __all__, these two with
# them, so naming a table must not build it: its rows load every mode they name (GCM's
# and CBC's code, GCM's native kernels: ~13 KB of a board's heap for the two tables),
# which an application that makes its own table (a board's, with the one suite it
# speaks) would otherwise carry all the same. A name gives a _Default; the table is
# built when one of its fields is first read, and its fields then become the object's.
from nxsecure.crypto import table as _table

_DEFAULT = {}


class _Default(_table.NX_SECURE_TLS_CRYPTO):
    def __init__(self, name):
        self._todo = name

    def __getattr__(self, name):         # only for a field not set yet: build the table
        which = self._todo
        if which is None:
            raise AttributeError(name)
        suites = None           # the PSK-only table: the four PSK suites
        if which == "nx_crypto_tls_ciphers":
            # NetX's nx_crypto_tls_ciphers: every certificate and PSK suite the platform
            # can do (ECDHE_PSK only on request: a PSK peer would otherwise pull in the
            # ECC code)
            suites = [s for s in _table.ALL_SUITES if s != 0xC037]
        b = _DEFAULT.get("backend")
        if b is None:
            b = _DEFAULT["backend"] = _platform_backend()
        t = _table.make_tls_crypto(b, suites, strict=suites is None)
        for k, v in t.__dict__.items():
            setattr(self, k, v)
        self._todo = None
        return getattr(self, name)


def table(name):
    """The default table `name` (built at its first use)."""
    if name not in ("nx_crypto_tls_ciphers", "nx_crypto_tls_ciphers_psk"):
        raise AttributeError(name)
    t = _DEFAULT.get(name)
    if t is None:
        t = _DEFAULT[name] = _Default(name)
    return t


def _platform_backend():
    backend = None
    try:
        from nxsecure import port
        backend = port.crypto_backend()
    except (ImportError, AttributeError):
        backend = None
    if backend is None:
        from nxsecure.crypto import portable_backend
        backend = portable_backend()
    return backend
