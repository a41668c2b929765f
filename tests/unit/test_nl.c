/*
 * lib/nl against the kernel, read-only and without privileges: the route to
 * the loopback address, a dump of the links, and an error the kernel
 * reports (routes are added and deleted in the netns tests, as root).
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "lib/nl.h"

static void route_get_loopback(void **state)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	struct lisp_addr dst, via;
	struct nl *nl;
	int oif = -1;

	(void)state;
	assert_int_equal(nl_open(&nl, NETLINK_ROUTE), 0);
	lisp_addr_set_v4(&dst, lo4);
	assert_int_equal(nl_route_get(nl, &dst, &via, &oif), 0);
	assert_int_equal(oif, (int)if_nametoindex("lo"));
	assert_int_equal(via.afi, LISP_AFI_NONE); /* on the link */
	/* the socket serves the next request as well */
	assert_int_equal(nl_route_get(nl, &dst, &via, &oif), 0);
	nl_close(nl);
	nl_close(NULL);
}

/* Counts the links of a dump and notes whether lo was among them. */
struct links {
	int n;
	bool lo;
};

static void one_link(struct nlmsghdr *r, void *arg)
{
	struct links *l = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(r);

	assert_int_equal(r->nlmsg_type, RTM_NEWLINK);
	l->n++;
	l->lo |= ifi->ifi_index == (int)if_nametoindex("lo");
}

static void dump_links(void **state)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} q = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_DUMP } };
	struct links l = { 0 };
	struct nl *nl;

	(void)state;
	assert_int_equal(nl_open(&nl, NETLINK_ROUTE), 0);
	assert_int_equal(nl_exchange(nl, &q.nh, one_link, &l), 0);
	assert_true(l.n >= 1);
	assert_true(l.lo);
	nl_close(nl);
}

static void kernel_error(void **state)
{
	static const uint8_t a[4] = { 192, 0, 2, 77 };
	struct lisp_prefix p = { .plen = 32 };
	struct nl *nl;
	int rc;

	(void)state;
	lisp_addr_set_v4(&p.addr, a);
	assert_int_equal(nl_open(&nl, NETLINK_ROUTE), 0);
	/* a route nobody added, in a table nobody uses: not there, or not ours to touch */
	rc = nl_route(nl, false, &p, 252, 0, NULL, 145);
	assert_true(rc == -ESRCH || rc == -EPERM);
	nl_close(nl);
}

/*
 * The qdisc request reaches the kernel's checks: no such device (as root),
 * or not allowed (without CAP_NET_ADMIN); never a malformed message.
 */
static void qdisc_noqueue_unknown_device(void **state)
{
	struct nl *nl;
	int rc;

	(void)state;
	assert_int_equal(nl_open(&nl, NETLINK_ROUTE), 0);
	rc = nl_qdisc_noqueue(nl, 0x7ffffff0);
	assert_true(rc == -ENODEV || rc == -EPERM);
	nl_close(nl);
}

/* The first address of each interface and family: the one getifaddrs() gives first. */
static void if_addr_as_getifaddrs(void **state)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	struct lisp_addr lo;
	struct ifaddrs *ifa;
	struct nl *nl;
	int checked = 0, rc;

	(void)state;
	assert_int_equal(nl_open(&nl, NETLINK_ROUTE), 0);
	assert_int_equal(getifaddrs(&ifa), 0);
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		struct lisp_addr want, got;
		uint16_t port;
		bool first = true;

		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		for (struct ifaddrs *j = ifa; j != i; j = j->ifa_next)
			if (j->ifa_addr && j->ifa_addr->sa_family == i->ifa_addr->sa_family &&
			    strcmp(j->ifa_name, i->ifa_name) == 0)
				first = false;
		if (!first)
			continue;
		assert_int_equal(lisp_addr_from_sockaddr(
					 (const struct sockaddr_storage *)(const void *)i->ifa_addr,
					 &want, &port),
				 0);
		assert_int_equal(nl_if_addr(nl, (int)if_nametoindex(i->ifa_name), want.afi, &got),
				 0);
		assert_true(lisp_addr_equal(&got, &want));
		checked++;
	}
	freeifaddrs(ifa);
	assert_true(checked >= 1);
	assert_int_equal(nl_if_addr(nl, (int)if_nametoindex("lo"), LISP_AFI_IPV4, &lo), 0);
	assert_memory_equal(lo.u.v4, lo4, 4);
	rc = nl_if_addr(nl, 0x7ffffff0, LISP_AFI_IPV4, &lo); /* no such interface */
	assert_true(rc == -ENODEV || rc == -ENOENT);
	nl_close(nl);
}

static void groups_non_blocking(void **state)
{
	struct nl *nl;

	(void)state;
	assert_int_equal(nl_open_groups(&nl, NETLINK_ROUTE, RTMGRP_NEIGH), 0);
	assert_true(nl_fd(nl) >= 0);
	assert_true(fcntl(nl_fd(nl), F_GETFL) & O_NONBLOCK); /* read from an event loop */
	assert_true(fcntl(nl_fd(nl), F_GETFD) & FD_CLOEXEC);
	nl_close(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_get_loopback),
		cmocka_unit_test(dump_links),
		cmocka_unit_test(kernel_error),
		cmocka_unit_test(qdisc_noqueue_unknown_device),
		cmocka_unit_test(groups_non_blocking),
		cmocka_unit_test(if_addr_as_getifaddrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
