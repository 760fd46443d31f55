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
    "nxsecure/crypto/defaults.py",      # NetX's default tables, on first mention
    "nxsecure/crypto/ccm.py",
    "nxsecure/crypto/mac.py",
    "nxsecure/crypto/prf.py",
    "nxsecure/crypto/prf_saved.py",     # where the port can copy hash states (hash_state)
    "nxsecure/crypto/gcm.py",
    "nxsecure/crypto/cbc.py",
    "nxsecure/crypto/kernel.py",
    "nxsecure/crypto/kernel_viper.py",  # read once to compile the native kernels
    "nxsecure/crypto/engine.py",        # the AES engine's start-up check, then dropped
    "nxsecure/crypto/aes.py",           # loaded only where cryptolib is missing or fails
    "nxsecure/port/__init__.py",
    "nxsecure/port/micropython.py",
    "nxsecure/port/rngcheck.py",        # the random source's health check, on first use
    "nxsecure/port/hash_state.py",      # hash states for the PRF, at crypto_backend()
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
    "nxsecure/crypto/suites384.py",     # the AES-256 suites (described to the table)
    "nxsecure/crypto/sha384_prf.py",    # their SHA-384 PRF and transcript, on first use
    "nxsecure/crypto/sha512.py",        # SHA-384/512 where hashlib has none (SHA-384 suites,
    "nxsecure/crypto/sha512_viper.py",  # ECDSA-SHA384): its native compression's source
)
# With both roles: the server's names, so that the package loads the server on first
# use and a client application never carries it (a server-only profile loads it at once)
BOTH = (
    "nxsecure/server_services.py",
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
    # issue 15: server names (SNI, RFC 6066 3) and the host name a client checks; what a
    # handshake negotiated and the peer's chain (getters, no hooks)
    "server-name": ("nxsecure/feature.py", "nxsecure/sni.py"),
    "session-info": ("nxsecure/session_info.py",),
    "alpn": ("nxsecure/feature.py", "nxsecure/alpn.py"),    # RFC 7301, PSK or certificates
    # the AES-256 suites for a PSK board (TLS_PSK_WITH_AES_256_GCM_SHA384, _CCM, _CCM_8);
    # the certificate code installs them anyway
    "aes-256": ("nxsecure/crypto/suites384.py", "nxsecure/crypto/sha384_prf.py",
                "nxsecure/crypto/sha512.py", "nxsecure/crypto/sha512_viper.py"),
}
# The module an application imports to turn each feature on.
FEATURE_MODULE = {
    "small-records": "nxsecure.small_records",
    "keep-alive": "nxsecure.heartbeat",
    "resumption": "nxsecure.resumption",
    "connection-id": "nxsecure.connection_id",
    "renegotiation": "nxsecure.renegotiation",
    "server-name": "nxsecure.sni",
    "session-info": "nxsecure.session_info",
    "alpn": "nxsecure.alpn",
    "aes-256": "nxsecure.crypto.suites384",
}


def _features():
    out = []
    for files in FEATURES.values():
        for f in files:
            if f not in out:
                out.append(f)
    return tuple(out)


