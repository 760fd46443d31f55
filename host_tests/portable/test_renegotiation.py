# Secure renegotiation (nxsecure/renegotiation.py, RFC 5746) between our client and our
# server, both roles starting it, refused by default and without the binding, data across
# the epoch change, a wrong verify_data. Runs under pytest and on MicroPython.
from nxsecure import *
from nxsecure.renegotiation import (
    nxsecure_dtls_session_renegotiate, nxsecure_dtls_session_renegotiation_enable,
    nxsecure_dtls_server_renegotiation_enable, nxsecure_dtls_session_renegotiate_callback_set,
    nxsecure_dtls_server_renegotiate_callback_set, Renegotiation,
)
from nxsecure.feature import installed

from dtls_pair import Pair

SUITE = TLS_PSK_WITH_AES_128_CCM_8


def _md(p):
    st, md = nx_secure_tls_metadata_size_calculate(p.table)
    return md


def _enable(p, client=True, server=True):
    md = _md(p)
    if client:
        p.client_md2 = bytearray(md)
        assert nxsecure_dtls_session_renegotiation_enable(p.client, p.client_md2, md) == 0
    if server:
        n = len(p.server._sessions)
        p.server_md2 = bytearray(n * md)
        assert nxsecure_dtls_server_renegotiation_enable(p.server, p.server_md2, n * md) == 0


class _Connected:
    """with _Connected(...) as p: a Pair with renegotiation enabled on the chosen ends,
    connected; closed afterwards."""

    def __init__(self, client=True, server=True):
        self.p = Pair(SUITE)
        self.ends = (client, server)

    def __enter__(self):
        try:
            _enable(self.p, *self.ends)
            assert self.p.connect() == NX_SUCCESS
        except BaseException:
            self.p.close()
            raise
        return self.p

    def __exit__(self, *exc):
        self.p.close()


def _renegotiate(p, session, ticks=400):
    return nxsecure_dtls_session_renegotiate(session, ticks)


def _server_session(p):
    for s in p.server._sessions:
        if s._engine.state == 20:
            return s
    return None


def test_services_check_arguments():
    p = Pair(SUITE)
    try:
        md = _md(p)
        assert nxsecure_dtls_session_renegotiation_enable(None, bytearray(md), md) == NX_PTR_ERROR
        assert nxsecure_dtls_session_renegotiation_enable(p.client, bytearray(8), 8) == \
            NX_INVALID_PARAMETERS
        assert nxsecure_dtls_session_renegotiation_enable(p.server._sessions[0],
                                                          bytearray(md), md) == NX_PTR_ERROR
        assert nxsecure_dtls_server_renegotiation_enable(p.client, None, 0) == NX_PTR_ERROR
        assert nxsecure_dtls_session_renegotiate(p.client, NX_NO_WAIT) == \
            NX_SECURE_TLS_NO_RENEGOTIATION_ERROR           # not enabled
        assert nxsecure_dtls_session_renegotiate_callback_set(p.client, None) == \
            NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
        _enable(p)
        assert installed(p.client._engine, Renegotiation) is not None
        # not connected yet
        assert nxsecure_dtls_session_renegotiate(p.client, NX_NO_WAIT) == \
            NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE
        assert nxsecure_dtls_session_renegotiation_enable(p.client, None, 0) == NX_SUCCESS
        assert p.client._engine.x is None
    finally:
        p.close()


def _check_roundtrip(p, payload):
    assert p.echo(payload) == payload


def test_client_starts_renegotiation():
    with _Connected() as p:
        _check_roundtrip(p, b"before")
        c = p.client._engine
        s = _server_session(p)
        base = c.record.base
        st = _renegotiate(p, p.client)
        assert st == NX_SUCCESS, p.why(st)
        # RFC 6347 4.1: the new keys are the next epoch, on both sides
        assert c.record.base == base + 1 and s._engine.record.base == base + 1
        assert c.state == 20 and s._engine.state == 20
        assert installed(c, Renegotiation).count == 1
        assert installed(s._engine, Renegotiation).count == 1
        _check_roundtrip(p, b"after")
        # and again: epoch 3
        assert _renegotiate(p, p.client) == NX_SUCCESS
        assert c.record.base == base + 2
        _check_roundtrip(p, b"after two")
        assert p.errors == []


def test_server_starts_renegotiation():
    with _Connected() as p:
        _check_roundtrip(p, b"before")
        s = _server_session(p)
        st = _renegotiate(p, s)
        assert st == NX_SUCCESS, p.why(st)
        _check_roundtrip(p, b"after")      # (the server's last flight reaches the client)
        c = p.client._engine
        assert c.record.base == 1 and s._engine.record.base == 1
        assert installed(c, Renegotiation).count == 1
        assert p.errors == []


