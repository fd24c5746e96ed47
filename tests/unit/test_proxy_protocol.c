/*
 * test_proxy_protocol.c - pp_parse: PROXY protocol v1 lines and v2 blocks,
 * good and bad, each parsed whole and fed one byte at a time (need more
 * until the header's last byte, then the same result; an error, once
 * seen, never changes). Every input is parsed from a heap copy of exactly
 * the bytes given, so ASan catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "http/proxy_protocol.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

/* §2.2's 12-byte signature; a NUL inside, so always used with S() */
#define SIG "\r\n\r\n\0\r\nQUIT\n"

/* Parses a heap copy of in[0..len); *out is poisoned first. */
static int parse(const void *in, size_t len, struct pp_header *out,
		 struct pp_error *err)
{
	uint8_t *buf = malloc(len + 1); /* +1: malloc(0) may return NULL */
	struct pp_header before;
	int rc;

	assert_non_null(buf);
	memcpy(buf, in, len);
	memset(out, 0xa5, sizeof(*out));
	memcpy(&before, out, sizeof(before));
	err->code = PP_ERR_NONE;
	err->offset = (size_t)-1;
	rc = pp_parse(buf, len, out, err);
	free(buf);
	assert_true(rc > 0 || rc == PP_NEED_MORE || rc == PP_ERROR);
	if (rc <= 0) /* *out is written only on success */
		assert_memory_equal(out, &before, sizeof(before));
	if (rc == PP_ERROR) {
		assert_int_not_equal(err->code, PP_ERR_NONE);
		assert_true(err->offset <= len);
	} else {
		assert_int_equal(err->code, PP_ERR_NONE);
	}
	if (rc > 0)
		assert_true((size_t)rc <= len);
	return rc;
}

/*
 * Feeds in[0..n) for every n < len, then the whole: a good header is need
 * more up to its last byte, then its length; a bad one is need more, then
 * the whole input's error at every length from some n on, and that error
 * never blames a byte not yet received. Returns the result for the whole.
 */
static int parse_bytewise(const char *name, const void *in, size_t len,
			  struct pp_header *out, struct pp_error *err)
{
	int whole = parse(in, len, out, err);
	struct pp_error whole_err = *err;
	struct pp_header whole_out = *out;
	bool failed = false;

	for (size_t n = 0; n < len; n++) {
		struct pp_header h;
		struct pp_error e;
		int rc = parse(in, n, &h, &e);

		if (whole > 0) {
			int want = n < (size_t)whole ? PP_NEED_MORE : whole;
			if (rc != want)
				fail_msg("%s: %zu of %zu bytes: %d, want %d",
					 name, n, len, rc, want);
			if (rc > 0)
				assert_memory_equal(&h, &whole_out, sizeof(h));
			continue;
		}
		if (whole == PP_NEED_MORE && rc != PP_NEED_MORE)
			fail_msg("%s: %zu bytes: %d, whole needs more", name, n,
				 rc);
		if (whole != PP_ERROR)
			continue;
		if (rc == PP_NEED_MORE && failed)
			fail_msg("%s: need more at %zu after an error", name,
				 n);
		if (rc == PP_ERROR) {
			if (e.code != whole_err.code ||
			    e.offset != whole_err.offset)
				fail_msg("%s: %zu bytes: %s at %zu, whole: %s "
					 "at %zu",
					 name, n, pp_strerror(e.code), e.offset,
					 pp_strerror(whole_err.code),
					 whole_err.offset);
			if (!failed &&
			    (e.offset > n ||
			     (e.offset == n && e.code != PP_ERR_V1_TOO_LONG)))
				fail_msg("%s: %s at %zu from %zu bytes", name,
					 pp_strerror(e.code), e.offset, n);
			failed = true;
		}
		assert_true(rc == PP_NEED_MORE || rc == PP_ERROR);
	}
	*err = whole_err;
	*out = whole_out;
	return whole;
}

