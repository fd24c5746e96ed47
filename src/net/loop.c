/*
 * loop.c - see loop.h. One struct event per watch; interest changes are
 * event_add/event_del, which libevent turns into epoll_ctl calls.
 */
#include "net/loop.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define LOOP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOOP_ASAN 1
#endif
#endif
#ifdef LOOP_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n)	  ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

/*
 * Freed watches wait here, their events deleted, for the next watch_new:
 * every forwarded request makes and frees four (the read and write watches
 * of its two pumps), and a spare spares a calloc and a free each time
 * (callgrind: 1,750 of about 26,000 instructions a request). Under ASan a
 * spare is poisoned, so a use after watch_free is still caught.
 */
#define SPARE_WATCHES 64

struct loop {
	struct event_base *base;
	size_t watch_size; /* a watch and its event, in one allocation */
	struct watch *spare[SPARE_WATCHES];
	size_t n_spare;
};

struct watch {
	struct event *ev; /* points at the bytes behind the struct */
	struct loop *loop;
	watch_fn fn;
	void *arg;
	bool active;  /* the owner wants the callback */
	bool pending; /* added to libevent (may outlive active: see below) */
	bool kicked;  /* watch_kick() queued a call */
	bool is_timer;
	bool is_read;
};

/* Where the event starts behind its watch. */
#define WATCH_HEAD ((sizeof(struct watch) + 15) & ~(size_t)15)

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
	/* interest changes are queued and applied once before each wait, so
	 * a watch stopped and started again in one round costs no epoll_ctl,
	 * and read and write interest on one socket share one call */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	loop->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (loop->base == NULL) {
		free(loop);
		return NULL;
	}
	loop->watch_size = WATCH_HEAD + event_get_struct_event_size();
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
	while (loop->n_spare > 0) {
		struct watch *w = loop->spare[--loop->n_spare];
		ASAN_UNPOISON_MEMORY_REGION(w, loop->watch_size);
		free(w);
	}
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
	bool kicked = w->kicked;

	(void)fd;
	(void)what;
	w->kicked = false;
	if (w->is_timer) {
		w->active = w->pending = false;
	} else if (!w->active && !kicked) {
		/* a stopped read watch left registered, and its socket
		 * became readable: only now is the interest withdrawn */
		event_del(w->ev);
		w->pending = false;
		return;
	}
	w->fn(w->arg);
}

static struct watch *watch_new(struct loop *loop, int fd, short what,
			       watch_fn fn, void *arg)
{
	struct watch *w;

	/* one allocation for the watch and its libevent event: an idle
	 * tunnel has four watches */
	if (loop->n_spare > 0) {
		w = loop->spare[--loop->n_spare];
		ASAN_UNPOISON_MEMORY_REGION(w, loop->watch_size);
		memset(w, 0, sizeof(*w));
	} else {
		w = calloc(1, loop->watch_size);
		if (w == NULL)
			return NULL;
	}
	w->loop = loop;
	w->fn = fn;
	w->arg = arg;
	w->is_timer = fd < 0;
	w->is_read = (what & EV_READ) != 0;
	w->ev = (struct event *)((char *)w + WATCH_HEAD);
	/* a deleted event may be assigned again (libevent's event_assign) */
	if (event_assign(w->ev, loop->base, fd, what, on_event, w) < 0) {
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
	if (!w->pending && event_add(w->ev, NULL) < 0)
		return -1;
	w->active = w->pending = true;
	return 0;
}

/*
 * A read watch stopped stays registered with the kernel until its socket
 * next becomes readable (on_event withdraws it then): a connection that
 * stops reading while its request is served and starts again for the
 * next one costs no epoll_ctl either way. Write watches are withdrawn at
 * once: a socket is nearly always writable, so one left registered would
 * wake the loop for nothing.
 */
void watch_stop(struct watch *w)
{
	w->kicked = false; /* a queued kick is cancelled too */
	if (!w->active)
		return;
	w->active = false;
	if (w->is_read)
		return;
	event_del(w->ev);
	w->pending = false;
}

void watch_retarget(struct watch *w, watch_fn fn, void *arg)
{
	w->fn = fn;
	w->arg = arg;
}

bool watch_is_active(const struct watch *w)
{
	return w->active;
}

void watch_kick(struct watch *w)
{
	/* queued as if the kernel had reported the fd ready: no system call */
	w->kicked = true;
	event_active(w->ev, w->is_timer ? EV_TIMEOUT : EV_READ | EV_WRITE, 0);
}

int watch_start_timer(struct watch *w, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	if (event_add(w->ev, &tv) < 0)
		return -1;
	w->active = w->pending = true;
	return 0;
}

void watch_free(struct watch *w)
{
	struct loop *loop;

	if (w == NULL)
		return;
	loop = w->loop;
	event_del(w->ev); /* also takes it off the active queue */
	if (loop->n_spare == SPARE_WATCHES) {
		free(w);
		return;
	}
	ASAN_POISON_MEMORY_REGION(w, loop->watch_size);
	loop->spare[loop->n_spare++] = w;
}
