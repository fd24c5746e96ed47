/*
 * worker.c - see worker.h. Accepts connections, pauses accepting when the
 * process runs out of descriptors, and carries out drain and stop.
 */
#include "proxy/worker.h"

#include "net/listener.h"
#include "proxy/auth.h"
#include "proxy/session.h"
#include "proxy/snapshot.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void on_acceptable(void *arg);
static void on_backoff(void *arg);
static void on_ctl(void *arg);
static void on_grace(void *arg);
static void note_addrs(struct worker *w);

struct worker *worker_new(unsigned id, const struct config *cfg,
			  struct access_log *access_log, struct snapshot *snap,
			  const struct hosts *hosts,
			  const struct worker_listeners *listeners)
{
	const int *listen_fds = listeners->fd;
	size_t n_listen = listeners->n;

	struct worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->id = id;
	w->cfg = cfg;
	w->access_log = access_log;
	w->snapshot = snapshot_pin(snap);
	atomic_init(&w->next_snapshot, NULL);
	pthread_mutex_init(&w->next_lock, NULL);
	pthread_cond_init(&w->next_taken, NULL);
	w->ctl_fd[0] = w->ctl_fd[1] = -1;
	w->limits.max_line_bytes = cfg->max_request_line;
	w->limits.max_head_bytes = cfg->max_head_bytes;
	w->limits.max_fields = cfg->max_header_fields;
	w->scratch_cap = cfg->max_head_bytes + 1024;
	w->scratch = malloc(w->scratch_cap);
	if (w->scratch == NULL)
		goto fail;
	pool_init(&w->sessions, sizeof(struct session), WORKER_SESSION_CACHE);
	pool_init(&w->answer_bufs, SESSION_HEAD_INITIAL_BYTES,
		  WORKER_ANSWER_BUF_CACHE);
	pipe_pool_init(&w->pipes);
	w->loop = loop_new();
	if (w->loop == NULL || origin_pool_init(&w->origins, w->loop) < 0 ||
	    pipe2(w->ctl_fd, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail;
	struct sockaddr_storage dns[CONFIG_MAX_DNS];
	socklen_t dns_len[CONFIG_MAX_DNS];
	for (size_t i = 0; i < cfg->n_dns; i++) {
		dns[i] = cfg->dns[i].addr;
		dns_len[i] = cfg->dns[i].addr_len;
	}
	struct resolver_config rc = {
		.hosts = hosts,
		.servers = dns,
		.server_lens = dns_len,
		.n_servers = cfg->n_dns,
		.timeout_ms = cfg->dns_timeout_ms,
		.min_ttl_ms = cfg->dns_min_ttl_ms,
		.max_ttl_ms = cfg->dns_max_ttl_ms,
		.negative_ttl_ms = cfg->dns_negative_ttl_ms,
	};
	w->resolver = resolver_new(w->loop, &rc);
	w->ctl = watch_new_read(w->loop, w->ctl_fd[0], on_ctl, w);
	w->backoff = watch_new_timer(w->loop, on_backoff, w);
	w->grace = watch_new_timer(w->loop, on_grace, w);
	if (w->resolver == NULL || w->ctl == NULL || w->backoff == NULL ||
	    w->grace == NULL || watch_start(w->ctl) < 0)
		goto fail;
	for (size_t i = 0; i < n_listen; i++) {
		w->accepting[i] = watch_new_read(w->loop, listen_fds[i],
						 on_acceptable, w);
		if (w->accepting[i] == NULL)
			goto fail;
		w->listen_fd[i] = listen_fds[i];
		w->listen_proxy[i] = listeners->proxy[i];
		w->n_listen++;
		if (watch_start(w->accepting[i]) < 0)
			goto fail;
	}
	note_addrs(w);
	return w;
fail:
	/* the caller still owns and closes the listening sockets */
	for (size_t i = 0; i < CONFIG_MAX_LISTEN; i++)
		watch_free(w->accepting[i]);
	w->n_listen = 0;
	worker_join_free(w);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (loop_run(w->loop) < 0)
		log_error("worker %u: event loop failed", w->id);
	atomic_store(&w->running, false);
	if (w->on_stopped != NULL)
		w->on_stopped(w->on_stopped_arg);
	return NULL;
}

int worker_start(struct worker *w)
{
	int rc;

	atomic_store(&w->running, true);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		atomic_store(&w->running, false);
		return -rc;
	}
	w->started = true;
	return 0;
}

void worker_command(struct worker *w, char cmd)
{
	(void)!write(w->ctl_fd[1], &cmd, 1);
}

static bool has_fd(const int *fds, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

void worker_publish(struct worker *w, struct snapshot *snap,
		    const struct worker_listeners *listeners)
{
	if (listeners != NULL) {
		pthread_mutex_lock(&w->next_lock);
		/* the set before must be taken first: it is what this one
		 * was computed against */
		while (w->has_next_listen && atomic_load(&w->running)) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->next_taken, &w->next_lock,
					       &until);
		}
		if (w->has_next_listen) { /* the worker has stopped */
			for (size_t i = 0; i < listeners->n; i++)
				if (listeners->fresh[i])
					close(listeners->fd[i]);
		} else {
			w->next_listen = *listeners;
			w->has_next_listen = true;
		}
		pthread_mutex_unlock(&w->next_lock);
	}
	/* one not taken yet is replaced: only the newest matters */
	snapshot_release(
		atomic_exchange(&w->next_snapshot, snapshot_pin(snap)));
	worker_command(w, WORKER_CMD_SNAPSHOT);
}

