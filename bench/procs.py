"""Processes for bench/bench.py: limits, packages, /proc, children.

  - raise_nofile() raises RLIMIT_NOFILE for the harness and its children;
  - install_missing() puts in the Debian packages the benchmark needs, with
    a temporary /usr/sbin/policy-rc.d so no service starts;
  - tree_pids, tree_cpu_ticks, tree_rss_kb and tree_threads read a process
    and all its descendants from /proc;
  - Procs starts every daemon as a child, in the foreground, in its own
    session, and ends it and its descendants by PID (checked against their
    start time, so a reused PID is never hit).

Standard library only. Nothing here touches a system service.
"""

import ctypes
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOFILE = 65536  # RLIMIT_NOFILE for the harness and every child


class BenchError(Exception):
    """A failure the harness reports loudly and stops on."""


def log(msg: str) -> None:
    """Progress goes to stderr, tables to stdout."""
    print(msg, file=sys.stderr, flush=True)


def run(argv, timeout=60, check=False, **kw) -> subprocess.CompletedProcess:
    """Run a short command, capture its text output, bounded in time."""
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout, check=check, **kw)


def which(cmd: str):
    """Path of cmd, looking in the sbin directories too (root's PATH may
    lack them when run from a service manager)."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(cmd, path=path)


# --- limits and packages ----------------------------------------------------

def raise_nofile(n: int = NOFILE) -> int:
    """Raise RLIMIT_NOFILE (soft and hard) to at least n, for this process
    and, by inheritance, every child, and return the soft limit reached.
    Raising the hard limit needs CAP_SYS_RESOURCE (root has it, except in
    some containers): without it the soft limit goes up to the hard one
    and the caller is told how far it got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    inf = resource.RLIM_INFINITY
    new_soft = soft if soft == inf or soft >= n else n
    new_hard = hard if hard == inf or hard >= new_soft else new_soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, new_hard))
    except (ValueError, OSError):
        if hard != inf and soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 62 if soft == inf else soft


# command -> Debian package providing it
PACKAGES = {
    "squid": "squid", "tinyproxy": "tinyproxy", "privoxy": "privoxy",
    "traffic_server": "trafficserver", "nginx": "nginx", "wrk": "wrk",
    "hey": "hey", "curl": "curl", "openssl": "openssl", "gcc": "gcc",
}


