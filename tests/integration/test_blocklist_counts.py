"""Blocklist load counts: what `sluice --check-config` reports for each list
against an independent count in Python.

For each list in ../shared/blocklists (relative to the repository root:
real lists nobody here wrote; the tests skip, saying why, when they are not
there) and for a small hand-written list exercising every syntax, the test
counts entries following the line rules of src/policy/blocklist.h on its
own, then runs

    sluice --check-config --blocklist FILE      (and --allowlist FILE)
    sluice --check-config -c CONF               (four `blocklist` lines)

and compares the lines sluice prints on stdout, one per list in load order:

    sluice: blocklist NAME: L loaded, D duplicates, C local, S skipped (N lines)

(`allowlist NAME` for an allowlist), where NAME is the path as given, plus
the summary `blocklists: R rules from K lists`, where R is the sum of L.

The counter here is written from the rules, not from the C code: lines are
split on LF, a trailing CR dropped; IDN names go through libidn2
(idn2_to_ascii_8z, IDN2_NONTRANSITIONAL) via ctypes, as sluice does. The
hand-written list also has hand-computed counts, so the counter itself is
checked.
"""

import ctypes
import ctypes.util
import functools
import re
import socket

import pytest

from conftest import REPO_ROOT, run_sluice

SHARED_LISTS = (REPO_ROOT / ".." / "shared" / "blocklists").resolve()
REAL_LISTS = (
    "adaway.hosts",
    "anudeep-adservers.hosts",
    "blocklistproject-ads.domains",
    "blocklistproject-tracking.adguard",
)
# Safety limit for one --check-config run over ~350,000 lines, also under
# ASan; not a performance threshold.
LOAD_TIMEOUT = 180.0

LOCAL_NAMES = frozenset(
    n.encode()
    for n in (
        "localhost", "localhost.localdomain", "local", "broadcasthost",
        "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
        "ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
    )
)
COSMETIC = (b"##", b"#@#", b"#?#", b"#$#", b"#%#")
LABEL = re.compile(rb"[a-z0-9_-]{1,63}")
WORDS = re.compile(rb"[ \t]+")
ADBLOCK = re.compile(rb"\|\|(.*)\^\|?", re.S)

TREE, EXACT, SUBS, ALLOW_TREE, ALLOW_EXACT = range(1, 6)
BLANK, LOCAL, SKIP = "blank", "local", "skip"

IDN2_NONTRANSITIONAL = 8  # idn2.h


