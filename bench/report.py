"""Tables, goal checks and the RESULTS.md entry for bench/bench.py.

A scenario's results are plain data (they go to --json as they are):

  {"title": ..., "how": ..., "metrics": [METRIC, ...],
   "runs": {TARGET: [{KEY: value or None, ...}, ...one dict per round]},
   "notes": [str, ...]}

  METRIC = {"key": "rps", "label": "req/s", "digits": 0,
            "proxy_only": False,   # n/a for `direct` (e.g. the proxy's CPU)
            "ratio": True}         # give ratios to direct and to sluice

Every table shows, per target, the median over the rounds with the min–max
beside it, and the ratio of the median to direct's and to sluice's.
"""

import statistics

PEERS = ("squid", "ats", "tinyproxy", "privoxy")  # the proxies sluice is held to
# Targets relay and splice (bench/relay.c, bench/relay_splice.c) are never
# peers, but the floors some goals are read against: the blind relay for
# small exchanges, the splicing one for bulk (the blind relay copies, and a
# proxy that splices may beat it). check_targets names each goal's floor.


# --- numbers --------------------------------------------------------------------

def fmt(v, digits=0) -> str:
    """A figure for a table: thousands separated, `digits` decimals (fewer
    significant digits are not dropped: 0.0123 stays readable)."""
    if v is None:
        return "–"
    if digits == 0 and abs(v) < 10 and v != int(v):
        digits = 1  # never print 3.4 as 3
    if 0 < abs(v) < 10 ** -digits:
        return f"{v:.2g}"
    return f"{v:,.{digits}f}"


def values(runs, key) -> list:
    return [r[key] for r in runs if r.get(key) is not None]


def median(runs, key):
    v = values(runs, key)
    return statistics.median(v) if v else None


def cell(runs, key, digits) -> str:
    """`median (min–max)`, or the value alone for one round."""
    v = values(runs, key)
    if not v:
        return "–"
    med = fmt(statistics.median(v), digits)
    if len(v) == 1 or min(v) == max(v):
        return med
    return f"{med} ({fmt(min(v), digits)}–{fmt(max(v), digits)})"


def ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.2f}" if r < 100 else f"{r:.0f}"


# --- tables -----------------------------------------------------------------------

