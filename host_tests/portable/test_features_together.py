# All four optional features on at once, both ends (a sleepy, roaming sensor and its
# gateway): small records, keep-alive, resumption by ticket and Connection ID, through a
# full handshake, a resumed one, keep-alives and an address change. Runs under pytest
# and on MicroPython.
from nxsecure import *
from nxsecure.small_records import (nxsecure_dtls_session_max_fragment_length_set,
                                    nxsecure_dtls_server_record_size_limit_set,
                                    nxsecure_dtls_session_record_size_get)
from nxsecure.heartbeat import nxsecure_dtls_session_keep_alive_set, nxsecure_dtls_server_keep_alive_set
from nxsecure.resumption import (nxsecure_dtls_session_resumption_enable,
                                 nxsecure_dtls_server_session_ticket_enable,
                                 nxsecure_dtls_session_resumed_get)
from nxsecure.connection_id import (nxsecure_dtls_session_connection_id_set,
                                    nxsecure_dtls_server_connection_id_set,
                                    nxsecure_dtls_session_connection_id_get)

from dtls_pair import Pair
from test_connection_id import _move_client, _server_session


def test_a_sleepy_roaming_sensor_and_its_gateway():
    p = Pair(TLS_PSK_WITH_AES_128_CCM_8)
    state = bytearray(300)
    try:
        assert nxsecure_dtls_server_record_size_limit_set(p.server, 1024) == NX_SUCCESS
        assert nxsecure_dtls_server_keep_alive_set(p.server, 1000, 100, 2) == NX_SUCCESS
        assert nxsecure_dtls_server_session_ticket_enable(p.server, 6000) == NX_SUCCESS
        assert nxsecure_dtls_server_connection_id_set(p.server, 6) == NX_SUCCESS
        assert nxsecure_dtls_session_max_fragment_length_set(p.client, 512) == NX_SUCCESS
        assert nxsecure_dtls_session_keep_alive_set(p.client, 3, 2, 2) == NX_SUCCESS
        assert nxsecure_dtls_session_resumption_enable(p.client, state, len(state)) == NX_SUCCESS
        assert nxsecure_dtls_session_connection_id_set(p.client, b"", 0) == NX_SUCCESS
        for round_ in range(2):
            assert p.connect() == NX_SUCCESS
            assert nxsecure_dtls_session_resumed_get(p.client)[1] == (round_ == 1)
            assert nxsecure_dtls_session_record_size_get(p.client) == (NX_SUCCESS, 512, 512)
            assert len(nxsecure_dtls_session_connection_id_get(p.client)[2]) == 6
            assert p.echo(b"reading %d" % round_) == b"reading %d" % round_
            c = p.client._engine
            for _ in range(100):
                if c.hb_answered >= 1:
                    break
                tx_thread_sleep(1)
            assert c.hb_answered >= 1 and c.state == 20
            if round_ == 1:
                s = _server_session(p)
                peer = s._peer
                _move_client(p)
                assert p.echo(b"moved") == b"moved"
                assert s._peer != peer
            assert nx_secure_dtls_session_end(p.client, NX_NO_WAIT) == NX_SUCCESS
            for _ in range(10):
                tx_thread_sleep(1)
        assert p.errors == [] and len(p.disconnects) == 2
    finally:
        p.close()
