"""AES block cipher (FIPS-197) on byte state, round keys in a caller buffer."""
# Byte-oriented on purpose: every intermediate is < 256, so nothing here ever becomes a
# heap int on MicroPython (small ints are 31 bits on 32-bit ports; T-table words are 32).
# Encryption merges SubBytes, ShiftRows, MixColumns and AddRoundKey per output byte with
# the tables S, 2*S and 3*S (FIPS-197 5.1.1-5.1.4). Decryption uses the equivalent
# inverse cipher (FIPS-197 5.3.5): round keys pass through InvMixColumns once at key
# setup, so each round is four lookups per byte in the tables {14,11,13,9}*InvS.
# The tables are bytes literals: a frozen or .mpy module keeps them in flash, not RAM.

# S-box (FIPS-197 5.1.1, Figure 7) and 2*S, 3*S in GF(2^8) mod x^8+x^4+x^3+x+1.
_S = (
    b'\x63\x7c\x77\x7b\xf2\x6b\x6f\xc5\x30\x01\x67\x2b\xfe\xd7\xab\x76'
    b'\xca\x82\xc9\x7d\xfa\x59\x47\xf0\xad\xd4\xa2\xaf\x9c\xa4\x72\xc0'
    b'\xb7\xfd\x93\x26\x36\x3f\xf7\xcc\x34\xa5\xe5\xf1\x71\xd8\x31\x15'
    b'\x04\xc7\x23\xc3\x18\x96\x05\x9a\x07\x12\x80\xe2\xeb\x27\xb2\x75'
    b'\x09\x83\x2c\x1a\x1b\x6e\x5a\xa0\x52\x3b\xd6\xb3\x29\xe3\x2f\x84'
    b'\x53\xd1\x00\xed\x20\xfc\xb1\x5b\x6a\xcb\xbe\x39\x4a\x4c\x58\xcf'
    b'\xd0\xef\xaa\xfb\x43\x4d\x33\x85\x45\xf9\x02\x7f\x50\x3c\x9f\xa8'
    b'\x51\xa3\x40\x8f\x92\x9d\x38\xf5\xbc\xb6\xda\x21\x10\xff\xf3\xd2'
    b'\xcd\x0c\x13\xec\x5f\x97\x44\x17\xc4\xa7\x7e\x3d\x64\x5d\x19\x73'
    b'\x60\x81\x4f\xdc\x22\x2a\x90\x88\x46\xee\xb8\x14\xde\x5e\x0b\xdb'
    b'\xe0\x32\x3a\x0a\x49\x06\x24\x5c\xc2\xd3\xac\x62\x91\x95\xe4\x79'
    b'\xe7\xc8\x37\x6d\x8d\xd5\x4e\xa9\x6c\x56\xf4\xea\x65\x7a\xae\x08'
    b'\xba\x78\x25\x2e\x1c\xa6\xb4\xc6\xe8\xdd\x74\x1f\x4b\xbd\x8b\x8a'
    b'\x70\x3e\xb5\x66\x48\x03\xf6\x0e\x61\x35\x57\xb9\x86\xc1\x1d\x9e'
    b'\xe1\xf8\x98\x11\x69\xd9\x8e\x94\x9b\x1e\x87\xe9\xce\x55\x28\xdf'
    b'\x8c\xa1\x89\x0d\xbf\xe6\x42\x68\x41\x99\x2d\x0f\xb0\x54\xbb\x16'
)
_S2 = (
    b'\xc6\xf8\xee\xf6\xff\xd6\xde\x91\x60\x02\xce\x56\xe7\xb5\x4d\xec'
    b'\x8f\x1f\x89\xfa\xef\xb2\x8e\xfb\x41\xb3\x5f\x45\x23\x53\xe4\x9b'
    b'\x75\xe1\x3d\x4c\x6c\x7e\xf5\x83\x68\x51\xd1\xf9\xe2\xab\x62\x2a'
    b'\x08\x95\x46\x9d\x30\x37\x0a\x2f\x0e\x24\x1b\xdf\xcd\x4e\x7f\xea'
    b'\x12\x1d\x58\x34\x36\xdc\xb4\x5b\xa4\x76\xb7\x7d\x52\xdd\x5e\x13'
    b'\xa6\xb9\x00\xc1\x40\xe3\x79\xb6\xd4\x8d\x67\x72\x94\x98\xb0\x85'
    b'\xbb\xc5\x4f\xed\x86\x9a\x66\x11\x8a\xe9\x04\xfe\xa0\x78\x25\x4b'
    b'\xa2\x5d\x80\x05\x3f\x21\x70\xf1\x63\x77\xaf\x42\x20\xe5\xfd\xbf'
    b'\x81\x18\x26\xc3\xbe\x35\x88\x2e\x93\x55\xfc\x7a\xc8\xba\x32\xe6'
    b'\xc0\x19\x9e\xa3\x44\x54\x3b\x0b\x8c\xc7\x6b\x28\xa7\xbc\x16\xad'
    b'\xdb\x64\x74\x14\x92\x0c\x48\xb8\x9f\xbd\x43\xc4\x39\x31\xd3\xf2'
    b'\xd5\x8b\x6e\xda\x01\xb1\x9c\x49\xd8\xac\xf3\xcf\xca\xf4\x47\x10'
    b'\x6f\xf0\x4a\x5c\x38\x57\x73\x97\xcb\xa1\xe8\x3e\x96\x61\x0d\x0f'
    b'\xe0\x7c\x71\xcc\x90\x06\xf7\x1c\xc2\x6a\xae\x69\x17\x99\x3a\x27'
    b'\xd9\xeb\x2b\x22\xd2\xa9\x07\x33\x2d\x3c\x15\xc9\x87\xaa\x50\xa5'
    b'\x03\x59\x09\x1a\x65\xd7\x84\xd0\x82\x29\x5a\x1e\x7b\xa8\x6d\x2c'
)
_S3 = (
    b'\xa5\x84\x99\x8d\x0d\xbd\xb1\x54\x50\x03\xa9\x7d\x19\x62\xe6\x9a'
    b'\x45\x9d\x40\x87\x15\xeb\xc9\x0b\xec\x67\xfd\xea\xbf\xf7\x96\x5b'
    b'\xc2\x1c\xae\x6a\x5a\x41\x02\x4f\x5c\xf4\x34\x08\x93\x73\x53\x3f'
    b'\x0c\x52\x65\x5e\x28\xa1\x0f\xb5\x09\x36\x9b\x3d\x26\x69\xcd\x9f'
    b'\x1b\x9e\x74\x2e\x2d\xb2\xee\xfb\xf6\x4d\x61\xce\x7b\x3e\x71\x97'
    b'\xf5\x68\x00\x2c\x60\x1f\xc8\xed\xbe\x46\xd9\x4b\xde\xd4\xe8\x4a'
    b'\x6b\x2a\xe5\x16\xc5\xd7\x55\x94\xcf\x10\x06\x81\xf0\x44\xba\xe3'
    b'\xf3\xfe\xc0\x8a\xad\xbc\x48\x04\xdf\xc1\x75\x63\x30\x1a\x0e\x6d'
    b'\x4c\x14\x35\x2f\xe1\xa2\xcc\x39\x57\xf2\x82\x47\xac\xe7\x2b\x95'
    b'\xa0\x98\xd1\x7f\x66\x7e\xab\x83\xca\x29\xd3\x3c\x79\xe2\x1d\x76'
    b'\x3b\x56\x4e\x1e\xdb\x0a\x6c\xe4\x5d\x6e\xef\xa6\xa8\xa4\x37\x8b'
    b'\x32\x43\x59\xb7\x8c\x64\xd2\xe0\xb4\xfa\x07\x25\xaf\x8e\xe9\x18'
    b'\xd5\x88\x6f\x72\x24\xf1\xc7\x51\x23\x7c\x9c\x21\xdd\xdc\x86\x85'
    b'\x90\x42\xc4\xaa\xd8\x05\x01\x12\xa3\x5f\xf9\xd0\x91\x58\x27\xb9'
    b'\x38\x13\xb3\x33\xbb\x70\x89\xa7\xb6\x22\x92\x20\x49\xff\x78\x7a'
    b'\x8f\xf8\x80\x17\xda\x31\xc6\xb8\xc3\xb0\x77\x11\xcb\xfc\xd6\x3a'
)

