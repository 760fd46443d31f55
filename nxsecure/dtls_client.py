"""The client's handshake (RFC 6347 4.2, RFC 5246 7.3): its state table and messages."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from . import config
from .const import (
    NxError, NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, NX_SECURE_TLS_HANDSHAKE_FAILURE,
    NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, NX_SECURE_TLS_UNKNOWN_CIPHERSUITE,
    NX_SECURE_TLS_BAD_COMPRESSION_METHOD, NX_SECURE_TLS_UNSUPPORTED_FEATURE,
    NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, NX_SECURE_TLS_NO_MATCHING_PSK,
)
from .dtls import (
    key, has_byte, ANY, CERT, PSK, PLAIN_PSK, ECDHE, RSA, C_HELLO, C_SERVER_HELLO,
    C_KEY_EXCHANGE, C_WAIT_CCS, C_WAIT_FINISHED, C_CERTIFICATE, C_CERT_REQUEST, CONNECTED,
)
from .handshake import (
    push_client_hello, pull_server_hello, pull_hello_verify_request, check_reneg_info,
    push_cert_extensions, reneg_ours,
)
from . import crypto

_DTLS_1_2 = const(0xFEFD)
_HT_CLIENT_HELLO = const(1)
_HT_SERVER_HELLO = const(2)
_HT_HELLO_VERIFY_REQUEST = const(3)
_HT_CERTIFICATE = const(11)
_HT_SERVER_KEY_EXCHANGE = const(12)
_HT_CERTIFICATE_REQUEST = const(13)
_HT_SERVER_HELLO_DONE = const(14)
_HT_CLIENT_KEY_EXCHANGE = const(16)
_HT_FINISHED = const(20)
_AD_HANDSHAKE_FAILURE = const(40)
_AD_ILLEGAL_PARAMETER = const(47)
_AD_DECODE_ERROR = const(50)
_AD_PROTOCOL_VERSION = const(70)
_AD_INTERNAL_ERROR = const(80)
_AD_UNSUPPORTED_EXTENSION = const(110)


def start(e, now):
    """Send the first ClientHello (RFC 6347 4.2.1)."""
    e.reset()
    e.random_into(e.client_random)
    if e.x is not None:
        for f in e.x:
            f.start(e)                      # e.g. the session id to offer
    e.flight.begin()
    _client_hello(e)
    e._set_state(C_HELLO)
    e.flight.send(now, True)


def _offered(e):
    out = []
    for row in e.table.nx_secure_tls_ciphersuite_lookup_table:
        if e.usable(row):
            out.append(row.nx_secure_tls_ciphersuite)
    return out


def _client_hello(e):
    w = e.flight.message()
    suites = _offered(e)
    if not suites:
        raise NxError(NX_SECURE_TLS_NO_SUPPORTED_CIPHERS, _AD_INTERNAL_ERROR)
    ecc = False
    certs = False
    for sid in suites:
        row = e.table.find(sid)
        k = row.nx_secure_tls_public_cipher
        if k == crypto.TLS_KX_ECDHE or k == crypto.TLS_KX_ECDHE_PSK:
            ecc = True
        if row.nx_secure_tls_public_auth is not None:
            certs = True
    extra = None
    e.offered_ecc = ecc
    x = e.x
    if ecc or certs or x is not None:
        def extra(w):
            if ecc or certs:
                from . import kx
                # RFC 8422 5.1 / RFC 5246 7.4.1.4.1
                push_cert_extensions(w, kx.groups(e) if ecc else None,
                                     kx.VERIFY_ALGS if certs else None, ecc)
            if x is not None:
                for f in x:
                    f.hello(e, w)           # the features' extensions
    push_client_hello(w, e.client_random, e.cookie_buf[:e.cookie_len], suites, extra=extra,
                      session_id=e.session_id, reneg=reneg_ours(True, e.reneg_bind))
    # Into the transcript only when the ServerHello comes: a HelloVerifyRequest
    # instead leaves it out (RFC 6347 4.2.6), and the hashes need not be started over.
    e.flight.unhashed = True
    e.flight.end(w, _HT_CLIENT_HELLO)


def _on_hello_verify_request(e, body, whole, seq, now):
    # RFC 6347 4.2.1: one HelloVerifyRequest is the rule (a server may ask again,
    # e.g. across a cookie-secret rotation); a server that keeps asking would hold
    # the client forever and wrap its message_seq.
    e.hello_verifies += 1
    if e.hello_verifies > config.NX_SECURE_DTLS_MAX_HELLO_VERIFY:
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_HANDSHAKE_FAILURE)
    cookie = pull_hello_verify_request(body)
    n = len(cookie)
    e.cookie_buf[:n] = cookie
    e.cookie_len = n
    # RFC 6347 4.2.6: the first ClientHello and the HelloVerifyRequest are not part of
    # the handshake hash (the ClientHello was not hashed: Flight.unhashed); the new
    # ClientHello repeats random and suites.
    e.flight.begin()
    _client_hello(e)
    e.flight.send(now, True)


def _on_server_hello(e, body, whole, seq, now):
    # The timer keeps running until the server's flight is complete: if the rest of it
    # is lost, our repeated ClientHello makes the server resend it.
    e._sh_seq = seq
    h = pull_server_hello(body)
    if h.version != _DTLS_1_2:
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION, _AD_PROTOCOL_VERSION)
    row = e.table.find(h.suite)
    if row is None or not e.usable(row):        # (a row of our table we offered)
        raise NxError(NX_SECURE_TLS_UNKNOWN_CIPHERSUITE, _AD_ILLEGAL_PARAMETER)
    if not h.compression_ok:
        raise NxError(NX_SECURE_TLS_BAD_COMPRESSION_METHOD, _AD_ILLEGAL_PARAMETER)
    check_reneg_info(h, e.reneg_bind)
    if e.x is not None:
        for f in e.x:
            f.peer_hello(e, h)              # each takes the extensions it offered
    if h.exts or h.groups is not None or h.sig_algs is not None or (
            h.point_formats is not None and not e.offered_ecc):
        # RFC 5246 7.4.1.4: a server sends only extensions the client offered
        # (supported_groups and signature_algorithms are the client's alone)
        raise NxError(NX_SECURE_TLS_UNSUPPORTED_FEATURE, _AD_UNSUPPORTED_EXTENSION)
    if h.point_formats is not None and not has_byte(h.point_formats, 0):
        # RFC 8422 5.2: uncompressed must be among the server's point formats.
        raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
    e.flight.hash_first()                   # our ClientHello (_client_hello)
    e.choose_suite(row)                     # a SHA-384 suite's transcript starts here
    e.transcript.update(whole)
    e.ems = h.ems
    e.secure_reneg = h.secure_reneg
    e.server_random[:] = h.random
    if e.resumed is not None:
        return e.resumed.client_resumes(e, h)   # abbreviated handshake (RFC 5246 7.3)


def _on_certificate(e, body, whole, seq, now):
    e.transcript.update(whole)
    e.kx.on_certificate(e, body)


def _on_server_key_exchange(e, body, whole, seq, now):
    e.transcript.update(whole)
    e.kx.on_server_key_exchange(e, body)


def _on_certificate_request(e, body, whole, seq, now):
    e.transcript.update(whole)
    e.kx.on_certificate_request(e, body)


def _on_server_hello_done(e, body, whole, seq, now):
    """Flight 5: [Certificate], ClientKeyExchange, [CertificateVerify],
    ChangeCipherSpec, Finished (RFC 6347 4.2.4, RFC 5246 7.3)."""
    e.transcript.update(whole)
    if len(body):
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    e.peer_flight_seq = e._sh_seq
    if e.suite.nx_secure_tls_public_auth is None:
        entry = e.psk_store.for_hint(e.hint)
        if entry is None:
            raise NxError(NX_SECURE_TLS_NO_MATCHING_PSK, _AD_HANDSHAKE_FAILURE)
        e.psk, e.psk_identity = entry
    f = e.flight
    f.begin()
    if e.cert_requested:
        e.kx.client_certificate(e)           # an empty one when we have none
    w = f.message()
    pms = e.kx.client_key_exchange(e, w)
    f.end(w, _HT_CLIENT_KEY_EXCHANGE)
    e.derive_keys(pms)
    if e.cert_requested:
        e.kx.certificate_verify(e)
    f.ccs()
    e.push_finished(b"client finished")
    f.send(now, True)


def _on_finished(e, body, whole, seq, now):
    e.check_finished(body, whole)


# (state, message) -> (handler, next state, condition on the suite). The whole client
# side of RFC 5246 7.3 / RFC 6347 4.2.4: anything not listed is unexpected_message.
TABLE = {
    key(C_HELLO, _HT_HELLO_VERIFY_REQUEST): (_on_hello_verify_request, C_HELLO, ANY),
    key(C_HELLO, _HT_SERVER_HELLO): (_on_server_hello, C_SERVER_HELLO, ANY),
    key(C_SERVER_HELLO, _HT_CERTIFICATE): (_on_certificate, C_CERTIFICATE, CERT),
    key(C_SERVER_HELLO, _HT_SERVER_KEY_EXCHANGE): (_on_server_key_exchange, C_KEY_EXCHANGE, PSK),
    key(C_SERVER_HELLO, _HT_SERVER_HELLO_DONE): (_on_server_hello_done, C_WAIT_CCS, PLAIN_PSK),
    key(C_CERTIFICATE, _HT_SERVER_KEY_EXCHANGE): (_on_server_key_exchange, C_KEY_EXCHANGE, ECDHE),
    key(C_CERTIFICATE, _HT_CERTIFICATE_REQUEST): (_on_certificate_request, C_CERT_REQUEST, RSA),
    key(C_CERTIFICATE, _HT_SERVER_HELLO_DONE): (_on_server_hello_done, C_WAIT_CCS, RSA),
    key(C_KEY_EXCHANGE, _HT_CERTIFICATE_REQUEST): (_on_certificate_request, C_CERT_REQUEST, CERT),
    key(C_KEY_EXCHANGE, _HT_SERVER_HELLO_DONE): (_on_server_hello_done, C_WAIT_CCS, ANY),
    key(C_CERT_REQUEST, _HT_SERVER_HELLO_DONE): (_on_server_hello_done, C_WAIT_CCS, ANY),
    key(C_WAIT_FINISHED, _HT_FINISHED): (_on_finished, CONNECTED, ANY),
}
