"""Fuzz campaign over the nxsecure harnesses (host_tests/fuzz_harnesses.py): `make fuzz`.

Runs seeded byte-level mutation of real inputs through every harness (record parser,
handshake codecs, reassembly, X.509/DER, the server's datagram entry point with a live
session), in parallel processes, and writes build/fuzz-report.md with per-harness
counts: inputs, unique crashes (exception type + innermost frame), outcomes by type,
inputs per second, the live session's round trips and the traced memory peak.
Exit status 1 when any harness crashed.

    python tools/fuzz_campaign.py                      # >= 10^6 inputs in total
    python tools/fuzz_campaign.py --scale 0.1          # a tenth
    python tools/fuzz_campaign.py --atheris server -- -runs=200000   # coverage-guided
"""
import argparse
import multiprocessing
import os
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "host_tests")]

# inputs per harness at --scale 1 (1,280,000 in total; a canary input is two fresh worlds)
PLAN = {"record": 300000, "handshake": 250000, "reassembly": 250000, "x509": 200000,
        "server": 250000, "canary": 30000}


def _one(args):
    name, n, seed = args
    import fuzz_harnesses as F
    tracemalloc.start()
    live, hs = F.make_all([name])
    h = hs[0]
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    dt = F.campaign(h, n, seed)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    crashes = {"%s @ %s" % k: (c, ex.hex()[:160]) for k, (c, ex) in h.crashes.items()}
    extra = {}
    if name == "server":
        extra["round_trips"] = h.round_trips
        extra["server_discarded"] = live.sa._engine.record.discarded
        extra["hello_verify_sent"] = live.w.server.nxsecure_hello_verify_sent
        extra["datagrams_dropped"] = live.w.server.nxsecure_datagrams_dropped
    live.close()
    return {"name": name, "inputs": h.inputs, "seconds": dt, "crashes": crashes,
            "outcomes": dict(h.outcomes), "peak": peak, "extra": extra}


def _atheris(name, argv):
    import atheris
    import fuzz_harnesses as F
    live, hs = F.make_all([name])
    h = hs[0]
    state = {"n": 0}

    def test_one(data):
        h.one(data)
        state["n"] += 1
        if state["n"] % 500 == 0:
            h.check()

    atheris.Setup([sys.argv[0]] + argv, test_one)
    atheris.Fuzz()


def _summary_outcomes(o, limit=8):
    top = sorted(o.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join("%s %d" % kv for kv in top)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=6347)
    ap.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--only", default=None, help="comma-separated harness names")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz-report.md"))
    ap.add_argument("--atheris", default=None, metavar="HARNESS")
    args, rest = ap.parse_known_args()
    if args.atheris:
        _atheris(args.atheris, [a for a in rest if a != "--"])
        return 0
    names = args.only.split(",") if args.only else list(PLAN)
    work = [(n, max(1, int(PLAN[n] * args.scale)), args.seed + i) for i, n in enumerate(names)]
    t0 = time.time()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(_one, work, chunksize=1)
    wall = time.time() - t0
    total = sum(r["inputs"] for r in results)
    crashed = sum(len(r["crashes"]) for r in results)
    lines = ["# nxsecure fuzz campaign", "",
             "`python tools/fuzz_campaign.py --scale %g --seed %d` (%d processes): %d inputs "
             "in %.0f s wall; unique crashes: %d." % (args.scale, args.seed, args.jobs, total,
                                                      wall, crashed), "",
             "| harness | inputs | inputs/s | unique crashes | traced peak (bytes) | outcomes (top) |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append("| %s | %d | %.0f | %d | %d | %s |" % (
            r["name"], r["inputs"], r["inputs"] / r["seconds"], len(r["crashes"]), r["peak"],
            _summary_outcomes(r["outcomes"])))
    lines.append("")
    for r in results:
        if r["extra"]:
            lines.append("- %s: %s" % (r["name"], ", ".join("%s %s" % kv for kv in r["extra"].items())))
        for k, (c, ex) in r["crashes"].items():
            lines.append("- CRASH %s: %s x%d, first input %s" % (r["name"], k, c, ex))
    lines.append("")
    lines.append("Outcomes are the expected results by type: `discard:<code>` a record "
                 "dropped by RecordLayer.open, `<parser>:NxError` a parse refused with a "
                 "NetX code, `add:<ADD_*>` / `add:NxError:<code>` a reassembler verdict, "
                 "`init:<status>` nx_secure_x509_certificate_initialize's status, "
                 "`session:<state>` the live server session's state after the input (20 = "
                 "CONNECTED). A crash is any other exception, an internal-error exception "
                 "caught by the engine's safety net, a lost live session, a failed round "
                 "trip, a leaked packet or timer, or reassembly out of bounds.")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("-> %s" % args.out)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
