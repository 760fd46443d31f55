# RSA (RFC 8017): RSAEP/RSAVP1 and the CRT private operation (5.1, 5.2), PKCS#1
# v1.5 signatures (8.2, EMSA-PKCS1-v1_5 9.2), RSASSA-PSS (8.1, EMSA-PSS 9.1 with
# MGF1), PKCS#1 v1.5 encryption (7.2), and the TLS premaster decryption with the
# Bleichenbacher countermeasure of RFC 5246 7.4.7.1.
#
# Keys are nxsecure.pk.keys.RsaKey. Digests are computed by the caller; hash names
# are 'sha1', 'sha256', 'sha384', 'sha512'. Functions return None / False on any
# failure and never raise on input data.
#
# The private operation uses the CRT and then checks the result with the public
# exponent (a faulty CRT half would otherwise leak a factor: Boneh-DeMillo-Lipton).
# There is no blinding: pow() timing depends on the data, as all pure-Python
# big-int code does.
from nxsecure.pk import hashes

# RFC 8017 9.2 note 1: DER of DigestInfo up to the digest bytes
_DIGEST_INFO = {
    'sha1': b'\x30\x21\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00\x04\x14',
    'sha256': b'\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20',
    'sha384': b'\x30\x41\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02\x05\x00\x04\x30',
    'sha512': b'\x30\x51\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03\x05\x00\x04\x40',
}


def _public(key, data):
    # RSAVP1 / RSAEP on a k-byte string (5.2.2 step 1: the representative < n)
    if len(data) != key.size:
        return None
    s = int.from_bytes(bytes(data), 'big')
    if s >= key.n:
        return None
    return pow(s, key.e, key.n)


def _private(key, c):
    # RSADP / RSASP1 (5.1.2 step 2.b: CRT), verified with e; None on a fault
    p = key.p
    if p:
        q = key.q
        m1 = pow(c % p, key.dp, p)
        m2 = pow(c % q, key.dq, q)
        m = m2 + q * ((m1 - m2) * key.qinv % p)
    else:
        m = pow(c, key.d, key.n)
    if pow(m, key.e, key.n) != c:
        return None
    return m


def _mod_bits(key):
    top = key.n >> (8 * (key.size - 1))
    b = 0
    while top:
        top >>= 1
        b += 1
    return 8 * (key.size - 1) + b


def _emsa_pkcs1(hash_name, digest, k):
    # EMSA-PKCS1-v1_5 (9.2): 0x00 0x01 PS(0xff..) 0x00 DigestInfo
    prefix = _DIGEST_INFO.get(hash_name)
    if prefix is None or len(digest) != hashes.size(hash_name):
        return None
    t = prefix + bytes(digest)
    if k < len(t) + 11:
        return None
    return b'\x00\x01' + b'\xff' * (k - len(t) - 3) + b'\x00' + t


def verify_pkcs1(key, hash_name, digest, sig):
    """RSASSA-PKCS1-v1_5-VERIFY (8.2.2) by re-encoding and comparing (step 4)."""
    m = _public(key, sig)
    em = _emsa_pkcs1(hash_name, digest, key.size)
    if m is None or em is None:
        return False
    return m.to_bytes(key.size, 'big') == em


def sign_pkcs1(key, hash_name, digest):
    """RSASSA-PKCS1-V1_5-SIGN (8.2.1): k-byte signature, or None."""
    em = _emsa_pkcs1(hash_name, digest, key.size)
    if em is None or not key.private:
        return None
    s = _private(key, int.from_bytes(em, 'big'))
    if s is None:
        return None
    return s.to_bytes(key.size, 'big')


def verify_pss(key, hash_name, digest, sig, salt_len=-1):
    """RSASSA-PSS-VERIFY (8.1.2) with EMSA-PSS-VERIFY (9.1.2), MGF1 over the same
    hash; salt length = hash length unless given (RFC 8446 4.2.3 requires that)."""
    hl = hashes.size(hash_name)
    if hl == 0 or len(digest) != hl or hashes.ctor(hash_name) is None:
        return False
    sl = hl if salt_len < 0 else salt_len
    m = _public(key, sig)
    if m is None:
        return False
    em_bits = _mod_bits(key) - 1
    em_len = (em_bits + 7) >> 3
    if m >> (8 * em_len):             # 8.1.2 step 2c: does not fit emLen octets
        return False
    em = m.to_bytes(em_len, 'big')
    if em_len < hl + sl + 2 or em[-1] != 0xBC:        # 9.1.2 steps 3, 4
        return False
    db_len = em_len - hl - 1
    h = em[db_len:em_len - 1]
    top_mask = 0xFF >> (8 * em_len - em_bits)
    if em[0] & ~top_mask & 0xFF:                      # step 6
        return False
    db = hashes.mgf1(hash_name, h, db_len)            # step 7
    for i in range(db_len):                           # step 8
        db[i] ^= em[i]
    db[0] &= top_mask                                 # step 9
    ps = db_len - sl - 1
    for i in range(ps):                               # step 10
        if db[i]:
            return False
    if db[ps] != 1:
        return False
    o = hashes.ctor(hash_name)(bytes(8))              # steps 12, 13
    o.update(digest)
    o.update(db[db_len - sl:])
    return o.digest() == h                            # step 14


