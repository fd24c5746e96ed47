/*
 * session.h - one client connection, from accept to close: read and parse
 * the request head, hand CONNECT to the tunnel, answer errors, log once.
 *
 * States, in order (each may end early in REPLY, then LINGER):
 *   READ_HEAD -> RESOLVE -> CONNECT -> TUNNEL
 * Every path ends in session_finish(), the only place a session closes its
 * sockets, writes its access-log line and goes back to the pool.
 */
#ifndef SLUICE_PROXY_SESSION_H
#define SLUICE_PROXY_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/authority.h"
#include "net/dial.h"
#include "net/pump.h"
#include "net/resolve.h"

struct worker;

/* Request-head limits (configurable with the HTTP forwarding work). */
#define SESSION_HEAD_INITIAL_BYTES 4096
#define SESSION_MAX_HEAD_BYTES	   (64 * 1024)
#define SESSION_MAX_LINE_BYTES	   (8 * 1024)
#define SESSION_MAX_FIELDS	   100
/* After an error reply: how long and how much we read before closing, so
 * that the client sees the reply instead of a reset (RFC 9112 §9.6). */
#define SESSION_LINGER_MS    2000
#define SESSION_LINGER_BYTES (64 * 1024)

enum session_state {
	SESSION_READ_HEAD = 1,
	SESSION_RESOLVE,
	SESSION_CONNECT,
	SESSION_TUNNEL,
	SESSION_REPLY,
	SESSION_LINGER,
};

struct session {
	struct worker *worker;
	struct session *prev, *next; /* the worker's live list */
	enum session_state state;
	int client_fd;
	int target_fd;
	struct sockaddr_storage peer;
	uint64_t start_ms;
	uint64_t end_ms; /* when the outcome was decided; 0: not yet */

	struct watch *client_rd;
	struct watch *client_wr;
	struct watch *timer; /* header, idle or linger deadline */

	char *head; /* request head bytes; freed when the tunnel starts */
	size_t head_len, head_cap, head_seen;
	size_t head_used; /* bytes of the parsed head; the rest is payload */

	char method[24];
	char target[AUTHORITY_MAX_NAME + 16];
	char host[AUTHORITY_MAX_NAME + 2]; /* NUL-terminated, for DNS */
	uint16_t port;

	struct resolve_query *query;
	void (*on_connected)(struct session *s);
	struct dial dial;
	struct pump up;	  /* client -> target */
	struct pump down; /* target -> client */
	bool up_done, down_done;

	char reply[512];
	size_t reply_len, reply_off;
	uint64_t linger_bytes;

	int status;	 /* 0 until a reply is decided */
	const char *end; /* why the session ended, for the access log */
	char end_buf[32];
};

/* Takes over an accepted client socket. Closes fd on failure. */
void session_start(struct worker *w, int fd,
		   const struct sockaddr_storage *peer);

/* Ends the session for `end` (a static string): closes, logs, frees. */
void session_finish(struct session *s, const char *end);

/* Answers the client with status and a one-line reason, then closes. */
void session_reply_error(struct session *s, int status, const char *end,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* For a draining worker: close the session now if it is idle. */
bool session_is_idle(const struct session *s);

/* tunnel.c: take over a parsed CONNECT request. */
void tunnel_begin(struct session *s, const char *target, size_t target_len);

/* tunnel.c: the session timer fired while tunnelling (idle check). */
void tunnel_on_timer(struct session *s);

/*
 * upstream.c: resolve and dial a's host and port; on success target_fd is
 * set and on_connected runs; on failure the client gets 502/504.
 */
void upstream_connect(struct session *s, const struct authority *a,
		      void (*on_connected)(struct session *s));

/* upstream.c: release the query, dial, pumps and target socket. */
void session_release_target(struct session *s);

#endif
