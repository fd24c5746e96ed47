"""Hostile clients, each attack run while a normal client keeps working.

A "canary" thread does, over and over, a CONNECT tunnel round trip and a
plain GET through the proxy to loopback origins, and records every result.
Each test starts the canary, runs one attack, and asserts that the canary
got only successes -- during the attack (at least one of its rounds
overlapped it) and after it -- and that the proxy is alive, its descriptor
count comes back to where it was, and its RSS stays bounded.

The attacks: slowloris, 10,000 idle connections, half-closed partial heads,
header floods, random garbage, the request-smuggling vectors of
test_forward_smuggling.py from 20 threads, CONNECT to mail/ssh/redis ports,
a connection flood against max-connections-per-client -- and all of them
one after the other against one proxy ("gauntlet").

Loopback only. Attack connections come from source addresses spread over
127.0.1.1-127.0.1.250 (Linux routes all of 127/8 on lo), the canary from
127.0.0.2, so that per-client counting never mixes the two. Every loop is
bounded in count and in time; the deadlines are safety limits, never
performance thresholds.
"""

import errno
import os
import random
import re
import resource
import select
import socket
import threading
import time
from collections import Counter

import pytest

from conftest import (
    HAVE_IPV6,
    IO_TIMEOUT,
    STARTUP_TIMEOUT,
    Head,
    HttpClient,
    handler_echo,
    http_request,
    http_response,
    info_body,
    exchange,
    is_asan_binary,
    raise_nofile,
    recv_head,
    wait_for,
)
from test_forward_smuggling import BODY_VECTORS, HEAD_VECTORS, SMUGGLED, vector_bytes

CANARY_SOURCE = "127.0.0.2"
RSS_GROWTH_KIB = 64 << 10            # generous: this is about leaks/runaway growth
ASAN_QUARANTINE_KIB = 256 << 10      # ASan keeps up to 256 MiB of freed memory
PER_CONN_KIB = 16                    # an idle connection costs ~9 KiB (4 KiB head buffer ...)
REPEAT_GROWTH_KIB = 16 << 10         # the same attack again: memory is reused
PIPE_POOL_MAX_IDLE = 64              # src/net/pipe_pool.h: idle pipes per worker
SEED = 20261124


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def spread_source(i):
    """Source address of attack connection i: 250 loopback addresses."""
    return f"127.0.1.{1 + i % 250}"


def open_conn(addr, source, timeout=IO_TIMEOUT, blocking=True):
    """A TCP connection to addr from source (an address on lo).

    blocking=False: connect_ex without waiting (the caller waits for
    writability)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((source, 0))
        if blocking:
            s.settimeout(timeout)
            s.connect(addr)
        else:
            s.setblocking(False)
            rc = s.connect_ex(addr)
            if rc not in (0, errno.EINPROGRESS):
                raise OSError(rc, os.strerror(rc))
    except BaseException:
        s.close()
        raise
    return s


def classify(data):
    """'close' for no bytes, the status (int) for an HTTP/1.x reply, else
    'junk'."""
    if not data:
        return "close"
    m = re.match(rb"HTTP/1\.[01] (\d{3})[ \r]", data)
    return int(m.group(1)) if m else "junk"


STATUS_LINE_RE = re.compile(rb"(?:^|\n)HTTP/1\.[01] \d{3}[ \r]")


def count_responses(data):
    """Status lines at the start of data or of a line."""
    return len(STATUS_LINE_RE.findall(data))


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def collect_until_closed(socks, timeout, on_tick=None, limit=1 << 16):
    """Read every socket until the peer closes it (EOF or RST), or timeout.

    Returns (data, end): per socket the bytes read and "eof", "reset" or
    "open" (still open at the deadline). on_tick(end) is called about every
    50 ms with the list of ends; when it returns True, reading stops."""
    ep = select.epoll()
    index = {}
    data = [bytearray() for _ in socks]
    end = ["open"] * len(socks)
    for i, s in enumerate(socks):
        s.setblocking(False)
        index[s.fileno()] = i
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    left = len(socks)
    deadline = time.monotonic() + timeout
    try:
        for _ in range(10_000_000):
            if left == 0:
                break
            t = deadline - time.monotonic()
            if t <= 0:
                break
            if on_tick and on_tick(end):
                break
            for fd, _ev in ep.poll(min(t, 0.05), 4096):
                i = index[fd]
                if end[i] != "open":
                    continue
                for _ in range(64):
                    try:
                        chunk = socks[i].recv(65536)
                    except BlockingIOError:
                        break
                    except OSError:
                        end[i] = "reset"
                        break
                    if not chunk:
                        end[i] = "eof"
                        break
                    if len(data[i]) < limit:
                        data[i] += chunk[: limit - len(data[i])]
                if end[i] != "open":
                    left -= 1
                    ep.unregister(fd)
    finally:
        ep.close()
    return [bytes(d) for d in data], end


def fd_kinds(pid):
    """Counter of the proxy's descriptors by kind: socket, pipe, other."""
    c = Counter()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return c
    for name in names:
        try:
            t = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if t.startswith("socket:"):
            c["socket"] += 1
        elif t.startswith("pipe:"):
            c["pipe"] += 1
        else:
            c["other"] += 1
    return c


