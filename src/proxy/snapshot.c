/*
 * snapshot.c - see snapshot.h.
 */
#include "proxy/snapshot.h"

#include "policy/blocklist.h"

#include <stdlib.h>

struct snapshot *snapshot_new(struct blocklist *bl, uint64_t generation)
{
	struct snapshot *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	s->blocklist = bl;
	s->generation = generation;
	return s;
}

struct snapshot *snapshot_pin(struct snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void snapshot_release(struct snapshot *s)
{
	if (s == NULL ||
	    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	blocklist_free(s->blocklist);
	free(s);
}
