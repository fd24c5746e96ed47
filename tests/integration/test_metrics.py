"""The admin endpoint (README "Metrics and health"): /metrics in the
Prometheus text format, /healthz, /readyz and the status page at /.

Every figure is checked against traffic the test itself made: a tunnel, a
blocked request, a DNS failure. The exposition is read twice: by a strict
parser written here (one TYPE and HELP per family, before its samples,
families contiguous, no duplicate series, escaped label values, counters
named *_total) and by prometheus_client's own parser (Debian's
python3-prometheus-client)."""

import math
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from conftest import (
    IO_TIMEOUT,
    connect_via,
    exchange,
    read_reply,
    tcp_connect,
    wait_for,
)

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Exposition:
    """A strict reading of the text format, version 0.0.4."""

    def __init__(self, text):
        assert text.endswith("\n"), "the exposition must end with a newline"
        self.types, self.helps, self.samples = {}, {}, {}
        order = []  # families in the order their lines appear
        for n, line in enumerate(text.split("\n")[:-1], 1):
            assert line == line.strip() and line, f"line {n}: {line!r}"
            if line.startswith("# HELP "):
                name, _, help_ = line[7:].partition(" ")
                assert NAME_RE.match(name), f"line {n}: bad name {name!r}"
                assert name not in self.helps, f"line {n}: second HELP for {name}"
                assert help_, f"line {n}: empty HELP"
                self.helps[name] = help_
                self._enter(order, name, n)
                continue
            if line.startswith("# TYPE "):
                name, _, type_ = line[7:].partition(" ")
                assert type_ in TYPES, f"line {n}: type {type_!r}"
                assert name not in self.types, f"line {n}: second TYPE for {name}"
                assert name not in self.samples, f"line {n}: TYPE after samples"
                self.types[name] = type_
                self._enter(order, name, n)
                continue
            assert not line.startswith("#"), f"line {n}: stray comment {line!r}"
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)\Z", line)
            assert m, f"line {n}: not a sample: {line!r}"
            name, labels_text, value = m.groups()
            assert name in self.types, f"line {n}: {name} has no TYPE before it"
            self._enter(order, name, n)
            labels = ()
            if labels_text:
                inner = labels_text[1:-1]
                pairs = LABEL_RE.findall(inner)
                rebuilt = ",".join(f'{k}="{v}"' for k, v in pairs)
                assert rebuilt == inner, f"line {n}: bad labels {labels_text!r}"
                keys = [k for k, _ in pairs]
                assert len(set(keys)) == len(keys), f"line {n}: repeated label"
                labels = tuple(sorted((k, unescape(v)) for k, v in pairs))
            v = float(value)
            assert not math.isnan(v), f"line {n}: NaN"
            if self.types[name] == "counter":
                assert name.endswith("_total"), f"{name}: a counter ends in _total"
                assert v >= 0, f"line {n}: negative counter"
            series = self.samples.setdefault(name, {})
            assert labels not in series, f"line {n}: duplicate series"
            series[labels] = v
        for name in self.types:
            assert name in self.helps, f"{name}: no HELP"

    @staticmethod
    def _enter(order, name, n):
        if not order or order[-1] != name:
            assert name not in order, f"line {n}: family {name} is split"
            order.append(name)

    def get(self, name, **labels):
        key = tuple(sorted(labels.items()))
        return self.samples[name][key]


