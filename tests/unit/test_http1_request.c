/*
 * test_http1_request.c - the strict request-head parser.
 *
 * Every case runs three ways: given whole, fed one byte at a time (each call
 * with prev_len = the previous len), and split in two at every point. The
 * parser must answer -2 until the byte that decides the head and then give
 * exactly what the whole input gives: same code, same offset, same slices.
 * Each call gets a heap copy of exactly len bytes, so ASan catches a read
 * past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_request.h"

/* Small limits, so that the cases at the limits stay readable. */
#define MAX_LINE   32
#define MAX_HEAD   128
#define MAX_FIELDS 4

static const struct http1_limits limits = {
	.max_line_bytes = MAX_LINE,
	.max_head_bytes = MAX_HEAD,
	.max_fields = MAX_FIELDS,
};

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

#define A10  "aaaaaaaaaa"
#define A100 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10

/* A parse result with slices as offsets, comparable across copies. */
struct result {
	int rc;
	enum http1_err code;
	size_t offset;
	size_t method, method_len, target, target_len;
	int minor_version;
	size_t num_headers;
	struct {
		size_t name, name_len, value, value_len;
	} headers[MAX_FIELDS];
};

static int parse_at(const char *in, size_t len, size_t prev_len,
		    struct result *out)
{
	char *buf = malloc(len);
	struct http1_header *headers = malloc(MAX_FIELDS * sizeof(*headers));
	struct http1_request req;
	struct http1_error err;