# Inverse S-box (FIPS-197 5.3.2, Figure 14) and {0e,0b,0d,09}*InvS (5.3.3).
_IS = (
    b'\x52\x09\x6a\xd5\x30\x36\xa5\x38\xbf\x40\xa3\x9e\x81\xf3\xd7\xfb'
    b'\x7c\xe3\x39\x82\x9b\x2f\xff\x87\x34\x8e\x43\x44\xc4\xde\xe9\xcb'
    b'\x54\x7b\x94\x32\xa6\xc2\x23\x3d\xee\x4c\x95\x0b\x42\xfa\xc3\x4e'
    b'\x08\x2e\xa1\x66\x28\xd9\x24\xb2\x76\x5b\xa2\x49\x6d\x8b\xd1\x25'
    b'\x72\xf8\xf6\x64\x86\x68\x98\x16\xd4\xa4\x5c\xcc\x5d\x65\xb6\x92'
    b'\x6c\x70\x48\x50\xfd\xed\xb9\xda\x5e\x15\x46\x57\xa7\x8d\x9d\x84'
    b'\x90\xd8\xab\x00\x8c\xbc\xd3\x0a\xf7\xe4\x58\x05\xb8\xb3\x45\x06'
    b'\xd0\x2c\x1e\x8f\xca\x3f\x0f\x02\xc1\xaf\xbd\x03\x01\x13\x8a\x6b'
    b'\x3a\x91\x11\x41\x4f\x67\xdc\xea\x97\xf2\xcf\xce\xf0\xb4\xe6\x73'
    b'\x96\xac\x74\x22\xe7\xad\x35\x85\xe2\xf9\x37\xe8\x1c\x75\xdf\x6e'
    b'\x47\xf1\x1a\x71\x1d\x29\xc5\x89\x6f\xb7\x62\x0e\xaa\x18\xbe\x1b'
    b'\xfc\x56\x3e\x4b\xc6\xd2\x79\x20\x9a\xdb\xc0\xfe\x78\xcd\x5a\xf4'
    b'\x1f\xdd\xa8\x33\x88\x07\xc7\x31\xb1\x12\x10\x59\x27\x80\xec\x5f'
    b'\x60\x51\x7f\xa9\x19\xb5\x4a\x0d\x2d\xe5\x7a\x9f\x93\xc9\x9c\xef'
    b'\xa0\xe0\x3b\x4d\xae\x2a\xf5\xb0\xc8\xeb\xbb\x3c\x83\x53\x99\x61'
    b'\x17\x2b\x04\x7e\xba\x77\xd6\x26\xe1\x69\x14\x63\x55\x21\x0c\x7d'
)
_I14 = (
    b'\x51\x7e\x1a\x3a\x3b\x1f\xac\x4b\x20\xad\x88\xf5\x4f\xc5\x26\xb5'
    b'\xde\x25\x45\x5d\xc3\x81\x8d\x6b\x03\x15\xbf\x95\xd4\x58\x49\x8e'
    b'\x75\xf4\x99\x27\xbe\xf0\xc9\x7d\x63\xe5\x97\x62\xb1\xbb\xfe\xf9'
    b'\x70\x8f\x94\x52\xab\x72\xe3\x66\xb2\x2f\x86\xd3\x30\x23\x02\xed'
    b'\x8a\xa7\xf3\x4e\x65\x06\xd1\xc4\x34\xa2\x05\xa4\x0b\x40\x5e\xbd'
    b'\x3e\x96\xdd\x4d\x91\x71\x04\x60\x19\xd6\x89\x67\xb0\x07\xe7\x79'
    b'\xa1\x7c\xf8\x00\x09\x32\x1e\x6c\xfd\x0f\x3d\x36\x0a\x68\x9b\x24'
    b'\x0c\x93\xb4\x1b\x80\x61\x5a\x1c\xe2\xc0\x3c\x12\x0e\xf2\x2d\x14'
    b'\x57\xaf\xee\xa3\xf7\x5c\x44\x5b\x8b\xcb\xb6\xb8\xd7\x42\x13\x84'
    b'\x85\xd2\xae\xc7\x1d\xdc\x0d\x77\x2b\xa9\x11\x47\xa8\xa0\x56\x22'
    b'\x87\xd9\x8c\x98\xa6\xa5\xda\x3f\x2c\x50\x6a\x54\xf6\x90\x2e\x82'
    b'\x9f\x69\x6f\xcf\xc8\x10\xe8\xdb\xcd\x6e\xec\x83\xe6\xaa\x21\xef'
    b'\xba\x4a\xea\x29\x31\x2a\xc6\x35\x74\xfc\xe0\x33\xf1\x41\x7f\x17'
    b'\x76\x43\xcc\xe4\x9e\x4c\xc1\x46\x9d\x01\xfa\xfb\xb3\x92\xe9\x6d'
    b'\x9a\x37\x59\xeb\xce\xb7\xe1\x7a\x9c\x55\x18\x73\x53\x5f\xdf\x78'
    b'\xca\xb9\x38\xc2\x16\xbc\x28\xff\x39\x08\xd8\x64\x7b\xd5\x48\xd0'
)
_I11 = (
    b'\x50\x53\xc3\x96\xcb\xf1\xab\x93\x55\xf6\x91\x25\xfc\xd7\x80\x8f'
    b'\x49\x67\x98\xe1\x02\x12\xa3\xc6\xe7\x95\xeb\xda\x2d\xd3\x29\x44'
    b'\x6a\x78\x6b\xdd\xb6\x17\x66\xb4\x18\x82\x60\x45\xe0\x84\x1c\x94'
    b'\x58\x19\x87\xb7\x23\xe2\x57\x2a\x07\x03\x9a\xa5\xf2\xb2\xba\x5c'
    b'\x2b\x92\xf0\xa1\xcd\xd5\x1f\x8a\x9d\xa0\x32\x75\x39\xaa\x06\x51'
    b'\xf9\x3d\xae\x46\xb5\x05\x6f\xff\x24\x97\xcc\x77\xbd\x88\x38\xdb'
    b'\x47\xe9\xc9\x00\x83\x48\xac\x4e\xfb\x56\x1e\x27\x64\x21\xd1\x3a'
    b'\xb1\x0f\xd2\x9e\x4f\xa2\x69\x16\x0a\xe5\x43\x1d\x0b\xad\xb9\xc8'
    b'\x85\x4c\xbb\xfd\x9f\xbc\xc5\x34\x76\xdc\x68\x63\xca\x10\x40\x20'
    b'\x7d\xf8\x11\x6d\x4b\xf3\xec\xd0\x6c\x99\xfa\x22\xc4\x1a\xd8\xef'
    b'\xc7\xc1\xfe\x36\xcf\x28\x26\xa4\xe4\x0d\x9b\x62\xc2\xe8\x5e\xf5'
    b'\xbe\x7c\xa9\xb3\x3b\xa7\x6e\x7b\x09\xf4\x01\xa8\x65\x7e\x08\xe6'
    b'\xd9\xce\xd4\xd6\xaf\x31\x30\xc0\x37\xa6\xb0\x15\x4a\xf7\x0e\x2f'
    b'\x8d\x4d\x54\xdf\xe3\x1b\xb8\x7f\x04\x5d\x73\x2e\x5a\x52\x33\x13'
    b'\x8c\x7a\x8e\x89\xee\x35\xed\x3c\x59\x3f\x79\xbf\xea\x5b\x14\x86'
    b'\x81\x3e\x2c\x5f\x72\x0c\x8b\x41\x71\xde\x9c\x90\x61\x70\x74\x42'
)
_I13 = (
    b'\xa7\x65\xa4\x5e\x6b\x45\x58\x03\xfa\x6d\x76\x4c\xd7\xcb\x44\xa3'
    b'\x5a\x1b\x0e\xc0\x75\xf0\x97\xf9\x5f\x9c\x7a\x59\x83\x21\x69\xc8'
    b'\x89\x79\x3e\x71\x4f\xad\xac\x3a\x4a\x31\x33\x7f\x77\xae\xa0\x2b'
    b'\x68\xfd\x6c\xf8\xd3\x02\x8f\xab\x28\xc2\x7b\x08\x87\xa5\x6a\x82'
    b'\x1c\xb4\xf2\xe2\xf4\xbe\x62\xfe\x53\x55\xe1\xeb\xec\xef\x9f\x10'
    b'\x8a\x06\x05\xbd\x8d\x5d\xd4\x15\xfb\xe9\x43\x9e\x42\x8b\x5b\xee'
    b'\x0a\x0f\x1e\x00\x86\xed\x70\x72\xff\x38\xd5\x39\xd9\xa6\x54\x2e'
    b'\x67\xe7\x96\x91\xc5\x20\x4b\x1a\xba\x2a\xe0\x17\x0d\xc7\xa8\xa9'
    b'\x19\x07\xdd\x60\x26\xf5\x3b\x7e\x29\xc6\xfc\xf1\xdc\x85\x22\x11'
    b'\x24\x3d\x32\xa1\x2f\x30\x52\xe3\x16\xb9\x48\x64\x8c\x3f\x2c\x90'
    b'\x4e\xd1\xa2\x0b\x81\xde\x8e\xbf\x9d\x92\xcc\x46\x13\xb8\xf7\xaf'
    b'\x80\x93\x2d\x12\x99\x7d\x63\xbb\x78\x18\xb7\x9a\x6e\xe6\xcf\xe8'
    b'\x9b\x36\x09\x7c\xb2\x23\x94\x66\xbc\xca\xd0\xd8\x98\xda\x50\xf6'
    b'\xd6\xb0\x4d\x04\xb5\x88\x1f\x51\xea\x35\x74\x41\x1d\xd2\x56\x47'
    b'\x61\x0c\x14\x3c\x27\xc9\xe5\xb1\xdf\x73\xce\x37\xcd\xaa\x6f\xdb'
    b'\xf3\xc4\x34\x40\xc3\x25\x49\x95\x01\xb3\xe4\xc1\x84\xb6\x5c\x57'
)
_I9 = (
    b'\xf4\x41\x17\x27\xab\x9d\xfa\xe3\x30\x76\xcc\x02\xe5\x2a\x35\x62'
    b'\xb1\xba\xea\xfe\x2f\x4c\x46\xd3\x8f\x92\x6d\x52\xbe\x74\xe0\xc9'
    b'\xc2\x8e\x58\xb9\xe1\x88\x20\xce\xdf\x1a\x51\x53\x64\x6b\x81\x08'
    b'\x48\x45\xde\x7b\x73\x4b\x1f\x55\xeb\xb5\xc5\x37\x28\xbf\x03\x16'
    b'\xcf\x79\x07\x69\xda\x05\x34\xa6\x2e\xf3\x8a\xf6\x83\x60\x71\x6e'
    b'\x21\xdd\x3e\xe6\x54\xc4\x06\x50\x98\xbd\x40\xd9\xe8\x89\x19\xc8'
    b'\x7c\x42\x84\x00\x80\x2b\x11\x5a\x0e\x85\xae\x2d\x0f\x5c\x5b\x36'
    b'\x0a\x57\xee\x9b\xc0\xdc\x77\x12\x93\xa0\x22\x1b\x09\x8b\xb6\x1e'
    b'\xf1\x75\x99\x7f\x01\x72\x66\xfb\x43\x23\xed\xe4\x31\x63\x97\xc6'
    b'\x4a\xbb\xf9\x29\x9e\xb2\x86\xc1\xb3\x70\x94\xe9\xfc\xf0\x7d\x33'
    b'\x49\x38\xca\xd4\xf5\x7a\xb7\xad\x3a\x78\x5f\x7e\x8d\xd8\x39\xc3'
    b'\x5d\xd0\xd5\x25\xac\x18\x9c\x3b\x26\x59\x9a\x4f\x95\xff\xbc\x15'
    b'\xe7\x6f\x9f\xb0\xa4\x3f\xa5\xa2\x4e\x82\x90\xa7\x04\xec\xcd\x91'
    b'\x4d\xef\xaa\x96\xd1\x6a\x2c\x65\x5e\x8c\x87\x0b\x67\xdb\x10\xd6'
    b'\xd7\xa1\xf8\x13\xa9\x61\x1c\x47\xd2\xf2\x14\xc7\xf7\xfd\x3d\x44'
    b'\xaf\x68\x24\xa3\x1d\xe2\x3c\x0d\xa8\x0c\xb4\x56\xcb\x32\x6c\xb8'
)


