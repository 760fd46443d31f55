"""The Pythonic path of `make bench` (issue #16): echo through nxsecure.aio (asyncio
server and client) and nxsecure.api (blocking), and an asyncio server holding many
connected sessions.

    python bench/pythonic.py server|client --api aio|sync|floor|aead --port P --suite psk-ccm8
                             [--size 100 --seconds 1]
    python bench/pythonic.py crowd [--sessions 1000] [--echoes 3000] [--json]

server/client speak bench/common.py's protocol (READY, W/M/Q tags, one JSON line), so
bench/run.py runs them beside python-mbedtls exactly as it runs the NetX-API pair.
The server answers from its on_data event (a plain callback, conn.send_nowait); the
asyncio client awaits conn.send() and conn.recv() for every round trip. --api floor is
no DTLS at all: raw UDP echoed through the same asyncio machinery (add_reader on both
sides, the client awaiting a future per round trip), the bound for any asyncio DTLS.
--api aead is the floor plus the two pyca AEAD calls every record needs (the suite's
AES-CCM_8: each side encrypts what it sends and decrypts what it receives), no framing,
no replay window: the bound for an asyncio DTLS over pyca.

crowd: one asyncio server process (nxsecure.aio, event-driven echo) and this process
playing N clients with the tests' hand-written peer (host_tests/rawdtls.py, via
bench/gateway.py's Peer), so that only the server's CPU is measured: server CPU per
echo on one session, and per echo when each goes to another of the N sessions.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402  (puts the repository root on sys.path)
from nxsecure import aio, api  # noqa: E402


def _suite(key):
    return api.suite_id(common.SUITES[key][0])


# --------------------------------------------------------------------- echo pair
def server(a):
    stats = common.ServerStats()
    if a["api"] in ("floor", "aead"):
        return floor_server(a, stats)
    if a["api"] == "sync":
        srv = api.DTLSServer("127.0.0.1", a["port"], psk={common.IDENTITY: common.PSK},
                             suites=[_suite(a["suite"])])
        done = []

        def on_data(conn, data):
            if stats.tag(data[0]):
                done.append(True)
                srv.stop()
                return
            conn.send(data)
        srv.on_data = on_data
        srv.start()
        common.ready()
        while not done:
            srv.run(1.0)
        stats.report("echo")
        return 0

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        srv = aio.Server(None, "127.0.0.1", a["port"], psk={common.IDENTITY: common.PSK},
                         suites=[_suite(a["suite"])])

        def on_data(conn, data):
            if stats.tag(data[0]):
                done.set_result(None)
                return
            conn.send_nowait(data)
        srv.on_data = on_data
        srv.start()
        common.ready()
        await done
        srv.close()
    asyncio.run(main())
    stats.report("echo")
    return 0


def client(a):
    size = a["size"]
    if a["api"] in ("floor", "aead"):
        return floor_client(a)
    if a["api"] == "sync":
        c = api.connect("127.0.0.1", a["port"], psk=(common.IDENTITY, common.PSK),
                        suites=[_suite(a["suite"])], timeout=5)

        def echo(data):
            c.send(data)
            assert len(c.recv(2)) == size
        measured = common.measure_echoes(echo, size, a["seconds"])
        c.send(common.payload(81, size))
        c.close()
        common.emit_echoes(measured)
        return 0

    async def main():
        c = await aio.connect("127.0.0.1", a["port"], psk=(common.IDENTITY, common.PSK),
                              suites=[_suite(a["suite"])], timeout=5)

        async def echo(data):
            await c.send(data)
            assert len(await c.recv()) == size
        measured = await measure_echoes(echo, size, a["seconds"])
        await c.send(common.payload(81, size))
        await c.close()
        return measured
    common.emit_echoes(asyncio.run(main()))
    return 0


async def measure_echoes(echo, size, seconds):
    """common.measure_echoes for a coroutine echo: the same warm-up, batches and clocks."""
    warm = common.payload(87, size)
    meas = common.payload(77, size)
    for _ in range(common.WARMUP):
        await echo(warm)
    count = 0
    c0 = common.cpu()
    t0 = common.now()
    end = t0 + seconds
    while True:
        for _ in range(20):
            await echo(meas)
        count += 20
        t = common.now()
        if t >= end:
            break
    return count, t - t0, common.cpu() - c0


# The floor of any asyncio DTLS echo here: raw UDP on the same loop machinery
# (add_reader on both sides, the client awaiting a future per round trip), no DTLS;
# --api aead adds one AEAD encryption per datagram sent and one decryption per datagram
# received (the record layer's two pyca calls, nothing around them).
class _Aead:
    """AES-128-CCM_8 with a fixed key and nonce (a cost, not a protocol)."""

    def __init__(self):
        from cryptography.hazmat.primitives.ciphers.aead import AESCCM
        c = AESCCM(bytes(16), tag_length=8)
        nonce, ad = bytes(12), bytes(13)
        self.seal = lambda data: c.encrypt(nonce, data, ad)
        self.open = lambda data: c.decrypt(nonce, data, ad)


def _crypt(a):
    return _Aead() if a["api"] == "aead" else None


def floor_server(a, stats):
    import socket
    crypt = _crypt(a)

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", a["port"]))
        s.setblocking(False)
        buf = bytearray(2048)

        def readable():
            n, addr = s.recvfrom_into(buf)
            if stats.tag(buf[0]):
                done.set_result(None)
                return
            s.sendto(memoryview(buf)[:n], addr)

        def readable_aead():
            n, addr = s.recvfrom_into(buf)
            data = crypt.open(memoryview(buf)[:n])
            if stats.tag(data[0]):
                done.set_result(None)
                return
            s.sendto(crypt.seal(data), addr)
        loop.add_reader(s.fileno(), readable if crypt is None else readable_aead)
        common.ready()
        await done
        loop.remove_reader(s.fileno())
        s.close()
    asyncio.run(main())
    stats.report("echo")
    return 0


def floor_client(a):
    import socket
    size = a["size"]
    crypt = _crypt(a)

    async def main():
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", a["port"]))
        s.setblocking(False)
        buf = bytearray(2048)
        waiter = [None]

        def readable():
            n = s.recv_into(buf)
            f = waiter[0]
            waiter[0] = None
            if f is not None and not f.done():
                f.set_result(n)
        loop.add_reader(s.fileno(), readable)

        async def echo(data):
            s.send(data)
            f = waiter[0] = loop.create_future()
            assert await f == size

        async def echo_aead(data):
            s.send(crypt.seal(data))
            f = waiter[0] = loop.create_future()
            n = await f
            assert len(crypt.open(memoryview(buf)[:n])) == size
        last = common.payload(81, size)
        measured = await measure_echoes(echo if crypt is None else echo_aead, size,
                                        a["seconds"])
        s.send(last if crypt is None else crypt.seal(last))
        loop.remove_reader(s.fileno())
        s.close()
        return measured
    common.emit_echoes(asyncio.run(main()))
    return 0


# --------------------------------------------------------------------- crowd
def crowd_server(a):
    """The crowd's server: an asyncio server; MARK records note its CPU clock."""
    marks = []

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        srv = aio.Server(None, "127.0.0.1", a["port"], psk={common.IDENTITY: common.PSK},
                         suites=["TLS_PSK_WITH_AES_128_CCM_8"],
                         max_connections=a["sessions"] + 2, idle_timeout=0,
                         handshake_timeout=600)

        def on_data(conn, data):
            if data.startswith(b"MARK "):
                marks.append((data[5:].decode(), time.process_time()))
                conn.send_nowait(data)
            elif data == b"EXIT":
                done.set_result(None)
            else:
                conn.send_nowait(data)
        srv.on_data = on_data
        srv.start()
        print("READY", flush=True)
        await done
        print(json.dumps({"marks": marks, "connections": len(srv.connections)}), flush=True)
        srv.close()
    asyncio.run(main())
    return 0


