/*
 * ETR (RFC 9301 §8.2, spec/lisp-wire.md §10.1): registers every
 * database-mapping and every learned dynamic EID with every configured
 * Map-Server (want-map-notify, HMAC-SHA-256 or, per map-server, SHA-1),
 * refreshes every 60 s, retransmits 1, 2, 4 ... 60 s until the
 * Map-Notify, deregisters (TTL 0) what the configuration drops, and turns
 * a Map-Notify saying an EID of ours moved into an away entry (spec
 * §10.2, away.c), once: a Map-Server's unsolicited Map-Notifies pass its
 * replay window (lib/replay) first. The local table it keeps is what the
 * data plane looks up. Map-Requests are answered in answer.c, dynamic
 * EIDs learned in dyn.c. Packets leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/platform.h"
#include "lib/lpmh.h"
#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "lib/replay.h"
#include "lib/xalloc.h"
#include "xtr-gateway/etr/etr_int.h"

/*
 * Unsolicited Map-Notifies of our Map-Servers carry their clock in ns
 * (ms/ms.c): one older than our start less this is a replay from an
 * earlier life of ours. Longer than a Map-Notify is retransmitted (75 s
 * over MS_NOTIFY_TRIES sends); assumes the two clocks agree within the
 * difference (45 s).
 */
#define NOTIFY_AGE_MAX 120.0

static void local_free(void *v)
{
	struct etr_local *l = v;

	if (l->kind == LOCAL_DYN_HOST)
		free(((struct dyn *)v)->regs);
	free(v);
}

int etr_local_put(struct etr *e, const struct lisp_prefix *p, void *v)
{
	int rc = ptable_add(e->local, p, v);

	if (rc == 0 && (rc = lpmh_set(e->idx, p, v)) < 0) {
		((struct etr_local *)v)->kind = 0; /* freed as a plain entry */
		ptable_del(e->local, p);
		return rc == -ENOSPC ? rc : -EINVAL;
	}
	return rc;
}

void etr_local_remove(struct etr *e, const struct lisp_prefix *p)
{
	const struct etr_local *l = ptable_lookup_exact(e->local, p);

	if (l && l->kind == LOCAL_AWAY)
		e->naway--;
	lpmh_del(e->idx, p);
	ptable_del(e->local, p);
}

void etr_event(struct etr *e, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	if (e->io.event)
		e->io.event(e->io.arg, ev, p, ifname);
}

struct etr *etr_new(const struct etr_io *io)
{
	struct etr *e = xcalloc(1, sizeof(*e));

	e->io = *io;
	e->local = ptable_new(local_free);
	e->idx = lpmh_new(ETR_DYN_MAX + ETR_AWAY_MAX + ETR_DB_MAX);
	if (!e->idx)
		fatal("etr: out of memory for the local table");
	e->nonce = platform_realtime_ns();
	e->started_ns = e->nonce;
	e->replies = ratelim_new(XTR_REPLY_DESTINATIONS);
	return e;
}

/*
 * The xTR-ID of our Map-Registers (RFC 9301 §5.6, the I bit): a digest of
 * the locators we announce, so that it stays the same across restarts and
 * differs between the gateways of a site. The Map-Server keys its
 * strict-nonce state and its registrants on it (inside what is signed), so
 * that a captured Map-Register replayed from any other source address is
 * refused as the replay it is, instead of being taken for a new xTR.
 */
static void xtr_id_of(const struct lisp_locator *locs, uint8_t n, uint8_t out[16])
{
	static const char tag[] = "vmroam xTR-ID";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(out, 0, 16);
	if (!c)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, tag, sizeof(tag) - 1) == 1) {
		for (uint8_t i = 0; i < n; i++) {
			const struct lisp_addr *a = &locs[i].addr[0];
			uint8_t afi[2] = { (uint8_t)(a->afi >> 8), (uint8_t)a->afi };
			int alen = lisp_afi_addr_len(a->afi);

			EVP_DigestUpdate(c, afi, 2);
			if (alen > 0)
				EVP_DigestUpdate(c, a->u.b, (size_t)alen);
		}
		if (EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 16)
			memcpy(out, md, 16);
	}
	EVP_MD_CTX_free(c);
}

