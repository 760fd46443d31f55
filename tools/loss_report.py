"""Lossy-link report (`make loss-report` -> build/loss-report.md).

PSK handshakes (TLS_PSK_WITH_AES_128_CCM_8, with the server's identity hint) through the
seeded UDP proxy (host_tests/udp_proxy.py: loss, duplication, reordering, delay jitter,
on real 127.0.0.1 sockets) for every pairing that can be scripted: our client and our
server, our client against `openssl s_server`, `gnutls-serv` and an Mbed TLS server
(python-mbedtls), `openssl s_client`, `gnutls-cli` and an Mbed TLS client against our
server, and as reference rows the same stacks against themselves (OpenSSL-OpenSSL,
GnuTLS-GnuTLS, Mbed TLS-Mbed TLS) on the same proxy and seeds. Each direction loses
the setting's share of datagrams and duplicates 5 %, holds back 10 % behind the next
datagram, delays each by 0-30 ms.

Every stack runs its real timers: ours the defaults of nxsecure/config.py (1 s doubling
to 60 s, 8 transmissions of a flight, the server's 40 s handshake deadline), OpenSSL 3.0
1 s doubling to 60 s (it fails after 12 timeouts of one flight), GnuTLS 1 s doubling
with a 60 s limit on the whole handshake, Mbed TLS 1 s doubling to 60 s. A run is cut
off at --limit seconds. The default comes from the stacks' own give-up schedules, not
from the result: it is the time at which our client gives up a flight it keeps
sending (config.py: 8 transmissions on 1-2-4-8-16-32-60-60 s timeouts, 183 s), the
longest give-up of the stacks in the pairings with ours except OpenSSL's (12 timeouts
of one flight, about 423 s): our server ends a handshake 40 s after the
cookie-verified ClientHello, gnutls-cli gives up the handshake about 46 s after its
start (its 60 s total limit, as measured here), Mbed TLS a flight 123 s after its first
transmission (1 s doubling capped at 60 s, 7 transmissions). --also-at (default 60)
adds the completion within that shorter time, from the same runs.

What the link permits: the cookie exchange depends on the client's retransmissions
alone (the server keeps no state before the cookie, RFC 6347 4.2.1), and a try gets
through only if the ClientHello and the HelloVerifyRequest both do, (1 - loss)^2. A
client on the RFC 6347 4.2.4.1 schedule (1 s doubling) sends n tries by a time limit
(6 by 60 s: 0, 1, 3, 7, 15, 31 s; 8 by 183 s, adding 63 and 123 s), so no stack can
complete more than 1 - (1 - (1 - loss)^2)^n of its handshakes within it; the header
gives that bound for each setting and limit (the later flights can only lower it).

A run completes when the client reports the handshake done (it needs the server's
Finished, so the server is done too). Each failure is classified from the proxy's
per-datagram log (which flights were delivered whole, and when) and from what each
side reported:
  record discarded  a flight reached its receiver whole (every fragment, the
                    ChangeCipherSpec, the protected Finished) and the receiver never
                    answered it: it threw away something it was given
  gave up           one side ended the handshake before the limit (our session's error
                    code, a peer process that exited) while a flight was still missing
  lost past limit   both sides were still retransmitting when the limit came: the
                    flight never got through whole in time
"""
import argparse
import multiprocessing
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "host_tests")]

SETTINGS = {  # key: (label, loss permille, mtu)
    "10": ("10% loss", 100, None),
    "30": ("30% loss", 300, None),
    "50": ("50% loss", 500, None),
    "10m256": ("10% loss, MTU 256", 100, 256),
}
DUP, REORDER, JITTER_MS = 50, 100, 30
# pairing: (client, server)
PAIRINGS = {
    "ours-ours": ("ours", "ours"),
    "ours/openssl": ("ours", "openssl"),
    "openssl/ours": ("openssl", "ours"),
    "ours/gnutls": ("ours", "gnutls"),
    "gnutls/ours": ("gnutls", "ours"),
    "ours/mbedtls": ("ours", "mbedtls"),
    "mbedtls/ours": ("mbedtls", "ours"),
    "openssl/openssl": ("openssl", "openssl"),
    "gnutls/gnutls": ("gnutls", "gnutls"),
    "mbedtls/mbedtls": ("mbedtls", "mbedtls"),
}
CLIENT_DONE = {"openssl": b"Cipher is", "gnutls": b"Handshake was completed",
               "mbedtls": b"HANDSHAKE"}
