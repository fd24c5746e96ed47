"""`listen ADDR:PORT proxy-protocol` (README "Behind a load balancer"):
each connection starts with a PROXY v1 or v2 header from a balancer in
proxy-protocol-from, and the address it carries is the client's for the
ACL, the limits, the access log and the metrics. A missing or malformed
header, or one from anyone else, closes the connection and is counted.

The headers are written here by hand (the parser has its own unit tests
and fuzz target); a real HAProxy in front is left to the fleet test."""

import ipaddress
import socket
import struct

import pytest

from conftest import (
    IO_TIMEOUT,
    exchange,
    read_reply,
    recv_head,
    tcp_connect,
    wait_closed,
    wait_for,
)
from test_metrics import scrape
from test_reload import reload_ok, rewrite

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, dst="127.0.0.1", sport=40000, dport=3128):
    fam = "TCP6" if ":" in src else "TCP4"
    return f"PROXY {fam} {src} {dst} {sport} {dport}\r\n".encode()


def v2(src, dst=None, sport=40000, dport=3128, local=False):
    if local:
        return V2_SIG + bytes([0x20, 0x00]) + struct.pack(">H", 0)
    a = ipaddress.ip_address(src)
    if a.version == 4:
        d = ipaddress.ip_address(dst or "127.0.0.1")
        body = a.packed + d.packed + struct.pack(">HH", sport, dport)
        fam = 0x11
    else:
        d = ipaddress.ip_address(dst or "::1")
        body = a.packed + d.packed + struct.pack(">HH", sport, dport)
        fam = 0x21
    return V2_SIG + bytes([0x21, fam]) + struct.pack(">H", len(body)) + body


def get(addr, header, url, byte_by_byte=False):
    """Sends header then a GET for url; returns the status, or None when
    the proxy closed the connection without a reply."""
    req = (f"GET {url} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n"
           f"Connection: close\r\n\r\n").encode()
    with tcp_connect(addr) as s:
        if byte_by_byte:
            for b in header:
                s.sendall(bytes([b]))
            s.sendall(req)
        else:
            s.sendall(header + req)  # the request in the same segment
        try:
            return read_reply(s).head.status
        except (AssertionError, ConnectionError, OSError):
            return None


def closed_without_reply(addr, data):
    with tcp_connect(addr) as s:
        if data:
            s.sendall(data)
        s.settimeout(IO_TIMEOUT)
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        return got == b""


@pytest.fixture
def pp_proxy(proxy_factory, raw_http_origin):
    o = raw_http_origin()
    # deny first: the first rule that matches decides
    p = proxy_factory(listen="127.0.0.1:0 proxy-protocol", deny="127.0.0.66",
                      allow="all")
    return p, f"http://127.0.0.1:{o.port}/"


@pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])
def test_the_header_address_is_the_client(pp_proxy, make):
    p, url = pp_proxy
    assert get(p.addr, make("127.0.0.9"), url) == 200
    ent = p.wait_access(lambda e: e.client.startswith("127.0.0.9"))[0]
    assert ent.fields.get("status") == "200"
    # the ACL judges the header's address, not the balancer's
    assert get(p.addr, make("127.0.0.66"), url) == 403
    p.wait_access(lambda e: e.client.startswith("127.0.0.66")
                  and e.fields.get("end") == "client-denied")


def test_ipv6_client_byte_by_byte_and_local(pp_proxy):
    p, url = pp_proxy
    assert get(p.addr, v1("2001:db8::7", "::1"), url, byte_by_byte=True) == 200
    p.wait_access(lambda e: "2001:db8::7" in e.client)
    assert get(p.addr, v2("2001:db8::8"), url) == 200
    p.wait_access(lambda e: "2001:db8::8" in e.client)
    # LOCAL (a balancer's health check): the connection's own address
    assert get(p.addr, v2(None, local=True), url) == 200


