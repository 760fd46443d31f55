"""Certificate services of sessions and servers (guide chapter 4) and the X.509 work the handshake asks of its session.
Everything X.509 is imported on first use, so a PSK-only application never loads it."""
from nxsecure import port
from .const import (
    NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS, NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
    AD_BAD_CERTIFICATE,
)
from . import netx
from . import session as _s
# The AES-256 suites (SHA-384 and CCM) join the crypto table's descriptions and the
# default table nx_crypto_tls_ciphers wherever the certificate code is installed.
from .crypto.suites384 import (  # noqa: F401
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    TLS_PSK_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, TLS_PSK_WITH_AES_256_CCM, TLS_PSK_WITH_AES_256_CCM_8,
)


# ---------------------------------------------------------------- stores
def _live(server):
    from .server import _live       # loaded with the server (a client never does)
    return _live(server)


def store(session):
    """The session's certificate store, made on first use. A server session shares
    its server's local and trusted lists and has its own remote space."""
    st = session._store
    if st is not None:
        return st
    from .x509 import NX_SECURE_X509_CERTIFICATE_STORE, store_remote_buffer_set
    st = NX_SECURE_X509_CERTIFICATE_STORE()
    server = session._server
    if server is not None:
        top = _server_store(server)
        st.nx_secure_x509_local_certificates = top.nx_secure_x509_local_certificates
        st.nx_secure_x509_trusted_certificates = top.nx_secure_x509_trusted_certificates
        st._crls = top._crls
    if session._remote_certificate_buffer is not None and session._remote_certs_number:
        store_remote_buffer_set(st, session._remote_certs_number,
                                session._remote_certificate_buffer,
                                len(session._remote_certificate_buffer))
    session._store = st
    return st


def _server_store(server):
    st = server._store
    if st is None:
        from .x509 import NX_SECURE_X509_CERTIFICATE_STORE
        st = NX_SECURE_X509_CERTIFICATE_STORE()
        server._store = st
    return st


def trusted_count(session):
    """How many certificates the session trusts (a client offers certificate suites
    only when it can verify a server's chain)."""
    st = session._store
    return 0 if st is None else len(st.nx_secure_x509_trusted_certificates)


def local_certs(session):
    """The session's own certificates (a server session's are its server's)."""
    st = session._store
    if st is None and session._server is not None and session._server._store is not None:
        st = store(session)
    return () if st is None else st.nx_secure_x509_local_certificates


def client_verify(session):
    """Does the session's server ask its clients for a certificate?"""
    return session._server is not None and session._server._client_verify


def _now():
    """The verification time: the application's clock (nx_secure_x509_time_function_set)
    when set, else the port's (the host clock on CPython; None on a board)."""
    from .x509 import verify as _v
    if _v._time_function is None and port.time_source is not None:
        return port.time_source()
    return None


def server_name(session):
    """The name a client session gave its server (nxsecure_dtls_session_sni_extension_set,
    nxsecure/server_name.py), as bytes; None when it named none."""
    return getattr(session, "_server_name", None)


def verify_chain(session, body, lst, peer_is_server):
    """Copy the peer's chain (offsets into the Certificate message) into the remote
    space, then verify it: (status, alert). A client that named its server checks the
    server's certificate for that name (RFC 6125 6.4, RFC 6066 3). The result stays on
    the session for nxsecure_dtls_session_certificate_flags_get."""
    from .x509 import (store_remote_reset, store_remote_add, store_remote_get,
                       x509_chain_verify, x509_error_to_alert, X509_ROLE_SERVER,
                       X509_ROLE_CLIENT)
    st = store(session)
    store_remote_reset(st)
    session._verify_status = None
    session._verify_flags = None
    for off, n in lst:
        status = store_remote_add(st, body, off, n)
        if status:
            return status, x509_error_to_alert(status)
    status, alert = x509_chain_verify(st, 0, now=_now(),
                                      role=X509_ROLE_SERVER if peer_is_server else X509_ROLE_CLIENT,
                                      dns_name=server_name(session) if peer_is_server else None,
                                      strict_name=session._strict_names)
    if status == NX_SUCCESS:
        fn = session._certificate_callback
        if fn is not None:
            try:
                status = fn(session, store_remote_get(st, 0)[1])
            except Exception:
                # a callback that fails counts as a rejection, never as an acceptance
                status = NX_SECURE_X509_CHAIN_VERIFY_FAILURE
            if status:
                alert = AD_BAD_CERTIFICATE
    session._verify_status = status
    session._verify_peer_is_server = peer_is_server
    return status, alert


