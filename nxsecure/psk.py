"""The PSK store: a fixed number of (key, identity, hint) entries in caller memory (RFC 4279)."""
from . import config
from .const import NX_SUCCESS, NX_SECURE_TLS_NO_MORE_PSK_SPACE, NX_PTR_ERROR

_K = config.NX_SECURE_TLS_MAX_PSK_SIZE
_I = config.NX_SECURE_TLS_MAX_PSK_ID_SIZE
# entry: key_len u8 | key | identity_len u8 | identity | hint_len u8 | hint
ENTRY = 3 + _K + 2 * _I


class PskStore:
    SIZE = ENTRY * config.NX_SECURE_TLS_MAX_PSK_KEYS

    def __init__(self, mv):
        self.mv = mv
        self.n = 0

    def clear(self):
        self.n = 0

    def count(self):
        return self.n

    def add(self, key, key_len, identity, id_len, hint, hint_len):
        """NetX's psk_add semantics: lengths are the caller's; oversize entries or a
        full store give NX_SECURE_TLS_NO_MORE_PSK_SPACE."""
        if key is None or identity is None:
            return NX_PTR_ERROR
        if hint is None:
            hint_len = 0
        try:
            if (key_len < 0 or id_len < 0 or hint_len < 0 or key_len > len(key)
                    or id_len > len(identity) or (hint_len and hint_len > len(hint))):
                return NX_PTR_ERROR
        except TypeError:
            return NX_PTR_ERROR
        if key_len > _K or id_len > _I or hint_len > _I or self.n >= config.NX_SECURE_TLS_MAX_PSK_KEYS:
            return NX_SECURE_TLS_NO_MORE_PSK_SPACE
        p = self.n * ENTRY
        _put(self.mv, p, key, key_len)
        _put(self.mv, p + 1 + _K, identity, id_len)
        _put(self.mv, p + 2 + _K + _I, hint, hint_len)
        self.n += 1
        return NX_SUCCESS

    def _field(self, i, which):
        m = self.mv
        p = i * ENTRY
        if which > 0:
            p += 1 + _K
        if which > 1:
            p += 1 + _I
        n = m[p]
        return m[p + 1:p + 1 + n]

    def key(self, i):
        return self._field(i, 0)

    def identity(self, i):
        return self._field(i, 1)

    def hint(self):
        """Server: the identity hint to announce (the first one configured), or None."""
        for i in range(self.n):
            h = self._field(i, 2)
            if len(h):
                return h
        return None

    def for_hint(self, hint):
        """Client: (key, identity) to use. An entry whose hint matches the server's
        wins; otherwise the first entry (RFC 4279 5.2: the hint is advisory)."""
        if self.n == 0:
            return None
        if hint:
            for i in range(self.n):
                if equal(self._field(i, 2), hint):
                    return self.key(i), self.identity(i)
        return self.key(0), self.identity(0)

    def key_for_identity(self, identity):
        """Server: the key for the client's identity, or None."""
        for i in range(self.n):
            if equal(self._field(i, 1), identity):
                return self.key(i)
        return None


def _put(m, p, data, n):
    """An entry's field at m[p]: its length byte, then data's first n bytes."""
    m[p] = n
    if n:
        if isinstance(data, str):
            data = data.encode()
        m[p + 1:p + 1 + n] = memoryview(data)[:n] if n != len(data) else data


def equal(a, b):
    """Byte-wise equality of two buffers (MicroPython's memoryview has no ==)."""
    n = len(a)
    if n != len(b):
        return False
    for i in range(n):
        if a[i] != b[i]:
            return False
    return True
