"""Lossy-link report (`make loss-report` -> build/loss-report.md).

Handshakes through the seeded UDP proxy (host_tests/udp_proxy.py: loss, duplication,
reordering, delay jitter, on real 127.0.0.1 sockets) for three pairings -- our client
and our server, our client vs `openssl s_server -dtls1_2 -psk`, `openssl s_client
-dtls1_2 -psk` vs our server -- at 10 %, 30 % and 50 % loss (each direction, with 5 %
duplication, 10 % reordering and 0-30 ms jitter), and at 10 % loss with a small MTU.
Each setting runs --runs seeds (default 50) per pairing; a run completes when both
sides report the handshake done within --limit seconds. Reported: completion rate and
median / 95th-percentile handshake time of the completed runs, with the timers used.

Our timers are shortened for speed through nxsecure.config (read at run time):
initial retransmission --rto ms (default 100), cap --rto-cap ms (default 1600), up to
--max-tx transmissions (default 10). OpenSSL keeps its own timers (1 s initial,
doubling). `--real-timers-at 10` adds a row for our pairing at 10 % loss with the
real defaults (1 s initial, 60 s cap, 8 transmissions).
"""
import argparse
import multiprocessing
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "host_tests")]

SETTINGS = [  # (label, loss permille, mtu)
    ("10% loss", 100, None),
    ("30% loss", 300, None),
    ("50% loss", 500, None),
    ("10% loss, MTU 256", 100, 256),
]
DUP, REORDER, JITTER_MS = 50, 100, 30
PAIRINGS = ("ours-ours", "ours-client/openssl-server", "openssl-client/ours-server")


def _timers(rto, cap, max_tx):
    from nxsecure import config
    config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS = rto
    config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS = cap
    config.NX_SECURE_DTLS_MAX_TRANSMISSIONS = max_tx


def _free_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _run_ours_ours(seed, loss, mtu, limit):
    from nxsecure import (NX_SUCCESS, NX_IP_PERIODIC_RATE, nxsecure_dtls_server_mtu_set,
                          nxsecure_dtls_session_mtu_set)
    from memworld import World
    from udp_proxy import UdpProxy
    sp = _free_port()
    w = World(sessions=2, net="real", server_port=sp)
    try:
        if mtu:
            nxsecure_dtls_server_mtu_set(w.server, mtu)
        with UdpProxy(("127.0.0.1", sp), seed=seed, loss=loss, duplicate=DUP, reorder=REORDER,
                      delay_ms=JITTER_MS) as proxy:
            c = w.client(connect=False, dst_port=proxy.port)
            if mtu:
                nxsecure_dtls_session_mtu_set(c.sess, mtu)
            t0 = time.monotonic()
            st = c.start(int(limit * NX_IP_PERIODIC_RATE))
            dt = time.monotonic() - t0
            # our client is CONNECTED only after the server's Finished: both are done
            return st == NX_SUCCESS, dt
    finally:
        w.close()


def _run_ours_client(seed, loss, mtu, limit):
    from nxsecure import (NX_SUCCESS, NX_IP_PERIODIC_RATE, nx_secure_dtls_client_session_start,
                          nxsecure_dtls_session_mtu_set)
    from dtls_helpers import Net, OpenSSL, make_client, v4, suite_table, CCM8
    from udp_proxy import UdpProxy
    net = Net()
    sp = _free_port()
    extra = ["-mtu", str(mtu)] if mtu else []
    srv = OpenSSL.s_server(sp, CCM8, extra=extra)
    try:
        if not srv.wait_output(b"ACCEPT", 10):
            return False, 0.0
        with UdpProxy(("127.0.0.1", sp), seed=seed, loss=loss, duplicate=DUP, reorder=REORDER,
                      delay_ms=JITTER_MS) as proxy:
            session, sock = make_client(net, table=suite_table(CCM8))
            if mtu:
                nxsecure_dtls_session_mtu_set(session, mtu)
            t0 = time.monotonic()
            st = nx_secure_dtls_client_session_start(session, sock, v4(), proxy.port,
                                                     int(limit * NX_IP_PERIODIC_RATE))
            return st == NX_SUCCESS, time.monotonic() - t0
    finally:
        srv.close()
        net.close()


def _run_ours_server(seed, loss, mtu, limit):
    from nxsecure import NX_IP_PERIODIC_RATE, netx, nxsecure_dtls_server_mtu_set
    from dtls_helpers import OpenSSL, CCM8
    from memworld import World, PSK, IDENTITY
    from udp_proxy import UdpProxy
    sp = _free_port()
    w = World(sessions=2, net="real", server_port=sp)
    cli = None
    try:
        if mtu:
            nxsecure_dtls_server_mtu_set(w.server, mtu)
        with UdpProxy(("127.0.0.1", sp), seed=seed, loss=loss, duplicate=DUP, reorder=REORDER,
                      delay_ms=JITTER_MS) as proxy:
            extra = ["-mtu", str(mtu)] if mtu else []
            t0 = time.monotonic()
            cli = OpenSSL.s_client("127.0.0.1", proxy.port, CCM8, psk=PSK, identity=IDENTITY,
                                   quiet=False, extra=extra)

            def done():
                return any(s._engine.state == 20 for s in w.server._sessions) and \
                    b"Cipher is" in cli.out

            netx._wait(done, int(limit * NX_IP_PERIODIC_RATE))
            return done(), time.monotonic() - t0
    finally:
        if cli is not None:
            cli.close()
        w.close()