# Tests and the board self-test: the in-memory network.
TEST = ("nxsecure/port/memnet.py",)
# CPython only: never in a board tree. The port's CPython half, and the Pythonic
# layer for gateways (issue #16): api (DTLSServer, DTLSConnection, connect), aio (the
# asyncio front end), evloop (the pump an event loop drives), status (code names),
# credentials and the command line; record_host, the struct-packed record path.
HOST_ONLY = ("nxsecure/port/cpython.py", "nxsecure/port/crypto_pyca.py",
             "nxsecure/record_host.py",
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
    full = []
    for f in (CORE + CLIENT + SERVER + BOTH + CERTS + _tree("nxsecure/x509") + _tree("nxsecure/pk")
              + _features()):
        if f not in full:           # the aes-256 feature's files are CERTS' too
            full.append(f)
    full = tuple(full)
    return {
        "psk-client": CORE + CLIENT,
        "psk-server": CORE + SERVER,
        "psk": CORE + CLIENT + SERVER + BOTH,   # both roles: what the two board examples need
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
    # + issue 17's crypto kernels (kernel.py, the viper source kernel_viper.py the board
    # compiles once and drops, the engine check): +13.0 KB .mpy installed; `import
    # nxsecure` -160 B heap (the engine check left the package)
    # (measured after both: psk-client 83 872 B heap, 101 477 B .mpy; psk-server 94 864 /
    # 110 709: tools/footprint.py)
    # + issue 19's early-record buffer: nxsecure/early.py installed, loaded on the first
    # early record only (+1.4 KB .mpy); the core's two hooks +224 B heap, +0.2 KB .mpy
    # (measured after all of these: psk-client 84 000 B heap, 103 117 B .mpy; psk-server
    # 94 992 / 112 332: tools/footprint.py)
    # + issue 19's early resend and early.py's record_size_limit check (early.py is
    # loaded on the first early record only): +0.4 KB .mpy, heap unchanged
    # + issue 17's second round: the record's header/nonce/additional-data kernels
    # (kernel.py, kernel_viper.py), loaded on first use: +1.5 KB .mpy installed;
    # `import nxsecure` -64 B heap (record.py's byte loops went to the kernels)
    # (measured after both: psk-client 83 936 B heap, 105 079 B .mpy; psk-server
    # 94 896 / 114 286: tools/footprint.py)
    # + issue 17's third round: whole handshake messages dispatched from the record
    # (dtls.py, reassembly.py: +0.4 KB heap), records sealed and opened by a generator
    # per direction (ccm.py; the kernels' sources shrank: -0.9 KB .mpy) and the server's
    # lazy load on two-role profiles (+0.1 KB heap here, where it is never used)
    # (measured after all of these: psk-client 84 304 B heap, 104 452 B .mpy; psk-server
    # 95 136 / 113 597: tools/footprint.py)
    # + issue 17's fourth round: the default tables built on first use
    # (crypto/defaults.py, -0.4 KB heap, +0.4 KB .mpy); plaintext records, the cookie
    # and the handshake's HMAC pads in frames within 11 words (record.py, cookie.py,
    # mac.py: more, smaller functions, +0.2 KB heap on psk-server, whose cookie jar
    # psk-client does not load); the handshake path's fewer calls (dtls.py, +0.1 KB)
    # (measured after all of these: psk-client 84 448 B heap, 105 746 B .mpy;
    # psk-server 95 376 / 114 932: tools/footprint.py)
    # + issue 17's fifth round: the NetX pump rework (net17), the handshake's frames and
    # allocations (hellos parsed in place, record and CCM state in fewer attributes, the
    # stateless path without Reader objects): +0.3 KB .mpy installed, import heap
    # psk-client -144 B, psk-server -560 B (its heap ceiling comes down to match)
    # (measured after all of these: psk-client 84 304 B heap, 106 084 B .mpy;
    # psk-server 94 816 / 115 262: tools/footprint.py)
    # + issue 17's sixth round: a collection after code loads on first use
    # (port.loaded/port.load: the package's core, the server, each session role), the
    # hello extensions parsed in place (hs19), the client's session start taking the
    # stack lock itself: +0.15 KB .mpy, psk-server heap +0.03 KB
    # (measured after all of these: psk-client 84 416 B heap, 106 328 B .mpy;
    # psk-server 94 928 / 115 506: tools/footprint.py); since ab3e0ec footprint.py runs
    # the tree on a relative path, the same in every clone (the absolute one had moved
    # the heap figure by a block between checkouts): psk-client 84 400 B, psk-server
    # 94 912 B, full 119 456 B
    # + issue 17's seventh round: hash states copied where the firmware allows it
    # (port/hash_state.py, crypto/prf_saved.py: installed, loaded by crypto_backend()
    # where the check passes, +1.6 KB .mpy) and the transcript's one running hash
    # (dtls.py), the master secret's keyed states made once per handshake (dtls.py),
    # the cookie secrets' once per secret (cookie.py): import heap psk-client +464 B,
    # psk-server +816 B, for a PSK handshake ~4.1 ms faster on the RP2040
    # (docs/BOARDS.md, "Seventh round")
    # (measured: psk-client 84 864 B heap, 108 319 B .mpy; psk-server 95 728 /
    # 117 724: tools/footprint.py)
    "psk-client": {"heap": 84900, "mpy": 108350},
    "psk-server": {"heap": 95800, "mpy": 117750},
    # + issue 18's verifier (name constraints, CRLs); + issue 14's optional features'
    # files (installed, loaded on use: +19.6 KB .mpy) and the core's hooks (+0.6 KB heap)
    # + renegotiation's file (+5.4 KB .mpy)
    # + issue 15's certificate-side modules (server names, session getters, PEM/PKCS#8,
    # SHA-384/512 for boards, ALPN, P-384 groups, the AES-256 suites: installed, loaded on
    # use; +24.9 KB .mpy) and what the certificate code loads with `import nxsecure` (the
    # AES-256 suites described to the table, the NetX group services: +3.0 KB heap)
    # + issue 17's kernels and P-256/X25519 native code (native.py, native_viper.py):
    # +31.6 KB .mpy (measured 118 848 B heap, 242 728 B .mpy: tools/footprint.py)
    # + issue 19's early.py and hooks (measured 118 976 B heap, 244 351 B .mpy); its
    # early resend and size-limit check (118 976 B heap, 244 794 B .mpy)
    # + issue 17's fourth round (see above): +0.4 KB .mpy (249 601 B: tools/footprint.py)
    # + issue 17's sixth round (see above): +0.15 KB .mpy (250 228 B)
    # + issue 17's seventh round (see above): +2.2 KB .mpy (120 176 B heap, 252 359 B)
    "full": {"heap": 121500, "mpy": 252400},
}


if __name__ == "__main__":
    # python tools/profiles.py --mpy PROFILE: the profile's .mpy paths under build/mpy/
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--mpy" and sys.argv[2] in profiles():
        print(" ".join(p[:-3] + ".mpy" for p in deploy_files(sys.argv[2])))
    else:
        sys.exit("usage: python tools/profiles.py --mpy %s" % "|".join(profiles()))
