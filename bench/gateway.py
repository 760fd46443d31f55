"""Gateway row of `make bench`: one NetX server, many PSK-CCM_8 sessions on one UDP port
(issue #11, targets 9-12). Server CPU is what the server process spends (user +
system) between marks the driver sends; the driver (this process) plays the clients
with the hand-written peer of the tests (host_tests/rawdtls.py: pyca + hmac), so its
own cost never enters a figure.

    python bench/gateway.py [--sessions 5000] [--echoes 3000] [--json]

Phases, all against the same server (N sessions connected, then H = N half-open):
  fill        N sequential handshakes (cookie exchange each); server CPU per handshake
              over the first and the last 10% of the fill
  echo one    E echoes on one session; server CPU per echo
  echo spread E echoes, each on another of the N sessions (a stride through all)
  half-open   N more clients stop after the server's flight (cookie done, then
              silence): N armed timers; then E echoes on one session again
  idle        the idle timeout (1 s) ends the N connected sessions at once: server CPU
              per session ended, and over a quiet second that ends none
The server's retransmission timer starts at 60 s here so that the half-open sessions'
retransmissions (real work, and not per-datagram work) stay out of the echo windows.
Run under `taskset -c 0` (make bench does): server and driver on one core.
"""
import json
import os
import resource
import select
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "host_tests")]

from nxsecure import config, port  # noqa: E402
from nxsecure import *  # noqa: E402,F401,F403
from nxsecure.crypto.table import make_tls_crypto  # noqa: E402

PSK = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
IDENTITY = b"Client_identity"


