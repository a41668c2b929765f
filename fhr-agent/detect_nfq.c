/*
 * Data-packet detection with libnetfilter_queue: a VM that sends before it
 * announces itself (or never does) is found by its first packet. The agent
 * keeps a table of its own in nftables (detect_nft.c): at raw priority in
 * prerouting, sources in its sets of known EIDs return, then the queue
 * (bypass) for each dynamic-eid prefix on each mobility interface, and the
 * queue is fail-open, so traffic never waits for the agent and never stops
 * when it is down; once an EID is known (one set element, added in-process)
 * its packets no longer reach the queue. The table is deleted at exit and
 * one left by a crashed run is replaced at start.
 *
 * The same queue holds the packets our segments (the mobility interfaces)
 * send to a leaving EID (its VM paused to migrate away; eids.c): the EID is
 * an element of the leaving set, the rule before all others queues those
 * packets, and their verdicts wait here, in arrival order, bounded per EID
 * and in all (packets, bytes, EIDs; beyond: counted and accepted at once).
 * When the leaving ends they are accepted in that order, after the route
 * changed (moved away: up, to the site gateway) or the segment was told the
 * VM's MAC again (it stays): the verdict continues PREROUTING, the routing
 * decision is taken then. The set element goes after the verdicts, so that
 * a packet that comes meanwhile queues behind them. Every other packet is
 * accepted at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define FHR_NFQ_KNOWN_MAX 65536 /* known EIDs per family without any eid-limit */
#define FHR_NFQ_DRAIN_MAX 1024	/* messages read at most as a hold ends (then the loop reads) */

struct held {
	uint32_t id, len;
	uint16_t slot; /* its EID's, in holds[] */
};

struct hold_eid {
	struct lisp_addr a;
	bool on;
	bool steered; /* its hypervisor steers its frames to us: none passed on to it */
	uint32_t packets;
	uint64_t bytes;
};

struct fhr_nfq_state {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	ev_io io;
	struct fhr_daemon *d;
	struct fhr_nft *nft;
	struct log_rate rl, rl_hold;
	uint64_t packets, learned;
	struct held *q; /* held verdicts, in arrival order */
	size_t nq;
	uint64_t qbytes;
	struct hold_eid holds[FHR_HOLD_EIDS];
	struct fhr_hold_counters c;
	bool draining; /* (drain(): verdicts only, nothing learned) */
};

static void drain(struct fhr_nfq_state *s);

void fhr_nfq_known(struct fhr_daemon *d, const struct lisp_addr *a, bool yes)
{
	struct fhr_nfq_state *s = d->nfq;
	char addr[LISP_ADDR_STRLEN];
	int rc;

	if (!s)
		return;
	/* its packets return before the queue (an element of the known set) */
	rc = fhr_nft_known(s->nft, a, yes);
	if (rc < 0)
		log_warn_rl(&s->rl, "nfqueue: cannot %s %s %s the known EIDs: %s",
			    yes ? "add" : "delete", lisp_addr_format(a, addr, sizeof(addr)),
			    yes ? "to" : "from", rc == -ENFILE ? "the set is full" : strerror(-rc));
}

/* A known set holds as many EIDs as the dynamic-eids may have together. */
static uint32_t known_max(const struct fhr_conf *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->ndyneids; i++)
		n += c->dyneids[i].eid_limit;
	return n == 0 ? FHR_NFQ_KNOWN_MAX : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static int exempt_known(const struct fhr_eid_info *e, void *arg)
{
	if (e->state != FHR_EID_MOVED)
		fhr_nfq_known(arg, &e->p.addr, true);
	return 0;
}

static struct hold_eid *hold_of(struct fhr_nfq_state *s, const struct lisp_addr *a)
{
	for (size_t i = 0; i < FHR_HOLD_EIDS; i++)
		if (s->holds[i].on && lisp_addr_equal(&s->holds[i].a, a))
			return &s->holds[i];
	return NULL;
}

