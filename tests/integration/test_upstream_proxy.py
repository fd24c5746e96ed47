"""Chaining to a parent proxy: upstream-proxy, upstream-proxy-for, direct-for.

Two sluice instances chained (client -> child -> parent -> origin) for
CONNECT (TLS end to end, a plain echo) and plain HTTP (GET, POST); the
parent's credentials (a parent with auth-file: the right ones pass, a 407
becomes 502 at the child); raw recording fake parents for what the child
sends (absolute form, its own Proxy-Authorization and never the client's,
one pooled connection for two requests) and for what a parent may answer
(a 403, a 2xx with tunnel bytes behind it, garbage, nothing); the choice
per domain; a parent that is down. And a real Squid as the parent when
Debian's squid is installed.
"""

import base64
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (
    IO_TIMEOUT,
    HttpClient,
    closed_port,
    connect_via,
    exchange,
    free_port,
    http_request,
    read_reply,
    recv_head,
    recv_until_eof,
    tcp_connect,
    wait_for,
)

HTPASSWD = shutil.which("htpasswd")
SQUID = shutil.which("squid") or (
    "/usr/sbin/squid" if os.path.exists("/usr/sbin/squid") else None)


def b64(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def chain(proxy_factory):
    """chain(parent_kw={}, **child_kw) -> (child, parent)."""
    def make(parent_kw=None, **child_kw):
        parent = proxy_factory(**(parent_kw or {}))
        child = proxy_factory(
            upstream_proxy=f"http://{child_kw.pop('creds', '')}"
                           f"127.0.0.1:{parent.port}", **child_kw)
        return child, parent
    return make


def tls_get(sock, cert, host="example.test"):
    """A TLS handshake over sock (checking the certificate for host), then
    GET /; returns the plain response bytes."""
    ctx = ssl.create_default_context(cafile=str(cert))
    with ctx.wrap_socket(sock, server_hostname=host) as tls:
        tls.settimeout(IO_TIMEOUT)
        tls.sendall(b"GET /tls HTTP/1.1\r\nHost: example.test\r\n"
                    b"Connection: close\r\n\r\n")
        out = b""
        for _ in range(1000):
            try:
                chunk = tls.recv(65536)
            except ssl.SSLZeroReturnError:
                break
            if not chunk:
                break
            out += chunk
        return out


# --------------------------------------------------------------------------
# two sluices chained
# --------------------------------------------------------------------------


def test_connect_and_tls_through_a_parent(chain, http_origin_factory, tls_cert):
    origin = http_origin_factory(tls=True, body=b"secret\n")
    child, parent = chain()
    target = f"example.test:{origin.port}"
    sock, status, left = connect_via(child, target)
    assert status == 200 and left == b""
    got = tls_get(sock, tls_cert[0])
    assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"secret\n"), got
    assert origin.paths == ["/tls"]
    e = parent.wait_access(lambda e: e.method == "CONNECT")[0]
    assert e.target == target and e.fields["status"] == "200"
    assert e.fields["decision"] == "allowed"
    c = child.wait_access(lambda e: e.method == "CONNECT")[0]
    assert c.target == target and c.fields["status"] == "200"
    assert c.int("down") > len(b"secret\n")


def test_connect_to_an_echo_with_bytes_behind_the_head(chain, echo_origin):
    child, parent = chain()
    sock, status, left = connect_via(child, echo_origin.target, extra=b"early")
    with sock:
        got = recv_head_bytes(sock, 5, left)
        assert got == b"early"
        assert exchange(sock, b"x" * 100_000) == b"x" * 100_000
    rec = echo_origin.wait_conns(1)[0]
    assert rec.peer[0] == "127.0.0.1"
    parent.wait_access(lambda e: e.method == "CONNECT")


def recv_head_bytes(sock, n, initial=b""):
    buf = initial
    deadline = time.monotonic() + IO_TIMEOUT
    for _ in range(10000):
        if len(buf) >= n or time.monotonic() > deadline:
            break
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def test_get_and_post_through_a_parent(chain, raw_http_origin):
    origin = raw_http_origin()
    child, parent = chain()
    with HttpClient(child.addr) as c:
        c.request("GET", origin.url("/a?b=1"))
        r = c.read_response()
        assert r.status == 200 and r.body.startswith(b"GET /a?b=1 n=0")
        body = os.urandom(70_000)
        c.request("POST", origin.url("/up"),
                  headers=[("Content-Length", str(len(body)))], body=body)
        r = c.read_response()
        assert r.status == 200 and r.body.startswith(b"POST /up n=70000")
    reqs = origin.wait_requests(2)
    assert [q.target for q in reqs] == ["/a?b=1", "/up"]
    assert reqs[1].body == body
    # both proxies added their Via, the child's first
    assert reqs[0].get("via") == "1.1 sluice, 1.1 sluice"
    gets = parent.wait_access(lambda e: e.method in ("GET", "POST"), count=2)
    assert {e.target for e in gets} == {origin.url("/a?b=1"), origin.url("/up")}


