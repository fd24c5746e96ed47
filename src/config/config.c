/*
 * config.c - the directive table and its parsers. See config.h.
 *
 * Each directive names a setter that parses its value text; defaults are
 * applied through the same setters, so a default can never be a value the
 * file could not hold.
 */
#include "config/config.h"

#include "base/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MAX_MS (7ULL * 24 * 3600 * 1000) /* a week */

typedef int (*setter_fn)(struct config *cfg, const struct directive_info *d,
			 const char *value, bool reset, char *err);

struct directive {
	struct directive_info info;
	setter_fn set;
	size_t offset;	   /* of the field in struct config */
	uint64_t min, max; /* for numbers and durations (ms) */
};

static int set_listen(struct config *, const struct directive_info *,
		      const char *, bool, char *);
static int set_uint(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_ports(struct config *, const struct directive_info *,
		     const char *, bool, char *);
static int set_duration(struct config *, const struct directive_info *,
			const char *, bool, char *);
static int set_path(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_log_level(struct config *, const struct directive_info *,
			 const char *, bool, char *);

static int set_dns(struct config *, const struct directive_info *, const char *,
		   bool, char *);
static int set_bool(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_size(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_list(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_block_response(struct config *, const struct directive_info *,
			      const char *, bool, char *);
static int set_acl(struct config *, const struct directive_info *, const char *,
		   bool, char *);
static int set_user(struct config *, const struct directive_info *,
		    const char *, bool, char *);
static int set_auth_file(struct config *, const struct directive_info *,
			 const char *, bool, char *);
static int set_realm(struct config *, const struct directive_info *,
		     const char *, bool, char *);

#define FIELD(f) offsetof(struct config, f)

/* clang-format off */
static const struct directive directives[] = {
	{{"listen", "ADDR:PORT", "127.0.0.1:3128 [::1]:3128",
	  "address to accept proxy clients on ([::1]:3128 for IPv6, port 0 "
	  "picks one)", true},
	 set_listen, FIELD(listen), 0, 0},
	{{"workers", "N", "0",
	  "worker threads, each with its own event loop (0: one per CPU)",
	  false},
	 set_uint, FIELD(workers), 0, CONFIG_MAX_WORKERS},
	{{"connect-ports", "PORT|LOW-HIGH ...", "443",
	  "ports CONNECT may reach; other ports get 403", false},
	 set_ports, FIELD(connect_ports), 0, 0},
	{{"http-ports", "PORT|LOW-HIGH ...", "80 443 1025-65535",
	  "ports plain-HTTP requests may be forwarded to (not SMTP, SSH, "
	  "...); other ports get 403", false},
	 set_ports, FIELD(http_ports), 0, 0},
	{{"connect-timeout", "DURATION", "10s",
	  "how long to wait for the target to accept; then 504", false},
	 set_duration, FIELD(connect_timeout_ms), 1, 600000},
	{{"tunnel-idle-timeout", "DURATION", "10min",
	  "close a tunnel when no byte moved for this long", false},
	 set_duration, FIELD(tunnel_idle_timeout_ms), 1, DURATION_MAX_MS},
	{{"header-timeout", "DURATION", "30s",
	  "the whole request head must arrive within this; then 408", false},
	 set_duration, FIELD(header_timeout_ms), 1, 3600000},
	{{"shutdown-grace", "DURATION", "10s",
	  "on SIGTERM, how long open tunnels may go on before being closed",
	  false},
	 set_duration, FIELD(shutdown_grace_ms), 0, 3600000},
	{{"response-timeout", "DURATION", "60s",
	  "how long the origin may take to start its response; then 504",
	  false},
	 set_duration, FIELD(response_timeout_ms), 1, 3600000},
	{{"keepalive-timeout", "DURATION", "60s",
	  "close a client connection idle this long between requests", false},
	 set_duration, FIELD(keepalive_timeout_ms), 1, 3600000},
	{{"x-forwarded-for", "on|off", "off",
	  "add the client's address to forwarded requests (off: privacy)",
	  false},
	 set_bool, FIELD(x_forwarded_for), 0, 0},
	{{"max-request-line", "SIZE", "8KiB",
	  "longest request line (method, target, version); then 414", false},
	 set_size, FIELD(max_request_line), 64, 1024 * 1024},
	{{"max-head-size", "SIZE", "64KiB",
	  "largest request or response head; then 431 (or 502)", false},
	 set_size, FIELD(max_head_bytes), 1024, 1024 * 1024},
	{{"max-header-fields", "N", "100",
	  "most header fields in a head; then 431 (or 502)", false},
	 set_uint, FIELD(max_header_fields), 1, CONFIG_MAX_HEADER_FIELDS},
	{{"access-log", "PATH|stderr|off", "stderr",
	  "where to write one line per finished request or tunnel", false},
	 set_path, FIELD(access_log), 0, 0},
	{{"log-level", "debug|info|warn|error", "info",
	  "least severe error-log message written (to stderr)", false},
	 set_log_level, FIELD(log_level), 0, 0},
	{{"hosts-file", "PATH", "/etc/hosts",
	  "names resolved from this hosts(5) file before DNS is asked", false},
	 set_path, FIELD(hosts_file), 0, 0},
	{{"dns", "system|ADDR[:PORT] ...", "system",
	  "DNS servers to ask: those in /etc/resolv.conf, or this list",
	  false},
	 set_dns, FIELD(dns), 0, 0},
	{{"dns-timeout", "DURATION", "5s",
	  "a lookup no server answers in this long fails; then 504", false},
	 set_duration, FIELD(dns_timeout_ms), 100, 60000},
	{{"dns-min-ttl", "DURATION", "0s",
	  "keep an answer at least this long, whatever its TTL", false},
	 set_duration, FIELD(dns_min_ttl_ms), 0, DURATION_MAX_MS},
	{{"dns-max-ttl", "DURATION", "1h",
	  "keep an answer at most this long, whatever its TTL", false},
	 set_duration, FIELD(dns_max_ttl_ms), 0, DURATION_MAX_MS},
	{{"dns-negative-ttl", "DURATION", "10s",
	  "remember a name that does not exist this long", false},
	 set_duration, FIELD(dns_negative_ttl_ms), 0, DURATION_MAX_MS},
	{{"allow", "CIDR|all ...", "none",
	  "clients that may use the proxy (first allow/deny rule that matches "
	  "wins; with none: loopback and private networks)", true},
	 set_acl, FIELD(clients), 1, 0},
	{{"deny", "CIDR|all ...", "none",
	  "clients refused with 403 (first allow/deny rule that matches "
	  "wins)", true},
	 set_acl, FIELD(clients), 0, 0},
	{{"allow-dest", "CIDR|all ...", "none",
	  "addresses the proxy may connect to, checked after DNS, before "
	  "the built-in denials", true},
	 set_acl, FIELD(dests), 1, 0},
	{{"deny-dest", "CIDR|all ...", "none",
	  "addresses the proxy never connects to, checked after DNS (403)",
	  true},
	 set_acl, FIELD(dests), 0, 0},
	{{"max-connections", "N", "0",
	  "most client connections at once, all workers together; then 503 "
	  "(0: no limit)", false},
	 set_uint, FIELD(max_connections), 0, 10000000},
	{{"max-connections-per-client", "N", "0",
	  "most connections at once from one client address; then 503 (0: no "
	  "limit)", false},
	 set_uint, FIELD(max_connections_per_client), 0, 10000000},
	{{"user", "NAME", "none",
	  "after binding, switch to this user (and its group) when started "
	  "as root", false},
	 set_user, FIELD(user), 0, 0},
	{{"auth-file", "PATH|none", "none",
	  "require Basic proxy authentication against this htpasswd file "
	  "(yescrypt, bcrypt, sha512-crypt, sha256-crypt, scrypt)", false},
	 set_auth_file, FIELD(auth_file), 0, 0},
	{{"auth-realm", "TEXT", "sluice",
	  "the realm a 407 names (shown by browsers when they ask)", false},
	 set_realm, FIELD(auth_realm), 0, 0},
	{{"blocklist", "PATH|GLOB|URL|builtin|none [exact]", "builtin",
	  "domains to refuse with 403, their subdomains too (exact: the "
	  "names alone); none: block nothing", true},
	 set_list, FIELD(lists), 0, 0},
	{{"allowlist", "PATH|GLOB|URL [exact]", "none",
	  "domains never blocked, their subdomains too (exact: the names "
	  "alone)", true},
	 set_list, FIELD(lists), 1, 0},
	{{"block-response", "403|204|close", "403",
	  "what a blocked request gets (CONNECT gets 403 for 204)", false},
	 set_block_response, FIELD(block_response), 0, 0},
	{{"blocklist-refresh", "DURATION", "24h",
	  "how often lists given by URL are fetched again", false},
	 set_duration, FIELD(blocklist_refresh_ms), 1000, DURATION_MAX_MS},
	{{"blocklist-cache", "DIR", "/var/cache/sluice",
	  "where lists given by URL are kept, so a restart needs no network",
	  false},
	 set_path, FIELD(blocklist_cache), 0, 0},
};
/* clang-format on */

#define N_DIRECTIVES (sizeof(directives) / sizeof(directives[0]))
_Static_assert(N_DIRECTIVES <= sizeof(((struct config *)0)->source),
	       "struct config.source too small for the directive table");

#define FIELD_PTR(cfg, d, type)                                                \
	((type *)(void *)((char *)(cfg) +                                      \
			  ((const struct directive *)(d))->offset))

__attribute__((format(printf, 2, 3))) static void set_err(char *err,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CONFIG_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* Splits the next whitespace- or comma-separated word off *p. */
static size_t next_word(const char **p, const char **word)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	*word = s;
	while (s[n] != '\0' && s[n] != ' ' && s[n] != '\t' && s[n] != ',')
		n++;
	*p = s + n;
	return n;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int set_listen(struct config *cfg, const struct directive_info *d,
		      const char *value, bool reset, char *err)
{
	const char *p = value, *w;
	size_t n;
	char text[128];

	if (reset)
		cfg->n_listen = 0;
	cfg->listen_default = cfg->where_source == CONFIG_SOURCE_DEFAULT;
	while ((n = next_word(&p, &w)) > 0) {
		if (n >= sizeof(text)) {
			set_err(err, "%s: address too long", d->name);
			return -1;
		}
		memcpy(text, w, n);
		text[n] = '\0';
		if (cfg->n_listen == CONFIG_MAX_LISTEN) {
			set_err(err, "%s: more than 16 addresses", d->name);
			return -1;
		}
		struct config_addr *a = &cfg->listen[cfg->n_listen];
		if (addr_parse(text, &a->addr, &a->addr_len) < 0) {
			set_err(err,
				"%s: '%s' is not ADDR:PORT (IPv6 as "
				"[::1]:3128)",
				d->name, text);
			return -1;
		}
		cfg->n_listen++;
	}
	if (cfg->n_listen == 0) {
		set_err(err, "%s: needs an address", d->name);
		return -1;
	}
	return 0;
}

static int set_uint(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	uint64_t v;

	(void)reset;
	if (parse_u64(value, strlen(value), &v) < 0 || v < dir->min ||
	    v > dir->max) {
		char range[64];
		snprintf(range, sizeof(range), "%llu..%llu",
			 (unsigned long long)dir->min,
			 (unsigned long long)dir->max);
		snprintf(err, CONFIG_ERR_MAX, "%s: '%s' is not a number in %s",
			 d->name, value, range);
		return -1;
	}
	*FIELD_PTR(cfg, d, unsigned) = (unsigned)v;
	return 0;
}

static int parse_port_word(const char *w, size_t n, uint64_t *port)
{
	return parse_u64(w, n, port) == 0 && *port >= 1 && *port <= 65535 ? 0
									  : -1;
}

/* Sets bits lo..hi; whole bytes at a time where it can (a range like
 * 1025-65535 is set at every config_init). */
static void set_port_range(uint8_t *bits, uint64_t lo, uint64_t hi)
{
	uint64_t port = lo;

	for (; port <= hi && port % 8 != 0; port++)
		bits[port / 8] |= (uint8_t)(1u << (port % 8));
	if (port + 7 <= hi) {
		uint64_t bytes = (hi + 1 - port) / 8;
		memset(bits + port / 8, 0xff, bytes);
		port += bytes * 8;
	}
	for (; port <= hi; port++)
		bits[port / 8] |= (uint8_t)(1u << (port % 8));
}

static int set_ports(struct config *cfg, const struct directive_info *d,
		     const char *value, bool reset, char *err)
{
	uint8_t *bits = FIELD_PTR(cfg, d, uint8_t);
	const char *p = value, *w;
	size_t n, count = 0;

	(void)reset;
	_Static_assert(sizeof(cfg->connect_ports) == sizeof(cfg->http_ports),
		       "port sets have one size");
	memset(bits, 0, sizeof(cfg->connect_ports));
	while ((n = next_word(&p, &w)) > 0) {
		const char *dash = memchr(w, '-', n);
		uint64_t lo = 0, hi = 0;
		int bad;

		if (dash != NULL)
			bad = parse_port_word(w, (size_t)(dash - w), &lo) < 0 ||
			      parse_port_word(dash + 1,
					      n - (size_t)(dash - w) - 1,
					      &hi) < 0 ||
			      lo > hi;
		else
			bad = parse_port_word(w, n, &lo) < 0 || (hi = lo, 0);
		if (bad) {
			char word[64];
			snprintf(word, sizeof(word), "%.*s",
				 (int)(n < 40 ? n : 40), w);
			set_err(err,
				"%s: '%s' is not a port (1-65535) or a range "
				"LOW-HIGH",
				d->name, word);
			return -1;
		}
		set_port_range(bits, lo, hi);
		count++;
	}
	if (count == 0) {
		set_err(err, "%s: needs at least one port", d->name);
		return -1;
	}
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* A decimal number followed by one of units' suffixes. 0 or -1. */
static int parse_with_unit(const char *s, const struct unit *units,
			   size_t n_units, uint64_t *out)
{
	size_t digits = 0;
	uint64_t v;

	while (s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (parse_u64(s, digits, &v) < 0)
		return -1;
	for (size_t i = 0; i < n_units; i++) {
		if (strcmp(s + digits, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

/* "250ms", "10s", "2min" or "2m", "1h"; a bare number is seconds. */
static int parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
		{"ms", 1},	{"s", 1000},	{"sec", 1000}, {"m", 60000},
		{"min", 60000}, {"h", 3600000}, {"", 1000}};

	return parse_with_unit(s, units, sizeof(units) / sizeof(units[0]), ms);
}

static int set_duration(struct config *cfg, const struct directive_info *d,
			const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	uint64_t ms;

	(void)reset;
	if (parse_duration(value, &ms) < 0) {
		set_err(err,
			"%s: '%s' is not a duration (like 500ms, 10s, 5min, "
			"1h)",
			d->name, value);
		return -1;
	}
	if (ms < dir->min || ms > dir->max) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: '%s' is out of range (%llums..%llums)", d->name,
			 value, (unsigned long long)dir->min,
			 (unsigned long long)dir->max);
		return -1;
	}
	*FIELD_PTR(cfg, d, uint64_t) = ms;
	return 0;
}

static int set_path(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	size_t n = strlen(value);

	(void)reset;
	if (n == 0 || n >= CONFIG_PATH_MAX) {
		set_err(err, "%s: needs a path", d->name);
		return -1;
	}
	memcpy(FIELD_PTR(cfg, d, char), value, n + 1);
	return 0;
}

static int set_bool(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	(void)reset;
	if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
		*FIELD_PTR(cfg, d, bool) = value[1] == 'n';
		return 0;
	}
	set_err(err, "%s: '%s' is not on or off", d->name, value);
	return -1;
}

/* "65536", "64k", "64KiB", "1M", "1MiB": bytes, binary units. */
static int parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {{"", 1},
					    {"k", 1024},
					    {"K", 1024},
					    {"KiB", 1024},
					    {"m", 1024 * 1024},
					    {"M", 1024 * 1024},
					    {"MiB", 1024 * 1024}};

	return parse_with_unit(s, units, sizeof(units) / sizeof(units[0]),
			       bytes);
}

static int set_size(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	uint64_t bytes;

	(void)reset;
	if (parse_size(value, &bytes) < 0 || bytes < dir->min ||
	    bytes > dir->max) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: '%s' is not a size in %llu..%llu bytes (like "
			 "8KiB, 1MiB)",
			 d->name, value, (unsigned long long)dir->min,
			 (unsigned long long)dir->max);
		return -1;
	}
	*FIELD_PTR(cfg, d, uint64_t) = bytes;
	return 0;
}

static int set_log_level(struct config *cfg, const struct directive_info *d,
			 const char *value, bool reset, char *err)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	(void)reset;
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, names[i]) == 0) {
			*FIELD_PTR(cfg, d, enum log_level) =
				(enum log_level)(LOG_LEVEL_DEBUG + (int)i);
			return 0;
		}
	}
	set_err(err, "%s: '%s' is not one of debug, info, warn, error", d->name,
		value);
	return -1;
}

/* "1.2.3.4", "1.2.3.4:53", "[::1]", "[::1]:53" or "::1"; port 53. */
static int parse_dns_server(const char *w, size_t n, struct config_addr *a)
{
	char text[INET6_ADDRSTRLEN + 16];
	struct in6_addr a6;

	/* addr_parse reads "*" as any address: no server to ask */
	if (n + 4 >= sizeof(text) || memchr(w, '*', n) != NULL)
		return -1;
	memcpy(text, w, n);
	text[n] = '\0';
	if (addr_parse(text, &a->addr, &a->addr_len) == 0)
		return 0;
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		char bracketed[sizeof(text) + 8];
		snprintf(bracketed, sizeof(bracketed), "[%s]:53", text);
		return addr_parse(bracketed, &a->addr, &a->addr_len);
	}
	memcpy(text + n, ":53", 4);
	return addr_parse(text, &a->addr, &a->addr_len);
}

