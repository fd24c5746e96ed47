/*
 * proxy_protocol.c - see proxy_protocol.h. Section numbers are those of
 * HAProxy's doc/proxy-protocol.txt.
 *
 * v1 is read byte by byte with a cursor that stops at the first byte the
 * grammar cannot take (an error) or at the end of the input (need more),
 * so the verdict on a prefix never changes as bytes arrive. v2 is checked
 * field by field as its 16 fixed bytes arrive, then whole.
 */
#include "http/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* v1 IPv6 text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
#define V1_IPV6_TEXT_MAX (INET6_ADDRSTRLEN - 1)

/* §2.2: the 12-byte signature, then ver_cmd, fam and a 16-bit length */
#define V2_SIG_LEN   12
#define V2_VER_CMD   12 /* offsets of the fields after the signature */
#define V2_FAM	     13
#define V2_LEN	     14
#define V2_FIXED_LEN 16
#define V2_VERSION   0x2
#define V2_LOCAL     0x0
#define V2_PROXY     0x1
#define V2_TCP4	     0x11 /* AF_INET, STREAM */
#define V2_TCP6	     0x21 /* AF_INET6, STREAM */
#define V2_ADDR_TCP4 12	  /* 2 * 4 + 2 * 2 */
#define V2_ADDR_TCP6 36	  /* 2 * 16 + 2 * 2 */
#define V2_TLV_HEAD  3	  /* type, length_hi, length_lo */
#define V2_CRC32C    0x03 /* §2.2.3: PP2_TYPE_CRC32C, 4 bytes */

