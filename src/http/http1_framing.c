/*
 * http1_framing.c - see http1_framing.h.
 *
 * Every field that decides where a message ends is read here, and read the
 * one strict way: a proxy that reads a length or a coding differently from
 * the next hop is how requests get smuggled. Whatever we accept we restate
 * ourselves (http1_writer.c), so the next hop never sees the client's
 * spelling of the framing.
 */
#include "http/http1_framing.h"

#include <string.h>

#include "http/authority.h"
#include "http/http1_fields.h"

static bool elem_eq(const char *elem, size_t len, const char *lit)
{
	return http1_fields_slice_eq(elem, len, lit, strlen(lit));
}

/* Does any field called `name` list the token `token`? */
static bool lists_token(const struct http1_header *headers, size_t n,
			const char *name, const char *token)
{
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!http1_name_eq(headers[i].name, headers[i].name_len, name))
			continue;
		http1_fields_list_init(&l, headers[i].value,
				       headers[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (elem_eq(e, e_len, token))
				return true;
		}
	}
	return false;
}

/* RFC 9112 §9.3, §9.6: close by default in 1.0, keep-alive by default in
 * 1.1; "close" wins over anything else. One pass over the options. */
static void conn_options(const struct http1_header *headers, size_t n,
			 int minor_version, struct http1_conn *conn)
{
	bool close = false;

	conn->keep_alive = false;
	conn->upgrade = false;
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!http1_name_eq(headers[i].name, headers[i].name_len,
				   "connection"))
			continue;
		http1_fields_list_init(&l, headers[i].value,
				       headers[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			close = close || elem_eq(e, e_len, "close");
			conn->keep_alive = conn->keep_alive ||
					   elem_eq(e, e_len, "keep-alive");
			conn->upgrade =
				conn->upgrade || elem_eq(e, e_len, "upgrade");
		}
	}
	conn->close = close || (minor_version == 0 && !conn->keep_alive);
}

/* 1*DIGIT that fits 64 bits; no sign, no space, no hex (RFC 9110 §8.6). */
static bool parse_length(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * Reads every Content-Length field. RFC 9110 §8.6 lets a recipient take
 * identical values, in several fields or a list ("5, 5"), as one; any other
 * difference is an unrecoverable framing error (RFC 9112 §6.3). Sets
 * *present when there is at least one field.
 */
static enum http1_framing_err content_length(const struct http1_header *h,
					     size_t n, bool *present,
					     uint64_t *length)
{
	*present = false;
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;
		uint64_t v;

		if (!http1_name_eq(h[i].name, h[i].name_len, "content-length"))
			continue;
		http1_fields_list_init(&l, h[i].value, h[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (!parse_length(e, e_len, &v))
				return HTTP1_FRAMING_BAD_LENGTH;
			if (*present && v != *length)
				return HTTP1_FRAMING_LENGTH_MISMATCH;
			*present = true;
			*length = v;
		}
	}
	return HTTP1_FRAMING_OK;
}

/* What the Transfer-Encoding fields say, all of them taken as one list. */
struct codings {
	bool present;	   /* at least one Transfer-Encoding field */
	bool last_chunked; /* the last coding is chunked */
	unsigned chunked;  /* how many times chunked appears */
	unsigned others;   /* codings other than chunked */
};

/*
 * RFC 9112 §6.1: the codings may come in several fields and lists; names
 * are case-insensitive; empty list elements are ignored (RFC 9110 §5.6.1).
 * A coding with parameters ("chunked;q=1") is not chunked.
 */
static void transfer_codings(const struct http1_header *h, size_t n,
			     struct codings *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!http1_name_eq(h[i].name, h[i].name_len,
				   "transfer-encoding"))
			continue;
		c->present = true;
		http1_fields_list_init(&l, h[i].value, h[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (e_len == 0)
				continue;
			c->last_chunked = elem_eq(e, e_len, "chunked");
			if (c->last_chunked)
				c->chunked++;
			else
				c->others++;
		}
	}
}

/* RFC 9112 §3.2: exactly one Host in 1.1, at most one in 1.0, valid. */
static enum http1_framing_err host_field(const struct http1_request *req,
					 const struct http1_header **host)
{
	struct authority a;

	*host = NULL;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];

		if (!http1_name_eq(h->name, h->name_len, "host"))
			continue;
		if (*host != NULL)
			return HTTP1_FRAMING_MULTIPLE_HOST;
		*host = h;
	}
	if (*host == NULL)
		return req->minor_version == 0 ? HTTP1_FRAMING_OK
					       : HTTP1_FRAMING_NO_HOST;
	if (authority_parse((*host)->value, (*host)->value_len, 80, &a) !=
	    AUTHORITY_OK)
		return HTTP1_FRAMING_BAD_HOST;
	return HTTP1_FRAMING_OK;
}

