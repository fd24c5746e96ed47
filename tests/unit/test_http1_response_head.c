/*
 * test_http1_response_head.c - the strict response-head parser.
 *
 * Like the request parser's tests: every case runs whole, fed one byte at a
 * time (each call with prev_len = the previous len), and split in two at
 * every point; all three must agree on code, offset and slices. Each call
 * gets a heap copy of exactly len bytes, so ASan catches a read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_response_head.h"

/* Small limits, so that the cases at the limits stay readable. */
#define MAX_LINE   24
#define MAX_HEAD   96
#define MAX_FIELDS 4

static const struct http1_limits limits = {
	.max_line_bytes = MAX_LINE,
	.max_head_bytes = MAX_HEAD,
	.max_fields = MAX_FIELDS,
};

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

#define A10 "aaaaaaaaaa"

/* A parse result with slices as offsets, comparable across copies. */
struct result {
	int rc;
	enum http1_err code;
	size_t offset;
	int minor_version, status;
	size_t reason, reason_len;
	size_t num_headers;
	struct {
		size_t name, name_len, value, value_len;
	} headers[MAX_FIELDS];
};

static int parse_at(const char *in, size_t len, size_t prev_len,
		    struct result *out)
{
	char *buf = malloc(len + 1); /* +1: malloc(0) may be NULL */
	struct http1_header *headers = malloc(MAX_FIELDS * sizeof(*headers));
	struct http1_response res;
	struct http1_error err;

	assert_non_null(buf);
	assert_non_null(headers);
	memcpy(buf, in, len);
	memset(out, 0, sizeof(*out));
	out->rc = http1_parse_response(buf, len, prev_len, &limits, headers,
				       &res, &err);
	out->code = err.code;
	out->offset = err.offset;
	if (out->rc > 0) {
		out->minor_version = res.minor_version;
		out->status = res.status;
		out->reason = (size_t)(res.reason - buf);
		out->reason_len = res.reason_len;
		out->num_headers = res.num_headers;
		assert_ptr_equal(res.headers, headers);
		assert_in_range(res.num_headers, 0, MAX_FIELDS);
		for (size_t i = 0; i < res.num_headers; i++) {
			out->headers[i].name = (size_t)(headers[i].name - buf);
			out->headers[i].name_len = headers[i].name_len;
			out->headers[i].value =
				(size_t)(headers[i].value - buf);
			out->headers[i].value_len = headers[i].value_len;
		}
	}
	free(headers);
	free(buf);
	return out->rc;
}

static void expect_same(const char *why, const char *how,
			const struct result *got, const struct result *want)
{
	if (got->rc != want->rc || got->code != want->code ||
	    got->offset != want->offset)
		fail_msg("%s, %s: rc %d code %d offset %zu, whole gave rc %d "
			 "code %d offset %zu",
			 why, how, got->rc, got->code, got->offset, want->rc,
			 want->code, want->offset);
	if (got->minor_version != want->minor_version ||
	    got->status != want->status || got->reason != want->reason ||
	    got->reason_len != want->reason_len ||
	    got->num_headers != want->num_headers ||
	    memcmp(got->headers, want->headers, sizeof(got->headers)) != 0)
		fail_msg("%s, %s: slices differ from the whole parse", why,
			 how);
}

/* Whole, byte by byte, and in two pieces at every split; all agree. */
static void parse_every_way(const char *why, const char *in, size_t len,
			    struct result *whole)
{
	struct result part;
	size_t k;

	parse_at(in, len, 0, whole);

	for (k = 1; k <= len; k++) {
		if (parse_at(in, k, k - 1, &part) != -2)
			break;
	}
	if (k > len)
		k = len;
	expect_same(why, "byte by byte", &part, whole);
	if (whole->rc > 0 && k != (size_t)whole->rc)
		fail_msg("%s: byte by byte the head ended at %zu, not %d", why,
			 k, whole->rc);

	for (size_t split = 1; split < len; split++) {
		if (parse_at(in, split, 0, &part) == -2)
			parse_at(in, len, split, &part);
		expect_same(why, "in two pieces", &part, whole);
	}
}

