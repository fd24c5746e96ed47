/*
 * dns_name.h - what sluice takes for a DNS name wherever one is written by
 * hand (a blocklist line, upstream-proxy-for, a parent proxy's host): the
 * rules authority_parse() applies to a request's host.
 */
#ifndef SLUICE_BASE_DNS_NAME_H
#define SLUICE_BASE_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_NAME_MAX  253 /* bytes, without a trailing dot (RFC 1035) */
#define DNS_LABEL_MAX 63

/*
 * Is s[0..len) a name: labels of 1..DNS_LABEL_MAX letters (either case),
 * digits, '-' or '_', at most DNS_NAME_MAX bytes in all, no trailing dot,
 * and the last label not all digits (that would be an address)?
 */
bool dns_name_valid(const char *s, size_t len);

#endif
