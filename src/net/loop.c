/*
 * loop.c - see loop.h. One struct event per watch; interest changes are
 * event_add/event_del, which libevent turns into epoll_ctl calls.
 */
#include "net/loop.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <time.h>

struct loop {
	struct event_base *base;
};

struct watch {
	struct event *ev;
	watch_fn fn;
	void *arg;
	bool active;
	bool is_timer;
};

int loop_global_init(void)
{
	/* libevent's process-wide state (its RNG, used by the resolver) is
	 * reached from several worker threads; the bases themselves stay
	 * lock-free (EVENT_BASE_FLAG_NOLOCK). */
	return evthread_use_pthreads();
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));
	struct event_config *cfg = event_config_new();

	if (loop == NULL || cfg == NULL)
		goto fail;
	/* one loop per thread, never shared: no locks inside libevent */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	loop->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (loop->base == NULL) {
		free(loop);
		return NULL;
	}
	return loop;
fail:
	if (cfg != NULL)
		event_config_free(cfg);
	free(loop);
	return NULL;
}

void loop_free(struct loop *loop)
{
	if (loop == NULL)
		return;
	event_base_free(loop->base);
	free(loop);
}

int loop_run(struct loop *loop)
{
	return event_base_dispatch(loop->base) < 0 ? -1 : 0;
}

void loop_stop(struct loop *loop)
{
	event_base_loopbreak(loop->base);
}

uint64_t loop_now_ms(struct loop *loop)
{
	struct timespec ts;

	(void)loop;
	/* the coarse clock is a vDSO read with jiffy resolution: enough for
	 * timeouts and durations, and cheap enough to call per transfer */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *loop_base(struct loop *loop)
{
	return loop->base;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd;
	(void)what;
	if (w->is_timer)
		w->active = false;
	w->fn(w->arg);
}

static struct watch *watch_new(struct loop *loop, int fd, short what,
			       watch_fn fn, void *arg)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->fn = fn;
	w->arg = arg;
	w->is_timer = fd < 0;
	w->ev = event_new(loop->base, fd, what, on_event, w);
	if (w->ev == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

struct watch *watch_new_read(struct loop *loop, int fd, watch_fn fn, void *arg)
{
	return watch_new(loop, fd, EV_READ | EV_PERSIST, fn, arg);
}

struct watch *watch_new_write(struct loop *loop, int fd, watch_fn fn, void *arg)
{
	return watch_new(loop, fd, EV_WRITE | EV_PERSIST, fn, arg);
}

struct watch *watch_new_timer(struct loop *loop, watch_fn fn, void *arg)
{
	return watch_new(loop, -1, 0, fn, arg);
}

int watch_start(struct watch *w)
{
	if (w->active)
		return 0;
	if (event_add(w->ev, NULL) < 0)
		return -1;
	w->active = true;
	return 0;
}

void watch_stop(struct watch *w)
{
	if (!w->active)
		return;
	event_del(w->ev);
	w->active = false;
}

bool watch_is_active(const struct watch *w)
{
	return w->active;
}

int watch_start_timer(struct watch *w, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	if (event_add(w->ev, &tv) < 0)
		return -1;
	w->active = true;
	return 0;
}

void watch_free(struct watch *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	free(w);
}
