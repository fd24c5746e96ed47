"""Plain-HTTP forwarding: absolute-form to origin-form, Host from the URI,
hop-by-hop fields, Via, X-Forwarded-For, body framing both ways (length,
chunked, close), 1xx/HEAD/204/304, Expect: 100-continue, keep-alive,
pipelining, HTTP/1.0 clients, the access log, large transfers with bounded
memory, and real clients (curl, http.client, urllib).

Origins are raw sockets (conftest.RawHttpOrigin) that record the exact bytes
that arrive, so what sluice sends upstream is checked byte by byte."""

import hashlib
import http.client
import os
import re
import signal
import socket
import threading
import time
import urllib.request

import pytest

from conftest import (
    IO_TIMEOUT,
    PATTERN_BLOCK,
    HttpClient,
    assert_upstream,
    chunk_encode,
    http_request,
    http_response,
    info_body,
    needs_ipv6,
    no_hop_by_hop,
    recv_until_eof,
    run_curl,
    tcp_connect,
)

OWN_CONNECTION_RE = re.compile(rb"\r\nConnection: *(close|keep-alive) *(?=\r\n)", re.I)


def strip_own_connection(raw_head):
    """Drop a `Connection: close|keep-alive` line sluice may add upstream."""
    return OWN_CONNECTION_RE.sub(b"", raw_head, count=1)


def get(proxy, url, headers=None, method="GET", body=b"", version="HTTP/1.1", host=True):
    """One request on a fresh client connection; returns (response, client)."""
    c = HttpClient(proxy.addr)
    try:
        c.request(method, url, headers, body, version, host)
        return c.read_response(method), c
    except BaseException:
        c.close()
        raise


def check_persistence(c, r, next_url):
    """sluice either says `Connection: close` and closes, or keeps the
    connection usable for another request."""
    if r.says_close or r.framing == "close":
        c.expect_close(r)
        return False
    c.request("GET", next_url)
    r2 = c.read_response()
    assert r2.status == 200, r2
    return True


# --------------------------------------------------------------- request line


def test_get_exact_bytes_both_ways(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(
        200, b"hello", [("Content-Type", "text/plain"), ("X-Z", "1")]))
    a = o.authority
    req = (f"GET http://{a}/path/x?q=1&r=%2F HTTP/1.1\r\nHost: {a}\r\n"
           f"User-Agent: t\r\nAccept: */*\r\n\r\n").encode()
    with HttpClient(proxy.addr) as c:
        c.send(req)
        r = c.read_response()
    got = o.wait_requests(1)[0]
    assert strip_own_connection(got.raw_head) == (
        f"GET /path/x?q=1&r=%2F HTTP/1.1\r\nHost: {a}\r\nUser-Agent: t\r\n"
        f"Accept: */*\r\nVia: 1.1 sluice\r\n\r\n").encode()
    assert got.raw_body == b""
    assert r.status_line == "HTTP/1.1 200 OK", r
    assert [(k, v) for k, v in r.headers if k.lower() != "connection"] == [
        ("Content-Type", "text/plain"), ("X-Z", "1"), ("Content-Length", "5"),
        ("Via", "1.1 sluice")], r
    assert r.body == b"hello"


@pytest.mark.parametrize("client_host", ["other.example:81", "example.test", "127.0.0.1:1"])
def test_host_is_uri_authority(proxy, raw_http_origin, client_host):
    o = raw_http_origin()
    r, c = get(proxy, o.url("/h"), host=client_host)
    with c:
        assert r.status == 200 and r.body == info_body("GET", "/h")
    assert_upstream(o.wait_requests(1)[0], "GET", "/h", o.authority)


def test_ip_literal_authority(proxy, raw_http_origin):
    o = raw_http_origin()
    url = f"http://127.0.0.1:{o.port}/lit"
    r, c = get(proxy, url)
    with c:
        assert r.body == info_body("GET", "/lit")
    assert_upstream(o.wait_requests(1)[0], "GET", "/lit", f"127.0.0.1:{o.port}")


@needs_ipv6
def test_ipv6_literal_authority(proxy, raw_http_origin):
    o = raw_http_origin(host="::1")
    url = f"http://[::1]:{o.port}/six"
    r, c = get(proxy, url)
    with c:
        assert r.body == info_body("GET", "/six")
    assert_upstream(o.wait_requests(1)[0], "GET", "/six", f"[::1]:{o.port}")


