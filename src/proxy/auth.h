/*
 * auth.h - Basic proxy authentication for sessions: the users come with
 * the snapshot (auth-file, re-read on SIGHUP), passwords are verified with
 * crypt_r on one verifier thread (a bcrypt hash costs milliseconds: never
 * on a worker), and each worker remembers credentials it has seen pass,
 * under a keyed hash, for AUTH_CACHE_MS. A client address with too many
 * failures in a minute gets 429 without a hash being run.
 *
 * A request whose password is being verified waits (SESSION_AUTH); when
 * the answer comes, the session parses its head again, now finds the
 * credentials cached, and goes on as if they had been cached all along.
 */
#ifndef SLUICE_PROXY_AUTH_H
#define SLUICE_PROXY_AUTH_H

#include <stdbool.h>

#include "config/config.h"
#include "http/http1_request.h"

struct auth_table;
struct auth_verifier;
struct auth_worker;
struct session;
struct worker;

/* Verified credentials are trusted this long (and until a reload). */
#define AUTH_CACHE_MS (5 * 60 * 1000)
/* Failures from one address within AUTH_FAIL_WINDOW_MS before 429. */
#define AUTH_FAIL_MAX	    10
#define AUTH_FAIL_WINDOW_MS (60 * 1000)
/* Verifications waiting at once, all workers together; then 503. */
#define AUTH_QUEUE_MAX 1024
/* A request waits this long for its verification; then 503. */
#define AUTH_WAIT_MS (30 * 1000)

/*
 * Reads cfg->auth_file into *out (NULL when there is none). 0, or -1 with
 * "where: auth-file PATH: reason" in err[CONFIG_ERR_MAX + CONFIG_PATH_MAX].
 * Lines with a hash we do not take are reported (warning) and skipped.
 */
int auth_load(const struct config *cfg, struct auth_table **out, char *err,
	      void (*report)(void *arg, bool warning, const char *line),
	      void *arg);

struct auth_verifier *auth_verifier_start(void);
void auth_verifier_stop(struct auth_verifier *v);

struct auth_worker *auth_worker_new(struct auth_verifier *v, struct worker *w);
void auth_worker_free(struct auth_worker *aw);

/* On WORKER_CMD_AUTH: resumes the sessions whose verification is done. */
void auth_worker_drain(struct auth_worker *aw);

enum auth_outcome {
	AUTH_PASS = 1, /* go on with the request */
	AUTH_WAIT,     /* verifying; the session resumes by itself */
	AUTH_REPLIED,  /* 407, 429 or 503 sent; the session is taken care of */
};

/*
 * Checks the request's Proxy-Authorization against the snapshot's users.
 * reusable: the connection may carry another request after a 407.
 */
enum auth_outcome auth_check(struct session *s, const struct http1_request *req,
			     bool reusable);

/* A session that ends while waiting: its verification is dropped. */
void auth_cancel(struct session *s);

#endif
