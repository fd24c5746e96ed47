/*
 * test_auth.c - the htpasswd table and Basic credentials (policy/auth):
 * which hashes are taken (bcrypt $2y$ $2b$ $2a$, sha512-crypt $6$,
 * sha256-crypt $5$) and which lines are skipped and counted (MD5 $apr1$,
 * {SHA}, DES, plain text, empty hash, no colon, empty user), comments,
 * blank lines, CRLF, ":comment" fields after the hash, duplicates (the
 * first line wins), exact and case-sensitive lookup; and the parser of
 * Proxy-Authorization values (scheme in any case, spaces, the user:password
 * split at the first ':', empty passwords, control bytes, other schemes,
 * bad base64, lengths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/auth.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

/* Real hashes (htpasswd -B -C 4, mkpasswd -m bcrypt / bcrypt-a /
 * sha-512 / sha-256 / md5crypt / yescrypt, htpasswd -m / -s / -d). */
#define H_2Y "$2y$04$JkVDKt.wUfHVmd3..4gKSO1Idg//6DLGUI6QAvhWvh8P/IuBER3f6"
#define H_2B "$2b$05$Nib9M0FO1dSDSHG.6AHhL.vvqrp1anzI0r5VtwQoxICor8J6YTxeS"
#define H_2A "$2a$05$16H/3J5MExeUizdmmaGxWOIjqU5IldE8XBkoHOsHmUtLcYiZwpceC"
#define H_6                                                                    \
	"$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY6" \
	"8QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts."
#define H_5    "$5$saltsaltsalt$TihBZCRsJxAxHgKub.mCOdu9X7QLi980jJxe7T2aZg7"
#define H_APR1 "$apr1$KKpVjVkm$yiu4NSvI.zHI3Kce57mBm0"
#define H_MD5  "$1$p.c5eI3P$WCorhIhG2/uKg7sAD..ca."
#define H_SHA1 "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="
#define H_DES  "MtZn0XN84UaZg"
#define H_YESCRYPT                                                             \
	"$y$j9T$OF0LuZFdNl2WkHR83UQdK0$"                                       \
	"jLG7Aztgu06O4nvzvNhHZSDTsc6eqieJX2CsWDZzgr1"

/* Parses text from an exactly-sized heap copy (ASan checks the bound). */
static struct auth_table *parse(const char *text, size_t len,
				struct auth_stats *st)
{
	char *copy = malloc(len > 0 ? len : 1);
	struct auth_table *t;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(st, 0xa5, sizeof(*st));
	t = auth_table_parse(copy, len, st);
	free(copy);
	assert_non_null(t);
	return t;
}

/* Looks user up from an exactly-sized heap copy, without a NUL after it. */
static const char *lookup(const struct auth_table *t, const char *user,
			  size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	const char *h;

	assert_non_null(copy);
	memcpy(copy, user, len);
	h = auth_table_lookup(t, copy, len);
	free(copy);
	return h;
}

static const char *lookup_z(const struct auth_table *t, const char *user)
{
	return lookup(t, user, strlen(user));
}

static void assert_hash(const struct auth_table *t, const char *user,
			const char *want)
{
	const char *got = lookup_z(t, user);

	if (got == NULL)
		fail_msg("user \"%s\": no hash, expected \"%s\"", user, want);
	assert_string_equal(got, want);
}

static void assert_no_user(const struct auth_table *t, const char *user,
			   size_t len)
{
	const char *got = lookup(t, user, len);

	if (got != NULL)
		fail_msg("user \"%.*s\": hash \"%s\", expected none", (int)len,
			 user, got);
}

/* ---- auth_hash_supported ---------------------------------------------- */

static bool supported(const char *hash)
{
	return auth_hash_supported(hash, strlen(hash));
}

