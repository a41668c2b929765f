/*
 * Netlink without a library: open a socket, send one request and read the
 * kernel's answers to it (acknowledgement, or a dump).
 */
#ifndef LIB_NL_H
#define LIB_NL_H

#include <linux/netlink.h>

/* A bound netlink socket of protocol (NETLINK_ROUTE ...): the fd, or -errno. */
int nl_open(int protocol);
/*
 * Sends req (sequence number and NLM_F_REQUEST set here) and reads the
 * answers: each message is handed to fn (may be NULL) until NLMSG_DONE or
 * NLMSG_ERROR. Returns the error the kernel reported (0: none) or -errno.
 */
int nl_exchange(int fd, struct nlmsghdr *req, void (*fn)(const struct nlmsghdr *r, void *arg),
		void *arg);
/* nl_exchange() of a request that wants an acknowledgement. */
int nl_talk(int fd, struct nlmsghdr *nh);

#endif /* LIB_NL_H */
