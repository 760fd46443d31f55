"""Readable status: every NetX return code's name and a one-line meaning, alert names, and the last alert a session received (host only)."""
# nxsecure: cpython-only (tools/profiles.py HOST_ONLY: never installed on a board)
# The codes are those of nxsecure/const.py (NetX's nx_api.h values and the NetX Secure
# DTLS guide's Appendix A); the meanings are ours, written for this stack: where a code
# has a particular cause here, the line says so. A code missing from the table is
# reported as "unknown status 0x...", never an exception.
from .const import NX_SUCCESS, NX_PTR_ERROR, NX_NOT_FOUND, ALERT_WARNING, ALERT_FATAL

# code -> (name, meaning). Where nxsecure gives a NetX code a second, descriptive name
# (const.py: NX_SECURE_TLS_HANDSHAKE_TIMEOUT is NX_NO_RESPONSE), the NetX name comes
# first and the alias is listed in ALIASES.
_TABLE = {
    0x00: ("NX_SUCCESS", "success"),
    0x01: ("NX_NO_PACKET", "nothing arrived within the wait (no packet, or the pool stayed empty)"),
    0x02: ("NX_UNDERFLOW", "the packet has too little room in front of its data"),
    0x03: ("NX_OVERFLOW", "the packet's data runs past the end of its payload area"),
    0x04: ("NX_NO_MAPPING", "no address mapping for the destination"),
    0x05: ("NX_DELETED", "the object was deleted while the caller waited on it"),
    0x06: ("NX_POOL_ERROR", "the packet pool is invalid"),
    0x07: ("NX_PTR_ERROR", "a control block or buffer argument is missing or not created"),
    0x08: ("NX_WAIT_ERROR", "a wait option other than NX_NO_WAIT where waiting is not allowed"),
    0x09: ("NX_SIZE_ERROR", "a size argument is invalid (or the data does not fit one packet)"),
    0x0A: ("NX_OPTION_ERROR", "an option argument is invalid"),
    0x10: ("NX_DELETE_ERROR", "the object cannot be deleted in its current state"),
    0x11: ("NX_CALLER_ERROR", "the service was called from a context that may not call it"),
    0x12: ("NX_INVALID_PACKET", "the packet is not valid for this service"),
    0x13: ("NX_INVALID_SOCKET", "the socket is not valid (or the session has none)"),
    0x14: ("NX_NOT_ENABLED", "the feature is not enabled (e.g. nx_udp_enable was not called)"),
    0x15: ("NX_ALREADY_ENABLED", "the feature is already enabled"),
    0x16: ("NX_ENTRY_NOT_FOUND", "no such entry"),
    0x17: ("NX_NO_MORE_ENTRIES", "no room for another entry"),
    0x1A: ("NX_WAIT_ABORTED", "the wait was aborted"),
    0x20: ("NX_IP_INTERNAL_ERROR", "internal IP error"),
    0x21: ("NX_IP_ADDRESS_ERROR", "the IP address is invalid or of a family the IP instance lacks"),
    0x22: ("NX_ALREADY_BOUND", "the socket is already bound"),
    0x23: ("NX_PORT_UNAVAILABLE", "the UDP port is in use by another socket or process"),
    0x24: ("NX_NOT_BOUND", "the socket is not bound"),
    0x26: ("NX_SOCKET_UNBOUND", "the socket was unbound while the caller waited"),
    0x27: ("NX_NOT_CREATED", "the object was never created"),
    0x28: ("NX_SOCKETS_BOUND", "sockets of the IP instance are still bound"),
    0x29: ("NX_NO_RESPONSE", "no answer from the peer: the handshake timed out after its "
                             "retransmissions (nothing listening, packets dropped, or a peer "
                             "that ignores us, e.g. an unknown PSK identity)"),
    0x30: ("NX_POOL_DELETED", "the packet pool was deleted while the caller waited"),
    0x31: ("NX_ALREADY_RELEASED", "the packet was already released"),
    0x37: ("NX_IN_PROGRESS", "the operation is already in progress"),
    0x38: ("NX_NOT_CONNECTED", "not connected: the server cannot be reached at that address "
                               "and port (connection refused: ICMP port unreachable), or the "
                               "session is not established or has ended"),
    0x42: ("NX_STILL_BOUND", "still bound (or still started): stop or unbind first"),
    0x43: ("NX_NOT_SUCCESSFUL", "the operation failed (an operating-system error)"),
    0x45: ("NX_NO_FREE_PORTS", "no free UDP port to bind to"),
    0x46: ("NX_INVALID_PORT", "the port number is out of range"),
    0x4A: ("NX_NOT_IMPLEMENTED", "not implemented"),
    0x4B: ("NX_NOT_SUPPORTED", "not supported"),
    0x4C: ("NX_INVALID_INTERFACE", "the interface index is invalid"),
    0x4D: ("NX_INVALID_PARAMETERS", "an argument is invalid (e.g. a buffer too small, a record "
                                    "larger than the MTU allows, an MTU out of range)"),
    0x4E: ("NX_NOT_FOUND", "not found"),
    0x53: ("NX_PACKET_OFFSET_ERROR", "the offset is beyond the packet's data"),
    0x55: ("NX_CONTINUE", "not finished within the wait: the work goes on while the stack "
                          "runs; call the service again for its result"),
    0x101: ("NX_SECURE_TLS_SESSION_UNINITIALIZED", "the session or server was never created "
                                                   "(or was deleted)"),
    0x102: ("NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE", "the peer sent a handshake message the "
                                                       "handshake does not allow at this point"),
    0x103: ("NX_SECURE_TLS_INVALID_STATE", "the session is not in a state that allows this"),
    0x104: ("NX_SECURE_TLS_INVALID_PACKET", "a received record or message is malformed"),
    0x105: ("NX_SECURE_TLS_UNKNOWN_CIPHERSUITE", "the peer chose a cipher suite we did not offer"),
    0x106: ("NX_SECURE_TLS_UNSUPPORTED_CIPHER", "the cipher is not supported by the crypto table"),
    0x107: ("NX_SECURE_TLS_HANDSHAKE_FAILURE", "the handshake failed (too many "
                                               "HelloVerifyRequests, or an internal error)"),
    0x108: ("NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE", "a record did not authenticate: the two "
                                                     "sides derived different keys (usually a "
                                                     "wrong PSK)"),
    0x109: ("NX_SECURE_TLS_TCP_SEND_FAILED", "the datagram could not be sent (socket error)"),
    0x10A: ("NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH", "a handshake message has a wrong length"),
    0x10B: ("NX_SECURE_TLS_BAD_CIPHERSPEC", "the ChangeCipherSpec message is malformed"),
    0x10C: ("NX_SECURE_TLS_INVALID_SERVER_CERT", "the server's certificate cannot identify it"),
    0x10D: ("NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER", "the peer's public-key algorithm, curve "
                                                       "or signature scheme is not supported"),
    0x10E: ("NX_SECURE_TLS_NO_SUPPORTED_CIPHERS", "no cipher suite in common (suites, "
                                                  "credentials or curves do not match)"),
    0x10F: ("NX_SECURE_TLS_UNKNOWN_TLS_VERSION", "the record carries an unknown version"),
    0x110: ("NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION", "the peer does not speak DTLS 1.2"),
    0x111: ("NX_SECURE_TLS_ALLOCATE_PACKET_FAILED", "no packet in the pool for the record"),
    0x112: ("NX_SECURE_TLS_INVALID_CERTIFICATE", "the peer's certificate is invalid"),
    0x113: ("NX_SECURE_TLS_NO_CLOSE_RESPONSE", "the peer did not answer close_notify"),
    0x114: ("NX_SECURE_TLS_ALERT_RECEIVED", "the peer ended the handshake or session with a "
                                            "fatal alert (see the last alert received)"),
    0x115: ("NX_SECURE_TLS_FINISHED_HASH_FAILURE", "the peer's Finished does not match the "
                                                   "handshake: the two sides saw different "
                                                   "messages"),
    0x116: ("NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM", "a certificate's signature algorithm "
                                                        "is unknown"),
    0x117: ("NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED", "a certificate's signature does not "
                                                          "verify"),
    0x118: ("NX_SECURE_TLS_BAD_COMPRESSION_METHOD", "the peer asked for compression (DTLS 1.2 "
                                                    "here has none)"),
    0x119: ("NX_SECURE_TLS_CERTIFICATE_NOT_FOUND", "no certificate with that name or id"),
    0x11A: ("NX_SECURE_TLS_INVALID_SELF_SIGNED_CERT", "a self-signed certificate that is not "
                                                      "trusted"),
    0x11B: ("NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND", "the peer's chain does not lead to a "
                                                          "trusted certificate (add its CA)"),
    0x11C: ("NX_SECURE_TLS_OUT_OF_ORDER_MESSAGE", "a handshake message arrived out of order"),
    0x11D: ("NX_SECURE_TLS_INVALID_REMOTE_HOST", "the remote host is not the expected one"),
    0x11E: ("NX_SECURE_TLS_INVALID_EPOCH", "a record arrived in the wrong epoch (unprotected "
                                           "where protection is due)"),
    0x11F: ("NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED", "a handshake message was repeated"),
    0x120: ("NX_SECURE_TLS_NEED_DTLS_SESSION", "a DTLS session is required here"),
    0x121: ("NX_SECURE_TLS_NEED_TLS_SESSION", "a TLS session is required here"),
    0x122: ("NX_SECURE_TLS_SEND_ADDRESS_MISMATCH", "the address or port is not the session's "
                                                   "peer"),
    0x123: ("NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS", "the server is full: every session is "
                                                   "connected or handshaking"),
    0x124: ("NX_SECURE_DTLS_SESSION_NOT_FOUND", "no session for that address"),
    0x125: ("NX_SECURE_TLS_NO_MORE_PSK_SPACE", "the PSK store is full"),
    0x126: ("NX_SECURE_TLS_NO_MATCHING_PSK", "the peer's PSK identity is not in our store"),
    0x127: ("NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED", "the peer closed the session (close_notify)"),
    0x128: ("NX_SECURE_TLS_NO_AVAILABLE_SESSIONS", "no session available"),
    0x129: ("NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED", "no room was given for the peer's "
                                                     "certificates (remote certificate buffer)"),
    0x12A: ("NX_SECURE_TLS_PADDING_CHECK_FAILED", "a CBC record's padding is wrong"),
    0x12B: ("NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_TYPE", "the certificate's signature type is not "
                                                        "supported"),
    0x12C: ("NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG", "the certificate's signature algorithm is "
                                                       "not supported"),
    0x12D: ("NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE", "the peer's certificate chain does not fit "
                                                     "the remote certificate buffer"),
    0x12E: ("NX_SECURE_TLS_PROTOCOL_VERSION_CHANGED", "the peer changed the protocol version "
                                                      "mid-handshake"),
    0x12F: ("NX_SECURE_TLS_NO_RENEGOTIATION_ERROR", "renegotiation is not supported"),
    0x130: ("NX_SECURE_TLS_UNSUPPORTED_FEATURE", "the peer used a feature we did not offer "
                                                 "(e.g. an extension)"),
    0x131: ("NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE", "the client's CertificateVerify "
                                                        "signature does not verify"),
    0x132: ("NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED", "the peer sent no certificate "
                                                               "where one is required"),
    0x133: ("NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR", "the renegotiation_info extension "
                                                           "is wrong (RFC 5746)"),
    0x134: ("NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE", "renegotiation on an inactive "
                                                            "session"),
    0x135: ("NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL", "a message does not fit its buffer "
                                                     "(reassembly or flight buffer)"),
    0x136: ("NX_SECURE_TLS_EXTENSION_NOT_FOUND", "a required extension is missing"),
    0x137: ("NX_SECURE_TLS_SNI_EXTENSION_INVALID", "the server_name extension is invalid"),
    0x138: ("NX_SECURE_TLS_CERT_ID_INVALID", "the certificate id is invalid (0 is reserved)"),
    0x139: ("NX_SECURE_TLS_CERT_ID_DUPLICATE", "a certificate with that id is already in the "
                                               "store"),
    0x13A: ("NX_SECURE_TLS_RENEGOTIATION_FAILURE", "renegotiation failed"),
    0x13B: ("NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE", "a crypto routine is missing from the table, "
                                                    "or the platform has no secure random "
                                                    "source"),
    0x181: ("NX_SECURE_X509_MULTIBYTE_TAG_UNSUPPORTED", "certificate DER: multi-byte tags are "
                                                        "not supported"),
    0x182: ("NX_SECURE_X509_ASN1_LENGTH_TOO_LONG", "certificate DER: a length runs past its "
                                                   "container"),
    0x183: ("NX_SECURE_X509_FOUND_NON_ZERO_PADDING", "certificate DER: non-zero padding bits"),
    0x184: ("NX_SECURE_X509_MISSING_PUBLIC_KEY", "the certificate has no public key"),
    0x185: ("NX_SECURE_X509_INVALID_PUBLIC_KEY", "the certificate's public key is invalid"),
    0x186: ("NX_SECURE_X509_INVALID_CERTIFICATE_SEQUENCE", "certificate DER: the outer "
                                                           "structure is wrong"),
    0x187: ("NX_SECURE_X509_MISSING_SIGNATURE_ALGORITHM", "the certificate names no signature "
                                                          "algorithm"),
    0x188: ("NX_SECURE_X509_INVALID_CERTIFICATE_DATA", "the certificate data is invalid (not "
                                                       "DER, or PEM given as DER)"),
    0x189: ("NX_SECURE_X509_UNEXPECTED_ASN1_TAG", "certificate DER: an unexpected tag"),
    0x18A: ("NX_SECURE_PKCS1_INVALID_PRIVATE_KEY", "the private key is invalid or does not "
                                                   "match the certificate"),
    0x18B: ("NX_SECURE_X509_CHAIN_TOO_SHORT", "the certificate chain is too short"),
    0x18C: ("NX_SECURE_X509_CHAIN_VERIFY_FAILURE", "the certificate chain does not verify (or "
                                                   "the certificate was rejected)"),
    0x18D: ("NX_SECURE_X509_PKCS7_PARSING_FAILED", "a PKCS#7 structure could not be parsed"),
    0x18E: ("NX_SECURE_X509_CERTIFICATE_NOT_FOUND", "no such certificate in the store"),
    0x18F: ("NX_SECURE_X509_INVALID_VERSION", "the certificate's version is not supported"),
    0x190: ("NX_SECURE_X509_INVALID_TAG_CLASS", "certificate DER: an invalid tag class"),
    0x191: ("NX_SECURE_X509_INVALID_EXTENSIONS", "the certificate's extensions are invalid"),
    0x192: ("NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE", "the certificate's extension list is "
                                                         "malformed"),
    0x193: ("NX_SECURE_X509_CERTIFICATE_EXPIRED", "a certificate of the chain has expired"),
    0x194: ("NX_SECURE_X509_CERTIFICATE_NOT_YET_VALID", "a certificate of the chain is not valid "
                                                        "yet (check the clock)"),
    0x195: ("NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH", "the certificate is not for this host "
                                                       "name"),
    0x196: ("NX_SECURE_X509_INVALID_DATE_FORMAT", "a certificate date is malformed"),
    0x197: ("NX_SECURE_X509_CRL_ISSUER_MISMATCH", "the CRL is not from the certificate's "
                                                  "issuer"),
    0x198: ("NX_SECURE_X509_CRL_SIGNATURE_CHECK_FAILED", "the CRL's signature does not verify"),
    0x199: ("NX_SECURE_X509_CRL_CERTIFICATE_REVOKED", "the certificate is revoked"),
    0x19A: ("NX_SECURE_X509_WRONG_SIGNATURE_METHOD", "the signature method does not match the "
                                                     "key"),
    0x19B: ("NX_SECURE_X509_EXTENSION_NOT_FOUND", "the certificate lacks that extension"),
    0x19C: ("NX_SECURE_X509_ALT_NAME_NOT_FOUND", "no subjectAltName matches"),
    0x19D: ("NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE", "the private key type is not supported"),
    0x19E: ("NX_SECURE_X509_NAME_STRING_TOO_LONG", "a name in the certificate is too long"),
    0x19F: ("NX_SECURE_X509_EXT_KEY_USAGE_NOT_FOUND", "the certificate's extended key usage does "
                                                      "not allow this role"),
    0x1A0: ("NX_SECURE_X509_KEY_USAGE_ERROR", "the certificate's key usage does not allow this "
                                              "role"),
    # nxsecure's own X.509 codes (nxsecure/x509/verify.py), after NetX's range
    0x1AB: ("NX_SECURE_X509_NO_TIME_SOURCE", "no clock to check validity dates against: set one "
                                             "with nx_secure_x509_time_function_set"),
    0x1AC: ("NX_SECURE_X509_CRL_NOT_CURRENT", "a CRL that applies is not current (before its "
                                              "thisUpdate or after its nextUpdate)"),
    0x1AD: ("NX_SECURE_X509_PRIVATE_KEY_MISMATCH", "the private key is not the key of the "
                                                   "certificate it was given with"),
}

