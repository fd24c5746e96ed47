/*
 * test_config.c - the directive table, the file parser and its
 * "file:line: message" diagnostics, and the precedence of defaults, the
 * file and command-line flags. The parent-proxy directives are in
 * test_config_upstream.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "base/addr.h"
#include "config/config.h"
#include "config_helpers.h"

/* Formats cfg's listen list as "a b c". */
static void format_listen(const struct config *cfg, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cfg->n_listen && n < cap; i++) {
		char a[ADDR_TEXT_MAX];
		addr_format((const struct sockaddr *)&cfg->listen[i].addr, a,
			    sizeof(a));
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "",
				      a);
	}
}

static void starts_from_the_documented_defaults(void **state)
{
	struct config *cfg = new_config();
	char listen[256];

	(void)state;
	format_listen(cfg, listen, sizeof(listen));
	assert_string_equal(listen, "127.0.0.1:3128 [::1]:3128");
	assert_int_equal(cfg->workers, 0);
	assert_int_equal(cfg->connect_timeout_ms, 10000);
	assert_int_equal(cfg->tunnel_idle_timeout_ms, 600000);
	assert_int_equal(cfg->header_timeout_ms, 30000);
	assert_int_equal(cfg->shutdown_grace_ms, 10000);
	assert_string_equal(cfg->access_log, "stderr");
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg->hosts_file, "/etc/hosts");
	assert_int_equal(cfg->n_dns, 0);
	assert_int_equal(cfg->response_timeout_ms, 60000);
	assert_int_equal(cfg->keepalive_timeout_ms, 60000);
	assert_false(cfg->x_forwarded_for);
	assert_int_equal(cfg->max_request_line, 8192);
	assert_int_equal(cfg->max_head_bytes, 65536);
	assert_int_equal(cfg->max_header_fields, 100);
	for (unsigned port = 0; port <= 65535; port++)
		assert_int_equal(config_port_allowed(cfg, (uint16_t)port),
				 port == 443);
	free(cfg);
}

/* config_init ignores errors: every default must be a value that parses. */
static void has_a_valid_default_and_help_for_every_directive(void **state)
{
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX];
	size_t n = config_directive_count();

	(void)state;
	assert_true(n > 0);
	assert_null(config_directive_info(n));
	for (size_t i = 0; i < n; i++) {
		const struct directive_info *d = config_directive_info(i);

		assert_non_null(d);
		assert_non_null(d->name);
		assert_non_null(d->arg);
		assert_non_null(d->def);
		assert_non_null(d->help);
		assert_null(strchr(d->help, '\n'));
		assert_int_equal(
			d->repeatable,
			strcmp(d->name, "listen") == 0 ||
				strcmp(d->name, "blocklist") == 0 ||
				strcmp(d->name, "allowlist") == 0 ||
				strcmp(d->name, "allow") == 0 ||
				strcmp(d->name, "deny") == 0 ||
				strcmp(d->name, "allow-dest") == 0 ||
				strcmp(d->name, "deny-dest") == 0 ||
				strcmp(d->name, "upstream-proxy-for") == 0 ||
				strcmp(d->name, "direct-for") == 0);
		if (config_set(cfg, d->name, d->def, CONFIG_SOURCE_DEFAULT,
			       err) != 0)
			fail_msg("default of %s: %s", d->name, err);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(d->name,
						config_directive_info(j)->name);
	}
	free(cfg);
}

struct listen_step {
	enum config_source source;
	const char *value;
};

/*
 * listen is repeatable: the file's first listen replaces the default, and
 * the first flag replaces the file's list; within one source they add up.
 */
