/*
 * fuzz_proxy_protocol.c - pp_parse on arbitrary bytes.
 *
 * Checks the contract: a header's length is within the input and the
 * version's bound, an error's offset within the input, the addresses are
 * one family (or none, for LOCAL and UNKNOWN) with matching lengths. Then
 * what the bytes say: a TCP4 line is exactly the line written back from
 * the parsed addresses (one spelling each); a TCP6 line written back with
 * inet_ntop parses to the same addresses; a v2 block carries them at
 * their offsets. And the streaming promise: every prefix of the input
 * shorter than the header needs more, the header alone parses the same,
 * a prefix of a refused input needs more or gets the same error, and no
 * input of a version's bound still needs more.
 * abort() on any violation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/proxy_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prefixes checked one by one; beyond, a sample (parses are O(n)). */
#define PREFIX_ALL 130

static void check(int ok)
{
	if (!ok)
		abort();
}

static int parse(const uint8_t *data, size_t size, struct pp_header *h,
		 struct pp_error *e)
{
	int rc;

	memset(h, 0, sizeof(*h));
	e->code = PP_ERR_NONE;
	e->offset = 0;
	rc = pp_parse(data, size, h, e);
	check(rc > 0 || rc == PP_NEED_MORE || rc == PP_ERROR);
	check(pp_strerror(e->code) != NULL);
	if (rc == PP_ERROR) {
		check(e->code > PP_ERR_NONE && e->code <= PP_ERR_V2_CRC32C);
		check(e->offset <= size);
	} else {
		check(e->code == PP_ERR_NONE);
	}
	return rc;
}

static void check_family(const struct pp_header *h)
{
	if (h->local) {
		check(h->src_len == 0 && h->dst_len == 0);
		check(h->src.ss_family == 0 && h->dst.ss_family == 0);
		return;
	}
	check(h->src.ss_family == h->dst.ss_family);
	if (h->src.ss_family == AF_INET)
		check(h->src_len == sizeof(struct sockaddr_in) &&
		      h->dst_len == sizeof(struct sockaddr_in));
	else
		check(h->src.ss_family == AF_INET6 &&
		      h->src_len == sizeof(struct sockaddr_in6) &&
		      h->dst_len == sizeof(struct sockaddr_in6));
}

