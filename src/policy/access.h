/*
 * access.h - who may use the proxy, and where it may connect: the rules of
 * the config, then sluice's defaults. Pure: addresses in, a verdict out.
 *
 * Clients: the first allow/deny rule that matches decides; an address no
 * rule matches is refused. With no rules at all, loopback and the private
 * ranges Squid calls "localnet" are allowed (10/8, 172.16/12, 192.168/16,
 * fc00::/7, fe80::/10), everyone else refused.
 *
 * Destinations (checked on every address a name resolves to, so a name
 * pointed at a forbidden address is refused: DNS rebinding safe): the
 * first allow-dest/deny-dest rule that matches decides; then 0.0.0.0/8,
 * 169.254.0.0/16 (link-local, cloud metadata) and fe80::/10 are refused;
 * everything else is allowed.
 */
#ifndef SLUICE_POLICY_ACCESS_H
#define SLUICE_POLICY_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/cidr.h"

bool access_client_allowed(const struct cidr_rules *rules,
			   const struct sockaddr *client);

bool access_dest_allowed(const struct cidr_rules *rules,
			 const struct sockaddr *dest);

/*
 * As the two above, and writes into rule[cap] (when rule is not NULL) what
 * decided, for the access log: "allow:CIDR" or "deny:CIDR" (for
 * destinations "allow-dest:CIDR", "deny-dest:CIDR"), "no-match" (there
 * are client rules and none matched), "default" (no rule matched: for
 * clients, loopback and the private networks; for destinations, allowed)
 * or "builtin:CIDR" (a destination sluice always refuses).
 */
bool access_client_check(const struct cidr_rules *rules,
			 const struct sockaddr *client, char *rule, size_t cap);
bool access_dest_check(const struct cidr_rules *rules,
		       const struct sockaddr *dest, char *rule, size_t cap);

/*
 * Would these client rules let in an address outside loopback and the
 * private ranges through a rule written as a block ("0.0.0.0/0", "::/0")
 * rather than as "all"? A public listener then refuses to start: letting
 * the whole Internet in must be said in so many words.
 */
bool access_open_by_accident(const struct cidr_rules *rules);

/* Is the address loopback or private (the default clients)? */
bool access_is_local(const struct sockaddr *sa);

#endif
