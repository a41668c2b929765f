/*
 * AF_PACKET sockets on the lisp mobility interfaces with a classic BPF
 * filter that lets through only ARP, RARP and IPv6 neighbour solicitations
 * and advertisements; frames this host sent are skipped. What
 * fhr_parse_frame() recognises goes to fhr_detect() / fhr_detect_mac(); on
 * an extended subnet, only a frame sent to our MAC does, any other one is
 * answered with a locality probe (it may have crossed the layer-2
 * extension). Across subnets, the moved-in VMs' packets to MACs that are
 * not here are captured (promiscuous, filtered by the VMs' MACs), routed on
 * and the VMs told to use ours; the announcements on a VM's behalf that
 * main.c makes when it moves are sent from here too. On an extended subnet,
 * a leaving VM's MAC is drawn to us (a RARP from it) and the frames to it
 * are captured and held until its leaving ends (the steal).
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

#define MAX_IFACES    64
#define FOREIGN_MAX   64  /* moved-in VMs' MACs in a capture filter; beyond: every MAC */
#define RECENT	      256 /* remembered probes and corrections (direct-mapped) */
#define PROBE_GAP     0.2 /* s: an extended subnet's locality probes of one host, at most */
#define CORRECT_GAP   1.0 /* s: corrections of one VM's cache for one host, at most */
#define ADDRS_REFRESH 1.0 /* s: the interface's prefixes are read again after */
#define ADDRS_MAX     16
#define LATER_MAX     256	/* locality probes waiting (a tentative address, a rate limit) */
#define LATER_AFTER   1.2	/* s: a tentative address's (after DAD: one retransmission, 1 s) */
#define STEAL_WAIT    0.05	/* s: a VM that stays: its answer awaited at most */
#define DETECT_RCVBUF (8 << 20) /* bytes of frames waiting (kernel memory): ~6000 answers */

struct psock;

/* A packet captured for a leaving VM: its IP packet at pkt + 14 (room for a header) */
struct stolen {
	struct stolen *next;
	size_t len;
	uint8_t pkt[];
};

/* A leaving EID whose VM's MAC the bridges deliver to us */
struct steal {
	struct steal *next;
	struct psock *s;
	struct lisp_addr a;
	uint8_t mac[6];
	struct stolen *head, **tail; /* held, in arrival order */
	size_t n, bytes;
	unsigned sent;		/* steal frames */
	ev_timer timer;		/* a VM that stays: its answer awaited */
	fhr_steal_done_fn done; /* set: it stays, its answer awaited */
};

struct psock {
	ev_io io;
	int fd;
	uint8_t mac[6]; /* the interface's, read when opened */
	char name[FHR_NAME_MAX];
	bool extended, proxy; /* lisp extended-subnet-mode; ip proxy-arp */
	struct fhr_daemon *d;
	/* across subnets: the moved-in VMs' packets to MACs not here (promiscuous) */
	ev_io fwd_io;
	int fwd_fd;
	uint8_t (*foreign)[6];
	size_t nforeign;
	/* extended subnet: the leaving VMs' frames (promiscuous, by destination MAC) */
	struct steal *steals;
	ev_io steal_io;
	int steal_fd;
	bool steal_on; /* (promiscuous, steal_io started) */
	/* the interface's own prefixes (on the link), read at most every ADDRS_REFRESH */
	struct lisp_prefix addrs[ADDRS_MAX];
	size_t naddrs;
	double addrs_at;
};

struct fhr_detect_state {
	struct psock s[MAX_IFACES];
	size_t n;
	struct log_rate rl;
	uint64_t frames, malformed, proxy_arps;
	uint64_t locality_probes; /* extended subnet: a broadcast proves nothing, its answer does */
	uint64_t announced;	  /* gratuitous ARPs, unsolicited advertisements */
	uint64_t fwd_frames, forwarded, corrections, fwd_refused;
	uint64_t steal_frames, stolen, stolen_over, stolen_refused, stolen_up, stolen_here;
	uint64_t stolen_dropped, steal_timeouts;
	size_t stolen_now, stolen_bytes;
	int raw[2]; /* IPv4, IPv6 raw sockets (header included) forwarding those packets */
	struct {
		uint64_t key;
		double at;
	} recent[RECENT];
	struct { /* locality probes to send later (address zero: RARP, the MAC's EIDs) */
		char ifname[FHR_NAME_MAX];
		struct lisp_addr a;
		uint8_t mac[6];
		double due;
	} later[LATER_MAX];
	size_t nlater;
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

/* Was key seen within gap? (Then no again; otherwise it is now.) */
static bool recently(struct fhr_detect_state *st, const void *k, size_t n, double now, double gap)
{
	uint64_t key = 1469598103934665603ull;
	size_t i;

	for (size_t j = 0; j < n; j++)
		key = (key ^ ((const uint8_t *)k)[j]) * 1099511628211ull;
	i = (size_t)(key % RECENT);
	if (st->recent[i].key == key && now - st->recent[i].at < gap)
		return true;
	st->recent[i].key = key;
	st->recent[i].at = now;
	return false;
}

/* The interface's MAC now (a bridge's changes as ports come and go, unless it was set). */
static void mac_refresh(struct psock *s)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", s->name);
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
}

