"""Logs (README "Logs"): the four access-log layouts, what decided each
outcome, hostile bytes kept inside their field, the error log in a file
and on syslog, SIGUSR1 reopening both logs, and the new directives' bad
values.

Each layout is checked field by field on the same run of requests, made
one at a time so that the newest line is always the request just made: a
plain GET forwarded (200), a CONNECT tunnel, a blocked request (its
list:line), a client refused by a deny rule, a CONNECT to a port not
allowed, a destination refused after DNS, an upstream error (a closed
port), an unparsable request, and with auth-file a missing and a wrong
password and a right one (the user is logged).

Syslog is tested without touching the machine's /dev/log: sluice runs in
a mount namespace of its own (unshare -m) where a private directory,
holding the test's datagram socket as "log" and the device nodes sluice
may open, is bind-mounted over /dev. Every wait is bounded; none is a
performance threshold.
"""

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (
    ACCESS_RE,
    FIELD_RE,
    IO_TIMEOUT,
    LISTEN_RE,
    HttpClient,
    closed_port,
    connect_via,
    exchange,
    handler_echo,
    http_response,
    parse_access_lines,
    run_sluice,
    send_raw,
    wait_for,
)

FORMATS = ("sluice", "squid", "combined", "json")

HTPASSWD = shutil.which("htpasswd")
UNSHARE = shutil.which("unshare")

SQUID_TIME_RE = re.compile(r"^\d{10,}\.\d{3}$")
COMBINED_RE = re.compile(
    r'^(?P<client>\S+) - (?P<user>\S+) '
    r'\[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)" '
    r'(?P<decision>\S+)$')

# A request's User-Agent and Referer with every kind of byte a field value
# may carry: quotes, backslashes, a tab, lone bytes that are not UTF-8
# (each becomes one U+FFFD in JSON), and well-formed UTF-8 (kept).
HOSTILE_AGENT = (b'Mozilla/5.0 "quoted" \\back\\ \t tab \xff x \xfe y '
                 b'caf\xc3\xa9 \xe2\x82\xac } {"x":1} \\u0000 end')
HOSTILE_REFERER = b'http://r.test/"a\\b\tc\x80 d'
# a target of printable bytes that mean something in every layout
HOSTILE_PATH = '/q"x\\y\'z%22<a>{b}|^~[c]'


# --------------------------------------------------------------- parsing


def unquote_apache(text):
    """The bytes an Apache-escaped quoted field stands for."""
    out = bytearray()
    i = 0
    raw = text.encode("latin-1")
    while i < len(raw):
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        n = raw[i + 1:i + 2]
        if n == b"x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out += {b'"': b'"', b"\\": b"\\", b"t": b"\t", b"n": b"\n",
                    b"r": b"\r"}[n]
            i += 2
    return bytes(out)


def split_decision(token):
    """"blocked:list:3" -> ("blocked", "list:3"); "allowed" -> (.., None)."""
    word, _, detail = token.partition(":")
    return word, detail or None


