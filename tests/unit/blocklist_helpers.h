/*
 * blocklist_helpers.h - what the blocklist unit tests share: lists and
 * queries from exact-length heap copies, and checks of verdicts and
 * counts. Included by test_blocklist.c and test_blocklist_lines.c only.
 */
#ifndef SLUICE_TESTS_BLOCKLIST_HELPERS_H
#define SLUICE_TESTS_BLOCKLIST_HELPERS_H

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

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1
#define N(a)   (sizeof(a) / sizeof((a)[0]))

/* Most lists a test set is built from. */
#define TEST_MAX_LISTS 4
/* Longest query a test passes, with room for a trailing dot. */
#define TEST_QUERY_MAX 300

/* One list of a test set: its name, flags and text. */
struct list_spec {
	const char *name;
	unsigned flags;
	const char *text;
};

/* The verdict expected for one query; rule NONE: nothing matched. */
struct want {
	const char *query;
	bool blocked;
	enum blocklist_rule rule;
	const char *list;
	uint32_t line;
	size_t match_off;
};

/* A query nothing matches: not blocked, no rule, no list. */
#define UNMATCHED(q)                                                           \
	{                                                                      \
		q, false, BLOCKLIST_RULE_NONE, NULL, 0, 0                      \
	}

/* What loading one list should count (lines and first skipped line too). */
struct want_stats {
	const char *text;
	unsigned flags;
	uint64_t lines, blank_or_comment, loaded, duplicates, local, skipped;
	uint32_t first_skipped_line;
};

static inline char *heap_copy(const char *s, size_t len)
{
	char *copy = malloc(len + 1); /* +1: malloc(0) may return NULL */

	assert_non_null(copy);
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

/* Adds text under name, both from heap copies; *st starts as garbage. */
static inline int add_list(struct blocklist_builder *b, const char *name,
			   const char *text, size_t len, unsigned flags,
			   struct blocklist_stats *st)
{
	char *name_copy = heap_copy(name, strlen(name));
	char *text_copy = malloc(len + 1);
	int rc;

	assert_non_null(text_copy);
	memcpy(text_copy, text, len);
	memset(st, 0xa5, sizeof(*st));
	rc = blocklist_builder_add(b, name_copy, text_copy, len, flags, st);
	memset(name_copy, '?', strlen(name_copy));
	free(name_copy);
	memset(text_copy, '?', len);
	free(text_copy);
	return rc;
}

/* Builds a set from lists; fills stats[i] for each when stats is set. */
static inline struct blocklist *build_set(const struct list_spec *lists,
					  size_t n,
					  struct blocklist_stats *stats)
{
	struct blocklist_builder *b = blocklist_builder_new();
	struct blocklist *bl;

	assert_non_null(b);
	assert_true(n <= TEST_MAX_LISTS);
	for (size_t i = 0; i < n; i++) {
		struct blocklist_stats st;

		assert_int_equal(add_list(b, lists[i].name, lists[i].text,
					  strlen(lists[i].text), lists[i].flags,
					  &st),
				 0);
		if (stats != NULL)
			stats[i] = st;
	}
	bl = blocklist_build(b);
	assert_non_null(bl);
	assert_int_equal(blocklist_list_count(bl), n);
	return bl;
}

static inline bool match_copy(const struct blocklist *bl, const char *q,
			      size_t len, struct blocklist_verdict *v)
{
	char *copy = heap_copy(q, len);
	bool blocked;

	memset(v, 0xa5, sizeof(*v));
	blocked = blocklist_match(bl, copy, len, v);
	free(copy);
	assert_int_equal(blocked, v->blocked);
	return blocked;
}

static inline void check_verdict(const char *how, const char *q,
				 const struct blocklist_verdict *v,
				 const struct want *w)
{
	bool same = v->blocked == w->blocked && v->rule == w->rule;

	if (same && w->rule == BLOCKLIST_RULE_NONE)
		same = v->list == NULL;
	else if (same)
		same = v->list != NULL && w->list != NULL &&
		       strcmp(v->list, w->list) == 0 && v->line == w->line &&
		       v->match_off == w->match_off;
	if (!same)
		fail_msg("%s '%s': got blocked %d rule %d list %s line %u "
			 "off %zu; want blocked %d rule %d list %s line %u "
			 "off %zu",
			 how, q, v->blocked, (int)v->rule,
			 v->list ? v->list : "(null)", (unsigned)v->line,
			 v->rule == BLOCKLIST_RULE_NONE ? 0 : v->match_off,
			 w->blocked, (int)w->rule, w->list ? w->list : "(null)",
			 (unsigned)w->line, w->match_off);
}

/*
 * Matches each query as given, in upper case and, when it has none, with a
 * trailing dot: case and one trailing dot never change a verdict.
 */
static inline void check_verdicts(const struct blocklist *bl,
				  const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct blocklist_verdict v;
		char alt[TEST_QUERY_MAX + 2];
		size_t len = strlen(w[i].query);

		assert_true(len <= TEST_QUERY_MAX);
		match_copy(bl, w[i].query, len, &v);
		check_verdict("as given", w[i].query, &v, &w[i]);

		for (size_t j = 0; j < len; j++)
			alt[j] = (char)toupper((unsigned char)w[i].query[j]);
		match_copy(bl, alt, len, &v);
		check_verdict("in upper case", w[i].query, &v, &w[i]);

		if (len > 0 && w[i].query[len - 1] != '.') {
			memcpy(alt, w[i].query, len);
			alt[len] = '.';
			match_copy(bl, alt, len + 1, &v);
			check_verdict("with a trailing dot", w[i].query, &v,
				      &w[i]);
		}
	}
}

static inline void check_stats(const char *what,
			       const struct blocklist_stats *st,
			       const struct want_stats *w)
{
	if (st->lines != w->lines ||
	    st->blank_or_comment != w->blank_or_comment ||
	    st->loaded != w->loaded || st->duplicates != w->duplicates ||
	    st->local != w->local || st->skipped != w->skipped ||
	    st->first_skipped_line != w->first_skipped_line)
		fail_msg("'%s': got lines %llu blank %llu loaded %llu dup %llu "
			 "local %llu skipped %llu first %u; want %llu %llu "
			 "%llu %llu %llu %llu %u",
			 what, (unsigned long long)st->lines,
			 (unsigned long long)st->blank_or_comment,
			 (unsigned long long)st->loaded,
			 (unsigned long long)st->duplicates,
			 (unsigned long long)st->local,
			 (unsigned long long)st->skipped,
			 (unsigned)st->first_skipped_line,
			 (unsigned long long)w->lines,
			 (unsigned long long)w->blank_or_comment,
			 (unsigned long long)w->loaded,
			 (unsigned long long)w->duplicates,
			 (unsigned long long)w->local,
			 (unsigned long long)w->skipped,
			 (unsigned)w->first_skipped_line);
}

/* Builds lists, checks each one's stats (when given) and the verdicts. */
static inline void run_set(const struct list_spec *lists, size_t n_lists,
			   const struct want_stats *stats, const struct want *w,
			   size_t n)
{
	struct blocklist_stats st[TEST_MAX_LISTS];
	struct blocklist *bl = build_set(lists, n_lists, st);

	for (size_t i = 0; stats != NULL && i < n_lists; i++)
		check_stats(lists[i].name, &st[i], &stats[i]);
	check_verdicts(bl, w, n);
	blocklist_free(bl);
}

#endif
