"""The Pythonic layer over the NetX API, for gateways and test rigs on CPython: DTLSServer with events, DTLSConnection, connect(), exceptions that carry the NetX code (host only)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
# Everything here is built on the NetX services of nxsecure (session.py, server.py,
# netx.py); nothing here runs on a board (tools/profiles.py HOST_ONLY). The asyncio
# front end is nxsecure/aio.py, which drives the same objects from an event loop.
#
# How the stack runs: the NetX services do their work while a service waits (the
# pump, netx._wait). Every blocking call of this module is one such wait
# (_block), and after each pass of the pump _service_all() gives the objects of this
# layer the events the NetX API does not call back for: a server handshake that
# finished (NetX reports it only to nx_secure_dtls_server_session_start, called
# again), a client handshake that finished. Data, ends and errors of server sessions
# come through the NetX notify callbacks. The few stack internals this module reads
# are in the section "stack internals" at the end, so the list stays short.
import collections
import logging
import socket as _socket
import time

from . import netx, port
from . import status as _status
from .const import (
    NX_SUCCESS, NX_CONTINUE, NX_NO_WAIT, NX_NOT_CONNECTED, NX_NO_RESPONSE,
    NX_IP_PERIODIC_RATE, NX_IP_NORMAL, NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE,
    NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED, NX_SECURE_TLS_HANDSHAKE_FAILURE,
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE, NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS,
    AD_CLOSE_NOTIFY, AD_ACCESS_DENIED, NX_INVALID_PARAMETERS, NxError,
)
from . import const as _const
from . import const_ext as _const_ext
from . import netx_ext
from .netx_ext import nxd_ipv6_address_set
from .netx import (
    NX_PACKET_POOL, NX_IP, NX_UDP_SOCKET, NX_PACKET, NXD_ADDRESS, sizeof,
    nx_packet_pool_create, nx_ip_create, nx_udp_enable,
    nx_udp_socket_create, nx_udp_socket_delete, nx_udp_socket_unbind, nx_packet_release,
)
from .session import (
    NX_SECURE_DTLS_SESSION, nx_secure_dtls_session_create, nx_secure_dtls_session_delete,
    nx_secure_dtls_psk_add, nx_secure_dtls_client_session_start, nx_secure_dtls_session_end,
    nx_secure_dtls_session_receive, nxsecure_dtls_session_mtu_set, nxsecure_dtls_session_keylog_set,
    nx_secure_dtls_session_client_info_get, nxsecure_dtls_session_trace_set,
)
from .crypto import table as _table
from .crypto.table import nx_secure_tls_metadata_size_calculate, make_tls_crypto

log = logging.getLogger("nxsecure")

# Log levels of the on_log event (the logging module's numbers).
DEBUG = logging.DEBUG
INFO = logging.INFO
WARNING = logging.WARNING
ERROR = logging.ERROR

DEFAULT_PORT = 5684            # coaps (RFC 7252 12.8)
_TICK_S = 1.0 / NX_IP_PERIODIC_RATE
_REASSEMBLY = 4000             # per session: the largest handshake message reassembled
_REMOTE_CERTS = 4              # certificates of a peer's chain kept per session
_REMOTE_CERT_SPACE = 4 * 1536


# ============================================================================ errors
class DTLSError(OSError):
    """A DTLS failure: `code` is the NetX status (`name`, `meaning` say it in words),
    `alert` the (level, description) the peer sent when it ended things with an alert.
    An OSError, as ssl.SSLError is."""

    def __init__(self, code, what="", alert=None):
        self.code = code
        self.name = _status.name(code)
        self.meaning = _status.meaning(code)
        self.alert = alert
        # a refused peer chain (handshake errors): what was received and every reason
        # it fails, as GTlsCertificateFlags-style names ("unknown-ca", "expired", ...)
        self.peer_certificate_chain = []
        self.certificate_errors = ()
        text = "%s (0x%X): %s" % (self.name, code, self.meaning)
        if what:
            text = what + ": " + text
        if alert is not None:
            text += "; peer sent %s" % _status.describe_alert(alert[0], alert[1])
        OSError.__init__(self, text)

    def __str__(self):
        return self.args[0]


class DTLSRefused(DTLSError, ConnectionRefusedError):
    """Nothing listens at the server's address and port (ICMP port unreachable):
    NX_NOT_CONNECTED, reported as soon as the refusal comes back."""


class DTLSTimeout(DTLSError, TimeoutError):
    """The peer did not answer in time (a handshake's retransmissions ran out,
    NX_NO_RESPONSE; or the caller's own timeout expired, NX_CONTINUE)."""


def error_for(code, what="", alert=None):
    """The exception for a NetX status: DTLSRefused, DTLSTimeout or DTLSError."""
    if code == NX_NOT_CONNECTED and what.startswith("handshake"):
        return DTLSRefused(code, what, alert)
    if code == NX_NO_RESPONSE or code == NX_CONTINUE:
        return DTLSTimeout(code, what, alert)
    return DTLSError(code, what, alert)


def check(code, what=""):
    """Raise error_for(code) unless the code is NX_SUCCESS."""
    if code != NX_SUCCESS:
        raise error_for(code, what)


# ================================================================ suites and credentials
# nxsecure's suites under their RFC names and OpenSSL's names.
SUITES = {}
from .crypto import suites384 as _suites384   # noqa: E402  (the AES-256 suites)
for _m in (_const, _const_ext, _suites384):
    for _n in dir(_m):
        if _n.startswith("TLS_") and _n != "TLS_EMPTY_RENEGOTIATION_INFO_SCSV":
            SUITES[_n] = getattr(_m, _n)
_OPENSSL_NAMES = {
    "PSK-AES128-CCM8": 0xC0A8, "PSK-AES128-CCM": 0xC0A4, "PSK-AES128-GCM-SHA256": 0x00A8,
    "PSK-AES128-CBC-SHA256": 0x00AE, "ECDHE-PSK-AES128-CBC-SHA256": 0xC037,
    "ECDHE-ECDSA-AES128-CCM8": 0xC0AE, "ECDHE-ECDSA-AES128-CCM": 0xC0AC,
    "ECDHE-ECDSA-AES128-GCM-SHA256": 0xC02B, "ECDHE-ECDSA-AES128-SHA256": 0xC023,
    "ECDHE-RSA-AES128-GCM-SHA256": 0xC02F, "ECDHE-RSA-AES128-SHA256": 0xC027,
    "AES128-SHA": 0x002F, "AES128-SHA256": 0x003C,
    "ECDHE-ECDSA-AES256-GCM-SHA384": 0xC02C, "ECDHE-RSA-AES256-GCM-SHA384": 0xC030,
    "PSK-AES256-GCM-SHA384": 0x00A9, "ECDHE-ECDSA-AES256-CCM": 0xC0AD,
    "ECDHE-ECDSA-AES256-CCM8": 0xC0AF, "PSK-AES256-CCM": 0xC0A5, "PSK-AES256-CCM8": 0xC0A9,
}
SUITE_NAMES = dict((v, k) for k, v in SUITES.items())
# TLS NamedGroup numbers (RFC 8422 5.1.1) of the ECDHE groups
GROUP_NAMES = {23: "secp256r1", 24: "secp384r1", 29: "x25519"}
# nxsecure/session_info.py's NXSECURE_CERT_* bits, as GLib names its flags
CERTIFICATE_ERROR_NAMES = ((0x01, "unknown-ca"), (0x02, "bad-identity"),
                           (0x04, "not-activated"), (0x08, "expired"), (0x10, "revoked"),
                           (0x20, "insecure"), (0x40, "generic-error"))
OPENSSL_SUITE_NAMES = dict((v, k) for k, v in _OPENSSL_NAMES.items())


def suite_id(suite):
    """A suite's number from its number, RFC name (TLS_PSK_WITH_AES_128_CCM_8) or
    OpenSSL name (PSK-AES128-CCM8); ValueError names the known ones."""
    if isinstance(suite, int) and suite in SUITE_NAMES:
        return suite
    if isinstance(suite, str):
        s = suite.strip()
        if s.upper() in SUITES:
            return SUITES[s.upper()]
        if s.upper() in _OPENSSL_NAMES:
            return _OPENSSL_NAMES[s.upper()]
        try:
            v = int(s, 16) if s.lower().startswith("0x") else None
        except ValueError:
            v = None
        if v in SUITE_NAMES:
            return v
    raise ValueError("unknown cipher suite %r; known: %s" % (
        suite, ", ".join(sorted(_OPENSSL_NAMES))))


def crypto_table(suites=None):
    """The crypto table for these suites (names or numbers, in preference order);
    None: every suite the platform has."""
    if not suites:
        return _table.nx_crypto_tls_ciphers
    if isinstance(suites, (str, int)):
        suites = [suites]
    return make_tls_crypto(port.crypto_backend(), [suite_id(s) for s in suites])


def _bytes(v, what):
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError("%s must be bytes or str, not %s" % (what, type(v).__name__))


def _psk_list(psk):
    """(identity, key) pairs from (identity, key), [(identity, key), ...] or
    {identity: key}; identities str or bytes, keys bytes."""
    if psk is None:
        return []
    if isinstance(psk, dict):
        items = list(psk.items())
    elif isinstance(psk, tuple) and len(psk) == 2 and not isinstance(psk[0], tuple):
        items = [psk]
    else:
        items = list(psk)
    out = []
    for ident, key in items:
        ident = _bytes(ident, "PSK identity")
        if isinstance(key, str):
            raise TypeError("a PSK key must be bytes (bytes.fromhex(...) for hex text)")
        key = _bytes(key, "PSK key")
        if not ident or not key:
            raise ValueError("a PSK needs a non-empty identity and key")
        out.append((ident, key))
    return out


def _read(path_or_data):
    if isinstance(path_or_data, (bytes, bytearray, memoryview)):
        return bytes(path_or_data)
    with open(path_or_data, "rb") as f:
        return f.read()


def load_certificates(data):
    """Every certificate in data (DER bytes, PEM text or a file name of either) as DER."""
    raw = _read(data)
    if b"-----BEGIN" in raw:
        from .x509.pem import pem_blocks
        st, blocks = pem_blocks(raw)
        ders = [d for label, d in blocks if label == "CERTIFICATE"]
        if st != NX_SUCCESS or not ders:
            raise ValueError("no certificate in %s" % _what(data))
        return ders
    return [raw]


def load_private_key(data):
    """A private key (DER or PEM; SEC 1 EC, PKCS#1 RSA or PKCS#8, unencrypted) as the
    DER the stack takes: (der, 'ec' or 'rsa')."""
    raw = _read(data)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    try:
        if b"-----BEGIN" in raw:
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as e:
        raise ValueError("cannot read the private key in %s: %s" % (_what(data), e))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        kind = "ec"
    elif isinstance(key, rsa.RSAPrivateKey):
        kind = "rsa"
    else:
        raise ValueError("%s: only EC and RSA keys are supported" % _what(data))
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return der, kind


def _what(data):
    return repr(data) if isinstance(data, str) else "the given data"


def _x509_cert(der, key=None):
    """An initialised NX_SECURE_X509_CERT over der (with its private key)."""
    from . import x509
    cert = x509.NX_SECURE_X509_CERT()
    if key is None:
        st = x509.nx_secure_x509_certificate_initialize(
            cert, der, len(der), None, 0, None, 0, x509.NX_SECURE_X509_KEY_TYPE_NONE)
    else:
        kder, kind = key
        ktype = (x509.NX_SECURE_X509_KEY_TYPE_EC_DER if kind == "ec"
                 else x509.NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER)
        st = x509.nx_secure_x509_certificate_initialize(cert, der, len(der), None, 0, kder,
                                                        len(kder), ktype)
    check(st, "certificate")
    return cert


class Certificate:
    """A certificate seen on the wire or loaded: `der`, `pem`, and readable fields
    (subject, issuer, serial, validity, public key, names) read with pyca."""

    def __init__(self, der):
        self.der = bytes(der)
        self._c = None

    def _x(self):
        if self._c is None:
            from cryptography import x509
            self._c = x509.load_der_x509_certificate(self.der)
        return self._c

    @property
    def pem(self):
        import base64
        b = base64.encodebytes(self.der).decode().replace("\n", "")
        lines = [b[i:i + 64] for i in range(0, len(b), 64)]
        return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines)

    @property
    def subject(self):
        return self._x().subject.rfc4514_string()

    @property
    def issuer(self):
        return self._x().issuer.rfc4514_string()

    @property
    def common_name(self):
        from cryptography.x509.oid import NameOID
        a = self._x().subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return a[0].value if a else None

    @property
    def serial_number(self):
        return self._x().serial_number

    @property
    def not_before(self):
        c = self._x()
        return getattr(c, "not_valid_before_utc", None) or c.not_valid_before

    @property
    def not_after(self):
        c = self._x()
        return getattr(c, "not_valid_after_utc", None) or c.not_valid_after

    @property
    def fingerprint(self):
        import hashlib
        return hashlib.sha256(self.der).hexdigest()

    @property
    def dns_names(self):
        from cryptography import x509
        try:
            ext = self._x().extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return ext.value.get_values_for_type(x509.DNSName)

    def __repr__(self):
        try:
            return "<Certificate %s>" % self.subject
        except Exception:           # not parseable by pyca: still show something
            return "<Certificate %d bytes>" % len(self.der)


