/*
 * test_hosts.c - the hosts(5) parser: addresses of both families, several
 * names a line, every line of a name counted, comments, case and a
 * trailing dot, and the unspecified addresses dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "net/hosts.h"

#define S(lit) lit, sizeof(lit) - 1

static const char text[] =
	"# a comment line\n"
	"127.0.0.1\tlocalhost example.test  # trailing comment\n"
	"::1 localhost ip6-localhost\n"
	"192.0.2.10 Multi.Example.\n"
	"192.0.2.11 multi.example\n"
	"2001:db8::5 multi.example\n"
	"0.0.0.0 ads.example\n"
	":: ads6.example\n"
	"fe80::1%lo only-zoned.example\n"
	"not-an-address name.example\n"
	"10.0.0.1\n"
	"\r\n"
	"10.0.0.2 crlf.example\r\n";

struct want {
	const char *name;
	const char *v4; /* first IPv4 address, or NULL for none */
	size_t n4;
	const char *v6; /* first IPv6 address, or NULL for none */
	size_t n6;
};

static void finds_each_name_with_its_addresses(void **state)
{
	static const struct want table[] = {
		{"localhost", "127.0.0.1", 1, "::1", 1},
		{"example.test", "127.0.0.1", 1, NULL, 0},
		{"EXAMPLE.TEST.", "127.0.0.1", 1, NULL, 0},
		{"ip6-localhost", NULL, 0, "::1", 1},
		{"multi.example", "192.0.2.10", 2, "2001:db8::5", 1},
		{"crlf.example", "10.0.0.2", 1, NULL, 0},
	};
	struct hosts *h = hosts_parse(S(text));
	struct host_addrs a;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_non_null(h);
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		const struct want *w = &table[i];
		assert_true(hosts_lookup(h, w->name, strlen(w->name), &a));
		assert_int_equal(a.n4, w->n4);
		assert_int_equal(a.n6, w->n6);
		if (w->v4 != NULL)
			assert_string_equal(
				inet_ntop(AF_INET, &a.v4[0], buf, sizeof(buf)),
				w->v4);
		if (w->v6 != NULL)
			assert_string_equal(
				inet_ntop(AF_INET6, &a.v6[0], buf, sizeof(buf)),
				w->v6);
	}
	hosts_free(h);
}

static void leaves_out_what_cannot_be_dialled(void **state)
{
	static const char *const absent[] = {
		"ads.example",	      /* 0.0.0.0: this machine, not nowhere */
		"ads6.example",	      /* :: likewise */
		"only-zoned.example", /* a zone id: not an address here */
		"name.example",	      /* no address in front */
		"10.0.0.1",	      /* an address alone names nothing */
		"multi",	      /* labels are whole */
		"",
	};
	struct hosts *h = hosts_parse(S(text));
	struct host_addrs a;

	(void)state;
	assert_non_null(h);
	for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++)
		assert_false(hosts_lookup(h, absent[i], strlen(absent[i]), &a));
	/* localhost example.test ip6-localhost multi.example crlf.example */
	assert_int_equal(hosts_count(h), 5);
	hosts_free(h);
}

static void handles_empty_and_missing_files(void **state)
{
	struct hosts *h = hosts_parse("", 0);
	struct host_addrs a;

	(void)state;
	assert_non_null(h);
	assert_false(hosts_lookup(h, S("localhost"), &a));
	assert_int_equal(hosts_count(h), 0);
	hosts_free(h);
	h = hosts_load("/nonexistent/hosts");
	assert_non_null(h);
	assert_int_equal(hosts_count(h), 0);
	hosts_free(h);
	assert_false(hosts_lookup(NULL, S("localhost"), &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_each_name_with_its_addresses),
		cmocka_unit_test(leaves_out_what_cannot_be_dialled),
		cmocka_unit_test(handles_empty_and_missing_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
