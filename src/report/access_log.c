/*
 * access_log.c - see access_log.h.
 *
 * A line is built in a stack buffer large enough for the longest fields
 * escaped at their worst (ACCESS_LINE_MAX), then written with one
 * write(2). Nothing here allocates after access_log_open().
 */
#include "report/access_log.h"

#include "base/addr.h"
#include "base/escape.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The longest line: the session keeps at most ~270 bytes of target, 255
 * of user and of Referer and User-Agent each, which escaped for JSON at
 * worst (6 bytes a byte) and with the fixed fields stay under 6.5 KiB.
 */
#define ACCESS_LINE_MAX 8192

struct access_log {
	int fd;	  /* -1: off */
	bool own; /* we opened it and close it */
	enum access_log_format format;
	char path[CONFIG_PATH_MAX]; /* for access_log_reopen() */
};

/* A line being built; len < ACCESS_LINE_MAX always leaves room for '\n'. */
struct line {
	char buf[ACCESS_LINE_MAX];
	size_t len;
};

typedef size_t (*escape_fn)(char *out, size_t cap, const char *in, size_t len);

static const char *const decision_words[] = {
	[ACCESS_ALLOWED] = "allowed",
	[ACCESS_BLOCKED] = "blocked",
	[ACCESS_CLIENT_DENIED] = "client-denied",
	[ACCESS_DEST_DENIED] = "dest-denied",
	[ACCESS_PORT_DENIED] = "port-denied",
	[ACCESS_OVER_LIMIT] = "over-limit",
	[ACCESS_AUTH_FAILED] = "auth-failed",
	[ACCESS_UPSTREAM_ERROR] = "upstream-error",
	[ACCESS_BAD_REQUEST] = "bad-request",
	[ACCESS_ERROR] = "error",
};

const char *access_decision_word(enum access_decision d)
{
	if ((size_t)d >= sizeof(decision_words) / sizeof(decision_words[0]) ||
	    decision_words[d] == NULL)
		return "undecided";
	return decision_words[d];
}

struct access_log *access_log_open(const char *spec,
				   enum access_log_format format, int *err)
{
	struct access_log *log = calloc(1, sizeof(*log));

	if (log == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	log->format = format;
	if (strcmp(spec, "off") == 0) {
		log->fd = -1;
	} else if (strcmp(spec, "stderr") == 0) {
		log->fd = STDERR_FILENO;
	} else {
		log->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			       0640);
		if (log->fd < 0) {
			*err = -errno;
			free(log);
			return NULL;
		}
		log->own = true;
		snprintf(log->path, sizeof(log->path), "%s", spec);
	}
	return log;
}

void access_log_close(struct access_log *log)
{
	if (log == NULL)
		return;
	if (log->own)
		close(log->fd);
	free(log);
}

int access_log_reopen(struct access_log *log)
{
	if (log == NULL || !log->own)
		return 0;
	return log_reopen_fd(log->fd, log->path);
}

unsigned access_log_wants(const struct access_log *log)
{
	if (log == NULL || log->fd < 0)
		return 0;
	switch (log->format) {
	case ACCESS_LOG_SLUICE:
		return ACCESS_WANTS_USER;
	case ACCESS_LOG_SQUID:
		return ACCESS_WANTS_USER | ACCESS_WANTS_REPLY;
	case ACCESS_LOG_COMBINED:
		return ACCESS_WANTS_USER | ACCESS_WANTS_REQUEST;
	case ACCESS_LOG_JSON:
		break;
	}
	return ACCESS_WANTS_USER | ACCESS_WANTS_REQUEST | ACCESS_WANTS_REPLY;
}

/* ---- building a line ------------------------------------------------- */