def test_data_flows_while_renegotiating():
    with _Connected() as p:
        c = p.client._engine
        # the client's ClientHello goes out; before the server answers, data in the
        # old epoch from the client reaches the server and comes back
        assert nxsecure_dtls_session_renegotiate(p.client, NX_NO_WAIT) in (NX_CONTINUE,
                                                                           NX_SUCCESS)
        _check_roundtrip(p, b"during")
        for _ in range(300):
            if c.reneg is None:
                break
            p.serve()
            tx_thread_sleep(1)
        assert c.reneg is None and c.state == 20 and c.record.base == 1
        _check_roundtrip(p, b"after")


def test_a_failed_renegotiation_ends_the_session():
    # a renegotiation that fails (here: its handshake gives up) leaves no epoch to send in
    with _Connected() as p:
        c = p.client._engine
        assert nxsecure_dtls_session_renegotiate(p.client, NX_NO_WAIT) in (NX_CONTINUE,
                                                                           NX_SUCCESS)
        if c.reneg is not None:
            c._fail(NX_SECURE_TLS_HANDSHAKE_TIMEOUT, None)
        assert c.state == 22 and c.reneg is None
        st, pkt = nx_secure_dtls_packet_allocate(p.client, p.pool, NX_NO_WAIT)
        assert st == NX_SUCCESS
        assert nx_packet_data_append(pkt, b"x", 1, p.pool, NX_NO_WAIT) == 0
        assert nx_secure_dtls_session_send(p.client, pkt, p.addr, 5684) == NX_NOT_CONNECTED
        nx_packet_release(pkt)


def test_refused_by_default():
    with _Connected(server=False) as p:             # the server does not allow it
        st = _renegotiate(p, p.client)
        assert st == NX_SECURE_TLS_NO_RENEGOTIATION_ERROR, p.why(st)
        s = _server_session(p)
        assert s._engine.record.base == 0
        c = p.client._engine
        assert c.state == 20 and c.record.base == 0 and c.last_alert == (1, 100)
        _check_roundtrip(p, b"still the old keys")


def test_client_declines_servers_hello_request_by_default():
    with _Connected(client=False) as p:
        s = _server_session(p)
        st = _renegotiate(p, s)
        assert st == NX_SECURE_TLS_NO_RENEGOTIATION_ERROR, p.why(st)
        assert s._engine.state == 20 and s._engine.last_alert == (1, 100)
        _check_roundtrip(p, b"still the old keys")


def test_callback_declines():
    with _Connected() as p:
        seen = []

        def no(session):
            seen.append(session)
            return NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
        assert nxsecure_dtls_server_renegotiate_callback_set(p.server, no) == NX_SUCCESS
        assert _renegotiate(p, p.client) == NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
        assert len(seen) == 1
        assert nxsecure_dtls_server_renegotiate_callback_set(p.server, None) == NX_SUCCESS
        assert _renegotiate(p, p.client) == NX_SUCCESS
        _check_roundtrip(p, b"ok")


def test_refused_without_the_binding():
    # the initial handshake did not negotiate RFC 5746: neither side renegotiates
    with _Connected() as p:
        c = p.client._engine
        s = _server_session(p)
        c.secure_reneg = False
        assert nxsecure_dtls_session_renegotiate(p.client, NX_NO_WAIT) == \
            NX_SECURE_TLS_RENEGOTIATION_FAILURE
        s._engine.secure_reneg = False
        c.secure_reneg = True
        # the client tries anyway: the server answers no_renegotiation
        assert _renegotiate(p, p.client) == NX_SECURE_TLS_NO_RENEGOTIATION_ERROR
        assert s._engine.record.base == 0
        _check_roundtrip(p, b"still")


def test_wrong_verify_data_fails_with_handshake_failure():
    with _Connected() as p:
        c = p.client._engine
        s = _server_session(p)
        # the client binds to a Finished the server never saw
        c.vd_sent = bytes(12)
        st = _renegotiate(p, p.client)
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        assert c.last_alert == (2, 40)                  # handshake_failure
        assert s._engine.error == NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR


def test_server_checks_the_scsv_in_a_renegotiation():
    # RFC 5746 3.7: a renegotiating ClientHello with the SCSV is refused
    import nxsecure.dtls_client as DC
    push = DC.push_client_hello

    def with_scsv(w, random, cookie, suites, **kw):
        push(w, random, cookie, list(suites) + [0x00FF], **kw)
    with _Connected() as p:
        DC.push_client_hello = with_scsv
        try:
            st = _renegotiate(p, p.client)
        finally:
            DC.push_client_hello = push
        assert st == NX_SECURE_TLS_ALERT_RECEIVED, p.why(st)
        assert p.client._engine.last_alert == (2, 40)