NAMES = {"ours": "nxsecure", "openssl": "OpenSSL", "gnutls": "GnuTLS", "mbedtls": "Mbed TLS"}


def _free_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ============================================================== peers (processes)
def _peer_server(kind, port, mtu, workdir):
    from dtls_helpers import OpenSSL, CCM8, PSK, IDENTITY, HINT
    import peers
    if kind == "openssl":
        extra = ["-mtu", str(mtu)] if mtu else []
        p = OpenSSL.s_server(port, CCM8, extra=extra)
        ready = p.wait_output(b"ACCEPT", 10)
    elif kind == "gnutls":
        pw = os.path.join(workdir, "psk.txt")
        with open(pw, "w") as f:
            f.write("%s:%s\n" % (IDENTITY.decode(), PSK.hex()))
        args = ["gnutls-serv", "--udp", "--port", str(port), "--priority",
                peers.gnutls_priority(CCM8), "--echo", "--pskpasswd", pw,
                "--pskhint", HINT.decode()]
        if mtu:
            args += ["--mtu", str(mtu)]
        p = _gnutls_server(args)
        ready = p.wait_output(b"listening on IPv4", 10, stream="any")
    else:
        p = _script("mbedtls-server", port, mtu)
        ready = p.wait_output(b"READY", 20)
    if not ready:
        p.close()
        raise RuntimeError("%s server did not start: %s" % (kind, p.transcript()))
    return p


def _gnutls_server(args):
    """gnutls-serv whose output stays bounded. Once a DTLS handshake failed, its UDP loop
    prints "Waiting for connection..." without pause and spins a core while the
    client's retransmissions sit in its socket (GnuTLS 3.7.9): it has given up that
    handshake. Left alone it fills gigabytes of output within a run limit and starves
    the other runs; it is stopped then, and the time noted (a "gave up" failure)."""
    import peers

    class GnutlsServer(peers.Proc):
        gave_up_at = None

        def _pump(self, stream, sink):
            seen = 0
            while True:
                chunk = stream.read1(4096)
                if not chunk:
                    break
                seen += chunk.count(b"Waiting for connection")
                with self._cond:
                    if len(sink) < 65536:
                        sink += chunk
                    self._cond.notify_all()
                if seen > 3 and self.gave_up_at is None:
                    self.gave_up_at = time.monotonic()
                    self.proc.kill()
            with self._cond:
                self._cond.notify_all()

    return GnutlsServer(args)


def _peer_client(kind, port, mtu):
    from dtls_helpers import OpenSSL, CCM8, PSK, IDENTITY
    import peers
    if kind == "openssl":
        extra = ["-mtu", str(mtu)] if mtu else []
        return OpenSSL.s_client("127.0.0.1", port, CCM8, quiet=False, extra=extra)
    if kind == "gnutls":
        args = ["gnutls-cli", "--udp", "--port", str(port), "--priority",
                peers.gnutls_priority(CCM8), "--pskusername", IDENTITY.decode(),
                "--pskkey", PSK.hex(), "127.0.0.1"]
        if mtu:
            args += ["--mtu", str(mtu)]
        return peers.Proc(args)
    return _script("mbedtls-client", port, mtu)


