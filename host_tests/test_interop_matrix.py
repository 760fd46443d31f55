"""The interop matrix: our client and our server against every DTLS 1.2 peer these
machines have (PEERS.md), for every suite the peer supports, in every role it has.

Peers (host_tests/peers.py runs each in its own process):
  openssl   OpenSSL 3 CLI: s_server (our client), s_client (our server)
  gnutls    GnuTLS 3.7 CLI: gnutls-serv --echo, gnutls-cli
  mbedtls   Mbed TLS 2.28 through python-mbedtls: server (cookie dance), client
  tinydtls  tinydtls through dtlssocket (IPv6 socket, ::ffff:127.0.0.1): server, client
  coap-openssl / coap-gnutls   libcoap 4.3: coap-server-* / coap-client-* against
            examples/coap_dtls.py (GET /temperature, piggybacked 2.05)
  aiocoap   aiocoap over tinydtls: CoAP server / CoAP client against examples/coap_dtls.py

A cell passes when the handshake completes with the suite under test (our side offers
or accepts only that suite) and application data goes both ways (an echo, or a CoAP
request and its 2.05 response). The milliseconds are our side's handshake: from the
first nx_secure_dtls_client_session_start / nx_secure_dtls_server_session_start call to
its NX_SUCCESS. Cells in LIMITATIONS are the peer's own: the test checks that the peer
still fails that way (its own output carries the evidence) and reports the cell as
"peer limitation" with that evidence; if the peer ever starts working, the test fails
so the entry can go.

`-rA` prints the matrix (test_zz_matrix); tools/interop_report.py runs the same cells
without pytest and writes build/interop-matrix.md.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "examples"))

import peers                                               # noqa: E402
from peers import (ALL_SUITES, PSK_SUITES, COAP_PSK, COAP_IDENTITY, MESSAGE, name)  # noqa: E402
from dtls_helpers import PSK, IDENTITY, Net, free_udp_port, suite_table, v4   # noqa: E402
import coap_dtls                                           # noqa: E402
from nxsecure import *                                     # noqa: E402,F401,F403

try:
    import pytest
except ImportError:          # tools/interop_report.py runs without pytest
    pytest = None

OUR_CLIENT = "our client"    # the peer is the server
OUR_SERVER = "our server"    # the peer is the client
ROLES = (OUR_CLIENT, OUR_SERVER)
HANDSHAKE_S = 5              # our side's handshake budget (everything here is loopback)
STEP_S = 4                   # any later step (data, peer output, peer exit)

TINYDTLS_SUITES = (0xC0A8, 0xC0A4)
COAP_SUITES = PSK_SUITES + (0xC037, 0xC0AE, 0xC0AC, 0xC02B, 0xC023, 0xC02F, 0xC027, 0x002F, 0x003C)

# peer -> (suites, roles, what must be installed: commands or Python modules)
PEERS = {
    "openssl": (ALL_SUITES, ROLES, ["openssl"]),
    "gnutls": (ALL_SUITES, ROLES, ["gnutls-serv", "gnutls-cli"]),
    "mbedtls": (ALL_SUITES, ROLES, ["py:mbedtls"]),
    "tinydtls": (TINYDTLS_SUITES, ROLES, ["py:DTLSSocket"]),
    "coap-openssl": (COAP_SUITES, ROLES, ["coap-server-openssl", "coap-client-openssl"]),
    "coap-gnutls": (COAP_SUITES, ROLES, ["coap-server-gnutls", "coap-client-gnutls"]),
    "aiocoap": (TINYDTLS_SUITES, ROLES, ["py:aiocoap", "py:DTLSSocket"]),
}

# (peer, suite, role) -> (regex the peer's own output must match, why). Each one was
# seen on these machines (PEERS.md versions); the regex is checked on every run.
LIMITATIONS = {
    ("gnutls", 0xC037, OUR_SERVER): (
        r"free\(\)|double free|Segmentation|core dumped|Aborted|signal 6|signal 11|"
        r"exit status -6|exit status -11",
        "gnutls-cli 3.7 crashes in an ECDHE-PSK-CBC handshake (its own bug; gnutls-serv "
        "does the same suite with our client)"),
}
# coap-server-openssl refuses the PSK CBC suites (libcoap's OpenSSL server context sets
# a PSK cipher list without them); coap-client-openssl and the GnuTLS build do them.
for _s in (0x00AE, 0xC037):
    LIMITATIONS[("coap-openssl", _s, OUR_CLIENT)] = (
        r"no shared cipher|NO_SHARED_CIPHER|no ciphers available|handshake failure",
        "coap-server-openssl accepts no PSK CBC suite (coap-client-openssl and libcoap's "
        "GnuTLS build do)")

# libcoap's OpenSSL build leaves TLS_RSA_WITH_AES_128_CBC_SHA out of its cipher list in
# both roles: coap-server-openssl answers "no shared cipher", and coap-client-openssl
# does not offer it (our server has no common suite: NO_SUPPORTED_CIPHERS, and the
# client logs the handshake_failure alert). Its SHA-256 sibling 0x003C works.
for _r in (OUR_CLIENT, OUR_SERVER):
    LIMITATIONS[("coap-openssl", 0x002F, _r)] = (
        r"no shared cipher|NO_SHARED_CIPHER|handshake failure",
        "libcoap's OpenSSL build does not use TLS_RSA_WITH_AES_128_CBC_SHA (its GnuTLS "
        "build does)")

RESULTS = {}       # (peer, suite, role) -> dict(result, ms, note)


# ======================================================================== helpers
def installed(need):
    if need.startswith("py:"):
        import importlib.util
        return importlib.util.find_spec(need[3:]) is not None
    return shutil.which(need) is not None


def missing(peer):
    return [n for n in PEERS[peer][2] if not installed(n)]


_CERTS = {}


def certs():
    """root -> leaf chains (P-256, RSA-2048), made once per run, written to a temp dir."""
    if not _CERTS:
        d = tempfile.mkdtemp(prefix="nxsecure-interop-")
        _CERTS["dir"] = d
        _CERTS.update(peers.write_certs(d))
    return _CERTS


def coap_ready(coap_port, seconds=STEP_S):
    """libcoap prints nothing when bound: a CoAP ping (empty CON) on the plain CoAP
    port gets a RST once the server runs (its DTLS port is bound at the same time)."""
    ping = coap_dtls.coap_encode(coap_dtls.CON, 0, 0x1234)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            s.sendto(ping, ("127.0.0.1", coap_port))
            try:
                data = s.recv(64)
                if data and (data[0] >> 4) & 3 == coap_dtls.RST:
                    return True
            except (socket.timeout, OSError):
                time.sleep(0.02)
        return False
    finally:
        s.close()


class Cell:
    """One run: the peer process, our side, the outcome."""

    def __init__(self, peer, suite, role):
        self.peer, self.suite, self.role = peer, suite, role
        self.proc = None
        self.ms = None
        self.why = ""

    def fail(self, why):
        self.why = why
        return False


def pump(cond, seconds, service=None, proc=None):
    """Let the stack run until cond(); give up early when the peer process died (then
    one more short look)."""
    end = time.monotonic() + seconds
    dead_at = None
    while not cond():
        now = time.monotonic()
        if now > end:
            return False
        if proc is not None and not proc.alive():
            dead_at = dead_at or now
            if now - dead_at > 0.3:
                return cond()
        if service is not None:
            service(1)
        else:
            tx_thread_sleep(1)
    return True


def settle(proc, seconds=1.0):
    """After a failure: give the peer a moment to log why (or exit)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and proc.alive() and not proc.evidence():
        time.sleep(0.02)
    time.sleep(0.1)


