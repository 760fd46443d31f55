# Smoke test that runs on CPython (pytest) and in MicroPython (tools/mp_test_runner.py):
# the constants module imports and carries NetX's numeric codes. (Names are imported
# from nxsecure.const directly: the package re-exports its names, so the attribute
# nxsecure.const may be the const() shim rather than the module.)
from nxsecure.const import (NX_INVALID_PARAMETERS, NX_PTR_ERROR,
                            NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS, NX_SUCCESS)


def test_netx_return_codes_match_nx_api():
    assert NX_SUCCESS == 0x00
    assert NX_PTR_ERROR == 0x07
    assert NX_INVALID_PARAMETERS == 0x4D


def test_dtls_session_pool_exhaustion_code():
    assert NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS == 0x123


def test_star_import_gives_netx_names_and_leaves_the_application_its_own():
    ns = {"port": 5684, "server": "mine"}
    exec("from nxsecure import *", ns)
    for name in ("nx_secure_dtls_session_create", "NX_SECURE_DTLS_SESSION", "NX_SUCCESS",
                 "nx_packet_pool_create", "TLS_PSK_WITH_AES_128_CCM_8", "tx_thread_sleep",
                 "nxsecure_dtls_server_idle_timeout_set", "sizeof", "IP_ADDRESS",
                 "make_tls_crypto"):
        assert name in ns, name
    # the stack's modules and internals stay out of the application's namespace
    assert ns["port"] == 5684 and ns["server"] == "mine"
    for name in ("session", "record", "config", "const", "netx", "IDLE", "ERROR", "Dtls"):
        assert name not in ns, name
