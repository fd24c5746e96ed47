"""Error answers (400/403/408/501/502/504/505), each followed by the proxy
closing the connection, and robustness: the proxy keeps serving others."""

import select
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
    b"CONNECT example.test:443 HTTP/1.1 extra\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
], ids=["words", "no-target", "no-version", "extra-token", "tls-bytes"])
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


def test_unknown_host_502(proxy, dns_nxdomain):
    # .invalid never resolves (RFC 6761); not in the test hosts file either
    r = send_raw(proxy, connect_head("no-such-host.invalid:443"), timeout=20)
    assert_error_reply(r, 502)
    assert b"unknown host" in r.body
    # the name was asked of the configured server, not the system's
    assert "no-such-host.invalid" in [q.lower() for q in dns_nxdomain.queries]


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
def test_origin_form_to_the_proxy_400(proxy, method):
    # a request for the proxy itself (origin-form), not one to forward
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(f"{method} / HTTP/1.1\r\nHost: example.test\r\n\r\n".encode())
        r = read_reply(sock)
    assert_error_reply(r, 400)
    assert b"absolute URI" in r.body


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
    s.sendall(f"CONNECT {blackhole.target} HTTP/1.1\r\nHost: {blackhole.target}\r\n\r\n".encode())
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


def test_oversized_head_rejected(proxy, echo_origin):
    """A head far larger than any sane limit gets a 4xx and a close (the
    proxy must neither buffer it forever nor crash)."""
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(f"CONNECT {echo_origin.target} HTTP/1.1\r\n".encode())
        line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        sent = 0
        # up to 1 MiB of headers; stop as soon as the proxy answered/closed
        for _ in range(1024):
            try:
                sock.settimeout(5)
                sock.sendall(line)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
            sent += len(line)
            if select.select([sock], [], [], 0)[0]:
                break  # answer (or EOF/RST) is there
        r = read_reply(sock, timeout=10)
    assert r.status in (400, 413, 431), r
    assert r.closed
    assert not echo_origin.records


def test_pending_connect_does_not_block_others(proxy_factory, blackhole, echo_origin):
    """With one worker, clients waiting on a hanging connect() do not delay
    other clients; each of them later gets its 504."""
    p = proxy_factory(workers="1", connect_timeout="2s")
    waiting = []
    try:
        for _ in range(20):
            s = tcp_connect(p.addr)
            s.sendall(f"CONNECT {blackhole.target} HTTP/1.1\r\nHost: {blackhole.target}\r\n\r\n".encode())
            waiting.append(s)
        time.sleep(0.2)
        sock, status, leftover = connect_via(p, echo_origin.target)
        with sock:
            assert status == 200
            assert exchange(sock, b"not blocked", initial=leftover) == b"not blocked"
        for s in waiting:
            assert_error_reply(read_reply(s, timeout=10), 504)
    finally:
        for s in waiting:
            s.close()


def test_access_log_for_errors(proxy_factory, echo_origin):
    p = proxy_factory(header_timeout="1s", connect_ports=f"443 {echo_origin.port}")
    s1 = tcp_connect(p.addr)
    s2 = tcp_connect(p.addr)
    s3 = tcp_connect(p.addr)
    ports = [s.getsockname()[1] for s in (s1, s2, s3)]
    with s1, s2, s3:
        s1.sendall(b"CONNECT nohostport HTTP/1.1\r\nHost: nohostport\r\n\r\n")
        s2.sendall(b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
        s3.sendall(b"CONNECT 127.0.0.1:")
        for s in (s1, s2, s3):
            read_reply(s, timeout=10)
    statuses = [p.wait_access_for(port).int("status") for port in ports]
    assert statuses == [400, 403, 408]
    for port in ports:
        e = p.wait_access_for(port)
        assert e.fields.get("end") not in (None, "", "done"), e
        assert e.int("up") == 0 and e.int("down") == 0, e
        e.int("ms")