def parse_line(fmt, line):
    """A line of layout fmt as a dict of the fields it has (a missing key:
    the layout does not show that field). Fails when the line is not
    well-formed for its layout."""
    if fmt == "sluice":
        m = ACCESS_RE.match(line)
        assert m, f"not a sluice line: {line!r}"
        f = dict(FIELD_RE.findall(m.group("fields")))
        return {
            "client": m.group("client").rsplit(":", 1)[0],
            "method": m.group("method"), "target": m.group("target"),
            "status": int(f["status"]), "bytes_down": int(f["down"]),
            "end": f["end"], "decision": f["decision"],
            "rule": f.get("rule"), "user": f.get("user"),
        }
    if fmt == "squid":
        t = line.split()
        assert len(t) == 11, f"squid line of {len(t)} fields: {line!r}"
        assert SQUID_TIME_RE.match(t[0]), line
        assert t[1].isdigit() and t[4].isdigit(), line
        code, _, status = t[3].partition("/")
        hier, _, server = t[8].partition("/")
        decision, detail = split_decision(t[10])
        return {
            "client": t[2], "code": code, "status": int(status),
            "bytes_sent": int(t[4]), "method": t[5], "target": t[6],
            "user": None if t[7] == "-" else t[7], "hier": hier,
            "server": None if server == "-" else server,
            "content_type": None if t[9] == "-" else t[9],
            "decision": decision, "detail": detail,
        }
    if fmt == "combined":
        m = COMBINED_RE.match(line)
        assert m, f"not a combined line: {line!r}"
        request = unquote_apache(m.group("request")).decode("latin-1")
        method = target = version = None
        if request != "-":
            method, target, version = request.split(" ")
        decision, detail = split_decision(m.group("decision"))
        ref, agent = m.group("referer"), m.group("agent")
        return {
            "client": m.group("client"),
            "user": None if m.group("user") == "-" else m.group("user"),
            "method": method, "target": target, "version": version,
            "status": int(m.group("status")),
            "bytes_down": 0 if m.group("bytes") == "-" else int(m.group("bytes")),
            "referer": None if ref == "-" else unquote_apache(ref),
            "agent": None if agent == "-" else unquote_apache(agent),
            "decision": decision, "detail": detail,
        }
    assert fmt == "json"
    o = json.loads(line)
    keys = {"time", "client", "client_port", "user", "method", "target",
            "version", "status", "bytes_up", "bytes_down", "bytes_sent",
            "duration_ms", "end", "decision", "rule", "server",
            "server_port", "content_type", "referer", "user_agent"}
    assert set(o) == keys, f"JSON keys {sorted(o)}"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["time"]), o
    o["agent"] = o.pop("user_agent")
    return o


def check(fmt, rec, decision, rule=None, end=None, **want):
    """The decision, in each layout's way, and every field of want that
    the layout shows."""
    if fmt in ("sluice", "json"):
        assert rec["decision"] == decision, rec
        assert rec["rule"] == rule, rec
        if end is not None:
            assert rec["end"] == end, rec
    else:
        assert rec["decision"] == decision, rec
        detail = rule if rule is not None else (
            None if decision == "allowed" else end)
        assert rec["detail"] == detail, rec
    for k, v in want.items():
        if k in rec:
            assert rec[k] == v, f"{k}: {rec[k]!r}, expected {v!r} in {rec!r}"


