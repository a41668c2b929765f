/*
 * The Map-Server (RFC 9301 §8; spec/lisp-wire.md §5, §6, §10): sites and
 * their keys, registrations with expiry, strict-nonce, move notification
 * of the previous registrants (unsolicited Map-Notify and its
 * retransmission), the message dispatch and read access for the control
 * socket. The Map-Resolver is ms/mr.c, the state file ms/state.c. Packets
 * leave through ms->io; time comes from the caller.
 *
 * Registrations of one prefix (the rule; vmroam.conf(5) says it too).
 * A registrant is one xTR: its xTR-ID when the Map-Register carries one,
 * else its source address. Each keeps the locators it registered, for
 * its own lifetime; the prefix maps to the union of its live registrants'
 * locators (RFC 9301's merge semantics for the xTRs of a site):
 *  - a prefix shorter than a host (/32, /128) is a site's: two ETRs that
 *    each register their own locator are merged, never displace each
 *    other. An xTR registering from a new address (renumbered) updates
 *    its registrant when it sends an xTR-ID; without one it is a new
 *    registrant, and the old one lasts until it expires or withdraws
 *    (TTL 0). Neither is a move: nobody is notified.
 *  - a host prefix is a VM: registered with other locators than a current
 *    registrant's (and without the merge bit "a"), the host moved. The
 *    registrants with other locators are dropped and sent an unsolicited
 *    Map-Notify with the new locators, as are those of the covering
 *    prefix (not the registering xTR itself); the site counts a move. A
 *    Map-Notify is sent MS_NOTIFY_TRIES times at most, and a newer one for
 *    the same EID to the same address replaces it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/platform.h"
#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "lib/xalloc.h"
#include "xtr-gateway/ms/ms_int.h"

/* Wait after the n-th send of an unsolicited Map-Notify (RFC 9301 §5.7). */
static const double notify_wait[MS_NOTIFY_TRIES] = { 3, 3, 3, 6, 12, 24, 24 };

/* Locators, and the expiry heap */

void ms_set_locs(struct ms_registrant *r, const struct lisp_locator *l, uint8_t n)
{
	r->nloc = n;
	free(r->more);
	r->more = n > 1 ? xcalloc(n - 1, sizeof(*r->more)) : NULL;
	for (uint8_t i = 0; i < n; i++) {
		struct ms_loc *d = i == 0 ? &r->loc1 : &r->more[i - 1];

		d->addr = l[i].addr[0];
		d->priority = l[i].priority;
		d->weight = l[i].weight;
		d->mpriority = l[i].mpriority;
		d->mweight = l[i].mweight;
		d->reachable = l[i].reachable;
	}
}

void ms_loc_export(const struct ms_loc *m, struct lisp_locator *l)
{
	memset(l, 0, sizeof(*l));
	l->addr[0] = m->addr;
	l->naddr = 1;
	l->priority = m->priority;
	l->weight = m->weight;
	l->mpriority = m->mpriority;
	l->mweight = m->mweight;
	l->reachable = m->reachable;
}

static void heap_set(struct ms *ms, size_t i, struct ms_registrant *r)
{
	ms->heap[i] = r;
	r->heap_idx = (uint32_t)i;
}

static void heap_up(struct ms *ms, size_t i)
{
	struct ms_registrant *r = ms->heap[i];

	while (i > 0 && ms_expires(ms->heap[(i - 1) / 2]) > ms_expires(r)) {
		heap_set(ms, i, ms->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(ms, i, r);
}

static void heap_down(struct ms *ms, size_t i)
{
	struct ms_registrant *r = ms->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ms->nheap)
			break;
		if (c + 1 < ms->nheap && ms_expires(ms->heap[c + 1]) < ms_expires(ms->heap[c]))
			c++;
		if (ms_expires(ms->heap[c]) >= ms_expires(r))
			break;
		heap_set(ms, i, ms->heap[c]);
		i = c;
	}
	heap_set(ms, i, r);
}

void ms_heap_push(struct ms *ms, struct ms_registrant *r)
{
	if (ms->nheap == ms->capheap) {
		ms->capheap = ms->capheap ? ms->capheap * 2 : 64;
		ms->heap = xreallocarray(ms->heap, ms->capheap, sizeof(*ms->heap));
	}
	heap_set(ms, ms->nheap++, r);
	heap_up(ms, ms->nheap - 1);
}

static void heap_remove(struct ms *ms, struct ms_registrant *r)
{
	size_t i = r->heap_idx;
	struct ms_registrant *last = ms->heap[--ms->nheap];

	if (i == ms->nheap)
		return;
	heap_set(ms, i, last);
	heap_up(ms, i);
	heap_down(ms, last->heap_idx);
}

/* Registrations */

static void registrant_free(struct ms *ms, struct ms_registrant *r)
{
	heap_remove(ms, r);
	free(r->more);
	free(r);
}

