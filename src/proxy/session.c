/*
 * session.c - see session.h. Reads and parses the request head, answers
 * what it cannot serve, and owns the single exit, session_finish().
 */
#include "proxy/session.h"

#include "http/http1_request.h"
#include "http/proxy_protocol.h"
#include "base/addr.h"
#include "http/http1_response.h"
#include "policy/access.h"
#include "proxy/auth.h"
#include "proxy/limits.h"
#include "proxy/worker.h"
#include "report/access_log.h"
#include "report/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_client_readable(void *arg);
static void on_client_writable(void *arg);
static void on_timer(void *arg);
static bool admit(struct session *s);
static void parse_head(struct session *s);
static void refuse_proxy_header(struct session *s, const char *end,
				const char *why);

void session_start(struct worker *w, int fd,
		   const struct sockaddr_storage *peer, bool proxy_header)
{
	struct session *s = pool_get(&w->sessions);

	if (s == NULL) {
		close(fd);
		return;
	}
	s->worker = w;
	s->client_fd = fd;
	s->target_fd = -1;
	s->peer = *peer;
	s->state = SESSION_READ_HEAD;
	s->start_ms = loop_now_ms(w->loop);
	counter_inc(&w->metrics.accepted);
	s->client_rd = watch_new_read(w->loop, fd, on_client_readable, s);
	s->client_wr = watch_new_write(w->loop, fd, on_client_writable, s);
	s->timer = watch_new_timer(w->loop, on_timer, s);
	s->head = malloc(SESSION_HEAD_INITIAL_BYTES);
	s->head_cap = SESSION_HEAD_INITIAL_BYTES;
	memcpy(s->method, "-", 2);
	memcpy(s->target, "-", 2);
	worker_session_linked(w, s);
	if (s->client_rd == NULL || s->client_wr == NULL || s->timer == NULL ||
	    s->head == NULL || watch_start(s->client_rd) < 0 ||
	    watch_start_timer(s->timer, w->cfg->header_timeout_ms) < 0) {
		log_warn("out of memory for a new connection");
		session_finish(s, "no-memory");
		return;
	}
	if (!proxy_header) {
		admit(s);
		return;
	}
	/* only a balancer we know may say who the client is */
	bool allow = false;
	if (cidr_rules_match(&w->cfg->proxy_from, (const struct sockaddr *)peer,
			     &allow) < 0 ||
	    !allow) {
		refuse_proxy_header(s, "proxy-from-denied", NULL);
		return;
	}
	s->state = SESSION_PROXY_HEADER;
}

/* A proxy-protocol connection that cannot go on: closed without a word
 * (there is no client to answer yet), counted, logged at debug. */
static void refuse_proxy_header(struct session *s, const char *end,
				const char *why)
{
	char who[ADDR_TEXT_MAX];

	counter_inc(&s->worker->metrics.refused[METRICS_REFUSED_PROXY_HEADER]);
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		addr_format((const struct sockaddr *)&s->peer, who,
			    sizeof(who));
		log_debug("%s: %s%s%s", who, end, why != NULL ? ": " : "",
			  why != NULL ? why : "");
	}
	session_finish(s, end);
}

/*
 * Reads the PROXY header (v1 or v2) that starts the connection; what
 * follows it stays in the head buffer for the request parser. The address
 * it carries replaces the peer's, then the client is admitted as any.
 */
static void read_proxy_header(struct session *s)
{
	struct pp_header h;
	struct pp_error err;
	ssize_t n = recv(s->client_fd, s->head + s->head_len,
			 s->head_cap - s->head_len, MSG_DONTWAIT);
	int rc;

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			session_finish(s, "client-error");
		return;
	}
	if (n == 0) {
		refuse_proxy_header(s, "bad-proxy-header", "closed before it");
		return;
	}
	s->head_len += (size_t)n;
	rc = pp_parse((const uint8_t *)s->head, s->head_len, &h, &err);
	if (rc == PP_NEED_MORE)
		return;
	if (rc < 0) {
		refuse_proxy_header(s, "bad-proxy-header",
				    pp_strerror(err.code));
		return;
	}
	if (!h.local) /* LOCAL: the balancer's own check, its address */
		memcpy(&s->peer, &h.src, sizeof(s->peer));
	memmove(s->head, s->head + rc, s->head_len - (size_t)rc);
	s->head_len -= (size_t)rc;
	s->state = SESSION_READ_HEAD;
	if (admit(s) && s->head_len > 0)
		parse_head(s); /* the request came with the header */
}

