/*
 * origin_pool.h - a worker's idle connections to origins, kept for the next
 * plain-HTTP request to the same host and port.
 *
 * Bounded in count (ORIGIN_POOL_MAX_IDLE per worker; when full, the longest
 * idle goes) and in time (ORIGIN_POOL_IDLE_MS). An idle connection is
 * watched: when the origin closes it, sends anything, or resets it, it is
 * closed at once, so a taken connection is almost always alive (the caller
 * still retries once on a fresh one when it was not).
 *
 * Taking and giving back cost O(1): connections are chained by a hash of
 * their key, newest first, and kept in one list from newest to oldest, so
 * eviction and expiry take from its tail.
 */
#ifndef SLUICE_PROXY_ORIGIN_POOL_H
#define SLUICE_PROXY_ORIGIN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/counter.h"
#include "http/authority.h"
#include "net/loop.h"

#define ORIGIN_POOL_MAX_IDLE 512
#define ORIGIN_POOL_BUCKETS  256 /* a power of two */
#define ORIGIN_POOL_IDLE_MS  15000
#define ORIGIN_KEY_MAX	     (AUTHORITY_MAX_NAME + 9) /* '>', host:port */

struct origin_conn {
	struct origin_pool *pool;
	int fd; /* -1: free slot */
	uint32_t hash;
	struct origin_conn *chain;	   /* same bucket, newer first */
	struct origin_conn *newer, *older; /* the age list, or the free list */
	uint64_t since_ms;
	struct watch *readable; /* the origin spoke or closed: drop it */
	char key[ORIGIN_KEY_MAX];
};

struct origin_pool {
	struct loop *loop;
	struct origin_conn *conns; /* ORIGIN_POOL_MAX_IDLE slots */
	struct origin_conn *buckets[ORIGIN_POOL_BUCKETS];
	struct origin_conn *newest, *oldest;
	struct origin_conn *free;
	struct watch *sweep; /* expires the oldest; runs while any is idle */
	size_t n_idle;
	/* for the metrics, read from any thread */
	counter_t reused; /* connections handed out again */
	counter_t pooled; /* connections kept for reuse */
};

/* 0, or -ENOMEM. */
int origin_pool_init(struct origin_pool *p, struct loop *loop);

/* Closes every idle connection and frees the pool. */
void origin_pool_deinit(struct origin_pool *p);

/*
 * Writes the pool key of host:port (host lowercased) into key. A
 * connection to a parent proxy (upstream-proxy) carries requests for any
 * origin: its key, marked parent, is ">host:port", apart from the same
 * host:port reached as an origin.
 */
void origin_pool_key(char key[ORIGIN_KEY_MAX], bool parent, const char *host,
		     size_t host_len, uint16_t port);

/*
 * Takes an idle connection to key: its fd, or -1 if there is none. *rd is
 * its read watch, started; the caller retargets it (watch_retarget) and
 * owns it from now on.
 * An idle connection the origin closed is dropped when the loop sees its
 * event; one closed since the loop last looked is only found by asking the
 * kernel (a MSG_PEEK, one system call). probe asks: a caller that can
 * send its request again on a fresh connection passes false and saves the
 * call on every reuse; one that cannot (a body, an unsafe method) passes
 * true.
 */
int origin_pool_take(struct origin_pool *p, const char *key, bool probe,
		     struct watch **rd);

/*
 * Gives fd back for reuse with its read watch rd (or NULL): the pool owns
 * both from now on (may close and free them). A socket that keeps its one
 * watch keeps its registration with the kernel: no epoll_ctl either way.
 */
void origin_pool_put(struct origin_pool *p, const char *key, int fd,
		     struct watch *rd);

#endif
