/*
 * reloader.h - the thread that builds new snapshots: on SIGHUP (from the
 * main thread) the config file and every list are read again; when a list
 * given by URL has changed on its server (fetched every blocklist-refresh)
 * the lists alone are. Builds are serialised here, off the workers and off
 * the thread that takes signals. A build that fails leaves the snapshot in
 * use alone; the reason is logged and counted (metrics).
 */
#ifndef SLUICE_PROXY_RELOADER_H
#define SLUICE_PROXY_RELOADER_H

#include "config/config.h"
#include "proxy/snapshot.h"

struct reloader;

/* Reads the config again (file and command line) into cfg: 0, or -1 with
 * the reason in err[SNAPSHOT_ERR_MAX]. */
typedef int (*reloader_config_fn)(void *arg, struct config *cfg, char *err);

/*
 * Puts snap in use everywhere (the callee takes its own references):
 * 0, or -1 with the reason in err[SNAPSHOT_ERR_MAX] when it cannot, and
 * then nothing has changed.
 */
typedef int (*reloader_publish_fn)(void *arg, struct snapshot *snap, char *err);

/*
 * Starts the thread with current (the reloader takes a reference) as the
 * snapshot in use. Lists given by URL are fetched at once, then every
 * blocklist-refresh. Returns NULL when the thread cannot start.
 */
struct reloader *reloader_start(struct snapshot *current,
				reloader_config_fn load_config,
				reloader_publish_fn publish, void *arg);

/* From any thread: read the config and lists again, soon. */
void reloader_request(struct reloader *r);

/* Stops the thread (a fetch under way is cancelled) and frees it. */
void reloader_stop(struct reloader *r);

#endif
