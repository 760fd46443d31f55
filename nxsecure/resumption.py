"""Session resumption (RFC 5246 7.3 abbreviated handshake): session IDs with a server cache in caller memory, session tickets (RFC 5077) under a rotating key, the client's state as bytes, bound to the extended master secret (RFC 7627 5.3)."""
# Optional: loaded only when the application calls one of these services.
#
# Client:
#   nxsecure_dtls_session_resumption_enable(session, state_buffer, state_buffer_size)
#       remember the session of each handshake in state_buffer (caller memory: at
#       least NXSECURE_DTLS_RESUMPTION_STATE_MIN bytes; what is left beyond holds a
#       ticket) and offer it in the next one: its session ID, and the session_ticket
#       extension (the ticket, or empty to ask for one). None turns it off.
#   nxsecure_dtls_session_resumption_state_export(session, buffer, size) -> (status, n)
#   nxsecure_dtls_session_resumption_state_import(session, data, length) -> status
#       the state as bytes, to keep across a deep sleep (RTC memory, flash). It holds
#       the session's master secret: keep it as secret as the PSK.
#   nxsecure_dtls_session_resumed_get(session) -> (status, resumed)
#       whether the last handshake was abbreviated (both roles).
# Server:
#   nxsecure_dtls_server_session_cache_set(server, cache_buffer, cache_size, lifetime)
#       session IDs: as many cached sessions as cache_size holds entries of
#       NXSECURE_DTLS_SESSION_CACHE_ENTRY bytes, each resumable for `lifetime` ticks
#       (the oldest is replaced when full); None turns it off.
#   nxsecure_dtls_server_session_ticket_enable(server, lifetime)
#       tickets (RFC 5077): the session's state sealed under a ticket key that changes
#       every `lifetime` ticks (a ticket opens under the current key and the one
#       before, so it is good for up to two lifetimes); no state per client. 0 off.
#
# Only sessions with the extended master secret are kept or resumed (RFC 7627 5.4):
# both ends send it always. A PSK session resumes only while its identity is still in
# the server's store. The cipher suite is the session's (RFC 5246 7.4.1.3).
from nxsecure import port
from . import config
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_SECURE_TLS_HANDSHAKE_FAILURE,
    NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, NX_SECURE_TLS_UNKNOWN_CIPHERSUITE,
)
from .codec import Reader
from .dtls import key, ANY, CONNECTED, C_WAIT_CCS, _CCS_NEXT
from .feature import Feature, install, installed, take, exact
from .handshake import push_server_hello, client_hello_offers, reneg_ours

EXT_SESSION_TICKET = 35           # RFC 5077 3.2
_HT_SERVER_HELLO = 2
_HT_NEW_SESSION_TICKET = 4        # RFC 5077 3.3
_HT_FINISHED = 20
_AD_UNEXPECTED_MESSAGE = 10
_AD_HANDSHAKE_FAILURE = 40
_AD_ILLEGAL_PARAMETER = 47

# The abbreviated handshake's states, beside the core's (dtls.py).
C_RESUME = 8              # client: the ServerHello resumed our session; its CCS next
C_RESUME_FINISHED = 16    # client: the server's CCS is in; its Finished next
S_RESUME_CCS = 17         # server: ServerHello, CCS, Finished sent; the client's CCS next
S_RESUME_FINISHED = 18    # server: the client's CCS is in; its Finished next

# Client state (the export format): version, suite, flags, master secret, session ID,
# ticket.
_STATE_VERSION = 1
_SID = 53                 # offset of the session ID's length byte
_TICKET = 86              # offset of the ticket's length (2 bytes)
NXSECURE_DTLS_RESUMPTION_STATE_MIN = _TICKET + 2
_MAX_ID = config.NX_SECURE_TLS_MAX_PSK_ID_SIZE
# Server cache entry: flags, suite, session ID, master secret, PSK identity.
NXSECURE_DTLS_SESSION_CACHE_ENTRY = 84 + _MAX_ID
_TAG = 16                 # ticket MAC (HMAC-SHA256, truncated)


# --- codecs ------------------------------------------------------------------------
def push_new_session_ticket(w, lifetime_hint, ticket):
    """RFC 5077 3.3: uint32 ticket_lifetime_hint, opaque ticket<0..2^16-1>."""
    w.u16(lifetime_hint >> 16)
    w.u16(lifetime_hint & 0xFFFF)
    w.vec16(ticket)


