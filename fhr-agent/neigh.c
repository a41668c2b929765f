/*
 * The kernel's neighbour table (rtnetlink): at start, the hosts it knows
 * on the lisp mobility interfaces are detected before the first Resync,
 * so that a restarted agent tells its gateways what is there instead of
 * an empty table; then its changes (RTMGRP_NEIGH) are watched, so a host
 * the kernel resolves (for traffic toward it) is detected too. Only a
 * change to REACHABLE is news (the host answered here): an entry ageing to
 * STALE, or probed, says nothing about where the host is now.
 *
 * Neither does the table at start: an entry stays REACHABLE for half a
 * minute and STALE for minutes after its host left, and taken for an
 * arrival it pulled a VM that had just moved away back to this site
 * (found by tests/sim, issue 19). So at start every entry but a PERMANENT
 * one is probed (unicast, to the MAC it has) once detection listens, and
 * the first round of work, which sends the gateways the table, waits for the
 * answers (main.c): a host still here answers, and its answer is the
 * detection.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/nl.h"

#define STALE_MAX 4096 /* entries probed at start at most */

struct fhr_neigh_stale { /* an entry to probe at start */
	char ifname[IF_NAMESIZE];
	struct lisp_addr a;
	uint8_t mac[6];
};

struct seed {
	struct fhr_daemon *d;
	int found;
	bool watch; /* a change, not the table at start */
};

/* A neighbour message: its header, address and MAC (NULL if none); false if not one. */
static bool neigh_parse(struct nlmsghdr *r, struct ndmsg **ndp, struct lisp_addr *addr,
			const uint8_t **mac)
{
	struct ndmsg *nd = NLMSG_DATA(r);
	struct rtattr *a = (struct rtattr *)(void *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	int left = (int)r->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));

	*ndp = nd;
	*mac = NULL;
	memset(addr, 0, sizeof(*addr));
	if (r->nlmsg_type != RTM_NEWNEIGH || left < 0)
		return false;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == NDA_DST && nd->ndm_family == AF_INET && RTA_PAYLOAD(a) == 4)
			lisp_addr_set_v4(addr, RTA_DATA(a));
		else if (a->rta_type == NDA_DST && nd->ndm_family == AF_INET6 &&
			 RTA_PAYLOAD(a) == 16)
			lisp_addr_set_v6(addr, RTA_DATA(a));
		else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
			*mac = RTA_DATA(a);
	}
	return addr->afi != LISP_AFI_NONE;
}

static void one(struct nlmsghdr *r, void *arg)
{
	struct seed *s = arg;
	struct ndmsg *nd;
	const uint8_t *mac;
	struct lisp_addr addr;
	char ifname[IF_NAMESIZE];
	bool confirmed;

	if (!neigh_parse(r, &nd, &addr, &mac) ||
	    (nd->ndm_state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)) ||
	    (s->watch && !(nd->ndm_state & NUD_REACHABLE)) ||
	    !if_indextoname((unsigned)nd->ndm_ifindex, ifname))
		return;
	confirmed = s->watch || (nd->ndm_state & NUD_PERMANENT);
	if (!confirmed) { /* at start: ask it */
		struct fhr_daemon *d = s->d;

		if (!mac || d->nstale >= STALE_MAX)
			return;
		if (!d->stale && !(d->stale = calloc(STALE_MAX, sizeof(*d->stale))))
			return;
		snprintf(d->stale[d->nstale].ifname, sizeof(d->stale[0].ifname), "%s", ifname);
		d->stale[d->nstale].a = addr;
		memcpy(d->stale[d->nstale].mac, mac, 6);
		d->nstale++;
		return;
	}
	if (fhr_detect(s->d->fhr, ifname, &addr, mac, FHR_SRC_NEIGHBOR, ev_now(s->d->loop)) > 0)
		s->found++;
}

size_t fhr_neigh_probe_stale(struct fhr_daemon *d)
{
	size_t n = d->nstale;

	for (size_t i = 0; i < d->nstale; i++)
		fhr_detect_probe(d, d->stale[i].ifname, &d->stale[i].a, d->stale[i].mac);
	if (d->nstale)
		log_info("neighbours: %zu host(s) of the neighbour table probed: those still here "
			 "answer",
			 d->nstale);
	free(d->stale);
	d->stale = NULL;
	d->nstale = 0;
	return n;
}

static void watch_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_daemon *d = w->data;
	struct seed s = { .d = d, .watch = true };
	static uint8_t buf[16384] __attribute__((aligned(4)));

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		for (struct nlmsghdr *r = (struct nlmsghdr *)(void *)buf; NLMSG_OK(r, (size_t)n);
		     r = NLMSG_NEXT(r, n))
			one(r, &s);
	}
}

void fhr_neigh_watch(struct fhr_daemon *d)
{
	int rc = nl_open_groups(&d->neigh, NETLINK_ROUTE, RTMGRP_NEIGH);

	if (rc < 0) {
		log_warn("neighbours: cannot watch: %s", strerror(-rc));
		return;
	}
	ev_io_init(&d->neigh_io, watch_cb, nl_fd(d->neigh), EV_READ);
	d->neigh_io.data = d;
	ev_io_start(d->loop, &d->neigh_io);
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
	struct nl *nl;
	int rc = nl_open(&nl, NETLINK_ROUTE);

	if (rc < 0) {
		log_warn("neighbours: netlink: %s", strerror(-rc));
		return;
	}
	rc = nl_exchange(nl, &q.nh, one, &s);
	nl_close(nl);
	if (rc < 0)
		log_warn("neighbours: dump: %s", strerror(-rc));
	else if (s.found)
		log_info("neighbours: %d host(s) known on the mobility interfaces", s.found);
}

#define TELL_MAX 1024 /* hosts told to a VM that came back, at most */

struct tell {
	struct fhr_daemon *d;
	const char *ifname;
	int ifindex;
	const struct lisp_addr *vm;
	const uint8_t *vmmac;
	unsigned n;
};

static void tell_one(struct nlmsghdr *r, void *arg)
{
	struct tell *t = arg;
	struct ndmsg *nd;
	const uint8_t *mac;
	struct lisp_addr addr;

	if (!neigh_parse(r, &nd, &addr, &mac) || nd->ndm_ifindex != t->ifindex ||
	    !(nd->ndm_state &
	      (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)) ||
	    t->n >= TELL_MAX)
		return;
	if (!mac || addr.afi != t->vm->afi || lisp_addr_equal(&addr, t->vm) ||
	    memcmp(mac, t->vmmac, 6) == 0)
		return;
	fhr_detect_announce(t->d, t->ifname, &addr, mac, t->vmmac, t->vm);
	t->n++;
}

size_t fhr_neigh_tell(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *vm,
		      const uint8_t *vmmac)
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} q = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
			.nlmsg_type = RTM_GETNEIGH,
			.nlmsg_flags = NLM_F_DUMP },
		.nd = { .ndm_family = vm->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6 } };
	struct tell t = { .d = d,
			  .ifname = ifname,
			  .ifindex = (int)if_nametoindex(ifname),
			  .vm = vm,
			  .vmmac = vmmac };
	int rc = d->rt ? 0 : nl_open(&d->rt, NETLINK_ROUTE);

	if (rc == 0)
		rc = nl_exchange(d->rt, &q.nh, tell_one, &t);
	if (rc < 0)
		log_warn("neighbours: dump: %s", strerror(-rc));
	return t.n;
}
