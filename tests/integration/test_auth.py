"""Basic proxy authentication end to end (README "Access control" -> "Who
they are", the auth-file and auth-realm directives, 407 and 429 in the
table of refusals, end=auth-required / auth-throttled in the access log).

The users are made by the real tools: `htpasswd -B` (bcrypt, at the lowest
cost, -C 4, to keep the tests quick), `mkpasswd -m sha-512` and
`mkpasswd -m sha-256`; `htpasswd -m` makes a weak ($apr1$) line. They need
Debian's apache2-utils (htpasswd) and whois (mkpasswd); without them every
test here is skipped, saying so.

Every test checks both sides where it matters: what the client got, and
what the origin saw (a challenged request never reaches it; an accepted one
reaches it without Proxy-Authorization). "The origin saw nothing" is checked
without sleeping, as in test_blocking.py: an accepted request follows the
refused ones, and the origin must have received exactly the accepted ones.

Failed logins count against the client's address (ten within a minute, then
429), so tests that fail on purpose keep under ten per address, or use a
second loopback address: 127.0.0.0/8 is routed on lo by Linux, so a client
socket bound to 127.0.0.2 before connecting is another client. Every wait
is bounded; none is a performance threshold.
"""

import base64
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import (
    IO_TIMEOUT,
    HttpClient,
    chunk_encode,
    connect_via_full,
    exchange,
    handler_echo,
    info_body,
    recv_exact,
    run_curl,
    run_sluice,
    wait_closed as wait_closed_sock,
    wait_for,
)

HTPASSWD = shutil.which("htpasswd")
MKPASSWD = shutil.which("mkpasswd")

pytestmark = pytest.mark.skipif(
    HTPASSWD is None or MKPASSWD is None,
    reason="needs htpasswd (Debian package apache2-utils) and mkpasswd "
           "(Debian package whois)")

CHALLENGE = 'Basic realm="sluice", charset="UTF-8"'

# user -> (password, how its hash is made)
USERS = {
    "alice": ("wonderland", "bcrypt"),
    "bob": ("builder", "sha-512"),
    "carol": ("c4rol's pass", "sha-256"),
    "dave": ("open: sesame", "bcrypt"),   # ':' and a space in the password
}
WEAK = {
    "mallory": ("trudy", "apr1"),          # htpasswd -m: MD5, skipped
}


def make_hash(user, password, kind):
    """The htpasswd line for user, made by the tool that makes it."""
    if kind in ("bcrypt", "apr1"):
        flag = ["-B", "-C", "4"] if kind == "bcrypt" else ["-m"]
        cp = subprocess.run([HTPASSWD, "-n", "-b", *flag, user, password],
                            stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=60, check=True)
        line = cp.stdout.strip().splitlines()[0]
        assert line.startswith(user + ":"), cp.stdout
        return line
    cp = subprocess.run([MKPASSWD, "-m", kind, password],
                        stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, timeout=60, check=True)
    h = cp.stdout.strip()
    assert h.startswith({"sha-512": "$6$", "sha-256": "$5$"}[kind]), h
    return f"{user}:{h}"


@pytest.fixture(scope="module")
def lines():
    """user -> its htpasswd line, for USERS and WEAK."""
    out = {u: make_hash(u, pw, kind) for u, (pw, kind) in USERS.items()}
    out.update({u: make_hash(u, pw, kind) for u, (pw, kind) in WEAK.items()})
    assert out["alice"].split(":", 1)[1].startswith("$2y$04$"), out["alice"]
    assert out["mallory"].split(":", 1)[1].startswith("$apr1$"), out["mallory"]
    return out


def write_users(path, lines, users, extra=()):
    """Writes the file (atomically: a reload never sees half of it)."""
    text = "# users of tests/integration/test_auth.py\n"
    text += "".join(lines[u] + "\n" for u in users)
    text += "".join(x + "\n" for x in extra)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


@pytest.fixture
def start(proxy_factory, tmp_path, lines):
    """start(users=..., extra=(), **directives) -> (proxy, auth-file path)."""
    n = [0]

    def run(users=tuple(USERS), extra=(), **kw):
        n[0] += 1
        path = write_users(tmp_path / f"users{n[0]}", lines, users, extra)
        kw.setdefault("auth_file", str(path))
        return proxy_factory(**kw), path
    return run


