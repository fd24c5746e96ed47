/*
 * auth.c - see auth.h.
 *
 * A job goes from a worker to the verifier's queue, is verified there, and
 * comes back on its worker's done list (then a byte down the worker's
 * control pipe). Only the worker reads or writes job->session, so a
 * session that ends meanwhile just sets it to NULL; the job is freed on
 * its way back. The password is wiped as soon as it has been hashed.
 */
#include "proxy/auth.h"

#include "base/siphash.h"
#include "http/http1_response.h"
#include "policy/auth.h"
#include "proxy/lists.h"
#include "proxy/session.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Verified for a user who does not exist, so that the answer takes as
 * long as for one who does (a bcrypt hash of a random password). */
static const char dummy_hash[] =
	"$2b$10$Zlp7wStEywGzNjFoAJAkcOuZ1CgOw.8HdcPmhAIPUTKhAB.jhelta";

#define CACHE_SLOTS 1024 /* per worker, direct-mapped */
#define FAIL_SLOTS  1024

struct auth_job {
	struct auth_job *next;
	struct auth_worker *owner;
	struct session *session; /* NULL: nobody waits any more */
	uint64_t key;		 /* of the credentials, for the cache */
	uint64_t generation;	 /* of the snapshot the hash came from */
	bool ok;
	char pass[AUTH_PASS_MAX + 1];
	char hash[AUTH_HASH_MAX + 1];
};

struct fail_slot {
	uint64_t key, window_end_ms;
	unsigned failures;
};

struct auth_verifier {
	pthread_t thread;
	pthread_mutex_t lock; /* the queue, and fails */
	pthread_cond_t wake;
	struct auth_job *head, *tail; /* waiting */
	size_t queued;
	bool stopping;
	/* failed logins by client address, all workers together */
	struct fail_slot fails[FAIL_SLOTS];
	uint8_t sipkey[16];
};

struct cache_slot {
	uint64_t key, generation, expires_ms;
};

struct auth_worker {
	struct auth_verifier *v;
	struct worker *w;
	uint8_t sipkey[16];
	pthread_mutex_t lock; /* done */
	struct auth_job *done;
	struct cache_slot cache[CACHE_SLOTS];
};

/* ---- loading ---------------------------------------------------------- */

int auth_load(const struct config *cfg, struct auth_table **out, char *err,
	      void (*report)(void *arg, bool warning, const char *line),
	      void *arg)
{
	struct auth_stats st;
	char line[CONFIG_PATH_MAX + 256];
	size_t len;
	char *text;

	*out = NULL;
	if (cfg->auth_file[0] == '\0')
		return 0;
	text = lists_read_file(cfg->auth_file, 16u << 20, &len);
	if (text == NULL) {
		snprintf(err, CONFIG_ERR_MAX + CONFIG_PATH_MAX,
			 "auth-file %s: cannot read: %s", cfg->auth_file,
			 strerror(errno));
		return -1;
	}
	*out = auth_table_parse(text, len, &st);
	free(text);
	if (*out == NULL) {
		snprintf(err, CONFIG_ERR_MAX + CONFIG_PATH_MAX,
			 "auth-file %s: out of memory", cfg->auth_file);
		return -1;
	}
	if (report != NULL) {
		snprintf(line, sizeof(line), "auth-file %s: %llu users",
			 cfg->auth_file, (unsigned long long)st.users);
		report(arg, false, line);
		if (st.skipped > 0) {
			snprintf(line, sizeof(line),
				 "auth-file %s: %llu lines skipped (first: "
				 "line %u): only yescrypt, bcrypt, scrypt, "
				 "sha512-crypt and sha256-crypt hashes are "
				 "taken",
				 cfg->auth_file, (unsigned long long)st.skipped,
				 st.first_skipped_line);
			report(arg, true, line);
		}
	}
	return 0;
}

/* ---- the verifier thread ---------------------------------------------- */