static void replaces_listen_lists_by_source(void **state)
{
	static const struct {
		const char *why;
		struct listen_step steps[4];
		const char *want;
	} cases[] = {
		{"default", {{0}}, "127.0.0.1:3128 [::1]:3128"},
		{"the file replaces the default",
		 {{CONFIG_SOURCE_FILE, "10.0.0.1:80"}},
		 "10.0.0.1:80"},
		{"file lines add up",
		 {{CONFIG_SOURCE_FILE, "10.0.0.1:80"},
		  {CONFIG_SOURCE_FILE, "[::1]:81"}},
		 "10.0.0.1:80 [::1]:81"},
		{"one line may list several",
		 {{CONFIG_SOURCE_FILE, "10.0.0.1:80, 10.0.0.2:80\t*:82"}},
		 "10.0.0.1:80 10.0.0.2:80 0.0.0.0:82"},
		{"a flag replaces the file",
		 {{CONFIG_SOURCE_FILE, "10.0.0.1:80"},
		  {CONFIG_SOURCE_FILE, "10.0.0.2:80"},
		  {CONFIG_SOURCE_FLAG, "127.0.0.1:0"}},
		 "127.0.0.1:0"},
		{"flags add up",
		 {{CONFIG_SOURCE_FILE, "10.0.0.1:80"},
		  {CONFIG_SOURCE_FLAG, "127.0.0.1:1"},
		  {CONFIG_SOURCE_FLAG, "127.0.0.1:2"}},
		 "127.0.0.1:1 127.0.0.1:2"},
		{"a flag replaces the default",
		 {{CONFIG_SOURCE_FLAG, "[::]:3128"}},
		 "[::]:3128"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX], got[512];

		for (size_t s = 0; s < 4 && cases[i].steps[s].value; s++) {
			const struct listen_step *st = &cases[i].steps[s];
			if (config_set(cfg, "listen", st->value, st->source,
				       err) != 0)
				fail_msg("%s: %s", cases[i].why, err);
		}
		format_listen(cfg, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: '%s', want '%s'", cases[i].why, got,
				 cases[i].want);
		free(cfg);
	}
}

static void bounds_the_listen_list(void **state)
{
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX], value[32];

	(void)state;
	for (int i = 0; i < CONFIG_MAX_LISTEN; i++) {
		snprintf(value, sizeof(value), "127.0.0.1:%d", 1000 + i);
		assert_int_equal(config_set(cfg, "listen", value,
					    CONFIG_SOURCE_FILE, err),
				 0);
	}
	assert_int_equal(cfg->n_listen, CONFIG_MAX_LISTEN);
	assert_int_equal(config_set(cfg, "listen", "127.0.0.1:1",
				    CONFIG_SOURCE_FILE, err),
			 -1);
	assert_string_equal(err, "listen: more than 16 addresses");
	assert_int_equal(cfg->n_listen, CONFIG_MAX_LISTEN);
	free(cfg);
}