/* allow/deny, then the connection limits: refused with 403 or 503.
 * Returns whether the client may go on. */
static bool admit(struct session *s)
{
	struct worker *w = s->worker;
	const struct sockaddr *peer = (const struct sockaddr *)&s->peer;
	char who[ADDR_TEXT_MAX], rule[sizeof(s->rule)];
	bool log_it;

	if (!access_client_check(&w->cfg->clients, peer, rule, sizeof(rule))) {
		session_decide(s, ACCESS_CLIENT_DENIED, rule);
		counter_inc(&w->metrics.refused[METRICS_REFUSED_CLIENT_DENIED]);
		addr_format_host(peer, who, sizeof(who));
		session_reply_error(s, 403, "client-denied",
				    "this proxy does not serve %s", who);
		return false;
	}
	switch (conn_limits_enter(w->conn_limits, peer, &log_it, &s->counted)) {
	case LIMITS_OK:
		return true;
	case LIMITS_TOTAL:
		counter_inc(&w->metrics.refused[METRICS_REFUSED_OVER_LIMIT]);
		if (log_it)
			log_warn("max-connections (%u) reached: new "
				 "connections get 503",
				 w->cfg->max_connections);
		session_decide(s, ACCESS_OVER_LIMIT, "max-connections");
		session_reply_error(s, 503, "over-limit",
				    "too many connections");
		return false;
	case LIMITS_PER_CLIENT:
		counter_inc(&w->metrics.refused[METRICS_REFUSED_CLIENT_LIMIT]);
		addr_format_host(peer, who, sizeof(who));
		if (log_it)
			log_warn("client %s reached max-connections-per-client "
				 "(%u): its new connections get 503",
				 who, w->cfg->max_connections_per_client);
		session_decide(s, ACCESS_OVER_LIMIT,
			       "max-connections-per-client");
		session_reply_error(s, 503, "over-limit",
				    "too many connections from %s", who);
		return false;
	}
	return false;
}

/* Why a CONNECT that ended with end did not become a tunnel. */
static enum metrics_tunnel_failure tunnel_failure(const char *end)
{
	static const struct {
		const char *end;
		enum metrics_tunnel_failure why;
	} map[] = {
		{"blocked", METRICS_TUNNEL_BLOCKED},
		{"port-denied", METRICS_TUNNEL_DENIED},
		{"dest-denied", METRICS_TUNNEL_DENIED},
		{"auth-required", METRICS_TUNNEL_DENIED},
		{"auth-throttled", METRICS_TUNNEL_DENIED},
		{"unknown-host", METRICS_TUNNEL_DNS},
		{"dns-failure", METRICS_TUNNEL_DNS},
		{"connect-failed", METRICS_TUNNEL_REFUSED},
		{"parent-refused", METRICS_TUNNEL_REFUSED},
		{"connect-timeout", METRICS_TUNNEL_TIMEOUT},
		{"parent-refused", METRICS_TUNNEL_REFUSED},
		{"dns-timeout", METRICS_TUNNEL_TIMEOUT},
		{"bad-request", METRICS_TUNNEL_BAD},
		{"bad-target", METRICS_TUNNEL_BAD},
		{"loop", METRICS_TUNNEL_BAD},
	};

	for (size_t i = 0; end != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(end, map[i].end) == 0)
			return map[i].why;
	return METRICS_TUNNEL_OTHER;
}

/* Adds the current request to the worker's metrics. */
static void count_request(struct session *s)
{
	struct metrics *m = &s->worker->metrics;

	metrics_count_request(m, s->method, s->status);
	counter_add(&m->bytes_up, s->up.bytes);
	counter_add(&m->bytes_down, s->down.bytes);
	if (!s->tunnel_open && strcmp(s->method, "CONNECT") == 0)
		counter_inc(&m->tunnel_failures[tunnel_failure(s->end)]);
}

/* Writes the access-log line of the current request, once. */
static void log_request(struct session *s)
{
	struct worker *w = s->worker;
	uint64_t now = s->end_ms != 0 ? s->end_ms : loop_now_ms(w->loop);
	struct access_entry e = {
		.client = (const struct sockaddr *)&s->peer,
		.method = s->method,
		.target = s->target,
		.status = s->status,
		.bytes_up = s->up.bytes,
		.bytes_down = s->down.bytes,
		.duration_ms = now - s->start_ms,
		.end = s->end,
		.rule = s->rule,
		.http_minor = s->client_minor,
	};

	if (s->status == 0)
		return;
	count_request(s);
	session_note_fill(s, &e);
	access_log_write(w->access_log, &e);
	s->status = 0;
}