/* Compares without an early exit: the time says nothing of where. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static void deliver(struct auth_job *job)
{
	struct auth_worker *aw = job->owner;

	pthread_mutex_lock(&aw->lock);
	job->next = aw->done;
	aw->done = job;
	pthread_mutex_unlock(&aw->lock);
	worker_command(aw->w, WORKER_CMD_AUTH);
}

static void *verifier_main(void *arg)
{
	struct auth_verifier *v = arg;
	struct crypt_data *data = calloc(1, sizeof(*data));

	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (v->head == NULL && !v->stopping)
			pthread_cond_wait(&v->wake, &v->lock);
		if (v->stopping)
			break;
		struct auth_job *job = v->head;
		v->head = job->next;
		if (v->head == NULL)
			v->tail = NULL;
		v->queued--;
		pthread_mutex_unlock(&v->lock);

		const char *h = data != NULL
					? crypt_r(job->pass, job->hash, data)
					: NULL;
		job->ok = h != NULL && h[0] != '*' && same(h, job->hash);
		explicit_bzero(job->pass, sizeof(job->pass));
		deliver(job);
		pthread_mutex_lock(&v->lock);
	}
	pthread_mutex_unlock(&v->lock);
	free(data);
	return NULL;
}

struct auth_verifier *auth_verifier_start(void)
{
	struct auth_verifier *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	if (getrandom(v->sipkey, sizeof(v->sipkey), 0) !=
	    (ssize_t)sizeof(v->sipkey)) {
		free(v);
		return NULL;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->wake, NULL);
	if (pthread_create(&v->thread, NULL, verifier_main, v) != 0) {
		pthread_cond_destroy(&v->wake);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return NULL;
	}
	return v;
}

void auth_verifier_stop(struct auth_verifier *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = true;
	pthread_cond_signal(&v->wake);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	while (v->head != NULL) { /* never verified: nobody waits now */
		struct auth_job *job = v->head;
		v->head = job->next;
		explicit_bzero(job->pass, sizeof(job->pass));
		free(job);
	}
	pthread_cond_destroy(&v->wake);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static int submit(struct auth_verifier *v, struct auth_job *job)
{
	pthread_mutex_lock(&v->lock);
	if (v->queued >= AUTH_QUEUE_MAX) {
		pthread_mutex_unlock(&v->lock);
		return -1;
	}
	job->next = NULL;
	if (v->tail != NULL)
		v->tail->next = job;
	else
		v->head = job;
	v->tail = job;
	v->queued++;
	pthread_cond_signal(&v->wake);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* ---- per worker ------------------------------------------------------- */

struct auth_worker *auth_worker_new(struct auth_verifier *v, struct worker *w)
{
	struct auth_worker *aw = calloc(1, sizeof(*aw));

	if (aw == NULL)
		return NULL;
	aw->v = v;
	aw->w = w;
	if (getrandom(aw->sipkey, sizeof(aw->sipkey), 0) !=
	    (ssize_t)sizeof(aw->sipkey)) {
		free(aw);
		return NULL;
	}
	pthread_mutex_init(&aw->lock, NULL);
	return aw;
}

void auth_worker_free(struct auth_worker *aw)
{
	if (aw == NULL)
		return;
	while (aw->done != NULL) {
		struct auth_job *job = aw->done;
		aw->done = job->next;
		free(job);
	}
	pthread_mutex_destroy(&aw->lock);
	explicit_bzero(aw->sipkey, sizeof(aw->sipkey));
	free(aw);
}

static uint64_t credentials_key(const struct auth_worker *aw,
				const struct auth_credentials *c)
{
	char buf[AUTH_USER_MAX + AUTH_PASS_MAX + 2];
	uint64_t key;

	memcpy(buf, c->user, c->user_len);
	buf[c->user_len] = '\0'; /* users have no NUL: unambiguous */
	memcpy(buf + c->user_len + 1, c->pass, c->pass_len);
	key = siphash24(aw->sipkey, buf, c->user_len + 1 + c->pass_len);
	explicit_bzero(buf, sizeof(buf));
	return key;
}

/*
 * The failures of peer's address in the current window, after adding
 * `add`. Shared by the workers: one address, one count, whichever worker
 * its connections land on.
 */
static unsigned count_failures(struct auth_verifier *v,
			       const struct sockaddr_storage *peer,
			       uint64_t now, unsigned add)
{
	uint8_t addr[16] = {0};
	uint64_t key;
	unsigned failures;

	if (peer->ss_family == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	else if (peer->ss_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)peer)->sin6_addr,
		       16);
	key = siphash24(v->sipkey, addr, sizeof(addr));
	pthread_mutex_lock(&v->lock);
	struct fail_slot *f = &v->fails[key % FAIL_SLOTS];
	if (f->key != key || now >= f->window_end_ms) {
		f->key = key;
		f->failures = 0;
		f->window_end_ms = now + AUTH_FAIL_WINDOW_MS;
	}
	f->failures += add;
	failures = f->failures;
	pthread_mutex_unlock(&v->lock);
	return failures;
}

/* 407 with the challenge; kept alive when the request allows it. */
static void reply_407(struct session *s, bool reusable, bool head,
		      const char *why)
{
	const struct config *cfg = s->worker->cfg;
	char *buf = malloc(SESSION_ERROR_BYTES + 256);
	size_t n;

	log_debug("%s %s: 407 %s", s->method, s->target, why);
	if (buf == NULL) {
		session_finish(s, "no-memory");
		return;
	}
	n = http1_write_auth_required(buf, SESSION_ERROR_BYTES + 256,
				      cfg->auth_realm, why, !reusable, head);
	session_send_reply(s, buf, n, 407, "auth-required", reusable);
}