/* "500ms", "10s", "2min"/"2m", "1h"; a bare number is seconds. */
static void reads_durations_with_units(void **state)
{
	static const struct {
		const char *name;
		const char *value;
		int64_t want_ms; /* -1: refused */
	} cases[] = {
		{"tunnel-idle-timeout", "500ms", 500},
		{"tunnel-idle-timeout", "10s", 10000},
		{"tunnel-idle-timeout", "10sec", 10000},
		{"tunnel-idle-timeout", "2min", 120000},
		{"tunnel-idle-timeout", "2m", 120000},
		{"tunnel-idle-timeout", "1h", 3600000},
		{"tunnel-idle-timeout", "30", 30000},
		{"tunnel-idle-timeout", "1ms", 1},
		{"tunnel-idle-timeout", "168h", 604800000}, /* a week */
		{"tunnel-idle-timeout", "169h", -1},
		{"tunnel-idle-timeout", "0", -1},
		{"tunnel-idle-timeout", "0ms", -1},
		{"tunnel-idle-timeout", "", -1},
		{"tunnel-idle-timeout", "s", -1},
		{"tunnel-idle-timeout", "1.5s", -1},
		{"tunnel-idle-timeout", "10 s", -1},
		{"tunnel-idle-timeout", " 10s", -1},
		{"tunnel-idle-timeout", "-1s", -1},
		{"tunnel-idle-timeout", "+1s", -1},
		{"tunnel-idle-timeout", "10S", -1},
		{"tunnel-idle-timeout", "10d", -1},
		{"tunnel-idle-timeout", "10mss", -1},
		{"tunnel-idle-timeout", "0x10", -1},
		{"tunnel-idle-timeout", "18446744073709551615", -1},
		{"tunnel-idle-timeout", "99999999999999999999999", -1},
		{"tunnel-idle-timeout", "18446744073709551h", -1},
		{"connect-timeout", "10min", 600000},
		{"connect-timeout", "601s", -1},
		{"connect-timeout", "1ms", 1},
		{"header-timeout", "1h", 3600000},
		{"header-timeout", "3601s", -1},
		{"header-timeout", "0s", -1},
		{"shutdown-grace", "0", 0},
		{"shutdown-grace", "60min", 3600000},
		{"shutdown-grace", "61m", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX];
		int rc = config_set(cfg, cases[i].name, cases[i].value,
				    CONFIG_SOURCE_FLAG, err);
		uint64_t got = 0;

		if (strcmp(cases[i].name, "tunnel-idle-timeout") == 0)
			got = cfg->tunnel_idle_timeout_ms;
		else if (strcmp(cases[i].name, "connect-timeout") == 0)
			got = cfg->connect_timeout_ms;
		else if (strcmp(cases[i].name, "header-timeout") == 0)
			got = cfg->header_timeout_ms;
		else
			got = cfg->shutdown_grace_ms;
		if (cases[i].want_ms < 0 && rc != -1)
			fail_msg("%s '%s' accepted as %llu ms", cases[i].name,
				 cases[i].value, (unsigned long long)got);
		if (cases[i].want_ms >= 0 &&
		    (rc != 0 || got != (uint64_t)cases[i].want_ms))
			fail_msg("%s '%s': rc %d, %llu ms: %s", cases[i].name,
				 cases[i].value, rc, (unsigned long long)got,
				 rc ? err : "");
		free(cfg);
	}
}

/* Sizes: bytes, or k/K/KiB and m/M/MiB (binary); the HTTP limits. */
static void reads_sizes_and_http_limits(void **state)
{
	static const struct {
		const char *name;
		const char *value;
		int64_t want; /* -1: refused */
	} cases[] = {
		{"max-head-size", "65536", 65536},
		{"max-head-size", "64k", 65536},
		{"max-head-size", "64K", 65536},
		{"max-head-size", "64KiB", 65536},
		{"max-head-size", "1M", 1048576},
		{"max-head-size", "1MiB", 1048576},
		{"max-head-size", "1m", 1048576},
		{"max-head-size", "1023", -1}, /* below 1 KiB */
		{"max-head-size", "2M", -1},   /* above 1 MiB */
		{"max-head-size", "64kb", -1},
		{"max-head-size", "64 KiB", -1},
		{"max-head-size", "", -1},
		{"max-head-size", "-1", -1},
		{"max-request-line", "8KiB", 8192},
		{"max-request-line", "64", 64},
		{"max-request-line", "63", -1},
		{"max-header-fields", "100", 100},
		{"max-header-fields", "256", 256},
		{"max-header-fields", "257", -1},
		{"max-header-fields", "0", -1},
		{"response-timeout", "2s", 2000},
		{"keepalive-timeout", "5min", 300000},
		{"x-forwarded-for", "on", 1},
		{"x-forwarded-for", "off", 0},
		{"x-forwarded-for", "yes", -1},
		{"x-forwarded-for", "ON", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX];
		int rc = config_set(cfg, cases[i].name, cases[i].value,
				    CONFIG_SOURCE_FLAG, err);
		uint64_t got;

		if (strcmp(cases[i].name, "max-head-size") == 0)
			got = cfg->max_head_bytes;
		else if (strcmp(cases[i].name, "max-request-line") == 0)
			got = cfg->max_request_line;
		else if (strcmp(cases[i].name, "max-header-fields") == 0)
			got = cfg->max_header_fields;
		else if (strcmp(cases[i].name, "response-timeout") == 0)
			got = cfg->response_timeout_ms;
		else if (strcmp(cases[i].name, "keepalive-timeout") == 0)
			got = cfg->keepalive_timeout_ms;
		else
			got = cfg->x_forwarded_for;
		if (cases[i].want < 0 && rc != -1)
			fail_msg("%s '%s' accepted as %llu", cases[i].name,
				 cases[i].value, (unsigned long long)got);
		if (cases[i].want >= 0 &&
		    (rc != 0 || got != (uint64_t)cases[i].want))
			fail_msg("%s '%s': rc %d, got %llu: %s", cases[i].name,
				 cases[i].value, rc, (unsigned long long)got,
				 rc ? err : "");
		free(cfg);
	}
}

