"""A sensor gateway on asyncio with nxsecure.aio: the way in for Python developers (the
NetX Secure DTLS API is the firmware way: examples/psk_echo.py).

The gateway accepts devices with their own PSKs, prints each reading with the device's
identity, acknowledges it, broadcasts a command to every connected device, and ends
devices that fall silent (idle timeout). `demo` runs the gateway and a few simulated
sensors in one event loop; `serve` runs the gateway alone; `sensor` is one device.

    python3 examples/gateway.py demo   [--sensors 3] [--readings 2] [--port 5684]
    python3 examples/gateway.py serve  [--bind ADDR] [--port 5684] [--idle-timeout S]
    python3 examples/gateway.py sensor --id sensor-1 [--host 127.0.0.1] [--port 5684]

Every device's key here is derived from its identity and a site secret (DEMO ONLY: a
real gateway keeps a table of random keys, e.g. made with `python -m nxsecure psk`).
"""
import argparse
import asyncio
import hashlib
import sys

sys.path.insert(0, __file__.rsplit("/", 2)[0] if "/" in __file__ else "..")

from nxsecure import aio  # noqa: E402

SITE_SECRET = b"demo site secret: replace me"


def device_key(identity):
    """DEMO ONLY: a per-device PSK derived from the site secret and the identity."""
    return hashlib.sha256(SITE_SECRET + identity.encode()).digest()[:16]


class Gateway(aio.Server):
    """The gateway's events (nxsecure.aio.Server, the events of nxsecure.api.DTLSServer)."""

    def on_connection_request(self, address):
        return True                     # e.g. refuse addresses outside the plant network

    def on_connected(self, conn):
        print("gateway: %s connected from %s:%d (%s)" % (
            conn.psk_identity.decode(), conn.address[0], conn.address[1], conn.cipher_suite))

    def on_data(self, conn, data):
        print("gateway: %s says %r" % (conn.psk_identity.decode(), data.decode(errors="replace")))
        conn.send_nowait(b"ack " + data[:32])

    def on_disconnected(self, conn, reason):
        print("gateway: %s left (%s)" % (conn.psk_identity.decode(),
                                         reason.name if reason else "closed"))

    def on_error(self, conn, error):
        print("gateway: %s" % error)


def make_gateway(bind, udp_port, identities, idle_timeout):
    return Gateway(None, bind, udp_port, psk=dict((i, device_key(i)) for i in identities),
                   psk_hint=b"gateway", max_connections=max(16, 2 * len(identities)),
                   idle_timeout=idle_timeout)


async def sensor(identity, host, udp_port, readings):
    """One device: connect, send readings (each acknowledged), then wait for a command."""
    async with await aio.connect(host, udp_port, psk=(identity, device_key(identity))) as c:
        for k in range(readings):
            await c.send(b"%s reading %d: 21.%d C" % (identity.encode(), k, k))
            ack = await asyncio.wait_for(c.recv(), 5)
            print("%s: got %r" % (identity, ack))
        command = await asyncio.wait_for(c.recv(), 5)
        print("%s: command %r" % (identity, command))


async def demo(a):
    names = ["sensor-%d" % (i + 1) for i in range(a.sensors)]
    gw = make_gateway("127.0.0.1", a.port, names, 120)
    gw.start()
    tasks = [asyncio.ensure_future(sensor(n, "127.0.0.1", a.port, a.readings)) for n in names]
    while len(gw.connections) < len(names):        # everyone in: broadcast
        await asyncio.sleep(0.05)
        if any(t.done() for t in tasks):
            break
    await asyncio.sleep(0.2)
    print("gateway: broadcast reached %d devices" % gw.send_all(b"calibrate"))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.1)
    gw.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    for r in failed:
        print("sensor failed: %r" % (r,))
    print("done: %d of %d sensors" % (len(names) - len(failed), len(names)))
    return 1 if failed else 0


async def serve(a):
    names = ["sensor-%d" % (i + 1) for i in range(a.devices)]
    gw = make_gateway(a.bind, a.port, names, a.idle_timeout)
    gw.start()
    print("gateway: listening on %s port %d for %s..%s" % (a.bind or "all addresses", a.port,
                                                           names[0], names[-1]))
    await gw.serve_forever()
    return 0


def main(argv):
    def udp_port(text):
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise argparse.ArgumentTypeError("must be 1..65535, not %r" % text)
        return int(text)

    def count(text):
        if not text.isdigit() or not 1 <= int(text) <= 500:
            raise argparse.ArgumentTypeError("must be 1..500, not %r" % text)
        return int(text)

    p = argparse.ArgumentParser(description="A DTLS sensor gateway on asyncio (nxsecure.aio).")
    sub = p.add_subparsers(dest="role", metavar="ROLE")
    d = sub.add_parser("demo", help="gateway and simulated sensors in one event loop")
    d.add_argument("--sensors", type=count, default=3)
    d.add_argument("--readings", type=count, default=2)
    d.add_argument("--port", type=udp_port, default=5684)
    s = sub.add_parser("serve", help="the gateway")
    s.add_argument("--bind", default=None, help="local address (default: all)")
    s.add_argument("--port", type=udp_port, default=5684)
    s.add_argument("--devices", type=count, default=10, help="sensor-1..sensor-N may connect")
    s.add_argument("--idle-timeout", type=float, default=120.0)
    n = sub.add_parser("sensor", help="one device")
    n.add_argument("--id", required=True, help="its identity (sensor-1, ...)")
    n.add_argument("--host", default="127.0.0.1")
    n.add_argument("--port", type=udp_port, default=5684)
    n.add_argument("--readings", type=count, default=2)
    a = p.parse_args(argv[1:] or ["demo"])
    try:
        if a.role == "demo":
            return asyncio.run(demo(a))
        if a.role == "serve":
            return asyncio.run(serve(a))
        asyncio.run(sensor(a.id, a.host, a.port, a.readings))
        return 0
    except (aio.DTLSError, ValueError) as e:
        print("gateway.py: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
