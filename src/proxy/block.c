/*
 * block.c - the blocklist's verdict for a request, and the answer to a
 * blocked one: 403 with a short page (or a one-line body for CONNECT), 204,
 * or a closed connection, as block-response says. Decided before any DNS
 * lookup or connection, so a blocked host never hears of the request.
 *
 * The page names the host and the list by its file name only: a client
 * learns which list to complain about, not the proxy's file system.
 */
#include "proxy/session.h"

#include "config/config.h"
#include "http/http1_response.h"
#include "policy/blocklist.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"
#include "report/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for the page and its head: a 253-byte name, a list name, HTML. */
#define BLOCK_PAGE_BYTES 2048
#define BLOCK_LIST_SHOWN 96 /* bytes of a list's name shown on the page */

/* The last path segment of a list's name ("ads.txt" of "/etc/x/ads.txt"). */
static const char *short_name(const char *list)
{
	const char *slash = strrchr(list, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : list;
}

/* Copies s as HTML text: markup characters escaped, controls dropped. */
static size_t html_escape(char *out, size_t cap, const char *s, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; s[i] != '\0' && i < max; i++) {
		const char *rep = NULL;
		char one[2] = {s[i], '\0'};
		switch (s[i]) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			rep = (unsigned char)s[i] < 0x20 ? "" : one;
		}
		size_t len = strlen(rep);
		if (n + len >= cap)
			break;
		memcpy(out + n, rep, len);
		n += len;
	}
	out[n] = '\0';
	return n;
}

/* Writes the 403 page for a plain-HTTP request. Returns its length. */
static size_t write_page(char *out, size_t cap, const char *host,
			 const struct blocklist_verdict *v)
{
	char list[BLOCK_LIST_SHOWN * 6 + 1];

	html_escape(list, sizeof(list), short_name(v->list), BLOCK_LIST_SHOWN);
	/* host passed authority_parse: letters, digits, '-', '.', '_' */
	int n = snprintf(
		out, cap,
		"<!DOCTYPE html>\n"
		"<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>Blocked: %s</title></head>\n"
		"<body style=\"font-family: sans-serif; margin: 3em\">\n"
		"<h1>Blocked</h1>\n"
		"<p><b>%s</b> is on a blocklist of this proxy "
		"(<code>%s</code>, "
		"line %u), so the request was not sent.</p>\n"
		"<p>If it should not be, ask whoever runs the proxy to add it "
		"to an allowlist.</p>\n"
		"<hr><p><small>sluice</small></p>\n"
		"</body></html>\n",
		host, host, list, v->line);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

bool block_request(struct session *s, const char *host, size_t len,
		   bool connect, bool reusable, bool head)
{
	const struct config *cfg = s->worker->cfg;
	struct blocklist_verdict v;
	char name[BLOCKLIST_NAME_MAX + 1], page[BLOCK_PAGE_BYTES];
	size_t n;
	char *buf;

	if (!blocklist_match(s->worker->snapshot->blocklist, host, len, &v))
		return false;
	n = len < sizeof(name) ? len : sizeof(name) - 1;
	memcpy(name, host, n);
	name[n] = '\0';
	snprintf(s->rule, sizeof(s->rule), "%s:%u", v.list, v.line);
	for (char *c = s->rule; *c != '\0'; c++) /* one word in the log */
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			*c = '?';
	s->decision = ACCESS_BLOCKED;
	log_debug("%s %s: blocked by %s", s->method, s->target, s->rule);
	metrics_count_blocked(&s->worker->metrics, v.list, strlen(v.list));
	metrics_note_blocked(name, s->rule);

	if (cfg->block_response == BLOCK_RESPONSE_CLOSE) {
		/* nginx's 444: closed without a reply, for the access log */
		s->status = 444;
		s->end_ms = loop_now_ms(s->worker->loop);
		session_finish(s, "blocked");
		return true;
	}
	if (connect) {
		/* a 2xx would open the tunnel (RFC 9110 §9.3.6): 403 even
		 * when block-response is 204 */
		session_reply_error(s, 403, "blocked",
				    "%s is blocked (%s, line %u)", name,
				    short_name(v.list), v.line);
		return true;
	}
	buf = malloc(BLOCK_PAGE_BYTES + 512);
	if (buf == NULL) {
		session_reply_error(s, 500, "no-memory", "out of memory");
		return true;
	}
	if (cfg->block_response == BLOCK_RESPONSE_204) {
		n = http1_write_response(buf, BLOCK_PAGE_BYTES + 512, 204, NULL,
					 NULL, 0, !reusable, head);
		session_send_reply(s, buf, n, 204, "blocked", reusable);
		return true;
	}
	n = write_page(page, sizeof(page), name, &v);
	n = http1_write_response(buf, BLOCK_PAGE_BYTES + 512, 403,
				 "text/html; charset=utf-8", page, n, !reusable,
				 head);
	session_send_reply(s, buf, n, 403, "blocked", reusable);
	return true;
}
