/*
 * listener.c - see listener.h.
 */
#include "net/listener.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* A TCP socket bound to sa (SO_REUSEADDR: connections of a previous run
 * in TIME_WAIT do not stand in the way), or -errno. */
static int bound_socket(const struct sockaddr *sa, socklen_t len, bool shared)
{
	int one = 1;
	int fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (shared &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0))
		goto fail;
	/* [::]:3128 must not also take 0.0.0.0:3128 */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, sa, len) < 0)
		goto fail;
	return fd;
fail:;
	int err = errno;
	close(fd);
	return -err;
}

int listener_open(const struct sockaddr *sa, socklen_t len, bool shared)
{
	int fd = bound_socket(sa, len, shared);

	if (fd >= 0 && listen(fd, LISTENER_BACKLOG) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int listener_check_free(const struct sockaddr *sa, socklen_t len)
{
	int fd = bound_socket(sa, len, false);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int listener_local_addr(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(fd, (struct sockaddr *)ss, len) < 0 ? -errno : 0;
}

int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *len)
{
	int one = 1;
	int fd;

	*len = sizeof(*peer);
	fd = accept4(lfd, (struct sockaddr *)peer, len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* replies and tunnel bytes go out as they come, never held back */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}
