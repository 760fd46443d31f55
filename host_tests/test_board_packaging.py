"""Board packaging: the mip package files are current and name existing files, the board
configs only set names nxsecure.config has, and the two board examples talk to each
other on CPython over 127.0.0.1 (the same scripts run on the boards)."""
import json
import os
import subprocess
import sys
import threading

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
        stats = dtls_sensor_client.main(readings=3, period_s=0, settings=settings, bind="127.0.0.1")
    finally:
        server.join()
    assert stats["echoed"] == 3 and stats["failures"] == 0, stats
    assert dtls_echo_server.stats["echoed"] == 3, dtls_echo_server.stats
