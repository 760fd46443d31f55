"""A subset of the portable tests on the emulated RP2040: MicroPython v1.27's real rp2
firmware (RPI_PICO) on rp2040js (tools/rp2040/run.js, tools/mp_rp2040.py), the compiled
.mpy tree copied to its littlefs /lib, each module in a freshly reset interpreter, with the
collector running (--gc-on: the board's ~241 KB heap would not hold a test's allocation
with it held). One pytest test per portable test function, so that each known failure of
the real firmware is a strict expected failure naming its cause, and turns red when it
starts passing.

The emulator runs at 0.3-0.5x real time here; the subset leaves out what takes minutes
(most of the public-key vectors: `make bench` times P-256 on the board). Its os.urandom
returns constant bytes, which the stack refuses (nxsecure/port/rngcheck.py): the runner
installs its TEST-ONLY seeded source, and one test checks the refusal itself."""
import ast
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import mp_rp2040  # noqa: E402
from tools.mp_test_runner import selected  # noqa: E402

PORTABLE = os.path.join(ROOT, "host_tests", "portable")
REPORT = os.path.join(ROOT, "build", "micropython", "rp2040-portable.txt")

# module -> runner arguments (-k SUBSTR: only those; --skip SUBSTR: not those)
SUBSET = [
    ("test_smoke", []),
    ("test_random_health", []),
    ("test_crypto_vectors", []),
    ("test_netx", []),
    ("test_reassembly", []),
    ("test_dtls_memory", []),
    ("test_dtls_ecdsa_memory", []),
    ("test_x509_parse", ["--skip", "default_signature_check"]),        # 12 s of P-256
    ("test_pk_vectors", ["-k", "p256_public_key", "-k", "malformed_der",
                         "-k", "rsa_pss_verify"]),
    ("test_x509_credentials", ["-k", "dns_name", "-k", "pem_and_der", "-k", "every_format"]),
    ("test_sha512", []),
    ("test_sni_alpn", []),
    ("test_ccm_records", []),
]
HELPERS = ["dtls_pair.py"]


class RecursionOverflow(AssertionError):
    """The firmware's C stack ran out: RuntimeError: maximum recursion depth exceeded."""


class OutOfMemory(AssertionError):
    """The board's heap ran out: MemoryError."""


KNOWN = {
    "test_dtls_ecdsa_memory.test_ecdhe_ecdsa_p256_ccm8_handshake_data_close": (
        OutOfMemory, "an ECDHE-ECDSA P-256 handshake with both ends in one interpreter runs "
        "out of the board's ~241 KB heap (MemoryError in the server's P-256 work); footprint "
        "issue #13, speed issue #17"),
    "test_dtls_ecdsa_memory.test_ecdhe_ecdsa_rejects_a_certificate_not_yet_valid": (
        OutOfMemory, "MemoryError while setting up the certificate pair: the stack with "
        "x509/pk loaded leaves too little heap after the previous test (footprint issue #13)"),
}


def _test_names(module, args):
    with open(os.path.join(PORTABLE, module + ".py")) as f:
        tree = ast.parse(f.read())
    select = [args[i + 1] for i, a in enumerate(args) if a == "-k"]
    skip = [args[i + 1] for i, a in enumerate(args) if a == "--skip"]
    return sorted(n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                  and n.name.startswith("test_") and selected(n.name, select, skip))


def _cases():
    cases = []
    for module, args in SUBSET:
        for name in _test_names(module, args):
            full = "%s.%s" % (module, name)
            marks = ()
            if full in KNOWN:
                exc, why = KNOWN[full]
                marks = pytest.mark.xfail(raises=exc, strict=True, reason=why)
            cases.append(pytest.param(full, id=full, marks=marks))
    return cases


def test_every_known_failure_names_a_test_of_the_subset():
    names = set("%s.%s" % (m, n) for m, args in SUBSET for n in _test_names(m, args))
    assert set(KNOWN) <= names, sorted(set(KNOWN) - names)


@pytest.fixture(scope="module")
def rp2040_run(mpy_tree):
    """Run the whole subset once; -> {test name: (verdict, its output block)}, the raw text."""
    why = mp_rp2040.available()
    if why:
        pytest.fail(why)
    items = ["-c", "from nxsecure.port.rngcheck import platform_random_check\n"
                   "print('RNG CHECK:', platform_random_check())\n"]
    for module, args in SUBSET:
        argv = ["--seed-random", "--gc-on"] + args + [module]
        items += ["--soft-reset", "-c", "import sys\nsys.path.insert(0, '/tests')\n"
                  "import mp_test_runner\nmp_test_runner.main(%r)\n" % argv]
    puts = [(os.path.join(mpy_tree, "nxsecure"), "/lib/nxsecure"),
            (os.path.join(ROOT, "tools", "mp_test_runner.py"), "/lib/")]
    puts += [(os.path.join(PORTABLE, m + ".py"), "/tests/") for m, _ in SUBSET]
    puts += [(os.path.join(PORTABLE, h), "/tests/") for h in HELPERS]
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    r = mp_rp2040.run(items, puts=puts, report=REPORT, timeout=1200)
    text = r.stdout + r.stderr
    assert "[rp2040js] total" in r.stderr, "the emulator did not finish:\n" + r.stderr[-3000:]
    results = {}
    current = None
    for line in r.stdout.splitlines():
        m = re.match(r"^(PASS|FAIL) (\S+)", line)
        if m:
            current = m.group(2)
            results[current] = [m.group(1), line]
        elif re.match(r"^(heap:|runner:|\d+ passed, )", line):
            current = None
        elif current is not None:
            results[current][1] += "\n" + line
    sys.stdout.write("\n".join("%s %s" % (it["name"], it) for it in r.items) + "\n")
    return results, text


def test_the_emulated_rp2040s_constant_random_source_is_refused(rp2040_run):
    _, text = rp2040_run
    # rp2040js does not model the ring oscillator: os.urandom(n) is b'*' * n there
    assert "RNG CHECK: the random source repeated its output" in text, text[-3000:]


@pytest.mark.parametrize("name", _cases())
def test_portable_test_on_the_emulated_rp2040(rp2040_run, name):
    results, text = rp2040_run
    module = name.split(".")[0]
    imported = results.get(module)          # "FAIL module (import)": its import failed
    if name not in results and imported is not None and "MemoryError" in imported[1]:
        raise OutOfMemory(imported[1])          # the module's import ran out of heap
    assert name in results, "%s did not run on the board:\n%s" % (name, text[-3000:])
    verdict, block = results[name]
    if verdict == "PASS":
        return
    if "maximum recursion depth exceeded" in block:
        raise RecursionOverflow(block)
    if "MemoryError" in block:
        raise OutOfMemory(block)
    raise AssertionError(block)
