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
# Optional features of issue 14 (sleepy, roaming devices), each loaded only when the
# application turns it on (nxsecure/feature.py is the hooks' base). The full profile
# installs them all; tools/footprint.py --features measures each on every profile.
FEATURES = {
    "small-records": ("nxsecure/feature.py", "nxsecure/small_records.py"),
    "keep-alive": ("nxsecure/feature.py", "nxsecure/heartbeat.py"),
    "resumption": ("nxsecure/feature.py", "nxsecure/resumption.py"),
    "connection-id": ("nxsecure/feature.py", "nxsecure/connection_id.py"),
    "renegotiation": ("nxsecure/feature.py", "nxsecure/renegotiation.py"),
}
# The module an application imports to turn each feature on.
FEATURE_MODULE = {
    "small-records": "nxsecure.small_records",
    "keep-alive": "nxsecure.heartbeat",
    "resumption": "nxsecure.resumption",
    "connection-id": "nxsecure.connection_id",
    "renegotiation": "nxsecure.renegotiation",
}


def _features():
    out = []
    for files in FEATURES.values():
        for f in files:
            if f not in out:
                out.append(f)
    return tuple(out)


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
    full = (CORE + CLIENT + SERVER + CERTS + _tree("nxsecure/x509") + _tree("nxsecure/pk")
            + _features())
    return {
        "psk-client": CORE + CLIENT,
        "psk-server": CORE + SERVER,
        "psk": CORE + CLIENT + SERVER,      # both roles: what the two board examples need
        "full": full,
    }


def deploy_files(name):
    """What `make deploy PROFILE=name` and the mip packages install: the profile, and
    the in-memory network the on-board self-test runs its handshake over."""
    return profiles()[name] + TEST


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
    # + issue 14's hooks for the optional features (psk-client +1.2 KB .mpy, +0.8 KB heap;
    # psk-server +1.4 KB .mpy, +0.9 KB heap: docs/BOARDS.md)
    # + the renegotiation hooks (epoch base, old epoch's keys, the binding: psk-client
    # +0.6 KB .mpy, +0.6 KB heap; psk-server the same: docs/BOARDS.md)
    # + issue 19's early-record buffer: nxsecure/early.py installed, loaded on the first
    # early record only (+1.4 KB .mpy); the core's two hooks +224 B heap, +0.2 KB .mpy
    "psk-client": {"heap": 84300, "mpy": 90200},
    "psk-server": {"heap": 95300, "mpy": 99500},
    # + issue 18's verifier (name constraints, CRLs); + issue 14's optional features'
    # files (installed, loaded on use: +19.6 KB .mpy) and the core's hooks (+0.6 KB heap)
    # + renegotiation's file (+5.4 KB .mpy)
    "full": {"heap": 117500, "mpy": 189000},
}


if __name__ == "__main__":
    # python tools/profiles.py --mpy PROFILE: the profile's .mpy paths under build/mpy/
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--mpy" and sys.argv[2] in profiles():
        print(" ".join(p[:-3] + ".mpy" for p in deploy_files(sys.argv[2])))
    else:
        sys.exit("usage: python tools/profiles.py --mpy %s" % "|".join(profiles()))
