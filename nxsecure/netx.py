"""NetX network objects over the port: packet pools, packets, IP instances, UDP sockets, addresses, and the wait/pump loop with timers."""
# Every service mirrors the NetX C service of the same name: same parameter order,
# `&` dropped, C out-parameters returned after the status
# (`status, packet = nx_packet_allocate(pool, NX_UDP_PACKET, NX_WAIT_FOREVER)`).
# Argument checks follow NetX's nxe_ error-checking layer; no exception escapes a
# service for bad arguments.
#
# Differences from NetX, on purpose:
# - Packet chaining is off (NetX built with NX_DISABLE_PACKET_CHAIN): a packet holds
#   at most one pool payload; nx_packet_data_append returns NX_SIZE_ERROR when the
#   data does not fit. `nx_packet_next` exists and is always None.
# - There is no IP thread: the stack runs inside whichever service waits (_wait
#   "pumps" the sockets and timers), as in NetX's NX_DISABLE_IP_THREAD-less ports
#   driven by the caller. nxsecure_ip_thread_start() is an optional extension.
# - nx_ip_create's driver, memory and priority are accepted and ignored: the "driver"
#   is the port (real sockets, or _port.memnet when _port.use_network() was called).
# - An NX_IP instance has at most one IPv4 and one IPv6 address; a bound UDP socket
#   owns one OS socket per configured family (NetX "dual stack").
# - Received datagrams land at offset 0 of the packet payload (no header room), and
#   datagrams longer than the pool payload are truncated, as the OS truncates them.
# The services a DTLS application rarely calls (plain UDP send/receive, IPv6 text,
# status and info getters, the IP thread) are in nxsecure/netx_ext.py, loaded on first use.
from nxsecure import port as _port
from nxsecure.const import (
    NX_SUCCESS, NX_NO_PACKET, NX_UNDERFLOW, NX_OVERFLOW, NX_PTR_ERROR, NX_SIZE_ERROR,
    NX_OPTION_ERROR, NX_NOT_ENABLED, NX_ALREADY_ENABLED,
    NX_IP_ADDRESS_ERROR, NX_ALREADY_BOUND, NX_PORT_UNAVAILABLE, NX_NOT_BOUND,
    NX_SOCKETS_BOUND, NX_STILL_BOUND, NX_NOT_SUCCESSFUL, NX_NO_FREE_PORTS,
    NX_INVALID_PORT, NX_INVALID_PARAMETERS, NX_PACKET_OFFSET_ERROR,
    NX_NO_WAIT, NX_WAIT_FOREVER, NX_IP_PERIODIC_RATE, NX_FRAGMENT_OKAY,
    NX_DONT_FRAGMENT, NX_ANY_PORT, NX_IP_VERSION_V4, NX_IP_VERSION_V6,
    NX_IP_INITIALIZE_DONE, NX_IP_ADDRESS_RESOLVED, NX_IP_LINK_ENABLED,
    NX_IP_ARP_ENABLED, NX_IP_UDP_ENABLED, NX_IP_TOS_MASK,
    NX_IP_TIME_TO_LIVE_MASK, NX_MAX_PORT, NX_PACKET_ALIGNMENT,
)


def _ext():
    # __import__ with a fromlist returns the submodule itself; `from nxsecure import
    # netx_ext` would ask nxsecure's module __getattr__ first on MicroPython
    return __import__("nxsecure.netx_ext", None, None, ("_enqueue",), 0)

_TICK_MS = 1000 // NX_IP_PERIODIC_RATE   # one ThreadX tick in milliseconds
_POLL_CAP_MS = 100     # longest single poll: lets a waiter see other threads' work
_DRAIN_MAX = 8         # datagrams read per socket by the last pass of a wait (fairness)

_POOL_ID = 0x5041434B  # "PACK" (NX_PACKET_POOL_ID)
_IP_ID = 0x49502020    # "IP  " (NX_IP_ID)
_UDP_ID = 0x55445020   # "UDP " (NX_UDP_ID)


def sizeof(cls):
    """C's sizeof for a control-block class (or instance): its SIZE attribute, the
    bytes one instance takes out of a caller's memory area."""
    return cls.SIZE


def nx_system_initialize():
    """NetX: initialise the system. Nothing to do here; returns NX_SUCCESS."""
    return NX_SUCCESS


# =============================================================================
# Addresses
# =============================================================================
def IP_ADDRESS(a, b, c, d):
    """NetX's IP_ADDRESS macro: a ULONG (int) in host order."""
    return ((a & 0xFF) << 24) | ((b & 0xFF) << 16) | ((c & 0xFF) << 8) | (d & 0xFF)


class _NxdIpAddress:
    """The C union nxd_ip_address: .v4 is a ULONG, .v6 four ULONGs (network order words)."""

    def __init__(self):
        self.v4 = 0
        self.v6 = [0, 0, 0, 0]


class NXD_ADDRESS:
    """NetX dual-stack address. Created empty like the C struct; as a Python
    convenience NXD_ADDRESS(x) also accepts an IP_ADDRESS int or a string
    ('192.168.1.1', '::1')."""
    SIZE = 20

    def __init__(self, address=None):
        self.nxd_ip_version = 0
        self.nxd_ip_address = _NxdIpAddress()
        if address is not None:
            if not _nxd_set(self, address):
                raise ValueError('bad IP address')


def _nxd_set(nxd, address):
    """Fill nxd from an int (IPv4), a string or another NXD_ADDRESS; False if invalid."""
    if isinstance(address, int):
        if address < 0 or address > 0xFFFFFFFF:
            return False
        nxd.nxd_ip_version = NX_IP_VERSION_V4
        nxd.nxd_ip_address.v4 = address
        return True
    if isinstance(address, NXD_ADDRESS):
        if address.nxd_ip_version == NX_IP_VERSION_V4:
            return _nxd_set(nxd, address.nxd_ip_address.v4)
        if address.nxd_ip_version == NX_IP_VERSION_V6:
            nxd.nxd_ip_version = NX_IP_VERSION_V6
            v6 = nxd.nxd_ip_address.v6
            src = address.nxd_ip_address.v6
            for i in range(4):
                v6[i] = src[i] & 0xFFFFFFFF
            return True
        return False
    if isinstance(address, str):
        if ':' in address:
            w = _ext()._v6_parse(address)
            if w is None:
                return False
            nxd.nxd_ip_version = NX_IP_VERSION_V6
            nxd.nxd_ip_address.v6 = w
            return True
        v = _v4_parse(address)
        return v is not None and _nxd_set(nxd, v)
    return False


