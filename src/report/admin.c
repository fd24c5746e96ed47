/*
 * admin.c - see admin.h.
 */
#include "report/admin.h"

#include "http/http1_request.h"
#include "http/http1_response.h"
#include "net/listener.h"
#include "net/loop.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ADMIN_MAX_FIELDS 64

struct admin_conn {
	struct admin *admin;
	int fd;
	struct watch *rd, *wr, *timer;
	char head[ADMIN_HEAD_MAX];
	size_t len;
	char *out; /* the response; malloc'd */
	size_t out_len, out_off;
};

struct admin {
	pthread_t thread;
	struct loop *loop;
	int listen_fd;
	struct watch *accepting;
	int ctl_fd[2]; /* a byte on [1] stops the thread */
	struct watch *ctl;
	admin_collect_fn collect;
	void *arg;
	const char *version;
	struct admin_conn *conns[ADMIN_MAX_CONNECTIONS];
};

static void conn_close(struct admin_conn *c)
{
	struct admin *a = c->admin;

	for (size_t i = 0; i < ADMIN_MAX_CONNECTIONS; i++)
		if (a->conns[i] == c)
			a->conns[i] = NULL;
	watch_free(c->rd);
	watch_free(c->wr);
	watch_free(c->timer);
	close(c->fd);
	free(c->out);
	free(c);
}

static void on_writable(void *arg)
{
	struct admin_conn *c = arg;

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (watch_start(c->wr) < 0)
				break;
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	conn_close(c);
}

/* Answers status with body[0..len) of type; the connection then closes. */
static void respond(struct admin_conn *c, int status, const char *type,
		    const char *body, size_t len, bool head_only)
{
	size_t cap = len + 512;

	watch_stop(c->rd);
	c->out = malloc(cap);
	c->out_len = c->out != NULL
			     ? http1_write_response(c->out, cap, status, type,
						    body, len, true, head_only)
			     : 0;
	if (c->out_len == 0) {
		conn_close(c);
		return;
	}
	on_writable(c);
}

/* The figures as the page or the exposition format, into a new string. */
static char *render(struct admin *a, bool html, size_t *len)
{
	struct metrics_view *v = calloc(1, sizeof(*v));
	char *text = NULL;
	FILE *out;

	if (v == NULL)
		return NULL;
	a->collect(a->arg, v);
	out = open_memstream(&text, len);
	if (out != NULL) {
		if (html)
			metrics_write_html(out, v, a->version);
		else
			metrics_write_prometheus(out, v, a->version);
		if (fclose(out) != 0) {
			free(text);
			text = NULL;
		}
	}
	free(v);
	return text;
}

static bool path_is(const char *target, size_t len, const char *path)
{
	size_t n = strlen(path);
	/* the query, if any, does not matter */
	return len >= n && memcmp(target, path, n) == 0 &&
	       (len == n || target[n] == '?');
}

static void serve(struct admin_conn *c, const struct http1_request *req)
{
	struct admin *a = c->admin;
	bool head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
	bool get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
	const char *t = req->target;
	size_t tl = req->target_len;

	if (!get && !head) {
		static const char text[] = "only GET and HEAD here\n";
		respond(c, 405, "text/plain; charset=utf-8", text,
			sizeof(text) - 1, false);
		return;
	}
	if (path_is(t, tl, "/healthz")) {
		respond(c, 200, "text/plain; charset=utf-8", "ok\n", 3, head);
	} else if (path_is(t, tl, "/readyz")) {
		struct metrics_view *v = calloc(1, sizeof(*v));
		if (v == NULL) {
			conn_close(c);
			return;
		}
		a->collect(a->arg, v);
		if (v->listening && !v->draining)
			respond(c, 200, "text/plain; charset=utf-8", "ready\n",
				6, head);
		else if (v->draining)
			respond(c, 503, "text/plain; charset=utf-8",
				"draining\n", 9, head);
		else
			respond(c, 503, "text/plain; charset=utf-8",
				"starting\n", 9, head);
		free(v);
	} else if (path_is(t, tl, "/metrics") || path_is(t, tl, "/")) {
		bool html = !path_is(t, tl, "/metrics");
		size_t len = 0;
		char *body = render(a, html, &len);
		if (body == NULL) {
			conn_close(c);
			return;
		}
		respond(c, 200,
			html ? "text/html; charset=utf-8"
			     : "text/plain; version=0.0.4; charset=utf-8",
			body, len, head);
		free(body);
	} else {
		static const char text[] =
			"not found: try /, /metrics, /healthz or /readyz\n";
		respond(c, 404, "text/plain; charset=utf-8", text,
			sizeof(text) - 1, head);
	}
}

