"""Write the board packages from the feature profiles (tools/profiles.py): the mip
package files boards/mip/*.json and the freeze manifests boards/common/manifest*.py
(run after adding or removing a module; host_tests/test_board_packaging.py checks they
are current).

    python3 tools/mip_packages.py [--check]

mip packages (urls relative to the .json, so the same file installs from GitHub or a
checkout; each lists all of its files, with the in-memory network the self-test uses):
  psk-client.json, psk-server.json, psk.json (both roles), full.json   one per profile
  examples.json  the board examples and helpers (nxboard, net, echo server, sensor
                 client, self-test)
  esp32.json, rp2040.json   psk + examples + that board's board_config.py
Freeze manifests: boards/common/manifest.py (the psk profile, what the board manifests
include) and boards/common/manifest_full.py (the full profile).
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "boards", "mip")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import profiles  # noqa: E402
EXAMPLES = ("boards/common/nxboard.py", "boards/common/net.py",
            "boards/common/dtls_echo_server.py", "boards/common/dtls_sensor_client.py",
            "boards/common/selftest.py")
VERSION = "0.1.0"
MANIFESTS = {"manifest.py": "psk", "manifest_full.py": "full"}


def _url(rel):
    return "../../" + rel          # from boards/mip/ to the repository root


def packages():
    # No "deps": mip resolves a dependency's relative path against the current
    # directory, not against the .json, so each package lists all of its files.
    ex = [[os.path.basename(r), _url(r)] for r in EXAMPLES]
    out = {"examples.json": {"urls": ex, "version": VERSION}}
    for name in profiles.profiles():
        out[name + ".json"] = {"urls": [[r, _url(r)] for r in profiles.deploy_files(name)],
                               "version": VERSION}
    for board in ("esp32", "rp2040"):
        out[board + ".json"] = {
            "urls": [[r, _url(r)] for r in profiles.deploy_files("psk")] + ex
            + [["board_config.py", _url("boards/%s/board_config.py" % board)]],
            "version": VERSION}
    return out


def manifest(profile):
    files = [r[len("nxsecure/"):] for r in profiles.deploy_files(profile)]
    lines = [
        "# The nxsecure stack for a MicroPython freeze manifest: the %s profile of" % profile,
        "# tools/profiles.py (written by tools/mip_packages.py: do not edit). boards/<board>/",
        "# manifest.py include()s it; paths are relative to this file, as MicroPython's",
        "# manifest functions resolve them. Frozen bytecode stays in flash and costs no heap",
        "# until imported.",
        "package(\"nxsecure\", files=[",
    ]
    for f in files:
        lines.append("    \"%s\"," % f)
    lines += [
        "], base_path=\"../..\")",
        "module(\"nxboard.py\")       # board_config lookups and the crypto table for the examples",
        "module(\"net.py\")           # WLAN station bring-up from /net_config.json",
    ]
    return "\n".join(lines) + "\n"


def _text(obj):
    return json.dumps(obj, indent=0) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    outputs = [(os.path.join(OUT, n), _text(o)) for n, o in sorted(packages().items())]
    outputs += [(os.path.join(ROOT, "boards", "common", n), manifest(p))
                for n, p in sorted(MANIFESTS.items())]
    for path, text in outputs:
        name = os.path.relpath(path, ROOT)
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
                                   ", ".join(stale) if stale and not check
                                   else "boards/mip/*.json, boards/common/manifest*.py"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