static void reg_free(void *v)
{
	struct ms_reg *reg = v;

	/* registrants are released by the caller first (they sit in the heap) */
	free(reg);
}

/* Unlinks and frees r; deletes its registration when it was the last registrant. */
static void registrant_del(struct ms *ms, struct ms_registrant *r)
{
	struct ms_reg *reg = r->reg;
	struct ms_registrant **pp = &reg->regs;

	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	registrant_free(ms, r);
	ms->dirty = ms->urgent = true;
	if (!reg->regs)
		ptable_del(ms->regs, &reg->p);
}

static void reg_del(struct ms *ms, struct ms_reg *reg)
{
	while (reg->regs->next)
		registrant_del(ms, reg->regs);
	registrant_del(ms, reg->regs); /* the last one deletes reg */
}

static bool same_locs(const struct ms_registrant *r, const struct lisp_locator *locs, uint8_t n)
{
	if (r->nloc != n)
		return false;
	for (uint8_t i = 0; i < n; i++) {
		bool found = false;

		for (uint8_t j = 0; j < n && !found; j++)
			found = lisp_addr_equal(&ms_loc_at(r, i)->addr, &locs[j].addr[0]);
		if (!found)
			return false;
	}
	return true;
}

/* The configured prefix that allows p: p itself, or the longest covering one with accept-more-specifics. */
struct ms_cfg *ms_cfg_allowing(const struct ms *ms, const struct lisp_prefix *p)
{
	struct ms_cfg *c = ptable_lookup_exact(ms->cfg, p);

	if (c)
		return c;
	c = ptable_lookup_covering(ms->cfg, p, NULL);
	return c && c->ams ? c : NULL;
}

/* The configured prefix that holds p (equal or covering), allowed or not. */
static struct ms_cfg *cfg_holding(const struct ms *ms, const struct lisp_prefix *p)
{
	struct ms_cfg *c = ptable_lookup_exact(ms->cfg, p);

	return c ? c : ptable_lookup_covering(ms->cfg, p, NULL);
}

/* Sending */

/*
 * The nonce of a new unsolicited Map-Notify. Not random (spec §10.7 says
 * random) but a counter that follows the realtime clock: nanoseconds since
 * the epoch, and always above the last one, across restarts too while the
 * clock does not step back. The receiving ETR keeps a replay window per
 * Map-Server over them and, reading them as time, refuses those older than
 * its own start (etr/etr.c). A Map-Notify acknowledging a
 * Map-Register echoes that nonce instead.
 */
static uint64_t notify_nonce(struct ms *ms)
{
	uint64_t t = platform_realtime_ns();

	ms->notify_nonce = t > ms->notify_nonce ? t : ms->notify_nonce + 1;
	return ms->notify_nonce;
}

/* Drops the unacknowledged Map-Notify about eid to dst, if any (a newer one supersedes it). */
static void notify_forget(struct ms *ms, const struct lisp_addr *dst, const struct lisp_prefix *eid)
{
	for (struct ms_notify **pp = &ms->notifies; *pp; pp = &(*pp)->next) {
		struct ms_notify *nt = *pp;

		if (lisp_addr_equal(&nt->dst, dst) && lisp_prefix_equal(&nt->eid, eid)) {
			*pp = nt->next;
			free(nt);
			return;
		}
	}
}

/* An unsolicited Map-Notify to a previous registrant: p now maps to locs. */
static void notify_moved(struct ms *ms, struct ms_site *site, const struct ms_registrant *to,
			 const struct lisp_eid_record *rec, const struct lisp_locator *locs,
			 uint8_t n, double now)
{
	/* a registrant loaded from the state file has not told its algorithm yet: SHA-256 */
	uint8_t alg = to->alg == LISP_ALG_HMAC_SHA1_96 ? to->alg : LISP_ALG_HMAC_SHA256_128;
	struct lisp_map_notify m = { .nonce = notify_nonce(ms), .auth = { .alg_id = alg } };
	const struct lisp_addr *dst = &to->addr;
	struct lisp_eid_record r = *rec;
	struct ms_notify *nt;
	struct buf_writer w;

	r.locs = locs;
	r.loc_count = n;
	buf_writer_init(&w, ms->out, sizeof(ms->out));
	if (lisp_msg_encode_map_notify(&w, &m, &r, 1) < 0 ||
	    lisp_auth_sign(site->key, ms->out, w.off) < 0)
		return;
	notify_forget(ms, dst, &rec->eid);
	nt = xmalloc(sizeof(*nt) + w.off);
	nt->site = site;
	nt->nonce = m.nonce;
	nt->dst = *dst;
	nt->eid = rec->eid;
	nt->len = w.off;
	memcpy(nt->msg, ms->out, w.off);
	nt->sent = 1;
	nt->next_at = now + notify_wait[0];
	nt->next = ms->notifies;
	ms->notifies = nt;
	evh_add(ms->io.evh, "notify-moved", &rec->eid, dst, "site %s", site->name);
	ms->io.send(ms->io.arg, dst, LISP_CONTROL_PORT, nt->msg, nt->len);
	site->c.map_notifies_sent++;
}

