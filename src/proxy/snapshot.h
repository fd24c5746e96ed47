/*
 * snapshot.h - the compiled blocklist as the workers see it: built once,
 * immutable, shared by reference count. A reload builds a new snapshot and
 * hands each worker a reference (worker_publish); a worker drops its old
 * one between two events, so no request ever sees a set change under it,
 * and the last worker to let go frees the old set.
 */
#ifndef SLUICE_PROXY_SNAPSHOT_H
#define SLUICE_PROXY_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

struct blocklist;

struct snapshot {
	atomic_uint refs;
	struct blocklist *blocklist; /* NULL: nothing is blocked */
	uint64_t generation;	     /* 1 for the first, then +1 a reload */
};

/* Takes ownership of bl (may be NULL). One reference, the caller's. */
struct snapshot *snapshot_new(struct blocklist *bl, uint64_t generation);

/* Another reference to s, for another holder. Returns s. */
struct snapshot *snapshot_pin(struct snapshot *s);

/* Drops one reference; the last frees the set. NULL is fine. */
void snapshot_release(struct snapshot *s);

#endif
