/*
 * admin.h - the admin endpoint: a small HTTP/1.1 server on its own thread
 * and port, apart from the proxy's, for people and monitoring.
 *
 *   GET /metrics   the Prometheus text format (report/metrics.h)
 *   GET /healthz   200 while the process runs
 *   GET /readyz    200 when listening with the lists loaded, else 503
 *   GET /          a page with the same figures, refreshing itself
 *
 * One request per connection (Connection: close), at most
 * ADMIN_MAX_CONNECTIONS at once, each head within ADMIN_HEAD_MAX bytes and
 * ADMIN_TIMEOUT_MS. It never touches a worker's loop: the figures come
 * from the collect callback, which reads the workers' counters.
 */
#ifndef SLUICE_REPORT_ADMIN_H
#define SLUICE_REPORT_ADMIN_H

#include "report/metrics.h"

#define ADMIN_MAX_CONNECTIONS 32
#define ADMIN_HEAD_MAX	      8192
#define ADMIN_TIMEOUT_MS      5000

struct admin;

/* Fills v with the figures of this moment (on the admin thread). */
typedef void (*admin_collect_fn)(void *arg, struct metrics_view *v);

/*
 * Serves on listen_fd (a listening socket the admin owns from now on) from
 * a new thread. Returns NULL (and closes listen_fd) when it cannot start.
 */
struct admin *admin_start(int listen_fd, admin_collect_fn collect, void *arg,
			  const char *version);

/* Stops the thread, closes every admin connection and frees. NULL is fine. */
void admin_stop(struct admin *a);

#endif