@pytest.mark.skipif(HTPASSWD is None, reason="needs htpasswd (apache2-utils)")
def test_parent_credentials(chain, proxy_factory, tmp_path, echo_origin,
                            raw_http_origin):
    line = subprocess.run(
        [HTPASSWD, "-n", "-b", "-B", "-C", "4", "alice", "won:der land"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    users = tmp_path / "users"
    users.write_text(line.strip() + "\n")
    parent_kw = {"auth_file": str(users)}
    good, _ = chain(parent_kw, creds="alice:won%3Ader%20land@")
    sock, status, _ = connect_via(good, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"ping") == b"ping"
    origin = raw_http_origin()
    with HttpClient(good.addr) as c:
        c.request("GET", origin.url("/x"))
        assert c.read_response().status == 200
    # the origin never sees the parent's credentials
    assert origin.wait_requests(1)[0].get("proxy-authorization") is None

    bad, bad_parent = chain(parent_kw, creds="alice:wrong@")
    sock, status, _ = connect_via(bad, echo_origin.target)
    sock.close()
    assert status == 502
    e = bad.wait_access(lambda e: e.method == "CONNECT")[0]
    assert e.fields["decision"] == "upstream-error"
    assert e.fields["rule"] == "parent-407"
    assert e.fields["end"] == "parent-refused"
    assert "407" in bad.stderr()
    with HttpClient(bad.addr) as c:
        c.request("GET", origin.url("/y"))
        r = c.read_response()
        assert r.status == 502
    e = bad.wait_access(lambda e: e.method == "GET")[0]
    assert e.fields["rule"] == "parent-407"


# --------------------------------------------------------------------------
# a raw recording fake parent
# --------------------------------------------------------------------------


def test_plain_http_goes_in_absolute_form_with_our_credentials_only(
        proxy_factory, raw_http_origin):
    fake = raw_http_origin()  # a "parent" that answers every request itself
    # one worker: the pool is per worker
    child = proxy_factory(
        upstream_proxy=f"http://us%40er:p%3Ass@127.0.0.1:{fake.port}",
        workers="1")
    with HttpClient(child.addr) as c:
        c.request("GET", "http://example.test:8080/p?q=1", headers=[
            ("Proxy-Authorization", "Basic " + b64("client", "secret")),
            ("Proxy-Connection", "keep-alive"),
            ("Connection", "X-Private"),
            ("X-Private", "1"),
            ("X-Public", "2")])
        assert c.read_response().status == 200
        c.request("GET", "http://other.example:80/second")
        assert c.read_response().status == 200
    with HttpClient(child.addr) as c:  # another client: the same parent conn
        c.request("GET", "http://example.test:8080/third")
        assert c.read_response().status == 200
    reqs = fake.wait_requests(3)
    q = reqs[0]
    assert q.request_line == "GET http://example.test:8080/p?q=1 HTTP/1.1"
    assert q.get("host") == "example.test:8080"
    assert q.values("proxy-authorization") == ["Basic " + b64("us@er", "p:ss")]
    assert q.get("proxy-connection") is None and q.get("x-private") is None
    assert q.get("x-public") == "2"
    assert reqs[1].target == "http://other.example:80/second"
    # pooled: one connection to the parent carried all three
    assert [r.conn_index for r in reqs] == [0, 0, 0]
    assert len(fake.records) == 1


def test_direct_for_names_go_direct(proxy_factory, raw_http_origin,
                                    origin_factory, echo_origin):
    fake = raw_http_origin()
    origin = raw_http_origin()
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{fake.port}",
                          direct_for="example.test")
    with HttpClient(child.addr) as c:
        c.request("GET", origin.url("/direct"))
        assert c.read_response().status == 200
    sock, status, _ = connect_via(child, f"example.test:{echo_origin.port}")
    with sock:
        assert status == 200 and exchange(sock, b"hi") == b"hi"
    # a subdomain of a direct-for name goes direct too; another name not
    with HttpClient(child.addr) as c:
        c.request("GET", f"http://alias.example.test:{origin.port}/sub")
        assert c.read_response().status == 200
        c.request("GET", "http://elsewhere.example:8080/parent")
        assert c.read_response().status == 200
    assert [q.target for q in origin.wait_requests(2)] == ["/direct", "/sub"]
    got = fake.wait_requests(1)
    assert [q.target for q in got] == ["http://elsewhere.example:8080/parent"]


def test_most_specific_name_decides(proxy_factory, raw_http_origin):
    fake = raw_http_origin()
    origin = raw_http_origin()
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{fake.port}",
                          upstream_proxy_for="alias.example.test",
                          direct_for="example.test")
    with HttpClient(child.addr) as c:
        for host in ("example.test", "alias.example.test",
                     "dual.example.test", "127.0.0.1"):
            c.request("GET", f"http://{host}:{origin.port}/{host}")
            assert c.read_response().status == 200
    # only alias.example.test is for the parent: with upstream-proxy-for,
    # names it does not list (and IP addresses) go direct
    assert [q.target for q in fake.wait_requests(1)] == [
        f"http://alias.example.test:{origin.port}/alias.example.test"]
    assert sorted(q.target for q in origin.wait_requests(3)) == sorted(
        ["/example.test", "/dual.example.test", "/127.0.0.1"])


