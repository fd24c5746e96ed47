/*
 * blocklist_line.c - see blocklist_line.h. The syntaxes, each line on its
 * own (blocklist.h has the list):
 *   0.0.0.0 a b        hosts: every name after an address (local ones
 *                      ignored); a tree, or exact in an exact list
 *   a, .a              a plain domain (".a": a tree even when exact)
 *   ||a^, @@||a^       Adblock/AdGuard DNS rule, exception
 *   *.a                the subdomains of a
 * Anything else is skipped and counted: lists are the internet's, and one
 * odd line must never stop the load.
 */
#include "policy/blocklist_line.h"

#include "base/dns_name.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <string.h>
#include <strings.h>

/* ---- names ------------------------------------------------------------ */

static const char *const local_names[] = {
	"localhost",	  "localhost.localdomain", "local",
	"broadcasthost",  "ip6-localhost",	   "ip6-loopback",
	"ip6-localnet",	  "ip6-mcastprefix",	   "ip6-allnodes",
	"ip6-allrouters", "ip6-allhosts",	   "0.0.0.0",
};

static bool is_local_name(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(local_names) / sizeof(*local_names);
	     i++) {
		if (strlen(local_names[i]) == len &&
		    strncasecmp(local_names[i], s, len) == 0)
			return true;
	}
	return false;
}

bool blocklist_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * Writes the canonical form of s[0..len) into out[BLOCKLIST_NAME_MAX + 1]:
 * one trailing dot dropped, ASCII lowercase, non-ASCII through IDNA2008.
 * Returns its length, or 0 when it is not a valid name.
 */
