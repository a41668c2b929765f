/*
 * The Map-Resolver (RFC 9301 §8; spec/lisp-wire.md §7): Encapsulated
 * Map-Requests decoded (one by one, or a receive batch looked up
 * together), answered from the Map-Server's registrations: a proxy reply,
 * a request forwarded to a registered ETR, or a negative answer.
 *
 * Answers (spec/lisp-wire.md §7.1): one per Encapsulated Map-Request, for
 * its first record; to the first ITR-RLOC we can send to; within the
 * per-destination rate limit (map-reply rate-limit), which also bounds the
 * requests forwarded to an ETR (by the ITR-RLOC the ETR will answer).
 * Negative answers name a hole: the least-specific prefix around the EID
 * that holds no registered and no other configured prefix.
 */
#include <errno.h>
#include <string.h>

#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "xtr-gateway/ms/ms_int.h"

/*
 * Whether an answer (what) may go to dst now: map-reply rate-limit, per
 * destination and in all. A refusal is counted in *refused and logged.
 */
bool ms_answer_allowed(struct ms *ms, const struct lisp_addr *dst, double now, uint64_t *refused,
		       const char *what)
{
	char a[LISP_ADDR_STRLEN];
	int rc = ratelim_take(ms->rl, dst, now);

	if (rc == 0)
		return true;
	(*refused)++;
	log_warn_rl(&ms->rl_limit, "ms: %s for %s not sent: %s", what,
		    lisp_addr_format(dst, a, sizeof(a)),
		    rc == -ENOBUFS ? "map-reply rate-limit total reached"
				   : "map-reply rate-limit of the destination reached");
	return false;
}

static bool is_ip(const struct lisp_addr *a)
{
	return a->afi == LISP_AFI_IPV4 || a->afi == LISP_AFI_IPV6;
}

/* The first ITR-RLOC of req an answer can go to (IPv4 or IPv6), or NULL. */
static const struct lisp_addr *first_itr_rloc(const struct lisp_map_request *req)
{
	for (unsigned i = 0; i < req->itr_rloc_count; i++)
		if (is_ip(&req->itr_rlocs[i]))
			return &req->itr_rlocs[i];
	return NULL;
}

/*
 * Sends one Map-Reply: to the first ITR-RLOC of a family we have a socket
 * for, within the rate limit; never to a second one after a send failed.
 */
static void send_reply(struct ms *ms, const struct lisp_map_request *req, uint16_t dport,
		       const struct lisp_eid_record *rec, double now)
{
	struct lisp_map_reply m = { .nonce = req->nonce };
	struct buf_writer w;

	buf_writer_init(&w, ms->out, sizeof(ms->out));
	if (lisp_msg_encode_map_reply(&w, &m, rec, 1) < 0)
		return;
	for (unsigned i = 0; i < req->itr_rloc_count; i++) {
		const struct lisp_addr *dst = &req->itr_rlocs[i];

		if (!is_ip(dst))
			continue;
		if (!ms_answer_allowed(ms, dst, now, &ms->gc->map_replies_rate_limited,
				       "Map-Reply"))
			return;
		if (ms->io.send(ms->io.arg, dst, dport, ms->out, w.off) != -EAFNOSUPPORT)
			return;
	}
}

/* Walk callback: stops at the first entry that is not arg. */
static int other_entry(const struct lisp_prefix *p, void *v, void *arg)
{
	(void)p;
	return v != arg;
}

/* Whether the plen-bit prefix around eid holds a registered prefix, or a configured one but self. */
static bool holds_other(const struct ms *ms, const struct lisp_prefix *eid, unsigned plen,
			struct ms_cfg *self)
{
	struct lisp_prefix q = *eid;

	q.plen = (uint8_t)plen;
	lisp_prefix_mask(&q);
	return ptable_walk(ms->regs, &q, other_entry, NULL) ||
	       ptable_walk(ms->cfg, &q, other_entry, self);
}

/*
 * The hole around eid (RFC 9301 §8.4, spec/lisp-wire.md §7.1): the least
 * specific prefix of at least from bits holding eid and no registered
 * prefix, nor a configured one but self. A prefix holds all that a longer
 * one around eid holds, so a binary search over the length: a few walks,
 * each stopping at the first entry it meets.
 */
static void hole(const struct ms *ms, const struct lisp_prefix *eid, unsigned from,
		 struct ms_cfg *self, struct lisp_prefix *out)
{
	unsigned lo = from, hi = lisp_afi_max_plen(eid->addr.afi);

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (holds_other(ms, eid, mid, self))
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = *eid;
	out->plen = (uint8_t)lo;
	lisp_prefix_mask(out);
}

void ms_reg_record(const struct ms *ms, const struct ms_reg *reg, struct lisp_locator *locs,
		   struct lisp_eid_record *rec)
{
	uint8_t n = 0;

