/*
 * cidr.c - see cidr.h.
 */
#include "base/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int cidr_parse(const char *text, size_t len, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned prefix, max;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (len == 3 && memcmp(text, "all", 3) == 0)
		return 0;
	if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
		return -1;
	slash = memchr(text, '/', len);
	alen = slash != NULL ? (size_t)(slash - text) : len;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	prefix = max;
	if (slash != NULL) {
		size_t digits = len - alen - 1;
		if (digits == 0 || digits > 3)
			return -1;
		prefix = 0;
		for (size_t i = 0; i < digits; i++) {
			char c = slash[1 + i];
			if (c < '0' || c > '9')
				return -1;
			prefix = prefix * 10 + (unsigned)(c - '0');
		}
		if (prefix > max)
			return -1;
	}
	out->prefix = (uint8_t)prefix;
	/* host bits set: a typo for another block, not a block */
	for (unsigned bit = prefix; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80u >> (bit % 8)))
			return -1;
	return 0;
}

int cidr_rules_add(struct cidr_rules *acl, const struct cidr *net, bool allow)
{
	if (acl->n == CIDR_MAX_RULES)
		return -1;
	acl->rules[acl->n].net = *net;
	acl->rules[acl->n].allow = allow;
	acl->n++;
	return 0;
}

/* The address of sa as (family, 16 bytes); mapped IPv4 unwrapped. */
static int address_of(const struct sockaddr *sa, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a =
			((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, mapped, 12) == 0) {
			memcpy(out, a + 12, 4);
			return AF_INET;
		}
		memcpy(out, a, 16);
		return AF_INET6;
	}
	return 0;
}

static bool contains(const struct cidr *net, int family, const uint8_t addr[16])
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family == 0)
		return true;
	if (net->family != family)
		return false;
	if (memcmp(net->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (net->addr[full] & mask) == (addr[full] & mask);
}

bool cidr_contains(const struct cidr *net, const struct sockaddr *sa)
{
	uint8_t addr[16];
	int family = address_of(sa, addr);

	return family != 0 && contains(net, family, addr);
}

int cidr_rules_match(const struct cidr_rules *acl, const struct sockaddr *sa,
		     bool *allow)
{
	uint8_t addr[16];
	int family = address_of(sa, addr);

	if (family == 0)
		return -1;
	for (size_t i = 0; i < acl->n; i++) {
		if (contains(&acl->rules[i].net, family, addr)) {
			*allow = acl->rules[i].allow;
			return (int)i;
		}
	}
	return -1;
}

bool cidr_is_everything(const struct cidr *net)
{
	return net->family == 0 || net->prefix == 0;
}

void cidr_format(const struct cidr *net, char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN];

	if (net->family == 0) {
		snprintf(out, cap, "all");
		return;
	}
	inet_ntop(net->family, net->addr, addr, sizeof(addr));
	snprintf(out, cap, "%s/%u", addr, net->prefix);
}
