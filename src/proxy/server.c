/*
 * server.c - see server.h.
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread with sigwaitinfo(), so no handler ever runs inside a worker. The
 * main thread does no I/O on the data path.
 *
 * A reload runs on the reloader's thread and ends here, in publish(): the
 * listening sockets the new config adds are opened (for every worker) before
 * anything changes, so a port that cannot be bound fails the reload and
 * leaves the old config in use; then each worker is handed the snapshot and
 * its new set of sockets, and closes those the config no longer names.
 * Connections already open are never touched.
 */
#include "proxy/server.h"

#include "base/addr.h"
#include "net/listener.h"
#include "net/hosts.h"
#include "net/loop.h"
#include "policy/access.h"
#include "policy/blocklist.h"
#include "proxy/auth.h"
#include "proxy/limits.h"
#include "proxy/reloader.h"
#include "proxy/worker.h"
#include "report/access_log.h"
#include "report/admin.h"
#include "report/log.h"
#include "report/metrics.h"
#include "report/notify.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

/* Sent by a worker thread to the main thread when its loop has ended. */
#define SIGNAL_WORKER_STOPPED SIGUSR2

/* The listening sockets: per configured address, one per worker. */
struct listen_table {
	size_t n;
	struct config_addr want[CONFIG_MAX_LISTEN];  /* as configured */
	struct config_addr bound[CONFIG_MAX_LISTEN]; /* port 0 resolved */
	char text[CONFIG_MAX_LISTEN][ADDR_TEXT_MAX]; /* as bound */
	int fd[CONFIG_MAX_LISTEN][CONFIG_MAX_WORKERS];
};

struct server {
	unsigned n; /* workers */
	struct worker **workers;
	/* touched at start by the main thread, then by the reloader's */
	struct listen_table listen;
	const struct config *cfg; /* in use (the reloader keeps it alive) */
	struct conn_limits limits;
	reloader_config_fn load_config;
	void *load_arg;
	struct access_log *access_log; /* reopened on SIGUSR1 */
	/* read by the admin thread and the main thread */
	_Atomic uint64_t generation, rules, grace_ms;
	atomic_bool listening, draining;
	int64_t start_s;
};

static unsigned worker_count(const struct config *cfg)
{
	long n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : (unsigned)n;
}

static void set_port(struct sockaddr_storage *ss,
		     const struct sockaddr_storage *from)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port =
			((const struct sockaddr_in *)from)->sin_port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port =
			((const struct sockaddr_in6 *)from)->sin6_port;
}

static bool same_addr(const struct config_addr *a, const struct config_addr *b)
{
	const struct sockaddr_storage *x = &a->addr, *y = &b->addr;

	if (x->ss_family != y->ss_family)
		return false;
	if (x->ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)x,
					 *q = (const void *)y;
		return p->sin_port == q->sin_port &&
		       p->sin_addr.s_addr == q->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *p = (const void *)x, *q = (const void *)y;
	return p->sin6_port == q->sin6_port &&
	       memcmp(&p->sin6_addr, &q->sin6_addr, sizeof(p->sin6_addr)) ==
		       0 &&
	       p->sin6_scope_id == q->sin6_scope_id;
}

/* Is want served by entry j of t: as configured, or as bound (a listener
 * started on port 0 and written out later with the port it got)? */
static bool listens_on(const struct listen_table *t, size_t j,
		       const struct config_addr *want)
{
	return same_addr(&t->want[j], want) || same_addr(&t->bound[j], want);
}

/*
 * Opens one socket per worker on a: fds[0..n). Port 0 is resolved by the
 * first bind and reused for the rest; text and bound get the address as
 * bound. Returns 0 or -errno (nothing left open).
 */
static int open_address(const struct config_addr *a, unsigned n, int *fds,
			char *text, struct config_addr *bound)
{
	struct sockaddr_storage ss = a->addr;
	int err = listener_check_free((struct sockaddr *)&ss, a->addr_len);

	if (err < 0)
		return err;
	for (unsigned w = 0; w < n; w++) {
		int fd = listener_open((struct sockaddr *)&ss, a->addr_len,
				       true);
		if (fd < 0) {
			while (w > 0)
				close(fds[--w]);
			return fd;
		}
		fds[w] = fd;
		if (w == 0) {
			struct sockaddr_storage got;
			socklen_t glen;
			if (listener_local_addr(fd, &got, &glen) == 0)
				set_port(&ss, &got);
		}
	}
	addr_format((struct sockaddr *)&ss, text, ADDR_TEXT_MAX);
	bound->addr = ss;
	bound->addr_len = a->addr_len;
	return 0;
}