static int set_dns(struct config *cfg, const struct directive_info *d,
		   const char *value, bool reset, char *err)
{
	const char *p = value, *w;
	size_t n;

	(void)reset;
	cfg->n_dns = 0;
	if (strcmp(value, "system") == 0)
		return 0;
	while ((n = next_word(&p, &w)) > 0) {
		if (cfg->n_dns == CONFIG_MAX_DNS) {
			set_err(err, "%s: more than %d servers", d->name,
				CONFIG_MAX_DNS);
			return -1;
		}
		if (parse_dns_server(w, n, &cfg->dns[cfg->n_dns]) < 0) {
			set_err(err,
				"%s: '%.*s' is not an IP address with an "
				"optional port",
				d->name, (int)(n < 64 ? n : 64), w);
			return -1;
		}
		cfg->n_dns++;
	}
	return 0;
}

/* Removes the blocklists (allow false) or the allowlists (allow true). */
static void drop_lists(struct config *cfg, bool allow)
{
	size_t kept = 0;

	for (size_t i = 0; i < cfg->n_lists; i++)
		if (cfg->lists[i].allow != allow)
			cfg->lists[kept++] = cfg->lists[i];
	cfg->n_lists = kept;
}

/* "SOURCE [exact]"; for blocklist also "builtin" and "none". */
static int set_list(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	bool allow = dir->min == 1;
	const char *p = value, *w, *opt;
	size_t n = next_word(&p, &w), opt_n;
	struct config_list *l;

	if (reset)
		drop_lists(cfg, allow);
	opt_n = next_word(&p, &opt);
	if (n == 0 || (opt_n > 0 && (opt_n != 5 || memcmp(opt, "exact", 5))) ||
	    next_word(&p, &opt) > 0) {
		set_err(err, "%s: expected %s", d->name, d->arg);
		return -1;
	}
	if (n == 4 && memcmp(w, "none", 4) == 0 && opt_n == 0) {
		/* the default is "none" for allowlists: nothing to add */
		drop_lists(cfg, allow);
		return 0;
	}
	if (n >= CONFIG_PATH_MAX) {
		set_err(err, "%s: path too long", d->name);
		return -1;
	}
	if (allow && n == 7 && memcmp(w, "builtin", 7) == 0) {
		set_err(err, "%s: there is no built-in allowlist", d->name);
		return -1;
	}
	if (cfg->n_lists == CONFIG_MAX_LISTS) {
		set_err(err, "%s: more than %d lists (a glob counts once)",
			d->name, CONFIG_MAX_LISTS);
		return -1;
	}
	l = &cfg->lists[cfg->n_lists++];
	memcpy(l->source, w, n);
	l->source[n] = '\0';
	memcpy(l->where, cfg->where, sizeof(l->where));
	l->allow = allow;
	l->exact = opt_n > 0;
	return 0;
}