bool fhr_nfq_hold(struct fhr_daemon *d, const struct lisp_addr *a)
{
	struct fhr_nfq_state *s = d->nfq;
	static bool told;
	char addr[LISP_ADDR_STRLEN];
	struct hold_eid *h = NULL;
	int rc;

	if (!s) {
		if (!told)
			log_warn("nfqueue: no nfqueue configured: the packets of this FHR's "
				 "segments "
				 "to a leaving VM are not held (only the gateway's are)");
		told = true;
		return false;
	}
	if (hold_of(s, a))
		return true;
	for (size_t i = 0; i < FHR_HOLD_EIDS && !h; i++)
		if (!s->holds[i].on)
			h = &s->holds[i];
	if (!h) {
		s->c.eids_refused++;
		log_warn_rl(&s->rl_hold, "nfqueue: %d EIDs held already: %s not held",
			    FHR_HOLD_EIDS, lisp_addr_format(a, addr, sizeof(addr)));
		return false;
	}
	rc = fhr_nft_leaving(s->nft, a, true);
	if (rc < 0) {
		s->c.eids_refused++;
		log_warn_rl(&s->rl_hold, "nfqueue: cannot add %s to the leaving EIDs: %s",
			    lisp_addr_format(a, addr, sizeof(addr)),
			    rc == -ENFILE ? "the set is full" : strerror(-rc));
		return false;
	}
	*h = (struct hold_eid){ .a = *a, .on = true };
	return true;
}

void fhr_nfq_steered(struct fhr_daemon *d, const struct lisp_addr *a)
{
	struct hold_eid *h = d->nfq ? hold_of(d->nfq, a) : NULL;

	if (h)
		h->steered = true;
}

/* The verdict (accept, or drop) of every packet held for h, in order; how many. */
static size_t verdicts(struct fhr_nfq_state *s, struct hold_eid *h, uint32_t verdict)
{
	uint16_t slot = (uint16_t)(h - s->holds);
	size_t n = 0, k = 0;

	for (size_t i = 0; i < s->nq; i++) {
		if (s->q[i].slot != slot) {
			s->q[k++] = s->q[i];
			continue;
		}
		nfq_set_verdict(s->qh, s->q[i].id, verdict, 0, NULL);
		s->qbytes -= s->q[i].len;
		n++;
	}
	s->nq = k;
	h->packets = 0;
	h->bytes = 0;
	return n;
}

size_t fhr_nfq_release(struct fhr_daemon *d, const struct lisp_addr *a, enum fhr_release how)
{
	struct fhr_nfq_state *s = d->nfq;
	struct hold_eid *h = s ? hold_of(s, a) : NULL;
	char addr[LISP_ADDR_STRLEN];
	size_t n;
	int rc;

	if (!h)
		return 0;
	if (how == FHR_RELEASE_DROP) { /* (held on: it is still leaving) */
		n = verdicts(s, h, NF_DROP);
		s->c.released[how] += n;
		return n;
	}
	n = verdicts(s, h, NF_ACCEPT);
	s->c.released[how] += n;
	h->on = false;
	/* after the verdicts: what came while they were given (a few ms for hundreds) is
	 * queued behind them, accepted now, before the next go past the queue (no longer
	 * queued); and what came until then */
	drain(s);
	rc = fhr_nft_leaving(s->nft, a, false);
	if (rc < 0)
		log_warn_rl(&s->rl, "nfqueue: cannot delete %s from the leaving EIDs: %s",
			    lisp_addr_format(a, addr, sizeof(addr)), strerror(-rc));
	drain(s);
	return n;
}

uint32_t fhr_nfq_held(const struct fhr_daemon *d, const struct lisp_addr *a)
{
	struct fhr_nfq_state *s = d->nfq;

	for (size_t i = 0; s && i < FHR_HOLD_EIDS; i++)
		if (s->holds[i].on && lisp_addr_equal(&s->holds[i].a, a))
			return s->holds[i].packets;
	return 0;
}

struct fhr_hold_counters fhr_nfq_counters(const struct fhr_daemon *d)
{
	struct fhr_hold_counters c = { 0 };

