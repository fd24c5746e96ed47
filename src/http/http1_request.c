/*
 * http1_request.c - see http1_request.h.
 *
 * The request line is parsed here; the head scan, the version and the field
 * lines are shared with the response parser (http1_fields.c).
 */
#include "http/http1_request.h"

#include <stdbool.h>
#include <string.h>

#include "http/http1_fields.h"

static int fail(struct http1_error *err, enum http1_err code, size_t offset)
{
	return http1_fields_fail(err, code, offset);
}

/* Parses "method SP target SP version" in buf[start..end). */
static int parse_request_line(const char *buf, size_t start, size_t end,
			      struct http1_request *req,
			      struct http1_error *err)
{
	size_t i = start;

	while (i < end && http1_fields_is_tchar((unsigned char)buf[i]))
		i++;
	if (i == start)
		return fail(err, HTTP1_ERR_METHOD, i);
	if (i == end || buf[i] != ' ')
		return fail(err,
			    i < end && buf[i] != '\t' ? HTTP1_ERR_METHOD
						      : HTTP1_ERR_REQUEST_LINE,
			    i);
	req->method = buf + start;
	req->method_len = i - start;

	size_t t = ++i;
	while (i < end && buf[i] != ' ') {
		unsigned char c = (unsigned char)buf[i];
		if (c <= 0x20 || c >= 0x7f)
			return fail(err, HTTP1_ERR_TARGET, i);
		i++;
	}
	if (i == t)
		return fail(err, HTTP1_ERR_TARGET, i);
	if (i == end)
		return fail(err, HTTP1_ERR_REQUEST_LINE, i);
	req->target = buf + t;
	req->target_len = i - t;

	i++;
	return http1_fields_parse_version(buf + i, end - i, i,
					  &req->minor_version, err);
}

int http1_parse_request(const char *buf, size_t len, size_t prev_len,
			const struct http1_limits *limits,
			struct http1_header *headers, struct http1_request *req,
			struct http1_error *err)
{
	size_t skip = 0, line_end;
	int head_len;

	err->code = HTTP1_ERR_NONE;
	err->offset = 0;
	/* RFC 9112 §2.2 asks to ignore at least one; a bound keeps a stream
	 * of empty lines from costing O(n) on every call */
	while (skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n') {
		if (skip == 2 * HTTP1_MAX_EMPTY_LINES)
			return fail(err, HTTP1_ERR_REQUEST_LINE, skip);
		skip += 2;
	}

	head_len =
		http1_fields_scan_head(buf, len, prev_len, skip, limits, err);
	if (head_len < 0)
		return head_len;

	/*
	 * Every line below ends in CRLF: the scan guaranteed it. The head
	 * fits max_head_bytes and its request line max_line_bytes, or the
	 * scan would have stopped before the blank line.
	 */
	if (http1_fields_first_line(buf, skip, (size_t)head_len, &line_end,
				    err) < 0)
		return -1;
	if (line_end == skip)
		return fail(err, HTTP1_ERR_REQUEST_LINE, skip);
	if (parse_request_line(buf, skip, line_end, req, err) < 0)
		return -1;

	req->headers = headers;
	if (http1_fields_parse_lines(buf, line_end + 2, (size_t)head_len,
				     limits, headers, &req->num_headers,
				     err) < 0)
		return -1;
	return head_len;
}

int http1_err_status(enum http1_err code)
{
	switch (code) {
	case HTTP1_ERR_VERSION_UNSUPPORTED:
		return 505;
	case HTTP1_ERR_LINE_TOO_LONG:
		return 414;
	case HTTP1_ERR_TOO_MANY_FIELDS:
	case HTTP1_ERR_HEAD_TOO_LARGE:
		return 431;
	default:
		return 400;
	}
}

const char *http1_err_text(enum http1_err code)
{
	switch (code) {
	case HTTP1_ERR_NONE:
		return "no error";
	case HTTP1_ERR_BARE_LF:
		return "line ends in LF without CR";
	case HTTP1_ERR_BARE_CR:
		return "CR not followed by LF";
	case HTTP1_ERR_CTL:
		return "control byte in request head";
	case HTTP1_ERR_METHOD:
		return "invalid method";
	case HTTP1_ERR_TARGET:
		return "invalid request target";
	case HTTP1_ERR_REQUEST_LINE:
		return "malformed request line";
	case HTTP1_ERR_VERSION:
		return "malformed HTTP version";
	case HTTP1_ERR_VERSION_UNSUPPORTED:
		return "HTTP version not supported";
	case HTTP1_ERR_FIELD_NAME:
		return "invalid header field name";
	case HTTP1_ERR_SPACE_BEFORE_COLON:
		return "whitespace between header field name and colon";
	case HTTP1_ERR_NO_COLON:
		return "header field without colon";
	case HTTP1_ERR_OBS_FOLD:
		return "obsolete line folding in header";
	case HTTP1_ERR_FIELD_VALUE:
		return "invalid byte in header field value";
	case HTTP1_ERR_TOO_MANY_FIELDS:
		return "too many header fields";
	case HTTP1_ERR_LINE_TOO_LONG:
		return "request line too long";
	case HTTP1_ERR_HEAD_TOO_LARGE:
		return "request head too large";
	case HTTP1_ERR_STATUS_LINE:
		return "malformed status line";
	case HTTP1_ERR_STATUS:
		return "invalid status code";
	}
	return "malformed request";
}

bool http1_name_eq_len(const char *name, size_t len, const char *lit,
		       size_t lit_len)
{
	return http1_fields_slice_eq(name, len, lit, lit_len);
}