/* The Map-Notify acknowledging a Map-Register: its nonce and ids, the records accepted, our MAC. */
static void send_ack(struct ms *ms, struct ms_site *site, const struct lisp_map_register *m,
		     const struct lisp_view *records, const struct lisp_addr *src, uint16_t sport)
{
	struct buf_writer w;

	buf_writer_init(&w, ms->out, sizeof(ms->out));
	buf_put_be32(&w, (uint32_t)LISP_TYPE_MAP_NOTIFY << 28 | records->count);
	buf_put_be64(&w, m->nonce);
	buf_put_u8(&w, m->auth.key_id);
	buf_put_u8(&w, m->auth.alg_id);
	buf_put_be16(&w, m->auth.len);
	buf_put_zero(&w, m->auth.len);
	buf_put_bytes(&w, records->p, records->len);
	if (w.err || lisp_auth_sign(site->key, ms->out, w.off) < 0)
		return;
	if (ms->io.send(ms->io.arg, src, sport, ms->out, w.off) == 0)
		site->c.map_notifies_sent++;
}

/* Map-Register */

static uint8_t collect_locs(struct ms *ms, const struct lisp_eid_record *rec)
{
	struct lisp_iter it;
	uint8_t n = 0;

	lisp_locator_iter_init(&it, rec);
	while (n < MS_LOCS_MAX && lisp_locator_iter_next(&it, &ms->locs[n]))
		n++;
	return n;
}

bool ms_locs_allowed(const struct ms_site *site, const struct lisp_locator *locs, uint8_t n)
{
	const struct xtr_conf_site *c = site->conf;

	if (c->nallowed == 0)
		return true;
	for (uint8_t i = 0; i < n; i++) {
		bool ok = false;

		for (size_t j = 0; j < c->nallowed && !ok; j++)
			ok = lisp_addr_equal(&locs[i].addr[0], &c->allowed[j]);
		if (!ok)
			return false;
	}
	return true;
}

/* Whether registrant r is the xTR that sent m from src (ms_same_xtr()). */
static bool is_sender(const struct ms_registrant *r, const struct lisp_map_register *m,
		      const struct lisp_addr *src)
{
	return ms_same_xtr(r->has_xtr_id, r->xtr_id, &r->addr, m->xtr_id_present, m->xtr_id, src);
}

struct ms_registrant *ms_registrant_find(struct ms_reg *reg, bool has_xtr_id, const uint8_t *xtr_id,
					 const struct lisp_addr *addr)
{
	for (struct ms_registrant *r = reg->regs; r; r = r->next)
		if (ms_same_xtr(r->has_xtr_id, r->xtr_id, &r->addr, has_xtr_id, xtr_id, addr))
			return r;
	return NULL;
}

static bool is_host(const struct lisp_prefix *p)
{
	return p->plen == lisp_afi_max_plen(p->addr.afi);
}

/*
 * A host registered with a new or changed locator set by self (which sent
 * m from src): the other registrants of the host with other locators lose
 * it (the VM moved), and the registrants of a covering prefix with other
 * locators, but for the sender itself, are told the VM lives elsewhere.
 */
static void handle_move(struct ms *ms, struct ms_site *site, struct ms_reg *reg,
			struct ms_registrant *self, const struct lisp_map_register *m,
			const struct lisp_addr *src, const struct lisp_eid_record *rec, uint8_t n,
			double now)
{
	struct ms_reg *cov = ptable_lookup_covering(ms->regs, &reg->p, NULL);
	struct lisp_addr told[16];
	struct ms_registrant *o, *next;
	size_t ntold = 0;

	for (o = reg->regs; o; o = next) {
		next = o->next;
		/* the other xTRs of the registering one's site (a multihomed DC) keep theirs */
		if (o == self || same_locs(o, ms->locs, n) || ms_same_site(o, self))
			continue;
		notify_moved(ms, site, o, rec, ms->locs, n, now);
		if (ntold < 16)
			told[ntold++] = o->addr;
		registrant_del(ms, o); /* reg keeps self */
	}
	for (o = cov ? cov->regs : NULL; o; o = o->next) {
		bool dup = false;

		for (size_t i = 0; i < ntold && !dup; i++)
			dup = lisp_addr_equal(&told[i], &o->addr);
		if (dup || is_sender(o, m, src) || same_locs(o, ms->locs, n) ||
		    ms_same_site(o, self))
			continue;
		notify_moved(ms, cov->site, o, rec, ms->locs, n, now);
		if (ntold < 16)
			told[ntold++] = o->addr;
	}
	if (ntold)
		site->c.moves++;
}

