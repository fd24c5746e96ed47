"""A fleet behind a real HAProxy (docs/SCALING.md): two sluice instances
with `listen ... proxy-protocol`, HAProxy in TCP mode in front with
`send-proxy-v2` and health checks. Requests and tunnels spread over both;
the client address the test picks (127.0.0.x) is what both instances log
and what their ACL judges; when one instance stops, traffic moves to the
other with no failed request once HAProxy's check has noticed.

Needs Debian's `haproxy` (skips without it). HAProxy runs in the
foreground, logs to stderr, and is ended by its PID."""

import os
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import IO_TIMEOUT, exchange, free_port, read_reply, recv_head, wait_for

CLIENT = "127.0.0.5"
DENIED = "127.0.0.77"


def haproxy_config(front, backends):
    servers = "\n".join(
        f"    server s{i} 127.0.0.1:{port} send-proxy-v2 check inter 100ms "
        f"fall 2 rise 1" for i, port in enumerate(backends))
    return f"""global
    log stderr format raw local0 info

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch 1

frontend proxies
    bind 127.0.0.1:{front}
    default_backend sluice

backend sluice
    balance roundrobin
    option log-health-checks
{servers}
"""


@pytest.fixture
def haproxy_bin():
    p = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if p is None:
        pytest.skip("no haproxy (apt-get install haproxy)")
    return p


@pytest.fixture
def fleet(proxy_factory, haproxy_bin, tmp_path):
    instances = [proxy_factory(listen="127.0.0.1:0 proxy-protocol", workers="1",
                               deny=DENIED, allow="all")
                 for _ in range(2)]
    front = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_config(front, [p.addr[1] for p in instances]))
    check = subprocess.run([haproxy_bin, "-c", "-f", str(cfg)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    err = open(tmp_path / "haproxy.log", "wb")
    hp = subprocess.Popen([haproxy_bin, "-db", "-f", str(cfg)],
                          stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                          start_new_session=True)
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", front), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, IO_TIMEOUT, what="haproxy listening")
        yield instances, ("127.0.0.1", front), tmp_path / "haproxy.log"
    finally:
        hp.send_signal(signal.SIGTERM)
        try:
            hp.wait(10)
        except subprocess.TimeoutExpired:
            hp.kill()
            hp.wait(10)
        err.close()


def get(front, url, source=CLIENT):
    s = socket.create_connection(front, timeout=IO_TIMEOUT, source_address=(source, 0))
    with s:
        s.sendall(f"GET {url} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        return read_reply(s).head.status


def test_fleet_behind_haproxy(fleet, raw_http_origin, echo_origin):
    instances, front, hlog = fleet
    o = raw_http_origin()
    url = f"http://127.0.0.1:{o.port}/"

    # requests spread over both, and each logs the client's own address
    for _ in range(10):
        assert get(front, url) == 200
    for p in instances:
        p.wait_access(lambda e: e.client.startswith(CLIENT + ":")
                      and e.fields.get("status") == "200")
    # a tunnel through the balancer
    s = socket.create_connection(front, timeout=IO_TIMEOUT,
                                 source_address=(CLIENT, 0))
    with s:
        s.sendall(f"CONNECT {echo_origin.target} HTTP/1.1\r\n"
                  f"Host: {echo_origin.target}\r\n\r\n".encode())
        raw, leftover = recv_head(s)
        assert raw.startswith(b"HTTP/1.1 200"), raw
        assert exchange(s, b"through haproxy", initial=leftover) == b"through haproxy"
    # the ACL judges the client the header names, on both instances
    for _ in range(4):
        assert get(front, url, source=DENIED) == 403
    for p in instances:
        p.wait_access(lambda e: e.client.startswith(DENIED + ":")
                      and e.fields.get("end") == "client-denied")
        # the balancer's checks (PROXY v2 LOCAL) are not refused
        assert "proxy-protocol" not in p.stderr()

    # one instance stops; once HAProxy has seen it, nothing fails
    gone, stays = instances
    gone.send_signal(signal.SIGTERM)
    assert gone.wait(IO_TIMEOUT * 2) == 0
    wait_for(lambda: "is DOWN" in hlog.read_text(errors="replace"), IO_TIMEOUT,
             what="haproxy marking the stopped instance DOWN")
    def served():
        return len([e for e in stays.access_entries()
                    if e.fields.get("status") == "200"])
    before = served()
    for _ in range(10):
        assert get(front, url) == 200
    # the line is written as the connection closes: wait for all ten
    wait_for(lambda: served() - before == 10, IO_TIMEOUT,
             what="the ten requests logged by the instance that stays")
