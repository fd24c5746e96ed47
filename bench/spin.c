/*
 * spin.c - burns a fixed share of one CPU and does nothing else: no
 * system call in its busy part, no memory traffic. Run beside a direct
 * transfer, it shows what the work of any third process costs the other
 * two on this machine, apart from what that process does (see RESULTS.md,
 * "What the goals that failed mean").
 *
 * usage: spin SHARE SECONDS   e.g. spin 0.4 30: busy 0.4 ms of every 1 ms
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: spin SHARE SECONDS\n");
		return 2;
	}
	double share = atof(argv[1]), end = now() + atof(argv[2]);
	if (share < 0 || share > 1) {
		fprintf(stderr, "spin: SHARE is between 0 and 1\n");
		return 2;
	}
	struct timespec rest = {0, (long)((1 - share) * 1e6)};

	while (now() < end) {
		double t0 = now();
		while (now() - t0 < share * 1e-3)
			;
		nanosleep(&rest, NULL);
	}
	return 0;
}
