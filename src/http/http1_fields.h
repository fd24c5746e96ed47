/*
 * http1_fields.h - internal to src/http/: the syntax that request and
 * response heads share (RFC 9112 §2.2, §2.3, §5; RFC 9110 §5.5, §5.6):
 * finding the end of a head under the limits, the HTTP version, field
 * lines, and the comma-separated lists inside field values.
 *
 * Pure, like its users. Only the parsers and the framing rules of
 * src/http/ include this header; everything else uses their contracts.
 */
#ifndef SLUICE_HTTP_HTTP1_FIELDS_H
#define SLUICE_HTTP_HTTP1_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http1_request.h"

/* RFC 9110 §5.6.2: tchar. */
bool http1_fields_is_tchar(unsigned char c);

/* Sets *err to code at offset; returns -1, the parsers' error value. */
int http1_fields_fail(struct http1_error *err, enum http1_err code,
		      size_t offset);

/*
 * Finds the end of a head that starts at buf[skip] (skip: the ignored
 * empty lines before a request line, 0 for a response), refusing NUL, bare
 * CR and bare LF on the way. The first line may not exceed
 * limits->max_line_bytes nor the head limits->max_head_bytes; the scan
 * stops at the first byte beyond a limit, so the answer for a head given
 * whole is the one it gets byte by byte. prev_len is as in
 * http1_parse_request(). Returns the head length (blank line included),
 * -2 when more bytes are needed, or -1 with *err set.
 */
int http1_fields_scan_head(const char *buf, size_t len, size_t prev_len,
			   size_t skip, const struct http1_limits *limits,
			   struct http1_error *err);

/*
 * In a head complete up to head_len, finds the end of the line that starts
 * at start: *line_end is the offset of its CR. Refuses control bytes other
 * than HTAB in it (HTTP1_ERR_CTL). Returns 0 or -1 with *err set.
 */
int http1_fields_first_line(const char *buf, size_t start, size_t head_len,
			    size_t *line_end, struct http1_error *err);

/*
 * Parses p[0..len) as "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3) and accepts
 * 1.0 and 1.1 only; off is p's offset in the input, for *err.
 */
int http1_fields_parse_version(const char *p, size_t len, size_t off,
			       int *minor_version, struct http1_error *err);

/*
 * Parses the field lines of a complete head, from offset pos (the start of
 * the line after the first) to the blank line at head_len - 2, into
 * headers[0..limits->max_fields). Sets *num_headers; returns 0 or -1.
 */
int http1_fields_parse_lines(const char *buf, size_t pos, size_t head_len,
			     const struct http1_limits *limits,
			     struct http1_header *headers, size_t *num_headers,
			     struct http1_error *err);

/* Case-insensitive (ASCII letters only) comparison of two slices. */
bool http1_fields_slice_eq(const char *a, size_t a_len, const char *b,
			   size_t b_len);

/*
 * A walk over the elements of a field value list (RFC 9110 §5.6.1):
 * elements are separated by commas with optional whitespace around them.
 * Quoted strings are not interpreted: none of the lists sluice reads needs
 * them, and an element holding a quote never equals a token we look for.
 */
struct http1_fields_list {
	const char *p;
	const char *end;
};

void http1_fields_list_init(struct http1_fields_list *l, const char *value,
			    size_t value_len);

/*
 * Yields the next element, without surrounding whitespace; empty elements
 * ("a, , b", and an empty value as one) are yielded too, with *len 0, so
 * that a caller may refuse them. Returns false after the last element.
 */
bool http1_fields_list_next(struct http1_fields_list *l, const char **elem,
			    size_t *len);

#endif
