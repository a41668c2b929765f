/*
 * Netlink without a library: open a socket, send one request and read the
 * kernel's answers to it (acknowledgement, or a dump).
 */
#ifndef LIB_NL_H
#define LIB_NL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

/* A bound netlink socket of protocol (NETLINK_ROUTE ...): the fd, or -errno. */
int nl_open(int protocol);
/* The same subscribed to multicast groups (RTMGRP_NEIGH ...), non-blocking: for events. */
int nl_open_groups(int protocol, uint32_t groups);
/*
 * Sends req (sequence number and NLM_F_REQUEST set here) and reads the
 * answers: each message is handed to fn (may be NULL) until NLMSG_DONE or
 * NLMSG_ERROR. Returns the error the kernel reported (0: none) or -errno.
 */
int nl_exchange(int fd, struct nlmsghdr *req, void (*fn)(struct nlmsghdr *r, void *arg), void *arg);
/* nl_exchange() of a request that wants an acknowledgement. */
int nl_talk(int fd, struct nlmsghdr *nh);

/*
 * Adds (replacing) or deletes route p in table: via gateway via (NULL: on
 * the link) out of ifindex (0: any), with the given protocol number.
 * 0 or -errno.
 */
int nl_route(int fd, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex,
	     const struct lisp_addr *via, uint8_t protocol);
/* The kernel's route to dst: its gateway (afi NONE: on the link) and interface. */
int nl_route_get(int fd, const struct lisp_addr *dst, struct lisp_addr *via, int *oif);

#endif /* LIB_NL_H */
