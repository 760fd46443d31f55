"""Records of the next epoch that arrive before the peer's ChangeCipherSpec, and an early ChangeCipherSpec, kept until the engine can take them (RFC 6347 4.1)."""
# RFC 6347 4.1: reordering can bring a record of the next epoch before the
# ChangeCipherSpec that starts it; the receiver may discard it or keep it for later.
# Flights 5 and 6 are often sent as one datagram per record, so on a link that
# reorders, the Finished overtakes the ChangeCipherSpec, or the ChangeCipherSpec the
# ClientKeyExchange, and every record of the flight was received but the attempt is
# lost. Kept here instead, in the engine's slice of the caller's session memory:
# two slots of 128 bytes (dtls.MEMORY_SIZE counts them; whole protected records, plain
# or RFC 9146 tls12_cid: a Finished of every suite fits, the longest being CBC with
# SHA-384 and an 8-byte CID, 117 bytes) and one flag for a ChangeCipherSpec that came
# before the state it belongs to. Only these 256 bytes and two small lists on the
# heap when the first early record comes; nothing of this on the steady path.
#
# The core calls keep() with a record it refused or found out of place, and ready()
# after each record it processed. Nothing unauthenticated is believed: a kept record
# is opened (decrypted and authenticated, in its slot) only with the epoch's own read
# keys, as soon as they are derived (the client derives them before it sends flight
# 5; the server when it processes the ClientKeyExchange), and it is processed only
# once the ChangeCipherSpec made them current. A record that fails to open is dropped
# in silence: it may be anybody's. The slots are shared out so that a spoofer can
# neither block the genuine records nor push them out:
# - once the keys exist, only a record that authenticates takes a slot, and a record
#   that authenticated is never given up for another (a replayed copy, same sequence
#   number, is not kept twice);
# - before the keys exist (a server given the Finished before the ClientKeyExchange),
#   records cannot be told apart: a new one takes a free slot or else replaces the
#   oldest unopened one, so nothing planted early holds a slot for good. A spoofer who
#   outpaces the peer can then push its record out; that costs what keeping nothing
#   costs: the peer's retransmission.
#
# Such a record is also evidence that the peer sent its next flight and part of it was
# lost or is late, so ours may need repeating now rather than when our timer says
# (RFC 6347 4.2.4 leaves early retransmission to the implementation; RFC 9147 5.8
# discusses it for DTLS 1.3). keep() resends our last flight once per timer period
# (the flight's message numbers and transmission count mark the period; the timer's
# schedule is not moved, as for a resend that answers the peer's repeated flight), only
# when the record is plausible: a ChangeCipherSpec, or a next-epoch record that
# authenticated with the keys when they exist. Never towards an unverified address: a
# server's engine has a flight only after the cookie exchange (server.py answers
# ClientHellos without a cookie statelessly), and none before that is resent.
# This module is imported on the first early record only.
from .const import NxError, NX_SUCCESS, NX_SECURE_TLS_INVALID_PACKET
from .dtls import CONNECTED, ERROR, _CCS_NEXT
from .record import _get48

# Host experiments switch the early resend off (tools/loss_report.py --no-early-resend).
RESEND = True

SLOT = 128
_SEALED = 1      # the record as received, not yet opened
_OPEN = 2        # opened with the epoch's keys: authenticated plaintext in the slot


