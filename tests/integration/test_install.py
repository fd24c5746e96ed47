"""make install / make uninstall, the files they put in place, and systemd
readiness (README "Install", sluice(8)).

Installs go into a temporary DESTDIR with PREFIX=/usr, never onto the
machine. The unit is checked with systemd-analyze verify (skipped without
systemd-analyze); the man pages are rendered with man(1) and groff's
warnings on; the sysusers.d file is run with systemd-sysusers --root. The
sd_notify tests bind a unix datagram socket, point NOTIFY_SOCKET at it and
read what sluice reports.
"""

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import (
    CLI_TIMEOUT,
    IO_TIMEOUT,
    REPO_ROOT,
    STARTUP_TIMEOUT,
    connect_via,
    exchange,
)

# make may have to build build/sluice first: a safety limit, not a target
MAKE_TIMEOUT = 900

PREFIX_FILES = {
    "usr/sbin/sluice": 0o755,
    "etc/sluice/sluice.conf": 0o644,
    "usr/share/man/man8/sluice.8": 0o644,
    "usr/share/man/man5/sluice.conf.5": 0o644,
    "usr/lib/systemd/system/sluice.service": 0o644,
    "usr/lib/sysusers.d/sluice.conf": 0o644,
}
BIN = "usr/sbin/sluice"
CONF = "etc/sluice/sluice.conf"
MAN8 = "usr/share/man/man8/sluice.8"
MAN5 = "usr/share/man/man5/sluice.conf.5"
UNIT = "usr/lib/systemd/system/sluice.service"
SYSUSERS = "usr/lib/sysusers.d/sluice.conf"


# Not taken from the environment: these tests say where things go.
MAKE_VARIABLES = ("DESTDIR", "PREFIX", "BINDIR", "SBINDIR", "SYSCONFDIR", "MANDIR",
                  "UNITDIR", "SYSUSERSDIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def make(target, destdir, **variables):
    """make TARGET DESTDIR=destdir PREFIX=/usr (or as variables say) in the
    repository."""
    variables = {"DESTDIR": destdir, "PREFIX": "/usr", **variables}
    args = ["make", "--no-print-directory", "-C", str(REPO_ROOT), target]
    args += [f"{k}={v}" for k, v in variables.items()]
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    cp = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, timeout=MAKE_TIMEOUT, env=env)
    assert cp.returncode == 0, f"{' '.join(args)} failed:\n{cp.stdout}\n{cp.stderr}"
    return cp


def files_under(root):
    """Relative paths of every non-directory under root."""
    root = Path(root)
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def run(args, env=None, timeout=CLI_TIMEOUT):
    return subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          env=env)


def help_directives(binary):
    """[(name, default)] of every directive `sluice --help` lists."""
    out = run([binary, "--help"]).stdout.splitlines()
    start = next(i for i, line in enumerate(out) if line.endswith("Directives:"))
    lines = [x for x in out[start + 1:] if x.strip()]
    assert len(lines) % 2 == 0, out
    found = []
    for first, second in zip(lines[0::2], lines[1::2]):
        m = re.match(r"^  ([a-z][a-z0-9-]*) ", first)
        d = re.match(r"^ +.* \(default: (.*)\)$", second)
        assert m and d, (first, second)
        found.append((m.group(1), d.group(1)))
    assert len(found) >= 30, found
    return found


