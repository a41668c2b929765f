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
#include "xtr-gateway/xtr.h"

/* A request: the netlink header, the rtmsg and room for attributes. */
struct rt_req {
	union {
		struct nlmsghdr nh;
		uint8_t raw[128];
	} u;
};

static void put_attr(struct rt_req *q, unsigned short type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->u.nh.nlmsg_len);
	struct rtattr a = { .rta_type = type, .rta_len = (unsigned short)RTA_LENGTH(len) };

	if (at + RTA_ALIGN(a.rta_len) > sizeof(q->u.raw))
		return; /* cannot happen: at most three small attributes */
	memcpy(q->u.raw + at, &a, sizeof(a));
	memcpy(q->u.raw + at + RTA_LENGTH(0), data, len);
	q->u.nh.nlmsg_len = (uint32_t)(at + RTA_ALIGN(a.rta_len));
}

static void route_msg(struct rt_req *q, int type, const struct lisp_prefix *p, uint32_t table,
		      int ifindex)
{
	bool v4 = p->addr.afi == LISP_AFI_IPV4;
	struct rtmsg rt = { .rtm_family = v4 ? AF_INET : AF_INET6,
			    .rtm_dst_len = p->plen,
			    .rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC,
			    .rtm_protocol = XTR_RTPROT,
			    .rtm_scope = RT_SCOPE_LINK,
			    .rtm_type = RTN_UNICAST };

	memset(q, 0, sizeof(*q));
	q->u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	q->u.nh.nlmsg_type = (unsigned short)type;
	memcpy(q->u.raw + NLMSG_HDRLEN, &rt, sizeof(rt));
	put_attr(q, RTA_DST, v4 ? (const void *)p->addr.u.v4 : (const void *)p->addr.u.v6,
		 v4 ? 4 : 16);
	put_attr(q, RTA_TABLE, &table, sizeof(table));
	if (ifindex)
		put_attr(q, RTA_OIF, &ifindex, sizeof(ifindex));
}

int xtr_rt_route(int fd, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex)
{
	struct rt_req q;

	route_msg(&q, add ? RTM_NEWROUTE : RTM_DELROUTE, p, table, ifindex);
	if (add)
		q.u.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	return nl_talk(fd, &q.u.nh);
}

/* Routes of ours found by a dump, to delete once it is over. */
struct ours {
	uint32_t msg[64][64]; /* 256 bytes each, aligned as netlink messages are */
	size_t n;
};

static void keep_ours(const struct nlmsghdr *r, void *arg)
{
	struct ours *o = arg;
	const struct rtmsg *rt = (const void *)((const char *)r + NLMSG_HDRLEN);

	if (r->nlmsg_type == RTM_NEWROUTE && rt->rtm_protocol == XTR_RTPROT &&
	    r->nlmsg_len <= sizeof(o->msg[0]) && o->n < 64)
		memcpy(o->msg[o->n++], r, r->nlmsg_len);
}

/* Deletes every route of ours (protocol XTR_RTPROT) of one family; returns how many. */
static int flush_family(int fd, unsigned char family)
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
	rc = nl_exchange(fd, &q.nh, keep_ours, &o);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < o.n; i++) {
		struct nlmsghdr *d = (struct nlmsghdr *)(void *)o.msg[i];

		d->nlmsg_type = RTM_DELROUTE;
		d->nlmsg_flags = 0;
		if (nl_talk(fd, d) == 0)
			count++;
	}
	/* at most 64 a pass: another pass while there were that many and they went */
	return o.n == 64 && count > 0 ? count + flush_family(fd, family) : count;
}

int xtr_rt_flush(int fd)
{
	int a = flush_family(fd, AF_INET), b = flush_family(fd, AF_INET6);

	return a < 0 ? a : b < 0 ? b : a + b;
}

int xtr_rt_open(void)
{
	return nl_open(NETLINK_ROUTE);
}
