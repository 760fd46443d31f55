# SHA-512 / SHA-384 for boards without them in hashlib (nxsecure/crypto/sha512.py), under
# pytest and inside MicroPython: the FIPS 180-4 examples (NIST's "abc" and the 896-bit
# message, the empty message), a 1000-byte message fed in uneven pieces, copy() and
# digest() that leave the hash usable (the handshake transcript needs both), and, where
# the firmware compiles the native compression function, the same answers from both.
from nxsecure.crypto import sha512 as S

ABC_384 = ("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
           "8086072ba1e7cc2358baeca134c825a7")
ABC_512 = ("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
           "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
M896 = (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
M896_384 = ("09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
            "fcc7c71a557e2db966c3e9fa91746039")
M896_512 = ("8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
EMPTY_384 = ("38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
             "274edebfe76f65fbd51ad2f14898b95b")
EMPTY_512 = ("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
             "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
D1000 = bytes((i * 7 + 3) & 255 for i in range(1000))
D1000_384 = ("94c38db521ca733b8904c2d14b6e82d33dcfcc26e1318c579dbee1fc2f472019"
             "034e792263b9d46e90e700de2f6e7e91")


def _both(fn):
    """Run fn with the Python compression and, where it compiles, the native one."""
    ways = [False]
    if S.native() is not None:
        ways.append(True)
    try:
        for on in ways:
            S.use_native(on)
            fn()
    finally:
        S.use_native(True)


def test_fips_180_examples():
    def check():
        assert S.sha384(b"abc").hexdigest() == ABC_384
        assert S.sha512(b"abc").hexdigest() == ABC_512
        assert S.sha384(M896).hexdigest() == M896_384       # two blocks once padded
        assert S.sha512(M896).hexdigest() == M896_512
        assert S.sha384().hexdigest() == EMPTY_384
        assert S.sha512(b"").hexdigest() == EMPTY_512
        assert S.sha384().digest_size == 48 and S.sha512().digest_size == 64
        assert S.sha384().block_size == 128
    _both(check)


def test_pieces_copy_and_repeated_digests():
    def check():
        h = S.sha384()
        pos = 0
        step = 1
        copies = []
        while pos < len(D1000):
            h.update(D1000[pos:pos + step])
            pos += step
            step = step * 3 + 1                  # 1, 4, 13, 40, 121, 364, ...
            copies.append((pos, h.copy()))
        assert h.hexdigest() == D1000_384
        assert h.hexdigest() == D1000_384        # a digest does not end the hash
        for at, c in copies:
            c.update(D1000[at:])
            assert c.hexdigest() == D1000_384
        h.update(b"more")
        assert h.hexdigest() != D1000_384
        g = S.sha384(memoryview(bytearray(D1000))[0:500])
        g.update(memoryview(D1000)[500:])
        assert g.hexdigest() == D1000_384
    _both(check)
