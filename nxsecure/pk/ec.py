# NIST P-256 and P-384 (short Weierstrass, a = -3): point codec, key generation,
# ECDH (SEC 1 v2 3.3.1) and ECDSA (SEC 1 v2 4.1.3 / 4.1.4, FIPS 186-4 6.4) with
# deterministic nonces (RFC 6979 3.2). Pure Python: big-int work is left to the
# interpreter's C code (*, %, pow), and what costs on a microcontroller is counted in
# big-int operations and the garbage they leave: every operation allocates its result,
# and on an RP2040 with the stack loaded the collections that garbage triggers cost
# about as much as the arithmetic (bench/mp_crypto.py p256 --load). So: Jacobian
# coordinates (x = X/Z^2, y = Y/Z^3; Z = 0 is O) with the a = -3 doubling (3M + 5S) and
# mixed addition (8M + 3S), chosen by measurement (docs/BOARDS.md), tables in affine
# form made with one inversion, and no inversion where a comparison does.
#
# - fixed base G (key generation, signing): a signed all-bits comb with 6 teeth
#   (every bit recoded to +1/-1), 32 affine points: P-256 43 doublings + 43 additions.
#   P-256's table is the constant _P256_COMB below (2 KB of bytes: in flash when the
#   module is frozen, ~2.7 KB of heap when its .mpy is loaded from a filesystem);
#   P-384's is built on first use (about one scalar multiplication, 3 KB kept; set
#   `curve.comb` back to None to give it back).
# - variable base (ECDH): width-4 regular signed recoding (Joye-Tunstall), every
#   digit odd and nonzero, odd multiples P..15P: 4 doublings + 1 addition per digit.
# - verification: u1*G + u2*Q in one chain of doublings (Shamir's trick): u2 in
#   width-5 NAF over Q's odd multiples, u1's comb columns added in the chain's last
#   43 steps; then x(R) = r is checked as X = r * Z^2 (mod p), with no inversion.
#
# Timing: key generation, signing and ECDH keep one operation sequence whatever the
# secret scalar (both recodings make every step "double(s), then add a table point";
# the scalar is first replaced by an odd representative k or k + n). That is structure,
# not constant time: interpreter big-int arithmetic takes data-dependent time, table
# lookups are list indexing, the rare exceptional additions (equal or opposite points)
# branch, and inversions use pow(). Verification works on public values only and uses
# a variable-time NAF. It is the best a pure-Python build can do; a platform backend
# replaces it where hardware exists.
#
# Scalars are ints, points on the wire are SEC 1 2.3.3 uncompressed
# 0x04 || X || Y. Failures return None or False; nothing here raises on input.
from nxsecure.pk import hashes


class Curve:
    def __init__(self, group, p, n, b, gx, gy, size, spacing, comb=None):
        self.group = group      # TLS NamedCurve (RFC 8422 5.1.1)
        self.p = p
        self.n = n
        self.b = b
        self.gx = gx
        self.gy = gy
        self.size = size        # bytes of p and of n (both are full-length here)
        self.qlen = size * 8    # bit length of n (RFC 6979 2.3.2)
        self.ndig = size * 2 + 1   # width-4 digits of an odd k' < 2**(8*size+1)
        self.spacing = spacing  # comb: 6 * spacing >= 8*size + 1 recoded bits
        self.comb = comb        # 32 affine points, each x || y little-endian bytes


