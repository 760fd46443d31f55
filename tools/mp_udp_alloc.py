"""Heap bytes allocated per echo round trip through the NetX services, on a MicroPython
unix build over real UDP on 127.0.0.1 (both ends in this process, PSK-CCM_8, 100 B):

    make mpy && .venv/bin/python tools/mp_unix.py --mpy build/mpy --heap 4m tools/mp_udp_alloc.py [smallid]

(the 32-bit unix port of ../shared/firmware). `smallid` makes the stack lock's thread id
a small int, as it is on ESP32 and RP2040 (where a build's thread id is a big int, each
lock acquire allocates it; on the shared 32-bit build both runs give the same figure).
docs/BOARDS.md quotes its figures."""
import gc
import sys

from nxsecure import port
if "smallid" in sys.argv:
    port.get_ident = lambda: 1
from nxsecure import *

pool = NX_PACKET_POOL()
ip = NX_IP()
pmem = bytearray(16 * 1600)
assert nx_packet_pool_create(pool, "p", 1568, pmem, len(pmem)) == 0
assert nx_ip_create(ip, "ip", IP_ADDRESS(127, 0, 0, 1), 0xFFFFFF00, pool) == 0
nx_udp_enable(ip)
table = make_tls_crypto(port.crypto_backend(), [TLS_PSK_WITH_AES_128_CCM_8])
PSK = b"\x01\x02\x03\x04\x05\x06\x07\x08"
ID = b"id"
server = NX_SECURE_DTLS_SERVER()
sbuf = bytearray(sizeof(NX_SECURE_DTLS_SESSION) * 2)
md = bytearray(2 * 2000)
rs = bytearray(2 * 1000)
conn = []


def cn(s, a, p):
    conn.append(s)
    return 0


PORT = 24000 + (port.ticks_ms() % 1000)
st = nx_secure_dtls_server_create(server, ip, PORT, 100, sbuf, len(sbuf), table, md, len(md), rs, len(rs), cn, lambda s: 0)
assert st == 0, st
nx_secure_dtls_server_psk_add(server, PSK, len(PSK), ID, len(ID), None, 0)
assert nx_secure_dtls_server_start(server) == 0
sock = NX_UDP_SOCKET()
nx_udp_socket_create(ip, sock, "c", 0, 0, 0x80, 8)
cs = NX_SECURE_DTLS_SESSION()
cmd = bytearray(2000)
crs = bytearray(1000)
assert nx_secure_dtls_session_create(cs, table, cmd, len(cmd), crs, len(crs), 0, None, 0) == 0
nx_secure_dtls_psk_add(cs, PSK, len(PSK), ID, len(ID), None, 0)
sa = NXD_ADDRESS(IP_ADDRESS(127, 0, 0, 1))
st = nx_secure_dtls_client_session_start(cs, sock, sa, PORT, NX_NO_WAIT)
for _ in range(300):
    tx_thread_sleep(0)
    if conn:
        nx_secure_dtls_server_session_start(conn[0], NX_NO_WAIT)
    st = nx_secure_dtls_client_session_start(cs, sock, sa, PORT, NX_NO_WAIT)
    if st == 0:
        break
assert st == 0, hex(st)
ss = conn[0]
data = bytes(100)
buf = bytearray(256)
acc = {}


def step(meter, name, t0):
    """With meter: add what was allocated since t0 to acc[name]; -> a fresh start."""
    if not meter:
        return t0
    acc[name] = acc.get(name, 0) + (gc.mem_alloc() - t0)
    return gc.mem_alloc()


def leg(sender, send, receiver, payload, n, meter):
    """One record from sender to receiver through the services; -> bytes received."""
    t = gc.mem_alloc()
    st, pkt = nx_secure_dtls_packet_allocate(sender, pool, NX_WAIT_FOREVER)
    nx_packet_data_append(pkt, payload, n, pool, NX_WAIT_FOREVER)
    t = step(meter, "alloc+append", t)
    send(pkt)
    t = step(meter, "send", t)
    st, pkt = nx_secure_dtls_session_receive(receiver, NX_WAIT_FOREVER)
    t = step(meter, "receive", t)
    st, got = nx_packet_data_extract_offset(pkt, 0, buf, len(buf))
    t = step(meter, "extract", t)
    nx_packet_release(pkt)
    step(meter, "release", t)
    return got


def client_send(pkt):
    return nx_secure_dtls_session_send(cs, pkt, sa, PORT)


def server_send(pkt):
    return nx_secure_dtls_server_session_send(ss, pkt)


def rt(meter):
    """An echo round trip: the client's record, and the server's reply with its bytes."""
    n = leg(cs, client_send, ss, data, len(data), meter)
    leg(ss, server_send, cs, buf, n, meter)


for _ in range(20):
    rt(False)
N = 50
gc.collect()
gc.disable()
a = gc.mem_alloc()
for _ in range(N):
    rt(False)
total = (gc.mem_alloc() - a) / N
gc.collect()
for _ in range(N):
    rt(True)
gc.enable()
print("bytes per round trip (2 records), unmetered: %.1f" % total)
for k in sorted(acc):
    print("  %s: %.1f" % (k, acc[k] / N))
