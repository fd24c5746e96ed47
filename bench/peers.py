"""Origins and proxies for bench/bench.py (standard library only).

  - origins: Nginx (plain and TLS ports; /small, and sparse /1g, /256m and
    /64m) and Sink (bench/sink.py, which holds connections silently);
  - proxies: Sluice, Squid, TrafficServer, Tinyproxy, Privoxy, each writing
    its own config in a private directory, listening on a free loopback
    port, configured alike (no cache, no access log, connection limits
    >= 20000, CONNECT to every port); start() waits until a request through
    it is answered, and verify() checks GET, CONNECT+TLS, CONNECT to a
    plain port and CONNECT to the sink before anything is measured;
  - Relay: bench/relay.c, built at run time, a blind TCP relay run and
    checked like a proxy: the floor under them, a reference, not a peer.

Every daemon is a child of the harness (procs.Procs), with its config, pid
file and logs under the run's mktemp directory; no system service is
touched.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from procs import (BENCH_DIR, CLK_TCK, NOFILE, BenchError, Procs, free_port,
                   run, tree_cpu_ticks, tree_rss_kb, wait_for_line)

PYTHON = "/usr/bin/python3"
CONN_LIMIT = 20000  # connection limit given to every proxy (>= 20000)
SMALL_BYTES = 1024  # /small on the origin
GIB = 1 << 30
# sparse files on the origin
BIG_FILES = {"1g": GIB, "256m": GIB // 4, "64m": GIB // 16}


# --- HTTP checks ------------------------------------------------------------------

def curl(url, proxy=None, tunnel=False, timeout=10, insecure=True):
    """(HTTP status, bytes received) of a GET with curl, through proxy
    (an absolute-form GET, or CONNECT with tunnel=True or an https URL).
    Status 0: no answer."""
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
            "--connect-timeout", "3", "--max-time", str(timeout)]
    if insecure:
        argv.append("-k")
    if proxy:
        argv += ["-x", proxy]
    if tunnel:
        argv.append("-p")
    argv.append(url)
    try:
        r = run(argv, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return 0, 0
    try:
        code, size = r.stdout.split()
        return int(code), int(size)
    except ValueError:
        return 0, 0


def connect_status(proxy_port: int, host: str, port: int, timeout=5.0):
    """Open one CONNECT tunnel by hand; return (status, socket) — the
    socket is left open on 200, for the caller to close."""
    s = socket.create_connection(("127.0.0.1", proxy_port), timeout=timeout)
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
              .encode())
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 16384:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    status = int(m.group(1)) if m else 0
    if status != 200:
        s.close()
        return status, None
    return status, s


# --- origins --------------------------------------------------------------------------

class Nginx:
    """The origin: nginx in the foreground (master + 1 worker) on a plain
    and a TLS loopback port, serving /small (1 KiB), /64m, /256m and /1g
    (sparse files: no disk), with a self-signed P-256 certificate made at
    run time."""

    def __init__(self, procs: Procs, work: Path):
        self.procs, self.dir = procs, work / "nginx"
        self.child = None
        self.port = self.tls_port = 0

    def start(self) -> None:
        d = self.dir
        www = d / "www"
        www.mkdir(parents=True)
        (www / "small").write_bytes(b"s" * (SMALL_BYTES - 1) + b"\n")
        for name, size in BIG_FILES.items():
            with open(www / name, "wb") as f:
                f.truncate(size)  # sparse: reads as zeros, costs no disk
            warm_page_cache(www / name)
        r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=127.0.0.1", "-keyout", str(d / "key.pem"),
                 "-out", str(d / "cert.pem")])
        if r.returncode != 0:
            raise BenchError(f"openssl req failed: {r.stderr}")
        for p in [d, www] + list(www.iterdir()) + [d / "cert.pem"]:
            p.chmod(0o755 if p.is_dir() else 0o644)  # the worker is not root
        self.port, self.tls_port = free_port(), free_port()
        conf = f"""
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile {NOFILE};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {CONN_LIMIT}; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 3600s;
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {www};
    }}
    server {{
        listen 127.0.0.1:{self.tls_port} ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        root {www};
    }}
}}
"""
        (d / "tmp").mkdir()
        (d / "nginx.conf").write_text(conf)
        self.child = self.procs.spawn(
            "nginx", ["nginx", "-p", str(d), "-e", str(d / "error.log"),
                      "-c", str(d / "nginx.conf")], d / "stderr")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not self.child.alive():
                break
            if (curl(self.url("small"), timeout=2) == (200, SMALL_BYTES) and
                    curl(self.tls_url("small"), timeout=2) == (200, SMALL_BYTES)):
                return
            time.sleep(0.1)
        raise BenchError("nginx did not serve /small on both ports:\n"
                         + self.child.log_tail()
                         + "\n" + _tail(d / "error.log"))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}/{path}"


def warm_page_cache(path: Path) -> None:
    """Read a file once, so its (zero) pages are in the page cache before
    anything is timed: the first read of a sparse file allocates them and
    runs at a fraction of the speed of the later ones."""
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


class Sink:
    """The idle-tunnel origin: bench/sink.py holds every connection."""

    def __init__(self, procs: Procs, work: Path):
        self.procs, self.work = procs, work
        self.child = None
        self.port = 0
        self.starts = 0

    def start(self) -> None:
        """Start a fresh sink (a new port, no connection held)."""
        self.stop()
        self.starts += 1
        d = self.work / f"sink-{self.starts}"
        d.mkdir()
        self.child = self.procs.spawn(
            "sink", [PYTHON, str(BENCH_DIR / "sink.py"), "0"], d / "stdout")
        m = wait_for_line(self.child, r"listening on 127\.0\.0\.1:(\d+)", 10)
        self.port = int(m.group(1))

    def stop(self) -> None:
        if self.child is not None:
            self.procs.stop(self.child)
            self.child = None


def _tail(path: Path, n=10) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return ""
    return "\n".join("  | " + s for s in lines)


# --- proxies --------------------------------------------------------------------

class Proxy:
    """A proxy under test. Subclasses write their config in setup() and
    return the argv that runs the proxy in the foreground."""

    name = ""  # the target's name on the command line
    display = ""  # the product name in tables
    commands = ()  # commands it needs installed
    scenarios = None  # the scenarios of 1-4 it runs in (None: all)
    ready_timeout = 60.0

    def __init__(self, procs: Procs, work: Path, origin: Nginx, sink: Sink):
        self.procs, self.work, self.origin, self.sink = procs, work, origin, sink
        self.child = None
        self.port = 0
        self.starts = 0
        self.ready_s = None

    # Subclass hooks ------------------------------------------------------
    def setup(self, d: Path, port: int) -> list:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def logs(self, d: Path) -> list:
        """Files worth showing when the proxy fails."""
        return []

    # Life cycle ------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start a fresh instance on a new free port, and wait until a GET
        through it is answered with 200."""
        self.starts += 1
        d = self.work / f"{self.name}-{self.starts}"
        d.mkdir()
        self.dir = d
        self.port = free_port()
        argv = self.setup(d, self.port)
        t0 = time.monotonic()
        self.child = self.procs.spawn(self.name, argv, d / "stderr", cwd=d)
        deadline = t0 + self.ready_timeout
        while time.monotonic() < deadline:
            if not self.child.alive():
                raise BenchError(f"{self.name} exited while starting "
                                 f"(status {self.child.popen.returncode}):\n"
                                 + self.failure_logs())
            code, _ = curl(self.origin.url("small"), proxy=self.proxy_url,
                           timeout=3)
            if code == 200:
                self.ready_s = time.monotonic() - t0
                return
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready in {self.ready_timeout} s:\n"
                         + self.failure_logs())

    def stop(self) -> None:
        if self.child is not None:
            self.procs.stop(self.child)
            self.child = None

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def failure_logs(self) -> str:
        parts = [self.child.log_tail()] if self.child else []
        for p in self.logs(self.dir):
            t = _tail(p)
            if t:
                parts.append(f"  {p.name}:\n{t}")
        return "\n".join(parts)

    def verify(self) -> None:
        """GET, CONNECT + TLS, CONNECT to a plain port and CONNECT to the
        sink must all work through the proxy, or the run stops here."""
        o, want = self.origin, (200, SMALL_BYTES)
        checks = {
            "GET http (absolute-form)": curl(o.url("small"), proxy=self.proxy_url),
            "CONNECT + TLS GET": curl(o.tls_url("small"), proxy=self.proxy_url),
            "CONNECT to the plain port": curl(o.url("small"), proxy=self.proxy_url,
                                              tunnel=True),
        }
        bad = {k: v for k, v in checks.items() if v != want}
        try:
            status, s = connect_status(self.port, "127.0.0.1", self.sink.port)
            if s:
                s.close()
        except OSError as e:
            status = f"error {e}"
        if status != 200:
            bad["CONNECT to the sink"] = status
        if bad:
            raise BenchError(
                f"{self.name} fails its checks (want status/bytes {want}): "
                + "; ".join(f"{k}: {v}" for k, v in bad.items()) + "\n"
                + self.failure_logs())

    # Measures of the running process tree -----------------------------------
    def cpu_s(self) -> float:
        return tree_cpu_ticks(self.pid) / CLK_TCK

    def rss_kb(self) -> int:
        return tree_rss_kb(self.pid)


