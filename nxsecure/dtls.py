"""The sans-I/O DTLS 1.2 engine core: records in, the state table of a role, flights and timers, datagrams out (RFC 6347)."""
# One association. What is the same for both roles lives here: the record loop, the
# handshake reassembly, the dispatch of each complete message through the role's state
# table, ChangeCipherSpec, alerts, the transcript, key derivation, Finished, flights
# and retransmission, the handshake deadline, application data both ways. The role's
# messages are in dtls_client.py / dtls_server.py (each holds its own state table), the
# key exchange of the negotiated suite is an object (PskKx here; the certificate and
# ECDHE ones in kx.py, loaded only when such a suite is negotiated).
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from . import config
from .codec import Writer, put_u24
from .const import (
    NxError, NX_SUCCESS, NX_NOT_CONNECTED, NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE,
    NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
    NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_FINISHED_HASH_FAILURE,
    NX_SECURE_TLS_NO_MATCHING_PSK, NX_SECURE_TLS_ALERT_RECEIVED,
    NX_SECURE_TLS_HANDSHAKE_TIMEOUT, NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
    NX_SECURE_TLS_BAD_CIPHERSPEC, NX_SECURE_TLS_TCP_SEND_FAILED,
    NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,
    NX_SECURE_TLS_INVALID_EPOCH, NX_SECURE_TLS_INVALID_PACKET,
)
from .handshake import HANDSHAKE_HEADER, push_handshake_header, pull_psk_vector
from .record import RecordLayer, CipherState, RECORD_HEADER, SCRATCH_SIZE
from .reassembly import Reassembler, ADD_OLD
from . import crypto

# RFC 5246 6.2.1 content types, 7.2 alerts, 7.4 handshake types
_CT_CCS = const(20)
_CT_ALERT = const(21)
_CT_HANDSHAKE = const(22)
_CT_APP = const(23)
_WARNING = const(1)
_FATAL = const(2)
_AD_CLOSE_NOTIFY = const(0)
_AD_UNEXPECTED_MESSAGE = const(10)
_AD_BAD_RECORD_MAC = const(20)
_AD_RECORD_OVERFLOW = const(22)
_AD_HANDSHAKE_FAILURE = const(40)
_AD_DECODE_ERROR = const(50)
_AD_DECRYPT_ERROR = const(51)
_AD_INTERNAL_ERROR = const(80)
_AD_NO_RENEGOTIATION = const(100)
_AD_UNKNOWN_PSK_IDENTITY = const(115)     # RFC 4279 2
_HT_HELLO_REQUEST = const(0)
_HT_CLIENT_HELLO = const(1)
_HT_SERVER_KEY_EXCHANGE = const(12)
_HT_CLIENT_KEY_EXCHANGE = const(16)
_HT_FINISHED = const(20)

# Handshake states. Client and server share one numbering; each role's state table
# (dtls_client.TABLE, dtls_server.TABLE) says which message is legal in which state.
IDLE = 0
C_HELLO = 1            # ClientHello sent; HelloVerifyRequest or ServerHello next
C_SERVER_HELLO = 2     # ServerHello received
C_KEY_EXCHANGE = 3     # ServerKeyExchange received
C_WAIT_CCS = 4         # our final flight sent
C_WAIT_FINISHED = 5
C_CERTIFICATE = 6      # server Certificate received
C_CERT_REQUEST = 7     # CertificateRequest received
S_WAIT_HELLO = 9       # a cookie-verified ClientHello is being reassembled
S_HELLO = 10           # a cookie-verified ClientHello waits for nx_secure_dtls_server_session_start
S_WAIT_CKE = 11        # our ServerHello flight sent
S_WAIT_CCS = 12
S_WAIT_FINISHED = 13
S_WAIT_CLIENT_CERT = 14  # we asked for a client certificate
S_WAIT_CERT_VERIFY = 15  # the client's certificate came; its CertificateVerify next
CONNECTED = 20
CLOSED = 21            # close_notify sent or received
ERROR = 22

# The peer's ChangeCipherSpec: legal in these states only, and what follows it.
_CCS_NEXT = {C_WAIT_CCS: C_WAIT_FINISHED, S_WAIT_CCS: S_WAIT_FINISHED}

# Conditions a state-table entry puts on the negotiated suite (`cond` of an entry).
ANY = 0
CERT = 1               # the suite authenticates with certificates
PSK = 2                # a PSK suite (plain or ECDHE_PSK)
PLAIN_PSK = 3          # plain PSK: its ServerKeyExchange (the hint) is optional
ECDHE = 4              # ECDHE with certificates: ServerKeyExchange required
RSA = 5                # RSA key transport: no ServerKeyExchange


def key(state, msg_type):
    """The state-table key of (state, handshake message type)."""
    return (state << 5) | msg_type


# Memory one engine takes from its session's slice of the caller's buffer.
_RANDOMS = 32 + 32 + 48           # client random, server random, master secret
_COOKIE_ROOM = 256
MEMORY_SIZE = (config.NX_SECURE_DTLS_MAX_DATAGRAM + config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE
               + _RANDOMS + _COOKIE_ROOM + SCRATCH_SIZE
               + 256)    # nxsecure/early.py: two 128-byte slots
_MAX_FLIGHT_ENTRIES = 8


