/*
 * escape.c - see escape.h.
 */
#include "base/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

/*
 * The length of the well-formed UTF-8 sequence at s[0..len) that starts
 * with a byte >= 0x80 (RFC 3629 §4, the table of valid byte ranges), or
 * 0 when it is not one.
 */
static size_t utf8_length(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, an overlong lead, > U+10FFFF
			   */
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Appends rep[0..n) to out if it fits whole, with room for the NUL. */
static bool put(char *out, size_t cap, size_t *pos, const char *rep, size_t n)
{
	if (*pos + n >= cap)
		return false;
	memcpy(out + *pos, rep, n);
	*pos += n;
	return true;
}

size_t escape_json(char *out, size_t cap, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pos = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		char rep[8];
		size_t n = 1, used = 1;

		if (c == '"' || c == '\\') {
			rep[0] = '\\';
			rep[1] = (char)c;
			n = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			rep[0] = '\\';
			rep[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(rep, "\\u00", 4);
			rep[4] = hex[c >> 4];
			rep[5] = hex[c & 0xf];
			n = 6;
		} else if (c < 0x80) {
			rep[0] = (char)c;
		} else if ((used = utf8_length(s + i, len - i)) > 0) {
			memcpy(rep, s + i, used);
			n = used;
		} else {
			memcpy(rep, "\\ufffd", 6);
			n = 6;
			used = 1;
		}
		if (!put(out, cap, &pos, rep, n))
			break;
		i += used;
	}
	out[pos] = '\0';
	return pos;
}

size_t escape_quoted(char *out, size_t cap, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pos = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char rep[4];
		size_t n = 2;

		rep[0] = '\\';
		if (c == '"' || c == '\\') {
			rep[1] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			rep[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c >= 0x7f) {
			rep[1] = 'x';
			rep[2] = hex[c >> 4];
			rep[3] = hex[c & 0xf];
			n = 4;
		} else {
			rep[0] = (char)c;
			n = 1;
		}
		if (!put(out, cap, &pos, rep, n))
			break;
	}
	out[pos] = '\0';
	return pos;
}

size_t escape_word(char *out, size_t cap, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pos = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char rep[3] = {(char)c};
		size_t n = 1;

		if (c <= 0x20 || c >= 0x7f || strchr("%\"\\[]", c) != NULL) {
			rep[0] = '%';
			rep[1] = hex[c >> 4];
			rep[2] = hex[c & 0xf];
			n = 3;
		}
		if (!put(out, cap, &pos, rep, n))
			break;
	}
	out[pos] = '\0';
	return pos;
}
