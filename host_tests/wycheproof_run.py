# Wycheproof test vectors (C2SP/wycheproof) through nxsecure's portable primitives. The
# same code runs on CPython (host_tests/test_wycheproof.py imports it) and, as a script,
# inside the unix MicroPython:  micropython wycheproof_run.py CASES.json [aes]
# CASES.json is the normalized form test_wycheproof.py writes (hex strings; digests
# computed on the host, since MicroPython's hashlib has no SHA-384). It prints one line
# "RESULT <json>" per file: counts of passed, refused and failed tests.
#
# A test passes when the primitive agrees with its verdict: a valid one is computed
# exactly, an invalid one is rejected (False / None, or ValueError for parameters the
# primitive does not take), an acceptable one either way. "Refused" counts valid tests
# whose parameters the primitive does not implement and refuses with ValueError at
# set-up (a GCM nonce other than 96 bits, AES-192 on cryptolib, ...): each is listed by
# reason, and an unlisted refusal is a failure. Anything else, including any other
# exception, is a failure.
import binascii

from nxsecure.crypto import aes as _aes, ccm as _ccm, gcm as _gcm, cbc as _cbc, mac as _mac

_unhex = binascii.unhexlify


def _block_factory(kind):
    """The AES engine the modes run over: 'pure', nxsecure's pure-Python AES;
    'cryptolib', the platform's (boards). Both are called as engine(key, mode, iv)."""
    if kind == "cryptolib":
        import cryptolib
        return cryptolib.aes
    return _aes.new


def _aead_unsupported(g, aes):
    """Why the primitive does not take this group's parameters, or None. GCM: 96-bit
    nonces and 96..128-bit tags (what TLS uses, RFC 5288 3); CCM: nonces of 7..13
    octets, even tags of 4..16 octets (RFC 3610 2); cryptolib has no AES-192."""
    iv, tag, key = g["iv"], g["tag"], g["key"]
    if aes == "cryptolib" and key == 192:
        return "AES-192 (cryptolib)"
    if g["alg"] == "gcm":
        if iv != 96:
            return "GCM nonce not 96 bits"
        if tag < 96:
            return "GCM tag under 96 bits"
    elif not (56 <= iv <= 104) or tag < 32 or tag % 16:
        return "CCM nonce/tag size outside RFC 3610"
    if key not in (128, 192, 256):
        return "AES key size"
    return None
class Tally:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.refused = {}        # reason -> count (valid tests not run: unsupported)
        self.failed = []         # (tcId, why)

    def result(self):
        return {"file": self.name, "passed": self.passed, "refused": self.refused,
                "failed": self.failed[:20], "failures": len(self.failed)}


def _check(tally, tc, result, ok):
    """ok: True when the primitive computed the right answer, False when it rejected."""
    if result == "acceptable" or (ok if result == "valid" else not ok):
        tally.passed += 1
    else:
        tally.failed.append((tc, "accepted" if ok else "rejected"))


def _refusal(tally, tc, result, reason, err):
    if reason is None:
        tally.failed.append((tc, "refused: " + str(err)))
    elif result == "invalid":
        tally.passed += 1              # a rejection, signalled cleanly
    else:
        tally.refused[reason] = tally.refused.get(reason, 0) + 1


def _aead(tally, g, tests, blocks, aes):
    gcm = g["alg"] == "gcm"
    tl = g["tag"] // 8
    unsupported = _aead_unsupported(g, aes)
    for tc, result, key, iv, aad, msg, ct, tag in tests:
        key, iv, aad, msg, ct, tag = (_unhex(key), _unhex(iv), _unhex(aad), _unhex(msg),
                                      _unhex(ct), _unhex(tag))
        n = len(msg)
        try:
            ctx = (_gcm.GCM(blocks, key, tl) if gcm
                   else _ccm.CCM(blocks, key, tl, 15 - len(iv)))
            buf = bytearray(n + tl)
            buf[:n] = msg
            ctx.seal(iv, aad, buf, 0, n)
        except ValueError as e:
            _refusal(tally, tc, result, unsupported, e)
            continue
        if unsupported is not None:
            tally.failed.append((tc, "took parameters it should refuse: " + unsupported))
            continue
        sealed = bytes(buf) == ct + tag
        buf = bytearray(ct + tag)
        opened = ctx.open(iv, aad, buf, 0, len(buf))
        if opened and bytes(buf[:len(ct)]) != msg:
            tally.failed.append((tc, "opened to the wrong plaintext"))
            continue
        if result == "valid" and not sealed:
            tally.failed.append((tc, "seal differs"))
            continue
        _check(tally, tc, result, opened)


def _cbc_pkcs5(tally, g, tests, blocks, aes):
    # nxsecure's CBC carries TLS records, whose padding (RFC 5246 6.2.3.2) the record
    # layer checks: here the cipher is checked in both directions, PKCS#5 padding is
    # the harness's, and an invalid test counts as rejected when the ciphertext is not
    # whole blocks (ValueError) or does not decrypt to PKCS#5-padded data.
    unsupported = "AES-192 (cryptolib)" if aes == "cryptolib" and g["key"] == 192 else None
    for tc, result, key, iv, msg, ct in tests:
        key, iv, msg, ct = _unhex(key), _unhex(iv), _unhex(msg), _unhex(ct)
        try:
            ctx = _cbc.CBC(blocks, key)
            p = 16 - len(msg) % 16
            buf = bytearray(msg + bytes([p]) * p)
            ctx.encrypt(iv, buf, 0, len(buf))
        except ValueError as e:
            _refusal(tally, tc, result, unsupported, e)
            continue
        if result == "valid" and bytes(buf) != ct:
            tally.failed.append((tc, "encryption differs"))
            continue
        buf = bytearray(ct)
        try:
            ctx.decrypt(iv, buf, 0, len(buf))
        except ValueError:
            _check(tally, tc, result, False)
            continue
        p = buf[-1] if buf else 0
        ok = 1 <= p <= 16 and p <= len(buf) and bytes(buf[-p:]) == bytes([p]) * p
        if ok and result == "valid" and bytes(buf[:-p]) != msg:
            tally.failed.append((tc, "decryption differs"))
            continue
        _check(tally, tc, result, ok)


