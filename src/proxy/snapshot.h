/*
 * snapshot.h - the config, the compiled blocklist and the users of
 * auth-file, as the workers see them: built once,
 * immutable, shared by reference count. A reload builds a new snapshot and
 * hands each worker a reference (worker_publish); a worker drops its old
 * one between two events, so no request ever sees a set change under it,
 * and the last worker to let go frees the old set.
 */
#ifndef SLUICE_PROXY_SNAPSHOT_H
#define SLUICE_PROXY_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct blocklist;
struct auth_table;

struct snapshot {
	atomic_uint refs;
	const struct config *cfg;    /* owned: a copy of the one loaded */
	struct blocklist *blocklist; /* NULL: nothing is blocked */
	struct auth_table *auth;     /* NULL: no authentication */
	/* upstream-proxy-for as blocks, direct-for as exceptions (parent.c);
	 * NULL: neither was given, or no upstream-proxy */
	struct blocklist *routes;
	uint64_t generation; /* 1 for the first, then +1 a reload */
};

/*
 * Takes ownership of cfg (malloc'd), bl and auth (either may be NULL). One
 * reference, the caller's.
 */
struct snapshot *snapshot_new(struct config *cfg, struct blocklist *bl,
			      struct auth_table *auth, uint64_t generation);

/*
 * Reads everything a snapshot holds for cfg — a copy of cfg itself, the
 * lists (lists_load), the users of auth-file (auth_load) and the parent
 * proxy's domains, compiled — reporting
 * through report. Returns the snapshot (one reference), or NULL with the
 * reason in err[SNAPSHOT_ERR_MAX].
 */
#define SNAPSHOT_ERR_MAX 2048
struct snapshot *snapshot_load(const struct config *cfg, uint64_t generation,
			       void (*report)(void *arg, bool warning,
					      const char *line),
			       void *arg, char *err);

/* Another reference to s, for another holder. Returns s. */
struct snapshot *snapshot_pin(struct snapshot *s);

/* Drops one reference; the last frees the set. NULL is fine. */
void snapshot_release(struct snapshot *s);

#endif
