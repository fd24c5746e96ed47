/*
 * escape.h - untrusted bytes made safe for one field of a log line: a JSON
 * string, an Apache-style quoted string, or a single word. Pure.
 *
 * Each function writes into out[cap] (cap >= 1), always NUL-terminated,
 * and stops before an escape or a UTF-8 sequence that would not fit
 * whole, so a truncated field is still well-formed. Each returns the
 * length written, without the NUL.
 */
#ifndef SLUICE_BASE_ESCAPE_H
#define SLUICE_BASE_ESCAPE_H

#include <stddef.h>

/*
 * The inside of a JSON string (RFC 8259 §7): '"' and '\' escaped, control
 * bytes and DEL as \n, \r, \t or \u00XX, well-formed UTF-8 (RFC 3629:
 * no overlong form, no surrogate, nothing above U+10FFFF) kept as it is,
 * and every byte of anything else as \uFFFD.
 */
size_t escape_json(char *out, size_t cap, const char *in, size_t len);

/*
 * The inside of a "quoted" field, as Apache's access log writes them:
 * '"' and '\' escaped with '\', tab, CR and LF as \t, \r, \n, and every
 * other byte outside printable ASCII as \xHH.
 */
size_t escape_quoted(char *out, size_t cap, const char *in, size_t len);

/*
 * One word with no space in it: printable ASCII kept, and every other
 * byte, and '%', '"', '\', '[' and ']', as %XX (as Squid writes user
 * names, and a space too).
 */
size_t escape_word(char *out, size_t cap, const char *in, size_t len);

#endif