def fd_total(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def count_lines(text, needle):
    return sum(1 for line in text.splitlines() if needle in line)


# --------------------------------------------------------------------------
# the canary
# --------------------------------------------------------------------------


class Round:
    __slots__ = ("kind", "i", "t0", "t1", "ok", "detail")

    def __init__(self, kind, i, t0, t1, ok, detail):
        self.kind, self.i, self.t0, self.t1 = kind, i, t0, t1
        self.ok, self.detail = ok, detail

    def __repr__(self):
        return (f"{self.kind}#{self.i} {'ok' if self.ok else 'FAILED'} "
                f"[{self.t0:.3f}..{self.t1:.3f}] {self.detail}")


class SourcedClient(HttpClient):
    """HttpClient whose connection comes from a given source address."""

    def __init__(self, addr, source, timeout=IO_TIMEOUT):  # pylint: disable=super-init-not-called
        self.sock = open_conn(addr, source, timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.reset = False


class Canary:
    """A normal client in a background thread: each round one CONNECT tunnel
    round trip (to tunnel_target, an echo origin) and one plain GET (to the
    origin at http_port, whose body names the request). Bounded: at most
    max_rounds rounds, stops when told or after deadline seconds."""

    def __init__(self, proxy, tunnel_target, http_port, source=CANARY_SOURCE,
                 max_rounds=3000, deadline=300.0, pause=0.02):
        self.proxy = proxy
        self.tunnel_target = tunnel_target
        self.http_port = http_port
        self.source = source
        self.max_rounds = max_rounds
        self.deadline = time.monotonic() + deadline
        self.pause = pause
        self.results = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self._stop = threading.Event()
        self.thread = None

    # -- one round ----------------------------------------------------------

    def tunnel(self, i):
        s = open_conn(self.proxy.addr, self.source)
        with s:
            t = self.tunnel_target
            s.sendall(f"CONNECT {t} HTTP/1.1\r\nHost: {t}\r\n\r\n".encode())
            raw, leftover = recv_head(s)
            head = Head(raw)
            if head.status != 200:
                return False, f"CONNECT {t}: {head.status_line!r}"
            msg = b"canary %d " % i + bytes(range(256)) * 4
            got = exchange(s, msg, initial=leftover)
            if got != msg:
                return False, f"tunnel echo mismatch: {got[:80]!r}"
        return True, ""

    def get(self, i):
        path = f"/canary/{i}"
        with SourcedClient(self.proxy.addr, self.source) as c:
            c.request("GET", f"http://127.0.0.1:{self.http_port}{path}")
            r = c.read_response()
            if r.status != 200 or r.body != info_body("GET", path):
                return False, f"GET {path}: {r!r}"
        return True, ""

    def one_round(self, i):
        for kind, fn in (("tunnel", self.tunnel), ("get", self.get)):
            t0 = time.monotonic()
            try:
                ok, detail = fn(i)
            except Exception as e:  # noqa: BLE001 -- recorded, asserted later
                ok, detail = False, f"{type(e).__name__}: {e}"
            r = Round(kind, i, t0, time.monotonic(), ok, detail)
            with self.cond:
                self.results.append(r)
                self.cond.notify_all()

    # -- lifecycle ----------------------------------------------------------

    def warm_up(self, n=2):
        """Rounds in the calling thread, before start(): must all succeed."""
        for i in range(n):
            self.one_round(-1 - i)
        self.assert_ok("warm-up")

    def _run(self):
        for i in range(self.max_rounds):
            if self._stop.is_set() or time.monotonic() > self.deadline:
                break
            self.one_round(i)
            self._stop.wait(self.pause)

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self.thread is not None:
            self.thread.join(IO_TIMEOUT * 2 + 5)
            assert not self.thread.is_alive(), "canary thread did not stop"

    # -- checks -------------------------------------------------------------

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def failures(self):
        return [r for r in self.snapshot() if not r.ok]

    def assert_ok(self, phase):
        bad = self.failures()
        assert not bad, (
            f"canary failed {len(bad)} of {len(self.snapshot())} round trips "
            f"({phase}); first ones: {bad[:10]!r}")

    def wait_rounds(self, n, after, timeout=60.0, what="rounds"):
        """Wait until n rounds of each kind have started after `after` and
        finished; returns them (bounded)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            for _ in range(1_000_000):
                got = [r for r in self.results if r.t0 >= after]
                kinds = Counter(r.kind for r in got)
                if kinds["tunnel"] >= n and kinds["get"] >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0 or not self.thread.is_alive():
                    break
                self.cond.wait(min(left, 0.5))
        raise AssertionError(
            f"canary made no progress: fewer than {n} {what} of each kind after "
            f"t={after:.3f} within {timeout}s; results: {self.snapshot()[-10:]!r}")

    def overlapping(self, t0, t1):
        return [r for r in self.snapshot() if r.t0 <= t1 and r.t1 >= t0]

    def assert_during(self, t0, t1, what):
        """Some rounds of each kind overlapped the attack window, all ok."""
        during = self.overlapping(t0, t1)
        kinds = Counter(r.kind for r in during)
        assert kinds["tunnel"] >= 1 and kinds["get"] >= 1, (
            f"no canary round overlapped the attack ({what}) "
            f"[{t0:.3f}..{t1:.3f}]: {kinds}")
        bad = [r for r in during if not r.ok]
        assert not bad, (f"canary failed during {what}: {len(bad)} of "
                         f"{len(during)}; first: {bad[:10]!r}")


def respond_and_close(req, ctx):
    """Answer like respond_info, with `Connection: close`: the proxy keeps
    no idle upstream connection, so descriptor counts come back exactly."""
    ctx.close = True
    return http_response(200, info_body(req.method, req.target),
                         [("Connection", "close")])


@pytest.fixture
def canary_origins(origin_factory, raw_http_origin):
    """(echo origin for the tunnel, HTTP origin for the GET)."""
    echo = origin_factory(handler_echo, max_conns=10_000)
    web = raw_http_origin(respond_and_close, max_conns=10_000)
    return echo, web


class Harness:
    """A proxy under attack with its canary and baselines."""

    def __init__(self, proxy, canary):
        self.proxy = proxy
        self.canary = canary
        self.base_fds = None
        self.base_rss = None

    def begin(self):
        """Warm up (synchronously), take the baselines, start the canary."""
        # "listening on" comes while the workers are still being set up;
        # their descriptors all exist once it says it is ready
        wait_for(lambda: "sluice ready" in self.proxy.stderr(), STARTUP_TIMEOUT,
                 what="'sluice ready' in the log")
        self.base_fds = fd_kinds(self.proxy.pid)
        self.canary.warm_up()
        self.base_rss = self.proxy.rss_kib()
        assert self.base_rss > 0
        self.canary.start()
        self.canary.wait_rounds(1, after=0.0, what="first rounds")
        return self

    def window(self, what, fn, min_rounds=0):
        """Run attack fn() and check the canary during it. With min_rounds,
        fn gets a callback hold() that waits (bounded) for that many canary
        rounds of each kind while the attack is in progress."""
        t0 = time.monotonic()

        def hold():
            if min_rounds:
                self.canary.wait_rounds(min_rounds, after=time.monotonic(),
                                        what=f"rounds during {what}")
        out = fn(hold)
        t1 = time.monotonic()
        assert self.proxy.alive(), f"proxy died during {what}:\n{self.proxy.stderr()[-4000:]}"
        self.canary.assert_during(t0, t1, what)
        print(f"{what}: {len(self.canary.overlapping(t0, t1))} canary round trips "
              f"during {t1 - t0:.1f}s, all ok")
        return out

    def after(self, what, n=3):
        """The canary keeps working after the attack."""
        t = time.monotonic()
        self.canary.wait_rounds(n, after=t, what=f"rounds after {what}")
        self.canary.assert_ok(f"after {what}")
        assert self.proxy.alive(), f"proxy died after {what}"

    def fds_back(self, what, timeout=30.0):
        """With the canary stopped: the proxy's sockets (and other non-pipe
        descriptors) come back to the baseline; idle splice pipes stay
        within the pipe pool's bound."""
        pid = self.proxy.pid
        workers = self.proxy.workers or 2
        pipe_cap = self.base_fds["pipe"] + 2 * PIPE_POOL_MAX_IDLE * workers
        last = {}

        def back():
            k = fd_kinds(pid)
            last["k"] = k
            return (k["socket"] <= self.base_fds["socket"]
                    and k["other"] <= self.base_fds["other"]
                    and k["pipe"] <= pipe_cap)
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 2):
            if back():
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"after {what}: proxy descriptors did not return to the baseline "
            f"within {timeout}s: now {dict(last.get('k', {}))}, baseline "
            f"{dict(self.base_fds)} (pipes allowed up to {pipe_cap})")

    def rss_bounded(self, what, peak_conns=0):
        """RSS growth since the baseline stays under RSS_GROWTH_KIB, plus
        PER_CONN_KIB for each connection the attack had open at once (the
        allocator keeps that memory for reuse after they close), plus
        ASan's quarantine for an ASan build."""
        now = self.proxy.rss_kib()
        limit = RSS_GROWTH_KIB + PER_CONN_KIB * peak_conns
        if is_asan_binary(str(self.proxy.binary)):
            limit += ASAN_QUARANTINE_KIB
        growth = now - self.base_rss
        assert growth < limit, (
            f"after {what}: proxy RSS grew by {growth} KiB (baseline "
            f"{self.base_rss} KiB, now {now} KiB, bound {limit} KiB with "
            f"{peak_conns} connections open at once)")
        return growth

    def finish(self, what, peak_conns=0):
        self.after(what)
        self.canary.stop()
        self.canary.assert_ok(f"end of {what}")
        self.fds_back(what)
        growth = self.rss_bounded(what, peak_conns)
        # shown by pytest -rP
        print(f"{what}: canary {Counter(r.kind for r in self.canary.snapshot())} "
              f"all ok; proxy fds {dict(fd_kinds(self.proxy.pid))} (baseline "
              f"{dict(self.base_fds)}); RSS {self.base_rss} KiB -> +{growth} KiB")