def test_tunnel_through_a_proxy_protocol_listener(pp_proxy, echo_origin):
    p, _ = pp_proxy
    with tcp_connect(p.addr) as s:
        s.sendall(v2("127.0.0.10") + f"CONNECT {echo_origin.target} HTTP/1.1\r\n"
                  f"Host: {echo_origin.target}\r\n\r\n".encode())
        raw, leftover = recv_head(s)
        assert raw.startswith(b"HTTP/1.1 200"), raw
        assert exchange(s, b"hello", initial=leftover) == b"hello"
    p.wait_access(lambda e: e.client.startswith("127.0.0.10") and e.method == "CONNECT")


def test_missing_or_bad_header_closes_and_counts(pp_proxy):
    p, url = pp_proxy
    before = scrape(p).get("sluice_connections_refused_total", reason="proxy-protocol")
    bad = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",           # no header at all
        b"PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n",            # bad address
        b"PROXY TCP4 1.2.3.4 127.0.0.1 1 65536\r\n",      # bad port
        V2_SIG + b"\x31\x11\x00\x0c" + b"\x00" * 12,      # version 3
        V2_SIG + b"\x21\x11\x00\x04" + b"\x00" * 4,       # address too short
    ]
    for data in bad:
        assert closed_without_reply(p.addr, data), data
    ex = wait_for(lambda: (lambda e: e if e.get("sluice_connections_active") == 0
                           else None)(scrape(p)), IO_TIMEOUT, what="all closed")
    after = ex.get("sluice_connections_refused_total", reason="proxy-protocol")
    assert after - before == len(bad)
    # and it serves on
    assert get(p.addr, v1("127.0.0.11"), url) == 200


def test_header_from_outside_proxy_protocol_from_is_refused(proxy_factory,
                                                            raw_http_origin):
    o = raw_http_origin()
    url = f"http://127.0.0.1:{o.port}/"
    p = proxy_factory(listen=["127.0.0.1:0 proxy-protocol", "127.0.0.1:0"],
                      proxy_protocol_from="127.0.0.2/32")
    pp, plain = p.addrs[0], p.addrs[1]
    # from 127.0.0.1: not a balancer we know
    assert closed_without_reply(pp, v1("10.9.9.9") + b"GET / HTTP/1.1\r\n\r\n")
    # from 127.0.0.2: trusted
    s = socket.create_connection(pp, timeout=IO_TIMEOUT, source_address=("127.0.0.2", 0))
    with s:
        s.sendall(v1("192.168.7.7") + f"GET {url} HTTP/1.1\r\nHost: x\r\n"
                  f"Connection: close\r\n\r\n".encode())
        assert read_reply(s).head.status == 200
    p.wait_access(lambda e: e.client.startswith("192.168.7.7"))
    # the plain listener beside it needs no header
    assert get(plain, b"", url) == 200
    assert scrape(p).get("sluice_connections_refused_total", reason="proxy-protocol") == 1


def test_reload_turns_proxy_protocol_on_for_a_kept_listener(proxy_factory,
                                                           raw_http_origin):
    o = raw_http_origin()
    url = f"http://127.0.0.1:{o.port}/"
    p = proxy_factory()
    port = p.addr[1]
    assert get(p.addr, b"", url) == 200
    rewrite(p, listen=f"127.0.0.1:{port} proxy-protocol")
    reload_ok(p)
    assert "closed the listener" not in p.stderr()  # the same socket
    assert get(p.addr, v1("127.0.0.12"), url) == 200
    assert closed_without_reply(p.addr, b"GET / HTTP/1.1\r\n\r\n")


@pytest.mark.parametrize("value", ["proxy-protocol", "127.0.0.1:1 proxy-protocol proxy",
                                   ])
def test_bad_listen_flags(sluice_bin, tmp_path, value):
    import subprocess
    conf = tmp_path / "c.conf"
    conf.write_text(f"listen {value}\n")
    cp = subprocess.run([str(sluice_bin), "-c", str(conf), "--check-config"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 2 and f"{conf}:1" in cp.stderr, cp.stderr
