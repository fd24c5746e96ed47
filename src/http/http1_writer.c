/*
 * http1_writer.c - see http1_writer.h.
 *
 * Both writers copy the end-to-end fields in the order received and then
 * state, in one canonical spelling each, what only we may decide: the
 * framing, Via, X-Forwarded-For and the connection options. Nothing the
 * peer wrote about framing or the connection is passed on as written.
 */
#include "http/http1_writer.h"

#include <string.h>

#include "http/http1_fields.h"

/* The caller's buffer; once something does not fit, nothing more is
 * written and the head is reported as not fitting. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char digits[20]; /* 2^64 - 1 has 20 */
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(o, digits + i, sizeof(digits) - i);
}

/* "name: value" CRLF, or "name:" CRLF for an empty value. */
static void put_line(struct out *o, const char *name, size_t name_len,
		     const char *value, size_t value_len)
{
	put(o, name, name_len);
	put(o, ":", 1);
	if (value_len > 0) {
		put(o, " ", 1);
		put(o, value, value_len);
	}
	put(o, "\r\n", 2);
}

static void put_header(struct out *o, const struct http1_header *h)
{
	put_line(o, h->name, h->name_len, h->value, h->value_len);
}

static bool is(const struct http1_header *h, const char *name)
{
	return http1_name_eq(h->name, h->name_len, name);
}

/* A field name, for looking Connection options up among sorted names. */
struct name_ref {
	const char *name;
	size_t len;
	size_t idx; /* in the head */
};

/* Orders names case-insensitively, then by length. */
static int name_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t n = a_len < b_len ? a_len : b_len;

	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		x = x >= 'A' && x <= 'Z' ? (unsigned char)(x + 32) : x;
		y = y >= 'A' && y <= 'Z' ? (unsigned char)(y + 32) : y;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return a_len == b_len ? 0 : a_len < b_len ? -1 : 1;
}

static int by_name(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	return name_cmp(x->name, x->len, y->name, y->len);
}

/*
 * Sets drop[i] for every field of h[0..n) that is hop-by-hop (RFC 9110
 * §7.6.1): in the fixed set, or named by a Connection option. Asking
 * http1_is_hop_by_hop() field by field would cost fields x options, and a
 * 64 KiB head holds 32768 options; here each option is a binary search
 * among the sorted names and each name is marked once: O((n + options)
 * log n), however the sender repeats names or options. The names are
 * sorted only when an option names something outside the fixed set: the
 * usual "Connection: keep-alive" costs no sort.
 */
static void mark_hop_by_hop(const struct http1_header *h, size_t n, bool *drop)
{
	struct name_ref names[HTTP1_WRITER_MAX_FIELDS];
	bool marked[HTTP1_WRITER_MAX_FIELDS];
	bool sorted = false;

	for (size_t i = 0; i < n; i++)
		drop[i] =
			http1_is_hop_by_hop(NULL, 0, h[i].name, h[i].name_len);
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!is(&h[i], "connection"))
			continue;
		http1_fields_list_init(&l, h[i].value, h[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			size_t lo = 0, hi = n;

			if (e_len == 0 ||
			    http1_is_hop_by_hop(NULL, 0, e, e_len))
				continue; /* already dropped */
			if (!sorted) {
				for (size_t k = 0; k < n; k++) {
					names[k] = (struct name_ref){
						h[k].name, h[k].name_len, k};
					marked[k] = false;
				}
				if (n > 1)
					qsort(names, n, sizeof(names[0]),
					      by_name);
				sorted = true;
			}
			while (lo < hi) { /* the first name >= e */
				size_t mid = lo + (hi - lo) / 2;
				if (name_cmp(names[mid].name, names[mid].len, e,
					     e_len) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == n || marked[lo] ||
			    name_cmp(names[lo].name, names[lo].len, e, e_len) !=
				    0)
				continue;
			for (size_t k = lo;
			     k < n && name_cmp(names[k].name, names[k].len, e,
					       e_len) == 0;
			     k++) {
				marked[k] = true;
				drop[names[k].idx] = true;
			}
		}
	}
}

/*
 * Writes one "Name: v1, v2, ours" line from the non-empty values of every
 * field called name not dropped, and ours (if not NULL) last; nothing if
 * there is nothing to write.
 */