static void takes_yescrypt_bcrypt_and_sha_crypt_only(void **state)
{
	(void)state;
	assert_true(supported(H_YESCRYPT)); /* Debian's passwd default */
	assert_true(supported(H_2Y));
	assert_true(supported(H_2B));
	assert_true(supported(H_2A));
	assert_true(supported(H_6));
	assert_true(supported(H_5));
	assert_true(supported("$6$rounds=5000$saltsalt$abcdefghijklmnop"));
	assert_false(supported(H_APR1));
	assert_false(supported(H_MD5));
	assert_false(supported(H_SHA1));
	assert_false(supported(H_DES));
	assert_false(supported("plaintext-password-long-enough"));
	assert_false(supported(""));
	/* prefixes that look alike */
	assert_false(supported("$2x$05$abcdefghijklmnopqrstuvwxyzABCDEF"));
	assert_false(supported("$2$05$abcdefghijklmnopqrstuvwxyzABCDEF"));
	assert_false(supported("$2Y$05$abcdefghijklmnopqrstuvwxyzABCDEF"));
	assert_false(supported("2y$05$abcdefghijklmnopqrstuvwxyzABCDEF"));
	assert_true(
		supported("$7$abcdefghijklmnopqrstuvwxyzABCDEF")); /* scrypt */
	assert_false(supported(" $6$abcdefghijklmnopqrstuvwxyzABCDEF"));
	/* only len bytes count: a good hash cut short is not one */
	assert_false(auth_hash_supported(H_2Y, 4));
	assert_false(auth_hash_supported(H_6, 3));
}

static void bounds_the_length_of_a_hash(void **state)
{
	char h[AUTH_HASH_MAX + 2];

	(void)state;
	memset(h, 'a', sizeof(h));
	memcpy(h, "$6$", 3);
	/* 19 bytes is too short to be any of them; 20 is let through */
	assert_false(auth_hash_supported(h, 19));
	assert_true(auth_hash_supported(h, 20));
	assert_true(auth_hash_supported(h, AUTH_HASH_MAX));
	assert_false(auth_hash_supported(h, AUTH_HASH_MAX + 1));
}

/* ---- auth_table_parse --------------------------------------------------- */

static void loads_each_supported_hash_kind(void **state)
{
	static const char text[] = "y:" H_2Y "\n"
				   "b:" H_2B "\n"
				   "a:" H_2A "\n"
				   "six:" H_6 "\n"
				   "five:" H_5 "\n";
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 5);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.first_skipped_line, 0);
	assert_hash(t, "y", H_2Y);
	assert_hash(t, "b", H_2B);
	assert_hash(t, "a", H_2A);
	assert_hash(t, "six", H_6);
	assert_hash(t, "five", H_5);
	auth_table_free(t);
}

static void skips_and_counts_weak_and_malformed_lines(void **state)
{
	static const char text[] = "# users\n"		  /* 1 */
				   "good1:" H_2Y "\n"	  /* 2 */
				   "md5:" H_APR1 "\n"	  /* 3 */
				   "sha1:" H_SHA1 "\n"	  /* 4 */
				   "des:" H_DES "\n"	  /* 5 */
				   "plain:secret\n"	  /* 6 */
				   "empty:\n"		  /* 7 */
				   "nocolon\n"		  /* 8 */
				   ":" H_2Y "\n"	  /* 9: no user */
				   "md5crypt:" H_MD5 "\n" /* 10 */
				   "yes:" H_YESCRYPT "\n" /* 11: taken */
				   "short:$2y$05$abc\n"	  /* 12 */
				   "good2:" H_6 "\n";	  /* 13 */
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 3);
	assert_int_equal(st.skipped, 9);
	assert_int_equal(st.first_skipped_line, 3);
	assert_hash(t, "yes", H_YESCRYPT);
	assert_hash(t, "good1", H_2Y);
	assert_hash(t, "good2", H_6);
	static const char *const gone[] = {"md5",   "sha1",	"des",
					   "plain", "empty",	"nocolon",
					   "",	    "md5crypt", "short"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(*gone); i++)
		assert_no_user(t, gone[i], strlen(gone[i]));
	auth_table_free(t);
}