def rounds_for(key_len):
    """Nr for a key of key_len bytes (FIPS-197 Figure 4); 0 if the size is not AES."""
    if key_len == 16:
        return 10
    if key_len == 24:
        return 12
    if key_len == 32:
        return 14
    return 0


def schedule_size(key_len, decrypt=False):
    """Bytes of round keys: 16 * (Nr + 1), doubled when decryption keys are kept too."""
    n = 16 * (rounds_for(key_len) + 1)
    return 2 * n if decrypt else n


def expand_key(key, rk):
    """KeyExpansion (FIPS-197 5.2) of key into rk[0 : 16 * (Nr + 1)], byte by byte."""
    S = _S
    nk4 = len(key)
    nk = nk4 // 4
    nr = rounds_for(nk4)
    if nr == 0:
        raise ValueError("AES key must be 16, 24 or 32 bytes")
    for i in range(nk4):
        rk[i] = key[i]
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        p = 4 * i - 4
        t0 = rk[p]
        t1 = rk[p + 1]
        t2 = rk[p + 2]
        t3 = rk[p + 3]
        m = i % nk
        if m == 0:                      # SubWord(RotWord(w)) xor Rcon
            u = t0
            t0 = S[t1] ^ rcon
            t1 = S[t2]
            t2 = S[t3]
            t3 = S[u]
            rcon = (rcon << 1) ^ (0x11B if rcon & 0x80 else 0)
        elif nk > 6 and m == 4:         # extra SubWord for 256-bit keys
            t0 = S[t0]
            t1 = S[t1]
            t2 = S[t2]
            t3 = S[t3]
        q = p + 4 - nk4
        rk[p + 4] = rk[q] ^ t0
        rk[p + 5] = rk[q + 1] ^ t1
        rk[p + 6] = rk[q + 2] ^ t2
        rk[p + 7] = rk[q + 3] ^ t3
    return nr