class Transcript:
    """Handshake hash without forking a running hash (MicroPython's hashlib has no
    copy()): hashes run side by side and are finished in order, at the points the
    handshake needs a digest: after ClientKeyExchange (RFC 7627 session hash; the
    CertificateVerify input), before the client Finished, after it. The second is the
    first again unless a CertificateVerify came between (certificate suites only), so a
    table without certificate suites runs two hashes: a digest asked for again with
    nothing hashed since is the one already made. Where the port can copy a hash
    object's state (view, nxsecure/port/hash_state.py), one hash runs and each digest
    is made from a copy of its state in a spare object: every message hashed once."""

    def __init__(self, sha256, n, view=None):
        self._new = sha256
        self._view = view
        if view is not None:
            n = 1
            self._t = sha256()          # the spare: finished, it takes the next copy
        self._n = n
        self._h = None
        self.reset()

    def reset(self):
        # new hash objects only when the old ones were used: a hash object is a
        # ~120-byte allocation, which on a board's fragmented heap costs more than
        # hashing a block (the allocator walks the heap for a run of free blocks)
        if self._h is None or self._used:
            n = self._new
            k = self._n
            self._h = [n(), n(), n()] if k == 3 else [n(), n()] if k == 2 else [n()]
        self._used = False
        self._d = None            # the last digest while nothing came after it

    def update(self, data):
        self._used = True
        self._d = None
        for h in self._h:
            h.update(data)

    def digest(self):
        d = self._d
        if d is None:
            self._used = True
            v = self._view
            if v is None:
                h = self._h.pop(0)
            else:
                h = self._t
                v(h)[:] = v(self._h[0])
            d = self._d = h.digest()
        return d


class Flight:
    """Our last flight (RFC 6347 4.2.4) and its retransmission timer. Messages are kept
    as plaintext (segments: views of the flight buffer, and for a Certificate message
    of the certificates' own DER, not copied) and protected anew, in the epoch each was
    sent in, at every (re)transmission."""

    def __init__(self, e, buf):
        self.e = e
        self.buf = buf
        # entries: [content type, epoch, segments, length]
        self.entries = [[0, 0, None, 0] for _ in range(_MAX_FLIGHT_ENTRIES)]
        self.reset()

    def reset(self):
        self.n = 0
        self.used = 0
        self.unhashed = False    # the first message is not in the transcript yet
        self.timeout = config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS
        self.transmissions = 0

    begin = reset       # a new flight (the previous one is acknowledged by the peer's)

    def message(self, epoch=0):
        """A Writer for the next handshake message's body."""
        if self.n >= _MAX_FLIGHT_ENTRIES:
            raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, _AD_INTERNAL_ERROR)
        self.epoch = epoch
        return Writer(self.buf, self.used + HANDSHAKE_HEADER)

    def end(self, w, msg_type):
        """Close the message written with message(): header as if unfragmented, into
        the transcript, listed in the flight."""
        start = self.used
        length = w.pos - start - HANDSHAKE_HEADER
        push_handshake_header(self.buf, start, msg_type, length, self.e.send_seq, 0, length)
        self.add([self.buf[start:w.pos]], w.pos - start)
        self.used = w.pos

    def add(self, segs, size):
        e = self.e
        if e.send_seq > 0xFFFF:
            # RFC 6347 4.2.2: message_seq is 16 bits and must not wrap
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_INTERNAL_ERROR)
        e.send_seq += 1
        if not self.unhashed:
            x = 0                   # (an index loop: a `for` takes 4 words of the frame)
            while x < len(segs):
                e.transcript.update(segs[x])
                x += 1
        x = self.entries[self.n]
        x[0] = _CT_HANDSHAKE
        x[1] = self.epoch
        x[2] = segs
        x[3] = size
        self.n += 1

    def hash_first(self):
        """The first message, added with `unhashed` set, into the transcript now."""
        if self.unhashed:
            self.unhashed = False
            for seg in self.entries[0][2]:
                self.e.transcript.update(seg)

    def ccs(self):
        x = self.entries[self.n]
        x[0] = _CT_CCS
        x[1] = 0
        x[2] = None
        x[3] = 1
        self.n += 1

    def send(self, now, arm_timer):
        """(Re)transmit: messages fragmented to the MTU, several records to a datagram,
        each protected in its message's epoch with a fresh sequence number (RFC 6347
        4.2.3, 4.2.4)."""
        e = self.e
        rl = e.record
        tx = e.tx
        mtu = e.mtu
        if mtu > len(tx):
            mtu = len(tx)
        pos = 0
        for i in range(self.n):
            ctype, epoch, segs, size = self.entries[i]
            if ctype == _CT_CCS:
                if pos + rl.write_overhead(0) + 1 > mtu:
                    e._emit(pos)
                    pos = 0
                tx[pos + rl.write_prefix(0)] = 1
                pos += rl.seal(tx, pos, _CT_CCS, 0, 1)
                # RFC 6347 4.1: after sending ChangeCipherSpec the write epoch advances.
                if rl.write_epoch == 0:
                    rl.activate_write()
                continue
            body_len = size - HANDSHAKE_HEADER
            overhead = HANDSHAKE_HEADER + rl.write_overhead(epoch)
            if mtu - overhead < 1:
                raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, _AD_INTERNAL_ERROR)
            done = 0
            while True:
                room = mtu - pos - overhead
                if room < 1 or (room < body_len - done and room < 64 and pos):
                    # not worth a tiny fragment: start a new datagram
                    e._emit(pos)
                    pos = 0
                    room = mtu - overhead
                frag = body_len - done
                if frag > room:
                    frag = room
                if frag > e.max_send - HANDSHAKE_HEADER:    # RFC 6066 4
                    frag = e.max_send - HANDSHAKE_HEADER
                q = pos + rl.write_prefix(epoch)
                if done == 0 and frag == body_len and len(segs) == 1:
                    # whole, in one segment (all but a Certificate): its header is
                    # already the unfragmented one, one copy
                    tx[q:q + size] = segs[0]
                else:
                    _copy_segments(segs, 0, tx, q, HANDSHAKE_HEADER)
                    # rewrite fragment_offset / fragment_length (RFC 6347 4.2.3)
                    put_u24(tx, q + 6, done)
                    put_u24(tx, q + 9, frag)
                    _copy_segments(segs, HANDSHAKE_HEADER + done, tx, q + HANDSHAKE_HEADER,
                                   frag)
                pos += rl.seal(tx, pos, _CT_HANDSHAKE, epoch, HANDSHAKE_HEADER + frag)
                done += frag
                if done >= body_len:
                    break
        if pos:
            e._emit(pos)
        if arm_timer:
            # A resend that answers the peer's repeated flight (arm_timer False) neither
            # moves the timer nor counts toward giving up: the schedule, and so the
            # time until the handshake is given up, is the same however often the
            # peer repeats itself.
            self.transmissions += 1
            e._arm(e.ticks_add(now, self.timeout))

    def expired(self, now):
        """RFC 6347 4.2.4.1: the timer expired: double the timeout up to 60 s and
        retransmit; give up after a bounded number of transmissions."""
        e = self.e
        if self.transmissions >= config.NX_SECURE_DTLS_MAX_TRANSMISSIONS:
            e._arm(None)
            e._fail(NX_SECURE_TLS_HANDSHAKE_TIMEOUT, None)
            return
        t = self.timeout * 2
        if t > config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS:
            t = config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS
        self.timeout = t
        e.retransmits += 1
        self.send(now, True)


