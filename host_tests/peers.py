"""Process wrappers for the DTLS peers of the interop matrix (test_interop_matrix.py).

Each peer runs in its own process; our side runs in the test process. Wrappers:
- `Proc`: any command with stdin kept open and stdout/stderr collected (dtls_helpers'
  OpenSSL class, generalised to any argv).
- `openssl_server/openssl_client`, `gnutls_server/gnutls_client`,
  `coap_server/coap_client` (libcoap, OpenSSL or GnuTLS build): command lines per suite.
- Python peers are this file run as a script (own process, own event loop):
    python peers.py mbedtls-server|mbedtls-client|tinydtls-server|tinydtls-client|
                    aiocoap-server|aiocoap-client  --port P [--suite ID] [--certs DIR]
  They print READY when listening, HANDSHAKE when the DTLS session is up, ECHO OK /
  COAP 2.05 ... when the application exchange worked, and ERROR <text> otherwise.

Credentials: PSK identity/key from dtls_helpers (binary key) for the TLS peers; the
ASCII key COAP_PSK for libcoap (`-k` takes text) and the CoAP peers. Certificates
(root -> leaf, P-256 or RSA-2048) are written to a directory as PEM and DER by
`write_certs`.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from dtls_helpers import OpenSSL, PSK, IDENTITY, HINT   # noqa: E402

COAP_PSK = b"secretPSK"
COAP_IDENTITY = b"sensor-01"
V4MAPPED = "::ffff:127.0.0.1"          # tinydtls (dtlssocket) speaks IPv6 sockets only
MESSAGE = b"nxsecure interop ping\n"

# suite id -> (short name, key kind: psk|ecdhe-psk|ec|rsa, OpenSSL name, Mbed TLS name,
#              GnuTLS priority parts (kx, cipher, mac))
SUITES = {
    0xC0A8: ("PSK-CCM8", "psk", "PSK-AES128-CCM8", "TLS-PSK-WITH-AES-128-CCM-8",
             ("PSK", "AES-128-CCM-8", "AEAD")),
    0xC0A4: ("PSK-CCM", "psk", "PSK-AES128-CCM", "TLS-PSK-WITH-AES-128-CCM",
             ("PSK", "AES-128-CCM", "AEAD")),
    0x00A8: ("PSK-GCM", "psk", "PSK-AES128-GCM-SHA256", "TLS-PSK-WITH-AES-128-GCM-SHA256",
             ("PSK", "AES-128-GCM", "AEAD")),
    0x00AE: ("PSK-CBC-SHA256", "psk", "PSK-AES128-CBC-SHA256",
             "TLS-PSK-WITH-AES-128-CBC-SHA256", ("PSK", "AES-128-CBC", "SHA256")),
    0xC037: ("ECDHE-PSK-CBC-SHA256", "ecdhe-psk", "ECDHE-PSK-AES128-CBC-SHA256",
             "TLS-ECDHE-PSK-WITH-AES-128-CBC-SHA256", ("ECDHE-PSK", "AES-128-CBC", "SHA256")),
    0xC0AE: ("ECDHE-ECDSA-CCM8", "ec", "ECDHE-ECDSA-AES128-CCM8",
             "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8", ("ECDHE-ECDSA", "AES-128-CCM-8", "AEAD")),
    0xC0AC: ("ECDHE-ECDSA-CCM", "ec", "ECDHE-ECDSA-AES128-CCM",
             "TLS-ECDHE-ECDSA-WITH-AES-128-CCM", ("ECDHE-ECDSA", "AES-128-CCM", "AEAD")),
    0xC02B: ("ECDHE-ECDSA-GCM", "ec", "ECDHE-ECDSA-AES128-GCM-SHA256",
             "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", ("ECDHE-ECDSA", "AES-128-GCM", "AEAD")),
    0xC023: ("ECDHE-ECDSA-CBC-SHA256", "ec", "ECDHE-ECDSA-AES128-SHA256",
             "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256",
             ("ECDHE-ECDSA", "AES-128-CBC", "SHA256")),
    0xC02F: ("ECDHE-RSA-GCM", "rsa", "ECDHE-RSA-AES128-GCM-SHA256",
             "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", ("ECDHE-RSA", "AES-128-GCM", "AEAD")),
    0xC027: ("ECDHE-RSA-CBC-SHA256", "rsa", "ECDHE-RSA-AES128-SHA256",
             "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256", ("ECDHE-RSA", "AES-128-CBC", "SHA256")),
    0x002F: ("RSA-CBC-SHA", "rsa", "AES128-SHA", "TLS-RSA-WITH-AES-128-CBC-SHA",
             ("RSA", "AES-128-CBC", "SHA1")),
    0x003C: ("RSA-CBC-SHA256", "rsa", "AES128-SHA256", "TLS-RSA-WITH-AES-128-CBC-SHA256",
             ("RSA", "AES-128-CBC", "SHA256")),
    # the AES-256 suites (issue 15; nxsecure/crypto/suites384.py)
    0xC02C: ("ECDHE-ECDSA-GCM-SHA384", "ec", "ECDHE-ECDSA-AES256-GCM-SHA384",
             "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384", ("ECDHE-ECDSA", "AES-256-GCM", "AEAD")),
    0xC030: ("ECDHE-RSA-GCM-SHA384", "rsa", "ECDHE-RSA-AES256-GCM-SHA384",
             "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384", ("ECDHE-RSA", "AES-256-GCM", "AEAD")),
    0x00A9: ("PSK-GCM-SHA384", "psk", "PSK-AES256-GCM-SHA384", "TLS-PSK-WITH-AES-256-GCM-SHA384",
             ("PSK", "AES-256-GCM", "AEAD")),
    0xC0AD: ("ECDHE-ECDSA-CCM-256", "ec", "ECDHE-ECDSA-AES256-CCM",
             "TLS-ECDHE-ECDSA-WITH-AES-256-CCM", ("ECDHE-ECDSA", "AES-256-CCM", "AEAD")),
    0xC0AF: ("ECDHE-ECDSA-CCM8-256", "ec", "ECDHE-ECDSA-AES256-CCM8",
             "TLS-ECDHE-ECDSA-WITH-AES-256-CCM-8", ("ECDHE-ECDSA", "AES-256-CCM-8", "AEAD")),
    0xC0A5: ("PSK-CCM-256", "psk", "PSK-AES256-CCM", "TLS-PSK-WITH-AES-256-CCM",
             ("PSK", "AES-256-CCM", "AEAD")),
    0xC0A9: ("PSK-CCM8-256", "psk", "PSK-AES256-CCM8", "TLS-PSK-WITH-AES-256-CCM-8",
             ("PSK", "AES-256-CCM-8", "AEAD")),
}
ALL_SUITES = tuple(SUITES)
PSK_SUITES = (0xC0A8, 0xC0A4, 0x00A8, 0x00AE)


def name(suite):
    return SUITES[suite][0]


def kind(suite):
    return SUITES[suite][1]


def uses_psk(suite):
    return kind(suite) in ("psk", "ecdhe-psk")


# ======================================================================== processes
class Proc(OpenSSL):
    """A peer process: stdin open, stdout/stderr collected by threads (wait_output,
    write, wait_exit, close, transcript from dtls_helpers.OpenSSL)."""

    def __init__(self, argv, env=None):
        import threading
        self.args = list(argv)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self._out),
                                          daemon=True),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self._err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    def alive(self):
        return self.proc.poll() is None

    def evidence(self, n=400):
        """The tail of the peer's own output, for the report."""
        text = (self.out + b"\n" + self.err).decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        s = " | ".join(lines)
        return s[-n:]


