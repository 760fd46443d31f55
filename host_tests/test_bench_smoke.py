"""`make bench` is not part of `make test` (no timing is asserted anywhere), but its
code must keep working: bench/run.py runs here once, short (1 repetition of 0.2 s),
into a scratch file, and every table it writes must hold a figure for our stack."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def test_bench_runs_and_writes_every_table(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--reps", "1",
                        "--seconds", "0.2", "--gateway", "60", "--crowd", "40",
                        "--board_records", "5", "--board_layouts", "1", "--out", str(out)],
                       cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    text = out.read_text()
    # host echo: our stack's rate and CPU for each payload and suite, with both ratios
    for size in (100, 1000):
        for suite in ("psk-ccm8", "psk-gcm"):
            row = r"\| %d B \| %s \| nxsecure \| %s \(.*\) \| %s \| %s \| %s \| %s \|" % (
                size, suite, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER)
            assert re.search(row, text), (row, text)
        assert re.search(r"\| %d B \| - \| raw Python UDP \| %s" % (size, NUMBER), text), text
        # the two reference echoes: pyca AEAD alone, and our record layer alone
        for ref in (r"floor: UDP \+ 1 pyca seal \+ 1 open", "nxsecure record layer alone"):
            assert re.search(r"\| %d B \| psk-ccm8 \| %s.* \| %s \(" % (size, ref, NUMBER),
                             text), (ref, text)
    # record protection alone: ours and python-mbedtls' for each payload and suite
    for size in (100, 1000):
        for suite in ("psk-ccm8", "psk-gcm"):
            row = r"\| %d B \| %s \| %s \| %s \| %s \| %s \|" % (size, suite, NUMBER, NUMBER,
                                                              NUMBER, NUMBER)
            assert re.search(row, text), (row, text)
    # sequential handshakes: ours for both suites, with the ratio to python-mbedtls
    for suite in ("psk-ccm8", "ecdhe-ecdsa-ccm8"):
        row = r"\| %s \| nxsecure \| %s \(.*\) \| %s \| %s \| %s \|" % (
            suite, NUMBER, NUMBER, NUMBER, NUMBER)
        assert re.search(row, text), (row, text)
    # MicroPython next to CPython: handshakes of the three configurations, per-side heap
    mp = shutil.which("node") and os.path.isdir(os.path.join(ROOT, "node_modules", "@micropython"))
    for suite in ("ccm8", "gcm", "ecdsa"):
        row = r"\| handshake, both sides \| %s \| %s \| %s ms \|" % (
            suite, (NUMBER + " ms") if mp else "n/a", NUMBER)
        assert re.search(row, text), (row, text)
        if mp:
            assert re.search(r"\| allocated during one handshake \(bytes\) \| %s \| [0-9]+ \| "
                             r"[0-9]+ \|" % suite, text), text
    if mp:
        assert re.search(r"\| record layer seal \+ open \(per record\) \| ccm8 \| %s \|" % NUMBER,
                         text), text
    # the boards: the emulated RP2040 and the 32-bit unix MicroPython, side by side
    board = text[text.index("## Boards"):]
    for label in (r"`import nxsecure`: heap left live \(bytes\)", r"PSK-CCM_8 handshake, both sides",
                  r"record seal, 100 B, clean heap", r"record open, 100 B, fragmented heap",
                  r"NetX send \+ receive pair, 100 B, clean heap",
                  r"PSK-CCM_8 handshake allocated, server \(bytes, GC held\)"):
        row = r"\| %s \| %s( \w+)? \| %s( \w+)? \| %s \|" % (label, NUMBER, NUMBER, NUMBER)
        assert re.search(row, board), (row, board)
    assert re.search(r"\| AES \| cryptolib \| cryptolib \|", board), board
    # the handshake over two heap layouts (the ccm8 run's and one --layout run) on both
    mean = r"%s ms \(%s-%s, 2 layouts\)" % (NUMBER, NUMBER, NUMBER)
    assert re.search(r"\| PSK-CCM_8 handshake, both sides, mean over heap layouts \(min-max\) "
                     r"\| %s \| %s \|" % (mean, mean), board), board
    if mp:      # the WebAssembly port: the fifth column, the pure-Python AES
        assert re.search(r"\| AES \| cryptolib \| cryptolib \| \| pure Python \|", board), board
        assert re.search(r"\| PSK-CCM_8 handshake, both sides \|[^|]*\|[^|]*\|[^|]*\| %s ms \|"
                         % NUMBER, board), board
    # ECDHE-ECDSA: a time, or where it ran out of memory, on both
    ecdsa = re.search(r"\| ECDHE-ECDSA P-256 handshake, both sides, GC on \| (.*) \| (.*) \| \|",
                      board)
    assert ecdsa, board
    for cell in ecdsa.groups():
        assert re.match(r"%s s$|\*\*fails\*\*.*MemoryError" % NUMBER, cell), cell
    # and where it fits (the unix port with a roomy heap): the ECDHE-ECDSA runs' own figures
    assert re.search(r"Where it fits: ECDHE-ECDSA P-256, both sides, on the 32-bit unix port "
                     r"with `-X heapsize=8m`: %s s; with the collector held it allocates "
                     r"[0-9]+ bytes" % NUMBER, board), board
    # crypto on the chip (issue #17): records, PRF and P-256 on both, the replayed client
    chip = board[board.index("### Crypto on the chip"):]
    for label in ("CCM_8 record seal \\+ open, 100 B", "GCM record seal \\+ open",
                  "CBC-HMAC-SHA256 record seal \\+ open"):
        row = r"\| %s \| %s \+ %s ms \| %s \+ %s ms \|" % (label, NUMBER, NUMBER, NUMBER, NUMBER)
        assert re.search(row, chip), (row, chip)
    for label in ("P-256 ECDH", "P-256 ECDSA verify", "X25519 shared secret"):
        assert re.search(r"\| %s \| %s s \| %s s \|" % (label, NUMBER, NUMBER), chip), chip
    replay = re.search(r"\| ECDHE-ECDSA P-256 client against a CPython server \(replayed\) \| "
                       r"([^|]*) \| ([^|]*) \|" + (r" ([^|]*) \|" if mp else ""), chip)
    assert replay, chip
    for cell in replay.groups():     # the full stack's heap at the edge: done, or out of memory
        assert re.match(r"%s s \(complete|\*\*fails\*\*.*MemoryError" % NUMBER, cell), cell
    # and the verdicts, one row per target figure
    targets = text[text.index("## Targets"):]
    assert len(re.findall(r"\| (yes|no) \|", targets)) >= 10, targets
    # the gateway row: server CPU per handshake, per echo and per ended session, and
    # the three scaling ratios of issue #11
    gw = text[text.index("## Gateway: 60 PSK-CCM_8 sessions"):].split("\n## ")[0]
    for label in ("handshake, first 10%", "echo, one session", "idle sweep, per session"):
        assert re.search(r"\| %s[^|]* \| %s us" % (re.escape(label), NUMBER), gw), gw
    assert len(re.findall(r"\| %s \(%s\.\.%s\) \| (yes|no) \|" % (NUMBER, NUMBER, NUMBER), gw)) == 3
    # the Pythonic path (issue #16): echo through nxsecure.aio and nxsecure.api beside
    # python-mbedtls and the asyncio floor, its verdicts, and the crowd row
    py = text[text.index("## Pythonic path: echo"):]
    for size in (100, 1000):
        for name in (r"nxsecure\.aio server and client", r"nxsecure\.api server and client",
                     "floor: raw UDP echo"):
            assert re.search(r"\| %d B \| %s[^|]* \| %s \(.*\) \| %s \| %s \| %s \|" % (
                size, name, NUMBER, NUMBER, NUMBER, NUMBER), py), (name, py)
    assert len(re.findall(r"\| echo (aio|sync) / python-mbedtls >= .* \| %s \| (yes|no) \|"
                          % NUMBER, py)) == 4, py
    crowd = text[text.index("## Pythonic path: one asyncio server, 40 connected sessions"):]
    assert re.search(r"\| echo, each on another of the 40 sessions \| %s us" % NUMBER, crowd)
    assert re.search(r"\| 40 sessions: echo spread / one session <= 1\.2 \| %s " % NUMBER, crowd)
