/*
 * worker.h - one thread, one event loop, its own listening sockets
 * (SO_REUSEPORT), and every object its connections use: the session pool,
 * pipes, resolver. Nothing here is shared with another worker; the config
 * is read-only.
 */
#ifndef SLUICE_PROXY_WORKER_H
#define SLUICE_PROXY_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/pool.h"
#include "config/config.h"
#include "net/loop.h"
#include "net/pipe_pool.h"
#include "http/http1_request.h"
#include "net/resolve.h"
#include "proxy/origin_pool.h"
#include "report/metrics.h"

struct session;
struct access_log;
struct snapshot;
struct hosts;
struct conn_limits;
struct auth_worker;

/* Commands the main thread sends a worker through its control pipe. */
#define WORKER_CMD_DRAIN    'd' /* stop accepting; close tunnels at grace end */
#define WORKER_CMD_STOP	    'q' /* close everything now */
#define WORKER_CMD_SNAPSHOT 's' /* take the snapshot in next_snapshot */
#define WORKER_CMD_AUTH	    'a' /* password checks are done (auth.c) */

/* Accepts per wake-up of one listener, so one busy port cannot starve. */
#define WORKER_ACCEPT_BATCH 64
/* Idle session objects a worker keeps for reuse. */
#define WORKER_SESSION_CACHE 1024
/* Idle answer-head buffers (4 KiB) a worker keeps: one is taken and given
 * back by every forwarded request. */
#define WORKER_ANSWER_BUF_CACHE 64
/* Accept back-off after EMFILE and friends: first and longest pause. */
#define WORKER_BACKOFF_MIN_MS 50
#define WORKER_BACKOFF_MAX_MS 1000

/* The listening sockets a reload hands a worker: the whole new set. */
struct worker_listeners {
	int fd[CONFIG_MAX_LISTEN];
	bool fresh[CONFIG_MAX_LISTEN]; /* opened by this reload: now ours */
	bool proxy[CONFIG_MAX_LISTEN]; /* listen ... proxy-protocol */
	size_t n;
};

struct worker {
	unsigned id;
	pthread_t thread;
	bool started;
	const struct config *cfg;
	struct access_log *access_log;
	struct snapshot *snapshot; /* the lists in use; one reference */
	_Atomic(struct snapshot *) next_snapshot; /* handed over, not taken */
	pthread_mutex_t next_lock;		  /* guards next_listen */
	pthread_cond_t next_taken;
	struct worker_listeners next_listen;
	bool has_next_listen;
	struct loop *loop;
	struct resolver *resolver;
	struct pipe_pool pipes;
	struct pool sessions;
	struct pool answer_bufs; /* SESSION_HEAD_INITIAL_BYTES: answer heads */
	struct origin_pool origins;	 /* idle connections to origins */
	struct http1_limits limits;	 /* head limits, from the config */
	struct conn_limits *conn_limits; /* shared by the workers */
	struct auth_worker *auth;	 /* NULL: no auth-file */
	char *scratch; /* room to write one head: max-head-size + 1 KiB */
	size_t scratch_cap;

	int listen_fd[CONFIG_MAX_LISTEN];
	bool listen_proxy[CONFIG_MAX_LISTEN]; /* a PROXY header comes first */
	struct watch *accepting[CONFIG_MAX_LISTEN];
	size_t n_listen;
	struct sockaddr_storage addrs[CONFIG_MAX_LISTEN]; /* as bound */
	size_t n_addrs;
	struct watch *backoff; /* accept paused until it fires */
	uint64_t backoff_ms;

	int ctl_fd[2]; /* main writes [1], the worker reads [0] */
	struct watch *ctl;
	struct watch *grace; /* end of shutdown-grace */
	bool draining;

	struct session *live; /* every open session, for drain and stop */
	size_t n_live;

	struct metrics metrics; /* added to by this worker alone */

	atomic_bool running;
	void (*on_stopped)(void *arg); /* from the worker's thread, at exit */
	void *on_stopped_arg;
};

/*
 * Builds a worker around listening sockets the caller opened; the worker
 * owns them from now on. Returns NULL (and closes nothing) on failure.
 */
struct worker *worker_new(unsigned id, const struct config *cfg,
			  struct access_log *access_log, struct snapshot *snap,
			  const struct hosts *hosts,
			  const struct worker_listeners *listeners);

/*
 * From any thread: gives the worker a reference to snap; it moves to it
 * between two events and drops its old one. listeners, unless NULL, is the
 * worker's new set of listening sockets: it keeps those it has, closes
 * those not in the set and starts accepting on the fresh ones (it owns
 * them from now on). A set waits until the worker has taken the one
 * before.
 */
void worker_publish(struct worker *w, struct snapshot *snap,
		    const struct worker_listeners *listeners);

/* Runs the worker's loop on a new thread. Returns 0 or -errno. */
int worker_start(struct worker *w);

/* From any thread: asks the worker to drain or stop (WORKER_CMD_*). */
void worker_command(struct worker *w, char cmd);

/* Joins the thread and frees everything. */
void worker_join_free(struct worker *w);

/* Called by session.c: a session opened or finished. */
void worker_session_linked(struct worker *w, struct session *s);
void worker_session_unlinked(struct worker *w, struct session *s);

#endif
