/* A netlink request and its answers (rtnetlink), for the daemons' routes and neighbours. */
#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <string.h>

#include "lib/nl.h"

int nl_open(int protocol)
{
	return nl_open_groups(protocol, 0);
}

int nl_open_groups(int protocol, uint32_t groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0),
			protocol);

	if (fd < 0)
		return -errno;
	/* the kernel answers at once: never wait for it longer than that */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 2 },
		   sizeof(struct timeval));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/*
 * Sends req and reads the kernel's answers to it: each message is handed
 * to fn (may be NULL) until NLMSG_DONE or NLMSG_ERROR. Returns the error
 * the kernel reported (0 for an acknowledgement) or -errno.
 */
int nl_exchange(int fd, struct nlmsghdr *req, void (*fn)(struct nlmsghdr *r, void *arg), void *arg)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	static uint8_t buf[65536];
	static uint32_t seq;
	ssize_t n;

	req->nlmsg_seq = ++seq;
	req->nlmsg_flags |= NLM_F_REQUEST;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (struct nlmsghdr *r = (struct nlmsghdr *)(void *)buf; NLMSG_OK(r, (size_t)n);
		     r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
			if (fn)
				fn(r, arg);
		}
	}
}

int nl_talk(int fd, struct nlmsghdr *nh)
{
	nh->nlmsg_flags |= NLM_F_ACK;
	return nl_exchange(fd, nh, NULL, NULL);
}

/* A request: the netlink header, the rtmsg and room for attributes. */
struct rt_req {
	union {
		struct nlmsghdr nh;
		uint8_t raw[160];
	} u;
};

static void put_attr(struct rt_req *q, unsigned short type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->u.nh.nlmsg_len);
	struct rtattr a = { .rta_type = type, .rta_len = (unsigned short)RTA_LENGTH(len) };

	if (at + RTA_ALIGN(a.rta_len) > sizeof(q->u.raw))
		return; /* cannot happen: at most four small attributes */
	memcpy(q->u.raw + at, &a, sizeof(a));
	memcpy(q->u.raw + at + RTA_LENGTH(0), data, len);
	q->u.nh.nlmsg_len = (uint32_t)(at + RTA_ALIGN(a.rta_len));
}

int nl_route(int fd, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex,
	     const struct lisp_addr *via, uint8_t protocol)
{
	bool v4 = p->addr.afi == LISP_AFI_IPV4;
	struct rtmsg rt = { .rtm_family = v4 ? AF_INET : AF_INET6,
			    .rtm_dst_len = p->plen,
			    .rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC,
			    .rtm_protocol = protocol,
			    .rtm_scope = via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
			    .rtm_type = RTN_UNICAST };
	struct rt_req q;

	memset(&q, 0, sizeof(q));
	q.u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	q.u.nh.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	if (add)
		q.u.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	memcpy(q.u.raw + NLMSG_HDRLEN, &rt, sizeof(rt));
	put_attr(&q, RTA_DST, v4 ? (const void *)p->addr.u.v4 : (const void *)p->addr.u.v6,
		 v4 ? 4 : 16);
	put_attr(&q, RTA_TABLE, &table, sizeof(table));
	if (ifindex)
		put_attr(&q, RTA_OIF, &ifindex, sizeof(ifindex));
	if (via)
		put_attr(&q, RTA_GATEWAY, v4 ? (const void *)via->u.v4 : (const void *)via->u.v6,
			 v4 ? 4 : 16);
	return nl_talk(fd, &q.u.nh);
}

/* Collects the gateway and interface of a route lookup's answer. */
struct lookup {
	struct lisp_addr via;
	int oif;
	bool found;
};

static void lookup_one(struct nlmsghdr *r, void *arg)
{
	struct lookup *l = arg;
	struct rtmsg *rt = NLMSG_DATA(r);
	struct rtattr *a = RTM_RTA(rt);
	int left = (int)r->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rt));

	if (r->nlmsg_type != RTM_NEWROUTE || left < 0)
		return;
	l->found = true;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == sizeof(int))
			memcpy(&l->oif, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == 4 &&
			 rt->rtm_family == AF_INET)
			lisp_addr_set_v4(&l->via, RTA_DATA(a));
		else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == 16 &&
			 rt->rtm_family == AF_INET6)
			lisp_addr_set_v6(&l->via, RTA_DATA(a));
	}
}

int nl_route_get(int fd, const struct lisp_addr *dst, struct lisp_addr *via, int *oif)
{
	bool v4 = dst->afi == LISP_AFI_IPV4;
	struct rtmsg rt = { .rtm_family = v4 ? AF_INET : AF_INET6, .rtm_dst_len = v4 ? 32 : 128 };
	struct lookup l = { .oif = 0 };
	struct rt_req q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	q.u.nh.nlmsg_type = RTM_GETROUTE;
	q.u.nh.nlmsg_flags = NLM_F_ACK; /* the answer, then an acknowledgement that ends it */
	memcpy(q.u.raw + NLMSG_HDRLEN, &rt, sizeof(rt));
	put_attr(&q, RTA_DST, v4 ? (const void *)dst->u.v4 : (const void *)dst->u.v6, v4 ? 4 : 16);
	rc = nl_exchange(fd, &q.u.nh, lookup_one, &l);
	if (rc < 0)
		return rc;
	if (!l.found)
		return -ENETUNREACH;
	*via = l.via;
	*oif = l.oif;
	return 0;
}
