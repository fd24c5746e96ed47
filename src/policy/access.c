/*
 * access.c - see access.h.
 */
#include "policy/access.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* clang-format off */
static const char *const local_nets[] = {
	"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
	"192.168.0.0/16", "fc00::/7", "fe80::/10",
};
static const char *const denied_dests[] = {
	"0.0.0.0/8", "169.254.0.0/16", "fe80::/10", "::/128",
};
/* clang-format on */

/* The first of nets[0..n) that holds sa, or -1. */
static int find_net(const char *const *nets, size_t n,
		    const struct sockaddr *sa)
{
	for (size_t i = 0; i < n; i++) {
		struct cidr net;
		if (cidr_parse(nets[i], strlen(nets[i]), &net) == 0 &&
		    cidr_contains(&net, sa))
			return (int)i;
	}
	return -1;
}

bool access_is_local(const struct sockaddr *sa)
{
	return find_net(local_nets, sizeof(local_nets) / sizeof(*local_nets),
			sa) >= 0;
}

/* "allow:10.0.0.0/8" (prefix "allow" or "allow-dest") into rule[cap]. */
static void name_rule(const struct cidr_rules *rules, int i, bool dest,
		      char *rule, size_t cap)
{
	char net[64];

	if (rule == NULL)
		return;
	cidr_format(&rules->rules[i].net, net, sizeof(net));
	snprintf(rule, cap, "%s%s:%s", rules->rules[i].allow ? "allow" : "deny",
		 dest ? "-dest" : "", net);
}

static void name(char *rule, size_t cap, const char *what, const char *net)
{
	if (rule != NULL)
		snprintf(rule, cap, "%s%s%s", what, net != NULL ? ":" : "",
			 net != NULL ? net : "");
}

bool access_client_check(const struct cidr_rules *rules,
			 const struct sockaddr *client, char *rule, size_t cap)
{
	bool allow = false;
	int i;

	if (rules->n == 0) {
		name(rule, cap, "default", NULL);
		return access_is_local(client);
	}
	i = cidr_rules_match(rules, client, &allow);
	if (i < 0) {
		name(rule, cap, "no-match", NULL);
		return false;
	}
	name_rule(rules, i, false, rule, cap);
	return allow;
}

bool access_dest_check(const struct cidr_rules *rules,
		       const struct sockaddr *dest, char *rule, size_t cap)
{
	bool allow = true;
	int i = cidr_rules_match(rules, dest, &allow);

	if (i >= 0) {
		name_rule(rules, i, true, rule, cap);
		return allow;
	}
	i = find_net(denied_dests, sizeof(denied_dests) / sizeof(*denied_dests),
		     dest);
	name(rule, cap, i >= 0 ? "builtin" : "default",
	     i >= 0 ? denied_dests[i] : NULL);
	return i < 0;
}

bool access_client_allowed(const struct cidr_rules *rules,
			   const struct sockaddr *client)
{
	return access_client_check(rules, client, NULL, 0);
}

bool access_dest_allowed(const struct cidr_rules *rules,
			 const struct sockaddr *dest)
{
	return access_dest_check(rules, dest, NULL, 0);
}

bool access_open_by_accident(const struct cidr_rules *rules)
{
	bool closed4 = false, closed6 = false; /* denied whole, earlier */

	for (size_t i = 0; i < rules->n; i++) {
		const struct cidr *net = &rules->rules[i].net;
		bool allow = rules->rules[i].allow;
		if (net->family == 0)
			return false; /* "all" either way: said in words */
		if (net->prefix != 0)
			continue;
		bool *closed = net->family == AF_INET ? &closed4 : &closed6;
		if (!allow)
			*closed = true;
		else if (!*closed)
			return true;
	}
	return false;
}
