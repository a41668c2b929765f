/*
 * The data plane's I/O around the pure pipeline (xtr_pipeline.c): one TUN
 * device per instance-id on the EID side (the default table's is
 * `dataplane interface`, default lisp0; instance-id N's is lisp0.N), UDP
 * port 4341 on the RLOC side. Encapsulated packets leave through raw
 * sockets because the pipeline writes the whole outer header (its UDP
 * source port is the flow hash). Offloads: the TUN hands over TCP segments
 * of up to 64 KiB (IFF_VNET_HDR, TSO), cut into ordinary packets before the
 * pipeline (xtr_gso.c); UDP GRO coalesces received LISP datagrams, which
 * are split again; decapsulated TCP packets of one flow are gathered into
 * one TSO segment per TUN write. The glue only moves batches; what happens
 * to a packet is decided by the pipeline: the glue then resolves misses
 * (holding the first packets in a small queue until the Map-Reply), hands
 * new dynamic EIDs to the ETR, and sends rate-limited SMRs for away EIDs.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/evhist.h"
#include "lib/buf.h"
#include "lib/ippkt.h"
#include "lib/nl.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define BATCH	     DP_BATCH
#define PKT_MAX	     256 /* packets one read batch holds (a TSO segment cut at MSS 536: 123) */
#define SEG_ROOM     128 /* a TUN read needs that many free packet buffers */
#define RX_MSGS	     16	 /* datagrams (each up to 64 KiB coalesced) per recvmmsg */
#define RX_BUF	     (DP_HEADROOM + 65536) /* a datagram (coalesced: up to 64 KiB) after the headroom */
#define VNET_LEN     ((int)sizeof(struct virtio_net_hdr))
#define SLOT	     (DP_HEADROOM + 9216) /* one packet buffer */
#define PENDING_MAX  256		  /* packets held while their destination resolves */
#define PENDING_AGE  3.0		  /* s: then dropped */
#define SMR_SLOTS    4096
#define SMR_INTERVAL 3.0 /* s between SMRs to one ITR for one EID (spec §10.5) */
#define RT_MAIN	     254
#define TUN_TXQLEN   10000 /* packets the kernel queues toward us per TUN */
#define V6_OVERHEAD  56
#define V4_OVERHEAD  36

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif
#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX 102
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* (Linux 6.2; Debian 12's headers predate it) */
#define TUN_F_USO6 0x40
#endif
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define PORT_POOL    64	   /* UDP source ports 49152..49215: flow-hashed, sent with GSO */
#define GSO_SEGS     64	   /* datagrams one UDP GSO send carries at most */
#define GSO_BYTES    65000 /* and bytes */

struct tun {
	ev_io io;
	int fd, ifindex;
	bool uso; /* the kernel takes UDP segments (writes gathered from datagrams) */
	uint32_t iid;
	char name[IF_NAMESIZE];
	struct xtr_dp *x;
};

struct udp {
	ev_io io;
	int fd;
	struct xtr_dp *x;
};

struct pending {
	uint8_t *buf; /* SLOT bytes */
	size_t len;
	uint32_t iid;
	double at;
};

struct smr_slot {
	struct lisp_addr itr, eid;
	uint32_t iid;
	double at;
};

/* Encapsulated packets of one family, sent with one sendmmsg. */
struct out {
	struct mmsghdr msg[PKT_MAX];
	struct iovec iov[PKT_MAX];
	struct sockaddr_storage to[PKT_MAX];
	unsigned n;
};

struct xtr_dp {
	struct xtr_daemon *d;
	struct dp dp;
	struct tun *tuns;
	size_t ntuns;
	struct udp udp[2]; /* IPv4, IPv6 */
	int raw4, raw6, rt;
	unsigned tun_mtu;
	uint8_t (*slots)[SLOT];
	uint8_t *slotp[PKT_MAX]; /* slots[i] + DP_HEADROOM: where a packet read goes */
	struct dp_pkt pk[PKT_MAX];
	size_t npk; /* decapsulation: packets waiting in pk */
	struct mmsghdr rmsg[RX_MSGS];
	struct iovec riov[RX_MSGS];
	struct sockaddr_storage rfrom[RX_MSGS];
	uint8_t rctl[RX_MSGS][64];
	uint8_t *rxbuf;	 /* RX_MSGS x RX_BUF */
	uint8_t *tunbuf; /* a TUN read: virtio-net header + up to 64 KiB */
	uint8_t *grobuf; /* a TUN write gathered from many packets */
	struct out out4, out6;
	struct dp_pkt txq[PKT_MAX]; /* encapsulated, waiting for flush_out() */
	size_t ntx;
	int pool[2][PORT_POOL]; /* UDP sockets bound to 49152 + i (IPv4, IPv6), -1 if not */
	struct pending pend[PENDING_MAX];
	size_t npend;
	struct smr_slot smr[SMR_SLOTS];
	struct xtr_dp_counters c;
	struct log_rate rl;
};

static struct tun *tun_of(struct xtr_dp *x, uint32_t iid)
{
	for (size_t i = 0; i < x->ntuns; i++)
		if (x->tuns[i].iid == iid)
			return &x->tuns[i];
	return NULL;
}

static uint32_t table_of(uint32_t iid)
{
	return iid ? iid : RT_MAIN;
}

static void flush_one(struct xtr_dp *x, struct out *o, int fd);

/* Queues p (encapsulated) for a sendmmsg on the raw socket of its family. */
static void raw_push(struct xtr_dp *x, const struct dp_pkt *p)
{
	struct out *o = p->next_hop.afi == LISP_AFI_IPV4 ? &x->out4 : &x->out6;
	int fd = p->next_hop.afi == LISP_AFI_IPV4 ? x->raw4 : x->raw6;
	unsigned i = o->n;

	if (fd < 0) {
		x->c.send_errors++;
		return;
	}
	if (i == PKT_MAX) {
		flush_one(x, o, fd);
		i = 0;
	}
	o->iov[i] = (struct iovec){ .iov_base = p->buf + p->off, .iov_len = p->len };
	o->msg[i].msg_hdr =
		(struct msghdr){ .msg_name = &o->to[i],
				 .msg_namelen = lisp_addr_to_sockaddr(&p->next_hop, 0, &o->to[i]),
				 .msg_iov = &o->iov[i],
				 .msg_iovlen = 1 };
	o->n++;
}

static void flush_one(struct xtr_dp *x, struct out *o, int fd)
{
	unsigned done = 0;

	while (done < o->n) {
		int r = sendmmsg(fd, o->msg + done, o->n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			x->c.send_errors++;
			log_warn_rl(&x->rl, "dataplane: send: %s", strerror(errno));
			done++;
			continue;
		}
		done += (unsigned)r;
		x->c.rloc_tx += (unsigned)r;
	}
	o->n = 0;
}

/* Outer header bytes (IP + UDP) the pipeline wrote in front of the LISP header. */
static size_t outer_hdr(const struct dp_pkt *p)
{
	return (p->next_hop.afi == LISP_AFI_IPV4 ? 20 : 40) + 8;
}

/* Can q go in one UDP GSO send after p (the group's first, whose payloads are plen bytes)? */
static bool same_group(const struct dp_pkt *p, const struct dp_pkt *q, size_t plen)
{
	const uint8_t *a = p->buf + p->off, *b = q->buf + q->off;
	size_t h = outer_hdr(p);

	if (!lisp_addr_equal(&p->next_hop, &q->next_hop) || q->len - h > plen)
		return false;
	if (memcmp(a + h - 8, b + h - 8, 2) != 0) /* source port */
		return false;
	if (p->next_hop.afi == LISP_AFI_IPV4)
		return a[1] == b[1] && a[8] == b[8]; /* TOS, TTL */
	return memcmp(a, b, 4) == 0 && a[7] == b[7]; /* traffic class, flow label, hop limit */
}

/*
 * Sends q[0..n) (same next hop, port, TTL, TOS; equal payloads but the last)
 * in one UDP GSO send from the pool socket of their source port: the
 * kernel cuts it into n datagrams (and GRO at the receiver joins them).
 */
static bool gso_send(struct xtr_dp *x, const struct dp_pkt *q, size_t n)
{
	const struct dp_pkt *p = &q[0];
	const uint8_t *o = p->buf + p->off;
	bool v4 = p->next_hop.afi == LISP_AFI_IPV4;
	size_t h = outer_hdr(p);
	unsigned port = (unsigned)(o[h - 8] << 8 | o[h - 7]);
	int fd = port >= 0xc000 && port < 0xc000 + PORT_POOL ? x->pool[!v4][port - 0xc000] : -1;
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t)) + 2 * CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[GSO_SEGS];
	struct sockaddr_storage to;
	struct msghdr m = { .msg_name = &to,
			    .msg_namelen = lisp_addr_to_sockaddr(&p->next_hop, LISP_DATA_PORT, &to),
			    .msg_iov = iov,
			    .msg_iovlen = n,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	uint16_t seg = (uint16_t)(p->len - h);
	int ttl = v4 ? o[8] : o[7], tos = v4 ? o[1] : (o[0] & 0x0f) << 4 | o[1] >> 4;

	if (fd < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct iovec){ .iov_base = q[i].buf + q[i].off + h,
					 .iov_len = q[i].len - h };
	memset(ctl.buf, 0, sizeof(ctl.buf));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	c = CMSG_NXTHDR(&m, c);
	c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	c->cmsg_type = v4 ? IP_TTL : IPV6_HOPLIMIT;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ttl, sizeof(int));
	c = CMSG_NXTHDR(&m, c);
	c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &tos, sizeof(int));
	if (sendmsg(fd, &m, 0) < 0) {
		log_warn_rl(&x->rl, "dataplane: UDP GSO send: %s; sent one by one",
			    strerror(errno));
		return false;
	}
	x->c.rloc_tx += n;
	x->c.gso_sends++;
	return true;
}