@pytest.fixture
def harness(proxy_factory, canary_origins):
    """make(**directives) -> Harness (proxy started, canary running)."""
    made = []

    def make(canary_target=None, **directives):
        echo, web = canary_origins
        p = proxy_factory(**directives)
        c = Canary(p, canary_target or echo.target, web.port)
        h = Harness(p, c)
        made.append(h)
        return h.begin()

    yield make
    for h in made:
        h.canary.stop()


# --------------------------------------------------------------------------
# the attacks (each bounded in count and in time); every one returns what
# it saw and asserts nothing about the canary itself
# --------------------------------------------------------------------------


def slowloris_heads(target_port, n):
    out = []
    for i in range(n):
        if i % 2 == 0:
            t = f"127.0.0.1:{target_port}"
            h = (f"CONNECT {t} HTTP/1.1\r\nHost: {t}\r\n"
                 f"User-Agent: slowloris/{i} (a head one byte at a time)\r\n"
                 f"X-Padding: {'p' * 60}\r\n\r\n")
        else:
            h = (f"GET http://127.0.0.1:{target_port}/slow/{i} HTTP/1.1\r\n"
                 f"Host: 127.0.0.1:{target_port}\r\n"
                 f"User-Agent: slowloris/{i} (a head one byte at a time)\r\n"
                 f"X-Padding: {'p' * 60}\r\n\r\n")
        out.append(h.encode())
    return out


def attack_slowloris(proxy, victim_port, hold, n=200, interval=0.2, timeout=20.0):
    """n connections each sending a head one byte every `interval` seconds.
    A head is ~150 bytes: 30 s at this rate, far beyond header-timeout.
    Returns [(data, end, bytes_sent, head_len)]."""
    heads = slowloris_heads(victim_port, n)
    socks = []
    try:
        for i in range(n):
            s = open_conn(proxy.addr, spread_source(i))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
        sent = [0] * n
        last = [0.0]
        ticks = [0]

        def tick(end):
            now = time.monotonic()
            if now - last[0] < interval:
                return
            last[0] = now
            for i, s in enumerate(socks):
                if end[i] != "open" or sent[i] >= len(heads[i]):
                    continue
                try:
                    sent[i] += s.send(heads[i][sent[i]:sent[i] + 1])
                except BlockingIOError:
                    pass
                except OSError:
                    pass  # closed by the proxy: its reply/EOF is read below
            ticks[0] += 1
            if ticks[0] == 3:
                hold()  # canary rounds while all of them trickle
        data, end = collect_until_closed(socks, timeout, on_tick=tick)
        return [(data[i], end[i], sent[i], len(heads[i])) for i in range(n)]
    finally:
        close_all(socks)