def invert_key(rk, nr, dk):
    """Decryption round keys of the equivalent inverse cipher (FIPS-197 5.3.5):
    reversed round order, InvMixColumns on rounds 1..Nr-1."""
    S = _S
    I14 = _I14
    I11 = _I11
    I13 = _I13
    I9 = _I9
    for r in range(nr + 1):
        src = 16 * (nr - r)
        dst = 16 * r
        inner = 0 < r < nr
        for c in range(0, 16, 4):
            a0 = rk[src + c]
            a1 = rk[src + c + 1]
            a2 = rk[src + c + 2]
            a3 = rk[src + c + 3]
            if inner:
                # m*x == (m*InvS)[S[x]]: reuse the decryption tables for InvMixColumns.
                a0 = S[a0]
                a1 = S[a1]
                a2 = S[a2]
                a3 = S[a3]
                dk[dst + c] = I14[a0] ^ I11[a1] ^ I13[a2] ^ I9[a3]
                dk[dst + c + 1] = I9[a0] ^ I14[a1] ^ I11[a2] ^ I13[a3]
                dk[dst + c + 2] = I13[a0] ^ I9[a1] ^ I14[a2] ^ I11[a3]
                dk[dst + c + 3] = I11[a0] ^ I13[a1] ^ I9[a2] ^ I14[a3]
            else:
                dk[dst + c] = a0
                dk[dst + c + 1] = a1
                dk[dst + c + 2] = a2
                dk[dst + c + 3] = a3


