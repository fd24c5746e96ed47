/*
 * forward.c - plain-HTTP forwarding (RFC 9110 §7.6, RFC 9112): an
 * absolute-form request is checked, rewritten to origin-form with its
 * hop-by-hop fields removed and Via added, sent to the origin, and the
 * response streamed back by its framing; then the client connection serves
 * the next request (keep-alive, pipelining) or closes.
 *
 * Owns the forwarding half of struct session: the rewritten request head,
 * the response head buffer, the framers, and the target's read watch until
 * the response head is in. Bodies move through the pumps: Content-Length
 * bodies spliced, chunked bodies copied through a validating framer.
 *
 * Origin connections are pooled (origin_pool.c); the client side is kept
 * alive. Through a parent proxy (parent.c) the parent is the target: the
 * request goes in absolute form with our Proxy-Authorization, and the
 * connection is pooled under the parent's key.
 */
#include "proxy/session.h"

#include "config/config.h"
#include "http/http1_framing.h"
#include "http/http1_response.h"
#include "http/http1_response_head.h"
#include "http/http1_writer.h"
#include "http/uri.h"
#include "proxy/origin_pool.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VIA_ENTRY "1.1 sluice"

static void on_target_readable(void *arg);
static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err);

/* The request may be sent again should a reused connection prove stale:
 * it has no body and its method is idempotent (RFC 9110 §9.2.2). */
static bool replayable(const struct session *s)
{
	static const char *const safe[] = {"GET",   "HEAD",   "OPTIONS",
					   "TRACE", "DELETE", "PUT"};

	if (s->req_body != HTTP1_BODY_NONE)
		return false;
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (strcmp(s->method, safe[i]) == 0)
			return true;
	return false;
}

/*
 * Framer for chunked bodies: validates every byte with the decoder and
 * passes them on as they came, or (strip) only the data, for a client that
 * cannot take chunked framing.
 */
static long frame_chunked(void *arg, char *data, size_t len, size_t *out_len,
			  bool *done)
{
	struct chunk_framer *f = arg;
	size_t pos = 0, out = 0;

	while (pos < len && f->dec.state != HTTP1_CHUNK_DONE) {
		struct http1_chunk_data d;
		long n = http1_chunked_feed(&f->dec, data + pos, len - pos, &d);

		if (n < 0)
			return -EBADMSG;
		if (f->strip && d.len > 0) {
			memmove(data + out, data + pos + d.offset, d.len);
			out += d.len;
		}
		pos += (size_t)n;
		if (n == 0)
			break;
	}
	*out_len = f->strip ? out : pos;
	*done = f->dec.state == HTTP1_CHUNK_DONE;
	return (long)pos;
}

static void frame_body(struct pump *p, enum http1_body body, uint64_t length,
		       struct chunk_framer *f, bool strip)
{
	switch (body) {
	case HTTP1_BODY_NONE:
		pump_set_length(p, 0);
		break;
	case HTTP1_BODY_LENGTH:
		pump_set_length(p, length);
		break;
	case HTTP1_BODY_CHUNKED:
		http1_chunked_init(&f->dec);
		f->strip = strip;
		pump_set_framer(p, frame_chunked, f);
		break;
	case HTTP1_BODY_CLOSE:
		break; /* until EOF, the pump's default */
	}
}

