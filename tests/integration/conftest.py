"""Fixtures and helpers for the sluice integration tests.

Everything here talks to loopback only (127.0.0.0/8 and ::1).  Every loop is
bounded both in iterations and in wall-clock time; all the timeouts below are
safety limits, never performance thresholds.

Main pieces:

* ``sluice_bin``       -- path of the binary ($SLUICE_BIN or <repo>/build/sluice)
* ``proxy_factory``    -- start a proxy with a generated config; all proxies are
                          stopped (SIGTERM, bounded wait, SIGKILL as a last
                          resort) at teardown, and the test fails if one did
                          not exit cleanly or its stderr shows a sanitizer
                          report
* ``proxy``            -- a proxy with the default test config
* ``origin_factory``   -- threaded TCP origins (echo, collect-then-reply, ...)
* ``echo_origin``      -- an echo origin on 127.0.0.1
* ``blackhole``        -- a target whose TCP handshake never completes
* ``tls_cert`` / ``http_origin_factory`` -- HTTP(S) origins for curl tests
* ``connect_via``      -- CONNECT through the proxy -> (sock, status, leftover)
* ``send_raw``         -- send bytes, read an HTTP reply, check the close
"""

import atexit
import collections
import functools
import hashlib
import http.server
import os
import re
import resource
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

# Directive names documented in the spec; --help must list all of them.
DIRECTIVES = (
    "listen",
    "workers",
    "connect-ports",
    "connect-timeout",
    "tunnel-idle-timeout",
    "header-timeout",
    "shutdown-grace",
    "access-log",
    "log-level",
    "hosts-file",
)

# Safety limits (seconds).  Generous because the suite also runs under
# ASan+UBSan; none of them is a performance requirement.
STARTUP_TIMEOUT = 20.0
IO_TIMEOUT = 10.0
CLI_TIMEOUT = 15.0

LISTEN_RE = re.compile(r"listening on (\S+):(\d+)")
WORKERS_RE = re.compile(r"\((\d+) workers?\)")
ADMIN_RE = re.compile(r"admin endpoint at (http://\S+/)")
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
)

ACCESS_RE = re.compile(
    r"^(?P<time>\S+) (?P<client>\S+) (?P<method>\S+) (?P<target>\S+)"
    r"(?P<fields>(?: \w+=\S*)+)\s*$"
)
FIELD_RE = re.compile(r"(\w+)=(\S*)")


# --------------------------------------------------------------------------
# binary
# --------------------------------------------------------------------------


def find_sluice_bin():
    env = os.environ.get("SLUICE_BIN")
    if env:
        p = Path(env)
        if not p.is_absolute():
            cand = (Path.cwd() / p).resolve()
            if not cand.exists():
                cand = (REPO_ROOT / p).resolve()
            p = cand
        return p
    return REPO_ROOT / "build" / "sluice"


@pytest.fixture(scope="session")
def sluice_bin():
    p = find_sluice_bin()
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"sluice binary not found or not executable: {p} (run make)")
    return p


def sanitizer_errors(text):
    """Return the sanitizer marker lines found in text (empty list if none)."""
    out = []
    for line in text.splitlines():
        if any(m in line for m in SANITIZER_MARKERS):
            out.append(line)
    return out