void session_finish(struct session *s, const char *end)
{
	struct worker *w = s->worker;

	if (s->end == NULL)
		s->end = end;
	auth_cancel(s);
	session_release_target(s);
	watch_free(s->client_rd);
	watch_free(s->client_wr);
	watch_free(s->timer);
	if (s->client_fd >= 0)
		close(s->client_fd);
	free(s->head);
	free(s->reply);
	s->reply = NULL;
	log_request(s);
	free(s->note);
	s->note = NULL;
	if (s->tunnel_open)
		counter_inc(&w->metrics.tunnels_closed);
	counter_inc(&w->metrics.closed);
	if (s->counted != 0)
		conn_limits_leave(w->conn_limits,
				  (const struct sockaddr *)&s->peer,
				  s->counted);
	s->counted = 0;
	worker_session_unlinked(w, s);
	pool_put(&w->sessions, s);
}

static void parse_head(struct session *s);

int session_answer_buf(struct session *s)
{
	s->resp = pool_take(&s->worker->answer_bufs);
	s->resp_cap = s->resp != NULL ? SESSION_HEAD_INITIAL_BYTES : 0;
	s->resp_len = s->resp_seen = 0;
	return s->resp != NULL ? 0 : -ENOMEM;
}

/* A buffer of the first size is the pool's; a larger one was grown out of
 * it with malloc (below). */
void session_answer_buf_release(struct session *s)
{
	if (s->resp_cap == SESSION_HEAD_INITIAL_BYTES)
		pool_put(&s->worker->answer_bufs, s->resp);
	else
		free(s->resp);
	s->resp = NULL;
	s->resp_len = s->resp_cap = s->resp_seen = 0;
}

ssize_t session_recv_answer(struct session *s)
{
	ssize_t n;

	if (s->resp_len == s->resp_cap) {
		size_t max = s->worker->limits.max_head_bytes;
		size_t cap = s->resp_cap * 2 < max ? s->resp_cap * 2 : max;
		char *nr;
		if (s->resp_cap >= max)
			return -E2BIG;
		if (s->resp_cap == SESSION_HEAD_INITIAL_BYTES) {
			/* out of the pool's block: it goes back whole */
			nr = malloc(cap);
			if (nr == NULL)
				return -ENOMEM;
			memcpy(nr, s->resp, s->resp_len);
			pool_put(&s->worker->answer_bufs, s->resp);
		} else {
			nr = realloc(s->resp, cap);
			if (nr == NULL)
				return -ENOMEM;
		}
		s->resp = nr;
		s->resp_cap = cap;
	}
	n = recv(s->target_fd, s->resp + s->resp_len, s->resp_cap - s->resp_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n <= 0)
		return 0;
	s->resp_len += (size_t)n;
	return n;
}

int session_next_request(struct session *s, const char *data, size_t len)
{
	struct worker *w = s->worker;
	size_t cap = len > SESSION_HEAD_INITIAL_BYTES
			     ? len
			     : SESSION_HEAD_INITIAL_BYTES;
	/* a head buffer of the first size serves the next request as it is;
	 * one grown for a large head is not kept for the connection's life */
	char *head = s->head_cap == cap ? s->head : malloc(cap);

	if (head == NULL)
		return -ENOMEM;
	if (s->end == NULL)
		s->end = "done";
	log_request(s); /* before head is written over */
	if (len > 0)	/* data may live in what we release next, or in head */
		memmove(head, data, len);
	session_release_target(s);
	if (head != s->head)
		free(s->head);
	free(s->reply);
	s->reply = NULL;
	s->reply_keepalive = false;
	s->reply_len = s->reply_off = 0;
	s->rule[0] = '\0';
	s->decision = 0;
	s->own_bytes = 0;
	session_note_clear(s);
	s->head = head;
	s->head_cap = cap;
	s->head_len = len;
	s->head_seen = 0;
	s->head_used = 0;
	s->requests++;
	s->end = NULL;
	s->end_ms = 0;
	s->start_ms = loop_now_ms(w->loop);
	s->state = SESSION_READ_HEAD;
	s->forwarding = false;
	s->reused = s->retried = s->origin_reusable = false;
	s->websocket = s->upgraded = false;
	s->via_parent = false;
	memcpy(s->method, "-", 2);
	memcpy(s->target, "-", 2);
	memset(&s->up, 0, sizeof(s->up));
	memset(&s->down, 0, sizeof(s->down));
	watch_stop(s->timer);
	if (watch_start(s->client_rd) < 0 ||
	    watch_start_timer(s->timer,
			      len > 0 ? w->cfg->header_timeout_ms
				      : w->cfg->keepalive_timeout_ms) < 0)
		return -ENOMEM;
	if (len > 0)
		parse_head(s); /* a pipelined request is already here */
	return 0;
}

