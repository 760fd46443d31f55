"""Names in certificates: host-name and IP-address identity checks (RFC 6125 6.4, with
RFC 9525's wildcard rule), the syntax of subjectAltName entries (RFC 5280 4.2.1.6), and
name constraints (RFC 5280 4.2.1.10) for DNS names, IP addresses, email addresses and
directory names. Works on offsets into the certificate buffer; nothing here raises on
certificate data (malformed input is a False / status). Imported by verify.py."""
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from nxsecure.const import (
    NxError,
    NX_SUCCESS,
    NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH,
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE,
    NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE,
)
from nxsecure.x509 import der
from nxsecure.x509.der import TAG_SEQUENCE, TAG_SET
from nxsecure.x509.cert import (
    SAN_TAG_RFC822_NAME, SAN_TAG_DNS_NAME, SAN_TAG_DIRECTORY_NAME, SAN_TAG_IP_ADDRESS,
    X509_EXT_SAN,
)

_DOT = 0x2E
_STAR = 0x2A
_AT = 0x40
_COLON = 0x3A

# GeneralName tag numbers whose constraints we evaluate: rfc822Name [1], dNSName [2],
# directoryName [4], iPAddress [7]. A name of any other form (otherName, URI, ...) on a
# certificate below a CA that constrains that form fails closed (RFC 5280 4.2.1.10:
# "MUST either process the constraint or reject the certificate").
_NC_KNOWN = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 7)


def _lower(c):
    return c + 32 if 0x41 <= c <= 0x5A else c


def _ieq(a, sa, b, sb, n):
    i = 0
    while i < n:
        if _lower(a[sa + i]) != _lower(b[sb + i]):
            return False
        i += 1
    return True


def _find(buf, s, e, c):
    while s < e:
        if buf[s] == c:
            return s
        s += 1
    return -1


# --- syntax -------------------------------------------------------------------------------

def dns_syntax(buf, s, e, wildcard=False):
    """buf[s:e] is a DNS name in the preferred name syntax (RFC 1034 3.5 as amended by
    RFC 1123 2.1; RFC 5280 4.2.1.6): ASCII letters, digits and hyphens, labels of
    1..63 octets not starting or ending with a hyphen, at most 253 octets, no trailing
    dot. wildcard: a left-most label of exactly '*' is allowed ('*.example.com')."""
    if e - s < 1 or e - s > 253:
        return False
    if wildcard and e - s > 2 and buf[s] == _STAR and buf[s + 1] == _DOT:
        s += 2
    n = 0
    prev = _DOT
    while s < e:
        c = buf[s]
        if c == _DOT:
            if n == 0 or prev == 0x2D:
                return False
            n = 0
        elif (0x61 <= c <= 0x7A) or (0x41 <= c <= 0x5A) or (0x30 <= c <= 0x39) or \
                (c == 0x2D and n > 0):
            n += 1
            if n > 63:
                return False
        else:
            return False
        prev = c
        s += 1
    return n > 0 and prev != 0x2D


def _mailbox_syntax(buf, s, e):
    """local@domain with one unquoted '@', a printable ASCII local part and a DNS
    domain (RFC 5280 4.2.1.6 / RFC 5321 4.1.2, without quoted local parts)."""
    at = _find(buf, s, e, _AT)
    if at <= s or _find(buf, at + 1, e, _AT) >= 0:
        return False
    i = s
    while i < at:
        c = buf[i]
        if c <= 0x20 or c >= 0x7F or c == 0x22:
            return False
        i += 1
    return dns_syntax(buf, at + 1, e)


def _ip_mask_ok(buf, s, e):
    """iPAddress constraint: address then mask, 8 or 32 octets, the mask a CIDR prefix
    (RFC 5280 4.2.1.10)."""
    n = e - s
    if n != 8 and n != 32:
        return False
    half = n >> 1
    ones = True
    i = s + half
    while i < e:
        m = buf[i]
        if ones:
            if m != 0xFF:
                if m not in (0x00, 0x80, 0xC0, 0xE0, 0xF0, 0xF8, 0xFC, 0xFE):
                    return False
                ones = False
        elif m:
            return False
        i += 1
    return True


def _name_syntax(buf, s, e):
    """Name ::= SEQUENCE OF SET OF AttributeTypeAndValue, each SET non-empty."""
    try:
        p = s
        while p < e:
            rs, re_ = der.expect(buf, p, e, TAG_SET)
            if rs == re_:
                return False
            q = rs
            while q < re_:
                q = der.expect(buf, q, re_, TAG_SEQUENCE)[1]
            p = re_
    except NxError:
        return False
    return True