static void put(struct line *l, const char *s)
{
	size_t n = strlen(s), room = ACCESS_LINE_MAX - 1 - l->len;

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

__attribute__((format(printf, 2, 3))) static void putf(struct line *l,
						       const char *fmt, ...)
{
	size_t room = ACCESS_LINE_MAX - l->len; /* vsnprintf adds a NUL */
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* Escapes s; keeps `keep` bytes of room for what must follow it. */
static void put_escaped(struct line *l, escape_fn fn, const char *s,
			size_t keep)
{
	size_t room = ACCESS_LINE_MAX - l->len;

	if (room > keep + 1)
		l->len += fn(l->buf + l->len, room - keep, s, strlen(s));
}

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* The decision word, and ":DETAIL" (the rule, or the end of a request
 * that was not allowed), as one word for the squid and combined layouts. */
static void put_decision_word(struct line *l, const struct access_entry *e)
{
	put(l, access_decision_word(e->decision));
	if (given(e->rule)) { /* one printable word already (session_log.c) */
		put(l, ":");
		put(l, e->rule);
	} else if (e->decision != ACCESS_ALLOWED && given(e->end)) {
		put(l, ":");
		put(l, e->end);
	}
}

/* ---- the layouts ----------------------------------------------------- */

static void format_sluice(struct line *l, const struct access_entry *e)
{
	char when[32], client[ADDR_TEXT_MAX];

	log_format_time(when, sizeof(when));
	addr_format(e->client, client, sizeof(client));
	putf(l,
	     "%s %s %s %s status=%d up=%llu down=%llu ms=%llu end=%s "
	     "decision=%s",
	     when, client, e->method, e->target, e->status,
	     (unsigned long long)e->bytes_up, (unsigned long long)e->bytes_down,
	     (unsigned long long)e->duration_ms, e->end,
	     access_decision_word(e->decision));
	if (given(e->rule)) {
		put(l, " rule=");
		put(l, e->rule);
	}
	if (given(e->user)) {
		put(l, " user=");
		put_escaped(l, escape_word, e->user, 1);
	}
}

/* Squid's result code (LogTags: "TCP_MISS", "TCP_DENIED", ...). */
static const char *squid_code(const struct access_entry *e, bool connect)
{
	switch (e->decision) {
	case ACCESS_ALLOWED:
		/* a transfer cut by an error: Squid's _ABORTED */
		if (strncmp(e->end, "up-", 3) == 0 ||
		    strncmp(e->end, "down-", 5) == 0)
			return connect ? "TCP_TUNNEL_ABORTED"
				       : "TCP_MISS_ABORTED";
		return connect ? "TCP_TUNNEL" : "TCP_MISS";
	case ACCESS_BLOCKED:
	case ACCESS_CLIENT_DENIED:
	case ACCESS_DEST_DENIED:
	case ACCESS_PORT_DENIED:
	case ACCESS_OVER_LIMIT:
	case ACCESS_AUTH_FAILED:
		return "TCP_DENIED";
	case ACCESS_UPSTREAM_ERROR:
		/* as Squid: a failed GET is a miss, a failed CONNECT none */
		return connect ? "NONE_NONE" : "TCP_MISS";
	case ACCESS_BAD_REQUEST:
	case ACCESS_ERROR:
		break;
	}
	return "NONE_NONE";
}

/*
 * %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt, as Squid's
 * Log::Format::SquidNative writes it, then the decision.
 */
static void format_squid(struct line *l, const struct access_entry *e)
{
	bool parsed = strcmp(e->method, "-") != 0;
	bool connect = strcmp(e->method, "CONNECT") == 0;
	char client[ADDR_TEXT_MAX];
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	addr_format_host(e->client, client, sizeof(client));
	putf(l, "%9lld.%03ld %6llu %s %s/%03d %llu %s ", (long long)now.tv_sec,
	     now.tv_nsec / 1000000, (unsigned long long)e->duration_ms, client,
	     squid_code(e, connect), e->status,
	     (unsigned long long)(e->bytes_own + e->bytes_down),
	     parsed ? e->method : "NONE");
	/* no request line: Squid's words for what it logs instead of a URL */
	if (parsed)
		put(l, e->target);
	else if (e->decision == ACCESS_BAD_REQUEST)
		put(l, "error:invalid-request");
	else
		put(l, "error:transaction-end-before-headers");
	put(l, " ");
	if (given(e->user))
		put_escaped(l, escape_word, e->user, 1);
	else
		put(l, "-");
	if (given(e->server)) {
		put(l, " HIER_DIRECT/");
		put(l, e->server);
	} else {
		put(l, " HIER_NONE/-");
	}
	put(l, " ");
	if (given(e->content_type))
		put_escaped(l, escape_word, e->content_type, 1);
	else
		put(l, "-");
	put(l, " ");
	put_decision_word(l, e);
}

/* "..." with the inside escaped as Apache does, or "-". */
static void put_quoted(struct line *l, const char *s)
{
	put(l, "\"");
	if (s != NULL)
		put_escaped(l, escape_quoted, s, 2);
	else
		put(l, "-");
	put(l, "\"");
}

/*
 * %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i", then the
 * decision. %t is when the request began, as in Apache; %b the body
 * bytes sent, "-" for none.
 */
static void format_combined(struct line *l, const struct access_entry *e)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	char client[ADDR_TEXT_MAX];
	struct timespec now;
	struct tm tm;
	time_t began;

	clock_gettime(CLOCK_REALTIME, &now);
	began = now.tv_sec - (time_t)(e->duration_ms / 1000);
	gmtime_r(&began, &tm);
	addr_format_host(e->client, client, sizeof(client));
	put(l, client);
	put(l, " - ");
	if (given(e->user))
		put_escaped(l, escape_word, e->user, 1);
	else
		put(l, "-");
	putf(l, " [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", tm.tm_mday,
	     months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	     tm.tm_sec);
	if (strcmp(e->method, "-") == 0 || e->http_minor < 0) {
		put(l, "-");
	} else {
		put_escaped(l, escape_quoted, e->method, 2);
		put(l, " ");
		put_escaped(l, escape_quoted, e->target, 2);
		putf(l, " HTTP/1.%d", e->http_minor);
	}
	putf(l, "\" %d ", e->status);
	if (e->bytes_down > 0)
		putf(l, "%llu ", (unsigned long long)e->bytes_down);
	else
		put(l, "- ");
	put_quoted(l, e->referer);
	put(l, " ");
	put_quoted(l, e->agent);
	put(l, " ");
	put_decision_word(l, e);
}

/* ,"key":"escaped" or ,"key":null */
static void put_json(struct line *l, const char *key, const char *s)
{
	putf(l, ",\"%s\":", key);
	if (s == NULL) {
		put(l, "null");
		return;
	}
	put(l, "\"");
	put_escaped(l, escape_json, s, 4);
	put(l, "\"");
}

static uint16_t port_of(const struct sockaddr *sa)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	if (sa->sa_family == AF_INET) {
		memcpy(&s4, sa, sizeof(s4));
		return ntohs(s4.sin_port);
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(&s6, sa, sizeof(s6));
		return ntohs(s6.sin6_port);
	}
	return 0;
}

