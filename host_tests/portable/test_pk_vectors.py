# Published and cross-made vectors for nxsecure.pk (portable: no pytest, runs on
# MicroPython too: `micropython host_tests/portable/test_pk_vectors.py`).
# Sources: RFC 6979 A.2.5 / A.2.6, NIST CAVS "KAS ECC CDH primitive" P-256
# COUNT = 0, RFC 7748 5.2 and 6.1. The RSA and EC keys and signatures below were
# made once with pyca `cryptography` on CPython (cross-check vectors).
import hashlib
from binascii import unhexlify

# names imported one by one: `from nxsecure import const` would get the const()
# shim that nxsecure/__init__.py re-exports with `from .const import *`
from nxsecure.const import (NX_SUCCESS, NX_SECURE_X509_INVALID_PUBLIC_KEY,
                            NX_SECURE_PKCS1_INVALID_PRIVATE_KEY,
                            NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE,
                            NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER)
from nxsecure.pk import (portable_pk_backend, parse_spki, parse_rsa_private_key,
                         parse_ec_private_key, parse_private_key, parse_rsa_public_key)
from nxsecure.pk import ec, ec_jac, x25519, rsa, der, hashes

B = portable_pk_backend()


def _rng(seed):
    # deterministic test "random" bytes (SHA-256 in counter mode)
    state = [0]

    def rand(n):
        out = b''
        while len(out) < n:
            state[0] += 1
            out += hashlib.sha256(seed + state[0].to_bytes(4, 'big')).digest()
        return out[:n]
    return rand


def _flip(b, i):
    b = bytearray(b)
    b[i] ^= 1
    return bytes(b)


# --- RFC 6979 A.2.5: P-256 ---------------------------------------------------------
P256_X = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
P256_U = unhexlify(
    '0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6'
    '7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299')
P256_SAMPLE = (0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60,
               0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
               0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8)
P256_TEST = (0xD16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0,
             0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
             0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083)

# --- RFC 6979 A.2.6: P-384, SHA-384, "sample" ----------------------------------------
P384_X = int('6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8'
             '96D5724E4C70A825F872C9EA60D2EDF5', 16)
P384_SAMPLE_K = int('94ED910D1A099DAD3254E9242AE85ABDE4BA15168EAF0CA87A555FD56D10FBCA'
                    '2907E3E83BA95368623B8C4686915CF9', 16)
P384_U = unhexlify(
    '04EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64'
    'DEF8F0EA9055866064A254515480BC13'
    '8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1'
    '288B231C3AE0D4FE7344FD2533264720')
SHA384_SAMPLE = unhexlify(
    '9a9083505bc92276aec4be312696ef7bf3bf603f4bbd381196a029f340585312'
    '313bca4a9b5b890efee42c77b1ee25fe')
P384_SAMPLE_R = 0x94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46
P384_SAMPLE_S = 0x99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8

# --- NIST CAVS ECC CDH primitive, P-256, COUNT = 0 --------------------------------
CDH_QCAVS = unhexlify(
    '04700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287'
    'db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac')
CDH_DIUT = 0x7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534
CDH_QIUT = unhexlify(
    '04ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230'
    '28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141')
CDH_Z = unhexlify('46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b')

# --- made with pyca cryptography (see the file header) -----------------------------
MSG = b'nxsecure pk test vector'
MSG_SHA384 = unhexlify(
    '01df66d11cdf10f21f9e6872e2233d9e42f3573d5ad5021a10abc7c81cc9912d'
    '870c73ccde4dd96354fba690c58e07e0')
MSG_SHA512 = unhexlify(
    '4122beb747f589447e296c6fafa30e553471f54eba822ff0bd8d5b2220b9a768'
    '6d18b386c4970e5f26c9072c4931904c3fa62fec651cb15325d2f16a72db1d69')
RSA1024_PRIV = unhexlify(
    '3082025c02010002818100b471e834b7ff2d3bed374cbd3e841f019991ea8d27539227cb'
    '7012303352a9dca604ae951f0a06ee97df6b0aa12a3e7adbe9bc83ba3b91200a55e37f62'
    '4c410044346bc901354d45e8b597e2b2aa4c0700f5ca21e21287df4d4c65b9bdf6e27ae4'
    'fe5cc7622d8f8c7a6ff01aac1311c6fa6e65618369c4f59bd8bf07873255ff0203010001'
    '0281801ff266cd26a25c0cd713ca575b012348323b3e4e9d5ed36a8e3f1a49445ce74bf4'
    '6cb1c81f05b4727b9b07a58b21228cb7f0aafa9b773e5b70d901fd2497218eb164fe95f9'
    '2e0362d84ce8f14d6d5074ace81c2d709a23bc3ae34588727ce653f1195bf21a481dfb9c'
    '9cc5f3013aafdefdd55496f83b75260201bc32e2006499024100dbbe284adf6bb56a337c'
    'c2993f53f599e3ea321ada07806979f2f094a2291d13182b2480733ea7ed38338c157cd1'
    'a1ac889ebdb90bc358ad5e5daa573327ffe5024100d237d336a6f62ba9c37af38d92dfc5'
    'b10423fe747dfb00f72b31bc04b27cfac207875d8820103140d09a03c9039f0cd362a586'
    'dd8e361cd2768ac364e3bb7813024100a1100c3074fa598a721aabf7ef76f6b9c9584b49'
    '6b2dbc6d93390225af863b0d57d5a7778f0109ccd238d62099d07d941cbf5d88589ae250'
    '90ae4ec0837a7a11024066e8311b25ec883f58944db9d65678de48da9debc4e824f6da4c'
    '44704037f2411d92647508cd246f482ebcffa028320d20d34b0c165be30c1c3f9d9b3be8'
    '3fc50240793300937bb1a5f13533710372d8b181b6b13c6a6f3e3dbefe4e49c3df97b4b5'
    '1f8129a4d163f8f9aa872af9dd7c4a6a011ed238f6236ddd61e2bbad06e4159e')
