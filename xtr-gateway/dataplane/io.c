/*
 * The data plane's I/O around the pure pipeline (dataplane/pipeline.c): one TUN
 * device per instance-id on the EID side (the default table's is
 * `dataplane interface`, default lisp0; instance-id N's is lisp0.N), UDP
 * port 4341 on the RLOC side. Encapsulated packets leave through raw
 * sockets because the pipeline writes the whole outer header (its UDP
 * source port is the flow hash). Offloads: the TUN hands over TCP segments
 * of up to 64 KiB (IFF_VNET_HDR, TSO), cut into ordinary packets before the
 * pipeline (dataplane/gso.c); UDP GRO coalesces received LISP datagrams, which
 * are split again; decapsulated TCP packets of one flow are gathered into
 * one TSO segment per TUN write. The glue only moves batches; what happens
 * to a packet is decided by the pipeline: the glue then resolves misses
 * (holding the first packets until the Map-Reply: dataplane/hold.c), hands
 * new dynamic EIDs to the ETR, and has SMRs sent for away EIDs
 * (dataplane/smr.c, which decides who gets one and when).
 *
 * Workers: `dataplane workers N` threads (default one per online CPU), each
 * with its own queue of every TUN (IFF_MULTI_QUEUE: the kernel picks the
 * queue by flow hash), its own UDP 4341 sockets (SO_REUSEPORT: picked by
 * the outer 4-tuple, whose source port is the flow hash), its own pipeline
 * state and counters, and its own libev loop. The tables they read (the
 * map-cache, the ETR's local EIDs) belong to the control plane: a
 * writer-preferring rwlock is held for writing by the main thread whenever
 * it is not waiting in its loop, and for reading by a worker around each
 * batch. What a packet asks of the control plane (learn, resolve and hold,
 * SMR) is punted: noted during the batch, done under the write lock after
 * it. The main thread's own context (ctl) sends held packets on.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/ippkt.h"
#include "lib/nl.h"
#include "lib/platform.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/dataplane/mhold.h"
#include "xtr-gateway/dataplane/smr.h"
#include "xtr-gateway/xtr.h"

#define BATCH	    DP_BATCH
#define PKT_MAX	    256 /* packets one read batch holds (a TSO segment cut at MSS 536: 123) */
#define SEG_ROOM    128 /* a TUN read needs that many free packet buffers */
#define RX_MSGS	    16	/* datagrams (each up to 64 KiB coalesced) per recvmmsg */
#define RX_BUF	    (DP_HEADROOM + 65536) /* a datagram (coalesced: up to 64 KiB) after the headroom */
#define VNET_LEN    ((int)sizeof(struct virtio_net_hdr))
#define SLOT	    (DP_HEADROOM + 9216) /* one packet buffer */
#define RT_MAIN	    254
#define TUN_TXQLEN  10000 /* packets the kernel queues toward us per TUN */
#define V6_OVERHEAD 56
#define V4_OVERHEAD 36

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

/* One TUN device (one per instance-id); each worker has a queue of it. */
struct tun {
	int ifindex;
	bool uso; /* the kernel takes UDP segments (writes gathered from datagrams) */
	uint32_t iid;
	char name[IF_NAMESIZE];
};

struct wk;

/* A worker's queue of one TUN. */
struct tunq {
	ev_io io;
	int fd;
	struct tun *t;
	struct wk *w;
};

struct udp {
	ev_io io;
	int fd;
	struct wk *w;
};

/* Encapsulated packets of one family, sent with one sendmmsg. */
struct out {
	struct mmsghdr msg[PKT_MAX];
	struct iovec iov[PKT_MAX];
	struct sockaddr_storage to[PKT_MAX];
	unsigned n;
};

/* What a packet asks of the control plane, done under the write lock after the batch. */
enum punt_kind {
	PUNT_LEARN,   /* a dynamic EID's source seen: a (iid) */
	PUNT_RESOLVE, /* no mapping yet: resolve, hold pk[idx] */
	PUNT_SMR,     /* tell ITR a that the mapping of dst changed (src sent to it) */
	PUNT_LEAVE,   /* pk[idx] (decapsulated) is for dst, a host whose VM is leaving: hold it */
	PUNT_AHEAD,   /* pk[idx] (decapsulated, delivered) came from src, with no mapping: ask */
};
struct punt {
	enum punt_kind kind;
	uint32_t iid;
	size_t idx;
	struct lisp_addr a, src, dst;
};

/* One worker's packets: a thread of its own, or the main thread's (ctl). */
struct wk {
	struct xtr_dp *x;
	bool ctl; /* the main thread's: acts on the control plane at once, never punts */
	unsigned index;
	struct ev_loop *loop;
	pthread_t thread;
	bool running;
	ev_async stop;
	ev_async kick;	     /* released held packets wait in rel */
	struct dp_pkt *rel;  /* held packets released to this worker, oldest first (their */
	size_t nrel, caprel; /* buffers its own): sent before anything it receives after */
	struct dp dp;
	struct tunq *tq;   /* one per TUN (x->tuns) */
	struct udp udp[2]; /* IPv4, IPv6 */
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
	struct punt punts[PKT_MAX];
	size_t npunts;
	uint64_t gen; /* x->gen when the batch's pipeline ran */
	struct xtr_dp_counters c;
	struct log_rate rl;
};