static void do_register(struct ms *ms, struct ms_site *site, const struct lisp_map_register *m,
			const struct lisp_eid_record *rec, const struct lisp_addr *src,
			uint16_t sport, double now)
{
	struct ms_reg *reg = ptable_lookup_exact(ms->regs, &rec->eid);
	struct ms_registrant *r;
	uint8_t n = collect_locs(ms, rec);
	bool changed = false;

	if (!reg) {
		reg = xcalloc(1, sizeof(*reg));
		reg->p = rec->eid;
		reg->site = site;
		reg->first = now;
		ptable_add(ms->regs, &reg->p, reg);
	}
	r = ms_registrant_find(reg, m->xtr_id_present, m->xtr_id, src);
	if (r && r->site_id != (m->xtr_id_present ? m->site_id : 0)) {
		r->site_id = m->xtr_id_present ? m->site_id : 0; /* renumbered into another site */
		ms->dirty = true;
	}
	if (!r || !same_locs(r, ms->locs, n)) {
		if (!r) {
			r = xcalloc(1, sizeof(*r));
			r->reg = reg;
			r->has_xtr_id = m->xtr_id_present;
			memcpy(r->xtr_id, m->xtr_id, 16);
			r->site_id = m->xtr_id_present ? m->site_id : 0;
			r->next = reg->regs;
			reg->regs = r;
			r->last = now;
			ms_heap_push(ms, r);
		}
		evh_add(ms->io.evh, "registered", &rec->eid, src, "site %s, %u locator(s)",
			site->name, n);
		r->since = now;
		/* a site's prefix merges its xTRs' locators; only a host moves */
		if (is_host(&reg->p) && !m->merge)
			handle_move(ms, site, reg, r, m, src, rec, n, now);
		ms_set_locs(r, ms->locs, n);
		ms->dirty = true;
		changed = true;
	}
	r->addr = *src;
	r->port = sport;
	r->alg = m->auth.alg_id;
	r->last = now;
	r->life = m->ttl_expiry ? xtr_ttl_seconds(rec->ttl) : (uint32_t)MS_REG_LIFETIME;
	heap_up(ms, r->heap_idx);
	heap_down(ms, r->heap_idx);
	reg->proxy_reply = m->proxy_reply;
	reg->want_map_notify = m->want_map_notify;
	changed |= reg->ttl != rec->ttl;
	reg->ttl = rec->ttl;
	if (changed)
		ms_pub_changed(ms, &reg->p, now); /* its subscribers learn it now */
}

/* TTL 0: the sender withdraws its registration (honoured only from a current registrant). */
static bool do_deregister(struct ms *ms, const struct lisp_map_register *m,
			  const struct lisp_eid_record *rec, const struct lisp_addr *src)
{
	struct ms_reg *reg = ptable_lookup_exact(ms->regs, &rec->eid);
	struct ms_registrant *r =
		reg ? ms_registrant_find(reg, m->xtr_id_present, m->xtr_id, src) : NULL;

	if (!r)
		return false;
	evh_add(ms->io.evh, "deregistered", &rec->eid, src, NULL);
	registrant_del(ms, r);
	return true;
}

/* strict-nonce state: the last nonce per (site key, xTR), in a small hash per site. */

static void nonces_clear(struct ms_site *site)
{
	for (size_t b = 0; site->nonces && b < MS_NONCE_BUCKETS; b++) {
		while (site->nonces[b]) {
			struct nonce_seen *n = site->nonces[b];

			site->nonces[b] = n->next;
			free(n);
		}
	}
	free(site->nonces);
	site->nonces = NULL;
	site->nnonces = 0;
}

/*
 * The nonces belong to the key they were seen with (RFC 9301 §5.6: per
 * xTR-ID and key): when the site's key changed, they start afresh. The
 * old key's Map-Registers no longer authenticate, so none can be replayed.
 */
void ms_nonces_sync_key(struct ms_site *site)
{
	const struct xtr_conf_site *cs = site->conf;

	if (site->nonce_keylen == cs->keylen && memcmp(site->nonce_key, cs->key, cs->keylen) == 0)
		return;
	nonces_clear(site);
	memcpy(site->nonce_key, cs->key, cs->keylen);
	site->nonce_keylen = cs->keylen;
}

