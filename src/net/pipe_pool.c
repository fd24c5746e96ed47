/*
 * pipe_pool.c - see pipe_pool.h.
 */
#include "net/pipe_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void pipe_pool_init(struct pipe_pool *pp)
{
	pp->n_idle = 0;
	pp->n_out = 0;
	pp->n_big = 0;
}

static void close_pipe(struct pipe_pool *pp, const int fds[2], bool big)
{
	close(fds[0]);
	close(fds[1]);
	if (big)
		pp->n_big--;
}

void pipe_pool_deinit(struct pipe_pool *pp)
{
	while (pp->n_idle > 0) {
		pp->n_idle--;
		close_pipe(pp, pp->idle[pp->n_idle].fds,
			   pp->idle[pp->n_idle].big);
	}
}

int pipe_pool_get(struct pipe_pool *pp, int fds[2], bool *big)
{
	if (pp->n_idle > 0) {
		const struct pipe_pool_entry *e = &pp->idle[--pp->n_idle];
		fds[0] = e->fds[0];
		fds[1] = e->fds[1];
		*big = e->big;
	} else if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		return -errno;
	} else {
		*big = pp->n_big < PIPE_POOL_MAX_BIG &&
		       fcntl(fds[1], F_SETPIPE_SZ, PIPE_POOL_BIG_BYTES) >= 0;
		if (*big)
			pp->n_big++;
	}
	pp->n_out++;
	return 0;
}

void pipe_pool_put(struct pipe_pool *pp, int fds[2], bool empty, bool big)
{
	pp->n_out--;
	if (empty && pp->n_idle < PIPE_POOL_MAX_IDLE) {
		pp->idle[pp->n_idle].fds[0] = fds[0];
		pp->idle[pp->n_idle].fds[1] = fds[1];
		pp->idle[pp->n_idle].big = big;
		pp->n_idle++;
	} else {
		close_pipe(pp, fds, big);
	}
	fds[0] = fds[1] = -1;
}