/*
 * The listening sockets cfg asks for: those old already has are kept, the
 * rest opened now (fresh). Fills next and every worker's set in ls. A
 * default address this machine does not have ([::1] without IPv6) is
 * skipped with a warning; any other failure closes what was opened and
 * returns -1 with the reason in err[SNAPSHOT_ERR_MAX].
 */
static int plan_listeners(const struct config *cfg, unsigned n_workers,
			  const struct listen_table *old,
			  struct listen_table *next,
			  struct worker_listeners *ls, char *err)
{
	char text[ADDR_TEXT_MAX];

	next->n = 0;
	for (unsigned w = 0; w < n_workers; w++)
		ls[w].n = 0;
	for (size_t a = 0; a < cfg->n_listen; a++) {
		const struct config_addr *want = &cfg->listen[a];
		size_t k = next->n;
		size_t j = 0;
		bool fresh;

		while (j < old->n && !listens_on(old, j, want))
			j++;
		fresh = j == old->n;
		if (fresh) {
			int rc = open_address(want, n_workers, next->fd[k],
					      next->text[k], &next->bound[k]);
			addr_format((const struct sockaddr *)&want->addr, text,
				    sizeof(text));
			if (rc < 0 && cfg->listen_default &&
			    (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT)) {
				log_warn("not listening on %s: %s", text,
					 strerror(-rc));
				continue;
			}
			if (rc < 0) {
				snprintf(err, SNAPSHOT_ERR_MAX,
					 "cannot listen on %s: %s", text,
					 strerror(-rc));
				goto fail;
			}
		} else {
			memcpy(next->fd[k], old->fd[j], sizeof(next->fd[k]));
			memcpy(next->text[k], old->text[j], ADDR_TEXT_MAX);
			next->bound[k] = old->bound[j];
		}
		next->want[k] = *want;
		next->n++;
		for (unsigned w = 0; w < n_workers; w++) {
			ls[w].fd[ls[w].n] = next->fd[k][w];
			ls[w].fresh[ls[w].n] = fresh;
			ls[w].proxy[ls[w].n] = want->proxy_protocol;
			ls[w].n++;
		}
	}
	if (next->n == 0) {
		snprintf(err, SNAPSHOT_ERR_MAX, "no address to listen on");
		goto fail;
	}
	return 0;
fail:
	for (size_t k = 0; k < next->n; k++)
		if (n_workers > 0 && ls[0].fresh[k])
			for (unsigned w = 0; w < n_workers; w++)
				close(next->fd[k][w]);
	return -1;
}

/* Logs the listeners next has that old had not, and those it lost. */
static void log_listeners(const struct listen_table *old,
			  const struct listen_table *next, unsigned n_workers)
{
	for (size_t k = 0; k < next->n; k++) {
		size_t j = 0;
		while (j < old->n && !listens_on(old, j, &next->want[k]))
			j++;
		if (j == old->n)
			log_info("listening on %s (%u workers)", next->text[k],
				 n_workers);
	}
	for (size_t j = 0; j < old->n; j++) {
		size_t k = 0;
		while (k < next->n && !listens_on(old, j, &next->want[k]))
			k++;
		if (k == next->n)
			log_info("closed the listener on %s", old->text[j]);
	}
}

/*
 * user NAME: once the listening sockets are open, take the user's ids and
 * groups, so a worker never runs as root. 0, or -1 (logged).
 */
static int drop_privileges(const char *user)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (user[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		log_warn("user %s: not started as root; staying who we are",
			 user);
		return 0;
	}
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL) {
		log_error("user %s: no such user", user);
		return -1;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 ||
	    setuid(pw.pw_uid) < 0) {
		log_error("user %s: cannot switch: %s", user, strerror(errno));
		return -1;
	}
	log_info("running as %s (uid %u, gid %u)", user, (unsigned)pw.pw_uid,
		 (unsigned)pw.pw_gid);
	return 0;
}

static bool any_running(struct worker **workers, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (workers[i] != NULL && atomic_load(&workers[i]->running))
			return true;
	return false;
}

