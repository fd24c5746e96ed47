"""tunnel-idle-timeout."""

import re
import socket
import time

from conftest import (
    connect_via,
    exchange,
    recv_until_eof,
    wait_closed,
)


def test_idle_tunnel_closed(proxy_factory, echo_origin):
    p = proxy_factory(tunnel_idle_timeout="1s")
    sock, status, leftover = connect_via(p, echo_origin.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert exchange(sock, b"ping", initial=leftover) == b"ping"
        # nothing more from us or the echo target: the proxy must close
        assert wait_closed(sock, timeout=10) == b""
    rec = echo_origin.wait_done(timeout=10)
    assert rec.received == 4
    e = p.wait_access_for(client_port)
    assert e.int("status") == 200, e
    assert e.fields.get("end") == "idle-timeout", e
    assert e.int("up") == 4 and e.int("down") == 4, e
    # ms is the tunnel's duration: at least the 1 s of idleness
    assert e.int("ms") >= 900, e
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", e.time), e


def test_idle_timeout_after_half_close(proxy_factory, origin_factory):
    """A tunnel with one direction finished and the other silent is idle too."""
    from conftest import make_greet_then_collect
    o = origin_factory(make_greet_then_collect(b"bye"))
    p = proxy_factory(tunnel_idle_timeout="1s")
    sock, status, leftover = connect_via(p, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        # EOF here is the target's half-close, not the end of the tunnel
        assert recv_until_eof(sock, initial=leftover) == b"bye"
        # keep our side open and silent: the tunnel must time out
        e = p.wait_access_for(client_port, timeout=10)
    assert e.fields.get("end") == "idle-timeout", e
    assert e.int("up") == 0 and e.int("down") == 3, e


def test_activity_keeps_tunnel_open(proxy_factory, echo_origin):
    """Traffic every 0.2 s keeps a tunnel with a 2s idle timeout open for
    longer than 2 s; after the traffic stops it is closed."""
    p = proxy_factory(tunnel_idle_timeout="2s")
    sock, status, leftover = connect_via(p, echo_origin.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert leftover == b""
        t_end = time.monotonic() + 3.0
        n = 0
        for n in range(1, 200):
            if time.monotonic() > t_end:
                break
            msg = b"keepalive %d" % n
            assert exchange(sock, msg) == msg, f"tunnel broke after {n} pings"
            time.sleep(0.2)
        assert n > 5
        assert wait_closed(sock, timeout=10) == b""
    e = p.wait_access_for(client_port)
    assert e.fields.get("end") == "idle-timeout", e


def test_long_default_idle_timeout_not_hit(proxy_factory, echo_origin):
    """With the default (10min) idle timeout a 2 s pause does not close."""
    p = proxy_factory(tunnel_idle_timeout=None)
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        time.sleep(2)
        assert exchange(sock, b"still here", initial=leftover) == b"still here"
        sock.shutdown(socket.SHUT_WR)
        assert wait_closed(sock) == b""