struct accept_case {
	const char *why;
	const char *in;
	size_t len;
	size_t trailing;  /* bytes after the head, not part of it */
	const char *want; /* "MINOR STATUS [reason]" then "|name=value" each */
};

/* clang-format off */
static const struct accept_case accepted[] = {
	{"a minimal response",
	 S("HTTP/1.1 200 OK\r\n\r\n"), 0, "1 200 [OK]"},
	{"HTTP/1.0",
	 S("HTTP/1.0 404 Not Found\r\n\r\n"), 0, "0 404 [Not Found]"},
	{"fields, trimmed",
	 S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: \t a b \t\r\n\r\n"), 0,
	 "1 200 [OK]|Content-Length=5|X=a b"},
	{"an empty reason after the SP",
	 S("HTTP/1.1 200 \r\n\r\n"), 0, "1 200 []"},
	{"an empty reason without the SP (RFC 9112 §4)",
	 S("HTTP/1.1 204\r\n\r\n"), 0, "1 204 []"},
	{"the reason is kept as sent: spaces, HTAB, obs-text",
	 S("HTTP/1.1 200  V\tK\xc3\xa9 \r\n\r\n"), 0,
	 "1 200 [ V\tK\xc3\xa9 ]"},
	{"a reason that looks like a status line",
	 S("HTTP/1.1 200 HTTP/1.1 5\r\n\r\n"), 0,
	 "1 200 [HTTP/1.1 5]"},
	{"the lowest status", S("HTTP/1.1 100 Continue\r\n\r\n"), 0,
	 "1 100 [Continue]"},
	{"an unknown but well-formed status", S("HTTP/1.1 999 x\r\n\r\n"), 0,
	 "1 999 [x]"},
	{"101 with its Upgrade",
	 S("HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n"), 0,
	 "1 101 [Switching]|Upgrade=websocket"},
	{"bytes after the head are not part of it",
	 S("HTTP/1.1 200 OK\r\n\r\nbody\0\n\r"), 7, "1 200 [OK]"},
	{"exactly the field limit",
	 S("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), 0,
	 "1 200 [OK]|A=1|B=2|C=3|D=4"},
	{"a status line of exactly the line limit",
	 S("HTTP/1.1 200 " A10 "a\r\n\r\n"), 0, "1 200 [" A10 "a]"},
	{"a field line may be longer than the status-line limit",
	 S("HTTP/1.1 200 OK\r\nX: " A10 A10 A10 "\r\n\r\n"), 0,
	 "1 200 [OK]|X=" A10 A10 A10},
	{"a head of exactly the head limit",
	 S("HTTP/1.1 200 OK\r\nX: " A10 A10 A10 A10 A10 A10 A10 "aa\r\n\r\n"),
	 0, "1 200 [OK]|X=" A10 A10 A10 A10 A10 A10 A10 "aa"},
};
/* clang-format on */

/* Renders a parsed head as "MINOR STATUS [reason]|name=value...". */
static void render(const char *in, const struct result *r, char *out,
		   size_t cap)
{
	size_t n =
		(size_t)snprintf(out, cap, "%d %d [%.*s]", r->minor_version,
				 r->status, (int)r->reason_len, in + r->reason);

	for (size_t i = 0; i < r->num_headers && n < cap; i++)
		n += (size_t)snprintf(
			out + n, cap - n, "|%.*s=%.*s",
			(int)r->headers[i].name_len, in + r->headers[i].name,
			(int)r->headers[i].value_len, in + r->headers[i].value);
}

static void accepts_well_formed_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const struct accept_case *c = &accepted[i];
		struct result r;
		char got[512];

		parse_every_way(c->why, c->in, c->len, &r);
		if (r.rc != (int)(c->len - c->trailing))
			fail_msg("%s: rc %d (code %d at %zu), want %zu", c->why,
				 r.rc, r.code, r.offset, c->len - c->trailing);
		render(c->in, &r, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->why, got,
				 c->want);
	}
}

struct refuse_case {
	const char *why;
	const char *in;
	size_t len;
	enum http1_err code;
	size_t offset;
};