def _script(mode, port, mtu):
    import peers
    args = [sys.executable, os.path.abspath(__file__), "--peer", mode, "--port", str(port)]
    if mtu:
        args += ["--mtu", str(mtu)]
    return peers.Proc(args, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _mbedtls_conf(server, mtu):
    from mbedtls import tls
    from dtls_helpers import PSK, IDENTITY
    kw = dict(ciphers=["TLS-PSK-WITH-AES-128-CCM-8"],
              lowest_supported_version=tls.DTLSVersion.DTLSv1_2,
              highest_supported_version=tls.DTLSVersion.DTLSv1_2,
              handshake_timeout_min=1.0, handshake_timeout_max=60.0)
    if server:
        kw["pre_shared_key_store"] = {IDENTITY.decode(): PSK}
    else:
        kw["pre_shared_key"] = (IDENTITY.decode(), PSK)
    return tls.DTLSConfiguration(**kw)


def peer_main(mode, port, mtu):
    """An Mbed TLS peer (python-mbedtls, its own process): READY, then HANDSHAKE when
    its handshake is done, ERROR <what> when it gave up. python-mbedtls's socket
    wrapper blocks in recv() during the handshake, so Mbed TLS's retransmission timer
    would never run: this loop drives the buffer interface itself, calling into
    Mbed TLS at least every 50 ms (its timer callback decides when to resend), and
    after the handshake keeps reading so that a repeated final flight of the client
    is answered (Mbed TLS resends its last flight from its read path)."""
    import select
    import socket
    from mbedtls import tls

    def say(*a):
        print(*a, flush=True)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server = mode == "mbedtls-server"
    try:
        if server:
            sock.bind(("127.0.0.1", port))
            ctx = tls.ServerContext(_mbedtls_conf(True, mtu))
            peer = None
        else:
            sock.bind(("127.0.0.1", 0))
            ctx = tls.ClientContext(_mbedtls_conf(False, mtu))
            peer = ("127.0.0.1", port)
        buf = ctx.wrap_buffers(None) if not server else ctx.wrap_buffers()
        if mtu:
            buf.setmtu(mtu)
        say("READY")
        done = False
        while True:
            try:
                if not done:
                    buf.do_handshake()          # one step of the handshake
                    if buf._handshake_state is tls.HandshakeStep.HANDSHAKE_OVER:
                        done = True
                        say("HANDSHAKE", buf.cipher())
                    else:
                        _flush(buf, sock, peer)
                        continue
                else:
                    buf.read(4096)
            except tls.WantReadError:
                pass
            except tls.WantWriteError:
                pass
            except tls.HelloVerifyRequest:
                # the hello had no valid cookie: a HelloVerifyRequest went out; the
                # next hello starts a new handshake
                _flush(buf, sock, peer)
                buf = ctx.wrap_buffers()
                continue
            _flush(buf, sock, peer)
            r, _, _ = select.select([sock], [], [], 0.05)
            if r:
                data, addr = sock.recvfrom(4096)
                if server and not done:
                    if peer is None or addr != peer:
                        peer = addr
                    buf.setcookieparam(("%s:%d" % addr).encode("ascii"))
                if addr == peer:
                    buf.receive_from_network(data)
    except Exception as e:     # noqa: BLE001  (the peer's own error is the evidence)
        say("ERROR %s: %s" % (type(e).__name__, e))
        return 1
    return 0


def _flush(buf, sock, peer):
    while peer is not None:
        out = buf.peek_outgoing(4096)
        if not out:
            return
        sock.sendto(out, peer)
        buf.consume_outgoing(len(out))


# ============================================================== one run
class Run:
    def __init__(self, pairing, setting, seed, limit):
        self.pairing = pairing
        self.client, self.server = PAIRINGS[pairing]
        self.label, self.loss, self.mtu = SETTINGS[setting]
        self.setting = setting
        self.seed = seed
        self.limit = limit
        self.gave_up = []        # (time since start, side, what)

    def go(self):
        from nxsecure import (NX_SUCCESS, NX_IP_PERIODIC_RATE, NX_NO_WAIT, netx,
                              nx_secure_dtls_server_session_start,
                              nx_secure_dtls_client_session_start, nxsecure_dtls_session_mtu_set,
                              nxsecure_dtls_server_mtu_set)
        from dtls_helpers import Net, make_client, make_server, v4, suite_table, CCM8
        from udp_proxy import UdpProxy
        net = srv = cli = proxy = None
        workdir = tempfile.mkdtemp(prefix="loss-")
        sp = _free_port()
        ok = False
        t0 = time.monotonic()
        ticks = int(self.limit * NX_IP_PERIODIC_RATE)
        try:
            if "ours" in (self.client, self.server):
                net = Net()
            if self.server == "ours":
                server, events = make_server(net, sp, table=suite_table(CCM8), sessions=2)
                events.errors = _Timed()
                events.on_connect = lambda s, a, p: nx_secure_dtls_server_session_start(
                    s, NX_NO_WAIT)
                if self.mtu:
                    nxsecure_dtls_server_mtu_set(server, self.mtu)
            else:
                srv = _peer_server(self.server, sp, self.mtu, workdir)
            proxy = UdpProxy(("127.0.0.1", sp), seed=self.seed, loss=self.loss, duplicate=DUP,
                             reorder=REORDER, delay_ms=JITTER_MS)
            t0 = time.monotonic()
            if self.client == "ours":
                session, sock = make_client(net, table=suite_table(CCM8))
                if self.mtu:
                    nxsecure_dtls_session_mtu_set(session, self.mtu)
                st = nx_secure_dtls_client_session_start(session, sock, v4(), proxy.port, ticks)
                ok = st == NX_SUCCESS
                self.status = st
                if not ok and time.monotonic() - t0 < self.limit - 0.5:
                    self.gave_up.append((time.monotonic() - t0, "client", "status 0x%x" % st))
            else:
                cli = _peer_client(self.client, proxy.port, self.mtu)
                mark = CLIENT_DONE[self.client]

                def done():
                    return mark in cli.out

                if net is not None:
                    netx._wait(lambda: done() or not _alive(cli), ticks)
                else:
                    end = t0 + self.limit
                    while time.monotonic() < end and not done() and _alive(cli):
                        time.sleep(0.02)
                ok = done()
                if not ok and not _alive(cli):
                    self.gave_up.append((time.monotonic() - t0, "client", _tail(cli)))
            self.dt = time.monotonic() - t0
            if not ok:
                if self.server == "ours":
                    for s, code, at in events.errors:
                        self.gave_up.append((at - t0, "server", "error_notify 0x%x" % code))
                elif srv is not None and not _alive(srv):
                    at = getattr(srv, "gave_up_at", None)
                    self.gave_up.append((None if at is None else at - t0, "server",
                                         "spinning in its accept loop" if at else _tail(srv)))
            self.ok = ok
            self.tails = [(w, _tail(p)) for w, p in (("client", cli), ("server", srv))
                          if p is not None]
            self.log = proxy.log
            self.t0 = t0
            return self
        finally:
            if proxy is not None:
                proxy.close()
            for p in (cli, srv):
                if p is not None:
                    p.close()
            if net is not None:
                net.close()
            shutil.rmtree(workdir, ignore_errors=True)    # a run's peer files only

    def result(self, at):
        """(completed, seconds, cause) at the limit, and (completed, cause) when the
        run is cut at `at` seconds instead (the same run: nothing after the cut is
        looked at)."""
        cause = "" if self.ok else classify(self)
        ok_at = self.ok and self.dt <= at
        cause_at = "" if ok_at else classify(self, at)
        return (self.ok, self.dt, cause, ok_at, cause_at)


class _Timed(list):
    """The server's error notifications, each with when it came."""

    def append(self, x):
        list.append(self, tuple(x) + (time.monotonic(),))


def _alive(proc):
    return proc.proc.poll() is None


def _tail(proc):
    text = (proc.out + b" " + proc.err).decode("utf-8", "replace").split()
    return " ".join(text[-12:])


# ============================================================== failure classes
_CT_CCS, _CT_HS = 20, 22
_HVR, _SH, _NST, _FIN = 3, 2, 4, 20


def _records(data):
    """(content type, epoch, [(msg_type, msg_seq, frag_off, frag_len, length)]) per
    record; the list is None for a protected record."""
    out = []
    p = 0
    while p + 13 <= len(data):
        ctype = data[p]
        epoch = (data[p + 3] << 8) | data[p + 4]
        n = (data[p + 11] << 8) | data[p + 12]
        body = data[p + 13:p + 13 + n]
        p += 13 + n
        hs = None
        if ctype == _CT_HS and epoch == 0:
            hs = []
            q = 0
            while q + 12 <= len(body):
                t = body[q]
                length, = struct.unpack(">I", b"\0" + body[q + 1:q + 4])
                mseq, = struct.unpack(">H", body[q + 4:q + 6])
                off, = struct.unpack(">I", b"\0" + body[q + 6:q + 9])
                flen, = struct.unpack(">I", b"\0" + body[q + 9:q + 12])
                hs.append((t, mseq, off, flen, length))
                q += 12 + flen
        out.append((ctype, epoch, hs))
    return out


class _Flight:
    """The pieces of one flight seen on the wire, and when each was first delivered."""

    def __init__(self, name, direction):
        self.name = name
        self.dir = direction
        self.msgs = {}         # (type, seq) -> [length, [(off, end, delivered at)]]
        self.ccs = None        # first delivery of a ChangeCipherSpec (None: not part)
        self.fin = None        # first delivery of a protected handshake record
        self.has_ccs = False
        self.first_sent = None

    def complete_at(self):
        """When the last missing piece arrived (None: never whole)."""
        last = 0.0
        if not self.msgs and not self.has_ccs:
            return None
        for length, pieces in self.msgs.values():
            t = None
            seen = []
            for a, b, at in sorted(pieces, key=lambda x: x[2]):
                seen.append((a, b))
                if _covered(seen) >= length:
                    t = at
                    break
            if t is None:
                return None
            last = max(last, t)
        if self.has_ccs:
            if self.ccs is None or self.fin is None:
                return None
            last = max(last, self.ccs, self.fin)
        return last


def _covered(ranges):
    n = 0
    hi = 0
    for a, b in sorted(ranges):
        if b <= hi:
            continue
        n += b - max(a, hi)
        hi = b
    return n


def flights(log, t0):
    """The six flights of a full handshake with a cookie exchange (RFC 6347 4.2.4),
    from the proxy's log: 1 ClientHello, 2 HelloVerifyRequest, 3 ClientHello with the
    cookie, 4 ServerHello..ServerHelloDone, 5 ClientKeyExchange + CCS + Finished,
    6 [NewSessionTicket] + CCS + Finished."""
    f = [None] + [_Flight(i, "up" if i % 2 else "down") for i in range(1, 7)]
    f[5].has_ccs = f[6].has_ccs = True
    hello_seqs = sorted({hs[1] for e in log if e[1] == "up" for ct, ep, hl in _records(e[2])
                         if hl for hs in hl if hs[0] == 1})
    cookie = any(hs[0] == _HVR for e in log if e[1] == "down"
                 for ct, ep, hl in _records(e[2]) if hl for hs in hl)
    for t_in, direction, data, dropped, outs in log:
        at = min(outs) - t0 if outs else None
        for ctype, epoch, hs in _records(data):
            if direction == "up":
                if ctype == _CT_HS and hs:
                    for t, mseq, off, flen, length in hs:
                        if t == 1:
                            k = 1 if cookie and mseq == hello_seqs[0] else 3
                        else:
                            k = 5
                        _piece(f[k], t, mseq, off, flen, length, at, t_in - t0)
                elif ctype == _CT_CCS:
                    _mark(f[5], "ccs", at, t_in - t0)
                elif ctype == _CT_HS and epoch == 1:
                    _mark(f[5], "fin", at, t_in - t0)
            else:
                if ctype == _CT_HS and hs:
                    for t, mseq, off, flen, length in hs:
                        k = 2 if t == _HVR else 6 if t == _NST else 4
                        _piece(f[k], t, mseq, off, flen, length, at, t_in - t0)
                elif ctype == _CT_CCS:
                    _mark(f[6], "ccs", at, t_in - t0)
                elif ctype == _CT_HS and epoch == 1:
                    _mark(f[6], "fin", at, t_in - t0)
    if not cookie:
        f[1] = f[2] = None
    return f


def _piece(fl, t, mseq, off, flen, length, at, sent):
    if fl.first_sent is None:
        fl.first_sent = sent
    m = fl.msgs.setdefault((t, mseq), [length, []])
    if at is not None:
        m[1].append((off, off + flen, at))


def _mark(fl, what, at, sent):
    if fl.first_sent is None:
        fl.first_sent = sent
    if at is not None and (getattr(fl, what) is None or at < getattr(fl, what)):
        setattr(fl, what, at)


def classify(run, cut=None):
    """The cause of one failed run (see the module docstring); with `cut`, of the run
    as if it had been stopped `cut` seconds after its start."""
    side = {"up": "server", "down": "client"}
    log = run.log
    gave_up = run.gave_up
    if cut is not None:
        end = run.t0 + cut
        log = [[t, d, data, dropped, [o for o in outs if o <= end]]
               for t, d, data, dropped, outs in log if t <= end]
        gave_up = [g for g in gave_up if g[0] is None or g[0] <= cut]
    f = flights(log, run.t0)
    done_at = {}
    for k in range(1, 7):
        if f[k] is not None:
            c = f[k].complete_at()
            if c is not None:
                done_at[k] = c
    whole = [k for k in done_at]
    last = max(whole) if whole else 0
    if last:
        nxt = f[last + 1] if last < 6 else None
        answered = nxt is not None and nxt.first_sent is not None and \
            nxt.first_sent >= done_at[last] - 0.001
        who = side[f[last].dir]
        ended = [g for g in gave_up if g[1] == who and g[0] is not None
                 and g[0] <= done_at[last]]
        if (last == 6 or not answered) and not ended:
            # the receiver had the whole flight and did not move on (and had not
            # ended the handshake before it came: then it gave up, below)
            stack = run.server if who == "server" else run.client
            return "record discarded: %s (%s) got flight %d whole at %.1f s" % (
                who, NAMES[stack], last, done_at[last])
    missing = last + 1
    if missing == 1 and f[1] is None:
        missing = 3
    if gave_up:
        t, who, what = sorted(gave_up, key=lambda g: g[0] or 1e9)[0]
        stack = run.server if who == "server" else run.client
        return "gave up: %s (%s, %s)%s; flight %d incomplete" % (
            who, NAMES[stack], what, "" if t is None else " at %.1f s" % t, missing)
    return "lost past limit: flight %d" % missing


# ============================================================== the report
def _worker(job):
    pairing, setting, seed, limit, overrides, at, early_resend = job
    from nxsecure import port, config, early
    port.use_network(None)
    for name, value in overrides:
        setattr(config, name, value)
    early.RESEND = early_resend
    try:
        r = Run(pairing, setting, seed, limit).go()
        return job, r.result(at)
    except Exception as e:        # a harness failure is reported, not counted as ours
        return job, (None, 0.0, "harness: %r" % (e,), None, "")


def _pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    i = int(k)
    j = min(i + 1, len(xs) - 1)
    return xs[i] + (xs[j] - xs[i]) * (k - i)


def _versions():
    out = []
    for argv in (["openssl", "version"], ["gnutls-cli", "--version"]):
        try:
            out.append(subprocess.run(argv, capture_output=True, text=True,
                                      timeout=10).stdout.splitlines()[0].strip())
        except Exception:     # noqa: BLE001
            out.append("%s not found" % argv[0])
    try:
        import mbedtls
        out.append("python-mbedtls %s (%s)" % (mbedtls.__version__, mbedtls.version.version))
    except Exception:         # noqa: BLE001
        out.append("python-mbedtls not found")
    return "; ".join(out)


def _short_cause(c):
    """The class and side of a cause, for the table."""
    if c.startswith("record discarded"):
        return "discarded by " + c.split(": ")[1].split(" got")[0]
    if c.startswith("gave up"):
        return "gave up: " + c.split(": ")[1].split(",")[0] + ")"
    if c.startswith("lost"):
        return c.replace("lost past limit: ", "lost: ")
    return c.split(":")[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100, help="seeds per row")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=50,
                    help="runs at the same time (they mostly sleep on timers: 50 to 80 "
                         "took 0.2 to 0.6 of a core)")
    ap.add_argument("--limit", type=float, default=give_up_s(),
                    help="seconds per handshake (default: our client's give-up time for "
                         "one flight, from nxsecure/config.py)")
    ap.add_argument("--also-at", type=float, default=60.0,
                    help="also report the completion within this many seconds")
    ap.add_argument("--no-early-resend", action="store_true",
                    help="our stack without the early resend of nxsecure/early.py "
                         "(the before of a before/after)")
    ap.add_argument("--settings", default="10,30,50", help=",".join(SETTINGS))
    ap.add_argument("--pairings", default=",".join(PAIRINGS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "loss-report.md"))
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override an nxsecure.config value in our stack (experiments)")
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--mtu", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        return peer_main(args.peer, args.port, args.mtu)
    pairings = args.pairings.split(",")
    settings = args.settings.split(",")
    seeds = range(args.first_seed, args.first_seed + args.runs)
    # the slow rows first, so that the pool is not left waiting on them at the end
    overrides = tuple((kv.split("=")[0], int(kv.split("=")[1])) for kv in args.set)
    jobs = [(p, s, seed, args.limit, overrides, args.also_at, not args.no_early_resend)
            for s in sorted(settings, key=lambda s: -SETTINGS[s][1])
            for seed in seeds for p in pairings]
    t0 = time.time()
    results = {}
    with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=50) as pool:
        for n, (job, res) in enumerate(pool.imap_unordered(_worker, jobs), 1):
            results.setdefault((job[0], job[1]), []).append((job[2], res))
            if n % 50 == 0:
                print("%d/%d runs, %.0f s" % (n, len(jobs), time.time() - t0), file=sys.stderr)
    wall = time.time() - t0
    lines = report(results, pairings, settings, args, wall)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("-> %s" % args.out)
    return 0


