"""nxsecure.aio: the stack driven by an asyncio event loop. Our asyncio server and
client with each other, with the NetX-API server and client, and with OpenSSL;
cancellation and timeouts as asyncio has them; timers run by the loop (no thread, no
busy waiting)."""
import asyncio
import os
import socket
import subprocess
import sys

import pytest

from dtls_helpers import CCM8, OpenSSL, PSK as NX_PSK, IDENTITY as NX_IDENTITY, free_udp_port
from nxsecure import aio, api, evloop, netx

KEY = bytes(range(16))
PSK = {"sensor-01": KEY}
LOCAL = "127.0.0.1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _echo(conn):
    async for data in conn:
        await conn.send(data)


def test_client_and_server_on_one_loop_echo_and_close():
    async def main():
        port_ = free_udp_port()
        seen = []
        async with await aio.start_server(_echo, LOCAL, port_, psk=PSK) as srv:
            srv.on_disconnected = lambda conn, reason: seen.append(reason)
            async with await aio.connect(LOCAL, port_, psk=("sensor-01", KEY)) as c:
                assert c.cipher_suite.startswith("TLS_PSK_WITH_")
                for i in range(50):
                    await c.send(b"m%d" % i)
                    assert await c.recv() == b"m%d" % i
                assert len(srv.connections) == 1
            await asyncio.sleep(0.05)
            assert srv.connections == {} and seen == [None]
    run(main())


def test_many_clients_at_once_on_one_server():
    async def one(port_, i):
        c = await aio.connect(LOCAL, port_, psk=("sensor-01", KEY))
        await c.send(b"client %d" % i)
        got = await asyncio.wait_for(c.recv(), 5)
        await c.close()
        return got

    async def main():
        port_ = free_udp_port()
        srv = await aio.start_server(_echo, LOCAL, port_, psk=PSK, max_connections=40)
        got = await asyncio.gather(*[one(port_, i) for i in range(40)])
        assert got == [b"client %d" % i for i in range(40)]
        srv.close()
        await srv.wait_closed()
    run(main())


def test_cancelled_recv_leaves_the_connection_usable():
    async def main():
        port_ = free_udp_port()
        srv = await aio.start_server(None, LOCAL, port_, psk=PSK)
        srv.on_data = lambda conn, data: conn.send_nowait(data.upper())
        c = await aio.connect(LOCAL, port_, psk=("sensor-01", KEY))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.recv(), 0.1)                  # nothing came: cancelled
        t = asyncio.ensure_future(c.recv())
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        await c.send(b"still fine")
        assert await asyncio.wait_for(c.recv(), 2) == b"STILL FINE"
        await c.close()
        assert await c.recv() == b""
        srv.close()
    run(main())


def test_refused_wrong_key_and_timeout_as_asyncio_has_them():
    async def main():
        before = len(netx._handles)
        with pytest.raises(ConnectionRefusedError):
            await aio.connect(LOCAL, free_udp_port(), psk=("sensor-01", KEY))
        port_ = free_udp_port()
        srv = await aio.start_server(_echo, LOCAL, port_, psk=PSK)
        with pytest.raises(aio.DTLSError) as e:
            await aio.connect(LOCAL, port_, psk=("sensor-01", b"\x01" * 16))
        assert e.value.alert == (2, 20)
        srv.close()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind((LOCAL, 0))
        try:
            with pytest.raises(asyncio.TimeoutError):
                await aio.connect(LOCAL, silent.getsockname()[1], psk=("a", KEY), timeout=0.2)
            task = asyncio.ensure_future(aio.connect(LOCAL, silent.getsockname()[1],
                                                     psk=("a", KEY), timeout=None))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            silent.close()
        await asyncio.sleep(0)
        assert len(netx._handles) == before          # every client socket was closed
    run(main())


def test_the_loop_runs_the_timers_without_busy_waiting():
    """A handshake to a silent server: its retransmission timer fires from the loop
    (loop.call_at) while the loop otherwise sleeps: a handful of pump passes in 1.3 s,
    where polling would make thousands."""
    async def main():
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind((LOCAL, 0))
        calls = [0]
        real = evloop.pump

        def counting(h, limit, after=None):
            calls[0] += 1
            return real(h, limit, after)
        evloop.pump = counting
        try:
            task = asyncio.ensure_future(aio.connect(LOCAL, silent.getsockname()[1],
                                                     psk=("a", KEY), timeout=None))
            await asyncio.sleep(1.3)
            hellos = 0
            while True:
                try:
                    silent.recv(2048, socket.MSG_DONTWAIT)
                    hellos += 1
                except BlockingIOError:
                    break
            assert hellos == 2                        # the ClientHello and its retransmission
            assert calls[0] < 20
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            evloop.pump = real
            silent.close()
    run(main())


def test_idle_timeout_and_events_on_the_loop():
    async def main():
        port_ = free_udp_port()
        ended = asyncio.get_running_loop().create_future()
        srv = await aio.start_server(None, LOCAL, port_, psk=PSK, idle_timeout=0.3)
        srv.on_disconnected = lambda conn, reason: ended.set_result(reason)
        c = await aio.connect(LOCAL, port_, psk=("sensor-01", KEY))
        reason = await asyncio.wait_for(ended, 3)
        assert isinstance(reason, api.DTLSTimeout)
        assert await asyncio.wait_for(c.recv(), 2) == b""          # the server's close_notify
        srv.close()
    run(main())


