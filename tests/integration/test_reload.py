"""SIGHUP reloads the whole config (README "Reload"): listeners added and
removed, rules and limits changed, an invalid config refused with the old
one kept -- and no established connection or tunnel dropped on the way.

The config file the proxy was started with is rewritten in place, then
SIGHUP; each test waits for the log line that says how the reload ended
("reload done" or "reload failed") and for the metrics to agree."""

import re
import signal
import socket
import threading
import time

import pytest

from conftest import (
    IO_TIMEOUT,
    connect_via,
    exchange,
    free_port,
    read_reply,
    tcp_connect,
    wait_for,
)
from test_metrics import scrape


def rewrite(p, **changes):
    """The proxy's config file with directives replaced (None: removed,
    a list: repeated), as the test's Proxy wrote it."""
    d = {}
    for k, v in p.directives:
        d.setdefault(k, []).append(v)
    for k, v in changes.items():
        k = k.replace("_", "-")
        if v is None:
            d.pop(k, None)
        else:
            d[k] = list(v) if isinstance(v, (list, tuple)) else [str(v)]
    lines = ["# rewritten by tests/integration/test_reload.py"]
    lines += [f"{k} {v}" for k, vs in d.items() for v in vs]
    p.config_path.write_text("\n".join(lines) + "\n")
    p.directives = [(k, v) for k, vs in d.items() for v in vs]


def sighup(p):
    """SIGHUP, then the line that says how the reload ended."""
    before = len(re.findall(r"reload (done|failed)", p.stderr()))
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: len(re.findall(r"reload (done|failed)", p.stderr())) > before,
             IO_TIMEOUT, what="the reload to end")
    return re.findall(r"reload (?:done|failed)[^\n]*", p.stderr())[-1]


def reload_ok(p):
    assert sighup(p).startswith("reload done"), p.stderr()[-2000:]


def reload_fails(p):
    end = sighup(p)
    assert end.startswith("reload failed"), p.stderr()[-2000:]
    return end


def get_status(addr, url, source=None):
    s = socket.create_connection(addr, timeout=IO_TIMEOUT,
                                 source_address=(source, 0) if source else None)
    with s:
        host = url.split("/")[2]
        s.sendall(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                  .encode())
        return read_reply(s).head.status


def refused(addr):
    try:
        with tcp_connect(addr, timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_tunnel_survives_reload_that_adds_and_removes_listeners(proxy_factory,
                                                                echo_origin):
    port_a, port_b = free_port(), free_port()
    p = proxy_factory(listen=f"127.0.0.1:{port_a}")
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"before", initial=leftover) == b"before"

        # a new listener instead of the one the tunnel came through
        rewrite(p, listen=f"127.0.0.1:{port_b}")
        reload_ok(p)
        assert f"listening on 127.0.0.1:{port_b}" in p.stderr()
        assert f"closed the listener on 127.0.0.1:{port_a}" in p.stderr()
        wait_for(lambda: refused(("127.0.0.1", port_a)), IO_TIMEOUT,
                 what="the removed listener closed")
        s2, st2, lo2 = connect_via(None, echo_origin.target, addr=("127.0.0.1", port_b))
        with s2:
            assert st2 == 200
            assert exchange(s2, b"new port", initial=lo2) == b"new port"
        # the tunnel opened before the reload moves bytes as before
        assert exchange(sock, b"after" * 1000) == b"after" * 1000

        # and both at once, then back to one: the kept one never closes
        rewrite(p, listen=[f"127.0.0.1:{port_b}", f"127.0.0.1:{port_a}"])
        reload_ok(p)
        for port in (port_a, port_b):
            s3, st3, _ = connect_via(None, echo_origin.target, addr=("127.0.0.1", port))
            s3.close()
            assert st3 == 200
        assert exchange(sock, b"still") == b"still"
    ex = scrape(p)
    assert ex.get("sluice_reloads_total", result="success") == 2
    assert ex.get("sluice_config_generation") == 3
    assert ex.get("sluice_last_reload_success_timestamp_seconds") > 0


def test_broken_config_is_refused_and_the_old_one_stays(proxy_factory, echo_origin):
    p = proxy_factory()
    good = p.config_path.read_text()
    p.config_path.write_text(good + "connect-timeout forever\n")
    line = len(good.splitlines()) + 1
    why = reload_fails(p)
    assert f"{p.config_path}:{line}" in why
    ex = scrape(p)
    assert ex.get("sluice_reloads_total", result="failure") == 1
    assert ex.get("sluice_reloads_total", result="success") == 0
    assert ex.get("sluice_last_reload_failure_timestamp_seconds") > 0
    assert ex.get("sluice_config_generation") == 1
    # still serving, on the old config
    sock, status, _ = connect_via(p, echo_origin.target)
    sock.close()
    assert status == 200
    # the page says why
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    page = opener.open(p.admin_url, timeout=IO_TIMEOUT).read().decode()
    assert "connect-timeout" in page
    # a good config again: accepted
    p.config_path.write_text(good)
    reload_ok(p)
    assert scrape(p).get("sluice_config_generation") == 2


