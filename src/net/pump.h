/*
 * pump.h - the byte pump: moves bytes one way, from a source socket to a
 * destination socket, until the source's EOF has been passed on. The only
 * module that calls splice(2).
 *
 * Bytes go socket -> pipe -> socket with splice where the kernel allows,
 * through a bounded user-space buffer otherwise. Backpressure is built in:
 * while bytes wait for the destination, the source is not read. A pump
 * holds at most PUMP_CHUNK_BYTES (pipe or buffer) at any time.
 *
 * A tunnel is two pumps, one per direction. EOF on the source becomes
 * shutdown(SHUT_WR) on the destination once every byte is delivered
 * (half-close carried through); the other pump goes on.
 */
#ifndef SLUICE_NET_PUMP_H
#define SLUICE_NET_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/pipe_pool.h"

/* Bytes moved per splice or read: the pipe's default capacity. */
#define PUMP_CHUNK_BYTES (64 * 1024)
/* Bytes moved per wake-up before yielding to other connections. */
#define PUMP_BUDGET_BYTES (512 * 1024)

enum pump_event {
	PUMP_DONE = 1, /* source EOF delivered: destination shut for writing */
	PUMP_ERROR,    /* read or write failed; err says why */
};

struct pump;

/* The pump may be deinitialised from inside this callback. */
typedef void (*pump_fn)(void *arg, struct pump *p, enum pump_event ev, int err);

struct pump {
	struct loop *loop;
	struct pipe_pool *pipes;
	int src, dst;
	struct watch *readable; /* on src */
	struct watch *writable; /* on dst */
	int pipe[2];		/* -1 when holding no pipe */
	size_t in_pipe;
	char *buf; /* preloaded bytes, or the copy path's buffer */
	size_t buf_off, buf_len;
	bool no_splice; /* splice refused these fds: copy instead */
	bool src_eof;
	bool finished;
	uint64_t bytes;	  /* delivered to dst */
	uint64_t last_ms; /* loop time of the last byte moved */
	pump_fn fn;
	void *arg;
};

/* Prepares a pump; does not start it. Returns 0 or -ENOMEM. */
int pump_init(struct pump *p, struct loop *loop, struct pipe_pool *pipes,
	      int src, int dst, pump_fn fn, void *arg);

/*
 * Queues len bytes (copied) to go to dst before anything read from src:
 * bytes the client sent with its request head. Returns 0 or -ENOMEM.
 */
int pump_preload(struct pump *p, const char *data, size_t len);

/* Starts moving bytes. Returns 0 or -1. */
int pump_start(struct pump *p);

/*
 * Releases the pipe, buffer and watches; does not close src or dst.
 * Idempotent, and safe on a zeroed struct pump. bytes stays readable.
 */
void pump_deinit(struct pump *p);

#endif