/* "addr port", or "" for no address; the family must match. */
static void format_addr(const struct sockaddr_storage *ss, socklen_t len,
			char *text, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (len == 0) {
		text[0] = '\0';
		return;
	}
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in sin;

		assert_int_equal(len, sizeof(sin));
		memcpy(&sin, ss, sizeof(sin));
		assert_non_null(
			inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host)));
		snprintf(text, cap, "%s %u", host, ntohs(sin.sin_port));
	} else {
		struct sockaddr_in6 sin6;

		assert_int_equal(ss->ss_family, AF_INET6);
		assert_int_equal(len, sizeof(sin6));
		memcpy(&sin6, ss, sizeof(sin6));
		assert_non_null(inet_ntop(AF_INET6, &sin6.sin6_addr, host,
					  sizeof(host)));
		snprintf(text, cap, "%s %u", host, ntohs(sin6.sin6_port));
	}
}

struct good_case {
	const char *in;
	size_t len;
	int hdr_len; /* less than len when the client's bytes follow */
	int version;
	int family;	       /* AF_INET, AF_INET6, or 0 for local */
	const char *src, *dst; /* "addr port", as inet_ntop writes it */
};

static void check_good(const struct good_case *c, size_t i)
{
	struct pp_header h;
	struct pp_error e;
	char name[32], src[80], dst[80];
	int rc;

	snprintf(name, sizeof(name), "good #%zu", i);
	rc = parse_bytewise(name, c->in, c->len, &h, &e);
	if (rc != c->hdr_len)
		fail_msg("%s: %d (%s at %zu), want %d", name, rc,
			 pp_strerror(e.code), e.offset, c->hdr_len);
	assert_int_equal(h.version, c->version);
	assert_int_equal(h.local, c->family == 0);
	if (c->family == 0) {
		assert_int_equal(h.src_len, 0);
		assert_int_equal(h.dst_len, 0);
		return;
	}
	assert_int_equal(h.src.ss_family, c->family);
	assert_int_equal(h.dst.ss_family, c->family);
	format_addr(&h.src, h.src_len, src, sizeof(src));
	format_addr(&h.dst, h.dst_len, dst, sizeof(dst));
	if (strcmp(src, c->src) != 0 || strcmp(dst, c->dst) != 0)
		fail_msg("%s: %s -> %s, want %s -> %s", name, src, dst, c->src,
			 c->dst);
}

#define V6_FFFF "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
/* 45 bytes, the longest IPv6 text; 44 with the last octet "25" */
#define V6_LONG	  "0000:0000:0000:0000:0000:ffff:255.255.255.255"
#define V6_LONG44 "0000:0000:0000:0000:0000:ffff:255.255.255.25"

