"""Graceful shutdown on SIGTERM / SIGINT."""

import signal
import socket
import time

import pytest

from conftest import (
    connect_via,
    exchange,
    recv_until_eof,
    tcp_connect,
)


def wait_refused(addr, timeout=3.0):
    """Poll until a new TCP connection to addr is refused (bounded).

    Returns True once refused, False if still accepted at timeout."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 5):
        try:
            s = tcp_connect(addr, timeout=1)
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        else:
            s.close()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_idle_proxy_exits_0(proxy_factory, sig):
    p = proxy_factory()
    p.send_signal(sig)
    rc = p.wait(10)
    assert rc == 0, f"exit status {rc}; stderr:\n{p.stderr()}"
    assert wait_refused(p.addr, timeout=1)
    assert p.stop() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_graceful_shutdown_with_open_tunnel(proxy_factory, echo_origin, sig):
    grace = 3.0
    p = proxy_factory(shutdown_grace="3s")
    sock, status, leftover = connect_via(p, echo_origin.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert exchange(sock, b"before", initial=leftover) == b"before"
        completed = len(b"before")  # bytes that went both ways for sure
        attempted = completed       # bytes we sent at all

        t0 = time.monotonic()
        p.send_signal(sig)

        # new connections are refused while the open tunnel is kept
        assert wait_refused(p.addr, timeout=grace / 2), \
            "proxy still accepts new connections after the signal"
        assert p.alive(), "proxy exited although a tunnel was open and grace not over"

        # the open tunnel keeps relaying during the grace period
        last_ok = None
        closed_at = None
        for n in range(500):
            if time.monotonic() - t0 > grace + 10:
                break
            msg = b"during grace %d" % n
            attempted += len(msg)
            try:
                got = exchange(sock, msg, timeout=grace + 10)
            except (AssertionError, ConnectionError, OSError):
                closed_at = time.monotonic() - t0
                break
            assert got == msg
            completed += len(msg)
            last_ok = time.monotonic() - t0
            time.sleep(0.1)
        assert last_ok is not None, "no data relayed after the signal"
        # relaying went on for (at least) half of the grace period
        assert last_ok >= grace / 2, f"tunnel stopped relaying {last_ok:.1f}s after signal"
        assert closed_at is not None, "tunnel not closed after the grace period"

    rc = p.wait(10)
    assert rc == 0, f"exit status {rc}; stderr:\n{p.stderr()}"
    assert p.stop() == []
    e = p.wait_access_for(client_port, timeout=1)
    assert e.fields.get("end") == "shutdown", e
    # a ping may be in flight when the tunnel is cut: bounds, not equality
    assert completed <= e.int("up") <= attempted, (e, completed, attempted)
    assert completed <= e.int("down") <= e.int("up"), (e, completed, attempted)


def test_shutdown_exits_early_when_tunnels_end(proxy_factory, echo_origin):
    """With a long grace, the proxy exits as soon as the last tunnel ends."""
    p = proxy_factory(shutdown_grace="60s")
    sock, status, leftover = connect_via(p, echo_origin.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert exchange(sock, b"hello", initial=leftover) == b"hello"
        p.send_signal(signal.SIGTERM)
        assert wait_refused(p.addr, timeout=5)
        assert p.alive()
        assert exchange(sock, b"still relayed") == b"still relayed"
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b""
    # safety limit far below the 60 s grace
    rc = p.wait(15)
    assert rc == 0, f"proxy did not exit after its last tunnel ended (rc={rc})"
    assert p.stop() == []
    e = p.wait_access_for(client_port, timeout=1)
    assert e.fields.get("end") == "done", e
    assert e.int("up") == 18 and e.int("down") == 18, e


def test_shutdown_with_many_tunnels_and_pending_head(proxy_factory, echo_origin):
    """Tunnels and a half-received head at SIGTERM: all get closed, exit 0."""
    p = proxy_factory(shutdown_grace="1s")
    socks = []
    try:
        for _ in range(10):
            s, status, leftover = connect_via(p, echo_origin.target)
            socks.append(s)
            assert status == 200
        half = tcp_connect(p.addr)
        socks.append(half)
        half.sendall(b"CONNECT 127.0.0.1:")
        time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(15)
        assert rc == 0, f"exit status {rc}; stderr:\n{p.stderr()}"
        for s in socks:
            s.settimeout(5)
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 "), data
    finally:
        for s in socks:
            s.close()
    assert p.stop() == []
    ends = [e.fields.get("end") for e in p.access_entries() if e.fields.get("status") == "200"]
    assert ends.count("shutdown") == 10, p.access_text()