/*
 * The nonce of a Map-Register: the realtime clock in ns, and always above
 * the last one. A Map-Server with strict nonces keeps our last one across
 * its restarts and ours: had the counter only started from the clock at
 * our start, a clock stepped back across a restart would have kept every
 * Map-Register refused for good (the counter grows by one a message);
 * following the clock, we are refused only until it passes the old value.
 */
static uint64_t register_nonce(struct etr *e)
{
	uint64_t t = platform_realtime_ns();

	e->nonce = t > e->nonce ? t : e->nonce + 1;
	return e->nonce;
}

/* Map-Register of one record (locs, nloc) with ttl to ms: its nonce, or 0 if not sent. */
static uint64_t send_map_register(struct etr *e, const struct lisp_addr *ms, uint8_t alg,
				  struct lisp_auth_key *key, const struct lisp_prefix *p,
				  struct lisp_locator *locs, uint8_t nloc, uint32_t ttl)
{
	struct lisp_map_register m = { .want_map_notify = true, /* withdrawals too */
				       .xtr_id_present = true,
				       .nonce = register_nonce(e),
				       .auth = { .alg_id = alg } };
	struct lisp_eid_record rec = {
		.ttl = ttl, .authoritative = true, .eid = *p, .locs = locs, .loc_count = nloc
	};
	struct buf_writer w;

	xtr_id_of(locs, nloc, m.xtr_id);
	m.site_id = e->conf->site_id; /* the xTRs of one site (a multihomed DC) share it */
	for (size_t i = 0; i < e->conf->nmap_servers; i++)
		if (lisp_addr_equal(&e->conf->map_servers[i].addr, ms))
			m.proxy_reply = e->conf->map_servers[i].proxy_reply;
	buf_writer_init(&w, e->out, sizeof(e->out));
	if (lisp_msg_encode_map_register(&w, &m, &rec, 1) < 0 ||
	    lisp_auth_sign(key, e->out, w.off) < 0)
		return 0;
	if (e->io.send(e->io.arg, ms, LISP_CONTROL_PORT, e->out, w.off) < 0)
		return 0;
	e->c.registers_sent++;
	return m.nonce;
}

/* Forgets the pending withdrawal of p to ms (acknowledged, superseded, given up). */
static void withdrawal_drop(struct etr *e, struct withdrawal **pp)
{
	struct withdrawal *w = *pp;

	*pp = w->next;
	lisp_auth_key_free(w->key);
	free(w);
	e->nwithdrawals--;
}

static struct withdrawal **withdrawal_find(struct etr *e, const struct lisp_prefix *p,
					   const struct lisp_addr *ms)
{
	struct withdrawal **pp;

	for (pp = &e->withdrawals; *pp; pp = &(*pp)->next)
		if (lisp_prefix_equal(&(*pp)->p, p) && lisp_addr_equal(&(*pp)->ms, ms))
			return pp;
	return NULL;
}

/* A withdrawal of p to map-server ms of conf was sent with nonce: keep it until acknowledged. */
static void withdrawal_keep(struct etr *e, const struct xtr_conf_ms *ms,
			    const struct lisp_prefix *p, uint8_t nloc, uint64_t nonce, double now)
{
	struct withdrawal **pp = withdrawal_find(e, p, &ms->addr), *w;

	if (pp)
		withdrawal_drop(e, pp);
	if (e->nwithdrawals >= ETR_WITHDRAW_MAX)
		return; /* sent once, like before */
	w = xcalloc(1, sizeof(*w) + nloc * sizeof(w->locs[0]));
	w->p = *p;
	w->ms = ms->addr;
	w->alg = ms->alg;
	w->key = lisp_auth_key_new(ms->key, ms->keylen);
	w->nonce = nonce;
	w->next_at = now + 1;
	w->backoff = 1;
	w->tries = 1;
	w->nloc = nloc;
	memcpy(w->locs, e->locs, nloc * sizeof(w->locs[0]));
	w->next = e->withdrawals;
	e->withdrawals = w;
	e->nwithdrawals++;
}

