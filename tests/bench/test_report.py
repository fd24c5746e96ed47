"""How bench/report.py judges sluice's goals: ratios taken round by round,
and the floors' notes. Plain data in, rows out: no proxy is run."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import peers  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402

DISPLAYS = {"relay": "blind relay (floor)", "splice": "splicing relay (floor)",
            "ats": "Traffic Server", "squid": "Squid", "sluice": "sluice"}


def rounds(key, *values):
    """One dict per round; None is a round without a figure."""
    return [{} if v is None else {key: v} for v in values]


def judged(num, runs, prefix):
    """The row of the goal starting with prefix, from scenario num's runs
    ({target: rounds(...)}) judged alone."""
    rows = report.check_targets({num: {"runs": runs}}, DISPLAYS)
    found = [r for r in rows if r["goal"].startswith(prefix)]
    assert len(found) == 1, rows
    return found[0]


def test_paired_skips_rounds_without_both_figures():
    mine = rounds("k", 2.0, None, 6.0, 8.0)
    theirs = rounds("k", 1.0, 5.0, None, 4.0)
    assert report.paired(mine, theirs, "k") == [2.0, 2.0]


def test_p99_is_judged_round_by_round_not_on_two_medians():
    # The machine drifts: both targets slow down alike from round to round.
    # sluice is lower than Traffic Server in every round but one, yet its
    # median is the higher of the two.
    runs = {"sluice": rounds("p99_ms", 4.0, 5.0, 6.2, 7.0, 8.0),
            "ats": rounds("p99_ms", 4.2, 5.3, 6.0, 7.4, 8.4)}
    assert report.median(runs["sluice"], "p99_ms") > 6.0
    r = judged("1", runs, "s1: p99")
    assert r["verdict"] == "PASS"
    assert "median of 5 round(s): 0.95 ×" in r["compared"]

    runs["sluice"] = rounds("p99_ms", 4.5, 5.6, 5.9, 7.9, 8.9)
    assert report.median(runs["sluice"], "p99_ms") < 6.0
    assert judged("1", runs, "s1: p99")["verdict"] == "FAIL"


def test_floor_note_names_the_floor_and_its_ratio():
    # CPU per GiB, lower is better: the splicing relay is scenario 3's
    # floor, and it too misses 1/3 of Traffic Server's.
    runs = {"relay": rounds("cpu_gib_1", 1.3, 1.4, 1.2),
            "splice": rounds("cpu_gib_1", 0.47, 0.48, 0.46),
            "sluice": rounds("cpu_gib_1", 0.50, 0.49, 0.52),
            "ats": rounds("cpu_gib_1", 1.35, 1.40, 1.30)}
    r = judged("3", runs, "s3: CPU s per GiB")
    assert r["verdict"] == ("FAIL (beyond this machine: the splicing relay "
                            "itself, ÷ Traffic Server, is 0.35 ×)")

    # A floor that meets the limit says nothing.
    runs["splice"] = rounds("cpu_gib_1", 0.40, 0.41, 0.39)
    r = judged("3", runs, "s3: CPU s per GiB")
    assert r["verdict"] == "FAIL"

    # sluice passing while the floor misses: said, as a PASS.
    runs["splice"] = rounds("cpu_gib_1", 0.47, 0.48, 0.46)
    runs["sluice"] = rounds("cpu_gib_1", 0.44, 0.43, 0.42)
    r = judged("3", runs, "s3: CPU s per GiB")
    assert r["verdict"].startswith("PASS (though the splicing relay itself")


def test_the_copying_relay_is_no_floor_for_bulk():
    # Without the splicing relay, the blind relay's copy through user space
    # (here 0.90 × Traffic Server per GiB) bounds nothing in scenario 3.
    runs = {"relay": rounds("cpu_gib_1", 1.2, 1.3, 1.1),
            "sluice": rounds("cpu_gib_1", 0.50, 0.49, 0.52),
            "ats": rounds("cpu_gib_1", 1.35, 1.40, 1.30)}
    r = judged("3", runs, "s3: CPU s per GiB")
    assert r["verdict"] == "FAIL"
    # Nor for throughput, even where it is the faster of the two.
    runs = {"direct": rounds("mbps_1", 1600, 2000),
            "relay": rounds("mbps_1", 1000, 1200),
            "splice": rounds("mbps_1", 960, 1080),
            "sluice": rounds("mbps_1", 1000, 1050)}
    r = judged("3", runs, "s3: one-stream MB/s")
    assert r["verdict"] == ("FAIL (beyond this machine: the splicing relay "
                            "itself, ÷ direct, is 0.57 ×)")


def test_no_peer_figure_is_not_judged():
    runs = {"sluice": rounds("p99_ms", 4.0), "ats": rounds("p99_ms", None)}
    r = judged("1", runs, "s1: p99")
    assert r["verdict"] == "n/a"


def test_the_splicing_relay_runs_in_bulk_scenarios_only(monkeypatch):
    assert [n for n in "1234" if peers.runs_in("splice", n)] == ["3", "4"]
    assert all(peers.runs_in(t, "1") for t in ("direct", "relay", "sluice", "ats"))

    # run_interleaved asks runs_in: who is measured in each scenario.
    measured = []
    targets = ["direct", "relay", "splice", "sluice"]
    b = SimpleNamespace(args=SimpleNamespace(targets=targets, quick=True, rounds=1),
                        ensure_running=lambda t, where: True,
                        proxy=lambda t: None, raw=[], displays={})
    for num in ("1", "3"):
        monkeypatch.setitem(scenarios.SCENARIOS[num], "run",
                            lambda b, t, num=num: measured.append((num, t)) or {})
        scenarios.run_interleaved(b, num, {"runs": {}, "metrics": [], "notes": []})
    assert measured == [("1", "direct"), ("1", "relay"), ("1", "sluice"),
                        ("3", "direct"), ("3", "relay"), ("3", "splice"),
                        ("3", "sluice")]


def test_the_best_peer_is_chosen_by_median_and_never_a_relay():
    # CPU per request, lower is better: Traffic Server's median beats
    # Squid's, and the relay, cheaper than both, is no peer.
    runs = {"relay": rounds("cpu_us", 20.0, 21.0, 22.0),
            "sluice": rounds("cpu_us", 26.0, 27.0, 28.0),
            "squid": rounds("cpu_us", 90.0, 100.0, 30.0),
            "ats": rounds("cpu_us", 44.0, 46.0, 45.0)}
    r = judged("1", runs, "s1: CPU per request")
    assert r["compared"].startswith("Traffic Server 45.0 µs; ")
    assert "median of 3 round(s): 0.59 ×" in r["compared"]
    assert r["verdict"] == "FAIL"  # the relay, at 0.46 ×, meets the limit