def _dir_bounds(buf, s, e):
    """[4] EXPLICIT Name: the bounds of the Name's SEQUENCE content, or None."""
    try:
        ns, ne = der.expect(buf, s, e, TAG_SEQUENCE)
    except NxError:
        return None
    if ne != e:
        return None
    return ns, ne


def _general_name_ok(buf, t, s, e):
    if t == SAN_TAG_DNS_NAME:
        return dns_syntax(buf, s, e, True)
    if t == SAN_TAG_IP_ADDRESS:
        return e - s == 4 or e - s == 16
    if t == SAN_TAG_RFC822_NAME:
        return _mailbox_syntax(buf, s, e)
    if t == SAN_TAG_DIRECTORY_NAME:
        b = _dir_bounds(buf, s, e)
        return b is not None and _name_syntax(buf, b[0], b[1])
    return True


def san_syntax(cert):
    """Every subjectAltName entry of a kind we read is well formed: dNSName in the
    preferred syntax (a '*' only as the whole left-most label), iPAddress 4 or 16
    octets, rfc822Name a mailbox, directoryName a Name. NX_SUCCESS or
    NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE."""
    return _each_ok(cert.nx_secure_x509_certificate_data, cert._san_start, cert._san_end,
                    False, _general_name_ok)


def _each_ok(buf, s, e, subtrees, ok):
    """ok(buf, tag, start, end) holds for every GeneralName of buf[s:e], GeneralNames or
    (subtrees) the bases of GeneralSubtrees. NX_SUCCESS or
    NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE."""
    try:
        while s < e:
            p, q = s, e
            if subtrees:
                p, q = der.expect(buf, s, e, TAG_SEQUENCE)
            t, bs, be = der.tlv(buf, p, q)
            if not ok(buf, t, bs, be):
                return NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE
            s = q if subtrees else be
    except NxError:
        return NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE
    return NX_SUCCESS


# --- IP addresses (the text forms are nxsecure/netx.py's and netx_ext.py's, as for
# NXD_ADDRESS) -----------------------------------------------------------------------------

def ip_parse(ref):
    """A textual IP address (IPv4 dotted decimal, IPv6 per RFC 4291 2.2) -> 4 or 16
    bytes, or None when `ref` is not an IP literal (then it is a host name)."""
    from nxsecure import netx
    try:
        text = bytes(ref).decode()
    except (UnicodeError, ValueError):
        return None
    if ":" in text:
        if "%" in text:
            return None                       # a zone index names no certificate
        w = netx._ext()._v6_parse(text)
        return None if w is None else b"".join(x.to_bytes(4, "big") for x in w)
    v = netx._v4_parse(text)
    return None if v is None else v.to_bytes(4, "big")


def ip_text(buf, s, e):
    """The text form of a 4- or 16-octet address: IPv4 dotted decimal, IPv6 as RFC 5952
    writes it. bytes."""
    from nxsecure import netx
    if e - s == 4:
        return netx._v4_str(int.from_bytes(bytes(buf[s:e]), "big")).encode()
    return netx._ext()._v6_str([int.from_bytes(bytes(buf[s + 4 * i:s + 4 * i + 4]), "big")
                                for i in range(4)]).encode()


# --- identity (RFC 6125 6.4) ----------------------------------------------------------------

def _dns_match(pat, ps, pe, ref, rn):
    """Presented identifier pat[ps:pe] against reference host ref[0:rn] (ASCII,
    case-insensitive, RFC 6125 6.4.1). A wildcard counts only as the whole left-most
    label ('*.example.com', RFC 9525 6.3), matches exactly one non-empty label, and
    only with at least two labels after it (no '*.com')."""
    if pe - ps > 2 and pat[ps] == _STAR and pat[ps + 1] == _DOT:
        base = ps + 1                        # ".example.com"
        if _find(pat, base, pe, _STAR) >= 0:
            return False
        dot = _find(pat, base + 1, pe, _DOT)
        if dot < 0 or dot == base + 1 or dot == pe - 1:
            return False                     # fewer than two labels after the wildcard
        first = _find(ref, 0, rn, _DOT)
        if first <= 0:
            return False                     # the reference needs a non-empty first label
        n = pe - base
        return rn - first == n and _ieq(pat, base, ref, first, n)
    if pe == ps or _find(pat, ps, pe, _STAR) >= 0:
        return False                         # partial / non-left-most wildcards refused
    n = pe - ps
    return rn == n and _ieq(pat, ps, ref, 0, n)


