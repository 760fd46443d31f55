# The record layer's CCM_8 records of epoch 1 (record.py, crypto/ccm.py CCM._rseal /
# CCM._ropen: a generator per direction that seals or opens an in-order record of
# epoch 1 in one resumption) against its general path and against records
# made with pyca, over every kernel set here (the native one where the firmware compiles
# it). Runs under pytest on CPython (whose backend is pyca: record_host.py's generators
# there) and inside MicroPython (tools/mp_test_runner.py).
import gc
import hashlib
import sys
from binascii import hexlify

from nxsecure import port
from nxsecure.const import (
    CT_ALERT, CT_APPLICATION_DATA, CT_HANDSHAKE, NX_SUCCESS, NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE,
    NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED, TLS_PSK_WITH_AES_128_CCM_8,
)
from nxsecure.crypto import kernel
from nxsecure.crypto.table import make_tls_crypto
from nxsecure.record import CipherState, RecordLayer, SCRATCH_SIZE

# SHA-256 of six PSK-CCM_8 records of epoch 1 (key 00..0f, fixed IV a0a1a2a3, sequence
# numbers 0-5, payload sizes 100 5 100 5 128 128, byte j of record s = (7j + s) & 0xFF),
# made with pyca's AESCCM and the struct module
_RECORDS = "e93911111e3ef7a44e7aae1d933f7d4dc926cc5002b7ab1146f4452612ae6482"


class _Logged:
    """A record generator whose results are logged: (open?, what it returned)."""

    def __init__(self, g, is_open, log):
        self.g = g
        self.o = is_open
        self.log = log

    def send(self, x):
        v = self.g.send(x)
        self.log.append((self.o, v))
        return v


def _layers(k, fast):
    """A writer and a reader RecordLayer in epoch 1 of PSK-CCM_8 (the keys above), their
    contexts on kernels k; fast: their record generators on (logged), else off (the
    general path for every record)."""
    kernel.use(k)
    try:
        table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
        row = table.nx_secure_tls_ciphersuite_lookup_table[0]
        m = row.nx_secure_tls_session_cipher.nx_crypto_metadata_area_size
        md = memoryview(bytearray(2 * m))
        w = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
        r = RecordLayer(memoryview(bytearray(SCRATCH_SIZE)))
        key = bytes(range(16))
        w.set_pending(None, CipherState(row, key, b"", b"\xa0\xa1\xa2\xa3", md[0:m], None))
        r.set_pending(CipherState(row, key, b"", b"\xa0\xa1\xa2\xa3", md[m:], None), None)
        w.activate_write()
        r.activate_read()
    finally:
        kernel.use(None)
    log = []
    if fast and w.wfast is not None:
        w.wfast = _Logged(w.wfast, False, log)
        r.rfast = _Logged(r.rfast, True, log)
    else:
        w.wfast = r.rfast = None
    return w, r, log


def _kernel_sets():
    return [kernel.python()] + ([kernel.native()] if kernel.native() else [])


