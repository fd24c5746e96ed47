/*
 * pipe_pool.h - a worker's spare pipes for splice(2).
 *
 * A pump holds a pipe only while bytes sit in it, and hands it back as soon
 * as it is empty, so idle tunnels hold no pipe at all. Only empty pipes are
 * kept; at most max_idle of them.
 */
#ifndef SLUICE_NET_PIPE_POOL_H
#define SLUICE_NET_PIPE_POOL_H

#include <stddef.h>

/* Idle pipes a worker keeps for reuse. */
#define PIPE_POOL_MAX_IDLE 64
/* Capacity asked for each new pipe (F_SETPIPE_SZ); the kernel's default
 * (64 KiB) is kept where it refuses, e.g. past pipe-user-pages-soft. */
#ifndef PIPE_POOL_PIPE_BYTES
#define PIPE_POOL_PIPE_BYTES (256 * 1024)
#endif

struct pipe_pool {
	int idle[PIPE_POOL_MAX_IDLE][2];
	size_t n_idle;
	size_t n_out; /* pipes handed out and not yet returned */
};

void pipe_pool_init(struct pipe_pool *pp);

/* Closes the idle pipes. */
void pipe_pool_deinit(struct pipe_pool *pp);

/* Fills fds[0] (read end) and fds[1] (write end). Returns 0 or -errno. */
int pipe_pool_get(struct pipe_pool *pp, int fds[2]);

/* Returns a pipe; one that may hold bytes (empty == 0) is closed. */
void pipe_pool_put(struct pipe_pool *pp, int fds[2], int empty);

#endif
