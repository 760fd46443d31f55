"""Server Name Indication (RFC 6066 3) and the host name a client checks (RFC 6125): the client names its server, the server learns the name and picks its certificate by it."""
# Optional (tools/profiles.py FEATURES "server-name"); an application imports it:
#     from nxsecure.sni import *
# NetX Secure TLS has nx_secure_tls_session_sni_extension_set / _parse, a server callback
# that sees the ClientHello's extensions (nx_secure_tls_session_server_callback_set) and
# nx_secure_tls_active_certificate_set; NetX has no DTLS variant, so these are
# nxsecure_dtls_*, in the same shape:
#   nxsecure_dtls_session_sni_extension_set(session, dns_name)    client: name the server
#   nxsecure_dtls_server_callback_set(server, fn)                 server: fn(session,
#       extensions, num_extensions) -> status, at each ClientHello, before the suite and
#       the certificate are chosen (non-zero: the handshake fails with that code)
#   nxsecure_dtls_session_sni_extension_parse(session, extensions, num_extensions, dns_name)
#   nxsecure_dtls_active_certificate_set(session, certificate)   from the callback
#   nxsecure_dtls_session_server_name_get(session) -> (status, name)
# A server with more than one identity certificate (local certificate with its key)
# picks the one issued to the name the client asked for without being told: the
# certificate services install the server side when the second one is added.
from .const import (
    NxError, NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_NOT_FOUND,
    NX_SECURE_TLS_EXTENSION_NOT_FOUND, NX_SECURE_TLS_SNI_EXTENSION_INVALID,
    NX_SECURE_TLS_HANDSHAKE_FAILURE, NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH,
)
from .feature import Feature, install, installed, take

EXT_SERVER_NAME = 0               # RFC 6066 3
_HOST_NAME = 0                    # NameType host_name
_AD_HANDSHAKE_FAILURE = 40
_AD_ILLEGAL_PARAMETER = 47
_AD_DECODE_ERROR = 50


class NX_SECURE_TLS_HELLO_EXTENSION:
    """One ClientHello extension as the server callback sees it (NetX's struct): its
    type and its data, a view of the received hello, valid during the callback."""

    def __init__(self, etype, data):
        self.nx_secure_tls_extension_id = etype
        self.nx_secure_tls_extension_data = data
        self.nx_secure_tls_extension_data_length = len(data)


# --- the extension's codec --------------------------------------------------------
def push_server_name(w, name):
    """RFC 6066 3: ServerNameList with one host_name."""
    n = len(name)
    w.u16(EXT_SERVER_NAME)
    w.u16(n + 5)
    w.u16(n + 3)
    w.u8(_HOST_NAME)
    w.u16(n)
    w.put(name)


def _host_name_ok(name):
    """RFC 6066 3: a DNS host name in ASCII, no trailing dot; labels of 1..63 letters,
    digits, hyphens (and underscores, which real names carry)."""
    n = len(name)
    if n == 0 or n > 253 or name[n - 1] == 0x2E:
        return False
    label = 0
    for c in name:
        if c == 0x2E:
            if label == 0:
                return False
            label = 0
            continue
        if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x2D
                or c == 0x5F):
            return False
        label += 1
        if label > 63:
            return False
    return True


def pull_server_name(data):
    """The host_name of a ClientHello's server_name data (a Reader) as bytes (a copy).
    Malformed lengths: decode_error; no host_name, two of them, or one that is no DNS
    name: illegal_parameter (RFC 6066 3); both NX_SECURE_TLS_SNI_EXTENSION_INVALID."""
    from .codec import Reader
    try:
        lst = data.sub16()
        data.done()
        if not lst.left():
            raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_DECODE_ERROR)
        host = None
        while lst.left():
            t = lst.u8()
            v = lst.vec16()
            if not len(v):
                raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_DECODE_ERROR)
            if t == _HOST_NAME:
                if host is not None:
                    raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_ILLEGAL_PARAMETER)
                host = v
    except NxError as x:
        if x.code == NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH:
            raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_DECODE_ERROR)
        raise
    if host is None or not _host_name_ok(host):
        raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_ILLEGAL_PARAMETER)
    return bytes(host)