def test_aio_client_with_the_netx_api_server_on_the_same_loop(net):
    """The loop drives every socket of the stack, so a NetX-API server (Figure 1.2's
    callbacks) runs on it beside the asyncio client."""
    from dtls_helpers import make_server
    from nxsecure import (NX_NO_WAIT, NX_SUCCESS, nx_secure_dtls_server_session_start,
                          nx_secure_dtls_session_receive, nx_secure_dtls_packet_allocate,
                          nx_packet_data_append, nx_secure_dtls_server_session_send,
                          nx_packet_release)
    udp_port = free_udp_port()
    server, events = make_server(net, udp_port)
    events.on_connect = lambda s, a, p: nx_secure_dtls_server_session_start(s, NX_NO_WAIT)

    def echo(s):
        st, pkt = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
        if st == NX_SUCCESS:
            data = bytes(pkt._data())
            nx_packet_release(pkt)
            st, out = nx_secure_dtls_packet_allocate(s, net.pool, NX_NO_WAIT)
            nx_packet_data_append(out, data, len(data), net.pool, NX_NO_WAIT)
            assert nx_secure_dtls_server_session_send(s, out) == NX_SUCCESS
    events.on_receive = echo

    async def main():
        c = await aio.connect(LOCAL, udp_port, psk=(NX_IDENTITY, NX_PSK))
        for i in range(10):
            await c.send(b"netx %d" % i)
            assert await asyncio.wait_for(c.recv(), 2) == b"netx %d" % i
        await c.close()
    run(main())


CLIENT_SCRIPT = r"""
import sys
sys.path[:0] = [%r, %r]
from dtls_helpers import *
net = Net()
session, sock = make_client(net, psk=bytes(range(16)), identity=b"sensor-01")
st = nx_secure_dtls_client_session_start(session, sock, v4(), %d, 5 * NX_IP_PERIODIC_RATE)
assert st == NX_SUCCESS, hex(st)
for i in range(3):
    assert send_data(session, net.pool, b"netx client %%d" %% i, v4(), %d) == NX_SUCCESS
    st, pkt = nx_secure_dtls_session_receive(session, 2 * NX_IP_PERIODIC_RATE)
    assert st == NX_SUCCESS, hex(st)
    print(packet_bytes(pkt).decode())
    nx_packet_release(pkt)
nx_secure_dtls_session_end(session, NX_NO_WAIT)
"""


def test_aio_server_with_the_netx_api_client():
    async def main():
        port_ = free_udp_port()
        srv = await aio.start_server(_echo, LOCAL, port_, psk=PSK)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT_SCRIPT % (ROOT, os.path.join(ROOT, "host_tests"),
                                                   port_, port_),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert out.decode().split() == ["netx", "client", "0", "netx", "client", "1",
                                        "netx", "client", "2"]
        srv.close()
    run(main())


def test_aio_client_with_openssl_s_server():
    udp_port = free_udp_port()
    peer = OpenSSL.s_server(udp_port, CCM8)
    try:
        assert peer.wait_output(b"ACCEPT", 10, "any"), peer.transcript()

        async def main():
            c = await aio.connect(LOCAL, udp_port, psk=(NX_IDENTITY, NX_PSK),
                                  suites=["PSK-AES128-CCM8"])
            assert c.cipher_suite == "TLS_PSK_WITH_AES_128_CCM_8"
            await c.send(b"hello openssl\n")
            assert await asyncio.get_running_loop().run_in_executor(
                None, peer.wait_output, b"hello openssl", 5)
            peer.write(b"hello nxsecure\n")
            assert await asyncio.wait_for(c.recv(), 5) == b"hello nxsecure\n"
            await c.close()
        run(main())
        assert peer.wait_exit(10) == 0, peer.transcript()
    finally:
        peer.close()


def test_openssl_s_client_with_the_aio_server():
    async def main():
        port_ = free_udp_port()
        srv = await aio.start_server(_echo, LOCAL, port_,
                                     psk={NX_IDENTITY: NX_PSK}, suites=["PSK-AES128-GCM-SHA256"])
        cli = OpenSSL(["s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % port_, "-psk",
                       NX_PSK.hex(), "-psk_identity", NX_IDENTITY.decode(), "-cipher",
                       "PSK-AES128-GCM-SHA256", "-quiet"])
        loop = asyncio.get_running_loop()
        try:
            cli.write(b"ping from openssl\n")
            ok = await loop.run_in_executor(None, cli.wait_output, b"ping from openssl", 10)
            assert ok, cli.transcript()
            (conn,) = srv.connections.values()
            assert conn.cipher_suite == "TLS_PSK_WITH_AES_128_GCM_SHA256"
            assert conn.psk_identity == NX_IDENTITY
        finally:
            cli.close()
            srv.close()
    run(main())
