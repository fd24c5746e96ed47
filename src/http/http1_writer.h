/*
 * http1_writer.h - the heads sluice sends on: the request to the origin
 * and the response to the client, rewritten from what was parsed.
 *
 * Pure: writes into the caller's buffer, never past cap. Each writer
 * returns the length written, or 0 when it did not fit (the caller then
 * answers 502/431, never sends a cut head). The cost is linear in the head
 * (times log of its field count), whatever the sender repeats.
 */
#ifndef SLUICE_HTTP_HTTP1_WRITER_H
#define SLUICE_HTTP_HTTP1_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http1_framing.h"
#include "http/http1_request.h"
#include "http/http1_response_head.h"
#include "http/uri.h"

/* The most fields a head may have to be written on (more: 0, as for a
 * head that does not fit); sluice's parsers stop at 100. */
#define HTTP1_WRITER_MAX_FIELDS 256

struct http1_request_out {
	const struct http1_request *req;
	const struct http1_request_info *info;
	const struct uri *uri; /* absolute-form target, parsed */
	const char *via;       /* our Via entry, e.g. "1.1 sluice", or NULL */
	const char *forwarded_for; /* client IP for X-Forwarded-For, or NULL */
	bool close;		   /* ask the origin to close after this */
	/* for a parent proxy: the target in absolute form, and our own
	 * Proxy-Authorization value (or NULL) */
	bool absolute;
	const char *proxy_authorization;
};

/*
 * Writes "METHOD path+query HTTP/1.1" (the method as received, the URI's
 * path then its query; with absolute, "http://" and the authority as
 * written before them, RFC 9112 §3.2.2), then "Host: " and the URI's
 * authority as written
 * (RFC 9112 §3.2.2: replaces any Host the client sent), then every client
 * field in order except hop-by-hop ones (http1_is_hop_by_hop), Host,
 * Content-Length, Transfer-Encoding, and Expect unless
 * info->expect_continue (an HTTP/1.0 client's is ignored, RFC 9110
 * §10.1.1); then the framing we send ("Content-Length: N" for LENGTH,
 * "Transfer-Encoding: chunked" for CHUNKED); then one "Via: <received
 * values>, <via>" line replacing the received Via fields (unless via is
 * NULL: they are copied as they were); then likewise "X-Forwarded-For:
 * <received>, <forwarded_for>" when forwarded_for is not NULL; then
 * "Proxy-Authorization: <proxy_authorization>" when it is not NULL (the
 * client's own, hop-by-hop, never passes); then "Connection: close" when
 * close; for a WebSocket handshake
 * (info->websocket) "Connection: upgrade" (or "upgrade, close") and
 * "Upgrade: websocket" instead; then CRLF.
 */
size_t http1_write_request_head(char *out, size_t cap,
				const struct http1_request_out *r);

struct http1_response_out {
	const struct http1_response *res;
	const struct http1_response_info *info;
	int client_minor_version; /* the client's HTTP/1.x */
	const char *via;	  /* our Via entry, or NULL */
	bool close;    /* we will close the client connection after this */
	bool chunk_it; /* re-frame a close-delimited body as chunked; never
			* for a 1.0 client */
};

/*
 * Writes "HTTP/1.1 STATUS REASON" (the origin's reason, possibly empty),
 * then every origin field in order except hop-by-hop ones, Via (when via is
 * not NULL), and Content-Length (kept as received only for a body NONE that
 * is not a 1xx or 204, i.e. HEAD and 304, unless drop_content_length). Then
 * the framing restated by info->body: LENGTH "Content-Length: N"; CHUNKED
 * the received codings as one normalised "Transfer-Encoding:" list (so
 * "gzip, chunked" survives); CLOSE the received codings if any, with
 * "chunked" appended when chunk_it; NONE nothing. To an HTTP/1.0 client no
 * Transfer-Encoding is ever written: a CHUNKED body must then be sent
 * decoded and the connection closed after it (close); so must a CLOSE body
 * sent without chunk_it to any client. Then "Via: <received>, <via>"; then
 * for a 101 "Connection: upgrade" and the origin's Upgrade values, else
 * "Connection: close" when close (RFC 9112 §9.6), else "Connection:
 * keep-alive" to an HTTP/1.0 client we keep; then CRLF.
 */
size_t http1_write_response_head(char *out, size_t cap,
				 const struct http1_response_out *r);

#endif
