/*
 * metrics.h - what the proxy counts, and the two ways it is shown: the
 * Prometheus text exposition format (/metrics) and a small HTML page (/).
 *
 * Each worker owns a struct metrics and adds to it without locks
 * (base/counter.h); the admin thread sums every worker's into a struct
 * metrics_view when it is scraped. The few process-wide figures (reloads,
 * readiness) and the ring of recently blocked names are the exception:
 * they change rarely and sit under a mutex of their own.
 */
#ifndef SLUICE_REPORT_METRICS_H
#define SLUICE_REPORT_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/counter.h"

/* Methods counted by name; the rest are "other" (a bounded label set). */
enum metrics_method {
	METRICS_GET,
	METRICS_HEAD,
	METRICS_POST,
	METRICS_PUT,
	METRICS_DELETE,
	METRICS_OPTIONS,
	METRICS_PATCH,
	METRICS_CONNECT,
	METRICS_OTHER,
	METRICS_METHODS
};

/* Status classes: 1xx to 5xx. */
#define METRICS_CLASSES 5

/* Why a connection was turned away before its first request was read. */
enum metrics_refusal {
	METRICS_REFUSED_CLIENT_DENIED, /* allow/deny: 403 */
	METRICS_REFUSED_OVER_LIMIT,    /* max-connections: 503 */
	METRICS_REFUSED_CLIENT_LIMIT,  /* max-connections-per-client: 503 */
	METRICS_REFUSED_PROXY_HEADER,  /* PROXY header missing or bad, or
					  not from proxy-protocol-from */
	METRICS_REFUSALS
};

/* Why a CONNECT did not become a tunnel. */
enum metrics_tunnel_failure {
	METRICS_TUNNEL_BLOCKED, /* a blocklist */
	METRICS_TUNNEL_DENIED,	/* port, destination rule, auth */
	METRICS_TUNNEL_DNS,	/* no such name, or DNS failed */
	METRICS_TUNNEL_REFUSED, /* the target refused or was unreachable */
	METRICS_TUNNEL_TIMEOUT, /* connect-timeout or dns-timeout */
	METRICS_TUNNEL_BAD,	/* a malformed CONNECT request */
	METRICS_TUNNEL_OTHER,	/* anything else (out of memory ...) */
	METRICS_TUNNEL_FAILURES
};

/* Blocked requests are counted per list; lists beyond this are "other". */
#define METRICS_LISTS	      64
#define METRICS_LIST_NAME_MAX 200

struct metrics_list {
	char name[METRICS_LIST_NAME_MAX]; /* written once, before n_lists++ */
	counter_t blocked;
};

/* One worker's counters. Only that worker adds to them. */
struct metrics {
	counter_t accepted; /* client connections */
	counter_t closed;
	counter_t refused[METRICS_REFUSALS];
	counter_t requests[METRICS_METHODS][METRICS_CLASSES];
	counter_t tunnels_opened; /* a 200 answered a CONNECT */
	counter_t tunnels_closed;
	counter_t tunnel_failures[METRICS_TUNNEL_FAILURES];
	counter_t bytes_up;	 /* client -> target, payload */
	counter_t bytes_down;	 /* target -> client, payload */
	counter_t blocked_other; /* on a list beyond METRICS_LISTS */
	struct metrics_list lists[METRICS_LISTS];
	atomic_size_t n_lists;
};

/* The recently blocked names shown on the page, newest first. */
#define METRICS_RECENT 20

struct metrics_recent {
	char name[256];
	char rule[96];
	int64_t when_s; /* Unix time */
};

/* Everything one scrape shows: every worker summed, and the rest. */
struct metrics_view {
	struct metrics sum; /* n_lists and lists[] merged by name */
	uint64_t dns_lookups, dns_hits, dns_hosts, dns_queries, dns_no_name,
		dns_failures;
	uint64_t pool_reused, pool_kept;
	uint64_t reloads_ok, reloads_failed;
	int64_t last_reload_ok_s, last_reload_failed_s; /* 0: never */
	char last_reload_error[256];
	uint64_t generation;	  /* of the config and lists in use */
	uint64_t blocklist_rules; /* in the snapshot in use */
	int64_t start_s;
	unsigned workers;
	bool listening; /* the proxy ports are open */
	bool draining;	/* SIGTERM: no longer accepting */
	struct metrics_recent recent[METRICS_RECENT];
	size_t n_recent;
};

/* The method's counter slot. */
enum metrics_method metrics_method_of(const char *method);

/* Adds one finished request, answered with status (100-599), to m. */
void metrics_count_request(struct metrics *m, const char *method, int status);

/* One blocked request, by list name (the "list" of "list:line"). */
void metrics_count_blocked(struct metrics *m, const char *list, size_t len);

/* Adds src into dst: every counter, and lists merged by name. */
void metrics_add(struct metrics *dst, const struct metrics *src);

/*
 * The process-wide part: reload outcomes and the recently blocked names.
 * Thread-safe; each call takes a mutex (they are rare, or on a blocked
 * request only).
 */
void metrics_note_reload(bool ok, const char *error);
void metrics_note_blocked(const char *name, const char *rule);
void metrics_global_view(struct metrics_view *v);

/* Writes v in the Prometheus text format (version 0.0.4). */
void metrics_write_prometheus(FILE *out, const struct metrics_view *v,
			      const char *version);

/* Writes v as a self-refreshing HTML page for people. */
void metrics_write_html(FILE *out, const struct metrics_view *v,
			const char *version);

#endif