def pull_new_session_ticket(body):
    """-> (lifetime_hint, ticket view)."""
    r = Reader(body)
    hint = (r.u16() << 16) | r.u16()
    ticket = r.vec16()
    r.done()
    return hint, ticket


def push_session_ticket_extension(w, ticket):
    """RFC 5077 3.2: the ticket, or empty (asking for one / announcing one)."""
    w.u16(EXT_SESSION_TICKET)
    w.vec16(ticket)


def _state_fields(suite, ems, master, identity):
    """The session state a ticket seals: suite, flags, master secret, PSK identity."""
    n = len(identity)
    out = bytearray(52 + n)
    out[0] = suite >> 8
    out[1] = suite & 0xFF
    out[2] = 1 if ems else 0
    out[3:51] = master
    out[51] = n
    out[52:] = identity
    return out


def _parse_state(b):
    """-> (suite, ems, master, identity) from _state_fields' bytes, or None."""
    if len(b) < 52 or len(b) != 52 + b[51]:
        return None
    return (b[0] << 8) | b[1], b[2] & 1, bytes(b[3:51]), bytes(b[52:])


# --- the ticket key ------------------------------------------------------------------
class TicketKeys:
    """The current and previous ticket keys (a random 32-byte secret each, named by a
    4-byte serial); the current one is replaced every `lifetime` ms. A ticket is
    name || nonce || state XOR HMAC keystream || HMAC tag (encrypt-then-MAC with
    HMAC-SHA256 as the PRF: needs nothing beyond what every crypto table has)."""

    def __init__(self, table, lifetime_ms, now):
        self.hmac = table.hmac_sha256
        self.lifetime = lifetime_ms
        self.serial = 0
        self.keys = [None, None]          # [current, previous]: (name, secret)
        self._rotate(now)

    def _rotate(self, now):
        secret = bytearray(32)
        port.random_into(secret)
        self.serial = (self.serial + 1) & 0xFFFFFFFF
        name = bytes(((self.serial >> 24) & 0xFF, (self.serial >> 16) & 0xFF,
                      (self.serial >> 8) & 0xFF, self.serial & 0xFF))
        self.keys[1] = self.keys[0]
        self.keys[0] = (name, bytes(secret))
        self.since = now

    def _tick(self, now):
        if port.ticks_diff(now, self.since) >= self.lifetime:
            self._rotate(now)
            if port.ticks_diff(now, self.since) >= self.lifetime:
                self.keys[1] = None

    def _stream(self, secret, nonce, data):
        out = bytearray(data)
        i = 0
        c = 0
        while i < len(out):
            block = self.hmac(secret, b"\x01", nonce, bytes((c,)))
            for j in range(32):
                if i + j >= len(out):
                    break
                out[i + j] ^= block[j]
            i += 32
            c += 1
        return out

    def seal(self, state, now):
        self._tick(now)
        name, secret = self.keys[0]
        nonce = bytearray(12)
        port.random_into(nonce)
        ct = self._stream(secret, nonce, state)
        tag = self.hmac(secret, b"\x02", name, nonce, ct)[:_TAG]
        return name + bytes(nonce) + bytes(ct) + tag

    def open(self, ticket, now):
        """-> the state bytes, or None (unknown key, expired, forged)."""
        self._tick(now)
        if len(ticket) < 4 + 12 + 52 + _TAG:
            return None
        ticket = bytes(ticket)
        name = ticket[:4]
        for k in self.keys:
            if k is not None and k[0] == name:
                secret = k[1]
                nonce = ticket[4:16]
                ct = ticket[16:-_TAG]
                tag = self.hmac(secret, b"\x02", name, nonce, ct)[:_TAG]
                d = 0
                for i in range(_TAG):
                    d |= tag[i] ^ ticket[len(ticket) - _TAG + i]
                if d:
                    return None
                return self._stream(secret, nonce, ct)
        return None


