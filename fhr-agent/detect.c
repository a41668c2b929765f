/*
 * AF_PACKET sockets on the lisp mobility interfaces with a classic BPF
 * filter that lets through only ARP, RARP and IPv6 neighbour solicitations
 * and advertisements; frames this host sent are skipped. What
 * fhr_parse_frame() recognises goes to fhr_detect() / fhr_detect_mac().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/ippkt.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define MAX_IFACES 64

struct psock {
	ev_io io;
	int fd;
	uint8_t mac[6]; /* the interface's, read when opened */
	char name[FHR_NAME_MAX];
	struct fhr_daemon *d;
};

struct fhr_detect_state {
	struct psock s[MAX_IFACES];
	size_t n;
	struct log_rate rl;
	uint64_t frames, malformed, proxy_arps;
};

/* ARP, RARP, or IPv6 with next header ICMPv6 and type 135 or 136 (no extension headers). */
static struct sock_filter filter[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 7, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8035, 6, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 6),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 65535),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/* An ARP frame from our MAC: op, to dst, sender IP sip, target MAC tmac and IP tip. */
static void send_arp(struct psock *s, uint16_t op, const uint8_t dst[6],
		     const struct lisp_addr *sip, const uint8_t tmac[6],
		     const struct lisp_addr *tip)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_halen = 6 };
	uint8_t f[42];

	memcpy(f, dst, 6);
	memcpy(f + 6, s->mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
	f[20] = (uint8_t)(op >> 8), f[21] = (uint8_t)op;
	memcpy(f + 22, s->mac, 6);
	memcpy(f + 28, sip->u.v4, 4);
	memcpy(f + 32, tmac, 6);
	memcpy(f + 38, tip->u.v4, 4);
	sll.sll_ifindex = (int)if_nametoindex(s->name);
	memcpy(sll.sll_addr, dst, 6);
	if (sendto(s->fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		log_warn_rl(&s->d->detect->rl, "detect: %s: send ARP: %s", s->name,
			    strerror(errno));
}

/* Our IPv6 address on ifname (a global one, else the link-local one); false if none. */
static bool my_v6(const char *ifname, uint8_t out[16])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i; i = i->ifa_next) {
		const uint8_t *a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(i->ifa_name, ifname))
			continue;
		a = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr.s6_addr;
		if (!found || (out[0] == 0xfe && (out[1] & 0xc0) == 0x80)) {
			memcpy(out, a, 16);
			found = true;
		}
	}
	freeifaddrs(ifa);
	return found;
}

/*
 * A neighbour solicitation (135) for target, unicast to dst/mac (IPv6
 * liveness), or a proxy advertisement (136: solicited, not override) of
 * target with our MAC to the host dst/mac that asked; from our address.
 */
static void send_nd(struct psock *s, uint8_t type, const struct lisp_addr *dst,
		    const uint8_t mac[6], const struct lisp_addr *target)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IPV6),
				   .sll_halen = 6 };
	uint8_t f[14 + 40 + 32], src[16];
	uint8_t *ip = f + 14, *icmp = f + 54;
	uint32_t sum;
	uint16_t c;

	if (!my_v6(s->name, src))
		return;
	memset(f, 0, sizeof(f));
	memcpy(f, mac, 6);
	memcpy(f + 6, s->mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60, ip[5] = 32, ip[6] = 58, ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst->u.v6, 16);
	icmp[0] = type;
	if (type == 136)
		icmp[4] = 0x40; /* solicited; no override: a proxy does not take over a real one */
	memcpy(icmp + 8, target->u.v6, 16);
	icmp[24] = type == 135 ? 1 : 2, icmp[25] = 1; /* source / target link-layer address */
	memcpy(icmp + 26, s->mac, 6);
	/* the checksum over the pseudo-header (addresses, length, next header) and the message */
	sum = ippkt_csum_add(0, ip + 8, 32);
	sum += 32 + 58;
	sum = ippkt_csum_add(sum, icmp, 32);
	c = ippkt_csum_fold(sum);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	sll.sll_ifindex = (int)if_nametoindex(s->name);
	memcpy(sll.sll_addr, mac, 6);
	if (sendto(s->fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		log_warn_rl(&s->d->detect->rl, "detect: %s: send NS: %s", s->name, strerror(errno));
}

void fhr_detect_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac)
{
	struct fhr_daemon *d = arg;
	struct ifreq ifr = { 0 };
	struct lisp_addr me = { .afi = LISP_AFI_IPV4 };

	for (size_t i = 0; d->detect && i < d->detect->n; i++) {
		struct psock *s = &d->detect->s[i];
		int fd;

		if (s->fd < 0 || strcmp(s->name, ifname) != 0)
			continue;
		if (eid->afi == LISP_AFI_IPV6) {
			send_nd(s, 135, eid, mac, eid);
			continue;
		}
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", ifname);
		ifr.ifr_addr.sa_family = AF_INET;
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && ioctl(fd, SIOCGIFADDR, &ifr) == 0)
			memcpy(me.u.v4, &((struct sockaddr_in *)(void *)&ifr.ifr_addr)->sin_addr,
			       4);
		if (fd >= 0)
			close(fd);
		send_arp(s, 1, mac, &me, mac, eid);
	}
}

