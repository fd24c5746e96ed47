"""DNS and dialling (issue 6): sluice's own resolver and Happy Eyeballs.

Every proxy here asks only a loopback responder of its own test
(dns_responder.DnsResponder, passed as `dns=`), never the machine's
resolver. The responder answers per name (A/AAAA with TTLs, NXDOMAIN,
NODATA, SERVFAIL, silence, delay) and counts queries per (lowercased name,
type): sluice sends its names in random case (0x20).

Names are unique per test (NAME-<uuid>.dns.test), and each test has its
own responder, so counts never mix.

Why `workers=1` where queries are counted exactly: the cache and the
in-flight de-duplication are per worker, and the kernel spreads client
connections over the workers' SO_REUSEPORT sockets, so with two workers a
repeat may land on the other worker and honestly ask again. With one worker
a repeat must be answered from that worker's cache.

No test measures time. Timeouts are safety limits. Where a TTL must run out
the test polls (repeating requests, bounded in count and time) until a new
query appears; where a TTL must *not* run out, it checks the count after a
fixed, small number of requests.
"""

import socket
import threading
import time
import uuid

import pytest

from conftest import (
    HAVE_IPV6,
    HttpClient,
    assert_error_reply,
    connect_via,
    exchange,
    family_of,
    handler_echo,
    http_request,
    needs_ipv6,
    read_reply,
    run_sluice,
    tcp_connect,
    wait_for,
)
from dns_responder import (
    NOERROR,
    NXDOMAIN,
    REFUSED,
    SERVFAIL,
    DnsResponder,
    make_query,
    parse_answer,
)

# Safety limits (seconds), generous for ASan builds; never thresholds.
REPLY_TIMEOUT = 20.0
POLL_TIMEOUT = 15.0


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------


@pytest.fixture
def dns():
    r = DnsResponder()
    yield r
    r.close()


@pytest.fixture
def start(proxy_factory, dns):
    """start(**directives) -> Proxy that asks this test's responder."""
    def run(**kw):
        kw.setdefault("dns", dns.addr)
        return proxy_factory(**kw)
    return run


def uname(label):
    return f"{label}-{uuid.uuid4().hex[:10]}.dns.test"


def connect_head(target):
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("latin-1")


def request(proxy, target, timeout=REPLY_TIMEOUT):
    """CONNECT target, expecting a refusal: (Reply, access entry)."""
    sock = tcp_connect(proxy.addr, timeout)
    try:
        port = sock.getsockname()[1]
        sock.sendall(connect_head(target))
        reply = read_reply(sock, timeout)
    finally:
        sock.close()
    return reply, proxy.wait_access_for(port)


def assert_refused(proxy, target, status, end, timeout=REPLY_TIMEOUT):
    reply, entry = request(proxy, target, timeout)
    assert_error_reply(reply, status)
    assert entry.fields.get("status") == str(status), entry
    assert entry.fields.get("end") == end, f"expected end={end}: {entry!r}"
    return reply, entry


def tunnel_ok(proxy, target, payload=b"ping", timeout=REPLY_TIMEOUT):
    """A working tunnel to an echo origin: 200, then payload both ways."""
    sock, status, leftover = connect_via(proxy, target, timeout=timeout)
    with sock:
        assert status == 200, (target, status, leftover)
        assert exchange(sock, payload, initial=leftover) == payload


def one_each(dns, name):
    return dns.counts_for(name) == {"A": 1, "AAAA": 1}


class Listener:
    """A plain listening socket; the test accepts (bounded) itself.

    The kernel completes handshakes into the backlog, so "this listener got
    the proxy's connection" is checked with accept() after the 200."""

    def __init__(self, host, port=0):
        self.host = host
        self.sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def accept(self, timeout=10.0):
        self.sock.settimeout(timeout)
        c, peer = self.sock.accept()
        c.settimeout(timeout)
        return c, peer

    def close(self):
        self.sock.close()


class Refuser:
    """A socket bound to host:port, not listening: connects get RST."""

    def __init__(self, host, port):
        self.sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.sock.bind((host, port))

    def close(self):
        self.sock.close()


