/*
 * A tiny loopback HTTP/1.1 origin for the benchmarks: one thread, epoll,
 * keep-alive and pipelining. Every request (any method, any path) gets
 * `200 OK` with a fixed body of BYTES bytes. A request with a body is not
 * supported (it is read as garbage and the connection closed). The
 * connection is closed after the response when the request says
 * `Connection: close`, or is HTTP/1.0 without `keep-alive`.
 *
 *   cc -O2 -o origin bench/origin.c
 *   ./origin PORT [BYTES]      # PORT 0: the kernel picks one
 *
 * Prints `listening on 127.0.0.1:PORT` on stdout when ready; binds
 * 127.0.0.1 only. Stops on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 16384
#define MAXFD 65536

struct conn {
	char in[BUFSZ];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	int close_after;
};

static struct conn *conns[MAXFD];
static char *resp;
static size_t resplen;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (conns[fd]) {
		free(conns[fd]->out);
		free(conns[fd]);
		conns[fd] = NULL;
	}
}

/* true when head (lowercased copy) says the connection should close */
static int wants_close(const char *head, size_t len)
{
	char *low = malloc(len + 1);
	int http10, ka, cl;
	if (!low)
		return 1;
	for (size_t i = 0; i < len; i++)
		low[i] = (head[i] >= 'A' && head[i] <= 'Z') ? head[i] + 32
							    : head[i];
	low[len] = 0;
	char *eol = strstr(low, "\r\n");
	http10 = eol && eol - low >= 8 && memcmp(eol - 8, "http/1.0", 8) == 0;
	cl = strstr(low, "\r\nconnection: close") != NULL ||
	     strstr(low, "\r\nconnection:close") != NULL;
	ka = strstr(low, "keep-alive") != NULL;
	free(low);
	return cl || (http10 && !ka);
}

static int queue(struct conn *c)
{
	if (c->outlen + resplen > c->outcap) {
		size_t cap = (c->outlen + resplen) * 2;
		char *p = realloc(c->out, cap);
		if (!p)
			return -1;
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, resp, resplen);
	c->outlen += resplen;
	return 0;
}

/* write what is queued; -1: drop the connection, 1: done and must close */
static int flush(int ep, int fd, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n =
			write(fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0) {
			if (errno == EAGAIN) {
				struct epoll_event ev = {.events = EPOLLIN |
								   EPOLLOUT,
							 .data.fd = fd};
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				return 0;
			}
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	return c->close_after ? 1 : 0;
}

static void readable(int ep, int fd, struct conn *c)
{
	for (;;) {
		if (c->inlen == BUFSZ) {
			drop(ep, fd);
			return;
		}
		ssize_t n = read(fd, c->in + c->inlen, BUFSZ - c->inlen);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			drop(ep, fd);
			return;
		}
		if (n < 0)
			break;
		c->inlen += (size_t)n;
	}
	size_t off = 0;
	while (!c->close_after) {
		char *end = memmem(c->in + off, c->inlen - off, "\r\n\r\n", 4);
		if (!end)
			break;
		size_t hlen = (size_t)(end - (c->in + off)) + 4;
		c->close_after = wants_close(c->in + off, hlen);
		if (queue(c) < 0) {
			drop(ep, fd);
			return;
		}
		off += hlen;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	int r = flush(ep, fd, c);
	if (r != 0) {
		if (r == 1)
			shutdown(fd, SHUT_WR);
		drop(ep, fd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: origin PORT [BYTES]\n");
		return 2;
	}
	int port = atoi(argv[1]);
	long bytes = argc > 2 ? atol(argv[2]) : 1024;
	if (bytes < 0 || bytes > 1 << 20)
		bytes = 1024;
	resp = malloc(256 + (size_t)bytes);
	resplen = (size_t)sprintf(
		resp,
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		"Content-Length: %ld\r\n\r\n",
		bytes);
	memset(resp + resplen, 'x', (size_t)bytes);
	resplen += (size_t)bytes;

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(ls, 1024) < 0) {
		perror("origin: bind/listen");
		return 1;
	}
	socklen_t al = sizeof a;
	getsockname(ls, (struct sockaddr *)&a, &al);
	printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	struct epoll_event evs[256];
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, 500);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL,
						    SOCK_NONBLOCK)) >= 0) {
					if (c >= MAXFD) {
						close(c);
						continue;
					}
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof one);
					conns[c] =
						calloc(1, sizeof(struct conn));
					if (!conns[c]) {
						close(c);
						continue;
					}
					struct epoll_event cev = {
						.events = EPOLLIN,
						.data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			struct conn *c = conns[fd];
			if (!c)
				continue;
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				drop(ep, fd);
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				int r = flush(ep, fd, c);
				if (r != 0) {
					drop(ep, fd);
					continue;
				}
			}
			if (evs[i].events & EPOLLIN)
				readable(ep, fd, c);
		}
	}
	return 0;
}
