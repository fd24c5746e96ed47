/*
 * pool.h - fixed-size object pool with a bounded free list.
 *
 * A pool belongs to one thread (a worker) and is never shared. Objects are
 * recycled through a free list of at most max_free entries; beyond that
 * they go back to malloc. Under AddressSanitizer nothing is cached, so a
 * use after pool_put is still caught.
 */
#ifndef SLUICE_BASE_POOL_H
#define SLUICE_BASE_POOL_H

#include <stddef.h>

struct pool {
	size_t obj_size;
	size_t max_free;
	size_t nfree;
	size_t live; /* objects handed out and not yet returned */
	void *free_list;
};

/* obj_size is raised to hold a pointer; max_free bounds idle memory. */
void pool_init(struct pool *p, size_t obj_size, size_t max_free);

/* Returns a zeroed object, or NULL when memory is exhausted. */
void *pool_get(struct pool *p);

/* The same, not zeroed: for buffers the caller fills before it reads. */
void *pool_take(struct pool *p);

/* Gives obj back; obj may be NULL. */
void pool_put(struct pool *p, void *obj);

/* Frees the cached objects; objects still live are the caller's bug. */
void pool_deinit(struct pool *p);

#endif
