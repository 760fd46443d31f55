"""The board programs, as deployed, under each board's heap: boards/common/dtls_echo_server.py
and dtls_sensor_client.py run unchanged as processes of MicroPython v1.27's 32-bit unix
port (tools/mp_unix.py; its objects have an ESP32's or RP2040's sizes) from the tree
`make deploy MAIN=server|client` copies to a board (`make board-stage`: the psk-server or psk-client profile's .mpy tree, the board's
board_config.py, nxboard.py, net.py), with `-X heapsize` set to the board's free heap as
docs/BOARDS.md states it: a hard limit, as on the chip. Real UDP on 127.0.0.1; the
network config (net_config.json in the program's directory) says "wlan": false, the unix
port's honest path (boards/common/net.py): no WLAN is brought up, the host's network is used.

- The echo server with 4 clients handshaking at once: our client on CPython, two on
  MicroPython (each with a roomy heap: they are not the program under test) and
  OpenSSL's s_client. The server is stopped (SIGSTOP) until every client has sent its
  first flight, so all four handshakes are in the server at the same moment.
- The sensor client against our echo server on CPython.

Each runs under the ESP32 and the Pico W figure, and once with a roomy heap, which must
pass: it shows the programs and this harness work, so that what fails under a board's
figure fails for the heap. Failing for the heap is a strict expected failure (it turns red
when it starts passing): the footprint issue (#13) is what makes them fit."""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_unix  # noqa: E402
from dtls_helpers import OpenSSL, free_udp_port  # noqa: E402
from nxsecure import TLS_PSK_WITH_AES_128_CCM_8  # noqa: E402

# Free heap with WiFi up (docs/BOARDS.md, boards/*/board_config.py)
BOARD_HEAP = {"esp32": "110k", "rp2040": "150k"}
ROOMY = "1m"                 # peers that are not under test, and the baseline runs
PSK_HEX = "1a2b3c4d5e6f7081"
IDENTITY = "sensor-01"
READINGS = 3
DONE = re.compile(r"client: done: (\d+) echoed of (\d+) sent, (\d+) handshakes, (\d+) failures")

BUDGET = ("exceeds the {name} budget, {kb} KB of free heap (docs/BOARDS.md): the stack "
          "loaded from .mpy does not fit it (its live size imported and used: "
          "tools/measure_heap.py); the footprint issue (#13) turns this green")
BOARD_NAME = {"esp32": "ESP32", "rp2040": "Pico W"}


class BoardOutOfMemory(AssertionError):
    """A board program ran out of its heap (MemoryError), as it would on the board."""


def _make_env():
    # A clean make: not the parent make's flags or jobserver (this runs under `make test`).
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


@pytest.fixture(scope="module")
def stage():
    """What `make deploy BOARD=<board> MAIN=<main>` puts on a board (MAIN=server installs
    the psk-server profile, MAIN=client the psk-client one), staged once per pair and kept
    in build/board-programs/<board>-<main>/."""
    try:
        mp_unix.binary(32)
    except FileNotFoundError as e:
        pytest.fail(str(e))
    made = {}

    def get(board, main):
        if (board, main) not in made:
            p = subprocess.run(["make", "--no-print-directory", "board-stage", "BOARD=" + board,
                                "MAIN=" + main],
                               cwd=ROOT, env=_make_env(), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=300)
            assert p.returncode == 0, p.stdout + p.stderr
            assert "profile psk-%s," % main in p.stdout, p.stdout
            keep = os.path.join(ROOT, "build", "board-programs", "%s-%s" % (board, main))
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(os.path.join(ROOT, "build", "deploy", board), keep)
            made[board, main] = keep
        return made[board, main]
    return get


