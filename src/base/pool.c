/*
 * pool.c - see pool.h. No locking: a pool has exactly one owner thread.
 */
#include "base/pool.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define POOL_CACHES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_CACHES 0
#endif
#endif
#ifndef POOL_CACHES
#define POOL_CACHES 1
#endif

void pool_init(struct pool *p, size_t obj_size, size_t max_free)
{
	memset(p, 0, sizeof(*p));
	p->obj_size = obj_size < sizeof(void *) ? sizeof(void *) : obj_size;
	p->max_free = POOL_CACHES ? max_free : 0;
}

void *pool_take(struct pool *p)
{
	void *obj = p->free_list;

	if (obj != NULL) {
		p->free_list = *(void **)obj;
		p->nfree--;
	} else {
		obj = malloc(p->obj_size);
		if (obj == NULL)
			return NULL;
	}
	p->live++;
	return obj;
}

void *pool_get(struct pool *p)
{
	void *obj = pool_take(p);

	if (obj != NULL)
		memset(obj, 0, p->obj_size);
	return obj;
}

void pool_put(struct pool *p, void *obj)
{
	if (obj == NULL)
		return;
	p->live--;
	if (p->nfree >= p->max_free) {
		free(obj);
		return;
	}
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->nfree++;
}

void pool_deinit(struct pool *p)
{
	void *obj = p->free_list;

	while (obj != NULL) {
		void *next = *(void **)obj;
		free(obj);
		obj = next;
	}
	p->free_list = NULL;
	p->nfree = 0;
}
