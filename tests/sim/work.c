/*
 * The simulation's workload and faults (see sim.h): a list of actions drawn
 * from the seed before the run, each executed at its time if what it names
 * still makes sense then (a move of a VM that does not exist is skipped),
 * so that any subset of them is a run of its own: a failure shrinks by
 * leaving actions out.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

static const char *how_name[HOW_KINDS] = { "announced", "silent", "hypervisor" };

struct vm *work_vm(struct sim *s, int tenant, int slot, bool impostor)
{
	if (tenant < 0 || tenant >= SIM_TENANTS || slot < 0 || slot >= SIM_SLOTS)
		return NULL;
	return &s->vms[(tenant * SIM_SLOTS + slot) * 2 + (impostor ? 1 : 0)];
}

static int pick(uint64_t r[4], int n)
{
	return (int)(sim_rand(r) % (uint64_t)n);
}

void work_generate(struct sim *s)
{
	static const struct {
		enum act_kind k;
		int weight;
	} mix[] = {
		{ A_BOOT, 18 }, { A_MOVE, 30 },	  { A_DEPART, 7 }, { A_HIJACK, 4 },
		{ A_CLEAR, 2 }, { A_RESTART, 9 }, { A_RELOAD, 3 }, { A_PARTITION, 5 },
		{ A_LOSS, 4 },	{ A_DUP, 3 },	  { A_DELAY, 3 },
	};
	uint64_t *r = s->rng_work;
	int total = 0;

	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		total += mix[i].weight;
	s->nacts = (size_t)s->rounds * s->actions_per_round;
	s->acts = calloc(s->nacts, sizeof(*s->acts));
	if (!s->acts)
		abort();
	for (unsigned round = 0; round < s->rounds; round++) {
		double t = 0;

		for (unsigned i = 0; i < s->actions_per_round; i++) {
			struct action *a = &s->acts[round * s->actions_per_round + i];
			int w = pick(r, total);
			size_t k = 0;

			while (w >= mix[k].weight)
				w -= mix[k++].weight;
			t += sim_uniform(r, 0.0, 2.0);
			a->round = round;
			a->t = t;
			a->kind = mix[k].k;
			a->tenant = pick(r, SIM_TENANTS);
			a->slot = pick(r, SIM_SLOTS);
			a->dc = pick(r, SIM_DCS);
			a->how = pick(r, HOW_KINDS);
			a->arg = sim_uniform(r, 0, 1);
			a->arg2 = sim_uniform(r, 0, 1);
			a->back = pick(r, 5) == 0 ? sim_uniform(r, 0.01, 0.5)
						  : 0; /* moves back at once */
			switch (a->kind) {
			case A_RESTART:
			case A_RELOAD:
			case A_PARTITION: {
				/* the Map-Server, a gateway, the branch or an FHR */
				int pool[1 + SIM_DCS + 1 + SIM_TENANTS * SIM_DCS], n = 0;

				pool[n++] = s->ms;
				for (int d = 0; d < SIM_DCS; d++)
					pool[n++] = s->gw[d];
				pool[n++] = s->branch;
				for (int tt = 0; tt < SIM_TENANTS; tt++)
					for (int d = 0; d < SIM_DCS; d++)
						pool[n++] = s->fhr[tt][d];
				a->node = pool[pick(r, n)];
				a->how = pick(r, 3); /* clean, crash, (MS) without its state file */
				break;
			}
			default:
				break;
			}
		}
	}
}

void work_print(const struct sim *s, const struct action *a, FILE *f)
{
	static const char *names[A_KINDS] = { "boot",  "move",	    "depart", "hijack",
					      "clear", "restart",   "reload", "partition",
					      "loss",  "duplicate", "delay" };
	char addr[LISP_ADDR_STRLEN];
	struct lisp_addr ad;

	world_vm_addr(a->slot, &ad);
	lisp_addr_format(&ad, addr, sizeof(addr));
	fprintf(f, "    [%zu] round %u +%.3f s: %s", (size_t)(a - s->acts), a->round + 1, a->t,
		names[a->kind]);
	switch (a->kind) {
	case A_BOOT:
		fprintf(f, " %s in %u at dc%d, %s", addr, world_iid(a->tenant), a->dc + 1,
			how_name[a->how]);
		break;
	case A_MOVE:
		fprintf(f, " %s in %u, %s", addr, world_iid(a->tenant), how_name[a->how]);
		if (a->back > 0)
			fprintf(f, ", back after %.3f s", a->back);
		break;
	case A_DEPART:
		fprintf(f, " %s in %u, %s", addr, world_iid(a->tenant), how_name[a->how]);
		break;
	case A_HIJACK:
		fprintf(f, " %s in %u from dc%d for %.1f s", addr, world_iid(a->tenant), a->dc + 1,
			1 + 7 * a->arg);
		break;
	case A_CLEAR:
		fprintf(f, " the FHR of %u at dc%d", world_iid(a->tenant), a->dc + 1);
		break;
	case A_RESTART:
		fprintf(f, " %s (%s)", s->nodes[a->node].name,
			a->how == 0					? "clean"
			: a->how == 1 || s->nodes[a->node].kind != N_MS ? "crash"
									: "without its state file");
		break;
	case A_RELOAD:
	case A_PARTITION:
		fprintf(f, " %s", s->nodes[a->node].name);
		if (a->kind == A_PARTITION)
			fprintf(f, " for %.1f s", 0.5 + 9.5 * a->arg);
		break;
	case A_LOSS:
	case A_DUP:
	case A_DELAY:
		fprintf(f, " %.3f for %.1f s", a->kind == A_DELAY ? 0.3 * a->arg : 0.3 * a->arg,
			1 + 9 * a->arg2);
		break;
	default:
		break;
	}
	fputc('\n', f);
}