static void names_the_first_skipped_line(void **state)
{
	struct auth_stats st;
	struct auth_table *t;

	(void)state;
	/* line 1 */
	t = parse(S("plain:pw\nok:" H_5 "\n"), &st);
	assert_int_equal(st.first_skipped_line, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.users, 1);
	auth_table_free(t);
	/* comments and blank lines count as lines */
	t = parse(S("\n# c\n\r\n   \nok:" H_5 "\nx\ny\n"), &st);
	assert_int_equal(st.first_skipped_line, 6);
	assert_int_equal(st.skipped, 2);
	auth_table_free(t);
	/* the last line, without a newline */
	t = parse(S("ok:" H_5 "\nbad:" H_DES), &st);
	assert_int_equal(st.first_skipped_line, 2);
	assert_int_equal(st.skipped, 1);
	auth_table_free(t);
}

static void reads_comments_blank_lines_and_crlf(void **state)
{
	static const char text[] = "# a comment\r\n"
				   "\r\n"
				   "   \t\r\n"
				   "  # an indented comment\n"
				   "\n"
				   "crlf:" H_2Y "\r\n"
				   "#commented:" H_2B "\n"
				   "trailing:" H_5 "  \t\r\n"
				   "last:" H_6; /* no final newline */
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 3);
	assert_int_equal(st.skipped, 0);
	assert_hash(t, "crlf", H_2Y); /* no '\r' kept in the hash */
	assert_hash(t, "trailing", H_5);
	assert_hash(t, "last", H_6);
	assert_no_user(t, S("#commented"));
	assert_no_user(t, S("commented"));
	auth_table_free(t);
}

static void drops_comment_fields_after_the_hash(void **state)
{
	static const char text[] = "alice:" H_2Y ":Alice Liddell\n"
				   "bob:" H_6 ":\n"
				   "carol:" H_5 ":a:b:c\r\n";
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 3);
	assert_int_equal(st.skipped, 0);
	assert_hash(t, "alice", H_2Y);
	assert_hash(t, "bob", H_6);
	assert_hash(t, "carol", H_5);
	auth_table_free(t);
	/* a weak hash stays weak with a comment after it */
	t = parse(S("md5:" H_APR1 ":" H_2Y "\n"), &st);
	assert_int_equal(st.users, 0);
	assert_int_equal(st.skipped, 1);
	assert_no_user(t, S("md5"));
	auth_table_free(t);
}

static void lets_the_first_line_of_a_user_win(void **state)
{
	static const char text[] = "dup:" H_2Y "\n"
				   "other:" H_6 "\n"
				   "dup:" H_5 "\n"
				   "dup:" H_2B "\n";
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.skipped, 0);
	assert_hash(t, "dup", H_2Y);
	assert_hash(t, "other", H_6);
	auth_table_free(t);
	/* a skipped first line does not hide a later good one */
	t = parse(S("dup:" H_APR1 "\ndup:" H_5 "\n"), &st);
	assert_int_equal(st.skipped, 1);
	assert_hash(t, "dup", H_5);
	auth_table_free(t);
}

/* Many users, each duplicated at a distance, in an order unlike the
 * sorted one: the first line of each still wins. */
static void lets_the_first_line_win_in_a_large_table(void **state)
{
	enum { N = 3000 };
	size_t cap = (size_t)N * 3 * 96;
	char *text = malloc(cap);
	size_t len = 0;
	struct auth_stats st;
	struct auth_table *t;

	(void)state;
	assert_non_null(text);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++) {
			int u = (i * 7919) % N;
			len += (size_t)snprintf(text + len, cap - len,
						"user%05d:$6$round%d$%032d\n",
						u, round, u);
		}
	t = parse(text, len, &st);
	assert_int_equal(st.skipped, 0);
	for (int u = 0; u < N; u++) {
		char name[16], want[64];
		snprintf(name, sizeof(name), "user%05d", u);
		snprintf(want, sizeof(want), "$6$round0$%032d", u);
		assert_hash(t, name, want);
	}
	free(text);
	auth_table_free(t);
}

