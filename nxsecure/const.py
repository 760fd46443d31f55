# NetX return codes and options the core services use (numeric values of nx_api.h and
# the NetX Secure DTLS user guide, Appendix A, Table 1), the PSK suite numbers, and the
# one internal exception. The X.509 codes (Table 2), the certificate suites and the
# wire numbers under public names are in const_ext.py, served from here on first use;
# the core modules keep private const() copies of the wire numbers they use.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# --- NetX (nx_api.h) -------------------------------------------------------------
NX_SUCCESS = const(0x00)
NX_NULL = None
NX_NO_PACKET = const(0x01)
NX_UNDERFLOW = const(0x02)
NX_OVERFLOW = const(0x03)
NX_NO_MAPPING = const(0x04)
NX_DELETED = const(0x05)
NX_POOL_ERROR = const(0x06)
NX_PTR_ERROR = const(0x07)
NX_WAIT_ERROR = const(0x08)
NX_SIZE_ERROR = const(0x09)
NX_OPTION_ERROR = const(0x0A)
NX_DELETE_ERROR = const(0x10)
NX_CALLER_ERROR = const(0x11)
NX_INVALID_PACKET = const(0x12)
NX_INVALID_SOCKET = const(0x13)
NX_NOT_ENABLED = const(0x14)
NX_ALREADY_ENABLED = const(0x15)
NX_ENTRY_NOT_FOUND = const(0x16)
NX_NO_MORE_ENTRIES = const(0x17)
NX_WAIT_ABORTED = const(0x1A)
NX_IP_INTERNAL_ERROR = const(0x20)
NX_IP_ADDRESS_ERROR = const(0x21)
NX_ALREADY_BOUND = const(0x22)
NX_PORT_UNAVAILABLE = const(0x23)
NX_NOT_BOUND = const(0x24)
NX_SOCKET_UNBOUND = const(0x26)
NX_NOT_CREATED = const(0x27)
NX_SOCKETS_BOUND = const(0x28)
NX_NO_RESPONSE = const(0x29)
NX_POOL_DELETED = const(0x30)
NX_ALREADY_RELEASED = const(0x31)
NX_IN_PROGRESS = const(0x37)
NX_NOT_CONNECTED = const(0x38)
NX_STILL_BOUND = const(0x42)
NX_NOT_SUCCESSFUL = const(0x43)
NX_NO_FREE_PORTS = const(0x45)
NX_INVALID_PORT = const(0x46)
NX_NOT_IMPLEMENTED = const(0x4A)
NX_NOT_SUPPORTED = const(0x4B)
NX_INVALID_INTERFACE = const(0x4C)
NX_INVALID_PARAMETERS = const(0x4D)
NX_NOT_FOUND = const(0x4E)
NX_PACKET_OFFSET_ERROR = const(0x53)
NX_CONTINUE = const(0x55)

NX_NO_WAIT = const(0)
NX_WAIT_FOREVER = 0xFFFFFFFF
NX_IP_PERIODIC_RATE = const(100)      # ticks per second
TX_TIMER_TICKS_PER_SECOND = const(100)

NX_IP_NORMAL = const(0x00000000)
NX_FRAGMENT_OKAY = const(0x00000000)
NX_DONT_FRAGMENT = const(0x00004000)
NX_IP_TIME_TO_LIVE = const(0x80)
NX_ANY_PORT = const(0)
NX_IP_VERSION_V4 = const(0x4)
NX_IP_VERSION_V6 = const(0x6)
NX_UDP_PACKET = const(44)
NX_IPv4_UDP_PACKET = const(44)
NX_IPv6_UDP_PACKET = const(64)
NX_IP_INITIALIZE_DONE = const(0x0001)