/* FNV-1a: only authenticated xTRs add entries, and a site holds a bounded number of them. */
static size_t nonce_bucket(bool by_xtr_id, const uint8_t *xtr_id, const struct lisp_addr *addr)
{
	const uint8_t *p = by_xtr_id ? xtr_id : addr->u.b;
	uint64_t h = 0xcbf29ce484222325ull ^ (by_xtr_id ? 0 : addr->afi);

	for (int i = 0; i < 16; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (size_t)(h % MS_NONCE_BUCKETS);
}

/* The entry of an xTR (xtr_id when by_xtr_id, else addr); with add, a new one (nonce 0). */
struct nonce_seen *ms_nonce_entry(struct ms_site *site, bool by_xtr_id, const uint8_t *xtr_id,
				  const struct lisp_addr *addr, bool add)
{
	size_t b = nonce_bucket(by_xtr_id, xtr_id, addr);
	struct nonce_seen *s;

	for (s = site->nonces ? site->nonces[b] : NULL; s; s = s->next)
		if (ms_same_xtr(s->by_xtr_id, s->xtr_id, &s->addr, by_xtr_id, xtr_id, addr))
			return s;
	if (!add || site->nnonces >= MS_NONCE_XTRS_MAX)
		return NULL;
	if (!site->nonces)
		site->nonces = xcalloc(MS_NONCE_BUCKETS, sizeof(*site->nonces));
	s = xcalloc(1, sizeof(*s));
	s->by_xtr_id = by_xtr_id;
	if (by_xtr_id)
		memcpy(s->xtr_id, xtr_id, 16);
	else
		s->addr = *addr;
	s->next = site->nonces[b];
	site->nonces[b] = s;
	site->nnonces++;
	return s;
}

/*
 * strict-nonce: each xTR (by xTR-ID, else by address) must send increasing
 * nonces; those sent together may come out of order (struct nonce_seen).
 * 0 (and the nonce kept), -EALREADY for a nonce taken before or below the
 * window, -ENOSPC when the site already remembers MS_NONCE_XTRS_MAX other
 * xTRs.
 */
static int nonce_fresh(struct ms *ms, struct ms_site *site, const struct lisp_map_register *m,
		       const struct lisp_addr *src)
{
	struct nonce_seen *s;
	uint8_t low = 0;

	ms_nonces_sync_key(site);
	s = ms_nonce_entry(site, m->xtr_id_present, m->xtr_id, src, false);
	if (s && m->nonce <= s->floor)
		return -EALREADY;
	for (uint8_t i = 0; s && i < s->nrecent; i++) {
		if (s->recent[i] == m->nonce)
			return -EALREADY;
		if (s->recent[i] < s->recent[low])
			low = i;
	}
	if (s && s->nrecent == MS_NONCE_RECENT && m->nonce < s->recent[low])
		return -EALREADY; /* older than the whole window */
	if (!s && !(s = ms_nonce_entry(site, m->xtr_id_present, m->xtr_id, src, true)))
		return -ENOSPC;
	if (s->nrecent == MS_NONCE_RECENT) { /* the oldest leaves the window: the floor rises */
		s->floor = s->recent[low];
		s->recent[low] = m->nonce;
	} else {
		s->recent[s->nrecent++] = m->nonce;
	}
	if (m->nonce > s->nonce)
		s->nonce = m->nonce;
	ms->dirty = true; /* the state file keeps it across a restart */
	return 0;
}

/* Decodes, finds the site of the first record, authenticates. NULL: dropped (counted). */
static struct ms_site *register_site(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf,
				     size_t len, struct lisp_map_register *m)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct lisp_eid_record rec;
	struct lisp_iter it;
	struct ms_cfg *c;
	int rc = lisp_msg_decode_map_register(buf, len, m);

	if (rc < 0) {
		rc == -EPROTONOSUPPORT ? ms->gc->unsupported++ : ms->gc->malformed++;
		log_warn_rl(&ms->rl_bad, "ms: bad Map-Register from %s: %s",
			    lisp_addr_format(src, a, sizeof(a)), strerror(-rc));
		return NULL;
	}
	lisp_record_iter_init(&it, &m->records);
	lisp_record_iter_next(&it, &rec);
	c = cfg_holding(ms, &rec.eid);
	if (!c) {
		ms->gc->unknown_eid++;
		log_warn_rl(&ms->rl_prefix, "ms: Map-Register from %s for %s: in no site",
			    lisp_addr_format(src, a, sizeof(a)),
			    lisp_prefix_format(&rec.eid, p, sizeof(p)));
		return NULL;
	}
	rc = lisp_auth_verify(c->site->key, buf, len);
	if (rc < 0) {
		c->site->c.auth_failures++;
		log_warn_rl(&ms->rl_auth, "ms: site %s: Map-Register from %s for %s: %s",
			    c->site->name, lisp_addr_format(src, a, sizeof(a)),
			    lisp_prefix_format(&rec.eid, p, sizeof(p)),
			    rc == -EACCES ? "authentication failed"
					  : "unsupported or missing authentication");
		return NULL;
	}
	return c->site;
}

/* Whether rec may be registered by site: its prefix and its locators. Counts and logs refusals. */
static bool record_allowed(struct ms *ms, struct ms_site *site, const struct lisp_eid_record *rec,
			   const struct lisp_addr *src)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct ms_cfg *c = ms_cfg_allowing(ms, &rec->eid);

	if (!c || c->site != site) {
		site->c.prefix_rejects++;
		log_warn_rl(&ms->rl_prefix,
			    "ms: site %s: %s from %s is not an eid-prefix of the site", site->name,
			    lisp_prefix_format(&rec->eid, p, sizeof(p)),
			    lisp_addr_format(src, a, sizeof(a)));
		return false;
	}
	if (!ms_locs_allowed(site, ms->locs, collect_locs(ms, rec))) {
		site->c.allowed_locator_mismatches++;
		log_warn_rl(&ms->rl_prefix, "ms: site %s: %s from %s: locator not allowed",
			    site->name, lisp_prefix_format(&rec->eid, p, sizeof(p)),
			    lisp_addr_format(src, a, sizeof(a)));
		return false;
	}
	return true;
}

