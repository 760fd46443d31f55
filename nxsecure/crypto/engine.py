"""The start-up check of an AES engine (MicroPython's cryptolib.aes or its like)."""
# Imported once, when the port picks its backend, and dropped again after
# (kernel.forget): the check's code and vectors cost no heap for the rest of a board's run.


def engine_works(aes_new):
    """True when aes_new behaves as the modes need (see portable_backend): ECB, and CBC
    whose IV carries over from one call to the next, both in place. Checked with
    FIPS-197 C.1 and NIST SP 800-38A F.2.1 (first two blocks, one call each)."""
    from binascii import unhexlify
    try:
        b = bytearray(unhexlify("00112233445566778899aabbccddeeff"))
        aes_new(bytes(range(16)), 1).encrypt(b, b)
        if b != unhexlify("69c4e0d86a7b0430d8cdb78070b4c55a"):
            return False
        c = aes_new(unhexlify("2b7e151628aed2a6abf7158809cf4f3c"), 2, bytes(range(16)))
        b = bytearray(unhexlify("6bc1bee22e409f96e93d7e117393172a"
                                "ae2d8a571e03ac9c9eb76fac45af8e51"))
        v = memoryview(b)
        c.encrypt(v[0:16], v[0:16])
        c.encrypt(v[16:32], v[16:32])
        return b == unhexlify("7649abac8119b246cee98e9b12e9197d"
                              "5086cb9b507219ee95db113a917678b2")
    except (ValueError, TypeError, OSError):
        return False