static void command_all(struct worker **workers, unsigned n, char cmd)
{
	for (unsigned i = 0; i < n; i++)
		if (workers[i] != NULL)
			worker_command(workers[i], cmd);
}

/* What a reload cannot change: said once, so nobody waits for it. */
static void warn_restart_only(const struct config *old,
			      const struct config *cfg)
{
	static const char later[] = "takes effect at the next restart";

	if (old->workers != cfg->workers)
		log_warn("workers changed: %s", later);
	if (strcmp(old->user, cfg->user) != 0)
		log_warn("user changed: %s", later);
	if (old->admin_on != cfg->admin_on ||
	    (cfg->admin_on && !same_addr(&old->admin, &cfg->admin)))
		log_warn("admin changed: %s", later);
	if (strcmp(old->access_log, cfg->access_log) != 0 ||
	    old->access_log_format != cfg->access_log_format)
		log_warn("access-log changed: %s", later);
	if (strcmp(old->error_log, cfg->error_log) != 0)
		log_warn("error-log changed: %s", later);
	if (strcmp(old->hosts_file, cfg->hosts_file) != 0)
		log_warn("hosts-file changed: %s", later);
	if (old->n_dns != cfg->n_dns ||
	    memcmp(old->dns, cfg->dns, sizeof(old->dns)) != 0 ||
	    old->dns_timeout_ms != cfg->dns_timeout_ms ||
	    old->dns_min_ttl_ms != cfg->dns_min_ttl_ms ||
	    old->dns_max_ttl_ms != cfg->dns_max_ttl_ms ||
	    old->dns_negative_ttl_ms != cfg->dns_negative_ttl_ms)
		log_warn("dns settings changed: %s", later);
}

static void note_snapshot(struct server *sv, const struct snapshot *snap)
{
	atomic_store(&sv->generation, snap->generation);
	atomic_store(&sv->rules, snap->blocklist != NULL
					 ? blocklist_count(snap->blocklist)
					 : 0);
	atomic_store(&sv->grace_ms, snap->cfg->shutdown_grace_ms);
}

/* The reloader's callback: see the comment at the top. */
static int publish(void *arg, struct snapshot *snap, char *err)
{
	struct server *sv = arg;
	const struct config *cfg = snap->cfg;
	struct listen_table *next = malloc(sizeof(*next));
	struct worker_listeners *ls = calloc(sv->n, sizeof(*ls));

	if (next == NULL || ls == NULL) {
		snprintf(err, SNAPSHOT_ERR_MAX, "out of memory");
		goto fail;
	}
	if (plan_listeners(cfg, sv->n, &sv->listen, next, ls, err) < 0)
		goto fail;
	warn_restart_only(sv->cfg, cfg);
	log_set_level(cfg->log_level);
	conn_limits_set(&sv->limits, cfg->max_connections,
			cfg->max_connections_per_client);
	for (unsigned i = 0; i < sv->n; i++)
		worker_publish(sv->workers[i], snap, &ls[i]);
	log_listeners(&sv->listen, next, sv->n);
	sv->listen = *next;
	sv->cfg = cfg;
	note_snapshot(sv, snap);
	free(next);
	free(ls);
	return 0;
fail:
	free(next);
	free(ls);
	return -1;
}

/* The reloader's other callback: the caller's, with the caller's arg. */
static int reload_config(void *arg, struct config *cfg, char *err)
{
	struct server *sv = arg;

	return sv->load_config(sv->load_arg, cfg, err);
}

/* The admin endpoint's figures: every worker's counters, summed. */
static void collect(void *arg, struct metrics_view *v)
{
	struct server *sv = arg;

	for (unsigned i = 0; i < sv->n; i++) {
		const struct worker *w = sv->workers[i];
		const struct resolver_stats *st = resolver_stats(w->resolver);

		metrics_add(&v->sum, &w->metrics);
		v->dns_lookups += counter_get(&st->lookups);
		v->dns_hits += counter_get(&st->hits);
		v->dns_hosts += counter_get(&st->hosts);
		v->dns_queries += counter_get(&st->queries);
		v->dns_no_name += counter_get(&st->no_name);
		v->dns_failures += counter_get(&st->failures);
		v->pool_reused += counter_get(&w->origins.reused);
		v->pool_kept += counter_get(&w->origins.pooled);
	}
	metrics_global_view(v);
	v->generation = atomic_load(&sv->generation);
	v->blocklist_rules = atomic_load(&sv->rules);
	v->start_s = sv->start_s;
	v->workers = sv->n;
	v->listening = atomic_load(&sv->listening);
	v->draining = atomic_load(&sv->draining);
}