static const struct refuse_case refused[] = {
	/* RFC 9112 §2.2: line ends are CRLF, nothing else */
	{"bare LF ends the status line", S("HTTP/1.1 200 OK\n\r\n"),
	 HTTP1_ERR_BARE_LF, 15},
	{"bare LF ends a field line", S("HTTP/1.1 200 OK\r\nA: b\n\r\n"),
	 HTTP1_ERR_BARE_LF, 21},
	{"LF-only head", S("HTTP/1.1 200 OK\n\n"), HTTP1_ERR_BARE_LF, 15},
	{"bare CR in the reason", S("HTTP/1.1 200 O\rK\r\n\r\n"),
	 HTTP1_ERR_BARE_CR, 14},
	{"bare CR in a field value", S("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"),
	 HTTP1_ERR_BARE_CR, 21},
	{"NUL in the reason", S("HTTP/1.1 200 O\0K\r\n\r\n"), HTTP1_ERR_CTL,
	 14},
	{"NUL refused before the head is complete", S("HTTP/1.1 200 OK\r\n\0"),
	 HTTP1_ERR_CTL, 17},

	/* no empty lines before a status line */
	{"an empty line first", S("\r\nHTTP/1.1 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION, 0},
	{"nothing but the blank line", S("\r\n\r\n"), HTTP1_ERR_VERSION, 0},

	/* RFC 9112 §4: HTTP-version SP 3DIGIT SP reason */
	{"a version in lower case", S("http/1.1 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION, 0},
	{"a version without minor", S("HTTP/1 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION, 0},
	{"HTAB after the version", S("HTTP/1.1\t200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION, 0},
	{"HTTP/2.0", S("HTTP/2.0 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 0},
	{"HTTP/1.2", S("HTTP/1.2 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 0},
	{"HTTP/0.9", S("HTTP/0.9 200 OK\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 0},
	{"a version alone", S("HTTP/1.1\r\n\r\n"), HTTP1_ERR_STATUS_LINE, 8},
	{"a version and SP alone", S("HTTP/1.1 \r\n\r\n"), HTTP1_ERR_STATUS, 9},
	{"two spaces after the version", S("HTTP/1.1  200 OK\r\n\r\n"),
	 HTTP1_ERR_STATUS, 9},
	{"a two-digit status", S("HTTP/1.1 20 OK\r\n\r\n"), HTTP1_ERR_STATUS,
	 11},
	{"a four-digit status", S("HTTP/1.1 2000 OK\r\n\r\n"), HTTP1_ERR_STATUS,
	 12},
	{"a status below 100", S("HTTP/1.1 099 OK\r\n\r\n"), HTTP1_ERR_STATUS,
	 9},
	{"a status of zeros", S("HTTP/1.1 000\r\n\r\n"), HTTP1_ERR_STATUS, 9},
	{"a signed status", S("HTTP/1.1 +200 OK\r\n\r\n"), HTTP1_ERR_STATUS, 9},
	{"a hex status", S("HTTP/1.1 0x1 OK\r\n\r\n"), HTTP1_ERR_STATUS, 10},
	{"letters for a status", S("HTTP/1.1 OK\r\n\r\n"), HTTP1_ERR_STATUS, 9},
	{"HTAB after the status", S("HTTP/1.1 200\tOK\r\n\r\n"),
	 HTTP1_ERR_STATUS_LINE, 12},
	{"a letter glued to the status", S("HTTP/1.1 200OK\r\n\r\n"),
	 HTTP1_ERR_STATUS_LINE, 12},
	{"a control byte in the reason", S("HTTP/1.1 200 O\x01K\r\n\r\n"),
	 HTTP1_ERR_CTL, 14},
	{"DEL in the reason", S("HTTP/1.1 200 OK\x7f\r\n\r\n"), HTTP1_ERR_CTL,
	 15},

	/* RFC 9112 §5: field lines, as for requests */
	{"obs-fold", S("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"),
	 HTTP1_ERR_OBS_FOLD, 23},
	{"space before the colon",
	 S("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"),
	 HTTP1_ERR_SPACE_BEFORE_COLON, 31},
	{"a field without a colon", S("HTTP/1.1 200 OK\r\nX\r\n\r\n"),
	 HTTP1_ERR_NO_COLON, 18},
	{"an empty field name", S("HTTP/1.1 200 OK\r\n: a\r\n\r\n"),
	 HTTP1_ERR_FIELD_NAME, 17},
	{"a control byte in a field value",
	 S("HTTP/1.1 200 OK\r\nA: \x1b\r\n\r\n"), HTTP1_ERR_FIELD_VALUE, 20},
	{"one field over the limit",
	 S("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
	 HTTP1_ERR_TOO_MANY_FIELDS, 41},

	/* limits: the error comes at the first byte past the limit */
	{"status line one byte over the limit",
	 S("HTTP/1.1 200 " A10 "aa\r\n\r\n"), HTTP1_ERR_LINE_TOO_LONG, 24},
	{"status line over the limit, head not complete",
	 S("HTTP/1.1 200 " A10 A10 A10), HTTP1_ERR_LINE_TOO_LONG, 24},
	{"head one byte over the limit",
	 S("HTTP/1.1 200 OK\r\nX: " A10 A10 A10 A10 A10 A10 A10 "aaa\r\n\r\n"),
	 HTTP1_ERR_HEAD_TOO_LARGE, 96},
	{"head over the limit, not complete",
	 S("HTTP/1.1 200 OK\r\nX: " A10 A10 A10 A10 A10 A10 A10 A10 A10),
	 HTTP1_ERR_HEAD_TOO_LARGE, 96},
	{"a long status line wins over a later NUL",
	 S("HTTP/1.1 200 " A10 A10 "\r\nA: \0\r\n\r\n"),
	 HTTP1_ERR_LINE_TOO_LONG, 24},
	{"a syntax error waits for the whole head",
	 S("HTTP/1.1 20x OK\r\nA: \x01\r\n\r\n"), HTTP1_ERR_STATUS, 11},
};

static void refuses_malformed_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct refuse_case *c = &refused[i];
		struct result r;

		parse_every_way(c->why, c->in, c->len, &r);
		if (r.rc != -1 || r.code != c->code || r.offset != c->offset)
			fail_msg("%s: rc %d code %d (%s) offset %zu, want code "
				 "%d offset %zu",
				 c->why, r.rc, r.code, http1_err_text(r.code),
				 r.offset, c->code, c->offset);
		assert_string_not_equal(http1_err_text(r.code),
					"malformed request");
	}
}

static const struct {
	const char *why;
	const char *in;
	size_t len;
} incomplete[] = {
	{"nothing yet", S("")},
	{"part of the version", S("HTTP/1.")},
	{"a status line without its CRLF", S("HTTP/1.1 200 OK")},
	{"a status line without the blank line", S("HTTP/1.1 200 OK\r\n")},
	{"a field without the blank line", S("HTTP/1.1 200 OK\r\nA: b\r\n")},
	{"the blank line's CR", S("HTTP/1.1 200 OK\r\n\r")},
	{"a bad status waits for the head", S("HTTP/1.1 2x0 OK\r\n")},
	{"an empty first line waits too", S("\r\n")},
};

static void needs_more_until_the_blank_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]);
	     i++) {
		struct result r;

		if (incomplete[i].len == 0) {
			struct http1_header h[MAX_FIELDS];
			struct http1_response res;
			struct http1_error err;
			assert_int_equal(http1_parse_response("", 0, 0, &limits,
							      h, &res, &err),
					 -2);
			continue;
		}
		parse_every_way(incomplete[i].why, incomplete[i].in,
				incomplete[i].len, &r);
		if (r.rc != -2)
			fail_msg("%s: rc %d code %d, want -2",
				 incomplete[i].why, r.rc, r.code);
	}
}

static void names_the_status_line_errors(void **state)
{
	(void)state;
	assert_string_equal(http1_err_text(HTTP1_ERR_STATUS_LINE),
			    "malformed status line");
	assert_string_equal(http1_err_text(HTTP1_ERR_STATUS),
			    "invalid status code");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_well_formed_heads),
		cmocka_unit_test(refuses_malformed_heads),
		cmocka_unit_test(needs_more_until_the_blank_line),
		cmocka_unit_test(names_the_status_line_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
