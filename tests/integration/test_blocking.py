"""Blocking: blocklists and allowlists, end to end (README "Blocking", "What
clients see", "Access log").

Every test checks both sides: what the client got, and what the origin saw.
The origins listen on 127.0.0.1 and count the connections they accept; the
names the tests use are all mapped to 127.0.0.1 by a hosts file written here
(passed as hosts_file=...), so a name that was wrongly let through would
reach the origin (and show up there) instead of failing in DNS. Names that
must not resolve at all are left out of it: the proxy then asks the loopback
NXDOMAIN server of conftest (the `dns` directive every test proxy gets),
which records every query.

"The origin saw no connection" is checked without sleeping: after the
blocked requests, the test makes an allowed request to the same origin and
then checks that the origin accepted exactly the connections (and requests)
of the allowed ones. A connection made for a blocked request would have been
made before its 403 reached us, so it would be in the origin's accept queue
ahead of the allowed one.

Lists are written to tmp_path and passed as blocklist=PATH / allowlist=PATH
(a repeatable directive as a Python list: proxy_factory writes one config
line per element).
"""

import os
import re
import signal
import threading
import time
import uuid

import pytest

from conftest import (
    IO_TIMEOUT,
    HttpClient,
    assert_error_reply,
    chunk_encode,
    connect_via,
    exchange,
    handler_echo,
    http_request,
    info_body,
    run_sluice,
    send_raw,
    wait_closed as wait_closed_sock,
    wait_for,
)

# Every name below resolves to 127.0.0.1 through the hosts file of these
# tests; what a list says of it decides whether the origin hears of it.
HOST_NAMES = (
    "ads.example", "sub.ads.example", "x.y.ads.example", "xads.example",
    "ads.example.org", "ok.example",
    "ok.ads.example", "x.ok.ads.example", "bad.ok.ads.example",
    "x.bad.ok.ads.example", "fine.ads.example", "x.fine.ads.example",
    "bad.fine.ads.example", "same.example",
    "exact.example", "sub.exact.example", "tree.example", "sub.tree.example",
    "dot.example", "sub.dot.example", "hostsx.example", "sub.hostsx.example",
    "wild.example", "a.wild.example", "b.a.wild.example", "tracker.example",
    "a.test", "b.test", "ok.test", "blocked.test",
)

SUMMARY_RE = re.compile(
    r"^sluice: (blocklist|allowlist) (\S+): (\d+) loaded, (\d+) duplicates, "
    r"(\d+) local, (\d+) skipped \((\d+) lines\)$")


# --------------------------------------------------------------- helpers


@pytest.fixture
def block_hosts(tmp_path):
    p = tmp_path / "block-hosts"
    p.write_text("# hosts(5) for tests/integration/test_blocking.py\n"
                 "127.0.0.1 localhost\n"
                 + "".join(f"127.0.0.1 {n}\n" for n in HOST_NAMES))
    return p


@pytest.fixture
def start(proxy_factory, block_hosts):
    """start(**directives) -> Proxy, with the hosts file of these tests."""
    def run(**kw):
        kw.setdefault("hosts_file", str(block_hosts))
        return proxy_factory(**kw)
    return run


def write_list(tmp_path, name, text, sub="lists"):
    d = tmp_path / sub
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(text)
    return p


def conns(origin):
    """Connections the origin has accepted so far."""
    with origin.lock:
        return len(origin.records)


def hosts_seen(origin):
    """Host field of every request the origin received, in order."""
    with origin.req_cond:
        return [r.get("host") for r in origin.requests]


def get(proxy, url, method="GET", headers=None, body=b"", host=True):
    """One request on a fresh connection; returns (response, client)."""
    c = HttpClient(proxy.addr)
    try:
        c.request(method, url, headers, body, host=host)
        return c.read_response(method), c
    except BaseException:
        c.close()
        raise


def status_of(proxy, url):
    r, c = get(proxy, url)
    c.close()
    return r.status


def connect_raw(target, host=None):
    return (f"CONNECT {target} HTTP/1.1\r\nHost: {host or target}\r\n"
            f"User-Agent: sluice-tests\r\n\r\n").encode()


def assert_blocked_page(r, host, list_path):
    """A 403 page for a blocked plain request (README: a small HTML page
    naming the host and the list, by its file name only)."""
    assert r.status == 403, r
    ctype = r.get("content-type") or ""
    assert ctype.lower().startswith("text/html"), r
    assert (r.get("cache-control") or "").lower() == "no-store", r
    assert r.framing == "length" and len(r.body) > 0, r
    assert host.encode() in r.body, (host, r)
    if list_path is not None:
        assert os.path.basename(str(list_path)).encode() in r.body, r
        assert str(os.path.dirname(str(list_path))).encode() not in r.body, \
            f"the page shows the list's directory: {r.body!r}"


def dns_count(dns_server, name):
    return sum(1 for q in list(dns_server.queries)
               if q.lower().rstrip(".") == name.lower())


