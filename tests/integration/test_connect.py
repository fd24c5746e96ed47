"""CONNECT tunnels: establishment, relaying, half-close, early data,
access log accounting, curl end-to-end."""

import hashlib
import os
import socket
import ssl
import time

import pytest

from conftest import (
    Head,
    connect_via,
    connect_via_full,
    exchange,
    handler_echo,
    make_collect_then_reply,
    make_greet_then_collect,
    needs_ipv6,
    recv_exact,
    recv_head,
    recv_until_eof,
    run_curl,
    sendall_bg,
    tcp_connect,
    wait_closed,
)


def test_tunnel_ipv4_literal(proxy, echo_origin):
    sock, head, leftover = connect_via_full(proxy, echo_origin.target)
    with sock:
        assert head.status == 200, head
        assert head.status_line == "HTTP/1.1 200 Connection Established", head
        assert leftover == b""
        assert exchange(sock, b"ping through sluice") == b"ping through sluice"


def test_tunnel_http10_request(proxy, echo_origin):
    sock, status, leftover = connect_via(proxy, echo_origin.target, version="HTTP/1.0",
                                         headers=[])
    with sock:
        assert status == 200
        assert exchange(sock, b"one-oh", initial=leftover) == b"one-oh"


def test_tunnel_hostname_from_hosts_file(proxy, echo_origin):
    # example.test -> 127.0.0.1 only via the configured hosts-file
    for name in ("example.test", "alias.example.test"):
        sock, status, leftover = connect_via(proxy, f"{name}:{echo_origin.port}")
        with sock:
            assert status == 200, name
            assert exchange(sock, name.encode(), initial=leftover) == name.encode()
    assert len(echo_origin.wait_conns(2)) == 2