/* Sends again the withdrawals due; gives up on those sent ETR_WITHDRAW_TRIES times. */
static void withdrawals_due(struct etr *e, double now)
{
	char b[LISP_PREFIX_STRLEN];

	for (struct withdrawal **pp = &e->withdrawals; *pp;) {
		struct withdrawal *w = *pp;

		if (w->next_at > now) {
			pp = &w->next;
			continue;
		}
		if (w->tries >= ETR_WITHDRAW_TRIES) {
			e->c.withdrawals_unacked++;
			log_warn_rl(&e->rl,
				    "etr: withdrawal of %s not acknowledged after %u tries: it "
				    "stays at the Map-Server until it expires",
				    lisp_prefix_format(&w->p, b, sizeof(b)), w->tries);
			withdrawal_drop(e, pp);
			continue;
		}
		w->nonce = send_map_register(e, &w->ms, w->alg, w->key, &w->p, w->locs, w->nloc, 0);
		w->tries++;
		w->backoff *= 2;
		w->next_at = now + w->backoff;
		pp = &w->next;
	}
}

/* A Map-Notify acknowledging a pending withdrawal: true (handled) if it is one. */
static bool withdrawal_acked(struct etr *e, const struct lisp_addr *src, uint64_t nonce,
			     const uint8_t *buf, size_t len)
{
	for (struct withdrawal **pp = &e->withdrawals; nonce && *pp; pp = &(*pp)->next) {
		if ((*pp)->nonce != nonce || !lisp_addr_equal(src, &(*pp)->ms))
			continue;
		if (lisp_auth_verify((*pp)->key, buf, len) < 0)
			return false; /* (counted as an authentication failure by the caller) */
		withdrawal_drop(e, pp);
		e->c.notifies++;
		return true;
	}
	return false;
}

void etr_send_register(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
		       struct etr_reg *r, uint32_t ttl, double now)
{
	const struct xtr_conf_ms *ms = &conf->map_servers[r->ms];
	struct withdrawal **pending = withdrawal_find(e, &r->p, &ms->addr);
	uint8_t nloc = etr_dbmap_locs(e, conf, &conf->dbmaps[r->dbmap], e->locs);
	uint64_t nonce;

	if (pending && ttl) /* registered again: the withdrawal must not overtake it */
		withdrawal_drop(e, pending);
	nonce = send_map_register(e, &ms->addr, ms->alg, keys[r->ms], &r->p, e->locs, nloc, ttl);
	if (!nonce)
		return;
	if (r->attempts == 0 || ttl == 0) /* refreshes are not events */
		evh_add(e->io.evh, ttl ? "map-register" : "map-register-withdraw", &r->p, &ms->addr,
			NULL);
	if (!ttl)
		withdrawal_keep(e, ms, &r->p, nloc, nonce, now);
	r->nonce = ttl ? nonce : 0;
	r->last_sent = now;
	r->attempts++;
}

struct collect_filter {
	int kind; /* 0: any */
	double expired_at;
};

/* Collect filter: entries of the kind asked for (LOCAL_AWAY: expired, if asked). */
static bool collect_one(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct collect_filter *f = arg;
	const struct etr_local *l = v;

	(void)p;
	if (f->kind && l->kind != f->kind)
		return false;
	return !(f->kind == LOCAL_AWAY && f->expired_at > 0 &&
		 ((const struct away *)v)->expires > f->expired_at);
}

struct etr_collect etr_collect(const struct etr *e, const struct lisp_prefix *under, int kind,
			       double expired_at)
{
	struct collect_filter f = { .kind = kind, .expired_at = expired_at };
	struct etr_collect x;

	x.n = ptable_collect(e->local, under, collect_one, &f, &x.v, NULL);
	return x;
}