# --- the server's session cache (caller memory) ------------------------------------
class SessionCache:
    def __init__(self, mem, n, lifetime_ms):
        self.mem = mem
        self.n = n
        self.lifetime = lifetime_ms
        self.times = [0] * n              # when each entry was stored (ticks)
        self.next = 0
        for i in range(len(mem)):
            mem[i] = 0

    def _entry(self, i):
        z = NXSECURE_DTLS_SESSION_CACHE_ENTRY
        return self.mem[i * z:(i + 1) * z]

    def store(self, sid, suite, master, identity, now):
        m = self._entry(self.next)
        self.times[self.next] = now
        self.next = (self.next + 1) % self.n
        m[0] = 1
        m[1] = suite >> 8
        m[2] = suite & 0xFF
        m[3:35] = sid
        m[35:83] = master
        m[83] = len(identity)
        m[84:84 + len(identity)] = identity

    def find(self, sid, now):
        """-> (suite, ems, master, identity) of a live entry with this session ID."""
        if len(sid) != 32:
            return None
        for i in range(self.n):
            m = self._entry(i)
            if not m[0]:
                continue
            same = True
            for j in range(32):
                if m[3 + j] != sid[j]:
                    same = False
                    break
            if not same:
                continue
            if port.ticks_diff(now, self.times[i]) >= self.lifetime:
                m[0] = 0                  # expired: forget it
                return None
            return (m[1] << 8) | m[2], 1, bytes(m[35:83]), bytes(m[84:84 + m[83]])
        return None

    def remove(self, sid):
        for i in range(self.n):
            m = self._entry(i)
            if m[0] and bytes(m[3:35]) == bytes(sid):
                m[0] = 0


# --- the feature: client ------------------------------------------------------------
class ClientResumption(Feature):
    def __init__(self, state):
        self.state = state                # the caller's buffer (memoryview)
        self.tickets = len(state) > NXSECURE_DTLS_RESUMPTION_STATE_MIN

    def _valid(self):
        s = self.state
        return s[0] == _STATE_VERSION

    def start(self, e):
        _register(e)
        e.rs_stored = False               # the state buffer holds this association's
        e.rs_ticket_coming = False
        e.rs_new_ticket = None
        s = self.state
        if not self._valid():
            return
        suite = (s[1] << 8) | s[2]
        if e.table.find(suite) is None or not e.usable(e.table.find(suite)):
            return                        # the session's suite is not ours now
        n = s[_SID]
        if n:
            e.session_id = bytes(s[_SID + 1:_SID + 1 + n])
        elif self._ticket_len():
            sid = bytearray(32)           # RFC 5077 3.4: a fresh ID detects acceptance
            e.random_into(sid)
            e.session_id = bytes(sid)

    def _ticket_len(self):
        s = self.state
        return (s[_TICKET] << 8) | s[_TICKET + 1]

    def hello(self, e, w):
        if not self.tickets:
            return
        n = self._ticket_len() if self._valid() else 0
        push_session_ticket_extension(w, self.state[_TICKET + 2:_TICKET + 2 + n])

    def peer_hello(self, e, h):
        t = take(h, EXT_SESSION_TICKET)
        if t is not None:
            if not self.tickets:
                h.exts.append((0, None))  # not offered: the core refuses it
                return
            exact(t, 0)                   # RFC 5077 3.2: empty in a ServerHello
            e.rs_ticket_coming = True
        sid = e.session_id
        if len(sid) and bytes(h.session_id) == sid and self._valid():
            e.resumed = self
        else:
            e.session_id = bytes(h.session_id)

    def client_resumes(self, e, h):
        """The ServerHello resumed our session: its suite and the extended master
        secret must be the session's (RFC 5246 7.4.1.3, RFC 7627 5.3)."""
        s = self.state
        if h.suite != (s[1] << 8) | s[2]:
            raise NxError(NX_SECURE_TLS_UNKNOWN_CIPHERSUITE, _AD_ILLEGAL_PARAMETER)
        if not h.ems:
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_HANDSHAKE_FAILURE)
        e.master[:] = s[4:52]
        e.derive_keys(None)
        return C_RESUME

    def failed(self, e):
        """RFC 5246 7.2.2: a fatal alert ends this association's session for good (a
        timeout does not: a sleeping peer may come back)."""
        if e.resumed is not None or e.rs_stored:
            self.state[0] = 0

    def connected(self, e, now):
        s = self.state
        e.rs_stored = True
        if e.resumed is not None:
            if e.rs_new_ticket is not None:
                self._put_ticket(e.rs_new_ticket)
            return
        if not e.ems or (not len(e.session_id) and e.rs_new_ticket is None):
            s[0] = 0                      # nothing resumable (RFC 7627 5.4)
            return
        s[0] = _STATE_VERSION
        suite = e.suite.nx_secure_tls_ciphersuite
        s[1] = suite >> 8
        s[2] = suite & 0xFF
        s[3] = 1
        s[4:52] = e.master
        n = len(e.session_id)
        s[_SID] = n
        s[_SID + 1:_SID + 1 + n] = e.session_id
        self._put_ticket(e.rs_new_ticket or b"")

    def _put_ticket(self, t):
        s = self.state
        n = len(t)
        if _TICKET + 2 + n > len(s):
            n = 0                         # no room: resume by session ID only
        s[_TICKET] = n >> 8
        s[_TICKET + 1] = n & 0xFF
        s[_TICKET + 2:_TICKET + 2 + n] = t[:n]

    def length(self):
        return _TICKET + 2 + self._ticket_len() if self._valid() else 0