struct xtr_dp {
	struct xtr_daemon *d;
	struct mapcache *mc; /* the control plane's engines (the daemon's: they outlive us) */
	struct etr *etr;
	pthread_rwlock_t lock; /* the control plane's state: see the top of this file */
	ev_async wake;	       /* the main loop: a worker changed control-plane state */
	uint64_t gen;	       /* mappings installed so far (held packets may go) */
	struct tun *tuns;
	size_t ntuns;
	int raw4, raw6;
	struct nl *rt;
	unsigned tun_mtu;
	int pool[2][PORT_POOL]; /* UDP sockets bound to 49152 + i (IPv4, IPv6), -1 if not */
	struct hold *hold;   /* packets held while their destination resolves (dataplane/hold.c) */
	struct mhold *mhold; /* packets held while their host's VM is leaving (dataplane/mhold.c) */
	ev_prepare release;  /* sends them on once the main loop's callbacks have run */
	ev_timer hold_end;   /* when the first hold of a leaving host ends */
	struct smr *smr;     /* SMRs for away EIDs (dataplane/smr.c) */
	struct wk ctl;
	struct wk *w; /* the workers */
	size_t nw;
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

static void flush_one(struct wk *w, struct out *o, int fd);

/* Queues p (encapsulated) for a sendmmsg on the raw socket of its family. */
static void raw_push(struct wk *w, const struct dp_pkt *p)
{
	struct out *o = p->next_hop.afi == LISP_AFI_IPV4 ? &w->out4 : &w->out6;
	int fd = p->next_hop.afi == LISP_AFI_IPV4 ? w->x->raw4 : w->x->raw6;
	unsigned i = o->n;

	if (fd < 0) {
		w->c.send_errors++;
		return;
	}
	if (i == PKT_MAX) {
		flush_one(w, o, fd);
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

static void flush_one(struct wk *w, struct out *o, int fd)
{
	unsigned done = 0;

	while (done < o->n) {
		int r = sendmmsg(fd, o->msg + done, o->n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			w->c.send_errors++;
			log_warn_rl(&w->rl, "dataplane: send: %s", strerror(errno));
			done++;
			continue;
		}
		done += (unsigned)r;
		w->c.rloc_tx += (unsigned)r;
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
static bool gso_send(struct wk *w, const struct dp_pkt *q, size_t n)
{
	const struct dp_pkt *p = &q[0];
	const uint8_t *o = p->buf + p->off;
	bool v4 = p->next_hop.afi == LISP_AFI_IPV4;
	size_t h = outer_hdr(p);
	unsigned port = (unsigned)(o[h - 8] << 8 | o[h - 7]);
	int fd = port >= 0xc000 && port < 0xc000 + PORT_POOL ? w->x->pool[!v4][port - 0xc000] : -1;
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
		log_warn_rl(&w->rl, "dataplane: UDP GSO send: %s; sent one by one",
			    strerror(errno));
		return false;
	}
	w->c.rloc_tx += n;
	w->c.gso_sends++;
	return true;
}

/* The queued packets out: runs of one flow by UDP GSO, the rest by raw sendmmsg. */
static void flush_out(struct wk *w)
{
	for (size_t i = 0; i < w->ntx;) {
		const struct dp_pkt *p = &w->txq[i];
		size_t plen = p->len - outer_hdr(p), n = 1, bytes = plen;

		while (i + n < w->ntx && n < GSO_SEGS && bytes + plen <= GSO_BYTES &&
		       w->txq[i + n - 1].len == p->len && same_group(p, &w->txq[i + n], plen)) {
			bytes += w->txq[i + n].len - outer_hdr(p);
			n++;
		}
		/* packets queued one by one go first: a run sent at once must not overtake
		 * them (a flow's short packet before its run of full ones was sent after it) */
		if (n >= 2 && w->out4.n)
			flush_one(w, &w->out4, w->x->raw4);
		if (n >= 2 && w->out6.n)
			flush_one(w, &w->out6, w->x->raw6);
		if (n < 2 || !gso_send(w, &w->txq[i], n))
			for (size_t k = 0; k < n; k++)
				raw_push(w, &w->txq[i + k]);
		i += n;
	}
	w->ntx = 0;
	if (w->out4.n)
		flush_one(w, &w->out4, w->x->raw4);
	if (w->out6.n)
		flush_one(w, &w->out6, w->x->raw6);
}

/* Queues p (encapsulated) for its next hop. */
static void push_out(struct wk *w, const struct dp_pkt *p)
{
	if (w->ntx == PKT_MAX)
		flush_out(w);
	w->txq[w->ntx++] = *p;
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

/* Holds p until its destination resolves, if there is room for its instance-id. (Control plane.) */
static void hold(struct xtr_dp *x, const struct dp_pkt *p, double now)
{
	int rc = hold_add(x->hold, p->iid, p->buf + p->off, p->len, now);

	if (rc == 0) {
		x->ctl.c.held++;
	} else if (rc == -EDQUOT) {
		x->ctl.c.hold_refused_iid++;
		log_warn_rl(&x->ctl.rl,
			    "dataplane: instance-id %u holds its share of the hold queue (%zu "
			    "packets): a packet not held",
			    p->iid, hold_limit_iid(x->hold));
	} else {
		x->ctl.c.hold_drops++;
	}
}

/* A packet with no mapping yet: ask for one and hold it. (Control plane.) */
static void resolve_hold(struct xtr_dp *x, const struct dp_pkt *p, double now)
{
	char sa[LISP_ADDR_STRLEN], da[LISP_ADDR_STRLEN];
	struct lisp_addr src, dst;

	inner_addrs(p->buf + p->inner, &src, &dst);
	mc_resolve_from(x->mc, p->iid, &dst, &src, now); /* src: the request's Source-EID */
	log_debug(LOG_PACKET, "dataplane: [%u] %s -> %s: %s, held", p->iid,
		  lisp_addr_format(&src, sa, sizeof(sa)), lisp_addr_format(&dst, da, sizeof(da)),
		  dp_reason_name(p->reason));
	hold(x, p, now);
}

static void send_smr(struct xtr_dp *x, const struct lisp_addr *itr, uint32_t iid,
		     const struct lisp_addr *eid, const struct lisp_addr *remote, double now);
static void retry_pending(struct wk *w, double now);
static void release_held(struct xtr_dp *x, double now);

/* Holds decapsulated packet p for dst, whose VM is leaving, within its quota. (Control plane.) */
static void leave_hold(struct xtr_dp *x, const struct dp_pkt *p, const struct lisp_addr *dst,
		       unsigned worker, double now)
{
	char da[LISP_PREFIX_STRLEN];
	struct mhold_quota q;
	struct lisp_prefix host;
	int rc;

	lisp_prefix_from_addr(&host, p->iid, dst);
	if (etr_dyn_hold_quota(x->etr, &host, &q.packets, &q.bytes) < 0) {
		/* it moved since the pipeline ran: held all the same, to go after what is */
		q.packets = XTR_MHOLD_PACKETS_DEFAULT;
		q.bytes = XTR_MHOLD_BYTES_DEFAULT;
	}
	rc = mhold_add(x->mhold, &host, &q, p->buf + p->off, p->len, worker, now);
	if (rc == 0) {
		x->ctl.c.mhold_held++;
		return;
	}
	x->ctl.c.mhold_refused++;
	log_warn_rl(&x->ctl.rl, "dataplane: %s is leaving: a packet for it not held: %s",
		    lisp_prefix_format(&host, da, sizeof(da)),
		    rc == -EFBIG    ? "its quota (migration-hold packets/bytes) is full"
		    : rc == -EDQUOT ? "its instance-id holds its share"
				    : "the migration hold is full");
}

/* Does what the batch's packets asked of the control plane: the write lock is held. */
static void run_punts(struct wk *w, double now)
{
	struct xtr_dp *x = w->x;
	bool held = false, left = false;

	for (size_t i = 0; i < w->npunts; i++) {
		const struct punt *u = &w->punts[i];

		switch (u->kind) {
		case PUNT_LEARN:
			etr_dyn_learn(x->etr, u->iid, &u->a, ETR_SRC_DATA, NULL, now);
			break;
		case PUNT_RESOLVE:
			resolve_hold(x, &w->pk[u->idx], now);
			held = true;
			break;
		case PUNT_SMR:
			send_smr(x, &u->a, u->iid, &u->dst, &u->src, now);
			break;
		case PUNT_LEAVE:
			leave_hold(x, &w->pk[u->idx], &u->dst, w->index, now);
			left = true;
			break;
		case PUNT_AHEAD:
			/* (once: the entry is pending then, its Map-Requests paced by the cache) */
			if (mc_resolve_from(x->mc, u->iid, &u->src, &u->dst, now) == 0)
				x->ctl.c.resolved_ahead++;
			break;
		}
	}
	w->npunts = 0;
	/* a mapping installed since the pipeline ran: what was just held can go now */
	if (held && x->gen != w->gen)
		retry_pending(&x->ctl, now);
	/* a leaving host moved, or stays, since: what was just held goes after what was before */
	if (left && x->gen != w->gen)
		release_held(x, now);
}

/*
 * A worker's batch: the control plane's state is read under the read lock;
 * what the batch punted is then done under the write lock, and the main
 * loop is woken to notice it (its timers, its sends).
 */
static void send_released(struct wk *w);

static void batch_begin(struct wk *w)
{
	if (!w->ctl)
		pthread_rwlock_rdlock(&w->x->lock);
	w->gen = w->x->gen;
	if (w->nrel)
		send_released(w); /* what was held for a flow goes before what came since */
}

static void batch_end(struct wk *w, double now)
{
	if (w->ctl)
		return; /* the main thread acted at once */
	pthread_rwlock_unlock(&w->x->lock);
	if (!w->npunts)
		return;
	pthread_rwlock_wrlock(&w->x->lock);
	run_punts(w, now);
	ev_async_send(w->x->d->loop, &w->x->wake);
	pthread_rwlock_unlock(&w->x->lock);
}

/* Notes what packet pk[idx] asks of the control plane (the main thread does it now). */
static void punt(struct wk *w, enum punt_kind kind, size_t idx, const struct lisp_addr *a,
		 const struct lisp_addr *src, const struct lisp_addr *dst, double now)
{
	struct punt *u;

	if (w->npunts == PKT_MAX) { /* (only SMRs can fill it: one decapsulation call) */
		batch_end(w, now);
		batch_begin(w);
	}
	u = &w->punts[w->npunts++];
	*u = (struct punt){ .kind = kind, .iid = w->pk[idx].iid, .idx = idx };
	if (a)
		u->a = *a;
	if (src)
		u->src = *src;
	if (dst)
		u->dst = *dst;
	if (w->ctl)
		run_punts(w, now);
}

/* The control plane's part of an encapsulation batch: learn, resolve, hold, send. */
static void after_encap(struct wk *w, struct dp_pkt *pk, size_t n, bool from_queue, double now)
{
	for (size_t i = 0; i < n; i++) {
		struct dp_pkt *p = &pk[i];

		if (p->flags & DP_F_LEARN) {
			w->c.learn_punts++;
			punt(w, PUNT_LEARN, i, &p->aux, NULL, NULL, now);
		}
		switch (p->verdict) {
		case DP_FORWARD:
			push_out(w, p);
			break;
		case DP_PUNT:
			if (from_queue)
				break; /* the caller keeps it while it is young */
			punt(w, PUNT_RESOLVE, i, NULL, NULL, NULL, now);
			break;
		case DP_NATIVE:
			w->c.native_drops++; /* it came from the EID side: no native path back */
			break;
		default:
			if (p->reason == DP_R_MALFORMED)
				log_warn_rl(&w->rl,
					    "dataplane: dropped a malformed packet (%zu bytes) "
					    "from the EID side",
					    p->len);
			break;
		}
	}
}

/*
 * Reads from the TUN queue while there is room: each read is a virtio-net
 * header and a packet or a TSO segment, cut into ordinary packets in the
 * slots.
 */
static void tun_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct tunq *q = container_of(io, struct tunq, io);
	struct wk *w = q->w;
	size_t lens[PKT_MAX], n = 0;

	(void)revents;
	batch_begin(w); /* (the counters too are read under the write lock) */
	while (n + SEG_ROOM <= PKT_MAX) {
		ssize_t r = read(q->fd, w->tunbuf, VNET_LEN + 65535);
		struct virtio_net_hdr vh;
		struct gso_out go = { .bufs = w->slotp + n,
				      .lens = lens,
				      .cap = SLOT - DP_HEADROOM,
				      .max = PKT_MAX - n };
		int k;

		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn_rl(&w->rl, "dataplane: read %s: %s", q->t->name,
					    strerror(errno));
			break;
		}
		w->c.tun_reads++;
		if (r <= VNET_LEN) {
			w->c.gso_errors++;
			continue;
		}
		memcpy(&vh, w->tunbuf, sizeof(vh));
		k = gso_split(&vh, w->tunbuf + VNET_LEN, (size_t)r - VNET_LEN, &go);
		if (k < 0) {
			w->c.gso_errors++;
			log_warn_rl(&w->rl,
				    "dataplane: %s: a segment the data plane cannot cut "
				    "(%zd bytes, type %u): %s; dropped",
				    q->t->name, r, vh.gso_type, strerror(-k));
			continue;
		}
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			w->c.tun_tso++;
		for (int i = 0; i < k; i++, n++)
			w->pk[n] = (struct dp_pkt){ .buf = w->slots[n],
						    .off = DP_HEADROOM,
						    .len = lens[i],
						    .iid = q->t->iid };
	}
	if (n) {
		w->c.tun_rx += n;
		w->dp.now = ev_now(loop);
		dp_encap_batch(&w->dp, w->pk, n);
		after_encap(w, w->pk, n, false, ev_now(loop));
		flush_out(w);
	}
	batch_end(w, ev_now(loop));
}

/* A Solicit-Map-Request to itr: the mapping of eid (ours, moved away) changed; remote sent to it. */
static void send_smr(struct xtr_dp *x, const struct lisp_addr *itr, uint32_t iid,
		     const struct lisp_addr *eid, const struct lisp_addr *remote, double now)
{
	int rc = smr_send(x->smr, itr, iid, eid, remote, now);
	char a[LISP_ADDR_STRLEN], b[LISP_ADDR_STRLEN];

	if (rc == 0) {
		x->ctl.c.smr_sent++;
	} else if (rc == -EAGAIN) {
		x->ctl.c.smr_ratelimited++;
	} else {
		x->ctl.c.smr_errors++;
		log_warn_rl(&x->ctl.rl, "dataplane: SMR for %s to %s not sent: %s",
			    lisp_addr_format(eid, a, sizeof(a)),
			    lisp_addr_format(itr, b, sizeof(b)), strerror(-rc));
	}
}

/* smr_io (arg: the data plane): the daemon's UDP 4342 socket, our RLOCs, the ETR's away entries. */
static int smr_io_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		       size_t len)
{
	struct xtr_dp *x = arg;

	return xtr_net_send(x->d, dst, dport, buf, len);
}

static bool smr_local_rloc(void *arg, uint16_t afi, struct lisp_addr *out)
{
	struct xtr_dp *x = arg;

	return mc_local_rloc(x->mc, afi, out);
}

static int smr_away_since(void *arg, const struct lisp_prefix *p, double *since)
{
	struct xtr_dp *x = arg;
	struct etr_away_info away;
	int rc = etr_away_get(x->etr, p, &away);

	if (rc == 0)
		*since = away.since;
	return rc;
}

static void smr_sent(void *arg, const struct lisp_prefix *p)
{
	struct xtr_dp *x = arg;

	etr_away_smr_sent(x->etr, p);
}

/* Writes the decapsulated packets idx[0..n) to TUN queue q, consecutive ones of a flow as one. */
static void tun_write(struct wk *w, struct tunq *q, const size_t *idx, size_t n)
{
	static const struct virtio_net_hdr plain;
	const uint8_t *pkts[PKT_MAX];
	size_t lens[PKT_MAX];

	for (size_t i = 0; i < n; i++) {
		pkts[i] = w->pk[idx[i]].buf + w->pk[idx[i]].off;
		lens[i] = w->pk[idx[i]].len;
	}
	for (size_t i = 0; i < n;) {
		struct gro_unit u;
		size_t k = gro_build(pkts + i, lens + i, n - i, &u, w->grobuf, 65535, q->t->uso);
		struct iovec iov[2] = {
			{ .iov_base = (void *)(uintptr_t)(u.buf ? &u.vh : &plain),
			  .iov_len = VNET_LEN },
			{ .iov_base = (void *)(uintptr_t)(u.buf ? u.buf : pkts[i]),
			  .iov_len = u.len },
		};

		w->c.tun_writes++;
		if (writev(q->fd, iov, 2) < 0) {
			w->c.tun_errors += k;
			log_warn_rl(&w->rl, "dataplane: write %s: %s", q->t->name, strerror(errno));
		} else {
			w->c.tun_tx += k;
			w->c.tun_gro += k > 1;
		}
		i += k;
	}
}

/* The packets in pk[0..npk) (LISP payloads): decapsulated, delivered or re-encapsulated. */
static void decap_flush(struct wk *w, double now)
{
	size_t n = w->npk, idx[PKT_MAX], nidx = 0;
	struct tunq *cur = NULL;
	char sa[LISP_ADDR_STRLEN], da[LISP_ADDR_STRLEN];
	bool left = false;

	if (!n)
		return;
	w->npk = 0;
	w->dp.now = now;
	dp_decap_payload_batch(&w->dp, w->pk, n);
	for (size_t i = 0; i < n; i++) {
		struct dp_pkt *p = &w->pk[i];
		struct lisp_addr src, dst;
		struct tunq *q;
		struct tun *t;

		if (p->verdict == DP_PUNT && p->reason == DP_R_LEAVING) {
			inner_addrs(p->buf + p->inner, &src, &dst);
			punt(w, PUNT_LEAVE, i, NULL, &src, &dst, now);
			left = true;
			continue;
		}
		if (p->verdict != DP_FORWARD) {
			if (p->reason == DP_R_NOT_LISP || p->reason == DP_R_MALFORMED)
				log_warn_rl(&w->rl, "dataplane: dropped a packet from %s: %s",
					    lisp_addr_format(&p->aux, sa, sizeof(sa)),
					    dp_reason_name(p->reason));
			if (p->reason == DP_R_TTL_EXCEEDED) {
				inner_addrs(p->buf + p->inner, &src, &dst);
				log_warn_rl(
					&w->rl,
					"dataplane: dropped a packet from %s for %s, which moved "
					"away: %s (a loop between sites?)",
					lisp_addr_format(&p->aux, sa, sizeof(sa)),
					lisp_addr_format(&dst, da, sizeof(da)),
					dp_reason_name(p->reason));
			}
			continue;
		}
		if (p->flags & DP_F_SMR) {
			inner_addrs(p->buf + p->inner, &src, &dst);
			punt(w, PUNT_SMR, i, &p->aux, &src, &dst, now);
		} else if (p->flags & DP_F_RESOLVE) {
			inner_addrs(p->buf + p->inner, &src, &dst);
			punt(w, PUNT_AHEAD, i, NULL, &src, &dst, now);
		}
		if (p->reason == DP_R_AWAY) {
			push_out(w, p);
			continue;
		}
		t = tun_of(w->x, p->iid);
		if (!t) {
			w->c.unknown_iid++;
			continue;
		}
		q = &w->tq[t - w->x->tuns];
		if (q != cur && nidx) {
			tun_write(w, cur, idx, nidx);
			nidx = 0;
		}
		cur = q;
		idx[nidx++] = i;
	}
	if (nidx)
		tun_write(w, cur, idx, nidx);
	flush_out(w);
	if (left && !w->ctl) { /* held now, while pk[] still has them (the next batch reuses it) */
		batch_end(w, now);
		batch_begin(w);
	}
}

/*
 * A received datagram in an rx buffer (base; the datagram at DP_HEADROOM):
 * one alone is decapsulated where it lies (the headroom is there for a
 * re-encapsulation); coalesced ones (GRO, cut at gso) are copied each into
 * a slot of its own, since re-encapsulating one would overwrite the tail
 * of the one before.
 */
static void rx_datagram(struct wk *w, uint8_t *base, size_t len, size_t gso,
			const struct lisp_addr *from, uint8_t ttl, double now)
{
	size_t seg = gso && gso < len ? gso : len;
	const uint8_t *data = base + DP_HEADROOM;

	if (seg < len)
		w->c.rloc_gro++;
	for (size_t off = 0; off < len; off += seg) {
		size_t l = len - off < seg ? len - off : seg;
		struct dp_pkt *p;

		if (w->npk == PKT_MAX)
			decap_flush(w, now);
		if (l > SLOT - DP_HEADROOM) { /* larger than any LISP packet we take */
			w->c.oversize++;
			log_warn_rl(&w->rl, "dataplane: a %zu-byte datagram from port 4341 dropped",
				    l);
			continue;
		}
		p = &w->pk[w->npk];
		*p = (struct dp_pkt){
			.buf = base, .off = DP_HEADROOM, .len = l, .ttl = ttl, .aux = *from
		};
		if (seg < len) {
			memcpy(w->slots[w->npk] + DP_HEADROOM, data + off, l);
			p->buf = w->slots[w->npk];
		}
		w->npk++;
		w->c.rloc_rx++;
	}
}

static void udp_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct udp *u = container_of(io, struct udp, io);
	struct wk *w = u->w;
	double now = ev_now(loop);
	uint16_t port;
	int got;

	(void)revents;
	for (int i = 0; i < RX_MSGS; i++) {
		w->riov[i] =
			(struct iovec){ .iov_base = w->rxbuf + (size_t)i * RX_BUF + DP_HEADROOM,
					.iov_len = RX_BUF - DP_HEADROOM };
		w->rmsg[i].msg_hdr = (struct msghdr){ .msg_name = &w->rfrom[i],
						      .msg_namelen = sizeof(w->rfrom[i]),
						      .msg_iov = &w->riov[i],
						      .msg_iovlen = 1,
						      .msg_control = w->rctl[i],
						      .msg_controllen = sizeof(w->rctl[i]) };
	}
	got = recvmmsg(u->fd, w->rmsg, RX_MSGS, MSG_DONTWAIT, NULL);
	if (got <= 0) {
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			log_warn_rl(&w->rl, "dataplane: recvmmsg: %s", strerror(errno));
		return;
	}
	batch_begin(w);
	w->c.rloc_reads++;
	for (int i = 0; i < got; i++) {
		struct lisp_addr from;
		uint8_t ttl = 64;
		size_t gso = 0;

		lisp_addr_from_sockaddr(&w->rfrom[i], &from, &port);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&w->rmsg[i].msg_hdr); c;
		     c = CMSG_NXTHDR(&w->rmsg[i].msg_hdr, c)) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
				ttl = (uint8_t)v;
			else if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO && v > 0)
				gso = (size_t)v;
		}
		rx_datagram(w, w->rxbuf + (size_t)i * RX_BUF, w->rmsg[i].msg_len, gso, &from, ttl,
			    now);
	}
	decap_flush(w, now);
	batch_end(w, now);
}

