"""Server Name Indication (RFC 6066 3) and the host name a client checks (RFC 6125): the client names its server, the server learns the name and picks its certificate by it."""
# Optional (tools/profiles.py FEATURES "server-name"); an application imports it:
#     from nxsecure.sni import *
# NetX Secure TLS has nx_secure_tls_session_sni_extension_set / _parse; NetX has no DTLS
# variant, so these are nxsecure_dtls_*, in the same shape:
#   nxsecure_dtls_session_sni_extension_set(session, dns_name)   client: name the server
#       (an NX_SECURE_X509_DNS_NAME made by nx_secure_x509_dns_name_initialize)
from .const import NX_SUCCESS, NX_PTR_ERROR, NX_INVALID_PARAMETERS


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
    if dns_name is None:
        session_ptr._server_name = None
        return NX_SUCCESS
    name = _name_of(dns_name)
    if name is None:
        return NX_PTR_ERROR
    if not name:
        return NX_INVALID_PARAMETERS
    session_ptr._server_name = name
    return NX_SUCCESS


__all__ = ("nxsecure_dtls_session_sni_extension_set",)