def write_certs(directory):
    """root -> leaf chains (P-256, RSA-2048, P-384 signed with SHA-384) as PEM and DER
    files in directory;
    returns {kind: {"root_der", "leaf_der", "key_der", "root", "leaf", "key"}} (the last
    three are PEM file paths)."""
    import cert_helpers as ch
    out = {}
    for k in ("ec", "rsa", "ec384"):
        root, _, leaf = ch.chain(k, intermediate=False,
                                 hash_name="sha384" if k == "ec384" else "sha256")
        d = {"root_der": root.der, "leaf_der": leaf.der, "key_der": leaf.key_der}
        for what, data in (("root", root.pem), ("leaf", leaf.pem), ("key", leaf.key_pem),
                           ("root.der", root.der), ("leaf.der", leaf.der),
                           ("key.der", leaf.key_der)):
            path = os.path.join(directory, "%s-%s.%s" % (k, what, "pem" if "." not in what
                                                         else "bin"))
            with open(path, "wb") as f:
                f.write(data)
            d[what] = path
        out[k] = d
    return out


def cert_kind(suite):
    return "rsa" if kind(suite) == "rsa" else "ec"


# ---- OpenSSL 3 CLI ---------------------------------------------------------------------
def openssl_server(udp_port, suite, certs):
    args = ["openssl", "s_server", "-dtls1_2", "-accept", str(udp_port), "-naccept", "1",
            "-cipher", SUITES[suite][2] + ":@SECLEVEL=0"]
    if uses_psk(suite):
        args += ["-psk", PSK.hex(), "-psk_identity", IDENTITY.decode(), "-psk_hint",
                 HINT.decode(), "-nocert"]
    else:
        c = certs[cert_kind(suite)]
        args += ["-cert", c["leaf"], "-key", c["key"]]
    return Proc(args)