/* The queued packets out: runs of one flow by UDP GSO, the rest by raw sendmmsg. */
static void flush_out(struct xtr_dp *x)
{
	for (size_t i = 0; i < x->ntx;) {
		const struct dp_pkt *p = &x->txq[i];
		size_t plen = p->len - outer_hdr(p), n = 1, bytes = plen;

		while (i + n < x->ntx && n < GSO_SEGS && bytes + plen <= GSO_BYTES &&
		       x->txq[i + n - 1].len == p->len && same_group(p, &x->txq[i + n], plen)) {
			bytes += x->txq[i + n].len - outer_hdr(p);
			n++;
		}
		if (n < 2 || !gso_send(x, &x->txq[i], n))
			for (size_t k = 0; k < n; k++)
				raw_push(x, &x->txq[i + k]);
		i += n;
	}
	x->ntx = 0;
	if (x->out4.n)
		flush_one(x, &x->out4, x->raw4);
	if (x->out6.n)
		flush_one(x, &x->out6, x->raw6);
}

/* Queues p (encapsulated) for its next hop. */
static void push_out(struct xtr_dp *x, const struct dp_pkt *p)
{
	if (x->ntx == PKT_MAX)
		flush_out(x);
	x->txq[x->ntx++] = *p;
}

/* The inner source and destination of the packet at ip (the pipeline parsed it already). */
static void inner_addrs(const uint8_t *ip, struct lisp_addr *src, struct lisp_addr *dst)
{
	if (ip[0] >> 4 == 4) {
		src->afi = dst->afi = LISP_AFI_IPV4;
		memcpy(src->u.v4, ip + 12, 4);
		memcpy(dst->u.v4, ip + 16, 4);
	} else {
		lisp_addr_set_v6(src, ip + 8);
		lisp_addr_set_v6(dst, ip + 24);
	}
}

