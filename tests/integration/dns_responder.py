"""A scriptable DNS responder on loopback UDP, for tests/integration/test_dns.py.

Per name (compared lowercased, without a trailing dot, since sluice sends
its queries in random case, "0x20"):

* A and AAAA record lists, each address with its own TTL;
* an rcode: NOERROR (with no record of the asked type: NODATA), NXDOMAIN,
  SERVFAIL, ...;
* silence (the query is received and counted, never answered);
* a delay before the answer.

rcode, silence and delay may be given for all types or per type
({"AAAA": True}).  Names never configured get `default_rcode` (NXDOMAIN).

Every query is counted per (lowercased name, type name) and logged with
the name exactly as it was sent.  The responder thread is bounded: it ends
at close() (fixture teardown), after `max_queries` queries, or after
`lifetime` seconds, whichever comes first; delayed answers wait in a heap
served by the same thread, never in threads of their own.
"""

import collections
import heapq
import ipaddress
import select
import socket
import struct
import threading
import time

NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5

QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX",
          16: "TXT", 28: "AAAA", 33: "SRV", 41: "OPT", 65: "HTTPS", 255: "ANY"}
TYPE_CODE = {v: k for k, v in QTYPES.items()}


def norm(name):
    return name.lower().rstrip(".")


def type_name(code):
    return QTYPES.get(code, f"TYPE{code}")


class Query:
    """One query as received."""

    def __init__(self, t, name, qtype, qid, peer):
        self.time = t
        self.name = name          # exactly as sent (case kept)
        self.qtype = qtype        # "A", "AAAA", ...
        self.id = qid
        self.peer = peer

    @property
    def key(self):
        return (norm(self.name), self.qtype)

    def __repr__(self):
        return f"Query({self.name!r} {self.qtype} id={self.id:#06x} t={self.time:.3f})"


class Entry:
    """What the responder says about one name."""

    def __init__(self, a=(), aaaa=(), ttl=300, rcode=NOERROR, silent=False,
                 delay=0.0):
        self.records = {
            "A": [self._rec(x, ttl, socket.AF_INET) for x in a],
            "AAAA": [self._rec(x, ttl, socket.AF_INET6) for x in aaaa],
        }
        self.rcode = rcode
        self.silent = silent
        self.delay = delay

    @staticmethod
    def _rec(x, ttl, family):
        if isinstance(x, (tuple, list)):
            addr, t = x
        else:
            addr, t = x, ttl
        ip = ipaddress.ip_address(addr)
        want = 4 if family == socket.AF_INET else 6
        assert ip.version == want, f"{addr} in the wrong record type"
        return (ip.packed, int(t))

    @staticmethod
    def _per_type(value, qtype, default):
        if isinstance(value, dict):
            return value.get(qtype, default)
        return value

    def rcode_for(self, qtype):
        return self._per_type(self.rcode, qtype, NOERROR)

    def silent_for(self, qtype):
        return bool(self._per_type(self.silent, qtype, False))

    def delay_for(self, qtype):
        return float(self._per_type(self.delay, qtype, 0.0))


