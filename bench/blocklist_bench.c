/*
 * blocklist_bench.c - the cost of the domain set: load time, memory and
 * lookup time, for the lists named on the command line.
 *
 *   build/bench/blocklist_bench LIST...
 *
 * Load time covers reading the files, parsing and compiling. Memory is the
 * compiled set's own count (blocklist_memory) and the process's resident
 * growth across the load. Lookups are of five-label names: "listed" ones
 * are a listed name under enough extra labels to make five (blocked through
 * a parent, the walk stops at the rule), "unlisted" ones are made up (the
 * walk probes every label). Times are per lookup, the median over batches.
 */
#include "policy/blocklist.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH	 1000
#define BATCHES	 1000
#define NAME_CAP 300

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t random_label(char *out)
{
	size_t n = 3 + next_rand() % 8;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)('a' + next_rand() % 26);
	return n;
}

static size_t count_labels(const char *s)
{
	size_t n = 1;

	for (; *s != '\0'; s++)
		n += *s == '.';
	return n;
}

/* Median ns per lookup over BATCHES batches of names[]. */
static double time_lookups(const struct blocklist *bl, char (*names)[NAME_CAP],
			   size_t n_names, size_t *blocked)
{
	static double per[BATCHES];
	struct blocklist_verdict v;

	*blocked = 0;
	for (size_t b = 0; b < BATCHES; b++) {
		size_t base = (b * BATCH) % n_names;
		double t0 = now_ns();
		for (size_t i = 0; i < BATCH; i++) {
			const char *q = names[(base + i) % n_names];
			*blocked += blocklist_match(bl, q, strlen(q), &v);
		}
		per[b] = (now_ns() - t0) / BATCH;
	}
	qsort(per, BATCHES, sizeof(*per), cmp_double);
	return per[BATCHES / 2];
}

int main(int argc, char **argv)
{
	struct blocklist_builder *b = blocklist_builder_new();
	struct blocklist_stats st;
	struct blocklist *bl;
	size_t n_names = BATCH * BATCHES / 4;
	char(*listed)[NAME_CAP] = calloc(n_names, NAME_CAP);
	char(*unlisted)[NAME_CAP] = calloc(n_names, NAME_CAP);
	size_t n_listed = 0, blocked;
	long rss0;
	double t0, load_ms, pick_ns = 0;

	if (argc < 2 || b == NULL || listed == NULL || unlisted == NULL) {
		fprintf(stderr, "usage: blocklist_bench LIST...\n");
		return 2;
	}
	/* fault the query arrays in now, so the load does not pay for it */
	memset(listed, 0, n_names * NAME_CAP);
	memset(unlisted, 0, n_names * NAME_CAP);
	rss0 = rss_kib();
	t0 = now_ns();
	for (int i = 1; i < argc; i++) {
		size_t len;
		char *text = read_all(argv[i], &len);
		if (text == NULL ||
		    blocklist_builder_add(b, argv[i], text, len, 0, &st) < 0) {
			fprintf(stderr, "cannot load %s\n", argv[i]);
			return 1;
		}
		printf("%s: %llu loaded, %llu duplicates, %llu local, %llu "
		       "skipped (%llu lines)\n",
		       argv[i], (unsigned long long)st.loaded,
		       (unsigned long long)st.duplicates,
		       (unsigned long long)st.local,
		       (unsigned long long)st.skipped,
		       (unsigned long long)st.lines);
		/* keep listed names of 2-4 labels to build queries from */
		double p0 = now_ns();
		for (size_t off = 0; off < len && n_listed < n_names;) {
			char *nl = memchr(text + off, '\n', len - off);
			size_t n = nl ? (size_t)(nl - text - off) : len - off;
			char *sp = memchr(text + off, ' ', n);
			const char *w = sp ? sp + 1 : text + off;
			size_t wn = sp ? n - (size_t)(sp + 1 - text - off) : n;
			if (wn > 4 && wn < 200 && w[0] != '#' && w[0] != '!') {
				char *q = listed[n_listed];
				if (w[0] == '|')
					w += 2, wn -= 3;
				memcpy(q + 100, w, wn);
				q[100 + wn] = '\0';
				if (count_labels(q + 100) <= 4)
					n_listed++;
			}
			off += n + 1;
		}
		pick_ns += now_ns() - p0;
		free(text);
	}
	bl = blocklist_build(b);
	load_ms = (now_ns() - t0 - pick_ns) / 1e6;
	if (bl == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("rules: %zu from %zu lists\n", blocklist_count(bl),
	       blocklist_list_count(bl));
	printf("load: %.0f ms (read, parse, compile)\n", load_ms);
	printf("memory: %.1f MiB compiled set; process RSS grew %.1f MiB\n",
	       (double)blocklist_memory(bl) / (1 << 20),
	       (double)(rss_kib() - rss0) / 1024);

	/* five-label queries: extra labels in front of listed names */
	for (size_t i = 0; i < n_listed; i++) {
		char *q = listed[i] + 100;
		while (count_labels(q) < 5) {
			char label[16];
			size_t n = random_label(label);
			q -= n + 1;
			memcpy(q, label, n);
			q[n] = '.';
		}
		memmove(listed[i], q, strlen(q) + 1);
	}
	for (size_t i = 0; i < n_names; i++) {
		size_t pos = 0;
		for (int l = 0; l < 5; l++) {
			if (l > 0)
				unlisted[i][pos++] = '.';
			pos += random_label(unlisted[i] + pos);
		}
		unlisted[i][pos] = '\0';
	}
	if (n_listed > 0) {
		double ns = time_lookups(bl, listed, n_listed, &blocked);
		printf("lookup, listed parent: %.0f ns median (%zu of %d "
		       "blocked)\n",
		       ns, blocked, BATCH * BATCHES);
	}
	double ns = time_lookups(bl, unlisted, n_names, &blocked);
	printf("lookup, not listed:    %.0f ns median (%zu of %d blocked)\n",
	       ns, blocked, BATCH * BATCHES);
	blocklist_free(bl);
	free(listed);
	free(unlisted);
	return 0;
}
