/*
 * fuzz_http1_response_head.c - the response-head parser on arbitrary
 * bytes, and what sluice makes of a head it accepts.
 *
 * Checks the parser's contract as fuzz_http1_request.c does: slices lie
 * inside the head, the head ends in CRLF CRLF and fits the limits, the
 * status is three digits from 100, the reason holds no control byte, errors
 * carry a code and an offset inside the input, and the answer is the same
 * whole, one byte at a time (prev_len) or in two pieces, with everything
 * past len poisoned. Then, for an accepted head, the framing rules and the
 * response writer: the head we write for the client parses back, keeps the
 * status, carries no hop-by-hop field but ours, and frames the body as we
 * will send it; a buffer one byte short gets 0. abort() on any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "http/http1_framing.h"
#include "http/http1_response_head.h"
#include "http/http1_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 100
#define OUT_MAX	   (70 * 1024)

/* Small limits reach the line and head limits; the others are sluice's. */
static const struct http1_limits limit_sets[] = {
	{.max_line_bytes = 40, .max_head_bytes = 200, .max_fields = 6},
	{.max_line_bytes = 8192, .max_head_bytes = 65536, .max_fields = 100},
};

/* A result with slices as offsets, so parses of copies compare equal. */
struct result {
	int rc;
	enum http1_err code;
	size_t offset;
	int minor_version, status;
	size_t reason, reason_len;
	size_t num_headers;
	size_t fields[MAX_FIELDS][4];
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool named(const struct http1_header *h, const char *name)
{
	return http1_name_eq(h->name, h->name_len, name);
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

static void check_fields(const char *buf, size_t head,
			 const struct http1_header *headers, size_t n,
			 struct result *r)
{
	for (size_t i = 0; i < n; i++) {
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

static void parse(const char *buf, size_t len, size_t prev_len,
		  const struct http1_limits *lim, struct http1_header *headers,
		  struct http1_response *res, struct result *r)
{
	struct http1_error err;

	memset(r, 0, sizeof(*r));
	r->rc = http1_parse_response(buf, len, prev_len, lim, headers, res,
				     &err);
	if (r->rc == -2) {
		check(len < lim->max_head_bytes);
		return;
	}
	if (r->rc == -1) {
		check(err.code != HTTP1_ERR_NONE);
		check(err.offset <= len);
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
	check(memcmp(buf, "HTTP/1.", 7) == 0);

	check(res->minor_version == 0 || res->minor_version == 1);
	r->minor_version = res->minor_version;
	check(res->status >= 100 && res->status <= 999);
	r->status = res->status;
	r->reason = slice(buf, head, res->reason, res->reason_len);
	r->reason_len = res->reason_len;
	check(r->reason >= 12 &&
	      r->reason + r->reason_len <= lim->max_line_bytes);
	for (size_t i = 0; i < res->reason_len; i++) {
		unsigned char c = (unsigned char)res->reason[i];
		check(c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	check(res->headers == headers);
	check(res->num_headers <= lim->max_fields);
	r->num_headers = res->num_headers;
	check_fields(buf, head, headers, res->num_headers, r);
}

static void check_same(const struct result *a, const struct result *b)
{
	check(a->rc == b->rc && a->code == b->code && a->offset == b->offset);
	check(a->minor_version == b->minor_version && a->status == b->status);
	check(a->reason == b->reason && a->reason_len == b->reason_len);
	check(a->num_headers == b->num_headers);
	check(memcmp(a->fields, b->fields,
		     a->num_headers * sizeof(a->fields[0])) == 0);
}

/* Feeds data one byte more per call, as a slow origin would. */
static void check_byte_by_byte(const char *data, size_t size,
			       const struct http1_limits *lim,
			       const struct result *whole)
{
	static struct http1_header headers[MAX_FIELDS];
	char *buf = malloc(size);
	struct http1_response res;
	struct result r;
	size_t k;

	check(buf != NULL);
	memcpy(buf, data, size);
	ASAN_POISON_MEMORY_REGION(buf, size);
	for (k = 1; k <= size; k++) {
		ASAN_UNPOISON_MEMORY_REGION(buf + k - 1, 1);
		parse(buf, k, k - 1, lim, headers, &res, &r);
		if (r.rc != -2)
			break;
	}
	check_same(&r, whole);
	if (whole->rc > 0)
		check(k == (size_t)whole->rc);
	ASAN_UNPOISON_MEMORY_REGION(buf, size);
	free(buf);
}

static void check_split(const char *data, size_t size, size_t split,
			const struct http1_limits *lim,
			const struct result *whole)
{
	static struct http1_header headers[MAX_FIELDS];
	struct http1_response res;
	struct result r;

	parse(data, split, 0, lim, headers, &res, &r);
	if (r.rc == -2)
		parse(data, size, split, lim, headers, &res, &r);
	check_same(&r, whole);
}

/* What the client reads from our head: the framing we meant. */
static enum http1_body body_sent(const struct http1_response_out *o)
{
	if (o->info->body == HTTP1_BODY_CHUNKED && o->client_minor_version == 0)
		return HTTP1_BODY_CLOSE;
	if (o->info->body == HTTP1_BODY_CLOSE && o->chunk_it)
		return HTTP1_BODY_CHUNKED;
	return o->info->body;
}

static void check_written(const struct http1_response *res, const char *method,
			  const struct http1_response_out *o)
{
	static char out[OUT_MAX];
	/* room for the fields we add: framing, Via, Connection, Upgrade */
	static struct http1_header back_h[MAX_FIELDS + 8];
	static const struct http1_limits big = {
		.max_line_bytes = OUT_MAX,
		.max_head_bytes = OUT_MAX,
		.max_fields = MAX_FIELDS + 8,
	};
	struct http1_response back;
	struct http1_response_info info;
	struct http1_error err;
	size_t n = http1_write_response_head(out, sizeof(out), o);

	if (n == 0)
		return; /* more fields than fit: the caller answers 502 */
	check(n <= sizeof(out));
	check(http1_parse_response(out, n, 0, &big, back_h, &back, &err) ==
	      (int)n);
	check(back.minor_version == 1 && back.status == res->status);
	check(back.reason_len == res->reason_len &&
	      memcmp(back.reason, res->reason, res->reason_len) == 0);
	check(http1_response_framing(&back, method, strlen(method), &info) ==
	      HTTP1_FRAMING_OK);
	check(info.body == body_sent(o));
	if (info.body == HTTP1_BODY_LENGTH)
		check(info.content_length == o->info->content_length);
	for (size_t i = 0; i < back.num_headers; i++) {
		const struct http1_header *h = &back_h[i];
		/* ours: the origin may name Content-Length in Connection */
		if (http1_name_eq(h->name, h->name_len, "connection") ||
		    http1_name_eq(h->name, h->name_len, "transfer-encoding") ||
		    http1_name_eq(h->name, h->name_len, "content-length") ||
		    http1_name_eq(h->name, h->name_len, "via") ||
		    (res->status == 101 &&
		     http1_name_eq(h->name, h->name_len, "upgrade")))
			continue;
		check(!http1_is_hop_by_hop(res->headers, res->num_headers,
					   h->name, h->name_len));
		/* a field named like an option we send ("close") is one
		 * the next hop may take for hop-by-hop: harmless */
		if (!named(h, "close") && !named(h, "upgrade") &&
		    !named(h, "keep-alive"))
			check(!http1_is_hop_by_hop(back_h, back.num_headers,
						   h->name, h->name_len));
	}
	check(http1_write_response_head(out, n - 1, o) == 0);
}

static void check_framing(const struct http1_response *res, uint8_t pick)
{
	static const char *const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
	const char *method = methods[pick % 4];
	struct http1_response_info info;
	enum http1_framing_err err;

	err = http1_response_framing(res, method, strlen(method), &info);
	check(http1_framing_strerror(err) != NULL);
	if (err != HTTP1_FRAMING_OK) {
		check(err == HTTP1_FRAMING_BAD_LENGTH ||
		      err == HTTP1_FRAMING_LENGTH_MISMATCH ||
		      err == HTTP1_FRAMING_TE_IN_HTTP10 ||
		      err == HTTP1_FRAMING_TE_NOT_CHUNKED);
		return;
	}
	check(info.body >= HTTP1_BODY_NONE && info.body <= HTTP1_BODY_CLOSE);
	if (info.body == HTTP1_BODY_CLOSE)
		check(info.conn.close);
	for (int minor = 0; minor <= 1; minor++) {
		struct http1_response_out o = {
			.res = res,
			.info = &info,
			.client_minor_version = minor,
			.via = (pick & 4) ? "1.1 sluice" : NULL,
			.close = (pick & 8) != 0 || minor == 0,
			.chunk_it = minor == 1 && (pick & 16) != 0,
		};
		check_written(res, method, &o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http1_header headers[MAX_FIELDS];
	const char *in = (const char *)data;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < sizeof(limit_sets) / sizeof(limit_sets[0]);
	     i++) {
		const struct http1_limits *lim = &limit_sets[i];
		struct http1_response res;
		struct result whole;

		parse(in, size, 0, lim, headers, &res, &whole);
		if (whole.rc > 0)
			check_framing(&res, (uint8_t)(size + data[size / 2]));
		check_byte_by_byte(in, size, lim, &whole);
		check_split(in, size, size / 2 + 1, lim, &whole);
		check_split(in, size, 1 + data[0] % size, lim, &whole);
	}
	return 0;
}
