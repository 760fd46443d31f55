"""The sans-I/O DTLS 1.2 engine: records in, handshake state machine, flights and timers, datagrams out (RFC 6347)."""
from . import config
from .codec import Reader, Writer, put_u24
from .const import (
    NxError, NX_SUCCESS, CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_HANDSHAKE, CT_APPLICATION_DATA,
    DTLS_1_2, ALERT_WARNING, ALERT_FATAL, AD_CLOSE_NOTIFY, AD_UNEXPECTED_MESSAGE,
    AD_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER, AD_NO_RENEGOTIATION, AD_PROTOCOL_VERSION,
    AD_INTERNAL_ERROR, AD_DECRYPT_ERROR, AD_UNKNOWN_PSK_IDENTITY, AD_DECODE_ERROR,
    HT_HELLO_REQUEST, HT_CLIENT_HELLO, HT_SERVER_HELLO, HT_HELLO_VERIFY_REQUEST,
    HT_SERVER_KEY_EXCHANGE, HT_SERVER_HELLO_DONE, HT_CLIENT_KEY_EXCHANGE, HT_FINISHED,
    HT_CERTIFICATE, HT_CERTIFICATE_REQUEST, HT_CERTIFICATE_VERIFY,
    NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED, NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE,
    NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, NX_SECURE_TLS_HANDSHAKE_FAILURE,
    NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, NX_SECURE_TLS_UNKNOWN_CIPHERSUITE,
    NX_SECURE_TLS_BAD_COMPRESSION_METHOD, NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION,
    NX_SECURE_TLS_FINISHED_HASH_FAILURE, NX_SECURE_TLS_NO_MATCHING_PSK,
    NX_SECURE_TLS_ALERT_RECEIVED, NX_SECURE_TLS_HANDSHAKE_TIMEOUT, NX_SECURE_TLS_INVALID_STATE,
    NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, NX_SECURE_TLS_BAD_CIPHERSPEC,
    NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, NX_SECURE_TLS_TCP_SEND_FAILED,
    NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,
    NX_SECURE_TLS_UNSUPPORTED_FEATURE, AD_BAD_RECORD_MAC, AD_UNSUPPORTED_EXTENSION,
    NX_SECURE_TLS_INVALID_EPOCH,
)
from .handshake import (
    HANDSHAKE_HEADER, pull_client_hello, push_client_hello, pull_server_hello, push_server_hello,
    pull_hello_verify_request, pull_psk_vector, push_handshake_header, client_hello_offers,
    check_initial_reneg_info, push_cert_extensions,
    pull_certificate_list, pull_ec_params, push_ec_params, pull_certificate_request,
    pull_digitally_signed, CERT_TYPE_RSA_SIGN, CERT_TYPE_ECDSA_SIGN,
)
from .record import RecordLayer, CipherState, RECORD_HEADER, SCRATCH_SIZE
from .reassembly import Reassembler, ADD_OLD
from . import crypto

# Handshake states. Client and server share one numbering; the tables below say
# which handshake message is legal in which state (everything else is
# unexpected_message).
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

# state -> {handshake type: next state}; a message missing here is a protocol violation.
# Which of the optional messages a suite needs is checked by the handlers (e.g. a
# Certificate only for certificate suites, ServerKeyExchange required for ECDHE).
_RULES = {
    C_HELLO: {HT_HELLO_VERIFY_REQUEST: C_HELLO, HT_SERVER_HELLO: C_SERVER_HELLO},
    C_SERVER_HELLO: {HT_CERTIFICATE: C_CERTIFICATE, HT_SERVER_KEY_EXCHANGE: C_KEY_EXCHANGE,
                     HT_SERVER_HELLO_DONE: C_WAIT_CCS},
    C_CERTIFICATE: {HT_SERVER_KEY_EXCHANGE: C_KEY_EXCHANGE,
                    HT_CERTIFICATE_REQUEST: C_CERT_REQUEST, HT_SERVER_HELLO_DONE: C_WAIT_CCS},
    C_KEY_EXCHANGE: {HT_CERTIFICATE_REQUEST: C_CERT_REQUEST, HT_SERVER_HELLO_DONE: C_WAIT_CCS},
    C_CERT_REQUEST: {HT_SERVER_HELLO_DONE: C_WAIT_CCS},
    C_WAIT_FINISHED: {HT_FINISHED: CONNECTED},
    S_WAIT_HELLO: {HT_CLIENT_HELLO: S_HELLO},
    S_WAIT_CLIENT_CERT: {HT_CERTIFICATE: S_WAIT_CKE},
    S_WAIT_CKE: {HT_CLIENT_KEY_EXCHANGE: S_WAIT_CCS},
    S_WAIT_CERT_VERIFY: {HT_CERTIFICATE_VERIFY: S_WAIT_CCS},
    S_WAIT_FINISHED: {HT_FINISHED: CONNECTED},
}
# state -> state after the peer's ChangeCipherSpec
_CCS_RULES = {C_WAIT_CCS: C_WAIT_FINISHED, S_WAIT_CCS: S_WAIT_FINISHED}

# Memory one engine takes from its session's slice of the caller's buffer.
_RANDOMS = 32 + 32 + 48           # client random, server random, master secret
_COOKIE_ROOM = 256
MEMORY_SIZE = (config.NX_SECURE_DTLS_MAX_DATAGRAM + config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE
               + _RANDOMS + _COOKIE_ROOM + SCRATCH_SIZE)
_MAX_FLIGHT_ENTRIES = 8


