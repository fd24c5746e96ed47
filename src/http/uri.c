/*
 * uri.c - see uri.h. Only the absolute-form a forward proxy needs; the
 * path and query are checked for bytes that could not be in a
 * request-target, not for URI grammar: the origin reads them, not us.
 */
#include "http/uri.h"

#include <stdbool.h>
#include <string.h>

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool is_scheme_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
	       c == '.';
}

static bool is_http(const char *s, size_t len)
{
	static const char http[] = "http";

	if (len != sizeof(http) - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
		if (c != http[i])
			return false;
	}
	return true;
}

enum uri_error uri_parse_absolute(const char *s, size_t len, struct uri *out,
				  enum authority_error *aerr)
{
	size_t i = 0, a, p;

	*aerr = AUTHORITY_OK;
	/* RFC 9112 §3.2: a request-target is VCHARs only */
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c <= 0x20 || c >= 0x7f)
			return URI_NOT_ABSOLUTE;
	}

	while (i < len && is_scheme_char(s[i]))
		i++;
	if (i == 0 || !is_alpha(s[0]) || len - i < 3 ||
	    memcmp(s + i, "://", 3) != 0)
		return URI_NOT_ABSOLUTE;
	if (!is_http(s, i))
		return URI_SCHEME;
	/* RFC 9112 §3.2: the fragment is not sent, so one here is an error */
	if (memchr(s, '#', len) != NULL)
		return URI_FRAGMENT;

	a = i + 3;
	for (p = a; p < len && s[p] != '/' && s[p] != '?'; p++) {
		/* RFC 9110 §4.2.4: no userinfo in an http URI */
		if (s[p] == '@')
			return URI_USERINFO;
	}
	if (p == a) {
		*aerr = AUTHORITY_EMPTY;
		return URI_AUTHORITY;
	}
	*aerr = authority_parse(s + a, p - a, 80, &out->authority);
	if (*aerr != AUTHORITY_OK)
		return URI_AUTHORITY;
	out->authority_text = s + a;
	out->authority_len = p - a;

	/* RFC 9112 §3.2.1: origin-form needs an absolute-path, at least "/" */
	size_t q = p;
	while (q < len && s[q] != '?')
		q++;
	out->path_empty = q == p;
	if (q == p) {
		out->path = "/";
		out->path_len = 1;
	} else {
		out->path = s + p;
		out->path_len = q - p;
	}
	out->query = s + q;
	out->query_len = len - q;
	return URI_OK;
}

const char *uri_strerror(enum uri_error err)
{
	switch (err) {
	case URI_OK:
		return "ok";
	case URI_NOT_ABSOLUTE:
		return "request target is not an absolute http URI";
	case URI_SCHEME:
		return "unsupported URI scheme";
	case URI_USERINFO:
		return "user information in URI";
	case URI_AUTHORITY:
		return "invalid host or port in URI";
	case URI_FRAGMENT:
		return "fragment in request target";
	}
	return "invalid URI";
}
