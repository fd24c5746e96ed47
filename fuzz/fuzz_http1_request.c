/*
 * fuzz_http1_request.c - the request-head parser on arbitrary bytes.
 *
 * Beyond "does not crash", checks the contract: slices lie inside the head,
 * the head ends in CRLF CRLF and fits the limits, errors carry a code and
 * an offset inside the input, and the answer is the same whether the input
 * comes whole, one byte at a time (prev_len = the previous len) or in two
 * pieces. The byte-by-byte copy has everything past len poisoned, so ASan
 * catches a read beyond what the caller gave. abort() on any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "http/http1_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 100

/* Small limits reach the 414 and 431 paths; the others are sluice's own. */
static const struct http1_limits limit_sets[] = {
	{.max_line_bytes = 40, .max_head_bytes = 200, .max_fields = 6},
	{.max_line_bytes = 8192, .max_head_bytes = 65536, .max_fields = 100},
};

/* A result with slices as offsets, so parses of copies compare equal. */
struct result {
	int rc;
	enum http1_err code;
	size_t offset;
	size_t method, method_len, target, target_len;
	int minor_version;
	size_t num_headers;
	size_t fields[MAX_FIELDS][4];
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A slice [p, p+n) must lie inside [buf, buf+len). */
static size_t slice(const char *buf, size_t len, const char *p, size_t n)
{
	check(p >= buf && n <= len && (size_t)(p - buf) <= len - n);
	return (size_t)(p - buf);
}

static void parse(const char *buf, size_t len, size_t prev_len,
		  const struct http1_limits *lim, struct result *r)
{
	struct http1_header headers[MAX_FIELDS];
	struct http1_request req;
	struct http1_error err;

	memset(r, 0, sizeof(*r));
	r->rc = http1_parse_request(buf, len, prev_len, lim, headers, &req,
				    &err);
	if (r->rc == -2) {
		check(len < lim->max_head_bytes);
		return;
	}
	if (r->rc == -1) {
		int status = http1_err_status(err.code);
		check(err.code != HTTP1_ERR_NONE);
		check(err.offset <= len);
		check(status == 400 || status == 414 || status == 431 ||
		      status == 505);
		check(http1_err_text(err.code) != NULL);
		r->code = err.code;
		r->offset = err.offset;
		return;
	}
	check(r->rc > 0);

	size_t head = (size_t)r->rc;
	check(head <= len && head >= 4);
	check(head <= lim->max_head_bytes);
	check(memcmp(buf + head - 4, "\r\n\r\n", 4) == 0);
	check(memchr(buf, '\0', head) == NULL);

	r->method = slice(buf, head, req.method, req.method_len);
	r->method_len = req.method_len;
	check(req.method_len > 0);
	for (size_t i = 0; i < req.method_len; i++)
		check(is_tchar((unsigned char)req.method[i]));
	r->target = slice(buf, head, req.target, req.target_len);
	r->target_len = req.target_len;
	check(req.target_len > 0 && req.target_len <= lim->max_line_bytes);
	for (size_t i = 0; i < req.target_len; i++) {
		unsigned char c = (unsigned char)req.target[i];
		check(c > 0x20 && c < 0x7f);
	}
	check(req.minor_version == 0 || req.minor_version == 1);
	r->minor_version = req.minor_version;
	check(req.headers == headers);
	check(req.num_headers <= lim->max_fields);
	r->num_headers = req.num_headers;
	for (size_t i = 0; i < req.num_headers; i++) {
		const struct http1_header *h = &headers[i];
		r->fields[i][0] = slice(buf, head, h->name, h->name_len);
		r->fields[i][1] = h->name_len;
		r->fields[i][2] = slice(buf, head, h->value, h->value_len);
		r->fields[i][3] = h->value_len;
		check(h->name_len > 0);
		for (size_t j = 0; j < h->name_len; j++)
			check(is_tchar((unsigned char)h->name[j]));
		if (h->value_len > 0) {
			char first = h->value[0];
			char last = h->value[h->value_len - 1];
			check(first != ' ' && first != '\t');
			check(last != ' ' && last != '\t');
			check(memchr(h->value, '\r', h->value_len) == NULL);
			check(memchr(h->value, '\n', h->value_len) == NULL);
		}
	}
}

static void check_same(const struct result *a, const struct result *b)
{
	check(a->rc == b->rc && a->code == b->code && a->offset == b->offset);
	check(a->method == b->method && a->method_len == b->method_len);
	check(a->target == b->target && a->target_len == b->target_len);
	check(a->minor_version == b->minor_version);
	check(a->num_headers == b->num_headers);
	check(memcmp(a->fields, b->fields,
		     a->num_headers * sizeof(a->fields[0])) == 0);
}

/* Feeds data one byte more per call, as a slow client would. */
static void check_byte_by_byte(const char *data, size_t size,
			       const struct http1_limits *lim,
			       const struct result *whole)
{
	char *buf = malloc(size);
	struct result r;
	size_t k;

	check(buf != NULL);
	memcpy(buf, data, size);
	ASAN_POISON_MEMORY_REGION(buf, size);
	for (k = 1; k <= size; k++) {
		ASAN_UNPOISON_MEMORY_REGION(buf + k - 1, 1);
		parse(buf, k, k - 1, lim, &r);
		if (r.rc != -2)
			break;
	}
	check_same(&r, whole);
	if (whole->rc > 0)
		check(k == (size_t)whole->rc);
	ASAN_UNPOISON_MEMORY_REGION(buf, size);
	free(buf);
}

/* Any prefix that is decided is decided as the whole is; else resumes. */
static void check_split(const char *data, size_t size, size_t split,
			const struct http1_limits *lim,
			const struct result *whole)
{
	struct result r;

	parse(data, split, 0, lim, &r);
	if (r.rc == -2)
		parse(data, size, split, lim, &r);
	check_same(&r, whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < sizeof(limit_sets) / sizeof(limit_sets[0]);
	     i++) {
		const struct http1_limits *lim = &limit_sets[i];
		struct result whole;

		parse(in, size, 0, lim, &whole);
		check_byte_by_byte(in, size, lim, &whole);
		check_split(in, size, size / 2 + 1, lim, &whole);
		check_split(in, size, 1 + data[0] % size, lim, &whole);
	}
	return 0;
}
