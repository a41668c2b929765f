/*
 * Kernel routes of the data plane over rtnetlink (dataplane/route.c).
 */
#ifndef XTR_GATEWAY_DATAPLANE_ROUTE_H
#define XTR_GATEWAY_DATAPLANE_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

#define XTR_RTPROT 145 /* the protocol of our routes: ip route show proto 145 */
struct nl;
/* An rtnetlink socket in *rt (caller frees: nl_close()); 0 or -errno. */
int xtr_rt_open(struct nl **rt);
/* Adds (replacing) or deletes p via interface ifindex in table; 0 or -errno. */
int xtr_rt_route(struct nl *rt, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex);
/* Deletes all routes of protocol XTR_RTPROT; how many, or -errno. */
int xtr_rt_flush(struct nl *rt);

#endif /* XTR_GATEWAY_DATAPLANE_ROUTE_H */