def attack_idle(proxy, n, hold, wait_held=True, timeout=60.0, base_total=0):
    """n connections that send nothing. Opens them (non-blocking), waits
    until each is connected, optionally until the proxy holds them all,
    then hold() (canary rounds while they are open), then reads each until
    the proxy closes it. Returns (outcomes, peak proxy fds)."""
    socks = []
    peak = [0]
    try:
        ep = select.epoll()
        pending = {}
        for i in range(n):
            s = open_conn(proxy.addr, spread_source(i), blocking=False)
            socks.append(s)
            pending[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT)
        deadline = time.monotonic() + timeout
        failed = []
        for _ in range(10_000_000):
            if not pending or time.monotonic() > deadline:
                break
            for fd, _ev in ep.poll(0.1, 4096):
                s = pending.pop(fd, None)
                if s is None:
                    continue
                ep.unregister(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    failed.append(os.strerror(err))
        ep.close()
        assert not pending and not failed, (
            f"{len(pending)} of {n} connections not established within "
            f"{timeout}s, {len(failed)} failed: {Counter(failed)}")
        if wait_held:
            want = base_total + n

            def held():
                peak[0] = max(peak[0], fd_total(proxy.pid))
                return peak[0] >= want
            dl = time.monotonic() + timeout
            for _ in range(int(timeout / 0.05) + 2):
                if held() or time.monotonic() > dl:
                    break
                time.sleep(0.05)
            assert held(), (
                f"the proxy never held all {n} idle connections at once: "
                f"peak {peak[0]} descriptors, expected >= {want}")
        hold()
        if wait_held:
            now = fd_total(proxy.pid)
            peak[0] = max(peak[0], now)
            assert now >= base_total + n, (
                f"idle connections closed before the canary rounds ended "
                f"({now} descriptors): cannot tell the canary ran while they "
                f"were all open")
        data, end = collect_until_closed(socks, timeout)
        return [(d, e) for d, e in zip(data, end)], peak[0]
    finally:
        close_all(socks)


HALF_OPEN_KINDS = {
    "nothing": lambda port: b"",
    "connect-partial": lambda port: b"CONNECT 127.0.0.1:",
    "connect-no-end": lambda port: (f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n"
                                    f"Host: 127.0.0.1:{port}\r\n").encode(),
    "get-partial": lambda port: (f"GET http://127.0.0.1:{port}/half HTTP/1.1\r\n"
                                 f"Host: 127.0").encode(),
    "get-cr-only": lambda port: (f"GET http://127.0.0.1:{port}/half HTTP/1.1\r\n"
                                 f"Host: 127.0.0.1:{port}\r\n\r").encode(),
}


def attack_half_open(proxy, victim_port, hold, n=1000, timeout=30.0):
    """n connections that send a partial head (or nothing) and then
    shutdown(SHUT_WR). Returns [(kind, data, end)]."""
    kinds = list(HALF_OPEN_KINDS)
    socks = []
    names = []
    try:
        for i in range(n):
            k = kinds[i % len(kinds)]
            s = open_conn(proxy.addr, spread_source(i))
            data = HALF_OPEN_KINDS[k](victim_port)
            if data:
                s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            socks.append(s)
            names.append(k)
        hold()
        data, end = collect_until_closed(socks, timeout)
        return list(zip(names, data, end))
    finally:
        close_all(socks)


def run_threads(n, fn, timeout):
    """fn(k) in n threads; returns their results (exceptions re-raised)."""
    results = [None] * n
    errors = []

    def run(k):
        try:
            results[k] = fn(k)
        except BaseException as e:  # noqa: BLE001
            errors.append((k, e))
    ts = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(n)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in ts)
    assert not stuck, f"{stuck} attack threads still running after {timeout}s"
    if errors:
        k, e = errors[0]
        raise AssertionError(f"attack thread {k} failed: {e!r}") from e
    return results


def send_and_read(addr, data, source, shut_wr=False, timeout=IO_TIMEOUT):
    """Send data, read until the proxy closes. Returns (reply, end, send_error)."""
    s = open_conn(addr, source, timeout)
    send_err = None
    with s:
        try:
            s.settimeout(timeout)
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err = type(e).__name__
        buf = bytearray()
        end = "open"
        deadline = time.monotonic() + timeout
        for _ in range(100_000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                end = "reset"
                break
            if not chunk:
                end = "eof"
                break
            buf += chunk
    return bytes(buf), end, send_err


def header_flood_requests(web_port, max_fields=100, max_head=64 << 10):
    """(name, bytes, expected status) of the refused heads."""
    t = f"127.0.0.1:{web_port}"
    over_fields = [(f"X-F{i}", f"v{i}") for i in range(max_fields)]  # + Host
    connect_over = (f"CONNECT {t} HTTP/1.1\r\nHost: {t}\r\n" +
                    "".join(f"{k}: {v}\r\n" for k, v in over_fields) + "\r\n").encode()
    get_over = http_request("GET", f"http://{t}/refused/fields", over_fields)
    huge_line = http_request("GET", f"http://{t}/refused/line",
                             [("X-Huge", "h" * (max_head + 4096))])
    many_long = http_request("GET", f"http://{t}/refused/size",
                             [(f"X-L{i}", "l" * 900) for i in range(80)])
    assert len(many_long) > max_head
    return [("connect-101-fields", connect_over, 431),
            ("get-101-fields", get_over, 431),
            ("huge-line", huge_line, 431),
            ("80x900-bytes", many_long, 431)]


def attack_header_floods(proxy, web, hold, threads=8, rounds=12, ok_threads=8,
                         ok_requests=25, timeout=120.0):
    """Refused heads (431) from `threads` threads, and in parallel valid
    99-field requests (keep-alive) from `ok_threads` threads. Returns
    (refused outcomes [(name, status/close/junk, detail)], ok failures)."""
    refused = header_flood_requests(web.port)
    t = f"127.0.0.1:{web.port}"
    fields_99 = [(f"X-N{i}", f"value-{i}") for i in range(98)]  # + Host = 99

    def flood(k):
        out = []
        for r in range(rounds):
            name, data, want = refused[(k + r) % len(refused)]
            reply, end, err = send_and_read(proxy.addr, data, spread_source(k * 97 + r))
            got = classify(reply)
            out.append((name, want, got, end, err, reply[:120]))
        return out

    def valid(k):
        bad = []
        with SourcedClient(proxy.addr, spread_source(1000 + k)) as c:
            for j in range(ok_requests):
                path = f"/ok99/{k}/{j}"
                c.request("GET", f"http://{t}{path}", fields_99)
                r = c.read_response()
                if r.status != 200 or r.body != info_body("GET", path):
                    bad.append((path, r))
                    break
                if r.says_close:  # the web origin closes; a new connection
                    c.close()
                    c.__init__(proxy.addr, spread_source(1000 + k))
        return bad

    def both(k):
        return flood(k) if k < threads else valid(k - threads)

    res = run_threads(threads + ok_threads, both, timeout)
    hold()
    flood_out = [x for r in res[:threads] for x in r]
    ok_bad = [x for r in res[threads:] for x in r]
    return flood_out, ok_bad


def garbage_payload(i, port):
    """Seeded random bytes of one of five shapes; (shape, bytes). Shapes
    that start like a request name 127.0.0.1:port."""
    rng = random.Random(SEED * 1000 + i)
    shape = ("binary", "printable-lines", "request-line+binary",
             "binary+crlfcrlf", "huge-binary")[i % 5]
    if shape == "binary":
        data = rng.randbytes(rng.randint(1, 16384))
    elif shape == "printable-lines":
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :/.-_"
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
                 for _ in range(rng.randint(1, 40))]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    elif shape == "request-line+binary":
        first = rng.choice([f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\n",
                            f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n",
                            f"POST http://127.0.0.1:{port}/x HTTP/1.1\r\n"
                            "Content-Length: 5\r\n"]).encode()
        data = first + rng.randbytes(rng.randint(1, 8192))
    elif shape == "binary+crlfcrlf":
        data = rng.randbytes(rng.randint(1, 4096)) + b"\r\n\r\n"
    else:
        data = rng.randbytes(rng.randint(70_000, 200_000))
    return shape, data


