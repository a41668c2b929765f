/*
 * Solicit-Map-Requests for away EIDs, the data plane's protocol policy
 * kept out of its I/O glue (dataplane/io.c): who gets one (the ITR that
 * encapsulated a packet to us for an EID of ours that moved away), when
 * (once an interval for one (ITR, instance-id, EID); an away entry made
 * after the last SMR is another move and goes at once), and the message
 * (a Map-Request with the S bit: Source-EID the moved EID, ITR-RLOC ours,
 * the record the packet's inner source). No I/O: see struct smr_io.
 */
#include <errno.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/evhist.h"
#include "lib/platform.h"
#include "lib/lisp_msg.h"
#include "lib/xalloc.h"
#include "xtr-gateway/dataplane/smr.h"

/* The last SMR sent to one ITR for one EID (a direct-mapped table). */
struct smr_slot {
	struct lisp_addr itr, eid;
	uint32_t iid;
	double at;
};

struct smr {
	struct smr_io io;
	struct smr_slot slot[SMR_SLOTS];
};

struct smr *smr_new(const struct smr_io *io)
{
	struct smr *s = xcalloc(1, sizeof(*s));

	s->io = *io;
	return s;
}

void smr_free(struct smr *s)
{
	free(s);
}

/* True if s sent the SMR for this move to itr less than SMR_INTERVAL ago. */
static bool limited(const struct smr *s, const struct smr_slot *sl, const struct lisp_addr *itr,
		    uint32_t iid, const struct lisp_addr *eid, const struct lisp_prefix *p,
		    double now)
{
	double since;

	if (sl->iid != iid || !lisp_addr_equal(&sl->itr, itr) || !lisp_addr_equal(&sl->eid, eid) ||
	    now - sl->at >= SMR_INTERVAL)
		return false;
	/* one SMR per interval for one move: an away entry newer than the last SMR is another */
	return s->io.away_since(s->io.arg, p, &since) < 0 || since <= sl->at;
}

int smr_send(struct smr *s, const struct lisp_addr *itr, uint32_t iid, const struct lisp_addr *eid,
	     const struct lisp_addr *remote, double now)
{
	struct lisp_map_request q = { .smr = true, .itr_rloc_count = 1 };
	uint32_t h = lisp_addr_hash(itr) * 31 + lisp_addr_hash(eid) + iid;
	struct smr_slot *sl = &s->slot[h % SMR_SLOTS];
	struct lisp_prefix rec;
	struct buf_writer w;
	uint8_t buf[512];
	double t;
	int rc;

	lisp_prefix_from_addr(&q.src_eid, iid, eid);
	if (limited(s, sl, itr, iid, eid, &q.src_eid, now))
		return -EAGAIN;
	lisp_prefix_from_addr(&rec, iid, remote);
	if (!s->io.local_rloc(s->io.arg, itr->afi, &q.itr_rlocs[0]))
		return -EADDRNOTAVAIL;
	rc = platform_random(&q.nonce, sizeof(q.nonce));
	if (rc < 0)
		return rc;
	buf_writer_init(&w, buf, sizeof(buf));
	t = evh_now();
	if (lisp_msg_encode_map_request(&w, &q, &rec, 1) < 0)
		return -EMSGSIZE;
	rc = s->io.send(s->io.arg, itr, LISP_CONTROL_PORT, buf, w.off);
	if (rc < 0)
		return rc;
	*sl = (struct smr_slot){ .itr = *itr, .eid = *eid, .iid = iid, .at = now };
	if (s->io.sent)
		s->io.sent(s->io.arg, &q.src_eid);
	evh_add_at(s->io.evh, t, "smr-sent", &q.src_eid, itr, "a packet from %s re-encapsulated",
		   lisp_addr_format(remote, (char *)buf, sizeof(buf)));
	return 0;
}