def remote_leaf(session):
    from .x509 import store_remote_get
    return store_remote_get(store(session), 0)[1]


def chain(session, cert):
    """Our certificate's DER, then its issuers found among the local certificates
    (a self-signed root is left out: the peer must already trust it)."""
    from .x509 import dn_equal
    out = [_der(cert)]
    local = store(session).nx_secure_x509_local_certificates
    cur = cert
    for _ in range(8):
        nxt = None
        for c in local:
            if c is not cur and dn_equal(cur.nx_secure_x509_issuer,
                                         c.nx_secure_x509_distinguished_name, True):
                nxt = c
                break
        if nxt is None or dn_equal(nxt.nx_secure_x509_issuer,
                                   nxt.nx_secure_x509_distinguished_name, True):
            break
        out.append(_der(nxt))
        cur = nxt
    return out


def _der(cert):
    return cert.nx_secure_x509_certificate_data[:cert.nx_secure_x509_certificate_data_length]


# ---------------------------------------------------------------- services
def _cert_ok(certificate):
    return certificate is not None and hasattr(certificate, "nx_secure_x509_cert_identifier")


def _session_store_op(session_ptr, op, *args):
    status = _s._live(session_ptr)
    if status:
        return status
    from . import x509
    return getattr(x509, op)(store(session_ptr), *args)


def _session_cert_add(session_ptr, op, certificate, cert_id):
    """The checks of NetX's nxe layer, in its order: a missing control block or
    certificate is NX_PTR_ERROR, a session never created
    NX_SECURE_TLS_SESSION_UNINITIALIZED, then what the certificate itself is."""
    if certificate is None:
        return NX_PTR_ERROR
    status = _s._live(session_ptr)
    if status:
        return status
    if not _cert_ok(certificate):
        return NX_PTR_ERROR
    if op == "store_local_add":
        status = _key_check(certificate)
        if status:
            return status
    return _session_store_op(session_ptr, op, certificate, cert_id)


def _server_store_op(server_ptr, op, *args):
    if _live(server_ptr):
        return NX_PTR_ERROR
    from . import x509
    return getattr(x509, op)(_server_store(server_ptr), *args)


def _key_check(certificate):
    """A local certificate's private key must be its public key's (kx.local_key_check):
    a key that does not match is refused here, with
    NX_SECURE_X509_PRIVATE_KEY_MISMATCH, not at the first handshake."""
    if not _cert_ok(certificate) or not certificate._valid:
        return NX_SUCCESS                  # the store says what is wrong with it
    from . import kx
    return kx.local_key_check(certificate)


@netx.serialized
def nx_secure_dtls_session_local_certificate_add(session_ptr, certificate, cert_id):
    return _session_cert_add(session_ptr, "store_local_add", certificate, cert_id)


@netx.serialized
def nx_secure_dtls_session_local_certificate_remove(session_ptr, common_name,
                                                    common_name_length, cert_id):
    return _session_store_op(session_ptr, "store_local_remove", common_name,
                             common_name_length, cert_id)


@netx.serialized
def nx_secure_dtls_session_trusted_certificate_add(session_ptr, certificate, cert_id):
    return _session_cert_add(session_ptr, "store_trusted_add", certificate, cert_id)


