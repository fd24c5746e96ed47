/*
 * session_log.c - what a session records for its access-log line beyond
 * the request line and the counts: the decision (session_decide) and the
 * note of optional fields. See session.h.
 *
 * Fields are kept only when the log's layout shows them, as raw bytes cut
 * to SESSION_NOTE_BYTES; report/access_log.c escapes them for the layout.
 * A note that cannot be allocated leaves its fields out of the line: the
 * request itself never fails for the log's sake.
 */
#include "proxy/session.h"

#include "base/addr.h"
#include "http/http1_request.h"
#include "proxy/worker.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void session_decide(struct session *s, enum access_decision d, const char *rule)
{
	size_t n = rule != NULL ? strnlen(rule, sizeof(s->rule) - 1) : 0;

	s->decision = d;
	for (size_t i = 0; i < n; i++) /* one word in the log */
		s->rule[i] = (unsigned char)rule[i] <= ' ' || rule[i] == 0x7f
				     ? '?'
				     : rule[i];
	s->rule[n] = '\0';
}

/* The note, when the layout shows `field`; NULL otherwise (or no memory). */
static struct session_note *note_for(struct session *s, unsigned field)
{
	if ((access_log_wants(s->worker->access_log) & field) == 0)
		return NULL;
	if (s->note == NULL)
		s->note = calloc(1, sizeof(*s->note));
	return s->note;
}

/* Copies value[0..len) into out[cap], cut to fit. */
static void keep(char *out, size_t cap, const char *value, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(out, value, n);
	out[n] = '\0';
}

void session_note_request(struct session *s, const struct http1_request *req)
{
	struct session_note *n = note_for(s, ACCESS_WANTS_REQUEST);

	if (n == NULL)
		return;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		if (!n->has_referer &&
		    http1_name_eq(h->name, h->name_len, "referer")) {
			keep(n->referer, sizeof(n->referer), h->value,
			     h->value_len);
			n->has_referer = true;
		} else if (!n->has_agent &&
			   http1_name_eq(h->name, h->name_len, "user-agent")) {
			keep(n->agent, sizeof(n->agent), h->value,
			     h->value_len);
			n->has_agent = true;
		}
	}
}

void session_note_user(struct session *s, const char *user, size_t len)
{
	struct session_note *n = note_for(s, ACCESS_WANTS_USER);

	if (n != NULL)
		keep(n->user, sizeof(n->user), user, len);
}

void session_note_type(struct session *s, const char *value, size_t len)
{
	struct session_note *n = note_for(s, ACCESS_WANTS_REPLY);
	size_t end = 0;

	if (n == NULL)
		return;
	/* "text/html; charset=utf-8" -> "text/html", as Squid logs it */
	while (end < len && value[end] != ';' && value[end] != ' ' &&
	       value[end] != '\t')
		end++;
	keep(n->content_type, sizeof(n->content_type), value, end);
}

void session_note_reply(struct session *s, const char *head, size_t len)
{
	static const char field[] = "\r\nContent-Type: ";
	const char *end, *at, *eol;

	if (note_for(s, ACCESS_WANTS_REPLY) == NULL)
		return;
	end = memmem(head, len, "\r\n\r\n", 4); /* our own head: well-formed */
	if (end == NULL)
		return;
	at = memmem(head, (size_t)(end - head), field, sizeof(field) - 1);
	if (at == NULL)
		return;
	at += sizeof(field) - 1;
	eol = memmem(at, (size_t)(end + 2 - at), "\r\n", 2);
	if (eol != NULL)
		session_note_type(s, at, (size_t)(eol - at));
}

void session_note_server(struct session *s)
{
	struct session_note *n = note_for(s, ACCESS_WANTS_REPLY);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (n == NULL)
		return;
	if (getpeername(s->target_fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		n->server[0] = '\0';
		return;
	}
	addr_format_host((const struct sockaddr *)&ss, n->server,
			 sizeof(n->server));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in s4;
		memcpy(&s4, &ss, sizeof(s4));
		n->server_port = ntohs(s4.sin_port);
	} else {
		struct sockaddr_in6 s6;
		memcpy(&s6, &ss, sizeof(s6));
		n->server_port = ntohs(s6.sin6_port);
	}
}

void session_note_clear(struct session *s)
{
	if (s->note != NULL)
		memset(s->note, 0, sizeof(*s->note));
}

void session_note_fill(const struct session *s, struct access_entry *e)
{
	const struct session_note *n = s->note;

	e->decision = s->decision;
	e->bytes_own = s->own_bytes + s->reply_off;
	if (n == NULL)
		return;
	e->user = n->user;
	e->referer = n->has_referer ? n->referer : NULL;
	e->agent = n->has_agent ? n->agent : NULL;
	e->content_type = n->content_type;
	e->server = n->server;
	e->server_port = n->server_port;
}
