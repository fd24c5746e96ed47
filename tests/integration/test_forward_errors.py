"""Forwarding errors: origin trouble (refused, unknown host, connect
timeout, malformed or missing response head, truncated bodies) and refused
requests (400/414/431/501/505). Every refusal is a text/plain `sluice: ...`
answer followed by a close; a refused request never reaches the origin, and
a normal request on a new connection still works afterwards."""

import os
import socket
import time

import pytest

from conftest import (
    IO_TIMEOUT,
    HttpClient,
    assert_error_reply,
    closed_port,
    http_request,
    http_response,
    info_body,
    read_reply,
    recv_head,
    recv_until_eof,
    send_raw,
    tcp_connect,
)


def assert_sluice_error(r, status):
    assert_error_reply(r, status)
    assert r.body.startswith(b"sluice: "), r
    conn = [t.strip().lower() for t in r.head.headers.get("connection", "").split(",")]
    assert "close" in conn, f"sluice closes after an error without Connection: close: {r!r}"


def follow_up_works(proxy, o, path="/ok"):
    """A normal request on a new connection; then the origin must have seen
    nothing but normal requests."""
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url(path))
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", path), r
    reqs = o.wait_requests(1)
    return reqs


def assert_origin_saw_only_follow_up(o, path="/ok"):
    reqs = o.wait_requests(1)
    assert [q.target for q in reqs] == [path], (
        f"a refused request reached the origin: {reqs!r}; bytes: {o.all_bytes()[:500]!r}")


# ------------------------------------------------------------ origin trouble


@pytest.mark.parametrize("name", ["127.0.0.1", "example.test"])
def test_refused_origin_502(proxy, name):
    holder = closed_port()
    try:
        port = holder.getsockname()[1]
        url = f"http://{name}:{port}/x"
        r = send_raw(proxy, http_request("GET", url))
        assert_sluice_error(r, 502)
    finally:
        holder.close()
    e = proxy.wait_access(lambda e: e.target == url)[0]
    assert e.method == "GET" and e.int("status") == 502, e


def test_unknown_host_502(proxy, dns_nxdomain):
    r = send_raw(proxy, http_request("GET", "http://no-such-host.invalid/x"), timeout=20)
    assert_sluice_error(r, 502)
    assert "no-such-host.invalid" in [q.lower() for q in dns_nxdomain.queries]


def test_connect_timeout_504(proxy_factory, blackhole):
    p = proxy_factory(connect_timeout="1s")
    t0 = time.monotonic()
    r = send_raw(p, http_request("GET", f"http://{blackhole.target}/bh"), timeout=15)
    assert_sluice_error(r, 504)
    assert time.monotonic() - t0 >= 0.9, "504 before connect-timeout elapsed"


def test_plain_http_to_any_port(proxy_factory, raw_http_origin):
    """connect-ports restricts CONNECT only."""
    p = proxy_factory(connect_ports="443")
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/anyport"))
        assert c.read_response().body == info_body("GET", "/anyport")


BAD_RESPONSE_HEADS = {
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "bare-lf-field": b"HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 2\r\n\r\nok",
    "two-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    "cl-list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok!",
    "cl-alpha": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok",
    "cl-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
    "cl-plus": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    "status-4-digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    "no-status": b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",
    "bad-proto": b"HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "http2-version": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "garbage": b"hello world\r\n\r\n",
    "nul-in-field": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "no-colon": b"HTTP/1.1 200 OK\r\nX-A b\r\nContent-Length: 0\r\n\r\n",
}


@pytest.mark.parametrize("name", list(BAD_RESPONSE_HEADS))
def test_malformed_response_head_502(proxy, raw_http_origin, name):
    raw = BAD_RESPONSE_HEADS[name]

    def respond(req, ctx):
        if req.target == "/bad":
            ctx.close = True
            return raw
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    r = send_raw(proxy, http_request("GET", o.url("/bad")))
    assert_sluice_error(r, 502)
    follow_up_works(proxy, o)