	(void)ms;
	for (const struct ms_registrant *r = reg->regs; r; r = r->next) {
		for (uint8_t i = 0; i < r->nloc && n < MS_LOCS_MAX; i++) {
			bool dup = false;

			for (uint8_t j = 0; j < n && !dup; j++)
				dup = lisp_addr_equal(&locs[j].addr[0], &ms_loc_at(r, i)->addr);
			if (dup)
				continue;
			ms_loc_export(ms_loc_at(r, i), &locs[n++]);
		}
	}
	rec->ttl = reg->ttl;
	rec->eid = reg->p;
	rec->loc_count = n;
	rec->locs = locs;
}

bool ms_answer_record(const struct ms *ms, const struct lisp_prefix *eid, const struct ms_reg *reg,
		      struct lisp_locator *locs, struct lisp_eid_record *rec)
{
	struct ms_cfg *c;

	memset(rec, 0, sizeof(*rec));
	if (reg) {
		ms_reg_record(ms, reg, locs, rec);
		return true;
	}
	c = ptable_lookup(ms->cfg, eid->iid, &eid->addr, NULL);
	if (!c)
		return false;
	/* in a LISP site, nothing registered here: the host may be about to register */
	rec->ttl = 1;
	rec->act = LISP_ACT_SEND_MAP_REQUEST;
	hole(ms, eid, c->p.plen, c, &rec->eid);
	return true;
}

/* Proxy reply: the registered locators of every registrant, each once, L and p clear. */
static void proxy_reply(struct ms *ms, const struct ms_reg *reg, const struct lisp_map_request *req,
			uint16_t dport, double now)
{
	struct lisp_eid_record rec = { 0 };

	ms_reg_record(ms, reg, ms->locs, &rec);
	send_reply(ms, req, dport, &rec, now);
}

/*
 * Forwards the ECM to one registered ETR, which answers the ITR itself:
 * the first reachable locator of the registrant heard from last (a
 * renumbered xTR's old address lingers until it expires), with the E bit
 * ("forward to ETR", IANA LISP ECM flags; lispers.net sets it too) and
 * nothing else changed: an E=1 ECM is never resolved again, so a locator
 * pointing back at a Map-Resolver cannot make it forward to itself forever.
 */
static bool forward(struct ms *ms, const struct ms_reg *reg, const uint8_t *ecm, size_t len)
{
	const struct ms_registrant *best = NULL;

	if (len > sizeof(ms->out))
		return false;
	memcpy(ms->out, ecm, len);
	ms->out[0] |= LISP_ECM_E_BIT;
	for (const struct ms_registrant *r = reg->regs; r; r = r->next)
		for (uint8_t i = 0; i < r->nloc; i++)
			if (ms_loc_at(r, i)->reachable && (!best || r->last > best->last))
				best = r;
	for (uint8_t i = 0; best && i < best->nloc; i++)
		if (ms_loc_at(best, i)->reachable &&
		    ms->io.send(ms->io.arg, &ms_loc_at(best, i)->addr, LISP_CONTROL_PORT, ms->out,
				len) == 0)
			return true;
	return false;
}

/* Answers for eid, whose registration (longest match, or NULL) the caller looked up. */
static void resolve(struct ms *ms, const struct lisp_map_request *req,
		    const struct lisp_prefix *eid, struct ms_reg *reg, uint16_t dport,
		    const uint8_t *ecm, size_t len, double now)
{
	struct lisp_eid_record neg = { .act = LISP_ACT_NATIVE_FORWARD, .ttl = 15 };
	struct ms_cfg *c;

	if (reg && reg->proxy_reply) {
		proxy_reply(ms, reg, req, dport, now);
		reg->site->c.map_requests_proxied++;
		return;
	}
	if (reg) {
		/* the MS never answers for an ETR that did not ask for proxy replies */
		if (!ms_answer_allowed(ms, first_itr_rloc(req), now,
				       &ms->gc->map_requests_forward_rate_limited,
				       "Map-Request forwarded to an ETR"))
			return;
		if (forward(ms, reg, ecm, len))
			reg->site->c.map_requests_forwarded++;
		else
			reg->site->c.map_requests_unforwardable++;
		return;
	}
	c = ptable_lookup(ms->cfg, eid->iid, &eid->addr, NULL);
	if (c) {
		ms_answer_record(ms, eid, NULL, ms->locs, &neg);
		c->site->c.map_requests_negative++;
	} else {
		hole(ms, eid, 0, NULL, &neg.eid);
		ms->gc->negative_not_lisp++;
	}
	send_reply(ms, req, dport, &neg, now);
}

