/*
 * relay_uring.c - the blind TCP relay of relay.c (plain-HTTP case only:
 * every client goes to the fixed origin), driven by io_uring instead of
 * epoll + recv/send, to see what io_uring does to the per-request floor.
 *
 * Not part of the benchmark's targets: an experiment, recorded in
 * bench/RESULTS.md ("What the goals that failed mean"). Build it by hand:
 *   apt-get install liburing-dev
 *   gcc -O2 -o relay_uring bench/relay_uring.c -luring -lpthread
 *
 * usage: relay_uring LISTEN_PORT ORIGIN_PORT [THREADS]  (both on 127.0.0.1)
 * Prints "listening on 127.0.0.1:PORT" once ready (port 0 picks one).
 *
 * One ring per thread, each with its own SO_REUSEPORT listener and a
 * multishot accept on it. An accepted client is connected (blocking, as
 * relay.c does) to the origin at once. Then, per socket:
 *   mode "multi" (default): one multishot recv with a provided-buffer ring
 *     (IOSQE_BUFFER_SELECT), armed once and left armed. Each recv
 *     completion queues its buffer on the peer's send FIFO; at most one
 *     send is in flight per direction (keeps byte order; short sends are
 *     resent from the offset); a completed send gives its buffer back to
 *     the ring.
 *   mode "single" (RELAY_URING_MODE=single): one plain recv into the
 *     end's own buffer; when it completes, send to the peer; when the send
 *     has written everything, the recv is armed again.
 * The loop is io_uring_submit_and_wait(ring, 1) then drain all CQEs, so
 * every new SQE rides the next (single) io_uring_enter.
 * Ring flags: SINGLE_ISSUER|DEFER_TASKRUN, else COOP_TASKRUN|TASKRUN_FLAG,
 * else none (RELAY_URING_FLAGS=defer|coop|none forces a start point).
 * EOF or an error on either side shuts both sockets down (so the pending
 * ops complete), and the pair is closed and freed when its last op is in.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define NBUF  1024 /* provided buffers per thread (a power of two) */
#define BUFSZ (16 * 1024)
#define BGID  7

enum { OP_ACCEPT = 0, OP_RECV = 1, OP_SEND = 2 };

struct pair;
struct end {
	int fd;
	struct end *peer;
	struct pair *p;
	/* multi: FIFO of buffer ids received from peer, to write to fd */
	int qhead, qtail;
	int sending; /* a send to fd is in flight */
	int starved; /* multi: recv ended with ENOBUFS, waits for a buffer */
	/* single: data received from this end, to go to peer */
	char *sbuf;
	unsigned slen, soff;
};

struct pair {
	struct end e[2];
	int refs; /* SQEs whose final CQE has not come yet */
	int closing;
};

struct ctx {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	int nxt[NBUF];
	unsigned blen[NBUF], boff[NBUF];
	struct end *starved[4096];
	int nstarved;
	int lfd;
};

static int listen_port, origin_port, single_mode;
static const char *flag_pref;

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int open_listener(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4096) < 0) {
		perror("relay_uring: listen");
		exit(1);
	}
	return fd;
}

static struct io_uring_sqe *get_sqe(struct ctx *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	if (!sqe) { /* SQ full: push what we have, then take a slot */
		io_uring_submit(&c->ring);
		sqe = io_uring_get_sqe(&c->ring);
	}
	return sqe;
}

