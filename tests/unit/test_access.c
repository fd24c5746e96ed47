/*
 * test_access.c - who may use the proxy and where it may connect: the
 * built-in client defaults (loopback and localnet, inside and just outside
 * each range), explicit rules replacing them, the destination denials
 * after allow-dest/deny-dest, and the "open by accident" check that stops
 * a public listener letting everyone in through 0.0.0.0/0.
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
#include "policy/access.h"

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

/* Rules from "allow NET" / "deny NET" strings, in order. */
static void build_rules(struct cidr_rules *acl, const char *const *rules,
			size_t n)
{
	acl->n = 0;
	for (size_t i = 0; i < n; i++) {
		bool allow = strncmp(rules[i], "allow ", 6) == 0;
		const char *net = rules[i] + (allow ? 6 : 5);
		struct cidr c;
		if (cidr_parse(net, strlen(net), &c) != 0)
			fail_msg("test bug: '%s' refused", net);
		assert_int_equal(cidr_rules_add(acl, &c, allow), 0);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct verdict {
	const char *addr;
	bool allowed;
};

static void check_clients(const struct cidr_rules *acl,
			  const struct verdict *cases, size_t n,
			  const char *what)
{
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		if (access_client_allowed(acl, (const struct sockaddr *)&ss) !=
		    cases[i].allowed)
			fail_msg("%s: client %s %s", what, cases[i].addr,
				 cases[i].allowed ? "refused" : "allowed");
	}
}

static void check_dests(const struct cidr_rules *acl,
			const struct verdict *cases, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		if (access_dest_allowed(acl, (const struct sockaddr *)&ss) !=
		    cases[i].allowed)
			fail_msg("%s: destination %s %s", what, cases[i].addr,
				 cases[i].allowed ? "refused" : "allowed");
	}
}

static void serves_loopback_and_localnet_by_default(void **state)
{
	static const struct verdict cases[] = {
		/* 127.0.0.0/8 */
		{"127.0.0.1", true},
		{"127.0.0.0", true},
		{"127.255.255.255", true},
		{"126.255.255.255", false},
		{"128.0.0.0", false},
		/* ::1 alone */
		{"::1", true},
		{"::", false},
		{"::2", false},
		/* 10.0.0.0/8 */
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"9.255.255.255", false},
		{"11.0.0.0", false},
		/* 172.16.0.0/12 */
		{"172.16.0.0", true},
		{"172.31.255.255", true},
		{"172.15.255.255", false},
		{"172.32.0.0", false},
		/* 192.168.0.0/16 */
		{"192.168.0.0", true},
		{"192.168.255.255", true},
		{"192.167.255.255", false},
		{"192.169.0.0", false},
		/* fc00::/7 */
		{"fc00::", true},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"fe00::", false},
		/* fe80::/10 */
		{"fe80::", true},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"fec0::", false},
		/* public, and ranges that are not localnet */
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"100.64.0.1", false},	/* CGNAT */
		{"169.254.1.1", false}, /* IPv4 link-local is not localnet */
		{"2001:4860:4860::8888", false},
		{"2001:db8::1", false},
		{"::7f00:1", false}, /* IPv4-compatible ::127.0.0.1 is not */
		/* IPv4-mapped (a dual-stack socket) counts as the IPv4 */
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.1.2.3", true},
		{"::ffff:172.20.0.1", true},
		{"::ffff:192.168.1.1", true},
		{"::ffff:8.8.8.8", false},
		{"::ffff:172.32.0.1", false},
	};
	struct cidr_rules none = {.n = 0};

	(void)state;
	check_clients(&none, cases, N(cases), "no rules");
	for (size_t i = 0; i < N(cases); i++) {
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		if (access_is_local((const struct sockaddr *)&ss) !=
		    cases[i].allowed)
			fail_msg("access_is_local(%s)", cases[i].addr);
	}
}

static void refuses_an_address_of_another_kind(void **state)
{
	struct sockaddr_un un;
	struct cidr_rules none = {.n = 0}, all;
	static const char *const allow_all[] = {"allow all"};

	(void)state;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	build_rules(&all, allow_all, N(allow_all));
	assert_false(access_client_allowed(&none, (struct sockaddr *)&un));
	assert_false(access_client_allowed(&all, (struct sockaddr *)&un));
	assert_false(access_is_local((struct sockaddr *)&un));
}