class Sluice(Proxy):
    name, display = "sluice", "sluice"
    commands = ()

    def __init__(self, *a, binary: str, blocklist: str = "none", **kw):
        super().__init__(*a, **kw)
        self.binary = binary
        self.blocklist = blocklist

    def setup(self, d, port):
        # Default workers (0: one per CPU); max-connections 0 is no limit;
        # no admin endpoint: scenario 6 runs two instances side by side,
        # and the default admin port can be held by only one of them.
        return [self.binary, "--listen", f"127.0.0.1:{port}", "--admin", "off",
                "--access-log", "off", "--connect-ports", "1-65535",
                "--log-level", "warn", "--blocklist", self.blocklist,
                "--max-connections", "0"]

    def version(self):
        r = run([self.binary, "--version"])
        return (r.stdout or r.stderr).strip().splitlines()[0]


class Squid(Proxy):
    name, display = "squid", "Squid"
    commands = ("squid",)

    def setup(self, d, port):
        # Debian's defaults where they matter (workers 1), no cache, no
        # logs, every port allowed for CONNECT and GET, 64k descriptors.
        (d / "squid.conf").write_text(f"""
http_port 127.0.0.1:{port}
workers 1
max_filedescriptors {NOFILE}
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log none
cache_store_log none
coredump_dir {d}
netdb_filename none
cache deny all
cache_mem 0 MB
visible_hostname sluice-bench
pinger_enable off
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
acl SSL_ports port 1-65535
acl Safe_ports port 1-65535
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
""")
        # Squid's kid runs as user proxy and writes its logs here.
        shutil.chown(d, "proxy", "proxy")
        return ["squid", "--foreground", "-f", str(d / "squid.conf")]

    def version(self):
        out = run(["squid", "-v"]).stdout
        m = re.search(r"Version (\S+)", out)
        return f"Squid {m.group(1)}" if m else "Squid ?"

    def logs(self, d):
        return [d / "cache.log"]


