/*
 * metrics.c - see metrics.h.
 */
#include "report/metrics.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const method_names[METRICS_METHODS] = {
	"GET",	   "HEAD",  "POST",    "PUT",	"DELETE",
	"OPTIONS", "PATCH", "CONNECT", "other",
};

static const char *const refusal_names[METRICS_REFUSALS] = {
	"client-denied",
	"over-limit",
	"client-limit",
	"proxy-protocol",
};

static const char *const tunnel_failure_names[METRICS_TUNNEL_FAILURES] = {
	"blocked", "denied",	  "dns",   "refused",
	"timeout", "bad-request", "other",
};

enum metrics_method metrics_method_of(const char *method)
{
	/* methods are case-sensitive (RFC 9110 §9.1) */
	for (int i = 0; i < METRICS_OTHER; i++)
		if (strcmp(method, method_names[i]) == 0)
			return (enum metrics_method)i;
	return METRICS_OTHER;
}

void metrics_count_request(struct metrics *m, const char *method, int status)
{
	if (status < 100 || status > 599)
		return;
	counter_inc(&m->requests[metrics_method_of(method)][status / 100 - 1]);
}

/* The list's slot in m, added if new; NULL when every slot is taken. */
static struct metrics_list *list_slot(struct metrics *m, const char *list,
				      size_t len)
{
	size_t n = atomic_load_explicit(&m->n_lists, memory_order_relaxed);

	if (len >= METRICS_LIST_NAME_MAX)
		len = METRICS_LIST_NAME_MAX - 1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(m->lists[i].name, list, len) == 0 &&
		    m->lists[i].name[len] == '\0')
			return &m->lists[i];
	if (n == METRICS_LISTS)
		return NULL;
	memcpy(m->lists[n].name, list, len);
	m->lists[n].name[len] = '\0';
	/* the name is complete before a reader can see the slot */
	atomic_store_explicit(&m->n_lists, n + 1, memory_order_release);
	return &m->lists[n];
}

void metrics_count_blocked(struct metrics *m, const char *list, size_t len)
{
	struct metrics_list *slot = list_slot(m, list, len);

	counter_inc(slot != NULL ? &slot->blocked : &m->blocked_other);
}

static void add_counters(counter_t *dst, const counter_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		counter_add(&dst[i], counter_get(&src[i]));
}

void metrics_add(struct metrics *dst, const struct metrics *src)
{
	size_t n = atomic_load_explicit((atomic_size_t *)&src->n_lists,
					memory_order_acquire);

	counter_add(&dst->accepted, counter_get(&src->accepted));
	counter_add(&dst->closed, counter_get(&src->closed));
	add_counters(dst->refused, src->refused, METRICS_REFUSALS);
	add_counters(&dst->requests[0][0], &src->requests[0][0],
		     METRICS_METHODS * METRICS_CLASSES);
	counter_add(&dst->tunnels_opened, counter_get(&src->tunnels_opened));
	counter_add(&dst->tunnels_closed, counter_get(&src->tunnels_closed));
	add_counters(dst->tunnel_failures, src->tunnel_failures,
		     METRICS_TUNNEL_FAILURES);
	counter_add(&dst->bytes_up, counter_get(&src->bytes_up));
	counter_add(&dst->bytes_down, counter_get(&src->bytes_down));
	counter_add(&dst->blocked_other, counter_get(&src->blocked_other));
	for (size_t i = 0; i < n; i++) {
		const struct metrics_list *l = &src->lists[i];
		struct metrics_list *d =
			list_slot(dst, l->name, strlen(l->name));
		counter_add(d != NULL ? &d->blocked : &dst->blocked_other,
			    counter_get(&l->blocked));
	}
}

/* The process-wide part. */
static struct {
	pthread_mutex_t lock;
	uint64_t reloads_ok, reloads_failed;
	int64_t last_ok_s, last_failed_s;
	char last_error[256];
	struct metrics_recent recent[METRICS_RECENT]; /* a ring */
	size_t next, n;
} global = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t unix_now(void)
{
	return (int64_t)time(NULL);
}

