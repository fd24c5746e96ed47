"""WebSocket upgrade through plain-HTTP forwarding: the Upgrade/Connection
pair reaches the origin, its 101 comes back, then bytes flow both ways until
both sides close. Other upgrades are stripped (test_forward.py)."""

import os
import socket
import time

from conftest import (
    HttpClient,
    exchange,
    http_response,
    info_body,
    recv_until_eof,
)

WS_HEADERS = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
    ("Origin", "http://example.test"),
]


def respond_ws(req, ctx):
    """101, then echo raw bytes until EOF, then say bye and close."""
    if (req.get("upgrade") or "").lower() != "websocket":
        return http_response(200, info_body(req.method, req.target))
    ctx.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    r = ctx.reader
    for _ in range(100000):
        if r.buf:
            data = bytes(r.buf)
            r.buf.clear()
            ctx.send(data)
            continue
        if not r.fill():
            break
    ctx.send(b"bye")
    ctx.close = True
    return None


def test_websocket_upgrade_relays_both_ways(proxy, raw_http_origin):
    o = raw_http_origin(respond_ws)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/ws?room=1"), WS_HEADERS)
        r = c.read_response(skip_1xx=False)
        assert r.status == 101, r
        assert (r.get("upgrade") or "").lower() == "websocket", r
        assert "upgrade" in r.connection_tokens(), r
        assert r.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", r
        leftover = bytes(c.buf)
        c.buf.clear()
        payload = os.urandom(200_000)
        assert exchange(c.sock, payload, initial=leftover) == payload
        assert exchange(c.sock, b"\x81\x05hello") == b"\x81\x05hello"
        c.sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(c.sock, allow_reset=True) == b"bye"
    req = o.wait_requests(1)[0]
    assert req.target == "/ws?room=1"
    assert req.get("host") == o.authority
    assert (req.get("upgrade") or "").lower() == "websocket", req
    assert "upgrade" in [t.strip().lower() for t in (req.get("connection") or "").split(",")], req
    assert req.get("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ==", req
    assert req.get("sec-websocket-version") == "13"
    assert req.get("via") == "1.1 sluice", req


def test_websocket_upgrade_declined_by_origin(proxy, raw_http_origin):
    o = raw_http_origin(lambda req, ctx: http_response(200, b"plain", [("X-No", "ws")]))
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/ws"), WS_HEADERS)
        r = c.read_response()
        assert r.status == 200 and r.body == b"plain", r
        if r.says_close:
            c.expect_close(r)
            return
        c.request("GET", o.url("/after"))
        assert c.read_response().body == b"plain"


def test_websocket_access_log(proxy, raw_http_origin):
    o = raw_http_origin(respond_ws)
    with HttpClient(proxy.addr) as c:
        port = c.sock.getsockname()[1]
        c.request("GET", o.url("/wslog"), WS_HEADERS)
        assert c.read_response(skip_1xx=False).status == 101
        assert exchange(c.sock, b"x" * 1000) == b"x" * 1000
        c.sock.shutdown(socket.SHUT_WR)
        recv_until_eof(c.sock, allow_reset=True)
    e = proxy.wait_access_for(port)
    assert e.method == "GET" and e.target == o.url("/wslog"), e
    assert e.int("status") == 101, e
    assert e.int("up") >= 1000 and e.int("down") >= 1000, e


def test_websocket_origin_closes_first(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\n\r\nserver-first")
        time.sleep(0.1)
        ctx.close = True
        return None
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        c.request("GET", o.url("/wsclose"), WS_HEADERS)
        r = c.read_response(skip_1xx=False)
        assert r.status == 101, r
        got = recv_until_eof(c.sock, initial=bytes(c.buf), allow_reset=True)
        assert got == b"server-first"
