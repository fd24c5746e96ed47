/*
 * fetch.h - one URL into one file, with libcurl: conditionally (the ETag
 * and Last-Modified of the copy already there), bounded in size and time,
 * replaced atomically. For lists given by URL.
 *
 * Blocking: call it from a thread that may wait, never from a worker.
 * Names resolve through the system's resolver, and the usual proxy
 * environment variables (https_proxy, no_proxy, ...) apply.
 */
#ifndef SLUICE_NET_FETCH_H
#define SLUICE_NET_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum fetch_result {
	FETCH_NEW = 1,	    /* a new copy replaced the file */
	FETCH_NOT_MODIFIED, /* 304: the file is current */
	FETCH_FAILED,	    /* err says why; the file is untouched */
};

struct fetch_limits {
	uint64_t timeout_ms;	     /* the whole transfer */
	uint64_t connect_timeout_ms; /* reaching the server */
	uint64_t max_bytes;	     /* a larger body fails the fetch */
	const atomic_bool *cancel;   /* when set, the transfer stops */
};

/* Once per process, before any thread fetches. 0 or -1. */
int fetch_global_init(void);

/*
 * GETs url into path (via path.tmp, renamed over it), sending
 * If-None-Match from path.etag and If-Modified-Since from path's mtime;
 * the ETag of a new copy goes to path.etag and its Last-Modified becomes
 * path's mtime. err[cap] receives a reason on FETCH_FAILED.
 */
enum fetch_result fetch_to_file(const char *url, const char *path,
				const struct fetch_limits *limits, char *err,
				size_t cap);

#endif
