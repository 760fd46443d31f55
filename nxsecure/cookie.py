"""Stateless HelloVerifyRequest cookies under a rotating secret (RFC 6347 4.2.1)."""
from . import config


class CookieJar:
    """cookie = serial (4 bytes) || HMAC-SHA256(secret, serial || client address ||
    ClientHello fields)[:length - 4]. Time is cut into periods of one lifetime from
    the jar's start: the secret of a period makes that period's cookies and is still
    accepted in the next one, so a cookie lives at most two periods however sparse
    the traffic (rotation follows the clock, not the arrival of hellos). The serial numbers cookies in the order they were issued,
    so the server can tell a cookie issued after an association began (the client
    proved it is reachable now) from one replayed from before (RFC 6347 4.2.8).
    Holds no per-client state."""

    def __init__(self, hmac_sha256, random_into, now_ms, ticks_diff, ticks_add=None,
                 keyed=None):
        self._hmac = hmac_sha256
        # keyed: (key, mac) where the crypto table has a keyed HMAC (crypto/prf_saved.py):
        # each secret's keyed states made when the secret is, not at every cookie
        self._keyed = keyed
        self._k = self._kp = None
        self._random_into = random_into
        self._diff = ticks_diff
        self._add = ticks_add or _plain_add
        self.length = config.NX_SECURE_DTLS_COOKIE_LENGTH
        self.lifetime = config.NX_SECURE_DTLS_COOKIE_LIFETIME_MS
        self.serial = 0              # serial of the last cookie issued
        self.last_serial = 0         # serial of the last cookie that checked out
        self._secret = bytearray(32)
        self._previous = bytearray(32)
        self._have_previous = False
        random_into(self._secret)
        self._new_key()
        self._born = now_ms

    def _new_key(self):
        # the secret changed: its keyed states (the previous secret's are the old ones;
        # unused while _have_previous is False)
        k = self._keyed
        if k is not None:
            self._kp = self._k
            self._k = k[0](self._secret)

    def _mac(self, m, previous):
        k = self._kp if previous else self._k
        if k is not None:
            return self._keyed[1](k, m)
        return self._hmac(self._previous if previous else self._secret, m)

    def rotate(self, now_ms):
        """Start a new period now (the current secret becomes the previous one)."""
        self._previous[:] = self._secret
        self._have_previous = True
        self._random_into(self._secret)
        self._new_key()
        self._born = now_ms

    def _tick(self, now_ms):
        age = self._diff(now_ms, self._born)
        life = self.lifetime
        if 0 <= age < life:
            return
        if age < 0 or age >= 2 * life:
            # two or more periods went by (or the clock went backwards): neither
            # secret may make or accept a cookie any more
            self._random_into(self._secret)
            self._new_key()
            self._have_previous = False
            self._born = now_ms if age < 0 else self._add(self._born, age - age % life)
            return
        self._previous[:] = self._secret
        self._have_previous = True
        self._random_into(self._secret)
        self._new_key()
        self._born = self._add(self._born, life)     # the period boundary, not the arrival

    @staticmethod
    def _material(serial, addr, hello):
        # Bind the cookie to the client's transport address and to the hello
        # parameters that the second ClientHello must repeat (RFC 6347 4.2.1): its
        # random and session_id, which come before the cookie and so are in any first
        # fragment that holds the cookie. The session that the cookie opens checks that
        # the reassembled hello has the same random. In one buffer (each join would
        # allocate): serial (4) || host length (1) || host || port (2) || IPv6 scope (4)
        # || random (32) || session_id, every field fixed-size or length-prefixed but
        # the last, so no two addresses and hellos give the same bytes.
        h = addr[0].encode()
        n = len(h)
        m = bytearray(43 + n + len(hello.session_id))
        m[0:4] = serial
        m[4] = n & 0xFF              # (a numeric host: at most 45 characters)
        m[5:5 + n] = h
        n += 5
        m[n:n + 2] = addr[1].to_bytes(2, "big")
        if len(addr) > 3:
            m[n + 2:n + 6] = (addr[3] & 0xFFFFFFFF).to_bytes(4, "big")
        m[n + 6:n + 38] = hello.random
        m[n + 38:] = hello.session_id
        return m

    def make(self, now_ms, addr, hello):
        self._tick(now_ms)
        self.serial = (self.serial + 1) & 0x3FFFFFFF
        head = self.serial.to_bytes(4, "big")
        # one step per line and addr reused: a frame within 11 words (a bigger one goes
        # on a board's heap)
        addr = self._material(head, addr, hello)
        addr = self._mac(addr, False)
        return head + addr[:self.length - 4]

    def check(self, now_ms, addr, hello):
        self._tick(now_ms)
        c = hello.cookie
        if len(c) != self.length:
            return False
        m = self._material(c[0:4], addr, hello)
        if not (_equal(self._mac(m, False), c, 4) or
                (self._have_previous and _equal(self._mac(m, True), c, 4))):
            return False
        self.last_serial = (c[0] << 24) | (c[1] << 16) | (c[2] << 8) | c[3]
        return True


def _plain_add(t, d):
    return t + d


def _equal(mac, cookie, skip):
    """cookie[skip:] against the MAC's first bytes, in constant time."""
    d = 0
    for i in range(skip, len(cookie)):
        d |= mac[i - skip] ^ cookie[i]
    return d == 0