/* Moves and arrivals */

static void first_word(struct sim *s, int vm, int gen, int unused)
{
	struct vm *v = &s->vms[vm];

	(void)unused;
	if (v->exists && v->gen == (unsigned)gen && v->dc >= 0) {
		v->quiet_until = 0;
		world_vm_data(s, v);
	}
}

static void arrive(struct sim *s, struct vm *v, int dc, enum how how, bool rarp)
{
	int idx = (int)(v - s->vms);

	v->dc = dc;
	v->since = s->t;
	s->ever[v->tenant][v->slot] |= 1u << dc;
	switch (how) {
	case HOW_ANNOUNCE:
		v->quiet_until = 0;
		if (rarp) /* QEMU's RARP after a migration: the MAC only */
			world_vm_rarp(s, v);
		else
			world_vm_announce(s, v);
		break;
	case HOW_SILENT:
		v->quiet_until = s->t + sim_uniform(s->rng_work, 0.3, 5.0);
		sim_at(s, v->quiet_until - s->t, first_word, idx, (int)v->gen, 0);
		break;
	case HOW_HYPERVISOR:
		v->quiet_until = s->t + sim_uniform(s->rng_work, 0.3, 5.0);
		world_hv_event(s, dc, v, HV_LIVE);
		if (rarp)
			world_vm_rarp(s, v);
		sim_at(s, v->quiet_until - s->t, first_word, idx, (int)v->gen, 0);
		break;
	default:
		break;
	}
}

static void hv_left(struct sim *s, int dc, int vm, int gen)
{
	struct vm *v = &s->vms[vm];
	struct vm copy = *v;

	if (v->gen != (unsigned)gen)
		return;
	world_hv_event(s, dc, &copy, HV_LEFT);
}

/* A move's switchover: the VM stops at its old host and runs at the new one. */
static void switchover(struct sim *s, int vm, int how, int gen)
{
	struct vm *v = &s->vms[vm];
	int from = v->dc;

	if (!v->exists || v->gen != (unsigned)gen || from < 0)
		return;
	arrive(s, v, 1 - from, (enum how)how, sim_rand(s->rng_work) % 2);
	if (how == HOW_HYPERVISOR) /* the old host's watcher: stopped */
		sim_at(s, sim_uniform(s->rng_work, 0, 0.05), hv_left, from, vm, gen);
}

static void move_back(struct sim *s, int vm, int how, int gen)
{
	struct vm *v = &s->vms[vm];

	if (!v->exists || v->gen != (unsigned)gen || v->dc < 0)
		return;
	sim_trace(s, "vm %d moves back (%s)", vm, how_name[how]);
	s->st.moves++;
	switchover(s, vm, how, gen);
}

static void depart(struct sim *s, int vm, int how, int gen)
{
	struct vm *v = &s->vms[vm];
	int from = v->dc;

	if (!v->exists || v->gen != (unsigned)gen)
		return;
	v->exists = false;
	v->dc = -1;
	/* its host tells; only across subnets (tenant B: liveness probes) may a VM go silently */
	if (how == HOW_HYPERVISOR || v->tenant != 1 || v->impostor)
		world_hv_event(s, from, v, HV_LEFT);
}

static void restart_node(struct sim *s, int node, int unused1, int unused2)
{
	struct node *n = &s->nodes[node];

	(void)unused1;
	(void)unused2;
	if (!n->down)
		return;
	if (n->kind == N_FHR || n->kind == N_GW) /* a clock that jumped, maybe back */
		n->skew = sim_uniform(s->rng_work, -SIM_SKEW_MAX, SIM_SKEW_MAX);
	sim_trace(s, "%s starts", n->name);
	world_start(s, node);
}

