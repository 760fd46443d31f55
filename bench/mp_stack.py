"""C-stack high-water mark on the rp2 firmware, for bench/mp_crypto.py and bench/mp_client_replay.py
(a module of its own: the test runner, which every board test loads, stays as small as it was)."""
import sys

# The rp2 firmware's C stack (RPI_PICO, MicroPython 1.27): 8 KB below 0x20042000, the
# GC heap right under it; MicroPython checks it only at Python calls. stack_paint() fills
# the unused part with a pattern, stack_peak() reads how deep the stack went since
# (bytes from the top; 8192 means it reached the bottom, and may have run on into the
# heap). Off the rp2 firmware stack_paint() does nothing and returns False.
_STACK_TOP = 0x20042000
_STACK_BOTTOM = 0x20040000
_PAINT = 0x5AA5C33C


def stack_paint():
    """True when painted (the rp2 firmware), else False."""
    if sys.platform != "rp2":
        return False
    import machine
    import micropython
    m = machine.mem32
    a = _STACK_BOTTOM
    end = _STACK_TOP - micropython.stack_use() - 256      # clear of this frame
    while a < end:
        m[a] = _PAINT
        a += 4
    return True


def stack_peak():
    import machine
    m = machine.mem32
    a = _STACK_BOTTOM
    while a < _STACK_TOP and m[a] == _PAINT:
        a += 4
    return _STACK_TOP - a