static int set_block_response(struct config *cfg,
			      const struct directive_info *d, const char *value,
			      bool reset, char *err)
{
	(void)reset;
	if (strcmp(value, "403") == 0)
		cfg->block_response = BLOCK_RESPONSE_403;
	else if (strcmp(value, "204") == 0)
		cfg->block_response = BLOCK_RESPONSE_204;
	else if (strcmp(value, "close") == 0)
		cfg->block_response = BLOCK_RESPONSE_CLOSE;
	else {
		set_err(err, "%s: '%s' is not one of 403, 204, close", d->name,
			value);
		return -1;
	}
	return 0;
}

/*
 * allow and deny write one ordered list (as do allow-dest and deny-dest):
 * the first rule from a stronger source replaces the list, whichever of
 * the two directives it comes from. "none" empties it.
 */
static int set_acl(struct config *cfg, const struct directive_info *d,
		   const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	bool clients = dir->offset == FIELD(clients);
	struct cidr_rules *acl = clients ? &cfg->clients : &cfg->dests;
	uint8_t *source = clients ? &cfg->clients_source : &cfg->dests_source;
	const char *p = value, *w;
	size_t n, count = 0;

	(void)reset;
	if (cfg->where_source > *source) {
		acl->n = 0;
		*source = cfg->where_source;
	}
	if (strcmp(value, "none") == 0) {
		acl->n = 0;
		return 0;
	}
	while ((n = next_word(&p, &w)) > 0) {
		struct cidr net;
		if (cidr_parse(w, n, &net) < 0) {
			set_err(err,
				"%s: '%.*s' is not an address, ADDR/PREFIX "
				"(host bits zero) or all",
				d->name, (int)(n < 64 ? n : 64), w);
			return -1;
		}
		if (cidr_rules_add(acl, &net, dir->min == 1) < 0) {
			set_err(err, "%s: more than %d rules", d->name,
				CIDR_MAX_RULES);
			return -1;
		}
		count++;
	}
	if (count == 0) {
		set_err(err, "%s: needs an address block", d->name);
		return -1;
	}
	return 0;
}

