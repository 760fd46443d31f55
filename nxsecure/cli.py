"""`python -m nxsecure` (console script `nxsecure`): server and client like OpenSSL's s_server / s_client, psk, ca, cert, info, status (host only)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
import argparse
import asyncio
import logging
import os
import sys
import threading

from . import api, status

PROG = "nxsecure"


# ============================================================================ arguments
def _port(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port number: %r" % text)
    if not 0 < v < 65536:
        raise argparse.ArgumentTypeError("port must be 1..65535, not %d" % v)
    return v


def _hex_key(text):
    t = text[2:] if text.lower().startswith("0x") else text
    try:
        key = bytes.fromhex(t)
    except ValueError:
        raise argparse.ArgumentTypeError("the PSK is hex digits (like openssl's -psk), "
                                         "not %r" % text)
    if not 1 <= len(key) <= 64:
        raise argparse.ArgumentTypeError("a PSK is 1..64 bytes, not %d" % len(key))
    return key


def _suite(text):
    try:
        return api.suite_id(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def _address(text):
    try:
        api.netx.NXD_ADDRESS(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not an IP address: %r (use 0.0.0.0, ::, or an "
                                         "address of this host)" % text)
    return text


def _host_port(text):
    """HOST:PORT, [V6]:PORT or PORT (127.0.0.1)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError("expected [ADDRESS]:PORT, not %r" % text)
        return host, _port(rest[1:])
    if text.count(":") == 1:
        host, _, p = text.partition(":")
        return host or "127.0.0.1", _port(p)
    if text.isdigit():
        return "127.0.0.1", _port(text)
    raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % text)


def _positive(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text)
        if v < 0:
            raise argparse.ArgumentTypeError("must be >= 0, not %s" % text)
        return v
    return parse


def _existing(text):
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError("no such file: %r" % text)
    return text


def _dtls_options(p, role):
    g = p.add_argument_group("credentials and protocol")
    g.add_argument("--psk", type=_hex_key, metavar="HEX",
                   help="pre-shared key in hex (as openssl -psk)")
    g.add_argument("--psk-identity", "--identity", default="Client_identity", metavar="ID",
                   help="PSK identity (default: Client_identity, openssl's)")
    if role == "server":
        g.add_argument("--psk-hint", metavar="HINT", help="PSK identity hint to send")
    g.add_argument("--cert", type=_existing, metavar="FILE",
                   help="certificate (PEM or DER; a PEM file may hold its chain)")
    g.add_argument("--key", type=_existing, metavar="FILE", help="its private key (PEM or DER)")
    g.add_argument("--ca", "--CAfile", dest="ca", type=_existing, metavar="FILE",
                   help="trusted CA certificate(s): the server's (client) or the clients' "
                        "(server, with --verify)")
    g.add_argument("--suite", "--cipher", dest="suites", type=_suite, action="append",
                   metavar="NAME", help="cipher suite to offer (repeat for several; RFC or "
                                        "OpenSSL name, e.g. PSK-AES128-CCM8)")
    g.add_argument("--mtu", type=int, metavar="N",
                   help="largest datagram sent (default 1232 bytes)")
    g.add_argument("--keylog", metavar="FILE",
                   help="append NSS key log lines (Wireshark: tls.keylog_file)")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="log events; twice: also the handshake trace")
    g.add_argument("-q", "--quiet", action="store_true",
                   help="print only the data received")


def _days_out(p, days):
    p.add_argument("--days", type=int, default=days, help="validity (default %d)" % days)
    p.add_argument("--out", default=".", metavar="DIR", help="directory (default .)")