# The P-256 comb (see ec_jac.comb_table): 32 affine points, each x || y as 64 bytes, both
# little-endian (the layout nxsecure.pk.native reads as 16-bit limbs); 32 small objects, not
# one 2 KB one, so that loading the module needs no large free block. Computed once
# with ec_jac.comb_table(P256), checked against it by host_tests/portable/test_pk_vectors.py.
_P256_COMB = (
    b'\x2d\x95\xf1\x79\xb6\x4b\xd0\x3b\x11\xe0\x8b\x11\xb4\x55\x78\x76'
    b'\xc3\x1a\x9c\xb5\x0d\xab\xfd\x76\xa4\x18\x4b\x0c\xe6\xab\xe4\x16'
    b'\x5d\xaf\xa5\xd3\x79\x63\x71\xc4\x54\xf7\xb8\x0f\x74\x57\xfb\xc1'
    b'\x16\xc2\xc2\xc8\x8e\xb5\x8d\xfb\xe8\x75\x06\x85\xfc\x9c\xb9\x2c',
    b'\x2a\x09\x0d\x09\x06\xd6\x03\xc8\xd0\xc3\x54\x15\xbc\x7c\x5f\xf2'
    b'\x3c\x42\x64\xc2\xbf\x41\xd1\xa5\x28\x1d\x4a\x63\x39\x43\x0e\xf0'
    b'\xba\xc9\x47\xcc\x52\x07\x0f\x04\x63\x41\xda\x14\xbe\x7c\x9c\x89'
    b'\xfb\x9d\x55\x8a\x04\x4f\xe8\xa6\x7f\x42\xb3\x7d\xe0\xe1\x13\x50',
    b'\x76\x05\x93\x3e\xf4\x84\xbd\x6f\x47\x5a\x6b\xb1\x05\xd2\x67\xcc'
    b'\x2a\xc5\x51\xc6\x2e\x64\xb5\x34\x15\x23\x71\x41\x10\xeb\xe3\x79'
    b'\x59\x7a\xf8\x09\x73\x6b\xa5\x2d\x86\x73\x59\x41\x3d\xc5\x66\x09'
    b'\x73\xa8\xa9\x8f\x91\xf0\x22\x11\x4a\x53\x23\x15\x0c\x99\xf8\xc6',
    b'\xb5\x7c\x2c\x4b\x5c\x94\x52\xdc\x1c\x88\x04\x06\xb0\xb3\xc4\xf3'
    b'\xf4\x9e\x68\x9a\x3d\x4b\x85\x6f\x8e\x7b\xfe\x51\xf8\xb8\x8b\x70'
    b'\xbc\x90\x7c\xe8\xff\x68\xf4\x1c\x96\x18\x3c\xd7\xd1\xef\x05\x6b'
    b'\x6c\x38\x53\x9b\xb1\x53\xcb\xa7\x4f\x6c\xcc\x3b\xee\x7a\xda\x06',
    b'\x71\x5d\x72\xcf\x39\xc2\x30\x15\xbc\xca\xa1\x53\x55\xea\xe6\x34'
    b'\x72\x55\x4b\x79\x8c\xa1\x9d\xe4\xef\x56\x9c\xb2\x19\x39\x9b\x6b'
    b'\x0a\x74\x8e\x21\x3f\x8b\xd2\x9c\x8d\xc8\x50\x53\x87\x8d\x87\x0f'
    b'\xae\x14\x3a\x90\x06\xce\x55\x64\xfa\xdd\xe2\xc3\xee\xf0\xe1\x87',
    b'\xfe\x64\x72\x00\x45\x98\x7e\x74\x38\xfa\x7a\x5d\x30\xd1\x03\x6e'
    b'\x2d\xc5\x7b\xaf\xaa\x64\xb3\x93\x8e\xf2\x59\xb4\x01\xda\x8a\xa1'
    b'\x86\x98\xb5\x46\x54\xad\x65\x24\x11\x28\x8f\x76\x9a\x44\xbe\x47'
    b'\xe1\x1e\xce\x28\xb0\xab\xa8\xaa\xec\xdb\x26\x8d\xcc\x4c\x9a\x15',
    b'\x4b\xe5\x18\x01\xb9\x0e\xac\xe3\xdc\x60\x57\x3e\xf2\x49\x44\xc8'
    b'\x7c\x78\xe3\x09\x61\xa2\x35\xa2\x7b\x37\x79\xea\xf8\x4d\xaf\x4b'
    b'\x63\xa5\x7b\x78\xc4\x8d\x9d\x8d\xf0\xe8\xf0\x49\x5d\x24\x6b\x07'
    b'\xe3\x9a\xdc\x44\xec\x90\xfe\xac\xb9\x70\x8c\x90\x4a\x66\x1d\x72',
    b'\xfb\x59\xe8\xc2\x3f\x5d\x44\x23\xac\x05\xea\xda\x20\x61\xe5\x65'
    b'\x36\x7f\x4d\xc6\x2b\xce\x69\xf9\x25\x9e\xff\x1f\x86\xb1\x08\x6f'
    b'\x2f\x36\x30\xae\x28\xe9\x51\xcf\xb0\xdd\x3c\x83\x9f\x0d\x0a\x1d'
    b'\x0b\xa5\xcf\x05\x2f\x1a\xe3\xc1\x1a\xdb\xd3\x3c\xb3\x1b\x40\xa9',
    b'\x0c\x44\x82\x7f\xa7\x3f\x7c\x6d\xd5\x22\x4f\x12\xa5\x32\x9a\x5a'
    b'\x47\x02\x53\x5d\xe0\x08\x54\x32\x7d\xb0\x18\xca\xfd\x42\xb3\xbf'
    b'\xcc\x8c\xdc\x30\x24\x8f\xc5\x9f\x7c\x94\x7b\x0e\x2d\x39\x50\x0b'
    b'\x68\x99\x55\x5b\x37\x06\x0c\xfb\xd7\xa3\x8c\xfb\x05\x50\x97\x31',
    b'\x62\xce\x93\x8a\xe1\x13\xe5\xae\xf2\x37\xdc\x61\xca\x56\x20\x8d'
    b'\x7a\x54\x30\xb0\xef\xf3\xae\xd8\x99\xd6\x5b\xa2\x27\xc6\xb6\x70'
    b'\xee\x92\x33\x6c\x43\x3d\xee\x5f\x09\xf4\xff\x60\xc9\x38\xd7\x2e'
    b'\x2d\x38\x47\x28\xa4\x2c\xf9\xd4\x9d\xad\xd1\x04\xa4\x1b\xaf\x81',
    b'\xf1\x8d\xf4\xf9\x03\x4b\x33\x82\x40\xea\x62\xdd\xf0\x5f\x79\x28'
    b'\x88\x1f\x2c\xaf\x30\x51\x38\x0a\xd7\xbe\x99\xb0\xc5\x4f\x65\x5e'
    b'\x72\x8b\x1c\x8a\xe5\x3a\x59\x47\xb4\xb1\xfc\x09\x55\x5b\xb7\xf2'
    b'\x6e\xcb\x6b\x57\x15\x29\x6c\x37\x2a\x18\x27\xa2\x6e\xda\xdb\x54',
    b'\xe1\x37\xa3\xe2\xa7\xf2\xfc\x6a\x0f\x6e\x89\x57\xd4\x6d\xd2\xf5'
    b'\xde\xb7\x27\x05\xf3\xf4\x24\x0c\x03\xf1\xb1\x64\x8b\x1c\x41\x3b'
    b'\xe3\xb8\x1f\xc9\x5d\xa2\x60\xc9\x64\xf1\x98\x6d\x34\x99\xe4\x92'
    b'\x96\xcd\x6b\x4c\x3c\x53\xf8\xdf\xbe\xab\x2c\x30\x8e\xf8\x93\x3e',
    b'\xda\x00\xe3\xfa\x34\x52\x8a\x26\x79\xe0\x57\x27\x4e\x95\x96\x1e'
    b'\x9a\xd3\x98\x8a\xb7\x20\xd3\x41\xe8\x57\x64\x39\xc3\xa1\xf3\xc5'
    b'\xa6\xa0\x78\x2f\xf1\xa1\xed\x38\xf6\xb5\x93\x43\x78\x99\x16\xd4'
    b'\x0f\xdf\x03\x5c\xb3\x5a\xc4\x7e\x04\x23\x1a\x68\xb8\x87\xba\x69',
    b'\xcb\x57\x6e\x2c\x51\x0e\x6b\x21\x1a\x16\xb4\xc6\xc8\xf4\x22\x85'
    b'\xe8\x2c\x57\x4e\xb6\xbb\x20\xea\x5d\xcc\xcf\xd1\xc1\x8a\x07\x01'
    b'\x25\x1d\xd0\xbe\x94\xd0\x22\x50\xd3\xfd\xc6\xd0\x60\x2e\x2b\xf1'
    b'\xac\x21\xfa\x74\xec\x3a\x18\x78\x10\x0a\xfb\xd0\xc7\x24\xf6\xef',
    b'\xf7\x39\x3b\x4c\xef\x0f\x06\xf3\x09\x5b\xe7\xd9\x37\x75\xa6\xb4'
    b'\xcc\xde\x3a\x5c\x0c\x27\xf0\x37\x04\x11\x07\x77\xec\x04\x14\x45'
    b'\x48\x54\xd6\x46\x4a\x15\x34\x03\xb8\x38\x45\x8f\x76\x9b\xa1\xe5'
    b'\x42\x55\x20\x19\x7d\xb6\x6c\x9e\x9d\x22\x2f\x6e\x82\xcc\xd4\xf8',
    b'\xb7\x54\x5a\x37\xc3\xa8\x93\x40\x4c\x67\x8d\x93\x40\xed\x0d\xac'
    b'\xd5\xb3\xfa\x2a\x26\x3d\x8b\x9c\x6b\x96\x9e\xfd\xe4\xa5\x39\x69'
    b'\xaa\xeb\x52\x62\x43\xb8\xbb\x8f\xa7\xd4\x04\x3e\x5e\x33\x12\x3b'
    b'\xd9\x00\xf4\xa1\x5c\xe9\xfd\x87\x44\xe7\xc3\x1a\x29\x9d\x41\x0e',
    b'\xf3\x9b\x46\xd4\x38\x0f\xaf\xc3\x18\x36\x86\xc5\xff\x4d\xb6\x99'
    b'\x26\x00\x80\xcf\xfc\x49\x49\xee\xed\xe0\x22\xe6\x8a\x57\xb0\x81'
    b'\xac\xbb\xd6\xa4\x5e\x2a\x87\x16\xc6\xe1\xdb\x0c\x3c\x82\x26\x85'
    b'\xac\x90\x3d\xcf\xd7\xee\x6c\xa1\xac\xe6\xc8\x1d\x7b\x68\x47\x28',
    b'\x30\xda\xda\xfa\xe6\xc3\x28\x08\xc4\xa7\x7f\x51\x81\x99\x8d\xd4'
    b'\x75\x05\x6a\x4f\xad\x69\xeb\x63\xc1\xb4\x1f\xa1\x7f\xbb\x00\xe0'
    b'\x97\xf2\x1f\xd6\x8a\xf2\x53\xec\x5d\xef\xe9\x10\x59\x93\xea\x13'
    b'\xc9\x45\x1a\x37\xdc\xc6\x12\x76\xf6\x14\x31\x50\x02\x42\x2b\x1e',
    b'\x24\xb6\x7d\x1a\x0b\x9e\x23\xd1\x73\xb0\x10\x69\x22\x7c\x5d\x94'
    b'\x5d\x17\x2a\x50\x25\x82\xbf\x20\xd7\x8a\x3e\x59\x33\xe4\x13\x3e'
    b'\x53\xf2\x80\xd7\x27\xb3\x6a\x68\x23\x66\x81\xbf\x07\x57\xde\x9c'
    b'\x64\x9a\x32\x96\xa4\x55\x30\x50\xa2\x15\xf9\x91\xb9\xdc\xd5\x42',
    b'\xf8\x9e\xf7\xf1\x42\x20\x0d\xb9\x79\x03\xf6\x77\x49\xc6\x51\xf9'
    b'\x06\x96\x9f\x81\x53\x89\x28\x70\x4a\x1f\xe8\x8d\x55\xfd\x1c\x39'
    b'\x3e\xa3\x8d\x2f\x0c\x1e\xfd\xb2\xb7\xd6\x8e\xc1\x20\x16\x17\xbf'
    b'\x86\xe3\x1c\xb4\x66\x6e\xfb\x33\x4d\xc5\xd9\xab\xbc\xc5\xb2\x3b',
    b'\x11\xc7\x1f\x13\xc2\x0d\xc9\x16\x39\x93\x53\x2e\x98\xad\x20\x6a'
    b'\x96\xa4\x38\x63\x1e\x9b\x68\x6e\x8b\x6c\x32\x21\xba\x1e\xa5\xef'
    b'\x37\x21\x14\x12\x67\xfe\x73\x50\x98\x00\x7c\xa2\xcf\x3b\xe0\xd5'
    b'\xad\xb4\x79\xbc\x4b\x08\x54\x10\xf4\x31\x14\x18\x40\x53\xbb\xa9',
    b'\x0c\x5a\x28\xa0\x5d\x39\xab\xa7\x80\xad\x00\xec\x92\x78\x73\x12'
    b'\x0b\xe9\x3e\x6a\xb5\xd5\xca\x73\x83\xf4\x2e\xac\x86\xb3\x0c\xe8'
    b'\xf7\x99\x27\x25\x1e\xa0\x71\x95\xcf\xe0\xf8\x88\xd7\xd7\x8a\x77'
    b'\x04\x4e\x0d\xd2\xfd\xb7\xa0\xd2\xe9\x8e\xf7\x1a\x53\x3b\x5c\x50',
    b'\xd7\x93\xc1\xae\x14\xb7\x47\x0e\x7a\x5b\x34\x50\x30\xb5\x24\x97'
    b'\x55\xf8\x31\x85\xdf\x27\xf7\xc0\x8f\x7c\xd1\x94\x2b\x60\xe2\x7f'
    b'\x01\x7f\xa6\xf3\xf0\xec\x9a\xb5\xfc\x4f\xa9\xd8\x93\x32\xae\xf4'
    b'\x3f\x62\xa6\xeb\x7a\x7d\xc0\xa9\x3c\x75\x2c\x8c\xa6\x91\x40\x45',
    b'\x75\x2a\xf4\x37\x1d\x21\x32\xbe\x0f\xa0\x9f\x4f\x12\x1b\x17\x1f'
    b'\x32\xb0\x2e\xa6\x04\x5a\x81\x26\x57\x71\x6f\x4b\x3b\x6e\x35\x94'
    b'\x27\x5a\x65\xab\x97\x6f\xd2\x02\x00\xea\xfd\xbe\xcb\x3e\xbf\x80'
    b'\x91\x09\x17\x9c\xcf\xac\xf4\x48\x75\x33\x56\x3c\x75\xe2\x98\x62',
    b'\x01\xb8\xbe\xfc\xc9\xd9\xfe\xcb\x46\x49\x54\xf2\x60\x6b\xc3\x7a'
    b'\x1a\x02\x3f\xa3\x93\xcd\x4f\x81\x7f\x59\xa5\x53\xc9\xbf\x02\x7d'
    b'\xd7\x70\xfd\xc4\x82\xa7\xbf\x26\xfd\x5b\xda\x13\x39\xc0\x60\x5f'
    b'\xf4\x2f\x69\x64\x2d\x62\x14\xdf\x7a\xa2\xc5\xea\x79\x73\x02\x72',
    b'\x93\xdc\x77\x3a\xb1\x0d\x54\x34\x04\xe1\x05\x3f\xaf\xcf\x45\x04'
    b'\x38\x03\xe7\xbd\x26\x83\xa7\x7a\xb5\x06\x82\xa4\x3f\x07\xff\xd2'
    b'\x1d\x2d\x0f\x2e\xdc\xdc\xc5\xfb\xa0\xb9\xec\xd2\x4a\x48\xc3\x08'
    b'\xc1\xc3\x1d\x58\xda\xd0\x96\xad\x34\x3c\x4a\x0f\x06\x00\x97\xea',
    b'\x53\x37\xcf\x06\x47\x23\xb4\x20\xf1\x87\x24\x72\x6b\xf8\xd4\x7d'
    b'\x8b\xf0\x51\x83\x5a\xaf\x9d\x63\x31\x50\x8b\x39\x80\x37\xf6\x9d'
    b'\x91\xc4\xa3\x9c\x1d\xb8\x4c\x26\xa5\x27\xe0\x5a\x44\x69\x30\x81'
    b'\x37\xb6\xd0\x64\x18\x50\x03\xba\x53\xa9\x65\xe3\x1a\xdf\x43\xcf',
    b'\x3b\x1e\xa0\x44\x07\x47\x42\x5f\x01\x6f\x78\x98\x1b\xd0\x7c\x59'
    b'\x6c\x3f\x2c\x89\xd3\x37\x85\x3b\x13\xd5\x84\x64\xed\x4e\x75\x2e'
    b'\x24\x10\xd9\x83\x49\x5d\x68\x4e\x41\x6d\x36\x0d\x3a\x9e\xea\x21'
    b'\x1f\xc8\x29\x3a\xbd\x43\x13\xa9\x04\x67\x3c\x2c\x96\x0b\xf3\x1f',
    b'\xa4\x0c\x3d\xef\xc9\x09\x51\xbf\xec\xd2\x33\xea\x6a\x2c\x07\xd6'
    b'\x59\x8b\xfd\x3b\xbd\xa5\x90\xa5\x11\x5b\xbf\x5c\x1b\x05\x08\x53'
    b'\x85\x19\xd5\x32\xa3\x90\xa4\x7f\x1b\x07\x82\xa8\x27\x6b\x5f\x13'
    b'\xf4\xe9\x94\x60\xb4\xbc\x55\xa6\x07\x39\x72\x42\x08\x76\xa4\xe4',
    b'\x99\x0e\x54\x54\xa5\xdc\x02\x70\x8c\x86\x6b\xb5\x38\x1f\xd4\xad'
    b'\x05\x9c\xbf\xcd\x30\xf5\xd6\x35\xbd\x6e\xb9\x34\xa2\xac\xb2\xfe'
    b'\x1b\xae\x22\xbc\x42\xa7\xef\xd2\xee\xc0\xa4\x03\xd6\xe6\xd8\xe6'
    b'\x8d\x73\xc6\xf2\x74\x68\x16\x0a\x85\x3e\x30\x6b\x23\x2c\x36\xfb',
    b'\xfd\x25\x40\x9c\x90\x1b\x2e\xd2\x8e\x4e\xbf\x28\xcc\xd3\x1b\x60'
    b'\x4d\xe3\xc9\x90\x1a\x82\x4b\xd6\x76\xbc\x70\x4d\x54\x1a\xb4\xac'
    b'\x81\x1c\xc1\x92\x86\x8a\x7f\x8f\xa8\x4c\x00\x44\x1e\x17\x43\x48'
    b'\xd1\x73\xb2\x14\xe6\x70\xba\x86\xd5\x62\x2e\x7b\x23\x99\x35\x57',
    b'\xef\x2b\xcc\xaf\xf4\x37\xe4\xb9\x53\x2b\xda\x3a\xd6\xb2\x1f\x4f'
    b'\x9a\x0c\x58\xbb\x2d\xe1\xc0\xe6\x6d\x54\xc7\x33\x34\x37\x18\x25'
    b'\xb9\x2f\xd9\xbf\x0f\xd9\x12\xab\x46\xae\x85\xa1\xb3\xb9\xb9\x2c'
    b'\x9f\xf4\xe6\x9c\x7e\x7a\x0c\x2a\xf2\x21\x8f\xb4\x7f\x30\x1f\x53',
)

