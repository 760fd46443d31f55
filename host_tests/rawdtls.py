"""A hand-written DTLS 1.2 PSK peer for attack tests: it controls every byte it sends.

Independent of the code under test: the PRF is RFC 5246 5 over the standard library's
hmac, records are AES-128-CCM_8 (RFC 6655) through pyca `cryptography`, messages are
packed here with struct. Transport-free: methods build datagrams (bytes) and consume
the datagrams the other side sent; a test moves them (World.inject / net.captured).

Only what the attacks need: TLS_PSK_WITH_AES_128_CCM_8, no extensions unless asked,
no extended master secret.
"""
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESCCM

CT_CCS, CT_ALERT, CT_HS, CT_APP = 20, 21, 22, 23
HT_CLIENT_HELLO, HT_SERVER_HELLO, HT_HVR = 1, 2, 3
HT_SKE, HT_SHD, HT_CKE, HT_FINISHED = 12, 14, 16, 20
PSK_CCM_8 = 0xC0A8
DTLS12 = 0xFEFD


def prf(secret, label, seed, n):
    """RFC 5246 5: P_SHA256(secret, label + seed)."""
    seed = label + seed
    out = b""
    a = seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:n]


def record(ctype, epoch, seq, body, version=DTLS12):
    return struct.pack(">BHHHIH", ctype, version, epoch, seq >> 32, seq & 0xFFFFFFFF,
                       len(body)) + bytes(body)


def handshake(msg_type, seq, body, length=None, frag_off=0, frag_len=None):
    """A handshake message or fragment (RFC 6347 4.2.2); length/frag_len default to
    the body's, and may lie."""
    length = len(body) if length is None else length
    frag_len = len(body) if frag_len is None else frag_len
    return struct.pack(">B", msg_type) + length.to_bytes(3, "big") + struct.pack(">H", seq) \
        + frag_off.to_bytes(3, "big") + frag_len.to_bytes(3, "big") + bytes(body)


def split_records(d):
    """[(ctype, epoch, seq, body)] of a datagram."""
    out = []
    p = 0
    while p + 13 <= len(d):
        ctype, _v, epoch, hi, lo, n = struct.unpack_from(">BHHHIH", d, p)
        out.append((ctype, epoch, (hi << 32) | lo, bytes(d[p + 13:p + 13 + n])))
        p += 13 + n
    return out


def split_handshake(body):
    """[(msg_type, length, seq, frag_off, frag_len, fragment)] of a handshake record."""
    out = []
    p = 0
    while p + 12 <= len(body):
        t = body[p]
        length = int.from_bytes(body[p + 1:p + 4], "big")
        seq = (body[p + 4] << 8) | body[p + 5]
        off = int.from_bytes(body[p + 6:p + 9], "big")
        flen = int.from_bytes(body[p + 9:p + 12], "big")
        out.append((t, length, seq, off, flen, body[p + 12:p + 12 + flen]))
        p += 12 + flen
    return out


def client_hello_body(random, cookie=b"", suites=(PSK_CCM_8,), session_id=b"", extensions=b""):
    b = struct.pack(">H", DTLS12) + random + bytes([len(session_id)]) + session_id
    b += bytes([len(cookie)]) + cookie
    b += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
    b += b"\x01\x00"
    if extensions:
        b += struct.pack(">H", len(extensions)) + extensions
    return b


def server_hello_body(random, suite=PSK_CCM_8, extensions=b"", session_id=b""):
    b = struct.pack(">H", DTLS12) + random + bytes([len(session_id)]) + session_id
    b += struct.pack(">H", suite) + b"\x00"
    if extensions:
        b += struct.pack(">H", len(extensions)) + extensions
    return b


def extension(etype, data=b""):
    return struct.pack(">HH", etype, len(data)) + data


