"""Driving the stack from an event loop instead of a waiting service: a non-blocking pass of the pump and the next timer deadline (host only; nxsecure/aio.py uses it)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
#
# The internal API an event loop drives netx with, beside netx.py rather than in it so
# that no board pays for it. The loop:
#   - watches every bound port handle: netx._on_handle[0] = fn(handle, added) is called
#     when a bind adds a handle to netx._handles (added True) and when an unbind removes
#     one, before it is closed (added False); the handles bound before it was set are in
#     netx._handles;
#   - calls pump(h, n, after) when handle h is readable, and pump(None, 0, after) at
#     the deadline pump() or next_deadline_ms() gave;
#   - never blocks inside the stack.
# It reads netx's pump internals (_lock, _pumping, _receive_one, _fire_timers, _heap,
# _next_left): a redesign of netx keeps these two functions working
# (host_tests/test_event_loop_hooks.py says how).
from nxsecure import netx
from nxsecure import port as _port


def pump(h, limit, after=None):
    """One non-blocking pass of the pump: read up to `limit` datagrams queued on port
    handle h (None: none) straight into pool packets and hand them on, fire the timers
    that are due, then call after() if given; -> milliseconds until the next timer
    deadline (0: one is due), -1 if no timer is armed. It runs like a pass of
    netx._wait: holding the stack lock and marked as the pump, so the notify callbacks
    it runs and after() may call any service, and a service called from there does not
    wait or pump again (it reports what holds now). Reading stops at the first empty
    read."""
    lock = netx._lock
    pumping = netx._pumping
    lock.acquire()
    outer = pumping[0]
    pumping[0] = _port.get_ident()     # the lock is ours now: its owner is this thread
    try:
        now = _port.ticks_ms()            # the pass's clock: read once, passed down
        if h is not None:
            receive = netx._receive_one
            while limit > 0 and receive(h, now):
                limit -= 1
        heap = netx._heap
        nxt = -1
        if heap:
            e = heap[0]
            nxt = _port.ticks_diff(e[0], now)
            if nxt <= 0 or e[1]._due != e[0]:
                nxt = netx._fire_timers(now)      # one is due (or the top is stale)
        if after is not None:
            top = heap[0] if heap else None
            after()
            if heap and heap[0] is not top:
                # after() armed an earlier timer (an unchanged top: the deadline
                # stands, and a stopped one only wakes the loop early)
                nxt = netx._next_left(_port.ticks_ms())
        return nxt
    finally:
        pumping[0] = outer
        lock.release()


def next_deadline_ms():
    """Milliseconds until the earliest armed timer is due (0: due now), -1 if none;
    for an event loop after a service armed a timer outside pump() (a client's
    handshake start, an idle timeout set)."""
    lock = netx._lock
    lock.acquire()
    try:
        return netx._next_left(_port.ticks_ms()) if netx._heap else -1
    finally:
        lock.release()
