"""tools/heap_holes.py reads MicroPython's allocation map (micropython.mem_info(1)): the
free runs below the used top, and where an allocation of n blocks first finds room."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import heap_holes  # noqa: E402

# 64 blocks per line; a run of free lines elided as MicroPython prints it
_L0 = "hh=.h==..h===.....h=====hB=h" + "h" * 36
_L1 = "====.=" + "=" * 36 + "h" + "." * 21
assert len(_L0) == len(_L1) == 64
_MAP = """stack: 1580 out of 7936
GC: total: 2048, used: 1200, free: 848
GC memory layout; from 20003f00:
00000000: %s
00000400: %s
       (2 lines all free)
00001000: ................
MPBENCH {}
""" % (_L0, _L1)


def test_the_map_is_read_with_elided_free_lines():
    blocks = heap_holes.parse_map(_MAP)
    assert blocks.startswith("hh=.h==..h")
    assert len(blocks) == 0x1000 // 16 + 16        # the elided lines are free blocks
    assert blocks[0x400 // 16 + 4] == "."
    assert set(blocks[0x400 // 16 + 43:]) == {"."}
    assert blocks[0x400 // 16 + 42] == "h"


def test_holes_below_the_used_top_and_the_first_fit():
    runs, tail = heap_holes.holes(heap_holes.parse_map(_MAP))
    assert tail == 64 + 43                          # the free tail: after the last 'h'
    assert runs == [(3, 1), (7, 2), (13, 5), (64 + 4, 1)]
    out = []
    heap_holes.report(heap_holes.parse_map(_MAP), out.append)
    text = "\n".join(out)
    assert "holes below that: 4 (9 blocks)" in text
    assert "holes by size: 1: 2, 2: 1, 5: 1" in text
    # an allocation of 2 blocks starts at the lowest hole (3) and finds room at 7; one of
    # 6 finds none below the free tail
    rows = {int(ln.split()[0]): [int(x) for x in ln.split()[1:]]
            for ln in out if ln.split() and ln.split()[0].isdigit()}
    assert rows[1] == [3, 0]
    assert rows[2] == [7, 1]
    assert rows[6] == [tail, (tail - 3) // 4]


def test_no_holes():
    out = []
    heap_holes.report("hhh=====" + "." * 20, out.append)
    assert out == ["no holes below the free tail (block 8)"]
