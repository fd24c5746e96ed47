/*
 * addr.h - socket addresses to and from text. Pure: inet_pton/inet_ntop
 * only, never a resolver.
 */
#ifndef SLUICE_BASE_ADDR_H
#define SLUICE_BASE_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* "[ffff:...]:65535" plus NUL */
#define ADDR_TEXT_MAX 64

/*
 * Parses "1.2.3.4:80", "[::1]:80" or "*:80" (any IPv4 address) into *ss.
 * Port 0 is allowed (the kernel picks one). Returns 0 or -1.
 */
int addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Writes "1.2.3.4:80" or "[::1]:80" into out; "?" if the family is odd. */
void addr_format(const struct sockaddr *sa, char *out, size_t cap);

/* Writes the address alone, "1.2.3.4" or "::1"; "?" if the family is odd. */
void addr_format_host(const struct sockaddr *sa, char *out, size_t cap);

#endif