def test_hosts_file_lookup_is_case_insensitive(proxy, echo_origin):
    sock, status, leftover = connect_via(proxy, f"Example.TEST:{echo_origin.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"case", initial=leftover) == b"case"


def test_hosts_file_commented_name_not_used(proxy, echo_origin, dns_nxdomain):
    # "commented.example.test" only appears in a comment of the hosts file,
    # and .test names are not resolvable otherwise.
    sock, status, _ = connect_via(proxy, f"commented.example.test:{echo_origin.port}")
    with sock:
        assert status == 502


@needs_ipv6
def test_tunnel_ipv6_literal(proxy, origin_factory):
    o = origin_factory(handler_echo, host="::1")
    assert o.target.startswith("[::1]:")
    sock, status, leftover = connect_via(proxy, o.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"over v6", initial=leftover) == b"over v6"


@needs_ipv6
def test_tunnel_hostname_to_ipv6_from_hosts_file(proxy, origin_factory):
    o = origin_factory(handler_echo, host="::1")
    sock, status, leftover = connect_via(proxy, f"v6.example.test:{o.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"name->v6", initial=leftover) == b"name->v6"


@needs_ipv6
def test_proxy_listens_on_ipv6_and_ipv4(proxy_factory, echo_origin):
    p = proxy_factory(listen=["127.0.0.1:0", "[::1]:0"])
    hosts = sorted(a[0] for a in p.addrs)
    assert hosts == ["127.0.0.1", "::1"], p.addrs
    for addr in p.addrs:
        sock, status, leftover = connect_via(p, echo_origin.target, addr=addr)
        with sock:
            assert status == 200, addr
            assert exchange(sock, b"hi", initial=leftover) == b"hi"


def test_one_mib_random_both_ways(proxy, echo_origin):
    data = os.urandom(1 << 20)
    sha = hashlib.sha256(data).hexdigest()
    sock, status, leftover = connect_via(proxy, echo_origin.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        t = sendall_bg(sock, data)
        got = recv_exact(sock, len(data), timeout=30, initial=leftover)
        t.join(30)
        assert t.error is None
        # client -> target, checked at the target
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b""
        rec = echo_origin.wait_done()
        assert rec.received == len(data)
        assert rec.sha.hexdigest() == sha
        # target -> client, checked at the client
        assert hashlib.sha256(got).hexdigest() == sha
    e = proxy.wait_access_for(client_port)
    assert e.int("up") == len(data) and e.int("down") == len(data), e


def test_bytes_sent_with_connect_head_small(proxy, echo_origin):
    early = b"early bird gets forwarded"
    sock, status, leftover = connect_via(proxy, echo_origin.target, extra=early)
    with sock:
        assert status == 200
        assert recv_exact(sock, len(early), initial=leftover) == early
        assert exchange(sock, b"+later") == b"+later"


def test_bytes_sent_with_connect_head_large(proxy, origin_factory):
    # collect-then-reply: target reports what it received after our EOF
    o = origin_factory(make_collect_then_reply(
        lambda r: r.sha.hexdigest().encode() + b" %d" % r.received))
    early = os.urandom(100_000)
    sock, status, leftover = connect_via(proxy, o.target, extra=early)
    with sock:
        assert status == 200
        sock.shutdown(socket.SHUT_WR)
        got = recv_until_eof(sock, initial=leftover)
    assert got == hashlib.sha256(early).hexdigest().encode() + b" %d" % len(early)


def _tls_step(sock, inb, outb, op, timeout=10.0):
    """Run an ssl object operation, shuttling bytes over sock (bounded)."""
    deadline = time.monotonic() + timeout
    for _ in range(1000):
        try:
            r = op()
        except ssl.SSLWantReadError:
            out = outb.read()
            if out:
                sock.sendall(out)
            left = deadline - time.monotonic()
            assert left > 0, "TLS step timed out"
            sock.settimeout(left)
            data = sock.recv(65536)
            if data:
                inb.write(data)
            else:
                inb.write_eof()
            continue
        out = outb.read()
        if out:
            sock.sendall(out)
        return r
    raise AssertionError("TLS step: too many iterations")


def test_tls_client_hello_sent_with_connect_head(proxy, http_origin_factory, tls_cert):
    """A TLS ClientHello pipelined in the same send() as the CONNECT head."""
    o = http_origin_factory(body=b"pipelined tls\n", tls=True)
    ctx = ssl.create_default_context(cafile=str(tls_cert[0]))
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inb, outb, server_hostname="example.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outb.read()
    assert hello[:1] == b"\x16"
    sock, status, leftover = connect_via(proxy, f"example.test:{o.port}", extra=hello)
    with sock:
        assert status == 200
        if leftover:
            inb.write(leftover)
        _tls_step(sock, inb, outb, obj.do_handshake)
        obj.write(b"GET /p HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        _tls_step(sock, inb, outb, lambda: None)
        resp = b""
        for _ in range(100):
            try:
                chunk = _tls_step(sock, inb, outb, lambda: obj.read(65536))
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
            if not chunk:
                break
            resp += chunk
            if resp.endswith(b"pipelined tls\n"):
                break
    assert resp.startswith(b"HTTP/1.1 200"), resp
    assert resp.endswith(b"\r\n\r\npipelined tls\n"), resp


def test_half_close_client_to_target(proxy, origin_factory):
    """Client shutdown(SHUT_WR): target sees EOF, still sends, client gets it."""
    o = origin_factory(make_collect_then_reply(
        lambda r: b"target saw EOF after %d bytes: " % r.received + bytes(r.data),
        delay=0.5))
    sock, status, leftover = connect_via(proxy, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        sock.sendall(b"question?")
        sock.shutdown(socket.SHUT_WR)
        got = recv_until_eof(sock, initial=leftover)
        assert got == b"target saw EOF after 9 bytes: question?"
        rec = o.wait_done()
        assert rec.saw_eof
    e = proxy.wait_access_for(client_port)
    assert e.fields.get("end") == "done", e
    assert e.int("up") == 9 and e.int("down") == len(got), e


def test_half_close_target_to_client(proxy, origin_factory):
    """Target shutdown(SHUT_WR): client sees EOF, still sends, target gets it."""
    o = origin_factory(make_greet_then_collect(b"greeting then EOF"))
    sock, status, leftover = connect_via(proxy, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        got = recv_until_eof(sock, initial=leftover)
        assert got == b"greeting then EOF"
        # the write direction must still be open, also a little later
        time.sleep(0.5)
        payload = os.urandom(300_000)
        sock.settimeout(10)
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        rec = o.wait_done()
        assert rec.saw_eof
        assert rec.received == len(payload)
        assert rec.sha.hexdigest() == hashlib.sha256(payload).hexdigest()
        # both directions done -> proxy closes; the client sees nothing more
        assert wait_closed(sock) == b""
    e = proxy.wait_access_for(client_port)
    assert e.fields.get("end") == "done", e
    assert e.int("up") == len(payload) and e.int("down") == len(got), e


def test_access_log_exact_counts(proxy, origin_factory):
    up_n, down_n = 123_457, 654_321
    o = origin_factory(make_collect_then_reply(lambda r: b"d" * down_n))
    sock, status, leftover = connect_via(proxy, o.target)
    with sock:
        assert status == 200
        client_port = sock.getsockname()[1]
        sock.sendall(b"u" * up_n)
        sock.shutdown(socket.SHUT_WR)
        got = recv_until_eof(sock, initial=leftover)
        assert len(got) == down_n
    e = proxy.wait_access_for(client_port)
    assert e.client == f"127.0.0.1:{client_port}", e
    assert e.method == "CONNECT"
    assert e.target == o.target
    assert e.int("status") == 200
    assert e.int("up") == up_n, e
    assert e.int("down") == down_n, e
    e.int("ms")
    assert e.fields["end"] == "done", e
    assert o.wait_done().received == up_n


def test_access_log_line_for_rejected_request(proxy_factory):
    p = proxy_factory(connect_ports="443")
    sock = tcp_connect(p.addr)
    with sock:
        port = sock.getsockname()[1]
        sock.sendall(b"CONNECT example.test:8443 HTTP/1.1\r\nHost: example.test:8443\r\n\r\n")
        wait_closed(sock)
    e = p.wait_access_for(port)
    assert e.int("status") == 403, e
    assert e.method == "CONNECT" and e.target == "example.test:8443", e
    assert e.int("up") == 0 and e.int("down") == 0, e
    assert e.fields.get("end") not in (None, "", "done"), e


def test_many_sequential_tunnels_same_proxy(proxy, echo_origin):
    for i in range(30):
        sock, status, leftover = connect_via(proxy, echo_origin.target)
        with sock:
            assert status == 200
            msg = b"round %d" % i
            assert exchange(sock, msg, initial=leftover) == msg
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock) == b""
    proxy.wait_access(lambda e: e.fields.get("end") == "done", count=30)


# ---------------------------------------------------------------- curl


def test_curl_https_via_proxy_hostname(proxy_factory, http_origin_factory, tls_cert):
    o = http_origin_factory(body=b"secret origin body\n", tls=True)
    p = proxy_factory(connect_ports=f"443 {o.port}")
    cp = run_curl("--cacert", tls_cert[0], "-x", p.url,
                  f"https://example.test:{o.port}/index")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"secret origin body\n"
    assert o.paths == ["/index"]
    e = p.wait_access(lambda e: e.target == f"example.test:{o.port}")[0]
    assert e.int("status") == 200 and e.int("up") > 0 and e.int("down") > 0, e


def test_curl_proxytunnel_ipv4_literal(proxy, http_origin_factory):
    o = http_origin_factory(host="127.0.0.1", body=b"plain v4 via tunnel\n")
    cp = run_curl("--proxytunnel", "-x", proxy.url, f"http://127.0.0.1:{o.port}/v4")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"plain v4 via tunnel\n"
    assert o.paths == ["/v4"]
    proxy.wait_access(lambda e: e.target == f"127.0.0.1:{o.port}" and
                      e.fields.get("status") == "200")


@needs_ipv6
def test_curl_proxytunnel_ipv6_literal(proxy, http_origin_factory):
    o = http_origin_factory(host="::1", body=b"plain v6 via tunnel\n")
    cp = run_curl("--proxytunnel", "-x", proxy.url, f"http://[::1]:{o.port}/v6")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"plain v6 via tunnel\n"
    assert o.paths == ["/v6"]


# ---------------------------------------------------------------- EOF ordering


def test_client_eof_after_big_upload_flushes_first(proxy, origin_factory):
    """All buffered client data reaches a slow target before the EOF."""
    def slow_start(c, rec, origin):
        time.sleep(0.5)  # let the proxy buffer / block before we read
        make_collect_then_reply(lambda r: r.sha.hexdigest().encode())(c, rec, origin)
    o = origin_factory(slow_start)
    data = os.urandom(8 << 20)
    sock, status, leftover = connect_via(proxy, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        sock.settimeout(30)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        got = recv_until_eof(sock, timeout=30, initial=leftover)
    assert got == hashlib.sha256(data).hexdigest().encode()
    e = proxy.wait_access_for(client_port)
    assert e.int("up") == len(data) and e.int("down") == 64, e


def test_target_eof_after_big_download_flushes_first(proxy, origin_factory):
    """All buffered target data reaches a slow client before the EOF."""
    data = os.urandom(8 << 20)
    o = origin_factory(make_greet_then_collect(data))
    sock, status, leftover = connect_via(proxy, o.target)
    with sock:
        assert status == 200
        time.sleep(0.5)  # target has sent everything and half-closed by now
        got = recv_until_eof(sock, timeout=30, initial=leftover)
        assert len(got) == len(data)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        sock.sendall(b"thanks")
        sock.shutdown(socket.SHUT_WR)
        assert bytes(o.wait_done().data) == b"thanks"


def test_client_eof_before_200(proxy, origin_factory):
    """Head + data + shutdown(SHUT_WR) all before the tunnel is up: the data
    and then the EOF still reach the target, and its answer comes back."""
    o = origin_factory(make_collect_then_reply(lambda r: b"got:" + bytes(r.data), delay=0.2))
    sock = tcp_connect(proxy.addr)
    with sock:
        sock.sendall(f"CONNECT {o.target} HTTP/1.1\r\nHost: {o.target}\r\n\r\n".encode()
                     + b"early+eof")
        sock.shutdown(socket.SHUT_WR)
        raw, leftover = recv_head(sock)
        assert Head(raw).status == 200
        assert recv_until_eof(sock, initial=leftover) == b"got:early+eof"


def test_target_closes_immediately(proxy, origin_factory):
    o = origin_factory(lambda c, rec, origin: None)  # accept, then close
    sock, status, leftover = connect_via(proxy, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert recv_until_eof(sock, initial=leftover) == b""
        sock.shutdown(socket.SHUT_WR)
        assert wait_closed(sock) == b""
    e = proxy.wait_access_for(client_port)
    assert e.int("status") == 200 and e.int("up") == 0 and e.int("down") == 0, e


def test_target_resets_connection(proxy, origin_factory, echo_origin):
    """Target sends RST mid-tunnel: the client connection is closed too and
    the proxy goes on serving."""
    def rst_after_hello(c, rec, origin):
        c.sendall(b"hello")
        c.recv(100)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    o = origin_factory(rst_after_hello)
    sock, status, leftover = connect_via(proxy, o.target)
    client_port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert recv_exact(sock, 5, initial=leftover) == b"hello"
        sock.sendall(b"trigger")
        wait_closed(sock)
    e = proxy.wait_access_for(client_port)
    assert e.int("status") == 200, e
    sock, status, leftover = connect_via(proxy, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"next", initial=leftover) == b"next"


@needs_ipv6
@pytest.mark.parametrize("live", ["127.0.0.1", "::1"])
def test_name_with_two_addresses_falls_back(proxy, origin_factory, live):
    """dual.example.test has 127.0.0.1 and ::1 in the hosts file; only one
    of them listens on the port (the other refuses): the tunnel still works,
    whichever address the proxy tries first."""
    o = origin_factory(handler_echo, host=live)
    dead = "::1" if live == "127.0.0.1" else "127.0.0.1"
    holder = socket.socket(socket.AF_INET6 if dead == "::1" else socket.AF_INET)
    try:
        holder.bind((dead, o.port))  # bound, not listening: refuses
    except OSError:
        holder.close()
        pytest.skip(f"port {o.port} busy on {dead}")
    with holder:
        sock, status, leftover = connect_via(proxy, f"dual.example.test:{o.port}")
        with sock:
            assert status == 200
            assert exchange(sock, b"fallback", initial=leftover) == b"fallback"


def test_curl_https_via_http10_proxy(proxy_factory, http_origin_factory, tls_cert):
    """curl --proxy1.0 sends 'CONNECT ... HTTP/1.0'."""
    o = http_origin_factory(body=b"via 1.0 connect\n", tls=True)
    p = proxy_factory(connect_ports=f"{o.port}")
    cp = run_curl("--cacert", tls_cert[0], "--proxy1.0", p.url.replace("http://", ""),
                  f"https://example.test:{o.port}/")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"via 1.0 connect\n"
