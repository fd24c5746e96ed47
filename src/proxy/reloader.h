/*
 * reloader.h - the thread that rebuilds the blocklist: on SIGHUP (from the
 * main thread), and when a list given by URL has changed on its server
 * (fetched every blocklist-refresh). Builds are serialised here, off the
 * workers and off the thread that takes signals, and each new snapshot is
 * handed to the workers through the publish callback.
 */
#ifndef SLUICE_PROXY_RELOADER_H
#define SLUICE_PROXY_RELOADER_H

#include "config/config.h"

struct reloader;
struct snapshot;

/* Gives snap to every worker; the reloader keeps its own reference. */
typedef void (*reloader_publish_fn)(void *arg, struct snapshot *snap);

/*
 * Starts the thread with current (the reloader takes a reference) as the
 * snapshot in use. Lists given by URL are fetched at once, then every
 * blocklist-refresh. Returns NULL when the thread cannot start.
 */
struct reloader *reloader_start(const struct config *cfg,
				struct snapshot *current,
				reloader_publish_fn publish, void *arg);

/* From any thread: rebuild from the files and cached copies, soon. */
void reloader_request(struct reloader *r);

/* Stops the thread (a fetch under way is cancelled) and frees it. */
void reloader_stop(struct reloader *r);

#endif
