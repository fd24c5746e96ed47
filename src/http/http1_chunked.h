/*
 * http1_chunked.h - incremental decoder of the chunked transfer coding
 * (RFC 9112 §7.1): sizes, extensions, data, trailers.
 *
 * Pure: a small state struct the caller owns; bytes in, positions out. The
 * decoder never copies: it reports where the data bytes of the input are,
 * so the caller can re-frame them, write them, or (for a chunk's data that
 * has not arrived yet) move them with splice.
 *
 * Strict: a size is 1-16 hex digits without sign or whitespace and must fit
 * 64 bits; chunk extensions are checked for token syntax and bounded;
 * every line ends in CRLF; trailer fields follow header-field syntax and
 * are bounded. Anything else is an error, never a guess.
 */
#ifndef SLUICE_HTTP_HTTP1_CHUNKED_H
#define SLUICE_HTTP_HTTP1_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

/* Longest chunk-size line (size, extensions, CRLF) and trailer section. */
#define HTTP1_CHUNK_LINE_MAX	 4096
#define HTTP1_CHUNK_TRAILERS_MAX (16 * 1024)

enum http1_chunked_state {
	HTTP1_CHUNK_SIZE = 1, /* reading hex digits */
	HTTP1_CHUNK_EXT,      /* after the size, up to CR */
	HTTP1_CHUNK_SIZE_LF,  /* CR seen, LF due */
	HTTP1_CHUNK_DATA,     /* `remaining` data bytes due */
	HTTP1_CHUNK_DATA_CR,  /* CRLF after data due */
	HTTP1_CHUNK_DATA_LF,
	HTTP1_CHUNK_TRAILER,	  /* at the start of a trailer line */
	HTTP1_CHUNK_TRAILER_LINE, /* inside a trailer field line */
	HTTP1_CHUNK_TRAILER_LF,	  /* CR seen in a trailer line */
	HTTP1_CHUNK_END_LF,	  /* CR of the final empty line seen */
	HTTP1_CHUNK_DONE,
};

enum http1_chunked_err {
	HTTP1_CHUNKED_OK = 0,
	HTTP1_CHUNKED_BAD_SIZE,	     /* not hex, empty, or too many digits */
	HTTP1_CHUNKED_SIZE_OVERFLOW, /* does not fit 64 bits */
	HTTP1_CHUNKED_BAD_EXT,	     /* extension syntax or length */
	HTTP1_CHUNKED_BAD_CRLF,	     /* a line not ended by CRLF */
	HTTP1_CHUNKED_BAD_TRAILER,   /* trailer syntax or length */
};

struct http1_chunked {
	enum http1_chunked_state state;
	uint64_t remaining; /* data bytes left in this chunk */
	uint64_t size;	    /* size being read */
	unsigned digits;
	size_t line_bytes;    /* bytes of the current size or trailer line */
	size_t trailer_bytes; /* bytes of the trailer section so far */
	int ext_state;	      /* extension sub-state (private) */
	enum http1_chunked_err err;
};

/* Where the data bytes of one call are, within the input. */
struct http1_chunk_data {
	size_t offset;
	size_t len;
};

void http1_chunked_init(struct http1_chunked *c);

/*
 * Feeds in[0..len). Stops after the first run of data bytes, at the end of
 * the input, or when the body is complete. Returns the bytes consumed
 * (>= 0), with *data set to the data run inside them (len 0 if none), or
 * -1 with c->err set. Once c->state is HTTP1_CHUNK_DONE the body is over
 * and the bytes after the consumed ones belong to the next message.
 */
long http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
			struct http1_chunk_data *data);

const char *http1_chunked_strerror(enum http1_chunked_err err);

#endif
