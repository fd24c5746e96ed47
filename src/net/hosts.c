/*
 * hosts.c - see hosts.h.
 *
 * One record per (name, address), sorted by name, names in one arena: a
 * lookup is a binary search, and a hosts file of a hundred thousand lines
 * (some people block ads there) costs a few megabytes, once per process.
 */
#include "net/hosts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOSTS_FILE_MAX (64u << 20)
#define NAME_MAX_LEN   253

struct record {
	uint32_t name_off;
	uint8_t name_len;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

struct hosts {
	struct record *recs;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	size_t n_names;
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Compares a record's name with s[0..len), case folded. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		int d = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
		if (d != 0)
			return d;
	}
	return alen < blen ? -1 : alen > blen;
}

static int rec_cmp(const void *x, const void *y, void *arg)
{
	const struct hosts *h = arg;
	const struct record *a = x, *b = y;
	int d = name_cmp(h->names + a->name_off, a->name_len,
			 h->names + b->name_off, b->name_len);

	/* equal names keep file order: offsets grow along the file */
	return d != 0 ? d
		      : (a->name_off > b->name_off) -
				(a->name_off < b->name_off);
}

static int add_record(struct hosts *h, const char *name, size_t len, int family,
		      const void *addr)
{
	struct record *r;

	if (h->n == h->cap) {
		size_t cap = h->cap != 0 ? h->cap * 2 : 64;
		struct record *nr = realloc(h->recs, cap * sizeof(*nr));
		if (nr == NULL)
			return -1;
		h->recs = nr;
		h->cap = cap;
	}
	if (h->names_len + len > h->names_cap) {
		size_t cap = h->names_cap != 0 ? h->names_cap * 2 : 1024;
		while (cap < h->names_len + len)
			cap *= 2;
		char *nn = realloc(h->names, cap);
		if (nn == NULL)
			return -1;
		h->names = nn;
		h->names_cap = cap;
	}
	r = &h->recs[h->n++];
	r->name_off = (uint32_t)h->names_len;
	r->name_len = (uint8_t)len;
	r->family = (uint8_t)family;
	memset(r->addr, 0, sizeof(r->addr));
	memcpy(r->addr, addr, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < len; i++)
		h->names[h->names_len + i] =
			(char)lower((unsigned char)name[i]);
	h->names_len += len;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line: ADDRESS NAME... Returns 0 or -1 (memory). */
static int parse_line(struct hosts *h, const char *s, size_t n)
{
	const char *hash = memchr(s, '#', n);
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	size_t i = 0, start;
	int family;

	if (hash != NULL)
		n = (size_t)(hash - s);
	while (i < n && is_blank(s[i]))
		i++;
	start = i;
	while (i < n && !is_blank(s[i]))
		i++;
	if (i == start || i - start >= sizeof(text))
		return 0;
	memcpy(text, s + start, i - start);
	text[i - start] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		family = AF_INET6;
	else
		return 0; /* not an address (or with a zone): not for us */
	static const unsigned char zero[16];
	if (memcmp(addr, zero, family == AF_INET ? 4 : 16) == 0)
		return 0;
	while (i < n) {
		while (i < n && is_blank(s[i]))
			i++;
		start = i;
		while (i < n && !is_blank(s[i]))
			i++;
		size_t len = i - start;
		if (len > 0 && s[start + len - 1] == '.')
			len--;
		if (len == 0 || len > NAME_MAX_LEN)
			continue;
		if (add_record(h, s + start, len, family, addr) < 0)
			return -1;
	}
	return 0;
}

struct hosts *hosts_parse(const char *text, size_t len)
{
	struct hosts *h = calloc(1, sizeof(*h));
	size_t pos = 0;

	if (h == NULL)
		return NULL;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - text - pos) : len - pos;
		if (parse_line(h, text + pos, n) < 0) {
			hosts_free(h);
			return NULL;
		}
		pos += n + 1;
	}
	if (h->n > 1)
		qsort_r(h->recs, h->n, sizeof(*h->recs), rec_cmp, h);
	for (size_t i = 0; i < h->n; i++)
		h->n_names +=
			i == 0 || name_cmp(h->names + h->recs[i].name_off,
					   h->recs[i].name_len,
					   h->names + h->recs[i - 1].name_off,
					   h->recs[i - 1].name_len) != 0;
	return h;
}

struct hosts *hosts_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct hosts *h = NULL;
	char *text = NULL;
	size_t n = 0, cap = 0;

	if (fd < 0)
		return errno == ENOENT ? hosts_parse("", 0) : NULL;
	/* read to the end, whatever the file is (/dev/null is empty) */
	for (;;) {
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 64 * 1024;
			char *nt = ncap <= HOSTS_FILE_MAX ? realloc(text, ncap)
							  : NULL;
			if (nt == NULL) {
				errno = ncap > HOSTS_FILE_MAX ? EFBIG : ENOMEM;
				goto out;
			}
			text = nt;
			cap = ncap;
		}
		ssize_t r = read(fd, text + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out; /* errno says why: EISDIR, EACCES, ... */
		if (r == 0)
			break;
		n += (size_t)r;
	}
	h = hosts_parse(text, n);
out:;
	int err = errno;
	close(fd);
	free(text);
	errno = err;
	return h;
}

void hosts_free(struct hosts *h)
{
	if (h == NULL)
		return;
	free(h->recs);
	free(h->names);
	free(h);
}

size_t hosts_count(const struct hosts *h)
{
	return h != NULL ? h->n_names : 0;
}

bool hosts_lookup(const struct hosts *h, const char *name, size_t len,
		  struct host_addrs *out)
{
	size_t lo = 0, hi;

	memset(out, 0, sizeof(*out));
	if (h == NULL || h->n == 0)
		return false;
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* the first record not less than name */
	hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct record *r = &h->recs[mid];
		if (name_cmp(h->names + r->name_off, r->name_len, name, len) <
		    0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < h->n; i++) {
		const struct record *r = &h->recs[i];
		if (name_cmp(h->names + r->name_off, r->name_len, name, len) !=
		    0)
			break;
		if (r->family == AF_INET6 && out->n6 < HOST_MAX_ADDRS)
			memcpy(&out->v6[out->n6++], r->addr, 16);
		else if (r->family == AF_INET && out->n4 < HOST_MAX_ADDRS)
			memcpy(&out->v4[out->n4++], r->addr, 4);
	}
	return out->n6 + out->n4 > 0;
}