def sign_pss(key, hash_name, digest, rand, salt_len=-1):
    """RSASSA-PSS-SIGN (8.1.1) with EMSA-PSS-ENCODE (9.1.1), salt from rand."""
    hl = hashes.size(hash_name)
    if hl == 0 or len(digest) != hl or hashes.ctor(hash_name) is None or not key.private:
        return None
    sl = hl if salt_len < 0 else salt_len
    em_bits = _mod_bits(key) - 1
    em_len = (em_bits + 7) >> 3
    if em_len < hl + sl + 2:
        return None
    salt = bytes(rand(sl)) if sl else b''
    if len(salt) != sl:
        return None
    o = hashes.ctor(hash_name)(bytes(8))
    o.update(digest)
    o.update(salt)
    h = o.digest()
    db_len = em_len - hl - 1
    db = hashes.mgf1(hash_name, h, db_len)
    ps = db_len - sl - 1
    db[ps] ^= 1
    for i in range(sl):
        db[ps + 1 + i] ^= salt[i]
    db[0] &= 0xFF >> (8 * em_len - em_bits)
    s = _private(key, int.from_bytes(bytes(db) + h + b'\xbc', 'big'))
    if s is None:
        return None
    return s.to_bytes(key.size, 'big')


def encrypt_pkcs1(key, msg, rand):
    """RSAES-PKCS1-V1_5-ENCRYPT (7.2.1): PS of nonzero bytes from rand(n)."""
    k = key.size
    ml = len(msg)
    if ml > k - 11:
        return None
    ps = bytearray(rand(k - ml - 3))
    if len(ps) != k - ml - 3:
        return None
    for i in range(len(ps)):
        tries = 0
        while ps[i] == 0:
            if tries == 32:          # a source this broken is not random
                return None
            ps[i] = rand(1)[0]
            tries += 1
    m = int.from_bytes(b'\x00\x02' + bytes(ps) + b'\x00' + bytes(msg), 'big')
    return pow(m, key.e, key.n).to_bytes(k, 'big')


def decrypt_pkcs1(key, ct):
    """RSAES-PKCS1-V1_5-DECRYPT (7.2.2): the message, or None. Its timing and
    result reveal padding validity: for a TLS premaster use decrypt_premaster."""
    if not key.private:
        return None
    k = key.size
    if len(ct) != k or k < 11:
        return None
    c = int.from_bytes(bytes(ct), 'big')
    if c >= key.n:
        return None
    m = _private(key, c)
    if m is None:
        return None
    em = m.to_bytes(k, 'big')
    if em[0] != 0 or em[1] != 2:
        return None
    i = 2
    while i < k and em[i] != 0:
        i += 1
    if i == k or i < 10:             # no separator, or PS shorter than 8 octets
        return None
    return em[i + 1:]


def decrypt_premaster(key, ct, client_version, rand):
    """The 48-byte pre_master_secret of an RSA ClientKeyExchange, with the
    countermeasure of RFC 5246 7.4.7.1: draw R (48 random bytes) first; if the
    padding is wrong or the message is not 48 bytes, the result is R, otherwise
    client_version || M[2..47]. The padding check has no early exit and the choice
    is made with byte masks, so neither the result's shape nor an exception tells
    the caller (or the peer) whether the padding was valid."""
    r = bytes(rand(48))
    if len(r) != 48:
        r = bytes(48)                # a broken source: never trust the message
        ok_source = 0
    else:
        ok_source = 1
    k = key.size
    em = None
    if key.private and len(ct) == k and k >= 59:
        c = int.from_bytes(bytes(ct), 'big')
        if c < key.n:
            m = _private(key, c)
            if m is not None:
                em = m.to_bytes(k, 'big')
    if em is None:
        em = bytes(k if k >= 59 else 59)   # all zero: fails the check below
        k = len(em)
    sep = k - 49                      # 0x00 0x02 PS(k-51 >= 8) 0x00 M(48)
    bad = em[0] | (em[1] ^ 2) | em[sep]
    for i in range(2, sep):
        bad |= ((em[i] - 1) >> 8) & 1     # 1 iff the PS byte is zero
    cv = bytes(client_version)
    if len(cv) != 2:
        bad |= 1
        cv = b'\x00\x00'
    mask = ((bad - 1) >> 8) & 0xFF & (0xFF * ok_source)   # 0xFF iff all good
    nm = mask ^ 0xFF
    out = bytearray(48)
    out[0] = (cv[0] & mask) | (r[0] & nm)
    out[1] = (cv[1] & mask) | (r[1] & nm)
    base = k - 48
    for i in range(2, 48):
        out[i] = (em[base + i] & mask) | (r[i] & nm)
    return bytes(out)