static void send_frame(struct psock *s, const uint8_t *f, size_t len, uint16_t proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(proto),
				   .sll_halen = 6 };

	sll.sll_ifindex = (int)if_nametoindex(s->name);
	memcpy(sll.sll_addr, f, 6);
	if (sendto(s->fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		log_warn_rl(&s->d->detect->rl, "detect: %s: send %s: %s", s->name,
			    proto == ETH_P_ARP	  ? "ARP"
			    : proto == ETH_P_RARP ? "RARP"
			    : proto == ETH_P_IPV6 ? "IPv6"
						  : "IPv4",
			    strerror(errno));
}

/* An ARP frame from our MAC: op, to dst, sender sha/sip, target MAC tmac and IP tip. */
static void send_arp(struct psock *s, uint16_t op, const uint8_t dst[6], const uint8_t sha[6],
		     const struct lisp_addr *sip, const uint8_t tmac[6],
		     const struct lisp_addr *tip)
{
	uint8_t f[FHR_ARP_LEN];

	mac_refresh(s);
	send_frame(s, f, fhr_build_arp(f, op, dst, s->mac, sha, sip->u.v4, tmac, tip->u.v4),
		   ETH_P_ARP);
}

/* Reads the interface's own prefixes again if they are older than ADDRS_REFRESH. */
static void refresh_addrs(struct psock *s, double now)
{
	struct ifaddrs *ifa, *i;

	if (s->addrs_at > 0 && now - s->addrs_at < ADDRS_REFRESH)
		return;
	s->addrs_at = now;
	s->naddrs = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && s->naddrs < ADDRS_MAX; i = i->ifa_next) {
		struct lisp_prefix *p = &s->addrs[s->naddrs];
		const uint8_t *m;
		unsigned len = 0, bytes;

		if (!i->ifa_addr || !i->ifa_netmask || strcmp(i->ifa_name, s->name) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			lisp_addr_set_v4(&p->addr,
					 &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
			m = (const uint8_t *)&((struct sockaddr_in *)(void *)i->ifa_netmask)
				    ->sin_addr;
			bytes = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			lisp_addr_set_v6(
				&p->addr,
				((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr.s6_addr);
			m = ((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr.s6_addr;
			bytes = 16;
		} else {
			continue;
		}
		for (unsigned b = 0; b < bytes; b++)
			len += (unsigned)__builtin_popcount(m[b]);
		p->plen = (uint8_t)len;
		p->iid = 0;
		s->naddrs++;
	}
	freeifaddrs(ifa);
}

/*
 * Our address of family afi on the interface (IPv6: a global one, else the
 * link-local one), from what refresh_addrs() read; false if none.
 */
static bool my_addr(struct psock *s, uint16_t afi, struct lisp_addr *out)
{
	bool found = false;

	refresh_addrs(s, ev_now(s->d->loop));
	for (size_t i = 0; i < s->naddrs; i++) {
		const struct lisp_addr *a = &s->addrs[i].addr;

		if (a->afi != afi || (found && !(afi == LISP_AFI_IPV6 && out->u.v6[0] == 0xfe &&
						 (out->u.v6[1] & 0xc0) == 0x80)))
			continue;
		*out = *a;
		found = true;
	}
	return found;
}

/*
 * A neighbour solicitation (135) for target, unicast to dst/mac (IPv6
 * liveness), or an advertisement (136) of target at lladdr to dst/mac with
 * flags (a proxy's: solicited, not override, so a real one is not taken
 * over; an announcement: override); from our address.
 */
static void send_nd(struct psock *s, uint8_t type, uint8_t flags, const struct lisp_addr *dst,
		    const uint8_t mac[6], const struct lisp_addr *target, const uint8_t lladdr[6])
{
	uint8_t f[FHR_ND_LEN];
	struct lisp_addr src;

	if (!my_addr(s, LISP_AFI_IPV6, &src))
		return;
	mac_refresh(s);
	send_frame(s, f,
		   fhr_build_nd(f, type, flags, mac, s->mac, src.u.v6, dst->u.v6, target->u.v6,
				lladdr),
		   ETH_P_IPV6);
}

static struct psock *psock_of(struct fhr_daemon *d, const char *ifname)
{
	for (size_t i = 0; d->detect && i < d->detect->n; i++)
		if (d->detect->s[i].fd >= 0 && strcmp(d->detect->s[i].name, ifname) == 0)
			return &d->detect->s[i];
	return NULL;
}

int fhr_detect_if_mac(struct fhr_daemon *d, const char *ifname, uint8_t mac[6])
{
	struct psock *s = psock_of(d, ifname);

	if (!s)
		return -ENODEV;
	mac_refresh(s);
	memcpy(mac, s->mac, 6);
	return 0;
}

/*
 * Asks for a from our MAC (and address: 0.0.0.0, an ARP probe, if none):
 * of mac, or of every host (mac NULL: broadcast, a's solicited-node
 * group). Its answer comes to our MAC.
 */
static void ask(struct psock *s, const struct lisp_addr *a, const uint8_t *mac)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct lisp_addr me = { .afi = LISP_AFI_IPV4 }, sn;
	uint8_t snmac[6] = { 0x33, 0x33, 0xff };

	if (a->afi == LISP_AFI_IPV4) {
		my_addr(s, LISP_AFI_IPV4, &me);
		send_arp(s, 1, mac ? mac : bcast, s->mac, &me, mac ? mac : (const uint8_t[6]){ 0 },
			 a);
		return;
	}
	if (mac) {
		send_nd(s, 135, 0, a, mac, a, s->mac);
		return;
	}
	lisp_addr_parse("ff02::1:ff00:0", &sn);
	memcpy(sn.u.v6 + 13, a->u.v6 + 13, 3);
	memcpy(snmac + 3, a->u.v6 + 13, 3);
	send_nd(s, 135, 0, &sn, snmac, a, s->mac);
}

void fhr_detect_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac)
{
	struct psock *s = psock_of(arg, ifname);

	if (s)
		ask(s, eid, mac);
}

void fhr_detect_announce(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
			 const uint8_t *lladdr, const uint8_t *to_mac,
			 const struct lisp_addr *to_ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t none[6] = { 0 };
	struct psock *s = psock_of(d, ifname);
	struct lisp_addr all_nodes;

	if (!s)
		return;
	if (!lladdr)
		lladdr = s->mac;
	d->detect->announced++;
	if (a->afi == LISP_AFI_IPV4) { /* a gratuitous request: sender = target */
		send_arp(s, 1, to_mac ? to_mac : bcast, lladdr, a, none, a);
		return;
	}
	if (!to_mac) {
		lisp_addr_parse("ff02::1", &all_nodes);
		to_ip = &all_nodes;
	}
	send_nd(s, 136, 0x20, to_ip, to_mac ? to_mac : all_nodes_mac, a, lladdr);
}

static bool on_link(struct psock *s, const struct lisp_addr *a, double now)
{
	struct lisp_prefix host;

	refresh_addrs(s, now);
	lisp_prefix_from_addr(&host, 0, a);
	for (size_t i = 0; i < s->naddrs; i++)
		if (lisp_prefix_contains(&s->addrs[i], &host))
			return true;
	return false;
}

bool fhr_detect_on_link(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a)
{
	struct psock *s = psock_of(d, ifname);

	return s && on_link(s, a, ev_now(d->loop));
}

static bool is_mine(struct psock *s, const struct lisp_addr *a)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (lisp_addr_equal(&s->addrs[i].addr, a))
			return true;
	return false;
}

/* A packet that may be routed on: unicast, not ours, not on the link here. */
static bool routable(struct psock *s, const struct lisp_addr *a, double now)
{
	if (a->afi == LISP_AFI_IPV4
		    ? a->u.v4[0] == 0 || a->u.v4[0] == 127 || a->u.v4[0] >= 224
		    : a->u.v6[0] == 0xff || (a->u.v6[0] == 0xfe && (a->u.v6[1] & 0xc0) == 0x80))
		return false;
	return !on_link(s, a, now) && !is_mine(s, a);
}

/*
 * Sends the IP packet pkt (len bytes, to dst) on as the kernel routes it,
 * one hop less to live (raw socket, header included): 0 or -errno (logged).
 */
static int route_on(struct fhr_detect_state *st, const char *ifname, uint8_t *pkt, size_t len,
		    const struct lisp_addr *dst)
{
	struct sockaddr_storage to = { 0 };
	socklen_t tolen;
	int fam = dst->afi == LISP_AFI_IPV4 ? 0 : 1, err;
	char b[LISP_ADDR_STRLEN];

	if (st->raw[fam] < 0) {
		st->raw[fam] =
			socket(fam ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (st->raw[fam] < 0) {
			err = errno;
			log_warn_rl(&st->rl, "detect: raw socket: %s", strerror(err));
			return -err;
		}
	}
	if (fam) {
		struct sockaddr_in6 *t = (struct sockaddr_in6 *)&to;

		t->sin6_family = AF_INET6;
		memcpy(&t->sin6_addr, dst->u.v6, 16);
		tolen = sizeof(*t);
		pkt[7]--; /* hop limit */
	} else {
		struct sockaddr_in *t = (struct sockaddr_in *)&to;

		t->sin_family = AF_INET;
		memcpy(&t->sin_addr, dst->u.v4, 4);
		tolen = sizeof(*t);
		pkt[8]--; /* TTL (the kernel writes the header checksum) */
	}
	if (sendto(st->raw[fam], pkt, len, 0, (struct sockaddr *)&to, tolen) < 0) {
		err = errno;
		log_warn_rl(&st->rl, "detect: %s: forward to %s: %s", ifname,
			    lisp_addr_format(dst, b, sizeof(b)), strerror(err));
		return -err;
	}
	return 0;
}

/*
 * A moved-in VM's packet to a MAC that is not here (a host of its old
 * subnet, whose MAC it still has): routed on from here, one hop less to
 * live, and the VM told, once a second at most, that the host is at our
 * MAC (so its next packets come to us and the kernel routes them).
 */
static void fwd_one(struct psock *s, uint8_t *f, size_t len, double now)
{
	struct fhr_detect_state *st = s->d->detect;
	uint8_t vmmac[6];
	struct fhr_ip ip;
	int rc = fhr_parse_ip(f, len, &ip);
	char a[LISP_ADDR_STRLEN], b[LISP_ADDR_STRLEN];
	uint8_t key[6 + sizeof(struct lisp_addr)];

	st->fwd_frames++;
	if (rc == -EBADMSG) {
		st->malformed++;
		log_warn_rl(&st->rl, "detect: %s: malformed packet (%zu bytes) dropped", s->name,
			    len);
		return;
	}
	/*
	 * From a VM here, with its own MAC; to a host of the tenant's
	 * dynamic-eid prefixes (its old subnet's: nothing else, as the packet
	 * leaves by our output, not through the forwarding rules) neither here
	 * nor on the link.
	 */
	if (rc < 0 || !fhr_is_here(s->d->fhr, s->name, &ip.src, vmmac) ||
	    memcmp(vmmac, f + 6, 6) != 0 || !fhr_in_dynamic_eid(s->d->fhr, s->name, &ip.dst) ||
	    fhr_is_here(s->d->fhr, s->name, &ip.dst, NULL) || !routable(s, &ip.dst, now) ||
	    ip.ttl <= 1) {
		st->fwd_refused++;
		return;
	}
	memcpy(key, vmmac, 6);
	memcpy(key + 6, &ip.dst, sizeof(ip.dst));
	if (!recently(st, key, sizeof(key), now, CORRECT_GAP)) {
		fhr_detect_announce(s->d, s->name, &ip.dst, NULL, vmmac, &ip.src);
		st->corrections++;
		log_info_rl(&st->rl, "detect: %s: %s sent to %s's old MAC: told to use ours",
			    s->name, lisp_addr_format(&ip.src, a, sizeof(a)),
			    lisp_addr_format(&ip.dst, b, sizeof(b)));
	}
	if (route_on(st, s->name, f + ip.off, ip.len, &ip.dst) == 0)
		st->forwarded++;
}

static void fwd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct psock *s = container_of(w, struct psock, fwd_io);
	uint8_t buf[65536 + 14];
	struct sockaddr_ll from;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(s->fwd_fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);

		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		fwd_one(s, buf, (size_t)len, ev_now(loop));
	}
}

/*
 * The capture filter: IPv4 or IPv6, to a unicast MAC other than ours, from
 * one of the moved-in VMs' MACs (every MAC beyond FOREIGN_MAX of them).
 */
static struct sock_filter *fwd_filter(const struct psock *s, unsigned short *n)
{
	size_t each = s->nforeign <= FOREIGN_MAX ? s->nforeign : 0;
	struct sock_filter *p = xcalloc(6 + each * 5 + 1, sizeof(*p)), *q = p;

	*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 1, 0);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 2);
	/* to a unicast MAC that is not ours */
	*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 1, 0);
	*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	for (size_t i = 0; i < each; i++) {
		const uint8_t *m = s->foreign[i];

		*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8);
		*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 |
							    (uint32_t)m[4] << 8 | m[5],
						    0, 3);
		*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6);
		*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (uint32_t)m[0] << 8 | m[1], 0, 1);
		*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 65535);
	}
	*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, each || !s->nforeign ? 0 : 65535);
	*n = (unsigned short)(q - p);
	return p;
}