@netx.serialized
def nx_secure_dtls_session_trusted_certificate_remove(session_ptr, common_name,
                                                      common_name_length, cert_id):
    return _session_store_op(session_ptr, "store_trusted_remove", common_name,
                             common_name_length, cert_id)


@netx.serialized
def nx_secure_dtls_server_local_certificate_add(server_ptr, certificate, cert_id):
    if not _cert_ok(certificate):
        return NX_PTR_ERROR
    if _live(server_ptr):
        return NX_PTR_ERROR
    status = _key_check(certificate)
    if status:
        return status
    status = _server_store_op(server_ptr, "store_local_add", certificate, cert_id)
    if status == NX_SUCCESS and certificate._private_key is not None:
        _choose_by_name(server_ptr)
    return status


def _choose_by_name(server):
    """A server with two identity certificates (or more) picks, for each client, the
    one issued to the name it asks for (nxsecure/sni.py; RFC 6066 3), when the
    server-name feature is installed."""
    n = 0
    for c in _server_store(server).nx_secure_x509_local_certificates:
        if c._private_key is not None:
            n += 1
    if n > 1:
        try:
            from . import sni
        except ImportError:
            return
        sni.server_side(server)


@netx.serialized
def nx_secure_dtls_server_local_certificate_remove(server_ptr, common_name, common_name_length,
                                                   cert_id):
    return _server_store_op(server_ptr, "store_local_remove", common_name, common_name_length,
                            cert_id)


@netx.serialized
def nx_secure_dtls_server_trusted_certificate_add(server_ptr, certificate, cert_id):
    if not _cert_ok(certificate):
        return NX_PTR_ERROR
    return _server_store_op(server_ptr, "store_trusted_add", certificate, cert_id)


@netx.serialized
def nx_secure_dtls_server_trusted_certificate_remove(server_ptr, common_name,
                                                     common_name_length, cert_id):
    return _server_store_op(server_ptr, "store_trusted_remove", common_name,
                            common_name_length, cert_id)


@netx.serialized
def nx_secure_dtls_server_x509_client_verify_configure(server_ptr, certs_per_session,
                                                       certs_buffer, buffer_size):
    """Request and verify client certificates; certs_buffer is divided among the
    server's sessions, each holding a chain of up to certs_per_session certificates."""
    if _live(server_ptr) or certs_buffer is None:
        return NX_PTR_ERROR
    if not _s._buffer_ok(certs_buffer, buffer_size) or not isinstance(certs_per_session, int) \
            or certs_per_session < 1:
        return NX_INVALID_PARAMETERS
    sessions = server_ptr._sessions
    share = buffer_size // len(sessions)
    if share < 64:
        return NX_INVALID_PARAMETERS
    from .x509 import store_remote_buffer_set
    mv = memoryview(certs_buffer)
    for i, s in enumerate(sessions):
        s._remote_certs_number = certs_per_session
        s._remote_certificate_buffer = mv[i * share:(i + 1) * share]
        status = store_remote_buffer_set(store(s), certs_per_session,
                                         s._remote_certificate_buffer, share)
        if status:
            return status
    server_ptr._client_verify = True
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_x509_client_verify_disable(server_ptr):
    if _live(server_ptr):
        return NX_PTR_ERROR
    server_ptr._client_verify = False
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_session_certificate_callback_set(session_ptr, callback):
    """nxsecure extension (NetX TLS has it as nx_secure_tls_session_certificate_callback_set):
    callback(session, certificate) -> status runs after the peer's chain verified;
    a non-zero status fails the handshake with bad_certificate. Use it for
    nx_secure_x509_common_name_dns_check."""
    status = _s._live(session_ptr)
    if status:
        return status
    session_ptr._certificate_callback = callback
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_server_certificate_callback_set(server_ptr, callback):
    """nxsecure extension: the same for every session of a server (client certificates)."""
    if _live(server_ptr):
        return NX_PTR_ERROR
    for s in server_ptr._sessions:
        s._certificate_callback = callback
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_session_strict_name_compare_set(session_ptr, strict):
    """nxsecure extension: compare whole distinguished names when chaining, as NetX's
    NX_SECURE_X509_STRICT_NAME_COMPARE does (default: common names)."""
    status = _s._live(session_ptr)
    if status:
        return status
    session_ptr._strict_names = bool(strict)
    return NX_SUCCESS


