/*
 * A netlink request and its answers through libmnl (rtnetlink), for the
 * daemons' routes and neighbours. libmnl builds and walks the messages and
 * attributes and checks the answers' sequence numbers and port; what is
 * left here is one socket's receive buffer and the route requests (and the
 * one qdisc request).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/nl.h"
#include "lib/xalloc.h"

struct nl {
	struct mnl_socket *sk;
	uint32_t seq, portid;
	/* a dump's datagrams are at most 32 KiB (the kernel's cap) */
	uint8_t buf[65536] __attribute__((aligned(4)));
};

int nl_open(struct nl **nl, int protocol)
{
	return nl_open_groups(nl, protocol, 0);
}

int nl_open_groups(struct nl **nl, int protocol, uint32_t groups)
{
	struct mnl_socket *sk =
		mnl_socket_open2(protocol, SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0));
	int e;

	if (!sk)
		return -errno;
	/* the kernel answers at once: never wait for it longer than that */
	setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 2 },
		   sizeof(struct timeval));
	if (mnl_socket_bind(sk, groups, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(sk);
		return -e;
	}
	*nl = xcalloc(1, sizeof(**nl));
	(*nl)->sk = sk;
	(*nl)->portid = mnl_socket_get_portid(sk);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sk);
}

/*
 * Sends req and runs cb on each answer (libmnl handles NLMSG_ERROR, DONE
 * and the sequence check) until the last one; the kernel's error or -errno.
 */
