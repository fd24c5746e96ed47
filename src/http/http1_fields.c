/*
 * http1_fields.c - see http1_fields.h.
 *
 * The head is handled in two passes: a scan for the blank line that also
 * refuses bare CR, bare LF and NUL (resumable through prev_len), then a
 * parse of the complete head. Parsing only complete heads keeps the parsers
 * simple and their cost linear.
 */
#include "http/http1_fields.h"

#include <stdint.h>
#include <string.h>

/*
 * Byte classes, looked up once per byte of every head: TCHAR is RFC 9110
 * §5.6.2's token characters; STOP is what find_head_end() must look at
 * (CR, LF, NUL); every other byte it passes over in a tight loop.
 */
enum { TCHAR = 1, STOP = 2 };

#define C_ALPHA(b)                                                             \
	[b] = TCHAR, [b + 1] = TCHAR, [b + 2] = TCHAR, [b + 3] = TCHAR,        \
	[b + 4] = TCHAR, [b + 5] = TCHAR, [b + 6] = TCHAR, [b + 7] = TCHAR,    \
	[b + 8] = TCHAR, [b + 9] = TCHAR, [b + 10] = TCHAR, [b + 11] = TCHAR,  \
	[b + 12] = TCHAR, [b + 13] = TCHAR, [b + 14] = TCHAR,                  \
	[b + 15] = TCHAR, [b + 16] = TCHAR, [b + 17] = TCHAR,                  \
	[b + 18] = TCHAR, [b + 19] = TCHAR, [b + 20] = TCHAR,                  \
	[b + 21] = TCHAR, [b + 22] = TCHAR, [b + 23] = TCHAR,                  \
	[b + 24] = TCHAR, [b + 25] = TCHAR

static const unsigned char byte_class[256] = {
	['\0'] = STOP,	['\r'] = STOP, ['\n'] = STOP, ['0'] = TCHAR,
	['1'] = TCHAR,	['2'] = TCHAR, ['3'] = TCHAR, ['4'] = TCHAR,
	['5'] = TCHAR,	['6'] = TCHAR, ['7'] = TCHAR, ['8'] = TCHAR,
	['9'] = TCHAR,	C_ALPHA('A'),  C_ALPHA('a'),  ['!'] = TCHAR,
	['#'] = TCHAR,	['$'] = TCHAR, ['%'] = TCHAR, ['&'] = TCHAR,
	['\''] = TCHAR, ['*'] = TCHAR, ['+'] = TCHAR, ['-'] = TCHAR,
	['.'] = TCHAR,	['^'] = TCHAR, ['_'] = TCHAR, ['`'] = TCHAR,
	['|'] = TCHAR,	['~'] = TCHAR,
};

bool http1_fields_is_tchar(unsigned char c)
{
	return byte_class[c] & TCHAR;
}

/* RFC 9110 §5.5: field-vchar / SP / HTAB; obs-text allowed. */
static bool is_field_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/*
 * Word-at-a-time tests, eight bytes a step, for the two loops every byte of
 * every head goes through. (w - 0x0101..01 * n) & ~w & 0x8080..80 is
 * non-zero exactly when some byte of w is below n, for n <= 0x80 (a borrow
 * can mark a higher byte too, but only behind a true one). A test only
 * says whether the word needs a closer look; the byte loop then decides.
 */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static uint64_t load_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static bool has_below(uint64_t w, unsigned char n)
{
	return ((w - ONES * n) & ~w & HIGHS) != 0;
}

/* The first CR, LF or NUL in buf[i..len), or len. Words without a byte
 * below 0x0e (which covers all three, and HTAB) are passed whole. */
static size_t next_stop(const char *buf, size_t i, size_t len)
{
	while (len - i >= 8 && !has_below(load_word(buf + i), 0x0e))
		i += 8;
	while (i < len && !(byte_class[(unsigned char)buf[i]] & STOP))
		i++;
	return i;
}

/* A word of field-vchar and SP only: no control byte (HTAB included, for
 * the byte loop to take) and no DEL. */
static bool plain_value_word(uint64_t w)
{
	return !has_below(w, 0x20) && !has_below(w ^ (ONES * 0x7f), 1);
}

int http1_fields_fail(struct http1_error *err, enum http1_err code,
		      size_t offset)
{
	err->code = code;
	err->offset = offset;
	return -1;
}

/*
 * Finds the blank line that ends the head, scanning buf[from..len); the head
 * starts at skip. Returns the head length, -2 if not there yet, -1 on a
 * framing byte error.
 */
static int find_head_end(const char *buf, size_t len, size_t skip, size_t from,
			 struct http1_error *err)
{
	for (size_t i = from; i < len; i++) {
		i = next_stop(buf, i, len);
		if (i == len)
			break;
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0')
			return http1_fields_fail(err, HTTP1_ERR_CTL, i);
		if (c == '\r') {
			if (i + 1 == len)
				return -2;
			if (buf[i + 1] != '\n')
				return http1_fields_fail(err, HTTP1_ERR_BARE_CR,
							 i);
			continue;
		}
		if (c != '\n')
			continue;
		/* RFC 9112 §2.2: LF alone is a line end some accept; not us */
		if (i == 0 || buf[i - 1] != '\r')
			return http1_fields_fail(err, HTTP1_ERR_BARE_LF, i);
		if (i >= skip + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (int)(i + 1);
	}
	return -2;
}

int http1_fields_scan_head(const char *buf, size_t len, size_t prev_len,
			   size_t skip, const struct http1_limits *limits,
			   struct http1_error *err)
{
	/*
	 * Look no further than the byte at which a limit refuses the head, so
	 * that a head given whole gets the answer it would get byte by byte:
	 * a NUL beyond the limits never turns a 414 or 431 into a 400.
	 */
	size_t line_room = limits->max_line_bytes + 2; /* CRLF included */
	size_t scan_len =
		len < limits->max_head_bytes ? len : limits->max_head_bytes;
	bool line_too_long = skip < scan_len && scan_len - skip > line_room &&
			     memchr(buf + skip, '\n', line_room) == NULL;
	if (line_too_long)
		scan_len = skip + line_room + 1;

