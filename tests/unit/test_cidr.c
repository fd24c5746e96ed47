/*
 * test_cidr.c - address blocks: what parses (and what is refused rather
 * than guessed), which addresses a block holds at its edges, IPv4-mapped
 * IPv6 addresses matching as IPv4, ordered rules where the first match
 * decides, and the text a block formats to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "base/cidr.h"

/* Parses text from an exactly-sized heap copy (ASan checks the bound). */
static int parse(const char *text, size_t len, struct cidr *out)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = cidr_parse(copy, len, out);
	free(copy);
	return rc;
}

static struct cidr block(const char *text)
{
	struct cidr net;

	if (parse(text, strlen(text), &net) != 0)
		fail_msg("'%s' refused", text);
	return net;
}

/* An address literal as a socket address (port 0). */
static struct sockaddr_storage sa_of(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		ss.ss_family = AF_INET;
		return ss;
	}
	if (inet_pton(AF_INET6, text,
		      &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		return ss;
	}
	fail_msg("test bug: '%s' is not an address", text);
	return ss;
}

static bool contains(const char *net, const char *addr)
{
	struct cidr n = block(net);
	struct sockaddr_storage ss = sa_of(addr);

	return cidr_contains(&n, (const struct sockaddr *)&ss);
}

static void parses_blocks_single_addresses_and_all(void **state)
{
	static const struct {
		const char *in;
		int family;
		unsigned prefix;
		const char *addr; /* the address part, as inet_pton reads it */
	} cases[] = {
		{"10.0.0.0/8", AF_INET, 8, "10.0.0.0"},
		{"172.16.0.0/12", AF_INET, 12, "172.16.0.0"},
		{"192.168.1.0/24", AF_INET, 24, "192.168.1.0"},
		{"10.0.0.0/7", AF_INET, 7, "10.0.0.0"}, /* 10 = 0000101|0 */
		{"10.8.0.0/13", AF_INET, 13, "10.8.0.0"},
		{"1.2.3.4", AF_INET, 32, "1.2.3.4"},
		{"1.2.3.4/32", AF_INET, 32, "1.2.3.4"},
		{"0.0.0.0/0", AF_INET, 0, "0.0.0.0"},
		{"0.0.0.0", AF_INET, 32, "0.0.0.0"},
		{"255.255.255.255/32", AF_INET, 32, "255.255.255.255"},
		{"128.0.0.0/1", AF_INET, 1, "128.0.0.0"},
		{"::1", AF_INET6, 128, "::1"},
		{"::1/128", AF_INET6, 128, "::1"},
		{"::", AF_INET6, 128, "::"},
		{"::/0", AF_INET6, 0, "::"},
		{"fe80::/10", AF_INET6, 10, "fe80::"},
		{"FE80::/10", AF_INET6, 10, "fe80::"},
		{"fc00::/7", AF_INET6, 7, "fc00::"},
		{"2001:db8::/32", AF_INET6, 32, "2001:db8::"},
		{"2001:db8::/31", AF_INET6, 31, "2001:db8::"}, /* b8 ends 0 */
		{"2001:db8::/127", AF_INET6, 127, "2001:db8::"},
		{"::ffff:10.1.2.3", AF_INET6, 128, "::ffff:10.1.2.3"},
		{"0000:0000:0000:0000:0000:0000:0000:0000/128", AF_INET6, 128,
		 "::"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr net;
		uint8_t want[16] = {0};

		memset(&net, 0xa5, sizeof(net));
		if (parse(cases[i].in, strlen(cases[i].in), &net) != 0)
			fail_msg("'%s' refused", cases[i].in);
		assert_int_equal(
			inet_pton(cases[i].family, cases[i].addr, want), 1);
		if (net.family != cases[i].family ||
		    net.prefix != cases[i].prefix ||
		    memcmp(net.addr, want, sizeof(want)) != 0)
			fail_msg("'%s': family %u prefix %u", cases[i].in,
				 net.family, net.prefix);
	}

	struct cidr all;
	memset(&all, 0xa5, sizeof(all));
	assert_int_equal(parse("all", 3, &all), 0);
	assert_int_equal(all.family, 0);
	assert_true(cidr_is_everything(&all));
}

static void reads_only_the_length_it_is_given(void **state)
{
	struct cidr net;

	(void)state;
	/* a word inside a longer line: the caller gives its length */
	assert_int_equal(cidr_parse("10.0.0.0/8 192.168.0.0/16", 10, &net), 0);
	assert_int_equal(net.family, AF_INET);
	assert_int_equal(net.prefix, 8);
	assert_int_equal(cidr_parse("10.0.0.0/8 192.168.0.0/16", 12, &net), -1);
	assert_int_equal(cidr_parse("allow", 3, &net), 0);
	assert_int_equal(net.family, 0);
	assert_int_equal(cidr_parse("10.0.0.0/245", 11, &net), 0); /* "/24" */
	assert_int_equal(net.prefix, 24);
}

static void refuses_prefixes_out_of_bounds_and_host_bits(void **state)
{
	static const char *const cases[] = {
		/* prefix bounds */
		"10.0.0.0/33",
		"0.0.0.0/99",
		"::/129",
		"::/999",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/1000",
		"::/0128",
		/* host bits set: a typo for another block, never guessed */
		"10.0.0.1/8",
		"10.0.0.0/6", /* 10 = 000010|10 */
		"172.16.0.0/11",
		"192.168.1.1/24",
		"1.2.3.5/31",
		"0.0.0.1/0",
		"128.0.0.0/0",
		"fe80::1/10",
		"fe80::/8",
		"2001:db8::/28", /* b8's low nibble is 8 */
		"2001:db8::1/127",
		"::1/0",
		"::1/127",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr net;
		if (parse(cases[i], strlen(cases[i]), &net) != -1)
			fail_msg("'%s' accepted", cases[i]);
	}
}

static void refuses_garbage_empty_and_overlong_text(void **state)
{
	static const char *const cases[] = {
		"",
		" ",
		"/",
		"/8",
		"10.0.0.0/",
		"10.0.0.0/x",
		"10.0.0.0/8x",
		"10.0.0.0/ 8",
		"10.0.0.0 /8",
		" 10.0.0.0",
		"10.0.0.0 ",
		"10.0.0.0/8/8",
		"10.0.0",
		"10.0.0.0.0",
		"256.0.0.0",
		"10.0.0.0.",
		"1.2.3.4:80",
		"0x0a000000",
		"ALL",
		"All",
		"al",
		"alll",
		"all/0",
		"all ",
		"*",
		"none",
		"localhost",
		"example.com",
		"::1::",
		":::",
		"[::1]",
		"[::1]/128",
		"fe80::1%lo",
		"fe80::/10%lo",
		"::/",
		"2001:db8::/3x",
		"g::/16",
		/* overlong */
		"10.0.0.0/8000000000000000000000000000000000000000000000000000",
		"1111111111111111111111111111111111111111111111111111111111111"
		"1111111111111111111111111111111111111111111111111111111111111",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/128",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr net;
		if (parse(cases[i], strlen(cases[i]), &net) != -1)
			fail_msg("'%s' accepted", cases[i]);
	}

	/* "10.0.0.0/000...08" of 40 to 60 bytes: a prefix of more than
	 * three digits is refused, whatever the length */
	for (size_t len = 40; len <= 60; len++) {
		char text[61];
		struct cidr n;
		memset(text, '0', sizeof(text));
		memcpy(text, "10.0.0.0/", 9);
		text[len - 1] = '8';
		if (parse(text, len, &n) != -1)
			fail_msg("%zu-byte '10.0.0.0/0...08' accepted", len);
	}

	/* a megabyte of digits: refused by length, never copied */
	size_t big = 1 << 20;
	char *huge = malloc(big);
	struct cidr net;
	assert_non_null(huge);
	memset(huge, '1', big);
	assert_int_equal(cidr_parse(huge, big, &net), -1);
	free(huge);
}

/* The text is (pointer, length): a NUL inside is a byte like any other,
 * not an end the parser may stop at and accept what came before. */
static void refuses_text_with_a_nul_inside(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} cases[] = {
		{"10.0.0.0\0/8", 11}, {"10.0.0.0\0junk", 13},
		{"10.0.0.0/8\0", 11}, {"::1\0garbage", 11},
		{"all\0", 4},	      {"\0", 1},
	};

	char accepted[256] = "";
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr net;
		if (parse(cases[i].in, cases[i].len, &net) != -1 &&
		    n < sizeof(accepted))
			n += (size_t)snprintf(accepted + n,
					      sizeof(accepted) - n,
					      " [%zu]'%s'+NUL", i, cases[i].in);
	}
	if (n > 0)
		fail_msg("accepted:%s", accepted);
}

