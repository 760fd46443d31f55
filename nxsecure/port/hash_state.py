"""A hashlib object's state as a buffer, on MicroPython firmware where it is plain memory:
what lets a PRF hash HMAC's keyed pads once per key (RFC 2104 4) and a transcript hash
each message once, without hashlib's copy(), which MicroPython lacks. Loaded by
port.crypto_backend() at set-up, and dropped after it ran."""
# MicroPython 1.27's hash object (extmod/modhashlib.c) is one heap allocation: the type
# pointer, the `final` flag, then the context of Mbed TLS 3's SHA-256 (rp2, unix) or of
# its own crypto-algorithms code (webassembly): words of the running state, the byte
# count and the partial block; no pointers, no hardware. Copying those bytes from one
# object into another of the same constructor is what a C copy() does
# (mbedtls_sha256_clone is a struct assignment). Not used on other versions (Mbed TLS 4
# keeps a PSA operation there) nor on ports whose context may drive a hash engine (the
# ESP32's): the gate below. A copy never writes past the object: its length is the
# object's own allocation, measured three times alike with the collector held, and a
# copied state must give the digests of the whole input (_works).
import gc
import sys

_PLATFORMS = ("rp2", "linux", "darwin", "webassembly")
_WORD = 8 if sys.maxsize > 0x7FFFFFFF else 4        # mp_obj_base_t: the type pointer


def _size(new):
    # bytes one new() object takes (whole allocator blocks); this frame is on the C
    # stack, so nothing but the object is allocated between the two readings
    on = gc.isenabled()
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    new()
    b = gc.mem_alloc()
    if on:
        gc.enable()
    return b - a


def view_maker(new, make):
    """view(h) -> a writable buffer over h's state (everything after its type pointer),
    for objects of the hashlib constructor `new`; None where that cannot be done
    safely. Saved bytes put back into an object (view(h)[:] = saved) also clear its
    `final` flag: a finished object takes a saved state and is used again. make(at,
    offset, n) makes the view function (uctypes.bytearray_at(id(h) + offset, n);
    crypto/prf_saved.py's viewer): in another module, so that this one is dropped
    once it ran."""
    if (sys.implementation.name != "micropython" or sys.implementation.version[:2] != (1, 27)
            or sys.platform not in _PLATFORMS):
        return None
    try:
        import uctypes
    except ImportError:
        return None
    size = _size(new)
    # SHA-256 needs >= 104 bytes of context; readings that differ: something else
    # allocated meanwhile (another thread), and the size is not known
    if size < _WORD + 104 or size > 256 or _size(new) != size or _size(new) != size:
        return None
    view = make(uctypes.bytearray_at, _WORD, size - _WORD)
    try:
        return view if _works(new, view) else None
    except Exception:           # a check that cannot run: no view, as where it fails
        return None


def _works(new, view):
    """A state copied into another object (a fresh one, then one already finished) and
    continued there gives the digest of the whole input; one that did not arrive, or
    arrived in part, would give another digest."""
    a = b"\x5a" * 64
    w = new()
    v = view(w)
    for tail in (b"", b"nxsecure" * 9):
        h = new(a)
        v[:] = view(h)
        w.update(tail)
        h.update(tail)
        if w.digest() != h.digest():
            return False
    return True