RSA1024_SPKI = unhexlify(
    '30819f300d06092a864886f70d010101050003818d0030818902818100b471e834b7ff2d'
    '3bed374cbd3e841f019991ea8d27539227cb7012303352a9dca604ae951f0a06ee97df6b'
    '0aa12a3e7adbe9bc83ba3b91200a55e37f624c410044346bc901354d45e8b597e2b2aa4c'
    '0700f5ca21e21287df4d4c65b9bdf6e27ae4fe5cc7622d8f8c7a6ff01aac1311c6fa6e65'
    '618369c4f59bd8bf07873255ff0203010001')
RSA2048_SPKI = unhexlify(
    '30820122300d06092a864886f70d01010105000382010f003082010a0282010100c882ec'
    '1142dfc786c81237d87b34c0f215bd16effc39d77d62a5cce27ef8a12f8438098b634756'
    'cd16a29660d9271c0e3a0777734f32ec098b4553944e0fbf6bd5a87bf855539599d19010'
    '863b7c14bbc365ef6e5aab6e1d171454cf90cd9e761cd518e11450060b8b3b7fc7fad597'
    '6b08e0a7242d5d806953c13df67ae10f03e95b524801415dff60ffac0d444937be174819'
    '9b9661f20bce312bd89c46ec9499386902eee90ad9078a0b7f96cdee74d64f7e084fcaab'
    '83bfe199121d919141915606d6b5d212afb1dda57dc737ff38edc10178de75e6b4009fae'
    'b2ae79fb17afc3cd382b1ebea9e897b087bf70f4cccf70b62cff90a20f35a064b1824b76'
    'dd0203010001')
EC_PRIV = unhexlify(
    '30770201010420b1f1600fe4454ce1cac6fab8f02afacbc711cee4a5228234d12c1d20d5'
    '7e7643a00a06082a8648ce3d030107a1440342000402e5196930f58d91ddaab035461b62'
    '17b03f4e4666bef214f4df23d14cb821b0f9dc46c99cd06eda8a47f4e91da706048180a4'
    '5b9be958e9a9d2b31c157aaada')
EC_PKCS8 = unhexlify(
    '308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420'
    'b1f1600fe4454ce1cac6fab8f02afacbc711cee4a5228234d12c1d20d57e7643a1440342'
    '000402e5196930f58d91ddaab035461b6217b03f4e4666bef214f4df23d14cb821b0f9dc'
    '46c99cd06eda8a47f4e91da706048180a45b9be958e9a9d2b31c157aaada')
EC_SPKI = unhexlify(
    '3059301306072a8648ce3d020106082a8648ce3d0301070342000402e5196930f58d91dd'
    'aab035461b6217b03f4e4666bef214f4df23d14cb821b0f9dc46c99cd06eda8a47f4e91d'
    'a706048180a45b9be958e9a9d2b31c157aaada')
SIG1024_PKCS1_SHA256 = unhexlify(
    '6fa791d52fd70ae9b3aae282f93770cb5ec8473ed723c1afac8ecc479bc249382ac52408'
    '85bb32ed3eb2b22bbd336c16d6fffb2ac71a876974ad247bf3ec4b9700f1307d85e47736'
    '48db346cd6a4f08dcee6d6f076529183db284fb8dbf9b87b6a8a4c2e95056c6304a45810'
    '9b5d9996cee2c4a8410ef2825f688374faf73e28')
SIG1024_PSS_SHA256 = unhexlify(
    '92adfff6287a445f9c8acefaf4775636486fc6653e08a7e36934cfd438d63573dd6db79a'
    'c4caee691a133845368d1002994d5580fbabd59e26262346f5f6ab9dbf02f9cc7c7ffc08'
    '8f5a1953ed9a0603808a4a820f82df2c5ec57925c223b1ee2a99bccfe7d32915c945f362'
    '8b952cca2a13ad950e095e7bcc7af7655ad8ef04')