# --- NetX Secure TLS/DTLS (Appendix A, Table 1) -----------------------------------
NX_SECURE_TLS_SUCCESS = const(0x00)
NX_SECURE_TLS_SESSION_UNINITIALIZED = const(0x101)
NX_SECURE_TLS_UNRECOGNIZED_MESSAGE_TYPE = const(0x102)
NX_SECURE_TLS_INVALID_STATE = const(0x103)
NX_SECURE_TLS_INVALID_PACKET = const(0x104)
NX_SECURE_TLS_UNKNOWN_CIPHERSUITE = const(0x105)
NX_SECURE_TLS_UNSUPPORTED_CIPHER = const(0x106)
NX_SECURE_TLS_HANDSHAKE_FAILURE = const(0x107)
NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE = const(0x108)
NX_SECURE_TLS_TCP_SEND_FAILED = const(0x109)
NX_SECURE_TLS_INCORRECT_MESSAGE_LENGTH = const(0x10A)
NX_SECURE_TLS_BAD_CIPHERSPEC = const(0x10B)
NX_SECURE_TLS_INVALID_SERVER_CERT = const(0x10C)
NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER = const(0x10D)
NX_SECURE_TLS_NO_SUPPORTED_CIPHERS = const(0x10E)
NX_SECURE_TLS_UNKNOWN_TLS_VERSION = const(0x10F)
NX_SECURE_TLS_UNSUPPORTED_TLS_VERSION = const(0x110)
NX_SECURE_TLS_ALLOCATE_PACKET_FAILED = const(0x111)
NX_SECURE_TLS_INVALID_CERTIFICATE = const(0x112)
NX_SECURE_TLS_NO_CLOSE_RESPONSE = const(0x113)
NX_SECURE_TLS_ALERT_RECEIVED = const(0x114)
NX_SECURE_TLS_FINISHED_HASH_FAILURE = const(0x115)
NX_SECURE_TLS_UNKNOWN_CERT_SIG_ALGORITHM = const(0x116)
NX_SECURE_TLS_CERTIFICATE_SIG_CHECK_FAILED = const(0x117)
NX_SECURE_TLS_BAD_COMPRESSION_METHOD = const(0x118)
NX_SECURE_TLS_CERTIFICATE_NOT_FOUND = const(0x119)
NX_SECURE_TLS_INVALID_SELF_SIGNED_CERT = const(0x11A)
NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND = const(0x11B)
NX_SECURE_TLS_OUT_OF_ORDER_MESSAGE = const(0x11C)
NX_SECURE_TLS_INVALID_REMOTE_HOST = const(0x11D)
NX_SECURE_TLS_INVALID_EPOCH = const(0x11E)
NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED = const(0x11F)
NX_SECURE_TLS_NEED_DTLS_SESSION = const(0x120)
NX_SECURE_TLS_NEED_TLS_SESSION = const(0x121)
NX_SECURE_TLS_SEND_ADDRESS_MISMATCH = const(0x122)
NX_SECURE_TLS_NO_FREE_DTLS_SESSIONS = const(0x123)
NX_SECURE_DTLS_SESSION_NOT_FOUND = const(0x124)
NX_SECURE_TLS_NO_MORE_PSK_SPACE = const(0x125)
NX_SECURE_TLS_NO_MATCHING_PSK = const(0x126)
NX_SECURE_TLS_CLOSE_NOTIFY_RECEIVED = const(0x127)
NX_SECURE_TLS_NO_AVAILABLE_SESSIONS = const(0x128)
NX_SECURE_TLS_NO_CERT_SPACE_ALLOCATED = const(0x129)
NX_SECURE_TLS_PADDING_CHECK_FAILED = const(0x12A)
NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_TYPE = const(0x12B)
NX_SECURE_TLS_UNSUPPORTED_CERT_SIGN_ALG = const(0x12C)
NX_SECURE_TLS_INSUFFICIENT_CERT_SPACE = const(0x12D)
NX_SECURE_TLS_PROTOCOL_VERSION_CHANGED = const(0x12E)
NX_SECURE_TLS_NO_RENEGOTIATION_ERROR = const(0x12F)
NX_SECURE_TLS_UNSUPPORTED_FEATURE = const(0x130)
NX_SECURE_TLS_CERTIFICATE_VERIFY_FAILURE = const(0x131)
NX_SECURE_TLS_EMPTY_REMOTE_CERTIFICATE_RECEIVED = const(0x132)
NX_SECURE_TLS_RENEGOTIATION_EXTENSION_ERROR = const(0x133)
NX_SECURE_TLS_RENEGOTIATION_SESSION_INACTIVE = const(0x134)
NX_SECURE_TLS_PACKET_BUFFER_TOO_SMALL = const(0x135)
NX_SECURE_TLS_EXTENSION_NOT_FOUND = const(0x136)
NX_SECURE_TLS_SNI_EXTENSION_INVALID = const(0x137)
NX_SECURE_TLS_CERT_ID_INVALID = const(0x138)
NX_SECURE_TLS_CERT_ID_DUPLICATE = const(0x139)
NX_SECURE_TLS_RENEGOTIATION_FAILURE = const(0x13A)
NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE = const(0x13B)
NX_SECURE_TLS_MISSING_CRYPTOROUTINE = const(0x13B)   # spelling used in chapter 4
# Where the guide has no code of its own, nxsecure reports an existing NetX code
# under a descriptive alias (the numeric value is NetX's):
# - the handshake timed out (retransmissions exhausted, RFC 6347 4.2.4): NetX's
#   "no response" code;
# - the platform has no secure random source: the crypto table's routine is missing.
NX_SECURE_TLS_HANDSHAKE_TIMEOUT = NX_NO_RESPONSE
# - the peer went silent after the handshake (the server's idle timeout, or keep-alive
#   heartbeats unanswered): nxsecure_dtls_session_disconnect_reason_get tells it
#   from its close_notify.
NXSECURE_DTLS_PEER_TIMEOUT = NX_NO_RESPONSE
NX_SECURE_TLS_NO_RANDOM_SOURCE = NX_SECURE_TLS_MISSING_CRYPTO_ROUTINE