void metrics_note_reload(bool ok, const char *error)
{
	pthread_mutex_lock(&global.lock);
	if (ok) {
		global.reloads_ok++;
		global.last_ok_s = unix_now();
	} else {
		global.reloads_failed++;
		global.last_failed_s = unix_now();
		snprintf(global.last_error, sizeof(global.last_error), "%s",
			 error != NULL ? error : "");
	}
	pthread_mutex_unlock(&global.lock);
}

void metrics_note_blocked(const char *name, const char *rule)
{
	pthread_mutex_lock(&global.lock);
	struct metrics_recent *r = &global.recent[global.next];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->rule, sizeof(r->rule), "%s", rule);
	r->when_s = unix_now();
	global.next = (global.next + 1) % METRICS_RECENT;
	if (global.n < METRICS_RECENT)
		global.n++;
	pthread_mutex_unlock(&global.lock);
}

void metrics_global_view(struct metrics_view *v)
{
	pthread_mutex_lock(&global.lock);
	v->reloads_ok = global.reloads_ok;
	v->reloads_failed = global.reloads_failed;
	v->last_reload_ok_s = global.last_ok_s;
	v->last_reload_failed_s = global.last_failed_s;
	memcpy(v->last_reload_error, global.last_error,
	       sizeof(v->last_reload_error));
	v->n_recent = global.n;
	for (size_t i = 0; i < global.n; i++)
		v->recent[i] =
			global.recent[(global.next + METRICS_RECENT - 1 - i) %
				      METRICS_RECENT];
	pthread_mutex_unlock(&global.lock);
}

/* --- Prometheus text format --------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *out, const char *name, uint64_t value)
{
	fprintf(out, "%s %llu\n", name, (unsigned long long)value);
}

static void one(FILE *out, const char *name, const char *type, const char *help,
		uint64_t value)
{
	family(out, name, type, help);
	sample(out, name, value);
}

static void labelled(FILE *out, const char *name, const char *label,
		     const char *value, uint64_t n)
{
	fprintf(out, "%s{%s=\"", name, label);
	put_label(out, value);
	fprintf(out, "\"} %llu\n", (unsigned long long)n);
}

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0; /* two counters read apart may cross */
}

