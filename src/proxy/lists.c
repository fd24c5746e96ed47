/*
 * lists.c - see lists.h.
 *
 * A glob is expanded in sorted order, so that which list "wins" a
 * duplicate (and so what a verdict names) does not depend on the order the
 * directory happens to list its files in.
 */
#include "proxy/lists.h"

#include "policy/blocklist.h"
#include "policy/blocklist_builtin.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUILTIN_NAME "builtin"

char *lists_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		errno = S_ISREG(st.st_mode)   ? EFBIG
			: S_ISDIR(st.st_mode) ? EISDIR
					      : ENODATA;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break; /* the file shrank while we read: take what is */
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:;
	int err = errno;
	free(buf);
	close(fd);
	errno = err;
	return NULL;
}

void lists_report_to_log(void *arg, bool warning, const char *line)
{
	(void)arg;
	if (warning)
		log_warn("%s", line);
	else
		log_info("%s", line);
}

bool lists_is_url(const char *source)
{
	return strncmp(source, "http://", 7) == 0 ||
	       strncmp(source, "https://", 8) == 0;
}

void lists_cache_path(const struct config *cfg, const char *url, char *out,
		      size_t cap)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char name[64];
	size_t n = 0;
	const char *p = strstr(url, "://") + 3;

	/* a readable prefix of the URL, and a hash of all of it */
	for (const char *c = url; *c != '\0'; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
	for (; *p != '\0' && n < 40; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-';
		name[n++] = ok ? c : '_';
	}
	name[n] = '\0';
	snprintf(out, cap, "%s/%s-%016llx.list", cfg->blocklist_cache, name,
		 (unsigned long long)h);
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

struct load {
	const struct config *cfg;
	struct blocklist_builder *b;
	lists_report_fn report;
	void *arg;
	char *err;
};

__attribute__((format(printf, 3, 4))) static void
report(struct load *ld, bool warning, const char *fmt, ...)
{
	char line[CONFIG_PATH_MAX + 256];
	va_list ap;

	if (ld->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ld->report(ld->arg, warning, line);
}

/* Adds one list's text. 0, or -1 with ld->err set. */
static int add_text(struct load *ld, const struct config_list *l,
		    const char *name, const char *text, size_t len)
{
	const char *kind = l->allow ? "allowlist" : "blocklist";
	unsigned flags = (l->allow ? BLOCKLIST_ALLOW : 0) |
			 (l->exact ? BLOCKLIST_EXACT : 0);
	struct blocklist_stats st;

	if (blocklist_builder_add(ld->b, name, text, len, flags, &st) < 0) {
		snprintf(ld->err, LISTS_ERR_MAX,
			 "%s: %s %s: out of memory, or more than %d lists",
			 l->where, kind, name, BLOCKLIST_MAX_LISTS);
		return -1;
	}
	report(ld, false,
	       "%s %s: %llu loaded, %llu duplicates, %llu local, %llu "
	       "skipped (%llu lines)",
	       kind, name, (unsigned long long)st.loaded,
	       (unsigned long long)st.duplicates, (unsigned long long)st.local,
	       (unsigned long long)st.skipped, (unsigned long long)st.lines);
	return 0;
}

/* Reads and adds the file at path under name. 0 or -1 (ld->err). */
static int add_file(struct load *ld, const struct config_list *l,
		    const char *name, const char *path)
{
	size_t len;
	char *text = lists_read_file(path, LISTS_FILE_MAX, &len);
	int rc;

	if (text == NULL) {
		snprintf(ld->err, LISTS_ERR_MAX, "%s: %s %s: cannot read: %s",
			 l->where, l->allow ? "allowlist" : "blocklist", path,
			 errno == ENODATA ? "not a regular file"
					  : strerror(errno));
		return -1;
	}
	rc = add_text(ld, l, name, text, len);
	free(text);
	return rc;
}

static int add_glob(struct load *ld, const struct config_list *l)
{
	glob_t g;
	int rc = glob(l->source, GLOB_ERR, NULL, &g);

	if (rc == GLOB_NOMATCH) {
		report(ld, true, "%s: %s %s matches no file", l->where,
		       l->allow ? "allowlist" : "blocklist", l->source);
		return 0;
	}
	if (rc != 0) {
		snprintf(ld->err, LISTS_ERR_MAX, "%s: %s %s: cannot expand: %s",
			 l->where, l->allow ? "allowlist" : "blocklist",
			 l->source, rc == GLOB_NOSPACE ? "no memory" : "error");
		return -1;
	}
	/* glob(3) sorts its matches */
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = add_file(ld, l, g.gl_pathv[i], g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

static int add_url(struct load *ld, const struct config_list *l)
{
	char path[CONFIG_PATH_MAX + 64];
	struct stat st;

	lists_cache_path(ld->cfg, l->source, path, sizeof(path));
	if (stat(path, &st) < 0 && errno == ENOENT) {
		report(ld, true,
		       "%s: %s %s: not fetched yet (no copy in %s); blocking "
		       "without it until it is",
		       l->where, l->allow ? "allowlist" : "blocklist",
		       l->source, ld->cfg->blocklist_cache);
		return 0;
	}
	return add_file(ld, l, l->source, path);
}

int lists_load(const struct config *cfg, lists_report_fn report_fn, void *arg,
	       struct blocklist **out, char *err)
{
	struct load ld = {.cfg = cfg, .report = report_fn, .arg = arg};
	struct timespec t0, t1;
	int rc = 0;

	*out = NULL;
	ld.err = err;
	if (config_blocking_off(cfg))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ld.b = blocklist_builder_new();
	if (ld.b == NULL) {
		snprintf(err, LISTS_ERR_MAX, "blocklists: out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_lists && rc == 0; i++) {
		const struct config_list *l = &cfg->lists[i];
		if (strcmp(l->source, BUILTIN_NAME) == 0) {
			size_t len;
			const char *text = blocklist_builtin_text(&len);
			rc = add_text(&ld, l, BUILTIN_NAME, text, len);
		} else if (lists_is_url(l->source)) {
			rc = add_url(&ld, l);
		} else if (has_glob(l->source)) {
			rc = add_glob(&ld, l);
		} else {
			rc = add_file(&ld, l, l->source, l->source);
		}
	}
	if (rc < 0) {
		blocklist_builder_free(ld.b);
		return -1;
	}
	*out = blocklist_build(ld.b);
	/* the texts and the growing table were freed: hand the heap back */
	malloc_trim(0);
	if (*out == NULL) {
		snprintf(err, LISTS_ERR_MAX, "blocklists: out of memory");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&ld, false,
	       "blocklists: %zu rules from %zu lists, %.1f MiB, compiled in "
	       "%lld ms",
	       blocklist_count(*out), blocklist_list_count(*out),
	       (double)blocklist_memory(*out) / (1024 * 1024),
	       (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
			   (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}

/* Copies line `line` (1-based) of text into out[cap], printable only. */
static void copy_line(const char *text, size_t len, uint32_t line, char *out,
		      size_t cap)
{
	size_t pos = 0, n = 0;

	for (uint32_t i = 1; i < line && pos < len; i++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		pos = nl != NULL ? (size_t)(nl - text) + 1 : len;
	}
	while (pos < len && text[pos] != '\n' && text[pos] != '\r' &&
	       n + 1 < cap) {
		unsigned char c = (unsigned char)text[pos++];
		out[n++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

void lists_rule_text(const struct config *cfg, const char *list_name,
		     uint32_t line, char *out, size_t cap)
{
	char path[CONFIG_PATH_MAX + 64];
	size_t len;
	char *text;

	out[0] = '\0';
	if (strcmp(list_name, BUILTIN_NAME) == 0) {
		const char *t = blocklist_builtin_text(&len);
		copy_line(t, len, line, out, cap);
		return;
	}
	if (lists_is_url(list_name))
		lists_cache_path(cfg, list_name, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", list_name);
	text = lists_read_file(path, LISTS_FILE_MAX, &len);
	if (text == NULL)
		return;
	copy_line(text, len, line, out, cap);
	free(text);
}