# --- PSK cipher suites (RFC 6655, RFC 5487) ---------------------------------------
TLS_PSK_WITH_AES_128_CCM_8 = const(0xC0A8)
TLS_PSK_WITH_AES_128_CCM = const(0xC0A4)
TLS_PSK_WITH_AES_128_GCM_SHA256 = const(0x00A8)
TLS_PSK_WITH_AES_128_CBC_SHA256 = const(0x00AE)


class NxError(Exception):
    """The one internal exception: a NetX code and the alert that goes on the wire
    (internal_error unless the raiser names another). Raised by inner layers, caught
    at the public-service boundary."""

    def __init__(self, code, alert=80):        # internal_error unless said otherwise
        self.code = code
        self.alert = alert


# --- NetX (nx_api.h) additions used by nxsecure/netx.py ------------------------------
# IP status bits (nx_ip_status_check), packet alignment, port range.
NX_IP_ADDRESS_RESOLVED = const(0x0002)
NX_IP_LINK_ENABLED = const(0x0004)
NX_IP_ARP_ENABLED = const(0x0008)
NX_IP_UDP_ENABLED = const(0x0010)
NX_IP_TOS_MASK = const(0x00FF0000)
NX_IP_TIME_TO_LIVE_MASK = 0xFF000000
NX_PACKET_ALIGNMENT = const(4)
NX_MAX_PORT = const(0xFFFF)


def __getattr__(name):
    # the names kept in nxsecure/const_ext.py (X.509 codes, wire numbers, ...)
    m = __import__("nxsecure.const_ext", None, None, ("AD_INTERNAL_ERROR",), 0)
    try:
        return getattr(m, name)
    except AttributeError:
        raise AttributeError(name)


# Not exported: `from nxsecure import *` must not bring a `const` that hides this module.
del const
