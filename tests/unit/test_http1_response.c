/*
 * test_http1_response.c - the error replies sluice writes itself: a
 * complete, well-framed response that always fits the caller's buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http1_framing.h"
#include "http/http1_request.h"
#include "http/http1_response.h"

#define R10  "reason...."
#define R100 R10 R10 R10 R10 R10 R10 R10 R10 R10 R10

/*
 * Checks out[0..len) is one response: status line, the three fields, a
 * blank line and a body of exactly Content-Length bytes; returns the body.
 */
static const char *check_framing(const char *out, size_t len, int status,
				 size_t *body_len)
{
	char status_line[64];
	const char *blank = strstr(out, "\r\n\r\n");
	const char *cl = strstr(out, "\r\nContent-Length: ");
	unsigned long n;

	assert_int_equal(strlen(out), len); /* NUL-terminated, no NUL inside */
	snprintf(status_line, sizeof(status_line), "HTTP/1.1 %03d %s\r\n",
		 status, http_status_text(status));
	assert_memory_equal(out, status_line, strlen(status_line));
	assert_non_null(strstr(out, "\r\nContent-Type: text/plain"));
	assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
	assert_non_null(blank);
	assert_non_null(cl);
	assert_true(cl < blank);
	n = strtoul(cl + strlen("\r\nContent-Length: "), NULL, 10);
	*body_len = len - (size_t)(blank + 4 - out);
	assert_int_equal(n, *body_len);
	return blank + 4;
}

static void writes_status_reason_and_body(void **state)
{
	static const struct {
		int status;
		const char *reason;
		const char *body;
	} cases[] = {
		{400, "invalid method", "sluice: invalid method\n"},
		{403, "port 25 not allowed", "sluice: port 25 not allowed\n"},
		{407, "", "sluice: \n"},
		{414, "request line too long",
		 "sluice: request line too long\n"},
		{431, "too many header fields",
		 "sluice: too many header fields\n"},
		{502, "connection refused", "sluice: connection refused\n"},
		{504, "connect timed out", "sluice: connect timed out\n"},
		{505, "HTTP/2.0", "sluice: HTTP/2.0\n"},
		/* bytes that could break the framing are replaced */
		{400, "a\r\nSet-Cookie: x", "sluice: a??Set-Cookie: x\n"},
		{400, "tab\there", "sluice: tab?here\n"},
		{400, "caf\xc3\xa9 \x7f", "sluice: caf?? ?\n"},
	};
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t body_len;
		size_t len = http1_write_error(
			out, sizeof(out), cases[i].status, cases[i].reason);
		const char *body =
			check_framing(out, len, cases[i].status, &body_len);

		assert_string_equal(body, cases[i].body);
	}
}

static void names_every_status_sluice_sends(void **state)
{
	static const struct {
		int status;
		const char *text;
	} cases[] = {
		{200, "OK"},
		{400, "Bad Request"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{407, "Proxy Authentication Required"},
		{408, "Request Timeout"},
		{411, "Length Required"},
		{413, "Content Too Large"},
		{414, "URI Too Long"},
		{417, "Expectation Failed"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
		{505, "HTTP Version Not Supported"},
		{418, "Error"},
		{0, "Error"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(http_status_text(cases[i].status),
				    cases[i].text);
}

/* Every status the request parser can ask for has a name of its own. */
static void names_every_parser_status(void **state)
{
	(void)state;
	for (int code = HTTP1_ERR_BARE_LF; code <= HTTP1_ERR_HEAD_TOO_LARGE;
	     code++) {
		int status = http1_err_status((enum http1_err)code);
		assert_string_not_equal(http_status_text(status), "Error");
	}
}

/* And every status the framing rules ask for. */
static void names_every_framing_status(void **state)
{
	(void)state;
	for (int err = HTTP1_FRAMING_NO_HOST; err <= HTTP1_FRAMING_BAD_EXPECT;
	     err++) {
		int status = http1_framing_status((enum http1_framing_err)err);
		assert_string_not_equal(http_status_text(status), "Error");
	}
}

static void truncates_the_reason_to_fit(void **state)
{
	static const struct {
		size_t cap;
		int status;
		const char *reason;
	} cases[] = {
		{256, 431, R100 R100 R100},
		{256, 505, R100 R100 R100},
		{256, 400, R100},
		{257, 431, R100 R100},
		{300, 431, R100 R100 R100},
		{512, 431, R100 R100 R100},
		{4096, 502, R100 R100 R100 R100 R100},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = malloc(cases[i].cap); /* ASan checks the bound */
		size_t body_len;
		const char *body;
		size_t len;

		assert_non_null(out);
		len = http1_write_error(out, cases[i].cap, cases[i].status,
					cases[i].reason);
		if (len == 0 || len >= cases[i].cap)
			fail_msg("cap %zu status %d: wrote %zu", cases[i].cap,
				 cases[i].status, len);
		body = check_framing(out, len, cases[i].status, &body_len);
		assert_memory_equal(body, "sluice: reason", 14);
		assert_int_equal(body[body_len - 1], '\n');
		assert_memory_equal(body + 8, cases[i].reason, body_len - 9);
		free(out);
	}
}

static void writes_the_connect_success_line(void **state)
{
	(void)state;
	assert_string_equal(HTTP1_CONNECT_OK,
			    "HTTP/1.1 200 Connection Established\r\n\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_status_reason_and_body),
		cmocka_unit_test(names_every_status_sluice_sends),
		cmocka_unit_test(names_every_parser_status),
		cmocka_unit_test(names_every_framing_status),
		cmocka_unit_test(truncates_the_reason_to_fit),
		cmocka_unit_test(writes_the_connect_success_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
