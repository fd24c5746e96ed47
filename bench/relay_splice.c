/*
 * relay_splice.c - the floor under a splicing proxy's bulk cost: a blind
 * relay that moves bytes with blocking splice(2), one thread per
 * direction. The benchmark runs it beside the proxies in scenarios 3 and
 * 4 (target "splice") so their throughput and CPU-per-GiB goals can be
 * held against what the kernel alone charges for splicing on this
 * machine; bench/relay.c, which copies with recv and send, is the floor
 * for small exchanges instead.
 *
 * usage: relay_splice LISTEN_PORT ORIGIN_PORT   (both on 127.0.0.1)
 * Prints "listening on 127.0.0.1:PORT" once ready (port 0 picks one).
 *
 * Each client gets a thread that reads its head. "CONNECT host:PORT ..."
 * goes to 127.0.0.1:PORT (the host is ignored) and is answered 200;
 * anything else goes, unread and unchanged, to the fixed origin. Then
 * bytes move with splice through a 1 MiB pipe per direction, as sluice's
 * large pipes do. Blocking calls need no epoll and no wake-up
 * bookkeeping, so all that is left is the kernel's work: what a splicing
 * proxy could cost at best. A thread per connection is unbounded: fine
 * for the few streams of scenarios 3 and 4, never for a real load.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_BYTES (1024 * 1024)

struct direction {
	int from, to;
};

/* Moves bytes from one socket to the other until EOF or an error. */
static void *splice_one_way(void *arg)
{
	struct direction *d = arg;
	int p[2];

	if (pipe(p) < 0) {
		/* end both directions: the other one would wait for ever */
		shutdown(d->from, SHUT_RDWR);
		shutdown(d->to, SHUT_RDWR);
		return NULL;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
	for (;;) {
		ssize_t n = splice(d->from, NULL, p[1], NULL, PIPE_BYTES,
				   SPLICE_F_MOVE);
		if (n <= 0)
			break;
		while (n > 0) {
			ssize_t m = splice(p[0], NULL, d->to, NULL, (size_t)n,
					   SPLICE_F_MOVE);
			if (m <= 0)
				goto out;
			n -= m;
		}
	}
out:
	shutdown(d->to, SHUT_WR);
	close(p[0]);
	close(p[1]);
	return NULL;
}

static int origin_port;

/*
 * Reads the client's head into buf (up to its blank line, and whatever came
 * with it) and picks the target: the CONNECT line's port, its head then
 * skipped, or else the fixed origin with every byte passed on. No check
 * beyond what the benchmark's clients send. Returns the port, or -1.
 */
static int read_head(int fd, char *buf, size_t size, size_t *len, size_t *skip)
{
	char *end = NULL;

	*len = 0;
	while (end == NULL && *len < size - 1) {
		ssize_t n = recv(fd, buf + *len, size - 1 - *len, 0);
		if (n <= 0)
			return -1;
		*len += (size_t)n;
		buf[*len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL)
		return -1;
	*skip = 0;
	if (strncmp(buf, "CONNECT ", 8) != 0)
		return origin_port;
	const char *sp = strchr(buf + 8, ' ');
	const char *colon =
		sp ? memrchr(buf + 8, ':', (size_t)(sp - buf - 8)) : NULL;
	if (colon == NULL)
		return -1;
	*skip = (size_t)(end + 4 - buf);
	return atoi(colon + 1);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *serve(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int client = (int)(long)arg, target = -1, port;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	pthread_t up_thread;
	char head[4096];
	size_t len, skip;

	port = read_head(client, head, sizeof(head), &len, &skip);
	if (port <= 0 || port > 65535)
		goto done;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target = socket(AF_INET, SOCK_STREAM, 0);
	if (target < 0 ||
	    connect(target, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (skip > 0 && send_all(client, ok, sizeof(ok) - 1) < 0) ||
	    send_all(target, head + skip, len - skip) < 0)
		goto done;

	struct direction up = {client, target}, down = {target, client};
	if (pthread_create(&up_thread, NULL, splice_one_way, &up) != 0)
		goto done;
	splice_one_way(&down);
	pthread_join(up_thread, NULL);
done:
	close(client);
	if (target >= 0)
		close(target);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sa_len = sizeof(sa);
	int one = 1, lfd;

	if (argc != 3) {
		fprintf(stderr,
			"usage: relay_splice LISTEN_PORT ORIGIN_PORT\n");
		return 2;
	}
	origin_port = atoi(argv[2]);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sa_len) < 0) {
		perror("relay_splice: listen");
		return 1;
	}
	printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, serve, (void *)(long)fd) != 0) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}