def our_credentials(suite, coap):
    c = certs()
    k = peers.cert_kind(suite)
    psk, ident = (COAP_PSK, COAP_IDENTITY) if coap else (PSK, IDENTITY)
    return psk, ident, c[k]


# ======================================================================== our client
def start_peer_server(cell, udp_port):
    p, s = cell.peer, cell.suite
    c = certs()
    if p == "openssl":
        proc = peers.openssl_server(udp_port, s, c)
        ok = proc.wait_output(b"ACCEPT", STEP_S)
    elif p == "gnutls":
        proc = peers.gnutls_server(udp_port, s, c, c["dir"])
        # "...done" follows the bind (the line itself comes before it): a client
        # sent off earlier would be refused, and is told so at once
        ok = proc.wait_output(b"IPv4 0.0.0.0 port %d...done" % udp_port, STEP_S, stream="any")
    elif p in ("mbedtls", "tinydtls"):
        proc = peers.script(p + "-server", udp_port, s, c["dir"])
        ok = proc.wait_output(b"READY", STEP_S)
    elif p.startswith("coap-"):
        proc = peers.coap_server(p[5:], udp_port - 1, s, c)
        ok = coap_ready(udp_port - 1)
    else:   # aiocoap
        proc = peers.script("aiocoap-server", udp_port, s)
        ok = proc.wait_output(b"READY", STEP_S + 4)
    cell.proc = proc
    return ok


