/*
 * config.c - the directive table and its parsers. See config.h.
 *
 * Each directive names a setter that parses its value text; defaults are
 * applied through the same setters, so a default can never be a value the
 * file could not hold.
 */
#include "config/config.h"

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

/* clang-format off */
static const struct directive directives[] = {
	{{"listen", "ADDR:PORT [proxy-protocol]", "127.0.0.1:3128 [::1]:3128",
	  "address to accept proxy clients on ([::1]:3128 for IPv6, port 0 "
	  "picks one); proxy-protocol: each connection starts with a PROXY "
	  "v1/v2 header from a load balancer", true},
	 setter_listen, FIELD(listen), 0, 0},
	{{"proxy-protocol-from", "CIDR ...|none", "127.0.0.0/8 ::1",
	  "who may send a PROXY header on a proxy-protocol listener; others "
	  "are closed", false},
	 setter_cidr_list, FIELD(proxy_from), 0, 0},
	{{"admin", "ADDR:PORT|off", "127.0.0.1:9128",
	  "the admin endpoint: /metrics (Prometheus), /healthz, /readyz and a "
	  "status page at /; off: none", false},
	 setter_admin, FIELD(admin), 0, 0},
	{{"workers", "N", "0",
	  "worker threads, each with its own event loop (0: one per CPU)",
	  false},
	 setter_uint, FIELD(workers), 0, CONFIG_MAX_WORKERS},
	{{"connect-ports", "PORT|LOW-HIGH ...", "443",
	  "ports CONNECT may reach; other ports get 403", false},
	 setter_ports, FIELD(connect_ports), 0, 0},
	{{"http-ports", "PORT|LOW-HIGH ...", "80 443 1025-65535",
	  "ports plain-HTTP requests may be forwarded to (not SMTP, SSH, "
	  "...); other ports get 403", false},
	 setter_ports, FIELD(http_ports), 0, 0},
	{{"connect-timeout", "DURATION", "10s",
	  "how long to wait for the target to accept; then 504", false},
	 setter_duration, FIELD(connect_timeout_ms), 1, 600000},
	{{"tunnel-idle-timeout", "DURATION", "10min",
	  "close a tunnel when no byte moved for this long", false},
	 setter_duration, FIELD(tunnel_idle_timeout_ms), 1, DURATION_MAX_MS},
	{{"header-timeout", "DURATION", "30s",
	  "the whole request head must arrive within this; then 408", false},
	 setter_duration, FIELD(header_timeout_ms), 1, 3600000},
	{{"shutdown-grace", "DURATION", "10s",
	  "on SIGTERM, how long open tunnels may go on before being closed",
	  false},
	 setter_duration, FIELD(shutdown_grace_ms), 0, 3600000},
	{{"response-timeout", "DURATION", "60s",
	  "how long the origin may take to start its response; then 504",
	  false},
	 setter_duration, FIELD(response_timeout_ms), 1, 3600000},
	{{"keepalive-timeout", "DURATION", "60s",
	  "close a client connection idle this long between requests", false},
	 setter_duration, FIELD(keepalive_timeout_ms), 1, 3600000},
	{{"x-forwarded-for", "on|off", "off",
	  "add the client's address to forwarded requests (off: privacy)",
	  false},
	 setter_bool, FIELD(x_forwarded_for), 0, 0},
	{{"max-request-line", "SIZE", "8KiB",
	  "longest request line (method, target, version); then 414", false},
	 setter_size, FIELD(max_request_line), 64, 1024 * 1024},
	{{"max-head-size", "SIZE", "64KiB",
	  "largest request or response head; then 431 (or 502)", false},
	 setter_size, FIELD(max_head_bytes), 1024, 1024 * 1024},
	{{"max-header-fields", "N", "100",
	  "most header fields in a head; then 431 (or 502)", false},
	 setter_uint, FIELD(max_header_fields), 1, CONFIG_MAX_HEADER_FIELDS},
	{{"access-log", "PATH|stderr|off", "stderr",
	  "where to write one line per finished request or tunnel", false},
	 setter_path, FIELD(access_log), 0, 0},
	{{"access-log-format", "sluice|squid|combined|json", "sluice",
	  "the layout of access-log lines: sluice's own, Squid's native, "
	  "Apache combined, or JSON", false},
	 setter_access_log_format, FIELD(access_log_format), 0, 0},
	{{"error-log", "PATH|stderr|syslog", "stderr",
	  "where messages (startup, warnings, errors) go; syslog: the "
	  "daemon facility", false},
	 setter_error_log, FIELD(error_log), 0, 0},
	{{"log-level", "debug|info|warn|error", "info",
	  "least severe error-log message written", false},
	 setter_log_level, FIELD(log_level), 0, 0},
	{{"hosts-file", "PATH", "/etc/hosts",
	  "names resolved from this hosts(5) file before DNS is asked", false},
	 setter_path, FIELD(hosts_file), 0, 0},
	{{"dns", "system|ADDR[:PORT] ...", "system",
	  "DNS servers to ask: those in /etc/resolv.conf, or this list",
	  false},
	 setter_dns, FIELD(dns), 0, 0},
	{{"dns-timeout", "DURATION", "5s",
	  "a lookup no server answers in this long fails; then 504", false},
	 setter_duration, FIELD(dns_timeout_ms), 100, 60000},
	{{"dns-min-ttl", "DURATION", "0s",
	  "keep an answer at least this long, whatever its TTL", false},
	 setter_duration, FIELD(dns_min_ttl_ms), 0, DURATION_MAX_MS},
	{{"dns-max-ttl", "DURATION", "1h",
	  "keep an answer at most this long, whatever its TTL", false},
	 setter_duration, FIELD(dns_max_ttl_ms), 0, DURATION_MAX_MS},
	{{"dns-negative-ttl", "DURATION", "10s",
	  "remember a name that does not exist this long", false},
	 setter_duration, FIELD(dns_negative_ttl_ms), 0, DURATION_MAX_MS},
	{{"allow", "CIDR|all ...", "none",
	  "clients that may use the proxy (first allow/deny rule that matches "
	  "wins; with none: loopback and private networks)", true},
	 setter_acl, FIELD(clients), 1, 0},
	{{"deny", "CIDR|all ...", "none",
	  "clients refused with 403 (first allow/deny rule that matches "
	  "wins)", true},
	 setter_acl, FIELD(clients), 0, 0},
	{{"allow-dest", "CIDR|all ...", "none",
	  "addresses the proxy may connect to, checked after DNS, before "
	  "the built-in denials", true},
	 setter_acl, FIELD(dests), 1, 0},
	{{"deny-dest", "CIDR|all ...", "none",
	  "addresses the proxy never connects to, checked after DNS (403)",
	  true},
	 setter_acl, FIELD(dests), 0, 0},
	{{"max-connections", "N", "0",
	  "most client connections at once, all workers together; then 503 "
	  "(0: no limit)", false},
	 setter_uint, FIELD(max_connections), 0, 10000000},
	{{"max-connections-per-client", "N", "0",
	  "most connections at once from one client address; then 503 (0: no "
	  "limit)", false},
	 setter_uint, FIELD(max_connections_per_client), 0, 10000000},
	{{"user", "NAME", "none",
	  "after binding, switch to this user (and its group) when started "
	  "as root", false},
	 setter_user, FIELD(user), 0, 0},
	{{"auth-file", "PATH|none", "none",
	  "require Basic proxy authentication against this htpasswd file "
	  "(yescrypt, bcrypt, sha512-crypt, sha256-crypt, scrypt)", false},
	 setter_auth_file, FIELD(auth_file), 0, 0},
	{{"auth-realm", "TEXT", "sluice",
	  "the realm a 407 names (shown by browsers when they ask)", false},
	 setter_realm, FIELD(auth_realm), 0, 0},
	{{"blocklist", "PATH|GLOB|URL|builtin|none [exact]", "builtin",
	  "domains to refuse with 403, their subdomains too (exact: the "
	  "names alone); none: block nothing", true},
	 setter_list, FIELD(lists), 0, 0},
	{{"allowlist", "PATH|GLOB|URL [exact]", "none",
	  "domains never blocked, their subdomains too (exact: the names "
	  "alone)", true},
	 setter_list, FIELD(lists), 1, 0},
	{{"block-response", "403|204|close", "403",
	  "what a blocked request gets (CONNECT gets 403 for 204)", false},
	 setter_block_response, FIELD(block_response), 0, 0},
	{{"blocklist-refresh", "DURATION", "24h",
	  "how often lists given by URL are fetched again", false},
	 setter_duration, FIELD(blocklist_refresh_ms), 1000, DURATION_MAX_MS},
	{{"blocklist-cache", "DIR", "/var/cache/sluice",
	  "where lists given by URL are kept, so a restart needs no network",
	  false},
	 setter_path, FIELD(blocklist_cache), 0, 0},
	{{"upstream-proxy", "http://[USER:PASS@]HOST:PORT|none", "none",
	  "send CONNECT and plain HTTP through this parent proxy (credentials "
	  "go as Basic Proxy-Authorization); none: connect directly", false},
	 setter_upstream, FIELD(upstream), 0, 0},
	{{"upstream-proxy-for", "DOMAIN ...", "none",
	  "with upstream-proxy: only these domains (and their subdomains) go "
	  "through the parent; the others go direct", true},
	 setter_names, FIELD(upstream_for), 0, 0},
	{{"direct-for", "DOMAIN ...", "none",
	  "with upstream-proxy: these domains (and their subdomains) go "
	  "direct; the most specific name wins, direct on a tie", true},
	 setter_names, FIELD(direct_for), 0, 0},
};
/* clang-format on */

#define N_DIRECTIVES (sizeof(directives) / sizeof(directives[0]))
_Static_assert(N_DIRECTIVES <= sizeof(((struct config *)0)->source),
	       "struct config.source too small for the directive table");

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
		config_err(err, "unknown directive '%s'", name);
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