	size_t from = prev_len > 3 ? prev_len - 3 : 0;
	int head_len = find_head_end(buf, scan_len, skip,
				     from < skip ? skip : from, err);
	if (head_len != -2)
		return head_len;
	if (line_too_long)
		return http1_fields_fail(err, HTTP1_ERR_LINE_TOO_LONG,
					 skip + limits->max_line_bytes);
	if (len >= limits->max_head_bytes)
		return http1_fields_fail(err, HTTP1_ERR_HEAD_TOO_LARGE,
					 limits->max_head_bytes);
	return -2;
}

int http1_fields_first_line(const char *buf, size_t start, size_t head_len,
			    size_t *line_end, struct http1_error *err)
{
	/* every line of a scanned head ends in CRLF: the CR is there */
	const char *eol = memchr(buf + start, '\r', head_len - start);

	*line_end = (size_t)(eol - buf);
	for (size_t i = start; i < *line_end; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 && c != '\t')
			return http1_fields_fail(err, HTTP1_ERR_CTL, i);
	}
	return 0;
}

int http1_fields_parse_version(const char *p, size_t len, size_t off,
			       int *minor_version, struct http1_error *err)
{
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' ||
	    p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
		return http1_fields_fail(err, HTTP1_ERR_VERSION, off);
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return http1_fields_fail(err, HTTP1_ERR_VERSION_UNSUPPORTED,
					 off);
	*minor_version = p[7] - '0';
	return 0;
}

/* Parses one field line buf[start..end) (CRLF excluded) into *h. */
static int parse_field(const char *buf, size_t start, size_t end,
		       struct http1_header *h, struct http1_error *err)
{
	size_t i = start;

	/* RFC 9112 §5.2: obs-fold is refused, not unfolded */
	if (buf[i] == ' ' || buf[i] == '\t')
		return http1_fields_fail(err, HTTP1_ERR_OBS_FOLD, i);
	while (i < end && http1_fields_is_tchar((unsigned char)buf[i]))
		i++;
	if (i == end)
		return http1_fields_fail(err, HTTP1_ERR_NO_COLON, i);
	/* RFC 9112 §5.1: no whitespace between the name and the colon */
	if (buf[i] == ' ' || buf[i] == '\t')
		return http1_fields_fail(err, HTTP1_ERR_SPACE_BEFORE_COLON, i);
	if (buf[i] != ':' || i == start)
		return http1_fields_fail(err, HTTP1_ERR_FIELD_NAME, i);
	h->name = buf + start;
	h->name_len = i - start;

	i++;
	while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	size_t v = i, v_end = end;
	while (i < end) {
		if (end - i >= 8 && plain_value_word(load_word(buf + i))) {
			i += 8;
			continue;
		}
		if (!is_field_value_char((unsigned char)buf[i]))
			return http1_fields_fail(err, HTTP1_ERR_FIELD_VALUE, i);
		i++;
	}
	while (v_end > v && (buf[v_end - 1] == ' ' || buf[v_end - 1] == '\t'))
		v_end--;
	h->value = buf + v;
	h->value_len = v_end - v;
	return 0;
}

int http1_fields_parse_lines(const char *buf, size_t pos, size_t head_len,
			     const struct http1_limits *limits,
			     struct http1_header *headers, size_t *num_headers,
			     struct http1_error *err)
{
	*num_headers = 0;
	while (pos < head_len - 2) {
		const char *eol = memchr(buf + pos, '\r', head_len - pos);
		size_t line_end = (size_t)(eol - buf);

		if (*num_headers == limits->max_fields)
			return http1_fields_fail(err, HTTP1_ERR_TOO_MANY_FIELDS,
						 pos);
		if (parse_field(buf, pos, line_end, &headers[*num_headers],
				err) < 0)
			return -1;
		(*num_headers)++;
		pos = line_end + 2;
	}
	return 0;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool http1_fields_slice_eq(const char *a, size_t a_len, const char *b,
			   size_t b_len)
{
	if (a_len != b_len)
		return false;
	for (size_t i = 0; i < a_len; i++) {
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	}
	return true;
}

void http1_fields_list_init(struct http1_fields_list *l, const char *value,
			    size_t value_len)
{
	l->p = value != NULL ? value : "";
	l->end = l->p + value_len;
}

bool http1_fields_list_next(struct http1_fields_list *l, const char **elem,
			    size_t *len)
{
	const char *s = l->p, *e, *comma;

	if (s == NULL)
		return false;
	comma = memchr(s, ',', (size_t)(l->end - s));
	e = comma != NULL ? comma : l->end;
	l->p = comma != NULL ? comma + 1 : NULL;
	/* RFC 9110 §5.6.1: OWS around each element */
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*elem = s;
	*len = (size_t)(e - s);
	return true;
}
