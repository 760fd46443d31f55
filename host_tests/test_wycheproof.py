"""Wycheproof (C2SP/wycheproof, ../shared/vectors/wycheproof/) in `make test`: every file
through nxsecure's portable primitives (nxsecure/crypto, nxsecure/pk) on CPython, and
the AEAD, CBC, HMAC, ECDSA, ECDH and X25519 files on the 32-bit unix MicroPython 1.27 too
(../shared/firmware/unix, from a fresh mpy-cross tree). The checking code is
host_tests/wycheproof_run.py, the same on both interpreters; a file no runner knows
fails the run. 0 failures everywhere; build/wycheproof-report.md has the counts."""
import glob
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from vectors import firmware_path, vector_path
import wycheproof_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "build", "wycheproof-report.md")
MICROPYTHON = "micropython-v1.27.0-unix-i386-static"
# Files the MicroPython run covers (RSA is CPython-only here: the issue asks for the
# AEAD/ECDSA/ECDH/X25519 files; CBC and HMAC are cheap and come along; HMAC-SHA384
# runs over crypto/sha512.py, the SHA-384 the stack uses where hashlib has none).
# Longest first, so that the two interpreters finish together.
MP_FILES = ("ecdh_secp384r1_test.json", "ecdh_secp384r1_ecpoint_test.json",
            "ecdsa_secp384r1_sha384_test.json", "ecdsa_secp384r1_sha256_test.json",
            "ecdh_secp256r1_ecpoint_test.json", "ecdh_secp256r1_test.json",
            "x25519_test.json", "ecdsa_secp256r1_sha256_test.json",
            "aes_ccm_test.json", "aes_gcm_test.json", "aes_cbc_pkcs5_test.json",
            "hmac_sha1_test.json", "hmac_sha256_test.json", "hmac_sha384_test.json")
# ... and the AES files once more over the pure-Python AES (the WebAssembly port's, and
# the only AES-192 on MicroPython: this firmware's cryptolib has none).
MP_PURE_AES_FILES = ("aes_ccm_test.json", "aes_gcm_test.json", "aes_cbc_pkcs5_test.json")
_GROUPS = {"secp256r1": 23, "secp384r1": 24}
_HASHES = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def files():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(
        vector_path("wycheproof"), "*.json")))


# The MicroPython run thins the largest families of valid ECDH tests (a scalar
# multiplication each): of a (result, flags) family with more than THIN_OVER tests it
# runs every THIN_STEP-th. Only the 665 EdgeCaseDoubling tests of each P-384 file and
# the 204 of each P-256 one are that large; every invalid and acceptable test, every
# other family and every other file runs in full (CPython runs everything).
# NXSECURE_WYCHEPROOF_FULL=1 runs every test on MicroPython too (about 25 s more).
THIN_OVER = 100
THIN_STEP = 8
FULL = os.environ.get("NXSECURE_WYCHEPROOF_FULL") == "1"


def _thin(d):
    """{tcId} of the tests a thinned run leaves out."""
    families = {}
    for g in d["testGroups"]:
        for t in g["tests"]:
            if t["result"] == "valid":
                families.setdefault(tuple(sorted(t["flags"])), []).append(t["tcId"])
    out = set()
    for ids in families.values():
        if len(ids) > THIN_OVER:
            out.update(i for k, i in enumerate(ids) if k % THIN_STEP)
    return out


