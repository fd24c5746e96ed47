/*
 * uri.h - the request-target forms a forward proxy sees (RFC 9112 §3.2):
 * absolute-form for plain HTTP ("http://host:port/path?query").
 *
 * Pure: slices of the input.
 */
#ifndef SLUICE_HTTP_URI_H
#define SLUICE_HTTP_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "http/authority.h"

enum uri_error {
	URI_OK = 0,
	URI_NOT_ABSOLUTE, /* origin-form, asterisk-form, or no "scheme://" */
	URI_SCHEME,	  /* a scheme other than http (https: we do not
			   * originate TLS; CONNECT is the way) */
	URI_USERINFO,	  /* "user@host": refused (RFC 9110 §4.2.4) */
	URI_AUTHORITY,	  /* authority_parse refused the host or port */
	URI_FRAGMENT,	  /* '#' is not part of a request-target */
};

/*
 * The origin-form sent to the origin (RFC 9112 §3.2.1) is path then query,
 * written one after the other: "http://a?x" gives path "/" and query "?x".
 */
struct uri {
	struct authority authority; /* port 80 when absent */
	const char *authority_text; /* "host:port" as written, a slice */
	size_t authority_len;
	const char *path; /* absolute-path, a slice; "/" (static) if empty */
	size_t path_len;  /* >= 1, ends before the first '?' */
	bool path_empty;  /* the URI had no path ("http://a" or "http://a?x") */
	const char *query; /* from the first '?' (included) to the end, */
	size_t query_len;  /* a slice; 0 when there is no '?' */
};

/*
 * Parses an absolute-form target: scheme "http" (any case), "://",
 * authority (up to the first '/', '?' or the end), then path-abempty and
 * optional query. An empty path becomes "/" (a static string). Checked in
 * this order: a byte outside VCHAR, or no "scheme://", is
 * URI_NOT_ABSOLUTE; a scheme other than http URI_SCHEME; a '#' anywhere
 * URI_FRAGMENT; an '@' in the authority URI_USERINFO; an empty or invalid
 * authority URI_AUTHORITY, with *aerr saying why (AUTHORITY_OK otherwise).
 * *out is meaningful only on URI_OK.
 */
enum uri_error uri_parse_absolute(const char *s, size_t len, struct uri *out,
				  enum authority_error *aerr);

const char *uri_strerror(enum uri_error err);

#endif
