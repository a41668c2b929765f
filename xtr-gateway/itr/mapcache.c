/*
 * ITR map-cache (RFC 9300 §6, RFC 9301 §8.1; spec/lisp-wire.md §10.3-10.6):
 * entries learned from Map-Replies (positive or negative with an action)
 * or configured (map-cache PREFIX ACTION), resolution through the
 * Map-Resolver (ECM Map-Requests, 1 a second a prefix, 10 tries then 30 s
 * of rest), TTL expiry, and Solicit-Map-Requests answered with an
 * SMR-invoked Map-Request through the mapping system. Fixed capacity.
 * Resolutions outstanding (an entry waiting for its Map-Reply, also between
 * tries) each hold a request slot, which matches the reply's nonce: at most
 * map-request-limit in total and its per-instance-id share for one table,
 * so that one tenant's misses cannot starve the others'.
 * A Map-Reply installs only what answers the question asked: the best
 * match of the request's instance-id and the more-specifics inside it
 * (or inside the prefix asked about).
 * What is learned never replaces a configured entry for good: a negative
 * answer leaves it, a positive one is used over it until it expires.
 *
 * Publish/subscribe (RFC 9437, itr subscribe): every Map-Request we send
 * subscribes too (the I bit with our xTR-ID and Site-ID, the N bit on its
 * record). The Map-Server confirms with a Map-Notify carrying the
 * request's nonce and the mapping; from then on it publishes each change
 * of it with the next nonces. We take a Map-Notify signed with the
 * subscription key only when it confirms a request of ours (its record
 * answering what we asked) or comes from the Map-Server that confirmed
 * the subscription with a nonce above the last one taken (within
 * SUB_WINDOW: a replay of an older subscription's is refused), install its
 * record and acknowledge it (Map-Notify-Ack). When the entry goes
 * (expiry, clear, eviction) we unsubscribe (the N bit, ITR-RLOC AFI 0);
 * a publication with TTL 0 of the prefix itself ends it too. A Map-Server
 * that refuses subscriptions (a Map-Reply with ACT 4 or 5) is asked again
 * at once without, and for SUB_REFUSED_REST; one that ignores them never
 * confirms: either way the entry is kept current by SMRs, as without.
 *
 * RLOC-probing (rloc-probing interval MS [misses N]; spec/lisp-wire.md
 * §7.2, §10.9): each locator address of the cache (at most PROBE_RLOCS)
 * is sent a Map-Request with the P bit directly, every interval (±20 %),
 * about an EID it is a locator of; a probe reply (P, the nonce, from that
 * address) keeps it up; N probes unanswered take it down in every entry
 * (the data plane then uses the others: a multihomed site's surviving
 * gateway), and the next reply brings it back. What is installed later
 * keeps what the probes found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/log.h"
#include "lib/platform.h"
#include "lib/lpmh.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define REQ_INTERVAL	 1.0 /* s between Map-Requests for one prefix */
#define REQ_TRIES	 10  /* then rest */
#define REQ_REST	 30.0
#define SMR_INTERVAL	 3.0  /* s between SMR-invoked requests for one prefix */
#define MC_INLINE_LOCS	 2    /* locators kept in the entry itself: one cache miss less a packet */
#define MC_BATCH	 64   /* lookups interleaved at once (mc_lookup_batch) */
#define SUB_REQS	 256  /* subscribing requests waiting for their confirmation */
#define SUB_CONFIRM_WAIT 5.0  /* s: then the request is taken as not confirmed */
#define SUB_REFUSED_REST 60.0 /* s without subscribing after a refusal */
#define SUB_WINDOW	 (1ull << 20) /* publications taken above the last nonce */
#define PROBE_RLOCS	 4096	      /* locator addresses probed at most */

struct mc_entry {
	/* what the data plane reads first: the first cache line */
	enum mc_state state;
	uint8_t act;
	uint8_t nloc;
	struct mc_locator *locs; /* nloc of them: inl, or allocated when more */
	struct mc_locator inl[MC_INLINE_LOCS];
	/* the control plane's */
	struct lisp_prefix p;
	bool configured; /* a map-cache line names the prefix: what is learned never removes it */
	bool is_static; /* configured, and showing its configured action (nothing learned over it) */
	uint8_t conf_act;
	double created, updated, expires; /* expires 0: never */
	/* resolution */
	uint64_t nonce; /* outstanding Map-Request, 0: none */
	/* the next Map-Request about it; a learned send-map-request entry: for anything it covers */
	double next_req, last_smr;
	struct lisp_addr src_eid; /* inner source of the packet that made us ask (afi NONE: none) */
	unsigned tries;
	bool smr_invoked;
	size_t slot; /* 1 + its request slot while a resolution is outstanding, 0: none */
};

static void entry_free(void *v)
{
	struct mc_entry *e = v;

	if (e->locs != e->inl)
		free(e->locs);
	free(e);
}

/* A confirmed subscription: to the prefix of an entry. */
struct mc_sub {
	struct lisp_prefix p;
	struct lisp_addr
		ms;    /* the Map-Server that confirmed it: its publications come from there */
	uint64_t last; /* the nonce of the last Map-Notify taken */
	double since;
	uint64_t publications;
};

/* A locator address RLOC-probing watches. */
struct mc_rloc {
	struct lisp_addr addr;	/* afi NONE: a free slot */
	struct lisp_prefix eid; /* an EID it is a locator of: the probes ask about it */
	uint64_t nonce;		/* the probe out, 0: none */
	double next;		/* the next probe */
	unsigned misses;	/* probes unanswered in a row */
	bool down;
};

/* A subscribing Map-Request waiting for its confirmation. */
struct mc_subreq {
	uint64_t nonce; /* 0: a free one */
	struct lisp_prefix q;
	double at;
	bool confirmed; /* its Map-Reply, coming after, answers nothing new */
};

struct mapcache {
	struct mc_io io;
	/* outstanding resolutions: slot -> the last Map-Request's nonce and the entry's prefix */
	uint64_t *req_nonce;
	struct lisp_prefix *req_p; /* afi NONE: a free slot */
	size_t nslots, used, per_iid;
	struct log_rate rl;
	const struct xtr_conf_itr *conf;
	/* where mc_local_rloc() finds our RLOCs */
	const struct xtr_conf *local;
	struct ptable *t; /* the entries (owner): control plane, walks */
	struct lpmh *idx; /* the same entries hashed by length: the data plane's lookups */
	size_t limit;
	struct mc_counters c;
	/* publish/subscribe */
	struct lisp_auth_key *sub_key; /* NULL: not subscribing */
	struct ptable *subs;	       /* prefix -> struct mc_sub */
	struct mc_subreq sreq[SUB_REQS];
	size_t sreq_next;
	double sub_refused_until;
	struct log_rate rl_sub;
	/* RLOC-probing */
	struct mc_rloc *rlocs; /* PROBE_RLOCS of them while probing */
	size_t nrlocs;	       /* slots in use up to */
	uint8_t out[2048], req[1024];
};