	if (d->nfq) {
		c = d->nfq->c;
		c.holding = d->nfq->nq;
	}
	return c;
}

/*
 * A packet to a leaving EID (dst): its verdict waits, if the limits let it.
 * 1 if held; 0 if it goes on (not leaving, or over a limit); -1 if over a
 * limit while its frames are steered to us (it would only come back).
 */
static int hold_packet(struct fhr_nfq_state *s, uint32_t id, const struct lisp_addr *dst,
		       uint32_t len)
{
	struct hold_eid *h = hold_of(s, dst);
	char addr[LISP_ADDR_STRLEN];

	if (!h)
		return 0; /* (queued before its leaving ended: goes on at once) */
	if (h->packets >= FHR_HOLD_EID_PACKETS || h->bytes + len > FHR_HOLD_EID_BYTES ||
	    s->nq >= FHR_HOLD_PACKETS || s->qbytes + len > FHR_HOLD_BYTES) {
		s->c.over_limit++;
		log_warn_rl(&s->rl_hold,
			    "nfqueue: %s: hold limit reached (%u packets here, %zu in all): %s",
			    lisp_addr_format(dst, addr, sizeof(addr)), h->packets, s->nq,
			    h->steered ? "dropped (its frames are steered to us)"
				       : "passed on at once");
		return h->steered ? -1 : 0;
	}
	s->q[s->nq++] = (struct held){ .id = id, .len = len, .slot = (uint16_t)(h - s->holds) };
	s->qbytes += len;
	h->packets++;
	h->bytes += len;
	s->c.held++;
	return 1;
}

static int packet_cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	struct fhr_nfq_state *s = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	struct nfqnl_msg_packet_hw *hw = nfq_get_packet_hw(nfa);
	unsigned char *p = NULL;
	char ifname[IF_NAMESIZE];
	int len = nfq_get_payload(nfa, &p);
	struct lisp_addr src = { 0 }, dst = { 0 };
	uint32_t id = ph ? ntohl(ph->packet_id) : 0, plen = 0;
	int held;

	(void)msg;
	s->packets++;
	if (len >= 20 && p[0] >> 4 == 4) {
		src.afi = dst.afi = LISP_AFI_IPV4;
		memcpy(src.u.v4, p + 12, 4);
		memcpy(dst.u.v4, p + 16, 4);
		plen = (uint32_t)p[2] << 8 | p[3];
		if (plen == 0) /* (a GSO packet over 64 KiB: BIG TCP) */
			plen = 65536;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		lisp_addr_set_v6(&src, p + 8);
		lisp_addr_set_v6(&dst, p + 24);
		plen = 40 + ((uint32_t)p[4] << 8 | p[5]);
		if (plen == 40) /* (a jumbogram: BIG TCP; or nothing, held all the same) */
			plen = 65536;
	}
	/* not learned from: what is drained (see drain()), and a packet to a leaving EID, which its
	 * hypervisor may have steered to us from the VM's tap in its switchover (its source is
	 * any sender's, here or across the extension, not a host of this segment) */
	if (src.afi && !s->draining && !(dst.afi && hold_of(s, &dst)) &&
	    if_indextoname(nfq_get_indev(nfa), ifname) &&
	    fhr_detect(s->d->fhr, ifname, &src,
		       hw && ntohs(hw->hw_addrlen) == 6 ? hw->hw_addr : NULL, FHR_SRC_DATA,
		       ev_now(s->d->loop)) > 0)
		s->learned++;
	held = ph && dst.afi ? hold_packet(s, id, &dst, plen) : 0;
	if (held > 0)
		return 0; /* its verdict waits for the end of the leaving */
	return nfq_set_verdict(qh, id, held < 0 ? NF_DROP : NF_ACCEPT, 0, NULL);
}

