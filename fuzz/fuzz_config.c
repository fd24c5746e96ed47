/*
 * fuzz_config.c - config_parse, and config_set with every directive, on
 * arbitrary text.
 *
 * Must not crash; returns 0 or -1; the diagnostic is always a C string
 * inside CONFIG_ERR_MAX, and a file error names "file:line:". A config that
 * parsed holds only values within the directive table's bounds. abort() on
 * any violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_err(const char *err)
{
	check(memchr(err, '\0', CONFIG_ERR_MAX) != NULL);
}

static void check_values(const struct config *cfg)
{
	check(cfg->n_listen >= 1 && cfg->n_listen <= CONFIG_MAX_LISTEN);
	check(cfg->workers <= CONFIG_MAX_WORKERS);
	check(cfg->connect_timeout_ms >= 1);
	check(cfg->tunnel_idle_timeout_ms >= 1);
	check(cfg->header_timeout_ms >= 1);
	check(cfg->log_level >= LOG_LEVEL_DEBUG &&
	      cfg->log_level <= LOG_LEVEL_ERROR);
	check(memchr(cfg->access_log, '\0', CONFIG_PATH_MAX) != NULL);
	check(memchr(cfg->hosts_file, '\0', CONFIG_PATH_MAX) != NULL);
	check(cfg->access_log[0] != '\0' && cfg->hosts_file[0] != '\0');
	check(cfg->n_dns <= CONFIG_MAX_DNS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char file[] = "fuzz.conf";
	struct config *cfg = malloc(sizeof(*cfg));
	char *text = malloc(size + 1);
	char err[CONFIG_ERR_MAX];
	int rc;

	check(cfg != NULL && text != NULL);
	config_init(cfg);
	memcpy(text, data, size);

	memset(err, 'x', sizeof(err));
	rc = config_parse(cfg, text, size, file, err);
	check(rc == 0 || rc == -1);
	if (rc == -1) {
		check_err(err);
		check(strncmp(err, "fuzz.conf:", strlen("fuzz.conf:")) == 0);
	} else {
		check_values(cfg);
	}

	/* The same bytes as a flag's value, for each directive. */
	text[size] = '\0';
	for (size_t i = 0; i < config_directive_count(); i++) {
		const struct directive_info *d = config_directive_info(i);

		config_init(cfg);
		memset(err, 'x', sizeof(err));
		rc = config_set(cfg, d->name, text, CONFIG_SOURCE_FLAG, err);
		check(rc == 0 || rc == -1);
		if (rc == -1)
			check_err(err);
		else
			check_values(cfg);
	}
	free(text);
	free(cfg);
	return 0;
}
