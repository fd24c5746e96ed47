"""Request smuggling and response splitting: every ambiguous framing is
refused (400, or for a body already being relayed, a close), and the
origin never receives the hidden request.

Each vector carries a second request for "/smuggled" that a proxy
disagreeing with the origin about the framing would let through. After
each, a normal request on a new connection must work and the origin's
bytes must not contain "smuggled"."""

import time

import pytest

from conftest import (
    HttpClient,
    assert_error_reply,
    http_request,
    http_response,
    info_body,
    recv_until_eof,
    tcp_connect,
)

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"


def vector_bytes(o, head_lines, body, method="POST", version="HTTP/1.1", sep=b"\r\n"):
    out = f"{method} {o.url('/front')} {version}".encode() + sep
    for line in head_lines:
        out += line + sep
    return out + sep + body


def follow_up_and_check(proxy, o):
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/ok"))
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/ok"), r
    reqs = o.wait_requests(1)
    time.sleep(0.1)
    seen = o.all_bytes()
    assert b"smuggled" not in seen, f"smuggled bytes reached the origin: {seen!r}"
    assert not [q for q in o.requests if "smuggled" in (q.target or "")]
    return reqs


def host_line(o):
    return f"Host: {o.authority}".encode()


# Vectors refused at the head: the origin must see nothing of them at all.
HEAD_VECTORS = [
    ("CL.TE", [b"Content-Length: 6", b"Transfer-Encoding: chunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE.CL", [b"Transfer-Encoding: chunked", b"Content-Length: 3"], b"8\r\nSMUGGLED\r\n0\r\n\r\n"),
    ("TE-xchunked+CL", [b"Content-Length: 5", b"Transfer-Encoding: xchunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-xchunked", [b"Transfer-Encoding: xchunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-space-before-colon+CL", [b"Content-Length: 5", b"Transfer-Encoding : chunked"],
     b"0\r\n\r\n" + SMUGGLED),
    ("TE-space-before-colon", [b"Transfer-Encoding : chunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-chunked-then-x", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: x"],
     b"0\r\n\r\n" + SMUGGLED),
    ("TE-chunked-then-x+CL", [b"Content-Length: 5", b"Transfer-Encoding: chunked",
                              b"Transfer-Encoding: x"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-chunked-identity", [b"Transfer-Encoding: chunked, identity"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-obs-fold", [b"Content-Length: 5", b"Transfer-Encoding:", b" chunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-vtab", [b"Transfer-Encoding: \x0bchunked"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-nul", [b"Transfer-Encoding: chunked\x00"], b"0\r\n\r\n" + SMUGGLED),
    ("TE-quoted", [b'Transfer-Encoding: "chunked"'], b"0\r\n\r\n" + SMUGGLED),
    ("CL-space-before-colon", [b"Content-Length : 0", b"Content-Length: 44"], SMUGGLED),
    ("CL-duplicate", [b"Content-Length: 0", b"Content-Length: 46"], SMUGGLED),
    ("CL-list", [b"Content-Length: 0, 46"], SMUGGLED),
    ("CL-overflow", [b"Content-Length: 18446744073709551662"], SMUGGLED),
    ("X-obs-fold-hides-CL", [b"X-A: a", b" Content-Length: 0", b"Content-Length: 46"], SMUGGLED),
    ("bare-CR-hides-TE", [b"X-A: a\rTransfer-Encoding: chunked", b"Content-Length: 5"],
     b"0\r\n\r\n" + SMUGGLED),
]


@pytest.mark.parametrize("lines,body", [(l, b) for _, l, b in HEAD_VECTORS],
                         ids=[i for i, _, _ in HEAD_VECTORS])
def test_head_vector_refused(proxy, raw_http_origin, lines, body):
    o = raw_http_origin()
    data = vector_bytes(o, [host_line(o)] + lines, body)
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        assert r.status in (400, 501), f"ambiguous framing accepted: {r!r}"
        c.expect_close(r)
    follow_up_and_check(proxy, o)
    assert [q.target for q in o.requests] == ["/ok"], o.requests


def test_bare_lf_head_refused(proxy, raw_http_origin):
    o = raw_http_origin()
    data = vector_bytes(o, [host_line(o), b"Content-Length: 46"], SMUGGLED, sep=b"\n")
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(data)
        got = recv_until_eof(s, allow_reset=True)
    assert got.startswith(b"HTTP/1.1 400 ") or got.startswith(b"HTTP/1.0 400 "), got
    follow_up_and_check(proxy, o)
    assert [q.target for q in o.requests] == ["/ok"]


def test_bare_lf_mixed_refused(proxy, raw_http_origin):
    o = raw_http_origin()
    data = (f"POST {o.url('/front')} HTTP/1.1\r\n{host_line(o).decode()}\r\n"
            f"X-A: a\nContent-Length: 46\r\n\r\n").encode() + SMUGGLED
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        assert r.status == 400, r
        c.expect_close(r)
    follow_up_and_check(proxy, o)


def test_te_in_http10_refused(proxy, raw_http_origin):
    """RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
    framing."""
    o = raw_http_origin()
    data = vector_bytes(o, [b"Transfer-Encoding: chunked"], b"0\r\n\r\n" + SMUGGLED,
                        version="HTTP/1.0")
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        assert r.status == 400, r
        c.expect_close(r)
    follow_up_and_check(proxy, o)
    assert [q.target for q in o.requests] == ["/ok"]


# Valid spellings: these are chunked, and must be relayed as such.
@pytest.mark.parametrize("te", [b"Transfer-Encoding: Chunked", b"Transfer-Encoding:\tchunked",
                                b"Transfer-Encoding: chunked \t", b"transfer-encoding: CHUNKED"],
                         ids=["Chunked", "tab", "trailing-ows", "lowercase-name"])
def test_valid_te_spellings_are_chunked(proxy, raw_http_origin, te):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        c.send(vector_bytes(o, [host_line(o), te], b"5\r\nhello\r\n0\r\n\r\n"))
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("POST", "/front", b"hello"), r
        c.request("GET", o.url("/next"))
        assert c.read_response().body == info_body("GET", "/next")
    reqs = o.wait_requests(2)
    assert reqs[0].framing == "chunked" and reqs[0].framing_error is None
    assert reqs[0].body == b"hello"


# Vectors in the chunked body: the head may already be on its way to the
# origin, so sluice answers 400 or just closes; the hidden request must never
# reach the origin.
BODY_VECTORS = [
    ("size-overflow-2^64", b"10000000000000000\r\n" + b"A" * 10 + b"\r\n0\r\n\r\n" + SMUGGLED),
    ("size-overflow-17-f", b"fffffffffffffffff\r\n" + b"A" * 10 + b"\r\n0\r\n\r\n" + SMUGGLED),
    ("size-overflow-zero-low", b"10000000000000000\r\n\r\n" + SMUGGLED),
    ("size-0x", b"0x5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("size-negative", b"-5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("size-plus", b"+5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("size-leading-space", b" 5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("size-empty", b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("size-bare-lf", b"5\nhello\r\n0\r\n\r\n" + SMUGGLED),
    ("data-too-long", b"5\r\nhelloXX\r\n0\r\n\r\n" + SMUGGLED),
    ("data-bare-lf", b"5\r\nhello\n0\r\n\r\n" + SMUGGLED),
    ("last-chunk-bare-lf", b"5\r\nhello\r\n0\n\n" + SMUGGLED),
    ("trailer-bare-lf", b"5\r\nhello\r\n0\r\nX-T: 1\n\r\n" + SMUGGLED),
    ("ext-bare-cr", b"5;a=\rb\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
]


@pytest.mark.parametrize("body", [b for _, b in BODY_VECTORS], ids=[i for i, _ in BODY_VECTORS])
def test_chunked_body_vector(proxy, raw_http_origin, body):
    o = raw_http_origin()
    data = vector_bytes(o, [host_line(o), b"Transfer-Encoding: chunked"], body)
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(data)
        got = recv_until_eof(s, allow_reset=True)
    if got:
        assert got.startswith(b"HTTP/1.1 400 ") or got.startswith(b"HTTP/1.0 400 "), (
            f"invalid chunked body not refused: {got[:300]!r}")
        assert got.count(b"HTTP/1.") == 1, f"more than one response: {got!r}"
    follow_up_and_check(proxy, o)
    front = [q for q in o.requests if q.target == "/front"]
    for q in front:
        assert q.framing_error is not None or q.body in (b"", b"hello"), q


def test_legit_pipelined_request_after_chunked_body(proxy, raw_http_origin):
    """The control case: the same bytes with a valid body are two requests."""
    o = raw_http_origin()
    second = http_request("GET", o.url("/second"))
    data = vector_bytes(o, [host_line(o), b"Transfer-Encoding: chunked"],
                        b"5\r\nhello\r\n0\r\n\r\n" + second)
    with HttpClient(proxy.addr) as c:
        c.send(data)
        assert c.read_response().body == info_body("POST", "/front", b"hello")
        assert c.read_response().body == info_body("GET", "/second")
    assert [q.target for q in o.wait_requests(2)] == ["/front", "/second"]


def test_content_length_body_containing_request(proxy, raw_http_origin):
    """A body that looks like a request is just body bytes."""
    o = raw_http_origin()
    data = vector_bytes(o, [host_line(o), f"Content-Length: {len(SMUGGLED)}".encode()], SMUGGLED)
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        assert r.body == info_body("POST", "/front", SMUGGLED), r
    reqs = o.wait_requests(1)
    assert [q.target for q in reqs] == ["/front"] and reqs[0].body == SMUGGLED


# ---------------------------------------------------------- response side


def test_response_cl_and_te(proxy, raw_http_origin):
    """RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; a proxy
    that forwards such a response removes Content-Length first (or answers
    502). The bytes behind the chunked body must never become the answer
    to the client's next request."""
    def respond(req, ctx):
        if req.target == "/split":
            return (b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/split"))
        r = c.read_response()
        if r.status == 502:
            c.expect_close(r)
            return
        assert r.status == 200 and r.body == b"", r
        assert r.get("content-length") is None, r
        if r.says_close:
            c.expect_close(r)
            return
        c.request("GET", o.url("/next"))
        r2 = c.read_response()
        assert r2.body == info_body("GET", "/next"), f"response splitting: {r2!r}"


def test_response_extra_bytes_after_body(proxy, raw_http_origin):
    """An origin that sends more than its Content-Length: the excess is not
    the answer to the next request."""
    def respond(req, ctx):
        if req.target == "/extra":
            return http_response(200, b"ok") + b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/extra"))
        r = c.read_response()
        assert r.body == b"ok", r
        if r.says_close:
            c.expect_close(r)
            return
        c.request("GET", o.url("/next"))
        r2 = c.read_response()
        assert r2.body == info_body("GET", "/next"), f"response splitting: {r2!r}"


def test_response_head_bare_lf_hiding_fields(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.close = True
        return (b"HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\nContent-Length: 8\r\n\r\n"
                b"smuggled")
    o = raw_http_origin(respond)
    s = tcp_connect(proxy.addr)
    with s:
        s.sendall(http_request("GET", o.url("/lf")))
        got = recv_until_eof(s, allow_reset=True)
    assert got.startswith(b"HTTP/1.1 502 "), got
    assert b"smuggled" not in got


# ------------------------------------- Connection naming the framing fields


@pytest.mark.parametrize("named", ["Content-Length", "Transfer-Encoding", "Host"])
def test_connection_option_naming_framing_field(proxy, raw_http_origin, named):
    """`Connection: Content-Length` must not strip the framing sluice used
    (the body would become a request at the origin): refuse, or keep it."""
    o = raw_http_origin()
    if named == "Transfer-Encoding":
        lines, body = [b"Transfer-Encoding: chunked"], b"2e\r\n" + SMUGGLED + b"\r\n0\r\n\r\n"
    else:
        lines, body = [f"Content-Length: {len(SMUGGLED)}".encode()], SMUGGLED
    data = vector_bytes(o, [host_line(o), f"Connection: {named}".encode()] + lines, body)
    with HttpClient(proxy.addr) as c:
        c.send(data)
        r = c.read_response()
        if r.status == 400:
            c.expect_close(r)
        else:
            assert r.status == 200 and r.body == info_body("POST", "/front", SMUGGLED), r
    time.sleep(0.1)
    assert not [q for q in o.requests if "smuggled" in (q.target or "")], o.requests
    for q in o.requests:
        assert q.framing_error is None, q
        assert q.values("host") == [o.authority], q


@pytest.mark.parametrize("named", ["Content-Length", "Transfer-Encoding"])
def test_response_connection_option_naming_framing_field(proxy, raw_http_origin, named):
    framing = "length" if named == "Content-Length" else "chunked"
    o = raw_http_origin(lambda req, ctx: http_response(
        200, info_body(req.method, req.target), [("Connection", named)], framing=framing))
    with HttpClient(proxy.addr) as c:
        c.send(http_request("GET", o.url("/1")) + http_request("GET", o.url("/2")))
        r = c.read_response()
        assert r.body == info_body("GET", "/1"), r
        if r.framing == "close" or r.says_close:
            c.expect_close(r)
            return
        assert c.read_response().body == info_body("GET", "/2")
