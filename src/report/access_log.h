/*
 * access_log.h - one line per finished request or tunnel, in the layout
 * access-log-format names (README.md, "Logs", has an example of each):
 *
 *   sluice    TIME CLIENT METHOD TARGET status=N up=N down=N ms=N end=WORD
 *             decision=WORD [rule=TEXT] [user=NAME]
 *   squid     Squid's native access.log, its ten fields, then DECISION
 *   combined  Apache/NCSA combined, then DECISION
 *   json      one object with every field
 *
 * up: payload bytes client -> target; down: target -> client (heads and
 * our own replies not counted); end: why it finished (done, idle-timeout,
 * shutdown, or the error that ended it); decision: what decided the
 * outcome (enum access_decision) and rule, when one fired, which. In the
 * squid and combined layouts DECISION is one trailing word, WORD or
 * WORD:DETAIL (the rule, or else the end of a request not allowed): a
 * field after the last one these layouts define, which their readers
 * ignore (Squid itself appends fields there with log_mime_hdrs).
 *
 * Untrusted bytes (the target, the user, Referer, User-Agent, the content
 * type) are escaped for each layout (base/escape.h), so no request can
 * break a line or forge a field. Thread-safe like the error log: one
 * write(2) per line, from a stack buffer, to an O_APPEND descriptor shared
 * by all workers; access_log_reopen() swaps the file under that same
 * descriptor number.
 */
#ifndef SLUICE_REPORT_ACCESS_LOG_H
#define SLUICE_REPORT_ACCESS_LOG_H

#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"

struct access_log;

/* What decided a request's outcome. 0: not decided (never logged). */
enum access_decision {
	ACCESS_ALLOWED = 1,    /* sent on (whatever the origin answered) */
	ACCESS_BLOCKED,	       /* a blocklist; rule: LIST:LINE */
	ACCESS_CLIENT_DENIED,  /* allow/deny; rule: deny:CIDR, no-match... */
	ACCESS_DEST_DENIED,    /* allow-dest/deny-dest, built-in, loop */
	ACCESS_PORT_DENIED,    /* rule: connect-ports or http-ports */
	ACCESS_OVER_LIMIT,     /* rule: the max-connections directive */
	ACCESS_AUTH_FAILED,    /* rule: no-credentials, not-basic, ... */
	ACCESS_UPSTREAM_ERROR, /* DNS, connect, the origin's response */
	ACCESS_BAD_REQUEST,    /* a request sluice would not take */
	ACCESS_ERROR,	       /* sluice's own trouble (memory, overload) */
};

/* The decision as a word ("allowed", "client-denied", ...). */
const char *access_decision_word(enum access_decision d);

/* Optional fields a layout shows, so that a session keeps only those. */
#define ACCESS_WANTS_USER    1u /* the authenticated user */
#define ACCESS_WANTS_REQUEST 2u /* Referer, User-Agent */
#define ACCESS_WANTS_REPLY   4u /* the content type, the server's address */

struct access_entry {
	const struct sockaddr *client;
	const char *method; /* "-" when no request line was read */
	const char *target;
	int http_minor; /* the request's HTTP/1.x; -1: none read */
	int status;
	uint64_t bytes_up;
	uint64_t bytes_down;
	uint64_t bytes_own; /* heads and replies sluice wrote to the client */
	uint64_t duration_ms;
	const char *end;
	enum access_decision decision;
	const char *rule;	  /* NULL or "": no rule fired */
	const char *user;	  /* NULL or "": none authenticated */
	const char *referer;	  /* NULL: none (or not kept) */
	const char *agent;	  /* User-Agent; NULL: none */
	const char *content_type; /* NULL or "": none */
	const char *server;	  /* the target's address; NULL or "": none */
	uint16_t server_port;
};

/*
 * spec is a path, "stderr" or "off". Returns NULL and -errno in *err.
 * The caller may free spec.
 */
struct access_log *access_log_open(const char *spec,
				   enum access_log_format format, int *err);
void access_log_close(struct access_log *log);

/* ACCESS_WANTS_* of the log's layout; 0 when the log is off. */
unsigned access_log_wants(const struct access_log *log);

void access_log_write(struct access_log *log, const struct access_entry *e);

/*
 * SIGUSR1 (logrotate): opens the log's path again in place of the old
 * file, atomically for the workers writing to it. 0, or -errno with the
 * old file kept; nothing to do for stderr or off.
 */
int access_log_reopen(struct access_log *log);

#endif