/* The database-mapping and dynamic-eid prefixes of the local table, made again from conf. */
static void rebuild_local(struct etr *e, const struct xtr_conf *conf)
{
	struct etr_collect x = etr_collect(e, NULL, 0, 0);

	for (size_t i = 0; i < x.n; i++) {
		const struct etr_local *l = ptable_lookup_exact(e->local, &x.v[i]);

		if (l->kind == LOCAL_DB || l->kind == LOCAL_DYN_POLICY)
			etr_local_remove(e, &x.v[i]);
	}
	free(x.v);
	for (size_t i = 0; i < conf->ndbmaps; i++) {
		const struct xtr_conf_dbmap *m = &conf->dbmaps[i];
		struct etr_local *l;

		if (m->dyn >= 0 && !etr_dyn_active(conf, m->dyn))
			continue; /* a dynamic-eid on no interface learns nothing */
		l = xcalloc(1, sizeof(*l));
		l->kind = m->dyn >= 0 ? LOCAL_DYN_POLICY : LOCAL_DB;
		if (etr_local_put(e, &m->p, l) < 0)
			free(l); /* a learned host of the same length keeps its entry */
	}
}

/*
 * The replay windows of conf's map-servers: a map-server kept (same
 * address, same notify-nonce) keeps its window; a new one starts with the
 * nonces of our earlier lives refused.
 */
static struct replay *replay_configure(const struct etr *e, const struct xtr_conf *conf)
{
	struct replay *r = xcalloc(conf->nmap_servers + 1, sizeof(*r));
	uint64_t floor = e->started_ns - (uint64_t)(NOTIFY_AGE_MAX * 1e9);

	for (size_t i = 0; i < conf->nmap_servers; i++) {
		const struct xtr_conf_ms *ms = &conf->map_servers[i];
		enum replay_mode mode = ms->random_nonces ? REPLAY_RANDOM : REPLAY_INCREASING;

		replay_init(&r[i], mode, floor);
		for (size_t j = 0; e->conf && j < e->conf->nmap_servers; j++)
			if (lisp_addr_equal(&e->conf->map_servers[j].addr, &ms->addr) &&
			    e->replay[j].mode == mode)
				r[i] = e->replay[j];
	}
	return r;
}

/* (Re)builds the registrations of conf; those the new one drops are withdrawn with TTL 0. */
void etr_configure(struct etr *e, const struct xtr_conf *conf, double now)
{
	struct etr_reg *old = e->regs;
	size_t nold = e->nregs;
	const struct xtr_conf *oldconf = e->conf;
	struct lisp_auth_key **oldkeys = e->keys;
	struct replay *replay = replay_configure(e, conf); /* (reads the old configuration) */

	etr_dyn_fold(e); /* what the data plane refused under the old configuration */
	ratelim_set(e->replies, conf->reply.rate, conf->reply.burst, conf->reply.total);
	free(e->replay);
	e->replay = replay;
	e->conf = conf;
	e->keys = xcalloc(conf->nmap_servers + 1, sizeof(*e->keys));
	for (size_t i = 0; i < conf->nmap_servers; i++)
		e->keys[i] =
			lisp_auth_key_new(conf->map_servers[i].key, conf->map_servers[i].keylen);
	e->regs = xcalloc(conf->ndbmaps * conf->nmap_servers + 1, sizeof(*e->regs));
	e->nregs = 0;
	for (size_t d = 0; d < conf->ndbmaps; d++) {
		for (size_t s = 0; conf->dbmaps[d].dyn < 0 && s < conf->nmap_servers; s++) {
			struct etr_reg *r = &e->regs[e->nregs++];

			r->p = conf->dbmaps[d].p;
			r->dbmap = d;
			r->ms = s;
			r->next_at = now; /* register at once */
			r->backoff = 1;
		}
	}
	/* withdraw what is gone, with the old configuration's locators and keys */
	for (size_t i = 0; i < nold; i++) {
		const struct lisp_addr *ms = &oldconf->map_servers[old[i].ms].addr;
		bool kept = false;

		for (size_t j = 0; j < e->nregs && !kept; j++)
			kept = lisp_prefix_equal(&e->regs[j].p, &old[i].p) &&
			       lisp_addr_equal(&conf->map_servers[e->regs[j].ms].addr, ms);
		if (!kept && old[i].last_ack)
			etr_send_register(e, oldconf, oldkeys, &old[i], 0, now);
	}
	rebuild_local(e, conf);
	etr_dyn_configure(e, oldconf, oldkeys, now);
	for (size_t i = 0; oldconf && i < oldconf->nmap_servers; i++)
		lisp_auth_key_free(oldkeys[i]);
	free(oldkeys);
	free(old);
}