def run_sluice(sluice_bin, *args, timeout=CLI_TIMEOUT, check_sanitizers=True):
    """Run sluice to completion (for CLI tests); returns CompletedProcess.

    subprocess.run kills the child (by PID) if the timeout expires, which
    then surfaces as subprocess.TimeoutExpired in the test."""
    cp = subprocess.run(
        [str(sluice_bin), *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        text=True,
        errors="replace",
    )
    if check_sanitizers:
        errs = sanitizer_errors(cp.stderr)
        assert not errs, f"sanitizer report from sluice {args}:\n{cp.stderr}"
    return cp


# --------------------------------------------------------------------------
# network helpers
# --------------------------------------------------------------------------


def ipv6_loopback_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


HAVE_IPV6 = ipv6_loopback_available()
needs_ipv6 = pytest.mark.skipif(not HAVE_IPV6, reason="no ::1 on this host")


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def fmt_hostport(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tcp_connect(addr, timeout=IO_TIMEOUT):
    host, port = addr
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def recv_head(sock, timeout=IO_TIMEOUT, limit=65536):
    """Read until CRLFCRLF. Returns (head_bytes_without_terminator, leftover).

    Raises AssertionError on EOF / timeout / oversize."""
    deadline = time.monotonic() + timeout
    buf = b""
    for _ in range(100000):
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            return buf[:i], buf[i + 4:]
        if len(buf) > limit:
            raise AssertionError(f"response head larger than {limit}: {buf[:200]!r}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timeout waiting for response head, got {buf!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"timeout waiting for response head, got {buf!r}")
        except ConnectionResetError:
            raise AssertionError(f"connection reset before response head, got {buf!r}")
        if not chunk:
            raise AssertionError(f"EOF before end of response head, got {buf!r}")
        buf += chunk
    raise AssertionError("recv_head: too many iterations")


class Head:
    def __init__(self, raw):
        self.raw = raw
        text = raw.decode("latin-1")
        lines = text.split("\r\n")
        self.status_line = lines[0]
        m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", self.status_line)
        assert m, f"bad status line {self.status_line!r}"
        self.version = m.group(1)
        self.status = int(m.group(2))
        self.reason = m.group(3) or ""
        self.headers = {}
        for line in lines[1:]:
            assert ":" in line, f"bad header line {line!r} in {text!r}"
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()

    def __repr__(self):
        return f"Head({self.raw!r})"


def connect_via(proxy, target, extra=b"", version="HTTP/1.1", headers=None,
                addr=None, timeout=IO_TIMEOUT):
    """Open a CONNECT tunnel through the proxy.

    target: "host:port" string as it goes on the request line.
    extra: bytes sent in the same send() as the request head.
    Returns (sock, status, leftover) where leftover are the bytes received
    after the response head (already tunnelled data for a 200).  Use
    connect_via_full to also get the parsed response head."""
    sock, head, leftover = connect_via_full(proxy, target, extra, version,
                                            headers, addr, timeout)
    return sock, head.status, leftover


def connect_via_full(proxy, target, extra=b"", version="HTTP/1.1", headers=None,
                     addr=None, timeout=IO_TIMEOUT):
    if headers is None:
        host = target
        headers = [("Host", host), ("User-Agent", "sluice-tests")]
    req = f"CONNECT {target} {version}\r\n"
    for k, v in headers:
        req += f"{k}: {v}\r\n"
    req += "\r\n"
    sock = tcp_connect(addr or proxy.addr, timeout)
    try:
        sock.sendall(req.encode("latin-1") + extra)
        raw, leftover = recv_head(sock, timeout)
        head = Head(raw)
    except BaseException:
        sock.close()
        raise
    return sock, head, leftover


def recv_exact(sock, n, timeout=IO_TIMEOUT, initial=b""):
    deadline = time.monotonic() + timeout
    buf = bytearray(initial)
    for _ in range(10_000_000):
        if len(buf) >= n:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timeout: got {len(buf)} of {n} bytes")
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(1 << 20, n - len(buf)))
        except socket.timeout:
            raise AssertionError(f"timeout: got {len(buf)} of {n} bytes")
        if not chunk:
            raise AssertionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_until_eof(sock, timeout=IO_TIMEOUT, limit=1 << 30, initial=b"",
                   allow_reset=False):
    """Read until EOF. Returns bytes. Raises on timeout or limit."""
    deadline = time.monotonic() + timeout
    buf = bytearray(initial)
    for _ in range(10_000_000):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timeout waiting for EOF after {len(buf)} bytes")
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"timeout waiting for EOF after {len(buf)} bytes")
        except ConnectionResetError:
            if allow_reset:
                return bytes(buf)
            raise
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > limit:
            raise AssertionError(f"more than {limit} bytes before EOF")
    raise AssertionError("recv_until_eof: too many iterations")


def wait_closed(sock, timeout=IO_TIMEOUT):
    """Wait until the peer closes (EOF or RST); returns bytes read meanwhile.

    Raises AssertionError if the connection is still open at timeout."""
    return recv_until_eof(sock, timeout=timeout, limit=1 << 24, allow_reset=True)


def sendall_bg(sock, data, timeout=60.0):
    """sendall in a background thread; returns the thread (join it).

    The thread stores an exception, if any, in thread.error."""
    def run():
        try:
            sock.settimeout(timeout)
            sock.sendall(data)
        except BaseException as e:  # noqa: BLE001
            t.error = e
    t = threading.Thread(target=run, daemon=True)
    t.error = None
    t.start()
    return t


def exchange(sock, data, timeout=IO_TIMEOUT, initial=b""):
    """Send data (in background) while reading len(data) bytes back."""
    t = sendall_bg(sock, data, timeout)
    got = recv_exact(sock, len(data), timeout, initial)
    t.join(timeout)
    assert not t.is_alive(), "sender thread stuck"
    if t.error:
        raise t.error
    return got


class Reply:
    def __init__(self, head, body, closed, rest):
        self.head = head
        self.status = head.status
        self.body = body
        self.closed = closed
        self.rest = rest

    def __repr__(self):
        return f"Reply({self.head.raw!r}, body={self.body!r}, closed={self.closed})"


def read_reply(sock, timeout=IO_TIMEOUT):
    """Read a response head and everything after it until the proxy closes.

    Returns Reply; .closed is True if EOF/RST was seen within timeout.  The
    body is the Content-Length prefix of what followed the head (or all of
    it if there is no Content-Length)."""
    raw, leftover = recv_head(sock, timeout)
    head = Head(raw)
    closed = True
    try:
        rest = recv_until_eof(sock, timeout=timeout, limit=1 << 20,
                              initial=leftover, allow_reset=True)
    except AssertionError:
        closed = False
        rest = leftover
    cl = head.headers.get("content-length")
    if cl is not None and cl.isdigit():
        body = rest[: int(cl)]
    else:
        body = rest
    return Reply(head, body, closed, rest)


def send_raw(proxy, data, timeout=IO_TIMEOUT, addr=None, shut_wr=False):
    """Connect to the proxy, send raw bytes, read the reply until close."""
    sock = tcp_connect(addr or proxy.addr, timeout)
    try:
        sock.sendall(data)
        if shut_wr:
            sock.shutdown(socket.SHUT_WR)
        return read_reply(sock, timeout)
    finally:
        sock.close()


def assert_error_reply(reply, status):
    """Check an error answer: status, text/plain body, then close."""
    assert reply.status == status, f"expected {status}, got {reply!r}"
    assert reply.head.version in ("HTTP/1.0", "HTTP/1.1"), reply
    ctype = reply.head.headers.get("content-type", "")
    assert ctype.lower().startswith("text/plain"), f"Content-Type {ctype!r} in {reply!r}"
    cl = reply.head.headers.get("content-length")
    if cl is not None:
        assert cl.isdigit() and len(reply.rest) >= int(cl), reply
    assert reply.body.strip(), f"empty error body in {reply!r}"
    assert reply.closed, f"proxy did not close the connection after {status}: {reply!r}"


def closed_port(host="127.0.0.1"):
    """A socket bound (not listening) to a port: connects to it are refused.

    Keep the returned socket open for as long as the port must stay closed."""
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.bind((host, 0))
    return s


def free_port(host="127.0.0.1"):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    n = max(1, int(timeout / interval) + 2)
    for _ in range(n):
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    v = pred()
    if v:
        return v
    raise AssertionError(f"timeout ({timeout}s) waiting for {what}")


def rss_kib_tree(pid):
    """VmRSS (KiB) of pid plus all its descendants (workers may be processes)."""
    children = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(d))
    total = 0
    todo = [pid]
    seen = set()
    for _ in range(10000):
        if not todo:
            break
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        todo.extend(children.get(p, ()))
    return total


# --------------------------------------------------------------------------
# access log
# --------------------------------------------------------------------------


class AccessEntry:
    def __init__(self, line, m):
        self.line = line
        self.time = m.group("time")
        self.client = m.group("client")
        self.method = m.group("method")
        self.target = m.group("target")
        self.fields = dict(FIELD_RE.findall(m.group("fields")))

    def int(self, key):
        v = self.fields.get(key)
        assert v is not None and v.isdigit(), f"field {key} missing/not a number in {self.line!r}"
        return int(v)

    def __repr__(self):
        return f"AccessEntry({self.line!r})"


def parse_access_lines(text):
    out = []
    for line in text.splitlines():
        m = ACCESS_RE.match(line)
        if m and "status" in m.group("fields"):
            out.append(AccessEntry(line, m))
    return out


# --------------------------------------------------------------------------
# the proxy
# --------------------------------------------------------------------------


_LIVE_PROXIES = []


@atexit.register
def _kill_leftover_proxies():
    """Safety net if the test process ends without fixture teardown."""
    for p in _LIVE_PROXIES:
        if p.proc is not None and p.proc.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass


