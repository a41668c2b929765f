/*
 * The simulation's invariants (see sim.h, README "Simulation").
 *
 * Safety, after every event: every table within its limit; no FHR,
 * gateway, Map-Server or ITR holds an EID where no VM with that address in
 * that tenant has ever been (nothing of one tenant from another's events,
 * nothing from the attacker).
 *
 * Agreement, in a calm phase (faults stopped) within SIM_SETTLE_MAX: for
 * every address of every tenant, the Map-Server's registration, each
 * gateway's dynamic EIDs and away entries, each FHR's table and the
 * branch's map-cache match where the VM is (or that it is nowhere).
 */
#include <string.h>

#include "tests/sim/sim.h"

static char why[768];

static int dc_of_rloc(const struct sim *s, const struct lisp_addr *a)
{
	for (int d = 0; d < SIM_DCS; d++)
		if (lisp_addr_equal(world_rloc(s, d), a))
			return d;
	return -1;
}

/* A host EID (iid, address) some VM of that tenant has had at dc (any dc: -1). */
static bool ever_at(const struct sim *s, const struct lisp_prefix *p, int dc)
{
	int t = world_tenant_of(p->iid), slot = world_slot_of(&p->addr);

	if (t < 0 || slot < 0 || p->plen != lisp_afi_max_plen(p->addr.afi))
		return false;
	return dc < 0 ? s->ever[t][slot] != 0 : (s->ever[t][slot] >> dc) & 1;
}

