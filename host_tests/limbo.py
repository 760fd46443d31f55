"""x509-limbo (C2SP/x509-limbo, ../shared/vectors/x509-limbo/limbo.json) through
nxsecure's verifier the way the handshake calls it, and, for the report, through pyca
`cryptography`'s verifier and `openssl verify` on the same inputs.

nxsecure's side mirrors nxsecure/certs.py verify_chain: the peer's chain (leaf first,
then the untrusted intermediates) is copied into a remote certificate store with
store_remote_add, the trusted certificates go in with nx_secure_x509_certificate_initialize
+ store_trusted_add, the CRLs with store_crl_add, and x509_chain_verify runs with the
role (SERVER: the peer is a TLS server), the validation time, the expected peer name
(the host name or IP address a client names its server by) and the default signature
check (nxsecure.pk, the pure-Python backend the handshake uses). A certificate the
store refuses (a parse error) is a rejection, as in the handshake; a trusted
certificate that fails to load is simply not trusted, as for an application that
checks the status of nx_secure_x509_certificate_initialize."""
import datetime
import json
import os
import re
import subprocess
import time

from vectors import vector_path

from nxsecure import const as _const
from nxsecure.x509 import (
    NX_SECURE_X509_CERT,
    NX_SECURE_X509_CERTIFICATE_STORE,
    NX_SECURE_X509_KEY_TYPE_NONE,
    X509_ROLE_CLIENT,
    X509_ROLE_SERVER,
    nx_secure_x509_certificate_initialize,
    store_remote_add,
    store_remote_buffer_set,
    store_trusted_add,
    x509_chain_verify,
)
from nxsecure.x509 import verify as _verify
from nxsecure.x509.pem import pem_blocks


def load_cases():
    with open(vector_path("x509-limbo", "limbo.json"), encoding="utf-8") as f:
        return json.load(f)["testcases"]


def family(case_id):
    """The report's grouping: `rfc5280::nc::x` -> `rfc5280::nc`, `webpki::x` -> `webpki`."""
    parts = case_id.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


def _ders(pem_text_or_list, label):
    texts = pem_text_or_list if isinstance(pem_text_or_list, list) else [pem_text_or_list]
    out = []
    for t in texts:
        st, blocks = pem_blocks(t)
        assert st == 0, "limbo PEM did not decode"
        out.extend(der for lab, der in blocks if lab == label)
    return out