SIG2048_PKCS1_SHA384 = unhexlify(
    '77635db5bc0d13b0739f7825fc7a8909cb9e34b9876e02ce89c0e2fd10617a11fd5e086f'
    '97b59cfc3467fd25d82876c259252f56c81b33e48bc04e0f629de949f0d30012f5ff181d'
    '76b1c65a7429fb70929ad868ae58d4b3df6d20a345bb2398aca5fa8127dc5e43b7193b9e'
    'c1aa4ab09472e1e68c83e86e744eb54756fedf6443699b87c856155f0d94868c5f02af2a'
    '1365f022c687b200b2d038cb89d09ba3f6a0a91631bf7b5d2b7b1aa2fc5fae21150169a1'
    '9a20ad0b9f49caa4de6920644270668a113e33a0f6332ab65a0da48f245c5a7060573440'
    '4ab9fe047fff8328356389530624239dd24654886d519db8a39c894dd992952547f07eaf'
    '01bc06c8')
SIG2048_PSS_SHA512 = unhexlify(
    '53502987bb45f7fcff9b056821ca981fad7eba08bc75ce2a5ae52c32a5a7f1858d3b2f3e'
    '895302db95a22557d221841b2c5c2b61be3d4170a3b814f0b79546ab64c9f41edae383a7'
    '3617d186d1fe261b3afa7da87f2b4fefcf01debe20f9bc1425d072263cafc241b8581802'
    '2b733e79399cfb78d28dfcfef6ff5a0e53a14f08d615fc8860fd64dbd70869e8716b4480'
    '7bde2e4eb82e395bbd973475c0c81e04dc5b8fd695dc9cf5007f9c39f3cc36329142f13b'
    '198b97f1ac2aaf8de8de727fee7e27e2c3923230ab06bc07f0b603fce0113f82d4e10de7'
    '75d3e000533da407c06e5f247025fadf3116254de4a74147afc77c278202ed235d54f3e4'
    '2a7f79ab')
PREMASTER = unhexlify(
    'fefd6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485'
    '868788898a8b8c8d8e8f9091')
CT1024_PREMASTER = unhexlify(
    '880c7643f83371bbdcd466b33e463e1b27e2cfbdfb4610366fadb544f3dee0ed507c3f57'
    '1ffd583d06d10e6563ff9efb5e31330086caa529dc067f102f2e18cd0ff70248040ba675'
    'b8a7ca43f7d2bbb3ff12b3e21ca65f468f2f0048d9220063197998fe624b99ce4bdaf88d'
    '16607e1572a6f9ec1ed02ae6d3ba1250b28f0902')
ECDSA_SIG_SHA256 = unhexlify(
    '3046022100a273374392109a449324eb09c7fcad04cfc76b29114d72bd9b4547710102d9'
    '550221008e2501b2fa0c477997c8dbf72ede71adfd3533758e22c523ad5bcea726d400f4')


def _ec_key(d):
    from nxsecure.pk.keys import EcKey
    return EcKey(23, None, d)


# --- ECDSA P-256 -----------------------------------------------------------------

def test_p256_public_key_of_rfc6979_private_key():
    assert ec.public_from_private(ec.P256, P256_X) == P256_U


def _rfc6979_p256(msg, vec):
    digest = hashlib.sha256(msg).digest()
    k, r, s = vec
    assert ec.rfc6979_nonce(ec.P256, P256_X, 'sha256', digest) == k
    assert ec.sign(ec.P256, P256_X, 'sha256', digest) == (r, s)
    sig = B.ecdsa_sign(23, _ec_key(P256_X), 'sha256', digest)
    assert der.ecdsa_sig_decode(sig, 32) == (r, s)
    assert B.ecdsa_verify(23, P256_U, 'sha256', digest, sig)


def test_rfc6979_p256_sha256_sample():
    _rfc6979_p256(b'sample', P256_SAMPLE)


def test_rfc6979_p256_sha256_test():
    _rfc6979_p256(b'test', P256_TEST)


def test_ecdsa_p256_verify_rejects_tampering():
    digest = hashlib.sha256(b'sample').digest()
    k, r, s = P256_SAMPLE
    n = ec.P256.n
    assert ec.verify(ec.P256, P256_U, digest, r, s)
    assert not ec.verify(ec.P256, P256_U, _flip(digest, 31), r, s)
    assert not ec.verify(ec.P256, P256_U, digest, r, s ^ 2)
    assert ec.verify(ec.P256, P256_U, digest, r, n - s)       # ECDSA is malleable
    assert not ec.verify(ec.P256, P256_U, digest, n - r, s)
    assert not ec.verify(ec.P256, P256_U, digest, 0, s)
    assert not ec.verify(ec.P256, P256_U, digest, r + n, s)
    assert not ec.verify(ec.P256, _flip(P256_U, 40), digest, r, s)   # off-curve key
    sig = der.ecdsa_sig_encode(r, s, 32)
    assert not B.ecdsa_verify(23, P256_U, 'sha256', digest, sig + b'\x00')
    assert not B.ecdsa_verify(23, P256_U, 'sha256', digest, sig[:-1])
    assert not B.ecdsa_verify(23, P256_U, 'sha256', digest, b'')
    assert not B.ecdsa_verify(24, P256_U, 'sha256', digest, sig)      # wrong curve