def normalize(name, thin=False):
    """A Wycheproof file as wycheproof_run takes it: per group the parameters, per test
    [tcId, result, inputs as hex...]; message digests computed here (the primitives take
    digests, and MicroPython's hashlib has no SHA-384). thin: see THIN_OVER."""
    with open(vector_path("wycheproof", name)) as f:
        d = json.load(f)
    schema = d["schema"]
    groups = []
    skip = _thin(d) if thin else ()
    for g in d["testGroups"]:
        tests = [t for t in g["tests"] if t["tcId"] not in skip]
        if schema == "aead_test_schema_v1.json":
            kind = "aead"
            p = {"alg": "ccm" if d["algorithm"] == "AES-CCM" else "gcm", "iv": g["ivSize"],
                 "tag": g["tagSize"], "key": g["keySize"]}
            rows = [[t["tcId"], t["result"], t["key"], t["iv"], t["aad"], t["msg"], t["ct"],
                     t["tag"]] for t in tests]
        elif schema == "ind_cpa_test_schema_v1.json":
            kind = "cbc"
            p = {"key": g["keySize"]}
            rows = [[t["tcId"], t["result"], t["key"], t["iv"], t["msg"], t["ct"]] for t in tests]
        elif schema == "mac_test_schema_v1.json":
            kind = "mac"
            p = {"hash": d["algorithm"][len("HMAC"):].lower()}
            rows = [[t["tcId"], t["result"], t["key"], t["msg"], t["tag"]] for t in tests]
        elif schema == "ecdsa_verify_schema_v1.json":
            kind = "ecdsa"
            h = _HASHES[g["sha"]]
            p = {"group": _GROUPS[g["publicKey"]["curve"]], "pub": g["publicKey"]["uncompressed"],
                 "hash": h}
            rows = [[t["tcId"], t["result"], hashlib.new(h, bytes.fromhex(t["msg"])).hexdigest(),
                     t["sig"]] for t in tests]
        elif schema in ("ecdh_test_schema_v1.json", "ecdh_ecpoint_test_schema_v1.json"):
            kind = "ecdh"
            p = {"group": _GROUPS[g["curve"]], "encoding": g["encoding"]}
            rows = [[t["tcId"], t["result"], t["public"], t["private"], t["shared"]]
                    for t in tests]
        elif schema == "xdh_comp_schema_v1.json":
            kind = "x25519"
            p = {}
            rows = [[t["tcId"], t["result"], t["public"], t["private"], t["shared"]]
                    for t in tests]
        elif schema == "rsassa_pkcs1_verify_schema_v1.json":
            kind = "rsa_sig"
            h = _HASHES[g["sha"]]
            p = {"spki": g["publicKeyDer"], "hash": h}
            rows = [[t["tcId"], t["result"], hashlib.new(h, bytes.fromhex(t["msg"])).hexdigest(),
                     t["sig"]] for t in tests]
        elif schema == "rsaes_pkcs1_decrypt_schema_v1.json":
            kind = "rsa_dec"
            p = {"pkcs8": g["privateKeyPkcs8"]}
            rows = [[t["tcId"], t["result"], t["msg"], t["ct"]] for t in tests]
        else:
            pytest.fail("%s: no runner for schema %s" % (name, schema))
        p["tests"] = rows
        groups.append(p)
    return {"file": name, "kind": kind, "groups": groups,
            "count": sum(len(g["tests"]) for g in groups),
            "total": sum(len(g["tests"]) for g in d["testGroups"])}


RESULTS = {}           # (file, interpreter) -> result dict with "seconds"


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    write_report()


def _assert_clean(res, where):
    assert res["failures"] == 0, "%s on %s: %d failures, first: %s" % (
        res["file"], where, res["failures"], res["failed"])


@pytest.mark.parametrize("name", files())
def test_file_on_cpython(name):
    norm = normalize(name)
    t0 = time.perf_counter()
    res = wycheproof_run.run_file(norm, "pure")
    res["seconds"] = time.perf_counter() - t0
    res["count"] = norm["count"]
    res["total"] = norm["total"]
    RESULTS[(name, "cpython")] = res
    _assert_clean(res, "CPython")
    assert res["passed"] + sum(res["refused"].values()) == norm["count"]


def test_micropython_files_exist():
    assert set(MP_FILES) | set(MP_PURE_AES_FILES) <= set(files())


