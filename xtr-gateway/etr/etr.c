/*
 * ETR (RFC 9301 §8.2, spec/lisp-wire.md §10.1): registers every
 * database-mapping and every learned dynamic EID with every configured
 * Map-Server (want-map-notify, HMAC-SHA-256 or, per map-server, SHA-1),
 * refreshes every 60 s, retransmits 1, 2, 4 ... 60 s until the
 * Map-Notify, deregisters (TTL 0) what the configuration drops, answers a
 * Map-Request for its EIDs with one Map-Reply (rate-limited per ITR-RLOC),
 * and turns a Map-Notify saying an EID of ours moved into an away entry
 * (spec §10.2), once: a Map-Server's unsolicited Map-Notifies pass its
 * replay window (lib/replay) first. The local table it keeps is what the
 * data plane looks up.
 * Dynamic EIDs: each dynamic-eid learns at most host-limit hosts; from the
 * data plane only without an eid-notify key (its FHRs tell) or with
 * `learning data-plane`; hosts learned from data are withdrawn after their
 * learning timeout of silence. Packets leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/lpmh.h"
#include "lib/ptable.h"
#include "lib/ratelim.h"
#include "lib/replay.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define REFRESH	       60.0 /* s between registrations */
#define BACKOFF_MAX    60.0
#define EXPIRE	       180.0 /* the Map-Server forgets an unrefreshed registration */
#define MAX_LOCS       32
#define RECORD_TTL     1440
/*
 * Unsolicited Map-Notifies of our Map-Servers carry their clock in ns
 * (ms/ms.c): one older than our start less this is a replay from an
 * earlier life of ours. Longer than a Map-Notify is retransmitted (75 s
 * over MS_NOTIFY_TRIES sends); assumes the two clocks agree within the
 * difference (45 s).
 */
#define NOTIFY_AGE_MAX 120.0

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
	struct etr_local l; /* first: the local table's view */
	struct lisp_prefix p;
	struct lisp_addr told_by;
	double since, expires;
	uint64_t smrs;
	struct mc_locator locs[ETR_AWAY_LOCS];
};

/* A learned dynamic EID and its registrations (one per map-server). */
struct dyn {
	struct etr_local l;
	struct lisp_prefix p;
	size_t dbmap; /* its dynamic-eid's database-mapping in the configuration */
	enum etr_source source;
	char who[64]; /* the first-hop router that notified it */
	double since, last_seen;
	struct etr_reg *regs;
	size_t nregs;
};

/* A dynamic-eid of the configuration: its hosts now, its counters (kept across reloads by name). */
struct etr_policy {
	char name[XTR_SITE_NAME_MAX];
	uint32_t iid;
	size_t hosts;
	uint64_t learned, aged, refused_data, refused_limit;
};

struct etr {
	struct etr_io io;
	struct ptable *local; /* database-mappings, dynamic-eid prefixes and hosts, away EIDs */
	struct lpmh *idx;     /* the same, hashed by length, for the data plane */
	size_t ndyn, naway;
	const struct xtr_conf *conf;
	struct lisp_auth_key **keys; /* per map-server */
	struct replay *replay;	     /* per map-server: its unsolicited Map-Notifies */
	uint64_t started_ns;	     /* realtime clock at etr_new() */
	struct ratelim *replies;     /* map-reply rate-limit, per ITR-RLOC */
	struct log_rate rl_replies;
	struct etr_reg *regs; /* of the plain database-mappings */
	size_t nregs;
	struct etr_policy *pol; /* per dynamic-eid of conf */
	size_t npol;
	uint64_t nonce; /* Map-Register counter, started from the clock: it grows across restarts */
	struct etr_counters c;
	struct log_rate rl;
	struct lisp_locator locs[MAX_LOCS];
	uint8_t out[4096];
};

static void local_free(void *v)
{
	struct etr_local *l = v;

	if (l->kind == LOCAL_DYN_HOST)
		free(((struct dyn *)v)->regs);
	free(v);
}