/* Writes h's addresses back as a v1 line; returns its length. */
static size_t v1_line(const struct pp_header *h, char *out, size_t cap)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	unsigned sport, dport;
	int n;

	if (h->src.ss_family == AF_INET) {
		struct sockaddr_in s, d;

		memcpy(&s, &h->src, sizeof(s));
		memcpy(&d, &h->dst, sizeof(d));
		check(inet_ntop(AF_INET, &s.sin_addr, src, sizeof(src)) !=
		      NULL);
		check(inet_ntop(AF_INET, &d.sin_addr, dst, sizeof(dst)) !=
		      NULL);
		sport = ntohs(s.sin_port);
		dport = ntohs(d.sin_port);
	} else {
		struct sockaddr_in6 s, d;

		memcpy(&s, &h->src, sizeof(s));
		memcpy(&d, &h->dst, sizeof(d));
		check(inet_ntop(AF_INET6, &s.sin6_addr, src, sizeof(src)) !=
		      NULL);
		check(inet_ntop(AF_INET6, &d.sin6_addr, dst, sizeof(dst)) !=
		      NULL);
		sport = ntohs(s.sin6_port);
		dport = ntohs(d.sin6_port);
	}
	n = snprintf(out, cap, "PROXY TCP%c %s %s %u %u\r\n",
		     h->src.ss_family == AF_INET ? '4' : '6', src, dst, sport,
		     dport);
	check(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void check_v1(const uint8_t *data, size_t len, const struct pp_header *h)
{
	char line[256];
	size_t n;

	check(len <= PP_V1_MAX && len >= 15);
	check(memcmp(data, "PROXY ", 6) == 0);
	check(data[len - 2] == '\r' && data[len - 1] == '\n');
	for (size_t i = 0; i < len - 2; i++)
		check(data[i] >= 0x20 && data[i] <= 0x7e);
	if (h->local) {
		check(memcmp(data + 6, "UNKNOWN", 7) == 0);
		return;
	}
	n = v1_line(h, line, sizeof(line));
	if (h->src.ss_family == AF_INET) {
		check(n == len && memcmp(line, data, len) == 0);
		return;
	}
	/* inet_ntop may spell an address longer than the sender did */
	if (n <= PP_V1_MAX) {
		struct pp_header again;
		struct pp_error e;

		check(parse((const uint8_t *)line, n, &again, &e) == (int)n);
		check(memcmp(&again, h, sizeof(again)) == 0);
	}
}

static void check_v2(const uint8_t *data, size_t len, const struct pp_header *h)
{
	const uint8_t *a = data + 16;

	check(len >= 16 && len <= PP_V2_MAX);
	check(len == 16 + ((size_t)data[14] << 8 | data[15]));
	check(data[12] >> 4 == 2);
	check((data[12] & 0x0f) == (h->local ? 0 : 1));
	if (h->local)
		return;
	if (h->src.ss_family == AF_INET) {
		struct sockaddr_in s, d;

		check(data[13] == 0x11 && len >= 28);
		memcpy(&s, &h->src, sizeof(s));
		memcpy(&d, &h->dst, sizeof(d));
		check(memcmp(&s.sin_addr, a, 4) == 0);
		check(memcmp(&d.sin_addr, a + 4, 4) == 0);
		check(memcmp(&s.sin_port, a + 8, 2) == 0);
		check(memcmp(&d.sin_port, a + 10, 2) == 0);
	} else {
		struct sockaddr_in6 s, d;

		check(data[13] == 0x21 && len >= 52);
		memcpy(&s, &h->src, sizeof(s));
		memcpy(&d, &h->dst, sizeof(d));
		check(memcmp(&s.sin6_addr, a, 16) == 0);
		check(memcmp(&d.sin6_addr, a + 16, 16) == 0);
		check(memcmp(&s.sin6_port, a + 32, 2) == 0);
		check(memcmp(&d.sin6_port, a + 34, 2) == 0);
	}
}

/* The input cut at n bytes agrees with the whole: see the file header. */
static void check_prefix(const uint8_t *data, size_t n, int whole,
			 const struct pp_header *wh, const struct pp_error *we)
{
	struct pp_header h;
	struct pp_error e;
	int rc = parse(data, n, &h, &e);

	if (whole > 0) {
		if (n < (size_t)whole) {
			check(rc == PP_NEED_MORE);
		} else {
			check(rc == whole);
			check(memcmp(&h, wh, sizeof(h)) == 0);
		}
	} else if (whole == PP_NEED_MORE) {
		check(rc == PP_NEED_MORE);
	} else if (rc == PP_ERROR) {
		check(e.code == we->code && e.offset == we->offset);
	} else {
		check(rc == PP_NEED_MORE);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h;
	struct pp_error e;
	int rc = parse(data, size, &h, &e);

	/* a header never needs more bytes than its version's bound */
	if (rc == PP_NEED_MORE)
		check(size < (size > 0 && data[0] == 'P' ? PP_V1_MAX : PP_MAX));
	if (rc > 0) {
		check((size_t)rc <= size && rc <= PP_MAX);
		check(h.version == 1 || h.version == 2);
		check_family(&h);
		if (h.version == 1)
			check_v1(data, (size_t)rc, &h);
		else
			check_v2(data, (size_t)rc, &h);
	}

	for (size_t n = 0; n < size && n <= PREFIX_ALL; n++)
		check_prefix(data, n, rc, &h, &e);
	for (size_t n = PREFIX_ALL + 1; n < size; n += 61)
		check_prefix(data, n, rc, &h, &e);
	if (rc > 0)
		check_prefix(data, (size_t)rc - 1, rc, &h, &e);
	if (rc > 0)
		check_prefix(data, (size_t)rc, rc, &h, &e);
	if (rc == PP_ERROR && e.offset < size)
		check_prefix(data, e.offset + 1, rc, &h, &e);
	if (size > 0)
		check_prefix(data, size - 1, rc, &h, &e);
	return 0;
}
