#!/usr/bin/python3
"""Write a blocklist of N distinct lowercase domains for the benchmarks.

  gen-domains.py --count N|real --seed S [--real-dir DIR] --out FILE
                 [--format hosts|domains|adguard|squid|privoxy|tinyproxy]
                 [--prune-covered | --no-prune-covered]
  gen-domains.py --from DOMAINS_FILE --format FMT --out FILE

The set is every distinct domain of the real lists in DIR (default
../shared/blocklists from the project root), in the order first seen
(files taken by name), then seeded synthetic names until N. `--count real`
is exactly the real domains; a count below that takes the first N of them.
`--from` takes the set from a file this script wrote in `domains` format
(faster than making 1M names again for each format).
The same count and seed always give the same set, in the same order, in
every format, so the peers are fed the same names.

Parsing is simple and line by line:
  `||name^`            AdGuard/Adblock DNS rule (lines with `$` options,
                       `@@` exceptions or `!` comments are skipped)
  `ADDRESS name...`    hosts line: the names, minus localhost-like ones
  `name`               a plain domain
`#` starts a comment. A name must have at least two labels of [a-z0-9_-]
and not be an IP address; names are lowercased and a trailing dot dropped.

Formats (each blocks the name and all its subdomains):
  domains    name
  hosts      0.0.0.0 name
  adguard    ||name^
  squid      .name              (for `acl NAME dstdomain "FILE"`)
  privoxy    an action file: `{ +block{sluice-bench} }`, then `.name`
  tinyproxy  `name` and `*.name` (for `FilterType fnmatch`; fnmatch has no
             alternation, so a domain and its subdomains take two patterns)

Squid rejects (warns about, then drops) a name whose parent is also listed,
so for `squid` the names covered by a listed parent are removed
(`--prune-covered`, the default for squid only); the number removed goes to
stderr. Blocking is the same either way.

Standard library only; run with /usr/bin/python3.
"""

import argparse
import ipaddress
import os
import random
import re
import sys

LOCALHOST_LIKE = {
    "localhost", "localhost.localdomain", "local", "broadcasthost",
    "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
    "ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
}
LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
NAME_RE = re.compile(r"^(?:%s\.)+%s$" % (LABEL, LABEL))
ADGUARD_RE = re.compile(r"^\|\|([^\^/$|*]+)\^$")

FORMATS = ("domains", "hosts", "adguard", "squid", "privoxy", "tinyproxy")


def is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def clean(name):
    """Lowercased name, or None when it is not a blockable domain."""
    name = name.strip().lower().rstrip(".")
    if not name or len(name) > 253 or name in LOCALHOST_LIKE:
        return None
    if name.endswith(".localdomain") or is_ip(name):
        return None
    if not NAME_RE.match(name):
        return None
    return name


def names_in_line(line):
    line = line.strip()
    if not line or line[0] in "!#[" or line.startswith("@@"):
        return []
    if line.startswith("||"):
        m = ADGUARD_RE.match(line)
        return [m.group(1)] if m else []
    line = line.split("#", 1)[0]
    toks = line.split()
    if not toks:
        return []
    if len(toks) >= 2 and is_ip(toks[0]):
        return toks[1:]
    if len(toks) == 1:
        return toks
    return []


def real_domains(real_dir):
    seen = set()
    out = []
    if not real_dir:
        return out
    for fn in sorted(os.listdir(real_dir)):
        if fn.lower().startswith("readme") or fn.startswith("."):
            continue
        path = os.path.join(real_dir, fn)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                for raw in names_in_line(line):
                    name = clean(raw)
                    if name and name not in seen:
                        seen.add(name)
                        out.append(name)
    return out


# Synthetic names: 2-4 labels, the last a common TLD; other labels 3-15
# characters, mostly pronounceable, some random alphanumerics or hex (the
# shapes of tracker hosts), some with a hyphen or digits.
TLDS = (["com"] * 40 + ["net"] * 12 + ["org"] * 6 + ["io"] * 4 +
        ["de"] * 3 + ["info"] * 2 + ["co"] * 2 + ["ru"] * 2 + ["xyz"] * 2 +
        ["uk", "fr", "jp", "cn", "nl", "it", "es", "pl", "br", "in", "top",
         "online", "site", "app", "biz", "tv", "me", "us", "eu", "club"])
ONSETS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
          "t", "v", "w", "z", "br", "cl", "cr", "dr", "fl", "gr", "pl", "pr",
          "st", "tr", "ch", "sh", "th", ""]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"]