def host_check(cert, ref, rn):
    """Does the certificate identify ref[0:rn]? An IP literal (ip_parse) matches
    iPAddress entries only, octet for octet. A host name matches the dNSName entries;
    the subject commonName is used only when the certificate has no subjectAltName at
    all (RFC 6125 6.4.4; NetX's nx_secure_x509_common_name_dns_check reads the CN).
    NX_SUCCESS or NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH."""
    if rn and ref[rn - 1] == _DOT:
        rn -= 1
    if rn == 0 or _find(ref, 0, rn, _STAR) >= 0:
        return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    buf = cert.nx_secure_x509_certificate_data
    ip = ip_parse(bytes(ref[0:rn]))
    if cert._ext_present & X509_EXT_SAN:
        want = SAN_TAG_DNS_NAME if ip is None else SAN_TAG_IP_ADDRESS
        p = cert._san_start
        e = cert._san_end
        try:
            while p < e:
                t, s, q = der.tlv(buf, p, e)
                if t == want:
                    if ip is None:
                        if _dns_match(buf, s, q, ref, rn):
                            return NX_SUCCESS
                    elif der.equal(buf, s, q, ip):
                        return NX_SUCCESS
                p = q
        except NxError:
            pass
        return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH
    dn = cert.nx_secure_x509_distinguished_name
    s = dn.nx_secure_x509_common_name
    if ip is None and s >= 0 and \
            _dns_match(buf, s, s + dn.nx_secure_x509_common_name_length, ref, rn):
        return NX_SUCCESS
    return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


def _hexval(c):
    if 0x30 <= c <= 0x39:
        return c - 0x30
    c |= 0x20
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    return -1


def _address_like(buf, s, e):
    """A commonName that a resolver would read as an IP address: digits and dots
    (IPv4, leading zeros and octal included), hex digits with ':' (IPv6), or '0x' and
    hex digits (inet_aton's hexadecimal form)."""
    if e - s < 2:
        return False
    hexform = buf[s] == 0x30 and buf[s + 1] | 0x20 == 0x78
    if hexform:
        s += 2
    colon = dot = False
    decimal = True
    while s < e:
        c = buf[s]
        if c == _COLON:
            colon = True
        elif c == _DOT:
            dot = True
        elif _hexval(c) < 0:
            return False
        elif c > 0x39:
            decimal = False
        s += 1
    return hexform or colon or (dot and decimal)


def cn_address_check(cert):
    """CA/B Baseline Requirements 7.1.4.3: a commonName holding an IP address must be
    the RFC 3986 (IPv4) or RFC 5952 (IPv6) text of one of the leaf's iPAddress
    entries, so that no verifier reading the CN (or parsing it with inet_aton) sees an
    address the subjectAltName does not state. Applies when the leaf has
    subjectAltName; host-name CNs are left alone (nxsecure never reads the CN when a
    subjectAltName is present)."""
    dn = cert.nx_secure_x509_distinguished_name
    cs = dn.nx_secure_x509_common_name
    if cs < 0 or not (cert._ext_present & X509_EXT_SAN):
        return NX_SUCCESS
    buf = cert.nx_secure_x509_certificate_data
    ce = cs + dn.nx_secure_x509_common_name_length
    if not _address_like(buf, cs, ce):
        return NX_SUCCESS
    p = cert._san_start
    e = cert._san_end
    try:
        while p < e:
            t, s, q = der.tlv(buf, p, e)
            if t == SAN_TAG_IP_ADDRESS and (q - s == 4 or q - s == 16) and \
                    der.equal(buf, cs, ce, ip_text(buf, s, q)):
                return NX_SUCCESS
            p = q
    except NxError:
        pass
    return NX_SECURE_X509_CERTIFICATE_DNS_MISMATCH


# --- name constraints (RFC 5280 4.2.1.10) ------------------------------------------------------

def _subtree_types(buf, s, e):
    """(bit per GeneralName tag number among the bases of GeneralSubtrees buf[s:e],
    number of subtrees)."""
    types = 0
    n = 0
    while s < e:
        gs, ge = der.expect(buf, s, e, TAG_SEQUENCE)
        types |= 1 << (buf[gs] & 0x1F)
        n += 1
        s = ge
    return types, n