def openssl_client(udp_port, suite, certs):
    args = ["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % udp_port,
            "-cipher", SUITES[suite][2] + ":@SECLEVEL=0", "-quiet"]
    if uses_psk(suite):
        args += ["-psk", PSK.hex(), "-psk_identity", IDENTITY.decode()]
    else:
        args += ["-CAfile", certs[cert_kind(suite)]["root"], "-verify_return_error",
                 "-verify_hostname", "server.example"]
    return Proc(args)


# ---- GnuTLS CLI ------------------------------------------------------------------------
def gnutls_priority(suite):
    kx, cipher, mac = SUITES[suite][4]
    return ("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+%s:-CIPHER-ALL:+%s:-MAC-ALL:+%s"
            % (kx, cipher, mac))


def gnutls_server(udp_port, suite, certs, workdir):
    args = ["gnutls-serv", "--udp", "--port", str(udp_port), "--priority",
            gnutls_priority(suite), "--echo"]
    if uses_psk(suite):
        pw = os.path.join(workdir, "gnutls-psk.txt")
        with open(pw, "w") as f:
            f.write("%s:%s\n" % (IDENTITY.decode(), PSK.hex()))
        args += ["--pskpasswd", pw, "--pskhint", HINT.decode()]
    else:
        c = certs[cert_kind(suite)]
        args += ["--x509certfile", c["leaf"], "--x509keyfile", c["key"]]
    return Proc(args)


def gnutls_client(udp_port, suite, certs):
    args = ["gnutls-cli", "--udp", "--port", str(udp_port), "--priority",
            gnutls_priority(suite), "127.0.0.1"]
    if uses_psk(suite):
        args += ["--pskusername", IDENTITY.decode(), "--pskkey", PSK.hex()]
    else:
        args += ["--x509cafile", certs[cert_kind(suite)]["root"],
                 "--verify-hostname", "server.example"]
    return Proc(args)


# ---- libcoap ---------------------------------------------------------------------------
def coap_server(build, coap_port, suite, certs):
    """coap-server-<build> on 127.0.0.1; DTLS listens on coap_port + 1."""
    args = ["coap-server-%s" % build, "-A", "127.0.0.1", "-p", str(coap_port), "-v", "4"]
    if uses_psk(suite):
        args += ["-k", COAP_PSK.decode(), "-h", "CoAP"]
    else:
        c = certs[cert_kind(suite)]
        args += ["-c", c["leaf"], "-j", c["key"], "-n"]
    return Proc(args)


def coap_client(build, dtls_port, suite, certs, path="temperature"):
    args = ["coap-client-%s" % build, "-m", "get", "-B", "4", "-v", "4"]
    if uses_psk(suite):
        args += ["-u", COAP_IDENTITY.decode(), "-k", COAP_PSK.decode()]
    else:
        c = certs[cert_kind(suite)]
        args += ["-R", c["root"]]
    return Proc(args + ["coaps://127.0.0.1:%d/%s" % (dtls_port, path)])


# ---- Python peers (this file as a script) ----------------------------------------------
def script(mode, udp_port, suite=None, certs_dir=None, extra=()):
    args = [sys.executable, os.path.abspath(__file__), mode, "--port", str(udp_port)]
    if suite is not None:
        args += ["--suite", "%04X" % suite]
    if certs_dir is not None:
        args += ["--certs", certs_dir]
    args += list(extra)
    env = dict(os.environ, PYTHONUNBUFFERED="1", AIOCOAP_DTLSSERVER_ENABLED="1")
    return Proc(args, env=env)


def _say(*a):
    print(*a, flush=True)


