/*
 * IPv4/IPv6 + UDP headers: build and parse, with the Internet checksum.
 * Used for the inner header of Encapsulated Control Messages, for test
 * captures, and by the data plane for outer headers.
 */
#ifndef LIB_IPPKT_H
#define LIB_IPPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/lisp_addr.h"

#define IPPKT_V4_HDR_LEN  20
#define IPPKT_V6_HDR_LEN  40
#define IPPKT_UDP_HDR_LEN 8

/* An IP packet carrying UDP, as decoded or as to be built. */
struct ippkt_udp {
	struct lisp_addr src, dst; /* both IPv4 or both IPv6 */
	uint16_t sport, dport;
	uint8_t ttl;		/* TTL or hop limit */
	uint8_t tos;		/* IPv4 TOS or IPv6 traffic class */
	uint16_t ip_id;		/* IPv4 identification (build only) */
	bool df;		/* IPv4 don't-fragment */
	bool udp_csum0;		/* build: send UDP checksum 0; decode: it was 0 */
	const uint8_t *payload; /* decode: view of the UDP payload */
	size_t payload_len;
};

/* One's-complement sum of n bytes added to sum (not folded). */
uint32_t ippkt_csum_add(uint32_t sum, const void *data, size_t n);

/* Folds a sum into the final 16-bit checksum (complemented). */
uint16_t ippkt_csum_fold(uint32_t sum);

/*
 * Writes IP header + UDP header + payload. The IPv4 header checksum is
 * computed; the UDP checksum is computed unless h->udp_csum0 (then 0).
 * Returns 0, -EINVAL (addresses not both IPv4 or both IPv6, too long)
 * or the writer's -ENOSPC.
 */
int ippkt_encode_udp(struct buf_writer *w, const struct ippkt_udp *h, const void *payload,
		     size_t len);

/*
 * Parses an IPv4 (options skipped) or IPv6 (no extension headers) packet
 * carrying UDP. Checks header lengths against len, the IPv4 header
 * checksum, and (when verify_udp) a non-zero, correct UDP checksum.
 * Returns 0, -EBADMSG, or -EPROTONOSUPPORT (not UDP, a fragment, an IPv6
 * extension header, an IP version other than 4 or 6).
 */
int ippkt_decode_udp(const uint8_t *pkt, size_t len, bool verify_udp, struct ippkt_udp *out);

#endif /* LIB_IPPKT_H */
