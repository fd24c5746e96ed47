/*
 * log.c - see log.h.
 */
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static enum log_level min_level = LOG_LEVEL_INFO;
/* Where lines go; set once by log_open(), before the workers run. */
static int log_fd = STDERR_FILENO;
static bool log_syslog;
static char log_path[CONFIG_PATH_MAX]; /* "": not a file of ours */

void log_set_level(enum log_level level)
{
	min_level = level;
}

bool log_enabled(enum log_level level)
{
	return level >= min_level;
}

int log_open(const char *spec)
{
	if (strcmp(spec, "stderr") == 0)
		return 0;
	if (strcmp(spec, "syslog") == 0) {
		openlog("sluice", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = true;
		return 0;
	}
	if (strlen(spec) >= sizeof(log_path))
		return -ENAMETOOLONG;
	int fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	snprintf(log_path, sizeof(log_path), "%s", spec);
	log_fd = fd;
	return 0;
}

int log_reopen_fd(int fd, const char *path)
{
	int nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	int rc = 0;

	if (nfd < 0)
		return -errno;
	/* one step for every writer: a write(2) racing with it lands whole
	 * in the old file or the new one (dup2 would drop O_CLOEXEC) */
	if (dup3(nfd, fd, O_CLOEXEC) < 0)
		rc = -errno;
	close(nfd);
	return rc;
}

int log_reopen(void)
{
	if (log_path[0] == '\0')
		return 0;
	return log_reopen_fd(log_fd, log_path);
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
	static const int priorities[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING,
					 LOG_ERR};
	char line[LOG_LINE_MAX];
	char when[32];
	va_list ap;
	int n, m;

	if (!log_enabled(level))
		return;
	if (log_syslog) { /* syslog stamps the time and the level itself */
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		syslog(priorities[level - LOG_LEVEL_DEBUG], "%s", line);
		return;
	}
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
	(void)!write(log_fd, line, (size_t)n);
}
