/*
 * test_http1_framing.c - what a head means for its body and connection,
 * and the request-smuggling vectors that must not get through.
 *
 * Each case is a head as text, parsed by the real parsers, then framed.
 * The result is rendered as "body [length] flags..." so that a table row
 * reads as the behaviour it pins down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_framing.h"

#define MAX_FIELDS 16

static const struct http1_limits limits = {
	.max_line_bytes = 1024,
	.max_head_bytes = 4096,
	.max_fields = MAX_FIELDS,
};

/* Request heads up to their field lines; a case adds fields and END. */
#define POST11 "POST http://a/ HTTP/1.1\r\nHost: a\r\n"
#define GET11  "GET http://a/ HTTP/1.1\r\nHost: a\r\n"
#define POST10 "POST http://a/ HTTP/1.0\r\n"
#define END    "\r\n"
#define TE     "Transfer-Encoding: "
#define CL     "Content-Length: "

static const char *body_name(enum http1_body body)
{
	switch (body) {
	case HTTP1_BODY_NONE:
		return "none";
	case HTTP1_BODY_LENGTH:
		return "length";
	case HTTP1_BODY_CHUNKED:
		return "chunked";
	case HTTP1_BODY_CLOSE:
		return "close-delimited";
	}
	return "?";
}

static size_t render_body(char *out, size_t cap, enum http1_body body,
			  uint64_t length)
{
	if (body == HTTP1_BODY_LENGTH)
		return (size_t)snprintf(out, cap, "length %llu",
					(unsigned long long)length);
	return (size_t)snprintf(out, cap, "%s", body_name(body));
}

static size_t render_flag(char *out, size_t cap, size_t n, bool on,
			  const char *name)
{
	if (!on || n >= cap)
		return n;
	return n + (size_t)snprintf(out + n, cap - n, " %s", name);
}

struct request_case {
	const char *why;
	const char *head;
	enum http1_framing_err err;
	const char *want; /* when err is OK */
};

