/*
 * fuzz_blocklist.c - the blocklist builder and matcher on arbitrary lists
 * and host names.
 *
 * Input: one flags byte, then sections split by the byte 0x1e (RS): the
 * text of list "one", then, when flags bit 4 is set, the text of list
 * "two", then query names, one a line. Bits 0-1 are list one's flags, bits
 * 2-3 list two's (BLOCKLIST_EXACT, BLOCKLIST_ALLOW).
 *
 * Checks: every add succeeds and counts each line (lines, blank or an
 * entry, first skipped line); adding a list again makes every name a
 * duplicate; blocklist_count is the sum of loaded. Every query, every list
 * line and every word of it gets a verdict that is consistent (blocked
 * means a block rule, a rule names one of our lists and a line in it, at a
 * label boundary of the query), the same in upper case and with a trailing
 * dot, and nothing for a name that is not a valid DNS name. Lines of a
 * plain, ||name^ or hosts form with an ASCII name are matched back: blocked
 * when no list holds an exception, an exception when every list is an
 * allowlist. abort() on any violation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTION_SEP '\x1e'
#define TWO_LISTS   0x10
/* Most words of one line matched back; the rest are only loaded. */
#define WORDS_MAX 64

struct list_in {
	const char *name;
	const char *text;
	size_t len;
	unsigned flags;
	struct blocklist_stats st;
};

struct fuzz_set {
	struct list_in lists[2];
	size_t n_lists;
	bool any_exception; /* a list is an allowlist or holds "@@" */
	bool all_allow;	    /* every list is an allowlist */
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint64_t count_lines(const char *text, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len > 0 && text[len - 1] != '\n');
}

static void check_stats(const struct blocklist_stats *st, const char *text,
			size_t len)
{
	uint64_t entries =
		st->loaded + st->duplicates + st->local + st->skipped;

	check(st->lines == count_lines(text, len));
	check(st->blank_or_comment <= st->lines);
	check(st->blank_or_comment + entries >= st->lines);
	check(entries <= len);
	check((st->skipped == 0) == (st->first_skipped_line == 0));
	check(st->first_skipped_line <= st->lines);
}

static bool is_label_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The spec's valid name: one trailing dot aside, 1..253 bytes, labels of
 * 1..63 label bytes, the last not all digits. ASCII only. */
static bool valid_name(const char *s, size_t len)
{
	size_t label = 0;
	bool digits = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > BLOCKLIST_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!is_label_byte(s[i]) || ++label > 63)
			return false;
		digits = digits && s[i] >= '0' && s[i] <= '9';
	}
	return label > 0 && !digits;
}

/* An address as inet_pton reads it (no %zone: see match_line). */
static bool is_ip(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];

	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1 ||
	       inet_pton(AF_INET6, buf, addr) == 1;
}

static bool is_local_name(const char *s, size_t len)
{
	static const char *const names[] = {
		"localhost",	  "localhost.localdomain", "local",
		"broadcasthost",  "ip6-localhost",	   "ip6-loopback",
		"ip6-localnet",	  "ip6-mcastprefix",	   "ip6-allnodes",
		"ip6-allrouters", "ip6-allhosts",	   "0.0.0.0",
	};

	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], s, len) == 0)
			return true;
	return false;
}

static void same_verdict(const struct blocklist_verdict *a,
			 const struct blocklist_verdict *b)
{
	check(a->blocked == b->blocked && a->rule == b->rule &&
	      a->list == b->list);
	if (a->rule != BLOCKLIST_RULE_NONE)
		check(a->line == b->line && a->match_off == b->match_off);
}

