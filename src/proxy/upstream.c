/*
 * upstream.c - reaching the target of a request: resolve its name (or take
 * an IP literal as it is), dial the addresses under connect-timeout, and
 * hand the connected socket to the session's on_connected. Failures are
 * answered here: 502 for an unknown name or a refused connection, 504 for
 * a DNS or connect timeout, 403 when every address is one the destination
 * rules forbid.
 *
 * Owns the session's query, dial and target_fd until on_connected runs;
 * session_release_target() undoes all of it, and the pumps, on any exit.
 */
#include "proxy/session.h"

#include "base/addr.h"
#include "config/config.h"
#include "policy/access.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_resolved(void *arg, enum resolve_status status,
			const struct dial_addrs *addrs);
static void on_dialled(void *arg, int fd, int err);

/* sa as (family, 16 address bytes, port); IPv4-mapped IPv6 as IPv4. */
struct endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

static struct endpoint endpoint_of(const struct sockaddr_storage *ss)
{
	struct endpoint e = {.family = ss->ss_family};

	if (ss->ss_family == AF_INET) {
		struct sockaddr_in s4;
		memcpy(&s4, ss, sizeof(s4));
		memcpy(e.addr, &s4.sin_addr, 4);
		e.port = s4.sin_port;
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 s6;
		memcpy(&s6, ss, sizeof(s6));
		e.port = s6.sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
			e.family = AF_INET;
			memcpy(e.addr, &s6.sin6_addr.s6_addr[12], 4);
		} else {
			memcpy(e.addr, &s6.sin6_addr, 16);
		}
	}
	return e;
}

/* Is ss one of our own listening sockets (a request looping back)? */
static bool is_own_address(const struct worker *w,
			   const struct sockaddr_storage *ss)
{
	static const uint8_t any[16];
	struct endpoint d = endpoint_of(ss);

	for (size_t i = 0; i < w->n_addrs; i++) {
		struct endpoint own = endpoint_of(&w->addrs[i]);
		size_t n = own.family == AF_INET ? 4 : 16;
		if (own.family == d.family && own.port == d.port &&
		    (memcmp(own.addr, any, n) == 0 ||
		     memcmp(own.addr, d.addr, n) == 0))
			return true;
	}
	return false;
}

/*
 * Dials the addresses the destination rules allow (allow-dest, deny-dest,
 * the built-in denials, our own listeners): checked on the addresses, after
 * DNS, so a name pointed at a forbidden address gets nowhere.
 */
static void dial(struct session *s, const struct dial_addrs *addrs)
{
	const struct config *cfg = s->worker->cfg;
	struct dial_addrs ok;
	char shown[ADDR_TEXT_MAX] = "", rule[sizeof(s->rule)] = "";

	ok.n = 0;
	for (size_t i = 0; i < addrs->n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&addrs->addr[i];
		if (!access_dest_allowed(&cfg->dests, sa) ||
		    is_own_address(s->worker, &addrs->addr[i])) {
			if (shown[0] == '\0') {
				addr_format_host(sa, shown, sizeof(shown));
				/* the rule that refused it, for the log */
				if (access_dest_check(&cfg->dests, sa, rule,
						      sizeof(rule)))
					snprintf(rule, sizeof(rule),
						 "own-listener");
			}
			continue;
		}
		ok.addr[ok.n] = addrs->addr[i];
		ok.len[ok.n] = addrs->len[i];
		ok.n++;
	}
	if (ok.n == 0) {
		session_decide(s, ACCESS_DEST_DENIED, rule);
		session_reply_error(s, 403, "dest-denied",
				    "connecting to %s (%s) is not allowed",
				    s->host, shown);
		return;
	}
	s->dial = malloc(sizeof(*s->dial));
	if (s->dial == NULL ||
	    dial_start(s->dial, s->worker->loop, &ok, cfg->connect_timeout_ms,
		       on_dialled, s) < 0) {
		free(s->dial);
		s->dial = NULL;
		session_reply_error(s, 500, "no-memory", "out of memory");
		return;
	}
	s->state = SESSION_CONNECT;
}

/* Builds the address of an IP literal target without asking DNS. */
static int literal_addr(const struct authority *a, struct dial_addrs *addrs)
{
	char text[INET6_ADDRSTRLEN];

	if (a->host_len >= sizeof(text))
		return -1;
	memcpy(text, a->host, a->host_len);
	text[a->host_len] = '\0';
	memset(addrs, 0, sizeof(*addrs));
	if (a->kind == AUTHORITY_IPV4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&addrs->addr[0];
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			return -1;
		addrs->len[0] = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 =
			(struct sockaddr_in6 *)&addrs->addr[0];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			return -1;
		addrs->len[0] = sizeof(*s6);
	}
	addrs->n = 1;
	return 0;
}

