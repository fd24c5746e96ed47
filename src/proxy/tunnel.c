/*
 * tunnel.c - CONNECT (RFC 9110 §9.3.6): check the target, resolve it, dial
 * it, answer 200, then relay bytes both ways with two pumps until both
 * directions are finished, an error, or the idle timeout.
 *
 * Owns the tunnel half of struct session: query, dial, target_fd, pumps.
 * The answer is sent only once the target has accepted, so a client never
 * sees 200 for a tunnel that cannot work.
 */
#include "proxy/session.h"

#include "config/config.h"
#include "http/http1_response.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_resolved(void *arg, enum resolve_status status,
			const struct dial_addrs *addrs);
static void on_dialled(void *arg, int fd, int err);
static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err);

static void dial(struct session *s, const struct dial_addrs *addrs)
{
	const struct config *cfg = s->worker->cfg;

	s->state = SESSION_CONNECT;
	if (dial_start(&s->dial, s->worker->loop, addrs,
		       cfg->connect_timeout_ms, on_dialled, s) < 0)
		session_reply_error(s, 500, "no-memory", "out of memory");
}

/* Builds the address of an IP literal target without asking DNS. */
static int literal_addr(const struct authority *a, struct dial_addrs *addrs)
{
	char text[INET6_ADDRSTRLEN];

	if (a->host_len >= sizeof(text))
		return -1;
	memcpy(text, a->host, a->host_len);
	text[a->host_len] = '\0';
	memset(addrs, 0, sizeof(*addrs));
	if (a->kind == AUTHORITY_IPV4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&addrs->addr[0];
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			return -1;
		addrs->len[0] = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 =
			(struct sockaddr_in6 *)&addrs->addr[0];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			return -1;
		addrs->len[0] = sizeof(*s6);
	}
	addrs->n = 1;
	return 0;
}

void tunnel_begin(struct session *s, const char *target, size_t target_len)
{
	const struct config *cfg = s->worker->cfg;
	struct authority a;
	enum authority_error aerr;
	struct dial_addrs addrs;

	/* RFC 9110 §9.3.6: CONNECT takes authority-form, port required */
	aerr = authority_parse(target, target_len, 0, &a);
	if (aerr != AUTHORITY_OK) {
		session_reply_error(s, 400, "bad-target",
				    "bad CONNECT target: %s",
				    authority_strerror(aerr));
		return;
	}
	if (!config_port_allowed(cfg, a.port)) {
		session_reply_error(s, 403, "port-denied",
				    "CONNECT to port %u is not allowed",
				    a.port);
		return;
	}
	memcpy(s->host, a.host, a.host_len);
	s->host[a.host_len] = '\0';
	s->port = a.port;

	if (a.kind != AUTHORITY_NAME) {
		if (literal_addr(&a, &addrs) < 0) {
			session_reply_error(
				s, 400, "bad-target", "bad CONNECT target: %s",
				authority_strerror(AUTHORITY_BAD_IPV6));
			return;
		}
		dial(s, &addrs);
		return;
	}
	s->state = SESSION_RESOLVE;
	s->query = resolve_start(s->worker->resolver, s->host, s->port,
				 on_resolved, s);
	if (s->query == NULL)
		session_reply_error(s, 500, "no-memory", "out of memory");
}

static void on_resolved(void *arg, enum resolve_status status,
			const struct dial_addrs *addrs)
{
	struct session *s = arg;

	s->query = NULL;
	switch (status) {
	case RESOLVE_OK:
		dial(s, addrs);
		return;
	case RESOLVE_TIMEOUT:
		session_reply_error(s, 504, "dns-timeout",
				    "DNS lookup of %s timed out", s->host);
		return;
	case RESOLVE_NO_NAME:
		session_reply_error(s, 502, "unknown-host", "unknown host %s",
				    s->host);
		return;
	case RESOLVE_FAILURE:
		break;
	}
	session_reply_error(s, 502, "dns-failure", "DNS lookup of %s failed",
			    s->host);
}

static int start_pumps(struct session *s)
{
	struct worker *w = s->worker;
	size_t extra = s->head_len - s->head_used;

	if (pump_init(&s->up, w->loop, &w->pipes, s->client_fd, s->target_fd,
		      on_pump, s) < 0 ||
	    pump_init(&s->down, w->loop, &w->pipes, s->target_fd, s->client_fd,
		      on_pump, s) < 0)
		return -1;
	/* bytes the client sent after its head, before our 200: first out */
	if (pump_preload(&s->up, s->head + s->head_used, extra) < 0 ||
	    pump_prefix(&s->down, HTTP1_CONNECT_OK,
			sizeof(HTTP1_CONNECT_OK) - 1) < 0)
		return -1;
	free(s->head);
	s->head = NULL;
	s->head_len = s->head_cap = s->head_used = 0;
	if (pump_start(&s->up) < 0 || pump_start(&s->down) < 0)
		return -1;
	return 0;
}

static void on_dialled(void *arg, int fd, int err)
{
	struct session *s = arg;
	const struct config *cfg = s->worker->cfg;

	if (fd < 0) {
		if (err == -ETIMEDOUT)
			session_reply_error(
				s, 504, "connect-timeout",
				"connecting to %s port %u timed out", s->host,
				s->port);
		else
			session_reply_error(
				s, 502, "connect-failed",
				"connecting to %s port %u failed: %s", s->host,
				s->port, strerror(-err));
		return;
	}
	s->target_fd = fd;
	s->status = 200;
	s->state = SESSION_TUNNEL;
	if (start_pumps(s) < 0) {
		session_finish(s, "no-memory");
		return;
	}
	watch_stop(s->timer);
	if (watch_start_timer(s->timer, cfg->tunnel_idle_timeout_ms) < 0)
		session_finish(s, "no-memory");
}

void tunnel_on_timer(struct session *s)
{
	uint64_t idle = s->worker->cfg->tunnel_idle_timeout_ms;
	uint64_t last = s->up.last_ms > s->down.last_ms ? s->up.last_ms
							: s->down.last_ms;
	uint64_t now = loop_now_ms(s->worker->loop);

	if (now - last >= idle) {
		session_finish(s, "idle-timeout");
		return;
	}
	/* bytes moved since the timer was set: sleep for the remainder */
	if (watch_start_timer(s->timer, idle - (now - last)) < 0)
		session_finish(s, "no-memory");
}

static void set_end_errno(struct session *s, const char *dir, int err)
{
	const char *name = strerrorname_np(-err);

	snprintf(s->end_buf, sizeof(s->end_buf), "%s-%s", dir,
		 name != NULL ? name : "error");
	s->end = s->end_buf;
}

static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err)
{
	struct session *s = arg;

	if (ev == PUMP_ERROR) {
		set_end_errno(s, p == &s->up ? "up" : "down", err);
		session_finish(s, s->end);
		return;
	}
	if (p == &s->up)
		s->up_done = true;
	else
		s->down_done = true;
	if (s->up_done && s->down_done)
		session_finish(s, "done");
}

void tunnel_release(struct session *s)
{
	if (s->query != NULL) {
		resolve_cancel(s->query);
		s->query = NULL;
	}
	if (s->state == SESSION_CONNECT)
		dial_cancel(&s->dial);
	pump_deinit(&s->up);
	pump_deinit(&s->down);
	if (s->target_fd >= 0) {
		close(s->target_fd);
		s->target_fd = -1;
	}
}
