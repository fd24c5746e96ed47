/*
 * log.h - the error log: timestamped, levelled lines on stderr.
 *
 * Thread-safe: each message is formatted into a local buffer and written
 * with one write(2), so lines from different workers never interleave. The
 * level is set once at start, before any worker runs.
 */
#ifndef SLUICE_REPORT_LOG_H
#define SLUICE_REPORT_LOG_H

#include "config/config.h"

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

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

#endif
