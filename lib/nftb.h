/*
 * nftables transactions through libnftnl and libmnl, as fhr-agent (its
 * NFQUEUE rules and sets) and vmroam-virtwatch (the frames of a guest in
 * its switchover steered to its FHR) make them: a socket, and batches of
 * messages sent and acknowledged at once. Functions return 0 or -errno.
 */
#ifndef VMROAM_LIB_NFTB_H
#define VMROAM_LIB_NFTB_H

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <stddef.h>
#include <stdint.h>

struct nftb_sock {
	struct mnl_socket *sk;
	uint32_t portid, seq;
};

/* A netfilter netlink socket, non-blocking, errors acknowledged without a copy. */
int nftb_open(struct nftb_sock *s);
void nftb_close(struct nftb_sock *s);

/* Messages of one transaction (of one protocol family): begin, ours, end. */
struct nftb {
	char *buf;
	size_t len, cap;
	struct nftb_sock *s;
	uint16_t family;
};

void nftb_start(struct nftb *b, struct nftb_sock *s, uint16_t family);
/* A message of the batch: its header (every one is acknowledged); nftb_done() once built. */
struct nlmsghdr *nftb_msg(struct nftb *b, uint16_t type, uint16_t flags);
void nftb_done(struct nftb *b, const struct nlmsghdr *nh);
/* Sends the batch and reads every answer: the first error, or 0. Frees the batch. */
int nftb_send(struct nftb *b);
/* Frees a batch not sent. */
void nftb_drop(struct nftb *b);

/* A table message (NFT_MSG_NEWTABLE or _DELTABLE) for table name of the batch's family. */
void nftb_table(struct nftb *b, const char *name, uint16_t type, uint16_t flags, uint32_t tflags);
/* Table name anew, owned by this socket (it goes when the process does): a leftover one, or
 * one of a crashed run, goes first in the same transaction. */
void nftb_table_fresh(struct nftb *b, const char *name);

/* libnftnl returns NULL only when out of memory: aborts, as the allocators here do. */
void *nftb_must(void *p);
/* Expression name with two u32 attributes. */
struct nftnl_expr *nftb_expr(const char *name, uint16_t a1, uint32_t v1, uint16_t a2, uint32_t v2);
/* Appends to r: register 1 == data. */
void nftb_cmp(struct nftnl_rule *r, const void *data, uint32_t len);

#endif