def test_c_stack_guard_refuses_before_the_arithmetic():
    # a firmware whose C stack is nearly used up: the backend raises (the engine then
    # reports an internal error) instead of running the big-int code past the stack's
    # end; with room, or where no limit is known, the same call goes through
    import nxsecure.pk as pk
    digest = hashlib.sha256(b'sample').digest()
    k, r, s = P256_SAMPLE
    sig = der.ecdsa_sig_encode(r, s, 32)
    saved = (pk.c_stack_limit, pk._stack_use)
    try:
        pk._stack_use = lambda: 6000
        pk.c_stack_limit = 6000 + pk.PK_STACK_NEED - 1
        for call in (lambda: B.ecdsa_verify(23, P256_U, 'sha256', digest, sig),
                     lambda: B.ecdh(23, P256_X, P256_U),
                     lambda: B.ecdh_keypair(23, _rng(b'guard')),
                     lambda: B.ecdsa_sign(23, _ec_key(P256_X), 'sha256', digest)):
            try:
                call()
                raise AssertionError("no RuntimeError")
            except RuntimeError as e:
                assert "C stack" in str(e)
        pk.c_stack_limit = 6000 + pk.PK_STACK_NEED
        assert B.ecdsa_verify(23, P256_U, 'sha256', digest, sig)
        pk.c_stack_limit = 0
        assert B.ecdsa_verify(23, P256_U, 'sha256', digest, sig)
    finally:
        pk.c_stack_limit, pk._stack_use = saved


# --- ECDSA P-384 -----------------------------------------------------------------

def test_rfc6979_p384_sha384_sample_sign():
    # The RFC's nonce needs HMAC-SHA384: on a board whose hashlib has no SHA-384 it comes
    # from crypto/sha512.py through pk.hashes (without it the nonce was HMAC-SHA256's)
    assert hashes.ctor('sha384') is not None
    assert ec.public_from_private(ec.P384, P384_X) == P384_U
    assert ec.rfc6979_nonce(ec.P384, P384_X, 'sha384', SHA384_SAMPLE) == P384_SAMPLE_K
    assert ec.sign(ec.P384, P384_X, 'sha384', SHA384_SAMPLE) == (P384_SAMPLE_R, P384_SAMPLE_S)


def test_rfc6979_p384_sha384_sample_verify():
    r, s = P384_SAMPLE_R, P384_SAMPLE_S
    sig = der.ecdsa_sig_encode(r, s, 48)
    assert B.ecdsa_verify(24, P384_U, 'sha384', SHA384_SAMPLE, sig)
    assert not B.ecdsa_verify(24, P384_U, 'sha384', _flip(SHA384_SAMPLE, 0), sig)
    assert not B.ecdsa_verify(24, P384_U, 'sha384', SHA384_SAMPLE,
                              der.ecdsa_sig_encode(s, r, 48))


# --- ECDH P-256 ------------------------------------------------------------------

def test_ecdh_p256_nist_cavs_count0():
    assert B.ecdh_p256(CDH_DIUT, CDH_QCAVS) == CDH_Z
    assert ec.public_from_private(ec.P256, CDH_DIUT) == CDH_QIUT


def test_ecdh_rejects_invalid_points():
    d = CDH_DIUT
    p = ec.P256.p
    bad = [
        b'', b'\x00',                                   # infinity encodings
        bytes(65),                                      # prefix 0 and (0, 0)
        b'\x02' + CDH_QCAVS[1:33],                      # compressed form
        b'\x02' + CDH_QCAVS[1:],                        # wrong prefix
        CDH_QCAVS[:-1], CDH_QCAVS + b'\x00',            # lengths
        _flip(CDH_QCAVS, 64),                           # off the curve
        b'\x04' + p.to_bytes(32, 'big') + CDH_QCAVS[33:],   # x = p
        b'\x04' + bytes(32) + (p - 1).to_bytes(32, 'big'),  # not a point
    ]
    for q in bad:
        assert B.ecdh_p256(d, q) is None
        assert ec.decode_point(ec.P256, q) is None


def test_ecdh_p256_keypair_agreement():
    a = B.ecdh_p256_keypair(_rng(b'alice'))
    b = B.ecdh_p256_keypair(_rng(b'bob'))
    s1 = B.ecdh_p256(a[0], b[1])
    assert s1 is not None and len(s1) == 32
    assert s1 == B.ecdh_p256(b[0], a[1])


