/*
 * http1_response.h - the responses sluice writes itself: error replies
 * and the CONNECT success line. Pure: writes into the caller's buffer.
 */
#ifndef SLUICE_HTTP_HTTP1_RESPONSE_H
#define SLUICE_HTTP_HTTP1_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 9110 §9.3.6: any 2xx to CONNECT starts the tunnel; no body. */
#define HTTP1_CONNECT_OK "HTTP/1.1 200 Connection Established\r\n\r\n"

/* The reason phrase for a status code ("Bad Gateway"). */
const char *http_status_text(int status);

/*
 * Writes a complete error response with a text/plain body
 * "sluice: <reason>\n" and Connection: close into out[cap]. Bytes in the
 * reason outside printable ASCII are replaced. Returns the length written
 * (always < cap; the reason is truncated to fit). cap must be >= 256.
 */
size_t http1_write_error(char *out, size_t cap, int status, const char *reason);

/*
 * Writes a complete response of our own into out[cap]: the status line,
 * Content-Type and Content-Length (none for 204: RFC 9110 §8.6),
 * Cache-Control: no-store, Connection: close or keep-alive, then the body
 * unless head_only (a reply to HEAD: RFC 9110 §9.3.2). Returns the length
 * written, or 0 when it does not fit.
 */
/*
 * Writes a 407 (RFC 9110 §15.5.8) with "Proxy-Authenticate: Basic
 * realm=REALM, charset=UTF-8" and a text/plain body "sluice: REASON"
 * (the head alone for a HEAD request). realm must hold no '"' or '\\'.
 * Returns the length, or 0 when it does not fit.
 */
size_t http1_write_auth_required(char *out, size_t cap, const char *realm,
				 const char *reason, bool close,
				 bool head_only);

size_t http1_write_response(char *out, size_t cap, int status,
			    const char *content_type, const char *body,
			    size_t body_len, bool close, bool head_only);

#endif
