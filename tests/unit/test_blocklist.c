/*
 * test_blocklist.c - the domain set: the verdict for a host name (parents,
 * whole labels, exceptions, exact and subdomain rules, case, trailing dot, IDN)
 * and the counts of whole lists (test_blocklist_lines.c reads line by line).
 * Every list text, list name and query is passed from a heap copy of
 * exactly its length, freed right after the call, so ASan catches a read
 * past the end or a pointer kept into caller memory.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/blocklist.h"

#include "blocklist_helpers.h"

static void blocks_a_name_and_everything_below_it(void **state)
{
	static const struct list_spec lists[] = {
		{"ads", 0,
		 "ads.example\n||tracker.example^\n0.0.0.0 hosts.example\n"},
	};
	static const struct want w[] = {
		{"ads.example", true, BLOCKLIST_BLOCK_TREE, "ads", 1, 0},
		{"sub.ads.example", true, BLOCKLIST_BLOCK_TREE, "ads", 1, 4},
		{"a.b.c.ads.example", true, BLOCKLIST_BLOCK_TREE, "ads", 1, 6},
		{"tracker.example", true, BLOCKLIST_BLOCK_TREE, "ads", 2, 0},
		{"x.tracker.example", true, BLOCKLIST_BLOCK_TREE, "ads", 2, 2},
		{"hosts.example", true, BLOCKLIST_BLOCK_TREE, "ads", 3, 0},
		{"deep.sub.hosts.example", true, BLOCKLIST_BLOCK_TREE, "ads", 3,
		 9},
		UNMATCHED("example"),
		UNMATCHED("other.example"),
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

static void matches_whole_labels_only(void **state)
{
	static const struct list_spec lists[] = {
		{"ads", 0, "ads.example\n"},
	};
	static const struct want w[] = {
		UNMATCHED("xads.example"),
		UNMATCHED("x-ads.example"),
		UNMATCHED("ads-x.example"),
		UNMATCHED("ds.example"),
		UNMATCHED("ads.example.org"),
		UNMATCHED("sub.ads.example.org"),
		UNMATCHED("ads.examplex"),
		UNMATCHED("ads.exampl"),
		UNMATCHED("example"),
		UNMATCHED("ads"),
		{"ads.example", true, BLOCKLIST_BLOCK_TREE, "ads", 1, 0},
		{"x.ads.example", true, BLOCKLIST_BLOCK_TREE, "ads", 1, 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

/*
 * An exception (@@||name^, or any entry of an allowlist) on the same name
 * as a block, or on a parent nearer the query, wins, whatever the order of
 * the lines. An exact exception covers its name alone.
 */
