"""A real browser through sluice: headless Chromium loads a page whose two
images come from an allowed host and from a host on the blocklist.

Three loopback origins, one listening socket each (page.test, allowed.test,
ads.blocked.test), so it is clear which host got a connection. The names
exist only in a hosts file given to sluice (`hosts-file`); Chromium never
resolves them itself, it sends everything to the proxy. `blocklist` lists
`blocked.test`, so ads.blocked.test (a sub-domain) must get 403 from sluice
without sluice ever connecting to it.

The page reports, after its load event, whether each image decoded and its
natural width; `--dump-dom` prints the DOM once the page has loaded.

Needs Debian's `chromium` (skips if no Chromium binary is found). Nothing
leaves loopback: background networking, component updates, sync, default
apps and the first-run tasks are off, and the few requests Chromium still
makes at start (update.googleapis.com, accounts.google.com) go to sluice like
everything else and end `502 unknown-host`: its DNS is the loopback
NXDOMAIN responder."""

import os
import re
import shutil
import signal
import struct
import subprocess
import time
import zlib

import pytest

from conftest import http_response

CHROMIUM_TIMEOUT = 60.0  # safety limit for one Chromium run, not a threshold
MARKER = "sluice-browser-page-8c1f"
PNG_W, PNG_H = 7, 5


def tiny_png(width=PNG_W, height=PNG_H):
    """A valid RGB PNG, width x height, all one colour."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\x20\xa0\x60" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


PNG = tiny_png()

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{marker}</title>
<link rel="icon" href="data:,">
<script>
var results = {{}};
function report(id, img, ok) {{
  results[id] = (ok ? "loaded" : "failed") + ":" + img.naturalWidth + "x" + img.naturalHeight;
}}
window.addEventListener("load", function () {{
  var out = document.getElementById("result");
  out.textContent = "RESULT ok=" + (results.ok || "pending") +
                    " ad=" + (results.ad || "pending") + " END";
}});
</script></head>
<body>
<p id="marker">{marker}</p>
<img id="ok" src="{ok_url}" onload="report('ok', this, true)" onerror="report('ok', this, false)">
<img id="ad" src="{ad_url}" onload="report('ad', this, true)" onerror="report('ad', this, false)">
<pre id="result">RESULT not-yet</pre>
</body></html>
"""

RESULT_RE = re.compile(r"RESULT ok=(\S+) ad=(\S+) END")


def find_chromium():
    """Debian's browser binary itself when present: /usr/bin/chromium is a
    wrapper script that adds flags of its own from /etc/chromium.d."""
    debian = "/usr/lib/chromium/chromium"
    if os.path.isfile(debian) and os.access(debian, os.X_OK):
        return debian
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and k.lower() != "no_proxy"}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def chromium_pids_mentioning(marker):
    """PIDs of Chromium programs (chromium, chrome_crashpad_handler) whose
    command line contains marker: the throwaway HOME of one run."""
    out = []
    needle = marker.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        argv0 = os.path.basename(cmd.split(b"\0", 1)[0])
        if b"chrom" in argv0 and needle in cmd:
            out.append(int(d))
    return out


