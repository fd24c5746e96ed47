/*
 * banned.h - functions that do not compile in sluice.
 *
 * Force-included into every translation unit (-include). The system headers
 * that declare these functions are pulled in first, so their declarations
 * stay legal; any later use in our code is a hard error. Use snprintf,
 * memcpy with an explicit length, strtoul-based parsers from config/, and
 * strtok_r-free scanning instead.
 */
#ifndef SLUICE_BASE_BANNED_H
#define SLUICE_BASE_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC poison sprintf vsprintf strcpy strcat strncat atoi atol atoll
#pragma GCC poison strtok gets

#endif