static const struct good_case good_v1[] = {
	/* §2.1's example, with the request behind it */
	{S("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
	   "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"),
	 47, 1, AF_INET, "192.168.0.1 56324", "192.168.0.11 443"},
	{S("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"), 56, 1,
	 AF_INET, "255.255.255.255 65535", "255.255.255.255 65535"},
	{S("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n"), 33, 1, AF_INET, "0.0.0.0 0",
	 "10.0.0.1 0"},
	{S("PROXY TCP4 1.20.100.200 9.99.199.249 1 65535\r\n"), 46, 1, AF_INET,
	 "1.20.100.200 1", "9.99.199.249 65535"},
	{S("PROXY TCP6 ::1 ::1 1 2\r\n"), 24, 1, AF_INET6, "::1 1", "::1 2"},
	{S("PROXY TCP6 :: :: 0 0\r\n"), 22, 1, AF_INET6, ":: 0", ":: 0"},
	/* the spec allows upper case hex and uncompressed groups */
	{S("PROXY TCP6 2001:DB8::1 2001:db8:0:0:0:0:0:2 443 8443\r\n"), 54, 1,
	 AF_INET6, "2001:db8::1 443", "2001:db8::2 8443"},
	/* inet_ntop writes a mapped IPv4 address with a dotted tail */
	{S("PROXY TCP6 ::ffff:192.0.2.1 ::ffff:192.0.2.2 1024 80\r\n"), 54, 1,
	 AF_INET6, "::ffff:192.0.2.1 1024", "::ffff:192.0.2.2 80"},
	{S("PROXY TCP6 " V6_FFFF " " V6_FFFF " 65535 65535\r\n"), 104, 1,
	 AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535"},
	/* 107 bytes exactly */
	{S("PROXY TCP6 " V6_LONG " " V6_LONG44 " 1 2\r\n"), 107, 1, AF_INET6,
	 "::ffff:255.255.255.255 1", "::ffff:255.255.255.25 2"},
	{S("PROXY UNKNOWN\r\n"), 15, 1, 0, NULL, NULL},
	{S("PROXY UNKNOWN\r\nGET / HTTP/1.1\r\n\r\n"), 15, 1, 0, NULL, NULL},
	/* §2.1: the receiver ignores what follows UNKNOWN; 107 bytes */
	{S("PROXY UNKNOWN " V6_FFFF " " V6_FFFF " 65535 65535\r\n"), 107, 1, 0,
	 NULL, NULL},
	{S("PROXY UNKNOWN anything ~at all! \r\n"), 34, 1, 0, NULL, NULL},
	{S("PROXY UNKNOWN \r\n"), 16, 1, 0, NULL, NULL},
};

/* TCP4 127.0.0.1:56324 -> 192.168.0.11:443 */
#define V2_TCP4_ADDR "\x7f\x00\x00\x01\xc0\xa8\x00\x0b\xdc\x04\x01\xbb"
/* TCP6 [2001:db8::1]:1 -> [::1]:65535 */
#define V2_TCP6_ADDR                                                           \
	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"                           \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"                                   \
	"\x00\x01\xff\xff"

static const struct good_case good_v2[] = {
	{S(SIG "\x21\x11\x00\x0c" V2_TCP4_ADDR), 28, 2, AF_INET,
	 "127.0.0.1 56324", "192.168.0.11 443"},
	{S(SIG "\x21\x11\x00\x0c" V2_TCP4_ADDR "GET / HTTP/1.1\r\n\r\n"), 28, 2,
	 AF_INET, "127.0.0.1 56324", "192.168.0.11 443"},
	{S(SIG "\x21\x21\x00\x24" V2_TCP6_ADDR), 52, 2, AF_INET6,
	 "2001:db8::1 1", "::1 65535"},
	/* TLVs: NOOP empty, ALPN "h2", a custom type; skipped */
	{S(SIG "\x21\x11\x00\x1a" V2_TCP4_ADDR "\x04\x00\x00"
	       "\x01\x00\x02"
	       "h2"
	       "\xea\x00\x03"
	       "vpc"),
	 42, 2, AF_INET, "127.0.0.1 56324", "192.168.0.11 443"},
	{S(SIG "\x21\x21\x00\x2b" V2_TCP6_ADDR "\x05\x00\x04"
	       "uid1"
	       "CONNECT x:1 HTTP/1.1\r\n\r\n"),
	 59, 2, AF_INET6, "2001:db8::1 1", "::1 65535"},
	/* LOCAL: no addresses (§2.2: "should not present any") */
	{S(SIG "\x20\x00\x00\x00"), 16, 2, 0, NULL, NULL},
	{S(SIG "\x20\x00\x00\x00GET / HTTP/1.1\r\n\r\n"), 16, 2, 0, NULL, NULL},
	/* LOCAL: whatever the family, the block is skipped ("must not
	 * assume zero") and not read, even if shorter than the family's */
	{S(SIG "\x20\x11\x00\x0c" V2_TCP4_ADDR), 28, 2, 0, NULL, NULL},
	{S(SIG "\x20\x21\x00\x05"
	       "abcde"),
	 21, 2, 0, NULL, NULL},
	{S(SIG "\x20\x31\x00\x03\x01\x02\x03"), 19, 2, 0, NULL, NULL},
	{S(SIG "\x20\x12\x00\x00"), 16, 2, 0, NULL, NULL},
	/* PROXY over TCP with a longer block than the addresses: a TLV */
	{S(SIG "\x21\x11\x00\x0f" V2_TCP4_ADDR "\x04\x00\x00"), 31, 2, AF_INET,
	 "127.0.0.1 56324", "192.168.0.11 443"},
};

static void accepts_v1_tcp4_tcp6_and_unknown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_v1) / sizeof(good_v1[0]); i++)
		check_good(&good_v1[i], i);
}

static void accepts_v2_proxy_and_local(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_v2) / sizeof(good_v2[0]); i++)
		check_good(&good_v2[i], 100 + i);
}