/*
 * An AF_PACKET socket on s's interface taking what prog lets in (the filter
 * before the bind: nothing unfiltered is queued); -1, logged (what: the
 * capture's purpose), if it cannot be had.
 */
static int capture_open(const struct psock *s, const struct sock_fprog *prog, const char *what)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(s->name) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof(*prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("detect: %s: capture of %s: %s", s->name, what, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Opens, refilters or closes the capture to match the moved-in VMs. */
static void fwd_update(struct psock *s)
{
	struct sock_fprog prog;
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC,
				  .mr_ifindex = (int)if_nametoindex(s->name) };

	if (!s->nforeign) {
		if (s->fwd_fd >= 0) {
			ev_io_stop(s->d->loop, &s->fwd_io);
			close(s->fwd_fd);
			s->fwd_fd = -1;
		}
		return;
	}
	prog.filter = fwd_filter(s, &prog.len);
	if (s->fwd_fd < 0) {
		s->fwd_fd = capture_open(s, &prog, "moved-in VMs' packets");
		if (s->fwd_fd >= 0 &&
		    setsockopt(s->fwd_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			log_warn("detect: %s: promiscuous mode: %s", s->name, strerror(errno));
			close(s->fwd_fd);
			s->fwd_fd = -1;
		}
		if (s->fwd_fd < 0) {
			free(prog.filter);
			return;
		}
		ev_io_init(&s->fwd_io, fwd_cb, s->fwd_fd, EV_READ);
		ev_io_start(s->d->loop, &s->fwd_io);
	} else if (setsockopt(s->fwd_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		log_warn("detect: %s: capture filter: %s", s->name, strerror(errno));
	}
	free(prog.filter);
}

void fhr_detect_foreign(struct fhr_daemon *d, const char *ifname, const uint8_t *mac, bool yes)
{
	struct psock *s = psock_of(d, ifname);
	size_t i;

	if (!s || !s->proxy)
		return;
	for (i = 0; i < s->nforeign && memcmp(s->foreign[i], mac, 6) != 0; i++)
		;
	if (yes == (i < s->nforeign))
		return;
	if (yes) {
		s->foreign = xrealloc(s->foreign, (s->nforeign + 1) * sizeof(*s->foreign));
		memcpy(s->foreign[s->nforeign++], mac, 6);
	} else {
		memmove(s->foreign[i], s->foreign[i + 1], (s->nforeign - i - 1) * 6);
		s->nforeign--;
	}
	fwd_update(s);
}

/*
 * Extended subnet: the leaving VMs' frames. The capture filter: IPv4 or
 * IPv6, not sent to us, to one of their MACs (every MAC beyond FOREIGN_MAX
 * of them: steal_cb() picks).
 */
static struct sock_filter *steal_filter(const uint8_t (*macs)[6], size_t n, unsigned short *len)
{
	size_t each = n <= FOREIGN_MAX ? n : 0;
	struct sock_filter *p = xcalloc(6 + each * 5 + 1, sizeof(*p)), *q = p;

	*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 1, 0);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 2);
	*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
	*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 1, 0);
	*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	for (size_t i = 0; i < each; i++) {
		const uint8_t *m = macs[i];

		*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2);
		*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 |
							    (uint32_t)m[4] << 8 | m[5],
						    0, 3);
		*q++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0);
		*q++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (uint32_t)m[0] << 8 | m[1], 0, 1);
		*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 65535);
	}
	*q++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, each || !n ? 0 : 65535);
	*len = (unsigned short)(q - p);
	return p;
}

