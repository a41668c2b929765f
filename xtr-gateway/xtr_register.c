/*
 * ETR (RFC 9301 §8.2, spec/lisp-wire.md §10.1): registers every
 * database-mapping with every configured Map-Server (want-map-notify,
 * HMAC-SHA-256), refreshes every 60 s, retransmits 1, 2, 4 ... 60 s until
 * the Map-Notify, deregisters (TTL 0) what the configuration drops, and
 * answers Map-Requests for its EID-prefixes. Packets leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lisp_auth.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define REFRESH	    60.0 /* s between registrations */
#define BACKOFF_MAX 60.0
#define EXPIRE	    180.0 /* the Map-Server forgets an unrefreshed registration */
#define MAX_LOCS    32
#define RECORD_TTL  1440
#define AWAY_LOCS   8

/* One database-mapping registered with one Map-Server. */
struct etr_reg {
	struct lisp_prefix p;
	size_t dbmap, ms; /* indices in the configuration */
	uint64_t nonce;	  /* of the Map-Register awaiting its Map-Notify, 0: none */
	double last_sent, last_ack, next_at, backoff;
	uint64_t attempts;
};

/* An EID the Map-Server said now lives elsewhere (Cisco shows it as a Null0 host route). */
struct away {
	struct lisp_prefix p;
	struct lisp_addr told_by;
	double since, expires;
	uint8_t nloc;
	struct lisp_locator locs[AWAY_LOCS];
};

struct etr {
	struct etr_io io;
	struct ptable *away;
	const struct xtr_conf *conf;
	struct lisp_auth_key **keys; /* per map-server */
	struct etr_reg *regs;
	size_t nregs;
	uint64_t nonce; /* Map-Register counter, started from the clock: it grows across restarts */
	struct etr_counters c;
	struct log_rate rl;
	struct lisp_locator locs[MAX_LOCS];
	uint8_t out[4096];
};

struct etr *etr_new(const struct etr_io *io)
{
	struct etr *e = xcalloc(1, sizeof(*e));
	struct timespec ts;

	e->io = *io;
	e->away = ptable_new(free);
	clock_gettime(CLOCK_REALTIME, &ts);
	e->nonce = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return e;
}

/* The locators of database-mapping m, interface addresses resolved now. */
static uint8_t dbmap_locs(struct etr *e, const struct xtr_conf *conf,
			  const struct xtr_conf_dbmap *m, struct lisp_locator *out)
{
	const struct xtr_conf_locator *v = m->locs;
	size_t n = m->nlocs;
	uint8_t k = 0;

	for (size_t i = 0; m->locset[0] && i < conf->nlocsets; i++) {
		if (strcmp(conf->locsets[i].name, m->locset) == 0) {
			v = conf->locsets[i].locs;
			n = conf->locsets[i].nlocs;
		}
	}
	for (size_t i = 0; i < n && k < MAX_LOCS; i++) {
		struct lisp_locator *l = &out[k];

		memset(l, 0, sizeof(*l));
		l->addr[0] = v[i].addr;
		if (v[i].addr.afi == LISP_AFI_NONE &&
		    e->io.if_addr(e->io.arg, v[i].ifname, v[i].if_afi, &l->addr[0]) < 0)
			continue; /* interface without an address (yet): not announced */
		l->naddr = 1;
		l->priority = v[i].priority;
		l->weight = v[i].weight;
		l->mpriority = 255;
		l->local = l->reachable = true;
		k++;
	}
	return k;
}

/* Sends r's Map-Register (TTL 0: a withdrawal) under conf and its keys. */
static void send_register(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
			  struct etr_reg *r, uint32_t ttl, double now)
{
	const struct xtr_conf_ms *ms = &conf->map_servers[r->ms];
	struct lisp_map_register m = { .want_map_notify = ttl != 0,
				       .nonce = ++e->nonce,
				       .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct lisp_eid_record rec = {
		.ttl = ttl, .authoritative = true, .eid = r->p, .locs = e->locs
	};
	struct buf_writer w;

