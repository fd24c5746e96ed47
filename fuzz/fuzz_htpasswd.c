/*
 * fuzz_htpasswd.c - auth_table_parse and auth_table_lookup on arbitrary
 * htpasswd text.
 *
 * Checks: the stats add up (distinct users + skipped is at most the number of
 * lines; the first skipped line is 0 exactly when nothing was skipped, and
 * otherwise a line that exists); for every line, the text before its first
 * ':' (as written, and with blanks trimmed as the parser does) looks up
 * either nothing or a hash that auth_hash_supported takes, without ':',
 * NUL or line break; and, against a plain model of the file format (a
 * line is taken when its user is 1..AUTH_USER_MAX bytes, it has no NUL and
 * its hash up to the next ':' is supported; the first taken line of a user
 * wins), every user looks up exactly the model's hash, the number of users
 * is the number of taken lines, and skipped lines are the rest of those
 * neither blank nor comments. Parsing twice gives the same answers.
 * abort() on any violation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines looked at one by one (the model is quadratic in them). */
#define LINES_MAX 512

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

struct line {
	const char *raw; /* the line as written, without its '\n' */
	size_t raw_len;
	const char *s; /* trimmed of blanks at both ends */
	size_t n;
	bool entry; /* neither blank nor a comment */
	bool taken; /* per the model */
	const char *user, *hash;
	size_t ulen, hlen;
};

static void model(struct line *l)
{
	const char *colon, *more;

	l->s = l->raw;
	l->n = l->raw_len;
	while (l->n > 0 && is_blank(l->s[l->n - 1]))
		l->n--;
	while (l->n > 0 && is_blank(*l->s))
		l->s++, l->n--;
	l->entry = l->n > 0 && l->s[0] != '#';
	if (!l->entry)
		return;
	colon = memchr(l->s, ':', l->n);
	if (colon == NULL)
		return;
	l->user = l->s;
	l->ulen = (size_t)(colon - l->s);
	l->hash = colon + 1;
	l->hlen = l->n - l->ulen - 1;
	more = memchr(l->hash, ':', l->hlen);
	if (more != NULL)
		l->hlen = (size_t)(more - l->hash);
	l->taken = l->ulen >= 1 && l->ulen <= AUTH_USER_MAX &&
		   memchr(l->s, '\0', l->n) == NULL &&
		   auth_hash_supported(l->hash, l->hlen);
}

/* Looks user[0..len) up from an exactly-sized heap copy. */
static const char *lookup(const struct auth_table *t, const char *user,
			  size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	const char *h;

	check(copy != NULL);
	if (len > 0)
		memcpy(copy, user, len);
	h = auth_table_lookup(t, copy, len);
	free(copy);
	if (h != NULL) {
		size_t hl = strlen(h);
		check(auth_hash_supported(h, hl));
		check(strpbrk(h, ":\n") == NULL);
	}
	return h;
}

/* The model's hash for user[0..len): that of its first taken line. */
static const struct line *first_taken(const struct line *lines, size_t n,
				      const char *user, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (lines[i].taken && lines[i].ulen == len &&
		    memcmp(lines[i].user, user, len) == 0)
			return &lines[i];
	return NULL;
}

static void check_user(const struct auth_table *t, const struct line *lines,
		       size_t n, bool complete, const char *user, size_t len)
{
	const char *h = lookup(t, user, len);
	const struct line *want;

	if (!complete)
		return;
	want = first_taken(lines, n, user, len);
	if (want == NULL) {
		check(h == NULL);
		return;
	}
	check(h != NULL);
	check(strlen(h) == want->hlen &&
	      memcmp(h, want->hash, want->hlen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	static struct line lines[LINES_MAX];
	struct auth_stats st, st2;
	struct auth_table *t, *t2;
	size_t n = 0, total = 0, pos = 0;
	uint64_t taken = 0, entries = 0;
	bool complete;

	/* lines, as the parser splits them */
	while (pos < size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t len =
			nl != NULL ? (size_t)(nl - (text + pos)) : size - pos;

		if (n < LINES_MAX) {
			memset(&lines[n], 0, sizeof(lines[n]));
			lines[n].raw = text + pos;
			lines[n].raw_len = len;
			model(&lines[n]);
			taken += lines[n].taken;
			entries += lines[n].entry;
			n++;
		}
		total++;
		pos += len + 1;
	}
	complete = n == total;

	t = auth_table_parse(text, size, &st);
	check(t != NULL);
	check(st.users + st.skipped <= total);
	check((st.skipped == 0) == (st.first_skipped_line == 0));
	check(st.first_skipped_line <= total);
	if (complete) {
		/* a user named on several taken lines counts once */
		size_t distinct = 0;
		for (size_t i = 0; i < n; i++)
			distinct += lines[i].taken &&
				    first_taken(lines, n, lines[i].user,
						lines[i].ulen) == &lines[i];
		check(st.users == distinct);
		check(st.skipped == entries - taken);
		if (st.skipped > 0) {
			size_t first = 0;
			while (!(lines[first].entry && !lines[first].taken))
				first++;
			check(st.first_skipped_line == first + 1);
		}
	}

	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		const char *colon = memchr(l->raw, ':', l->raw_len);
		size_t ulen = colon != NULL ? (size_t)(colon - l->raw) : 0;

		if (colon != NULL)
			lookup(t, l->raw, ulen); /* as written */
		if (l->user != NULL) {
			check_user(t, lines, n, complete, l->user, l->ulen);
			/* a byte more or less is another user */
			if (l->ulen > 0)
				check_user(t, lines, n, complete, l->user,
					   l->ulen - 1);
			check_user(t, lines, n, complete, l->user, l->ulen + 1);
		}
	}
	check(lookup(t, "", 0) == NULL);

	/* the same text, the same table */
	t2 = auth_table_parse(text, size, &st2);
	check(t2 != NULL);
	check(st2.users == st.users && st2.skipped == st.skipped &&
	      st2.first_skipped_line == st.first_skipped_line);
	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		const char *a, *b;

		if (l->user == NULL)
			continue;
		a = auth_table_lookup(t, l->user, l->ulen);
		b = auth_table_lookup(t2, l->user, l->ulen);
		check((a == NULL) == (b == NULL));
		check(a == NULL || strcmp(a, b) == 0);
	}
	auth_table_free(t2);
	auth_table_free(t);
	return 0;
}
