/*
 * test_base64.c - strict base64 decoding (RFC 4648 §4): the §10 test
 * vectors, padding (one or two '=', only at the very end, the bits it drops
 * zero), characters outside the alphabet and whitespace refused, lengths
 * that are not a multiple of four, and the output capacity (exact fits, one
 * byte short does not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base64.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

/*
 * Decodes from an exactly-sized heap copy into an exactly-sized heap
 * buffer of cap bytes (ASan checks both bounds). On success the decoded
 * bytes are copied to out (which has room for cap bytes).
 */
static long decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	char *copy = malloc(len);
	unsigned char *buf = malloc(cap);
	long n;

	assert_true(copy != NULL || len == 0);
	assert_true(buf != NULL || cap == 0);
	if (len > 0)
		memcpy(copy, in, len);
	n = base64_decode(copy, len, buf, cap);
	if (n > 0)
		memcpy(out, buf, (size_t)n);
	free(copy);
	free(buf);
	return n;
}

/* Decodes with plenty of room; -1 or the length. */
static long decode_big(const char *in, size_t len, unsigned char *out)
{
	return decode(in, len, out, 1024);
}

static void assert_refused(const char *in, size_t len)
{
	unsigned char out[1024];
	long n = decode_big(in, len, out);

	if (n != -1)
		fail_msg("\"%.*s\" (%zu bytes) decoded to %ld bytes, expected "
			 "-1",
			 (int)len, in, len, n);
}