def reap_leftovers(pgid, marker, timeout=5.0):
    """After Chromium's main process is gone: kill what is left of it.

    The helpers share its process group; the crashpad handlers call setsid()
    and are found by their command line, which names this run's HOME (the
    crash database is under it) -- marker is that HOME, never a directory
    that sluice's own command line names.  All are ours, signalled by PID."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.1) + 2):
        if not chromium_pids_mentioning(marker) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in chromium_pids_mentioning(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_chromium(chromium, proxy, url, tmp_path, timeout=CHROMIUM_TIMEOUT):
    """Run headless Chromium on url through proxy; returns (rc, stdout, stderr).

    Chromium runs in its own session; on timeout that process group -- ours,
    by PID -- is killed, and whatever is left of it once it has exited."""
    home = tmp_path / "chromium-home"
    home.mkdir(exist_ok=True)
    args = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={home / 'profile'}",
        f"--proxy-server=http://127.0.0.1:{proxy.port}",
        "--proxy-bypass-list=<-loopback>",
        # nothing but the page: no Google services, updates, sync, prefetch
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        "--disable-crash-reporter",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        # all in one --disable-features, not repeated
        "--disable-features=NetworkTimeServiceQuerying,Translate,"
        "OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,"
        "DialMediaRouteProvider,CertificateTransparencyComponentUpdater,"
        "AutofillServerCommunication,InterestFeedContentSuggestions",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-pings",
        "--metrics-recording-only",
        "--password-store=basic",
        "--use-mock-keychain",
        "--dump-dom",
        "--virtual-time-budget=5000",
        url,
    ]
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=chromium_env(home), cwd=str(tmp_path),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate(timeout=10)
        raise AssertionError(
            f"chromium did not finish within {timeout}s; stdout:\n"
            f"{out.decode('utf-8', 'replace')[-3000:]}\nstderr:\n"
            f"{err.decode('utf-8', 'replace')[-5000:]}")
    finally:
        reap_leftovers(proc.pid, str(home))
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def chromium():
    p = find_chromium()
    if p is None:
        pytest.skip("no Chromium binary (apt-get install chromium)")
    return p


def test_browser_page_allowed_and_blocked_images(chromium, proxy_factory, raw_http_origin,
                                                 tmp_path):
    # one listening socket per host name
    allowed = raw_http_origin(lambda req, ctx: (
        http_response(200, PNG, [("Content-Type", "image/png"),
                                 ("Cache-Control", "no-store")])
        if req.method == "GET" and req.target == "/ok.png"
        else http_response(404, b"not here\n", [("Content-Type", "text/plain")])))
    blocked = raw_http_origin(lambda req, ctx: http_response(
        200, PNG, [("Content-Type", "image/png"), ("Cache-Control", "no-store")]))
    ok_url = f"http://allowed.test:{allowed.port}/ok.png"
    ad_url = f"http://ads.blocked.test:{blocked.port}/ad.png"
    html = PAGE.format(marker=MARKER, ok_url=ok_url, ad_url=ad_url).encode()
    page = raw_http_origin(lambda req, ctx: (
        http_response(200, html, [("Content-Type", "text/html; charset=utf-8"),
                                  ("Cache-Control", "no-store")])
        if req.method == "GET" and req.target == "/"
        else http_response(404, b"not here\n", [("Content-Type", "text/plain")])))
    page_url = f"http://page.test:{page.port}/"

    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 page.test\n"
                     "127.0.0.1 allowed.test\n"
                     "127.0.0.1 ads.blocked.test\n")
    blocklist = tmp_path / "blocklist"
    blocklist.write_text("blocked.test\n")
    proxy = proxy_factory(hosts_file=str(hosts), blocklist=str(blocklist))

    t0 = time.monotonic()
    rc, dom, err = run_chromium(chromium, proxy, page_url, tmp_path)
    elapsed = time.monotonic() - t0
    ctx = (f"chromium exit {rc} after {elapsed:.1f}s\n--- DOM ---\n{dom[-4000:]}\n"
           f"--- chromium stderr ---\n{err[-4000:]}\n--- access log ---\n"
           f"{proxy.access_text()[-4000:]}")

    # the page rendered, and came through sluice
    assert rc == 0, ctx
    assert f'<p id="marker">{MARKER}</p>' in dom, ctx
    assert any(r.method == "GET" and r.target == "/" for r in page.requests), \
        f"page origin never got GET /: {page.requests!r}\n{ctx}"
    for r in page.requests + allowed.requests:
        assert r.get("via") == "1.1 sluice", f"request did not come through sluice: {r!r}"
        assert r.get("proxy-connection") is None, f"Proxy-Connection reached the origin: {r!r}"

    # the blocked host: never a connection (Chromium has exited, so none can
    # still be on its way; a short grace for the origin's accept thread)
    time.sleep(0.3)
    with blocked.lock:
        n_blocked = len(blocked.records)
    assert n_blocked == 0, (f"blocked origin accepted {n_blocked} connection(s): "
                            f"{blocked.requests!r}\n{ctx}")

    m = RESULT_RE.search(dom)
    assert m, f"the page's load handler did not report\n{ctx}"
    ok_res, ad_res = m.group(1), m.group(2)

    # the allowed image: fetched from its origin, decoded by the browser
    assert any(r.method == "GET" and r.target == "/ok.png" for r in allowed.requests), \
        f"allowed origin never got GET /ok.png: {allowed.requests!r}\n{ctx}"
    assert ok_res == f"loaded:{PNG_W}x{PNG_H}", f"allowed image: {ok_res}\n{ctx}"

    # the blocked image: failed in the browser (sluice's 403 is no image)
    assert ad_res == "failed:0x0", f"blocked image: {ad_res}\n{ctx}"

    # the access log: 403 for the blocked host, 200s for the others
    entries = proxy.wait_access(
        lambda e: "ads.blocked.test" in e.target and e.fields.get("status") == "403",
        what="403 access entry for ads.blocked.test")
    assert all(e.fields.get("status") == "403" for e in proxy.access_entries()
               if "ads.blocked.test" in e.target), proxy.access_text()
    assert entries[0].method == "GET", entries
    proxy.wait_access(lambda e: e.method == "GET" and e.target == ok_url
                      and e.fields.get("status") == "200",
                      what=f"200 access entry for {ok_url}")
    proxy.wait_access(lambda e: e.method == "GET" and e.target == page_url
                      and e.fields.get("status") == "200",
                      what=f"200 access entry for {page_url}")