def test_ccm8_records_against_the_general_path_and_pyca():
    bad = []
    for k in _kernel_sets():
        for fast in (True, False):
            w, r, log = _layers(k, fast)
            rx = _layers(k, not fast)[1]            # the other path's reader
            buf = bytearray(400)
            h = hashlib.sha256()
            pre = w.write_prefix(1)
            for s, n in enumerate((100, 5, 100, 5, 128, 128)):
                for j in range(n):
                    buf[pre + j] = (7 * j + s) & 0xFF
                t = w.seal(buf, 0, CT_APPLICATION_DATA, 1, n)
                h.update(buf[:t])
                saved = bytes(buf[:t])
                for rl in (r, rx):
                    buf[:t] = saved
                    assert rl.open(buf, 0, t) == NX_SUCCESS
                    assert (rl.r_type, rl.r_epoch, rl.r_seq, rl.r_off, rl.r_len,
                            rl.r_next) == (CT_APPLICATION_DATA, 1, s, 21, n, t)
                    assert bytes(buf[21:21 + n]) == bytes((7 * j + s) & 0xFF
                                                         for j in range(n))
                    rl.accept()
            assert hexlify(h.digest()).decode() == _RECORDS
            # the generators take all 6 seals and 6 opens (declined: 0 sealing, -1
            # opening): on MicroPython CCM's make a size's scratch views on its first
            # record; on CPython (pyca) record_host.py's
            done = [1 for o, v in log if v > 0 or o and v == 0]
            assert len(done) == (12 if fast else 0), log
            # a handshake record and an alert of epoch 1 (the Finished, a closure) go the
            # same way, their type kept, and open on the other path too
            for ct, n in ((CT_HANDSHAKE, 24), (CT_ALERT, 2)):
                del log[:]
                u = w.seal(buf, 0, ct, 1, n)
                saved = bytes(buf[:u])
                for rl in (r, rx):
                    buf[:u] = saved
                    assert rl.open(buf, 0, u) == NX_SUCCESS and rl.r_type == ct
                    assert rl.r_len == n
                    rl.accept()
                assert len([1 for o, v in log if v > 0 or o and v == 0]) == (
                    2 if fast else 0), log
            # the tag, a body byte, the sequence number: rejected, and the next record
            # still opens (the CBC-MAC chain stays in step)
            for i in (t - 1, 30, 10):
                w.seal(buf, 0, CT_APPLICATION_DATA, 1, 128)
                sealed = bytes(buf[:t])
                buf[i] ^= 1
                bad.append(r.open(buf, 0, t))
                buf[:t] = sealed
                assert r.open(buf, 0, t) == NX_SUCCESS
                r.accept()
            # a replay, one inside the window not seen yet (the general path's window
            # check), a record past the generators' 128 bytes
            w.seal(buf, 0, CT_APPLICATION_DATA, 1, 100)
            older = bytes(buf[:t])
            w.seal(buf, 0, CT_APPLICATION_DATA, 1, 100)
            assert r.open(buf, 0, t) == NX_SUCCESS
            r.accept()
            assert r.open(buf, 0, t) == NX_SECURE_TLS_REPEAT_MESSAGE_RECEIVED
            buf[:t] = older
            assert r.open(buf, 0, t) == NX_SUCCESS and r.r_len == 100
            r.accept()
            t = w.seal(buf, 0, CT_APPLICATION_DATA, 1, 300)
            assert r.open(buf, 0, t) == NX_SUCCESS and r.r_len == 300
            r.accept()
            # sequence numbers across 2^30 and 2^32 (a big int on a 32-bit port)
            for s0 in ((1 << 30) - 2, (1 << 32) - 2):
                w.seq[1] = s0
                for s in range(4):
                    t = w.seal(buf, 0, CT_APPLICATION_DATA, 1, 16)
                    assert r.open(buf, 0, t) == NX_SUCCESS and r.r_seq == s0 + s
                    r.accept()
    assert bad == [NX_SECURE_TLS_HASH_MAC_VERIFY_FAILURE] * len(bad) and bad, bad


def test_ccm8_records_allocate_nothing():
    # the record path's promise on a board: no heap per record, the generators' included
    if sys.implementation.name != "micropython":
        return
    for k in _kernel_sets():
        w, r, log = _layers(k, True)
        w.activate_write()              # the generators without the logging wrappers
        r.activate_read()
        buf = bytearray(200)
        for _ in range(2):              # a size's first record makes CCM's views
            t = w.seal(buf, 0, CT_APPLICATION_DATA, 1, 100)
            assert r.open(buf, 0, t) == NX_SUCCESS
            r.accept()
        gc.collect()
        gc.disable()
        try:
            m0 = gc.mem_alloc()
            for _ in range(3):
                t = w.seal(buf, 0, CT_APPLICATION_DATA, 1, 100)
                assert r.open(buf, 0, t) == NX_SUCCESS
                r.accept()
            used = gc.mem_alloc() - m0
        finally:
            gc.enable()
        assert used == 0, (k.native, used)