def test_reload_that_cannot_bind_keeps_every_listener(proxy_factory, echo_origin):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    with holder:
        p = proxy_factory()
        old = p.addr
        rewrite(p, listen=[f"127.0.0.1:{old[1]}", f"127.0.0.1:{taken}"],
                connect_ports="1")
        why = reload_fails(p)
        assert f"cannot listen on 127.0.0.1:{taken}" in why
    # nothing of the new config took: the old port, the old connect-ports
    sock, status, _ = connect_via(None, echo_origin.target, addr=old)
    sock.close()
    assert status == 200


def test_rules_and_limits_change_on_reload(proxy_factory, echo_origin,
                                           raw_http_origin):
    o = raw_http_origin()
    p = proxy_factory(allow="all")
    url = f"http://127.0.0.1:{o.port}/"
    assert get_status(p.addr, url, source="127.0.0.2") == 200

    # an open tunnel from the client the new rules turn away
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        rewrite(p, allow=None, deny="127.0.0.2 127.0.0.1",
                connect_ports="443")
        reload_ok(p)
        assert get_status(p.addr, url, source="127.0.0.2") == 403
        s2, st2, _ = connect_via(p, echo_origin.target)
        s2.close()
        assert st2 == 403  # refused at accept now: 127.0.0.1 is denied
        # established before: untouched
        assert exchange(sock, b"kept", initial=leftover) == b"kept"

    # limits: one connection at a time
    rewrite(p, deny=None, allow="all", connect_ports="1024-65535",
            max_connections="1")
    reload_ok(p)
    first, st, lo = connect_via(p, echo_origin.target)
    with first:
        assert st == 200
        s2, st2, _ = connect_via(p, echo_origin.target)
        s2.close()
        assert st2 == 503
        # and lifted again: the connection counted before is not lost
        rewrite(p, max_connections="0")
        reload_ok(p)
        s3, st3, _ = connect_via(p, echo_origin.target)
        s3.close()
        assert st3 == 200
        assert exchange(first, b"first", initial=lo) == b"first"
    rewrite(p, max_connections="1")
    reload_ok(p)
    # every connection closed: the count is back to zero, one gets in
    wait_for(lambda: scrape(p).get("sluice_connections_active") == 0, IO_TIMEOUT,
             what="all closed")
    s4, st4, _ = connect_via(p, echo_origin.target)
    s4.close()
    assert st4 == 200


def test_restart_only_settings_are_named(proxy_factory):
    p = proxy_factory()
    rewrite(p, workers="3", dns_timeout="3s")
    reload_ok(p)
    err = p.stderr()
    assert "workers changed: takes effect at the next restart" in err
    assert "dns settings changed: takes effect at the next restart" in err


def test_reload_under_load_loses_nothing(proxy_factory, raw_http_origin, echo_origin):
    """Clients keep making requests and using tunnels while the config is
    reloaded ten times, with a listener added and removed each time: every
    request gets its 200, every tunnel echoes."""
    o = raw_http_origin()
    p = proxy_factory()
    base = p.addr
    extra = free_port()
    url = f"http://127.0.0.1:{o.port}/"
    failures, done = [], threading.Event()
    counts = [0, 0]

    def requester():
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                st = get_status(base, url)
                if st != 200:
                    failures.append(f"GET {st}")
                counts[0] += 1
            except OSError as e:
                failures.append(f"GET {e!r}")

    def tunneller():
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                s, st, lo = connect_via(None, echo_origin.target, addr=base)
                with s:
                    if st != 200 or exchange(s, b"ping", initial=lo) != b"ping":
                        failures.append(f"tunnel {st}")
                counts[1] += 1
            except OSError as e:
                failures.append(f"tunnel {e!r}")

    threads = [threading.Thread(target=f) for f in (requester, requester, tunneller)]
    for t in threads:
        t.start()
    try:
        for i in range(10):
            if i % 2 == 0:
                rewrite(p, listen=[f"127.0.0.1:{base[1]}", f"127.0.0.1:{extra}"],
                        log_level="debug" if i % 4 == 0 else "info")
            else:
                rewrite(p, listen=f"127.0.0.1:{base[1]}")
            reload_ok(p)
    finally:
        done.set()
        for t in threads:
            t.join(IO_TIMEOUT * 4)
    assert failures == []
    assert counts[0] > 0 and counts[1] > 0
    assert scrape(p).get("sluice_reloads_total", result="success") == 10


def test_reload_frees_the_lists_it_replaces(proxy_factory, tmp_path):
    """After a reload the old config and lists are freed once no worker
    uses them: the first set is not kept beside the one in use for the life
    of the process (a million domains is some 50 MB)."""
    lst = tmp_path / "l.txt"
    lst.write_text("ads.example\n")
    p = proxy_factory(blocklist=str(lst), log_level="debug")
    for _ in range(3):
        reload_ok(p)
    for gen in (1, 2, 3):
        wait_for(lambda: f"generation {gen} freed" in p.stderr(), IO_TIMEOUT,
                 what=f"generation {gen} freed")
    assert "generation 4 freed" not in p.stderr()  # the one in use


def test_listener_named_by_its_bound_port_is_kept(proxy_factory):
    """Started on port 0, then reloaded with the port it got written out:
    the same listening sockets stay (closing them would reset the
    connections waiting in their accept queues)."""
    p = proxy_factory()
    port = p.addr[1]
    rewrite(p, listen=f"127.0.0.1:{port}")
    reload_ok(p)
    err = p.stderr()
    assert "closed the listener" not in err
    assert err.count(f"listening on 127.0.0.1:{port}") == 1