def test_response_obs_fold_502_or_unfolded(proxy, raw_http_origin):
    """RFC 9112 §5.2: a proxy either answers 502 or replaces obs-fold by SP."""
    def respond(req, ctx):
        ctx.close = True
        return b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok"
    o = raw_http_origin(respond)
    r = send_raw(proxy, http_request("GET", o.url("/fold")))
    if r.status == 502:
        assert_sluice_error(r, 502)
    else:
        assert r.status == 200, r
        assert b"\r\n " not in r.head.raw and b"\r\n\t" not in r.head.raw, r
        assert r.body == b"ok"


def test_response_head_too_large_502(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.close = True
        fields = [(f"X-F{i}", "v" * 1000) for i in range(80)]
        return http_response(200, b"big head", fields)
    o = raw_http_origin(respond)
    r = send_raw(proxy, http_request("GET", o.url("/bighead")))
    assert_sluice_error(r, 502)


@pytest.mark.parametrize("how", ["close", "reset", "partial-head"])
def test_origin_closes_before_response_502(proxy, raw_http_origin, how):
    def respond(req, ctx):
        if req.target != "/die":
            return http_response(200, info_body(req.method, req.target))
        ctx.close = True
        if how == "reset":
            ctx.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            ctx.sock.close()
            return None
        if how == "partial-head":
            return b"HTTP/1.1 200 OK\r\nContent-Le"
        return None
    o = raw_http_origin(respond)
    r = send_raw(proxy, http_request("GET", o.url("/die")))
    assert_sluice_error(r, 502)
    follow_up_works(proxy, o)


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_origin_closes_mid_body(proxy, raw_http_origin, framing):
    """The head was relayed already: sluice can only close the client
    connection, without completing the message."""
    def respond(req, ctx):
        ctx.close = True
        if framing == "length":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + b"x" * 1000 + b"\r\n"
    o = raw_http_origin(respond)
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(http_request("GET", o.url("/trunc")))
        raw, leftover = recv_head(s)
        assert raw.startswith(b"HTTP/1.1 200"), raw
        rest = recv_until_eof(s, initial=leftover, allow_reset=True)
    if framing == "length":
        assert len(rest) < 100000, "a truncated body cannot have been completed"
    else:
        assert not rest.endswith(b"0\r\n\r\n"), f"sluice completed a truncated chunked body: {rest[-50:]!r}"


@pytest.mark.parametrize("delay", [0, 0.2], ids=["together", "delayed"])
@pytest.mark.parametrize("bad", [b"zz\r\n", b"-1\r\n", b"5\r\nhelloXX", b"10000000000000000\r\n"],
                         ids=["non-hex", "negative", "no-crlf-after-data", "overflow"])
def test_invalid_chunked_response_closes_client(proxy, raw_http_origin, bad, delay):
    """An invalid chunked response body: sluice answers 502 if it has sent
    nothing yet, else closes the client connection without completing the
    message; never relays the bytes behind the defect."""
    def respond(req, ctx):
        ctx.close = True
        ctx.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        time.sleep(delay)
        return (bad + b"\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
    o = raw_http_origin(respond)
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(http_request("GET", o.url("/badchunk")))
        got = recv_until_eof(s, allow_reset=True)
    if got.startswith(b"HTTP/1.1 502 "):
        return
    assert b"smuggled" not in got, f"bytes behind an invalid chunk relayed: {got!r}"
    if got:
        assert got.startswith(b"HTTP/1.1 200 "), got
        assert not got.endswith(b"0\r\n\r\n"), (
            f"sluice relayed an invalid chunked body as complete: {got!r}")


def test_client_disconnect_mid_response_does_not_hurt(proxy, raw_http_origin):
    def respond(req, ctx):
        if req.target == "/big":
            ctx.close = True
            body = os.urandom(4 << 20)
            try:
                ctx.send(http_response(200, body))
            except OSError:
                pass
            return None
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    s = tcp_connect(proxy.addr)
    s.sendall(http_request("GET", o.url("/big")))
    recv_head(s)
    s.close()
    follow_up_works(proxy, o)


def test_client_aborts_request_body(proxy, raw_http_origin):
    """Client declares 100 body bytes, sends 10, closes: the origin sees its
    connection end (not left hanging)."""
    o = raw_http_origin()
    s = tcp_connect(proxy.addr)
    s.sendall(http_request("POST", o.url("/abort"), [("Content-Length", "100")], b"0123456789"))
    o.wait_requests(1)
    s.close()
    rec = o.wait_done(0, timeout=10)
    assert rec.close_reason and "EOF" in rec.close_reason, rec.close_reason


# ------------------------------------------------------------ request errors


REQUEST_ERRORS = [
    # id, builder(o) -> bytes, expected status(es)
    ("no-host-absolute", lambda o: f"GET {o.url('/r')} HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400),
    ("two-host-same", lambda o: http_request("GET", o.url("/r"), [("Host", o.authority)]), 400),
    ("two-host-different", lambda o: http_request("GET", o.url("/r"), [("Host", "other.test")]), 400),
    ("host-invalid", lambda o: http_request("GET", o.url("/r"), host="exa mple.test"), 400),
    ("host-bad-ipv6", lambda o: http_request("GET", o.url("/r"), host="[::1"), 400),
    ("cl-and-te", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "5"),
                                         ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"), 400),
    ("cl-alpha", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "abc")]), 400),
    ("cl-negative", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "-1")]), 400),
    ("cl-plus", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "+5")], b"hello"), 400),
    ("cl-hex", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "0x5")], b"hello"), 400),
    ("cl-space", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "5 5")], b"hello"), 400),
    ("cl-empty", lambda o: http_request("POST", o.url("/r"), [("Content-Length", "")]), 400),
    ("cl-overflow", lambda o: http_request("POST", o.url("/r"),
                                           [("Content-Length", "99999999999999999999999")]), 400),
    ("cl-duplicate-differ", lambda o: http_request("POST", o.url("/r"), [
        ("Content-Length", "5"), ("Content-Length", "6")], b"hello!"), 400),
    ("cl-list-differ", lambda o: http_request("POST", o.url("/r"),
                                              [("Content-Length", "5, 6")], b"hello!"), 400),
    ("te-gzip", lambda o: http_request("POST", o.url("/r"), [("Transfer-Encoding", "gzip")]), 400),
    ("te-chunked-gzip", lambda o: http_request("POST", o.url("/r"),
                                               [("Transfer-Encoding", "chunked, gzip")]), 400),
    ("te-identity", lambda o: http_request("POST", o.url("/r"),
                                           [("Transfer-Encoding", "identity")]), 400),
    ("te-chunked-twice", lambda o: http_request("POST", o.url("/r"),
                                                [("Transfer-Encoding", "chunked, chunked")],
                                                b"0\r\n\r\n"), 400),
    ("te-gzip-chunked", lambda o: http_request("POST", o.url("/r"),
                                               [("Transfer-Encoding", "gzip, chunked")],
                                               b"0\r\n\r\n"), 501),
    ("origin-form", lambda o: http_request("GET", "/r", host=o.authority), 400),
    ("origin-form-root", lambda o: http_request("GET", "/", host=o.authority), 400),
    ("asterisk-form", lambda o: http_request("OPTIONS", "*", host=o.authority), 400),
    ("https-scheme", lambda o: http_request("GET", f"https://{o.authority}/r"), (400, 501)),
    ("ftp-scheme", lambda o: http_request("GET", f"ftp://{o.authority}/r"), (400, 501)),
    ("userinfo", lambda o: http_request("GET", f"http://user:pw@{o.authority}/r",
                                        host=o.authority), 400),
    ("no-authority", lambda o: http_request("GET", "http:///r", host=o.authority), 400),
    ("bad-port", lambda o: http_request("GET", "http://example.test:99999/r",
                                        host="example.test:99999"), 400),
    ("request-line-9k", lambda o: http_request("GET", o.url("/" + "a" * 9000)), 414),
    ("head-70k", lambda o: http_request("GET", o.url("/r"),
                                        [(f"X-F{i}", "v" * 1000) for i in range(70)]), 431),
    ("fields-101", lambda o: http_request("GET", o.url("/r"),
                                          [(f"X-F{i}", "v") for i in range(101)]), 431),
    ("http-2.0", lambda o: http_request("GET", o.url("/r"), version="HTTP/2.0"), 505),
    ("http-3.0", lambda o: http_request("GET", o.url("/r"), version="HTTP/3.0"), 505),
    ("version-lowercase", lambda o: http_request("GET", o.url("/r"), version="http/1.1"), (400, 505)),
    ("method-bad-char", lambda o: http_request("G@T", o.url("/r")), 400),
    ("space-before-colon", lambda o: http_request("GET", o.url("/r"), [b"X-A : b"]), 400),
    ("bare-cr-in-value", lambda o: http_request("GET", o.url("/r"), [b"X-A: a\rb"]), 400),
    ("nul-in-value", lambda o: http_request("GET", o.url("/r"), [b"X-A: a\x00b"]), 400),
    ("obs-fold", lambda o: http_request("GET", o.url("/r"), [b"X-A: a", b" b"]), 400),
    ("ctl-in-target", lambda o: f"GET {o.url('/a')}\x01 HTTP/1.1\r\nHost: {o.authority}\r\n\r\n", 400),
    ("del-in-target", lambda o: f"GET {o.url('/a')}\x7f HTTP/1.1\r\nHost: {o.authority}\r\n\r\n", 400),
    ("non-ascii-target", lambda o: f"GET {o.url('/caf')}\xe9 HTTP/1.1\r\nHost: {o.authority}\r\n\r\n", 400),
    ("fragment", lambda o: http_request("GET", o.url("/a#frag")), 400),
    ("space-in-target", lambda o: f"GET {o.url('/a b')} HTTP/1.1\r\nHost: {o.authority}\r\n\r\n", 400),
]


