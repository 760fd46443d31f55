"""`make deploy` and `make board-test` against emulated boards that mpremote reaches as
socket://127.0.0.1:PORT, with the Makefile targets the README gives for a real ESP32 or
Pico W (only PORT differs):
- MicroPython 1.27's WebAssembly port behind tools/board_bridge.js (an "ESP32": its heap
  grows on demand, no cryptolib, no os.urandom, no network);
- the real MicroPython rp2 firmware on an emulated RP2040 behind tools/rp2040/bridge.js
  (a Pico: ~241 KB of heap, cryptolib, no WLAN, an os.urandom the stack refuses).
And that an emulated board never wedges: a program that needs a network it lacks stops
with a message, Ctrl-C interrupts a running script, the bridge stops on SIGTERM."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_rp2040  # noqa: E402

BRIDGE = os.path.join(ROOT, "tools", "board_bridge.js")
RP2040_BRIDGE = os.path.join(ROOT, "tools", "rp2040", "bridge.js")
MPREMOTE = os.path.join(ROOT, ".venv", "bin", "mpremote")
MP_PACKAGE = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript")


def _env():
    # A clean make: not the parent make's flags or jobserver (this runs under `make test`).
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


class Bridge:
    """A bridge process; .url is what mpremote connects to."""

    def __init__(self, script, pattern, timeout=60):
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is needed: run `make setup`")
        if not os.path.exists(MPREMOTE):
            pytest.fail("mpremote is missing from .venv: run `make setup` (requirements.txt)")
        self.proc = subprocess.Popen([node, script, "--port", "0"], cwd=ROOT,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(pattern, line)
        if not m:
            self.close()
            pytest.fail("bridge did not start: %r %s" % (line, self.proc.stderr.read()))
        self.url = m.group(1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def _wasm_bridge():
    if not os.path.isdir(MP_PACKAGE):
        pytest.fail("the MicroPython npm package is needed: run `make setup`")
    return Bridge(BRIDGE, r"board_bridge: listening on (socket://127\.0\.0\.1:\d+)")


def _rp2040_bridge():
    why = mp_rp2040.available()
    if why:
        pytest.fail(why)
    return Bridge(RP2040_BRIDGE, r"rp2040_bridge: listening on (socket://127\.0\.0\.1:\d+)")


@pytest.fixture()
def board():
    b = _wasm_bridge()
    try:
        yield b.url
    finally:
        b.close()


def _mpremote(url, *args, timeout=60):
    return subprocess.run([MPREMOTE, "connect", url] + list(args), cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


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


# ---- an emulated board never wedges ------------------------------------------------------
NO_NETWORK = ("client: no network: no WLAN on this platform (no network module) and no socket "
              "module: this MicroPython build has no network the example could use")


def test_a_program_that_needs_a_network_stops_with_a_message_and_the_board_stays_usable(board):
    assert _make("deploy", "BOARD=esp32", "PORT=" + board).returncode == 0
    t0 = time.monotonic()
    run = _mpremote(board, "run", "boards/common/dtls_sensor_client.py", timeout=30)
    assert NO_NETWORK in run.stdout, run.stdout + run.stderr
    assert time.monotonic() - t0 < 30
    after = _mpremote(board, "exec", "print('still here')", timeout=30)
    assert after.returncode == 0 and "still here" in after.stdout, after.stdout + after.stderr


FOREVER = "import time\nprint('looping')\nwhile True:\n    time.sleep_ms(10)\n"


def test_ctrl_c_interrupts_a_running_script(board, tmp_path):
    script = tmp_path / "forever.py"
    script.write_text(FOREVER)
    proc = subprocess.Popen([MPREMOTE, "connect", board, "run", str(script)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().strip() == "looping"     # output arrives while it runs
    finally:
        proc.kill()                  # the host goes away; the board still loops
        proc.wait()
        proc.stdout.close()
    # the next mpremote call interrupts it (Ctrl-C) and enters the raw REPL
    after = _mpremote(board, "exec", "print('interrupted')", timeout=30)
    assert after.returncode == 0 and "interrupted" in after.stdout, after.stdout + after.stderr


@pytest.mark.parametrize("which", ["webassembly", "rp2040"])
def test_the_bridge_stops_on_sigterm_while_board_code_runs(tmp_path, which):
    b = _wasm_bridge() if which == "webassembly" else _rp2040_bridge()
    try:
        script = tmp_path / "busy.py"
        script.write_text("print('busy')\nn = 0\nwhile True:\n    n += 1\n")   # no clock read
        proc = subprocess.Popen([MPREMOTE, "connect", b.url, "run", str(script)], cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            assert proc.stdout.readline().strip() == "busy"
            b.proc.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
            rc = b.proc.wait(timeout=10)
            assert time.monotonic() - t0 < 5
            assert rc in (0, -signal.SIGTERM)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
    finally:
        b.close()


# ---- the emulated RP2040: deploy and self-test through mpremote -------------------------
@pytest.fixture(scope="module")
def rp2040_board():
    """One emulated Pico, deployed (make deploy BOARD=rp2040) and self-tested (make
    board-test) through mpremote: the url, the two make runs and a run of the sensor
    client, which needs a network the Pico lacks."""
    b = _rp2040_bridge()
    try:
        deploy = _make("deploy", "BOARD=rp2040", "PORT=" + b.url, timeout=300)
        test = _make("board-test", "PORT=" + b.url, timeout=300)
        client = _mpremote(b.url, "run", "boards/common/dtls_sensor_client.py", timeout=120)
        after = _mpremote(b.url, "exec", "print('still here')", timeout=60)
        yield {"url": b.url, "deploy": deploy, "test": test, "client": client, "after": after}
    finally:
        b.close()


def test_deploy_to_the_emulated_rp2040(rp2040_board):
    deploy, url = rp2040_board["deploy"], rp2040_board["url"]
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "== deploy: done (rp2040 on %s)" % url in deploy.stdout
    for name in ("board_config.py", "net.py", "nxboard.py", "nxsecure/"):
        assert re.search(r"^\s+\d+ %s$" % re.escape(name), deploy.stdout, re.M), name


def test_selftest_checks_on_the_emulated_rp2040(rp2040_board):
    out = rp2040_board["test"].stdout.replace("\r\n", "\n")
    lines = out.splitlines()
    assert "selftest: nxsecure on micropython 1.27.0 (rp2), board_config: rp2040" in lines, out
    # the firmware's own AES, and its constant os.urandom refused by the health check
    assert re.search(r"^PASS aes-128 \(FIPS-197 C\.1\) .*cryptolib", out, re.M), out
    assert re.search(r"^PASS random source .*TEST-ONLY \(board source refused: the random "
                     r"source repeated its output\)", out, re.M), out
    crypto = [ln for ln in lines if ln.startswith(("PASS ", "FAIL ")) and "handshake" not in ln]
    assert len(crypto) == 6 and all(ln.startswith("PASS ") for ln in crypto), crypto


def test_selftest_handshake_on_the_emulated_rp2040(rp2040_board):
    # the self-test starts the server session inside connect_notify: that nesting
    # overflowed the firmware's 7,936-byte C stack until the core stopped nesting pumps
    test, url = rp2040_board["test"], rp2040_board["url"]
    out = test.stdout.replace("\r\n", "\n")
    line = [ln for ln in out.splitlines() if "dtls psk-ccm8 handshake" in ln]
    assert line, out
    assert line[0].startswith("PASS "), line
    assert "SELFTEST OK" in out.splitlines()
    assert test.returncode == 0 and "== board-test: all checks passed on %s" % url in out


def test_a_program_that_needs_wlan_stops_with_a_message_on_the_emulated_rp2040(rp2040_board):
    client, after = rp2040_board["client"], rp2040_board["after"]
    assert NO_NETWORK in client.stdout, client.stdout + client.stderr
    assert after.returncode == 0 and "still here" in after.stdout, after.stdout + after.stderr
