/*
 * auth.c - see auth.h.
 */
#include "policy/auth.h"

#include "base/base64.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct user {
	char *name; /* "name\0hash\0" in one allocation */
	size_t name_len;
	const char *hash;
	uint32_t line; /* equal names: the earlier line sorts first */
};

struct auth_table {
	struct user *users; /* sorted by name */
	size_t n;
};

bool auth_hash_supported(const char *hash, size_t len)
{
	static const char *const prefixes[] = {"$y$",  "$gy$", "$7$", "$2y$",
					       "$2b$", "$2a$", "$6$", "$5$"};

	if (len < 20 || len > AUTH_HASH_MAX)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (strncmp(hash, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int user_cmp(const void *a, const void *b)
{
	const struct user *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int d = memcmp(x->name, y->name, n);

	return d != 0 ? d
		      : (x->name_len > y->name_len) -
				(x->name_len < y->name_len);
}

/* By name, then line: qsort need not be stable, the order must be. */
static int user_line_cmp(const void *a, const void *b)
{
	const struct user *x = a, *y = b;
	int d = user_cmp(a, b);

	return d != 0 ? d : (x->line > y->line) - (x->line < y->line);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

struct auth_table *auth_table_parse(const char *text, size_t len,
				    struct auth_stats *stats)
{
	struct auth_table *t = calloc(1, sizeof(*t));
	size_t pos = 0, cap = 0;
	uint32_t lineno = 0;

	memset(stats, 0, sizeof(*stats));
	if (t == NULL)
		return NULL;
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + 1;
		lineno++;
		while (n > 0 && is_space(s[n - 1]))
			n--;
		while (n > 0 && is_space(*s))
			s++, n--;
		if (n == 0 || *s == '#')
			continue;
		const char *colon = memchr(s, ':', n);
		size_t ulen = colon != NULL ? (size_t)(colon - s) : 0;
		const char *hash = colon != NULL ? colon + 1 : NULL;
		size_t hlen = colon != NULL ? n - ulen - 1 : 0;
		/* htpasswd may add ":comment" fields after the hash */
		const char *more =
			hash != NULL ? memchr(hash, ':', hlen) : NULL;
		if (more != NULL)
			hlen = (size_t)(more - hash);
		if (ulen == 0 || ulen > AUTH_USER_MAX ||
		    memchr(s, '\0', n) != NULL ||
		    !auth_hash_supported(hash, hlen)) {
			stats->skipped++;
			if (stats->first_skipped_line == 0)
				stats->first_skipped_line = lineno;
			continue;
		}
		if (t->n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 16;
			struct user *nu = realloc(t->users, ncap * sizeof(*nu));
			if (nu == NULL)
				goto fail;
			t->users = nu;
			cap = ncap;
		}
		struct user *u = &t->users[t->n];
		u->name = malloc(ulen + hlen + 2);
		if (u->name == NULL)
			goto fail;
		memcpy(u->name, s, ulen);
		u->name[ulen] = '\0';
		memcpy(u->name + ulen + 1, hash, hlen);
		u->name[ulen + 1 + hlen] = '\0';
		u->name_len = ulen;
		u->hash = u->name + ulen + 1;
		u->line = lineno;
		t->n++;
	}
	if (t->n > 1)
		qsort(t->users, t->n, sizeof(*t->users), user_line_cmp);
	for (size_t i = 0; i < t->n; i++) /* a user named twice counts once */
		stats->users +=
			i == 0 || user_cmp(&t->users[i - 1], &t->users[i]) != 0;
	return t;
fail:
	auth_table_free(t);
	return NULL;
}

void auth_table_free(struct auth_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->users[i].name);
	free(t->users);
	free(t);
}

const char *auth_table_lookup(const struct auth_table *t, const char *user,
			      size_t len)
{
	struct user key = {.name = (char *)(uintptr_t)user, .name_len = len};
	const struct user *u;

	if (t == NULL || t->n == 0)
		return NULL;
	/* a later line for the same user is a duplicate: the first wins */
	u = bsearch(&key, t->users, t->n, sizeof(*t->users), user_cmp);
	while (u != NULL && u > t->users && user_cmp(u - 1, &key) == 0)
		u--;
	return u != NULL ? u->hash : NULL;
}

int auth_parse_basic(const char *value, size_t len,
		     struct auth_credentials *out)
{
	unsigned char plain[AUTH_USER_MAX + AUTH_PASS_MAX + 2];
	const char *colon;
	long n;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len && is_space(value[i]))
		i++;
	if (len - i < 6 || strncasecmp(value + i, "basic", 5) != 0 ||
	    !is_space(value[i + 5]))
		return -1;
	i += 5;
	while (i < len && is_space(value[i]))
		i++;
	while (len > i && is_space(value[len - 1]))
		len--;
	n = base64_decode(value + i, len - i, plain, sizeof(plain));
	if (n <= 0)
		return -1;
	colon = memchr(plain, ':', (size_t)n);
	if (colon == NULL)
		return -1;
	out->user_len = (size_t)(colon - (const char *)plain);
	out->pass_len = (size_t)n - out->user_len - 1;
	if (out->user_len == 0 || out->user_len > AUTH_USER_MAX ||
	    out->pass_len > AUTH_PASS_MAX)
		return -1;
	for (long k = 0; k < n; k++)
		if (plain[k] < 0x20 || plain[k] == 0x7f)
			return -1; /* RFC 7617 §2: no control characters */
	memcpy(out->user, plain, out->user_len);
	memcpy(out->pass, colon + 1, out->pass_len);
	return 0;
}
