/*
 * origin_pool.c - see origin_pool.h.
 */
#include "proxy/origin_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How often the sweep looks for expired connections. */
#define SWEEP_MS 1000

static void on_sweep(void *arg);

int origin_pool_init(struct origin_pool *p, struct loop *loop)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->conns = calloc(ORIGIN_POOL_MAX_IDLE, sizeof(*p->conns));
	p->sweep = watch_new_timer(loop, on_sweep, p);
	if (p->conns == NULL || p->sweep == NULL) {
		origin_pool_deinit(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ORIGIN_POOL_MAX_IDLE; i++) {
		struct origin_conn *c = &p->conns[i];
		c->pool = p;
		c->fd = -1;
		c->older = p->free;
		p->free = c;
	}
	return 0;
}

/* FNV-1a: keys are short. Names chosen to collide only lengthen one
 * bucket's chain, and no chain is longer than the pool. */
static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* Unlinks c from its bucket and the age list; the caller owns c->fd and
 * c->readable. */
static void unlink_conn(struct origin_conn *c)
{
	struct origin_pool *p = c->pool;
	struct origin_conn **pp =
		&p->buckets[c->hash & (ORIGIN_POOL_BUCKETS - 1)];

	while (*pp != c)
		pp = &(*pp)->chain;
	*pp = c->chain;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		p->newest = c->older;
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		p->oldest = c->newer;
	c->readable = NULL;
	c->fd = -1;
	c->chain = c->newer = NULL;
	c->older = p->free;
	p->free = c;
	p->n_idle--;
	if (p->n_idle == 0)
		watch_stop(p->sweep);
}

static void drop(struct origin_conn *c)
{
	struct watch *rd = c->readable;
	int fd = c->fd;

	unlink_conn(c);
	watch_free(rd);
	close(fd);
}

void origin_pool_deinit(struct origin_pool *p)
{
	while (p->oldest != NULL)
		drop(p->oldest);
	watch_free(p->sweep);
	free(p->conns);
	p->sweep = NULL;
	p->conns = NULL;
}

void origin_pool_key(char key[ORIGIN_KEY_MAX], bool parent, const char *host,
		     size_t host_len, uint16_t port)
{
	size_t n =
		host_len < AUTHORITY_MAX_NAME ? host_len : AUTHORITY_MAX_NAME;
	char digits[5];
	size_t d = 0, k = 0;

	if (parent)
		key[k++] = '>';
	for (size_t i = 0; i < n; i++) {
		char c = host[i];
		key[k++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	n = k;
	/* twice per forwarded request: no printf */
	do {
		digits[d++] = (char)('0' + port % 10);
		port /= 10;
	} while (port > 0);
	key[n++] = ':';
	while (d > 0)
		key[n++] = digits[--d];
	key[n] = '\0';
}

/* An idle connection must stay silent: any event means it is unusable. */
static void on_event(void *arg)
{
	drop(arg);
}

static void on_sweep(void *arg)
{
	struct origin_pool *p = arg;
	uint64_t now = loop_now_ms(p->loop);

	while (p->oldest != NULL &&
	       now - p->oldest->since_ms >= ORIGIN_POOL_IDLE_MS)
		drop(p->oldest);
	if (p->n_idle > 0)
		watch_start_timer(p->sweep, SWEEP_MS);
}

int origin_pool_take(struct origin_pool *p, const char *key, bool probe,
		     struct watch **rd)
{
	uint32_t h = key_hash(key);
	struct origin_conn *c;

	for (;;) {
		/* newest first: the most recently used is the likeliest alive
		 */
		c = p->buckets[h & (ORIGIN_POOL_BUCKETS - 1)];
		while (c != NULL && (c->hash != h || strcmp(c->key, key) != 0))
			c = c->chain;
		if (c == NULL)
			return -1;
		if (!probe)
			break;
		char byte;
		ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		drop(c); /* closed, or bytes nobody asked for: try the next */
	}
	int fd = c->fd;
	*rd = c->readable;
	unlink_conn(c);
	counter_inc(&p->reused);
	return fd;
}

void origin_pool_put(struct origin_pool *p, const char *key, int fd,
		     struct watch *rd)
{
	struct origin_conn *c, **bucket;

	if (p->free == NULL)
		drop(p->oldest); /* full: the longest idle makes room */
	c = p->free;
	if (rd != NULL)
		watch_retarget(rd, on_event, c);
	else
		rd = watch_new_read(p->loop, fd, on_event, c);
	if (rd == NULL || watch_start(rd) < 0) {
		watch_free(rd);
		close(fd);
		return;
	}
	c->readable = rd;
	p->free = c->older;
	c->fd = fd;
	c->hash = key_hash(key);
	size_t len = strnlen(key, sizeof(c->key) - 1);
	memcpy(c->key, key, len);
	c->key[len] = '\0';
	c->since_ms = loop_now_ms(p->loop);
	bucket = &p->buckets[c->hash & (ORIGIN_POOL_BUCKETS - 1)];
	c->chain = *bucket;
	*bucket = c;
	c->newer = NULL;
	c->older = p->newest;
	if (p->newest != NULL)
		p->newest->newer = c;
	else
		p->oldest = c;
	p->newest = c;
	counter_inc(&p->pooled);
	if (p->n_idle++ == 0)
		watch_start_timer(p->sweep, SWEEP_MS);
}
