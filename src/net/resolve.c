/*
 * resolve.c - see resolve.h.
 *
 * evdns may answer from inside evdns_getaddrinfo() (hosts file, a cached
 * answer); sluice's contract is that callbacks never run inside a start
 * call, so such answers are held and delivered from a zero timer.
 */
#include "net/resolve.h"

#include <event2/dns.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct resolver {
	struct loop *loop;
	struct evdns_base *dns;
};

struct resolve_query {
	struct resolver *r;
	struct evdns_getaddrinfo_request *req;
	struct watch *deliver; /* zero timer for answers that came early */
	resolve_fn fn;
	void *arg;
	uint16_t port;
	bool starting; /* inside resolve_start() */
	bool answered; /* evdns called back */
	bool cancelled;
	enum resolve_status status;
	struct dial_addrs addrs;
};

struct resolver *resolver_new(struct loop *loop, const char *hosts_file,
			      const struct sockaddr_storage *servers,
			      const socklen_t *server_lens, size_t n_servers)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->loop = loop;
	r->dns = evdns_base_new(loop_base(loop), 0);
	if (r->dns == NULL) {
		free(r);
		return NULL;
	}
	if (n_servers == 0) {
		/* servers and options from resolv.conf; the hosts file is
		 * ours. No resolv.conf leaves evdns asking 127.0.0.1, as libc
		 */
		(void)evdns_base_resolv_conf_parse(
			r->dns, DNS_OPTIONS_ALL & ~DNS_OPTION_HOSTSFILE,
			"/etc/resolv.conf");
	}
	for (size_t i = 0; i < n_servers; i++) {
		if (evdns_base_nameserver_sockaddr_add(
			    r->dns, (const struct sockaddr *)&servers[i],
			    server_lens[i], 0) != 0) {
			resolver_free(r);
			return NULL;
		}
	}
	(void)evdns_base_load_hosts(r->dns, hosts_file);
	return r;
}

void resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	/* 1: fail requests still pending, which runs their callbacks */
	evdns_base_free(r->dns, 1);
	free(r);
}

static void query_free(struct resolve_query *q)
{
	watch_free(q->deliver);
	free(q);
}

static void deliver(void *arg)
{
	struct resolve_query *q = arg;
	resolve_fn fn = q->fn;
	void *fn_arg = q->arg;
	enum resolve_status status = q->status;
	struct dial_addrs addrs = q->addrs;

	query_free(q);
	fn(fn_arg, status, &addrs);
}

static enum resolve_status map_error(int err)
{
	switch (err) {
	case 0:
		return RESOLVE_OK;
	case EVUTIL_EAI_NONAME:
	case EVUTIL_EAI_NODATA:
		return RESOLVE_NO_NAME;
	case EVUTIL_EAI_AGAIN:
		return RESOLVE_TIMEOUT;
	default:
		return RESOLVE_FAILURE;
	}
}

static void on_answer(int err, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_query *q = arg;

	q->req = NULL;
	q->answered = true;
	if (q->cancelled || err == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		if (q->cancelled)
			query_free(q);
		return;
	}
	q->status = map_error(err);
	for (struct evutil_addrinfo *ai = res;
	     ai != NULL && q->addrs.n < DIAL_MAX_ADDRS; ai = ai->ai_next) {
		size_t i = q->addrs.n;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(q->addrs.addr[i]))
			continue;
		memcpy(&q->addrs.addr[i], ai->ai_addr, ai->ai_addrlen);
		q->addrs.len[i] = (socklen_t)ai->ai_addrlen;
		if (ai->ai_family == AF_INET)
			((struct sockaddr_in *)&q->addrs.addr[i])->sin_port =
				htons(q->port);
		else
			((struct sockaddr_in6 *)&q->addrs.addr[i])->sin6_port =
				htons(q->port);
		q->addrs.n++;
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (q->status == RESOLVE_OK && q->addrs.n == 0)
		q->status = RESOLVE_NO_NAME;
	if (q->starting)
		watch_start_timer(q->deliver, 0);
	else
		deliver(q);
}

struct resolve_query *resolve_start(struct resolver *r, const char *host,
				    uint16_t port, resolve_fn fn, void *arg)
{
	struct resolve_query *q = calloc(1, sizeof(*q));
	struct evutil_addrinfo hints;

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
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	q->starting = true;
	q->req = evdns_getaddrinfo(r->dns, host, NULL, &hints, on_answer, q);
	q->starting = false;
	return q;
}

void resolve_cancel(struct resolve_query *q)
{
	if (q == NULL)
		return;
	if (q->answered) {
		/* answer held for the zero timer: drop it */
		query_free(q);
		return;
	}
	q->cancelled = true;
	/* runs on_answer with EVUTIL_EAI_CANCEL, which frees q */
	evdns_getaddrinfo_cancel(q->req);
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