# --- the feature ------------------------------------------------------------------
class ServerName(Feature):
    """Client: one per session, sends the name. Server: one shared by a server's
    sessions; what a handshake learnt is kept on its engine (e.sni, e.sni_cert)."""

    def __init__(self, name=None, callback=None):
        self.name = name                # client: the host name sent
        self.callback = callback        # server: the application's, or None

    def hello(self, e, w):
        if self.name is not None:
            push_server_name(w, self.name)
        elif getattr(e, "sni", None) is not None and e.resumed is None:
            # RFC 6066 3: a server that used the name answers with an empty server_name
            # (and with none when it resumes a session)
            w.u16(EXT_SERVER_NAME)
            w.u16(0)

    def peer_hello(self, e, h):
        data = take(h, EXT_SERVER_NAME)
        if self.name is not None:
            # client: the server's answer is empty (RFC 6066 3)
            if data is not None and data.left():
                raise NxError(NX_SECURE_TLS_SNI_EXTENSION_INVALID, _AD_DECODE_ERROR)
            return
        e.sni = None
        e.sni_cert = None
        view = None
        if data is not None:
            view = data.mv[data.pos:data.end]
            e.sni = pull_server_name(data)
        fn = self.callback
        if fn is not None:
            exts = []
            if view is not None:
                exts.append(NX_SECURE_TLS_HELLO_EXTENSION(EXT_SERVER_NAME, view))
            for etype, r in h.exts or ():
                exts.append(NX_SECURE_TLS_HELLO_EXTENSION(etype, r.mv[r.pos:r.end]))
            try:
                status = fn(e.owner, exts, len(exts))
            except Exception:
                status = NX_SECURE_TLS_HANDSHAKE_FAILURE    # a failing callback refuses
            if status:
                raise NxError(status, _AD_HANDSHAKE_FAILURE)


# --- services ---------------------------------------------------------------------
def _name_of(dns_name):
    """The name in an NX_SECURE_X509_DNS_NAME as bytes, or None."""
    try:
        n = dns_name.nx_secure_x509_dns_name_length
        b = dns_name.nx_secure_x509_dns_name
    except AttributeError:
        return None
    if not isinstance(n, int) or n < 0 or n > len(b):
        return None
    return bytes(b[:n])