def parser():
    p = argparse.ArgumentParser(
        prog=PROG, description="DTLS 1.2 tools of nxsecure: a server and a client like "
        "OpenSSL's s_server and s_client, and credentials for boards.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("server", help="a DTLS server (like openssl s_server)",
                       description="Serve DTLS on a UDP port. Received records go to stdout, "
                       "lines typed on stdin go to every connected client; --echo sends each "
                       "record back instead.")
    s.add_argument("--bind", "--host", dest="bind", type=_address, default=None, metavar="ADDR",
                   help="local address to listen on (default: all, IPv4 and IPv6)")
    s.add_argument("--port", "--accept", "-p", dest="port", type=_port, default=api.DEFAULT_PORT,
                   help="UDP port (default %d)" % api.DEFAULT_PORT)
    s.add_argument("--echo", action="store_true", help="send every record back")
    s.add_argument("--verify", action="store_true",
                   help="require a client certificate that chains to --ca")
    s.add_argument("--max-connections", type=int, default=16, metavar="N",
                   help="sessions (default 16)")
    s.add_argument("--idle-timeout", type=_positive(float), default=120.0, metavar="S",
                   help="end a connection silent this long (default 120 s; 0: never)")
    s.add_argument("--naccept", type=int, default=0, metavar="N",
                   help="exit after N connections have ended")
    _dtls_options(s, "server")

    c = sub.add_parser("client", help="a DTLS client (like openssl s_client)",
                       description="Connect to a DTLS server. Lines read on stdin are sent as "
                       "records, received records go to stdout; at the end of stdin the "
                       "client waits --linger seconds for replies, then closes.")
    c.add_argument("target", nargs="?", type=_host_port, metavar="HOST:PORT",
                   help="server address (or --connect)")
    c.add_argument("--connect", dest="connect", type=_host_port, metavar="HOST:PORT")
    c.add_argument("--servername", metavar="NAME",
                   help="the host name the server's certificate must carry")
    c.add_argument("--message", "-m", action="append", metavar="TEXT",
                   help="send TEXT, print the reply (repeat for several); no stdin")
    c.add_argument("--timeout", type=_positive(float), default=10.0, metavar="S",
                   help="handshake and reply timeout (default 10 s)")
    c.add_argument("--linger", type=_positive(float), default=1.0, metavar="S",
                   help="after stdin ends, wait this long for replies (default 1 s)")
    c.add_argument("--bind", dest="bind", type=_address, default=None, metavar="ADDR",
                   help="local address to send from")
    _dtls_options(c, "client")

    k = sub.add_parser("psk", help="generate a PSK and an identity",
                       description="Generate a random pre-shared key and an identity; print "
                       "them with the matching flags for this tool and OpenSSL, and optionally "
                       "write a Python module for a board.")
    k.add_argument("--bytes", type=int, default=16, help="key length (default 16)")
    k.add_argument("--identity", metavar="ID", help="identity (default: device-<random>)")
    k.add_argument("--module", metavar="FILE", help="write PSK_IDENTITY and PSK to FILE (.py)")

    a = sub.add_parser("ca", help="make a P-256 certificate authority",
                       description="Make a self-signed P-256 CA: DIR/ca.pem, ca.der, ca.key.pem, "
                       "ca.key.der.")
    a.add_argument("--name", default="nxsecure CA", help="common name")
    a.add_argument("--org", help="organization")
    _days_out(a, 3650)
    a.add_argument("--force", action="store_true", help="overwrite an existing CA")

    t = sub.add_parser("cert", help="issue a P-256 device or server certificate",
                       description="Issue a P-256 certificate signed by the CA made with `ca`: "
                       "DIR/NAME.pem, .der, .key.pem, .key.der, and with --module a Python module "
                       "(CERT_DER, KEY_DER, CA_DER) to copy to a board.")
    t.add_argument("--name", required=True, help="common name (a device id or host name)")
    t.add_argument("--dns", action="append", default=[], metavar="NAME",
                   help="subjectAltName DNS name (repeatable)")
    t.add_argument("--ip", action="append", default=[], metavar="ADDR",
                   help="subjectAltName IP address (repeatable)")
    t.add_argument("--usage", choices=("server", "client", "both"), default="both",
                   help="extended key usage (default both)")
    t.add_argument("--ca-dir", default=".", metavar="DIR",
                   help="where `ca` wrote ca.pem / ca.key.pem (default .)")
    _days_out(t, 825)
    t.add_argument("--module", metavar="FILE", help="also write a Python module for a board")

    i = sub.add_parser("info", help="show a certificate",
                       description="Show the certificates in FILE (PEM or DER) and whether "
                       "nxsecure's parser accepts them; with --ca, verify the chain as a board "
                       "would.")
    i.add_argument("file", type=_existing)
    i.add_argument("--ca", type=_existing, metavar="FILE", help="verify against this CA")

    st = sub.add_parser("status", help="what a NetX status code means",
                        description="Print the name and meaning of NetX status codes "
                        "(0x114, 276, ...); without codes, all of them.")
    st.add_argument("codes", nargs="*", metavar="CODE")
    return p


# ============================================================================ commands
def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except api.DTLSError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _logging(args):
    level = logging.WARNING
    if args.verbose:
        level = logging.INFO if args.verbose == 1 else logging.DEBUG
    if args.quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, stream=sys.stderr, format="%(name)s: %(message)s")


def _psk(args):
    return (args.psk_identity, args.psk) if args.psk is not None else None