/*
 * RFC 9110 §10.1.1: 100-continue is the only expectation; anything else,
 * an empty Expect included, is answered 417. In a 1.0 request the
 * expectation is ignored (a 1.0 client cannot take a 100 response).
 */
static enum http1_framing_err expectation(const struct http1_request *req,
					  bool *expect_continue)
{
	*expect_continue = false;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		struct http1_fields_list l;
		const char *e;
		size_t e_len;
		bool any = false;

		if (!http1_name_eq(h->name, h->name_len, "expect"))
			continue;
		http1_fields_list_init(&l, h->value, h->value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (e_len == 0)
				continue;
			if (!elem_eq(e, e_len, "100-continue"))
				return HTTP1_FRAMING_BAD_EXPECT;
			any = true;
		}
		if (!any)
			return HTTP1_FRAMING_BAD_EXPECT;
		*expect_continue = req->minor_version == 1;
	}
	return HTTP1_FRAMING_OK;
}

static enum http1_framing_err request_body(const struct http1_request *req,
					   struct http1_request_info *info)
{
	struct codings te;
	bool cl_present;
	enum http1_framing_err err;

	transfer_codings(req->headers, req->num_headers, &te);
	if (te.present) {
		/* RFC 9112 §6.1: TE in 1.0 means faulty framing */
		if (req->minor_version == 0)
			return HTTP1_FRAMING_TE_IN_HTTP10;
		/* RFC 9112 §6.3: CL with TE is an error (the CL's value,
		 * valid or not, does not matter) */
		for (size_t i = 0; i < req->num_headers; i++) {
			if (http1_name_eq(req->headers[i].name,
					  req->headers[i].name_len,
					  "content-length"))
				return HTTP1_FRAMING_CL_AND_TE;
		}
		/* RFC 9112 §6.3: chunked must be last, and once (§6.1) */
		if (!te.last_chunked || te.chunked > 1)
			return HTTP1_FRAMING_TE_NOT_CHUNKED;
		/* RFC 9112 §6.1: a coding we cannot undo is a 501 */
		if (te.others > 0)
			return HTTP1_FRAMING_TE_UNKNOWN;
		info->body = HTTP1_BODY_CHUNKED;
		return HTTP1_FRAMING_OK;
	}
	err = content_length(req->headers, req->num_headers, &cl_present,
			     &info->content_length);
	if (err != HTTP1_FRAMING_OK)
		return err;
	info->body = cl_present ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	return HTTP1_FRAMING_OK;
}

enum http1_framing_err http1_request_framing(const struct http1_request *req,
					     struct http1_request_info *info)
{
	enum http1_framing_err err;

	memset(info, 0, sizeof(*info));
	info->body = HTTP1_BODY_NONE;
	conn_options(req->headers, req->num_headers, req->minor_version,
		     &info->conn);

	err = host_field(req, &info->host);
	if (err == HTTP1_FRAMING_OK)
		err = request_body(req, info);
	if (err == HTTP1_FRAMING_OK)
		err = expectation(req, &info->expect_continue);
	if (err != HTTP1_FRAMING_OK)
		return err;

	/* RFC 9110 §7.8: Upgrade is ignored in a 1.0 request; RFC 6455
	 * §4.1: the handshake is a GET (methods are case-sensitive) */
	info->websocket = req->minor_version == 1 && info->conn.upgrade &&
			  req->method_len == 3 &&
			  memcmp(req->method, "GET", 3) == 0 &&
			  lists_token(req->headers, req->num_headers, "upgrade",
				      "websocket");
	return HTTP1_FRAMING_OK;
}

static bool method_is(const char *method, size_t len, const char *lit)
{
	return method != NULL && len == strlen(lit) &&
	       memcmp(method, lit, len) == 0;
}

enum http1_framing_err http1_response_framing(const struct http1_response *res,
					      const char *method,
					      size_t method_len,
					      struct http1_response_info *info)
{
	const struct http1_header *h = res->headers;
	size_t n = res->num_headers;
	struct codings te;
	bool cl_present;
	enum http1_framing_err err;

	memset(info, 0, sizeof(*info));
	conn_options(h, n, res->minor_version, &info->conn);

	/* RFC 9112 §6.3 rules 1 and 2: no body whatever the fields say */
	if (method_is(method, method_len, "HEAD") || res->status / 100 == 1 ||
	    res->status == 204 || res->status == 304 ||
	    (method_is(method, method_len, "CONNECT") &&
	     res->status / 100 == 2)) {
		info->body = HTTP1_BODY_NONE;
		return HTTP1_FRAMING_OK;
	}

