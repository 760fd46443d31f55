# Build-time sizes, the role of NetX's nx_user.h. A board's config (boards/*/) may
# override them before the stack is imported by assigning to this module.

# Largest UDP payload we send. 1280 (IPv6 minimum link MTU) - 40 (IPv6) - 8 (UDP).
NX_SECURE_DTLS_DEFAULT_MTU = 1232
# Largest datagram a session can build or receive.
NX_SECURE_DTLS_MAX_DATAGRAM = 1500

# PSK store (NetX: NX_SECURE_TLS_MAX_PSK_KEYS / _SIZE / _ID_SIZE).
NX_SECURE_TLS_MAX_PSK_KEYS = 4
NX_SECURE_TLS_MAX_PSK_SIZE = 64
NX_SECURE_TLS_MAX_PSK_ID_SIZE = 128

# Plaintext of the last flight kept for retransmission (RFC 6347 4.2.4).
NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE = 1024

# Retransmission timer (RFC 6347 4.2.4.1): start 1 s, double, cap 60 s; give up
# after this many transmissions of one flight.
NX_SECURE_DTLS_RETRANSMIT_TIMEOUT_MS = 1000
NX_SECURE_DTLS_MAX_RETRANSMIT_TIMEOUT_MS = 60000
NX_SECURE_DTLS_MAX_TRANSMISSIONS = 8

# Server: a handshake (from the cookie-verified ClientHello to the client's Finished)
# must be over within this time, or it fails and frees its session
# (nxsecure_dtls_server_handshake_timeout_set). Long enough for a peer's fifth
# retransmission on RFC 6347 4.2.4.1 timers (1+2+4+8+16 = 31 s after its first try).
NX_SECURE_DTLS_HANDSHAKE_TIMEOUT_MS = 40000

# Client: HelloVerifyRequests accepted in one handshake (RFC 6347 4.2.1 expects one).
NX_SECURE_DTLS_MAX_HELLO_VERIFY = 3

# Cookie secret lifetime; the previous secret stays valid for one more period.
NX_SECURE_DTLS_COOKIE_LIFETIME_MS = 60000
NX_SECURE_DTLS_COOKIE_LENGTH = 16

# Out-of-order handshake messages buffered per session (beyond the next expected).
NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS = 8

# Board overrides: a module `board_config` on the import path (boards/<board>/
# board_config.py, which `make deploy` copies to the board's /lib) may set any NX_* name
# above. It is read here, when nxsecure is first imported, because the sizes are used
# at import time (e.g. sizeof(NX_SECURE_DTLS_SESSION)); board_config must not import
# nxsecure. No such module (the host, tests): the defaults above stand.
try:
    import board_config as _board
except ImportError:
    _board = None
if _board is not None:
    for _name in dir(_board):
        if _name.startswith("NX_") and _name in globals():
            globals()[_name] = getattr(_board, _name)
    del _name
del _board
