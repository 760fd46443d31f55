"""Feature profiles: which modules a board installs (like NetX's build options
NX_SECURE_TLS_CLIENT_DISABLED / _SERVER_DISABLED / PSK-only). One table, read by
`make deploy` (PROFILE=...), tools/mip_packages.py, the freeze manifests, and
tools/footprint.py, which measures each profile's heap and .mpy bytes.

Paths are relative to the repository root; a profile lists every file it installs.
`from nxsecure import *` gives every NetX name of the modules installed: nxsecure's
__init__ imports the optional pieces only when they are there.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every profile: the NetX network layer, the record layer, the engine core, PSK, the
# MicroPython port and the AEAD/HMAC code that runs over the board's cryptolib and
# hashlib.
CORE = (
    "nxsecure/__init__.py",
    "nxsecure/const.py",
    "nxsecure/const_ext.py",            # loaded on first use only
    "nxsecure/config.py",
    "nxsecure/codec.py",
    "nxsecure/netx.py",
    "nxsecure/netx_ext.py",             # loaded on first use only
    "nxsecure/record.py",
    "nxsecure/reassembly.py",
    "nxsecure/handshake.py",
    "nxsecure/dtls.py",
    "nxsecure/early.py",                # loaded on the first early record only
    "nxsecure/psk.py",
    "nxsecure/session.py",
    "nxsecure/crypto/__init__.py",
    "nxsecure/crypto/table.py",
    "nxsecure/crypto/ccm.py",
    "nxsecure/crypto/mac.py",
    "nxsecure/crypto/prf.py",
    "nxsecure/crypto/gcm.py",
    "nxsecure/crypto/cbc.py",
    "nxsecure/crypto/aes.py",           # imported by the portable backend today
    "nxsecure/port/__init__.py",
    "nxsecure/port/micropython.py",
    "nxsecure/port/rngcheck.py",        # the random source's health check, on first use
)
CLIENT = (
    "nxsecure/dtls_client.py",          # the client's state table and messages
)
SERVER = (
    "nxsecure/server.py",
    "nxsecure/cookie.py",
    "nxsecure/dtls_server.py",          # the server's state table and messages
)
CERTS = (
    "nxsecure/certs.py",
    "nxsecure/kx.py",
)
# Only where the firmware has no cryptolib (the WebAssembly build): the AES in Python.
PURE_AES = ("nxsecure/crypto/aes.py",)
# Tests and the board self-test: the in-memory network.
TEST = ("nxsecure/port/memnet.py",)
# CPython only: never in a board tree. The port's CPython half, and the Pythonic
# layer for gateways (issue #16): api (DTLSServer, DTLSConnection, connect), aio (the
# asyncio front end), evloop (the pump an event loop drives), status (code names),
# credentials and the command line.
HOST_ONLY = ("nxsecure/port/cpython.py", "nxsecure/port/crypto_pyca.py",
             "nxsecure/port/pk_pyca.py",
             "nxsecure/api.py", "nxsecure/aio.py", "nxsecure/evloop.py", "nxsecure/status.py",
             "nxsecure/credentials.py", "nxsecure/cli.py", "nxsecure/__main__.py")


def _tree(top):
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        for name in sorted(filenames):
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, name), ROOT).replace(os.sep, "/"))
    return tuple(out)


def profiles():
    """name -> tuple of repository-relative .py paths."""
    full = CORE + CLIENT + SERVER + CERTS + _tree("nxsecure/x509") + _tree("nxsecure/pk")
    return {
        "psk-client": CORE + CLIENT,
        "psk-server": CORE + SERVER,
        "full": full,
    }


# The footprint budget (issue #13): 32-bit MicroPython, .mpy loaded from the
# filesystem, gc.collect() before and after `import nxsecure`.
BUDGET = {
    "psk-client": {"heap": 32 * 1024, "mpy": 28 * 1024},
    "psk-server": {"heap": 48 * 1024, "mpy": 40 * 1024},
    "full": {"heap": 96 * 1024, "mpy": 90 * 1024},
}

NAMES = tuple(BUDGET)

# The ratchet while a budget is not met: what the profile measures today (tools/
# footprint.py) plus 2%. host_tests/test_footprint.py fails when a profile grows past it,
# so no change makes a board's fit worse unnoticed; lower it as the profile shrinks.
CEILING = {
    "psk-client": {"heap": 83700, "mpy": 87200},
    "psk-server": {"heap": 94600, "mpy": 96300},
    "full": {"heap": 115200, "mpy": 162800},   # + issue 18's verifier (name constraints, CRLs)
}