def scenario_table(sc: dict, displays: dict) -> str:
    """The markdown table of one scenario: a row per target, per metric a
    `median (min–max)` column and a `÷ direct / ÷ sluice` column."""
    metrics, runs = sc["metrics"], sc["runs"]
    head = ["target"]
    for m in metrics:
        head.append(m["label"])
        if m.get("ratio", True):
            head.append("÷ direct / ÷ sluice" if not m.get("proxy_only")
                        else "÷ sluice")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for target, trs in runs.items():
        row = [displays.get(target, target)]
        for m in metrics:
            k, dg = m["key"], m.get("digits", 0)
            if m.get("proxy_only") and target == "direct":
                row.append("n/a")
            else:
                row.append(cell(trs, k, dg))
            if m.get("ratio", True):
                med = median(trs, k)
                to_sluice = ratio(med, median(runs.get("sluice", []), k))
                if m.get("proxy_only"):
                    row.append("–" if target == "direct" else to_sluice)
                else:
                    to_direct = ratio(med, median(runs.get("direct", []), k))
                    row.append(f"{to_direct} / {to_sluice}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def scenario_markdown(num: str, sc: dict, displays: dict) -> str:
    """Heading, how it was measured, the table and the notes."""
    out = [f"### {num}. {sc['title']}", "", sc["how"], ""]
    if sc.get("table"):  # scenario 6 brings its own table
        out.append(sc["table"])
    else:
        out.append(scenario_table(sc, displays))
    if sc.get("notes"):
        out.append("")
        out += [f"- {n}" for n in sc["notes"]]
    return "\n".join(out) + "\n"


# --- goals --------------------------------------------------------------------------

def _best_peer(runs, key, lowest: bool):
    """The peer with the best median for key, or None."""
    meds = [(p, median(runs[p], key)) for p in PEERS if p in runs]
    meds = [(p, v) for p, v in meds if v is not None]
    if not meds:
        return None
    return (min if lowest else max)(meds, key=lambda pv: pv[1])[0]


def _verdict(ok) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def paired(mine: list, theirs: list, key) -> list:
    """mine ÷ theirs round by round, over the rounds where both have a
    figure: the targets of a round run back to back, so a drift of the
    machine moves both figures of a pair alike, but not two medians,
    which may come from different rounds."""
    return [m[key] / t[key] for m, t in zip(mine, theirs)
            if m.get(key) is not None and t.get(key)]


def check_targets(scen: dict, displays: dict) -> list:
    """sluice against its goals: a list of {goal, sluice, compared, verdict}
    rows. A goal "sluice ≤ factor × X" (or ≥) is judged on the median of
    sluice ÷ X round by round; the medians of both are shown beside it."""
    rows = []

    def floor_note(sc, key, floor, other, other_label, factor, lowest, ok) -> str:
        """What to add to the verdict when the floor (relay or splice), run
        in the same rounds, already misses the limit sluice is held to: a
        FAIL is then beyond this machine; a PASS beat the floor."""
        r = paired(sc["runs"].get(floor, []), sc["runs"][other], key)
        if not r:
            return ""
        theirs = statistics.median(r)
        if theirs <= factor if lowest else theirs >= factor:
            return ""
        name = displays.get(floor, floor).replace(" (floor)", "")
        what = f"the {name} itself, ÷ {other_label}, is {theirs:.2f} ×"
        return f" (though {what})" if ok else f" (beyond this machine: {what})"

    def judge(num, key, goal, other, other_label, unit, factor, lowest, digits,
              factor_s, floor):
        sc = scen[num]
        mine = median(sc["runs"]["sluice"], key)
        theirs = median(sc["runs"].get(other, []), key)
        r = paired(sc["runs"]["sluice"], sc["runs"].get(other, []), key)
        if not r:
            rows.append(dict(goal=goal, sluice=fmt(mine, digits), compared="–",
                             verdict="n/a"))
            return
        ratio_ = statistics.median(r)
        ok = ratio_ <= factor if lowest else ratio_ >= factor
        spread = f" ({min(r):.2f}–{max(r):.2f})" if len(r) > 1 else ""
        rows.append(dict(
            goal=goal, sluice=f"{fmt(mine, digits)} {unit}",
            compared=f"{other_label} {fmt(theirs, digits)} {unit}; sluice ÷ it, "
                     f"median of {len(r)} round(s): {ratio_:.2f} ×{spread}, "
                     f"limit {factor_s} ×",
            verdict=_verdict(ok) + (floor_note(sc, key, floor, other, other_label,
                                               factor, lowest, ok) if floor else "")))

    def vs_peer(num, key, label, unit, factor, lowest, digits, factor_s=None,
                floor=None):
        """sluice against factor × the best peer (by median); with floor
        (relay or splice), the verdict also says when it misses the limit."""
        sc = scen.get(num)
        if not sc or "sluice" not in sc["runs"]:
            return
        peer = _best_peer(sc["runs"], key, lowest)  # PEERS only: no floor
        op = "≤" if lowest else "≥"
        times = "" if factor == 1 else f"{factor_s or f'{factor:g}'} × "
        goal = f"s{num}: {label} {op} {times}best peer's"
        if peer is None:
            rows.append(dict(goal=goal, sluice=fmt(median(sc["runs"]["sluice"], key),
                                                   digits),
                             compared="–", verdict="n/a"))
            return
        judge(num, key, goal, peer, displays.get(peer, peer), unit, factor, lowest,
              digits, factor_s or f"{factor:g}", floor)

    def vs_direct(num, key, label, unit, factor, digits, floor=None):
        sc = scen.get(num)
        if not sc or "sluice" not in sc["runs"]:
            return
        judge(num, key, f"s{num}: {label} ≥ {factor:g} × direct", "direct", "direct",
              unit, factor, False, digits, f"{factor:g}", floor)

    # The floor of each goal: per-request and per-tunnel work on small
    # exchanges, the blind relay; bulk, the splicing relay. None for p99:
    # on shared CPUs a latency follows scheduling more than work done, and
    # a relay's bounds nothing.
    vs_peer("1", "cpu_us", "CPU per request", "µs", 0.5, True, 1, floor="relay")
    vs_peer("1", "rps", "req/s", "req/s", 1.5, False, 0, floor="relay")
    vs_peer("1", "p99_ms", "p99 latency", "ms", 1, True, 2)
    vs_peer("2", "cpu_us_new", "CPU per tunnel (no reuse)", "µs", 0.5, True, 1,
            floor="relay")
    vs_direct("2", "rps_new", "req/s (no reuse)", "req/s", 0.9, 0, floor="relay")
    vs_direct("3", "mbps_1", "one-stream MB/s", "MB/s", 0.9, 0, floor="splice")
    vs_peer("3", "cpu_gib_1", "CPU s per GiB (one stream)", "s", 1 / 3, True, 2, "1/3",
            floor="splice")
    vs_direct("4", "mbps", "MB/s", "MB/s", 0.8, 0, floor="splice")
    sc5 = scen.get("5")
    if sc5:
        key = sc5.get("goal_key")
        if key:
            vs_peer("5", key, f"KiB per idle tunnel ({sc5['goal_label']})", "KiB",
                    0.25, True, 1)
    rows.extend(scen.get("6", {}).get("goals", []))
    return rows


def targets_table(rows: list) -> str:
    lines = ["| goal | sluice | compared with | verdict |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['goal']} | {r['sluice']} | {r['compared']} | "
                     f"{r['verdict']} |")
    return "\n".join(lines)


# --- RESULTS.md ----------------------------------------------------------------------

def insert_entry(path, entry: str) -> None:
    """Put entry before the first `## ` section of path (after the intro),
    keeping every older entry."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("## "):
            break
    else:
        i = len(lines)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        entry = "\n" + entry
    path.write_text("".join(lines[:i]) + entry.rstrip("\n") + "\n\n"
                    + "".join(lines[i:]))
