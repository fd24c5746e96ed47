/*
 * relay_splice.c - a blind CONNECT relay that splices, blocking, with one
 * thread per direction: the least CPU per GiB any splicing proxy costs on
 * this machine, for scenario 3's CPU goal.
 *
 * Not part of the benchmark's targets: an experiment, recorded in
 * bench/RESULTS.md ("What the goals that failed mean"). Build it by hand:
 *   gcc -O2 -pthread -o relay_splice bench/relay_splice.c
 *
 * usage: relay_splice LISTEN_PORT   (on 127.0.0.1)
 * Prints "listening on 127.0.0.1:PORT" once ready (port 0 picks one).
 *
 * Each client gets a thread that reads its head, takes the port of
 * "CONNECT host:port" (the host is ignored: the target is always
 * 127.0.0.1), connects, answers 200 and then moves bytes with splice(2)
 * through a 1 MiB pipe per direction, as sluice's large pipes do. Blocking
 * calls need no epoll and no wake-up bookkeeping, so all that is left is
 * the kernel's work: what sluice's splicing tunnel could cost at best.
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

	if (pipe(p) < 0)
		return NULL;
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

/* The CONNECT head's port, or -1: no check beyond what the bench sends. */
static int read_connect_port(int fd)
{
	char head[4096];
	size_t len = 0;

	while (len < sizeof(head) - 1) {
		ssize_t n = recv(fd, head + len, sizeof(head) - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n") != NULL)
			break;
	}
	const char *colon = strchr(head, ':');
	if (strncmp(head, "CONNECT ", 8) != 0 || colon == NULL)
		return -1;
	return atoi(colon + 1);
}

static void *serve(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int client = (int)(long)arg, target = -1, port;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	pthread_t up_thread;

	port = read_connect_port(client);
	if (port <= 0 || port > 65535)
		goto done;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target = socket(AF_INET, SOCK_STREAM, 0);
	if (target < 0 ||
	    connect(target, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(client, ok, sizeof(ok) - 1, MSG_NOSIGNAL) < 0)
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

	if (argc != 2) {
		fprintf(stderr, "usage: relay_splice LISTEN_PORT\n");
		return 2;
	}
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