def fake_connect_parent(origin_factory, answer, then=None):
    """A parent that reads one CONNECT head, records it, sends answer (one
    send), then runs then(sock) if given."""
    heads = []

    def handler(c, rec, origin):
        head, _ = recv_head(c)
        heads.append(head)
        c.sendall(answer)
        if then is not None:
            then(c)
        else:
            c.shutdown(socket.SHUT_WR)
            recv_until_eof(c, allow_reset=True)
    o = origin_factory(handler)
    o.heads = heads
    return o


def test_parent_refusing_connect_is_a_502(proxy_factory, origin_factory):
    fake = fake_connect_parent(
        origin_factory,
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nnope!\n")
    child = proxy_factory(upstream_proxy=f"http://u:p@127.0.0.1:{fake.port}")
    r = send_connect(child, "example.test:443")
    assert r.status == 502 and b"403 Forbidden" in r.body
    head = fake.heads[0].decode()
    assert head.split("\r\n") == [
        "CONNECT example.test:443 HTTP/1.1", "Host: example.test:443",
        "Proxy-Authorization: Basic " + b64("u", "p")]
    e = child.wait_access(lambda e: e.method == "CONNECT")[0]
    assert (e.fields["status"], e.fields["decision"], e.fields["rule"],
            e.fields["end"]) == ("502", "upstream-error", "parent-403",
                                 "parent-refused")
    assert "HTTP/1.1 403 Forbidden" in child.stderr()


def send_connect(proxy, target):
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
                     .encode())
        return read_reply(sock)


def test_bytes_behind_the_parents_answer_reach_the_client(proxy_factory,
                                                          origin_factory):
    def then(c):
        c.sendall(b" and more")
        c.shutdown(socket.SHUT_WR)
        recv_until_eof(c, allow_reset=True)
    fake = fake_connect_parent(
        origin_factory,
        b"HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-greeting", then)
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{fake.port}")
    sock = tcp_connect(child.addr)
    with sock:
        sock.sendall(b"CONNECT example.test:443 HTTP/1.1\r\n"
                     b"Host: example.test:443\r\n\r\n")
        head, left = recv_head(sock)
        assert head.startswith(b"HTTP/1.1 200")
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock, initial=left) == \
            b"SSH-2.0-greeting and more"


@pytest.mark.parametrize("answer,why", [
    (b"HTTP/1.1 200 OK\r\nBad Field\r\n\r\n", "invalid"),
    (b"SSH-2.0-not-http\r\n\r\n", "invalid"),
    (b"HTTP/1.1 200 Conn", "without an answer"),
    (b"", "without an answer"),
])
def test_bad_or_missing_parent_answers_are_502(proxy_factory, origin_factory,
                                                answer, why):
    fake = fake_connect_parent(origin_factory, answer)
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{fake.port}")
    r = send_connect(child, "example.test:443")
    assert r.status == 502, r
    assert b"parent proxy 127.0.0.1:%d" % fake.port in r.body
    e = child.wait_access(lambda e: e.method == "CONNECT")[0]
    assert e.fields["decision"] == "upstream-error"


def test_parent_answer_head_too_large_is_502(proxy_factory, origin_factory):
    big = b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 3000 + b"\r\n"
    fake = fake_connect_parent(origin_factory, big * 1 + b"Y: " +
                               b"b" * 70_000 + b"\r\n\r\n")
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{fake.port}",
                          max_head_size="8KiB", max_request_line="4KiB")
    r = send_connect(child, "example.test:443")
    assert r.status == 502 and b"too large" in r.body