static void arm_accept(struct ctx *c)
{
	struct io_uring_sqe *sqe = get_sqe(c);

	io_uring_prep_multishot_accept(sqe, c->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

static void arm_recv(struct ctx *c, struct end *e)
{
	struct io_uring_sqe *sqe = get_sqe(c);

	if (single_mode) {
		io_uring_prep_recv(sqe, e->fd, e->sbuf, BUFSZ, 0);
	} else {
		io_uring_prep_recv_multishot(sqe, e->fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)e | OP_RECV);
	e->p->refs++;
}

/* Sends what is owed to dst: the head of its FIFO, or the peer's buffer. */
static void send_head(struct ctx *c, struct end *dst)
{
	struct io_uring_sqe *sqe = get_sqe(c);

	if (single_mode) {
		struct end *src = dst->peer;
		io_uring_prep_send(sqe, dst->fd, src->sbuf + src->soff,
				   src->slen - src->soff, MSG_NOSIGNAL);
	} else {
		int b = dst->qhead;
		io_uring_prep_send(sqe, dst->fd,
				   c->bufs + (size_t)b * BUFSZ + c->boff[b],
				   c->blen[b] - c->boff[b], MSG_NOSIGNAL);
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)dst | OP_SEND);
	dst->sending = 1;
	dst->p->refs++;
}

static void ret_buf(struct ctx *c, int b)
{
	io_uring_buf_ring_add(c->br, c->bufs + (size_t)b * BUFSZ, BUFSZ,
			      (unsigned short)b, io_uring_buf_ring_mask(NBUF),
			      0);
	io_uring_buf_ring_advance(c->br, 1);
	while (c->nstarved > 0) { /* a buffer is back: rearm who ran dry */
		struct end *e = c->starved[--c->nstarved];
		e->starved = 0;
		arm_recv(c, e);
	}
}

static void free_pair(struct pair *p)
{
	close(p->e[0].fd);
	close(p->e[1].fd);
	free(p);
}

static void put(struct pair *p)
{
	if (--p->refs == 0 && p->closing)
		free_pair(p);
}

static void close_pair(struct ctx *c, struct pair *p)
{
	if (p->closing)
		return;
	p->closing = 1;
	/* shutdown wakes the armed recvs (they end with 0) and any send
	 * waiting for room (it fails), so every op of the pair completes */
	shutdown(p->e[0].fd, SHUT_RDWR);
	shutdown(p->e[1].fd, SHUT_RDWR);
	for (int i = 0; i < 2; i++) {
		struct end *e = &p->e[i];
		if (e->starved) {
			for (int k = 0; k < c->nstarved; k++)
				if (c->starved[k] == e)
					c->starved[k] =
						c->starved[--c->nstarved];
			e->starved = 0;
		}
		if (single_mode)
			continue;
		/* give back queued buffers; an in-flight head is given back
		 * when its send completes */
		int b = e->qhead;
		if (e->sending && b >= 0)
			b = c->nxt[b], c->nxt[e->qhead] = -1,
			e->qtail = e->qhead;
		else
			e->qhead = e->qtail = -1;
		while (b >= 0) {
			int n = c->nxt[b];
			ret_buf(c, b);
			b = n;
		}
	}
	if (p->refs == 0)
		free_pair(p);
}

static void on_accept(struct ctx *c, int fd)
{
	struct sockaddr_in o = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)origin_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	size_t extra = single_mode ? 2 * BUFSZ : 0;
	struct pair *p = calloc(1, sizeof(*p) + extra);
	int t = tcp_socket();

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!p || t < 0 || connect(t, (struct sockaddr *)&o, sizeof(o)) < 0) {
		free(p);
		if (t >= 0)
			close(t);
		close(fd);
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct end *e = &p->e[i];
		e->fd = i == 0 ? fd : t;
		e->peer = &p->e[1 - i];
		e->p = p;
		e->qhead = e->qtail = -1;
		if (single_mode)
			e->sbuf = (char *)(p + 1) + (size_t)i * BUFSZ;
	}
	arm_recv(c, &p->e[0]);
	arm_recv(c, &p->e[1]);
}

static void on_recv(struct ctx *c, struct end *e, int res, unsigned flags)
{
	struct pair *p = e->p;
	int more = (flags & IORING_CQE_F_MORE) != 0;

	if (res > 0) {
		struct end *dst = e->peer;
		if (single_mode) {
			e->slen = (unsigned)res;
			e->soff = 0;
			if (!p->closing)
				send_head(c, dst);
		} else {
			int b = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
			if (p->closing) {
				ret_buf(c, b);
			} else {
				c->blen[b] = (unsigned)res;
				c->boff[b] = 0;
				c->nxt[b] = -1;
				if (dst->qtail >= 0)
					c->nxt[dst->qtail] = b;
				else
					dst->qhead = b;
				dst->qtail = b;
				if (!dst->sending)
					send_head(c, dst);
				if (!more)
					arm_recv(c, e); /* multishot ended */
			}
		}
	} else if (res == -ENOBUFS && !p->closing && !single_mode) {
		if (c->nstarved <
		    (int)(sizeof(c->starved) / sizeof(c->starved[0]))) {
			e->starved = 1;
			c->starved[c->nstarved++] = e;
		} else {
			close_pair(c, p);
		}
	} else {
		close_pair(c, p); /* EOF or error */
	}
	if (!more)
		put(p);
}