	transfer_codings(h, n, &te);
	if (te.present) {
		/* RFC 9112 §6.1: TE in 1.0 means faulty framing */
		if (res->minor_version == 0)
			return HTTP1_FRAMING_TE_IN_HTTP10;
		/*
		 * RFC 9112 §6.1: chunked is never applied twice. Chunked
		 * before another coding would be read until close, but could
		 * not be chunked again for the client: refused as well.
		 */
		if (te.chunked > 1 || (te.chunked == 1 && !te.last_chunked))
			return HTTP1_FRAMING_TE_NOT_CHUNKED;
		/* RFC 9112 §6.3 rule 3: TE overrides CL, which is dropped;
		 * a last coding other than chunked means read until close */
		info->drop_content_length = false;
		for (size_t i = 0; i < n; i++) {
			if (http1_name_eq(h[i].name, h[i].name_len,
					  "content-length"))
				info->drop_content_length = true;
		}
		info->body =
			te.last_chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_CLOSE;
	} else {
		err = content_length(h, n, &cl_present, &info->content_length);
		if (err != HTTP1_FRAMING_OK)
			return err;
		info->body = cl_present ? HTTP1_BODY_LENGTH : HTTP1_BODY_CLOSE;
	}
	if (info->body == HTTP1_BODY_CLOSE)
		info->conn.close = true;
	return HTTP1_FRAMING_OK;
}

int http1_framing_status(enum http1_framing_err err)
{
	switch (err) {
	case HTTP1_FRAMING_OK:
		return 0;
	case HTTP1_FRAMING_TE_UNKNOWN:
		return 501;
	case HTTP1_FRAMING_BAD_EXPECT:
		return 417;
	default:
		return 400;
	}
}

const char *http1_framing_strerror(enum http1_framing_err err)
{
	switch (err) {
	case HTTP1_FRAMING_OK:
		return "ok";
	case HTTP1_FRAMING_NO_HOST:
		return "missing Host header";
	case HTTP1_FRAMING_MULTIPLE_HOST:
		return "more than one Host header";
	case HTTP1_FRAMING_BAD_HOST:
		return "invalid Host header";
	case HTTP1_FRAMING_BAD_LENGTH:
		return "invalid Content-Length";
	case HTTP1_FRAMING_LENGTH_MISMATCH:
		return "conflicting Content-Length values";
	case HTTP1_FRAMING_CL_AND_TE:
		return "both Content-Length and Transfer-Encoding";
	case HTTP1_FRAMING_TE_NOT_CHUNKED:
		return "Transfer-Encoding does not end in chunked once";
	case HTTP1_FRAMING_TE_UNKNOWN:
		return "unsupported transfer coding";
	case HTTP1_FRAMING_TE_IN_HTTP10:
		return "Transfer-Encoding in an HTTP/1.0 message";
	case HTTP1_FRAMING_BAD_EXPECT:
		return "unsupported expectation";
	}
	return "invalid message framing";
}

/* RFC 9110 §7.6.1, and the proxy fields of §11.7. Every field of every
 * head is looked up here, so the lengths are compared first. */
/* clang-format off */
#define NAME(lit) {lit, sizeof(lit) - 1}
/* clang-format on */
static const struct {
	const char *name;
	size_t len;
} hop_by_hop[] = {
	NAME("connection"),
	NAME("proxy-connection"),
	NAME("keep-alive"),
	NAME("te"),
	NAME("trailer"),
	NAME("transfer-encoding"),
	NAME("upgrade"),
	NAME("proxy-authorization"),
	NAME("proxy-authenticate"),
};
#undef NAME

bool http1_is_hop_by_hop(const struct http1_header *headers, size_t n,
			 const char *name, size_t name_len)
{
	for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]);
	     i++) {
		if (name_len == hop_by_hop[i].len &&
		    http1_fields_slice_eq(name, name_len, hop_by_hop[i].name,
					  name_len))
			return true;
	}
	for (size_t i = 0; i < n; i++) {
		struct http1_fields_list l;
		const char *e;
		size_t e_len;

		if (!http1_name_eq(headers[i].name, headers[i].name_len,
				   "connection"))
			continue;
		http1_fields_list_init(&l, headers[i].value,
				       headers[i].value_len);
		while (http1_fields_list_next(&l, &e, &e_len)) {
			if (e_len > 0 &&
			    http1_fields_slice_eq(e, e_len, name, name_len))
				return true;
		}
	}
	return false;
}