@functools.lru_cache(maxsize=None)
def _idn2():
    path = ctypes.util.find_library("idn2") or "libidn2.so.0"
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    lib.idn2_to_ascii_8z.argtypes = [
        ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    lib.idn2_to_ascii_8z.restype = ctypes.c_int
    lib.idn2_free.argtypes = [ctypes.c_void_p]
    return lib


def idna_ascii(name):
    """libidn2's ASCII form of a UTF-8 name, or None when it refuses."""
    lib = _idn2()
    if lib is None:
        pytest.skip("libidn2 not loadable through ctypes: cannot count IDN names")
    out = ctypes.c_void_p()
    if lib.idn2_to_ascii_8z(name, ctypes.byref(out), IDN2_NONTRANSITIONAL) != 0:
        return None
    try:
        return ctypes.string_at(out.value)
    finally:
        lib.idn2_free(out)


def normalise(name):
    """A list name as the set holds it, or None when it is not valid."""
    if name.endswith(b"."):
        name = name[:-1]
    name = name.lower()  # bytes.lower() folds ASCII only
    if b"\0" in name:
        return None
    if any(c >= 0x80 for c in name):
        name = idna_ascii(name)
        if name is None:
            return None
    if not 1 <= len(name) <= 253:
        return None
    labels = name.split(b".")
    if not all(LABEL.fullmatch(lab) for lab in labels):
        return None
    if labels[-1].isdigit():
        return None
    return name


def is_address(word):
    """An IPv4 or IPv6 address as inet_pton reads it, IPv6 with a %zone."""
    try:
        text = word.decode("ascii")
    except UnicodeDecodeError:
        return False
    if "\0" in text:
        return False
    try:
        socket.inet_pton(socket.AF_INET, text)
        return True
    except OSError:
        pass
    addr, pct, zone = text.partition("%")
    if pct and not zone:
        return False
    try:
        socket.inet_pton(socket.AF_INET6, addr)
        return True
    except OSError:
        return False


def classify(line, allow, exact):
    """The entries of one line: a list of BLANK, LOCAL, SKIP or (name, rule)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    line = line.strip(b" \t")
    if not line or line.startswith(b"!"):
        return [BLANK]
    if line.startswith(b"#"):
        for marker in COSMETIC:
            if line.startswith(marker):
                after = line[len(marker):len(marker) + 1]
                if after and after not in (b"#", b" ", b"\t"):
                    return [SKIP]
        return [BLANK]
    cut = re.search(rb"[ \t]#", line)
    if cut:
        line = line[:cut.start()].rstrip(b" \t")
    words = WORDS.split(line)

    def entry(name, rule):
        name = normalise(name)
        return SKIP if name is None else (name, rule)

    plain_rule = (ALLOW_EXACT if exact else ALLOW_TREE) if allow else \
        (EXACT if exact else TREE)
    tree_rule = ALLOW_TREE if allow else TREE

    if is_address(words[0]):
        if len(words) == 1:
            return [SKIP]
        out = []
        for w in words[1:]:
            lw = w.lower()
            if lw.endswith(b"."):
                lw = lw[:-1]
            out.append(LOCAL if lw in LOCAL_NAMES else entry(w, plain_rule))
        return out
    if len(words) > 1:
        return [SKIP]
    w = words[0]
    if w.startswith(b"@@"):
        m = ADBLOCK.fullmatch(w[2:])
        return [entry(m.group(1), ALLOW_TREE) if m else SKIP]
    if w.startswith(b"|"):
        m = ADBLOCK.fullmatch(w)
        return [entry(m.group(1), tree_rule) if m else SKIP]
    if len(w) > 1 and w.startswith(b"/") and w.endswith(b"/"):
        return [SKIP]
    rest = w[2:] if w.startswith(b"*.") else w
    if any(c in w for c in (b"$", b"/", b"^", b"##")) or b"*" in rest:
        return [SKIP]
    if w.startswith(b"*."):
        return [SKIP if allow else entry(w[2:], SUBS)]
    if w.startswith(b"."):
        return [entry(w[1:], tree_rule)]
    return [entry(w, plain_rule)]


def count_lines(data):
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def count_lists(lists):
    """lists: [(data, allow, exact)] in load order -> one dict of counts
    each, duplicates counted against every earlier list."""
    seen = set()
    out = []
    for data, allow, exact in lists:
        c = dict(lines=count_lines(data), blank=0, loaded=0, duplicates=0,
                 local=0, skipped=0, first_skipped=0)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        for number, line in enumerate(lines, 1):
            for e in classify(line, allow, exact):
                if e == BLANK:
                    c["blank"] += 1
                elif e == LOCAL:
                    c["local"] += 1
                elif e == SKIP:
                    c["skipped"] += 1
                    c["first_skipped"] = c["first_skipped"] or number
                elif e in seen:
                    c["duplicates"] += 1
                else:
                    seen.add(e)
                    c["loaded"] += 1
        out.append(c)
    return out


@functools.lru_cache(maxsize=None)
def real_list(name):
    path = SHARED_LISTS / name
    if not path.is_file():
        pytest.skip(f"{path} is not there: the shared real blocklists "
                    "are kept beside the repository, as ../shared/blocklists")
    return path, path.read_bytes()


# ------------------------------------------------------------- sluice's side

LOAD_RE = re.compile(
    r"^sluice: (blocklist|allowlist) (.+): (\d+) loaded, (\d+) duplicates, "
    r"(\d+) local, (\d+) skipped \((\d+) lines\)$")
SUMMARY_RE = re.compile(r"^sluice: blocklists: (\d+) rules from (\d+) lists")


def check_config(sluice_bin, *args):
    cp = run_sluice(sluice_bin, "--check-config", *args, timeout=LOAD_TIMEOUT)
    assert cp.returncode == 0, \
        f"--check-config {args} exited {cp.returncode}: {cp.stderr}"
    loads = [m.groups() for m in map(LOAD_RE.match, cp.stdout.splitlines())
             if m]
    summary = [m.groups() for m in
               map(SUMMARY_RE.match, cp.stdout.splitlines()) if m]
    return cp, loads, summary


def want_lines(specs, counts):
    """specs: [(kind, name)] -> the load lines sluice should print."""
    return [(kind, name, str(c["loaded"]), str(c["duplicates"]),
             str(c["local"]), str(c["skipped"]), str(c["lines"]))
            for (kind, name), c in zip(specs, counts)]


def assert_loads(cp, loads, summary, specs, counts):
    want = want_lines(specs, counts)
    assert loads == want, (
        f"load lines differ\n  got  {loads}\n  want {want}\n"
        f"stdout:\n{cp.stdout}")
    assert summary == [(str(sum(c["loaded"] for c in counts)),
                        str(len(specs)))], \
        f"summary line: {summary}, stdout:\n{cp.stdout}"


# ------------------------------------------------------------------ the lists


@pytest.mark.parametrize("name", REAL_LISTS)
def test_blocklist_counts_match(sluice_bin, name):
    path, data = real_list(name)
    counts = count_lists([(data, False, False)])
    assert counts[0]["loaded"] > 1000, f"{name}: counter found {counts}"
    cp, loads, summary = check_config(sluice_bin, "--blocklist", path)
    assert_loads(cp, loads, summary, [("blocklist", str(path))], counts)


@pytest.mark.parametrize("name", REAL_LISTS)
def test_allowlist_counts_match(sluice_bin, tmp_path, name):
    path, data = real_list(name)
    empty = tmp_path / "empty.list"
    empty.write_bytes(b"")
    counts = count_lists([(b"", False, False), (data, True, False)])
    cp, loads, summary = check_config(
        sluice_bin, "--blocklist", empty, "--allowlist", path)
    assert_loads(cp, loads, summary,
                 [("blocklist", str(empty)), ("allowlist", str(path))],
                 counts)


def test_four_lists_count_duplicates_across_lists(sluice_bin, tmp_path):
    lists = [real_list(n) for n in REAL_LISTS]
    conf = tmp_path / "sluice.conf"
    conf.write_text("".join(f"blocklist {p}\n" for p, _ in lists))
    counts = count_lists([(d, False, False) for _, d in lists])
    assert sum(c["duplicates"] for c in counts[1:]) > 0, \
        "the real lists share names: later ones must count duplicates"
    cp, loads, summary = check_config(sluice_bin, "-c", conf)
    assert_loads(cp, loads, summary,
                 [("blocklist", str(p)) for p, _ in lists], counts)


# ------------------------------------------------- a hand-written list

HAND_LIST = (
    b"# hosts part\n"                                 # 1  blank
    b"127.0.0.1 localhost\n"                          # 2  local
    b"::1 localhost ip6-localhost ip6-loopback\n"     # 3  local x3
    b"0.0.0.0 0.0.0.0\n"                              # 4  local
    b"0.0.0.0 ads.example tracker.example   # two\n"  # 5  loaded x2
    b"0.0.0.0 ADS.example.\n"                         # 6  duplicate
    b"fe80::1%lo0 zone.example\n"                     # 7  loaded
    b"0.0.0.0\n"                                      # 8  skipped
    b"0.0.0.0 bad!name good.example\n"                # 9  skipped, loaded
    b"! adblock part\n"                               # 10 blank
    b"||adguard.example^\n"                           # 11 loaded
    b"||pipe.example^|\n"                             # 12 loaded
    b"@@||ok.ads.example^\n"                          # 13 loaded (exception)
    b"||ads.example^\n"                               # 14 duplicate
    b"||opt.example^$third-party\n"                   # 15 skipped
    b"|http://anchor.example/|\n"                     # 16 skipped
    b"@@bare.example\n"                               # 17 skipped
    b"##.banner\n"                                    # 18 skipped
    b"example.org##.ad\n"                             # 19 skipped
    b"#@#.ad\n"                                       # 20 skipped
    b"## not a rule\n"                                # 21 blank
    b"/ads[0-9]+/\n"                                  # 22 skipped
    b"path.example/ads\n"                             # 23 skipped
    b"*.star.example\n"                               # 24 loaded (subs)
    b".dot.example\n"                                 # 25 loaded
    b"plain.example\n"                                # 26 loaded
    b"plain.example # again\n"                        # 27 duplicate
    b"two words.example\n"                            # 28 skipped
    b"1.2.3.4\n"                                      # 29 skipped
    + "bücher.example\n".encode()                     # 30 loaded
    + b"xn--bcher-kva.example\n"                      # 31 duplicate
    + "☃.example\n".encode()                          # 32 skipped (IDNA)
    + b"\n"                                           # 33 blank
    b"crlf.example\r\n"                               # 34 loaded
)


def hand_counts(lines, blank, loaded, duplicates, local, skipped, first):
    return dict(lines=lines, blank=blank, loaded=loaded,
                duplicates=duplicates, local=local, skipped=skipped,
                first_skipped=first)


# By hand from the comments above. As an allowlist, *.star.example is
# skipped; as an exact list, ||ads.example^ (a tree) is new beside the
# exact ads.example of line 5.
HAND_BLOCK = hand_counts(34, 4, 12, 4, 5, 13, 8)
HAND_ALLOW = hand_counts(34, 4, 11, 4, 5, 14, 8)
HAND_EXACT = hand_counts(34, 4, 13, 3, 5, 13, 8)


def test_counter_agrees_with_hand_counts():
    assert count_lists([(HAND_LIST, False, False)]) == [HAND_BLOCK]
    assert count_lists([(HAND_LIST, True, False)]) == [HAND_ALLOW]
    assert count_lists([(HAND_LIST, False, True)]) == [HAND_EXACT]
    # The same file as a blocklist, then as an allowlist: the allowlist's
    # exception for ok.ads.example was loaded already (line 13).
    both = count_lists([(HAND_LIST, False, False), (HAND_LIST, True, False)])
    assert both == [HAND_BLOCK, dict(HAND_ALLOW, loaded=10, duplicates=5)]


@pytest.fixture
def hand_list(tmp_path):
    p = tmp_path / "hand.list"
    p.write_bytes(HAND_LIST)
    return p


def test_hand_list_as_blocklist(sluice_bin, hand_list):
    cp, loads, summary = check_config(sluice_bin, "--blocklist", hand_list)
    assert_loads(cp, loads, summary, [("blocklist", str(hand_list))],
                 [HAND_BLOCK])


def test_hand_list_as_exact_blocklist(sluice_bin, hand_list):
    cp, loads, summary = check_config(
        sluice_bin, "--blocklist", f"{hand_list} exact")
    assert_loads(cp, loads, summary, [("blocklist", str(hand_list))],
                 [HAND_EXACT])


def test_hand_list_as_allowlist(sluice_bin, tmp_path, hand_list):
    empty = tmp_path / "empty.list"
    empty.write_bytes(b"")
    cp, loads, summary = check_config(
        sluice_bin, "--blocklist", empty, "--allowlist", hand_list)
    assert_loads(cp, loads, summary,
                 [("blocklist", str(empty)), ("allowlist", str(hand_list))],
                 [hand_counts(0, 0, 0, 0, 0, 0, 0), HAND_ALLOW])


def test_hand_list_as_blocklist_and_allowlist(sluice_bin, tmp_path, hand_list):
    conf = tmp_path / "sluice.conf"
    conf.write_text(f"blocklist {hand_list}\nallowlist {hand_list}\n")
    cp, loads, summary = check_config(sluice_bin, "-c", conf)
    assert_loads(cp, loads, summary,
                 [("blocklist", str(hand_list)),
                  ("allowlist", str(hand_list))],
                 [HAND_BLOCK, dict(HAND_ALLOW, loaded=10, duplicates=5)])
