/*
 * session.h - one client connection, from accept to close: read and parse
 * the request head, hand CONNECT to the tunnel, answer errors, log once.
 *
 * States, in order (each may end early in REPLY, then LINGER):
 *   READ_HEAD -> RESOLVE -> CONNECT -> TUNNEL
 * (-> PARENT before TUNNEL for a CONNECT through a parent proxy)
 * Every path ends in session_finish(), the only place a session closes its
 * sockets, writes its access-log line and goes back to the pool.
 */
#ifndef SLUICE_PROXY_SESSION_H
#define SLUICE_PROXY_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http/authority.h"
#include "http/http1_chunked.h"
#include "http/http1_framing.h"
#include "http/http1_request.h"
#include "net/dial.h"
#include "net/pump.h"
#include "net/resolve.h"
#include "report/access_log.h"

struct worker;
struct auth_job;
struct session_note;

/* State of a chunked body's framer (forward.c). */
struct chunk_framer {
	struct http1_chunked dec;
	bool strip; /* deliver the data only, without chunk framing */
};

/* A head buffer starts this small and grows to max-head-size. */
#define SESSION_HEAD_INITIAL_BYTES 4096
/* After an error reply: how long and how much we read before closing, so
 * that the client sees the reply instead of a reset (RFC 9112 §9.6). */
#define SESSION_LINGER_MS    2000
#define SESSION_LINGER_BYTES (64 * 1024)
/* Room for an error reply: status line, three fields, a one-line body. */
#define SESSION_ERROR_BYTES 512

enum session_state {
	SESSION_READ_HEAD = 1,
	SESSION_RESOLVE,
	SESSION_CONNECT,
	SESSION_TUNNEL,
	SESSION_FORWARD,  /* request going to the origin, response awaited */
	SESSION_RESPONSE, /* response relayed to the client */
	SESSION_REPLY,
	SESSION_LINGER,
	SESSION_AUTH,	/* the password is being verified (auth.c) */
	SESSION_PARENT, /* CONNECT sent to the parent proxy, answer awaited */
	SESSION_PROXY_HEADER, /* a balancer's PROXY header is awaited */
};

struct session {
	struct worker *worker;
	struct session *prev, *next; /* the worker's live list */
	enum session_state state;
	int client_fd;
	int target_fd;
	unsigned counted; /* in the connection limits: LIMITS_COUNTED_* */
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
	struct dial *dial; /* while connecting only (about 2 KiB) */
	struct pump up;	   /* client -> target */
	struct pump down;  /* target -> client */
	bool up_done, down_done;
	bool tunnel_open; /* counted in the metrics' open tunnels */

	/* plain-HTTP forwarding (forward.c) */
	bool forwarding;
	unsigned requests; /* finished on this client connection */
	char *req_out;	   /* the request head for the origin */
	size_t req_out_len;
	enum http1_body req_body;
	uint64_t req_length;
	int client_minor;
	bool client_close; /* close the client after this response */
	bool interim;	   /* the response being relayed is a 1xx */
	struct watch *target_rd;
	char *resp; /* the origin's response head */
	size_t resp_len, resp_cap, resp_seen;
	struct chunk_framer req_framer, resp_framer;
	struct authority origin; /* host points into `host` */
	bool reused;		 /* target_fd came from the pool */
	bool retried;		 /* a stale pooled connection was replaced */
	bool origin_reusable;	 /* the origin keeps the connection open */
	bool websocket;		 /* the request asked for a WebSocket upgrade */
	bool upgraded;		 /* after a 101: relaying as a tunnel */
	bool via_parent;	 /* the target is the parent proxy (parent.c) */

	char *reply; /* our own response (error, block page); owned */
	size_t reply_len, reply_off;
	bool reply_keepalive; /* after it, read the next request */
	uint64_t linger_bytes;
	char rule[96]; /* the rule that fired: "list:line", "deny:CIDR", ... */
	enum access_decision decision; /* 0 until one is made */
	struct session_note *note;     /* NULL until a field is kept */
	uint64_t own_bytes; /* response heads we sent (our replies aside) */
	struct auth_job *auth_job; /* while SESSION_AUTH */
	bool auth_reusable;	   /* a 407 may keep the connection */
	bool auth_head;		   /* the request is HEAD: a 407 without body */

	int status;	 /* 0 until a reply is decided */
	const char *end; /* why the session ended, for the access log */
	char end_buf[32];
};

/*
 * Takes over an accepted client socket. Closes fd on failure. With
 * proxy_header (a proxy-protocol listener) the connection must start with
 * a PROXY header from an address of proxy-protocol-from, and the address
 * it carries is the client's from then on.
 */
void session_start(struct worker *w, int fd,
		   const struct sockaddr_storage *peer, bool proxy_header);

/* Ends the session for `end` (a static string): closes, logs, frees. */
void session_finish(struct session *s, const char *end);

