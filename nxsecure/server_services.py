"""The names of the server's services (nxsecure/server.py), installed with it.

The package (nxsecure/__init__.py) imports this list, not the server: the server's code
loads on first use of one of these names, so a client application never carries it
(~10 KB of heap on a 32-bit board; docs/BOARDS.md). Where the server is not installed
(a client-only profile) neither is this file, and the names do not exist."""
SERVICES = ("NX_SECURE_DTLS_SERVER", "nx_secure_dtls_server_create",
            "nx_secure_dtls_server_delete", "nx_secure_dtls_server_notify_set",
            "nx_secure_dtls_server_psk_add", "nx_secure_dtls_server_session_send",
            "nx_secure_dtls_server_session_start", "nx_secure_dtls_server_start",
            "nx_secure_dtls_server_stop", "nxsecure_dtls_server_handshake_timeout_set",
            "nxsecure_dtls_server_idle_timeout_set", "nxsecure_dtls_server_keylog_set",
            "nxsecure_dtls_server_mtu_set", "nxsecure_dtls_server_trace_set")


def load(name):
    """The server's `name`, the server loaded on the first call (port.load: collected
    before, so that its code fills the heap's holes, and after, so that the set-up that
    follows fills the ones its loading leaves; later calls find it loaded)."""
    from nxsecure import port
    return getattr(port.load("nxsecure.server", True), name)