/* A plain reference encoder, for round trips. */
static size_t encode(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[n++] = abc[(v >> 18) & 63];
		out[n++] = abc[(v >> 12) & 63];
		out[n++] = left > 1 ? abc[(v >> 6) & 63] : '=';
		out[n++] = left > 2 ? abc[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

static void decodes_the_rfc4648_vectors(void **state)
{
	static const struct {
		const char *plain, *b64;
	} v[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	unsigned char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		size_t want = strlen(v[i].plain);
		long n = decode_big(v[i].b64, strlen(v[i].b64), out);

		assert_int_equal(n, (long)want);
		assert_memory_equal(out, v[i].plain, want);
	}
}

static void decodes_the_whole_alphabet(void **state)
{
	static const char all[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const unsigned char want[48] = {
		0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30,
		0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96,
		0x9b, 0x71, 0xd7, 0x9f, 0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7,
		0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf, 0xc3, 0x1c, 0xb3, 0xd3,
		0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf,
	};
	unsigned char out[64];

	(void)state;
	assert_int_equal(decode_big(S(all), out), 48);
	assert_memory_equal(out, want, sizeof(want));
}

/* Every byte value, at every offset within a group of three, and every
 * length up to 64: decoding what a reference encoder wrote gives it back. */
static void round_trips_every_byte_and_length(void **state)
{
	unsigned char plain[258], out[300];
	char enc[400];

	(void)state;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (unsigned char)(i * 7 + 3);
	for (size_t shift = 0; shift < 3; shift++) {
		unsigned char all[256];
		for (size_t i = 0; i < 256; i++)
			all[i] = (unsigned char)(i + shift);
		size_t elen = encode(all, 256, enc);
		assert_int_equal(decode_big(enc, elen, out), 256);
		assert_memory_equal(out, all, 256);
	}
	for (size_t len = 0; len <= 64; len++) {
		size_t elen = encode(plain, len, enc);
		assert_int_equal(elen % 4, 0);
		assert_int_equal(decode(enc, elen, out, len), (long)len);
		assert_memory_equal(out, plain, len);
	}
}

static void takes_one_or_two_padding_characters_at_the_end(void **state)
{
	unsigned char out[16];

	(void)state;
	assert_int_equal(decode_big(S("QQ=="), out), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(decode_big(S("QUI="), out), 2);
	assert_memory_equal(out, "AB", 2);
	assert_int_equal(decode_big(S("QUJDQQ=="), out), 4);
	assert_memory_equal(out, "ABCA", 4);
	/* three or four '=' is not padding */
	assert_refused(S("Q==="));
	assert_refused(S("===="));
	assert_refused(S("QUJD===="));
}

static void refuses_padding_anywhere_but_the_end(void **state)
{
	(void)state;
	/* padding in a group that is not the last */
	assert_refused(S("Zg==Zm8="));
	assert_refused(S("Zm8=Zm9v"));
	assert_refused(S("Zg==Zg=="));
	/* '=' before the third position of the last group */
	assert_refused(S("=Zg="));
	assert_refused(S("Z=g="));
	assert_refused(S("Zm9v=m9v"));
	/* '=' followed by a character of the alphabet */
	assert_refused(S("Zm=v"));
	assert_refused(S("Zg=a"));
	assert_refused(S("Zm9vZ=8="));
}

/* RFC 4648 §3.5: the bits that the padding drops must be zero, so that
 * every byte string has a single encoding. */
static void refuses_non_canonical_trailing_bits(void **state)
{
	unsigned char out[16];

	(void)state;
	/* "f" is Zg==: 'g' leaves the low four bits zero; h..v do not */
	assert_int_equal(decode_big(S("Zg=="), out), 1);
	assert_refused(S("Zh=="));
	assert_refused(S("Zi=="));
	assert_refused(S("Zv=="));
	assert_refused(S("Z/=="));
	assert_int_equal(decode_big(S("Zw=="), out), 1); /* 'w': 110000 */
	assert_int_equal(out[0], 0x67);
	/* "fo" is Zm8=: '8' (111100) ends in two zero bits; '9' does not */
	assert_int_equal(decode_big(S("Zm8="), out), 2);
	assert_refused(S("Zm9="));
	assert_refused(S("Zm+="));
	assert_refused(S("Zm/="));
	assert_refused(S("Zm9vZm9="));
}

static void refuses_characters_outside_the_alphabet(void **state)
{
	static const char bad[] = "-_.,!\"#$%&'()*:;<>?@[\\]^`{|}~";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) - 1; i++) {
		for (size_t pos = 0; pos < 4; pos++) {
			char in[] = "Zm9vYmFy";
			in[4 + pos] = bad[i];
			assert_refused(in, 8);
			in[4 + pos] = 'A';
			in[pos] = bad[i];
			assert_refused(in, 8);
		}
	}
	/* the URL-safe alphabet (RFC 4648 §5) is another encoding */
	assert_refused(S("-_-_"));
	assert_refused(S("Pz8_"));
	/* NUL, DEL, bytes with the top bit set */
	assert_refused(S("Zm9\0"));
	assert_refused(S("\0m9v"));
	assert_refused(S("Zm9\x7f"));
	assert_refused(S("Zm9\x80"));
	assert_refused(S("Zm9\xff"));
	assert_refused(S("\xc3\xa9m9"));
}

static void refuses_whitespace(void **state)
{
	(void)state;
	/* inside, with the length still a multiple of four */
	assert_refused(S("Zm 9"));
	assert_refused(S("Zm9 "));
	assert_refused(S(" Zm9"));
	assert_refused(S("Zm\t9"));
	assert_refused(S("Zm\r9"));
	assert_refused(S("Zm\n9"));
	assert_refused(S("Zm9vYmFy    "));
	assert_refused(S("    Zm9vYmFy"));
	assert_refused(S("Zm9v\r\nYmFy\r\n"));
	assert_refused(S("Zm9vYmE=\r\n\r\n"));
	/* a line break, which MIME would allow */
	assert_refused(S("Zm9v\nYmFy"));
	assert_refused(S("Zg== "));
	assert_refused(S("Zg=\v"));
	assert_refused(S("Zg\f="));
}

static void refuses_lengths_not_a_multiple_of_four(void **state)
{
	static const char *const bad[] = {
		"Z",	  "Zg",	     "Zg=",	"Zm8",	      "Zm9vY",
		"Zm9vYg", "Zm9vYg=", "Zm9vYmE", "Zm9vYmFyZ",  "Zg===",
		"Zm9v=",  "=",	     "==",	"Zm9vYmFy==", "Zm9vYmFyZg=",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_refused(bad[i], strlen(bad[i]));
}

static void fits_an_exact_capacity_and_not_one_byte_less(void **state)
{
	static const struct {
		const char *b64;
		size_t len;
	} v[] = {
		{"Zg==", 1},
		{"Zm8=", 2},
		{"Zm9v", 3},
		{"Zm9vYg==", 4},
		{"Zm9vYmE=", 5},
		{"Zm9vYmFy", 6},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 24},
	};
	unsigned char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		size_t len = strlen(v[i].b64);

		assert_int_equal(decode(v[i].b64, len, out, v[i].len),
				 (long)v[i].len);
		assert_int_equal(decode(v[i].b64, len, out, v[i].len - 1), -1);
		if (v[i].len >= 2)
			assert_int_equal(decode(v[i].b64, len, out, 0), -1);
	}
	/* nothing to write needs no room */
	assert_int_equal(decode("", 0, out, 0), 0);
}

/* base64_encode: the RFC 4648 §10 vectors, the reference encoder's output
 * for every length up to 64, and a capacity that must hold the NUL. */
static void encodes_the_vectors_and_fits_its_capacity(void **state)
{
	static const struct {
		const char *plain, *b64;
	} v[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	unsigned char plain[64];
	char out[128], ref[128];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		size_t len = strlen(v[i].plain);
		long n = base64_encode((const unsigned char *)v[i].plain, len,
				       out, sizeof(out));
		assert_int_equal(n, (long)strlen(v[i].b64));
		assert_string_equal(out, v[i].b64);
		assert_int_equal(BASE64_ENCODED_LEN(len), strlen(v[i].b64));
	}
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(plain); len++) {
		size_t rlen = encode(plain, len, ref);
		size_t cap = BASE64_ENCODED_LEN(len) + 1;
		char *exact = malloc(cap);
		assert_non_null(exact);
		assert_int_equal(base64_encode(plain, len, exact, cap),
				 (long)rlen);
		assert_memory_equal(exact, ref, rlen);
		assert_int_equal(exact[rlen], '\0');
		assert_int_equal(base64_encode(plain, len, exact, cap - 1), -1);
		free(exact);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_the_rfc4648_vectors),
		cmocka_unit_test(decodes_the_whole_alphabet),
		cmocka_unit_test(round_trips_every_byte_and_length),
		cmocka_unit_test(
			takes_one_or_two_padding_characters_at_the_end),
		cmocka_unit_test(refuses_padding_anywhere_but_the_end),
		cmocka_unit_test(refuses_non_canonical_trailing_bits),
		cmocka_unit_test(refuses_characters_outside_the_alphabet),
		cmocka_unit_test(refuses_whitespace),
		cmocka_unit_test(refuses_lengths_not_a_multiple_of_four),
		cmocka_unit_test(fits_an_exact_capacity_and_not_one_byte_less),
		cmocka_unit_test(encodes_the_vectors_and_fits_its_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