class Program:
    """A process whose output (stdout and stderr together) is collected line by line."""

    def __init__(self, name, argv, cwd, env=None):
        self.name = name
        self.lines = []
        self._q = queue.Queue()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, text=True, bufsize=1,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_for(self, pattern, timeout):
        """The first line (so far or within timeout) matching pattern, else None."""
        rx = re.compile(pattern)
        for line in self.lines:
            if rx.search(line):
                return line
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self._q.put(None)           # stays at the end for the next caller
                return None
            self.lines.append(line)
            if rx.search(line):
                return line

    def finish(self, timeout):
        """Wait for the exit (kill it after timeout); returns the exit status."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            rc = None
        self.wait_for(r"^\b$", 1)           # drain what is left
        return rc

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
            except OSError:
                pass
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def text(self):
        return "\n".join(self.lines)

    def report(self):
        return "--- %s (exit %s) ---\n%s" % (self.name, self.proc.poll(), self.text())


def _config(cwd, port, **extra):
    cfg = {"wlan": False, "server": "127.0.0.1", "port": port, "identity": IDENTITY,
           "psk_hex": PSK_HEX, "readings": READINGS, "period_s": 0}
    cfg.update(extra)
    with open(os.path.join(cwd, "net_config.json"), "w") as f:
        json.dump(cfg, f)


def _micropython(name, stage_dir, script, heap, cwd):
    argv, env = mp_unix.command([os.path.join(stage_dir, script)], bits=32, heap=heap,
                                path=[os.path.join(stage_dir, "lib")],
                                mpy=os.path.join(stage_dir, "lib"))
    return Program("%s (MicroPython 32-bit, -X heapsize=%s)" % (name, heap), argv, cwd, env)


def _cpython(name, script, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.path.join(ROOT, "boards", "common")])
    return Program(name + " (CPython)", [sys.executable, "-u", os.path.join(ROOT, "boards",
                                                                           "common", script)],
                   cwd, env)


def _openssl(port):
    return OpenSSL.s_client("127.0.0.1", port, TLS_PSK_WITH_AES_128_CCM_8,
                            psk=bytes.fromhex(PSK_HEX), identity=IDENTITY.encode())


def _out_of_memory(prog, what):
    if "MemoryError" in prog.text():
        raise BoardOutOfMemory("%s ran out of heap:\n%s" % (what, prog.report()))


def _check_client(prog, rc):
    m = None
    for line in prog.lines:
        m = DONE.search(line) or m
    assert rc == 0 and m, "client did not finish:\n" + prog.report()
    echoed, sent, handshakes, failures = (int(x) for x in m.groups())
    assert (echoed, sent, handshakes, failures) == (READINGS, READINGS, 1, 0), prog.report()


def _heap_cases():
    cases = []
    for board, heap in sorted(BOARD_HEAP.items()):
        why = BUDGET.format(name=BOARD_NAME[board], kb=heap[:-1])
        cases.append(pytest.param(board, heap, id="%s-%s" % (board, heap), marks=pytest.mark.xfail(
            raises=BoardOutOfMemory, strict=True, reason=why)))
    cases.append(pytest.param("esp32", ROOMY, id="esp32-config-roomy-%s" % ROOMY))
    return cases


@pytest.mark.parametrize("board,heap", _heap_cases())
def test_echo_server_serves_four_clients_handshaking_at_once(stage, tmp_path, board, heap):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed: run `make setup`")
    stage_dir = stage(board, "server")
    client_dir = stage(board, "client")
    port = free_udp_port()
    _config(str(tmp_path), port)
    server = _micropython("echo server, %s config" % board, stage_dir, "dtls_echo_server.py",
                          heap, str(tmp_path))
    clients = []
    ossl = None
    try:
        up = server.wait_for(r"listening on UDP %d: 0x0$|Error" % port, 60)
        _out_of_memory(server, "the echo server (%s config, -X heapsize=%s)" % (board, heap))
        assert up and "listening" in up, "server did not start:\n" + server.report()
        # Hold the server until all four have sent their first flight: their handshakes
        # are then all in it at once (the clients retransmit after 1 s if need be).
        server.proc.send_signal(signal.SIGSTOP)
        clients = [_cpython("client 1", "dtls_sensor_client.py", str(tmp_path)),
                   _micropython("client 2", client_dir, "dtls_sensor_client.py", ROOMY,
                                str(tmp_path)),
                   _micropython("client 3", client_dir, "dtls_sensor_client.py", ROOMY,
                                str(tmp_path))]
        ossl = _openssl(port)
        for c in clients:
            assert c.wait_for(r"^net: ", 30), "client did not start:\n" + c.report()
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGCONT)
        ossl.write(b"reading from openssl\n")
        echoed = ossl.wait_output(b"reading from openssl\n", 30)
        results = [c.finish(60) for c in clients]
        _out_of_memory(server, "the echo server (%s config, -X heapsize=%s)" % (board, heap))
        reports = "\n".join(p.report() for p in [server] + clients)
        reports += "\n--- openssl s_client ---\n" + ossl.transcript()
        for c, rc in zip(clients, results):
            _check_client(c, rc)
        assert echoed, "openssl s_client got no echo:\n" + reports
        assert server.proc.poll() is None, "the server ended:\n" + reports
        server.wait_for(r"^\b$", 0.5)
        hs = [ln for ln in server.lines if "server: handshake with a client" in ln]
        assert len(hs) == 4, reports
        assert "Traceback" not in server.text() and "error_notify" not in server.text(), reports
    finally:
        if ossl is not None:
            ossl.close()
        for p in clients + [server]:
            p.stop()


@pytest.mark.parametrize("board,heap", _heap_cases())
def test_sensor_client_runs_on_the_boards_heap(stage, tmp_path, board, heap):
    stage_dir = stage(board, "client")
    port = free_udp_port()
    _config(str(tmp_path), port)
    server = _cpython("echo server", "dtls_echo_server.py", str(tmp_path))
    client = None
    try:
        assert server.wait_for(r"listening on UDP %d: 0x0$" % port, 60), server.report()
        client = _micropython("sensor client, %s config" % board, stage_dir,
                              "dtls_sensor_client.py", heap, str(tmp_path))
        rc = client.finish(120)
        _out_of_memory(client, "the sensor client (%s config, -X heapsize=%s)" % (board, heap))
        _check_client(client, rc)
    finally:
        for p in (client, server):
            if p is not None:
                p.stop()
