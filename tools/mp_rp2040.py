"""Drive tools/rp2040/run.js (the real MicroPython rp2 firmware on the rp2040js emulator)
from Python: the tests and `make bench` run MicroPython code on the emulated RP2040 with it.

    from tools import mp_rp2040
    r = mp_rp2040.run(["-c", "print(1)", "--soft-reset", "script.py"],
                      puts=[("build/mpy/nxsecure", "/lib/nxsecure")])
    r.returncode, r.stdout, r.items    # items: [{"name", "emu_s", "wall_s"}] per script / -c

Items run in one boot, in order (see run.js). The emulated board's time is its own:
time.ticks_us() there is what a 125 MHz RP2040 takes, at 0.3-0.5x real time here."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mp_unix  # noqa: E402  (the shared directory: one lookup)

RUN_JS = os.path.join(ROOT, "tools", "rp2040", "run.js")
RP2040JS = os.path.join(ROOT, "node_modules", "rp2040js")
_ITEM = re.compile(r"^\[rp2040js\] script (?:(\d+)/\d+ (.*?)|)\s*\(Ctrl-D sent \.\. end of output\): "
                   r"emulated ([0-9.]+) s .* wall ([0-9.]+) s")


class Result:
    def __init__(self, proc, report):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.report = report
        self.items = []
        for line in proc.stderr.splitlines():
            m = _ITEM.match(line)
            if m:
                self.items.append({"name": m.group(2) or "script", "emu_s": float(m.group(3)),
                                   "wall_s": float(m.group(4))})


def available():
    """None when the emulator can run here, else what is missing."""
    if shutil.which("node") is None:
        return "node is not installed (make setup)"
    if not os.path.isdir(RP2040JS):
        return "node_modules/rp2040js is missing (make setup: npm ci)"
    if not os.path.isfile(os.path.join(mp_unix.shared_dir(), "firmware", "rp2040",
                                       "firmware-RPI_PICO-v1.27.0.uf2")):
        return ("the rp2 firmware is missing: the shared firmware directory must be beside "
                "the repository (../shared) or named by NXSECURE_SHARED")
    return None


def run(items, puts=(), keep_going=True, report=None, timeout=1200, max_emu_s=None):
    """Run items (run.js ITEM arguments) after copying puts [(local, remote)]."""
    args = ["node", RUN_JS, "--max-wall-s", str(timeout)]
    if max_emu_s is not None:
        args += ["--max-emu-s", str(max_emu_s)]
    if keep_going:
        args.append("--keep-going")
    if report:
        args += ["--report", report]
    for local, remote in puts:
        args += ["--put", "%s:%s" % (local, remote)]
    proc = subprocess.run(args + list(items), cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout + 60)
    return Result(proc, report)
