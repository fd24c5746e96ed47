/*
 * test_siphash.c - SipHash-2-4: the 64 test vectors of the reference
 * implementation (key 00 01 .. 0f, message 00 01 .. n-1 for n = 0..63,
 * covering every tail length and up to eight blocks), and that the output
 * depends on every bit of the key, every bit of the message and its length,
 * not on where the bytes sit in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/siphash.h"

/* SipHash-2-4 of 00 01 .. (n-1) under the key 00 01 .. 0f, as 64-bit
 * values (the reference vectors.h lists the same little-endian bytes;
 * n = 15 is the example of the paper's appendix A). */
static const uint64_t vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static void key_and_message(uint8_t key[16], uint8_t msg[64])
{
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
}

static void matches_the_reference_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	key_and_message(key, msg);
	for (size_t n = 0; n < 64; n++) {
		/* exactly n bytes on the heap: ASan sees any read past them */
		uint8_t *copy = malloc(n > 0 ? n : 1);
		uint64_t got;

		assert_non_null(copy);
		memcpy(copy, msg, n);
		got = siphash24(key, copy, n);
		if (got != vectors[n])
			fail_msg("n=%zu: got 0x%016llx, expected 0x%016llx", n,
				 (unsigned long long)got,
				 (unsigned long long)vectors[n]);
		free(copy);
	}
}

static void matches_the_two_named_examples(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	key_and_message(key, msg);
	assert_true(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* Flipping any one bit of the key changes the output, for an empty, a
 * one-block and a multi-block message; and no two keys in the set collide. */
static void depends_on_every_bit_of_the_key(void **state)
{
	static const size_t lens[] = {0, 7, 8, 15, 63};
	uint8_t key[16], msg[64];

	(void)state;
	key_and_message(key, msg);
	for (size_t l = 0; l < sizeof(lens) / sizeof(*lens); l++) {
		uint64_t seen[129];
		seen[128] = siphash24(key, msg, lens[l]);
		assert_true(seen[128] == vectors[lens[l]]);
		for (int bit = 0; bit < 128; bit++) {
			uint8_t k[16];
			memcpy(k, key, sizeof(k));
			k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			seen[bit] = siphash24(k, msg, lens[l]);
		}
		for (int i = 0; i < 129; i++)
			for (int j = i + 1; j < 129; j++)
				if (seen[i] == seen[j])
					fail_msg("len %zu: key variants %d and "
						 "%d collide",
						 lens[l], i, j);
	}
	/* the all-zero key is a key like any other */
	uint8_t zero[16] = {0};
	assert_true(siphash24(zero, msg, 15) != vectors[15]);
}

static void depends_on_every_bit_of_the_message_and_its_length(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	key_and_message(key, msg);
	for (size_t n = 1; n <= 24; n++) {
		uint64_t base = siphash24(key, msg, n);
		for (size_t bit = 0; bit < n * 8; bit++) {
			uint8_t m[64];
			memcpy(m, msg, n);
			m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_true(siphash24(key, m, n) != base);
		}
	}
	/* a zero byte added at the end is not the same message: the length
	 * goes into the last block */
	uint8_t zeros[16] = {0};
	for (size_t n = 0; n < 15; n++)
		assert_true(siphash24(key, zeros, n) !=
			    siphash24(key, zeros, n + 1));
	/* user\0pass framing as the credential cache uses it */
	assert_true(siphash24(key, "ab\0c", 4) != siphash24(key, "a\0bc", 4));
}

static void does_not_depend_on_alignment(void **state)
{
	uint8_t key[16], msg[64];
	uint8_t buf[64 + 8];

	(void)state;
	key_and_message(key, msg);
	for (size_t off = 0; off < 8; off++) {
		uint8_t kbuf[16 + 8];
		memcpy(buf + off, msg, 64);
		memcpy(kbuf + off, key, 16);
		for (size_t n = 0; n < 64; n++)
			assert_true(siphash24(kbuf + off, buf + off, n) ==
				    vectors[n]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_the_reference_vectors),
		cmocka_unit_test(matches_the_two_named_examples),
		cmocka_unit_test(depends_on_every_bit_of_the_key),
		cmocka_unit_test(
			depends_on_every_bit_of_the_message_and_its_length),
		cmocka_unit_test(does_not_depend_on_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