static void check_verdict(const struct fuzz_set *fs, const char *q, size_t len,
			  bool blocked, const struct blocklist_verdict *v)
{
	const struct list_in *in = NULL;

	check(blocked == v->blocked);
	check(v->rule >= BLOCKLIST_RULE_NONE &&
	      v->rule <= BLOCKLIST_ALLOW_EXACT);
	check(blocklist_rule_text(v->rule) != NULL);
	check(v->blocked == (v->rule == BLOCKLIST_BLOCK_TREE ||
			     v->rule == BLOCKLIST_BLOCK_EXACT ||
			     v->rule == BLOCKLIST_BLOCK_SUBS));
	if (v->rule == BLOCKLIST_RULE_NONE) {
		check(v->list == NULL);
		return;
	}
	check(valid_name(q, len));
	check(v->list != NULL);
	for (size_t i = 0; i < fs->n_lists; i++)
		if (strcmp(v->list, fs->lists[i].name) == 0)
			in = &fs->lists[i];
	check(in != NULL);
	check(v->line >= 1 && v->line <= in->st.lines);
	check(v->match_off < len);
	check(v->match_off == 0 || q[v->match_off - 1] == '.');
	if (v->rule == BLOCKLIST_BLOCK_EXACT ||
	    v->rule == BLOCKLIST_ALLOW_EXACT)
		check(v->match_off == 0);
	if (v->rule == BLOCKLIST_BLOCK_SUBS)
		check(v->match_off > 0);
	if (fs->all_allow)
		check(!v->blocked);
}

/*
 * Matches q[0..len) from an exact-size heap copy, then in upper case and
 * with a trailing dot; all three verdicts agree. Returns the verdict.
 */
static struct blocklist_verdict match(const struct blocklist *bl,
				      const struct fuzz_set *fs, const char *q,
				      size_t len)
{
	char *copy = malloc(len + 2);
	struct blocklist_verdict v, alt;
	bool blocked;

	check(copy != NULL);
	memcpy(copy, q, len);
	blocked = blocklist_match(bl, copy, len, &v);
	check_verdict(fs, copy, len, blocked, &v);

	for (size_t i = 0; i < len; i++)
		if (copy[i] >= 'a' && copy[i] <= 'z')
			copy[i] = (char)(copy[i] - 'a' + 'A');
	blocked = blocklist_match(bl, copy, len, &alt);
	check_verdict(fs, copy, len, blocked, &alt);
	same_verdict(&v, &alt);

	if (len > 0 && q[len - 1] != '.') {
		memcpy(copy, q, len);
		copy[len] = '.';
		blocked = blocklist_match(bl, copy, len + 1, &alt);
		check_verdict(fs, copy, len + 1, blocked, &alt);
		same_verdict(&v, &alt);
	}
	free(copy);

	check(!blocklist_match(NULL, q, len, &alt));
	check(alt.rule == BLOCKLIST_RULE_NONE && alt.list == NULL);
	return v;
}

/* A name the lists name outright: blocked, or an exception if all allow. */
static void match_listed(const struct blocklist *bl, const struct fuzz_set *fs,
			 const char *name, size_t len)
{
	struct blocklist_verdict v = match(bl, fs, name, len);

	if (!valid_name(name, len))
		return;
	if (fs->all_allow)
		check(v.rule == BLOCKLIST_ALLOW_TREE ||
		      v.rule == BLOCKLIST_ALLOW_EXACT);
	else if (!fs->any_exception)
		check(v.blocked);
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* Matches one list line, each word of it, and the name it lists. */
static void match_line(const struct blocklist *bl, const struct fuzz_set *fs,
		       const char *line, size_t len)
{
	const char *word[WORDS_MAX];
	size_t word_len[WORDS_MAX], n = 0;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	match(bl, fs, line, len);
	for (size_t i = 0; i < len && n < WORDS_MAX;) {
		size_t j = i;

		if (line[i] == ' ' || line[i] == '\t') {
			i++;
			continue;
		}
		while (j < len && line[j] != ' ' && line[j] != '\t')
			j++;
		if (line[i] == '#')
			break; /* '#' after a space or tab ends the line */
		word[n] = line + i;
		word_len[n++] = j - i;
		match(bl, fs, line + i, j - i);
		i = j;
	}
	if (n == 0 || line[0] == '!' || line[0] == '#')
		return;
	/* which %zone suffixes an address may carry is not pinned down */
	if (memchr(word[0], '%', word_len[0]) != NULL)
		return;
	if (is_ip(word[0], word_len[0])) {
		for (size_t k = 1; k < n; k++)
			if (!is_local_name(word[k], word_len[k]))
				match_listed(bl, fs, word[k], word_len[k]);
		return;
	}
	if (n != 1)
		return;
	if (has_prefix(word[0], word_len[0], "||") && word_len[0] > 3 &&
	    word[0][word_len[0] - 1] == '^')
		match_listed(bl, fs, word[0] + 2, word_len[0] - 3);
	else if (is_label_byte(word[0][0]))
		match_listed(bl, fs, word[0], word_len[0]);
}

static void match_lines(const struct blocklist *bl, const struct fuzz_set *fs,
			const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || text[i] == '\n') {
			if (i > start || i < len)
				match_line(bl, fs, text + start, i - start);
			start = i + 1;
		}
	}
}