void session_set_end_errno(struct session *s, const char *dir, int err)
{
	const char *name = strerrorname_np(-err);

	snprintf(s->end_buf, sizeof(s->end_buf), "%s-%s", dir,
		 name != NULL ? name : "error");
	s->end = s->end_buf;
}

bool session_is_idle(const struct session *s)
{
	return (s->state == SESSION_READ_HEAD ||
		s->state == SESSION_PROXY_HEADER) &&
	       s->head_len == 0;
}

/* Sends what is left of s->reply; on completion, lingers. */
static void send_reply(struct session *s)
{
	while (s->reply_off < s->reply_len) {
		ssize_t n = send(s->client_fd, s->reply + s->reply_off,
				 s->reply_len - s->reply_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			watch_start(s->client_wr);
			return;
		}
		if (n < 0) {
			session_finish(s, s->end);
			return;
		}
		s->reply_off += (size_t)n;
	}
	watch_stop(s->client_wr);
	if (s->reply_keepalive) {
		if (session_next_request(s, s->head + s->head_used,
					 s->head_len - s->head_used) < 0)
			session_finish(s, "no-memory");
		return;
	}
	/* RFC 9112 §9.6: close our side, then read until the client is done,
	 * so that its unread bytes do not turn our reply into a reset */
	shutdown(s->client_fd, SHUT_WR);
	s->state = SESSION_LINGER;
	watch_stop(s->timer);
	if (watch_start(s->client_rd) < 0 ||
	    watch_start_timer(s->timer, SESSION_LINGER_MS) < 0)
		session_finish(s, s->end);
}

void session_send_reply(struct session *s, char *buf, size_t len, int status,
			const char *end, bool keepalive)
{
	session_release_target(s);
	free(s->reply);
	s->reply = buf;
	s->reply_len = len;
	s->reply_off = 0;
	s->reply_keepalive = keepalive;
	s->status = status;
	s->end = end;
	s->end_ms = loop_now_ms(s->worker->loop);
	s->state = SESSION_REPLY;
	session_note_reply(s, buf, len);
	watch_stop(s->client_rd);
	watch_stop(s->timer);
	if (watch_start_timer(s->timer, SESSION_LINGER_MS) < 0) {
		session_finish(s, end);
		return;
	}
	send_reply(s);
}

void session_reply_error(struct session *s, int status, const char *end,
			 const char *fmt, ...)
{
	char reason[256];
	char *buf = malloc(SESSION_ERROR_BYTES);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_debug("%s %s %s: %d %s", s->method, s->target, end, status, reason);
	/* an answer of our own that no policy or upstream step decided (and
	 * "allowed" never ends in one): a request sluice could not read or
	 * take, or, with 500 and 503, sluice's own trouble */
	if (s->decision == 0 || s->decision == ACCESS_ALLOWED)
		s->decision = status == 500 || status == 503
				      ? ACCESS_ERROR
				      : ACCESS_BAD_REQUEST;
	if (buf == NULL) {
		s->status = status;
		session_finish(s, "no-memory");
		return;
	}
	session_send_reply(
		s, buf,
		http1_write_error(buf, SESSION_ERROR_BYTES, status, reason),
		status, end, false);
}

static void on_client_writable(void *arg)
{
	send_reply(arg);
}