def _mbedtls_config(suite, server, certs_dir, a=None):
    from mbedtls import tls, x509, pk
    kw = dict(ciphers=[SUITES[suite][3]],
              lowest_supported_version=tls.DTLSVersion.DTLSv1_2,
              highest_supported_version=tls.DTLSVersion.DTLSv1_2)
    if a is not None and a.alpn:
        # ALPN (RFC 7301): python-mbedtls reads each name's .value (its NextProtocol enum
        # has no "coap"); a stand-in with the bytes does the same
        class _Proto:
            def __init__(self, name):
                self.value = name.encode()
        kw["inner_protocols"] = [_Proto(n) for n in a.alpn.split(",")]
    if a is not None and server and a.sni:
        def sni(conn, name):
            _say("SNI", name)                               # what the client asked for
            return None
        kw["sni_callback"] = sni
    if not uses_psk(suite):
        k = a.kind if a is not None and a.kind else cert_kind(suite)
        if server:
            crt = x509.CRT.from_DER(open(os.path.join(certs_dir, k + "-leaf.der.bin"), "rb").read())
            key_der = open(os.path.join(certs_dir, k + "-key.der.bin"), "rb").read()
            key = pk.ECC.from_DER(key_der) if k != "rsa" else pk.RSA.from_DER(key_der)
            kw["certificate_chain"] = ([crt], key)
            kw["validate_certificates"] = False         # no client certificate asked for
        else:
            root = x509.CRT.from_DER(open(os.path.join(certs_dir, k + "-root.der.bin"), "rb").read())
            store = tls.TrustStore()
            store.add(root)
            kw["trust_store"] = store
            kw["validate_certificates"] = True
    elif server:
        kw["pre_shared_key_store"] = {IDENTITY.decode(): PSK}
    else:
        kw["pre_shared_key"] = (IDENTITY.decode(), PSK)
    return tls.DTLSConfiguration(**kw)


def _alpn_name(conn):
    p = conn.negotiated_protocol()
    return p.decode() if isinstance(p, bytes) else getattr(p, "value", p)


def run_mbedtls_server(a):
    import socket
    from mbedtls import tls
    ctx = tls.ServerContext(_mbedtls_config(a.suite, True, a.certs, a))
    listener = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # accept() rebinds
    listener.bind(("127.0.0.1", a.port))
    _say("READY")
    conn, addr = listener.accept()
    conn.setcookieparam(addr[0].encode("ascii"))
    try:
        conn.do_handshake()
    except tls.HelloVerifyRequest:
        _say("HELLO VERIFY REQUEST sent")
    conn2, addr = conn.accept()
    conn.close()
    conn2.setcookieparam(addr[0].encode("ascii"))
    if a.mtu:
        conn2.setmtu(a.mtu)
    conn2.do_handshake()
    _say("HANDSHAKE", conn2.cipher(), "ALPN", _alpn_name(conn2))
    data = conn2.recv(2048)
    conn2.send(data)
    _say("ECHOED", len(data))
    try:
        conn2.recv(2048)           # the client's close_notify
    except Exception as e:        # noqa: BLE001
        _say("CLOSED", type(e).__name__)
    return 0


def run_mbedtls_client(a):
    import socket
    from mbedtls import tls
    ctx = tls.ClientContext(_mbedtls_config(a.suite, False, a.certs, a))
    name = a.servername or (None if uses_psk(a.suite) else "server.example")
    sock = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                           server_hostname=name)
    sock.settimeout(5)
    if a.mtu:
        sock.setmtu(a.mtu)
    sock.connect(("127.0.0.1", a.port))
    sock.do_handshake()
    _say("HANDSHAKE", sock.cipher(), "ALPN", _alpn_name(sock))
    sock.send(MESSAGE)
    got = sock.recv(2048)
    _say("ECHO OK" if got == MESSAGE else "ERROR echo %r" % got)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:             # noqa: BLE001
        pass
    return 0


def _tinydtls(psk_id, psk):
    from DTLSSocket import dtls
    box = {"read": [], "events": []}
    sock_box = {}

    def read(sender, data):
        box["read"].append((sender, bytes(data)))
        return len(data)

    def write(recipient, data):
        return sock_box["s"].sendto(data, tuple(recipient)[:2])

    def event(level, code):
        box["events"].append(code)

    d = dtls.DTLS(read=read, write=write, event=event, pskId=psk_id, pskStore={psk_id: psk})
    return dtls, d, box, sock_box


DTLS_EVENT_CONNECTED = 0x1DE


