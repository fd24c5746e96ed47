"""The scenarios of bench/bench.py: how each one is run and measured.

Every function takes `b`, the run's bench.Bench (origins, proxies, options,
results), and a target name (direct, relay, sluice, squid, ats, tinyproxy,
privoxy). Scenarios 1-4 are a function measuring one target once, which
run_interleaved() calls target after target, round after round; 5 and 6
drive themselves. SCENARIOS lists them, with what each table shows, and
with what the blind relay (bench/relay.c) means in each, or why it is
left out.
Standard library only.
"""

import errno
import os
import re
import selectors
import shlex
import socket
import statistics
import subprocess
import time

import peers
import report
from peers import BIG_FILES, GIB
from procs import BENCH_DIR, BenchError, log, run

ROOT = BENCH_DIR.parent


# --- tool output parsers ----------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


def parse_wrk(out: str) -> dict:
    """requests, req/s, p50/p99 (ms), non-2xx and socket errors from wrk
    --latency output."""
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M)
        r[f"p{pct}_ms"] = float(m.group(1)) * _UNITS[m.group(2)] if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    r["errors"] = m.group(1).strip() if m else ""
    return r


def parse_hey(out: str) -> dict:
    """Total seconds, responses by status, errors and req/s (200s only)
    from hey's summary."""
    r = {}
    m = re.search(r"Total:\s+([\d.]+) secs", out)
    r["total_s"] = float(m.group(1)) if m else None
    r["status"] = {int(c): int(n) for c, n in
                   re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errs = out.split("Error distribution:", 1)
    r["errors"] = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]", errs[1], re.M)) \
        if len(errs) == 2 else 0
    r["ok"] = r["status"].get(200, 0)
    r["rps"] = r["ok"] / r["total_s"] if r["total_s"] else None
    return r


# --- scenario 1: plain HTTP, small responses, keep-alive ------------------------

def s1_run(b, t: str) -> dict:
    a = b.args
    argv = ["wrk", "-t2", "-c50", f"-d{a.duration:g}s", "--latency", "--timeout", "5s"]
    if t == "direct":
        argv.append(b.origin.url("small"))
    else:
        argv += ["-s", str(b.lua), b.proxy(t).proxy_url + "/"]
    c0 = b.cpu_s(t)
    r = run(argv, timeout=a.duration + 60)
    c1 = b.cpu_s(t)
    w = parse_wrk(r.stdout)
    res = {"rps": w["rps"], "p50_ms": w["p50_ms"], "p99_ms": w["p99_ms"],
           "requests": w["requests"],
           "cpu_us": (c1 - c0) / w["requests"] * 1e6
           if c0 is not None and w["requests"] else None}
    m = re.fullmatch(r"connect 0, read (\d+), write 0, timeout 0", w["errors"])
    if not w["non2xx"] and m:
        res["note"] = (f"wrk counted {int(m.group(1)):,} read errors: the proxy "
                       f"closed connections after the response (no keep-alive)")
    elif w["non2xx"] or w["errors"]:  # wrk prints the errors line only if any
        res["note"] = f"non-2xx {w['non2xx']}; socket errors: {w['errors'] or 'none'}"
    if not w["requests"]:
        res["note"] = f"wrk failed: {(r.stdout + r.stderr)[-300:]}"
    return res


def s1_progress(r):
    return (f"{report.fmt(r['rps'])} req/s, p50 {report.fmt(r['p50_ms'], 2)} ms, "
            f"p99 {report.fmt(r['p99_ms'], 2)} ms, CPU {report.fmt(r['cpu_us'], 1)} µs/req")


# --- scenario 2: CONNECT + TLS, with and without reuse ----------------------------

def _hey(b, t: str, n: int, keepalive: bool):
    argv = ["hey", "-n", str(n), "-c", "50", "-t", "10"]
    if not keepalive:
        argv.append("-disable-keepalive")
    if t != "direct":
        argv += ["-x", b.proxy(t).proxy_url]
    argv.append(b.origin.tls_url("small"))
    c0 = b.cpu_s(t)
    r = run(argv, timeout=180)
    c1 = b.cpu_s(t)
    h = parse_hey(r.stdout)
    cpu = (c1 - c0) / h["ok"] * 1e6 if c0 is not None and h["ok"] else None
    note = ""
    if h["ok"] != n:
        note = (f"{'reuse' if keepalive else 'no reuse'}: {h['ok']} of {n} "
                f"answered 200 (status {h['status']}, {h['errors']} errors)")
    return h["rps"], cpu, note