def _hmac(tally, g, tests):
    import hashlib
    h = getattr(hashlib, g["hash"], None)
    if h is None and g["hash"] == "sha384":
        # what the SHA-384 suites use where hashlib has none (every MicroPython 1.27
        # build here): crypto/sha512.py
        from nxsecure.crypto.sha384_prf import sha384
        h = sha384()
    if h is None:
        tally.refused["no hashlib." + g["hash"]] = len(tests)
        return
    bs = 128 if g["hash"] in ("sha384", "sha512") else 64
    for tc, result, key, msg, tag in tests:
        key, msg, tag = _unhex(key), _unhex(msg), _unhex(tag)
        out = bytearray(64)
        _mac.HMAC(key, h, bs).mac(b"", msg, 0, len(msg), out, 0)
        _check(tally, tc, result, bytes(out[:len(tag)]) == tag)


def _pk():
    from nxsecure.pk import portable_pk_backend
    return portable_pk_backend()


def _ecdsa(tally, g, tests):
    be = _pk()
    pub = _unhex(g["pub"])
    for tc, result, digest, sig in tests:
        ok = be.ecdsa_verify(g["group"], pub, g["hash"], _unhex(digest), _unhex(sig))
        _check(tally, tc, result, ok is True)


def _ecdh(tally, g, tests):
    from nxsecure.pk import ec, keys
    c = ec.curve(g["group"])
    for tc, result, public, private, shared in tests:
        public, shared = _unhex(public), _unhex(shared)
        d = int.from_bytes(_unhex(private), "big")
        if g["encoding"] == "asn":
            st, key = keys.parse_spki(public)
            point = key.pub if st == 0 and key.curve == g["group"] else None
        else:
            point = public
        z = ec.ecdh(c, d, point) if point is not None else None
        if z is not None and result == "valid" and z != shared:
            tally.failed.append((tc, "wrong shared secret"))
            continue
        _check(tally, tc, result, z is not None)


def _x25519(tally, g, tests):
    from nxsecure.pk import x25519
    for tc, result, public, private, shared in tests:
        z = x25519.shared(_unhex(private), _unhex(public))
        if z is not None and z != _unhex(shared):
            tally.failed.append((tc, "wrong shared secret"))
            continue
        _check(tally, tc, result, z is not None)


def _key(tally, parse, der_hex):
    st, key = parse(_unhex(der_hex))
    if st:
        tally.failed.append((0, "key did not parse"))
    return key


def _rsa_sig(tally, g, tests):
    from nxsecure.pk import keys, rsa
    key = _key(tally, keys.parse_spki, g["spki"])
    for tc, result, digest, sig in (tests if key else ()):
        _check(tally, tc, result, rsa.verify_pkcs1(key, g["hash"], _unhex(digest), _unhex(sig)))


def _rsa_dec(tally, g, tests):
    from nxsecure.pk import keys, rsa
    key = _key(tally, keys.parse_private_key, g["pkcs8"])
    for tc, result, msg, ct in (tests if key else ()):
        m = rsa.decrypt_pkcs1(key, _unhex(ct))
        if m is not None and result == "valid" and m != _unhex(msg):
            tally.failed.append((tc, "wrong message"))
            continue
        _check(tally, tc, result, m is not None)


def run_file(norm, aes="pure"):
    """One normalized Wycheproof file -> Tally.result()."""
    tally = Tally(norm["file"])
    kind = norm["kind"]
    blocks = _block_factory(aes)
    for g in norm["groups"]:
        tests = g["tests"]
        if kind == "aead":
            _aead(tally, g, tests, blocks, aes)
        elif kind == "cbc":
            _cbc_pkcs5(tally, g, tests, blocks, aes)
        elif kind == "mac":
            _hmac(tally, g, tests)
        elif kind == "ecdsa":
            _ecdsa(tally, g, tests)
        elif kind == "ecdh":
            _ecdh(tally, g, tests)
        elif kind == "x25519":
            _x25519(tally, g, tests)
        elif kind == "rsa_sig":
            _rsa_sig(tally, g, tests)
        elif kind == "rsa_dec":
            _rsa_dec(tally, g, tests)
        else:
            tally.failed.append((0, "no runner for " + kind))
    return tally.result()


def main(argv):
    import json
    with open(argv[1]) as f:
        files = json.load(f)
    aes = argv[2] if len(argv) > 2 else "pure"
    try:
        from time import ticks_ms, ticks_diff
    except ImportError:          # CPython
        from time import perf_counter

        def ticks_ms():
            return int(perf_counter() * 1000)

        def ticks_diff(a, b):
            return a - b
    for norm in files:
        t0 = ticks_ms()
        res = run_file(norm, aes)
        res["seconds"] = ticks_diff(ticks_ms(), t0) / 1000
        print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    import sys
    main(sys.argv)