# The last IPv4 address formatted, (ULONG, 'a.b.c.d'): a session converts its peer's
# address at every service call, and a board takes ~0.3 ms to format one and ~1 ms to
# parse one. Its text is canonical, so parsing it gives the ULONG back. One tuple,
# replaced whole (threads).
_v4_fmt = (None, None)


def _v4_str(v):
    global _v4_fmt
    c = _v4_fmt
    if c[0] == v:
        return c[1]
    s = '%d.%d.%d.%d' % ((v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)
    _v4_fmt = (v, s)
    return s


def _v4_parse(s):
    c = _v4_fmt
    if c[1] == s:
        return c[0]
    parts = s.split('.')
    if len(parts) != 4:
        return None
    v = 0
    for p in parts:
        if not p or not p.isdigit():
            return None
        b = int(p)
        if b > 255:
            return None
        v = (v << 8) | b
    return v


def _addr_from_nxd(ip_address, udp_port):
    """Port-level address tuple from an NXD_ADDRESS (or an IPv4 ULONG) and a port:
    ('a.b.c.d', port) or ('v6::text', port, 0, 0); None when the address is invalid."""
    if isinstance(ip_address, int):
        return (_v4_str(ip_address), udp_port)
    if not isinstance(ip_address, NXD_ADDRESS):
        return None
    if ip_address.nxd_ip_version == NX_IP_VERSION_V4:
        return (_v4_str(ip_address.nxd_ip_address.v4), udp_port)
    if ip_address.nxd_ip_version == NX_IP_VERSION_V6:
        return (_ext()._v6_str(ip_address.nxd_ip_address.v6), udp_port, 0, 0)
    return None


def _nxd_from_addr(addr):
    """(NXD_ADDRESS, port) from a port-level address tuple; (None, 0) if unparsable."""
    nxd = NXD_ADDRESS()
    if addr is None or not _nxd_set(nxd, addr[0]):
        return None, 0
    return nxd, addr[1]


# =============================================================================
# Packet pools and packets
# =============================================================================
class NX_PACKET:
    """One packet: a fixed slice of its pool's caller memory. Data lives in
    _buf[nx_packet_prepend_ptr:nx_packet_append_ptr] (offsets, not pointers)."""
    SIZE = 56     # bytes of caller pool memory each packet's header takes

    def __init__(self, pool, buf):
        self._buf = buf                      # memoryview of this packet's payload area
        self.nx_packet_pool_owner = pool
        self.nx_packet_prepend_ptr = 0
        self.nx_packet_append_ptr = 0
        self.nx_packet_length = 0
        self.nx_packet_queue_next = None     # free list / socket receive queue link
        self.nx_packet_next = None           # chaining is disabled: always None
        self.nx_packet_ip_version = NX_IP_VERSION_V4
        self._addr = None                    # source address of a received datagram
        self._allocated = False
        self._wipe = 0                       # bytes from 0 to clear when released

    def _data(self):
        """Memoryview of the packet's data (prepend..append)."""
        return self._buf[self.nx_packet_prepend_ptr:self.nx_packet_append_ptr]


class NX_PACKET_POOL:
    """A pool of fixed-size packets carved from the caller's memory at creation."""
    SIZE = 64

    def __init__(self):
        self.nx_packet_pool_id = 0
        self.nx_packet_pool_name = None
        self.nx_packet_pool_payload_size = 0
        self.nx_packet_pool_total = 0
        self.nx_packet_pool_available = 0
        self.nx_packet_pool_empty_requests = 0
        self.nx_packet_pool_empty_suspensions = 0
        self.nx_packet_pool_invalid_releases = 0
        self._free = None                    # head of the free list (nx_packet_queue_next)
        self._memory = None
        self._packets = None


_pools = []


def _created_pool(pool):
    try:
        return pool.nx_packet_pool_id == _POOL_ID
    except AttributeError:                   # None, or not a pool at all
        return False


def nx_packet_pool_create(pool, name, payload_size, pool_memory, pool_size):
    """Carve pool_size bytes of pool_memory (a caller bytearray) into packets of
    payload_size bytes: count = pool_size // (sizeof(NX_PACKET) + payload rounded
    up to NX_PACKET_ALIGNMENT). The NX_PACKET objects are made here, once."""
    if pool is None or pool_memory is None or not isinstance(pool, NX_PACKET_POOL):
        return NX_PTR_ERROR
    if pool.nx_packet_pool_id == _POOL_ID:
        return NX_PTR_ERROR                   # already created
    for p in _pools:
        if p._memory is pool_memory:
            return NX_PTR_ERROR               # memory already holds another pool
    try:
        mv = memoryview(pool_memory)
        if len(mv) > 0:
            mv[0] = mv[0]                     # must be writable
    except (TypeError, ValueError, AttributeError):
        return NX_PTR_ERROR
    if not isinstance(payload_size, int) or not isinstance(pool_size, int):
        return NX_SIZE_ERROR
    if payload_size <= 0 or pool_size <= NX_PACKET_ALIGNMENT:
        return NX_SIZE_ERROR
    if pool_size > len(mv):
        return NX_SIZE_ERROR                  # caller claims more memory than it gave
    payload = (payload_size + NX_PACKET_ALIGNMENT - 1) & ~(NX_PACKET_ALIGNMENT - 1)
    stride = NX_PACKET.SIZE + payload
    count = pool_size // stride
    if count == 0:
        return NX_SIZE_ERROR
    packets = []
    free = None
    # Build the free list back to front so the first packet is allocated first.
    for i in range(count - 1, -1, -1):
        start = i * stride + NX_PACKET.SIZE
        pkt = NX_PACKET(pool, mv[start:start + payload])
        pkt.nx_packet_queue_next = free
        free = pkt
        packets.append(pkt)
    pool.nx_packet_pool_name = name
    pool.nx_packet_pool_payload_size = payload
    pool.nx_packet_pool_total = count
    pool.nx_packet_pool_available = count
    pool.nx_packet_pool_empty_requests = 0
    pool.nx_packet_pool_empty_suspensions = 0
    pool.nx_packet_pool_invalid_releases = 0
    pool._free = free
    pool._memory = pool_memory
    pool._packets = packets
    pool.nx_packet_pool_id = _POOL_ID
    _pools.append(pool)
    return NX_SUCCESS


def nx_packet_pool_delete(pool):
    """Delete a pool. Packets still out become unreleasable (NX_PTR_ERROR), as in NetX."""
    if not _created_pool(pool):
        return NX_PTR_ERROR
    pool.nx_packet_pool_id = 0
    pool._free = None
    pool.nx_packet_pool_available = 0
    if pool in _pools:
        _pools.remove(pool)
    return NX_SUCCESS


def _take(pool, prepend):
    """Pop a packet off the pool's free list (None when empty); no allocation."""
    _lock.acquire()
    try:
        pkt = pool._free
        if pkt is not None and pool.nx_packet_pool_id == _POOL_ID:
            pool._free = pkt.nx_packet_queue_next
            pool.nx_packet_pool_available -= 1
        else:
            pkt = None
    finally:
        _lock.release()
    if pkt is None:
        return None
    pkt.nx_packet_queue_next = None
    pkt.nx_packet_prepend_ptr = prepend
    pkt.nx_packet_append_ptr = prepend
    pkt.nx_packet_length = 0
    pkt.nx_packet_ip_version = NX_IP_VERSION_V4
    pkt._addr = None
    pkt._allocated = True
    return pkt


def _give(pkt):
    """Push an allocated packet back on its pool's free list. A packet that held
    decrypted data (_wipe set by the DTLS receive path) is cleared first, so no later
    user of the packet, and no parser handed too long a view, can see that plaintext."""
    w = pkt._wipe
    if w:
        z = _ZERO[0]
        if w <= len(z):
            pkt._buf[:w] = z[:w]          # _clear's usual case, inline (per record)
        else:
            _clear(pkt._buf, w)
        pkt._wipe = 0
    pool = pkt.nx_packet_pool_owner
    # No try/finally: these stores cannot raise, and without a jump the VM raises no
    # pending exception (KeyboardInterrupt) between them; the frame stays on the C
    # stack (a try block's 5 words would put it on the heap, per packet).
    _lock.acquire()
    pkt._allocated = False
    pkt._addr = None
    pkt.nx_packet_queue_next = pool._free
    pool._free = pkt
    pool.nx_packet_pool_available += 1
    _lock.release()


_ZERO64 = bytes(64)
_ZERO = [memoryview(_ZERO64)]    # CPython grows it to the largest packet cleared
_GROW_ZERO = _port.sys_name != "micropython"


def _clear(buf, n):
    """buf[:n] = 0, as one copy from a zero buffer. A board keeps 64 bytes of zeros
    (whole 64-byte blocks allocate nothing, the tail one view); CPython grows the zero
    buffer once to the largest packet cleared."""
    z = _ZERO[0]
    if n > len(z):
        if _GROW_ZERO:
            _ZERO[0] = z = memoryview(bytes(n))
        else:
            i = 0
            while n - i > 64:
                buf[i:i + 64] = _ZERO64
                i += 64
            buf[i:n] = z[:n - i]
            return
    buf[:n] = z[:n]


def nx_packet_allocate(pool, packet_type, wait_option):
    """-> (status, packet). packet_type is the header room reserved in front of the
    data (NX_UDP_PACKET, NX_IPv4_UDP_PACKET, ..., or 0). Waiting pumps the stack;
    NX_NO_PACKET when the pool stays empty for the whole wait."""
    pkt = _allocate(pool, packet_type, wait_option)
    if type(pkt) is int:
        return pkt, None
    return NX_SUCCESS, pkt


def _allocate(pool, packet_type, wait_option):
    """nx_packet_allocate without the result tuple: the packet, or the NetX code."""
    if not _created_pool(pool):
        return NX_PTR_ERROR
    if not isinstance(packet_type, int) or packet_type < 0 or packet_type % NX_PACKET_ALIGNMENT:
        return NX_OPTION_ERROR
    if packet_type > pool.nx_packet_pool_payload_size:
        return NX_INVALID_PARAMETERS
    pkt = _take(pool, packet_type)
    if pkt is not None:
        return pkt
    pool.nx_packet_pool_empty_requests += 1
    if wait_option:
        pool.nx_packet_pool_empty_suspensions += 1
        while _wait(lambda: pool._free is not None or pool.nx_packet_pool_id != _POOL_ID,
                    wait_option):
            if pool.nx_packet_pool_id != _POOL_ID:
                return NX_PTR_ERROR
            pkt = _take(pool, packet_type)
            if pkt is not None:
                return pkt
            # another thread won the race: wait again (the deadline restarts; rare)
    return NX_NO_PACKET


def _check_packet(packet):
    """NetX's packet integrity checks; NX_SUCCESS or the error code."""
    if packet is None or not isinstance(packet, NX_PACKET):
        return NX_PTR_ERROR
    if not _created_pool(packet.nx_packet_pool_owner):
        return NX_PTR_ERROR
    if packet.nx_packet_prepend_ptr < 0:
        return NX_UNDERFLOW
    if packet.nx_packet_append_ptr > len(packet._buf):
        return NX_OVERFLOW
    return NX_SUCCESS


def nx_packet_release(packet):
    """Return a packet to its pool. Releasing a packet that is not allocated (a
    double release) returns NX_PTR_ERROR and counts an invalid release, as NetX."""
    status = _check_packet(packet)
    if status != NX_SUCCESS:
        return status
    if not packet._allocated:
        packet.nx_packet_pool_owner.nx_packet_pool_invalid_releases += 1
        return NX_PTR_ERROR
    _give(packet)
    return NX_SUCCESS


def nx_packet_data_append(packet, data, length, pool, wait_option):
    """Copy data[:length] to the end of the packet. Chaining is disabled, so data
    that does not fit the packet's remaining payload gives NX_SIZE_ERROR (pool and
    wait_option are checked and otherwise unused)."""
    if not _created_pool(pool) or packet is None or data is None:
        return NX_PTR_ERROR
    if not isinstance(length, int) or length <= 0:
        return NX_SIZE_ERROR
    status = _check_packet(packet)
    if status != NX_SUCCESS:
        return status
    if not packet._allocated:
        return NX_PTR_ERROR
    try:
        n = len(data)
    except TypeError:
        return NX_PTR_ERROR
    if length > n:
        return NX_INVALID_PARAMETERS          # caller's buffer shorter than length
    start = packet.nx_packet_append_ptr
    if length > len(packet._buf) - start:
        return NX_SIZE_ERROR
    try:
        if length == n:
            packet._buf[start:start + length] = data
        else:
            packet._buf[start:start + length] = memoryview(data)[:length]
    except (TypeError, ValueError):
        return NX_PTR_ERROR
    packet.nx_packet_append_ptr = start + length
    packet.nx_packet_length += length
    return NX_SUCCESS


def nx_packet_data_extract_offset(packet, offset, buffer, buffer_length):
    """-> (status, bytes_copied). Copies up to buffer_length bytes of the packet's
    data starting at offset into buffer (a caller bytearray, written in place). A
    short buffer_length copies fewer bytes (NetX); buffer_length larger than the
    buffer itself is NX_INVALID_PARAMETERS; offset beyond the data is
    NX_PACKET_OFFSET_ERROR (offset 0 of an empty packet copies 0 bytes)."""
    if packet is None or buffer is None or not isinstance(packet, NX_PACKET):
        return NX_PTR_ERROR, 0
    try:
        blen = len(buffer)
    except TypeError:
        return NX_PTR_ERROR, 0
    if not isinstance(buffer_length, int) or buffer_length < 0 or buffer_length > blen:
        return NX_INVALID_PARAMETERS, 0
    if not isinstance(offset, int) or offset < 0:
        return NX_PACKET_OFFSET_ERROR, 0
    length = packet.nx_packet_length
    if offset >= length:
        if offset == 0:
            return NX_SUCCESS, 0
        return NX_PACKET_OFFSET_ERROR, 0
    n = length - offset
    if n > buffer_length:
        n = buffer_length
    src = packet.nx_packet_prepend_ptr + offset
    try:
        if n == blen or type(buffer) is bytearray:     # in place: no view of buffer made
            buffer[:n] = packet._buf[src:src + n]
        else:
            memoryview(buffer)[:n] = packet._buf[src:src + n]
    except (TypeError, ValueError):
        return NX_PTR_ERROR, 0
    return NX_SUCCESS, n


def nx_packet_length_get(packet):
    """-> (status, length)."""
    if packet is None or not isinstance(packet, NX_PACKET) or \
            not _created_pool(packet.nx_packet_pool_owner):
        return NX_PTR_ERROR, 0
    return NX_SUCCESS, packet.nx_packet_length


# =============================================================================
# IP instances
# =============================================================================
class NX_IP:
    """An IP instance: its addresses (one IPv4, one IPv6 at most), default packet
    pool, UDP sockets and counters."""
    SIZE = 256

    def __init__(self):
        self.nx_ip_id = 0
        self.nx_ip_name = None
        self._v4 = None          # IPv4 address ULONG (0 = any) or None
        self._v6 = None          # IPv6 address as 4 ULONGs or None
        self.nx_ip_network_mask = 0
        self.nx_ip_default_packet_pool = None
        self._status = 0
        self._sockets = []       # created NX_UDP_SOCKETs
        self._scratch = None     # discard buffer when the pool is empty
        self.nx_ip_receive_packets_dropped = 0
        self.nx_ip_udp_packets_sent = 0
        self.nx_ip_udp_packets_received = 0
        self.nx_ip_udp_receive_packets_dropped = 0
        self.nx_ip_udp_invalid_packets = 0
        self.nx_ip_callback_errors = 0     # nxsecure: exceptions raised by callbacks


_ips = []


def _created_ip(ip):
    return ip is not None and getattr(ip, 'nx_ip_id', 0) == _IP_ID


def nx_ip_create(ip, name, ip_address, network_mask, default_pool, driver=None,
                 memory_ptr=None, memory_size=0, priority=0):
    """Create an IP instance. ip_address: an IP_ADDRESS int (IPv4; 0 = any local
    address), an NXD_ADDRESS, or a string ('127.0.0.1', '::1', '::'). A second
    family can be added with nxd_ipv6_address_set. driver, memory_ptr, memory_size
    and priority are accepted for source compatibility and ignored: the port is
    the driver and there is no IP thread."""
    if ip is None or not isinstance(ip, NX_IP) or not _created_pool(default_pool):
        return NX_PTR_ERROR
    if ip.nx_ip_id == _IP_ID:
        return NX_PTR_ERROR
    tmp = NXD_ADDRESS()
    if not _nxd_set(tmp, ip_address):
        return NX_IP_ADDRESS_ERROR
    ip._v4 = None
    ip._v6 = None
    if tmp.nxd_ip_version == NX_IP_VERSION_V4:
        ip._v4 = tmp.nxd_ip_address.v4
    else:
        ip._v6 = tmp.nxd_ip_address.v6
    ip.nx_ip_name = name
    ip.nx_ip_network_mask = network_mask
    ip.nx_ip_default_packet_pool = default_pool
    ip._sockets = []
    ip._scratch = memoryview(bytearray(16))
    ip._status = NX_IP_INITIALIZE_DONE | NX_IP_ADDRESS_RESOLVED | NX_IP_LINK_ENABLED
    ip.nx_ip_id = _IP_ID
    _ips.append(ip)
    return NX_SUCCESS


def nx_ip_delete(ip):
    """Delete an IP instance; NX_SOCKETS_BOUND while it still has UDP sockets."""
    if not _created_ip(ip):
        return NX_PTR_ERROR
    if ip._sockets:
        return NX_SOCKETS_BOUND
    ip.nx_ip_id = 0
    if ip in _ips:
        _ips.remove(ip)
    return NX_SUCCESS


def nx_udp_enable(ip):
    """Enable UDP on the IP instance (required before nx_udp_socket_create)."""
    if not _created_ip(ip):
        return NX_PTR_ERROR
    if ip._status & NX_IP_UDP_ENABLED:
        return NX_ALREADY_ENABLED
    ip._status |= NX_IP_UDP_ENABLED
    return NX_SUCCESS


def nx_arp_enable(ip, arp_cache_memory, arp_cache_size):
    """Accepted for source compatibility (the OS resolves addresses): NX_SUCCESS,
    NX_PTR_ERROR for missing arguments, NX_ALREADY_ENABLED the second time."""
    if not _created_ip(ip) or arp_cache_memory is None:
        return NX_PTR_ERROR
    if ip._status & NX_IP_ARP_ENABLED:
        return NX_ALREADY_ENABLED
    ip._status |= NX_IP_ARP_ENABLED
    return NX_SUCCESS


def nx_ip_fragment_enable(ip):
    """Accepted for source compatibility (the OS fragments): NX_SUCCESS."""
    return NX_SUCCESS if _created_ip(ip) else NX_PTR_ERROR


# =============================================================================
# UDP sockets
# =============================================================================
class NX_UDP_SOCKET:
    """A UDP socket control block. Bound, it owns one port handle per address
    family of its IP instance. `_dtls_receive`, when set by the DTLS layer, takes
    every datagram as fn(packet, addr, now) (now: the pump pass's ticks_ms clock)
    instead of the receive queue."""
    SIZE = 128

    def __init__(self):
        self.nx_udp_socket_id = 0
        self.nx_udp_socket_name = None
        self.nx_udp_socket_ip_ptr = None
        self.nx_udp_socket_port = 0
        self.nx_udp_socket_type_of_service = 0
        self.nx_udp_socket_fragment_enable = 0
        self.nx_udp_socket_time_to_live = 0
        self.nx_udp_socket_queue_maximum = 0
        self.nx_udp_socket_receive_count = 0
        self.nx_udp_socket_packets_sent = 0
        self.nx_udp_socket_bytes_sent = 0
        self.nx_udp_socket_packets_received = 0
        self.nx_udp_socket_bytes_received = 0
        self.nx_udp_socket_packets_dropped = 0
        self.nx_udp_socket_send_errors = 0     # nxsecure: OS send failures
        self._head = None                      # receive queue (nx_packet_queue_next)
        self._tail = None
        self._h4 = None
        self._h6 = None
        self._dtls_receive = None
        self._receive_notify = None


def _created_socket(sock):
    return sock is not None and getattr(sock, 'nx_udp_socket_id', 0) == _UDP_ID


def _socket_checks(sock):
    if not _created_socket(sock):
        return NX_PTR_ERROR
    if not (sock.nx_udp_socket_ip_ptr._status & NX_IP_UDP_ENABLED):
        return NX_NOT_ENABLED
    return NX_SUCCESS


def nx_udp_socket_create(ip, socket, name, type_of_service, fragment, time_to_live,
                         queue_maximum):
    """Create a UDP socket on ip. queue_maximum bounds the receive queue: beyond it
    the oldest queued datagram is dropped (NetX)."""
    if not _created_ip(ip) or socket is None or not isinstance(socket, NX_UDP_SOCKET):
        return NX_PTR_ERROR
    if socket.nx_udp_socket_id == _UDP_ID:
        return NX_PTR_ERROR
    if not (ip._status & NX_IP_UDP_ENABLED):
        return NX_NOT_ENABLED
    if not isinstance(type_of_service, int) or type_of_service & ~NX_IP_TOS_MASK:
        return NX_OPTION_ERROR
    if fragment != NX_FRAGMENT_OKAY and fragment != NX_DONT_FRAGMENT:
        return NX_OPTION_ERROR
    if not isinstance(time_to_live, int) or time_to_live < 0 or \
            time_to_live > NX_IP_TIME_TO_LIVE_MASK:
        return NX_OPTION_ERROR
    if not isinstance(queue_maximum, int) or queue_maximum < 0:
        return NX_OPTION_ERROR
    NX_UDP_SOCKET.__init__(socket)
    socket.nx_udp_socket_name = name
    socket.nx_udp_socket_ip_ptr = ip
    socket.nx_udp_socket_type_of_service = type_of_service
    socket.nx_udp_socket_fragment_enable = fragment
    socket.nx_udp_socket_time_to_live = time_to_live
    socket.nx_udp_socket_queue_maximum = queue_maximum
    socket.nx_udp_socket_id = _UDP_ID
    ip._sockets.append(socket)
    return NX_SUCCESS


def _port_in_use(udp_port, me):
    for ip in _ips:
        for s in ip._sockets:
            if s is not me and s.nx_udp_socket_port == udp_port:
                return True
    return False


def _open(ip, family, udp_port):
    """Open a handle; -> (handle, status). Falls back to the wildcard address when
    the IP's address is not one of this host's (ported code names board addresses)."""
    if family == 4:
        host = _v4_str(ip._v4) if ip._v4 else ''
    else:
        host = ip._v6
        host = _ext()._v6_str(host) if (host[0] | host[1] | host[2] | host[3]) else ''
    while True:
        try:
            return _port.udp_open(family, host, udp_port), NX_SUCCESS
        except OSError as e:
            if e.args and e.args[0] == _port.EADDRINUSE:
                return None, NX_PORT_UNAVAILABLE
        except Exception:
            return None, NX_NOT_SUCCESSFUL
        if not host:
            return None, NX_NOT_SUCCESSFUL
        host = ''                         # then the wildcard address


def _try_bind(sock, udp_port):
    """Open the OS-level handles for every family of the socket's IP; -> status."""
    ip = sock.nx_udp_socket_ip_ptr
    families = []
    if ip._v4 is not None:
        families.append(4)
    if ip._v6 is not None:
        families.append(6)
    attempts = 16 if udp_port == NX_ANY_PORT else 1
    status = NX_NOT_SUCCESSFUL
    for _ in range(attempts):
        handles = []
        want = udp_port
        status = NX_SUCCESS
        for fam in families:
            h, status = _open(ip, fam, want)
            if h is None:
                break
            handles.append(h)
            if want == NX_ANY_PORT:
                want = h.local_port()
                if _port_in_use(want, sock):
                    status = NX_PORT_UNAVAILABLE
                    break
        if status == NX_SUCCESS:
            for h in handles:
                h.owner = sock
                if h.family == 4:
                    sock._h4 = h
                else:
                    sock._h6 = h
                _handles.append(h)
                if _on_handle[0] is not None:
                    _on_handle[0](h, True)
            sock.nx_udp_socket_port = want
            return NX_SUCCESS
        for h in handles:
            h.close()
        if status != NX_PORT_UNAVAILABLE:
            return status
    if udp_port == NX_ANY_PORT:
        return NX_NO_FREE_PORTS
    return status


def nx_udp_socket_bind(socket, port, wait_option):
    """Bind to port (NX_ANY_PORT: a free one). NX_ALREADY_BOUND if this socket is
    bound; if another socket holds the port, wait for it to be released and then
    NX_PORT_UNAVAILABLE (NetX)."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status
    if not isinstance(port, int) or port < 0 or port > NX_MAX_PORT:
        return NX_INVALID_PORT
    if socket.nx_udp_socket_port:
        return NX_ALREADY_BOUND
    result = [NX_PORT_UNAVAILABLE]

    def bound():
        if port != NX_ANY_PORT and _port_in_use(port, socket):
            return False
        st = _try_bind(socket, port)
        result[0] = st
        return st != NX_PORT_UNAVAILABLE

    if not bound():                       # a free port binds without a wait's pass
        _wait(bound, wait_option)
    return result[0]


def _release_queue(sock):
    pkt = sock._head
    sock._head = sock._tail = None
    sock.nx_udp_socket_receive_count = 0
    while pkt is not None:
        nxt = pkt.nx_packet_queue_next
        pkt.nx_packet_queue_next = None
        if pkt._allocated and _created_pool(pkt.nx_packet_pool_owner):
            _give(pkt)
        pkt = nxt


def nx_udp_socket_unbind(socket):
    """Unbind: close the port handles and release queued datagrams."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status
    if not socket.nx_udp_socket_port:
        return NX_NOT_BOUND
    _lock.acquire()
    try:
        for h in (socket._h4, socket._h6):
            if h is not None:
                h.owner = None
                if h in _handles:
                    _handles.remove(h)
                    if _on_handle[0] is not None:
                        _on_handle[0](h, False)
                h.close()
        socket._h4 = socket._h6 = None
        socket.nx_udp_socket_port = 0
        _release_queue(socket)
    finally:
        _lock.release()
    return NX_SUCCESS


def nx_udp_socket_delete(socket):
    """Delete an unbound socket (NX_STILL_BOUND otherwise)."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status
    if socket.nx_udp_socket_port:
        return NX_STILL_BOUND
    ip = socket.nx_udp_socket_ip_ptr
    if socket in ip._sockets:
        ip._sockets.remove(socket)
    socket.nx_udp_socket_id = 0
    return NX_SUCCESS


def nx_udp_socket_port_get(socket):
    """-> (status, port) of a bound socket."""
    status = _socket_checks(socket)
    if status != NX_SUCCESS:
        return status, 0
    if not socket.nx_udp_socket_port:
        return NX_NOT_BOUND, 0
    return NX_SUCCESS, socket.nx_udp_socket_port


def _udp_send(socket, mv, addr):
    """Send mv to the port-level address addr. -> NX_SUCCESS, NX_NOT_BOUND,
    NX_IP_ADDRESS_ERROR (no socket for addr's family) or NX_NOT_SUCCESSFUL (OS
    error). Never raises."""
    if not socket.nx_udp_socket_port:
        return NX_NOT_BOUND
    h = socket._h6 if len(addr) == 4 else socket._h4
    if h is None:
        return NX_IP_ADDRESS_ERROR
    # bytes sent (h: one local less); a handle whose sendto may raise has it caught in a
    # frame of its own: here the try block would take this frame past the 11 words
    # MicroPython keeps on the C stack, to a heap block allocated at every send
    h = _sendto(h.sendto, mv, addr) if getattr(h, "raises", True) else h.sendto(mv, addr)
    if h is None or h < 0:
        socket.nx_udp_socket_send_errors += 1
        return NX_NOT_SUCCESSFUL
    socket.nx_udp_socket_packets_sent += 1
    socket.nx_udp_socket_bytes_sent += h
    socket.nx_udp_socket_ip_ptr.nx_ip_udp_packets_sent += 1
    return NX_SUCCESS


def _sendto(send, mv, addr):
    try:
        return send(mv, addr)
    except Exception:
        return -1


def _udp_connect(socket, addr):
    """Connect the socket's port handle for addr's family to addr where the port can
    (CPython's handle.connect: the OS then reports an ICMP port unreachable from addr
    to socket._dtls_error(errno)); elsewhere nothing happens."""
    connect = getattr(socket._h6 if len(addr) == 4 else socket._h4, "connect", None)
    if connect is not None:     # (no try block, and its heap frame, where nothing connects)
        _connect(connect, addr)


def _connect(connect, addr):
    try:
        connect(addr)
    except Exception:
        pass


# =============================================================================
# The pump: datagrams and timers, run by whoever waits
# =============================================================================
class _RLock:
    """Re-entrant lock from the port's plain lock (MicroPython's is not re-entrant).
    release_all()/restore() let a nested waiter drop it entirely while it blocks."""

    def __init__(self):
        self._lock = _port.allocate_lock()
        self._owner = None
        self._count = 0

    def acquire(self):
        me = _port.get_ident()
        if self._owner == me:
            self._count += 1
            return
        self._lock.acquire()
        self._owner = me
        self._count = 1

    def release(self):
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._lock.release()

    def release_all(self):
        if self._count == 0 or self._owner != _port.get_ident():
            return 0
        n = self._count
        self._count = 0
        self._owner = None
        self._lock.release()
        return n

    def restore(self, n):
        if n:
            self._lock.acquire()
            self._owner = _port.get_ident()
            self._count = n


try:
    from _thread import RLock as _C_RLOCK
    _C_RLOCK()._release_save
except (ImportError, AttributeError):      # MicroPython: no C re-entrant lock
    _C_RLOCK = None

if _C_RLOCK is None:
    _lock = _RLock()
else:                                      # (a board makes no class it does not use)
    class _CRLock:
        """CPython: the same interface over the interpreter's C re-entrant lock (the
        Python-level _RLock costs ~1 us per acquire/release pair on the per-record path)."""

        def __init__(self, rlock, get_ident):
            self._rl = rlock
            self.acquire = rlock.acquire
            self.release = rlock.release
            self.owner = get_ident

        def release_all(self):
            rl = self._rl
            if not rl._is_owned():
                return None
            return rl._release_save()

        def restore(self, n):
            if n:
                self._rl._acquire_restore(n)

    _lock = _CRLock(_C_RLOCK(), _port.get_ident)


def serialized(fn):
    """A DTLS service that runs holding the stack lock, as the pump does while it
    processes datagrams and timers: calls from several application threads and the
    IP thread never interleave inside a session (its record numbers, nonce and
    additional-data scratch, receive queue and handshake state). Re-entrant, so a
    callback run by the pump may call any service; a service that waits drops the
    lock while it blocks (_wait). Arguments are positional, as NetX's C services take
    them: a **kwargs would make MicroPython allocate a dict at every call, and on a board
    every allocation of more than one 16-byte block walks the heap from its lowest free
    block (the allocator's first fit), hundreds of us where the heap is fragmented."""
    def service(*args):
        # (the module's _lock, not a closure cell: one slot less keeps this frame
        # within the 11 words MicroPython puts on the C stack instead of the heap)
        _lock.acquire()
        try:
            return fn(*args)
        finally:
            _lock.release()
    try:
        service.__name__ = fn.__name__
        service.__doc__ = fn.__doc__
        service.__wrapped__ = fn
    except AttributeError:                   # MicroPython functions take no attributes
        pass
    return service


_handles = []        # every bound port handle (handle.owner is its NX_UDP_SOCKET)
# An event loop that watches the port handles itself (nxsecure/evloop.py) sets
# _on_handle[0] = fn(handle, added): called when a bind adds a handle to _handles
# (added True) and when an unbind removes one, before it is closed (added False).
_on_handle = [None]


# --- timers ----------------------------------------------------------------------
# A timer object has `_due` (a ticks_ms deadline, or None when off) and
# `_timer_fire(now_ms)`. _timer_set arms, moves or stops it. Armed timers sit in a
# binary heap ordered by deadline (ticks_diff, so the order holds across the ticks
# wrap); a moved or stopped timer's old entry stays until it reaches the top and is
# dropped there. Each wait pass looks at the top only: the cost of a datagram does not
# grow with the number of armed timers, and connected sessions arm none.
_heap = []           # [due, obj] entries; stale when obj._due != due
_armed = [0]         # timers whose _due is not None


def _timer_set(obj, due):
    """Arm obj's timer at ticks value `due`, move it, or stop it (None)."""
    _lock.acquire()
    try:
        _timer_move(obj, due)             # (a frame small enough for the C stack)
    finally:
        _lock.release()


def _timer_move(obj, due):
    was = getattr(obj, "_due", None)
    if due != was:
        obj._due = due
        if was is None:
            _armed[0] += 1
        elif due is None:
            _armed[0] -= 1
        if due is not None:
            _heap_push([due, obj])
            if len(_heap) > 4 * _armed[0] + 32:
                _heap_compact()


def _timer_armed(obj):
    return getattr(obj, "_due", None) is not None


def _timer_count():
    """How many timers are armed."""
    return _armed[0]


def _heap_push(e):
    h = _heap
    h.append(e)
    i = len(h) - 1
    while i:
        p = (i - 1) >> 1
        if _port.ticks_diff(e[0], h[p][0]) >= 0:
            break
        h[i] = h[p]
        i = p
    h[i] = e


def _heap_pop():
    h = _heap
    top = h[0]
    last = h.pop()
    n = len(h)
    if n:
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and _port.ticks_diff(h[c + 1][0], h[c][0]) < 0:
                c += 1
            if _port.ticks_diff(h[c][0], last[0]) >= 0:
                break
            h[i] = h[c]
            i = c
        h[i] = last
    return top


def _heap_compact():
    live = []
    for e in _heap:
        if e[1]._due == e[0]:
            live.append(e)
    del _heap[:]
    for e in live:
        _heap_push(e)


def _fire_timers(now):
    """Fire the timers whose deadline has passed; -> milliseconds until the earliest
    deadline still ahead (0 if one is due), -1 if there is none. A timer fired here is
    not fired again in this call even if it re-arms at once."""
    h = _heap
    while h:
        e = h[0]
        if e[1]._due != e[0]:
            _heap_pop()                      # moved or stopped since it was pushed
            continue
        e = _port.ticks_diff(e[0], now)
        if e > 0:
            return e                         # the usual pass: nothing is due
        return _fire_due(now)
    return -1


def _fire_due(now):
    due = []
    h = _heap
    while h:
        e = h[0]
        obj = e[1]
        if obj._due != e[0]:
            _heap_pop()
            continue
        if _port.ticks_diff(e[0], now) > 0:
            break
        _heap_pop()
        obj._due = None
        _armed[0] -= 1
        due.append(obj)
    for obj in due:
        try:
            obj._timer_fire(now)
        except Exception as exc:
            global _last_timer_error
            _last_timer_error = exc
    return _next_left(now)


def _next_left(now):
    h = _heap
    while h and h[0][1]._due != h[0][0]:
        _heap_pop()
    if not h:
        return -1
    left = _port.ticks_diff(h[0][0], now)
    return left if left > 0 else 0


_last_timer_error = None


def _receive_one(h, now):
    """Take one queued datagram of a ready handle straight into a pool packet and
    hand it on with the pass's clock `now`; -> False when none was queued. A blocking
    wait reads one per ready handle per poll: polling is level-triggered, so what is
    left is seen by the next poll, and no read is spent finding the queue empty.
    Called holding _lock (the pump's pass): the datagram is read into the packet at
    the head of the pool's free list, which is taken only when one came."""
    sock = h.owner
    if sock is None:
        return False
    pool = sock.nx_udp_socket_ip_ptr.nx_ip_default_packet_pool
    pkt = pool._free
    if pkt is None or pool.nx_packet_pool_id != _POOL_ID:
        # pool empty: read the datagram into a scratch buffer and drop it
        if h.recvfrom_into(sock.nx_udp_socket_ip_ptr._scratch)[1] is None:
            return False
        sock.nx_udp_socket_ip_ptr.nx_ip_receive_packets_dropped += 1
        return True
    n, addr = h.recvfrom_into(pkt._buf)
    if addr is None:
        return False
    pool._free = pkt.nx_packet_queue_next           # _take's work, inline
    pool.nx_packet_pool_available -= 1
    pkt.nx_packet_queue_next = None
    pkt.nx_packet_prepend_ptr = 0
    pkt.nx_packet_append_ptr = n
    pkt.nx_packet_length = n
    pkt._addr = addr
    pkt._allocated = True
    sock.nx_udp_socket_packets_received += 1
    sock.nx_udp_socket_bytes_received += n
    # Hand the packet to the DTLS layer (with the pass's clock) or the socket's
    # receive queue; the callee owns it from here. (Here, not in a helper: a call
    # level more on this path costs the board's 8 KB C stack ~150 B that an ECDHE
    # client's key exchange, run from the callback, does not have.)
    ip = sock.nx_udp_socket_ip_ptr
    ip.nx_ip_udp_packets_received += 1
    pkt.nx_packet_ip_version = NX_IP_VERSION_V6 if len(addr) == 4 else NX_IP_VERSION_V4
    fn = sock._dtls_receive
    if fn is None:
        _ext()._enqueue(sock, pkt, ip)        # a plain UDP socket
        return True
    try:
        fn(pkt, addr, now)
    except Exception as e:
        ip.nx_ip_callback_errors += 1
        ip._last_callback_error = e
    return True


_pumping = [None]     # the thread whose wait is processing datagrams and timers


def _wait(condition, wait_option):
    """Pump datagrams and timers of all IP instances until condition() is true
    (-> True) or wait_option ticks have passed (-> False). NX_NO_WAIT pumps what
    is queued now; NX_WAIT_FOREVER never expires. The stack lock is held while
    processing and fully dropped while blocked in _port.poll, so other threads make
    progress.

    A wait entered from inside the pump -- a service called by a notify callback or a
    timer, on the thread that runs them -- does not pump again: it reports whether
    its condition already holds and returns at once, as NX_NO_WAIT without the pass.
    Pumping from there would nest one pump per concurrent event (a crowd of
    handshakes overflows a board's C stack) and stall the pump that called it."""
    if _pumping[0] is not None and _pumping[0] == _port.get_ident():
        return bool(condition())
    if not isinstance(wait_option, int):
        wait_option = NX_NO_WAIT          # a bad wait option must not raise in a service
    forever = wait_option == NX_WAIT_FOREVER
    wait_ms = 0 if forever else wait_option * _TICK_MS
    if wait_ms:
        start = _port.ticks_ms()
    ready = ()
    take = 1                              # datagrams read per ready handle this pass
    _lock.acquire()
    outer = _pumping[0]
    _pumping[0] = _port.get_ident()
    try:
        while True:
            # the clock is read once per pass, and only when something needs it: a
            # datagram, or a timer (none is armed while every session is connected)
            now = _port.ticks_ms() if ready or _heap else 0
            for h in ready:
                n = take
                while _receive_one(h, now):
                    n -= 1
                    if n <= 0:
                        break
            nxt = _fire_timers(now) if _heap else -1
            if condition():
                return True
            if take > 1:
                return False              # the last pass of an expired wait is done
            if forever:
                timeout = _POLL_CAP_MS
            else:
                timeout = wait_ms - _port.ticks_diff(_port.ticks_ms(), start) if wait_ms else 0
                if timeout <= 0:
                    # The wait is over (at once for NX_NO_WAIT): one last pass takes in
                    # what is queued now, several datagrams per socket (a whole flight).
                    take = _DRAIN_MAX
                    timeout = 0
                elif timeout > _POLL_CAP_MS:
                    timeout = _POLL_CAP_MS
            if 0 <= nxt < timeout:
                timeout = nxt
            if not timeout:
                ready = _port.poll(_handles, 0) if _handles else ()
                continue                  # the lock stays held: nothing blocks
            # blocking: the lock (a service's too) is dropped, so other threads make
            # progress, and this thread is no longer the pump meanwhile
            _pumping[0] = outer
            held = _lock.release_all()
            try:
                if _handles:
                    ready = _port.poll(_handles, timeout)
                else:
                    ready = ()
                    _port.sleep_ms(timeout)
            finally:
                _lock.restore(held)
                outer = _pumping[0]
                _pumping[0] = _port.get_ident()
    finally:
        _pumping[0] = outer
        _lock.release()


def _never():
    return False


def tx_thread_sleep(timer_ticks):
    """ThreadX sleep: pumps the stack (datagrams, timers) for timer_ticks ticks."""
    if not isinstance(timer_ticks, int) or timer_ticks < 0:
        return NX_OPTION_ERROR
    _wait(_never, timer_ticks)
    return NX_SUCCESS