/* Sends what waited for a Map-Reply; keeps what still waits and is young. (Main thread.) */
static void retry_pending(struct wk *w, double now)
{
	size_t npend;
	struct hold_pkt *pend = hold_pkts(w->x->hold, &npend);

	for (size_t off = 0; off < npend; off += BATCH) {
		size_t n = npend - off < BATCH ? npend - off : BATCH;

		for (size_t i = 0; i < n; i++) {
			struct hold_pkt *q = &pend[off + i];

			w->pk[i] = (struct dp_pkt){
				.buf = q->buf, .off = DP_HEADROOM, .len = q->len, .iid = q->iid
			};
		}
		w->dp.now = now;
		dp_encap_batch(&w->dp, w->pk, n);
		after_encap(w, w->pk, n, true, now);
		flush_out(w);
		for (size_t i = 0; i < n; i++) {
			struct hold_pkt *q = &pend[off + i];

			switch (hold_retried(q, w->pk[i].verdict == DP_FORWARD,
					     w->pk[i].verdict == DP_PUNT, now)) {
			case HOLD_SENT:
				w->c.held_sent++;
				break;
			case HOLD_DROPPED:
				w->c.hold_drops++;
				break;
			case HOLD_KEEP:
				break;
			}
		}
	}
	hold_compact(w->x->hold, now, HOLD_MAX_AGE);
}

