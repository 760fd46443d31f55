"""Start-up health check of the platform's random source, loaded only when the stack
first needs random bytes from it (nxsecure.port.random_into): a source that fails it is
refused, and starting a session or server then fails with
NX_SECURE_TLS_NO_RANDOM_SOURCE, as on a platform without one.

It catches a source that is visibly broken, not one that is merely weak: a stuck or
constant generator (an emulator whose os.urandom returns the same byte, a ring
oscillator that is not running), or one that repeats its output. Modelled on the
start-up and continuous tests of NIST SP 800-90B 4.4 and FIPS 140-2 4.9.2; it is no
statistical test of entropy."""

# SP 800-90B 4.4.1 repetition count test: with H bits of min-entropy per sample, a run
# of C = 1 + ceil(20 / H) identical samples has probability below 2^-20 per sample for
# a healthy source. Bytes of a conditioned source (os.urandom) are assumed to carry at
# least H = 4 bits, so C = 6; a run that long in 64 bytes is a 2^-15 event at worst for
# H = 4, and about 2^-34 for a full-entropy source.
_RUN_CUTOFF = 6
_BLOCK = 32


def startup_check(read):
    """None when read(n) -> n bytes looks like a working random source, else why not."""
    a = read(_BLOCK)
    if a is None:
        return "this platform has no random source"
    b = read(_BLOCK)
    if b is None or len(a) != _BLOCK or len(b) != _BLOCK:
        return "the random source returned fewer bytes than asked"
    if a == b:
        # FIPS 140-2 4.9.2: consecutive outputs must differ
        return "the random source repeated its output"
    run = 1
    prev = -1
    for block in (a, b):
        for x in block:
            run = run + 1 if x == prev else 1
            if run >= _RUN_CUTOFF:
                return "the random source gave %d equal bytes in a row (0x%02x)" % (run, x)
            prev = x
    return None


def platform_random_check():
    """Check the platform's source: None when it passed, from which time on the port
    uses it without checking again (nxsecure.port._random_ok), else why it is refused.
    A refusal is not remembered: the next use checks again."""
    from nxsecure import port
    if port._random_ok:
        return None
    reason = startup_check(port._impl.platform_random)
    if reason is None:
        port._random_ok = True
    return reason
