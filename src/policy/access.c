/*
 * access.c - see access.h.
 */
#include "policy/access.h"

#include <netinet/in.h>
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

static bool in_any(const char *const *nets, size_t n, const struct sockaddr *sa)
{
	for (size_t i = 0; i < n; i++) {
		struct cidr net;
		if (cidr_parse(nets[i], strlen(nets[i]), &net) == 0 &&
		    cidr_contains(&net, sa))
			return true;
	}
	return false;
}

bool access_is_local(const struct sockaddr *sa)
{
	return in_any(local_nets, sizeof(local_nets) / sizeof(*local_nets), sa);
}

bool access_client_allowed(const struct cidr_rules *rules,
			   const struct sockaddr *client)
{
	bool allow = false;

	if (rules->n == 0)
		return access_is_local(client);
	return cidr_rules_match(rules, client, &allow) >= 0 && allow;
}

bool access_dest_allowed(const struct cidr_rules *rules,
			 const struct sockaddr *dest)
{
	bool allow = true;

	if (cidr_rules_match(rules, dest, &allow) >= 0)
		return allow;
	return !in_any(denied_dests,
		       sizeof(denied_dests) / sizeof(*denied_dests), dest);
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
