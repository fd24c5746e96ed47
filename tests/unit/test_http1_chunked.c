/*
 * test_http1_chunked.c - the chunked decoder: valid bodies give back their
 * data exactly, fed whole and one byte at a time; every framing fault and
 * the known smuggling shapes (bare LF, overflowing sizes, junk after the
 * size, obs-fold in trailers) are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_chunked.h"

#define S(lit) lit, sizeof(lit) - 1

struct outcome {
	long rc; /* total consumed, or -1 */
	char data[256];
	size_t data_len;
	int done;
	enum http1_chunked_err err;
};

/* Feeds in[0..len) in pieces of `step` bytes (0: all at once). */
static struct outcome run(const char *in, size_t len, size_t step)
{
	struct outcome o = {0};
	struct http1_chunked c;
	size_t pos = 0, avail = 0;
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	memcpy(buf, in, len);
	http1_chunked_init(&c);
	while (pos < len && c.state != HTTP1_CHUNK_DONE) {
		struct http1_chunk_data d;
		long n;

		avail = step == 0 ? len
				  : (avail < pos + step ? pos + step : avail);
		if (avail > len)
			avail = len;
		n = http1_chunked_feed(&c, buf + pos, avail - pos, &d);
		if (n < 0) {
			o.rc = -1;
			o.err = c.err;
			free(buf);
			return o;
		}
		assert_true(d.offset + d.len <= (size_t)n);
		assert_true(o.data_len + d.len <= sizeof(o.data));
		memcpy(o.data + o.data_len, buf + pos + d.offset, d.len);
		o.data_len += d.len;
		pos += (size_t)n;
		if (n == 0 && avail == len)
			break; /* needs more than there is */
	}
	o.rc = (long)pos;
	o.done = c.state == HTTP1_CHUNK_DONE;
	free(buf);
	return o;
}

struct good_case {
	const char *in;
	size_t len;
	const char *data;
	size_t consumed; /* bytes of the body; the rest is the next message */
};

