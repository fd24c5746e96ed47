/*
 * access_log.h - one line per finished request or tunnel.
 *
 *   TIME CLIENT METHOD TARGET status=N up=N down=N ms=N end=WORD [rule=L:N]
 *
 * up: payload bytes client -> target; down: target -> client (our own
 * replies not counted); end: why it finished (done, idle-timeout, shutdown,
 * or the error that ended it); rule: the blocklist and line that blocked it.
 * Thread-safe like the error log: one write(2)
 * per line to an O_APPEND descriptor shared by all workers.
 */
#ifndef SLUICE_REPORT_ACCESS_LOG_H
#define SLUICE_REPORT_ACCESS_LOG_H

#include <stdint.h>
#include <sys/socket.h>

struct access_log;

struct access_entry {
	const struct sockaddr *client;
	const char *method; /* "-" when no request line was read */
	const char *target;
	int status;
	uint64_t bytes_up;
	uint64_t bytes_down;
	uint64_t duration_ms;
	const char *end;
	const char *rule; /* NULL or "": no rule fired */
};

/* spec is a path, "stderr" or "off". Returns NULL and -errno in *err. */
struct access_log *access_log_open(const char *spec, int *err);
void access_log_close(struct access_log *log);
void access_log_write(struct access_log *log, const struct access_entry *e);

#endif