void etr_free(struct etr *e)
{
	if (!e)
		return;
	for (size_t i = 0; e->conf && i < e->conf->nmap_servers; i++)
		lisp_auth_key_free(e->keys[i]);
	free(e->keys);
	free(e->replay);
	ratelim_free(e->replies);
	free(e->regs);
	free(e->pol);
	while (e->withdrawals)
		withdrawal_drop(e, &e->withdrawals);
	ptable_free(e->local);
	lpmh_free(e->idx);
	free(e);
}

void etr_reg_due(struct etr *e, struct etr_reg *r, double now)
{
	if (r->next_at > now)
		return;
	if (r->nonce) { /* unanswered: back off */
		e->c.register_timeouts++;
		r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
	}
	etr_send_register(e, e->conf, e->keys, r, RECORD_TTL, now);
	r->next_at = now + r->backoff;
}

void etr_tick(struct etr *e, double now)
{
	etr_away_expire(e, now);
	withdrawals_due(e, now);
	for (size_t i = 0; i < e->nregs; i++)
		etr_reg_due(e, &e->regs[i], now);
	etr_dyn_tick(e, now);
}

/* True if record r carries exactly the locators of database-mapping m. */
static bool same_locators(struct etr *e, const struct xtr_conf_dbmap *m,
			  const struct lisp_eid_record *r)
{
	uint8_t k, nl = etr_dbmap_locs(e, e->conf, m, e->locs);
	bool same = nl == r->loc_count;
	struct lisp_locator l;
	struct lisp_iter lit;

	lisp_locator_iter_init(&lit, r);
	for (k = 0; same && lisp_locator_iter_next(&lit, &l); k++)
		same = k < nl && lisp_addr_equal(&l.addr[0], &e->locs[k].addr[0]);
	return same;
}

/* True if a record of n is one of our mappings, or inside one, with the locators we announce. */
static bool own_mapping(struct etr *e, const struct lisp_map_notify *n)
{
	struct lisp_eid_record r;
	struct lisp_iter it;

	lisp_record_iter_init(&it, &n->records);
	while (lisp_record_iter_next(&it, &r)) {
		const struct dyn *d = ptable_lookup_exact(e->local, &r.eid);

		if (d && d->l.kind == LOCAL_DYN_HOST &&
		    same_locators(e, &e->conf->dbmaps[d->dbmap], &r))
			return true;
		/* or it names the locators we announce for it: not moved away from us (a
		 * Map-Notify the Map-Server sent another ETR of the site, replayed to us) */
		for (size_t i = 0; i < e->conf->ndbmaps; i++)
			if (lisp_prefix_contains(&e->conf->dbmaps[i].p, &r.eid) &&
			    same_locators(e, &e->conf->dbmaps[i], &r))
				return true;
	}
	return false;
}

/* Acknowledges Map-Notify buf from map-server s: the same content, type 5, our MAC. */
static void send_notify_ack(struct etr *e, size_t s, const struct lisp_addr *src,
			    const uint8_t *buf, size_t len)
{
	memcpy(e->out, buf, len);
	e->out[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY_ACK << 4 | (e->out[0] & 0x0f));
	if (lisp_auth_sign(e->keys[s], e->out, len) == 0 &&
	    e->io.send(e->io.arg, src, LISP_CONTROL_PORT, e->out, len) == 0)
		e->c.notify_acks_sent++;
}

