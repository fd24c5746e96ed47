/*
 * resolve.h - asynchronous name resolution on a worker's loop. Knows no
 * HTTP. One resolver per worker; it never blocks the loop.
 *
 * Backed by libevent's evdns: the system's /etc/resolv.conf servers and a
 * hosts(5) file that is consulted first.
 */
#ifndef SLUICE_NET_RESOLVE_H
#define SLUICE_NET_RESOLVE_H

#include <stdint.h>

#include "net/dial.h"
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
 * the port filled in.
 */
typedef void (*resolve_fn)(void *arg, enum resolve_status status,
			   const struct dial_addrs *addrs);

/*
 * hosts_file is read now. servers[0..n_servers) are the DNS servers to
 * ask; with none, those of /etc/resolv.conf. Returns NULL on failure.
 */
struct resolver *resolver_new(struct loop *loop, const char *hosts_file,
			      const struct sockaddr_storage *servers,
			      const socklen_t *server_lens, size_t n_servers);
void resolver_free(struct resolver *r);

/* Starts resolving host (NUL-terminated). Returns NULL if out of memory. */
struct resolve_query *resolve_start(struct resolver *r, const char *host,
				    uint16_t port, resolve_fn fn, void *arg);

/* Abandons a query; its callback will not run. */
void resolve_cancel(struct resolve_query *q);

const char *resolve_strstatus(enum resolve_status status);

#endif