# nxsecure's descriptive second names for NetX codes (nxsecure/const.py)
ALIASES = {
    0x29: ("NX_SECURE_TLS_HANDSHAKE_TIMEOUT",),
    0x136: ("NXSECURE_DTLS_NO_APPLICATION_PROTOCOL",),
    0x13B: ("NX_SECURE_TLS_MISSING_CRYPTOROUTINE", "NX_SECURE_TLS_NO_RANDOM_SOURCE"),
}

# RFC 5246 7.2, RFC 4279 2 (unknown_psk_identity), RFC 7301 (no_application_protocol)
ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    21: "decryption_failed", 22: "record_overflow", 30: "decompression_failure",
    40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
    43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
    46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
    50: "decode_error", 51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 110: "unsupported_extension",
    111: "certificate_unobtainable", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
    115: "unknown_psk_identity", 120: "no_application_protocol",
}


def name(code):
    """The NetX name of a status code ('NX_SECURE_TLS_ALERT_RECEIVED' for 0x114);
    'unknown status 0x...' for a value that is none."""
    e = _TABLE.get(code) if isinstance(code, int) else None
    return e[0] if e is not None else "unknown status %s" % _hex(code)


def meaning(code):
    """One line saying what the code means here."""
    e = _TABLE.get(code) if isinstance(code, int) else None
    return e[1] if e is not None else "not a NetX or nxsecure status code"