static uint64_t random_nonce(void)
{
	uint64_t n = 0;

	while (platform_random(&n, sizeof(n)) < 0 || n == 0)
		;
	return n;
}

struct mapcache *mc_new(const struct mc_io *io)
{
	struct mapcache *mc = xcalloc(1, sizeof(*mc));

	mc->io = *io;
	mc->t = ptable_new(entry_free);
	mc->subs = ptable_new(free);
	return mc;
}

void mc_free(struct mapcache *mc)
{
	if (!mc)
		return;
	ptable_free(mc->t);
	ptable_free(mc->subs);
	free(mc->rlocs);
	lisp_auth_key_free(mc->sub_key);
	lpmh_free(mc->idx);
	free(mc->req_nonce);
	free(mc->req_p);
	free(mc);
}

size_t mc_outstanding(const struct mapcache *mc)
{
	return mc->used;
}

size_t mc_outstanding_iid(const struct mapcache *mc, uint32_t iid)
{
	size_t n = 0;

	for (size_t i = 0; i < mc->nslots; i++)
		n += mc->req_p[i].addr.afi != LISP_AFI_NONE && mc->req_p[i].iid == iid;
	return n;
}

/* May table iid start another resolution? 0, or -EBUSY (counted, logged). */
static int slot_admit(struct mapcache *mc, uint32_t iid)
{
	bool full = mc->used >= mc->nslots;

	if (!full && mc_outstanding_iid(mc, iid) < mc->per_iid)
		return 0;
	mc->c.requests_limited++;
	log_warn_rl(&mc->rl,
		    "map-cache: %zu resolutions outstanding %s%u (map-request-limit): "
		    "not resolved now",
		    full ? mc->used : mc->per_iid,
		    full ? "in all, asked by instance-id " : "for instance-id ", iid);
	return -EBUSY;
}

/* A request slot for e (kept until its answer or its removal); false if none may be taken. */
static bool slot_take(struct mapcache *mc, struct mc_entry *e)
{
	size_t i = 0;

	if (e->slot)
		return true;
	if (slot_admit(mc, e->p.iid) < 0)
		return false;
	while (mc->req_p[i].addr.afi != LISP_AFI_NONE)
		i++;
	mc->req_p[i] = e->p;
	mc->req_nonce[i] = 0;
	mc->used++;
	e->slot = i + 1;
	return true;
}

static void slot_release(struct mapcache *mc, struct mc_entry *e)
{
	if (!e->slot)
		return;
	mc->req_p[e->slot - 1].addr.afi = LISP_AFI_NONE;
	mc->req_nonce[e->slot - 1] = 0;
	mc->used--;
	e->slot = 0;
}

static struct mc_entry *entry_add(struct mapcache *mc, const struct lisp_prefix *p, double now)
{
	struct mc_entry *e;

