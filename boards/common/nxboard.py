"""What the board examples and the self-test share: the board's sizes (board_config,
with defaults where it is absent or silent), the crypto table it names, and the
application settings from /net_config.json. Import after board_config is on the path."""
try:
    import board_config as _cfg
except ImportError:
    _cfg = None

_DEFAULTS = {
    "BOARD": "generic",
    "DTLS_SERVER_SESSIONS": 2,
    "REASSEMBLY_PER_SESSION": 1024,
    "PACKET_PAYLOAD": 1536,
    "PACKET_COUNT": 8,
    "SUITES": ("ccm8",),
}


def get(name):
    return getattr(_cfg, name, _DEFAULTS[name])


def suite_ids(names=None):
    from nxsecure import (TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM,
                          TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256)
    ids = {"ccm8": TLS_PSK_WITH_AES_128_CCM_8, "ccm": TLS_PSK_WITH_AES_128_CCM,
           "gcm": TLS_PSK_WITH_AES_128_GCM_SHA256, "cbc": TLS_PSK_WITH_AES_128_CBC_SHA256}
    return [ids[n] for n in (names or get("SUITES"))]


def crypto_table(names=None):
    """The crypto table with only the board's suites (smaller metadata than the default)."""
    from nxsecure import port
    from nxsecure import make_tls_crypto
    return make_tls_crypto(port.crypto_backend(), suite_ids(names))


def app_settings():
    """Server address, port, PSK identity and key from /net_config.json, with the
    defaults of the examples (the PSK is a demo key: put your own in the file); for the
    sensor client also how many readings to send ("readings": none means forever) and
    how often ("period_s")."""
    import net
    cfg = net.load_config()
    psk_hex = cfg.get("psk_hex", "1a2b3c4d5e6f7081")
    return {
        "server": cfg.get("server", "127.0.0.1"),
        "port": int(cfg.get("port", 5684)),
        "identity": cfg.get("identity", "sensor-01").encode(),
        "psk": bytes(int(psk_hex[i:i + 2], 16) for i in range(0, len(psk_hex), 2)),
        # server: a client silent this long (killed, unplugged, out of range: no
        # close_notify) gives its session back
        "idle_s": int(cfg.get("idle_timeout_s", 120)),
        "readings": cfg.get("readings"),
        "period_s": cfg.get("period_s", 10),
    }


def parse_ipv4(text):
    from nxsecure import IP_ADDRESS
    a, b, c, d = (int(x) for x in text.split("."))
    return IP_ADDRESS(a, b, c, d)
