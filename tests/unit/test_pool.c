/*
 * test_pool.c - the fixed-size object pool: zeroed objects (and unzeroed
 * ones taken for buffers), an exact count of live ones, a bounded free list.
 *
 * The unit tests run under AddressSanitizer, where the pool caches nothing
 * (so that a use after pool_put is caught); what is checked here holds with
 * and without the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/pool.h"

#define MAX_LIVE 8

/*
 * Runs ops on a fresh pool: 'g' gets an object (and scribbles on it), 't'
 * takes one unzeroed (and scribbles on it), 'p' puts back the most recent
 * one still out, 'n' puts NULL. Every object got must be zeroed, whatever
 * was taken and put back before; the pool's counts must match what is out.
 */
static void run_ops(size_t obj_size, size_t max_free, const char *ops)
{
	struct pool p;
	unsigned char *out[MAX_LIVE];
	size_t n_out = 0;

	pool_init(&p, obj_size, max_free);
	assert_true(p.obj_size >= obj_size);
	assert_true(p.obj_size >= sizeof(void *));
	for (const char *op = ops; *op != '\0'; op++) {
		switch (*op) {
		case 'g': {
			unsigned char *obj = pool_get(&p);
			assert_non_null(obj);
			for (size_t i = 0; i < p.obj_size; i++)
				if (obj[i] != 0)
					fail_msg("%s: byte %zu of a new object "
						 "is %u",
						 ops, i, obj[i]);
			memset(obj, 0xa5, p.obj_size);
			assert_true(n_out < MAX_LIVE);
			out[n_out++] = obj;
			break;
		}
		case 't': {
			unsigned char *obj = pool_take(&p);
			assert_non_null(obj);
			memset(obj, 0x5a, p.obj_size); /* all of it is ours */
			assert_true(n_out < MAX_LIVE);
			out[n_out++] = obj;
			break;
		}
		case 'p':
			assert_true(n_out > 0);
			pool_put(&p, out[--n_out]);
			break;
		case 'n':
			pool_put(&p, NULL);
			break;
		default:
			fail_msg("bad op '%c'", *op);
		}
		assert_int_equal(p.live, n_out);
		assert_true(p.nfree <= p.max_free);
		assert_true(p.max_free <= max_free);
	}
	while (n_out > 0)
		pool_put(&p, out[--n_out]);
	pool_deinit(&p);
	assert_int_equal(p.nfree, 0);
	assert_null(p.free_list);
}

static void hands_out_zeroed_objects_and_counts_them(void **state)
{
	static const struct {
		size_t obj_size;
		size_t max_free;
		const char *ops;
	} cases[] = {
		{1, 4, "g"}, /* raised to hold a pointer */
		{sizeof(void *), 4, "gp"},
		{100, 4, "gpgpgp"},   /* a recycled object is zeroed */
		{100, 2, "ggggpppp"}, /* more returned than are kept */
		{100, 0, "gpgp"},     /* no cache at all */
		{4096, 8, "gggpgpgppp"},
		{32, 4, "nngnpn"},	/* NULL is ignored */
		{4096, 8, "tptpgp"},	/* taken, scribbled, then got: zeroed */
		{100, 2, "ttttppppgg"}, /* taken and got share the counts */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_ops(cases[i].obj_size, cases[i].max_free, cases[i].ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hands_out_zeroed_objects_and_counts_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