def give_up_s():
    """When our client gives up a flight it keeps sending: the timeouts of its
    NX_SECURE_DTLS_MAX_TRANSMISSIONS transmissions (RFC 6347 4.2.4.1: doubling from the
    initial value, capped), in seconds."""
    from nxsecure import config
    t = config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS
    total = 0
    for _ in range(config.NX_SECURE_DTLS_MAX_TRANSMISSIONS):
        total += t
        t = min(2 * t, config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS)
    return total / 1000.0


def cookie_bound(loss, limit):
    """The most a client on the 1 s doubling schedule (capped at 60 s, at most our
    client's transmissions) can complete within `limit` seconds: the cookie exchange
    alone needs one try whose ClientHello and HelloVerifyRequest both get through."""
    from nxsecure import config
    p = (1 - loss / 1000.0) ** 2
    t, at, n = 1.0, 0.0, 0
    while at < limit and n < config.NX_SECURE_DTLS_MAX_TRANSMISSIONS:
        n += 1
        at += t
        t = min(2 * t, 60.0)
    return n, 1 - (1 - p) ** n


def _row(out):
    """completed, runs, median, p95 of the completed, causes -> count."""
    runs = [r for seed, r in out if r[0] is not None]
    done = [r[1] for r in runs if r[0]]
    causes = {}
    for seed, r in out:
        if r[0] is not None and not r[0]:
            k = _short_cause(r[2])
            causes[k] = causes.get(k, 0) + 1
    return done, runs, causes