/* Adds p -> v to the local table and its index; 0 or -errno (v not taken). */
static int local_put(struct etr *e, const struct lisp_prefix *p, void *v)
{
	int rc = ptable_add(e->local, p, v);

	if (rc == 0 && (rc = lpmh_set(e->idx, p, v)) < 0) {
		((struct etr_local *)v)->kind = 0; /* freed as a plain entry */
		ptable_del(e->local, p);
		return rc == -ENOSPC ? rc : -EINVAL;
	}
	return rc;
}

static void local_remove(struct etr *e, const struct lisp_prefix *p)
{
	const struct etr_local *l = ptable_lookup_exact(e->local, p);

	if (l && l->kind == LOCAL_AWAY)
		e->naway--;
	lpmh_del(e->idx, p);
	ptable_del(e->local, p);
}

static void event(struct etr *e, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	if (e->io.event)
		e->io.event(e->io.arg, ev, p, ifname);
}

struct etr *etr_new(const struct etr_io *io)
{
	struct etr *e = xcalloc(1, sizeof(*e));
	struct timespec ts;

	e->io = *io;
	e->local = ptable_new(local_free);
	e->idx = lpmh_new(ETR_DYN_MAX + ETR_AWAY_MAX + ETR_DB_MAX);
	if (!e->idx)
		fatal("etr: out of memory for the local table");
	clock_gettime(CLOCK_REALTIME, &ts);
	e->nonce = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e->started_ns = e->nonce;
	e->replies = ratelim_new(XTR_REPLY_DESTINATIONS);
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
				       .auth = { .alg_id = ms->alg } };
	struct lisp_eid_record rec = {
		.ttl = ttl, .authoritative = true, .eid = r->p, .locs = e->locs
	};
	struct buf_writer w;

	rec.loc_count = dbmap_locs(e, conf, &conf->dbmaps[r->dbmap], e->locs);
	buf_writer_init(&w, e->out, sizeof(e->out));
	if (lisp_msg_encode_map_register(&w, &m, &rec, 1) < 0 ||
	    lisp_auth_sign(keys[r->ms], e->out, w.off) < 0)
		return;
	if (r->attempts == 0 || ttl == 0) /* refreshes are not events */
		evh_add(ttl ? "map-register" : "map-register-withdraw", &r->p, &ms->addr, NULL);
	if (e->io.send(e->io.arg, &ms->addr, LISP_CONTROL_PORT, e->out, w.off) == 0)
		e->c.registers_sent++;
	r->nonce = ttl ? m.nonce : 0;
	r->last_sent = now;
	r->attempts++;
}

/* A dynamic-eid learns when it is on a lisp mobility interface or first-hop routers may notify it. */
static bool policy_active(const struct xtr_conf *c, int dyn);

/* The interface of dynamic-eid dyn (its first lisp mobility one); *esm: extended-subnet mode. */
static const char *policy_iface(const struct xtr_conf *c, int dyn, bool *esm)
{
	const char *name = NULL;

	*esm = false;
	for (size_t i = 0; i < c->nifaces; i++) {
		if (strcmp(c->ifaces[i].mobility, c->dyneids[dyn].name) != 0)
			continue;
		if (!name)
			name = c->ifaces[i].name;
		*esm |= c->ifaces[i].extended_subnet;
	}
	return name;
}

static bool policy_active(const struct xtr_conf *c, int dyn)
{
	bool esm;

	return c->dyneids[dyn].has_notify_key || policy_iface(c, dyn, &esm) != NULL;
}

/* The interface a dynamic EID's host route points to (across-subnet mode), or NULL. */
static const char *dyn_route_iface(const struct xtr_conf *c, const struct dyn *d)
{
	bool esm;
	const char *ifname = policy_iface(c, c->dbmaps[d->dbmap].dyn, &esm);

	return esm ? NULL : ifname;
}

struct collect {
	struct lisp_prefix *v;
	size_t n, cap;
	int kind; /* 0: any */
	double now;
};

static void collect_push(struct collect *x, const struct lisp_prefix *p)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->v = xreallocarray(x->v, x->cap, sizeof(*x->v));
	}
	x->v[x->n++] = *p;
}