/*
 * SIGUSR1, after logrotate renamed the files: each log opens its path again
 * and takes the new file in place of the old (atomically for the workers
 * writing to it); one that cannot keeps the old file and says so.
 */
static void reopen_logs(struct access_log *access_log)
{
	int rc = log_reopen();

	if (rc < 0)
		log_error("SIGUSR1: cannot reopen the error log: %s; still "
			  "writing to the old file",
			  strerror(-rc));
	rc = access_log_reopen(access_log);
	if (rc < 0)
		log_error("SIGUSR1: cannot reopen the access log: %s; still "
			  "writing to the old file",
			  strerror(-rc));
	log_info("SIGUSR1: log files reopened");
}

/* Waits for signals until every worker has stopped. */
static void wait_for_signals(struct server *sv, const sigset_t *set,
			     struct reloader *reloader)
{
	struct worker **workers = sv->workers;
	unsigned n = sv->n;
	bool draining = false;

	while (any_running(workers, n)) {
		int sig = sigwaitinfo(set, NULL);

		if (sig < 0 || sig == SIGNAL_WORKER_STOPPED)
			continue; /* EINTR, or a worker ended: check them all */
		if (sig == SIGTERM || sig == SIGINT) {
			if (draining) {
				log_info("second %s: closing every connection "
					 "now",
					 sig == SIGTERM ? "SIGTERM" : "SIGINT");
				command_all(workers, n, WORKER_CMD_STOP);
				continue;
			}
			draining = true;
			atomic_store(&sv->draining, true);
			log_info(
				"%s: no longer accepting; open tunnels may "
				"finish within %llums",
				sig == SIGTERM ? "SIGTERM" : "SIGINT",
				(unsigned long long)atomic_load(&sv->grace_ms));
			command_all(workers, n, WORKER_CMD_DRAIN);
			notify_stopping();
		} else if (sig == SIGHUP && !draining) {
			/* READY=1 comes from the reloader when it is over */
			notify_reloading();
			reloader_request(reloader);
		} else if (sig == SIGUSR1) {
			reopen_logs(sv->access_log);
		}
	}
}

static void on_worker_stopped(void *arg)
{
	pthread_kill(*(pthread_t *)arg, SIGNAL_WORKER_STOPPED);
}

/* The admin endpoint's socket, opened before privileges are dropped. */
static int open_admin(const struct config *cfg)
{
	char text[ADDR_TEXT_MAX];
	int fd;

	addr_format((const struct sockaddr *)&cfg->admin.addr, text,
		    sizeof(text));
	fd = listener_open((const struct sockaddr *)&cfg->admin.addr,
			   cfg->admin.addr_len, false);
	if (fd < 0) {
		log_error("admin %s: cannot listen: %s (choose another "
			  "address, or 'admin off')",
			  text, strerror(-fd));
		return -1;
	}
	struct sockaddr_storage bound;
	socklen_t len;
	if (listener_local_addr(fd, &bound, &len) == 0)
		addr_format((const struct sockaddr *)&bound, text,
			    sizeof(text));
	log_info("admin endpoint at http://%s/ (metrics at /metrics)", text);
	if (!access_is_local((const struct sockaddr *)&cfg->admin.addr))
		log_warn("admin %s can be reached from other networks, and "
			 "it asks no password: keep it on loopback or a "
			 "private network",
			 text);
	return fd;
}

static void close_table(struct listen_table *t, unsigned n_workers,
			unsigned from)
{
	for (size_t k = 0; k < t->n; k++)
		for (unsigned w = from; w < n_workers; w++)
			close(t->fd[k][w]);
}

