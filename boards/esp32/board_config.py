# nxsecure board defaults for ESP32 (no PSRAM): about 110 KB of heap is free with WiFi
# up. `make deploy BOARD=esp32` copies this file to the board's /lib, where
# nxsecure/config.py picks up the NX_* names when nxsecure is first imported. The other
# names are for the application (the examples in boards/common/ read them).
# Plain values only: this module must not import nxsecure. Budget: docs/BOARDS.md.
BOARD = "esp32"

# --- nxsecure.config overrides (the nx_user.h role) ---------------------------------
NX_SECURE_DTLS_DEFAULT_MTU = 1024        # largest datagram sent
NX_SECURE_DTLS_MAX_DATAGRAM = 1232       # largest datagram built or received
NX_SECURE_DTLS_FLIGHT_BUFFER_SIZE = 512  # PSK flights are < 400 bytes
NX_SECURE_TLS_MAX_PSK_KEYS = 2
NX_SECURE_TLS_MAX_PSK_SIZE = 32
NX_SECURE_TLS_MAX_PSK_ID_SIZE = 64
NX_SECURE_DTLS_MAX_FUTURE_FRAGMENTS = 4

# --- application sizes ----------------------------------------------------------------
DTLS_SERVER_SESSIONS = 4                 # sessions carved from the server's session buffer
REASSEMBLY_PER_SESSION = 512             # handshake reassembly bytes per session
PACKET_PAYLOAD = 1232                    # a received datagram lands in one packet
PACKET_COUNT = 6                         # packets in the pool (shared by all sessions)
SUITES = ("ccm8",)                       # crypto table rows: TLS_PSK_WITH_AES_128_CCM_8