def _count(buf, s, e, inner):
    """Elements of the SEQUENCE OF content buf[s:e]; inner: count inside each SET (the
    attributes of a Name)."""
    n = 0
    while s < e:
        t, cs, s = der.tlv(buf, s, e)
        if inner:
            n += _count(buf, cs, s, False)
        else:
            n += 1
    return n


def _constraint_ok(buf, t, s, e):
    if t == SAN_TAG_DNS_NAME:
        # A host or domain name; no wildcard, no leading period (that is the URI form).
        return s == e or dns_syntax(buf, s, e)
    if t == SAN_TAG_IP_ADDRESS:
        return _ip_mask_ok(buf, s, e)
    if t == SAN_TAG_RFC822_NAME and _find(buf, s, e, _AT) < 0:
        # a host, or '.domain' (all hosts in a domain)
        if s < e and buf[s] == _DOT:
            s += 1
        return dns_syntax(buf, s, e)
    return _general_name_ok(buf, t, s, e)     # a mailbox; a directoryName


def nc_syntax(ca):
    """The name constraints of CA certificate `ca` are well formed for the forms we
    evaluate. NX_SUCCESS or NX_SECURE_X509_INVALID_EXTENSION_SEQUENCE."""
    buf = ca.nx_secure_x509_certificate_data
    st = _each_ok(buf, ca._nc_permitted_start, ca._nc_permitted_end, True, _constraint_ok)
    if st == NX_SUCCESS:
        st = _each_ok(buf, ca._nc_excluded_start, ca._nc_excluded_end, True, _constraint_ok)
    return st


def _dns_within(n, ns, ne, c, cs, ce):
    """DNS name n[ns:ne] is c[cs:ce] or below it ("adding zero or more labels to the
    left-hand side", RFC 5280 4.2.1.10). An empty constraint holds every name."""
    cl = ce - cs
    nl = ne - ns
    if cl == 0:
        return True
    if nl == cl:
        return _ieq(n, ns, c, cs, cl)
    return nl > cl and n[ne - cl - 1] == _DOT and _ieq(n, ne - cl, c, cs, cl)


def _dns_in(n, ns, ne, c, cs, ce, excluded):
    """Constraint test for a dNSName. A wildcard name '*.X' stands for every name one
    label below X: it is permitted only when all of them are (X within the subtree),
    and excluded as soon as one of them is (X within the subtree, or the subtree is
    exactly one label below X), so a wildcard cannot reach a name the CA may not
    vouch for (CVE-2025-61727)."""
    if ne - ns > 1 and n[ns] == _STAR and n[ns + 1] == _DOT:
        xs = ns + 2
        if _dns_within(n, xs, ne, c, cs, ce):
            return True
        if not excluded:
            return False
        xl = ne - xs
        cl = ce - cs
        if cl <= xl + 1 or c[ce - xl - 1] != _DOT or not _ieq(c, ce - xl, n, xs, xl):
            return False
        return _find(c, cs, ce - xl - 1, _DOT) < 0
    return _dns_within(n, ns, ne, c, cs, ce)


def _ip_in(n, ns, ne, c, cs, ce):
    k = ne - ns
    if ce - cs != 2 * k:
        return False                          # the other address family
    i = 0
    while i < k:
        m = c[cs + k + i]
        if (n[ns + i] & m) != (c[cs + i] & m):
            return False
        i += 1
    return True


def _email_in(n, ns, ne, c, cs, ce):
    """rfc822Name constraint: 'mailbox@host' exactly (local part case-sensitive),
    'host' every mailbox at host, '.domain' every mailbox at a host below domain."""
    at = _find(n, ns, ne, _AT)
    if at < 0:
        return False
    if _find(c, cs, ce, _AT) >= 0:
        cat = _find(c, cs, ce, _AT)
        return cat - cs == at - ns and der.same(n, ns, at, c, cs, cat) and \
            ce - cat == ne - at and _ieq(n, at, c, cat, ne - at)
    hs = at + 1
    if cs < ce and c[cs] == _DOT:
        cl = ce - cs
        return ne - hs > cl and _ieq(n, ne - cl, c, cs, cl)
    return ne - hs == ce - cs and _ieq(n, hs, c, cs, ce - cs)


