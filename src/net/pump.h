/*
 * pump.h - the byte pump: moves bytes one way, from a source socket to a
 * destination socket. The only module that calls splice(2).
 *
 * Small messages (a TLS handshake, an interactive session) are copied:
 * recv and send cost less than two splices and a pipe. Once a read comes
 * back full (PUMP_SMALL_BYTES), the transfer is bulk and bytes go socket ->
 * pipe -> socket with splice where the kernel allows, through a bounded
 * user-space buffer otherwise. Backpressure is built in: while bytes wait
 * for the destination, the source is not read. A pump holds at most one
 * pipe (PIPE_POOL_BIG_BYTES) or one PUMP_COPY_BYTES buffer of source
 * bytes.
 *
 * What ends a pump's work is its framing:
 *  - until EOF (tunnels, close-delimited bodies): the source's EOF becomes
 *    shutdown(SHUT_WR) on the destination once every byte is delivered
 *    (half-close carried through);
 *  - a length (Content-Length bodies): exactly that many bytes, read no
 *    further, spliced;
 *  - a framer (chunked bodies): the caller's function says where the
 *    message ends; bytes are copied, never spliced, so it can see them.
 * A framed pump that meets EOF early fails with -ECONNABORTED. Bytes read
 * past the end of a framed message are kept as leftover for the caller (a
 * pipelined request).
 *
 * The pump knows no HTTP: framers live with their protocol.
 */
#ifndef SLUICE_NET_PUMP_H
#define SLUICE_NET_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/pipe_pool.h"

/* A read this size that comes back full makes the pump splice. */
#define PUMP_SMALL_BYTES (16 * 1024)
/* Bytes per copy once the transfer is bulk (and splice is not possible). */
#define PUMP_COPY_BYTES (64 * 1024)
/* A pipe's capacity unless it is a large one (the kernel's default). */
#define PUMP_PIPE_BYTES (64 * 1024)
/* Bytes moved per wake-up before yielding to other connections. */
#define PUMP_BUDGET_BYTES (1024 * 1024)

enum pump_event {
	PUMP_DONE = 1, /* the message (or the source's EOF) was delivered */
	PUMP_ERROR,    /* read, write or framing failed; err says why */
};

enum pump_framing {
	PUMP_UNTIL_EOF = 0,
	PUMP_LENGTH,
	PUMP_FRAMER,
};

struct pump;

/* The pump may be deinitialised from inside this callback. */
typedef void (*pump_fn)(void *arg, struct pump *p, enum pump_event ev, int err);

/*
 * A framer looks at source bytes data[0..len) as they arrive. It may
 * rewrite them in place; data[0..*out_len) is then what gets delivered. It
 * returns how many of the len bytes belong to the message (the rest, only
 * possible with *done set, is leftover), or -errno on a framing error.
 * *done is set when the message ends within these bytes.
 */
typedef long (*pump_framer_fn)(void *arg, char *data, size_t len,
			       size_t *out_len, bool *done);

struct pump {
	struct loop *loop;
	struct pipe_pool *pipes;
	int src, dst;
	struct watch *readable; /* on src */
	struct watch *writable; /* on dst */
	int pipe[2];		/* -1 when holding no pipe */
	bool pipe_big;		/* it holds PIPE_POOL_BIG_BYTES */
	size_t in_pipe;

	char *prefix; /* our own bytes, sent before any source byte */
	size_t prefix_off, prefix_len;

	char *buf; /* source bytes to deliver (preload or copy path) */
	size_t buf_off, buf_len;
	char *left; /* source bytes past the end of the message */
	size_t left_len;

	enum pump_framing framing;
	uint64_t remaining; /* PUMP_LENGTH: source bytes still to read */
	pump_framer_fn framer;
	void *framer_arg;
	bool msg_done; /* the framed message's last byte has been read */

	bool no_splice; /* splice refused these fds: copy instead */
	bool bulk;	/* a read came back full: splice from now on */
	bool drained;	/* the last read took less than asked: src is empty */
	bool src_eof;
	bool finished;
	/* the pump of the other direction, when its owner closes both
	 * sockets as soon as both pumps are done: the last EOF then needs no
	 * shutdown (close sends the FIN) */
	const struct pump *twin;
	uint64_t bytes;	  /* source bytes delivered to dst */
	uint64_t last_ms; /* loop time of the last byte moved */
	pump_fn fn;
	void *arg;
};

/* Prepares a pump (until EOF); does not start it. 0 or -ENOMEM. */
int pump_init(struct pump *p, struct loop *loop, struct pipe_pool *pipes,
	      int src, int dst, pump_fn fn, void *arg);

/* Frames the message as exactly n source bytes (n may be 0). */
void pump_set_length(struct pump *p, uint64_t n);

/* Frames the message with fn (copy path). */
void pump_set_framer(struct pump *p, pump_framer_fn fn, void *arg);

/* Queues our own bytes to go out first; not counted in bytes. 0/-ENOMEM */
int pump_prefix(struct pump *p, const char *data, size_t len);

/*
 * Source bytes that were read before the pump existed (the bytes behind a
 * request head): treated exactly as if read from src, framing included.
 * Call before pump_start(). Returns 0 or -ENOMEM.
 */
int pump_preload(struct pump *p, const char *data, size_t len);

/* Starts moving bytes. Returns 0, or -errno (a framing error in the
 * preloaded bytes). */
int pump_start(struct pump *p);

/* After PUMP_DONE of a framed message: bytes read past its end. */
void pump_leftover(const struct pump *p, const char **data, size_t *len);

/*
 * Releases the pipe, buffers and watches; does not close src or dst.
 * Idempotent, and safe on a zeroed struct pump. bytes stays readable.
 */
void pump_deinit(struct pump *p);

#endif