static const char *pfx(const struct lisp_prefix *p)
{
	static char b[4][LISP_PREFIX_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return lisp_prefix_format(p, b[i], sizeof(b[i]));
}

/* Safety */

struct walk {
	struct sim *s;
	struct node *n;
	size_t count;
};

static int fhr_eid_ok(const struct fhr_eid_info *e, void *arg)
{
	struct walk *w = arg;

	w->count++;
	if (!ever_at(w->s, &e->p, w->n->dc) || world_tenant_of(e->p.iid) != w->n->tenant) {
		sim_fail(w->s, "%s holds %s: no VM of its tenant was ever there", w->n->name,
			 pfx(&e->p));
		return 1;
	}
	return 0;
}

static int dyn_ok(const struct etr_dyn_info *d, void *arg)
{
	struct walk *w = arg;

	w->count++;
	if (!ever_at(w->s, &d->p, w->n->dc)) {
		sim_fail(w->s, "%s has dynamic EID %s: no VM of that tenant was ever there",
			 w->n->name, pfx(&d->p));
		return 1;
	}
	return 0;
}

static int away_ok(const struct etr_away_info *a, void *arg)
{
	struct walk *w = arg;

	w->count++;
	if (!ever_at(w->s, &a->p, -1)) {
		sim_fail(w->s, "%s has an away entry for %s: no VM of that tenant ever had it",
			 w->n->name, pfx(&a->p));
		return 1;
	}
	for (uint8_t i = 0; i < a->nloc; i++) {
		int d = dc_of_rloc(w->s, &a->locs[i].addr);

		if (d < 0 || !ever_at(w->s, &a->p, d)) {
			sim_fail(w->s, "%s's away entry for %s points where it never was",
				 w->n->name, pfx(&a->p));
			return 1;
		}
	}
	return 0;
}

struct regwalk {
	struct sim *s;
	const struct lisp_prefix *want; /* agreement: the row looked for */
	const struct ms_reg *found;
	size_t rows;
};

static int row_ok(const struct ms_row *row, void *arg)
{
	struct regwalk *w = arg;
	const struct ms_registrant *r;

	if (!row->reg)
		return 0;
	w->rows++;
	if (w->want) {
		if (lisp_prefix_equal(&row->p, w->want)) {
			w->found = row->reg;
			return 1;
		}
		return 0;
	}
	if (row->configured)
		return 0;
	if (!ever_at(w->s, &row->p, -1)) {
		sim_fail(w->s, "the Map-Server has %s registered: no VM of that tenant ever had it",
			 pfx(&row->p));
		return 1;
	}
	for (r = ms_reg_registrants(row->reg); r;) {
		struct ms_registrant_info ri;
		const struct ms_registrant *cur = r;

		r = ms_registrant_info(cur, &ri);
		for (uint8_t i = 0; i < ri.nloc; i++) {
			struct lisp_locator loc;
			int d;

			ms_registrant_locator(cur, i, &loc);
			d = dc_of_rloc(w->s, &loc.addr[0]);
			if (d < 0 || !ever_at(w->s, &row->p, d)) {
				sim_fail(w->s,
					 "the Map-Server has %s at a locator where it never was",
					 pfx(&row->p));
				return 1;
			}
		}
	}
	return 0;
}

static int mc_ok(const struct mc_info *e, void *arg)
{
	struct walk *w = arg;

	w->count++;
	for (uint8_t i = 0; i < e->nloc; i++) {
		int d = dc_of_rloc(w->s, &e->locs[i].addr);

		if (lisp_addr_equal(&e->locs[i].addr, &w->s->nodes[w->s->branch].addr))
			continue;
		if (d < 0 ||
		    (e->p.plen == lisp_afi_max_plen(e->p.addr.afi) && !ever_at(w->s, &e->p, d))) {
			sim_fail(w->s, "%s's map-cache has %s at a locator where it never was",
				 w->n->name, pfx(&e->p));
			return 1;
		}
	}
	return 0;
}

void check_safety(struct sim *s)
{
	for (size_t i = 0; i < s->nnodes && !s->failed; i++) {
		struct node *n = &s->nodes[i];
		struct walk w = { .s = s, .n = n };

		if (n->down)
			continue;
		switch (n->kind) {
		case N_FHR:
			fhr_eid_walk(n->fhr, fhr_eid_ok, &w);
			if (w.count > SIM_EID_LIMIT)
				sim_fail(s, "%s holds %zu EIDs, above its eid-limit %d", n->name,
					 w.count, SIM_EID_LIMIT);
			break;
		case N_GW:
			etr_dyn_walk(n->etr, dyn_ok, &w);
			if (w.count > SIM_TENANTS * SIM_SLOTS)
				sim_fail(s, "%s has %zu dynamic EIDs: more than addresses exist",
					 n->name, w.count);
			w.count = 0;
			etr_away_walk(n->etr, away_ok, &w);
			if (xtr_notify_peer_count(n->notify) > SIM_TENANTS)
				sim_fail(s, "%s knows %zu FHRs: there are %d", n->name,
					 xtr_notify_peer_count(n->notify), SIM_TENANTS);
			/* its ITR too */
			__attribute__((fallthrough));
		case N_BRANCH:
			w.count = 0;
			mc_walk(n->mc, LISP_AFI_IPV4, NULL, mc_ok, &w);
			mc_walk(n->mc, LISP_AFI_IPV6, NULL, mc_ok, &w);
			if (w.count > 1000)
				sim_fail(s, "%s's map-cache has %zu entries", n->name, w.count);
			break;
		case N_MS: {
			struct regwalk rw = { .s = s };

			for (size_t k = 0; k < ms_site_count(n->ms) && !s->failed; k++)
				ms_site_rows(n->ms, ms_site_at(n->ms, k), row_ok, &rw);
			if (ms_reg_count(n->ms) > (size_t)SIM_TENANTS * (SIM_SLOTS + 8))
				sim_fail(s, "the Map-Server has %zu registrations",
					 ms_reg_count(n->ms));
			if (ms_pending_notifies(n->ms) > 4 * (size_t)SIM_TENANTS * SIM_SLOTS)
				sim_fail(s, "the Map-Server has %zu Map-Notifies pending",
					 ms_pending_notifies(n->ms));
			break;
		}
		default:
			break;
		}
	}
}

/* Agreement */

struct find {
	const struct lisp_prefix *p;
	bool found;
	enum fhr_eid_state state;
	uint8_t mac[6];
	bool registered;
};

static int fhr_find(const struct fhr_eid_info *e, void *arg)
{
	struct find *f = arg;

	if (!lisp_prefix_equal(&e->p, f->p))
		return 0;
	f->found = true;
	f->state = e->state;
	memcpy(f->mac, e->mac, 6);
	return 1;
}

static int dyn_find(const struct etr_dyn_info *d, void *arg)
{
	struct find *f = arg;

	if (!lisp_prefix_equal(&d->p, f->p))
		return 0;
	f->found = true;
	f->registered = d->registered;
	return 1;
}

static const char *state_name(enum fhr_eid_state st)
{
	return st == FHR_EID_DETECTED ? "detected" : st == FHR_EID_ACKED ? "acknowledged" : "moved";
}

/* The Map-Server's registration of host p: how many registrants, and the DC of the first's
 * only locator (-1: another, or several). */
static char regs_text[256];

static int ms_where(struct sim *s, const struct lisp_prefix *p, int *dc)
{
	size_t o = 0;

	struct node *n = &s->nodes[s->ms];
	const struct ms_site *site = ms_site_by_prefix(n->ms, p);
	struct regwalk rw = { .s = s, .want = p };
	int regs = 0;

	*dc = -1;
	regs_text[0] = '\0';
	if (!site)
		return 0;
	ms_site_rows(n->ms, site, row_ok, &rw);
	if (!rw.found)
		return 0;
	for (const struct ms_registrant *r = ms_reg_registrants(rw.found); r;) {
		struct ms_registrant_info ri;
		const struct ms_registrant *cur = r;

		r = ms_registrant_info(cur, &ri);
		{
			char a[LISP_ADDR_STRLEN], l[LISP_ADDR_STRLEN] = "-";
			struct lisp_locator loc;

			if (ri.nloc) {
				ms_registrant_locator(cur, 0, &loc);
				lisp_addr_format(&loc.addr[0], l, sizeof(l));
			}
			if (o < sizeof(regs_text))
				o += (size_t)snprintf(
					regs_text + o, sizeof(regs_text) - o,
					" [by %s:%u%s, %u locator(s) %s]",
					lisp_addr_format(&ri.addr, a, sizeof(a)), ri.port,
					ri.has_xtr_id ? " with an xTR-ID" : "", ri.nloc, l);
		}
		if (regs++ == 0 && ri.nloc == 1) {
			struct lisp_locator loc;

			ms_registrant_locator(cur, 0, &loc);
			*dc = dc_of_rloc(s, &loc.addr[0]);
		}
	}
	return regs;
}

static const char *agree_one(struct sim *s, int t, int slot)
{
	struct vm *v = work_vm(s, t, slot, false);
	struct lisp_addr a;
	struct lisp_prefix p;
	uint32_t iid = world_iid(t);
	int dc, regs;
	struct mc_fwd f;
	struct node *b = &s->nodes[s->branch];

	world_vm_addr(slot, &a);
	lisp_prefix_from_addr(&p, iid, &a);
	regs = ms_where(s, &p, &dc);
	if (v->exists && (regs != 1 || dc != v->dc))
		return snprintf(why, sizeof(why),
				"VM %s is at dc%d; the Map-Server has %d registration(s)%s",
				pfx(&p), v->dc + 1, regs, regs ? regs_text : ""),
		       why;
	if (!v->exists && regs)
		return snprintf(why, sizeof(why),
				"VM %s is nowhere; the Map-Server has it registered (dc%d)",
				pfx(&p), dc + 1),
		       why;
	for (int g = 0; g < SIM_DCS; g++) {
		struct node *gw = &s->nodes[s->gw[g]];
		struct find fd = { .p = &p };
		struct etr_away_info aw;
		bool here = v->exists && v->dc == g;

		etr_dyn_walk(gw->etr, dyn_find, &fd);
		if (here != fd.found || (here && !fd.registered))
			return snprintf(why, sizeof(why),
					"VM %s is %s dc%d; %s %s it as a dynamic EID%s", pfx(&p),
					here ? "at" : "not at", g + 1, gw->name,
					fd.found ? "has" : "does not have",
					fd.found && !fd.registered ? " (not registered)" : ""),
			       why;
		if (etr_away_get(gw->etr, &p, &aw) == 0 && v->exists) {
			bool right = !here;

			for (uint8_t i = 0; right && i < aw.nloc; i++)
				right = dc_of_rloc(s, &aw.locs[i].addr) == v->dc;
			if (!right)
				return snprintf(why, sizeof(why),
						"VM %s is at dc%d; %s's away entry for it points "
						"elsewhere",
						pfx(&p), v->dc + 1, gw->name),
				       why;
		}
	}
	for (int d = 0; d < SIM_DCS; d++) {
		struct node *fn = &s->nodes[s->fhr[t][d]];
		struct find fd = { .p = &p };
		bool here = v->exists && v->dc == d;

		fhr_eid_walk(fn->fhr, fhr_find, &fd);
		if (here && (!fd.found || fd.state != FHR_EID_ACKED || memcmp(fd.mac, v->mac, 6)))
			return snprintf(why, sizeof(why), "VM %s is at dc%d; %s has it %s%s",
					pfx(&p), d + 1, fn->name,
					fd.found ? state_name(fd.state) : "not at all",
					fd.found && memcmp(fd.mac, v->mac, 6) ? " with another MAC"
									      : ""),
			       why;
		if (!here && fd.found && fd.state != FHR_EID_MOVED)
			return snprintf(why, sizeof(why), "VM %s is %s; %s has it %s", pfx(&p),
					v->exists ? "elsewhere" : "nowhere", fn->name,
					state_name(fd.state)),
			       why;
	}
	if (!v->exists)
		return NULL;
	mc_lookup_batch(b->mc, 1, &iid, &a, &f);
	if (f.state != MC_COMPLETE || !f.nloc)
		return snprintf(why, sizeof(why), "VM %s is at dc%d; the branch's map-cache %s",
				pfx(&p), v->dc + 1,
				f.state == MC_NEGATIVE	? "has a negative entry"
				: f.state == MC_PENDING ? "is still asking"
							: "has nothing"),
		       why;
	for (uint8_t i = 0; i < f.nloc; i++)
		if (dc_of_rloc(s, &f.locs[i].addr) != v->dc)
			return snprintf(why, sizeof(why),
					"VM %s is at dc%d; the branch's map-cache points at dc%d",
					pfx(&p), v->dc + 1, dc_of_rloc(s, &f.locs[i].addr) + 1),
			       why;
	return NULL;
}

const char *check_agreement(struct sim *s)
{
	for (int t = 0; t < SIM_TENANTS; t++)
		for (int slot = 0; slot < SIM_SLOTS; slot++) {
			const char *w;

			if (work_vm(s, t, slot, true)->exists)
				return snprintf(why, sizeof(why),
						"an impostor still claims slot %d of tenant %d",
						slot, t),
				       why;
			w = agree_one(s, t, slot);
			if (w)
				return w;
		}
	return NULL;
}