def attack_garbage(proxy, victim_port, hold, n=500, threads=10, timeout=120.0):
    """n connections sending seeded random bytes, then closing: even ones
    shutdown(SHUT_WR) and read the reply, odd ones close at once (possibly
    with unread data: an RST). Returns [(i, shape, outcome, end, head)]."""
    per = (n + threads - 1) // threads

    def run(k):
        out = []
        for i in range(k * per, min(n, (k + 1) * per)):
            shape, data = garbage_payload(i, victim_port)
            if i % 2 == 0:
                reply, end, _err = send_and_read(proxy.addr, data, spread_source(i),
                                                 shut_wr=True)
                out.append((i, shape, classify(reply), end, reply[:100]))
            else:
                s = open_conn(proxy.addr, spread_source(i))
                try:
                    s.sendall(data)
                except OSError:
                    pass
                s.close()
                out.append((i, shape, "abandoned", "-", b""))
        return out

    res = run_threads(threads, run, timeout)
    hold()
    return [x for r in res for x in r]


def smuggling_cases(o):
    """(id, bytes, allowed statuses, head_vector?) for every vector; each
    request path names its vector."""
    def tag(data, name):
        return data.replace(b"/front ", f"/front-{name} ".encode(), 1)
    host = f"Host: {o.authority}".encode()
    cases = []
    for name, lines, body in HEAD_VECTORS:
        cases.append((name, tag(vector_bytes(o, [host] + lines, body), name),
                      (400, 501), True))
    cases.append(("bare-LF", tag(vector_bytes(o, [host, b"Content-Length: 46"], SMUGGLED,
                                              sep=b"\n"), "bare-LF"), (400,), True))
    cases.append(("bare-LF-mixed", (
        f"POST {o.url('/front-bare-LF-mixed')} HTTP/1.1\r\n{host.decode()}\r\n"
        f"X-A: a\nContent-Length: 46\r\n\r\n").encode() + SMUGGLED, (400,), True))
    cases.append(("TE-in-HTTP-1.0", tag(vector_bytes(
        o, [b"Transfer-Encoding: chunked"], b"0\r\n\r\n" + SMUGGLED,
        version="HTTP/1.0"), "TE-in-HTTP-1.0"), (400,), True))
    for name, body in BODY_VECTORS:
        cases.append((name, tag(vector_bytes(o, [host, b"Transfer-Encoding: chunked"],
                                             body), name), (400, "close"), False))
    return cases


def attack_smuggling(proxy, o, hold, threads=20, timeout=120.0):
    """Every vector from each of `threads` threads (each in its own seeded
    order). Returns [(id, allowed, outcome, end, n_responses, head)]."""
    cases = smuggling_cases(o)

    def run(k):
        order = list(range(len(cases)))
        random.Random(SEED + k).shuffle(order)
        out = []
        for j, ci in enumerate(order):
            name, data, allowed, _hv = cases[ci]
            reply, end, _err = send_and_read(proxy.addr, data,
                                             spread_source(k * 50 + j))
            out.append((name, allowed, classify(reply), end,
                        count_responses(reply), reply[:120]))
        return out

    res = run_threads(threads, run, timeout)
    hold()
    return [x for r in res for x in r], cases


class PortListener:
    """A listener on 127.0.0.1:port (root may bind low ports) that records
    the connections it gets; echo=True echoes (for the canary's tunnel).
    Bounded: at most max_conns connections, each handled for conn_timeout."""

    def __init__(self, port, echo=False, max_conns=10_000, conn_timeout=60.0):
        self.port = port
        self.echo = echo
        self.conns = []
        self.closed = False
        self.max_conns = max_conns
        self.conn_timeout = conn_timeout
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.ls.bind(("127.0.0.1", port))
            self.ls.listen(128)
        except OSError:
            self.ls.close()
            raise
        self.ls.settimeout(0.2)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def _loop(self):
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
            self.conns.append(peer)
            if self.echo:
                threading.Thread(target=self._echo, args=(c,), daemon=True).start()
            else:
                c.close()

    def _echo(self, c):
        with c:
            deadline = time.monotonic() + self.conn_timeout
            for _ in range(1_000_000):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                c.settimeout(left)
                try:
                    chunk = c.recv(65536)
                    if not chunk:
                        c.shutdown(socket.SHUT_WR)
                        return
                    c.sendall(chunk)
                except OSError:
                    return

    def close(self):
        self.closed = True
        try:
            self.ls.close()
        except OSError:
            pass
        self.thread.join(2)


@pytest.fixture
def port_listeners():
    made = []

    def make(port, **kw):
        try:
            pl = PortListener(port, **kw)
        except OSError:
            return None
        made.append(pl)
        return pl

    yield make
    for pl in made:
        pl.close()


FORBIDDEN_PORTS = (25, 22, 6379)


def forbidden_connect_targets():
    """(target, allowed statuses): plain, via a name, and port spellings that
    a lenient parser could read as one of the forbidden ports."""
    out = []
    for port in FORBIDDEN_PORTS:
        out.append((f"127.0.0.1:{port}", (403,)))
        out.append((f"example.test:{port}", (403,)))
        if HAVE_IPV6:
            out.append((f"[::1]:{port}", (403,)))
        for spelled in (f"0{port}", f"000{port}", f"+{port}", f"{port + 65536}",
                        f"{port + (1 << 32)}", f"{port}.0", f" {port}", f"0x{port:x}"):
            out.append((f"127.0.0.1:{spelled}", (400, 403)))
        out.append((f"127.1:{port}", (400, 403)))
        out.append((f"2130706433:{port}", (400, 403)))
    return out


def attack_forbidden_ports(proxy, hold, threads=6, rounds=3, timeout=60.0):
    targets = forbidden_connect_targets()

    def run(k):
        out = []
        for r in range(rounds):
            for j, (t, allowed) in enumerate(targets):
                data = f"CONNECT {t} HTTP/1.1\r\nHost: {t.strip()}\r\n\r\n".encode()
                reply, end, _err = send_and_read(proxy.addr, data,
                                                 spread_source(k * 31 + j + r))
                out.append((t, allowed, classify(reply), end, reply[:100]))
        return out

    res = run_threads(threads, run, timeout)
    hold()
    return [x for r in res for x in r]


