/*
 * lists.h - the lists a config names, read and compiled into one
 * blocklist: files, globs, the cached copies of lists given by URL, and the
 * built-in set. Runs at start, for --check-config and --explain, and on
 * every reload, never on a worker: it reads files and takes its time.
 */
#ifndef SLUICE_PROXY_LISTS_H
#define SLUICE_PROXY_LISTS_H

#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

struct blocklist;

/* Largest list file read (a million domains is about 30 MB). */
#define LISTS_FILE_MAX (1024UL * 1024 * 1024)
#define LISTS_ERR_MAX  (CONFIG_ERR_MAX + CONFIG_PATH_MAX)

/* Receives one line of the load summary ("blocklist X: N loaded, ..."). */
typedef void (*lists_report_fn)(void *arg, bool warning, const char *line);

/* A lists_report_fn that writes to the error log (info, or warn). */
void lists_report_to_log(void *arg, bool warning, const char *line);

/*
 * Reads and compiles every list of cfg. Returns 0 and sets *out (NULL when
 * blocking is off), or -1 with "where: blocklist X: reason" in
 * err[LISTS_ERR_MAX]: a file that cannot be read, or no memory. A glob that
 * matches nothing and a URL list not fetched yet are reported as warnings,
 * not errors.
 */
int lists_load(const struct config *cfg, lists_report_fn report, void *arg,
	       struct blocklist **out, char *err);

/* Is source a URL (http:// or https://)? */
bool lists_is_url(const char *source);

/* Where the copy of the list at url is kept: in cfg->blocklist_cache. */
void lists_cache_path(const struct config *cfg, const char *url, char *out,
		      size_t cap);

/*
 * The text of line `line` of the list named list_name in a verdict, into
 * out[cap] (empty when it cannot be read).
 */
void lists_rule_text(const struct config *cfg, const char *list_name,
		     uint32_t line, char *out, size_t cap);

/*
 * Reads a whole regular file of at most max bytes into a new buffer, with
 * a NUL after it. Returns NULL and sets errno.
 */
char *lists_read_file(const char *path, size_t max, size_t *len);

#endif