/* clang-format off */
static const struct request_case requests[] = {
	/* bodies */
	{"no framing field: no body", POST11 END, HTTP1_FRAMING_OK, "none"},
	{"a Content-Length", POST11 CL "5\r\n" END, HTTP1_FRAMING_OK,
	 "length 5"},
	{"Content-Length 0 is a length, restated to the origin",
	 POST11 CL "0\r\n" END, HTTP1_FRAMING_OK, "length 0"},
	{"leading zeros are decimal, not octal", POST11 CL "010\r\n" END,
	 HTTP1_FRAMING_OK, "length 10"},
	{"the largest length that fits 64 bits",
	 POST11 CL "18446744073709551615\r\n" END, HTTP1_FRAMING_OK,
	 "length 18446744073709551615"},
	{"chunked", POST11 TE "chunked\r\n" END, HTTP1_FRAMING_OK, "chunked"},
	{"a coding name in another case (RFC 9112 §7)",
	 POST11 TE "Chunked\r\n" END, HTTP1_FRAMING_OK, "chunked"},
	{"a coding name in capitals", POST11 TE "CHUNKED\r\n" END,
	 HTTP1_FRAMING_OK, "chunked"},
	{"whitespace around the value is not part of it",
	 POST11 TE " \tchunked \t\r\n" END, HTTP1_FRAMING_OK, "chunked"},
	{"empty list elements are ignored (RFC 9110 §5.6.1)",
	 POST11 TE ", chunked ,\r\n" END, HTTP1_FRAMING_OK, "chunked"},
	{"the field name in any case", POST11 "TRANSFER-ENCODING: chunked\r\n"
	 END, HTTP1_FRAMING_OK, "chunked"},

	/* RFC 9112 §6.3: Content-Length with Transfer-Encoding (CL.TE, TE.CL) */
	{"CL.TE", POST11 CL "6\r\n" TE "chunked\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},
	{"TE.CL", POST11 TE "chunked\r\n" CL "6\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},
	{"CL.TE with a CL of 0", POST11 CL "0\r\n" TE "chunked\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},
	{"CL.TE with an invalid CL", POST11 CL "x\r\n" TE "chunked\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},
	{"CL.TE with an unknown coding", POST11 CL "6\r\n" TE "gzip\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},
	{"CL.TE with an empty TE", POST11 CL "6\r\n" TE "\r\n" END,
	 HTTP1_FRAMING_CL_AND_TE, NULL},

	/* TE.TE: obfuscated or repeated Transfer-Encoding */
	{"chunked then identity in a list", POST11 TE "chunked, identity\r\n"
	 END, HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked then identity in two fields",
	 POST11 TE "chunked\r\n" TE "identity\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"identity then chunked: a coding we cannot undo (501)",
	 POST11 TE "identity, chunked\r\n" END, HTTP1_FRAMING_TE_UNKNOWN, NULL},
	{"gzip then chunked: a coding we cannot undo (501)",
	 POST11 TE "gzip\r\n" TE "chunked\r\n" END, HTTP1_FRAMING_TE_UNKNOWN,
	 NULL},
	{"a coding alone that is not chunked", POST11 TE "gzip\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked twice in a list", POST11 TE "chunked, chunked\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked twice in two fields", POST11 TE "chunked\r\n" TE "chunked\r\n"
	 END, HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"a prefix on chunked", POST11 TE "xchunked\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"a suffix on chunked", POST11 TE "chunkedx\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked with a parameter", POST11 TE "chunked;q=1\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked with a spaced parameter", POST11 TE "chunked ; q=1\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked in quotes", POST11 TE "\"chunked\"\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked with a space inside", POST11 TE "chun ked\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"chunked with obs-text after it", POST11 TE "chunked\xc2\xa0\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"an empty Transfer-Encoding", POST11 TE "\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"only commas", POST11 TE ", ,\r\n" END, HTTP1_FRAMING_TE_NOT_CHUNKED,
	 NULL},
	{"a name with '_' is another field, not Transfer-Encoding",
	 POST11 "Transfer_Encoding: chunked\r\n" END, HTTP1_FRAMING_OK, "none"},

	/* RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 */
	{"TE in an HTTP/1.0 request", POST10 TE "chunked\r\n" END,
	 HTTP1_FRAMING_TE_IN_HTTP10, NULL},
	{"TE in HTTP/1.0 beside a valid CL", POST10 CL "5\r\n" TE "chunked\r\n"
	 END, HTTP1_FRAMING_TE_IN_HTTP10, NULL},
	{"CL in HTTP/1.0", POST10 CL "5\r\n" END, HTTP1_FRAMING_OK,
	 "length 5 close"},

	/* RFC 9110 §8.6: Content-Length values */
	{"the same value twice in a list", POST11 CL "5, 5\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},
	{"the same value in a list without spaces", POST11 CL "5,5,5\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},
	{"the same value in two fields", POST11 CL "5\r\n" CL "5\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},
	{"equal values spelled differently", POST11 CL "5, 05\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},
	{"two values in a list", POST11 CL "5, 6\r\n" END,
	 HTTP1_FRAMING_LENGTH_MISMATCH, NULL},
	{"two values in two fields", POST11 CL "5\r\n" CL "6\r\n" END,
	 HTTP1_FRAMING_LENGTH_MISMATCH, NULL},
	{"a third value that differs", POST11 CL "5, 5\r\n" CL "50\r\n" END,
	 HTTP1_FRAMING_LENGTH_MISMATCH, NULL},
	{"a plus sign", POST11 CL "+5\r\n" END, HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"a minus sign", POST11 CL "-5\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"a space inside", POST11 CL "5 5\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"hex", POST11 CL "0x5\r\n" END, HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"hex digits", POST11 CL "5a\r\n" END, HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"a decimal point", POST11 CL "5.0\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"an exponent", POST11 CL "5e1\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"an empty value", POST11 CL "\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"a trailing comma", POST11 CL "5,\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"a leading comma", POST11 CL ",5\r\n" END, HTTP1_FRAMING_BAD_LENGTH,
	 NULL},
	{"a valid value then garbage", POST11 CL "5, x\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"quotes", POST11 CL "\"5\"\r\n" END, HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"2^64 overflows", POST11 CL "18446744073709551616\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"2^64 + 5 does not wrap to 5", POST11 CL "18446744073709551621\r\n"
	 END, HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"far too many digits", POST11 CL "99999999999999999999999999\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"a name with '_' is another field, not Content-Length",
	 POST11 "Content_Length: 5\r\n" END, HTTP1_FRAMING_OK, "none"},

	/* RFC 9112 §3.2: Host */
	{"no Host in HTTP/1.1", "GET http://a/ HTTP/1.1\r\n" END,
	 HTTP1_FRAMING_NO_HOST, NULL},
	{"no Host in HTTP/1.0 is fine", "GET http://a/ HTTP/1.0\r\n" END,
	 HTTP1_FRAMING_OK, "none close"},
	{"two Host fields", GET11 "Host: b\r\n" END,
	 HTTP1_FRAMING_MULTIPLE_HOST, NULL},
	{"two identical Host fields", GET11 "Host: a\r\n" END,
	 HTTP1_FRAMING_MULTIPLE_HOST, NULL},
	{"two Host fields, names in other cases",
	 "GET http://a/ HTTP/1.1\r\nhost: a\r\nHOST: a\r\n" END,
	 HTTP1_FRAMING_MULTIPLE_HOST, NULL},
	{"two Host fields in HTTP/1.0",
	 "GET http://a/ HTTP/1.0\r\nHost: a\r\nHost: b\r\n" END,
	 HTTP1_FRAMING_MULTIPLE_HOST, NULL},
	{"an empty Host", "GET http://a/ HTTP/1.1\r\nHost:\r\n" END,
	 HTTP1_FRAMING_BAD_HOST, NULL},
	{"a Host list", "GET http://a/ HTTP/1.1\r\nHost: a, b\r\n" END,
	 HTTP1_FRAMING_BAD_HOST, NULL},
	{"a Host with userinfo", "GET http://a/ HTTP/1.1\r\nHost: u@a\r\n" END,
	 HTTP1_FRAMING_BAD_HOST, NULL},
	{"a Host with a bad port", "GET http://a/ HTTP/1.1\r\nHost: a:99999\r\n"
	 END, HTTP1_FRAMING_BAD_HOST, NULL},
	{"a Host with a space", "GET http://a/ HTTP/1.1\r\nHost: a b\r\n" END,
	 HTTP1_FRAMING_BAD_HOST, NULL},
	{"a bad Host in HTTP/1.0", "GET http://a/ HTTP/1.0\r\nHost: a/b\r\n"
	 END, HTTP1_FRAMING_BAD_HOST, NULL},
	{"a Host with a port", "GET http://a/ HTTP/1.1\r\nHost: a:8080\r\n" END,
	 HTTP1_FRAMING_OK, "none host"},
	{"an IPv6 Host", "GET http://a/ HTTP/1.1\r\nHost: [::1]:80\r\n" END,
	 HTTP1_FRAMING_OK, "none host"},
	{"Host is checked before the body",
	 "POST http://a/ HTTP/1.1\r\n" CL "x\r\n" END, HTTP1_FRAMING_NO_HOST,
	 NULL},

	/* RFC 9110 §10.1.1: Expect */
	{"Expect: 100-continue", POST11 CL "5\r\nExpect: 100-continue\r\n" END,
	 HTTP1_FRAMING_OK, "length 5 expect"},
	{"100-continue in another case", POST11 "Expect: 100-Continue\r\n" END,
	 HTTP1_FRAMING_OK, "none expect"},
	{"100-continue twice", POST11 "Expect: 100-continue, 100-continue\r\n"
	 END, HTTP1_FRAMING_OK, "none expect"},
	{"100-continue in HTTP/1.0 is ignored",
	 POST10 "Expect: 100-continue\r\n" END, HTTP1_FRAMING_OK, "none close"},
	{"another expectation (417)", POST11 "Expect: 200-ok\r\n" END,
	 HTTP1_FRAMING_BAD_EXPECT, NULL},
	{"an empty Expect", POST11 "Expect:\r\n" END, HTTP1_FRAMING_BAD_EXPECT,
	 NULL},
	{"100-continue beside another", POST11 "Expect: 100-continue, x\r\n"
	 END, HTTP1_FRAMING_BAD_EXPECT, NULL},
	{"100-continue with a parameter", POST11 "Expect: 100-continue;a=b\r\n"
	 END, HTTP1_FRAMING_BAD_EXPECT, NULL},
	{"100-continue then another field", POST11 "Expect: 100-continue\r\n"
	 "Expect: x\r\n" END, HTTP1_FRAMING_BAD_EXPECT, NULL},
	{"another expectation in HTTP/1.0", POST10 "Expect: x\r\n" END,
	 HTTP1_FRAMING_BAD_EXPECT, NULL},

	/* RFC 9112 §9.3: Connection options */
	{"HTTP/1.1 persists by default", GET11 END, HTTP1_FRAMING_OK, "none"},
	{"close", GET11 "Connection: close\r\n" END, HTTP1_FRAMING_OK,
	 "none close"},
	{"Close in another case", GET11 "Connection: CLOSE\r\n" END,
	 HTTP1_FRAMING_OK, "none close"},
	{"close in a list", GET11 "Connection: x-foo,close , te\r\n" END,
	 HTTP1_FRAMING_OK, "none close"},
	{"close in a second Connection field",
	 GET11 "Connection: te\r\nConnection: close\r\n" END, HTTP1_FRAMING_OK,
	 "none close"},
	{"close wins over keep-alive", GET11 "Connection: keep-alive, close\r\n"
	 END, HTTP1_FRAMING_OK, "none close keep-alive"},
	{"not close: a token that contains it",
	 GET11 "Connection: closed\r\n" END, HTTP1_FRAMING_OK, "none"},
	{"HTTP/1.0 closes by default", "GET http://a/ HTTP/1.0\r\n" END,
	 HTTP1_FRAMING_OK, "none close"},
	{"HTTP/1.0 with keep-alive", "GET http://a/ HTTP/1.0\r\n"
	 "Connection: Keep-Alive\r\n" END, HTTP1_FRAMING_OK,
	 "none keep-alive"},
	{"HTTP/1.0 with keep-alive and close",
	 "GET http://a/ HTTP/1.0\r\nConnection: keep-alive, close\r\n" END,
	 HTTP1_FRAMING_OK, "none close keep-alive"},

	/* RFC 9110 §7.8, RFC 6455 §4.1: WebSocket */
	{"a WebSocket handshake",
	 GET11 "Connection: Upgrade\r\nUpgrade: websocket\r\n" END,
	 HTTP1_FRAMING_OK, "none upgrade websocket"},
	{"websocket among other protocols, in any case",
	 GET11 "Connection: keep-alive, upgrade\r\nUpgrade: h2c, WebSocket\r\n"
	 END, HTTP1_FRAMING_OK, "none keep-alive upgrade websocket"},
	{"Upgrade without the Connection option",
	 GET11 "Upgrade: websocket\r\n" END, HTTP1_FRAMING_OK, "none"},
	{"the Connection option without Upgrade",
	 GET11 "Connection: upgrade\r\n" END, HTTP1_FRAMING_OK, "none upgrade"},
	{"another protocol", GET11 "Connection: upgrade\r\nUpgrade: h2c\r\n"
	 END, HTTP1_FRAMING_OK, "none upgrade"},
	{"websocket with a version is another protocol",
	 GET11 "Connection: upgrade\r\nUpgrade: websocket/13\r\n" END,
	 HTTP1_FRAMING_OK, "none upgrade"},
	{"a POST is no handshake",
	 POST11 "Connection: upgrade\r\nUpgrade: websocket\r\n" END,
	 HTTP1_FRAMING_OK, "none upgrade"},
	{"methods are case-sensitive",
	 "get http://a/ HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
	 "Upgrade: websocket\r\n" END, HTTP1_FRAMING_OK, "none upgrade"},
	{"Upgrade is ignored in HTTP/1.0",
	 "GET http://a/ HTTP/1.0\r\nConnection: upgrade\r\n"
	 "Upgrade: websocket\r\n" END, HTTP1_FRAMING_OK, "none close upgrade"},
};
/* clang-format on */

struct parsed_request {
	struct http1_header headers[MAX_FIELDS];
	struct http1_request req;
};

static void parse_request(const char *why, const char *head,
			  struct parsed_request *p)
{
	struct http1_error err;
	int rc = http1_parse_request(head, strlen(head), 0, &limits, p->headers,
				     &p->req, &err);

	if (rc != (int)strlen(head))
		fail_msg("%s: the head does not parse: rc %d, %s at %zu", why,
			 rc, http1_err_text(err.code), err.offset);
}

static void render_request(const struct http1_request_info *info, char *out,
			   size_t cap)
{
	size_t n = render_body(out, cap, info->body, info->content_length);

	n = render_flag(out, cap, n, info->conn.close, "close");
	n = render_flag(out, cap, n, info->conn.keep_alive, "keep-alive");
	n = render_flag(out, cap, n, info->conn.upgrade, "upgrade");
	n = render_flag(out, cap, n, info->expect_continue, "expect");
	n = render_flag(out, cap, n, info->websocket, "websocket");
	/* the cases name "host" only where the Host is not the usual "a" */
	render_flag(out, cap, n,
		    info->host != NULL &&
			    !http1_name_eq(info->host->value,
					   info->host->value_len, "a"),
		    "host");
}

static void frames_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request_case *c = &requests[i];
		struct parsed_request p;
		struct http1_request_info info;
		enum http1_framing_err err;
		char got[256];

		parse_request(c->why, c->head, &p);
		err = http1_request_framing(&p.req, &info);
		if (err != c->err)
			fail_msg("%s: got %d (%s), want %d (%s)", c->why, err,
				 http1_framing_strerror(err), c->err,
				 http1_framing_strerror(c->err));
		if (err != HTTP1_FRAMING_OK)
			continue;
		render_request(&info, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->why, got,
				 c->want);
		if (info.host != NULL)
			assert_true(info.host >= p.headers &&
				    info.host < p.headers + p.req.num_headers);
	}
}

struct response_case {
	const char *why;
	const char *method;
	const char *head;
	enum http1_framing_err err;
	const char *want; /* when err is OK */
};

#define OK11 "HTTP/1.1 200 OK\r\n"
#define OK10 "HTTP/1.0 200 OK\r\n"

/* clang-format off */
static const struct response_case responses[] = {
	/* RFC 9112 §6.3 rules 1 and 2: no body whatever the fields say */
	{"a response to HEAD", "HEAD", OK11 CL "5\r\n" END, HTTP1_FRAMING_OK,
	 "none"},
	{"a chunked response to HEAD", "HEAD", OK11 TE "chunked\r\n" END,
	 HTTP1_FRAMING_OK, "none"},
	{"a response to HEAD with a bad length", "HEAD", OK11 CL "x\r\n" END,
	 HTTP1_FRAMING_OK, "none"},
	{"100 Continue", "POST", "HTTP/1.1 100 Continue\r\n" END,
	 HTTP1_FRAMING_OK, "none"},
	{"101 Switching Protocols", "GET",
	 "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
	 "Upgrade: websocket\r\n" END, HTTP1_FRAMING_OK, "none upgrade"},
	{"204 with a length", "GET", "HTTP/1.1 204 No Content\r\n" CL "5\r\n"
	 END, HTTP1_FRAMING_OK, "none"},
	{"304 with a length", "GET", "HTTP/1.1 304 Not Modified\r\n" CL "5\r\n"
	 END, HTTP1_FRAMING_OK, "none"},
	{"a 2xx to CONNECT", "CONNECT", OK11 TE "chunked\r\n" END,
	 HTTP1_FRAMING_OK, "none"},
	{"a 407 to CONNECT has a body", "CONNECT",
	 "HTTP/1.1 407 Auth\r\n" CL "5\r\n" END, HTTP1_FRAMING_OK, "length 5"},
	{"head is not HEAD", "head", OK11 CL "5\r\n" END, HTTP1_FRAMING_OK,
	 "length 5"},

	/* RFC 9112 §6.3 rule 3: Transfer-Encoding */
	{"chunked", "GET", OK11 TE "chunked\r\n" END, HTTP1_FRAMING_OK,
	 "chunked"},
	{"gzip then chunked", "GET", OK11 TE "gzip, chunked\r\n" END,
	 HTTP1_FRAMING_OK, "chunked"},
	{"chunked with a length: the length is dropped", "GET",
	 OK11 CL "5\r\n" TE "chunked\r\n" END, HTTP1_FRAMING_OK,
	 "chunked drop-cl"},
	{"chunked with a bad length: still dropped", "GET",
	 OK11 TE "chunked\r\n" CL "5, 6\r\n" END, HTTP1_FRAMING_OK,
	 "chunked drop-cl"},
	{"chunked before another coding could not be chunked again", "GET",
	 OK11 TE "chunked, gzip\r\n" END, HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"gzip alone: until close, length dropped", "GET",
	 OK11 TE "gzip\r\n" CL "5\r\n" END, HTTP1_FRAMING_OK,
	 "close-delimited close drop-cl"},
	{"an empty Transfer-Encoding: until close", "GET", OK11 TE "\r\n" END,
	 HTTP1_FRAMING_OK, "close-delimited close"},
	{"chunked with a parameter is not chunked", "GET",
	 OK11 TE "chunked;q=1\r\n" END, HTTP1_FRAMING_OK,
	 "close-delimited close"},
	{"chunked twice", "GET", OK11 TE "chunked\r\n" TE "chunked\r\n" END,
	 HTTP1_FRAMING_TE_NOT_CHUNKED, NULL},
	{"TE in an HTTP/1.0 response (RFC 9112 §6.1)", "GET",
	 OK10 TE "chunked\r\n" END, HTTP1_FRAMING_TE_IN_HTTP10, NULL},

	/* Content-Length */
	{"a length", "GET", OK11 CL "5\r\n" END, HTTP1_FRAMING_OK, "length 5"},
	{"a length of 0", "POST", OK11 CL "0\r\n" END, HTTP1_FRAMING_OK,
	 "length 0"},
	{"the same length twice", "GET", OK11 CL "5\r\n" CL "5, 5\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},
	{"two lengths", "GET", OK11 CL "5, 6\r\n" END,
	 HTTP1_FRAMING_LENGTH_MISMATCH, NULL},
	{"a signed length", "GET", OK11 CL "-1\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"an overflowing length", "GET", OK11 CL "18446744073709551616\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"an empty length", "GET", OK11 CL "\r\n" END,
	 HTTP1_FRAMING_BAD_LENGTH, NULL},
	{"no framing: until close", "GET", OK11 END, HTTP1_FRAMING_OK,
	 "close-delimited close"},
	{"an unknown status has a body", "GET", "HTTP/1.1 600 x\r\n" CL "5\r\n"
	 END, HTTP1_FRAMING_OK, "length 5"},
	{"no method given reads as a GET", NULL, OK11 CL "5\r\n" END,
	 HTTP1_FRAMING_OK, "length 5"},

	/* connection options */
	{"HTTP/1.1 persists", "GET", OK11 CL "0\r\n" END, HTTP1_FRAMING_OK,
	 "length 0"},
	{"HTTP/1.1 with close", "GET", OK11 CL "0\r\nConnection: close\r\n"
	 END, HTTP1_FRAMING_OK, "length 0 close"},
	{"HTTP/1.0 closes", "GET", OK10 CL "0\r\n" END, HTTP1_FRAMING_OK,
	 "length 0 close"},
	{"HTTP/1.0 with keep-alive", "GET",
	 OK10 CL "0\r\nConnection: keep-alive\r\n" END, HTTP1_FRAMING_OK,
	 "length 0 keep-alive"},
	{"HTTP/1.0 with keep-alive but no length still closes", "GET",
	 OK10 "Connection: keep-alive\r\n" END, HTTP1_FRAMING_OK,
	 "close-delimited close keep-alive"},
};
/* clang-format on */

static void frames_responses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		const struct response_case *c = &responses[i];
		struct http1_header headers[MAX_FIELDS];
		struct http1_response res;
		struct http1_response_info info;
		struct http1_error perr;
		enum http1_framing_err err;
		char got[256];
		size_t n;
		int rc = http1_parse_response(c->head, strlen(c->head), 0,
					      &limits, headers, &res, &perr);

		if (rc != (int)strlen(c->head))
			fail_msg("%s: the head does not parse: %s", c->why,
				 http1_err_text(perr.code));
		err = http1_response_framing(&res, c->method,
					     c->method ? strlen(c->method) : 0,
					     &info);
		if (err != c->err)
			fail_msg("%s: got %d (%s), want %d (%s)", c->why, err,
				 http1_framing_strerror(err), c->err,
				 http1_framing_strerror(c->err));
		if (err != HTTP1_FRAMING_OK)
			continue;
		n = render_body(got, sizeof(got), info.body,
				info.content_length);
		n = render_flag(got, sizeof(got), n, info.conn.close, "close");
		n = render_flag(got, sizeof(got), n, info.conn.keep_alive,
				"keep-alive");
		n = render_flag(got, sizeof(got), n, info.conn.upgrade,
				"upgrade");
		render_flag(got, sizeof(got), n, info.drop_content_length,
			    "drop-cl");
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->why, got,
				 c->want);
	}
}

static void maps_each_error_to_its_status(void **state)
{
	static const struct {
		enum http1_framing_err err;
		int status;
	} cases[] = {
		{HTTP1_FRAMING_OK, 0},
		{HTTP1_FRAMING_NO_HOST, 400},
		{HTTP1_FRAMING_MULTIPLE_HOST, 400},
		{HTTP1_FRAMING_BAD_HOST, 400},
		{HTTP1_FRAMING_BAD_LENGTH, 400},
		{HTTP1_FRAMING_LENGTH_MISMATCH, 400},
		{HTTP1_FRAMING_CL_AND_TE, 400},
		{HTTP1_FRAMING_TE_NOT_CHUNKED, 400},
		{HTTP1_FRAMING_TE_UNKNOWN, 501},
		{HTTP1_FRAMING_TE_IN_HTTP10, 400},
		{HTTP1_FRAMING_BAD_EXPECT, 417},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = http1_framing_strerror(cases[i].err);

		assert_int_equal(http1_framing_status(cases[i].err),
				 cases[i].status);
		assert_true(strlen(text) > 0);
		assert_string_not_equal(text, "invalid message framing");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(
				text, http1_framing_strerror(cases[j].err));
	}
}

/* RFC 9110 §7.6.1: the fixed set and what Connection names. */
static void tells_hop_by_hop_fields(void **state)
{
	static const struct http1_header headers[] = {
		{"Connection", 10, "X-Secret ,, Keep-Alive", 22},
		{"X-Other", 7, "1", 1},
		{"connection", 10, "x-trace", 7},
	};
	static const struct {
		const char *name;
		bool want;
	} cases[] = {
		{"Connection", true},
		{"Proxy-Connection", true},
		{"keep-alive", true},
		{"TE", true},
		{"Trailer", true},
		{"Transfer-Encoding", true},
		{"UPGRADE", true},
		{"Proxy-Authorization", true},
		{"Proxy-Authenticate", true},
		{"x-secret", true}, /* named in Connection */
		{"X-Trace", true},  /* named in a second Connection field */
		{"X-Other", false}, /* present but not named */
		{"X-Secre", false}, /* a prefix of a named one */
		{"Host", false},
		{"Content-Length", false},
		{"Via", false},
		{"Trailers", false}, /* RFC 2616's spelling is no field */
		{"", false},	     /* an empty list element names nothing */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = http1_is_hop_by_hop(
			headers, sizeof(headers) / sizeof(headers[0]),
			cases[i].name, strlen(cases[i].name));
		if (got != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].name, got,
				 cases[i].want);
	}
	assert_true(http1_is_hop_by_hop(NULL, 0, "te", 2));
	assert_false(http1_is_hop_by_hop(NULL, 0, "x-secret", 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_requests),
		cmocka_unit_test(frames_responses),
		cmocka_unit_test(maps_each_error_to_its_status),
		cmocka_unit_test(tells_hop_by_hop_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