def attack_connect_flood(proxy, hold, n=2000, limit=50, source="127.0.0.1",
                         timeout=60.0):
    """n connections from one address, opened as fast as possible and all
    kept open. Each refused one is answered and closed without our sending
    anything: read until all but `limit` are closed (bounded), then hold()
    with the admitted ones still open, then close them all. Returns (data,
    end, quiet): per connection what it got, and for those still open
    whether they are quiet (None) or what recv gave."""
    socks = []
    try:
        for _ in range(n):
            socks.append(open_conn(proxy.addr, source))
        data, end = collect_until_closed(
            socks, timeout, on_tick=lambda e: n - e.count("open") >= n - limit)
        # anything else the proxy would close or say shortly
        open_idx = [i for i, e in enumerate(end) if e == "open"]
        more, more_end = collect_until_closed([socks[i] for i in open_idx], 0.5)
        for j, i in enumerate(open_idx):
            data[i] += more[j]
            end[i] = more_end[j]
        hold()
        # the admitted ones are still open and quiet
        quiet = []
        for i, s in enumerate(socks):
            if end[i] != "open":
                continue
            try:
                b = s.recv(1)
                quiet.append(b"EOF" if not b else b)
            except BlockingIOError:
                quiet.append(None)
            except OSError as e:
                quiet.append(type(e).__name__)
        return data, end, quiet
    finally:
        close_all(socks)


# --------------------------------------------------------------------------
# the checks of each attack's outcome
# --------------------------------------------------------------------------


def check_slowloris(results, proxy, victim):
    outcomes = []
    bad = []
    for i, (data, end, sent, hlen) in enumerate(results):
        o = classify(data)
        outcomes.append((o, end))
        if sent >= hlen:
            bad.append((i, "whole head sent before the proxy gave up", data[:100]))
        elif end == "open":
            bad.append((i, f"still open after {sent} of {hlen} bytes", data[:100]))
        elif o not in (408, "close"):
            bad.append((i, f"got {o!r}", data[:100]))
        elif o == 408 and count_responses(data) != 1:
            bad.append((i, "more than one response", data[:300]))
    assert not bad, (
        f"slowloris: expected 408 (or a close) for each of {len(results)} "
        f"connections; outcomes {Counter(outcomes)}; bad (first 10): {bad[:10]}")
    assert not victim.records and not getattr(victim, "requests", []), (
        "a slowloris head reached the target")
    # the line is written just after the close: poll (bounded)
    ends = Counter()

    def logged():
        ends.clear()
        ends.update(e.fields.get("end") for e in proxy.access_entries()
                    if e.client.startswith("127.0.1."))
        return sum(ends.values()) >= len(results)
    try:
        wait_for(logged, IO_TIMEOUT, what="access-log lines")
    except AssertionError:
        pass
    assert ends == Counter({"header-timeout": len(results)}), (
        f"access log of the slowloris connections: {ends}, expected "
        f"{len(results)} x end=header-timeout")
    return Counter(outcomes)


def check_idle(outcomes, what):
    c = Counter((classify(d), e) for d, e in outcomes)
    bad = [(i, classify(d), e, d[:100]) for i, (d, e) in enumerate(outcomes)
           if e == "open" or classify(d) not in (408, "close")]
    assert not bad, (f"{what}: expected each idle connection closed with 408 "
                     f"(or quietly); outcomes {c}; bad (first 10): {bad[:10]}")
    print(f"{what} outcomes: {dict(c)}")
    return c


def check_half_open(results):
    c = Counter((k, classify(d), e) for k, d, e in results)
    bad = [(i, k, classify(d), e, d[:100]) for i, (k, d, e) in enumerate(results)
           if e == "open" or classify(d) not in (400, 408, "close")]
    assert not bad, (f"half-closed partial heads: expected 400/408 or a close "
                     f"for each; outcomes {c}; bad (first 10): {bad[:10]}")
    print(f"half-closed partial heads outcomes: {dict(c)}")
    return c


def check_header_floods(flood, ok_bad, web):
    bad = [(name, want, got, end, err, head) for name, want, got, end, err, head in flood
           if got != want or end == "open"]
    assert not bad, (
        f"header floods: {len(bad)} of {len(flood)} refused heads not answered "
        f"as expected; outcomes {Counter((n, g) for n, _, g, *_ in flood)}; "
        f"first: {bad[:5]}")
    assert not ok_bad, f"99-field requests refused or mangled: {ok_bad[:3]}"
    refused = [q.target for q in web.requests if q.target.startswith("/refused")]
    assert not refused, f"refused heads reached the origin: {refused[:5]}"
    ok99 = [q for q in web.requests if q.target.startswith("/ok99/")]
    assert ok99, "no 99-field request reached the origin"
    for q in ok99[:50]:
        assert len(q.values("x-n97")) == 1, f"99-field request lost fields: {q!r}"


def check_garbage(results, victim_conns):
    c = Counter((shape, o) for _i, shape, o, _e, _h in results)
    bad = [(i, shape, o, e, h) for i, shape, o, e, h in results
           if o != "abandoned" and (e == "open" or not (
               o == "close" or (isinstance(o, int) and 400 <= o <= 499)))]
    assert not bad, (
        f"random garbage (seed {SEED}): expected a 4xx or a close for each; "
        f"outcomes {c}; bad (first 10; regenerate the input with "
        f"garbage_payload(i, port)): {bad[:10]}")
    assert victim_conns == 0, f"garbage reached an origin ({victim_conns} connections)"
    print(f"random garbage outcomes: {dict(c)}")
    return c


def check_attack_log_4xx(proxy, what):
    """Every access-log line of an attack connection (127.0.1.*) is a 4xx:
    nothing was forwarded or dialled."""
    lines = [e for e in proxy.access_entries() if e.client.startswith("127.0.1.")]
    bad = [e.line for e in lines if not e.fields.get("status", "").startswith("4")]
    assert not bad, f"{what}: access-log lines that are not a 4xx: {bad[:10]}"


def check_smuggling(results, cases, o):
    bad = [r for r in results
           if r[2] not in r[1] or r[3] == "open" or r[4] > 1]
    assert not bad, (
        f"smuggling vectors: {len(bad)} of {len(results)} not refused as "
        f"expected (id, allowed, got, end, responses, head); first: {bad[:8]}")
    time.sleep(0.2)
    seen = o.all_bytes()
    assert b"smuggled" not in seen, (
        f"smuggled bytes reached the origin: ...{seen[seen.find(b'smuggled') - 200:][:400]!r}")
    targets = [q.target or "" for q in o.requests]
    assert not [t for t in targets if "smuggled" in t], targets
    head_ids = {name for name, _d, _a, hv in cases if hv}
    leaked = [t for t in targets if t.startswith("/front-") and t[7:] in head_ids]
    assert not leaked, f"vectors refused at the head reached the origin: {leaked[:10]}"
    for q in o.requests:
        assert not q.malformed, f"malformed head reached the origin: {q!r}"


