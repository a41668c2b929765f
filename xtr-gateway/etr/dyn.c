/*
 * Dynamic EIDs (Cisco `dynamic-eid`): each dynamic-eid learns at most
 * host-limit hosts, from its first-hop routers' notifications, an
 * operator, or the data plane (only without an eid-notify key, or with
 * `learning data-plane`); a learned host is registered like a
 * database-mapping. Hosts learned from data are withdrawn after their
 * learning timeout of silence; a host that moved to another site is
 * forgotten (etr.c, on the Map-Server's Map-Notify).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/evhist.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/etr/etr_int.h"

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

bool etr_dyn_active(const struct xtr_conf *c, int dyn)
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

/* Packets from unknown hosts refused: for data-plane learning off, or for the host-limit. */
void etr_dyn_fold(struct etr *e)
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

void etr_dyn_remove(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
		    const struct lisp_prefix *p, bool withdraw, double now)
{
	struct dyn *d = ptable_lookup_exact(e->local, p);
	bool leaving;

	if (!d || d->l.kind != LOCAL_DYN_HOST)
		return;
	for (size_t i = 0; withdraw && i < d->nregs; i++)
		if (d->regs[i].last_sent)
			etr_send_register(e, conf, keys, &d->regs[i], 0, now);
	etr_event(e, ETR_EV_DYN_DOWN, p, dyn_route_iface(conf, d));
	evh_add(e->io.evh, withdraw ? "withdrawn" : "forgotten", p, NULL, NULL);
	if (conf == e->conf) /* (a reload counts the hosts again) */
		policy_host_gone(e, conf->dbmaps[d->dbmap].dyn);
	leaving = d->l.flags & LOCAL_F_LEAVING;
	e->nleaving -= leaving;
	etr_local_remove(e, p);
	e->ndyn--;
	if (leaving) /* what it holds goes where the table now says (an away entry, or here) */
		etr_event(e, ETR_EV_HOLD_END, p, NULL);
}

