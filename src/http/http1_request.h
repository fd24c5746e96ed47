/*
 * http1_request.h - strict, zero-copy HTTP/1.1 request head parser
 * (RFC 9112 §2-§5).
 *
 * Pure: no I/O, no allocation, no globals. The caller owns the input buffer
 * and the header array; every string in the result is a slice of the input
 * and lives as long as it does. The parser checks syntax only; meaning
 * (Host rules, framing) is the caller's.
 *
 * Leniencies that enable request smuggling are refused outright: bare LF or
 * bare CR line ends, obs-fold, whitespace before a field's colon, control
 * bytes, non-token methods and field names.
 */
#ifndef SLUICE_HTTP_HTTP1_REQUEST_H
#define SLUICE_HTTP_HTTP1_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum http1_err {
	HTTP1_ERR_NONE = 0,
	HTTP1_ERR_BARE_LF,	/* LF without CR */
	HTTP1_ERR_BARE_CR,	/* CR not followed by LF */
	HTTP1_ERR_CTL,		/* NUL or other control byte */
	HTTP1_ERR_METHOD,	/* method is not a token */
	HTTP1_ERR_TARGET,	/* empty target, or bytes outside VCHAR */
	HTTP1_ERR_REQUEST_LINE, /* not "method SP target SP version" */
	HTTP1_ERR_VERSION,	/* not "HTTP/" DIGIT "." DIGIT */
	HTTP1_ERR_VERSION_UNSUPPORTED, /* well formed but not 1.0 or 1.1 */
	HTTP1_ERR_FIELD_NAME,	       /* empty or non-token field name */
	HTTP1_ERR_SPACE_BEFORE_COLON,
	HTTP1_ERR_NO_COLON,
	HTTP1_ERR_OBS_FOLD,
	HTTP1_ERR_FIELD_VALUE, /* byte not allowed in a field value */
	HTTP1_ERR_TOO_MANY_FIELDS,
	HTTP1_ERR_LINE_TOO_LONG,
	HTTP1_ERR_HEAD_TOO_LARGE,
	/* responses only (http1_response_head.h) */
	HTTP1_ERR_STATUS_LINE, /* not "version SP status [SP reason]" */
	HTTP1_ERR_STATUS,      /* status not three digits, or below 100 */
};

/* Empty lines (CRLF) ignored before a request line; more is an error. */
#define HTTP1_MAX_EMPTY_LINES 4

struct http1_header {
	const char *name;
	size_t name_len;
	const char *value; /* without leading or trailing whitespace */
	size_t value_len;
};

struct http1_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int minor_version;	      /* 0 or 1 */
	struct http1_header *headers; /* the caller's array */
	size_t num_headers;
};

struct http1_limits {
	size_t max_line_bytes; /* request line, CRLF excluded: 414 beyond */
	size_t max_head_bytes; /* whole head, blank line included: 431 */
	size_t max_fields;     /* header fields: 431 beyond */
};

struct http1_error {
	enum http1_err code;
	/* byte offset of the offending byte in the input; for a limit, of the
	 * first byte beyond it (so the same whole or byte by byte) */
	size_t offset;
};

/*
 * Parses a request head from buf[0..len). headers has room for
 * limits->max_fields entries. prev_len is how many bytes of buf an earlier
 * call already saw return -2 (0 on the first call), so that a head arriving
 * byte by byte costs O(len) in all, not O(len^2).
 *
 * Returns the head length (> 0, blank line included) with *req filled, -2
 * when more bytes are needed, or -1 with *err set.
 */
int http1_parse_request(const char *buf, size_t len, size_t prev_len,
			const struct http1_limits *limits,
			struct http1_header *headers, struct http1_request *req,
			struct http1_error *err);

/*
 * The status code a request error is answered with (400, 414, 431 or 505).
 * A response error is answered 502 whatever its code.
 */
int http1_err_status(enum http1_err code);

/* A short English reason for an error code, for the response body. */
const char *http1_err_text(enum http1_err code);

/*
 * Case-insensitive comparison of a slice with a NUL-terminated name.
 * Inline so that the name's length is a constant and most calls end at
 * the length test: heads are checked against a dozen names per field.
 */
bool http1_name_eq_len(const char *name, size_t len, const char *lit,
		       size_t lit_len);

static inline int http1_name_eq(const char *name, size_t len, const char *lit)
{
	size_t lit_len = strlen(lit);

	return len == lit_len && http1_name_eq_len(name, len, lit, lit_len);
}

#endif
