/*
 * pump.c - see pump.h.
 *
 * The pump is a small state machine run by pump_step(): deliver what is
 * held (buffer, then pipe), else read more, else pass EOF on. Each step
 * leaves exactly one of the two watches active, which is the backpressure:
 * while the destination cannot take bytes, nobody reads the source.
 */
#include "net/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void pump_step(struct pump *p);

static void on_readable(void *arg)
{
	pump_step(arg);
}

static void on_writable(void *arg)
{
	pump_step(arg);
}

int pump_init(struct pump *p, struct loop *loop, struct pipe_pool *pipes,
	      int src, int dst, pump_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->pipes = pipes;
	p->src = src;
	p->dst = dst;
	p->pipe[0] = p->pipe[1] = -1;
	p->fn = fn;
	p->arg = arg;
	p->last_ms = loop_now_ms(loop);
	p->readable = watch_new_read(loop, src, on_readable, p);
	p->writable = watch_new_write(loop, dst, on_writable, p);
	if (p->readable == NULL || p->writable == NULL) {
		pump_deinit(p);
		return -ENOMEM;
	}
	return 0;
}

int pump_preload(struct pump *p, const char *data, size_t len)
{
	char *nb;

	if (len == 0)
		return 0;
	nb = realloc(p->buf, p->buf_len + len);
	if (nb == NULL)
		return -ENOMEM;
	memcpy(nb + p->buf_len, data, len);
	p->buf = nb;
	p->buf_len += len;
	return 0;
}

int pump_start(struct pump *p)
{
	/* the first step may run into EAGAIN at once; let the loop drive it */
	return p->buf_len > 0 ? watch_start(p->writable)
			      : watch_start(p->readable);
}

static void drop_buf(struct pump *p)
{
	free(p->buf);
	p->buf = NULL;
	p->buf_off = p->buf_len = 0;
}

static void release_pipe(struct pump *p)
{
	if (p->pipe[0] >= 0)
		pipe_pool_put(p->pipes, p->pipe, p->in_pipe == 0);
	p->in_pipe = 0;
}

void pump_deinit(struct pump *p)
{
	if (p->pipes == NULL)
		return; /* never initialised, or released already */
	watch_free(p->readable);
	watch_free(p->writable);
	p->readable = p->writable = NULL;
	release_pipe(p);
	drop_buf(p);
	p->pipes = NULL; /* bytes and last_ms stay readable */
}

static void want(struct pump *p, bool write)
{
	if (write) {
		watch_stop(p->readable);
		watch_start(p->writable);
	} else {
		watch_stop(p->writable);
		watch_start(p->readable);
	}
}

static void finish(struct pump *p, enum pump_event ev, int err)
{
	watch_stop(p->readable);
	watch_stop(p->writable);
	p->finished = true;
	p->fn(p->arg, p, ev, err); /* may free p: nothing after this */
}

/* 1 moved bytes, 0 would block, -errno failed. */
static int deliver_buf(struct pump *p)
{
	ssize_t n = send(p->dst, p->buf + p->buf_off, p->buf_len - p->buf_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	p->buf_off += (size_t)n;
	p->bytes += (uint64_t)n;
	if (p->buf_off == p->buf_len)
		drop_buf(p);
	return 1;
}

static int deliver_pipe(struct pump *p)
{
	ssize_t n = splice(p->pipe[0], NULL, p->dst, NULL, p->in_pipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n <= 0) /* 0 cannot happen with bytes in the pipe; never spin */
		return n == 0 || errno == EAGAIN || errno == EINTR ? 0 : -errno;
	p->in_pipe -= (size_t)n;
	p->bytes += (uint64_t)n;
	if (p->in_pipe == 0)
		release_pipe(p); /* idle tunnels hold no pipe */
	return 1;
}

#define FILL_EOF 2

/* 1 read bytes, 0 would block, FILL_EOF, else -errno. */
static int fill(struct pump *p)
{
	ssize_t n;

	if (!p->no_splice && p->pipe[0] < 0 &&
	    pipe_pool_get(p->pipes, p->pipe) < 0)
		p->pipe[0] = p->pipe[1] = -1; /* out of fds: copy this time */
	if (!p->no_splice && p->pipe[0] >= 0) {
		n = splice(p->src, NULL, p->pipe[1], NULL, PUMP_CHUNK_BYTES,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			p->in_pipe = (size_t)n;
			return 1;
		}
		if (n < 0 && errno == EINVAL) {
			p->no_splice = true; /* fd type splice cannot serve */
			release_pipe(p);
		} else if (n == 0) {
			release_pipe(p);
			return FILL_EOF;
		} else {
			int err = errno;
			release_pipe(p);
			return err == EAGAIN || err == EINTR ? 0 : -err;
		}
	}
	p->buf = malloc(PUMP_CHUNK_BYTES);
	if (p->buf == NULL)
		return -ENOMEM;
	n = recv(p->src, p->buf, PUMP_CHUNK_BYTES, MSG_DONTWAIT);
	if (n <= 0) {
		int err = errno;
		drop_buf(p);
		if (n == 0)
			return FILL_EOF;
		return err == EAGAIN || err == EINTR ? 0 : -err;
	}
	p->buf_len = (size_t)n;
	return 1;
}

static void pump_step(struct pump *p)
{
	uint64_t start = p->bytes;
	int rc;

	while (p->bytes - start < PUMP_BUDGET_BYTES) {
		if (p->buf_len > 0 || p->in_pipe > 0) {
			rc = p->buf_len > 0 ? deliver_buf(p) : deliver_pipe(p);
			if (rc < 0) {
				finish(p, PUMP_ERROR, rc);
				return;
			}
			if (rc == 0) {
				want(p, true);
				return;
			}
			p->last_ms = loop_now_ms(p->loop);
			continue;
		}
		if (p->src_eof) {
			/* everything delivered: carry the half-close on */
			shutdown(p->dst, SHUT_WR);
			finish(p, PUMP_DONE, 0);
			return;
		}
		rc = fill(p);
		if (rc == FILL_EOF) {
			p->src_eof = true;
			continue;
		}
		if (rc < 0) {
			finish(p, PUMP_ERROR, rc);
			return;
		}
		if (rc == 0) {
			want(p, false);
			return;
		}
		p->last_ms = loop_now_ms(p->loop);
	}
	/* budget spent: come back on the next loop turn */
	want(p, p->buf_len > 0 || p->in_pipe > 0);
}
