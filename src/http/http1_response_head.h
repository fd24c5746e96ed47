/*
 * http1_response_head.h - strict, zero-copy parser of an origin's response
 * head (RFC 9112 §4), the twin of http1_request.h: the same field rules,
 * the same limits structure, the same return convention.
 *
 * Pure: no I/O, no allocation; slices of the caller's buffer.
 */
#ifndef SLUICE_HTTP_HTTP1_RESPONSE_HEAD_H
#define SLUICE_HTTP_HTTP1_RESPONSE_HEAD_H

#include <stddef.h>

#include "http/http1_request.h"

struct http1_response {
	int minor_version; /* 0 or 1 */
	int status;	   /* 100..999, three digits */
	const char *reason;
	size_t reason_len;
	struct http1_header *headers; /* the caller's array */
	size_t num_headers;
};

/*
 * Parses a response head from buf[0..len), like http1_parse_request():
 * returns the head length (> 0), -2 for more bytes, -1 with *err set.
 * The status line is "HTTP/1.x SP 3DIGIT SP reason CRLF" (the reason may be
 * empty; RFC 9112 §4 lets the SP before an empty reason be missing, and we
 * accept that one form). Limits: max_line_bytes bounds the status line.
 * No leading empty lines are skipped. Any version other than HTTP/1.0 or
 * HTTP/1.1, or a malformed line, is an error (the proxy answers 502).
 * Errors: those of the request parser for the version, the field lines and
 * the limits (HTTP1_ERR_LINE_TOO_LONG for the status line), plus
 * HTTP1_ERR_STATUS_LINE (no SP after the version, or a byte other than SP
 * after the status) and HTTP1_ERR_STATUS (not three digits, or below 100);
 * a control byte, DEL included, in the reason is HTTP1_ERR_CTL. Like a
 * request, a response's syntax is judged once its head is complete.
 */
int http1_parse_response(const char *buf, size_t len, size_t prev_len,
			 const struct http1_limits *limits,
			 struct http1_header *headers,
			 struct http1_response *res, struct http1_error *err);

#endif
