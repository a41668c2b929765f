/*
 * Kernel routes of the data plane over rtnetlink: EID prefixes the ITR
 * serves and away EIDs go into the instance-id's TUN device, learned
 * across-subnet dynamic EIDs toward their mobility interface. Every route
 * carries protocol XTR_RTPROT so that leftovers of a crashed run can be
 * found and removed (`ip route show proto 145`).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/nl.h"
#include "xtr-gateway/dataplane/route.h"

int xtr_rt_route(struct nl *rt, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex)
{
	return nl_route(rt, add, p, table, ifindex, NULL, XTR_RTPROT);
}

/* Routes of ours found by a dump, to delete once it is over. */
struct ours {
	uint32_t msg[64][64]; /* 256 bytes each, aligned as netlink messages are */
	size_t n;
};

static void keep_ours(struct nlmsghdr *r, void *arg)
{
	struct ours *o = arg;
	const struct rtmsg *rt = (const void *)((const char *)r + NLMSG_HDRLEN);

	if (r->nlmsg_type == RTM_NEWROUTE && rt->rtm_protocol == XTR_RTPROT &&
	    r->nlmsg_len <= sizeof(o->msg[0]) && o->n < 64)
		memcpy(o->msg[o->n++], r, r->nlmsg_len);
}

/* Deletes every route of ours (protocol XTR_RTPROT) of one family; returns how many. */
static int flush_family(struct nl *rt, unsigned char family)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} q = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
			.nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_DUMP },
		.rt = { .rtm_family = family } };
	static struct ours o;
	int count = 0, rc;

	o.n = 0;
	rc = nl_exchange(rt, &q.nh, keep_ours, &o);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < o.n; i++) {
		struct nlmsghdr *d = (struct nlmsghdr *)(void *)o.msg[i];

		d->nlmsg_type = RTM_DELROUTE;
		d->nlmsg_flags = 0;
		if (nl_talk(rt, d) == 0)
			count++;
	}
	/* at most 64 a pass: another pass while there were that many and they went */
	return o.n == 64 && count > 0 ? count + flush_family(rt, family) : count;
}

int xtr_rt_flush(struct nl *rt)
{
	int a = flush_family(rt, AF_INET), b = flush_family(rt, AF_INET6);

	return a < 0 ? a : b < 0 ? b : a + b;
}

int xtr_rt_open(struct nl **rt)
{
	return nl_open(rt, NETLINK_ROUTE);
}
