"""Error answers (400/403/408/501/502/504/505), each followed by the proxy
closing the connection, and robustness: the proxy keeps serving others."""

import socket
import time

import pytest

from conftest import (
    IO_TIMEOUT,
    assert_error_reply,
    closed_port,
    connect_via,
    exchange,
    read_reply,
    send_raw,
    tcp_connect,
    wait_closed,
)


def connect_head(target, version="HTTP/1.1", host=None):
    host = host or target
    return f"CONNECT {target} {version}\r\nHost: {host}\r\n\r\n".encode("latin-1")


# ------------------------------------------------------------------- 400


BAD_TARGETS = [
    "nohostport",
    "example.test:0",
    "example.test:99999",
    "example.test:65536",
    "example.test:",
    ":443",
    "example.test:44x3",
    "example.test:-1",
    "[::1:443",
    "[::1]443",
    "[zz::1]:443",
    "1.2.3:443",
    "1.2.3.4.5:443",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_malformed_target_400(proxy, target):
    r = send_raw(proxy, connect_head(target, host="example.test:443"))
    assert_error_reply(r, 400)


def test_target_with_space_400(proxy):
    r = send_raw(proxy, b"CONNECT a b:443 HTTP/1.1\r\nHost: b:443\r\n\r\n")
    assert_error_reply(r, 400)


@pytest.mark.parametrize("junk", [
    b"this is not http at all\r\n\r\n",
    b"CONNECT\r\n\r\n",
    b"CONNECT example.test:443\r\n\r\n",
    b"\r\n\r\n",
    b"CONNECT example.test:443 HTTP/1.1 extra\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
], ids=["words", "no-target", "no-version", "empty", "extra-token", "tls-bytes"])
def test_junk_400(proxy, junk):
    r = send_raw(proxy, junk)
    assert_error_reply(r, 400)


@pytest.mark.parametrize("version", ["http/1.1", "HTTP/1", "HTTP/1.1.1", "HTTP/one"])
def test_malformed_version_rejected(proxy, echo_origin, version):
    # syntactically invalid HTTP-version: 400 (505 tolerated)
    r = send_raw(proxy, connect_head(echo_origin.target, version=version))
    assert r.status in (400, 505), r
    assert_error_reply(r, r.status)
    assert not echo_origin.records


def _valid_but(echo_origin, bad_header_block):
    t = echo_origin.target
    return f"CONNECT {t} HTTP/1.1\r\n".encode() + bad_header_block


@pytest.mark.parametrize("block", [
    # the target is a live echo server: a proxy that ignores the defect
    # would answer 200 instead of 400
    pytest.param(b"Host: x\r\nX-A: b\r\n c\r\n\r\n", id="obs-fold"),
    pytest.param(b"Host: x\r\nX-A: b\r\n\tc\r\n\r\n", id="obs-fold-tab"),
    pytest.param(b"Host : x\r\n\r\n", id="space-before-colon"),
    pytest.param(b"Host: a\x00b\r\n\r\n", id="nul-in-value"),
    pytest.param(b"Ho\x00st: ab\r\n\r\n", id="nul-in-name"),
    pytest.param(b"Host x\r\n\r\n", id="no-colon"),
    pytest.param(b": novalue\r\n\r\n", id="empty-name"),
])
def test_malformed_head_400(proxy, echo_origin, block):
    r = send_raw(proxy, _valid_but(echo_origin, block))
    assert_error_reply(r, 400)
    assert not echo_origin.records, "proxy connected to the target despite a bad head"


def test_bare_lf_line_endings_400(proxy, echo_origin):
    head = f"CONNECT {echo_origin.target} HTTP/1.1\nHost: x\n\n".encode()
    r = send_raw(proxy, head)
    assert_error_reply(r, 400)
    assert not echo_origin.records


def test_bare_lf_in_header_section_400(proxy, echo_origin):
    head = f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: x\nX-B: y\r\n\r\n".encode()
    r = send_raw(proxy, head)
    assert_error_reply(r, 400)
    assert not echo_origin.records


def test_nul_in_request_line_400(proxy, echo_origin):
    head = f"CONNECT {echo_origin.target}\x00 HTTP/1.1\r\n\r\n".encode()
    r = send_raw(proxy, head)
    assert_error_reply(r, 400)


# ------------------------------------------------------------------- 403


def test_port_not_allowed_403(proxy_factory, echo_origin):
    p = proxy_factory(connect_ports="443")
    r = send_raw(p, connect_head(echo_origin.target))
    assert_error_reply(r, 403)
    assert not echo_origin.records, "proxy connected to a forbidden port"


def test_connect_ports_list_and_range(proxy_factory, origin_factory):
    from conftest import handler_echo
    a = origin_factory(handler_echo)
    b = origin_factory(handler_echo)
    lo, hi = sorted((a.port, b.port))
    # comma + space separated, one single port and one range
    p = proxy_factory(connect_ports=f"443,{lo} {hi}-{hi}")
    for o in (a, b):
        sock, status, leftover = connect_via(p, o.target)
        with sock:
            assert status == 200, o.port
            assert exchange(sock, b"ok", initial=leftover) == b"ok"
    for port in (lo + 1 if lo + 1 != hi else lo + 2, hi + 1, 80, 8443):
        if port in (lo, hi):
            continue
        r = send_raw(p, connect_head(f"127.0.0.1:{port}"))
        assert_error_reply(r, 403)


def test_default_connect_ports_is_443_only(proxy_factory, echo_origin):
    p = proxy_factory(connect_ports=None)
    r = send_raw(p, connect_head(echo_origin.target))
    assert_error_reply(r, 403)


# ------------------------------------------------------------------- 502


def test_refused_502(proxy):
    holder = closed_port()
    try:
        port = holder.getsockname()[1]
        r = send_raw(proxy, connect_head(f"127.0.0.1:{port}"))
        assert_error_reply(r, 502)
    finally:
        holder.close()


def test_refused_by_name_502(proxy):
    holder = closed_port()
    try:
        port = holder.getsockname()[1]
        r = send_raw(proxy, connect_head(f"example.test:{port}"))
        assert_error_reply(r, 502)
    finally:
        holder.close()


def test_unknown_host_502(proxy):
    # .invalid never resolves (RFC 6761); not in the test hosts file either
    r = send_raw(proxy, connect_head("no-such-host.invalid:443"), timeout=20)
    assert_error_reply(r, 502)


# ------------------------------------------------------------------- 504


def test_connect_timeout_504(proxy_factory, blackhole):
    p = proxy_factory(connect_timeout="1s")
    t0 = time.monotonic()
    r = send_raw(p, connect_head(blackhole.target), timeout=10)
    assert_error_reply(r, 504)
    # safety limit only: the 504 must come from connect-timeout (1s), not
    # from the kernel giving up on SYN retries (minutes)
    assert time.monotonic() - t0 < 10


def test_connect_timeout_500ms_504(proxy_factory, blackhole):
    p = proxy_factory(connect_timeout="500ms")
    r = send_raw(p, connect_head(blackhole.target), timeout=10)
    assert_error_reply(r, 504)


# ------------------------------------------------------------------- 505 / 501


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0"])
def test_unsupported_version_505(proxy, echo_origin, version):
    r = send_raw(proxy, connect_head(echo_origin.target, version=version))
    assert_error_reply(r, 505)
    assert not echo_origin.records


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_other_methods_501(proxy, method):
    # only the status: plain HTTP forwarding will come later
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(f"{method} http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n".encode())
        r = read_reply(sock)
    assert r.status == 501, r


# ------------------------------------------------------------------- 408


def test_partial_head_408(proxy_factory, echo_origin):
    p = proxy_factory(header_timeout="1s")
    sock = tcp_connect(p.addr)
    with sock:
        sock.sendall(f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: x".encode())
        r = read_reply(sock, timeout=10)
    assert_error_reply(r, 408)
    assert not echo_origin.records


def test_trickled_head_408(proxy_factory, echo_origin):
    """header-timeout bounds the whole head, not the gap between bytes."""
    p = proxy_factory(header_timeout="1s")
    head = f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: x\r\nX-Pad: {'p' * 80}\r\n\r\n".encode()
    sock = tcp_connect(p.addr)
    with sock:
        deadline = time.monotonic() + 10
        sent = 0
        # one byte every 0.2 s; the full head would need > 20 s
        for _ in range(len(head)):
            if time.monotonic() > deadline:
                break
            try:
                sock.sendall(head[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            sock.settimeout(0.2)
            try:
                data = sock.recv(1, socket.MSG_PEEK)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if data:
                break
        assert sent < len(head), "proxy accepted a trickled head beyond header-timeout"
        r = read_reply(sock, timeout=10)
    assert_error_reply(r, 408)
    assert not echo_origin.records


def test_idle_connection_without_request_is_closed(proxy_factory):
    """A client that sends nothing is dropped after header-timeout (a 408 is
    allowed but not required)."""
    p = proxy_factory(header_timeout="1s")
    sock = tcp_connect(p.addr)
    with sock:
        data = wait_closed(sock, timeout=10)
    assert data == b"" or data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.0 408"), data


# ------------------------------------------------------------------- robustness


def test_garbage_then_next_client_served(proxy, echo_origin):
    r = send_raw(proxy, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
    assert r.status == 400 and r.closed, r
    r = send_raw(proxy, b"\xff" * 3000 + b"\r\n\r\n")
    assert r.status in (400, 431) and r.closed, r
    sock, status, leftover = connect_via(proxy, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"still alive", initial=leftover) == b"still alive"


def test_client_disconnects_at_random_points(proxy, echo_origin, blackhole):
    """Clients vanishing mid-head, mid-connect and mid-tunnel do not hurt."""
    full = f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    for cut in (0, 1, 8, len(full) // 2, len(full) - 1):
        s = tcp_connect(proxy.addr)
        s.sendall(full[:cut])
        s.close()
    # hang up while the proxy is connecting to a black hole
    s = tcp_connect(proxy.addr)
    s.sendall(f"CONNECT {blackhole.target} HTTP/1.1\r\n\r\n".encode())
    time.sleep(0.2)
    s.close()
    # hang up with RST in the middle of a tunnel
    s, status, _ = connect_via(proxy, echo_origin.target)
    assert status == 200
    s.sendall(b"x" * 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    for i in range(3):
        sock, status, leftover = connect_via(proxy, echo_origin.target)
        with sock:
            assert status == 200
            assert exchange(sock, b"after abuse %d" % i, initial=leftover) == b"after abuse %d" % i


def test_slow_client_does_not_block_others(proxy_factory, echo_origin):
    """With a single worker, a client stuck in the middle of its head does
    not stop other clients from being served."""
    p = proxy_factory(workers="1", header_timeout="30s")
    stuck = [tcp_connect(p.addr) for _ in range(5)]
    try:
        for s in stuck:
            s.sendall(b"CONNECT 127.0.0.1:")
        for i in range(3):
            sock, status, leftover = connect_via(p, echo_origin.target, timeout=IO_TIMEOUT)
            with sock:
                assert status == 200
                assert exchange(sock, b"served", initial=leftover) == b"served"
    finally:
        for s in stuck:
            s.close()
