/*
 * resolve.h - asynchronous name resolution on a worker's loop, with a
 * cache. Knows no HTTP. One resolver per worker; it never blocks the loop.
 *
 * Backed by libevent's evdns (already the loop's library: one event base,
 * no second library and no threads): the servers of /etc/resolv.conf or a
 * chosen list, after a hosts file shared by all workers. Each name is asked
 * for A and AAAA at once; the answer is cached for its TTL (clamped), a
 * name that does not exist for the negative TTL, and while a lookup is in
 * flight every other request for the name waits for the same answer.
 */
#ifndef SLUICE_NET_RESOLVE_H
#define SLUICE_NET_RESOLVE_H

#include <stdint.h>

#include "base/counter.h"
#include "net/dial.h"
#include "net/hosts.h"
#include "net/loop.h"

enum resolve_status {
	RESOLVE_OK = 0,
	RESOLVE_NO_NAME, /* the name does not exist or has no address */
	RESOLVE_TIMEOUT, /* no server answered in time */
	RESOLVE_FAILURE, /* any other failure */
};

struct resolver;
struct resolve_query;

/*
 * Called exactly once per query unless cancelled, never from inside
 * resolve_start(). On RESOLVE_OK, addrs holds at least one address with
 * the port filled in, IPv6 and IPv4 interleaved, IPv6 first (RFC 8305 §4).
 */
typedef void (*resolve_fn)(void *arg, enum resolve_status status,
			   const struct dial_addrs *addrs);

struct resolver_config {
	const struct hosts *hosts; /* may be NULL; outlives the resolver */
	const struct sockaddr_storage *servers; /* none: resolv.conf's */
	const socklen_t *server_lens;
	size_t n_servers;
	uint64_t timeout_ms;	  /* a lookup without an answer fails */
	uint64_t min_ttl_ms;	  /* answers are kept at least this long */
	uint64_t max_ttl_ms;	  /* and at most this long */
	uint64_t negative_ttl_ms; /* a name that does not exist: this long */
};

/* What a resolver did, for the metrics: read from any thread. */
struct resolver_stats {
	counter_t lookups;   /* resolve_start calls for names */
	counter_t hosts;     /* answered from the hosts file */
	counter_t hits;	     /* answered from the cache (also negative) */
	counter_t coalesced; /* joined a lookup already in flight */
	counter_t queries;   /* sent to a server (A and AAAA count two) */
	counter_t no_name;   /* lookups that found no address */
	counter_t failures;  /* lookups that timed out or failed */
};

/* Most names a worker's cache holds; the least recently used go first. */
#define RESOLVE_CACHE_MAX 4096

struct resolver *resolver_new(struct loop *loop,
			      const struct resolver_config *cfg);
void resolver_free(struct resolver *r);

/* Starts resolving host (NUL-terminated). Returns NULL if out of memory. */
struct resolve_query *resolve_start(struct resolver *r, const char *host,
				    uint16_t port, resolve_fn fn, void *arg);

/* Abandons a query; its callback will not run. */
void resolve_cancel(struct resolve_query *q);

const struct resolver_stats *resolver_stats(const struct resolver *r);

const char *resolve_strstatus(enum resolve_status status);

#endif