static const struct good_case good[] = {
	{S("0\r\n\r\n"), "", 5},
	{S("5\r\nhello\r\n0\r\n\r\n"), "hello", 15},
	{S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "hello world", 26},
	{S("A\r\n0123456789\r\n0\r\n\r\n"), "0123456789", 20},
	{S("a\r\n0123456789\r\n0\r\n\r\n"), "0123456789", 20},
	{S("000005\r\nhello\r\n0\r\n\r\n"), "hello", 20},
	{S("5;name=value\r\nhello\r\n0\r\n\r\n"), "hello", 26},
	{S("5 ;name=\"quoted ; value\"\r\nhello\r\n0\r\n\r\n"), "hello", 38},
	{S("5\r\nhello\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n"), "hello", 29},
	{S("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), "abc", 13},
	{S("2\r\n\r\n\r\n0\r\n\r\n"), "\r\n", 12},
	{S("ffffffff\r\n"), "", 10}, /* big but valid: waits for data */
};

static void decodes_valid_bodies_whole_and_bytewise(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		for (size_t step = 0; step <= 3; step++) {
			struct outcome o = run(good[i].in, good[i].len, step);
			size_t want = strlen(good[i].data);

			if (o.rc != (long)good[i].consumed ||
			    o.data_len != want ||
			    memcmp(o.data, good[i].data, want) != 0) {
				print_error("case %zu step %zu: rc %ld data "
					    "'%.*s'\n",
					    i, step, o.rc, (int)o.data_len,
					    o.data);
				fail();
			}
		}
	}
}

struct bad_case {
	const char *name;
	const char *in;
	size_t len;
	enum http1_chunked_err err;
};

static const struct bad_case bad[] = {
	{"empty size", S("\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"signed size", S("+5\r\nhello\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"negative size", S("-1\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"0x prefix", S("0x5\r\nhello\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"junk after size", S("5x\r\nhello\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"space inside size", S("5 5\r\n"), HTTP1_CHUNKED_BAD_SIZE},
	{"17 digits", S("00000000000000001\r\n"), HTTP1_CHUNKED_SIZE_OVERFLOW},
	{"2^64", S("10000000000000000\r\n"), HTTP1_CHUNKED_SIZE_OVERFLOW},
	{"bare LF after size", S("5\nhello\r\n"), HTTP1_CHUNKED_BAD_CRLF},
	{"bare CR after size", S("5\rhello\r\n"), HTTP1_CHUNKED_BAD_CRLF},
	{"LF in extension", S("5;a\nb\r\nhello\r\n"), HTTP1_CHUNKED_BAD_CRLF},
	{"NUL in extension", S("5;a\0b\r\nhello\r\n"), HTTP1_CHUNKED_BAD_EXT},
	{"data longer than size", S("3\r\nhello\r\n"), HTTP1_CHUNKED_BAD_CRLF},
	{"bare LF after data", S("5\r\nhello\n0\r\n\r\n"),
	 HTTP1_CHUNKED_BAD_CRLF},
	{"obs-fold in trailer", S("0\r\nA: 1\r\n 2\r\n\r\n"),
	 HTTP1_CHUNKED_BAD_TRAILER},
	{"space before colon in trailer", S("0\r\nA : 1\r\n\r\n"),
	 HTTP1_CHUNKED_BAD_TRAILER},
	{"trailer without colon", S("0\r\nJunk\r\n\r\n"),
	 HTTP1_CHUNKED_BAD_TRAILER},
	{"bare LF ends trailers", S("0\r\n\n"), HTTP1_CHUNKED_BAD_TRAILER},
	{"bare LF in trailer", S("0\r\nA: 1\n\r\n"), HTTP1_CHUNKED_BAD_CRLF},
	{"CTL in trailer value", S("0\r\nA: \x01\r\n\r\n"),
	 HTTP1_CHUNKED_BAD_TRAILER},
};

static void refuses_bad_framing_whole_and_bytewise(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t step = 0; step <= 2; step++) {
			struct outcome o = run(bad[i].in, bad[i].len, step);
			if (o.rc != -1 || o.err != bad[i].err) {
				print_error("%s (step %zu): rc %ld err %d, "
					    "want err %d\n",
					    bad[i].name, step, o.rc, o.err,
					    bad[i].err);
				fail();
			}
		}
	}
}

static void bounds_extension_and_trailer_length(void **state)
{
	size_t n = HTTP1_CHUNK_LINE_MAX + 16;
	char *line = malloc(n + 8);
	struct outcome o;

	(void)state;
	assert_non_null(line);
	line[0] = '1';
	line[1] = ';';
	memset(line + 2, 'a', n - 2);
	o = run(line, n, 0);
	free(line);
	assert_int_equal(o.rc, -1);
	assert_int_equal(o.err, HTTP1_CHUNKED_BAD_EXT);

	/* "0\r\n" then 9-byte trailer lines past the limit, never ended */
	n = 3 + (HTTP1_CHUNK_TRAILERS_MAX / 9 + 2) * 9;
	line = malloc(n);
	assert_non_null(line);
	memcpy(line, "0\r\n", 3);
	for (size_t i = 3; i < n; i += 9)
		memcpy(line + i, "A: 1234\r\n", 9);
	o = run(line, n, 0);
	free(line);
	assert_int_equal(o.rc, -1);
	assert_int_equal(o.err, HTTP1_CHUNKED_BAD_TRAILER);
}

static void stops_after_each_data_run(void **state)
{
	static const char in[] = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	struct http1_chunked c;
	struct http1_chunk_data d;
	long n;

	(void)state;
	http1_chunked_init(&c);
	n = http1_chunked_feed(&c, in, sizeof(in) - 1, &d);
	assert_int_equal(n, 6); /* "3\r\nabc" */
	assert_int_equal(d.offset, 3);
	assert_int_equal(d.len, 3);
	assert_int_equal(c.state, HTTP1_CHUNK_DATA_CR);
	n = http1_chunked_feed(&c, in + 6, sizeof(in) - 1 - 6, &d);
	assert_int_equal(n, 7); /* "\r\n2\r\nde" */
	assert_int_equal(d.len, 2);
	/* a caller may move the rest of a chunk's data itself (splice) */
	http1_chunked_init(&c);
	n = http1_chunked_feed(&c, "10\r\n", 4, &d);
	assert_int_equal(n, 4);
	assert_int_equal(c.state, HTTP1_CHUNK_DATA);
	assert_int_equal(c.remaining, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_valid_bodies_whole_and_bytewise),
		cmocka_unit_test(refuses_bad_framing_whole_and_bytewise),
		cmocka_unit_test(bounds_extension_and_trailer_length),
		cmocka_unit_test(stops_after_each_data_run),
	};
	return cmocka_run_group_tests_name("http1_chunked", tests, NULL, NULL);
}
