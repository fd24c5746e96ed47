import socket, time
from conftest import HttpClient, http_request, http_response, info_body, recv_until_eof, tcp_connect

def run(p, o, trickle):
    c = HttpClient(p.addr)
    c.request("GET", o.url("/1")); c.read_response()
    data = b"GET " + o.url("/2").encode() + b" HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 40
    t = time.monotonic()
    if trickle:
        for i in range(len(data)):
            try: c.send(data[i:i+1])
            except OSError: break
            c.sock.settimeout(0.25)
            try:
                d = c.sock.recv(1000)
                print("  got during trickle", d[:60], time.monotonic() - t); break
            except socket.timeout: pass
            if time.monotonic() - t > 8: print("  trickle still open after 8 s"); break
    else:
        c.send(data)
        try: print("  got", recv_until_eof(c.sock, timeout=8, allow_reset=True)[:60], time.monotonic() - t)
        except AssertionError as e: print("  ", e)

def test_a(proxy_factory, raw_http_origin):
    o = raw_http_origin()
    for kat in ("3s", None):
        for trickle in (False, True):
            p = proxy_factory(header_timeout="1s", keepalive_timeout=kat)
            print("\nkeepalive", kat, "trickle", trickle)
            run(p, o, trickle)
