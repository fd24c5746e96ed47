/*
 * base64.c - see base64.h.
 */
#include "base/base64.h"

#include <stdint.h>

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t n = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;
		for (size_t k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			/* '=' only at the end, one or two of them */
			if (c == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0 || (v[k] = value_of(c)) < 0)
				return -1;
		}
		unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
				(unsigned)v[2] << 6 | (unsigned)v[3];
		/* the bits that padding drops must be zero (canonical form) */
		if ((pad == 1 && (bits & 0xff) != 0) ||
		    (pad == 2 && (bits & 0xffff) != 0))
			return -1;
		if (n + 3 - pad > cap)
			return -1;
		out[n++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)bits;
	}
	return (long)n;
}

long base64_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2 || BASE64_ENCODED_LEN(len) >= cap)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		unsigned bits = (unsigned)in[i] << 16;
		if (left > 1)
			bits |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			bits |= in[i + 2];
		out[n++] = alphabet[bits >> 18 & 63];
		out[n++] = alphabet[bits >> 12 & 63];
		out[n++] = left > 1 ? alphabet[bits >> 6 & 63] : '=';
		out[n++] = left > 2 ? alphabet[bits & 63] : '=';
	}
	out[n] = '\0';
	return (long)n;
}