	if (ptable_count(mc->t) >= mc->limit) {
		mc->c.overflows++;
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->p = *p;
	e->created = e->updated = now;
	if (ptable_add(mc->t, &e->p, e) < 0) {
		free(e);
		return NULL;
	}
	if (mc->idx)
		lpmh_set(mc->idx, &e->p,
			 e); /* fails only for instance-ids beyond the data plane's */
	return e;
}

static void unsubscribe(struct mapcache *mc, const struct lisp_prefix *p);

static void entry_del(struct mapcache *mc, const struct lisp_prefix *p)
{
	struct mc_entry *e = ptable_lookup_exact(mc->t, p);

	if (e)
		slot_release(mc, e);
	unsubscribe(mc, p);
	if (mc->idx)
		lpmh_del(mc->idx, p);
	ptable_del(mc->t, p);
}

/* A configured entry shows its configured action again (what was learned over it is gone). */
static void revert(struct mapcache *mc, struct mc_entry *e)
{
	slot_release(mc, e);
	unsubscribe(mc, &e->p);
	e->nonce = 0;
	e->state = MC_NEGATIVE;
	e->act = e->conf_act;
	e->is_static = true;
	e->expires = 0;
	e->src_eid.afi = LISP_AFI_NONE;
	if (e->locs != e->inl)
		free(e->locs);
	e->locs = NULL;
	e->nloc = 0;
}

/* What was learned for e goes: a learned entry is removed, a configured one reverts. */
static void forget(struct mapcache *mc, struct mc_entry *e)
{
	if (e->configured)
		revert(mc, e);
	else
		entry_del(mc, &e->p);
}

static int index_one(const struct lisp_prefix *p, void *v, void *arg)
{
	lpmh_set(arg, p, v);
	return 0;
}

/*
 * Our RLOC of a family (ITR-RLOC field, outer source): the proxy-itr
 * address, else the first locator of our database-mappings.
 */
bool mc_local_rloc(struct mapcache *mc, uint16_t afi, struct lisp_addr *out)
{
	const struct xtr_conf *c = mc->local;
	const struct lisp_addr *pitr = afi == LISP_AFI_IPV4 ? &c->proxy_itr4 : &c->proxy_itr6;

	if (pitr->afi == afi) {
		*out = *pitr;
		return true;
	}
	for (size_t i = 0; i < c->ndbmaps; i++) {
		size_t n;
		const struct xtr_conf_locator *v = etr_locset_of(c, &c->dbmaps[i], &n);

		for (size_t j = 0; j < n; j++) {
			if (v[j].addr.afi == afi) {
				*out = v[j].addr;
				return true;
			}
			if (v[j].addr.afi == LISP_AFI_NONE && v[j].if_afi == afi &&
			    mc->io.if_addr(mc->io.arg, v[j].ifname, afi, out) == 0)
				return true;
		}
	}
	return false;
}

/* An ECM Map-Request for prefix p (iid in p) to the first map-resolver we can use. */
static void send_request(struct mapcache *mc, struct mc_entry *e, bool smr_invoked, double now)
{
	const struct xtr_conf_itr *c = mc->conf;
	struct lisp_map_request q = { .smr_invoked = smr_invoked, .itr_rloc_count = 1 };
	struct lisp_ecm ecm = {
		.inner = { .sport = LISP_CONTROL_PORT, .dport = LISP_CONTROL_PORT, .ttl = 64 }
	};
	struct buf_writer w;
	size_t len;
	double t;

	if (!slot_take(mc, e)) {
		e->next_req = now + REQ_INTERVAL; /* again at a tick, if there is room then */
		return;
	}
	/* the host whose packet made us ask (RFC 9301 §5.3); none for a refresh or an SMR */
	q.src_eid.iid = e->p.iid;
	if (e->src_eid.afi == e->p.addr.afi)
		q.src_eid.addr = e->src_eid;
	q.nonce = random_nonce();
	if (mc->sub_key && now >= mc->sub_refused_until) {
		q.xtr_id_present = q.notify = true;
		memcpy(q.xtr_id, c->sub_xtr_id, 16);
		q.site_id = c->sub_site_id;
	}
	for (size_t i = 0; i < c->nmap_resolvers; i++) {
		const struct lisp_addr *mr = &c->map_resolvers[i];

		/* the inner header goes from our RLOC to the EID: one family for both */
		if (mr->afi != e->p.addr.afi || !mc_local_rloc(mc, mr->afi, &q.itr_rlocs[0]))
			continue;
		buf_writer_init(&w, mc->req, sizeof(mc->req));
		if (lisp_msg_encode_map_request(&w, &q, &e->p, 1) < 0)
			return;
		len = w.off;
		ecm.inner.src = q.itr_rlocs[0];
		ecm.inner.dst = e->p.addr;
		buf_writer_init(&w, mc->out, sizeof(mc->out));
		t = evh_now();
		if (lisp_msg_encode_ecm(&w, &ecm, mc->req, len) < 0 ||
		    mc->io.send(mc->io.arg, mr, LISP_CONTROL_PORT, mc->out, w.off) < 0)
			continue;
		e->nonce = q.nonce;
		mc->req_nonce[e->slot - 1] = q.nonce;
		if (q.notify) {
			struct mc_subreq *sr = &mc->sreq[mc->sreq_next++ % SUB_REQS];

			if (sr->nonce && !sr->confirmed)
				mc->c.subs_unconfirmed++; /* the oldest waiting: overwritten */
			*sr = (struct mc_subreq){ .nonce = q.nonce, .q = e->p, .at = now };
			mc->c.subs_requested++;
		}
		e->smr_invoked = smr_invoked;
		e->next_req = now + REQ_INTERVAL;
		mc->c.requests_sent++;
		evh_add_at(mc->io.evh, t, smr_invoked ? "map-request-smr" : "map-request", &e->p,
			   mr, NULL);
		return;
	}
	mc->c.requests_unsendable++; /* no map-resolver of the EID's family with an RLOC of ours */
	e->next_req = now + REQ_INTERVAL;
}

int mc_resolve_from(struct mapcache *mc, uint32_t iid, const struct lisp_addr *a,
		    const struct lisp_addr *src, double now)
{
	struct lisp_prefix host;
	struct mc_entry *e = ptable_lookup(mc->t, iid, a, NULL), *h;

	if (e && (e->state != MC_NEGATIVE || e->act != LISP_ACT_SEND_MAP_REQUEST))
		return e->state == MC_PENDING ? -EINPROGRESS : -EEXIST;
	lisp_prefix_from_addr(&host, iid, a);
	h = ptable_lookup_exact(mc->t, &host);
	/*
	 * A send-map-request entry: one Map-Request a second about it, for
	 * whatever it covers if it was learned (an answer removes the host's
	 * pending entry, and the next packet would ask again at once);
	 * a configured one covers all we resolve, so only about itself.
	 */
	if (e && (h == e || !e->configured) && now < e->next_req)
		return -EINPROGRESS;
	if (!h && slot_admit(mc, iid) < 0)
		return -EBUSY;
	if (!h) {
		h = entry_add(mc, &host, now);
		if (!h)
			return -ENOSPC;
		h->state = MC_PENDING;
	}
	h->src_eid = src ? *src : (struct lisp_addr){ .afi = LISP_AFI_NONE };
	send_request(mc, h, false, now);
	if (e && e != h)
		e->next_req = now + REQ_INTERVAL;
	return 0;
}

int mc_resolve(struct mapcache *mc, uint32_t iid, const struct lisp_addr *a, double now)
{
	return mc_resolve_from(mc, iid, a, NULL, now);
}

/* RLOC-probing */

/* The probing slot of addr, or NULL. */
static struct mc_rloc *rloc_slot(struct mapcache *mc, const struct lisp_addr *addr)
{
	for (size_t i = 0; i < mc->nrlocs; i++)
		if (lisp_addr_equal(&mc->rlocs[i].addr, addr))
			return &mc->rlocs[i];
	return NULL;
}

/* The next probe time: interval ±20 % (from lib/platform's random). */
static double probe_next(const struct mapcache *mc, double now)
{
	uint32_t r = 0;

	platform_random(&r, sizeof(r));
	return now + mc->conf->probe_ms / 1000.0 * (0.8 + 0.4 * (r / 4294967296.0));
}

/*
 * addr is a locator of eid: watched from now on (first probed within an
 * interval). Returns whether the probes found it down.
 */
static bool probe_watch(struct mapcache *mc, const struct lisp_addr *addr,
			const struct lisp_prefix *eid, double now)
{
	struct mc_rloc *s;

	if (!mc->rlocs || (addr->afi != LISP_AFI_IPV4 && addr->afi != LISP_AFI_IPV6))
		return false;
	s = rloc_slot(mc, addr);
	if (s) {
		s->eid = *eid;
		return s->down;
	}
	for (size_t i = 0; i < PROBE_RLOCS && !s; i++)
		if (mc->rlocs[i].addr.afi == LISP_AFI_NONE)
			s = &mc->rlocs[i];
	if (!s) {
		mc->c.probe_overflows++;
		return false;
	}
	*s = (struct mc_rloc){ .addr = *addr, .eid = *eid, .next = probe_next(mc, now) };
	if ((size_t)(s - mc->rlocs) >= mc->nrlocs)
		mc->nrlocs = (size_t)(s - mc->rlocs) + 1;
	return false;
}

struct rloc_mark {
	const struct lisp_addr *addr;
	bool up;
	struct lisp_prefix *eid; /* probe_in_use: an entry that still has it */
};

static int mark_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct mc_entry *e = v;
	struct rloc_mark *m = arg;

