/*
 * resolve.c - see resolve.h.
 *
 * A cache entry is PENDING while its A and AAAA queries are out, then
 * READY (addresses, until the clamped TTL ends) or NEGATIVE (no such name,
 * for the negative TTL); a timeout or a server failure is not cached. A
 * query either waits on a PENDING entry or holds its answer already; every
 * answer is delivered from the query's own zero timer, so no callback ever
 * runs inside resolve_start() or inside another query's callback.
 *
 * evdns may still call back for requests of a resolver being freed; the
 * entries are freed only after evdns_base_free() has returned.
 */
#include "net/resolve.h"

#include <event2/dns.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 253
#define BUCKETS	     (2 * RESOLVE_CACHE_MAX) /* a power of two */

enum entry_state {
	ENTRY_EMPTY = 1, /* nothing known: ask */
	ENTRY_PENDING,	 /* queries out; queries wait */
	ENTRY_READY,	 /* addresses, until expires_ms */
	ENTRY_NEGATIVE,	 /* no such name, until expires_ms */
};

struct entry {
	struct resolver *r;
	struct entry *hnext;		   /* hash chain */
	struct entry *lru_prev, *lru_next; /* most recent at the head */
	enum entry_state state;
	uint64_t expires_ms;
	unsigned outstanding; /* evdns requests not answered yet */
	int err4, err6;	      /* DNS_ERR_* of each family's answer */
	uint64_t asked_ms;    /* when the queries went out */
	uint64_t ttl_ms;      /* least TTL among the answers */
	struct host_addrs addrs;
	struct resolve_query *waiters;
	size_t len;
	char name[NAME_MAX_LEN + 1]; /* lowercase */
};

struct resolver {
	struct loop *loop;
	struct evdns_base *dns;
	struct resolver_config cfg;
	struct entry *buckets[BUCKETS];
	struct entry *lru_head, *lru_tail;
	size_t n_entries;
	bool closing;
	struct resolver_stats stats;
};

struct resolve_query {
	struct resolver *r;
	struct entry *e; /* the entry waited on, or NULL once answered */
	struct resolve_query *prev, *next; /* the entry's waiters */
	struct watch *deliver;		   /* zero timer */
	resolve_fn fn;
	void *arg;
	uint16_t port;
	enum resolve_status status;
	struct host_addrs addrs;
};

static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- the cache -------------------------------------------------------- */