/* Answers the client with status and a one-line reason, then closes. */
void session_reply_error(struct session *s, int status, const char *end,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Sends buf[0..len) (malloc'd; the session owns it from now on) as the
 * reply to the current request, which ends with status and end. Then the
 * connection closes, or with keepalive the next request is read.
 */
void session_send_reply(struct session *s, char *buf, size_t len, int status,
			const char *end, bool keepalive);

/* After a wait (auth.c): parses the request head again, from the start. */
void session_reparse(struct session *s);

/* For a draining worker: close the session now if it is idle. */
bool session_is_idle(const struct session *s);

/* For the access log: "up-ECONNRESET" and the like. */
void session_set_end_errno(struct session *s, const char *dir, int err);

/*
 * Reads what the target sent into the response head buffer (s->resp),
 * growing it up to max-head-size. Returns the bytes read; 0 when the
 * target closed or failed; -EAGAIN when nothing is there yet; -E2BIG when
 * the head would outgrow the limit; -ENOMEM.
 */
ssize_t session_recv_answer(struct session *s);

/* A fresh answer-head buffer in s->resp (from the worker's cache), and
 * giving it back. 0 or -ENOMEM. */
int session_answer_buf(struct session *s);
void session_answer_buf_release(struct session *s);

/*
 * After a finished exchange on a kept-alive connection: logs it, releases
 * the target, and reads the next request, starting with the len bytes at
 * data (already received). Returns 0 or -ENOMEM.
 */
int session_next_request(struct session *s, const char *data, size_t len);

/* forward.c: take over a parsed request that is not CONNECT. */
void forward_begin(struct session *s, const struct http1_request *req);
void forward_connected(struct session *s);
void forward_on_timer(struct session *s);
void forward_release(struct session *s);

/*
 * block.c: if the blocklist refuses host[0..len) (a DNS name), answers as
 * block-response says and returns true; the session is then taken care of.
 * connect: a CONNECT request; reusable: the client connection could carry
 * another request after this one (no body, no close); head: a HEAD request.
 */
bool block_request(struct session *s, const char *host, size_t len,
		   bool connect, bool reusable, bool head);

/* tunnel.c: take over a parsed CONNECT request. */
void tunnel_begin(struct session *s, const char *target, size_t target_len);

/* tunnel.c: the session timer fired while tunnelling (idle check). */
void tunnel_on_timer(struct session *s);

/*
 * tunnel.c: target_fd reaches the CONNECT target: answer 200 and relay.
 * early[0..len): bytes from the target already read (behind a parent
 * proxy's answer), sent to the client first.
 */
void tunnel_open(struct session *s, const char *early, size_t early_len);

/*
 * parent.c, chaining to a parent proxy (upstream-proxy), called only when
 * one is set. parent_chosen: does a request for a go through it
 * (upstream-proxy-for, direct-for)? parent_target: makes the parent the
 * session's target (host, port, via_parent) and fills *a with it (host
 * pointing into s->host); 0, or -1 after answering the client.
 * parent_tunnel takes over a CONNECT that goes through the parent.
 */
bool parent_chosen(const struct session *s, const struct authority *a);
int parent_target(struct session *s, struct authority *a);
void parent_tunnel(struct session *s, const char *target, size_t target_len);
void parent_on_timer(struct session *s);
/* Writes "parent proxy HOST:PORT" into out[cap], for messages. */
const char *parent_name(const struct session *s, char *out, size_t cap);

/*
 * upstream.c: resolve and dial a's host and port; on success target_fd is
 * set and on_connected runs; on failure the client gets 502/504.
 */
void upstream_connect(struct session *s, const struct authority *a,
		      void (*on_connected)(struct session *s));

/* upstream.c: release the query, dial, pumps and target socket. */
void session_release_target(struct session *s);

/*
 * session_log.c: what the access log says of the current request beyond
 * its request line: what decided its outcome, and the optional fields the
 * log's layout shows (access_log_wants()). Those are kept in a note of
 * their own, allocated the first time one is kept on a connection and
 * reused by its next requests, so that a layout without them costs no
 * memory.
 */
#define SESSION_NOTE_BYTES 256 /* of a user name, Referer or User-Agent */
struct session_note {
	char user[SESSION_NOTE_BYTES]; /* "": none authenticated */
	char referer[SESSION_NOTE_BYTES];
	char agent[SESSION_NOTE_BYTES];
	bool has_referer, has_agent; /* the request carried them */
	char content_type[64];	     /* the media type alone; "": none */
	char server[48];	     /* the target's address; "": none */
	uint16_t server_port;
};

/* Records what decided (once more: the last word counts) and the rule
 * that fired, if any (NULL: none), made one printable word. */
void session_decide(struct session *s, enum access_decision d,
		    const char *rule);
/* Keeps Referer and User-Agent of the request, cut to fit. */
void session_note_request(struct session *s, const struct http1_request *req);
/* Keeps the name of a user whose credentials passed. */
void session_note_user(struct session *s, const char *user, size_t len);
/* Keeps the media type of a Content-Type value (parameters dropped). */
void session_note_type(struct session *s, const char *value, size_t len);
/* Keeps the Content-Type of our own reply head[0..len). */
void session_note_reply(struct session *s, const char *head, size_t len);
/* Keeps the address target_fd is connected to. */
void session_note_server(struct session *s);
/* A new request on the connection: forgets the last one's. */
void session_note_clear(struct session *s);
/* Fills the access-log fields the note holds. */
void session_note_fill(const struct session *s, struct access_entry *e);

#endif