/* Holds p until its destination resolves; false if the queue is full. */
static bool hold(struct xtr_dp *x, const struct dp_pkt *p, double now)
{
	struct pending *q;

	if (x->npend == PENDING_MAX || p->len > SLOT - DP_HEADROOM)
		return false;
	q = &x->pend[x->npend++];
	memcpy(q->buf + DP_HEADROOM, p->buf + p->off, p->len);
	q->len = p->len;
	q->iid = p->iid;
	q->at = now;
	x->c.held++;
	return true;
}

/* The control plane's part of an encapsulation batch: learn, resolve, hold, send. */
static void after_encap(struct xtr_dp *x, struct dp_pkt *pk, size_t n, bool from_queue, double now)
{
	struct xtr_daemon *d = x->d;
	char sa[LISP_ADDR_STRLEN], da[LISP_ADDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		struct dp_pkt *p = &pk[i];
		struct lisp_addr src, dst;

		if (p->flags & DP_F_LEARN) {
			x->c.learn_punts++;
			etr_dyn_learn(d->etr, p->iid, &p->aux, ETR_SRC_DATA, NULL, now);
		}
		switch (p->verdict) {
		case DP_FORWARD:
			push_out(x, p);
			break;
		case DP_PUNT:
			if (from_queue)
				break; /* the caller keeps it while it is young */
			inner_addrs(p->buf + p->inner, &src, &dst);
			mc_resolve(d->mc, p->iid, &dst, now);
			log_debug(LOG_PACKET, "dataplane: [%u] %s -> %s: %s, held", p->iid,
				  lisp_addr_format(&src, sa, sizeof(sa)),
				  lisp_addr_format(&dst, da, sizeof(da)),
				  dp_reason_name(p->reason));
			if (!hold(x, p, now))
				x->c.hold_drops++;
			break;
		case DP_NATIVE:
			x->c.native_drops++; /* it came from the EID side: no native path back */
			break;
		default:
			if (p->reason == DP_R_MALFORMED)
				log_warn_rl(&x->rl,
					    "dataplane: dropped a malformed packet (%zu bytes) "
					    "from the EID side",
					    p->len);
			break;
		}
	}
}

/*
 * Reads from the TUN while there is room: each read is a virtio-net header
 * and a packet or a TSO segment, cut into ordinary packets in the slots.
 */
static void tun_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tun *t = container_of(w, struct tun, io);
	struct xtr_dp *x = t->x;
	size_t lens[PKT_MAX], n = 0;

	(void)revents;
	while (n + SEG_ROOM <= PKT_MAX) {
		ssize_t r = read(t->fd, x->tunbuf, VNET_LEN + 65535);
		struct virtio_net_hdr vh;
		struct gso_out go = { .bufs = x->slotp + n,
				      .lens = lens,
				      .cap = SLOT - DP_HEADROOM,
				      .max = PKT_MAX - n };
		int k;

		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn_rl(&x->rl, "dataplane: read %s: %s", t->name,
					    strerror(errno));
			break;
		}
		x->c.tun_reads++;
		if (r <= VNET_LEN) {
			x->c.gso_errors++;
			continue;
		}
		memcpy(&vh, x->tunbuf, sizeof(vh));
		k = gso_split(&vh, x->tunbuf + VNET_LEN, (size_t)r - VNET_LEN, &go);
		if (k < 0) {
			x->c.gso_errors++;
			log_warn_rl(&x->rl,
				    "dataplane: %s: a segment the data plane cannot cut "
				    "(%zd bytes, type %u): %s; dropped",
				    t->name, r, vh.gso_type, strerror(-k));
			continue;
		}
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			x->c.tun_tso++;
		for (int i = 0; i < k; i++, n++)
			x->pk[n] = (struct dp_pkt){ .buf = x->slots[n],
						    .off = DP_HEADROOM,
						    .len = lens[i],
						    .iid = t->iid };
	}
	if (!n)
		return;
	x->c.tun_rx += n;
	x->dp.now = ev_now(loop);
	dp_encap_batch(&x->dp, x->pk, n);
	after_encap(x, x->pk, n, false, ev_now(loop));
	flush_out(x);
}