# ============================================================================ the host
class _Host:
    """The NetX objects of this process's Pythonic layer: one packet pool, and one
    IP instance per local address sockets bind to."""

    def __init__(self, packets):
        self.pool = NX_PACKET_POOL()
        self._mem = bytearray(packets * (1536 + sizeof(NX_PACKET)))
        check(nx_packet_pool_create(self.pool, "nxsecure.api", 1536, self._mem, len(self._mem)),
              "packet pool")
        self.ips = {}

    def ip(self, host):
        """The IP instance for a bind address: '' or None both families (0.0.0.0 and
        ::), '0.0.0.0' / '::' one family's any address, else that address."""
        key = host or ""
        ip = self.ips.get(key)
        if ip is not None:
            return ip
        ip = NX_IP()
        if key == "":
            check(nx_ip_create(ip, "any", 0, 0, self.pool), "IP instance")
            if _has_ipv6():
                check(nxd_ipv6_address_set(ip, 0, "::", 0)[0], "IPv6 address")
        else:
            try:
                addr = NXD_ADDRESS(key)
            except ValueError:
                raise ValueError("not an IP address: %r" % host)
            check(nx_ip_create(ip, key, addr, 0, self.pool), "IP instance")
        check(nx_udp_enable(ip), "UDP")
        self.ips[key] = ip
        return ip


