/*
 * dial.c - see dial.h.
 *
 * Up to DIAL_MAX_ATTEMPTS sockets connect at once, each watched for
 * writability. A new attempt starts when the stagger timer fires or when
 * one fails; the race ends when one connects (the others are closed), when
 * the last address has failed, or at the deadline.
 */
#include "net/dial.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

static void close_attempt(struct dial_attempt *a)
{
	if (a->fd < 0)
		return;
	watch_free(a->writable);
	a->writable = NULL;
	close(a->fd);
	a->fd = -1;
	a->d->active--;
}

static void release(struct dial *d)
{
	for (size_t i = 0; i < DIAL_MAX_ATTEMPTS; i++)
		close_attempt(&d->attempt[i]);
	watch_free(d->timer);
	watch_free(d->stagger);
	d->timer = NULL;
	d->stagger = NULL;
}

static void finish(struct dial *d, int fd, int err)
{
	dial_fn fn = d->fn;
	void *arg = d->arg;

	release(d);
	fn(arg, fd, err);
}

static void on_writable(void *arg);

/* Starts the next address in a free slot. 0 if one is now in flight. */
static int start_one(struct dial *d)
{
	struct dial_attempt *a = NULL;

	for (size_t i = 0; i < DIAL_MAX_ATTEMPTS && a == NULL; i++)
		if (d->attempt[i].fd < 0)
			a = &d->attempt[i];
	while (a != NULL && d->next < d->addrs.n) {
		const struct sockaddr_storage *ss = &d->addrs.addr[d->next];
		socklen_t len = d->addrs.len[d->next];
		int one = 1;

		d->next++;
		a->fd = socket(ss->ss_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (a->fd < 0) {
			d->last_err = -errno;
			continue;
		}
		d->active++;
		(void)setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		if (connect(a->fd, (const struct sockaddr *)ss, len) == 0 ||
		    errno == EINPROGRESS) {
			a->writable =
				watch_new_write(d->loop, a->fd, on_writable, a);
			if (a->writable != NULL &&
			    watch_start(a->writable) == 0)
				return 0;
			d->last_err = -ENOMEM;
		} else {
			d->last_err = -errno;
		}
		close_attempt(a);
	}
	return -1;
}

/*
 * After a start or a failure: another attempt now if there is room and an
 * address left, the stagger timer for the one after; if nothing is in
 * flight and nothing is left, the race is lost.
 */
static void advance(struct dial *d)
{
	start_one(d);
	watch_stop(d->stagger);
	if (d->next < d->addrs.n)
		watch_start_timer(d->stagger, DIAL_STAGGER_MS);
	if (d->active == 0 && d->next >= d->addrs.n) {
		/* report on the next loop turn, never inside dial_start() */
		d->failed = true;
		watch_stop(d->timer);
		watch_start_timer(d->timer, 0);
	}
}

static void on_writable(void *arg)
{
	struct dial_attempt *a = arg;
	struct dial *d = a->d;
	int soerr = 0, fd = a->fd;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0) {
		/* the winner: hand its socket over, close the rest */
		watch_free(a->writable);
		a->writable = NULL;
		a->fd = -1;
		d->active--;
		finish(d, fd, 0);
		return;
	}
	d->last_err = -soerr;
	close_attempt(a);
	advance(d); /* a failure starts the next at once (RFC 8305 §5) */
}

static void on_stagger(void *arg)
{
	struct dial *d = arg;

	start_one(d);
	if (d->next < d->addrs.n)
		watch_start_timer(d->stagger, DIAL_STAGGER_MS);
}

static void on_timer(void *arg)
{
	struct dial *d = arg;

	if (d->failed)
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
	d->fn = fn;
	d->arg = arg;
	d->last_err = -EHOSTUNREACH;
	for (size_t i = 0; i < DIAL_MAX_ATTEMPTS; i++) {
		d->attempt[i].d = d;
		d->attempt[i].fd = -1;
	}
	d->timer = watch_new_timer(loop, on_timer, d);
	d->stagger = watch_new_timer(loop, on_stagger, d);
	if (d->timer == NULL || d->stagger == NULL ||
	    watch_start_timer(d->timer, timeout_ms) < 0) {
		release(d);
		return -ENOMEM;
	}
	advance(d);
	return 0;
}

void dial_cancel(struct dial *d)
{
	release(d);
}