/* A Solicit-Map-Request to itr: the mapping of eid (ours, moved away) changed; remote sent to it. */
static void send_smr(struct xtr_dp *x, const struct lisp_addr *itr, uint32_t iid,
		     const struct lisp_addr *eid, const struct lisp_addr *remote, double now)
{
	struct lisp_map_request q = { .smr = true, .itr_rloc_count = 1 };
	uint32_t h = lisp_addr_hash(itr) * 31 + lisp_addr_hash(eid) + iid;
	struct smr_slot *s = &x->smr[h % SMR_SLOTS];
	struct lisp_prefix rec;
	struct etr_away_info away;
	struct buf_writer w;
	uint8_t buf[512];
	double t;

	lisp_prefix_from_addr(&q.src_eid, iid, eid);
	/* one SMR per interval for one move: an away entry newer than the last SMR is another */
	if (s->iid == iid && lisp_addr_equal(&s->itr, itr) && lisp_addr_equal(&s->eid, eid) &&
	    now - s->at < SMR_INTERVAL &&
	    (etr_away_get(x->d->etr, &q.src_eid, &away) < 0 || away.since <= s->at)) {
		x->c.smr_ratelimited++;
		return;
	}
	lisp_prefix_from_addr(&rec, iid, remote);
	if (!mc_local_rloc(x->d->mc, itr->afi, &q.itr_rlocs[0]) ||
	    getrandom(&q.nonce, sizeof(q.nonce), 0) != sizeof(q.nonce))
		return;
	buf_writer_init(&w, buf, sizeof(buf));
	t = evh_now();
	if (lisp_msg_encode_map_request(&w, &q, &rec, 1) < 0 ||
	    xtr_net_send(x->d, itr, LISP_CONTROL_PORT, buf, w.off) < 0)
		return;
	*s = (struct smr_slot){ .itr = *itr, .eid = *eid, .iid = iid, .at = now };
	x->c.smr_sent++;
	etr_away_smr_sent(x->d->etr, &q.src_eid);
	evh_add_at(t, "smr-sent", &q.src_eid, itr, "a packet from %s re-encapsulated",
		   lisp_addr_format(remote, (char *)buf, sizeof(buf)));
}

/* Writes the decapsulated packets idx[0..n) of TUN t, consecutive ones of a TCP flow as one. */
static void tun_write(struct xtr_dp *x, struct tun *t, const size_t *idx, size_t n)
{
	static const struct virtio_net_hdr plain;
	const uint8_t *pkts[PKT_MAX];
	size_t lens[PKT_MAX];

	for (size_t i = 0; i < n; i++) {
		pkts[i] = x->pk[idx[i]].buf + x->pk[idx[i]].off;
		lens[i] = x->pk[idx[i]].len;
	}
	for (size_t i = 0; i < n;) {
		struct gro_unit u;
		size_t k = gro_build(pkts + i, lens + i, n - i, &u, x->grobuf, 65535, t->uso);
		struct iovec iov[2] = {
			{ .iov_base = (void *)(uintptr_t)(u.buf ? &u.vh : &plain),
			  .iov_len = VNET_LEN },
			{ .iov_base = (void *)(uintptr_t)(u.buf ? u.buf : pkts[i]),
			  .iov_len = u.len },
		};

		x->c.tun_writes++;
		if (writev(t->fd, iov, 2) < 0) {
			x->c.tun_errors += k;
			log_warn_rl(&x->rl, "dataplane: write %s: %s", t->name, strerror(errno));
		} else {
			x->c.tun_tx += k;
			x->c.tun_gro += k > 1;
		}
		i += k;
	}
}

/* The packets in pk[0..npk) (LISP payloads): decapsulated, delivered or re-encapsulated. */
static void decap_flush(struct xtr_dp *x, double now)
{
	size_t n = x->npk, idx[PKT_MAX], nidx = 0;
	struct tun *cur = NULL;
	char sa[LISP_ADDR_STRLEN];

	if (!n)
		return;
	x->npk = 0;
	x->dp.now = now;
	dp_decap_payload_batch(&x->dp, x->pk, n);
	for (size_t i = 0; i < n; i++) {
		struct dp_pkt *p = &x->pk[i];
		struct lisp_addr src, dst;
		struct tun *t;

		if (p->verdict != DP_FORWARD) {
			if (p->reason == DP_R_NOT_LISP || p->reason == DP_R_MALFORMED)
				log_warn_rl(&x->rl, "dataplane: dropped a packet from %s: %s",
					    lisp_addr_format(&p->aux, sa, sizeof(sa)),
					    dp_reason_name(p->reason));
			continue;
		}
		if (p->flags & DP_F_SMR) {
			inner_addrs(p->buf + p->inner, &src, &dst);
			send_smr(x, &p->aux, p->iid, &dst, &src, now);
		}
		if (p->reason == DP_R_AWAY) {
			push_out(x, p);
			continue;
		}
		t = tun_of(x, p->iid);
		if (!t) {
			x->c.unknown_iid++;
			continue;
		}
		if (t != cur && nidx) {
			tun_write(x, cur, idx, nidx);
			nidx = 0;
		}
		cur = t;
		idx[nidx++] = i;
	}
	if (nidx)
		tun_write(x, cur, idx, nidx);
	flush_out(x);
}

