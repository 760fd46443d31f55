"""The server's handshake (RFC 6347 4.2, RFC 5246 7.3): its state table and messages."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from .const import (
    NxError, NX_SUCCESS, NX_SECURE_TLS_INVALID_STATE, NX_SECURE_TLS_NO_SUPPORTED_CIPHERS,
    NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, NX_SECURE_TLS_BAD_COMPRESSION_METHOD,
    NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL,
)
from .codec import Reader
from .dtls import (
    key, ANY, CERT, IDLE, S_WAIT_HELLO, S_HELLO, S_WAIT_CKE, S_WAIT_CCS, S_WAIT_CLIENT_CERT,
    S_WAIT_CERT_VERIFY, S_WAIT_FINISHED, CONNECTED,
)
from .handshake import (
    HANDSHAKE_HEADER, pull_client_hello, push_server_hello, client_hello_offers,
    check_reneg_info, push_cert_extensions, reneg_ours,
)
from . import crypto

_DTLS_1_2 = const(0xFEFD)
_HT_CLIENT_HELLO = const(1)
_HT_SERVER_HELLO = const(2)
_HT_CERTIFICATE = const(11)
_HT_SERVER_HELLO_DONE = const(14)
_HT_CERTIFICATE_VERIFY = const(15)
_HT_CLIENT_KEY_EXCHANGE = const(16)
_HT_FINISHED = const(20)
_AD_HANDSHAKE_FAILURE = const(40)
_AD_ILLEGAL_PARAMETER = const(47)
_AD_PROTOCOL_VERSION = const(70)
_AD_INTERNAL_ERROR = const(80)


def expect(e, message_seq, record_seq, deadline, random):
    """The cookie-verified ClientHello (message_seq, first record record_seq) is ours to
    reassemble; the handshake must be over by `deadline`."""
    if e.state != IDLE:
        e.reset()           # (a session from the free queue was reset when released)
    e.client_random[:] = random
    e.reasm.reset(message_seq)
    # Our epoch-0 records continue from the client's record number, so the ServerHello
    # never repeats the number the HelloVerifyRequest used (RFC 6347 4.2.1).
    e.record.seq[0] = record_seq + 1
    e.hs_deadline = deadline
    e._set_state(S_WAIT_HELLO)
    e._timer_changed()


def _on_client_hello(e, body, whole, seq, now):
    """Keep the complete ClientHello until the application starts the session."""
    f = e.flight
    n = len(whole)
    if n > len(f.buf):
        raise NxError(NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL, _AD_INTERNAL_ERROR)
    f.buf[:n] = whole
    f.used = n
    e.held_hello = True
    # RFC 6347 4.2.2: the server answers with the ClientHello's message_seq (the
    # HelloVerifyRequest reused it statelessly).
    e.send_seq = seq
    e.peer_flight_seq = seq
    e.owner._dtls_hello()


def start(e, now):
    """nx_secure_dtls_server_session_start: process the held ClientHello and send
    ServerHello..ServerHelloDone. -> a NetX code."""
    if e.state != S_HELLO or not e.held_hello:
        return NX_SECURE_TLS_INVALID_STATE
    e.held_hello = False
    f = e.flight
    n = f.used
    f.used = 0
    try:
        whole = f.buf[:n]
        e.transcript.update(whole)
        _server_flight(e, whole[HANDSHAKE_HEADER:], now)
    except NxError as x:
        e._fail(x.code, x.alert)
        return x.code
    except Exception as x:          # a defect must not take the server down
        e._internal_error(x)
        return e.error
    return NX_SUCCESS


def _server_flight(e, body, now):
    h = pull_client_hello(body)
    if h.version != _DTLS_1_2:
        # RFC 6347 4.1: we speak DTLS 1.2 only. DTLS version numbers decrease (1.2 is
        # 0xFEFD, 1.0 0xFEFF), so a larger number is an older version.
        if h.version > _DTLS_1_2:
            raise NxError(NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, _AD_PROTOCOL_VERSION)
    if not h.compression_ok:
        raise NxError(NX_SECURE_TLS_BAD_COMPRESSION_METHOD, _AD_ILLEGAL_PARAMETER)
    check_reneg_info(h, e.reneg_bind)
    x = e.x
    if x is not None:
        for f in x:
            f.peer_hello(e, h)      # before our flight overwrites the hello's bytes
        if e.resumed is not None:
            return e.resumed.server_resumes(e, h, now)    # abbreviated (RFC 5246 7.3)
    suite = None
    for row in e.table.nx_secure_tls_ciphersuite_lookup_table:   # server preference
        if client_hello_offers(h, row.nx_secure_tls_ciphersuite) and e.usable(row) and \
                _can_meet(e, row, h):
            suite = row
            break
    if suite is None:
        raise NxError(NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, _AD_HANDSHAKE_FAILURE)
    e.choose_suite(suite)
    e.ems = h.ems
    e.secure_reneg = h.secure_reneg
    # copies: the hello's bytes are overwritten by our flight below
    e.peer_groups = None if h.groups is None else bytes(h.groups)
    e.peer_sig_algs = None if h.sig_algs is None else bytes(h.sig_algs)
    e.client_random[:] = h.random
    e.random_into(e.server_random)
    k = suite.nx_secure_tls_public_cipher
    f = e.flight
    f.begin()
    w = f.message()
    extra = None
    ecc = (k == crypto.TLS_KX_ECDHE or k == crypto.TLS_KX_ECDHE_PSK) and h.point_formats is not None
    if ecc or x is not None:
        def extra(w):
            if ecc:
                push_cert_extensions(w, None, None, True)    # RFC 8422 5.2
            if x is not None:
                for g in x:
                    g.hello(e, w)
    push_server_hello(w, e.server_random, e.session_id, suite.nx_secure_tls_ciphersuite, e.ems,
                      reneg_ours(e.secure_reneg, e.reneg_bind), extra=extra)
    f.end(w, _HT_SERVER_HELLO)
    e.kx.server_messages(e, h)             # [Certificate, ServerKeyExchange, CertificateRequest]
    w = f.message()
    f.end(w, _HT_SERVER_HELLO_DONE)
    e._set_state(S_WAIT_CLIENT_CERT if e.cert_requested else S_WAIT_CKE)
    f.send(now, True)


def _can_meet(e, row, h):
    """The client's extensions allow this row (certificate and ECDHE suites: kx.py)."""
    if row.nx_secure_tls_public_cipher == crypto.TLS_KX_PSK:
        return True
    from . import kx
    return kx.server_can_meet(e, row, h)


