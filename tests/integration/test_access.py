"""Access control with the real binary: allow/deny for clients (checked on
accept, before a byte is read), allow-dest/deny-dest and the built-in
denials checked on every address after DNS (our own listeners included),
the open-proxy check at start, max-connections and
max-connections-per-client (503, logged once), and `user`.

Loopback only: 127.0.0.0/8 is routed on lo by Linux, so a client socket
bound to 127.0.0.2 before connecting is a second client address. No test
makes the proxy send a packet off the machine: every destination it is
let dial is on loopback (0.0.0.0 reaches this machine), and the denied
ones are refused before any dial."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (
    HAVE_IPV6,
    IO_TIMEOUT,
    STARTUP_TIMEOUT,
    Head,
    Proxy,
    assert_error_reply,
    exchange,
    family_of,
    fmt_hostport,
    handler_echo,
    http_request,
    needs_ipv6,
    read_reply,
    recv_head,
    run_sluice,
    wait_closed,
    wait_for,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

# names only these tests use; the proxy reads them from its hosts-file
HOSTS_TEXT = """\
127.0.0.1 loop.test
169.254.169.254 metadata.test
127.0.0.3 two.test
127.0.0.1 two.test
127.0.0.1 two-rev.test
127.0.0.3 two-rev.test
"""


@pytest.fixture
def hosts(tmp_path):
    p = tmp_path / "hosts.access"
    p.write_text(HOSTS_TEXT)
    return p


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def client(addr, source=None, timeout=IO_TIMEOUT):
    """A TCP connection to addr, from the source address if given."""
    host, port = addr
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source is not None:
            s.bind((source, 0))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def connect_from(addr, target, source=None, timeout=IO_TIMEOUT):
    """CONNECT target through the proxy at addr -> (sock, Head, leftover)."""
    s = client(addr, source, timeout)
    try:
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
                  .encode("latin-1"))
        raw, leftover = recv_head(s, timeout)
        return s, Head(raw), leftover
    except BaseException:
        s.close()
        raise


def request(addr, data, source=None):
    """Send data on a new connection, read the reply until the close."""
    s = client(addr, source)
    with s:
        s.sendall(data)
        return read_reply(s), s.getsockname()[1]


def refusal(addr, data=b"", source=None):
    """A connection refused on accept: the reply comes without our sending
    anything (data, if any, is sent after the reply has arrived)."""
    s = client(addr, source)
    with s:
        port = s.getsockname()[1]
        r = read_reply(s)
        if data:
            try:
                s.sendall(data)
            except OSError:
                pass
        return r, port


def tunnel_works(addr, target, source=None, msg=b"through"):
    s, head, leftover = connect_from(addr, target, source)
    with s:
        assert head.status == 200, head
        assert exchange(s, msg, initial=leftover) == msg


def end_of(proxy, port):
    return proxy.wait_access_for(port).fields.get("end")


def count_lines(text, needle):
    return sum(1 for line in text.splitlines() if needle in line)


def _proc_tcp_entries():
    """(local_port, remote_port, state, inode) of every TCP socket of this
    network namespace, IPv4 and IPv6."""
    out = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            lport = int(parts[1].rsplit(":", 1)[1], 16)
            rport = int(parts[2].rsplit(":", 1)[1], 16)
            out.append((lport, rport, parts[3], parts[9]))
    return out


def wait_accepted(proxy_port, socks, timeout=IO_TIMEOUT):
    """Wait until the proxy has accept()ed each of these client
    connections: the server side of a connection still in the accept
    queue has no socket inode yet (0), one accepted has."""
    want = {s.getsockname()[1] for s in socks}

    def done():
        seen = {r for (l, r, st, ino) in _proc_tcp_entries()
                if l == proxy_port and r in want and ino != "0"}
        return seen == want
    wait_for(done, timeout, what=f"the proxy to accept {sorted(want)}")


def close_and_wait(s):
    """Half-close our side and wait until the proxy has closed its own
    (it has then finished the connection); then close."""
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    wait_closed(s)
    s.close()


def still_open_and_quiet(s):
    """The proxy has neither answered nor closed this connection."""
    s.setblocking(False)
    try:
        s.recv(1)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)
    return False


def write_conf(tmp_path, dns_server, *lines, name="sluice.conf"):
    p = tmp_path / name
    p.write_text("\n".join([f"dns {dns_server.addr}", "access-log off",
                            "workers 1", *lines]) + "\n")
    return p


def no_connection(listener):
    """Nothing ever connected to this listening socket."""
    listener.setblocking(False)
    try:
        c, _ = listener.accept()
    except BlockingIOError:
        return True
    c.close()
    return False


def trap(host, port):
    """A listener on host:port that records whether anyone connected."""
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError:
        s.close()
        pytest.skip(f"cannot bind {host}:{port}")
    s.listen(16)
    return s


# --------------------------------------------------------------------------
# clients: allow / deny
# --------------------------------------------------------------------------


def test_client_not_allowed_gets_403_before_sending_anything(
        proxy_factory, echo_origin):
    p = proxy_factory(allow="127.0.0.2/32", header_timeout="30s")
    # nothing sent: the refusal comes on accept
    r, port = refusal(p.addr)
    assert_error_reply(r, 403)
    assert b"127.0.0.1" in r.body, r
    e = p.wait_access_for(port)
    assert e.int("status") == 403 and e.fields.get("end") == "client-denied", e
    assert e.method == "-" and e.target == "-", e
    assert e.int("up") == 0 and e.int("down") == 0, e
    # a request sent anyway goes nowhere
    req = f"CONNECT {echo_origin.target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    r, port = refusal(p.addr, req)
    assert_error_reply(r, 403)
    assert end_of(p, port) == "client-denied"
    # the allowed address is served
    tunnel_works(p.addr, echo_origin.target, source="127.0.0.2")
    assert len(echo_origin.records) == 1


def test_deny_rule_then_allow(proxy_factory, echo_origin):
    p = proxy_factory(deny="127.0.0.1", allow="127.0.0.0/8")
    r, port = refusal(p.addr)
    assert_error_reply(r, 403)
    assert end_of(p, port) == "client-denied"
    tunnel_works(p.addr, echo_origin.target, source="127.0.0.2")
    tunnel_works(p.addr, echo_origin.target, source="127.0.0.3")


def test_explicit_rules_replace_the_defaults(proxy_factory, echo_origin):
    """deny 127.0.0.1 alone: 127.0.0.2 matches no rule and is refused too
    (the loopback default is gone once there are rules)."""
    p = proxy_factory(deny="127.0.0.1")
    for src in ("127.0.0.1", "127.0.0.2"):
        r, port = refusal(p.addr, source=src)
        assert_error_reply(r, 403)
        assert end_of(p, port) == "client-denied"
    assert not echo_origin.records


def test_default_rules_serve_loopback(proxy_factory, echo_origin):
    listen = ["127.0.0.1:0"] + (["[::1]:0"] if HAVE_IPV6 else [])
    p = proxy_factory(listen=listen)
    tunnel_works(p.addr, echo_origin.target)
    tunnel_works(p.addr, echo_origin.target, source="127.0.0.2")
    if HAVE_IPV6:
        v6 = [a for a in p.addrs if ":" in a[0]]
        assert v6, p.addrs
        tunnel_works(v6[0], echo_origin.target)


@needs_ipv6
def test_deny_ipv6_client_while_ipv4_is_served(proxy_factory, echo_origin):
    p = proxy_factory(listen=["127.0.0.1:0", "[::1]:0"], deny="::1",
                      allow="all")
    v4 = [a for a in p.addrs if ":" not in a[0]][0]
    v6 = [a for a in p.addrs if ":" in a[0]][0]
    r, port = refusal(v6)
    assert_error_reply(r, 403)
    assert end_of(p, port) == "client-denied"
    e = p.wait_access_for(port)
    assert e.client.startswith("[::1]"), e
    tunnel_works(v4, echo_origin.target)


# --------------------------------------------------------------------------
# an open proxy must be asked for in so many words
# --------------------------------------------------------------------------


OPEN_CASES = [
    ["listen 0.0.0.0:0", "allow 0.0.0.0/0"],
    ["listen 0.0.0.0:0", "allow 10.0.0.0/8", "allow 0.0.0.0/0"],
    ["listen 127.0.0.1:0", "listen *:0", "deny 10.0.0.0/8",
     "allow 192.168.0.0/16 0.0.0.0/0"],
]


@pytest.mark.parametrize("lines", OPEN_CASES)
@pytest.mark.parametrize("check", [False, True],
                         ids=["start", "check-config"])
def test_public_listener_with_a_block_for_everyone_exits_2(
        sluice_bin, tmp_path, dns_server, lines, check):
    conf = write_conf(tmp_path, dns_server, *lines)
    args = ["-c", conf] + (["--check-config"] if check else [])
    cp = run_sluice(sluice_bin, *args)
    assert cp.returncode == 2, (cp.returncode, cp.stderr)
    assert "allow all" in cp.stderr, cp.stderr
    assert "0.0.0.0" in cp.stderr, cp.stderr
    assert "listening on" not in cp.stderr, cp.stderr


def test_open_proxy_check_applies_to_flags(sluice_bin, dns_server):
    cp = run_sluice(sluice_bin, "--dns", dns_server.addr, "--access-log",
                    "off", "--listen", "0.0.0.0:0", "--allow=0.0.0.0/0")
    assert cp.returncode == 2, (cp.returncode, cp.stderr)
    assert "allow all" in cp.stderr, cp.stderr


@needs_ipv6
@pytest.mark.parametrize("rules", [
    ["allow ::/0"],
    ["allow fd00::/8", "allow ::/0"],
])
def test_public_ipv6_listener_with_a_block_for_everyone_exits_2(
        sluice_bin, tmp_path, dns_server, rules):
    # --check-config: refused before any socket is opened
    conf = write_conf(tmp_path, dns_server, "listen [::]:0", *rules)
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 2, (cp.returncode, cp.stdout, cp.stderr)
    assert "allow all" in cp.stderr, cp.stderr


@pytest.mark.parametrize("rules", [
    ["deny 0.0.0.0/0", "allow ::/0"],
    ["deny ::/0", "allow 0.0.0.0/0"],
], ids=["v4-denied-v6-open", "v6-denied-v4-open"])
def test_a_denial_of_one_family_does_not_close_the_other(
        sluice_bin, tmp_path, dns_server, rules):
    """Public listeners of both families; every IPv4 client is denied, but
    the other family's /0 lets the whole of that Internet in: still an open
    proxy written as a block. --check-config only (no socket is opened)."""
    conf = write_conf(tmp_path, dns_server, "listen 0.0.0.0:0",
                      "listen [::]:0", *rules)
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 2, (
        f"rules {rules} on 0.0.0.0 and [::]: exit {cp.returncode}, "
        f"expected 2\nstdout: {cp.stdout}\nstderr: {cp.stderr}")
    assert "allow all" in cp.stderr, cp.stderr


def test_allow_all_on_a_public_listener_is_accepted(
        sluice_bin, tmp_path, dns_server, proxy_factory, echo_origin):
    conf = write_conf(tmp_path, dns_server, "listen 0.0.0.0:0", "allow all")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, (cp.returncode, cp.stderr)
    assert "allow all" not in cp.stderr, cp.stderr
    # Started for real. Rules before "allow all" keep every address but
    # loopback out while it listens on 0.0.0.0 (they do not change the
    # check: the first /0-or-all rule it meets is "all").
    p = proxy_factory(listen="0.0.0.0:0",
                      args=["--allow", "127.0.0.0/8",
                            "--deny", "0.0.0.0/1 128.0.0.0/1",
                            "--allow", "all"])
    assert p.addr[0] == "0.0.0.0", p.addrs
    addr = ("127.0.0.1", p.port)
    tunnel_works(addr, echo_origin.target)
    # a listener on 0.0.0.0 is also 127.0.0.1: a CONNECT to it would loop
    s, head, _ = connect_from(addr, f"127.0.0.1:{p.port}")
    with s:
        assert head.status == 403, head
        port = s.getsockname()[1]
    assert end_of(p, port) == "dest-denied"


def test_a_block_for_everyone_on_a_loopback_listener_starts(
        proxy_factory, echo_origin):
    """Only a listener others can reach makes 0.0.0.0/0 an open proxy."""
    p = proxy_factory(allow="0.0.0.0/0")
    tunnel_works(p.addr, echo_origin.target)
    tunnel_works(p.addr, echo_origin.target, source="127.0.0.2")


# --------------------------------------------------------------------------
# destinations: allow-dest / deny-dest, after DNS
# --------------------------------------------------------------------------


def test_deny_dest_applies_after_resolution(proxy_factory, hosts,
                                            raw_http_origin, origin_factory):
    o = raw_http_origin()  # 127.0.0.1
    other = origin_factory(handler_echo, host="127.0.0.2")
    p = proxy_factory(hosts_file=hosts, deny_dest="127.0.0.1")
    cases = [
        http_request("CONNECT", f"loop.test:{o.port}", host=f"loop.test:{o.port}"),
        http_request("GET", f"http://loop.test:{o.port}/x"),
        http_request("CONNECT", f"127.0.0.1:{o.port}", host=f"127.0.0.1:{o.port}"),
        http_request("GET", f"http://127.0.0.1:{o.port}/y"),
        # the IPv4-mapped form of a denied address is the same address
        http_request("CONNECT", f"[::ffff:127.0.0.1]:{o.port}",
                     host=f"[::ffff:127.0.0.1]:{o.port}"),
    ]
    for data in cases:
        r, port = request(p.addr, data)
        assert_error_reply(r, 403)
        e = p.wait_access_for(port)
        assert e.fields.get("end") == "dest-denied", (data, e)
    # another loopback address is not denied: served by the same proxy
    tunnel_works(p.addr, other.target)
    assert not o.records, [r.peer for r in o.records]
    assert not o.requests


@pytest.mark.parametrize("name", ["two.test", "two-rev.test"])
def test_name_with_a_denied_and_an_allowed_address(proxy_factory, hosts,
                                                   origin_factory, name):
    """two.test is 127.0.0.3 then 127.0.0.1 (two-rev.test the other way
    round); 127.0.0.3 is denied: the proxy dials 127.0.0.1 only."""
    o = origin_factory(handler_echo)
    t = trap("127.0.0.3", o.port)
    with t:
        p = proxy_factory(hosts_file=hosts, deny_dest="127.0.0.3")
        for i in range(3):
            tunnel_works(p.addr, f"{name}:{o.port}", msg=b"round %d" % i)
        assert len(o.wait_conns(3)) == 3
        assert no_connection(t), "the proxy connected to the denied address"


def test_allow_dest_beats_the_built_in_denials(proxy_factory, echo_origin):
    """0.0.0.0/8 is denied by default; allow-dest lets it through, and
    0.0.0.0 then reaches this machine (Linux), i.e. the echo origin."""
    p = proxy_factory(allow_dest="0.0.0.0")
    tunnel_works(p.addr, f"0.0.0.0:{echo_origin.port}")
    assert echo_origin.wait_conns(1)


def _routed_to_loopback(addr):
    ip = shutil.which("ip")
    if ip is None:
        return False
    try:
        cp = subprocess.run([ip, "route", "get", addr], capture_output=True,
                            text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return cp.returncode == 0 and " dev lo" in cp.stdout


@pytest.mark.skipif(not _routed_to_loopback("169.254.169.254"),
                    reason="169.254.169.254 is routed off this machine: "
                           "dialling it would leave loopback")
def test_allow_dest_metadata_address_is_dialled(proxy_factory, hosts):
    p = proxy_factory(hosts_file=hosts, allow_dest="169.254.169.254",
                      connect_timeout="1s")
    for data in (http_request("CONNECT", "169.254.169.254:443",
                              host="169.254.169.254:443"),
                 http_request("GET", "http://metadata.test/")):
        r, port = request(p.addr, data)
        assert r.status != 403, r
        assert end_of(p, port) != "dest-denied"


def test_built_in_denials_refuse_without_dialling(proxy_factory, hosts,
                                                  origin_factory):
    o = origin_factory(handler_echo)  # 127.0.0.1: 0.0.0.0 would reach it
    p = proxy_factory(hosts_file=hosts, connect_timeout="1s")
    targets = [
        "metadata.test:443",
        "169.254.169.254:443",
        "169.254.0.1:443",
        f"0.0.0.0:{o.port}",
        f"0.1.2.3:{o.port}",
        f"[::ffff:0.0.0.0]:{o.port}",
        "[::ffff:169.254.169.254]:443",
        "[fe80::1]:443",
        f"[::]:{o.port}",
    ]
    for target in targets:
        r, port = request(p.addr, http_request("CONNECT", target, host=target))
        assert_error_reply(r, 403)
        e = p.wait_access_for(port)
        assert e.fields.get("end") == "dest-denied", (target, e)
    for url in ("http://metadata.test/latest/meta-data/",
                "http://169.254.169.254/latest/meta-data/",
                f"http://0.0.0.0:{o.port}/"):
        r, port = request(p.addr, http_request("GET", url))
        assert_error_reply(r, 403)
        assert end_of(p, port) == "dest-denied", url
    assert not o.records, [r.peer for r in o.records]
    # the proxy is fine: an allowed target right after
    tunnel_works(p.addr, o.target)


@needs_ipv6
def test_unspecified_ipv6_does_not_reach_this_machine(proxy_factory,
                                                      origin_factory):
    o = origin_factory(handler_echo, host="::1")
    p = proxy_factory()
    r, port = request(p.addr, http_request("CONNECT", f"[::]:{o.port}",
                                           host=f"[::]:{o.port}"))
    assert_error_reply(r, 403)
    assert end_of(p, port) == "dest-denied"
    assert not o.records


def test_own_listener_is_refused(proxy_factory, hosts):
    p = proxy_factory(hosts_file=hosts)
    me = p.port
    for target in (f"127.0.0.1:{me}", f"loop.test:{me}"):
        r, port = request(p.addr, http_request("CONNECT", target, host=target))
        assert_error_reply(r, 403)
        assert end_of(p, port) == "dest-denied", target
    # plain request by name: refused after resolution
    r, port = request(p.addr, http_request("GET", f"http://loop.test:{me}/"))
    assert_error_reply(r, 403)
    assert end_of(p, port) == "dest-denied"
    # plain request to the literal: the existing "loop" answer
    r, port = request(p.addr, http_request("GET", f"http://127.0.0.1:{me}/"))
    assert_error_reply(r, 400)
    assert end_of(p, port) == "loop"
    # nothing ever came back in through the listener
    ends = [e.fields.get("end") for e in p.access_entries()]
    assert "not-proxy-request" not in ends, ends


@needs_ipv6
def test_own_ipv6_listener_is_refused(proxy_factory):
    p = proxy_factory(listen=["127.0.0.1:0", "[::1]:0"])
    v6 = [a for a in p.addrs if ":" in a[0]][0]
    target = fmt_hostport(*v6)
    r, port = request(p.addr, http_request("CONNECT", target, host=target))
    assert_error_reply(r, 403)
    assert end_of(p, port) == "dest-denied"


@pytest.mark.parametrize("method", ["CONNECT", "GET"])
def test_own_listener_by_its_ipv4_mapped_address_is_refused(proxy_factory,
                                                            method):
    """[::ffff:127.0.0.1]:PORT is our own 127.0.0.1:PORT: dialling it
    connects the proxy to itself."""
    p = proxy_factory()
    target = f"[::ffff:127.0.0.1]:{p.port}"
    if method == "CONNECT":
        data = http_request("CONNECT", target, host=target)
    else:
        data = http_request("GET", f"http://{target}/")
    s = client(p.addr)
    with s:
        port = s.getsockname()[1]
        s.sendall(data)
        raw, _ = recv_head(s)
        head = Head(raw)
    e = p.wait_access_for(port)
    others = [x.line for x in p.access_entries() if x.line != e.line]
    assert (head.status, e.fields.get("end")) in (
        (403, "dest-denied"), (400, "loop")), (
        f"{method} {target} (the proxy's own listener, IPv4-mapped): got "
        f"{head.status_line!r}, access log {e.line!r}; expected 403 "
        f"dest-denied (or 400 loop); other access-log lines (the request "
        f"as it came back in): {others}")


# --------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------


def test_max_connections(proxy_factory, echo_origin):
    p = proxy_factory(max_connections="3", header_timeout="60s")
    idle = [client(p.addr) for _ in range(3)]
    try:
        wait_accepted(p.port, idle)
        refused = []
        for _ in range(4):
            r, port = refusal(p.addr)
            assert_error_reply(r, 503)
            refused.append(port)
        for port in refused:
            e = p.wait_access_for(port)
            assert e.int("status") == 503, e
            assert e.fields.get("end") == "over-limit", e
        # the three idle ones were left alone
        for s in idle:
            assert still_open_and_quiet(s)
        warn = "max-connections (3) reached"
        assert count_lines(p.stderr(), warn) == 1, p.stderr()

        # one closes: a new connection gets in (the proxy notices the close
        # a moment later: poll)
        close_and_wait(idle.pop(0))
        got_in = None
        deadline = time.monotonic() + IO_TIMEOUT
        for _ in range(200):
            s, head, leftover = connect_from(p.addr, echo_origin.target)
            if head.status == 200:
                got_in = (s, leftover)
                break
            s.close()
            assert head.status == 503, head
            assert time.monotonic() < deadline, "never let in again"
            time.sleep(0.05)
        assert got_in is not None
        s, leftover = got_in
        with s:
            assert exchange(s, b"in again", initial=leftover) == b"in again"
            # full again: refused, and not logged a second time
            r, port = refusal(p.addr)
            assert_error_reply(r, 503)
            assert end_of(p, port) == "over-limit"
        assert count_lines(p.stderr(), warn) == 1, p.stderr()
    finally:
        for s in idle:
            s.close()


def test_max_connections_per_client(proxy_factory, echo_origin):
    p = proxy_factory(max_connections_per_client="2", header_timeout="60s")
    warn1 = "client 127.0.0.1 reached max-connections-per-client (2)"
    warn2 = "client 127.0.0.2 reached max-connections-per-client (2)"
    mine = [client(p.addr) for _ in range(2)]
    others = []
    try:
        wait_accepted(p.port, mine)
        for _ in range(4):
            r, port = refusal(p.addr)
            assert_error_reply(r, 503)
            assert b"127.0.0.1" in r.body, r
            assert end_of(p, port) == "over-limit"
        # another client address is not affected, up to its own limit
        for i in range(2):
            s, head, leftover = connect_from(p.addr, echo_origin.target,
                                             source="127.0.0.2")
            others.append(s)
            assert head.status == 200, head
            assert exchange(s, b"other %d" % i, initial=leftover) == b"other %d" % i
        for _ in range(2):
            r, port = refusal(p.addr, source="127.0.0.2")
            assert_error_reply(r, 503)
            assert end_of(p, port) == "over-limit"
        err = p.stderr()
        assert count_lines(err, warn1) == 1, err
        assert count_lines(err, warn2) == 1, err
        assert count_lines(err, "max-connections (") == 0, err

        # all of 127.0.0.1's connections close; refused again later: a new
        # warning. (The proxy closes its socket just before it uncounts
        # the connection: should a new one slip in between, everything is
        # closed and the round tried again; bounded.)
        for s in mine:
            close_and_wait(s)
        mine = []
        for attempt in range(5):
            for i in range(2):
                s, head, leftover = connect_from(p.addr, echo_origin.target)
                mine.append(s)
                assert head.status in (200, 503), head
            r, port = refusal(p.addr)
            assert_error_reply(r, 503)
            if count_lines(p.stderr(), warn1) >= 2:
                break
            for s in mine:
                close_and_wait(s)
            mine = []
        err = p.stderr()
        assert count_lines(err, warn1) == 2, err
        # and 127.0.0.2, whose connections stayed open, was not warned again
        assert count_lines(err, warn2) == 1, err
    finally:
        for s in mine + others:
            s.close()


# --------------------------------------------------------------------------
# user
# --------------------------------------------------------------------------


def _ids(pid):
    """{Uid: [...], Gid: [...], Groups: [...]} of /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
    return out