/* Does the target name one of our own listening sockets (a loop)? */
static bool is_own_listener(const struct session *s, const struct authority *a)
{
	const struct worker *w = s->worker;
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	struct in_addr a4;

	if (a->kind == AUTHORITY_NAME || a->host_len >= sizeof(text))
		return false;
	memcpy(text, a->host, a->host_len);
	text[a->host_len] = '\0';
	for (size_t i = 0; i < w->n_addrs; i++) {
		const struct sockaddr_storage *l = &w->addrs[i];
		if (l->ss_family == AF_INET && a->kind == AUTHORITY_IPV4) {
			const struct sockaddr_in *l4 = (const void *)l;
			if (inet_pton(AF_INET, text, &a4) == 1 &&
			    ntohs(l4->sin_port) == a->port &&
			    (l4->sin_addr.s_addr == a4.s_addr ||
			     l4->sin_addr.s_addr == htonl(INADDR_ANY)))
				return true;
		} else if (l->ss_family == AF_INET6 &&
			   a->kind == AUTHORITY_IPV6) {
			const struct sockaddr_in6 *l6 = (const void *)l;
			if (inet_pton(AF_INET6, text, &a6) == 1 &&
			    ntohs(l6->sin6_port) == a->port &&
			    (memcmp(&l6->sin6_addr, &a6, sizeof(a6)) == 0 ||
			     memcmp(&l6->sin6_addr, &in6addr_any, sizeof(a6)) ==
				     0))
				return true;
		}
	}
	return false;
}

void forward_begin(struct session *s, const struct http1_request *req)
{
	const struct config *cfg = s->worker->cfg;
	struct http1_request_info info;
	enum http1_framing_err ferr;
	enum authority_error aerr;
	enum uri_error uerr;
	struct uri uri;
	char client_ip[INET6_ADDRSTRLEN] = "";

	uerr = uri_parse_absolute(req->target, req->target_len, &uri, &aerr);
	if (uerr == URI_NOT_ABSOLUTE) {
		session_reply_error(s, 400, "not-proxy-request",
				    "a proxy needs an absolute URI "
				    "(http://host/path)");
		return;
	}
	if (uerr == URI_SCHEME) {
		session_reply_error(s, 501, "bad-scheme",
				    "only http:// is forwarded; use CONNECT "
				    "for https");
		return;
	}
	if (uerr != URI_OK) {
		session_reply_error(
			s, 400, "bad-target", "bad URI: %s%s%s",
			uri_strerror(uerr), uerr == URI_AUTHORITY ? ": " : "",
			uerr == URI_AUTHORITY ? authority_strerror(aerr) : "");
		return;
	}
	ferr = http1_request_framing(req, &info);
	if (ferr != HTTP1_FRAMING_OK) {
		session_reply_error(s, http1_framing_status(ferr),
				    "bad-request", "%s",
				    http1_framing_strerror(ferr));
		return;
	}
	if (uri.authority.kind == AUTHORITY_NAME &&
	    block_request(s, uri.authority.host, uri.authority.host_len, false,
			  info.body == HTTP1_BODY_NONE && !info.conn.close,
			  req->method_len == 4 &&
				  memcmp(req->method, "HEAD", 4) == 0))
		return;
	/* cross-protocol requests (HTTP to SMTP, ...) go nowhere */
	if (!config_http_port_allowed(cfg, uri.authority.port)) {
		session_decide(s, ACCESS_PORT_DENIED, "http-ports");
		session_reply_error(s, 403, "port-denied",
				    "forwarding to port %u is not allowed",
				    uri.authority.port);
		return;
	}
	if (is_own_listener(s, &uri.authority)) {
		session_reply_error(s, 400, "loop",
				    "the request is addressed to this proxy");
		return;
	}
	if (cfg->x_forwarded_for) {
		if (s->peer.ss_family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&s->peer)->sin_addr,
				  client_ip, sizeof(client_ip));
		else if (s->peer.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&s->peer)->sin6_addr,
				  client_ip, sizeof(client_ip));
	}

	/* through a parent proxy: absolute form, with our credentials */
	bool parent =
		cfg->upstream[0] != '\0' && parent_chosen(s, &uri.authority);
	struct http1_request_out out = {
		.req = req,
		.info = &info,
		.uri = &uri,
		.via = VIA_ENTRY,
		.forwarded_for = client_ip[0] != '\0' ? client_ip : NULL,
		.close = false,
		.absolute = parent,
		.proxy_authorization = parent && cfg->upstream_auth[0] != '\0'
					       ? cfg->upstream_auth
					       : NULL,
	};
	size_t cap = s->head_used + 1024;
	if (parent) /* "http://" and the authority, our credentials */
		cap += uri.authority_len + strlen(cfg->upstream_auth) + 64;
	s->req_out = malloc(cap);
	if (s->req_out == NULL) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	s->req_out_len = http1_write_request_head(s->req_out, cap, &out);
	if (s->req_out_len == 0) {
		session_reply_error(s, 431, "bad-request",
				    "request head too large to forward");
		return;
	}
	session_decide(s, ACCESS_ALLOWED, NULL);
	s->forwarding = true;
	s->req_body = info.body;
	s->req_length = info.content_length;
	s->client_minor = req->minor_version;
	s->client_close = info.conn.close;
	s->websocket = info.websocket;

	/* the origin (or parent), kept so that a stale pooled connection
	 * can be retried */
	if (parent) {
		if (parent_target(s, &s->origin) < 0)
			return;
	} else {
		memcpy(s->host, uri.authority.host, uri.authority.host_len);
		s->host[uri.authority.host_len] = '\0';
		s->port = uri.authority.port;
		s->origin = uri.authority;
		s->origin.host = s->host;
	}
	char key[ORIGIN_KEY_MAX];
	origin_pool_key(key, parent, s->host, s->origin.host_len, s->port);
	/* a stale connection costs a replayable request only a retry, so
	 * only the others pay a probe for the pool's every reuse */
	s->target_fd = origin_pool_take(&s->worker->origins, key,
					!replayable(s), &s->target_rd);
	if (s->target_fd >= 0) {
		watch_retarget(s->target_rd, on_target_readable, s);
		s->reused = true;
		forward_connected(s);
		return;
	}
	upstream_connect(s, &s->origin, forward_connected);
}

