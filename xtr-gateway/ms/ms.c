/*
 * Map-Server and Map-Resolver (RFC 9301 §8; spec/lisp-wire.md §5-§7, §10):
 * sites and their keys, registrations with expiry, move notification of
 * the previous registrants, and Map-Request resolution. Packets leave
 * through ms->io; time comes from the caller.
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
 *
 * Answers (spec/lisp-wire.md §7.1): one per Encapsulated Map-Request, for
 * its first record; to the first ITR-RLOC we can send to; within the
 * per-destination rate limit (map-reply rate-limit), which also bounds the
 * requests forwarded to an ETR (by the ITR-RLOC the ETR will answer).
 * Negative answers name a hole: the least-specific prefix around the EID
 * that holds no registered and no other configured prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define MAX_LOCS 255
#define MSG_MAX	 65536

/* A registered locator, kept compact: a million registrations are the design point. */
struct ms_loc {
	struct lisp_addr addr;
	uint8_t priority, weight, mpriority, mweight;
	bool reachable;
};

/* One ETR's registration of a prefix (several for a multihomed site). */
struct ms_registrant {
	struct ms_registrant *next;
	struct ms_reg *reg;
	double last;
	struct ms_loc *more; /* locators after the first: nloc - 1 of them */
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint16_t port;
	uint32_t heap_idx;
	uint32_t life; /* seconds: expires at last + life */
	uint8_t nloc;
	uint8_t alg; /* the algorithm its Map-Registers are signed with: its Map-Notifies use it */
	bool has_xtr_id;
	struct ms_loc loc1;
};

struct ms_reg {
	struct lisp_prefix p;
	struct ms_site *site;
	double first;
	struct ms_registrant *regs;
	uint32_t ttl;
	bool proxy_reply, want_map_notify;
};

/* strict-nonce: the last Map-Register nonce of one xTR (by xTR-ID, else by address). */
struct nonce_seen {
	struct nonce_seen *next; /* in its hash chain */
	bool by_xtr_id;
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint64_t nonce;
};

#define NONCE_BUCKETS 256

struct ms_site {
	char name[XTR_SITE_NAME_MAX];
	const struct xtr_conf_site *conf;
	struct lisp_auth_key *key;
	struct ms_site_counters c;
	struct nonce_seen **nonces;	/* NONCE_BUCKETS chains, NULL until the first one */
	size_t nnonces;			/* at most MS_NONCE_XTRS_MAX */
	uint8_t nonce_key[XTR_KEY_MAX]; /* the key they came with: a new key starts afresh */
	size_t nonce_keylen;
	bool alive;
};

/* A configured eid-prefix, the value of ms->cfg. */
struct ms_cfg {
	struct lisp_prefix p;
	struct ms_site *site;
	bool ams;
};

/* A Map-Request of a receive batch, decoded ahead (ms_input_batch). */
struct ms_pre {
	struct lisp_ecm e;
	struct lisp_map_request req;
	size_t slot; /* of its first EID in the batched lookup */
	bool ok;
};

/* An unsolicited Map-Notify waiting for its Map-Notify-Ack. */
struct ms_notify {
	struct ms_notify *next;
	struct ms_site *site;
	uint64_t nonce;
	struct lisp_addr dst;
	struct lisp_prefix eid; /* of its record: a newer notify of it to dst replaces this one */
	int sent;
	double next_at;
	size_t len;
	uint8_t msg[];
};

struct ms {
	struct ms_io io;
	struct xtr_counters *gc;
	const struct xtr_conf *conf;
	struct ms_site **sites;
	size_t nsites;
	struct ptable *cfg;	     /* configured prefixes -> struct ms_cfg */
	struct ptable *regs;	     /* registered prefixes -> struct ms_reg */
	struct ms_registrant **heap; /* by expiry */
	size_t nheap, capheap;
	struct ms_notify *notifies;
	bool dirty; /* registrations or nonces changed since the last snapshot */
	struct log_rate rl_bad, rl_auth, rl_prefix, rl_limit;
	struct ratelim *rl;    /* answers per destination (map-reply rate-limit) */
	uint64_t notify_nonce; /* of the last unsolicited Map-Notify (notify_nonce()) */
	struct lisp_locator locs[MAX_LOCS];
	uint8_t acked[65536]; /* the accepted records of a Map-Register */
	struct ms_pre pre[MS_BATCH];
	uint8_t out[MSG_MAX];
};

/* Wait after the n-th send of an unsolicited Map-Notify (RFC 9301 §5.7). */
static const double notify_wait[MS_NOTIFY_TRIES] = { 3, 3, 3, 6, 12, 24, 24 };

