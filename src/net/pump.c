/*
 * pump.c - see pump.h.
 *
 * The pump is a small state machine run by pump_step(): send our prefix,
 * deliver what is held (buffer, then pipe), else read more, else end. Each
 * step leaves exactly one of the two watches active, which is the
 * backpressure: while the destination cannot take bytes, nobody reads the
 * source.
 */
#include "net/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Steps per wake-up, so framers that eat bytes without output still yield */
#define PUMP_STEPS_MAX 64

#define FILL_EOF 2

static void pump_step(struct pump *p);

static void on_ready(void *arg)
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
	p->readable = watch_new_read(loop, src, on_ready, p);
	p->writable = watch_new_write(loop, dst, on_ready, p);
	if (p->readable == NULL || p->writable == NULL) {
		pump_deinit(p);
		return -ENOMEM;
	}
	return 0;
}

void pump_set_length(struct pump *p, uint64_t n)
{
	p->framing = PUMP_LENGTH;
	p->remaining = n;
	p->msg_done = n == 0;
}

void pump_set_framer(struct pump *p, pump_framer_fn fn, void *arg)
{
	p->framing = PUMP_FRAMER;
	p->framer = fn;
	p->framer_arg = arg;
	p->no_splice = true; /* the framer must see every byte */
}

static int append(char **dst, size_t *dst_len, const char *data, size_t len)
{
	char *nb;

	if (len == 0)
		return 0;
	nb = realloc(*dst, *dst_len + len);
	if (nb == NULL)
		return -ENOMEM;
	memcpy(nb + *dst_len, data, len);
	*dst = nb;
	*dst_len += len;
	return 0;
}

int pump_prefix(struct pump *p, const char *data, size_t len)
{
	return append(&p->prefix, &p->prefix_len, data, len);
}

int pump_preload(struct pump *p, const char *data, size_t len)
{
	return append(&p->buf, &p->buf_len, data, len);
}

static void drop_buf(struct pump *p)
{
	free(p->buf);
	p->buf = NULL;
	p->buf_off = p->buf_len = 0;
}

/*
 * Applies the framing to source bytes just taken in, p->buf[buf_off..
 * buf_len): trims them to the message, keeps the rest as leftover.
 * Returns 0 or -errno.
 */
static int take(struct pump *p)
{
	char *data = p->buf + p->buf_off;
	size_t n = p->buf_len - p->buf_off;
	size_t msg = n, out = n;

	if (n == 0 || p->framing == PUMP_UNTIL_EOF)
		return 0;
	if (p->msg_done) {
		msg = out = 0; /* everything is past the end */
	} else if (p->framing == PUMP_LENGTH) {
		if (msg > p->remaining)
			msg = out = (size_t)p->remaining;
		p->remaining -= msg;
		p->msg_done = p->remaining == 0;
	} else {
		bool done = false;
		long c = p->framer(p->framer_arg, data, n, &out, &done);
		if (c < 0)
			return (int)c;
		msg = (size_t)c;
		p->msg_done = done;
	}
	if (msg < n && append(&p->left, &p->left_len, data + msg, n - msg) < 0)
		return -ENOMEM;
	p->buf_len = p->buf_off + out;
	if (p->buf_off == p->buf_len)
		drop_buf(p);
	return 0;
}

int pump_start(struct pump *p)
{
	int rc = take(p);

	if (rc < 0)
		return rc;
	/* bytes to deliver are tried at once from the loop, without first
	 * waiting for the kernel to say the socket is writable (it nearly
	 * always is); an empty message is reported the same way */
	if (p->prefix_len > 0 || p->buf_len > 0 || p->msg_done) {
		watch_kick(p->writable);
		return 0;
	}
	return watch_start(p->readable);
}

void pump_leftover(const struct pump *p, const char **data, size_t *len)
{
	*data = p->left;
	*len = p->left_len;
}