def unescape(v):
    return v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def http_get(url, method="GET", timeout=IO_TIMEOUT):
    """(status, headers, body) -- no proxy, whatever the environment says."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, method=method)
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def scrape(p):
    status, headers, body = http_get(p.admin_url + "metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    ex = Exposition(text)
    # and the reference parser agrees on every sample
    from prometheus_client.parser import text_string_to_metric_families
    n = sum(len(f.samples) for f in text_string_to_metric_families(text))
    assert n == sum(len(s) for s in ex.samples.values())
    return ex


def admin_raw(p, data, timeout=IO_TIMEOUT):
    host, port = p.admin_url[len("http://"):-1].rsplit(":", 1)
    with tcp_connect((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        return read_reply(s, timeout=timeout)


@pytest.fixture
def blocklist(tmp_path):
    p = tmp_path / "ads.txt"
    p.write_text("# test list\nads.example\n")
    return p


def test_metrics_follow_real_traffic(proxy_factory, echo_origin, blocklist):
    p = proxy_factory(blocklist=str(blocklist))
    assert p.admin_url is not None, p.stderr()
    before = scrape(p)
    assert before.get("sluice_build_info", version="0.1.0") == 1
    assert before.get("sluice_ready") == 1
    assert before.get("sluice_workers") == 2
    assert before.get("sluice_config_generation") == 1
    assert before.get("sluice_blocklist_rules") == 1
    assert before.get("sluice_tunnels_opened_total") == 0

    # a tunnel that moves 1000 bytes each way
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        assert exchange(sock, b"x" * 1000, initial=leftover) == b"x" * 1000
        mid = scrape(p)
        assert mid.get("sluice_tunnels_active") == 1
        assert mid.get("sluice_connections_active") >= 1
    # a CONNECT to a blocked name, and a GET for one
    sock, status, _ = connect_via(p, "ads.example:443")
    sock.close()
    assert status == 403
    with tcp_connect(p.addr) as s:
        s.sendall(b"GET http://www.ads.example/x HTTP/1.1\r\nHost: www.ads.example\r\n"
                  b"Connection: close\r\n\r\n")
        assert read_reply(s).head.status == 403
    # a name the DNS server does not know (the test resolver: NXDOMAIN)
    sock, status, _ = connect_via(p, "nowhere.invalid:443")
    sock.close()
    assert status == 502

    def settled():
        ex = scrape(p)
        return ex if ex.get("sluice_connections_active") == 0 else None
    after = wait_for(settled, IO_TIMEOUT, what="every connection closed")
    d = lambda name, **kw: after.get(name, **kw) - before.get(name, **kw)
    assert d("sluice_connections_accepted_total") == 4
    assert d("sluice_tunnels_opened_total") == 1
    assert after.get("sluice_tunnels_active") == 0
    assert d("sluice_tunnels_failed_total", reason="blocked") == 1
    assert d("sluice_tunnels_failed_total", reason="dns") == 1
    assert d("sluice_requests_total", method="CONNECT", **{"class": "2xx"}) == 1
    assert d("sluice_requests_total", method="CONNECT", **{"class": "4xx"}) == 1
    assert d("sluice_requests_total", method="CONNECT", **{"class": "5xx"}) == 1
    assert d("sluice_requests_total", method="GET", **{"class": "4xx"}) == 1
    assert after.get("sluice_blocked_total", list=str(blocklist)) == 2
    assert d("sluice_bytes_total", direction="up") == 1000
    assert d("sluice_bytes_total", direction="down") == 1000
    assert d("sluice_dns_failures_total", kind="no-name") == 1
    assert d("sluice_dns_lookups_total") >= 1
    assert d("sluice_dns_queries_total") >= 1
    assert d("sluice_reloads_total", result="success") == 0

    # the page for people names the blocked ones, newest first
    status, headers, body = http_get(p.admin_url)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert '<meta http-equiv="refresh"' in page
    assert page.index("www.ads.example") < page.index("<th>ads.example</th>")
    assert f"{blocklist}:2" in page


def test_forwarded_requests_and_pool_reuse_are_counted(proxy_factory, raw_http_origin):
    p = proxy_factory()
    o = raw_http_origin()
    before = scrape(p)
    with tcp_connect(p.addr) as s:
        for i in range(3):
            s.sendall(f"GET http://127.0.0.1:{o.port}/{i} HTTP/1.1\r\n"
                      f"Host: 127.0.0.1:{o.port}\r\n\r\n".encode())
            assert read_reply(s).head.status == 200
    after = wait_for(lambda: (lambda e: e if e.get("sluice_connections_active") == 0
                              else None)(scrape(p)), IO_TIMEOUT, what="closed")
    d = lambda name, **kw: after.get(name, **kw) - before.get(name, **kw)
    assert d("sluice_requests_total", method="GET", **{"class": "2xx"}) == 3
    assert d("sluice_upstream_pool_reused_total") == 2
    assert d("sluice_upstream_pool_kept_total") >= 2
    assert d("sluice_bytes_total", direction="down") > 0


def test_refused_connections_are_counted_by_reason(proxy_factory):
    p = proxy_factory(deny="127.0.0.2", allow="all")
    with tcp_connect(p.addr) as s:  # from 127.0.0.1: let in
        pass
    s = socket.create_connection(p.addr, timeout=IO_TIMEOUT,
                                 source_address=("127.0.0.2", 0))
    with s:
        assert read_reply(s).head.status == 403
    ex = wait_for(lambda: (lambda e: e if e.get("sluice_connections_active") == 0
                           else None)(scrape(p)), IO_TIMEOUT, what="closed")
    assert ex.get("sluice_connections_refused_total", reason="client-denied") == 1
    assert ex.get("sluice_connections_refused_total", reason="over-limit") == 0


def test_health_and_readiness(proxy_factory, echo_origin):
    p = proxy_factory(shutdown_grace="10s")
    assert http_get(p.admin_url + "healthz") [::2] == (200, b"ok\n")
    assert http_get(p.admin_url + "readyz")[::2] == (200, b"ready\n")
    status, headers, body = http_get(p.admin_url + "readyz", method="HEAD")
    assert (status, body) == (200, b"")
    # draining: alive, but no longer ready, while a tunnel finishes
    sock, status, leftover = connect_via(p, echo_origin.target)
    with sock:
        assert status == 200
        p.send_signal(signal.SIGTERM)
        wait_for(lambda: http_get(p.admin_url + "readyz")[0] == 503, IO_TIMEOUT,
                 what="readyz 503 while draining")
        assert http_get(p.admin_url + "readyz")[2] == b"draining\n"
        assert http_get(p.admin_url + "healthz")[0] == 200
        ex = scrape(p)
        assert ex.get("sluice_draining") == 1 and ex.get("sluice_ready") == 0
        assert exchange(sock, b"still", initial=leftover) == b"still"
    assert p.wait(IO_TIMEOUT * 2) == 0


def test_admin_answers_bad_requests_and_keeps_serving(proxy_factory):
    p = proxy_factory()
    assert admin_raw(p, b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n").head.status == 405
    assert admin_raw(p, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").head.status == 404
    assert admin_raw(p, b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").head.status == 200
    assert admin_raw(p, b"GET / HTTP/1.1\nHost: x\n\n").head.status == 400
    assert admin_raw(p, b"\x00\x01\x02 garbage\r\n\r\n").head.status == 400
    big = b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"
    assert admin_raw(p, big).head.status in (400, 414, 431)
    # more connections than the admin keeps: the extra ones are closed,
    # and once they go, it serves again
    idle = [tcp_connect((p.admin_url[7:-1].rsplit(":", 1)[0],
                         int(p.admin_url[7:-1].rsplit(":", 1)[1])))
            for _ in range(40)]
    try:
        time.sleep(0.2)
    finally:
        for s in idle:
            s.close()
    wait_for(lambda: http_get(p.admin_url + "healthz")[0] == 200, IO_TIMEOUT,
             what="the admin endpoint serving again")
    # and the proxy itself never noticed
    assert scrape(p).get("sluice_connections_accepted_total") == 0
    assert p.alive()


def test_admin_off_and_taken_port(proxy_factory, sluice_bin, tmp_path):
    p = proxy_factory(admin="off")
    assert p.admin_url is None
    assert "admin endpoint" not in p.stderr()
    # a port someone else holds: a clear error, exit 1
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    with holder:
        cp = subprocess.run([str(sluice_bin), "--listen", "127.0.0.1:0", "--admin",
                             f"127.0.0.1:{port}", "--blocklist", "none"],
                            capture_output=True, text=True, timeout=30)
    assert cp.returncode == 1, cp.stderr
    assert f"admin 127.0.0.1:{port}: cannot listen: Address already in use" in cp.stderr


def test_second_instance_cannot_take_the_same_ports(proxy_factory, sluice_bin):
    """A second sluice started by mistake on the ports of a running one
    must fail, not silently share them: the workers' listening sockets use
    SO_REUSEPORT, which lets any process of the same user join the group,
    and the kernel would then split connections (and scrapes of /metrics)
    between the two instances."""
    first = proxy_factory()
    admin_port = int(first.admin_url.rstrip("/").rsplit(":", 1)[1])
    # the same admin port, a free proxy port
    cp = subprocess.run([str(sluice_bin), "--listen", "127.0.0.1:0", "--admin",
                         f"127.0.0.1:{admin_port}", "--blocklist", "none"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 1, cp.stderr
    assert f"admin 127.0.0.1:{admin_port}: cannot listen: Address already in use" \
        in cp.stderr
    # the same proxy port, the admin endpoint off
    cp = subprocess.run([str(sluice_bin), "--listen", f"127.0.0.1:{first.port}",
                         "--admin", "off", "--blocklist", "none"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 1, cp.stderr
    assert "Address already in use" in cp.stderr, cp.stderr
    # the first one still serves its admin endpoint
    assert http_get(first.admin_url + "healthz")[0] == 200


@pytest.mark.parametrize("value", ["nowhere", "127.0.0.1", "1.2.3.4:99999", ""])
def test_admin_bad_value_names_the_line(sluice_bin, tmp_path, value):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"# a comment\nadmin {value}\n")
    cp = subprocess.run([str(sluice_bin), "-c", str(conf), "--check-config"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 2, cp.stdout + cp.stderr
    assert f"{conf}:2" in cp.stderr


# ------------------------------------------------------------- the page


def png_pixels(path):
    """(width, height, set of distinct RGB(A) pixels) of an 8-bit PNG,
    with the standard library alone: zlib and the five row filters."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 4):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return width, height, colours


