/*
 * test_addr.c - listen addresses to and from text: literals only, never a
 * resolver, and what is formatted parses back to the same address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "base/addr.h"

static void parses_ip_literals_with_a_port(void **state)
{
	static const struct {
		const char *in;
		int family;
		const char *formatted; /* addr_format of the result */
	} cases[] = {
		{"1.2.3.4:80", AF_INET, "1.2.3.4:80"},
		{"127.0.0.1:3128", AF_INET, "127.0.0.1:3128"},
		{"0.0.0.0:65535", AF_INET, "0.0.0.0:65535"},
		{"*:8080", AF_INET, "0.0.0.0:8080"},
		{"127.0.0.1:0", AF_INET, "127.0.0.1:0"}, /* the kernel picks */
		{"[::1]:3128", AF_INET6, "[::1]:3128"},
		{"[::]:0", AF_INET6, "[::]:0"},
		{"[2001:DB8:0:0::1]:443", AF_INET6, "[2001:db8::1]:443"},
		{"[::ffff:10.0.0.1]:80", AF_INET6, "[::ffff:10.0.0.1]:80"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char out[ADDR_TEXT_MAX];

		if (addr_parse(cases[i].in, &ss, &len) != 0)
			fail_msg("'%s' refused", cases[i].in);
		assert_int_equal(ss.ss_family, cases[i].family);
		assert_int_equal(len, cases[i].family == AF_INET
					      ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6));
		addr_format((const struct sockaddr *)&ss, out, sizeof(out));
		assert_string_equal(out, cases[i].formatted);
	}
}

static void refuses_anything_but_a_literal_and_a_port(void **state)
{
	static const char *const cases[] = {
		"",
		":80",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:65536",
		"1.2.3.4:123456",
		"1.2.3.4:-1",
		"1.2.3.4:+80",
		"1.2.3.4:80 ",
		"1.2.3.4: 80",
		"1.2.3.4:http",
		" 1.2.3.4:80",
		"1.2.3:80",
		"01.2.3.4:80",
		"256.0.0.1:80",
		"localhost:80",
		"example.com:443",
		"::1:80",
		"[::1]",
		"[::1]80",
		"[::1:80",
		"[]:80",
		"[*]:80",
		"*:",
		"**:80",
		"[1.2.3.4]:80",
		"[fe80::1%eth0]:80",
		"[0000:0000:0000:0000:0000:ffff:255.255.255.255a]:80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;

		if (addr_parse(cases[i], &ss, &len) != -1)
			fail_msg("'%s' accepted", cases[i]);
	}
}

static void formats_into_any_buffer(void **state)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(443)};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(65535)};
	struct sockaddr_storage odd = {.ss_family = AF_UNIX};
	static const struct {
		int which; /* 4, 6 or 0 for an odd family */
		size_t cap;
		const char *want;
	} cases[] = {
		{4, ADDR_TEXT_MAX, "192.0.2.1:443"},
		{4, 6, "192.0"},
		{4, 1, ""},
		{6, ADDR_TEXT_MAX,
		 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
		{6, 10, "[ffff:fff"},
		{0, ADDR_TEXT_MAX, "?"},
	};

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	memset(&s6.sin6_addr, 0xff, sizeof(s6.sin6_addr));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[ADDR_TEXT_MAX];
		const struct sockaddr *sa =
			cases[i].which == 4   ? (const struct sockaddr *)&s4
			: cases[i].which == 6 ? (const struct sockaddr *)&s6
					      : (const struct sockaddr *)&odd;

		memset(out, 'x', sizeof(out));
		addr_format(sa, out, cases[i].cap);
		assert_string_equal(out, cases[i].want);
		assert_true(strlen(out) < cases[i].cap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_ip_literals_with_a_port),
		cmocka_unit_test(refuses_anything_but_a_literal_and_a_port),
		cmocka_unit_test(formats_into_any_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