	for (uint8_t i = 0; i < e->nloc; i++) {
		if (!lisp_addr_equal(&e->locs[i].addr, m->addr))
			continue;
		if (m->eid) { /* only looking */
			*m->eid = *p;
			return 1;
		}
		e->locs[i].up = m->up;
	}
	return 0;
}

/* The probes changed their mind about s: every entry's locator at that address follows. */
static void probe_mark(struct mapcache *mc, struct mc_rloc *s, bool down)
{
	char a[LISP_ADDR_STRLEN];
	struct rloc_mark m = { .addr = &s->addr, .up = !down };

	s->down = down;
	ptable_walk(mc->t, NULL, mark_one, &m);
	down ? mc->c.rlocs_down++ : mc->c.rlocs_up++;
	evh_add(mc->io.evh, down ? "rloc-down" : "rloc-up", &s->eid, &s->addr,
		down ? "%u probes unanswered" : "a probe answered", s->misses);
	log_info("map-cache: locator %s %s (RLOC-probing)",
		 lisp_addr_format(&s->addr, a, sizeof(a)),
		 down ? "down: probes unanswered" : "up again");
	if (mc->io.installed)
		mc->io.installed(mc->io.arg);
}

/* Whether an entry still has s's address as a locator (its probes' EID refreshed), else frees s. */
static bool probe_in_use(struct mapcache *mc, struct mc_rloc *s)
{
	struct lisp_prefix found = { .addr = { .afi = LISP_AFI_NONE } };
	struct rloc_mark m = { .addr = &s->addr, .eid = &found };
	struct mc_entry *e = ptable_lookup_exact(mc->t, &s->eid);

	for (uint8_t i = 0; e && i < e->nloc; i++)
		if (lisp_addr_equal(&e->locs[i].addr, &s->addr))
			return true;
	ptable_walk(mc->t, NULL, mark_one, &m);
	if (found.addr.afi != LISP_AFI_NONE) {
		s->eid = found;
		return true;
	}
	s->addr.afi = LISP_AFI_NONE;
	return false;
}

/* The RLOC-probe of s: a Map-Request with the P bit, straight to the locator. */
static void probe_send(struct mapcache *mc, struct mc_rloc *s)
{
	struct lisp_map_request q = { .probe = true, .itr_rloc_count = 1, .nonce = random_nonce() };
	struct buf_writer w;

	if (!mc_local_rloc(mc, s->addr.afi, &q.itr_rlocs[0]))
		return;
	q.src_eid.iid = s->eid.iid;
	buf_writer_init(&w, mc->req, sizeof(mc->req));
	if (lisp_msg_encode_map_request(&w, &q, &s->eid, 1) < 0 ||
	    mc->io.send(mc->io.arg, &s->addr, LISP_CONTROL_PORT, mc->req, w.off) < 0)
		return;
	s->nonce = q.nonce;
	mc->c.probes_sent++;
}

void mc_probe_tick(struct mapcache *mc, double now)
{
	for (size_t i = 0; mc->rlocs && i < mc->nrlocs; i++) {
		struct mc_rloc *s = &mc->rlocs[i];

		if (s->addr.afi == LISP_AFI_NONE || now < s->next)
			continue;
		if (!probe_in_use(mc, s))
			continue;
		if (s->nonce && ++s->misses >= mc->conf->probe_misses && !s->down)
			probe_mark(mc, s, true);
		probe_send(mc, s);
		s->next = probe_next(mc, now);
	}
}

/* A Map-Reply with the P bit: the answer to one of our probes, or nothing. */
static void probe_reply(struct mapcache *mc, const struct lisp_addr *src,
			const struct lisp_map_reply *m)
{
	for (size_t i = 0; mc->rlocs && i < mc->nrlocs; i++) {
		struct mc_rloc *s = &mc->rlocs[i];

		if (s->addr.afi == LISP_AFI_NONE || !s->nonce || s->nonce != m->nonce)
			continue;
		if (!lisp_addr_equal(&s->addr, src))
			break; /* another source: not the locator's answer */
		s->nonce = 0;
		s->misses = 0;
		mc->c.probe_replies++;
		if (s->down)
			probe_mark(mc, s, false);
		return;
	}
	mc->c.replies_unsolicited++;
}

/*
 * Installs record r, an answer to our request: true if the entry for its
 * prefix now holds it (TTL 0: it is gone). A configured prefix keeps its
 * action against a negative answer (a positive one is used over it until
 * it expires or is cleared; then the configured action is back). The
 * entry asks nothing before next_req (when the question was asked + 1 s).
 */
static bool install(struct mapcache *mc, const struct lisp_eid_record *r,
		    const struct lisp_addr *src, double next_req, double now)
{
	char a[LISP_ADDR_STRLEN];

	struct mc_entry *e = ptable_lookup_exact(mc->t, &r->eid);
	struct lisp_locator l;
	struct lisp_iter it;

	if (r->ttl == 0) {
		if (e)
			forget(mc, e);
		evh_add(mc->io.evh, "map-cache-removed", &r->eid, src, NULL);
		return true;
	}
	if (e && e->configured && !r->loc_count) {
		revert(mc, e); /* a positive answer learned over it is withdrawn as well */
		evh_add(mc->io.evh, "map-cache-kept", &r->eid, src,
			"configured, the negative answer not used");
		return false;
	}
	if (!e)
		e = entry_add(mc, &r->eid, now);
	if (!e)
		return false;
	e->is_static = false;
	e->updated = now;
	if (e->next_req < next_req)
		e->next_req = next_req;
	e->expires = r->ttl == 0xffffffffu ? 0 : now + xtr_ttl_seconds(r->ttl);
	slot_release(mc, e); /* answered, also when it was waiting for an answer of its own */
	e->nonce = 0;
	e->tries = 0;
	e->src_eid.afi = LISP_AFI_NONE;
	e->state = r->loc_count ? MC_COMPLETE : MC_NEGATIVE;
	e->act = r->act;
	if (e->locs != e->inl)
		free(e->locs);
	e->locs = r->loc_count <= MC_INLINE_LOCS ? e->inl : xcalloc(r->loc_count, sizeof(*e->locs));
	memset(e->inl, 0, sizeof(e->inl));
	e->nloc = 0;
	lisp_locator_iter_init(&it, r);
	while (e->nloc < r->loc_count && lisp_locator_iter_next(&it, &l)) {
		struct mc_locator *m = &e->locs[e->nloc++];

		m->addr = l.addr[0];
		m->priority = l.priority;
		m->weight = l.weight;
		m->up = l.reachable && !probe_watch(mc, &m->addr, &e->p, now);
		m->since = now;
	}
	if (e->nloc)
		evh_add(mc->io.evh, "map-cache", &r->eid, src, "-> %s%s",
			lisp_addr_format(&e->locs[0].addr, a, sizeof(a)),
			e->nloc > 1 ? " (and more)" : "");
	else
		evh_add(mc->io.evh, "map-cache", &r->eid, src, "negative");
	return true;
}

