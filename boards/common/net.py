"""Network bring-up for the board examples: WLAN station connect from a JSON config file,
with a timeout and errors that say what went wrong.

    import net
    cfg = net.load_config()          # /net_config.json (see net_config.example.json)
    ip = net.wlan_connect(cfg)       # returns the board's IP address, or raises NetError

Where there is no WLAN to bring up, wlan_connect returns None and the network the
program already has is used: on a platform without the `network` module but with
sockets (CPython, MicroPython's unix port: the host's network), or when the config says
so with "wlan": false (a board whose network is up before the program runs). A build
with neither WLAN nor sockets (the WebAssembly port, a Pico without W) raises NetError
saying so, at once: the examples cannot run there."""
import time

CONFIG_PATHS = ("/net_config.json", "net_config.json")


class NetError(Exception):
    """Network bring-up failed; str(e) says why and what to check."""


def load_config(paths=CONFIG_PATHS):
    """The first config file found, as a dict; {} when there is none."""
    import json
    for p in paths:
        try:
            f = open(p)
        except OSError:
            continue
        try:
            cfg = json.load(f)
        except ValueError as e:
            raise NetError("%s is not valid JSON: %s" % (p, e))
        finally:
            f.close()
        if not isinstance(cfg, dict):
            raise NetError("%s must hold a JSON object" % p)
        return cfg
    return {}


_STATUS_NAMES = (
    ("STAT_WRONG_PASSWORD", "wrong WLAN password"),
    ("STAT_NO_AP_FOUND", "no access point with that SSID in range"),
    ("STAT_CONNECT_FAIL", "the access point refused the connection"),
)


def _failure(network, status):
    for attr, text in _STATUS_NAMES:
        if hasattr(network, attr) and status == getattr(network, attr):
            return text
    if status in (-1, -2, -3):      # the Pico W's CYW43 codes: fail, no net, bad auth
        return ("link failed", "no access point with that SSID in range",
                "wrong WLAN password")[-status - 1]
    return None


def _need_sockets(why):
    try:
        import socket       # noqa: F401
    except ImportError:
        raise NetError("%s and no socket module: this MicroPython build has no network "
                       "the example could use (run it on a board with WLAN, or on the "
                       "unix port)" % why)


def wlan_connect(cfg=None, timeout_s=None, log=print):
    """Connect the WLAN station interface. cfg: {"ssid", "password", "timeout_s",
    "hostname", "wlan"}; loaded with load_config() when None. Returns the IP address
    (str), or None where no WLAN is brought up ("wlan": false in cfg, or no `network`
    module). Raises NetError with the reason."""
    if cfg is None:
        cfg = load_config()
    if cfg.get("wlan", True) is False:
        _need_sockets("\"wlan\": false in the config")
        log("net: WLAN not brought up (\"wlan\": false in the config): using the network "
            "this platform already has")
        return None
    try:
        import network
    except ImportError:
        _need_sockets("no WLAN on this platform (no network module)")
        log("net: no WLAN on this platform (no network module): using the host's network")
        return None
    ssid = cfg.get("ssid")
    if not ssid:
        raise NetError("no WLAN SSID: put {\"ssid\": ..., \"password\": ...} in /net_config.json")
    if timeout_s is None:
        timeout_s = cfg.get("timeout_s", 20)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if cfg.get("hostname") and hasattr(network, "hostname"):
        network.hostname(cfg["hostname"])
    if wlan.isconnected():
        return wlan.ifconfig()[0]
    log("net: connecting to %r (timeout %d s)" % (ssid, timeout_s))
    wlan.connect(ssid, cfg.get("password", ""))
    t0 = time.ticks_ms()
    while not wlan.isconnected():
        status = wlan.status()
        reason = _failure(network, status)
        if reason is not None:
            wlan.active(False)
            raise NetError("WLAN %r: %s (status %r)" % (ssid, reason, status))
        if time.ticks_diff(time.ticks_ms(), t0) > timeout_s * 1000:
            wlan.active(False)
            raise NetError("WLAN %r: not connected after %d s (status %r); check the SSID, "
                           "the password and the signal" % (ssid, timeout_s, status))
        time.sleep_ms(200)
    ip = wlan.ifconfig()[0]
    log("net: connected, IP %s" % ip)
    return ip