static const uint8_t v2_signature[V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

struct cursor {
	const uint8_t *buf;
	size_t len; /* bytes we may read: min(input, PP_V1_MAX) */
	size_t pos;
	struct pp_error *err;
};

static int fail(struct pp_error *err, enum pp_err code, size_t offset)
{
	err->code = code;
	err->offset = offset;
	return PP_ERROR;
}

/*
 * The byte at the cursor does not fit. A CR or LF anywhere but in the one
 * CRLF at the end is a line-end error whatever field it cut (§2.1: "must
 * not tolerate a single CR or LF"), so a truncated line says so.
 */
static int bad_byte(struct cursor *c, enum pp_err code)
{
	uint8_t b = c->buf[c->pos];

	if (b == '\r' || b == '\n')
		code = PP_ERR_V1_LINE_END;
	return fail(c->err, code, c->pos);
}

static bool is_digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

static bool is_hex(uint8_t b)
{
	return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/* Consumes the literal lit, byte by byte; a mismatch is code. */
static int expect(struct cursor *c, const char *lit, enum pp_err code)
{
	for (; *lit != '\0'; lit++) {
		if (c->pos == c->len)
			return PP_NEED_MORE;
		if (c->buf[c->pos] != (uint8_t)*lit)
			return fail(c->err, code, c->pos);
		c->pos++;
	}
	return 0;
}

/*
 * A decimal number up to max, then the byte delim, consumed. §2.1: no
 * leading zero ("0" alone is a number), so each value has one spelling.
 */
static int number(struct cursor *c, uint32_t max, uint8_t delim,
		  enum pp_err code, uint32_t *out)
{
	uint32_t v = 0;
	size_t digits = 0;

	for (;; c->pos++) {
		if (c->pos == c->len)
			return PP_NEED_MORE;
		uint8_t b = c->buf[c->pos];
		if (!is_digit(b)) {
			if (b != delim || digits == 0)
				return bad_byte(c, code);
			c->pos++;
			*out = v;
			return 0;
		}
		if (digits == 1 && v == 0)
			return bad_byte(c, code); /* leading zero */
		v = v * 10 + (uint32_t)(b - '0');
		if (v > max)
			return bad_byte(c, code);
		digits++;
	}
}

/* §2.1: exactly 4 decimal integers 0..255 and 3 dots, then a space. */
static int v1_ipv4(struct cursor *c, struct in_addr *out)
{
	uint32_t addr = 0;

	for (int i = 0; i < 4; i++) {
		uint32_t octet;
		int rc = number(c, 255, i < 3 ? '.' : ' ', PP_ERR_V1_IPV4,
				&octet);
		if (rc != 0)
			return rc;
		addr = addr << 8 | octet;
	}
	out->s_addr = htonl(addr);
	return 0;
}

/*
 * §2.1: IPv6 text then a space. The spec's "sets of 4 hex digits" with one
 * "::" is what inet_pton reads; it also takes the dotted IPv4 tail that
 * inet_ntop writes for a mapped address ("::ffff:1.2.3.4"), which a sender
 * using inet_ntop emits. It refuses zone ids. Bytes outside hex digits,
 * ':' and '.' fail at once; the whole is judged at the space.
 */
static int v1_ipv6(struct cursor *c, struct in6_addr *out)
{
	size_t start = c->pos;
	char text[V1_IPV6_TEXT_MAX + 1];

	for (;; c->pos++) {
		if (c->pos == c->len)
			return PP_NEED_MORE;
		uint8_t b = c->buf[c->pos];
		if (b == ' ' && c->pos > start)
			break;
		if ((!is_hex(b) && b != ':' && b != '.') ||
		    c->pos - start == V1_IPV6_TEXT_MAX)
			return bad_byte(c, PP_ERR_V1_IPV6);
	}
	memcpy(text, c->buf + start, c->pos - start);
	text[c->pos - start] = '\0';
	if (inet_pton(AF_INET6, text, out) != 1)
		return fail(c->err, PP_ERR_V1_IPV6, start);
	c->pos++;
	return 0;
}

static int v1_port(struct cursor *c, uint8_t delim, uint16_t *port)
{
	uint32_t v;
	int rc = number(c, 65535, delim, PP_ERR_V1_PORT, &v);

	if (rc == 0)
		*port = htons((uint16_t)v);
	return rc;
}

/* "TCP4 src dst sport dport\r\n", after "PROXY TCP4 " */
static int v1_tcp4(struct cursor *c, struct pp_header *h)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	int rc;

	if ((rc = v1_ipv4(c, &src.sin_addr)) != 0 ||
	    (rc = v1_ipv4(c, &dst.sin_addr)) != 0 ||
	    (rc = v1_port(c, ' ', &src.sin_port)) != 0 ||
	    (rc = v1_port(c, '\r', &dst.sin_port)) != 0 ||
	    (rc = expect(c, "\n", PP_ERR_V1_LINE_END)) != 0)
		return rc;
	memcpy(&h->src, &src, sizeof(src));
	memcpy(&h->dst, &dst, sizeof(dst));
	h->src_len = h->dst_len = sizeof(src);
	return 0;
}

static int v1_tcp6(struct cursor *c, struct pp_header *h)
{
	struct sockaddr_in6 src = {.sin6_family = AF_INET6};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6};
	int rc;

	if ((rc = v1_ipv6(c, &src.sin6_addr)) != 0 ||
	    (rc = v1_ipv6(c, &dst.sin6_addr)) != 0 ||
	    (rc = v1_port(c, ' ', &src.sin6_port)) != 0 ||
	    (rc = v1_port(c, '\r', &dst.sin6_port)) != 0 ||
	    (rc = expect(c, "\n", PP_ERR_V1_LINE_END)) != 0)
		return rc;
	memcpy(&h->src, &src, sizeof(src));
	memcpy(&h->dst, &dst, sizeof(dst));
	h->src_len = h->dst_len = sizeof(src);
	return 0;
}

/*
 * After "PROXY UNKNOWN": CRLF, or a space and anything up to the CRLF,
 * which §2.1 says to ignore. "Anything" is held to the spec's "one line of
 * US-ASCII text": printable bytes only.
 */
