"""The heap a board's handshake starts in: bench/mp_bench.py's PSK-CCM_8 run on the
emulated RP2040 (as `python bench/boards.py` runs it) with --heapmap, which prints
MicroPython's allocation map (micropython.mem_info(1)) right after the collection
before the handshake; this reads the map and prints its free runs.

    python tools/heap_holes.py [mp_bench arguments, e.g. --layout 19]

Why it matters: MicroPython's gc_alloc looks for a run of n free 16-byte blocks from
its hint, the lowest free block, upwards, and only a one-block allocation moves the
hint. So an allocation of n blocks made before the low holes are filled first walks the
allocation table (one byte per four blocks) from the lowest hole to the first run of n:
the "walk" column. A hashlib.sha256 object is 8 blocks on a 32-bit port."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tools import mp_rp2040  # noqa: E402
import boards  # noqa: E402

_LINE = re.compile(r"^([0-9a-f]{8}): (.*)$")


def parse_map(text):
    """The first allocation map in text (mem_info(1)'s lines: one character per block,
    '.' free; a line of 64 blocks per 0x400 bytes, runs of free lines elided) as a
    string of one character per block, up to the last line printed."""
    blocks = []
    started = False
    for line in text.splitlines():
        if line.startswith("GC memory layout"):
            if started:
                break
            started = True
            continue
        if not started:
            continue
        m = _LINE.match(line)
        if m:
            at = int(m.group(1), 16) // 16
            blocks.extend("." * (at - len(blocks)))    # the elided free lines
            blocks.extend(m.group(2))
        elif line.strip() and "lines all free" not in line:
            break
    return "".join(blocks)


def holes(blocks):
    """-> (runs, free tail start): the free runs [(first block, length)] below the
    free tail (where the heap is free to its end)."""
    runs = [(m.start(), m.end() - m.start()) for m in re.finditer(r"\.+", blocks)]
    tail = len(blocks)
    if runs and runs[-1][0] + runs[-1][1] == len(blocks):
        tail = runs.pop()[0]
    return runs, tail


def report(blocks, out=print):
    runs, tail = holes(blocks)
    if not runs:
        out("no holes below the free tail (block %d)" % tail)
        return
    hist = {}
    for _, n in runs:
        k = n if n < 9 else 9
        hist[k] = hist.get(k, 0) + 1
    out("blocks in the map %d, used up to block %d; holes below that: %d (%d blocks)"
        % (len(blocks), tail, len(runs), sum(n for _, n in runs)))
    out("holes by size: " + ", ".join("%s: %d" % ("9+" if k == 9 else k, hist[k])
                                      for k in sorted(hist)))
    first = runs[0][0]
    out("lowest free block %d" % first)
    out("n blocks  first run of n at block  walk from the lowest hole (table bytes)")
    for need in (1, 2, 3, 4, 6, 8, 10):
        at = next((p for p, n in runs if n >= need), tail)
        out("%8d  %24d  %8d" % (need, at, (at - first) // 4))


def main(argv):
    why = mp_rp2040.available()
    if why:
        raise SystemExit("RP2040 emulator: %s" % why)
    tree, bench_mpy, runner_mpy = boards._compile(print)
    args = ["--seed-random", "--aes", "platform", "--records", "0", "--heapmap"] + argv
    res, _ = boards._rp2040_plan([("heapmap", args)], tree, bench_mpy, runner_mpy,
                                 "rp2040-heapmap.txt")
    with open(os.path.join(boards.BUILD, "rp2040-heapmap.txt")) as f:
        blocks = parse_map(f.read())
    if not blocks:
        raise SystemExit("no allocation map in the output: %s" % res)
    report(blocks)
    print("handshake (this run): %s" % res["heapmap"].get("handshake"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