static int collect_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct collect *x = arg;
	const struct etr_local *l = v;

	if (x->kind && l->kind != x->kind)
		return 0;
	if (x->kind == LOCAL_AWAY && x->now > 0 && ((const struct away *)v)->expires > x->now)
		return 0;
	collect_push(x, p);
	return 0;
}

/* The prefixes of the entries of kind (0: all) inside under (NULL: all); free() .v after. */
static struct collect collect(const struct etr *e, const struct lisp_prefix *under, int kind,
			      double expired_at)
{
	struct collect x = { .kind = kind, .now = expired_at };

	ptable_walk(e->local, under, collect_one, &x);
	return x;
}

static void make_regs(struct etr *e, struct dyn *d, double now)
{
	free(d->regs);
	d->nregs = e->conf->nmap_servers;
	d->regs = xcalloc(d->nregs + 1, sizeof(*d->regs));
	for (size_t s = 0; s < d->nregs; s++) {
		d->regs[s].p = d->p;
		d->regs[s].dbmap = d->dbmap;
		d->regs[s].ms = s;
		d->regs[s].next_at = now;
		d->regs[s].backoff = 1;
	}
}

/* Flags dynamic-eid dyn's prefixes for the data plane: learns there, or only counts. */
static void policy_flags(struct etr *e, int dyn)
{
	const struct xtr_conf *c = e->conf;
	bool off = !xtr_conf_learns_data(&c->dyneids[dyn]) ||
		   e->pol[dyn].hosts >= c->dyneids[dyn].host_limit;

	for (size_t i = 0; i < c->ndbmaps; i++) {
		struct etr_local *l = ptable_lookup_exact(e->local, &c->dbmaps[i].p);

		if (c->dbmaps[i].dyn == dyn && l && l->kind == LOCAL_DYN_POLICY)
			l->flags = off ? LOCAL_F_NO_LEARN : 0;
	}
}

static void policy_host_gone(struct etr *e, int dyn)
{
	if (e->pol[dyn].hosts && e->pol[dyn].hosts-- == e->conf->dyneids[dyn].host_limit)
		policy_flags(e, dyn); /* room again */
}

/*
 * Counts what the data plane refused in dynamic-eid prefixes since the
 * last call (packets from unknown hosts): for data-plane learning off, or
 * for the host-limit.
 */
static void policy_fold(struct etr *e)
{
	const struct xtr_conf *c = e->conf;

	for (size_t i = 0; c && i < c->ndbmaps; i++) {
		struct etr_local *l = ptable_lookup_exact(e->local, &c->dbmaps[i].p);
		int dyn = c->dbmaps[i].dyn;
		uint64_t n;

		if (dyn < 0 || !l || l->kind != LOCAL_DYN_POLICY)
			continue;
		n = __atomic_exchange_n(&l->packets, 0, __ATOMIC_RELAXED);
		if (!xtr_conf_learns_data(&c->dyneids[dyn])) {
			e->pol[dyn].refused_data += n;
			e->c.dyn_refused_data += n;
		} else {
			e->pol[dyn].refused_limit += n;
			e->c.dyn_overflows += n;
		}
	}
}

/* Deregisters (TTL 0) and forgets dynamic EID p. */
static void dyn_remove(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
		       const struct lisp_prefix *p, bool withdraw, double now)
{
	struct dyn *d = ptable_lookup_exact(e->local, p);

	if (!d || d->l.kind != LOCAL_DYN_HOST)
		return;
	for (size_t i = 0; withdraw && i < d->nregs; i++)
		if (d->regs[i].last_sent)
			send_register(e, conf, keys, &d->regs[i], 0, now);
	event(e, ETR_EV_DYN_DOWN, p, dyn_route_iface(conf, d));
	evh_add(withdraw ? "withdrawn" : "forgotten", p, NULL, NULL);
	if (conf == e->conf) /* (a reload counts the hosts again) */
		policy_host_gone(e, conf->dbmaps[d->dbmap].dyn);
	local_remove(e, p);
	e->ndyn--;
}

/* The dynamic database-mapping of an active dynamic-eid equal to p. */
static long dyn_dbmap(const struct xtr_conf *c, const struct lisp_prefix *p)
{
	for (size_t i = 0; i < c->ndbmaps; i++)
		if (c->dbmaps[i].dyn >= 0 && lisp_prefix_equal(&c->dbmaps[i].p, p) &&
		    policy_active(c, c->dbmaps[i].dyn))
			return (long)i;
	return -1;
}