@netx.serialized
def nxsecure_dtls_session_crl_add(session_ptr, crl_data, crl_length):
    """nxsecure extension: check the peer's certificate chain against the DER CRL
    crl_data[:crl_length] (caller memory: keep it alive and unchanged) in every
    handshake of this session; a listed certificate fails the handshake with
    NX_SECURE_X509_CRL_CERTIFICATE_REVOKED (alert certificate_revoked). Several CRLs
    may be added; one that does not parse is refused (docs/CERTIFICATES.md)."""
    return _session_store_op(session_ptr, "store_crl_add", crl_data, crl_length)


@netx.serialized
def nxsecure_dtls_session_crl_remove(session_ptr, crl_data):
    """nxsecure extension: stop using a CRL given to nxsecure_dtls_session_crl_add."""
    return _session_store_op(session_ptr, "store_crl_remove", crl_data)


@netx.serialized
def nxsecure_dtls_server_crl_add(server_ptr, crl_data, crl_length):
    """nxsecure extension: the same for the client certificates every session of the
    server verifies (nx_secure_dtls_server_x509_client_verify_configure)."""
    return _server_store_op(server_ptr, "store_crl_add", crl_data, crl_length)


@netx.serialized
def nxsecure_dtls_server_crl_remove(server_ptr, crl_data):
    """nxsecure extension: stop using a CRL given to nxsecure_dtls_server_crl_add."""
    return _server_store_op(server_ptr, "store_crl_remove", crl_data)


# ---------------------------------------------------------------- ECDHE groups
def _groups(supported_groups, supported_group_count):
    """TLS NamedGroup ids from NetX's list (NX_CRYPTO_EC_SECP256R1 = 0x00060017 or the
    TLS number 23 alike: the low 16 bits), or None when one is not ours."""
    from . import kx
    try:
        if not isinstance(supported_group_count, int) or supported_group_count < 1 or \
                supported_group_count > len(supported_groups):
            return None
        out = []
        for g in supported_groups[:supported_group_count]:
            g &= 0xFFFF
            if g not in kx.SUPPORTED_GROUPS:
                return None
            if g not in out:
                out.append(g)
    except TypeError:
        return None
    return tuple(out)


@netx.serialized
def nx_secure_dtls_ecc_initialize(dtls_session, supported_groups, supported_group_count, curves):
    """NetX service: the ECDHE groups this session offers (client) or accepts (server
    sessions take their server's), in preference order: secp256r1 (23 or NetX's
    NX_CRYPTO_EC_SECP256R1), secp384r1 (24), x25519 (29). `curves` (NetX's curve method
    table) is not needed: the platform's public-key backend does the arithmetic; None
    or a list is accepted. Default: secp256r1, x25519, secp384r1."""
    status = _s._live(dtls_session)
    if status:
        return status
    if supported_groups is None:
        return NX_PTR_ERROR
    g = _groups(supported_groups, supported_group_count)
    if g is None:
        return NX_INVALID_PARAMETERS
    dtls_session._ecc_groups = g
    return NX_SUCCESS


@netx.serialized
def nx_secure_dtls_server_ecc_initialize(dtls_server, supported_groups, supported_group_count,
                                         curves):
    """NetX service: nx_secure_dtls_ecc_initialize for every session of the server."""
    if _live(dtls_server) or supported_groups is None:
        return NX_PTR_ERROR
    g = _groups(supported_groups, supported_group_count)
    if g is None:
        return NX_INVALID_PARAMETERS
    for s in dtls_server._sessions:
        s._ecc_groups = g
    return NX_SUCCESS
