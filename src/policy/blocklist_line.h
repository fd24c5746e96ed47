/*
 * blocklist_line.h - one line of a list, read on its own: which syntax it
 * is, the names it gives and the rule for each. Internal to the policy
 * layer (blocklist.c is its one caller). Pure.
 */
#ifndef SLUICE_POLICY_BLOCKLIST_LINE_H
#define SLUICE_POLICY_BLOCKLIST_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/blocklist.h"

/*
 * Receives one entry: name[0..len) is canonical (lowercase ASCII,
 * punycode, no trailing dot) and valid. Returns 0, or -1 to stop (memory).
 */
typedef int (*blocklist_entry_fn)(void *arg, const char *name, size_t len,
				  enum blocklist_rule rule, uint32_t line);

/*
 * Reads line `line` (1-based) of a list, s[0..n) without its '\n', under
 * the list's flags: entries go to fn, and what is not an entry is counted
 * in *st (blank_or_comment, local, skipped). Returns 0, or fn's -1.
 */
int blocklist_line_read(const char *s, size_t n, unsigned flags, uint32_t line,
			struct blocklist_stats *st, blocklist_entry_fn fn,
			void *arg);

/* May c stand in a name (after lowercasing)? Letters, digits, '-', '_'. */
bool blocklist_name_char(unsigned char c);

#endif