static void on_readable(void *arg)
{
	struct admin_conn *c = arg;
	static const struct http1_limits limits = {
		.max_line_bytes = ADMIN_HEAD_MAX,
		.max_head_bytes = ADMIN_HEAD_MAX,
		.max_fields = ADMIN_MAX_FIELDS,
	};
	struct http1_header fields[ADMIN_MAX_FIELDS];
	struct http1_request req;
	struct http1_error err;
	size_t prev = c->len;
	ssize_t n = recv(c->fd, c->head + c->len, sizeof(c->head) - c->len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	int rc = http1_parse_request(c->head, c->len, prev, &limits, fields,
				     &req, &err);
	if (rc > 0) {
		serve(c, &req);
	} else if (rc == -1 || c->len == sizeof(c->head)) {
		int status = rc == -1 ? http1_err_status(err.code) : 431;
		char body[128];
		int len = snprintf(body, sizeof(body), "%s\n",
				   rc == -1 ? http1_err_text(err.code)
					    : "request head too large");
		respond(c, status, "text/plain; charset=utf-8", body,
			(size_t)len, false);
	}
}

static void on_timeout(void *arg)
{
	conn_close(arg);
}

static void on_acceptable(void *arg)
{
	struct admin *a = arg;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen;
		int fd = listener_accept(a->listen_fd, &peer, &plen);
		size_t slot = 0;

		if (fd < 0)
			return;
		while (slot < ADMIN_MAX_CONNECTIONS && a->conns[slot] != NULL)
			slot++;
		struct admin_conn *c = slot < ADMIN_MAX_CONNECTIONS
					       ? calloc(1, sizeof(*c))
					       : NULL;
		if (c == NULL) { /* full: the newest waits for nobody */
			close(fd);
			continue;
		}
		c->admin = a;
		c->fd = fd;
		c->rd = watch_new_read(a->loop, fd, on_readable, c);
		c->wr = watch_new_write(a->loop, fd, on_writable, c);
		c->timer = watch_new_timer(a->loop, on_timeout, c);
		a->conns[slot] = c;
		if (c->rd == NULL || c->wr == NULL || c->timer == NULL ||
		    watch_start(c->rd) < 0 ||
		    watch_start_timer(c->timer, ADMIN_TIMEOUT_MS) < 0)
			conn_close(c);
	}
}

static void on_ctl(void *arg)
{
	loop_stop(((struct admin *)arg)->loop);
}

static void *admin_main(void *arg)
{
	struct admin *a = arg;

	if (loop_run(a->loop) < 0)
		log_error("admin: event loop failed");
	return NULL;
}

static void admin_free(struct admin *a)
{
	for (size_t i = 0; i < ADMIN_MAX_CONNECTIONS; i++)
		if (a->conns[i] != NULL)
			conn_close(a->conns[i]);
	watch_free(a->accepting);
	watch_free(a->ctl);
	loop_free(a->loop);
	if (a->ctl_fd[0] >= 0) {
		close(a->ctl_fd[0]);
		close(a->ctl_fd[1]);
	}
	close(a->listen_fd);
	free(a);
}

struct admin *admin_start(int listen_fd, admin_collect_fn collect, void *arg,
			  const char *version)
{
	struct admin *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		close(listen_fd);
		return NULL;
	}
	a->listen_fd = listen_fd;
	a->collect = collect;
	a->arg = arg;
	a->version = version;
	a->ctl_fd[0] = a->ctl_fd[1] = -1;
	a->loop = loop_new();
	if (a->loop == NULL || pipe2(a->ctl_fd, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail;
	a->accepting = watch_new_read(a->loop, listen_fd, on_acceptable, a);
	a->ctl = watch_new_read(a->loop, a->ctl_fd[0], on_ctl, a);
	if (a->accepting == NULL || a->ctl == NULL ||
	    watch_start(a->accepting) < 0 || watch_start(a->ctl) < 0 ||
	    pthread_create(&a->thread, NULL, admin_main, a) != 0)
		goto fail;
	return a;
fail:
	admin_free(a);
	return NULL;
}

void admin_stop(struct admin *a)
{
	if (a == NULL)
		return;
	(void)!write(a->ctl_fd[1], "q", 1);
	pthread_join(a->thread, NULL);
	admin_free(a);
}