def describe(code):
    """'NX_SECURE_TLS_ALERT_RECEIVED (0x114): the peer ended ...' in one line."""
    if not known(code):
        return "%s: %s" % (_hex(code), meaning(code))
    aliases = ALIASES.get(code)
    extra = (", also " + ", ".join(aliases)) if aliases else ""
    return "%s (%s%s): %s" % (name(code), _hex(code), extra, meaning(code))


def known(code):
    return isinstance(code, int) and code in _TABLE


def codes():
    """Every status code with a name, ascending."""
    return sorted(_TABLE)


def alert_name(description):
    """RFC 5246 name of an alert description ('bad_record_mac' for 20)."""
    return ALERTS.get(description, "alert %s" % description)


def describe_alert(level, description):
    """'fatal bad_record_mac (2, 20)' / 'warning close_notify (1, 0)'."""
    lv = "fatal" if level == ALERT_FATAL else "warning" if level == ALERT_WARNING else \
        "level %s" % level
    return "%s %s (%s, %s)" % (lv, alert_name(description), level, description)


def last_alert(session):
    """(level, description) of the last alert the session's peer sent us (close_notify
    included), or None when none came since the session started. An alert is counted
    once the engine accepted it: an unprotected alert after the handshake (forgeable,
    dropped) is not."""
    e = getattr(session, "_engine", None)
    return getattr(e, "last_alert", None) if e is not None else None


def _hex(code):
    try:
        return "0x%X" % code
    except TypeError:
        return repr(code)


# Board-capable since issue 15 (a server's error_notify asks it): nxsecure/session_info.py.
from .session_info import nxsecure_dtls_session_alert_value_get  # noqa: E402,F401