def unit_settings(text):
    """{key: [values]} of a unit file, comments and sections ignored."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        k, _, v = line.partition("=")
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def render(page, width=80):
    """man -l with every groff warning on: (stdout, stderr)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MANPAGER", "MAN_KEEP_FORMATTING", "MANOPT")}
    env.update(MANWIDTH=str(width), LC_ALL="C.UTF-8", PAGER="cat")
    cp = run(["man", "--warnings=w", "-l", page], env=env)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout, cp.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh make install DESTDIR=... PREFIX=/usr, shared read-only."""
    dest = tmp_path_factory.mktemp("destdir")
    make("install", dest)
    return dest


# --------------------------------------------------------------------------
# what goes where
# --------------------------------------------------------------------------


def test_install_puts_every_file_in_place_with_sane_modes(installed):
    assert files_under(installed) == set(PREFIX_FILES)
    for rel, mode in PREFIX_FILES.items():
        st = (installed / rel).stat()
        assert stat.S_ISREG(st.st_mode), rel
        assert stat.S_IMODE(st.st_mode) == mode, f"{rel}: {oct(st.st_mode)}"
    for d in [installed, *(p for p in installed.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(d.stat().st_mode) & 0o022 == 0, f"{d} is writable by others"
    cp = run([installed / BIN, "--version"])
    assert cp.returncode == 0 and cp.stdout.startswith("sluice "), cp


def test_no_placeholder_is_left(installed):
    for rel in (CONF, MAN8, MAN5, UNIT, SYSUSERS):
        text = (installed / rel).read_text()
        assert not re.search(r"@[A-Z_]+@", text), f"{rel} still has a placeholder"
    assert "/etc/sluice/sluice.conf" in (installed / MAN8).read_text()
    assert "/usr/lib/systemd/system/sluice.service" in (installed / MAN8).read_text()


def test_installed_config_passes_check_config(installed):
    cp = run([installed / BIN, "-c", installed / CONF, "--check-config"])
    assert cp.returncode == 0, cp.stderr
    assert "config OK" in cp.stdout


def test_installed_config_with_every_line_uncommented_passes_check_config(installed, tmp_path):
    """Every commented directive line holds a value the parser takes, so a
    user can uncomment any of them."""
    text = (installed / CONF).read_text()
    uncommented, n = re.subn(r"(?m)^#(?=[a-z])", "", text)
    assert n >= 30
    conf = tmp_path / "all.conf"
    conf.write_text(uncommented)
    cp = run([installed / BIN, "-c", conf, "--check-config"])
    assert cp.returncode == 0, cp.stderr + uncommented
    assert "config OK" in cp.stdout


def test_every_directive_of_help_is_in_the_config_with_its_default(installed):
    text = (installed / CONF).read_text()
    lines = re.findall(r"(?m)^#([a-z][a-z0-9-]*) (.*)$", text)
    wanted = help_directives(installed / BIN)
    assert sorted(lines) == sorted(wanted), "config lines differ from --help"
    for name, _ in wanted:
        # its help is on the comment lines just above
        assert re.search(rf"(?m)^# {re.escape(name)} .*\n(# .*\n)*#{re.escape(name)} ", text), name


def test_every_directive_of_help_is_in_the_man_page_with_its_default(installed):
    text, _ = render(installed / MAN5, width=250)
    section = text.split("\nDIRECTIVES\n", 1)[1].split("\nRELOAD\n", 1)[0]
    entries = {}
    for block in re.split(r"\n(?=       \S)", section.strip("\n")):
        m = re.match(r"^\s+([a-z][a-z0-9-]*) ", block)
        assert m, block
        entries[m.group(1)] = " ".join(block.split())
    wanted = help_directives(installed / BIN)
    assert sorted(entries) == sorted(n for n, _ in wanted)
    for name, default in wanted:
        assert entries[name].endswith(f"Default: {default}"), entries[name]


@pytest.mark.parametrize("page", [MAN8, MAN5], ids=["sluice.8", "sluice.conf.5"])
def test_man_page_renders_without_warnings(installed, page):
    text, err = render(installed / page)
    assert err == "", err
    assert len(text.splitlines()) > 40
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"):
        assert f"\n{heading}\n" in text, heading
    # the NAME line is one mandb can index
    cp = run(["lexgrog", installed / page])
    assert cp.returncode == 0 and " - " in cp.stdout, cp


def test_sluice_8_documents_signals_exit_statuses_and_files(installed):
    text, _ = render(installed / MAN8, width=200)
    for word in ("SIGHUP", "SIGTERM", "second SIGTERM", "SIGUSR1", "shutdown-grace",
                 "NOTIFY_SOCKET", "/etc/sluice/sluice.conf", "CAP_NET_BIND_SERVICE"):
        assert word in text, word
    status = text.split("\nEXIT STATUS\n", 1)[1].split("\nENVIRONMENT\n", 1)[0]
    assert re.findall(r"(?m)^       ([0-9])\s", status) == ["0", "1", "2"], status


def test_sluice_conf_5_gives_units_of_durations_and_sizes(installed):
    text, _ = render(installed / MAN5, width=200)
    values = text.split("\nVALUES\n", 1)[1].split("\nDIRECTIVES\n", 1)[0]
    for word in ("DURATION", "ms", "min", "SIZE", "KiB", "MiB", "bare number is seconds"):
        assert word in values, word


# --------------------------------------------------------------------------
# install again, uninstall
# --------------------------------------------------------------------------


def test_second_install_keeps_an_edited_config(tmp_path):
    make("install", tmp_path)
    conf = tmp_path / CONF
    edited = conf.read_text() + "connect-timeout 5s\n"
    conf.write_text(edited)
    (tmp_path / MAN8).unlink()
    cp = make("install", tmp_path)
    assert conf.read_text() == edited
    assert "kept" in cp.stdout and str(conf) in cp.stdout
    assert files_under(tmp_path) == set(PREFIX_FILES)  # the rest put back


def test_uninstall_removes_what_install_put(tmp_path):
    make("install", tmp_path)
    make("uninstall", tmp_path)
    assert files_under(tmp_path) == set()
    assert not (tmp_path / "etc/sluice").exists()


def test_uninstall_keeps_an_edited_config(tmp_path):
    make("install", tmp_path)
    conf = tmp_path / CONF
    edited = conf.read_text().replace("#connect-timeout 10s", "connect-timeout 5s")
    conf.write_text(edited)
    cp = make("uninstall", tmp_path)
    assert files_under(tmp_path) == {CONF}
    assert conf.read_text() == edited
    assert "kept" in cp.stdout


def test_install_honours_prefix_and_directory_variables(tmp_path):
    make("install", tmp_path, PREFIX="/opt/sl", MANDIR="/opt/man")
    assert files_under(tmp_path) == {
        "opt/sl/sbin/sluice", "opt/sl/etc/sluice/sluice.conf",
        "opt/man/man8/sluice.8", "opt/man/man5/sluice.conf.5",
        "opt/sl/lib/systemd/system/sluice.service", "opt/sl/lib/sysusers.d/sluice.conf",
    }
    unit = unit_settings((tmp_path / "opt/sl/lib/systemd/system/sluice.service").read_text())
    assert unit["ExecStart"] == ["/opt/sl/sbin/sluice -c /opt/sl/etc/sluice/sluice.conf"]
    make("uninstall", tmp_path, PREFIX="/opt/sl", MANDIR="/opt/man")
    assert files_under(tmp_path) == set()


# --------------------------------------------------------------------------
# the unit and the user
# --------------------------------------------------------------------------


def test_unit_settings(installed):
    u = unit_settings((installed / UNIT).read_text())
    expect = {
        "Type": "notify",
        "ExecStart": "/usr/sbin/sluice -c /etc/sluice/sluice.conf",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "Restart": "on-failure",
        "KillMode": "mixed",
        "User": "sluice",
        "Group": "sluice",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallArchitectures": "native",
        "StateDirectory": "sluice",
        "LogsDirectory": "sluice",
        "CacheDirectory": "sluice",
        "CapabilityBoundingSet": "",
        "WantedBy": "multi-user.target",
    }
    for k, v in expect.items():
        assert u.get(k) == [v], f"{k}: {u.get(k)!r}, expected {v!r}"
    assert "AmbientCapabilities" not in u
    assert int(u["LimitNOFILE"][0]) >= 65536
    # the drain (shutdown-grace, 10s by default) ends before systemd's SIGKILL
    m = re.fullmatch(r"(\d+)s", u["TimeoutStopSec"][0])
    assert m and int(m.group(1)) > 10, u["TimeoutStopSec"]
    # the default blocklist-cache is the unit's cache directory
    assert "#blocklist-cache /var/cache/sluice\n" in (installed / CONF).read_text()


def test_unit_passes_systemd_analyze_verify(installed, tmp_path):
    """verify checks that ExecStart exists, so a copy of the unit points at
    the installed binary; MANPATH lets it find the installed man pages of
    Documentation=."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze")
    text = (installed / UNIT).read_text()
    copy, n = re.subn(r"(?m)^ExecStart=/usr/sbin/sluice ",
                      f"ExecStart={installed / BIN} ", text)
    assert n == 1
    (tmp_path / "sluice.service").write_text(copy)
    env = dict(os.environ, MANPATH=str(installed / "usr/share/man"))
    cp = run(["systemd-analyze", "verify", tmp_path / "sluice.service"], env=env,
             timeout=60)
    assert cp.returncode == 0 and cp.stdout + cp.stderr == "", cp.stdout + cp.stderr


