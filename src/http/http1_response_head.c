/*
 * http1_response_head.c - see http1_response_head.h.
 *
 * The status line is parsed here; the head scan, the version and the field
 * lines are the request parser's (http1_fields.c), so an origin is held to
 * exactly the rules a client is.
 */
#include "http/http1_response_head.h"

#include <stdbool.h>

#include "http/http1_fields.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * RFC 9112 §4: status-line = HTTP-version SP status-code SP
 * [ reason-phrase ], reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
 * Parses buf[0..end), control bytes but HTAB already refused.
 */
static int parse_status_line(const char *buf, size_t end,
			     struct http1_response *res,
			     struct http1_error *err)
{
	size_t i = 0;

	while (i < end && buf[i] != ' ')
		i++;
	if (http1_fields_parse_version(buf, i, 0, &res->minor_version, err) < 0)
		return -1;
	if (i == end)
		return http1_fields_fail(err, HTTP1_ERR_STATUS_LINE, i);
	i++;

	int status = 0;
	for (size_t k = i; k < i + 3; k++) {
		if (k == end || !is_digit(buf[k]))
			return http1_fields_fail(err, HTTP1_ERR_STATUS, k);
		status = status * 10 + (buf[k] - '0');
	}
	/* RFC 9110 §15 defines 100..599; any three digits from 100 are read,
	 * and framing treats a code it does not know by its rules for all */
	if (status < 100)
		return http1_fields_fail(err, HTTP1_ERR_STATUS, i);
	res->status = status;
	i += 3;

	/* RFC 9112 §4: a recipient may meet "HTTP/1.1 200" with no SP */
	if (i == end) {
		res->reason = buf + i;
		res->reason_len = 0;
		return 0;
	}
	if (buf[i] != ' ')
		return http1_fields_fail(err,
					 is_digit(buf[i])
						 ? HTTP1_ERR_STATUS
						 : HTTP1_ERR_STATUS_LINE,
					 i);
	i++;
	res->reason = buf + i;
	res->reason_len = end - i;
	for (; i < end; i++) {
		if (buf[i] == 0x7f)
			return http1_fields_fail(err, HTTP1_ERR_CTL, i);
	}
	return 0;
}

int http1_parse_response(const char *buf, size_t len, size_t prev_len,
			 const struct http1_limits *limits,
			 struct http1_header *headers,
			 struct http1_response *res, struct http1_error *err)
{
	size_t line_end;
	int head_len;

	err->code = HTTP1_ERR_NONE;
	err->offset = 0;
	head_len = http1_fields_scan_head(buf, len, prev_len, 0, limits, err);
	if (head_len < 0)
		return head_len;

	/* the scan guaranteed CRLF line ends and the limits */
	if (http1_fields_first_line(buf, 0, (size_t)head_len, &line_end, err) <
	    0)
		return -1;
	if (parse_status_line(buf, line_end, res, err) < 0)
		return -1;

	res->headers = headers;
	if (http1_fields_parse_lines(buf, line_end + 2, (size_t)head_len,
				     limits, headers, &res->num_headers,
				     err) < 0)
		return -1;
	return head_len;
}