class PskKx:
    """Plain PSK key exchange (RFC 4279 2): the ServerKeyExchange carries the
    server's identity hint when it has one, the ClientKeyExchange the identity, and
    the premaster is built from the PSK alone."""
    cert = False

    # --- client
    def on_server_key_exchange(self, e, body):
        e.hint = bytes(pull_psk_vector(body))

    def client_key_exchange(self, e, w):
        w.vec16(e.psk_identity)       # RFC 4279 2: psk_identity<0..2^16-1>
        return psk_premaster(bytes(len(e.psk)), e.psk)

    # --- server
    def server_messages(self, e, hello):
        hint = e.psk_store.hint()
        if hint:
            w = e.flight.message()
            w.vec16(hint)               # RFC 4279 2: psk_identity_hint<0..2^16-1>
            e.flight.end(w, _HT_SERVER_KEY_EXCHANGE)

    def on_client_key_exchange(self, e, r):
        psk_from_identity(e, r)
        r.done()
        return psk_premaster(bytes(len(e.psk)), e.psk)


PSK_KX = PskKx()


def psk_from_identity(e, r):
    """Server: the ClientKeyExchange's psk_identity names our key (RFC 4279 2)."""
    identity = r.vec16()
    psk = e.psk_store.key_for_identity(identity)
    if psk is None:
        # RFC 4279 2: an unknown identity MAY be answered with unknown_psk_identity.
        raise NxError(NX_SECURE_TLS_NO_MATCHING_PSK, _AD_UNKNOWN_PSK_IDENTITY)
    e.psk = psk
    e.psk_identity = bytes(identity)


def psk_premaster(other, psk):
    """RFC 4279 2 / RFC 5489 2: uint16 len, other_secret, uint16 len, psk."""
    n = len(other)
    m = len(psk)
    out = bytearray(4 + n + m)
    out[0] = n >> 8
    out[1] = n & 0xFF
    out[2:2 + n] = other
    out[2 + n] = m >> 8
    out[3 + n] = m & 0xFF
    out[4 + n:] = psk
    return bytes(out)


def _role(is_client):
    # the role's messages and state table; a profile installs only its roles. Loaded
    # by the first session of its role, while the application sets up: the holes its
    # loading leaves are for the rest of the set-up to fill, not for the first
    # handshake to walk past (port.load)
    from nxsecure import port
    return port.load("nxsecure.dtls_client" if is_client else "nxsecure.dtls_server")


