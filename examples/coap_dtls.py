"""CoAP over DTLS (RFC 7252 "coaps"), the most common use of DTLS on small boards, both
ways in: a responder and a requester on the NetX Secure DTLS API (the firmware way:
these classes run as they would on a board), and the same responder on nxsecure.aio
(the gateway way, `gateway`).

    python3 examples/coap_dtls.py demo     [--port 5684]            (both sides, one thread)
    python3 examples/coap_dtls.py server   [--bind ADDR] [--port 5684] [--suite NAME]
                                           [--psk ASCII] [--identity ID] [--count N]
                                           [--cert leaf.der --key key.der]
    python3 examples/coap_dtls.py client   [--host HOST] [--port 5684] [--path temperature]
                                           [--suite NAME] [--psk ASCII] [--identity ID]
                                           [--ca root.der] [--cert leaf.der --key key.der]
    python3 examples/coap_dtls.py gateway  [--bind ADDR] [--port 5684] [--psk ASCII]
                                           [--identity ID] [--count N] [--cert F --key F]

PSK is the default (identity "sensor-01", key "secretPSK": the ASCII key libcoap's
`-k` takes). With --cert/--key the server also offers ECDHE-ECDSA / ECDHE-RSA suites
(the key is SEC 1 EC or PKCS#1 RSA DER); --ca makes the client trust a root. Servers
listen on all addresses unless --bind names one.

The CoAP part is a minimal RFC 7252 codec: the 4-byte header, a token, options (Uri-Path
and Content-Format are understood, others are carried and skipped), the 0xFF payload
marker and payload. The responder serves GET /temperature with 2.05 Content (text/plain)
and answers a confirmable request with a piggybacked ACK (RFC 7252 5.2.1), a
non-confirmable one with a NON response, an empty CON ("CoAP ping") with RST; other
paths are 4.04, other methods 4.05. The requester sends a CON GET, retransmits it with
RFC 7252's exponential back-off, and accepts a piggybacked or a separate response.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 2)[0] if "/" in __file__ else "..")

from nxsecure import *                     # noqa: E402,F403
from nxsecure.crypto.table import make_tls_crypto   # noqa: E402
from nxsecure import port                                # noqa: E402

COAP_PORT = 5684                  # coaps (RFC 7252 12.8); CoAP over UDP is 5683
PSK = b"secretPSK"
IDENTITY = b"sensor-01"
TEMPERATURE = b"21.5 C"

# ---- RFC 7252 constants ----------------------------------------------------------------
CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
CONTENT = (2 << 5) | 5            # 2.05
NOT_FOUND = (4 << 5) | 4          # 4.04
METHOD_NOT_ALLOWED = (4 << 5) | 5  # 4.05
BAD_REQUEST = (4 << 5) | 0        # 4.00
OPT_URI_PATH = 11
OPT_CONTENT_FORMAT = 12
TEXT_PLAIN = 0
ACK_TIMEOUT_TICKS = 2 * NX_IP_PERIODIC_RATE       # RFC 7252 4.8
MAX_RETRANSMIT = 4

SUITES = {"ccm8": TLS_PSK_WITH_AES_128_CCM_8, "ccm": TLS_PSK_WITH_AES_128_CCM,
          "gcm": TLS_PSK_WITH_AES_128_GCM_SHA256, "cbc": TLS_PSK_WITH_AES_128_CBC_SHA256,
          "ecdsa-ccm8": 0xC0AE, "ecdsa-ccm": 0xC0AC, "ecdsa-gcm": 0xC02B, "ecdsa-cbc": 0xC023,
          "rsa-gcm": 0xC02F, "rsa-cbc": 0xC027}


def code_str(code):
    """2.05, 4.04, ..."""
    return "%d.%02d" % (code >> 5, code & 31)


# ---- codec -----------------------------------------------------------------------------
def _opt_nibble(v, ext):
    if v < 13:
        return v
    if v < 269:
        ext.append(v - 13)
        return 13
    ext.append((v - 269) >> 8)
    ext.append((v - 269) & 0xFF)
    return 14


def coap_encode(mtype, code, mid, token=b"", options=(), payload=b""):
    """One CoAP message. options: (number, bytes) pairs, any order."""
    out = bytearray(4)
    out[0] = 0x40 | (mtype << 4) | len(token)
    out[1] = code
    out[2] = (mid >> 8) & 0xFF
    out[3] = mid & 0xFF
    out += token
    last = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        ext = bytearray()
        d = _opt_nibble(number - last, ext)
        ext_len = bytearray()
        ln = _opt_nibble(len(value), ext_len)
        out.append((d << 4) | ln)
        out += ext
        out += ext_len
        out += value
        last = number
    if payload:
        out.append(0xFF)
        out += payload
    return bytes(out)


def path_options(path):
    return [(OPT_URI_PATH, seg.encode()) for seg in path.strip("/").split("/") if seg]


def _opt_value(nib, data, p):
    if nib < 13:
        return nib, p
    if nib == 13:
        return data[p] + 13, p + 1
    if nib == 14:
        return ((data[p] << 8) | data[p + 1]) + 269, p + 2
    raise ValueError("option nibble 15")


def coap_decode(data):
    """-> dict(type, code, mid, token, options [(number, bytes)], payload), or None when
    the datagram is not a well-formed CoAP message."""
    try:
        if len(data) < 4 or data[0] >> 6 != 1:
            return None
        tkl = data[0] & 15
        if tkl > 8:
            return None
        msg = {"type": (data[0] >> 4) & 3, "code": data[1], "mid": (data[2] << 8) | data[3],
               "token": bytes(data[4:4 + tkl]), "options": [], "payload": b""}
        p = 4 + tkl
        if p > len(data):
            return None
        number = 0
        while p < len(data):
            if data[p] == 0xFF:
                if p + 1 == len(data):
                    return None            # a marker with no payload is a format error
                msg["payload"] = bytes(data[p + 1:])
                break
            delta, ln = data[p] >> 4, data[p] & 15
            delta, p = _opt_value(delta, data, p + 1)
            ln, p = _opt_value(ln, data, p)
            if p + ln > len(data):
                return None
            number += delta
            msg["options"].append((number, bytes(data[p:p + ln])))
            p += ln
        return msg
    except (IndexError, ValueError):
        return None


def uri_path(msg):
    return "/" + "/".join(v.decode() for n, v in msg["options"] if n == OPT_URI_PATH)


def coap_respond(data, resources, served):
    """The CoAP reply to one request datagram (None: nothing to send); served gets
    (method, path, response code) of each request answered."""
    msg = coap_decode(data)
    if msg is None:
        return None                    # RFC 7252 4.2: silently ignore
    mtype, code = msg["type"], msg["code"]
    if mtype in (ACK, RST) or (code == 0 and mtype == NON):
        return None
    if code == 0:                      # CoAP ping: an empty CON gets a RST
        return coap_encode(RST, 0, msg["mid"])
    if code >> 5 != 0:                 # a response where a request belongs
        return coap_encode(RST, 0, msg["mid"]) if mtype == CON else None
    path = uri_path(msg)
    options = ()
    payload = b""
    if code != GET:
        rcode = METHOD_NOT_ALLOWED if path in resources else NOT_FOUND
    elif path not in resources:
        rcode = NOT_FOUND
    else:
        rcode = CONTENT
        body = resources[path]
        payload = body() if callable(body) else body
        options = [(OPT_CONTENT_FORMAT, b"")]          # 0 = text/plain, empty uint
    served.append((code, path, rcode))
    # piggybacked ACK for CON (same MID and token); NON gets NON with a new MID
    mid = msg["mid"] if mtype == CON else (msg["mid"] + 1) & 0xFFFF
    return coap_encode(ACK if mtype == CON else NON, rcode, mid, msg["token"], options,
                       payload)


# ---- DTLS plumbing shared by both sides ------------------------------------------------
def _cert(der, key_der=None):
    cert = NX_SECURE_X509_CERT()
    if key_der is None:
        ktype = NX_SECURE_X509_KEY_TYPE_NONE
        key_der = None
    else:
        # SEC 1 ECPrivateKey starts 30 .. 02 01 01; PKCS#1 RSAPrivateKey 30 .. 02 01 00
        ktype = (NX_SECURE_X509_KEY_TYPE_EC_DER if b"\x02\x01\x01" in key_der[:8]
                 else NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER)
    status = nx_secure_x509_certificate_initialize(cert, der, len(der), None, 0, key_der,
                                                   len(key_der) if key_der else 0, ktype)
    return status, cert


def _x509():
    global NX_SECURE_X509_CERT, NX_SECURE_X509_KEY_TYPE_NONE, NX_SECURE_X509_KEY_TYPE_EC_DER
    global NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER, nx_secure_x509_certificate_initialize
    from nxsecure import x509 as m            # only certificate users load the X.509 code
    NX_SECURE_X509_CERT = m.NX_SECURE_X509_CERT
    NX_SECURE_X509_KEY_TYPE_NONE = m.NX_SECURE_X509_KEY_TYPE_NONE
    NX_SECURE_X509_KEY_TYPE_EC_DER = m.NX_SECURE_X509_KEY_TYPE_EC_DER
    NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER = m.NX_SECURE_X509_KEY_TYPE_RSA_PKCS1_DER
    nx_secure_x509_certificate_initialize = m.nx_secure_x509_certificate_initialize
    return m


def _packet_bytes(packet):
    buf = bytearray(packet.nx_packet_length)
    status, n = nx_packet_data_extract_offset(packet, 0, buf, len(buf))
    return bytes(buf[:n])


def _send(session, pool, data, server_side, address=None, udp_port=0):
    status, packet = nx_secure_dtls_packet_allocate(session, pool, NX_NO_WAIT)
    if status:
        return status
    status = nx_packet_data_append(packet, data, len(data), pool, NX_NO_WAIT)
    if status == NX_SUCCESS:
        if server_side:
            status = nx_secure_dtls_server_session_send(session, packet)
        else:
            status = nx_secure_dtls_session_send(session, packet, address, udp_port)
    if status:
        nx_packet_release(packet)
    return status


# ---- responder -------------------------------------------------------------------------
class CoapServer:
    """A CoAP responder on an NX_SECURE_DTLS_SERVER (the guide's Figure 1.2 loop:
    connect_notify queues a session, the loop runs its handshake, receive_notify queues
    readable sessions). resources: {"/path": bytes or callable() -> bytes}.

    handshakes: [(status, milliseconds, suite id)] for every session started;
    served: [(method, path, response code)]. A client silent for idle_s seconds (gone
    without close_notify) is ended and its session freed."""

    def __init__(self, ip, pool, udp_port=COAP_PORT, crypto_table=None, psk=PSK,
                 identity=IDENTITY, hint=b"CoAP", local_certs=(), sessions=2, resources=None,
                 idle_s=120):
        self.pool = pool
        self.resources = resources if resources is not None else {"/temperature": TEMPERATURE}
        self.table = crypto_table if crypto_table is not None else nx_crypto_tls_ciphers
        self.connected = []
        self.pending = []
        self.readable = []
        self.handshakes = []
        self.served = []
        self.errors = []
        self.closed = []
        self.server = NX_SECURE_DTLS_SERVER()
        status, md = nx_secure_tls_metadata_size_calculate(self.table)
        self._mem = (bytearray(sizeof(NX_SECURE_DTLS_SESSION) * sessions),
                     bytearray(md * sessions), bytearray(4000 * sessions))
        sbuf, meta, reasm = self._mem
        self.status = nx_secure_dtls_server_create(
            self.server, ip, udp_port, NX_IP_PERIODIC_RATE, sbuf, len(sbuf), self.table,
            meta, len(meta), reasm, len(reasm), self._connect_notify, self._receive_notify)
        if self.status:
            return
        nx_secure_dtls_server_notify_set(self.server, self._disconnect_notify,
                                         self._error_notify)
        # a client that vanishes without close_notify gives its session back
        nxsecure_dtls_server_idle_timeout_set(self.server, idle_s * NX_IP_PERIODIC_RATE)
        if psk:
            self.status = nx_secure_dtls_server_psk_add(self.server, psk, len(psk), identity,
                                                        len(identity), hint, len(hint))
        self._certs = []
        for cert_id, (der, key_der) in enumerate(local_certs, 1):
            _x509()
            status, cert = _cert(der, key_der)
            if status == NX_SUCCESS:
                status = nx_secure_dtls_server_local_certificate_add(self.server, cert,
                                                                     cert_id)
            self._certs.append(cert)
            self.status = self.status or status
        if self.status == NX_SUCCESS:
            self.status = nx_secure_dtls_server_start(self.server)

    def _connect_notify(self, session, ip_address, udp_port):
        self.connected.append(session)
        return NX_SUCCESS

    def _receive_notify(self, session):
        self.readable.append(session)
        return NX_SUCCESS

    def _disconnect_notify(self, session):
        self.closed.append(session)
        return NX_SUCCESS

    def _error_notify(self, session, code):
        self.errors.append(code)
        return NX_SUCCESS

    def service(self, ticks=1, handshake_ticks=5 * NX_IP_PERIODIC_RATE):
        """One pass of the loop: let the stack run for `ticks`, drive the handshakes
        connect_notify queued (each timed from its first session_start call; a
        handshake may take several passes), answer queued requests."""
        tx_thread_sleep(ticks)
        while self.connected:
            self.pending.append((self.connected.pop(0), port.ticks_ms()))
        for item in list(self.pending):
            s, t0 = item
            left = handshake_ticks - port.ticks_diff(port.ticks_ms(), t0) // 10
            status = nx_secure_dtls_server_session_start(s, max(0, min(left, ticks)))
            if status == NX_CONTINUE and left > 0:
                continue
            self.pending.remove(item)
            ms = port.ticks_diff(port.ticks_ms(), t0)
            suite = s._engine.suite.nx_secure_tls_ciphersuite if status == NX_SUCCESS else None
            self.handshakes.append((status, ms, suite))
        while self.readable:
            s = self.readable.pop(0)
            while True:
                status, packet = nx_secure_dtls_session_receive(s, NX_NO_WAIT)
                if status:
                    break
                data = _packet_bytes(packet)
                nx_packet_release(packet)
                reply = self.respond(data)
                if reply is not None:
                    _send(s, self.pool, reply, True)

    def respond(self, data):
        """The CoAP reply to one request datagram (None: nothing to send)."""
        return coap_respond(data, self.resources, self.served)

    def close(self):
        for s in self.server._sessions:
            if s._engine.state not in (0,):
                nx_secure_dtls_session_end(s, NX_NO_WAIT)
        nx_secure_dtls_server_stop(self.server)
        nx_secure_dtls_server_delete(self.server)


# ---- requester -------------------------------------------------------------------------
class CoapClient:
    """A CoAP requester over one NX_SECURE_DTLS_SESSION (Figure 1.1's order).
    handshake_ms: time nx_secure_dtls_client_session_start took."""

    def __init__(self, ip, pool, crypto_table=None, psk=PSK, identity=IDENTITY,
                 trusted=(), local_certs=()):
        self.ip = ip
        self.pool = pool
        self.table = crypto_table if crypto_table is not None else nx_crypto_tls_ciphers
        self.session = NX_SECURE_DTLS_SESSION()
        self.socket = NX_UDP_SOCKET()
        self.handshake_ms = None
        self._t0 = None
        self._mid = port.ticks_ms() & 0xFFFF
        self._token = 0
        status, md = nx_secure_tls_metadata_size_calculate(self.table)
        ncerts = 3 if (trusted or local_certs) else 0
        self._mem = (bytearray(md), bytearray(4000), bytearray(ncerts * 2000))
        meta, reasm, remote = self._mem
        self.status = nx_secure_dtls_session_create(
            self.session, self.table, meta, len(meta), reasm, len(reasm), ncerts,
            remote if ncerts else None, len(remote))
        if self.status == NX_SUCCESS and psk:
            self.status = nx_secure_dtls_psk_add(self.session, psk, len(psk), identity,
                                                 len(identity), None, 0)
        self._certs = []
        for cert_id, der in enumerate(trusted, 1):
            _x509()
            status, cert = _cert(der)
            self._certs.append(cert)
            self.status = self.status or status or nx_secure_dtls_session_trusted_certificate_add(
                self.session, cert, cert_id)
        for cert_id, (der, key_der) in enumerate(local_certs, 1):
            _x509()
            status, cert = _cert(der, key_der)
            self._certs.append(cert)
            self.status = self.status or status or nx_secure_dtls_session_local_certificate_add(
                self.session, cert, cert_id)
        if self.status == NX_SUCCESS:
            self.status = nx_udp_socket_create(ip, self.socket, "CoAP client", NX_IP_NORMAL,
                                               NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8)

    def connect(self, address, udp_port=COAP_PORT, wait=5 * NX_IP_PERIODIC_RATE):
        """The DTLS handshake; address is an NXD_ADDRESS. With a short wait, call it
        again while it returns NX_CONTINUE; handshake_ms is measured from the first call
        to the final result."""
        self.address = address
        self.port = udp_port
        if self._t0 is None:
            self._t0 = port.ticks_ms()
        status = nx_secure_dtls_client_session_start(self.session, self.socket, address,
                                                     udp_port, wait)
        if status != NX_CONTINUE:
            self.handshake_ms = port.ticks_diff(port.ticks_ms(), self._t0)
        return status

    def suite(self):
        s = self.session._engine.suite
        return None if s is None else s.nx_secure_tls_ciphersuite

    def request(self, method, path, payload=b"", confirmable=True, wait=5 * NX_IP_PERIODIC_RATE):
        """-> (status, response dict or None). Retransmits a CON request (RFC 7252 4.2),
        ACKs a separate CON response."""
        self._mid = (self._mid + 1) & 0xFFFF
        self._token = (self._token + 1) & 0xFFFFFFFF
        mid = self._mid
        token = b"nx" + bytes([(self._token >> 8) & 0xFF, self._token & 0xFF])
        req = coap_encode(CON if confirmable else NON, method, mid, token, path_options(path),
                          payload)
        status = _send(self.session, self.pool, req, False, self.address, self.port)
        if status:
            return status, None
        timeout = ACK_TIMEOUT_TICKS
        left = wait
        tries = 0
        acked = False
        while left > 0:
            step = min(timeout, left)
            status, packet = nx_secure_dtls_session_receive(self.session, step)
            if status == NX_SUCCESS:
                msg = coap_decode(_packet_bytes(packet))
                nx_packet_release(packet)
                if msg is None:
                    continue
                if msg["type"] == RST and msg["mid"] == mid:
                    return NX_SUCCESS, msg
                if msg["type"] == ACK and msg["mid"] == mid:
                    acked = True
                    if msg["code"] != 0:
                        return NX_SUCCESS, msg          # piggybacked response
                    continue                            # empty ACK: a separate response follows
                if msg["token"] == token and msg["code"] >> 5 != 0:
                    if msg["type"] == CON:              # separate response: acknowledge it
                        _send(self.session, self.pool, coap_encode(ACK, 0, msg["mid"]), False,
                              self.address, self.port)
                    return NX_SUCCESS, msg
                continue
            if status != NX_NO_PACKET and status != NX_CONTINUE:
                return status, None
            left -= step
            if confirmable and not acked and tries < MAX_RETRANSMIT:
                tries += 1
                timeout *= 2
                _send(self.session, self.pool, req, False, self.address, self.port)
        return NX_NO_PACKET, None

    def get(self, path, wait=5 * NX_IP_PERIODIC_RATE):
        return self.request(GET, path, wait=wait)

    def close(self):
        nx_secure_dtls_session_end(self.session, NX_NO_WAIT)
        nx_secure_dtls_session_delete(self.session)
        if self.socket.nx_udp_socket_port:
            nx_udp_socket_unbind(self.socket)
        nx_udp_socket_delete(self.socket)


# ---- the gateway way: the same responder on nxsecure.aio ----------------------------
async def gateway(bind, udp_port, psk, identity, count=0, certfile=None, keyfile=None,
                  resources=None, ready=None):
    """A CoAP responder on the asyncio layer: one event per request datagram, the reply
    sent from it. Serves until `count` requests were answered (0: forever)."""
    import asyncio
    from nxsecure import aio
    resources = resources if resources is not None else {"/temperature": TEMPERATURE}
    served = []
    done = asyncio.get_running_loop().create_future()

    def on_data(conn, data):
        reply = coap_respond(data, resources, served)
        if reply is not None:
            conn.send_nowait(reply)
        method, path, rcode = served[-1] if served else (0, "", 0)
        print("%s:%d %d %s -> %s" % (conn.address + (method, path, code_str(rcode))))
        if count and len(served) >= count and not done.done():
            done.set_result(None)

    srv = await aio.start_server(None, bind, udp_port, psk={identity: psk} if psk else None,
                                 psk_hint=b"CoAP", certfile=certfile, keyfile=keyfile,
                                 idle_timeout=120)
    srv.on_data = on_data
    srv.on_connected = lambda conn: print("handshake with %s:%d: %s" % (
        conn.address + (conn.cipher_suite,)))
    print("coaps gateway on %s port %d" % (bind or "all addresses", udp_port))
    if ready is not None:
        ready()
    try:
        await done
    finally:
        srv.close()
    return served


# ---- command line ----------------------------------------------------------------------
def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _args(argv):
    import argparse

    def udp_port(text):
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise argparse.ArgumentTypeError("must be 1..65535, not %r" % text)
        return int(text)

    def address(text):
        try:
            NXD_ADDRESS(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not an IP address: %r" % text)
        return text

    def count(text):
        if not text.isdigit():
            raise argparse.ArgumentTypeError("must be a number >= 0, not %r" % text)
        return int(text)

    def existing(text):
        import os
        if not os.path.isfile(text):
            raise argparse.ArgumentTypeError("no such file: %r" % text)
        return text

    p = argparse.ArgumentParser(description="CoAP over DTLS: responder and requester on the "
                                "NetX Secure DTLS API, and a responder on nxsecure.aio.")
    sub = p.add_subparsers(dest="role", metavar="ROLE")

    def common(q, server):
        q.add_argument("--port", type=udp_port, default=COAP_PORT,
                       help="DTLS port (default %d)" % COAP_PORT)
        q.add_argument("--psk", default=PSK.decode(), help="ASCII key (default secretPSK)")
        q.add_argument("--identity", default=IDENTITY.decode(), help="PSK identity")
        q.add_argument("--cert", type=existing, help="certificate (DER)")
        q.add_argument("--key", type=existing, help="its key (DER)")
        if server:
            q.add_argument("--bind", type=address, default=None,
                           help="local address (default: all)")
            q.add_argument("--count", type=count, default=0,
                           help="exit after N requests (default 0: serve forever)")
    common(sub.add_parser("server", help="responder (NetX API)"), True)
    c = sub.add_parser("client", help="requester (NetX API): GET a path")
    common(c, False)
    c.add_argument("--host", default="127.0.0.1", help="server name or address")
    c.add_argument("--path", default="temperature", help="resource (default temperature)")
    c.add_argument("--ca", type=existing, help="trusted root (DER)")
    for q in (sub.choices["server"], c):
        q.add_argument("--suite", choices=sorted(SUITES), default=None, help="one suite only")
    common(sub.add_parser("gateway", help="responder on nxsecure.aio (asyncio)"), True)
    d = sub.add_parser("demo", help="responder and requester in one thread (NetX API)")
    d.add_argument("--port", type=udp_port, default=COAP_PORT)
    a = p.parse_args(argv[1:] or ["demo"])
    if getattr(a, "cert", None) and not getattr(a, "key", None):
        p.error("--cert needs --key")
    return a


def _stack(bind="127.0.0.1"):
    nx_system_initialize()
    pool = NX_PACKET_POOL()
    mem = bytearray(24 * (1536 + sizeof(NX_PACKET)))
    nx_packet_pool_create(pool, "CoAP pool", 1536, mem, len(mem))
    ip = NX_IP()
    nx_ip_create(ip, "CoAP IP", bind, 0xFFFFFF00, pool)
    nx_udp_enable(ip)
    nx_secure_tls_initialize()
    return pool, ip, mem


def _resolve(host):
    """An NXD_ADDRESS for a host name or address; None if it does not resolve."""
    try:
        return NXD_ADDRESS(host)
    except ValueError:
        pass
    import socket
    try:
        return NXD_ADDRESS(socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0])
    except (OSError, IndexError):
        return None


def main(argv):
    o = _args(argv)
    if o.role == "gateway":
        import asyncio
        asyncio.run(gateway(o.bind, o.port, o.psk.encode(), o.identity.encode(), o.count,
                            o.cert, o.key))
        return 0
    suite = getattr(o, "suite", None)
    table = make_tls_crypto(port.crypto_backend(), [SUITES[suite]]) if suite else None
    if o.role == "server":
        pool, ip, _mem = _stack(o.bind or "0.0.0.0")
        certs = [(_read(o.cert), _read(o.key))] if o.cert else ()
        srv = CoapServer(ip, pool, o.port, table, psk=o.psk.encode(),
                         identity=o.identity.encode(), local_certs=certs)
        print("coap server on port %d: 0x%X" % (o.port, srv.status))
        if srv.status:
            return 1
        while not o.count or len(srv.served) < o.count:
            h, n = len(srv.handshakes), len(srv.served)
            srv.service(1)
            for status, ms, suite_id in srv.handshakes[h:]:
                print("handshake 0x%X in %d ms, suite 0x%04X" % (status, ms, suite_id or 0))
            for method, path, rcode in srv.served[n:]:
                print("%d %s -> %s" % (method, path, code_str(rcode)))
        srv.close()
        return 0
    if o.role == "client":
        address = _resolve(o.host)
        if address is None:
            print("coap_dtls.py: error: cannot resolve --host %r" % o.host, file=sys.stderr)
            return 2
        pool, ip, _mem = _stack("::" if address.nxd_ip_version == NX_IP_VERSION_V6
                                else "0.0.0.0")
        trusted = [_read(o.ca)] if o.ca else ()
        certs = [(_read(o.cert), _read(o.key))] if o.cert else ()
        cli = CoapClient(ip, pool, table, psk=o.psk.encode(), identity=o.identity.encode(),
                         trusted=trusted, local_certs=certs)
        status = cli.connect(address, o.port)
        print("handshake 0x%X in %s ms, suite 0x%04X" % (status, cli.handshake_ms,
                                                         cli.suite() or 0))
        if status:
            return 1
        status, msg = cli.get(o.path)
        if msg is None:
            print("GET /%s: no response (0x%X)" % (o.path, status))
            return 1
        print("GET /%s -> %s %r" % (o.path, code_str(msg["code"]), msg["payload"]))
        cli.close()
        return 0 if msg["code"] >> 5 == 2 else 1
    # demo: both sides in one thread, like examples/psk_echo.py
    pool, ip, _mem = _stack()
    srv = CoapServer(ip, pool, o.port, table)
    cli = CoapClient(ip, pool, table)
    address = NXD_ADDRESS("127.0.0.1")
    status = cli.connect(address, o.port, NX_NO_WAIT)
    for _ in range(500):
        srv.service(1)
        status = cli.connect(address, o.port, NX_NO_WAIT)
        if status != NX_CONTINUE:
            break
    print("client handshake: 0x%X, suite 0x%04X; server: %r" % (status, cli.suite() or 0,
                                                              srv.handshakes))
    mid = (cli._mid + 1) & 0xFFFF
    _send(cli.session, pool, coap_encode(CON, GET, mid, b"t1", path_options("temperature")),
          False, address, o.port)
    reply = None
    for _ in range(200):
        srv.service(1)
        st, packet = nx_secure_dtls_session_receive(cli.session, NX_NO_WAIT)
        if st == NX_SUCCESS:
            reply = coap_decode(_packet_bytes(packet))
            nx_packet_release(packet)
            break
    print("GET /temperature -> %s" % ("no reply" if reply is None else "%s %r (type %d)" % (
        code_str(reply["code"]), reply["payload"], reply["type"])))
    cli.close()
    srv.close()
    return 0 if reply and reply["code"] == CONTENT else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