/* The addresses the worker's sockets are bound to, for loop detection. */
static void note_addrs(struct worker *w)
{
	w->n_addrs = 0;
	for (size_t i = 0; i < w->n_listen; i++) {
		socklen_t len;
		if (listener_local_addr(w->listen_fd[i], &w->addrs[w->n_addrs],
					&len) == 0)
			w->n_addrs++;
	}
}

/* Moves to a new set of listening sockets (see worker_publish). */
static void take_listeners(struct worker *w, const struct worker_listeners *ls)
{
	struct watch *keep[CONFIG_MAX_LISTEN] = {NULL};
	int keep_fd[CONFIG_MAX_LISTEN];
	bool keep_proxy[CONFIG_MAX_LISTEN];
	size_t n = 0;

	for (size_t i = 0; i < w->n_listen; i++) {
		if (has_fd(ls->fd, ls->n, w->listen_fd[i]))
			continue;
		watch_free(w->accepting[i]); /* a listener the reload removed */
		w->accepting[i] = NULL;
		close(w->listen_fd[i]);
		w->listen_fd[i] = -1;
	}
	for (size_t k = 0; k < ls->n; k++) {
		struct watch *a = NULL;
		for (size_t i = 0; i < w->n_listen; i++)
			if (w->listen_fd[i] == ls->fd[k])
				a = w->accepting[i];
		if (a == NULL && ls->fresh[k] && !w->draining) {
			a = watch_new_read(w->loop, ls->fd[k], on_acceptable,
					   w);
			if (a == NULL ||
			    (w->backoff_ms == 0 && watch_start(a) < 0)) {
				log_error("worker %u: cannot watch a new "
					  "listening socket: out of memory",
					  w->id);
				watch_free(a);
				a = NULL;
			}
		}
		if (a == NULL) {
			/* a fresh one we cannot use; one we had is already
			 * closed (draining closes them all) */
			if (ls->fresh[k])
				close(ls->fd[k]);
			continue;
		}
		keep[n] = a;
		keep_fd[n] = ls->fd[k];
		keep_proxy[n] = ls->proxy[k];
		n++;
	}
	memcpy(w->accepting, keep, sizeof(keep));
	memcpy(w->listen_fd, keep_fd, n * sizeof(int));
	memcpy(w->listen_proxy, keep_proxy, n * sizeof(bool));
	w->n_listen = n;
	note_addrs(w);
}

static void take_snapshot(struct worker *w)
{
	struct snapshot *snap = atomic_exchange(&w->next_snapshot, NULL);
	struct worker_listeners ls;
	bool new_listeners;

	pthread_mutex_lock(&w->next_lock);
	new_listeners = w->has_next_listen;
	ls = w->next_listen;
	w->has_next_listen = false;
	pthread_cond_signal(&w->next_taken);
	pthread_mutex_unlock(&w->next_lock);
	if (new_listeners)
		take_listeners(w, &ls);
	if (snap == NULL)
		return;
	snapshot_release(w->snapshot);
	w->snapshot = snap;
	w->cfg = snap->cfg;
	w->limits.max_line_bytes = w->cfg->max_request_line;
	w->limits.max_head_bytes = w->cfg->max_head_bytes;
	w->limits.max_fields = w->cfg->max_header_fields;
	if (w->cfg->max_head_bytes + 1024 > w->scratch_cap) {
		char *bigger =
			realloc(w->scratch, w->cfg->max_head_bytes + 1024);
		if (bigger != NULL) {
			w->scratch = bigger;
			w->scratch_cap = w->cfg->max_head_bytes + 1024;
		} else { /* keep the old bound: the scratch must hold a head */
			w->limits.max_head_bytes = w->scratch_cap - 1024;
		}
	}
}

static void close_listeners(struct worker *w)
{
	for (size_t i = 0; i < w->n_listen; i++) {
		watch_free(w->accepting[i]);
		w->accepting[i] = NULL;
		close(w->listen_fd[i]);
	}
	w->n_listen = 0;
}

static void finish_all(struct worker *w, bool only_idle)
{
	struct session *s = w->live;

	while (s != NULL) {
		struct session *next = s->next;
		if (!only_idle || session_is_idle(s))
			session_finish(s, "shutdown");
		s = next;
	}
}

