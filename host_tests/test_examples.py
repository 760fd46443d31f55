"""The examples behave: --help prints usage and runs nothing, a wrong argument is a
clear message with exit status 2 (never a traceback), --bind moves the server off
127.0.0.1, and each runs to its end. psk_echo.py also on MicroPython's unix port."""
import os
import subprocess
import sys

import pytest

from dtls_helpers import free_udp_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EX = os.path.join(ROOT, "examples")
MP = os.path.join(os.path.dirname(ROOT), "shared", "firmware", "unix",
                  "micropython-v1.27.0-unix-x86_64-static")


def ex(name, *args, timeout=60, interpreter=None):
    cmd = (interpreter or [sys.executable]) + [os.path.join(EX, name)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("name,args", [("psk_echo.py", []), ("cert_echo.py", []),
                                       ("coap_dtls.py", []), ("coap_dtls.py", ["server"]),
                                       ("gateway.py", []), ("gateway.py", ["serve"])])
def test_help_runs_nothing(name, args):
    p = ex(name, *(args + ["--help"]))
    assert p.returncode == 0 and "usage:" in p.stdout, p.stderr
    assert "connect_notify" not in p.stdout and "handshake" not in p.stdout.split("usage:")[0]


@pytest.mark.parametrize("name,args,complaint", [
    ("psk_echo.py", ["--suite", "rot13"], "unknown --suite 'rot13'"),
    ("psk_echo.py", ["--messages", "many"], "--messages must be a positive number"),
    ("psk_echo.py", ["--bind", "localhost"], "--bind must be an IP address"),
    ("psk_echo.py", ["--port", "0"], "--port must be 1..65535"),
    ("cert_echo.py", ["--messages", "0"], "must be a positive number"),
    ("cert_echo.py", ["--bind", "::1"], "not an IPv4 address"),
    ("coap_dtls.py", ["server", "--suite", "des"], "invalid choice: 'des'"),
    ("coap_dtls.py", ["client", "--port", "99999"], "must be 1..65535"),
    ("coap_dtls.py", ["server", "--bind", "gateway.local"], "not an IP address"),
    ("gateway.py", ["demo", "--sensors", "0"], "must be 1..500"),
])
def test_wrong_arguments_are_explained(name, args, complaint):
    p = ex(name, *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert complaint in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_psk_echo_on_all_addresses():
    p = ex("psk_echo.py", "--bind", "0.0.0.0", "--port", free_udp_port(), "--suite", "gcm",
           "--messages", "2")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "listening on 0.0.0.0 port" in p.stdout and "2 of 2 echoes correct" in p.stdout


@pytest.mark.skipif(not os.path.exists(MP), reason="../shared/firmware is not beside the clone")
def test_psk_echo_runs_unmodified_on_micropython():
    p = ex("psk_echo.py", "--messages", "2", "--port", free_udp_port(),
           interpreter=[MP, "-X", "heapsize=4M"])
    assert p.returncode == 0 and "2 of 2 echoes correct" in p.stdout, p.stdout + p.stderr
    p = ex("psk_echo.py", "--suite", "rot13", interpreter=[MP])
    assert p.returncode == 2 and "unknown --suite" in p.stderr


def test_cert_echo_with_bind_and_port():
    p = ex("cert_echo.py", "--bind", "0.0.0.0", "--port", free_udp_port(), "--messages", "1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("client echo: b'reading") == 1


def test_coap_gateway_on_aio_serves_the_netx_api_client():
    udp_port = free_udp_port()
    gw = subprocess.Popen([sys.executable, os.path.join(EX, "coap_dtls.py"), "gateway",
                           "--bind", "127.0.0.1", "--port", str(udp_port), "--count", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert "coaps gateway on 127.0.0.1" in gw.stdout.readline()
        p = ex("coap_dtls.py", "client", "--host", "localhost", "--port", udp_port)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "GET /temperature -> 2.05 b'21.5 C'" in p.stdout
        out, err = gw.communicate(timeout=20)
        assert gw.returncode == 0, err
        assert "1 /temperature -> 2.05" in out and "TLS_PSK_WITH_" in out
    finally:
        if gw.poll() is None:
            gw.kill()


def test_coap_demo():
    p = ex("coap_dtls.py", "demo", "--port", free_udp_port())
    assert p.returncode == 0 and "GET /temperature -> 2.05" in p.stdout, p.stdout + p.stderr


def test_gateway_demo_with_events_and_broadcast():
    p = ex("gateway.py", "demo", "--sensors", "4", "--port", free_udp_port())
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert out.count(" connected from 127.0.0.1:") == 4
    assert "broadcast reached 4 devices" in out and out.count("command b'calibrate'") == 4
    assert out.count("left (closed)") == 4 and "done: 4 of 4 sensors" in out


def test_gateway_sensor_without_a_gateway_is_refused_at_once():
    p = ex("gateway.py", "sensor", "--id", "sensor-1", "--port", free_udp_port())
    assert p.returncode == 1 and "NX_NOT_CONNECTED" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