static void format_json(struct line *l, const struct access_entry *e)
{
	bool parsed = strcmp(e->method, "-") != 0;
	char when[32], client[ADDR_TEXT_MAX], version[16];

	log_format_time(when, sizeof(when));
	addr_format_host(e->client, client, sizeof(client));
	snprintf(version, sizeof(version), "HTTP/1.%d", e->http_minor);
	putf(l, "{\"time\":\"%s\",\"client\":\"%s\",\"client_port\":%u", when,
	     client, (unsigned)port_of(e->client));
	put_json(l, "user", given(e->user) ? e->user : NULL);
	put_json(l, "method", parsed ? e->method : NULL);
	put_json(l, "target", parsed ? e->target : NULL);
	put_json(l, "version", parsed && e->http_minor >= 0 ? version : NULL);
	putf(l,
	     ",\"status\":%d,\"bytes_up\":%llu,\"bytes_down\":%llu,"
	     "\"bytes_sent\":%llu,\"duration_ms\":%llu",
	     e->status, (unsigned long long)e->bytes_up,
	     (unsigned long long)e->bytes_down,
	     (unsigned long long)(e->bytes_own + e->bytes_down),
	     (unsigned long long)e->duration_ms);
	put_json(l, "end", e->end);
	put_json(l, "decision", access_decision_word(e->decision));
	put_json(l, "rule", given(e->rule) ? e->rule : NULL);
	put_json(l, "server", given(e->server) ? e->server : NULL);
	if (given(e->server))
		putf(l, ",\"server_port\":%u", (unsigned)e->server_port);
	else
		put(l, ",\"server_port\":null");
	put_json(l, "content_type",
		 given(e->content_type) ? e->content_type : NULL);
	put_json(l, "referer", e->referer);
	put_json(l, "user_agent", e->agent);
	put(l, "}");
}

void access_log_write(struct access_log *log, const struct access_entry *e)
{
	struct line l;

	if (log == NULL || log->fd < 0)
		return;
	l.len = 0;
	switch (log->format) {
	case ACCESS_LOG_SLUICE:
		format_sluice(&l, e);
		break;
	case ACCESS_LOG_SQUID:
		format_squid(&l, e);
		break;
	case ACCESS_LOG_COMBINED:
		format_combined(&l, e);
		break;
	case ACCESS_LOG_JSON:
		format_json(&l, e);
		break;
	}
	l.buf[l.len++] = '\n';
	(void)!write(log->fd, l.buf, l.len);
}