def _dir_in(n, ns, ne, c, cs, ce):
    """The constraint's RDN sequence c[cs:ce] is a prefix of the name's n[ns:ne]
    (RDNs compared as encoded, RFC 5280 7.1)."""
    try:
        p = ns
        q = cs
        while q < ce:
            if p >= ne:
                return False
            ps, pe = der.expect(n, p, ne, TAG_SET)
            qs, qe = der.expect(c, q, ce, TAG_SET)
            if not der.same(n, p, pe, c, q, qe):
                return False
            p = pe
            q = qe
    except NxError:
        return False
    return True


def _in_subtrees(n, t, ns, ne, c, s, e, excluded):
    """Is name n[ns:ne] of form t inside one of the subtrees c[s:e] of the same form?"""
    while s < e:
        gs, ge = der.expect(c, s, e, TAG_SEQUENCE)
        bt, bs, be = der.tlv(c, gs, ge)
        s = ge
        if bt != t:
            continue
        if t == SAN_TAG_DNS_NAME:
            hit = _dns_in(n, ns, ne, c, bs, be, excluded)
        elif t == SAN_TAG_IP_ADDRESS:
            hit = _ip_in(n, ns, ne, c, bs, be)
        elif t == SAN_TAG_RFC822_NAME:
            hit = _email_in(n, ns, ne, c, bs, be)
        else:
            b = _dir_bounds(c, bs, be)
            hit = b is not None and _dir_in(n, ns, ne, c, b[0], b[1])
        if hit:
            return True
    return False


def _name_allowed(ca, permitted, excluded, n, t, ns, ne):
    c = ca.nx_secure_x509_certificate_data
    bit = 1 << (t & 0x1F)
    if not ((permitted | excluded) & bit):
        return True
    if not (_NC_KNOWN & bit):
        return False                          # a constrained form we do not evaluate
    if (excluded & bit) and _in_subtrees(n, t, ns, ne, c, ca._nc_excluded_start,
                                         ca._nc_excluded_end, True):
        return False
    if (permitted & bit) and not _in_subtrees(n, t, ns, ne, c, ca._nc_permitted_start,
                                              ca._nc_permitted_end, False):
        return False
    return True


# Names x subtrees compared for one certificate under one constrained CA, at most: a
# certificate beyond it is refused rather than checked (a hostile chain could ask for
# millions of comparisons; OpenSSL has the same kind of limit). A leaf with 200 names
# under a CA with 300 subtrees is still checked.
_NC_WORK_LIMIT = const(1 << 16)


def nc_check(ca, cert, is_leaf):
    """The names of `cert` against the name constraints of CA `ca` above it in the path:
    the subject (as a directoryName, when not empty), every subjectAltName entry, and,
    for a leaf without subjectAltName, a commonName in host-name syntax as a dNSName
    (it is what a host-name check would read). NX_SUCCESS or
    NX_SECURE_X509_CHAIN_VERIFY_FAILURE."""
    c = ca.nx_secure_x509_certificate_data
    try:
        permitted, n1 = _subtree_types(c, ca._nc_permitted_start, ca._nc_permitted_end)
        excluded, n2 = _subtree_types(c, ca._nc_excluded_start, ca._nc_excluded_end)
        buf = cert.nx_secure_x509_certificate_data
        dn = cert.nx_secure_x509_distinguished_name
        names = _count(buf, dn._start, dn._end, True) + 1
        if cert._ext_present & X509_EXT_SAN:
            names += _count(buf, cert._san_start, cert._san_end, False)
        if names * (n1 + n2) > _NC_WORK_LIMIT:
            return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        if dn._start != dn._end and not _name_allowed(ca, permitted, excluded, buf,
                                                      SAN_TAG_DIRECTORY_NAME, dn._start,
                                                      dn._end):
            return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        if cert._ext_present & X509_EXT_SAN:
            p = cert._san_start
            e = cert._san_end
            while p < e:
                t, s, q = der.tlv(buf, p, e)
                p = q
                if t == SAN_TAG_DIRECTORY_NAME:
                    b = _dir_bounds(buf, s, q)
                    if b is None:
                        return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
                    s, q = b
                if not _name_allowed(ca, permitted, excluded, buf, t, s, q):
                    return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
        elif is_leaf and dn.nx_secure_x509_common_name >= 0:
            s = dn.nx_secure_x509_common_name
            q = s + dn.nx_secure_x509_common_name_length
            if dns_syntax(buf, s, q, True) and \
                    not _name_allowed(ca, permitted, excluded, buf, SAN_TAG_DNS_NAME, s, q):
                return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
    except NxError:
        return NX_SECURE_X509_CHAIN_VERIFY_FAILURE
    return NX_SUCCESS
