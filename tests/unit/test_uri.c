/*
 * test_uri.c - absolute-form request targets (RFC 9112 §3.2.2) and the
 * origin-form sent on for them (§3.2.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/uri.h"

struct accept_case {
	const char *why;
	const char *in;
	const char *want; /* "authority_text|host|port|path|query" */
};

/* clang-format off */
static const struct accept_case accepted[] = {
	{"a host and a path", "http://example.com/a/b",
	 "example.com|example.com|80|/a/b|"},
	{"a port", "http://example.com:8080/", "example.com:8080|example.com|8080|/|"},
	{"a query", "http://a/p?x=1&y=2", "a|a|80|/p|?x=1&y=2"},
	{"no path: \"/\"", "http://a", "a|a|80|/|"},
	{"no path before a query: \"/\" then the query", "http://a?x",
	 "a|a|80|/|?x"},
	{"an empty query is kept", "http://a/?", "a|a|80|/|?"},
	{"a '?' after the first is part of the query", "http://a/p?x?y",
	 "a|a|80|/p|?x?y"},
	{"a '/' in the query", "http://a?x/y", "a|a|80|/|?x/y"},
	{"the scheme in any case", "HtTp://a/", "a|a|80|/|"},
	{"an IPv4 host", "http://192.0.2.1:81/x", "192.0.2.1:81|192.0.2.1|81|/x|"},
	{"an IPv6 host", "http://[2001:db8::1]:8080/",
	 "[2001:db8::1]:8080|2001:db8::1|8080|/|"},
	{"an IPv6 host without a port", "http://[::1]", "[::1]|::1|80|/|"},
	{"an '@' in the path is not userinfo", "http://a/@b", "a|a|80|/@b|"},
	{"an '@' in the query is not userinfo", "http://a?u@b",
	 "a|a|80|/|?u@b"},
	{"percent-encoding in the path is passed on", "http://a/%2e%2E/x",
	 "a|a|80|/%2e%2E/x|"},
	{"a path of '//' is passed on", "http://a//x", "a|a|80|//x|"},
	{"a trailing dot on the name", "http://a.example./",
	 "a.example.|a.example.|80|/|"},
};
/* clang-format on */

static void parses_absolute_form(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const struct accept_case *c = &accepted[i];
		size_t len = strlen(c->in);
		char *buf = malloc(len + 1);
		struct uri u;
		enum authority_error aerr = AUTHORITY_BAD_NAME;
		enum uri_error err;
		char got[256];

		assert_non_null(buf);
		memcpy(buf, c->in, len); /* exactly len bytes are read */
		err = uri_parse_absolute(buf, len, &u, &aerr);
		if (err != URI_OK)
			fail_msg("%s: %s (%s)", c->why, uri_strerror(err),
				 authority_strerror(aerr));
		assert_int_equal(aerr, AUTHORITY_OK);
		snprintf(got, sizeof(got), "%.*s|%.*s|%u|%.*s|%.*s",
			 (int)u.authority_len, u.authority_text,
			 (int)u.authority.host_len, u.authority.host,
			 u.authority.port, (int)u.path_len, u.path,
			 (int)u.query_len, u.query);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->why, got,
				 c->want);
		/* slices of the input, but for the static "/" */
		assert_true(u.authority_text >= buf &&
			    u.authority_text + u.authority_len <= buf + len);
		assert_true(u.query >= buf &&
			    u.query + u.query_len <= buf + len);
		assert_true(u.path_len >= 1 && u.path[0] == '/');
		/* path_empty says the "/" is ours, not the client's */
		const char *q = strpbrk(strstr(c->in, "://") + 3, "/?");
		assert_int_equal(u.path_empty, q == NULL || *q == '?');
		free(buf);
	}
}

struct refuse_case {
	const char *why;
	const char *in;
	enum uri_error err;
	enum authority_error aerr;
};

