/*
 * tunnel.c - CONNECT (RFC 9110 §9.3.6): check the target and its port,
 * have upstream.c reach it, answer 200, then relay bytes both ways with two
 * pumps until both directions are finished, an error, or the idle timeout.
 *
 * Owns the tunnel half of struct session: the pumps and the idle timer.
 * The answer is sent only once the target has accepted (or, through a
 * parent proxy, once the parent answered 2xx: parent.c), so a client never
 * sees 200 for a tunnel that cannot work.
 */
#include "proxy/session.h"

#include "config/config.h"
#include "http/http1_response.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void tunnel_connected(struct session *s);
static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err);

void tunnel_begin(struct session *s, const char *target, size_t target_len)
{
	const struct config *cfg = s->worker->cfg;
	struct authority a;
	enum authority_error aerr;

	/* RFC 9110 §9.3.6: CONNECT takes authority-form, port required */
	aerr = authority_parse(target, target_len, 0, &a);
	if (aerr != AUTHORITY_OK) {
		session_reply_error(s, 400, "bad-target",
				    "bad CONNECT target: %s",
				    authority_strerror(aerr));
		return;
	}
	if (a.kind == AUTHORITY_NAME &&
	    block_request(s, a.host, a.host_len, true, false, false))
		return;
	if (!config_port_allowed(cfg, a.port)) {
		session_decide(s, ACCESS_PORT_DENIED, "connect-ports");
		session_reply_error(s, 403, "port-denied",
				    "CONNECT to port %u is not allowed",
				    a.port);
		return;
	}
	session_decide(s, ACCESS_ALLOWED, NULL);
	if (cfg->upstream[0] != '\0' && parent_chosen(s, &a)) {
		parent_tunnel(s, target, target_len);
		return;
	}
	upstream_connect(s, &a, tunnel_connected);
}

static int start_pumps(struct session *s, const char *early, size_t early_len)
{
	struct worker *w = s->worker;
	size_t extra = s->head_len - s->head_used;

	if (pump_init(&s->up, w->loop, &w->pipes, s->client_fd, s->target_fd,
		      on_pump, s) < 0 ||
	    pump_init(&s->down, w->loop, &w->pipes, s->target_fd, s->client_fd,
		      on_pump, s) < 0)
		return -1;
	/* on_pump closes both sockets once both pumps are done */
	s->up.twin = &s->down;
	s->down.twin = &s->up;
	/* bytes the client sent after its head, before our 200: first out */
	if (pump_preload(&s->up, s->head + s->head_used, extra) < 0 ||
	    pump_prefix(&s->down, HTTP1_CONNECT_OK,
			sizeof(HTTP1_CONNECT_OK) - 1) < 0 ||
	    pump_preload(&s->down, early, early_len) < 0)
		return -1;
	free(s->head);
	s->head = NULL;
	s->head_len = s->head_cap = s->head_used = 0;
	forward_release(s); /* a parent proxy's answer, copied: done with */
	if (pump_start(&s->up) < 0 || pump_start(&s->down) < 0)
		return -1;
	return 0;
}

static void tunnel_connected(struct session *s)
{
	tunnel_open(s, NULL, 0);
}

void tunnel_open(struct session *s, const char *early, size_t early_len)
{
	const struct config *cfg = s->worker->cfg;

	s->status = 200;
	s->state = SESSION_TUNNEL;
	s->own_bytes += sizeof(HTTP1_CONNECT_OK) - 1;
	session_note_server(s);
	s->tunnel_open = true;
	counter_inc(&s->worker->metrics.tunnels_opened);
	if (start_pumps(s, early, early_len) < 0) {
		session_finish(s, "no-memory");
		return;
	}
	/* the pumps watch both sockets now: an idle tunnel holds no more
	 * than it needs (a tunnel ends only through session_finish) */
	watch_free(s->client_rd);
	watch_free(s->client_wr);
	s->client_rd = s->client_wr = NULL;
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

static void on_pump(void *arg, struct pump *p, enum pump_event ev, int err)
{
	struct session *s = arg;

	if (ev == PUMP_ERROR) {
		session_set_end_errno(s, p == &s->up ? "up" : "down", err);
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
