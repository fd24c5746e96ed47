/*
 * limits.h - max-connections and max-connections-per-client, counted
 * across all workers. Entered once per accepted connection and left once
 * when it closes; the only lock taken is on accept, and only with a
 * per-client limit set (the total is one atomic counter).
 *
 * A client over its limit is logged once, not at every attempt: again only
 * after all its connections have closed.
 */
#ifndef SLUICE_PROXY_LIMITS_H
#define SLUICE_PROXY_LIMITS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Distinct client addresses counted at once; past it, no per-client limit
 * applies to new addresses (and that is logged once). */
#define LIMITS_CLIENTS_MAX 65536

enum limits_verdict {
	LIMITS_OK = 0,
	LIMITS_TOTAL,	   /* max-connections reached */
	LIMITS_PER_CLIENT, /* this client's max-connections-per-client */
};

struct limits_client;

/* What conn_limits_enter counted, for conn_limits_leave to uncount. */
#define LIMITS_COUNTED_TOTAL  1u
#define LIMITS_COUNTED_CLIENT 2u

struct conn_limits {
	/* 0: none; a reload may change them while connections are open */
	atomic_uint max_total, max_per_client;
	atomic_uint total;
	atomic_bool total_logged;
	pthread_mutex_t lock;
	struct limits_client *clients; /* LIMITS_CLIENTS_MAX slots */
	bool table_full_logged;
};

int conn_limits_init(struct conn_limits *l, unsigned max_total,
		     unsigned max_per_client);
void conn_limits_deinit(struct conn_limits *l);

/*
 * New limits, from a reload. Connections already open stay; each is
 * uncounted as it was counted, so the counts never go wrong.
 */
void conn_limits_set(struct conn_limits *l, unsigned max_total,
		     unsigned max_per_client);

/*
 * Counts a new connection from peer, or refuses it. *log_it is set when
 * this refusal is the first for the client (or for the total) since it
 * was last under its limit. *counted says what was counted
 * (LIMITS_COUNTED_*); a refused connection is not counted.
 */
enum limits_verdict conn_limits_enter(struct conn_limits *l,
				      const struct sockaddr *peer, bool *log_it,
				      unsigned *counted);

/* Uncounts a connection conn_limits_enter() let in, as it was counted. */
void conn_limits_leave(struct conn_limits *l, const struct sockaddr *peer,
		       unsigned counted);

#endif
