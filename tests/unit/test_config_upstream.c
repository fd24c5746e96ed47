/*
 * test_config_upstream.c - the parent-proxy directives: upstream-proxy
 * URLs and their credentials, upstream-proxy-for and direct-for names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base64.h"
#include "config/config.h"
#include "config_helpers.h"

/* The Basic credentials cfg sends its parent, decoded; "" for none. */
static void decoded_credentials(const struct config *cfg, char *out, size_t cap)
{
	const char *b64 = cfg->upstream_auth;
	long n;

	out[0] = '\0';
	if (b64[0] == '\0')
		return;
	assert_memory_equal(b64, "Basic ", 6);
	n = base64_decode(b64 + 6, strlen(b64 + 6), (unsigned char *)out,
			  cap - 1);
	assert_true(n >= 0);
	out[n] = '\0';
}

/*
 * upstream-proxy: http:// only, the port required, a name, an IPv4 or an
 * [IPv6] host; the credentials percent-decoded into one Basic value (a
 * ':' in the password kept, none allowed in the user); none by default.
 */
static void reads_parent_proxy_urls(void **state)
{
	static const struct {
		const char *value, *host, *creds;
	} good[] = {
		{"none", "", ""},
		{"http://127.0.0.1:3129", "127.0.0.1:3129", ""},
		{"HTTP://parent.example:8080/", "parent.example:8080", ""},
		{"http://[::1]:3128", "[::1]:3128", ""},
		{"http://alice:s3cret@proxy.example:3128", "proxy.example:3128",
		 "alice:s3cret"},
		{"http://al%69ce:p%40ss%3Aw%25rd@10.0.0.1:3128",
		 "10.0.0.1:3128", "alice:p@ss:w%rd"},
		{"http://a:b:c@p.example:1", "p.example:1", "a:b:c"},
		{"http://bob@p.example:1", "p.example:1", "bob:"},
		{"http://bob:@p.example:1", "p.example:1", "bob:"},
		{"http://x:p@ss@p.example:1", "p.example:1", "x:p@ss"},
	};
	static const struct {
		const char *value, *want;
	} bad[] = {
		{"https://p.example:3128", "only http:// parents"},
		{"socks5://p.example:1080", "is not http://"},
		{"p.example:3128", "is not http://"},
		{"http://p.example", "give the parent's port"},
		{"http://p.example:", "give the parent's port"},
		{"http://[::1]", "give the parent's port"},
		{"http://p.example:0", "is not a port"},
		{"http://p.example:65536", "is not a port"},
		{"http://p.example:12a", "is not a port"},
		{"http://p.example:3128/path", "no path"},
		{"http://p.example:3128?q", "no path"},
		{"http://p..example:3128", "is not a host name"},
		{"http://1.2.3:3128", "is not a host name"},
		{"http://010.0.0.1:3128", "is not a host name"},
		{"http://[::g]:3128", "is not a host name"},
		{"http://:3128", "is not a host name"},
		{"http://@p.example:3128", "bad user name"},
		{"http://a%3Ab:c@p.example:3128", "bad user name"},
		{"http://a%2:c@p.example:3128", "bad user name"},
		{"http://a:%0d%0aX:y@p.example:3128", "bad password"},
	};
	char err[CONFIG_ERR_MAX], creds[600];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct config *cfg = new_config();
		assert_string_equal(cfg->upstream, "");
		if (config_set(cfg, "upstream-proxy", good[i].value,
			       CONFIG_SOURCE_FILE, err) != 0)
			fail_msg("%s: %s", good[i].value, err);
		assert_string_equal(cfg->upstream, good[i].host);
		decoded_credentials(cfg, creds, sizeof(creds));
		assert_string_equal(creds, good[i].creds);
		free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct config *cfg = new_config();
		assert_int_equal(config_set(cfg, "upstream-proxy", bad[i].value,
					    CONFIG_SOURCE_FILE, err),
				 -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: '%s', want '%s'", bad[i].value, err,
				 bad[i].want);
		free(cfg);
	}
}

/*
 * upstream-proxy-for and direct-for keep domain names as list lines (a
 * leading or trailing dot dropped), repeatable, none to empty; a bad name
 * is a file:line error; a flag replaces the file's list.
 */
static void reads_parent_routing_names(void **state)
{
	static const char text[] = "upstream-proxy http://127.0.0.1:3129\n"
				   "upstream-proxy-for corp.example .Intra.\n"
				   "upstream-proxy-for b.example,c.example\n"
				   "direct-for public.corp.example\n";
	static const char *const bad[] = {
		"direct-for 10.0.0.1\n",
		"direct-for a..example\n",
		"direct-for *.example\n",
		"upstream-proxy-for b\xc3\xbc"
		"cher.example\n",
		"upstream-proxy-for http://a.example/\n",
	};
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(cfg->upstream_for.len, 0);
	assert_int_equal(cfg->direct_for.len, 0);
	assert_int_equal(parse_text(cfg, S(text), err), 0);
	assert_string_equal(cfg->upstream, "127.0.0.1:3129");
	assert_int_equal(cfg->upstream_for.len,
			 strlen("corp.example\nIntra\nb.example\nc.example\n"));
	assert_memory_equal(cfg->upstream_for.text,
			    "corp.example\nIntra\nb.example\nc.example\n",
			    cfg->upstream_for.len);
	assert_int_equal(cfg->direct_for.len, strlen("public.corp.example\n"));
	assert_int_equal(config_set(cfg, "direct-for", "x.example",
				    CONFIG_SOURCE_FLAG, err),
			 0);
	assert_memory_equal(cfg->direct_for.text, "x.example\n", 10);
	assert_int_equal(cfg->direct_for.len, 10);
	assert_int_equal(config_set(cfg, "upstream-proxy-for", "none",
				    CONFIG_SOURCE_FLAG, err),
			 0);
	assert_int_equal(cfg->upstream_for.len, 0);
	free(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cfg = new_config();
		assert_int_equal(parse_text(cfg, bad[i], strlen(bad[i]), err),
				 -1);
		if (strstr(err, "test.conf:1: ") != err)
			fail_msg("%s: '%s'", bad[i], err);
		free(cfg);
	}
	/* bounded: the names of one directive fill at most its buffer */
	cfg = new_config();
	for (size_t i = 0; i < 2 * CONFIG_ROUTE_BYTES / 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%05zu.example.org", i);
		if (config_set(cfg, "direct-for", name, CONFIG_SOURCE_FILE,
			       err) < 0)
			break;
	}
	assert_non_null(strstr(err, "more than 8192 bytes of names"));
	assert_true(cfg->direct_for.len <= CONFIG_ROUTE_BYTES);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_parent_proxy_urls),
		cmocka_unit_test(reads_parent_routing_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
