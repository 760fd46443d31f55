"""Write the mip package files boards/mip/*.json from the source tree (run after adding
or removing a module; host_tests/test_board_packaging.py checks they are current).

    python3 tools/mip_packages.py [--check]

Packages (urls relative to the .json, so the same file installs from GitHub or a
checkout; each lists all of its files):
  psk.json       the core stack with PSK: nxsecure/ without x509/ and pk/, and the
                 MicroPython port (nxsecure/port/__init__, micropython, memnet)
  full.json      psk.json + nxsecure/x509 and nxsecure/pk (certificates, ECC, RSA)
  examples.json  the board examples and helpers (nxboard, net, echo server, sensor
                 client, self-test)
  esp32.json, rp2040.json   psk + examples + that board's board_config.py
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "boards", "mip")
OPTIONAL = ("nxsecure/x509/", "nxsecure/pk/")
# CPython-only modules (the port's CPython half, the Pythonic layer): never on a board
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profiles import HOST_ONLY  # noqa: E402
EXAMPLES = ("boards/common/nxboard.py", "boards/common/net.py",
            "boards/common/dtls_echo_server.py", "boards/common/dtls_sensor_client.py",
            "boards/common/selftest.py")
VERSION = "0.1.0"


def _sources(top):
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py"):
                found.append(os.path.relpath(os.path.join(dirpath, name), ROOT).replace(os.sep, "/"))
    return found


def _url(rel):
    return "../../" + rel          # from boards/mip/ to the repository root


def packages():
    # No "deps": mip resolves a dependency's relative path against the current
    # directory, not against the .json, so each package lists all of its files.
    core = [r for r in _sources("nxsecure") if not r.startswith(OPTIONAL) and r not in HOST_ONLY]
    extra = [r for r in _sources("nxsecure") if r.startswith(OPTIONAL)]
    ex = [[os.path.basename(r), _url(r)] for r in EXAMPLES]
    out = {
        "psk.json": {"urls": [[r, _url(r)] for r in core], "version": VERSION},
        "full.json": {"urls": [[r, _url(r)] for r in core + extra], "version": VERSION},
        "examples.json": {"urls": ex, "version": VERSION},
    }
    for board in ("esp32", "rp2040"):
        out[board + ".json"] = {
            "urls": [[r, _url(r)] for r in core] + ex
            + [["board_config.py", _url("boards/%s/board_config.py" % board)]],
            "version": VERSION}
    return out


def _text(obj):
    return json.dumps(obj, indent=0) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for name, obj in sorted(packages().items()):
        path = os.path.join(OUT, name)
        text = _text(obj)
        try:
            with open(path) as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            stale.append(name)
            if not check:
                os.makedirs(OUT, exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
    if check and stale:
        print("mip_packages: out of date: %s (run python3 tools/mip_packages.py)" % ", ".join(stale))
        return 1
    print("mip_packages: %s %s" % ("wrote" if stale and not check else "current:",
                                   ", ".join(stale) if stale and not check else "boards/mip/*.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