static void put_combined(struct out *o, const struct http1_header *h, size_t n,
			 const bool *drop, const char *name, const char *ours)
{
	size_t name_len = strlen(name);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (h[i].name_len != name_len || h[i].value_len == 0 ||
		    drop[i] ||
		    !http1_name_eq_len(h[i].name, name_len, name, name_len))
			continue;
		put_str(o, any ? ", " : name);
		if (!any)
			put(o, ": ", 2);
		put(o, h[i].value, h[i].value_len);
		any = true;
	}
	if (ours != NULL) {
		put_str(o, any ? ", " : name);
		if (!any)
			put(o, ": ", 2);
		put_str(o, ours);
		any = true;
	}
	if (any)
		put(o, "\r\n", 2);
}

/* The Upgrade values of a 101, in one line: Upgrade is hop-by-hop, so
 * put_combined() would leave it out. */
static void put_upgrade(struct out *o, const struct http1_header *h, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (!is(&h[i], "upgrade") || h[i].value_len == 0)
			continue;
		put_str(o, any ? ", " : "Upgrade: ");
		put(o, h[i].value, h[i].value_len);
		any = true;
	}
	if (any)
		put(o, "\r\n", 2);
}

/*
 * Restates the received transfer codings as one normalised list (no empty
 * elements, ", " between), with chunked appended when we chunk the body.
 */
static void put_codings(struct out *o, const struct http1_header *h, size_t n,
			bool add_chunked)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!is(&h[i], "transfer-encoding"))
			continue;
		http1_fields_list_init(&l, h[i].value, h[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (e_len == 0)
				continue;
			put_str(o, any ? ", " : "Transfer-Encoding: ");
			put(o, e, e_len);
			any = true;
		}
	}
	if (add_chunked) {
		put_str(o, any ? ", " : "Transfer-Encoding: ");
		put_str(o, "chunked");
		any = true;
	}
	if (any)
		put(o, "\r\n", 2);
}

/* Other fields of a request we never copy: we write our own or none. */
static bool drop_request_field(const struct http1_request_out *r,
			       const struct http1_header *h)
{
	return is(h, "host") || is(h, "content-length") ||
	       is(h, "transfer-encoding") || (r->via != NULL && is(h, "via")) ||
	       (r->forwarded_for != NULL && is(h, "x-forwarded-for")) ||
	       /* RFC 9110 §10.1.1: ignored in a 1.0 request, so it must not
		* come back to life in the 1.1 request we send */
	       (!r->info->expect_continue && is(h, "expect"));
}

size_t http1_write_request_head(char *out, size_t cap,
				const struct http1_request_out *r)
{
	const struct http1_request *req = r->req;
	const struct http1_header *h = req->headers;
	size_t n = req->num_headers;
	struct out o = {.buf = out, .cap = cap};
	bool drop[HTTP1_WRITER_MAX_FIELDS];

	if (n > HTTP1_WRITER_MAX_FIELDS)
		return 0;
	mark_hop_by_hop(h, n, drop);
	put(&o, req->method, req->method_len);
	put(&o, " ", 1);
	if (r->absolute) /* to a proxy: "http://a" stays without its "/" */
		put_str(&o, "http://");
	if (r->absolute)
		put(&o, r->uri->authority_text, r->uri->authority_len);
	if (req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0 &&
	    r->uri->path_empty && r->uri->query_len == 0) {
		/* RFC 9112 §3.2.4: OPTIONS for the server */
		if (!r->absolute)
			put(&o, "*", 1);
	} else {
		put(&o, r->uri->path, r->uri->path_len);
		put(&o, r->uri->query, r->uri->query_len);
	}
	put_str(&o, " HTTP/1.1\r\n");
	/* RFC 9112 §3.2.2: the target's authority replaces the client's Host */
	put_line(&o, "Host", 4, r->uri->authority_text, r->uri->authority_len);

	for (size_t i = 0; i < n; i++) {
		if (!drop[i] && !drop_request_field(r, &h[i]))
			put_header(&o, &h[i]);
	}

	/* RFC 9112 §6: the framing we send, whatever the client wrote */
	if (r->info->body == HTTP1_BODY_LENGTH) {
		put_str(&o, "Content-Length: ");
		put_u64(&o, r->info->content_length);
		put(&o, "\r\n", 2);
	} else if (r->info->body == HTTP1_BODY_CHUNKED) {
		put_str(&o, "Transfer-Encoding: chunked\r\n");
	}
	/* RFC 9110 §7.6.3: a proxy appends its own Via entry */
	if (r->via != NULL)
		put_combined(&o, h, n, drop, "Via", r->via);
	if (r->forwarded_for != NULL)
		put_combined(&o, h, n, drop, "X-Forwarded-For",
			     r->forwarded_for);
	if (r->proxy_authorization != NULL)
		put_line(&o, "Proxy-Authorization", 19, r->proxy_authorization,
			 strlen(r->proxy_authorization));

	if (r->info->websocket) {
		put_str(&o, r->close ? "Connection: upgrade, close\r\n"
				     : "Connection: upgrade\r\n");
		put_str(&o, "Upgrade: websocket\r\n");
	} else if (r->close) {
		put_str(&o, "Connection: close\r\n");
	}
	put(&o, "\r\n", 2);
	return o.full ? 0 : o.len;
}

