"""The head limits are directives: max-request-line (414), max-head-size
(431 for a request, 502 for a response) and max-header-fields (431 / 502).
A refused request never reaches the origin; a request within the limits on
the same proxy still goes through."""
from conftest import (HttpClient, assert_error_reply, http_request,
                      read_reply, send_raw, tcp_connect)


def test_configured_request_line_limit_414(proxy_factory, raw_http_origin):
    o = raw_http_origin()
    p = proxy_factory(max_request_line="100")
    long_target = o.url("/" + "a" * 120)
    r = send_raw(p, http_request("GET", long_target))
    assert_error_reply(r, 414)
    assert not o.requests
    # within the limit on the same proxy: forwarded
    with HttpClient(p.addr) as c:
        c.send(http_request("GET", o.url("/" + "a" * 40)))
        assert c.read_response().status == 200
    assert len(o.requests) == 1


def test_configured_field_count_limit_431(proxy_factory, raw_http_origin):
    o = raw_http_origin()
    p = proxy_factory(max_header_fields="5")
    five = [(f"X-{i}", "v") for i in range(4)]  # + Host = 5 fields
    with HttpClient(p.addr) as c:
        c.send(http_request("GET", o.url("/ok"), headers=five))
        assert c.read_response().status == 200
    six = [(f"X-{i}", "v") for i in range(5)]
    r = send_raw(p, http_request("GET", o.url("/no"), headers=six))
    assert_error_reply(r, 431)
    assert [q.target for q in o.requests] == ["/ok"]


def test_configured_head_size_limit_431(proxy_factory, raw_http_origin):
    o = raw_http_origin()
    p = proxy_factory(max_head_size="2KiB")
    r = send_raw(p, http_request("GET", o.url("/big"),
                                 headers=[("X-Big", "b" * 3000)]))
    assert_error_reply(r, 431)
    assert not o.requests


def test_response_head_over_the_limit_502(proxy_factory, raw_http_origin):
    def respond(req, ctx):
        return (b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 3000 +
                b"\r\nContent-Length: 2\r\n\r\nok")
    o = raw_http_origin(respond)
    p = proxy_factory(max_head_size="2KiB")
    with tcp_connect(p.addr) as s:
        s.sendall(http_request("GET", o.url("/")))
        r = read_reply(s)
    assert_error_reply(r, 502)