static void handle_register(struct ms *ms, const struct lisp_addr *src, uint16_t sport,
			    const uint8_t *buf, size_t len, double now)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct lisp_map_register m;
	struct lisp_eid_record rec;
	struct lisp_iter it;
	struct ms_site *site = register_site(ms, src, buf, len, &m);
	struct lisp_view accepted = { 0 };
	size_t at;
	int rc;

	if (!site)
		return;
	if (site->conf->strict_nonce && (rc = nonce_fresh(ms, site, &m, src)) < 0) {
		if (rc == -ENOSPC)
			site->c.nonce_overflows++;
		else
			site->c.nonce_replays++;
		log_warn_rl(
			&ms->rl_auth, "ms: site %s: Map-Register from %s: %s", site->name,
			lisp_addr_format(src, a, sizeof(a)),
			rc == -ENOSPC
				? "a new xTR, but the site's nonce table is full"
				: "nonce taken before or older than the window, possible replay "
				  "(a peer that sends random nonces needs "
				  "'no strict-nonce')");
		return;
	}
	accepted.p = ms->acked;
	lisp_record_iter_init(&it, &m.records);
	for (at = it.r.off; lisp_record_iter_next(&it, &rec); at = it.r.off) {
		if (!record_allowed(ms, site, &rec, src))
			continue;
		if (rec.ttl == 0) {
			if (do_deregister(ms, &m, &rec, src)) {
				site->c.deregistrations++;
				ms_pub_changed(ms, &rec.eid, now);
			}
		} else {
			do_register(ms, site, &m, &rec, src, sport, now);
			log_debug(LOG_REGISTER, "ms: site %s: %s registered by %s", site->name,
				  lisp_prefix_format(&rec.eid, p, sizeof(p)),
				  lisp_addr_format(src, a, sizeof(a)));
		}
		/* the acknowledgement carries the records accepted, as they came */
		memcpy(ms->acked + accepted.len, m.records.p + at, it.r.off - at);
		accepted.len += it.r.off - at;
		accepted.count++;
	}
	if (!accepted.count)
		return;
	site->c.registrations++;
	if (m.want_map_notify)
		send_ack(ms, site, &m, &accepted, src, sport);
}

static void handle_notify_ack(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf,
			      size_t len, double now)
{
	struct lisp_map_notify m;
	struct ms_notify **pp;

	if (lisp_msg_decode_map_notify(buf, len, &m) < 0 || !m.ack) {
		ms->gc->malformed++;
		return;
	}
	for (pp = &ms->notifies; *pp; pp = &(*pp)->next) {
		struct ms_notify *nt = *pp;

		if (nt->nonce != m.nonce || !lisp_addr_equal(&nt->dst, src))
			continue;
		if (lisp_auth_verify(nt->site->key, buf, len) < 0) {
			nt->site->c.auth_failures++;
			return;
		}
		nt->site->c.map_notify_acks++;
		*pp = nt->next;
		free(nt);
		return;
	}
	if (!ms_pub_ack(ms, src, buf, len, &m, now))
		ms->gc->acks_unmatched++;
}

void ms_input(struct ms *ms, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	      size_t len, double now)
{
	switch (lisp_msg_type(buf, len)) {
	case LISP_TYPE_MAP_REGISTER:
		if (ms->conf->ms_v4 || ms->conf->ms_v6)
			handle_register(ms, src, sport, buf, len, now);
		else
			ms->gc->unsupported++;
		break;
	case LISP_TYPE_MAP_NOTIFY_ACK:
		handle_notify_ack(ms, src, buf, len, now);
		break;
	case LISP_TYPE_ECM:
		mr_handle_ecm(ms, src, buf, len, now);
		break;
	case -EBADMSG:
		ms->gc->malformed++;
		break;
	default:
		ms->gc->unsupported++; /* plain Map-Requests, Map-Replies, ... are not ours */
		break;
	}
}

