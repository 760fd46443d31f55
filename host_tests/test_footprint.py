"""The footprint budget of each feature profile (issue #13), measured on the 32-bit
static unix MicroPython v1.27 (../shared/firmware): .mpy bytes a board installs and the
live heap `import nxsecure` leaves (tools/footprint.py). Two checks per profile: the
budget of the lean-core table (a strict expected failure while a profile is over it,
so it turns red the day it fits and the mark must go), and the ratchet: no change may
make a profile bigger than what it measured when its ceiling was last lowered."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import footprint  # noqa: E402
import profiles  # noqa: E402

# Profiles over their budget today (tools/footprint.py prints the figures).
OVER = {"psk-client": "heap and .mpy", "psk-server": "heap and .mpy", "full": "heap and .mpy"}

_measured = {}


def measure(name):
    if name not in _measured:
        _measured[name] = footprint.measure(name)
    return _measured[name]


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="%s over the budget" % OVER[n]))
    if n in OVER else n for n in profiles.NAMES])
def test_profile_fits_its_budget(name):
    r = measure(name)
    b = profiles.BUDGET[name]
    assert r["heap"] <= b["heap"] and r["mpy"] <= b["mpy"], (
        "%s: heap %d B (budget %d), .mpy %d B (budget %d)" % (
            name, r["heap"], b["heap"], r["mpy"], b["mpy"]))


@pytest.mark.parametrize("name", profiles.NAMES)
def test_profile_does_not_grow(name):
    r = measure(name)
    c = profiles.CEILING[name]
    print("%s: heap %d B (ceiling %d, budget %d), .mpy %d B (ceiling %d, budget %d)" % (
        name, r["heap"], c["heap"], profiles.BUDGET[name]["heap"], r["mpy"], c["mpy"],
        profiles.BUDGET[name]["mpy"]))
    assert r["heap"] <= c["heap"], "%s grew: %d B heap > ceiling %d" % (name, r["heap"], c["heap"])
    assert r["mpy"] <= c["mpy"], "%s grew: %d B .mpy > ceiling %d" % (name, r["mpy"], c["mpy"])


def test_psk_profiles_install_no_certificate_and_no_host_code():
    for name in ("psk-client", "psk-server"):
        files = profiles.profiles()[name]
        for rel in files:
            assert not rel.startswith(("nxsecure/x509/", "nxsecure/pk/")), (name, rel)
            assert rel not in ("nxsecure/kx.py", "nxsecure/certs.py"), (name, rel)
            assert rel not in profiles.HOST_ONLY, (name, rel)
    assert "nxsecure/dtls_server.py" not in profiles.profiles()["psk-client"]
    assert "nxsecure/dtls_client.py" not in profiles.profiles()["psk-server"]


_CCM_ONLY_BOARD = """
import sys
import nxsecure
from nxsecure import port, make_tls_crypto, TLS_PSK_WITH_AES_128_CCM_8
t = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
print('SUITES', t.nx_secure_tls_ciphersuite_lookup_table_size)
print('MODULES', ' '.join(sorted(k for k in sys.modules if k.startswith('nxsecure.crypto'))))
"""


def test_a_ccm_only_board_loads_ccm_alone():
    # issue #17: with cryptolib (the unix port has it), a board whose table has the one
    # CCM_8 suite loads CCM and the kernels when it makes the table, and nothing of GCM,
    # CBC, the pure-Python AES or the engine check (that one is forgotten after it ran)
    tree = measure("psk-client")["tree"]
    out = footprint.run_mp(tree, _CCM_ONLY_BOARD)
    assert "SUITES 1" in out, out
    mods = [ln for ln in out.splitlines() if ln.startswith("MODULES ")][-1].split()[1:]
    assert "nxsecure.crypto.ccm" in mods and "nxsecure.crypto.kernel" in mods, mods
    for gone in ("gcm", "cbc", "aes", "engine", "kernel_viper"):
        assert "nxsecure.crypto." + gone not in mods, mods


_STAR_IMPORT_BOARD = """
import sys
from nxsecure import *
from nxsecure import port
t = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
print('STAR', ' '.join(sorted(k for k in sys.modules if k.startswith('nxsecure.crypto.'))))
st, md = nx_secure_tls_metadata_size_calculate(nx_crypto_tls_ciphers_psk)
print('TABLE', st, md, [hex(r.nx_secure_tls_ciphersuite)
                        for r in nx_crypto_tls_ciphers_psk.nx_secure_tls_ciphersuite_lookup_table])