static void looks_users_up_exactly_and_case_sensitively(void **state)
{
	static const char text[] = "alice:" H_2Y "\n"
				   "Alice:" H_6 "\n"
				   "alice2:" H_5 "\n"
				   "al:" H_2B "\n"
				   "j\xc3\xb6rg:" H_2A "\n"
				   "with space:" H_5 "\n";
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 6);
	assert_hash(t, "alice", H_2Y);
	assert_hash(t, "Alice", H_6);
	assert_hash(t, "alice2", H_5);
	assert_hash(t, "al", H_2B);
	assert_hash(t, "j\xc3\xb6rg", H_2A);
	assert_hash(t, "with space", H_5);
	assert_no_user(t, S("ALICE"));
	assert_no_user(t, S("aliCe"));
	assert_no_user(t, S("ali"));
	assert_no_user(t, S("a"));
	assert_no_user(t, S("alice3"));
	assert_no_user(t, S("alice "));
	assert_no_user(t, S("alice\0"));
	assert_no_user(t, S("J\xc3\xb6rg"));
	assert_no_user(t, S("bob"));
	assert_no_user(t, "", 0);
	/* the length decides, not a NUL */
	assert_string_equal(lookup(t, "alice2", 5), H_2Y);
	auth_table_free(t);
}

static void bounds_the_length_of_a_user(void **state)
{
	char *text = malloc(2 * (AUTH_USER_MAX + 1 + sizeof(H_6) + 1));
	char name[AUTH_USER_MAX + 2];
	size_t len = 0;
	struct auth_stats st;
	struct auth_table *t;

	(void)state;
	assert_non_null(text);
	memset(name, 'u', sizeof(name));
	/* AUTH_USER_MAX bytes of "u", then one more "v" byte for the other */
	memcpy(text + len, name, AUTH_USER_MAX);
	len += AUTH_USER_MAX;
	memcpy(text + len, ":" H_6 "\n", sizeof(H_6) + 1);
	len += sizeof(H_6) + 1;
	name[AUTH_USER_MAX] = 'v';
	memcpy(text + len, name, AUTH_USER_MAX + 1);
	len += AUTH_USER_MAX + 1;
	memcpy(text + len, ":" H_5 "\n", sizeof(H_5) + 1);
	len += sizeof(H_5) + 1;
	t = parse(text, len, &st);
	assert_int_equal(st.users, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.first_skipped_line, 2);
	assert_string_equal(lookup(t, name, AUTH_USER_MAX), H_6);
	assert_null(lookup(t, name, AUTH_USER_MAX + 1));
	free(text);
	auth_table_free(t);
}

static void skips_lines_with_a_nul_byte(void **state)
{
	static const char text[] = "nul\0user:" H_2Y "\n"
				   "nulhash:" H_6 "\0tail\n"
				   "fine:" H_5 "\n";
	struct auth_stats st;
	struct auth_table *t = parse(S(text), &st);

	(void)state;
	assert_int_equal(st.users, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.first_skipped_line, 1);
	assert_no_user(t, S("nul\0user"));
	assert_no_user(t, S("nul"));
	assert_no_user(t, S("nulhash"));
	assert_hash(t, "fine", H_5);
	auth_table_free(t);
}

static void reads_empty_and_comment_only_files(void **state)
{
	static const char *const texts[] = {"", "\n", "# nothing\n", "\r\n\r\n",
					    "   \n\t\n"};
	struct auth_stats st;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct auth_table *t = parse(texts[i], strlen(texts[i]), &st);
		assert_int_equal(st.users, 0);
		assert_int_equal(st.skipped, 0);
		assert_int_equal(st.first_skipped_line, 0);
		assert_no_user(t, S("anyone"));
		assert_no_user(t, "", 0);
		auth_table_free(t);
	}
	/* NULL tables are nobody's */
	assert_null(auth_table_lookup(NULL, "x", 1));
	auth_table_free(NULL);
}

/* ---- auth_parse_basic ---------------------------------------------------- */

/* Parses value from an exactly-sized heap copy. */
static int parse_basic(const char *value, size_t len,
		       struct auth_credentials *c)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, value, len);
	memset(c, 0x5a, sizeof(*c));
	rc = auth_parse_basic(copy, len, c);
	free(copy);
	return rc;
}

static void assert_basic(const char *value, size_t len, const char *user,
			 size_t ulen, const char *pass, size_t plen)
{
	struct auth_credentials c;
	int rc = parse_basic(value, len, &c);

	if (rc != 0)
		fail_msg("\"%.*s\": refused, expected user \"%.*s\"", (int)len,
			 value, (int)ulen, user);
	assert_int_equal(c.user_len, ulen);
	assert_int_equal(c.pass_len, plen);
	assert_memory_equal(c.user, user, ulen);
	assert_memory_equal(c.pass, pass, plen);
	/* both are C strings too */
	assert_int_equal(c.user[ulen], '\0');
	assert_int_equal(c.pass[plen], '\0');
}