class LogReader:
    """The access log's lines, one new line per request."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.seen = 0

    def lines(self):
        return [x for x in self.proxy.access_text().split("\n") if x]

    def next(self, what="access-log line"):
        got = wait_for(lambda: len(self.lines()) > self.seen, IO_TIMEOUT,
                       what=what)
        assert got
        lines = self.lines()
        assert len(lines) == self.seen + 1, \
            f"one line expected, got {lines[self.seen:]!r}"
        self.seen += 1
        return lines[-1]


def typed_origin(raw_http_origin):
    def respond(req, ctx):
        return http_response(200, b"hello, log\n",
                             [("Content-Type", "text/plain; charset=utf-8")])
    return raw_http_origin(respond)


def bound_socket(proxy, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(IO_TIMEOUT)
    s.bind((source, 0))
    s.connect(proxy.addr)
    return s


# ----------------------------------------------------- every outcome, each layout


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_outcome_field_by_field(fmt, proxy_factory, raw_http_origin,
                                     echo_origin, tmp_path):
    lst = tmp_path / "ads.txt"
    lst.write_text("# ads\nads.example.test\n")
    p = proxy_factory(access_log_format=fmt, blocklist=str(lst),
                      deny="127.0.0.2", allow="127.0.0.0/8",
                      deny_dest="127.0.0.3")
    log = LogReader(p)
    o = typed_origin(raw_http_origin)

    # a plain GET, forwarded
    url = f"http://example.test:{o.port}/page?x=1"
    with HttpClient(p.addr) as c:
        c.request("GET", url, [("Referer", "http://from.test/"),
                               ("User-Agent", "logtest/1.0")])
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello, log\n", r
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "allowed", end="done", client="127.0.0.1", method="GET",
          target=url, status=200, version="HTTP/1.1", bytes_down=11,
          user=None, referer=b"http://from.test/" if fmt == "combined"
          else "http://from.test/",
          agent=b"logtest/1.0" if fmt == "combined" else "logtest/1.0",
          server="127.0.0.1", server_port=o.port, content_type="text/plain",
          code="TCP_MISS", hier="HIER_DIRECT")
    if fmt == "squid":  # bytes sent: the head we wrote, then the body
        assert rec["bytes_sent"] > 11 + len("HTTP/1.1 200 OK\r\n\r\n"), rec
    if fmt == "json":
        assert rec["bytes_sent"] == rec["bytes_down"] + len(r.raw_head), rec

    # a CONNECT tunnel
    sock, status, leftover = connect_via(p, f"127.0.0.1:{echo_origin.port}")
    with sock:
        assert status == 200
        assert exchange(sock, b"ping", initial=leftover) == b"ping"
        sock.shutdown(socket.SHUT_WR)
        sock.recv(16)
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "allowed", end="done", method="CONNECT",
          target=f"127.0.0.1:{echo_origin.port}", status=200,
          bytes_down=4, code="TCP_TUNNEL", hier="HIER_DIRECT",
          server="127.0.0.1", server_port=echo_origin.port,
          content_type=None, referer=None,
          agent=b"sluice-tests" if fmt == "combined" else "sluice-tests")

    # blocked by a list, line 2
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://ads.example.test:{o.port}/banner")
        assert c.read_response().status == 403
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "blocked", rule=f"{lst}:2", end="blocked",
          method="GET", status=403, code="TCP_DENIED", hier="HIER_NONE",
          server=None, content_type="text/html")

    # a client refused by a deny rule (127.0.0.2), before its request
    s = bound_socket(p, "127.0.0.2")
    with s:
        s.sendall(b"GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 403")
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "client-denied", rule="deny:127.0.0.2/32",
          end="client-denied", client="127.0.0.2", status=403,
          code="TCP_DENIED", content_type="text/plain")
    if fmt == "squid":
        assert rec["method"] == "NONE", rec
        assert rec["target"] == "error:transaction-end-before-headers", rec
    if fmt in ("json", "combined"):
        assert rec["method"] is None and rec["target"] is None, rec

    # CONNECT to a port connect-ports does not allow
    r = send_raw(p, b"CONNECT example.test:25 HTTP/1.1\r\n"
                    b"Host: example.test:25\r\n\r\n")
    assert r.status == 403
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "port-denied", rule="connect-ports", end="port-denied",
          method="CONNECT", target="example.test:25", status=403,
          code="TCP_DENIED")

    # a destination deny-dest refuses (after DNS, on the address)
    with HttpClient(p.addr) as c:
        c.request("GET", f"http://127.0.0.3:{o.port}/")
        assert c.read_response().status == 403
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "dest-denied", rule="deny-dest:127.0.0.3/32",
          end="dest-denied", status=403, code="TCP_DENIED")

    # an upstream error: nothing listens there
    closed = closed_port()
    with closed:
        port = closed.getsockname()[1]
        with HttpClient(p.addr) as c:
            c.request("GET", f"http://127.0.0.1:{port}/x")
            assert c.read_response().status == 502
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "upstream-error", rule="ECONNREFUSED",
          end="connect-failed", target=f"http://127.0.0.1:{port}/x",
          status=502, code="TCP_MISS", hier="HIER_NONE", server=None)

    # a request that does not parse
    r = send_raw(p, b"GET http://example.test/\x01 HTTP/1.1\r\n\r\n")
    assert r.status == 400
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "bad-request", end="bad-request", status=400,
          code="NONE_NONE")
    if fmt == "squid":
        assert (rec["method"], rec["target"]) == \
            ("NONE", "error:invalid-request"), rec
    p.stop()


@pytest.mark.skipif(HTPASSWD is None, reason="needs htpasswd (apache2-utils)")
@pytest.mark.parametrize("fmt", FORMATS)
def test_auth_failures_and_the_user(fmt, proxy_factory, raw_http_origin,
                                    tmp_path):
    cp = subprocess.run([HTPASSWD, "-n", "-b", "-B", "-C", "4", "alice",
                         "wonderland"], capture_output=True, text=True,
                        timeout=60, check=True)
    users = tmp_path / "users"
    users.write_text(cp.stdout.strip().splitlines()[0] + "\n")
    p = proxy_factory(access_log_format=fmt, auth_file=str(users))
    log = LogReader(p)
    o = typed_origin(raw_http_origin)
    url = f"http://example.test:{o.port}/"

    def basic(pw):
        t = base64.b64encode(f"alice:{pw}".encode()).decode()
        return [("Proxy-Authorization", "Basic " + t)]

    for headers, status, decision, rule in (
            ([], 407, "auth-failed", "no-credentials"),
            ([("Proxy-Authorization", "Bearer abc")], 407, "auth-failed",
             "not-basic"),
            (basic("wrong"), 407, "auth-failed", "bad-credentials"),
            (basic("wonderland"), 200, "allowed", None)):
        with HttpClient(p.addr) as c:
            c.request("GET", url, headers)
            assert c.read_response().status == status
        rec = parse_line(fmt, log.next())
        user = "alice" if status == 200 else None
        check(fmt, rec, decision, rule=rule,
              end="auth-required" if status == 407 else "done",
              status=status, user=user,
              code="TCP_DENIED" if status == 407 else "TCP_MISS")
    p.stop()


# ------------------------------------------------------------ hostile bytes


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_bytes_stay_inside_their_field(fmt, proxy_factory,
                                               raw_http_origin):
    p = proxy_factory(access_log_format=fmt)
    log = LogReader(p)
    o = typed_origin(raw_http_origin)
    url = f"http://example.test:{o.port}{HOSTILE_PATH}"
    with HttpClient(p.addr) as c:
        c.send(b"GET " + url.encode() + b" HTTP/1.1\r\n"
               b"Host: example.test:" + str(o.port).encode() + b"\r\n"
               b"User-Agent: " + HOSTILE_AGENT + b"\r\n"
               b"Referer: " + HOSTILE_REFERER + b"\r\n\r\n")
        assert c.read_response().status == 200
    line = log.next()
    assert "\n" not in line and "\r" not in line
    rec = parse_line(fmt, line)
    check(fmt, rec, "allowed", end="done", target=url, status=200)
    if fmt == "json":
        # each byte that is not UTF-8 is one U+FFFD; the rest as sent
        assert rec["agent"] == HOSTILE_AGENT.decode("utf-8", "replace"), rec
        assert rec["referer"] == HOSTILE_REFERER.decode("utf-8", "replace")
    if fmt == "combined":
        assert rec["agent"] == HOSTILE_AGENT, rec
        assert rec["referer"] == HOSTILE_REFERER, rec
        assert rec["method"] == "GET" and rec["version"] == "HTTP/1.1"

    # control bytes and bytes that are not UTF-8 in the target: refused,
    # and still one well-formed line
    r = send_raw(p, b'GET http://example.test/"\x01\xff\\ HTTP/1.1\r\n'
                    b"User-Agent: " + HOSTILE_AGENT + b"\r\n\r\n")
    assert r.status == 400
    rec = parse_line(fmt, log.next())
    check(fmt, rec, "bad-request", end="bad-request", status=400)
    p.stop()


# ------------------------------------------------------------ SIGUSR1


def wait_reopened(proxy, text_fn, count):
    wait_for(lambda: text_fn().count("SIGUSR1: log files reopened") >= count,
             IO_TIMEOUT, what="SIGUSR1 handled")


def test_sigusr1_reopens_the_access_log_nothing_lost(proxy_factory,
                                                     raw_http_origin,
                                                     tmp_path):
    alog = tmp_path / "access.log"
    p = proxy_factory(access_log=str(alog), access_log_format="json")
    o = typed_origin(raw_http_origin)
    done = threading.Event()
    sent = []
    errors = []

    def traffic():
        try:
            for i in range(10000):
                if done.is_set() and i >= 40:
                    return
                path = f"/r{i}"
                with HttpClient(p.addr) as c:
                    c.request("GET", f"http://example.test:{o.port}{path}")
                    assert c.read_response().status == 200
                sent.append(path)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    wait_for(lambda: len(sent) >= 20, IO_TIMEOUT * 3, what="traffic")
    rotated = tmp_path / "access.log.1"
    os.rename(alog, rotated)  # logrotate's move, then its postrotate
    p.send_signal(signal.SIGUSR1)
    wait_reopened(p, p.stderr, 1)
    mark = len(sent)
    wait_for(lambda: len(sent) >= mark + 20, IO_TIMEOUT * 3, what="traffic")
    done.set()
    t.join(IO_TIMEOUT * 6)
    assert not t.is_alive() and not errors, errors

    def targets(path):
        text = path.read_text() if path.exists() else ""
        return [json.loads(x)["target"].rsplit("/", 1)[1]
                for x in text.split("\n") if x]

    wait_for(lambda: len(targets(alog)) + len(targets(rotated)) >= len(sent),
             IO_TIMEOUT, what="every line")
    old, new = targets(rotated), targets(alog)
    want = [s.lstrip("/") for s in sent]
    assert sorted(old + new) == sorted(want), (old, new)  # once each
    assert old and new, (old, new)
    # everything after the reopen went to the new file
    assert set(want[mark:]) <= set(new), (want[mark:], new)
    assert oct(alog.stat().st_mode & 0o777) == "0o640"
    p.stop()


def start_logging_to(proxy_factory, error_log, **kw):
    """A proxy whose error log is a file: its port is read from there."""
    p = proxy_factory(error_log=str(error_log), wait_listen=False, **kw)
    text = wait_for(lambda: error_log.exists() and
                    LISTEN_RE.search(error_log.read_text()) and
                    error_log.read_text(), IO_TIMEOUT * 2,
                    what="listening on, in the error log")
    m = LISTEN_RE.search(text)
    p.addrs = [(m.group(1), int(m.group(2)))]
    return p


def test_error_log_file_and_sigusr1(proxy_factory, tmp_path, echo_origin):
    elog = tmp_path / "error.log"
    p = start_logging_to(proxy_factory, elog)
    assert "listening on" not in p.stderr()
    text = elog.read_text()
    assert re.search(r"^\d{4}-\d\d-\d\dT[\d:.]+Z info sluice \S+ starting$",
                     text, re.M), text
    rotated = tmp_path / "error.log.1"
    os.rename(elog, rotated)
    p.send_signal(signal.SIGUSR1)
    wait_for(lambda: elog.exists() and
             "SIGUSR1: log files reopened" in elog.read_text(), IO_TIMEOUT,
             what="the new error log")
    assert "listening on" in rotated.read_text()
    assert "reopened" not in rotated.read_text()
    p.stop()
    assert "stopped" in elog.read_text()
    assert "stopped" not in rotated.read_text()


def test_a_failed_reopen_keeps_the_old_file(proxy_factory, raw_http_origin,
                                            tmp_path):
    alog = tmp_path / "access.log"
    p = proxy_factory(access_log=str(alog))
    o = typed_origin(raw_http_origin)

    def get(path):
        with HttpClient(p.addr) as c:
            c.request("GET", f"http://example.test:{o.port}{path}")
            assert c.read_response().status == 200

    get("/before")
    wait_for(lambda: "/before" in alog.read_text(), IO_TIMEOUT)
    rotated = tmp_path / "access.log.1"
    os.rename(alog, rotated)
    alog.mkdir()  # the path cannot be opened for writing now
    p.send_signal(signal.SIGUSR1)
    wait_reopened(p, p.stderr, 1)
    assert "cannot reopen the access log: Is a directory; still writing " \
           "to the old file" in p.stderr()
    get("/during")
    wait_for(lambda: "/during" in rotated.read_text(), IO_TIMEOUT)
    alog.rmdir()
    p.send_signal(signal.SIGUSR1)
    wait_reopened(p, p.stderr, 2)
    get("/after")
    wait_for(lambda: alog.exists() and "/after" in alog.read_text(),
             IO_TIMEOUT)
    assert "/after" not in rotated.read_text()
    p.stop()


# ------------------------------------------------------------ syslog

SYSLOG_RE = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "
                       rb"sluice\[(\d+)\]: (.*)$", re.S)


@pytest.mark.skipif(UNSHARE is None or os.geteuid() != 0,
                    reason="needs unshare(1) and root for a mount namespace")
def test_error_log_to_syslog(proxy_factory, raw_http_origin, tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(dev / "log"))
    rx.settimeout(0.2)
    msgs = []

    def received():
        for _ in range(1000):
            try:
                msgs.append(rx.recv(65536))
            except (socket.timeout, BlockingIOError):
                break
        return msgs

    # in sluice's own mount namespace only: /dev is the private directory
    script = ("set -e; for n in null zero full random urandom; do "
              f": > {shlex.quote(str(dev))}/$n; "
              f"mount --bind /dev/$n {shlex.quote(str(dev))}/$n; done; "
              f"mount --bind {shlex.quote(str(dev))} /dev; exec \"$@\"")
    prefix = [UNSHARE, "-m", "--propagation", "private", "sh", "-c", script,
              "sh"]
    probe = subprocess.run(prefix + ["true"], capture_output=True,
                           timeout=30)
    if probe.returncode != 0:
        rx.close()
        pytest.skip(f"no mount namespace here: {probe.stderr!r}")
    alog = tmp_path / "access.log"
    p = proxy_factory(error_log="syslog", prefix=prefix, wait_listen=False,
                      access_log=str(alog))
    try:
        def listening():
            for m in received():
                g = SYSLOG_RE.match(m)
                if g and LISTEN_RE.search(g.group(3).decode()):
                    return g
            return None
        g = wait_for(listening, IO_TIMEOUT * 2, what="listening on, by syslog")
        # daemon facility (3) * 8 + info (6); the PID is sluice's
        assert int(g.group(1)) == 3 * 8 + 6 and int(g.group(2)) == p.pid, g
        m = LISTEN_RE.search(g.group(3).decode())
        p.addrs = [(m.group(1), int(m.group(2)))]
        assert p.stderr() == "" or "listening on" not in p.stderr()

        # an error: the access log cannot be reopened (err = 3)
        os.rename(alog, tmp_path / "access.log.1")
        alog.mkdir()
        p.send_signal(signal.SIGUSR1)

        def error_seen():
            return [m for m in received() if SYSLOG_RE.match(m) and
                    b"cannot reopen the access log" in m]
        e = wait_for(error_seen, IO_TIMEOUT, what="the error, by syslog")
        assert int(SYSLOG_RE.match(e[0]).group(1)) == 3 * 8 + 3, e
        # the proxy works on
        o = typed_origin(raw_http_origin)
        with HttpClient(p.addr) as c:
            c.request("GET", f"http://example.test:{o.port}/")
            assert c.read_response().status == 200
        assert p.stop() == []
    finally:
        p.stop()
        rx.close()


# ------------------------------------------------------------ directives


@pytest.mark.parametrize("line", [
    "access-log-format apache",
    "access-log-format JSON",
    "access-log-format",
    "error-log off",
    "error-log none",
    "error-log",
])
def test_bad_values_name_file_and_line(sluice_bin, tmp_path, line):
    cfg = tmp_path / "bad.conf"
    cfg.write_text(f"# a comment\nlisten 127.0.0.1:0\n{line}\n")
    for extra in (["--check-config"], []):
        cp = run_sluice(sluice_bin, "-c", cfg, *extra)
        assert cp.returncode == 2, cp.stderr
        assert f"{cfg}:3:" in cp.stderr, cp.stderr
        assert "listening on" not in cp.stderr


def test_bad_flag_and_unopenable_error_log(sluice_bin, tmp_path):
    cp = run_sluice(sluice_bin, "--access-log-format", "xml",
                    "--check-config")
    assert cp.returncode == 2 and "access-log-format" in cp.stderr, cp.stderr
    missing = tmp_path / "no-such-dir" / "error.log"
    cp = run_sluice(sluice_bin, "--listen", "127.0.0.1:0", "--error-log",
                    missing)
    assert cp.returncode == 2, cp.stderr
    assert f"error-log: cannot open {missing}" in cp.stderr, cp.stderr


def test_good_values_accepted(sluice_bin, tmp_path):
    for fmt in FORMATS:
        for dest in ("stderr", "syslog", str(tmp_path / "e.log")):
            cp = run_sluice(sluice_bin, "--access-log-format", fmt,
                            "--error-log", dest, "--check-config")
            assert cp.returncode == 0, (fmt, dest, cp.stderr)