void metrics_write_prometheus(FILE *out, const struct metrics_view *v,
			      const char *version)
{
	const struct metrics *m = &v->sum;
	size_t n_lists = atomic_load(&m->n_lists);

	family(out, "sluice_build_info", "gauge",
	       "The version of sluice running (always 1).");
	labelled(out, "sluice_build_info", "version", version, 1);
	one(out, "sluice_start_time_seconds", "gauge",
	    "When the process started, in seconds since the Unix epoch.",
	    (uint64_t)v->start_s);
	one(out, "sluice_workers", "gauge", "Worker threads.", v->workers);
	one(out, "sluice_ready", "gauge",
	    "1 while the proxy listens and its lists are loaded.",
	    v->listening && !v->draining);
	one(out, "sluice_draining", "gauge",
	    "1 after SIGTERM, while open connections finish.", v->draining);

	one(out, "sluice_connections_accepted_total", "counter",
	    "Client connections accepted.", counter_get(&m->accepted));
	one(out, "sluice_connections_active", "gauge",
	    "Client connections open now.",
	    diff(counter_get(&m->accepted), counter_get(&m->closed)));
	family(out, "sluice_connections_refused_total", "counter",
	       "Client connections turned away before a request was read, "
	       "by reason.");
	for (int i = 0; i < METRICS_REFUSALS; i++)
		labelled(out, "sluice_connections_refused_total", "reason",
			 refusal_names[i], counter_get(&m->refused[i]));

	family(out, "sluice_requests_total", "counter",
	       "Requests answered, by method and status class (a CONNECT "
	       "counts once, with the status it was answered).");
	for (int i = 0; i < METRICS_METHODS; i++)
		for (int c = 0; c < METRICS_CLASSES; c++)
			fprintf(out,
				"sluice_requests_total{method=\"%s\","
				"class=\"%dxx\"} %llu\n",
				method_names[i], c + 1,
				(unsigned long long)counter_get(
					&m->requests[i][c]));

	one(out, "sluice_tunnels_opened_total", "counter",
	    "CONNECT tunnels established (200 sent).",
	    counter_get(&m->tunnels_opened));
	one(out, "sluice_tunnels_active", "gauge", "CONNECT tunnels open now.",
	    diff(counter_get(&m->tunnels_opened),
		 counter_get(&m->tunnels_closed)));
	family(out, "sluice_tunnels_failed_total", "counter",
	       "CONNECT requests that did not become a tunnel, by reason.");
	for (int i = 0; i < METRICS_TUNNEL_FAILURES; i++)
		labelled(out, "sluice_tunnels_failed_total", "reason",
			 tunnel_failure_names[i],
			 counter_get(&m->tunnel_failures[i]));

	family(out, "sluice_bytes_total", "counter",
	       "Payload bytes relayed: up is client to target, down is "
	       "target to client.");
	labelled(out, "sluice_bytes_total", "direction", "up",
		 counter_get(&m->bytes_up));
	labelled(out, "sluice_bytes_total", "direction", "down",
		 counter_get(&m->bytes_down));

	one(out, "sluice_blocklist_rules", "gauge",
	    "Rules in the blocklists in use.", v->blocklist_rules);
	family(out, "sluice_blocked_total", "counter",
	       "Requests refused by a blocklist, by list.");
	for (size_t i = 0; i < n_lists; i++)
		labelled(out, "sluice_blocked_total", "list", m->lists[i].name,
			 counter_get(&m->lists[i].blocked));
	if (counter_get(&m->blocked_other) > 0)
		labelled(out, "sluice_blocked_total", "list", "(other)",
			 counter_get(&m->blocked_other));

	one(out, "sluice_dns_lookups_total", "counter",
	    "Names the proxy needed an address for.", v->dns_lookups);
	one(out, "sluice_dns_cache_hits_total", "counter",
	    "Lookups answered from the cache (negative answers too).",
	    v->dns_hits);
	one(out, "sluice_dns_hosts_file_answers_total", "counter",
	    "Lookups answered from hosts-file.", v->dns_hosts);
	one(out, "sluice_dns_queries_total", "counter",
	    "Queries sent to DNS servers (A and AAAA count one each).",
	    v->dns_queries);
	family(out, "sluice_dns_failures_total", "counter",
	       "Lookups that found no address: no-name (NXDOMAIN or no "
	       "record) or error (timeout, server failure).");
	labelled(out, "sluice_dns_failures_total", "kind", "no-name",
		 v->dns_no_name);
	labelled(out, "sluice_dns_failures_total", "kind", "error",
		 v->dns_failures);

	one(out, "sluice_upstream_pool_reused_total", "counter",
	    "Requests sent on an idle origin connection instead of a new one.",
	    v->pool_reused);
	one(out, "sluice_upstream_pool_kept_total", "counter",
	    "Origin connections kept open for reuse after a response.",
	    v->pool_kept);

	family(out, "sluice_reloads_total", "counter",
	       "Reloads (SIGHUP, or a list changed on its server), by "
	       "result.");
	labelled(out, "sluice_reloads_total", "result", "success",
		 v->reloads_ok);
	labelled(out, "sluice_reloads_total", "result", "failure",
		 v->reloads_failed);
	one(out, "sluice_last_reload_success_timestamp_seconds", "gauge",
	    "When the last reload succeeded (0: never).",
	    (uint64_t)v->last_reload_ok_s);
	one(out, "sluice_last_reload_failure_timestamp_seconds", "gauge",
	    "When the last reload failed (0: never).",
	    (uint64_t)v->last_reload_failed_s);
	one(out, "sluice_config_generation", "gauge",
	    "1 at start, one more for each reload that succeeded.",
	    v->generation);
}

