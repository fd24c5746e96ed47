/*
 * base64.h - standard base64 (RFC 4648 §4): the alphabet A-Z a-z 0-9 + /,
 * padded with '=' to a multiple of four. Decoding is strict: no
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

/* The length base64_encode() writes for len bytes, without the NUL. */
#define BASE64_ENCODED_LEN(len) (((len) + 2) / 3 * 4)

/*
 * Encodes in[0..len) into out[cap], padded, then a NUL. Returns the encoded
 * length, or -1 when it does not fit (BASE64_ENCODED_LEN(len) + 1 bytes).
 */
long base64_encode(const unsigned char *in, size_t len, char *out, size_t cap);

#endif