/* clang-format off */
static const struct refuse_case refused[] = {
	{"origin-form", "/a/b", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"asterisk-form", "*", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"authority-form", "example.com:80", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"an empty target", "", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"a scheme without '//'", "http:/a", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"a scheme alone", "http:", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"no scheme before '://'", "://a/", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"a scheme starting with a digit", "1http://a/", URI_NOT_ABSOLUTE,
	 AUTHORITY_OK},
	{"a space", "http://a/ b", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"a control byte", "http://a/\x01", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"obs-text", "http://a/\xc3\xa9", URI_NOT_ABSOLUTE, AUTHORITY_OK},
	{"https: CONNECT is the way", "https://a/", URI_SCHEME, AUTHORITY_OK},
	{"HTTPS in capitals", "HTTPS://a/", URI_SCHEME, AUTHORITY_OK},
	{"ftp", "ftp://a/", URI_SCHEME, AUTHORITY_OK},
	{"a scheme that starts like http", "httpx://a/", URI_SCHEME,
	 AUTHORITY_OK},
	{"a fragment", "http://a/p#f", URI_FRAGMENT, AUTHORITY_OK},
	{"a fragment in the query", "http://a/p?q#f", URI_FRAGMENT,
	 AUTHORITY_OK},
	{"a '#' in the authority", "http://a#b/", URI_FRAGMENT, AUTHORITY_OK},
	{"userinfo", "http://user@a/", URI_USERINFO, AUTHORITY_OK},
	{"userinfo with a password", "http://u:p@a:80/", URI_USERINFO,
	 AUTHORITY_OK},
	{"an '@' that would hide the real host", "http://a.com@b.com/",
	 URI_USERINFO, AUTHORITY_OK},
	{"an empty authority", "http:///p", URI_AUTHORITY, AUTHORITY_EMPTY},
	{"an empty authority before a query", "http://?q", URI_AUTHORITY,
	 AUTHORITY_EMPTY},
	{"nothing after the scheme", "http://", URI_AUTHORITY,
	 AUTHORITY_EMPTY},
	{"a port alone", "http://:80/", URI_AUTHORITY, AUTHORITY_EMPTY},
	{"an empty port", "http://a:/", URI_AUTHORITY, AUTHORITY_BAD_PORT},
	{"port 0", "http://a:0/", URI_AUTHORITY, AUTHORITY_BAD_PORT},
	{"a port too large", "http://a:65536/", URI_AUTHORITY,
	 AUTHORITY_BAD_PORT},
	{"a backslash in the host", "http://a\\b/", URI_AUTHORITY,
	 AUTHORITY_BAD_NAME},
	{"percent-encoding in the host", "http://a%2eb/", URI_AUTHORITY,
	 AUTHORITY_BAD_NAME},
	{"shorthand IPv4", "http://127.1/", URI_AUTHORITY, AUTHORITY_BAD_IPV4},
	{"an IPv6 zone", "http://[fe80::1%25eth0]/", URI_AUTHORITY,
	 AUTHORITY_BAD_IPV6},
};
/* clang-format on */

static void refuses_other_targets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct refuse_case *c = &refused[i];
		size_t len = strlen(c->in);
		char *buf = malloc(len + 1);
		struct uri u;
		enum authority_error aerr = AUTHORITY_BAD_NAME;
		enum uri_error err;

		assert_non_null(buf);
		memcpy(buf, c->in, len);
		err = uri_parse_absolute(buf, len, &u, &aerr);
		if (err != c->err || aerr != c->aerr)
			fail_msg("%s: got %s (%s), want %s (%s)", c->why,
				 uri_strerror(err), authority_strerror(aerr),
				 uri_strerror(c->err),
				 authority_strerror(c->aerr));
		free(buf);
	}
}

static void names_every_error(void **state)
{
	static const enum uri_error errs[] = {
		URI_OK,	      URI_NOT_ABSOLUTE, URI_SCHEME,
		URI_USERINFO, URI_AUTHORITY,	URI_FRAGMENT,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_true(strlen(uri_strerror(errs[i])) > 0);
		assert_string_not_equal(uri_strerror(errs[i]), "invalid URI");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(uri_strerror(errs[i]),
						uri_strerror(errs[j]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_absolute_form),
		cmocka_unit_test(refuses_other_targets),
		cmocka_unit_test(names_every_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