/*
 * A received datagram in an rx buffer (base; the datagram at DP_HEADROOM):
 * one alone is decapsulated where it lies (the headroom is there for a
 * re-encapsulation); coalesced ones (GRO, cut at gso) are copied each into
 * a slot of its own, since re-encapsulating one would overwrite the tail
 * of the one before.
 */
static void rx_datagram(struct xtr_dp *x, uint8_t *base, size_t len, size_t gso,
			const struct lisp_addr *from, uint8_t ttl, double now)
{
	size_t seg = gso && gso < len ? gso : len;
	const uint8_t *data = base + DP_HEADROOM;

	if (seg < len)
		x->c.rloc_gro++;
	for (size_t off = 0; off < len; off += seg) {
		size_t l = len - off < seg ? len - off : seg;
		struct dp_pkt *p;

		if (x->npk == PKT_MAX)
			decap_flush(x, now);
		if (l > SLOT - DP_HEADROOM) { /* larger than any LISP packet we take */
			x->c.oversize++;
			log_warn_rl(&x->rl, "dataplane: a %zu-byte datagram from port 4341 dropped",
				    l);
			continue;
		}
		p = &x->pk[x->npk];
		*p = (struct dp_pkt){
			.buf = base, .off = DP_HEADROOM, .len = l, .ttl = ttl, .aux = *from
		};
		if (seg < len) {
			memcpy(x->slots[x->npk] + DP_HEADROOM, data + off, l);
			p->buf = x->slots[x->npk];
		}
		x->npk++;
		x->c.rloc_rx++;
	}
}

static void udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct udp *u = container_of(w, struct udp, io);
	struct xtr_dp *x = u->x;
	double now = ev_now(loop);
	uint16_t port;
	int got;

	(void)revents;
	for (int i = 0; i < RX_MSGS; i++) {
		x->riov[i] =
			(struct iovec){ .iov_base = x->rxbuf + (size_t)i * RX_BUF + DP_HEADROOM,
					.iov_len = RX_BUF - DP_HEADROOM };
		x->rmsg[i].msg_hdr = (struct msghdr){ .msg_name = &x->rfrom[i],
						      .msg_namelen = sizeof(x->rfrom[i]),
						      .msg_iov = &x->riov[i],
						      .msg_iovlen = 1,
						      .msg_control = x->rctl[i],
						      .msg_controllen = sizeof(x->rctl[i]) };
	}
	got = recvmmsg(u->fd, x->rmsg, RX_MSGS, MSG_DONTWAIT, NULL);
	if (got <= 0) {
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			log_warn_rl(&x->rl, "dataplane: recvmmsg: %s", strerror(errno));
		return;
	}
	x->c.rloc_reads++;
	for (int i = 0; i < got; i++) {
		struct lisp_addr from;
		uint8_t ttl = 64;
		size_t gso = 0;

		lisp_addr_from_sockaddr(&x->rfrom[i], &from, &port);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&x->rmsg[i].msg_hdr); c;
		     c = CMSG_NXTHDR(&x->rmsg[i].msg_hdr, c)) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
				ttl = (uint8_t)v;
			else if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO && v > 0)
				gso = (size_t)v;
		}
		rx_datagram(x, x->rxbuf + (size_t)i * RX_BUF, x->rmsg[i].msg_len, gso, &from, ttl,
			    now);
	}
	decap_flush(x, now);
}

/* Sends what waited for a Map-Reply; keeps what still waits and is young. */
static void retry_pending(struct xtr_dp *x, double now)
{
	size_t keep = 0;

	for (size_t off = 0; off < x->npend; off += BATCH) {
		size_t n = x->npend - off < BATCH ? x->npend - off : BATCH;

		for (size_t i = 0; i < n; i++) {
			struct pending *q = &x->pend[off + i];

			x->pk[i] = (struct dp_pkt){
				.buf = q->buf, .off = DP_HEADROOM, .len = q->len, .iid = q->iid
			};
		}
		x->dp.now = now;
		dp_encap_batch(&x->dp, x->pk, n);
		after_encap(x, x->pk, n, true, now);
		flush_out(x);
		for (size_t i = 0; i < n; i++) {
			struct pending *q = &x->pend[off + i];

			if (x->pk[i].verdict == DP_FORWARD) {
				x->c.held_sent++;
			} else if (x->pk[i].verdict == DP_PUNT && now - q->at < PENDING_AGE) {
				struct pending t = x->pend[keep]; /* swap: buffers stay owned */

				x->pend[keep++] = *q;
				*q = t;
			} else {
				x->c.hold_drops++;
			}
		}
	}
	x->npend = keep;
}

void xtr_dp_installed(void *arg)
{
	struct xtr_daemon *d = arg;

	if (d->dpx && d->dpx->npend)
		retry_pending(d->dpx, ev_now(d->loop));
}

static int route(struct xtr_dp *x, bool add, const struct lisp_prefix *p, int ifindex)
{
	char b[LISP_PREFIX_STRLEN];
	int rc = xtr_rt_route(x->rt, add, p, table_of(p->iid), ifindex);

	if (rc < 0 && !(rc == -ESRCH && !add)) {
		x->c.route_errors++;
		log_warn("dataplane: %s route %s: %s", add ? "add" : "delete",
			 lisp_prefix_format(p, b, sizeof(b)), strerror(-rc));
	}
	return rc;
}

