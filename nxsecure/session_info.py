"""What a session negotiated and whom it talks to: suite, version, key exchange group, EMS, the last alert received, the peer's certificate chain (control blocks, DER, PEM) and its verification result as flags."""
# Optional (tools/profiles.py FEATURES "session-info"): an application imports it,
#     from nxsecure.session_info import *
# and the stack never does. Every getter returns NetX's way: the status first, then the
# values; NX_PTR_ERROR for no session, NX_SECURE_TLS_SESSION_UNINITIALIZED for one never
# created. Values are those of the last handshake, whether it succeeded or failed, until
# the session starts the next one (a failed handshake's chain and flags are what a
# developer needs to see why).
from .const import (
    NX_SUCCESS, NX_PTR_ERROR, NX_NOT_FOUND, NX_NOT_CONNECTED, NX_INVALID_PARAMETERS,
    NX_SECURE_TLS_SESSION_UNINITIALIZED, NX_SECURE_TLS_CERTIFICATE_NOT_FOUND,
)

# The peer certificate's verification result as flags (nxsecure_dtls_session_
# certificate_flags_get), modelled on GLib's GTlsCertificateFlags, same bits.
NXSECURE_CERT_UNKNOWN_CA = 0x01        # no path to a trusted certificate
NXSECURE_CERT_BAD_IDENTITY = 0x02      # not the host name the client asked for
NXSECURE_CERT_NOT_ACTIVATED = 0x04     # a certificate of the chain is not valid yet
NXSECURE_CERT_EXPIRED = 0x08           # a certificate of the chain has expired
NXSECURE_CERT_REVOKED = 0x10           # listed in a CRL the application gave
NXSECURE_CERT_INSECURE = 0x20          # an algorithm or key we refuse (SHA-1, RSA < 2048, ...)
NXSECURE_CERT_GENERIC_ERROR = 0x40     # anything else (bad signature, profile, no clock,
                                       # refused by the application's callback)
NXSECURE_CERT_VALIDATE_ALL = 0x7F

_DTLS_1_2 = 0xFEFD


def _engine(session):
    from .session import _live
    status = _live(session)
    if status:
        return status, None
    return NX_SUCCESS, session._engine


def _negotiated(session):
    """(status, engine) of a session whose handshake chose a suite: NX_NOT_CONNECTED
    before one did."""
    status, e = _engine(session)
    if status == NX_SUCCESS and e.suite is None:
        status = NX_NOT_CONNECTED
    return status, e


def nxsecure_dtls_session_ciphersuite_get(session_ptr):
    """-> (status, suite): the IANA number of the suite the last handshake negotiated
    (0xC0AE for TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8); NX_NOT_CONNECTED before one was."""
    status, e = _negotiated(session_ptr)
    if status:
        return status, 0
    return NX_SUCCESS, e.suite.nx_secure_tls_ciphersuite


def nxsecure_dtls_session_protocol_version_get(session_ptr):
    """-> (status, version): 0xFEFD, DTLS 1.2 (RFC 6347 4.1), the only one spoken."""
    status, e = _negotiated(session_ptr)
    if status:
        return status, 0
    return NX_SUCCESS, _DTLS_1_2


def nxsecure_dtls_session_key_exchange_group_get(session_ptr):
    """-> (status, group): the TLS NamedGroup of the ECDHE exchange (23 secp256r1, 24
    secp384r1, 29 x25519; RFC 8422 5.1.1), 0 for a suite without one (PSK, RSA)."""
    status, e = _negotiated(session_ptr)
    if status:
        return status, 0
    return NX_SUCCESS, e.group


def nxsecure_dtls_session_extended_master_secret_get(session_ptr):
    """-> (status, 1 or 0): did the handshake use the extended master secret (RFC 7627)?"""
    status, e = _negotiated(session_ptr)
    if status:
        return status, 0
    return NX_SUCCESS, 1 if e.ems else 0


def nxsecure_dtls_session_alert_value_get(session_ptr):
    """nxsecure extension in NetX's style (NetX Secure TLS has
    nx_secure_tls_session_alert_value_get): -> (status, alert_level, alert_value) of the
    last alert the peer sent (RFC 5246 7.2); NX_NOT_FOUND when none came. What a
    server's error_notify(session, NX_SECURE_TLS_ALERT_RECEIVED) asks to learn which
    alert ended the handshake."""
    status, e = _engine(session_ptr)
    if status:
        return status, 0, 0
    a = e.last_alert
    if a is None:
        return NX_NOT_FOUND, 0, 0
    return NX_SUCCESS, a[0], a[1]


# ---------------------------------------------------------------- the peer's chain
def _remote(session_ptr):
    """(status, store) of the session's remote certificates."""
    status, e = _engine(session_ptr)
    if status:
        return status, None
    st = session_ptr._store
    if st is None or not st._remote_count:
        return NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, None
    return NX_SUCCESS, st


def nxsecure_dtls_session_remote_certificate_get(session_ptr, index):
    """-> (status, certificate): the index-th certificate the peer sent (0: its own,
    then its issuers as sent; RFC 5246 7.4.2), an NX_SECURE_X509_CERT parsed in the
    session's remote certificate buffer (valid until the next handshake);
    NX_SECURE_TLS_CERTIFICATE_NOT_FOUND past the end or when none came."""
    status, st = _remote(session_ptr)
    if status:
        return status, None
    if not isinstance(index, int) or index < 0:
        return NX_INVALID_PARAMETERS, None
    from .x509 import store_remote_get
    return store_remote_get(st, index)