@pytest.mark.parametrize("build,status", [(b, s) for _, b, s in REQUEST_ERRORS],
                         ids=[i for i, _, _ in REQUEST_ERRORS])
def test_request_refused_not_forwarded(proxy, raw_http_origin, build, status):
    o = raw_http_origin()
    data = build(o)
    if isinstance(data, str):
        data = data.encode("latin-1")
    r = send_raw(proxy, data)
    want = status if isinstance(status, tuple) else (status,)
    assert r.status in want, f"expected {want}, got {r!r}"
    assert_sluice_error(r, r.status)
    follow_up_works(proxy, o)
    assert_origin_saw_only_follow_up(o)


def test_100_fields_accepted(proxy, raw_http_origin):
    """The limit is more than 100 fields: Host + 99 others is fine."""
    o = raw_http_origin()
    hdrs = [(f"X-F{i}", "v") for i in range(99)]
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/hundred"), hdrs)
        assert c.read_response().status == 200
    req = o.wait_requests(1)[0]
    assert [(k, v) for k, v in req.headers if k.startswith("X-F")] == hdrs


def test_long_request_line_under_8k_accepted(proxy, raw_http_origin):
    o = raw_http_origin()
    path = "/" + "p" * 7000
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url(path))
        assert c.read_response().status == 200
    assert o.wait_requests(1)[0].target == path


