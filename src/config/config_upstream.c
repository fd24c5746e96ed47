/*
 * config_upstream.c - the setters of the parent-proxy directives:
 * upstream-proxy (a URL, its credentials turned into the
 * Proxy-Authorization value once, here) and the domain names of
 * upstream-proxy-for and direct-for. See config_value.h.
 *
 * Pure, like the rest of the config layer: the names are only checked and
 * kept as list text; the snapshot compiles them (proxy/snapshot.c).
 */
#include "config/config_value.h"

#include "base/base64.h"
#include "base/dns_name.h"
#include "base/hex.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest user name and password, each, after percent-decoding. */
#define USERINFO_MAX 255

/*
 * Percent-decodes s[0..len) (RFC 3986 §2.1) into out[cap], appending at
 * *n. Refuses a bad escape and control bytes: the result goes into a
 * header value. 0 or -1.
 */
static int percent_decode(const char *s, size_t len, char *out, size_t cap,
			  size_t *n)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hex_digit((unsigned char)s[i + 1]),
			    lo = hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || *n >= cap)
			return -1;
		out[(*n)++] = (char)c;
	}
	return 0;
}

/* Is s[0..len) a dotted-quad IPv4 address without leading zeros? */
static bool is_ipv4(const char *s, size_t len)
{
	char text[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(text))
		return false;
	for (size_t i = 0; i < len; i++) /* no octal: authority.c's rule */
		if (s[i] == '0' && (i == 0 || s[i - 1] == '.') && i + 1 < len &&
		    s[i + 1] != '.')
			return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(AF_INET, text, &a) == 1;
}

/* Is s[0..len) "[IPv6]" (no zone)? */
static bool is_bracketed_ipv6(const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' ||
	    len - 2 >= sizeof(text))
		return false;
	memcpy(text, s + 1, len - 2);
	text[len - 2] = '\0';
	return inet_pton(AF_INET6, text, &a) == 1;
}

/* Checks "host:port" (port required, 1-65535). 0 or -1 with err. */
static int check_hostport(const struct directive_info *d, const char *s,
			  size_t len, char *err)
{
	const char *colon = NULL;
	unsigned port = 0;

	for (size_t i = len; i-- > 0;)
		if (s[i] == ':' || s[i] == ']') {
			colon = s[i] == ':' ? s + i : NULL;
			break;
		}
	if (colon == NULL || colon + 1 == s + len) {
		config_err(err,
			   "%s: give the parent's port (http://HOST:PORT; "
			   "Squid listens on 3128)",
			   d->name);
		return -1;
	}
	for (const char *p = colon + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9' || port > 65535) {
			port = 0;
			break;
		}
		port = port * 10 + (unsigned)(*p - '0');
	}
	if (port == 0 || port > 65535) {
		config_err(err, "%s: '%.*s' is not a port (1-65535)", d->name,
			   (int)(s + len - colon - 1), colon + 1);
		return -1;
	}
	size_t host_len = (size_t)(colon - s);
	if (!is_bracketed_ipv6(s, host_len) && !is_ipv4(s, host_len) &&
	    !dns_name_valid(s, host_len)) {
		config_err(err,
			   "%s: '%.*s' is not a host name, an IPv4 address or "
			   "an [IPv6] address",
			   d->name, (int)host_len, s);
		return -1;
	}
	return 0;
}

/*
 * Turns "user:pass" (percent-encoded) into "Basic base64(user:pass)"
 * (RFC 7617 §2: the user-id cannot hold a ':'). 0 or -1 with err.
 */