# ------------------------------------------------------------------ server process
def server(port_, sessions):
    config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS = 60000

    pool = NX_PACKET_POOL()
    mem = bytearray(64 * (1536 + sizeof(NX_PACKET)))
    assert nx_packet_pool_create(pool, "p", 1536, mem, len(mem)) == NX_SUCCESS
    ip = NX_IP()
    assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool) == NX_SUCCESS
    assert nx_udp_enable(ip) == NX_SUCCESS
    table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
    st, md = nx_secure_tls_metadata_size_calculate(table)
    srv = NX_SECURE_DTLS_SERVER()
    sbuf = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * sessions)
    mbuf = bytearray(md * sessions)
    rbuf = bytearray(512 * sessions)
    marks = []
    state = {"done": False}

    def on_connect(s, a, p):
        nx_secure_dtls_server_session_start(s, NX_NO_WAIT)     # from the callback: no wait
        return NX_SUCCESS

    def on_receive(s):
        while True:
            st, pkt = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
            if st != NX_SUCCESS:
                return NX_SUCCESS
            data = bytes(pkt._data())
            nx_packet_release(pkt)
            if data.startswith(b"MARK "):
                marks.append((data[5:].decode(), time.process_time(), time.perf_counter(),
                              resource.getrusage(resource.RUSAGE_SELF).ru_utime))
            elif data.startswith(b"IDLE "):
                nxsecure_dtls_server_idle_timeout_set(srv, int(data[5:]))
            elif data == b"EXIT":
                state["done"] = True
                return NX_SUCCESS
            st, out = nx_secure_dtls_packet_allocate(s, pool, NX_NO_WAIT)
            if st == NX_SUCCESS:
                nx_packet_data_append(out, data, len(data), pool, NX_NO_WAIT)
                if nx_secure_dtls_server_session_send(s, out) != NX_SUCCESS:
                    nx_packet_release(out)

    assert nx_secure_dtls_server_create(srv, ip, port_, NX_IP_PERIODIC_RATE, sbuf, len(sbuf),
                                        table, mbuf, len(mbuf), rbuf, len(rbuf), on_connect,
                                        on_receive) == NX_SUCCESS
    nxsecure_dtls_server_handshake_timeout_set(srv, 600 * NX_IP_PERIODIC_RATE)
    nx_secure_dtls_server_psk_add(srv, PSK, len(PSK), IDENTITY, len(IDENTITY), None, 0)
    assert nx_secure_dtls_server_start(srv) == NX_SUCCESS
    print("READY", flush=True)
    while not state["done"]:
        tx_thread_sleep(NX_IP_PERIODIC_RATE // 10)
    print(json.dumps({"marks": marks, "idle_timeouts": srv.nxsecure_idle_timeouts,
                      "evicted": srv.nxsecure_handshakes_evicted,
                      "no_free": srv.nxsecure_no_free_sessions}), flush=True)


# ------------------------------------------------------------------ the driver
def _readable(sock, timeout):
    p = select.poll()                 # select() stops at descriptor 1023
    p.register(sock, select.POLLIN)
    return bool(p.poll(timeout * 1000))


class Peer:
    """One client session of the driver: its own socket and the raw peer."""

    def __init__(self, dst):
        import rawdtls
        self.R = rawdtls
        self.dst = dst
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.raw = rawdtls.RawPskClient(PSK, IDENTITY)

    def ask(self, data, want, timeout=2.0):
        """Send, then read until the reply holds `want` (a message type or predicate)."""
        self.sock.sendto(data, self.dst)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("no reply (waiting for %r)" % (want,))
            if not _readable(self.sock, left):
                continue
            d = self.sock.recv(2048)
            seen = self.raw.on_datagram(d)
            if callable(want) and want(d, seen) or want in seen:
                return d

    def handshake(self, half_open=False):
        R = self.R
        self.ask(self.raw.hello(), R.HT_HVR)
        self.ask(self.raw.hello(), R.HT_SHD)
        if half_open:
            self.sock.close()
            return
        self.ask(self.raw.final_flight(), R.HT_FINISHED)

    def echo(self, data):
        k = self.raw.keys
        self.sock.sendto(k.seal(23, data), self.dst)
        while True:
            if not _readable(self.sock, 2.0):
                raise RuntimeError("echo lost")
            d = self.sock.recv(2048)
            for ctype, epoch, seq, body in self.R.split_records(d):
                if ctype == 23 and k.open(ctype, epoch, seq, body) == data:
                    return


def echo_phases(peers, mark, echoes, data):
    """The two echo figures: `echoes` round trips on one session (marks one0, one1),
    then each on another of the sessions, a stride through all of them (spread0,
    spread1); mark(name) notes the server's CPU clock. -> the one session."""
    one = peers[0]
    mark("one0")
    for _ in range(echoes):
        one.echo(data)
    mark("one1")
    n = len(peers)
    stride = 7919 % n or 1
    mark("spread0")
    for k in range(echoes):
        peers[(k * stride) % n].echo(data)
    mark("spread1")
    return one


def drive(sessions, echoes):
    import socket as _s
    probe = _s.socket(_s.AF_INET, _s.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port_ = probe.getsockname()[1]
    probe.close()
    srv = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--server",
                            "--port", str(port_), "--sessions", str(2 * sessions + 2)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if srv.stdout.readline().strip() != "READY":
            raise RuntimeError("server did not start: " + srv.stderr.read())
        dst = ("127.0.0.1", port_)
        ctl = Peer(dst)
        ctl.handshake()

        def mark(name):
            ctl.echo(b"MARK " + name.encode())

        peers = []
        tenth = max(1, sessions // 10)
        mark("fill0")
        for i in range(sessions):
            p = Peer(dst)
            p.handshake()
            peers.append(p)
            if i + 1 == tenth:
                mark("fill10")
            if i + 1 == sessions - tenth:
                mark("fill90")
        mark("fill100")
        data = b"r" * 100
        one = echo_phases(peers, mark, echoes, data)
        for i in range(sessions):
            Peer(dst).handshake(half_open=True)
        mark("half0")
        for _ in range(echoes):
            one.echo(data)
        mark("half1")
        # idle: every connected session silent; the sweep ends them all
        mark("quiet0")
        time.sleep(1.0)
        mark("quiet1")
        ctl.echo(b"IDLE %d" % 100)
        mark("idle0")
        time.sleep(2.5)
        late = Peer(dst)                      # the control session was ended too
        late.handshake()
        late.echo(b"MARK idle1")
        late.sock.sendto(late.raw.keys.seal(23, b"EXIT"), dst)
        out, err = srv.communicate(timeout=60)
        res = json.loads(out.strip().splitlines()[-1])
    finally:
        if srv.poll() is None:
            srv.kill()
    m = {name: (cpu, wall, user) for name, cpu, wall, user in res["marks"]}

    def per(a, b, n):
        return (m[b][0] - m[a][0]) / n * 1e6

    fill_first = per("fill0", "fill10", tenth)
    fill_last = per("fill90", "fill100", tenth)
    echo_one = per("one0", "one1", echoes)
    echo_spread = per("spread0", "spread1", echoes)
    echo_half = per("half0", "half1", echoes)
    # User time alone, beside user + system: over loopback the kernel delivers each reply
    # into the driver's socket in the sender's context, so the server's system time also
    # holds the delivery into N destination sockets (getrusage's split is sampled per
    # tick: a coarse figure).
    one_user = (m["one1"][2] - m["one0"][2]) / echoes * 1e6
    spread_user = (m["spread1"][2] - m["spread0"][2]) / echoes * 1e6
    quiet = (m["quiet1"][0] - m["quiet0"][0]) * 1e6
    ended = res["idle_timeouts"]
    idle_per = (m["idle1"][0] - m["idle0"][0]) * 1e6 / max(1, ended)
    return {
        "sessions": sessions, "echoes": echoes,
        "handshake_first10_us": fill_first, "handshake_last10_us": fill_last,
        "echo_one_us": echo_one, "echo_spread_us": echo_spread, "echo_halfopen_us": echo_half,
        "quiet_second_us": quiet, "idle_ended": ended, "idle_per_session_us": idle_per,
        "echo_one_user_us": one_user, "echo_spread_user_us": spread_user,
        "ratios": {"spread/one": echo_spread / echo_one,
                   "spread/one user": spread_user / one_user, "fill last/first": fill_last / fill_first,
                   "halfopen/one": echo_half / echo_one},
    }


def main(argv):
    a = {"sessions": 5000, "echoes": 3000, "port": 0}
    flags = set()
    i = 0
    while i < len(argv):
        k = argv[i].lstrip("-")
        if k in ("server", "json"):
            flags.add(k)
            i += 1
            continue
        a[k] = int(argv[i + 1])
        i += 2
    if "server" in flags:
        server(a["port"], a["sessions"])
        return 0
    r = drive(a["sessions"], a["echoes"])
    if "json" in flags:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(k, v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
