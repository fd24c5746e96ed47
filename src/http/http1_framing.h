/*
 * http1_framing.h - what a parsed head means for the message body and the
 * connection (RFC 9112 §6, §9; RFC 9110 §7.2, §7.6.1, §10.1.1).
 *
 * Pure: reads a parsed head, fills a small struct, allocates nothing. The
 * smuggling rules live here: one Host, one Content-Length value, chunked
 * last, never both Content-Length and Transfer-Encoding in a request.
 */
#ifndef SLUICE_HTTP_HTTP1_FRAMING_H
#define SLUICE_HTTP_HTTP1_FRAMING_H

#include <stdbool.h>
#include <stdint.h>

#include "http/http1_request.h"
#include "http/http1_response_head.h"

enum http1_body {
	HTTP1_BODY_NONE = 1, /* no body bytes follow the head */
	HTTP1_BODY_LENGTH,   /* exactly content_length bytes */
	HTTP1_BODY_CHUNKED,  /* chunked coding, http1_chunked.h */
	HTTP1_BODY_CLOSE,    /* responses only: until the origin closes */
};

enum http1_framing_err {
	HTTP1_FRAMING_OK = 0,
	HTTP1_FRAMING_NO_HOST,	       /* HTTP/1.1 request without Host: 400 */
	HTTP1_FRAMING_MULTIPLE_HOST,   /* more than one Host field: 400 */
	HTTP1_FRAMING_BAD_HOST,	       /* Host not a valid authority: 400 */
	HTTP1_FRAMING_BAD_LENGTH,      /* CL not 1*DIGIT, or overflows: 400 */
	HTTP1_FRAMING_LENGTH_MISMATCH, /* several CL values that differ: 400 */
	HTTP1_FRAMING_CL_AND_TE,       /* request with both: 400 (§6.3) */
	HTTP1_FRAMING_TE_NOT_CHUNKED,  /* TE whose last coding is not chunked
					* (requests; in responses only when
					* chunked is there), chunked twice */
	HTTP1_FRAMING_TE_UNKNOWN,   /* request TE coding we cannot undo: 501 */
	HTTP1_FRAMING_TE_IN_HTTP10, /* TE in an HTTP/1.0 message: 400 */
	HTTP1_FRAMING_BAD_EXPECT,   /* Expect other than 100-continue: 417 */
};

/* Connection options, from the Connection field and the version. */
struct http1_conn {
	bool close;	 /* the sender will close after this message */
	bool keep_alive; /* an HTTP/1.0 sender asked to keep it open */
	bool upgrade;	 /* "upgrade" is a Connection option */
};

struct http1_request_info {
	enum http1_body body;	 /* NONE, LENGTH (also for CL 0) or CHUNKED */
	uint64_t content_length; /* LENGTH only */
	const struct http1_header *host; /* the Host field, NULL if none */
	struct http1_conn conn;
	bool expect_continue; /* Expect: 100-continue, HTTP/1.1 only */
	bool websocket; /* 1.1 GET, Upgrade: websocket, Connection: upgrade */
};

struct http1_response_info {
	enum http1_body body;
	uint64_t content_length;  /* LENGTH only */
	struct http1_conn conn;	  /* close is also set for a CLOSE body */
	bool drop_content_length; /* CL beside TE: relay by TE, drop the CL */
};

/*
 * Fills *info from a parsed request. Returns HTTP1_FRAMING_OK or the
 * reason to refuse it; http1_framing_status() gives the status code.
 * Checked in this order, the first failure returned:
 *  - Host (RFC 9112 §3.2): HTTP/1.1 needs exactly one, 1.0 at most one;
 *    its value must pass authority_parse() with default port 80 (an empty
 *    value does not): NO_HOST, MULTIPLE_HOST, BAD_HOST.
 *  - Transfer-Encoding, all fields and list elements as one list, names
 *    case-insensitive, empty elements ignored, a coding with parameters
 *    ("chunked;x=1") not chunked: in HTTP/1.0 TE_IN_HTTP10; beside any
 *    Content-Length field CL_AND_TE; last coding not chunked, or chunked
 *    twice, TE_NOT_CHUNKED; another coding before chunked TE_UNKNOWN
 *    (501). Else CHUNKED.
 *  - Content-Length, all fields and list elements: each 1*DIGIT that
 *    fits 64 bits (leading zeros allowed; no sign, space, empty element
 *    or hex) else BAD_LENGTH; values that differ LENGTH_MISMATCH; equal
 *    ones ("5, 5") are one. Else LENGTH; no CL and no TE: NONE.
 *  - Expect: every non-empty element "100-continue" (any case), at least
 *    one per field, else BAD_EXPECT (417).
 * conn: close for a "close" option, or in 1.0 without "keep-alive";
 * keep_alive and upgrade for those options (tokens of every Connection
 * field, any case). info->host points into req->headers.
 */
enum http1_framing_err http1_request_framing(const struct http1_request *req,
					     struct http1_request_info *info);

/*
 * Fills *info from a parsed response to a request with method `method`
 * (HEAD and CONNECT matter; case-sensitive; may be NULL). A response to
 * HEAD, a 1xx, 204 or 304, and a 2xx to CONNECT have no body (RFC 9112
 * §6.3), whatever their fields say, and nothing else is checked. Else a
 * Transfer-Encoding decides: last coding chunked is CHUNKED, any other
 * last coding (or an empty TE) CLOSE, and a Content-Length beside it is
 * ignored (drop_content_length). Else Content-Length as for a request
 * gives LENGTH, and no framing field CLOSE. Returns OK, or BAD_LENGTH,
 * LENGTH_MISMATCH, TE_IN_HTTP10 (TE in an HTTP/1.0 response: RFC 9112
 * §6.1 calls that faulty framing) or TE_NOT_CHUNKED (chunked twice, or
 * before another coding: such a body could not be chunked again); the
 * proxy answers 502 to any of them. conn as for a request; conn.close
 * is also set when the body is CLOSE.
 */
enum http1_framing_err http1_response_framing(const struct http1_response *res,
					      const char *method,
					      size_t method_len,
					      struct http1_response_info *info);

/* The status a refused request is answered with: 400, 417 or 501 (0 for
 * OK). A refused response is answered 502 whatever the code. */
int http1_framing_status(enum http1_framing_err err);

/* A short English reason, for the error body and the log. */
const char *http1_framing_strerror(enum http1_framing_err err);

/*
 * Is the field (by name) hop-by-hop for this message: one of Connection,
 * Proxy-Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
 * Proxy-Authorization, Proxy-Authenticate, or a name listed in any
 * Connection field of headers[0..n)? (RFC 9110 §7.6.1) Names compare
 * case-insensitively. A client can thus have any of its own fields
 * dropped, Host and the framing fields included: the writers restate
 * those themselves.
 */
bool http1_is_hop_by_hop(const struct http1_header *headers, size_t n,
			 const char *name, size_t name_len);

#endif