def _on_certificate(e, body, whole, seq, now):
    e.transcript.update(whole)
    e.kx.on_client_certificate(e, body, seq)


def _on_client_key_exchange(e, body, whole, seq, now):
    e.transcript.update(whole)
    # Flight 5 is only partly here: a repeat of its ClientKeyExchange is not a reason to
    # resend flight 4 (that answered flight 3), and flight 4's timer runs until the
    # Finished completes flight 5 (RFC 6347 4.2.4).
    if not e.cert_requested:
        e._flight5_seq = seq
    e.peer_flight_seq = -1
    e.derive_keys(e.kx.on_client_key_exchange(e, Reader(body)))
    if e.peer_cert:
        return S_WAIT_CERT_VERIFY
    return None


def _on_certificate_verify(e, body, whole, seq, now):
    e.transcript.update(whole)
    e.kx.on_certificate_verify(e, body)


def _on_finished(e, body, whole, seq, now):
    e.check_finished(body, whole)
    # Flight 6: ChangeCipherSpec, Finished. It is kept for retransmission when the
    # client repeats flight 5 (RFC 6347 4.2.4), which a repeat of it (from its first
    # message on) now means.
    f = e.flight
    f.begin()
    if e.x is not None:
        for g in e.x:
            g.last_flight(e)        # e.g. NewSessionTicket (RFC 5077 3.3)
    f.ccs()
    e.push_finished(b"server finished")
    f.send(now, False)
    e.peer_flight_seq = e._flight5_seq


# (state, message) -> (handler, next state, condition on the suite). The whole server
# side of RFC 5246 7.3 / RFC 6347 4.2.4: anything not listed is unexpected_message.
TABLE = {
    key(S_WAIT_HELLO, _HT_CLIENT_HELLO): (_on_client_hello, S_HELLO, ANY),
    key(S_WAIT_CLIENT_CERT, _HT_CERTIFICATE): (_on_certificate, S_WAIT_CKE, CERT),
    key(S_WAIT_CKE, _HT_CLIENT_KEY_EXCHANGE): (_on_client_key_exchange, S_WAIT_CCS, ANY),
    key(S_WAIT_CERT_VERIFY, _HT_CERTIFICATE_VERIFY): (_on_certificate_verify, S_WAIT_CCS, CERT),
    key(S_WAIT_FINISHED, _HT_FINISHED): (_on_finished, CONNECTED, ANY),
}
