"""What an optional feature (small records, keep-alive, ...) gives the engine core: its hooks, and their installation on a session."""
# The core (dtls.py, dtls_client.py, dtls_server.py) never imports this module or a
# feature: an application turns a feature on with its service (nxsecure/small_records.py,
# nxsecure/heartbeat.py), which puts an object on the engine's list `e.x`. The core calls,
# for every object on the list:
#   start(e)                    client: a handshake begins (after e.reset())
#   hello(e, w)                 our hello's extensions (client: ClientHello; server:
#                               ServerHello, after peer_hello)
#   peer_hello(e, h)            the peer's hello: take the extensions it handles out of
#                               h.exts (a client's core refuses what is left over,
#                               RFC 5246 7.4.1.4); the server's hello's bytes are reused
#                               afterwards, so copy what is kept
#   last_flight(e)              server: messages before ChangeCipherSpec in the last
#                               flight of a full handshake
#   connected(e, now)           the handshake has finished
#   failed(e)                   a fatal alert was sent or received (RFC 5246 7.2.2)
#   record(e, ctype, buf, off, n, now)
#                               a protected record of a content type above 23
#   timer(e, now)               the engine's deadline passed while connected (arm it with
#                               e._arm(ticks))
#   peer_renegotiates(e, msg_type, whole, seq, now)
#                               connected, the peer's HelloRequest or ClientHello came:
#                               True when the feature takes it (nxsecure/renegotiation.py),
#                               else the core declines with no_renegotiation
# The resumption feature also sets e.resumed to itself when the peer's hello resumes a
# session: the client's core then calls e.resumed.client_resumes(e, h) for the next
# state, the server's e.resumed.server_resumes(e, h, now) for its whole flight.
# What a feature negotiates lives on the engine (e.max_send / e.max_recv for record
# sizes, the feature's own attributes otherwise); e.reset() restores the core's.
from .const import NxError, NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH

_AD_DECODE_ERROR = 50


class Feature:
    def start(self, e):
        pass

    def last_flight(self, e):
        pass

    def hello(self, e, w):
        pass

    def peer_hello(self, e, h):
        pass

    def connected(self, e, now):
        pass

    def failed(self, e):
        pass

    def record(self, e, ctype, buf, off, n, now):
        pass

    def timer(self, e, now):
        pass

    def peer_renegotiates(self, e, msg_type, whole, seq, now):
        return False


def install(e, feature, cls):
    """Put `feature` on engine e in place of any object of class cls; None removes."""
    x = [f for f in (e.x or ()) if not isinstance(f, cls)]
    if feature is not None:
        x.append(feature)
    e.x = x or None


def installed(e, cls):
    for f in e.x or ():
        if isinstance(f, cls):
            return f
    return None


def take(h, etype):
    """The data (a Reader) of the peer's extension etype, taken out of h.exts; None
    when it did not come."""
    x = h.exts
    if x:
        for i in range(len(x)):
            if x[i][0] == etype:
                return x.pop(i)[1]
    return None


def exact(data, n):
    """The extension's data must be n bytes (RFC 5246 7.4.1.4: else decode_error)."""
    if data.left() != n:
        raise NxError(NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH, _AD_DECODE_ERROR)
