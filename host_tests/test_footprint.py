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
