# Portable tests of nxsecure.x509.names (CPython pytest and the MicroPython runner): IP
# addresses as reference identities (RFC 4291 2.2, RFC 5952 4), DNS name syntax (RFC 1034 3.5,
# RFC 1123 2.1), RFC 6125 wildcard matching, and name-constraint matching
# (RFC 5280 4.2.1.10) for DNS names, wildcards, IP ranges and email addresses.
from nxsecure.x509 import names


def _mv(s):
    b = s.encode() if isinstance(s, str) else s
    return memoryview(b), 0, len(b)


def test_ip_parse_text_forms():
    p = names.ip_parse
    assert p(b"192.0.2.1") == bytes([192, 0, 2, 1])
    assert p(b"0.0.0.0") == bytes(4)
    for bad in (b"192.0.2", b"192.0.2.1.5", b"192.0.2.256", b"1..2.3",
                b"192.0.2.1 ", b"example.com", b"", b"0xC0000201", b"fe80::1%eth0"):
        assert p(bad) is None, bad
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    for text in (b"2001:db8::1", b"2001:DB8:0:0:0:0:0:1", b"2001:db8:0::0:1",
                 b"2001:0db8:0000:0000:0000:0000:0000:0001"):
        assert p(text) == v6, text
    assert p(b"::") == bytes(16)
    assert p(b"::1") == bytes(15) + b"\x01"
    assert p(b"fe80::") == b"\xfe\x80" + bytes(14)
    assert p(b"::ffff:192.0.2.1") == bytes(10) + b"\xff\xff\xc0\x00\x02\x01"
    for bad in (b"1::2::3", b":1", b"1:", b"1:2:3:4:5:6:7:8:9", b"1:2:3:4:5:6:7",
                b"12345::", b"g::1", b"1:2:3:4:5:6:7::8:9", b"::1.2.3"):
        assert p(bad) is None, bad


def test_ip_text_is_rfc5952_canonical():
    def t(text):
        b = names.ip_parse(text.encode())
        return names.ip_text(memoryview(b), 0, len(b)).decode()
    assert t("192.0.2.1") == "192.0.2.1"
    assert t("2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"
    assert t("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1"      # the first longest run
    assert t("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1"  # one zero group stays
    assert t("::") == "::"
    assert t("::1") == "::1"
    assert t("1::") == "1::"


def test_dns_syntax():
    ok = ("example.com", "a", "xn--n3h.example", "a-b.c", "8.8.8.8", "a" * 63 + ".b")
    bad = ("", ".example.com", "example.com.", "a..b", "-a.b", "a-.b", "foo_bar.example",
           "a" * 64 + ".b", "*.example.com", "ex ample.com", "\xe9.example")
    for n in ok:
        assert names.dns_syntax(*_mv(n)), n
    for n in bad:
        assert not names.dns_syntax(*_mv(n)), n
    assert names.dns_syntax(*_mv("*.example.com"), wildcard=True)
    for n in ("*", "*.", "f*.example.com", "a.*.example.com", "**.example.com"):
        assert not names.dns_syntax(*_mv(n), wildcard=True), n


def _dns_in(name, constraint, excluded=False):
    n, ns, ne = _mv(name)
    c, cs, ce = _mv(constraint)
    return names._dns_in(n, ns, ne, c, cs, ce, excluded)


def test_dns_name_constraints_and_wildcards():
    assert _dns_in("example.com", "example.com")
    assert _dns_in("a.b.example.com", "example.com")
    assert _dns_in("EXAMPLE.com", "example.COM")
    assert not _dns_in("notexample.com", "example.com")
    assert not _dns_in("example.com", "a.example.com")
    assert _dns_in("anything.example", "")
    # '*.example.com' is permitted by 'example.com', not by one host below it ...
    assert _dns_in("*.example.com", "example.com")
    assert not _dns_in("*.example.com", "foo.example.com")
    # ... and excluded as soon as one name it stands for is (CVE-2025-61727).
    assert _dns_in("*.example.com", "bar.example.com", excluded=True)
    assert _dns_in("*.example.com", "example.com", excluded=True)
    assert not _dns_in("*.example.com", "a.bar.example.com", excluded=True)
    assert not _dns_in("*.example.com", "other.com", excluded=True)


def _email_in(name, constraint):
    n, ns, ne = _mv(name)
    c, cs, ce = _mv(constraint)
    return names._email_in(n, ns, ne, c, cs, ce)


def test_email_name_constraints():
    assert _email_in("foo@example.com", "foo@example.com")
    assert _email_in("foo@EXAMPLE.com", "foo@example.com")
    assert not _email_in("Foo@example.com", "foo@example.com")      # local part is exact
    assert _email_in("foo@example.com", "example.com")
    assert not _email_in("foo@mail.example.com", "example.com")
    assert _email_in("foo@mail.example.com", ".example.com")
    assert not _email_in("foo@example.com", ".example.com")
    assert _email_in("*@example.com", "*@example.com")               # '*' is literal
    assert not _email_in("user@example.com", "*@example.com")


def test_ip_constraints_need_a_cidr_mask():
    c = bytes([192, 0, 2, 0, 255, 255, 255, 0])
    assert names._ip_mask_ok(memoryview(c), 0, 8)
    assert names._ip_in(memoryview(bytes([192, 0, 2, 9])), 0, 4, memoryview(c), 0, 8)
    assert not names._ip_in(memoryview(bytes([192, 0, 3, 9])), 0, 4, memoryview(c), 0, 8)
    assert not names._ip_in(memoryview(bytes(16)), 0, 16, memoryview(c), 0, 8)
    for bad in (bytes([192, 0, 2, 0, 255, 0, 255, 0]), bytes([192, 0, 2, 0]),
                bytes([192, 0, 2, 0, 255, 255, 254, 1])):
        assert not names._ip_mask_ok(memoryview(bad), 0, len(bad)), bad