class BacklogFull:
    """listen(0) with its queue filled by connections never accepted: new
    SYNs are dropped, a connect() to it hangs (like a black-holed address,
    on loopback). fillers' local ports are kept to tell their SYN_SENT
    sockets from sluice's."""

    def __init__(self, host, port, fillers=4):
        self.host = host
        self.ls = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.ls.bind((host, port))
        self.ls.listen(0)
        self.port = self.ls.getsockname()[1]
        self.fillers = []
        for _ in range(fillers):
            s = socket.socket(family_of(host), socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, self.port))
            self.fillers.append(s)
        self.filler_ports = {s.getsockname()[1] for s in self.fillers}

    def verify(self, timeout=0.5):
        p = socket.socket(family_of(self.host), socket.SOCK_STREAM)
        p.settimeout(timeout)
        try:
            p.connect((self.host, self.port))
            return False
        except socket.timeout:
            return True
        except OSError:
            return False
        finally:
            p.close()

    def close(self):
        for s in self.fillers:
            s.close()
        self.ls.close()


def same_port(make_first, make_others, tries=20):
    """make_first(0) -> object with .port; then make_others(port) -> list.
    Retries (bounded) when the port is taken on another address."""
    for _ in range(tries):
        first = make_first(0)
        try:
            return first, make_others(first.port)
        except OSError:
            first.close()
    pytest.skip("no port free on every loopback address needed")


def make_blackhole(host, port):
    bh = BacklogFull(host, port)
    # wait (bounded) for the fillers to be queued or stuck, then check
    for _ in range(10):
        if bh.verify():
            return bh
        time.sleep(0.05)
    bh.close()
    pytest.skip(f"cannot build a black-hole target on {host} with this kernel")


def _proc_hex(host):
    packed = socket.inet_pton(family_of(host), host)
    words = [packed[i:i + 4] for i in range(0, len(packed), 4)]
    return "".join(f"{int.from_bytes(w, 'little'):08X}" for w in words)


def syn_sent_to(host, port, exclude_local_ports=()):
    """Local ports of sockets in SYN_SENT towards host:port (/proc/net/tcp*)."""
    path = "/proc/net/tcp6" if ":" in host else "/proc/net/tcp"
    want = f"{_proc_hex(host)}:{port:04X}"
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[2] != want or parts[3] != "02":
            continue
        lport = int(parts[1].rsplit(":", 1)[1], 16)
        if lport not in exclude_local_ports:
            out.append(lport)
    return out


def concurrent_tunnels(proxy, target, n, timeout=60.0):
    """n CONNECTs released together (threads, bounded); statuses in order."""
    statuses = [None] * n
    errors = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        try:
            barrier.wait(timeout=30)
            sock, status, leftover = connect_via(proxy, target, timeout=30)
            with sock:
                statuses[i] = status
                if status == 200:
                    msg = b"t%d" % i
                    assert exchange(sock, msg, timeout=30, initial=leftover) == msg
        except BaseException as e:  # noqa: BLE001
            errors[i] = e

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    stuck = sum(1 for t in threads if t.is_alive())
    assert stuck == 0, f"{stuck} client threads still running after {timeout}s"
    return statuses, errors


# --------------------------------------------------------------------------
# the responder itself (no sluice)
# --------------------------------------------------------------------------


