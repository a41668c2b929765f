/*
 * announce: sends the frames a VM (or QEMU for it) sends when it lands,
 * on a line from stdin (so that a test can have it ready before a move):
 *   announce IFNAME garp IPv4-ADDRESS   a gratuitous ARP request
 *   announce IFNAME rarp                QEMU's RARP (only the MAC)
 * One frame per input line; exits at end of input. And for many addresses:
 *   announce IFNAME garps FIRST-IPv4 N GAP-US
 *   announce IFNAME nas FIRST-IPv6 N GAP-US
 * sends N gratuitous ARPs, or N unsolicited neighbour advertisements (to
 * ff02::1, override flag, target link-layer address option), for FIRST,
 * FIRST+1 ... GAP-US microseconds apart, from the interface's MAC, and
 * prints "ADDRESS UNIX-TIME" for each; and
 *   announce - list GAP-US
 * reads "IFNAME IPv4-ADDRESS" lines from stdin (every VM its own interface,
 * say one per tenant), sends each a gratuitous ARP from that interface's MAC,
 * GAP-US microseconds apart, and prints "IFNAME ADDRESS UNIX-TIME" for each.
 * Test tool only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/ippkt.h"
#include "tests/tools/announce_frame.h"

#define N_MAX	   1000000L /* addresses in a burst */
#define GAP_US_MAX 1000000L
#define NA_LEN	   (14 + 40 + 32) /* Ethernet, IPv6, NA with its target link-layer option */

/* s as a decimal number in [0, max] into *out; false if it is not one. */
static bool parse_num(const char *s, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= 0 && *out <= max;
}

/* a + n, or false if it wraps past the end of the address space */
static bool v6_add(uint8_t out[16], const uint8_t a[16], uint32_t n)
{
	uint32_t carry = n;

	for (int i = 15; i >= 0; i--) {
		carry += a[i];
		out[i] = (uint8_t)carry;
		carry >>= 8;
	}
	return carry == 0;
}

/* f (NA_LEN bytes): an unsolicited neighbour advertisement of target at mac, to all nodes. */
static void na_frame(uint8_t *f, const uint8_t mac[6], const uint8_t target[16])
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t *ip = f + 14, *icmp = f + 14 + 40;
	uint32_t sum;
	uint16_t c;

	memset(f, 0, NA_LEN);
	memcpy(f, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60, ip[5] = 32, ip[6] = 58, ip[7] = 255; /* payload 32, ICMPv6, hop limit */
	/* from the address it advertises, to all nodes */
	memcpy(ip + 8, target, 16);
	memcpy(ip + 24, all_nodes, 16);
	icmp[0] = 136;
	icmp[4] = 0x20; /* override (not solicited, not a router) */
	memcpy(icmp + 8, target, 16);
	icmp[24] = 2, icmp[25] = 1; /* target link-layer address, 8 bytes */
	memcpy(icmp + 26, mac, 6);
	/* over the pseudo-header (addresses, upper-layer length 32, next header 58) and message */
	sum = ippkt_csum_add(32 + 58, ip + 8, 32);
	sum = ippkt_csum_add(sum, icmp, 32);
	c = ippkt_csum_fold(sum);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: announce IFNAME garp IPV4 | announce IFNAME rarp\n"
		"       announce IFNAME garps FIRST-IPV4 N GAP-US\n"
		"       announce IFNAME nas FIRST-IPV6 N GAP-US\n"
		"       announce - list GAP-US   (stdin: IFNAME IPV4 lines)\n"
		"  (N <= %ld, GAP-US <= %ld)\n",
		N_MAX, GAP_US_MAX);
	return 1;
}

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
	unsigned char f[NA_LEN] = { 0 }, mac[6], first6[16];
	struct ifreq ifr = { 0 };
	struct in_addr ip = { 0 };
	char line[64], text[INET6_ADDRSTRLEN];
	long n = 0, gap_us = 0;
	int s, rarp = 0, nas = 0, burst = 0;
	size_t flen = 60;
	uint16_t proto = ETH_P_ARP;

	if (argc == 4 && strcmp(argv[1], "-") == 0 && strcmp(argv[2], "list") == 0)
		return parse_num(argv[3], GAP_US_MAX, &gap_us) ? announce_list(gap_us) : usage();
	if (argc < 3)
		return usage();
	if (strcmp(argv[2], "garps") == 0 || strcmp(argv[2], "nas") == 0) {
		nas = argv[2][0] == 'n';
		if (argc != 6 || !parse_num(argv[4], N_MAX, &n) ||
		    !parse_num(argv[5], GAP_US_MAX, &gap_us) ||
		    !(nas ? inet_pton(AF_INET6, argv[3], first6) == 1 : inet_aton(argv[3], &ip)))
			return usage();
		burst = 1;
	} else if (strcmp(argv[2], "garp") == 0) {
		if (argc != 4 || !inet_aton(argv[3], &ip))
			return usage();
	} else if (strcmp(argv[2], "rarp") == 0 && argc == 3) {
		rarp = 1;
	} else {
		return usage();
	}
	if (rarp)
		proto = 0x8035;
	if (nas) {
		uint8_t last[16];

		proto = ETH_P_IPV6, flen = NA_LEN;
		if (n > 0 && !v6_add(last, first6, (uint32_t)(n - 1))) {
			fprintf(stderr, "announce: %s + %ld passes the last IPv6 address\n",
				argv[3], n - 1);
			return 1;
		}
	} else if (burst && n > 0 && ntohl(ip.s_addr) > UINT32_MAX - (uint32_t)(n - 1)) {
		fprintf(stderr, "announce: %s + %ld passes 255.255.255.255\n", argv[3], n - 1);
		return 1;
	}
	/* (protocol 0: it only sends, nothing is queued for it to read) */
	s = socket(AF_PACKET, SOCK_RAW, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror("announce");
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!nas)
		announce_frame(f, mac, rarp, &ip);
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (nas)
		memcpy(sll.sll_addr, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	else
		memset(sll.sll_addr, 0xff, 6);
	for (long i = 0; burst && i < n; i++) {
		struct timespec ts, gap = { gap_us / 1000000L, gap_us % 1000000L * 1000L };
		struct in_addr a = { .s_addr = htonl(ntohl(ip.s_addr) + (uint32_t)i) };
		uint8_t a6[16];

		if (nas) {
			v6_add(a6, first6, (uint32_t)i); /* (checked above: no wrap) */
			na_frame(f, mac, a6);
			inet_ntop(AF_INET6, a6, text, sizeof(text));
		} else {
			memcpy(f + 28, &a, 4);
			memcpy(f + 38, &a, 4);
			inet_ntop(AF_INET, &a, text, sizeof(text));
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		if (sendto(s, f, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("announce: send");
			return 1;
		}
		printf("%s %ld.%09ld\n", text, (long)ts.tv_sec, ts.tv_nsec);
		nanosleep(&gap, NULL);
	}
	if (burst)
		return 0;
	while (fgets(line, sizeof(line), stdin)) {
		if (sendto(s, f, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("announce: send");
			return 1;
		}
	}
	return 0;
}