def nxsecure_dtls_session_remote_chain_get(session_ptr):
    """-> (status, [DER, ...]): the peer's chain as sent, each certificate a memoryview
    of its DER in the session's remote certificate buffer (no copy: valid until the
    next handshake)."""
    status, st = _remote(session_ptr)
    if status:
        return status, []
    out = []
    for i in range(st._remote_count):
        c = st._remote_pool[i]
        out.append(c.nx_secure_x509_certificate_data[:c.nx_secure_x509_certificate_data_length])
    return NX_SUCCESS, out


def nxsecure_dtls_session_remote_chain_pem_get(session_ptr):
    """-> (status, text): the peer's chain as PEM (RFC 7468), its own certificate first:
    what `openssl s_client -showcerts` prints, for logs and for `openssl verify`."""
    status, ders = nxsecure_dtls_session_remote_chain_get(session_ptr)
    if status:
        return status, ""
    from .x509.pem import pem_encode
    return NX_SUCCESS, "".join(pem_encode(d) for d in ders)


def nxsecure_dtls_session_certificate_flags_get(session_ptr):
    """-> (status, flags): why the peer's chain was refused, as NXSECURE_CERT_* bits
    (GLib's GTlsCertificateFlags): 0 when it verified. Every reason that applies is
    set (an expired certificate for the wrong host from an unknown CA gives three), so
    a refused chain is looked at again here, on request, without the dates and the
    name; the handshake itself stops at the first reason.
    NX_SECURE_TLS_CERTIFICATE_NOT_FOUND when the last handshake verified no chain."""
    status, e = _engine(session_ptr)
    if status:
        return status, 0
    status = getattr(session_ptr, "_verify_status", None)
    if status is None:
        return NX_SECURE_TLS_CERTIFICATE_NOT_FOUND, 0      # no chain verified
    if status == NX_SUCCESS:
        return NX_SUCCESS, 0
    flags = session_ptr._verify_flags
    if flags is None:
        flags = session_ptr._verify_flags = _flags(session_ptr)
    return NX_SUCCESS, flags


def _flags(session):
    """Every reason the peer's chain fails, each checked on its own: the validity dates
    of each certificate sent, the host name, then the path without the dates and the
    name (unknown issuer, revoked, an algorithm or key refused, anything else)."""
    from . import certs, x509
    from .x509 import verify as _v
    from .const import (
        NX_SECURE_X509_CRL_CERTIFICATE_REVOKED, NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND,
        NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM, NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG,
        NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER,
    )
    st = certs.store(session)
    flags = 0
    when = _v._resolve_now(certs._now())
    if when is not None:
        for i in range(st._remote_count):
            c = st._remote_pool[i]
            if when < c._not_before_time:
                flags |= NXSECURE_CERT_NOT_ACTIVATED
            if when > c._not_after_time:
                flags |= NXSECURE_CERT_EXPIRED
    peer_is_server = session._verify_peer_is_server
    name = certs.server_name(session) if peer_is_server else None
    if name is not None and x509.nx_secure_x509_common_name_dns_check(
            st._remote_pool[0], name, len(name)):
        flags |= NXSECURE_CERT_BAD_IDENTITY
    path, _ = x509.x509_chain_verify(st, 0, now=x509.NX_SECURE_X509_TIME_UNCHECKED,
                                     role=x509.X509_ROLE_SERVER if peer_is_server
                                     else x509.X509_ROLE_CLIENT,
                                     strict_name=session._strict_names)
    if path == NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND:
        flags |= NXSECURE_CERT_UNKNOWN_CA
    elif path == NX_SECURE_X509_CRL_CERTIFICATE_REVOKED:
        flags |= NXSECURE_CERT_REVOKED
    elif path in (NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM, NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG,
                  NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER):
        flags |= NXSECURE_CERT_INSECURE
    elif path != NX_SUCCESS:
        flags |= NXSECURE_CERT_GENERIC_ERROR
    # no clock, or the application's callback said no
    return flags or NXSECURE_CERT_GENERIC_ERROR


__all__ = ("NXSECURE_CERT_UNKNOWN_CA", "NXSECURE_CERT_BAD_IDENTITY",
           "NXSECURE_CERT_NOT_ACTIVATED", "NXSECURE_CERT_EXPIRED", "NXSECURE_CERT_REVOKED",
           "NXSECURE_CERT_INSECURE", "NXSECURE_CERT_GENERIC_ERROR", "NXSECURE_CERT_VALIDATE_ALL",
           "nxsecure_dtls_session_ciphersuite_get", "nxsecure_dtls_session_protocol_version_get",
           "nxsecure_dtls_session_key_exchange_group_get",
           "nxsecure_dtls_session_extended_master_secret_get",
           "nxsecure_dtls_session_alert_value_get", "nxsecure_dtls_session_remote_certificate_get",
           "nxsecure_dtls_session_remote_chain_get", "nxsecure_dtls_session_remote_chain_pem_get",
           "nxsecure_dtls_session_certificate_flags_get")
