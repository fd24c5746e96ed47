"""Back-pressure: a slow or stalled peer must not make the proxy buffer
without bound.  Memory is VmRSS of the proxy (and any worker processes),
compared against a baseline taken right after start, so the (larger) ASan
baseline does not matter."""

import socket
import time

import pytest

from conftest import (
    connect_via,
    expected_pattern,
    handler_hold,
    is_asan_binary,
    make_fast_sender,
    raise_nofile,
    recv_head,
    tcp_connect,
)

SEND_TOTAL = 256 << 20     # what a fast origin would like to push
SEND_SECONDS = 3.0         # bounded sending time
MAX_GROWTH_KIB = 48 << 10  # 48 MiB
IDLE_TUNNELS = 2000
IDLE_TUNNEL_MAX_KIB = 4.0  # README: "about 3 KiB" an idle tunnel


def sample_rss(proxy, seconds, work=None):
    """Sample RSS every 0.1 s for `seconds`; call work() between samples."""
    peak = 0
    end = time.monotonic() + seconds
    for _ in range(int(seconds / 0.1) + 10):
        peak = max(peak, proxy.rss_kib())
        if time.monotonic() > end:
            break
        if work:
            work()
        time.sleep(0.1)
    return max(peak, proxy.rss_kib())


@pytest.mark.parametrize("reader", ["stalled", "slow"])
def test_slow_reader_bounded_memory(proxy, origin_factory, reader):
    o = origin_factory(make_fast_sender(SEND_TOTAL, SEND_SECONDS))
    base = proxy.rss_kib()
    assert base > 0
    sock, status, leftover = connect_via(proxy, o.target)
    with sock:
        assert status == 200
        got = bytearray(leftover)

        def read_a_little():
            if reader != "slow":
                return
            sock.settimeout(1)
            try:
                got.extend(sock.recv(4096))
            except socket.timeout:
                pass

        peak = sample_rss(proxy, SEND_SECONDS + 0.5, read_a_little)
        rec = o.wait_conns(1)[0]
        growth = peak - base
        assert growth < MAX_GROWTH_KIB, (
            f"proxy RSS grew by {growth} KiB (base {base} KiB, peak {peak} KiB) "
            f"while the origin pushed {rec.sent} bytes to a {reader} reader")
        # the data that did arrive is intact
        assert bytes(got) == expected_pattern(0, len(got))
        # and the origin was throttled, not served by a proxy dropping data
        assert rec.sent < SEND_TOTAL, "origin could push 256 MiB to a reader that did not read"


def test_stalled_target_bounded_memory(proxy, origin_factory):
    """The other direction: the client uploads fast, the target never reads."""
    o = origin_factory(handler_hold)
    base = proxy.rss_kib()
    sock, status, leftover = connect_via(proxy, o.target)
    sent = 0
    with sock:
        assert status == 200
        chunk = expected_pattern(0, 1 << 16)
        end = time.monotonic() + SEND_SECONDS
        peak = base
        last_sample = 0.0
        for _ in range(1_000_000):
            now = time.monotonic()
            if now > end or sent >= SEND_TOTAL:
                break
            if now - last_sample > 0.1:
                peak = max(peak, proxy.rss_kib())
                last_sample = now
            sock.settimeout(0.1)
            try:
                sent += sock.send(chunk)
            except socket.timeout:
                continue
        peak = max(peak, sample_rss(proxy, 0.5))
    growth = peak - base
    assert growth < MAX_GROWTH_KIB, (
        f"proxy RSS grew by {growth} KiB (base {base} KiB, peak {peak} KiB) "
        f"while the client pushed {sent} bytes to a target that does not read")
    assert sent < SEND_TOTAL


def test_idle_tunnel_memory(proxy_factory):
    """An established tunnel that carries nothing costs little: 2,000 of
    them held open must add under 4 KiB of resident memory each (sessions,
    watches, the event loop's bookkeeping; no buffer and no pipe is held
    while idle). Skipped under ASan, whose allocator pads every block."""
    # descriptors here (client and sink ends) and in the proxy, which
    # inherits the limit
    if raise_nofile(3 * IDLE_TUNNELS + 1024) is None:
        pytest.skip("RLIMIT_NOFILE too low for 2,000 tunnels")
    p = proxy_factory(workers="1", connect_ports="1-65535")
    if is_asan_binary(str(p.binary)):
        pytest.skip("ASan pads every allocation: memory figures mean nothing")
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(IDLE_TUNNELS)
    sink.setblocking(False)
    port = sink.getsockname()[1]
    held, accepted = [], []

    def accept_all():
        for _ in range(IDLE_TUNNELS):
            try:
                accepted.append(sink.accept()[0])
            except BlockingIOError:
                return

    base = p.rss_kib()
    try:
        for _ in range(IDLE_TUNNELS):
            c = tcp_connect(p.addr)
            held.append(c)
            c.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n"
                      f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
            accept_all()
        for c in held:
            head, _ = recv_head(c)
            assert head.startswith(b"HTTP/1.1 200"), head[:80]
        deadline = time.monotonic() + 10
        for _ in range(1000):
            accept_all()
            if len(accepted) >= IDLE_TUNNELS or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(accepted) == IDLE_TUNNELS
        per = (p.rss_kib() - base) / IDLE_TUNNELS
        assert per < IDLE_TUNNEL_MAX_KIB, (
            f"{per:.2f} KiB of RSS per idle tunnel (base {base} KiB)")
    finally:
        for c in held + accepted:
            c.close()
        sink.close()