def run_our_client(cell, net):
    coap = cell.peer.startswith("coap-") or cell.peer == "aiocoap"
    udp_port = free_udp_port()
    if cell.peer.startswith("coap-"):
        while udp_port > 60000 or not _free(udp_port - 1):
            udp_port = free_udp_port()
    if not start_peer_server(cell, udp_port):
        return cell.fail("peer server did not come up: " + cell.proc.evidence())
    psk, ident, kc = our_credentials(cell.suite, coap)
    trusted = () if peers.uses_psk(cell.suite) else (kc["root_der"],)
    cli = coap_dtls.CoapClient(net.ip, net.pool, suite_table(cell.suite), psk=psk,
                               identity=ident, trusted=trusted)
    net.clients.append(cli)
    if cli.status:
        return cell.fail("client setup 0x%X" % cli.status)
    address = v4()
    end = time.monotonic() + HANDSHAKE_S
    status = cli.connect(address, udp_port, NX_IP_PERIODIC_RATE // 5)
    while status == NX_CONTINUE and time.monotonic() < end and cell.proc.alive():
        status = cli.connect(address, udp_port, NX_IP_PERIODIC_RATE // 5)
    if status == NX_CONTINUE:
        status = cli.connect(address, udp_port, NX_IP_PERIODIC_RATE // 5)
    if status != NX_SUCCESS:
        settle(cell.proc)
        return cell.fail("handshake 0x%X; peer: %s" % (status, cell.proc.evidence()))
    if cli.suite() != cell.suite:
        return cell.fail("negotiated 0x%04X" % (cli.suite() or 0))
    cell.ms = cli.handshake_ms
    # application data
    if coap:
        path = "temperature" if cell.peer == "aiocoap" else "time"
        status, msg = cli.get(path, wait=STEP_S * NX_IP_PERIODIC_RATE)
        if msg is None or msg["code"] != coap_dtls.CONTENT:
            return cell.fail("GET /%s: 0x%X %r; peer: %s" % (path, status, msg,
                                                             cell.proc.evidence()))
        if cell.peer == "aiocoap" and msg["payload"] != b"19.0 C":
            return cell.fail("payload %r" % msg["payload"])
        cli.close()
        net.clients.remove(cli)
        return True
    st = coap_dtls._send(cli.session, net.pool, MESSAGE, False, address, udp_port)
    if st:
        return cell.fail("send 0x%X" % st)
    if cell.peer == "openssl":
        # s_server prints what it got and sends what is typed on its stdin
        if not cell.proc.wait_output(MESSAGE, STEP_S):
            return cell.fail("s_server did not print our data: " + cell.proc.evidence())
        cell.proc.write(MESSAGE)
    got = b""
    end = time.monotonic() + STEP_S
    while len(got) < len(MESSAGE) and time.monotonic() < end:
        st, pkt = nx_secure_dtls_session_receive(cli.session, NX_IP_PERIODIC_RATE // 5)
        if st == NX_SUCCESS:
            got += coap_dtls._packet_bytes(pkt)
            nx_packet_release(pkt)
        elif st not in (NX_NO_PACKET, NX_CONTINUE):
            break
    if got != MESSAGE:
        return cell.fail("echo %r; peer: %s" % (got, cell.proc.evidence()))
    cli.close()
    net.clients.remove(cli)
    return True


def _free(udp_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", udp_port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ======================================================================== our server
class EchoServer(coap_dtls.CoapServer):
    """The example's responder loop with an echo instead of CoAP."""

    def respond(self, data):
        self.served.append((0, "echo", 0))
        return data


def start_peer_client(cell, udp_port):
    p, s = cell.peer, cell.suite
    c = certs()
    if p == "openssl":
        return peers.openssl_client(udp_port, s, c)
    if p == "gnutls":
        return peers.gnutls_client(udp_port, s, c)
    if p in ("mbedtls", "tinydtls"):
        return peers.script(p + "-client", udp_port, s, c["dir"])
    if p.startswith("coap-"):
        return peers.coap_client(p[5:], udp_port, s, c)
    return peers.script("aiocoap-client", udp_port, s)


def run_our_server(cell, net):
    coap = cell.peer.startswith("coap-") or cell.peer == "aiocoap"
    udp_port = free_udp_port()
    psk, ident, kc = our_credentials(cell.suite, coap)
    local = () if peers.uses_psk(cell.suite) else ((kc["leaf_der"], kc["key_der"]),)
    cls = coap_dtls.CoapServer if coap else EchoServer
    srv = cls(net.ip, net.pool, udp_port, suite_table(cell.suite), psk=psk, identity=ident,
              hint=b"hint", local_certs=local)
    net.servers_.append(srv)
    if srv.status:
        return cell.fail("server setup 0x%X" % srv.status)
    proc = cell.proc = start_peer_client(cell, udp_port)
    service = lambda t: srv.service(t, HANDSHAKE_S * NX_IP_PERIODIC_RATE)   # noqa: E731
    if not pump(lambda: srv.handshakes, HANDSHAKE_S + 1, service, proc):
        return cell.fail("no handshake (errors %r); peer: %s" % (
            [hex(e) for e in srv.errors], proc.evidence()))
    status, ms, suite = srv.handshakes[0]
    if status != NX_SUCCESS:
        # let the peer finish saying why
        pump(lambda: not proc.alive(), 1, service)
        return cell.fail("handshake 0x%X; peer: %s" % (status, proc.evidence()))
    if suite != cell.suite:
        return cell.fail("negotiated 0x%04X" % suite)
    cell.ms = ms
    if cell.peer in ("openssl", "gnutls"):
        if cell.peer == "gnutls":
            # gnutls-cli reads stdin only once it printed its handshake summary
            proc.wait_output(b"Handshake was completed", STEP_S, stream="any")
        proc.write(MESSAGE)
        ok = pump(lambda: MESSAGE in proc.out, STEP_S, service, proc)
    elif cell.peer in ("mbedtls", "tinydtls"):
        ok = pump(lambda: b"ECHO OK" in proc.out, STEP_S, service, proc)
    elif cell.peer == "aiocoap":
        ok = pump(lambda: b"COAP 2.05 Content b'21.5 C'" in proc.out, STEP_S + 2, service,
                  proc)
    else:   # libcoap prints the payload and exits 0
        ok = pump(lambda: coap_dtls.TEMPERATURE in proc.out, STEP_S, service, proc)
    if not ok:
        return cell.fail("data: served %r; peer: %s" % (srv.served, proc.evidence()))
    if not srv.served:
        return cell.fail("nothing served")
    return True


# ======================================================================== one cell
class _Net(Net):
    def __init__(self):
        super().__init__(packets=48)
        self.clients = []
        self.servers_ = []

    def close(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:      # noqa: BLE001
                pass
        for s in self.servers_:
            try:
                s.close()
            except Exception:      # noqa: BLE001
                pass
        super().close()


def run_cell(peer, suite, role):
    """Run one cell; returns (outcome, ms, note) with outcome "pass", "peer limitation"
    or "FAIL", and records it in RESULTS."""
    cell = Cell(peer, suite, role)
    net = _Net()
    t0 = time.monotonic()
    try:
        ok = (run_our_client if role == OUR_CLIENT else run_our_server)(cell, net)
    except Exception as e:          # noqa: BLE001
        ok = cell.fail("%s: %s" % (type(e).__name__, e))
        if cell.proc is not None:
            settle(cell.proc)
            cell.why += "; peer: " + cell.proc.evidence()
    finally:
        if cell.proc is not None:
            if cell.proc.alive():
                cell.proc.wait_exit(0.3)
            cell.proc.close()
        net.close()
    limit = LIMITATIONS.get((peer, suite, role))
    note = cell.why
    if ok and limit is None:
        outcome = "pass"
    elif not ok and limit is not None:
        rc = cell.proc.proc.returncode if cell.proc is not None else None
        evidence = cell.why + (" | exit status %s" % rc if rc is not None else "")
        if rc is not None and rc < 0:
            evidence += (" (SIGKILL: ended by the test's cleanup)" if rc == -9 else
                         " (killed by signal %d%s)" % (-rc, ", SIGSEGV" if rc == -11 else ""))
        if re.search(limit[0], evidence):
            outcome = "peer limitation"
            note = "%s. Evidence: %s" % (limit[1], _short(evidence))
        else:
            outcome = "FAIL"
            note = "expected the known peer failure (%s), got: %s" % (limit[1], evidence)
    elif ok:
        outcome = "FAIL"
        note = "listed as a peer limitation but passed: remove it from LIMITATIONS"
    else:
        outcome = "FAIL"
    RESULTS[(peer, suite, role)] = {"result": outcome, "ms": cell.ms, "note": note,
                                    "wall": time.monotonic() - t0}
    return outcome, cell.ms, note


def _short(text, n=300):
    text = " ".join(text.split())
    return text if len(text) <= n else "..." + text[-n:]


def cells():
    out = []
    for peer, (suites, roles, _) in PEERS.items():
        for role in roles:
            for suite in suites:
                out.append((peer, suite, role))
    return out


def matrix_lines(results=None, markdown=False):
    results = RESULTS if results is None else results
    roles = ROLES
    lines = []
    if markdown:
        lines.append("| peer | suite | %s | %s |" % roles)
        lines.append("|---|---|---|---|")
    else:
        lines.append("%-13s %-22s %-24s %-24s" % (("peer", "suite") + roles))
    seen = [(p, s) for p, (suites, _, _) in PEERS.items() for s in suites]
    notes = []
    for p, s in seen:
        if all((p, s, role) not in results for role in roles):
            continue
        row = []
        for role in roles:
            r = results.get((p, s, role))
            if r is None:
                row.append("-")
            elif r["result"] == "pass":
                row.append("pass %4d ms" % r["ms"])
            elif r["result"] == "peer limitation":
                notes.append((p, s, role, r["note"]))
                row.append("peer limitation [%d]" % len(notes))
            elif r["result"] == "skip":
                row.append("skip (%s)" % r["note"])
            else:
                notes.append((p, s, role, r["note"]))
                row.append("FAIL [%d]" % len(notes))
        if markdown:
            lines.append("| %s | %s | %s | %s |" % (p, name(s), row[0], row[1]))
        else:
            lines.append("%-13s %-22s %-24s %-24s" % (p, name(s), row[0], row[1]))
    if notes:
        lines.append("")
        for i, (p, s, role, note) in enumerate(notes, 1):
            lines.append("[%d] %s %s %s: %s" % (i, p, name(s), role, note))
    passed = sum(1 for r in results.values() if r["result"] == "pass")
    lim = sum(1 for r in results.values() if r["result"] == "peer limitation")
    failed = sum(1 for r in results.values() if r["result"] == "FAIL")
    lines.append("")
    lines.append("%d cells: %d pass, %d peer limitation, %d FAIL" % (len(results), passed, lim,
                                                                    failed))
    return lines


# ======================================================================== pytest
if pytest is not None:
    @pytest.mark.parametrize("peer,suite,role", cells(),
                             ids=["%s-%s-%s" % (p, name(s), r.replace(" ", "-"))
                                  for p, s, r in cells()])
    def test_interop(peer, suite, role):
        gone = missing(peer)
        if gone:
            RESULTS[(peer, suite, role)] = {"result": "skip", "ms": None,
                                            "note": "not installed: " + ", ".join(gone)}
            pytest.skip("not installed: " + ", ".join(gone))
        outcome, ms, note = run_cell(peer, suite, role)
        assert outcome != "FAIL", note

    def test_zz_matrix():
        """Prints the matrix (shown with -rA) and writes build/interop-matrix.md."""
        lines = matrix_lines()
        print("\nDTLS interop matrix (handshake ms measured on our side)\n" + "\n".join(lines))
        os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
        with open(os.path.join(ROOT, "build", "interop-matrix.md"), "w") as f:
            f.write("# DTLS 1.2 interop matrix\n\n" + "\n".join(matrix_lines(markdown=True))
                    + "\n")