/* Copies a slice into a fixed buffer as printable text for the log. */
static void copy_printable(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* No body, and the client keeps the connection: a 407 need not close. */
static bool bodiless(const struct http1_request *req)
{
	struct http1_request_info info;

	return http1_request_framing(req, &info) == HTTP1_FRAMING_OK &&
	       info.body == HTTP1_BODY_NONE && !info.conn.close;
}

static void dispatch(struct session *s, const struct http1_request *req)
{
	copy_printable(s->method, sizeof(s->method), req->method,
		       req->method_len);
	copy_printable(s->target, sizeof(s->target), req->target,
		       req->target_len);
	s->client_minor = req->minor_version;
	session_note_request(s, req);
	watch_stop(s->client_rd);
	watch_stop(s->timer);
	bool connect =
		req->method_len == 7 && memcmp(req->method, "CONNECT", 7) == 0;
	/* a 407 keeps the connection only after a request with no body
	 * (and never after CONNECT: what follows may be tunnel bytes) */
	if (s->worker->auth != NULL &&
	    auth_check(s, req, !connect && bodiless(req)) != AUTH_PASS)
		return;
	if (connect) {
		tunnel_begin(s, req->target, req->target_len);
		return;
	}
	forward_begin(s, req);
}

void session_reparse(struct session *s)
{
	s->head_seen = 0;
	s->state = SESSION_READ_HEAD;
	parse_head(s);
}

static void parse_head(struct session *s)
{
	struct http1_header headers[CONFIG_MAX_HEADER_FIELDS];
	struct http1_request req;
	struct http1_error err;
	int rc;

	rc = http1_parse_request(s->head, s->head_len, s->head_seen,
				 &s->worker->limits, headers, &req, &err);
	if (rc == -2) {
		s->head_seen = s->head_len;
		return;
	}
	if (rc < 0) {
		session_reply_error(s, http1_err_status(err.code),
				    "bad-request", "%s (at byte %zu)",
				    http1_err_text(err.code), err.offset);
		return;
	}
	s->head_used = (size_t)rc;
	dispatch(s, &req);
}

/* Makes room for more head bytes; returns false when the head is full. */
static bool grow_head(struct session *s)
{
	size_t cap;
	char *nh;

	if (s->head_len < s->head_cap)
		return true;
	size_t max = s->worker->limits.max_head_bytes;

	if (s->head_cap >= max)
		return false;
	cap = s->head_cap * 2;
	if (cap > max)
		cap = max;
	nh = realloc(s->head, cap);
	if (nh == NULL)
		return false;
	s->head = nh;
	s->head_cap = cap;
	return true;
}

static void read_head(struct session *s)
{
	ssize_t n;

	if (!grow_head(s)) {
		session_reply_error(s, 431, "bad-request",
				    "request head larger than %zu bytes",
				    s->worker->limits.max_head_bytes);
		return;
	}
	n = recv(s->client_fd, s->head + s->head_len, s->head_cap - s->head_len,
		 MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			session_finish(s, "client-error");
		return;
	}
	if (n == 0) {
		session_finish(s, "client-eof");
		return;
	}
	if (s->head_len == 0 && s->requests > 0) {
		/* a new request began on a kept-alive connection: its head has
		 * header-timeout to arrive, not what is left of keep-alive */
		s->start_ms = loop_now_ms(s->worker->loop);
		watch_stop(s->timer);
		if (watch_start_timer(s->timer,
				      s->worker->cfg->header_timeout_ms) < 0) {
			session_finish(s, "no-memory");
			return;
		}
	}
	s->head_len += (size_t)n;
	parse_head(s);
}

static void linger(struct session *s)
{
	char sink[4096];
	ssize_t n = recv(s->client_fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	s->linger_bytes += n > 0 ? (uint64_t)n : 0;
	if (n <= 0 || s->linger_bytes > SESSION_LINGER_BYTES)
		session_finish(s, s->end);
}

static void on_client_readable(void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_READ_HEAD)
		read_head(s);
	else if (s->state == SESSION_PROXY_HEADER)
		read_proxy_header(s);
	else if (s->state == SESSION_LINGER)
		linger(s);
	else
		watch_stop(s->client_rd);
}

static void on_timer(void *arg)
{
	struct session *s = arg;

	switch (s->state) {
	case SESSION_PROXY_HEADER:
		refuse_proxy_header(s, "bad-proxy-header", "none in time");
		break;
	case SESSION_READ_HEAD:
		if (s->requests > 0 && s->head_len == 0) {
			session_finish(s,
				       "keepalive-timeout"); /* idle: quiet */
			break;
		}
		session_reply_error(s, 408, "header-timeout",
				    "request head not received in time");
		break;
	case SESSION_LINGER:
	case SESSION_REPLY:
		session_finish(s, s->end);
		break;
	case SESSION_AUTH:
		auth_cancel(s);
		session_reply_error(s, 503, "auth-timeout",
				    "the password check took too long");
		break;
	case SESSION_TUNNEL:
		tunnel_on_timer(s);
		break;
	case SESSION_PARENT:
		parent_on_timer(s);
		break;
	case SESSION_FORWARD:
	case SESSION_RESPONSE:
		forward_on_timer(s);
		break;
	default:
		break;
	}
}