/*
 * The record of m that answers a request for q: the most specific of
 * those of the same instance-id whose prefix covers q (the replier's best
 * match). False if none does.
 */
static bool answer_of(const struct lisp_map_reply *m, const struct lisp_prefix *q,
		      struct lisp_eid_record *best)
{
	struct lisp_eid_record r;
	struct lisp_iter it;
	bool found = false;

	lisp_record_iter_init(&it, &m->records);
	while (lisp_record_iter_next(&it, &r)) {
		if (lisp_prefix_contains(&r.eid, q) && (!found || r.eid.plen > best->eid.plen)) {
			*best = r;
			found = true;
		}
	}
	return found;
}

/* A record that answers no question of ours (another table, another prefix): not installed. */
static void refuse(struct mapcache *mc, const struct lisp_eid_record *r,
		   const struct lisp_prefix *q, const struct lisp_addr *src)
{
	char rp[LISP_PREFIX_STRLEN], qp[LISP_PREFIX_STRLEN], sa[LISP_ADDR_STRLEN];

	mc->c.records_refused++;
	log_warn_rl(&mc->rl,
		    "map-cache: map-reply from %s: record %s does not answer the request for %s: "
		    "refused",
		    lisp_addr_format(src, sa, sizeof(sa)),
		    lisp_prefix_format(&r->eid, rp, sizeof(rp)),
		    lisp_prefix_format(q, qp, sizeof(qp)));
}

/*
 * The answer a to the request for q, a covering prefix other than q: the
 * entry of q goes; learned negative entries between a and q would hide a
 * for q (holes the mapping system no longer gives) and go too; where a
 * configured entry between them keeps its prefix, a is installed for q
 * itself (else every packet for q would ask again).
 */
static void settle(struct mapcache *mc, const struct lisp_prefix *q,
		   const struct lisp_eid_record *a, const struct lisp_addr *src, double next_req,
		   double now)
{
	struct mc_entry *e = ptable_lookup_exact(mc->t, q);
	struct lisp_eid_record here;

	if (e)
		forget(mc, e);
	for (;;) {
		e = ptable_lookup_exact(mc->t, q);
		if (!e)
			e = ptable_lookup_covering(mc->t, q, NULL);
		if (!e || e->p.plen < a->eid.plen)
			return; /* the answer is not cached (no room, or TTL 0) */
		if (e->configured || e->state != MC_NEGATIVE || e->p.plen == a->eid.plen)
			break;
		entry_del(mc, &e->p);
	}
	if (a->ttl && e->is_static && !lisp_prefix_equal(&e->p, q)) {
		here = *a;
		here.eid = *q;
		install(mc, &here, src, next_req, now);
	}
}

/* The subscribing request with this nonce, or NULL. */
static struct mc_subreq *subreq_of(struct mapcache *mc, uint64_t nonce)
{
	for (size_t i = 0; nonce && i < SUB_REQS; i++)
		if (mc->sreq[i].nonce == nonce)
			return &mc->sreq[i];
	return NULL;
}

/* The entry waiting for the reply with this nonce (its slot freed), or NULL. */
static struct mc_entry *pending_for(struct mapcache *mc, uint64_t nonce)
{
	struct mc_entry *e;

	for (size_t i = 0; nonce && i < mc->nslots; i++) {
		if (mc->req_nonce[i] != nonce)
			continue;
		e = ptable_lookup_exact(mc->t, &mc->req_p[i]);
		if (!e || e->nonce != nonce)
			return NULL;
		e->nonce = 0;
		slot_release(mc, e);
		return e;
	}
	return NULL;
}

/* A control message from src about entry e: counted on e's locator at that address. */
static void count_control(struct mc_entry *e, const struct lisp_addr *src)
{
	for (uint8_t i = 0; e && i < e->nloc; i++) {
		if (lisp_addr_equal(&e->locs[i].addr, src)) {
			e->locs[i].control_in++;
			return;
		}
	}
}

static void handle_reply(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
			 size_t len, double now)
{
	struct lisp_map_reply m;
	struct lisp_eid_record r, best;
	struct lisp_prefix q;
	struct lisp_iter it;
	struct mc_entry *pending, *now_e;
	struct lisp_addr asker;
	bool answered, at_q = false;
	double next_req;

	if (lisp_msg_decode_map_reply(buf, len, &m) < 0) {
		mc->c.malformed++;
		return;
	}
	if (m.probe) {
		probe_reply(mc, src, &m);
		return;
	}
	pending = pending_for(mc, m.nonce);
	if (!pending && subreq_of(mc, m.nonce) && subreq_of(mc, m.nonce)->confirmed) {
		mc->c.replies++; /* its confirmation came first and installed the answer */
		subreq_of(mc, m.nonce)->nonce = 0;
		return;
	}
	if (!pending) {
		mc->c.replies_unsolicited++; /* never install what we did not ask for */
		return;
	}
	mc->c.replies++;
	q = pending->p;
	next_req = pending->next_req;
	asker = pending->src_eid; /* (pending may be replaced by what the answer installs) */
	answered = answer_of(&m, &q, &best);
	if (answered && !best.loc_count &&
	    (best.act == LISP_ACT_DROP_POLICY || best.act == LISP_ACT_DROP_AUTH) &&
	    subreq_of(mc, m.nonce)) {
		char sa[LISP_ADDR_STRLEN];

		/* the subscription refused (RFC 9437): asked again without, not dropped */
		subreq_of(mc, m.nonce)->nonce = 0;
		mc->c.subs_refused++;
		mc->sub_refused_until = now + SUB_REFUSED_REST;
		log_warn_rl(&mc->rl_sub,
			    "map-cache: %s refused our subscription (%s): not subscribing for "
			    "%.0f s",
			    lisp_addr_format(src, sa, sizeof(sa)),
			    best.act == LISP_ACT_DROP_AUTH ? "authentication failure"
							   : "policy denied",
			    SUB_REFUSED_REST);
		pending->next_req = 0;
		send_request(mc, pending, pending->smr_invoked, now);
		return;
	}
	lisp_record_iter_init(&it, &m.records);
	while (lisp_record_iter_next(&it, &r)) {
		/* the best match, and the more-specifics the replier adds inside it (RFC 9301 §5.5);
		 * without one, what lies inside the prefix asked about (a cached prefix asked again) */
		if (!lisp_prefix_contains(answered ? &best.eid : &q, &r.eid)) {
			refuse(mc, &r, &q, src);
			continue;
		}
		if (install(mc, &r, src, next_req, now) && lisp_prefix_equal(&r.eid, &q))
			at_q = true;
		count_control(ptable_lookup_exact(mc->t, &r.eid), src);
	}
	/* nothing answered: a pending entry is asked again at its time */
	if (answered && !at_q)
		settle(mc, &q, &best, src, next_req, now);
	/*
	 * The learned entry that now answers for the EID remembers the host whose
	 * packet made us ask: its SMR-invoked and refresh requests name it as
	 * Source-EID too (RFC 9301 §5.3; spec TV6).
	 */
	now_e = ptable_lookup(mc->t, q.iid, &q.addr, NULL);
	if (now_e && !now_e->is_static && now_e->state != MC_PENDING && asker.afi != LISP_AFI_NONE)
		now_e->src_eid = asker;
	if (mc->io.installed)
		mc->io.installed(mc->io.arg);
}

