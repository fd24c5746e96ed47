/*
 * notify.c - see notify.h.
 *
 * Each report opens a datagram socket, sends once and closes it: reports
 * are rare (start, reload, stop), and a descriptor of our own would be
 * state shared between threads. The address is read from the environment
 * every time; nothing in sluice changes the environment after start.
 */
#include "report/notify.h"

#include "report/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Longest report we send: a few KEY=VALUE lines. */
#define NOTIFY_MSG_MAX 512

/*
 * Fills *sa from NOTIFY_SOCKET. Returns the address length, 0 when the
 * variable is unset or empty (no service manager asked), or -1 when it
 * names something we cannot use (logged at debug).
 */
static int notify_address(struct sockaddr_un *sa)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t n;

	if (name == NULL || name[0] == '\0')
		return 0;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sa->sun_path)) {
		log_debug("NOTIFY_SOCKET %s: not a socket path or abstract "
			  "name; not reporting to systemd",
			  name);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: no NUL terminator */
	else
		n++; /* a path: count its terminating NUL */
	return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

static void notify_send(const char *msg)
{
	struct sockaddr_un sa;
	int len = notify_address(&sa);
	int fd;

	if (len <= 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_debug("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return;
	}
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, (socklen_t)len) < 0)
		log_debug("NOTIFY_SOCKET %s: %s", getenv("NOTIFY_SOCKET"),
			  strerror(errno));
	close(fd);
}

void notify_ready(const char *status)
{
	char msg[NOTIFY_MSG_MAX];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify_send(msg);
}

void notify_reloading(void)
{
	char msg[NOTIFY_MSG_MAX];
	struct timespec ts;

	/* when the reload began: systemd >= 253 (Type=notify-reload) needs it
	 * to tell this reload from an earlier one */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg),
		 "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	notify_send(msg);
}

void notify_reloaded(bool ok)
{
	notify_ready(ok ? "serving"
			: "serving; the last reload failed, what was loaded "
			  "before stays in use");
}

void notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=draining: no longer accepting");
}
