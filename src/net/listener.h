/*
 * listener.h - listening sockets and accept. Knows no HTTP.
 *
 * Every worker opens its own socket on each listen address with
 * SO_REUSEPORT, so the kernel spreads connections over the workers and no
 * accept lock is shared. SO_REUSEPORT would as well let another process
 * of the same user join the group and take half the connections, so the
 * address is first checked free with a plain bind (listener_check_free).
 */
#ifndef SLUICE_NET_LISTENER_H
#define SLUICE_NET_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

/* Pending connections the kernel may queue per listening socket. */
#define LISTENER_BACKLOG 1024

/* Returns a non-blocking listening socket bound to sa, or -errno; shared:
 * with SO_REUSEPORT, for one socket per worker. */
int listener_open(const struct sockaddr *sa, socklen_t len, bool shared);

/* 0 if no other socket listens on sa (a bind without SO_REUSEPORT
 * succeeds), else -errno (-EADDRINUSE). Port 0 is always free. */
int listener_check_free(const struct sockaddr *sa, socklen_t len);

/* The address a socket is bound to (to learn the port after port 0). */
int listener_local_addr(int fd, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Accepts one connection as a non-blocking, close-on-exec socket with
 * TCP_NODELAY. Returns the fd, or -errno (-EAGAIN: nothing pending).
 */
int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *len);

#endif