static struct steal *steal_of(struct fhr_daemon *d, const struct lisp_addr *a)
{
	for (size_t i = 0; d->detect && i < d->detect->n; i++)
		for (struct steal *t = d->detect->s[i].steals; t; t = t->next)
			if (lisp_addr_equal(&t->a, a))
				return t;
	return NULL;
}

/* A captured frame: held for the leaving EID it is sent to (by its VM's MAC), or dropped. */
static void steal_one(struct psock *s, const uint8_t *f, size_t len)
{
	struct fhr_detect_state *st = s->d->detect;
	struct stolen *p;
	struct steal *t;
	struct fhr_ip ip;

	if (fhr_parse_ip(f, len, &ip) < 0) {
		st->stolen_refused++;
		return;
	}
	for (t = s->steals; t; t = t->next)
		if (memcmp(t->mac, f, 6) == 0 && lisp_addr_equal(&t->a, &ip.dst))
			break;
	if (!t) { /* (another address of the VM: not an EID, no route) */
		st->stolen_refused++;
		return;
	}
	if (t->n >= FHR_HOLD_EID_PACKETS || t->bytes + ip.len > FHR_HOLD_EID_BYTES ||
	    st->stolen_now >= FHR_HOLD_PACKETS || st->stolen_bytes + ip.len > FHR_HOLD_BYTES) {
		st->stolen_over++;
		log_warn_rl(&st->rl,
			    "detect: %s: leaving VM's packets over the hold limit: dropped",
			    s->name);
		return;
	}
	p = xmalloc(sizeof(*p) + 14 + ip.len);
	p->next = NULL;
	p->len = ip.len;
	memcpy(p->pkt + 14, f + ip.off, ip.len);
	*t->tail = p;
	t->tail = &p->next;
	t->n++;
	t->bytes += ip.len;
	st->stolen++;
	st->stolen_now++;
	st->stolen_bytes += ip.len;
}

