/*
 * Away entries (spec/lisp-wire.md §10.2): EIDs of ours a Map-Server said
 * now live at other locators. The data plane forwards to those locators
 * and sends SMRs; an entry lives for the record's TTL, goes at a TTL-0
 * record and when the EID is learned here again (dyn.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/evhist.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/etr/etr_int.h"

void etr_away_install(struct etr *e, const struct lisp_addr *ms, const struct lisp_eid_record *r,
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
			etr_local_remove(e, &r->eid);
			etr_event(e, ETR_EV_AWAY_DOWN, &r->eid, NULL);
			evh_add(e->io.evh, "away-removed", &r->eid, ms, "withdrawn");
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
		if (etr_local_put(e, &a->p, a) < 0) {
			free(a);
			return;
		}
		e->naway++;
		added = true;
		evh_add(e->io.evh, "away", &r->eid, ms, NULL);
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
		etr_event(e, ETR_EV_AWAY_UP, &r->eid, NULL);
}

void etr_away_expire(struct etr *e, double now)
{
	struct etr_collect x = etr_collect(e, NULL, LOCAL_AWAY, now);

	for (size_t i = 0; i < x.n; i++) {
		etr_local_remove(e, &x.v[i]);
		etr_event(e, ETR_EV_AWAY_DOWN, &x.v[i], NULL);
	}
	free(x.v);
}

void etr_away_smr_sent(struct etr *e, const struct lisp_prefix *p)
{
	struct away *a = ptable_lookup_exact(e->local, p);

	if (a && a->l.kind == LOCAL_AWAY)
		a->smrs++;
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
