/*
 * LISP addresses: IPv4, IPv6 and MAC addresses, EID prefixes qualified by
 * an instance-id, their text forms, comparison and hashing, and their
 * wire encoding as AFI-prefixed addresses (RFC 9301 §5, LCAF RFC 8060:
 * Instance-ID type 2 and AFI-List type 1).
 *
 * Addresses are kept in network byte order. Nothing here allocates.
 */
#ifndef LIB_LISP_ADDR_H
#define LIB_LISP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "lib/buf.h"

/* Address Family Identifiers (IANA), used as the family of a struct lisp_addr. */
#define LISP_AFI_NONE 0
#define LISP_AFI_IPV4 1
#define LISP_AFI_IPV6 2
#define LISP_AFI_MAC  6
#define LISP_AFI_LCAF 16387

#define LISP_LCAF_AFI_LIST    1
#define LISP_LCAF_INSTANCE_ID 2

/* Instance-ids carried in the data plane are 24 bits (RFC 9300 §5.3). */
#define LISP_IID_DP_MAX 0xffffffu

/* Longest text forms, including the terminating NUL. */
#define LISP_ADDR_STRLEN   46 /* INET6_ADDRSTRLEN */
#define LISP_PREFIX_STRLEN 64 /* "[4294967295] " + address + "/128" */

/* Entries of an AFI-List LCAF we keep (an IPv4, an IPv6 and a MAC address). */
#define LISP_AFI_LIST_MAX 3

struct lisp_addr {
	uint16_t afi; /* LISP_AFI_NONE, _IPV4, _IPV6 or _MAC */
	union {
		uint8_t v4[4];
		uint8_t v6[16];
		uint8_t mac[6];
		uint8_t b[16];
	} u;
};

/* An EID prefix: address bits beyond plen are zero. iid 0 is the default table. */
struct lisp_prefix {
	uint32_t iid;
	uint8_t plen;
	struct lisp_addr addr;
};

/* Address length in bytes for an AFI (0 for NONE), or -1 if the AFI is not one we know. */
int lisp_afi_addr_len(uint16_t afi);

/* Maximum prefix length for an AFI (32, 128, 48; 0 for NONE). */
unsigned lisp_afi_max_plen(uint16_t afi);

/* Builders for the common cases. v4 and v6 point to network-order bytes. */
void lisp_addr_set_v4(struct lisp_addr *a, const void *v4);
void lisp_addr_set_v6(struct lisp_addr *a, const void *v6);

/*
 * Parses an IPv4, IPv6 or MAC (xx:xx:xx:xx:xx:xx) address.
 * Returns 0, or -EINVAL (a is then zeroed).
 */
int lisp_addr_parse(const char *s, struct lisp_addr *a);

/*
 * Parses "ADDR/LEN" or "ADDR" (a host prefix) into p with the given iid.
 * Returns 0, or -EINVAL for bad syntax, a length out of range, or host
 * bits set beyond LEN.
 */
int lisp_prefix_parse(const char *s, uint32_t iid, struct lisp_prefix *p);

/* Formats into buf (size >= LISP_ADDR_STRLEN); returns buf. AFI 0 prints "no-address". */
char *lisp_addr_format(const struct lisp_addr *a, char *buf, size_t size);

/* Formats "[IID] ADDR/LEN" (the IID part only when iid != 0); buf size >= LISP_PREFIX_STRLEN. */
char *lisp_prefix_format(const struct lisp_prefix *p, char *buf, size_t size);

/* Total order: by AFI, then bytes. Returns <0, 0, >0. */
int lisp_addr_cmp(const struct lisp_addr *a, const struct lisp_addr *b);
bool lisp_addr_equal(const struct lisp_addr *a, const struct lisp_addr *b);
uint32_t lisp_addr_hash(const struct lisp_addr *a);

/* Total order: by iid, AFI, address, then plen. */
int lisp_prefix_cmp(const struct lisp_prefix *a, const struct lisp_prefix *b);
bool lisp_prefix_equal(const struct lisp_prefix *a, const struct lisp_prefix *b);
uint32_t lisp_prefix_hash(const struct lisp_prefix *p);

/* Zeroes the address bits beyond p->plen. */
void lisp_prefix_mask(struct lisp_prefix *p);

/* True if inner lies within outer (same iid and AFI, plen >= outer's, bits agree). */
bool lisp_prefix_contains(const struct lisp_prefix *outer, const struct lisp_prefix *inner);

/* True if address a of table iid lies within p. */
bool lisp_prefix_contains_addr(const struct lisp_prefix *p, uint32_t iid,
			       const struct lisp_addr *a);

/* Makes the host prefix (/32, /128, /48) of address a in table iid. */
void lisp_prefix_from_addr(struct lisp_prefix *p, uint32_t iid, const struct lisp_addr *a);

/* The socket address of an IPv4 or IPv6 address and port; returns its length. */
socklen_t lisp_addr_to_sockaddr(const struct lisp_addr *a, uint16_t port,
				struct sockaddr_storage *ss);

/* The address and port of an AF_INET or AF_INET6 socket address; -EAFNOSUPPORT otherwise. */
int lisp_addr_from_sockaddr(const struct sockaddr_storage *ss, struct lisp_addr *a, uint16_t *port);

/*
 * Wire forms. Decoders read from r and return 0, -EBADMSG (truncated or
 * inconsistent) or -EPROTONOSUPPORT (an AFI or LCAF type we do not handle:
 * the message must be dropped).
 */

/* A plain AFI + address (AFI 0, 1, 2 or 6). */
int lisp_addr_decode(struct buf_reader *r, struct lisp_addr *a);
void lisp_addr_encode(struct buf_writer *w, const struct lisp_addr *a);

/*
 * An EID: plain AFI, or an Instance-ID LCAF wrapping one. plen is the
 * record's mask-len (of the inner address); it is checked against the
 * AFI. An EID without the LCAF gets iid 0. The encoder uses the LCAF
 * exactly when p->iid != 0.
 */
int lisp_eid_decode(struct buf_reader *r, uint8_t plen, struct lisp_prefix *p);
void lisp_eid_encode(struct buf_writer *w, const struct lisp_prefix *p);

/*
 * A locator address: plain AFI, or an AFI-List LCAF of plain addresses.
 * addrs receives up to LISP_AFI_LIST_MAX entries, *n their number; *list
 * tells whether the wire used an AFI-List. Longer lists and nested LCAFs
 * give -EPROTONOSUPPORT.
 */
int lisp_rloc_decode(struct buf_reader *r, struct lisp_addr *addrs, uint8_t *n, bool *list);
void lisp_rloc_encode(struct buf_writer *w, const struct lisp_addr *addrs, uint8_t n, bool list);

#endif /* LIB_LISP_ADDR_H */