def _on_ticket(e, body, whole, seq, now):
    """RFC 5077 3.3: NewSessionTicket, announced by the ServerHello's extension."""
    if not getattr(e, "rs_ticket_coming", False):
        raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, _AD_UNEXPECTED_MESSAGE)
    e.transcript.update(whole)
    hint, ticket = pull_new_session_ticket(body)
    e.rs_new_ticket = bytes(ticket)


def _client_finished(e, body, whole, seq, now):
    """The server's Finished of an abbreviated handshake: ours follows (RFC 5246 7.3);
    the server keeps repeating its flight until ours arrives, and a repeat makes us
    send ours again (dtls.py _peer_repeated_flight)."""
    e.check_finished(body, whole)
    e.peer_flight_seq = e._sh_seq
    f = e.flight
    f.begin()
    f.ccs()
    e.push_finished(b"client finished")
    f.send(now, False)


# --- the feature: server ------------------------------------------------------------
class ServerResumption(Feature):
    def __init__(self):
        self.cache = None
        self.tickets = None
        self.resumed = 0                  # handshakes that resumed a session
        self.full = 0                     # full handshakes

    def peer_hello(self, e, h):
        _register(e)
        e.rs_issue = False
        now = port.ticks_ms()
        t = take(h, EXT_SESSION_TICKET)
        state = None
        if self.tickets is not None and t is not None:
            if t.left():
                raw = self.tickets.open(t.take(t.left()), now)
                state = None if raw is None else _parse_state(raw)
            e.rs_issue = h.ems            # a new ticket on a full handshake
        sid = h.session_id
        if state is None and self.cache is not None and len(sid):
            state = self.cache.find(sid, now)
        if state is not None and self._usable(e, h, state):
            e.resumed = self
            e.rs_state = state
            e.session_id = bytes(sid)
            e.rs_issue = False
            return
        if self.cache is not None and h.ems:
            sid = bytearray(32)
            e.random_into(sid)
            e.session_id = bytes(sid)

    def _usable(self, e, h, state):
        suite, ems, master, identity = state
        if not h.ems:
            # RFC 7627 5.3: the session had the extended master secret, the hello has
            # not: abort (a full handshake without it would be a downgrade)
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_HANDSHAKE_FAILURE)
        row = e.table.find(suite)
        if row is None or not client_hello_offers(h, suite) or not e.usable(row):
            return False
        if row.nx_secure_tls_public_auth is None:
            psk = e.psk_store.key_for_identity(identity)
            if psk is None:
                return False              # the identity is gone from the store
            e.psk = psk
            e.psk_identity = identity
        return True

    def hello(self, e, w):
        if e.rs_issue:
            push_session_ticket_extension(w, b"")

    def server_resumes(self, e, h, now):
        """Flight 2 of the abbreviated handshake: ServerHello, ChangeCipherSpec,
        Finished (RFC 5246 7.3); the client's ChangeCipherSpec and Finished next."""
        suite, ems, master, identity = e.rs_state
        row = e.table.find(suite)
        e.choose_suite(row)
        e.ems = True
        e.secure_reneg = h.secure_reneg
        e.client_random[:] = h.random
        e.random_into(e.server_random)
        e.master[:] = master
        x = e.x

        def extra(w):
            for f in x:
                f.hello(e, w)
        f = e.flight
        f.begin()
        w = f.message()
        push_server_hello(w, e.server_random, e.session_id, suite, True,
                          reneg_ours(e.secure_reneg, e.reneg_bind),
                          extra=extra)
        f.end(w, _HT_SERVER_HELLO)
        e.derive_keys(None)
        f.ccs()
        e.push_finished(b"server finished")
        e._set_state(S_RESUME_CCS)
        f.send(now, True)

    def last_flight(self, e):
        if not e.rs_issue or self.tickets is None:
            return
        state = _state_fields(e.suite.nx_secure_tls_ciphersuite, True, e.master,
                              e.psk_identity or b"")
        ticket = self.tickets.seal(state, port.ticks_ms())
        w = e.flight.message()
        push_new_session_ticket(w, self.tickets.lifetime // 1000, ticket)
        e.flight.end(w, _HT_NEW_SESSION_TICKET)

    def failed(self, e):
        """RFC 5246 7.2.2: the session ID of an association that ended in a fatal alert
        is not resumed again (a ticket cannot be taken back: it lapses with its key)."""
        if self.cache is not None and len(e.session_id) == 32:
            self.cache.remove(e.session_id)

    def connected(self, e, now):
        if e.resumed is not None:
            self.resumed += 1
            return
        self.full += 1
        if self.cache is not None and e.ems and len(e.session_id) == 32:
            self.cache.store(e.session_id, e.suite.nx_secure_tls_ciphersuite, e.master,
                             e.psk_identity or b"", now)


def _server_finished(e, body, whole, seq, now):
    e.check_finished(body, whole)
    e.peer_flight_seq = -1        # the handshake is over: nothing of ours to repeat


def _register(e):
    """The abbreviated handshake's transitions, added to the engine's role table the
    first time a handshake of that role may resume (the role module is loaded by then;
    a profile installs only its roles)."""
    t = e.role.TABLE
    if e.is_client:
        if key(C_RESUME_FINISHED, _HT_FINISHED) not in t:
            _CCS_NEXT[C_RESUME] = C_RESUME_FINISHED
            t[key(C_RESUME, _HT_NEW_SESSION_TICKET)] = (_on_ticket, C_RESUME, ANY)
            t[key(C_WAIT_CCS, _HT_NEW_SESSION_TICKET)] = (_on_ticket, C_WAIT_CCS, ANY)
            t[key(C_RESUME_FINISHED, _HT_FINISHED)] = (_client_finished, CONNECTED, ANY)
    elif key(S_RESUME_FINISHED, _HT_FINISHED) not in t:
        _CCS_NEXT[S_RESUME_CCS] = S_RESUME_FINISHED
        t[key(S_RESUME_FINISHED, _HT_FINISHED)] = (_server_finished, CONNECTED, ANY)


# --- services -----------------------------------------------------------------------
def _client(session_ptr):
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status, None
    if session_ptr._server is not None:
        return NX_PTR_ERROR, None
    return NX_SUCCESS, installed(session_ptr._engine, ClientResumption)


def nxsecure_dtls_session_resumption_enable(session_ptr, state_buffer, state_buffer_size):
    """nxsecure extension (RFC 5246 7.3, RFC 5077): a client remembers each
    handshake's session in state_buffer and offers it in the next handshake; None
    turns it off."""
    status, f = _client(session_ptr)
    if status:
        return status
    if state_buffer is None:
        install(session_ptr._engine, None, ClientResumption)
        return NX_SUCCESS
    try:
        mv = memoryview(state_buffer)
        ok = isinstance(state_buffer_size, int) and \
            NXSECURE_DTLS_RESUMPTION_STATE_MIN <= state_buffer_size <= len(mv)
    except TypeError:
        ok = False
    if not ok:
        return NX_INVALID_PARAMETERS
    mv = mv[:state_buffer_size]
    mv[0] = 0
    install(session_ptr._engine, ClientResumption(mv), ClientResumption)
    return NX_SUCCESS


def nxsecure_dtls_session_resumption_state_export(session_ptr, buffer, size):
    """nxsecure extension: copy the client's resumption state into buffer -> (status,
    length); length 0 when there is nothing to resume."""
    status, f = _client(session_ptr)
    if status:
        return status, 0
    if f is None:
        return NX_INVALID_PARAMETERS, 0
    n = f.length()
    try:
        if not isinstance(size, int) or size < n or len(buffer) < size:
            return NX_INVALID_PARAMETERS, 0
        buffer[:n] = f.state[:n]
    except TypeError:
        return NX_INVALID_PARAMETERS, 0
    return NX_SUCCESS, n


def nxsecure_dtls_session_resumption_state_import(session_ptr, data, length):
    """nxsecure extension: restore a state exported earlier (after a deep sleep); the
    next handshake offers it. A state that does not parse is refused."""
    status, f = _client(session_ptr)
    if status:
        return status
    if f is None:
        return NX_INVALID_PARAMETERS
    try:
        if not isinstance(length, int) or length < NXSECURE_DTLS_RESUMPTION_STATE_MIN or \
                length > len(data) or length > len(f.state):
            return NX_INVALID_PARAMETERS
        d = memoryview(data)[:length]
    except TypeError:
        return NX_INVALID_PARAMETERS
    if d[0] != _STATE_VERSION or d[3] != 1 or d[_SID] > 32 or \
            _TICKET + 2 + ((d[_TICKET] << 8) | d[_TICKET + 1]) != length:
        return NX_INVALID_PARAMETERS
    f.state[:length] = d
    return NX_SUCCESS


def nxsecure_dtls_session_resumed_get(session_ptr):
    """nxsecure extension: -> (status, resumed): was the last handshake abbreviated."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status, False
    e = session_ptr._engine
    return NX_SUCCESS, e.resumed is not None and e.state == CONNECTED


def _server_feature(server_ptr):
    from .server import _live
    if _live(server_ptr):
        return None
    if not server_ptr._sessions:
        return None
    f = installed(server_ptr._sessions[0]._engine, ServerResumption)
    if f is None:
        f = ServerResumption()
    return f


def _server_apply(server_ptr, f):
    on = f.cache is not None or f.tickets is not None
    for s in server_ptr._sessions:
        install(s._engine, f if on else None, ServerResumption)


def nxsecure_dtls_server_session_cache_set(server_ptr, cache_buffer, cache_size, lifetime):
    """nxsecure extension (RFC 5246 7.3): cache full handshakes' sessions by session
    ID in caller memory (cache_size // NXSECURE_DTLS_SESSION_CACHE_ENTRY of them, the
    oldest replaced), each resumable for `lifetime` ticks. None turns it off."""
    f = _server_feature(server_ptr)
    if f is None:
        return NX_PTR_ERROR
    if cache_buffer is None:
        f.cache = None
    else:
        try:
            mv = memoryview(cache_buffer)
            n = cache_size // NXSECURE_DTLS_SESSION_CACHE_ENTRY
            ok = isinstance(lifetime, int) and lifetime > 0 and n >= 1 and cache_size <= len(mv)
        except TypeError:
            ok = False
        if not ok:
            return NX_INVALID_PARAMETERS
        from .netx import _TICK_MS
        f.cache = SessionCache(mv[:n * NXSECURE_DTLS_SESSION_CACHE_ENTRY], n,
                               lifetime * _TICK_MS)
    _server_apply(server_ptr, f)
    return NX_SUCCESS


def nxsecure_dtls_server_session_ticket_enable(server_ptr, lifetime):
    """nxsecure extension (RFC 5077): issue session tickets to clients that ask, under
    a key replaced every `lifetime` ticks; 0 turns tickets off."""
    f = _server_feature(server_ptr)
    if f is None:
        return NX_PTR_ERROR
    if not isinstance(lifetime, int) or lifetime < 0:
        return NX_INVALID_PARAMETERS
    if lifetime == 0:
        f.tickets = None
    else:
        from .netx import _TICK_MS
        f.tickets = TicketKeys(server_ptr._crypto_table, lifetime * _TICK_MS, port.ticks_ms())
    _server_apply(server_ptr, f)
    return NX_SUCCESS


def nxsecure_dtls_server_resumption_info_get(server_ptr):
    """nxsecure extension: -> (status, resumed, full): the server's handshakes so far
    that resumed a session, and the full ones, since resumption was turned on."""
    f = _server_feature(server_ptr)
    if f is None:
        return NX_PTR_ERROR, 0, 0
    return NX_SUCCESS, f.resumed, f.full


__all__ = ("nxsecure_dtls_session_resumption_enable",
           "nxsecure_dtls_session_resumption_state_export",
           "nxsecure_dtls_session_resumption_state_import",
           "nxsecure_dtls_session_resumed_get",
           "nxsecure_dtls_server_session_cache_set",
           "nxsecure_dtls_server_session_ticket_enable",
           "nxsecure_dtls_server_resumption_info_get")
