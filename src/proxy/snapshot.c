/*
 * snapshot.c - see snapshot.h.
 */
#include "proxy/snapshot.h"

#include "policy/auth.h"
#include "policy/blocklist.h"
#include "proxy/auth.h"
#include "proxy/lists.h"
#include "report/log.h"

#include <stdio.h>

#include <stdlib.h>

struct snapshot *snapshot_new(struct config *cfg, struct blocklist *bl,
			      struct auth_table *auth, uint64_t generation)
{
	struct snapshot *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	s->cfg = cfg;
	s->blocklist = bl;
	s->auth = auth;
	s->routes = NULL;
	s->generation = generation;
	return s;
}

struct snapshot *snapshot_pin(struct snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void snapshot_release(struct snapshot *s)
{
	if (s == NULL ||
	    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	log_debug("config and lists of generation %llu freed",
		  (unsigned long long)s->generation);
	blocklist_free(s->blocklist);
	auth_table_free(s->auth);
	blocklist_free(s->routes);
	free((struct config *)s->cfg);
	free(s);
}

/*
 * The parent proxy's domains as one small set: the names of
 * upstream-proxy-for block, those of direct-for are exceptions. So
 * blocklist_match() gives the routing rule (parent.c): the most specific
 * name decides, and on the same name the exception, direct, wins. NULL in
 * *out when there is nothing to compile. 0, or -1 when out of memory.
 */
static int compile_routes(const struct config *cfg, struct blocklist **out)
{
	struct blocklist_builder *b;
	struct blocklist_stats st;

	*out = NULL;
	if (cfg->upstream[0] == '\0' ||
	    (cfg->upstream_for.len == 0 && cfg->direct_for.len == 0))
		return 0;
	b = blocklist_builder_new();
	if (b == NULL ||
	    blocklist_builder_add(b, "upstream-proxy-for",
				  cfg->upstream_for.text, cfg->upstream_for.len,
				  0, &st) < 0 ||
	    blocklist_builder_add(b, "direct-for", cfg->direct_for.text,
				  cfg->direct_for.len, BLOCKLIST_ALLOW,
				  &st) < 0) {
		blocklist_builder_free(b);
		return -1;
	}
	*out = blocklist_build(b);
	return *out != NULL ? 0 : -1;
}

struct snapshot *snapshot_load(const struct config *cfg, uint64_t generation,
			       void (*report)(void *arg, bool warning,
					      const char *line),
			       void *arg, char *err)
{
	char why[LISTS_ERR_MAX];
	struct blocklist *bl;
	struct auth_table *auth;
	struct blocklist *routes = NULL;
	struct config *copy;
	struct snapshot *s;

	_Static_assert(LISTS_ERR_MAX <= SNAPSHOT_ERR_MAX, "room for reasons");
	if (lists_load(cfg, report, arg, &bl, why) < 0) {
		snprintf(err, SNAPSHOT_ERR_MAX, "%s", why);
		return NULL;
	}
	if (auth_load(cfg, &auth, why, report, arg) < 0) {
		blocklist_free(bl);
		snprintf(err, SNAPSHOT_ERR_MAX, "%s", why);
		return NULL;
	}
	copy = malloc(sizeof(*copy));
	if (copy != NULL)
		*copy = *cfg;
	s = copy != NULL && compile_routes(cfg, &routes) == 0
		    ? snapshot_new(copy, bl, auth, generation)
		    : NULL;
	if (s == NULL) {
		free(copy);
		blocklist_free(bl);
		blocklist_free(routes);
		auth_table_free(auth);
		snprintf(err, SNAPSHOT_ERR_MAX, "out of memory");
		return NULL;
	}
	s->routes = routes;
	return s;
}