static void assert_basic_refused(const char *value, size_t len)
{
	struct auth_credentials c;

	if (parse_basic(value, len, &c) != -1)
		fail_msg("\"%.*s\": accepted as user \"%s\", expected -1",
			 (int)len, value, c.user);
}

/* Base64 of data[0..len), for building values. */
static size_t b64(const void *data, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[n++] = abc[(v >> 18) & 63];
		out[n++] = abc[(v >> 12) & 63];
		out[n++] = left > 1 ? abc[(v >> 6) & 63] : '=';
		out[n++] = left > 2 ? abc[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

/* "Basic " + base64(plain[0..len)) into out; returns its length. */
static size_t basic_of(const void *plain, size_t len, char *out)
{
	memcpy(out, "Basic ", 6);
	return 6 + b64(plain, len, out + 6);
}

static void reads_a_basic_value(void **state)
{
	(void)state;
	/* RFC 7617 §2's example: Aladdin / open sesame */
	assert_basic(S("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), S("Aladdin"),
		     S("open sesame"));
	assert_basic(S("Basic dXNlcjpwYXNz"), S("user"), S("pass"));
	/* RFC 7617 §2.1's UTF-8 example: test / 123£ */
	assert_basic(S("Basic dGVzdDoxMjPCow=="), S("test"), S("123\xc2\xa3"));
}

static void takes_the_scheme_in_any_case(void **state)
{
	static const char *const schemes[] = {"Basic", "basic", "BASIC",
					      "bAsIc", "BaSiC"};

	(void)state;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes); i++) {
		char v[64];
		int n = snprintf(v, sizeof(v), "%s dXNlcjpwYXNz", schemes[i]);
		assert_basic(v, (size_t)n, S("user"), S("pass"));
	}
}

static void takes_spaces_around_and_between(void **state)
{
	(void)state;
	assert_basic(S("Basic   dXNlcjpwYXNz"), S("user"), S("pass"));
	assert_basic(S("Basic\tdXNlcjpwYXNz"), S("user"), S("pass"));
	assert_basic(S("Basic \t dXNlcjpwYXNz"), S("user"), S("pass"));
	assert_basic(S("  Basic dXNlcjpwYXNz"), S("user"), S("pass"));
	assert_basic(S("\tBasic dXNlcjpwYXNz"), S("user"), S("pass"));
	assert_basic(S("Basic dXNlcjpwYXNz  "), S("user"), S("pass"));
	assert_basic(S("Basic dXNlcjpwYXNz\t"), S("user"), S("pass"));
	/* but the scheme and the credentials are two tokens */
	assert_basic_refused(S("BasicdXNlcjpwYXNz"));
	/* and the credentials are one */
	assert_basic_refused(S("Basic dXNl cjpwYXNz"));
	assert_basic_refused(S("Basic dXNlcjpw YXNz"));
}

static void splits_at_the_first_colon(void **state)
{
	char v[128];
	size_t n;

	(void)state;
	n = basic_of(S("user:pa:ss"), v);
	assert_basic(v, n, S("user"), S("pa:ss"));
	n = basic_of(S("user::"), v);
	assert_basic(v, n, S("user"), S(":"));
	n = basic_of(S("user:::::"), v);
	assert_basic(v, n, S("user"), S("::::"));
	n = basic_of(S("u:"), v);
	assert_basic(v, n, S("u"), "", 0);
	n = basic_of(S("a b:c d"), v);
	assert_basic(v, n, S("a b"), S("c d"));
	n = basic_of(S("j\xc3\xb6rg:p\xc3\xa4ss"), v);
	assert_basic(v, n, S("j\xc3\xb6rg"), S("p\xc3\xa4ss"));
}

static void allows_an_empty_password_not_an_empty_user(void **state)
{
	char v[128];
	size_t n;

	(void)state;
	n = basic_of(S("user:"), v);
	assert_basic(v, n, S("user"), "", 0);
	n = basic_of(S(":pass"), v);
	assert_basic_refused(v, n);
	n = basic_of(S(":"), v);
	assert_basic_refused(v, n);
	n = basic_of(S("::pass"), v);
	assert_basic_refused(v, n);
	/* no colon at all */
	n = basic_of(S("userpass"), v);
	assert_basic_refused(v, n);
	n = basic_of(S("u"), v);
	assert_basic_refused(v, n);
	/* nothing at all */
	assert_basic_refused(S("Basic "));
	assert_basic_refused(S("Basic"));
	assert_basic_refused(S("Basic    "));
	assert_basic_refused("", 0);
	assert_basic_refused(S("   "));
}

static void refuses_control_bytes(void **state)
{
	static const char *const plains[] = {
		"us\x01"
		"er:pass",
		"user:pa\x01ss",
		"user\x1f:pass",
		"user:pass\x7f",
		"\x7fuser:pass",
		"user:pa\tss",
		"user\t:pass",
		"user:pass\r\n",
		"user\n:pass",
		"user:pass\x1b[0m",
	};
	char v[128];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(plains) / sizeof(*plains); i++) {
		n = basic_of(plains[i], strlen(plains[i]), v);
		assert_basic_refused(v, n);
	}
	/* NUL in either part */
	n = basic_of(S("us\0er:pass"), v);
	assert_basic_refused(v, n);
	n = basic_of(S("user:pa\0ss"), v);
	assert_basic_refused(v, n);
	n = basic_of(S("user:pass\0"), v);
	assert_basic_refused(v, n);
	/* bytes with the top bit set are not control bytes (UTF-8) */
	n = basic_of(S("user:\x80\xff"), v);
	assert_basic(v, n, S("user"), S("\x80\xff"));
}

