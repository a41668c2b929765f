/*
 * Data-packet detection with libnetfilter_queue: a VM that sends before it
 * announces itself (or never does) is found by its first packet. The agent
 * keeps a table of its own in nftables (detect_nft.c): at raw priority in
 * prerouting, sources in its sets of known EIDs return, then the queue
 * (bypass) for each dynamic-eid prefix on each mobility interface, and the
 * queue is fail-open, so traffic never waits for the agent and never stops
 * when it is down; once an EID is known (one set element, added in-process)
 * its packets no longer reach the queue. Every packet is accepted. The
 * table is deleted at exit and one left by a crashed run is replaced at
 * start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
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

struct fhr_nfq_state {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	ev_io io;
	struct fhr_daemon *d;
	struct fhr_nft *nft;
	struct log_rate rl;
	uint64_t packets, learned;
};

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

static int packet_cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	struct fhr_nfq_state *s = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	struct nfqnl_msg_packet_hw *hw = nfq_get_packet_hw(nfa);
	unsigned char *p = NULL;
	char ifname[IF_NAMESIZE];
	int len = nfq_get_payload(nfa, &p);
	struct lisp_addr src = { 0 };
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;

	(void)msg;
	s->packets++;
	if (len >= 20 && p[0] >> 4 == 4) {
		src.afi = LISP_AFI_IPV4;
		memcpy(src.u.v4, p + 12, 4);
	} else if (len >= 40 && p[0] >> 4 == 6) {
		lisp_addr_set_v6(&src, p + 8);
	}
	if (src.afi && if_indextoname(nfq_get_indev(nfa), ifname) &&
	    fhr_detect(s->d->fhr, ifname, &src,
		       hw && ntohs(hw->hw_addrlen) == 6 ? hw->hw_addr : NULL, FHR_SRC_DATA,
		       ev_now(s->d->loop)) > 0)
		s->learned++;
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL); /* never holds traffic back */
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
	if (nfq_set_queue_flags(s->qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
		log_warn("nfqueue: no fail-open on this kernel");
	rc = fhr_nft_open(&s->nft, c, (int)queue, known_max(c));
	if (rc < 0)
		fatal("nfqueue: cannot install the nftables table vmroam_fhr_q%u: %s", queue,
		      strerror(-rc));
	ev_io_init(&s->io, nfq_cb, nfq_fd(s->h), EV_READ);
	ev_io_start(d->loop, &s->io);
	d->nfq = s;
	fhr_eid_walk(d->fhr, exempt_known, d); /* what the neighbour table told already */
	log_info("nfqueue: queue %u for first packets of unknown hosts", queue);
}

void fhr_nfq_close(struct fhr_daemon *d)
{
	struct fhr_nfq_state *s = d->nfq;

	if (!s)
		return;
	ev_io_stop(d->loop, &s->io);
	fhr_nft_close(s->nft);
	nfq_destroy_queue(s->qh);
	nfq_close(s->h);
	free(s);
	d->nfq = NULL;
}