/* The Proxy-Authorization field of req, or NULL. */
static const struct http1_header *find_field(const struct http1_request *req)
{
	for (size_t i = 0; i < req->num_headers; i++)
		if (http1_name_eq(req->headers[i].name,
				  req->headers[i].name_len,
				  "proxy-authorization"))
			return &req->headers[i];
	return NULL;
}

enum auth_outcome auth_check(struct session *s, const struct http1_request *req,
			     bool reusable)
{
	struct worker *w = s->worker;
	struct auth_worker *aw = w->auth;
	const struct snapshot *snap = w->snapshot;
	const struct http1_header *field = find_field(req);
	struct auth_credentials cred;
	uint64_t now = loop_now_ms(w->loop), key;
	struct cache_slot *slot;
	struct auth_job *job;
	const char *hash;
	bool head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;

	if (aw == NULL || snap->auth == NULL)
		return AUTH_PASS;
	if (field == NULL) {
		session_decide(s, ACCESS_AUTH_FAILED, "no-credentials");
		reply_407(s, reusable, head, "proxy authentication required");
		return AUTH_REPLIED;
	}
	if (auth_parse_basic(field->value, field->value_len, &cred) < 0) {
		session_decide(s, ACCESS_AUTH_FAILED, "not-basic");
		reply_407(s, reusable, head,
			  "only Basic credentials are taken");
		return AUTH_REPLIED;
	}
	key = credentials_key(aw, &cred);
	slot = &aw->cache[key % CACHE_SLOTS];
	if (slot->key == key && slot->generation == snap->generation &&
	    now < slot->expires_ms) {
		session_note_user(s, cred.user, cred.user_len);
		explicit_bzero(&cred, sizeof(cred));
		return AUTH_PASS;
	}
	if (count_failures(aw->v, &s->peer, now, 0) >= AUTH_FAIL_MAX) {
		explicit_bzero(&cred, sizeof(cred));
		session_decide(s, ACCESS_AUTH_FAILED, "throttled");
		session_reply_error(s, 429, "auth-throttled",
				    "too many failed logins from this address; "
				    "try again later");
		return AUTH_REPLIED;
	}
	hash = auth_table_lookup(snap->auth, cred.user, cred.user_len);
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		explicit_bzero(&cred, sizeof(cred));
		session_reply_error(s, 500, "no-memory", "out of memory");
		return AUTH_REPLIED;
	}
	job->owner = aw;
	job->session = s;
	job->key = hash != NULL ? key : 0; /* an unknown user never passes */
	job->generation = snap->generation;
	memcpy(job->pass, cred.pass, cred.pass_len + 1);
	snprintf(job->hash, sizeof(job->hash), "%s",
		 hash != NULL ? hash : dummy_hash);
	explicit_bzero(&cred, sizeof(cred));
	if (submit(aw->v, job) < 0) {
		explicit_bzero(job->pass, sizeof(job->pass));
		free(job);
		session_reply_error(s, 503, "auth-busy",
				    "too many logins being checked; try again");
		return AUTH_REPLIED;
	}
	s->auth_job = job;
	s->auth_reusable = reusable;
	s->auth_head = head;
	s->state = SESSION_AUTH;
	watch_stop(s->timer);
	if (watch_start_timer(s->timer, AUTH_WAIT_MS) < 0) {
		session_finish(s, "no-memory");
		return AUTH_REPLIED;
	}
	return AUTH_WAIT;
}

void auth_cancel(struct session *s)
{
	if (s->auth_job != NULL)
		s->auth_job->session = NULL;
	s->auth_job = NULL;
}

static void resume(struct auth_worker *aw, struct auth_job *job)
{
	struct session *s = job->session;
	uint64_t now = loop_now_ms(aw->w->loop);

	s->auth_job = NULL;
	if (job->ok && job->key != 0) {
		struct cache_slot *slot = &aw->cache[job->key % CACHE_SLOTS];
		slot->key = job->key;
		slot->generation = job->generation;
		slot->expires_ms = now + AUTH_CACHE_MS;
		session_reparse(s); /* now the cache lets it through */
		return;
	}
	count_failures(aw->v, &s->peer, now, 1);
	session_decide(s, ACCESS_AUTH_FAILED, "bad-credentials");
	reply_407(s, s->auth_reusable, s->auth_head,
		  "wrong user name or password");
}

void auth_worker_drain(struct auth_worker *aw)
{
	struct auth_job *list;

	if (aw == NULL)
		return;
	pthread_mutex_lock(&aw->lock);
	list = aw->done;
	aw->done = NULL;
	pthread_mutex_unlock(&aw->lock);
	while (list != NULL) {
		struct auth_job *job = list;
		list = job->next;
		if (job->session != NULL)
			resume(aw, job);
		free(job);
	}
}
