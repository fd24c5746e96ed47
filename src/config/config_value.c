/*
 * config_value.c - see config_value.h. Defaults go through these same
 * setters (config_init), so a default can never be a value the file could
 * not hold.
 */
#include "config/config_value.h"

#include "base/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(f) offsetof(struct config, f)

void config_err(char *err, const char *fmt, ...)
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

int setter_listen(struct config *cfg, const struct directive_info *d,
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
			config_err(err, "%s: address too long", d->name);
			return -1;
		}
		memcpy(text, w, n);
		text[n] = '\0';
		if (cfg->n_listen == CONFIG_MAX_LISTEN) {
			config_err(err, "%s: more than 16 addresses", d->name);
			return -1;
		}
		if (strcmp(text, "proxy-protocol") == 0) {
			if (cfg->n_listen == 0) {
				config_err(err,
					   "%s: proxy-protocol follows the "
					   "address it applies to",
					   d->name);
				return -1;
			}
			cfg->listen[cfg->n_listen - 1].proxy_protocol = true;
			continue;
		}
		struct config_addr *a = &cfg->listen[cfg->n_listen];
		a->proxy_protocol = false;
		if (addr_parse(text, &a->addr, &a->addr_len) < 0) {
			config_err(err,
				   "%s: '%s' is not ADDR:PORT (IPv6 as "
				   "[::1]:3128)",
				   d->name, text);
			return -1;
		}
		cfg->n_listen++;
	}
	if (cfg->n_listen == 0) {
		config_err(err, "%s: needs an address", d->name);
		return -1;
	}
	return 0;
}

/*
 * Appends the address blocks of value to acl as allow or deny rules.
 * Returns how many, or -1 with err set.
 */
static int add_blocks(struct cidr_rules *acl, const char *value, bool allow,
		      const struct directive_info *d, char *err)
{
	const char *p = value, *w;
	size_t n;
	int count = 0;

	while ((n = next_word(&p, &w)) > 0) {
		struct cidr net;
		if (cidr_parse(w, n, &net) < 0) {
			config_err(err,
				   "%s: '%.*s' is not an address, ADDR/PREFIX "
				   "(host bits zero) or all",
				   d->name, (int)(n < 64 ? n : 64), w);
			return -1;
		}
		if (cidr_rules_add(acl, &net, allow) < 0) {
			config_err(err, "%s: more than %d rules", d->name,
				   CIDR_MAX_RULES);
			return -1;
		}
		count++;
	}
	if (count == 0) {
		config_err(err, "%s: needs an address block", d->name);
		return -1;
	}
	return count;
}

int setter_cidr_list(struct config *cfg, const struct directive_info *d,
		     const char *value, bool reset, char *err)
{
	struct cidr_rules *list =
		(struct cidr_rules *)((char *)cfg +
				      ((const struct directive *)d)->offset);

	(void)reset;
	list->n = 0; /* one line says it all */
	if (strcmp(value, "none") == 0)
		return 0;
	return add_blocks(list, value, true, d, err) < 0 ? -1 : 0;
}

int setter_admin(struct config *cfg, const struct directive_info *d,
		 const char *value, bool reset, char *err)
{
	(void)reset;
	if (strcmp(value, "off") == 0) {
		cfg->admin_on = false;
		return 0;
	}
	if (addr_parse(value, &cfg->admin.addr, &cfg->admin.addr_len) < 0) {
		config_err(err,
			   "%s: '%s' is not ADDR:PORT (IPv6 as [::1]:9128) or "
			   "off",
			   d->name, value);
		return -1;
	}
	cfg->admin_on = true;
	return 0;
}