static int v1_unknown(struct cursor *c, struct pp_header *h)
{
	h->local = true;
	if (c->pos == c->len)
		return PP_NEED_MORE;
	if (c->buf[c->pos] == ' ') {
		for (c->pos++;; c->pos++) {
			if (c->pos == c->len)
				return PP_NEED_MORE;
			uint8_t b = c->buf[c->pos];
			if (b == '\r')
				break;
			if (b < 0x20 || b > 0x7e)
				return bad_byte(c, PP_ERR_V1_CHAR);
		}
	} else if (c->buf[c->pos] != '\r') {
		return bad_byte(c, PP_ERR_V1_PROTOCOL); /* "UNKNOWNX" */
	}
	return expect(c, "\r\n", PP_ERR_V1_LINE_END);
}

/*
 * "PROXY " then "TCP4 ", "TCP6 " or "UNKNOWN", told apart as early as a
 * byte allows, then the rest of the line.
 */
static int v1_line(struct cursor *c, struct pp_header *h)
{
	static const char *const protocols[] = {"TCP4 ", "TCP6 ", "UNKNOWN"};
	static int (*const rest[])(struct cursor *, struct pp_header *) = {
		v1_tcp4,
		v1_tcp6,
		v1_unknown,
	};
	unsigned alive = 0x7; /* one bit per protocol still matching */
	int rc;

	if ((rc = expect(c, "PROXY ", PP_ERR_NOT_PROXY)) != 0)
		return rc;
	for (size_t i = 0;; i++, c->pos++) {
		if (c->pos == c->len)
			return PP_NEED_MORE;
		for (size_t k = 0; k < 3; k++) {
			/* a live one is longer than i: no read past its NUL */
			if ((alive >> k & 1u) &&
			    (uint8_t)protocols[k][i] != c->buf[c->pos])
				alive &= ~(1u << k);
		}
		if (alive == 0)
			return bad_byte(c, PP_ERR_V1_PROTOCOL);
		for (size_t k = 0; k < 3; k++) {
			if ((alive >> k & 1u) && protocols[k][i + 1] == '\0') {
				c->pos++;
				return rest[k](c, h);
			}
		}
	}
}

static int parse_v1(const uint8_t *buf, size_t len, struct pp_header *h,
		    struct pp_error *err)
{
	struct cursor c = {
		.buf = buf,
		.len = len < PP_V1_MAX ? len : PP_V1_MAX,
		.err = err,
	};
	int rc = v1_line(&c, h);

	/* §2.1: no CRLF in the first 107 bytes is an invalid line */
	if (rc == PP_NEED_MORE && c.len == PP_V1_MAX)
		return fail(err, PP_ERR_V1_TOO_LONG, PP_V1_MAX);
	if (rc != 0)
		return rc;
	h->version = 1;
	return (int)c.pos;
}

/* CRC32C (Castagnoli, reflected 0x82f63b78), bit by bit: headers are short */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return crc;
}

/*
 * §2.2.3: the CRC32C of the whole header with the TLV's 4 value bytes read
 * as zeros, against those bytes in network order.
 */
static bool crc32c_matches(const uint8_t *buf, size_t total, size_t value)
{
	static const uint8_t zeros[4];
	uint32_t want = (uint32_t)buf[value] << 24 |
			(uint32_t)buf[value + 1] << 16 |
			(uint32_t)buf[value + 2] << 8 | buf[value + 3];
	uint32_t crc = 0xffffffffu;

	crc = crc32c(crc, buf, value);
	crc = crc32c(crc, zeros, sizeof(zeros));
	crc = crc32c(crc, buf + value + 4, total - value - 4);
	return (crc ^ 0xffffffffu) == want;
}

/*
 * §2.2: after the address block, TLVs (type, 16-bit length, value) must
 * tile the header to its last byte. Unknown types are skipped; a CRC32C
 * must be 4 bytes, appear once, and match.
 */
