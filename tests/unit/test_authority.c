/*
 * test_authority.c - authority_parse: the hosts and ports a CONNECT target
 * may name, and every form a resolver could read differently from us.
 * Each input is parsed from a heap copy of exactly its length, so ASan
 * catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/authority.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static enum authority_error parse(const char *in, size_t len,
				  uint16_t default_port, struct authority *out,
				  size_t *host_off)
{
	char *buf = malloc(len + 1); /* +1: malloc(0) may return NULL */
	enum authority_error rc;

	assert_non_null(buf);
	memcpy(buf, in, len);
	rc = authority_parse(buf, len, default_port, out);
	if (rc == AUTHORITY_OK) {
		assert_true(out->host >= buf);
		assert_true(out->host + out->host_len <= buf + len);
		*host_off = (size_t)(out->host - buf);
	}
	free(buf);
	return rc;
}

struct accept_case {
	const char *in;
	uint16_t default_port;
	enum authority_kind kind;
	const char *host;
	uint16_t port;
};

static const struct accept_case accepted[] = {
	{"example.com:443", 0, AUTHORITY_NAME, "example.com", 443},
	{"EXAMPLE.Com:443", 0, AUTHORITY_NAME, "EXAMPLE.Com", 443},
	{"localhost:1", 0, AUTHORITY_NAME, "localhost", 1},
	{"a-b_c.example:65535", 0, AUTHORITY_NAME, "a-b_c.example", 65535},
	{"example.com.:443", 0, AUTHORITY_NAME, "example.com.", 443},
	{"1a.example:443", 0, AUTHORITY_NAME, "1a.example", 443},
	{"10.example:443", 0, AUTHORITY_NAME, "10.example", 443},
	{"1.2.3.a4:443", 0, AUTHORITY_NAME, "1.2.3.a4", 443},
	{"example.c0m:443", 0, AUTHORITY_NAME, "example.c0m", 443},
	{"example.0xz:443", 0, AUTHORITY_NAME, "example.0xz", 443},
	{"example.x0:443", 0, AUTHORITY_NAME, "example.x0", 443},
	{"1.2.3.4:80", 0, AUTHORITY_IPV4, "1.2.3.4", 80},
	{"0.0.0.0:80", 0, AUTHORITY_IPV4, "0.0.0.0", 80},
	{"255.255.255.255:8080", 0, AUTHORITY_IPV4, "255.255.255.255", 8080},
	{"10.0.0.1:443", 0, AUTHORITY_IPV4, "10.0.0.1", 443},
	{"[::1]:443", 0, AUTHORITY_IPV6, "::1", 443},
	{"[2001:db8::8a2e:370:7334]:8443", 0, AUTHORITY_IPV6,
	 "2001:db8::8a2e:370:7334", 8443},
	{"[::ffff:1.2.3.4]:443", 0, AUTHORITY_IPV6, "::ffff:1.2.3.4", 443},
	{"[0000:0000:0000:0000:0000:ffff:255.255.255.255]:1", 0, AUTHORITY_IPV6,
	 "0000:0000:0000:0000:0000:ffff:255.255.255.255", 1},
	/* a default port makes the port optional (absolute-form URIs) */
	{"example.com", 80, AUTHORITY_NAME, "example.com", 80},
	{"example.com:8080", 80, AUTHORITY_NAME, "example.com", 8080},
	{"1.2.3.4", 80, AUTHORITY_IPV4, "1.2.3.4", 80},
	{"[::1]", 443, AUTHORITY_IPV6, "::1", 443},
};

static void accepts_names_ipv4_and_ipv6(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const struct accept_case *c = &accepted[i];
		struct authority a;
		size_t off = 0;
		enum authority_error rc;

		rc = parse(c->in, strlen(c->in), c->default_port, &a, &off);
		if (rc != AUTHORITY_OK)
			fail_msg("'%s': %s", c->in, authority_strerror(rc));
		if (a.kind != c->kind || a.port != c->port ||
		    a.host_len != strlen(c->host) ||
		    memcmp(c->in + off, c->host, a.host_len) != 0)
			fail_msg("'%s': kind %d host '%.*s' port %u", c->in,
				 a.kind, (int)a.host_len, c->in + off, a.port);
	}
}

struct refuse_case {
	const char *in;
	size_t len;
	uint16_t default_port;
	enum authority_error want;
};