def test_sysusers_file_creates_a_system_user(installed, tmp_path):
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("no systemd-sysusers")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    dest = root / SYSUSERS
    dest.parent.mkdir(parents=True)
    shutil.copy(installed / SYSUSERS, dest)
    cp = run(["systemd-sysusers", f"--root={root}"])
    assert cp.returncode == 0, cp.stderr
    users = {line.split(":")[0]: line.split(":") for line in
             (root / "etc/passwd").read_text().splitlines()}
    groups = {line.split(":")[0] for line in (root / "etc/group").read_text().splitlines()}
    assert "sluice" in users and "sluice" in groups
    uid, shell = int(users["sluice"][2]), users["sluice"][6]
    assert 0 < uid < 1000, users["sluice"]
    assert shell.endswith("nologin"), users["sluice"]


LOW_PORT_CASES = [
    ("# nothing set\n", False),
    ("listen 127.0.0.1:3128\n", False),
    ("listen 127.0.0.1:80\n", True),
    ("listen [::1]:443   # https\n", True),
    ("listen 127.0.0.1:3128 *:1023\n", True),
    ("listen 127.0.0.1:3128\nlisten [::1]:8080\nlisten 127.0.0.1:1\n", True),
    ("  listen\t127.0.0.1:22\n", True),
    ("listen 127.0.0.1:1024\n", False),
    ("listen 127.0.0.1:0\n", False),
    ("#listen 127.0.0.1:80\n", False),
    ("listen 127.0.0.1:3128 # not 127.0.0.1:80\n", False),
    ("blocklist /srv/lists/port:80\n", False),
    ("admin 127.0.0.1:81\n", True),
]


