"""An ECDHE-ECDSA P-256 client fits an RP2040 (issue 17): bench/mp_client_replay.py's
client, with the full profile's .mpy tree on the emulated board's filesystem (MicroPython
v1.27's rp2 firmware on rp2040js, tools/mp_rp2040.py), completes its handshake against
the recording of our server on CPython (bench/mp_client_record.py), every datagram it
sends checked byte for byte against the recording. The board has ~241 KB of heap and an
8 KB C stack; the client compiles its native P-256 code at start-up, as a board does.
`make bench` times the same run ("Crypto on the chip"); this checks that it still fits."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_rp2040, mpy_sizes  # noqa: E402


@pytest.fixture(scope="module")
def replay(mpy_tree, tmp_path_factory):
    why = mp_rp2040.available()
    if why:
        pytest.fail(why)
    out = str(tmp_path_factory.mktemp("replay"))
    rec = os.path.join(out, "replay.json")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "mp_client_record.py"),
                        rec], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr + p.stdout
    binary = mpy_sizes.mpy_cross_binary()
    puts = [(os.path.join(mpy_tree, "nxsecure"), "/lib/nxsecure"), (rec, "/replay.json")]
    for rel in ("bench/mp_client_replay.py", "bench/mp_stack.py"):
        dst, err = mpy_sizes.compile_one(binary, rel, out)
        assert dst is not None, err
        puts.append((dst, "/lib/"))
    prog = ("import mp_client_replay\n"
            "mp_client_replay.main(['x', 'replay', '/replay.json', '--precompile'])\n")
    r = mp_rp2040.run(["-c", prog], puts=puts, timeout=900)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("REPLAY ")]
    assert lines, "no result from the board:\n" + (r.stdout + r.stderr)[-3000:]
    return json.loads(lines[-1][len("REPLAY "):]), r.stdout


def test_the_ecdhe_ecdsa_client_completes_on_the_emulated_rp2040(replay):
    res, text = replay
    assert res["status"] == 0 and res["complete"], text[-3000:]
    assert "mismatch" not in res and "defect" not in res, res
    assert res["sent"] == 3 and res["received"] == 3, res


def test_it_runs_on_native_p256_code_within_the_c_stack(replay):
    res, _ = replay
    # with the big-int fallback the same handshake takes several seconds: the native
    # code must have compiled in the heap the stack leaves; and the deepest point of
    # the handshake stays inside the rp2 port's 8 KB C stack
    assert res["pk_native"] is True, res
    assert "start_up_failed" not in res, res
    assert 0 < res["c_stack_peak"] < 8192, res