void forward_connected(struct session *s)
{
	struct worker *w = s->worker;

	s->state = SESSION_FORWARD;
	session_note_server(s);
	if (s->target_rd == NULL) /* a new connection; a pooled one has it */
		s->target_rd = watch_new_read(w->loop, s->target_fd,
					      on_target_readable, s);
	if (s->target_rd == NULL || session_answer_buf(s) < 0 ||
	    pump_init(&s->up, w->loop, &w->pipes, s->client_fd, s->target_fd,
		      on_pump, s) < 0 ||
	    pump_prefix(&s->up, s->req_out, s->req_out_len) < 0 ||
	    pump_preload(&s->up, s->head + s->head_used,
			 s->head_len - s->head_used) < 0) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	frame_body(&s->up, s->req_body, s->req_length, &s->req_framer, false);
	if (pump_start(&s->up) < 0) {
		session_reply_error(s, 400, "bad-request",
				    "invalid chunked request body");
		return;
	}
	watch_stop(s->timer);
	if (watch_start(s->target_rd) < 0 ||
	    watch_start_timer(s->timer, w->cfg->response_timeout_ms) < 0)
		session_finish(s, "no-memory");
}

/*
 * The origin accepted a WebSocket upgrade (RFC 9110 §7.8): relay its 101,
 * then bytes both ways until both sides are done, as a tunnel.
 */
