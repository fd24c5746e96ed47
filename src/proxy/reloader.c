/*
 * reloader.c - see reloader.h.
 *
 * A failed fetch is tried again after RELOADER_RETRY_MIN_MS, doubling up
 * to blocklist-refresh; the copy already cached stays in use meanwhile.
 */
#include "proxy/reloader.h"

#include "net/fetch.h"
#include "policy/blocklist.h"
#include "proxy/lists.h"
#include "proxy/snapshot.h"
#include "report/log.h"
#include "report/metrics.h"
#include "report/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RELOADER_RETRY_MIN_MS	  (30 * 1000)
#define RELOADER_FETCH_TIMEOUT_MS (5 * 60 * 1000)
#define RELOADER_CONNECT_MS	  (30 * 1000)

struct reloader {
	struct snapshot *current; /* its cfg is the config in use */
	reloader_config_fn load_config;
	reloader_publish_fn publish;
	void *arg;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool reload_wanted; /* under lock */
	atomic_bool stopping;
	uint64_t retry_ms; /* 0: the last fetch round went well */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool has_urls(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lists; i++)
		if (lists_is_url(cfg->lists[i].source))
			return true;
	return false;
}

/* Does cfg name a list by URL that old's config does not? */
static bool new_urls(const struct config *cfg, const struct snapshot *old)
{
	for (size_t i = 0; i < cfg->n_lists; i++) {
		const char *url = cfg->lists[i].source;
		bool known = false;

		if (!lists_is_url(url))
			continue;
		for (size_t j = 0; j < old->cfg->n_lists && !known; j++)
			known = strcmp(old->cfg->lists[j].source, url) == 0;
		if (!known)
			return true;
	}
	return false;
}

/* Fetches every URL list. Returns how many changed; *failed counts the
 * fetches that did not work. */
static unsigned fetch_all(struct reloader *r, unsigned *failed)
{
	const struct config *cfg = r->current->cfg;
	struct fetch_limits limits = {
		.timeout_ms = RELOADER_FETCH_TIMEOUT_MS,
		.connect_timeout_ms = RELOADER_CONNECT_MS,
		.max_bytes = LISTS_FILE_MAX,
		.cancel = &r->stopping,
	};
	unsigned changed = 0;

	*failed = 0;
	if (mkdir(cfg->blocklist_cache, 0755) < 0 && errno != EEXIST)
		log_warn("blocklist-cache %s: cannot create: %s",
			 cfg->blocklist_cache, strerror(errno));
	for (size_t i = 0; i < cfg->n_lists && !atomic_load(&r->stopping);
	     i++) {
		const char *url = cfg->lists[i].source;
		char path[CONFIG_PATH_MAX + 64], err[512];

		if (!lists_is_url(url))
			continue;
		lists_cache_path(cfg, url, path, sizeof(path));
		switch (fetch_to_file(url, path, &limits, err, sizeof(err))) {
		case FETCH_NEW:
			log_info("fetched %s", url);
			changed++;
			break;
		case FETCH_NOT_MODIFIED:
			log_debug("%s: not modified", url);
			break;
		default:
			log_warn("cannot fetch %s: %s (the copy in %s, if any, "
				 "stays in use)",
				 url, err, cfg->blocklist_cache);
			(*failed)++;
		}
	}
	return changed;
}

/*
 * Builds and publishes a new snapshot: from the config read again (full),
 * or from the config in use with the lists read again. Returns false when
 * the snapshot in use stays.
 */
static bool rebuild(struct reloader *r, const char *why, bool full)
{
	struct config *cfg = NULL;
	struct snapshot *snap = NULL;
	char err[SNAPSHOT_ERR_MAX];

	log_info("%s: reloading %s", why,
		 full ? "the config, the lists and auth-file"
		      : "the lists and auth-file");
	if (full) {
		cfg = malloc(sizeof(*cfg));
		if (cfg == NULL)
			snprintf(err, sizeof(err), "out of memory");
		else if (r->load_config(r->arg, cfg, err) == 0)
			snap = snapshot_load(cfg, r->current->generation + 1,
					     lists_report_to_log, NULL, err);
		free(cfg); /* the snapshot has its own copy */
	} else {
		snap = snapshot_load(r->current->cfg,
				     r->current->generation + 1,
				     lists_report_to_log, NULL, err);
	}
	if (snap == NULL || r->publish(r->arg, snap, err) < 0) {
		snapshot_release(snap);
		log_error("reload failed, keeping what was loaded before: %s",
			  err);
		metrics_note_reload(false, err);
		return false;
	}
	snapshot_release(r->current);
	r->current = snap;
	log_info("reload done: generation %llu in use",
		 (unsigned long long)snap->generation);
	metrics_note_reload(true, NULL);
	return true;
}

static void *reloader_main(void *arg)
{
	struct reloader *r = arg;
	bool urls = has_urls(r->current->cfg);
	uint64_t next_fetch = now_ms(); /* URL lists: fetch at once */

	pthread_mutex_lock(&r->lock);
	while (!atomic_load(&r->stopping)) {
		bool reload = r->reload_wanted;
		bool fetch = urls && now_ms() >= next_fetch;

		if (!reload && !fetch) {
			struct timespec until;
			uint64_t wait_ms =
				urls ? next_fetch - now_ms() : 3600000;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += (time_t)(wait_ms / 1000);
			until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&r->wake, &r->lock, &until);
			continue;
		}
		r->reload_wanted = false;
		pthread_mutex_unlock(&r->lock);

		unsigned changed = 0, failed = 0;
		if (fetch) {
			changed = fetch_all(r, &failed);
			if (failed == 0) {
				r->retry_ms = 0;
				next_fetch =
					now_ms() +
					r->current->cfg->blocklist_refresh_ms;
			} else {
				r->retry_ms = r->retry_ms == 0
						      ? RELOADER_RETRY_MIN_MS
						      : r->retry_ms * 2;
				uint64_t most =
					r->current->cfg->blocklist_refresh_ms;
				if (r->retry_ms > most)
					r->retry_ms = most;
				next_fetch = now_ms() + r->retry_ms;
			}
		}
		if (!atomic_load(&r->stopping) && (reload || changed > 0)) {
			/* pinned: the rebuild may let it go */
			struct snapshot *old = snapshot_pin(r->current);
			bool ok =
				rebuild(r, reload ? "SIGHUP" : "a list changed",
					reload);
			/* the SIGHUP sent RELOADING=1: say it is over */
			if (reload)
				notify_reloaded(ok);
			if (ok && reload && new_urls(r->current->cfg, old)) {
				/* a list by URL the config did not have:
				 * fetch it now, the rest with it */
				next_fetch = now_ms();
			}
			urls = has_urls(r->current->cfg);
			snapshot_release(old);
		}
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct reloader *reloader_start(struct snapshot *current,
				reloader_config_fn load_config,
				reloader_publish_fn publish, void *arg)
{
	struct reloader *r = calloc(1, sizeof(*r));
	pthread_condattr_t attr;

	if (r == NULL)
		return NULL;
	r->current = snapshot_pin(current);
	r->load_config = load_config;
	r->publish = publish;
	r->arg = arg;
	atomic_init(&r->stopping, false);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&r->thread, NULL, reloader_main, r) != 0) {
		snapshot_release(r->current);
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	return r;
}

void reloader_request(struct reloader *r)
{
	pthread_mutex_lock(&r->lock);
	r->reload_wanted = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void reloader_stop(struct reloader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->stopping, true);
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	snapshot_release(r->current);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