static int exchange(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	ssize_t n;
	int rc;

	req->nlmsg_seq = ++nl->seq;
	req->nlmsg_flags |= NLM_F_REQUEST;
	if (mnl_socket_sendto(nl->sk, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		/* a datagram answers one request: one to an earlier that timed out is skipped */
		if (!mnl_nlmsg_ok((const struct nlmsghdr *)(void *)nl->buf, (int)n) ||
		    ((const struct nlmsghdr *)(void *)nl->buf)->nlmsg_seq != req->nlmsg_seq)
			continue;
		rc = mnl_cb_run(nl->buf, (size_t)n, req->nlmsg_seq, nl->portid, cb, data);
		if (rc == MNL_CB_ERROR)
			return errno > 0 ? -errno : -EPROTO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

/* The caller's function for each answer of nl_exchange(). */
struct dispatch {
	struct nl *nl;
	void (*fn)(struct nlmsghdr *r, void *arg);
	void *arg;
};

static int dispatch_one(const struct nlmsghdr *r, void *data)
{
	struct dispatch *x = data;
	/* r is in our receive buffer: the caller gets it as the buffer is, writable */
	size_t at = (size_t)((const uint8_t *)r - x->nl->buf);

	x->fn((struct nlmsghdr *)(void *)(x->nl->buf + at), x->arg);
	return MNL_CB_OK;
}

int nl_exchange(struct nl *nl, struct nlmsghdr *req, void (*fn)(struct nlmsghdr *r, void *arg),
		void *arg)
{
	struct dispatch x = { .nl = nl, .fn = fn, .arg = arg };

	return exchange(nl, req, fn ? dispatch_one : NULL, &x);
}

int nl_talk(struct nl *nl, struct nlmsghdr *nh)
{
	nh->nlmsg_flags |= NLM_F_ACK;
	return exchange(nl, nh, NULL, NULL);
}

/* A route request: header, rtmsg and at most four small attributes (under 100 bytes). */
static struct nlmsghdr *route_msg(void *buf, uint16_t type, uint16_t flags, struct rtmsg **rt)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);

	nh->nlmsg_type = type;
	nh->nlmsg_flags = flags;
	*rt = mnl_nlmsg_put_extra_header(nh, sizeof(**rt));
	return nh;
}

static void put_addr(struct nlmsghdr *nh, uint16_t type, const struct lisp_addr *a)
{
	if (a->afi == LISP_AFI_IPV4)
		mnl_attr_put(nh, type, 4, a->u.v4);
	else
		mnl_attr_put(nh, type, 16, a->u.v6);
}

int nl_route(struct nl *nl, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex,
	     const struct lisp_addr *via, uint8_t protocol)
{
	uint8_t buf[256] __attribute__((aligned(4)));
	struct rtmsg *rt;
	struct nlmsghdr *nh = route_msg(buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
					add ? NLM_F_CREATE | NLM_F_REPLACE : 0, &rt);

	rt->rtm_family = p->addr.afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = p->plen;
	rt->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rt->rtm_protocol = protocol;
	/* (a deletion matches any scope) */
	rt->rtm_scope = !add ? RT_SCOPE_NOWHERE : via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	put_addr(nh, RTA_DST, &p->addr);
	mnl_attr_put_u32(nh, RTA_TABLE, table);
	if (ifindex)
		mnl_attr_put_u32(nh, RTA_OIF, (uint32_t)ifindex);
	if (via)
		put_addr(nh, RTA_GATEWAY, via);
	return nl_talk(nl, nh);
}

/* Collects the gateway and interface of a route lookup's answer. */
struct lookup {
	struct lisp_addr via;
	int oif;
	unsigned char family;
	bool found;
};

static int lookup_attr(const struct nlattr *a, void *data)
{
	struct lookup *l = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	if (mnl_attr_get_type(a) == RTA_OIF && len == sizeof(uint32_t))
		l->oif = (int)mnl_attr_get_u32(a);
	else if (mnl_attr_get_type(a) == RTA_GATEWAY && len == 4 && l->family == AF_INET)
		lisp_addr_set_v4(&l->via, mnl_attr_get_payload(a));
	else if (mnl_attr_get_type(a) == RTA_GATEWAY && len == 16 && l->family == AF_INET6)
		lisp_addr_set_v6(&l->via, mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int lookup_one(const struct nlmsghdr *r, void *data)
{
	struct lookup *l = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(r);

	if (r->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(r) < sizeof(*rt))
		return MNL_CB_OK;
	l->found = true;
	l->family = rt->rtm_family;
	mnl_attr_parse(r, sizeof(*rt), lookup_attr, l);
	return MNL_CB_OK;
}

int nl_route_get(struct nl *nl, const struct lisp_addr *dst, struct lisp_addr *via, int *oif)
{
	uint8_t buf[256] __attribute__((aligned(4)));
	struct lookup l = { .oif = 0 };
	struct rtmsg *rt;
	/* the answer, then an acknowledgement that ends it */
	struct nlmsghdr *nh = route_msg(buf, RTM_GETROUTE, NLM_F_ACK, &rt);
	int rc;

	rt->rtm_family = dst->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = dst->afi == LISP_AFI_IPV4 ? 32 : 128;
	put_addr(nh, RTA_DST, dst);
	rc = exchange(nl, nh, lookup_one, &l);
	if (rc < 0)
		return rc;
	if (!l.found)
		return -ENETUNREACH;
	*via = l.via;
	*oif = l.oif;
	return 0;
}

static int default_one(const struct nlmsghdr *r, void *data)
{
	struct lookup *l = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(r);
	struct lookup one = { .oif = 0 };

	if (l->found || r->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(r) < sizeof(*rt) || rt->rtm_dst_len != 0 ||
	    rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST ||
	    rt->rtm_family != l->family)
		return MNL_CB_OK;
	one.family = rt->rtm_family;
	mnl_attr_parse(r, sizeof(*rt), lookup_attr, &one);
	if (!one.oif)
		return MNL_CB_OK; /* (a multipath one: not ours to copy) */
	*l = one;
	l->found = true;
	return MNL_CB_OK;
}

int nl_route_default(struct nl *nl, uint16_t afi, struct lisp_addr *via, int *oif)
{
	uint8_t buf[64] __attribute__((aligned(4)));
	struct rtmsg *rt;
	struct nlmsghdr *nh = route_msg(buf, RTM_GETROUTE, NLM_F_DUMP, &rt);
	struct lookup l = { .family = afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6 };
	int rc;

	rt->rtm_family = l.family;
	rc = exchange(nl, nh, default_one, &l);
	if (rc < 0)
		return rc;
	if (!l.found)
		return -ENETUNREACH;
	*via = l.via;
	*oif = l.oif;
	return 0;
}

/* The first address of an interface's, of a family (nl_if_addr()). */
struct first_addr {
	int ifindex;
	unsigned char family;
	struct lisp_addr addr;
	bool found;
};

static int addr_attr(const struct nlattr *a, void *data)
{
	struct lisp_addr *v = data; /* [0] IFA_ADDRESS, [1] IFA_LOCAL */
	uint16_t len = mnl_attr_get_payload_len(a), type = mnl_attr_get_type(a);

	if ((type != IFA_ADDRESS && type != IFA_LOCAL) || (len != 4 && len != 16))
		return MNL_CB_OK;
	if (len == 4)
		lisp_addr_set_v4(&v[type == IFA_LOCAL], mnl_attr_get_payload(a));
	else
		lisp_addr_set_v6(&v[type == IFA_LOCAL], mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int first_addr_one(const struct nlmsghdr *r, void *data)
{
	struct first_addr *f = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(r);
	struct lisp_addr v[2] = { { .afi = LISP_AFI_NONE }, { .afi = LISP_AFI_NONE } };

	if (f->found || r->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(r) < sizeof(*ifa) || (int)ifa->ifa_index != f->ifindex ||
	    ifa->ifa_family != f->family)
		return MNL_CB_OK;
	mnl_attr_parse(r, sizeof(*ifa), addr_attr, v);
	/* (as getifaddrs(): the local address, IFA_ADDRESS being the peer's on a point-to-point) */
	f->addr = v[1].afi != LISP_AFI_NONE ? v[1] : v[0];
	f->found = f->addr.afi != LISP_AFI_NONE;
	return MNL_CB_OK;
}

int nl_if_addr(struct nl *nl, int ifindex, uint16_t afi, struct lisp_addr *out)
{
	uint8_t buf[64] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct first_addr f = { .ifindex = ifindex,
				.family = afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6 };
	struct ifaddrmsg *ifa;
	int one = 1, rc;

	/* the kernel then dumps that interface's addresses alone (else all: filtered here) */
	setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	nh->nlmsg_type = RTM_GETADDR;
	nh->nlmsg_flags = NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nh, sizeof(*ifa));
	ifa->ifa_family = f.family;
	ifa->ifa_index = (uint32_t)ifindex;
	rc = exchange(nl, nh, first_addr_one, &f);
	if (rc < 0)
		return rc;
	if (!f.found)
		return -ENOENT;
	*out = f.addr;
	return 0;
}

int nl_neigh_stale(struct nl *nl, int ifindex, const struct lisp_addr *a, const uint8_t mac[6])
{
	uint8_t buf[96] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nh->nlmsg_type = RTM_NEWNEIGH;
	nh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nd = mnl_nlmsg_put_extra_header(nh, sizeof(*nd));
	nd->ndm_family = a->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_STALE;
	put_addr(nh, NDA_DST, a);
	mnl_attr_put(nh, NDA_LLADDR, 6, mac);
	return nl_talk(nl, nh);
}

int nl_neigh_del(struct nl *nl, int ifindex, const struct lisp_addr *a)
{
	uint8_t buf[64] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nh->nlmsg_type = RTM_DELNEIGH;
	nd = mnl_nlmsg_put_extra_header(nh, sizeof(*nd));
	nd->ndm_family = a->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6;
	nd->ndm_ifindex = ifindex;
	put_addr(nh, NDA_DST, a);
	return nl_talk(nl, nh);
}

int nl_qdisc_noqueue(struct nl *nl, int ifindex)
{
	uint8_t buf[64] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tc;

	nh->nlmsg_type = RTM_NEWQDISC;
	nh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	tc = mnl_nlmsg_put_extra_header(nh, sizeof(*tc));
	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = ifindex;
	tc->tcm_parent = TC_H_ROOT;
	mnl_attr_put_strz(nh, TCA_KIND, "noqueue");
	return nl_talk(nl, nh);
}