static void upgrade(struct session *s, const struct http1_response *res,
		    const struct http1_response_info *info, size_t head_len)
{
	struct worker *w = s->worker;
	const char *early;
	size_t early_len;
	char *head = w->scratch;
	struct http1_response_out out = {
		.res = res,
		.info = info,
		.client_minor_version = s->client_minor,
		.via = VIA_ENTRY,
		.close = false,
	};
	size_t n = http1_write_response_head(head, w->scratch_cap, &out);
	struct pump up_old = s->up;

	if (n == 0) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "response head too large");
		return;
	}
	s->status = res->status;
	s->own_bytes += n;
	s->upgraded = true;
	s->up_done = s->down_done = false;
	watch_stop(s->target_rd);
	pump_leftover(&up_old, &early, &early_len);
	memset(&s->up, 0, sizeof(s->up));
	if (pump_init(&s->up, w->loop, &w->pipes, s->client_fd, s->target_fd,
		      on_pump, s) < 0 ||
	    pump_preload(&s->up, early, early_len) < 0 ||
	    pump_init(&s->down, w->loop, &w->pipes, s->target_fd, s->client_fd,
		      on_pump, s) < 0 ||
	    pump_prefix(&s->down, head, n) < 0 ||
	    pump_preload(&s->down, s->resp + head_len, s->resp_len - head_len) <
		    0) {
		pump_deinit(&up_old);
		session_finish(s, "no-memory");
		return;
	}
	pump_deinit(&up_old);
	s->state = SESSION_TUNNEL;
	watch_stop(s->timer);
	if (pump_start(&s->up) < 0 || pump_start(&s->down) < 0 ||
	    watch_start_timer(s->timer, w->cfg->tunnel_idle_timeout_ms) < 0)
		session_finish(s, "no-memory");
}

/* Does the response carry a transfer coding other than chunked alone? */
static bool has_other_codings(const struct http1_response *res)
{
	for (size_t i = 0; i < res->num_headers; i++) {
		const struct http1_header *h = &res->headers[i];
		if (http1_name_eq(h->name, h->name_len, "transfer-encoding") &&
		    !http1_name_eq(h->value, h->value_len, "chunked"))
			return true;
	}
	return false;
}

/* For the access log: the response's Content-Type, when it shows it. */
static void note_content_type(struct session *s,
			      const struct http1_response *res)
{
	if ((access_log_wants(s->worker->access_log) & ACCESS_WANTS_REPLY) == 0)
		return;
	for (size_t i = 0; i < res->num_headers; i++) {
		const struct http1_header *h = &res->headers[i];
		if (http1_name_eq(h->name, h->name_len, "content-type")) {
			session_note_type(s, h->value, h->value_len);
			return;
		}
	}
}

/* Relays an interim (1xx) or final response head and its body. */
static void start_response(struct session *s, const struct http1_response *res,
			   const struct http1_response_info *info,
			   size_t head_len)
{
	struct worker *w = s->worker;
	bool interim = res->status < 200;
	bool strip = info->body == HTTP1_BODY_CHUNKED && s->client_minor == 0;
	char *head = w->scratch; /* copied into the pump's prefix */
	size_t n = 0;

	if (res->status == 101) {
		upgrade(s, res, info, head_len);
		return;
	}
	/* an HTTP/1.0 client knows no transfer coding: it would take gzip
	 * bytes for the content (RFC 9112 §6.1) */
	if (!interim && s->client_minor == 0 && has_other_codings(res)) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "the origin's transfer coding cannot be "
				    "sent to an HTTP/1.0 client");
		return;
	}
	if (!interim) {
		/* RFC 9112 §9.6: say so when we will close after this; a
		 * draining worker closes every connection after its response */
		s->client_close = s->client_close || strip || w->draining ||
				  info->body == HTTP1_BODY_CLOSE || !s->up_done;
		s->status = res->status;
		s->origin_reusable =
			!info->conn.close && info->body != HTTP1_BODY_CLOSE;
		note_content_type(s, res);
	}
	/* 1xx never goes to an HTTP/1.0 client (RFC 9110 §15.2) */
	if (!interim || s->client_minor > 0) {
		struct http1_response_out out = {
			.res = res,
			.info = info,
			.client_minor_version = s->client_minor,
			.via = VIA_ENTRY,
			.close = s->client_close,
			.chunk_it = false,
		};
		struct http1_response_info shown = *info;
		if (strip)
			shown.body = HTTP1_BODY_CLOSE; /* de-chunked, no CL */
		out.info = &shown;
		n = http1_write_response_head(head, w->scratch_cap, &out);
		if (n == 0) {
			session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
			session_reply_error(s, 502, "bad-response",
					    "response head too large");
			return;
		}
	}
	s->own_bytes += n;
	pump_deinit(&s->down);
	if (pump_init(&s->down, w->loop, &w->pipes, s->target_fd, s->client_fd,
		      on_pump, s) < 0 ||
	    pump_prefix(&s->down, head, n) < 0 ||
	    pump_preload(&s->down, s->resp + head_len, s->resp_len - head_len) <
		    0) {
		session_finish(s, "no-memory");
		return;
	}
	s->resp_len = 0;
	s->resp_seen = 0;
	s->interim = interim;
	frame_body(&s->down, interim ? HTTP1_BODY_NONE : info->body,
		   info->content_length, &s->resp_framer, strip);
	watch_stop(s->target_rd);
	s->state = SESSION_RESPONSE;
	if (pump_start(&s->down) < 0) {
		/* the body's first bytes, read with the head, are malformed:
		 * nothing has gone to the client yet */
		pump_deinit(&s->down);
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "invalid chunked body from the origin");
		return;
	}
	watch_stop(s->timer);
	if (watch_start_timer(s->timer, w->cfg->tunnel_idle_timeout_ms) < 0)
		session_finish(s, "no-memory");
}