_host = [None]
_PACKETS = [512]


def configure(packets=None):
    """Size the layer's packet pool (default 512 packets of 1536 bytes) before the
    first server or connection is made: received records wait in it until the
    application takes them (a paused connection keeps up to 8)."""
    if packets is not None:
        if _host[0] is not None:
            raise RuntimeError("configure() must come before the first server or connection")
        if not isinstance(packets, int) or packets < 8:
            raise ValueError("packets must be an int >= 8")
        _PACKETS[0] = packets


def host():
    if _host[0] is None:
        _host[0] = _Host(_PACKETS[0])
    return _host[0]


_v6 = []


def _has_ipv6():
    if not _v6:
        try:
            s = _socket.socket(_socket.AF_INET6, _socket.SOCK_DGRAM)
            s.bind(("::1", 0))
            s.close()
            _v6.append(True)
        except OSError:
            _v6.append(False)
    return _v6[0]


def resolve(host_, port_):
    """(numeric address text, port) for a host name or address; ValueError if neither."""
    if not isinstance(port_, int) or not 0 < port_ < 65536:
        raise ValueError("port must be 1..65535, not %r" % (port_,))
    if not host_ or not isinstance(host_, str):
        raise ValueError("a host name or address is required")
    try:
        NXD_ADDRESS(host_)
        return host_, port_
    except ValueError:
        pass
    try:
        info = _socket.getaddrinfo(host_, port_, 0, _socket.SOCK_DGRAM)
    except _socket.gaierror as e:
        raise ValueError("cannot resolve %r: %s" % (host_, e))
    for fam in (_socket.AF_INET, _socket.AF_INET6):
        for i in info:
            if i[0] == fam:
                return i[4][0], port_
    raise ValueError("no IPv4 or IPv6 address for %r" % host_)


# ============================================================================ pumping
# Work after each pass of the pump, in the pump's context (a service called from there
# does not wait): _active holds the objects with pending handshakes (their _service()
# asks the stack whether they finished), _events the connections whose records wait
# for their on_data event (records are taken during the datagram; events run after
# it, when the stack is done with it, as NetX's notify callbacks do).
_active = set()
_events = collections.deque()


def _service_all():
    ev = _events
    while ev:
        ev.popleft()._flush()
    if _active:
        for obj in list(_active):
            obj._service()


def _block(condition, timeout):
    """Run the stack (datagrams, timers, events) until condition() holds or timeout
    seconds (None: no limit) pass; -> condition(). A blocking call of this layer."""
    def check_():
        if _active or _events:
            _service_all()
        return condition()
    if timeout is None:
        ticks = 0xFFFFFFFF
    else:
        ticks = int(timeout * NX_IP_PERIODIC_RATE + 0.999)
        if ticks <= 0:
            ticks = NX_NO_WAIT
    netx._wait(check_, ticks)
    return bool(condition())


def run(seconds):
    """Let the stack and this layer's events run for `seconds` (blocking)."""
    _block(_never, seconds)


def _never():
    return False