/*
 * A Solicit-Map-Request: the mapping of its Source-EID changed. If we
 * cache it, ask again through the mapping system (never the SMR's sender),
 * at most every 3 s; the entry is used until the answer comes.
 */
static void handle_smr(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
		       size_t len, double now)
{
	struct lisp_map_request q;
	struct mc_entry *e;

	if (lisp_msg_decode_map_request(buf, len, &q) < 0 || !q.smr) {
		mc->c.malformed++;
		return;
	}
	mc->c.smrs++;
	if (q.src_eid.addr.afi)
		evh_add(mc->io.evh, "smr-received", &q.src_eid, src, NULL);
	e = q.src_eid.addr.afi ? ptable_lookup(mc->t, q.src_eid.iid, &q.src_eid.addr, NULL) : NULL;
	count_control(e, src);
	/* one request per SMR interval for one change: a mapping installed since is a new one */
	if (!e || e->is_static ||
	    (e->last_smr && now - e->last_smr < SMR_INTERVAL && e->updated <= e->last_smr))
		return;
	e->last_smr = now;
	send_request(mc, e, true, now);
}

/* Publish/subscribe */

/* The subscription holding p (its own prefix, else the longest covering one), or NULL. */
static struct mc_sub *sub_holding(struct mapcache *mc, const struct lisp_prefix *p)
{
	struct mc_sub *s = ptable_lookup_exact(mc->subs, p);

	return s ? s : ptable_lookup_covering(mc->subs, p, NULL);
}

/* The ECM Map-Request that ends our subscription to p (RFC 9437: N bit, ITR-RLOC AFI 0). */
static void unsubscribe(struct mapcache *mc, const struct lisp_prefix *p)
{
	const struct xtr_conf_itr *c = mc->conf;
	struct lisp_map_request q = { .itr_rloc_count = 1, .notify = true, .xtr_id_present = true };
	struct lisp_ecm ecm = {
		.inner = { .sport = LISP_CONTROL_PORT, .dport = LISP_CONTROL_PORT, .ttl = 64 }
	};
	struct mc_sub *s = ptable_lookup_exact(mc->subs, p);
	struct buf_writer w;
	size_t len;

	if (!s)
		return;
	ptable_del(mc->subs, p);
	mc->c.unsubscribes++;
	evh_add(mc->io.evh, "unsubscribe", p, NULL, NULL);
	if (!c || !mc->sub_key)
		return;
	memcpy(q.xtr_id, c->sub_xtr_id, 16);
	q.site_id = c->sub_site_id;
	q.nonce = random_nonce();
	q.src_eid.iid = p->iid;
	for (size_t i = 0; i < c->nmap_resolvers; i++) {
		const struct lisp_addr *mr = &c->map_resolvers[i];

		if (mr->afi != p->addr.afi || !mc_local_rloc(mc, mr->afi, &ecm.inner.src))
			continue;
		buf_writer_init(&w, mc->req, sizeof(mc->req));
		if (lisp_msg_encode_map_request(&w, &q, p, 1) < 0)
			return;
		len = w.off;
		ecm.inner.dst = p->addr;
		buf_writer_init(&w, mc->out, sizeof(mc->out));
		if (lisp_msg_encode_ecm(&w, &ecm, mc->req, len) == 0 &&
		    mc->io.send(mc->io.arg, mr, LISP_CONTROL_PORT, mc->out, w.off) == 0)
			return;
	}
}

/* A Map-Notify we took: the same message as a Map-Notify-Ack (type 5), signed, to src. */
static void send_notify_ack(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
			    size_t len)
{
	const struct lisp_auth_field *a;
	struct lisp_map_notify m;

	if (len > sizeof(mc->out) || lisp_msg_decode_map_notify(buf, len, &m) < 0)
		return;
	a = &m.auth;
	memcpy(mc->out, buf, len);
	mc->out[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY_ACK << 4 | (mc->out[0] & 0x0f));
	memset(mc->out + LISP_AUTH_DATA_OFF, 0, a->len);
	if (lisp_auth_sign(mc->sub_key, mc->out, len) < 0)
		return;
	if (mc->io.send(mc->io.arg, src, LISP_CONTROL_PORT, mc->out, len) == 0)
		mc->c.notify_acks_sent++;
}

/* Why a Map-Notify is not ours to take, or NULL when it is (*sr, *sub: what it belongs to). */
static const char *notify_claim(struct mapcache *mc, const struct lisp_addr *src,
				const struct lisp_map_notify *m, struct lisp_eid_record *r,
				struct mc_subreq **sr, struct mc_sub **sub)
{
	struct lisp_iter it;

	*sr = NULL;
	*sub = NULL;
	lisp_record_iter_init(&it, &m->records);
	if (m->ack || m->records.count != 1 || !lisp_record_iter_next(&it, r))
		return "not one record";
	*sr = subreq_of(mc, m->nonce);
	if (*sr && (*sr)->confirmed)
		return "confirmed before (a replay?)";
	if (*sr) /* a confirmation: its record answers what we asked */
		return lisp_prefix_contains(&r->eid, &(*sr)->q)
			       ? NULL
			       : "its record answers another question";
	*sub = sub_holding(mc, &r->eid);
	if (!*sub)
		return "no subscription holds its prefix";
	if (!lisp_addr_equal(src, &(*sub)->ms))
		return "not from the Map-Server of the subscription";
	if (m->nonce - (*sub)->last - 1 >= SUB_WINDOW)
		return "its nonce is not above the last one taken (a replay?)";
	return NULL;
}

