"""Robustness: heads arriving in pieces, data arriving between head and 200,
clients half-closing early, descriptor exhaustion."""

import shutil
import socket
import time

import pytest

from conftest import (
    Head,
    assert_error_reply,
    connect_via,
    exchange,
    handler_echo,
    make_collect_then_reply,
    read_reply,
    recv_head,
    recv_until_eof,
    send_raw,
    tcp_connect,
)


def send_in_pieces(sock, data, cuts, pause=0.02):
    """Send data split at the given offsets, pausing between pieces."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    prev = 0
    for c in list(cuts) + [len(data)]:
        if c > prev:
            sock.sendall(data[prev:c])
            time.sleep(pause)
        prev = c


def test_head_byte_by_byte(proxy, echo_origin):
    head = (f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: {echo_origin.target}\r\n"
            f"User-Agent: trickle\r\n\r\n").encode()
    sock = tcp_connect(proxy.addr)
    with sock:
        send_in_pieces(sock, head, range(1, len(head)), pause=0.005)
        raw, leftover = recv_head(sock)
        assert Head(raw).status == 200
        assert exchange(sock, b"after trickle", initial=leftover) == b"after trickle"


@pytest.mark.parametrize("where", ["CR|LF", "CRLF|CRLF", "CRLFCR|LF", "mid-target", "mid-version"])
def test_head_split_at_awkward_points(proxy, echo_origin, where):
    line = f"CONNECT {echo_origin.target} HTTP/1.1\r\n".encode()
    head = line + f"Host: {echo_origin.target}\r\n\r\n".encode()
    end = len(head)
    cut = {
        "CR|LF": [len(line) - 1],
        "CRLF|CRLF": [end - 2],
        "CRLFCR|LF": [end - 1],
        "mid-target": [len("CONNECT 127.0")],
        "mid-version": [len(line) - 5],
    }[where]
    sock = tcp_connect(proxy.addr)
    with sock:
        send_in_pieces(sock, head, cut, pause=0.1)
        raw, leftover = recv_head(sock)
        assert Head(raw).status == 200
        assert exchange(sock, b"split ok", initial=leftover) == b"split ok"


def test_data_sent_between_head_and_200(proxy, origin_factory):
    """Bytes in a second send() while the proxy is still connecting."""
    o = origin_factory(make_collect_then_reply(lambda r: bytes(r.data), delay=0.1))
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(f"CONNECT {o.target} HTTP/1.1\r\nHost: {o.target}\r\n\r\n".encode())
        sock.sendall(b"second-send ")
        sock.sendall(b"third-send")
        raw, leftover = recv_head(sock)
        assert Head(raw).status == 200
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock, initial=leftover) == b"second-send third-send"


@pytest.mark.parametrize("request_bytes,status", [
    (b"CONNECT nohostport HTTP/1.1\r\nHost: nohostport\r\n\r\n", 400),
    (b"CONNECT example.test:22 HTTP/1.1\r\nHost: example.test:22\r\n\r\n", 403),
    (b"CONNECT example.test:443 HTTP/2.0\r\nHost: example.test:443\r\n\r\n", 505),
])
def test_error_reply_reaches_half_closed_client(proxy, request_bytes, status):
    """A client that shuts its write side right after the request still gets
    the answer."""
    r = send_raw(proxy, request_bytes, shut_wr=True)
    assert_error_reply(r, status)


def test_error_reply_then_client_keeps_sending(proxy):
    """The proxy reads and drops what follows a rejected head instead of
    resetting the connection before the client has read the answer."""
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(b"CONNECT nohostport HTTP/1.1\r\nHost: x\r\n\r\n" + b"z" * 20000)
        time.sleep(0.2)
        r = read_reply(sock)
    assert_error_reply(r, 400)


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit(1)")
def test_descriptor_exhaustion_recovers(proxy_factory, echo_origin):
    """Run out of descriptors (RLIMIT_NOFILE 64): the proxy neither dies nor
    stops for good; once clients go away it serves again."""
    p = proxy_factory(workers="1", header_timeout="30s",
                      prefix=["prlimit", "--nofile=64:64", "--"])
    hogs = []
    try:
        for _ in range(100):
            s = tcp_connect(p.addr)
            s.sendall(b"CONNECT 127.0.0.1:")  # never finished: holds an fd
            hogs.append(s)
        time.sleep(0.5)
        assert p.alive(), p.stderr()
        # a tunnel needs two descriptors; make some tunnels while starved
        for h in hogs[:10]:
            h.close()
        time.sleep(0.3)
    finally:
        for h in hogs:
            h.close()
    # everything released: fully usable again (accept backoff is <= 1 s)
    for i in range(5):
        sock, status, leftover = connect_via(p, echo_origin.target, timeout=15)
        with sock:
            assert status == 200
            assert exchange(sock, b"recovered %d" % i, initial=leftover) == b"recovered %d" % i
    assert p.alive()


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit(1)")
def test_tunnels_under_descriptor_pressure(proxy_factory, origin_factory):
    """With few descriptors, tunnels that do get set up still carry data
    correctly (e.g. no splice pipe available)."""
    o = origin_factory(handler_echo)
    p = proxy_factory(workers="1", prefix=["prlimit", "--nofile=40:40", "--"])
    socks = []
    ok = 0
    try:
        for i in range(30):
            try:
                s, status, leftover = connect_via(p, o.target, timeout=3)
            except (AssertionError, OSError):
                break
            socks.append(s)
            if status != 200:
                break
            data = bytes([i]) * 200_000
            assert exchange(s, data, initial=leftover, timeout=20) == data
            ok += 1
    finally:
        for s in socks:
            s.close()
    assert ok >= 3, "too few tunnels under a 40 descriptor limit"
    assert p.alive()


def test_many_and_long_headers_accepted(proxy, echo_origin):
    """A head with 40 fields and a 4 KiB value is ordinary and accepted."""
    headers = [("Host", echo_origin.target)]
    headers += [(f"X-Field-{i}", f"value {i}") for i in range(40)]
    headers += [("Proxy-Authorization", "Basic " + "QUJD" * 1024)]
    sock, status, leftover = connect_via(proxy, echo_origin.target, headers=headers)
    with sock:
        assert status == 200
        assert exchange(sock, b"big head ok", initial=leftover) == b"big head ok"


@pytest.mark.parametrize("kind", ["many-fields", "long-line", "long-target"])
def test_excessive_head_rejected(proxy, echo_origin, kind):
    t = echo_origin.target
    if kind == "many-fields":
        head = f"CONNECT {t} HTTP/1.1\r\n" + "".join(f"X-{i}: v\r\n" for i in range(2000)) + "\r\n"
    elif kind == "long-line":
        head = f"CONNECT {t} HTTP/1.1\r\nX-Long: {'a' * 100_000}\r\n\r\n"
    else:
        head = f"CONNECT {'a' * 100_000}.test:{echo_origin.port} HTTP/1.1\r\n\r\n"
    sock = tcp_connect(proxy.addr)
    with sock:
        try:
            sock.settimeout(10)
            sock.sendall(head.encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = read_reply(sock, timeout=10)
    assert r.status in (400, 413, 414, 431), r
    assert r.closed
    assert not echo_origin.records