static void frame_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct psock *s = container_of(w, struct psock, io);
	struct fhr_detect_state *st = s->d->detect;
	uint8_t buf[2048];
	struct sockaddr_ll from;
	struct fhr_frame fr;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);
		int rc;

		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue; /* ours */
		st->frames++;
		rc = fhr_parse_frame(buf, (size_t)len, &fr);
		if (rc == -EBADMSG) {
			st->malformed++;
			log_warn_rl(&st->rl, "detect: %s: malformed frame (%zd bytes) dropped",
				    s->name, len);
			continue;
		}
		if (rc < 0)
			continue;
		if (fr.kind == FHR_FRAME_RARP) { /* (what we saw of it, and what its host said) */
			fhr_detect_mac(s->d->fhr, s->name, fr.mac, ev_now(loop));
			fhr_hv_mac_seen(s->d->hv, s->name, fr.mac, ev_now(loop));
		} else {
			fhr_detect(s->d->fhr, s->name, &fr.addr, fr.mac,
				   fr.kind == FHR_FRAME_ND ? FHR_SRC_ND : FHR_SRC_ARP,
				   ev_now(loop));
		}
		if (fr.solicit && fhr_proxy_arp(s->d->fhr, s->name, &fr.target, &fr.sender)) {
			if (fr.kind == FHR_FRAME_ARP) /* proxy-ARP */
				send_arp(s, 2, fr.mac, &fr.target, fr.mac, &fr.sender);
			else /* proxy-ND */
				send_nd(s, 136, &fr.sender, fr.mac, &fr.target);
			st->proxy_arps++;
		}
	}
}

static bool open_one(struct fhr_daemon *d, struct psock *s)
{
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };

	sll.sll_ifindex = (int)if_nametoindex(s->name);
	if (!sll.sll_ifindex)
		return false;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s->fd < 0)
		fatal("detect: AF_PACKET socket: %s", strerror(errno));
	if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		fatal("detect: %s: BPF filter: %s", s->name, strerror(errno));
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		fatal("detect: %s: bind: %s", s->name, strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", s->name);
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) < 0)
		fatal("detect: %s: no MAC address: %s", s->name, strerror(errno));
	memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
	s->d = d;
	ev_io_init(&s->io, frame_cb, s->fd, EV_READ);
	ev_io_start(d->loop, &s->io);
	log_info("detect: listening on %s (ARP, RARP, ND)", s->name);
	return true;
}

void fhr_detect_open(struct fhr_daemon *d)
{
	struct fhr_detect_state *st = xcalloc(1, sizeof(*st));

	d->detect = st;
	for (size_t i = 0; i < d->conf->nifaces && st->n < MAX_IFACES; i++) {
		struct psock *s = &st->s[st->n++];

		if (!d->conf->ifaces[i].mobility[0]) {
			st->n--;
			continue;
		}
		snprintf(s->name, sizeof(s->name), "%s", d->conf->ifaces[i].name);
		s->fd = -1;
		if (!open_one(d, s))
			log_warn("detect: interface %s does not exist (yet): retrying", s->name);
	}
}

void fhr_detect_retry(struct fhr_daemon *d)
{
	for (size_t i = 0; d->detect && i < d->detect->n; i++)
		if (d->detect->s[i].fd < 0)
			open_one(d, &d->detect->s[i]);
}

void fhr_detect_close(struct fhr_daemon *d)
{
	for (size_t i = 0; d->detect && i < d->detect->n; i++) {
		if (d->detect->s[i].fd < 0)
			continue;
		ev_io_stop(d->loop, &d->detect->s[i].io);
		close(d->detect->s[i].fd);
	}
	free(d->detect);
	d->detect = NULL;
}