void xtr_dp_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	struct xtr_daemon *d = arg;
	struct xtr_dp *x = d->dpx;
	struct tun *t;
	int ifindex;

	if (!x)
		return;
	switch (ev) {
	case ETR_EV_AWAY_UP:
	case ETR_EV_AWAY_DOWN:
		t = tun_of(x, p->iid);
		if (t)
			route(x, ev == ETR_EV_AWAY_UP, p, t->ifindex);
		break;
	case ETR_EV_DYN_UP:
	case ETR_EV_DYN_DOWN:
		if (!ifname)
			break; /* extended subnet: the connected subnet reaches it */
		ifindex = (int)if_nametoindex(ifname);
		if (!ifindex) {
			log_warn_rl(&x->rl, "dataplane: interface %s: %s", ifname, strerror(errno));
			break;
		}
		route(x, ev == ETR_EV_DYN_UP, p, ifindex);
		break;
	}
}

void xtr_dp_host_route(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr,
		       bool add)
{
	struct xtr_daemon *d = arg;
	struct xtr_dp *x = d->dpx;
	char b[LISP_PREFIX_STRLEN];
	struct lisp_addr via = { 0 };
	int oif = 0, rc;

	if (!x || p->addr.afi != fhr->afi)
		return;
	if (add && (rc = nl_route_get(x->rt, fhr, &via, &oif)) < 0) {
		log_warn_rl(&x->rl, "dataplane: no route to first-hop router for %s: %s",
			    lisp_prefix_format(p, b, sizeof(b)), strerror(-rc));
		return;
	}
	rc = nl_route(x->rt, add, p, table_of(p->iid), add ? oif : 0, add && via.afi ? &via : NULL,
		      XTR_RTPROT);
	if (rc < 0 && !(rc == -ESRCH && !add)) {
		x->c.route_errors++;
		log_warn("dataplane: %s host route %s: %s", add ? "add" : "delete",
			 lisp_prefix_format(p, b, sizeof(b)), strerror(-rc));
	}
}

/* Routes the configured map-cache prefixes of c into their TUN (add) or out of it. */
static void mapcache_routes(struct xtr_dp *x, const struct xtr_conf *c, bool add)
{
	for (size_t i = 0; i < c->nmapcache; i++) {
		struct tun *t = tun_of(x, c->mapcache[i].p.iid);

		if (t)
			route(x, add, &c->mapcache[i].p, t->ifindex);
	}
}

void xtr_dp_reconfigure(struct xtr_daemon *d, const struct xtr_conf *old)
{
	struct xtr_dp *x = d->dpx;

	if (!x)
		return;
	for (size_t i = 0; i < old->nmapcache; i++) {
		bool kept = false;

		for (size_t j = 0; j < d->conf->nmapcache && !kept; j++)
			kept = lisp_prefix_equal(&old->mapcache[i].p, &d->conf->mapcache[j].p);
		if (!kept && tun_of(x, old->mapcache[i].p.iid))
			route(x, false, &old->mapcache[i].p,
			      tun_of(x, old->mapcache[i].p.iid)->ifindex);
	}
	mapcache_routes(x, d->conf, true);
	dp_set_petrs(&x->dp, d->conf);
	x->dp.proxy_etr = d->conf->proxy_etr_v4 || d->conf->proxy_etr_v6;
	xtr_dp_tick(d);
}

void xtr_dp_tick(struct xtr_daemon *d)
{
	struct xtr_dp *x = d->dpx;
	double now = ev_now(d->loop);
	size_t keep = 0;

	if (!x)
		return;
	if (!mc_local_rloc(d->mc, LISP_AFI_IPV4, &x->dp.rloc4))
		x->dp.rloc4.afi = LISP_AFI_NONE;
	if (!mc_local_rloc(d->mc, LISP_AFI_IPV6, &x->dp.rloc6))
		x->dp.rloc6.afi = LISP_AFI_NONE;
	for (size_t i = 0; i < x->npend; i++) { /* age the held packets */
		if (now - x->pend[i].at < PENDING_AGE) {
			struct pending t = x->pend[keep];

			x->pend[keep++] = x->pend[i];
			x->pend[i] = t;
		} else {
			x->c.hold_drops++;
		}
	}
	x->npend = keep;
}

/* The instance-ids the configuration has EIDs in: each gets a TUN. */
static size_t conf_iids(const struct xtr_conf *c, uint32_t *out, size_t max)
{
	size_t n = 0;

#define ADD_IID(v)                                                                                 \
	do {                                                                                       \
		bool seen = false;                                                                 \
		for (size_t k_ = 0; k_ < n; k_++)                                                  \
			seen |= out[k_] == (v);                                                    \
		if (!seen && n < max)                                                              \
			out[n++] = (v);                                                            \
	} while (0)
	ADD_IID(0u);
	for (size_t i = 0; i < c->neidtables; i++)
		ADD_IID(c->eidtables[i].iid);
	for (size_t i = 0; i < c->ndbmaps; i++)
		ADD_IID(c->dbmaps[i].p.iid);
	for (size_t i = 0; i < c->nmapcache; i++)
		ADD_IID(c->mapcache[i].p.iid);
#undef ADD_IID
	return n;
}

