/*
 * base64.h - strict decoding of standard base64 (RFC 4648 §4): the
 * alphabet A-Z a-z 0-9 + /, padded with '=' to a multiple of four, no
 * whitespace, no other character. Pure.
 */
#ifndef SLUICE_BASE_BASE64_H
#define SLUICE_BASE_BASE64_H

#include <stddef.h>

/*
 * Decodes in[0..len) into out[cap]. Returns the decoded length, or -1 when
 * the input is not strict base64 or does not fit.
 */
long base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
