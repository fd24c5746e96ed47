/*
 * test_dns_name.c - the one DNS-name check of blocklist lines and the
 * parent-proxy directives: label and name lengths at their bounds, the
 * bytes a label may hold, empty labels, a trailing dot, and a last label
 * of digits only (an address, not a name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/dns_name.h"

struct name_case {
	const char *name;
	bool valid;
};

static const struct name_case cases[] = {
	{"example.com", true},
	{"EXAMPLE.Com", true},
	{"a", true},
	{"localhost", true},
	{"_dmarc.example.com", true},
	{"x-1.y_2.z", true},
	{"1.2.3.a", true},
	{"123.example", true},
	{"0x1", true},
	{"", false},
	{".", false},
	{".example.com", false},
	{"example..com", false},
	{"example.com.", false},
	{"exa mple.com", false},
	{"exa*mple.com", false},
	{"example.com:80", false},
	{"b\xc3\xa4r.example", false},
	{"1.2.3.4", false},
	{"example.123", false},
	{"42", false},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;
		/* an exact-length heap copy: a read past the end is caught */
		size_t len = strlen(n);
		char *copy = malloc(len + 1);
		assert_non_null(copy);
		memcpy(copy, n, len);
		if (dns_name_valid(copy, len) != cases[i].valid)
			fail_msg("\"%s\": expected %s", n,
				 cases[i].valid ? "valid" : "invalid");
		free(copy);
	}
}

static void test_embedded_nul_refused(void **state)
{
	(void)state;
	assert_false(dns_name_valid("exa\0mple.com", 12));
}

/* Fills buf with labels of label_len 'a's joined by dots, len bytes. */
static void make_name(char *buf, size_t len, size_t label_len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (i + 1) % (label_len + 1) == 0 ? '.' : 'a';
}

static void test_bounds(void **state)
{
	char buf[DNS_NAME_MAX + 2];

	(void)state;
	make_name(buf, DNS_LABEL_MAX, DNS_LABEL_MAX + 1);
	assert_true(dns_name_valid(buf, DNS_LABEL_MAX));
	make_name(buf, DNS_LABEL_MAX + 1, DNS_LABEL_MAX + 1);
	assert_false(dns_name_valid(buf, DNS_LABEL_MAX + 1));
	/* 253 bytes of 63-byte labels: 63.63.63.61 */
	make_name(buf, DNS_NAME_MAX, DNS_LABEL_MAX);
	assert_true(dns_name_valid(buf, DNS_NAME_MAX));
	make_name(buf, DNS_NAME_MAX + 1, DNS_LABEL_MAX);
	assert_false(dns_name_valid(buf, DNS_NAME_MAX + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_embedded_nul_refused),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
