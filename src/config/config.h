/*
 * config.h - sluice's settings as plain data, and the directive table that
 * is their single source: the file parser, the command-line flags, --help
 * and the README's directive list all come from config_directives().
 *
 * Pure: parses text the caller read, writes diagnostics into the caller's
 * buffer, never prints and never touches a socket. A struct config is
 * immutable once the server starts.
 */
#ifndef SLUICE_CONFIG_CONFIG_H
#define SLUICE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/cidr.h"

#define CONFIG_MAX_LISTEN  16
#define CONFIG_MAX_DNS	   8
#define CONFIG_MAX_WORKERS 64
#define CONFIG_PATH_MAX	   1024
#define CONFIG_ERR_MAX	   512
#define CONFIG_MAX_LISTS   64
#define CONFIG_WHERE_MAX   256
/* upstream-proxy: "host:port" as written, and "Basic <credentials>". */
#define CONFIG_UPSTREAM_MAX	 (253 + 8)
#define CONFIG_UPSTREAM_AUTH_MAX 1024
/* upstream-proxy-for, direct-for: bytes of names, one a line, per list. */
#define CONFIG_ROUTE_BYTES 8192
/* Most header fields a head may have: what the head writer can track. */
#define CONFIG_MAX_HEADER_FIELDS 256

enum log_level {
	LOG_LEVEL_DEBUG = 1,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* What a blocked request gets (block-response). */
enum block_response {
	BLOCK_RESPONSE_403 = 1, /* 403 and a short page naming the list */
	BLOCK_RESPONSE_204,	/* 204 No Content (CONNECT still gets 403) */
	BLOCK_RESPONSE_CLOSE,	/* the connection closed, no reply */
};

/* The layout of access-log lines (access-log-format). */
enum access_log_format {
	ACCESS_LOG_SLUICE = 1, /* sluice's own: key=value fields */
	ACCESS_LOG_SQUID,      /* Squid's native access.log */
	ACCESS_LOG_COMBINED,   /* Apache/NCSA combined */
	ACCESS_LOG_JSON,       /* one JSON object a line */
};

/* One blocklist or allowlist directive. */
struct config_list {
	char source[CONFIG_PATH_MAX]; /* a path, a glob, a URL or "builtin" */
	char where[CONFIG_WHERE_MAX]; /* "file:line" or "--blocklist" */
	bool allow;		      /* an allowlist */
	bool exact; /* hosts and plain names: not subdomains */
};

/*
 * The names of upstream-proxy-for or direct-for: one a line, in the
 * plain-domain syntax of a list, so the snapshot compiles them with the
 * blocklist's builder (a name and its subdomains).
 */
struct config_names {
	char text[CONFIG_ROUTE_BYTES];
	size_t len;
};

struct config_addr {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool proxy_protocol; /* listen: clients come with a PROXY header */
};

/* Where a setting came from; a later, stronger source replaces lists. */
enum config_source {
	CONFIG_SOURCE_DEFAULT = 0,
	CONFIG_SOURCE_FILE,
	CONFIG_SOURCE_FLAG,
};

struct config {
	struct config_addr listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	bool listen_default; /* the built-in addresses, not the user's */
	struct cidr_rules proxy_from; /* may send a PROXY header */
	struct config_addr admin;     /* the admin endpoint, when admin_on */
	bool admin_on;
	unsigned workers;		  /* 0: one per CPU */
	uint8_t connect_ports[65536 / 8]; /* bit set: port allowed */
	uint8_t http_ports[65536 / 8];	  /* for plain-HTTP forwarding */
	uint64_t connect_timeout_ms;
	uint64_t tunnel_idle_timeout_ms;
	uint64_t header_timeout_ms;
	uint64_t shutdown_grace_ms;
	uint64_t response_timeout_ms;
	uint64_t keepalive_timeout_ms;
	bool x_forwarded_for;
	uint64_t max_request_line;	  /* bytes; 414 beyond */
	uint64_t max_head_bytes;	  /* bytes; 431 beyond */
	unsigned max_header_fields;	  /* 431 beyond */
	char access_log[CONFIG_PATH_MAX]; /* path, "stderr" or "off" */
	enum access_log_format access_log_format;
	char error_log[CONFIG_PATH_MAX]; /* path, "stderr" or "syslog" */
	enum log_level log_level;
	char hosts_file[CONFIG_PATH_MAX];
	struct config_addr dns[CONFIG_MAX_DNS]; /* none: the system's */
	size_t n_dns;
	uint64_t dns_timeout_ms;
	uint64_t dns_min_ttl_ms;
	uint64_t dns_max_ttl_ms;
	uint64_t dns_negative_ttl_ms;
	struct config_list lists[CONFIG_MAX_LISTS]; /* in the order given */
	size_t n_lists;
	enum block_response block_response;
	struct cidr_rules
		clients; /* allow / deny; none: loopback and localnet */
	struct cidr_rules
		dests; /* allow-dest / deny-dest, before the defaults */
	uint8_t clients_source, dests_source; /* shared by two directives */
	unsigned max_connections;	      /* 0: no limit */
	unsigned max_connections_per_client;  /* 0: no limit */
	char user[64];			      /* "": keep the user we run as */
	char auth_file[CONFIG_PATH_MAX];      /* "": no authentication */
	char auth_realm[128];
	uint64_t blocklist_refresh_ms;
	char blocklist_cache[CONFIG_PATH_MAX]; /* directory for URL lists */
	/* the parent proxy (upstream-proxy); "": none, connect directly */
	char upstream[CONFIG_UPSTREAM_MAX]; /* "host:port", "[v6]:port" */
	char upstream_auth[CONFIG_UPSTREAM_AUTH_MAX]; /* "": no credentials */
	struct config_names upstream_for; /* "": every name goes to it */
	struct config_names direct_for;

	/* where the directive being applied was written, for list errors */
	char where[CONFIG_WHERE_MAX];
	uint8_t where_source; /* and its enum config_source */

	/* per directive: the source of its current value */
	uint8_t source[64];
};

/* Fills cfg with every directive's default. */
void config_init(struct config *cfg);

/*
 * Applies "name value" from source. On error returns -1 and writes a
 * message (without location) into err[CONFIG_ERR_MAX].
 */
int config_set(struct config *cfg, const char *name, const char *value,
	       enum config_source source, char *err);

/*
 * Parses a whole config file's text. On error returns -1 and writes
 * "file:line: message" into err[CONFIG_ERR_MAX]; cfg is then partly
 * updated and must not be used.
 */
int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *file, char *err);

/* Is no blocklist configured ("blocklist none")? */
bool config_blocking_off(const struct config *cfg);

/* Is CONNECT to port allowed? */
bool config_port_allowed(const struct config *cfg, uint16_t port);

/* May a plain-HTTP request be forwarded to port? */
bool config_http_port_allowed(const struct config *cfg, uint16_t port);

/* The directive table, for --help and flags. */
struct directive_info {
	const char *name;
	const char *arg;  /* "DURATION", "ADDR:PORT", ... */
	const char *def;  /* the default, as text */
	const char *help; /* one line */
	bool repeatable;
};
const struct directive_info *config_directive_info(size_t i);
size_t config_directive_count(void);

#endif
