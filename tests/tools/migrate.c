/*
 * migrate: the lab's live migration, timed. Moves a VM's port to another
 * bridge of the fabric namespace (one netlink request: the VM keeps its
 * carrier, as a VM does when its hypervisor changes) and then, at once,
 * sends from the VM the announcements given, in order:
 *   migrate FABRIC-NS PORT BRIDGE VM-NS VM-IFNAME [rarp | garp IPv4 | sleep MS]...
 * rarp is QEMU's RARP (only the MAC), garp a guest's gratuitous ARP; none
 * at all is a silent VM. Prints one JSON object: the time the move was
 * asked for, done, and the announcements sent (unix time). Test tool only.
 */
#define _GNU_SOURCE /* setns */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/nl.h"
#include "tests/tools/announce_frame.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void enter(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "migrate: entering %s: %s\n", ns, strerror(errno));
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[32];
	} req = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct ifreq ifr = { 0 };
	struct rtattr *rta;
	uint8_t mac[6], f[60];
	double t0, t1, sent[16];
	struct nl *nl = NULL;
	int ps, port, bridge, rc, nsent = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: migrate FABRIC-NS PORT BRIDGE VM-NS VM-IFNAME "
				"[rarp | garp IPv4 | sleep MS]...\n");
		return 1;
	}
	enter(argv[4]);
	ps = socket(AF_PACKET, SOCK_RAW, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[5]);
	if (ps < 0 || ioctl(ps, SIOCGIFHWADDR, &ifr) < 0) {
		perror("migrate: the VM's interface");
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex(argv[5]);
	memset(sll.sll_addr, 0xff, 6);
	enter(argv[1]);
	rc = nl_open(&nl, NETLINK_ROUTE);
	port = (int)if_nametoindex(argv[2]);
	bridge = (int)if_nametoindex(argv[3]);
	if (rc < 0 || !port || !bridge) {
		fprintf(stderr, "migrate: %s or %s not in %s\n", argv[2], argv[3], argv[1]);
		nl_close(nl);
		return 1;
	}
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = port;
	rta = (struct rtattr *)req.attrs;
	rta->rta_type = IFLA_MASTER;
	rta->rta_len = RTA_LENGTH(sizeof(int));
	memcpy(RTA_DATA(rta), &bridge, sizeof(int));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi)) + RTA_ALIGN(rta->rta_len);

	t0 = now();
	rc = nl_talk(nl, &req.nh);
	t1 = now();
	nl_close(nl);
	if (rc < 0) {
		fprintf(stderr, "migrate: moving %s to %s: %s\n", argv[2], argv[3], strerror(-rc));
		return 1;
	}
	for (int i = 6; i < argc && nsent < 16; i++) {
		struct in_addr ip = { 0 };
		bool rarp = strcmp(argv[i], "rarp") == 0;

		if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			struct timespec d = { 0, atol(argv[++i]) % 1000 * 1000000L };

			nanosleep(&d, NULL);
			continue;
		}
		if (!rarp &&
		    (strcmp(argv[i], "garp") != 0 || i + 1 >= argc || !inet_aton(argv[++i], &ip))) {
			fprintf(stderr, "migrate: unknown announcement '%s'\n", argv[i]);
			return 1;
		}
		announce_frame(f, mac, rarp, &ip);
		sll.sll_protocol = htons(rarp ? 0x8035 : ETH_P_ARP);
		if (sendto(ps, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("migrate: announcing");
			return 1;
		}
		sent[nsent++] = now();
	}
	printf("{\"asked\": %.6f, \"moved\": %.6f, \"announced\": [", t0, t1);
	for (int i = 0; i < nsent; i++)
		printf("%s%.6f", i ? ", " : "", sent[i]);
	printf("]}\n");
	return 0;
}
