/*
 * proxy_protocol.h - the PROXY protocol header, versions 1 (text) and 2
 * (binary), as HAProxy's doc/proxy-protocol.txt specifies it: the line or
 * block a load balancer sends before the client's first byte to tell us
 * the client's address and the address it connected to.
 *
 * Pure: bytes in, addresses out; no I/O, no allocation, no globals. The
 * parser reads only buf[0..len) and writes only *out and *err. It accepts
 * exactly what the spec allows and fails as soon as the bytes seen cannot
 * start a valid header, so a client that sends "GET ..." to a listener
 * expecting a header is refused at its first byte, not after a timeout.
 * Whether a listener expects a header at all is configuration, never
 * guessed from the bytes (spec §5).
 */
#ifndef SLUICE_HTTP_PROXY_PROTOCOL_H
#define SLUICE_HTTP_PROXY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* pp_parse returns one of these, or the header's length in bytes (> 0). */
enum pp_result {
	PP_NEED_MORE = -2,
	PP_ERROR = -1,
};

enum pp_err {
	PP_ERR_NONE = 0,
	PP_ERR_NOT_PROXY,     /* neither "PROXY " nor the v2 signature */
	PP_ERR_V1_PROTOCOL,   /* not "TCP4 ", "TCP6 " or "UNKNOWN" */
	PP_ERR_V1_IPV4,	      /* not a strict dotted quad, or no single SP */
	PP_ERR_V1_IPV6,	      /* not an IPv6 address to inet_pton */
	PP_ERR_V1_PORT,	      /* not 0..65535 without leading zeros */
	PP_ERR_V1_CHAR,	      /* UNKNOWN's rest: byte outside 0x20..0x7e */
	PP_ERR_V1_LINE_END,   /* CR or LF out of place: not one CRLF at end */
	PP_ERR_V1_TOO_LONG,   /* no CRLF within PP_V1_MAX bytes */
	PP_ERR_V2_VERSION,    /* version nibble is not 2 */
	PP_ERR_V2_COMMAND,    /* neither LOCAL (0) nor PROXY (1) */
	PP_ERR_V2_FAMILY,     /* undefined family (> 3) or transport (> 2) */
	PP_ERR_V2_NOT_TCP,    /* PROXY for UNSPEC, UNIX or DGRAM */
	PP_ERR_V2_ADDR_SHORT, /* length below the family's address block */
	PP_ERR_V2_TOO_LONG,   /* length beyond PP_V2_MAX in all */
	PP_ERR_V2_TLV,	      /* TLV overruns; CRC32C not 4 bytes or twice */
	PP_ERR_V2_CRC32C,     /* the CRC32C TLV does not match the header */
};

struct pp_error {
	enum pp_err code;
	/* byte offset of the offending byte, or of the first byte of the
	 * offending v2 field or TLV; for PP_ERR_V1_TOO_LONG, PP_V1_MAX */
	size_t offset;
};

struct pp_header {
	int version; /* 1 or 2 */
	/*
	 * v1 "UNKNOWN" or v2 LOCAL: the sender says nothing about the client
	 * (a health check, or a family it cannot tell); keep the connection's
	 * own addresses. src and dst are then zeroed, their lengths 0.
	 */
	bool local;
	/* AF_INET or AF_INET6, both the same family; ports included */
	struct sockaddr_storage src, dst;
	socklen_t src_len, dst_len;
};

/* Longest v1 line, CRLF included (spec §2.1: "PROXY UNKNOWN" + 2 IPv6). */
#define PP_V1_MAX 107
/*
 * Longest v2 header we take, in bytes, the 16 fixed bytes included: room
 * for an IPv6 address block (36) and about 970 bytes of TLVs (SSL details,
 * authority, unique ID: a few hundred in practice). The spec allows 16 +
 * 65535; we refuse more than this as soon as the length field is seen.
 */
#define PP_V2_MAX 1024
/* A buffer this long holds any header pp_parse accepts. */
#define PP_MAX PP_V2_MAX

/*
 * Parses the header at buf[0..len), the first bytes a connection sent.
 * Bytes after the header (the client's own) are not looked at.
 *
 * Returns the header's length (> 0) with *out filled; PP_NEED_MORE when
 * buf is a strict prefix of a header that may still be valid (len 0
 * included); or PP_ERROR with *err set. *out is written only on success,
 * *err only on error. Feeding the same bytes whole or in pieces gives the
 * same result: an error, once returned, is returned for every longer input.
 *
 * v2 TLVs are checked to tile the rest of the header exactly and are
 * otherwise skipped, but for a CRC32C TLV, which must match (spec §2.2.3).
 */
int pp_parse(const uint8_t *buf, size_t len, struct pp_header *out,
	     struct pp_error *err);

/* A short English reason for an error code, for a log line. */
const char *pp_strerror(enum pp_err code);

#endif