def reload_count(proxy):
    return proxy.stderr().count("reload done")


def unique(label):
    return f"{label}-{uuid.uuid4().hex[:10]}"


# ------------------------------------------------------------- CONNECT


def test_connect_blocked_403_unblocked_works(start, tmp_path, origin_factory):
    lst = write_list(tmp_path, "ads.txt", "# ads\nads.example\n")
    p = start(blocklist=str(lst))
    o = origin_factory(handler_echo)

    for target in (f"ads.example:{o.port}", f"sub.ads.example:{o.port}",
                   f"ADS.Example.:{o.port}"):
        r = send_raw(p, connect_raw(target))
        assert_error_reply(r, 403)
        assert r.head.headers.get("connection", "").lower() == "close", r
        name = target.rsplit(":", 1)[0]
        assert name.encode() in r.body, (target, r)
        assert b"ads.txt" in r.body, r
        assert str(lst.parent).encode() not in r.body, r

    # an unblocked name on the same origin: tunnel up, bytes relayed
    sock, status, leftover = connect_via(p, f"ok.example:{o.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"through the tunnel", initial=leftover) == \
            b"through the tunnel"
    assert conns(o) == 1, "the origin saw a connection for a blocked CONNECT"


# ----------------------------------------------------------- plain HTTP


def test_get_blocked_page(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "# a comment\nads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    host = f"ads.example:{o.port}"
    r, c = get(p, f"http://{host}/banner.js")
    with c:
        assert_blocked_page(r, "ads.example", lst)
        assert not r.says_close, r
        # the connection stays open: an allowed request on it works
        c.request("GET", f"http://ok.example:{o.port}/after")
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == info_body("GET", "/after"), r2
    assert hosts_seen(o) == [f"ok.example:{o.port}"]
    assert conns(o) == 1


def test_head_blocked_has_length_no_body(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    url = f"http://ads.example:{o.port}/x"
    g, c = get(p, url)
    c.close()
    assert_blocked_page(g, "ads.example", lst)

    with HttpClient(p.addr) as c:
        c.request("HEAD", url)
        r = c.read_response("HEAD")
        assert r.status == 403, r
        assert (r.get("content-type") or "").lower().startswith("text/html"), r
        assert r.get("content-length") == str(len(g.body)), (r, len(g.body))
        assert (r.get("cache-control") or "").lower() == "no-store", r
        # no body followed the head: the next response on this connection
        # parses from its first byte
        c.request("GET", f"http://ok.example:{o.port}/next")
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == info_body("GET", "/next"), r2
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


def test_subdomain_label_boundary_case_and_dot(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    P = o.port

    blocked = [
        # (URI host, Host field)
        (f"sub.ads.example:{P}", True),
        (f"x.y.ads.example:{P}", True),
        (f"ADS.Example.:{P}", True),
        (f"ads.example.:{P}", f"ADS.EXAMPLE:{P}"),
        (f"Sub.ADS.example.:{P}", True),
    ]
    for authority, host in blocked:
        r, c = get(p, f"http://{authority}/", host=host)
        with c:
            assert r.status == 403, (authority, r)
            assert_blocked_page(r, authority.rsplit(":", 1)[0], lst)

    allowed = [f"xads.example:{P}", f"ads.example.org:{P}"]
    for authority in allowed:
        r, c = get(p, f"http://{authority}/ok")
        with c:
            assert r.status == 200, (authority, r)
            assert r.body == info_body("GET", "/ok"), r
    assert hosts_seen(o) == allowed


# ----------------------------------------------------------- keep-alive


def test_keepalive_two_blocked_then_allowed(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        for path in ("/one", "/two"):
            c.request("GET", f"http://ads.example:{o.port}{path}")
            r = c.read_response()
            assert_blocked_page(r, "ads.example", lst)
            assert not r.says_close, r
            assert not c.eof, "the proxy closed after a blocked GET"
        c.request("GET", f"http://ok.example:{o.port}/three")
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/three"), r
    assert hosts_seen(o) == [f"ok.example:{o.port}"]
    assert conns(o) == 1


def test_keepalive_pipelined_blocked_and_allowed(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.send(http_request("GET", f"http://ads.example:{o.port}/a")
               + http_request("GET", f"http://ok.example:{o.port}/b")
               + http_request("GET", f"http://sub.ads.example:{o.port}/c"))
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response()
        assert_blocked_page(r1, "ads.example", lst)
        assert r2.status == 200 and r2.body == info_body("GET", "/b"), r2
        assert_blocked_page(r3, "sub.ads.example", lst)
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_blocked_post_with_body_closes(start, tmp_path, raw_http_origin, framing):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    payload = b"field=value&" * 50
    if framing == "length":
        headers = [("Content-Type", "application/x-www-form-urlencoded"),
                   ("Content-Length", str(len(payload)))]
        body = payload
    else:
        headers = [("Content-Type", "application/x-www-form-urlencoded"),
                   ("Transfer-Encoding", "chunked")]
        body = chunk_encode(payload, [100])
    with HttpClient(p.addr) as c:
        c.request("POST", f"http://ads.example:{o.port}/submit", headers, body)
        r = c.read_response("POST")
        assert_blocked_page(r, "ads.example", lst)
        c.expect_close(r)
    # the origin is fine and never heard of the POST
    r, c = get(p, f"http://ok.example:{o.port}/after")
    with c:
        assert r.status == 200, r
    assert hosts_seen(o) == [f"ok.example:{o.port}"]
    assert conns(o) == 1


def test_blocked_get_with_connection_close(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://ads.example:{o.port}/",
                  [("Connection", "close")])
        r = c.read_response()
        assert_blocked_page(r, "ads.example", lst)
        c.expect_close(r)
    assert conns(o) == 0


# --------------------------------------------------- exceptions, allowlist


def test_allowlist_and_exceptions(start, tmp_path, raw_http_origin, origin_factory,
                                  sluice_bin):
    bl = write_list(tmp_path, "block.txt",
                    "ads.example\n"             # 1
                    "@@||ok.ads.example^\n"     # 2
                    "bad.ok.ads.example\n"      # 3
                    "bad.fine.ads.example\n"    # 4
                    "same.example\n")           # 5
    al = write_list(tmp_path, "allow.txt",
                    "# allowed, with subdomains\n"   # 1
                    "fine.ads.example\n"             # 2
                    "same.example\n")                # 3
    p = start(blocklist=str(bl), allowlist=str(al))
    o = raw_http_origin()
    P = o.port
    cases = [
        ("ads.example", 403),
        ("sub.ads.example", 403),
        ("ok.ads.example", 200),
        ("x.ok.ads.example", 200),
        ("bad.ok.ads.example", 403),
        ("x.bad.ok.ads.example", 403),
        ("fine.ads.example", 200),
        ("x.fine.ads.example", 200),
        ("bad.fine.ads.example", 403),
        ("same.example", 200),
    ]
    got = []
    for name, _ in cases:
        r, c = get(p, f"http://{name}:{P}/")
        c.close()
        got.append((name, r.status))
    assert got == cases
    assert hosts_seen(o) == [f"{n}:{P}" for n, s in cases if s == 200]

    # the same through CONNECT, to an echo origin
    echo = origin_factory(handler_echo)
    got = []
    for name, want in cases:
        sock, status, leftover = connect_via(p, f"{name}:{echo.port}")
        with sock:
            if status == 200:
                assert exchange(sock, name.encode(), initial=leftover) == name.encode()
            else:
                wait_closed_sock(sock)
        got.append((name, 403 if status == 403 else status))
    assert got == cases
    assert conns(echo) == sum(1 for _, s in cases if s == 200)

    # --explain names the rule that decided
    def explain(name):
        return run_sluice(sluice_bin, "--blocklist", bl, "--allowlist", al,
                          "--explain", name)
    cp = explain("x.ok.ads.example")
    assert cp.returncode == 0, cp
    assert f"allowed by {bl}:2" in cp.stdout and "@@||ok.ads.example^" in cp.stdout, cp.stdout
    cp = explain("x.bad.ok.ads.example")
    assert cp.returncode == 1, cp
    assert f"blocked by {bl}:3" in cp.stdout and "bad.ok.ads.example" in cp.stdout, cp.stdout
    cp = explain("x.fine.ads.example")
    assert cp.returncode == 0, cp
    assert f"allowed by {al}:2" in cp.stdout, cp.stdout
    cp = explain("same.example")
    assert cp.returncode == 0, cp
    assert f"allowed by {al}:3" in cp.stdout, cp.stdout


# ------------------------------------------- exact, *.name, hosts syntax


def test_exact_wildcard_and_hosts_syntax(start, tmp_path, raw_http_origin, sluice_bin):
    ex = write_list(tmp_path, "pihole.txt",
                    "exact.example\n"              # 1: the name alone
                    "||tree.example^\n"            # 2: a tree even in exact
                    ".dot.example\n"               # 3: a tree even in exact
                    "0.0.0.0 hostsx.example\n")    # 4: the name alone
    hl = write_list(tmp_path, "ads.hosts",
                    "# a hosts file\n"                                  # 1
                    "127.0.0.1 localhost\n"                             # 2
                    "127.0.0.1 localhost.localdomain\n"                 # 3
                    "255.255.255.255 broadcasthost\n"                   # 4
                    "::1 localhost ip6-localhost ip6-loopback\n"        # 5
                    "0.0.0.0 0.0.0.0\n"                                 # 6
                    "0.0.0.0 tracker.example   # trailing comment\n"    # 7
                    "*.wild.example\n")                                 # 8
    p = start(blocklist=[f"{ex} exact", str(hl)])
    o = raw_http_origin()
    P = o.port
    cases = [
        ("exact.example", 403), ("sub.exact.example", 200),
        ("tree.example", 403), ("sub.tree.example", 403),
        ("dot.example", 403), ("sub.dot.example", 403),
        ("hostsx.example", 403), ("sub.hostsx.example", 200),
        ("wild.example", 200), ("a.wild.example", 403),
        ("b.a.wild.example", 403),
        ("tracker.example", 403),
        ("localhost", 200),
    ]
    got = []
    for name, _ in cases:
        r, c = get(p, f"http://{name}:{P}/")
        c.close()
        got.append((name, r.status))
    assert got == cases
    assert hosts_seen(o) == [f"{n}:{P}" for n, s in cases if s == 200]

    def explain(name):
        return run_sluice(sluice_bin, "--blocklist", f"{ex} exact",
                          "--blocklist", hl, "--explain", name)

    # the same two lists from a config file (one line each)
    conf = tmp_path / "two.conf"
    conf.write_text(f"blocklist {ex} exact\nblocklist {hl}\n")

    def explain_conf(name):
        return run_sluice(sluice_bin, "-c", conf, "--explain", name)

    for name in ("localhost", "localhost.localdomain", "broadcasthost",
                 "ip6-localhost", "ip6-loopback"):
        cp = explain_conf(name)
        assert cp.returncode == 0, (name, cp.stdout, cp.stderr)
        assert "allowed" in cp.stdout, cp.stdout
    cp = explain_conf("tracker.example")
    assert cp.returncode == 1, cp
    assert f"blocked by {hl}:7" in cp.stdout, cp.stdout
    assert "0.0.0.0 tracker.example" in cp.stdout, cp.stdout
    cp = explain_conf("x.a.wild.example")
    assert cp.returncode == 1, cp
    assert f"{hl}:8" in cp.stdout and "*.wild.example" in cp.stdout, cp.stdout
    cp = explain_conf("sub.exact.example")
    assert cp.returncode == 0, cp
    cp = explain_conf("exact.example")
    assert cp.returncode == 1 and f"{ex}:1" in cp.stdout, cp.stdout
    # the flag form: repeated flags make the list together
    cp = explain("exact.example")
    assert cp.returncode == 1 and f"{ex}:1" in cp.stdout, (cp.stdout, cp.stderr)
    cp = explain("sub.exact.example")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    cp = explain("tracker.example")
    assert cp.returncode == 1 and f"{hl}:7" in cp.stdout, (cp.stdout, cp.stderr)

    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, cp.stderr
    lines = [SUMMARY_RE.match(x) for x in cp.stdout.splitlines()]
    lines = [m.groups() for m in lines if m]
    assert lines == [
        ("blocklist", str(ex), "4", "0", "0", "0", "4"),
        # local: localhost, localhost.localdomain, broadcasthost,
        # localhost (again), ip6-localhost, ip6-loopback, 0.0.0.0
        ("blocklist", str(hl), "2", "0", "7", "0", "8"),
    ], cp.stdout


# ------------------------------------------------------ block-response


def test_block_response_204(start, tmp_path, raw_http_origin, origin_factory):
    lst = write_list(tmp_path, "ads.txt", "ads.example\n")
    p = start(blocklist=str(lst), block_response="204")
    o = raw_http_origin()
    e = origin_factory(handler_echo)
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://ads.example:{o.port}/pixel.gif")
        r = c.read_response()
        assert r.status == 204, r
        assert r.body == b"" and r.get("content-length") in (None, "0"), r
        assert not r.says_close, r
        # nothing followed the 204: the next answer parses from byte one
        c.request("GET", f"http://ok.example:{o.port}/after")
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == info_body("GET", "/after"), r2
        assert not c.buf, bytes(c.buf)
    # CONNECT still gets 403: a 2xx would open the tunnel
    r = send_raw(p, connect_raw(f"ads.example:{e.port}"))
    assert_error_reply(r, 403)
    assert b"ads.example" in r.body, r
    assert hosts_seen(o) == [f"ok.example:{o.port}"]
    assert conns(e) == 0
    sock, status, leftover = connect_via(p, f"ok.example:{e.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"x", initial=leftover) == b"x"
    assert conns(e) == 1
    ent = p.wait_access(lambda x: x.method == "GET" and "ads.example" in x.target)
    assert ent[0].fields.get("status") == "204" and ent[0].fields.get("end") == "blocked", ent


def test_block_response_close(start, tmp_path, raw_http_origin, origin_factory):
    lst = write_list(tmp_path, "ads.txt", "# x\nads.example\n")
    p = start(blocklist=str(lst), block_response="close")
    o = raw_http_origin()
    e = origin_factory(handler_echo)
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://ads.example:{o.port}/")
        port_get = c.sock.getsockname()[1]
        assert c.wait_closed(), "connection not closed"
        assert not c.buf
    with HttpClient(p.addr) as c:
        c.send(connect_raw(f"sub.ads.example:{e.port}"))
        port_connect = c.sock.getsockname()[1]
        assert c.wait_closed()
        assert not c.buf
    for port, method in ((port_get, "GET"), (port_connect, "CONNECT")):
        ent = p.wait_access_for(port)
        assert ent.method == method, ent
        assert ent.fields.get("status") == "444", ent
        assert ent.fields.get("end") == "blocked", ent
        assert ent.fields.get("rule") == f"{lst}:2", ent
    # allowed requests still work; the origins saw only those
    r, c = get(p, f"http://ok.example:{o.port}/fine")
    with c:
        assert r.status == 200, r
    sock, status, leftover = connect_via(p, f"ok.example:{e.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"y", initial=leftover) == b"y"
    assert hosts_seen(o) == [f"ok.example:{o.port}"]
    assert conns(e) == 1


# ----------------------------------------------------------- access log


def test_access_log_blocked_rule(start, tmp_path, raw_http_origin, origin_factory):
    lst = write_list(tmp_path, "ads.txt",
                     "! adblock style\n"      # 1
                     "||ads.example^\n"       # 2
                     "\n"                     # 3
                     "0.0.0.0 tracker.example\n")  # 4
    alog = tmp_path / "blocking-access.log"
    p = start(blocklist=str(lst), access_log=str(alog))
    assert p.access_log_path == alog
    o = raw_http_origin()
    e = origin_factory(handler_echo)
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://sub.ads.example:{o.port}/a?b=c")
        r = c.read_response()
        assert r.status == 403, r
        port1 = c.sock.getsockname()[1]
    r = send_raw(p, connect_raw(f"tracker.example:{e.port}"))
    assert r.status == 403, r
    r, c = get(p, f"http://ok.example:{o.port}/ok")
    with c:
        assert r.status == 200
        port3 = c.sock.getsockname()[1]

    ent = p.wait_access_for(port1)
    assert ent.method == "GET" and ent.target == f"http://sub.ads.example:{o.port}/a?b=c", ent
    assert ent.fields.get("status") == "403", ent
    assert ent.fields.get("end") == "blocked", ent
    assert ent.fields.get("rule") == f"{lst}:2", ent

    ent = p.wait_access(lambda x: x.method == "CONNECT")[0]
    assert ent.target == f"tracker.example:{e.port}", ent
    assert ent.fields.get("status") == "403", ent
    assert ent.fields.get("end") == "blocked", ent
    assert ent.fields.get("rule") == f"{lst}:4", ent

    ent = p.wait_access_for(port3)
    assert ent.fields.get("status") == "200", ent
    assert "rule" not in ent.fields and ent.fields.get("end") != "blocked", ent
    assert conns(e) == 0
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


# ------------------------------------------------ builtin, none, and DNS


def test_blocklist_none_goes_to_dns(start, dns_server):
    p = start(blocklist="none")
    name = "doubleclick.net"
    sub = f"{unique('x')}.doubleclick.net"
    before = dns_count(dns_server, name)
    r = send_raw(p, http_request("GET", f"http://{name}/"))
    assert_error_reply(r, 502)
    r = send_raw(p, http_request("GET", f"http://{sub}/"))
    assert_error_reply(r, 502)
    assert dns_count(dns_server, name) > before, dns_server.queries[-10:]
    assert dns_count(dns_server, sub) > 0, dns_server.queries[-10:]
    ent = p.wait_access(lambda x: x.target == f"http://{name}/")[0]
    assert ent.fields.get("status") == "502" and ent.fields.get("end") == "unknown-host", ent


def test_default_builtin_blocks_without_dns(start, dns_server, raw_http_origin, tmp_path):
    p = start()  # no blocklist directive: the built-in list
    names = ["doubleclick.net", f"{unique('ad')}.doubleclick.net",
             f"{unique('x')}.googlesyndication.com"]
    before = {n: dns_count(dns_server, n) for n in names}
    for n in names:
        r, c = get(p, f"http://{n}/")
        c.close()
        assert_blocked_page(r, n, None)
        assert b"builtin" in r.body, r
        r = send_raw(p, connect_raw(f"{n}:443"))
        assert_error_reply(r, 403)
        assert n.encode() in r.body
    ent = p.wait_access(lambda x: x.target == "http://doubleclick.net/")[0]
    assert ent.fields.get("end") == "blocked", ent
    assert re.fullmatch(r"builtin:\d+", ent.fields.get("rule", "")), ent

    # control: a name on no list goes to the (NXDOMAIN) test DNS server
    control = f"{unique('control')}.example"
    r = send_raw(p, http_request("GET", f"http://{control}/"))
    assert_error_reply(r, 502)
    assert dns_count(dns_server, control) > 0, dns_server.queries[-10:]
    # ... and none of the blocked names ever got there
    assert {n: dns_count(dns_server, n) for n in names} == before

    # `blocklist builtin` next to another list keeps it
    own = write_list(tmp_path, "own.txt", "ads.example\n")
    p2 = start(blocklist=[str(own), "builtin"])
    o = raw_http_origin()
    assert status_of(p2, "http://doubleclick.net/") == 403
    assert status_of(p2, f"http://ads.example:{o.port}/") == 403
    assert status_of(p2, f"http://ok.example:{o.port}/") == 200
    # and an own list alone replaces it
    p3 = start(blocklist=str(own))
    assert status_of(p3, f"http://ads.example:{o.port}/") == 403
    r = send_raw(p3, http_request("GET", "http://doubleclick.net/"))
    assert_error_reply(r, 502)
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


def test_decision_before_dns(start, tmp_path, dns_server):
    blocked = f"{unique('nodns')}.example"
    lst = write_list(tmp_path, "nodns.txt", f"{blocked}\n")
    p = start(blocklist=str(lst))
    for n in (blocked, f"deep.{blocked}"):
        r, c = get(p, f"http://{n}/")
        c.close()
        assert_blocked_page(r, n, lst)
        r = send_raw(p, connect_raw(f"{n}:443"))
        assert_error_reply(r, 403)
    control = f"{unique('control')}.example"
    r = send_raw(p, http_request("GET", f"http://{control}/"))
    assert_error_reply(r, 502)
    assert dns_count(dns_server, control) > 0
    assert dns_count(dns_server, blocked) == 0, dns_server.queries[-10:]
    assert dns_count(dns_server, f"deep.{blocked}") == 0, dns_server.queries[-10:]


# ----------------------------------------------- --explain, --check-config


def test_explain_exit_codes_and_output(tmp_path, sluice_bin):
    lst = write_list(tmp_path, "ads.txt",
                     "# comment\n"              # 1
                     "ads.example\n"            # 2
                     "@@||ok.ads.example^\n")   # 3
    cp = run_sluice(sluice_bin, "--blocklist", lst, "--explain", "x.ads.example")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    assert cp.stdout.startswith("x.ads.example: blocked by "), cp.stdout
    assert f"{lst}:2" in cp.stdout and cp.stdout.rstrip().endswith("ads.example"), cp.stdout

    cp = run_sluice(sluice_bin, "--blocklist", lst, "--explain", "ok.ads.example")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert f"allowed by {lst}:3" in cp.stdout and "@@||ok.ads.example^" in cp.stdout, cp.stdout

    cp = run_sluice(sluice_bin, "--blocklist", lst, "--explain", "xads.example")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "allowed" in cp.stdout and "on no list" in cp.stdout, cp.stdout

    cp = run_sluice(sluice_bin, "--explain", "ads.doubleclick.net")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    assert re.search(r"blocked by builtin:\d+ .*doubleclick\.net", cp.stdout), cp.stdout

    cp = run_sluice(sluice_bin, "--blocklist", "none", "--explain", "doubleclick.net")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "allowed" in cp.stdout, cp.stdout

    missing = tmp_path / "no-such.txt"
    cp = run_sluice(sluice_bin, "--blocklist", missing, "--explain", "ads.example")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    assert f"{missing}: cannot read" in cp.stderr, cp.stderr

    cp = run_sluice(sluice_bin, "--explain")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)


def test_check_config_summary_lines(tmp_path, sluice_bin):
    bl = write_list(tmp_path, "mixed.txt",
                    "# comment\n"                          # blank/comment
                    "ads.example\n"                        # loaded
                    "ADS.example.\n"                       # duplicate
                    "0.0.0.0 localhost tracker.example\n"  # local + loaded
                    "||adblock.example^\n"                 # loaded
                    "example.com##.banner\n"               # skipped
                    "/ads[0-9]+/\n"                        # skipped
                    "*.wild.example\n"                     # loaded
                    "\n")                                  # blank
    al = write_list(tmp_path, "allow.txt", "ok.ads.example\n")
    cp = run_sluice(sluice_bin, "--blocklist", bl, "--allowlist", al, "--check-config")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    out = cp.stdout.splitlines()
    assert f"sluice: blocklist {bl}: 4 loaded, 1 duplicates, 1 local, 2 skipped (9 lines)" in out, cp.stdout
    assert f"sluice: allowlist {al}: 1 loaded, 0 duplicates, 0 local, 0 skipped (1 lines)" in out, cp.stdout
    assert any(re.match(r"^sluice: blocklists: 5 rules from 2 lists", x) for x in out), cp.stdout

    # default: the built-in list is summarised too
    cp = run_sluice(sluice_bin, "--check-config")
    assert cp.returncode == 0, cp.stderr
    assert any(re.match(r"^sluice: blocklist builtin: [1-9]\d* loaded", x)
               for x in cp.stdout.splitlines()), cp.stdout


def test_check_config_missing_list_in_file(tmp_path, sluice_bin):
    missing = tmp_path / "gone.txt"
    conf = tmp_path / "m.conf"
    conf.write_text("# sluice config\nblocklist builtin\n"
                    f"blocklist {missing}\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    assert f"{conf}:3: blocklist {missing}: cannot read: " in cp.stderr, cp.stderr
    assert "No such file" in cp.stderr, cp.stderr
    # the proxy itself refuses to start the same way
    cp = run_sluice(sluice_bin, "-c", conf, "--listen", "127.0.0.1:0",
                    "--access-log", "off")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    assert f"{conf}:3: blocklist {missing}: cannot read: " in cp.stderr, cp.stderr
    # an allowlist too
    conf.write_text(f"allowlist {missing}\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    assert f"{conf}:1: allowlist {missing}: cannot read: " in cp.stderr, cp.stderr


def test_glob_matching_nothing_is_a_warning(tmp_path, sluice_bin, start, raw_http_origin):
    d = tmp_path / "empty-dir"
    d.mkdir()
    pattern = f"{d}/*.hosts"
    own = write_list(tmp_path, "own.txt", "ads.example\n")
    conf = tmp_path / "g.conf"
    conf.write_text(f"blocklist {pattern}\nblocklist {own}\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    warn = [x for x in (cp.stdout + cp.stderr).splitlines() if "warning" in x]
    assert any(pattern in x and "matches no file" in x for x in warn), (cp.stdout, cp.stderr)
    assert f"sluice: blocklist {own}: 1 loaded, 0 duplicates, 0 local, 0 skipped (1 lines)" \
        in cp.stdout.splitlines(), cp.stdout
    cp = run_sluice(sluice_bin, "-c", conf, "--explain", "ads.example")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    # and the proxy starts with it, blocking what the other list says
    p = start(blocklist=[pattern, str(own)])
    o = raw_http_origin()
    assert status_of(p, f"http://ads.example:{o.port}/") == 403
    assert status_of(p, f"http://ok.example:{o.port}/") == 200
    assert "matches no file" in p.stderr()
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


def test_glob_loads_every_match_sorted(tmp_path, sluice_bin, start, raw_http_origin):
    d = tmp_path / "lists.d"
    d.mkdir()
    # created out of order; the glob must load them a, b, c
    (d / "c.hosts").write_text("0.0.0.0 dup.example c.example\n")
    (d / "a.hosts").write_text("# a\n0.0.0.0 a.example dup.example\n")
    (d / "b.hosts").write_text("0.0.0.0 b.example\n")
    (d / "skip.txt").write_text("skip.example\n")  # not matched by the glob
    pattern = f"{d}/*.hosts"
    cp = run_sluice(sluice_bin, "--blocklist", pattern, "--check-config")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    got = [m.groups() for m in map(SUMMARY_RE.match, cp.stdout.splitlines()) if m]
    assert got == [
        ("blocklist", f"{d}/a.hosts", "2", "0", "0", "0", "2"),
        ("blocklist", f"{d}/b.hosts", "1", "0", "0", "0", "1"),
        ("blocklist", f"{d}/c.hosts", "1", "1", "0", "0", "1"),
    ], cp.stdout
    # the earlier list (in sorted order) is the one named for a duplicate
    cp = run_sluice(sluice_bin, "--blocklist", pattern, "--explain", "x.dup.example")
    assert cp.returncode == 1, cp
    assert f"blocked by {d}/a.hosts:2" in cp.stdout, cp.stdout
    for n, code in (("a.example", 1), ("b.example", 1), ("c.example", 1),
                    ("skip.example", 0)):
        cp = run_sluice(sluice_bin, "--blocklist", pattern, "--explain", n)
        assert cp.returncode == code, (n, cp.stdout)

    p = start(blocklist=pattern)
    o = raw_http_origin()
    r, c = get(p, f"http://x.dup.example:{o.port}/")
    c.close()
    assert_blocked_page(r, "x.dup.example", d / "a.hosts")
    ent = p.wait_access(lambda x: "dup.example" in x.target)[0]
    assert ent.fields.get("rule") == f"{d}/a.hosts:2", ent
    assert status_of(p, f"http://ok.example:{o.port}/") == 200
    assert hosts_seen(o) == [f"ok.example:{o.port}"]


# ----------------------------------------------------------- SIGHUP


def test_sighup_reload_swaps_lists(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "reload.txt", "a.test\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    a_url = f"http://a.test:{o.port}/"
    b_url = f"http://b.test:{o.port}/"
    assert status_of(p, a_url) == 403
    assert status_of(p, b_url) == 200
    assert hosts_seen(o) == [f"b.test:{o.port}"]

    tmp = lst.with_suffix(".new")
    tmp.write_text("# version 2\nb.test\n")
    os.replace(tmp, lst)
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: reload_count(p) >= 1, IO_TIMEOUT, what="'reload done' in the log")
    wait_for(lambda: status_of(p, b_url) == 403 and status_of(p, a_url) == 200,
             IO_TIMEOUT, interval=0.05, what="b.test blocked and a.test allowed")
    assert status_of(p, b_url) == 403
    assert status_of(p, a_url) == 200
    assert "reload done" in p.stderr()
    # b.test never reached the origin after the reload was in use
    seen = hosts_seen(o)
    assert seen[0] == f"b.test:{o.port}"
    assert seen[-1] == f"a.test:{o.port}"
    ent = p.wait_access(lambda x: x.target == b_url and x.fields.get("end") == "blocked")[0]
    assert ent.fields.get("rule") == f"{lst}:2", ent


def test_sighup_reload_under_load(start, tmp_path, raw_http_origin, origin_factory):
    lst = write_list(tmp_path, "load.txt", "blocked.test\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    echo = origin_factory(handler_echo)
    ok_url = f"http://ok.test:{o.port}/ok"
    bad_url = f"http://blocked.test:{o.port}/bad"

    n_threads = 3
    stop = threading.Event()
    done = [0] * n_threads
    errors = []
    deadline = time.monotonic() + 60.0

    def client(i):
        c = None
        try:
            for k in range(5000):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                if c is None:
                    c = HttpClient(p.addr)
                url, want = (ok_url, 200) if k % 2 == 0 else (bad_url, 403)
                c.request("GET", url)
                r = c.read_response()
                if r.status != want:
                    errors.append(f"thread {i} request {k}: {url} -> {r!r}")
                    return
                if want == 200 and r.body != info_body("GET", "/ok"):
                    errors.append(f"thread {i}: wrong body {r!r}")
                    return
                done[i] += 1
                if r.says_close:
                    c.close()
                    c = None
        except BaseException as e:  # noqa: BLE001
            errors.append(f"thread {i} after {done[i]} requests: {e!r}")
        finally:
            if c is not None:
                c.close()

    sock, status, leftover = connect_via(p, f"ok.test:{echo.port}")
    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(n_threads)]
    try:
        assert status == 200
        assert exchange(sock, b"before", initial=leftover) == b"before"
        for t in threads:
            t.start()
        wait_for(lambda: all(d >= 2 for d in done) or errors, IO_TIMEOUT,
                 what="every client thread under way")
        n_reloads = 5
        for i in range(1, n_reloads + 1):
            # same verdicts, different line numbers
            lst.write_text("# pad\n" * i + "blocked.test\n")
            p.send_signal(signal.SIGHUP)
            wait_for(lambda: reload_count(p) >= i or not p.alive(), IO_TIMEOUT,
                     what=f"reload {i} done")
            assert p.alive()
            msg = f"tunnel after reload {i}".encode()
            assert exchange(sock, msg) == msg
        # requests keep being answered after the last reload
        mark = list(done)
        wait_for(lambda: all(d >= m + 2 for d, m in zip(done, mark)) or errors,
                 IO_TIMEOUT, what="requests after the last reload")
    finally:
        stop.set()
        for t in threads:
            t.join(IO_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a client thread is stuck"
    assert not errors, errors
    assert sum(done) >= 4 * n_threads
    with sock:
        assert exchange(sock, b"after all reloads") == b"after all reloads"
    assert reload_count(p) == n_reloads
    assert "reload failed" not in p.stderr()
    # blocked.test never reached the origin; the last reload's line is named
    assert set(hosts_seen(o)) == {f"ok.test:{o.port}"}
    assert status_of(p, bad_url) == 403
    ent = p.wait_access(lambda x: x.target == bad_url
                        and x.fields.get("rule") == f"{lst}:{n_reloads + 1}")
    assert ent


def test_sighup_deleted_list_keeps_old_set(start, tmp_path, raw_http_origin):
    lst = write_list(tmp_path, "keep.txt", "a.test\n")
    p = start(blocklist=str(lst))
    o = raw_http_origin()
    a_url = f"http://a.test:{o.port}/"
    b_url = f"http://b.test:{o.port}/"
    assert status_of(p, a_url) == 403
    lst.unlink()
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in p.stderr() or not p.alive(), IO_TIMEOUT,
             what="'reload failed' in the log")
    assert p.alive()
    err = [x for x in p.stderr().splitlines() if "reload failed" in x]
    assert len(err) == 1, p.stderr()
    assert " error " in err[0] and str(lst) in err[0] and "cannot read" in err[0], err
    assert reload_count(p) == 0
    # the old set is still in use
    assert status_of(p, a_url) == 403
    assert status_of(p, b_url) == 200
    # and a later reload with the file back works
    lst.write_text("b.test\n")
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: reload_count(p) >= 1, IO_TIMEOUT, what="'reload done'")
    wait_for(lambda: status_of(p, b_url) == 403 and status_of(p, a_url) == 200,
             IO_TIMEOUT, what="the new set in use")
    assert set(hosts_seen(o)) <= {f"b.test:{o.port}", f"a.test:{o.port}"}
    assert hosts_seen(o)[0] == f"b.test:{o.port}"
