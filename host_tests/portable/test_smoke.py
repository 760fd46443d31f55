# Smoke test that runs on CPython (pytest) and in MicroPython (tools/mp_test_runner.py):
# the constants module imports and carries NetX's numeric codes.
from nxsecure import const


def test_netx_return_codes_match_nx_api():
    assert const.NX_SUCCESS == 0x00
    assert const.NX_PTR_ERROR == 0x07
    assert const.NX_INVALID_PARAMETERS == 0x4D


def test_dtls_session_pool_exhaustion_code():
    assert const.NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS == 0x123