static void reads_connect_port_lists_and_ranges(void **state)
{
	static const struct {
		const char *value;
		const char *allowed; /* every allowed port, or NULL: refused */
	} cases[] = {
		{"443", "443"},
		{"443 8443", "443 8443"},
		{"443,8443", "443 8443"},
		{" 443 ,\t8443, ", "443 8443"},
		{"8440-8443", "8440 8441 8442 8443"},
		{"1-3 65535", "1 2 3 65535"},
		{"5-5", "5"},
		{"443 443", "443"},
		{"0", NULL},
		{"65536", NULL},
		{"443 0", NULL},
		{"3-1", NULL},
		{"1-", NULL},
		{"-1", NULL},
		{"1--2", NULL},
		{"1-2-3", NULL},
		{"https", NULL},
		{"44a", NULL},
		{"", NULL},
		{" , ", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX], got[128] = "";
		size_t n = 0;
		int rc = config_set(cfg, "connect-ports", cases[i].value,
				    CONFIG_SOURCE_FILE, err);

		if (cases[i].allowed == NULL) {
			if (rc != -1)
				fail_msg("'%s' accepted", cases[i].value);
			assert_true(strncmp(err, "connect-ports: ", 15) == 0);
			free(cfg);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s': %s", cases[i].value, err);
		for (unsigned port = 0; port <= 65535; port++) {
			if (config_port_allowed(cfg, (uint16_t)port) &&
			    n < sizeof(got))
				n += (size_t)snprintf(got + n, sizeof(got) - n,
						      "%s%u", n ? " " : "",
						      port);
		}
		if (strcmp(got, cases[i].allowed) != 0)
			fail_msg("'%s': allows '%s', want '%s'", cases[i].value,
				 got, cases[i].allowed);
		free(cfg);
	}
}

static void reads_log_levels_workers_paths_and_dns(void **state)
{
	static const struct {
		const char *name;
		const char *value;
		int ok;
	} cases[] = {
		{"log-level", "debug", 1},
		{"log-level", "info", 1},
		{"log-level", "warn", 1},
		{"log-level", "error", 1},
		{"log-level", "DEBUG", 0},
		{"log-level", "warning", 0},
		{"log-level", "", 0},
		{"workers", "0", 1},
		{"workers", "64", 1},
		{"workers", "65", 0},
		{"workers", "-1", 0},
		{"workers", "4x", 0},
		{"workers", "", 0},
		{"access-log", "off", 1},
		{"access-log", "/var/log/sluice access.log", 1},
		{"access-log", "", 0},
		{"hosts-file", "/etc/hosts", 1},
		{"dns", "system", 1},
		{"dns", "192.0.2.53", 1},
		{"dns", "192.0.2.53:5353 [2001:db8::53]:53 ::1 [::1]", 1},
		{"dns", "resolver.example", 0},
		{"dns", "192.0.2.53:", 0},
		{"dns", "*:53", 0},
		{"dns", "*", 0},
		{"dns",
		 "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 "
		 "7.7.7.7 8.8.8.8",
		 1},
		{"dns",
		 "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 "
		 "7.7.7.7 8.8.8.8 9.9.9.9",
		 0},
		{"no-such-directive", "1", 0},
		{"", "1", 0},
		{"listen ", "127.0.0.1:1", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX];
		int rc = config_set(cfg, cases[i].name, cases[i].value,
				    CONFIG_SOURCE_FLAG, err);

		if (rc != (cases[i].ok ? 0 : -1))
			fail_msg("%s '%s': rc %d (%s)", cases[i].name,
				 cases[i].value, rc, rc ? err : "");
		free(cfg);
	}
}

static void applies_a_whole_file(void **state)
{
	static const char text[] = "# sluice.conf\n"
				   "\n"
				   "listen 127.0.0.1:8080   # loopback only\n"
				   "listen\t[::1]:8080\r\n"
				   "   workers 4\n"
				   "connect-ports 443, 8443 9000-9001\n"
				   "connect-timeout 500ms\n"
				   "tunnel-idle-timeout 2m\n"
				   "header-timeout 15\n"
				   "shutdown-grace 1h\n"
				   "access-log /var/log/sluice/a#1.log\n"
				   "log-level debug\n"
				   "hosts-file /etc/hosts.sluice\n"
				   "dns 192.0.2.53\n"
				   "#workers 8\n"
				   "\t# indented comment\n"
				   "log-level warn"; /* no final newline */
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX], listen[256];

	(void)state;
	if (parse_text(cfg, text, sizeof(text) - 1, err) != 0)
		fail_msg("%s", err);
	format_listen(cfg, listen, sizeof(listen));
	assert_string_equal(listen, "127.0.0.1:8080 [::1]:8080");
	assert_int_equal(cfg->workers, 4);
	assert_true(config_port_allowed(cfg, 443));
	assert_true(config_port_allowed(cfg, 8443));
	assert_true(config_port_allowed(cfg, 9000));
	assert_true(config_port_allowed(cfg, 9001));
	assert_false(config_port_allowed(cfg, 80));
	assert_false(config_port_allowed(cfg, 9002));
	assert_int_equal(cfg->connect_timeout_ms, 500);
	assert_int_equal(cfg->tunnel_idle_timeout_ms, 120000);
	assert_int_equal(cfg->header_timeout_ms, 15000);
	assert_int_equal(cfg->shutdown_grace_ms, 3600000);
	assert_string_equal(cfg->access_log, "/var/log/sluice/a#1.log");
	assert_int_equal(cfg->log_level, LOG_LEVEL_WARN);
	assert_string_equal(cfg->hosts_file, "/etc/hosts.sluice");
	assert_int_equal(cfg->n_dns, 1);
	free(cfg);
}

