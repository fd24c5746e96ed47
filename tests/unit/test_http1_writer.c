/*
 * test_http1_writer.c - the heads sluice sends on.
 *
 * Each case goes through the real pipeline: parse what the peer sent,
 * frame it, write it, and compare with the exact bytes wanted. Then every
 * output is parsed back and checked: it is one valid head, no hop-by-hop
 * field of the input survives, the framing the next hop reads is the one
 * we meant, and every buffer one byte too small gets 0 (never a cut head)
 * without a write past its end (each buffer is a heap block of exactly its
 * size, for ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_writer.h"

#define MAX_FIELDS 24
#define OUT_MAX	   2048

static const struct http1_limits limits = {
	.max_line_bytes = 1024,
	.max_head_bytes = OUT_MAX,
	.max_fields = MAX_FIELDS,
};

#define VIA "1.1 sluice"

struct request_case {
	const char *why;
	const char *head; /* from the client */
	const char *via;
	const char *forwarded_for;
	bool close;
	const char *want; /* to the origin */
};

/* clang-format off */
static const struct request_case requests[] = {
	{"origin-form from the target, fields in order, Via added",
	 "GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\n"
	 "User-Agent: t\r\nAccept: */*\r\n\r\n", VIA, NULL, false,
	 "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
	 "Accept: */*\r\nVia: 1.1 sluice\r\n\r\n"},
	{"Host comes from the target, not from the client (RFC 9112 §3.2.2)",
	 "GET http://a:8080/ HTTP/1.1\r\nX: 1\r\nHost: other.example\r\n\r\n",
	 VIA, NULL, false,
	 "GET / HTTP/1.1\r\nHost: a:8080\r\nX: 1\r\nVia: 1.1 sluice\r\n\r\n"},
	{"an empty path with a query becomes \"/?query\"",
	 "GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n", VIA, NULL, false,
	 "GET /?x HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n\r\n"},
	{"OPTIONS with an empty path asks the server itself: \"*\" "
	 "(RFC 9112 §3.2.4)",
	 "OPTIONS http://a:81 HTTP/1.1\r\nHost: a:81\r\n\r\n", VIA, NULL, false,
	 "OPTIONS * HTTP/1.1\r\nHost: a:81\r\nVia: 1.1 sluice\r\n\r\n"},
	{"OPTIONS with a path or a query keeps them",
	 "OPTIONS http://a/?x HTTP/1.1\r\nHost: a\r\n\r\n", VIA, NULL, false,
	 "OPTIONS /?x HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n\r\n"},
	{"OPTIONS with only a query keeps \"/?query\"",
	 "OPTIONS http://a?x HTTP/1.1\r\nHost: a\r\n\r\n", VIA, NULL, false,
	 "OPTIONS /?x HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n\r\n"},
	{"the method as received",
	 "PROPFIND http://a/d/ HTTP/1.1\r\nHost: a\r\nDepth: 1\r\n\r\n", VIA,
	 NULL, false,
	 "PROPFIND /d/ HTTP/1.1\r\nHost: a\r\nDepth: 1\r\nVia: 1.1 sluice\r\n"
	 "\r\n"},
	{"an HTTP/1.0 request goes on as HTTP/1.1 with a Host",
	 "GET http://a/ HTTP/1.0\r\nAccept: */*\r\n\r\n", VIA, NULL, true,
	 "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nVia: 1.1 sluice\r\n"
	 "Connection: close\r\n\r\n"},
	{"hop-by-hop fields are dropped, those Connection names too",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\n"
	 "Connection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n"
	 "X-Hop: secret\r\nProxy-Connection: keep-alive\r\n"
	 "Proxy-Authorization: Basic dTpw\r\nTE: trailers\r\n"
	 "Trailer: X-T\r\nUpgrade: h2c\r\nX-End: 1\r\n\r\n", VIA, NULL, false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-End: 1\r\nVia: 1.1 sluice\r\n\r\n"},
	{"every field Connection names goes, in any case, however often",
	 "GET http://a/ HTTP/1.1\r\nb: 1\r\nHost: a\r\nB: 2\r\nc: 3\r\n"
	 "Connection: b,,B , b\r\nbb: 4\r\nConnection: zz, B\r\nd: 5\r\n"
	 "\r\n", VIA, NULL, false,
	 "GET / HTTP/1.1\r\nHost: a\r\nc: 3\r\nbb: 4\r\nd: 5\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"a Via or X-Forwarded-For the client named in Connection goes",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: via, x-forwarded-for"
	 "\r\nVia: 1.0 inner\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n", VIA,
	 "192.0.2.9", false,
	 "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n"
	 "X-Forwarded-For: 192.0.2.9\r\n\r\n"},
	{"Via values are combined and ours appended (RFC 9110 §7.6.3)",
	 "GET http://a/ HTTP/1.1\r\nVia: 1.0 fred\r\nHost: a\r\n"
	 "Via: 1.1 p.example, 1.1 q\r\nVia:\r\n\r\n", VIA, NULL, false,
	 "GET / HTTP/1.1\r\nHost: a\r\n"
	 "Via: 1.0 fred, 1.1 p.example, 1.1 q, 1.1 sluice\r\n\r\n"},
	{"without our Via entry the received ones stay as they were",
	 "GET http://a/ HTTP/1.1\r\nVia: 1.0 fred\r\nHost: a\r\n\r\n", NULL,
	 NULL, false,
	 "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.0 fred\r\n\r\n"},
	{"X-Forwarded-For appended after Via",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.1\r\n"
	 "x-forwarded-for: 192.0.2.2\r\n\r\n", VIA, "198.51.100.7", false,
	 "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n"
	 "X-Forwarded-For: 192.0.2.1, 192.0.2.2, 198.51.100.7\r\n\r\n"},
	{"X-Forwarded-For added when there was none",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", VIA, "2001:db8::1",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n"
	 "X-Forwarded-For: 2001:db8::1\r\n\r\n"},
	{"X-Forwarded-For copied as it was when not asked",
	 "GET http://a/ HTTP/1.1\r\nX-Forwarded-For: 192.0.2.1\r\nHost: a\r\n"
	 "\r\n", VIA, NULL, false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.1\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"Content-Length restated once",
	 "POST http://a/ HTTP/1.1\r\nContent-Length: 5, 5\r\nHost: a\r\n"
	 "Content-Length: 005\r\nContent-Type: text/plain\r\n\r\n", VIA, NULL,
	 false,
	 "POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
	 "Content-Length: 5\r\nVia: 1.1 sluice\r\n\r\n"},
	{"Content-Length 0 restated",
	 "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", VIA,
	 NULL, false,
	 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"chunked restated in one spelling",
	 "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,Chunked\r\n"
	 "\r\n", VIA, NULL, false,
	 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"Expect is end-to-end",
	 "PUT http://a/f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	 "Content-Length: 3\r\n\r\n", VIA, NULL, false,
	 "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	 "Content-Length: 3\r\nVia: 1.1 sluice\r\n\r\n"},
	{"an HTTP/1.0 client's Expect stays ignored (RFC 9110 §10.1.1)",
	 "PUT http://a/f HTTP/1.0\r\nExpect: 100-continue\r\n"
	 "Content-Length: 3\r\n\r\n", VIA, NULL, true,
	 "PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	 "Via: 1.1 sluice\r\nConnection: close\r\n\r\n"},
	{"an empty field value",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", VIA, NULL,
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nVia: 1.1 sluice\r\n\r\n"},
	{"a WebSocket handshake keeps its upgrade",
	 "GET http://a/chat HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
	 "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: k==\r\n"
	 "Sec-WebSocket-Version: 13\r\n\r\n", VIA, NULL, false,
	 "GET /chat HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k==\r\n"
	 "Sec-WebSocket-Version: 13\r\nVia: 1.1 sluice\r\n"
	 "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"},
	{"a WebSocket handshake we close after",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	 "Connection: Upgrade\r\n\r\n", VIA, NULL, true,
	 "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n"
	 "Connection: upgrade, close\r\nUpgrade: websocket\r\n\r\n"},
	{"an Upgrade that is no WebSocket handshake is dropped",
	 "POST http://a/ HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	 "Connection: Upgrade\r\n\r\n", VIA, NULL, false,
	 "POST / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n\r\n"},
	{"the client's close is not passed on, ours is",
	 "GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", VIA,
	 NULL, false, "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 sluice\r\n\r\n"},
};
/* clang-format on */

struct response_case {
	const char *why;
	const char *method;
	int client_minor_version;
	const char *head; /* from the origin */
	const char *via;
	bool close, chunk_it;
	const char *want; /* to the client */
};

/* clang-format off */
static const struct response_case responses[] = {
	{"a length restated, fields in order, Via added", "GET", 1,
	 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
	 "ETag: \"x\"\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"x\"\r\n"
	 "Content-Length: 5\r\nVia: 1.1 sluice\r\n\r\n"},
	{"an HTTP/1.0 origin's response goes on as HTTP/1.1", "GET", 1,
	 "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n", VIA, false,
	 false,
	 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nVia: 1.1 sluice\r\n"
	 "\r\n"},
	{"equal lengths restated once", "GET", 1,
	 "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\ncontent-length: 7\r\n\r\n",
	 VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nVia: 1.1 sluice\r\n\r\n"},
	{"an empty reason", "GET", 1, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	 VIA, false, false,
	 "HTTP/1.1 200 \r\nContent-Length: 0\r\nVia: 1.1 sluice\r\n\r\n"},
	{"chunked with a length: the length goes", "GET", 1,
	 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked"
	 "\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVia: 1.1 sluice\r\n"
	 "\r\n"},
	{"the codings before chunked are kept, normalised", "GET", 1,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n"
	 "Transfer-Encoding: ,Chunked\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"a close-delimited body chunked by us", "GET", 1,
	 "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n\r\n", VIA, false, true,
	 "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nTransfer-Encoding: chunked\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"a close-delimited gzip body chunked by us", "GET", 1,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", VIA, false, true,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
	 "Via: 1.1 sluice\r\n\r\n"},
	{"a close-delimited body passed on, and we close", "GET", 1,
	 "HTTP/1.1 200 OK\r\n\r\n", VIA, true, false,
	 "HTTP/1.1 200 OK\r\nVia: 1.1 sluice\r\nConnection: close\r\n\r\n"},
	{"a close-delimited gzip body keeps its coding", "GET", 1,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", VIA, true,
	 false,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nVia: 1.1 sluice\r\n"
	 "Connection: close\r\n\r\n"},
	{"no Transfer-Encoding to an HTTP/1.0 client", "GET", 0,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", VIA, true,
	 false,
	 "HTTP/1.1 200 OK\r\nVia: 1.1 sluice\r\nConnection: close\r\n\r\n"},
	{"keep-alive to an HTTP/1.0 client we keep", "GET", 0,
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 sluice\r\n"
	 "Connection: keep-alive\r\n\r\n"},
	{"101 keeps its Upgrade", "GET", 1,
	 "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	 "Upgrade: websocket\r\nSec-WebSocket-Accept: s=\r\n\r\n", VIA, false,
	 false,
	 "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: s=\r\n"
	 "Via: 1.1 sluice\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"},
	{"a response to HEAD keeps its length", "HEAD", 1,
	 "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nVia: 1.1 sluice\r\n\r\n"},
	{"a chunked response to HEAD loses its coding", "HEAD", 1,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", VIA, false,
	 false, "HTTP/1.1 200 OK\r\nVia: 1.1 sluice\r\n\r\n"},
	{"304 keeps its length", "GET", 1,
	 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", VIA, false,
	 false,
	 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\nVia: 1.1 sluice\r\n"
	 "\r\n"},
	{"204 loses a length it must not have", "GET", 1,
	 "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", VIA, false,
	 false, "HTTP/1.1 204 No Content\r\nVia: 1.1 sluice\r\n\r\n"},
	{"100 Continue", "POST", 1, "HTTP/1.1 100 Continue\r\n\r\n", VIA, false,
	 false, "HTTP/1.1 100 Continue\r\nVia: 1.1 sluice\r\n\r\n"},
	{"hop-by-hop fields are dropped, those Connection names too", "GET", 1,
	 "HTTP/1.1 200 OK\r\nConnection: X-A, keep-alive\r\nX-A: 1\r\n"
	 "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\n"
	 "Trailer: X-T\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n", VIA, false,
	 false,
	 "HTTP/1.1 200 OK\r\nX-B: 2\r\nContent-Length: 0\r\nVia: 1.1 sluice\r\n"
	 "\r\n"},
	{"Via values combined and ours appended", "GET", 1,
	 "HTTP/1.1 200 OK\r\nVia: 1.1 origin-cache\r\nContent-Length: 0\r\n"
	 "Via: 1.0 x\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	 "Via: 1.1 origin-cache, 1.0 x, 1.1 sluice\r\n\r\n"},
	{"a Via the origin named in Connection is dropped", "GET", 1,
	 "HTTP/1.1 200 OK\r\nConnection: via\r\nVia: 1.1 inner\r\n"
	 "Content-Length: 0\r\n\r\n", VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 sluice\r\n\r\n"},
	{"the origin's close is not passed on, ours is", "GET", 1,
	 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	 VIA, false, false,
	 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 sluice\r\n\r\n"},
};
/* clang-format on */

struct parsed_request {
	struct http1_header headers[MAX_FIELDS];
	struct http1_request req;
	struct http1_request_info info;
	struct uri uri;
};

/* Parses and frames a head; an absolute-form target also into p->uri. */
static void parse_request(const char *why, const char *head,
			  struct parsed_request *p)
{
	struct http1_error err;
	enum authority_error aerr;
	enum http1_framing_err ferr;
	enum uri_error uerr;
	int rc = http1_parse_request(head, strlen(head), 0, &limits, p->headers,
				     &p->req, &err);

	if (rc != (int)strlen(head))
		fail_msg("%s: does not parse: rc %d, %s at %zu", why, rc,
			 http1_err_text(err.code), err.offset);
	ferr = http1_request_framing(&p->req, &p->info);
	if (ferr != HTTP1_FRAMING_OK)
		fail_msg("%s: framing: %s", why, http1_framing_strerror(ferr));
	if (p->req.target[0] == '/' || p->req.target[0] == '*')
		return; /* origin-form or asterisk-form: what we write */
	uerr = uri_parse_absolute(p->req.target, p->req.target_len, &p->uri,
				  &aerr);
	if (uerr != URI_OK)
		fail_msg("%s: target: %s", why, uri_strerror(uerr));
}

/* Only cap bytes are there: a write past them is an ASan error. */
static size_t write_request_into(size_t cap, const struct http1_request_out *r,
				 char *copy)
{
	char *out = malloc(cap + 1);
	size_t n;

	assert_non_null(out);
	n = http1_write_request_head(out, cap, r);
	if (copy != NULL && n > 0)
		memcpy(copy, out, n);
	free(out);
	return n;
}

static size_t
write_response_into(size_t cap, const struct http1_response_out *r, char *copy)
{
	char *out = malloc(cap + 1);
	size_t n;

	assert_non_null(out);
	n = http1_write_response_head(out, cap, r);
	if (copy != NULL && n > 0)
		memcpy(copy, out, n);
	free(out);
	return n;
}

/* What we write ourselves may be named hop-by-hop; nothing else may. */
static bool ours(const struct http1_header *h, int status)
{
	return http1_name_eq(h->name, h->name_len, "connection") ||
	       http1_name_eq(h->name, h->name_len, "via") ||
	       http1_name_eq(h->name, h->name_len, "x-forwarded-for") ||
	       http1_name_eq(h->name, h->name_len, "transfer-encoding") ||
	       (http1_name_eq(h->name, h->name_len, "upgrade") &&
		(status == 101 || status == 0));
}

static void check_no_hop_by_hop(const char *why, const struct http1_header *in,
				size_t n_in, const struct http1_header *out,
				size_t n_out, int status)
{
	for (size_t i = 0; i < n_out; i++) {
		if (ours(&out[i], status))
			continue;
		if (http1_is_hop_by_hop(in, n_in, out[i].name,
					out[i].name_len) ||
		    http1_is_hop_by_hop(out, n_out, out[i].name,
					out[i].name_len))
			fail_msg("%s: hop-by-hop field %.*s passed on", why,
				 (int)out[i].name_len, out[i].name);
	}
}

static void writes_request_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request_case *c = &requests[i];
		struct parsed_request in, back;
		struct http1_request_out r;
		char out[OUT_MAX];
		size_t n, want_len = strlen(c->want);

		parse_request(c->why, c->head, &in);
		r = (struct http1_request_out){
			.req = &in.req,
			.info = &in.info,
			.uri = &in.uri,
			.via = c->via,
			.forwarded_for = c->forwarded_for,
			.close = c->close,
		};
		n = write_request_into(OUT_MAX, &r, out);
		if (n != want_len || memcmp(out, c->want, n) != 0)
			fail_msg("%s: wrote\n%.*s\nwant\n%s", c->why, (int)n,
				 out, c->want);

		/* what the origin reads: a valid head with our framing */
		out[n] = '\0';
		parse_request(c->why, out, &back);
		assert_int_equal(back.req.minor_version, 1);
		assert_int_equal(back.info.body, in.info.body);
		assert_true(back.info.content_length == in.info.content_length);
		assert_int_equal(back.info.conn.close, c->close);
		assert_int_equal(back.info.websocket, in.info.websocket);
		assert_int_equal(back.info.expect_continue,
				 in.info.expect_continue);
		assert_int_equal(back.info.host->value_len,
				 in.uri.authority_len);
		assert_memory_equal(back.info.host->value,
				    in.uri.authority_text,
				    in.uri.authority_len);
		check_no_hop_by_hop(c->why, in.req.headers, in.req.num_headers,
				    back.req.headers, back.req.num_headers, 0);

		/* never a cut head */
		for (size_t cap = 0; cap < n; cap++) {
			if (write_request_into(cap, &r, NULL) != 0)
				fail_msg("%s: wrote into %zu bytes of %zu",
					 c->why, cap, n);
		}
		assert_int_equal(write_request_into(n, &r, NULL), n);
	}
}

/*
 * To a parent proxy: the target in absolute form (an empty path "/" but
 * for OPTIONS, RFC 9112 §3.2.4), our Proxy-Authorization and never the
 * client's, nor its Proxy-Connection.
 */
static void writes_absolute_form_for_a_parent_proxy(void **state)
{
	static const struct {
		const char *why, *head, *auth, *want;
	} cases[] = {
		{"our credentials replace the client's",
		 "GET http://a.example:8080/p?q HTTP/1.1\r\n"
		 "Host: a.example:8080\r\n"
		 "Proxy-Authorization: Basic Y2xpZW50OnB3\r\n"
		 "Proxy-Connection: keep-alive\r\nX: 1\r\n\r\n",
		 "Basic cGFyZW50OnB3",
		 "GET http://a.example:8080/p?q HTTP/1.1\r\n"
		 "Host: a.example:8080\r\nX: 1\r\nVia: 1.1 sluice\r\n"
		 "Proxy-Authorization: Basic cGFyZW50OnB3\r\n\r\n"},
		{"no credentials: none sent",
		 "GET http://a HTTP/1.1\r\nHost: a\r\n"
		 "Proxy-Authorization: Basic Y2xpZW50OnB3\r\n\r\n",
		 NULL,
		 "GET http://a/ HTTP/1.1\r\nHost: a\r\nVia: 1.1 "
		 "sluice\r\n\r\n"},
		{"OPTIONS for the server keeps the authority alone",
		 "OPTIONS http://a:81 HTTP/1.1\r\nHost: a:81\r\n\r\n", NULL,
		 "OPTIONS http://a:81 HTTP/1.1\r\nHost: a:81\r\n"
		 "Via: 1.1 sluice\r\n\r\n"},
		{"a body keeps its framing",
		 "POST http://[::1]:81/f HTTP/1.1\r\nHost: [::1]:81\r\n"
		 "Content-Length: 3\r\n\r\n",
		 "Basic eDp5",
		 "POST http://[::1]:81/f HTTP/1.1\r\nHost: [::1]:81\r\n"
		 "Content-Length: 3\r\nVia: 1.1 sluice\r\n"
		 "Proxy-Authorization: Basic eDp5\r\n\r\n"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed_request in;
		char out[OUT_MAX];
		size_t n, want_len = strlen(cases[i].want);

		parse_request(cases[i].why, cases[i].head, &in);
		struct http1_request_out r = {
			.req = &in.req,
			.info = &in.info,
			.uri = &in.uri,
			.via = VIA,
			.absolute = true,
			.proxy_authorization = cases[i].auth,
		};
		n = write_request_into(OUT_MAX, &r, out);
		if (n != want_len || memcmp(out, cases[i].want, n) != 0)
			fail_msg("%s: wrote\n%.*s\nwant\n%s", cases[i].why,
				 (int)n, out, cases[i].want);
		for (size_t cap = 0; cap < n; cap++)
			assert_int_equal(write_request_into(cap, &r, NULL), 0);
	}
}

/* The body framing a client reads from what we wrote. */
static enum http1_body framing_sent(const struct response_case *c,
				    enum http1_body origin)
{
	if (origin == HTTP1_BODY_CHUNKED && c->client_minor_version == 0)
		return HTTP1_BODY_CLOSE;
	if (origin == HTTP1_BODY_CLOSE && c->chunk_it)
		return HTTP1_BODY_CHUNKED;
	return origin;
}

static void writes_response_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		const struct response_case *c = &responses[i];
		struct http1_header h_in[MAX_FIELDS], h_back[MAX_FIELDS];
		struct http1_response in, back;
		struct http1_response_info info, info_back;
		struct http1_response_out r;
		struct http1_error err;
		char out[OUT_MAX];
		size_t n, want_len = strlen(c->want);
		size_t mlen = strlen(c->method);

		assert_int_equal(http1_parse_response(c->head, strlen(c->head),
						      0, &limits, h_in, &in,
						      &err),
				 (int)strlen(c->head));
		assert_int_equal(
			http1_response_framing(&in, c->method, mlen, &info),
			HTTP1_FRAMING_OK);
		r = (struct http1_response_out){
			.res = &in,
			.info = &info,
			.client_minor_version = c->client_minor_version,
			.via = c->via,
			.close = c->close,
			.chunk_it = c->chunk_it,
		};
		n = write_response_into(OUT_MAX, &r, out);
		if (n != want_len || memcmp(out, c->want, n) != 0)
			fail_msg("%s: wrote\n%.*s\nwant\n%s", c->why, (int)n,
				 out, c->want);

		/* what the client reads */
		if (http1_parse_response(out, n, 0, &limits, h_back, &back,
					 &err) != (int)n)
			fail_msg("%s: does not parse back: %s", c->why,
				 http1_err_text(err.code));
		assert_int_equal(back.status, in.status);
		assert_int_equal(back.reason_len, in.reason_len);
		assert_int_equal(http1_response_framing(&back, c->method, mlen,
							&info_back),
				 HTTP1_FRAMING_OK);
		assert_int_equal(info_back.body, framing_sent(c, info.body));
		if (info.body == HTTP1_BODY_LENGTH)
			assert_true(info_back.content_length ==
				    info.content_length);
		check_no_hop_by_hop(c->why, in.headers, in.num_headers,
				    back.headers, back.num_headers, in.status);

		for (size_t cap = 0; cap < n; cap++) {
			if (write_response_into(cap, &r, NULL) != 0)
				fail_msg("%s: wrote into %zu bytes of %zu",
					 c->why, cap, n);
		}
		assert_int_equal(write_response_into(n, &r, NULL), n);
	}
}

/* Field values fill the buffer exactly, to the byte, or not at all. */
static void fills_a_buffer_to_the_last_byte(void **state)
{
	static const char head[] = "GET http://a/ HTTP/1.1\r\nHost: a\r\n"
				   "X: 0123456789\r\n\r\n";
	static const char want[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				   "X: 0123456789\r\n\r\n";
	struct parsed_request in;
	struct http1_request_out r;
	char out[sizeof(want) - 1];

	(void)state;
	parse_request("exact fit", head, &in);
	r = (struct http1_request_out){
		.req = &in.req, .info = &in.info, .uri = &in.uri};
	assert_int_equal(http1_write_request_head(out, sizeof(out), &r),
			 sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	assert_int_equal(http1_write_request_head(out, sizeof(out) - 1, &r), 0);
	assert_int_equal(http1_write_request_head(NULL, 0, &r), 0);
}

/* More fields than HTTP1_WRITER_MAX_FIELDS do not fit, like a long head. */
static void refuses_more_fields_than_it_tracks(void **state)
{
	static struct http1_header headers[HTTP1_WRITER_MAX_FIELDS + 1];
	static char out[16 * 1024];
	struct http1_request req = {
		.method = "GET",
		.method_len = 3,
		.target = "http://a/",
		.target_len = 9,
		.minor_version = 1,
		.headers = headers,
	};
	struct http1_request_info info = {.body = HTTP1_BODY_NONE};
	struct uri uri;
	enum authority_error aerr;
	struct http1_request_out r = {.req = &req, .info = &info, .uri = &uri};
	struct http1_response res = {
		.minor_version = 1,
		.status = 200,
		.reason = "OK",
		.reason_len = 2,
		.headers = headers,
	};
	struct http1_response_info rinfo = {.body = HTTP1_BODY_CLOSE};
	struct http1_response_out ro = {
		.res = &res, .info = &rinfo, .client_minor_version = 1};

	(void)state;
	assert_int_equal(
		uri_parse_absolute(req.target, req.target_len, &uri, &aerr),
		URI_OK);
	for (size_t i = 0; i <= HTTP1_WRITER_MAX_FIELDS; i++)
		headers[i] = (struct http1_header){"X", 1, "1", 1};
	req.num_headers = res.num_headers = HTTP1_WRITER_MAX_FIELDS;
	assert_true(http1_write_request_head(out, sizeof(out), &r) > 0);
	assert_true(http1_write_response_head(out, sizeof(out), &ro) > 0);
	req.num_headers = res.num_headers = HTTP1_WRITER_MAX_FIELDS + 1;
	assert_int_equal(http1_write_request_head(out, sizeof(out), &r), 0);
	assert_int_equal(http1_write_response_head(out, sizeof(out), &ro), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_request_heads),
		cmocka_unit_test(writes_absolute_form_for_a_parent_proxy),
		cmocka_unit_test(writes_response_heads),
		cmocka_unit_test(fills_a_buffer_to_the_last_byte),
		cmocka_unit_test(refuses_more_fields_than_it_tracks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