class DnsResponder:
    """UDP DNS server on (host, 0).  Use .addr for sluice's `dns` directive."""

    def __init__(self, host="127.0.0.1", default_rcode=NXDOMAIN,
                 max_queries=100_000, lifetime=600.0):
        self.host = host
        self.default_rcode = default_rcode
        self.max_queries = max_queries
        self.lifetime = lifetime
        self.sock = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.entries = {}
        self.log = []                              # [Query], arrival order
        self.counts = collections.Counter()        # (name, type) -> n
        self.errors = []                           # unparsable datagrams
        self.cond = threading.Condition()
        self._pending = []                         # heap: (due, seq, packet, peer)
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"dns-responder-{self.port}")
        self._thread.start()

    # -- configuration ------------------------------------------------------

    @property
    def addr(self):
        """The value of sluice's `dns` directive."""
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"

    def add(self, name, a=(), aaaa=(), ttl=300, rcode=NOERROR, silent=False,
            delay=0.0):
        """Configure `name` (replaces what it had).

        a, aaaa: addresses, each "1.2.3.4" (with `ttl`) or ("1.2.3.4", ttl).
        rcode, silent, delay: one value for every type, or {"A": v, ...}."""
        e = Entry(a, aaaa, ttl, rcode, silent, delay)
        with self.cond:
            self.entries[norm(name)] = e
        return e

    def nxdomain(self, name):
        return self.add(name, rcode=NXDOMAIN)

    def nodata(self, name):
        """The name exists with neither A nor AAAA."""
        return self.add(name)

    def servfail(self, name):
        return self.add(name, rcode=SERVFAIL)

    def silence(self, name):
        return self.add(name, silent=True)

    # -- observation --------------------------------------------------------

    def count(self, name, qtype=None):
        """Queries seen for name (any case), of qtype or of every type."""
        n = norm(name)
        with self.cond:
            if qtype is not None:
                return self.counts[(n, qtype)]
            return sum(v for (k, _), v in self.counts.items() if k == n)

    def counts_for(self, name):
        """{"A": n, "AAAA": m} for name."""
        n = norm(name)
        with self.cond:
            return {"A": self.counts[(n, "A")], "AAAA": self.counts[(n, "AAAA")]}

    def queries(self, name=None):
        with self.cond:
            if name is None:
                return list(self.log)
            n = norm(name)
            return [q for q in self.log if norm(q.name) == n]

    def wait_count(self, name, qtype, n, timeout):
        """Wait until at least n queries of qtype for name; returns the count.

        Raises AssertionError at timeout."""
        key = (norm(name), qtype)
        deadline = time.monotonic() + timeout
        with self.cond:
            for _ in range(100_000):
                if self.counts[key] >= n:
                    return self.counts[key]
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            raise AssertionError(
                f"DNS responder saw {self.counts[key]} {qtype} queries for "
                f"{name}, expected {n} within {timeout}s; log: {self.log[-20:]!r}")

    # -- the server ---------------------------------------------------------

    def _run(self):
        end = time.monotonic() + self.lifetime
        seen = 0
        for _ in range(100_000_000):
            if self._stop.is_set() or seen >= self.max_queries:
                return
            now = time.monotonic()
            if now >= end:
                return
            wait = 0.05
            if self._pending:
                wait = max(0.0, min(wait, self._pending[0][0] - now))
            try:
                readable, _, _ = select.select([self.sock], [], [], wait)
            except (OSError, ValueError):
                return
            if readable:
                for _ in range(256):
                    try:
                        data, peer = self.sock.recvfrom(4096)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    seen += 1
                    self._handle(data, peer)
            now = time.monotonic()
            for _ in range(len(self._pending)):
                if not self._pending or self._pending[0][0] > now:
                    break
                _, _, pkt, peer = heapq.heappop(self._pending)
                self._send(pkt, peer)

    def _send(self, pkt, peer):
        try:
            self.sock.sendto(pkt, peer)
        except OSError:
            pass

    def _handle(self, q, peer):
        parsed = parse_query(q)
        if parsed is None:
            with self.cond:
                self.errors.append(bytes(q[:64]))
            return
        qid, flags, name, qtype_code, qend = parsed
        qtype = type_name(qtype_code)
        query = Query(time.monotonic(), name, qtype, qid, peer)
        with self.cond:
            self.log.append(query)
            self.counts[query.key] += 1
            entry = self.entries.get(norm(name))
            self.cond.notify_all()
        if entry is None:
            rcode, records, delay = self.default_rcode, [], 0.0
        else:
            if entry.silent_for(qtype):
                return
            rcode = entry.rcode_for(qtype)
            records = entry.records.get(qtype, []) if rcode == NOERROR else []
            delay = entry.delay_for(qtype)
        pkt = build_answer(q, qid, flags, qtype_code, qend, rcode, records)
        if delay > 0:
            self._seq += 1
            heapq.heappush(self._pending,
                           (time.monotonic() + delay, self._seq, pkt, peer))
        else:
            self._send(pkt, peer)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        try:
            self.sock.close()
        except OSError:
            pass


def parse_query(q):
    """(id, flags, name, qtype, end of question) or None if not a query we
    can answer (a response, no question, a compressed or truncated name)."""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if flags & 0x8000 or qd != 1:
        return None
    i = 12
    labels = []
    for _ in range(128):
        if i >= len(q):
            return None
        n = q[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    else:
        return None
    if i + 4 > len(q):
        return None
    qtype, _qclass = struct.unpack("!HH", q[i:i + 4])
    return qid, flags, ".".join(labels), qtype, i + 4


def build_answer(q, qid, qflags, qtype, qend, rcode, records):
    """The response: the question echoed byte for byte (so its 0x20 case is
    kept), then one record per (packed address, ttl), named by a pointer to
    the question."""
    opcode = qflags & 0x7800
    rd = qflags & 0x0100
    flags = 0x8000 | opcode | 0x0400 | rd | 0x0080 | (rcode & 0xF)
    out = bytearray(struct.pack("!HHHHHH", qid, flags, 1, len(records), 0, 0))
    out += q[12:qend]
    for packed, ttl in records:
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl & 0xFFFFFFFF, len(packed))
        out += packed
    return bytes(out)


def make_query(name, qtype="A", qid=0x1234):
    """A query packet (for the responder's self-test)."""
    out = bytearray(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0))
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    out += b"\x00" + struct.pack("!HH", TYPE_CODE[qtype], 1)
    return bytes(out)


def parse_answer(pkt):
    """(id, rcode, [(type, ttl, address str)]) of a response built above."""
    qid, flags, qd, an = struct.unpack("!HHHH", pkt[:8])
    i = 12
    for _ in range(qd):
        for _ in range(128):
            n = pkt[i]
            if n == 0:
                i += 1
                break
            i += 1 + n
        i += 4
    out = []
    for _ in range(an):
        assert pkt[i:i + 2] == b"\xc0\x0c", pkt
        t, _c, ttl, rdlen = struct.unpack("!HHIH", pkt[i + 2:i + 12])
        rdata = pkt[i + 12:i + 12 + rdlen]
        out.append((type_name(t), ttl, str(ipaddress.ip_address(rdata))))
        i += 12 + rdlen
    return qid, flags & 0xF, out