bool mc_takes_notify(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
		     size_t len)
{
	struct lisp_map_notify m;
	struct lisp_eid_record r;
	struct mc_subreq *sr;
	struct mc_sub *sub;

	if (!mc->sub_key || (!mc->c.subs_requested && !ptable_count(mc->subs)) ||
	    lisp_msg_type(buf, len) != LISP_TYPE_MAP_NOTIFY ||
	    lisp_msg_decode_map_notify(buf, len, &m) < 0)
		return false;
	return notify_claim(mc, src, &m, &r, &sr, &sub) == NULL;
}

/* A confirmation or a publication (RFC 9437). */
static void handle_notify(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
			  size_t len, double now)
{
	char sa[LISP_ADDR_STRLEN], pb[LISP_PREFIX_STRLEN];
	struct lisp_map_notify m;
	struct lisp_eid_record r;
	struct mc_subreq *sr;
	struct mc_sub *sub;
	const char *why;

	if (!mc->sub_key || lisp_msg_decode_map_notify(buf, len, &m) < 0) {
		mc->c.malformed++;
		return;
	}
	why = notify_claim(mc, src, &m, &r, &sr, &sub);
	if (!why && lisp_auth_verify(mc->sub_key, buf, len) < 0)
		why = "its authentication fails";
	if (why) {
		mc->c.publications_refused++;
		log_warn_rl(&mc->rl_sub, "map-cache: Map-Notify from %s refused: %s",
			    lisp_addr_format(src, sa, sizeof(sa)), why);
		return;
	}
	if (sr) {
		sub = ptable_lookup_exact(mc->subs, &r.eid);
		if (!sub) {
			sub = xcalloc(1, sizeof(*sub));
			sub->p = r.eid;
			if (ptable_add(mc->subs, &sub->p, sub) < 0) {
				free(sub);
				return;
			}
		}
		sub->ms = *src;
		sub->last = m.nonce;
		sub->since = now;
		sr->confirmed = true;
		mc->c.subs_confirmed++;
		evh_add(mc->io.evh, "subscribed", &r.eid, src, NULL);
	} else {
		sub->last = m.nonce;
		sub->publications++;
		mc->c.publications++;
		evh_add(mc->io.evh, "publication", &r.eid, src, r.ttl ? NULL : "withdrawn");
		if (r.ttl == 0 && lisp_prefix_equal(&r.eid, &sub->p))
			ptable_del(mc->subs, &r.eid); /* over: the Map-Server forgets it too */
	}
	send_notify_ack(mc, src, buf, len);
	if (install(mc, &r, src, 0, now)) {
		log_debug(LOG_MAPCACHE, "map-cache: %s of %s from %s installed",
			  sr ? "confirmation" : "publication",
			  lisp_prefix_format(&r.eid, pb, sizeof(pb)),
			  lisp_addr_format(src, sa, sizeof(sa)));
		if (mc->io.installed)
			mc->io.installed(mc->io.arg);
	}
}

void mc_input(struct mapcache *mc, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	      size_t len, double now)
{
	(void)sport;
	switch (lisp_msg_type(buf, len)) {
	case LISP_TYPE_MAP_REPLY:
		handle_reply(mc, src, buf, len, now);
		break;
	case LISP_TYPE_MAP_NOTIFY:
		handle_notify(mc, src, buf, len, now);
		break;
	case LISP_TYPE_MAP_REQUEST:
		handle_smr(mc, src, buf, len, now);
		break;
	default:
		mc->c.malformed++;
		break;
	}
}

/* Collect filter: entries to act on at a tick (expired, or a request due) at *arg. */
static bool due(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct mc_entry *e = v;
	double now = *(const double *)arg;

	(void)p;
	return (!e->is_static && e->expires && e->expires <= now) ||
	       (e->state == MC_PENDING && e->next_req <= now) ||
	       (e->nonce && e->state != MC_PENDING && e->next_req <= now);
}

void mc_tick(struct mapcache *mc, double now)
{
	void **v;
	size_t n = ptable_collect(mc->t, NULL, due, &now, NULL, &v);

	mc_probe_tick(mc, now);
	for (size_t i = 0; i < SUB_REQS; i++) {
		if (mc->sreq[i].nonce && now - mc->sreq[i].at >= SUB_CONFIRM_WAIT) {
			/* no confirmation: SMRs keep the entry current */
			mc->c.subs_unconfirmed += !mc->sreq[i].confirmed;
			mc->sreq[i].nonce = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct mc_entry *e = v[i];

		if (!e->is_static && e->expires && e->expires <= now) {
			mc->c.expirations++;
			forget(mc, e);
			continue;
		}
		if (++e->tries >= REQ_TRIES) { /* unanswered: rest, then start again */
			e->tries = 0;
			e->next_req = now + REQ_REST;
			continue;
		}
		send_request(mc, e, e->smr_invoked, now);
	}
	free(v);
}

/* Collect filter: configured entries the configuration (*arg) no longer has. */
static bool stale_static(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct xtr_conf_itr *conf = *(const struct xtr_conf_itr **)arg;
	const struct mc_entry *e = v;

	if (!e->configured)
		return false;
	for (size_t i = 0; i < conf->nmapcache; i++)
		if (lisp_prefix_equal(&conf->mapcache[i].p, p))
			return false;
	return true;
}

size_t mc_count(const struct mapcache *mc)
{
	return ptable_count(mc->t);
}

const struct mc_counters *mc_counters(const struct mapcache *mc)
{
	return &mc->c;
}

struct walk_info {
	mc_walk_fn fn;
	void *arg;
	uint16_t afi;
};

static int walk_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct walk_info *w = arg;
	const struct mc_entry *e = v;
	struct mc_info info = { .p = *p,
				.state = e->state,
				.act = e->act,
				.is_static = e->is_static,
				.created = e->created,
				.expires = e->expires,
				.nloc = e->nloc,
				.locs = e->locs };

	if (p->addr.afi != w->afi)
		return 0;
	return w->fn(&info, w->arg);
}

int mc_walk(const struct mapcache *mc, uint16_t afi, const struct lisp_prefix *under, mc_walk_fn fn,
	    void *arg)
{
	struct walk_info w = { .fn = fn, .arg = arg, .afi = afi };

	return ptable_walk(mc->t, under, walk_one, &w);
}