	assert_non_null(buf);
	assert_non_null(headers);
	memcpy(buf, in, len);
	memset(out, 0, sizeof(*out));
	out->rc = http1_parse_request(buf, len, prev_len, &limits, headers,
				      &req, &err);
	out->code = err.code;
	out->offset = err.offset;
	if (out->rc > 0) {
		out->method = (size_t)(req.method - buf);
		out->method_len = req.method_len;
		out->target = (size_t)(req.target - buf);
		out->target_len = req.target_len;
		out->minor_version = req.minor_version;
		out->num_headers = req.num_headers;
		assert_ptr_equal(req.headers, headers);
		assert_in_range(req.num_headers, 0, MAX_FIELDS);
		for (size_t i = 0; i < req.num_headers; i++) {
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
	if (got->method != want->method ||
	    got->method_len != want->method_len ||
	    got->target != want->target ||
	    got->target_len != want->target_len ||
	    got->minor_version != want->minor_version ||
	    got->num_headers != want->num_headers ||
	    memcmp(got->headers, want->headers, sizeof(got->headers)) != 0)
		fail_msg("%s, %s: slices differ from the whole parse", why,
			 how);
}

/*
 * Parses in whole, then fed byte by byte, then in two pieces split at every
 * point, and checks the three agree. Returns the whole result.
 */
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
	const char *want; /* "METHOD TARGET MINOR" then "|name=value" each */
};

/* clang-format off */
static const struct accept_case accepted[] = {
	{"a minimal origin-form request",
	 S("GET / HTTP/1.1\r\n\r\n"), 0, "GET / 1"},
	{"a CONNECT with Host",
	 S("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
	 0, "CONNECT example.com:443 1|Host=example.com:443"},
	{"HTTP/1.0",
	 S("GET http://a/ HTTP/1.0\r\n\r\n"), 0, "GET http://a/ 0"},
	{"every tchar in the method",
	 S("!#$%&'*+-.^_`|~09azAZ * HTTP/1.1\r\n\r\n"), 0,
	 "!#$%&'*+-.^_`|~09azAZ * 1"},
	{"every VCHAR class in the target",
	 S("GET /?%[]#\"<>{}\\|^`~ HTTP/1.1\r\n\r\n"), 0,
	 "GET /?%[]#\"<>{}\\|^`~ 1"},
	{"empty lines before the request line are ignored",
	 S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0, "GET / 1"},
	{"up to HTTP1_MAX_EMPTY_LINES of them",
	 S("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0, "GET / 1"},
	{"whitespace around a field value is trimmed",
	 S("GET / HTTP/1.1\r\nX: \t a \t b \t \r\n\r\n"), 0, "GET / 1|X=a \t b"},
	{"an empty field value",
	 S("GET / HTTP/1.1\r\nX:\r\nY: \r\n\r\n"), 0, "GET / 1|X=|Y="},
	{"obs-text in a field value",
	 S("GET / HTTP/1.1\r\nX: caf\xc3\xa9\xff\r\n\r\n"), 0,
	 "GET / 1|X=caf\xc3\xa9\xff"},
	{"a colon inside a field value",
	 S("GET / HTTP/1.1\r\nHost: a:80\r\n\r\n"), 0, "GET / 1|Host=a:80"},
	{"bytes after the head are not part of it",
	 S("GET / HTTP/1.1\r\n\r\nbody\0\n\r"), 7, "GET / 1"},
	{"exactly the field limit",
	 S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), 0,
	 "GET / 1|A=1|B=2|C=3|D=4"},
	{"a request line of exactly the line limit",
	 S("GET /" A10 "aaaaaaaa HTTP/1.1\r\n\r\n"), 0,
	 "GET /" A10 "aaaaaaaa 1"},
	{"the line limit does not count empty lines before it",
	 S("\r\n\r\nGET /" A10 "aaaaaaaa HTTP/1.1\r\n\r\n"), 0,
	 "GET /" A10 "aaaaaaaa 1"},
	{"a field line may be longer than the request-line limit",
	 S("GET / HTTP/1.1\r\nX: " A10 A10 A10 A10 "\r\n\r\n"), 0,
	 "GET / 1|X=" A10 A10 A10 A10},
	{"a head of exactly the head limit",
	 S("GET / HTTP/1.1\r\nX: " A100 "aaaaa\r\n\r\n"), 0,
	 "GET / 1|X=" A100 "aaaaa"},
};
/* clang-format on */

/* Renders a parsed head as "METHOD TARGET MINOR|name=value...". */
static void render(const char *in, const struct result *r, char *out,
		   size_t cap)
{
	size_t n = (size_t)snprintf(
		out, cap, "%.*s %.*s %d", (int)r->method_len, in + r->method,
		(int)r->target_len, in + r->target, r->minor_version);

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
	int status;
};

static const struct refuse_case refused[] = {
	/* RFC 9112 §2.2: line ends are CRLF, nothing else */
	{"bare LF ends the request line", S("GET / HTTP/1.1\n\r\n"),
	 HTTP1_ERR_BARE_LF, 14, 400},
	{"bare LF ends a field line", S("GET / HTTP/1.1\r\nA: b\n\r\n"),
	 HTTP1_ERR_BARE_LF, 20, 400},
	{"bare LF as the blank line", S("GET / HTTP/1.1\r\nA: b\r\n\n"),
	 HTTP1_ERR_BARE_LF, 22, 400},
	{"LF-only head", S("GET / HTTP/1.1\n\n"), HTTP1_ERR_BARE_LF, 14, 400},
	{"bare LF before the request line", S("\nGET / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_BARE_LF, 0, 400},
	{"bare LF after an ignored empty line",
	 S("\r\n\nGET / HTTP/1.1\r\n\r\n"), HTTP1_ERR_BARE_LF, 2, 400},
	{"bare CR inside the request line", S("GET /\ra HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_BARE_CR, 5, 400},
	{"CR CR LF", S("GET / HTTP/1.1\r\r\n\r\n"), HTTP1_ERR_BARE_CR, 14, 400},
	{"bare CR inside a field value", S("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"),
	 HTTP1_ERR_BARE_CR, 20, 400},
	{"bare CR before the request line", S("\rGET / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_BARE_CR, 0, 400},

	/* control bytes */
	{"NUL in the target", S("GET /\0 HTTP/1.1\r\n\r\n"), HTTP1_ERR_CTL, 5,
	 400},
	{"NUL in a field value", S("GET / HTTP/1.1\r\nA: \0\r\n\r\n"),
	 HTTP1_ERR_CTL, 19, 400},
	{"NUL refused before the head is complete", S("GET / HTTP/1.1\r\n\0"),
	 HTTP1_ERR_CTL, 16, 400},
	{"other control byte in the request line",
	 S("GET /\x01 HTTP/1.1\r\n\r\n"), HTTP1_ERR_CTL, 5, 400},
	{"control byte in a field value",
	 S("GET / HTTP/1.1\r\nA: \x1b\r\n\r\n"), HTTP1_ERR_FIELD_VALUE, 19,
	 400},
	{"DEL in a field value", S("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"),
	 HTTP1_ERR_FIELD_VALUE, 20, 400},

	/* RFC 9112 §3: method SP request-target SP HTTP-version */
	{"empty method", S(" / HTTP/1.1\r\n\r\n"), HTTP1_ERR_METHOD, 0, 400},
	{"non-token byte in the method", S("GE@T / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_METHOD, 2, 400},
	{"obs-text in the method", S("G\xc3\x89T / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_METHOD, 1, 400},
	{"HTAB after the method", S("GET\t/ HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_REQUEST_LINE, 3, 400},
	{"method alone", S("GET\r\n\r\n"), HTTP1_ERR_REQUEST_LINE, 3, 400},
	{"two spaces after the method", S("GET  / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_TARGET, 4, 400},
	{"HTAB in the target", S("GET /a\tb HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_TARGET, 6, 400},
	{"DEL in the target", S("GET /\x7f HTTP/1.1\r\n\r\n"), HTTP1_ERR_TARGET,
	 5, 400},
	{"obs-text in the target", S("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_TARGET, 5, 400},
	{"no version (HTTP/0.9 style)", S("GET /\r\n\r\n"),
	 HTTP1_ERR_REQUEST_LINE, 5, 400},
	{"empty version", S("GET / \r\n\r\n"), HTTP1_ERR_VERSION, 6, 400},
	{"space after the version", S("GET / HTTP/1.1 \r\n\r\n"),
	 HTTP1_ERR_VERSION, 6, 400},
	{"space inside the target", S("GET /a b HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_VERSION, 7, 400},
	{"lower-case version", S("GET / http/1.1\r\n\r\n"), HTTP1_ERR_VERSION,
	 6, 400},
	{"two-digit minor version", S("GET / HTTP/1.10\r\n\r\n"),
	 HTTP1_ERR_VERSION, 6, 400},
	{"version without minor", S("GET / HTTP/1\r\n\r\n"), HTTP1_ERR_VERSION,
	 6, 400},
	{"HTTP/2.0 is answered 505", S("GET / HTTP/2.0\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 6, 505},
	{"HTTP/1.2 is answered 505", S("GET / HTTP/1.2\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 6, 505},
	{"HTTP/0.9 is answered 505", S("GET / HTTP/0.9\r\n\r\n"),
	 HTTP1_ERR_VERSION_UNSUPPORTED, 6, 505},

	/* RFC 9112 §5: field lines */
	{"obs-fold (RFC 9112 §5.2)", S("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),
	 HTTP1_ERR_OBS_FOLD, 22, 400},
	{"obs-fold with HTAB", S("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"),
	 HTTP1_ERR_OBS_FOLD, 22, 400},
	{"whitespace before the first field",
	 S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), HTTP1_ERR_OBS_FOLD, 16, 400},
	{"space before the colon (RFC 9112 §5.1)",
	 S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), HTTP1_ERR_SPACE_BEFORE_COLON,
	 20, 400},
	{"HTAB before the colon", S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
	 HTTP1_ERR_SPACE_BEFORE_COLON, 20, 400},
	{"field line without a colon", S("GET / HTTP/1.1\r\nHost\r\n\r\n"),
	 HTTP1_ERR_NO_COLON, 20, 400},
	{"empty field name", S("GET / HTTP/1.1\r\n: a\r\n\r\n"),
	 HTTP1_ERR_FIELD_NAME, 16, 400},
	{"non-token byte in a field name",
	 S("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), HTTP1_ERR_FIELD_NAME, 18,
	 400},
	{"the first bad field is the one reported",
	 S("GET / HTTP/1.1\r\nA: 1\r\nB : 2\r\nC\r\n\r\n"),
	 HTTP1_ERR_SPACE_BEFORE_COLON, 23, 400},
	{"one field over the limit",
	 S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
	 HTTP1_ERR_TOO_MANY_FIELDS, 40, 431},

	/* limits: the error comes at the first byte past the limit */
	{"request line one byte over the limit",
	 S("GET /" A10 "aaaaaaaaa HTTP/1.1\r\n\r\n"), HTTP1_ERR_LINE_TOO_LONG,
	 32, 414},
	{"request line over the limit, head not complete",
	 S("GET /" A10 A10 A10 A10), HTTP1_ERR_LINE_TOO_LONG, 32, 414},
	{"line limit counted from after the empty lines",
	 S("\r\n\r\nGET /" A10 A10 A10 A10), HTTP1_ERR_LINE_TOO_LONG, 36, 414},
	{"head one byte over the limit",
	 S("GET / HTTP/1.1\r\nX: " A100 "aaaaaa\r\n\r\n"),
	 HTTP1_ERR_HEAD_TOO_LARGE, 128, 431},
	{"head over the limit, not complete",
	 S("GET / HTTP/1.1\r\nX: " A100 A10 A10 A10), HTTP1_ERR_HEAD_TOO_LARGE,
	 128, 431},
	{"more empty lines than HTTP1_MAX_EMPTY_LINES (4)",
	 S("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
	 HTTP1_ERR_REQUEST_LINE, 8, 400},
	{"a stream of empty lines is refused early",
	 S("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"),
	 HTTP1_ERR_REQUEST_LINE, 8, 400},

	/* with two errors, the one a byte-by-byte reader meets first wins */
	{"a long request line wins over a later NUL",
	 S("GET /" A10 A10 A10 " HTTP/1.1\r\nA: \0\r\n\r\n"),
	 HTTP1_ERR_LINE_TOO_LONG, 32, 414},
	{"a long request line wins over a large head",
	 S("GET /" A10 A10 A10
	   " HTTP/1.1\r\nX: " A10 A10 A10 A10 A10 A10 A10 A10 A10 "\r\n\r\n"),
	 HTTP1_ERR_LINE_TOO_LONG, 32, 414},
	{"a large head wins over a later NUL",
	 S("GET / HTTP/1.1\r\nX: " A100 A10 A10 "\0\r\n\r\n"),
	 HTTP1_ERR_HEAD_TOO_LARGE, 128, 431},
	{"a NUL inside the line limit wins over the long line",
	 S("GET /\0" A10 A10 A10 A10 " HTTP/1.1\r\n\r\n"), HTTP1_ERR_CTL, 5,
	 400},
	{"a syntax error waits for the whole head",
	 S("GE@T / HTTP/1.1\r\nA: \x01\r\n\r\n"), HTTP1_ERR_METHOD, 2, 400},
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
		assert_int_equal(http1_err_status(r.code), c->status);
	}
}

static const struct {
	const char *why;
	const char *in;
	size_t len;
} incomplete[] = {
	{"nothing yet", S("")},
	{"a CR waiting for its LF", S("\r")},
	{"only empty lines", S("\r\n\r\n")},
	{"an empty line and a CR", S("\r\n\r")},
	{"part of the request line", S("GET / HT")},
	{"request line without its blank line", S("GET / HTTP/1.1\r\n")},
	{"a field without its blank line", S("GET / HTTP/1.1\r\nA: b\r\n")},
	{"the blank line's CR", S("GET / HTTP/1.1\r\n\r")},
	{"a bad method waits for the head", S("GE@T / HTTP/1.1\r\n")},
	{"a request line at the limit", S("GET /" A10 "aaaaaaaa HTTP/1.1\r\n")},
	{"a head one byte short of the limit",
	 S("GET / HTTP/1.1\r\nX: " A100 "aaaaa\r\n\r")},
};

static void needs_more_until_the_blank_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]);
	     i++) {
		struct result r;

		if (incomplete[i].len == 0) {
			struct http1_header h[MAX_FIELDS];
			struct http1_request req;
			struct http1_error err;
			assert_int_equal(http1_parse_request("", 0, 0, &limits,
							     h, &req, &err),
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

/*
 * The scan and the field-value check pass eight bytes at a time over words
 * with nothing to see. These heads put the bytes they must stop at (and
 * their neighbours in value) at every alignment, and hold the parser to
 * what a plain byte loop decides.
 */
#define HEAD_START "GET / HTTP/1.1\r\nX: "

static uint32_t next_random(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* A random head in buf[MAX_HEAD]: HEAD_START, *n bytes (as many as fit,
 * at most) from alphabet, CRLF CRLF. Returns its length. */
static size_t random_head(char *buf, uint32_t *seed, const char *alphabet,
			  size_t alphabet_len, size_t *n)
{
	size_t len = sizeof(HEAD_START) - 1;

	*n = next_random(seed) % (MAX_HEAD - len - 4 + 1);
	memcpy(buf, HEAD_START, len);
	for (size_t i = 0; i < *n; i++)
		buf[len++] = alphabet[next_random(seed) % alphabet_len];
	memcpy(buf + len, "\r\n\r\n", 4);
	return len + 4;
}

/* The scan as a byte loop: the head length, or -1 with the first NUL,
 * bare CR or bare LF (no leading empty lines: the heads have none). */
static int scan_bytewise(const char *b, size_t len, enum http1_err *code,
			 size_t *offset)
{
	for (size_t i = 0; i < len; i++) {
		*offset = i;
		if (b[i] == '\0') {
			*code = HTTP1_ERR_CTL;
			return -1;
		}
		if (b[i] == '\r' && (i + 1 == len || b[i + 1] != '\n')) {
			*code = HTTP1_ERR_BARE_CR;
			return i + 1 == len ? -2 : -1;
		}
		if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r')) {
			*code = HTTP1_ERR_BARE_LF;
			return -1;
		}
		if (b[i] == '\n' && i >= 3 && b[i - 2] == '\n' &&
		    b[i - 3] == '\r')
			return (int)(i + 1);
	}
	return -2;
}

static void scan_agrees_with_a_byte_loop(void **state)
{
	static const char alphabet[] = {'a', ' ', '\t', '\r', '\n', '\0',
					'a', 'b', 'c',	'd',  'e',  'f'};
	uint32_t seed = 1;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		char in[MAX_HEAD];
		size_t n;
		size_t len =
			random_head(in, &seed, alphabet, sizeof(alphabet), &n);
		enum http1_err code = HTTP1_ERR_NONE;
		size_t offset = 0;
		int want = scan_bytewise(in, len, &code, &offset);
		struct result r;

		parse_every_way("a random head", in, len, &r);
		if (want == -1 &&
		    (r.rc != -1 || r.code != code || r.offset != offset))
			fail_msg(
				"round %d: rc %d code %d at %zu, the byte loop "
				"says code %d at %zu",
				round, r.rc, r.code, r.offset, code, offset);
		if (want > 0 && r.rc != want &&
		    (r.rc != -1 || r.code == HTTP1_ERR_CTL ||
		     r.code == HTTP1_ERR_BARE_CR ||
		     r.code == HTTP1_ERR_BARE_LF || r.offset >= (size_t)want))
			fail_msg(
				"round %d: rc %d code %d at %zu, the byte loop "
				"ends the head at %d",
				round, r.rc, r.code, r.offset, want);
	}
}

static void field_values_agree_with_a_byte_loop(void **state)
{
	/* no CR, LF or NUL: the line is one field value */
	static const char alphabet[] = {
		'\x01', '\x08', '\t',	'\x0b', '\x0e', '\x1f', ' ', '!',
		'a',	'~',	'\x7f', '\x80', '\xfe', '\xff', 'a', 'b',
		'c',	'd',	'e',	'f',	'g',	'h',	'i', ' '};
	const size_t start = sizeof(HEAD_START) - 1;
	uint32_t seed = 7;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		char in[MAX_HEAD];
		size_t n;
		size_t len =
			random_head(in, &seed, alphabet, sizeof(alphabet), &n);
		size_t bad = start, v = start, v_end = start + n;
		struct result r;

		while (bad < start + n &&
		       (in[bad] == '\t' ||
			((unsigned char)in[bad] >= 0x20 && in[bad] != 0x7f)))
			bad++;
		parse_every_way("a random field value", in, len, &r);
		if (bad < start + n) {
			if (r.rc != -1 || r.code != HTTP1_ERR_FIELD_VALUE ||
			    r.offset != bad)
				fail_msg("round %d: rc %d code %d at %zu, want "
					 "an invalid value at %zu",
					 round, r.rc, r.code, r.offset, bad);
			continue;
		}
		while (v < v_end && (in[v] == ' ' || in[v] == '\t'))
			v++;
		while (v_end > v &&
		       (in[v_end - 1] == ' ' || in[v_end - 1] == '\t'))
			v_end--;
		if (r.rc != (int)len || r.num_headers != 1 ||
		    r.headers[0].value != v ||
		    r.headers[0].value_len != v_end - v)
			fail_msg("round %d: rc %d, value at %zu (%zu bytes), "
				 "want "
				 "%zu (%zu bytes)",
				 round, r.rc, r.headers[0].value,
				 r.headers[0].value_len, v, v_end - v);
	}
}

static void maps_each_error_to_its_status(void **state)
{
	static const struct {
		enum http1_err code;
		int status;
	} cases[] = {
		{HTTP1_ERR_BARE_LF, 400},
		{HTTP1_ERR_BARE_CR, 400},
		{HTTP1_ERR_CTL, 400},
		{HTTP1_ERR_METHOD, 400},
		{HTTP1_ERR_TARGET, 400},
		{HTTP1_ERR_REQUEST_LINE, 400},
		{HTTP1_ERR_VERSION, 400},
		{HTTP1_ERR_VERSION_UNSUPPORTED, 505},
		{HTTP1_ERR_FIELD_NAME, 400},
		{HTTP1_ERR_SPACE_BEFORE_COLON, 400},
		{HTTP1_ERR_NO_COLON, 400},
		{HTTP1_ERR_OBS_FOLD, 400},
		{HTTP1_ERR_FIELD_VALUE, 400},
		{HTTP1_ERR_TOO_MANY_FIELDS, 431},
		{HTTP1_ERR_LINE_TOO_LONG, 414},
		{HTTP1_ERR_HEAD_TOO_LARGE, 431},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = http1_err_text(cases[i].code);

		assert_int_equal(http1_err_status(cases[i].code),
				 cases[i].status);
		assert_non_null(text);
		assert_true(strlen(text) > 0);
		assert_string_not_equal(text, "malformed request");
	}
}

static void compares_field_names_without_case(void **state)
{
	static const struct {
		const char *name;
		const char *lit;
		int want;
	} cases[] = {
		{"Host", "host", 1},
		{"HOST", "host", 1},
		{"host", "HoSt", 1},
		{"Proxy-Authorization", "proxy-authorization", 1},
		{"Hos", "host", 0},
		{"Hostx", "host", 0},
		{"", "", 1},
		{"", "host", 0},
		{"Hos[", "hos{", 0}, /* '[' + 32 is '{': only letters fold */
		{"Content-Length", "content_length", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = http1_name_eq(cases[i].name, strlen(cases[i].name),
					cases[i].lit);
		if (got != cases[i].want)
			fail_msg("'%s' vs '%s': %d, want %d", cases[i].name,
				 cases[i].lit, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_well_formed_heads),
		cmocka_unit_test(refuses_malformed_heads),
		cmocka_unit_test(needs_more_until_the_blank_line),
		cmocka_unit_test(scan_agrees_with_a_byte_loop),
		cmocka_unit_test(field_values_agree_with_a_byte_loop),
		cmocka_unit_test(maps_each_error_to_its_status),
		cmocka_unit_test(compares_field_names_without_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
