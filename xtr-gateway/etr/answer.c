/*
 * The ETR answers Map-Requests for its EIDs (RFC 9301 §8.2): one
 * Map-Reply (or RLOC-probe reply) per request, for a learned dynamic EID
 * or the longest plain database-mapping holding the EID, never for an
 * away entry; map-reply rate-limit per ITR-RLOC (lib/ratelim).
 */
#include <errno.h>

#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "xtr-gateway/etr/etr_int.h"

/* The plain database-mapping holding eid (longest), or NULL. */
static const struct xtr_conf_dbmap *dbmap_holding(const struct xtr_conf *c,
						  const struct lisp_prefix *eid)
{
	const struct xtr_conf_dbmap *best = NULL;

	for (size_t i = 0; i < c->ndbmaps; i++)
		if (c->dbmaps[i].dyn < 0 && lisp_prefix_contains(&c->dbmaps[i].p, eid) &&
		    (!best || c->dbmaps[i].p.plen > best->p.plen))
			best = &c->dbmaps[i];
	return best;
}

/* The mapping to answer for eid: a learned host or a plain database-mapping; NULL: not ours. */
static const struct xtr_conf_dbmap *mapping_for(struct etr *e, const struct lisp_prefix *eid,
						struct lisp_prefix *answer)
{
	const struct xtr_conf_dbmap *m;
	struct lisp_prefix match;
	const struct dyn *d = ptable_lookup(e->local, eid->iid, &eid->addr, &match);

	if (d && d->l.kind == LOCAL_DYN_HOST && lisp_prefix_contains(&match, eid)) {
		*answer = d->p;
		return &e->conf->dbmaps[d->dbmap];
	}
	if (d && d->l.kind == LOCAL_AWAY)
		return NULL;
	m = dbmap_holding(e->conf, eid);
	if (m)
		*answer = m->p;
	return m;
}

/*
 * Sends the Map-Reply in e->out (len bytes) to the first ITR-RLOC of q
 * that takes it, unless map-reply rate-limit refuses that destination.
 */
static void send_reply(struct etr *e, const struct lisp_map_request *q, uint16_t dport, size_t len,
		       double now)
{
	char a[LISP_ADDR_STRLEN];

	for (unsigned i = 0; i < q->itr_rloc_count; i++) {
		int rc = ratelim_take(e->replies, &q->itr_rlocs[i], now);

		if (rc == -EINVAL)
			continue; /* not IPv4 or IPv6: no address to answer */
		if (rc < 0) {
			e->c.replies_rate_limited++;
			log_warn_rl(&e->rl_replies,
				    "etr: Map-Reply to %s not sent: map-reply rate-limit (%s)",
				    lisp_addr_format(&q->itr_rlocs[i], a, sizeof(a)),
				    rc == -EBUSY ? "this destination" : "total");
			return;
		}
		if (e->io.send(e->io.arg, &q->itr_rlocs[i], dport, e->out, len) == 0) {
			e->c.requests_answered++;
			return;
		}
	}
}

/*
 * One Map-Reply per Map-Request, for its first EID-record if that is ours
 * (RFC 9301 senders use one record; more would make us a reflector): the
 * other records are counted and ignored.
 */
void etr_answer(struct etr *e, const struct lisp_addr *src, const struct lisp_map_request *q,
		uint16_t dport, double now)
{
	char a[LISP_ADDR_STRLEN];
	struct lisp_map_reply m = { .nonce = q->nonce, .probe = q->probe };
	struct lisp_eid_record rec = { .ttl = RECORD_TTL, .authoritative = true, .locs = e->locs };
	const struct xtr_conf_dbmap *d;
	struct lisp_prefix eid;
	struct lisp_iter it;
	struct buf_writer w;

	if (q->eids.count > 1) {
		e->c.request_records_ignored += q->eids.count - 1;
		log_warn_rl(&e->rl_replies,
			    "etr: Map-Request from %s with %u EID-records: the first answered only",
			    lisp_addr_format(src, a, sizeof(a)), q->eids.count);
	}
	lisp_prefix_iter_init(&it, &q->eids);
	if (!lisp_prefix_iter_next(&it, &eid)) {
		e->c.malformed++;
		return;
	}
	d = mapping_for(e, &eid, &rec.eid);
	if (!d) {
		e->c.requests_not_ours++;
		return;
	}
	rec.loc_count = etr_dbmap_locs(e, e->conf, d, e->locs);
	buf_writer_init(&w, e->out, sizeof(e->out));
	if (lisp_msg_encode_map_reply(&w, &m, &rec, 1) == 0)
		send_reply(e, q, dport, w.off, now);
}
