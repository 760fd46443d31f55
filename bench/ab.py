"""A/B one figure of our stack between two checkouts (an optimisation's proof):
alternates runs of tree A and tree B (same pinning as `make bench`) and prints the
median (min..max) of each and B/A.

    python bench/ab.py A_DIR B_DIR [--mode echo|handshake] [--suite psk-ccm8] [--size 100]
                       [--reps 7] [--seconds 1.0]
"""
import json
import os
import socket
import statistics
import subprocess
import sys


def run(tree, mode, suite, size, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port_ = str(s.getsockname()[1])
    s.close()
    py = sys.executable
    a = ["--port", port_, "--suite", suite, "--mode", mode]
    srv = subprocess.Popen(["taskset", "-c", "0", py, os.path.join(tree, "bench", "ours_server.py")]
                           + a, stdout=subprocess.PIPE, text=True, cwd=tree)
    try:
        assert srv.stdout.readline().strip() == "READY"
        cli = subprocess.run(["taskset", "-c", "0", py, os.path.join(tree, "bench", "ours_client.py")]
                             + a + ["--size", str(size), "--seconds", str(seconds)],
                             capture_output=True, text=True, cwd=tree, timeout=60)
        c = json.loads(cli.stdout.strip().splitlines()[-1])
        srv.communicate(timeout=20)
        return c["count"] / c["wall_s"], c["cpu_s"] / c["count"]
    finally:
        if srv.poll() is None:
            srv.kill()


def main(argv):
    a, b = argv[1], argv[2]
    o = {"mode": "echo", "suite": "psk-ccm8", "size": 100, "reps": 7, "seconds": 1.0}
    i = 3
    while i < len(argv):
        k = argv[i].lstrip("-")
        o[k] = type(o[k])(argv[i + 1])
        i += 2
    ra, rb = [], []
    for rep in range(o["reps"]):
        for tree, out in ((a, ra), (b, rb)) if rep % 2 == 0 else ((b, rb), (a, ra)):
            out.append(run(tree, o["mode"], o["suite"], o["size"], o["seconds"]))
    for name, r in (("A", ra), ("B", rb)):
        rates = [x[0] for x in r]
        print("%s %-30s %s/s median %.0f (%.0f..%.0f), client CPU %.1f us/op" % (
            name, os.path.basename(os.path.abspath(a if name == "A" else b)), o["mode"],
            statistics.median(rates), min(rates), max(rates),
            statistics.median(x[1] for x in r) * 1e6))
    print("B/A = %.3f" % (statistics.median(x[0] for x in rb) / statistics.median(x[0] for x in ra)))


if __name__ == "__main__":
    main(sys.argv)