static void reports_errors_as_file_line_message(void **state)
{
	static char long_line[CONFIG_PATH_MAX + 300];
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} cases[] = {
		{S("bogus 1\n"), "test.conf:1: unknown directive 'bogus'"},
		{S("\n# c\n\nworkers\n"),
		 "test.conf:4: workers: missing value (N)"},
		{S("workers   \t\n"),
		 "test.conf:1: workers: missing value (N)"},
		{S("workers # four\n"),
		 "test.conf:1: workers: missing value (N)"},
		{S("workers 65\n"),
		 "test.conf:1: workers: '65' is not a number in 0..64"},
		{S("workers 4#four\n"),
		 "test.conf:1: workers: '4#four' is not a number in 0..64"},
		{S("workers 1\nworkers 2\nworkers x\nworkers 3\n"),
		 "test.conf:3: workers: 'x' is not a number in 0..64"},
		{S("workers 1\r\nbogus\r\n"),
		 "test.conf:2: unknown directive 'bogus'"},
		{S("Workers 1\n"), "test.conf:1: unknown directive 'Workers'"},
		{S("connect-timeout 0\n"),
		 "test.conf:1: connect-timeout: '0' is out of range "
		 "(1ms..600000ms)"},
		{S("connect-timeout 10x\n"),
		 "test.conf:1: connect-timeout: '10x' is not a duration (like "
		 "500ms, 10s, 5min, 1h)"},
		{S("log-level verbose\n"),
		 "test.conf:1: log-level: 'verbose' is not one of debug, info, "
		 "warn, error"},
		{S("listen 1.2.3.4\n"),
		 "test.conf:1: listen: '1.2.3.4' is not ADDR:PORT (IPv6 as "
		 "[::1]:3128)"},
		{S("connect-ports 443 2-1\n"),
		 "test.conf:1: connect-ports: '2-1' is not a port (1-65535) or "
		 "a range LOW-HIGH"},
		{S("connect-ports ,\n"),
		 "test.conf:1: connect-ports: needs at least one port"},
		{S("workers 1\nworkers 2\0\n"), "test.conf:2: NUL byte"},
		{S("\0"), "test.conf:1: NUL byte"},
		{long_line, sizeof(long_line), "test.conf:1: line too long"},
	};

	(void)state;
	memset(long_line, 'a', sizeof(long_line));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX];
		int rc = parse_text(cfg, cases[i].text, cases[i].len, err);

		if (rc != -1 || strcmp(err, cases[i].want) != 0)
			fail_msg("'%.40s': rc %d, '%s', want '%s'",
				 cases[i].text, rc, err, cases[i].want);
		free(cfg);
	}
}