RUNNERS = {"ours-ours": _run_ours_ours, "ours-client/openssl-server": _run_ours_client,
           "openssl-client/ours-server": _run_ours_server}


def _worker(job):
    pairing, label, loss, mtu, seeds, limit, timers = job
    from nxsecure import port
    port.use_network(None)
    _timers(*timers)
    out = []
    for seed in seeds:
        try:
            ok, dt = RUNNERS[pairing](seed, loss, mtu, limit)
        except Exception as e:        # a harness failure counts as not completed
            ok, dt = False, 0.0
            print("run error %s %s seed %d: %r" % (pairing, label, seed, e), file=sys.stderr)
        out.append((ok, dt))
    return (pairing, label, timers), out


def _pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    i = int(k)
    j = min(i + 1, len(xs) - 1)
    return xs[i] + (xs[j] - xs[i]) * (k - i)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--limit", type=float, default=30.0, help="seconds per handshake")
    ap.add_argument("--rto", type=int, default=100)
    ap.add_argument("--rto-cap", type=int, default=1600)
    ap.add_argument("--max-tx", type=int, default=10)
    ap.add_argument("--real-timers-at", type=int, default=10, help="loss %% (0: none)")
    ap.add_argument("--pairings", default=",".join(PAIRINGS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "loss-report.md"))
    args = ap.parse_args()
    fast = (args.rto, args.rto_cap, args.max_tx)
    real = (1000, 60000, 8)
    jobs = []
    chunk = max(1, args.runs // 5)
    for pairing in args.pairings.split(","):
        for label, loss, mtu in SETTINGS:
            seeds = list(range(1, args.runs + 1))
            for i in range(0, len(seeds), chunk):
                jobs.append((pairing, label, loss, mtu, seeds[i:i + chunk], args.limit, fast))
    if args.real_timers_at:
        loss = args.real_timers_at * 10
        label = "%d%% loss" % args.real_timers_at
        seeds = list(range(1, args.runs + 1))
        for i in range(0, len(seeds), chunk):
            jobs.append(("ours-ours", label, loss, None, seeds[i:i + chunk], 90.0, real))
    t0 = time.time()
    results = {}
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for key, out in pool.imap_unordered(_worker, jobs):
            results.setdefault(key, []).extend(out)
    wall = time.time() - t0
    lines = ["# nxsecure lossy-link report", "",
             "Seeded UDP proxy (host_tests/udp_proxy.py) on 127.0.0.1, impairments in each "
             "direction: the loss below, %d%% duplication, %d%% reordering, 0-%d ms delay "
             "jitter. %d seeded runs per row; limit %g s per handshake (90 s with real "
             "timers). PSK, TLS_PSK_WITH_AES_128_CCM_8 against OpenSSL (%s). Wall time %.0f s."
             % (DUP // 10, REORDER // 10, JITTER_MS, args.runs, args.limit, _openssl(), wall),
             "",
             "| pairing | setting | our timers (initial / cap / max tx) | completed | median ms | p95 ms |",
             "|---|---|---|---:|---:|---:|"]
    order = {p: i for i, p in enumerate(PAIRINGS)}
    sorder = {s[0]: i for i, s in enumerate(SETTINGS)}
    for (pairing, label, timers) in sorted(results, key=lambda k: (k[2] == real, order[k[0]],
                                                                     sorder[k[1]])):
        out = results[(pairing, label, timers)]
        done = [dt * 1000 for ok, dt in out if ok]
        t = "%d ms / %d ms / %d%s" % (timers[0], timers[1], timers[2],
                                      " (real defaults)" if timers == real else "")
        if "openssl" in pairing:
            t += "; OpenSSL: its own (1 s, doubling)"
        lines.append("| %s | %s | %s | %d/%d (%.0f%%) | %s | %s |" % (
            pairing, label, t, len(done), len(out), 100.0 * len(done) / len(out),
            "%.0f" % statistics.median(done) if done else "-",
            "%.0f" % _pct(done, 0.95) if done else "-"))
    lines += ["", "Handshake time: from the client's start to both sides connected (our "
              "client: nx_secure_dtls_client_session_start returning; openssl s_client: from "
              "process start, including its start-up, until our server session is CONNECTED "
              "and s_client printed the cipher). MTU 256: nxsecure_dtls_session_mtu_set / "
              "nxsecure_dtls_server_mtu_set and openssl -mtu 256 (OpenSSL 3.0 does not complete at -mtu 160 even without loss)."]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("-> %s" % args.out)


def _openssl():
    import subprocess
    try:
        return subprocess.run(["openssl", "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except Exception:
        return "openssl not found"


if __name__ == "__main__":
    main()
