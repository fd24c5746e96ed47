/*
 * http1_chunked.c - see http1_chunked.h. One byte-at-a-time state machine
 * for the framing, and a bulk step for data, which is most of the bytes.
 */
#include "http/http1_chunked.h"

#include "base/hex.h"

#include <stdbool.h>
#include <string.h>

#define SIZE_DIGITS_MAX 16 /* 64 bits of hex */

/* Extension and trailer sub-states (ext_state). */
#define EXT_AFTER_SIZE 0 /* only BWS, ';' or CR may follow the size */
#define EXT_INSIDE     1
#define TRAILER_NAME   0
#define TRAILER_VALUE  1

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control bytes other than HTAB, and DEL: never inside a line. */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

void http1_chunked_init(struct http1_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = HTTP1_CHUNK_SIZE;
}

static int fail(struct http1_chunked *c, enum http1_chunked_err err)
{
	c->err = err;
	return -1;
}

/* A size line is over: start the data, or the trailers after size 0. */
static void size_done(struct http1_chunked *c)
{
	c->remaining = c->size;
	c->state = c->size == 0 ? HTTP1_CHUNK_TRAILER : HTTP1_CHUNK_DATA;
	c->size = 0;
	c->digits = 0;
	c->line_bytes = 0;
}

/* One framing byte. Returns 0, or -1 with c->err set. */
static int step(struct http1_chunked *c, unsigned char b)
{
	int v;

	switch (c->state) {
	case HTTP1_CHUNK_SIZE:
		v = hex_digit(b);
		if (v >= 0) {
			if (c->digits == SIZE_DIGITS_MAX)
				return fail(c, HTTP1_CHUNKED_SIZE_OVERFLOW);
			c->size = c->size << 4 | (uint64_t)v;
			c->digits++;
			return 0;
		}
		if (c->digits == 0)
			return fail(c, HTTP1_CHUNKED_BAD_SIZE);
		c->line_bytes = c->digits;
		c->ext_state = EXT_AFTER_SIZE;
		c->state = HTTP1_CHUNK_EXT;
		return step(c, b);
	case HTTP1_CHUNK_EXT:
		if (++c->line_bytes > HTTP1_CHUNK_LINE_MAX)
			return fail(c, HTTP1_CHUNKED_BAD_EXT);
		if (b == '\r') {
			c->state = HTTP1_CHUNK_SIZE_LF;
			return 0;
		}
		if (b == '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		if (is_ctl(b))
			return fail(c, HTTP1_CHUNKED_BAD_EXT);
		if (c->ext_state == EXT_AFTER_SIZE) {
			/* RFC 9112 §7.1.1: BWS ";" ext-name ... */
			if (b == ';')
				c->ext_state = EXT_INSIDE;
			else if (b != ' ' && b != '\t')
				return fail(c, HTTP1_CHUNKED_BAD_SIZE);
		}
		return 0;
	case HTTP1_CHUNK_SIZE_LF:
		if (b != '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		size_done(c);
		return 0;
	case HTTP1_CHUNK_DATA_CR:
		if (b != '\r')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		c->state = HTTP1_CHUNK_DATA_LF;
		return 0;
	case HTTP1_CHUNK_DATA_LF:
		if (b != '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		c->state = HTTP1_CHUNK_SIZE;
		return 0;
	case HTTP1_CHUNK_TRAILER:
		if (++c->trailer_bytes > HTTP1_CHUNK_TRAILERS_MAX)
			return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		if (b == '\r') {
			c->state = HTTP1_CHUNK_END_LF;
			return 0;
		}
		/* a field line: a token name; SP/HTAB first is obs-fold */
		if (!is_tchar(b))
			return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		c->ext_state = TRAILER_NAME;
		c->state = HTTP1_CHUNK_TRAILER_LINE;
		return 0;
	case HTTP1_CHUNK_TRAILER_LINE:
		if (++c->trailer_bytes > HTTP1_CHUNK_TRAILERS_MAX)
			return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		if (b == '\r') {
			if (c->ext_state != TRAILER_VALUE)
				return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
			c->state = HTTP1_CHUNK_TRAILER_LF;
			return 0;
		}
		if (b == '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		if (c->ext_state == TRAILER_NAME) {
			if (b == ':')
				c->ext_state = TRAILER_VALUE;
			else if (!is_tchar(b))
				return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		} else if (is_ctl(b)) {
			return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		}
		return 0;
	case HTTP1_CHUNK_TRAILER_LF:
		if (++c->trailer_bytes > HTTP1_CHUNK_TRAILERS_MAX)
			return fail(c, HTTP1_CHUNKED_BAD_TRAILER);
		if (b != '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		c->state = HTTP1_CHUNK_TRAILER;
		return 0;
	case HTTP1_CHUNK_END_LF:
		if (b != '\n')
			return fail(c, HTTP1_CHUNKED_BAD_CRLF);
		c->state = HTTP1_CHUNK_DONE;
		return 0;
	case HTTP1_CHUNK_DATA:
	case HTTP1_CHUNK_DONE:
		break;
	}
	return 0;
}

long http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
			struct http1_chunk_data *data)
{
	size_t i = 0;

	data->offset = 0;
	data->len = 0;
	if (c->err != HTTP1_CHUNKED_OK)
		return -1;
	while (i < len && c->state != HTTP1_CHUNK_DONE) {
		if (c->state == HTTP1_CHUNK_DATA) {
			size_t n = len - i;
			if (c->remaining < n)
				n = (size_t)c->remaining;
			data->offset = i;
			data->len = n;
			c->remaining -= n;
			i += n;
			if (c->remaining == 0)
				c->state = HTTP1_CHUNK_DATA_CR;
			return (long)i; /* one data run per call */
		}
		if (step(c, (unsigned char)in[i]) < 0)
			return -1;
		i++;
	}
	return (long)i;
}

const char *http1_chunked_strerror(enum http1_chunked_err err)
{
	switch (err) {
	case HTTP1_CHUNKED_OK:
		return "no error";
	case HTTP1_CHUNKED_BAD_SIZE:
		return "invalid chunk size";
	case HTTP1_CHUNKED_SIZE_OVERFLOW:
		return "chunk size too large";
	case HTTP1_CHUNKED_BAD_EXT:
		return "invalid chunk extension";
	case HTTP1_CHUNKED_BAD_CRLF:
		return "chunk line not ended by CRLF";
	case HTTP1_CHUNKED_BAD_TRAILER:
		return "invalid trailer field";
	}
	return "invalid chunked framing";
}