/* The database-mapping and dynamic-eid prefixes of the local table, made again from conf. */
static void rebuild_local(struct etr *e, const struct xtr_conf *conf)
{
	struct collect x = collect(e, NULL, 0, 0);

	for (size_t i = 0; i < x.n; i++) {
		const struct etr_local *l = ptable_lookup_exact(e->local, &x.v[i]);

		if (l->kind == LOCAL_DB || l->kind == LOCAL_DYN_POLICY)
			local_remove(e, &x.v[i]);
	}
	free(x.v);
	for (size_t i = 0; i < conf->ndbmaps; i++) {
		const struct xtr_conf_dbmap *m = &conf->dbmaps[i];
		struct etr_local *l;

		if (m->dyn >= 0 && !policy_active(conf, m->dyn))
			continue; /* a dynamic-eid on no interface learns nothing */
		l = xcalloc(1, sizeof(*l));
		l->kind = m->dyn >= 0 ? LOCAL_DYN_POLICY : LOCAL_DB;
		if (local_put(e, &m->p, l) < 0)
			free(l); /* a learned host of the same length keeps its entry */
	}
}

static int count_host(const struct lisp_prefix *p, void *v, void *arg)
{
	struct etr *e = arg;
	const struct dyn *d = v;

	(void)p;
	if (d->l.kind == LOCAL_DYN_HOST)
		e->pol[e->conf->dbmaps[d->dbmap].dyn].hosts++;
	return 0;
}

/* The dynamic-eids of e->conf: counters taken over by name, hosts counted, prefixes flagged. */
static void policies_configure(struct etr *e)
{
	const struct xtr_conf *c = e->conf;
	struct etr_policy *pol = xcalloc(c->ndyneids + 1, sizeof(*pol));

	for (size_t i = 0; i < c->ndyneids; i++) {
		snprintf(pol[i].name, sizeof(pol[i].name), "%s", c->dyneids[i].name);
		pol[i].iid = c->dyneids[i].iid;
		for (size_t j = 0; j < e->npol; j++) {
			if (strcmp(e->pol[j].name, pol[i].name) == 0 &&
			    e->pol[j].iid == pol[i].iid) {
				pol[i] = e->pol[j];
				pol[i].hosts = 0;
			}
		}
	}
	free(e->pol);
	e->pol = pol;
	e->npol = c->ndyneids;
	ptable_walk(e->local, NULL, count_host, e);
	for (size_t i = 0; i < c->ndyneids; i++)
		policy_flags(e, (int)i);
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
	struct lisp_prefix covering;
	struct collect x;

	policy_fold(e); /* what the data plane refused under the old configuration */
	ratelim_set(e->replies, conf->reply_rate, conf->reply_burst, conf->reply_total);
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
			send_register(e, oldconf, oldkeys, &old[i], 0, now);
	}
	rebuild_local(e, conf);
	/* learned EIDs stay if a dynamic-eid of the new configuration still holds them */
	x = collect(e, NULL, LOCAL_DYN_HOST, 0);
	for (size_t i = 0; i < x.n; i++) {
		struct dyn *d = ptable_lookup_exact(e->local, &x.v[i]);
		long m = -1;

		if (ptable_lookup_covering(e->local, &x.v[i], &covering))
			m = dyn_dbmap(conf, &covering);
		if (m < 0) {
			dyn_remove(e, oldconf, oldkeys, &x.v[i], true, now);
			continue;
		}
		d->dbmap = (size_t)m;
		make_regs(e, d, now);
	}
	free(x.v);
	policies_configure(e);
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
	ptable_free(e->local);
	lpmh_free(e->idx);
	free(e);
}

static void reg_due(struct etr *e, struct etr_reg *r, double now)
{
	if (r->next_at > now)
		return;
	if (r->nonce) { /* unanswered: back off */
		e->c.register_timeouts++;
		r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
	}
	send_register(e, e->conf, e->keys, r, RECORD_TTL, now);
	r->next_at = now + r->backoff;
}

