#!/usr/bin/python3
"""Side-by-side benchmark of sluice against Squid, Apache Traffic Server,
tinyproxy and Privoxy, and against no proxy at all (`make bench`).

  bench/bench.py --sluice BIN [--quick] [--rounds N] [--duration S]
                 [--scenarios 1,3] [--targets direct,relay,sluice,squid]
                 [--no-write] [--json FILE] [--results FILE]
                 [--idle-tunnels 1000,10000] [--no-install] [--keep]

Scenarios (bench/README.md says more):
  1  plain HTTP, 1 KiB responses, keep-alive (wrk): req/s, p50, p99, CPU/req
  2  CONNECT + TLS per request, and with reuse (hey): req/s, CPU/tunnel
  3  1 GiB through a CONNECT tunnel, one stream and four (curl -p): MB/s, CPU/GiB
  4  1 GiB forwarded as plain HTTP (curl -x): MB/s, CPU/GiB
  5  1,000 and 10,000 idle CONNECT tunnels: KiB of RSS per tunnel
  6  blocklists of 0, ~297k and 1M domains (bench/blocklist-peers.sh)

Scenarios 1-4 run every target in turn, round after round (direct, relay,
splice, sluice, squid, ats, tinyproxy, privoxy, then again), and report the
median with the min–max of the rounds and the ratio to direct and to
sluice; a goal is judged on the median of sluice's ratio round by round.
`relay` is bench/relay.c, a blind TCP relay built at run time: the floor of
what any proxy costs here for small exchanges. `splice` is
bench/relay_splice.c, a blind relay that splices, run in scenarios 3 and 4
only: the floor for bulk. Both are shown beside direct, never counted as
peers.
Every daemon is a child of this process, in the foreground, on a free
loopback port, with its own files in a mktemp directory, and is ended by
PID on the way out.
Markdown tables go to stdout as each scenario ends, progress to stderr;
unless --no-write, the whole report becomes a new entry at the top of
bench/RESULTS.md. Standard library only; run with /usr/bin/python3.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
from procs import BenchError, log, run  # noqa: E402
from scenarios import (SCENARIOS, run_interleaved, scenario5,  # noqa: E402
                       scenario6, scenario_rounds)
TOOLS = ("nginx", "wrk", "hey", "curl", "openssl")


# --- options ----------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See bench/README.md.")
    ap.add_argument("--sluice", required=True, help="the sluice binary")
    ap.add_argument("--quick", action="store_true",
                    help="1 round, short runs, 256 MiB instead of 1 GiB, "
                         "1,000 idle tunnels, the ~297k list only")
    ap.add_argument("--rounds", type=int,
                    help="rounds of scenarios 1-4 (3; scenario 1 at least 5)")
    ap.add_argument("--duration", type=float, help="seconds of each wrk run (5)")
    ap.add_argument("--scenarios", default="1,2,3,4,5,6",
                    help="which scenarios, e.g. 1,3")
    ap.add_argument("--targets", default=",".join(peers.TARGETS),
                    help="which targets, e.g. direct,relay,sluice,squid")
    ap.add_argument("--idle-tunnels",
                    help="idle tunnel counts held in turn (1000,10000)")
    ap.add_argument("--no-write", action="store_true",
                    help="do not touch bench/RESULTS.md")
    ap.add_argument("--results", default=str(procs.BENCH_DIR / "RESULTS.md"),
                    help="the results file to add an entry to")
    ap.add_argument("--json", help="write the raw results here as JSON")
    ap.add_argument("--no-install", action="store_true",
                    help="do not apt-get install what is missing")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configs and logs)")
    a = ap.parse_args(argv)

    a.sluice = os.path.abspath(a.sluice)
    if not os.access(a.sluice, os.X_OK):
        ap.error(f"not executable: {a.sluice}")
    a.scenarios = sorted({s.strip() for s in a.scenarios.split(",") if s.strip()})
    bad = [s for s in a.scenarios if s not in SCENARIOS]
    if bad:
        ap.error(f"unknown scenario(s) {bad}: choose from 1-6")
    wanted = [t.strip() for t in a.targets.split(",") if t.strip()]
    bad = [t for t in wanted if t not in peers.TARGETS]
    if bad:
        ap.error(f"unknown target(s) {bad}: choose from {','.join(peers.TARGETS)}")
    a.targets = [t for t in peers.TARGETS if t in wanted]  # the fixed order

    # Sizes and counts: the full run fits in about 15 minutes on 2 cores.
    q = a.quick
    a.rounds = a.rounds or (1 if q else 3)
    a.duration = a.duration or (2 if q else 5)
    a.hey_new = 1000 if q else 3000  # requests, a new tunnel each
    a.hey_reuse = 5000 if q else 20000  # requests over 50 kept tunnels
    a.bulk = "256m" if q else "1g"  # one stream
    a.bulk4 = "64m" if q else "256m"  # each of four parallel streams
    a.idle = [int(x) for x in (a.idle_tunnels or ("1000" if q else "1000,10000"))
              .split(",")]
    a.lists = "0 real" if q else "0 real 1000000"
    if a.rounds < 1 or a.duration <= 0 or any(n < 1 for n in a.idle):
        ap.error("--rounds, --duration and --idle-tunnels must be positive")
    return a


# --- the run's state ---------------------------------------------------------------

class Bench:
    """Origins, proxies and results of one run."""

    def __init__(self, args):
        self.args = args
        self.procs = procs.Procs()
        self.work = Path(tempfile.mkdtemp(prefix="sluice-bench."))
        self.work.chmod(0o755)  # Squid's kid, ATS and nginx's worker are not root
        self.origin = self.sink = None
        self.proxies = {}  # name -> peers.Proxy
        self.problems = []  # what went wrong, for the report
        self.raw = []  # one line per run
        self.results = {"scenarios": {}}
        self.displays = {"direct": "direct"}

    # Targets -------------------------------------------------------------------
    def proxy(self, target):
        return self.proxies.get(target)

    def cpu_s(self, target):
        p = self.proxy(target)
        return p.cpu_s() if p else None

    def problem(self, msg):
        log(f"PROBLEM: {msg}")
        self.problems.append(msg)

    def ensure_running(self, target, where) -> bool:
        """A proxy found dead is noted and started again (once a run)."""
        p = self.proxy(target)
        if p is None or p.alive():
            return True
        self.problem(f"{target} was not running before {where} "
                     f"(exit status {p.child.popen.returncode}); restarted")
        try:
            p.stop()
            p.start()
            p.verify()
            return True
        except BenchError as e:
            self.problem(f"{target} could not be restarted: {e}")
            return False

    def start_all(self):
        a = self.args
        self.origin = peers.Nginx(self.procs, self.work)
        self.origin.start()
        self.sink = peers.Sink(self.procs, self.work)
        self.sink.start()
        log(f"origin: nginx http 127.0.0.1:{self.origin.port}, "
            f"https 127.0.0.1:{self.origin.tls_port}; sink 127.0.0.1:{self.sink.port}")
        for t in a.targets:
            if t == "direct":
                continue
            cls = peers.PROXIES[t]
            kw = {"binary": a.sluice} if t == "sluice" else {}
            p = cls(self.procs, self.work, self.origin, self.sink, **kw)
            self.proxies[t] = p
            self.displays[t] = p.display
        for t, p in self.proxies.items():
            p.start()
            p.verify()
            log(f"{t}: ready in {p.ready_s:.2f} s on 127.0.0.1:{p.port}, "
                f"verified (GET, CONNECT+TLS, CONNECT to plain and sink ports), "
                f"RSS {p.rss_kb() / 1024:.1f} MB, "
                f"{len(procs.tree_pids(p.pid))} process(es), "
                f"{procs.tree_threads(p.pid)} thread(s)")
        # The absolute-form request of scenario 1.
        self.lua = self.work / "absolute.lua"
        self.lua.write_text(
            f'wrk.method = "GET"\n'
            f'wrk.path = "{self.origin.url("small")}"\n'
            f'wrk.headers["Host"] = "127.0.0.1:{self.origin.port}"\n')

    def cleanup(self):
        self.procs.stop_all()
        if self.args.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# --- machine, versions -------------------------------------------------------------------

def machine_info(nofile) -> dict:
    def first(path, key):
        try:
            for line in open(path):
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"
    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = "?"
    return {"nproc": os.cpu_count(), "cpu": first("/proc/cpuinfo", "model name"),
            "kernel": platform.release(), "ram_gib": round(int(mem_kb) / 2**20, 1),
            "debian": debian, "nofile": nofile,
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def tool_versions() -> dict:
    v = {}
    out = run(["nginx", "-v"]).stderr
    v["nginx"] = out.strip().replace("nginx version: ", "").replace("/", " ")
    m = re.search(r"wrk (\S+)", run(["wrk", "-v"]).stdout + run(["wrk", "-v"]).stderr)
    v["wrk"] = f"wrk {m.group(1)}" if m else "wrk ?"
    hv = run(["dpkg-query", "-W", "-f", "${Version}", "hey"]).stdout.strip()
    v["hey"] = f"hey {hv or '?'} (Debian package)"
    v["curl"] = " ".join(run(["curl", "-V"]).stdout.split()[:2])
    v["openssl"] = " ".join(run(["openssl", "version"]).stdout.split()[:2])
    v["python"] = f"Python {platform.python_version()}"
    return v


def write_entry(b: Bench, md_sections, targets_md, elapsed, cmdline) -> str:
    a, res = b.args, b.results
    m = res["machine"]
    sluice_v = res["versions"].get("sluice", "sluice")
    today = datetime.date.today().isoformat()
    vers = "; ".join(res["versions"].values())
    parts = [
        f"## {today} — side by side (`make bench`{', --quick' if a.quick else ''}), {sluice_v}",
        "",
        f"Command: `{cmdline}` ({elapsed / 60:.1f} min).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}, "
        f"{m['ram_gib']} GiB RAM, Debian {m['debian']}, RLIMIT_NOFILE {m['nofile']}; "
        f"proxies, clients and origins share the CPUs. Load average at the "
        f"start: {' '.join(m['loadavg'])}.",
        "",
        f"Versions: {vers}.",
        "",
        "Medians over the rounds with min–max; ratios in the tables are of "
        "medians (÷ direct: to no proxy, ÷ sluice: to sluice). The targets "
        "are judged on ratios taken round by round.",
        "",
    ]
    parts += md_sections
    parts += ["### Targets", "", targets_md, ""]
    if b.problems:
        parts += ["Problems seen:", ""] + [f"- {p.splitlines()[0]}" for p in b.problems] + [""]
    parts += ["Raw per-run numbers:", "", "```"] + b.raw + ["```", ""]
    entry = "\n".join(parts)
    if not a.no_write:
        report.insert_entry(Path(a.results), entry)
        log(f"added an entry to {a.results}")
    return entry


# --- main ---------------------------------------------------------------------------------

def main(argv) -> int:
    a = parse_args(argv)
    cmdline = shlex.join(["bench/bench.py"] + argv)
    t_start = time.monotonic()

    # Every way out (Ctrl-C, SIGTERM, SIGHUP, an exception) goes through
    # Bench.cleanup, which ends every daemon by PID.
    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    nofile = procs.raise_nofile()
    if nofile < procs.NOFILE:
        log(f"warning: RLIMIT_NOFILE raised only to {nofile} (hard limit; "
            f"no CAP_SYS_RESOURCE), not {procs.NOFILE}")
    need = list(TOOLS) + [peers.PROXIES[t].commands[0] for t in a.targets
                          if t in peers.PROXIES and peers.PROXIES[t].commands]
    if "6" in a.scenarios:
        need.append("gcc")  # blocklist-peers.sh builds its origin
    if a.no_install:
        missing = [c for c in need if not procs.which(c)]
        if missing:
            raise BenchError(f"missing {' '.join(missing)} (and --no-install)")
    else:
        procs.install_missing(need)

    b = Bench(a)
    b.nofile = nofile
    rc = 0
    try:
        res = b.results
        res["command"] = cmdline
        res["started"] = datetime.datetime.now().isoformat(timespec="seconds")
        res["machine"] = machine_info(nofile)
        res["options"] = {k: v for k, v in vars(a).items()}
        if any(s in a.scenarios for s in "12345"):
            b.start_all()
        vers = {}
        for t in a.targets:
            if t in peers.PROXIES:
                p = b.proxies.get(t) or peers.PROXIES[t](b.procs, b.work, None, None,
                                                          **({"binary": a.sluice}
                                                             if t == "sluice" else {}))
                vers[t] = p.version()
        vers.update(tool_versions())
        res["versions"] = vers
        log("versions: " + "; ".join(vers.values()))

        md_sections = []
        for num in a.scenarios:
            spec = SCENARIOS[num]
            fill = dict(dur=f"{a.duration:g}", new=f"{a.hey_new:,}",
                        reuse=f"{a.hey_reuse:,}", bulk=a.bulk, bulk4=a.bulk4,
                        bulk_h=_human(a.bulk), bulk4_h=_human(a.bulk4), lists=a.lists)
            sc = {"title": spec["title"], "how": spec["how"].format(**fill),
                  "metrics": list(spec["metrics"]), "runs": {}, "notes": []}
            if num in "1234":
                sc["how"] += (f" Median (min–max) of {scenario_rounds(a, num)} "
                              f"round(s), targets interleaved.")
            if "relay" in a.targets:
                sc["how"] += " " + spec["relay"]
            if "splice" in a.targets and "splice" in spec:
                sc["how"] += " " + spec["splice"]
            res["scenarios"][num] = sc
            t0 = time.monotonic()
            log(f"== scenario {num}: {spec['title']}")
            if num == "5":
                scenario5(b, sc)
            elif num == "6":
                b.procs.stop_all()  # its own origin and proxies; ours are done
                scenario6(b, sc)
            else:
                run_interleaved(b, num, sc)
            sc["elapsed_s"] = round(time.monotonic() - t0, 1)
            log(f"== scenario {num} took {sc['elapsed_s']:.0f} s")
            md = report.scenario_markdown(num, sc, b.displays)
            md_sections.append(md)
            print(md, flush=True)

        rows = report.check_targets(res["scenarios"], b.displays)
        res["targets"] = rows
        tmd = report.targets_table(rows)
        print("### Targets\n\n" + tmd + "\n", flush=True)
        if b.problems:
            print("Problems seen:\n" + "\n".join(f"- {p}" for p in b.problems) + "\n")
        elapsed = time.monotonic() - t_start
        res["elapsed_s"] = round(elapsed, 1)
        res["problems"] = b.problems
        res["raw"] = b.raw
        write_entry(b, md_sections, tmd, elapsed, cmdline)
        log(f"total run time {elapsed:.0f} s")
    except BenchError as e:
        log(f"bench: {e}")
        rc = 1
    except KeyboardInterrupt as e:
        log(f"bench: interrupted ({str(e) or 'Ctrl-C'}), cleaning up")
        rc = 130
    finally:
        b.cleanup()
        if a.json:
            Path(a.json).write_text(json.dumps(b.results, indent=1, default=str) + "\n")
            log(f"wrote {a.json}")
    return rc


def _human(path: str) -> str:
    return {"1g": "1 GiB", "256m": "256 MiB", "64m": "64 MiB"}[path]


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log(f"bench: {e}")
        sys.exit(1)