static int set_user(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	size_t n = strlen(value);

	(void)reset;
	if (strcmp(value, "none") == 0) {
		cfg->user[0] = '\0';
		return 0;
	}
	if (n == 0 || n >= sizeof(cfg->user) || strpbrk(value, " \t:/")) {
		set_err(err, "%s: '%s' is not a user name", d->name, value);
		return -1;
	}
	memcpy(cfg->user, value, n + 1);
	return 0;
}

static int set_auth_file(struct config *cfg, const struct directive_info *d,
			 const char *value, bool reset, char *err)
{
	if (strcmp(value, "none") == 0) {
		cfg->auth_file[0] = '\0';
		return 0;
	}
	return set_path(cfg, d, value, reset, err);
}

/* Printable ASCII without '"' or '\\': it goes inside a quoted string. */
static int set_realm(struct config *cfg, const struct directive_info *d,
		     const char *value, bool reset, char *err)
{
	size_t n = strlen(value);

	(void)reset;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			n = 0;
	}
	if (n == 0 || n >= sizeof(cfg->auth_realm)) {
		set_err(err,
			"%s: needs 1-127 printable characters, no quote or "
			"backslash",
			d->name);
		return -1;
	}
	memcpy(cfg->auth_realm, value, n + 1);
	return 0;
}