def _ask(r, name, qtype, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(make_query(name, qtype), ("127.0.0.1", r.port))
        try:
            return parse_answer(s.recv(4096))
        except socket.timeout:
            return None
    finally:
        s.close()


def test_responder_self_test():
    r = DnsResponder()
    try:
        r.add("Multi.Example", a=["127.0.0.1", ("127.0.0.2", 7)], aaaa=["::1"], ttl=42)
        r.nxdomain("gone.example")
        r.servfail("broken.example")
        r.silence("mute.example")
        r.add("half.example", a=["127.0.0.1"], silent={"AAAA": True})
        r.add("slow.example", a=["127.0.0.1"], delay=0.3)
        assert _ask(r, "mUlTi.eXample", "A") == (
            0x1234, NOERROR, [("A", 42, "127.0.0.1"), ("A", 7, "127.0.0.2")])
        assert _ask(r, "multi.example", "AAAA") == (0x1234, NOERROR, [("AAAA", 42, "::1")])
        assert _ask(r, "gone.example", "A") == (0x1234, NXDOMAIN, [])
        assert _ask(r, "never.configured", "AAAA") == (0x1234, NXDOMAIN, [])
        assert _ask(r, "broken.example", "A") == (0x1234, SERVFAIL, [])
        assert _ask(r, "half.example", "AAAA", timeout=0.5) is None
        assert _ask(r, "half.example", "A") == (0x1234, NOERROR, [("A", 300, "127.0.0.1")])
        assert _ask(r, "mute.example", "A", timeout=0.5) is None
        assert _ask(r, "slow.example", "A") == (0x1234, NOERROR, [("A", 300, "127.0.0.1")])
        assert r.counts_for("MULTI.example") == {"A": 1, "AAAA": 1}
        assert r.count("mute.example") == 1
        assert [q.name for q in r.queries("multi.example")] == ["mUlTi.eXample", "multi.example"]
    finally:
        r.close()
    assert not r._thread.is_alive()


# --------------------------------------------------------------------------
# the configured server, the hosts file, what is never asked
# --------------------------------------------------------------------------


def test_configured_server_is_asked(start, dns, echo_origin):
    name = uname("asked")
    dns.add(name, a=["127.0.0.1"])
    p = start()
    tunnel_ok(p, f"{name}:{echo_origin.port}", b"via the chosen server")
    assert len(echo_origin.wait_conns(1)) == 1
    c = dns.counts_for(name)
    assert c["A"] >= 1 and c["AAAA"] >= 1, (c, dns.queries())
    # no search domains appended (DNS_QUERY_NO_SEARCH): every query the
    # server saw was for the name itself
    assert {q.name.lower() for q in dns.queries()} == {name}, dns.queries()


def test_queries_use_random_case(start, dns, echo_origin):
    # 0x20: with 50 letters, a query sent all in lowercase twice has odds
    # of 2^-100 under random case
    name = f"abcdefghijklmnopqrstuvwxy-{uuid.uuid4().hex[:6]}.zyxwvutsrqponmlkjihgfedcb.test"
    dns.add(name, a=["127.0.0.1"])
    p = start()
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    sent = [q.name for q in dns.queries(name)]
    assert sent, dns.queries()
    assert any(s != name for s in sent), f"queries not in random case: {sent}"


def test_hosts_file_wins_and_asks_nothing(start, dns, echo_origin, tmp_path):
    name = uname("hosted")
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 {name}\n")
    # DNS would say otherwise (nothing listens on 127.0.0.9): not asked
    dns.add(name, a=["127.0.0.9"])
    control = uname("control")
    dns.add(control, a=["127.0.0.1"])
    p = start(hosts_file=str(hosts), workers=1)
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    tunnel_ok(p, f"{control}:{echo_origin.port}")
    assert dns.count(control) >= 1, dns.queries()
    assert dns.count(name) == 0, dns.queries()


def test_hosts_file_dev_null(start, dns, echo_origin):
    # an empty hosts file given as /dev/null (a common idiom): names go to
    # DNS; if sluice warns about it, the reason must be true (it exists)
    name = uname("devnull")
    dns.add(name, a=["127.0.0.1"])
    p = start(hosts_file="/dev/null")
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    warn = [ln for ln in p.stderr().splitlines() if "/dev/null" in ln]
    assert not any("No such file or directory" in ln for ln in warn), warn


def test_ip_literal_asks_nothing(start, dns, echo_origin):
    p = start()
    tunnel_ok(p, echo_origin.target)
    assert dns.queries() == []


def test_blocked_name_asks_nothing(start, dns, echo_origin, tmp_path):
    # (covered at length in test_blocking.py; one check against this resolver)
    blocked = uname("blocked")
    lst = tmp_path / "block.txt"
    lst.write_text(f"{blocked}\n")
    dns.add(blocked, a=["127.0.0.1"])
    control = uname("allowed")
    dns.add(control, a=["127.0.0.1"])
    p = start(blocklist=str(lst))
    assert_refused(p, f"{blocked}:{echo_origin.port}", 403, "blocked")
    assert_refused(p, f"sub.{blocked}:{echo_origin.port}", 403, "blocked")
    tunnel_ok(p, f"{control}:{echo_origin.port}")
    assert dns.count(control) >= 1
    assert dns.count(blocked) == 0 and dns.count(f"sub.{blocked}") == 0, dns.queries()


def test_plain_http_resolves_through_the_server(start, dns, raw_http_origin):
    o = raw_http_origin()
    name = uname("plain")
    dns.add(name, a=["127.0.0.1"])
    missing = uname("plainmissing")
    dns.nxdomain(missing)
    p = start()
    with HttpClient(p.addr, timeout=REPLY_TIMEOUT) as c:
        c.request("GET", f"http://{name}:{o.port}/x")
        r = c.read_response()
        assert r.status == 200, r
    assert o.wait_requests(1)[0].get("host") == f"{name}:{o.port}"
    assert dns.count(name, "A") >= 1
    with HttpClient(p.addr, timeout=REPLY_TIMEOUT) as c:
        port = c.sock.getsockname()[1]
        c.send(http_request("GET", f"http://{missing}:{o.port}/"))
        r = c.read_response()
        assert r.status == 502, r
    e = p.wait_access_for(port)
    assert e.fields.get("end") == "unknown-host", e


# --------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------


def test_cache_answers_a_repeat(start, dns, echo_origin):
    # workers=1: the cache is per worker (module docstring)
    name = uname("cached")
    dns.add(name, a=["127.0.0.1"], ttl=300)
    p = start(workers=1)
    tunnel_ok(p, f"{name}:{echo_origin.port}", b"first")
    assert one_each(dns, name), (dns.counts_for(name), dns.queries())
    tunnel_ok(p, f"{name}:{echo_origin.port}", b"second")
    assert one_each(dns, name), (dns.counts_for(name), dns.queries())
    assert len(echo_origin.wait_conns(2)) == 2


def test_cache_is_case_insensitive(start, dns, echo_origin):
    # DNS names are case-insensitive: one cache entry for every spelling
    name = uname("mixedcase")
    dns.add(name, a=["127.0.0.1"], ttl=300)
    p = start(workers=1)
    tunnel_ok(p, f"{name.upper()}:{echo_origin.port}")
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    tunnel_ok(p, f"{name.capitalize()}:{echo_origin.port}")
    assert one_each(dns, name), (dns.counts_for(name), dns.queries())


def poll_new_query(p, dns, name, port, qtype="A", before=1, timeout=POLL_TIMEOUT):
    """Repeat a tunnel to name every 0.2 s (bounded) until the server has
    seen more than `before` queries of qtype. Returns the tunnels made."""
    deadline = time.monotonic() + timeout
    made = 0
    for _ in range(int(timeout / 0.2) + 5):
        tunnel_ok(p, f"{name}:{port}")
        made += 1
        if dns.count(name, qtype) > before:
            return made
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    raise AssertionError(
        f"no new {qtype} query for {name} within {timeout}s after {made} tunnels; "
        f"counts {dns.counts_for(name)}; log {dns.queries(name)!r}")


def test_ttl_expiry_asks_again(start, dns, echo_origin):
    # workers=1: one cache, so the new query is due to expiry alone
    name = uname("ttl1")
    dns.add(name, a=["127.0.0.1"], ttl=1)
    p = start(workers=1)
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    assert one_each(dns, name), dns.counts_for(name)
    poll_new_query(p, dns, name, echo_origin.port)
    assert dns.count(name, "A") >= 2


def test_min_ttl_raises_a_short_ttl(start, dns, echo_origin):
    # workers=1: see the module docstring. TTL 0 alone would mean "do not
    # cache"; dns-min-ttl 1h keeps it. A TTL of 1 is kept past its second.
    zero, one = uname("ttl0"), uname("ttl1min")
    dns.add(zero, a=["127.0.0.1"], ttl=0)
    dns.add(one, a=["127.0.0.1"], ttl=1)
    p = start(workers=1, dns_min_ttl="1h")
    for i in range(3):
        if i:
            time.sleep(0.3)
        tunnel_ok(p, f"{zero}:{echo_origin.port}")
        tunnel_ok(p, f"{one}:{echo_origin.port}")
    time.sleep(1.5)  # past the TTL of 1 (no threshold: the count must stay)
    tunnel_ok(p, f"{one}:{echo_origin.port}")
    assert one_each(dns, zero), (dns.counts_for(zero), dns.queries(zero))
    assert one_each(dns, one), (dns.counts_for(one), dns.queries(one))


def test_max_ttl_caps_a_long_ttl(start, dns, echo_origin):
    # workers=1: see the module docstring
    name = uname("ttl3600")
    dns.add(name, a=["127.0.0.1"], ttl=3600)
    p = start(workers=1, dns_max_ttl="1s")
    tunnel_ok(p, f"{name}:{echo_origin.port}")
    assert one_each(dns, name), dns.counts_for(name)
    poll_new_query(p, dns, name, echo_origin.port)


# --------------------------------------------------------------------------
# negative answers, failures, timeouts
# --------------------------------------------------------------------------


def test_nxdomain_is_unknown_host_and_cached(start, dns):
    # workers=1: see the module docstring
    name = uname("nx")
    dns.nxdomain(name)
    p = start(workers=1, dns_negative_ttl="1h")
    reply, _ = assert_refused(p, f"{name}:443", 502, "unknown-host")
    assert b"unknown host" in reply.body, reply
    first = dns.counts_for(name)
    assert first["A"] + first["AAAA"] >= 1 and max(first.values()) <= 1, \
        (first, dns.queries())
    assert_refused(p, f"{name}:443", 502, "unknown-host")
    assert dns.counts_for(name) == first, (first, dns.queries())


def test_nodata_for_both_is_unknown_host_and_cached(start, dns):
    # the name exists, with neither A nor AAAA; workers=1: module docstring
    name = uname("nodata")
    dns.nodata(name)
    p = start(workers=1, dns_negative_ttl="1h")
    assert_refused(p, f"{name}:443", 502, "unknown-host")
    assert one_each(dns, name), (dns.counts_for(name), dns.queries())
    assert_refused(p, f"{name}:443", 502, "unknown-host")
    assert one_each(dns, name), (dns.counts_for(name), dns.queries())


def test_negative_ttl_expires(start, dns):
    # workers=1: see the module docstring
    name = uname("nxshort")
    dns.nxdomain(name)
    p = start(workers=1, dns_negative_ttl="1s")
    assert_refused(p, f"{name}:443", 502, "unknown-host")
    before = dns.count(name)
    assert before >= 1
    deadline = time.monotonic() + POLL_TIMEOUT
    for _ in range(int(POLL_TIMEOUT / 0.2) + 5):
        assert_refused(p, f"{name}:443", 502, "unknown-host")
        if dns.count(name) > before or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    assert dns.count(name) > before, (before, dns.queries(name))


def test_silent_server_is_dns_timeout(start, dns):
    name = uname("silent")
    dns.silence(name)
    p = start(dns_timeout="1s")
    assert_refused(p, f"{name}:443", 504, "dns-timeout")
    assert dns.count(name) >= 1


def test_silent_server_many_waiters_all_time_out(start, dns):
    # every request waiting on the same (de-duplicated) lookup gets its 504
    name = uname("silentmany")
    dns.silence(name)
    p = start(dns_timeout="1s", workers=1)
    results = [None] * 10
    errors = [None] * 10

    def one(i):
        try:
            results[i] = request(p, f"{name}:443")
        except BaseException as e:  # noqa: BLE001
            errors[i] = e

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(REPLY_TIMEOUT + 10)
    assert not any(t.is_alive() for t in threads)
    assert errors == [None] * 10, errors
    for reply, entry in results:
        assert reply.status == 504, reply
        assert entry.fields.get("end") == "dns-timeout", entry


def test_servfail_is_dns_failure(start, dns):
    name = uname("servfail")
    dns.servfail(name)
    p = start(dns_timeout="5s")
    assert_refused(p, f"{name}:443", 502, "dns-failure")


def test_refused_answer_is_dns_failure(start, dns):
    name = uname("refused")
    dns.add(name, rcode=REFUSED)
    p = start()
    assert_refused(p, f"{name}:443", 502, "dns-failure")


def test_default_dns_timeout_ends_a_silent_lookup(start, dns):
    # no dns-timeout directive: the default (5s) still ends the wait
    name = uname("silentdefault")
    dns.silence(name)
    p = start()
    assert_refused(p, f"{name}:443", 504, "dns-timeout", timeout=REPLY_TIMEOUT)


def test_server_still_asked_after_failures(start, dns, echo_origin):
    # timeouts and failures for some names do not stop the server being
    # asked (and answering) for the next one
    silent, sf, rf = uname("s"), uname("sf"), uname("rf")
    dns.silence(silent)
    dns.servfail(sf)
    dns.add(rf, rcode=REFUSED)
    p = start(dns_timeout="1s", workers=1)
    assert_refused(p, f"{silent}:443", 504, "dns-timeout")
    for name in (sf, rf):
        reply, _ = request(p, f"{name}:443")
        assert reply.status in (502, 504), reply
    good = uname("good")
    dns.add(good, a=["127.0.0.1"])
    tunnel_ok(p, f"{good}:{echo_origin.port}")
    assert dns.count(good, "A") >= 1


@pytest.mark.parametrize("rcode", [REFUSED, SERVFAIL], ids=["refused", "servfail"])
def test_server_failure_is_not_cached(start, dns, rcode):
    # workers=1: see the module docstring. A failure is not remembered: a
    # repeat asks again (whatever status the failure itself got)
    name = uname("failnc")
    dns.add(name, rcode=rcode)
    p = start(workers=1, dns_timeout="1s", dns_negative_ttl="1h")
    reply, _ = request(p, f"{name}:443")
    assert reply.status in (502, 504), reply
    before = dns.count(name, "A")
    assert before >= 1
    reply, _ = request(p, f"{name}:443")
    assert reply.status in (502, 504), reply
    assert dns.count(name, "A") > before, dns.queries(name)


def test_slow_answer_within_timeout_is_used(start, dns, echo_origin):
    name = uname("slow")
    dns.add(name, a=["127.0.0.1"], delay=0.5)
    p = start(dns_timeout="5s")
    tunnel_ok(p, f"{name}:{echo_origin.port}")


# --------------------------------------------------------------------------
# in-flight de-duplication
# --------------------------------------------------------------------------


def test_100_concurrent_one_worker_one_query_per_type(start, dns, echo_origin):
    # workers=1: one worker, one lookup; the answer is delayed so that most
    # requests arrive while it is in flight (de-duplication), the rest find
    # it in the cache. Either way: one A and one AAAA query.
    name = uname("herd")
    dns.add(name, a=["127.0.0.1"], delay=0.3)
    p = start(workers=1)
    statuses, errors = concurrent_tunnels(p, f"{name}:{echo_origin.port}", 100)
    assert errors == [None] * 100, [e for e in errors if e][:5]
    assert statuses == [200] * 100, statuses
    assert one_each(dns, name), (dns.counts_for(name), dns.queries(name)[:10])
    assert len(echo_origin.wait_conns(100)) == 100


def test_100_concurrent_two_workers_at_most_two_per_type(start, dns, echo_origin):
    name = uname("herd2")
    dns.add(name, a=["127.0.0.1"], delay=0.3)
    p = start(workers=2)
    statuses, errors = concurrent_tunnels(p, f"{name}:{echo_origin.port}", 100)
    assert errors == [None] * 100, [e for e in errors if e][:5]
    assert statuses == [200] * 100, statuses
    c = dns.counts_for(name)
    assert 1 <= c["A"] <= 2 and 1 <= c["AAAA"] <= 2, (c, dns.queries(name)[:10])


def test_concurrent_nxdomain_one_lookup(start, dns):
    # workers=1: see the module docstring
    name = uname("herdnx")
    dns.add(name, rcode=NXDOMAIN, delay=0.3)
    p = start(workers=1)
    results = [None] * 20
    errors = [None] * 20

    def one(i):
        try:
            results[i] = request(p, f"{name}:443")
        except BaseException as e:  # noqa: BLE001
            errors[i] = e

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(REPLY_TIMEOUT + 10)
    assert not any(t.is_alive() for t in threads)
    assert errors == [None] * 20, [e for e in errors if e][:3]
    for reply, entry in results:
        assert reply.status == 502 and entry.fields.get("end") == "unknown-host", entry
    c = dns.counts_for(name)
    assert c["A"] + c["AAAA"] >= 1 and max(c.values()) <= 1, (c, dns.queries(name))


# --------------------------------------------------------------------------
# dialling: families, Happy Eyeballs, failures
# --------------------------------------------------------------------------


@needs_ipv6
def test_ipv6_only_name(start, dns, origin_factory):
    o = origin_factory(handler_echo, host="::1")
    name = uname("v6only")
    dns.add(name, aaaa=["::1"])  # A: NODATA
    p = start()
    tunnel_ok(p, f"{name}:{o.port}", b"over v6")
    assert len(o.wait_conns(1)) == 1
    assert dns.count(name, "AAAA") >= 1


@needs_ipv6
def test_ipv6_is_tried_first(start, dns):
    # both families live on the same port: the first attempt (IPv6) connects
    # on loopback long before the 250 ms after which IPv4 would start
    v4, (v6,) = same_port(lambda port: Listener("127.0.0.1", port),
                          lambda port: [Listener("::1", port)])
    try:
        name = uname("dual")
        dns.add(name, a=["127.0.0.1"], aaaa=["::1"])
        p = start()
        sock, status, leftover = connect_via(p, f"{name}:{v4.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, peer = v6.accept()
            with c:
                sock.sendall(b"which family")
                assert c.recv(64) == b"which family"
                assert peer[0] == "::1"
    finally:
        v4.close()
        v6.close()


@needs_ipv6
def test_waits_for_both_answers_before_dialling(start, dns):
    # A comes at once, AAAA 0.5 s later: sluice waits for both, then IPv6
    # goes first. Had it dialled on the A answer alone, 127.0.0.1 would
    # have had the connection long before the AAAA arrived.
    v4, (v6,) = same_port(lambda port: Listener("127.0.0.1", port),
                          lambda port: [Listener("::1", port)])
    try:
        name = uname("bothwait")
        dns.add(name, a=["127.0.0.1"], aaaa=["::1"], delay={"AAAA": 0.5})
        p = start()
        sock, status, _ = connect_via(p, f"{name}:{v4.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, peer = v6.accept()
            with c:
                sock.sendall(b"after both")
                assert c.recv(64) == b"after both"
    finally:
        v4.close()
        v6.close()


@needs_ipv6
def test_refused_ipv6_falls_back_to_ipv4(start, dns):
    # sluice's order puts ::1 first; it refuses at once, so IPv4 starts at once
    live, (refuser,) = same_port(lambda port: Listener("127.0.0.1", port),
                                 lambda port: [Refuser("::1", port)])
    try:
        name = uname("v6refused")
        dns.add(name, a=["127.0.0.1"], aaaa=["::1"])
        p = start()
        sock, status, _ = connect_via(p, f"{name}:{live.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, peer = live.accept()
            with c:
                sock.sendall(b"v4 wins")
                assert c.recv(64) == b"v4 wins"
    finally:
        live.close()
        refuser.close()


def test_refused_address_then_live_one_ipv4(start, dns):
    # whatever order sluice takes the two A records in, the live one wins
    live, (refuser,) = same_port(lambda port: Listener("127.0.0.1", port),
                                 lambda port: [Refuser("127.0.0.2", port)])
    try:
        name = uname("v4refused")
        dns.add(name, a=["127.0.0.2", "127.0.0.1"])
        p = start()
        sock, status, _ = connect_via(p, f"{name}:{live.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, _ = live.accept()
            with c:
                sock.sendall(b"live")
                assert c.recv(64) == b"live"
    finally:
        live.close()
        refuser.close()


def _slow_first_then_live(start, dns, dead_host, a, aaaa):
    """dead_host:P drops SYNs, 127.0.0.1:P listens; connect-timeout 30s so
    that only a parallel attempt can succeed within the read limit."""
    live, (bh,) = same_port(lambda port: Listener("127.0.0.1", port),
                            lambda port: [make_blackhole(dead_host, port)])
    try:
        name = uname("slowfirst")
        dns.add(name, a=a, aaaa=aaaa)
        p = start(connect_timeout="30s")
        sock, status, _ = connect_via(p, f"{name}:{live.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, peer = live.accept()
            with c:
                sock.sendall(b"second attempt won")
                assert c.recv(64) == b"second attempt won"
            # the losing attempt is closed, not left retrying its SYN (the
            # kernel would keep it for minutes; connect-timeout is 30s)
            wait_for(lambda: not syn_sent_to(dead_host, live.port, bh.filler_ports),
                     10.0, what=f"sluice's attempt to the dead {dead_host} to be closed")
    finally:
        live.close()
        bh.close()


@needs_ipv6
def test_happy_eyeballs_dead_ipv6_first(start, dns):
    # IPv6 first in sluice's order: ::1 drops SYNs; after 250 ms IPv4 starts
    _slow_first_then_live(start, dns, "::1", a=["127.0.0.1"], aaaa=["::1"])


def test_happy_eyeballs_dead_ipv4_and_live_ipv4(start, dns):
    # 127.0.0.2 drops SYNs; order-independent: if the dead one is first the
    # live one starts 250 ms later; a sequential dialler would wait 30s
    _slow_first_then_live(start, dns, "127.0.0.2", a=["127.0.0.2", "127.0.0.1"], aaaa=[])


def test_many_refused_addresses_then_a_live_one(start, dns):
    # five addresses refuse (each failure starts the next at once), the
    # sixth listens: every address gets its turn
    dead = [f"127.0.0.{i}" for i in range(2, 7)]
    live, refusers = same_port(lambda port: Listener("127.0.0.1", port),
                               lambda port: [Refuser(h, port) for h in dead])
    try:
        name = uname("sixth")
        dns.add(name, a=[*dead, "127.0.0.1"])
        p = start()
        sock, status, _ = connect_via(p, f"{name}:{live.port}", timeout=REPLY_TIMEOUT)
        with sock:
            assert status == 200, status
            c, _ = live.accept()
            with c:
                sock.sendall(b"sixth")
                assert c.recv(64) == b"sixth"
    finally:
        live.close()
        for r in refusers:
            r.close()


def test_unspecified_addresses_are_dropped(start, dns, echo_origin):
    # 0.0.0.0 and :: (where ad-blocking answers send names) would reach this
    # machine: sluice drops them; with nothing else the name has no address
    only, mixed = uname("zeros"), uname("zerosmixed")
    dns.add(only, a=["0.0.0.0"], aaaa=["::"])
    dns.add(mixed, a=["0.0.0.0", "127.0.0.1"], aaaa=["::"])
    p = start()
    assert_refused(p, f"{only}:{echo_origin.port}", 502, "unknown-host")
    tunnel_ok(p, f"{mixed}:{echo_origin.port}")


def test_all_refused_is_connect_failed(start, dns):
    # every address the name has refuses: 127.0.0.1, 127.0.0.2 and ::1
    hosts = ["127.0.0.1", "127.0.0.2"] + (["::1"] if HAVE_IPV6 else [])
    port, refusers = _refusers(hosts)
    try:
        name = uname("allrefused")
        dns.add(name, a=["127.0.0.1", "127.0.0.2"], aaaa=["::1"] if HAVE_IPV6 else [])
        p = start()
        assert_refused(p, f"{name}:{port}", 502, "connect-failed")
    finally:
        for r in refusers:
            r.close()


def _refusers(hosts, tries=20):
    """(port, [Refuser]) with hosts[i]:port all bound and not listening."""
    for _ in range(tries):
        made = []
        try:
            r0 = Refuser(hosts[0], 0)
            made.append(r0)
            port = r0.sock.getsockname()[1]
            for h in hosts[1:]:
                made.append(Refuser(h, port))
            return port, made
        except OSError:
            for r in made:
                r.close()
    pytest.skip("no port free on every loopback address needed")


def test_all_silent_is_connect_timeout(start, dns):
    bh1, (bh2,) = same_port(lambda port: make_blackhole("127.0.0.1", port),
                            lambda port: [make_blackhole("127.0.0.2", port)])
    try:
        name = uname("alldead")
        dns.add(name, a=["127.0.0.1", "127.0.0.2"])
        p = start(connect_timeout="1s")
        assert_refused(p, f"{name}:{bh1.port}", 504, "connect-timeout")
    finally:
        bh1.close()
        bh2.close()


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


NEW_DIRECTIVES = ("dns-timeout", "dns-min-ttl", "dns-max-ttl", "dns-negative-ttl")


def test_help_lists_the_dns_directives(sluice_bin):
    cp = run_sluice(sluice_bin, "--help")
    assert cp.returncode == 0, cp.stderr
    for d in NEW_DIRECTIVES:
        assert d in cp.stdout, f"--help does not mention {d}:\n{cp.stdout}"


def test_dns_directives_check(sluice_bin, dns, tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text(f"dns {dns.addr}\nhosts-file /dev/null\nblocklist none\n"
                    "dns-timeout 2s\ndns-min-ttl 0\ndns-max-ttl 1h\n"
                    "dns-negative-ttl 30s\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, cp.stderr
    for d in NEW_DIRECTIVES:
        bad = tmp_path / f"bad-{d}.conf"
        bad.write_text(f"dns {dns.addr}\nblocklist none\n{d} soon\n")
        cp = run_sluice(sluice_bin, "-c", bad, "--check-config")
        assert cp.returncode == 2, (d, cp.stderr)
        assert f"{bad}:3" in cp.stderr and d in cp.stderr, cp.stderr
    assert dns.queries() == []