/*
 * Sends what the main thread released to this worker (w->rel, the packets'
 * verdicts taken already): re-encapsulated ones to the new site, the others
 * to its TUN queue, in their order; frees their buffers. The worker that
 * received a flow's packets sends them, from its own CPU: the kernel queues
 * what a thread sends on the CPU it runs on (a veth's backlog, the transmit
 * queue XPS picks), so the same flow sent by two threads can be reordered
 * (it was, in gw_hold.sh, when the main thread sent them). (Read lock held.)
 */
static void send_released(struct wk *w)
{
	static const struct virtio_net_hdr plain;

	for (size_t i = 0; i < w->nrel; i++) {
		struct dp_pkt *p = &w->rel[i];
		struct tun *t = tun_of(w->x, p->iid);
		struct iovec iov[2] = {
			{ .iov_base = (void *)(uintptr_t)&plain, .iov_len = VNET_LEN },
			{ .iov_base = p->buf + p->off, .iov_len = p->len },
		};

		if (p->reason == DP_R_AWAY) {
			push_out(w, p);
			w->c.mhold_sent_away++;
		} else if (!t) {
			w->c.mhold_dropped++;
		} else if (writev(w->tq[t - w->x->tuns].fd, iov, 2) < 0) {
			w->c.tun_errors++;
			w->c.mhold_dropped++;
			log_warn_rl(&w->rl, "dataplane: write %s: %s", t->name, strerror(errno));
		} else {
			w->c.tun_writes++;
			w->c.tun_tx++;
			w->c.mhold_delivered++;
		}
	}
	flush_out(w);
	for (size_t i = 0; i < w->nrel; i++)
		free(w->rel[i].buf);
	w->nrel = 0;
}

