"""`make deploy` and `make board-test` against an emulated board: MicroPython 1.27 (the
WebAssembly port) behind tools/board_bridge.js, which mpremote reaches as
socket://127.0.0.1:PORT. The Makefile targets are the ones the README gives for a real
ESP32 or Pico W; only PORT differs."""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRIDGE = os.path.join(ROOT, "tools", "board_bridge.js")
MPREMOTE = os.path.join(ROOT, ".venv", "bin", "mpremote")
MP_PACKAGE = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript")


def _env():
    # A clean make: not the parent make's flags or jobserver (this runs under `make test`).
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


@pytest.fixture()
def board():
    node = shutil.which("node")
    if node is None or not os.path.isdir(MP_PACKAGE):
        pytest.fail("node and the MicroPython npm package are needed: run `make setup`")
    if not os.path.exists(MPREMOTE):
        pytest.fail("mpremote is missing from .venv: run `make setup` (requirements.txt)")
    proc = subprocess.Popen([node, BRIDGE, "--port", "0"], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"board_bridge: listening on (socket://127\.0\.0\.1:\d+)", line)
        assert m, "bridge did not start: %r %s" % (line, proc.stderr.read() if proc.poll() is not None else "")
        yield m.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _make(*args, timeout=60):
    proc = subprocess.run(["make", "--no-print-directory"] + list(args), cwd=ROOT, env=_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc


def test_deploy_and_board_test_on_the_emulated_esp32(board):
    deploy = _make("deploy", "BOARD=esp32", "PORT=" + board)
    assert deploy.returncode == 0, "make deploy failed"
    out = deploy.stdout
    assert "== deploy: done (esp32 on %s)" % board in out
    # the .mpy tree and the board files landed in :/lib, the examples in :/
    for name in ("board_config.py", "net.py", "nxboard.py", "nxsecure/"):
        assert re.search(r"^\s+\d+ %s$" % re.escape(name), out, re.M), name
    assert "cp build/deploy/esp32/dtls_echo_server.py :/dtls_echo_server.py" in out
    # PSK-only by default: no certificate pieces shipped
    assert not os.path.exists(os.path.join(ROOT, "build", "deploy", "esp32", "lib", "nxsecure", "x509"))

    test = _make("board-test", "PORT=" + board)
    out = test.stdout.replace("\r\n", "\n")
    assert test.returncode == 0, "make board-test failed"
    lines = out.splitlines()
    results = [ln for ln in lines if ln.startswith(("PASS ", "FAIL "))]
    assert len(results) >= 7 and all(ln.startswith("PASS ") for ln in results), results
    assert "board_config: esp32" in out                  # the deployed board config is in use
    assert re.search(r"session \d+ B, metadata \d+ B", out)   # the handshake check ran
    assert "TEST-ONLY deterministic random source" in out   # the WebAssembly board has no urandom
    assert any(re.match(r"selftest: %d passed, 0 failed" % len(results), ln) for ln in lines)
    assert "SELFTEST OK" in lines
    assert "== board-test: all checks passed on %s" % board in out