static void steal_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct psock *s = container_of(w, struct psock, steal_io);
	uint8_t buf[65536 + 14];
	struct sockaddr_ll from;

	(void)loop;
	(void)revents;
	for (int i = 0; i < 4096; i++) { /* (all that came: they are only copied) */
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(s->steal_fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);

		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		steal_one(s, buf, (size_t)len);
	}
}

/*
 * Opens or refilters the capture to match the leaving VMs' MACs; with none,
 * it takes nothing and the interface leaves promiscuous mode, but stays
 * open (closing an AF_PACKET socket waits for an RCU grace period, ms: the
 * verdicts of the packets queued meanwhile would wait too).
 */
static void steal_update(struct psock *s)
{
	static struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC,
				  .mr_ifindex = (int)if_nametoindex(s->name) };
	uint8_t(*macs)[6] = NULL;
	struct sock_fprog prog = { .len = 1, .filter = none };
	size_t n = 0, i;
	uint8_t junk;

	for (struct steal *t = s->steals; t; t = t->next) {
		for (i = 0; i < n && memcmp(macs[i], t->mac, 6) != 0; i++)
			;
		if (i < n)
			continue;
		macs = xrealloc(macs, (n + 1) * sizeof(*macs));
		memcpy(macs[n++], t->mac, 6);
	}
	if (n) {
		prog.filter = steal_filter((const uint8_t(*)[6])macs, n, &prog.len);
		free(macs);
	}
	if (n && s->steal_fd < 0) {
		s->steal_fd = capture_open(s, &prog, "leaving VMs' frames");
		if (s->steal_fd < 0) {
			free(prog.filter);
			return;
		}
		ev_io_init(&s->steal_io, steal_cb, s->steal_fd, EV_READ);
	} else if (s->steal_fd >= 0 &&
		   setsockopt(s->steal_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		log_warn("detect: %s: capture filter: %s", s->name, strerror(errno));
	}
	if (n)
		free(prog.filter);
	if (s->steal_fd < 0 || s->steal_on == (n > 0))
		return;
	s->steal_on = n > 0;
	if (setsockopt(s->steal_fd, SOL_PACKET, n ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP,
		       &mr, sizeof(mr)) < 0)
		log_warn("detect: %s: promiscuous mode %s: %s", s->name, n ? "on" : "off",
			 strerror(errno));
	if (n) {
		ev_io_start(s->d->loop, &s->steal_io);
		return;
	}
	ev_io_stop(s->d->loop, &s->steal_io);
	while (recv(s->steal_fd, &junk, 1, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		; /* (what the old filter let in: no steal of it is left) */
}

/* A RARP request from the VM's MAC, as QEMU's self-announce: the bridges learn it at us. */
static void steal_send(struct steal *t)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[4] = { 0 };
	uint8_t f[FHR_ARP_LEN];
	size_t len = fhr_build_arp(f, 3, bcast, t->mac, t->mac, zero, t->mac, zero);

	f[12] = ETH_P_RARP >> 8, f[13] = ETH_P_RARP & 0xff;
	send_frame(t->s, f, len, ETH_P_RARP);
	t->s->d->detect->steal_frames++;
	t->sent++;
}

/*
 * The IP packet of p to the VM at t->mac at layer 2, from our MAC, one hop
 * less to live: the kernel's neighbour entry for it may wait for an answer
 * (ms), while each of those the other site's hosts send from now on goes
 * to it directly. 0 or -errno.
 */
static int deliver_l2(struct steal *t, struct stolen *p)
{
	uint8_t *f = p->pkt, *ip = p->pkt + 14;
	bool v4 = t->a.afi == LISP_AFI_IPV4;
	uint32_t sum;

	memcpy(f, t->mac, 6);
	memcpy(f + 6, t->s->mac, 6);
	f[12] = v4 ? 0x08 : 0x86, f[13] = v4 ? 0x00 : 0xdd;
	if (v4) { /* TTL - 1: the header checksum + 0x0100 (RFC 1141) */
		ip[8]--;
		sum = ((uint32_t)ip[10] << 8 | ip[11]) + 0x0100;
		sum = (sum & 0xffff) + (sum >> 16);
		ip[10] = (uint8_t)(sum >> 8), ip[11] = (uint8_t)sum;
	} else {
		ip[7]--;
	}
	send_frame(t->s, f, 14 + p->len, v4 ? ETH_P_IP : ETH_P_IPV6);
	return 0;
}

enum steal_end {
	STEAL_DROP,
	STEAL_ROUTE,
	STEAL_DELIVER
};

/* Sends t's held packets on, in order (routed, or to the VM here) or drops them; how many
 * went. Then frees t. */
static size_t steal_free(struct steal *t, enum steal_end how)
{
	struct psock *s = t->s;
	struct fhr_detect_state *st = s->d->detect;
	struct steal **pp;
	struct stolen *p;
	size_t n = 0;
	size_t ttl = 14 + (t->a.afi == LISP_AFI_IPV4 ? 8 : 7); /* (its offset) */

	ev_timer_stop(s->d->loop, &t->timer);
	if (s->steal_on) /* what was captured before now */
		steal_cb(s->d->loop, &s->steal_io, EV_READ);
	for (pp = &s->steals; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	steal_update(s); /* (no more captured: what follows comes after them) */
	mac_refresh(s);
	while ((p = t->head)) {
		t->head = p->next;
		if (how != STEAL_DROP && p->pkt[ttl] > 1 &&
		    (how == STEAL_DELIVER ? deliver_l2(t, p)
					  : route_on(st, s->name, p->pkt + 14, p->len, &t->a)) == 0)
			n++;
		free(p);
	}
	st->stolen_now -= t->n;
	st->stolen_bytes -= t->bytes;
	free(t);
	return n;
}

/* It stays: its answer came (or the wait is over): what was held goes to it, then done. */
static void steal_here_end(struct steal *t)
{
	struct fhr_daemon *d = t->s->d;
	fhr_steal_done_fn done = t->done;
	char ifname[FHR_NAME_MAX];
	struct lisp_addr a = t->a;
	uint8_t mac[6];
	size_t n, held = t->n;

	snprintf(ifname, sizeof(ifname), "%s", t->s->name);
	memcpy(mac, t->mac, 6);
	n = steal_free(t, STEAL_DELIVER);
	d->detect->stolen_here += n;
	d->detect->stolen_dropped += held - n;
	done(d, ifname, &a, mac, n);
}

static void steal_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct steal *t = container_of(w, struct steal, timer);

	(void)revents;
	(void)loop;
	if (t->done) { /* no answer: the bridges may have it right anyway */
		t->s->d->detect->steal_timeouts++;
		steal_here_end(t);
	}
}

void fhr_detect_steal(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
		      const uint8_t *mac)
{
	struct psock *s = psock_of(d, ifname);
	struct steal *t = steal_of(d, a);

	if (t && t->done) {
		steal_here_end(t); /* (leaving again while its stay was being settled) */
	} else if (t) {
		steal_send(t); /* (paused again: drawn again, at once) */
		return;
	}
	if (!s || !s->extended || !mac)
		return;
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->a = *a;
	memcpy(t->mac, mac, 6);
	t->tail = &t->head;
	t->next = s->steals;
	s->steals = t;
	steal_update(s);
	steal_send(t);
	ev_timer_init(&t->timer, steal_timer_cb, STEAL_WAIT, 0); /* (armed by a stay) */
}

size_t fhr_detect_steal_up(struct fhr_daemon *d, const struct lisp_addr *a)
{
	struct steal *t = steal_of(d, a);
	size_t n, held;

	if (!t)
		return 0;
	held = t->n;
	n = steal_free(t, STEAL_ROUTE);
	d->detect->stolen_up += n;
	d->detect->stolen_dropped += held - n;
	return n;
}

size_t fhr_detect_steal_drop(struct fhr_daemon *d, const struct lisp_addr *a)
{
	struct steal *t = steal_of(d, a);
	size_t held;

	if (!t)
		return 0;
	held = t->n;
	steal_free(t, STEAL_DROP);
	d->detect->stolen_dropped += held;
	return held;
}

void fhr_detect_steal_here(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
			   const uint8_t *mac, fhr_steal_done_fn done)
{
	struct steal *t = steal_of(d, a);

	if (!t || t->done) {
		if (!t)
			done(d, ifname, a, mac, 0);
		return;
	}
	/* asked from our MAC and address, which the extension does not carry: its answer
	 * crosses the bridges between it and us (to our MAC), which learn its port again */
	t->done = done;
	ev_timer_stop(d->loop, &t->timer);
	ev_timer_set(&t->timer, STEAL_WAIT, 0);
	ev_timer_start(d->loop, &t->timer);
	ask(t->s, a, NULL);
}

/* A frame from mac on s (not ours): the answer the VMs that stay were asked for? */
static void steal_answered(struct psock *s, const uint8_t *mac)
{
	struct steal *t = s->steals;

	while (t) {
		if (t->done && memcmp(t->mac, mac, 6) == 0) {
			steal_here_end(t); /* (frees t: from the start again) */
			t = s->steals;
			continue;
		}
		t = t->next;
	}
}

/* A locality probe: of a (ARP or NS), or of the EIDs known with mac if a is NULL (RARP). */
static void locality_probe(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
			   const uint8_t *mac)
{
	d->detect->locality_probes++;
	if (a)
		fhr_detect_probe(d, ifname, a, mac);
	else
		fhr_probe_mac(d->fhr, ifname, mac);
}

/* A locality probe of fr's host at due (one pending per host: the earliest). */
static void later(struct fhr_detect_state *st, const char *ifname, const struct fhr_frame *fr,
		  double due)
{
	static const struct lisp_addr none = { 0 };
	const struct lisp_addr *a = fr->has_addr ? &fr->addr : &none;

	for (size_t i = 0; i < st->nlater; i++)
		if (memcmp(st->later[i].mac, fr->mac, 6) == 0 &&
		    lisp_addr_equal(&st->later[i].a, a) &&
		    strcmp(st->later[i].ifname, ifname) == 0) {
			if (due < st->later[i].due)
				st->later[i].due = due;
			return;
		}
	if (st->nlater == LATER_MAX) {
		log_warn_rl(&st->rl, "detect: %s: %d locality probes waiting: one more dropped",
			    ifname, LATER_MAX);
		return;
	}
	snprintf(st->later[st->nlater].ifname, FHR_NAME_MAX, "%s", ifname);
	st->later[st->nlater].a = *a;
	memcpy(st->later[st->nlater].mac, fr->mac, 6);
	st->later[st->nlater++].due = due;
}

static void frame_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct psock *s = container_of(w, struct psock, io);
	struct fhr_detect_state *st = s->d->detect;
	uint8_t buf[2048];
	struct sockaddr_ll from;
	struct fhr_frame fr;
	uint8_t key[6 + sizeof(struct lisp_addr)];

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
		if (s->steals) /* (a broadcast from it too: it speaks, the bridges learned it) */
			steal_answered(s, fr.mac);
		if (s->extended && from.sll_pkttype != PACKET_HOST) {
			/*
			 * Extended subnet: a frame not sent to us may have crossed
			 * the layer-2 extension from the other site. A probe from
			 * our MAC, which FHRP isolation keeps on this site, asks;
			 * the answer (to our MAC) is the detection. One probe of a
			 * host (MAC and address) per PROBE_GAP: a frame within it
			 * is probed for when it ends (a VM that moved away and
			 * back at once announces itself twice in a few ms).
			 */
			memcpy(key, fr.mac, 6);
			memcpy(key + 6, &fr.addr, sizeof(fr.addr)); /* (zero for RARP) */
			if (recently(st, key, sizeof(key), ev_now(loop), PROBE_GAP)) {
				later(st, s->name, &fr, ev_now(loop) + PROBE_GAP);
				continue;
			}
			if (fr.tentative) /* it answers once the address is its own */
				later(st, s->name, &fr, ev_now(loop) + LATER_AFTER);
			locality_probe(s->d, s->name, fr.has_addr ? &fr.addr : NULL, fr.mac);
			continue;
		}
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
				send_arp(s, 2, fr.mac, s->mac, &fr.target, fr.mac, &fr.sender);
			else /* proxy-ND */
				send_nd(s, 136, 0x40, &fr.sender, fr.mac, &fr.target, s->mac);
			st->proxy_arps++;
		}
	}
}