def validation_time(case):
    """limbo's validation_time, floored to whole seconds (RFC 5280 4.1.2.5 times have
    one-second granularity); None means now."""
    t = case["validation_time"]
    if t is None:
        return int(time.time())
    return int(datetime.datetime.fromisoformat(t).timestamp() // 1)


_CODE_NAMES = None


def code_name(code):
    global _CODE_NAMES
    if _CODE_NAMES is None:
        _CODE_NAMES = {}
        for mod in (_const, _verify):
            for k, v in vars(mod).items():
                if k.startswith("NX_") and isinstance(v, int) and not k.startswith("NX_SECURE_TLS_X509"):
                    if v not in _CODE_NAMES or len(k) < len(_CODE_NAMES[v]):
                        _CODE_NAMES.setdefault(v, k)
        _CODE_NAMES[0] = "NX_SUCCESS"
    return "%s (0x%X)" % (_CODE_NAMES.get(code, "?"), code)


def run_nxsecure(case):
    """-> (accepted, status, note)."""
    peer = _ders(case["peer_certificate"], "CERTIFICATE")
    chain = peer + _ders(case["untrusted_intermediates"], "CERTIFICATE")
    store = NX_SECURE_X509_CERTIFICATE_STORE()
    size = sum(len(d) for d in chain)
    assert store_remote_buffer_set(store, len(chain), bytearray(size), size) == 0
    for i, der in enumerate(chain):
        st = store_remote_add(store, der, 0, len(der))
        if st:
            return False, st, "%s refused by store_remote_add" % ("peer" if i == 0 else
                                                                  "intermediate %d" % i)
    notes = []
    keep = []
    for i, der in enumerate(_ders(case["trusted_certs"], "CERTIFICATE")):
        c = NX_SECURE_X509_CERT()
        st = nx_secure_x509_certificate_initialize(c, der, len(der), None, 0, None, 0,
                                                   NX_SECURE_X509_KEY_TYPE_NONE)
        if st:
            notes.append("trusted %d not loaded: %s" % (i, code_name(st)))
            continue
        assert store_trusted_add(store, c, i + 1) == 0
        keep.append(c)
    crl_add = getattr(_store_module(), "store_crl_add", None)
    for i, der in enumerate(_ders(case["crls"], "X509 CRL")):
        if crl_add is None:
            notes.append("CRLs not supported")
            break
        st = crl_add(store, der, len(der))
        if st:
            return False, st, "CRL %d refused by store_crl_add" % i
    kw = {}
    if case["max_chain_depth"] is not None:
        kw["max_depth"] = case["max_chain_depth"] + 2      # limbo counts intermediates only
    name = case["expected_peer_name"]
    role = X509_ROLE_CLIENT if case["validation_kind"] == "CLIENT" else X509_ROLE_SERVER
    st, alert = x509_chain_verify(store, 0, now=validation_time(case), role=role,
                                  dns_name=name["value"] if name else None, **kw)
    return st == 0, st, "; ".join(notes)


def _store_module():
    from nxsecure.x509 import store
    return store


# --- references for the report (pyca cryptography, OpenSSL) ---------------------------------

def run_pyca(case):
    """pyca `cryptography`'s verifier (Rust, the CA/B-flavoured profile): True accepted,
    False rejected, None when the case needs something it has no input for (CRLs)."""
    import ipaddress
    import warnings
    from cryptography import x509
    from cryptography.x509 import verification as v
    if case["crls"] or "denial-of-service" in case["features"]:
        return None        # no CRL input; pyca 46 does not return on one pathological chain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # pyca warns about the negative serial number
        return _pyca(case, x509, v, ipaddress)


def _pyca(case, x509, v, ipaddress):
    try:
        peer = x509.load_pem_x509_certificate(case["peer_certificate"].encode())
        inter = [x509.load_pem_x509_certificate(p.encode()) for p in case["untrusted_intermediates"]]
        trusted = []
        for p in case["trusted_certs"]:
            try:
                trusted.append(x509.load_pem_x509_certificate(p.encode()))
            except ValueError:
                pass
        b = v.PolicyBuilder().store(v.Store(trusted)).time(
            datetime.datetime.fromtimestamp(validation_time(case), datetime.timezone.utc))
        if case["max_chain_depth"] is not None:
            b = b.max_chain_depth(case["max_chain_depth"])
        if case["validation_kind"] == "CLIENT":
            b.build_client_verifier().verify(peer, inter)
            return True
        name = case["expected_peer_name"]
        if name is None:
            return None
        subject = (v.DNSName(name["value"]) if name["kind"] == "DNS" else
                   v.IPAddress(ipaddress.ip_address(name["value"])))
        b.build_server_verifier(subject).verify(peer, inter)
        return True
    except Exception:       # VerificationError, or a certificate pyca will not load
        return False


def run_openssl(case, tmpdir):
    """`openssl verify -x509_strict` with the case's purpose, time, host/IP and CRLs:
    True / False, None when openssl is missing."""
    def write(name, pems):
        path = os.path.join(tmpdir, name)
        with open(path, "w") as f:
            f.write("".join(p if p.endswith("\n") else p + "\n" for p in pems))
        return path
    cmd = ["openssl", "verify", "-x509_strict", "-attime", str(validation_time(case)),
           "-purpose", "sslclient" if case["validation_kind"] == "CLIENT" else "sslserver",
           "-CAfile", write("ca.pem", case["trusted_certs"])]
    if case["untrusted_intermediates"]:
        cmd += ["-untrusted", write("untrusted.pem", case["untrusted_intermediates"])]
    if case["crls"]:
        cmd += ["-crl_check", "-CRLfile", write("crl.pem", case["crls"])]
    if case["max_chain_depth"] is not None:
        cmd += ["-verify_depth", str(case["max_chain_depth"])]
    name = case["expected_peer_name"]
    if name:
        cmd += ["-verify_ip" if name["kind"] == "IP" else "-verify_hostname", name["value"]]
    cmd.append(write("peer.pem", [case["peer_certificate"]]))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        return None
    except subprocess.TimeoutExpired:
        return False
    return p.returncode == 0 and re.search(r": OK\s*$", p.stdout) is not None


# --- the run and its report ---------------------------------------------------------------------

EXPECTED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "limbo_expected.txt")