static void parse_response(struct session *s)
{
	struct http1_header headers[CONFIG_MAX_HEADER_FIELDS];
	struct http1_response res;
	struct http1_response_info info;
	struct http1_error err;
	enum http1_framing_err ferr;
	int rc;

	rc = http1_parse_response(s->resp, s->resp_len, s->resp_seen,
				  &s->worker->limits, headers, &res, &err);
	if (rc == -2) {
		s->resp_seen = s->resp_len;
		return;
	}
	if (rc < 0) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "invalid response from the origin: %s",
				    http1_err_text(err.code));
		return;
	}
	/* a parent's 407 is for us, not the client (RFC 9110 §11.7.1) */
	if (s->via_parent && res.status == 407) {
		char who[AUTHORITY_MAX_NAME + 32];
		parent_name(s, who, sizeof(who));
		log_info("%s %s: %s refused our credentials (407)", s->method,
			 s->target, who);
		session_decide(s, ACCESS_UPSTREAM_ERROR, "parent-407");
		session_reply_error(s, 502, "parent-refused",
				    "%s refused our credentials (407)", who);
		return;
	}
	if (res.status == 101 && (!s->websocket || !s->up_done)) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "the origin switched protocols unasked");
		return;
	}
	ferr = http1_response_framing(&res, s->method, strlen(s->method),
				      &info);
	if (ferr != HTTP1_FRAMING_OK) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "invalid response from the origin: %s",
				    http1_framing_strerror(ferr));
		return;
	}
	start_response(s, &res, &info, (size_t)rc);
}

/*
 * A pooled connection failed before the response began: the origin closed
 * it as we took it, or its first bytes cannot start a status line. A
 * request without a body that is safe to repeat (RFC 9110 §9.2.2) is sent
 * again, once, on a fresh connection, unless a 1xx of it has reached the
 * client already.
 */
static bool retry_stale(struct session *s)
{
	if (!s->reused || s->retried || s->own_bytes > 0 || !replayable(s))
		return false;
	s->retried = true;
	s->reused = false;
	watch_free(s->target_rd);
	s->target_rd = NULL;
	pump_deinit(&s->up);
	memset(&s->up, 0, sizeof(s->up));
	s->up_done = false;
	close(s->target_fd);
	s->target_fd = -1;
	session_answer_buf_release(s);
	upstream_connect(s, &s->origin, forward_connected);
	return true;
}

/*
 * Bytes on a reused connection that cannot begin "HTTP/" were there before
 * the request (stray bytes behind the last answer, which the pool's watch
 * had no loop round to see) or the origin lost its framing: the answer is
 * not this request's.
 */
static bool junk_on_reused(const struct session *s)
{
	static const char version[] = "HTTP/";
	size_t n = s->resp_len < sizeof(version) - 1 ? s->resp_len
						     : sizeof(version) - 1;

	return s->reused && memcmp(s->resp, version, n) != 0;
}

