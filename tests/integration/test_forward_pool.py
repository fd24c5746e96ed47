"""Upstream connection reuse (pooling): a kept-alive origin connection is
reused for the next request to the same origin, and never when it is not
safe: after `Connection: close`, a close-delimited or incomplete response,
an HTTP/1.0 response without keep-alive, or when the origin closed it while
idle (then the request still succeeds on a new connection). Concurrent
clients never see each other's responses."""

import os
import socket
import threading
import time

import pytest

from conftest import (
    HttpClient,
    chunk_encode,
    http_request,
    http_response,
    info_body,
    recv_head,
    tcp_connect,
)


def get_on(c, o, path):
    """A GET of path on client connection c, answered 200 with its body."""
    c.request("GET", o.url(path))
    r = c.read_response()
    assert r.status == 200 and r.body == info_body("GET", path), r
    return r


def one_get(proxy, o, path, timeout=None):
    with HttpClient(proxy.addr, timeout=timeout or 10) as c:
        return get_on(c, o, path)


def test_reuse_within_client_connection(proxy, raw_http_origin):
    o = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        for path in ("/1", "/2", "/3"):
            c.request("GET", o.url(path))
            assert c.read_response().body == info_body("GET", path)
    reqs = o.wait_requests(3)
    assert [q.conn_index for q in reqs] == [0, 0, 0], (
        f"origin connections per request: {[q.conn_index for q in reqs]}")
    assert len(o.records) == 1


def test_reuse_across_client_connections(proxy_factory, raw_http_origin):
    p = proxy_factory(workers="1")
    o = raw_http_origin()
    for path in ("/a", "/b", "/c"):
        one_get(p, o, path)
    reqs = o.wait_requests(3)
    assert [q.conn_index for q in reqs] == [0, 0, 0], [q.conn_index for q in reqs]


def test_reuse_is_per_origin(proxy, raw_http_origin):
    o1 = raw_http_origin()
    o2 = raw_http_origin()
    with HttpClient(proxy.addr) as c:
        for o, path in ((o1, "/1"), (o2, "/2"), (o1, "/3"), (o2, "/4")):
            c.request("GET", o.url(path))
            assert c.read_response().body == info_body("GET", path)
    assert [q.conn_index for q in o1.wait_requests(2)] == [0, 0]
    assert [q.conn_index for q in o2.wait_requests(2)] == [0, 0]


def test_bodies_do_not_desync_reused_connection(proxy, raw_http_origin):
    o = raw_http_origin()
    body = os.urandom(50_000)
    with HttpClient(proxy.addr) as c:
        c.request("POST", o.url("/cl"), [("Content-Length", str(len(body)))], body)
        assert c.read_response().body == info_body("POST", "/cl", body)
        c.request("POST", o.url("/ch"), [("Transfer-Encoding", "chunked")],
                  chunk_encode(body, [333, 4096]))
        assert c.read_response().body == info_body("POST", "/ch", body)
        get_on(c, o, "/g")
    reqs = o.wait_requests(3)
    assert all(q.framing_error is None for q in reqs)
    assert [q.conn_index for q in reqs] == [0, 0, 0]