void ms_tick(struct ms *ms, double now)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct ms_notify **pp = &ms->notifies;

	while (ms->nheap && ms_expires(ms->heap[0]) <= now) {
		struct ms_registrant *r = ms->heap[0];

		struct lisp_prefix gone = r->reg->p;

		r->reg->site->c.expirations++;
		evh_add(ms->io.evh, "expired", &r->reg->p, &r->addr, "site %s", r->reg->site->name);
		log_info("ms: site %s: registration of %s by %s expired", r->reg->site->name,
			 lisp_prefix_format(&r->reg->p, p, sizeof(p)),
			 lisp_addr_format(&r->addr, a, sizeof(a)));
		registrant_del(ms, r);
		ms_pub_changed(ms, &gone, now);
	}
	ms_pub_tick(ms, now);
	while (*pp) {
		struct ms_notify *nt = *pp;

		if (nt->next_at > now) {
			pp = &nt->next;
			continue;
		}
		if (nt->sent == MS_NOTIFY_TRIES) {
			nt->site->c.map_notify_giveups++;
			log_warn("ms: site %s: no Map-Notify-Ack from %s after %d tries, giving up",
				 nt->site->name, lisp_addr_format(&nt->dst, a, sizeof(a)),
				 nt->sent);
			*pp = nt->next;
			free(nt);
			continue;
		}
		ms->io.send(ms->io.arg, &nt->dst, LISP_CONTROL_PORT, nt->msg, nt->len);
		nt->next_at = now + notify_wait[nt->sent++];
		pp = &nt->next;
	}
}

/* Life cycle and configuration */

struct ms *ms_new(const struct ms_io *io, struct xtr_counters *counters)
{
	struct ms *ms = xcalloc(1, sizeof(*ms));

	ms->io = *io;
	ms->gc = counters;
	ms->cfg = ptable_new(free);
	ms->regs = ptable_new(reg_free);
	ms->rl = ratelim_new(XTR_REPLY_DESTINATIONS);
	return ms;
}

static void site_free(struct ms_site *s)
{
	nonces_clear(s);
	lisp_auth_key_free(s->key);
	free(s);
}

/* Collect filter: registrations the current configuration (of ms, arg) no longer allows. */
static bool disallowed(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_reg *reg = v;
	const struct ms_cfg *cf = ms_cfg_allowing(arg, p);

	return !(cf && cf->site == reg->site && reg->site->alive);
}

/* Drops the registrations the current configuration no longer allows (a walk cannot delete). */
static void drop_disallowed(struct ms *ms)
{
	void **v;
	size_t n = ptable_collect(ms->regs, NULL, disallowed, ms, NULL, &v);

	for (size_t i = 0; i < n; i++)
		reg_del(ms, v[i]);
	free(v);
}

static struct ms_site *site_for(struct ms *ms, const struct xtr_conf_site *cs)
{
	struct ms_site *s;

	for (size_t i = 0; i < ms->nsites; i++) {
		if (strcmp(ms->sites[i]->name, cs->name) == 0) {
			s = ms->sites[i];
			lisp_auth_key_free(s->key);
			goto found;
		}
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", cs->name);
	ms->sites = xreallocarray(ms->sites, ms->nsites + 1, sizeof(*ms->sites));
	ms->sites[ms->nsites++] = s;
found:
	s->conf = cs;
	s->key = lisp_auth_key_new(cs->key, cs->keylen);
	s->alive = true;
	return s;
}

/* Drops what belongs to sites no longer configured: registrations, notifies, the sites. */
static void drop_dead(struct ms *ms)
{
	struct ms_notify **pp = &ms->notifies;
	size_t keep = 0;

	drop_disallowed(ms);
	while (*pp) {
		struct ms_notify *nt = *pp;

		if (nt->site->alive) {
			pp = &nt->next;
			continue;
		}
		*pp = nt->next;
		free(nt);
	}
	for (size_t i = 0; i < ms->nsites; i++) {
		if (ms->sites[i]->alive)
			ms->sites[keep++] = ms->sites[i];
		else
			site_free(ms->sites[i]);
	}
	ms->nsites = keep;
}

void ms_configure(struct ms *ms, const struct xtr_conf_msmr *conf,
		  const struct xtr_conf_ratelimit *reply, double now)
{
	(void)now;
	for (size_t i = 0; i < ms->nsites; i++)
		ms->sites[i]->alive = false;
	ptable_free(ms->cfg);
	ms->cfg = ptable_new(free);
	for (size_t i = 0; i < conf->nsites; i++) {
		struct ms_site *s = site_for(ms, conf->sites[i]);

		for (size_t j = 0; j < conf->sites[i]->nprefixes; j++) {
			struct ms_cfg *c = xcalloc(1, sizeof(*c));

			c->p = conf->sites[i]->prefixes[j].p;
			c->ams = conf->sites[i]->prefixes[j].accept_more_specifics;
			c->site = s;
			if (ptable_add(ms->cfg, &c->p, c) < 0)
				free(c); /* parse.c refuses duplicates: cannot happen */
		}
	}
	ms->conf = conf;
	ratelim_set(ms->rl, reply->rate, reply->burst, reply->total);
	drop_dead(ms);
	ms_pub_configure(ms, conf);
}

void ms_free(struct ms *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nsites; i++)
		ms->sites[i]->alive = false; /* everything is disallowed now */
	drop_disallowed(ms);
	while (ms->notifies) {
		struct ms_notify *nt = ms->notifies;

		ms->notifies = nt->next;
		free(nt);
	}
	ms_pub_free(ms);
	for (size_t i = 0; i < ms->nsites; i++)
		site_free(ms->sites[i]);
	free(ms->sites);
	free(ms->heap);
	ptable_free(ms->cfg);
	ptable_free(ms->regs);
	ratelim_free(ms->rl);
	free(ms);
}