class Proxy:
    """A sluice process started with a generated config file."""

    def __init__(self, binary, workdir, directives, args=(), wait_listen=True,
                 expect_listeners=None, prefix=()):
        self.binary = binary
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "sluice.conf"
        self.stderr_path = self.workdir / "stderr.log"
        self.stdout_path = self.workdir / "stdout.log"
        self.directives = directives  # list of (name, value)
        lines = ["# generated by tests/integration/conftest.py", ""]
        # the admin endpoint's default port is fixed (9128): tests take
        # any free one, unless they say otherwise
        if not any(k == "admin" for k, _ in directives) and "--admin" not in args:
            lines.append("admin 127.0.0.1:0")
        for k, v in directives:
            lines.append(f"{k} {v}")
        self.config_path.write_text("\n".join(lines) + "\n")
        self.access_log_path = None
        for k, v in directives:
            if k == "access-log" and v not in ("stderr", "off"):
                self.access_log_path = Path(v)
        self.grace = 10.0
        for k, v in directives:
            if k == "shutdown-grace":
                self.grace = parse_duration(v)
        # prefix: a command that execs the rest in the same process, e.g.
        # ["prlimit", "--nofile=64", "--"]; the PID stays sluice's
        self.args = [*prefix, str(binary), "-c", str(self.config_path), *map(str, args)]
        self.proc = None
        self.addrs = []
        self.workers = None
        self.admin_url = None
        self.returncode = None
        self.stop_problems = None
        n_listen = sum(1 for k, _ in directives if k == "listen")
        for a in args:
            if a == "--listen":
                n_listen += 1
        self.expect_listeners = expect_listeners or max(1, n_listen)
        self._start(wait_listen)

    # -- lifecycle -------------------------------------------------------

    def _start(self, wait_listen):
        self._err_f = open(self.stderr_path, "wb")
        self._out_f = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self._out_f,
            stderr=self._err_f,
            cwd=str(self.workdir),
            start_new_session=True,  # own process group: SIGKILL fallback
        )
        self.pid = self.proc.pid
        _LIVE_PROXIES.append(self)
        if wait_listen:
            self._wait_listening()

    def _wait_listening(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for _ in range(int(STARTUP_TIMEOUT / 0.02) + 10):
            text = self.stderr()
            found = []
            for m in LISTEN_RE.finditer(text):
                host = m.group(1)
                if host.startswith("[") and host.endswith("]"):
                    host = host[1:-1]
                a = (host, int(m.group(2)))
                if a not in found:
                    found.append(a)
            if len(found) >= self.expect_listeners:
                self.addrs = found
                m = WORKERS_RE.search(text)
                self.workers = int(m.group(1)) if m else None
                m = ADMIN_RE.search(text)
                self.admin_url = m.group(1) if m else None
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"sluice exited with {self.proc.returncode} during startup; "
                    f"stderr:\n{text}")
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        raise AssertionError(
            f"sluice did not log 'listening on' x{self.expect_listeners} within "
            f"{STARTUP_TIMEOUT}s; stderr:\n{self.stderr()}")

    @property
    def addr(self):
        return self.addrs[0]

    @property
    def port(self):
        return self.addrs[0][1]

    @property
    def url(self):
        return "http://" + fmt_hostport(*self.addr)

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Wait for exit; returns returncode or None if still running."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stop (idempotent). Returns list of problems (empty = clean).

        Problems: did not exit within timeout (then SIGKILLed), exit status
        not 0, sanitizer report on stderr."""
        if self.stop_problems is not None:
            return self.stop_problems
        problems = []
        if timeout is None:
            timeout = self.grace + 10.0
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            rc = self.wait(timeout)
            if rc is None:
                problems.append(f"sluice pid {self.pid} did not exit within "
                                f"{timeout}s of {signal.Signals(sig).name}; SIGKILLed")
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.wait(10)
        self.returncode = self.proc.returncode
        if self.returncode != 0 and not problems:
            problems.append(f"sluice exited with status {self.returncode}")
        self._close_files()
        errs = sanitizer_errors(self.stderr())
        if errs:
            problems.append("sanitizer report in sluice stderr")
        if problems:
            problems.append("stderr of sluice:\n" + self.stderr()[-20000:])
        self.stop_problems = problems
        return problems

    def _close_files(self):
        for f in (self._err_f, self._out_f):
            try:
                f.close()
            except OSError:
                pass

    # -- observation -----------------------------------------------------

    def stderr(self):
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def access_text(self):
        if self.access_log_path is None:
            return self.stderr()
        try:
            return self.access_log_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def access_entries(self):
        return parse_access_lines(self.access_text())

    def wait_access(self, pred=lambda e: True, timeout=IO_TIMEOUT, count=1,
                    what="access log entry"):
        """Wait until at least `count` access entries satisfy pred; returns them."""
        def check():
            got = [e for e in self.access_entries() if pred(e)]
            return got if len(got) >= count else None
        try:
            return wait_for(check, timeout, what=what)
        except AssertionError:
            raise AssertionError(
                f"timeout waiting for {count} x {what}; access log:\n"
                f"{self.access_text()[-5000:]}")

    def wait_access_for(self, sock_or_port, timeout=IO_TIMEOUT):
        """The access entry of the client connection with this local port."""
        if isinstance(sock_or_port, int):
            port = sock_or_port
        else:
            port = sock_or_port.getsockname()[1]

        def match(e):
            return e.client.rsplit(":", 1)[-1] == str(port)
        return self.wait_access(match, timeout, what=f"access entry for client port {port}")[0]

    def rss_kib(self):
        return rss_kib_tree(self.pid)


DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|min|m|h)?$")


def parse_duration(v):
    m = DURATION_RE.match(v.strip())
    if not m:
        return 10.0
    n = float(m.group(1))
    unit = m.group(2) or "s"
    return n * {"ms": 0.001, "s": 1, "min": 60, "m": 60, "h": 3600}[unit]


# --------------------------------------------------------------------------
# hosts file and proxy fixtures
# --------------------------------------------------------------------------

HOSTS_TEXT = """\
# hosts(5) file for the sluice integration tests
127.0.0.1\texample.test  alias.example.test   # trailing comment