def test_ec_keypair_rejects_out_of_range_random():
    # rand that returns n, then 0, then a valid scalar: FIPS 186-4 B.4.2 rejection
    vals = [ec.P256.n.to_bytes(32, 'big'), bytes(32), (5).to_bytes(32, 'big')]
    kp = B.ecdh_p256_keypair(lambda n: vals.pop(0))
    assert kp[0] == 5
    assert B.ecdh_p256_keypair(lambda n: bytes(n)) is None


# --- X25519 ----------------------------------------------------------------------

def test_x25519_rfc7748_5_2():
    assert x25519.x25519(
        unhexlify('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
        unhexlify('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')
    ) == unhexlify('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552')
    assert x25519.x25519(
        unhexlify('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
        unhexlify('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493')
    ) == unhexlify('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957')


def test_x25519_rfc7748_6_1_diffie_hellman():
    a = unhexlify('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
    b = unhexlify('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
    a_pub = unhexlify('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
    b_pub = unhexlify('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
    k = unhexlify('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742')
    assert x25519.public(a) == a_pub
    assert x25519.public(b) == b_pub
    assert B.x25519(a, b_pub) == k
    assert B.x25519(b, a_pub) == k


def test_x25519_rejects_small_order_and_bad_lengths():
    k = unhexlify('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
    assert B.x25519(k, bytes(32)) is None                    # u = 0
    assert B.x25519(k, b'\x01' + bytes(31)) is None          # u = 1 (order 4)
    assert B.x25519(k, bytes(31)) is None
    assert B.x25519(k[:31], b'\x09' + bytes(31)) is None


# --- RSA -------------------------------------------------------------------------

def _rsa1024():
    st, key = parse_rsa_private_key(RSA1024_PRIV)
    assert st == NX_SUCCESS
    return key


def test_rsa_pkcs1_sign_equals_pyca_signature():
    key = _rsa1024()
    digest = hashlib.sha256(MSG).digest()
    assert B.rsa_sign_pkcs1(key, 'sha256', digest) == SIG1024_PKCS1_SHA256
    st, pub = parse_spki(RSA1024_SPKI)
    assert st == NX_SUCCESS and pub.n == key.n and pub.e == 65537 and pub.size == 128
    assert B.rsa_verify_pkcs1(pub, 'sha256', digest, SIG1024_PKCS1_SHA256)
    assert not B.rsa_verify_pkcs1(pub, 'sha256', _flip(digest, 3), SIG1024_PKCS1_SHA256)
    assert not B.rsa_verify_pkcs1(pub, 'sha256', digest, _flip(SIG1024_PKCS1_SHA256, 100))
    assert not B.rsa_verify_pkcs1(pub, 'sha1', digest[:20], SIG1024_PKCS1_SHA256)
    assert not B.rsa_verify_pkcs1(pub, 'sha256', digest, SIG1024_PKCS1_SHA256[1:])
    assert not B.rsa_verify_pss(pub, 'sha256', digest, SIG1024_PKCS1_SHA256)


def test_rsa_pss_verify_pyca_signature():
    st, pub = parse_spki(RSA1024_SPKI)
    digest = hashlib.sha256(MSG).digest()
    assert B.rsa_verify_pss(pub, 'sha256', digest, SIG1024_PSS_SHA256)
    assert not B.rsa_verify_pss(pub, 'sha256', _flip(digest, 0), SIG1024_PSS_SHA256)
    assert not B.rsa_verify_pss(pub, 'sha256', digest, _flip(SIG1024_PSS_SHA256, 5))
    assert not B.rsa_verify_pkcs1(pub, 'sha256', digest, SIG1024_PSS_SHA256)


def test_rsa2048_verify_pkcs1_sha384_and_pss_sha512():
    st, pub = parse_spki(RSA2048_SPKI)
    assert st == NX_SUCCESS and pub.size == 256
    assert B.rsa_verify_pkcs1(pub, 'sha384', MSG_SHA384, SIG2048_PKCS1_SHA384)
    assert not B.rsa_verify_pkcs1(pub, 'sha512', MSG_SHA512, SIG2048_PKCS1_SHA384)
    if hashes.ctor('sha512') is None:
        return                          # this board has no SHA-512 for MGF1
    assert B.rsa_verify_pss(pub, 'sha512', MSG_SHA512, SIG2048_PSS_SHA512)
    assert not B.rsa_verify_pss(pub, 'sha512', _flip(MSG_SHA512, 63), SIG2048_PSS_SHA512)


def test_rsa_pss_sign_roundtrip():
    key = _rsa1024()
    digest = hashlib.sha256(b'pss').digest()
    sig = B.rsa_sign_pss(key, 'sha256', digest, _rng(b'salt'))
    assert len(sig) == 128
    assert B.rsa_verify_pss(key, 'sha256', digest, sig)
    assert not B.rsa_verify_pss(key, 'sha256', _flip(digest, 1), sig)


def test_rsa_decrypt_pyca_premaster_and_version_rule():
    key = _rsa1024()
    r = _rng(b'r')
    assert B.rsa_decrypt_pkcs1(key, CT1024_PREMASTER) == PREMASTER
    assert B.rsa_decrypt_premaster(key, CT1024_PREMASTER, b'\xfe\xfd', r) == PREMASTER
    # RFC 5246 7.4.7.1: the version comes from ClientHello, the rest from M
    got = B.rsa_decrypt_premaster(key, CT1024_PREMASTER, b'\xfe\xff', r)
    assert got == b'\xfe\xff' + PREMASTER[2:]


def test_rsa_encrypt_decrypt_roundtrip():
    key = _rsa1024()
    ct = B.rsa_encrypt_pkcs1(key, PREMASTER, _rng(b'pad'))
    assert len(ct) == 128
    assert B.rsa_decrypt_pkcs1(key, ct) == PREMASTER
    assert B.rsa_encrypt_pkcs1(key, bytes(118), _rng(b'pad')) is None   # > k - 11
    # a rand that yields zeros must still give a nonzero padding string
    zeros = [0]

    def zrand(n):
        zeros[0] += 1
        return bytes(n) if zeros[0] == 1 else b'\x07' * n
    ct = B.rsa_encrypt_pkcs1(key, b'hi', zrand)
    assert B.rsa_decrypt_pkcs1(key, ct) == b'hi'


def _raw_encrypt(key, em):
    return pow(int.from_bytes(em, 'big'), key.e, key.n).to_bytes(key.size, 'big')


def test_bleichenbacher_bad_padding_gives_random_premaster():
    key = _rsa1024()
    k = key.size
    good_ps = b'\x5a' * (k - 51)
    bad_ems = [
        b'\x00\x01' + good_ps + b'\x00' + PREMASTER,           # block type 1
        b'\x01\x02' + good_ps + b'\x00' + PREMASTER,           # leading byte
        b'\x00\x02' + good_ps[:-1] + b'\x00\x00' + PREMASTER,  # zero inside PS
        b'\x00\x02' + good_ps + b'\x01' + PREMASTER,           # no separator
        b'\x00\x02' + good_ps + PREMASTER + b'\x00',           # message of 0 bytes
        b'\x00\x02' + good_ps[1:] + b'\x00' + PREMASTER + b'\x00',   # 49 bytes
    ]
    cts = [_raw_encrypt(key, em) for em in bad_ems]
    cts += [bytes(k), b'\xff' * k, CT1024_PREMASTER[1:], CT1024_PREMASTER + b'\x00', b'']
    for i, ct in enumerate(cts):
        rbytes = _rng(b'R%d' % i)(48)
        out = B.rsa_decrypt_premaster(key, ct, b'\xfe\xfd', _rng(b'R%d' % i))
        assert out == rbytes, i                  # exactly R: nothing of M leaks
        if i in (0, 1, 3) or i >= 6:        # 2, 4, 5 are valid PKCS#1, wrong length
            assert B.rsa_decrypt_pkcs1(key, ct) is None, i
    # the control: the same construction with valid padding is accepted
    ok = _raw_encrypt(key, b'\x00\x02' + good_ps + b'\x00' + PREMASTER)
    assert B.rsa_decrypt_premaster(key, ok, b'\xfe\xfd', _rng(b'x')) == PREMASTER


def test_rsa_public_key_cannot_sign_or_decrypt():
    st, pub = parse_spki(RSA1024_SPKI)
    digest = hashlib.sha256(MSG).digest()
    assert B.rsa_sign_pkcs1(pub, 'sha256', digest) is None
    assert B.rsa_decrypt_pkcs1(pub, CT1024_PREMASTER) is None
    assert len(B.rsa_decrypt_premaster(pub, CT1024_PREMASTER, b'\xfe\xfd', _rng(b'p'))) == 48


# --- keys ------------------------------------------------------------------------

def test_ec_private_key_sec1_and_pkcs8_parse():
    st, k1 = parse_ec_private_key(EC_PRIV)
    assert st == NX_SUCCESS and k1.curve == 23 and k1.private
    st, k2 = parse_private_key(EC_PKCS8)
    assert st == NX_SUCCESS and k2.d == k1.d and k2.pub == k1.pub
    st, pub = parse_spki(EC_SPKI)
    assert st == NX_SUCCESS and pub.curve == 23 and not pub.private
    assert pub.pub == k1.pub
    assert ec.public_from_private(ec.P256, k1.d) == pub.pub
    # pyca's (randomised) signature verifies; ours verifies against the SPKI key
    digest = hashlib.sha256(MSG).digest()
    assert B.ecdsa_verify(23, pub, 'sha256', digest, ECDSA_SIG_SHA256)
    sig = B.ecdsa_sign(23, k1, 'sha256', digest)
    assert B.ecdsa_verify(23, pub.pub, 'sha256', digest, sig)
    assert B.ecdsa_sign(24, k1, 'sha256', digest) is None      # key is P-256


def test_pkcs8_rsa_and_rsa_public_key():
    # PKCS#8 wrapping of the PKCS#1 key: SEQUENCE { 0, {rsaEncryption, NULL}, OCTET STRING }
    alg = unhexlify('300d06092a864886f70d0101010500')
    body = b'\x02\x01\x00' + alg + b'\x04\x82' + len(RSA1024_PRIV).to_bytes(2, 'big') + RSA1024_PRIV
    p8 = b'\x30\x82' + len(body).to_bytes(2, 'big') + body
    st, key = parse_private_key(p8)
    assert st == NX_SUCCESS and key.private and key.n == _rsa1024().n
    # the BIT STRING content of the SPKI is a PKCS#1 RSAPublicKey
    st, key = parse_rsa_public_key(RSA1024_SPKI[22:])
    assert st == NX_SUCCESS and key.e == 65537


def test_malformed_der_keys_return_error_codes():
    inv_pub = NX_SECURE_X509_INVALID_PUBLIC_KEY
    inv_priv = NX_SECURE_PKCS1_INVALID_PRIVATE_KEY
    # every truncation, and trailing garbage
    for blob, fn, code in ((EC_SPKI, parse_spki, inv_pub),
                           (RSA1024_SPKI, parse_spki, inv_pub),
                           (RSA1024_PRIV, parse_rsa_private_key, inv_priv),
                           (EC_PRIV, parse_ec_private_key, inv_priv),
                           (EC_PKCS8, parse_private_key, inv_priv)):
        for n in range(len(blob)):
            assert fn(blob[:n]) == (code, None), n
        assert fn(blob + b'\x00') == (code, None)
    # indefinite length (BER) and a non-minimal length
    assert parse_spki(b'\x30\x80' + EC_SPKI[2:] + b'\x00\x00')[0] == inv_pub
    assert parse_spki(b'\x30\x81\x59' + EC_SPKI[2:])[0] == inv_pub
    # off-curve EC public key
    assert parse_spki(_flip(EC_SPKI, len(EC_SPKI) - 1)) == (inv_pub, None)
    # unknown algorithm / curve: well formed but unsupported
    bad_oid = EC_SPKI.replace(unhexlify('2a8648ce3d030107'), unhexlify('2a8648ce3d030108'))
    assert parse_spki(bad_oid)[0] == NX_SECURE_TLS_UNSUPPORTED_PUBLIC_CIPHER
    # RSA key whose CRT values do not match (qInv changed)
    assert parse_rsa_private_key(_flip(RSA1024_PRIV, len(RSA1024_PRIV) - 1))[0] == inv_priv
    # EC key with a curve disagreeing with the caller's
    assert parse_ec_private_key(EC_PRIV, 24)[0] == NX_SECURE_X509_INVALID_PRIVATE_KEY_TYPE
    # wrong types entirely
    assert parse_spki(None)[0] == inv_pub
    assert parse_rsa_private_key(b'\x02\x01\x00')[0] == inv_priv


def test_ecdsa_signature_der_codec():
    # high bit set -> a 0x00 sign octet; small values shortest form
    sig = der.ecdsa_sig_encode(0x80, 1, 32)
    assert sig == unhexlify('3007020200800201' + '01')
    assert der.ecdsa_sig_decode(sig, 32) == (0x80, 1)
    assert der.ecdsa_sig_decode(unhexlify('300702020001020101'), 32) is None   # non-minimal
    assert der.ecdsa_sig_decode(unhexlify('3006020180020101'), 32) is None     # negative
    assert der.ecdsa_sig_decode(unhexlify('30060201010201010000'), 32) is None # trailing
    assert der.ecdsa_sig_decode(b'\x30\x25\x02\x21\x01' + bytes(32) + b'\x02\x01\x01', 32) is None
    full = der.ecdsa_sig_encode(ec.P384.n - 1, ec.P384.n - 2, 48)
    assert der.ecdsa_sig_decode(full, 48) == (ec.P384.n - 1, ec.P384.n - 2)


def test_hmac_rfc4231_case_2():
    # RFC 4231 4.3 (HMAC-SHA-256, key "Jefe")
    assert hashes.hmac('sha256', b'Jefe', (b'what do ya want ', b'for nothing?')) == unhexlify(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')


def test_scalar_edge_cases():
    c = ec.P256
    g = ec.encode_point(c, c.gx, c.gy)
    assert ec.public_from_private(c, 1) == g
    x, y, z = ec.mul_base(c, 0)
    assert z == 0                                   # 0*G = O
    neg_g = ec.encode_point(c, c.gx, c.p - c.gy)
    assert ec.public_from_private(c, c.n - 1) == neg_g
    x, y, z = ec.mul_point(c, c.n - 1, c.gx, c.gy)
    assert ec._affine(x, y, z, c.p) == (c.gx, c.p - c.gy)


# --- native arithmetic (nxsecure.pk.native) against the big-int code ----------------

def _both(fn):
    """[fn() with the big-int arithmetic] plus [fn() with the native one] where this
    firmware compiles it (CPython and the WebAssembly build: the big-int one only)."""
    outs = []
    for on in ((False, True) if ec.native() is not None else (False,)):
        ec.use_native(on)
        try:
            outs.append(fn())
        finally:
            ec.use_native(True)
    return outs


def test_native_arithmetic_is_used_where_the_port_compiles_it():
    # as for the crypto kernels: on the unix, RP2040 and ESP32 ports it must load
    import sys
    if sys.implementation.name != "micropython" or sys.platform not in ("linux", "rp2",
                                                                         "esp32"):
        return
    assert ec.native() is not None


def test_native_field_arithmetic_matches_big_ints():
    # the native field operations on edge and pseudo-random values below 2^256 (the
    # native code keeps values "lazy": below 2^256, not always below p)
    m = ec.native()
    if m is None:
        return                  # no native emitter here: the big-int code is what runs
    assert m.x25519_available()  # X25519's part is compiled on its first use
    ns = m._NS
    rand = _rng(b'field')
    for q, mul, ws in ((ec.P256.p, "fmul", m._WS), (2 ** 255 - 19, "gmul", m._WX)):
        w = bytearray(ws)
        m._put(w, 256, q)
        vals = [0, 1, q - 1, q, q + 1, 2 ** 256 - 1, 2 ** 256 - q, 2 ** 255, 2 ** 224]
        vals += [int.from_bytes(rand(32), 'big') for _ in range(24)]
        for i, a in enumerate(vals):
            b = vals[(i * 7 + 3) % len(vals)]
            m._put(w, 0, a)
            m._put(w, 32, b)
            ns[mul](w, 64, 0, 32)
            ns["fadd"](w, 96, 0, 32)
            ns["fsub"](w, 128, 0, 32)
            got = [int.from_bytes(bytes(w[o:o + 32]), 'little') for o in (64, 96, 128)]
            assert [g % q for g in got] == [a * b % q, (a + b) % q, (a - b) % q], (hex(a), hex(b))


def test_p256_native_and_big_int_agree():
    c = ec.P256
    p = c.p
    q = ec.decode_point(c, P256_U)
    rand = _rng(b'native')
    for k in (1, 2, 15, 16, c.n - 1, int.from_bytes(rand(32), 'big') % c.n):
        u2 = (k * 7 + 3) % c.n

        def run():
            return (ec._affine(*ec.mul_base(c, k), p), ec._affine(*ec.mul_point(c, k, q[0], q[1]), p),
                    ec._affine(*ec._shamir(c, k, u2, q[0], q[1]), p))
        res = _both(run)
        assert all(r == res[0] for r in res), k
        kg, kq, joint = res[0]
        assert kg == ec._affine(*ec.mul_point(c, k, c.gx, c.gy), p)
        # the joint chain is u1*G + u2*Q
        u2q = ec.mul_point(c, u2, q[0], q[1])
        assert joint == ec._affine(*ec_jac.madd(u2q[0], u2q[1], u2q[2], kg[0], kg[1], p), p)


def test_p256_joint_chain_through_the_exceptional_cases():
    # Q = G: the two halves of u1*G + u2*Q meet the same points, and u2 = n - u1 gives O
    c = ec.P256
    for u1, u2 in ((5, 7), (c.n - 3, 3), (1, c.n - 1)):
        res = _both(lambda: ec._affine(*ec._shamir(c, u1, u2, c.gx, c.gy), c.p))
        want = None if (u1 + u2) % c.n == 0 else ec._affine(*ec.mul_base(c, (u1 + u2) % c.n), c.p)
        assert all(r == want for r in res), (u1, u2)


def test_x25519_native_and_big_int_agree():
    rand = _rng(b'x25519 native')
    for u in (rand(32), b'\xff' * 32, (2 ** 255 - 19).to_bytes(32, 'little')):
        k = rand(32)
        res = _both(lambda: x25519.x25519(k, u))
        assert all(r == res[0] for r in res) and len(res[0]) == 32


def test_p256_comb_constant_is_the_comb():
    # the constant table equals what _comb_table builds (on a copy of the curve)
    c = ec.P256
    fresh = ec.Curve(23, c.p, c.n, c.b, c.gx, c.gy, 32, 43)
    ec.use_native(False)
    try:
        assert ec_jac.comb_table(fresh) == c.comb
    finally:
        ec.use_native(True)


if __name__ == '__main__':
    import sys
    failed = 0
    for name in sorted(dir()):
        if name.startswith('test_'):
            try:
                globals()[name]()
                print('ok  ', name)
            except Exception as e:
                failed += 1
                print('FAIL', name, repr(e))
    sys.exit(1 if failed else 0)
