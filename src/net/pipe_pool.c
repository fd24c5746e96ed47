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
}

void pipe_pool_deinit(struct pipe_pool *pp)
{
	while (pp->n_idle > 0) {
		pp->n_idle--;
		close(pp->idle[pp->n_idle][0]);
		close(pp->idle[pp->n_idle][1]);
	}
}

int pipe_pool_get(struct pipe_pool *pp, int fds[2])
{
	if (pp->n_idle > 0) {
		pp->n_idle--;
		fds[0] = pp->idle[pp->n_idle][0];
		fds[1] = pp->idle[pp->n_idle][1];
	} else if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		return -errno;
	} else {
		/* fewer, larger splices per byte moved; best effort */
		(void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_POOL_PIPE_BYTES);
	}
	pp->n_out++;
	return 0;
}

void pipe_pool_put(struct pipe_pool *pp, int fds[2], int empty)
{
	pp->n_out--;
	if (empty && pp->n_idle < PIPE_POOL_MAX_IDLE) {
		pp->idle[pp->n_idle][0] = fds[0];
		pp->idle[pp->n_idle][1] = fds[1];
		pp->n_idle++;
	} else {
		close(fds[0]);
		close(fds[1]);
	}
	fds[0] = fds[1] = -1;
}