static int v2_tlvs(const uint8_t *buf, size_t pos, size_t total,
		   struct pp_error *err)
{
	size_t crc_at = 0;

	while (pos < total) {
		if (total - pos < V2_TLV_HEAD)
			return fail(err, PP_ERR_V2_TLV, pos);
		size_t vlen = (size_t)buf[pos + 1] << 8 | buf[pos + 2];
		if (vlen > total - pos - V2_TLV_HEAD)
			return fail(err, PP_ERR_V2_TLV, pos);
		if (buf[pos] == V2_CRC32C) {
			if (vlen != 4 || crc_at != 0)
				return fail(err, PP_ERR_V2_TLV, pos);
			crc_at = pos;
		}
		pos += V2_TLV_HEAD + vlen;
	}
	if (crc_at != 0 && !crc32c_matches(buf, total, crc_at + V2_TLV_HEAD))
		return fail(err, PP_ERR_V2_CRC32C, crc_at);
	return 0;
}

static void v2_addresses(const uint8_t *a, uint8_t fam, struct pp_header *h)
{
	if (fam == V2_TCP4) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		struct sockaddr_in dst = {.sin_family = AF_INET};

		/* already in network order, as sockaddr_in wants them */
		memcpy(&src.sin_addr, a, 4);
		memcpy(&dst.sin_addr, a + 4, 4);
		memcpy(&src.sin_port, a + 8, 2);
		memcpy(&dst.sin_port, a + 10, 2);
		memcpy(&h->src, &src, sizeof(src));
		memcpy(&h->dst, &dst, sizeof(dst));
		h->src_len = h->dst_len = sizeof(src);
	} else {
		struct sockaddr_in6 src = {.sin6_family = AF_INET6};
		struct sockaddr_in6 dst = {.sin6_family = AF_INET6};

		memcpy(&src.sin6_addr, a, 16);
		memcpy(&dst.sin6_addr, a + 16, 16);
		memcpy(&src.sin6_port, a + 32, 2);
		memcpy(&dst.sin6_port, a + 34, 2);
		memcpy(&h->src, &src, sizeof(src));
		memcpy(&h->dst, &dst, sizeof(dst));
		h->src_len = h->dst_len = sizeof(src);
	}
}

/* Each check runs as soon as the bytes it needs are in. */
static int parse_v2(const uint8_t *buf, size_t len, struct pp_header *h,
		    struct pp_error *err)
{
	for (size_t i = 0; i < V2_SIG_LEN; i++) {
		if (i == len)
			return PP_NEED_MORE;
		if (buf[i] != v2_signature[i])
			return fail(err, PP_ERR_NOT_PROXY, i);
	}
	if (len <= V2_VER_CMD)
		return PP_NEED_MORE;
	uint8_t version = buf[V2_VER_CMD] >> 4;
	uint8_t command = buf[V2_VER_CMD] & 0x0f;
	/* §2.2: "the receiver must only accept this value" */
	if (version != V2_VERSION)
		return fail(err, PP_ERR_V2_VERSION, V2_VER_CMD);
	/* "Receivers must drop connections presenting unexpected values" */
	if (command != V2_LOCAL && command != V2_PROXY)
		return fail(err, PP_ERR_V2_COMMAND, V2_VER_CMD);
	if (len <= V2_FAM)
		return PP_NEED_MORE;
	uint8_t fam = buf[V2_FAM];
	/* undefined families and transports "must be rejected as invalid" */
	if (fam >> 4 > 0x3 || (fam & 0x0f) > 0x2)
		return fail(err, PP_ERR_V2_FAMILY, V2_FAM);
	/*
	 * UNSPEC, UNIX and DGRAM under PROXY: the spec lets a receiver refuse
	 * them ("free to accept ... or to reject it"); a TCP proxy has no use
	 * for them, and senders such as HAProxy send LOCAL instead.
	 */
	if (command == V2_PROXY && fam != V2_TCP4 && fam != V2_TCP6)
		return fail(err, PP_ERR_V2_NOT_TCP, V2_FAM);
	if (len < V2_FIXED_LEN)
		return PP_NEED_MORE;
	size_t body = (size_t)buf[V2_LEN] << 8 | buf[V2_LEN + 1];
	size_t total = V2_FIXED_LEN + body;
	size_t addr_len = fam == V2_TCP4 ? V2_ADDR_TCP4 : V2_ADDR_TCP6;
	if (total > PP_V2_MAX)
		return fail(err, PP_ERR_V2_TOO_LONG, V2_LEN);
	if (command == V2_PROXY && body < addr_len)
		return fail(err, PP_ERR_V2_ADDR_SHORT, V2_LEN);
	/* "must not start to parse an address before the whole ... block" */
	if (len < total)
		return PP_NEED_MORE;
	h->version = 2;
	/*
	 * LOCAL: "discard the protocol block including the family which is
	 * ignored"; the length may be anything and is skipped whole.
	 */
	if (command == V2_LOCAL) {
		h->local = true;
		return (int)total;
	}
	int rc = v2_tlvs(buf, V2_FIXED_LEN + addr_len, total, err);
	if (rc != 0)
		return rc;
	v2_addresses(buf + V2_FIXED_LEN, fam, h);
	return (int)total;
}