# ============================================================================ connections
class DTLSConnection:
    """One DTLS association, client or server side: send and receive records, the
    negotiated parameters, close. Made by connect() (client) or handed out by a
    DTLSServer's events (server side). Records are datagrams: each send() is one record
    and each recv() returns one."""

    def __init__(self, session, address, server=None):
        self._session = session
        self.address = address          # the peer: (host, port)
        self.server = server
        self._rxq = collections.deque()
        self._paused = False
        self._state = "handshake"      # handshake, connected, closed
        self.error = None              # the DTLSError that ended it, if one did
        self._info = None
        self.peer_certificate = None
        self._peer_ip = None            # NXD_ADDRESS and port for client sends
        self._peer_port = 0
        self._waiter = None             # asyncio future of a pending recv (aio)
        self._socket = None             # client: its NX_UDP_SOCKET
        self._alert = None              # the last alert received, once the session is gone
        self._evented = False           # in _events: records wait for on_data
        self.started = time.monotonic()
        self.handshake_seconds = None

    # --- state ------------------------------------------------------------------------
    @property
    def connected(self):
        return self._state == "connected"

    @property
    def closed(self):
        return self._state == "closed"

    @property
    def paused(self):
        return self._paused

    def __repr__(self):
        return "<DTLSConnection %s:%d %s%s>" % (self.address[0], self.address[1], self._state,
                                                 " %s" % self.cipher_suite if self._info else "")

    # --- negotiated parameters --------------------------------------------------------
    @property
    def cipher_suite(self):
        """The negotiated suite's RFC name (None before the handshake)."""
        i = self._info
        return SUITE_NAMES.get(i["suite"]) if i else None

    @property
    def cipher_suite_id(self):
        i = self._info
        return i["suite"] if i else None

    @property
    def version(self):
        return "DTLSv1.2" if self._info else None

    @property
    def psk_identity(self):
        """The PSK identity the handshake used (PSK suites), else None."""
        i = self._info
        return i["psk_identity"] if i else None

    @property
    def extended_master_secret(self):
        i = self._info
        return i["ems"] if i else None

    @property
    def key_exchange_group(self):
        """The ECDHE group's name ("secp256r1", "secp384r1", "x25519"), None for a suite
        without one (PSK, RSA) or before the handshake."""
        i = self._info
        return GROUP_NAMES.get(i["group"]) if i else None

    @property
    def peer_certificate_chain(self):
        """The peer's chain as sent (its own certificate first), Certificate objects;
        [] without one. After a refused chain: DTLSError.peer_certificate_chain."""
        i = self._info
        return [Certificate(d) for d in i["chain"]] if i else []

    @property
    def max_record_size(self):
        """The largest plaintext one send() takes (the MTU minus the record overhead)."""
        s = self._session
        return _max_plaintext(s) if s is not None else 0

    @property
    def last_alert(self):
        """(level, description, name) of the last alert the peer sent, or None."""
        s = self._session
        a = _status.last_alert(s) if s is not None else self._alert
        return None if a is None else (a[0], a[1], _status.alert_name(a[1]))

    def info(self):
        """The negotiated parameters as a dict (for logging)."""
        return {"address": self.address, "version": self.version,
                "cipher_suite": self.cipher_suite, "psk_identity": self.psk_identity,
                "extended_master_secret": self.extended_master_secret,
                "key_exchange_group": self.key_exchange_group,
                "peer_certificate": self.peer_certificate, "max_record_size":
                self.max_record_size}

    # --- data -------------------------------------------------------------------------
    def _send(self, data):
        """Send data (bytes-like) as one record of at most max_record_size bytes.
        Raises DTLSError when the connection is not up or the record does not fit."""
        s = self._session
        if self._state != "connected" or s is None:
            raise self._not_connected("send")
        if not data:
            return                        # an empty record carries nothing
        # One application record straight from data: copied into one buffer shared by
        # every session (it stays in the cache however many sessions there are), sealed
        # there and sent by the engine (send_app); no packet from the pool
        # (nx_secure_dtls_session_send's work without the packet).
        e = s._engine
        rl = e.record
        n = len(data)
        if n > e.mtu - rl.overhead1:
            st = NX_INVALID_PARAMETERS
        else:
            pre = rl.prefix1
            lock = netx._lock
            lock.acquire()
            try:
                _SEND[pre:pre + n] = data
                st = e.send_app(_SEND, 0, n)
            except NxError as err:
                st = err.code
            finally:
                lock.release()
        if st != NX_SUCCESS:
            if st == NX_INVALID_PARAMETERS:
                raise DTLSError(st, "send: a record of %d bytes does not fit "
                                "(max_record_size is %d)" % (len(data), self.max_record_size))
            raise DTLSError(st, "send")

    send = _send
    send_nowait = _send

    def recv(self, timeout=None):
        """The next record's data, waiting up to timeout seconds (None: no limit) while
        the stack runs. b'' once the peer closed the connection (close_notify) or it
        was closed here; DTLSError if it failed; DTLSTimeout when the time runs out."""
        if self._rxq:
            return self._rxq.popleft()
        if self._state == "closed":
            return self._eof()
        _block(self._readable, timeout)
        if self._rxq:
            return self._rxq.popleft()
        if self._state == "closed":
            return self._eof()
        raise DTLSTimeout(NX_CONTINUE, "recv: nothing within %s s" % timeout)

    def __iter__(self):
        """Records until the connection ends (a failure raises)."""
        while True:
            data = self.recv()
            if not data and self.closed:
                return
            yield data

    def _readable(self):
        return bool(self._rxq) or self._state == "closed"

    def _eof(self):
        if self.error is not None:
            raise self.error
        return b""

    def pause(self):
        """Stop taking this connection's records from the stack: they wait in its
        session (up to 8; the stack drops what comes beyond) until resume()."""
        if not self._paused:
            self._paused = True
            if self._session is not None:
                _unhook(self._session)

    def resume(self):
        """Deliver what waited and go on delivering."""
        if self._paused:
            self._paused = False
            s = self._session
            if s is not None and self._state == "connected":
                self._flush()
                self._drain()
                self._hook()

    def _close(self):
        """Send close_notify (if it is up) and free the session. Idempotent."""
        s = self._session
        was = self._state
        self._ended(None)
        _active.discard(self)
        if s is not None:
            self._release(s)
            if self.server is not None:
                self.server._closed_here(self, was)

    close = _close

    # --- used by the server and the drivers ---------------------------------------------
    def _not_connected(self, what):
        if self.error is not None:
            return self.error
        return DTLSError(NX_NOT_CONNECTED, what + ": the connection is " + self._state)

    def _established(self):
        s = self._session
        self._state = "connected"
        self.handshake_seconds = time.monotonic() - self.started
        self._info = _negotiated(s)
        der = _peer_certificate_der(s)
        self.peer_certificate = Certificate(der) if der is not None else None
        if not self._paused:
            self._hook()
        self._wake()

    def _hook(self):
        """Take the session's records as they are decrypted (_sink), and, for a
        client, hear of its end (_client_event): see "stack internals"."""
        s = self._session
        s._dtls_app_data = self._sink
        if self.server is None:
            s._dtls_event = self._client_event

    def _sink(self, buf, off, n, packet):
        """The engine's _dtls_app_data for this session: one decrypted record."""
        if n:
            self._rxq.append(bytes(buf[off:off + n]))
            srv = self.server
            if srv is not None and srv._on_data is not None:
                if not self._evented:
                    self._evented = True
                    _events.append(self)
            else:
                w = self._waiter
                if w is not None:
                    self._waiter = None
                    if not w.done():
                        w.set_result(None)
        return True

    def _flush(self):
        """After the datagram: this connection's records to on_data."""
        self._evented = False
        srv = self.server
        fn = srv._on_data if srv is not None else None
        q = self._rxq
        if fn is None:
            if q:
                self._wake()
            return
        while q and not self._paused:
            data = q.popleft()
            try:
                fn(self, data)
            except Exception as e:       # an event handler must not stop the server
                srv._log(ERROR, "on_data raised %r" % (e,))

    def _client_event(self, code):
        """The engine's _dtls_event for a client session: close_notify or a fatal
        error ends the connection."""
        s = self._session
        NX_SECURE_DTLS_SESSION._dtls_event(s, code)
        if code != NX_SUCCESS and self._state == "connected":
            self._ended(None if code == NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED else
                        DTLSError(code, "connection", _status.last_alert(s)))

    def _ended(self, error):
        """The association is over (error None: orderly). Wakes a pending receiver."""
        if self._state == "closed":
            return
        self._state = "closed"
        if self._session is not None:
            self._alert = _status.last_alert(self._session)
        if error is not None and self.error is None:
            self.error = error
        self._wake()

    def _release(self, s):
        """End the session in the stack (close_notify if it is up) and forget it."""
        self._session = None
        _unhook(s)
        nx_secure_dtls_session_end(s, NX_NO_WAIT)
        if self.server is None:
            nx_secure_dtls_session_delete(s)
            sock = self._socket
            if sock.nx_udp_socket_port:
                nx_udp_socket_unbind(sock)
            nx_udp_socket_delete(sock)

    def _deliver(self, data):
        """A record taken from the session's queue (not through _sink)."""
        self._rxq.append(data)
        srv = self.server
        if srv is not None and srv._on_data is not None:
            self._flush()
        else:
            self._wake()

    def _wake(self):
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    def _drain(self, keep=False):
        """Take every record waiting in the session (unless paused) and deliver it;
        keep: queue them for recv() without events (the connection is ending)."""
        s = self._session
        if s is None or (self._paused and not keep):
            return
        while _queued(s):
            st, pkt = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
            if st != NX_SUCCESS:
                break
            data = _packet_bytes(pkt)
            nx_packet_release(pkt)
            if not data:
                continue
            if keep:
                self._rxq.append(data)
            else:
                self._deliver(data)


# ============================================================================ the client
class _ClientConfig:
    """What a client session is created with (shared by api.connect and aio.connect)."""

    def __init__(self, psk=None, cafile=None, certfile=None, keyfile=None, suites=None,
                 server_hostname=None, mtu=None, keylog=None):
        self.psk = _psk_list(psk)
        if len(self.psk) > 1:
            raise ValueError("a client takes one PSK: (identity, key)")
        self.trusted = []
        if cafile is not None:
            for item in (cafile if isinstance(cafile, (list, tuple)) else [cafile]):
                self.trusted.extend(load_certificates(item))
        self.local = None
        if certfile is not None or keyfile is not None:
            if certfile is None or keyfile is None:
                raise ValueError("a client certificate needs both certfile and keyfile")
            self.local = (load_certificates(certfile), load_private_key(keyfile))
        if not self.psk and not self.trusted:
            raise ValueError("a client needs a PSK (psk=(identity, key)) or a trusted CA "
                             "(cafile=...)")
        self.table = crypto_table(suites)
        self.server_hostname = server_hostname
        self.mtu = mtu
        self.keylog = keylog


