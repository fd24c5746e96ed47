/*
 * cidr.h - address blocks ("10.0.0.0/8", "fe80::/10", "all") and ordered
 * allow/deny rules over them, the first that matches deciding. Used for
 * the clients of the proxy (allow, deny) and the addresses it may dial
 * (allow-dest, deny-dest).
 *
 * No I/O: parses text the caller gives, matches addresses it gives.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match as the IPv4 address
 * they carry, so a dual-stack socket cannot slip past an IPv4 rule.
 */
#ifndef SLUICE_BASE_CIDR_H
#define SLUICE_BASE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_MAX_RULES 256

/* An address block: family, 16 bytes (IPv4 in the first 4), prefix bits. */
struct cidr {
	uint8_t family; /* AF_INET or AF_INET6; 0: every address ("all") */
	uint8_t prefix;
	uint8_t addr[16];
};

struct cidr_rule {
	struct cidr net;
	bool allow;
};

struct cidr_rules {
	struct cidr_rule rules[CIDR_MAX_RULES];
	size_t n;
};

/*
 * Parses "all", "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6; host bits must be
 * zero, so 10.0.0.1/8 is refused rather than guessed). 0 or -1.
 */
int cidr_parse(const char *text, size_t len, struct cidr *out);

/* Appends a rule. 0, or -1 when the list is full. */
int cidr_rules_add(struct cidr_rules *acl, const struct cidr *net, bool allow);

/* Is sa inside net? */
bool cidr_contains(const struct cidr *net, const struct sockaddr *sa);

/*
 * The first rule matching sa decides: returns its index and sets *allow;
 * -1 when none matches (*allow untouched).
 */
int cidr_rules_match(const struct cidr_rules *acl, const struct sockaddr *sa,
		     bool *allow);

/* Does the rule let in every address ("all", 0.0.0.0/0 with ::/0)? */
bool cidr_is_everything(const struct cidr *net);

/* Writes net as "10.0.0.0/8" or "all" into out[cap]. */
void cidr_format(const struct cidr *net, char *out, size_t cap);

#endif