/* Decodes an ECM and its Map-Request; false (counted, logged) when it is not one we answer. */
static bool ecm_decode(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		       struct lisp_ecm *e, struct lisp_map_request *req)
{
	char a[LISP_ADDR_STRLEN];
	int rc = lisp_msg_decode_ecm(buf, len, e);

	if (rc == 0)
		rc = lisp_msg_decode_map_request(e->inner.payload, e->inner.payload_len, req);
	if (rc < 0) {
		rc == -EPROTONOSUPPORT ? ms->gc->unsupported++ : ms->gc->malformed++;
		log_warn_rl(&ms->rl_bad, "ms: bad Encapsulated Map-Request from %s: %s",
			    lisp_addr_format(src, a, sizeof(a)), strerror(-rc));
		return false;
	}
	if (req->probe || e->to_etr || !(ms->conf->mr_v4 || ms->conf->mr_v6)) {
		/* map-resolvers drop RLOC-probes, and requests already forwarded to an ETR */
		ms->gc->unsupported++;
		return false;
	}
	if (!first_itr_rloc(req) && !(req->notify && req->xtr_id_present)) {
		/* (an unsubscription names none: RFC 9437 ITR-RLOC AFI 0) */
		ms->gc->unsupported++;
		log_warn_rl(&ms->rl_bad, "ms: Map-Request from %s: no IPv4 or IPv6 ITR-RLOC",
			    lisp_addr_format(src, a, sizeof(a)));
		return false;
	}
	ms->gc->map_requests++;
	return true;
}

/*
 * Answers the first EID of a decoded request, whose registration the
 * caller may have looked up (reg), else LOOKUP. One request, one answer:
 * RFC 9301 senders send one record, and more would multiply what a single
 * forged request sends to its ITR-RLOC; the others are counted, ignored.
 */
#define LOOKUP ((struct ms_reg *)-1)
static void ecm_answer(struct ms *ms, const struct lisp_addr *src, const struct lisp_ecm *e,
		       const struct lisp_map_request *req, const uint8_t *buf, size_t len,
		       struct ms_reg *reg, double now)
{
	char a[LISP_ADDR_STRLEN];
	struct lisp_prefix eid;
	struct lisp_iter it;

	lisp_prefix_iter_init(&it, &req->eids);
	if (!lisp_prefix_iter_next(&it, &eid))
		return;
	if (req->eids.count > 1) {
		ms->gc->map_request_records_ignored += req->eids.count - 1;
		log_warn_rl(&ms->rl_bad,
			    "ms: Map-Request from %s with %u records: the first answered",
			    lisp_addr_format(src, a, sizeof(a)), req->eids.count);
	}
	if (reg == LOOKUP)
		reg = ptable_lookup(ms->regs, eid.iid, &eid.addr, NULL);
	if (req->notify) {
		int act = ms_pub_request(ms, src, req, &eid, reg, e->inner.sport, now);

		if (act < 0)
			return; /* an unsubscription: nothing to answer */
		if (act > 0) {
			struct lisp_eid_record no = { .act = (uint8_t)act, .ttl = 1, .eid = eid };

			send_reply(ms, req, e->inner.sport, &no, now);
			return;
		}
	}
	resolve(ms, req, &eid, reg, e->inner.sport, buf, len, now);
}

void mr_handle_ecm(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		   double now)
{
	struct lisp_map_request req;
	struct lisp_ecm e;

	if (ecm_decode(ms, src, buf, len, &e, &req))
		ecm_answer(ms, src, &e, &req, buf, len, LOOKUP, now);
}

/*
 * A receive batch: the Map-Requests that come before any message that
 * changes state are decoded first and their registrations looked up
 * together (ptable_lookup_batch interleaves the memory fetches); the
 * rest goes through ms_input() in order.
 */
void ms_input_batch(struct ms *ms, const struct ms_pkt *pk, size_t n, double now)
{
	uint32_t iid[MS_BATCH] = { 0 };
	struct lisp_addr addr[MS_BATCH] = { 0 };
	void *found[MS_BATCH];
	size_t upto = 0, m = 0;

	n = n < MS_BATCH ? n : MS_BATCH;
	for (; upto < n && lisp_msg_type(pk[upto].buf, pk[upto].len) == LISP_TYPE_ECM; upto++) {
		struct ms_pre *p = &ms->pre[upto];
		struct lisp_prefix eid;
		struct lisp_iter it;

		p->ok = ecm_decode(ms, &pk[upto].src, pk[upto].buf, pk[upto].len, &p->e, &p->req);
		lisp_prefix_iter_init(&it, &p->req.eids);
		if (!p->ok || !lisp_prefix_iter_next(&it, &eid))
			continue;
		p->slot = m;
		iid[m] = eid.iid;
		addr[m++] = eid.addr;
	}
	ptable_lookup_batch(ms->regs, m, iid, addr, found);
	for (size_t j = 0; j < m; j++)
		__builtin_prefetch(found[j]);
	for (size_t i = 0; i < upto; i++)
		if (ms->pre[i].ok)
			ecm_answer(ms, &pk[i].src, &ms->pre[i].e, &ms->pre[i].req, pk[i].buf,
				   pk[i].len, found[ms->pre[i].slot], now);
	for (size_t i = upto; i < n; i++)
		ms_input(ms, &pk[i].src, pk[i].sport, pk[i].buf, pk[i].len, now);
}
