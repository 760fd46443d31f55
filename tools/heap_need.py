"""The smallest hard heap a board program runs in: binary search on `-X heapsize` of the
32-bit unix MicroPython (../shared/firmware; an ESP32's or RP2040's object sizes) running
the program as `make deploy BOARD=... MAIN=...` stages it (its profile's .mpy tree, the
board's board_config.py).

    .venv/bin/python tools/heap_need.py [--board esp32|rp2040] [--main client|server]
                                        [--clients 4]

client: boards/common/dtls_sensor_client.py sends 3 readings to the echo server (run on
CPython, not under test); it passes when all 3 come back.
server: boards/common/dtls_echo_server.py with --clients sensor clients (CPython) started
at once; it passes when every client gets its 3 readings back and the server printed no
MemoryError.

A run that fails for any reason other than the heap (the network, a timeout) shows at the
roomy end: the search refuses to start unless the program passes with 1 MB."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_unix  # noqa: E402

READINGS = 3
DONE = "client: done: %d echoed of %d sent" % (READINGS, READINGS)


def _free_udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stage(board, main):
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    subprocess.run(["make", "--no-print-directory", "-s", "board-stage", "BOARD=" + board,
                    "MAIN=" + main], cwd=ROOT, env=env, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    keep = os.path.join(ROOT, "build", "heap-need", "%s-%s" % (board, main))
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "build", "deploy", board), keep)
    return keep


def _cpython(script, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "boards",
                                                                           "common")]))
    return subprocess.Popen([sys.executable, "-u", os.path.join(ROOT, "boards", "common",
                                                                script)],
                            cwd=cwd, env=env, stdin=subprocess.DEVNULL, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _micropython(tree, script, heap, cwd):
    argv, env = mp_unix.command([os.path.join(tree, script)], bits=32, heap="%dk" % heap,
                                path=[os.path.join(tree, "lib")],
                                mpy=os.path.join(tree, "lib"))
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _lines(proc):
    """A queue fed with proc's output lines by a thread (None at the end): select() on the
    pipe would miss lines that readline() already pulled into its buffer."""
    import queue
    import threading
    if not hasattr(proc, "lines_q"):
        proc.lines_q = queue.Queue()

        def pump():
            for line in proc.stdout:
                proc.lines_q.put(line)
            proc.lines_q.put(None)
        threading.Thread(target=pump, daemon=True).start()
    return proc.lines_q


def _wait_line(proc, text, seconds):
    """Read proc's output until a line holds text (-> True) or it ends / time runs out."""
    import queue
    q = _lines(proc)
    end = time.monotonic() + seconds
    seen = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False, seen
        try:
            line = q.get(timeout=left)
        except queue.Empty:
            return False, seen
        if line is None:
            q.put(None)
            return False, seen
        seen.append(line)
        if text in line:
            return True, seen


def _rest(proc):
    """What proc printed after the last _wait_line (proc has ended)."""
    q, out = _lines(proc), []
    while True:
        line = q.get()
        if line is None:
            return "".join(out)
        out.append(line)


def _stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def _config(cwd, port):
    with open(os.path.join(cwd, "net_config.json"), "w") as f:
        json.dump({"wlan": False, "server": "127.0.0.1", "port": port,
                   "identity": "sensor-01", "psk_hex": "1a2b3c4d5e6f7081",
                   "readings": READINGS, "period_s": 0}, f)


def run_client(tree, heap):
    cwd = tempfile.mkdtemp()
    port = _free_udp_port()
    _config(cwd, port)
    server = _cpython("dtls_echo_server.py", cwd)
    try:
        up, _ = _wait_line(server, "listening on UDP", 30)
        if not up:
            raise SystemExit("heap_need: the CPython echo server did not start")
        client = _micropython(tree, "dtls_sensor_client.py", heap, cwd)
        try:
            ok, _ = _wait_line(client, DONE, 60)
            return ok
        finally:
            _stop(client)
    finally:
        _stop(server)
        shutil.rmtree(cwd, ignore_errors=True)


def run_server(tree, heap, clients):
    cwd = tempfile.mkdtemp()
    port = _free_udp_port()
    _config(cwd, port)
    server = _micropython(tree, "dtls_echo_server.py", heap, cwd)
    procs = []
    try:
        up, seen = _wait_line(server, "listening on UDP", 30)
        if not up:
            return False
        procs = [_cpython("dtls_sensor_client.py", cwd) for _ in range(clients)]
        ok = all(_wait_line(p, DONE, 60)[0] for p in procs)
        server.kill()
        server.wait()
        rest = _rest(server)
        return ok and "MemoryError" not in rest
    finally:
        for p in procs + [server]:
            _stop(p)
        shutil.rmtree(cwd, ignore_errors=True)


def main(argv):
    opt = {"--board": "esp32", "--main": "client", "--clients": "4"}
    for i in range(1, len(argv) - 1, 2):
        if argv[i] not in opt:
            raise SystemExit(__doc__)
        opt[argv[i]] = argv[i + 1]
    board, main_, clients = opt["--board"], opt["--main"], int(opt["--clients"])
    tree = stage(board, main_)

    def ok(k):
        return run_client(tree, k) if main_ == "client" else run_server(tree, k, clients)
    lo, hi = 16, 1024
    if not ok(hi):
        raise SystemExit("heap_need: the %s does not run even with %d KB" % (main_, hi))
    while hi - lo > 2:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    what = ("sensor client" if main_ == "client"
            else "echo server with %d clients at once" % clients)
    print("%s, %s config, profile psk-%s: runs under -X heapsize=%dk, not under %dk"
          % (what, board, main_, hi, lo))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
