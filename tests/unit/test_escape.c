/*
 * test_escape.c - log-field escaping: JSON strings (quotes, backslashes,
 * control bytes, well-formed UTF-8 kept, every ill-formed byte replaced),
 * Apache-style quoted strings, single words; and truncation that never
 * splits an escape or a UTF-8 sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/escape.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

typedef size_t (*escape_fn)(char *out, size_t cap, const char *in, size_t len);

struct escape_case {
	const char *in;
	size_t len;
	size_t cap; /* 0: plenty */
	const char *out;
};

/* Escapes from an exactly-sized heap copy into an exactly-sized heap
 * buffer (ASan checks both bounds) and compares with the expectation. */
static void check(escape_fn fn, const char *name, const struct escape_case *c)
{
	size_t cap = c->cap != 0 ? c->cap : 1024;
	char *in = malloc(c->len + 1);
	char *out = malloc(cap);
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	memcpy(in, c->in, c->len);
	n = fn(out, cap, in, c->len);
	if (strcmp(out, c->out) != 0 || n != strlen(c->out))
		fail_msg("%s(\"%.*s\", cap %zu): got \"%s\" (%zu), expected "
			 "\"%s\"",
			 name, (int)c->len, c->in, cap, out, n, c->out);
	free(in);
	free(out);
}

static void escapes_json_strings(void **state)
{
	static const struct escape_case cases[] = {
		{S(""), 0, ""},
		{S("GET /index.html"), 0, "GET /index.html"},
		{S("say \"hi\" \\o/"), 0, "say \\\"hi\\\" \\\\o/"},
		{S("a\nb\rc\td"), 0, "a\\nb\\rc\\td"},
		{S("\x01\x1f\x7f"), 0, "\\u0001\\u001f\\u007f"},
		{S("nul\0here"), 0, "nul\\u0000here"},
		/* well-formed UTF-8 of 2, 3 and 4 bytes, the extremes too */
		{S("caf\xc3\xa9"), 0, "caf\xc3\xa9"},
		{S("\xe2\x82\xac \xef\xbf\xbf"), 0,
		 "\xe2\x82\xac \xef\xbf\xbf"},
		{S("\xf0\x9f\x98\x80"), 0, "\xf0\x9f\x98\x80"},
		{S("\xf4\x8f\xbf\xbf"), 0, "\xf4\x8f\xbf\xbf"},
		/* ill-formed: every byte of it replaced */
		{S("\x80"), 0, "\\ufffd"},
		{S("\xc0\xaf"), 0, "\\ufffd\\ufffd"}, /* overlong '/' */
		{S("\xe0\x80\xaf"), 0, "\\ufffd\\ufffd\\ufffd"}, /* overlong */
		{S("\xed\xa0\x80"), 0, "\\ufffd\\ufffd\\ufffd"}, /* surrogate */
		{S("\xf4\x90\x80\x80"), 0,
		 "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* above U+10FFFF */
		{S("\xf5\xff\xfe"), 0, "\\ufffd\\ufffd\\ufffd"},
		{S("x\xe2\x82"), 0, "x\\ufffd\\ufffd"},	     /* cut short */
		{S("\xe9t\xc3\xa9"), 0, "\\ufffdt\xc3\xa9"}, /* Latin-1 */
		{S("\xc3\""), 0, "\\ufffd\\\""},
		/* truncated: only whole escapes and whole sequences */
		{S("abc"), 3, "ab"},
		{S("abc"), 1, ""},
		{S("a\"b"), 3, "a"},
		{S("a\"b"), 4, "a\\\""},
		{S("a\x01"), 7, "a"},
		{S("a\x01"), 8, "a\\u0001"},
		{S("a\xe2\x82\xac"), 4, "a"},
		{S("a\xe2\x82\xac"), 5, "a\xe2\x82\xac"},
		{S("a\xff"), 6, "a"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check(escape_json, "escape_json", &cases[i]);
}

/* Whatever the bytes, the output has no raw control byte, no lone quote
 * and no backslash that does not start one of JSON's escapes. */
static void json_output_is_always_a_valid_string(void **state)
{
	char in[4], out[64];

	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b += 7) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = '"';
			in[3] = (char)(a ^ b);
			size_t n = escape_json(out, sizeof(out), in, 4);
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)out[i];
				assert_true(c >= 0x20 && c != 0x7f);
				assert_true(c != '"' ||
					    (i > 0 && out[i - 1] == '\\'));
				if (c == '\\') {
					assert_true(out[i + 1] != '\0' &&
						    strchr("\"\\nrtu",
							   out[i + 1]) != NULL);
					i++;
				}
			}
		}
	}
}

static void escapes_quoted_fields_as_apache_does(void **state)
{
	static const struct escape_case cases[] = {
		{S(""), 0, ""},
		{S("Mozilla/5.0 (X11; Linux)"), 0, "Mozilla/5.0 (X11; Linux)"},
		{S("a \"quoted\" \\ word"), 0, "a \\\"quoted\\\" \\\\ word"},
		{S("tab\there\r\n"), 0, "tab\\there\\r\\n"},
		{S("\x01\x7f\x80\xff"), 0, "\\x01\\x7f\\x80\\xff"},
		{S("caf\xc3\xa9"), 0, "caf\\xc3\\xa9"},
		{S("nul\0"), 0, "nul\\x00"},
		{S("ab\"c"), 4, "ab"},
		{S("ab\xff"), 6, "ab"},
		{S("ab\xff"), 7, "ab\\xff"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check(escape_quoted, "escape_quoted", &cases[i]);
}

static void escapes_words_with_percent_codes(void **state)
{
	static const struct escape_case cases[] = {
		{S(""), 0, ""},
		{S("alice"), 0, "alice"},
		{S("j doe"), 0, "j%20doe"},
		{S("100%"), 0, "100%25"},
		{S("[x]\"y\"\\"), 0, "%5bx%5d%22y%22%5c"},
		{S("\t\x01\x7f"), 0, "%09%01%7f"},
		{S("jos\xc3\xa9"), 0, "jos%c3%a9"},
		{S("ab cd"), 5, "ab"},
		{S("ab cd"), 6, "ab%20"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check(escape_word, "escape_word", &cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_json_strings),
		cmocka_unit_test(json_output_is_always_a_valid_string),
		cmocka_unit_test(escapes_quoted_fields_as_apache_does),
		cmocka_unit_test(escapes_words_with_percent_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