def expected_disagreements():
    """{case id: reason} from host_tests/limbo_expected.txt."""
    out = {}
    with open(EXPECTED_FILE, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                cid, _, why = line.partition("\t")
                out[cid.strip()] = why.strip()
    return out


def run_all(tmpdir):
    """Every case through nxsecure (and the references): a list of row dicts."""
    rows = []
    for case in load_cases():
        t0 = time.perf_counter()
        try:
            accepted, status, note = run_nxsecure(case)
            crash = None
        except Exception as exc:            # a crash is a finding, reported and asserted
            accepted, status, note, crash = False, -1, "", repr(exc)
        dt = time.perf_counter() - t0
        rows.append({
            "id": case["id"], "family": family(case["id"]),
            "expected": case["expected_result"] == "SUCCESS",
            "accepted": accepted, "status": status, "note": note, "crash": crash,
            "seconds": dt, "pyca": run_pyca(case), "openssl": run_openssl(case, tmpdir),
        })
    return rows


def _verdict(v):
    return "n/a" if v is None else ("accept" if v else "reject")


def write_report(path, rows, expected):
    agree = [r for r in rows if r["accepted"] == r["expected"]]
    n = len(rows)
    wrong = [r for r in rows if r["accepted"] and not r["expected"]]
    lines = [
        "# x509-limbo: nxsecure's verifier",
        "",
        "Written by `host_tests/test_x509_limbo.py` (part of `make test`; alone: "
        "`.venv/bin/python -m pytest -q host_tests/test_x509_limbo.py`) from "
        "`../shared/vectors/x509-limbo/limbo.json`, each case through x509_chain_verify "
        "the way the handshake calls it, plus the expected peer name.",
        "",
        "- agreement: **%d/%d (%.1f%%)**" % (len(agree), n, 100.0 * len(agree) / n),
        "- accepted chains the suite rejects: %d (accepted by pyca or OpenSSL too: %d)" % (
            len(wrong), sum(1 for r in wrong if r["pyca"] or r["openssl"])),
        "- crashes: %d; time in nxsecure: %.2f s (slowest case %.3f s)" % (
            sum(1 for r in rows if r["crash"]), sum(r["seconds"] for r in rows),
            max(r["seconds"] for r in rows)),
    ]
    for ref in ("pyca", "openssl"):
        ran = [r for r in rows if r[ref] is not None]
        lines.append("- %s on the same inputs: %d/%d (%.1f%%)" % (
            {"pyca": "pyca cryptography %s" % _pyca_version(),
             "openssl": "`openssl verify -x509_strict` (%s)" % _openssl_version()}[ref],
            sum(1 for r in ran if r[ref] == r["expected"]), len(ran),
            100.0 * sum(1 for r in ran if r[ref] == r["expected"]) / max(1, len(ran))))
    lines += ["", "| family | cases | nxsecure | pyca | openssl |", "|---|---|---|---|---|"]
    fams = sorted(set(r["family"] for r in rows))
    for fam in fams:
        fr = [r for r in rows if r["family"] == fam]

        def score(key):
            ran = [r for r in fr if r[key] is not None]
            return "%d/%d" % (sum(1 for r in ran if r[key] == r["expected"]), len(ran))
        lines.append("| %s | %d | %d | %s | %s |" % (
            fam, len(fr), sum(1 for r in fr if r["accepted"] == r["expected"]),
            score("pyca"), score("openssl")))
    lines += ["", "## Disagreements", "",
              "| case | expected | nxsecure | status | pyca | openssl | why |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["accepted"] != r["expected"]:
            lines.append("| `%s` | %s | %s | %s | %s | %s | %s |" % (
                r["id"], _verdict(r["expected"]), _verdict(r["accepted"]),
                code_name(r["status"]) if r["status"] >= 0 else "crash",
                _verdict(r["pyca"]), _verdict(r["openssl"]),
                expected.get(r["id"], "**not in host_tests/limbo_expected.txt**")))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def _pyca_version():
    import cryptography
    return cryptography.__version__


def _openssl_version():
    try:
        p = subprocess.run(["openssl", "version"], capture_output=True, text=True)
        return " ".join(p.stdout.split()[:2])
    except FileNotFoundError:
        return "missing"
