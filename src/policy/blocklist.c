/*
 * blocklist.c - see blocklist.h.
 *
 * The set is one open-addressing hash table of 16-byte slots (linear
 * probing, at most 70% full) over one arena of names, lowercase ASCII
 * without separators. A slot holds 32 bits of the name's hash as a tag, so a
 * probe touches the arena only when the tag already agrees.
 *
 * Names are hashed from their last byte to their first, so one backward
 * pass over a query yields the hash of every parent at once: a match costs
 * one table probe per label, and the probes are prefetched together before
 * the first is read; a bloom filter in front of the table spares most of
 * them. Rules never scan a list; nothing here grows with the number of
 * rules but the table.
 */
#include "policy/blocklist.h"

#include "base/dns_name.h"
#include "policy/blocklist_line.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LABELS_MAX ((BLOCKLIST_NAME_MAX + 1) / 2)
/* The table is grown, and the compiled one sized, to stay this full. */
#define LOAD_NUM  7
#define LOAD_DEN  10
#define HUGE_PAGE (2u << 20)

struct slot {
	uint32_t tag; /* upper hash bits, never 0; 0: empty slot */
	uint32_t name_off;
	uint32_t line;
	uint16_t list;
	uint8_t rule;
	uint8_t len;
};

struct table {
	struct slot *slots;
	size_t cap, n;
	char *names;
	size_t names_len, names_cap;
};

/*
 * Entries wait in a short queue while their slots are prefetched, so that
 * a load pays for about one trip to memory per BATCH names, not per name.
 */
#define BATCH 16

struct pending {
	uint32_t tag;
	uint32_t line;
	uint8_t len;
	uint8_t rule;
	char name[BLOCKLIST_NAME_MAX];
};

struct blocklist_builder {
	struct table t;
	char **lists;
	size_t n_lists;
	struct pending queue[BATCH];
	size_t queued;
};

struct blocklist {
	struct table t;
	uint64_t *filter; /* a bloom filter of the tags, a word a tag */
	size_t filter_words;
	char **lists;
	size_t n_lists;
};

/* FNV-1a over the bytes from last to first; mix() finishes a suffix. */
#define HASH_SEED  0xcbf29ce484222325ULL
#define HASH_PRIME 0x100000001b3ULL

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = HASH_SEED;

	while (len-- > 0)
		h = (h ^ (unsigned char)s[len]) * HASH_PRIME;
	return mix(h);
}

static uint32_t tag_of(uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);

	return tag != 0 ? tag : 1;
}

/*
 * Lemire's multiply-shift maps the tag onto [0, cap): the tag alone places
 * a slot, so growing the table never reads the names again.
 */
static size_t home_of(uint32_t tag, size_t cap)
{
	return (size_t)(((uint64_t)tag * cap) >> 32);
}

/* ---- the filter ------------------------------------------------------- */

/*
 * Before the table, a lookup asks a bloom filter small enough to stay in a
 * CPU cache (FILTER_BITS_PER_RULE bits a rule: 1.5 MB for a million): most
 * names are on no list, and for them a parent's probe then costs a cache
 * hit instead of a trip to memory. Each tag sets three bits of one 64-bit
 * word, so a test reads one word; about 1.5% of tests of an absent tag
 * pass anyway, and the table answers those.
 */
#define FILTER_BITS_PER_RULE 12

static uint32_t filter_hash(uint32_t tag)
{
	tag ^= tag >> 16;
	tag *= 0x85ebca6bu;
	tag ^= tag >> 13;
	tag *= 0xc2b2ae35u;
	tag ^= tag >> 16;
	return tag;
}

static uint64_t filter_bits(uint32_t u)
{
	return (1ULL << (u & 63)) | (1ULL << ((u >> 6) & 63)) |
	       (1ULL << ((u >> 12) & 63));
}

static const uint64_t *filter_word(const struct blocklist *bl, uint32_t u)
{
	return &bl->filter[((uint64_t)u * bl->filter_words) >> 32];
}

static bool filter_test(const struct blocklist *bl, uint32_t tag)
{
	uint32_t u = filter_hash(tag);
	uint64_t bits = filter_bits(u);

	return (*filter_word(bl, u) & bits) == bits;
}

static int filter_build(struct blocklist *bl)
{
	bl->filter_words = bl->t.n * FILTER_BITS_PER_RULE / 64 + 1;
	bl->filter = calloc(bl->filter_words, sizeof(uint64_t));
	if (bl->filter == NULL)
		return -1;
	for (size_t i = 0; i < bl->t.cap; i++) {
		uint32_t tag = bl->t.slots[i].tag;
		if (tag != 0) {
			uint32_t u = filter_hash(tag);
			*(uint64_t *)filter_word(bl, u) |= filter_bits(u);
		}
	}
	return 0;
}