static int foreign_known(const struct fhr_eid_info *e, void *arg)
{
	struct psock *s = arg;

	if (s->proxy && e->state != FHR_EID_MOVED && e->has_mac &&
	    strcmp(e->ifname, s->name) == 0 && !on_link(s, &e->p.addr, ev_now(s->d->loop)))
		fhr_detect_foreign(s->d, s->name, e->mac, true);
	return 0;
}

static bool open_one(struct fhr_daemon *d, struct psock *s)
{
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	int rcvbuf = DETECT_RCVBUF;

	sll.sll_ifindex = (int)if_nametoindex(s->name);
	if (!sll.sll_ifindex)
		return false;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s->fd < 0)
		fatal("detect: AF_PACKET socket: %s", strerror(errno));
	if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		fatal("detect: %s: BPF filter: %s", s->name, strerror(errno));
	/* a walk's probes are answered at once, one frame per EID: the default buffer (208 KiB,
	 * ~160 frames) dropped the answers past it, and those EIDs departed */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		fatal("detect: %s: bind: %s", s->name, strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", s->name);
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) < 0)
		fatal("detect: %s: no MAC address: %s", s->name, strerror(errno));
	memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
	s->d = d;
	fhr_eid_walk(d->fhr, foreign_known, s); /* the moved-in VMs known before it opened */
	ev_io_init(&s->io, frame_cb, s->fd, EV_READ);
	ev_io_start(d->loop, &s->io);
	log_info("detect: listening on %s (ARP, RARP, ND)", s->name);
	return true;
}