static void contains_up_to_the_edges_of_a_block(void **state)
{
	static const struct {
		const char *net, *addr;
		bool in;
	} cases[] = {
		{"10.0.0.0/8", "10.0.0.0", true},
		{"10.0.0.0/8", "10.255.255.255", true},
		{"10.0.0.0/8", "9.255.255.255", false},
		{"10.0.0.0/8", "11.0.0.0", false},
		{"172.16.0.0/12", "172.16.0.0", true},
		{"172.16.0.0/12", "172.31.255.255", true},
		{"172.16.0.0/12", "172.15.255.255", false},
		{"172.16.0.0/12", "172.32.0.0", false},
		{"192.168.0.0/16", "192.168.0.0", true},
		{"192.168.0.0/16", "192.168.255.255", true},
		{"192.168.0.0/16", "192.167.255.255", false},
		{"192.168.0.0/16", "192.169.0.0", false},
		{"0.0.0.0/0", "0.0.0.0", true},
		{"0.0.0.0/0", "255.255.255.255", true},
		{"0.0.0.0/0", "::", false},
		{"0.0.0.0/0", "::1", false},
		{"10.8.0.0/13", "10.8.0.0", true},
		{"10.8.0.0/13", "10.15.255.255", true},
		{"10.8.0.0/13", "10.7.255.255", false},
		{"10.8.0.0/13", "10.16.0.0", false},
		{"128.0.0.0/1", "128.0.0.0", true},
		{"128.0.0.0/1", "255.255.255.255", true},
		{"128.0.0.0/1", "127.255.255.255", false},
		{"10.0.0.0/31", "10.0.0.1", true},
		{"10.0.0.0/31", "10.0.0.2", false},
		{"1.2.3.4", "1.2.3.4", true},
		{"1.2.3.4", "1.2.3.5", false},
		{"1.2.3.4", "1.2.3.3", false},
		{"0.0.0.0", "0.0.0.0", true},
		{"0.0.0.0", "0.0.0.1", false},
		{"::1", "::1", true},
		{"::1", "::", false},
		{"::1", "::2", false},
		{"::", "::", true},
		{"::", "::1", false},
		{"::/0", "::", true},
		{"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"::/0", "0.0.0.0", false},
		{"::/0", "10.1.2.3", false},
		{"fe80::/10", "fe80::", true},
		{"fe80::/10", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fe80::/10", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"fe80::/10", "fec0::", false},
		{"fc00::/7", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fc00::/7", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"fc00::/7", "fe00::", false},
		{"2001:db8::/127", "2001:db8::", true},
		{"2001:db8::/127", "2001:db8::1", true},
		{"2001:db8::/127", "2001:db8::2", false},
		{"2001:db8::/127", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
		 false},
		{"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		 true},
		{"2001:db8::/32", "2001:db9::", false},
		/* the same leading bytes in the other family never match */
		{"10.0.0.0/8", "a00::1", false},
		{"a00::/8", "10.1.2.3", false},
		{"::/8", "0.0.0.1", false},
		/* IPv4-mapped IPv6 matches as the IPv4 address it carries */
		{"10.0.0.0/8", "::ffff:10.1.2.3", true},
		{"10.0.0.0/8", "::ffff:10.0.0.0", true},
		{"10.0.0.0/8", "::ffff:11.0.0.0", false},
		{"10.0.0.0/8", "::ffff:9.255.255.255", false},
		{"127.0.0.1", "::ffff:127.0.0.1", true},
		{"0.0.0.0/0", "::ffff:1.2.3.4", true},
		{"::/0", "::ffff:1.2.3.4", false},
		/* IPv4-compatible (::a.b.c.d) is not mapped: it stays IPv6 */
		{"10.0.0.0/8", "::10.1.2.3", false},
		{"all", "1.2.3.4", true},
		{"all", "::1", true},
		{"all", "::ffff:1.2.3.4", true},
		{"all", "0.0.0.0", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (contains(cases[i].net, cases[i].addr) != cases[i].in)
			fail_msg("%s %s %s", cases[i].addr,
				 cases[i].in ? "not in" : "in", cases[i].net);
	}
}

static void matches_no_address_of_another_kind(void **state)
{
	struct sockaddr_un un;
	struct cidr all = block("all"), any4 = block("0.0.0.0/0");
	struct cidr_rules acl = {.n = 0};
	bool allow = true;

	(void)state;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	assert_false(cidr_contains(&all, (const struct sockaddr *)&un));
	assert_false(cidr_contains(&any4, (const struct sockaddr *)&un));
	assert_int_equal(cidr_rules_add(&acl, &all, false), 0);
	assert_int_equal(
		cidr_rules_match(&acl, (const struct sockaddr *)&un, &allow),
		-1);
	assert_true(allow);
}

/* Builds rules from "allow NET" / "deny NET" strings. */
static void build_rules(struct cidr_rules *acl, const char *const *rules,
			size_t n)
{
	acl->n = 0;
	for (size_t i = 0; i < n; i++) {
		bool allow = strncmp(rules[i], "allow ", 6) == 0;
		const char *net = rules[i] + (allow ? 6 : 5);
		struct cidr c = block(net);
		assert_int_equal(cidr_rules_add(acl, &c, allow), 0);
	}
	assert_int_equal(acl->n, n);
}

static void decides_by_the_first_rule_that_matches(void **state)
{
	static const char *const readme[] = {
		"allow 10.0.0.0/8",
		"allow 192.168.0.0/16",
		"deny 10.66.0.0/16", /* too late: the allow above matched */
		"allow fd00::/8",
	};
	static const char *const deny_first[] = {
		"deny 10.66.0.0/16", "allow 10.0.0.0/8", "deny all",
		"allow 1.2.3.4", /* after "deny all": never reached */
	};
	static const struct {
		const char *const *rules;
		size_t n;
		const char *addr;
		int index; /* -1: no rule matches */
		bool allow;
	} cases[] = {
		{readme, 4, "10.66.1.1", 0, true},
		{readme, 4, "10.1.2.3", 0, true},
		{readme, 4, "::ffff:10.66.1.1", 0, true},
		{readme, 4, "192.168.7.7", 1, true},
		{readme, 4, "fd12::1", 3, true},
		{readme, 4, "fc00::1", -1, false},
		{readme, 4, "8.8.8.8", -1, false},
		{readme, 4, "::ffff:8.8.8.8", -1, false},
		{deny_first, 4, "10.66.1.1", 0, false},
		{deny_first, 4, "::ffff:10.66.0.0", 0, false},
		{deny_first, 4, "10.65.255.255", 1, true},
		{deny_first, 4, "10.67.0.0", 1, true},
		{deny_first, 4, "1.2.3.4", 2, false},
		{deny_first, 4, "::1", 2, false},
		{deny_first, 0, "10.1.2.3", -1, false}, /* no rules at all */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr_rules acl;
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		build_rules(&acl, cases[i].rules, cases[i].n);
		for (int sentinel = 0; sentinel < 2; sentinel++) {
			bool allow = sentinel;
			int idx = cidr_rules_match(
				&acl, (const struct sockaddr *)&ss, &allow);
			if (idx != cases[i].index)
				fail_msg("%s: rule %d, expected %d",
					 cases[i].addr, idx, cases[i].index);
			/* no match: *allow untouched */
			bool want = idx < 0 ? (bool)sentinel : cases[i].allow;
			if (allow != want)
				fail_msg("%s: allow %d", cases[i].addr, allow);
		}
	}
}

static void holds_at_most_the_documented_number_of_rules(void **state)
{
	struct cidr_rules *acl = calloc(1, sizeof(*acl));
	struct cidr net = block("10.0.0.0/8"), last = block("1.2.3.4");
	struct sockaddr_storage ss = sa_of("1.2.3.4");
	bool allow = true;

	(void)state;
	assert_non_null(acl);
	for (int i = 0; i < CIDR_MAX_RULES - 1; i++)
		assert_int_equal(cidr_rules_add(acl, &net, true), 0);
	assert_int_equal(cidr_rules_add(acl, &last, false), 0);
	assert_int_equal(acl->n, CIDR_MAX_RULES);
	assert_int_equal(cidr_rules_add(acl, &net, true), -1);
	assert_int_equal(acl->n, CIDR_MAX_RULES);
	/* the last rule still matches */
	assert_int_equal(
		cidr_rules_match(acl, (const struct sockaddr *)&ss, &allow),
		CIDR_MAX_RULES - 1);
	assert_false(allow);
	free(acl);
}

static void knows_which_blocks_hold_every_address(void **state)
{
	static const struct {
		const char *net;
		bool everything;
	} cases[] = {
		{"all", true},		{"0.0.0.0/0", true},
		{"::/0", true},		{"0.0.0.0/1", false},
		{"128.0.0.0/1", false}, {"10.0.0.0/8", false},
		{"::/1", false},	{"0.0.0.0", false},
		{"::", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr n = block(cases[i].net);
		if (cidr_is_everything(&n) != cases[i].everything)
			fail_msg("%s", cases[i].net);
	}
}

static void formats_blocks_as_they_parse(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"1.2.3.4", "1.2.3.4/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.8.0.0/13", "10.8.0.0/13"},
		{"::1", "::1/128"},
		{"::/0", "::/0"},
		{"FE80::/10", "fe80::/10"},
		{"2001:DB8:0:0::/32", "2001:db8::/32"},
		{"2001:db8::/127", "2001:db8::/127"},
		{"::ffff:10.1.2.3", "::ffff:10.1.2.3/128"},
		{"all", "all"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr n = block(cases[i].in), again;
		char out[64];
		cidr_format(&n, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		/* and what is formatted parses back to the same block */
		again = block(out);
		assert_memory_equal(&again, &n, sizeof(n));
	}
}

static void formats_within_the_buffer(void **state)
{
	struct cidr n = block("2001:db8::/32");
	char buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	cidr_format(&n, buf, 5);
	assert_string_equal(buf, "2001");
	for (size_t i = 5; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'x');
	memset(buf, 'x', sizeof(buf));
	cidr_format(&n, buf, 1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'x');

	/* the longest block there is fits a documented-size buffer */
	struct cidr longest =
		block("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	char big[INET6_ADDRSTRLEN + 8];
	cidr_format(&longest, big, sizeof(big));
	assert_string_equal(big, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_blocks_single_addresses_and_all),
		cmocka_unit_test(reads_only_the_length_it_is_given),
		cmocka_unit_test(refuses_prefixes_out_of_bounds_and_host_bits),
		cmocka_unit_test(refuses_garbage_empty_and_overlong_text),
		cmocka_unit_test(refuses_text_with_a_nul_inside),
		cmocka_unit_test(contains_up_to_the_edges_of_a_block),
		cmocka_unit_test(matches_no_address_of_another_kind),
		cmocka_unit_test(decides_by_the_first_rule_that_matches),
		cmocka_unit_test(holds_at_most_the_documented_number_of_rules),
		cmocka_unit_test(knows_which_blocks_hold_every_address),
		cmocka_unit_test(formats_blocks_as_they_parse),
		cmocka_unit_test(formats_within_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