print('USED', ' '.join(sorted(k for k in sys.modules if k.startswith('nxsecure.crypto.'))))
import nxsecure
print('SAME', nxsecure.nx_crypto_tls_ciphers_psk is nx_crypto_tls_ciphers_psk)
"""


def test_a_star_import_builds_no_default_table_until_it_is_used():
    # `from nxsecure import *` binds nx_crypto_tls_ciphers(_psk) with every other name
    # of __all__: a board that makes its own CCM_8 table still loads no GCM or CBC code
    # (~13 KB of heap for the two default tables); the default table, once used, is the
    # four PSK suites with every mode loaded
    tree = measure("psk-client")["tree"]
    out = footprint.run_mp(tree, _STAR_IMPORT_BOARD)
    lines = dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)
    assert "nxsecure.crypto.ccm" in lines["STAR"].split(), out
    for gone in ("gcm", "cbc"):
        assert "nxsecure.crypto." + gone not in lines["STAR"].split(), out
        assert "nxsecure.crypto." + gone in lines["USED"].split(), out
    assert lines["TABLE"].startswith("0 ") and lines["TABLE"].endswith(
        "['0xc0a8', '0xc0a4', '0xa8', '0xae']"), out
    assert lines["SAME"] == "True", out


_CLIENT_ON_FULL = """
import gc, sys
gc.collect()
a = gc.mem_alloc()
import nxsecure
from nxsecure import NX_SECURE_DTLS_SESSION, nx_secure_dtls_client_session_start
gc.collect()
print('CLIENT', gc.mem_alloc() - a, 'nxsecure.server' in sys.modules)
from nxsecure import NX_SECURE_DTLS_SERVER, nx_secure_dtls_server_create
gc.collect()
print('SERVER', gc.mem_alloc() - a, 'nxsecure.server' in sys.modules)
"""


def test_a_client_on_a_two_role_profile_never_loads_the_server():
    # the full profile installs both roles: a client application's import leaves the
    # server's code on the filesystem; its first server name loads it (tools/footprint.py
    # counts it in, so the profile's figure is what a server application has live)
    tree = measure("full")["tree"]
    out = footprint.run_mp(tree, _CLIENT_ON_FULL)
    client = [ln.split() for ln in out.splitlines() if ln.startswith("CLIENT ")][-1]
    server = [ln.split() for ln in out.splitlines() if ln.startswith("SERVER ")][-1]
    assert client[2] == "False" and server[2] == "True", out
    assert int(server[1]) - int(client[1]) > 6000, out
    assert int(server[1]) <= measure("full")["heap"] + 256, out


def test_the_server_names_are_the_server_modules_and_a_star_import_gives_them():
    # nxsecure/server_services.py lists what nxsecure/server.py provides: the same set
    import nxsecure
    from nxsecure import server, server_services
    own = {n for n in dir(server) if n.startswith(("NX", "nx")) and "server" in n.lower()
           and not hasattr(nxsecure.const, n)}
    assert own == set(server_services.SERVICES)
    ns = {}
    exec("from nxsecure import *", ns)
    for n in server_services.SERVICES:
        assert ns[n] is getattr(server, n)


_P256_ONLY = """
import nxsecure
from nxsecure import pk
from nxsecure.pk import ec, native
b = pk.portable_pk_backend()
priv, pub = b.ecdh_keypair(23, lambda n: bytes(range(1, n + 1)))
print('P256', len(b.ecdh(23, priv, pub)) == 32, 'gmul' in native._NS)
# RFC 7748 6.1: Alice's public key from her private key
k = bytes.fromhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
u = (9).to_bytes(32, 'little')
from nxsecure.pk import x25519
print('X25519', x25519.x25519(k, u).hex(), 'gmul' in native._NS)
"""


def test_p256_alone_leaves_x25519s_native_code_uncompiled():
    # issue 17: on the unix port (native emitter) a P-256 operation compiles only
    # P-256's part; X25519's is compiled, checked and used on its first operation
    tree = measure("full")["tree"]
    out = footprint.run_mp(tree, _P256_ONLY)
    assert "P256 True False" in out, out
    assert ("X25519 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a True"
            in out), out



def test_a_server_name_looked_up_again_does_not_collect(monkeypatch):
    # the lazy load's collection (~10-20 ms on a board) happens once, at the load;
    # a lookup after it goes straight to the loaded server
    import gc
    import nxsecure
    assert nxsecure.NX_SECURE_DTLS_SERVER is not None       # loaded now, if it was not
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append(1))
    for n in ("nx_secure_dtls_server_start", "nx_secure_dtls_server_stop",
              "NX_SECURE_DTLS_SERVER"):
        assert getattr(nxsecure, n) is getattr(nxsecure.server, n)
    assert calls == []