def _is_address(name):
    """IPv4 dotted quad or IPv6 text: checked against iPAddress entries, never sent."""
    if b":" in name:
        return True
    parts = name.split(b".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p or len(p) > 3 or not p.isdigit():
            return False
    return True


def nxsecure_dtls_session_sni_extension_set(session_ptr, dns_name):
    """nxsecure extension (NetX TLS: nx_secure_tls_session_sni_extension_set): a client
    session names the server it connects to. From its next handshake the ClientHello
    carries server_name (RFC 6066 3) and the server's certificate must be issued to
    that name (subjectAltName dNSName, or the commonName of a certificate without
    subjectAltName; RFC 6125 6.4), else the handshake fails with
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH and a bad_certificate alert. An IP address
    ('192.0.2.7', '2001:db8::7') is checked against the certificate's iPAddress
    entries and not sent (RFC 6066 3 allows no literal addresses in server_name).
    dns_name None stops naming the server (no name is checked)."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if session_ptr._server is not None:
        return NX_PTR_ERROR                      # a server session names nothing
    e = session_ptr._engine
    if dns_name is None:
        session_ptr._server_name = None
        install(e, None, ServerName)
        return NX_SUCCESS
    name = _name_of(dns_name)
    if name is None:
        return NX_PTR_ERROR
    address = _is_address(name)
    if not address and not _host_name_ok(name):
        return NX_INVALID_PARAMETERS
    session_ptr._server_name = name
    install(e, None if address else ServerName(name), ServerName)
    return NX_SUCCESS


def server_side(server_ptr):
    """The server's ServerName feature, installed on each of its sessions (made once)."""
    for s in server_ptr._sessions:
        f = installed(s._engine, ServerName)
        if f is not None:
            return f
    f = ServerName()
    for s in server_ptr._sessions:
        install(s._engine, f, ServerName)
    return f


def nxsecure_dtls_server_callback_set(server_ptr, callback):
    """nxsecure extension (NetX TLS: nx_secure_tls_session_server_callback_set):
    callback(session, extensions, num_extensions) -> status runs at each ClientHello
    the server's sessions start with, before the suite and the certificate are chosen.
    extensions: the hello's extensions the core does not handle, server_name first, as
    NX_SECURE_TLS_HELLO_EXTENSION (views valid during the call). It may call
    nxsecure_dtls_session_sni_extension_parse and nxsecure_dtls_active_certificate_set;
    a non-zero status ends the handshake with that code (handshake_failure). None
    removes it (the certificate is then chosen by name alone)."""
    from .server import _live
    if _live(server_ptr):
        return NX_PTR_ERROR
    server_side(server_ptr).callback = callback
    return NX_SUCCESS


def nxsecure_dtls_session_sni_extension_parse(session_ptr, extensions, num_extensions,
                                              dns_name):
    """nxsecure extension (NetX TLS: nx_secure_tls_session_sni_extension_parse): the
    host name of the server_name extension among extensions[:num_extensions] into
    dns_name (an NX_SECURE_X509_DNS_NAME). NX_SECURE_TLS_EXTENSION_NOT_FOUND when the
    client sent none, NX_SECURE_TLS_SNI_EXTENSION_INVALID when it is malformed."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if extensions is None or dns_name is None:
        return NX_PTR_ERROR
    if not isinstance(num_extensions, int) or num_extensions < 0:
        return NX_INVALID_PARAMETERS
    try:
        exts = list(extensions)[:num_extensions]
        buf = dns_name.nx_secure_x509_dns_name
        dns_name.nx_secure_x509_dns_name_length
    except (TypeError, AttributeError):
        return NX_PTR_ERROR
    from .codec import Reader
    for x in exts:
        if getattr(x, "nx_secure_tls_extension_id", None) != EXT_SERVER_NAME:
            continue
        try:
            data = memoryview(x.nx_secure_tls_extension_data)
            n = x.nx_secure_tls_extension_data_length
            name = pull_server_name(Reader(data, 0, n))
        except NxError as err:
            return err.code
        except (TypeError, ValueError, AttributeError, IndexError):
            return NX_SECURE_TLS_SNI_EXTENSION_INVALID
        if len(name) > len(buf):
            return NX_SECURE_TLS_SNI_EXTENSION_INVALID
        buf[:len(name)] = name
        dns_name.nx_secure_x509_dns_name_length = len(name)
        return NX_SUCCESS
    return NX_SECURE_TLS_EXTENSION_NOT_FOUND


def nxsecure_dtls_active_certificate_set(session_ptr, certificate):
    """nxsecure extension (NetX TLS: nx_secure_tls_active_certificate_set): the server
    session authenticates this handshake with `certificate` (an identity certificate
    with its private key, e.g. the one the callback chose by name) instead of the one
    the server would pick. Its issuers still come from the server's local
    certificates. A key that is not the certificate's is refused
    (NX_SECURE_X509_PRIVATE_KEY_MISMATCH)."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status
    if certificate is None or not hasattr(certificate, "nx_secure_x509_cert_identifier") or \
            session_ptr._server is None:
        return NX_PTR_ERROR
    if not certificate._valid or certificate._private_key is None:
        return NX_INVALID_PARAMETERS
    from . import kx
    status = kx.local_key_check(certificate)
    if status:
        return status
    session_ptr._engine.sni_cert = certificate
    return NX_SUCCESS


def nxsecure_dtls_session_server_name_get(session_ptr):
    """nxsecure extension: -> (status, name): a server session's host name the client
    asked for in its last ClientHello (server_name), a client session's own; bytes.
    NX_NOT_FOUND when there is none."""
    from .session import _live
    status = _live(session_ptr)
    if status:
        return status, None
    if session_ptr._server is None:
        name = getattr(session_ptr, "_server_name", None)
    else:
        name = getattr(session_ptr._engine, "sni", None)
    if name is None:
        return NX_NOT_FOUND, None
    return NX_SUCCESS, name


__all__ = ("NX_SECURE_TLS_HELLO_EXTENSION", "nxsecure_dtls_session_sni_extension_set",
           "nxsecure_dtls_server_callback_set", "nxsecure_dtls_session_sni_extension_parse",
           "nxsecure_dtls_active_certificate_set", "nxsecure_dtls_session_server_name_get")