def check_forbidden(results, proxy, traps):
    bad = [r for r in results if r[2] not in r[1] or r[3] == "open"]
    assert not bad, (
        f"CONNECT to forbidden ports: {len(bad)} of {len(results)} not refused "
        f"as expected (target, allowed, got, end, head); first: {bad[:8]}")
    time.sleep(0.2)
    for port, trap in traps.items():
        if trap is not None:
            assert not trap.conns, f"port {port} got connections: {trap.conns[:5]}"
    print("CONNECT to forbidden ports:", dict(Counter((r[0], r[2]) for r in results)))
    denied = [e for e in proxy.access_entries() if e.method == "CONNECT"
              and e.fields.get("status") == "403"]
    assert denied and all(e.fields.get("end") == "port-denied" for e in denied), (
        [e.line for e in denied if e.fields.get("end") != "port-denied"][:5])


def check_connect_flood(data, end, quiet, proxy, n, limit, source):
    outcomes = Counter((classify(d), e) for d, e in zip(data, end))
    refused = [i for i, d in enumerate(data) if classify(d) == 503]
    other = [(i, classify(d), e, d[:100]) for i, (d, e) in enumerate(zip(data, end))
             if classify(d) not in (503, "close") or (classify(d) == 503 and e == "open")]
    assert not other, f"connection flood: unexpected replies {other[:10]}; {outcomes}"
    silent_closed = [i for i, (d, e) in enumerate(zip(data, end))
                     if not d and e != "open"]
    assert not silent_closed, (
        f"connection flood: {len(silent_closed)} connections closed without "
        f"a 503; outcomes {outcomes}")
    assert len(refused) == n - limit, (
        f"connection flood of {n} from {source} with max-connections-per-client "
        f"{limit}: expected {n - limit} x 503, got {len(refused)}; {outcomes}")
    assert quiet == [None] * limit, (
        f"the {limit} admitted connections should be open and quiet: "
        f"{Counter(map(repr, quiet))}")
    for i in refused[:20]:
        assert f"too many connections from {source}".encode() in data[i], data[i]
    warn = f"client {source} reached max-connections-per-client ({limit})"
    err = proxy.stderr()
    assert count_lines(err, warn) == 1, (
        f"expected exactly one warning {warn!r}; got "
        f"{count_lines(err, warn)}:\n"
        + "\n".join(l for l in err.splitlines() if "max-connections" in l)[:3000])
    others = [l for l in err.splitlines()
              if "max-connections-per-client" in l and source + " " not in l]
    assert not others, f"other clients warned: {others[:5]}"
    over = []

    def logged():  # each line is written just after its close: poll
        over[:] = [e for e in proxy.access_entries()
                   if e.fields.get("end") == "over-limit"]
        return len(over) >= n - limit
    try:
        wait_for(logged, IO_TIMEOUT, what="access-log lines")
    except AssertionError:
        pass
    assert len(over) == n - limit, (
        f"{len(over)} access-log lines with end=over-limit, expected {n - limit}")
    assert all(e.client.startswith(source + ":") for e in over), over[:3]


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------


def test_slowloris(harness, origin_factory):
    """200 connections trickling a head one byte every 200 ms, with
    header-timeout 2s: each gets 408 (or is closed), the target never hears
    of them, the canary is unaffected, and the descriptors come back."""
    h = harness(header_timeout="2s")
    victim = origin_factory(handler_echo)
    results = h.window("slowloris", lambda hold: attack_slowloris(
        h.proxy, victim.port, hold), min_rounds=2)
    check_slowloris(results, h.proxy, victim)
    h.finish("slowloris", peak_conns=200)


IDLE_CONNS = 10_000


def test_ten_thousand_idle_connections(harness):
    """10,000 connections that send nothing: while the proxy holds all of
    them the canary works; header-timeout closes every one (408 or a quiet
    close); the descriptors come back to the baseline. Done twice: the
    second round must not grow RSS further (memory kept after the first is
    the allocator's, reused -- not a leak)."""
    # descriptors in this process and in the proxy (which inherits the
    # limit, and raises its soft limit to the hard one)
    need = IDLE_CONNS + 1024
    if raise_nofile(need) is None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need} and cannot be raised")
    # header-timeout: long enough that the proxy can be seen holding all of
    # them at once (a safety margin, not a performance requirement)
    h = harness(header_timeout="8s")
    base_total = sum(h.base_fds.values())  # taken with no connection open
    rss = []
    for rnd in (1, 2):
        what = f"10,000 idle connections (round {rnd})"
        outcomes, peak = h.window(what, lambda hold: attack_idle(
            h.proxy, IDLE_CONNS, hold, base_total=base_total), min_rounds=3)
        check_idle(outcomes, what)
        assert peak >= base_total + IDLE_CONNS
        rss.append(h.proxy.rss_kib())
    again = rss[1] - rss[0]
    limit = REPEAT_GROWTH_KIB
    if is_asan_binary(str(h.proxy.binary)):
        limit += ASAN_QUARANTINE_KIB
    assert again < limit, (
        f"RSS grew by {again} KiB more in the second round of 10,000 idle "
        f"connections (after round 1: {rss[0]} KiB, after round 2: {rss[1]} "
        f"KiB, baseline {h.base_rss} KiB): memory not reused")
    h.finish("10,000 idle connections", peak_conns=IDLE_CONNS)


def test_half_closed_partial_heads(harness, origin_factory):
    """1,000 connections that send part of a head (or nothing) and then
    shutdown(SHUT_WR): each is answered 400/408 or closed, in bounded time;
    nothing reaches the target; the canary works throughout."""
    h = harness(header_timeout="2s")
    victim = origin_factory(handler_echo)
    results = h.window("half-closed partial heads", lambda hold: attack_half_open(
        h.proxy, victim.port, hold), min_rounds=1)
    check_half_open(results)
    assert not victim.records, "a partial head reached the target"
    h.finish("half-closed partial heads", peak_conns=1000)


def test_header_floods(harness, raw_http_origin):
    """Heads with max-header-fields+1 fields, one header line over
    max-head-size, and a head over max-head-size in 80 lines: 431 each,
    from 8 threads; meanwhile 8 threads send valid 99-field requests that
    all get through intact; the canary is unaffected."""
    h = harness()
    web = raw_http_origin(respond_and_close, max_conns=10_000)
    flood, ok_bad = h.window("header floods", lambda hold: attack_header_floods(
        h.proxy, web, hold))
    check_header_floods(flood, ok_bad, web)
    h.finish("header floods", peak_conns=16)