@needs_root
def test_user_switches_after_binding_and_still_serves(proxy_factory,
                                                      echo_origin):
    """Everything sluice opens (config, hosts file, access log, listening
    sockets) is opened before the switch: the fixture's workdir, which is
    not readable by nobody, does not matter."""
    nobody = pwd.getpwnam("nobody")
    p = proxy_factory(user="nobody")
    wait_for(lambda: "running as nobody" in p.stderr(), STARTUP_TIMEOUT,
             what="'running as nobody' in the log")
    wait_for(lambda: "sluice ready" in p.stderr(), STARTUP_TIMEOUT,
             what="'sluice ready'")
    ids = _ids(p.pid)
    assert ids["Uid"] == [nobody.pw_uid] * 4, ids
    assert ids["Gid"] == [nobody.pw_gid] * 4, ids
    assert 0 not in ids["Groups"], ids
    tasks = os.listdir(f"/proc/{p.pid}/task")
    assert len(tasks) > 1, tasks  # workers are threads: all switched
    for t in tasks:
        try:
            tid = _ids(f"{p.pid}/task/{t}")
        except FileNotFoundError:
            continue
        assert tid["Uid"] == [nobody.pw_uid] * 4, (t, tid)
        assert tid["Gid"] == [nobody.pw_gid] * 4, (t, tid)
    # it serves, and its access log (opened as root) is still written
    s, head, leftover = connect_from(p.addr, echo_origin.target)
    with s:
        port = s.getsockname()[1]
        assert head.status == 200, head
        assert exchange(s, b"as nobody", initial=leftover) == b"as nobody"
    e = p.wait_access_for(port)
    assert e.int("status") == 200, e
    # a privileged port can no longer be bound by it, but that is the
    # kernel's business; what we check is who it is


