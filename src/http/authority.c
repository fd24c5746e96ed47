/*
 * authority.c - see authority.h. The rule throughout: accept exactly one
 * reading of the bytes, so that what we check is what the resolver and the
 * target see.
 */
#include "http/authority.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#define AUTHORITY_MAX_LEN (AUTHORITY_MAX_NAME + 1 + 6)
#define LABEL_MAX	  63

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '-' || c == '_';
}

/* Decimal 1..65535, at most 5 digits, no sign, no leading zero. */
static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	uint32_t v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Exactly four decimal octets 0..255; "0" alone may start with zero. */
static bool is_ipv4(const char *s, size_t len)
{
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		size_t start = i;
		unsigned v = 0;

		while (i < len && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
		if (octet < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/*
 * WHATWG URL "ends in a number": a last label of decimal digits, or of "0x"
 * and hex digits, makes the host an IPv4 literal, and inet_aton (so
 * getaddrinfo) reads one in "1.2.3", "0x7f.1" or "127.0.0.0x1".
 */
static bool is_ipv4_number(const char *s, size_t len)
{
	size_t i = 0;
	bool hex = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (hex)
		i = 2;
	for (; i < len; i++) {
		char c = s[i];
		if (!is_digit(c) && !(hex && ((c >= 'a' && c <= 'f') ||
					      (c >= 'A' && c <= 'F'))))
			return false;
	}
	return true;
}

static enum authority_error check_name(const char *s, size_t len)
{
	size_t label_start = 0, last_label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--; /* one trailing dot: the root, harmless */
	if (len == 0)
		return AUTHORITY_EMPTY;
	if (len > AUTHORITY_MAX_NAME)
		return AUTHORITY_TOO_LONG;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t label_len = i - label_start;
			if (label_len == 0 || label_len > LABEL_MAX)
				return AUTHORITY_BAD_NAME;
			last_label = label_start;
			label_start = i + 1;
			continue;
		}
		if (!is_name_char(s[i]))
			return AUTHORITY_BAD_NAME;
	}
	return is_ipv4_number(s + last_label, len - last_label)
		       ? AUTHORITY_BAD_IPV4
		       : AUTHORITY_OK;
}

enum authority_error authority_parse(const char *s, size_t len,
				     uint16_t default_port,
				     struct authority *out)
{
	const char *host, *port_str = NULL;
	size_t host_len, port_len = 0;

	if (len == 0)
		return AUTHORITY_EMPTY;
	if (len > AUTHORITY_MAX_LEN + 2)
		return AUTHORITY_TOO_LONG;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		char text[INET6_ADDRSTRLEN];
		struct in6_addr a6;

		if (close == NULL)
			return AUTHORITY_BAD_IPV6;
		host = s + 1;
		host_len = (size_t)(close - host);
		/* inet_pton would stop at a NUL and pass what follows */
		if (host_len == 0 || host_len >= sizeof(text) ||
		    memchr(host, '\0', host_len) != NULL)
			return AUTHORITY_BAD_IPV6;
		memcpy(text, host, host_len);
		text[host_len] = '\0';
		/* inet_pton refuses zone ids ("%25eth0"), as we want */
		if (inet_pton(AF_INET6, text, &a6) != 1)
			return AUTHORITY_BAD_IPV6;
		out->kind = AUTHORITY_IPV6;
		size_t rest = len - (size_t)(close + 1 - s);
		if (rest > 0) {
			if (close[1] != ':')
				return AUTHORITY_BAD_IPV6;
			port_str = close + 2;
			port_len = rest - 1;
		}
	} else {
		const char *colon = memchr(s, ':', len);

		host = s;
		host_len = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL) {
			port_str = colon + 1;
			port_len = len - host_len - 1;
		}
		if (host_len == 0)
			return AUTHORITY_EMPTY;
		if (is_ipv4(host, host_len)) {
			out->kind = AUTHORITY_IPV4;
		} else {
			enum authority_error err = check_name(host, host_len);
			if (err != AUTHORITY_OK)
				return err;
			out->kind = AUTHORITY_NAME;
		}
	}

	if (port_str == NULL) {
		if (default_port == 0)
			return AUTHORITY_NO_PORT;
		out->port = default_port;
	} else if (!parse_port(port_str, port_len, &out->port)) {
		return AUTHORITY_BAD_PORT;
	}
	out->host = host;
	out->host_len = host_len;
	return AUTHORITY_OK;
}

const char *authority_strerror(enum authority_error err)
{
	switch (err) {
	case AUTHORITY_OK:
		return "ok";
	case AUTHORITY_EMPTY:
		return "empty host";
	case AUTHORITY_TOO_LONG:
		return "host name too long";
	case AUTHORITY_NO_PORT:
		return "missing port";
	case AUTHORITY_BAD_PORT:
		return "invalid port";
	case AUTHORITY_BAD_NAME:
		return "invalid host name";
	case AUTHORITY_BAD_IPV4:
		return "invalid IPv4 address";
	case AUTHORITY_BAD_IPV6:
		return "invalid IPv6 address";
	}
	return "invalid authority";
}
