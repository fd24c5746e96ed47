/*
 * dial.c - see dial.h. Addresses are tried one after another; the deadline
 * covers them all. (Happy Eyeballs, racing address families, replaces the
 * ordering here without changing the interface.)
 */
#include "net/dial.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

static void release(struct dial *d)
{
	watch_free(d->writable);
	watch_free(d->timer);
	d->writable = NULL;
	d->timer = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static void finish(struct dial *d, int fd, int err)
{
	dial_fn fn = d->fn;
	void *arg = d->arg;

	if (fd >= 0)
		d->fd = -1; /* handed over */
	release(d);
	fn(arg, fd, err);
}

static void on_writable(void *arg);

/* Starts the next address; returns 0 if one is in progress, else -1. */
static int try_next(struct dial *d)
{
	while (d->next < d->addrs.n) {
		const struct sockaddr_storage *ss = &d->addrs.addr[d->next];
		socklen_t len = d->addrs.len[d->next];
		int one = 1;

		d->next++;
		d->fd = socket(ss->ss_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d->fd < 0) {
			d->last_err = -errno;
			continue;
		}
		(void)setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		if (connect(d->fd, (const struct sockaddr *)ss, len) == 0 ||
		    errno == EINPROGRESS) {
			d->writable =
				watch_new_write(d->loop, d->fd, on_writable, d);
			if (d->writable != NULL &&
			    watch_start(d->writable) == 0)
				return 0;
			d->last_err = -ENOMEM;
			watch_free(d->writable);
			d->writable = NULL;
		} else {
			d->last_err = -errno;
		}
		close(d->fd);
		d->fd = -1;
	}
	return -1;
}

/* Moves to the next address, or arranges to report failure. */
static void start_next(struct dial *d)
{
	if (try_next(d) == 0)
		return;
	/* report on the next loop turn, never from inside dial_start() */
	d->next = d->addrs.n + 1; /* tells on_timer: failed, not timed out */
	watch_stop(d->timer);
	watch_start_timer(d->timer, 0);
}

static void on_writable(void *arg)
{
	struct dial *d = arg;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0) {
		finish(d, d->fd, 0);
		return;
	}
	d->last_err = -soerr;
	watch_free(d->writable);
	d->writable = NULL;
	close(d->fd);
	d->fd = -1;
	start_next(d);
}

static void on_timer(void *arg)
{
	struct dial *d = arg;

	if (d->next > d->addrs.n)
		finish(d, -1, d->last_err != 0 ? d->last_err : -EHOSTUNREACH);
	else
		finish(d, -1, -ETIMEDOUT);
}

int dial_start(struct dial *d, struct loop *loop,
	       const struct dial_addrs *addrs, uint64_t timeout_ms, dial_fn fn,
	       void *arg)
{
	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->addrs = *addrs;
	d->fd = -1;
	d->fn = fn;
	d->arg = arg;
	d->last_err = -EHOSTUNREACH;
	d->timer = watch_new_timer(loop, on_timer, d);
	if (d->timer == NULL || watch_start_timer(d->timer, timeout_ms) < 0) {
		release(d);
		return -ENOMEM;
	}
	start_next(d);
	return 0;
}

void dial_cancel(struct dial *d)
{
	release(d);
}