static void lets_an_exception_beat_blocks_on_its_name_and_parents(void **state)
{
	static const struct list_spec lists[] = {
		{"blk", 0,
		 "ads.example\n"	   /* 1 */
		 "||both.example^\n"	   /* 2 */
		 "*.w.example\n"	   /* 3 */
		 "@@||good.ads.example^\n" /* 4 */
		 "||fine.example^\n"	   /* 5 */
		 "||only.example^\n"	   /* 6 */
		 "||p.example^\n"	   /* 7 */
		 "@@||both.example^\n"	   /* 8 */
		 "@@||w.example^|\n"	   /* 9 */
		 "@@||first.example^\n"	   /* 10 */
		 "first.example\n"	   /* 11 */
		 "0.0.0.0 hosts.example\n" /* 12 */
		 "@@||hosts.example^\n"},  /* 13 */
		{"allow", BLOCKLIST_ALLOW, "fine.example\n"},
		{"allow-exact", BLOCKLIST_ALLOW | BLOCKLIST_EXACT,
		 "only.example\np.example\n"},
	};
	static const struct want w[] = {
		{"ads.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"bad.ads.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 4},
		{"good.ads.example", false, BLOCKLIST_ALLOW_TREE, "blk", 4, 0},
		{"x.good.ads.example", false, BLOCKLIST_ALLOW_TREE, "blk", 4,
		 2},
		{"both.example", false, BLOCKLIST_ALLOW_TREE, "blk", 8, 0},
		{"sub.both.example", false, BLOCKLIST_ALLOW_TREE, "blk", 8, 4},
		{"w.example", false, BLOCKLIST_ALLOW_TREE, "blk", 9, 0},
		{"a.w.example", false, BLOCKLIST_ALLOW_TREE, "blk", 9, 2},
		{"first.example", false, BLOCKLIST_ALLOW_TREE, "blk", 10, 0},
		{"hosts.example", false, BLOCKLIST_ALLOW_TREE, "blk", 13, 0},
		{"fine.example", false, BLOCKLIST_ALLOW_TREE, "allow", 1, 0},
		{"x.fine.example", false, BLOCKLIST_ALLOW_TREE, "allow", 1, 2},
		{"only.example", false, BLOCKLIST_ALLOW_EXACT, "allow-exact", 1,
		 0},
		{"sub.only.example", true, BLOCKLIST_BLOCK_TREE, "blk", 6, 4},
		{"p.example", false, BLOCKLIST_ALLOW_EXACT, "allow-exact", 2,
		 0},
		{"q.p.example", true, BLOCKLIST_BLOCK_TREE, "blk", 7, 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

/* A block on a name below an exception is more specific: it wins. */
static void lets_a_block_below_an_exception_win(void **state)
{
	static const struct list_spec lists[] = {
		{"blk", 0,
		 "x.ok.example\n"     /* 1 */
		 "@@||ok.example^\n"  /* 2 */
		 "x.ok2.example\n"    /* 3 */
		 "*.s.ok.example\n"}, /* 4 */
		{"allow", BLOCKLIST_ALLOW, "ok2.example\n"},
	};
	static const struct want w[] = {
		{"x.ok.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"a.x.ok.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 2},
		{"y.ok.example", false, BLOCKLIST_ALLOW_TREE, "blk", 2, 2},
		{"ok.example", false, BLOCKLIST_ALLOW_TREE, "blk", 2, 0},
		{"x.ok2.example", true, BLOCKLIST_BLOCK_TREE, "blk", 3, 0},
		{"y.ok2.example", false, BLOCKLIST_ALLOW_TREE, "allow", 1, 2},
		{"ok2.example", false, BLOCKLIST_ALLOW_TREE, "allow", 1, 0},
		{"s.ok.example", false, BLOCKLIST_ALLOW_TREE, "blk", 2, 2},
		{"a.s.ok.example", true, BLOCKLIST_BLOCK_SUBS, "blk", 4, 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

static void folds_case_in_queries_and_lists(void **state)
{
	static const struct list_spec lists[] = {
		{"blk", 0,
		 "ADS.Example\n"	   /* 1 */
		 "||TRACKER.EXAMPLE^\n"	   /* 2 */
		 "0.0.0.0 Hosts.EXAMPLE\n" /* 3 */
		 "@@||OK.ADS.EXAMPLE^\n"   /* 4 */
		 "*.STAR.example\n"	   /* 5 */
		 ".Dot.Example\n"},	   /* 6 */
	};
	static const struct want w[] = {
		{"ADS.Example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"ads.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"sub.ADS.EXAMPLE", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 4},
		{"Tracker.Example", true, BLOCKLIST_BLOCK_TREE, "blk", 2, 0},
		{"hosts.example", true, BLOCKLIST_BLOCK_TREE, "blk", 3, 0},
		{"ok.ads.EXAMPLE", false, BLOCKLIST_ALLOW_TREE, "blk", 4, 0},
		{"a.Star.Example", true, BLOCKLIST_BLOCK_SUBS, "blk", 5, 2},
		UNMATCHED("star.example"),
		{"dot.example", true, BLOCKLIST_BLOCK_TREE, "blk", 6, 0},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

static void ignores_one_trailing_dot_in_queries_and_lists(void **state)
{
	static const struct list_spec lists[] = {
		{"blk", 0,
		 "ads.example.\n"	    /* 1 */
		 "||dot.example.^\n"	    /* 2 */
		 "0.0.0.0 hosts.example.\n" /* 3 */
		 ".lead.example.\n"	    /* 4 */
		 "*.star.example.\n"	    /* 5 */
		 "two.example..\n"},	    /* 6: skipped */
		{"ex", BLOCKLIST_EXACT, "exact.example.\n"},
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 6, 0, 5, 0, 0, 1, 6},
		{NULL, 0, 1, 0, 1, 0, 0, 0, 0},
	};
	static const struct want w[] = {
		{"ads.example.", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"sub.ads.example.", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 4},
		{"dot.example.", true, BLOCKLIST_BLOCK_TREE, "blk", 2, 0},
		{"hosts.example", true, BLOCKLIST_BLOCK_TREE, "blk", 3, 0},
		{"lead.example.", true, BLOCKLIST_BLOCK_TREE, "blk", 4, 0},
		{"a.star.example.", true, BLOCKLIST_BLOCK_SUBS, "blk", 5, 2},
		UNMATCHED("star.example."),
		UNMATCHED("two.example"),
		{"exact.example.", true, BLOCKLIST_BLOCK_EXACT, "ex", 1, 0},
		UNMATCHED("x.exact.example."),
		UNMATCHED("ads.example.."),
	};

	(void)state;
	run_set(lists, N(lists), stats, w, N(w));
}

/*
 * A name with a byte >= 0x80 is taken in its IDNA2008 punycode form
 * (non-transitional: ß stays ß); one IDNA refuses is skipped.
 */
static void loads_idn_names_in_punycode(void **state)
{
	static const struct list_spec lists[] = {
		{"idn", 0,
		 "b\xc3\xbc"
		 "cher.example\n" /* 1: bücher */
		 "B\xc3\x9c"
		 "CHER.example\n" /* 2: BÜCHER, a duplicate */
		 "stra\xc3\x9f"
		 "e.example\n" /* 3: straße */
		 "0.0.0.0 m\xc3\xbc"
		 "nchen.example\n"	     /* 4: münchen */
		 "||\xe2\x98\x83.example^\n" /* 5: a snowman: disallowed */
		 "\xff.example\n"	     /* 6: not UTF-8 */
		 "0.0.0.0 \xc3(.example\n"}, /* 7: not UTF-8 */
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 7, 0, 3, 1, 0, 3, 5},
	};
	static const struct want w[] = {
		{"xn--bcher-kva.example", true, BLOCKLIST_BLOCK_TREE, "idn", 1,
		 0},
		{"www.xn--bcher-kva.example", true, BLOCKLIST_BLOCK_TREE, "idn",
		 1, 4},
		{"xn--strae-oqa.example", true, BLOCKLIST_BLOCK_TREE, "idn", 3,
		 0},
		UNMATCHED("strasse.example"),
		{"xn--mnchen-3ya.example", true, BLOCKLIST_BLOCK_TREE, "idn", 4,
		 0},
		UNMATCHED("b\xc3\xbc"
			  "cher.example"),
		UNMATCHED("example"),
	};

	(void)state;
	run_set(lists, N(lists), stats, w, N(w));
}

static void ignores_the_local_names_of_hosts_files(void **state)
{
	static const struct list_spec lists[] = {
		{"hosts", 0,
		 "127.0.0.1 localhost\n"
		 "::1 localhost ip6-localhost ip6-loopback\n"
		 "127.0.0.1 localhost.localdomain local broadcasthost\n"
		 "ff02::1 ip6-allnodes\n"
		 "ff02::2 ip6-allrouters\n"
		 "ff02::3 ip6-allhosts\n"
		 "fe00::0 ip6-localnet\n"
		 "ff00::0 ip6-mcastprefix\n"
		 "0.0.0.0 0.0.0.0\n"
		 "127.0.0.1 LOCALHOST. Broadcasthost\n"
		 "0.0.0.0 ads.example\n"},
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 11, 0, 1, 0, 15, 0, 0},
	};
	static const struct want w[] = {
		UNMATCHED("localhost"),
		UNMATCHED("sub.localhost"),
		UNMATCHED("localhost.localdomain"),
		UNMATCHED("local"),
		UNMATCHED("broadcasthost"),
		UNMATCHED("ip6-localhost"),
		UNMATCHED("ip6-loopback"),
		UNMATCHED("ip6-localnet"),
		UNMATCHED("ip6-mcastprefix"),
		UNMATCHED("ip6-allnodes"),
		UNMATCHED("ip6-allrouters"),
		UNMATCHED("ip6-allhosts"),
		UNMATCHED("0.0.0.0"),
		{"ads.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 11, 0},
	};
	struct blocklist_stats st;
	struct blocklist *bl = build_set(lists, N(lists), &st);

	(void)state;
	check_stats("hosts", &st, &stats[0]);
	check_verdicts(bl, w, N(w));
	assert_int_equal(blocklist_count(bl), 1);
	blocklist_free(bl);
}

static void reads_every_name_on_a_hosts_line(void **state)
{
	static const struct list_spec lists[] = {
		{"hosts", 0,
		 "0.0.0.0 a.example b.example\tc.example   d.example\n"
		 "127.0.0.1 e.example bad!name f.example\n"
		 "::1 g.example\n"
		 "fe80::1%eth0 h.example\n"
		 "::ffff:127.0.0.1 i.example\n"
		 "\t0.0.0.0\t\tj.example \t\n"},
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 6, 0, 10, 0, 0, 1, 2},
	};
	static const struct want w[] = {
		{"a.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 1, 0},
		{"b.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 1, 0},
		{"sub.b.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 1, 4},
		{"c.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 1, 0},
		{"d.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 1, 0},
		{"e.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 2, 0},
		{"f.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 2, 0},
		{"g.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 3, 0},
		{"h.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 4, 0},
		{"i.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 5, 0},
		{"j.example", true, BLOCKLIST_BLOCK_TREE, "hosts", 6, 0},
	};

	(void)state;
	run_set(lists, N(lists), stats, w, N(w));
}

/* '#' after a space or tab ends a line; inside a word it does not. */
static void cuts_inline_comments(void **state)
{
	static const struct list_spec lists[] = {
		{"blk", 0,
		 "a.example # comment\n"
		 "0.0.0.0 b.example # c.example\n"
		 "||c.example^\t# tab\n"
		 "d.example#notcomment\n"
		 "0.0.0.0 e.example #f.example\n"
		 "g.example ## two\n"},
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 6, 0, 5, 0, 0, 1, 4},
	};
	static const struct want w[] = {
		{"a.example", true, BLOCKLIST_BLOCK_TREE, "blk", 1, 0},
		{"b.example", true, BLOCKLIST_BLOCK_TREE, "blk", 2, 0},
		{"c.example", true, BLOCKLIST_BLOCK_TREE, "blk", 3, 0},
		UNMATCHED("d.example"),
		UNMATCHED("notcomment"),
		{"e.example", true, BLOCKLIST_BLOCK_TREE, "blk", 5, 0},
		UNMATCHED("f.example"),
		{"g.example", true, BLOCKLIST_BLOCK_TREE, "blk", 6, 0},
	};

	(void)state;
	run_set(lists, N(lists), stats, w, N(w));
}

static void blocks_only_the_subdomains_of_a_star_dot_name(void **state)
{
	static const struct list_spec lists[] = {
		{"star", 0, "*.star.example\n*.both.example\n"},
		{"exact", BLOCKLIST_EXACT, "*.e.example\nboth.example\n"},
	};
	static const struct want w[] = {
		UNMATCHED("star.example"),
		{"a.star.example", true, BLOCKLIST_BLOCK_SUBS, "star", 1, 2},
		{"a.b.star.example", true, BLOCKLIST_BLOCK_SUBS, "star", 1, 4},
		UNMATCHED("xstar.example"),
		UNMATCHED("e.example"),
		{"a.e.example", true, BLOCKLIST_BLOCK_SUBS, "exact", 1, 2},
		{"both.example", true, BLOCKLIST_BLOCK_EXACT, "exact", 2, 0},
		{"a.both.example", true, BLOCKLIST_BLOCK_SUBS, "star", 2, 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

/*
 * BLOCKLIST_EXACT makes hosts and plain lines cover their name alone;
 * ||name^, @@||name^ and .name still cover the subdomains.
 */
static void reads_exact_lists_and_leading_dots(void **state)
{
	static const struct list_spec lists[] = {
		{"exact", BLOCKLIST_EXACT,
		 ".lead.example\n"	   /* 1 */
		 "plain.example\n"	   /* 2 */
		 "||bar.example^\n"	   /* 3 */
		 "0.0.0.0 host.example\n"  /* 4 */
		 "@@||ok.bar.example^\n"}, /* 5 */
		{"tree", 0, ".dot.example\n"},
		{"allow-exact", BLOCKLIST_ALLOW | BLOCKLIST_EXACT,
		 ".dot.example\nsub.bar.example\n"},
	};
	static const struct want w[] = {
		{"lead.example", true, BLOCKLIST_BLOCK_TREE, "exact", 1, 0},
		{"a.lead.example", true, BLOCKLIST_BLOCK_TREE, "exact", 1, 2},
		{"plain.example", true, BLOCKLIST_BLOCK_EXACT, "exact", 2, 0},
		UNMATCHED("a.plain.example"),
		{"bar.example", true, BLOCKLIST_BLOCK_TREE, "exact", 3, 0},
		{"a.bar.example", true, BLOCKLIST_BLOCK_TREE, "exact", 3, 2},
		{"host.example", true, BLOCKLIST_BLOCK_EXACT, "exact", 4, 0},
		UNMATCHED("a.host.example"),
		{"dot.example", false, BLOCKLIST_ALLOW_TREE, "allow-exact", 1,
		 0},
		{"a.dot.example", false, BLOCKLIST_ALLOW_TREE, "allow-exact", 1,
		 2},
		{"sub.bar.example", false, BLOCKLIST_ALLOW_EXACT, "allow-exact",
		 2, 0},
		{"x.sub.bar.example", true, BLOCKLIST_BLOCK_TREE, "exact", 3,
		 6},
		{"a.ok.bar.example", false, BLOCKLIST_ALLOW_TREE, "exact", 5,
		 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

/*
 * Several rules on the one name that decides: the verdict names the rule
 * loaded first (list order, then line).
 */
static void reports_the_earliest_rule_on_the_deciding_name(void **state)
{
	static const struct list_spec lists[] = {
		{"m1", BLOCKLIST_EXACT,
		 "m.example\n*.n.example\n||n.example^\n"},
		{"m2", 0, "||m.example^\n"},
	};
	static const struct want w[] = {
		{"m.example", true, BLOCKLIST_BLOCK_EXACT, "m1", 1, 0},
		{"s.m.example", true, BLOCKLIST_BLOCK_TREE, "m2", 1, 2},
		{"n.example", true, BLOCKLIST_BLOCK_TREE, "m1", 3, 0},
		{"s.n.example", true, BLOCKLIST_BLOCK_SUBS, "m1", 2, 2},
	};

	(void)state;
	run_set(lists, N(lists), NULL, w, N(w));
}

/*
 * A name with the same rule is a duplicate, in its own list or a later
 * one; the verdict keeps naming where it was loaded first.
 */
static void counts_duplicates_across_lists_and_names_the_first(void **state)
{
	static const struct list_spec lists[] = {
		{"one", 0,
		 "# one\n"
		 "dup.example\n"
		 "only1.example\n"
		 "||dup2.example^\n"},
		{"two", 0,
		 "dup.example\n"
		 "0.0.0.0 dup2.example only2.example\n"
		 "*.dup.example\n"
		 "DUP.example.\n"},
	};
	static const struct want_stats stats[] = {
		{NULL, 0, 4, 1, 3, 0, 0, 0, 0},
		{NULL, 0, 4, 0, 2, 3, 0, 0, 0},
	};
	static const struct want w[] = {
		{"dup.example", true, BLOCKLIST_BLOCK_TREE, "one", 2, 0},
		{"x.dup.example", true, BLOCKLIST_BLOCK_TREE, "one", 2, 2},
		{"dup2.example", true, BLOCKLIST_BLOCK_TREE, "one", 4, 0},
		{"only1.example", true, BLOCKLIST_BLOCK_TREE, "one", 3, 0},
		{"only2.example", true, BLOCKLIST_BLOCK_TREE, "two", 2, 0},
	};
	struct blocklist_stats st[2];
	struct blocklist *bl = build_set(lists, N(lists), st);

	(void)state;
	check_stats("one", &st[0], &stats[0]);
	check_stats("two", &st[1], &stats[1]);
	check_verdicts(bl, w, N(w));
	assert_int_equal(blocklist_count(bl), 5);
	assert_int_equal(blocklist_list_count(bl), 2);
	blocklist_free(bl);
}

/* Every entry kind in one list, and what each counts in. */
static void counts_a_mixed_list(void **state)
{
	static const char text[] =
		"# a comment\n"			       /* 1 blank */
		"! another\n"			       /* 2 blank */
		"\n"				       /* 3 blank */
		"0.0.0.0 a.example b.example  # two\n" /* 4 loaded 2 */
		"127.0.0.1 localhost\n"		       /* 5 local */
		"::1 ip6-localhost ip6-loopback\n"     /* 6 local 2 */
		"0.0.0.0\n"			       /* 7 skipped */
		"||c.example^\n"		       /* 8 loaded */
		"@@||d.example^\n"		       /* 9 loaded */
		"##.banner\n"			       /* 10 skipped */
		"example.org##.ad\n"		       /* 11 skipped */
		"||e.example^$third-party\n"	       /* 12 skipped */
		"a.example\n"			       /* 13 duplicate */
		"bad_name!.example\n"		       /* 14 skipped */
		"f.example g.example\n"		       /* 15 skipped */
		"*.h.example\n"			       /* 16 loaded */
		".i.example\n"			       /* 17 loaded */
		"/ads[0-9]+/\n"			       /* 18 skipped */
		"0.0.0.0 0.0.0.0\n"		       /* 19 local */
		"\r\n";				       /* 20 blank */
	static const struct want_stats want = {text, 0, 20, 4, 6, 1, 4, 7, 7};
	struct blocklist_builder *b = blocklist_builder_new();
	struct blocklist_stats st;
	struct blocklist *bl;

	(void)state;
	assert_non_null(b);
	assert_int_equal(add_list(b, "mixed", text, strlen(text), 0, &st), 0);
	check_stats("mixed", &st, &want);
	bl = blocklist_build(b);
	assert_non_null(bl);
	assert_int_equal(blocklist_count(bl), 6);
	assert_int_equal(blocklist_list_count(bl), 1);
	blocklist_free(bl);
}

/* Fills buf with count labels of label_len 'a's joined by dots. */
static size_t make_name(char *buf, size_t cap, size_t count, size_t label_len,
			const char *tail)
{
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		assert_true(n + label_len + 1 < cap);
		if (i > 0)
			buf[n++] = '.';
		memset(buf + n, 'a' + (char)(i % 26), label_len);
		n += label_len;
	}
	assert_true(n + strlen(tail) < cap);
	memcpy(buf + n, tail, strlen(tail) + 1);
	return n + strlen(tail);
}

/* Labels of 1..63 bytes, names of 1..253 bytes (one trailing dot aside). */
static void bounds_name_and_label_lengths(void **state)
{
	char name[TEST_QUERY_MAX + 2], line[2 * TEST_QUERY_MAX + 16];

	(void)state;
	for (size_t total = 250; total <= 255; total++) {
		struct blocklist_builder *b = blocklist_builder_new();
		struct blocklist_stats st;
		struct blocklist_verdict v;
		struct blocklist *bl;
		/* three labels of 63 and their dots, then a last of 'b's */
		size_t n = make_name(name, sizeof(name), 3, 63, ".");
		bool valid = total <= BLOCKLIST_NAME_MAX;

		memset(name + n, 'b', total - n);
		name[total] = '\0';
		assert_int_equal(strlen(name), total);
		assert_non_null(b);
		snprintf(line, sizeof(line), "%s.\n||%s^\n", name, name);
		assert_int_equal(add_list(b, "len", line, strlen(line), 0, &st),
				 0);
		assert_int_equal(st.loaded, valid ? 1 : 0);
		assert_int_equal(st.duplicates, valid ? 1 : 0);
		assert_int_equal(st.skipped, valid ? 0 : 2);
		bl = blocklist_build(b);
		assert_non_null(bl);
		assert_int_equal(match_copy(bl, name, total, &v), valid);
		name[total] = '.';
		assert_int_equal(match_copy(bl, name, total + 1, &v), valid);
		blocklist_free(bl);
	}
	for (size_t label = 62; label <= 65; label++) {
		struct blocklist_builder *b = blocklist_builder_new();
		struct blocklist_stats st;
		struct blocklist_verdict v;
		struct blocklist *bl;
		size_t n = make_name(name, sizeof(name), 1, label, ".example");
		bool valid = label <= 63;

		assert_non_null(b);
		assert_int_equal(add_list(b, "len", name, n, 0, &st), 0);
		assert_int_equal(st.loaded, valid ? 1 : 0);
		assert_int_equal(st.skipped, valid ? 0 : 1);
		bl = blocklist_build(b);
		assert_non_null(bl);
		assert_int_equal(match_copy(bl, name, n, &v), valid);
		blocklist_free(bl);
	}
}

/* A query that is not a valid DNS name is never blocked, whatever is. */
static void never_blocks_an_invalid_query_name(void **state)
{
	static const struct list_spec lists[] = {
		{"all", 0, "||example^\n||4^\n0.0.0.0 1\n*.example\n"},
	};
	static const struct {
		const char *q;
		size_t len;
	} invalid[] = {
		{S("")},
		{S(".")},
		{S("..")},
		{S("a..example")},
		{S(".a.example")},
		{S("a.example..")},
		{S("a b.example")},
		{S("a/b.example")},
		{S("a*b.example")},
		{S("*.example")},
		{S("a.example:443")},
		{S("a\0b.example")},
		{S("a.example\0")},
		{S("b\xc3\xbc"
		   "cher.example")},
		{S("a\x7f.example")},
		{S("a\n.example")},
		{S("1.2.3.4")},
		{S("127.0.0.1")},
		{S("[::1]")},
		{S("a.example.4")},
	};
	struct blocklist *bl = build_set(lists, N(lists), NULL);

	(void)state;
	for (size_t i = 0; i < N(invalid); i++) {
		struct blocklist_verdict v;

		if (match_copy(bl, invalid[i].q, invalid[i].len, &v))
			fail_msg("'%.*s' blocked", (int)invalid[i].len,
				 invalid[i].q);
		assert_int_equal(v.rule, BLOCKLIST_RULE_NONE);
		assert_null(v.list);
	}
	{
		struct blocklist_verdict v;

		assert_true(match_copy(bl, "a.example", 9, &v));
		assert_true(match_copy(bl, "-.example", 9, &v));
		assert_true(match_copy(bl, "_.example", 9, &v));
	}
	blocklist_free(bl);
}

static void blocks_nothing_without_a_set(void **state)
{
	static const char *const queries[] = {
		"a.example", "localhost", "", "example", "x.y.z",
	};
	struct blocklist_builder *b;
	struct blocklist *bl;

	(void)state;
	for (size_t i = 0; i < N(queries); i++) {
		struct blocklist_verdict v;

		assert_false(
			match_copy(NULL, queries[i], strlen(queries[i]), &v));
		assert_int_equal(v.rule, BLOCKLIST_RULE_NONE);
		assert_null(v.list);
	}

	b = blocklist_builder_new();
	assert_non_null(b);
	bl = blocklist_build(b);
	assert_non_null(bl);
	assert_int_equal(blocklist_count(bl), 0);
	assert_int_equal(blocklist_list_count(bl), 0);
	for (size_t i = 0; i < N(queries); i++) {
		struct blocklist_verdict v;

		assert_false(
			match_copy(bl, queries[i], strlen(queries[i]), &v));
		assert_int_equal(v.rule, BLOCKLIST_RULE_NONE);
		assert_null(v.list);
	}
	blocklist_free(bl);
}

/*
 * blocklist_count: rules held, duplicates once, local and skipped never;
 * blocklist_list_count: every list added, even an empty one.
 */
static void counts_rules_and_lists(void **state)
{
	static const struct list_spec lists[] = {
		{"a", 0, "a.example\n*.a.example\n@@||a.example^\nb.example\n"},
		{"b", BLOCKLIST_EXACT, "a.example\nb.example\n||b.example^\n"},
		{"empty", 0, ""},
		{"c", BLOCKLIST_ALLOW, "0.0.0.0 localhost a.example bad!\n"},
	};
	struct blocklist_stats st[N(lists)];
	struct blocklist *bl = build_set(lists, N(lists), st);
	uint64_t loaded = 0;

	(void)state;
	for (size_t i = 0; i < N(lists); i++)
		loaded += st[i].loaded;
	/* a: 4 new; b: a exact, b exact, b tree dup; c: a allow-tree dup */
	assert_int_equal(loaded, 6);
	assert_int_equal(st[3].duplicates, 1);
	assert_int_equal(blocklist_count(bl), 6);
	assert_int_equal(blocklist_list_count(bl), 4);
	assert_true(blocklist_memory(bl) > 0);
	blocklist_free(bl);
}

static void refuses_more_lists_than_it_can_name(void **state)
{
	struct blocklist_builder *b = blocklist_builder_new();
	struct blocklist_stats st;

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < BLOCKLIST_MAX_LISTS; i++)
		assert_int_equal(add_list(b, "l", "x.example\n", 10, 0, &st),
				 0);
	assert_int_equal(add_list(b, "one too many", "y.example\n", 10, 0, &st),
			 -1);
	blocklist_builder_free(b);

	/* a builder never built is freed with what it holds */
	b = blocklist_builder_new();
	assert_non_null(b);
	assert_int_equal(add_list(b, "l", "x.example\n", 10, 0, &st), 0);
	blocklist_builder_free(b);
}

static void names_its_rules(void **state)
{
	static const enum blocklist_rule rules[] = {
		BLOCKLIST_BLOCK_TREE,  BLOCKLIST_BLOCK_EXACT,
		BLOCKLIST_BLOCK_SUBS,  BLOCKLIST_ALLOW_TREE,
		BLOCKLIST_ALLOW_EXACT,
	};

	(void)state;
	assert_string_equal(blocklist_rule_text(BLOCKLIST_BLOCK_TREE), "block");
	assert_string_equal(blocklist_rule_text(BLOCKLIST_BLOCK_EXACT),
			    "exact block");
	assert_string_equal(blocklist_rule_text(BLOCKLIST_BLOCK_SUBS),
			    "subdomain block");
	assert_string_equal(blocklist_rule_text(BLOCKLIST_ALLOW_TREE),
			    "exception");
	assert_non_null(blocklist_rule_text(BLOCKLIST_RULE_NONE));
	for (size_t i = 0; i < N(rules); i++) {
		assert_non_null(blocklist_rule_text(rules[i]));
		assert_true(blocklist_rule_text(rules[i])[0] != '\0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(blocklist_rule_text(rules[i]),
						blocklist_rule_text(rules[j]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_a_name_and_everything_below_it),
		cmocka_unit_test(matches_whole_labels_only),
		cmocka_unit_test(
			lets_an_exception_beat_blocks_on_its_name_and_parents),
		cmocka_unit_test(lets_a_block_below_an_exception_win),
		cmocka_unit_test(folds_case_in_queries_and_lists),
		cmocka_unit_test(ignores_one_trailing_dot_in_queries_and_lists),
		cmocka_unit_test(loads_idn_names_in_punycode),
		cmocka_unit_test(ignores_the_local_names_of_hosts_files),
		cmocka_unit_test(reads_every_name_on_a_hosts_line),
		cmocka_unit_test(cuts_inline_comments),
		cmocka_unit_test(blocks_only_the_subdomains_of_a_star_dot_name),
		cmocka_unit_test(reads_exact_lists_and_leading_dots),
		cmocka_unit_test(
			reports_the_earliest_rule_on_the_deciding_name),
		cmocka_unit_test(
			counts_duplicates_across_lists_and_names_the_first),
		cmocka_unit_test(counts_a_mixed_list),
		cmocka_unit_test(bounds_name_and_label_lengths),
		cmocka_unit_test(never_blocks_an_invalid_query_name),
		cmocka_unit_test(blocks_nothing_without_a_set),
		cmocka_unit_test(counts_rules_and_lists),
		cmocka_unit_test(refuses_more_lists_than_it_can_name),
		cmocka_unit_test(names_its_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
