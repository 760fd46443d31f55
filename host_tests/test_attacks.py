"""Hostile peers (issue #11): each attack a hand-written DTLS peer (host_tests/rawdtls.py)
mounts against our server or client, on nxsecure.port.memnet where source addresses can
be forged. Every test here failed before its fix."""
import hashlib
import os
import struct

from nxsecure import *
from nxsecure import netx

from memworld import SERVER_PORT, World, IDENTITY, PSK, _no_errors_raised
import rawdtls as R

SERVER = ("127.0.0.1", SERVER_PORT)
ATTACKER = ("127.0.0.66", 6666)


def replies(w, addr, since=0):
    return [d for (src, dst, d) in w.net.captured[since:]
            if tuple(src[:2]) == SERVER and tuple(dst[:2]) == tuple(addr[:2])]


def exchange(w, addr, datagram):
    """Send one datagram from addr, pump, return what the server sent back to addr."""
    since = len(w.net.captured)
    w.inject(datagram, addr)
    w.pump()
    return replies(w, addr, since)


def cookie_for(w, raw, addr=ATTACKER):
    out = exchange(w, addr, raw.hello())
    assert len(out) == 1 and raw.on_datagram(out[0]) == [R.HT_HVR]
    return raw.cookie


# ---------------------------------------------------------------- defect 1
def _lying_hello(raw, guess):
    """A cookie-carrying ClientHello whose last (unknown) extension claims len(guess)
    bytes of data that the datagram does not carry: the handshake length and the
    extension lengths all agree, only the record is shorter. Returns (datagram, the
    offset in the datagram where the missing bytes would start). raw's transcript is
    set as if those bytes were `guess`."""
    k = len(guess)
    ext_claimed = R.struct.pack(">HH", 0xFFAA, k) + guess
    body = R.client_hello_body(raw.client_random, raw.cookie)
    full_body = body + R.struct.pack(">H", len(ext_claimed)) + ext_claimed
    wire_body = full_body[:len(full_body) - k]
    msg = R.handshake(R.HT_CLIENT_HELLO, raw.msg_seq, wire_body, length=len(full_body),
                      frag_len=len(full_body))
    rec = R.struct.pack(">BHHHIH", R.CT_HS, R.DTLS12, 0, 0, raw.rec_seq, len(msg)) + msg
    raw.rec_seq += 1
    raw.transcript = R.handshake(R.HT_CLIENT_HELLO, raw.msg_seq, full_body)
    raw.msg_seq += 1
    return rec, len(rec)


def test_client_hello_longer_than_its_record_is_dropped():
    # The handshake length (and the extension lengths inside) claim 40 bytes the
    # datagram does not carry: the message must be bounded by its record, never
    # completed from whatever the packet buffer holds past the datagram.
    w = World(sessions=2)
    try:
        raw = R.RawPskClient(PSK, IDENTITY)
        cookie_for(w, raw)
        rec, _ = _lying_hello(raw, bytes(40))
        out = exchange(w, ATTACKER, rec)
        assert not any(R.HT_SERVER_HELLO in raw.on_datagram(d) for d in out)
        assert not [e for e in w.events if e[0] == "connect"]
        _no_errors_raised(w)
    finally:
        w.close()


def _leak_attempt(w, guess, stale_at):
    """One handshake of the plaintext-recovery attack. Returns True when the server's
    Finished came back (the guess matched the bytes the server read past the
    datagram), False on an alert, None when the hello was refused (the bound holds)."""
    raw = R.RawPskClient(PSK, IDENTITY)
    cookie_for(w, raw)
    rec, end = _lying_hello(raw, guess)
    assert end == stale_at
    out = exchange(w, ATTACKER, rec)
    seen = [t for d in out for t in raw.on_datagram(d)]
    if R.HT_SERVER_HELLO not in seen:
        return None
    out = exchange(w, ATTACKER, raw.final_flight())
    seen = [t for d in out for t in raw.on_datagram(d)]
    return R.HT_FINISHED in seen