static void refuses_other_schemes(void **state)
{
	(void)state;
	assert_basic_refused(S("Bearer dXNlcjpwYXNz"));
	assert_basic_refused(S("Digest username=\"user\", realm=\"sluice\""));
	assert_basic_refused(S("Negotiate dXNlcjpwYXNz"));
	assert_basic_refused(S("NTLM TlRMTVNTUAABAAAAB4IIog=="));
	assert_basic_refused(S("Basically dXNlcjpwYXNz"));
	assert_basic_refused(S("Basi dXNlcjpwYXNz"));
	assert_basic_refused(S("Basic: dXNlcjpwYXNz"));
	assert_basic_refused(S("Basic=dXNlcjpwYXNz"));
	assert_basic_refused(S("dXNlcjpwYXNz"));
	assert_basic_refused(S("user:pass"));
	assert_basic_refused(S("B\xc3\xa1sic dXNlcjpwYXNz"));
	assert_basic_refused(S("Basic\0dXNlcjpwYXNz"));
}

static void refuses_bad_base64(void **state)
{
	(void)state;
	/* unpadded, over-padded, misplaced padding */
	assert_basic_refused(S("Basic dXNlcjpwYQ"));
	assert_basic_refused(S("Basic dXNlcjpwYQ="));
	assert_basic_refused(S("Basic dXNlcjpwYXNz="));
	assert_basic_refused(S("Basic dXNlcjpwYXNz===="));
	assert_basic_refused(S("Basic dXNl=jpwYXNz"));
	/* outside the alphabet, URL-safe, non-canonical */
	assert_basic_refused(S("Basic dXNlcjpwYX*z"));
	assert_basic_refused(S("Basic dXNlcjp-YXNz"));
	assert_basic_refused(S("Basic dXNlcjp_YXNz"));
	assert_basic_refused(S("Basic dXNlcjpwYR=="));
	/* a quoted token, a token68 with parameters */
	assert_basic_refused(S("Basic \"dXNlcjpwYXNz\""));
	assert_basic_refused(S("Basic dXNlcjpwYXNz, realm=\"x\""));
	/* well-formed base64 of the same text with a line break inside */
	assert_basic_refused(S("Basic dXNlcjpw\r\nYXNz"));
}

