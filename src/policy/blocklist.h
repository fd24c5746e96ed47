/*
 * blocklist.h - the domain set: list text in, a compiled set out, and the
 * verdict for a host name.
 *
 * Pure: takes bytes the caller read, allocates only while building, never
 * prints, never touches a file or a socket. A compiled set is immutable, so
 * any number of threads may match against it at once.
 *
 * Line syntax, each line recognised on its own:
 *   0.0.0.0 a.example b.example   hosts file: every name after the address
 *   a.example                     plain domain
 *   .a.example                    the same (Squid dstdomain style)
 *   ||a.example^                  Adblock/AdGuard DNS rule
 *   @@||a.example^                exception: allowed, subdomains too
 *   *.a.example                   the subdomains of a.example, not itself
 *   # ..., ! ...                  comments; '#' after a space ends a line
 * Skipped, and counted: cosmetic rules (##, #@#, #?#, #$#, #%#), URL
 * anchors and paths, /regex/, any '$' modifier (none can be honoured for a
 * whole host), several words that are not a hosts line, and names that are
 * not valid DNS names (IDN is taken in its punycode form).
 * Ignored, and counted apart: the local names of a hosts file (localhost,
 * broadcasthost, ip6-loopback, 0.0.0.0, ...).
 *
 * Matching (blocklist_match): a rule for a name covers the name and all its
 * subdomains ("tree"), or the name alone ("exact", a list loaded with
 * BLOCKLIST_EXACT), or its subdomains alone ("*.name"). Labels are whole:
 * ads.example does not cover xads.example. Walking from the full name to its
 * parents, the first name with a rule that covers the query decides, and an
 * allow rule beats a block rule on the same name: so an exception as
 * specific as the block, or more, wins.
 */
#ifndef SLUICE_POLICY_BLOCKLIST_H
#define SLUICE_POLICY_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name we hold, in ASCII presentation form, without the dot. */
#define BLOCKLIST_NAME_MAX 253
/* Most lists one set may hold (provenance is a 16-bit index). */
#define BLOCKLIST_MAX_LISTS 1024

/* How one list's lines are read (blocklist_builder_add flags). */
#define BLOCKLIST_EXACT 0x1 /* hosts and plain lines: the name alone */
#define BLOCKLIST_ALLOW 0x2 /* an allowlist: every entry is an exception */

enum blocklist_rule {
	BLOCKLIST_RULE_NONE = 0,
	BLOCKLIST_BLOCK_TREE,  /* the name and its subdomains */
	BLOCKLIST_BLOCK_EXACT, /* the name alone */
	BLOCKLIST_BLOCK_SUBS,  /* its subdomains alone (*.name) */
	BLOCKLIST_ALLOW_TREE,  /* exception: the name and subdomains */
	BLOCKLIST_ALLOW_EXACT, /* exception: the name alone */
};

/*
 * What loading one list found. A line without an entry counts in
 * blank_or_comment; every entry (a name of a hosts line, or a whole other
 * line) counts in exactly one of loaded, duplicates, local, skipped.
 */
struct blocklist_stats {
	uint64_t lines;
	uint64_t blank_or_comment;
	uint64_t loaded;     /* names new to the set */
	uint64_t duplicates; /* names with this rule loaded before */
	uint64_t local;	     /* hosts-file local names, never blocked */
	uint64_t skipped;    /* entries sluice cannot honour, or invalid */
	uint32_t first_skipped_line; /* 0: none */
};

struct blocklist_builder;
struct blocklist;

struct blocklist_verdict {
	bool blocked;
	enum blocklist_rule rule; /* BLOCKLIST_RULE_NONE: nothing matched */
	const char *list;	  /* the list's name; NULL if none matched */
	uint32_t line;		  /* 1-based line in that list */
	size_t match_off; /* the rule is for name + match_off (a parent) */
};

/* A new, empty builder, or NULL when out of memory. */
struct blocklist_builder *blocklist_builder_new(void);

/*
 * Adds one list's text under list_name (copied; shown in verdicts). flags
 * is BLOCKLIST_EXACT and/or BLOCKLIST_ALLOW. Fills *stats. Returns 0, or -1
 * when out of memory or past BLOCKLIST_MAX_LISTS (the builder is then
 * unusable: free it). Bad lines are never an error: they are counted.
 */
int blocklist_builder_add(struct blocklist_builder *b, const char *list_name,
			  const char *text, size_t len, unsigned flags,
			  struct blocklist_stats *stats);

/*
 * Compiles the builder into a set and frees the builder, whatever the
 * outcome. Returns NULL when out of memory.
 */
struct blocklist *blocklist_build(struct blocklist_builder *b);

void blocklist_builder_free(struct blocklist_builder *b);
void blocklist_free(struct blocklist *bl);

/*
 * The verdict for host name[0..len): ASCII, any case, an optional trailing
 * dot. A name that is not a valid DNS name is never blocked. bl may be
 * NULL (no lists): nothing is blocked. Returns v->blocked.
 */
bool blocklist_match(const struct blocklist *bl, const char *name, size_t len,
		     struct blocklist_verdict *v);

/* Rules held (all lists, duplicates once). */
size_t blocklist_count(const struct blocklist *bl);
/* Bytes the compiled set holds on the heap. */
size_t blocklist_memory(const struct blocklist *bl);
/* Lists the set was built from. */
size_t blocklist_list_count(const struct blocklist *bl);

/* "block", "exact block", "subdomain block", "exception", ... */
const char *blocklist_rule_text(enum blocklist_rule rule);

#endif