/* Expiry heap */

static inline double expires(const struct ms_registrant *r)
{
	return r->last + r->life;
}

static inline const struct ms_loc *loc_at(const struct ms_registrant *r, uint8_t i)
{
	return i == 0 ? &r->loc1 : &r->more[i - 1];
}

static void set_locs(struct ms_registrant *r, const struct lisp_locator *l, uint8_t n)
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

static void loc_export(const struct ms_loc *m, struct lisp_locator *l)
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

	while (i > 0 && expires(ms->heap[(i - 1) / 2]) > expires(r)) {
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
		if (c + 1 < ms->nheap && expires(ms->heap[c + 1]) < expires(ms->heap[c]))
			c++;
		if (expires(ms->heap[c]) >= expires(r))
			break;
		heap_set(ms, i, ms->heap[c]);
		i = c;
	}
	heap_set(ms, i, r);
}

static void heap_push(struct ms *ms, struct ms_registrant *r)
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
	ms->dirty = true;
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
			found = lisp_addr_equal(&loc_at(r, i)->addr, &locs[j].addr[0]);
		if (!found)
			return false;
	}
	return true;
}

/* The configured prefix that allows p: p itself, or the longest covering one with accept-more-specifics. */
static struct ms_cfg *cfg_allowing(const struct ms *ms, const struct lisp_prefix *p)
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
	struct timespec ts;
	uint64_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	evh_add("notify-moved", &rec->eid, dst, "site %s", site->name);
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
	while (n < MAX_LOCS && lisp_locator_iter_next(&it, &ms->locs[n]))
		n++;
	return n;
}

static bool locs_allowed(const struct ms_site *site, const struct lisp_locator *locs, uint8_t n)
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

/* Whether registrant r is the xTR that sent m from src: same xTR-ID, or same address without one. */
static bool is_sender(const struct ms_registrant *r, const struct lisp_map_register *m,
		      const struct lisp_addr *src)
{
	return m->xtr_id_present ? r->has_xtr_id && memcmp(r->xtr_id, m->xtr_id, 16) == 0
				 : !r->has_xtr_id && lisp_addr_equal(&r->addr, src);
}