int mc_clear(struct mapcache *mc, const struct lisp_prefix *under)
{
	void **v;
	size_t nv = ptable_collect(mc->t, under, NULL, NULL, NULL, &v);
	int n = 0;

	for (size_t i = 0; i < nv; i++) {
		struct mc_entry *e = v[i];

		if (e->is_static)
			continue;
		forget(mc, e);
		n++;
	}
	free(v);
	return n;
}

struct renumber {
	struct mapcache *mc;
	uint64_t *nonce; /* the old slots' */
};

static int renumber_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct renumber *r = arg;
	struct mapcache *mc = r->mc;
	struct mc_entry *e = v;

	(void)p;
	if (!e->slot)
		return 0;
	if (mc->used == mc->nslots) { /* fewer slots now: its answer will be unsolicited */
		e->slot = 0;
		e->nonce = 0;
		return 0;
	}
	mc->req_nonce[mc->used] = r->nonce[e->slot - 1];
	mc->req_p[mc->used] = e->p;
	e->slot = ++mc->used;
	return 0;
}

/* Slots for n resolutions outstanding, per_iid of them for one table (renumbered if n changes). */
static void slots_configure(struct mapcache *mc, size_t n, size_t per_iid)
{
	struct renumber r = { .mc = mc, .nonce = mc->req_nonce };
	struct lisp_prefix *old_p = mc->req_p;

	mc->per_iid = per_iid;
	if (n == mc->nslots)
		return;
	mc->req_nonce = xcalloc(n, sizeof(*mc->req_nonce));
	mc->req_p = xcalloc(n, sizeof(*mc->req_p));
	mc->nslots = n;
	mc->used = 0;
	ptable_walk(mc->t, NULL, renumber_one, &r);
	free(r.nonce);
	free(old_p);
}

void mc_configure(struct mapcache *mc, const struct xtr_conf_itr *conf,
		  const struct xtr_conf *local, double now)
{
	void **stale;
	size_t n = ptable_collect(mc->t, NULL, stale_static, &conf, NULL, &stale);

	for (size_t i = 0; i < n; i++) {
		struct mc_entry *e = stale[i];

		/* what was learned over it stays until it expires */
		e->configured = false;
		if (e->is_static)
			entry_del(mc, &e->p);
	}
	free(stale);
	mc->conf = conf;
	mc->local = local;
	lisp_auth_key_free(mc->sub_key);
	mc->sub_key = conf->subscribe ? lisp_auth_key_new(conf->sub_key, conf->sub_keylen) : NULL;
	if (!conf->probe_ms && mc->rlocs) { /* probing off: what it took down is up again */
		for (size_t i = 0; i < mc->nrlocs; i++)
			if (mc->rlocs[i].addr.afi != LISP_AFI_NONE && mc->rlocs[i].down)
				probe_mark(mc, &mc->rlocs[i], false);
		free(mc->rlocs);
		mc->rlocs = NULL;
		mc->nrlocs = 0;
	} else if (conf->probe_ms && !mc->rlocs) {
		mc->rlocs = xcalloc(PROBE_RLOCS, sizeof(*mc->rlocs));
	}
	if (!mc->sub_key) { /* not subscribing (any more): the Map-Server forgets them unacknowledged */
		ptable_free(mc->subs);
		mc->subs = ptable_new(free);
		memset(mc->sreq, 0, sizeof(mc->sreq));
	}
	if (!mc->idx || mc->limit != conf->map_cache_limit) { /* the index is sized by the limit */
		lpmh_free(mc->idx);
		mc->idx = lpmh_new(conf->map_cache_limit + conf->nmapcache);
		if (!mc->idx)
			fatal("map-cache: out of memory for %zu entries", conf->map_cache_limit);
		ptable_walk(mc->t, NULL, index_one, mc->idx);
	}
	mc->limit = conf->map_cache_limit;
	slots_configure(mc, conf->mr_limit, conf->mr_limit_iid);
	/* static entries: re-made from the configuration */
	for (size_t i = 0; i < conf->nmapcache; i++) {
		const struct xtr_conf_mapcache *s = &conf->mapcache[i];
		struct mc_entry *e = ptable_lookup_exact(mc->t, &s->p);

		if (!e)
			e = entry_add(mc, &s->p, now);
		if (!e)
			continue;
		e->configured = true;
		e->conf_act = s->act;
		/* a positive answer learned for a prefix to resolve stays until it expires */
		if (e->is_static)
			e->act = s->act;
		else if (e->state != MC_COMPLETE || s->act != LISP_ACT_SEND_MAP_REQUEST)
			revert(mc, e);
	}
}

void mc_lookup_batch(const struct mapcache *mc, size_t n, const uint32_t *iid,
		     const struct lisp_addr *a, struct mc_fwd *out)
{
	void *found[MC_BATCH];

	for (size_t off = 0; off < n; off += MC_BATCH) {
		size_t k = n - off < MC_BATCH ? n - off : MC_BATCH;

		lpmh_lookup_batch(mc->idx, k, iid + off, a + off, found);
		for (size_t i = 0; i < k; i++)
			if (found[i])
				__builtin_prefetch(found[i]), /* state, locs, first locator */
					__builtin_prefetch((const char *)found[i] + 64);
		for (size_t i = 0; i < k; i++) {
			const struct mc_entry *e = found[i];
			struct mc_fwd *f = &out[off + i];

			if (!e) {
				f->state = MC_MISS;
				continue;
			}
			f->state = e->state;
			f->act = e->act;
			f->nloc = e->nloc;
			f->locs = e->locs;
			if (e->locs)
				__builtin_prefetch(e->locs); /* the pipeline picks one next */
		}
	}
}

size_t mc_sub_count(const struct mapcache *mc)
{
	return ptable_count(mc->subs);
}

struct sub_walk {
	mc_sub_fn fn;
	void *arg;
};

static int sub_walk_one(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct mc_sub *s = v;
	struct sub_walk *w = arg;
	struct mc_sub_info i = { .p = *p,
				 .ms = s->ms,
				 .last = s->last,
				 .since = s->since,
				 .publications = s->publications };

	return w->fn(&i, w->arg);
}

int mc_sub_walk(const struct mapcache *mc, mc_sub_fn fn, void *arg)
{
	struct sub_walk w = { .fn = fn, .arg = arg };

	return ptable_walk(mc->subs, NULL, sub_walk_one, &w);
}