void upstream_connect(struct session *s, const struct authority *a,
		      void (*on_connected)(struct session *s))
{
	struct dial_addrs addrs;

	memmove(s->host, a->host, a->host_len); /* a->host may be s->host */
	s->host[a->host_len] = '\0';
	s->port = a->port;
	s->on_connected = on_connected;
	if (a->kind != AUTHORITY_NAME) {
		if (literal_addr(a, &addrs) < 0) {
			session_reply_error(s, 400, "bad-target",
					    "bad target address %s", s->host);
			return;
		}
		dial(s, &addrs);
		return;
	}
	s->state = SESSION_RESOLVE;
	s->query = resolve_start(s->worker->resolver, s->host, s->port,
				 on_resolved, s);
	if (s->query == NULL)
		session_reply_error(s, 500, "no-memory", "out of memory");
}

/* How messages name the target: "example.com", or the parent proxy. */
static const char *target_name(const struct session *s, char *out, size_t cap)
{
	return s->via_parent ? parent_name(s, out, cap) : s->host;
}

static void on_resolved(void *arg, enum resolve_status status,
			const struct dial_addrs *addrs)
{
	struct session *s = arg;
	char who[AUTHORITY_MAX_NAME + 32];

	s->query = NULL;
	if (status != RESOLVE_OK)
		session_decide(s, ACCESS_UPSTREAM_ERROR,
			       s->via_parent ? "parent" : NULL);
	switch (status) {
	case RESOLVE_OK:
		dial(s, addrs);
		return;
	case RESOLVE_TIMEOUT:
		session_reply_error(s, 504, "dns-timeout",
				    "DNS lookup of %s timed out",
				    target_name(s, who, sizeof(who)));
		return;
	case RESOLVE_NO_NAME:
		session_reply_error(s, 502, "unknown-host", "unknown host %s",
				    target_name(s, who, sizeof(who)));
		return;
	case RESOLVE_FAILURE:
		break;
	}
	session_reply_error(s, 502, "dns-failure", "DNS lookup of %s failed",
			    target_name(s, who, sizeof(who)));
}

/* A parent proxy that cannot be reached: "parent proxy H:P: why". */
static void parent_unreachable(struct session *s, int err)
{
	char who[AUTHORITY_MAX_NAME + 32], rule[48], why[96];

	parent_name(s, who, sizeof(who));
	snprintf(why, sizeof(why), "%s",
		 err == -ETIMEDOUT ? "no connection within connect-timeout"
				   : strerror(-err));
	if (why[0] >= 'A' && why[0] <= 'Z') /* "connection refused" */
		why[0] = (char)(why[0] + 32);
	snprintf(rule, sizeof(rule), "parent-%s",
		 err == -ETIMEDOUT ? "timeout" : strerrorname_np(-err));
	session_decide(s, ACCESS_UPSTREAM_ERROR, rule);
	log_info("%s %s: %s: %s", s->method, s->target, who, why);
	session_reply_error(s, err == -ETIMEDOUT ? 504 : 502,
			    err == -ETIMEDOUT ? "connect-timeout"
					      : "connect-failed",
			    "%s: %s", who, why);
}

static void on_dialled(void *arg, int fd, int err)
{
	struct session *s = arg;

	free(s->dial); /* dial.c is done with it */
	s->dial = NULL;
	if (fd < 0 && s->via_parent) {
		parent_unreachable(s, err);
		return;
	}
	if (fd < 0) {
		/* the rule: why, as the errno's name (ECONNREFUSED, ...) */
		session_decide(s, ACCESS_UPSTREAM_ERROR,
			       err == -ETIMEDOUT ? NULL
						 : strerrorname_np(-err));
		if (err == -ETIMEDOUT)
			session_reply_error(
				s, 504, "connect-timeout",
				"connecting to %s port %u timed out", s->host,
				s->port);
		else
			session_reply_error(
				s, 502, "connect-failed",
				"connecting to %s port %u failed: %s", s->host,
				s->port, strerror(-err));
		return;
	}
	s->target_fd = fd;
	s->on_connected(s);
}

void session_release_target(struct session *s)
{
	if (s->query != NULL) {
		resolve_cancel(s->query);
		s->query = NULL;
	}
	if (s->dial != NULL) {
		dial_cancel(s->dial);
		free(s->dial);
		s->dial = NULL;
	}
	forward_release(s);
	pump_deinit(&s->up);
	pump_deinit(&s->down);
	s->up_done = s->down_done = false;
	if (s->target_fd >= 0) {
		close(s->target_fd);
		s->target_fd = -1;
	}
}
