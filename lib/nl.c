/* A netlink request and its answers (rtnetlink), for the daemons' routes and neighbours. */
#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/nl.h"

int nl_open(int protocol)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);

	if (fd < 0)
		return -errno;
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
int nl_exchange(int fd, struct nlmsghdr *req, void (*fn)(const struct nlmsghdr *r, void *arg),
		void *arg)
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
			return -errno;
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
