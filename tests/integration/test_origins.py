"""Self-tests of the test helpers (origins, black hole, certificate).

These do not need the sluice binary; they make sure a failure elsewhere in
the suite points at the proxy, not at the test machinery."""

import hashlib
import os
import socket

from conftest import (
    BlackHole,
    HAVE_IPV6,
    expected_pattern,
    handler_echo,
    make_collect_then_reply,
    make_fast_sender,
    make_greet_then_collect,
    PATTERN_BLOCK,
    parse_access_lines,
    parse_duration,
    recv_until_eof,
    run_curl,
    tcp_connect,
    exchange,
    Head,
)


def test_echo_origin_echoes_and_half_closes(origin_factory):
    o = origin_factory(handler_echo)
    s = tcp_connect(o.addr)
    data = os.urandom(200_000)
    assert exchange(s, data) == data
    s.shutdown(socket.SHUT_WR)
    assert recv_until_eof(s) == b""
    s.close()
    rec = o.wait_done()
    assert rec.saw_eof and rec.received == len(data)
    assert rec.sha.hexdigest() == hashlib.sha256(data).hexdigest()


def test_echo_origin_ipv6(origin_factory):
    if not HAVE_IPV6:
        return
    o = origin_factory(handler_echo, host="::1")
    s = tcp_connect(o.addr)
    assert exchange(s, b"v6") == b"v6"
    s.close()


def test_collect_then_reply(origin_factory):
    o = origin_factory(make_collect_then_reply(lambda r: b"n=%d" % r.received))
    s = tcp_connect(o.addr)
    s.sendall(b"x" * 1000)
    s.shutdown(socket.SHUT_WR)
    assert recv_until_eof(s) == b"n=1000"
    s.close()


def test_greet_then_collect(origin_factory):
    o = origin_factory(make_greet_then_collect(b"hello"))
    s = tcp_connect(o.addr)
    assert recv_until_eof(s) == b"hello"
    s.sendall(b"after eof")
    s.shutdown(socket.SHUT_WR)
    rec = o.wait_done()
    assert bytes(rec.data) == b"after eof"
    s.close()


def test_fast_sender_pattern(origin_factory):
    o = origin_factory(make_fast_sender(300_000, 5))
    s = tcp_connect(o.addr)
    got = recv_until_eof(s)
    assert got == expected_pattern(0, 300_000)
    assert expected_pattern(100, 10) == (PATTERN_BLOCK * 2)[100:110]
    s.close()


def test_blackhole_hangs():
    bh = BlackHole()
    try:
        assert bh.verify(0.5)
    finally:
        bh.close()


def test_tls_origin_direct(http_origin_factory, tls_cert):
    o = http_origin_factory(body=b"direct tls\n", tls=True)
    cp = run_curl("--cacert", tls_cert[0], "--resolve",
                  f"example.test:{o.port}:127.0.0.1",
                  f"https://example.test:{o.port}/x")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"direct tls\n"


def test_parsers():
    h = Head(b"HTTP/1.1 200 Connection Established\r\nVia: x")
    assert h.status == 200 and h.headers["via"] == "x"
    e = parse_access_lines(
        "2026-11-24T00:26:01.123Z 127.0.0.1:5555 CONNECT example.test:443 "
        "status=200 up=1 down=22 ms=3 end=done\nnoise\n")
    assert len(e) == 1 and e[0].int("down") == 22 and e[0].fields["end"] == "done"
    assert e[0].client == "127.0.0.1:5555"
    assert parse_duration("500ms") == 0.5 and parse_duration("2min") == 120