bool config_blocking_off(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lists; i++)
		if (!cfg->lists[i].allow)
			return false;
	return true;
}

static const struct directive *find_directive(const char *name, size_t len)
{
	for (size_t i = 0; i < N_DIRECTIVES; i++) {
		if (strlen(directives[i].info.name) == len &&
		    memcmp(directives[i].info.name, name, len) == 0)
			return &directives[i];
	}
	return NULL;
}

static int apply(struct config *cfg, const struct directive *d,
		 const char *value, enum config_source source, char *err)
{
	size_t idx = (size_t)(d - directives);
	/* A list given by a stronger source replaces the weaker one's. */
	bool reset = source > cfg->source[idx];

	cfg->where_source = (uint8_t)source;
	if (d->set(cfg, &d->info, value, reset, err) < 0)
		return -1;
	cfg->source[idx] = (uint8_t)source;
	return 0;
}

void config_init(struct config *cfg)
{
	char err[CONFIG_ERR_MAX];

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->where, sizeof(cfg->where), "default");
	for (size_t i = 0; i < N_DIRECTIVES; i++) {
		int rc = directives[i].set(cfg, &directives[i].info,
					   directives[i].info.def, true, err);
		(void)rc; /* defaults are covered by the unit tests */
	}
}

int config_set(struct config *cfg, const char *name, const char *value,
	       enum config_source source, char *err)
{
	const struct directive *d = find_directive(name, strlen(name));

