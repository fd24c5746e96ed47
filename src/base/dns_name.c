/*
 * dns_name.c - see dns_name.h.
 */
#include "base/dns_name.h"

bool dns_name_valid(const char *s, size_t len)
{
	size_t label = 0;
	bool digits = true;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_') ||
		    ++label > DNS_LABEL_MAX)
			return false;
		if (c < '0' || c > '9')
			digits = false;
	}
	return label > 0 && !digits;
}