/*
 * The replay window of map-server s for an authenticated unsolicited
 * Map-Notify: true to apply it. One taken before is acknowledged again
 * (the Map-Server lost our ack) but not applied; one too old is refused.
 */
static bool notify_fresh(struct etr *e, size_t s, const struct lisp_addr *src,
			 const struct lisp_map_notify *n, const uint8_t *buf, size_t len)
{
	char a[LISP_ADDR_STRLEN];
	int rc = replay_check(&e->replay[s], n->nonce);

	if (rc == -EALREADY) {
		e->c.notifies_repeated++;
		log_debug(LOG_REGISTER,
			  "etr: Map-Notify from %s: nonce %016llx taken before: acknowledged again",
			  lisp_addr_format(src, a, sizeof(a)), (unsigned long long)n->nonce);
		send_notify_ack(e, s, src, buf, len);
		return false;
	}
	if (rc < 0) {
		e->c.notifies_stale++;
		log_warn_rl(
			&e->rl,
			"etr: Map-Notify from %s: nonce %016llx older than its replay window or "
			"our start: refused (a replay?)",
			lisp_addr_format(src, a, sizeof(a)), (unsigned long long)n->nonce);
		return false;
	}
	return true;
}

/*
 * An unsolicited Map-Notify from one of our Map-Servers: its EIDs are now
 * registered by someone else. Authenticated, checked against the
 * Map-Server's replay window, acknowledged (Map-Notify-Ack, same content,
 * our MAC); a learned dynamic EID among them is forgotten (not
 * deregistered: the new site owns it now) and each becomes an away entry
 * until its TTL runs out.
 */
static void handle_moved(struct etr *e, const struct lisp_addr *src,
			 const struct lisp_map_notify *n, const uint8_t *buf, size_t len,
			 double now)
{
	char a[LISP_ADDR_STRLEN], p[LISP_PREFIX_STRLEN];
	struct lisp_eid_record r;
	struct lisp_iter it;
	size_t s = 0;

	while (s < e->conf->nmap_servers && !lisp_addr_equal(src, &e->conf->map_servers[s].addr))
		s++;
	if (s == e->conf->nmap_servers || len > sizeof(e->out)) {
		e->c.notifies_unmatched++;
		return;
	}
	if (lisp_auth_verify(e->keys[s], buf, len) < 0) {
		e->c.notify_auth_failures++;
		log_warn_rl(&e->rl, "etr: Map-Notify from %s: authentication failed",
			    lisp_addr_format(src, a, sizeof(a)));
		return;
	}
	if (!notify_fresh(e, s, src, n, buf, len))
		return;
	send_notify_ack(e, s, src, buf, len);
	lisp_record_iter_init(&it, &n->records);
	while (lisp_record_iter_next(&it, &r)) {
		const struct etr_local *l = ptable_lookup_exact(e->local, &r.eid);

		if (l && l->kind == LOCAL_DYN_HOST && r.ttl) {
			if (l->flags & LOCAL_F_LEAVING)
				e->c.leaving_moved++;
			etr_dyn_remove(e, e->conf, e->keys, &r.eid, false, now);
			e->c.dyn_moved++;
		}
		evh_add(e->io.evh, "moved", &r.eid, src, "Map-Notify");
		etr_away_install(e, src, &r, now);
		log_info("etr: %s moved away (Map-Notify from %s)",
			 lisp_prefix_format(&r.eid, p, sizeof(p)),
			 lisp_addr_format(src, a, sizeof(a)));
	}
	e->c.moved_notifies++;
}

struct nonce_find {
	uint64_t nonce;
	struct etr_reg *r;
};