def _say(args, text):
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def cmd_server(args):
    _logging(args)
    if args.psk is None and args.cert is None:
        raise ValueError("give --psk HEX (and --psk-identity) or --cert/--key")
    if (args.cert is None) != (args.key is None):
        raise ValueError("--cert and --key go together")
    if args.verify and not args.ca:
        raise ValueError("--verify needs --ca (the CA of the client certificates)")
    if args.max_connections < 1:
        raise ValueError("--max-connections must be >= 1")
    return asyncio.run(_server(args))


async def _server(args):
    from . import aio
    psk = {args.psk_identity: args.psk} if args.psk is not None else None
    out = sys.stdout.buffer
    ended = [0]
    done = asyncio.get_running_loop().create_future()

    class CliServer(aio.Server):
        def on_connected(self, conn):
            _say(args, "connected %s:%d %s%s" % (conn.address + (conn.cipher_suite, (
                ", peer %s" % conn.peer_certificate.subject) if conn.peer_certificate else "")))

        def on_data(self, conn, data):
            if args.echo:
                try:
                    conn.send_nowait(data)
                except api.DTLSError as e:
                    _say(args, "echo to %s:%d failed: %s" % (conn.address + (e,)))
                return
            out.write(data if args.quiet else b"[%s:%d] %s\n" % (
                conn.address[0].encode(), conn.address[1], data.rstrip(b"\n")))
            out.flush()

        def on_disconnected(self, conn, reason):
            _say(args, "closed %s:%d%s" % (conn.address + (
                (": %s" % reason) if reason else "",)))
            ended[0] += 1
            if args.naccept and ended[0] >= args.naccept and not done.done():
                done.set_result(None)

        def on_error(self, conn, error):
            _say(args, "error %s" % error)
            if conn is not None and args.naccept:
                ended[0] += 1
                if ended[0] >= args.naccept and not done.done():
                    done.set_result(None)

    srv = CliServer(None, args.bind, args.port, psk=psk, psk_hint=args.psk_hint,
                    certfile=args.cert, keyfile=args.key, cafile=args.ca,
                    verify_clients=args.verify, suites=args.suites, mtu=args.mtu,
                    max_connections=args.max_connections, idle_timeout=args.idle_timeout,
                    keylog=args.keylog, trace=args.verbose >= 2)
    srv.start()
    _say(args, "ACCEPT %s port %d" % (args.bind or "*", args.port))
    lines = _stdin_lines()
    try:
        while not done.done():
            get = asyncio.ensure_future(lines.get())
            await asyncio.wait([get, done], return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                break
            line = get.result()
            if line is None:
                # stdin ended: keep serving (like s_server with stdin at EOF is not
                # wanted: it would quit); wait for --naccept or a signal
                await done
                break
            n = srv.send_all(line)
            if not n:
                _say(args, "no client connected: line not sent")
    finally:
        srv.close()
        await srv.wait_closed()
    return 0


def cmd_client(args):
    _logging(args)
    target = args.connect or args.target
    if target is None:
        raise ValueError("give the server as HOST:PORT (or --connect HOST:PORT)")
    if args.psk is None and args.ca is None:
        raise ValueError("give --psk HEX (and --psk-identity) or --ca FILE")
    if (args.cert is None) != (args.key is None):
        raise ValueError("--cert and --key go together")
    return asyncio.run(_client(args, target))


async def _client(args, target):
    from . import aio
    conn = await aio.connect(target[0], target[1], psk=_psk(args), cafile=args.ca,
                             certfile=args.cert, keyfile=args.key, suites=args.suites,
                             server_hostname=args.servername, mtu=args.mtu, keylog=args.keylog,
                             timeout=args.timeout, bind=args.bind, trace=args.verbose >= 2)
    _say(args, "CONNECTED %s:%d %s%s" % (conn.address + (conn.cipher_suite, (
        ", server %s" % conn.peer_certificate.subject) if conn.peer_certificate else "")))
    out = sys.stdout.buffer
    try:
        if args.message:
            for m in args.message:
                await conn.send(m.encode())
                try:
                    reply = await asyncio.wait_for(conn.recv(), args.timeout)
                except asyncio.TimeoutError:
                    _say(args, "no reply within %s s" % args.timeout)
                    return 1
                if not reply:
                    _say(args, "the server closed the connection")
                    return 1
                out.write(reply + (b"" if reply.endswith(b"\n") else b"\n"))
                out.flush()
            return 0
        return await _client_lines(args, conn, out)
    finally:
        await conn.close()


async def _client_lines(args, conn, out):
    lines = _stdin_lines()
    reader = asyncio.ensure_future(_print_records(conn, out))
    try:
        while True:
            get = asyncio.ensure_future(lines.get())
            await asyncio.wait([get, reader], return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                break                   # the server closed
            line = get.result()
            if line is None:
                try:
                    await asyncio.wait_for(asyncio.shield(reader), args.linger)
                except asyncio.TimeoutError:
                    pass
                break
            await conn.send(line)
    finally:
        if not reader.done():
            reader.cancel()
    if reader.done() and not reader.cancelled() and reader.exception() is not None:
        raise reader.exception()
    return 0


async def _print_records(conn, out):
    async for data in conn:          # a failure (a fatal alert) raises here
        out.write(data)
        out.flush()


def _stdin_lines():
    """Lines of stdin (bytes, None at the end) in an asyncio.Queue, read by a daemon
    thread: works for terminals, pipes and files alike, and never holds up exit. The
    thread reads the descriptor with os.read: a daemon thread blocked inside
    sys.stdin's buffer would hold its lock when the interpreter shuts down."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()

    def put(item):
        try:
            loop.call_soon_threadsafe(q.put_nowait, item)
        except RuntimeError:            # the loop is gone
            pass

    def read():
        pending = b""
        try:
            fd = sys.stdin.fileno()
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    put(line + b"\n")
        except (OSError, ValueError, AttributeError):
            pass
        if pending:
            put(pending)
        put(None)
    threading.Thread(target=read, daemon=True).start()
    return q


def cmd_psk(args):
    from . import credentials as cr
    key = cr.generate_psk(args.bytes)
    ident = args.identity or cr.generate_identity()
    print("identity: %s" % ident)
    print("key:      %s" % key.hex())
    print("server:   python -m nxsecure server --psk %s --psk-identity %s" % (key.hex(), ident))
    print("client:   python -m nxsecure client HOST:5684 --psk %s --psk-identity %s" % (
        key.hex(), ident))
    print("openssl:  -psk %s -psk_identity %s" % (key.hex(), ident))
    if args.module:
        _write_text(args.module, cr.psk_module(ident, key), private=True)
        print("module:   %s" % args.module)
    return 0


def cmd_ca(args):
    from . import credentials as cr
    if not args.force and os.path.exists(os.path.join(args.out, "ca.key.pem")):
        raise ValueError("%s already holds a CA (ca.key.pem); --force replaces it"
                         % args.out)
    der, key = cr.make_ca(args.name, args.days, args.org)
    for path in cr.write_pair(args.out, "ca", der, key):
        print(path)
    return 0


def cmd_cert(args):
    from . import credentials as cr
    ca_pem = os.path.join(args.ca_dir, "ca.pem")
    ca_key = os.path.join(args.ca_dir, "ca.key.pem")
    for p in (ca_pem, ca_key):
        if not os.path.isfile(p):
            raise ValueError("%s is missing: make the CA first (%s ca --out %s)" % (
                p, PROG, args.ca_dir))
    ca_der = api.load_certificates(ca_pem)[0]
    der, key = cr.issue_certificate(ca_der, cr.load_key(ca_key), args.name, args.dns, args.ip,
                                    server=args.usage in ("server", "both"),
                                    client=args.usage in ("client", "both"), days=args.days)
    stem = _stem(args.name)
    for path in cr.write_pair(args.out, stem, der, key):
        print(path)
    if args.module:
        _write_text(args.module, cr.board_module(der, key, ca_der, "for %s, issued by %s" % (
            args.name, api.Certificate(ca_der).subject)), private=True)
        print(args.module)
    return 0


def _stem(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "cert"


def _write_text(path, text, private=False):
    from . import credentials as cr
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    cr._write(path, text.encode(), private)


def cmd_info(args):
    from . import credentials as cr
    for line in cr.describe_certificate(args.file):
        print(line)
    if args.ca:
        cr.verify_certificate(args.file, args.ca)
        print("verified:    chains to %s" % api.Certificate(
            api.load_certificates(args.ca)[0]).subject)
    return 0


def cmd_status(args):
    codes = args.codes or ["0x%X" % c for c in status.codes()]
    bad = 0
    for text in codes:
        try:
            code = int(text, 0)
        except ValueError:
            print("%s: not a number" % text)
            bad += 1
            continue
        print(status.describe(code))
        if not status.known(code):
            bad += 1
    return 1 if bad else 0


COMMANDS = {"server": cmd_server, "client": cmd_client, "psk": cmd_psk, "ca": cmd_ca,
            "cert": cmd_cert, "info": cmd_info, "status": cmd_status}


if __name__ == "__main__":
    sys.exit(main())
