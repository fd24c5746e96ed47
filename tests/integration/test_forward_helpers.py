"""Self-tests of the forwarding helpers in conftest.py (no proxy needed):
the raw HTTP origin records exactly what arrives and parses framing
strictly; HttpClient reads every response framing."""

import os
import socket

from conftest import (
    HttpClient,
    chunk_encode,
    http_request,
    http_response,
    info_body,
    tcp_connect,
)


def test_origin_records_exact_bytes_and_keeps_alive(raw_http_origin):
    o = raw_http_origin()
    with HttpClient(o.addr) as c:
        req = http_request("GET", "/a?b", [("X-A", "1"), ("x-b", " two  ")],
                           host=f"example.test:{o.port}")
        c.send(req)
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/a?b")
        c.request("POST", "/p", [("Content-Length", "5")], b"hello", host="h")
        r2 = c.read_response()
        assert r2.body == info_body("POST", "/p", b"hello")
    reqs = o.wait_requests(2)
    assert reqs[0].raw == req
    assert reqs[0].headers == [("Host", f"example.test:{o.port}"), ("X-A", "1"), ("x-b", "two")]
    assert reqs[1].body == b"hello" and reqs[1].framing == "length"
    assert reqs[1].conn_index == 0 and reqs[1].index_in_conn == 1


def test_origin_chunked_request_and_pipelining(raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(3000)
    enc = chunk_encode(body, [1, 700, 5], trailers=[("X-T", "v")], ext=b";e=1")
    data = (http_request("POST", "/c", [("Transfer-Encoding", "chunked")], enc, host="h")
            + http_request("GET", "/after", host="h"))
    with HttpClient(o.addr) as c:
        c.send(data)
        r1 = c.read_response()
        r2 = c.read_response()
    assert r1.body == info_body("POST", "/c", body)
    assert r2.body == info_body("GET", "/after")
    reqs = o.wait_requests(2)
    assert reqs[0].raw_body == enc and reqs[0].body == body
    assert reqs[0].trailers == ["X-T: v"]
    assert reqs[0].framing_error is None


def test_origin_flags_bad_chunk(raw_http_origin):
    o = raw_http_origin()
    with HttpClient(o.addr) as c:
        c.send(http_request("POST", "/c", [("Transfer-Encoding", "chunked")],
                            b"zz\r\nhello\r\n0\r\n\r\n", host="h"))
        c.wait_closed()
    req = o.wait_requests(1)[0]
    assert req.framing_error and "chunk-size" in req.framing_error


def test_origin_expect_100(raw_http_origin):
    o = raw_http_origin()
    with HttpClient(o.addr) as c:
        c.send(http_request("PUT", "/e", [("Content-Length", "3"), ("Expect", "100-continue")],
                            host="h"))
        r = c.read_response(skip_1xx=False)
        assert r.status == 100
        c.send(b"abc")
        r = c.read_response()
        assert r.body == info_body("PUT", "/e", b"abc")


def test_client_reads_every_framing(raw_http_origin):
    big = os.urandom(100_000)

    def respond(req, ctx):
        kind = req.target.lstrip("/")
        if kind == "chunked":
            return http_response(200, big, framing="chunked", chunks=[1, 4096, 333],
                                 trailers=[("X-T", "1")])
        if kind == "head":
            return http_response(200, b"", [("Content-Length", "1234")], framing="none")
        if kind == "304":
            return http_response(304, b"", [("Content-Length", "10")], framing="none")
        if kind == "early":
            ctx.send(http_response(103, b"", [("Link", "</x>")], framing="none"))
            return http_response(200, b"final")
        if kind == "close":
            ctx.close = True
            return http_response(200, big, framing="close")
        return http_response(200, big)

    o = raw_http_origin(respond)
    with HttpClient(o.addr) as c:
        for kind, method in (("length", "GET"), ("chunked", "GET"), ("head", "HEAD"),
                             ("304", "GET"), ("early", "GET")):
            c.request(method, "/" + kind, host="h")
            r = c.read_response(method)
            if kind in ("length", "chunked"):
                assert r.body == big, kind
            elif kind == "early":
                assert r.body == b"final" and [i.status for i in r.interim] == [103]
            else:
                assert r.body == b"", kind
        assert c.buf == b""
        c.request("GET", "/close", host="h")
        r = c.read_response()
        assert r.framing == "close" and r.body == big
        c.wait_closed()


def test_client_wait_closed_raises_on_open_connection(raw_http_origin):
    o = raw_http_origin()
    with HttpClient(o.addr, timeout=0.3) as c:
        try:
            c.wait_closed()
        except AssertionError:
            pass
        else:
            raise AssertionError("wait_closed did not notice an open connection")


def test_origin_records_raw_garbage(raw_http_origin):
    o = raw_http_origin()
    s = tcp_connect(o.addr)
    with s:
        s.sendall(b"NOT HTTP\r\n")
        s.shutdown(socket.SHUT_WR)
        o.wait_done(0)
    assert o.all_bytes() == b"NOT HTTP\r\n"
    assert o.requests == []