class Transcript:
    """Handshake hash without forking a running hash (MicroPython's hashlib has no
    copy()): three hashes run side by side and are finished in order, at the three
    points the handshake needs a digest: after ClientKeyExchange (RFC 7627 session
    hash; the CertificateVerify input), before the client Finished, after it."""

    def __init__(self, sha256):
        self._new = sha256
        self.reset()

    def reset(self):
        n = self._new
        self._h = [n(), n(), n()]

    def update(self, data):
        for h in self._h:
            h.update(data)

    def digest(self):
        return self._h.pop(0).digest()


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
        self.random_into = random_into
        mtu_room = config.NX_SECURE_DTLS_MAX_DATAGRAM
        p = 0
        self.tx = mem[p:p + mtu_room]
        p += mtu_room
        self.flight_buf = mem[p:p + config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE]
        p += config.NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE
        self.client_random = mem[p:p + 32]
        self.server_random = mem[p + 32:p + 64]
        self.master = mem[p + 64:p + 112]
        p += _RANDOMS
        self.cookie_buf = mem[p:p + _COOKIE_ROOM]
        p += _COOKIE_ROOM
        self.record = RecordLayer(mem[p:p + SCRATCH_SIZE])
        self.metadata = metadata
        self.reasm = Reassembler(reassembly)
        self.transcript = Transcript(table.sha256)
        # flight entries: [content type, epoch, segments, length]; a message is the
        # concatenation of its segments (views of the flight buffer, and for a
        # Certificate message also of the certificates' own DER, which is not copied)
        self.flight = [[0, 0, None, 0] for _ in range(_MAX_FLIGHT_ENTRIES)]
        self.mtu = config.NX_SECURE_DTLS_DEFAULT_MTU
        self.psk_store = None
        self.deadline = None
        self.hs_deadline = None
        self.reset()

    def reset(self):
        self.state = IDLE
        self.error = NX_SUCCESS
        self.suite = None
        self.ems = False
        self.secure_reneg = False
        self.cookie_len = 0
        self.send_seq = 0            # next handshake message_seq we send
        self.flight_n = 0
        self.flight_used = 0
        self.peer_flight_seq = -1    # first message_seq of the peer's last complete flight
        self.timeout = config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS
        self.hs_deadline = None
        self._arm(None)
        self.transmissions = 0
        self.hello_verifies = 0      # client: HelloVerifyRequests taken this handshake
        self.offered_ecc = False     # client: our ClientHello carried ec_point_formats
        self.sent_close = False
        self.psk = None
        self.psk_identity = None
        self.hint = None
        self.records_in = 0
        self.retransmits = 0
        self.record.reset()
        self.reasm.reset(0)
        self.transcript.reset()
        self.held_hello = False
        self.last_exception = None
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
        self.have_ske = False
        self.have_cert = False
        self.peer_groups = None
        self.peer_sig_algs = None
        self._sh_seq = 0
        self._flight5_seq = -1
        self._rx_count = 0
        self._rtx_at = -1

    # ================================================================ client start
    def start_client(self, now):
        """Send the first ClientHello (RFC 6347 4.2.1)."""
        self.reset()
        self.random_into(self.client_random)
        self._flight_begin()
        self._send_client_hello()
        self._set_state(C_HELLO)
        self._flight_send(now, True)

    def _offered_suites(self):
        out = []
        for row in self.table.nx_secure_tls_ciphersuite_lookup_table:
            if self._usable(row):
                out.append(row.nx_secure_tls_ciphersuite)
        return out

    def _usable(self, row):
        """A suite can be negotiated if we hold the credentials it needs: a PSK, or
        for certificate suites a trust anchor (client) or a matching identity
        certificate with its key (server)."""
        kx = row.nx_secure_tls_public_cipher
        if kx == crypto.TLS_KX_PSK or kx == crypto.TLS_KX_ECDHE_PSK:
            return self.psk_store is not None and self.psk_store.count() > 0
        if self.is_client:
            return self.owner._x509_trusted_count() > 0
        return self._server_cert_for(row) is not None

    def _server_cert_for(self, row):
        """The first local certificate whose key suits the row's authentication."""
        certs = self.owner._x509_local_certs()
        if not certs:
            return None
        from . import kx
        want = "ec" if row.nx_secure_tls_public_auth == crypto.TLS_AUTH_ECDSA else "rsa"
        for c in certs:
            if kx.peer_key_type(c) == want and kx.local_key(c) is not None:
                return c
        return None

    def _send_client_hello(self):
        w = self._msg_begin()
        suites = self._offered_suites()
        if not suites:
            raise NxError(NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, AD_INTERNAL_ERROR)
        ecc = False
        certs = False
        for sid in suites:
            row = self.table.find(sid)
            k = row.nx_secure_tls_public_cipher
            if k == crypto.TLS_KX_ECDHE or k == crypto.TLS_KX_ECDHE_PSK:
                ecc = True
            if row.nx_secure_tls_public_auth is not None:
                certs = True
        extra = None
        self.offered_ecc = ecc
        if ecc or certs:
            from . import kx

            def extra(w):
                # RFC 8422 5.1 / RFC 5246 7.4.1.4.1
                push_cert_extensions(w, kx.GROUPS if ecc else None,
                                     kx.VERIFY_ALGS if certs else None, ecc)
        push_client_hello(w, self.client_random, self.cookie_buf[:self.cookie_len], suites,
                          extra=extra)
        self._msg_end(w, HT_CLIENT_HELLO)

    # ================================================================ server start
    def expect_client_hello(self, message_seq, record_seq, deadline, random):
        """Server: the server's stateless path verified the cookie in the first
        fragment of a ClientHello (message_seq, in epoch-0 record record_seq, with the
        client's `random`); this association takes the hello's records from now on.
        The handshake must be over by `deadline` (a ticks value), or it fails with
        NX_SECURE_TLS_HANDSHAKE_TIMEOUT."""
        self.reset()
        self.client_random[:] = random
        self.reasm.reset(message_seq)
        # Our epoch-0 records continue from the client's record number, so the
        # ServerHello never repeats the number the HelloVerifyRequest used (RFC 6347 4.2.1).
        self.record.seq[0] = record_seq + 1
        self.hs_deadline = deadline
        self._set_state(S_WAIT_HELLO)
        self._timer_changed()

    def _hold_client_hello(self, message_seq, whole):
        """Keep the complete ClientHello until the application starts the session."""
        n = len(whole)
        if n > len(self.flight_buf):
            raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, AD_INTERNAL_ERROR)
        self.flight_buf[:n] = whole
        self.flight_used = n
        self.held_hello = True
        # RFC 6347 4.2.2: the server answers with the ClientHello's message_seq
        # (the HelloVerifyRequest reused it statelessly).
        self.send_seq = message_seq
        self.peer_flight_seq = message_seq
        self._set_state(S_HELLO)
        self.owner._dtls_hello()

    def start_server(self, now):
        """Process the held ClientHello and send ServerHello..ServerHelloDone."""
        if self.state != S_HELLO or not self.held_hello:
            return NX_SECURE_TLS_INVALID_STATE
        self.held_hello = False
        n = self.flight_used
        self.flight_used = 0
        try:
            whole = self.flight_buf[:n]
            self.transcript.update(whole)
            self._server_on_client_hello(whole[HANDSHAKE_HEADER:], now)
        except NxError as e:
            self._fail(e.code, e.alert)
            return e.code
        except Exception as e:          # a defect must not take the server down
            self._internal_error(e)
            return self.error
        return NX_SUCCESS

    def _server_on_client_hello(self, body, now):
        h = pull_client_hello(body)
        if h.version != DTLS_1_2:
            # RFC 6347 4.1: we speak DTLS 1.2 only. DTLS version numbers decrease
            # (1.2 is 0xFEFD, 1.0 0xFEFF), so a larger number is an older version.
            if h.version > DTLS_1_2:
                raise NxError(NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, AD_PROTOCOL_VERSION)
        if not h.compression_ok:
            raise NxError(NX_SECURE_TLS_BAD_COMPRESSION_METHOD, AD_ILLEGAL_PARAMETER)
        check_initial_reneg_info(h)
        suite = None
        for row in self.table.nx_secure_tls_ciphersuite_lookup_table:   # server preference
            if client_hello_offers(h, row.nx_secure_tls_ciphersuite) and \
                    self._usable(row) and self._server_can_meet(row, h):
                suite = row
                break
        if suite is None:
            raise NxError(NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, AD_HANDSHAKE_FAILURE)
        self.suite = suite
        self.ems = h.ems
        self.secure_reneg = h.secure_reneg
        # copies: the hello's bytes are overwritten by our flight below
        self.peer_groups = None if h.groups is None else bytes(h.groups)
        self.peer_sig_algs = None if h.sig_algs is None else bytes(h.sig_algs)
        self.client_random[:] = h.random
        self.random_into(self.server_random)
        kxt = suite.nx_secure_tls_public_cipher
        ecc = kxt == crypto.TLS_KX_ECDHE or kxt == crypto.TLS_KX_ECDHE_PSK
        self._flight_begin()
        w = self._msg_begin()
        extra = None
        if ecc and h.point_formats is not None:
            def extra(w):
                push_cert_extensions(w, None, None, True)    # RFC 8422 5.2
        push_server_hello(w, self.server_random, b"", suite.nx_secure_tls_ciphersuite,
                          self.ems, self.secure_reneg, extra=extra)
        self._msg_end(w, HT_SERVER_HELLO)
        if suite.nx_secure_tls_public_auth is not None:
            self._server_certificate_messages(suite, h)
        elif kxt == crypto.TLS_KX_ECDHE_PSK:
            self._server_ecdhe_key_exchange(self.psk_store.hint() or b"")
        else:
            hint = self.psk_store.hint()
            if hint:
                # RFC 4279 2: ServerKeyExchange carries the identity hint, when there is one.
                w = self._msg_begin()
                w.vec16(hint)
                self._msg_end(w, HT_SERVER_KEY_EXCHANGE)
        w = self._msg_begin()
        self._msg_end(w, HT_SERVER_HELLO_DONE)
        self._set_state(S_WAIT_CLIENT_CERT if self.cert_requested else S_WAIT_CKE)
        self._flight_send(now, True)

    def _server_can_meet(self, row, h):
        """The client's extensions allow this row: a common group for ECDHE, and a
        signature scheme for our certificate's key (RFC 8422 5.1, RFC 5246 7.4.1.4.1).
        RFC 8422 5.1: a server MUST NOT negotiate an ECC suite it cannot complete
        within the client's curves, and in TLS 1.2 those include the curve of an ECDSA
        certificate's key (a client limited to x25519 cannot take a P-256 one)."""
        kxt = row.nx_secure_tls_public_cipher
        if kxt == crypto.TLS_KX_PSK:
            return True
        from . import kx
        if (kxt == crypto.TLS_KX_ECDHE or kxt == crypto.TLS_KX_ECDHE_PSK) and \
                kx.choose_group(h.groups) == 0:
            return False
        if kxt == crypto.TLS_KX_ECDHE:
            key = kx.local_key(self._server_cert_for(row))
            if kx.is_ec(key) and not kx.group_listed(h.groups, key.curve):
                return False
            return kx.choose_sign_alg(key, h.sig_algs) is not None
        return True

    def _server_certificate_messages(self, suite, h):
        """Certificate, ServerKeyExchange (ECDHE, signed), CertificateRequest
        (RFC 5246 7.4.2-7.4.4, RFC 8422 5.3-5.4)."""
        from . import kx
        cert = self._server_cert_for(suite)
        self.local_cert = cert
        self._push_certificate(cert)
        if suite.nx_secure_tls_public_cipher == crypto.TLS_KX_ECDHE:
            self._server_ecdhe_key_exchange(None)
        if self.owner._x509_client_verify():
            w = self._msg_begin()
            w.vec8(bytes((CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN)))
            # Only SHA-256 schemes: the transcript is hashed with SHA-256 alone, so a
            # CertificateVerify can only be checked in one of these.
            algs = (kx.ECDSA_SHA256, kx.RSA_PSS_RSAE_SHA256, kx.RSA_PKCS1_SHA256)
            w.u16(2 * len(algs))
            for a in algs:
                w.u16(a)
            w.u16(0)                       # certificate_authorities: any
            self._msg_end(w, HT_CERTIFICATE_REQUEST)
            self.cert_requested = True

    def _server_ecdhe_key_exchange(self, psk_hint):
        """ServerKeyExchange with fresh ECDHE parameters: signed with the certificate
        key (RFC 8422 5.4), or after the PSK identity hint for ECDHE_PSK (RFC 5489 2)."""
        from . import kx
        self.group = kx.choose_group(self.peer_groups)
        self.kx_priv, pub = kx.ecdh_keypair(self.group)
        w = self._msg_begin()
        if psk_hint is not None:
            w.vec16(psk_hint)
            push_ec_params(w, self.group, pub)
        else:
            start = w.pos
            push_ec_params(w, self.group, pub)
            params = bytes(self.flight_buf[start:w.pos])
            key = kx.local_key(self.local_cert)
            alg = kx.choose_sign_alg(key, self.peer_sig_algs)
            sig = kx.sign(alg, key, bytes(self.client_random) + bytes(self.server_random) + params)
            w.u16(alg)
            w.vec16(sig)
        self._msg_end(w, HT_SERVER_KEY_EXCHANGE)

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
                    self._fail(NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE, AD_BAD_RECORD_MAC)
                    return
                off = nxt
                continue
            try:
                if rl.r_type == CT_APPLICATION_DATA:
                    # RFC 6347 4.1: application data only in the epoch the handshake
                    # established, and only once the handshake is finished.
                    if (self.state == CONNECTED and rl.r_epoch == 1 and self.owner._dtls_app_data(
                            buf, rl.r_off, rl.r_len, packet if nxt >= end else None)):
                        rl.w1.mark(rl.r_seq)
                    else:
                        rl.discarded += 1
                else:
                    self._on_record(rl.r_type, rl.r_epoch, buf, rl.r_off, rl.r_len, now)
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
        state = self.state
        if ctype == CT_ALERT:
            self._on_alert(epoch, buf, off, n)
            return
        if ctype == CT_CHANGE_CIPHER_SPEC:
            nxt = _CCS_RULES.get(state)
            if nxt is None or epoch != 0:
                # A ChangeCipherSpec out of place (e.g. before the key exchange,
                # RFC 5246 7.1) is dropped: records may be reordered, so it is not
                # proof of an attack, and acting on it would be.
                rl.discarded += 1
                return
            if n != 1 or buf[off] != 1:
                raise NxError(NX_SECURE_TLS_BAD_CIPHERSPEC, AD_DECODE_ERROR)
            rl.accept()
            rl.activate_read()
            self._set_state(nxt)
            return
        # handshake records: one or more fragments (RFC 6347 4.2.3). An epoch-1 record
        # authenticated and marks the replay window. An epoch-0 one never does: it is
        # unauthenticated, so a copy of an old message or a spoofed future fragment
        # with a made-up record number would push the window past the peer's real
        # records; the reassembler already drops repeated handshake bytes.
        if epoch:
            rl.accept()
        r = Reader(buf, off, off + n)
        retransmit = False
        try:
            while r.left():
                msg_type = r.u8()
                length = r.u24()
                message_seq = r.u16()
                frag_off = r.u24()
                frag_len = r.u24()
                frag = r.take(frag_len)
                if self._wrong_epoch(msg_type, epoch):
                    continue
                if epoch == 0 and rl.read_epoch and message_seq >= self.reasm.next_seq:
                    # RFC 6347 4.1: once the peer's ChangeCipherSpec is in, every new
                    # handshake message comes protected; an unprotected one is spoofed
                    raise NxError(NX_SECURE_TLS_INVALID_EPOCH)
                res = self.reasm.add(msg_type, length, message_seq, frag_off, frag_len, frag,
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
        while True:
            m = self.reasm.pop()
            if m is None:
                break
            self._on_message(m[0], m[1], m[2], m[3], now)

    def _wrong_epoch(self, msg_type, epoch):
        """Finished is the only handshake message of the new epoch; every other one
        belongs to epoch 0. After the handshake, epoch-1 hello messages are
        renegotiation attempts, answered by _on_message."""
        if msg_type == HT_FINISHED:
            return epoch != 1
        if self.state == CONNECTED and epoch == 1:
            return msg_type != HT_HELLO_REQUEST and msg_type != HT_CLIENT_HELLO
        return epoch != 0

    def _peer_repeated_flight(self, now):
        """RFC 6347 4.2.4: the peer retransmitted its previous flight, so ours was
        lost: send our last flight again (at most once per received datagram)."""
        if self._rtx_at == self._rx_count:
            return
        if self.is_client and self.state == CONNECTED:
            return      # the server's Finished arrived, so it has our whole flight
        if self.flight_n and self.state not in (IDLE, S_HELLO, ERROR, CLOSED):
            self._rtx_at = self._rx_count
            self.retransmits += 1
            self._flight_send(now, False)

    def _on_message(self, msg_type, message_seq, body, whole, now):
        state = self.state
        if state == CONNECTED:
            self._on_post_handshake(msg_type)
            return
        nxt = _RULES.get(state, {}).get(msg_type)
        if nxt is None:
            raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
        if msg_type == HT_HELLO_VERIFY_REQUEST:
            self._client_on_hvr(body, now)
            return
        if msg_type == HT_CLIENT_HELLO:
            self._hold_client_hello(message_seq, whole)
            return
        if msg_type == HT_FINISHED:
            self._on_finished(body, whole, now)
            if not self.is_client:
                # flight 5 complete: a repeat of it (from its first message on) now
                # means flight 6 was lost (RFC 6347 4.2.4)
                self.peer_flight_seq = self._flight5_seq
            return
        self.transcript.update(whole)
        if msg_type == HT_SERVER_HELLO:
            # The timer keeps running until the server's flight is complete: if the
            # rest of it is lost, our repeated ClientHello makes the server resend it.
            self._sh_seq = message_seq
            self._client_on_server_hello(body)
        elif msg_type == HT_CERTIFICATE:
            if self.is_client:
                self._client_on_certificate(body)
            else:
                self._server_on_client_certificate(body, message_seq)
        elif msg_type == HT_SERVER_KEY_EXCHANGE:
            self._client_on_server_key_exchange(body)
        elif msg_type == HT_CERTIFICATE_REQUEST:
            self._client_on_certificate_request(body)
        elif msg_type == HT_SERVER_HELLO_DONE:
            if len(body):
                raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, AD_DECODE_ERROR)
            k = self.suite.nx_secure_tls_public_cipher
            if (self.suite.nx_secure_tls_public_auth is not None and not self.have_cert) or \
                    ((k == crypto.TLS_KX_ECDHE or k == crypto.TLS_KX_ECDHE_PSK)
                     and not self.have_ske):
                # RFC 5246 7.4.2 / RFC 8422 5.4: these suites need both messages.
                raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
            self.peer_flight_seq = self._sh_seq
            self._set_state(nxt)
            self._client_key_exchange_flight(now)
            return
        elif msg_type == HT_CLIENT_KEY_EXCHANGE:
            # Flight 5 is only partly here: a repeat of its ClientKeyExchange is not a
            # reason to resend flight 4 (that answered flight 3), and flight 4's timer
            # runs until the Finished completes flight 5 (RFC 6347 4.2.4).
            if not self.cert_requested:
                self._flight5_seq = message_seq
            self.peer_flight_seq = -1
            self._server_on_client_key_exchange(body)
            if self.peer_cert:
                nxt = S_WAIT_CERT_VERIFY
        elif msg_type == HT_CERTIFICATE_VERIFY:
            self._server_on_certificate_verify(body)
        self._set_state(nxt)

    def _on_post_handshake(self, msg_type):
        # RFC 5746 / RFC 5246 7.4.1.1: renegotiation is declined with a warning.
        if msg_type == HT_HELLO_REQUEST or msg_type == HT_CLIENT_HELLO:
            self.send_alert(ALERT_WARNING, AD_NO_RENEGOTIATION)

    # ---------------------------------------------------------------- client steps
    def _client_on_hvr(self, body, now):
        # RFC 6347 4.2.1: one HelloVerifyRequest is the rule (a server may ask again,
        # e.g. across a cookie-secret rotation); a server that keeps asking would hold
        # the client forever and wrap its message_seq.
        self.hello_verifies += 1
        if self.hello_verifies > config.NX_SECURE_DTLS_MAX_HELLO_VERIFY:
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_HANDSHAKE_FAILURE)
        cookie = pull_hello_verify_request(body)
        n = len(cookie)
        self.cookie_buf[:n] = cookie
        self.cookie_len = n
        # RFC 6347 4.2.6: the first ClientHello and the HelloVerifyRequest are not
        # part of the handshake hash; the new ClientHello repeats random and suites.
        self.transcript.reset()
        self._flight_begin()
        self._send_client_hello()
        self.timeout = config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS
        self.transmissions = 0
        self._flight_send(now, True)

    def _client_on_server_hello(self, body):
        h = pull_server_hello(body)
        if h.version != DTLS_1_2:
            raise NxError(NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, AD_PROTOCOL_VERSION)
        row = self.table.find(h.suite)
        if row is None or h.suite not in self._offered_suites():
            raise NxError(NX_SECURE_TLS_UNKNOWN_CIPHERSUITE, AD_ILLEGAL_PARAMETER)
        if not h.compression_ok:
            raise NxError(NX_SECURE_TLS_BAD_COMPRESSION_METHOD, AD_ILLEGAL_PARAMETER)
        check_initial_reneg_info(h)
        if h.unknown_ext or h.groups is not None or h.sig_algs is not None or (
                h.point_formats is not None and not self.offered_ecc):
            # RFC 5246 7.4.1.4: a server sends only extensions the client offered
            # (supported_groups and signature_algorithms are the client's alone)
            raise NxError(NX_SECURE_TLS_UNSUPPORTED_FEATURE, AD_UNSUPPORTED_EXTENSION)
        if h.point_formats is not None and not _has_byte(h.point_formats, 0):
            # RFC 8422 5.2: uncompressed must be among the server's point formats.
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER)
        self.suite = row
        self.ems = h.ems
        self.secure_reneg = h.secure_reneg
        self.server_random[:] = h.random

    def _client_on_certificate(self, body):
        """The server's chain: kept in our remote certificate space, verified to one
        of our trusted certificates, then offered to the application's callback."""
        if self.suite.nx_secure_tls_public_auth is None:
            raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
        self._store_peer_chain(body, True)
        self.have_cert = True
        from . import kx
        want = self.suite.nx_secure_tls_public_auth == crypto.TLS_AUTH_ECDSA
        if kx.is_ec(self.peer_key) != want:
            raise NxError(NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER, AD_HANDSHAKE_FAILURE)

    def _store_peer_chain(self, body, peer_is_server):
        """Copy a Certificate message's chain into the remote space and verify it."""
        from . import kx
        lst = pull_certificate_list(body)
        if not lst:
            raise NxError(NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED, AD_HANDSHAKE_FAILURE)
        status, alert = self.owner._x509_verify_chain(body, lst, peer_is_server)
        if status:
            raise NxError(status, alert)
        self.peer_key = kx.peer_key(self.owner._x509_remote_leaf())

    def _client_on_server_key_exchange(self, body):
        from . import kx
        k = self.suite.nx_secure_tls_public_cipher
        self.have_ske = True
        if k == crypto.TLS_KX_PSK:
            self.hint = bytes(pull_psk_vector(body))
            return
        if k == crypto.TLS_KX_RSA:
            raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
        r = Reader(body)
        if k == crypto.TLS_KX_ECDHE_PSK:
            self.hint = bytes(r.vec16())          # RFC 5489 2
        start = r.pos
        group, point = pull_ec_params(r)
        if group not in kx.GROUPS:
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_ILLEGAL_PARAMETER)
        if k == crypto.TLS_KX_ECDHE:
            if not self.have_cert:
                raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
            params = bytes(body[start:r.pos])
            alg, sig = pull_digitally_signed(r)
            kx.verify(alg, self.peer_key,
                      bytes(self.client_random) + bytes(self.server_random) + params, sig)
        r.done()
        self.group = group
        self.peer_point = bytes(point)

    def _client_on_certificate_request(self, body):
        """RFC 5246 7.4.4: pick our certificate whose key type the server accepts and
        a SHA-256 signature scheme it lists; none means we send an empty Certificate."""
        if self.suite.nx_secure_tls_public_auth is None:
            raise NxError(NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE, AD_UNEXPECTED_MESSAGE)
        from . import kx
        types, algs = pull_certificate_request(body)
        self.cert_requested = True
        for c in self.owner._x509_local_certs():
            key = kx.local_key(c)
            if key is None:
                continue
            t = CERT_TYPE_ECDSA_SIGN if kx.is_ec(key) else CERT_TYPE_RSA_SIGN
            if not _has_byte(types, t):
                continue
            alg = kx.choose_sign_alg(key, algs)
            if alg is not None and kx.sha256_scheme(alg):
                self.local_cert = c
                self.sign_alg = alg
                return

    def _client_key_exchange_flight(self, now):
        """Flight 5: [Certificate], ClientKeyExchange, [CertificateVerify],
        ChangeCipherSpec, Finished (RFC 6347 4.2.4, RFC 5246 7.3)."""
        k = self.suite.nx_secure_tls_public_cipher
        if k == crypto.TLS_KX_PSK or k == crypto.TLS_KX_ECDHE_PSK:
            entry = self.psk_store.for_hint(self.hint)
            if entry is None:
                raise NxError(NX_SECURE_TLS_NO_MATCHING_PSK, AD_HANDSHAKE_FAILURE)
            self.psk, self.psk_identity = entry
        self._flight_begin()
        if self.cert_requested:
            self._push_certificate(self.local_cert)       # an empty one when we have none
        w = self._msg_begin()
        if k == crypto.TLS_KX_PSK:
            w.vec16(self.psk_identity)                     # RFC 4279 2
            pms = _psk_premaster(bytes(len(self.psk)), self.psk)
        else:
            from . import kx
            if k == crypto.TLS_KX_RSA:
                # RFC 5246 7.4.7.1: client_version (as offered) || 46 random bytes
                pms = bytearray(48)
                self.random_into(pms)
                pms[0] = DTLS_1_2 >> 8
                pms[1] = DTLS_1_2 & 0xFF
                pms = bytes(pms)
                w.vec16(kx.rsa_encrypt_premaster(self.peer_key, pms))
            else:
                priv, pub = kx.ecdh_keypair(self.group)
                z = kx.ecdh_shared(self.group, priv, self.peer_point)
                if k == crypto.TLS_KX_ECDHE_PSK:
                    w.vec16(self.psk_identity)             # RFC 5489 2
                    pms = _psk_premaster(z, self.psk)
                else:
                    pms = z
                w.vec8(pub)                                # RFC 8422 5.7
        self._msg_end(w, HT_CLIENT_KEY_EXCHANGE)
        self._derive_keys(pms)
        if self.cert_requested and self.local_cert is not None:
            from . import kx
            # RFC 5246 7.4.8: signed over the handshake so far (the session hash).
            sig = kx.sign(self.sign_alg, kx.local_key(self.local_cert), None,
                          self.session_hash)
            w = self._msg_begin()
            w.u16(self.sign_alg)
            w.vec16(sig)
            self._msg_end(w, HT_CERTIFICATE_VERIFY)
        self._flight_ccs()
        self._push_finished(b"client finished")
        self._flight_send(now, True)

    # ---------------------------------------------------------------- server steps
    def _server_on_client_certificate(self, body, message_seq):
        """RFC 5246 7.4.6: the client's chain. Verification was asked for, so an empty
        one fails the handshake (NetX requires the certificate once configured)."""
        self._flight5_seq = message_seq
        self._store_peer_chain(body, False)
        self.peer_cert = True

    def _server_on_client_key_exchange(self, body):
        k = self.suite.nx_secure_tls_public_cipher
        r = Reader(body)
        if k == crypto.TLS_KX_PSK or k == crypto.TLS_KX_ECDHE_PSK:
            identity = r.vec16()
            psk = self.psk_store.key_for_identity(identity)
            if psk is None:
                # RFC 4279 2: an unknown identity MAY be answered with unknown_psk_identity.
                raise NxError(NX_SECURE_TLS_NO_MATCHING_PSK, AD_UNKNOWN_PSK_IDENTITY)
            self.psk = psk
            self.psk_identity = bytes(identity)
        if k == crypto.TLS_KX_PSK:
            r.done()
            pms = _psk_premaster(bytes(len(self.psk)), self.psk)
        else:
            from . import kx
            if k == crypto.TLS_KX_RSA:
                ct = r.vec16()
                r.done()
                pms = kx.rsa_decrypt_premaster(kx.local_key(self.local_cert), ct,
                                               bytes((DTLS_1_2 >> 8, DTLS_1_2 & 0xFF)))
            else:
                point = r.vec8()
                r.done()
                z = kx.ecdh_shared(self.group, self.kx_priv, point)
                self.kx_priv = None
                pms = z if k == crypto.TLS_KX_ECDHE else _psk_premaster(z, self.psk)
        self._derive_keys(pms)

    def _server_on_certificate_verify(self, body):
        """RFC 5246 7.4.8: the client proves it holds its certificate's key."""
        from . import kx
        r = Reader(body)
        alg, sig = pull_digitally_signed(r)
        r.done()
        if not kx.sha256_scheme(alg):
            raise NxError(NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE, AD_ILLEGAL_PARAMETER)
        kx.verify(alg, self.peer_key, None, sig, NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE,
                  self.session_hash)

    # ---------------------------------------------------------------- both sides
    def _derive_keys(self, pms):
        """Master secret (RFC 7627 4 / RFC 5246 8.1) from the premaster, key block
        (RFC 5246 6.3). Consumes the first transcript digest: the session hash, which
        is also what CertificateVerify signs."""
        session_hash = self.transcript.digest()
        self.session_hash = session_hash
        if self.ems:
            ms = self.table.prf(pms, b"extended master secret", session_hash, 48)
        else:
            ms = self.table.prf(pms, b"master secret",
                                bytes(self.client_random) + bytes(self.server_random), 48)
        self.master[:] = ms
        self.owner._dtls_keylog(self.client_random, self.master)
        s = self.suite
        mac_n = s.nx_secure_tls_hash_size
        key_n = s.nx_secure_tls_session_key_size
        iv_n = s.nx_secure_tls_iv_size
        total = 2 * (mac_n + key_n + iv_n)
        kb = self.table.prf(self.master, b"key expansion",
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
        return self.table.prf(self.master, label, self.transcript.digest(), 12)

    def _push_finished(self, label):
        vd = self._verify_data(label)
        w = self._msg_begin(epoch=1)
        w.put(vd)
        self._msg_end(w, HT_FINISHED)

    def _on_finished(self, body, whole, now):
        label = b"server finished" if self.is_client else b"client finished"
        expect = self._verify_data(label)
        d = len(body) ^ 12
        if len(body) == 12:
            for i in range(12):
                d |= expect[i] ^ body[i]
        if d:
            raise NxError(NX_SECURE_TLS_FINISHED_HASH_FAILURE, AD_DECRYPT_ERROR)
        self.transcript.update(whole)
        self.hs_deadline = None
        self._arm(None)
        if not self.is_client:
            # Flight 6: ChangeCipherSpec, Finished. It is kept for retransmission
            # when the client repeats flight 5 (RFC 6347 4.2.4).
            self._flight_begin()
            self._flight_ccs()
            self._push_finished(b"server finished")
            self._flight_send(now, False)
        self._set_state(CONNECTED)
        self.owner._dtls_event(NX_SUCCESS)

    def _on_alert(self, epoch, buf, off, n):
        rl = self.record
        if n != 2:
            rl.discarded += 1
            return
        level = buf[off]
        desc = buf[off + 1]
        if level != ALERT_WARNING and level != ALERT_FATAL:
            rl.discarded += 1           # an unknown level changes nothing
            return
        if self.state == CONNECTED and epoch != 1:
            rl.discarded += 1           # unprotected alerts after the handshake are forgeable
            return
        if epoch or desc == AD_CLOSE_NOTIFY or level == ALERT_FATAL:
            # an ignored epoch-0 warning must not move the replay window (see _on_record)
            rl.accept()
        if desc == AD_CLOSE_NOTIFY:
            # RFC 5246 7.2.1: answer close_notify with close_notify.
            if not self.sent_close:
                self.send_alert(ALERT_WARNING, AD_CLOSE_NOTIFY)
            self.hs_deadline = None
            self._arm(None)
            self._set_state(CLOSED)
            self.owner._dtls_event(NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED)
            return
        if level == ALERT_FATAL:
            self.error = NX_SECURE_TLS_ALERT_RECEIVED
            self.hs_deadline = None
            self._arm(None)
            self._set_state(ERROR)
            self.owner._dtls_event(NX_SECURE_TLS_ALERT_RECEIVED)
        # other warnings (e.g. no_renegotiation) need no action

    # ================================================================ output
    def send_alert(self, level, desc):
        """One alert record in the current write epoch, in its own datagram."""
        rl = self.record
        epoch = rl.write_epoch
        tx = self.tx
        pre = rl.write_prefix(epoch)
        tx[pre] = level
        tx[pre + 1] = desc
        n = rl.seal(tx, 0, CT_ALERT, epoch, 2)
        if desc == AD_CLOSE_NOTIFY:
            self.sent_close = True
        return self.owner._dtls_output(tx[:n])

    def close(self):
        """Send close_notify (RFC 5246 7.2.1) and stop."""
        status = NX_SUCCESS
        if self.state not in (IDLE, CLOSED, ERROR, S_HELLO, S_WAIT_HELLO) and not self.sent_close:
            status = self.send_alert(ALERT_WARNING, AD_CLOSE_NOTIFY)
        self.hs_deadline = None
        self._arm(None)
        self._set_state(CLOSED)
        return status

    def max_plaintext(self):
        """Largest application record plaintext that fits the MTU."""
        return self.mtu - self.record.overhead1

    def _fail(self, code, alert):
        """A fatal protocol error: send the alert, poison the state (RFC 5246 7.2.2)."""
        if self.state in (ERROR, CLOSED):
            return
        self.error = code
        self.hs_deadline = None
        self._arm(None)
        try:
            if alert is not None:
                self.send_alert(ALERT_FATAL, alert)
        except NxError:
            pass
        self._set_state(ERROR)
        self.owner._dtls_event(code)

    def _internal_error(self, exc):
        """An exception that is not a protocol error is a defect of ours: end this
        association with internal_error (RFC 5246 7.2.2), keep the exception for
        debugging, and let every other session carry on."""
        self.last_exception = exc
        self._fail(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_INTERNAL_ERROR)

    def _set_state(self, state):
        self.state = state

    # ================================================================ flights
    def _flight_begin(self):
        self.flight_n = 0
        self.flight_used = 0
        self.timeout = config.NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS
        self.transmissions = 0

    def _msg_begin(self, epoch=0):
        if self.flight_n >= _MAX_FLIGHT_ENTRIES:
            raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, AD_INTERNAL_ERROR)
        self._msg_epoch = epoch
        return Writer(self.flight_buf, self.flight_used + HANDSHAKE_HEADER)

    def _msg_end(self, w, msg_type):
        """Close a handshake message written at the end of the flight buffer: header
        as if unfragmented, into the transcript, listed in the flight."""
        start = self.flight_used
        length = w.pos - start - HANDSHAKE_HEADER
        push_handshake_header(self.flight_buf, start, msg_type, length, self.send_seq, 0, length)
        self._flight_add([self.flight_buf[start:w.pos]], w.pos - start)
        self.flight_used = w.pos

    def _flight_add(self, segs, size):
        if self.send_seq > 0xFFFF:
            # RFC 6347 4.2.2: message_seq is 16 bits and must not wrap
            raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, AD_INTERNAL_ERROR)
        self.send_seq += 1
        for seg in segs:
            self.transcript.update(seg)
        e = self.flight[self.flight_n]
        e[0] = CT_HANDSHAKE
        e[1] = self._msg_epoch
        e[2] = segs
        e[3] = size
        self.flight_n += 1

    def _push_certificate(self, cert):
        """RFC 5246 7.4.2 Certificate: our certificate then its issuers from the local
        store. Only the framing goes into the flight buffer; the DER stays where the
        application keeps it."""
        chain = self.owner._x509_chain(cert) if cert is not None else []
        w = self._msg_begin()
        fb = self.flight_buf
        start = self.flight_used
        total = 0
        for der in chain:
            total += 3 + len(der)
        w.u24(total)
        segs = [fb[start:w.pos]]
        for der in chain:
            a = w.pos
            w.u24(len(der))
            segs.append(fb[a:w.pos])
            segs.append(der)
        length = 3 + total
        push_handshake_header(fb, start, HT_CERTIFICATE, length, self.send_seq, 0, length)
        self._flight_add(segs, HANDSHAKE_HEADER + length)
        self.flight_used = w.pos

    def _flight_ccs(self):
        e = self.flight[self.flight_n]
        e[0] = CT_CHANGE_CIPHER_SPEC
        e[1] = 0
        e[2] = None
        e[3] = 1
        self.flight_n += 1

    def _flight_send(self, now, arm_timer):
        """(Re)transmit the flight: messages fragmented to the MTU, packed several
        records to a datagram, each record protected in its message's epoch with a
        fresh sequence number (RFC 6347 4.2.3, 4.2.4)."""
        rl = self.record
        tx = self.tx
        mtu = self.mtu
        if mtu > len(tx):
            mtu = len(tx)
        pos = 0
        for i in range(self.flight_n):
            ctype, epoch, segs, size = self.flight[i]
            if ctype == CT_CHANGE_CIPHER_SPEC:
                if pos + RECORD_HEADER + 1 > mtu:
                    self._emit(pos)
                    pos = 0
                tx[pos + RECORD_HEADER] = 1
                pos += rl.seal(tx, pos, CT_CHANGE_CIPHER_SPEC, 0, 1)
                # RFC 6347 4.1: after sending ChangeCipherSpec the write epoch advances.
                if rl.write_epoch == 0:
                    rl.activate_write()
                continue
            body_len = size - HANDSHAKE_HEADER
            overhead = RECORD_HEADER + HANDSHAKE_HEADER + (
                0 if epoch == 0 else rl.write_overhead(1) - RECORD_HEADER)
            if mtu - overhead < 1:
                raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, AD_INTERNAL_ERROR)
            done = 0
            while True:
                room = mtu - pos - overhead
                if room < 1 or (room < body_len - done and room < 64 and pos):
                    # not worth a tiny fragment: start a new datagram
                    self._emit(pos)
                    pos = 0
                    room = mtu - overhead
                frag = body_len - done
                if frag > room:
                    frag = room
                pre = rl.write_prefix(epoch)
                q = pos + pre
                _copy_segments(segs, 0, tx, q, HANDSHAKE_HEADER)
                # rewrite fragment_offset / fragment_length (RFC 6347 4.2.3)
                put_u24(tx, q + 6, done)
                put_u24(tx, q + 9, frag)
                _copy_segments(segs, HANDSHAKE_HEADER + done, tx, q + HANDSHAKE_HEADER, frag)
                pos += rl.seal(tx, pos, CT_HANDSHAKE, epoch, HANDSHAKE_HEADER + frag)
                done += frag
                if done >= body_len:
                    break
        if pos:
            self._emit(pos)
        self.transmissions += 1
        if arm_timer or self.deadline is not None:     # a running timer restarts
            self._arm(self.ticks_add(now, self.timeout))

    def _emit(self, n):
        status = self.owner._dtls_output(self.tx[:n])
        if status != NX_SUCCESS:
            raise NxError(NX_SECURE_TLS_TCP_SEND_FAILED, None)

    # ================================================================ timer
    def _arm(self, deadline):
        """Set (a ticks value) or clear (None) the retransmission deadline."""
        self.deadline = deadline
        self._timer_changed()

    def _timer_changed(self):
        """Tell the owner the earliest of the retransmission deadline and the
        handshake deadline (None: nothing to wake for). A connected association has
        neither, so it costs the owner's timers nothing."""
        d = self.deadline
        h = self.hs_deadline
        if h is not None and (d is None or self.ticks_diff(h, d) < 0):
            d = h
        self.owner._dtls_timer(d)

    def timer_fire(self, now):
        """RFC 6347 4.2.4.1: on expiry retransmit and double the timeout up to 60 s;
        give up after a bounded number of transmissions, or at the handshake
        deadline, whichever comes first."""
        h = self.hs_deadline
        if h is not None and self.ticks_diff(now, h) >= 0:
            self.hs_deadline = None
            self._arm(None)
            self._fail(NX_SECURE_TLS_HANDSHAKE_TIMEOUT, None)
            return
        d = self.deadline
        if d is None or self.ticks_diff(now, d) < 0:
            self._timer_changed()        # woken early (for the other deadline)
            return
        if self.transmissions >= config.NX_SECURE_DTLS_MAX_TRANSMISSIONS:
            self._arm(None)
            self._fail(NX_SECURE_TLS_HANDSHAKE_TIMEOUT, None)
            return
        t = self.timeout * 2
        if t > config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS:
            t = config.NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS
        self.timeout = t
        self.retransmits += 1
        try:
            self._flight_send(now, True)
        except NxError as e:
            self._fail(e.code, e.alert)
        except Exception as e:
            self._internal_error(e)


def _plain_add(t, d):
    return t + d


def _plain_diff(a, b):
    return a - b


def _psk_premaster(other, psk):
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


def _has_byte(mv, b):
    for x in mv:
        if x == b:
            return True
    return False


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
