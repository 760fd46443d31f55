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