static void explicit_rules_replace_the_defaults(void **state)
{
	static const char *const public_only[] = {"allow 8.8.8.0/24"};
	static const struct verdict public_only_cases[] = {
		{"8.8.8.8", true},	{"::ffff:8.8.8.8", true},
		{"8.8.9.1", false},	{"127.0.0.1", false},
		{"::1", false},		{"10.1.2.3", false},
		{"192.168.1.1", false}, {"fe80::1", false},
	};
	static const char *const deny_only[] = {"deny 10.0.0.0/8"};
	static const struct verdict deny_only_cases[] = {
		{"10.1.2.3", false},
		{"127.0.0.1", false}, /* unmatched */
		{"192.168.1.1", false},
		{"8.8.8.8", false},
	};
	static const char *const one_loopback[] = {"allow 127.0.0.2/32"};
	static const struct verdict one_loopback_cases[] = {
		{"127.0.0.2", true},
		{"127.0.0.1", false},
		{"::1", false},
	};
	static const char *const carve_out[] = {
		"deny 127.0.0.1",
		"allow 127.0.0.0/8",
		"deny ::1",
		"allow all",
	};
	static const struct verdict carve_out_cases[] = {
		{"127.0.0.1", false}, {"::ffff:127.0.0.1", false},
		{"127.0.0.2", true},  {"::1", false},
		{"8.8.8.8", true},    {"2001:db8::1", true},
	};
	static const char *const readme[] = {
		"allow 10.0.0.0/8",
		"allow 192.168.0.0/16",
		"deny 10.66.0.0/16", /* too late */
		"allow fd00::/8",
	};
	static const struct verdict readme_cases[] = {
		{"10.66.1.1", true},   {"192.168.3.4", true},
		{"fd00::1", true},     {"fc00::1", false},
		{"127.0.0.1", false},  {"::1", false},
		{"172.16.0.1", false}, {"::ffff:10.66.0.1", true},
	};
	static const char *const deny_all[] = {"deny all", "allow 127.0.0.1"};
	static const struct verdict deny_all_cases[] = {
		{"127.0.0.1", false},
		{"::1", false},
		{"10.0.0.1", false},
	};
	static const char *const allow_all[] = {"allow all"};
	static const struct verdict allow_all_cases[] = {
		{"8.8.8.8", true},
		{"2001:db8::1", true},
		{"::ffff:1.2.3.4", true},
	};
	struct cidr_rules acl;

	(void)state;
	build_rules(&acl, public_only, N(public_only));
	check_clients(&acl, public_only_cases, N(public_only_cases),
		      "allow 8.8.8.0/24");
	build_rules(&acl, deny_only, N(deny_only));
	check_clients(&acl, deny_only_cases, N(deny_only_cases),
		      "deny 10.0.0.0/8");
	build_rules(&acl, one_loopback, N(one_loopback));
	check_clients(&acl, one_loopback_cases, N(one_loopback_cases),
		      "allow 127.0.0.2/32");
	build_rules(&acl, carve_out, N(carve_out));
	check_clients(&acl, carve_out_cases, N(carve_out_cases), "carve-out");
	build_rules(&acl, readme, N(readme));
	check_clients(&acl, readme_cases, N(readme_cases), "README example");
	build_rules(&acl, deny_all, N(deny_all));
	check_clients(&acl, deny_all_cases, N(deny_all_cases), "deny all");
	build_rules(&acl, allow_all, N(allow_all));
	check_clients(&acl, allow_all_cases, N(allow_all_cases), "allow all");
}

static void refuses_the_built_in_destinations_and_no_others(void **state)
{
	static const struct verdict cases[] = {
		/* 0.0.0.0/8 */
		{"0.0.0.0", false},
		{"0.255.255.255", false},
		{"0.0.0.1", false},
		{"1.0.0.0", true},
		/* 169.254.0.0/16, cloud metadata included */
		{"169.254.0.0", false},
		{"169.254.169.254", false},
		{"169.254.255.255", false},
		{"169.253.255.255", true},
		{"169.255.0.0", true},
		/* fe80::/10 */
		{"fe80::", false},
		{"fe80::1", false},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fec0::1", true},
		/* :: alone */
		{"::", false},
		{"::1", true},
		/* mapped IPv4 is checked as IPv4 */
		{"::ffff:169.254.169.254", false},
		{"::ffff:0.0.0.0", false},
		{"::ffff:127.0.0.1", true},
		{"::ffff:8.8.8.8", true},
		/* everything else */
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.0.0.1", true},
		{"192.168.1.1", true},
		{"8.8.8.8", true},
		{"255.255.255.255", true},
		{"2001:db8::1", true},
		{"fd00::1", true},
	};
	struct cidr_rules none = {.n = 0};

	(void)state;
	check_dests(&none, cases, N(cases), "no dest rules");
}