struct tick_walk {
	struct etr *e;
	double now;
	struct collect silent; /* hosts learned from data, silent for their learning timeout */
};

/* True if d was learned from data and nothing came from it for its dynamic-eid's timeout. */
static bool dyn_silent(const struct etr *e, const struct dyn *d, double now)
{
	const struct xtr_conf_dyneid *y = &e->conf->dyneids[e->conf->dbmaps[d->dbmap].dyn];
	double last;

	if (d->source != ETR_SRC_DATA)
		return false; /* a first-hop router or an operator says when it goes */
	__atomic_load(&d->l.last_from, &last, __ATOMIC_RELAXED);
	if (d->last_seen > last)
		last = d->last_seen;
	return now - last >= y->learn_timeout;
}

static int dyn_due(const struct lisp_prefix *p, void *v, void *arg)
{
	struct tick_walk *t = arg;
	struct dyn *d = v;

	if (d->l.kind != LOCAL_DYN_HOST)
		return 0;
	if (dyn_silent(t->e, d, t->now)) {
		collect_push(&t->silent, p);
		return 0;
	}
	for (size_t i = 0; i < d->nregs; i++)
		reg_due(t->e, &d->regs[i], t->now);
	return 0;
}

/* Withdraws the data-learned host p, silent for its learning timeout. */
static void dyn_age(struct etr *e, const struct lisp_prefix *p, double now)
{
	const struct dyn *d = ptable_lookup_exact(e->local, p);
	int dyn = e->conf->dbmaps[d->dbmap].dyn;
	char buf[LISP_PREFIX_STRLEN];

	evh_add("aged-out", p, NULL, "silent %u s", e->conf->dyneids[dyn].learn_timeout);
	log_info("etr: dynamic-eid %s: %s silent for %u s: withdrawn", e->conf->dyneids[dyn].name,
		 lisp_prefix_format(p, buf, sizeof(buf)), e->conf->dyneids[dyn].learn_timeout);
	e->pol[dyn].aged++;
	e->c.dyn_aged++;
	dyn_remove(e, e->conf, e->keys, p, true, now);
}

void etr_tick(struct etr *e, double now)
{
	struct collect x = collect(e, NULL, LOCAL_AWAY, now);
	struct tick_walk t = { .e = e, .now = now };

	for (size_t i = 0; i < x.n; i++) {
		local_remove(e, &x.v[i]);
		event(e, ETR_EV_AWAY_DOWN, &x.v[i], NULL);
	}
	free(x.v);
	for (size_t i = 0; i < e->nregs; i++)
		reg_due(e, &e->regs[i], now);
	ptable_walk(e->local, NULL, dyn_due, &t);
	for (size_t i = 0; i < t.silent.n; i++)
		dyn_age(e, &t.silent.v[i], now);
	free(t.silent.v);
	policy_fold(e);
}

/* True if record r carries exactly the locators of database-mapping m. */
static bool same_locators(struct etr *e, const struct xtr_conf_dbmap *m,
			  const struct lisp_eid_record *r)
{
	uint8_t k, nl = dbmap_locs(e, e->conf, m, e->locs);
	bool same = nl == r->loc_count;
	struct lisp_locator l;
	struct lisp_iter lit;

	lisp_locator_iter_init(&lit, r);
	for (k = 0; same && lisp_locator_iter_next(&lit, &l); k++)
		same = k < nl && lisp_addr_equal(&l.addr[0], &e->locs[k].addr[0]);
	return same;
}

/* True if a record of n is one of our mappings with the locators we announce. */
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
		for (size_t i = 0; i < e->conf->ndbmaps; i++)
			if (e->conf->dbmaps[i].dyn < 0 &&
			    lisp_prefix_equal(&e->conf->dbmaps[i].p, &r.eid) &&
			    same_locators(e, &e->conf->dbmaps[i], &r))
				return true;
	}
	return false;
}

