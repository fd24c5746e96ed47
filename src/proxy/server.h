/*
 * server.h - the process around the workers: opens the listening sockets,
 * starts one worker per CPU, waits for signals, drains and exits.
 */
#ifndef SLUICE_PROXY_SERVER_H
#define SLUICE_PROXY_SERVER_H

#include "config/config.h"

struct access_log;
struct snapshot;

/*
 * Runs until SIGTERM or SIGINT has drained the workers, with snap (the
 * caller keeps its reference) as the first blocklist; SIGHUP reloads the
 * lists. Returns the process exit status: 0 after a clean shutdown, 1 when
 * it could not start (the reason is logged).
 */
int server_run(const struct config *cfg, struct access_log *access_log,
	       struct snapshot *snap);

#endif