static void dest_rules_decide_before_the_built_in_denials(void **state)
{
	static const char *const metadata[] = {"allow 169.254.169.254"};
	static const struct verdict metadata_cases[] = {
		{"169.254.169.254", true},  {"::ffff:169.254.169.254", true},
		{"169.254.169.253", false}, /* the rest of the block: built-in
					     */
		{"0.0.0.0", false},	    {"8.8.8.8", true},
	};
	static const char *const link_local[] = {"allow fe80::/10",
						 "allow 0.0.0.0/8"};
	static const struct verdict link_local_cases[] = {
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"::", false},
		{"169.254.1.1", false},
	};
	static const char *const deny_loopback[] = {"deny 127.0.0.1"};
	static const struct verdict deny_loopback_cases[] = {
		{"127.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"127.0.0.2", true}, /* unmatched: the defaults allow it */
		{"::1", true},
		{"8.8.8.8", true},
		{"169.254.169.254", false},
	};
	static const char *const order[] = {"deny 8.8.8.8", "allow 8.8.8.0/24",
					    "deny 8.8.0.0/16"};
	static const struct verdict order_cases[] = {
		{"8.8.8.8", false},
		{"8.8.8.9", true},
		{"8.8.9.9", false},
		{"8.9.0.1", true},
	};
	static const char *const deny_all[] = {"allow 127.0.0.1", "deny all"};
	static const struct verdict deny_all_cases[] = {
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"8.8.8.8", false},
	};
	static const char *const allow_all[] = {"allow all"};
	static const struct verdict allow_all_cases[] = {
		{"169.254.169.254", true},
		{"0.0.0.0", true},
		{"::", true},
		{"fe80::1", true},
	};
	struct cidr_rules acl;

	(void)state;
	build_rules(&acl, metadata, N(metadata));
	check_dests(&acl, metadata_cases, N(metadata_cases),
		    "allow-dest 169.254.169.254");
	build_rules(&acl, link_local, N(link_local));
	check_dests(&acl, link_local_cases, N(link_local_cases),
		    "allow-dest fe80::/10 0.0.0.0/8");
	build_rules(&acl, deny_loopback, N(deny_loopback));
	check_dests(&acl, deny_loopback_cases, N(deny_loopback_cases),
		    "deny-dest 127.0.0.1");
	build_rules(&acl, order, N(order));
	check_dests(&acl, order_cases, N(order_cases), "first match");
	build_rules(&acl, deny_all, N(deny_all));
	check_dests(&acl, deny_all_cases, N(deny_all_cases), "deny-dest all");
	build_rules(&acl, allow_all, N(allow_all));
	check_dests(&acl, allow_all_cases, N(allow_all_cases),
		    "allow-dest all");
}

struct open_case {
	const char *rules[4];
	bool open;
};

static void check_open(const struct open_case *cases, size_t n)
{
	char wrong[1024] = "";
	size_t wlen = 0;

	for (size_t i = 0; i < n; i++) {
		struct cidr_rules acl;
		size_t k = 0;

		while (k < 4 && cases[i].rules[k] != NULL)
			k++;
		build_rules(&acl, cases[i].rules, k);
		if (access_open_by_accident(&acl) == cases[i].open ||
		    wlen >= sizeof(wrong))
			continue;
		wlen += (size_t)snprintf(wrong + wlen, sizeof(wrong) - wlen,
					 "\n  [");
		for (size_t j = 0; j < k && wlen < sizeof(wrong); j++)
			wlen += (size_t)snprintf(
				wrong + wlen, sizeof(wrong) - wlen, "%s%s",
				j ? ", " : "", cases[i].rules[j]);
		if (wlen < sizeof(wrong))
			wlen += (size_t)snprintf(
				wrong + wlen, sizeof(wrong) - wlen, "]: %s",
				cases[i].open ? "not seen as open"
					      : "seen as open");
	}
	if (wlen > 0)
		fail_msg("access_open_by_accident:%s", wrong);
}

static void sees_an_open_proxy_written_as_a_block(void **state)
{
	static const struct open_case cases[] = {
		{{NULL}, false}, /* the defaults: localnet */
		{{"allow 0.0.0.0/0"}, true},
		{{"allow ::/0"}, true},
		{{"allow 10.0.0.0/8", "allow 0.0.0.0/0"}, true},
		{{"deny 10.0.0.0/8", "allow 0.0.0.0/0"}, true},
		{{"allow 127.0.0.1", "deny 8.8.8.8", "allow ::/0"}, true},
		/* said in so many words */
		{{"allow all"}, false},
		{{"allow all", "allow 0.0.0.0/0"}, false},
		{{"deny 10.0.0.0/8", "allow all"}, false},
		/* everything is refused before the block is reached */
		{{"deny 0.0.0.0/0", "allow 0.0.0.0/0"}, false},
		{{"deny all", "allow 0.0.0.0/0"}, false},
		{{"deny ::/0", "allow ::/0"}, false},
		/* ordinary blocks */
		{{"allow 10.0.0.0/8", "allow 192.168.0.0/16"}, false},
		{{"allow 8.8.8.0/24", "allow 2001:db8::/32"}, false},
		{{"deny 0.0.0.0/0"}, false},
		{{"deny ::/0"}, false},
	};

	(void)state;
	check_open(cases, N(cases));
}