static void install_away(struct etr *e, const struct lisp_addr *ms, const struct lisp_eid_record *r,
			 double now)
{
	struct away *a = ptable_lookup_exact(e->local, &r->eid);
	struct lisp_locator l;
	struct lisp_iter it;
	bool added = false;

	if (a && a->l.kind != LOCAL_AWAY)
		return; /* a database-mapping or dynamic-eid prefix of ours: never away */
	if (r->ttl == 0) {
		if (a) {
			local_remove(e, &r->eid);
			event(e, ETR_EV_AWAY_DOWN, &r->eid, NULL);
			evh_add("away-removed", &r->eid, ms, "withdrawn");
		}
		return;
	}
	if (!a && e->naway >= ETR_AWAY_MAX) {
		e->c.away_overflows++;
		return;
	}
	if (!a) {
		a = xcalloc(1, sizeof(*a));
		a->l.kind = LOCAL_AWAY;
		a->l.locs = a->locs;
		a->p = r->eid;
		a->since = now;
		if (local_put(e, &a->p, a) < 0) {
			free(a);
			return;
		}
		e->naway++;
		added = true;
		evh_add("away", &r->eid, ms, NULL);
	}
	a->told_by = *ms;
	a->expires = now + xtr_ttl_seconds(r->ttl);
	a->l.nloc = 0;
	lisp_locator_iter_init(&it, r);
	while (a->l.nloc < ETR_AWAY_LOCS && lisp_locator_iter_next(&it, &l)) {
		struct mc_locator *m = &a->locs[a->l.nloc++];

		m->addr = l.addr[0];
		m->priority = l.priority;
		m->weight = l.weight;
		m->up = l.reachable;
		m->since = now;
	}
	if (added) /* complete: whoever is told reads the new locators */
		event(e, ETR_EV_AWAY_UP, &r->eid, NULL);
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
			dyn_remove(e, e->conf, e->keys, &r.eid, false, now);
			e->c.dyn_moved++;
		}
		evh_add("moved", &r.eid, src, "Map-Notify");
		install_away(e, src, &r, now);
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
			evh_add("registered", &r->p, src, "Map-Notify");
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
static void answer(struct etr *e, const struct lisp_addr *src, const struct lisp_map_request *q,
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
	rec.loc_count = dbmap_locs(e, e->conf, d, e->locs);
	buf_writer_init(&w, e->out, sizeof(e->out));
	if (lisp_msg_encode_map_reply(&w, &m, &rec, 1) == 0)
		send_reply(e, q, dport, w.off, now);
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
			answer(e, src, &q, sport, now);
		break;
	case LISP_TYPE_ECM: /* a Map-Request the Map-Server forwarded */
		if (lisp_msg_decode_ecm(buf, len, &ecm) < 0 ||
		    lisp_msg_decode_map_request(ecm.inner.payload, ecm.inner.payload_len, &q) < 0)
			e->c.malformed++;
		else
			answer(e, src, &q, ecm.inner.sport, now);
		break;
	default:
		e->c.unsupported++;
		break;
	}
}

/* May dynamic-eid dyn learn host from src now? 0, -EPERM or -ENOSPC (counted). */
static int dyn_admit(struct etr *e, int dyn, const struct lisp_prefix *host, enum etr_source src)
{
	const struct xtr_conf_dyneid *y = &e->conf->dyneids[dyn];
	char buf[LISP_PREFIX_STRLEN];

	if (src == ETR_SRC_DATA && !xtr_conf_learns_data(y)) {
		e->c.dyn_refused_data++; /* its first-hop routers tell */
		e->pol[dyn].refused_data++;
		return -EPERM;
	}
	if (e->pol[dyn].hosts >= y->host_limit) {
		e->c.dyn_overflows++;
		e->pol[dyn].refused_limit++;
		log_warn_rl(&e->rl, "etr: dynamic-eid %s: host-limit %u reached: %s not learned",
			    y->name, y->host_limit, lisp_prefix_format(host, buf, sizeof(buf)));
		return -ENOSPC;
	}
	if (e->ndyn >= ETR_DYN_MAX) {
		e->c.dyn_overflows++;
		e->pol[dyn].refused_limit++;
		log_warn_rl(&e->rl, "etr: dynamic-eid table full (%d): %s not learned", ETR_DYN_MAX,
			    lisp_prefix_format(host, buf, sizeof(buf)));
		return -ENOSPC;
	}
	return 0;
}