@needs_root
def test_unknown_user_exits_1(sluice_bin, tmp_path, dns_server):
    conf = write_conf(tmp_path, dns_server, "listen 127.0.0.1:0",
                      "user no-such-user")
    cp = run_sluice(sluice_bin, "-c", conf)
    assert cp.returncode == 1, (cp.returncode, cp.stderr)
    assert "no-such-user" in cp.stderr, cp.stderr
    assert "no such user" in cp.stderr, cp.stderr
    assert "sluice ready" not in cp.stderr, cp.stderr


@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_user_when_not_started_as_root_warns_and_stays(sluice_bin, dns_server,
                                                       echo_origin):
    """Started as nobody (setpriv): `user` cannot switch; it warns and
    serves as who it is. The test's tmp_path is under a 0700 directory,
    so this proxy's files live in a world-readable temporary directory."""
    nobody = pwd.getpwnam("nobody")
    workdir = Path(tempfile.mkdtemp(prefix="sluice-access-"))
    proxy = None
    old_umask = os.umask(0o022)  # what Proxy() writes: readable by nobody
    try:
        os.chmod(workdir, 0o755)
        hosts = workdir / "hosts"
        hosts.write_text("127.0.0.1 example.test\n")
        directives = [("dns", dns_server.addr), ("listen", "127.0.0.1:0"),
                      ("workers", "1"), ("access-log", "stderr"),
                      ("connect-ports", "1024-65535"),
                      ("hosts-file", str(hosts)), ("shutdown-grace", "2s"),
                      ("user", "daemon")]
        prefix = ["setpriv", f"--reuid={nobody.pw_uid}",
                  f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
        proxy = Proxy(sluice_bin, workdir / "proxy", directives,
                      prefix=prefix)
        wait_for(lambda: "not started as root" in proxy.stderr(),
                 STARTUP_TIMEOUT, what="the 'not started as root' warning")
        assert _ids(proxy.pid)["Uid"] == [nobody.pw_uid] * 4
        tunnel_works(proxy.addr, echo_origin.target)
    finally:
        os.umask(old_umask)
        problems = proxy.stop() if proxy is not None else []
        shutil.rmtree(workdir, ignore_errors=True)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# plain HTTP: http-ports
# --------------------------------------------------------------------------


def test_plain_http_to_an_unsafe_port_is_refused(proxy_factory, hosts):
    """A GET for port 25 (SMTP) gets 403 port-denied and nothing connects
    there: an HTTP request must not be read as SMTP commands."""
    t = trap("127.0.0.5", 25)
    with t:
        p = proxy_factory(hosts_file=hosts, allow_dest="127.0.0.5")
        reply, port = request(
            p.addr, b"GET http://127.0.0.5:25/ HTTP/1.1\r\n"
            b"Host: 127.0.0.5:25\r\n\r\n")
        assert reply.head.status == 403, reply
        assert end_of(p, port) == "port-denied"
        assert no_connection(t), "the proxy connected to port 25"


def test_http_ports_opens_a_port(proxy_factory, hosts):
    """http-ports 25 lets the request go on: it now reaches port 25."""
    t = trap("127.0.0.5", 25)
    with t:
        p = proxy_factory(hosts_file=hosts, http_ports="25",
                          response_timeout="1s")
        s = client(p.addr)
        with s:
            s.sendall(b"GET http://127.0.0.5:25/ HTTP/1.1\r\n"
                      b"Host: 127.0.0.5:25\r\n\r\n")
            t.settimeout(IO_TIMEOUT)
            c, _ = t.accept()
            c.close()