/* True if any RLOC of ours or of our peers can be IPv6: then the larger overhead. */
static bool v6_rlocs(const struct xtr_conf *c)
{
	bool v6 = c->proxy_itr6.afi != LISP_AFI_NONE;

	for (size_t i = 0; i < c->nlocsets; i++)
		for (size_t j = 0; j < c->locsets[i].nlocs; j++)
			v6 |= c->locsets[i].locs[j].addr.afi == LISP_AFI_IPV6 ||
			      c->locsets[i].locs[j].if_afi == LISP_AFI_IPV6;
	for (size_t i = 0; i < c->ndbmaps; i++)
		for (size_t j = 0; j < c->dbmaps[i].nlocs; j++)
			v6 |= c->dbmaps[i].locs[j].addr.afi == LISP_AFI_IPV6;
	for (size_t i = 0; i < c->npetrs; i++)
		v6 |= c->petrs[i].addr.afi == LISP_AFI_IPV6;
	return v6;
}

static void open_tun(struct xtr_dp *x, struct tun *t)
{
	struct ifreq ifr = { 0 };
	char path[128];
	int s, fd, vnet;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		fatal("dataplane: /dev/net/tun: %s", strerror(errno));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		fatal("dataplane: cannot create %s: %s", t->name, strerror(errno));
	/* TCP segments of up to 64 KiB cross the TUN once, both ways (xtr_gso.c) */
	vnet = VNET_LEN;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &vnet) < 0)
		fatal("dataplane: %s: virtio-net header: %s", t->name, strerror(errno));
	/* UDP segments too where the kernel takes them (Linux 6.2); never asked of us on reads
	 * unless a local sender uses UDP GSO, which gso_split() refuses and counts */
	t->uso = ioctl(t->fd, TUNSETOFFLOAD, TUN_OFFLOADS | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (!t->uso && ioctl(t->fd, TUNSETOFFLOAD, TUN_OFFLOADS) < 0)
		fatal("dataplane: %s: offloads: %s", t->name, strerror(errno));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fatal("dataplane: socket: %s", strerror(errno));
	/* no IPv6 link-local address: the kernel would send router solicitations and MLD into it */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", t->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			log_warn("dataplane: %s: %s", path, strerror(errno));
		close(fd);
	}
	ifr.ifr_mtu = (int)x->tun_mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		fatal("dataplane: %s mtu %u: %s", t->name, x->tun_mtu, strerror(errno));
	/* a long queue toward us: bursts wait while the daemon is busy instead of being dropped */
	ifr.ifr_qlen = TUN_TXQLEN;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		log_warn("dataplane: %s txqueuelen %d: %s", t->name, TUN_TXQLEN, strerror(errno));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fatal("dataplane: %s: %s", t->name, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fatal("dataplane: %s up: %s", t->name, strerror(errno));
	close(s);
	t->ifindex = (int)if_nametoindex(t->name);
	t->x = x;
	ev_io_init(&t->io, tun_cb, t->fd, EV_READ);
	ev_io_start(x->d->loop, &t->io);
	log_info("dataplane: %s (instance-id %u, mtu %u)", t->name, t->iid, x->tun_mtu);
}

static void open_udp(struct xtr_dp *x, struct udp *u, int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	struct lisp_addr any = { .afi = family == AF_INET ? LISP_AFI_IPV4 : LISP_AFI_IPV6 };
	socklen_t sl = lisp_addr_to_sockaddr(&any, LISP_DATA_PORT, &ss);
	int one = 1, buf = 8 << 20;

	u->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		fatal("dataplane: socket: %s", strerror(errno));
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (family == AF_INET6) {
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
		/* RFC 9300 §5.3: a zero UDP checksum is allowed over IPv6 too */
		setsockopt(u->fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, &one, sizeof(one));
	} else {
		setsockopt(u->fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	}
	/* consecutive datagrams of one flow come as one (cut again in rx_datagram) */
	if (setsockopt(u->fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		log_warn("dataplane: UDP GRO: %s (one datagram per buffer)", strerror(errno));
	if (bind(u->fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("dataplane: cannot listen on UDP port %d: %s", LISP_DATA_PORT,
		      strerror(errno));
	u->x = x;
	ev_io_init(&u->io, udp_cb, u->fd, EV_READ);
	ev_io_start(x->d->loop, &u->io);
}

static int open_raw(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), one = 1;

	if (fd < 0)
		fatal("dataplane: raw socket: %s", strerror(errno));
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)) < 0)
		fatal("dataplane: IPV6_HDRINCL: %s", strerror(errno));
	return fd;
}

/*
 * The UDP sockets runs of one flow leave by (UDP GSO), one per source port
 * 49152 + i: the pipeline then hashes flows onto these PORT_POOL ports. A
 * port another program holds is left to the raw path.
 */
static void open_pool(struct xtr_dp *x)
{
	unsigned open = 0;

	for (int f = 0; f < 2; f++) {
		for (int i = 0; i < PORT_POOL; i++) {
			int fam = f ? AF_INET6 : AF_INET, one = 1, small = 4096,
			    pmtu = f ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE;
			struct lisp_addr any = { .afi = f ? LISP_AFI_IPV6 : LISP_AFI_IPV4 };
			struct sockaddr_storage ss;
			socklen_t sl = lisp_addr_to_sockaddr(&any, (uint16_t)(0xc000 + i), &ss);
			int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			x->pool[f][i] = -1;
			if (fd < 0)
				continue;
			if (f)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			/* outer DF set, no local PMTU cache (RFC 9300 §7: stateless) */
			setsockopt(fd, f ? IPPROTO_IPV6 : IPPROTO_IP,
				   f ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				   sizeof(small)); /* send only */
			if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
				close(fd);
				continue;
			}
			x->pool[f][i] = fd;
			open++;
		}
	}
	x->dp.sport_mask = PORT_POOL - 1;
	if (open < 2 * PORT_POOL)
		log_warn("dataplane: %u of the %d UDP source ports 49152-%d in use elsewhere: "
			 "their flows are sent one packet at a time",
			 2 * PORT_POOL - open, 2 * PORT_POOL, 0xc000 + PORT_POOL - 1);
}