/* Loads the same text twice into a fresh builder: the second time every
 * name is a duplicate, and the first time counts as it did in the set. */
static void check_reload(const struct list_in *in)
{
	struct blocklist_builder *b = blocklist_builder_new();
	struct blocklist_stats first, again;

	check(b != NULL);
	check(blocklist_builder_add(b, in->name, in->text, in->len, in->flags,
				    &first) == 0);
	check(first.lines == in->st.lines &&
	      first.blank_or_comment == in->st.blank_or_comment &&
	      first.loaded == in->st.loaded &&
	      first.duplicates == in->st.duplicates &&
	      first.local == in->st.local && first.skipped == in->st.skipped &&
	      first.first_skipped_line == in->st.first_skipped_line);
	check(blocklist_builder_add(b, in->name, in->text, in->len, in->flags,
				    &again) == 0);
	check(again.lines == first.lines &&
	      again.blank_or_comment == first.blank_or_comment &&
	      again.loaded == 0 &&
	      again.duplicates == first.loaded + first.duplicates &&
	      again.local == first.local && again.skipped == first.skipped &&
	      again.first_skipped_line == first.first_skipped_line);
	blocklist_builder_free(b);
}

/* Splits at the next separator: [*pos, end) is one section. */
static const char *next_section(const char *s, size_t size, size_t *pos,
				size_t *len)
{
	const char *start = s + *pos;
	const char *sep = memchr(start, SECTION_SEP, size - *pos);

	*len = sep != NULL ? (size_t)(sep - start) : size - *pos;
	*pos += *len + (sep != NULL);
	return start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"one", "two"};
	const char *s = (const char *)data + 1;
	struct fuzz_set fs = {0};
	struct blocklist_builder *b;
	struct blocklist *bl;
	const char *queries;
	size_t pos = 0, queries_len;
	uint64_t loaded = 0;

	if (size == 0)
		return 0;
	size--;
	fs.n_lists = data[0] & TWO_LISTS ? 2 : 1;
	fs.all_allow = true;
	for (size_t i = 0; i < fs.n_lists; i++) {
		struct list_in *in = &fs.lists[i];

		in->name = names[i];
		in->flags = (data[0] >> (2 * i)) & 3;
		in->text = next_section(s, size, &pos, &in->len);
		fs.any_exception = fs.any_exception ||
				   (in->flags & BLOCKLIST_ALLOW) ||
				   memmem(in->text, in->len, "@@", 2) != NULL;
		fs.all_allow = fs.all_allow && (in->flags & BLOCKLIST_ALLOW);
	}
	queries = next_section(s, size, &pos, &queries_len);

	b = blocklist_builder_new();
	check(b != NULL);
	for (size_t i = 0; i < fs.n_lists; i++) {
		struct list_in *in = &fs.lists[i];

		check(blocklist_builder_add(b, in->name, in->text, in->len,
					    in->flags, &in->st) == 0);
		check_stats(&in->st, in->text, in->len);
		loaded += in->st.loaded;
	}
	bl = blocklist_build(b);
	check(bl != NULL);
	check(blocklist_count(bl) == loaded);
	check(blocklist_list_count(bl) == fs.n_lists);
	check(blocklist_memory(bl) > 0 || loaded == 0);

	check_reload(&fs.lists[0]);
	for (size_t i = 0; i < fs.n_lists; i++)
		match_lines(bl, &fs, fs.lists[i].text, fs.lists[i].len);
	for (size_t i = 0, start = 0; i <= queries_len; i++) {
		if (i == queries_len || queries[i] == '\n') {
			match(bl, &fs, queries + start, i - start);
			start = i + 1;
		}
	}
	blocklist_free(bl);
	return 0;
}
