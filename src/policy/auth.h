/*
 * auth.h - Basic proxy authentication (RFC 7617, RFC 9110 §11.7): the
 * users of an htpasswd file, and the credentials a request carries. Pure:
 * parses text and fields; verifying a password (crypt_r, slow on purpose)
 * is the caller's, off the workers.
 *
 * Hashes taken: yescrypt ($y$, $gy$: Debian's passwd and mkpasswd
 * default), scrypt ($7$), bcrypt ($2y$, $2b$, $2a$: htpasswd -B),
 * sha512-crypt ($6$) and sha256-crypt ($5$). Others (MD5 $apr1$, {SHA},
 * DES crypt, plain text) are weak: their lines are skipped and counted,
 * never accepted.
 */
#ifndef SLUICE_POLICY_AUTH_H
#define SLUICE_POLICY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_USER_MAX 255
#define AUTH_PASS_MAX 255
#define AUTH_HASH_MAX 255

struct auth_table;

struct auth_stats {
	uint64_t users;	  /* loaded (a user named twice counts once) */
	uint64_t skipped; /* lines with a hash we do not take, or malformed */
	uint32_t first_skipped_line;
};

/* Parses htpasswd text ("user:hash" lines, '#' comments). NULL: memory. */
struct auth_table *auth_table_parse(const char *text, size_t len,
				    struct auth_stats *stats);
void auth_table_free(struct auth_table *t);

/* The hash for user[0..len), or NULL for no such user. */
const char *auth_table_lookup(const struct auth_table *t, const char *user,
			      size_t len);

/* Is hash one we accept (the prefixes above, and a sane length)? */
bool auth_hash_supported(const char *hash, size_t len);

struct auth_credentials {
	char user[AUTH_USER_MAX + 1];
	char pass[AUTH_PASS_MAX + 1];
	size_t user_len, pass_len;
};

/*
 * Reads a Proxy-Authorization value: "Basic" (any case), spaces, then
 * strict base64 of "user:password" (RFC 7617 §2: the user has no ':').
 * 0, or -1 when it is not that (another scheme, bad base64, too long, a
 * NUL or control byte in either part).
 */
int auth_parse_basic(const char *value, size_t len,
		     struct auth_credentials *out);

#endif
