/*
 * fuzz_http1_chunked.c - the chunked decoder on arbitrary bytes.
 *
 * The first input byte picks a split size; the rest is fed whole and then
 * in pieces of that size. Both must agree on the outcome, the data bytes
 * and the bytes consumed; every data run must lie inside what was consumed
 * and the data never exceeds the input. abort() on any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1_chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	long consumed; /* -1: error */
	enum http1_chunked_err err;
	int done;
	uint64_t data_bytes;
	uint32_t data_sum; /* a cheap digest of the data, in order */
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static struct result decode(const char *in, size_t len, size_t piece)
{
	struct result r = {0};
	struct http1_chunked c;
	size_t pos = 0;

	http1_chunked_init(&c);
	while (pos < len && c.state != HTTP1_CHUNK_DONE) {
		size_t avail = len - pos < piece ? len - pos : piece;
		struct http1_chunk_data d;
		long n = http1_chunked_feed(&c, in + pos, avail, &d);

		if (n < 0) {
			check(c.err != HTTP1_CHUNKED_OK);
			r.consumed = -1;
			r.err = c.err;
			return r;
		}
		check((size_t)n <= avail);
		check(d.offset + d.len <= (size_t)n);
		for (size_t i = 0; i < d.len; i++)
			r.data_sum = r.data_sum * 31 +
				     (unsigned char)in[pos + d.offset + i];
		r.data_bytes += d.len;
		pos += (size_t)n;
		if (n == 0)
			check(avail == 0);
	}
	r.consumed = (long)pos;
	r.done = c.state == HTTP1_CHUNK_DONE;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, split;
	size_t piece;
	char *in;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 7 + 1;
	in = malloc(size - 1 + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	whole = decode(in, size - 1, size);
	split = decode(in, size - 1, piece);
	check(whole.consumed == split.consumed);
	check(whole.err == split.err);
	check(whole.done == split.done);
	if (whole.consumed >= 0) {
		check(whole.data_bytes == split.data_bytes);
		check(whole.data_sum == split.data_sum);
		check(whole.data_bytes <= (uint64_t)whole.consumed);
	}
	free(in);
	return 0;
}