def token(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def creds(user, password=None):
    """The Proxy-Authorization field for user (its right password unless
    another is given)."""
    if password is None:
        password = USERS[user][0]
    return ("Proxy-Authorization", "Basic " + token(user, password))


class BoundClient(HttpClient):
    """HttpClient from a chosen loopback source address (127.0.0.2 ...)."""

    def __init__(self, addr, source, timeout=IO_TIMEOUT):  # noqa: D107
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            s.bind((source, 0))
            s.connect(addr)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            s.close()
            raise
        self.sock = s
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.reset = False


def client(proxy, source=None):
    return HttpClient(proxy.addr) if source is None else BoundClient(proxy.addr, source)


def request(proxy, url, headers=(), method="GET", body=b"", source=None):
    """One request on a fresh connection; returns the response (the
    connection is closed)."""
    with client(proxy, source) as c:
        c.request(method, url, list(headers), body)
        return c.read_response(method)


def assert_challenge(r, realm_header=CHALLENGE, close=False):
    assert r.status == 407, r
    assert r.values("proxy-authenticate") == [realm_header], r
    assert (r.get("content-type") or "").lower().startswith("text/plain"), r
    assert r.framing == "length" and r.body.startswith(b"sluice: "), r
    if close:
        assert r.says_close, f"a 407 that closes must say so: {r!r}"
    else:
        assert not r.says_close, f"a 407 to a bodiless request keeps the connection: {r!r}"


def requests_seen(origin):
    with origin.req_cond:
        return list(origin.requests)


def assert_no_credentials_upstream(origin, *secrets):
    """The origin's raw bytes hold no Proxy-Authorization and no secret."""
    raw = origin.all_bytes()
    assert b"proxy-authorization" not in raw.lower(), raw[:2000]
    for s in secrets:
        assert s.encode() not in raw, (s, raw[:2000])


def connect(proxy, target, headers=(), extra=b""):
    """CONNECT with headers -> (sock, head, leftover)."""
    hs = [("Host", target), *headers]
    return connect_via_full(proxy, target, extra=extra, headers=hs)


def reload_count(proxy):
    return proxy.stderr().count("reload done")


# ------------------------------------------------------------ challenge


def test_get_without_credentials_is_challenged(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    url = o.url("/private")
    with HttpClient(p.addr) as c:
        c.request("GET", url)
        r = c.read_response()
    assert_challenge(r)
    assert r.body == b"sluice: proxy authentication required\n", r
    e = p.wait_access(lambda x: x.fields.get("status") == "407")[0]
    assert e.method == "GET" and e.target == url, e
    assert e.fields.get("end") == "auth-required", e
    # the challenged request never reached the origin; an accepted one does
    r = request(p, o.url("/ok"), [creds("alice")])
    assert r.status == 200 and r.body == info_body("GET", "/ok"), r
    assert [x.target for x in requests_seen(o)] == ["/ok"]


def test_connect_without_credentials_is_challenged_and_closed(start, origin_factory):
    p, _ = start()
    echo = origin_factory(handler_echo)
    # bytes after the CONNECT head would be tunnel data: after a 407 they
    # must be neither relayed nor read as a request
    early = f"GET http://example.test:{echo.port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sock, head, leftover = connect(p, echo.target, extra=early)
    with sock:
        rest = leftover + wait_closed_sock(sock)
    assert head.status == 407, head
    assert head.headers.get("proxy-authenticate") == CHALLENGE, head
    assert "close" in head.headers.get("connection", "").lower(), head
    n = int(head.headers["content-length"])
    assert len(rest) == n and rest.startswith(b"sluice: "), \
        f"after the 407 body, more bytes came: {rest!r}"
    e = p.wait_access(lambda x: x.method == "CONNECT")[0]
    assert e.fields.get("status") == "407" and e.fields.get("end") == "auth-required", e
    # an authorized CONNECT is the first connection the target sees
    sock, head, leftover = connect(p, echo.target, [creds("bob")])
    with sock:
        assert head.status == 200, head
        assert exchange(sock, b"through", initial=leftover) == b"through"
    assert len(echo.records) == 1, "the refused CONNECT reached the target"


def test_auth_realm_names_the_challenge(start, raw_http_origin, origin_factory):
    p, _ = start(auth_realm="Staff Only")
    o = raw_http_origin()
    want = 'Basic realm="Staff Only", charset="UTF-8"'
    assert_challenge(request(p, o.url("/")), realm_header=want)
    echo = origin_factory(handler_echo)
    sock, head, _ = connect(p, echo.target)
    sock.close()
    assert head.status == 407 and head.headers.get("proxy-authenticate") == want, head


def test_wrong_credentials_are_challenged(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    wrong = [
        creds("alice", "wrong"),
        creds("alice", ""),
        creds("alice", "Wonderland"),          # the password's case counts
        creds("alice", "wonderland "),
        ("Proxy-Authorization", "Basic " + token("Alice", "wonderland")),  # the user's too
        ("Proxy-Authorization", "Basic " + token("nobody", "wonderland")),
        creds("bob", USERS["alice"][0]),        # another user's password
        ("Proxy-Authorization", "Bearer " + token("alice", "wonderland")),
        ("Proxy-Authorization", "Basic " + token("alice", "wonderland")[:-1]),
        ("Proxy-Authorization",                 # no user
         "Basic " + base64.b64encode(b":wonderland").decode()),
    ]
    for i, h in enumerate(wrong):
        r = request(p, o.url(f"/wrong{i}"), [h])
        assert_challenge(r)
    ents = p.wait_access(lambda x: x.fields.get("status") == "407", count=len(wrong))
    assert all(x.fields.get("end") == "auth-required" for x in ents), ents
    # none of them reached the origin
    r = request(p, o.url("/right"), [creds("alice")])
    assert r.status == 200, r
    assert [x.target for x in requests_seen(o)] == ["/right"]


# ------------------------------------------------------------ accepted


@pytest.mark.parametrize("user", list(USERS), ids=[
    "bcrypt", "sha512-crypt", "sha256-crypt", "bcrypt-colon-in-password"])
def test_each_hash_kind_is_served(start, raw_http_origin, origin_factory, user):
    p, _ = start()
    o = raw_http_origin()
    pw = USERS[user][0]
    with HttpClient(p.addr) as c:
        # verified on the verifier thread, then remembered: both answered
        for path in ("/first", "/cached"):
            c.request("GET", o.url(path), [creds(user)])
            r = c.read_response()
            assert r.status == 200 and r.body == info_body("GET", path), r
    echo = origin_factory(handler_echo)
    sock, head, leftover = connect(p, echo.target, [creds(user)])
    with sock:
        assert head.status == 200, head
        assert exchange(sock, b"tunnel bytes", initial=leftover) == b"tunnel bytes"
    assert [x.target for x in requests_seen(o)] == ["/first", "/cached"]
    assert_no_credentials_upstream(o, token(user, pw), pw)
    assert echo.records[0].data == b"tunnel bytes", echo.records[0].data
    ents = p.wait_access(lambda x: x.fields.get("status") in ("200",), count=3)
    assert all(x.fields.get("end") != "auth-required" for x in ents), ents


def test_origin_never_sees_proxy_authorization(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    tok = token("carol", USERS["carol"][0])
    spellings = ["Proxy-Authorization", "proxy-authorization", "PROXY-AUTHORIZATION"]
    with HttpClient(p.addr) as c:
        for i, name in enumerate(spellings):
            c.request("GET", o.url(f"/g{i}"),
                      [("Accept", "*/*"), (name, "Basic " + tok), ("X-After", "1")])
            r = c.read_response()
            assert r.status == 200, r
        # with a body, and the field named in Connection too
        c.request("POST", o.url("/post"),
                  [("Connection", "Proxy-Authorization"),
                   ("Proxy-Authorization", "Basic " + tok),
                   ("Content-Type", "text/plain"), ("Content-Length", "7")],
                  body=b"payload")
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("POST", "/post", b"payload"), r
    seen = requests_seen(o)
    assert [x.target for x in seen] == ["/g0", "/g1", "/g2", "/post"]
    for x in seen:
        assert "proxy-authorization" not in x.names(), x
    assert seen[0].get("x-after") == "1" and seen[0].get("accept") == "*/*", seen[0]
    assert seen[3].body == b"payload", seen[3]
    assert_no_credentials_upstream(o, tok, USERS["carol"][0])


# ------------------------------------------------------------ the connection after a 407


def test_retry_with_credentials_on_the_same_connection(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/a"))
        r = c.read_response()
        assert_challenge(r)
        assert (r.get("connection") or "").lower() == "keep-alive", r
        c.request("GET", o.url("/a"), [creds("alice")])
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/a"), r
        # pipelined: a bare request and its retry in one write
        c.send(b"".join([
            f"GET {o.url('/b')} HTTP/1.1\r\nHost: {o.authority}\r\n\r\n".encode(),
            f"GET {o.url('/b')} HTTP/1.1\r\nHost: {o.authority}\r\n"
            f"{creds('bob')[0]}: {creds('bob')[1]}\r\n\r\n".encode(),
        ]))
        assert_challenge(c.read_response())
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/b"), r
    assert [x.target for x in requests_seen(o)] == ["/a", "/b"]
    ents = p.wait_access(lambda x: x.target.endswith(("/a", "/b")), count=4)
    assert [x.fields.get("status") for x in ents] == ["407", "200", "407", "200"], ents


def test_head_challenge_has_no_body(start, raw_http_origin):
    """RFC 9110 §9.3.2: no content in a response to HEAD. The 407 keeps the
    connection, so a body after it would be read as the next response."""
    p, _ = start()
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("HEAD", o.url("/h"))
        r = c.read_response("HEAD")
        assert r.status == 407 and r.get("proxy-authenticate") == CHALLENGE, r
        c.request("GET", o.url("/after-head"), [creds("alice")])
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/after-head"), \
            f"the response after a HEAD's 407 does not parse: {r!r}"


def test_request_with_body_is_challenged_and_closed(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("POST", o.url("/upload"),
                  [("Content-Type", "text/plain"), ("Content-Length", "1000")],
                  body=b"x" * 1000)
        r = c.read_response()
        assert_challenge(r, close=True)
        c.wait_closed()
    r = request(p, o.url("/ok"), [creds("alice")])
    assert r.status == 200, r
    assert [x.target for x in requests_seen(o)] == ["/ok"]


def test_close_requested_challenge_closes(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/c"), [("Connection", "close")])
        assert_challenge(c.read_response(), close=True)
        c.wait_closed()
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/10"), version="HTTP/1.0")
        r = c.read_response(client_version="HTTP/1.0")
        assert r.status == 407 and r.get("proxy-authenticate") == CHALLENGE, r
        c.wait_closed()
    assert requests_seen(o) == []


# ------------------------------------------------------------ waiting for the check


def test_request_body_waits_for_the_check(start, raw_http_origin):
    """The password is checked on another thread while the body is still
    coming: none of it is lost or read as a request."""
    p, _ = start()
    o = raw_http_origin()
    body = bytes(range(256)) * 1024  # 256 KiB
    with HttpClient(p.addr) as c:
        c.request("POST", o.url("/cl"), [creds("bob"), ("Content-Length", str(len(body)))],
                  body=body)
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("POST", "/cl", body), r
        c.request("POST", o.url("/chunked"),
                  [creds("carol"), ("Transfer-Encoding", "chunked")],
                  body=chunk_encode(body, [1000, 7, 65536]))
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("POST", "/chunked", body), r
    assert [x.target for x in requests_seen(o)] == ["/cl", "/chunked"]


def test_connect_early_data_waits_for_the_check(start, origin_factory):
    p, _ = start()
    echo = origin_factory(handler_echo)
    sock, head, leftover = connect(p, echo.target, [creds("dave")], extra=b"early bytes")
    with sock:
        assert head.status == 200, head
        assert recv_exact(sock, 11, initial=leftover) == b"early bytes"
        assert exchange(sock, b" and later ones") == b" and later ones"
    assert echo.records[0].data == b"early bytes and later ones"


def test_pipelined_requests_wait_for_the_check(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    field = "%s: %s" % creds("alice")
    with HttpClient(p.addr) as c:
        c.send(b"".join(
            f"GET {o.url(path)} HTTP/1.1\r\nHost: {o.authority}\r\n{field}\r\n\r\n".encode()
            for path in ("/p1", "/p2", "/p3")))
        for path in ("/p1", "/p2", "/p3"):
            r = c.read_response()
            assert r.status == 200 and r.body == info_body("GET", path), r
    assert [x.target for x in requests_seen(o)] == ["/p1", "/p2", "/p3"]


def test_shutdown_with_checks_pending(start, raw_http_origin):
    """SIGTERM while passwords are being checked: a clean exit (status 0,
    no sanitizer report), whatever becomes of the waiting requests."""
    p, _ = start()
    o = raw_http_origin()
    clients = []
    try:
        for i in range(6):
            c = BoundClient(p.addr, f"127.0.0.{20 + i}")
            clients.append(c)
            # an unknown user is checked against a costly bcrypt hash
            c.request("GET", o.url(f"/s{i}"), [creds("nobody", f"pw{i}")] if i % 2
                      else [creds("alice")])
        problems = p.stop()
        assert problems == [], "\n".join(problems)
    finally:
        for c in clients:
            c.close()


# ------------------------------------------------------------ throttling


def test_ten_failures_then_429_for_that_address_only(start, raw_http_origin):
    # one worker: every connection meets the same failure table
    p, _ = start(workers="1")
    o = raw_http_origin()
    for i in range(10):
        r = request(p, o.url(f"/f{i}"), [creds("alice", f"guess{i}")])
        assert_challenge(r)
    # the 11th gets 429, even with the right password (no hash is run)
    for h in (creds("alice", "guess10"), creds("alice")):
        r = request(p, o.url("/eleventh"), [h])
        assert r.status == 429, r
        assert r.says_close, r
    ents = p.wait_access(lambda x: x.fields.get("status") == "429", count=2)
    assert all(x.fields.get("end") == "auth-throttled" for x in ents), ents
    assert all(x.client.startswith("127.0.0.1:") for x in ents), ents
    # another address is not throttled: right works, wrong is a 407
    r = request(p, o.url("/other"), [creds("alice")], source="127.0.0.2")
    assert r.status == 200 and r.body == info_body("GET", "/other"), r
    assert_challenge(request(p, o.url("/other-wrong"), [creds("alice", "x")],
                             source="127.0.0.2"))
    # without credentials the challenge still comes (nothing to check)
    assert_challenge(request(p, o.url("/bare")))
    assert [x.target for x in requests_seen(o)] == ["/other"]


def test_ten_failures_then_429_on_one_kept_alive_connection(start, raw_http_origin):
    p, _ = start()
    o = raw_http_origin()
    with BoundClient(p.addr, "127.0.0.3") as c:
        for i in range(10):
            c.request("GET", o.url(f"/k{i}"), [creds("bob", f"guess{i}")])
            assert_challenge(c.read_response())
        c.request("GET", o.url("/k10"), [creds("bob")])
        r = c.read_response()
        assert r.status == 429, r
        c.wait_closed()
    assert requests_seen(o) == []


def test_throttle_counts_every_connection_of_an_address(start, raw_http_origin):
    """README: "Ten failures from one address within a minute get 429" --
    with several workers too: each new connection may land on any of them
    (SO_REUSEPORT), and the address is the same."""
    p, _ = start(workers="4")
    o = raw_http_origin()
    got = []
    for i in range(10):
        r = request(p, o.url(f"/w{i}"), [creds("carol", f"guess{i}")], source="127.0.0.4")
        assert_challenge(r)
    for i in range(3):
        r = request(p, o.url(f"/w1{i}"), [creds("carol", "guess")], source="127.0.0.4")
        got.append(r.status)
    assert got == [429, 429, 429], (
        f"after 10 failed logins from 127.0.0.4 on fresh connections (workers 4), "
        f"the next three got {got}, expected 429 each")


# ------------------------------------------------------------ reload


def test_sighup_rereads_the_auth_file(start, raw_http_origin, lines):
    p, path = start(users=("alice", "carol"))
    o = raw_http_origin()
    assert_challenge(request(p, o.url("/bob-before"), [creds("bob")], source="127.0.0.5"))
    with HttpClient(p.addr) as c:
        # alice passes, and this connection's worker now remembers her
        c.request("GET", o.url("/alice-before"), [creds("alice")])
        assert c.read_response().status == 200
        c.request("GET", o.url("/alice-cached"), [creds("alice")])
        assert c.read_response().status == 200

        write_users(path, lines, ("carol", "bob"))
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: reload_count(p) >= 1 or not p.alive(), IO_TIMEOUT,
                 what="'reload done' in the log")
        assert p.alive()
        # the worker takes the new snapshot when it gets to it: poll on this
        # connection (same worker) until alice is refused; until then she is
        # served from the cache, so this counts no failure
        statuses = []
        deadline = time.monotonic() + IO_TIMEOUT
        for i in range(200):
            c.request("GET", o.url(f"/alice-after{i}"), [creds("alice")])
            r = c.read_response()
            statuses.append(r.status)
            if r.status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert statuses[-1] == 407, f"alice after her removal: {statuses}"
        assert set(statuses[:-1]) <= {200}, statuses
        # the same worker: bob is in, carol still is
        c.request("GET", o.url("/bob-after"), [creds("bob")])
        r = c.read_response()
        assert r.status == 200 and r.body == info_body("GET", "/bob-after"), r
        c.request("GET", o.url("/carol-after"), [creds("carol")])
        assert c.read_response().status == 200
    # fresh connections (any worker): polled, a bounded few times
    wait_for(lambda: request(p, o.url("/bob-fresh"), [creds("bob")],
                             source="127.0.0.6").status == 200,
             IO_TIMEOUT, interval=0.2, what="bob accepted on a fresh connection")
    assert_challenge(request(p, o.url("/alice-fresh"), [creds("alice")], source="127.0.0.7"))
    assert "reload failed" not in p.stderr()
    assert p.stderr().count(f"auth-file {path}: 2 users") == 2, p.stderr()


def test_sighup_with_the_file_gone_keeps_the_users(start, raw_http_origin):
    p, path = start(users=("alice",))
    o = raw_http_origin()
    assert request(p, o.url("/1"), [creds("alice")]).status == 200
    path.unlink()
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in p.stderr() or not p.alive(), IO_TIMEOUT,
             what="'reload failed' in the log")
    assert p.alive()
    err = [x for x in p.stderr().splitlines() if "reload failed" in x]
    assert len(err) == 1 and str(path) in err[0] and "cannot read" in err[0], err
    assert reload_count(p) == 0
    # alice still works, on a fresh connection, from an address she never
    # used (no cache entry of another worker helps)
    r = request(p, o.url("/2"), [creds("alice")], source="127.0.0.8")
    assert r.status == 200, r


# ------------------------------------------------------------ the file


def test_weak_hash_lines_are_skipped_with_a_warning(start, raw_http_origin, lines):
    p, path = start(users=("alice", "mallory"),
                    extra=("plain:trudy", "des:" + "MtZn0XN84UaZg"))
    o = raw_http_origin()
    err = p.stderr().splitlines()
    info = [x for x in err if f"auth-file {path}: " in x and " users" in x]
    assert len(info) == 1 and info[0].split()[1] == "info", err
    assert info[0].endswith(f"auth-file {path}: 1 users"), info
    warn = [x for x in err if f"auth-file {path}: " in x and "skipped" in x]
    assert len(warn) == 1, err
    assert warn[0].split()[1] == "warn", warn
    # line 1 is the comment, 2 alice, 3 mallory ($apr1$), 4 plain, 5 DES
    assert "3 lines skipped (first: line 3)" in warn[0], warn
    # mallory's right password does not let her in
    assert_challenge(request(p, o.url("/m"), [creds("mallory", WEAK["mallory"][0])]))
    assert_challenge(request(p, o.url("/p"), [creds("plain", "trudy")]))
    r = request(p, o.url("/a"), [creds("alice")])
    assert r.status == 200, r
    assert [x.target for x in requests_seen(o)] == ["/a"]


def test_check_config_reports_the_auth_file(sluice_bin, tmp_path, lines):
    path = write_users(tmp_path / "users", lines, ("alice", "bob", "mallory"))
    conf = tmp_path / "sluice.conf"
    conf.write_text(f"listen 127.0.0.1:0\nblocklist none\nauth-file {path}\n")
    cp = run_sluice(sluice_bin, "-c", conf, "--check-config")
    assert cp.returncode == 0, cp
    out = cp.stdout + cp.stderr
    assert f"auth-file {path}: 2 users" in out, out
    assert "1 lines skipped (first: line 4)" in out, out


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_unreadable_auth_file_exits_2_naming_it(sluice_bin, tmp_path, what):
    path = tmp_path / "no-such-users"
    if what == "directory":
        path.mkdir()
    conf = tmp_path / "sluice.conf"
    conf.write_text(f"listen 127.0.0.1:0\nblocklist none\nauth-file {path}\n")
    for args in (("-c", conf), ("-c", conf, "--check-config")):
        cp = run_sluice(sluice_bin, *args)
        assert cp.returncode == 2, (args, cp)
        msg = [x for x in cp.stderr.splitlines() if str(path) in x]
        assert msg, f"no message names {path}: {cp.stderr!r}"
        assert "auth-file" in msg[0] and "cannot read" in msg[0], msg
        assert "listening on" not in cp.stderr, cp.stderr


# ------------------------------------------------------------ real clients


def test_curl_with_proxy_credentials(start, http_origin_factory, tls_cert):
    p, _ = start()
    plain = http_origin_factory(body=b"plain origin\n")
    tls = http_origin_factory(body=b"tls origin\n", tls=True)
    proxy = f"127.0.0.1:{p.port}"
    http_url = f"http://example.test:{plain.port}/c"
    https_url = f"https://example.test:{tls.port}/t"
    ok = [
        # -U, and credentials in the proxy URL; plain and through CONNECT
        (["-U", "alice:wonderland", "-x", f"http://{proxy}", http_url], b"plain origin\n"),
        (["-x", f"http://bob:builder@{proxy}", http_url], b"plain origin\n"),
        (["-p", "-U", "carol:c4rol's pass", "-x", f"http://{proxy}", http_url],
         b"plain origin\n"),
        (["-p", "-x", f"http://alice:wonderland@{proxy}", http_url], b"plain origin\n"),
        # curl splits -U at the first ':'; so does sluice
        (["-U", "dave:open: sesame", "-x", f"http://{proxy}", http_url], b"plain origin\n"),
        (["--cacert", str(tls_cert[0]), "-x", f"http://alice:wonderland@{proxy}",
          https_url], b"tls origin\n"),
        (["--cacert", str(tls_cert[0]), "-U", "bob:builder", "-x", f"http://{proxy}",
          https_url], b"tls origin\n"),
    ]
    for args, body in ok:
        cp = run_curl(*args)
        assert cp.returncode == 0 and cp.stdout == body, (args, cp)
    # without credentials or with wrong ones: 407, for both schemes
    for args in (["-x", f"http://{proxy}", http_url],
                 ["-U", "alice:nope", "-x", f"http://{proxy}", http_url]):
        cp = run_curl("-o", "/dev/null", "-w", "%{http_code}", *args)
        assert cp.stdout == b"407", (args, cp)
    cp = run_curl("--cacert", str(tls_cert[0]), "-x", f"http://{proxy}", https_url)
    assert cp.returncode != 0 and b"407" in cp.stderr, cp
    assert plain.paths == ["/c"] * 5, plain.paths
    assert tls.paths == ["/t"] * 2, tls.paths


def test_no_secret_in_the_logs(start, raw_http_origin, origin_factory):
    p, _ = start(log_level="debug")
    o = raw_http_origin()
    echo = origin_factory(handler_echo)
    secrets = []
    for user, pw in (("alice", "wonderland"), ("alice", "not-her-password"),
                     ("nobody", "some-secret")):
        secrets += [pw, token(user, pw)]
        request(p, o.url("/s"), [creds(user, pw)], source="127.0.0.9")
        sock, head, _ = connect(p, echo.target, [creds(user, pw)])
        sock.close()
    p.wait_access(lambda x: True, count=6)
    text = p.stderr() + p.access_text()
    for s in secrets:
        assert s not in text, f"{s!r} is in the logs"
