/*
 * dial.h - non-blocking TCP connect to a list of addresses, racing them
 * as Happy Eyeballs v2 does (RFC 8305 §5): the first address is tried, the
 * next one DIAL_STAGGER_MS later if none has connected yet (or at once when
 * an attempt fails), the first to connect wins and the others are closed.
 * One deadline covers the whole race. Knows no HTTP.
 *
 * The caller gives the addresses in the order to try them (the resolver
 * interleaves the families). It owns struct dial (embedded in its
 * connection object) and must keep it alive until the callback has run or
 * dial_cancel() returned.
 */
#ifndef SLUICE_NET_DIAL_H
#define SLUICE_NET_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/loop.h"

#define DIAL_MAX_ADDRS 16
/* RFC 8305 §5: "Connection Attempt Delay", recommended 250 ms. */
#define DIAL_STAGGER_MS 250
/* Attempts in flight at once: every address may have one (RFC 8305 sets
 * no cap; the address list is the bound). */
#define DIAL_MAX_ATTEMPTS DIAL_MAX_ADDRS

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

struct dial_attempt {
	struct dial *d;
	int fd; /* -1: the slot is free */
	struct watch *writable;
};

struct dial {
	struct loop *loop;
	struct dial_addrs addrs;
	size_t next;   /* index of the next address to try */
	size_t active; /* attempts in flight */
	int last_err;  /* -errno of the latest failed attempt */
	bool failed;   /* every address failed: report on_timer */
	struct dial_attempt attempt[DIAL_MAX_ATTEMPTS];
	struct watch *timer;   /* the deadline, or the failure report */
	struct watch *stagger; /* the next attempt's start */
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