static size_t name_normalise(const char *s, size_t len, char *out)
{
	bool ascii = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 4 * BLOCKLIST_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		ascii = ascii && (unsigned char)s[i] < 0x80;
	if (!ascii) {
		char in[4 * BLOCKLIST_NAME_MAX + 1];
		char *puny = NULL;
		memcpy(in, s, len);
		in[len] = '\0';
		if (memchr(in, '\0', len) != NULL ||
		    idn2_to_ascii_8z(in, &puny, IDN2_NONTRANSITIONAL) !=
			    IDN2_OK)
			return 0;
		len = strlen(puny);
		if (len > BLOCKLIST_NAME_MAX) {
			idn2_free(puny);
			return 0;
		}
		memcpy(out, puny, len);
		idn2_free(puny);
		s = out;
	}
	if (len > BLOCKLIST_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return dns_name_valid(out, len) ? len : 0;
}

/* ---- lines ------------------------------------------------------------ */

struct line_ctx {
	struct blocklist_stats *st;
	uint32_t line;
	unsigned flags;
	blocklist_entry_fn fn;
	void *arg;
};

static void count_skipped(struct line_ctx *c)
{
	c->st->skipped++;
	if (c->st->first_skipped_line == 0)
		c->st->first_skipped_line = c->line;
}

/* One entry: a name and the rule the line gave it. 0 or -1 (memory). */
static int add_entry(struct line_ctx *c, const char *name, size_t len,
		     enum blocklist_rule rule)
{
	char norm[BLOCKLIST_NAME_MAX + 1];
	size_t n = name_normalise(name, len, norm);

	if (n == 0) {
		count_skipped(c);
		return 0;
	}
	return c->fn(c->arg, norm, n, rule, c->line);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_address(const char *w, size_t n)
{
	char text[INET6_ADDRSTRLEN + 16];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *zone = memchr(w, '%', n);

	if (zone != NULL)
		n = (size_t)(zone - w);
	if (n == 0 || n >= INET6_ADDRSTRLEN)
		return false;
	memcpy(text, w, n);
	text[n] = '\0';
	return inet_pton(AF_INET, text, buf) == 1 ||
	       inet_pton(AF_INET6, text, buf) == 1;
}

/* "##", "#@#", "#?#", "#$#", "#%#" then a selector: an element-hiding rule. */
static bool is_cosmetic(const char *s, size_t n)
{
	static const char *const markers[] = {"##", "#@#", "#?#", "#$#", "#%#"};

	for (size_t i = 0; i < sizeof(markers) / sizeof(*markers); i++) {
		size_t m = strlen(markers[i]);
		if (n > m && memcmp(s, markers[i], m) == 0)
			return s[m] != '#' && !is_space(s[m]);
	}
	return false;
}

/* Rule for a plain, hosts or ".name" entry under the list's flags. */
static enum blocklist_rule plain_rule(unsigned flags, bool tree)
{
	bool exact = !tree && (flags & BLOCKLIST_EXACT);

	if (flags & BLOCKLIST_ALLOW)
		return exact ? BLOCKLIST_ALLOW_EXACT : BLOCKLIST_ALLOW_TREE;
	return exact ? BLOCKLIST_BLOCK_EXACT : BLOCKLIST_BLOCK_TREE;
}

/* "||name^" or "||name^|": the name, or NULL. */
static const char *adblock_name(const char *w, size_t n, size_t *len)
{
	if (n >= 2 && w[n - 1] == '|' && w[n - 2] == '^')
		n--;
	if (n < 4 || memcmp(w, "||", 2) != 0 || w[n - 1] != '^')
		return NULL;
	*len = n - 3;
	return w + 2;
}

/* A single-word line. 0 or -1 (memory). */
static int add_word(struct line_ctx *c, const char *w, size_t n)
{
	const char *name;
	size_t len;

	if (n >= 2 && memcmp(w, "@@", 2) == 0) {
		name = adblock_name(w + 2, n - 2, &len);
		if (name == NULL) {
			count_skipped(c);
			return 0;
		}
		return add_entry(c, name, len, BLOCKLIST_ALLOW_TREE);
	}
	if (w[0] == '|') {
		name = adblock_name(w, n, &len);
		if (name == NULL) {
			count_skipped(c);
			return 0;
		}
		return add_entry(c, name, len, plain_rule(c->flags, true));
	}
	/* URL paths, regexes, modifiers and wildcards name no single host */
	if (memchr(w, '$', n) != NULL || memchr(w, '/', n) != NULL ||
	    memchr(w, '^', n) != NULL || memchr(w, '#', n) != NULL ||
	    memchr(w + 1, '*', n - 1) != NULL ||
	    (w[0] == '*' && (n < 2 || w[1] != '.'))) {
		count_skipped(c);
		return 0;
	}
	if (w[0] == '*') {
		if (c->flags & BLOCKLIST_ALLOW) {
			count_skipped(c);
			return 0;
		}
		return add_entry(c, w + 2, n - 2, BLOCKLIST_BLOCK_SUBS);
	}
	if (w[0] == '.')
		return add_entry(c, w + 1, n - 1, plain_rule(c->flags, true));
	return add_entry(c, w, n, plain_rule(c->flags, false));
}

/* A hosts-file line: an address, then names. 0 or -1 (memory). */
static int add_hosts(struct line_ctx *c, const char *s, size_t n)
{
	size_t i = 0, names = 0;

	while (i < n) {
		size_t start;
		while (i < n && is_space(s[i]))
			i++;
		start = i;
		while (i < n && !is_space(s[i]))
			i++;
		if (i == start)
			break;
		names++;
		if (is_local_name(s + start, i - start))
			c->st->local++;
		else if (add_entry(c, s + start, i - start,
				   plain_rule(c->flags, false)) < 0)
			return -1;
	}
	if (names == 0)
		count_skipped(c);
	return 0;
}

int blocklist_line_read(const char *s, size_t n, unsigned flags, uint32_t line,
			struct blocklist_stats *st, blocklist_entry_fn fn,
			void *arg)
{
	struct line_ctx ctx = {
		.st = st, .line = line, .flags = flags, .fn = fn, .arg = arg};
	struct line_ctx *c = &ctx;
	size_t w;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (n > 0 && is_space(s[0]))
		s++, n--;
	if (n == 0 || s[0] == '!' || (s[0] == '#' && !is_cosmetic(s, n))) {
		c->st->blank_or_comment++;
		return 0;
	}
	if (s[0] == '#') {
		count_skipped(c);
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '#' && is_space(s[i - 1])) {
			n = i;
			break;
		}
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	for (w = 0; w < n && !is_space(s[w]); w++)
		;
	if (is_address(s, w))
		return add_hosts(c, s + w, n - w);
	if (w < n) {
		count_skipped(c); /* several words, not a hosts line */
		return 0;
	}
	return add_word(c, s, n);
}