int server_run(struct snapshot *snap, struct access_log *access_log,
	       reloader_config_fn load_config, void *load_arg)
{
	const struct config *cfg = snap->cfg;
	struct server *sv = calloc(1, sizeof(*sv));
	struct listen_table none = {0};
	struct worker_listeners *ls = NULL;
	struct reloader *reloader = NULL;
	struct admin *admin = NULL;
	struct hosts *hosts = NULL;
	bool limits_ok = false;
	struct auth_verifier *verifier = NULL;
	pthread_t main_thread = pthread_self();
	int admin_fd = -1;
	char err[SNAPSHOT_ERR_MAX];
	sigset_t set;
	int status = 1;
	unsigned n = worker_count(cfg);

	if (sv == NULL) {
		log_error("out of memory");
		return 1;
	}
	sv->n = n;
	sv->cfg = cfg;
	sv->start_s = (int64_t)time(NULL);
	sv->load_config = load_config;
	sv->load_arg = load_arg;
	sv->access_log = access_log;
	note_snapshot(sv, snap);
	sv->workers = calloc(n, sizeof(*sv->workers));
	ls = calloc(n, sizeof(*ls));
	if (sv->workers == NULL || ls == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (loop_global_init() < 0) {
		log_error("cannot initialise libevent threading");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGNAL_WORKER_STOPPED);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by workers */

	/* read once, shared read-only by every worker's resolver */
	hosts = hosts_load(cfg->hosts_file);
	if (hosts == NULL) {
		log_warn("hosts-file %s: cannot read: %s; resolving by DNS "
			 "alone",
			 cfg->hosts_file, strerror(errno));
	}
	if (plan_listeners(cfg, n, &none, &sv->listen, ls, err) < 0) {
		log_error("%s", err);
		goto out;
	}
	/* before "listening on": who waits for those finds this too */
	if (cfg->admin_on && (admin_fd = open_admin(cfg)) < 0) {
		close_table(&sv->listen, n, 0);
		goto out;
	}
	log_listeners(&none, &sv->listen, n);
	if (drop_privileges(cfg->user) < 0) {
		close_table(&sv->listen, n, 0);
		goto out;
	}
	limits_ok = conn_limits_init(&sv->limits, cfg->max_connections,
				     cfg->max_connections_per_client) == 0;
	/* always: a reload may turn authentication on */
	verifier = limits_ok ? auth_verifier_start() : NULL;
	if (verifier == NULL) {
		log_error("out of memory, or cannot start the password "
			  "verifier");
		close_table(&sv->listen, n, 0);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		struct worker *w =
			worker_new(i, cfg, access_log, snap, hosts, &ls[i]);
		sv->workers[i] = w;
		if (w == NULL ||
		    (w->auth = auth_worker_new(verifier, w)) == NULL) {
			log_error("cannot create worker %u", i);
			close_table(&sv->listen, n, w == NULL ? i : i + 1);
			command_all(sv->workers, i + 1, WORKER_CMD_STOP);
			goto join;
		}
		w->conn_limits = &sv->limits;
		w->on_stopped = on_worker_stopped;
		w->on_stopped_arg = &main_thread;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc = worker_start(sv->workers[i]);
		if (rc < 0) {
			log_error("cannot start worker %u: %s", i,
				  strerror(-rc));
			command_all(sv->workers, n, WORKER_CMD_STOP);
			goto join;
		}
	}
	reloader = reloader_start(snap, reload_config, publish, sv);
	if (reloader == NULL) {
		log_error("cannot start the list reloader");
		command_all(sv->workers, n, WORKER_CMD_STOP);
		goto join;
	}
	/* the workers and the reloader hold it now: the caller's reference
	 * goes, so the first lists are freed once a reload replaces them */
	snapshot_release(snap);
	snap = NULL;
	atomic_store(&sv->listening, true);
	if (admin_fd >= 0) {
		admin = admin_start(admin_fd, collect, sv, SLUICE_VERSION);
		admin_fd = -1; /* the admin owns it, even on failure */
		if (admin == NULL) {
			log_error("cannot start the admin endpoint");
			command_all(sv->workers, n, WORKER_CMD_STOP);
			goto join;
		}
	}
	log_info("sluice ready");
	notify_ready("serving");
	wait_for_signals(sv, &set, reloader);
	status = 0;
join:
	admin_stop(admin);	 /* it reads the workers' counters */
	reloader_stop(reloader); /* before the workers it publishes to go */
	auth_verifier_stop(verifier); /* likewise: it answers to them */
	for (unsigned i = 0; i < n; i++)
		worker_join_free(sv->workers[i]);
	if (status == 0)
		log_info("stopped");
out:
	snapshot_release(snap); /* NULL once the reloader holds it */
	if (admin_fd >= 0)
		close(admin_fd);
	hosts_free(hosts); /* after the workers: their resolvers read it */
	if (limits_ok)
		conn_limits_deinit(&sv->limits);
	free(ls);
	free(sv->workers);
	free(sv);
	return status;
}