/* Read access */

size_t ms_reg_count(const struct ms *ms)
{
	return ptable_count(ms->regs);
}

size_t ms_pending_notifies(const struct ms *ms)
{
	size_t n = 0;

	for (const struct ms_notify *nt = ms->notifies; nt; nt = nt->next)
		n++;
	return n;
}

size_t ms_site_count(const struct ms *ms)
{
	return ms->nsites;
}

const struct ms_site *ms_site_at(const struct ms *ms, size_t i)
{
	return i < ms->nsites ? ms->sites[i] : NULL;
}

const struct ms_site *ms_site_by_name(const struct ms *ms, const char *name)
{
	for (size_t i = 0; i < ms->nsites; i++)
		if (strcmp(ms->sites[i]->name, name) == 0)
			return ms->sites[i];
	return NULL;
}

const struct ms_site *ms_site_by_prefix(const struct ms *ms, const struct lisp_prefix *p)
{
	const struct ms_reg *reg = ptable_lookup_exact(ms->regs, p);
	const struct ms_cfg *c = cfg_holding(ms, p);

	return reg ? reg->site : c ? c->site : NULL;
}

const struct xtr_conf_site *ms_site_conf(const struct ms_site *s)
{
	return s->conf;
}

const struct ms_site_counters *ms_site_counters(const struct ms_site *s)
{
	return &s->c;
}

struct rows {
	const struct ms *ms;
	const struct ms_site *site;
	const struct ms_cfg *cfg;
	ms_row_fn fn;
	void *arg;
	unsigned count;
	bool emit;
};

/* Walk callback over the registrations under a configured prefix. */
static int row_more_specific(const struct lisp_prefix *p, void *v, void *arg)
{
	struct rows *r = arg;
	const struct ms_reg *reg = v;
	struct ms_row row = { .p = *p, .reg = reg };

	if (reg->site != r->site || ptable_lookup_exact(r->ms->cfg, p) ||
	    ptable_lookup_covering(r->ms->cfg, p, NULL) != r->cfg)
		return 0; /* configured itself, or listed under a longer configured prefix */
	r->count++;
	return r->emit ? r->fn(&row, r->arg) : 0;
}

int ms_site_rows(const struct ms *ms, const struct ms_site *s, ms_row_fn fn, void *arg)
{
	const struct xtr_conf_site *cs = s->conf;
	int rc;

	for (size_t i = 0; i < cs->nprefixes; i++) {
		const struct lisp_prefix *p = &cs->prefixes[i].p;
		struct rows r = { .ms = ms, .site = s, .fn = fn, .arg = arg };
		struct ms_row row = { .p = *p,
				      .configured = true,
				      .accept_more_specifics =
					      cs->prefixes[i].accept_more_specifics,
				      .reg = ptable_lookup_exact(ms->regs, p) };

		r.cfg = ptable_lookup_exact(ms->cfg, p);
		ptable_walk(ms->regs, p, row_more_specific, &r);
		row.more_specifics = r.count;
		rc = fn(&row, arg);
		if (rc)
			return rc;
		r.emit = true;
		rc = ptable_walk(ms->regs, p, row_more_specific, &r);
		if (rc)
			return rc;
	}
	return 0;
}

void ms_reg_info(const struct ms_reg *r, struct ms_reg_info *out)
{
	memset(out, 0, sizeof(*out));
	out->first = r->first;
	out->proxy_reply = r->proxy_reply;
	out->want_map_notify = r->want_map_notify;
	out->ttl = r->ttl;
	for (const struct ms_registrant *g = r->regs; g; g = g->next) {
		if (g->last >= out->last) {
			out->last = g->last;
			out->last_by = g->addr;
		}
	}
}

const struct ms_registrant *ms_reg_registrants(const struct ms_reg *r)
{
	return r->regs;
}

const struct ms_registrant *ms_registrant_info(const struct ms_registrant *r,
					       struct ms_registrant_info *out)
{
	out->addr = r->addr;
	out->port = r->port;
	out->has_xtr_id = r->has_xtr_id;
	memcpy(out->xtr_id, r->xtr_id, 16);
	out->site_id = r->site_id;
	out->last = r->last;
	out->since = r->since;
	out->expires = ms_expires(r);
	out->nloc = r->nloc;
	return r->next;
}

void ms_registrant_locator(const struct ms_registrant *r, uint8_t i, struct lisp_locator *out)
{
	ms_loc_export(ms_loc_at(r, i), out);
}