class Early:
    def __init__(self, mem):
        # per slot: [state (0: free), arrival number, plaintext start, end, the slot,
        # bytes held, content type once opened]
        self.meta = [[0, 0, 0, 0, mem[i * SLOT:(i + 1) * SLOT], 0, 0]
                     for i in range(len(mem) // SLOT)]
        self.reset()

    def reset(self):
        self.ccs = False
        self.count = 0
        self.period = -1                  # the timer period of our last early resend
        self.resends = 0
        for m in self.meta:
            _free(m)

    def keep(self, e, buf, off, end):
        """buf[off:end], a whole record the engine refused or found out of place: keep
        it if it is a ChangeCipherSpec (epoch 0) or a record of the next epoch (either
        record format: the epoch and sequence number are at the same places) and the
        engine is in a handshake that has not taken the peer's ChangeCipherSpec. Not in
        a renegotiation (nxsecure/renegotiation.py: the record layer's epoch base is
        not 0): its records are protected, and the wire epochs are not 0 and 1."""
        rl = e.record
        if rl.read_epoch or rl.base or e.state >= CONNECTED or buf[off + 3]:
            return
        epoch = buf[off + 4]
        if buf[off] == 20:
            if epoch == 0 and end - off == 14 and buf[off + 13] == 1:
                self.ccs = True
                self.resend(e)
            return
        n = end - off
        if epoch != 1 or n > SLOT:
            return
        self.verify(e)                    # a slot that can be opened is not up for grabs
        seq = _get48(buf, off + 5)
        pick = None
        for m in self.meta:
            if m[0] == _OPEN:
                if _seq(m) == seq:
                    return                # a copy of a record we hold authenticated
            elif pick is None or m[0] < pick[0] or m[0] == pick[0] and m[1] < pick[1]:
                pick = m                  # a free slot, else the oldest unopened record
        if pick is None:
            return                        # every slot holds an authenticated record
        _free(pick)
        pick[4][:n] = buf[off:end]
        pick[5] = n
        pick[0] = _SEALED
        pick[1] = self.count
        self.count += 1
        self.verify(e)
        if pick[0] == _OPEN or pick[0] == _SEALED and rl.pending_read is None:
            self.resend(e)                # authenticated, or nothing to check it with yet

    def resend(self, e):
        """Part of the peer's next flight came without what precedes it: send our last
        flight again now, at most once per timer period (see above)."""
        f = e.flight
        period = (e.send_seq << 8) | (f.transmissions & 0xFF)
        if not RESEND or not f.transmissions or period == self.period:
            return
        if e._peer_repeated_flight(None):     # the engine's resend, its conditions
            self.period = period
            self.resends += 1

    def verify(self, e):
        """Open every unopened record with the next epoch's read keys if they exist;
        drop those that do not authenticate."""
        rl = e.record
        cur = rl.read_epoch
        if not cur and rl.pending_read is None:
            return
        for m in self.meta:
            if m[0] == _SEALED:
                rc = rl.rcur
                if not cur:
                    # the keys are pending (the peer's ChangeCipherSpec has not made
                    # them current yet): open with them, then put the read epoch back
                    rl.activate_read()
                ok = rl.open(m[4], 0, m[5]) == NX_SUCCESS
                if not cur:
                    rl.read_epoch = 0
                    rl.read1 = None
                    rl.rcur = rc
                if ok:
                    m[0] = _OPEN
                    m[2] = rl.r_off
                    m[3] = rl.r_off + rl.r_len
                    m[6] = rl.r_type          # the inner type of a tls12_cid record
                else:
                    _free(m)

    def ready(self, e, now):
        """The engine processed a record: open what the new keys open; if the
        handshake now waits for the peer's ChangeCipherSpec and one came early, take
        it (RFC 6347 4.1: the read epoch advances); once the read epoch advanced,
        process the kept records of the new epoch, lowest sequence number first, as
        if they arrived now."""
        if e.state >= CONNECTED:
            return
        self.verify(e)
        rl = e.record
        if not rl.read_epoch:
            nxt = _CCS_NEXT.get(e.state)
            if not self.ccs or nxt is None or rl.pending_read is None:
                return
            self.ccs = False
            rl.activate_read()
            e._set_state(nxt, 20)
            self.verify(e)
        while e.state != ERROR:
            pick = None
            for m in self.meta:
                if m[0] == _OPEN and (pick is None or _seq(m) < _seq(pick)):
                    pick = m
            if pick is None:
                return
            s = pick[4]
            seq = _seq(pick)
            if rl.w1.check(seq):          # not a copy of a record taken already
                rl.r_epoch = 1                # what accept() marks
                rl.r_seq = seq
                n = pick[3] - pick[2]
                if n > e.max_recv:
                    # RFC 8449 4 / RFC 6066 4: the limit we announced holds for a
                    # record taken from a slot as for one taken on arrival
                    _free(pick)
                    raise NxError(NX_SECURE_TLS_INVALID_PACKET, 22)   # record_overflow
                if pick[6] != 23:
                    e._on_record(pick[6], 1, s, pick[2], n, now)
                elif e.state == CONNECTED and e.owner._dtls_app_data(s, pick[2], n, None):
                    rl.w1.mark(seq)
            _free(pick)


def _free(m):
    if m[0]:
        m[0] = 0
        n = m[5]
        m[4][:n] = bytes(n)               # no plaintext stays behind
        m[5] = 0


def _seq(m):
    return _get48(m[4], 5)
