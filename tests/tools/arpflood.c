/*
 * arpflood: a bounded ARP storm for benchmarks: RATE broadcast ARP requests
 * a second for SECONDS from one sender (MAC of IFNAME, address SENDER) for
 * varying targets, sent in batches of 64 with sendmmsg. Prints how many it
 * sent and at what rate. Test tool only.
 *   arpflood IFNAME SENDER-IPv4 RATE SECONDS
 */
#define _GNU_SOURCE /* sendmmsg */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static unsigned char f[BATCH][42];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct ifreq ifr = { 0 };
	struct in_addr sip;
	double rate, secs, t0, t;
	unsigned long sent = 0;
	int s;

	if (argc != 5 || !inet_aton(argv[2], &sip) || (rate = atof(argv[3])) <= 0 ||
	    (secs = atof(argv[4])) <= 0 || secs > 60) {
		fprintf(stderr, "usage: arpflood IFNAME SENDER-IPv4 RATE SECONDS (at most 60)\n");
		return 1;
	}
	s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror("arpflood");
		return 1;
	}
	sll.sll_protocol = htons(ETH_P_ARP);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	memset(sll.sll_addr, 0xff, 6);
	for (int i = 0; i < BATCH; i++) {
		unsigned char *p = f[i];

		memset(p, 0xff, 6);
		memcpy(p + 6, ifr.ifr_hwaddr.sa_data, 6);
		p[12] = 0x08, p[13] = 0x06, p[15] = 1, p[16] = 8, p[18] = 6, p[19] = 4, p[21] = 1;
		memcpy(p + 22, ifr.ifr_hwaddr.sa_data, 6);
		memcpy(p + 28, &sip, 4);
		memset(p + 32, 0, 6);
		p[38] = 203, p[39] = 0, p[40] = 113, p[41] = (unsigned char)(i + 1); /* who-has */
		iov[i] = (struct iovec){ .iov_base = p, .iov_len = 42 };
		msg[i].msg_hdr = (struct msghdr){ .msg_name = &sll,
						  .msg_namelen = sizeof(sll),
						  .msg_iov = &iov[i],
						  .msg_iovlen = 1 };
	}
	t0 = now();
	while ((t = now()) - t0 < secs) {
		double due = (t - t0) * rate; /* frames that should have gone by now */

		if ((double)sent + BATCH > due) {
			struct timespec gap = { 0, 200000 };

			nanosleep(&gap, NULL);
			continue;
		}
		int r = sendmmsg(s, msg, BATCH, 0);

		if (r > 0)
			sent += (unsigned long)r;
	}
	printf("arpflood: %lu frames in %.1f s (%.0f/s)\n", sent, now() - t0,
	       (double)sent / (now() - t0));
	return 0;
}
