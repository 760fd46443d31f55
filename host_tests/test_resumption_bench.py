"""bench/resumption.py keeps working (no timing is asserted): a certificate session
(ECDHE-ECDSA, P-256) and a PSK one by ticket resume between our ends, and the resumed
handshake leaves out the server's certificate flight."""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def _run(args):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "resumption.py")] + args,
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESUMEBENCH ")][0]
    return json.loads(line[len("RESUMEBENCH "):])


def test_certificate_session_resumes():
    import common
    der, _, sec1 = common.p256_cert(os.path.join(ROOT, "build", "bench"))
    r = _run(["--suite", "ecdsa", "--rounds", "1", "--cert", der.hex(), "--key", sec1.hex(),
              "--now", str(int(time.time()))])
    assert r["resumed"]["all_resumed"] and not r["full"]["all_resumed"]
    # no Certificate, ServerKeyExchange, ServerHelloDone: far fewer bytes from the server
    assert r["resumed"]["bytes_down"] < r["full"]["bytes_down"] // 2
    assert r["resumed"]["datagrams"] == r["full"]["datagrams"] - 1


def test_ticket_session_resumes():
    r = _run(["--tickets", "--rounds", "2"])
    assert r["by"] == "tickets" and r["resumed"]["all_resumed"]
