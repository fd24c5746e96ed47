"""Lists given by URL (README "Blocking"; directives `blocklist URL`,
`blocklist-refresh`, `blocklist-cache`): fetched by sluice's reloader thread
with libcurl, kept in the cache directory, refreshed conditionally
(If-None-Match / If-Modified-Since), kept when a fetch fails, loaded from the
cache at start and on SIGHUP.

The lists are served by ListServer below: a small threaded http.server on
127.0.0.1 that records the head of every request it gets and answers each
one from a script the test sets per path (status, body, ETag, Last-Modified,
Location, a delay, or a body cut short). Every proxy gets
blocklist-cache=tmp_path/"cache" (never the default /var/cache/sluice) and
one worker, so that once one request has seen a new set every later one does
(a set is handed to each worker on its own). The names the tests request
all map to 127.0.0.1 through a hosts file written here, so a name wrongly let
through reaches a recording origin instead of failing in DNS.

Waits are polls with a deadline (conftest.wait_for and friends); no test
measures time. Not tested: a list larger than the size bound (it would take
a body of more than a GiB).
"""

import email.utils
import http.server
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import (
    IO_TIMEOUT,
    HttpClient,
    run_sluice,
    wait_for,
)

HOST_NAMES = ("ads.test", "new.test", "other.test", "ok.test")

# Generous: the first fetch happens on the reloader thread right after start
# (also under ASan); a refresh every second needs a few rounds.
FETCH_TIMEOUT = 30.0

LAST_MODIFIED_1 = 1_700_000_000  # 2023-11-14T22:13:20Z
LAST_MODIFIED_2 = 1_700_000_600


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_http_date(value):
    return int(email.utils.parsedate_to_datetime(value).timestamp())


# ------------------------------------------------------------ list server


