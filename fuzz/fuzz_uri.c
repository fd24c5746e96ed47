/*
 * fuzz_uri.c - uri_parse_absolute on arbitrary bytes.
 *
 * Checks the contract: an accepted target is "http://" (any case), its
 * authority, its path and its query put back together, byte for byte (the
 * path being the static "/" only when the target had none); the authority
 * is what authority_parse reads with port 80, holds no '@', and the host is
 * a slice of it; path and query are VCHARs, the path starts with '/', the
 * query with '?', and no '#' is anywhere. A refused target names an error,
 * and only URI_AUTHORITY carries an authority error. The input is an exact
 * heap copy, so ASan catches a read past it. abort() on any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int is_slice(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_vchars(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check((unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f);
}

static void check_accepted(const char *in, size_t size, const struct uri *u)
{
	struct authority a;
	size_t pos = 7;

	check(size >= 8 && memcmp(in + 4, "://", 3) == 0);
	for (size_t i = 0; i < 4; i++)
		check((in[i] | 0x20) == "http"[i]);
	check(memchr(in, '#', size) == NULL);

	/* the authority: right after "://", up to the path or the query */
	check(u->authority_text == in + pos && u->authority_len > 0);
	check(is_slice(in, size, u->authority_text, u->authority_len));
	check(memchr(u->authority_text, '@', u->authority_len) == NULL);
	check(memchr(u->authority_text, '/', u->authority_len) == NULL);
	check(memchr(u->authority_text, '?', u->authority_len) == NULL);
	check(authority_parse(u->authority_text, u->authority_len, 80, &a) ==
	      AUTHORITY_OK);
	check(a.kind == u->authority.kind && a.port == u->authority.port &&
	      a.port != 0);
	check(a.host == u->authority.host &&
	      a.host_len == u->authority.host_len);
	check(is_slice(u->authority_text, u->authority_len, u->authority.host,
		       u->authority.host_len));
	pos += u->authority_len;

	/* the path: from the input, or "/" where it had none */
	check(u->path_len >= 1 && u->path[0] == '/');
	check_vchars(u->path, u->path_len);
	check(memchr(u->path, '?', u->path_len) == NULL);
	if (pos < size && in[pos] == '/') {
		check(u->path == in + pos);
		pos += u->path_len;
	} else {
		check(u->path_len == 1 && !is_slice(in, size, u->path, 1));
	}

	/* the query: the rest, from '?' */
	check(u->query == in + pos && u->query_len == size - pos);
	check(u->query_len == 0 || u->query[0] == '?');
	check_vchars(u->query, u->query_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1); /* +1: malloc(0) may be NULL */
	struct uri u;
	enum authority_error aerr = AUTHORITY_BAD_NAME;
	enum uri_error err;

	check(in != NULL);
	memcpy(in, data, size);
	err = uri_parse_absolute(in, size, &u, &aerr);
	check(uri_strerror(err) != NULL);
	check(err >= URI_OK && err <= URI_FRAGMENT);
	check((aerr != AUTHORITY_OK) == (err == URI_AUTHORITY));
	if (err == URI_OK)
		check_accepted(in, size, &u);
	free(in);
	return 0;
}
