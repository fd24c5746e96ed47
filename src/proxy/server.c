/*
 * server.c - see server.h.
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread with sigwaitinfo(), so no handler ever runs inside a worker. The
 * main thread does no I/O on the data path.
 */
#include "proxy/server.h"

#include "base/addr.h"
#include "net/listener.h"
#include "net/hosts.h"
#include "net/loop.h"
#include "proxy/auth.h"
#include "proxy/limits.h"
#include "proxy/reloader.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Sent by a worker thread to the main thread when its loop has ended. */
#define SIGNAL_WORKER_STOPPED SIGUSR2

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

/*
 * Opens fds[worker][k]: one socket per worker on each listen address.
 * Port 0 is resolved by the first bind and reused for the rest. A default
 * address this machine does not have ([::1] without IPv6) is skipped with
 * a warning; any other failure is fatal. Returns how many addresses are
 * open (fds[w][0..n)), or -1.
 */
static int open_listeners(const struct config *cfg, unsigned n_workers,
			  int fds[][CONFIG_MAX_LISTEN])
{
	size_t k = 0;

	for (size_t a = 0; a < cfg->n_listen; a++) {
		struct sockaddr_storage ss = cfg->listen[a].addr;
		socklen_t len = cfg->listen[a].addr_len;
		char text[ADDR_TEXT_MAX];

		addr_format((struct sockaddr *)&ss, text, sizeof(text));
		for (unsigned w = 0; w < n_workers; w++) {
			int fd = listener_open((struct sockaddr *)&ss, len);
			if (fd < 0 && w == 0 && cfg->listen_default &&
			    (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)) {
				log_warn("not listening on %s: %s", text,
					 strerror(-fd));
				break;
			}
			if (fd < 0) {
				log_error("cannot listen on %s: %s", text,
					  strerror(-fd));
				return -1;
			}
			fds[w][k] = fd;
			if (w == 0) {
				struct sockaddr_storage bound;
				socklen_t blen;
				if (listener_local_addr(fd, &bound, &blen) == 0)
					set_port(&ss, &bound);
			}
			if (w + 1 == n_workers) {
				addr_format((struct sockaddr *)&ss, text,
					    sizeof(text));
				log_info("listening on %s (%u workers)", text,
					 n_workers);
				k++;
			}
		}
	}
	if (k == 0) {
		log_error("no address to listen on");
		return -1;
	}
	return (int)k;
}

static void close_all(int fds[][CONFIG_MAX_LISTEN], unsigned n_workers,
		      size_t n_listen)
{
	for (unsigned w = 0; w < n_workers; w++)
		for (size_t a = 0; a < n_listen; a++)
			if (fds[w][a] >= 0)
				close(fds[w][a]);
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

struct workers {
	struct worker **w;
	unsigned n;
};

/* The reloader's callback: every worker gets the new snapshot. */
static void publish(void *arg, struct snapshot *snap)
{
	struct workers *ws = arg;

	for (unsigned i = 0; i < ws->n; i++)
		if (ws->w[i] != NULL)
			worker_publish(ws->w[i], snap);
}

/* Waits for signals until every worker has stopped. */
static void wait_for_signals(const struct config *cfg, struct worker **workers,
			     unsigned n, const sigset_t *set,
			     struct reloader *reloader)
{
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
			log_info("%s: no longer accepting; open tunnels may "
				 "finish within %llums",
				 sig == SIGTERM ? "SIGTERM" : "SIGINT",
				 (unsigned long long)cfg->shutdown_grace_ms);
			command_all(workers, n, WORKER_CMD_DRAIN);
		} else if (sig == SIGHUP && !draining) {
			reloader_request(reloader);
		}
	}
}

static void on_worker_stopped(void *arg)
{
	pthread_kill(*(pthread_t *)arg, SIGNAL_WORKER_STOPPED);
}

int server_run(const struct config *cfg, struct access_log *access_log,
	       struct snapshot *snap)
{
	struct reloader *reloader = NULL;
	struct hosts *hosts = NULL;
	struct conn_limits limits;
	bool limits_ok = false;
	int n_open = 0;
	struct auth_verifier *verifier = NULL;
	struct workers ws;
	pthread_t main_thread = pthread_self();
	unsigned n = worker_count(cfg);
	int(*fds)[CONFIG_MAX_LISTEN] = calloc(n, sizeof(*fds));
	struct worker **workers = calloc(n, sizeof(*workers));
	sigset_t set;
	int status = 1;

	if (fds == NULL || workers == NULL) {
		log_error("out of memory");
		goto out;
	}
	memset(fds, -1, n * sizeof(*fds));
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
	n_open = open_listeners(cfg, n, fds);
	if (n_open < 0 || drop_privileges(cfg->user) < 0) {
		close_all(fds, n, CONFIG_MAX_LISTEN);
		goto out;
	}
	limits_ok = conn_limits_init(&limits, cfg->max_connections,
				     cfg->max_connections_per_client) == 0;
	if (!limits_ok) {
		log_error("out of memory");
		close_all(fds, n, (size_t)n_open);
		goto out;
	}
	if (cfg->auth_file[0] != '\0') {
		verifier = auth_verifier_start();
		if (verifier == NULL) {
			log_error("cannot start the password verifier");
			close_all(fds, n, (size_t)n_open);
			goto out;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		workers[i] = worker_new(i, cfg, access_log, snap, hosts, fds[i],
					(size_t)n_open);
		if (workers[i] == NULL) {
			log_error("cannot create worker %u", i);
			close_all(fds + i, n - i, (size_t)n_open);
			command_all(workers, i, WORKER_CMD_STOP);
			goto join;
		}
		workers[i]->conn_limits = &limits;
		if (verifier != NULL &&
		    (workers[i]->auth =
			     auth_worker_new(verifier, workers[i])) == NULL) {
			log_error("cannot create worker %u", i);
			close_all(fds + i + 1, n - i - 1, (size_t)n_open);
			command_all(workers, i + 1, WORKER_CMD_STOP);
			goto join;
		}
		workers[i]->on_stopped = on_worker_stopped;
		workers[i]->on_stopped_arg = &main_thread;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc = worker_start(workers[i]);
		if (rc < 0) {
			log_error("cannot start worker %u: %s", i,
				  strerror(-rc));
			command_all(workers, n, WORKER_CMD_STOP);
			goto join;
		}
	}
	ws.w = workers;
	ws.n = n;
	reloader = reloader_start(cfg, snap, publish, &ws);
	if (reloader == NULL) {
		log_error("cannot start the list reloader");
		command_all(workers, n, WORKER_CMD_STOP);
		goto join;
	}
	log_info("sluice ready");
	wait_for_signals(cfg, workers, n, &set, reloader);
	status = 0;
join:
	reloader_stop(reloader); /* before the workers it publishes to go */
	auth_verifier_stop(verifier); /* likewise: it answers to them */
	for (unsigned i = 0; i < n; i++)
		worker_join_free(workers[i]);
	if (status == 0)
		log_info("stopped");
out:
	hosts_free(hosts); /* after the workers: their resolvers read it */
	if (limits_ok)
		conn_limits_deinit(&limits);
	free(fds);
	free(workers);
	return status;
}