static const struct refuse_case refused[] = {
	{S(""), 0, AUTHORITY_EMPTY},
	{S(":443"), 0, AUTHORITY_EMPTY},
	{S(".:443"), 0, AUTHORITY_EMPTY},

	/* RFC 9110 §9.3.6: CONNECT names a port */
	{S("example.com"), 0, AUTHORITY_NO_PORT},
	{S("1.2.3.4"), 0, AUTHORITY_NO_PORT},
	{S("[::1]"), 0, AUTHORITY_NO_PORT},
	{S("example.com:"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:"), 80, AUTHORITY_BAD_PORT},
	{S("example.com:0"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:0443"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:65536"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:99999"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:100000"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:+443"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:-1"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:44 3"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:443:443"), 0, AUTHORITY_BAD_PORT},
	{S("example.com:http"), 0, AUTHORITY_BAD_PORT},
	{S("[::1]:"), 0, AUTHORITY_BAD_PORT},
	{S("[::1]:0"), 0, AUTHORITY_BAD_PORT},

	/* shorthand, octal and hex IPv4 that inet_aton would accept */
	{S("1.2.3:443"), 0, AUTHORITY_BAD_IPV4},
	{S("127.1:443"), 0, AUTHORITY_BAD_IPV4},
	{S("2130706433:443"), 0, AUTHORITY_BAD_IPV4},
	{S("010.0.0.1:443"), 0, AUTHORITY_BAD_IPV4},
	{S("1.2.3.04:443"), 0, AUTHORITY_BAD_IPV4},
	{S("00.0.0.0:443"), 0, AUTHORITY_BAD_IPV4},
	{S("256.1.1.1:443"), 0, AUTHORITY_BAD_IPV4},
	{S("1.2.3.4.5:443"), 0, AUTHORITY_BAD_IPV4},
	{S("1.2.3.1234:443"), 0, AUTHORITY_BAD_IPV4},
	{S("1.2.3.4.:443"), 0, AUTHORITY_BAD_IPV4},
	{S("0x7f.1:443"), 0, AUTHORITY_BAD_IPV4},
	{S("0x7f000001:443"), 0, AUTHORITY_BAD_IPV4},
	{S("0X7F000001:443"), 0, AUTHORITY_BAD_IPV4},
	{S("127.0.0.0x1:443"), 0, AUTHORITY_BAD_IPV4},
	{S("1.0x:443"), 0, AUTHORITY_BAD_IPV4},
	{S("0xffffffff"), 80, AUTHORITY_BAD_IPV4},
	/* WHATWG URL: a numeric last label makes the host an IPv4 address */
	{S("example.123:443"), 0, AUTHORITY_BAD_IPV4},
	{S("example.0x1f:443"), 0, AUTHORITY_BAD_IPV4},
	{S("123:443"), 0, AUTHORITY_BAD_IPV4},

	/* names */
	{S("exa mple.com:443"), 0, AUTHORITY_BAD_NAME},
	{S("example..com:443"), 0, AUTHORITY_BAD_NAME},
	{S(".example.com:443"), 0, AUTHORITY_BAD_NAME},
	{S("example.com..:443"), 0, AUTHORITY_BAD_NAME},
	{S("user@example.com:443"), 0, AUTHORITY_BAD_NAME},
	{S("user:pass@example.com:443"), 0, AUTHORITY_BAD_PORT},
	{S("ex%61mple.com:443"), 0, AUTHORITY_BAD_NAME},
	{S("example.com/:443"), 0, AUTHORITY_BAD_NAME},
	{S("example.com\\:443"), 0, AUTHORITY_BAD_NAME},
	{S("caf\xc3\xa9.example:443"), 0, AUTHORITY_BAD_NAME},
	{S("example.com\t:443"), 0, AUTHORITY_BAD_NAME},
	{S("*.example.com:443"), 0, AUTHORITY_BAD_NAME},

	/* IPv6 literals: brackets, no zone id (RFC 6874), nothing after */
	{S("::1:443"), 0, AUTHORITY_EMPTY},
	{S("[::1"), 0, AUTHORITY_BAD_IPV6},
	{S("[::1:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[::1]443"), 0, AUTHORITY_BAD_IPV6},
	{S("[::1]]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[::1%25eth0]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[fe80::1%eth0]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[1.2.3.4]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[example.com]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[v1.fe]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[::ffff:1.2.3.04]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[1:2:3:4:5:6:7:8:9]:443"), 0, AUTHORITY_BAD_IPV6},
	/* inet_pton stops at a NUL: what follows must not ride along */
	{S("[::1\0evil]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[::\0\0\0]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("example\0.com:443"), 0, AUTHORITY_BAD_NAME},
	{S("1.2.3.4\0:443"), 0, AUTHORITY_BAD_NAME},
	{S("[ ::1]:443"), 0, AUTHORITY_BAD_IPV6},
	{S("[0000:0000:0000:0000:0000:ffff:255.255.255.255 ]:1"), 0,
	 AUTHORITY_BAD_IPV6},
};

static void refuses_what_a_resolver_could_read_otherwise(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct refuse_case *c = &refused[i];
		struct authority a;
		size_t off;
		enum authority_error rc;

		rc = parse(c->in, c->len, c->default_port, &a, &off);
		if (rc != c->want)
			fail_msg("'%s' (default port %u): %d (%s), want %d "
				 "(%s)",
				 c->in, c->default_port, rc,
				 authority_strerror(rc), c->want,
				 authority_strerror(c->want));
	}
}

/*
 * Builds a name from a list of label lengths: "3.2" is "aaa.aa". Labels are
 * letters, so only the lengths matter.
 */
static size_t build_name(const char *labels, char *out, size_t cap)
{
	size_t n = 0;
	const char *p = labels;

	while (*p != '\0') {
		char *end;
		unsigned long len = strtoul(p, &end, 10);

		assert_true(end != p);
		assert_true(n + len + 1 < cap);
		memset(out + n, 'a', len);
		n += len;
		p = end;
		if (*p == '.')
			out[n++] = *p++;
	}
	out[n] = '\0';
	return n;
}

static void limits_labels_to_63_and_names_to_253(void **state)
{
	static const struct {
		const char *labels;
		enum authority_error want;
	} cases[] = {
		{"63", AUTHORITY_OK},
		{"64", AUTHORITY_BAD_NAME},
		{"1.63.1", AUTHORITY_OK},
		{"1.64.1", AUTHORITY_BAD_NAME},
		{"63.63.63.61", AUTHORITY_OK},	/* 253 bytes */
		{"63.63.63.61.", AUTHORITY_OK}, /* and the root's dot */
		{"63.63.63.62", AUTHORITY_TOO_LONG},
		{"63.63.63.62.", AUTHORITY_TOO_LONG},
		{"63.63.63.63", AUTHORITY_TOO_LONG},
		{"63.63.63.63.63", AUTHORITY_TOO_LONG},
		{"300", AUTHORITY_TOO_LONG},
	};
	char name[400], in[420];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct authority a;
		size_t off = 0;
		size_t n = build_name(cases[i].labels, name, sizeof(name));
		int len = snprintf(in, sizeof(in), "%s:443", name);
		enum authority_error rc;

		rc = parse(in, (size_t)len, 0, &a, &off);
		if (rc != cases[i].want)
			fail_msg("labels %s (%zu bytes): %s, want %s",
				 cases[i].labels, n, authority_strerror(rc),
				 authority_strerror(cases[i].want));
		if (rc == AUTHORITY_OK) {
			assert_int_equal(a.kind, AUTHORITY_NAME);
			assert_int_equal(a.host_len, n);
			assert_int_equal(a.port, 443);
		}
	}
}

static void explains_every_error(void **state)
{
	static const enum authority_error errors[] = {
		AUTHORITY_OK,	    AUTHORITY_EMPTY,	AUTHORITY_TOO_LONG,
		AUTHORITY_NO_PORT,  AUTHORITY_BAD_PORT, AUTHORITY_BAD_NAME,
		AUTHORITY_BAD_IPV4, AUTHORITY_BAD_IPV6,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const char *text = authority_strerror(errors[i]);

		assert_non_null(text);
		assert_string_not_equal(text, "invalid authority");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(text,
						authority_strerror(errors[j]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_names_ipv4_and_ipv6),
		cmocka_unit_test(refuses_what_a_resolver_could_read_otherwise),
		cmocka_unit_test(limits_labels_to_63_and_names_to_253),
		cmocka_unit_test(explains_every_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