class TrafficServer(Proxy):
    """Apache Traffic Server run as traffic_server alone (no
    traffic_manager) from a private runroot: its own sysconfdir (a copy of
    /etc/trafficserver with our records.config, an empty storage.config
    and remap.config), its own run, log and state directories."""

    name, display = "ats", "Traffic Server"
    commands = ("traffic_server",)
    user = "trafficserver"  # Debian's, as the packaged service runs it

    def setup(self, d, port):
        etc = d / "etc"
        shutil.copytree("/etc/trafficserver", etc)
        for sub in ("var", "run", "log", "cache", "data"):
            (d / sub).mkdir()
        for name in ("storage.config", "remap.config", "plugin.config"):
            (etc / name).write_text("")  # no cache storage, no remaps, no plugins
        (etc / "ip_allow.yaml").write_text(
            "ip_allow:\n"
            "  - apply: in\n"
            "    ip_addrs: 127.0.0.1\n"
            "    action: allow\n"
            "    methods: ALL\n")
        # Built-in defaults for everything else: the thread count comes
        # from exec_thread.autoconfig (one per CPU).
        (etc / "records.config").write_text(f"""\
CONFIG proxy.config.http.server_ports STRING {port}:ipv4:ip-in=127.0.0.1
CONFIG proxy.config.http.cache.http INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 0
CONFIG proxy.config.url_remap.remap_required INT 0
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.http.connect_ports STRING 1-65535
CONFIG proxy.config.net.connections_throttle INT {CONN_LIMIT + 10000}
CONFIG proxy.config.net.max_connections_in INT {CONN_LIMIT + 10000}
CONFIG proxy.config.http.transaction_no_activity_timeout_in INT 600
CONFIG proxy.config.http.transaction_no_activity_timeout_out INT 600
CONFIG proxy.config.admin.user_id STRING {self.user}
CONFIG proxy.config.diags.debug.enabled INT 0
""")
        (d / "runroot.yaml").write_text("".join(f"{k}: {v}\n" for k, v in (
            ("prefix", "/usr"), ("exec_prefix", "/usr"), ("bindir", "/usr/bin"),
            ("sbindir", "/usr/sbin"), ("sysconfdir", etc),
            ("datadir", d / "data"), ("includedir", "/usr/include"),
            ("libdir", "/usr/lib/trafficserver"),
            ("libexecdir", "/usr/lib/trafficserver/modules"),
            ("localstatedir", d / "var"), ("runtimedir", d / "run"),
            ("logdir", d / "log"), ("cachedir", d / "cache"))))
        for p in [d] + list(d.rglob("*")):
            shutil.chown(p, self.user, self.user)
        return ["traffic_server", f"--run-root={d / 'runroot.yaml'}"]

    def version(self):
        out = run(["traffic_server", "-V"]).stdout
        m = re.search(r"Traffic Server (\S+)", out)
        return f"Traffic Server {m.group(1)}" if m else "Traffic Server ?"

    def logs(self, d):
        return [d / "log" / "diags.log", d / "log" / "error.log"]