class Reply:
    """One scripted answer.

    cut: the head promises `Content-Length: len(body) + 4096`, the body is
    sent and the connection closed (after `hold`, an Event, is set, if given:
    the test can look at the cache while the transfer is open)."""

    def __init__(self, status=200, body=b"", etag=None, last_modified=None,
                 location=None, delay=0.0, cut=False, hold=None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.etag = etag
        self.last_modified = last_modified
        self.location = location
        self.delay = delay
        self.cut = cut
        self.hold = hold


class Seen:
    """The head of one request the list server got."""

    def __init__(self, path, headers):
        self.path = path
        self.headers = headers  # [(name, value)] as received

    def get(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    def __repr__(self):
        return f"Seen({self.path!r}, {self.headers!r})"


class _ListHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        srv = self.server
        reply = srv.take(self.path, list(self.headers.items()))
        self.close_connection = True
        if reply is None:
            self.send_response(404 if srv.count() <= srv.max_requests else 503)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        if reply.delay:
            time.sleep(min(reply.delay, IO_TIMEOUT))
        self.send_response(reply.status)
        if reply.etag is not None:
            self.send_header("ETag", reply.etag)
        if reply.last_modified is not None:
            self.send_header("Last-Modified", http_date(reply.last_modified))
        if reply.location is not None:
            self.send_header("Location", reply.location)
        self.send_header("Content-Type", "text/plain")
        if reply.status == 304:
            self.send_header("Connection", "close")
            self.end_headers()
            return
        extra = 4096 if reply.cut else 0
        self.send_header("Content-Length", str(len(reply.body) + extra))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()
        if reply.cut and reply.hold is not None:
            reply.hold.wait(IO_TIMEOUT * 2)

    def log_message(self, *a):
        pass


class ListServer(http.server.ThreadingHTTPServer):
    """Serves scripted replies on 127.0.0.1 and records every request.

    set(path, r1, r2, ...): the n-th request for path gets r_n; the last one
    is repeated. A path with no script gets 404; more than max_requests
    requests in all get 503 (a bound, should sluice loop)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, max_requests=200):
        self.cond = threading.Condition()
        self.requests = []
        self.scripts = {}
        self.max_requests = max_requests
        self.port_holder = None
        super().__init__(("127.0.0.1", 0), _ListHandler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.closed = False

    def finish_request(self, request, client_address):
        request.settimeout(IO_TIMEOUT)
        return super().finish_request(request, client_address)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path, *replies):
        with self.cond:
            self.scripts[path] = list(replies)

    def take(self, path, headers):
        with self.cond:
            self.requests.append(Seen(path, headers))
            self.cond.notify_all()
            if len(self.requests) > self.max_requests:
                return None
            script = self.scripts.get(path)
            if not script:
                return None
            return script.pop(0) if len(script) > 1 else script[0]

    def count(self):
        with self.cond:
            return len(self.requests)

    def seen(self):
        with self.cond:
            return list(self.requests)

    def wait_requests(self, n, timeout=FETCH_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            for _ in range(100000):
                if len(self.requests) >= n:
                    return list(self.requests)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            raise AssertionError(
                f"list server got {len(self.requests)} requests, expected {n} "
                f"within {timeout}s: {self.requests!r}")

    def close(self, hold_port=False):
        """Stop serving. hold_port: keep the port bound but not listening,
        so that a fetch from it is refused (not served by someone else)."""
        if self.closed:
            return
        self.closed = True
        self.shutdown()
        self.server_close()
        self.thread.join(2)
        if hold_port:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", self.port))
                self.port_holder = s
            except OSError:
                s.close()

    def release(self):
        self.close()
        if self.port_holder is not None:
            self.port_holder.close()
            self.port_holder = None


@pytest.fixture
def list_server():
    servers = []

    def make(**kw):
        s = ListServer(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.release()


# ---------------------------------------------------------------- helpers


@pytest.fixture
def url_hosts(tmp_path):
    p = tmp_path / "url-hosts"
    p.write_text("# hosts(5) for tests/integration/test_blocklist_url.py\n"
                 + "".join(f"127.0.0.1 {n}\n" for n in HOST_NAMES))
    return p


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def start(proxy_factory, url_hosts, cache_dir):
    """start(**directives) -> Proxy: one worker, the hosts file above and
    blocklist-cache tmp_path/cache (always: never /var/cache/sluice)."""
    def run(**kw):
        kw.setdefault("hosts_file", str(url_hosts))
        kw.setdefault("workers", "1")
        kw["blocklist_cache"] = str(cache_dir)
        return proxy_factory(**kw)
    return run


def cache_path(cache_dir, url):
    """The cached copy of url (src/proxy/lists.c lists_cache_path): up to 40
    characters of the URL after the scheme, then the FNV-1a hash of it."""
    h = 0xCBF29CE484222325
    for b in url.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    rest = url.split("://", 1)[1][:40]
    name = "".join(c if (c.isascii() and c.isalnum()) or c in ".-" else "_"
                   for c in rest)
    return cache_dir / f"{name}-{h:016x}.list"


def cached_copy(cache_dir, url):
    """Path of the cached copy; checks it is the only list in the cache."""
    p = cache_path(cache_dir, url)
    lists = sorted(cache_dir.glob("*.list"))
    assert lists == [p], f"cache holds {lists!r}, expected [{p}]"
    return p


def tmp_files(cache_dir):
    return sorted(cache_dir.glob("*.tmp")) if cache_dir.exists() else []


def snapshot_file(p):
    st = p.stat()
    return (p.read_bytes(), st.st_mtime_ns, st.st_size)


def status_of(proxy, url):
    with HttpClient(proxy.addr) as c:
        c.request("GET", url)
        return c.read_response().status


def hosts_seen(origin):
    with origin.req_cond:
        return [r.get("host") for r in origin.requests]


def log_lines(proxy, text):
    return [x for x in proxy.stderr().splitlines() if text in x]


def count_log(proxy, text):
    return len(log_lines(proxy, text))


def wait_log(proxy, text, n=1, timeout=FETCH_TIMEOUT):
    wait_for(lambda: count_log(proxy, text) >= n or not proxy.alive(), timeout,
             what=f"{n} x {text!r} in the log")
    assert proxy.alive(), proxy.stderr()
    return log_lines(proxy, text)


def wait_blocked(proxy, url, timeout=FETCH_TIMEOUT):
    wait_for(lambda: status_of(proxy, url) == 403, timeout, interval=0.05,
             what=f"{url} blocked")


@pytest.fixture
def probe(raw_http_origin):
    """An origin only polled until a fetched list is in use: until then the
    name is allowed and reaches it, so the origin a test checks for "no
    connection" is never the one polled."""
    return raw_http_origin()


# ------------------------------------------------------------------ tests


def test_url_list_fetched_at_start(start, list_server, raw_http_origin, probe, cache_dir):
    srv = list_server()
    srv.set("/ads.txt", Reply(body="# ads served by URL\nads.test\n",
                              etag='"v1"', last_modified=LAST_MODIFIED_1))
    url = srv.url("/ads.txt")
    o = raw_http_origin()       # must never hear of ads.test
    alog = cache_dir.parent / "url-access.log"
    p = start(blocklist=url, access_log=str(alog))  # blocklist-refresh: 24h

    warn = log_lines(p, "not fetched yet")
    assert len(warn) == 1, p.stderr()
    assert " warn " in warn[0] and f"blocklist {url}: not fetched yet" in warn[0], warn
    assert str(cache_dir) in warn[0], warn

    # fetched at once (not after blocklist-refresh), then in use
    first = srv.wait_requests(1)[0]
    assert first.path == "/ads.txt", first
    assert first.get("if-none-match") is None, first
    assert first.get("if-modified-since") is None, first
    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    assert f"fetched {url}" in p.stderr()
    assert f"blocklist {url}: 1 loaded, 0 duplicates, 0 local, 0 skipped (2 lines)" \
        in p.stderr(), p.stderr()
    wait_log(p, "reload done", 1)
    assert count_log(p, "reload done") == 1, p.stderr()

    with HttpClient(p.addr) as c:
        c.request("GET", f"http://ads.test:{o.port}/banner.js")
        r = c.read_response()
        assert r.status == 403, r
        assert b"ads.test" in r.body, r
        port = c.sock.getsockname()[1]
    assert status_of(p, f"http://ok.test:{o.port}/fine") == 200
    assert hosts_seen(o) == [f"ok.test:{o.port}"], "ads.test reached the origin"

    ent = p.wait_access_for(port)
    assert ent.target == f"http://ads.test:{o.port}/banner.js", ent
    assert ent.fields.get("status") == "403", ent
    assert ent.fields.get("end") == "blocked", ent
    assert ent.fields.get("rule") == f"{url}:2", ent

    # the copy is on disk, whole, with its ETag and Last-Modified as mtime
    cp = cached_copy(cache_dir, url)
    assert cp.read_bytes() == b"# ads served by URL\nads.test\n"
    assert int(cp.stat().st_mtime) == LAST_MODIFIED_1
    assert cp.with_name(cp.name + ".etag").read_text().strip() == '"v1"'
    assert tmp_files(cache_dir) == []
    assert srv.count() == 1, srv.seen()


def test_refresh_conditional_304_then_new_body(start, list_server, raw_http_origin, probe,
                                               cache_dir):
    srv = list_server()
    body1 = "ads.test\n"
    body2 = "# version 2\nnew.test\n"
    srv.set("/list.txt",
            Reply(body=body1, etag='"v1"', last_modified=LAST_MODIFIED_1),  # 1
            Reply(status=304, etag='"v1"'),                                  # 2
            Reply(status=304, etag='"v1"'),                                  # 3
            Reply(status=304, etag='"v1"'),                                  # 4
            Reply(body=body2, etag='"v2"', last_modified=LAST_MODIFIED_2),  # 5
            Reply(status=304, etag='"v2"'))                                  # 6...
    url = srv.url("/list.txt")
    o = raw_http_origin()
    p = start(blocklist=url, blocklist_refresh="1s")
    ads = f"http://ads.test:{o.port}/"
    new = f"http://new.test:{o.port}/"

    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    assert status_of(p, new) == 200

    # request 4 is sent only after round 3 (and any reload it caused) ended
    seen = srv.wait_requests(4)
    assert count_log(p, "reloading the lists") == 1, p.stderr()
    assert count_log(p, "reload done") == 1, p.stderr()
    assert count_log(p, f"fetched {url}") == 1, p.stderr()
    assert "cannot fetch" not in p.stderr(), p.stderr()
    for req in seen[1:4]:
        assert req.path == "/list.txt", req
        assert req.get("if-none-match") == '"v1"', req
        ims = req.get("if-modified-since")
        assert ims is not None, f"no If-Modified-Since though Last-Modified was sent: {req!r}"
        assert parse_http_date(ims) == LAST_MODIFIED_1, req
    assert status_of(p, ads) == 403
    assert status_of(p, new) == 200

    # request 5: a new body with a new ETag -> the new set
    wait_for(lambda: status_of(p, new) == 403 and status_of(p, ads) == 200,
             FETCH_TIMEOUT, what="new.test blocked and ads.test allowed")
    assert status_of(p, new) == 403
    assert status_of(p, ads) == 200
    wait_log(p, "reload done", 2)
    assert count_log(p, "reload done") == 2, p.stderr()
    cp = cached_copy(cache_dir, url)
    assert cp.read_text() == body2
    assert int(cp.stat().st_mtime) == LAST_MODIFIED_2
    # ads.test reached the origin only once the new set was in use
    seen_hosts = hosts_seen(o)
    first_ads = seen_hosts.index(f"ads.test:{o.port}")
    assert f"new.test:{o.port}" not in seen_hosts[first_ads:], seen_hosts

    # the next refresh asks for the new ETag and Last-Modified
    req = srv.wait_requests(6)[5]
    assert req.get("if-none-match") == '"v2"', req
    assert parse_http_date(req.get("if-modified-since") or "") == LAST_MODIFIED_2, req
    ent = p.wait_access(lambda e: e.target == new and e.fields.get("end") == "blocked")[0]
    assert ent.fields.get("rule") == f"{url}:2", ent


def test_refresh_new_etag_same_last_modified(start, list_server, raw_http_origin, probe,
                                             cache_dir):
    """A server that changes the body and its ETag but not Last-Modified
    (a list regenerated from the same source, or within the same second).
    sluice sends If-None-Match, so the server rightly answers 200 with the
    new body (RFC 9110 13.2.2: If-Modified-Since is ignored when
    If-None-Match is present); the new body is the list."""
    srv = list_server()
    srv.set("/same-lm.txt",
            Reply(body="ads.test\n", etag='"a"', last_modified=LAST_MODIFIED_1),
            Reply(body="new.test\n", etag='"b"', last_modified=LAST_MODIFIED_1),
            Reply(status=304, etag='"b"'))
    url = srv.url("/same-lm.txt")
    o = raw_http_origin()
    p = start(blocklist=url, blocklist_refresh="1s")
    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    seen = srv.wait_requests(3)
    assert seen[1].get("if-none-match") == '"a"', seen[1]
    # the 200 of request 2 was answered before request 3 was sent
    assert status_of(p, f"http://new.test:{o.port}/") == 403, (
        f"the 200 with a new body and ETag was not taken; cached copy: "
        f"{cache_path(cache_dir, url).read_bytes()!r}; request 3: {seen[2]!r}; "
        f"log:\n{p.stderr()}")
    assert status_of(p, f"http://ads.test:{o.port}/") == 200
    assert seen[2].get("if-none-match") == '"b"', seen[2]


def test_restart_without_network_uses_cached_copy(start, list_server, raw_http_origin, probe,
                                                  cache_dir, sluice_bin, tmp_path):
    srv = list_server()
    srv.set("/hosts", Reply(body="# hosts\n0.0.0.0 ads.test other.test\n",
                            etag='"h1"', last_modified=LAST_MODIFIED_1))
    url = srv.url("/hosts")
    o = raw_http_origin()
    p1 = start(blocklist=url)
    wait_blocked(p1, f"http://ads.test:{probe.port}/poll")
    problems = p1.stop()
    assert not problems, problems
    cp = cached_copy(cache_dir, url)
    before = snapshot_file(cp)
    srv.close(hold_port=True)   # the URL now refuses connections
    n_requests = srv.count()

    # --check-config now loads the cached copy: no warning
    conf = tmp_path / "check.conf"
    conf.write_text(f"blocklist {url}\nblocklist-cache {cache_dir}\n")
    cpr = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cpr.returncode == 0, (cpr.stdout, cpr.stderr)
    assert f"sluice: blocklist {url}: 2 loaded, 0 duplicates, 0 local, 0 skipped (2 lines)" \
        in cpr.stdout.splitlines(), cpr.stdout
    assert "not fetched yet" not in cpr.stdout + cpr.stderr

    p2 = start(blocklist=url)
    text = p2.stderr()
    loaded = f"blocklist {url}: 2 loaded"
    assert loaded in text, text
    assert "not fetched yet" not in text, text
    assert text.index(loaded) < text.index("listening on"), text
    # blocked from the very first request
    with HttpClient(p2.addr) as c:
        c.request("GET", f"http://ads.test:{o.port}/first")
        r = c.read_response()
        assert r.status == 403, r
        port = c.sock.getsockname()[1]
    assert status_of(p2, f"http://other.test:{o.port}/") == 403
    assert status_of(p2, f"http://ok.test:{o.port}/") == 200
    ent = p2.wait_access_for(port)
    assert ent.fields.get("rule") == f"{url}:2", ent
    # the fetch at start fails, and the cached copy stays as it was
    lines = wait_log(p2, f"cannot fetch {url}")
    assert " warn " in lines[0], lines
    assert snapshot_file(cp) == before
    assert tmp_files(cache_dir) == []
    assert status_of(p2, f"http://ads.test:{o.port}/after") == 403
    assert srv.count() == n_requests
    assert hosts_seen(o) == [f"ok.test:{o.port}"]


FAILURES = {
    "500": lambda hold: Reply(status=500, body="other.test\n", etag='"e"',
                              last_modified=LAST_MODIFIED_2),
    "cut": lambda hold: Reply(body="other.test\nnew.test\n", etag='"cut"',
                              last_modified=LAST_MODIFIED_2, cut=True, hold=hold),
    "refused": None,
}


@pytest.mark.parametrize("mode", sorted(FAILURES))
def test_failing_fetch_keeps_copy_and_set(mode, start, list_server, raw_http_origin, probe,
                                          cache_dir):
    """A refresh that fails (500 with a list-like body; a body cut short:
    Content-Length larger than what is sent, then close; connection refused)
    keeps the cached copy and the set in use, and logs "cannot fetch".

    Phase 1, a running proxy (refresh 1s) that fetched the list: the failure
    changes nothing. Phase 2, a restart on the cached copy (refresh 24h):
    the fetch at start fails the same way, and the next try is 30 s away
    (src/proxy/reloader.c), so right after "cannot fetch" no fetch is under
    way and the cache must hold no PATH.tmp."""
    srv = list_server()
    good = "ads.test\n"
    hold = threading.Event()
    first = Reply(body=good, etag='"g"', last_modified=LAST_MODIFIED_1)
    if mode == "refused":
        srv.set("/flaky.txt", first, Reply(status=304, etag='"g"'))
    else:
        srv.set("/flaky.txt", first, FAILURES[mode](hold))
    url = srv.url("/flaky.txt")
    o = raw_http_origin()
    ads = f"http://ads.test:{o.port}/"
    other = f"http://other.test:{o.port}/"
    fail_line = f"cannot fetch {url}"

    p = start(blocklist=url, blocklist_refresh="1s")
    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    wait_log(p, "reload done", 1)
    cp = cached_copy(cache_dir, url)
    etag_file = cp.with_name(cp.name + ".etag")
    before = snapshot_file(cp)
    etag_before = etag_file.read_text()
    assert before[0] == good.encode()
    assert etag_before.strip() == '"g"'

    def check_kept(proxy, what, reloads):
        assert snapshot_file(cp) == before, f"{what}: the cached copy changed"
        assert etag_file.read_text() == etag_before, f"{what}: the ETag file changed"
        assert status_of(proxy, ads) == 403, what
        assert status_of(proxy, other) == 200, what
        assert count_log(proxy, "reloading the lists") == reloads, (what, proxy.stderr())
        assert count_log(proxy, "reload done") == reloads, (what, proxy.stderr())
        assert f"fetched {url}" not in proxy.stderr()[proxy.stderr().find(fail_line):], \
            (what, proxy.stderr())

    if mode == "refused":
        srv.close(hold_port=True)
    if mode == "cut":
        # the transfer goes to PATH.tmp, never over the copy
        srv.wait_requests(2)
        tmp = cp.with_name(cp.name + ".tmp")
        wait_for(lambda: tmp.exists(), IO_TIMEOUT, what=f"{tmp} during the transfer")
        assert snapshot_file(cp) == before
        hold.set()
    lines = wait_log(p, fail_line, 1)
    assert " warn " in lines[0], lines
    assert str(cache_dir) in lines[0], lines
    if mode == "500":
        assert "HTTP status 500" in lines[0], lines
    check_kept(p, f"{mode}, running", 1)
    # and once more (the failure is retried, with the same outcome)
    wait_log(p, fail_line, 2)
    check_kept(p, f"{mode}, retried", 1)
    problems = p.stop()
    assert not problems, problems
    assert tmp_files(cache_dir) == [], f"{mode}: .tmp left after stop"
    n_requests = srv.count()

    # phase 2: restart on the cached copy; the fetch at start fails
    p2 = start(blocklist=url)
    assert f"blocklist {url}: 1 loaded" in p2.stderr(), p2.stderr()
    assert status_of(p2, ads) == 403
    lines = wait_log(p2, fail_line, 1)
    assert tmp_files(cache_dir) == [], f"{mode}: .tmp left after the failed fetch"
    check_kept(p2, f"{mode}, after restart", 0)
    if mode == "refused":
        assert srv.count() == n_requests
    else:
        assert srv.count() == n_requests + 1, srv.seen()
        assert srv.seen()[-1].get("if-none-match") == '"g"', srv.seen()[-1]
    assert set(hosts_seen(o)) == {f"other.test:{o.port}"}


def test_redirect_is_followed(start, list_server, raw_http_origin, probe, cache_dir):
    srv = list_server()
    srv.set("/moved.txt", Reply(status=302, location="/real.txt", etag='"r"'))
    srv.set("/real.txt",
            Reply(body="# the real list\n\nads.test\n", etag='"final"',
                  last_modified=LAST_MODIFIED_1),
            Reply(status=304, etag='"final"'))
    url = srv.url("/moved.txt")
    o = raw_http_origin()
    p = start(blocklist=url, blocklist_refresh="1s")
    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    seen = srv.wait_requests(2)
    assert [s.path for s in seen[:2]] == ["/moved.txt", "/real.txt"], seen
    ent = p.wait_access(lambda e: e.fields.get("end") == "blocked")[0]
    assert ent.fields.get("rule") == f"{url}:3", ent  # named by its URL
    cp = cached_copy(cache_dir, url)
    assert cp.read_bytes() == b"# the real list\n\nads.test\n"
    # the ETag kept is the final response's, not the redirect's
    assert cp.with_name(cp.name + ".etag").read_text().strip() == '"final"'
    seen = srv.wait_requests(3)
    assert seen[2].path == "/moved.txt", seen
    assert seen[2].get("if-none-match") == '"final"', seen[2]
    assert status_of(p, f"http://ok.test:{o.port}/") == 200
    assert hosts_seen(o) == [f"ok.test:{o.port}"]


def test_sighup_reloads_cached_copy_without_fetching(start, list_server, raw_http_origin, probe,
                                                     cache_dir):
    srv = list_server()
    srv.set("/hup.txt", Reply(body="ads.test\n", etag='"1"',
                              last_modified=LAST_MODIFIED_1))
    url = srv.url("/hup.txt")
    o = raw_http_origin()
    p = start(blocklist=url)  # blocklist-refresh 24h: no fetch but the first
    ads = f"http://ads.test:{o.port}/"
    other = f"http://other.test:{o.port}/"
    wait_blocked(p, f"http://ads.test:{probe.port}/poll")
    assert srv.count() == 1
    wait_log(p, "reload done", 1)
    assert count_log(p, "reload done") == 1

    # SIGHUP reads the cached copy: change it on disk, and the set follows
    cp = cached_copy(cache_dir, url)
    tmp = cp.with_name("replacement")
    tmp.write_text("# edited in the cache\nother.test\n")
    os.replace(tmp, cp)
    p.send_signal(signal.SIGHUP)
    wait_log(p, "reload done", 2)
    assert count_log(p, "SIGHUP: reloading the config") == 1, p.stderr()
    wait_for(lambda: status_of(p, other) == 403 and status_of(p, ads) == 200,
             IO_TIMEOUT, what="other.test blocked and ads.test allowed")
    assert f"blocklist {url}: 1 loaded, 0 duplicates, 0 local, 0 skipped (2 lines)" \
        in p.stderr(), p.stderr()
    ent = p.wait_access(lambda e: e.target == other and e.fields.get("end") == "blocked")[0]
    assert ent.fields.get("rule") == f"{url}:2", ent
    # the reload is logged after any fetch it would have made: none was
    assert srv.count() == 1, srv.seen()
    assert f"fetched {url}" in p.stderr() and count_log(p, f"fetched {url}") == 1


def test_check_config_url_list_without_cache(sluice_bin, tmp_path, list_server):
    srv = list_server()
    srv.set("/never.txt", Reply(body="ads.test\n"))
    url = srv.url("/never.txt")
    cache = tmp_path / "cache"
    conf = tmp_path / "url.conf"
    conf.write_text(f"# a list by URL, never fetched\nblocklist {url}\n"
                    f"blocklist-cache {cache}\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    out = cp.stdout.splitlines()
    warn = [x for x in out if "not fetched yet" in x]
    assert len(warn) == 1, cp.stdout
    # FILE:LINE first (sluice shortens a long FILE to 80 characters)
    assert warn[0].startswith(f"sluice: warning: {str(conf)[:60]}"), warn
    assert f":2: blocklist {url}: not fetched yet (no copy in {cache})" in warn[0], warn
    assert any(re.match(r"^sluice: blocklists: 0 rules from 0 lists", x) for x in out), cp.stdout
    assert any(x.startswith("sluice: config OK") for x in out), cp.stdout
    assert srv.count() == 0, srv.seen()
    # the same with flags only
    cp = run_sluice(sluice_bin, "--blocklist", url, "--blocklist-cache", cache,
                    "--check-config")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert any("warning:" in x and f"blocklist {url}: not fetched yet" in x
               for x in cp.stdout.splitlines()), cp.stdout
