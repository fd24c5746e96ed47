/*
 * replay.c - a plain main() for the fuzz targets, so that `make fuzz-replay`
 * runs every committed corpus under the sanitizers without clang or
 * libFuzzer.
 *
 * Each argument is a file or a directory of files; every file is fed once
 * to LLVMFuzzerTestOneInput, directories in name order. A target signals a
 * broken invariant by aborting, which the sanitizers report. Exits non-zero
 * when an argument cannot be read or names an empty directory: a corpus that
 * is not there must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into a heap buffer of exactly its size. */
static int feed_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* +1: malloc(0) may return NULL; the target sees only size bytes */
	data = malloc((size_t)size + 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds every regular file in dir; returns how many, or -1. */
static long feed_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long fed = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, cap * sizeof(*names));
			if (more == NULL)
				abort();
			names = more;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + 1 + strlen(names[i]) + 1;
		char *path = malloc(len);
		struct stat st;

		if (path == NULL)
			abort();
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (feed_file(path) < 0)
				fed = -1;
			else if (fed >= 0)
				fed++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return fed;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long fed;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			fed = feed_dir(argv[i]);
		} else {
			fed = feed_file(argv[i]) < 0 ? -1 : 1;
		}
		if (fed <= 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				fed == 0 ? "no inputs" : "unreadable input");
			status = 1;
			continue;
		}
		printf("replayed %ld inputs from %s\n", fed, argv[i]);
	}
	return status;
}