def _causes(causes):
    return "; ".join("%s %d" % (k, n) for k, n in sorted(causes.items(), key=lambda x: -x[1])) \
        or "-"


def report(results, pairings, settings, args, wall):
    at = args.also_at
    bounds = []
    for s in settings:
        for lim in (args.limit, at):
            n, b = cookie_bound(SETTINGS[s][1], lim)
            bounds.append("%s within %g s: %d tries, at most %.2f%%" % (
                SETTINGS[s][0], lim, n, 100 * b))
    lines = ["# nxsecure lossy-link report", "",
             "`%s` on %s. Seeded UDP proxy (host_tests/udp_proxy.py) on 127.0.0.1; in each "
             "direction the loss below, %d%% duplication, %d%% reordering, 0-%d ms delay "
             "jitter. %d seeds per row (%d-%d), the same for every row. Every stack on its "
             "real timers (nxsecure: nxsecure/config.py defaults, 1 s doubling to 60 s, 8 "
             "transmissions, server handshake deadline 40 s; early resend of our flight "
             "when part of the peer's next flight comes first (nxsecure/early.py): %s). "
             "Run limit %g s: our client gives up a flight after 8 transmissions (1-2-4-8-"
             "16-32-60-60 s), the longest give-up of the stacks in the pairings with ours "
             "except OpenSSL's 12 timeouts (~423 s); our server ends a handshake 40 s after "
             "the verified ClientHello, gnutls-cli gives up about 46 s after its start, Mbed "
             "TLS a flight after 123 s (7 transmissions). The same runs cut at %g s are the "
             "second table. "
             "TLS_PSK_WITH_AES_128_CCM_8. Peers: %s. Wall time %.0f s with %d runs at a time."
             % (" ".join(["tools/loss_report.py"] + sys.argv[1:]), time.strftime("%Y-%m-%d"),
                DUP // 10, REORDER // 10, JITTER_MS, args.runs, args.first_seed,
                args.first_seed + args.runs - 1,
                "off" if args.no_early_resend else "on", args.limit, at, _versions(), wall,
                args.jobs),
             "",
             "What the link permits (the cookie exchange alone: the server keeps no state "
             "before it, so only the client's tries count, and a try needs its ClientHello "
             "and the HelloVerifyRequest both through): " + "; ".join(bounds) + ".",
             "",
             "## Within the run limit (%g s)" % args.limit, "",
             "| client / server | setting | completed | median s | p95 s | failures by cause |",
             "|---|---|---:|---:|---:|---|"]
    cut = ["", "## The same runs within %g s" % at, "",
           "| client / server | setting | completed | failures by cause |",
           "|---|---|---:|---|"]
    details = []
    details_at = []
    for p in pairings:
        for s in settings:
            out = sorted(results.get((p, s), []))
            if not out:
                continue
            done, runs, causes = _row(out)
            done_at, _, causes_at = _row([(seed, (r[3], r[1], r[4]) if r[0] is not None
                                           else r[:3]) for seed, r in out])
            for seed, r in out:
                if not r[0]:
                    details.append("- %s, %s, seed %d: %s" % (p, SETTINGS[s][0], seed, r[2]))
                if r[0] is not None and not r[3]:
                    details_at.append("- %s, %s, seed %d: %s" % (p, SETTINGS[s][0], seed, r[4]))
            c, sv = PAIRINGS[p]
            name = "%s / %s" % (NAMES[c], NAMES[sv])
            lines.append("| %s | %s | %d/%d (%.0f%%) | %s | %s | %s |" % (
                name, SETTINGS[s][0], len(done), len(runs),
                100.0 * len(done) / max(1, len(runs)),
                "%.1f" % statistics.median(done) if done else "-",
                "%.1f" % _pct(done, 0.95) if done else "-", _causes(causes)))
            cut.append("| %s | %s | %d/%d (%.0f%%) | %s |" % (
                name, SETTINGS[s][0], len(done_at), len(runs),
                100.0 * len(done_at) / max(1, len(runs)), _causes(causes_at)))
    lines += cut
    lines += ["", "Handshake time: from the client's start (a peer client: its process "
              "start, including start-up) until the client reported the handshake done. "
              "Flights: 1 ClientHello, 2 HelloVerifyRequest, 3 ClientHello with cookie, 4 "
              "ServerHello..ServerHelloDone, 5 ClientKeyExchange+CCS+Finished, 6 "
              "[NewSessionTicket]+CCS+Finished. A harness failure (a peer that did not "
              "start) is listed and not counted.", "",
              "## Every failure within %g s" % args.limit, ""] + details + [
              "", "## Every failure within %g s" % at, ""] + details_at
    return lines


if __name__ == "__main__":
    sys.exit(main())
