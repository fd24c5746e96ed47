/*
 * blocklist_builtin.h - the small set sluice blocks when no blocklist is
 * configured: well-known advertising and tracking domains, so that a proxy
 * started on its defaults already blocks. "blocklist none" turns it off.
 */
#ifndef SLUICE_POLICY_BLOCKLIST_BUILTIN_H
#define SLUICE_POLICY_BLOCKLIST_BUILTIN_H

#include <stddef.h>

/* The list's text, in plain-domain syntax, and its length. */
const char *blocklist_builtin_text(size_t *len);

#endif
