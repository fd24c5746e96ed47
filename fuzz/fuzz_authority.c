/*
 * fuzz_authority.c - authority_parse on arbitrary bytes.
 *
 * Checks the contract: the host is a non-empty slice of the input, the
 * port is never 0, and each kind is what it claims. It also checks the
 * reason the module exists: a host accepted as a NAME is one that the C
 * library's inet_aton (which getaddrinfo uses) does not read as an IPv4
 * address, and an IPV4 host is read by it as the same address. abort() on
 * any violation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/authority.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_host(const struct authority *a)
{
	char text[AUTHORITY_MAX_NAME + 2];
	struct in_addr strict, loose;
	struct in6_addr a6;

	check(a->host_len > 0 && a->host_len < sizeof(text));
	memcpy(text, a->host, a->host_len);
	text[a->host_len] = '\0';
	check(memchr(text, '\0', a->host_len) == NULL);
	switch (a->kind) {
	case AUTHORITY_NAME:
		check(inet_aton(text, &loose) == 0);
		check(strpbrk(text, ":[]@%/ ") == NULL);
		break;
	case AUTHORITY_IPV4:
		check(inet_pton(AF_INET, text, &strict) == 1);
		check(inet_aton(text, &loose) == 1);
		check(strict.s_addr == loose.s_addr);
		break;
	case AUTHORITY_IPV6:
		check(inet_pton(AF_INET6, text, &a6) == 1);
		break;
	default:
		check(0);
	}
}

static enum authority_error parse(const char *s, size_t len,
				  uint16_t default_port, struct authority *a)
{
	enum authority_error rc = authority_parse(s, len, default_port, a);

	check(authority_strerror(rc) != NULL);
	if (rc != AUTHORITY_OK)
		return rc;
	check(a->host >= s && a->host_len <= len &&
	      (size_t)(a->host - s) <= len - a->host_len);
	check(a->port != 0);
	check_host(a);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct authority required, defaulted;
	enum authority_error rc, rc_default;

	rc = parse(s, size, 0, &required);
	rc_default = parse(s, size, 8080, &defaulted);

	/* A default port only fills in a missing port; nothing else moves. */
	if (rc == AUTHORITY_NO_PORT) {
		check(rc_default == AUTHORITY_OK);
		check(defaulted.port == 8080);
	} else {
		check(rc_default == rc);
	}
	if (rc == AUTHORITY_OK) {
		check(defaulted.kind == required.kind);
		check(defaulted.host == required.host);
		check(defaulted.host_len == required.host_len);
		check(defaulted.port == required.port);
	}
	return 0;
}