	if (d == NULL) {
		set_err(err, "unknown directive '%s'", name);
		return -1;
	}
	snprintf(cfg->where, sizeof(cfg->where), "--%s", d->info.name);
	return apply(cfg, d, value, source, err);
}

int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *file, char *err)
{
	char line[CONFIG_PATH_MAX + 256];
	char msg[CONFIG_ERR_MAX];
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;

		pos += n + (nl != NULL);
		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, CONFIG_ERR_MAX, "%s:%u: line too long",
				 file, lineno);
			return -1;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, CONFIG_ERR_MAX, "%s:%u: NUL byte", file,
				 lineno);
			return -1;
		}
		/* '#' at the start or after whitespace begins a comment */
		for (size_t i = 0; i < n; i++) {
			if (line[i] == '#' &&
			    (i == 0 || isspace((unsigned char)line[i - 1]))) {
				line[i] = '\0';
				n = i;
				break;
			}
		}
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		char *name = line;
		while (isspace((unsigned char)*name))
			name++;
		if (*name == '\0')
			continue;
		char *value = name;
		while (*value != '\0' && !isspace((unsigned char)*value))
			value++;
		size_t name_len = (size_t)(value - name);
		while (isspace((unsigned char)*value))
			value++;

		const struct directive *d = find_directive(name, name_len);
		if (d == NULL) {
			name[name_len] = '\0';
			snprintf(err, CONFIG_ERR_MAX,
				 "%s:%u: unknown directive '%.64s'", file,
				 lineno, name);
			return -1;
		}
		if (*value == '\0') {
			snprintf(err, CONFIG_ERR_MAX,
				 "%s:%u: %s: missing value (%s)", file, lineno,
				 d->info.name, d->info.arg);
			return -1;
		}
		snprintf(cfg->where, sizeof(cfg->where), "%.240s:%u", file,
			 lineno);
		if (apply(cfg, d, value, CONFIG_SOURCE_FILE, msg) < 0) {
			snprintf(err, CONFIG_ERR_MAX, "%.200s:%u: %.280s", file,
				 lineno, msg);
			return -1;
		}
	}
	return 0;
}

bool config_port_allowed(const struct config *cfg, uint16_t port)
{
	return (cfg->connect_ports[port / 8] >> (port % 8)) & 1u;
}

bool config_http_port_allowed(const struct config *cfg, uint16_t port)
{
	return (cfg->http_ports[port / 8] >> (port % 8)) & 1u;
}

const struct directive_info *config_directive_info(size_t i)
{
	return i < N_DIRECTIVES ? &directives[i].info : NULL;
}

size_t config_directive_count(void)
{
	return N_DIRECTIVES;
}
