/*
 * origin_pool.h - a worker's idle connections to origins, kept for the next
 * plain-HTTP request to the same host and port.
 *
 * Bounded in count (ORIGIN_POOL_MAX_IDLE per worker, ORIGIN_POOL_MAX_PER_KEY
 * per origin) and in time (ORIGIN_POOL_IDLE_MS). An idle connection is
 * watched: when the origin closes it, sends anything, or resets it, it is
 * closed at once, so a taken connection is almost always alive (the caller
 * still retries once on a fresh one when it was not).
 */
#ifndef SLUICE_PROXY_ORIGIN_POOL_H
#define SLUICE_PROXY_ORIGIN_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "http/authority.h"
#include "net/loop.h"

#define ORIGIN_POOL_MAX_IDLE	64
#define ORIGIN_POOL_MAX_PER_KEY 8
#define ORIGIN_POOL_IDLE_MS	15000
#define ORIGIN_KEY_MAX		(AUTHORITY_MAX_NAME + 8)

struct origin_conn {
	struct origin_pool *pool;
	int fd; /* -1: free slot */
	char key[ORIGIN_KEY_MAX];
	uint64_t since_ms;
	struct watch *readable; /* the origin spoke or closed: drop it */
	struct watch *expire;
};

struct origin_pool {
	struct loop *loop;
	struct origin_conn conns[ORIGIN_POOL_MAX_IDLE];
	size_t n_idle;
	uint64_t reused; /* connections handed out again, for metrics */
};

void origin_pool_init(struct origin_pool *p, struct loop *loop);

/* Closes every idle connection. */
void origin_pool_deinit(struct origin_pool *p);

/* Writes the pool key of host:port (host lowercased) into key. */
void origin_pool_key(char key[ORIGIN_KEY_MAX], const char *host,
		     size_t host_len, uint16_t port);

/* Takes an idle connection to key: its fd, or -1 if there is none. */
int origin_pool_take(struct origin_pool *p, const char *key);

/* Gives fd back for reuse; the pool owns it from now on (may close it). */
void origin_pool_put(struct origin_pool *p, const char *key, int fd);

#endif