static void on_send(struct ctx *c, struct end *dst, int res)
{
	struct pair *p = dst->p;

	dst->sending = 0;
	if (single_mode) {
		struct end *src = dst->peer;
		if (res < 0) {
			close_pair(c, p);
		} else if (!p->closing) {
			src->soff += (unsigned)res;
			if (src->soff < src->slen)
				send_head(c, dst); /* short send: the rest */
			else
				arm_recv(c, src);
		}
	} else {
		int b = dst->qhead;
		if (res < 0 || p->closing) {
			dst->qhead = c->nxt[b];
			if (dst->qhead < 0)
				dst->qtail = -1;
			ret_buf(c, b);
			if (res < 0)
				close_pair(c, p);
		} else {
			c->boff[b] += (unsigned)res;
			if (c->boff[b] < c->blen[b]) {
				send_head(c, dst); /* short send: the rest */
			} else {
				dst->qhead = c->nxt[b];
				if (dst->qhead < 0)
					dst->qtail = -1;
				ret_buf(c, b);
				if (dst->qhead >= 0)
					send_head(c, dst);
			}
		}
	}
	put(p);
}

static int setup_ring(struct ctx *c)
{
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, 0};
	static const char *names[] = {"single_issuer|defer_taskrun",
				      "coop_taskrun|taskrun_flag", "none"};
	int start = 0;

	if (flag_pref && strcmp(flag_pref, "coop") == 0)
		start = 1;
	else if (flag_pref && strcmp(flag_pref, "none") == 0)
		start = 2;
	for (int i = start; i < 3; i++) {
		struct io_uring_params pr = {0};
		pr.flags = tries[i] | IORING_SETUP_CQSIZE |
			   IORING_SETUP_SUBMIT_ALL;
		pr.cq_entries = 8192;
		int r = io_uring_queue_init_params(1024, &c->ring, &pr);
		if (r == 0) {
			fprintf(stderr, "relay_uring: ring flags %s, mode %s\n",
				names[i], single_mode ? "single" : "multi");
			return 0;
		}
		fprintf(stderr, "relay_uring: setup %s: %s\n", names[i],
			strerror(-r));
	}
	return -1;
}

static void *loop(void *arg)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		exit(1);
	c->lfd = *(int *)arg;
	if (setup_ring(c) < 0)
		exit(1);
	if (!single_mode) {
		size_t rsz = NBUF * sizeof(struct io_uring_buf);
		c->br = mmap(NULL, rsz, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		c->bufs = malloc((size_t)NBUF * BUFSZ);
		struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)c->br,
					       .ring_entries = NBUF,
					       .bgid = BGID};
		int r;
		if (c->br == MAP_FAILED || !c->bufs ||
		    (r = io_uring_register_buf_ring(&c->ring, &reg, 0)) < 0) {
			fprintf(stderr, "relay_uring: buf ring failed\n");
			exit(1);
		}
		io_uring_buf_ring_init(c->br);
		for (int i = 0; i < NBUF; i++)
			io_uring_buf_ring_add(c->br,
					      c->bufs + (size_t)i * BUFSZ,
					      BUFSZ, (unsigned short)i,
					      io_uring_buf_ring_mask(NBUF), i);
		io_uring_buf_ring_advance(c->br, NBUF);
	}
	arm_accept(c);
	for (;;) {
		int r = io_uring_submit_and_wait(&c->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			fprintf(stderr, "relay_uring: enter: %s\n",
				strerror(-r));
			exit(1);
		}
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&c->ring, head, cqe)
		{
			uint64_t ud = cqe->user_data;
			int op = (int)(ud & 7);
			struct end *e = (struct end *)(uintptr_t)(ud & ~7ULL);
			n++;
			if (op == OP_ACCEPT) {
				if (cqe->res >= 0)
					on_accept(c, cqe->res);
				if (!(cqe->flags & IORING_CQE_F_MORE))
					arm_accept(c);
			} else if (op == OP_RECV) {
				on_recv(c, e, cqe->res, cqe->flags);
			} else {
				on_send(c, e, cqe->res);
			}
		}
		io_uring_cq_advance(&c->ring, n);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: relay_uring LISTEN_PORT ORIGIN_PORT "
				"[THREADS]\n");
		return 2;
	}
	listen_port = atoi(argv[1]);
	origin_port = atoi(argv[2]);
	int threads = argc > 3 ? atoi(argv[3]) : 2;
	if (threads < 1 || threads > 64)
		threads = 2;
	const char *m = getenv("RELAY_URING_MODE");
	single_mode = m && strcmp(m, "single") == 0;
	flag_pref = getenv("RELAY_URING_FLAGS");

	int *fds = calloc((size_t)threads, sizeof(*fds));
	fds[0] = open_listener(listen_port);
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	getsockname(fds[0], (struct sockaddr *)&a, &alen);
	for (int i = 1; i < threads; i++)
		fds[i] = open_listener(ntohs(a.sin_port));
	printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);

	pthread_t t;
	for (int i = 1; i < threads; i++)
		pthread_create(&t, NULL, loop, &fds[i]);
	loop(&fds[0]);
	return 0;
}