/* --- The page for people ------------------------------------------ */

static void put_html(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* 1234567 -> "1.2 MB": bytes for people. */
static void put_bytes(FILE *out, uint64_t n)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		fprintf(out, "%llu B", (unsigned long long)n);
	else
		fprintf(out, "%.1f %s", v, unit[u]);
}

static void put_duration(FILE *out, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		fprintf(out, "%lldd ", (long long)(s / 86400));
	fprintf(out, "%02lld:%02lld:%02lld", (long long)(s % 86400 / 3600),
		(long long)(s % 3600 / 60), (long long)(s % 60));
}

static void put_time(FILE *out, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;
	char text[32];

	if (when == 0 || gmtime_r(&t, &tm) == NULL) {
		fputs("never", out);
		return;
	}
	strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fputs(text, out);
}

static void row(FILE *out, const char *name, uint64_t n)
{
	fprintf(out, "<tr><th>%s</th><td>%llu</td></tr>\n", name,
		(unsigned long long)n);
}

void metrics_write_html(FILE *out, const struct metrics_view *v,
			const char *version)
{
	const struct metrics *m = &v->sum;
	size_t n_lists = atomic_load(&m->n_lists);
	int64_t now = unix_now();
	uint64_t blocked = counter_get(&m->blocked_other);

	for (size_t i = 0; i < n_lists; i++)
		blocked += counter_get(&m->lists[i].blocked);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	      "charset=\"utf-8\">\n<meta http-equiv=\"refresh\" "
	      "content=\"5\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width\">\n<title>sluice</title>\n"
	      "<style>body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;"
	      "background:#fbfbf8;color:#222}h1{font-size:1.5em;margin:0}"
	      ".state{display:inline-block;padding:.1em .6em;border-radius:"
	      ".3em;color:#fff;background:#2a7d3f}.state.no{background:"
	      "#b3261e}section{display:inline-block;vertical-align:top;"
	      "margin:1em 2em 0 0}h2{font-size:1.05em;border-bottom:1px "
	      "solid #ccc}table{border-collapse:collapse}th,td{padding:"
	      ".15em .7em .15em 0;text-align:left}td{text-align:right;"
	      "font-variant-numeric:tabular-nums}.big{font-size:2em;"
	      "font-weight:600}</style>\n</head><body>\n",
	      out);
	fprintf(out, "<h1>sluice %s <span class=\"state%s\">%s</span></h1>\n",
		version, v->listening && !v->draining ? "" : " no",
		v->draining    ? "draining"
		: v->listening ? "ready"
			       : "starting");
	fputs("<p>up ", out);
	put_duration(out, now - v->start_s);
	fprintf(out,
		", %u workers, config generation %llu; this page refreshes "
		"every 5 s. Figures for machines: <a "
		"href=\"/metrics\">/metrics</a>.</p>\n",
		v->workers, (unsigned long long)v->generation);

	fputs("<section><h2>Now</h2><table>\n", out);
	fprintf(out,
		"<tr><th>connections</th><td class=\"big\">%llu</td></tr>\n"
		"<tr><th>tunnels</th><td class=\"big\">%llu</td></tr>\n",
		(unsigned long long)diff(counter_get(&m->accepted),
					 counter_get(&m->closed)),
		(unsigned long long)diff(counter_get(&m->tunnels_opened),
					 counter_get(&m->tunnels_closed)));
	fprintf(out, "<tr><th>blocked</th><td class=\"big\">%llu</td></tr>\n",
		(unsigned long long)blocked);
	fputs("</table></section>\n", out);

	fputs("<section><h2>Connections</h2><table>\n", out);
	row(out, "accepted", counter_get(&m->accepted));
	for (int i = 0; i < METRICS_REFUSALS; i++)
		row(out, refusal_names[i], counter_get(&m->refused[i]));
	fputs("</table></section>\n", out);

	fputs("<section><h2>Requests</h2><table>\n<tr><th></th>", out);
	for (int c = 0; c < METRICS_CLASSES; c++)
		fprintf(out, "<td>%dxx</td>", c + 1);
	fputs("</tr>\n", out);
	for (int i = 0; i < METRICS_METHODS; i++) {
		uint64_t any = 0;
		for (int c = 0; c < METRICS_CLASSES; c++)
			any += counter_get(&m->requests[i][c]);
		if (any == 0)
			continue;
		fprintf(out, "<tr><th>%s</th>", method_names[i]);
		for (int c = 0; c < METRICS_CLASSES; c++)
			fprintf(out, "<td>%llu</td>",
				(unsigned long long)counter_get(
					&m->requests[i][c]));
		fputs("</tr>\n", out);
	}
	fputs("</table></section>\n", out);

	fputs("<section><h2>Tunnels</h2><table>\n", out);
	row(out, "opened", counter_get(&m->tunnels_opened));
	for (int i = 0; i < METRICS_TUNNEL_FAILURES; i++)
		row(out, tunnel_failure_names[i],
		    counter_get(&m->tunnel_failures[i]));
	fputs("</table></section>\n", out);

	fputs("<section><h2>Traffic</h2><table>\n<tr><th>up</th><td>", out);
	put_bytes(out, counter_get(&m->bytes_up));
	fputs("</td></tr>\n<tr><th>down</th><td>", out);
	put_bytes(out, counter_get(&m->bytes_down));
	fputs("</td></tr>\n</table></section>\n", out);

	fputs("<section><h2>Blocking</h2><table>\n", out);
	row(out, "rules", v->blocklist_rules);
	for (size_t i = 0; i < n_lists; i++) {
		fputs("<tr><th>", out);
		put_html(out, m->lists[i].name);
		fprintf(out, "</th><td>%llu</td></tr>\n",
			(unsigned long long)counter_get(&m->lists[i].blocked));
	}
	fputs("</table></section>\n", out);

	fputs("<section><h2>DNS and origins</h2><table>\n", out);
	row(out, "lookups", v->dns_lookups);
	row(out, "cache hits", v->dns_hits);
	row(out, "queries sent", v->dns_queries);
	row(out, "no such name", v->dns_no_name);
	row(out, "failed", v->dns_failures);
	row(out, "origin connections reused", v->pool_reused);
	fputs("</table></section>\n", out);

	fputs("<section><h2>Reloads</h2><table>\n", out);
	row(out, "succeeded", v->reloads_ok);
	row(out, "failed", v->reloads_failed);
	fputs("<tr><th>last success</th><td>", out);
	put_time(out, v->last_reload_ok_s);
	fputs("</td></tr>\n<tr><th>last failure</th><td>", out);
	put_time(out, v->last_reload_failed_s);
	fputs("</td></tr>\n", out);
	if (v->last_reload_failed_s != 0) {
		fputs("<tr><th>why</th><td>", out);
		put_html(out, v->last_reload_error);
		fputs("</td></tr>\n", out);
	}
	fputs("</table></section>\n", out);

	fputs("<section><h2>Recently blocked</h2>\n", out);
	if (v->n_recent == 0)
		fputs("<p>nothing yet</p>\n", out);
	else
		fputs("<table>\n", out);
	for (size_t i = 0; i < v->n_recent; i++) {
		const struct metrics_recent *r = &v->recent[i];
		fputs("<tr><th>", out);
		put_html(out, r->name);
		fputs("</th><td>", out);
		put_html(out, r->rule);
		fputs("</td><td>", out);
		put_duration(out, now - r->when_s);
		fputs(" ago</td></tr>\n", out);
	}
	if (v->n_recent > 0)
		fputs("</table>\n", out);
	fputs("</section>\n</body></html>\n", out);
}