def _new_client(host_, port_, config, bind=None, cls=DTLSConnection):
    """A connection (cls) whose session is created, credentialed and not yet started."""
    addr, port_ = resolve(host_, port_)
    nxd = NXD_ADDRESS(addr)
    v6 = ":" in addr
    h = host()
    ip = h.ip(bind if bind else ("::" if v6 else "0.0.0.0"))
    session = NX_SECURE_DTLS_SESSION()
    st, md = nx_secure_tls_metadata_size_calculate(config.table)
    check(st, "crypto table")
    certs = bool(config.trusted or config.local)
    mem = (bytearray(md), bytearray(_REASSEMBLY),
           bytearray(_REMOTE_CERT_SPACE) if certs else None)
    check(nx_secure_dtls_session_create(session, config.table, mem[0], len(mem[0]), mem[1],
                                        len(mem[1]), _REMOTE_CERTS if certs else 0, mem[2],
                                        len(mem[2]) if certs else 0), "session")
    conn = cls(session, (addr, port_))
    conn._mem = mem
    conn._peer_ip = nxd
    conn._peer_port = port_
    try:
        for ident, key in config.psk:
            check(nx_secure_dtls_psk_add(session, key, len(key), ident, len(ident), None, 0),
                  "PSK")
        if certs:
            _client_certificates(conn, config)
        if config.mtu is not None:
            check(nxsecure_dtls_session_mtu_set(session, config.mtu), "MTU %r" % config.mtu)
        if config.keylog is not None:
            nxsecure_dtls_session_keylog_set(session, _keylog_writer(config.keylog))
        sock = NX_UDP_SOCKET()
        check(nx_udp_socket_create(ip, sock, "nxsecure.api client", NX_IP_NORMAL,
                                   NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 64), "UDP socket")
        conn._socket = sock
    except BaseException:
        nx_secure_dtls_session_delete(session)
        raise
    return conn


def _client_certificates(conn, config):
    from . import certs as _certs
    s = conn._session
    keep = []
    for i, der in enumerate(config.trusted, 1):
        c = _x509_cert(der)
        keep.append(c)
        check(_certs.nx_secure_dtls_session_trusted_certificate_add(s, c, i), "trusted CA")
    if config.local is not None:
        ders, key = config.local
        c = _x509_cert(ders[0], key)
        keep.append(c)
        check(_certs.nx_secure_dtls_session_local_certificate_add(s, c, 1), "certificate")
        for i, der in enumerate(ders[1:], 2):      # its issuers, sent with it
            c = _x509_cert(der)
            keep.append(c)
            check(_certs.nx_secure_dtls_session_local_certificate_add(s, c, i), "certificate")
    name = config.server_hostname
    if name:
        # the stack sends it (server_name, RFC 6066 3) and checks the certificate for it
        from .sni import nxsecure_dtls_session_sni_extension_set
        from .x509 import NX_SECURE_X509_DNS_NAME, nx_secure_x509_dns_name_initialize
        n = name.encode()
        d = NX_SECURE_X509_DNS_NAME()
        check(nx_secure_x509_dns_name_initialize(d, n, len(n)), "server name")
        check(nxsecure_dtls_session_sni_extension_set(s, d), "server name")
    conn._certs = keep


def _start(conn, wait):
    """nx_secure_dtls_client_session_start (again); -> status."""
    return nx_secure_dtls_client_session_start(conn._session, conn._socket, conn._peer_ip,
                                               conn._peer_port, wait)


def _client_result(conn, st):
    """Act on a client handshake status: established, still going (False), or failed
    (the session is released and the error kept). -> True when settled."""
    if st == NX_CONTINUE:
        return False
    _active.discard(conn)
    if st == NX_SUCCESS:
        conn._established()
        log.info("connected to %s:%d, %s", conn.address[0], conn.address[1],
                 conn.cipher_suite)
        conn._drain()              # records that came with the server's Finished
        return True
    s = conn._session
    alert = _status.last_alert(s) if s is not None else None
    err = error_for(st, "handshake with %s:%d" % conn.address, alert)
    if s is not None:
        flags = _certificate_flags(s)
        err.certificate_errors = tuple(n for b, n in CERTIFICATE_ERROR_NAMES if flags & b)
        err.peer_certificate_chain = [Certificate(d) for d in _peer_chain(s)]
        if err.certificate_errors:
            err.args = (err.args[0] + "; certificate: " + ", ".join(err.certificate_errors),)
    log.info("%s", err)
    conn._ended(err)
    if s is not None:
        conn._release(s)
    return True


def _client_service(conn):
    s = conn._session
    if s is None:
        _active.discard(conn)
        return
    _client_result(conn, _start(conn, NX_NO_WAIT))


DTLSConnection._service = _client_service


def connect(host_, port_=DEFAULT_PORT, psk=None, cafile=None, certfile=None, keyfile=None,
            suites=None, server_hostname=None, mtu=None, keylog=None, timeout=10.0, bind=None,
            trace=False):
    """Open a DTLS client connection (blocking): -> DTLSConnection once the handshake is
    done. psk=(identity, key) and/or cafile= (CA certificates, PEM or DER; with
    certfile/keyfile for a client certificate); suites: names or numbers to offer;
    server_hostname: the name the server's certificate must carry. Raises DTLSRefused
    (nothing listens there), DTLSTimeout, or DTLSError with the NetX code."""
    config = _ClientConfig(psk, cafile, certfile, keyfile, suites, server_hostname, mtu,
                           keylog)
    conn = _new_client(host_, port_, config, bind)
    if trace:
        _trace(conn)
    st = _start(conn, NX_NO_WAIT)
    if not _client_result(conn, st):
        _active.add(conn)
        if not _block(conn._settled, timeout):
            _active.discard(conn)
            s = conn._session
            conn._ended(DTLSTimeout(NX_CONTINUE, "handshake with %s:%d: not finished in %s s"
                                    % (conn.address[0], conn.address[1], timeout)))
            if s is not None:
                conn._release(s)
    if conn.error is not None:
        raise conn.error
    return conn


def _settled(conn):
    return conn._state != "handshake"


DTLSConnection._settled = _settled


def _keylog_writer(keylog):
    """A key log line writer from a file name (appended) or a callable."""
    if callable(keylog):
        return keylog
    f = open(keylog, "a")

    def write(line):
        f.write(line)
        f.flush()
    return write