::1     v6.example.test
127.0.0.1 dual.example.test
::1 dual.example.test
# 127.0.0.1 commented.example.test
"""


@pytest.fixture(scope="session")
def hosts_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("hosts") / "hosts"
    p.write_text(HOSTS_TEXT)
    return p


def default_directives(workdir, hosts_file, dns_server):
    return {
        "dns": dns_server.addr,
        "listen": "127.0.0.1:0",
        "workers": "2",
        "connect-ports": "443 1024-65535",
        "connect-timeout": "5s",
        "header-timeout": "5s",
        "tunnel-idle-timeout": "60s",
        "shutdown-grace": "2s",
        "access-log": str(Path(workdir) / "access.log"),
        "log-level": "info",
        "hosts-file": str(hosts_file),
    }


@pytest.fixture
def proxy_factory(sluice_bin, tmp_path, hosts_file, dns_server):
    """start(**directives, listen=[...], args=[...]) -> Proxy.

    Keyword names use '_' for '-': connect_ports="443".  A value of None
    removes a default directive.  `listen` may be a string or a list (the
    directive is repeatable)."""
    started = []

    def start(args=(), wait_listen=True, expect_listeners=None, prefix=(), **kw):
        workdir = tmp_path / f"proxy{len(started)}"
        workdir.mkdir()
        d = default_directives(workdir, hosts_file, dns_server)
        for k, v in kw.items():
            d[k.replace("_", "-")] = v
        directives = []
        for k, v in d.items():
            if v is None:
                continue
            if isinstance(v, (list, tuple)):
                directives.extend((k, x) for x in v)
            else:
                directives.append((k, str(v)))
        p = Proxy(sluice_bin, workdir, directives, args, wait_listen=False,
                  expect_listeners=expect_listeners, prefix=prefix)
        started.append(p)
        if wait_listen:
            p._wait_listening()
        return p

    yield start

    failures = []
    for p in started:
        problems = p.stop()
        if problems:
            failures.append(f"proxy pid {p.pid}:\n" + "\n".join(problems))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.fixture
def proxy(proxy_factory):
    return proxy_factory()


# --------------------------------------------------------------------------
# TCP origins
# --------------------------------------------------------------------------


class ConnRecord:
    def __init__(self, peer):
        self.peer = peer
        self.received = 0
        self.sha = hashlib.sha256()
        self.data = bytearray()  # kept only up to keep_limit
        self.sent = 0
        self.saw_eof = False
        self.error = None
        self.done = threading.Event()

    def add(self, chunk, keep_limit):
        self.received += len(chunk)
        self.sha.update(chunk)
        if len(self.data) < keep_limit:
            self.data += chunk[: keep_limit - len(self.data)]


class Origin:
    """Threaded TCP server on loopback; handler(sock, record, origin) per conn.

    All loops are bounded: the accept loop by max_conns and the origin's
    lifetime (closed at fixture teardown), handlers by conn_timeout."""

    def __init__(self, handler, host="127.0.0.1", backlog=512, conn_timeout=60.0,
                 keep_limit=1 << 22, max_conns=5000):
        self.handler = handler
        self.host = host
        self.conn_timeout = conn_timeout
        self.keep_limit = keep_limit
        self.max_conns = max_conns
        self.records = []
        self.lock = threading.Lock()
        self.new_conn = threading.Condition(self.lock)
        self.socks = []
        self.closed = False
        self.ls = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, 0))
        self.ls.listen(backlog)
        self.ls.settimeout(0.2)
        self.port = self.ls.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return (self.host, self.port)

    @property
    def target(self):
        """host:port as it goes on a CONNECT line."""
        return fmt_hostport(self.host, self.port)

    def _accept_loop(self):
        for _ in range(self.max_conns):
            c = None
            for _ in range(10_000_000):
                if self.closed:
                    return
                try:
                    c, peer = self.ls.accept()
                    break
                except socket.timeout:
                    continue
                except OSError:
                    return
            if c is None:
                return
            rec = ConnRecord(peer)
            with self.lock:
                if self.closed:
                    c.close()
                    return
                self.socks.append(c)
                self.records.append(rec)
                self.new_conn.notify_all()
            threading.Thread(target=self._run, args=(c, rec), daemon=True).start()

    def _run(self, c, rec):
        try:
            c.settimeout(self.conn_timeout)
            self.handler(c, rec, self)
        except Exception as e:  # noqa: BLE001
            rec.error = e
        finally:
            try:
                c.close()
            except OSError:
                pass
            rec.done.set()

    def wait_conns(self, n, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.lock:
            for _ in range(100000):
                if len(self.records) >= n:
                    return list(self.records)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.new_conn.wait(left)
        raise AssertionError(f"origin got {len(self.records)} connections, expected {n}")

    def wait_done(self, idx=0, timeout=IO_TIMEOUT):
        rec = self.wait_conns(idx + 1, timeout)[idx]
        assert rec.done.wait(timeout), f"origin connection {idx} not finished"
        return rec

    def close(self):
        self.closed = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        try:
            self.ls.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self.socks)
        for c in socks:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(2)


def _deadline_recv(c, deadline, n=65536):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("origin connection deadline")
    c.settimeout(left)
    return c.recv(n)


def handler_echo(c, rec, origin):
    """Echo everything; on EOF from the client half-close our side too."""
    deadline = time.monotonic() + origin.conn_timeout
    for _ in range(10_000_000):
        chunk = _deadline_recv(c, deadline)
        if not chunk:
            rec.saw_eof = True
            break
        rec.add(chunk, origin.keep_limit)
        c.settimeout(max(0.1, deadline - time.monotonic()))
        c.sendall(chunk)
        rec.sent += len(chunk)
    c.shutdown(socket.SHUT_WR)


def make_collect_then_reply(reply_fn, delay=0.0):
    """Read until EOF, wait `delay` seconds, then send reply_fn(record) and
    close.

    Receiving the reply proves the target saw EOF (half-close c->t) while
    still being able to send; the delay catches a proxy that tears the
    tunnel down shortly after the first EOF."""
    def handler(c, rec, origin):
        deadline = time.monotonic() + origin.conn_timeout
        for _ in range(10_000_000):
            chunk = _deadline_recv(c, deadline)
            if not chunk:
                rec.saw_eof = True
                break
            rec.add(chunk, origin.keep_limit)
        if delay:
            time.sleep(delay)
        data = reply_fn(rec)
        c.settimeout(max(0.1, deadline - time.monotonic()))
        c.sendall(data)
        rec.sent += len(data)
        c.shutdown(socket.SHUT_WR)
        # linger until the peer closes so nothing is lost to an RST
        for _ in range(1000):
            try:
                if not _deadline_recv(c, deadline):
                    break
            except OSError:
                break
    return handler


def make_greet_then_collect(greeting):
    """Send greeting, shutdown(SHUT_WR), then read until EOF (records it)."""
    def handler(c, rec, origin):
        deadline = time.monotonic() + origin.conn_timeout
        c.sendall(greeting)
        rec.sent += len(greeting)
        c.shutdown(socket.SHUT_WR)
        for _ in range(10_000_000):
            chunk = _deadline_recv(c, deadline)
            if not chunk:
                rec.saw_eof = True
                break
            rec.add(chunk, origin.keep_limit)
    return handler


PATTERN_BLOCK = hashlib.sha256(b"sluice").digest() * 2048  # 64 KiB, deterministic


def expected_pattern(offset, n):
    """Bytes [offset, offset+n) of the infinite repetition of PATTERN_BLOCK."""
    L = len(PATTERN_BLOCK)
    out = bytearray()
    pos = offset % L
    for _ in range(n // L + 2):
        if len(out) >= n:
            break
        take = min(L - pos, n - len(out))
        out += PATTERN_BLOCK[pos:pos + take]
        pos = 0
    return bytes(out)


def make_fast_sender(total, duration):
    """Send PATTERN_BLOCK repeatedly as fast as possible, up to `total` bytes
    or `duration` seconds, whichever first; then close."""
    def handler(c, rec, origin):
        end = time.monotonic() + duration
        for _ in range(total // len(PATTERN_BLOCK) + 100000):
            if rec.sent >= total:
                break
            left = end - time.monotonic()
            if left <= 0:
                break
            c.settimeout(min(0.2, left))
            try:
                pos = rec.sent % len(PATTERN_BLOCK)
                n = c.send(PATTERN_BLOCK[pos:pos + min(len(PATTERN_BLOCK) - pos,
                                                       total - rec.sent)])
            except socket.timeout:
                continue
            rec.sent += n
        try:
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        # hold the connection open (but idle) until the test closes it
        try:
            _deadline_recv(c, time.monotonic() + origin.conn_timeout)
        except OSError:
            pass
    return handler


def handler_hold(c, rec, origin):
    """Accept and never read; wait until the origin is closed."""
    deadline = time.monotonic() + origin.conn_timeout
    for _ in range(100000):
        if origin.closed or time.monotonic() > deadline:
            break
        time.sleep(0.05)


@pytest.fixture
def origin_factory():
    origins = []

    def make(handler, host="127.0.0.1", **kw):
        o = Origin(handler, host=host, **kw)
        origins.append(o)
        return o

    yield make
    for o in origins:
        o.close()


@pytest.fixture
def echo_origin(origin_factory):
    return origin_factory(handler_echo)


# --------------------------------------------------------------------------
# black hole: a target whose TCP handshake never completes
# --------------------------------------------------------------------------


class BlackHole:
    """A listener with backlog 0 whose accept queue is full of connections we
    never accept: further SYNs are dropped and connect() hangs."""

    def __init__(self, host="127.0.0.1", fillers=4):
        self.host = host
        self.ls = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.ls.bind((host, 0))
        self.ls.listen(0)
        self.port = self.ls.getsockname()[1]
        self.fillers = []
        for _ in range(fillers):
            s = socket.socket(family_of(host), socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, self.port))
            self.fillers.append(s)
        time.sleep(0.2)

    @property
    def target(self):
        return fmt_hostport(self.host, self.port)

    def verify(self, timeout=0.5):
        """True if a fresh connect() really hangs."""
        p = socket.socket(family_of(self.host), socket.SOCK_STREAM)
        p.settimeout(timeout)
        try:
            p.connect((self.host, self.port))
            return False
        except socket.timeout:
            return True
        except OSError:
            return False
        finally:
            p.close()

    def close(self):
        for s in self.fillers:
            s.close()
        self.ls.close()


@pytest.fixture
def blackhole():
    bh = BlackHole()
    try:
        if not bh.verify():
            pytest.skip("cannot build a black-hole target on this kernel")
        yield bh
    finally:
        bh.close()


# --------------------------------------------------------------------------
# HTTP / HTTPS origins (for curl)
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """(cert.pem, key.pem) self-signed for example.test, made with openssl."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=example.test",
         "-addext", "subjectAltName=DNS:example.test"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        timeout=60,
    )
    return cert, key


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        body = self.server.body
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *a):
        pass


