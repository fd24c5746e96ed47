/*
 * config_helpers.h - what the config unit tests share: a fresh config,
 * and text parsed from an exactly-sized heap copy. Included by
 * test_config.c and test_config_upstream.c only.
 */
#ifndef SLUICE_TESTS_CONFIG_HELPERS_H
#define SLUICE_TESTS_CONFIG_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static inline struct config *new_config(void)
{
	struct config *cfg = malloc(sizeof(*cfg));

	assert_non_null(cfg);
	config_init(cfg);
	return cfg;
}

/* Parses text from an exactly-sized heap copy (ASan checks the bound). */
static inline int parse_text(struct config *cfg, const char *text, size_t len,
			     char *err)
{
	char *copy = malloc(len + 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(err, 'x', CONFIG_ERR_MAX);
	err[CONFIG_ERR_MAX - 1] = '\0';
	rc = config_parse(cfg, copy, len, "test.conf", err);
	free(copy);
	return rc;
}

#endif