/* A known host seen again: liveness; its owner changes only by a first-hop router or an operator. */
static void dyn_seen(struct dyn *d, enum etr_source src, const char *who, double now)
{
	d->last_seen = now;
	if (src == ETR_SRC_DATA)
		return; /* a data packet never changes who owns a known host */
	if (who && who[0] && strcmp(d->who, who) != 0) {
		snprintf(d->who, sizeof(d->who), "%s", who); /* another FHR of the site */
		d->source = src;
	}
	if (d->source == ETR_SRC_DATA)
		d->source = src; /* its FHR or an operator speaks for it now: no ageing */
}

/* Dynamic-eid dyn has one host more: when full, its data plane stops asking. */
static void policy_host_added(struct etr *e, int dyn)
{
	const struct xtr_conf_dyneid *y = &e->conf->dyneids[dyn];

	e->c.dyn_learned++;
	e->pol[dyn].learned++;
	if (++e->pol[dyn].hosts != y->host_limit)
		return;
	policy_flags(e, dyn);
	log_warn_rl(&e->rl, "etr: dynamic-eid %s: host-limit %u reached: no more hosts", y->name,
		    y->host_limit);
}

int etr_dyn_learn(struct etr *e, uint32_t iid, const struct lisp_addr *a, enum etr_source src,
		  const char *who, double now)
{
	static const char *src_names[] = { "data", "fhr", "operator" };
	char buf[LISP_PREFIX_STRLEN];
	struct lisp_prefix host, match;
	struct etr_local *l = ptable_lookup(e->local, iid, a, &match);
	struct dyn *d;
	const char *name;
	long m;
	int rc;

	lisp_prefix_from_addr(&host, iid, a);
	if (l && l->kind == LOCAL_DYN_HOST) {
		dyn_seen((struct dyn *)l, src, who, now);
		return 0;
	}
	if (l && l->kind == LOCAL_AWAY) /* it came back: the covering dynamic-eid decides */
		l = ptable_lookup_covering(e->local, &host, &match);
	if (!l || l->kind != LOCAL_DYN_POLICY || (m = dyn_dbmap(e->conf, &match)) < 0) {
		e->c.dyn_refused++;
		return -ENOENT;
	}
	if ((rc = dyn_admit(e, e->conf->dbmaps[m].dyn, &host, src)) < 0)
		return rc;
	if (ptable_lookup_exact(e->local, &host)) { /* the away entry */
		local_remove(e, &host);
		event(e, ETR_EV_AWAY_DOWN, &host, NULL);
		evh_add("away-removed", &host, NULL, "came back");
	}
	d = xcalloc(1, sizeof(*d));
	d->l.kind = LOCAL_DYN_HOST;
	d->p = host;
	d->dbmap = (size_t)m;
	d->source = src;
	snprintf(d->who, sizeof(d->who), "%s", who ? who : "");
	d->since = d->last_seen = now;
	if (local_put(e, &d->p, d) < 0) {
		free(d);
		return -ENOSPC;
	}
	e->ndyn++;
	policy_host_added(e, e->conf->dbmaps[m].dyn);
	make_regs(e, d, now);
	for (size_t i = 0; i < d->nregs; i++)
		reg_due(e, &d->regs[i], now); /* at once, not at the next tick */
	name = e->conf->dyneids[e->conf->dbmaps[m].dyn].name;
	evh_add("learned", &host, NULL, "%s (%s%s%s)", name, src_names[src],
		who && who[0] ? " " : "", who ? who : "");
	event(e, ETR_EV_DYN_UP, &host, dyn_route_iface(e->conf, d));
	log_info("etr: dynamic-eid %s: %s learned (%s)", name,
		 lisp_prefix_format(&host, buf, sizeof(buf)), src_names[src]);
	return 1;
}

int etr_dyn_clear(struct etr *e, const struct lisp_prefix *under, double now)
{
	struct collect x = collect(e, under, LOCAL_DYN_HOST, 0);

	for (size_t i = 0; i < x.n; i++)
		dyn_remove(e, e->conf, e->keys, &x.v[i], true, now);
	e->c.dyn_cleared += x.n;
	free(x.v);
	return (int)x.n;
}

