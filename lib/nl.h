/*
 * Netlink through libmnl: open a socket, send one request and read the
 * kernel's answers to it (acknowledgement, or a dump); rtnetlink routes.
 */
#ifndef LIB_NL_H
#define LIB_NL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

/* A netlink socket (opaque): one request at a time. */
struct nl;

/* A bound socket of protocol (NETLINK_ROUTE ...) in *nl (caller frees: nl_close()); 0 or -errno. */
int nl_open(struct nl **nl, int protocol);
/* The same subscribed to multicast groups (RTMGRP_NEIGH ...), non-blocking: for events. */
int nl_open_groups(struct nl **nl, int protocol, uint32_t groups);
/* Closes and frees nl; NULL is a no-op. */
void nl_close(struct nl *nl);
/* Its file descriptor, to poll (events) and read; owned by nl. */
int nl_fd(const struct nl *nl);
/*
 * Sends req (sequence number and NLM_F_REQUEST set here) and reads the
 * answers: each message is handed to fn (may be NULL; r is valid during the
 * call) until NLMSG_DONE or NLMSG_ERROR. Returns the error the kernel
 * reported (0: none) or -errno (-ETIMEDOUT: no answer within 2 s).
 */
int nl_exchange(struct nl *nl, struct nlmsghdr *req, void (*fn)(struct nlmsghdr *r, void *arg),
		void *arg);
/* nl_exchange() of a request that wants an acknowledgement. */
int nl_talk(struct nl *nl, struct nlmsghdr *nh);

/*
 * Adds (replacing) or deletes route p in table: via gateway via (NULL: on
 * the link) out of ifindex (0: any), with the given protocol number.
 * 0 or -errno.
 */
int nl_route(struct nl *nl, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex,
	     const struct lisp_addr *via, uint8_t protocol);
/* The kernel's route to dst: its gateway (afi NONE: on the link) and interface. */
int nl_route_get(struct nl *nl, const struct lisp_addr *dst, struct lisp_addr *via, int *oif);
/*
 * The default route of the main table for family afi (LISP_AFI_IPV4 or
 * _IPV6): its gateway and interface (the first one if there are several).
 * 0, -ENETUNREACH (none) or -errno.
 */
int nl_route_default(struct nl *nl, uint16_t afi, struct lisp_addr *via, int *oif);
/*
 * The first address of family afi of interface ifindex (the local one of
 * a point-to-point), in the kernel's order, as getifaddrs() would give it
 * but without dumping every interface: 0, -ENOENT (none) or -errno.
 */
int nl_if_addr(struct nl *nl, int ifindex, uint16_t afi, struct lisp_addr *out);
/* The neighbour entry of a on ifindex is mac, STALE (used at once, confirmed after): 0 or -errno. */
int nl_neigh_stale(struct nl *nl, int ifindex, const struct lisp_addr *a, const uint8_t mac[6]);
/* Deletes the neighbour entry of a on ifindex: 0, -ENOENT (none) or -errno. */
int nl_neigh_del(struct nl *nl, int ifindex, const struct lisp_addr *a);
/*
 * Makes noqueue the root qdisc of ifindex (before it is up, no default
 * qdisc is ever made): for a device that never stops its queues, as TUN,
 * whose multi-queue default is 256 pfifo_fast qdiscs. 0 or -errno.
 */
int nl_qdisc_noqueue(struct nl *nl, int ifindex);

#endif /* LIB_NL_H */