	rec.loc_count = dbmap_locs(e, conf, &conf->dbmaps[r->dbmap], e->locs);
	buf_writer_init(&w, e->out, sizeof(e->out));
	if (lisp_msg_encode_map_register(&w, &m, &rec, 1) < 0 ||
	    lisp_auth_sign(keys[r->ms], e->out, w.off) < 0)
		return;
	if (e->io.send(e->io.arg, &ms->addr, LISP_CONTROL_PORT, e->out, w.off) == 0)
		e->c.registers_sent++;
	r->nonce = ttl ? m.nonce : 0;
	r->last_sent = now;
	r->attempts++;
}

/* (Re)builds the registrations of conf; those the new one drops are withdrawn with TTL 0. */
void etr_configure(struct etr *e, const struct xtr_conf *conf, double now)
{
	struct etr_reg *old = e->regs;
	size_t nold = e->nregs;
	const struct xtr_conf *oldconf = e->conf;
	struct lisp_auth_key **oldkeys = e->keys;

	e->conf = conf;
	e->keys = xcalloc(conf->nmap_servers + 1, sizeof(*e->keys));
	for (size_t i = 0; i < conf->nmap_servers; i++)
		e->keys[i] =
			lisp_auth_key_new(conf->map_servers[i].key, conf->map_servers[i].keylen);
	e->regs = xcalloc(conf->ndbmaps * conf->nmap_servers + 1, sizeof(*e->regs));
	e->nregs = 0;
	for (size_t d = 0; d < conf->ndbmaps; d++) {
		for (size_t s = 0; s < conf->nmap_servers; s++) {
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
			send_register(e, oldconf, oldkeys, &old[i], 0, now);
	}
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
	free(e->regs);
	ptable_free(e->away);
	free(e);
}

struct expired {
	struct lisp_prefix *v;
	size_t n, cap;
	double now;
};

static int away_expired(const struct lisp_prefix *p, void *v, void *arg)
{
	struct expired *x = arg;
	const struct away *a = v;

	if (a->expires > x->now)
		return 0;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->v = xreallocarray(x->v, x->cap, sizeof(*x->v));
	}
	x->v[x->n++] = *p;
	return 0;
}

void etr_tick(struct etr *e, double now)
{
	struct expired x = { .now = now };

	ptable_walk(e->away, NULL, away_expired, &x);
	for (size_t i = 0; i < x.n; i++)
		ptable_del(e->away, &x.v[i]);
	free(x.v);
	for (size_t i = 0; i < e->nregs; i++) {
		struct etr_reg *r = &e->regs[i];

		if (r->next_at > now)
			continue;
		if (r->nonce) { /* unanswered: back off */
			e->c.register_timeouts++;
			r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
		}
		send_register(e, e->conf, e->keys, r, RECORD_TTL, now);
		r->next_at = now + r->backoff;
	}
}

/* True if a record of n is one of our database-mappings with the locators we announce. */
static bool own_mapping(struct etr *e, const struct lisp_map_notify *n)
{
	struct lisp_eid_record r;
	struct lisp_locator l;
	struct lisp_iter it, lit;

	lisp_record_iter_init(&it, &n->records);
	while (lisp_record_iter_next(&it, &r)) {
		for (size_t i = 0; i < e->conf->ndbmaps; i++) {
			uint8_t k, nl;
			bool same;

			if (!lisp_prefix_equal(&e->conf->dbmaps[i].p, &r.eid))
				continue;
			nl = dbmap_locs(e, e->conf, &e->conf->dbmaps[i], e->locs);
			same = nl == r.loc_count;
			lisp_locator_iter_init(&lit, &r);
			for (k = 0; same && lisp_locator_iter_next(&lit, &l); k++)
				same = k < nl && lisp_addr_equal(&l.addr[0], &e->locs[k].addr[0]);
			if (same)
				return true;
		}
	}
	return false;
}

static void install_away(struct etr *e, const struct lisp_addr *ms, const struct lisp_eid_record *r,
			 double now)
{
	struct away *a = ptable_lookup_exact(e->away, &r->eid);
	struct lisp_iter it;

	if (r->ttl == 0) {
		ptable_del(e->away, &r->eid);
		return;
	}
	if (!a) {
		a = xcalloc(1, sizeof(*a));
		a->p = r->eid;
		a->since = now;
		if (ptable_add(e->away, &a->p, a) < 0) {
			free(a);
			return;
		}
	}
	a->told_by = *ms;
	a->expires = now + r->ttl * 60.0;
	a->nloc = 0;
	lisp_locator_iter_init(&it, r);
	while (a->nloc < AWAY_LOCS && lisp_locator_iter_next(&it, &a->locs[a->nloc]))
		a->nloc++;
}

/*
 * An unsolicited Map-Notify from one of our Map-Servers: its EIDs are now
 * registered by someone else. Acknowledged (Map-Notify-Ack, same content,
 * our MAC) and kept as away entries until their TTL runs out.
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
	memcpy(e->out, buf, len);
	e->out[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY_ACK << 4 | (e->out[0] & 0x0f));
	if (lisp_auth_sign(e->keys[s], e->out, len) == 0 &&
	    e->io.send(e->io.arg, src, LISP_CONTROL_PORT, e->out, len) == 0)
		e->c.notify_acks_sent++;
	lisp_record_iter_init(&it, &n->records);
	while (lisp_record_iter_next(&it, &r)) {
		install_away(e, src, &r, now);
		log_info("etr: %s moved away (Map-Notify from %s)",
			 lisp_prefix_format(&r.eid, p, sizeof(p)),
			 lisp_addr_format(src, a, sizeof(a)));
	}
	e->c.moved_notifies++;
}

static void handle_notify(struct etr *e, const struct lisp_addr *src, const uint8_t *buf,
			  size_t len, double now)
{
	char a[LISP_ADDR_STRLEN];
	struct lisp_map_notify n;

	if (lisp_msg_decode_map_notify(buf, len, &n) < 0 || n.ack) {
		e->c.malformed++;
		return;
	}
	for (size_t i = 0; i < e->nregs; i++) {
		struct etr_reg *r = &e->regs[i];

		if (!r->nonce || r->nonce != n.nonce ||
		    !lisp_addr_equal(src, &e->conf->map_servers[r->ms].addr))
			continue;
		if (lisp_auth_verify(e->keys[r->ms], buf, len) < 0) {
			e->c.notify_auth_failures++;
			log_warn_rl(&e->rl, "etr: Map-Notify from %s: authentication failed",
				    lisp_addr_format(src, a, sizeof(a)));
			return;
		}
		r->nonce = 0;
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

/* The database-mapping holding eid (longest), or NULL. */
static const struct xtr_conf_dbmap *dbmap_holding(const struct xtr_conf *c,
						  const struct lisp_prefix *eid)
{
	const struct xtr_conf_dbmap *best = NULL;

	for (size_t i = 0; i < c->ndbmaps; i++)
		if (lisp_prefix_contains(&c->dbmaps[i].p, eid) &&
		    (!best || c->dbmaps[i].p.plen > best->p.plen))
			best = &c->dbmaps[i];
	return best;
}

/* Map-Reply for each EID of q that is ours, to the first ITR-RLOC we can reach. */
static void answer(struct etr *e, const struct lisp_map_request *q, uint16_t dport)
{
	struct lisp_map_reply m = { .nonce = q->nonce, .probe = q->probe };
	struct lisp_eid_record rec = { .ttl = RECORD_TTL, .authoritative = true, .locs = e->locs };
	const struct xtr_conf_dbmap *d;
	struct lisp_prefix eid;
	struct lisp_iter it;
	struct buf_writer w;

	lisp_prefix_iter_init(&it, &q->eids);
	while (lisp_prefix_iter_next(&it, &eid)) {
		d = dbmap_holding(e->conf, &eid);
		if (!d) {
			e->c.requests_not_ours++;
			continue;
		}
		rec.eid = d->p;
		rec.loc_count = dbmap_locs(e, e->conf, d, e->locs);
		buf_writer_init(&w, e->out, sizeof(e->out));
		if (lisp_msg_encode_map_reply(&w, &m, &rec, 1) < 0)
			continue;
		for (unsigned i = 0; i < q->itr_rloc_count; i++) {
			if (e->io.send(e->io.arg, &q->itr_rlocs[i], dport, e->out, w.off) == 0) {
				e->c.requests_answered++;
				break;
			}
		}
	}
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
			answer(e, &q, sport);
		break;
	case LISP_TYPE_ECM: /* a Map-Request the Map-Server forwarded */
		if (lisp_msg_decode_ecm(buf, len, &ecm) < 0 ||
		    lisp_msg_decode_map_request(ecm.inner.payload, ecm.inner.payload_len, &q) < 0)
			e->c.malformed++;
		else
			answer(e, &q, ecm.inner.sport);
		break;
	default:
		e->c.unsupported++;
		break;
	}
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

uint8_t etr_dbmap_locators(struct etr *e, const struct xtr_conf_dbmap *m, struct lisp_locator *out,
			   size_t max)
{
	uint8_t n = dbmap_locs(e, e->conf, m, e->locs);

	n = n < max ? n : (uint8_t)max;
	memcpy(out, e->locs, n * sizeof(*out));
	return n;
}

struct away_walk {
	etr_away_fn fn;
	void *arg;
};

static int away_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct away_walk *w = arg;
	const struct away *a = v;
	struct etr_away_info info = { .p = *p,
				      .told_by = a->told_by,
				      .since = a->since,
				      .expires = a->expires,
				      .nloc = a->nloc,
				      .locs = a->locs };

	return w->fn(&info, w->arg);
}

int etr_away_walk(const struct etr *e, etr_away_fn fn, void *arg)
{
	struct away_walk w = { .fn = fn, .arg = arg };

	return ptable_walk(e->away, NULL, away_one, &w);
}
