/*
 * access_log.c - see access_log.h.
 */
#include "report/access_log.h"

#include "base/addr.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCESS_LINE_MAX 1024

struct access_log {
	int fd;	  /* -1: off */
	bool own; /* we opened it and close it */
};

struct access_log *access_log_open(const char *spec, int *err)
{
	struct access_log *log = calloc(1, sizeof(*log));

	if (log == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (strcmp(spec, "off") == 0) {
		log->fd = -1;
	} else if (strcmp(spec, "stderr") == 0) {
		log->fd = STDERR_FILENO;
	} else {
		log->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			       0640);
		if (log->fd < 0) {
			*err = -errno;
			free(log);
			return NULL;
		}
		log->own = true;
	}
	return log;
}

void access_log_close(struct access_log *log)
{
	if (log == NULL)
		return;
	if (log->own)
		close(log->fd);
	free(log);
}

void access_log_write(struct access_log *log, const struct access_entry *e)
{
	char line[ACCESS_LINE_MAX];
	char when[32], client[ADDR_TEXT_MAX];
	int n;

	if (log == NULL || log->fd < 0)
		return;
	log_format_time(when, sizeof(when));
	addr_format(e->client, client, sizeof(client));
	bool rule = e->rule != NULL && e->rule[0] != '\0';

	n = snprintf(line, sizeof(line),
		     "%s %s %s %s status=%d up=%llu down=%llu ms=%llu "
		     "end=%s%s%s\n",
		     when, client, e->method, e->target, e->status,
		     (unsigned long long)e->bytes_up,
		     (unsigned long long)e->bytes_down,
		     (unsigned long long)e->duration_ms, e->end,
		     rule ? " rule=" : "", rule ? e->rule : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(log->fd, line, (size_t)n);
}