def test_random_garbage(harness, origin_factory):
    """500 connections of seeded random bytes (five shapes); half read the
    answer after shutdown(SHUT_WR): a 4xx or a close, never anything else;
    half just close. Nothing reaches an origin, every access-log line is a
    4xx, the proxy stays up and the canary works."""
    h = harness(header_timeout="3s")
    victim = origin_factory(handler_echo)
    results = h.window("random garbage", lambda hold: attack_garbage(
        h.proxy, victim.port, hold))
    check_garbage(results, len(victim.records))
    check_attack_log_4xx(h.proxy, "random garbage")
    h.finish("random garbage", peak_conns=10)


def test_smuggling_vectors_in_parallel(harness, raw_http_origin):
    """Every request-smuggling vector of test_forward_smuggling.py from 20
    threads at once: each gets its 400/501 (or, in a chunked body, a
    close), and the origin never sees a smuggled request."""
    h = harness()
    o = raw_http_origin(max_conns=10_000)
    results, cases = h.window("smuggling vectors", lambda hold: attack_smuggling(
        h.proxy, o, hold))
    check_smuggling(results, cases, o)
    h.finish("smuggling vectors", peak_conns=20)


def test_connect_to_forbidden_ports(harness, canary_origins, port_listeners):
    """CONNECT to 25, 22 and 6379 (and spellings of them) with the default
    connect-ports: 403 (400 for a malformed spelling), and a listener on
    the port (bound where it is free: port 25 needs root) never gets a
    connection. The canary tunnels to port 443 when it can listen there,
    else to its own port added to the list."""
    traps = {p: port_listeners(p) for p in FORBIDDEN_PORTS}
    tls_port = port_listeners(443, echo=True)
    if tls_port is not None:
        h = harness(connect_ports=None, canary_target=tls_port.target)
    else:
        # 443 not available: the canary's port joins the list, which still
        # leaves out every forbidden port
        h = harness(connect_ports=f"443 {canary_origins[0].port}")
    results = h.window("CONNECT to forbidden ports", lambda hold: attack_forbidden_ports(
        h.proxy, hold))
    check_forbidden(results, h.proxy, traps)
    if tls_port is not None:
        assert tls_port.conns, "the canary's tunnels did not reach port 443"
    h.finish("CONNECT to forbidden ports", peak_conns=6)


def test_connection_flood_per_client_limit(harness):
    """2,000 connections opened as fast as possible from 127.0.0.1 and kept
    open, with max-connections-per-client 50: 50 are admitted, the other
    1,950 get 503 and are closed; one warning is logged for 127.0.0.1; the
    canary (from 127.0.0.2) works throughout."""
    need = 2000 + 1024
    if raise_nofile(need) is None:
        pytest.skip(f"RLIMIT_NOFILE too low for {need} descriptors")
    h = harness(max_connections_per_client="50", header_timeout="60s")
    data, end, quiet = h.window("connection flood", lambda hold: attack_connect_flood(
        h.proxy, hold, 2000, 50), min_rounds=2)
    check_connect_flood(data, end, quiet, h.proxy, 2000, 50, "127.0.0.1")
    h.finish("connection flood", peak_conns=2000)


def check_connect_flood_loose(data, end, proxy, n, limit, source):
    """The flood when the admitted connections may time out meanwhile
    (short header-timeout): each connection got 503 or, admitted, a 408 or
    a close; at least n - limit were refused; warnings only for source."""
    outcomes = Counter((classify(d), e) for d, e in zip(data, end))
    bad = [(i, classify(d), e, d[:100]) for i, (d, e) in enumerate(zip(data, end))
           if classify(d) not in (503, 408, "close")]
    assert not bad, f"connection flood: unexpected replies {bad[:10]}; {outcomes}"
    refused = sum(1 for d in data if classify(d) == 503)
    assert refused >= n - limit, (
        f"connection flood of {n} from {source} with max-connections-per-client "
        f"{limit}: only {refused} x 503; {outcomes}")
    err = proxy.stderr()
    warn = f"client {source} reached max-connections-per-client ({limit})"
    assert count_lines(err, warn) >= 1, err[-3000:]
    others = [l for l in err.splitlines()
              if "max-connections-per-client" in l and source + " " not in l]
    assert not others, f"other clients warned: {others[:5]}"


def test_gauntlet_all_attacks_one_proxy(harness, canary_origins, origin_factory,
                                        raw_http_origin, port_listeners):
    """Every attack above, one after the other, against one proxy
    (header-timeout 2s, max-connections-per-client 50, connect-ports
    without 22/25/6379), with one canary throughout: it only ever
    succeeds, the descriptors come back, and after all of it the RSS is
    bounded."""
    if raise_nofile(IDLE_CONNS + 1024) is None:
        pytest.skip(f"RLIMIT_NOFILE too low for {IDLE_CONNS + 1024} descriptors")
    echo, _web = canary_origins
    traps = {p: port_listeners(p) for p in FORBIDDEN_PORTS}
    h = harness(header_timeout="2s", max_connections_per_client="50",
                connect_ports=f"443 {echo.port}")
    victim = origin_factory(handler_echo)
    web = raw_http_origin(respond_and_close, max_conns=10_000)
    smug = raw_http_origin(max_conns=10_000)

    results = h.window("slowloris", lambda hold: attack_slowloris(
        h.proxy, victim.port, hold), min_rounds=2)
    check_slowloris(results, h.proxy, victim)

    # with a 2 s header-timeout the proxy may start closing them before the
    # last is open: no "all held at once" here (the dedicated test has it)
    outcomes, _peak = h.window("10,000 idle connections", lambda hold: attack_idle(
        h.proxy, IDLE_CONNS, hold, wait_held=False), min_rounds=2)
    check_idle(outcomes, "10,000 idle connections")

    results = h.window("half-closed partial heads", lambda hold: attack_half_open(
        h.proxy, victim.port, hold), min_rounds=1)
    check_half_open(results)

    flood, ok_bad = h.window("header floods", lambda hold: attack_header_floods(
        h.proxy, web, hold))
    check_header_floods(flood, ok_bad, web)

    results = h.window("random garbage", lambda hold: attack_garbage(
        h.proxy, victim.port, hold))
    check_garbage(results, len(victim.records))

    results, cases = h.window("smuggling vectors", lambda hold: attack_smuggling(
        h.proxy, smug, hold))
    check_smuggling(results, cases, smug)

    results = h.window("CONNECT to forbidden ports", lambda hold: attack_forbidden_ports(
        h.proxy, hold))
    check_forbidden(results, h.proxy, traps)

    data, end, _quiet = h.window("connection flood", lambda hold: attack_connect_flood(
        h.proxy, hold, 2000, 50), min_rounds=2)
    check_connect_flood_loose(data, end, h.proxy, 2000, 50, "127.0.0.1")

    assert not victim.records, "an attack reached the target"
    h.finish("all attacks", peak_conns=IDLE_CONNS)
