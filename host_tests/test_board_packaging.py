"""Board packaging: the mip package files are current and name existing files, the board
configs only set names nxsecure.config has, and the two board examples talk to each
other on CPython over 127.0.0.1 (the same scripts run on the boards)."""
import json
import os
import subprocess
import sys
import threading

from nxsecure import *

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mip_packages_are_current_and_complete():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mip_packages.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mip = os.path.join(ROOT, "boards", "mip")
    for name in ("psk.json", "full.json", "examples.json", "esp32.json", "rp2040.json"):
        with open(os.path.join(mip, name)) as f:
            pkg = json.load(f)
        assert pkg["urls"], name
        for target, url in pkg["urls"]:
            assert os.path.isfile(os.path.normpath(os.path.join(mip, url))), (name, url)
    with open(os.path.join(mip, "psk.json")) as f:
        psk = [t for t, _ in json.load(f)["urls"]]
    assert not any(t.startswith(("nxsecure/x509/", "nxsecure/pk/")) for t in psk)


def test_board_configs_only_set_known_names():
    import nxsecure.config as config
    for board in ("esp32", "rp2040"):
        ns = {}
        with open(os.path.join(ROOT, "boards", board, "board_config.py")) as f:
            exec(f.read(), ns)
        for name in ns:
            if name.startswith("NX_"):
                assert hasattr(config, name), (board, name)
        assert ns["NX_SECURE_DTLS_DEFAULT_MTU"] <= ns["NX_SECURE_DTLS_MAX_DATAGRAM"] <= ns["PACKET_PAYLOAD"]


def test_board_examples_echo_on_the_host():
    sys.path.insert(0, os.path.join(ROOT, "boards", "common"))
    try:
        import dtls_echo_server
        import dtls_sensor_client
    finally:
        sys.path.remove(os.path.join(ROOT, "boards", "common"))
    import socket
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))                 # a free port: other runs may be going on
    free_port = probe.getsockname()[1]
    probe.close()
    settings = {"server": "127.0.0.1", "port": free_port, "identity": b"sensor-01", "psk": b"k" * 16}
    server = threading.Thread(target=dtls_echo_server.main,
                              kwargs=dict(run_ticks=300, settings=settings, bind="127.0.0.1"))
    server.start()
    try:
        # a client that starts before the server is bound is refused at once (ICMP port
        # unreachable) and counts a failure: start it once the server listens
        _wait_until_bound(free_port)
        stats = dtls_sensor_client.main(readings=3, period_s=0, settings=settings, bind="127.0.0.1")
    finally:
        server.join()
    assert stats["echoed"] == 3 and stats["failures"] == 0, stats
    assert dtls_echo_server.stats["echoed"] == 3, dtls_echo_server.stats


def test_board_echo_server_recovers_sessions_of_clients_that_vanished():
    # Issue #11, defect 8: clients killed without close_notify kept their sessions for
    # good, so a board server filled up and refused everyone after them. The board
    # program (and every example server) sets the idle timeout.
    sys.path.insert(0, os.path.join(ROOT, "boards", "common"))
    try:
        import dtls_echo_server
        import nxboard
    finally:
        sys.path.remove(os.path.join(ROOT, "boards", "common"))
    import socket
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    free_port = probe.getsockname()[1]
    probe.close()
    settings = {"server": "127.0.0.1", "port": free_port, "identity": b"sensor-01",
                "psk": b"k" * 16, "idle_s": 1}
    sessions = nxboard.get("DTLS_SERVER_SESSIONS")
    before = dtls_echo_server.stats["connects"]
    server = threading.Thread(target=dtls_echo_server.main,
                              kwargs=dict(run_ticks=500, settings=settings, bind="127.0.0.1"))
    server.start()
    try:
        _wait_until_bound(free_port)
        net = _Net()
        vanished = []
        for i in range(sessions):
            c = net.client(settings)
            assert c.start(3 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
            vanished.append(c)
        for c in vanished:
            c.vanish()                       # no close_notify: the process died
        late = net.client(settings)
        assert late.start(4 * NX_IP_PERIODIC_RATE) == NX_SUCCESS
        late.end()
    finally:
        server.join()
    assert dtls_echo_server.stats["connects"] - before == sessions + 1


class _Net:
    """NetX client sessions on real UDP in this process."""

    def __init__(self):
        from nxsecure import port
        port.use_network(None)
        self.pool = NX_PACKET_POOL()
        self.mem = bytearray(32 * (1536 + sizeof(NX_PACKET)))
        assert nx_packet_pool_create(self.pool, "p", 1536, self.mem, len(self.mem)) == NX_SUCCESS
        self.ip = NX_IP()
        assert nx_ip_create(self.ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, self.pool) == 0
        nx_udp_enable(self.ip)

    def client(self, settings):
        return _Client(self, settings)


class _Client:
    def __init__(self, net, settings):
        self.settings = settings
        self.sess = NX_SECURE_DTLS_SESSION()
        self.md = bytearray(400)
        self.rs = bytearray(2000)
        assert nx_secure_dtls_session_create(self.sess, nx_crypto_tls_ciphers, self.md,
                                             len(self.md), self.rs, len(self.rs), 0, None, 0) == 0
        psk, ident = settings["psk"], settings["identity"]
        assert nx_secure_dtls_psk_add(self.sess, psk, len(psk), ident, len(ident), None, 0) == 0
        self.sock = NX_UDP_SOCKET()
        assert nx_udp_socket_create(net.ip, self.sock, "c", NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                                    NX_IP_TIME_TO_LIVE, 8) == NX_SUCCESS

    def start(self, wait):
        return nx_secure_dtls_client_session_start(self.sess, self.sock,
                                                   IP_ADDRESS(127, 0, 0, 1),
                                                   self.settings["port"], wait)

    def vanish(self):
        nx_secure_dtls_session_delete(self.sess)      # no close_notify goes out
        nx_udp_socket_unbind(self.sock)

    def end(self):
        nx_secure_dtls_session_end(self.sess, NX_NO_WAIT)
        nx_secure_dtls_session_delete(self.sess)
        nx_udp_socket_unbind(self.sock)


def test_every_example_server_recovers_sessions_of_vanished_clients():
    # Every server program a user copies from sets the idle timeout (the behaviour is
    # proven on the board program above; the others must not be the copy that lacks it).
    found = []
    for d in ("examples", os.path.join("boards", "common")):
        for name in sorted(os.listdir(os.path.join(ROOT, d))):
            if not name.endswith(".py") or name in ("measure.py", "selftest.py"):
                continue                  # instruments, not programs a user copies
            with open(os.path.join(ROOT, d, name), encoding="utf-8") as f:
                src = f.read()
            if "nx_secure_dtls_server_create(" in src:
                found.append(name)
                assert "nxsecure_dtls_server_idle_timeout_set(" in src, name
    assert {"psk_echo.py", "cert_echo.py", "coap_dtls.py", "dtls_echo_server.py"} <= set(found)


def _wait_until_bound(udp_port, seconds=10):
    import socket
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.bind(("127.0.0.1", udp_port))
        except OSError:
            return                                # the server holds it
        finally:
            probe.close()
        time.sleep(0.01)
    raise AssertionError("the server never bound UDP %d" % udp_port)