class Tinyproxy(Proxy):
    name, display = "tinyproxy", "tinyproxy"
    commands = ("tinyproxy",)

    def setup(self, d, port):
        # No ConnectPort line: CONNECT may reach every port (the Debian
        # config's 443/563 lines are what restricts it).
        (d / "tinyproxy.conf").write_text(f"""
Port {port}
Listen 127.0.0.1
Timeout 600
MaxClients {CONN_LIMIT}
PidFile "{d}/tinyproxy.pid"
LogFile "{d}/tinyproxy.log"
LogLevel Error
Allow 127.0.0.1
""")
        return ["tinyproxy", "-d", "-c", str(d / "tinyproxy.conf")]

    def version(self):
        r = run(["tinyproxy", "-v"])
        return (r.stdout or r.stderr).strip().splitlines()[0]

    def logs(self, d):
        return [d / "tinyproxy.log"]


class Privoxy(Proxy):
    name, display = "privoxy", "Privoxy"
    commands = ("privoxy",)

    def setup(self, d, port):
        # No actionsfile or filterfile: no default filters or actions, so
        # Privoxy is measured as a proxy. No limit-connect action: CONNECT
        # may reach every port.
        (d / "config").write_text(f"""
confdir /etc/privoxy
templdir /etc/privoxy/templates
logdir {d}
logfile privoxy.log
listen-address 127.0.0.1:{port}
toggle 1
enable-remote-toggle 0
enable-remote-http-toggle 0
enable-edit-actions 0
enforce-blocks 0
buffer-limit 4096
keep-alive-timeout 60
connection-sharing 1
socket-timeout 600
max-client-connections {CONN_LIMIT}
""")
        return ["privoxy", "--no-daemon", "--pidfile", str(d / "privoxy.pid"),
                str(d / "config")]

    def version(self):
        out = run(["privoxy", "--version"]).stdout
        m = re.search(r"version (\S+)", out)
        return f"Privoxy {m.group(1)}" if m else "Privoxy ?"

    def logs(self, d):
        return [d / "privoxy.log"]