static void release_pipe(struct pump *p)
{
	if (p->pipe[0] >= 0)
		pipe_pool_put(p->pipes, p->pipe, p->in_pipe == 0, p->pipe_big);
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
	free(p->prefix);
	free(p->left);
	p->prefix = p->left = NULL;
	p->prefix_len = p->prefix_off = p->left_len = 0;
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

/* send() what is left of data[*off..len); 1 progress, 0 blocked, -errno */
static int send_some(struct pump *p, const char *data, size_t *off, size_t len)
{
	ssize_t n = send(p->dst, data + *off, len - *off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	*off += (size_t)n;
	return 1;
}

/*
 * Our prefix and the source bytes held behind it (a response head and the
 * body read with it) go out in one sendmsg. 1 progress, 0 blocked, -errno.
 */
static int deliver_prefix(struct pump *p)
{
	struct iovec iov[2] = {
		{p->prefix + p->prefix_off, p->prefix_len - p->prefix_off},
		{NULL, 0},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 1};
	ssize_t n;
	size_t sent, head;

	if (p->buf_len > 0) { /* p->buf is NULL otherwise */
		iov[1].iov_base = p->buf + p->buf_off;
		iov[1].iov_len = p->buf_len - p->buf_off;
		msg.msg_iovlen = 2;
	}
	n = sendmsg(p->dst, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	sent = (size_t)n;
	head = sent < iov[0].iov_len ? sent : iov[0].iov_len;
	p->prefix_off += head;
	if (p->prefix_off == p->prefix_len) {
		free(p->prefix);
		p->prefix = NULL;
		p->prefix_off = p->prefix_len = 0;
	}
	if (sent > head) {
		p->buf_off += sent - head;
		p->bytes += sent - head;
		if (p->buf_off == p->buf_len)
			drop_buf(p);
	}
	return 1;
}

static int deliver_buf(struct pump *p)
{
	size_t before = p->buf_off;
	int rc = send_some(p, p->buf, &p->buf_off, p->buf_len);

	p->bytes += p->buf_off - before;
	if (p->buf_off == p->buf_len)
		drop_buf(p);
	return rc;
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

/* How many source bytes one splice (or copy) may take. */
static size_t read_size(const struct pump *p, size_t max)
{
	if (p->framing == PUMP_LENGTH && p->remaining < max)
		return (size_t)p->remaining;
	return max;
}

/* 1 read bytes, 0 would block, FILL_EOF, else -errno. */
static int fill_pipe(struct pump *p)
{
	ssize_t n;
	int err;

	if (p->pipe[0] < 0 &&
	    pipe_pool_get(p->pipes, p->pipe, &p->pipe_big) < 0) {
		p->pipe[0] = p->pipe[1] = -1;
		return -ENFILE; /* caller copies this time */
	}
	size_t want_bytes = read_size(p, p->pipe_big ? PIPE_POOL_BIG_BYTES
						     : PUMP_PIPE_BYTES);

	n = splice(p->src, NULL, p->pipe[1], NULL, want_bytes,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		p->in_pipe = (size_t)n;
		p->drained = (size_t)n < want_bytes;
		if (p->framing == PUMP_LENGTH) {
			p->remaining -= (uint64_t)n;
			p->msg_done = p->remaining == 0;
		}
		return 1;
	}
	err = n == 0 ? 0 : errno;
	release_pipe(p);
	if (n == 0)
		return FILL_EOF;
	if (err == EINVAL) {
		p->no_splice = true; /* fd type splice cannot serve */
		return -ENFILE;
	}
	return err == EAGAIN || err == EINTR ? 0 : -err;
}

/* Each worker thread reads copies here first, then keeps only what came. */
static _Thread_local char copy_area[PUMP_COPY_BYTES];

static int fill_copy(struct pump *p)
{
	size_t want_bytes =
		read_size(p, p->bulk ? PUMP_COPY_BYTES : PUMP_SMALL_BYTES);
	ssize_t n = recv(p->src, copy_area, want_bytes, MSG_DONTWAIT);
	int err;

	if (n <= 0) {
		if (n == 0)
			return FILL_EOF;
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	p->buf = malloc((size_t)n);
	if (p->buf == NULL)
		return -ENOMEM; /* the bytes are lost: the pump fails */
	memcpy(p->buf, copy_area, (size_t)n);
	p->buf_len = (size_t)n;
	p->drained = (size_t)n < want_bytes;
	/* a full read: bulk from now on, spliced where it can be */
	p->bulk = p->bulk || !p->drained;
	err = take(p);
	return err < 0 ? err : 1;
}

static int fill(struct pump *p)
{
	int rc = -ENFILE;

	if (p->bulk && !p->no_splice)
		rc = fill_pipe(p);
	if (rc == -ENFILE) /* no pipe to be had, or splice refused */
		rc = fill_copy(p);
	if (rc == FILL_EOF && p->framing != PUMP_UNTIL_EOF)
		return -ECONNABORTED; /* the message was cut short */
	return rc;
}

static void pump_step(struct pump *p)
{
	uint64_t start = p->bytes;
	int rc;

	for (int steps = 0;
	     steps < PUMP_STEPS_MAX && p->bytes - start < PUMP_BUDGET_BYTES;
	     steps++) {
		if (p->prefix_len > 0 || p->buf_len > 0 || p->in_pipe > 0) {
			if (p->prefix_len > 0)
				rc = deliver_prefix(p);
			else if (p->buf_len > 0)
				rc = deliver_buf(p);
			else
				rc = deliver_pipe(p);
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
		if (p->framing != PUMP_UNTIL_EOF && p->msg_done) {
			finish(p, PUMP_DONE, 0); /* the message is through */
			return;
		}
		if (p->src_eof) {
			/* everything delivered: carry the half-close on */
			if (p->twin == NULL || !p->twin->finished)
				shutdown(p->dst, SHUT_WR);
			finish(p, PUMP_DONE, 0);
			return;
		}
		if (p->drained) {
			/* a short read emptied the socket: another would most
			 * likely fail; the (level-triggered) watch tells when
			 * more, or the EOF, is there */
			p->drained = false;
			want(p, false);
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
	want(p, p->prefix_len > 0 || p->buf_len > 0 || p->in_pipe > 0 ||
			p->msg_done);
}