def test_no_reuse_after_connection_close(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.close = True
        return http_response(200, info_body(req.method, req.target), [("Connection", "close")])
    o = raw_http_origin(respond)
    with HttpClient(proxy.addr) as c:
        for path in ("/1", "/2"):
            c.request("GET", o.url(path))
            r = c.read_response()
            assert r.body == info_body("GET", path), r
            if r.says_close:
                c.expect_close(r)
                break
    one_get(proxy, o, "/3")
    reqs = o.wait_requests(2)
    assert len({q.conn_index for q in reqs}) == len(reqs)


def test_no_reuse_after_close_delimited(proxy, raw_http_origin):
    def respond(req, ctx):
        ctx.close = True
        return http_response(200, info_body(req.method, req.target), framing="close")
    o = raw_http_origin(respond)
    for path in ("/1", "/2"):
        with HttpClient(proxy.addr) as c:
            c.request("GET", o.url(path))
            r = c.read_response()
            assert r.body == info_body("GET", path)
    assert [q.conn_index for q in o.wait_requests(2)] == [0, 1]


def test_no_reuse_http10_response(proxy_factory, raw_http_origin):
    """An HTTP/1.0 response without keep-alive ends the connection's use;
    this origin then holds the connection for 3 s without answering more."""
    p = proxy_factory(workers="1")

    def respond(req, ctx):
        if req.index_in_conn > 0:
            time.sleep(3)  # a reused connection gets no answer for a while
            ctx.close = True
            return None
        return http_response(200, info_body(req.method, req.target), version="HTTP/1.0")
    o = raw_http_origin(respond)
    one_get(p, o, "/1")
    one_get(p, o, "/2", timeout=10)
    assert [q.index_in_conn for q in o.wait_requests(2)] == [0, 0]


def test_origin_closed_idle_connection(proxy_factory, raw_http_origin):
    """The origin closes the pooled connection while idle; the next request
    must still get a good answer (a fresh connection, or a retry)."""
    p = proxy_factory(workers="1")
    closed = threading.Event()

    def respond(req, ctx):
        ctx.close = True  # keep-alive response, then close when idle
        ctx.send(http_response(200, info_body(req.method, req.target)))
        time.sleep(0.1)
        closed.set()
        return None
    o = raw_http_origin(respond)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        assert closed.wait(5)
        o.wait_done(0)
        time.sleep(0.1)
        get_on(c, o, "/2")
    one_get(p, o, "/3")


def test_origin_reset_idle_connection(proxy_factory, raw_http_origin):
    p = proxy_factory(workers="1")
    done = threading.Event()

    def respond(req, ctx):
        ctx.send(http_response(200, info_body(req.method, req.target)))
        time.sleep(0.1)
        ctx.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
        ctx.sock.close()
        ctx.close = True
        done.set()
        return None
    o = raw_http_origin(respond)
    one_get(p, o, "/1")
    assert done.wait(5)
    time.sleep(0.1)
    one_get(p, o, "/2")


def test_incomplete_response_not_reused(proxy_factory, raw_http_origin):
    """Client 1 leaves in the middle of a large body; client 2's answer must
    be its own, not the rest of client 1's."""
    p = proxy_factory(workers="1")

    def respond(req, ctx):
        if req.target == "/big":
            try:
                ctx.send(http_response(200, b"B" * (8 << 20)))
            except OSError:
                ctx.close = True
            return None
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    s = tcp_connect(p.addr)
    s.sendall(http_request("GET", o.url("/big")))
    recv_head(s)
    s.close()
    time.sleep(0.2)
    for path in ("/after1", "/after2"):
        one_get(p, o, path)


def test_concurrent_clients_not_mixed(proxy, raw_http_origin):
    def respond(req, ctx):
        time.sleep((hash(req.target) % 5) / 200)
        return http_response(200, info_body(req.method, req.target))
    o = raw_http_origin(respond)
    errors = []

    def client(i):
        try:
            with HttpClient(proxy.addr, timeout=20) as c:
                for j in range(5):
                    path = f"/c{i}/r{j}"
                    c.request("GET", o.url(path))
                    r = c.read_response()
                    if r.body != info_body("GET", path):
                        errors.append((path, r))
        except BaseException as e:  # noqa: BLE001
            errors.append((i, e))
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "client threads stuck"
    assert not errors, errors[:3]
    assert len(o.wait_requests(50)) == 50


def test_many_clients_share_one_origin_without_reconnecting(proxy_factory,
                                                          raw_http_origin):
    # 32 clients of one worker, in lockstep rounds: after the first round
    # 32 origin connections sit idle at once, and every later round must
    # find them pooled (a per-origin cap of 8 once made 24 reconnect each
    # round: 152 connections instead of 32)
    p = proxy_factory(workers="1")
    o = raw_http_origin()
    clients, rounds = 32, 5
    barrier = threading.Barrier(clients, timeout=20)
    errors = []

    def client(i):
        try:
            with HttpClient(p.addr, timeout=20) as c:
                for j in range(rounds):
                    path = f"/c{i}/r{j}"
                    c.request("GET", o.url(path))
                    r = c.read_response()
                    if r.body != info_body("GET", path):
                        errors.append((path, r))
                    barrier.wait()
        except BaseException as e:  # noqa: BLE001
            errors.append((i, e))
    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "client threads stuck"
    assert not errors, errors[:3]
    reqs = o.wait_requests(clients * rounds)
    used = {q.conn_index for q in reqs}
    assert len(used) <= clients, f"{len(used)} origin connections"


def _drop_reused(req, ctx):
    """Answer the first request of a connection; on a reused connection,
    read the request and close without answering (an origin whose idle
    timeout fired just as the request arrived)."""
    if req.index_in_conn >= 1:
        ctx.close = True
        return None
    return http_response(200, info_body(req.method, req.target))


def test_reused_connection_dropped_idempotent_retried(proxy_factory, raw_http_origin):
    """RFC 9112 §9.3.1: a GET that met a reused connection's close may be
    retried on a new connection, so the client gets its answer."""
    p = proxy_factory(workers="1")
    o = raw_http_origin(_drop_reused)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        get_on(c, o, "/2")
    reqs = o.wait_requests(2)
    assert [q.target for q in reqs if q.index_in_conn == 0] == ["/1", "/2"]


def test_reused_connection_dropped_post_not_retried(proxy_factory, raw_http_origin):
    """A POST is not idempotent: never sent twice automatically."""
    p = proxy_factory(workers="1")
    o = raw_http_origin(_drop_reused)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        c.request("POST", o.url("/post"), [("Content-Length", "4")], b"once")
        r = c.read_response()
    time.sleep(0.2)
    posts = [q for q in o.requests if q.method == "POST"]
    assert len(posts) == 1, f"POST sent {len(posts)} times: {posts!r}"
    if posts[0].index_in_conn >= 1:   # it met the dropped connection
        assert r.status == 502, r
    else:                             # not reused: answered normally
        assert r.status == 200, r


@pytest.mark.parametrize("method,body", [("GET", b""), ("POST", b"once")])
def test_pipelined_request_meets_origin_closed_with_its_answer(
        proxy_factory, raw_http_origin, method, body):
    """The origin answers keep-alive and closes at once, its FIN in the
    same segment as the answer (TCP_CORK holds the answer until shutdown
    attaches the FIN to it), so the FIN is there before the proxy reads a
    byte; the client's pipelined second request is taken up the moment the
    connection is pooled, before the loop can see that FIN. A GET that
    meets the dead connection is sent again on a new one; a POST cannot
    be, so for it the pool asks the kernel (MSG_PEEK) before reuse rather
    than answer 502. Either way the client gets both answers."""
    p = proxy_factory(workers="1")

    def respond(req, ctx):
        ctx.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        ctx.send(http_response(200, info_body(req.method, req.target, req.body)))
        ctx.sock.shutdown(socket.SHUT_WR)  # no Connection: close in it
        ctx.close = True
        return None
    o = raw_http_origin(respond)
    framing = [("Content-Length", str(len(body)))] if body else []
    with HttpClient(p.addr) as c:
        c.send(http_request("GET", o.url("/1")) +
               http_request(method, o.url("/2"), framing, body))
        r1 = c.read_response()
        r2 = c.read_response()
    assert r1.status == 200 and r1.body == info_body("GET", "/1"), r1
    assert r2.status == 200 and r2.body == info_body(method, "/2", body), r2
    reqs = o.wait_requests(2)
    assert [(q.method, q.target) for q in reqs if q.index_in_conn == 0] == [
        ("GET", "/1"), (method, "/2")]


def _stray_bytes_on_reused(req, ctx):
    """Answer the first request of a connection; on a reused one, put
    bytes that are no status line before the answer (stray bytes behind
    the last answer, or an origin that lost track of its framing)."""
    answer = http_response(200, info_body(req.method, req.target, req.body))
    if req.index_in_conn >= 1:
        return b"\r\nstray" + answer
    return answer


def test_stray_bytes_on_reused_connection_get_retried(proxy_factory,
                                                      raw_http_origin):
    """Bytes on a pooled connection that cannot begin a status line came
    before the request was sent, or the origin is confused: the connection
    is not trusted, and a GET goes again, once, on a new one."""
    p = proxy_factory(workers="1")
    o = raw_http_origin(_stray_bytes_on_reused)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        get_on(c, o, "/2")
    reqs = o.wait_requests(3)
    assert [(q.target, q.conn_index, q.index_in_conn) for q in reqs] == [
        ("/1", 0, 0), ("/2", 0, 1), ("/2", 1, 0)]


def test_stray_bytes_on_reused_connection_post_answered_502(proxy_factory,
                                                             raw_http_origin):
    """A POST is not sent twice: the client is told the origin's answer
    was not HTTP, and the proxy goes on serving."""
    p = proxy_factory(workers="1")
    o = raw_http_origin(_stray_bytes_on_reused)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        # the probe before reuse sees nothing: the stray bytes come with
        # the answer, after the request
        c.request("POST", o.url("/post"), [("Content-Length", "4")], b"once")
        r = c.read_response()
        assert r.status == 502, r
    posts = [q for q in o.wait_requests(2) if q.method == "POST"]
    assert len(posts) == 1, posts
    one_get(p, o, "/after")


def test_junk_after_an_interim_answer_is_not_retried(proxy_factory,
                                                     raw_http_origin):
    """Once a 1xx from the reused connection has gone to the client, the
    request is not sent again: junk after it is a 502, not a second
    answer on top of the first."""
    p = proxy_factory(workers="1")

    def respond(req, ctx):
        if req.index_in_conn == 0:
            return http_response(200, info_body(req.method, req.target))
        ctx.send(http_response(103, framing="none",
                               headers=[("Link", "</s.css>; rel=preload")]))
        time.sleep(0.2)  # the proxy relays the 103 and reads again
        return b"junk\r\n\r\n"
    o = raw_http_origin(respond)
    with HttpClient(p.addr) as c:
        get_on(c, o, "/1")
        c.request("GET", o.url("/2"))
        r = c.read_response()
        assert [i.status for i in r.interim] == [103], r.interim
        assert r.status == 502, r
    time.sleep(0.2)
    assert [q.target for q in o.requests] == ["/1", "/2"], o.requests


def test_junk_on_a_new_connection_is_not_retried(proxy_factory,
                                                 raw_http_origin):
    """Only a reused connection is suspect: junk on a new one is the
    origin's answer, a 502, and the request went out once."""
    p = proxy_factory(workers="1")
    o = raw_http_origin(lambda req, ctx: b"not http\r\n\r\n")
    with HttpClient(p.addr) as c:
        c.request("GET", o.url("/1"))
        r = c.read_response()
        assert r.status == 502, r
    time.sleep(0.2)
    assert len(o.requests) == 1, o.requests


def test_shared_address_keeps_each_host(proxy_factory, raw_http_origin):
    """Names that reach the same address may share a pooled connection, but
    each request still carries its own URI's authority as Host."""
    p = proxy_factory(workers="1")
    o = raw_http_origin()
    auths = [f"example.test:{o.port}", f"alias.example.test:{o.port}",
             f"127.0.0.1:{o.port}", f"example.test:{o.port}"]
    with HttpClient(p.addr) as c:
        for i, a in enumerate(auths):
            c.request("GET", f"http://{a}/h{i}")
            assert c.read_response().body == info_body("GET", f"/h{i}")
    reqs = o.wait_requests(len(auths))
    assert [(q.target, q.values("host")) for q in reqs] == [
        (f"/h{i}", [a]) for i, a in enumerate(auths)]


def test_heads_larger_than_the_first_buffer_then_small_ones(proxy_factory,
                                                           raw_http_origin):
    """Request and response heads of 20 KB (past the 4 KiB buffers a head
    starts in, within max-head-size) alternate with small ones on one
    kept-alive client connection and one pooled origin connection: every
    answer is whole and its own, the large fields arrive intact."""
    p = proxy_factory(workers="1")
    big = [(f"X-Fill-{i}", "v" * 1000) for i in range(20)]

    def respond(req, ctx):
        fields = big if req.target.startswith("/big") else []
        return http_response(200, info_body(req.method, req.target), fields)
    o = raw_http_origin(respond)
    with HttpClient(p.addr) as c:
        for path in ("/big1", "/s1", "/big2", "/s2", "/s3"):
            extra = big if path.startswith("/big") else []
            c.request("GET", o.url(path), extra)
            r = c.read_response()
            assert r.status == 200 and r.body == info_body("GET", path), r
            got = [r.get(name) for name, _ in big]
            assert got == ([v for _, v in big] if extra else [None] * 20), path
    reqs = o.wait_requests(5)
    assert [q.conn_index for q in reqs] == [0] * 5
    assert [len(q.values("x-fill-3")) for q in reqs] == [1, 0, 1, 0, 0]