struct dyn_walk {
	const struct etr *e;
	etr_dyn_fn fn;
	void *arg;
};

static int dyn_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct dyn_walk *w = arg;
	const struct dyn *d = v;
	const struct xtr_conf *c = w->e->conf;
	struct etr_dyn_info info = { .p = *p };
	bool esm;

	if (d->l.kind != LOCAL_DYN_HOST)
		return 0;
	info.dbmap = &c->dbmaps[d->dbmap];
	info.policy = c->dyneids[info.dbmap->dyn].name;
	info.ifname = policy_iface(c, info.dbmap->dyn, &esm);
	info.source = d->source;
	info.who = d->who;
	info.since = d->since;
	info.last_seen = d->last_seen;
	info.last_packet = d->l.last_packet;
	info.registered = d->nregs > 0;
	for (size_t i = 0; i < d->nregs; i++)
		info.registered &= d->regs[i].last_ack > 0 &&
				   d->regs[i].last_sent - d->regs[i].last_ack < EXPIRE;
	return w->fn(&info, w->arg);
}

int etr_dyn_walk(const struct etr *e, etr_dyn_fn fn, void *arg)
{
	struct dyn_walk w = { .e = e, .fn = fn, .arg = arg };

	return ptable_walk(e->local, NULL, dyn_one, &w);
}

size_t etr_dyn_count(const struct etr *e)
{
	return e->ndyn;
}

size_t etr_policy_count(const struct etr *e)
{
	return e->npol;
}

void etr_policy_info(const struct etr *e, size_t i, struct etr_policy_info *out)
{
	const struct etr_policy *p = &e->pol[i];

	*out = (struct etr_policy_info){ .conf = &e->conf->dyneids[i],
					 .active = policy_active(e->conf, (int)i),
					 .hosts = p->hosts,
					 .learned = p->learned,
					 .aged = p->aged,
					 .refused_data = p->refused_data,
					 .refused_limit = p->refused_limit };
}

const char *etr_dyn_owner(const struct etr *e, const struct lisp_prefix *host)
{
	const struct dyn *d = ptable_lookup_exact(e->local, host);

	return d && d->l.kind == LOCAL_DYN_HOST ? d->who : NULL;
}

const struct lpmh *etr_local_table(const struct etr *e)
{
	return e->idx;
}

void etr_away_smr_sent(struct etr *e, const struct lisp_prefix *p)
{
	struct away *a = ptable_lookup_exact(e->local, p);

	if (a && a->l.kind == LOCAL_AWAY)
		a->smrs++;
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
	const struct etr *e;
	etr_away_fn fn;
	void *arg;
};

static int away_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct away_walk *w = arg;
	const struct away *a = v;
	struct etr_away_info info;

	if (a->l.kind != LOCAL_AWAY)
		return 0;
	info = (struct etr_away_info){ .p = *p,
				       .told_by = a->told_by,
				       .since = a->since,
				       .expires = a->expires,
				       .last_packet = a->l.last_packet,
				       .packets = a->l.packets,
				       .smrs = a->smrs,
				       .nloc = a->l.nloc,
				       .locs = a->locs };
	return w->fn(&info, w->arg);
}

static int copy_away(const struct etr_away_info *a, void *arg)
{
	*(struct etr_away_info *)arg = *a;
	return 1;
}

int etr_away_get(const struct etr *e, const struct lisp_prefix *p, struct etr_away_info *out)
{
	const struct away *a = ptable_lookup_exact(e->local, p);
	struct away_walk w = { .e = e, .fn = copy_away, .arg = out };

	if (!a || a->l.kind != LOCAL_AWAY)
		return -ENOENT;
	return away_one(p, (void *)(uintptr_t)a, &w) == 1 ? 0 : -ENOENT;
}

int etr_away_walk(const struct etr *e, etr_away_fn fn, void *arg)
{
	struct away_walk w = { .e = e, .fn = fn, .arg = arg };

	return ptable_walk(e->local, NULL, away_one, &w);
}