def test_no_plaintext_of_another_client_through_an_overlong_hello():
    # The attack that found defect 1: a previous client's record is decrypted in place
    # in a pool packet; the packet is reused for the attacker's datagram, and a hello
    # that runs past its datagram would pull the stale plaintext into the transcript.
    # A right guess then gives Finished, a wrong one an alert. After the fix the hello
    # is refused whatever the guess, so nothing depends on the other client's data.
    w = World(sessions=3)
    w.echo = False
    try:
        victim = w.client()
        assert victim.status == NX_SUCCESS
        secret = bytes(range(65, 65 + 90)) + b"TOP-SECRET-READING-21.5C" + bytes(range(97, 123))
        assert victim.send(secret) == NX_SUCCESS
        w.pump()
        got = w.received[w.server_session(victim)]
        assert got == [secret]
        # where the attacker's hello ends in the reused packet, and the victim's
        # plaintext that sits there (record header 13 + explicit nonce 8 before it)
        stale_at = 13 + 12 + len(R.client_hello_body(bytes(32), bytes(16))) + 2 + 4
        truth = secret[stale_at - 21:stale_at - 21 + 6]
        right = _leak_attempt(w, truth, stale_at)
        wrong = _leak_attempt(w, bytes(6), stale_at)
        assert right is None and wrong is None, (right, wrong)
        _no_errors_raised(w)
    finally:
        w.close()


def test_released_packets_keep_no_plaintext():
    # Defence in depth: a packet that held a decrypted record is cleared when it goes
    # back to the pool, whether the application released it or the stack did.
    w = World(sessions=2)
    w.echo = False
    try:
        c = w.client()
        secret = b"PLAINTEXT-THAT-MUST-NOT-LINGER-" * 3
        assert c.send(secret) == NX_SUCCESS
        w.pump()
        assert w.received[w.server_session(c)] == [secret]
        # the server's copy was decrypted in place and released by the application
        assert secret not in w.pool_mem
        # two records in one datagram: the first is copied into a fresh packet
        srv = w.server_session(c)
        e = c.sess._engine
        buf = bytearray(1500)
        n = 0
        for part in (secret[:40], secret[40:]):
            pre = e.record.write_prefix(1)
            buf[n + pre:n + pre + len(part)] = part
            n += e.record.seal(buf, n, 23, 1, len(part))
        w.inject(bytes(buf[:n]), c.addr())
        w.pump()
        assert w.received[srv][1:] == [secret[:40], secret[40:]]
        assert secret[:40] not in w.pool_mem and secret[40:] not in w.pool_mem
        _no_errors_raised(w)
    finally:
        w.close()


# The property that would have caught defect 1 (also a fuzz harness, `canary` in
# host_tests/fuzz_harnesses.py): whatever lie a hello tells about its lengths, the
# server's answers, events and session states are the same whether the packet it
# landed in held zeros or other bytes beyond the datagram.
from hypothesis import given, settings, strategies as st  # noqa: E402

import fuzz_harnesses as F  # noqa: E402

_COOKIE = []


def _cookie():
    if not _COOKIE:
        _COOKIE.append(F.canary_run(None, 0, want_cookie=True)[1])
    return _COOKIE[0]


@settings(max_examples=60, deadline=None)
@given(extra=st.integers(0, 80), lie=st.sampled_from(["hs", "hs+frag", "ext", "record"]),
       ext_real=st.integers(0, 8), canary=st.sampled_from([0x01, 0xA5, 0xFF]))
def test_server_output_never_depends_on_bytes_past_the_datagram(extra, lie, ext_real, canary):
    raw = R.RawPskClient(PSK, IDENTITY, random=bytes(range(32)))
    raw.cookie = _cookie()
    body = R.client_hello_body(raw.client_random, raw.cookie)
    if lie == "ext":
        ext = R.struct.pack(">HH", 0xFFAA, ext_real + extra) + bytes(ext_real)
        carried = body + R.struct.pack(">H", len(ext) + extra) + ext
        claimed = len(carried) + extra
        msg = R.handshake(1, 1, carried, length=claimed, frag_len=claimed)
    elif lie == "hs":
        msg = R.handshake(1, 1, body, length=len(body) + extra)
    elif lie == "hs+frag":
        msg = R.handshake(1, 1, body, length=len(body) + extra, frag_len=len(body) + extra)
    else:
        msg = R.handshake(1, 1, body)
    rec_len = len(msg) + (extra if lie == "record" else 0)
    dgram = R.struct.pack(">BHHHIH", 22, R.DTLS12, 0, 0, 1, rec_len) + msg
    assert F.canary_run(dgram, 0x00)[0] == F.canary_run(dgram, canary)[0]