CODAS = ["", "", "", "n", "r", "s", "t", "x", "ck", "ng", "st", "m", "l"]
WORDS = ["ads", "ad", "track", "pixel", "metrics", "stats", "cdn", "static",
         "img", "api", "tag", "beacon", "click", "media", "log", "events",
         "sync", "match", "serve", "delivery", "collect", "analytics"]
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"


def label(rng, lo=3, hi=15):
    n = rng.randint(lo, hi)
    r = rng.random()
    if r < 0.12:
        s = "".join(rng.choice(HEX) for _ in range(n))
    elif r < 0.25:
        s = "".join(rng.choice(ALNUM) for _ in range(n))
    else:
        s = ""
        while len(s) < n:
            if rng.random() < 0.08:
                s += rng.choice(WORDS)
            else:
                s += rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
        s = s[:n]
        if rng.random() < 0.15:
            s = s[:-2] + str(rng.randint(10, 99)) if n > 4 else s
    if n >= 7 and rng.random() < 0.12:
        cut = rng.randint(2, n - 3)
        s = s[:cut] + "-" + s[cut + 1:]
    return s


def synthetic(rng):
    nlabels = rng.choices((2, 3, 4), weights=(45, 40, 15))[0]
    parts = [label(rng) for _ in range(nlabels - 1)]
    parts.append(rng.choice(TLDS))
    return ".".join(parts)


def build(count, seed, real_dir):
    real = real_domains(real_dir)
    if count == "real":
        return real, len(real)
    count = int(count)
    if count <= len(real):
        return real[:count], count
    names = list(real)
    seen = set(real)
    rng = random.Random(seed)
    guard = 0
    while len(names) < count:
        guard += 1
        if guard > count * 20:
            sys.exit("gen-domains: cannot make enough distinct names")
        name = synthetic(rng)
        if name not in seen and clean(name):
            seen.add(name)
            names.append(name)
    return names, len(real)


def prune_covered(names):
    s = set(names)
    out = []
    for n in names:
        parts = n.split(".")
        if any(".".join(parts[i:]) in s for i in range(1, len(parts) - 1)):
            continue
        out.append(n)
    return out


def write(names, fmt, out):
    lines = []
    if fmt == "domains":
        lines = names
    elif fmt == "hosts":
        lines = ["0.0.0.0 " + n for n in names]
    elif fmt == "adguard":
        lines = ["||" + n + "^" for n in names]
    elif fmt == "squid":
        lines = ["." + n for n in names]
    elif fmt == "privoxy":
        lines = ["{ +block{sluice-bench} }"] + ["." + n for n in names]
    elif fmt == "tinyproxy":
        lines = [p for n in names for p in (n, "*." + n)]
    text = "\n".join(lines) + "\n" if lines else ""
    if out == "-":
        sys.stdout.write(text)
        return
    if os.path.islink(out) or (os.path.exists(out) and
                               not os.path.isfile(out)):
        # a symlink (/dev/stdout), device or FIFO: write through it
        with open(out, "w", encoding="ascii") as f:
            f.write(text)
        return
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="src",
                    help="read the set from a domains-format file instead")
    ap.add_argument("--count",
                    help="number of domains, or 'real' for the real ones only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--real-dir",
                    default=os.path.normpath(
                        os.path.join(here, "..", "..", "shared", "blocklists")),
                    help="directory of real lists ('' for none)")
    ap.add_argument("--out", required=True, help="file to write, or - for stdout")
    ap.add_argument("--format", choices=FORMATS, default="domains")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--prune-covered", dest="prune", action="store_true",
                   default=None)
    g.add_argument("--no-prune-covered", dest="prune", action="store_false")
    a = ap.parse_args()
    if a.src:
        with open(a.src, encoding="ascii") as f:
            names = [ln.strip() for ln in f if ln.strip()]
        nreal = len(names)
    else:
        if a.count is None or (a.count != "real" and not a.count.isdigit()):
            ap.error("--count takes a number or 'real'")
        if a.real_dir and not os.path.isdir(a.real_dir):
            ap.error("no such directory: " + a.real_dir)
        names, nreal = build(a.count, a.seed, a.real_dir)
    prune = a.prune if a.prune is not None else (a.format == "squid")
    written = prune_covered(names) if prune else names
    write(written, a.format, a.out)
    if a.src:
        msg = "gen-domains: %d domains from %s -> %s [%s]" % (
            len(names), a.src, a.out, a.format)
    else:
        msg = "gen-domains: %d domains (%d real, %d synthetic) -> %s [%s]" % (
            len(names), min(nreal, len(names)), max(0, len(names) - nreal),
            a.out, a.format)
    if prune:
        msg += ", %d covered by a listed parent removed, %d written" % (
            len(names) - len(written), len(written))
    print(msg, file=sys.stderr)


if __name__ == "__main__":
    main()