/* The worker's kick: released packets wait (the main thread released them). */
static void kick_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct wk *w = container_of(a, struct wk, kick);

	(void)loop;
	(void)revents;
	batch_begin(w); /* (sends them) */
	batch_end(w, ev_now(loop));
}

/*
 * What the migration hold has for hosts that are no longer leaving goes
 * through the local table again, oldest first: to the new site of one that
 * moved (an away entry), here to one that stays or whose hold time ended.
 * Each packet is handed, with its verdict, to the worker that received it,
 * which sends it before anything it receives later (the write lock is held:
 * no worker runs meanwhile). (Main thread.)
 */
static void release_held(struct xtr_dp *x, double now)
{
	struct wk *w = &x->ctl;
	size_t npend;
	struct mhold_pkt *pend = mhold_pkts(x->mhold, &npend);
	bool kicked[XTR_DP_WORKERS_MAX] = { false };

	ev_prepare_stop(x->d->loop, &x->release);
	for (size_t off = 0; off < npend; off += BATCH) {
		size_t n = npend - off < BATCH ? npend - off : BATCH;

		for (size_t i = 0; i < n; i++) {
			struct mhold_pkt *q = &pend[off + i];

			w->pk[i] = (struct dp_pkt){
				.buf = q->buf, .off = DP_HEADROOM, .len = q->len, .iid = q->iid
			};
		}
		w->dp.now = now;
		dp_deliver_batch(&w->dp, w->pk, n);
		for (size_t i = 0; i < n; i++) {
			struct dp_pkt *p = &w->pk[i];
			struct mhold_pkt *q = &pend[off + i];
			struct wk *to;

			if (p->verdict == DP_PUNT)
				continue; /* still leaving */
			if (p->verdict != DP_FORWARD || q->worker >= x->nw) {
				q->done = true;
				w->c.mhold_dropped++;
				continue;
			}
			to = &x->w[q->worker];
			if (to->nrel == to->caprel) {
				to->caprel = to->caprel ? 2 * to->caprel : 256;
				to->rel = xreallocarray(to->rel, to->caprel, sizeof(*to->rel));
			}
			to->rel[to->nrel++] = *p;
			mhold_take(x->mhold, q); /* the buffer is the worker's now */
			if (!kicked[q->worker]) {
				kicked[q->worker] = true;
				ev_async_send(to->loop, &to->kick);
			}
		}
	}
	w->c.mhold_dropped += mhold_compact(x->mhold, now, XTR_MHOLD_MAX_AGE);
}

static void release_cb(struct ev_loop *loop, ev_prepare *pw, int revents)
{
	struct xtr_dp *x = container_of(pw, struct xtr_dp, release);

	(void)revents;
	release_held(x, ev_now(loop));
}

/*
 * The migration hold goes through the table again once the callback that
 * changed it has finished (a move removes the host, then installs its away
 * entry), and before any worker runs again (the loop's prepare watchers run
 * with the write lock held).
 */
static void release_soon(struct xtr_dp *x)
{
	x->gen++;
	if (mhold_count(x->mhold))
		ev_prepare_start(x->d->loop, &x->release);
}

/* The timer of the first hold to end (the ETR's tick would end it up to a second late). */
static void hold_timer(struct xtr_dp *x)
{
	double next = etr_dyn_hold_next(x->etr), now = ev_now(x->d->loop);

	ev_timer_stop(x->d->loop, &x->hold_end);
	if (next > 0) {
		ev_timer_set(&x->hold_end, next > now ? next - now : 0, 0);
		ev_timer_start(x->d->loop, &x->hold_end);
	}
}

static void hold_end_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct xtr_dp *x = container_of(t, struct xtr_dp, hold_end);

	(void)revents;
	etr_dyn_hold_expire(x->etr, ev_now(loop)); /* (its HOLD_END events arm the next) */
	hold_timer(x);
}

void xtr_dp_installed(void *arg)
{
	struct xtr_daemon *d = arg;

	if (!d->dpx)
		return;
	d->dpx->gen++;
	if (hold_count(d->dpx->hold))
		retry_pending(&d->dpx->ctl, ev_now(d->loop));
}