void work_run(struct sim *s, struct action *a)
{
	struct vm *v = work_vm(s, a->tenant, a->slot, false);
	struct vm *imp = work_vm(s, a->tenant, a->slot, true);
	int idx = (int)(v - s->vms);
	bool done = true;

	switch (a->kind) {
	case A_BOOT:
		if (v->exists) {
			done = false;
			break;
		}
		v->exists = true;
		v->gen++;
		memcpy(v->mac,
		       (uint8_t[6]){ 0x52, 0x54, (uint8_t)a->tenant, (uint8_t)a->slot, 0,
				     (uint8_t)v->gen },
		       6);
		v->flow_seq = v->rx_next = 0;
		v->win_lo = v->win_hi = v->win_rx = 0;
		if (a->how == HOW_HYPERVISOR)
			world_hv_event(s, a->dc,
				       &(struct vm){ .tenant = v->tenant,
						     .slot = v->slot,
						     .mac = { v->mac[0], v->mac[1], v->mac[2],
							      v->mac[3], v->mac[4], v->mac[5] } },
				       HV_ARRIVING);
		arrive(s, v, a->dc, (enum how)a->how, false);
		break;
	case A_MOVE:
		if (!v->exists || v->dc < 0) {
			done = false;
			break;
		}
		s->st.moves++;
		if (a->how == HOW_HYPERVISOR) { /* arriving at the destination, then the switch */
			double pre = sim_uniform(s->rng_work, 0.05, 0.5);

			world_hv_event(s, 1 - v->dc, v, HV_ARRIVING);
			sim_at(s, pre, switchover, idx, a->how, (int)v->gen);
			if (a->back > 0)
				sim_at(s, pre + a->back, move_back, idx,
				       pick(s->rng_work, HOW_KINDS), (int)v->gen);
		} else {
			switchover(s, idx, a->how, (int)v->gen);
			if (a->back > 0)
				sim_at(s, a->back, move_back, idx, pick(s->rng_work, HOW_KINDS),
				       (int)v->gen);
		}
		break;
	case A_DEPART:
		if (!v->exists) {
			done = false;
			break;
		}
		depart(s, idx, a->how, (int)v->gen);
		break;
	case A_HIJACK:
		if (!v->exists || imp->exists) {
			done = false;
			break;
		}
		s->st.hijacks++;
		imp->exists = true;
		imp->gen++;
		memcpy(imp->mac,
		       (uint8_t[6]){ 0x52, 0x54, (uint8_t)a->tenant, (uint8_t)a->slot, 0xee,
				     (uint8_t)imp->gen },
		       6);
		arrive(s, imp, a->dc, HOW_ANNOUNCE, false);
		sim_at(s, 1 + 7 * a->arg, depart, (int)(imp - s->vms), HOW_HYPERVISOR,
		       (int)imp->gen);
		break;
	case A_CLEAR: {
		struct node *f = &s->nodes[s->fhr[a->tenant][a->dc]];

		if (f->down) {
			done = false;
			break;
		}
		s->cur = f->idx;
		fhr_clear(f->fhr, NULL, sim_now(s, f->idx));
		break;
	}
	case A_RESTART: {
		struct node *n = &s->nodes[a->node];

		if (n->down) {
			done = false;
			break;
		}
		s->st.restarts++;
		world_stop(s, a->node, n->kind == N_MS ? a->how : 1);
		sim_at(s, sim_uniform(s->rng_work, 0.05, 3.0), restart_node, a->node, 0, 0);
		break;
	}
	case A_RELOAD:
		if (s->nodes[a->node].down) {
			done = false;
			break;
		}
		s->st.reloads++;
		world_reload(s, a->node);
		break;
	case A_PARTITION:
		s->part_until[a->node] = s->t + 0.5 + 9.5 * a->arg;
		break;
	case A_LOSS:
		s->loss = 0.3 * a->arg;
		s->faults_until[0] = s->t + 1 + 9 * a->arg2;
		break;
	case A_DUP:
		s->dup = 0.3 * a->arg;
		s->faults_until[1] = s->t + 1 + 9 * a->arg2;
		break;
	case A_DELAY:
		s->delay_max = 0.001 + 0.3 * a->arg;
		s->faults_until[2] = s->t + 1 + 9 * a->arg2;
		break;
	default:
		break;
	}
	if (!done) {
		s->st.actions_skipped++;
		return;
	}
	s->st.actions_done++;
	{
		char line[256] = "";
		FILE *m = fmemopen(line, sizeof(line) - 1, "w");

		if (m) {
			work_print(s, a, m);
			fclose(m);
			line[strcspn(line, "\n")] = '\0';
			sim_trace(s, "action%s", line + 4);
		}
	}
}
