/*
 * announce: sends the frames a VM (or QEMU for it) sends when it lands,
 * on a line from stdin (so that a test can have it ready before a move):
 *   announce IFNAME garp IPv4-ADDRESS   a gratuitous ARP request
 *   announce IFNAME rarp                QEMU's RARP (only the MAC)
 * One frame per input line; exits at end of input. And for benchmarks:
 *   announce IFNAME garps FIRST-IPv4 N GAP-US
 * sends N gratuitous ARPs for FIRST, FIRST+1 ... GAP-US microseconds apart
 * and prints "ADDRESS UNIX-TIME" for each; and
 *   announce - list GAP-US
 * reads "IFNAME IPv4-ADDRESS" lines from stdin (every VM its own interface,
 * say one per tenant), sends each a gratuitous ARP from that interface's MAC,
 * GAP-US microseconds apart, and prints "IFNAME ADDRESS UNIX-TIME" for each.
 * Test tool only.
 */
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/announce_frame.h"

/* announce - list GAP-US: one socket, each frame sent from its own interface. */
static int announce_list(long gap_us)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_halen = 6,
				   .sll_protocol = htons(ETH_P_ARP) };
	struct timespec ts, gap = { gap_us / 1000000, (gap_us % 1000000) * 1000L };
	char line[128], name[IFNAMSIZ], addr[32];
	unsigned char f[60];
	struct ifreq ifr;
	struct in_addr ip;
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));

	if (s < 0) {
		perror("announce: socket");
		return 1;
	}
	memset(sll.sll_addr, 0xff, 6);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%15s %31s", name, addr) != 2 || !inet_aton(addr, &ip)) {
			fprintf(stderr, "announce: expected IFNAME IPv4-ADDRESS: %s", line);
			return 1;
		}
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, name, sizeof(name));
		sll.sll_ifindex = (int)if_nametoindex(name);
		if (!sll.sll_ifindex || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
			perror(name);
			return 1;
		}
		announce_frame(f, (unsigned char *)ifr.ifr_hwaddr.sa_data, false, &ip);
		clock_gettime(CLOCK_REALTIME, &ts);
		if (sendto(s, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("announce: send");
			return 1;
		}
		printf("%s %s %ld.%09ld\n", name, addr, (long)ts.tv_sec, ts.tv_nsec);
		nanosleep(&gap, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char f[60] = { 0 }, mac[6];
	struct ifreq ifr = { 0 };
	struct in_addr ip = { 0 };
	char line[64];
	int s, rarp;
	int burst = argc == 6 && strcmp(argv[2], "garps") == 0;

	if (argc == 4 && strcmp(argv[1], "-") == 0 && strcmp(argv[2], "list") == 0)
		return announce_list(atol(argv[3]));
	if (burst && inet_aton(argv[3], &ip))
		argv[2] = (char *)"garp", argc = 4;
	if (argc < 3 || (strcmp(argv[2], "garp") == 0 && (argc != 4 || !inet_aton(argv[3], &ip))) ||
	    (strcmp(argv[2], "garp") != 0 && strcmp(argv[2], "rarp") != 0)) {
		fprintf(stderr, "usage: announce IFNAME garp IPV4 | announce IFNAME rarp\n");
		return 1;
	}
	rarp = strcmp(argv[2], "rarp") == 0;
	s = socket(AF_PACKET, SOCK_RAW, htons(rarp ? 0x8035 : ETH_P_ARP));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror("announce");
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	announce_frame(f, mac, rarp, &ip);
	sll.sll_protocol = htons(rarp ? 0x8035 : ETH_P_ARP);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	memset(sll.sll_addr, 0xff, 6);
	for (long i = 0; burst && i < atol(argv[4]); i++) {
		struct in_addr a = { .s_addr = htonl(ntohl(ip.s_addr) + (uint32_t)i) };
		struct timespec ts, gap = { 0, atol(argv[5]) * 1000L };

		memcpy(f + 28, &a, 4);
		memcpy(f + 38, &a, 4);
		clock_gettime(CLOCK_REALTIME, &ts);
		if (sendto(s, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("announce: send");
			return 1;
		}
		printf("%s %ld.%09ld\n", inet_ntoa(a), (long)ts.tv_sec, ts.tv_nsec);
		nanosleep(&gap, NULL);
	}
	if (burst)
		return 0;
	while (fgets(line, sizeof(line), stdin)) {
		if (sendto(s, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("announce: send");
			return 1;
		}
	}
	return 0;
}
