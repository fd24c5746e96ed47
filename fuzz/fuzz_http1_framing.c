/*
 * fuzz_http1_framing.c - the smuggling rules on arbitrary request heads:
 * http1_request_framing, then uri_parse_absolute and the request writer.
 *
 * A request the rules accept must reach the origin framed exactly as we
 * read it. So for every accepted head with an absolute-form http target,
 * the head we write must parse back, be accepted by the same rules with
 * the same body (kind and length), the same WebSocket and 100-continue
 * reading, our close, one Host equal to the target's authority, and no
 * field the client made hop-by-hop; a buffer one byte short gets 0. Every
 * refusal must map to 400, 417 or 501. abort() on any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1_framing.h"
#include "http/http1_request.h"
#include "http/http1_writer.h"
#include "http/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 100
#define OUT_MAX	   (70 * 1024)

static const struct http1_limits limits = {
	.max_line_bytes = 8192,
	.max_head_bytes = 65536,
	.max_fields = MAX_FIELDS,
};

static const struct http1_limits out_limits = {
	.max_line_bytes = OUT_MAX,
	.max_head_bytes = OUT_MAX,
	.max_fields = MAX_FIELDS + 8, /* Host, framing, Via, ... of ours */
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool named(const struct http1_header *h, const char *name)
{
	return http1_name_eq(h->name, h->name_len, name);
}

static void check_info(const struct http1_request *req,
		       const struct http1_request_info *info)
{
	check(info->body == HTTP1_BODY_NONE ||
	      info->body == HTTP1_BODY_LENGTH ||
	      info->body == HTTP1_BODY_CHUNKED);
	if (info->body != HTTP1_BODY_LENGTH)
		check(info->content_length == 0);
	if (info->body == HTTP1_BODY_CHUNKED)
		check(req->minor_version == 1);
	for (size_t i = 0; i < req->num_headers; i++) {
		if (info->body == HTTP1_BODY_CHUNKED)
			check(!named(&req->headers[i], "content-length"));
		if (info->body != HTTP1_BODY_CHUNKED)
			check(!named(&req->headers[i], "transfer-encoding"));
	}
	if (req->minor_version == 1)
		check(info->host != NULL);
	if (info->host != NULL)
		check(info->host >= req->headers &&
		      info->host < req->headers + req->num_headers);
	if (info->websocket)
		check(info->conn.upgrade && req->minor_version == 1);
	if (req->minor_version == 0)
		check(!info->expect_continue &&
		      (info->conn.close || info->conn.keep_alive));
}

/* The client can make any field hop-by-hop, ours included. */
static bool ours(const struct http1_header *h,
		 const struct http1_request_out *o)
{
	return named(h, "host") || named(h, "connection") ||
	       named(h, "content-length") || named(h, "transfer-encoding") ||
	       (o->info->websocket && named(h, "upgrade")) ||
	       (o->via != NULL && named(h, "via")) ||
	       (o->forwarded_for != NULL && named(h, "x-forwarded-for"));
}

static void check_written(const struct http1_request *req,
			  const struct http1_request_out *o)
{
	static char out[OUT_MAX];
	static struct http1_header back_h[MAX_FIELDS + 8];
	struct http1_request back;
	struct http1_request_info info;
	struct http1_error err;
	size_t n = http1_write_request_head(out, sizeof(out), o);

	if (n == 0)
		return;
	check(http1_parse_request(out, n, 0, &out_limits, back_h, &back,
				  &err) == (int)n);
	check(back.minor_version == 1);
	check(back.method_len == req->method_len &&
	      memcmp(back.method, req->method, req->method_len) == 0);
	if (req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0 &&
	    o->uri->path_empty && o->uri->query_len == 0)
		/* RFC 9112 §3.2.4: asterisk-form for the server itself */
		check(back.target_len == 1 && back.target[0] == '*');
	else
		check(back.target_len == o->uri->path_len + o->uri->query_len &&
		      back.target[0] == '/');
	check(http1_request_framing(&back, &info) == HTTP1_FRAMING_OK);
	check(info.body == o->info->body);
	check(info.content_length == o->info->content_length);
	check(info.websocket == o->info->websocket);
	check(info.expect_continue == o->info->expect_continue);
	check(info.conn.close == o->close);
	check(info.host->value_len == o->uri->authority_len &&
	      memcmp(info.host->value, o->uri->authority_text,
		     o->uri->authority_len) == 0);
	for (size_t i = 0; i < back.num_headers; i++) {
		const struct http1_header *h = &back_h[i];
		if (ours(h, o))
			continue;
		check(!http1_is_hop_by_hop(req->headers, req->num_headers,
					   h->name, h->name_len));
		/* a field named like an option we send ("close") is one
		 * the next hop may take for hop-by-hop: harmless */
		if (!named(h, "close") && !named(h, "upgrade") &&
		    !named(h, "keep-alive"))
			check(!http1_is_hop_by_hop(back_h, back.num_headers,
						   h->name, h->name_len));
	}
	check(http1_write_request_head(out, n - 1, o) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http1_header headers[MAX_FIELDS];
	struct http1_request req;
	struct http1_request_info info;
	struct http1_error perr;
	enum http1_framing_err err;
	struct uri uri;
	enum authority_error aerr;
	uint8_t pick = (uint8_t)(size + (size ? data[size / 2] : 0));

	if (http1_parse_request((const char *)data, size, 0, &limits, headers,
				&req, &perr) <= 0)
		return 0;
	err = http1_request_framing(&req, &info);
	check(http1_framing_strerror(err) != NULL);
	if (err != HTTP1_FRAMING_OK) {
		int status = http1_framing_status(err);
		check(status == 400 || status == 417 || status == 501);
		return 0;
	}
	check_info(&req, &info);
	if (uri_parse_absolute(req.target, req.target_len, &uri, &aerr) !=
	    URI_OK)
		return 0;

	struct http1_request_out o = {
		.req = &req,
		.info = &info,
		.uri = &uri,
		.via = (pick & 1) ? "1.1 sluice" : NULL,
		.forwarded_for = (pick & 2) ? "192.0.2.1" : NULL,
		.close = (pick & 4) != 0 || info.conn.close,
	};
	check_written(&req, &o);
	return 0;
}
