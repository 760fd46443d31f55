"""`python -m nxsecure`: every subcommand, its argument checks, and interop of
`server` with `openssl s_client` and of `client` with `openssl s_server` (PSK and
certificates made by the `ca` and `cert` subcommands)."""
import os
import runpy
import subprocess
import sys
import time

import pytest

from dtls_helpers import OpenSSL, PSK, IDENTITY, free_udp_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT)


def nxs(*args, stdin=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "nxsecure"] + [str(a) for a in args],
                          input=stdin, capture_output=True, timeout=timeout, env=ENV, cwd=ROOT)


def spawn(*args):
    return subprocess.Popen([sys.executable, "-m", "nxsecure"] + [str(a) for a in args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, cwd=ROOT)


@pytest.mark.parametrize("sub", ["", "server", "client", "psk", "ca", "cert", "info", "status"])
def test_help_prints_usage_and_runs_nothing(sub):
    p = nxs(*([sub] if sub else []), "--help")
    assert p.returncode == 0 and b"usage: nxsecure" in p.stdout, p.stderr
    assert not p.stderr


@pytest.mark.parametrize("args,complaint", [
    (["server", "--port", "70000", "--psk", "00"], b"port must be 1..65535"),
    (["server", "--psk", "xyz"], b"the PSK is hex digits"),
    (["server", "--psk", "00", "--suite", "NOPE"], b"unknown cipher suite 'NOPE'"),
    (["server", "--psk", "00", "--bind", "localhost.example"], b"not an IP address"),
    (["client", "127.0.0.1:notaport", "--psk", "00"], b"not a port number"),
    (["client", "127.0.0.1", "--psk", "00"], b"expected HOST:PORT"),
    (["info", "/no/such/file.pem"], b"no such file"),
    (["bogus"], b"invalid choice"),
])
def test_bad_arguments_are_refused_with_a_message(args, complaint):
    p = nxs(*args)
    assert p.returncode == 2 and complaint in p.stderr, p.stderr


def test_missing_credentials_are_explained():
    p = nxs("server", "--port", free_udp_port())
    assert p.returncode == 1 and b"give --psk HEX" in p.stderr
    p = nxs("client", "127.0.0.1:%d" % free_udp_port())
    assert p.returncode == 1 and b"give --psk HEX" in p.stderr


def test_psk_prints_key_identity_and_writes_a_module(tmp_path):
    mod = tmp_path / "psk_conf.py"
    p = nxs("psk", "--identity", "dev-7", "--bytes", "32", "--module", mod)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    key = out.split("key:")[1].split()[0]
    assert len(bytes.fromhex(key)) == 32 and "identity: dev-7" in out
    assert "-psk %s -psk_identity dev-7" % key in out
    d = runpy.run_path(str(mod))
    assert d["PSK"] == bytes.fromhex(key) and d["PSK_IDENTITY"] == b"dev-7"
    assert oct(os.stat(mod).st_mode & 0o777) == "0o600"
    assert nxs("psk", "--bytes", "4").returncode == 1


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-pki")
    assert nxs("ca", "--out", d, "--name", "CLI Test CA").returncode == 0
    p = nxs("cert", "--ca-dir", d, "--out", d, "--name", "gw.example", "--usage", "server",
            "--module", d / "board_gw.py")
    assert p.returncode == 0, p.stderr
    assert nxs("cert", "--ca-dir", d, "--out", d, "--name", "dev-01",
               "--usage", "client").returncode == 0
    return d


def test_ca_cert_and_info(pki, tmp_path):
    for name in ("ca", "gw.example", "dev-01"):
        for suffix in (".pem", ".der", ".key.pem", ".key.der"):
            assert (pki / (name + suffix)).is_file()
    assert oct(os.stat(pki / "ca.key.pem").st_mode & 0o777) == "0o600"
    # a second CA in the same place is refused unless forced
    p = nxs("ca", "--out", pki)
    assert p.returncode == 1 and b"--force" in p.stderr
    # the board module holds the same DER the files do
    d = runpy.run_path(str(pki / "board_gw.py"))
    assert d["CERT_DER"] == (pki / "gw.example.der").read_bytes()
    assert d["CA_DER"] == (pki / "ca.der").read_bytes()
    assert d["KEY_DER"] == (pki / "gw.example.key.der").read_bytes()
    p = nxs("info", pki / "gw.example.pem", "--ca", pki / "ca.pem")
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert "subject:     CN=gw.example" in out and "issuer:      CN=CLI Test CA" in out
    assert "EC secp256r1" in out and "subjectAltName gw.example" in out
    assert "nxsecure:    parses it" in out and "verified:    chains to CN=CLI Test CA" in out
    # a certificate from another CA does not verify, with the NetX code named
    other = tmp_path / "other"
    assert nxs("ca", "--out", other, "--name", "Other CA").returncode == 0
    p = nxs("info", pki / "gw.example.der", "--ca", other / "ca.pem")
    assert p.returncode == 1 and b"NX_SECURE_TLS_ISSUER_CERTIFICATE_NOT_FOUND" in p.stderr
    bad = tmp_path / "garbage.der"
    bad.write_bytes(b"\x30\x03\x02\x01")
    p = nxs("info", bad)
    assert b"nxsecure:    cannot use it: NX_SECURE_X509_" in p.stdout
    p = nxs("cert", "--ca-dir", tmp_path / "none", "--name", "x")
    assert p.returncode == 1 and b"make the CA first" in p.stderr


def test_status_names_codes():
    p = nxs("status", "0x114", "296", "0x29")
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 0
    assert lines[0].startswith("NX_SECURE_TLS_ALERT_RECEIVED (0x114): ")
    assert lines[1].startswith("NX_SECURE_TLS_NO_AVAILABLE_SESSIONS (0x128)")
    assert "NX_SECURE_TLS_HANDSHAKE_TIMEOUT" in lines[2]
    p = nxs("status", "0x7777", "zz")
    assert p.returncode == 1 and b"not a NetX" in p.stdout and b"zz: not a number" in p.stdout


def test_client_to_a_closed_port_is_refused_at_once():
    p = nxs("client", "127.0.0.1:%d" % free_udp_port(), "--psk", PSK.hex(), "-m", "x",
            "--timeout", "20", timeout=15)
    assert p.returncode == 1
    assert b"NX_NOT_CONNECTED (0x38)" in p.stderr and b"ICMP port unreachable" in p.stderr


def _wait_line(proc, needle, timeout=15):
    """Read proc's stderr until needle (bytes) shows up; -> what was read."""
    import select
    seen = b""
    end = time.monotonic() + timeout
    fd = proc.stderr.fileno()
    while needle not in seen and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
    return seen


def test_server_echoes_for_openssl_s_client():
    udp_port = free_udp_port()
    srv = spawn("server", "--bind", "127.0.0.1", "--port", udp_port, "--psk", PSK.hex(),
                "--psk-identity", IDENTITY.decode(), "--echo", "--naccept", "1", "-v")
    try:
        assert b"ACCEPT" in _wait_line(srv, b"ACCEPT")
        cli = OpenSSL.s_client("127.0.0.1", udp_port, 0xC0A8, quiet=False)
        try:
            cli.write(b"ping through nxsecure\n")
            assert cli.wait_output(b"ping through nxsecure", 10), cli.transcript()
            cli.proc.stdin.close()            # EOF: s_client sends close_notify and exits
            assert cli.wait_exit(10) == 0
        finally:
            cli.close()
        out, err = srv.communicate(timeout=15)
        assert srv.returncode == 0, err
        assert b"connected 127.0.0.1:" in err and b"TLS_PSK_WITH_AES_128_CCM_8" in err
        assert b"closed 127.0.0.1:" in err
    finally:
        if srv.poll() is None:
            srv.kill()


def test_server_with_certificates_for_openssl_s_client_with_its_own(pki):
    udp_port = free_udp_port()
    srv = spawn("server", "--bind", "127.0.0.1", "--port", udp_port,
                "--cert", pki / "gw.example.pem", "--key", pki / "gw.example.key.pem",
                "--ca", pki / "ca.pem", "--verify", "--naccept", "1")
    try:
        assert b"ACCEPT" in _wait_line(srv, b"ACCEPT")
        cli = OpenSSL(["s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % udp_port,
                       "-CAfile", str(pki / "ca.pem"), "-verify_return_error",
                       "-cert", str(pki / "dev-01.pem"), "-key", str(pki / "dev-01.key.pem")])
        try:
            assert cli.wait_output(b"Verify return code: 0 (ok)", 10), cli.transcript()
            cli.write(b"reading 21.5 C\n")
            time.sleep(0.3)
            cli.proc.stdin.close()
            assert cli.wait_exit(10) == 0
        finally:
            cli.close()
        out, err = srv.communicate(timeout=15)
        assert srv.returncode == 0, err
        assert b"reading 21.5 C" in out and b"] reading" in out      # "[host:port] data"
        assert b"peer CN=dev-01" in err
    finally:
        if srv.poll() is None:
            srv.kill()


def test_client_talks_to_openssl_s_server():
    udp_port = free_udp_port()
    peer = OpenSSL.s_server(udp_port, 0xC0A8)
    try:
        assert peer.wait_output(b"ACCEPT", 10, "any"), peer.transcript()
        p = nxs("client", "127.0.0.1:%d" % udp_port, "--psk", PSK.hex(), "--psk-identity",
                IDENTITY.decode(), "--suite", "PSK-AES128-CCM8", "--linger", "0.2",
                stdin=b"first line\nsecond line\n")
        assert p.returncode == 0, p.stderr
        assert b"CONNECTED 127.0.0.1:%d TLS_PSK_WITH_AES_128_CCM_8" % udp_port in p.stderr
        assert peer.wait_output(b"second line", 10), peer.transcript()
        assert b"first line" in peer.out
        assert peer.wait_exit(10) == 0                 # our close_notify ended its session
    finally:
        peer.close()


def test_client_with_certificates_checks_the_server_name(pki):
    def serve():
        udp_port = free_udp_port()
        peer = OpenSSL(["s_server", "-dtls1_2", "-accept", str(udp_port), "-cert",
                        str(pki / "gw.example.pem"), "-key", str(pki / "gw.example.key.pem"),
                        "-naccept", "1"])
        assert peer.wait_output(b"ACCEPT", 10, "any"), peer.transcript()
        return peer, udp_port

    peer, udp_port = serve()
    try:
        p = nxs("client", "127.0.0.1:%d" % udp_port, "--ca", pki / "ca.pem", "--servername",
                "gw.example", "--linger", "0.2", stdin=b"over certificates\n")
        assert p.returncode == 0, p.stderr
        assert b"server CN=gw.example" in p.stderr
        assert peer.wait_output(b"over certificates", 10), peer.transcript()
    finally:
        peer.close()
    peer, udp_port = serve()
    try:
        p = nxs("client", "127.0.0.1:%d" % udp_port, "--ca", pki / "ca.pem", "--servername",
                "other.example", "-m", "x")
        assert p.returncode == 1 and b"NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH" in p.stderr
    finally:
        peer.close()


def test_our_client_and_server_with_a_message_and_trace(tmp_path):
    udp_port = free_udp_port()
    keylog = tmp_path / "keys.txt"
    srv = spawn("server", "--bind", "127.0.0.1", "--port", udp_port, "--psk", PSK.hex(),
                "--echo", "--naccept", "1", "--keylog", keylog)
    try:
        assert b"ACCEPT" in _wait_line(srv, b"ACCEPT")
        p = nxs("client", "127.0.0.1:%d" % udp_port, "--psk", PSK.hex(), "-m", "one", "-m",
                "two", "-vv", "--mtu", "600")
        assert p.returncode == 0, p.stderr
        assert p.stdout == b"one\ntwo\n"
        assert b"-> ClientHello" in p.stderr and b"<- HelloVerifyRequest" in p.stderr
        assert b"<- Finished" in p.stderr
        srv.communicate(timeout=15)
        assert srv.returncode == 0
        lines = keylog.read_text().splitlines()
        assert len(lines) == 1 and lines[0].startswith("CLIENT_RANDOM ")
    finally:
        if srv.poll() is None:
            srv.kill()


def test_pip_install_gives_the_console_script_and_no_top_level_port():
    """pyproject.toml: `pip install .` installs the nxsecure package (its platform layer
    inside it, nxsecure.port) and the `nxsecure` command (checked by hand with
    `pip install --target DIR .`; building needs setuptools and wheel, not here)."""
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    assert '[project.scripts]\nnxsecure = "nxsecure.cli:main"' in text
    assert 'include = ["nxsecure", "nxsecure.*"]' in text
    assert not os.path.exists(os.path.join(ROOT, "port"))
    from nxsecure import cli
    assert callable(cli.main)