class Relay(Proxy):
    """bench/relay.c, the floor: a blind TCP relay that pairs each client
    with one loopback connection (to the CONNECT line's port, answered 200,
    or else to nginx's plain port, the request passed on unread) and copies
    bytes both ways with recv and send. It parses nothing, so what it costs
    per request is what the kernel charges any proxy for two loopback
    connections on this machine. A reference beside direct, not a peer:
    report.py never counts it as the best peer."""

    name, display = "relay", "blind relay (floor)"
    commands = ("gcc",)  # built from source at run time
    source = BENCH_DIR / "relay.c"

    def build(self) -> Path:
        """Compile the source into the run's work directory, once a run."""
        binary = self.work / self.source.stem
        if not binary.exists():
            r = run(["gcc", "-O2", "-pthread", "-o", str(binary), str(self.source)],
                    timeout=120)
            if r.returncode != 0:
                raise BenchError(f"gcc could not build {self.source}:\n"
                                 + r.stderr[-2000:])
        return binary

    def setup(self, d, port):
        # One thread per CPU, like the proxies' defaults. Every check of
        # verify() applies as it is: the GET is forwarded unread to nginx,
        # which takes the absolute-form; the CONNECTs reach the TLS port,
        # the plain port and the sink by the port in their line.
        return [str(self.build()), str(port), str(self.origin.port),
                str(os.cpu_count() or 1)]

    def version(self):
        v = run(["gcc", "-dumpfullversion"]).stdout.strip() or "?"
        what = self.display.replace(" (floor)", "")
        return f"{what} (bench/{self.source.name}, gcc {v} -O2)"


class SpliceRelay(Relay):
    """bench/relay_splice.c, the floor for bulk: a blind relay that routes
    as Relay does but moves the bytes with blocking splice(2) through
    1 MiB pipes, a thread per direction, with no epoll at all: what it
    costs per GiB is the least a splicing proxy costs on this machine, and
    its MB/s what such a proxy leaves curl and nginx of the CPUs. Run in
    scenarios 3 and 4 only: a thread per connection is no floor for small
    exchanges. A reference, like Relay."""

    name, display = "splice", "splicing relay (floor)"
    source = BENCH_DIR / "relay_splice.c"
    scenarios = ("3", "4")

    def setup(self, d, port):
        return [str(self.build()), str(port), str(self.origin.port)]


# Every target the harness starts, in the order of every round: the
# references first, beside direct, then sluice and its peers.
PROXIES = {cls.name: cls for cls in (Relay, SpliceRelay, Sluice, Squid,
                                     TrafficServer, Tinyproxy, Privoxy)}
TARGETS = ["direct"] + list(PROXIES)
# Measured beside the proxies, never their peers (the two relays are the
# floors report.check_targets reads some goals against).
REFERENCES = ("direct", "relay", "splice")


def runs_in(target: str, num: str) -> bool:
    """Whether target takes part in scenario num (1-4)."""
    cls = PROXIES.get(target)
    return cls is None or cls.scenarios is None or num in cls.scenarios