void fhr_detect_open(struct fhr_daemon *d)
{
	struct fhr_detect_state *st = xcalloc(1, sizeof(*st));

	d->detect = st;
	st->raw[0] = st->raw[1] = -1;
	for (size_t i = 0; i < d->conf->nifaces && st->n < MAX_IFACES; i++) {
		struct psock *s = &st->s[st->n++];

		if (!d->conf->ifaces[i].mobility[0]) {
			st->n--;
			continue;
		}
		snprintf(s->name, sizeof(s->name), "%s", d->conf->ifaces[i].name);
		s->fd = s->fwd_fd = s->steal_fd = -1;
		s->extended = d->conf->ifaces[i].extended_subnet;
		s->proxy = d->conf->ifaces[i].proxy_arp;
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

void fhr_detect_tick(struct fhr_daemon *d, double now)
{
	struct fhr_detect_state *st = d->detect;

	for (size_t i = 0; st && i < st->nlater;) {
		if (now < st->later[i].due) {
			i++;
			continue;
		}
		locality_probe(d, st->later[i].ifname, st->later[i].a.afi ? &st->later[i].a : NULL,
			       st->later[i].mac);
		st->later[i] = st->later[--st->nlater];
	}
}

struct fhr_detect_counters fhr_detect_counters(const struct fhr_daemon *d)
{
	const struct fhr_detect_state *st = d->detect;
	struct fhr_detect_counters c = { 0 };

	if (!st)
		return c;
	c.frames = st->frames;
	c.malformed = st->malformed;
	c.proxy_arps = st->proxy_arps;
	c.locality_probes = st->locality_probes;
	c.announced = st->announced;
	c.fwd_frames = st->fwd_frames;
	c.forwarded = st->forwarded;
	c.corrections = st->corrections;
	c.fwd_refused = st->fwd_refused;
	c.steal_frames = st->steal_frames;
	c.stolen = st->stolen;
	c.stolen_over = st->stolen_over;
	c.stolen_refused = st->stolen_refused;
	c.stolen_up = st->stolen_up;
	c.stolen_here = st->stolen_here;
	c.stolen_dropped = st->stolen_dropped;
	c.stolen_holding = st->stolen_now;
	c.steal_timeouts = st->steal_timeouts;
	return c;
}

void fhr_detect_close(struct fhr_daemon *d)
{
	for (size_t i = 0; d->detect && i < d->detect->n; i++) {
		struct psock *s = &d->detect->s[i];

		s->nforeign = 0;
		fwd_update(s);
		free(s->foreign);
		while (s->steals)
			steal_free(s->steals, STEAL_DROP);
		if (s->steal_fd >= 0)
			close(s->steal_fd);
		if (s->fd < 0)
			continue;
		ev_io_stop(d->loop, &s->io);
		close(s->fd);
	}
	for (int i = 0; d->detect && i < 2; i++)
		if (d->detect->raw[i] >= 0)
			close(d->detect->raw[i]);
	free(d->detect);
	d->detect = NULL;
}
