/*
 * config_value.h - the directive table's setters: each parses one
 * directive's value text into struct config. Internal to the config layer;
 * config.c holds the table that names them. Pure.
 */
#ifndef SLUICE_CONFIG_CONFIG_VALUE_H
#define SLUICE_CONFIG_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define DURATION_MAX_MS (7ULL * 24 * 3600 * 1000) /* a week */

/*
 * Parses value into cfg. reset: a stronger source begins a repeatable
 * directive's list anew. On error returns -1 with a message (no location)
 * in err[CONFIG_ERR_MAX].
 */
typedef int (*setter_fn)(struct config *cfg, const struct directive_info *d,
			 const char *value, bool reset, char *err);

struct directive {
	struct directive_info info;
	setter_fn set;
	size_t offset;	   /* of the field in struct config */
	uint64_t min, max; /* for numbers and durations (ms) */
};

int setter_listen(struct config *, const struct directive_info *, const char *,
		  bool, char *);
int setter_uint(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_admin(struct config *, const struct directive_info *, const char *,
		 bool, char *);
int setter_cidr_list(struct config *, const struct directive_info *,
		     const char *, bool, char *);
int setter_ports(struct config *, const struct directive_info *, const char *,
		 bool, char *);
int setter_duration(struct config *, const struct directive_info *,
		    const char *, bool, char *);
int setter_path(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_log_level(struct config *, const struct directive_info *,
		     const char *, bool, char *);
int setter_access_log_format(struct config *, const struct directive_info *,
			     const char *, bool, char *);
int setter_error_log(struct config *, const struct directive_info *,
		     const char *, bool, char *);

int setter_dns(struct config *, const struct directive_info *, const char *,
	       bool, char *);
int setter_bool(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_size(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_list(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_block_response(struct config *, const struct directive_info *,
			  const char *, bool, char *);
int setter_acl(struct config *, const struct directive_info *, const char *,
	       bool, char *);
int setter_user(struct config *, const struct directive_info *, const char *,
		bool, char *);
int setter_auth_file(struct config *, const struct directive_info *,
		     const char *, bool, char *);
int setter_realm(struct config *, const struct directive_info *, const char *,
		 bool, char *);
/* config_upstream.c */
int setter_upstream(struct config *, const struct directive_info *,
		    const char *, bool, char *);
int setter_names(struct config *, const struct directive_info *, const char *,
		 bool, char *);

#define FIELD_PTR(cfg, d, type)                                                \
	((type *)(void *)((char *)(cfg) +                                      \
			  ((const struct directive *)(d))->offset))

/* Writes a printf-style message into err[CONFIG_ERR_MAX]. */
__attribute__((format(printf, 2, 3))) void config_err(char *err,
						      const char *fmt, ...);

#endif
