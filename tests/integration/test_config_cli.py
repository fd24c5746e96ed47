"""Command line and configuration file."""

import os
import re
import socket

import pytest

from conftest import (
    DIRECTIVES,
    assert_error_reply,
    connect_via,
    exchange,
    free_port,
    run_sluice,
    send_raw,
    tcp_connect,
    wait_for,
)


def write(tmp_path, text, name="sluice.conf"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD_CONFIG = """\
# a complete configuration exercising every directive
listen 127.0.0.1:0

listen [::1]:0
workers 4
connect-ports 443 8443,1024-65535
connect-timeout 500ms
tunnel-idle-timeout 2min
header-timeout 30
shutdown-grace 2min
access-log off
log-level debug
hosts-file /etc/hosts
# trailing comment
"""


# ------------------------------------------------------------------ info


def test_version(sluice_bin):
    cp = run_sluice(sluice_bin, "--version")
    assert cp.returncode == 0, cp.stderr
    assert re.match(r"^sluice \S+", cp.stdout), cp.stdout


def test_help_lists_every_directive(sluice_bin):
    cp = run_sluice(sluice_bin, "--help")
    assert cp.returncode == 0, cp.stderr
    for d in DIRECTIVES:
        assert d in cp.stdout, f"--help does not mention {d}:\n{cp.stdout}"
    for opt in ("-c", "--check-config", "--version"):
        assert opt in cp.stdout, f"--help does not mention {opt}"


# ------------------------------------------------------------------ --check-config


def test_check_config_good_file(sluice_bin, tmp_path):
    cfg = write(tmp_path, GOOD_CONFIG)
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip(), "--check-config printed nothing on stdout"


def test_check_config_does_not_listen(sluice_bin, tmp_path):
    port = free_port()
    cfg = write(tmp_path, f"listen 127.0.0.1:{port}\n")
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert cp.returncode == 0, cp.stderr
    assert "listening on" not in cp.stderr
    with pytest.raises(ConnectionRefusedError):
        tcp_connect(("127.0.0.1", port), timeout=2).close()


@pytest.mark.parametrize("value", [
    "500ms", "10s", "2min", "2m", "1h", "7",
])
def test_duration_syntax_accepted(sluice_bin, tmp_path, value):
    directives = ["tunnel-idle-timeout", "header-timeout", "shutdown-grace"]
    if value != "1h":  # an hour-long connect timeout may sensibly be refused
        directives.append("connect-timeout")
    cfg = write(tmp_path, "".join(f"{d} {value}\n" for d in directives))
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert cp.returncode == 0, cp.stderr


@pytest.mark.parametrize("line", [
    "workers 0", "workers 1", "workers 64",
    "connect-ports 443", "connect-ports 1-65535", "connect-ports 443,8443",
    "connect-ports 443, 8443", "connect-ports 80 443 1000-2000",
    "listen [::1]:3128", "listen 0.0.0.0:0", "listen 127.0.0.1:65535",
    "access-log stderr", "access-log off", "access-log /tmp/sluice-test-access.log",
    "log-level debug", "log-level info", "log-level warn", "log-level error",
])
def test_good_values_accepted(sluice_bin, tmp_path, line):
    cfg = write(tmp_path, line + "\n")
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert cp.returncode == 0, f"{line!r} rejected: {cp.stderr}"


# ------------------------------------------------------------------ errors


def assert_file_line_error(cp, cfg, lineno):
    assert cp.returncode == 2, f"exit {cp.returncode}, stderr: {cp.stderr}"
    assert f"{cfg}:{lineno}:" in cp.stderr, f"no '{cfg}:{lineno}:' in stderr: {cp.stderr!r}"


@pytest.mark.parametrize("check", [True, False], ids=["check-config", "start"])
def test_unknown_directive(sluice_bin, tmp_path, check):
    cfg = write(tmp_path, "# comment\n\nworkers 1\nfrobnicate yes\nlisten 127.0.0.1:0\n")
    args = ["-c", cfg] + (["--check-config"] if check else [])
    cp = run_sluice(sluice_bin, *args)
    assert_file_line_error(cp, cfg, 4)
    assert "listening on" not in cp.stderr


BAD_VALUES = [
    "workers lots",
    "workers -1",
    "workers 65",
    "workers 2x",
    "connect-timeout -5s",
    "connect-timeout 5parsecs",
    "connect-timeout s",
    "connect-timeout 1.5.3s",
    "tunnel-idle-timeout forever",
    "header-timeout 10x",
    "shutdown-grace -1",
    "listen nowhere",
    "listen 127.0.0.1",
    "listen 127.0.0.1:70000",
    "listen 127.0.0.1:http",
    "listen [::1:80",
    "listen 1.2.3:80",
    "connect-ports 0",
    "connect-ports 70000",
    "connect-ports abc",
    "connect-ports 443-",
    "log-level loud",
    "workers",
    "connect-timeout",
]


@pytest.mark.parametrize("line", BAD_VALUES)
def test_bad_value_file_line(sluice_bin, tmp_path, line):
    cfg = write(tmp_path, f"# first line is a comment\nlog-level info\n{line}\n")
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert_file_line_error(cp, cfg, 3)


@pytest.mark.parametrize("line", ["workers lots", "connect-timeout -5s", "listen nowhere"])
def test_bad_value_without_check_config_does_not_start(sluice_bin, tmp_path, line):
    cfg = write(tmp_path, f"listen 127.0.0.1:0\n{line}\n")
    cp = run_sluice(sluice_bin, "-c", cfg)
    assert_file_line_error(cp, cfg, 2)
    assert "listening on" not in cp.stderr


def test_error_line_number_counts_comments_and_blanks(sluice_bin, tmp_path):
    text = "\n".join(["# c"] * 5 + [""] * 4 + ["workers 2", "workers many"]) + "\n"
    cfg = write(tmp_path, text)
    cp = run_sluice(sluice_bin, "-c", cfg, "--check-config")
    assert_file_line_error(cp, cfg, 11)


def test_missing_config_file(sluice_bin, tmp_path):
    missing = tmp_path / "does-not-exist.conf"
    cp = run_sluice(sluice_bin, "-c", missing, "--check-config")
    assert cp.returncode != 0
    assert str(missing) in cp.stderr, cp.stderr


# ------------------------------------------------------------------ flags


@pytest.mark.parametrize("flag,value", [
    ("--workers", "lots"),
    ("--workers", "65"),
    ("--connect-timeout", "-5s"),
    ("--listen", "nowhere"),
    ("--connect-ports", "0"),
    ("--log-level", "loud"),
])
def test_bad_flag_value(sluice_bin, flag, value):
    cp = run_sluice(sluice_bin, flag, value, "--check-config")
    assert cp.returncode == 2, f"exit {cp.returncode}: {cp.stderr}"
    assert flag.lstrip("-") in cp.stderr, f"message does not name {flag}: {cp.stderr!r}"


def test_bad_flag_value_without_check_config(sluice_bin, tmp_path):
    cfg = write(tmp_path, "listen 127.0.0.1:0\n")
    cp = run_sluice(sluice_bin, "-c", cfg, "--workers", "lots")
    assert cp.returncode == 2
    assert "workers" in cp.stderr
    assert "listening on" not in cp.stderr


def test_unknown_flag_exit_2(sluice_bin):
    cp = run_sluice(sluice_bin, "--frobnicate", "1", "--check-config")
    assert cp.returncode == 2, cp


def test_every_directive_is_a_flag(sluice_bin, tmp_path):
    good = {
        "listen": "127.0.0.1:0", "workers": "1", "connect-ports": "443",
        "connect-timeout": "1s", "tunnel-idle-timeout": "1s",
        "header-timeout": "1s", "shutdown-grace": "1s", "access-log": "off",
        "log-level": "info", "hosts-file": "/etc/hosts",
    }
    args = []
    for d in DIRECTIVES:
        args += [f"--{d}", good[d]]
    cp = run_sluice(sluice_bin, *args, "--check-config")
    assert cp.returncode == 0, cp.stderr


def test_flag_overrides_file(proxy_factory, echo_origin):
    # the file only allows 443; the flag allows the echo port (and not 443)
    p = proxy_factory(connect_ports="443", args=["--connect-ports", str(echo_origin.port)])
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"flag wins", initial=leftover) == b"flag wins"
    r = send_raw(p, b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")
    assert_error_reply(r, 403)


def test_flag_overrides_file_duration(proxy_factory, echo_origin):
    p = proxy_factory(tunnel_idle_timeout="10min", args=["--tunnel-idle-timeout", "1s"])
    sock, status, leftover = connect_via(p, echo_origin.target)
    port = sock.getsockname()[1]
    with sock:
        assert status == 200
        e = p.wait_access_for(port, timeout=10)
    assert e.fields.get("end") == "idle-timeout", e


# ------------------------------------------------------------------ runtime effects


@pytest.mark.parametrize("n", [1, 3])
def test_workers_in_startup_line(proxy_factory, n):
    p = proxy_factory(workers=str(n))
    assert p.workers == n, p.stderr()


def test_workers_0_means_cpus(proxy_factory):
    p = proxy_factory(workers="0")
    ncpu = {os.cpu_count(), len(os.sched_getaffinity(0))}
    assert p.workers in ncpu, (p.workers, ncpu, p.stderr())


def test_default_workers_is_cpus(proxy_factory):
    p = proxy_factory(workers=None)
    ncpu = {os.cpu_count(), len(os.sched_getaffinity(0))}
    assert p.workers in ncpu, (p.workers, ncpu, p.stderr())


def test_startup_log_line_format(proxy_factory):
    p = proxy_factory()
    line = next(l for l in p.stderr().splitlines() if "listening on" in l)
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z info listening on 127\.0\.0\.1:\d+ ", line), line
    assert p.port != 0


def test_fixed_listen_port_and_log_level_warn(proxy_factory, echo_origin):
    port = free_port()
    p = proxy_factory(listen=f"127.0.0.1:{port}", log_level="warn", wait_listen=False)
    # no info line to wait for: poll the port (bounded)
    def up():
        try:
            tcp_connect(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(up, 20, what=f"sluice listening on fixed port {port}")
    p.addrs = [("127.0.0.1", port)]
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
    assert p.stop() == []
    err = p.stderr()
    assert not re.search(r"Z (info|debug) ", err), err


def test_access_log_stderr_by_default(proxy_factory, echo_origin):
    p = proxy_factory(access_log=None)
    sock, status, leftover = connect_via(p, echo_origin.target)
    port = sock.getsockname()[1]
    with sock:
        assert status == 200
        assert exchange(sock, b"abc", initial=leftover) == b"abc"
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        assert sock.recv(10) == b""
    assert p.access_log_path is None  # access_entries() reads stderr
    e = p.wait_access_for(port)
    assert e.target == echo_origin.target and e.int("up") == 3, e


def test_access_log_off(proxy_factory, echo_origin):
    p = proxy_factory(access_log="off")
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"abc", initial=leftover) == b"abc"
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        assert sock.recv(10) == b""
    echo_origin.wait_done()
    assert p.stop() == []
    assert "status=" not in p.stderr(), p.stderr()
    assert not list(p.workdir.glob("off"))


def test_hosts_file_directive_is_used(proxy_factory, echo_origin, tmp_path, dns_nxdomain):
    hosts = tmp_path / "my-hosts"
    hosts.write_text("127.0.0.1 only-in-my-hosts.test\n")
    p = proxy_factory(hosts_file=str(hosts))
    sock, status, leftover = connect_via(p, f"only-in-my-hosts.test:{echo_origin.port}")
    with sock:
        assert status == 200
    # the session hosts file is not used now
    r = send_raw(p, f"CONNECT example.test:{echo_origin.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), timeout=20)
    assert_error_reply(r, 502)


def test_listen_port_in_use_fails_fast(sluice_bin, tmp_path):
    """A listen address that cannot be bound is a startup error (non-zero
    exit, message on stderr), not a hang."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        port = holder.getsockname()[1]
        cfg = write(tmp_path, f"listen 127.0.0.1:{port}\n")
        cp = run_sluice(sluice_bin, "-c", cfg)
        assert cp.returncode != 0
        assert str(port) in cp.stderr, cp.stderr
    finally:
        holder.close()


def test_default_listen_address(proxy_factory, echo_origin):
    """Without a listen directive sluice listens on 127.0.0.1:3128, and on
    [::1]:3128 where the machine has IPv6 loopback."""
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", 3128))
    except OSError:
        pytest.skip("127.0.0.1:3128 is busy on this machine")
    finally:
        probe.close()
    p = proxy_factory(listen=None, log_level=None)
    assert p.addrs[0] == ("127.0.0.1", 3128), p.stderr()
    assert p.addrs[1:] in ([], [("::1", 3128)]), p.stderr()
    if socket.has_ipv6 and p.addrs[1:]:
        six = socket.create_connection(("::1", 3128), timeout=5)
        six.close()
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