/*
 * What the queue has now, each given its verdict at once (held if its EID
 * still leaves): called as a hold ends, before the segment is told the
 * VM's MAC again, so that what was queued behind the held packets reaches
 * the VM before what a host then sends it directly (or the kernel forwards
 * past the queue). Nothing is learned from them: this runs inside the
 * agent's own state changes (the next packet of an unknown source is).
 */
static void drain(struct fhr_nfq_state *s)
{
	char buf[4096] __attribute__((aligned));

	s->draining = true;
	for (int i = 0; i < FHR_NFQ_DRAIN_MAX; i++) {
		ssize_t n = recv(nfq_fd(s->h), buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		nfq_handle_packet(s->h, buf, (int)n);
	}
	s->draining = false;
}

static void nfq_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_nfq_state *s = container_of(w, struct fhr_nfq_state, io);
	char buf[4096] __attribute__((aligned));

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		nfq_handle_packet(s->h, buf, (int)n);
	}
}

void fhr_nfq_open(struct fhr_daemon *d, unsigned queue)
{
	struct fhr_nfq_state *s = xcalloc(1, sizeof(*s));
	const struct fhr_conf *c = d->conf;
	int rc;

	s->d = d;
	s->h = nfq_open();
	if (!s->h)
		fatal("nfqueue: cannot open: %s", strerror(errno));
	s->qh = nfq_create_queue(s->h, (uint16_t)queue, packet_cb, s);
	if (!s->qh)
		fatal("nfqueue: queue %u: %s (another agent on it?)", queue, strerror(errno));
	nfq_set_mode(s->qh, NFQNL_COPY_PACKET, 64); /* the IP header is enough */
	/* room for what is held, and more: beyond, the kernel accepts (fail-open) */
	if (nfq_set_queue_maxlen(s->qh, FHR_HOLD_PACKETS + 1024) < 0)
		log_warn("nfqueue: queue %u: cannot raise its length for held packets", queue);
	s->q = xcalloc(FHR_HOLD_PACKETS, sizeof(*s->q));
	/* a burst (what a hold lets go comes back at once, a flood) must not overflow the socket */
	nfnl_rcvbufsiz(nfq_nfnlh(s->h), 8u << 20);
	if (nfq_set_queue_flags(s->qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
		log_warn("nfqueue: no fail-open on this kernel");
	/*
	 * GSO packets queued whole: the kernel segments them for a queue without
	 * the flag, and its segments come without the link-layer header, so a VM
	 * first seen by one (a TCP sender: its segments are GSO through veths
	 * and bridges) came without its MAC. Only the header is read here, and
	 * nothing is rewritten.
	 */
	if (nfq_set_queue_flags(s->qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0)
		log_warn("nfqueue: no GSO queueing on this kernel: a VM first seen by a GSO "
			 "packet is asked for its MAC");
	rc = fhr_nft_open(&s->nft, c, (int)queue, known_max(c));
	if (rc < 0)
		fatal("nfqueue: cannot install the nftables table vmroam_fhr_q%u: %s", queue,
		      strerror(-rc));
	ev_io_init(&s->io, nfq_cb, nfq_fd(s->h), EV_READ);
	ev_io_start(d->loop, &s->io);
	d->nfq = s;
	fhr_eid_walk(d->fhr, exempt_known, d); /* what the neighbour table told already */
	log_info("nfqueue: queue %u for first packets of unknown hosts (%s)", queue,
		 fhr_nft_queue_form(s->nft));
}

void fhr_nfq_close(struct fhr_daemon *d)
{
	struct fhr_nfq_state *s = d->nfq;

	if (!s)
		return;
	ev_io_stop(d->loop, &s->io);
	for (size_t i = 0; i < s->nq; i++) /* what is held goes on (a closed queue drops it) */
		nfq_set_verdict(s->qh, s->q[i].id, NF_ACCEPT, 0, NULL);
	if (s->nq)
		log_info("nfqueue: %zu held packets let go at shutdown", s->nq);
	free(s->q);
	fhr_nft_close(s->nft);
	nfq_destroy_queue(s->qh);
	nfq_close(s->h);
	free(s);
	d->nfq = NULL;
}