static void lru_unlink(struct resolver *r, struct entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		r->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		r->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct resolver *r, struct entry *e)
{
	e->lru_next = r->lru_head;
	if (r->lru_head != NULL)
		r->lru_head->lru_prev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

static struct entry **bucket_of(struct resolver *r, const char *name,
				size_t len)
{
	return &r->buckets[hash_name(name, len) & (BUCKETS - 1)];
}

static struct entry *cache_find(struct resolver *r, const char *name,
				size_t len)
{
	for (struct entry *e = *bucket_of(r, name, len); e != NULL;
	     e = e->hnext)
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

static void cache_remove(struct resolver *r, struct entry *e)
{
	struct entry **p = bucket_of(r, e->name, e->len);

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(r, e);
	r->n_entries--;
	free(e);
}

/* Frees the least recently used entry nobody waits on, if any. */
static void cache_evict(struct resolver *r)
{
	for (struct entry *e = r->lru_tail; e != NULL; e = e->lru_prev) {
		if (e->outstanding == 0 && e->waiters == NULL) {
			cache_remove(r, e);
			return;
		}
	}
}

static struct entry *cache_add(struct resolver *r, const char *name, size_t len)
{
	struct entry **bucket = bucket_of(r, name, len);
	struct entry *e;

	if (r->n_entries >= RESOLVE_CACHE_MAX)
		cache_evict(r);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->r = r;
	e->state = ENTRY_EMPTY;
	e->len = len;
	memcpy(e->name, name, len);
	e->hnext = *bucket;
	*bucket = e;
	lru_push(r, e);
	r->n_entries++;
	return e;
}

/* ---- answers ---------------------------------------------------------- */

static void deliver(void *arg)
{
	struct resolve_query *q = arg;
	resolve_fn fn = q->fn;
	void *fn_arg = q->arg;
	enum resolve_status status = q->status;
	struct dial_addrs addrs;
	size_t i6 = 0, i4 = 0;

	/* RFC 8305 §4: interleave the families, IPv6 first */
	memset(&addrs, 0, sizeof(addrs));
	while ((i6 < q->addrs.n6 || i4 < q->addrs.n4) &&
	       addrs.n < DIAL_MAX_ADDRS) {
		bool six = i6 < q->addrs.n6 &&
			   (addrs.n % 2 == 0 || i4 == q->addrs.n4);
		struct sockaddr_storage *ss = &addrs.addr[addrs.n];
		if (six) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(q->port);
			s6->sin6_addr = q->addrs.v6[i6++];
			addrs.len[addrs.n] = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(q->port);
			s4->sin_addr = q->addrs.v4[i4++];
			addrs.len[addrs.n] = sizeof(*s4);
		}
		addrs.n++;
	}
	if (status == RESOLVE_OK && addrs.n == 0)
		status = RESOLVE_NO_NAME;
	watch_free(q->deliver);
	free(q);
	fn(fn_arg, status, &addrs);
}

/* Arranges for q to be answered on the next loop turn. */
static void answer(struct resolve_query *q, enum resolve_status status,
		   const struct host_addrs *addrs)
{
	q->status = status;
	if (addrs != NULL)
		q->addrs = *addrs;
	q->e = NULL;
	watch_start_timer(q->deliver, 0);
}

static enum resolve_status status_of(const struct entry *e)
{
	if (e->addrs.n6 + e->addrs.n4 > 0)
		return RESOLVE_OK;
	if (e->err4 == DNS_ERR_NOTEXIST || e->err6 == DNS_ERR_NOTEXIST ||
	    ((e->err4 == DNS_ERR_NODATA || e->err4 == DNS_ERR_NONE) &&
	     (e->err6 == DNS_ERR_NODATA || e->err6 == DNS_ERR_NONE)))
		return RESOLVE_NO_NAME;
	if (e->err4 == DNS_ERR_TIMEOUT || e->err6 == DNS_ERR_TIMEOUT) {
		/* evdns reports a SERVFAIL as a timeout (and retries at
		 * once): a "timeout" long before dns-timeout is a server
		 * that answered with a failure */
		uint64_t took = loop_now_ms(e->r->loop) - e->asked_ms;
		return took * 2 < e->r->cfg.timeout_ms ? RESOLVE_FAILURE
						       : RESOLVE_TIMEOUT;
	}
	return RESOLVE_FAILURE;
}

/* Both families have answered: cache the outcome, wake every waiter. */
static void complete(struct entry *e)
{
	struct resolver *r = e->r;
	enum resolve_status status = status_of(e);
	uint64_t now = loop_now_ms(r->loop);
	uint64_t ttl = e->ttl_ms;

	if (status == RESOLVE_OK) {
		if (ttl < r->cfg.min_ttl_ms)
			ttl = r->cfg.min_ttl_ms;
		if (ttl > r->cfg.max_ttl_ms)
			ttl = r->cfg.max_ttl_ms;
		e->state = ENTRY_READY;
		e->expires_ms = now + ttl;
	} else if (status == RESOLVE_NO_NAME) {
		e->state = ENTRY_NEGATIVE;
		e->expires_ms = now + r->cfg.negative_ttl_ms;
		counter_inc(&r->stats.no_name);
	} else {
		e->state = ENTRY_EMPTY; /* not cached: the next one asks */
		counter_inc(&r->stats.failures);
	}
	while (e->waiters != NULL) {
		struct resolve_query *q = e->waiters;
		e->waiters = q->next;
		answer(q, status, &e->addrs);
	}
}

/* One family's answer (v4: the A query). */
static void on_answer(struct entry *e, bool v4, int result, int count, int ttl,
		      const void *addresses)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (e->r->closing)
		return;
	e->outstanding--;
	if (v4)
		e->err4 = result;
	else
		e->err6 = result;
	if (result == DNS_ERR_NONE && count > 0) {
		uint64_t ms = ttl > 0 ? (uint64_t)ttl * 1000 : 0;
		if (ms < e->ttl_ms)
			e->ttl_ms = ms;
	}
	for (int i = 0; result == DNS_ERR_NONE && i < count; i++) {
		/* the unspecified address reaches this machine: skip it */
		if (v4 && e->addrs.n4 < HOST_MAX_ADDRS) {
			struct in_addr a;
			memcpy(&a, (const char *)addresses + 4 * (size_t)i, 4);
			if (a.s_addr != htonl(INADDR_ANY))
				e->addrs.v4[e->addrs.n4++] = a;
		} else if (!v4 && e->addrs.n6 < HOST_MAX_ADDRS) {
			struct in6_addr a;
			memcpy(&a, (const char *)addresses + 16 * (size_t)i,
			       16);
			if (memcmp(&a, &any6, sizeof(a)) != 0)
				e->addrs.v6[e->addrs.n6++] = a;
		}
	}
	if (e->outstanding == 0)
		complete(e);
}