/* The registrant of reg that sent m from src, or NULL. */
static struct ms_registrant *find_registrant(struct ms_reg *reg, const struct lisp_map_register *m,
					     const struct lisp_addr *src)
{
	for (struct ms_registrant *r = reg->regs; r; r = r->next)
		if (is_sender(r, m, src))
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
		if (o == self || same_locs(o, ms->locs, n))
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
		if (dup || is_sender(o, m, src) || same_locs(o, ms->locs, n))
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

	if (!reg) {
		reg = xcalloc(1, sizeof(*reg));
		reg->p = rec->eid;
		reg->site = site;
		reg->first = now;
		ptable_add(ms->regs, &reg->p, reg);
	}
	r = find_registrant(reg, m, src);
	if (!r || !same_locs(r, ms->locs, n)) {
		if (!r) {
			r = xcalloc(1, sizeof(*r));
			r->reg = reg;
			r->has_xtr_id = m->xtr_id_present;
			memcpy(r->xtr_id, m->xtr_id, 16);
			r->next = reg->regs;
			reg->regs = r;
			r->last = now;
			heap_push(ms, r);
		}
		evh_add("registered", &rec->eid, src, "site %s, %u locator(s)", site->name, n);
		/* a site's prefix merges its xTRs' locators; only a host moves */
		if (is_host(&reg->p) && !m->merge)
			handle_move(ms, site, reg, r, m, src, rec, n, now);
		set_locs(r, ms->locs, n);
		ms->dirty = true;
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
	reg->ttl = rec->ttl;
}

/* TTL 0: the sender withdraws its registration (honoured only from a current registrant). */
static bool do_deregister(struct ms *ms, const struct lisp_map_register *m,
			  const struct lisp_eid_record *rec, const struct lisp_addr *src)
{
	struct ms_reg *reg = ptable_lookup_exact(ms->regs, &rec->eid);
	struct ms_registrant *r = reg ? find_registrant(reg, m, src) : NULL;

	if (!r)
		return false;
	evh_add("deregistered", &rec->eid, src, NULL);
	registrant_del(ms, r);
	return true;
}

/* strict-nonce state: the last nonce per (site key, xTR), in a small hash per site. */

static void nonces_clear(struct ms_site *site)
{
	for (size_t b = 0; site->nonces && b < NONCE_BUCKETS; b++) {
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
static void nonces_sync_key(struct ms_site *site)
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
	return (size_t)(h % NONCE_BUCKETS);
}

/* The entry of an xTR (xtr_id when by_xtr_id, else addr); with add, a new one (nonce 0). */
static struct nonce_seen *nonce_entry(struct ms_site *site, bool by_xtr_id, const uint8_t *xtr_id,
				      const struct lisp_addr *addr, bool add)
{
	size_t b = nonce_bucket(by_xtr_id, xtr_id, addr);
	struct nonce_seen *s;

	for (s = site->nonces ? site->nonces[b] : NULL; s; s = s->next)
		if (by_xtr_id ? s->by_xtr_id && memcmp(s->xtr_id, xtr_id, 16) == 0
			      : !s->by_xtr_id && lisp_addr_equal(&s->addr, addr))
			return s;
	if (!add || site->nnonces >= MS_NONCE_XTRS_MAX)
		return NULL;
	if (!site->nonces)
		site->nonces = xcalloc(NONCE_BUCKETS, sizeof(*site->nonces));
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
 * nonces. 0 (and the nonce kept), -EALREADY for a nonce not above the last
 * one, -ENOSPC when the site already remembers MS_NONCE_XTRS_MAX other xTRs.
 */
static int nonce_fresh(struct ms *ms, struct ms_site *site, const struct lisp_map_register *m,
		       const struct lisp_addr *src)
{
	struct nonce_seen *s;

	nonces_sync_key(site);
	s = nonce_entry(site, m->xtr_id_present, m->xtr_id, src, false);
	if (s && m->nonce <= s->nonce)
		return -EALREADY;
	if (!s && !(s = nonce_entry(site, m->xtr_id_present, m->xtr_id, src, true)))
		return -ENOSPC;
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
	struct ms_cfg *c = cfg_allowing(ms, &rec->eid);

	if (!c || c->site != site) {
		site->c.prefix_rejects++;
		log_warn_rl(&ms->rl_prefix,
			    "ms: site %s: %s from %s is not an eid-prefix of the site", site->name,
			    lisp_prefix_format(&rec->eid, p, sizeof(p)),
			    lisp_addr_format(src, a, sizeof(a)));
		return false;
	}
	if (!locs_allowed(site, ms->locs, collect_locs(ms, rec))) {
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
		log_warn_rl(&ms->rl_auth, "ms: site %s: Map-Register from %s: %s", site->name,
			    lisp_addr_format(src, a, sizeof(a)),
			    rc == -ENOSPC ? "a new xTR, but the site's nonce table is full"
					  : "nonce not above the last one, possible replay");
		return;
	}
	accepted.p = ms->acked;
	lisp_record_iter_init(&it, &m.records);
	for (at = it.r.off; lisp_record_iter_next(&it, &rec); at = it.r.off) {
		if (!record_allowed(ms, site, &rec, src))
			continue;
		if (rec.ttl == 0) {
			site->c.deregistrations += do_deregister(ms, &m, &rec, src);
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
			      size_t len)
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
	ms->gc->acks_unmatched++;
}

/* Map-Resolver */

/*
 * Whether an answer (what) may go to dst now: map-reply rate-limit, per
 * destination and in all. A refusal is counted in *refused and logged.
 */
static bool answer_allowed(struct ms *ms, const struct lisp_addr *dst, double now,
			   uint64_t *refused, const char *what)
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
		if (!answer_allowed(ms, dst, now, &ms->gc->map_replies_rate_limited, "Map-Reply"))
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

/* Proxy reply: the registered locators of every registrant, each once, L and p clear. */
static void proxy_reply(struct ms *ms, const struct ms_reg *reg, const struct lisp_map_request *req,
			uint16_t dport, double now)
{
	struct lisp_eid_record rec = { .ttl = reg->ttl, .eid = reg->p };
	uint8_t n = 0;

	for (const struct ms_registrant *r = reg->regs; r; r = r->next) {
		for (uint8_t i = 0; i < r->nloc && n < MAX_LOCS; i++) {
			bool dup = false;

			for (uint8_t j = 0; j < n && !dup; j++)
				dup = lisp_addr_equal(&ms->locs[j].addr[0], &loc_at(r, i)->addr);
			if (dup)
				continue;
			loc_export(loc_at(r, i), &ms->locs[n++]);
		}
	}
	rec.loc_count = n;
	rec.locs = ms->locs;
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
			if (loc_at(r, i)->reachable && (!best || r->last > best->last))
				best = r;
	for (uint8_t i = 0; best && i < best->nloc; i++)
		if (loc_at(best, i)->reachable && ms->io.send(ms->io.arg, &loc_at(best, i)->addr,
							      LISP_CONTROL_PORT, ms->out, len) == 0)
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
		if (!answer_allowed(ms, first_itr_rloc(req), now,
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
		/* in a LISP site, nothing registered here: the host may be about to register */
		neg.ttl = 1;
		neg.act = LISP_ACT_SEND_MAP_REQUEST;
		hole(ms, eid, c->p.plen, c, &neg.eid);
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
	if (!first_itr_rloc(req)) {
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
	resolve(ms, req, &eid, reg, e->inner.sport, buf, len, now);
}

static void handle_ecm(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		       double now)
{
	struct lisp_map_request req;
	struct lisp_ecm e;

	if (ecm_decode(ms, src, buf, len, &e, &req))
		ecm_answer(ms, src, &e, &req, buf, len, LOOKUP, now);
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
		handle_notify_ack(ms, src, buf, len);
		break;
	case LISP_TYPE_ECM:
		handle_ecm(ms, src, buf, len, now);
		break;
	case -EBADMSG:
		ms->gc->malformed++;
		break;
	default:
		ms->gc->unsupported++; /* plain Map-Requests, Map-Replies, ... are not ours */
		break;
	}
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

void ms_tick(struct ms *ms, double now)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct ms_notify **pp = &ms->notifies;

	while (ms->nheap && expires(ms->heap[0]) <= now) {
		struct ms_registrant *r = ms->heap[0];

		r->reg->site->c.expirations++;
		evh_add("expired", &r->reg->p, &r->addr, "site %s", r->reg->site->name);
		log_info("ms: site %s: registration of %s by %s expired", r->reg->site->name,
			 lisp_prefix_format(&r->reg->p, p, sizeof(p)),
			 lisp_addr_format(&r->addr, a, sizeof(a)));
		registrant_del(ms, r);
	}
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

struct collect {
	struct ms_reg **v;
	size_t n, cap;
	const struct ms *ms;
};

/* Walk callback: registrations the current configuration no longer allows. */
static int collect_disallowed(const struct lisp_prefix *p, void *v, void *arg)
{
	struct collect *c = arg;
	struct ms_reg *reg = v;
	struct ms_cfg *cf = cfg_allowing(c->ms, p);

	if (cf && cf->site == reg->site && reg->site->alive)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	c->v[c->n++] = reg;
	return 0;
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
	struct collect c = { .ms = ms };
	struct ms_notify **pp = &ms->notifies;
	size_t keep = 0;

	ptable_walk(ms->regs, NULL, collect_disallowed, &c);
	for (size_t i = 0; i < c.n; i++)
		reg_del(ms, c.v[i]);
	free(c.v);
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

void ms_configure(struct ms *ms, const struct xtr_conf *conf, double now)
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
	ratelim_set(ms->rl, conf->reply_rate, conf->reply_burst, conf->reply_total);
	drop_dead(ms);
}

void ms_free(struct ms *ms)
{
	struct collect c = { .ms = ms };

	if (!ms)
		return;
	for (size_t i = 0; i < ms->nsites; i++)
		ms->sites[i]->alive = false; /* everything is disallowed now */
	ptable_walk(ms->regs, NULL, collect_disallowed, &c);
	for (size_t i = 0; i < c.n; i++)
		reg_del(ms, c.v[i]);
	free(c.v);
	while (ms->notifies) {
		struct ms_notify *nt = ms->notifies;

		ms->notifies = nt->next;
		free(nt);
	}
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
	out->last = r->last;
	out->expires = expires(r);
	out->nloc = r->nloc;
	return r->next;
}

void ms_registrant_locator(const struct ms_registrant *r, uint8_t i, struct lisp_locator *out)
{
	loc_export(loc_at(r, i), out);
}

/* --- registrations and nonces across a restart -------------------------------------------- */

/*
 * The state file: a magic line, then one line per live registrant
 *   R IID PREFIX SITE FIRST TTL PROXY WANT-NOTIFY ADDR PORT XTR-ID|- LAST LIFE NLOC
 *     (ADDR PRIORITY WEIGHT MPRIORITY MWEIGHT REACHABLE) x NLOC
 * and (version 2) one per xTR whose last Map-Register nonce the site keeps
 *   N SITE KEY-TAG XTR-ID|- ADDR|- NONCE
 * KEY-TAG names the site key the nonce came with, without revealing it
 * (the first 8 bytes of HMAC-SHA-256(key, NONCE_TAG_LABEL), hex); NONCE is
 * 16 hex digits. Version 1 files (no N lines) are read as well.
 */
#define STATE_MAGIC	"# vmroam map-server state 2"
#define STATE_MAGIC_V1	"# vmroam map-server state 1"
#define NONCE_TAG_LABEL "vmroam map-server nonce state"
#define NONCE_TAG_LEN	8

/* A registrant line of a snapshot (its locators in ms_snapshot.locs from loc on). */
struct snap_reg {
	struct lisp_prefix p;
	struct lisp_addr addr;
	double first, last;
	uint32_t ttl, life, site, loc;
	uint16_t port;
	uint8_t nloc;
	uint8_t xtr_id[16];
	bool proxy, want, has_xtr_id;
};

/* A nonce line of a snapshot. */
struct snap_nonce {
	uint32_t site;
	bool by_xtr_id;
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint64_t nonce;
};

struct ms_snapshot {
	char (*names)[XTR_SITE_NAME_MAX];    /* of each site */
	char (*tags)[2 * NONCE_TAG_LEN + 1]; /* the key tag of each site's nonces */
	struct snap_reg *regs;
	size_t nregs, capregs;
	struct ms_loc *locs;
	size_t nlocs, caplocs;
	struct snap_nonce *nonces;
	size_t nnonces;
	const struct ms *ms; /* while it is taken */
	double now;
};

/* The index of site in ms->sites (registrations come in runs of one site: the last is cached). */
static uint32_t site_index(const struct ms *ms, const struct ms_site *site, uint32_t hint)
{
	if (hint < ms->nsites && ms->sites[hint] == site)
		return hint;
	for (uint32_t i = 0; i < ms->nsites; i++)
		if (ms->sites[i] == site)
			return i;
	return hint; /* cannot happen: every registration's site is in ms->sites */
}

/* Walk callback: copies the live registrants of a prefix. */
static int save_one(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_reg *reg = v;
	struct ms_snapshot *s = arg;
	uint32_t site = s->nregs ? s->regs[s->nregs - 1].site : 0;

	site = site_index(s->ms, reg->site, site);
	for (const struct ms_registrant *r = reg->regs; r; r = r->next) {
		struct snap_reg *c;

		if (expires(r) <= s->now)
			continue;
		if (s->nregs == s->capregs) {
			s->capregs = s->capregs ? 2 * s->capregs : 1024;
			s->regs = xreallocarray(s->regs, s->capregs, sizeof(*s->regs));
		}
		if (s->nlocs + r->nloc > s->caplocs) {
			s->caplocs = 2 * (s->nlocs + r->nloc) + 1024;
			s->locs = xreallocarray(s->locs, s->caplocs, sizeof(*s->locs));
		}
		c = &s->regs[s->nregs++];
		*c = (struct snap_reg){ .p = *p,
					.addr = r->addr,
					.first = reg->first,
					.last = r->last,
					.ttl = reg->ttl,
					.life = r->life,
					.site = site,
					.loc = (uint32_t)s->nlocs,
					.port = r->port,
					.nloc = r->nloc,
					.proxy = reg->proxy_reply,
					.want = reg->want_map_notify,
					.has_xtr_id = r->has_xtr_id };
		memcpy(c->xtr_id, r->xtr_id, 16);
		for (uint8_t i = 0; i < r->nloc; i++)
			s->locs[s->nlocs++] = *loc_at(r, i);
	}
	return 0;
}

/* The tag of a key (KEY-TAG above), 2 * NONCE_TAG_LEN hex digits. 0 or -EIO. */
static int nonce_tag(const uint8_t *key, size_t keylen, char tag[2 * NONCE_TAG_LEN + 1])
{
	struct lisp_auth_key *k = lisp_auth_key_new(key, keylen);
	uint8_t mac[LISP_AUTH_SHA256_LEN];
	int rc = lisp_auth_hmac_sha256(k, (const uint8_t *)NONCE_TAG_LABEL, strlen(NONCE_TAG_LABEL),
				       mac);

	lisp_auth_key_free(k);
	for (int i = 0; i < NONCE_TAG_LEN; i++)
		snprintf(tag + 2 * i, 3, "%02x", mac[i]);
	return rc;
}

/* Copies the nonces of site i, tagged with the key they came with. */
static void save_nonces(struct ms_snapshot *s, const struct ms_site *site, uint32_t i)
{
	if (!site->nnonces || nonce_tag(site->nonce_key, site->nonce_keylen, s->tags[i]) < 0)
		return;
	s->nonces = xreallocarray(s->nonces, s->nnonces + site->nnonces, sizeof(*s->nonces));
	for (size_t b = 0; b < NONCE_BUCKETS; b++) {
		for (const struct nonce_seen *n = site->nonces[b]; n; n = n->next) {
			struct snap_nonce *c = &s->nonces[s->nnonces++];

			*c = (struct snap_nonce){ .site = i,
						  .by_xtr_id = n->by_xtr_id,
						  .addr = n->addr,
						  .nonce = n->nonce };
			memcpy(c->xtr_id, n->xtr_id, 16);
		}
	}
}

struct ms_snapshot *ms_snapshot_take(struct ms *ms, double now)
{
	struct ms_snapshot *s = xcalloc(1, sizeof(*s));

	s->ms = ms;
	s->now = now;
	s->names = xcalloc(ms->nsites + 1, sizeof(*s->names));
	s->tags = xcalloc(ms->nsites + 1, sizeof(*s->tags));
	s->capregs = s->caplocs = ms->nheap + 1; /* every registrant is in the heap */
	s->regs = xreallocarray(NULL, s->capregs, sizeof(*s->regs));
	s->locs = xreallocarray(NULL, s->caplocs, sizeof(*s->locs));
	for (size_t i = 0; i < ms->nsites; i++) {
		memcpy(s->names[i], ms->sites[i]->name, sizeof(s->names[i]));
		save_nonces(s, ms->sites[i], (uint32_t)i);
	}
	ptable_walk(ms->regs, NULL, save_one, s);
	s->ms = NULL;
	ms->dirty = false;
	return s;
}

void ms_snapshot_free(struct ms_snapshot *s)
{
	if (!s)
		return;
	free(s->names);
	free(s->tags);
	free(s->regs);
	free(s->locs);
	free(s->nonces);
	free(s);
}

static void format_reg(FILE *f, const struct ms_snapshot *s, const struct snap_reg *r)
{
	char pb[LISP_PREFIX_STRLEN], ab[LISP_ADDR_STRLEN];
	struct lisp_prefix bare = r->p;

	bare.iid = 0;
	fprintf(f, "R %u %s %s %.6f %u %d %d %s %u ", r->p.iid,
		lisp_prefix_format(&bare, pb, sizeof(pb)), s->names[r->site], r->first, r->ttl,
		r->proxy, r->want, lisp_addr_format(&r->addr, ab, sizeof(ab)), r->port);
	if (r->has_xtr_id)
		for (int i = 0; i < 16; i++)
			fprintf(f, "%02x", r->xtr_id[i]);
	else
		fputc('-', f);
	fprintf(f, " %.6f %u %u", r->last, r->life, r->nloc);
	for (uint8_t i = 0; i < r->nloc; i++) {
		const struct ms_loc *l = &s->locs[r->loc + i];

		fprintf(f, " %s %u %u %u %u %d", lisp_addr_format(&l->addr, ab, sizeof(ab)),
			l->priority, l->weight, l->mpriority, l->mweight, l->reachable);
	}
	fputc('\n', f);
}

static void format_nonce(FILE *f, const struct ms_snapshot *s, const struct snap_nonce *n)
{
	char ab[LISP_ADDR_STRLEN];

	fprintf(f, "N %s %s ", s->names[n->site], s->tags[n->site]);
	if (n->by_xtr_id)
		for (int i = 0; i < 16; i++)
			fprintf(f, "%02x", n->xtr_id[i]);
	fprintf(f, "%s %s %016llx\n", n->by_xtr_id ? "" : "-",
		n->by_xtr_id ? "-" : lisp_addr_format(&n->addr, ab, sizeof(ab)),
		(unsigned long long)n->nonce);
}

/* The text of a state file. */
static void snapshot_format(const struct ms_snapshot *s, FILE *f)
{
	fprintf(f, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i < s->nregs; i++)
		format_reg(f, s, &s->regs[i]);
	for (size_t i = 0; i < s->nnonces; i++)
		format_nonce(f, s, &s->nonces[i]);
}

int ms_snapshot_write(const struct ms_snapshot *s, const char *path)
{
	char tmp[4096], dir[4096];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	snapshot_format(s, f);
	if (fflush(f) != 0)
		rc = -errno;
	else if (ferror(f))
		rc = -EIO;
	else if (fsync(fd) != 0)
		rc = -errno;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) != 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* the rename reaches the disk with its directory */
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int ms_state_text(struct ms *ms, double now, char **buf, size_t *len)
{
	struct ms_snapshot *s = ms_snapshot_take(ms, now);
	FILE *f = open_memstream(buf, len);
	int rc = 0;

	if (f) {
		snapshot_format(s, f);
		if (fclose(f) != 0)
			rc = -ENOMEM;
	} else {
		rc = -errno;
	}
	ms_snapshot_free(s);
	if (rc < 0) {
		ms->dirty = true;
		if (f)
			free(*buf);
		*buf = NULL;
	}
	return rc;
}

int ms_save(struct ms *ms, const char *path, double now)
{
	struct ms_snapshot *s = ms_snapshot_take(ms, now);
	int rc = ms_snapshot_write(s, path);

	ms_snapshot_free(s);
	if (rc < 0)
		ms->dirty = true;
	return rc;
}

bool ms_dirty(const struct ms *ms)
{
	return ms->dirty;
}

void ms_mark_dirty(struct ms *ms)
{
	ms->dirty = true;
}

static bool parse_u(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static bool parse_time(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return false;
	*out = strtod(s, &end);
	return !*end && *out >= 0 && *out < 1e11;
}

static bool parse_xtr_id(const char *s, bool *has, uint8_t *id)
{
	*has = strcmp(s, "-") != 0;
	if (!*has)
		return true;
	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		id[i] = (uint8_t)v;
	}
	return true;
}

/*
 * A saved registrant line, split into words: 0 taken, 1 skipped (not alive,
 * site gone, not allowed, a duplicate), or -EINVAL. Without apply, only checked.
 */
static int load_line(struct ms *ms, char **w, size_t n, double now, bool apply)
{
	struct lisp_locator *locs = ms->locs;
	unsigned long iid, ttl, proxy, want, port, life, nloc, v[5];
	struct ms_site *site = NULL;
	struct ms_registrant *r;
	struct ms_reg *reg;
	struct ms_cfg *cfg;
	struct lisp_prefix p;
	struct lisp_addr addr;
	double first, last;
	uint8_t xtr_id[16];
	bool has_id;

	if (n < 14 || strcmp(w[0], "R") != 0 || !parse_u(w[1], 0xffffffffu, &iid) ||
	    lisp_prefix_parse(w[2], (uint32_t)iid, &p) < 0 || !parse_time(w[4], &first) ||
	    !parse_u(w[5], 0xffffffffu, &ttl) || !parse_u(w[6], 1, &proxy) ||
	    !parse_u(w[7], 1, &want) || lisp_addr_parse(w[8], &addr) < 0 ||
	    (addr.afi != LISP_AFI_IPV4 && addr.afi != LISP_AFI_IPV6) ||
	    !parse_u(w[9], 65535, &port) || !parse_xtr_id(w[10], &has_id, xtr_id) ||
	    !parse_time(w[11], &last) || !parse_u(w[12], 0xffffffffu, &life) ||
	    !parse_u(w[13], MAX_LOCS, &nloc) || nloc == 0 || n != 14 + 6 * nloc)
		return -EINVAL;
	for (unsigned long i = 0; i < nloc; i++) {
		char **x = w + 14 + 6 * i;

		memset(&locs[i], 0, sizeof(locs[i]));
		if (lisp_addr_parse(x[0], &locs[i].addr[0]) < 0 || !parse_u(x[1], 255, &v[0]) ||
		    !parse_u(x[2], 255, &v[1]) || !parse_u(x[3], 255, &v[2]) ||
		    !parse_u(x[4], 255, &v[3]) || !parse_u(x[5], 1, &v[4]))
			return -EINVAL;
		locs[i].naddr = 1;
		locs[i].priority = (uint8_t)v[0];
		locs[i].weight = (uint8_t)v[1];
		locs[i].mpriority = (uint8_t)v[2];
		locs[i].mweight = (uint8_t)v[3];
		locs[i].reachable = v[4];
	}
	if (!apply)
		return 0;
	if (last + (double)life <= now)
		return 1; /* expired while we were down */
	for (size_t i = 0; i < ms->nsites && !site; i++)
		if (ms->sites[i]->alive && strcmp(ms->sites[i]->name, w[3]) == 0)
			site = ms->sites[i];
	cfg = site ? cfg_allowing(ms, &p) : NULL;
	if (!cfg || cfg->site != site || !locs_allowed(site, locs, (uint8_t)nloc))
		return 1; /* the configuration no longer takes it */
	reg = ptable_lookup_exact(ms->regs, &p);
	if (reg && reg->site != site)
		return 1;
	for (r = reg ? reg->regs : NULL; r; r = r->next)
		if (has_id ? r->has_xtr_id && memcmp(r->xtr_id, xtr_id, 16) == 0
			   : !r->has_xtr_id && lisp_addr_equal(&r->addr, &addr))
			return 1; /* a duplicate line */
	if (!reg) {
		reg = xcalloc(1, sizeof(*reg));
		reg->p = p;
		reg->site = site;
		reg->first = first;
		if (ptable_add(ms->regs, &reg->p, reg) < 0) {
			free(reg);
			return -ENOMEM;
		}
	}
	reg->ttl = (uint32_t)ttl;
	reg->proxy_reply = proxy;
	reg->want_map_notify = want;
	r = xcalloc(1, sizeof(*r));
	r->reg = reg;
	r->addr = addr;
	r->port = (uint16_t)port;
	r->has_xtr_id = has_id;
	memcpy(r->xtr_id, xtr_id, 16);
	r->last = last;
	r->life = (uint32_t)life;
	set_locs(r, locs, (uint8_t)nloc);
	r->next = reg->regs;
	reg->regs = r;
	heap_push(ms, r);
	return 0;
}

static bool parse_nonce(const char *s, uint64_t *out)
{
	char *end;

	if (strlen(s) != 16 || !strchr("0123456789abcdef", s[0]))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 16);
	return !errno && !*end;
}

/*
 * A saved nonce line (N SITE KEY-TAG XTR-ID|- ADDR|- NONCE): 1 (it is no
 * registration: taken, or skipped when the site is gone or its key changed,
 * or its table is full), or -EINVAL. Without apply, only checked.
 */
static int load_nonce(struct ms *ms, char **w, size_t n, bool apply)
{
	char tag[2 * NONCE_TAG_LEN + 1];
	struct ms_site *site = NULL;
	struct lisp_addr addr = { 0 };
	struct nonce_seen *e;
	uint8_t xtr_id[16] = { 0 };
	uint64_t nonce;
	bool has_id;

	if (n != 6 || strlen(w[2]) != 2 * NONCE_TAG_LEN ||
	    strspn(w[2], "0123456789abcdef") != 2 * NONCE_TAG_LEN ||
	    !parse_xtr_id(w[3], &has_id, xtr_id) || has_id != (strcmp(w[4], "-") == 0) ||
	    (!has_id && (lisp_addr_parse(w[4], &addr) < 0 ||
			 (addr.afi != LISP_AFI_IPV4 && addr.afi != LISP_AFI_IPV6))) ||
	    !parse_nonce(w[5], &nonce))
		return -EINVAL;
	if (!apply)
		return 1;
	for (size_t i = 0; i < ms->nsites && !site; i++)
		if (ms->sites[i]->alive && strcmp(ms->sites[i]->name, w[1]) == 0)
			site = ms->sites[i];
	if (!site || nonce_tag(site->conf->key, site->conf->keylen, tag) < 0 ||
	    strcmp(tag, w[2]) != 0)
		return 1; /* the site is gone, or has another key now: its xTRs start afresh */
	nonces_sync_key(site);
	e = nonce_entry(site, has_id, xtr_id, &addr, true);
	if (e && nonce > e->nonce)
		e->nonce = nonce;
	return 1;
}

int ms_load(struct ms *ms, const char *path, double now, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *w[14 + 6 * MAX_LOCS], *save;
	size_t cap = 0, lineno = 0;
	int loaded = 0, rc = 0, pass = 0;
	ssize_t len;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* pass 0 checks every line, pass 1 takes them: a bad file changes nothing */
next_pass:
	while ((len = getline(&line, &cap, f)) >= 0) {
		size_t n = 0;

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0 &&
			    strncmp(line, STATE_MAGIC_V1, strlen(STATE_MAGIC_V1)) != 0) {
				snprintf(err, errlen, "%s:1: not a Map-Server state file", path);
				rc = -EINVAL;
				break;
			}
			continue;
		}
		if (len > 65536) {
			snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			if (n == sizeof(w) / sizeof(w[0])) {
				n++;
				break;
			}
			w[n++] = t;
		}
		if (n == 0)
			continue;
		if (n > sizeof(w) / sizeof(w[0]))
			rc = -EINVAL;
		else if (strcmp(w[0], "N") == 0)
			rc = load_nonce(ms, w, n, pass == 1);
		else
			rc = load_line(ms, w, n, now, pass == 1);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno,
				 rc != -EINVAL		  ? strerror(-rc)
				 : strcmp(w[0], "N") == 0 ? "malformed nonce"
							  : "malformed registration");
			break;
		}
		loaded += pass == 1 && rc == 0;
		rc = 0;
	}
	if (rc == 0 && pass++ == 0) {
		rewind(f);
		lineno = 0;
		goto next_pass;
	}
	free(line);
	fclose(f);
	return rc < 0 ? rc : loaded;
}
