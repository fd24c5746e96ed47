/*
 * listener.h - listening sockets and accept. Knows no HTTP.
 *
 * Every worker opens its own socket on each listen address with
 * SO_REUSEPORT, so the kernel spreads connections over the workers and no
 * accept lock is shared.
 */
#ifndef SLUICE_NET_LISTENER_H
#define SLUICE_NET_LISTENER_H

#include <sys/socket.h>

/* Pending connections the kernel may queue per listening socket. */
#define LISTENER_BACKLOG 1024

/* Returns a non-blocking listening socket bound to sa, or -errno. */
int listener_open(const struct sockaddr *sa, socklen_t len);

/* The address a socket is bound to (to learn the port after port 0). */
int listener_local_addr(int fd, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Accepts one connection as a non-blocking, close-on-exec socket with
 * TCP_NODELAY. Returns the fd, or -errno (-EAGAIN: nothing pending).
 */
int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *len);

#endif
