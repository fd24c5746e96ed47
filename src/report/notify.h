/*
 * notify.h - readiness reports to systemd (Type=notify), without
 * libsystemd: sd_notify(3)'s datagram protocol, one "KEY=VALUE\n..."
 * datagram to the unix socket $NOTIFY_SOCKET names (a path, or an abstract
 * name written with a leading '@').
 *
 * With NOTIFY_SOCKET unset every call does nothing. A report that cannot
 * be sent is logged at debug and otherwise ignored: it is a courtesy to
 * the service manager, never a reason to stop serving. Keeps no state, so
 * any thread may call any function at any time.
 */
#ifndef SLUICE_REPORT_NOTIFY_H
#define SLUICE_REPORT_NOTIFY_H

#include <stdbool.h>

/* READY=1 with STATUS=status: every listener is open, requests are served. */
void notify_ready(const char *status);

/*
 * RELOADING=1 with MONOTONIC_USEC=now: a reload was asked for (SIGHUP).
 * Must be followed by notify_reloaded() once the reload is over, or
 * systemd shows the service as reloading.
 */
void notify_reloading(void);

/*
 * READY=1 again after notify_reloading(): the reload asked for is over,
 * done (ok) or failed with the previous state still serving (!ok).
 */
void notify_reloaded(bool ok);

/* STOPPING=1: draining has begun (the first SIGTERM or SIGINT). */
void notify_stopping(void);

#endif
