"""tools/measure_heap.py (the heap figures of docs/BOARDS.md) runs inside MicroPython's
32-bit unix port and its WebAssembly port: its code must keep working, the import step
must measure the import (nothing of the stack loaded before it), and the per-end
handshake split must be the ends' own (a hook run nested in the other end's must count
for its own end)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("build", ["unix32", "webassembly"])
def test_measure_heap_runs_and_the_handshake_split_adds_up(build):
    if build == "webassembly" and not (shutil.which("node") and os.path.isdir(
            os.path.join(ROOT, "node_modules", "@micropython"))):
        pytest.fail("the MicroPython WebAssembly package is missing: run `make setup`")
    # measure_heap loads the stack from build/mpy, as `make mpy` builds it
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy_sizes.py"), "--out",
                    os.path.join(ROOT, "build", "mpy"), "--quiet"], cwd=ROOT, check=True,
                   timeout=300)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "measure_heap.py"),
                        "--build", build], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # the import is measured: once the random source's set-up imported the stack before
    # step 1, and the step said 1.5 KB
    imports = re.findall(r"\| stack imported from \.mpy .* \| (\d+) \|", p.stdout)
    assert len(imports) == 2 and all(int(n) > 64 * 1024 for n in imports), imports
    splits = re.findall(r"handshake, allocated .*client / server / both \| (\d+) / (\d+) / (\d+) \|",
                        p.stdout)
    assert len(splits) == 2, p.stdout                      # ESP32 and Pico W configs
    for client, server, both in splits:
        client, server, both = int(client), int(server), int(both)
        # "both" is the runner's figure for the whole step, which also holds the step's
        # own bookkeeping (imports, the wrappers): a little more than the two ends
        assert client + server <= both <= client + server + 1024, (client, server, both)
        # A PSK handshake costs the two ends about the same. With the client's handling
        # of the server flight counted on the server (it runs nested in the server's
        # hook), the split was 5.7 / 23.9 KB.
        assert 0.3 < client / (client + server) < 0.7, (client, server)
    assert len(re.findall(r"Budget, echo server with 4 sessions .* margin", p.stdout)) == 2
    assert len(re.findall(r"Budget, sensor client .* margin", p.stdout)) == 2