@pytest.mark.parametrize("conf,low", LOW_PORT_CASES,
                         ids=[f"case{i}" for i in range(len(LOW_PORT_CASES))])
def test_low_port_capability_exactly_when_configured(tmp_path, conf, low):
    path = tmp_path / CONF
    path.parent.mkdir(parents=True)
    path.write_text(conf)
    make("install", tmp_path)
    assert path.read_text() == conf  # not overwritten
    u = unit_settings((tmp_path / UNIT).read_text())
    if low:
        assert u.get("CapabilityBoundingSet") == ["CAP_NET_BIND_SERVICE"], u
        assert u.get("AmbientCapabilities") == ["CAP_NET_BIND_SERVICE"], u
    else:
        assert u.get("CapabilityBoundingSet") == [""], u
        assert "AmbientCapabilities" not in u


# --------------------------------------------------------------------------
# sd_notify
# --------------------------------------------------------------------------


class NotifySocket:
    """A bound unix datagram socket, as systemd's for a Type=notify unit."""

    def __init__(self, tmp_path, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"sluice-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            path = tmp_path / "notify.sock"
            self.sock.bind(str(path))
            self.env = str(path)

    def receive(self, timeout=IO_TIMEOUT):
        """The next report as {KEY: VALUE}."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"no report on NOTIFY_SOCKET within {timeout}s")
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
        return fields

    def pending(self):
        """Reports already queued, without waiting."""
        out = []
        self.sock.setblocking(False)
        try:
            for _ in range(1000):
                out.append(self.sock.recv(65536).decode())
        except BlockingIOError:
            pass
        return out

    def close(self):
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request, tmp_path, monkeypatch):
    ns = NotifySocket(tmp_path, request.param == "abstract")
    monkeypatch.setenv("NOTIFY_SOCKET", ns.env)
    yield ns
    ns.close()


def test_notify_ready_reloading_stopping(proxy_factory, notify_socket, echo_origin):
    p = proxy_factory(wait_listen=False)
    ready = notify_socket.receive(STARTUP_TIMEOUT)
    log = p.stderr()  # what was logged before the report
    assert ready.get("READY") == "1", ready
    assert ready.get("STATUS"), ready
    assert "listening on" in log and "sluice ready" in log, log
    p._wait_listening()
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"ping", initial=leftover) == b"ping"

    p.send_signal(signal.SIGHUP)
    reloading = notify_socket.receive()
    assert reloading.get("RELOADING") == "1", reloading
    assert re.fullmatch(r"[0-9]+", reloading.get("MONOTONIC_USEC", "")), reloading
    again = notify_socket.receive()
    assert again.get("READY") == "1", again
    assert "reload done" in p.stderr(), "READY=1 came before the reload was over"
    assert "failed" not in again.get("STATUS", ""), again

    p.send_signal(signal.SIGTERM)
    stopping = notify_socket.receive()
    assert stopping.get("STOPPING") == "1", stopping
    assert p.wait(p.grace + IO_TIMEOUT) == 0, p.stderr()
    assert notify_socket.pending() == []
    assert p.stop() == []


def test_notify_ready_after_a_failed_reload(proxy_factory, notify_socket, tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text("a.test\n")
    p = proxy_factory(blocklist=str(lst), wait_listen=False)
    assert notify_socket.receive(STARTUP_TIMEOUT).get("READY") == "1"
    lst.unlink()
    p.send_signal(signal.SIGHUP)
    assert notify_socket.receive().get("RELOADING") == "1"
    again = notify_socket.receive()
    assert again.get("READY") == "1", again
    assert "failed" in again.get("STATUS", ""), again
    assert "reload failed" in p.stderr()
    assert p.alive()


@pytest.mark.parametrize("value", ["/nonexistent-dir/notify.sock", "relative.sock",
                                   "@" + "x" * 200])
def test_unusable_notify_socket_is_ignored(proxy_factory, monkeypatch, echo_origin, value):
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    p = proxy_factory(log_level="debug")
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"ping", initial=leftover) == b"ping"
    p.send_signal(signal.SIGHUP)
    p.send_signal(signal.SIGTERM)
    assert p.wait(p.grace + IO_TIMEOUT) == 0, p.stderr()
    assert "NOTIFY_SOCKET" in p.stderr()  # said so, at debug
    assert p.stop() == []