def test_status_page_renders_in_chromium(proxy_factory, blocklist, tmp_path):
    from test_browser import chromium_env, find_chromium, reap_leftovers
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium binary (apt-get install chromium)")
    p = proxy_factory(blocklist=str(blocklist))
    with tcp_connect(p.addr) as s:
        s.sendall(b"GET http://ads.example/ HTTP/1.1\r\nHost: ads.example\r\n\r\n")
        assert read_reply(s).head.status == 403
    home = tmp_path / "chromium-home"
    home.mkdir()
    shot = tmp_path / "page.png"
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", f"--user-data-dir={home / 'profile'}",
         "--no-proxy-server", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--disable-breakpad", "--no-first-run", "--no-default-browser-check",
         "--hide-scrollbars", "--window-size=1000,800",
         f"--screenshot={shot}", p.admin_url],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=chromium_env(home), cwd=str(tmp_path), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        reap_leftovers(proc.pid, str(home))
    assert shot.exists(), err.decode("utf-8", "replace")[-3000:]
    width, height, colours = png_pixels(shot)
    assert (width, height) == (1000, 800)
    # text, a green "ready" badge and a white-ish page: many colours, and
    # the badge's green among them
    assert len(colours) > 20, f"a blank page? {len(colours)} colours"
    assert any(c[1] > 100 and c[1] > c[0] + 40 and c[1] > c[2] + 40 for c in colours), \
        "no green 'ready' badge in the screenshot"


def test_label_values_are_escaped(proxy_factory, tmp_path):
    """A list whose path holds a quote and a backslash still gives a
    well-formed exposition, and the label reads back as the path."""
    odd = tmp_path / 'we"ird\\list.txt'
    odd.write_text("ads.example\n")
    p = proxy_factory(blocklist=str(odd))
    with tcp_connect(p.addr) as s:
        s.sendall(b"GET http://ads.example/ HTTP/1.1\r\nHost: ads.example\r\n\r\n")
        assert read_reply(s).head.status == 403
    ex = wait_for(lambda: (lambda e: e if e.samples.get("sluice_blocked_total") else None)(
        scrape(p)), IO_TIMEOUT, what="the blocked request counted")
    assert ex.get("sluice_blocked_total", list=str(odd)) == 1
    page = http_get(p.admin_url)[2].decode()
    assert "we&quot;ird\\list.txt" in page


def test_admin_on_every_address_is_warned_about(proxy_factory):
    p = proxy_factory(admin="*:0")
    assert "can be reached from other networks, and it asks no password" in p.stderr()
    q = proxy_factory()  # loopback: no warning
    assert "asks no password" not in q.stderr()