# FIPS 186-4 D.1.2.3 / SEC 2 2.4.2
P256 = Curve(
    23,
    0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
    0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
    0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
    32, 43, _P256_COMB)

# FIPS 186-4 D.1.2.4 / SEC 2 2.5.1
P384 = Curve(
    24,
    0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff,
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973,
    0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef,
    0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7,
    0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f,
    48, 65)


def curve(group):
    """The Curve for a TLS NamedCurve id (23 secp256r1, 24 secp384r1), or None."""
    if group == 23:
        return P256
    if group == 24:
        return P384
    return None


def _inv(a, p):
    # Fermat: a^(p-2) mod p for prime p (no pow(a, -1, p) on MicroPython)
    return pow(a, p - 2, p)


def _affine(x, y, z, p):
    if z == 0:
        return None
    zi = _inv(z, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def _comb_columns(c, k):
    # k (0 <= k < n) made odd (k or k + n, the same point: the order is n), every bit
    # recoded to +-1: k = sum (2*b_i - 1) 2^i with m = (k + 2^L - 1)/2. Returns the
    # spacing s columns: entry j has bit t = bit s*t + j of m, t = 0..5 (the six teeth),
    # read from m's bytes with small ints (shifting a 256-bit int allocates each time)
    s = c.spacing
    k = k + c.n * (1 - (k & 1))
    mb = ((k + (1 << (6 * s)) - 1) >> 1).to_bytes((6 * s + 15) >> 3, "little")
    out = bytearray(s)
    for j in range(s):
        v = 0
        b = j
        for t in range(6):
            v |= ((mb[b >> 3] >> (b & 7)) & 1) << t
            b += s
        out[j] = v
    return out


def _comb_entry(v):
    # column v -> (table index, sign): the low five teeth's bits give the index,
    # negated (entry 31 - idx, y negated) when the top tooth's bit is 0
    top = v >> 5
    return (v & 31) ^ (31 * (1 - top)), top


_native = None       # nxsecure.pk.native when usable, False when not, None: untried


def native():
    """nxsecure.pk.native (P-256 and X25519 as native code) when this firmware compiles
    it and use_native has not turned it off, else None (the big-int code)."""
    global _native
    if _native is None:
        _native = False
        try:
            from nxsecure.pk import native as m
            if m.available():
                _native = m
        except (ImportError, MemoryError):
            pass
    return _native or None


def _fast(c):
    return native() if c is P256 else None


def use_native(on):
    """Let P-256 and X25519 use the native arithmetic (on: where available; the default)
    or not (tests and benchmarks of the big-int code)."""
    global _native
    _native = None if on else False


def mul_base(c, k):
    """k*G in Jacobian coordinates, for 0 <= k < n (fixed-base signed comb)."""
    m = _fast(c)
    if m is not None:
        return m.mul_base(k)
    from nxsecure.pk import ec_jac          # big ints: P-384, or no native code
    return ec_jac.mul_base(c, k)


def _regular4(c, k):
    # width-4 regular signed digits of k (0 <= k < n), least significant first, each
    # + 16 in a bytearray: k is replaced by the odd k or k + n (the same point), then
    # k = sum d_i 16^i with every d_i odd in [-15, 15] and the top one 1 or 3. With k
    # odd, d_i = 2 * (nibble i of k >> 1) - 15: read from bytes, no big-int arithmetic
    k = k + c.n * (1 - (k & 1))
    kb = (k >> 1).to_bytes(c.size + 1, "little")
    nd = c.ndig
    dig = bytearray(nd)
    for i in range(nd):
        dig[i] = 2 * ((kb[i >> 1] >> (4 * (i & 1))) & 15) + 1
    dig[nd - 1] += 16                 # the top one is k's last bits: positive
    return dig


def mul_point(c, k, px, py):
    """k*(px, py) in Jacobian coordinates, for 0 <= k < n and a validated
    affine point (width-4 regular signed window)."""
    m = _fast(c)
    if m is not None:
        return m.mul_point(k, px, py)
    from nxsecure.pk import ec_jac
    return ec_jac.mul_point(c, k, px, py)


def _naf5(k, size):
    # width-5 NAF of 0 <= k < 2^(8*size), least significant digit first, each digit + 16
    # in a bytearray: digits in {0, +-1, .., +-15}, each nonzero one followed by at
    # least four zeros. Worked on k's bytes with small ints: at a set bit, the five bits
    # from it are the digit (or the digit minus 32, which carries one into the sixth).
    # Variable time: for public scalars only. The digits are a view of their buffer (a
    # copy would double the peak), the buffer as long as the curve needs (a P-256
    # verification: 266 bytes, a block a cut-up heap finds where 400 may not be).
    nb = 8 * size + 10
    kb = bytearray(k.to_bytes(size + 3, "little"))
    out = bytearray(nb)
    last = -1
    for i in range(nb):
        q = i >> 3
        r = i & 7
        v = kb[q] | (kb[q + 1] << 8)
        if (v >> r) & 1:
            d = (v >> r) & 31
            v &= ~(31 << r)
            kb[q] = v & 0xFF
            kb[q + 1] = v >> 8
            if d > 16:
                d -= 32
                j = i + 5                   # + 2^(i+5): carry along the bytes
                q = j >> 3
                c = 1 << (j & 7)
                while c:
                    c += kb[q]
                    kb[q] = c & 0xFF
                    c >>= 8
                    q += 1
            out[i] = d + 16
            last = i
        else:
            out[i] = 16
    return memoryview(out)[:last + 1]


def _shamir(c, u1, u2, qx, qy):
    """u1*G + u2*Q in Jacobian coordinates (verification: public scalars)."""
    m = _fast(c)
    if m is not None:
        return m.shamir(u1, u2, qx, qy)
    from nxsecure.pk import ec_jac
    return ec_jac.shamir(c, u1, u2, qx, qy)


# --- point codec (SEC 1 v2 2.3.3, 2.3.4, 3.2.2.1) ---

def decode_point(c, data):
    """(x, y) from an uncompressed point, or None unless it is a valid point of
    the curve: length, 0x04 prefix, 0 <= x, y < p, y^2 = x^3 - 3x + b. The point
    at infinity has no such encoding; the cofactor is 1, so on-curve is enough."""
    size = c.size
    if data is None or len(data) != 1 + 2 * size or data[0] != 4:
        return None
    p = c.p
    x = int.from_bytes(bytes(data[1:1 + size]), 'big')
    y = int.from_bytes(bytes(data[1 + size:]), 'big')
    if x >= p or y >= p:
        return None
    if (y * y - (x * x - 3) * x - c.b) % p != 0:
        return None
    return x, y


def encode_point(c, x, y):
    return b'\x04' + x.to_bytes(c.size, 'big') + y.to_bytes(c.size, 'big')


def _encode_jac(c, q):
    a = _affine(q[0], q[1], q[2], c.p)
    if a is None:
        return None
    return encode_point(c, a[0], a[1])


# --- keys and ECDH ---

def private_from_bytes(c, data):
    """Scalar from a big-endian octet string, or None unless 1 <= d < n."""
    if len(data) != c.size:
        return None
    d = int.from_bytes(bytes(data), 'big')
    if d == 0 or d >= c.n:
        return None
    return d


def keypair(c, rand):
    """(d, public point bytes) with d drawn from rand(n) -> bytes by rejection
    (FIPS 186-4 B.4.2), or None if rand keeps producing out-of-range values."""
    for _ in range(64):
        d = private_from_bytes(c, rand(c.size))
        if d is not None:
            return d, _encode_jac(c, mul_base(c, d))
    return None


def public_from_private(c, d):
    return _encode_jac(c, mul_base(c, d))


def ecdh(c, d, peer):
    """SEC 1 v2 3.3.1 shared secret (the x coordinate, `size` bytes), or None for
    an invalid peer point (3.2.2.1) or an O result."""
    q = decode_point(c, peer)
    if q is None:
        return None
    x, y, z = mul_point(c, d, q[0], q[1])
    if z == 0:
        return None
    zi = _inv(z, c.p)
    return (x * zi % c.p * zi % c.p).to_bytes(c.size, 'big')


# --- ECDSA ---

def _bits2int(c, h):
    # RFC 6979 2.3.2 / SEC 1 4.1.3 step 5: the leftmost qlen bits of the hash
    e = int.from_bytes(bytes(h), 'big')
    extra = len(h) * 8 - c.qlen
    if extra > 0:
        e >>= extra
    return e


def _rfc6979(c, d, hn, digest):
    # RFC 6979 3.2: the candidate nonces, in order (a generator)
    n = c.n
    size = c.size
    hl = hashes.size(hn)
    xo = d.to_bytes(size, 'big')                            # int2octets(x), 2.3.3
    ho = (_bits2int(c, digest) % n).to_bytes(size, 'big')   # bits2octets(h1), 2.3.4
    v = b'\x01' * hl                              # 3.2 b
    k = bytes(hl)                                 # 3.2 c
    k = hashes.hmac(hn, k, (v, b'\x00', xo, ho))  # 3.2 d
    v = hashes.hmac(hn, k, (v,))                  # 3.2 e
    k = hashes.hmac(hn, k, (v, b'\x01', xo, ho))  # 3.2 f
    v = hashes.hmac(hn, k, (v,))                  # 3.2 g
    while True:                                   # 3.2 h
        t = b''
        while len(t) < size:                      # qlen is a multiple of 8 here
            v = hashes.hmac(hn, k, (v,))
            t += v
        kk = _bits2int(c, t[:size])
        if 0 < kk < n:
            yield kk
        k = hashes.hmac(hn, k, (v, b'\x00'))
        v = hashes.hmac(hn, k, (v,))


def nonce_hash(hash_name):
    """The HMAC hash RFC 6979 runs with: the message hash, or SHA-256 when this
    platform lacks it (still deterministic and secure, not the RFC's exact k)."""
    return hash_name if hashes.ctor(hash_name) is not None else 'sha256'


def rfc6979_nonce(c, d, hash_name, digest):
    """The first RFC 6979 nonce k (exposed for the published test vectors)."""
    for k in _rfc6979(c, d, nonce_hash(hash_name), digest):
        return k


def sign(c, d, hash_name, digest):
    """ECDSA signature (r, s) of a message digest with private scalar d
    (SEC 1 v2 4.1.3), the nonce from RFC 6979 3.2 with HMAC-`hash_name`."""
    n = c.n
    e = _bits2int(c, digest)                      # SEC 1 4.1.3 step 5
    for k in _rfc6979(c, d, nonce_hash(hash_name), digest):
        x, y, z = mul_base(c, k)
        zi = _inv(z, c.p)
        r = x * zi % c.p * zi % c.p % n
        s = _inv(k, n) * (e + r * d) % n          # SEC 1 4.1.3 step 6
        if r != 0 and s != 0:
            return r, s


def verify(c, pub, digest, r, s):
    """SEC 1 v2 4.1.4: True iff (r, s) signs `digest` under the encoded public
    point `pub`. False for an invalid point or out-of-range r, s."""
    n = c.n
    if not (0 < r < n and 0 < s < n):
        return False
    q = decode_point(c, pub)
    if q is None:
        return False
    p = c.p
    w = _inv(s, n)
    u1 = _bits2int(c, digest) * w % n
    m = _fast(c)
    # the native method called from here, not through _shamir: one Python frame (~300
    # bytes of the rp2 firmware's 8 KB C stack) less at the handshake's deepest point
    x, y, z = (m.shamir(u1, r * w % n, q[0], q[1]) if m is not None
               else _shamir(c, u1, r * w % n, q[0], q[1]))
    if z == 0:
        return False
    # x(R) mod n == r, i.e. X / Z^2 is r or r + n (both below p): no inversion
    zz = z * z % p
    if (r * zz - x) % p == 0:
        return True
    return r + n < p and ((r + n) * zz - x) % p == 0
