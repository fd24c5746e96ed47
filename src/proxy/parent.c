/*
 * parent.c - chaining to a parent proxy (upstream-proxy): which requests
 * go through it, and a CONNECT through it.
 *
 * Routing: with neither upstream-proxy-for nor direct-for every request
 * goes to the parent; a direct-for name and its subdomains go direct; with
 * upstream-proxy-for, only its names (and subdomains) go to the parent.
 * The most specific name decides, direct on a tie. The names are compiled
 * into the snapshot as one small domain set (snapshot.c), so the choice is
 * the blocklist's matcher: no list is scanned per request.
 *
 * A CONNECT through the parent: dial it (upstream.c, as an origin: the
 * resolver's cache, connect-timeout, the destination rules on its
 * address), send it "CONNECT target", read its answer head under
 * response-timeout; a 2xx opens the tunnel (tunnel_open, with any bytes
 * read behind the head first), anything else is a 502 naming the parent's
 * status. Plain HTTP through the parent is forward.c's, with the parent as
 * the target.
 *
 * Owns, while SESSION_PARENT, the CONNECT head (req_out), the answer
 * buffer (resp) and the read watch on the parent; forward_release() frees
 * them on every exit.
 */
#include "proxy/session.h"

#include "config/config.h"
#include "http/http1_response_head.h"
#include "policy/blocklist.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Room for the CONNECT head beyond the target (twice) and credentials. */
#define PARENT_HEAD_EXTRA 64
/* Bytes of the parent's status line shown in the log. */
#define PARENT_STATUS_SHOWN 120

static void on_parent_connected(struct session *s);
static void on_parent_readable(void *arg);

bool parent_chosen(const struct session *s, const struct authority *a)
{
	const struct config *cfg = s->worker->cfg;
	struct blocklist_verdict v;

	/* an IP literal matches no name: it takes the default */
	if (a->kind == AUTHORITY_NAME) {
		blocklist_match(s->worker->snapshot->routes, a->host,
				a->host_len, &v);
		/* upstream-proxy-for names block, direct-for's are exceptions
		 */
		if (v.rule != BLOCKLIST_RULE_NONE)
			return v.blocked;
	}
	return cfg->upstream_for.len == 0;
}

const char *parent_name(const struct session *s, char *out, size_t cap)
{
	bool v6 = strchr(s->host, ':') != NULL;

	snprintf(out, cap, "parent proxy %s%s%s:%u", v6 ? "[" : "", s->host,
		 v6 ? "]" : "", s->port);
	return out;
}

int parent_target(struct session *s, struct authority *a)
{
	const char *text = s->worker->cfg->upstream;

	/* config_upstream.c checked it as authority_parse reads it */
	if (authority_parse(text, strlen(text), 0, a) != AUTHORITY_OK ||
	    a->host_len >= sizeof(s->host)) {
		session_reply_error(s, 502, "bad-config",
				    "bad upstream-proxy %s", text);
		return -1;
	}
	memcpy(s->host, a->host, a->host_len);
	s->host[a->host_len] = '\0';
	a->host = s->host;
	s->port = a->port;
	s->via_parent = true;
	return 0;
}

