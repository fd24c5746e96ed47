/*
 * hex.h - the value of one hexadecimal digit, for the parsers that read
 * them (chunk sizes, percent-escapes in a parent proxy's credentials).
 */
#ifndef SLUICE_BASE_HEX_H
#define SLUICE_BASE_HEX_H

/* 0..15, or -1 if c is not a hex digit. */
static inline int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