void worker_join_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	finish_all(w, false);
	close_listeners(w);
	if (w->resolver != NULL) {
		const struct resolver_stats *st = resolver_stats(w->resolver);
		log_debug("worker %u dns: %llu lookups, %llu from hosts, %llu "
			  "cache hits, %llu joined, %llu queries, %llu no "
			  "name, %llu failed",
			  w->id, (unsigned long long)st->lookups,
			  (unsigned long long)st->hosts,
			  (unsigned long long)st->hits,
			  (unsigned long long)st->coalesced,
			  (unsigned long long)st->queries,
			  (unsigned long long)st->no_name,
			  (unsigned long long)st->failures);
	}
	if (w->loop != NULL)
		origin_pool_deinit(&w->origins);
	watch_free(w->ctl);
	watch_free(w->backoff);
	watch_free(w->grace);
	resolver_free(w->resolver);
	pipe_pool_deinit(&w->pipes);
	pool_deinit(&w->sessions);
	pool_deinit(&w->answer_bufs);
	free(w->scratch);
	auth_worker_free(w->auth);
	snapshot_release(w->snapshot);
	snapshot_release(atomic_exchange(&w->next_snapshot, NULL));
	if (w->has_next_listen) /* handed over after the loop ended */
		for (size_t i = 0; i < w->next_listen.n; i++)
			if (w->next_listen.fresh[i])
				close(w->next_listen.fd[i]);
	pthread_cond_destroy(&w->next_taken);
	pthread_mutex_destroy(&w->next_lock);
	loop_free(w->loop);
	if (w->ctl_fd[0] >= 0) {
		close(w->ctl_fd[0]);
		close(w->ctl_fd[1]);
	}
	free(w);
}

void worker_session_linked(struct worker *w, struct session *s)
{
	s->prev = NULL;
	s->next = w->live;
	if (w->live != NULL)
		w->live->prev = s;
	w->live = s;
	w->n_live++;
}

void worker_session_unlinked(struct worker *w, struct session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		w->live = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	w->n_live--;
	if (w->draining && w->n_live == 0)
		loop_stop(w->loop);
}

static void pause_accepting(struct worker *w, int err)
{
	if (w->backoff_ms == 0) {
		log_warn("worker %u: accept failed: %s; pausing new "
			 "connections until descriptors free up",
			 w->id, strerror(-err));
		w->backoff_ms = WORKER_BACKOFF_MIN_MS;
	} else if (w->backoff_ms < WORKER_BACKOFF_MAX_MS) {
		w->backoff_ms *= 2;
		if (w->backoff_ms > WORKER_BACKOFF_MAX_MS)
			w->backoff_ms = WORKER_BACKOFF_MAX_MS;
	}
	for (size_t i = 0; i < w->n_listen; i++)
		watch_stop(w->accepting[i]);
	watch_start_timer(w->backoff, w->backoff_ms);
}

static void on_backoff(void *arg)
{
	struct worker *w = arg;

	/* try again; the next failure doubles the pause */
	for (size_t i = 0; i < w->n_listen; i++)
		watch_start(w->accepting[i]);
}

static void on_acceptable(void *arg)
{
	struct worker *w = arg;

	for (size_t i = 0; i < w->n_listen; i++) {
		for (int k = 0; k < WORKER_ACCEPT_BATCH; k++) {
			struct sockaddr_storage peer;
			socklen_t len;
			int fd = listener_accept(w->listen_fd[i], &peer, &len);

			if (fd >= 0) {
				if (w->backoff_ms != 0) {
					log_info("worker %u: accepting again",
						 w->id);
					w->backoff_ms = 0;
				}
				session_start(w, fd, &peer, w->listen_proxy[i]);
				continue;
			}
			if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS ||
			    fd == -ENOMEM) {
				pause_accepting(w, fd);
				return;
			}
			/* EAGAIN: drained; ECONNABORTED and the like: the
			 * client gave up, nothing to do */
			if (fd == -EAGAIN || fd == -EWOULDBLOCK)
				break;
		}
	}
}

static void on_grace(void *arg)
{
	struct worker *w = arg;

	finish_all(w, false);
	loop_stop(w->loop);
}

static void on_ctl(void *arg)
{
	struct worker *w = arg;
	char cmds[16];
	ssize_t n = read(w->ctl_fd[0], cmds, sizeof(cmds));

	for (ssize_t i = 0; i < n; i++) {
		if (cmds[i] == WORKER_CMD_SNAPSHOT)
			take_snapshot(w);
		if (cmds[i] == WORKER_CMD_AUTH)
			auth_worker_drain(w->auth);
		if (cmds[i] == WORKER_CMD_STOP) {
			w->draining = true;
			close_listeners(w);
			finish_all(w, false);
			loop_stop(w->loop);
			return;
		}
		if (cmds[i] == WORKER_CMD_DRAIN && !w->draining) {
			w->draining = true;
			close_listeners(w);
			watch_stop(w->backoff);
			finish_all(w, true);
			if (w->n_live == 0) {
				loop_stop(w->loop);
				return;
			}
			watch_start_timer(w->grace, w->cfg->shutdown_grace_ms);
		}
	}
}