static int route(struct xtr_dp *x, bool add, const struct lisp_prefix *p, int ifindex)
{
	char b[LISP_PREFIX_STRLEN];
	int rc = xtr_rt_route(x->rt, add, p, table_of(p->iid), ifindex);

	if (rc < 0 && !(rc == -ESRCH && !add)) {
		x->ctl.c.route_errors++;
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
		if (ev == ETR_EV_AWAY_UP) /* what a leaving host holds goes to its new site */
			release_soon(x);
		break;
	case ETR_EV_HOLD_END:
		release_soon(x);
		hold_timer(x);
		break;
	case ETR_EV_HOLD_START:
		hold_timer(x);
		break;
	case ETR_EV_DYN_UP:
	case ETR_EV_DYN_DOWN:
		if (!ifname)
			break; /* extended subnet: the connected subnet reaches it */
		ifindex = (int)if_nametoindex(ifname);
		if (!ifindex) {
			log_warn_rl(&x->ctl.rl, "dataplane: interface %s: %s", ifname,
				    strerror(errno));
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
		log_warn_rl(&x->ctl.rl, "dataplane: no route to first-hop router for %s: %s",
			    lisp_prefix_format(p, b, sizeof(b)), strerror(-rc));
		return;
	}
	/* a first-hop router on our link is the next hop itself (without it, the kernel would
	 * look for the EID on that link) */
	if (add && via.afi == LISP_AFI_NONE && !lisp_addr_equal(fhr, &p->addr))
		via = *fhr;
	rc = nl_route(x->rt, add, p, table_of(p->iid), add ? oif : 0, add && via.afi ? &via : NULL,
		      XTR_RTPROT);
	if (rc < 0 && !(rc == -ESRCH && !add)) {
		x->ctl.c.route_errors++;
		log_warn("dataplane: %s host route %s: %s", add ? "add" : "delete",
			 lisp_prefix_format(p, b, sizeof(b)), strerror(-rc));
	}
}

/* Routes the configured map-cache prefixes of c into their TUN (add) or out of it. */
static void mapcache_routes(struct xtr_dp *x, const struct xtr_conf *c, bool add)
{
	for (size_t i = 0; i < c->itr.nmapcache; i++) {
		struct tun *t = tun_of(x, c->itr.mapcache[i].p.iid);

		if (t)
			route(x, add, &c->itr.mapcache[i].p, t->ifindex);
	}
}

/* The pipeline settings of c in every worker's pipeline and the main thread's. */
static void set_dps(struct xtr_dp *x, const struct xtr_conf *c)
{
	for (size_t i = 0; i <= x->nw; i++) {
		struct dp *dp = i < x->nw ? &x->w[i].dp : &x->ctl.dp;

		dp_set_petrs(dp, &c->dp);
		dp->proxy_etr = c->proxy_etr_v4 || c->proxy_etr_v6;
	}
}

void xtr_dp_reconfigure(struct xtr_daemon *d, const struct xtr_conf *old)
{
	struct xtr_dp *x = d->dpx;

	if (!x)
		return;
	for (size_t i = 0; i < old->itr.nmapcache; i++) {
		bool kept = false;

		for (size_t j = 0; j < d->conf->itr.nmapcache && !kept; j++)
			kept = lisp_prefix_equal(&old->itr.mapcache[i].p,
						 &d->conf->itr.mapcache[j].p);
		if (!kept && tun_of(x, old->itr.mapcache[i].p.iid))
			route(x, false, &old->itr.mapcache[i].p,
			      tun_of(x, old->itr.mapcache[i].p.iid)->ifindex);
	}
	mapcache_routes(x, d->conf, true);
	set_dps(x, d->conf);
	/* a smaller queue */
	x->ctl.c.hold_drops +=
		hold_configure(x->hold, d->conf->dp.hold_limit, d->conf->dp.hold_limit_iid);
	if (d->conf->dp.workers != old->dp.workers)
		log_warn("dataplane workers: the change takes effect at the next start");
	xtr_dp_tick(d);
}

void xtr_dp_tick(struct xtr_daemon *d)
{
	struct xtr_dp *x = d->dpx;
	double now = ev_now(d->loop);

	if (!x)
		return;
	for (size_t i = 0; i <= x->nw; i++) {
		struct dp *dp = i < x->nw ? &x->w[i].dp : &x->ctl.dp;

		if (!mc_local_rloc(x->mc, LISP_AFI_IPV4, &dp->rloc4))
			dp->rloc4.afi = LISP_AFI_NONE;
		if (!mc_local_rloc(x->mc, LISP_AFI_IPV6, &dp->rloc6))
			dp->rloc6.afi = LISP_AFI_NONE;
	}
	x->ctl.c.hold_drops += hold_compact(x->hold, now, HOLD_MAX_AGE); /* aged */
	if (mhold_count(x->mhold))
		release_held(x, now); /* (hosts whose hold time ended are told by the ETR) */
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
	for (size_t i = 0; i < c->itr.nmapcache; i++)
		ADD_IID(c->itr.mapcache[i].p.iid);
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
	for (size_t i = 0; i < c->dp.npetrs; i++)
		v6 |= c->dp.petrs[i].addr.afi == LISP_AFI_IPV6;
	return v6;
}

/* Opens TUN t's queue for worker w; the first queue creates and sets up the device. */
static int open_tunq(struct xtr_dp *x, struct tun *t, bool first)
{
	struct ifreq ifr = { 0 };
	char path[128];
	struct nl *nl = NULL;
	int s, fd, tfd, vnet, uso, rc;

	tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		fatal("dataplane: /dev/net/tun: %s", strerror(errno));
	/* one queue per worker: the kernel picks one by flow hash */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
	if (ioctl(tfd, TUNSETIFF, &ifr) < 0)
		fatal("dataplane: cannot %s %s: %s", first ? "create" : "add a queue to", t->name,
		      strerror(errno));
	/* TCP segments of up to 64 KiB cross the TUN once, both ways (dataplane/gso.c) */
	vnet = VNET_LEN;
	if (ioctl(tfd, TUNSETVNETHDRSZ, &vnet) < 0)
		fatal("dataplane: %s: virtio-net header: %s", t->name, strerror(errno));
	/* UDP segments too where the kernel takes them (Linux 6.2); never asked of us on reads
	 * unless a local sender uses UDP GSO, which gso_split() refuses and counts */
	uso = ioctl(tfd, TUNSETOFFLOAD, TUN_OFFLOADS | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (!uso && ioctl(tfd, TUNSETOFFLOAD, TUN_OFFLOADS) < 0)
		fatal("dataplane: %s: offloads: %s", t->name, strerror(errno));
	if (!first)
		return tfd;
	t->uso = uso;
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
	/*
	 * No qdisc: TUN never stops its queues, so a qdisc holds nothing (the
	 * queue above is TUN's own ring), yet the default for a multi-queue
	 * device is one pfifo_fast of txqueuelen slots per band for each of its
	 * 256 TX queues: ~96 MiB of kernel memory per instance-id at that
	 * length (a gateway of 1000 tenants exhausted 24 GiB at the 250th).
	 */
	if ((rc = nl_open(&nl, NETLINK_ROUTE)) < 0 ||
	    (rc = nl_qdisc_noqueue(nl, (int)if_nametoindex(t->name))) < 0)
		log_warn("dataplane: %s: qdisc noqueue: %s", t->name, strerror(-rc));
	nl_close(nl);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fatal("dataplane: %s: %s", t->name, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fatal("dataplane: %s up: %s", t->name, strerror(errno));
	close(s);
	t->ifindex = (int)if_nametoindex(t->name);
	log_info("dataplane: %s (instance-id %u, mtu %u, %zu queue(s))", t->name, t->iid,
		 x->tun_mtu, x->nw);
	return tfd;
}

/* Worker w's UDP 4341 socket of family: with many workers, the kernel picks one by 4-tuple. */
static void open_udp(struct wk *w, struct udp *u, int family)
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
	if (w->x->nw > 1 && setsockopt(u->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		fatal("dataplane: SO_REUSEPORT: %s", strerror(errno));
	if (bind(u->fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("dataplane: cannot listen on UDP port %d: %s", LISP_DATA_PORT,
		      strerror(errno));
	u->w = w;
	ev_io_init(&u->io, udp_cb, u->fd, EV_READ);
	ev_io_start(w->loop, &u->io);
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
	if (open < 2 * PORT_POOL)
		log_warn("dataplane: %u of the %d UDP source ports 49152-%d in use elsewhere: "
			 "their flows are sent one packet at a time",
			 2 * PORT_POOL - open, 2 * PORT_POOL, 0xc000 + PORT_POOL - 1);
}

/* The main loop holds the write lock except while it waits (libev's release/acquire hooks). */
static void main_release(struct ev_loop *loop)
{
	struct xtr_dp *x = ev_userdata(loop);

	pthread_rwlock_unlock(&x->lock);
}

static void main_acquire(struct ev_loop *loop)
{
	struct xtr_dp *x = ev_userdata(loop);

	pthread_rwlock_wrlock(&x->lock);
}

static void wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)loop; /* waking was the point: the loop looks at its timers again */
	(void)a;
	(void)revents;
}

static void stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)a;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void *worker_main(void *arg)
{
	struct wk *w = arg;

	ev_run(w->loop, 0);
	return NULL;
}

/* Worker or main-thread context w: buffers and a pipeline of its own. */
static void wk_init(struct xtr_dp *x, struct wk *w, unsigned index, bool ctl)
{
	struct xtr_daemon *d = x->d;

	w->x = x;
	w->index = index;
	w->ctl = ctl;
	dp_init(&w->dp, x->mc, NULL, NULL, d->conf->dp.mtu);
	w->dp.local = etr_local_table(x->etr);
	w->dp.sport_mask = PORT_POOL - 1;
	{ /* a nonce sequence of its own (xorshift: never from 0) */
		uint32_t seed;

		if (platform_random(&seed, sizeof(seed)) == 0 && seed)
			w->dp.nonce = seed;
	}
	if (ctl) {
		w->loop = d->loop;
		return;
	}
	w->slots = xcalloc(PKT_MAX, SLOT);
	for (size_t i = 0; i < PKT_MAX; i++)
		w->slotp[i] = w->slots[i] + DP_HEADROOM;
	w->rxbuf = xcalloc(RX_MSGS, RX_BUF);
	w->tunbuf = xcalloc(1, VNET_LEN + 65536);
	w->grobuf = xcalloc(1, 65536);
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (!w->loop)
		fatal("dataplane: worker %u: no event loop", index);
	w->tq = xcalloc(x->ntuns, sizeof(*w->tq));
	for (size_t i = 0; i < x->ntuns; i++) {
		struct tunq *q = &w->tq[i];

		q->t = &x->tuns[i];
		q->w = w;
		q->fd = open_tunq(x, q->t, index == 0);
		ev_io_init(&q->io, tun_cb, q->fd, EV_READ);
		ev_io_start(w->loop, &q->io);
	}
	open_udp(w, &w->udp[0], AF_INET);
	open_udp(w, &w->udp[1], AF_INET6);
	ev_async_init(&w->stop, stop_cb);
	ev_async_start(w->loop, &w->stop);
	ev_async_init(&w->kick, kick_cb);
	ev_async_start(w->loop, &w->kick);
}

static void wk_free(struct wk *w)
{
	if (w->ctl)
		return;
	for (size_t i = 0; i < w->x->ntuns; i++) {
		ev_io_stop(w->loop, &w->tq[i].io);
		close(w->tq[i].fd);
	}
	for (int i = 0; i < 2; i++) {
		ev_io_stop(w->loop, &w->udp[i].io);
		close(w->udp[i].fd);
	}
	ev_async_stop(w->loop, &w->stop);
	ev_async_stop(w->loop, &w->kick);
	for (size_t i = 0; i < w->nrel; i++)
		free(w->rel[i].buf);
	free(w->rel);
	ev_loop_destroy(w->loop);
	free(w->tq);
	free(w->slots);
	free(w->rxbuf);
	free(w->tunbuf);
	free(w->grobuf);
}

/* Starts the workers' threads (every signal blocked: they go to the main thread). */
static void start_workers(struct xtr_dp *x)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < x->nw; i++) {
		rc = pthread_create(&x->w[i].thread, NULL, worker_main, &x->w[i]);
		if (rc)
			fatal("dataplane: worker %zu: %s", i, strerror(rc));
		x->w[i].running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Workers for `dataplane workers N`, or one per online CPU. */
static size_t worker_count(const struct xtr_conf *c)
{
	long n = c->dp.workers ? (long)c->dp.workers : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > XTR_DP_WORKERS_MAX ? XTR_DP_WORKERS_MAX : (size_t)n;
}

void xtr_dp_open(struct xtr_daemon *d)
{
	const struct xtr_conf *c = d->conf;
	pthread_rwlockattr_t la;
	struct xtr_dp *x;
	uint32_t *iids;
	size_t n;
	int rc;

	if (!xtr_conf_dataplane(c))
		return;
	/* every instance-id its TUN (there was a silent cap of 256: tenants beyond had none) */
	iids = xcalloc(1 + c->neidtables + c->ndbmaps + c->itr.nmapcache, sizeof(*iids));
	x = xcalloc(1, sizeof(*x));
	x->d = d;
	x->mc = d->mc;
	x->etr = d->etr;
	x->hold = hold_new(SLOT);
	x->mhold = mhold_new();
	mhold_configure(x->mhold, XTR_MHOLD_TOTAL, XTR_MHOLD_PER_IID);
	ev_prepare_init(&x->release, release_cb);
	ev_init(&x->hold_end, hold_end_cb);
	x->smr = smr_new(&(struct smr_io){ .send = smr_io_send,
					   .local_rloc = smr_local_rloc,
					   .away_since = smr_away_since,
					   .sent = smr_sent,
					   .arg = x,
					   .evh = d->evh });
	hold_configure(x->hold, c->dp.hold_limit, c->dp.hold_limit_iid);
	x->tun_mtu = c->dp.mtu - (v6_rlocs(c) ? V6_OVERHEAD : V4_OVERHEAD);
	/* the main thread holds it from here on, but while its loop waits */
	pthread_rwlockattr_init(&la);
	pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&x->lock, &la);
	pthread_rwlockattr_destroy(&la);
	pthread_rwlock_wrlock(&x->lock);
	ev_set_userdata(d->loop, x);
	ev_set_loop_release_cb(d->loop, main_release, main_acquire);
	ev_async_init(&x->wake, wake_cb);
	ev_async_start(d->loop, &x->wake);
	d->dpx = x;
	rc = xtr_rt_open(&x->rt);
	if (rc < 0)
		fatal("dataplane: rtnetlink: %s", strerror(-rc));
	rc = xtr_rt_flush(x->rt);
	if (rc > 0)
		log_info("dataplane: removed %d route(s) left by an earlier run", rc);
	n = conf_iids(c, iids, 1 + c->neidtables + c->ndbmaps + c->itr.nmapcache);
	x->tuns = xcalloc(n, sizeof(*x->tuns));
	for (size_t i = 0; i < n; i++) {
		struct tun *t = &x->tuns[x->ntuns++];
		int len =
			iids[i] ? snprintf(t->name, sizeof(t->name), "%s.%u", c->dp.ifname, iids[i])
				: snprintf(t->name, sizeof(t->name), "%s", c->dp.ifname);

		if (len < 0 || (size_t)len >= sizeof(t->name))
			fatal("dataplane: interface name %s.%u is longer than %d characters",
			      c->dp.ifname, iids[i], IF_NAMESIZE - 1);
		t->iid = iids[i];
	}
	free(iids);
	x->raw4 = open_raw(AF_INET);
	x->raw6 = open_raw(AF_INET6);
	open_pool(x);
	x->nw = worker_count(c);
	x->w = xcalloc(x->nw, sizeof(*x->w));
	wk_init(x, &x->ctl, 0, true);
	for (size_t i = 0; i < x->nw; i++)
		wk_init(x, &x->w[i], (unsigned)i, false);
	mapcache_routes(x, c, true);
	set_dps(x, c);
	xtr_dp_tick(d);
	start_workers(x);
	log_info("dataplane: UDP port %d, %zu instance-id(s), %zu worker(s)", LISP_DATA_PORT,
		 x->ntuns, x->nw);
}

void xtr_dp_close(struct xtr_daemon *d)
{
	struct xtr_dp *x = d->dpx;

	if (!x)
		return;
	/* the main loop has stopped holding the lock for us: a worker may wait for it */
	ev_set_loop_release_cb(d->loop, NULL, NULL);
	pthread_rwlock_unlock(&x->lock);
	for (size_t i = 0; i < x->nw; i++)
		if (x->w[i].running)
			ev_async_send(x->w[i].loop, &x->w[i].stop);
	for (size_t i = 0; i < x->nw; i++)
		if (x->w[i].running)
			pthread_join(x->w[i].thread, NULL);
	xtr_rt_flush(x->rt); /* the TUN routes go with the devices; the others go here */
	for (size_t i = 0; i < x->nw; i++)
		wk_free(&x->w[i]);
	ev_async_stop(d->loop, &x->wake);
	close(x->raw4);
	close(x->raw6);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < PORT_POOL; i++)
			if (x->pool[f][i] >= 0)
				close(x->pool[f][i]);
	nl_close(x->rt);
	ev_prepare_stop(d->loop, &x->release);
	ev_timer_stop(d->loop, &x->hold_end);
	hold_free(x->hold);
	mhold_free(x->mhold);
	smr_free(x->smr);
	pthread_rwlock_destroy(&x->lock);
	free(x->w);
	free(x->tuns);
	free(x);
	d->dpx = NULL;
}

_Static_assert(sizeof(struct xtr_dp_counters) % sizeof(uint64_t) == 0,
	       "xtr_dp_stats sums the I/O counters as an array of uint64_t");

/* Sums of every worker's and the main thread's counters (exact: the workers wait meanwhile). */
bool xtr_dp_stats(const struct xtr_daemon *d, struct dp_counters *pc, struct xtr_dp_counters *io)
{
	const struct xtr_dp *x = d->dpx;

	if (!x)
		return false;
	memset(pc, 0, sizeof(*pc));
	memset(io, 0, sizeof(*io));
	for (size_t i = 0; i <= x->nw; i++) {
		const struct wk *w = i < x->nw ? &x->w[i] : &x->ctl;
		const uint64_t *a = (const uint64_t *)&w->c; /* (nothing but uint64_t in it) */

		for (int r = 0; r < DP_R_MAX; r++) {
			pc->packets[r] += w->dp.c.packets[r];
			pc->bytes[r] += w->dp.c.bytes[r];
		}
		for (size_t k = 0; k < sizeof(*io) / sizeof(uint64_t); k++)
			((uint64_t *)io)[k] += a[k];
	}
	return true;
}

size_t xtr_dp_io_list(const struct xtr_dp_counters *io, struct xtr_dp_named *out, size_t max)
{
	const struct xtr_dp_named all[] = {
		{ "EID side received", io->tun_rx },
		{ "EID side sent", io->tun_tx },
		{ "EID side write errors", io->tun_errors },
		{ "RLOC side received", io->rloc_rx },
		{ "RLOC side sent", io->rloc_tx },
		{ "RLOC side send errors", io->send_errors },
		{ "held for a Map-Reply", io->held },
		{ "held, then sent", io->held_sent },
		{ "held, then dropped (queue full or no answer in 3 s)", io->hold_drops },
		{ "not held: the instance-id's share of the queue is full", io->hold_refused_iid },
		{ "sources of packets for our EIDs resolved ahead of the answer",
		  io->resolved_ahead },
		{ "natively-forward without a PETR, dropped", io->native_drops },
		{ "unknown instance-id, dropped", io->unknown_iid },
		{ "dynamic-EID learn punts", io->learn_punts },
		{ "SMRs sent", io->smr_sent },
		{ "SMRs rate-limited", io->smr_ratelimited },
		{ "SMRs not sent (an error)", io->smr_errors },
		{ "route errors", io->route_errors },
		{ "EID side reads (TUN)", io->tun_reads },
		{ "EID side TSO segments read, cut by the data plane", io->tun_tso },
		{ "EID side writes (TUN)", io->tun_writes },
		{ "EID side writes gathered into one TSO segment", io->tun_gro },
		{ "RLOC side receive calls", io->rloc_reads },
		{ "RLOC side datagrams coalesced by the kernel (UDP GRO)", io->rloc_gro },
		{ "offload errors (malformed TSO segment), dropped", io->gso_errors },
		{ "RLOC side UDP GSO sends (a run of one flow each)", io->gso_sends },
		{ "RLOC side datagrams larger than 9216 bytes, dropped", io->oversize },
		{ "held: the host's VM is leaving (migration hold)", io->mhold_held },
		{ "migration hold: sent on to the host's new site", io->mhold_sent_away },
		{ "migration hold: delivered here (it stayed, or its hold time ended)",
		  io->mhold_delivered },
		{ "migration hold: not held (quota or hold full), dropped", io->mhold_refused },
		{ "migration hold: dropped (too old, or undeliverable)", io->mhold_dropped },
	};
	size_t n = 0;

	for (; n < sizeof(all) / sizeof(all[0]) && n < max; n++)
		out[n] = all[n];
	return n;
}

size_t xtr_dp_workers(const struct xtr_daemon *d, struct xtr_dp_worker_info *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; d->dpx && i < d->dpx->nw && n < max; i++, n++) {
		const struct wk *w = &d->dpx->w[i];

		out[n] = (struct xtr_dp_worker_info){ .eid_rx = w->c.tun_rx,
						      .eid_tx = w->c.tun_tx,
						      .rloc_rx = w->c.rloc_rx,
						      .rloc_tx = w->c.rloc_tx };
	}
	return n;
}

size_t xtr_dp_tuns(const struct xtr_daemon *d, struct xtr_dp_tun_info *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; d->dpx && i < d->dpx->ntuns && n < max; i++, n++) {
		snprintf(out[n].name, sizeof(out[n].name), "%s", d->dpx->tuns[i].name);
		out[n].iid = d->dpx->tuns[i].iid;
		out[n].mtu = d->dpx->tun_mtu;
		out[n].held = hold_count_iid(d->dpx->hold, d->dpx->tuns[i].iid);
	}
	return n;
}

size_t xtr_dp_held(const struct xtr_daemon *d)
{
	return d->dpx ? hold_count(d->dpx->hold) : 0;
}

size_t xtr_dp_held_eid(const struct xtr_daemon *d, const struct lisp_prefix *p, size_t *bytes)
{
	if (!d->dpx) {
		if (bytes)
			*bytes = 0;
		return 0;
	}
	return mhold_count_eid(d->dpx->mhold, p, bytes);
}