/* ---- the table -------------------------------------------------------- */

/*
 * Zeroed slots. A table of 2 MiB or more sits on huge pages where the
 * kernel allows: its probes land anywhere, and a TLB miss per probe is what
 * a lookup would otherwise pay (twice over on a virtual machine).
 */
static struct slot *slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct slot);
	void *p;

	if (bytes < HUGE_PAGE)
		return calloc(cap, sizeof(struct slot));
	bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: fine if refused */
	memset(p, 0, bytes);
	return p;
}

static int table_init(struct table *t, size_t cap)
{
	t->slots = slots_alloc(cap);
	t->cap = cap;
	t->n = 0;
	return t->slots != NULL ? 0 : -1;
}

/* Places a slot known to be new; the table has room. */
static void table_place(struct table *t, const struct slot *s)
{
	size_t i = home_of(s->tag, t->cap);

	while (t->slots[i].tag != 0)
		i = i + 1 < t->cap ? i + 1 : 0;
	t->slots[i] = *s;
	t->n++;
}

/* Moves every slot into a new array of cap slots. 0 or -1. */
static int table_resize(struct table *t, size_t cap)
{
	struct table nt = *t;

	if (table_init(&nt, cap) < 0)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		const struct slot *s = &t->slots[i];
		if (s->tag != 0)
			table_place(&nt, s);
	}
	free(t->slots);
	t->slots = nt.slots;
	t->cap = nt.cap;
	return 0;
}

static int names_append(struct table *t, const char *name, size_t len,
			uint32_t *off)
{
	if (t->names_len + len > UINT32_MAX)
		return -1;
	if (t->names_len + len > t->names_cap) {
		size_t cap = t->names_cap != 0 ? t->names_cap * 2 : 1 << 16;
		char *nn = realloc(t->names, cap);
		if (nn == NULL)
			return -1;
		t->names = nn;
		t->names_cap = cap;
	}
	memcpy(t->names + t->names_len, name, len);
	*off = (uint32_t)t->names_len;
	t->names_len += len;
	return 0;
}

/*
 * Adds (name, rule) unless it is there. Returns 1 when added, 0 for a
 * duplicate, -1 when out of memory.
 */
static int table_add(struct table *t, const char *name, size_t len,
		     uint32_t tag, enum blocklist_rule rule, uint16_t list,
		     uint32_t line)
{
	struct slot s = {.tag = tag,
			 .line = line,
			 .list = list,
			 .rule = (uint8_t)rule,
			 .len = (uint8_t)len};
	bool have_name = false;

	for (size_t i = home_of(tag, t->cap); t->slots[i].tag != 0;
	     i = i + 1 < t->cap ? i + 1 : 0) {
		const struct slot *o = &t->slots[i];
		if (o->tag != tag || o->len != len ||
		    memcmp(t->names + o->name_off, name, len) != 0)
			continue;
		if (o->rule == rule)
			return 0;
		s.name_off = o->name_off; /* same name, another rule */
		have_name = true;
	}
	if (!have_name && names_append(t, name, len, &s.name_off) < 0)
		return -1;
	if ((t->n + 1) * LOAD_DEN > t->cap * LOAD_NUM &&
	    table_resize(t, t->cap * 2) < 0)
		return -1;
	table_place(t, &s);
	return 1;
}

/* ---- queueing entries ------------------------------------------------- */

struct load_ctx {
	struct blocklist_builder *b;
	struct blocklist_stats *st;
	uint16_t list;
};

/* Inserts the queued entries, in order. 0 or -1 (memory). */
static int flush(struct load_ctx *c)
{
	struct blocklist_builder *b = c->b;

	for (size_t i = 0; i < b->queued; i++) {
		const struct pending *p = &b->queue[i];
		int rc = table_add(&b->t, p->name, p->len, p->tag,
				   (enum blocklist_rule)p->rule, c->list,
				   p->line);
		if (rc < 0)
			return -1;
		if (rc > 0)
			c->st->loaded++;
		else
			c->st->duplicates++;
	}
	b->queued = 0;
	return 0;
}

/* blocklist_line_read's callback: queues an entry, its slot prefetched. */
static int queue_entry(void *arg, const char *name, size_t n,
		       enum blocklist_rule rule, uint32_t line)
{
	struct load_ctx *c = arg;
	struct blocklist_builder *b = c->b;
	struct pending *p = &b->queue[b->queued];

	memcpy(p->name, name, n);
	p->len = (uint8_t)n;
	p->rule = (uint8_t)rule;
	p->line = line;
	p->tag = tag_of(hash_name(name, n));
	__builtin_prefetch(&b->t.slots[home_of(p->tag, b->t.cap)]);
	return ++b->queued == BATCH ? flush(c) : 0;
}