void xtr_dp_open(struct xtr_daemon *d)
{
	const struct xtr_conf *c = d->conf;
	struct xtr_dp *x;
	uint32_t iids[256];
	size_t n;
	int rc;

	if (!xtr_conf_dataplane(c))
		return;
	x = xcalloc(1, sizeof(*x));
	x->d = d;
	x->slots = xcalloc(PKT_MAX, SLOT);
	for (size_t i = 0; i < PKT_MAX; i++)
		x->slotp[i] = x->slots[i] + DP_HEADROOM;
	x->rxbuf = xcalloc(RX_MSGS, RX_BUF);
	x->tunbuf = xcalloc(1, VNET_LEN + 65536);
	x->grobuf = xcalloc(1, 65536);
	for (size_t i = 0; i < PENDING_MAX; i++)
		x->pend[i].buf = xmalloc(SLOT);
	x->tun_mtu = c->dp_mtu - (v6_rlocs(c) ? V6_OVERHEAD : V4_OVERHEAD);
	dp_init(&x->dp, d->mc, NULL, NULL, c->dp_mtu);
	x->dp.local = etr_local_table(d->etr);
	d->dpx = x;
	x->rt = xtr_rt_open();
	if (x->rt < 0)
		fatal("dataplane: rtnetlink: %s", strerror(-x->rt));
	rc = xtr_rt_flush(x->rt);
	if (rc > 0)
		log_info("dataplane: removed %d route(s) left by an earlier run", rc);
	n = conf_iids(c, iids, sizeof(iids) / sizeof(iids[0]));
	x->tuns = xcalloc(n, sizeof(*x->tuns));
	for (size_t i = 0; i < n; i++) {
		struct tun *t = &x->tuns[x->ntuns++];
		int len =
			iids[i] ? snprintf(t->name, sizeof(t->name), "%s.%u", c->dp_ifname, iids[i])
				: snprintf(t->name, sizeof(t->name), "%s", c->dp_ifname);

		if (len < 0 || (size_t)len >= sizeof(t->name))
			fatal("dataplane: interface name %s.%u is longer than %d characters",
			      c->dp_ifname, iids[i], IF_NAMESIZE - 1);
		t->iid = iids[i];
		open_tun(x, t);
	}
	open_udp(x, &x->udp[0], AF_INET);
	open_udp(x, &x->udp[1], AF_INET6);
	x->raw4 = open_raw(AF_INET);
	x->raw6 = open_raw(AF_INET6);
	open_pool(x);
	mapcache_routes(x, c, true);
	dp_set_petrs(&x->dp, c);
	x->dp.proxy_etr = c->proxy_etr_v4 || c->proxy_etr_v6;
	xtr_dp_tick(d);
	log_info("dataplane: UDP port %d, %zu instance-id(s)", LISP_DATA_PORT, x->ntuns);
}

void xtr_dp_close(struct xtr_daemon *d)
{
	struct xtr_dp *x = d->dpx;

	if (!x)
		return;
	xtr_rt_flush(x->rt); /* the TUN routes go with the devices; the others go here */
	for (size_t i = 0; i < x->ntuns; i++) {
		ev_io_stop(d->loop, &x->tuns[i].io);
		close(x->tuns[i].fd);
	}
	for (int i = 0; i < 2; i++) {
		ev_io_stop(d->loop, &x->udp[i].io);
		close(x->udp[i].fd);
	}
	close(x->raw4);
	close(x->raw6);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < PORT_POOL; i++)
			if (x->pool[f][i] >= 0)
				close(x->pool[f][i]);
	close(x->rt);
	for (size_t i = 0; i < PENDING_MAX; i++)
		free(x->pend[i].buf);
	free(x->tuns);
	free(x->slots);
	free(x->rxbuf);
	free(x->tunbuf);
	free(x->grobuf);
	free(x);
	d->dpx = NULL;
}

const struct dp_counters *xtr_dp_pipeline_counters(const struct xtr_daemon *d)
{
	return d->dpx ? &d->dpx->dp.c : NULL;
}

const struct xtr_dp_counters *xtr_dp_counters(const struct xtr_daemon *d)
{
	return d->dpx ? &d->dpx->c : NULL;
}

size_t xtr_dp_tuns(const struct xtr_daemon *d, struct xtr_dp_tun_info *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; d->dpx && i < d->dpx->ntuns && n < max; i++, n++) {
		snprintf(out[n].name, sizeof(out[n].name), "%s", d->dpx->tuns[i].name);
		out[n].iid = d->dpx->tuns[i].iid;
		out[n].mtu = d->dpx->tun_mtu;
	}
	return n;
}

size_t xtr_dp_held(const struct xtr_daemon *d)
{
	return d->dpx ? d->dpx->npend : 0;
}