struct bad_case {
	const char *in;
	size_t len;
	enum pp_err code;
	size_t offset;
};

#define P4 "PROXY TCP4 1.2.3.4 5.6.7.8 " /* ports start at 27 */

static const struct bad_case bad_v1[] = {
	/* the protocol word */
	{S("PROXY\r\n"), PP_ERR_NOT_PROXY, 5},
	{S("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_PROTOCOL, 6},
	{S("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_PROTOCOL, 6},
	{S("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_PROTOCOL, 9},
	{S("PROXY TCP41.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_PROTOCOL, 10},
	{S("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_PROTOCOL, 7},
	{S("PROXY UNKNOWNX\r\n"), PP_ERR_V1_PROTOCOL, 13},
	{S("PROXY TCP4\r\n"), PP_ERR_V1_LINE_END, 10},
	{S("PROXY \r\n"), PP_ERR_V1_LINE_END, 6},

	/* IPv4: dotted quads, no leading zero, 0..255, one space after */
	{S("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 12},
	{S("PROXY TCP4 1.2.3.00 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 18},
	{S("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 19},
	{S("PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 20},
	{S("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 16},
	{S("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 18},
	{S("PROXY TCP4 1..2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 13},
	{S("PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 12},
	{S("PROXY TCP4 2130706433 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 14},
	{S("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 11},
	{S("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 19},
	{S("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 18},
	{S("PROXY TCP4 ::1 ::1 1 2\r\n"), PP_ERR_V1_IPV4, 11},
	{S("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"), PP_ERR_V1_IPV4, 18},
	{S("PROXY TCP4 1.2.3.4 5.6.7.8\r\n"), PP_ERR_V1_LINE_END, 26},

	/* ports: 0..65535, no leading zero, no sign, exactly two */
	{S(P4 "1 65536\r\n"), PP_ERR_V1_PORT, 33},
	{S(P4 "1 99999\r\n"), PP_ERR_V1_PORT, 33},
	{S(P4 "1 655350\r\n"), PP_ERR_V1_PORT, 34},
	{S(P4 "01 2\r\n"), PP_ERR_V1_PORT, 28},
	{S(P4 "00 2\r\n"), PP_ERR_V1_PORT, 28},
	{S(P4 "1 02\r\n"), PP_ERR_V1_PORT, 30},
	{S(P4 "-1 2\r\n"), PP_ERR_V1_PORT, 27},
	{S(P4 "+1 2\r\n"), PP_ERR_V1_PORT, 27},
	{S(P4 " 1 2\r\n"), PP_ERR_V1_PORT, 27},
	{S(P4 "1  2\r\n"), PP_ERR_V1_PORT, 29},
	{S(P4 "1 2 \r\n"), PP_ERR_V1_PORT, 30},
	{S(P4 "1 2 3\r\n"), PP_ERR_V1_PORT, 30},
	{S(P4 "http 2\r\n"), PP_ERR_V1_PORT, 27},

	/* §2.1: one CRLF ends the line, and nothing else does */
	{S(P4 "1\r\n"), PP_ERR_V1_LINE_END, 28},
	{S(P4 "1 2\n"), PP_ERR_V1_LINE_END, 30},
	{S(P4 "1 2\r\r\n"), PP_ERR_V1_LINE_END, 31},
	{S(P4 "1 2\rGET"), PP_ERR_V1_LINE_END, 31},
	{S("PROXY TCP4 1.2.3.4\r\n"), PP_ERR_V1_LINE_END, 18},
	{S("PROXY UNKNOWN\n"), PP_ERR_V1_LINE_END, 13},
	{S("PROXY UNKNOWN\rX"), PP_ERR_V1_LINE_END, 14},
	{S("PROXY UNKNOWN a\nb\r\n"), PP_ERR_V1_LINE_END, 15},
	{S("PROXY UNKNOWN a\rb\r\n"), PP_ERR_V1_LINE_END, 16},

	/* UNKNOWN's ignored rest is still one line of printable ASCII */
	{S("PROXY UNKNOWN a\x01z\r\n"), PP_ERR_V1_CHAR, 15},
	{S("PROXY UNKNOWN a\0z\r\n"), PP_ERR_V1_CHAR, 15},
	{S("PROXY UNKNOWN caf\xc3\xa9\r\n"), PP_ERR_V1_CHAR, 17},
	{S("PROXY UNKNOWN \x7f\r\n"), PP_ERR_V1_CHAR, 14},

	/* IPv6: what inet_pton reads, no zone, no brackets */
	{S("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 1::2::3 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 :::1 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 12345::1 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 ::1 ::1%eth0 1 2\r\n"), PP_ERR_V1_IPV6, 18},
	{S("PROXY TCP6 fe80::1%25eth0 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 18},
	{S("PROXY TCP6 [::1] ::1 1 2\r\n"), PP_ERR_V1_IPV6, 11},
	{S("PROXY TCP6 ::1  ::1 1 2\r\n"), PP_ERR_V1_IPV6, 15},
	{S("PROXY TCP6 ::g ::1 1 2\r\n"), PP_ERR_V1_IPV6, 13},
	{S("PROXY TCP6 ::1\0 ::1 1 2\r\n"), PP_ERR_V1_IPV6, 14},
	{S("PROXY TCP6 ::1 ::1 65536 2\r\n"), PP_ERR_V1_PORT, 23},
	/* 46 bytes of address text: refused at the 46th */
	{S("PROXY TCP6 1111:2222:3333:4444:5555:6666:7777:8888:0000:0 ::1 1 "
	   "2\r\n"),
	 PP_ERR_V1_IPV6, 56},

	/* §2.1: no CRLF within 107 bytes */
	{S("PROXY TCP6 " V6_LONG " " V6_LONG " 1 2\r\n"), PP_ERR_V1_TOO_LONG,
	 107},
	{S("PROXY UNKNOWN " V6_FFFF " " V6_FFFF " 65535 655350\r\n"),
	 PP_ERR_V1_TOO_LONG, 107},
	{S("PROXY UNKNOWN "
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	 PP_ERR_V1_TOO_LONG, 107},
};

static const struct bad_case bad_v2[] = {
	/* the signature, byte by byte */
	{S("\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c" V2_TCP4_ADDR),
	 PP_ERR_NOT_PROXY, 10},
	{S("\r\n\r\n\x01\r\nQUIT\n\x21\x11\x00\x0c" V2_TCP4_ADDR),
	 PP_ERR_NOT_PROXY, 4},
	{S("\r\nGET / HTTP/1.1\r\n\r\n"), PP_ERR_NOT_PROXY, 2},
	{S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), PP_ERR_NOT_PROXY, 4},
	{S("\n\r\n\r\0\r\nQUIT\n"), PP_ERR_NOT_PROXY, 0},

	/* §2.2: version 2 only; commands LOCAL and PROXY only */
	{S(SIG "\x11\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_VERSION, 12},
	{S(SIG "\x01\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_VERSION, 12},
	{S(SIG "\x31\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_VERSION, 12},
	{S(SIG "\xf1\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_VERSION, 12},
	{S(SIG "\x22\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_COMMAND, 12},
	{S(SIG "\x2f\x11\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_COMMAND, 12},

	/* undefined families and transports, whatever the command */
	{S(SIG "\x21\x41\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_FAMILY, 13},
	{S(SIG "\x21\xf1\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_FAMILY, 13},
	{S(SIG "\x21\x13\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_FAMILY, 13},
	{S(SIG "\x20\x40\x00\x00"), PP_ERR_V2_FAMILY, 13},
	{S(SIG "\x20\x03\x00\x00"), PP_ERR_V2_FAMILY, 13},

	/* PROXY for anything but TCP over IPv4 or IPv6 */
	{S(SIG "\x21\x00\x00\x00"), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x12\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x22\x00\x24" V2_TCP6_ADDR), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x31\x00\xd8"), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x32\x00\xd8"), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x10\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_NOT_TCP, 13},
	{S(SIG "\x21\x01\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_NOT_TCP, 13},

	/* the length: at least the addresses, at most PP_V2_MAX in all */
	{S(SIG "\x21\x11\x00\x0b" V2_TCP4_ADDR), PP_ERR_V2_ADDR_SHORT, 14},
	{S(SIG "\x21\x11\x00\x00"), PP_ERR_V2_ADDR_SHORT, 14},
	{S(SIG "\x21\x21\x00\x23" V2_TCP6_ADDR), PP_ERR_V2_ADDR_SHORT, 14},
	{S(SIG "\x21\x21\x00\x0c" V2_TCP4_ADDR), PP_ERR_V2_ADDR_SHORT, 14},
	{S(SIG "\x21\x11\x03\xf1"), PP_ERR_V2_TOO_LONG, 14},
	{S(SIG "\x21\x11\xff\xff"), PP_ERR_V2_TOO_LONG, 14},
	{S(SIG "\x20\x00\xff\xff"), PP_ERR_V2_TOO_LONG, 14},

	/* TLVs must tile the rest of the header exactly */
	{S(SIG "\x21\x11\x00\x0d" V2_TCP4_ADDR "\x04"), PP_ERR_V2_TLV, 28},
	{S(SIG "\x21\x11\x00\x0e" V2_TCP4_ADDR "\x04\x00"), PP_ERR_V2_TLV, 28},
	{S(SIG "\x21\x11\x00\x0f" V2_TCP4_ADDR "\x04\x00\x01"), PP_ERR_V2_TLV,
	 28},
	{S(SIG "\x21\x11\x00\x12" V2_TCP4_ADDR "\x04\x00\x00"
	       "\x01\x00\x02"),
	 PP_ERR_V2_TLV, 31},
	{S(SIG "\x21\x11\x00\x13" V2_TCP4_ADDR "\x01\x00\x02"
	       "h2"
	       "\x04\x00"),
	 PP_ERR_V2_TLV, 33},
	{S(SIG "\x21\x21\x00\x28" V2_TCP6_ADDR "\x01\xff\xff\x00"),
	 PP_ERR_V2_TLV, 52},
	/* §2.2.3: a CRC32C value is 4 bytes */
	{S(SIG "\x21\x11\x00\x12" V2_TCP4_ADDR "\x03\x00\x03\x00\x00\x00"),
	 PP_ERR_V2_TLV, 28},
};

static void check_bad(const struct bad_case *c, const char *kind, size_t i)
{
	struct pp_header h;
	struct pp_error e;
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "bad %s #%zu", kind, i);
	rc = parse_bytewise(name, c->in, c->len, &h, &e);
	if (rc != PP_ERROR || e.code != c->code || e.offset != c->offset)
		fail_msg("%s: %d, %s at %zu; want %s at %zu", name, rc,
			 pp_strerror(e.code), e.offset, pp_strerror(c->code),
			 c->offset);
}

static void refuses_malformed_v1(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_v1) / sizeof(bad_v1[0]); i++)
		check_bad(&bad_v1[i], "v1", i);
}

static void refuses_malformed_v2(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_v2) / sizeof(bad_v2[0]); i++)
		check_bad(&bad_v2[i], "v2", i);
}

/*
 * A client that sends its request to a listener expecting a header is
 * refused at the first byte that cannot be a header's: never left waiting
 * for a CRLF that a PROXY line would have.
 */
static void fails_fast_on_other_protocols(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		size_t at; /* the first byte that cannot be a header's */
	} cases[] = {
		{S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0},
		{S("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), 0},
		{S("POST / HTTP/1.1\r\n"), 1},
		{S("PUT / HTTP/1.1\r\n"), 1},
		{S("PATCH / HTTP/1.1\r\n"), 1},
		{S("PROPFIND / HTTP/1.1\r\n"), 3},
		{S("PROXYFIND / HTTP/1.1\r\n"), 5},
		{S("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 0},
		{S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 0},
		{S("SSH-2.0-OpenSSH_9.2\r\n"), 0},
		{S("\r\nGET / HTTP/1.1\r\n\r\n"), 2},
		{S("\r\n\r\n\r\n"), 4},
		{S(" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_header h;
		struct pp_error e;
		size_t at = cases[i].at;
		int rc;

		assert_int_equal(parse(cases[i].in, at, &h, &e), PP_NEED_MORE);
		rc = parse(cases[i].in, at + 1, &h, &e);
		if (rc != PP_ERROR || e.code != PP_ERR_NOT_PROXY ||
		    e.offset != at)
			fail_msg("case %zu: %d, %s at %zu; want not PROXY at "
				 "%zu",
				 i, rc, pp_strerror(e.code), e.offset, at);
		assert_int_equal(parse(cases[i].in, cases[i].len, &h, &e),
				 PP_ERROR);
		assert_int_equal(e.code, PP_ERR_NOT_PROXY);
		assert_int_equal(e.offset, at);
	}
}

/* Prefixes of good headers, and a few longer: all still need more. */
static void waits_for_truncated_headers(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} cases[] = {
		{S("")},
		{S("P")},
		{S("PROXY")},
		{S("PROXY ")},
		{S("PROXY TCP")},
		{S("PROXY UNKNOWN")},
		{S("PROXY UNKNOWN ")},
		{S("PROXY UNKNOWN foo\r")},
		{S("PROXY TCP4 255.255.255.25")},
		{S("PROXY TCP4 1.2.3.4 5.6.7.8 0")},
		{S("PROXY TCP4 1.2.3.4 5.6.7.8 1 6553")},
		{S("PROXY TCP4 1.2.3.4 5.6.7.8 1 65535\r")},
		{S("PROXY TCP6 ::1")},
		{S("PROXY TCP6 ::1 ::1 1 2\r")},
		{S("\r")},
		{S("\r\n\r\n\0\r\nQUI")},
		{S(SIG)},
		{S(SIG "\x21")},
		{S(SIG "\x21\x11")},
		{S(SIG "\x21\x11\x00")},
		{S(SIG "\x21\x11\x00\x0c")},
		{S(SIG
		   "\x21\x11\x00\x0c\x7f\x00\x00\x01\xc0\xa8\x00\x0b\xdc\x04"
		   "\x01")},
		{S(SIG "\x21\x11\x00\x0f" V2_TCP4_ADDR "\x04\x00")},
		{S(SIG "\x20\x00\x03\xf0")},
		{S(SIG "\x21\x21\x00\x24" V2_TCP4_ADDR)},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_header h;
		struct pp_error e;
		int rc = parse(cases[i].in, cases[i].len, &h, &e);

		if (rc != PP_NEED_MORE)
			fail_msg("case %zu: %d (%s at %zu), want need more", i,
				 rc, pp_strerror(e.code), e.offset);
	}
}

static size_t v2_build(uint8_t *out, uint8_t ver_cmd, uint8_t fam,
		       const void *rest, size_t rest_len)
{
	static const uint8_t sig[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

	memcpy(out, sig, sizeof(sig));
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(rest_len >> 8);
	out[15] = (uint8_t)rest_len;
	memcpy(out + 16, rest, rest_len);
	return 16 + rest_len;
}

/* PP_V2_MAX bytes in all are taken, one more is refused at the length. */
static void bounds_v2_at_pp_v2_max(void **state)
{
	static uint8_t rest[PP_V2_MAX], buf[PP_V2_MAX + 16];
	size_t tlv = PP_V2_MAX - 16 - 12 - 3; /* one NOOP fills the rest */

	(void)state;
	memcpy(rest, V2_TCP4_ADDR, 12);
	for (int extra = 0; extra <= 1; extra++) {
		size_t vlen = tlv + (size_t)extra;
		struct pp_header h;
		struct pp_error e;
		size_t len;
		int rc;

		rest[12] = 0x04;
		rest[13] = (uint8_t)(vlen >> 8);
		rest[14] = (uint8_t)vlen;
		memset(rest + 15, 'x', vlen);
		len = v2_build(buf, 0x21, 0x11, rest, 12 + 3 + vlen);
		rc = parse_bytewise("v2 max", buf, len, &h, &e);
		if (extra == 0) {
			assert_int_equal(len, PP_V2_MAX);
			assert_int_equal(rc, PP_V2_MAX);
			assert_int_equal(h.src.ss_family, AF_INET);
		} else {
			assert_int_equal(rc, PP_ERROR);
			assert_int_equal(e.code, PP_ERR_V2_TOO_LONG);
			assert_int_equal(e.offset, 14);
			/* refused from the length field on, not at the end */
			assert_int_equal(parse(buf, 16, &h, &e), PP_ERROR);
		}
		/* LOCAL is bounded the same */
		len = v2_build(buf, 0x20, 0x00, rest, 12 + 3 + vlen);
		rc = parse(buf, len, &h, &e);
		assert_int_equal(rc, extra == 0 ? PP_V2_MAX : PP_ERROR);
	}
	assert_true(PP_MAX >= PP_V1_MAX && PP_MAX >= PP_V2_MAX);
}

/* A reference CRC32C (RFC 4960 appendix B), independent of the parser's. */
static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t table[256], crc = 0xffffffffu;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1u ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[i] = c;
	}
	for (size_t i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* TCP4 with an ALPN TLV and a CRC32C TLV over the header. */
static size_t v2_with_crc(uint8_t *buf, bool twice)
{
	uint8_t rest[64];
	size_t n = 0, len;
	size_t crc_value = 16 + 12 + 7 + 3;

	memcpy(rest, V2_TCP4_ADDR, 12);
	n = 12;
	memcpy(rest + n, "\x01\x00\x04http", 7);
	n += 7;
	memcpy(rest + n, "\x03\x00\x04\0\0\0\0", 7);
	n += 7;
	if (twice) {
		memcpy(rest + n, "\x03\x00\x04\0\0\0\0", 7);
		n += 7;
	}
	len = v2_build(buf, 0x21, 0x11, rest, n);
	uint32_t crc = ref_crc32c(buf, len);
	buf[crc_value] = (uint8_t)(crc >> 24);
	buf[crc_value + 1] = (uint8_t)(crc >> 16);
	buf[crc_value + 2] = (uint8_t)(crc >> 8);
	buf[crc_value + 3] = (uint8_t)crc;
	return len;
}

/* §2.2.3: a CRC32C TLV must match the header read with it zeroed. */
static void checks_crc32c_tlv(void **state)
{
	uint8_t buf[128];
	struct pp_header h;
	struct pp_error e;
	size_t len;

	(void)state;
	/* the check value of the CRC-32C catalogue */
	assert_int_equal(ref_crc32c((const uint8_t *)"123456789", 9),
			 0xe3069283u);

	len = v2_with_crc(buf, false);
	assert_int_equal(parse_bytewise("crc32c", buf, len, &h, &e), (int)len);
	assert_int_equal(h.src.ss_family, AF_INET);

	/*
	 * An address or TLV byte changed: a mismatch, blamed on the TLV.
	 * Not the TLVs' lengths (28..30, 35..37): those are framing errors.
	 */
	for (size_t i = 16; i < len; i++) {
		if ((i >= 29 && i <= 30) || (i >= 35 && i <= 37))
			continue;
		len = v2_with_crc(buf, false);
		buf[i] ^= 0x01;
		int rc = parse(buf, len, &h, &e);
		if (rc != PP_ERROR || e.code != PP_ERR_V2_CRC32C ||
		    e.offset != 35)
			fail_msg("byte %zu flipped: %d, %s at %zu", i, rc,
				 pp_strerror(e.code), e.offset);
	}

	/* one CRC32C only: which one would be zeroed is unclear */
	len = v2_with_crc(buf, true);
	assert_int_equal(parse(buf, len, &h, &e), PP_ERROR);
	assert_int_equal(e.code, PP_ERR_V2_TLV);
	assert_int_equal(e.offset, 42);
}

static void explains_every_error(void **state)
{
	(void)state;
	for (int i = PP_ERR_NONE; i <= PP_ERR_V2_CRC32C; i++) {
		const char *text = pp_strerror((enum pp_err)i);

		assert_non_null(text);
		assert_string_not_equal(text, "invalid PROXY protocol header");
		for (int j = PP_ERR_NONE; j < i; j++)
			assert_string_not_equal(text,
						pp_strerror((enum pp_err)j));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_v1_tcp4_tcp6_and_unknown),
		cmocka_unit_test(accepts_v2_proxy_and_local),
		cmocka_unit_test(refuses_malformed_v1),
		cmocka_unit_test(refuses_malformed_v2),
		cmocka_unit_test(fails_fast_on_other_protocols),
		cmocka_unit_test(waits_for_truncated_headers),
		cmocka_unit_test(bounds_v2_at_pp_v2_max),
		cmocka_unit_test(checks_crc32c_tlv),
		cmocka_unit_test(explains_every_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