class HTTPOrigin(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host, body, tls_ctx=None):
        self.address_family = family_of(host)
        self.body = body
        self.tls_ctx = tls_ctx
        self.paths = []
        self.host = host
        super().__init__((host, 0), _Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def finish_request(self, request, client_address):
        request.settimeout(IO_TIMEOUT)
        if self.tls_ctx is None:
            return super().finish_request(request, client_address)
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(2)


@pytest.fixture
def http_origin_factory(tls_cert):
    servers = []

    def make(host="127.0.0.1", body=b"hello\n", tls=False):
        ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
        s = HTTPOrigin(host, body, ctx)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def curl_env():
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and k.lower() != "no_proxy"}
    env["HOME"] = env.get("HOME", "/tmp")
    return env


def run_curl(*args, timeout=30):
    return subprocess.run(
        ["curl", "-q", "-sS", "--max-time", "20", *map(str, args)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        timeout=timeout, env=curl_env(),
    )


# --------------------------------------------------------------------------
# DNS: every proxy the tests start asks only this loopback responder (the
# `dns` directive), never the machine's resolver. It answers NXDOMAIN to
# every query and counts them.
# --------------------------------------------------------------------------


class NxdomainServer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _run(self):
        while not self._stop.is_set():
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(q) < 12:
                continue
            i = 12  # the question: labels up to the root, then type, class
            labels = []
            while i < len(q) and q[i] != 0:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
                i += 1 + q[i]
            end = i + 5
            if end > len(q):
                continue
            self.queries.append(".".join(labels))
            flags = 0x8000 | (q[2] & 0x01) << 8 | 0x0080 | 3  # QR RD RA NXDOMAIN
            head = q[0:2] + flags.to_bytes(2, "big") + b"\x00\x01" + b"\x00" * 6
            self.sock.sendto(head + q[12:end], peer)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture(scope="session")
def dns_server():
    srv = NxdomainServer()
    yield srv
    srv.close()


@pytest.fixture
def dns_nxdomain(dns_server):
    """The loopback resolver every test proxy uses: NXDOMAIN for all."""
    return dns_server


# ==========================================================================
# Plain-HTTP forwarding (tests/integration/test_forward*.py)
#
# * ``raw_http_origin``  -- factory of raw-socket HTTP/1.1 origins that record
#                           the exact bytes of every request they receive
#                           (RawRequest: raw head, raw body, decoded body) and
#                           answer with respond(req, ctx)
# * ``http_response``    -- build a response (Content-Length, chunked, close)
# * ``http_request``     -- build a request
# * ``HttpClient``       -- a client connection to the proxy that reads
#                           responses by their framing (keep-alive, pipelining)
# ==========================================================================

CRLF = b"\r\n"
HOP_BY_HOP = ("connection", "proxy-connection", "keep-alive", "te", "trailer",
              "upgrade", "proxy-authorization", "proxy-authenticate")


def _header_get(headers, name):
    """Values of every field called name (case-insensitive), joined by ", ";
    None if there is none."""
    vals = [v for k, v in headers if k.lower() == name.lower()]
    if not vals:
        return None
    return ", ".join(vals)


def _tokens(value):
    if value is None:
        return []
    return [t.strip().lower() for t in value.split(",") if t.strip()]


class RawRequest:
    """One request as an origin received it.

    raw_head: the head bytes including the final CRLFCRLF; raw_body: the
    body bytes exactly as framed (chunk sizes and all); body: the payload.
    headers: [(name as sent, value without surrounding OWS)]."""

    def __init__(self, raw_head, conn_index, index_in_conn):
        self.raw_head = bytes(raw_head)
        self.conn_index = conn_index
        self.index_in_conn = index_in_conn
        self.raw_body = b""
        self.body = b""
        self.trailers = []
        self.framing = "none"
        self.framing_error = None
        self.malformed = []
        text = self.raw_head[:-4].decode("latin-1")
        lines = text.split("\r\n")
        self.request_line = lines[0]
        parts = self.request_line.split(" ")
        if len(parts) == 3:
            self.method, self.target, self.version = parts
        else:
            self.method = self.target = self.version = None
            self.malformed.append(self.request_line)
        self.headers = []
        for line in lines[1:]:
            if "\n" in line or "\r" in line:
                self.malformed.append(line)
            if ":" not in line:
                self.malformed.append(line)
                self.headers.append((line, None))
                continue
            k, v = line.split(":", 1)
            self.headers.append((k, v.strip(" \t")))

    @property
    def raw(self):
        return self.raw_head + self.raw_body

    def get(self, name):
        return _header_get(self.headers, name)

    def values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def names(self):
        return [k.lower() for k, _ in self.headers]

    @property
    def sha256(self):
        return hashlib.sha256(self.body).hexdigest()

    def __repr__(self):
        return f"RawRequest({self.raw_head!r}, body={self.body[:200]!r})"


class _OriginReader:
    """Buffered reads from an origin-side socket, recorded in rec.data."""

    def __init__(self, sock, rec, origin, deadline):
        self.sock = sock
        self.rec = rec
        self.origin = origin
        self.deadline = deadline
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        if self.eof:
            return False
        chunk = _deadline_recv(self.sock, self.deadline, 1 << 20)
        if not chunk:
            self.eof = True
            self.rec.saw_eof = True
            return False
        self.rec.add(chunk, self.origin.keep_limit)
        self.buf += chunk
        return True

    def read_until(self, delim, limit):
        """Bytes up to and including delim; None on EOF (partial kept)."""
        start = 0
        for _ in range(10_000_000):
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise ValueError(f"no {delim!r} within {limit} bytes")
            start = max(0, len(self.buf) - len(delim) + 1)
            if not self.fill():
                return None
        raise ValueError("read_until: too many iterations")

    def read_n(self, n):
        for _ in range(10_000_000):
            if len(self.buf) >= n:
                out = bytes(self.buf[:n])
                del self.buf[:n]
                return out
            if not self.fill():
                return None
        raise ValueError("read_n: too many iterations")


HEX_DIGITS = set(b"0123456789abcdefABCDEF")


def _origin_read_body(reader, req):
    """Read the request body by its framing; sets req.raw_body/body/framing.

    Strict about chunked syntax: a defect is recorded in req.framing_error
    (and the connection is not read further)."""
    te = req.get("transfer-encoding")
    cl = req.get("content-length")
    if te is not None:
        req.framing = "chunked"
        if _tokens(te)[-1:] != ["chunked"]:
            req.framing_error = f"Transfer-Encoding {te!r} reached the origin"
            return False
        raw = bytearray()
        body = bytearray()
        for _ in range(1_000_000):
            line = reader.read_until(CRLF, 4096)
            if line is None:
                req.framing_error = "EOF in chunked body"
                req.raw_body, req.body = bytes(raw), bytes(body)
                return False
            raw += line
            size_s = line[:-2].split(b";", 1)[0]
            if not size_s or not set(size_s) <= HEX_DIGITS or len(size_s) > 16 \
                    or b"\n" in line[:-2]:
                req.framing_error = f"bad chunk-size line {line!r}"
                req.raw_body, req.body = bytes(raw), bytes(body)
                return False
            size = int(size_s, 16)
            if size == 0:
                for _ in range(1000):
                    t = reader.read_until(CRLF, 65536)
                    if t is None:
                        req.framing_error = "EOF in trailer section"
                        req.raw_body, req.body = bytes(raw), bytes(body)
                        return False
                    raw += t
                    if t == CRLF:
                        break
                    req.trailers.append(t[:-2].decode("latin-1"))
                break
            data = reader.read_n(size + 2)
            if data is None:
                req.framing_error = "EOF in chunk data"
                req.raw_body, req.body = bytes(raw), bytes(body)
                return False
            raw += data
            if data[-2:] != CRLF:
                req.framing_error = "chunk data not followed by CRLF"
                req.raw_body, req.body = bytes(raw), bytes(body)
                return False
            body += data[:-2]
        req.raw_body, req.body = bytes(raw), bytes(body)
        return True
    if cl is not None:
        req.framing = "length"
        if not cl.isdigit():
            req.framing_error = f"Content-Length {cl!r} reached the origin"
            return False
        data = reader.read_n(int(cl))
        if data is None:
            req.framing_error = "EOF in Content-Length body"
            req.raw_body = req.body = bytes(reader.buf)
            return False
        req.raw_body = req.body = data
        return True
    return True


class OriginCtx:
    """What a responder gets besides the request."""

    def __init__(self, sock, rec, origin, reader):
        self.sock = sock
        self.rec = rec
        self.origin = origin
        self.reader = reader
        self.close = False  # set by the responder: close after this reply

    def send(self, data):
        self.sock.settimeout(max(0.1, self.reader.deadline - time.monotonic()))
        self.sock.sendall(data)
        self.rec.sent += len(data)


def http_response(status=200, body=b"", headers=(), reason=None,
                  version="HTTP/1.1", framing="length", chunks=None,
                  trailers=()):
    """A response: framing "length" (Content-Length), "chunked" (body split
    into `chunks` sizes, or one chunk), "close" (no length: the caller
    closes), or "none" (no framing field and no body, for 1xx/204/304).

    headers: [(name, value)] or raw b"Name: value" lines."""
    if reason is None:
        reason = {100: "Continue", 101: "Switching Protocols", 103: "Early Hints",
                  200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified",
                  404: "Not Found", 407: "Proxy Authentication Required",
                  500: "Internal Server Error"}.get(status, "Whatever")
    out = bytearray(f"{version} {status} {reason}\r\n".encode("latin-1"))
    for h in headers:
        if isinstance(h, (bytes, bytearray)):
            out += bytes(h) + CRLF
        else:
            out += f"{h[0]}: {h[1]}\r\n".encode("latin-1")
    if framing == "length":
        out += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    elif framing == "chunked":
        out += b"Transfer-Encoding: chunked\r\n\r\n" + chunk_encode(body, chunks, trailers)
    elif framing in ("close", "none"):
        out += CRLF + body
    else:
        raise ValueError(framing)
    return bytes(out)


def chunk_encode(body, sizes=None, trailers=(), ext=b""):
    """Chunked coding of body; sizes: list of chunk sizes (cycled)."""
    out = bytearray()
    pos = 0
    sizes = list(sizes) if sizes else [max(1, len(body))]
    i = 0
    for _ in range(len(body) + 2):
        if pos >= len(body):
            break
        n = min(sizes[i % len(sizes)], len(body) - pos)
        i += 1
        out += f"{n:x}".encode() + ext + CRLF + body[pos:pos + n] + CRLF
        pos += n
    out += b"0\r\n"
    for t in trailers:
        out += t + CRLF if isinstance(t, bytes) else f"{t[0]}: {t[1]}\r\n".encode()
    out += CRLF
    return bytes(out)


def respond_info(req, ctx):
    """Default responder: 200 whose body names the request and its body."""
    body = (f"{req.method} {req.target} n={len(req.body)} "
            f"sha={req.sha256}").encode("latin-1")
    return http_response(200, body, [("X-Origin-Conn", str(req.conn_index)),
                                     ("X-Origin-Req", str(req.index_in_conn))])


def info_body(method, target, body=b""):
    return (f"{method} {target} n={len(body)} "
            f"sha={hashlib.sha256(body).hexdigest()}").encode("latin-1")


class RawHttpOrigin(Origin):
    """An HTTP/1.1 origin on a raw socket.

    respond(req, ctx) returns the bytes to send (or None if it sent them
    itself through ctx.send); ctx.close = True closes after the reply.
    expect_100: "send" answers `Expect: 100-continue` with a 100 before
    reading the body, "ignore" does not. read_body=False calls respond right
    after the head (the responder may then read or ignore the body).
    Every request received is in .requests (arrival order) and per
    connection in record.requests; the raw bytes of a connection are in
    record.data."""

    def __init__(self, respond=None, host="127.0.0.1", expect_100="send",
                 read_body=True, max_requests=1000, conn_timeout=30.0, **kw):
        self.respond = respond or respond_info
        self.expect_100 = expect_100
        self.read_body = read_body
        self.max_requests = max_requests
        self.requests = []
        self.req_cond = threading.Condition()
        super().__init__(self._handle, host=host, conn_timeout=conn_timeout, **kw)

    @property
    def authority(self):
        """example.test:PORT (example.test is 127.0.0.1 in the hosts file)."""
        if self.host == "127.0.0.1":
            return f"example.test:{self.port}"
        return fmt_hostport(self.host, self.port)

    def url(self, path="/"):
        return f"http://{self.authority}{path}"

    def _handle(self, c, rec, origin):
        rec.requests = []
        rec.close_reason = None
        with self.lock:
            conn_index = self.records.index(rec)
        deadline = time.monotonic() + self.conn_timeout
        reader = _OriginReader(c, rec, self, deadline)
        for i in range(self.max_requests):
            try:
                head = reader.read_until(b"\r\n\r\n", 1 << 20)
            except ValueError as e:
                rec.close_reason = f"bad head: {e}"
                return
            if head is None:
                rec.close_reason = "eof" if not reader.buf else "eof-in-head"
                return
            req = RawRequest(head, conn_index, i)
            rec.requests.append(req)
            with self.req_cond:
                self.requests.append(req)
                self.req_cond.notify_all()
            ctx = OriginCtx(c, rec, self, reader)
            if self.read_body:
                expect = (req.get("expect") or "").lower()
                if self.expect_100 == "send" and expect == "100-continue":
                    ctx.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                if not _origin_read_body(reader, req):
                    rec.close_reason = f"framing: {req.framing_error}"
                    return
            out = self.respond(req, ctx)
            if out:
                ctx.send(out)
            if ctx.close:
                rec.close_reason = "responder"
                try:
                    c.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                # drain briefly so the peer sees FIN, not RST
                for _ in range(100):
                    try:
                        if not _deadline_recv(c, min(deadline, time.monotonic() + 2)):
                            break
                    except (OSError, TimeoutError):
                        break
                return
        rec.close_reason = "max-requests"

    def wait_requests(self, n, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.req_cond:
            for _ in range(100000):
                if len(self.requests) >= n:
                    return list(self.requests)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.req_cond.wait(left)
        raise AssertionError(f"origin got {len(self.requests)} requests, expected {n}: "
                             f"{self.requests!r}")

    def all_bytes(self):
        with self.lock:
            return b"".join(bytes(r.data) for r in self.records)


@pytest.fixture
def raw_http_origin(origin_factory):
    """make(respond=None, host="127.0.0.1", **kw) -> RawHttpOrigin."""
    made = []

    def make(respond=None, host="127.0.0.1", **kw):
        o = RawHttpOrigin(respond, host=host, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


def http_request(method, target, headers=None, body=b"", version="HTTP/1.1",
                 host=True):
    """A request head (+ body). headers: [(name, value)] or raw byte lines.

    host=True adds `Host: <authority of target>` first for an absolute
    target; a string sets it; False/None sends none."""
    out = bytearray(f"{method} {target} {version}\r\n".encode("latin-1"))
    if host is True:
        m = re.match(r"^[a-zA-Z]+://([^/?#]*)", target)
        host = m.group(1) if m else None
    if host:
        out += f"Host: {host}\r\n".encode("latin-1")
    for h in headers or ():
        if isinstance(h, (bytes, bytearray)):
            out += bytes(h) + CRLF
        else:
            out += f"{h[0]}: {h[1]}\r\n".encode("latin-1")
    out += CRLF
    return bytes(out) + body


class HttpResponse:
    def __init__(self, raw_head):
        self.raw_head = raw_head  # including the final CRLFCRLF
        text = raw_head[:-4].decode("latin-1")
        lines = text.split("\r\n")
        self.status_line = lines[0]
        m = re.match(r"^(HTTP/\d\.\d) (\d{3}) ?(.*)$", self.status_line)
        assert m, f"bad status line {self.status_line!r} in {raw_head!r}"
        self.version = m.group(1)
        self.status = int(m.group(2))
        self.reason = m.group(3)
        self.headers = []
        for line in lines[1:]:
            assert ":" in line and "\n" not in line and "\r" not in line, \
                f"bad header line {line!r} in {raw_head!r}"
            k, v = line.split(":", 1)
            assert k == k.strip() and k, f"bad field name in {line!r}"
            self.headers.append((k, v.strip(" \t")))
        self.body = b""
        self.raw_body = b""
        self.framing = None
        self.trailers = []
        self.interim = []   # 1xx responses that came before this one
        self.closed_after = None  # set by HttpClient.read_response(expect_close)

    def get(self, name):
        return _header_get(self.headers, name)

    def values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def names(self):
        return [k.lower() for k, _ in self.headers]

    def connection_tokens(self):
        return _tokens(self.get("connection"))

    @property
    def says_close(self):
        return "close" in self.connection_tokens()

    def __repr__(self):
        return f"HttpResponse({self.raw_head!r}, body={self.body[:300]!r})"


class HttpClient:
    """One client connection to the proxy; reads responses by framing."""

    def __init__(self, addr, timeout=IO_TIMEOUT):
        self.sock = tcp_connect(addr, timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def request(self, method, target, headers=None, body=b"", version="HTTP/1.1",
                host=True):
        self.send(http_request(method, target, headers, body, version, host))

    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timeout reading from proxy; have {bytes(self.buf[:500])!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"timeout reading from proxy; have {bytes(self.buf[:500])!r}")
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _until(self, delim, deadline, limit, what):
        for _ in range(10_000_000):
            i = self.buf.find(delim)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            assert len(self.buf) <= limit, f"{what}: over {limit} bytes: {bytes(self.buf[:300])!r}"
            if not self._fill(deadline):
                raise AssertionError(f"EOF in {what}; have {bytes(self.buf[:500])!r}")
        raise AssertionError("too many iterations")

    def _n(self, n, deadline, what):
        for _ in range(10_000_000):
            if len(self.buf) >= n:
                out = bytes(self.buf[:n])
                del self.buf[:n]
                return out
            if not self._fill(deadline):
                raise AssertionError(f"EOF in {what}: {len(self.buf)} of {n} bytes")
        raise AssertionError("too many iterations")

    def read_response(self, method="GET", timeout=None, skip_1xx=True,
                      client_version="HTTP/1.1"):
        """Read one response (by RFC 9112 §6.3 framing); 1xx other than 101
        are collected in .interim and skipped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        interim = []
        for _ in range(100):
            head = self._until(b"\r\n\r\n", deadline, 1 << 17, "response head")
            r = HttpResponse(head)
            if 100 <= r.status < 200 and r.status != 101 and skip_1xx:
                interim.append(r)
                continue
            r.interim = interim
            break
        else:
            raise AssertionError("more than 100 interim responses")
        te = r.get("transfer-encoding")
        cl = r.get("content-length")
        if method == "HEAD" or 100 <= r.status < 200 or r.status in (204, 304):
            r.framing = "none"
        elif te is not None:
            assert _tokens(te)[-1:] == ["chunked"], f"response TE {te!r}: {r!r}"
            assert cl is None, f"response with both Transfer-Encoding and Content-Length: {r!r}"
            r.framing = "chunked"
            raw = bytearray()
            body = bytearray()
            for _ in range(10_000_000):
                line = self._until(CRLF, deadline, 4096, "chunk-size line")
                raw += line
                size_s = line[:-2].split(b";", 1)[0]
                assert size_s and set(size_s) <= HEX_DIGITS, f"bad chunk line {line!r}"
                size = int(size_s, 16)
                if size == 0:
                    for _ in range(1000):
                        t = self._until(CRLF, deadline, 65536, "trailer")
                        raw += t
                        if t == CRLF:
                            break
                        r.trailers.append(t[:-2].decode("latin-1"))
                    break
                data = self._n(size + 2, deadline, "chunk data")
                assert data[-2:] == CRLF, f"chunk data not followed by CRLF: {data[-10:]!r}"
                raw += data
                body += data[:-2]
            r.raw_body, r.body = bytes(raw), bytes(body)
        elif cl is not None:
            assert re.fullmatch(r"\d+", cl), f"bad Content-Length {cl!r} from the proxy"
            r.framing = "length"
            r.body = r.raw_body = self._n(int(cl), deadline, "response body")
        else:
            r.framing = "close"
            for _ in range(10_000_000):
                if not self._fill(deadline):
                    break
                assert len(self.buf) <= 1 << 28, "close-delimited body too large"
            r.body = r.raw_body = bytes(self.buf)
            self.buf.clear()
            r.closed_after = True
        return r

    def wait_closed(self, timeout=None):
        """True when the proxy closes (EOF/RST) with no further bytes.

        Raises if bytes arrive or it is still open at timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        for _ in range(100000):
            if self.buf:
                raise AssertionError(f"unexpected bytes after the response: {bytes(self.buf[:300])!r}")
            if self.eof:
                return True
            self._fill(deadline)
        raise AssertionError("too many iterations")

    def expect_close(self, r, timeout=None):
        """The proxy closes after r, and r said `Connection: close`."""
        self.wait_closed(timeout)
        assert r.says_close, f"proxy closed after a response without Connection: close: {r!r}"


def assert_upstream(req, method, path, authority, expect_headers=(), via="1.1 sluice",
                    version=None):
    """What the origin received: request line, Host, Via, and the end-to-end
    fields in order.

    expect_headers: [(name, value)] every other field, in order, exactly
    (name case preserved). A `Connection: close` or `Connection: keep-alive`
    that sluice adds for its own upstream connection is tolerated; nothing
    else."""
    assert not req.malformed, f"malformed head reached the origin: {req.malformed} in {req!r}"
    assert b"\n" not in req.raw_head.replace(b"\r\n", b""), f"bare LF upstream: {req!r}"
    assert b"\r" not in req.raw_head.replace(b"\r\n", b""), f"bare CR upstream: {req!r}"
    assert req.method == method, req
    assert req.target == path, f"origin-form target: expected {path!r}, got {req.target!r}"
    if version is None:
        assert req.version == "HTTP/1.1", req
    else:
        assert req.version in version, req
    hosts = req.values("host")
    assert hosts == [authority], f"Host upstream: {hosts!r}, expected {[authority]!r}: {req!r}"
    if via is None:
        assert req.get("via") is None, req
    else:
        assert req.get("via") == via, f"Via upstream {req.get('via')!r}, expected {via!r}: {req!r}"
    rest = []
    for k, v in req.headers:
        lk = k.lower()
        if lk in ("host", "via"):
            continue
        if lk == "connection" and set(_tokens(v)) <= {"close", "keep-alive"}:
            continue
        rest.append((k, v))
    assert rest == list(expect_headers), (
        f"end-to-end fields upstream:\n  got      {rest!r}\n  expected {list(expect_headers)!r}\n"
        f"raw: {req.raw_head!r}")


def no_hop_by_hop(headers, allow=("connection",)):
    """Names of hop-by-hop fields present (the Connection field itself is
    allowed when only close/keep-alive)."""
    bad = []
    names = {k.lower() for k, _ in headers}
    conn = _tokens(_header_get(headers, "connection"))
    for h in HOP_BY_HOP:
        if h in names:
            if h == "connection" and "connection" in allow and set(conn) <= {"close", "keep-alive"}:
                continue
            bad.append(h)
    return bad


@functools.lru_cache(maxsize=None)
def is_asan_binary(path):
    try:
        return b"__asan_init" in Path(path).read_bytes()
    except OSError:
        return False


def raise_nofile(need):
    """Raise RLIMIT_NOFILE of this process (and so of proxies started after)
    to at least need; returns the new soft limit, or None if impossible."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            return None
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return need