/* A /0 denial covers its own family only: the other family's /0 after it
 * still lets the whole of that Internet in. */
static void a_denial_of_one_family_leaves_the_other_open(void **state)
{
	static const struct open_case cases[] = {
		{{"deny 0.0.0.0/0", "allow ::/0"}, true},
		{{"deny ::/0", "allow 0.0.0.0/0"}, true},
		{{"deny 0.0.0.0/0", "deny ::/0", "allow 0.0.0.0/0"}, false},
	};

	(void)state;
	check_open(cases, N(cases));
}

struct named {
	bool dest; /* access_dest_check, else access_client_check */
	const char *addr;
	bool allowed;
	const char *rule;
};

/* The access log names the rule that decided, whichever way it went. */
static void names_the_rule_that_decided(void **state)
{
	static const char *const rules[] = {
		"deny 10.66.0.0/16",
		"allow 10.0.0.0/8",
		"deny all",
	};
	static const char *const dest_rules[] = {
		"allow 169.254.10.0/24",
		"deny 192.0.2.0/24",
	};
	static const struct named cases[] = {
		{false, "10.66.1.2", false, "deny:10.66.0.0/16"},
		{false, "10.1.2.3", true, "allow:10.0.0.0/8"},
		{false, "192.0.2.1", false, "deny:all"},
		{true, "169.254.10.1", true, "allow-dest:169.254.10.0/24"},
		{true, "192.0.2.9", false, "deny-dest:192.0.2.0/24"},
		{true, "169.254.169.254", false, "builtin:169.254.0.0/16"},
		{true, "::", false, "builtin:::/128"},
		{true, "198.51.100.1", true, "default"},
	};
	struct cidr_rules *acl = malloc(sizeof(*acl));
	struct cidr_rules *dests = malloc(sizeof(*dests));
	struct cidr_rules *none = calloc(1, sizeof(*none));
	struct cidr_rules *allow_one = malloc(sizeof(*allow_one));
	static const char *const one[] = {"allow 192.168.0.0/16"};
	struct sockaddr_storage ss;
	char rule[96];

	(void)state;
	assert_non_null(acl);
	assert_non_null(dests);
	assert_non_null(none);
	assert_non_null(allow_one);
	build_rules(acl, rules, N(rules));
	build_rules(dests, dest_rules, N(dest_rules));
	build_rules(allow_one, one, N(one));
	for (size_t i = 0; i < N(cases); i++) {
		const struct named *c = &cases[i];
		bool ok;
		ss = sa_of(c->addr);
		memset(rule, 'x', sizeof(rule));
		ok = c->dest ? access_dest_check(dests, (struct sockaddr *)&ss,
						 rule, sizeof(rule))
			     : access_client_check(acl, (struct sockaddr *)&ss,
						   rule, sizeof(rule));
		if (ok != c->allowed || strcmp(rule, c->rule) != 0)
			fail_msg("%s: %s \"%s\", expected %s \"%s\"", c->addr,
				 ok ? "allowed" : "refused", rule,
				 c->allowed ? "allowed" : "refused", c->rule);
	}
	/* no client rules: the defaults; rules and none matching */
	ss = sa_of("203.0.113.5");
	assert_false(access_client_check(none, (struct sockaddr *)&ss, rule,
					 sizeof(rule)));
	assert_string_equal(rule, "default");
	assert_false(access_client_check(allow_one, (struct sockaddr *)&ss,
					 rule, sizeof(rule)));
	assert_string_equal(rule, "no-match");
	/* a small buffer is cut, and NULL asks for no name */
	ss = sa_of("10.66.1.2");
	assert_false(access_client_check(acl, (struct sockaddr *)&ss, rule, 8));
	assert_string_equal(rule, "deny:10");
	assert_false(access_client_check(acl, (struct sockaddr *)&ss, NULL, 0));
	free(acl);
	free(dests);
	free(none);
	free(allow_one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_loopback_and_localnet_by_default),
		cmocka_unit_test(refuses_an_address_of_another_kind),
		cmocka_unit_test(explicit_rules_replace_the_defaults),
		cmocka_unit_test(
			refuses_the_built_in_destinations_and_no_others),
		cmocka_unit_test(dest_rules_decide_before_the_built_in_denials),
		cmocka_unit_test(sees_an_open_proxy_written_as_a_block),
		cmocka_unit_test(a_denial_of_one_family_leaves_the_other_open),
		cmocka_unit_test(names_the_rule_that_decided),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
