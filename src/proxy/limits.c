/*
 * limits.c - see limits.h.
 *
 * Clients are an open-addressing table (linear probing, deletion by
 * backward shift, so no tombstones pile up) keyed by the 16-byte address;
 * an entry lives while the client has a connection open.
 */
#include "proxy/limits.h"

#include "report/log.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct limits_client {
	uint8_t addr[16];
	unsigned count; /* 0: the slot is free */
	bool logged;
};

static uint64_t hash16(const uint8_t addr[16])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t key_of(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET)
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
	else if (sa->sa_family == AF_INET6)
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	return hash16(out);
}

int conn_limits_init(struct conn_limits *l, unsigned max_total,
		     unsigned max_per_client)
{
	memset(l, 0, sizeof(*l));
	atomic_init(&l->max_total, max_total);
	atomic_init(&l->max_per_client, max_per_client);
	atomic_init(&l->total, 0);
	atomic_init(&l->total_logged, false);
	/* always: a reload may set a per-client limit; the pages stay
	 * untouched (calloc of this size maps zero pages) until used */
	l->clients = calloc(LIMITS_CLIENTS_MAX, sizeof(*l->clients));
	if (l->clients == NULL)
		return -1;
	return pthread_mutex_init(&l->lock, NULL) == 0 ? 0 : -1;
}

void conn_limits_set(struct conn_limits *l, unsigned max_total,
		     unsigned max_per_client)
{
	atomic_store(&l->max_total, max_total);
	atomic_store(&l->max_per_client, max_per_client);
}

void conn_limits_deinit(struct conn_limits *l)
{
	free(l->clients);
	l->clients = NULL;
	pthread_mutex_destroy(&l->lock);
}

/* The slot of addr, or of where it would go. NULL: the table is full. */
static struct limits_client *find(struct conn_limits *l, const uint8_t *addr,
				  uint64_t h)
{
	size_t i = h & (LIMITS_CLIENTS_MAX - 1);

	for (size_t n = 0; n < LIMITS_CLIENTS_MAX; n++) {
		struct limits_client *c = &l->clients[i];
		if (c->count == 0 || memcmp(c->addr, addr, 16) == 0)
			return c;
		i = (i + 1) & (LIMITS_CLIENTS_MAX - 1);
	}
	return NULL;
}

/* Frees slot i, moving later entries of its run back (no tombstones). */
static void remove_at(struct conn_limits *l, size_t i)
{
	size_t j = i;

	l->clients[i].count = 0;
	for (;;) {
		j = (j + 1) & (LIMITS_CLIENTS_MAX - 1);
		struct limits_client *c = &l->clients[j];
		if (c->count == 0)
			return;
		size_t home = hash16(c->addr) & (LIMITS_CLIENTS_MAX - 1);
		/* move c into the hole when its home is not in (i, j] */
		bool stays = i <= j ? (home > i && home <= j)
				    : (home > i || home <= j);
		if (!stays) {
			l->clients[i] = *c;
			c->count = 0;
			i = j;
		}
	}
}

enum limits_verdict conn_limits_enter(struct conn_limits *l,
				      const struct sockaddr *peer, bool *log_it,
				      unsigned *counted)
{
	unsigned max_total =
		atomic_load_explicit(&l->max_total, memory_order_relaxed);
	unsigned max_per_client =
		atomic_load_explicit(&l->max_per_client, memory_order_relaxed);

	*log_it = false;
	*counted = 0;
	if (max_total > 0) {
		unsigned before = atomic_fetch_add(&l->total, 1);
		if (before >= max_total) {
			atomic_fetch_sub(&l->total, 1);
			*log_it = !atomic_exchange(&l->total_logged, true);
			return LIMITS_TOTAL;
		}
		if (before + 1 < max_total)
			atomic_store(&l->total_logged, false);
		*counted |= LIMITS_COUNTED_TOTAL;
	}
	if (max_per_client == 0)
		return LIMITS_OK;

	uint8_t addr[16];
	uint64_t h = key_of(peer, addr);
	enum limits_verdict v = LIMITS_OK;

	pthread_mutex_lock(&l->lock);
	struct limits_client *c = find(l, addr, h);
	if (c == NULL) {
		/* past LIMITS_CLIENTS_MAX distinct clients: let it in */
		*log_it = !l->table_full_logged;
		l->table_full_logged = true;
	} else if (c->count >= max_per_client) {
		*log_it = !c->logged;
		c->logged = true;
		v = LIMITS_PER_CLIENT;
	} else {
		if (c->count == 0) {
			memcpy(c->addr, addr, 16);
			c->logged = false;
		}
		c->count++;
		*counted |= LIMITS_COUNTED_CLIENT;
	}
	pthread_mutex_unlock(&l->lock);
	if (v != LIMITS_OK && (*counted & LIMITS_COUNTED_TOTAL)) {
		atomic_fetch_sub(&l->total, 1);
		*counted = 0;
	}
	if (c == NULL && *log_it)
		log_warn("max-connections-per-client: more than %u clients at "
			 "once; new ones are not limited",
			 LIMITS_CLIENTS_MAX);
	return v;
}

void conn_limits_leave(struct conn_limits *l, const struct sockaddr *peer,
		       unsigned counted)
{
	if (counted & LIMITS_COUNTED_TOTAL)
		atomic_fetch_sub(&l->total, 1);
	if (!(counted & LIMITS_COUNTED_CLIENT))
		return;

	uint8_t addr[16];
	uint64_t h = key_of(peer, addr);

	pthread_mutex_lock(&l->lock);
	struct limits_client *c = find(l, addr, h);
	if (c != NULL && c->count > 0 && --c->count == 0)
		remove_at(l, (size_t)(c - l->clients));
	pthread_mutex_unlock(&l->lock);
}
