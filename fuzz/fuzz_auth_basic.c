/*
 * fuzz_auth_basic.c - auth_parse_basic and base64_decode on arbitrary
 * bytes.
 *
 * Three views of each input:
 *
 * 1. As a Proxy-Authorization value. auth_parse_basic returns 0 or -1; on
 *    0 the user is 1..AUTH_USER_MAX bytes without ':', the password at most
 *    AUTH_PASS_MAX, neither has a control byte (or NUL), both are C strings
 *    of their lengths, and re-encoding "user:pass" in base64 gives the very
 *    token of the input (strict base64 has one spelling per byte string),
 *    which "Basic " + it parses back to the same credentials.
 * 2. As the decoded credentials: "Basic " + base64(input) is accepted
 *    exactly when the input is user ':' password within the rules above,
 *    and then gives them back.
 * 3. As base64: base64_decode with a capacity of exactly the decoded
 *    length succeeds, one byte less fails, and what it decodes encodes back
 *    to the input.
 *
 * abort() on any violation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "policy/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer inputs only test the bounds; nothing past this is interesting. */
#define INPUT_MAX 4096

static void check(int ok)
{
	if (!ok)
		abort();
}

static size_t b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
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
	return n;
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parses value[0..len) from an exactly-sized heap copy. */
static int parse(const char *value, size_t len, struct auth_credentials *c)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	check(copy != NULL);
	if (len > 0)
		memcpy(copy, value, len);
	rc = auth_parse_basic(copy, len, c);
	free(copy);
	check(rc == 0 || rc == -1);
	return rc;
}

static void check_credentials(const struct auth_credentials *c)
{
	check(c->user_len >= 1 && c->user_len <= AUTH_USER_MAX);
	check(c->pass_len <= AUTH_PASS_MAX);
	check(c->user[c->user_len] == '\0' && c->pass[c->pass_len] == '\0');
	check(memchr(c->user, ':', c->user_len) == NULL);
	for (size_t i = 0; i < c->user_len; i++)
		check(!is_ctl((unsigned char)c->user[i]));
	for (size_t i = 0; i < c->pass_len; i++)
		check(!is_ctl((unsigned char)c->pass[i]));
}

static bool same_credentials(const struct auth_credentials *a,
			     const struct auth_credentials *b)
{
	return a->user_len == b->user_len && a->pass_len == b->pass_len &&
	       memcmp(a->user, b->user, a->user_len) == 0 &&
	       memcmp(a->pass, b->pass, a->pass_len) == 0;
}

/* "Basic " + base64(plain[0..len)) into out; returns its length. */
static size_t basic_of(const unsigned char *plain, size_t len, char *out)
{
	memcpy(out, "Basic ", 6);
	return 6 + b64_encode(plain, len, out + 6);
}

/* 1: the input as a header value. */
static void as_value(const char *s, size_t size)
{
	struct auth_credentials c, again;
	unsigned char plain[AUTH_USER_MAX + 1 + AUTH_PASS_MAX];
	char value[6 + (sizeof(plain) + 2) / 3 * 4];
	size_t plen, vlen, a = 0, b = size;

	if (parse(s, size, &c) != 0)
		return;
	check_credentials(&c);
	memcpy(plain, c.user, c.user_len);
	plain[c.user_len] = ':';
	memcpy(plain + c.user_len + 1, c.pass, c.pass_len);
	plen = c.user_len + 1 + c.pass_len;
	vlen = basic_of(plain, plen, value);
	check(parse(value, vlen, &again) == 0);
	check(same_credentials(&c, &again));
	/* the input's token is exactly our encoding: "basic" in some case,
	 * blanks, the token, blanks */
	while (a < b && is_ows(s[a]))
		a++;
	while (b > a && is_ows(s[b - 1]))
		b--;
	check(b - a > 5);
	a += 5;
	check(is_ows(s[a]));
	while (a < b && is_ows(s[a]))
		a++;
	check(b - a == vlen - 6 && memcmp(s + a, value + 6, vlen - 6) == 0);
}

/* 2: the input as the decoded credentials. */
static void as_credentials(const unsigned char *d, size_t size)
{
	char value[6 + (INPUT_MAX + 2) / 3 * 4];
	struct auth_credentials c;
	const unsigned char *colon = memchr(d, ':', size);
	size_t ulen = colon != NULL ? (size_t)(colon - d) : 0;
	bool want = colon != NULL && ulen >= 1 && ulen <= AUTH_USER_MAX &&
		    size - ulen - 1 <= AUTH_PASS_MAX;
	int rc;

	for (size_t i = 0; want && i < size; i++)
		if (is_ctl(d[i]))
			want = false;
	rc = parse(value, basic_of(d, size, value), &c);
	check((rc == 0) == want);
	if (rc != 0)
		return;
	check_credentials(&c);
	check(c.user_len == ulen && memcmp(c.user, d, ulen) == 0);
	check(c.pass_len == size - ulen - 1 &&
	      memcmp(c.pass, colon + 1, c.pass_len) == 0);
}

/* 3: the input as base64. */
static void as_base64(const char *s, size_t size)
{
	size_t cap = size / 4 * 3;
	unsigned char *out = malloc(cap > 0 ? cap : 1);
	char *enc;
	long n;

	check(out != NULL);
	n = base64_decode(s, size, out, cap);
	check(n >= -1 && n <= (long)cap);
	if (n < 0) {
		free(out);
		return;
	}
	check(size % 4 == 0 && (size_t)n + 2 >= cap);
	/* exact room is enough, one byte less is not */
	check(base64_decode(s, size, out, (size_t)n) == n);
	if (n > 0)
		check(base64_decode(s, size, out, (size_t)n - 1) == -1);
	enc = malloc(size + 1);
	check(enc != NULL);
	check(b64_encode(out, (size_t)n, enc) == size);
	check(memcmp(enc, s, size) == 0);
	free(enc);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		size = INPUT_MAX;
	as_value((const char *)data, size);
	as_credentials(data, size);
	as_base64((const char *)data, size);
	return 0;
}
