/*
 * http1_response.c - see http1_response.h.
 */
#include "http/http1_response.h"

#include <stdio.h>
#include <string.h>

const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

size_t http1_write_error(char *out, size_t cap, int status, const char *reason)
{
	char body[192];
	size_t n = 0;
	int head;

	n = (size_t)snprintf(body, sizeof(body), "sluice: ");
	for (const char *p = reason; *p != '\0' && n < sizeof(body) - 2; p++) {
		unsigned char c = (unsigned char)*p;
		body[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	body[n++] = '\n';
	body[n] = '\0';
	for (;;) {
		head = snprintf(out, cap,
				"HTTP/1.1 %03d %s\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Length: %zu\r\n"
				"Connection: close\r\n"
				"\r\n",
				status, http_status_text(status), n);
		if (head < 0 || (size_t)head + 2 >= cap)
			return 0;
		if ((size_t)head + n < cap)
			break;
		/* cut the reason; fewer Content-Length digits only help */
		n = cap - 1 - (size_t)head;
		body[n - 1] = '\n';
	}
	memcpy(out + head, body, n);
	out[(size_t)head + n] = '\0';
	return (size_t)head + n;
}

size_t http1_write_response(char *out, size_t cap, int status,
			    const char *content_type, const char *body,
			    size_t body_len, bool close, bool head_only)
{
	int head;

	if (status == 204)
		head = snprintf(out, cap,
				"HTTP/1.1 204 No Content\r\n"
				"Cache-Control: no-store\r\n"
				"Connection: %s\r\n"
				"\r\n",
				close ? "close" : "keep-alive");
	else
		head = snprintf(out, cap,
				"HTTP/1.1 %03d %s\r\n"
				"Content-Type: %s\r\n"
				"Content-Length: %zu\r\n"
				"Cache-Control: no-store\r\n"
				"Connection: %s\r\n"
				"\r\n",
				status, http_status_text(status), content_type,
				body_len, close ? "close" : "keep-alive");
	if (head < 0 || (size_t)head >= cap)
		return 0;
	if (status == 204 || head_only)
		return (size_t)head;
	if ((size_t)head + body_len > cap)
		return 0;
	memcpy(out + head, body, body_len);
	return (size_t)head + body_len;
}

size_t http1_write_auth_required(char *out, size_t cap, const char *realm,
				 const char *reason, bool close, bool head_only)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 407 Proxy Authentication Required\r\n"
			 "Proxy-Authenticate: Basic realm=\"%s\", "
			 "charset=\"UTF-8\"\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: %s\r\n"
			 "\r\n"
			 "%s%s%s",
			 realm, strlen(reason) + 9,
			 close ? "close" : "keep-alive",
			 head_only ? "" : "sluice: ", head_only ? "" : reason,
			 head_only ? "" : "\n");

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