void parent_tunnel(struct session *s, const char *target, size_t target_len)
{
	const char *auth = s->worker->cfg->upstream_auth;
	size_t cap = 2 * target_len + strlen(auth) + PARENT_HEAD_EXTRA;
	struct authority parent;
	int n;

	s->req_out = malloc(cap);
	if (s->req_out == NULL) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	/* RFC 9110 §9.3.6; the target passed authority_parse() */
	n = snprintf(s->req_out, cap,
		     "CONNECT %.*s HTTP/1.1\r\nHost: %.*s\r\n%s%s%s\r\n",
		     (int)target_len, target, (int)target_len, target,
		     auth[0] != '\0' ? "Proxy-Authorization: " : "", auth,
		     auth[0] != '\0' ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	s->req_out_len = (size_t)n;
	if (parent_target(s, &parent) == 0)
		upstream_connect(s, &parent, on_parent_connected);
}

/* The parent's answer was not a tunnel: 502, its status line logged. */
static void refused(struct session *s, int status)
{
	char who[AUTHORITY_MAX_NAME + 32], line[PARENT_STATUS_SHOWN + 1];
	char rule[32];
	size_t n = 0;

	while (n < PARENT_STATUS_SHOWN && n < s->resp_len &&
	       s->resp[n] != '\r' && s->resp[n] != '\n') {
		unsigned char c = (unsigned char)s->resp[n];
		line[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	line[n] = '\0';
	parent_name(s, who, sizeof(who));
	log_info("CONNECT %s: %s answered: %s", s->target, who, line);
	snprintf(rule, sizeof(rule), "parent-%03d", status);
	session_decide(s, ACCESS_UPSTREAM_ERROR, rule);
	session_reply_error(s, 502, "parent-refused", "%s answered %s", who,
			    line);
}

/* Answers 502 for a parent that did not answer CONNECT properly. */
static void bad_answer(struct session *s, const char *end, const char *why)
{
	char who[AUTHORITY_MAX_NAME + 32];

	session_decide(s, ACCESS_UPSTREAM_ERROR, "parent");
	session_reply_error(s, 502, end, "%s: %s",
			    parent_name(s, who, sizeof(who)), why);
}

static void on_parent_connected(struct session *s)
{
	struct worker *w = s->worker;
	ssize_t n;

	/* a fresh socket's send buffer (at least 4 KiB, tcp_wmem) takes a
	 * head this small at once: a short write is an error, not a wait */
	n = send(s->target_fd, s->req_out, s->req_out_len,
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != (ssize_t)s->req_out_len) {
		bad_answer(s, "connect-failed",
			   n < 0 ? strerror(errno) : "short write");
		return;
	}
	free(s->req_out);
	s->req_out = NULL;
	s->state = SESSION_PARENT;
	session_note_server(s);
	s->target_rd =
		watch_new_read(w->loop, s->target_fd, on_parent_readable, s);
	if (s->target_rd == NULL || session_answer_buf(s) < 0) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	watch_stop(s->timer);
	if (watch_start(s->target_rd) < 0 ||
	    watch_start_timer(s->timer, w->cfg->response_timeout_ms) < 0)
		session_finish(s, "no-memory");
}

/* Reads the parent's answer head; a 2xx opens the tunnel. */
static void on_parent_readable(void *arg)
{
	struct session *s = arg;
	struct http1_header headers[CONFIG_MAX_HEADER_FIELDS];
	struct http1_response res;
	struct http1_error err;
	ssize_t n = session_recv_answer(s);
	int rc;

	if (n == -EAGAIN)
		return;
	if (n == -ENOMEM) {
		session_finish(s, "no-memory");
		return;
	}
	if (n == -E2BIG) {
		bad_answer(s, "bad-response", "answer head too large");
		return;
	}
	if (n == 0) {
		bad_answer(s, "no-response",
			   "closed the connection without an answer");
		return;
	}
	rc = http1_parse_response(s->resp, s->resp_len, s->resp_seen,
				  &s->worker->limits, headers, &res, &err);
	if (rc == -2) {
		s->resp_seen = s->resp_len;
		return;
	}
	if (rc < 0) {
		bad_answer(s, "bad-response", http1_err_text(err.code));
		return;
	}
	if (res.status / 100 != 2) {
		refused(s, res.status);
		return;
	}
	/* RFC 9110 §9.3.6: after a 2xx the connection is the tunnel; the
	 * bytes behind the head are the target's, for the client */
	watch_free(s->target_rd);
	s->target_rd = NULL;
	tunnel_open(s, s->resp + rc, s->resp_len - (size_t)rc);
}

void parent_on_timer(struct session *s)
{
	char who[AUTHORITY_MAX_NAME + 32];

	session_decide(s, ACCESS_UPSTREAM_ERROR, "parent");
	session_reply_error(s, 504, "response-timeout",
			    "%s did not answer CONNECT in time",
			    parent_name(s, who, sizeof(who)));
}