def test_parent_down_is_a_prompt_502_with_the_reason(proxy_factory,
                                                      raw_http_origin):
    hold = closed_port()
    port = hold.getsockname()[1]
    with hold:
        child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{port}")
        r = send_connect(child, "example.test:443")
        assert r.status == 502
        reason = b"parent proxy 127.0.0.1:%d: connection refused" % port
        assert reason in r.body
        with HttpClient(child.addr) as c:
            c.request("GET", "http://example.test:8080/")
            r = c.read_response()
            assert r.status == 502 and reason in r.body
        wait_for(lambda: reason.decode() in child.stderr(), IO_TIMEOUT,
                 what="the reason in the error log")
        e = child.wait_access(lambda e: e.method == "CONNECT")[0]
        assert e.fields["end"] == "connect-failed"
        assert e.fields["rule"] == "parent-ECONNREFUSED"


def test_parent_that_does_not_accept_times_out_504(proxy_factory, blackhole):
    child = proxy_factory(upstream_proxy=f"http://{blackhole.target}",
                          connect_timeout="300ms")
    r = send_connect(child, "example.test:443")
    assert r.status == 504 and b"parent proxy" in r.body


def test_reload_turns_the_parent_on(proxy_factory, raw_http_origin):
    fake = raw_http_origin()
    origin = raw_http_origin()
    child = proxy_factory()
    with HttpClient(child.addr) as c:
        c.request("GET", origin.url("/before"))
        assert c.read_response().status == 200
    conf = child.config_path
    conf.write_text(conf.read_text() +
                    f"upstream-proxy http://127.0.0.1:{fake.port}\n")
    child.send_signal(signal.SIGHUP)
    wait_for(lambda: re.search(r"reload (done|failed)", child.stderr()),
             IO_TIMEOUT, what="the reload to end")
    assert "reload done" in child.stderr(), child.stderr()
    with HttpClient(child.addr) as c:
        c.request("GET", origin.url("/after"))
        assert c.read_response().status == 200
    assert [q.target for q in fake.wait_requests(1)] == [origin.url("/after")]
    assert [q.target for q in origin.requests][:1] == ["/before"]


# --------------------------------------------------------------------------
# a real Squid as the parent
# --------------------------------------------------------------------------


@pytest.fixture
def squid():
    """Squid on loopback, no cache, everything in a temporary directory
    (its own: Squid drops to the user proxy, which must write there)."""
    if SQUID is None:
        pytest.skip("squid is not installed (apt-get install squid)")
    d = Path(tempfile.mkdtemp(prefix="sluice-squid-"))
    port = free_port()
    conf = d / "squid.conf"
    conf.write_text(f"""\
http_port 127.0.0.1:{port}
acl localhost src 127.0.0.1/32
http_access allow localhost
http_access deny all
cache deny all
cache_mem 8 MB
pid_filename {d}/squid.pid
access_log stdio:{d}/access.log
cache_log {d}/cache.log
cache_store_log none
coredump_dir {d}
shutdown_lifetime 1 seconds
visible_hostname sluice-test
""")
    if os.geteuid() == 0:
        with open(conf, "a") as f:
            f.write("cache_effective_user proxy\n")
        shutil.chown(d, "proxy")
    proc = subprocess.Popen([SQUID, "-N", "-f", str(conf)],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def up():
        if proc.poll() is not None:
            return "exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return "up"
        except OSError:
            return None
    try:
        state = wait_for(up, 20, what="squid listening")
    except AssertionError:
        state = None
    if state != "up":
        proc.kill()
        proc.wait(5)
        log = (d / "cache.log").read_text() if (d / "cache.log").exists() \
            else ""
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip(f"squid did not start: {log[-500:]}")
    proc.port = port
    proc.dir = d
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    shutil.rmtree(d, ignore_errors=True)


def test_squid_as_the_parent(proxy_factory, squid, http_origin_factory,
                             raw_http_origin, tls_cert):
    origin = http_origin_factory(tls=True, body=b"via squid\n")
    plain = raw_http_origin()
    # squid resolves names itself: give it addresses
    child = proxy_factory(upstream_proxy=f"http://127.0.0.1:{squid.port}")
    sock, status, left = connect_via(child, f"127.0.0.1:{origin.port}")
    assert status == 200 and left == b""
    got = tls_get(sock, tls_cert[0])
    assert got.endswith(b"via squid\n"), got
    with HttpClient(child.addr) as c:
        c.request("GET", f"http://127.0.0.1:{plain.port}/squid")
        r = c.read_response()
        assert r.status == 200 and r.body.startswith(b"GET /squid")
    q = plain.wait_requests(1)[0]
    assert "sluice" in (q.get("via") or "")