static void bounds_the_lengths(void **state)
{
	enum { BIG = AUTH_USER_MAX + AUTH_PASS_MAX + 8 };
	char plain[BIG], v[6 + (BIG + 2) / 3 * 4 + 1];
	size_t n;

	(void)state;
	memset(plain, 'u', AUTH_USER_MAX);
	plain[AUTH_USER_MAX] = ':';
	memset(plain + AUTH_USER_MAX + 1, 'p', AUTH_PASS_MAX);
	/* the longest user and password */
	n = basic_of(plain, AUTH_USER_MAX + 1 + AUTH_PASS_MAX, v);
	{
		struct auth_credentials c;
		assert_int_equal(parse_basic(v, n, &c), 0);
		assert_int_equal(c.user_len, AUTH_USER_MAX);
		assert_int_equal(c.pass_len, AUTH_PASS_MAX);
		assert_int_equal(strlen(c.user), AUTH_USER_MAX);
		assert_int_equal(strlen(c.pass), AUTH_PASS_MAX);
	}
	/* a password one byte longer */
	plain[AUTH_USER_MAX + 1 + AUTH_PASS_MAX] = 'p';
	n = basic_of(plain, AUTH_USER_MAX + 1 + AUTH_PASS_MAX + 1, v);
	assert_basic_refused(v, n);
	/* a user one byte longer (then a short password) */
	memset(plain, 'u', AUTH_USER_MAX + 1);
	memcpy(plain + AUTH_USER_MAX + 1, ":p", 2);
	n = basic_of(plain, AUTH_USER_MAX + 3, v);
	assert_basic_refused(v, n);
	/* a user one byte longer and the longest password */
	plain[AUTH_USER_MAX + 1] = ':';
	memset(plain + AUTH_USER_MAX + 2, 'p', AUTH_PASS_MAX);
	n = basic_of(plain, AUTH_USER_MAX + 2 + AUTH_PASS_MAX, v);
	assert_basic_refused(v, n);
	/* more than both together can hold */
	memset(plain, 'x', sizeof(plain));
	plain[1] = ':';
	n = basic_of(plain, sizeof(plain), v);
	assert_basic_refused(v, n);
}

static void refuses_a_huge_value(void **state)
{
	size_t len = (1 << 20) + 2; /* a multiple of four after "Basic " */
	char *v = malloc(len);

	(void)state;
	assert_non_null(v);
	memcpy(v, "Basic ", 6);
	memset(v + 6, 'A', len - 6 - 2);
	memcpy(v + len - 2, "==", 2);
	assert_basic_refused(v, len);
	/* spaces only after the scheme */
	memset(v + 6, ' ', len - 6);
	assert_basic_refused(v, len);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(takes_yescrypt_bcrypt_and_sha_crypt_only),
		cmocka_unit_test(bounds_the_length_of_a_hash),
		cmocka_unit_test(loads_each_supported_hash_kind),
		cmocka_unit_test(skips_and_counts_weak_and_malformed_lines),
		cmocka_unit_test(names_the_first_skipped_line),
		cmocka_unit_test(reads_comments_blank_lines_and_crlf),
		cmocka_unit_test(drops_comment_fields_after_the_hash),
		cmocka_unit_test(lets_the_first_line_of_a_user_win),
		cmocka_unit_test(lets_the_first_line_win_in_a_large_table),
		cmocka_unit_test(looks_users_up_exactly_and_case_sensitively),
		cmocka_unit_test(bounds_the_length_of_a_user),
		cmocka_unit_test(skips_lines_with_a_nul_byte),
		cmocka_unit_test(reads_empty_and_comment_only_files),
		cmocka_unit_test(reads_a_basic_value),
		cmocka_unit_test(takes_the_scheme_in_any_case),
		cmocka_unit_test(takes_spaces_around_and_between),
		cmocka_unit_test(splits_at_the_first_colon),
		cmocka_unit_test(allows_an_empty_password_not_an_empty_user),
		cmocka_unit_test(refuses_control_bytes),
		cmocka_unit_test(refuses_other_schemes),
		cmocka_unit_test(refuses_bad_base64),
		cmocka_unit_test(bounds_the_lengths),
		cmocka_unit_test(refuses_a_huge_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