def test_files_on_unix_micropython(tmp_path):
    """The MicroPython run: one interpreter per file (two at a time), the library from a
    fresh mpy-cross tree, AES through cryptolib as on the boards (and the pure-Python
    AES for MP_PURE_AES_FILES)."""
    mp = firmware_path("unix", MICROPYTHON)
    tree = tmp_path / "mpy"
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy_sizes.py"), "--out",
                    str(tree), "--quiet"], check=True, cwd=ROOT, capture_output=True)
    env = dict(os.environ, MICROPYPATH="%s:%s" % (tree, os.path.join(ROOT, "host_tests")))
    pending = []
    for name, aes in [(n, "cryptolib") for n in MP_FILES] + \
            [(n, "pure") for n in MP_PURE_AES_FILES]:
        norm = normalize(name, thin=name.startswith("ecdh_") and not FULL)
        path = tmp_path / ("%s.%s.cases.json" % (name, aes))
        path.write_text(json.dumps([norm]))
        pending.append(((name, "micropython" if aes == "cryptolib" else "micropython-pure-aes"),
                        (norm["count"], norm["total"]), path, aes))
    running = []
    done = {}
    deadline = time.monotonic() + 1200
    while pending or running:
        while pending and len(running) < 2:
            name, count, path, aes = pending.pop(0)
            cmd = [mp, "-X", "heapsize=32M", os.path.join(ROOT, "host_tests", "wycheproof_run.py"),
                   str(path), aes]
            running.append((name, count, subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        finished = [r for r in running if r[2].poll() is not None]
        if not finished:
            assert time.monotonic() < deadline, "MicroPython run timed out"
            time.sleep(0.05)
            continue
        for r in finished:
            running.remove(r)
            name, count, proc = r
            out, err = proc.communicate()
            lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
            assert proc.returncode == 0 and len(lines) == 1, "%s: %s %s" % (
                name, out[-2000:], err[-2000:])
            res = json.loads(lines[0][len("RESULT "):])      # "seconds": inside MicroPython
            res["count"], res["total"] = count
            done[name] = res
            RESULTS[name] = res
    assert len(done) == len(MP_FILES) + len(MP_PURE_AES_FILES)
    for key, res in done.items():
        _assert_clean(res, key[1])
        assert res["passed"] + sum(res["refused"].values()) == res["count"]


def _cell(res, total):
    if res is None:
        return "not run", ""
    refused = sum(res["refused"].values())
    text = "%d passed, %d refused, %d failed" % (res["passed"], refused, res["failures"])
    if res["count"] != total:
        text += " (%d run)" % res["count"]
    return text, "%.1f s" % res["seconds"]


def write_report():
    names = sorted(set(n for n, _ in RESULTS))
    if not names:
        return
    lines = ["# Wycheproof: nxsecure's portable primitives", "",
             "Written by `host_tests/test_wycheproof.py` (part of `make test`; alone: "
             "`.venv/bin/python -m pytest -q host_tests/test_wycheproof.py`) from "
             "`../shared/vectors/wycheproof/`. CPython: the pure-Python AES; MicroPython: "
             "the 32-bit unix build (%s), AES through `cryptolib`, library from "
             "mpy-cross; '(N run)': the largest families of valid ECDH tests thinned to "
             "every %dth (THIN_OVER in the test). 'refused': valid tests whose parameters the "
             "primitive does not implement and refuses with ValueError (reasons below)."
             % (MICROPYTHON, THIN_STEP), "",
             "| file | tests | CPython | time | MicroPython (i386) | time | MicroPython, pure AES | time |",
             "|---|---|---|---|---|---|---|---|"]
    reasons = {}
    for name in names:
        cp = RESULTS.get((name, "cpython"))
        mp = RESULTS.get((name, "micropython"))
        mpp = RESULTS.get((name, "micropython-pure-aes"))
        count = (cp or mp or mpp)["total"]
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            (name, count) + _cell(cp, count) + _cell(mp, count) + _cell(mpp, count)))
        for where, res in (("CPython", cp), ("MicroPython", mp),
                           ("MicroPython (pure AES)", mpp)):
            for why, n in sorted((res or {"refused": {}})["refused"].items()):
                reasons.setdefault((why, where), 0)
                reasons[(why, where)] += n
    tot = [sum(RESULTS[k][f] for k in RESULTS if k[1] == w)
           for w in ("cpython", "micropython", "micropython-pure-aes") for f in ("passed", "failures")]
    lines += ["", "Totals: CPython %d passed, %d failed; MicroPython %d passed, %d failed; "
              "MicroPython with the pure AES %d passed, %d failed." % tuple(tot),
              "", "Refused (not implemented, refused cleanly):", ""]
    for (why, where), n in sorted(reasons.items()):
        lines.append("- %s: %d valid tests on %s" % (why, n, where))
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "w") as f:
        f.write("\n".join(lines) + "\n")
