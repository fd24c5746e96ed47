/*
 * dial.h - non-blocking TCP connect to a list of addresses, in order, with
 * one deadline for the whole attempt. Knows no HTTP.
 *
 * The caller owns struct dial (embedded in its connection object) and must
 * keep it alive until the callback has run or dial_cancel() returned.
 */
#ifndef SLUICE_NET_DIAL_H
#define SLUICE_NET_DIAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/loop.h"

#define DIAL_MAX_ADDRS 16

/*
 * Called exactly once unless cancelled: fd >= 0 is a connected,
 * non-blocking socket now owned by the callee; otherwise err is -errno of
 * the last failure (-ETIMEDOUT when the deadline passed). Never called from
 * inside dial_start().
 */
typedef void (*dial_fn)(void *arg, int fd, int err);

struct dial_addrs {
	struct sockaddr_storage addr[DIAL_MAX_ADDRS];
	socklen_t len[DIAL_MAX_ADDRS];
	size_t n;
};

struct dial {
	struct loop *loop;
	struct dial_addrs addrs;
	size_t next;  /* index of the next address to try */
	int fd;	      /* socket being connected, or -1 */
	int last_err; /* -errno of the latest failed address */
	struct watch *writable;
	struct watch *timer;
	dial_fn fn;
	void *arg;
};

/*
 * Starts connecting. addrs is copied. Returns 0, or -ENOMEM when the
 * watches could not be made (then fn is never called).
 */
int dial_start(struct dial *d, struct loop *loop,
	       const struct dial_addrs *addrs, uint64_t timeout_ms, dial_fn fn,
	       void *arg);

/* Stops an attempt in progress; fn will not be called. Idempotent. */
void dial_cancel(struct dial *d);

#endif
