"""Certificate stores: local (identity) and trusted certificates added by the
application under non-zero ids, and the remote (peer) chain held in a caller-sized
buffer. The services the nx_secure_dtls_session_* / nx_secure_dtls_server_*
certificate services wrap.

Remote certificates never allocate per connection: the store owns `certs_number`
control blocks made when the buffer is set, and the DER of each received certificate
is copied into the caller's buffer (used as one arena, so any chain that fits NetX's
equal split also fits here) and parsed in place there.
"""
from nxsecure.const import (
    NX_SUCCESS,
    NX_NOT_FOUND,
    NX_PTR_ERROR,
    NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_CERT_ID_INVALID,
    NX_SECURE_TLS_CERT_ID_DUPLICATE,
    NX_SECURE_TLS_CERTIFICATE_NOT_FOUND,
    NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED,
    NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE,
)
from nxsecure.x509 import der
from nxsecure.x509.cert import NX_SECURE_X509_CERT, x509_parse_in_place

# NetX certificate locations (nx_secure_x509.h).
NX_SECURE_X509_CERT_LOCATION_NONE = 0
NX_SECURE_X509_CERT_LOCATION_LOCAL = 1
NX_SECURE_X509_CERT_LOCATION_REMOTE = 2
NX_SECURE_X509_CERT_LOCATION_TRUSTED = 3


class NX_SECURE_X509_CERTIFICATE_STORE:
    def __init__(self):
        self.nx_secure_x509_local_certificates = []
        self.nx_secure_x509_trusted_certificates = []
        self._remote_pool = []          # certs_number control blocks, made once
        self._remote_count = 0          # received certificates: _remote_pool[0:count]
        self._remote_buffer = None      # memoryview of the caller's buffer
        self._remote_used = 0
        self._crls = []                 # (caller's object, memoryview of the DER CRL)


def _add(lst, cert, cert_id):
    if cert is None:
        return NX_PTR_ERROR
    if not isinstance(cert_id, int) or cert_id == 0:
        return NX_SECURE_TLS_CERT_ID_INVALID
    if not getattr(cert, "_valid", False):
        return NX_INVALID_PARAMETERS                # not initialized / failed to parse
    for c in lst:
        if c is cert:
            return NX_INVALID_PARAMETERS            # already in this store
        if c.nx_secure_x509_cert_identifier == cert_id:
            return NX_SECURE_TLS_CERT_ID_DUPLICATE
    cert.nx_secure_x509_cert_identifier = cert_id
    lst.append(cert)
    return NX_SUCCESS


def _name_view(common_name, common_name_length):
    if isinstance(common_name, str):
        common_name = common_name.encode()
    try:
        v = memoryview(common_name)
    except TypeError:
        return None
    if not isinstance(common_name_length, int) or common_name_length < 0 \
            or common_name_length > len(v):
        return None
    return v[0:common_name_length]


def _index(lst, common_name, common_name_length, cert_id):
    """Position of the certificate with cert_id (non-zero), else of the first whose
    subject commonName equals common_name; -1 when none."""
    if cert_id:
        i = 0
        for c in lst:
            if c.nx_secure_x509_cert_identifier == cert_id:
                return i
            i += 1
        return -1
    if common_name is None:
        return -1
    name = _name_view(common_name, common_name_length)
    if name is None:
        return -1
    i = 0
    for c in lst:
        dn = c.nx_secure_x509_distinguished_name
        s = dn.nx_secure_x509_common_name
        if s >= 0 and der.same(c.nx_secure_x509_certificate_data, s,
                               s + dn.nx_secure_x509_common_name_length, name, 0, len(name)):
            return i
        i += 1
    return -1


def _remove(lst, common_name, common_name_length, cert_id):
    i = _index(lst, common_name, common_name_length, cert_id)
    if i < 0:
        return NX_SECURE_TLS_CERTIFICATE_NOT_FOUND
    c = lst.pop(i)
    c.nx_secure_x509_cert_identifier = 0
    return NX_SUCCESS


def _find(lst, common_name, common_name_length, cert_id):
    i = _index(lst, common_name, common_name_length, cert_id)
    if i < 0:
        return NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, None
    return NX_SUCCESS, lst[i]


# --- local (identity) certificates --------------------------------------------------

def store_local_add(store, cert, cert_id):
    if store is None:
        return NX_PTR_ERROR
    st = _add(store.nx_secure_x509_local_certificates, cert, cert_id)
    if st == NX_SUCCESS:
        cert.nx_secure_x509_certificate_is_identity_cert = 1
    return st


def store_local_remove(store, common_name, common_name_length, cert_id):
    if store is None:
        return NX_PTR_ERROR
    return _remove(store.nx_secure_x509_local_certificates, common_name,
                   common_name_length, cert_id)


def store_local_find(store, cert_id, common_name=None, common_name_length=0):
    """-> (status, cert)"""
    if store is None:
        return NX_PTR_ERROR, None
    return _find(store.nx_secure_x509_local_certificates, common_name,
                 common_name_length, cert_id)


# --- trusted certificates (trust anchors) ---------------------------------------------

def store_trusted_add(store, cert, cert_id):
    if store is None:
        return NX_PTR_ERROR
    return _add(store.nx_secure_x509_trusted_certificates, cert, cert_id)


