/*
 * relay.c - the floor under any proxy's per-request cost: a blind TCP
 * relay. Each accepted connection is paired with one connection to an
 * origin on loopback (the CONNECT target's port, or a fixed origin for
 * anything else), and bytes are copied both ways with recv and send as
 * they come.
 * It parses nothing, checks nothing, pools nothing: it is what a proxy
 * would cost if all it did was move the bytes of a keep-alive exchange.
 * The benchmark runs it beside the proxies (target "relay") so a CPU goal
 * can be held against what the kernel alone charges on this machine.
 *
 * usage: relay LISTEN_PORT ORIGIN_PORT [THREADS]   (both on 127.0.0.1)
 * Prints "listening on 127.0.0.1:PORT" once ready (port 0 picks one).
 * One epoll loop per thread, each with its own SO_REUSEPORT listener.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_BYTES (64 * 1024)

struct end {
	int fd;
	struct end *peer;
};

static int listen_port, origin_port;

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
		perror("relay: listen");
		exit(1);
	}
	return fd;
}

/* Freed after the epoll batch: the peer may have an event in it too. */
static __thread struct end *dead[512];
static __thread int ndead;

static void close_pair(struct end *e)
{
	close(e->fd);
	e->fd = -1;
	if (e->peer) {
		close(e->peer->fd);
		e->peer->fd = -1;
	}
	dead[ndead++] = e;
}

static void on_accept(int ep, int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int one = 1;

	if (c < 0)
		return;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct end *a = calloc(1, sizeof(*a));
	if (!a) {
		close(c);
		return;
	}
	a->fd = c; /* no peer until the first bytes say where to */
	struct epoll_event ea = {.events = EPOLLIN, .data.ptr = a};
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &ea);
}

/*
 * The client's first bytes choose the origin: "CONNECT host:PORT ..." goes
 * to 127.0.0.1:PORT and is answered 200 (the head must come in one read,
 * true of every client the benchmark runs); anything else goes, unread and
 * unchanged, to the fixed origin. Returns the bytes to forward, or -1.
 */
static ssize_t dial(int ep, struct end *a, char *buf, ssize_t n)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int port = origin_port;
	ssize_t skip = 0;

	if (n > 8 && memcmp(buf, "CONNECT ", 8) == 0) {
		char *end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
		char *sp = memchr(buf + 8, ' ', (size_t)n - 8);
		char *colon = sp ? memrchr(buf + 8, ':', (size_t)(sp - buf - 8))
				 : NULL;
		if (!end || !colon)
			return -1;
		port = atoi(colon + 1);
		skip = end + 4 - buf;
	}
	struct sockaddr_in o = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct end *b = calloc(1, sizeof(*b));
	int t = tcp_socket();
	if (!b || t < 0 || connect(t, (struct sockaddr *)&o, sizeof(o)) < 0) {
		free(b);
		if (t >= 0)
			close(t);
		return -1;
	}
	*b = (struct end){.fd = t, .peer = a};
	a->peer = b;
	struct epoll_event eb = {.events = EPOLLIN, .data.ptr = b};
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &eb);
	if (skip && send(a->fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) < 0)
		return -1;
	memmove(buf, buf + skip, (size_t)(n - skip));
	return n - skip;
}

/* Copies what src has; a blocking send keeps it simple and is never slow
 * here: a request or a 1 KiB response always fits the peer's buffer. */
static void on_readable(int ep, struct end *e, char *buf)
{
	if (e->fd < 0)
		return;
	ssize_t n = recv(e->fd, buf, BUF_BYTES, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_pair(e); /* close removes both from the epoll set */
		return;
	}
	if (n > 0 && !e->peer && (n = dial(ep, e, buf, n)) < 0) {
		close_pair(e);
		return;
	}
	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = send(e->peer->fd, buf + off, (size_t)(n - off),
				 MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close_pair(e);
			return;
		}
		off += w;
	}
}

static void *loop(void *arg)
{
	int lfd = *(int *)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct epoll_event evs[256];
	static __thread char buf[BUF_BYTES];

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				on_accept(ep, lfd);
			else
				on_readable(ep, evs[i].data.ptr, buf);
		}
		for (; ndead > 0; ndead--) { /* the pair, or a lone client */
			free(dead[ndead - 1]->peer);
			free(dead[ndead - 1]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
			"usage: relay LISTEN_PORT ORIGIN_PORT [THREADS]\n");
		return 2;
	}
	listen_port = atoi(argv[1]);
	origin_port = atoi(argv[2]);
	int threads = argc > 3 ? atoi(argv[3]) : 2;
	if (threads < 1 || threads > 64)
		threads = 2;

	/* The first listener fixes the port; the others share it. */
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