int pp_parse(const uint8_t *buf, size_t len, struct pp_header *out,
	     struct pp_error *err)
{
	struct pp_header h;
	int rc;

	memset(&h, 0, sizeof(h));
	if (len == 0)
		return PP_NEED_MORE;
	/* §2.2: the first byte tells the versions apart */
	if (buf[0] == v2_signature[0])
		rc = parse_v2(buf, len, &h, err);
	else if (buf[0] == 'P')
		rc = parse_v1(buf, len, &h, err);
	else
		rc = fail(err, PP_ERR_NOT_PROXY, 0);
	if (rc > 0)
		*out = h;
	return rc;
}

const char *pp_strerror(enum pp_err code)
{
	switch (code) {
	case PP_ERR_NONE:
		return "ok";
	case PP_ERR_NOT_PROXY:
		return "not a PROXY protocol header";
	case PP_ERR_V1_PROTOCOL:
		return "PROXY v1: protocol not TCP4, TCP6 or UNKNOWN";
	case PP_ERR_V1_IPV4:
		return "PROXY v1: invalid IPv4 address";
	case PP_ERR_V1_IPV6:
		return "PROXY v1: invalid IPv6 address";
	case PP_ERR_V1_PORT:
		return "PROXY v1: invalid port";
	case PP_ERR_V1_CHAR:
		return "PROXY v1: byte outside printable US-ASCII";
	case PP_ERR_V1_LINE_END:
		return "PROXY v1: CR or LF out of place";
	case PP_ERR_V1_TOO_LONG:
		return "PROXY v1: no CRLF within 107 bytes";
	case PP_ERR_V2_VERSION:
		return "PROXY v2: version not 2";
	case PP_ERR_V2_COMMAND:
		return "PROXY v2: command neither LOCAL nor PROXY";
	case PP_ERR_V2_FAMILY:
		return "PROXY v2: undefined address family or transport";
	case PP_ERR_V2_NOT_TCP:
		return "PROXY v2: PROXY command not for TCP over IPv4 or IPv6";
	case PP_ERR_V2_ADDR_SHORT:
		return "PROXY v2: length shorter than the addresses";
	case PP_ERR_V2_TOO_LONG:
		return "PROXY v2: header too long";
	case PP_ERR_V2_TLV:
		return "PROXY v2: malformed TLV";
	case PP_ERR_V2_CRC32C:
		return "PROXY v2: CRC32C mismatch";
	}
	return "invalid PROXY protocol header";
}