def test_default_port_80_host_without_port(proxy):
    """http://example.test/ goes to port 80 with `Host: example.test`."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind(("127.0.0.1", 80))
    except OSError:
        ls.close()
        pytest.skip("cannot bind 127.0.0.1:80 here")
    ls.listen(4)
    ls.settimeout(IO_TIMEOUT)
    got = {}

    def serve():
        try:
            s, _ = ls.accept()
        except OSError:
            return
        with s:
            s.settimeout(IO_TIMEOUT)
            buf = b""
            for _ in range(1000):
                if b"\r\n\r\n" in buf:
                    break
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            got["head"] = buf
            s.sendall(http_response(200, b"eighty"))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r, c = get(proxy, "http://example.test/p80")
        with c:
            assert r.body == b"eighty"
    finally:
        t.join(IO_TIMEOUT)
        ls.close()
    head = strip_own_connection(got["head"])
    assert head == b"GET /p80 HTTP/1.1\r\nHost: example.test\r\nVia: 1.1 sluice\r\n\r\n"


@pytest.mark.parametrize("suffix,path", [("", "/"), ("?a=b", "/?a=b"), ("/", "/")],
                         ids=["empty", "query-only", "slash"])
def test_empty_path_becomes_slash(proxy, raw_http_origin, suffix, path):
    """RFC 9112 §3.2.1: an empty path is sent as "/"."""
    o = raw_http_origin()
    r, c = get(proxy, f"http://{o.authority}{suffix}")
    with c:
        assert r.status == 200, r
    assert_upstream(o.wait_requests(1)[0], "GET", path, o.authority)


@pytest.mark.parametrize("path", [
    "/a%20b/c;p=1/%7Euser?x=%2F&y&z=",
    "/a/../b/./c//d",
    "/q?x=a/b?c:d@e!$&'()*+,;=",
], ids=["pct", "dot-segments", "query-chars"])
def test_path_and_query_relayed_verbatim(proxy, raw_http_origin, path):
    o = raw_http_origin()
    r, c = get(proxy, o.url(path))
    with c:
        assert r.status == 200, r
    assert_upstream(o.wait_requests(1)[0], "GET", path, o.authority)


def test_scheme_is_case_insensitive(proxy, raw_http_origin):
    o = raw_http_origin()
    r, c = get(proxy, f"HTTP://{o.authority}/upper")
    with c:
        assert r.status == 200, r
    assert_upstream(o.wait_requests(1)[0], "GET", "/upper", o.authority)


@pytest.mark.parametrize("method,body", [
    ("GET", b""), ("DELETE", b""), ("OPTIONS", b""), ("POST", b"a=1&b=2"),
    ("PUT", b"put body"), ("PATCH", b"{}"), ("PROPFIND", b""),
])
def test_methods(proxy, raw_http_origin, method, body):
    o = raw_http_origin()
    hdrs = [("Content-Length", str(len(body)))] if body else []
    r, c = get(proxy, o.url("/m"), hdrs, method=method, body=body)
    with c:
        assert r.status == 200 and r.body == info_body(method, "/m", body), r
    req = o.wait_requests(1)[0]
    assert_upstream(req, method, "/m", o.authority, hdrs)
    assert req.raw_body == body


def test_options_empty_path_becomes_asterisk(proxy, raw_http_origin):
    """RFC 9112 §3.2.4: OPTIONS http://host:port (empty path, no query) is
    forwarded by the last proxy as `OPTIONS * HTTP/1.1`."""
    o = raw_http_origin()
    r, c = get(proxy, f"http://{o.authority}", method="OPTIONS")
    with c:
        assert r.status == 200, r
    assert_upstream(o.wait_requests(1)[0], "OPTIONS", "*", o.authority)


# ------------------------------------------------------- hop-by-hop, Via, XFF


def test_request_hop_by_hop_removed(proxy, raw_http_origin):
    o = raw_http_origin()
    hdrs = [
        ("Connection", "keep-alive, x-HOP, Foo-Bar"),
        ("X-Hop", "1"),
        ("Foo-Bar", "2"),
        ("Keep-Alive", "timeout=5"),
        ("X-End", "e"),
        ("TE", "trailers"),
        ("Trailer", "X-T"),
        ("Upgrade", "h2c"),
        ("Connection", "HTTP2-Settings"),
        ("HTTP2-Settings", "AAMAAABkAAQAAP__"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
        ("Proxy-Connection", "keep-alive"),
        ("Accept", "*/*"),
    ]
    r, c = get(proxy, o.url("/hop"), hdrs)
    with c:
        assert r.status == 200, r
    assert_upstream(o.wait_requests(1)[0], "GET", "/hop", o.authority,
                    [("X-End", "e"), ("Accept", "*/*")])


def test_response_hop_by_hop_removed(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(200, b"body", [
        ("Connection", "X-Hop"),
        ("X-Hop", "1"),
        ("Keep-Alive", "timeout=5, max=100"),
        ("Proxy-Authenticate", "Basic realm=x"),
        ("Proxy-Connection", "keep-alive"),
        ("Trailer", "X-T"),
        ("Upgrade", "h2c"),
        ("X-End", "e"),
    ]))
    r, c = get(proxy, o.url("/rhop"))
    with c:
        assert no_hop_by_hop(r.headers) == [], r
        assert [(k, v) for k, v in r.headers if k.lower() != "connection"] == [
            ("X-End", "e"), ("Content-Length", "4"), ("Via", "1.1 sluice")], r
        assert r.body == b"body"
        check_persistence(c, r, o.url("/next"))


@pytest.mark.parametrize("vias,expected", [
    (["1.0 other"], "1.0 other, 1.1 sluice"),
    (["1.0 a, 1.1 b"], "1.0 a, 1.1 b, 1.1 sluice"),
    (["1.0 a", "HTTP/1.1 b (comment)"], "1.0 a, HTTP/1.1 b (comment), 1.1 sluice"),
], ids=["one", "list", "two-fields"])
def test_via_request_appended(proxy, raw_http_origin, vias, expected):
    o = raw_http_origin()
    r, c = get(proxy, o.url("/via"), [("Via", v) for v in vias])
    with c:
        assert r.status == 200
    req = o.wait_requests(1)[0]
    assert req.get("via") == expected, req
    assert_upstream(req, "GET", "/via", o.authority, via=expected)


def test_via_response_appended(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(200, b"v", [("Via", "1.0 other")]))
    r, c = get(proxy, o.url("/rvia"))
    with c:
        assert r.get("via") == "1.0 other, 1.1 sluice", r


def test_x_forwarded_for_off_by_default(proxy, raw_http_origin):
    o = raw_http_origin()
    r, c = get(proxy, o.url("/x1"))
    c.close()
    r, c = get(proxy, o.url("/x2"), [("X-Forwarded-For", "203.0.113.7")])
    c.close()
    a, b = o.wait_requests(2)
    assert a.get("x-forwarded-for") is None, a
    assert_upstream(b, "GET", "/x2", o.authority, [("X-Forwarded-For", "203.0.113.7")])


def test_x_forwarded_for_on(proxy_factory, raw_http_origin):
    p = proxy_factory(x_forwarded_for="on")
    o = raw_http_origin()
    for hdrs in ([], [("X-Forwarded-For", "203.0.113.7")],
                 [("X-Forwarded-For", "203.0.113.7, 198.51.100.1")]):
        r, c = get(p, o.url("/xff"), hdrs)
        c.close()
        assert r.status == 200
    a, b, d = o.wait_requests(3)
    assert a.get("x-forwarded-for") == "127.0.0.1", a
    assert b.get("x-forwarded-for") == "203.0.113.7, 127.0.0.1", b
    assert d.get("x-forwarded-for") == "203.0.113.7, 198.51.100.1, 127.0.0.1", d


@needs_ipv6
def test_x_forwarded_for_ipv6_client(proxy_factory, raw_http_origin):
    p = proxy_factory(listen="[::1]:0", x_forwarded_for="on")
    o = raw_http_origin()
    r, c = get(p, o.url("/v6client"))
    c.close()
    assert r.status == 200
    assert o.wait_requests(1)[0].get("x-forwarded-for") == "::1"


# ------------------------------------------------------------ request bodies


def test_post_content_length(proxy, raw_http_origin):
    o = raw_http_origin()
    body = b"x=1&y=" + bytes(range(256))
    hdrs = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
    r, c = get(proxy, o.url("/post"), hdrs, method="POST", body=body)
    with c:
        assert r.body == info_body("POST", "/post", body)
    req = o.wait_requests(1)[0]
    assert_upstream(req, "POST", "/post", o.authority, hdrs)
    assert req.raw_body == body


def test_post_zero_length(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.request("POST", o.url("/z"), [("Content-Length", "0")])
        c.request("GET", o.url("/after"))
        assert c.read_response().body == info_body("POST", "/z")
        assert c.read_response().body == info_body("GET", "/after")


def test_post_1mib_random_content_length(proxy, raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(1 << 20)
    r, c = get(proxy, o.url("/big"), [("Content-Length", str(len(body)))],
               method="POST", body=body)
    with c:
        assert r.body == info_body("POST", "/big", body)
    req = o.wait_requests(1)[0]
    assert req.sha256 == hashlib.sha256(body).hexdigest()
    assert req.get("content-length") == str(len(body))


def test_post_1mib_random_chunked(proxy, raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(1 << 20)
    enc = chunk_encode(body, [1, 7, 4096, 65536, 100_000, 3])
    r, c = get(proxy, o.url("/bigc"), [("Transfer-Encoding", "chunked")],
               method="POST", body=enc)
    with c:
        assert r.body == info_body("POST", "/bigc", body)
    req = o.wait_requests(1)[0]
    assert req.framing == "chunked" and req.framing_error is None, req.framing_error
    assert req.sha256 == hashlib.sha256(body).hexdigest()
    assert req.get("transfer-encoding").lower() == "chunked"
    assert req.get("content-length") is None


def test_chunked_request_with_extensions_and_trailers(proxy, raw_http_origin):
    o = raw_http_origin()
    body = b"hello, chunked world"
    enc = chunk_encode(body, [5, 2], trailers=[("X-Checksum", "abc")], ext=b";name=val")
    with HttpClient(proxy.addr) as c:
        c.request("PUT", o.url("/ext"), [("Transfer-Encoding", "chunked")], enc)
        c.request("GET", o.url("/after"))
        assert c.read_response().body == info_body("PUT", "/ext", body)
        assert c.read_response().body == info_body("GET", "/after")
    req = o.wait_requests(2)[0]
    assert req.framing_error is None and req.body == body


def test_chunked_request_body_in_pieces(proxy, raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(5000)
    enc = chunk_encode(body, [1000, 1, 3999])
    with HttpClient(proxy.addr) as c:
        c.send(http_request("POST", o.url("/pieces"), [("Transfer-Encoding", "chunked")]))
        for i in range(0, len(enc), 997):
            c.send(enc[i:i + 997])
            time.sleep(0.005)
        assert c.read_response().body == info_body("POST", "/pieces", body)


def test_expect_100_continue(proxy, raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(10_000)
    with HttpClient(proxy.addr) as c:
        c.request("PUT", o.url("/exp"), [("Content-Length", str(len(body))),
                                         ("Expect", "100-continue")])
        r = c.read_response(skip_1xx=False)
        assert r.status == 100, f"expected the origin's 100 Continue, got {r!r}"
        c.send(body)
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("PUT", "/exp", body), r
        check_persistence(c, r, o.url("/after"))
    req = o.wait_requests(1)[0]
    assert req.get("expect") == "100-continue"


# ------------------------------------------------------------ response bodies


def test_response_chunked_relayed_as_chunked(proxy, raw_http_origin):
    body = os.urandom(200_000)
    o = raw_http_origin(lambda req, ctx: http_response(
        200, body, [("X-A", "1")], framing="chunked", chunks=[1, 100, 65536, 7]))
    r, c = get(proxy, o.url("/chunked"))
    with c:
        assert r.framing == "chunked", r
        assert r.body == body
        assert r.get("content-length") is None
        check_persistence(c, r, o.url("/after"))


def test_response_chunked_with_extensions_and_trailers(proxy, raw_http_origin):
    def respond(req, ctx):
        if req.target == "/t":
            return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                    b"5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n")
        return http_response(200, b"next")
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/t"))
        r = c.read_response()
        assert r.body == b"hello world", r
        c.request("GET", o.url("/n"))
        assert c.read_response().body == b"next"


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
def test_response_close_delimited(proxy, raw_http_origin, version):
    body = os.urandom(300_000)

    def respond(req, ctx):
        ctx.close = True
        return http_response(200, body, framing="close", version=version)
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/eof"))
        r = c.read_response()
        assert r.body == body
        assert r.says_close, f"sluice closes after a close-delimited body: {r!r}"
        c.wait_closed()


def test_head_response_has_no_body(proxy, raw_http_origin):
    def respond(req, ctx):
        if req.method == "HEAD":
            return http_response(200, b"", [("Content-Length", "1234")], framing="none")
        return http_response(200, b"after-head")
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("HEAD", o.url("/h"))
        r = c.read_response("HEAD")
        assert r.status == 200 and r.get("content-length") == "1234", r
        c.request("GET", o.url("/g"))
        assert c.read_response().body == b"after-head"


def test_head_response_chunked_header_no_body(proxy, raw_http_origin):
    def respond(req, ctx):
        if req.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return http_response(200, b"after-head")
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("HEAD", o.url("/h"))
        r = c.read_response("HEAD")
        assert r.status == 200, r
        c.request("GET", o.url("/g"))
        assert c.read_response().body == b"after-head"


@pytest.mark.parametrize("status,hdrs", [
    (204, []),
    (304, [("Content-Length", "10"), ("ETag", '"x"')]),
])
def test_no_body_statuses(proxy, raw_http_origin, status, hdrs):
    def respond(req, ctx):
        if req.target == "/nb":
            return http_response(status, b"", hdrs, framing="none")
        return http_response(200, b"synced")
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/nb"))
        r = c.read_response()
        assert r.status == status and r.body == b"", r
        for k, v in hdrs:
            assert r.get(k) == v, r
        c.request("GET", o.url("/s"))
        assert c.read_response().body == b"synced"


def test_interim_1xx_then_final(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.send(http_response(103, b"", [("Link", "</s.css>; rel=preload")], framing="none"))
        return http_response(200, b"final")
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/early"))
        r = c.read_response()
        assert r.status == 200 and r.body == b"final", r
        for i in r.interim:
            assert i.status == 103, i
        check_persistence(c, r, o.url("/after"))


def test_response_status_line_and_fields_relayed(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(
        404, b"nope", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                       ("X-Empty", ""), ("x-lower", "v")], reason="Not Here"))
    r, c = get(proxy, o.url("/404"))
    with c:
        assert r.status_line == "HTTP/1.1 404 Not Here", r
        assert r.values("Set-Cookie") == ["a=1", "b=2"], r
        assert r.get("X-Empty") == "" and ("x-lower", "v") in r.headers, r
        assert r.body == b"nope"


# ------------------------------------------------------- connection handling


def test_keep_alive_across_origins(proxy, raw_http_origin):
    o1 = raw_http_origin()
    o2 = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        for o, path in ((o1, "/a"), (o2, "/b"), (o1, "/c"), (o2, "/d")):
            c.request("GET", o.url(path))
            r = c.read_response()
            assert r.status == 200 and r.body == info_body("GET", path), r
            assert not r.says_close, r
    assert [q.target for q in o1.wait_requests(2)] == ["/a", "/c"]
    assert [q.target for q in o2.wait_requests(2)] == ["/b", "/d"]


def test_pipelined_requests_answered_in_order(proxy, raw_http_origin):
    o1 = raw_http_origin()
    o2 = raw_http_origin()
    enc = chunk_encode(b"chunky", [2])
    data = (http_request("GET", o1.url("/1"))
            + http_request("POST", o2.url("/2"), [("Content-Length", "3")], b"xyz")
            + http_request("POST", o1.url("/3"), [("Transfer-Encoding", "chunked")], enc)
            + http_request("HEAD", o2.url("/4"))
            + http_request("GET", o1.url("/5")))
    with HttpClient(proxy.addr) as c:
        c.send(data)
        bodies = [c.read_response(m).body for m in ("GET", "POST", "POST", "HEAD", "GET")]
    assert bodies == [info_body("GET", "/1"), info_body("POST", "/2", b"xyz"),
                      info_body("POST", "/3", b"chunky"), b"", info_body("GET", "/5")]


def test_pipelined_slow_first_response_keeps_order(proxy, raw_http_origin):
    def slow(req, ctx):
        time.sleep(0.3)
        return http_response(200, b"slow")
    o1 = raw_http_origin(slow)
    o2 = raw_http_origin(lambda req, ctx: http_response(200, b"fast"))
    with HttpClient(proxy.addr) as c:
        c.send(http_request("GET", o1.url("/s")) + http_request("GET", o2.url("/f")))
        assert c.read_response().body == b"slow"
        assert c.read_response().body == b"fast"


def test_client_connection_close(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/bye"), [("Connection", "close")])
        r = c.read_response()
        assert r.status == 200
        c.expect_close(r)


def test_origin_connection_close_is_consistent(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.close = True
        return http_response(200, b"closing", [("Connection", "close")])
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/1"))
        r = c.read_response()
        assert r.body == b"closing"
        check_persistence(c, r, o.url("/2"))


def test_http10_client(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.send(f"GET {o.url('/ten')} HTTP/1.0\r\nUser-Agent: old\r\n\r\n".encode())
        r = c.read_response(client_version="HTTP/1.0")
        assert r.status == 200 and r.body == info_body("GET", "/ten"), r
        assert "transfer-encoding" not in r.names()
        c.expect_close(r)
    req = o.wait_requests(1)[0]
    assert_upstream(req, "GET", "/ten", o.authority, [("User-Agent", "old")],
                    version=("HTTP/1.0", "HTTP/1.1"))


@pytest.mark.parametrize("keep_alive", [False, True])
def test_http10_client_chunked_origin(proxy, raw_http_origin, keep_alive):
    body = os.urandom(100_000)
    o = raw_http_origin(lambda req, ctx: http_response(200, body, framing="chunked",
                                                       chunks=[10, 4000]))
    hdrs = "Connection: keep-alive\r\n" if keep_alive else ""
    with HttpClient(proxy.addr) as c:
        c.send(f"GET {o.url('/c10')} HTTP/1.0\r\n{hdrs}\r\n".encode())
        r = c.read_response(client_version="HTTP/1.0")
        assert "transfer-encoding" not in r.names(), f"chunked to an HTTP/1.0 client: {r!r}"
        assert r.body == body
        if r.framing == "close" or not keep_alive:
            c.expect_close(r)


def test_http10_keep_alive(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        for path in ("/k1", "/k2"):
            c.send(f"GET {o.url(path)} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
            r = c.read_response(client_version="HTTP/1.0")
            assert r.status == 200 and r.body == info_body("GET", path), r
            assert not r.says_close, r
        c.send(f"GET {o.url('/k3')} HTTP/1.0\r\n\r\n".encode())
        r = c.read_response(client_version="HTTP/1.0")
        assert r.body == info_body("GET", "/k3")
        c.expect_close(r)


def test_http10_post_content_length(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.send(f"POST {o.url('/p10')} HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody".encode())
        r = c.read_response(client_version="HTTP/1.0")
        assert r.body == info_body("POST", "/p10", b"body")
        c.expect_close(r)


# ------------------------------------------------------------------ access log


def test_access_log_one_line_per_request(proxy, raw_http_origin):
    def respond(req, ctx):
        if req.target.startswith("/missing"):
            return http_response(404, b"not found here")
        return http_response(201 if req.method == "POST" else 200, b"0123456789")
    o = raw_http_origin(respond)
    body = os.urandom(1000)
    with HttpClient(proxy.addr) as c:
        port = c.sock.getsockname()[1]
        c.request("GET", o.url("/a?x=1"))
        assert c.read_response().status == 200
        c.request("GET", o.url("/missing"))
        assert c.read_response().status == 404
        c.request("POST", o.url("/p"), [("Content-Length", "1000")], body)
        assert c.read_response().status == 201
    mine = proxy.wait_access(lambda e: e.client.rsplit(":", 1)[-1] == str(port), count=3)
    assert len(mine) == 3, mine
    want = [("GET", o.url("/a?x=1"), 200), ("GET", o.url("/missing"), 404),
            ("POST", o.url("/p"), 201)]
    for e, (method, target, status) in zip(mine, want):
        assert (e.method, e.target, e.int("status")) == (method, target, status), e
        assert e.client.startswith("127.0.0.1:"), e
        for k in ("up", "down", "ms"):
            e.int(k)
        assert e.fields.get("end"), e
    assert mine[0].int("down") >= 10 and mine[1].int("down") >= 14
    assert mine[2].int("up") >= 1000


# ------------------------------------------------------ large, bounded memory

BIG_TOTAL = 256 << 20
DOWNLOAD_TOTAL = 1 << 30  # the 1 GiB, spliced through
MAX_GROWTH_KIB = 48 << 10
MIB_BLOCK = PATTERN_BLOCK * 16  # 1 MiB


def respond_stream(total, time_limit=120.0):
    """Content-Length response of `total` pattern bytes, sent as fast as the
    peer takes them; ctx.rec.sent_body counts the body bytes sent."""
    def respond(req, ctx):
        ctx.rec.sent_body = 0
        ctx.send(f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 f"Content-Length: {total}\r\n\r\n".encode())
        end = time.monotonic() + time_limit
        for _ in range(total // len(MIB_BLOCK) + 1):
            left = total - ctx.rec.sent_body
            if left <= 0 or time.monotonic() > end:
                break
            n = min(len(MIB_BLOCK), left)
            ctx.send(MIB_BLOCK[:n])
            ctx.rec.sent_body += n
        ctx.close = True
    return respond


class RssSampler:
    def __init__(self, proxy, interval=0.05, limit_s=120.0):
        self.proxy = proxy
        self.peak = proxy.rss_kib()
        self.stop = threading.Event()
        self.interval = interval
        self.limit_s = limit_s
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        end = time.monotonic() + self.limit_s
        for _ in range(int(self.limit_s / self.interval) + 10):
            if self.stop.is_set() or time.monotonic() > end:
                break
            self.peak = max(self.peak, self.proxy.rss_kib())
            time.sleep(self.interval)

    def finish(self):
        self.stop.set()
        self.t.join(5)
        self.peak = max(self.peak, self.proxy.rss_kib())
        return self.peak


def test_download_1gib_bounded_rss(proxy, raw_http_origin):
    o = raw_http_origin(respond_stream(DOWNLOAD_TOTAL))
    base = proxy.rss_kib()
    assert base > 0
    sampler = RssSampler(proxy)
    sha = hashlib.sha256()
    got = 0
    with HttpClient(proxy.addr, timeout=120) as c:
        c.request("GET", o.url("/huge"))
        # read the head with the client, then stream the body without keeping it
        head = c._until(b"\r\n\r\n", time.monotonic() + IO_TIMEOUT, 1 << 16, "head")
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert f"Content-Length: {DOWNLOAD_TOTAL}\r\n".encode() in head, head
        sha.update(c.buf)
        got = len(c.buf)
        c.buf.clear()
        buf = bytearray(4 << 20)
        mv = memoryview(buf)
        deadline = time.monotonic() + 120
        c.sock.settimeout(5)
        for _ in range(10_000_000):
            if got >= DOWNLOAD_TOTAL or time.monotonic() > deadline:
                break
            n = c.sock.recv_into(mv, min(len(buf), DOWNLOAD_TOTAL - got))
            if not n:
                break
            sha.update(mv[:n])
            got += n
    peak = sampler.finish()
    assert got == DOWNLOAD_TOTAL, f"got {got} of {DOWNLOAD_TOTAL} bytes"
    ref = hashlib.sha256()
    for _ in range(DOWNLOAD_TOTAL // len(MIB_BLOCK)):
        ref.update(MIB_BLOCK)
    assert sha.hexdigest() == ref.hexdigest(), "body corrupted in transit"
    growth = peak - base
    assert growth < MAX_GROWTH_KIB, f"proxy RSS grew by {growth} KiB (base {base}, peak {peak})"


def test_stalled_reader_bounded_rss(proxy, raw_http_origin):
    o = raw_http_origin(respond_stream(BIG_TOTAL, time_limit=10))
    base = proxy.rss_kib()
    sampler = RssSampler(proxy)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/stall"))
        c._until(b"\r\n\r\n", time.monotonic() + IO_TIMEOUT, 1 << 16, "head")
        time.sleep(3.0)  # read nothing while the origin pushes
        peak = sampler.finish()
        sent = getattr(o.wait_conns(1)[0], "sent_body", 0)
    growth = peak - base
    assert growth < MAX_GROWTH_KIB, (
        f"proxy RSS grew by {growth} KiB while the origin pushed {sent} bytes to a "
        f"client that does not read")
    assert sent < BIG_TOTAL, "the origin pushed 256 MiB to a client that did not read"


def test_stalled_origin_upload_bounded_rss(proxy, raw_http_origin):
    def hold(req, ctx):
        end = time.monotonic() + 6
        for _ in range(200):
            if ctx.origin.closed or time.monotonic() > end:
                break
            time.sleep(0.05)
        ctx.close = True
    o = raw_http_origin(hold, read_body=False)
    base = proxy.rss_kib()
    sampler = RssSampler(proxy)
    sent = 0
    with HttpClient(proxy.addr) as c:
        c.send(http_request("POST", o.url("/up"), [("Content-Length", str(BIG_TOTAL))]))
        o.wait_requests(1)
        end = time.monotonic() + 3.0
        for _ in range(1_000_000):
            if time.monotonic() > end or sent >= BIG_TOTAL:
                break
            c.sock.settimeout(0.1)
            try:
                sent += c.sock.send(MIB_BLOCK[:1 << 16])
            except socket.timeout:
                continue
            except OSError:
                break
        peak = sampler.finish()
    growth = peak - base
    assert growth < MAX_GROWTH_KIB, (
        f"proxy RSS grew by {growth} KiB while the client pushed {sent} bytes "
        f"to an origin that does not read")
    assert sent < BIG_TOTAL


# -------------------------------------------------------------- real clients


def test_curl_get_by_name(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(200, b"curl ok\n"))
    cp = run_curl("-x", proxy.url, o.url("/c?u=1"))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"curl ok\n"
    req = o.wait_requests(1)[0]
    assert req.target == "/c?u=1" and req.get("host") == o.authority, req
    assert req.get("proxy-connection") is None, req


def test_curl_two_origins_one_connection(proxy, raw_http_origin):
    o1 = raw_http_origin(lambda req, ctx: http_response(200, b"one\n"))
    o2 = raw_http_origin(lambda req, ctx: http_response(200, b"two\n"))
    cp = run_curl("-x", proxy.url, o1.url("/1"), o2.url("/2"), o1.url("/3"))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"one\ntwo\none\n"


def test_curl_http10(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(200, b"x" * 5000, framing="chunked",
                                                       chunks=[1000]))
    cp = run_curl("--http1.0", "-i", "-x", proxy.url, o.url("/ten"))
    assert cp.returncode == 0, cp.stderr
    head, _, body = cp.stdout.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower(), head
    assert body == b"x" * 5000


def test_curl_post_file(proxy, raw_http_origin, tmp_path):
    o = raw_http_origin()
    data = os.urandom((1 << 20) + 5)
    f = tmp_path / "body.bin"
    f.write_bytes(data)
    cp = run_curl("-x", proxy.url, "--data-binary", f"@{f}", o.url("/upload"))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == info_body("POST", "/upload", data)


def test_curl_chunked_upload(proxy, raw_http_origin, tmp_path):
    o = raw_http_origin()
    data = os.urandom(300_000)
    f = tmp_path / "body.bin"
    f.write_bytes(data)
    cp = run_curl("-x", proxy.url, "-H", "Transfer-Encoding: chunked",
                  "--data-binary", f"@{f}", o.url("/cup"))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == info_body("POST", "/cup", data)
    assert o.wait_requests(1)[0].framing == "chunked"


def test_curl_head(proxy, raw_http_origin):
    def respond(req, ctx):
        return http_response(200, b"", [("Content-Length", "4242"), ("X-H", "y")],
                             framing="none")
    o = raw_http_origin(respond)
    cp = run_curl("-I", "-x", proxy.url, o.url("/head"))
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout.decode("latin-1")
    assert out.startswith("HTTP/1.1 200"), out
    assert "content-length: 4242" in out.lower() and "x-h: y" in out.lower(), out
    assert o.wait_requests(1)[0].method == "HEAD"


def test_python_http_client_keep_alive(proxy, raw_http_origin):
    o = raw_http_origin()
    conn = http.client.HTTPConnection(proxy.addr[0], proxy.port, timeout=IO_TIMEOUT)
    try:
        conn.request("GET", o.url("/hc1"), headers={"X-A": "1"})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == info_body("GET", "/hc1")
        conn.request("POST", o.url("/hc2"), body=b"data!", headers={"Content-Type": "x/y"})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == info_body("POST", "/hc2", b"data!")
    finally:
        conn.close()
    a, b = o.wait_requests(2)
    assert a.get("x-a") == "1" and b.get("content-type") == "x/y"


def test_python_urllib_proxy_handler(proxy, raw_http_origin):
    o = raw_http_origin()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
    with opener.open(o.url("/u?x=1"), timeout=IO_TIMEOUT) as r:
        assert r.status == 200 and r.read() == info_body("GET", "/u?x=1")
    with opener.open(o.url("/p"), data=b"k=v", timeout=IO_TIMEOUT) as r:
        assert r.read() == info_body("POST", "/p", b"k=v")
    a, b = o.wait_requests(2)
    assert a.get("host") == o.authority and b.get("host") == o.authority


# ------------------------------------------------------- pieces and ordering


def test_request_head_byte_by_byte(proxy, raw_http_origin):
    o = raw_http_origin()
    data = http_request("POST", o.url("/trickle?x=1"), [("X-A", "1"), ("Content-Length", "3")],
                        b"abc")
    with HttpClient(proxy.addr) as c:
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(0.002)
        assert c.read_response().body == info_body("POST", "/trickle?x=1", b"abc")
    assert_upstream(o.wait_requests(1)[0], "POST", "/trickle?x=1", o.authority,
                    [("X-A", "1"), ("Content-Length", "3")])


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_response_in_small_pieces(proxy, raw_http_origin, framing):
    """The origin writes its response a few bytes at a time, so every
    boundary (inside CRLF, inside a chunk-size line) is hit."""
    body = bytes(range(256)) * 4

    def respond(req, ctx):
        ctx.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = http_response(200, body, [("X-A", "1")], framing=framing, chunks=[100, 1, 37])
        step = 3
        for i in range(0, min(len(data), 600), step):
            ctx.send(data[i:i + step])
            time.sleep(0.002)
        if len(data) > 600:
            ctx.send(data[600:])
        return None
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/pieces"))
        r = c.read_response()
        assert r.status == 200 and r.body == body, r
        assert r.get("x-a") == "1"
        c.request("GET", o.url("/again"))
        assert c.read_response().body == body


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_pipelined_many_responses(proxy, raw_http_origin, framing):
    o = raw_http_origin(lambda req, ctx: http_response(
        200, info_body(req.method, req.target) * 50, framing=framing, chunks=[999]))
    paths = [f"/p{i}" for i in range(100)]
    with HttpClient(proxy.addr) as c:
        c.send(b"".join(http_request("GET", o.url(p)) for p in paths))
        for p in paths:
            assert c.read_response().body == info_body("GET", p) * 50, p
    reqs = o.wait_requests(100)
    assert [q.target for q in reqs] == paths


@pytest.mark.parametrize("first", [
    ("HTTP/1.1", [("Connection", "close")]),
    ("HTTP/1.0", []),
], ids=["1.1-close", "1.0"])
def test_no_request_served_after_close(proxy, raw_http_origin, first):
    """Requests pipelined behind one that ends the connection are not
    forwarded."""
    version, hdrs = first
    o = raw_http_origin()
    data = (http_request("GET", o.url("/last"), hdrs, version=version)
            + http_request("GET", o.url("/never")))
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        assert r.body == info_body("GET", "/last")
        c.expect_close(r)
    time.sleep(0.2)
    assert [q.target for q in o.requests] == ["/last"]


def test_origin_early_final_response_during_upload(proxy, raw_http_origin):
    """The origin answers 413 after the head, without reading the body, and
    closes: the client gets the 413."""
    def respond(req, ctx):
        ctx.close = True
        return http_response(413, b"too big", [("Connection", "close")], reason="Content Too Large")
    o = raw_http_origin(respond, read_body=False)
    body = os.urandom(4 << 20)
    with HttpClient(proxy.addr) as c:
        c.send(http_request("POST", o.url("/upload"), [("Content-Length", str(len(body)))]))
        t = threading.Thread(target=lambda: _send_quietly(c.sock, body), daemon=True)
        t.start()
        r = c.read_response()
        assert r.status == 413 and r.body == b"too big", r
        t.join(IO_TIMEOUT)
        if r.says_close:
            c.wait_closed()


def _send_quietly(sock, data):
    try:
        sock.settimeout(IO_TIMEOUT)
        sock.sendall(data)
    except OSError:
        pass


# ------------------------------------------------ transfer codings in responses


def _gzip_chunked(req, ctx):
    import gzip
    return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            + chunk_encode(gzip.compress(b"hello, gzip transfer coding", mtime=0), [7]))


def test_response_gzip_transfer_coding_kept_for_http11(proxy, raw_http_origin):
    """Only chunked is sluice's business: a gzip transfer coding under it
    reaches an HTTP/1.1 client still declared."""
    import gzip
    o = raw_http_origin(_gzip_chunked)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/gz"))
        r = c.read_response()
        assert [t.strip().lower() for t in r.get("transfer-encoding").split(",")] == \
            ["gzip", "chunked"], r
        assert gzip.decompress(r.body) == b"hello, gzip transfer coding"


def test_response_gzip_transfer_coding_to_http10(proxy, raw_http_origin):
    """An HTTP/1.0 client knows no transfer coding: sluice must not hand it
    gzip bytes as if they were the content (502, or the decoded content)."""
    o = raw_http_origin(_gzip_chunked)
    with HttpClient(proxy.addr) as c:
        c.send(f"GET {o.url('/gz')} HTTP/1.0\r\n\r\n".encode())
        r = c.read_response(client_version="HTTP/1.0")
        if r.status == 502:
            return
        assert "transfer-encoding" not in r.names(), r
        assert r.body == b"hello, gzip transfer coding", (
            f"gzip-coded bytes handed to an HTTP/1.0 client as the content: {r!r}")


def test_client_half_close_after_request(proxy, raw_http_origin):
    """A client that shuts down its sending side after a complete request
    (printf ... | nc) still gets the response, then the close."""
    o = raw_http_origin()
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(http_request("GET", o.url("/half")))
        s.shutdown(socket.SHUT_WR)
        got = recv_until_eof(s, allow_reset=True)
    assert got.startswith(b"HTTP/1.1 200 ") and got.endswith(info_body("GET", "/half")), got


def test_shutdown_inflight_response_says_close(proxy_factory, raw_http_origin):
    """SIGTERM while a forwarded response is pending: the response still
    arrives within shutdown-grace, and since sluice closes the connection
    after it, it says `Connection: close`."""
    p = proxy_factory(shutdown_grace="3s")

    def slow(req, ctx):
        time.sleep(0.5)
        return http_response(200, b"late")
    o = raw_http_origin(slow)
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/inflight"))
        o.wait_requests(1)
        p.send_signal(signal.SIGTERM)
        r = c.read_response()
        assert r.status == 200 and r.body == b"late", r
        c.expect_close(r)
    assert p.wait(15) == 0


def test_header_timeout_applies_to_later_requests(proxy_factory, raw_http_origin):
    """header-timeout bounds every request head, not only the first one on a
    connection (else a client holds a connection with a partial head for as
    long as keepalive-timeout allows)."""
    p = proxy_factory(header_timeout="1s")
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/first"))
        assert c.read_response().status == 200
        c.send(f"GET {o.url('/second')} HTTP/1.1\r\nHost: {o.authority}\r\nX-A: ".encode())
        got = recv_until_eof(c.sock, timeout=10, allow_reset=True)
    assert got.startswith(b"HTTP/1.1 408 "), got
    assert [q.target for q in o.requests] == ["/first"]