def test_error_after_good_request_on_keep_alive(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/first"))
        assert c.read_response().body == info_body("GET", "/first")
        c.send(http_request("GET", "/origin-form", host=o.authority))
        r = c.read_response()
        assert r.status == 400, r
        c.expect_close(r)
    assert [q.target for q in o.wait_requests(1)] == ["/first"]


def test_pipelined_good_then_bad(proxy, raw_http_origin):
    o = raw_http_origin()
    data = (http_request("GET", o.url("/good"))
            + http_request("POST", o.url("/bad"), [("Content-Length", "3"),
                                                  ("Transfer-Encoding", "chunked")], b"0\r\n\r\n")
            + http_request("GET", o.url("/never")))
    with HttpClient(proxy.addr) as c:
        c.send(data)
        assert c.read_response().body == info_body("GET", "/good")
        r = c.read_response()
        assert r.status == 400, r
        c.expect_close(r)
    time.sleep(0.2)
    assert [q.target for q in o.requests] == ["/good"]


def test_partial_head_408(proxy_factory, raw_http_origin):
    p = proxy_factory(header_timeout="1s")
    o = raw_http_origin()
    s = tcp_connect(p.addr)
    with s:
        s.sendall(f"GET {o.url('/slow')} HTTP/1.1\r\nHost: {o.authority}\r\nX-A: ".encode())
        r = read_reply(s, timeout=10)
    assert_sluice_error(r, 408)
    assert not o.records


def test_refusal_in_access_log(proxy, raw_http_origin):
    o = raw_http_origin()
    url = o.url("/logged")
    r = send_raw(proxy, http_request("POST", url, [("Content-Length", "1"),
                                                  ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"))
    assert r.status == 400
    e = proxy.wait_access(lambda e: e.int("status") == 400 and e.method == "POST")[0]
    assert e.target in (url, "-"), e


def test_huge_chunk_extension_refused(proxy, raw_http_origin):
    """A chunk-size line of 1 MiB (extension bytes) is not buffered without
    bound: refused (400) or the connection closed; the origin never gets a
    complete request."""
    o = raw_http_origin()
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(http_request("POST", o.url("/ext"), [("Transfer-Encoding", "chunked")]))
        try:
            s.settimeout(IO_TIMEOUT)
            s.sendall(b"5;" + b"e" * (1 << 20) + b"\r\nhello\r\n0\r\n\r\n")
        except OSError:
            pass
        got = recv_until_eof(s, allow_reset=True)
    assert got == b"" or got.startswith(b"HTTP/1.1 400 "), got[:300]
    # the origin's reader notes the cut body once it sees the EOF: give its
    # thread a bounded moment before judging
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            q.framing_error is None for q in o.requests):
        time.sleep(0.05)
    for q in o.requests:
        assert q.framing_error is not None, f"the origin got a complete request: {q!r}"


# ------------------------------------------- response-timeout, keepalive-timeout


def test_response_timeout_504(proxy_factory, raw_http_origin):
    """The origin accepts and reads the request but never answers."""
    p = proxy_factory(response_timeout="1s")

    def respond(req, ctx):
        if req.target == "/silent":
            end = time.monotonic() + 8
            for _ in range(200):
                if ctx.origin.closed or time.monotonic() > end or ctx.rec.done.is_set():
                    break
                time.sleep(0.05)
                try:
                    ctx.sock.settimeout(0.01)
                    if ctx.sock.recv(1, socket.MSG_PEEK) == b"":
                        break
                except socket.timeout:
                    pass
                except OSError:
                    break
            ctx.close = True
            return None
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    t0 = time.monotonic()
    r = send_raw(p, http_request("GET", o.url("/silent")), timeout=15)
    assert_sluice_error(r, 504)
    assert time.monotonic() - t0 >= 0.9, "504 before response-timeout elapsed"
    follow_up_works(p, o)


def test_keepalive_timeout_closes_idle_client(proxy_factory, raw_http_origin):
    p = proxy_factory(keepalive_timeout="1s")
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/once"))
        assert c.read_response().status == 200
        t0 = time.monotonic()
        got = recv_until_eof(c.sock, timeout=10, allow_reset=True)
        assert got == b"" or got.startswith(b"HTTP/1.1 408 "), got
        assert time.monotonic() - t0 >= 0.9, "idle client closed before keepalive-timeout"
