/*
 * log.c - see log.h.
 */
#include "report/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static enum log_level min_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	min_level = level;
}

bool log_enabled(enum log_level level)
{
	return level >= min_level;
}

void log_format_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char date[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03ldZ", date, ts.tv_nsec / 1000000);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	char line[LOG_LINE_MAX];
	char when[32];
	va_list ap;
	int n, m;

	if (!log_enabled(level))
		return;
	log_format_time(when, sizeof(when));
	n = snprintf(line, sizeof(line), "%s %s ", when,
		     names[level - LOG_LEVEL_DEBUG]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated: keep the newline */
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