class Dtls:
    """One DTLS association. The owner (a session control block) supplies
    `_dtls_output(mv) -> status`, `_dtls_app_data(buf, off, n, packet) -> bool`,
    `_dtls_event(code)`, `_dtls_hello()` (a server's held ClientHello is complete),
    `_dtls_timer(due)` (the deadline it must be woken at, or None), and the PSK store;
    this class never touches a socket or a clock."""

    def __init__(self, owner, mem, table, metadata, reassembly, is_client, random_into,
                 ticks_add=None, ticks_diff=None):
        self.owner = owner
        self.ticks_add = ticks_add or _plain_add
        self.ticks_diff = ticks_diff or _plain_diff
        self.table = table
        self.is_client = is_client
        self.role = _role(is_client)
        self.random_into = random_into
        mtu_room = config.NX_SECURE_DTLS_MAX_DATAGRAM
        p = 0
        self.tx = mem[p:p + mtu_room]
        p += mtu_room
        self.flight = Flight(self, mem[p:p + config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE])
        p += config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE
        self.client_random = mem[p:p + 32]
        self.server_random = mem[p + 32:p + 64]
        self.master = mem[p + 64:p + 112]
        p += _RANDOMS
        self.cookie_buf = mem[p:p + _COOKIE_ROOM]
        p += _COOKIE_ROOM
        self.record = RecordLayer(mem[p:p + SCRATCH_SIZE])
        self.early_mem = mem[p + SCRATCH_SIZE:]    # the rest: early.py's slots
        self.early = None            # early.Early, made when the first early record comes
        self.metadata = metadata
        self.reasm = Reassembler(reassembly)
        self._whole = [0, 0, None, None]     # _on_record's unfragmented message
        # three running hashes where a CertificateVerify may come, else two (Transcript)
        n = 2
        for row in table.nx_secure_tls_ciphersuite_lookup_table:
            if row.nx_secure_tls_public_auth:         # (a certificate suite)
                n = 3
        self.transcript = Transcript(table.sha256, n, table.sha256_view)
        self.mtu = config.NX_SECURE_DTLS_DEFAULT_MTU
        self.psk_store = None
        self.deadline = None
        self.hs_deadline = None
        self.trace = None            # nxsecure_dtls_session_trace_set: fn(old, new, msg)
        # The optional features the application turned on (nxsecure/feature.py: small
        # records, keep-alive, ...): None, or a list of objects the core calls at its
        # hooks. They keep what they negotiated on the engine.
        self.x = None
        self.reneg = None
        self.reset()

    def reset(self):
        if self.reneg is None or self.state != CONNECTED:
            # A renegotiation (nxsecure/renegotiation.py) starts from CONNECTED with
            # e.reneg set: the new handshake runs under the current keys, which stay.
            self.reneg = None
            self.reneg_bind = None   # else (our renegotiation_info, the peer's expected)
            self.record.reset()
            # (a renegotiating ClientHello repeats the cookie: OpenSSL 3's s_server does
            # not authenticate our Finished after one without it -- RFC 6347 4.2.6 leaves
            # a cookie-less first ClientHello out of the handshake hash)
            self.cookie_len = 0
        self.state = IDLE
        self.error = NX_SUCCESS
        self.suite = None
        self.kx = None
        self._mk = None              # the master secret's form for the PRF (derive_keys)
        self.ems = False
        self.secure_reneg = False
        self.send_seq = 0            # next handshake message_seq we send
        self.flight.reset()
        self.peer_flight_seq = -1    # first message_seq of the peer's last complete flight
        self.hs_deadline = None
        self._arm(None)
        self.sent_close = False
        self.psk = None
        self.psk_identity = None
        self.hint = None
        self.retransmits = 0
        self.reasm.reset(0)
        self.transcript.reset()
        self.held_hello = False
        self.last_exception = None
        self.last_alert = None       # (level, description) of the last alert received
        self.resumed = None          # the resumption feature, when this handshake resumes
        self.session_id = b""        # RFC 5246 7.4.1.2 session_id: offered / given
        self.end_reason = 0          # why the peer is gone: its close_notify, or
                                     # NXSECURE_DTLS_PEER_TIMEOUT (server idle, keep-alive)
        # largest record plaintext we send / accept (RFC 5246 6.2.1; smaller when a
        # feature negotiated a limit)
        self.max_send = self.max_recv = 16384
        self.hello_verifies = 0      # client: HelloVerifyRequests taken this handshake
        if self.early is not None:
            self.early.reset()
        self.offered_ecc = False     # client: our ClientHello carried ec_point_formats
        # certificate suites (nxsecure/kx.py)
        self.session_hash = None
        self.peer_key = None         # public key of the peer's verified certificate
        self.peer_point = None       # server's ECDHE point (client side)
        self.group = 0
        self.kx_priv = None          # our ephemeral ECDHE key (server side)
        self.local_cert = None       # the certificate we authenticate with
        self.cert_requested = False  # client: the server sent CertificateRequest
        self.sign_alg = 0
        self.peer_cert = False       # server: the client sent a non-empty Certificate
        self.peer_groups = None
        self.peer_sig_algs = None
        self._sh_seq = 0
        self._flight5_seq = -1
        self._rx_count = 0
        self._rtx_at = -1

    # ================================================================ the roles' entries
    def start_client(self, now):
        """Client: send the first ClientHello (RFC 6347 4.2.1)."""
        self.role.start(self, now)

    def expect_client_hello(self, message_seq, record_seq, deadline, random):
        """Server: the stateless path verified the cookie in the first fragment of a
        ClientHello (message_seq, in epoch-0 record record_seq, with the client's
        `random`); this association takes the hello's records from now on. The
        handshake must be over by `deadline` (a ticks value), or it fails with
        NX_SECURE_TLS_HANDSHAKE_TIMEOUT."""
        self.role.expect(self, message_seq, record_seq, deadline, random)

    def start_server(self, now):
        """Server: process the held ClientHello and send our flight; a NetX code."""
        return self.role.start(self, now)

    def choose_suite(self, row):
        """The negotiated suite, its key exchange and PRF; a suite whose PRF hashes
        with more than SHA-256 brings its transcript (crypto/suites384.py)."""
        self.suite = row
        if row.nx_secure_tls_public_cipher == crypto.TLS_KX_PSK:
            self.kx = PSK_KX
        else:                       # kx.py only for the others than PSK
            from . import kx
            self.kx = kx.kx_for(row)
        p = row.nx_secure_tls_prf
        self.prf = p.prf
        self.prf_key = getattr(p, "key", None)
        if hasattr(p, "transcript"):
            self.transcript = p.transcript(self, self.transcript)

    def usable(self, row):
        """A suite can be negotiated if we hold the credentials it needs: a PSK, or for
        certificate suites a trust anchor (client) or a matching identity certificate
        with its key (server)."""
        k = row.nx_secure_tls_public_cipher
        if k == crypto.TLS_KX_PSK or k == crypto.TLS_KX_ECDHE_PSK:
            return self.psk_store is not None and self.psk_store.count() > 0
        if self.is_client:
            from . import certs
            return certs.trusted_count(self.owner) > 0
        from . import kx
        return kx.server_cert_for(self, row) is not None

    # ================================================================ input
    def receive(self, buf, off, end, now, packet=None):
        """Process one datagram: every record in buf[off:end] (RFC 6347 4.1: a datagram
        may carry several records). Invalid records are dropped silently and counted.
        Returns nothing; outcomes arrive through the owner's callbacks and `state`."""
        rl = self.record
        self._rx_count += 1
        while off < end and self.state != ERROR:
            status = rl.open(buf, off, end)
            nxt = rl.r_next
            if status != NX_SUCCESS:
                rl.discarded += 1
                if status == NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE and (
                        self.state == S_WAIT_FINISHED or self.state == C_WAIT_FINISHED):
                    # The peer's first protected record -- its Finished -- does not
                    # authenticate: the two sides derived different keys (a wrong
                    # PSK). Waiting for retransmissions cannot mend that; end the
                    # handshake now with a fatal alert (RFC 6347 4.1.2.7 allows fatal
                    # alerts for invalid records) instead of timing out minutes later.
                    self._fail(NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE, _AD_BAD_RECORD_MAC)
                    return
                if status == NX_SECURE_TLS_INVALID_EPOCH:
                    self._early(buf, off, nxt)      # next epoch, before the peer's CCS?
                off = nxt
                continue
            try:
                if rl.r_len > self.max_recv and rl.r_epoch:
                    # RFC 6066 4 / RFC 8449 4: larger than the limit we announced
                    raise NxError(NX_SECURE_TLS_INVALID_PACKET, _AD_RECORD_OVERFLOW)
                if rl.r_type == _CT_APP:
                    # RFC 6347 4.1: application data only in the epoch the handshake
                    # established, and only once the handshake is finished; the replay
                    # window is marked once the owner took the record.
                    # (open() takes it only protected; during a renegotiation it may
                    # come in the old epoch or the new one)
                    if ((self.state == CONNECTED or self.reneg is not None)
                            and self.owner._dtls_app_data(
                                buf, rl.r_off, rl.r_len, packet if nxt >= end else None)):
                        rl.accept()
                    else:
                        rl.discarded += 1
                else:
                    self._on_record(rl.r_type, rl.r_epoch, buf, rl.r_off, rl.r_len, now)
                    if self.early is not None:
                        # state or keys may be ready for what came early (early.py)
                        self.early.ready(self, now)
            except NxError as e:
                self._fail(e.code, e.alert)
                return
            except Exception as e:      # a defect must not take the server down
                self._internal_error(e)
                return
            off = nxt

    def _on_record(self, ctype, epoch, buf, off, n, now):
        """One authenticated (or epoch-0) record other than application data."""
        rl = self.record
        if ctype == _CT_ALERT:
            self._on_alert(epoch, buf, off, n)
            return
        if ctype > _CT_APP:
            # a feature's content type (heartbeat, RFC 6520 3): protected only
            if self.x is None or epoch != 1 or self.state != CONNECTED:
                rl.discarded += 1
                return
            for f in self.x:
                f.record(self, ctype, buf, off, n, now)
            return
        if ctype == _CT_CCS:
            nxt = _CCS_NEXT.get(self.state)
            if nxt is None or epoch != 0:
                # A ChangeCipherSpec out of place is not acted on (RFC 5246 7.1). Records
                # may be reordered: one that overtook the end of the peer's flight is
                # kept and takes effect once that has come (early.py).
                self._early(buf, off - RECORD_HEADER, off + n)
                rl.discarded += 1
                return
            if n != 1 or buf[off] != 1:
                raise NxError(NX_SECURE_TLS_BAD_CIPHERSPEC, _AD_DECODE_ERROR)
            rl.accept()
            rl.activate_read()
            self._set_state(nxt, _CT_CCS)
            return
        # handshake records: one or more fragments (RFC 6347 4.2.3). An epoch-1 record
        # authenticated and marks the replay window. An epoch-0 one never does: it is
        # unauthenticated, so a copy of an old message or a spoofed future fragment
        # with a made-up record number would push the window past the peer's real
        # records; the reassembler already drops repeated handshake bytes.
        if epoch:
            rl.accept()
        end = off + n
        retransmit = False
        # a message that came whole and is next, not copied: its type, message_seq, body
        # and whole bytes in self._whole (a list made once: a 5-tuple per record would
        # be an allocation of two blocks, which on a board walks the heap)
        whole = False
        reasm = self.reasm
        try:
            while off < end:
                # the fragment's header (RFC 6347 4.2.2), read in place: no Reader
                # and a call per field, a dozen calls less per record on a board
                h = off
                off += HANDSHAKE_HEADER
                if off > end:
                    raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH)
                msg_type = buf[h]
                length = (buf[h + 1] << 16) | (buf[h + 2] << 8) | buf[h + 3]
                message_seq = (buf[h + 4] << 8) | buf[h + 5]
                frag_off = (buf[h + 6] << 16) | (buf[h + 7] << 8) | buf[h + 8]
                frag_len = (buf[h + 9] << 16) | (buf[h + 10] << 8) | buf[h + 11]
                off += frag_len
                if off > end:
                    raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH)
                frag = buf[off - frag_len:off]
                if self._wrong_epoch(msg_type, epoch):
                    continue
                if (self.state == CONNECTED and msg_type <= _HT_CLIENT_HELLO
                        and message_seq < reasm.next_seq):
                    # a hello the peer renegotiates with (epoch 1, _wrong_epoch): a new
                    # handshake numbers its messages from 0 again (RFC 6347 4.2.2)
                    reasm.reset(message_seq)
                if epoch == 0 and rl.read_epoch and message_seq >= reasm.next_seq:
                    # RFC 6347 4.1: once the peer's ChangeCipherSpec is in, every new
                    # handshake message comes protected; an unprotected one is spoofed
                    raise NxError(NX_SECURE_TLS_INVALID_EPOCH)
                if (frag_off == 0 and frag_len == length and not whole
                        and reasm.take(message_seq, length)):
                    # unfragmented, its header is the transcript's (RFC 6347 4.2.6)
                    whole = self._whole
                    whole[0] = msg_type
                    whole[1] = message_seq
                    whole[2] = frag
                    whole[3] = buf[h:off]
                    whole = True
                    continue
                res = reasm.add(msg_type, length, message_seq, frag_off, frag_len, frag,
                                epoch)
                if res == ADD_OLD and message_seq >= self.peer_flight_seq >= 0:
                    retransmit = True
        except NxError:
            # RFC 6347 4.1.2.7: fragments that do not parse or fit make the record
            # invalid: drop the rest of it. Epoch 0 is unauthenticated, so this must
            # not end the association.
            rl.discarded += 1
        if retransmit:
            self._peer_repeated_flight(now)
        if whole:
            whole = self._whole
            frag = whole[2]
            whole[2] = None         # (the list keeps no view of the datagram)
            self._on_message(whole[0], whole[1], frag, whole[3], now)
            whole[3] = None
        while True:
            m = reasm.pop()
            if m is None:
                break
            self._on_message(m[0], m[1], m[2], m[3], now)

    def _early(self, buf, off, end):
        """The record at buf[off:end] was refused (a next-epoch record before the
        peer's ChangeCipherSpec) or is out of place (a ChangeCipherSpec): it may have
        overtaken what it follows; nxsecure/early.py, imported on the first one, keeps
        it if so. Only during a handshake: junk sent to a connected session loads
        nothing."""
        if self.state < CONNECTED:
            if self.early is None:
                from .early import Early
                self.early = Early(self.early_mem)
            self.early.keep(self, buf, off, end)

    def _wrong_epoch(self, msg_type, epoch):
        """Finished is the only handshake message of the new epoch; every other one
        belongs to epoch 0. After the handshake, epoch-1 hello messages are
        renegotiation attempts, answered by _on_message."""
        if msg_type == _HT_HELLO_REQUEST and self.state != CONNECTED:
            return True     # RFC 5246 7.4.1.1: ignored while a handshake is under way
        if msg_type == _HT_FINISHED:
            return epoch != 1
        if self.state == CONNECTED and epoch == 1:
            return msg_type != _HT_HELLO_REQUEST and msg_type != _HT_CLIENT_HELLO
        return epoch != 0

    def _peer_repeated_flight(self, now):
        """RFC 6347 4.2.4: the peer retransmitted its previous flight, so ours was
        lost: send our last flight again (at most once per received datagram); -> True
        when it was sent. Also early.py's early resend."""
        if self._rtx_at == self._rx_count:
            return False
        if self.is_client and self.state == CONNECTED and self.resumed is None:
            return False    # the server's Finished arrived, so it has our whole flight
        if self.flight.n and self.state not in (IDLE, S_HELLO, S_WAIT_HELLO, ERROR, CLOSED):
            self._rtx_at = self._rx_count
            self.retransmits += 1
            self.flight.send(now, False)
            return True
        return False

    def _on_message(self, msg_type, message_seq, body, whole, now):
        """A complete handshake message: legal only where the role's state table
        lists it, and only under that entry's condition on the suite."""
        state = self.state
        if state == CONNECTED:
            # RFC 5746 / RFC 5246 7.4.1.1: renegotiation is declined with a warning,
            # unless the application allowed it (nxsecure/renegotiation.py)
            if msg_type == _HT_HELLO_REQUEST or msg_type == _HT_CLIENT_HELLO:
                if self.x is not None:
                    for f in self.x:
                        if f.peer_renegotiates(self, msg_type, whole, message_seq, now):
                            return
                self.send_alert(_WARNING, _AD_NO_RENEGOTIATION)
            return
        entry = self.role.TABLE.get(key(state, msg_type))
        if entry is None or not self._suite_is(entry[2]):
            raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, _AD_UNEXPECTED_MESSAGE)
        nxt = entry[0](self, body, whole, message_seq, now)
        self._set_state(entry[1] if nxt is None else nxt, msg_type)
        if self.state == CONNECTED:
            self._mk = None
            if self.x is not None:
                for f in self.x:
                    f.connected(self, now)
            self.owner._dtls_event(NX_SUCCESS)

    def _suite_is(self, cond):
        if cond == ANY:
            return True
        k = self.suite.nx_secure_tls_public_cipher
        if cond == CERT:
            return self.suite.nx_secure_tls_public_auth is not None
        if cond == PSK:
            return self.suite.nx_secure_tls_public_auth is None
        if cond == PLAIN_PSK:
            return k == crypto.TLS_KX_PSK
        if cond == ECDHE:
            return k == crypto.TLS_KX_ECDHE
        return k == crypto.TLS_KX_RSA           # RSA

    def _on_alert(self, epoch, buf, off, n):
        rl = self.record
        if n != 2:
            rl.discarded += 1
            return
        level = buf[off]
        desc = buf[off + 1]
        if level != _WARNING and level != _FATAL:
            rl.discarded += 1           # an unknown level changes nothing
            return
        if self.state == CONNECTED and epoch != 1:
            rl.discarded += 1           # unprotected alerts after the handshake are forgeable
            return
        if epoch or desc == _AD_CLOSE_NOTIFY or level == _FATAL:
            # an ignored epoch-0 warning must not move the replay window (see _on_record)
            rl.accept()
        self.last_alert = (level, desc)
        if desc == _AD_CLOSE_NOTIFY:
            # RFC 5246 7.2.1: answer close_notify with close_notify.
            self.end_reason = NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED
            if not self.sent_close:
                self.send_alert(_WARNING, _AD_CLOSE_NOTIFY)
            self._stop()
            self._set_state(CLOSED)
            self.owner._dtls_event(NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED)
            return
        if level == _FATAL:
            self.error = NX_SECURE_TLS_ALERT_RECEIVED
            self._stop()
            self._set_state(ERROR)
            self._fatal()
            self.owner._dtls_event(NX_SECURE_TLS_ALERT_RECEIVED)
        elif desc == _AD_NO_RENEGOTIATION and self.reneg is not None:
            self.reneg.declined(self)    # the peer keeps the session (RFC 5246 7.2.2)
        # other warnings need no action

    # ================================================================ both roles' steps
    def derive_keys(self, pms):
        """Master secret (RFC 7627 4 / RFC 5246 8.1) from the premaster, key block
        (RFC 5246 6.3). Consumes the first transcript digest: the session hash, which
        is also what CertificateVerify signs. pms None: a resumed session's master
        secret is already in place (RFC 5246 7.3, nxsecure/resumption.py)."""
        if pms is not None:
            session_hash = self.transcript.digest()
            self.session_hash = session_hash
            if self.ems:
                ms = self.prf(pms, b"extended master secret", session_hash, 48)
            else:
                ms = self.prf(pms, b"master secret",
                              bytes(self.client_random) + bytes(self.server_random), 48)
            self.master[:] = ms
        self.owner._dtls_keylog(self.client_random, self.master)
        s = self.suite
        mac_n = s.nx_secure_tls_hash_size
        key_n = s.nx_secure_tls_session_key_size
        iv_n = s.nx_secure_tls_iv_size
        total = 2 * (mac_n + key_n + iv_n)
        m = self.master
        if self.prf_key is not None:
            # the master's form for the PRF, made once for the key block and both
            # Finished messages (_verify_data), dropped when the handshake ends
            m = self._mk = self.prf_key(m)
        kb = self.prf(m, b"key expansion",
                      bytes(self.server_random) + bytes(self.client_random), total)
        md = self.metadata
        md[:total] = kb
        k = md[:total]
        cmac = k[0:mac_n]
        smac = k[mac_n:2 * mac_n]
        p = 2 * mac_n
        ckey = k[p:p + key_n]
        skey = k[p + key_n:p + 2 * key_n]
        p += 2 * key_n
        civ = k[p:p + iv_n]
        siv = k[p + iv_n:p + 2 * iv_n]
        cm = s.nx_secure_tls_session_cipher.nx_crypto_metadata_area_size
        hm = s.nx_secure_tls_hash.nx_crypto_metadata_area_size if s.nx_secure_tls_hash else 0
        q = total                   # contexts follow the key block (crypto/table.py sizes it)
        w_md = md[q:q + cm]
        r_md = md[q + cm:q + 2 * cm]
        q += 2 * cm
        wm_md = md[q:q + hm]
        rm_md = md[q + hm:q + 2 * hm]
        if self.is_client:
            ws = CipherState(s, ckey, cmac, civ, w_md, wm_md)
            rs = CipherState(s, skey, smac, siv, r_md, rm_md)
        else:
            ws = CipherState(s, skey, smac, siv, w_md, wm_md)
            rs = CipherState(s, ckey, cmac, civ, r_md, rm_md)
        self.record.set_pending(rs, ws)

    def _verify_data(self, label):
        # RFC 5246 7.4.9: PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]
        return self.prf(self._mk or self.master, label, self.transcript.digest(), 12)

    def push_finished(self, label):
        vd = self._verify_data(label)
        self.vd_sent = vd            # RFC 5746 3.1: what a renegotiation binds to
        w = self.flight.message(epoch=1)
        w.put(vd)
        self.flight.end(w, _HT_FINISHED)

    def check_finished(self, body, whole):
        """The peer's Finished (RFC 5246 7.4.9), compared in constant time."""
        expect = self._verify_data(b"server finished" if self.is_client else b"client finished")
        d = len(body) ^ 12
        if len(body) == 12:
            for i in range(12):
                d |= expect[i] ^ body[i]
        if d:
            raise NxError(NX_SECURE_TLS_FINISHED_HASH_FAILURE, _AD_DECRYPT_ERROR)
        self.vd_peer = expect
        self.transcript.update(whole)
        self.hs_deadline = None
        self._arm(None)

    # ================================================================ output
    def send_alert(self, level, desc):
        """One alert record in the current write epoch, in its own datagram."""
        rl = self.record
        epoch = rl.write_epoch
        tx = self.tx
        pre = rl.write_prefix(epoch)
        tx[pre] = level
        tx[pre + 1] = desc
        n = rl.seal(tx, 0, _CT_ALERT, epoch, 2)
        if desc == _AD_CLOSE_NOTIFY:
            self.sent_close = True
        return self.owner._dtls_output(tx[:n])

    def send_app(self, buf, start, n):
        """Protect buf[start + prefix:...] (n bytes of plaintext) as one application
        record in place and send it (RFC 6347 4.1: only protected, once connected; during
        a renegotiation in the epoch we write). -> a NetX code."""
        if self.state != CONNECTED and self.reneg is None:
            return NX_NOT_CONNECTED
        rl = self.record
        total = rl.seal(buf, start, _CT_APP, rl.write_epoch, n)
        if self.owner._dtls_output(buf[start:start + total]) != NX_SUCCESS:
            return NX_SECURE_TLS_TCP_SEND_FAILED
        return NX_SUCCESS

    def close(self):
        """Send close_notify (RFC 5246 7.2.1) and stop."""
        status = NX_SUCCESS
        if self.state not in (IDLE, CLOSED, ERROR, S_HELLO, S_WAIT_HELLO) and not self.sent_close:
            status = self.send_alert(_WARNING, _AD_CLOSE_NOTIFY)
        self._stop()
        self._set_state(CLOSED)
        return status

    def max_plaintext(self):
        """Largest application record plaintext that fits the MTU and the record size
        the peer accepts."""
        n = self.mtu - self.record.overhead1
        return n if n < self.max_send else self.max_send

    def _emit(self, n):
        if self.owner._dtls_output(self.tx[:n]) != NX_SUCCESS:
            raise NxError(NX_SECURE_TLS_TCP_SEND_FAILED, None)

    def _fail(self, code, alert):
        """A fatal protocol error: send the alert, poison the state (RFC 5246 7.2.2)."""
        if self.state in (ERROR, CLOSED):
            return
        self.error = code
        self._stop()
        try:
            if alert is not None:
                self.send_alert(_FATAL, alert)
        except NxError:
            pass
        self._set_state(ERROR)
        if alert is not None:
            self._fatal()
        self.owner._dtls_event(code)

    def _fatal(self):
        """RFC 5246 7.2.2: after a fatal alert, sent or received, the session is not to
        be resumed: the features hear of it."""
        if self.x is not None:
            for f in self.x:
                f.failed(self)

    def _internal_error(self, exc):
        """An exception that is not a protocol error is a defect of ours: end this
        association with internal_error (RFC 5246 7.2.2), keep the exception for
        debugging, and let every other session carry on."""
        self.last_exception = exc
        self._fail(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_INTERNAL_ERROR)

    def _set_state(self, state, msg=None):
        """The one writer of `state`. The trace hook, when set, sees every change:
        (old state, new state, the handshake type or content type that caused it)."""
        old = self.state
        self.state = state
        if self.trace is not None:
            _call_trace(self.trace, old, state, msg)

    # ================================================================ timers
    def _stop(self):
        """No more timers: the handshake is over one way or another (a renegotiation
        too: no more data in its epochs)."""
        self._mk = None
        self.reneg = None
        self.hs_deadline = None
        self._arm(None)

    def _arm(self, deadline):
        """Set (a ticks value) or clear (None) the retransmission deadline, and tell the
        owner the earliest of it and the handshake deadline (None: nothing to wake
        for). A connected association has neither, so it costs the owner's timers
        nothing."""
        self.deadline = deadline
        h = self.hs_deadline
        if h is not None and (deadline is None or self.ticks_diff(h, deadline) < 0):
            deadline = h
        self.owner._dtls_timer(deadline)

    def _timer_changed(self):
        """The handshake deadline changed: tell the owner again (_arm)."""
        self._arm(self.deadline)

    def timer_fire(self, now):
        """The handshake deadline, or the retransmission timer (Flight.expired)."""
        h = self.hs_deadline
        if h is not None and self.ticks_diff(now, h) >= 0:
            self._stop()
            self._fail(NX_SECURE_TLS_HANDSHAKE_TIMEOUT, None)
            return
        d = self.deadline
        if d is None or self.ticks_diff(now, d) < 0:
            self._timer_changed()        # woken early (for the other deadline)
            return
        try:
            if self.state == CONNECTED:
                # no flight to resend: the deadline is a feature's (keep-alive)
                self._arm(None)
                if self.x is not None:
                    for f in self.x:
                        f.timer(self, now)
                return
            self.flight.expired(now)
        except NxError as e:
            self._fail(e.code, e.alert)
        except Exception as e:
            self._internal_error(e)


def _call_trace(t, old, state, msg):
    # (its own frame: a try block in _set_state would put that frame on the heap at
    # every state change on a board)
    try:
        t(old, state, msg)
    except Exception:       # a broken trace must not break the association
        pass


def _plain_add(t, d):
    return t + d


def _plain_diff(a, b):
    return a - b


def has_byte(mv, b):
    return b in bytes(mv)


def _copy_segments(segs, off, dst, dpos, n):
    """Copy n bytes starting at offset off of the concatenated segments into dst."""
    for seg in segs:
        m = len(seg)
        if off >= m:
            off -= m
            continue
        k = m - off
        if k > n:
            k = n
        dst[dpos:dpos + k] = seg[off:off + k]
        dpos += k
        n -= k
        off = 0
        if n == 0:
            return
