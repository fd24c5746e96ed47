/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein), a keyed hash: without
 * the 128-bit key, its outputs cannot be predicted or made to collide. For
 * tables whose keys come from clients (cached credentials). Pure.
 */
#ifndef SLUICE_BASE_SIPHASH_H
#define SLUICE_BASE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
