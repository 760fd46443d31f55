"""Run the portable tests (host_tests/portable/test_*.py) inside real MicroPython 1.27
builds, one process per module, with tools/mp_test_runner.py, and check that every module
of the library imports there from the .mpy files mpy-cross makes:
- the WebAssembly port under Node (tools/mp_run.js): no cryptolib (the pure-Python AES),
  no os.urandom, a heap that grows on demand;
- the 32-bit unix port (tools/mp_unix.py, ../shared/firmware/unix): cryptolib, os.urandom,
  and the object sizes of an ESP32 or RP2040, loading the compiled .mpy tree.
The runner holds the collector off during each test to measure what it allocates, so the
unix runs get a heap that holds that (16 MB); the board-sized heaps are
test_board_programs.py's and the emulated RP2040's (test_emulated_board.py).
The runner's output is kept in build/micropython/."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_unix  # noqa: E402

TOOLS = os.path.join(ROOT, "tools")
UNIX_HEAP = "16m"
PORTABLE = os.path.join(ROOT, "host_tests", "portable")
REPORT_DIR = os.path.join(ROOT, "build", "micropython")
MP_RUN = os.path.join(ROOT, "tools", "mp_run.js")
MP_PACKAGE = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript")
TIMEOUT_S = 1200
# Modules that are CPython-only by design (the port picks them by implementation):
# nxsecure.port.cpython and the pyca `cryptography` backends nxsecure.port.*_pyca. Any other one says so
# with the line "# nxsecure: cpython-only" among its first ten lines.
CPYTHON_ONLY = {"nxsecure.port.cpython"}
CPYTHON_ONLY_MARK = "# nxsecure: cpython-only"

PORTABLE_MODULES = sorted(os.path.basename(p)[:-3]
                          for p in glob.glob(os.path.join(PORTABLE, "test_*.py")))


def _node():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: run `make setup` (CI must have it)")
    if not os.path.isdir(MP_PACKAGE):
        pytest.fail("%s is missing: run `make setup` (npm ci)" % os.path.relpath(MP_PACKAGE, ROOT))
    return node


def _mp_run(args, report_name):
    os.makedirs(REPORT_DIR, exist_ok=True)
    report = os.path.join(REPORT_DIR, report_name + ".txt")
    proc = subprocess.run([_node(), MP_RUN, "--report", report] + args, cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    # Shown by pytest when the test fails (and with -rA / -s).
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc


def test_portable_tests_exist():
    assert PORTABLE_MODULES, "host_tests/portable/ has no test_*.py"


@pytest.mark.parametrize("module", PORTABLE_MODULES)
def test_portable_module_passes_in_micropython(module):
    proc = _mp_run(["--test", "--seed-random", os.path.join(PORTABLE, module + ".py")],
                   module)
    lines = proc.stdout.splitlines()
    failed = [ln for ln in lines if ln.startswith("FAIL ")]
    assert proc.returncode == 0 and not failed, (
        "MicroPython run failed (exit %d): %s\n%s" % (proc.returncode, failed, proc.stderr))
    assert any(ln.startswith("PASS ") for ln in lines), "no test ran in MicroPython"
    assert any(" passed, 0 failed" in ln for ln in lines)


@pytest.mark.parametrize("module", PORTABLE_MODULES)
def test_portable_module_passes_on_unix_micropython_32bit(module, mpy_tree):
    try:
        mp_unix.binary(32)
    except FileNotFoundError as e:
        pytest.fail(str(e))
    os.makedirs(REPORT_DIR, exist_ok=True)
    proc = mp_unix.run(mp_unix.test_args([module]), bits=32, heap=UNIX_HEAP,
                       path=[PORTABLE, TOOLS], mpy=mpy_tree, timeout=TIMEOUT_S,
                       report=os.path.join(REPORT_DIR, "unix32-%s.txt" % module))
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    lines = proc.stdout.splitlines()
    failed = [ln for ln in lines if ln.startswith("FAIL ")]
    assert proc.returncode == 0 and not failed, (
        "MicroPython run failed (exit %d): %s\n%s" % (proc.returncode, failed, proc.stderr))
    assert any(ln.startswith("runner: micropython 1.27.0 on linux") for ln in lines)
    assert any(" passed, 0 failed" in ln for ln in lines)


def _micropython_modules():
    """Dotted names of the library modules that must import in MicroPython."""
    from tools import mpy_sizes
    names = []
    for rel in mpy_sizes.find_sources():
        name = rel[:-3].replace("/", ".").replace(".__init__", "")
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            head = [f.readline() for _ in range(10)]
        if name in CPYTHON_ONLY or name.startswith("nxsecure.port.") and name.endswith("_pyca"):
            continue
        if not any(CPYTHON_ONLY_MARK in ln for ln in head):
            names.append(name)
    return names


def _import_check_code(modules):
    return ("import sys\nbad = 0\n"
            "for m in %r:\n"
            "    try:\n"
            "        __import__(m)\n"
            "        f = sys.modules[m].__file__\n"
            "        assert f.endswith('.mpy'), f\n"
            "    except Exception as e:\n"
            "        bad += 1\n"
            "        print('IMPORT FAIL', m)\n"
            "        sys.print_exception(e)\n"
            "print('imported %%d of %%d modules from .mpy' %% (len(%r) - bad, len(%r)))\n"
            "sys.exit(1 if bad else 0)\n" % (modules, modules, modules))


def test_every_module_imports_in_micropython_from_mpy(mpy_tree):
    code = _import_check_code(_micropython_modules())
    proc = _mp_run(["--mpy", mpy_tree, "-c", code], "imports-from-mpy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_module_imports_on_unix_micropython_32bit_from_mpy(mpy_tree):
    code = _import_check_code(_micropython_modules())
    proc = mp_unix.run(["-c", code], bits=32, heap="2m", mpy=mpy_tree, timeout=120,
                       report=os.path.join(REPORT_DIR, "unix32-imports-from-mpy.txt"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported %d of %d" % ((len(_micropython_modules()),) * 2) in proc.stdout
