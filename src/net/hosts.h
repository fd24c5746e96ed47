/*
 * hosts.h - a hosts(5) file, read once and shared read-only by every
 * worker's resolver: names there resolve without asking DNS.
 *
 * Names compare case-insensitively, one trailing dot ignored. Every line
 * naming a host adds its address (as glibc's "multi on"). The unspecified
 * addresses 0.0.0.0 and :: are dropped: ad-blocking hosts files map names
 * there, and dialling them would reach this machine, not "nowhere".
 */
#ifndef SLUICE_NET_HOSTS_H
#define SLUICE_NET_HOSTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* Most addresses of each family kept for one name (hosts file or DNS). */
#define HOST_MAX_ADDRS 8

struct host_addrs {
	struct in6_addr v6[HOST_MAX_ADDRS];
	struct in_addr v4[HOST_MAX_ADDRS];
	size_t n6, n4;
};

struct hosts;

/*
 * Reads the hosts file at path (at most 64 MiB). A file that does not
 * exist gives an empty table. Returns NULL, with errno, when the file
 * cannot be read or memory runs out.
 */
struct hosts *hosts_load(const char *path);

/* Parses hosts-file text; NULL when out of memory. */
struct hosts *hosts_parse(const char *text, size_t len);

void hosts_free(struct hosts *h);

/* Names held. */
size_t hosts_count(const struct hosts *h);

/* Fills *out and returns true when name[0..len) is in the table. */
bool hosts_lookup(const struct hosts *h, const char *name, size_t len,
		  struct host_addrs *out);

#endif