def crowd(sessions, echoes):
    import gateway
    import socket
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port_ = probe.getsockname()[1]
    probe.close()
    srv = subprocess.Popen([sys.executable, os.path.abspath(__file__), "crowd-server",
                            "--port", str(port_), "--sessions", str(sessions)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if srv.stdout.readline().strip() != "READY":
            raise RuntimeError("server did not start: " + srv.stderr.read())
        dst = ("127.0.0.1", port_)
        ctl = gateway.Peer(dst)
        ctl.handshake()
        peers = []
        for _ in range(sessions):
            p = gateway.Peer(dst)
            p.handshake()
            peers.append(p)

        def mark(name):
            ctl.echo(b"MARK " + name.encode())
        gateway.echo_phases(peers, mark, echoes, b"r" * 100)
        ctl.sock.sendto(ctl.raw.keys.seal(23, b"EXIT"), dst)
        out, err = srv.communicate(timeout=60)
        res = json.loads(out.strip().splitlines()[-1])
    finally:
        if srv.poll() is None:
            srv.kill()
    m = dict((name, cpu) for name, cpu in res["marks"])
    one_us = (m["one1"] - m["one0"]) / echoes * 1e6
    spread_us = (m["spread1"] - m["spread0"]) / echoes * 1e6
    return {"sessions": sessions, "echoes": echoes, "connected": res["connections"],
            "echo_one_us": one_us, "echo_spread_us": spread_us,
            "spread/one": spread_us / one_us}


def main(argv):
    role = argv[1] if len(argv) > 1 else ""
    if role in ("server", "client"):
        a = common.args(argv[1:], port=0, suite="psk-ccm8", mode="echo", size=100,
                        seconds=1.0, api="aio")
        return (server if role == "server" else client)(a)
    if role == "crowd-server":
        return crowd_server(common.args(argv[1:], port=0, sessions=1000))
    if role == "crowd":
        rest = [x for x in argv[2:] if x != "--json"]
        a = common.args([""] + rest, sessions=1000, echoes=3000)
        r = crowd(a["sessions"], a["echoes"])
        print(json.dumps(r) if "--json" in argv else "\n".join(
            "%s %s" % kv for kv in r.items()))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