int setter_uint(struct config *cfg, const struct directive_info *d,
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

int setter_ports(struct config *cfg, const struct directive_info *d,
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
			config_err(
				err,
				"%s: '%s' is not a port (1-65535) or a range "
				"LOW-HIGH",
				d->name, word);
			return -1;
		}
		set_port_range(bits, lo, hi);
		count++;
	}
	if (count == 0) {
		config_err(err, "%s: needs at least one port", d->name);
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

int setter_duration(struct config *cfg, const struct directive_info *d,
		    const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	uint64_t ms;

	(void)reset;
	if (parse_duration(value, &ms) < 0) {
		config_err(err,
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

int setter_path(struct config *cfg, const struct directive_info *d,
		const char *value, bool reset, char *err)
{
	size_t n = strlen(value);

	(void)reset;
	if (n == 0 || n >= CONFIG_PATH_MAX) {
		config_err(err, "%s: needs a path", d->name);
		return -1;
	}
	memcpy(FIELD_PTR(cfg, d, char), value, n + 1);
	return 0;
}

int setter_bool(struct config *cfg, const struct directive_info *d,
		const char *value, bool reset, char *err)
{
	(void)reset;
	if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
		*FIELD_PTR(cfg, d, bool) = value[1] == 'n';
		return 0;
	}
	config_err(err, "%s: '%s' is not on or off", d->name, value);
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

int setter_size(struct config *cfg, const struct directive_info *d,
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

int setter_log_level(struct config *cfg, const struct directive_info *d,
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
	config_err(err, "%s: '%s' is not one of debug, info, warn, error",
		   d->name, value);
	return -1;
}

int setter_access_log_format(struct config *cfg, const struct directive_info *d,
			     const char *value, bool reset, char *err)
{
	static const char *const names[] = {"sluice", "squid", "combined",
					    "json"};

	(void)reset;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(value, names[i]) == 0) {
			cfg->access_log_format = (enum access_log_format)(
				ACCESS_LOG_SLUICE + (int)i);
			return 0;
		}
	}
	config_err(err, "%s: '%s' is not one of sluice, squid, combined, json",
		   d->name, value);
	return -1;
}

/*
 * "stderr", "syslog" or a path. The error log cannot be turned off (a
 * proxy that fails must say why): "off" and "none" are refused rather than
 * taken for file names, and so is a path with a control byte.
 */
int setter_error_log(struct config *cfg, const struct directive_info *d,
		     const char *value, bool reset, char *err)
{
	if (strcmp(value, "off") == 0 || strcmp(value, "none") == 0) {
		config_err(err,
			   "%s: cannot be turned off; give stderr, syslog or "
			   "a path (and log-level error for less)",
			   d->name);
		return -1;
	}
	for (const char *c = value; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			config_err(err, "%s: control byte in the path",
				   d->name);
			return -1;
		}
	}
	return setter_path(cfg, d, value, reset, err);
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

int setter_dns(struct config *cfg, const struct directive_info *d,
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
			config_err(err, "%s: more than %d servers", d->name,
				   CONFIG_MAX_DNS);
			return -1;
		}
		if (parse_dns_server(w, n, &cfg->dns[cfg->n_dns]) < 0) {
			config_err(err,
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
int setter_list(struct config *cfg, const struct directive_info *d,
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
		config_err(err, "%s: expected %s", d->name, d->arg);
		return -1;
	}
	if (n == 4 && memcmp(w, "none", 4) == 0 && opt_n == 0) {
		/* the default is "none" for allowlists: nothing to add */
		drop_lists(cfg, allow);
		return 0;
	}
	if (n >= CONFIG_PATH_MAX) {
		config_err(err, "%s: path too long", d->name);
		return -1;
	}
	if (allow && n == 7 && memcmp(w, "builtin", 7) == 0) {
		config_err(err, "%s: there is no built-in allowlist", d->name);
		return -1;
	}
	if (cfg->n_lists == CONFIG_MAX_LISTS) {
		config_err(err, "%s: more than %d lists (a glob counts once)",
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

int setter_block_response(struct config *cfg, const struct directive_info *d,
			  const char *value, bool reset, char *err)
{
	(void)reset;
	if (strcmp(value, "403") == 0)
		cfg->block_response = BLOCK_RESPONSE_403;
	else if (strcmp(value, "204") == 0)
		cfg->block_response = BLOCK_RESPONSE_204;
	else if (strcmp(value, "close") == 0)
		cfg->block_response = BLOCK_RESPONSE_CLOSE;
	else {
		config_err(err, "%s: '%s' is not one of 403, 204, close",
			   d->name, value);
		return -1;
	}
	return 0;
}

/*
 * allow and deny write one ordered list (as do allow-dest and deny-dest):
 * the first rule from a stronger source replaces the list, whichever of
 * the two directives it comes from. "none" empties it.
 */
int setter_acl(struct config *cfg, const struct directive_info *d,
	       const char *value, bool reset, char *err)
{
	const struct directive *dir = (const struct directive *)d;
	bool clients = dir->offset == FIELD(clients);
	struct cidr_rules *acl = clients ? &cfg->clients : &cfg->dests;
	uint8_t *source = clients ? &cfg->clients_source : &cfg->dests_source;

	(void)reset;
	if (cfg->where_source > *source) {
		acl->n = 0;
		*source = cfg->where_source;
	}
	if (strcmp(value, "none") == 0) {
		acl->n = 0;
		return 0;
	}
	return add_blocks(acl, value, dir->min == 1, d, err) < 0 ? -1 : 0;
}

int setter_user(struct config *cfg, const struct directive_info *d,
		const char *value, bool reset, char *err)
{
	size_t n = strlen(value);

	(void)reset;
	if (strcmp(value, "none") == 0) {
		cfg->user[0] = '\0';
		return 0;
	}
	if (n == 0 || n >= sizeof(cfg->user) || strpbrk(value, " \t:/")) {
		config_err(err, "%s: '%s' is not a user name", d->name, value);
		return -1;
	}
	memcpy(cfg->user, value, n + 1);
	return 0;
}

int setter_auth_file(struct config *cfg, const struct directive_info *d,
		     const char *value, bool reset, char *err)
{
	if (strcmp(value, "none") == 0) {
		cfg->auth_file[0] = '\0';
		return 0;
	}
	return setter_path(cfg, d, value, reset, err);
}

/* Printable ASCII without '"' or '\\': it goes inside a quoted string. */
int setter_realm(struct config *cfg, const struct directive_info *d,
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
		config_err(err,
			   "%s: needs 1-127 printable characters, no quote or "
			   "backslash",
			   d->name);
		return -1;
	}
	memcpy(cfg->auth_realm, value, n + 1);
	return 0;
}
