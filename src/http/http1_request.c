/*
 * http1_request.c - see http1_request.h.
 *
 * Two passes: a scan for the end of the head that also refuses bare CR, bare
 * LF and NUL (resumable through prev_len), then a parse of the complete head.
 * Parsing only complete heads keeps the parser simple and its cost linear.
 */
#include "http/http1_request.h"

#include <stdbool.h>
#include <string.h>

/* RFC 9110 §5.6.2: tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 §5.5: field-vchar / SP / HTAB; obs-text allowed. */
static bool is_field_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int fail(struct http1_error *err, enum http1_err code, size_t offset)
{
	err->code = code;
	err->offset = offset;
	return -1;
}

/*
 * Finds the blank line that ends the head, scanning buf[from..len); the head
 * starts at skip (after ignored empty lines). Returns the head length, -2 if
 * not there yet, -1 on a framing byte error.
 */
static int find_head_end(const char *buf, size_t len, size_t skip, size_t from,
			 struct http1_error *err)
{
	for (size_t i = from; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0')
			return fail(err, HTTP1_ERR_CTL, i);
		if (c == '\r') {
			if (i + 1 == len)
				return -2;
			if (buf[i + 1] != '\n')
				return fail(err, HTTP1_ERR_BARE_CR, i);
			continue;
		}
		if (c != '\n')
			continue;
		/* RFC 9112 §2.2: LF alone is a line end some accept; we do not
		 */
		if (i == 0 || buf[i - 1] != '\r')
			return fail(err, HTTP1_ERR_BARE_LF, i);
		if (i >= skip + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (int)(i + 1);
	}
	return -2;
}

static int parse_version(const char *p, size_t len, size_t off,
			 int *minor_version, struct http1_error *err)
{
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' ||
	    p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
		return fail(err, HTTP1_ERR_VERSION, off);
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return fail(err, HTTP1_ERR_VERSION_UNSUPPORTED, off);
	*minor_version = p[7] - '0';
	return 0;
}

/* Parses "method SP target SP version" in buf[start..end). */
static int parse_request_line(const char *buf, size_t start, size_t end,
			      struct http1_request *req,
			      struct http1_error *err)
{
	size_t i = start;

	while (i < end && is_tchar((unsigned char)buf[i]))
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
	return parse_version(buf + i, end - i, i, &req->minor_version, err);
}

/* Parses one field line buf[start..end) (CRLF excluded) into *h. */
static int parse_field(const char *buf, size_t start, size_t end,
		       struct http1_header *h, struct http1_error *err)
{
	size_t i = start;

	if (buf[i] == ' ' || buf[i] == '\t')
		return fail(err, HTTP1_ERR_OBS_FOLD, i); /* RFC 9112 §5.2 */
	while (i < end && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == end)
		return fail(err, HTTP1_ERR_NO_COLON, i);
	if (buf[i] == ' ' || buf[i] == '\t')
		return fail(err, HTTP1_ERR_SPACE_BEFORE_COLON,
			    i); /* RFC 9112 §5.1 */
	if (buf[i] != ':' || i == start)
		return fail(err, HTTP1_ERR_FIELD_NAME, i);
	h->name = buf + start;
	h->name_len = i - start;

	i++;
	while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	size_t v = i, v_end = i;
	for (; i < end; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (!is_field_value_char(c))
			return fail(err, HTTP1_ERR_FIELD_VALUE, i);
		if (c != ' ' && c != '\t')
			v_end = i + 1;
	}
	h->value = buf + v;
	h->value_len = v_end - v;
	return 0;
}

int http1_parse_request(const char *buf, size_t len, size_t prev_len,
			const struct http1_limits *limits,
			struct http1_header *headers, struct http1_request *req,
			struct http1_error *err)
{
	size_t skip = 0, pos;
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

	/*
	 * Look no further than the byte at which a limit refuses the head, so
	 * that a head given whole gets the answer it would get byte by byte:
	 * a NUL beyond the limits never turns a 414 or 431 into a 400.
	 */
	size_t line_room = limits->max_line_bytes + 2; /* CRLF included */
	size_t scan_len =
		len < limits->max_head_bytes ? len : limits->max_head_bytes;
	bool line_too_long = skip < scan_len && scan_len - skip > line_room &&
			     memchr(buf + skip, '\n', line_room) == NULL;
	if (line_too_long)
		scan_len = skip + line_room + 1;

	size_t from = prev_len > 3 ? prev_len - 3 : 0;
	head_len = find_head_end(buf, scan_len, skip, from < skip ? skip : from,
				 err);
	if (head_len == -1)
		return -1;
	if (head_len == -2) {
		if (line_too_long)
			return fail(err, HTTP1_ERR_LINE_TOO_LONG,
				    skip + limits->max_line_bytes);
		if (len >= limits->max_head_bytes)
			return fail(err, HTTP1_ERR_HEAD_TOO_LARGE,
				    limits->max_head_bytes);
		return -2;
	}
	pos = skip;

	/*
	 * Every line below ends in CRLF: find_head_end guaranteed it. The
	 * head fits max_head_bytes and its request line max_line_bytes, or
	 * the scan above would have stopped before the blank line.
	 */
	const char *eol = memchr(buf + pos, '\r', (size_t)head_len - pos);
	size_t line_end = (size_t)(eol - buf);
	if (line_end == pos)
		return fail(err, HTTP1_ERR_REQUEST_LINE, pos);
	for (size_t i = pos; i < line_end; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 && c != '\t')
			return fail(err, HTTP1_ERR_CTL, i);
	}
	if (parse_request_line(buf, pos, line_end, req, err) < 0)
		return -1;
	pos = line_end + 2;

	req->headers = headers;
	req->num_headers = 0;
	while (pos < (size_t)head_len - 2) {
		eol = memchr(buf + pos, '\r', (size_t)head_len - pos);
		line_end = (size_t)(eol - buf);
		if (req->num_headers == limits->max_fields)
			return fail(err, HTTP1_ERR_TOO_MANY_FIELDS, pos);
		if (parse_field(buf, pos, line_end, &headers[req->num_headers],
				err) < 0)
			return -1;
		req->num_headers++;
		pos = line_end + 2;
	}
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
	}
	return "malformed request";
}

int http1_name_eq(const char *name, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)name[i];
		unsigned char b = (unsigned char)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return 0;
	}
	return 1;
}