static void on_target_readable(void *arg)
{
	struct session *s = arg;
	ssize_t n = session_recv_answer(s);

	if (n == -EAGAIN)
		return;
	if (n == -ENOMEM) {
		session_finish(s, "no-memory");
		return;
	}
	if (n == -E2BIG) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "bad-response",
				    "response head too large");
		return;
	}
	if (n == 0) {
		if (s->resp_len == 0 && retry_stale(s))
			return;
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 502, "no-response",
				    "the origin closed the connection "
				    "without a response");
		return;
	}
	if (junk_on_reused(s) && retry_stale(s))
		return;
	parse_response(s);
}

/* The exchange is over: log it, then serve the next request or close. */
static void request_done(struct session *s)
{
	const char *left;
	size_t left_len;

	pump_leftover(&s->down, &left, &left_len);
	if (s->origin_reusable && left_len == 0) {
		/* a whole exchange, nothing extra: the next request may use it
		 */
		char key[ORIGIN_KEY_MAX];
		origin_pool_key(key, s->via_parent, s->host, strlen(s->host),
				s->port);
		origin_pool_put(&s->worker->origins, key, s->target_fd,
				s->target_rd);
		s->target_fd = -1;
		s->target_rd = NULL;
	}

	if (s->client_close || s->worker->draining) {
		session_finish(s, "done");
		return;
	}
	pump_leftover(&s->up, &left, &left_len);
	if (session_next_request(s, left, left_len) < 0)
		session_finish(s, "no-memory");
}

/* Bytes that came behind a 1xx head start the next head. 0 or -1. */
static int take_interim_leftover(struct session *s)
{
	const char *left;
	size_t left_len;

	pump_leftover(&s->down, &left, &left_len);
	if (left_len > s->resp_cap)
		return -1;
	if (left_len > 0)
		memcpy(s->resp, left, left_len);
	s->resp_len = left_len;
	return 0;
}

static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err)
{
	struct session *s = arg;

	if (ev == PUMP_ERROR) {
		if (p == &s->up && s->state == SESSION_FORWARD &&
		    (err == -EPIPE || err == -ECONNRESET) && s->resp_len == 0 &&
		    retry_stale(s))
			return;
		if (p == &s->up && s->state == SESSION_FORWARD &&
		    err == -EBADMSG) {
			session_reply_error(s, 400, "bad-request",
					    "invalid chunked request body");
			return;
		}
		session_set_end_errno(s, p == &s->up ? "up" : "down", err);
		session_finish(s, s->end);
		return;
	}
	if (s->upgraded) {
		if (p == &s->up)
			s->up_done = true;
		else
			s->down_done = true;
		if (s->up_done && s->down_done)
			session_finish(s, "done");
		return;
	}
	if (p == &s->up) {
		/* the response cannot end first: see below */
		s->up_done = true;
		return;
	}
	if (s->interim) {
		/* a 1xx went out: the real response follows */
		s->interim = false;
		s->state = SESSION_FORWARD;
		if (watch_start(s->target_rd) < 0) {
			session_finish(s, "no-memory");
			return;
		}
		if (take_interim_leftover(s) < 0) {
			session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
			session_finish(s, "bad-response");
		} else if (s->resp_len > 0) {
			parse_response(s);
		}
		return;
	}
	s->down_done = true;
	if (s->up_done)
		request_done(s);
	else /* the request body is unread; start_response said close */
		session_finish(s, "done");
}

void forward_on_timer(struct session *s)
{
	if (s->state == SESSION_FORWARD) {
		session_decide(s, ACCESS_UPSTREAM_ERROR, NULL);
		session_reply_error(s, 504, "response-timeout",
				    "the origin did not answer in time");
		return;
	}
	tunnel_on_timer(s);
}

void forward_release(struct session *s)
{
	watch_free(s->target_rd);
	s->target_rd = NULL;
	free(s->req_out);
	s->req_out = NULL;
	session_answer_buf_release(s);
}