class AES:
    """One AES key. encrypt_block/decrypt_block read 16 bytes at src[src_off:] and write
    16 bytes at dst[dst_off:] (src and dst may be the same bytes). Round keys live in
    `rk_buf` (a memoryview of at least schedule_size(len(key), decrypt) bytes, e.g. a
    slice of the session's crypto metadata) or in a bytearray made here."""

    def __init__(self, key, rk_buf=None, decrypt=False):
        n = schedule_size(len(key))
        if rk_buf is None:
            rk_buf = memoryview(bytearray(2 * n if decrypt else n))
        elif len(rk_buf) < (2 * n if decrypt else n):
            raise ValueError("AES round key buffer too small")
        self._rk = rk_buf[0:n]
        self._nr = expand_key(key, self._rk)
        self._dk = None
        if decrypt:
            self._dk = rk_buf[n:2 * n]
            invert_key(self._rk, self._nr, self._dk)

    def encrypt_block(self, src, so, dst, do):
        """Cipher (FIPS-197 5.1) of src[so:so+16] into dst[do:do+16]."""
        S = _S
        S2 = _S2
        S3 = _S3
        rk = self._rk
        # AddRoundKey with round key 0.
        s0 = src[so] ^ rk[0]
        s1 = src[so + 1] ^ rk[1]
        s2 = src[so + 2] ^ rk[2]
        s3 = src[so + 3] ^ rk[3]
        s4 = src[so + 4] ^ rk[4]
        s5 = src[so + 5] ^ rk[5]
        s6 = src[so + 6] ^ rk[6]
        s7 = src[so + 7] ^ rk[7]
        s8 = src[so + 8] ^ rk[8]
        s9 = src[so + 9] ^ rk[9]
        s10 = src[so + 10] ^ rk[10]
        s11 = src[so + 11] ^ rk[11]
        s12 = src[so + 12] ^ rk[12]
        s13 = src[so + 13] ^ rk[13]
        s14 = src[so + 14] ^ rk[14]
        s15 = src[so + 15] ^ rk[15]
        k = 16
        # Rounds 1..Nr-1 two at a time (s -> t -> s): Nr-1 is odd for every key size,
        # and a 16-name tuple swap would allocate a tuple on MicroPython.
        for _ in range((self._nr - 2) >> 1):
            t0 = S2[s0] ^ S3[s5] ^ S[s10] ^ S[s15] ^ rk[k]
            t1 = S[s0] ^ S2[s5] ^ S3[s10] ^ S[s15] ^ rk[k + 1]
            t2 = S[s0] ^ S[s5] ^ S2[s10] ^ S3[s15] ^ rk[k + 2]
            t3 = S3[s0] ^ S[s5] ^ S[s10] ^ S2[s15] ^ rk[k + 3]
            t4 = S2[s4] ^ S3[s9] ^ S[s14] ^ S[s3] ^ rk[k + 4]
            t5 = S[s4] ^ S2[s9] ^ S3[s14] ^ S[s3] ^ rk[k + 5]
            t6 = S[s4] ^ S[s9] ^ S2[s14] ^ S3[s3] ^ rk[k + 6]
            t7 = S3[s4] ^ S[s9] ^ S[s14] ^ S2[s3] ^ rk[k + 7]
            t8 = S2[s8] ^ S3[s13] ^ S[s2] ^ S[s7] ^ rk[k + 8]
            t9 = S[s8] ^ S2[s13] ^ S3[s2] ^ S[s7] ^ rk[k + 9]
            t10 = S[s8] ^ S[s13] ^ S2[s2] ^ S3[s7] ^ rk[k + 10]
            t11 = S3[s8] ^ S[s13] ^ S[s2] ^ S2[s7] ^ rk[k + 11]
            t12 = S2[s12] ^ S3[s1] ^ S[s6] ^ S[s11] ^ rk[k + 12]
            t13 = S[s12] ^ S2[s1] ^ S3[s6] ^ S[s11] ^ rk[k + 13]
            t14 = S[s12] ^ S[s1] ^ S2[s6] ^ S3[s11] ^ rk[k + 14]
            t15 = S3[s12] ^ S[s1] ^ S[s6] ^ S2[s11] ^ rk[k + 15]
            k += 16
            s0 = S2[t0] ^ S3[t5] ^ S[t10] ^ S[t15] ^ rk[k]
            s1 = S[t0] ^ S2[t5] ^ S3[t10] ^ S[t15] ^ rk[k + 1]
            s2 = S[t0] ^ S[t5] ^ S2[t10] ^ S3[t15] ^ rk[k + 2]
            s3 = S3[t0] ^ S[t5] ^ S[t10] ^ S2[t15] ^ rk[k + 3]
            s4 = S2[t4] ^ S3[t9] ^ S[t14] ^ S[t3] ^ rk[k + 4]
            s5 = S[t4] ^ S2[t9] ^ S3[t14] ^ S[t3] ^ rk[k + 5]
            s6 = S[t4] ^ S[t9] ^ S2[t14] ^ S3[t3] ^ rk[k + 6]
            s7 = S3[t4] ^ S[t9] ^ S[t14] ^ S2[t3] ^ rk[k + 7]
            s8 = S2[t8] ^ S3[t13] ^ S[t2] ^ S[t7] ^ rk[k + 8]
            s9 = S[t8] ^ S2[t13] ^ S3[t2] ^ S[t7] ^ rk[k + 9]
            s10 = S[t8] ^ S[t13] ^ S2[t2] ^ S3[t7] ^ rk[k + 10]
            s11 = S3[t8] ^ S[t13] ^ S[t2] ^ S2[t7] ^ rk[k + 11]
            s12 = S2[t12] ^ S3[t1] ^ S[t6] ^ S[t11] ^ rk[k + 12]
            s13 = S[t12] ^ S2[t1] ^ S3[t6] ^ S[t11] ^ rk[k + 13]
            s14 = S[t12] ^ S[t1] ^ S2[t6] ^ S3[t11] ^ rk[k + 14]
            s15 = S3[t12] ^ S[t1] ^ S[t6] ^ S2[t11] ^ rk[k + 15]
            k += 16
        # round Nr-1, then the last round (no MixColumns), FIPS-197 5.1
        t0 = S2[s0] ^ S3[s5] ^ S[s10] ^ S[s15] ^ rk[k]
        t1 = S[s0] ^ S2[s5] ^ S3[s10] ^ S[s15] ^ rk[k + 1]
        t2 = S[s0] ^ S[s5] ^ S2[s10] ^ S3[s15] ^ rk[k + 2]
        t3 = S3[s0] ^ S[s5] ^ S[s10] ^ S2[s15] ^ rk[k + 3]
        t4 = S2[s4] ^ S3[s9] ^ S[s14] ^ S[s3] ^ rk[k + 4]
        t5 = S[s4] ^ S2[s9] ^ S3[s14] ^ S[s3] ^ rk[k + 5]
        t6 = S[s4] ^ S[s9] ^ S2[s14] ^ S3[s3] ^ rk[k + 6]
        t7 = S3[s4] ^ S[s9] ^ S[s14] ^ S2[s3] ^ rk[k + 7]
        t8 = S2[s8] ^ S3[s13] ^ S[s2] ^ S[s7] ^ rk[k + 8]
        t9 = S[s8] ^ S2[s13] ^ S3[s2] ^ S[s7] ^ rk[k + 9]
        t10 = S[s8] ^ S[s13] ^ S2[s2] ^ S3[s7] ^ rk[k + 10]
        t11 = S3[s8] ^ S[s13] ^ S[s2] ^ S2[s7] ^ rk[k + 11]
        t12 = S2[s12] ^ S3[s1] ^ S[s6] ^ S[s11] ^ rk[k + 12]
        t13 = S[s12] ^ S2[s1] ^ S3[s6] ^ S[s11] ^ rk[k + 13]
        t14 = S[s12] ^ S[s1] ^ S2[s6] ^ S3[s11] ^ rk[k + 14]
        t15 = S3[s12] ^ S[s1] ^ S[s6] ^ S2[s11] ^ rk[k + 15]
        k += 16
        dst[do] = S[t0] ^ rk[k]
        dst[do + 1] = S[t5] ^ rk[k + 1]
        dst[do + 2] = S[t10] ^ rk[k + 2]
        dst[do + 3] = S[t15] ^ rk[k + 3]
        dst[do + 4] = S[t4] ^ rk[k + 4]
        dst[do + 5] = S[t9] ^ rk[k + 5]
        dst[do + 6] = S[t14] ^ rk[k + 6]
        dst[do + 7] = S[t3] ^ rk[k + 7]
        dst[do + 8] = S[t8] ^ rk[k + 8]
        dst[do + 9] = S[t13] ^ rk[k + 9]
        dst[do + 10] = S[t2] ^ rk[k + 10]
        dst[do + 11] = S[t7] ^ rk[k + 11]
        dst[do + 12] = S[t12] ^ rk[k + 12]
        dst[do + 13] = S[t1] ^ rk[k + 13]
        dst[do + 14] = S[t6] ^ rk[k + 14]
        dst[do + 15] = S[t11] ^ rk[k + 15]

    def decrypt_block(self, src, so, dst, do):
        """Equivalent inverse cipher (FIPS-197 5.3.5) of src[so:so+16] into dst[do:do+16]."""
        rk = self._dk
        if rk is None:
            raise ValueError("AES key was set up without decryption")
        IS = _IS
        I14 = _I14
        I11 = _I11
        I13 = _I13
        I9 = _I9
        s0 = src[so] ^ rk[0]
        s1 = src[so + 1] ^ rk[1]
        s2 = src[so + 2] ^ rk[2]
        s3 = src[so + 3] ^ rk[3]
        s4 = src[so + 4] ^ rk[4]
        s5 = src[so + 5] ^ rk[5]
        s6 = src[so + 6] ^ rk[6]
        s7 = src[so + 7] ^ rk[7]
        s8 = src[so + 8] ^ rk[8]
        s9 = src[so + 9] ^ rk[9]
        s10 = src[so + 10] ^ rk[10]
        s11 = src[so + 11] ^ rk[11]
        s12 = src[so + 12] ^ rk[12]
        s13 = src[so + 13] ^ rk[13]
        s14 = src[so + 14] ^ rk[14]
        s15 = src[so + 15] ^ rk[15]
        k = 16
        for _ in range((self._nr - 2) >> 1):
            t0 = I14[s0] ^ I11[s13] ^ I13[s10] ^ I9[s7] ^ rk[k]
            t1 = I9[s0] ^ I14[s13] ^ I11[s10] ^ I13[s7] ^ rk[k + 1]
            t2 = I13[s0] ^ I9[s13] ^ I14[s10] ^ I11[s7] ^ rk[k + 2]
            t3 = I11[s0] ^ I13[s13] ^ I9[s10] ^ I14[s7] ^ rk[k + 3]
            t4 = I14[s4] ^ I11[s1] ^ I13[s14] ^ I9[s11] ^ rk[k + 4]
            t5 = I9[s4] ^ I14[s1] ^ I11[s14] ^ I13[s11] ^ rk[k + 5]
            t6 = I13[s4] ^ I9[s1] ^ I14[s14] ^ I11[s11] ^ rk[k + 6]
            t7 = I11[s4] ^ I13[s1] ^ I9[s14] ^ I14[s11] ^ rk[k + 7]
            t8 = I14[s8] ^ I11[s5] ^ I13[s2] ^ I9[s15] ^ rk[k + 8]
            t9 = I9[s8] ^ I14[s5] ^ I11[s2] ^ I13[s15] ^ rk[k + 9]
            t10 = I13[s8] ^ I9[s5] ^ I14[s2] ^ I11[s15] ^ rk[k + 10]
            t11 = I11[s8] ^ I13[s5] ^ I9[s2] ^ I14[s15] ^ rk[k + 11]
            t12 = I14[s12] ^ I11[s9] ^ I13[s6] ^ I9[s3] ^ rk[k + 12]
            t13 = I9[s12] ^ I14[s9] ^ I11[s6] ^ I13[s3] ^ rk[k + 13]
            t14 = I13[s12] ^ I9[s9] ^ I14[s6] ^ I11[s3] ^ rk[k + 14]
            t15 = I11[s12] ^ I13[s9] ^ I9[s6] ^ I14[s3] ^ rk[k + 15]
            k += 16
            s0 = I14[t0] ^ I11[t13] ^ I13[t10] ^ I9[t7] ^ rk[k]
            s1 = I9[t0] ^ I14[t13] ^ I11[t10] ^ I13[t7] ^ rk[k + 1]
            s2 = I13[t0] ^ I9[t13] ^ I14[t10] ^ I11[t7] ^ rk[k + 2]
            s3 = I11[t0] ^ I13[t13] ^ I9[t10] ^ I14[t7] ^ rk[k + 3]
            s4 = I14[t4] ^ I11[t1] ^ I13[t14] ^ I9[t11] ^ rk[k + 4]
            s5 = I9[t4] ^ I14[t1] ^ I11[t14] ^ I13[t11] ^ rk[k + 5]
            s6 = I13[t4] ^ I9[t1] ^ I14[t14] ^ I11[t11] ^ rk[k + 6]
            s7 = I11[t4] ^ I13[t1] ^ I9[t14] ^ I14[t11] ^ rk[k + 7]
            s8 = I14[t8] ^ I11[t5] ^ I13[t2] ^ I9[t15] ^ rk[k + 8]
            s9 = I9[t8] ^ I14[t5] ^ I11[t2] ^ I13[t15] ^ rk[k + 9]
            s10 = I13[t8] ^ I9[t5] ^ I14[t2] ^ I11[t15] ^ rk[k + 10]
            s11 = I11[t8] ^ I13[t5] ^ I9[t2] ^ I14[t15] ^ rk[k + 11]
            s12 = I14[t12] ^ I11[t9] ^ I13[t6] ^ I9[t3] ^ rk[k + 12]
            s13 = I9[t12] ^ I14[t9] ^ I11[t6] ^ I13[t3] ^ rk[k + 13]
            s14 = I13[t12] ^ I9[t9] ^ I14[t6] ^ I11[t3] ^ rk[k + 14]
            s15 = I11[t12] ^ I13[t9] ^ I9[t6] ^ I14[t3] ^ rk[k + 15]
            k += 16
        # round Nr-1, then the last round (no InvMixColumns), FIPS-197 5.3.5
        t0 = I14[s0] ^ I11[s13] ^ I13[s10] ^ I9[s7] ^ rk[k]
        t1 = I9[s0] ^ I14[s13] ^ I11[s10] ^ I13[s7] ^ rk[k + 1]
        t2 = I13[s0] ^ I9[s13] ^ I14[s10] ^ I11[s7] ^ rk[k + 2]
        t3 = I11[s0] ^ I13[s13] ^ I9[s10] ^ I14[s7] ^ rk[k + 3]
        t4 = I14[s4] ^ I11[s1] ^ I13[s14] ^ I9[s11] ^ rk[k + 4]
        t5 = I9[s4] ^ I14[s1] ^ I11[s14] ^ I13[s11] ^ rk[k + 5]
        t6 = I13[s4] ^ I9[s1] ^ I14[s14] ^ I11[s11] ^ rk[k + 6]
        t7 = I11[s4] ^ I13[s1] ^ I9[s14] ^ I14[s11] ^ rk[k + 7]
        t8 = I14[s8] ^ I11[s5] ^ I13[s2] ^ I9[s15] ^ rk[k + 8]
        t9 = I9[s8] ^ I14[s5] ^ I11[s2] ^ I13[s15] ^ rk[k + 9]
        t10 = I13[s8] ^ I9[s5] ^ I14[s2] ^ I11[s15] ^ rk[k + 10]
        t11 = I11[s8] ^ I13[s5] ^ I9[s2] ^ I14[s15] ^ rk[k + 11]
        t12 = I14[s12] ^ I11[s9] ^ I13[s6] ^ I9[s3] ^ rk[k + 12]
        t13 = I9[s12] ^ I14[s9] ^ I11[s6] ^ I13[s3] ^ rk[k + 13]
        t14 = I13[s12] ^ I9[s9] ^ I14[s6] ^ I11[s3] ^ rk[k + 14]
        t15 = I11[s12] ^ I13[s9] ^ I9[s6] ^ I14[s3] ^ rk[k + 15]
        k += 16
        dst[do] = IS[t0] ^ rk[k]
        dst[do + 1] = IS[t13] ^ rk[k + 1]
        dst[do + 2] = IS[t10] ^ rk[k + 2]
        dst[do + 3] = IS[t7] ^ rk[k + 3]
        dst[do + 4] = IS[t4] ^ rk[k + 4]
        dst[do + 5] = IS[t1] ^ rk[k + 5]
        dst[do + 6] = IS[t14] ^ rk[k + 6]
        dst[do + 7] = IS[t11] ^ rk[k + 7]
        dst[do + 8] = IS[t8] ^ rk[k + 8]
        dst[do + 9] = IS[t5] ^ rk[k + 9]
        dst[do + 10] = IS[t2] ^ rk[k + 10]
        dst[do + 11] = IS[t15] ^ rk[k + 11]
        dst[do + 12] = IS[t12] ^ rk[k + 12]
        dst[do + 13] = IS[t9] ^ rk[k + 13]
        dst[do + 14] = IS[t6] ^ rk[k + 14]
        dst[do + 15] = IS[t3] ^ rk[k + 15]


