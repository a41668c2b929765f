/*
 * The kernel's neighbour table (rtnetlink RTM_GETNEIGH): at start, the
 * hosts it knows on the lisp mobility interfaces are detected before the
 * first Resync, so that a restarted agent tells its gateways what is
 * there instead of an empty table.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fhr-agent/fhr.h"
#include "lib/nl.h"

struct seed {
	struct fhr_daemon *d;
	int found;
};

static void one(struct nlmsghdr *r, void *arg)
{
	struct seed *s = arg;
	struct ndmsg *nd = NLMSG_DATA(r);
	struct rtattr *a = (struct rtattr *)(void *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	int left = (int)r->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	const uint8_t *mac = NULL;
	struct lisp_addr addr = { 0 };
	char ifname[IF_NAMESIZE];

	if (r->nlmsg_type != RTM_NEWNEIGH || left < 0 ||
	    (nd->ndm_state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)) ||
	    !if_indextoname((unsigned)nd->ndm_ifindex, ifname))
		return;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == NDA_DST && nd->ndm_family == AF_INET && RTA_PAYLOAD(a) == 4) {
			addr.afi = LISP_AFI_IPV4;
			memcpy(addr.u.v4, RTA_DATA(a), 4);
		} else if (a->rta_type == NDA_DST && nd->ndm_family == AF_INET6 &&
			   RTA_PAYLOAD(a) == 16) {
			lisp_addr_set_v6(&addr, RTA_DATA(a));
		} else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			mac = RTA_DATA(a);
		}
	}
	if (addr.afi &&
	    fhr_detect(s->d->fhr, ifname, &addr, mac, FHR_SRC_NEIGHBOR, ev_now(s->d->loop)) > 0)
		s->found++;
}

void fhr_neigh_seed(struct fhr_daemon *d)
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} q = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
			.nlmsg_type = RTM_GETNEIGH,
			.nlmsg_flags = NLM_F_DUMP } };
	struct seed s = { .d = d };
	int fd = nl_open(NETLINK_ROUTE), rc;

	if (fd < 0) {
		log_warn("neighbours: netlink: %s", strerror(-fd));
		return;
	}
	rc = nl_exchange(fd, &q.nh, one, &s);
	close(fd);
	if (rc < 0)
		log_warn("neighbours: dump: %s", strerror(-rc));
	else if (s.found)
		log_info("neighbours: %d host(s) known on the mobility interfaces", s.found);
}