def install_missing(commands) -> list:
    """apt-get install the packages of the commands that are missing.

    Debian's packages start (and enable) their service on install unless
    /usr/sbin/policy-rc.d says no (exit 101); such a file is written for
    the length of the install when there is none, and removed afterwards
    only if it was made here. Returns the packages installed."""
    pkgs = sorted({PACKAGES[c] for c in commands if not which(c)})
    if not pkgs:
        return []
    if os.geteuid() != 0:
        raise BenchError(f"missing packages {' '.join(pkgs)} and not root")
    log(f"installing: {' '.join(pkgs)}")
    policy = Path("/usr/sbin/policy-rc.d")
    made = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        made = True
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300"]
    install = apt + ["install", "-y", "-qq", "--no-install-recommends"] + pkgs
    try:
        r = subprocess.run(install, env=env, timeout=900,
                           stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:  # stale package lists: update, try once more
            subprocess.run(apt + ["update", "-qq"], env=env, timeout=600,
                           stdout=sys.stderr, stderr=sys.stderr)
            subprocess.run(install, env=env, timeout=900, check=True,
                           stdout=sys.stderr, stderr=sys.stderr)
    except subprocess.SubprocessError as e:
        raise BenchError(f"apt-get install {' '.join(pkgs)} failed: {e}") from e
    finally:
        if made:
            policy.unlink(missing_ok=True)
    still = [c for c in commands if not which(c)]
    if still:
        raise BenchError(f"still missing after install: {' '.join(still)}")
    return pkgs


# --- /proc: process trees, CPU, memory ----------------------------------------

def _stat_fields(pid: int):
    """Fields of /proc/PID/stat after the command name (field 3 onwards),
    or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()


def start_time(pid: int):
    """Field 22 of /proc/PID/stat: when the process started (clock ticks
    since boot). With the PID, it names one process even if PIDs wrap."""
    f = _stat_fields(pid)
    return int(f[19]) if f else None


def tree_pids(root: int) -> list:
    """root and all its descendants (breadth first), from /proc."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = _stat_fields(int(name))
        if f:
            kids.setdefault(int(f[1]), []).append(int(name))
    if _stat_fields(root) is None:
        return []
    out, i = [root], 0
    while i < len(out):
        out.extend(kids.get(out[i], []))
        i += 1
    return out


def tree_cpu_ticks(root: int) -> int:
    """CPU time of root and its descendants in clock ticks: utime + stime
    (every thread, dead ones included) + cutime + cstime (children already
    reaped) of each process of the tree. Take the difference over a run."""
    total = 0
    for pid in tree_pids(root):
        f = _stat_fields(pid)
        if f:
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total


def tree_rss_kb(root: int) -> int:
    """Sum of VmRSS (kB) over root and its descendants."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def tree_threads(root: int) -> int:
    """Number of threads over root and its descendants."""
    n = 0
    for pid in tree_pids(root):
        f = _stat_fields(pid)
        if f:
            n += int(f[17])
    return n


def free_port() -> int:
    """A loopback port free right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- children -----------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup():
    """In the child before exec: die with SIGTERM if the harness dies
    without cleaning up (SIGKILL), so no daemon is left behind."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Child:
    """One daemon started by Procs."""

    def __init__(self, name, popen, logpath):
        self.name = name
        self.popen = popen
        self.pid = popen.pid
        self.start_time = start_time(popen.pid)
        self.logpath = logpath

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, n=15) -> str:
        try:
            lines = Path(self.logpath).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("  | " + s for s in lines[-n:])


class Procs:
    """Every daemon the harness starts, so all of them are ended by PID on
    the way out, normal or not."""

    def __init__(self):
        self.children = []

    def spawn(self, name, argv, logpath, cwd=None, env=None,
              stderr_too=True) -> Child:
        """Start argv in the foreground as a child in its own session (so a
        Ctrl-C reaches the harness, which ends it in order), stdout to
        logpath, and stderr too unless stderr_too is false (then it is the
        harness's stderr)."""
        with open(logpath, "ab") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT if stderr_too else None,
                                 cwd=cwd, env=env,
                                 start_new_session=True,
                                 preexec_fn=_child_setup)
        c = Child(name, p, logpath)
        self.children.append(c)
        return c

    def stop(self, c: Child, grace: float = 5.0) -> None:
        """SIGTERM the child, wait up to grace seconds, then SIGKILL it and
        every descendant still there (each checked by PID and start time,
        so a reused PID is never hit)."""
        if c not in self.children:
            return
        tree = [(p, start_time(p)) for p in tree_pids(c.pid)]
        if c.alive():
            try:
                os.kill(c.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                c.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        for pid, st in tree:
            if st is not None and start_time(pid) == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            c.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"warning: {c.name} (pid {c.pid}) did not exit after SIGKILL")
        self.children.remove(c)

    def stop_all(self) -> None:
        for c in reversed(list(self.children)):
            try:
                self.stop(c, grace=3.0)
            except Exception as e:  # keep going: end every other one
                log(f"warning: stopping {c.name}: {e}")


def wait_for_line(c: Child, pattern: str, timeout: float) -> re.Match:
    """Poll the child's log until a line matches pattern."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        try:
            m = rx.search(Path(c.logpath).read_text(errors="replace"))
        except OSError:
            m = None
        if m:
            return m
        if not c.alive():
            break
        time.sleep(0.05)
    raise BenchError(f"{c.name} did not print /{pattern}/ in {timeout} s:\n"
                     + c.log_tail())