MODE_ECB = 1                     # MicroPython cryptolib's mode numbers
MODE_CBC = 2


class Cipher:
    """The pure-Python AES behind MicroPython's cryptolib.aes interface, so the modes
    (ccm.py, gcm.py, cbc.py) run unchanged where the firmware has no cryptolib:
    new(key, MODE_ECB) or new(key, MODE_CBC, iv); encrypt(in_buf, out_buf) and
    decrypt(in_buf, out_buf) over whole 16-byte blocks (in place allowed), CBC
    carrying its IV from one call to the next. Like cryptolib, an object does one
    direction, fixed by its first call."""

    def __init__(self, key, mode, iv=None):
        if mode != MODE_ECB and mode != MODE_CBC:
            raise ValueError("AES mode")
        self._key = bytes(key)
        self._f = None
        self._dir = 0
        self._cbc = mode == MODE_CBC
        self._iv = bytearray(16)
        self._t = bytearray(16)
        if iv is not None:
            if len(iv) != 16:
                raise ValueError("IV must be 16 bytes")
            self._iv[:] = iv

    def _setup(self, d, src, dst):
        """Fix the direction on first use (binding the block function once: a bound
        method made per call would allocate) and check the spans."""
        if self._dir != d:
            if self._dir:
                raise TypeError("can't encrypt & decrypt")
            self._dir = d
            a = AES(self._key, None, d == 2)
            self._f = a.encrypt_block if d == 1 else a.decrypt_block
        if len(src) & 15:
            raise ValueError("blksize % 16")
        if len(dst) < len(src):
            raise ValueError("output too small")

    def encrypt(self, src, dst=None):
        if dst is None:
            dst = bytearray(len(src))
            self.encrypt(src, dst)
            return dst
        self._setup(1, src, dst)
        e = self._f
        iv = self._iv
        for p in range(0, len(src), 16):
            if self._cbc:
                for i in range(16):
                    dst[p + i] = src[p + i] ^ iv[i]
                e(dst, p, dst, p)
                for i in range(16):
                    iv[i] = dst[p + i]
            else:
                e(src, p, dst, p)

    def decrypt(self, src, dst=None):
        if dst is None:
            dst = bytearray(len(src))
            self.decrypt(src, dst)
            return dst
        self._setup(2, src, dst)
        d = self._f
        iv = self._iv
        t = self._t
        for p in range(0, len(src), 16):
            if self._cbc:
                for i in range(16):
                    t[i] = src[p + i]
                d(src, p, dst, p)
                for i in range(16):
                    dst[p + i] ^= iv[i]
                    iv[i] = t[i]
            else:
                d(src, p, dst, p)


def new(key, mode, iv=None):
    """cryptolib.aes(key, mode[, iv]) in pure Python (see Cipher)."""
    return Cipher(key, mode, iv)