class Keys:
    """One side's record protection for epoch 1 (TLS_PSK_WITH_AES_128_CCM_8)."""

    def __init__(self, write_key, write_iv, read_key, read_iv):
        self.w = AESCCM(write_key, tag_length=8)
        self.wiv = write_iv
        self.r = AESCCM(read_key, tag_length=8)
        self.riv = read_iv
        self.seq = 0

    def seal(self, ctype, plaintext, epoch=1, seq=None):
        if seq is None:
            seq = self.seq
            self.seq += 1
        es = struct.pack(">HHI", epoch, seq >> 32, seq & 0xFFFFFFFF)
        aad = es + struct.pack(">BHH", ctype, DTLS12, len(plaintext))
        ct = self.w.encrypt(self.wiv + es, bytes(plaintext), aad)
        return record(ctype, epoch, seq, es + ct)

    def open(self, ctype, epoch, seq, body):
        es = body[:8]
        aad = es + struct.pack(">BHH", ctype, DTLS12, len(body) - 16)
        return self.r.decrypt(self.riv + es, body[8:], aad)


def psk_premaster(psk):
    n = len(psk)
    return struct.pack(">H", n) + bytes(n) + struct.pack(">H", n) + psk


class RawPskClient:
    """The client side of a PSK-CCM_8 handshake, one step at a time."""

    def __init__(self, psk, identity, random=None):
        self.psk = psk
        self.identity = identity
        self.client_random = random if random is not None else os.urandom(32)
        self.cookie = b""
        self.transcript = b""
        self.msg_seq = 0
        self.rec_seq = 0
        self.server_random = None
        self.keys = None
        self.master = None

    def _rec(self, ctype, body, epoch=0):
        d = record(ctype, epoch, self.rec_seq, body)
        self.rec_seq += 1
        return d

    def hello(self, extensions=b"", length=None):
        """A ClientHello datagram (with the cookie once one came). `length` lies about
        the message length (the record carries only the real body)."""
        body = client_hello_body(self.client_random, self.cookie, extensions=extensions)
        msg = handshake(HT_CLIENT_HELLO, self.msg_seq, body, length=length,
                        frag_len=length)
        if self.cookie:
            # RFC 6347 4.2.6: the hello with the cookie starts the transcript
            self.transcript = handshake(HT_CLIENT_HELLO, self.msg_seq, body)
        self.msg_seq += 1
        return self._rec(CT_HS, msg)

    def on_datagram(self, d):
        """Take the server's HelloVerifyRequest or its flight; returns the message
        types seen."""
        seen = []
        for ctype, epoch, seq, body in split_records(d):
            if ctype == CT_HS and epoch == 0:
                for t, length, mseq, off, flen, frag in split_handshake(body):
                    seen.append(t)
                    if t == HT_HVR:
                        self.cookie = frag[3:3 + frag[2]]
                    elif t == HT_SERVER_HELLO:
                        self.server_random = frag[2:34]
                    if t != HT_HVR:
                        self.transcript += handshake(t, mseq, frag)
            elif ctype == CT_HS and epoch == 1 and self.keys is not None:
                pt = self.keys.open(ctype, epoch, seq, body)
                for t, length, mseq, off, flen, frag in split_handshake(pt):
                    seen.append(t)
                    if t == HT_FINISHED:
                        self.server_finished = frag
            elif ctype == CT_ALERT:
                seen.append(("alert", body[-2:] if epoch == 0 else body))
            elif ctype == CT_CCS:
                seen.append("ccs")
        return seen

    def final_flight(self, finished_override=None):
        """ClientKeyExchange, ChangeCipherSpec, Finished (one datagram)."""
        cke = handshake(HT_CKE, self.msg_seq, struct.pack(">H", len(self.identity)) + self.identity)
        self.msg_seq += 1
        self.transcript += cke
        pms = psk_premaster(self.psk)
        self.master = prf(pms, b"master secret", self.client_random + self.server_random, 48)
        kb = prf(self.master, b"key expansion", self.server_random + self.client_random, 40)
        ckey, skey, civ, siv = kb[0:16], kb[16:32], kb[32:36], kb[36:40]
        self.keys = Keys(ckey, civ, skey, siv)
        vd = prf(self.master, b"client finished", hashlib.sha256(self.transcript).digest(), 12)
        if finished_override is not None:
            vd = finished_override
        fin = handshake(HT_FINISHED, self.msg_seq, vd)
        self.finished = fin              # kept to build a retransmission
        self.msg_seq += 1
        self.transcript += fin
        out = self._rec(CT_HS, cke) + self._rec(CT_CCS, b"\x01")
        return out + self.keys.seal(CT_HS, fin)

    def app(self, data):
        return self.keys.seal(CT_APP, data)