def store_trusted_remove(store, common_name, common_name_length, cert_id):
    if store is None:
        return NX_PTR_ERROR
    return _remove(store.nx_secure_x509_trusted_certificates, common_name,
                   common_name_length, cert_id)


def store_trusted_find(store, cert_id, common_name=None, common_name_length=0):
    """-> (status, cert)"""
    if store is None:
        return NX_PTR_ERROR, None
    return _find(store.nx_secure_x509_trusted_certificates, common_name,
                 common_name_length, cert_id)


# --- remote (peer) certificates ----------------------------------------------------------

def store_remote_buffer_set(store, certs_number, buffer, buffer_size):
    """Give the store room for a peer chain of up to certs_number certificates whose
    DER totals at most buffer_size bytes (nx_secure_dtls_session_create's
    certs_number / remote_certificate_buffer). buffer None or size 0 removes it."""
    if store is None:
        return NX_PTR_ERROR
    store._remote_count = 0
    store._remote_used = 0
    if buffer is None or buffer_size == 0 or certs_number == 0:
        store._remote_buffer = None
        store._remote_pool = []
        return NX_SUCCESS
    try:
        mv = memoryview(buffer)
    except TypeError:
        return NX_PTR_ERROR
    if not isinstance(certs_number, int) or certs_number < 0 or \
            not isinstance(buffer_size, int) or buffer_size < 0 or buffer_size > len(mv):
        return NX_INVALID_PARAMETERS
    pool = []
    for _ in range(certs_number):
        c = NX_SECURE_X509_CERT()
        c.nx_secure_x509_user_allocated_cert = 0
        pool.append(c)
    store._remote_pool = pool
    store._remote_buffer = mv[0:buffer_size]
    return NX_SUCCESS


def store_remote_reset(store):
    """Forget the previous peer chain (start of a handshake)."""
    if store is None:
        return NX_PTR_ERROR
    i = 0
    while i < store._remote_count:
        store._remote_pool[i]._x509_clear()
        i += 1
    store._remote_count = 0
    store._remote_used = 0
    return NX_SUCCESS


def store_remote_add(store, data, offset, length):
    """Copy one received DER certificate data[offset:offset+length] into the remote
    buffer and parse it there. Certificates are kept in arrival order (RFC 5246
    7.4.2: sender's certificate first). Returns a status; on failure nothing is kept."""
    if store is None or data is None:
        return NX_PTR_ERROR
    if store._remote_buffer is None:
        return NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED
    try:
        src = memoryview(data)
    except TypeError:
        return NX_PTR_ERROR
    if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 \
            or length <= 0 or offset + length > len(src):
        return NX_INVALID_PARAMETERS
    if store._remote_count >= len(store._remote_pool):
        return NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
    used = store._remote_used
    if length > len(store._remote_buffer) - used:
        return NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE
    dst = store._remote_buffer[used:used + length]
    dst[0:length] = src[offset:offset + length]
    cert = store._remote_pool[store._remote_count]
    st = x509_parse_in_place(cert, dst)
    if st != NX_SUCCESS:
        cert._x509_clear()
        return st
    store._remote_count += 1
    store._remote_used = used + length
    return NX_SUCCESS


def store_remote_count(store):
    return 0 if store is None else store._remote_count


def store_remote_get(store, index):
    """-> (status, cert) for the index-th received certificate (0: the peer's own)."""
    if store is None:
        return NX_PTR_ERROR, None
    if not isinstance(index, int) or index < 0 or index >= store._remote_count:
        return NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, None
    return NX_SUCCESS, store._remote_pool[index]


# --- certificate revocation lists (nxsecure/x509/crl.py) ---------------------------------

def store_crl_add(store, crl_data, crl_length):
    """Check every verification through this store against the DER CRL
    crl_data[:crl_length]. The CRL stays in the caller's memory (keep it alive and
    unchanged); only its structure is checked here, its signature and contents when
    a path uses its issuer. Returns a status."""
    if store is None or crl_data is None:
        return NX_PTR_ERROR
    try:
        mv = memoryview(crl_data)
    except TypeError:
        return NX_PTR_ERROR
    if not isinstance(crl_length, int) or crl_length <= 0 or crl_length > len(mv):
        return NX_INVALID_PARAMETERS
    from nxsecure.x509.crl import x509_crl_parse
    mv = mv[0:crl_length]
    st, crl = x509_crl_parse(mv)
    if st != NX_SUCCESS:
        return st
    for obj, c in store._crls:
        if obj is crl_data or (len(c) == crl_length and
                               der.same(c, 0, crl_length, mv, 0, crl_length)):
            return NX_INVALID_PARAMETERS            # already in this store
    store._crls.append((crl_data, mv))
    return NX_SUCCESS


def store_crl_remove(store, crl_data):
    """Stop using a CRL added with store_crl_add (the same buffer object)."""
    if store is None or crl_data is None:
        return NX_PTR_ERROR
    i = 0
    for obj, c in store._crls:
        if obj is crl_data:
            store._crls.pop(i)
            return NX_SUCCESS
        i += 1
    return NX_NOT_FOUND
