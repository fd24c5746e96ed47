/*
 * counter.h - a statistics counter with one writer and any number of
 * readers: the worker that owns it adds, the admin thread reads and sums.
 *
 * Relaxed atomics: on x86-64 and arm64 an add is a plain load, add and
 * store (no lock prefix, no barrier), and a reader never sees a torn
 * value. Only the owning thread may add; two writers would lose counts.
 */
#ifndef SLUICE_BASE_COUNTER_H
#define SLUICE_BASE_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t counter_t;

static inline void counter_add(counter_t *c, uint64_t n)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + n, memory_order_relaxed);
}

static inline void counter_inc(counter_t *c)
{
	counter_add(c, 1);
}

static inline uint64_t counter_get(const counter_t *c)
{
	return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

#endif