static int set_credentials(struct config *cfg, const struct directive_info *d,
			   const char *s, size_t len, char *err)
{
	char plain[2 * USERINFO_MAX + 1];
	const char *colon = memchr(s, ':', len);
	size_t user_len = colon != NULL ? (size_t)(colon - s) : len;
	size_t n = 0, user_n;

	if (percent_decode(s, user_len, plain, USERINFO_MAX, &n) < 0 ||
	    n == 0 || memchr(plain, ':', n) != NULL) {
		config_err(err,
			   "%s: bad user name (percent-encode special "
			   "characters; no ':' in it)",
			   d->name);
		return -1;
	}
	user_n = n;
	plain[n++] = ':';
	if (colon != NULL &&
	    percent_decode(colon + 1, len - user_len - 1, plain,
			   user_n + 1 + USERINFO_MAX, &n) < 0) {
		config_err(err,
			   "%s: bad password (percent-encode special "
			   "characters)",
			   d->name);
		return -1;
	}
	memcpy(cfg->upstream_auth, "Basic ", 6);
	if (base64_encode((const unsigned char *)plain, n,
			  cfg->upstream_auth + 6,
			  sizeof(cfg->upstream_auth) - 6) < 0) {
		config_err(err, "%s: credentials too long", d->name);
		return -1;
	}
	return 0;
}

int setter_upstream(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	static const char scheme[] = "http://";
	const char *auth, *at, *end;
	size_t len;

	(void)reset;
	cfg->upstream[0] = '\0';
	cfg->upstream_auth[0] = '\0';
	if (strcmp(value, "none") == 0)
		return 0;
	if (strncasecmp(value, "https://", 8) == 0) {
		config_err(err,
			   "%s: only http:// parents are supported (sluice "
			   "does not speak TLS to a parent)",
			   d->name);
		return -1;
	}
	if (strncasecmp(value, scheme, sizeof(scheme) - 1) != 0) {
		config_err(err, "%s: '%s' is not http://[USER:PASS@]HOST:PORT",
			   d->name, value);
		return -1;
	}
	auth = value + sizeof(scheme) - 1;
	end = auth + strcspn(auth, "/?#");
	if (*end != '\0' && strcmp(end, "/") != 0) {
		config_err(err, "%s: a parent proxy URL has no path or query",
			   d->name);
		return -1;
	}
	at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL &&
	    set_credentials(cfg, d, auth, (size_t)(at - auth), err) < 0)
		return -1;
	if (at != NULL)
		auth = at + 1;
	len = (size_t)(end - auth);
	if (len >= sizeof(cfg->upstream)) {
		config_err(err, "%s: host name too long", d->name);
		return -1;
	}
	if (check_hostport(d, auth, len, err) < 0) {
		cfg->upstream_auth[0] = '\0';
		return -1;
	}
	memcpy(cfg->upstream, auth, len);
	cfg->upstream[len] = '\0';
	return 0;
}

int setter_names(struct config *cfg, const struct directive_info *d,
		 const char *value, bool reset, char *err)
{
	struct config_names *names = FIELD_PTR(cfg, d, struct config_names);
	const char *p = value;

	if (reset || strcmp(value, "none") == 0)
		names->len = 0;
	if (strcmp(value, "none") == 0)
		return 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		const char *w = p;
		size_t n = strcspn(p, " \t,");
		p += n;
		/* ".example" means what "example" does, as in a list */
		const char *name = w[0] == '.' ? w + 1 : w;
		size_t len = n - (size_t)(name - w);
		if (len > 0 && name[len - 1] == '.')
			len--;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)w[i] >= 0x80) {
				config_err(err,
					   "%s: write '%.*s' in its ASCII "
					   "(xn--) form",
					   d->name, (int)n, w);
				return -1;
			}
		if (!dns_name_valid(name, len)) {
			config_err(err, "%s: '%.*s' is not a domain name",
				   d->name, (int)n, w);
			return -1;
		}
		if (names->len + len + 1 > sizeof(names->text)) {
			config_err(err, "%s: more than %zu bytes of names",
				   d->name, sizeof(names->text));
			return -1;
		}
		memcpy(names->text + names->len, name, len);
		names->len += len;
		names->text[names->len++] = '\n';
	}
}