def run_tinydtls_server(a):
    import select
    import socket
    dtls, d, box, sock_box = _tinydtls(IDENTITY, PSK)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", a.port))
    sock_box["s"] = s
    _say("READY")
    echoed = 0
    while echoed < 1:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            d.checkRetransmit()
            continue
        data, src = s.recvfrom(2048)
        d.handleMessageAddr(src[0], src[1], data)
        if DTLS_EVENT_CONNECTED in box["events"] and "hs" not in sock_box:
            sock_box["hs"] = True
            _say("HANDSHAKE")
        while box["read"]:
            sender, msg = box["read"].pop(0)
            d.write(dtls.Session(sender[0], sender[1], 0, 0), msg)
            echoed += 1
            _say("ECHOED", len(msg))
    return 0


def run_tinydtls_client(a):
    import select
    import socket
    import time
    dtls, d, box, sock_box = _tinydtls(IDENTITY, PSK)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", 0))
    sock_box["s"] = s
    session = d.connect(V4MAPPED, a.port, 0, 0)
    end = time.monotonic() + 8
    sent = False
    while time.monotonic() < end:
        if DTLS_EVENT_CONNECTED in box["events"] and not sent:
            _say("HANDSHAKE")
            d.write(session, MESSAGE)
            sent = True
        if box["read"]:
            got = box["read"][0][1]
            _say("ECHO OK" if got == MESSAGE else "ERROR echo %r" % got)
            d.close(session)
            return 0
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            d.checkRetransmit()
            continue
        data, src = s.recvfrom(2048)
        d.handleMessageAddr(src[0], src[1], data)
    _say("ERROR timeout, events %r" % [hex(e) for e in box["events"]])
    return 1


def run_aiocoap_server(a):
    import asyncio
    import aiocoap
    import aiocoap.resource as resource
    from aiocoap.credentials import CredentialsMap

    class Temperature(resource.Resource):
        async def render_get(self, request):
            _say("GET /temperature")
            return aiocoap.Message(payload=b"19.0 C", content_format=0)

    async def main():
        site = resource.Site()
        site.add_resource(["temperature"], Temperature())
        creds = CredentialsMap()
        creds.load_from_dict({":client": {"dtls": {
            "psk": {"ascii": COAP_PSK.decode()},
            "client-identity": {"ascii": COAP_IDENTITY.decode()}}}})
        await aiocoap.Context.create_server_context(
            # like libcoap, aiocoap puts coaps on the bound port + 1: DTLS is on --port
            site, bind=(V4MAPPED, a.port - 1), transports=["tinydtls_server"],
            server_credentials=creds)
        _say("READY")
        await asyncio.sleep(30)

    asyncio.run(main())
    return 0


def run_aiocoap_client(a):
    import asyncio
    import aiocoap

    async def main():
        ctx = await aiocoap.Context.create_client_context(transports=["tinydtls"])
        uri = "coaps://[%s]:%d/temperature" % (V4MAPPED, a.port)
        ctx.client_credentials.load_from_dict({"coaps://*": {"dtls": {
            "psk": {"ascii": COAP_PSK.decode()},
            "client-identity": {"ascii": COAP_IDENTITY.decode()}}}})
        msg = aiocoap.Message(code=aiocoap.GET, uri=uri)
        resp = await asyncio.wait_for(ctx.request(msg).response, 8)
        _say("COAP %s %r" % (resp.code, resp.payload))
        await ctx.shutdown()

    asyncio.run(main())
    return 0


MODES = {"mbedtls-server": run_mbedtls_server, "mbedtls-client": run_mbedtls_client,
         "tinydtls-server": run_tinydtls_server, "tinydtls-client": run_tinydtls_client,
         "aiocoap-server": run_aiocoap_server, "aiocoap-client": run_aiocoap_client}


def main(argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--suite", type=lambda s: int(s, 16), default=0xC0A8)
    p.add_argument("--certs", default=None)
    p.add_argument("--alpn", default=None, help="mbedtls: ALPN protocols, comma-separated")
    p.add_argument("--sni", action="store_true", help="mbedtls server: print the SNI name")
    p.add_argument("--servername", default=None, help="mbedtls client: SNI and name check")
    p.add_argument("--kind", default=None, help="mbedtls: certificate kind (ec, ec384, rsa)")
    p.add_argument("--mtu", type=int, default=0, help="mbedtls: its MTU")
    a = p.parse_args(argv[1:])
    try:
        return MODES[a.mode](a)
    except Exception as e:        # noqa: BLE001  (the peer's own error is the evidence)
        _say("ERROR %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
