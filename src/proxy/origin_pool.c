/*
 * origin_pool.c - see origin_pool.h. A small array: a worker holds at most
 * ORIGIN_POOL_MAX_IDLE idle connections, so a linear scan is cheaper than
 * any index.
 */
#include "proxy/origin_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void origin_pool_init(struct origin_pool *p, struct loop *loop)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	for (size_t i = 0; i < ORIGIN_POOL_MAX_IDLE; i++) {
		p->conns[i].fd = -1;
		p->conns[i].pool = p;
	}
}

static void drop(struct origin_conn *c)
{
	watch_free(c->readable);
	watch_free(c->expire);
	c->readable = c->expire = NULL;
	if (c->fd >= 0) {
		close(c->fd);
		c->pool->n_idle--;
	}
	c->fd = -1;
}

void origin_pool_deinit(struct origin_pool *p)
{
	for (size_t i = 0; i < ORIGIN_POOL_MAX_IDLE; i++)
		drop(&p->conns[i]);
}

void origin_pool_key(char key[ORIGIN_KEY_MAX], const char *host,
		     size_t host_len, uint16_t port)
{
	size_t n =
		host_len < ORIGIN_KEY_MAX - 8 ? host_len : ORIGIN_KEY_MAX - 8;

	for (size_t i = 0; i < n; i++) {
		char c = host[i];
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	snprintf(key + n, ORIGIN_KEY_MAX - n, ":%u", port);
}

/* An idle connection must stay silent: any event means it is unusable. */
static void on_event(void *arg)
{
	drop(arg);
}

int origin_pool_take(struct origin_pool *p, const char *key)
{
	struct origin_conn *best = NULL;

	for (size_t i = 0; i < ORIGIN_POOL_MAX_IDLE; i++) {
		struct origin_conn *c = &p->conns[i];
		if (c->fd >= 0 && strcmp(c->key, key) == 0 &&
		    (best == NULL || c->since_ms > best->since_ms))
			best = c; /* the most recently used is the likeliest
				   * to be alive */
	}
	if (best == NULL)
		return -1;

	char probe;
	ssize_t n = recv(best->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		drop(best); /* closed, or bytes nobody asked for */
		return origin_pool_take(p, key);
	}
	int fd = best->fd;
	best->fd = -1;
	p->n_idle--;
	drop(best);
	p->reused++;
	return fd;
}

void origin_pool_put(struct origin_pool *p, const char *key, int fd)
{
	struct origin_conn *slot = NULL, *oldest = NULL;
	size_t same = 0;

	for (size_t i = 0; i < ORIGIN_POOL_MAX_IDLE; i++) {
		struct origin_conn *c = &p->conns[i];
		if (c->fd < 0) {
			if (slot == NULL)
				slot = c;
			continue;
		}
		if (strcmp(c->key, key) == 0)
			same++;
		if (oldest == NULL || c->since_ms < oldest->since_ms)
			oldest = c;
	}
	if (same >= ORIGIN_POOL_MAX_PER_KEY) {
		close(fd);
		return;
	}
	if (slot == NULL) {
		drop(oldest);
		slot = oldest;
	}
	slot->fd = fd;
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->since_ms = loop_now_ms(p->loop);
	slot->readable = watch_new_read(p->loop, fd, on_event, slot);
	slot->expire = watch_new_timer(p->loop, on_event, slot);
	p->n_idle++;
	if (slot->readable == NULL || slot->expire == NULL ||
	    watch_start(slot->readable) < 0 ||
	    watch_start_timer(slot->expire, ORIGIN_POOL_IDLE_MS) < 0)
		drop(slot);
}
