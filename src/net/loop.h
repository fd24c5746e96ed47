/*
 * loop.h - the event loop, as the rest of sluice sees it: readiness of a
 * file descriptor in one direction, one-shot timers, and a cached clock.
 *
 * A thin wrapper over libevent; this file and its .c are the only places
 * libevent appears outside net/. A loop and every watch on it belong to one
 * thread. Watches are level-triggered: a started read watch fires again and
 * again while the fd is readable, until stopped.
 */
#ifndef SLUICE_NET_LOOP_H
#define SLUICE_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct watch;

typedef void (*watch_fn)(void *arg);

/* Once per process, before any thread starts. Returns 0 or -1. */
int loop_global_init(void);

/* Returns a new loop, or NULL. */
struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Runs until loop_stop() or nothing is left to watch. Returns 0 or -1. */
int loop_run(struct loop *loop);

/* Makes loop_run() return after the current callback. */
void loop_stop(struct loop *loop);

/* Milliseconds on a monotonic clock, cached per loop iteration. */
uint64_t loop_now_ms(struct loop *loop);

/* The underlying libevent base, for net/ modules only (resolve.c). */
void *loop_base(struct loop *loop);

/*
 * Watches: created stopped. Return NULL when out of memory. The callback
 * gets arg. A watch may be freed from inside its own callback.
 */
struct watch *watch_new_read(struct loop *loop, int fd, watch_fn fn, void *arg);
struct watch *watch_new_write(struct loop *loop, int fd, watch_fn fn,
			      void *arg);
struct watch *watch_new_timer(struct loop *loop, watch_fn fn, void *arg);

/* fd watches: start or stop interest. Idempotent. start returns 0 or -1. */
int watch_start(struct watch *w);
void watch_stop(struct watch *w);
bool watch_is_active(const struct watch *w);

/* Gives the watch a new callback (a socket changing hands keeps its
 * registration); its state is unchanged. */
void watch_retarget(struct watch *w, watch_fn fn, void *arg);

/*
 * Runs the watch's callback from the loop, soon, once, whether or not it
 * is started and without asking the kernel: for work that should try its
 * system call first (a write to a socket that is most likely writable)
 * and only wait when that would block.
 */
void watch_kick(struct watch *w);

/* Timers: (re)arm to fire once after ms; stop with watch_stop(). */
int watch_start_timer(struct watch *w, uint64_t ms);

/* Stops and frees; w may be NULL. */
void watch_free(struct watch *w);

#endif