/* ---- the builder ------------------------------------------------------ */

struct blocklist_builder *blocklist_builder_new(void)
{
	struct blocklist_builder *b = calloc(1, sizeof(*b));

	if (b == NULL || table_init(&b->t, 1024) < 0) {
		free(b);
		return NULL;
	}
	return b;
}

/*
 * Grows the table once for a whole list: room for a name a line (a hosts
 * line with several names may still grow it on the way).
 */
static int reserve(struct table *t, const char *text, size_t len)
{
	size_t lines = 1, want;

	for (const char *p = text, *end = text + len;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		lines++;
	want = (t->n + lines) * LOAD_DEN / LOAD_NUM + 16;
	return want > t->cap ? table_resize(t, want) : 0;
}

static char *copy_string(const char *s)
{
	size_t n = strlen(s) + 1;
	char *c = malloc(n);

	if (c != NULL)
		memcpy(c, s, n);
	return c;
}

int blocklist_builder_add(struct blocklist_builder *b, const char *list_name,
			  const char *text, size_t len, unsigned flags,
			  struct blocklist_stats *stats)
{
	struct load_ctx c = {.b = b, .st = stats};
	char **lists;
	size_t pos = 0;
	uint32_t line = 0;

	memset(stats, 0, sizeof(*stats));
	if (b->n_lists >= BLOCKLIST_MAX_LISTS)
		return -1;
	lists = realloc(b->lists, (b->n_lists + 1) * sizeof(*lists));
	if (lists == NULL)
		return -1;
	b->lists = lists;
	b->lists[b->n_lists] = copy_string(list_name);
	if (b->lists[b->n_lists] == NULL)
		return -1;
	c.list = (uint16_t)b->n_lists++;
	if (reserve(&b->t, text, len) < 0)
		return -1;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - text - pos) : len - pos;

		stats->lines++;
		if (blocklist_line_read(text + pos, n, flags, ++line, stats,
					queue_entry, &c) < 0)
			return -1;
		pos += n + 1;
	}
	return flush(&c);
}

static void free_lists(char **lists, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lists[i]);
	free(lists);
}

void blocklist_builder_free(struct blocklist_builder *b)
{
	if (b == NULL)
		return;
	free(b->t.slots);
	free(b->t.names);
	free_lists(b->lists, b->n_lists);
	free(b);
}

struct blocklist *blocklist_build(struct blocklist_builder *b)
{
	struct blocklist *bl = calloc(1, sizeof(*bl));
	size_t cap = b->t.n * LOAD_DEN / LOAD_NUM + 16;

	/* the builder made room for comments too: give back what is loose */
	if (bl == NULL ||
	    (b->t.cap > cap + cap / 4 && table_resize(&b->t, cap) < 0)) {
		free(bl);
		blocklist_builder_free(b);
		return NULL;
	}
	if (b->t.names_len > 0) {
		char *names = realloc(b->t.names, b->t.names_len);
		if (names != NULL)
			b->t.names = names;
		b->t.names_cap = b->t.names_len;
	}
	bl->t = b->t;
	bl->lists = b->lists;
	bl->n_lists = b->n_lists;
	free(b);
	if (filter_build(bl) < 0) {
		blocklist_free(bl);
		return NULL;
	}
	return bl;
}

void blocklist_free(struct blocklist *bl)
{
	if (bl == NULL)
		return;
	free(bl->t.slots);
	free(bl->t.names);
	free(bl->filter);
	free_lists(bl->lists, bl->n_lists);
	free(bl);
}

/* ---- matching --------------------------------------------------------- */

/* Does rule on a name cover a query that is that name (self) or below? */
static bool covers(enum blocklist_rule rule, bool self)
{
	switch (rule) {
	case BLOCKLIST_BLOCK_TREE:
	case BLOCKLIST_ALLOW_TREE:
		return true;
	case BLOCKLIST_BLOCK_EXACT:
	case BLOCKLIST_ALLOW_EXACT:
		return self;
	case BLOCKLIST_BLOCK_SUBS:
		return !self;
	default:
		return false;
	}
}

static bool is_allow(enum blocklist_rule rule)
{
	return rule == BLOCKLIST_ALLOW_TREE || rule == BLOCKLIST_ALLOW_EXACT;
}

/* Is a loaded before b? */
static bool earlier(const struct slot *a, const struct slot *b)
{
	return a->list != b->list ? a->list < b->list : a->line < b->line;
}

/*
 * The deciding slot for the suffix q[0..len) of a query (self: it is the
 * whole query), or NULL when no rule on that name covers the query.
 */