static void accepts_files_with_nothing_to_say(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} cases[] = {
		{S("")},	   {S("\n")},
		{S("\n\n\n")},	   {S("# only a comment")},
		{S("   \t \r\n")}, {S("#listen 1.2.3.4\n  # workers x\n")},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = new_config();
		char err[CONFIG_ERR_MAX], listen[64];

		if (parse_text(cfg, cases[i].text, cases[i].len, err) != 0)
			fail_msg("'%s': %s", cases[i].text, err);
		format_listen(cfg, listen, sizeof(listen));
		assert_string_equal(listen, "127.0.0.1:3128 [::1]:3128");
		free(cfg);
	}
}

/* A long file name or value is cut, but the message stays a C string. */
static void keeps_messages_within_the_buffer(void **state)
{
	char name[2000], value[3000], text[600], err[CONFIG_ERR_MAX];
	struct config *cfg = new_config();

	(void)state;
	memset(name, 'f', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(value, '9', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	assert_int_equal(
		config_set(cfg, "workers", value, CONFIG_SOURCE_FLAG, err), -1);
	assert_true(strlen(err) < CONFIG_ERR_MAX);
	assert_int_equal(config_set(cfg, name, "1", CONFIG_SOURCE_FLAG, err),
			 -1);
	assert_true(strlen(err) < CONFIG_ERR_MAX);

	snprintf(text, sizeof(text), "log-level %.500s\n", value);
	assert_int_equal(config_parse(cfg, text, strlen(text), name, err), -1);
	assert_true(strlen(err) < CONFIG_ERR_MAX);
	assert_true(strncmp(err, "ffff", 4) == 0);
	free(cfg);
}

/* Formats cfg's lists as "b:SOURCE[:exact]@WHERE a:..." in order. */
static void format_lists(const struct config *cfg, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cfg->n_lists && n < cap; i++) {
		const struct config_list *l = &cfg->lists[i];
		n += (size_t)snprintf(out + n, cap - n, "%s%c:%s%s@%s",
				      i ? " " : "", l->allow ? 'a' : 'b',
				      l->source, l->exact ? ":exact" : "",
				      l->where);
	}
}

/*
 * blocklist and allowlist are repeatable and keep their order; the file's
 * first blocklist replaces the built-in one, a flag replaces the file's,
 * "none" empties them, and each list remembers where it was written.
 */
static void reads_blocklists_in_order_with_their_origin(void **state)
{
	static const char text[] = "blocklist /a.hosts\n"
				   "allowlist /ok.txt exact\n"
				   "blocklist /lists/*.txt exact\n"
				   "block-response 204\n"
				   "blocklist-refresh 6h\n";
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX], got[1024];

	(void)state;
	format_lists(cfg, got, sizeof(got));
	assert_string_equal(got, "b:builtin@default");
	assert_false(config_blocking_off(cfg));
	assert_int_equal(cfg->block_response, BLOCK_RESPONSE_403);
	assert_int_equal(parse_text(cfg, S(text), err), 0);
	format_lists(cfg, got, sizeof(got));
	assert_string_equal(got, "b:/a.hosts@test.conf:1 "
				 "a:/ok.txt:exact@test.conf:2 "
				 "b:/lists/*.txt:exact@test.conf:3");
	assert_int_equal(cfg->block_response, BLOCK_RESPONSE_204);
	assert_int_equal(cfg->blocklist_refresh_ms, 6 * 3600 * 1000);

	/* a flag replaces the file's blocklists, and keeps its allowlists */
	assert_int_equal(config_set(cfg, "blocklist", "https://x.test/l.txt",
				    CONFIG_SOURCE_FLAG, err),
			 0);
	format_lists(cfg, got, sizeof(got));
	assert_string_equal(got, "a:/ok.txt:exact@test.conf:2 "
				 "b:https://x.test/l.txt@--blocklist");
	assert_int_equal(
		config_set(cfg, "blocklist", "none", CONFIG_SOURCE_FLAG, err),
		0);
	assert_true(config_blocking_off(cfg));
	free(cfg);
}

