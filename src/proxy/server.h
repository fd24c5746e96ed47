/*
 * server.h - the process around the workers: opens the listening sockets,
 * starts one worker per CPU, waits for signals, drains and exits.
 */
#ifndef SLUICE_PROXY_SERVER_H
#define SLUICE_PROXY_SERVER_H

#include "config/config.h"
#include "proxy/reloader.h"

struct access_log;
struct snapshot;

/*
 * Runs until SIGTERM or SIGINT has drained the workers, with snap as the
 * first config and lists: server_run takes over the caller's reference,
 * so that a reload can free them. SIGHUP
 * reloads both: load_config(load_arg, ...) reads the config again. Returns
 * the process exit status: 0 after a clean shutdown, 1 when it could not
 * start (the reason is logged).
 */
int server_run(struct snapshot *snap, struct access_log *access_log,
	       reloader_config_fn load_config, void *load_arg);

#endif
