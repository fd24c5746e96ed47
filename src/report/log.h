/*
 * log.h - the error log: timestamped, levelled lines on stderr, in a file
 * (error-log PATH) or to syslog (error-log syslog: the daemon facility,
 * ident "sluice", levels mapped to syslog's priorities).
 *
 * Thread-safe: each message is formatted into a local buffer and written
 * with one write(2), so lines from different workers never interleave
 * (syslog(3) takes its own lock). The level and the destination are set
 * once at start, before any worker runs; log_reopen() later swaps the file
 * under the same descriptor number, so writers never see a change.
 */
#ifndef SLUICE_REPORT_LOG_H
#define SLUICE_REPORT_LOG_H

#include "config/config.h"

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/*
 * Sends what follows to spec: "stderr" (the default), "syslog" or a path,
 * opened for appending (created 0640). Returns 0, or -errno with stderr
 * kept. Call once, before the workers start.
 */
int log_open(const char *spec);

/*
 * SIGUSR1 (logrotate): opens the error log's path again and puts the new
 * file in place of the old one with dup3(), atomically for concurrent
 * writers. Nothing to do for stderr or syslog. Returns 0 or -errno; on
 * failure the old file stays in use (the caller says so).
 */
int log_reopen(void);

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level,
						   const char *fmt, ...);

#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))                              \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                 \
	} while (0)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Formats the current UTC time as 2026-11-24T00:26:01.123Z into out[32]. */
void log_format_time(char *out, size_t cap);

/*
 * Opens path for appending log lines into the descriptor number fd holds
 * already: the reopen of log_reopen() and access_log_reopen(). 0 or -errno
 * (fd untouched).
 */
int log_reopen_fd(int fd, const char *path);

#endif