static const struct slot *decide(const struct table *t, const char *q,
				 size_t len, uint32_t tag, bool self)
{
	const struct slot *best = NULL;

	for (size_t i = home_of(tag, t->cap); t->slots[i].tag != 0;
	     i = i + 1 < t->cap ? i + 1 : 0) {
		const struct slot *s = &t->slots[i];
		if (s->tag != tag || s->len != len ||
		    !covers((enum blocklist_rule)s->rule, self) ||
		    memcmp(t->names + s->name_off, q, len) != 0)
			continue;
		if (best == NULL ||
		    is_allow((enum blocklist_rule)s->rule) >
			    is_allow((enum blocklist_rule)best->rule) ||
		    (is_allow((enum blocklist_rule)s->rule) ==
			     is_allow((enum blocklist_rule)best->rule) &&
		     earlier(s, best)))
			best = s;
	}
	return best;
}

/*
 * Starts loading the slots a probe for tag reads: its home's cache line
 * and the next, where a run of slots usually ends (at 70% load, a probe
 * that finds nothing reads about six slots).
 */
static void prefetch_run(const struct table *t, uint32_t tag)
{
	const char *home = (const char *)&t->slots[home_of(tag, t->cap)];

	__builtin_prefetch(home);
	__builtin_prefetch(home + 64);
}

bool blocklist_match(const struct blocklist *bl, const char *name, size_t len,
		     struct blocklist_verdict *v)
{
	char q[BLOCKLIST_NAME_MAX];
	size_t off[LABELS_MAX];
	uint32_t tag[LABELS_MAX];
	bool maybe[LABELS_MAX];
	size_t n = 0, label = 0;
	bool digits = true;
	uint64_t h = HASH_SEED;

	memset(v, 0, sizeof(*v));
	if (bl == NULL || bl->t.n == 0)
		return false;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > BLOCKLIST_NAME_MAX)
		return false;
	/*
	 * One pass from the end lowercases and checks the name as
	 * blocklist_line.c's name_valid() would, and yields the tag of every
	 * parent, TLD first; each parent's probe is prefetched as soon as it is
	 * known.
	 */
	for (size_t i = len; i-- > 0;) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c == '.' || !blocklist_name_char(c) ||
		    ++label > DNS_LABEL_MAX)
			return false;
		if (n == 0 && (c < '0' || c > '9'))
			digits = false;
		q[i] = (char)c;
		h = (h ^ c) * HASH_PRIME;
		if (i > 0 && name[i - 1] != '.')
			continue;
		if (n == 0 && digits)
			return false; /* an address, not a name */
		off[n] = i;
		tag[n] = tag_of(mix(h));
		__builtin_prefetch(filter_word(bl, filter_hash(tag[n])));
		n++;
		label = 0;
		if (i > 0) {
			h = (h ^ '.') * HASH_PRIME;
			q[--i] = '.';
			if (i == 0)
				return false; /* a leading dot */
		}
	}
	/* the table is read only for the names the filter may hold */
	for (size_t k = 0; k < n; k++) {
		maybe[k] = filter_test(bl, tag[k]);
		if (maybe[k])
			prefetch_run(&bl->t, tag[k]);
	}
	/* the most specific name with a covering rule decides */
	while (n-- > 0) {
		if (!maybe[n])
			continue;
		const struct slot *s = decide(&bl->t, q + off[n], len - off[n],
					      tag[n], off[n] == 0);
		if (s == NULL)
			continue;
		v->rule = (enum blocklist_rule)s->rule;
		v->blocked = !is_allow(v->rule);
		v->list = bl->lists[s->list];
		v->line = s->line;
		v->match_off = off[n];
		return v->blocked;
	}
	return false;
}

size_t blocklist_count(const struct blocklist *bl)
{
	return bl != NULL ? bl->t.n : 0;
}

size_t blocklist_memory(const struct blocklist *bl)
{
	size_t bytes;

	if (bl == NULL)
		return 0;
	bytes = sizeof(*bl) + bl->t.cap * sizeof(struct slot) +
		bl->t.names_cap + bl->filter_words * sizeof(uint64_t) +
		bl->n_lists * sizeof(char *);
	for (size_t i = 0; i < bl->n_lists; i++)
		bytes += strlen(bl->lists[i]) + 1;
	return bytes;
}

size_t blocklist_list_count(const struct blocklist *bl)
{
	return bl != NULL ? bl->n_lists : 0;
}

const char *blocklist_rule_text(enum blocklist_rule rule)
{
	switch (rule) {
	case BLOCKLIST_BLOCK_TREE:
		return "block";
	case BLOCKLIST_BLOCK_EXACT:
		return "exact block";
	case BLOCKLIST_BLOCK_SUBS:
		return "subdomain block";
	case BLOCKLIST_ALLOW_TREE:
		return "exception";
	case BLOCKLIST_ALLOW_EXACT:
		return "exact exception";
	default:
		return "none";
	}
}
