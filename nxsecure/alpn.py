"""Application-Layer Protocol Negotiation (RFC 7301), both roles: a client offers protocol names, the server picks one of its own; for CoAP gateways that tell protocols apart on one port."""
# Optional (tools/profiles.py FEATURES "alpn"), for PSK and certificate sessions alike;
# an application imports it:
#     from nxsecure.alpn import *
# NetX has no ALPN service; these are nxsecure's, in its shape:
#   nxsecure_dtls_session_alpn_set(session, protocols)   client: offer protocols (a list of
#       names, bytes or str of 1..255 bytes, in preference order); None or () stops
#   nxsecure_dtls_server_alpn_set(server, protocols)     server: the protocols it speaks,
#       its preference first; None or () stops
#   nxsecure_dtls_session_alpn_get(session) -> (status, protocol)   both roles, after
#       the handshake: the protocol agreed (bytes); NX_SECURE_TLS_EXTENSION_NOT_FOUND
#       when none was (the peer does not speak ALPN)
# A server whose protocols share none with a client's offer ends the handshake with a
# fatal no_application_protocol alert (RFC 7301 3.2) and
# NXSECURE_DTLS_NO_APPLICATION_PROTOCOL; a client whose server answers with a protocol it
# did not offer ends it with illegal_parameter (RFC 7301 3.1). A client without ALPN
# gets no protocol from an ALPN server, which goes on (RFC 7301 3.1 leaves that to it).
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_SECURE_TLS_EXTENSION_NOT_FOUND,
    NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
)
from .feature import Feature, install, take

EXT_ALPN = 16                     # RFC 7301 3.1 application_layer_protocol_negotiation
# The server found no protocol it speaks among the client's (RFC 7301 3.2): NetX's code
# for an extension that did not bring what was needed, under a name that says so.
NXSECURE_DTLS_NO_APPLICATION_PROTOCOL = NX_SECURE_TLS_EXTENSION_NOT_FOUND
_AD_ILLEGAL_PARAMETER = 47
_AD_DECODE_ERROR = 50
_AD_NO_APPLICATION_PROTOCOL = 120     # RFC 7301 3.2


def push_alpn(w, protocols):
    """RFC 7301 3.1: ProtocolNameList protocol_name_list<2..2^16-1> of
    ProtocolName<1..2^8-1>."""
    n = 0
    for p in protocols:
        n += 1 + len(p)
    w.u16(EXT_ALPN)
    w.u16(n + 2)
    w.u16(n)
    for p in protocols:
        w.u8(len(p))
        w.put(p)


def pull_alpn(data):
    """The ProtocolNameList of an extension's data (a Reader) -> [memoryview, ...];
    an empty list, an empty name or a length that does not fit: decode_error."""
    try:
        lst = data.sub16()
        data.done()
        out = []
        while lst.left():
            v = lst.vec8()
            if not len(v):
                raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
            out.append(v)
    except NxError:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    if not out:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
    return out


class Alpn(Feature):
    """Client: one per session, its offer. Server: one shared by a server's sessions,
    its protocols. The agreed protocol is kept on the engine (e.alpn)."""

    def __init__(self, protocols, server):
        self.protocols = protocols
        self.server = server

    def start(self, e):
        e.alpn = None

    def hello(self, e, w):
        if not self.server:
            push_alpn(w, self.protocols)
        elif e.alpn is not None:
            push_alpn(w, (e.alpn,))         # RFC 7301 3.1: exactly the one chosen

    def peer_hello(self, e, h):
        data = take(h, EXT_ALPN)
        if not self.server:
            if data is None:
                e.alpn = None
                return
            got = pull_alpn(data)
            # RFC 7301 3.1: exactly one name, one the client offered
            if len(got) != 1 or bytes(got[0]) not in self.protocols:
                raise NxError(NX_SECURE_TLS_HANDSHAKE_FAILURE, _AD_ILLEGAL_PARAMETER)
            e.alpn = bytes(got[0])
            return
        e.alpn = None
        if data is None:
            return
        offered = pull_alpn(data)
        for p in self.protocols:            # the server's preference (RFC 7301 3.2)
            for q in offered:
                if len(q) == len(p) and bytes(q) == p:
                    e.alpn = p
                    return
        raise NxError(NXSECURE_DTLS_NO_APPLICATION_PROTOCOL, _AD_NO_APPLICATION_PROTOCOL)


def _protocols(protocols):
    """A tuple of names as bytes, or None when the list is not one (1..255 bytes each,
    the whole list at most 2^16-1 bytes, no name twice)."""
    out = []
    total = 0
    if isinstance(protocols, (str, bytes, bytearray)):
        return None                      # one name, not a list of them
    try:
        for p in protocols:
            if isinstance(p, str):
                p = p.encode()
            elif not isinstance(p, (bytes, bytearray, memoryview)):
                return None
            p = bytes(p)
            if not 1 <= len(p) <= 255 or p in out:
                return None
            total += 1 + len(p)
            out.append(p)
    except (TypeError, ValueError):
        return None
    if total > 0xFFFF:
        return None
    return tuple(out)


def nxsecure_dtls_session_alpn_set(session_ptr, protocols):
    """nxsecure extension (RFC 7301): a client offers `protocols` (names in preference
    order, e.g. [b"coap"]) in its next handshakes; None or () stops."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR
    e = session_ptr._engine
    if not protocols:
        install(e, None, Alpn)
        e.alpn = None
        return NX_SUCCESS
    p = _protocols(protocols)
    if p is None:
        return NX_INVALID_PARAMETERS
    install(e, Alpn(p, False), Alpn)
    return NX_SUCCESS


def nxsecure_dtls_server_alpn_set(server_ptr, protocols):
    """nxsecure extension (RFC 7301): the server speaks `protocols` (its preference
    first) and picks the first of them a client offers; a client that offers none of
    them is refused (no_application_protocol). None or () stops. Applies to handshakes
    that begin after the call."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    f = None
    if protocols:
        p = _protocols(protocols)
        if p is None:
            return NX_INVALID_PARAMETERS
        f = Alpn(p, True)
    for s in server_ptr._sessions:
        install(s._engine, f, Alpn)
        if f is None:
            s._engine.alpn = None
    return NX_SUCCESS


def nxsecure_dtls_session_alpn_get(session_ptr):
    """nxsecure extension: -> (status, protocol): the protocol the last handshake agreed
    on (bytes), NX_SECURE_TLS_EXTENSION_NOT_FOUND when none was."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status, None
    p = getattr(session_ptr._engine, "alpn", None)
    if p is None:
        return NX_SECURE_TLS_EXTENSION_NOT_FOUND, None
    return NX_SUCCESS, p


__all__ = ("NXSECURE_DTLS_NO_APPLICATION_PROTOCOL", "nxsecure_dtls_session_alpn_set",
           "nxsecure_dtls_server_alpn_set", "nxsecure_dtls_session_alpn_get")