static void refuses_bad_list_lines(void **state)
{
	static const char *const bad[] = {
		"blocklist\n",
		"blocklist /a exactly\n",
		"blocklist /a exact more\n",
		"allowlist builtin\n",
		"block-response 404\n",
		"blocklist-refresh 500ms\n",
	};
	char err[CONFIG_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct config *cfg = new_config();
		assert_int_equal(parse_text(cfg, bad[i], strlen(bad[i]), err),
				 -1);
		assert_non_null(strstr(err, "test.conf:1: "));
		free(cfg);
	}
}

/*
 * access-log-format takes one of four layouts; error-log stderr, syslog or
 * a path, never off (a failing proxy must be able to say why).
 */
static void reads_log_formats_and_destinations(void **state)
{
	static const char text[] = "access-log-format json\n"
				   "error-log /var/log/sluice/error.log\n";
	static const char *const bad[] = {
		"access-log-format apache\n", "access-log-format JSON\n",
		"access-log-format\n",	      "error-log off\n",
		"error-log none\n",	      "error-log\n",
	};
	struct config *cfg = new_config();
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(cfg->access_log_format, ACCESS_LOG_SLUICE);
	assert_string_equal(cfg->error_log, "stderr");
	assert_int_equal(parse_text(cfg, S(text), err), 0);
	assert_int_equal(cfg->access_log_format, ACCESS_LOG_JSON);
	assert_string_equal(cfg->error_log, "/var/log/sluice/error.log");
	assert_int_equal(config_set(cfg, "access-log-format", "squid",
				    CONFIG_SOURCE_FLAG, err),
			 0);
	assert_int_equal(cfg->access_log_format, ACCESS_LOG_SQUID);
	assert_int_equal(config_set(cfg, "access-log-format", "combined",
				    CONFIG_SOURCE_FLAG, err),
			 0);
	assert_int_equal(cfg->access_log_format, ACCESS_LOG_COMBINED);
	assert_int_equal(
		config_set(cfg, "error-log", "syslog", CONFIG_SOURCE_FLAG, err),
		0);
	assert_string_equal(cfg->error_log, "syslog");
	assert_int_equal(config_set(cfg, "error-log", "/tmp/a\tb",
				    CONFIG_SOURCE_FLAG, err),
			 -1);
	free(cfg);

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cfg = new_config();
		assert_int_equal(parse_text(cfg, bad[i], strlen(bad[i]), err),
				 -1);
		assert_non_null(strstr(err, "test.conf:1: "));
		free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_from_the_documented_defaults),
		cmocka_unit_test(
			has_a_valid_default_and_help_for_every_directive),
		cmocka_unit_test(replaces_listen_lists_by_source),
		cmocka_unit_test(bounds_the_listen_list),
		cmocka_unit_test(reads_durations_with_units),
		cmocka_unit_test(reads_sizes_and_http_limits),
		cmocka_unit_test(reads_connect_port_lists_and_ranges),
		cmocka_unit_test(reads_log_levels_workers_paths_and_dns),
		cmocka_unit_test(applies_a_whole_file),
		cmocka_unit_test(reports_errors_as_file_line_message),
		cmocka_unit_test(accepts_files_with_nothing_to_say),
		cmocka_unit_test(keeps_messages_within_the_buffer),
		cmocka_unit_test(reads_blocklists_in_order_with_their_origin),
		cmocka_unit_test(refuses_bad_list_lines),
		cmocka_unit_test(reads_log_formats_and_destinations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
