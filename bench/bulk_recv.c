/*
 * bulk_recv - a receiver that costs little: GET one URL path from a
 * loopback origin, directly or through a proxy's CONNECT tunnel, reading
 * with 1 MiB reads and discarding the bytes; prints bytes and MB/s
 * (10^6 B/s, from the request to the last byte). curl, by comparison,
 * reads 100 KiB at a time and writes every 8 KiB to its output: on a
 * virtual machine where system calls are dear it, not the proxy, can set
 * the pace (bench/RESULTS.md).
 *
 *   cc -O2 -o bulk_recv bench/bulk_recv.c
 *   ./bulk_recv 127.0.0.1 ORIGIN_PORT /1g [PROXY_PORT]
 *
 * IPv4 literals only; the origin and the proxy on the same address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: bulk_recv ADDR PORT PATH [PROXY_PORT]\n");
		return 2;
	}
	int port = atoi(argv[2]), pport = argc > 4 ? atoi(argv[4]) : 0;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(pport ? pport : port)};
	char req[1024];
	int fd, n;

	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "bulk_recv: not an IPv4 address: %s\n",
			argv[1]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bulk_recv: connect");
		return 1;
	}
	if (pport) {
		n = snprintf(req, sizeof(req),
			     "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
			     argv[1], port, argv[1], port);
		ssize_t r = send_all(fd, req, (size_t)n) < 0
				    ? -1
				    : read(fd, buf, sizeof(buf));
		/* the 200's head comes alone: nothing is sent before our GET */
		if (r < 12 || memcmp(buf + 9, "200", 3) != 0) {
			fprintf(stderr, "bulk_recv: CONNECT refused\n");
			return 1;
		}
	}
	n = snprintf(
		req, sizeof(req),
		"GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
		argv[3], argv[1], port);
	struct timespec t0, t1;
	long long total = 0;
	ssize_t r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (send_all(fd, req, (size_t)n) < 0) {
		perror("bulk_recv: send");
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) +
		   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%lld bytes, %.0f MB/s\n", total, (double)total / s / 1e6);
	return r < 0 ? 1 : 0;
}