static int find_nonce(const struct lisp_prefix *p, void *v, void *arg)
{
	struct nonce_find *f = arg;
	struct dyn *d = v;

	(void)p;
	for (size_t i = 0; d->l.kind == LOCAL_DYN_HOST && i < d->nregs; i++)
		if (d->regs[i].nonce == f->nonce) {
			f->r = &d->regs[i];
			return 1;
		}
	return 0;
}

/* The registration waiting for the Map-Notify with this nonce, or NULL. */
static struct etr_reg *reg_by_nonce(struct etr *e, uint64_t nonce)
{
	struct nonce_find f = { .nonce = nonce };

	if (!nonce)
		return NULL;
	for (size_t i = 0; i < e->nregs; i++)
		if (e->regs[i].nonce == nonce)
			return &e->regs[i];
	ptable_walk(e->local, NULL, find_nonce, &f);
	return f.r;
}

static void handle_notify(struct etr *e, const struct lisp_addr *src, const uint8_t *buf,
			  size_t len, double now)
{
	char a[LISP_ADDR_STRLEN];
	struct lisp_map_notify n;
	struct etr_reg *r;

	if (lisp_msg_decode_map_notify(buf, len, &n) < 0 || n.ack) {
		e->c.malformed++;
		return;
	}
	if (withdrawal_acked(e, src, n.nonce, buf, len))
		return;
	r = reg_by_nonce(e, n.nonce);
	if (r && lisp_addr_equal(src, &e->conf->map_servers[r->ms].addr)) {
		if (lisp_auth_verify(e->keys[r->ms], buf, len) < 0) {
			e->c.notify_auth_failures++;
			log_warn_rl(&e->rl, "etr: Map-Notify from %s: authentication failed",
				    lisp_addr_format(src, a, sizeof(a)));
			return;
		}
		r->nonce = 0;
		if (r->last_ack == 0)
			evh_add(e->io.evh, "registered", &r->p, src, "Map-Notify");
		r->last_ack = now;
		r->backoff = 1;
		r->next_at = r->last_sent + REFRESH;
		e->c.notifies++;
		return;
	}
	if (own_mapping(e, &n)) {
		e->c.notifies_unmatched++; /* a late copy of an acknowledgement: not a move */
		return;
	}
	handle_moved(e, src, &n, buf, len, now);
}

void etr_input(struct etr *e, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	       size_t len, double now)
{
	struct lisp_map_request q;
	struct lisp_ecm ecm;

	switch (lisp_msg_type(buf, len)) {
	case LISP_TYPE_MAP_NOTIFY:
		handle_notify(e, src, buf, len, now);
		break;
	case LISP_TYPE_MAP_REQUEST:
		if (lisp_msg_decode_map_request(buf, len, &q) < 0)
			e->c.malformed++;
		else
			etr_answer(e, src, &q, sport, now);
		break;
	case LISP_TYPE_ECM: /* a Map-Request the Map-Server forwarded */
		if (lisp_msg_decode_ecm(buf, len, &ecm) < 0 ||
		    lisp_msg_decode_map_request(ecm.inner.payload, ecm.inner.payload_len, &q) < 0)
			e->c.malformed++;
		else
			etr_answer(e, src, &q, ecm.inner.sport, now);
		break;
	default:
		e->c.unsupported++;
		break;
	}
}

const struct lpmh *etr_local_table(const struct etr *e)
{
	return e->idx;
}

const struct etr_counters *etr_counters(const struct etr *e)
{
	return &e->c;
}

size_t etr_reg_count(const struct etr *e)
{
	return e->nregs;
}

void etr_reg_info(const struct etr *e, size_t i, struct etr_reg_info *out)
{
	const struct etr_reg *r = &e->regs[i];

	out->p = r->p;
	out->dbmap = &e->conf->dbmaps[r->dbmap];
	out->map_server = e->conf->map_servers[r->ms].addr;
	out->last_sent = r->last_sent;
	out->last_ack = r->last_ack;
	out->attempts = r->attempts;
	out->registered = r->last_ack > 0 && r->last_sent - r->last_ack < EXPIRE;
}