static void on_a(int result, char type, int count, int ttl, void *addresses,
		 void *arg)
{
	(void)type;
	on_answer(arg, true, result, count, ttl, addresses);
}

static void on_aaaa(int result, char type, int count, int ttl, void *addresses,
		    void *arg)
{
	(void)type;
	on_answer(arg, false, result, count, ttl, addresses);
}

/* Sends the A and AAAA queries of e. */
static void ask(struct resolver *r, struct entry *e)
{
	e->state = ENTRY_PENDING;
	memset(&e->addrs, 0, sizeof(e->addrs));
	e->err4 = e->err6 = DNS_ERR_NONE;
	e->ttl_ms = UINT64_MAX;
	e->outstanding = 2;
	e->asked_ms = loop_now_ms(r->loop);
	counter_add(&r->stats.queries, 2);
	/* with DNS_QUERY_NO_SEARCH: the name as given, never a search
	 * domain appended; a request that cannot be made fails at once */
	if (evdns_base_resolve_ipv4(r->dns, e->name, DNS_QUERY_NO_SEARCH, on_a,
				    e) == NULL) {
		e->outstanding--;
		e->err4 = DNS_ERR_UNKNOWN;
	}
	if (evdns_base_resolve_ipv6(r->dns, e->name, DNS_QUERY_NO_SEARCH,
				    on_aaaa, e) == NULL) {
		e->outstanding--;
		e->err6 = DNS_ERR_UNKNOWN;
	}
	if (e->outstanding == 0)
		complete(e);
}

/* ---- the resolver ----------------------------------------------------- */

struct resolver *resolver_new(struct loop *loop,
			      const struct resolver_config *cfg)
{
	struct resolver *r = calloc(1, sizeof(*r));
	char timeout[32];

	if (r == NULL)
		return NULL;
	r->loop = loop;
	r->cfg = *cfg;
	r->dns = evdns_base_new(loop_base(loop), 0);
	if (r->dns == NULL) {
		free(r);
		return NULL;
	}
	if (cfg->n_servers == 0) {
		/* servers and options from resolv.conf; the hosts file is
		 * ours. No resolv.conf leaves evdns asking 127.0.0.1, as libc
		 */
		(void)evdns_base_resolv_conf_parse(
			r->dns, DNS_OPTIONS_ALL & ~DNS_OPTION_HOSTSFILE,
			"/etc/resolv.conf");
	}
	for (size_t i = 0; i < cfg->n_servers; i++) {
		if (evdns_base_nameserver_sockaddr_add(
			    r->dns, (const struct sockaddr *)&cfg->servers[i],
			    cfg->server_lens[i], 0) != 0) {
			resolver_free(r);
			return NULL;
		}
	}
	/* two tries of half the timeout each: a second server gets its
	 * chance when the first is silent, within dns-timeout in all */
	snprintf(timeout, sizeof(timeout), "%.3f",
		 (double)cfg->timeout_ms / 2000.0);
	if (evdns_base_set_option(r->dns, "timeout:", timeout) != 0 ||
	    evdns_base_set_option(r->dns, "attempts:", "2") != 0) {
		resolver_free(r);
		return NULL;
	}
	return r;
}

void resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	r->closing = true;
	/* 1: fail requests still out; their callbacks see `closing` */
	evdns_base_free(r->dns, 1);
	while (r->lru_head != NULL)
		cache_remove(r, r->lru_head);
	free(r);
}

struct resolve_query *resolve_start(struct resolver *r, const char *host,
				    uint16_t port, resolve_fn fn, void *arg)
{
	struct resolve_query *q = calloc(1, sizeof(*q));
	char name[NAME_MAX_LEN + 1];
	size_t len = strlen(host);
	struct entry *e;

	if (q == NULL)
		return NULL;
	q->r = r;
	q->fn = fn;
	q->arg = arg;
	q->port = port;
	q->deliver = watch_new_timer(r->loop, deliver, q);
	if (q->deliver == NULL) {
		free(q);
		return NULL;
	}
	counter_inc(&r->stats.lookups);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN) {
		answer(q, RESOLVE_NO_NAME, NULL);
		return q;
	}
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		name[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	name[len] = '\0';
	if (hosts_lookup(r->cfg.hosts, name, len, &q->addrs)) {
		counter_inc(&r->stats.hosts);
		answer(q, RESOLVE_OK, NULL);
		return q;
	}
	e = cache_find(r, name, len);
	if (e != NULL &&
	    (e->state == ENTRY_READY || e->state == ENTRY_NEGATIVE)) {
		if (loop_now_ms(r->loop) < e->expires_ms) {
			counter_inc(&r->stats.hits);
			lru_unlink(r, e);
			lru_push(r, e);
			answer(q,
			       e->state == ENTRY_READY ? RESOLVE_OK
						       : RESOLVE_NO_NAME,
			       &e->addrs);
			return q;
		}
		e->state = ENTRY_EMPTY; /* expired: ask again */
	}
	if (e == NULL)
		e = cache_add(r, name, len);
	if (e == NULL) {
		answer(q, RESOLVE_FAILURE, NULL);
		return q;
	}
	lru_unlink(r, e);
	lru_push(r, e);
	/* wait on the entry: the lookup in flight, or a new one */
	q->e = e;
	q->next = e->waiters;
	if (e->waiters != NULL)
		e->waiters->prev = q;
	e->waiters = q;
	if (e->state == ENTRY_PENDING)
		counter_inc(&r->stats.coalesced);
	else
		ask(r, e);
	return q;
}

void resolve_cancel(struct resolve_query *q)
{
	if (q == NULL)
		return;
	if (q->e != NULL) {
		if (q->prev != NULL)
			q->prev->next = q->next;
		else
			q->e->waiters = q->next;
		if (q->next != NULL)
			q->next->prev = q->prev;
	}
	watch_free(q->deliver);
	free(q);
}

const struct resolver_stats *resolver_stats(const struct resolver *r)
{
	return &r->stats;
}

const char *resolve_strstatus(enum resolve_status status)
{
	switch (status) {
	case RESOLVE_OK:
		return "resolved";
	case RESOLVE_NO_NAME:
		return "unknown host";
	case RESOLVE_TIMEOUT:
		return "DNS timeout";
	case RESOLVE_FAILURE:
		return "DNS failure";
	}
	return "DNS failure";
}