/* The dynamic database-mapping of an active dynamic-eid equal to p. */
static long dyn_dbmap(const struct xtr_conf *c, const struct lisp_prefix *p)
{
	for (size_t i = 0; i < c->ndbmaps; i++)
		if (c->dbmaps[i].dyn >= 0 && lisp_prefix_equal(&c->dbmaps[i].p, p) &&
		    etr_dyn_active(c, c->dbmaps[i].dyn))
			return (long)i;
	return -1;
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

void etr_dyn_configure(struct etr *e, const struct xtr_conf *oldconf,
		       struct lisp_auth_key **oldkeys, double now)
{
	/* learned EIDs stay if a dynamic-eid of the new configuration still holds them */
	struct etr_collect x = etr_collect(e, NULL, LOCAL_DYN_HOST, 0);
	struct lisp_prefix covering;

	for (size_t i = 0; i < x.n; i++) {
		struct dyn *d = ptable_lookup_exact(e->local, &x.v[i]);
		long m = -1;

		if (ptable_lookup_covering(e->local, &x.v[i], &covering))
			m = dyn_dbmap(e->conf, &covering);
		if (m < 0) {
			etr_dyn_remove(e, oldconf, oldkeys, &x.v[i], true, now);
			continue;
		}
		d->dbmap = (size_t)m;
		make_regs(e, d, now);
	}
	free(x.v);
	policies_configure(e);
}

struct tick_walk {
	struct etr *e;
	double now;
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

/*
 * Collect filter that also sends the Map-Registers due: true for the hosts learned from data
 * and silent for their learning timeout.
 */
static bool dyn_due(const struct lisp_prefix *p, void *v, void *arg)
{
	struct tick_walk *t = arg;
	struct dyn *d = v;

	(void)p;
	if (d->l.kind != LOCAL_DYN_HOST)
		return false;
	if (dyn_silent(t->e, d, t->now))
		return true;
	for (size_t i = 0; i < d->nregs; i++)
		etr_reg_due(t->e, &d->regs[i], t->now);
	return false;
}

/* Withdraws the data-learned host p, silent for its learning timeout. */
static void dyn_age(struct etr *e, const struct lisp_prefix *p, double now)
{
	const struct dyn *d = ptable_lookup_exact(e->local, p);
	int dyn = e->conf->dbmaps[d->dbmap].dyn;
	char buf[LISP_PREFIX_STRLEN];

	evh_add(e->io.evh, "aged-out", p, NULL, "silent %u s", e->conf->dyneids[dyn].learn_timeout);
	log_info("etr: dynamic-eid %s: %s silent for %u s: withdrawn", e->conf->dyneids[dyn].name,
		 lisp_prefix_format(p, buf, sizeof(buf)), e->conf->dyneids[dyn].learn_timeout);
	e->pol[dyn].aged++;
	e->c.dyn_aged++;
	etr_dyn_remove(e, e->conf, e->keys, p, true, now);
}

/* The host's migration hold ends (how: for the event history); the data plane sends it on. */
static void leaving_end(struct etr *e, struct dyn *d, const char *how)
{
	__atomic_and_fetch(&d->l.flags, (uint8_t)~LOCAL_F_LEAVING, __ATOMIC_RELAXED);
	e->nleaving--;
	evh_add(e->io.evh, "hold-end", &d->p, NULL, "%s", how);
	etr_event(e, ETR_EV_HOLD_END, &d->p, NULL);
}

int etr_dyn_leaving(struct etr *e, const struct lisp_prefix *host, bool leaving, double now)
{
	struct dyn *d = ptable_lookup_exact(e->local, host);
	const struct xtr_conf_dyneid *y;
	bool was;

	if (!d || d->l.kind != LOCAL_DYN_HOST) {
		if (leaving)
			e->c.leaving_refused++;
		return -ENOENT;
	}
	was = d->l.flags & LOCAL_F_LEAVING;
	y = &e->conf->dyneids[e->conf->dbmaps[d->dbmap].dyn];
	if (!leaving) {
		if (!was)
			return 0;
		e->c.leaving_stayed++;
		leaving_end(e, d, "it runs here again");
		return 1;
	}
	if (!y->hold_ms) {
		e->c.leaving_refused++;
		return -EPERM;
	}
	if (was) { /* told again (its VM paused after a pass that may have been the last): its hold
		    * time from now */
		d->leaving_until = now + y->hold_ms / 1000.0;
		etr_event(e, ETR_EV_HOLD_START, host, NULL);
		return 0;
	}
	d->leaving_since = now;
	d->leaving_until = now + y->hold_ms / 1000.0;
	__atomic_or_fetch(&d->l.flags, (uint8_t)LOCAL_F_LEAVING, __ATOMIC_RELAXED);
	e->nleaving++;
	e->c.leaving++;
	evh_add(e->io.evh, "leaving", host, NULL, "held up to %u ms", y->hold_ms);
	etr_event(e, ETR_EV_HOLD_START, host, NULL);
	return 1;
}

int etr_dyn_hold_quota(const struct etr *e, const struct lisp_prefix *host, size_t *packets,
		       size_t *bytes)
{
	const struct dyn *d = ptable_lookup_exact(e->local, host);
	const struct xtr_conf_dyneid *y;

	if (!d || d->l.kind != LOCAL_DYN_HOST)
		return -ENOENT;
	y = &e->conf->dyneids[e->conf->dbmaps[d->dbmap].dyn];
	*packets = y->hold_packets;
	*bytes = y->hold_bytes;
	return 0;
}

/* Collect filter: leaving hosts whose hold time is over. */
static bool leaving_over(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct tick_walk *t = arg;
	const struct dyn *d = v;

	(void)p;
	return d->l.kind == LOCAL_DYN_HOST && (d->l.flags & LOCAL_F_LEAVING) &&
	       t->now >= d->leaving_until;
}

static int next_end(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct dyn *d = v;
	double *next = arg;

	(void)p;
	if (d->l.kind == LOCAL_DYN_HOST && (d->l.flags & LOCAL_F_LEAVING) &&
	    (*next == 0 || d->leaving_until < *next))
		*next = d->leaving_until;
	return 0;
}

double etr_dyn_hold_next(const struct etr *e)
{
	double next = 0;

	if (e->nleaving)
		ptable_walk(e->local, NULL, next_end, &next);
	return next;
}

void etr_dyn_hold_expire(struct etr *e, double now)
{
	struct tick_walk t = { .e = e, .now = now };
	struct lisp_prefix *over;
	size_t n = ptable_collect(e->local, NULL, leaving_over, &t, &over, NULL);

	for (size_t i = 0; i < n; i++) {
		e->c.leaving_expired++;
		leaving_end(e, ptable_lookup_exact(e->local, &over[i]), "hold time over");
	}
	free(over);
}

void etr_dyn_tick(struct etr *e, double now)
{
	struct tick_walk t = { .e = e, .now = now };
	struct lisp_prefix *silent;
	size_t n = ptable_collect(e->local, NULL, dyn_due, &t, &silent, NULL);

	for (size_t i = 0; i < n; i++)
		dyn_age(e, &silent[i], now);
	free(silent);
	etr_dyn_hold_expire(e, now);
	etr_dyn_fold(e);
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
		etr_local_remove(e, &host);
		etr_event(e, ETR_EV_AWAY_DOWN, &host, NULL);
		evh_add(e->io.evh, "away-removed", &host, NULL, "came back");
	}
	d = xcalloc(1, sizeof(*d));
	d->l.kind = LOCAL_DYN_HOST;
	d->p = host;
	d->dbmap = (size_t)m;
	d->source = src;
	snprintf(d->who, sizeof(d->who), "%s", who ? who : "");
	d->since = d->last_seen = now;
	if (etr_local_put(e, &d->p, d) < 0) {
		free(d);
		return -ENOSPC;
	}
	e->ndyn++;
	policy_host_added(e, e->conf->dbmaps[m].dyn);
	make_regs(e, d, now);
	for (size_t i = 0; i < d->nregs; i++)
		etr_reg_due(e, &d->regs[i], now); /* at once, not at the next tick */
	name = e->conf->dyneids[e->conf->dbmaps[m].dyn].name;
	evh_add(e->io.evh, "learned", &host, NULL, "%s (%s%s%s)", name, src_names[src],
		who && who[0] ? " " : "", who ? who : "");
	etr_event(e, ETR_EV_DYN_UP, &host, dyn_route_iface(e->conf, d));
	log_info("etr: dynamic-eid %s: %s learned (%s)", name,
		 lisp_prefix_format(&host, buf, sizeof(buf)), src_names[src]);
	return 1;
}

int etr_dyn_withdraw(struct etr *e, const struct lisp_prefix *host, double now)
{
	struct lisp_prefix match;
	struct etr_local *l = ptable_lookup(e->local, host->iid, &host->addr, &match);
	long m;

	if (host->plen != lisp_afi_max_plen(host->addr.afi))
		return 0;
	if (l && l->kind == LOCAL_AWAY) /* moved away: the Map-Server knows where it went */
		return 0;
	if (!l || l->kind != LOCAL_DYN_POLICY || (m = dyn_dbmap(e->conf, &match)) < 0)
		return 0; /* held (LOCAL_DYN_HOST), or in none of our dynamic-eids */
	for (size_t s = 0; s < e->conf->nmap_servers; s++) {
		struct etr_reg r = { .p = *host, .dbmap = (size_t)m, .ms = s, .last_sent = now };

		etr_send_register(e, e->conf, e->keys, &r, 0, now);
	}
	evh_add(e->io.evh, "withdrawn", host, NULL, "departed, registered by an earlier life");
	return 1;
}

int etr_dyn_clear(struct etr *e, const struct lisp_prefix *under, double now)
{
	struct etr_collect x = etr_collect(e, under, LOCAL_DYN_HOST, 0);

	for (size_t i = 0; i < x.n; i++)
		etr_dyn_remove(e, e->conf, e->keys, &x.v[i], true, now);
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
	if (d->l.flags & LOCAL_F_LEAVING) {
		info.leaving_since = d->leaving_since;
		info.leaving_until = d->leaving_until;
	}
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
					 .active = etr_dyn_active(e->conf, (int)i),
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