# ============================================================================ the server
class DTLSServer:
    """A DTLS server on one UDP port with the events a gateway needs. Override the
    on_* methods in a subclass, or assign functions to them on an instance (same
    arguments without self):

      on_connection_request(address) -> bool   a cookie-verified client asks; False rejects
                                               it with an access_denied alert
      on_client_certificate(conn, certificate) -> bool
                                               the client's chain verified; False rejects
      on_connected(conn)                       the handshake is done
      on_data(conn, data)                      a record arrived (default: queued for
                                               conn.recv())
      on_disconnected(conn, reason)            an established connection ended: reason None
                                               (close_notify, or closed here) or a DTLSError
                                               (idle timeout, fatal alert, ...)
      on_error(conn, error)                    a handshake failed (conn) or the server is
                                               full (conn None); error is a DTLSError
      on_log(level, message)                   what the server logs (also to the logging
                                               module's "nxsecure" logger)

    connections: {(host, port): DTLSConnection} of the established connections.
    Run it with serve_forever() / run(seconds) (blocking), or nxsecure.aio."""

    connection_class = DTLSConnection

    def __init__(self, host=None, port=DEFAULT_PORT, psk=None, psk_hint=None, certfile=None,
                 keyfile=None, cafile=None, verify_clients=False, suites=None, mtu=None,
                 max_connections=16, idle_timeout=120.0, handshake_timeout=None, keylog=None,
                 trace=False):
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError("port must be 1..65535, not %r" % (port,))
        if not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError("max_connections must be an int >= 1")
        if idle_timeout is not None and idle_timeout < 0:
            raise ValueError("idle_timeout must be >= 0 seconds (0 or None: off)")
        self.host = host
        self.port = port
        self._psk = _psk_list(psk)
        self._hint = _bytes(psk_hint, "PSK hint") if psk_hint else None
        self._local = None
        if certfile is not None or keyfile is not None:
            if certfile is None or keyfile is None:
                raise ValueError("a server certificate needs both certfile and keyfile")
            self._local = (load_certificates(certfile), load_private_key(keyfile))
        self._trusted = []
        if cafile is not None:
            for item in (cafile if isinstance(cafile, (list, tuple)) else [cafile]):
                self._trusted.extend(load_certificates(item))
        if verify_clients and not self._trusted:
            raise ValueError("verify_clients needs the CA that issues client certificates "
                             "(cafile=...)")
        if not self._psk and self._local is None:
            raise ValueError("a server needs a PSK (psk={identity: key}) or a certificate "
                             "(certfile=, keyfile=)")
        self._verify = bool(verify_clients)
        self._table = crypto_table(suites)
        self._mtu = mtu
        self.max_connections = max_connections
        self._idle = idle_timeout or 0
        self._hs_timeout = handshake_timeout
        self._keylog = keylog
        self._trace_on = trace
        self.connections = {}
        self._by_session = {}
        self._pending = set()
        self._server = None
        self.listening = False
        self._on_data = getattr(self, "on_data", None)

    # --- events (override or assign) ----------------------------------------------------
    def on_connection_request(self, address):
        return True

    def on_client_certificate(self, conn, certificate):
        return True

    def on_connected(self, conn):
        pass

    def on_disconnected(self, conn, reason):
        pass

    def on_error(self, conn, error):
        pass

    def on_log(self, level, message):
        pass

    # on_data: not a method, so that the default queues records for conn.recv() with
    # no call per record; assign a function (or define on_data in a subclass) to get
    # each record as an event.
    def __setattr__(self, key, value):
        object.__setattr__(self, key, value)
        if key == "on_data":
            object.__setattr__(self, "_on_data", value)

    # --- life cycle ---------------------------------------------------------------------
    def start(self):
        """Create the server in the stack and bind its port; DTLSError (e.g.
        NX_PORT_UNAVAILABLE) when it cannot."""
        if self.listening:
            return
        from .server import (NX_SECURE_DTLS_SERVER, nx_secure_dtls_server_create,
                             nx_secure_dtls_server_start, nx_secure_dtls_server_psk_add,
                             nx_secure_dtls_server_notify_set,
                             nxsecure_dtls_server_idle_timeout_set, nxsecure_dtls_server_mtu_set,
                             nxsecure_dtls_server_keylog_set,
                             nxsecure_dtls_server_handshake_timeout_set,
                             nx_secure_dtls_server_delete)
        ip = host().ip(self.host)
        n = self.max_connections
        st, md = nx_secure_tls_metadata_size_calculate(self._table)
        check(st, "crypto table")
        self._mem = (bytearray(sizeof(NX_SECURE_DTLS_SESSION) * n), bytearray(md * n),
                     bytearray(_REASSEMBLY * n))
        sbuf, mbuf, rbuf = self._mem
        srv = NX_SECURE_DTLS_SERVER()
        check(nx_secure_dtls_server_create(srv, ip, self.port, NX_IP_PERIODIC_RATE, sbuf,
                                           len(sbuf), self._table, mbuf, len(mbuf), rbuf,
                                           len(rbuf), self._connect_notify,
                                           self._receive_notify), "server")
        try:
            nx_secure_dtls_server_notify_set(srv, self._disconnect_notify, self._error_notify)
            for ident, key in self._psk:
                hint = self._hint
                check(nx_secure_dtls_server_psk_add(srv, key, len(key), ident, len(ident), hint,
                                                    len(hint) if hint else 0), "PSK")
            if self._local is not None or self._verify:
                self._server_certificates(srv)
            if self._idle:
                check(nxsecure_dtls_server_idle_timeout_set(
                    srv, int(self._idle * NX_IP_PERIODIC_RATE + 0.5)), "idle timeout")
            if self._hs_timeout:
                check(nxsecure_dtls_server_handshake_timeout_set(
                    srv, int(self._hs_timeout * NX_IP_PERIODIC_RATE + 0.5)), "handshake timeout")
            if self._mtu is not None:
                check(nxsecure_dtls_server_mtu_set(srv, self._mtu), "MTU %r" % self._mtu)
            if self._keylog is not None:
                nxsecure_dtls_server_keylog_set(srv, _keylog_writer(self._keylog))
            st = nx_secure_dtls_server_start(srv)
            if st != NX_SUCCESS:
                raise DTLSError(st, "listening on %s port %d" % (self.host or "*", self.port))
        except BaseException:
            nx_secure_dtls_server_delete(srv)
            raise
        self._server = srv
        self.listening = True
        self._log(INFO, "listening on %s port %d (%d sessions)" % (
            self.host or "all addresses", self.port, n))

    def _server_certificates(self, srv):
        from . import certs as _certs
        keep = []
        if self._local is not None:
            ders, key = self._local
            c = _x509_cert(ders[0], key)
            keep.append(c)
            check(_certs.nx_secure_dtls_server_local_certificate_add(srv, c, 1), "certificate")
            for i, der in enumerate(ders[1:], 2):
                c = _x509_cert(der)
                keep.append(c)
                check(_certs.nx_secure_dtls_server_local_certificate_add(srv, c, i),
                      "certificate")
        for i, der in enumerate(self._trusted, 1):
            c = _x509_cert(der)
            keep.append(c)
            check(_certs.nx_secure_dtls_server_trusted_certificate_add(srv, c, i), "trusted CA")
        if self._verify:
            n = self.max_connections
            self._client_certs = bytearray(_REMOTE_CERT_SPACE * n)
            check(_certs.nx_secure_dtls_server_x509_client_verify_configure(
                srv, _REMOTE_CERTS, self._client_certs, len(self._client_certs)),
                "client verification")
            _certs.nxsecure_dtls_server_certificate_callback_set(srv, self._certificate_check)
        self._certs = keep

    def stop(self):
        """Close every connection (close_notify) and release the port."""
        if not self.listening:
            return
        from .server import nx_secure_dtls_server_stop, nx_secure_dtls_server_delete
        for conn in list(self._by_session.values()):
            conn._close()
        self._pending.clear()
        _active.discard(self)
        nx_secure_dtls_server_stop(self._server)
        nx_secure_dtls_server_delete(self._server)
        self._server = None
        self.listening = False
        self._log(INFO, "stopped")

    close = stop

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def address(self):
        """(host, port) the server listens on."""
        return (self.host or "", self.port)

    def serve_forever(self):
        """Run the server (blocking) until stop() is called from an event."""
        self.start()
        while self.listening:
            _block(self._stopped, 1.0)

    def run(self, seconds):
        """Run the server and every connection of this layer for `seconds` (blocking)."""
        self.start()
        _block(self._stopped, seconds)

    def _stopped(self):
        return not self.listening

    # --- sending --------------------------------------------------------------------------
    def send(self, conn, data):
        """Send one record to a connection (a DTLSConnection or its (host, port))."""
        if not isinstance(conn, DTLSConnection):
            c = self.connections.get(tuple(conn))
            if c is None:
                raise DTLSError(NX_NOT_CONNECTED, "send: no connection from %r" % (conn,))
            conn = c
        conn._send(data)

    def send_all(self, data):
        """Send one record to every established connection; -> how many it reached."""
        n = 0
        for conn in list(self.connections.values()):
            try:
                conn._send(data)
                n += 1
            except DTLSError as e:
                self._log(WARNING, "send to %s:%d failed: %s" % (conn.address + (e,)))
        return n

    def disconnect(self, conn):
        """End a connection (close_notify)."""
        if not isinstance(conn, DTLSConnection):
            conn = self.connections.get(tuple(conn))
        if conn is not None:
            conn._close()

    # --- the NetX callbacks ---------------------------------------------------------------
    def _connect_notify(self, session, ip_address, udp_port):
        addr = _address(session)
        try:
            ok = self.on_connection_request(addr)
        except Exception as e:
            self._log(ERROR, "on_connection_request raised %r: rejected" % (e,))
            ok = False
        old = self._by_session.pop(session, None)
        if old is not None:               # the session's previous client (restarted)
            _unhook(session)
            old._session = None
            old._ended(None)
            self._gone(old, None)
        if not ok:
            self._log(INFO, "%s:%d rejected by on_connection_request" % addr)
            _reject(session, AD_ACCESS_DENIED)
            return NX_SUCCESS
        conn = self.connection_class(session, addr, self)
        if self._trace_on:
            _trace(conn)
        self._by_session[session] = conn
        self._pending.add(conn)
        _active.add(self)
        self._log(DEBUG, "%s:%d: handshake" % addr)
        from .server import nx_secure_dtls_server_session_start
        self._handshake_step(conn, nx_secure_dtls_server_session_start(session, NX_NO_WAIT))
        return NX_SUCCESS

    def _service(self):
        """After a pass of the pump: pending handshakes that finished."""
        from .server import nx_secure_dtls_server_session_start
        for conn in list(self._pending):
            s = conn._session
            if s is None:
                self._pending.discard(conn)
                continue
            self._handshake_step(conn, nx_secure_dtls_server_session_start(s, NX_NO_WAIT))
        if not self._pending:
            _active.discard(self)

    def _handshake_step(self, conn, st):
        if st == NX_CONTINUE:
            return
        self._pending.discard(conn)
        s = conn._session
        if st == NX_SUCCESS:
            conn._established()
            self.connections[conn.address] = conn
            self._log(INFO, "%s:%d connected: %s%s" % (
                conn.address + (conn.cipher_suite, ", identity %r" % conn.psk_identity
                                if conn.psk_identity else "")))
            self._event(self.on_connected, conn)
            if conn._session is not None and not conn._paused:
                conn._drain()          # records that came with the client's Finished
            return
        err = error_for(st, "handshake with %s:%d" % conn.address,
                        _status.last_alert(s) if s is not None else None)
        self._log(INFO, "%s" % err)
        self._by_session.pop(s, None)
        conn._ended(err)
        conn._session = None
        self._event(self.on_error, conn, err)

    def _receive_notify(self, session):
        conn = self._by_session.get(session)
        if conn is None:
            return NX_SUCCESS
        if conn._state == "handshake":
            from .server import nx_secure_dtls_server_session_start
            self._handshake_step(conn, nx_secure_dtls_server_session_start(session, NX_NO_WAIT))
        if conn._state == "connected" and not conn._paused:
            conn._drain()
        return NX_SUCCESS

    def _disconnect_notify(self, session):
        conn = self._by_session.get(session)
        if conn is None:
            return NX_SUCCESS
        if _status.last_alert(session) == (1, AD_CLOSE_NOTIFY):
            reason = None
            self._log(INFO, "%s:%d closed by the peer" % conn.address)
        else:
            reason = DTLSTimeout(NX_NO_RESPONSE, "%s:%d idle for %s s" % (
                conn.address + (self._idle,)))
            self._log(INFO, str(reason))
        self._finish(conn, session, reason)
        return NX_SUCCESS

    def _error_notify(self, session, code):
        if session is None:
            err = DTLSError(code, "a new client")
            self._log(WARNING, "server full (%d sessions): %s" % (self.max_connections, err)
                      if code == NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS else str(err))
            self._event(self.on_error, None, err)
            return NX_SUCCESS
        conn = self._by_session.get(session)
        if conn is None:
            return NX_SUCCESS
        err = error_for(code, "%s:%d" % conn.address, _status.last_alert(session))
        if conn._state == "handshake":
            self._pending.discard(conn)
            self._by_session.pop(session, None)
            self._log(INFO, "handshake with %s:%d failed: %s" % (conn.address + (err,)))
            conn._ended(err)
            conn._session = None
            self._event(self.on_error, conn, err)
            return NX_SUCCESS
        self._log(INFO, str(err))
        self._finish(conn, session, err)
        return NX_SUCCESS

    def _finish(self, conn, session, reason):
        """An established connection ended in the stack: deliver what it left (a
        paused connection keeps it for recv()), then the event. Its session is reused
        once its data is taken, so all of it is taken here."""
        _unhook(session)
        conn._drain(keep=True)
        self._by_session.pop(session, None)
        was = conn._state
        conn._ended(reason)
        conn._session = None
        if was == "connected":
            self._gone(conn, reason)

    def _gone(self, conn, reason):
        if self.connections.get(conn.address) is conn:
            del self.connections[conn.address]
            self._event(self.on_disconnected, conn, reason)

    def _closed_here(self, conn, was):
        for s, c in list(self._by_session.items()):
            if c is conn:
                del self._by_session[s]
        self._pending.discard(conn)
        if was == "connected":
            self._log(INFO, "%s:%d closed here" % conn.address)
            self._gone(conn, None)

    def _certificate_check(self, session, certificate):
        conn = self._by_session.get(session)
        der = _cert_der(certificate)
        try:
            ok = self.on_client_certificate(conn, Certificate(der))
        except Exception as e:
            self._log(ERROR, "on_client_certificate raised %r: rejected" % (e,))
            ok = False
        if not ok:
            self._log(INFO, "client certificate rejected by on_client_certificate")
            return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        return NX_SUCCESS

    def _event(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:           # an event handler must not stop the server
            self._log(ERROR, "%s raised %r" % (getattr(fn, "__name__", "event"), e))

    def _log(self, level, message):
        log.log(level, message)
        try:
            self.on_log(level, message)
        except Exception:
            pass


def _address(session):
    st, nxd, peer_port, local = nx_secure_dtls_session_client_info_get(session)
    if st != NX_SUCCESS:
        return ("", 0)
    return (str(_nxd_text(nxd)), peer_port)


def _nxd_text(nxd):
    if nxd.nxd_ip_version == 4:
        return netx._v4_str(nxd.nxd_ip_address.v4)
    return netx_ext._v6_str(nxd.nxd_ip_address.v6)


# ============================================================================ trace
_MESSAGES = {0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest",
             11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
             14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange",
             20: "Finished"}


def _trace(conn):
    """Log the handshake of a connection at DEBUG to the "nxsecure.trace" logger:
    messages sent, state changes with the message that caused them, retransmissions,
    alerts both ways."""
    from . import dtls
    tlog = logging.getLogger("nxsecure.trace")
    e = _engine(conn._session)
    if e is None:
        return
    who = "%s:%d" % conn.address
    names = dict((getattr(dtls, n), n) for n in dir(dtls)
                 if n.isupper() and n[:2] in ("C_", "S_") or n in ("IDLE", "CONNECTED",
                                                                   "CLOSED", "ERROR"))
    ccs_to = (getattr(dtls, "C_WAIT_FINISHED", None), getattr(dtls, "S_WAIT_FINISHED", None))

    def state_change(session, old, new, msg):
        states = (names.get(old, old), names.get(new, new))
        if msg is None:
            tlog.debug("%s state %s -> %s", who, *states)
            return
        what = "ChangeCipherSpec" if msg == 20 and new in ccs_to else \
            _MESSAGES.get(msg, "message %s" % msg)
        tlog.debug("%s <- %s (state %s -> %s)", who, what, *states)
    nxsecure_dtls_session_trace_set(conn._session, state_change)

    def wrap(obj, name, make):
        fn = getattr(obj, name, None)
        if fn is not None:
            setattr(obj, name, make(fn))

    def flight_add(fn):
        def f(segs, size):
            t = segs[0][0]
            tlog.debug("%s -> %s (%d bytes)", who, _MESSAGES.get(t, "message %d" % t), size)
            return fn(segs, size)
        return f

    def flight_ccs(fn):
        def f():
            tlog.debug("%s -> ChangeCipherSpec", who)
            return fn()
        return f

    def expired(fn):
        def f(now):
            tlog.debug("%s: the retransmission timer expired", who)
            return fn(now)
        return f

    def on_alert(fn):
        def f(epoch, buf, off, n):
            if n == 2:
                tlog.debug("%s <- alert: %s", who, _status.describe_alert(buf[off], buf[off + 1]))
            return fn(epoch, buf, off, n)
        return f

    def send_alert(fn):
        def f(level, desc):
            tlog.debug("%s -> alert: %s", who, _status.describe_alert(level, desc))
            return fn(level, desc)
        return f

    fl = getattr(e, "flight", None)
    if fl is not None:
        wrap(fl, "add", flight_add)
        wrap(fl, "ccs", flight_ccs)
        wrap(fl, "expired", expired)
    wrap(e, "_on_alert", on_alert)
    wrap(e, "send_alert", send_alert)


# ============================================================================ stack internals
# The only places this layer reaches below the NetX services. Kept here, together, for
# the protocol core's redesign to keep (or replace) them:
# - the engine's owner interface (dtls.Dtls docstring): a connected session's
#   _dtls_app_data(buf, off, n, packet) and, for a client, _dtls_event(code) are
#   replaced on the instance (DTLSConnection._hook / _unhook), so records come
#   straight to the connection and its end is heard without polling;
# - e.record (prefix1, overhead1), e.mtu and e.send_app to send a record
#   (DTLSConnection._send); netx._lock;
# - session._rx_head (records queued in the session), packet._buf and its
#   nx_packet_prepend_ptr / nx_packet_append_ptr;
# - e.suite, e.ems, e.psk_identity, e.max_plaintext(), e.alert_in (via status),
#   e._fail (rejecting a client), session._store (the peer's certificate);
# - the trace (nxsecure_dtls_session_trace_set for the state changes) also wraps
#   e.flight.add / .ccs / .expired, e._on_alert and e.send_alert on their instances
#   to show what is sent, retransmissions and alerts.
def _engine(session):
    return getattr(session, "_engine", None)


_SEND = memoryview(bytearray(1600))     # DTLSConnection._send seals in it, under the stack lock


def _unhook(session):
    """Give the session its own _dtls_app_data / _dtls_event back (the class's)."""
    d = session.__dict__
    d.pop("_dtls_app_data", None)
    d.pop("_dtls_event", None)


def _queued(session):
    """Does the session hold a received record? (so that a drain never calls
    nx_secure_dtls_session_receive on an empty queue: outside the pump that polls)"""
    return session._rx_head is not None


def _packet_bytes(pkt):
    return bytes(pkt._buf[pkt.nx_packet_prepend_ptr:pkt.nx_packet_append_ptr])


def _max_plaintext(session):
    e = _engine(session)
    return e.max_plaintext() if e is not None else 0


def _negotiated(session):
    """What the handshake agreed (nxsecure/session_info.py), and the peer's chain."""
    from . import session_info as si
    e = _engine(session)
    ident = e.psk_identity
    st, suite = si.nxsecure_dtls_session_ciphersuite_get(session)
    return {"suite": suite if st == NX_SUCCESS else None,
            "ems": si.nxsecure_dtls_session_extended_master_secret_get(session)[1] == 1,
            "group": si.nxsecure_dtls_session_key_exchange_group_get(session)[1],
            "psk_identity": bytes(ident) if ident is not None else None,
            "chain": _peer_chain(session)}


def _peer_chain(session):
    """The peer's chain (DER copies), [] without one."""
    from . import session_info as si
    st, ders = si.nxsecure_dtls_session_remote_chain_get(session)
    return [bytes(d) for d in ders] if st == NX_SUCCESS else []


def _certificate_flags(session):
    """GTlsCertificateFlags-style bits of a refused peer chain (0: none refused)."""
    from . import session_info as si
    st, flags = si.nxsecure_dtls_session_certificate_flags_get(session)
    return flags if st == NX_SUCCESS else 0


def _peer_certificate_der(session):
    """The DER of the peer's verified leaf certificate, None without one."""
    if getattr(session, "_store", None) is None:
        return None
    from .x509 import store_remote_count, store_remote_get
    st = session._store
    try:
        if not store_remote_count(st):
            return None
        cert = store_remote_get(st, 0)[1]
    except Exception:
        return None
    return _cert_der(cert) if cert is not None else None


def _cert_der(cert):
    return bytes(cert.nx_secure_x509_certificate_data[:cert.nx_secure_x509_certificate_data_length])


def _reject(session, alert):
    """Refuse a client after its cookie-verified ClientHello (on_connection_request
    said no): a fatal alert ends its handshake at once (RFC 5246 7.2.2 access_denied),
    then the session is freed."""
    e = _engine(session)
    if e is not None:
        e._fail(NX_SECURE_TLS_HANDSHAKE_FAILURE, alert)
    nx_secure_dtls_session_end(session, NX_NO_WAIT)

