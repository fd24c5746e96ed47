/*
 * pipe_pool.h - a worker's spare pipes for splice(2).
 *
 * A pump holds a pipe only while bytes sit in it, and hands it back as soon
 * as it is empty, so idle tunnels hold no pipe at all. Only empty pipes are
 * kept; at most PIPE_POOL_MAX_IDLE of them.
 *
 * Pipes serve bulk transfers only (a pump copies small messages and
 * splices once its reads come back full), so each new pipe is asked to be
 * large: one splice then moves up to PIPE_POOL_BIG_BYTES, which cost 40%
 * less CPU per GiB than the kernel's 64 KiB (bench/RESULTS.md). Large
 * pipes count against the user's pipe-user-pages-soft (64 MiB by default
 * for an unprivileged user, after which the kernel hands out one-page
 * pipes), so a worker keeps at most PIPE_POOL_MAX_BIG of them; past that,
 * pipes keep the default size.
 */
#ifndef SLUICE_NET_PIPE_POOL_H
#define SLUICE_NET_PIPE_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Idle pipes a worker keeps for reuse. */
#define PIPE_POOL_MAX_IDLE 32
/* Capacity asked for a large pipe (F_SETPIPE_SZ), and how many a worker
 * may hold, in use or idle. */
#ifndef PIPE_POOL_BIG_BYTES
#define PIPE_POOL_BIG_BYTES (1024 * 1024)
#endif
#define PIPE_POOL_MAX_BIG 16

struct pipe_pool_entry {
	int fds[2];
	bool big;
};

struct pipe_pool {
	struct pipe_pool_entry idle[PIPE_POOL_MAX_IDLE];
	size_t n_idle;
	size_t n_out; /* pipes handed out and not yet returned */
	size_t n_big; /* large pipes, handed out or idle */
};

void pipe_pool_init(struct pipe_pool *pp);

/* Closes the idle pipes. */
void pipe_pool_deinit(struct pipe_pool *pp);

/*
 * Fills fds[0] (read end) and fds[1] (write end); *big says whether it is
 * a large pipe. Returns 0 or -errno.
 */
int pipe_pool_get(struct pipe_pool *pp, int fds[2], bool *big);

/* Returns a pipe; one that may hold bytes (empty false) is closed. */
void pipe_pool_put(struct pipe_pool *pp, int fds[2], bool empty, bool big);

#endif
