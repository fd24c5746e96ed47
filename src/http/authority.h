/*
 * authority.h - parse an HTTP authority: host and port (RFC 9110 §4.2.3,
 * RFC 3986 §3.2.2), as in a CONNECT target or an absolute URI.
 *
 * Pure: bytes in, a struct of slices out. The host is one of a DNS name, a
 * dotted-quad IPv4 literal or a bracketed IPv6 literal. Anything a resolver
 * might read differently from how we read it is refused: shorthand or octal
 * IPv4 ("1.2.3", "010.0.0.1"), a name whose last label is numeric, IPv6 zone
 * identifiers, percent-encoding, userinfo.
 */
#ifndef SLUICE_HTTP_AUTHORITY_H
#define SLUICE_HTTP_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

enum authority_kind {
	AUTHORITY_NAME = 1,
	AUTHORITY_IPV4,
	AUTHORITY_IPV6,
};

enum authority_error {
	AUTHORITY_OK = 0,
	AUTHORITY_EMPTY,
	AUTHORITY_TOO_LONG,
	AUTHORITY_NO_PORT,
	AUTHORITY_BAD_PORT,
	AUTHORITY_BAD_NAME,
	AUTHORITY_BAD_IPV4,
	AUTHORITY_BAD_IPV6,
};

struct authority {
	enum authority_kind kind;
	const char *host; /* slice of the input; IPv6 without brackets */
	size_t host_len;
	uint16_t port;
};

/* Longest DNS name in presentation form, without a trailing dot. */
#define AUTHORITY_MAX_NAME 253

/*
 * Parses s[0..len) as host[:port]. default_port 0 means the port is
 * required (CONNECT, RFC 9110 §9.3.6). Returns AUTHORITY_OK and fills *out,
 * or an error code (then *out is unspecified).
 */
enum authority_error authority_parse(const char *s, size_t len,
				     uint16_t default_port,
				     struct authority *out);

/* A short English reason for an error code, for a 400 body. */
const char *authority_strerror(enum authority_error err);

#endif