/* Other fields of a response we never copy: we write our own or none. */
static bool drop_response_field(const struct http1_response_out *r,
				const struct http1_header *h, bool keep_length)
{
	return (!keep_length && is(h, "content-length")) ||
	       (r->via != NULL && is(h, "via"));
}

/* The framing fields of a response, restated for this client. */
static void put_response_framing(struct out *o,
				 const struct http1_response_out *r)
{
	const struct http1_response *res = r->res;
	/* RFC 9112 §6.1: no transfer coding to an HTTP/1.0 recipient; its
	 * body is delimited by our closing the connection */
	bool codings_ok = r->client_minor_version >= 1;

	switch (r->info->body) {
	case HTTP1_BODY_LENGTH:
		put_str(o, "Content-Length: ");
		put_u64(o, r->info->content_length);
		put(o, "\r\n", 2);
		break;
	case HTTP1_BODY_CHUNKED:
		if (codings_ok)
			put_codings(o, res->headers, res->num_headers, false);
		break;
	case HTTP1_BODY_CLOSE:
		if (codings_ok)
			put_codings(o, res->headers, res->num_headers,
				    r->chunk_it);
		break;
	case HTTP1_BODY_NONE:
		break;
	}
}

size_t http1_write_response_head(char *out, size_t cap,
				 const struct http1_response_out *r)
{
	const struct http1_response *res = r->res;
	const struct http1_header *h = res->headers;
	size_t n = res->num_headers;
	struct out o = {.buf = out, .cap = cap};
	bool drop[HTTP1_WRITER_MAX_FIELDS];
	char status[3] = {/* 100..999: three digits */
			  (char)('0' + res->status / 100 % 10),
			  (char)('0' + res->status / 10 % 10),
			  (char)('0' + res->status % 10)};
	/*
	 * A Content-Length that frames nothing is passed on as received
	 * where it means something (RFC 9110 §8.6: the length a GET would
	 * have had, for HEAD and 304); a 1xx or 204 must not carry one.
	 */
	bool keep_length = r->info->body == HTTP1_BODY_NONE &&
			   res->status / 100 != 1 && res->status != 204 &&
			   !r->info->drop_content_length;

	if (n > HTTP1_WRITER_MAX_FIELDS)
		return 0;
	mark_hop_by_hop(h, n, drop);
	put_str(&o, "HTTP/1.1 ");
	put(&o, status, sizeof(status));
	put(&o, " ", 1);
	put(&o, res->reason, res->reason_len);
	put(&o, "\r\n", 2);

	for (size_t i = 0; i < n; i++) {
		if (!drop[i] && !drop_response_field(r, &h[i], keep_length))
			put_header(&o, &h[i]);
	}
	put_response_framing(&o, r);
	if (r->via != NULL)
		put_combined(&o, h, n, drop, "Via", r->via);

	/* RFC 9110 §7.8: a 101 names the protocol the connection turns into */
	if (res->status == 101) {
		put_str(&o, "Connection: upgrade\r\n");
		put_upgrade(&o, h, n);
	} else if (r->close) {
		put_str(&o, "Connection: close\r\n");
	} else if (r->client_minor_version == 0) {
		/* RFC 9112 §9.3: a 1.0 client closes unless told otherwise */
		put_str(&o, "Connection: keep-alive\r\n");
	}
	put(&o, "\r\n", 2);
	return o.full ? 0 : o.len;
}