def s2_run(b, t: str) -> dict:
    a = b.args
    res = {}
    res["rps_new"], res["cpu_us_new"], n1 = _hey(b, t, a.hey_new, False)
    res["rps_reuse"], res["cpu_us_reuse"], n2 = _hey(b, t, a.hey_reuse, True)
    if n1 or n2:
        res["note"] = "; ".join(x for x in (n1, n2) if x)
    return res


def s2_progress(r):
    return (f"no reuse {report.fmt(r['rps_new'])} req/s, "
            f"{report.fmt(r['cpu_us_new'], 1)} µs CPU/tunnel; reuse "
            f"{report.fmt(r['rps_reuse'])} req/s, {report.fmt(r['cpu_us_reuse'], 1)} µs/req")


# --- scenarios 3 and 4: bulk through a tunnel, and forwarded ------------------------

def _curl_argv(b, t: str, path: str, tunnel: bool):
    argv = ["curl", "-s", "-o", "/dev/null", "--max-time", "300",
            "-w", "%{http_code} %{size_download} %{speed_download}"]
    if t != "direct":
        argv += ["-x", b.proxy(t).proxy_url]
        if tunnel:
            argv.append("-p")
    return argv + [b.origin.url(path)]


def _bulk(b, t: str, path: str, streams: int, tunnel: bool):
    """Download path with `streams` curls at once: (MB/s, CPU s per GiB,
    note). One stream: curl's own speed_download; several: all their bytes
    over the wall time from the first start to the last end."""
    want = BIG_FILES[path]
    c0 = b.cpu_s(t)
    t0 = time.monotonic()
    ps = [subprocess.Popen(_curl_argv(b, t, path, tunnel), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
          for _ in range(streams)]
    outs = []
    try:
        for p in ps:
            outs.append(p.communicate(timeout=330)[0])
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
                p.wait()
    wall = time.monotonic() - t0
    c1 = b.cpu_s(t)
    total, speed, bad = 0, 0.0, []
    for o in outs:
        try:
            code, size, sp = o.split()
            code, size, sp = int(code), int(size), float(sp)
        except ValueError:
            code, size, sp = 0, 0, 0.0
        if code != 200 or size != want:
            bad.append(f"status {code}, {size} of {want} bytes")
        total += size
        speed = sp
    if bad:
        return None, None, "; ".join(bad)
    mbps = speed / 1e6 if streams == 1 else total / wall / 1e6
    cpu = (c1 - c0) / (total / GIB) if c0 is not None else None
    return mbps, cpu, ""


def s3_run(b, t: str) -> dict:
    a = b.args
    res = {}
    res["mbps_1"], res["cpu_gib_1"], n1 = _bulk(b, t, a.bulk, 1, True)
    res["mbps_4"], res["cpu_gib_4"], n4 = _bulk(b, t, a.bulk4, 4, True)
    if n1 or n4:
        res["note"] = "; ".join(x for x in (n1, n4) if x)
    return res


def s3_progress(r):
    return (f"1 stream {report.fmt(r['mbps_1'])} MB/s, "
            f"{report.fmt(r['cpu_gib_1'], 2)} CPU s/GiB; 4 streams "
            f"{report.fmt(r['mbps_4'])} MB/s, {report.fmt(r['cpu_gib_4'], 2)} CPU s/GiB")


def s4_run(b, t: str) -> dict:
    res = {}
    res["mbps"], res["cpu_gib"], n = _bulk(b, t, b.args.bulk, 1, False)
    if n:
        res["note"] = n
    return res


def s4_progress(r):
    return f"{report.fmt(r['mbps'])} MB/s, {report.fmt(r['cpu_gib'], 2)} CPU s/GiB"


# --- scenario 5: idle tunnels ----------------------------------------------------------

def open_tunnels(proxy_port, sink_port, want, held, window=200,
                 conn_timeout=10.0, time_limit=60.0):
    """Open CONNECT tunnels to the sink until `held` (a list of sockets,
    kept open) has `want` of them, at most `window` in progress at once.
    Each must answer 200 within conn_timeout; the whole stops after
    time_limit or 500 failures in a row. Returns (failed, reasons)."""
    req = (f"CONNECT 127.0.0.1:{sink_port} HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{sink_port}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    pending = {}  # socket -> [stage (0 connecting, 1 reading), buffer, t0]
    left = want - len(held)
    failed, streak, reasons = 0, 0, {}
    deadline = time.monotonic() + time_limit

    def fail(s, why):
        nonlocal failed, streak
        failed += 1
        streak += 1
        reasons[why] = reasons.get(why, 0) + 1
        if s in pending:
            sel.unregister(s)
            del pending[s]
        s.close()

    while (left > 0 or pending) and time.monotonic() < deadline and streak < 500:
        while left > 0 and len(pending) < window:
            left -= 1
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as e:  # the harness's own descriptors ran out
                failed += 1
                reasons[f"client: {e.strerror}"] = reasons.get(f"client: {e.strerror}", 0) + 1
                left = 0
                break
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", proxy_port))
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                streak += 1
                reasons[f"connect: {os.strerror(err)}"] = reasons.get(
                    f"connect: {os.strerror(err)}", 0) + 1
                s.close()
                continue
            pending[s] = [0, b"", time.monotonic()]
            sel.register(s, selectors.EVENT_WRITE)
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            st = pending[s]
            if st[0] == 0:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s, f"connect: {os.strerror(err)}")
                    continue
                try:
                    s.send(req)
                except OSError as e:
                    fail(s, f"send: {e.strerror}")
                    continue
                st[0] = 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                fail(s, f"recv: {e.strerror}")
                continue
            if not data:
                fail(s, "closed before the reply")
                continue
            st[1] += data
            if b"\r\n\r\n" in st[1] or len(st[1]) > 8192:
                m = re.match(rb"HTTP/1\.[01] (\d{3})", st[1])
                code = m.group(1).decode() if m else "no status"
                if code == "200":
                    sel.unregister(s)
                    del pending[s]
                    held.append(s)
                    streak = 0
                else:
                    fail(s, f"status {code}")
        now = time.monotonic()
        for s, st in list(pending.items()):
            if now - st[2] > conn_timeout:
                fail(s, "no reply in time")
    for s in list(pending):
        fail(s, "time limit of the step")
    if left > 0:
        failed += left
        reasons["not tried (time limit or failures in a row)"] = left
    sel.close()
    return failed, reasons


def count_open(held) -> int:
    """How many held sockets the proxy has not closed (a peek that would
    block means open and idle)."""
    n = 0
    for s in held:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                continue
        except BlockingIOError:
            pass
        except OSError:
            continue
        n += 1
    return n


def s5_target(b, t: str, steps) -> dict:
    """Fresh proxy and sink; RSS at rest, then with each step's tunnels
    held (cumulative), then after closing them all."""
    p = b.proxy(t)
    b.sink.start()  # a fresh sink: no connection left from the last proxy
    p.stop()
    p.start()
    p.verify()
    time.sleep(0.5)
    base = p.rss_kb()
    res = {"rss0_mb": base / 1024}
    held = []
    notes = []
    try:
        for n in steps:
            t0 = time.monotonic()
            failed, reasons = open_tunnels(p.port, b.sink.port, n, held,
                                           time_limit=max(30.0, n / 150))
            took = time.monotonic() - t0
            time.sleep(1.0)  # let the proxy settle
            rss = p.rss_kb()
            alive = count_open(held)
            res[f"held_{n}"] = alive
            res[f"rss_{n}_mb"] = rss / 1024
            res[f"kib_{n}"] = (rss - base) / alive if alive else None
            msg = (f"{n:,} asked: {alive:,} held, {failed:,} failed "
                   f"in {took:.1f} s, RSS {rss / 1024:.1f} MB")
            if reasons:
                msg += " (" + ", ".join(f"{k}: {v:,}" for k, v in reasons.items()) + ")"
            if alive < len(held):
                msg += f"; {len(held) - alive:,} closed by the proxy while held"
            log(f"  {t}: {msg}")
            if failed or alive < len(held):
                notes.append(f"{b.displays[t]}: {msg}")
            if not p.alive():
                notes.append(f"{b.displays[t]} died holding {n:,} tunnels")
                b.problem(f"{t} died holding {n:,} idle tunnels:\n{p.failure_logs()}")
                break
    finally:
        for s in held:
            s.close()
    if p.alive():
        time.sleep(1.0)
        res["rss_closed_mb"] = p.rss_kb() / 1024
    if notes:
        res["note"] = "; ".join(notes)
    return res


def scenario5(b, sc: dict) -> None:
    steps = sorted(set(b.args.idle))
    # Each tunnel costs a proxy two descriptors (client and origin): cap the
    # steps when this machine's file limit cannot be raised far enough.
    cap = (b.nofile - 1000) // 2 // 100 * 100
    if steps[-1] > cap:
        b.problem(f"RLIMIT_NOFILE is {b.nofile} (the hard limit cannot be "
                  f"raised here: no CAP_SYS_RESOURCE), too few for "
                  f"{steps[-1]:,} tunnels at two descriptors each; "
                  f"scenario 5 holds at most {cap:,}")
        sc["notes"].append(f"Descriptor limit {b.nofile}: the largest step was "
                           f"capped from {steps[-1]:,} to {cap:,} tunnels.")
        steps = sorted({min(n, cap) for n in steps})
    sc["metrics"] = [{"key": "rss0_mb", "label": "RSS at rest (MB)", "digits": 1,
                      "ratio": False}]
    for n in steps:
        sc["metrics"] += [
            {"key": f"held_{n}", "label": f"held of {n:,}", "ratio": False},
            {"key": f"rss_{n}_mb", "label": f"RSS with {n:,} (MB)", "digits": 1,
             "ratio": False},
            {"key": f"kib_{n}", "label": f"KiB/tunnel at {n:,}", "digits": 1,
             "proxy_only": True}]
    sc["metrics"].append({"key": "rss_closed_mb", "label": "RSS after close (MB)",
                          "digits": 1, "ratio": False})
    sc["goal_key"], sc["goal_label"] = f"kib_{steps[-1]}", f"{steps[-1]:,} held"
    for t in b.args.targets:
        if t in peers.REFERENCES:  # no proxy; SCENARIOS["5"]["relay"] says why
            continue
        log(f"[s5] {t}: fresh start, then {', '.join(f'{n:,}' for n in steps)} tunnels")
        try:
            r = s5_target(b, t, steps)
        except BenchError as e:
            b.problem(f"s5 {t}: {e}")
            r = {"note": str(e).splitlines()[0]}
        sc["runs"][t] = [r]
        b.raw.append(f"s5 r1 {t} " + _raw_fields(r))
        if r.get("note"):
            sc["notes"].append(r["note"])


# --- scenario 6: blocklists --------------------------------------------------------------

def scenario6(b, sc: dict) -> None:
    """bench/blocklist-peers.sh, folded in: its table verbatim, its raw
    lines into ours, sluice's figures checked against the goals."""
    a = b.args
    ps = [p for p in ("squid", "tinyproxy", "privoxy") if p in a.targets]
    argv = [str(peers.BENCH_DIR / "blocklist-peers.sh"), "--peers", " ".join(ps),
            "--sizes", a.lists, "--no-install"]
    if "sluice" in a.targets:
        argv += ["--sluice", a.sluice]
    if a.quick:
        argv += ["--runs", "1", "--duration", "2"]
    if not ps and "sluice" not in a.targets:
        sc["table"] = "(no target of this scenario selected)"
        return
    log(f"[s6] {shlex.join(argv)}")
    out = b.work / "blocklist-peers.out"
    c = b.procs.spawn("blocklist-peers.sh", argv, out, cwd=ROOT, stderr_too=False)
    try:
        c.popen.wait(timeout=1500)
    except subprocess.TimeoutExpired:
        b.problem("blocklist-peers.sh ran over 1500 s and was stopped")
    finally:
        b.procs.stop(c, grace=30)
    text = out.read_text(errors="replace")
    if c.popen.returncode != 0:
        b.problem(f"blocklist-peers.sh exited with status {c.popen.returncode}")
    # Its report: versions, how, the table; then `Raw:` and a fenced block.
    head, _, rest = text.partition("\nRaw:")
    raw = re.search(r"```\n(.*?)```", rest, re.S)
    lines = raw.group(1).splitlines() if raw else []
    sc["table"] = head.strip() or "(no output)"
    sc["raw"] = lines
    b.raw += [f"s6 {ln}" for ln in lines]
    if "ats" in a.targets:
        sc["notes"].append("Traffic Server: n/a (it has no domain blocklist).")
    paired = s6_paired(b, a.lists.split()[-1]) if "sluice" in a.targets else None
    if paired:
        sc["table"] += "\n\n" + paired["table"]
    sc["goals"] = s6_goals(lines, a.lists.split()[-1], paired) \
        if "sluice" in a.targets else []


def s6_paired(b, big):
    """sluice without a list and with the largest one, side by side under
    scenario 1's load (wrk -t2 -c50), alternating round by round so the
    machine's drift falls on both alike. The request names the origin as
    `localhost`, so every request is looked up in the list. Returns the
    medians and a table, or None if the list cannot be made."""
    a = b.args
    if big == "0":
        return None
    lst = b.work / f"s6-{big}.domains"
    gen = [str(peers.BENCH_DIR / "gen-domains.py"), "--count", big, "--seed", "1",
           "--real-dir", str(ROOT.parent / "shared" / "blocklists"), "--out", str(lst)]
    r = run(["/usr/bin/python3"] + gen, timeout=300)
    if r.returncode != 0:
        b.problem(f"s6: gen-domains.py failed: {r.stderr[-300:]}")
        return None
    lst.chmod(0o644)
    # scenario 6 runs after everything else was stopped: its own origin
    (b.work / "s6").mkdir(exist_ok=True)
    origin = peers.Nginx(b.procs, b.work / "s6")
    pair = {}
    try:
        origin.start()
        for name, bl in (("none", "none"), ("list", str(lst))):
            (b.work / "s6" / name).mkdir()
            p = peers.Sluice(b.procs, b.work / "s6" / name, origin, None,
                             binary=a.sluice, blocklist=bl)
            pair[name] = p
            p.start()
    except BenchError as e:
        b.problem(f"s6: could not start the paired runs: {e}")
        for p in pair.values():
            p.stop()
        if origin.child is not None:
            b.procs.stop(origin.child)
        return None
    lua = b.work / "localhost.lua"
    lua.write_text(f'wrk.method = "GET"\n'
                   f'wrk.path = "http://localhost:{origin.port}/small"\n'
                   f'wrk.headers["Host"] = "localhost:{origin.port}"\n')
    runs = {"none": [], "list": []}
    cpu = {"none": [], "list": []}
    pairs = []  # (rps, cpu) with the list ÷ without, for each whole round
    # a 5% difference must stand out of the noise: at least 7 pairs
    rounds = a.rounds if a.quick else max(a.rounds, 7)
    try:
        for rnd in range(rounds):
            order = ("none", "list") if rnd % 2 == 0 else ("list", "none")
            got = {}
            for name in order:
                p = pair[name]
                c0 = p.cpu_s()
                out = run(["wrk", "-t2", "-c50", f"-d{a.duration:g}s", "--timeout", "5s",
                           "-s", str(lua), p.proxy_url + "/"], timeout=a.duration + 60)
                c1 = p.cpu_s()
                w = parse_wrk(out.stdout)
                if not w["requests"] or w["non2xx"]:
                    b.problem(f"s6: sluice ({name}) under wrk: {w}")
                    continue
                runs[name].append(w["rps"])
                cpu[name].append((c1 - c0) / w["requests"] * 1e6)
                got[name] = (w["rps"], cpu[name][-1])
                b.raw.append(f"s6 paired r{rnd + 1} sluice-{name} rps={w['rps']:.0f} "
                             f"cpu_us={cpu[name][-1]:.2f}")
                log(f"[s6 r{rnd + 1}/{rounds}] sluice, list {name}: "
                    f"{report.fmt(w['rps'])} req/s, {cpu[name][-1]:.1f} µs CPU/req")
            if len(got) == 2:
                pairs.append((got["list"][0] / got["none"][0],
                              got["list"][1] / got["none"][1]))
    finally:
        for p in pair.values():
            p.stop()
        if origin.child is not None:
            b.procs.stop(origin.child)
    if not pairs:
        return None
    med = {k: statistics.median(v) for k, v in runs.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    label = "1,000,000" if big == "1000000" else big
    rows = [f"sluice with and without the list under scenario 1's load "
            f"(wrk -t2 -c50 -d{a.duration:g}s to http://localhost:PORT/small, every "
            f"request looked up), {rounds} rounds alternating; median (min–max):",
            "",
            "| sluice | req/s | CPU µs/req |", "|---|---|---|"]
    for k, title in (("none", "no list"), ("list", f"{label} domains")):
        rows.append(f"| {title} | {report.fmt(med[k])} ({report.fmt(min(runs[k]))}–"
                    f"{report.fmt(max(runs[k]))}) | {mcpu[k]:.1f} ({min(cpu[k]):.1f}–"
                    f"{max(cpu[k]):.1f}) |")
    # the goals are judged on each round's pair: a drift of the machine
    # across the rounds moves both runs of a pair alike, but not the two
    # medians above, which may come from different rounds
    r_rps = statistics.median(p[0] for p in pairs)
    r_cpu = statistics.median(p[1] for p in pairs)
    rows += ["", f"With the list ÷ without, round by round, median of {len(pairs)} "
             f"pair(s): req/s {r_rps:.3f} × ({min(p[0] for p in pairs):.3f}–"
             f"{max(p[0] for p in pairs):.3f}), CPU per request {r_cpu:.3f} × "
             f"({min(p[1] for p in pairs):.3f}–{max(p[1] for p in pairs):.3f})."]
    return {"rps_none": med["none"], "rps_list": med["list"], "cpu_none": mcpu["none"],
            "cpu_list": mcpu["list"], "rps_ratio": r_rps, "cpu_ratio": r_cpu,
            "pairs": len(pairs), "table": "\n".join(rows)}


def s6_goals(lines, big, paired=None) -> list:
    """sluice with the largest list: ready < 1 s, RSS < 64 MB, req/s with it
    >= 0.95 x without, and CPU per request <= 1.05 x without ("loses under
    5%" in the figure the machine's noise disturbs least). With paired runs
    both are the median over the rounds of with ÷ without; without them
    (blocklist-peers.sh's runs do not alternate) req/s is the ratio of the
    medians and CPU is not judged."""
    got = {}
    for ln in lines:
        f = ln.split()
        if len(f) >= 2 and f[0] == "sluice":
            got[f[1]] = dict(kv.split("=", 1) for kv in f[2:] if "=" in kv)
    label = {"1000000": "1M domains", "real": "the ~297k real domains"}.get(
        big, f"{big} domains")
    g, z = got.get(big), got.get("0")

    def num(d, k):
        try:
            return float(d[k])
        except (KeyError, TypeError, ValueError):
            return None

    def rps(d):
        v = [float(x) for x in (d or {}).get("rps_runs", "").split(",") if x]
        return statistics.median(v) if v else None

    rows = []
    ready = num(g, "ready") if g else None
    rows.append(dict(goal=f"s6: {label}: ready < 1 s", sluice=report.fmt(ready, 2) + " s",
                     compared="1 s", verdict=report._verdict(None if ready is None else ready < 1)))
    rss = max(filter(None, (num(g, "rss_ready_kB"), num(g, "rss_after_kB"))), default=None) \
        if g else None
    rss_mb = rss / 1024 if rss else None
    rows.append(dict(goal=f"s6: {label}: RSS < 64 MB", sluice=report.fmt(rss_mb, 1) + " MB",
                     compared="64 MB",
                     verdict=report._verdict(None if rss_mb is None else rss_mb < 64)))
    if paired:
        n = paired["pairs"]
        rows.append(dict(goal=f"s6: {label}: req/s ≥ 0.95 × without a list",
                         sluice=f"{paired['rps_ratio']:.3f} × (median of {n} pair(s))",
                         compared=f"medians: {report.fmt(paired['rps_list'])} req/s "
                                  f"with, {report.fmt(paired['rps_none'])} without",
                         verdict=report._verdict(paired["rps_ratio"] >= 0.95)))
        rows.append(dict(goal=f"s6: {label}: CPU per request ≤ 1.05 × without a list",
                         sluice=f"{paired['cpu_ratio']:.3f} × (median of {n} pair(s))",
                         compared=f"medians: {paired['cpu_list']:.1f} µs with, "
                                  f"{paired['cpu_none']:.1f} µs without",
                         verdict=report._verdict(paired["cpu_ratio"] <= 1.05)))
        return rows
    with_list, without = rps(g), rps(z)
    ok = None if with_list is None or without is None else with_list >= 0.95 * without
    rows.append(dict(goal=f"s6: {label}: req/s ≥ 0.95 × without a list",
                     sluice=f"{report.fmt(with_list)} req/s",
                     compared=f"no list {report.fmt(without)} req/s"
                              + (f" (limit {report.fmt(0.95 * without)})" if without else ""),
                     verdict=report._verdict(ok)))
    return rows


# --- the scenario table ---------------------------------------------------------------------

def M(key, label, digits=0, proxy_only=False, ratio=True):
    return {"key": key, "label": label, "digits": digits, "proxy_only": proxy_only,
            "ratio": ratio}


SCENARIOS = {
    "1": dict(
        title="Plain HTTP, 1 KiB responses, keep-alive",
        how="wrk -t2 -c50 -d{dur}s --latency, GET /small (1 KiB) from nginx; "
            "through a proxy the request is absolute-form (a lua script sets "
            "wrk.path to http://127.0.0.1:PORT/small and Host). CPU per request: "
            "the proxy's CPU time (utime+stime of its process tree, /proc) over "
            "the run ÷ requests completed.",
        relay="The blind relay (floor) is bench/relay.c: it passes each "
              "request unread to nginx and copies the bytes both ways with "
              "recv and send, parsing nothing, so its CPU per request is the "
              "least any proxy costs here. A reference, not a peer.",
        metrics=[M("rps", "req/s"), M("p50_ms", "p50 (ms)", 2),
                 M("p99_ms", "p99 (ms)", 2), M("cpu_us", "CPU µs/req", 1, True)],
        # a p99 of 5 s is a few hundred requests, moved by any hiccup of
        # the shared machine: three rounds let one bad one decide a goal
        min_rounds=5,
        run=s1_run, progress=s1_progress),
    "2": dict(
        title="CONNECT + TLS handshake per request, and with reuse",
        how="hey -c 50 -x http://PROXY https://127.0.0.1:TLSPORT/small: "
            "-disable-keepalive -n {new} (a new tunnel and TLS handshake per "
            "request), then -n {reuse} with keep-alive (50 tunnels reused). "
            "req/s counts 200 answers; CPU per tunnel (no reuse) or per "
            "request (reuse) is the proxy tree's CPU ÷ 200 answers. TLS is "
            "end to end (hey ↔ nginx, ECDSA P-256).",
        relay="The blind relay (floor, bench/relay.c) answers the CONNECT "
              "line 200 and copies bytes, parsing nothing: the least a proxy "
              "costs per tunnel here. A reference, not a peer.",
        metrics=[M("rps_new", "req/s, no reuse"),
                 M("cpu_us_new", "CPU µs/tunnel", 1, True),
                 M("rps_reuse", "req/s, reuse"),
                 M("cpu_us_reuse", "CPU µs/req, reuse", 1, True)],
        run=s2_run, progress=s2_progress),
    "3": dict(
        title="Bulk through a CONNECT tunnel",
        how="curl -s -p -x http://PROXY -o /dev/null http://127.0.0.1:PLAIN/{bulk}: "
            "one stream of {bulk_h} (MB/s is curl's speed_download), then four "
            "streams of {bulk4_h} at once (MB/s: all bytes ÷ wall time). CPU: "
            "the proxy tree's CPU seconds per GiB moved. MB = 10^6 bytes.",
        relay="The blind relay (bench/relay.c) copies through user space "
              "(recv and send, 64 KiB at a time): a proxy that splices may "
              "spend less CPU per GiB, so here it is a reference, not a floor.",
        splice="The splicing relay (floor, bench/relay_splice.c) answers the "
               "CONNECT line 200 and moves the bytes with blocking splice "
               "through 1 MiB pipes, a thread per direction, no epoll: the "
               "least CPU per GiB a splicing proxy costs here, and the "
               "throughput it leaves curl and nginx. A reference, not a peer.",
        metrics=[M("mbps_1", "MB/s, 1 stream"), M("cpu_gib_1", "CPU s/GiB, 1", 2, True),
                 M("mbps_4", "MB/s, 4 streams"), M("cpu_gib_4", "CPU s/GiB, 4", 2, True)],
        run=s3_run, progress=s3_progress),
    "4": dict(
        title="Bulk forwarded as plain HTTP",
        how="curl -s -x http://PROXY -o /dev/null http://127.0.0.1:PLAIN/{bulk}: "
            "one stream of {bulk_h}, the proxy forwarding the response "
            "(absolute-form GET, no tunnel). MB/s is curl's speed_download; "
            "CPU: the proxy tree's CPU seconds per GiB.",
        relay="The blind relay (bench/relay.c) passes the GET unread and "
              "copies the response through user space (recv and send, 64 KiB "
              "at a time): a proxy that splices may spend less CPU per GiB, "
              "so here it is a reference, not a floor.",
        splice="The splicing relay (floor, bench/relay_splice.c) passes the "
               "GET unread and moves the response with blocking splice, as "
               "in scenario 3. A reference, not a peer.",
        metrics=[M("mbps", "MB/s"), M("cpu_gib", "CPU s/GiB", 2, True)],
        run=s4_run, progress=s4_progress),
    "5": dict(
        title="Idle CONNECT tunnels",
        how="Each proxy freshly started, then CONNECT tunnels to a sink origin "
            "that holds connections silently (bench/sink.py), opened by a "
            "non-blocking client (200 at a time, each must answer 200 in 10 s) "
            "and held: the proxy tree's RSS (sum of VmRSS) at rest, with each "
            "count held (cumulative), and after closing them all. KiB per "
            "tunnel = (RSS held − RSS at rest) ÷ tunnels held. One round.",
        relay="The blind relay is not run here: it keeps a few dozen bytes "
              "per tunnel, and the kernel's socket memory, the true floor, is "
              "in no process's RSS, so its figure would bound nothing.",
        metrics=[]),
    "6": dict(
        title="Blocklists",
        how="bench/blocklist-peers.sh --sizes \"{lists}\" (0: no list; real: "
            "the ~297k distinct domains of ../shared/blocklists; 1000000: those "
            "plus synthetic ones), each proxy loaded with the same domains in "
            "its own syntax: ready time (exec to first answer), RSS, keep-alive "
            "req/s through it (wrk -t1 -c16, 1 KiB) with the list. Its own "
            "report, folded in:",
        relay="The blind relay is not run here: it looks at no name, so it "
              "has no blocklist.",
        metrics=[]),
}


def _raw_fields(r: dict) -> str:
    def num(v):
        if isinstance(v, float):
            return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"
        return str(v)
    return " ".join(f"{k}={num(v)}" for k, v in r.items()
                    if k != "note" and v is not None)


def scenario_rounds(a, num: str) -> int:
    """--rounds, raised to the scenario's own minimum in a full run."""
    if a.quick:
        return a.rounds
    return max(a.rounds, SCENARIOS[num].get("min_rounds", 1))


def run_interleaved(b, num: str, sc: dict) -> None:
    """Every target in turn, round after round; a failed run is None."""
    spec = SCENARIOS[num]
    rounds = scenario_rounds(b.args, num)
    targets = [t for t in b.args.targets if peers.runs_in(t, num)]
    for t in targets:
        sc["runs"][t] = []
    for rnd in range(1, rounds + 1):
        for t in targets:
            where = f"s{num} round {rnd}"
            if not b.ensure_running(t, where):
                sc["runs"][t].append({})
                continue
            try:
                r = spec["run"](b, t)
            except subprocess.TimeoutExpired as e:
                r = {"note": f"timed out: {shlex.join(e.cmd)}"}
            p = b.proxy(t)
            if p and not p.alive():
                b.problem(f"{t} died during {where}:\n{p.failure_logs()}")
                r = {"note": f"died during round {rnd}"}
            sc["runs"][t].append(r)
            b.raw.append(f"s{num} r{rnd} {t} " + _raw_fields(r))
            desc = spec["progress"](r) if any(
                r.get(m["key"]) is not None for m in sc["metrics"]) else "no figures"
            log(f"[s{num} r{rnd}/{rounds}] {t}: {desc}"
                + (f" ({r['note']})" if r.get("note") else ""))
            if r.get("note"):
                sc["notes"].append(f"{b.displays[t]}, round {rnd}: {r['note']}")
