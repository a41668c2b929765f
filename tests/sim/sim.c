/*
 * The simulation's scheduler, network, faults and attacker, and main() (see
 * sim.h and README "Simulation"). Usage: vmroam-sim [--seed N] [--seeds K]
 * [--rounds R] [--actions A] [--only LIST] [--trace] [--verbose]
 * [--no-shrink] [--determinism].
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "tests/sim/sim.h"

#define EPOCH	      1800000000.0 /* the simulation's t = 0 in unix time (2027) */
#define TRACE_TAIL    80	   /* lines of the trace printed with a failure */
#define ROUND_CALM    (SIM_SETTLE_MAX + 15.0)
#define CHECK_EVERY   0.25 /* s between agreement checks in a calm phase */
#define TRAFFIC_EVERY 0.2  /* s between the branch's packets to each VM */
#define ATTACK_MEAN   0.2  /* s between the attacker's datagrams, on average */
#define SHRINK_RUNS   150  /* re-runs a shrink may take */

enum ev_kind {
	E_DGRAM,
	E_DATA,
	E_TICK,
	E_FN,
	E_ACTION,
	E_TRAFFIC,
	E_TALK,
	E_ATTACK,
	E_PHASE
};

struct sim_event {
	double t;
	uint64_t seq;
	enum ev_kind kind;
	int node;
	sim_fn fn;
	int a, b, c;
	struct lisp_addr src, dst;
	uint16_t sport, dport;
	size_t len;
	uint8_t buf[];
};

/* PRNG: xoshiro256** seeded by splitmix64 */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(uint64_t s[4], uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0x2545f4914f6cdd1dull + stream;

	for (int i = 0; i < 4; i++)
		s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rand(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

double sim_uniform(uint64_t s[4], double lo, double hi)
{
	return lo + (hi - lo) * (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

static double expo(uint64_t s[4], double mean)
{
	return -mean * log(1.0 - sim_uniform(s, 0, 0.999999));
}

double sim_now(const struct sim *s, int node)
{
	return EPOCH + s->t + s->nodes[node].skew;
}

/* lib/platform: the running node's clock, and random bytes from the engines' stream */
static uint64_t plat_realtime(void *arg)
{
	struct sim *s = arg;

	return (uint64_t)(sim_now(s, s->cur) * 1e9);
}

static uint64_t plat_monotonic(void *arg)
{
	struct sim *s = arg;

	return (uint64_t)((s->t + 1.0) * 1e9);
}

static void plat_random(void *arg, void *buf, size_t len)
{
	struct sim *s = arg;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = sim_rand(s->rng_engine);

		memcpy(b + i, &r, len - i < 8 ? len - i : 8);
	}
}

/* The trace: what happened, in order; printed with a failure or with --trace */

static uint64_t trace_hash;

/* The engines' log messages go to the trace (their rate limits read the simulation's clock) */
static void log_sink(void *arg, int prio, const char *msg)
{
	struct sim *s = arg;

	(void)prio;
	sim_trace(s, "  log %s: %s", s->nodes[s->cur].name, msg);
}

void sim_trace(struct sim *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "%10.4f ", s->t);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	for (const char *c = line; *c; c++)
		trace_hash = (trace_hash ^ (uint8_t)*c) * 0x100000001b3ull;
	if (s->trace)
		fprintf(s->trace, "%s\n", line);
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	va_start(ap, fmt);
	vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
	va_end(ap);
	sim_trace(s, "INVARIANT BROKEN: %s", s->failure);
}

/* The event queue: a binary heap on (time, sequence) */

static bool before(const struct sim_event *a, const struct sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static struct sim_event *ev_new(struct sim *s, double at, enum ev_kind kind, size_t len)
{
	struct sim_event *e = calloc(1, sizeof(*e) + len);
	size_t i;

	if (!e)
		abort();
	e->t = at;
	e->seq = s->heap_seq++;
	e->kind = kind;
	e->len = len;
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (!s->heap)
			abort();
	}
	for (i = s->nheap++; i > 0 && before(e, s->heap[(i - 1) / 2]); i = (i - 1) / 2)
		s->heap[i] = s->heap[(i - 1) / 2];
	s->heap[i] = e;
	return e;
}

static struct sim_event *ev_pop(struct sim *s)
{
	struct sim_event *top, *last;
	size_t i = 0;

	if (!s->nheap)
		return NULL;
	top = s->heap[0];
	last = s->heap[--s->nheap];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

void sim_at(struct sim *s, double delay, sim_fn fn, int a, int b, int c)
{
	struct sim_event *e = ev_new(s, s->t + delay, E_FN, 0);

	e->fn = fn;
	e->a = a;
	e->b = b;
	e->c = c;
}

/* The network */

static bool cut_off(const struct sim *s, int node)
{
	return node >= 0 && s->part_until[node] > s->t;
}

static void capture(struct sim *s, int node, uint16_t sport, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len)
{
	struct capture *c = &s->caps[s->ncaps++ % (sizeof(s->caps) / sizeof(s->caps[0]))];

	if (len > sizeof(c->buf))
		return;
	c->src = s->nodes[node].addr;
	c->sport = sport;
	c->dst = *dst;
	c->dport = dport;
	memcpy(c->buf, buf, len);
	c->len = len;
}

static void deliver_at(struct sim *s, double delay, enum ev_kind kind, const struct lisp_addr *src,
		       uint16_t sport, const struct lisp_addr *dst, uint16_t dport,
		       const uint8_t *buf, size_t len)
{
	struct sim_event *e = ev_new(s, s->t + delay, kind, len);

	e->src = *src;
	e->sport = sport;
	e->dst = *dst;
	e->dport = dport;
	memcpy(e->buf, buf, len);
}

static void transmit(struct sim *s, int node, enum ev_kind kind, uint16_t sport,
		     const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf, size_t len)
{
	int to = world_node_by_addr(s, dst);
	int copies = 1;

	s->st.datagrams++;
	if (s->t > s->faults_until[0])
		s->loss = 0;
	if (s->t > s->faults_until[1])
		s->dup = 0;
	if (s->t > s->faults_until[2])
		s->delay_max = s->calm ? SIM_DELAY_CALM : 0.03;
	if (!s->calm &&
	    (cut_off(s, node) || cut_off(s, to) || sim_uniform(s->rng_net, 0, 1) < s->loss)) {
		s->st.lost_net++;
		return;
	}
	if (!s->calm && sim_uniform(s->rng_net, 0, 1) < s->dup) {
		s->st.dup_net++;
		copies = 2;
	}
	while (copies--)
		deliver_at(s,
			   s->calm ? sim_uniform(s->rng_net, 0.0002, SIM_DELAY_CALM)
				   : sim_uniform(s->rng_net, 0.0002, s->delay_max),
			   kind, &s->nodes[node].addr, sport, dst, dport, buf, len);
}

void sim_send(struct sim *s, int node, uint16_t sport, const struct lisp_addr *dst, uint16_t dport,
	      const uint8_t *buf, size_t len)
{
	char b[LISP_ADDR_STRLEN];

	world_check_datagram(s, node, sport, dport, buf, len);
	capture(s, node, sport, dst, dport, buf, len);
	if (s->trace_all) {
		uint64_t nonce = 0;

		for (size_t i = 4; i < 12 && i < len; i++)
			nonce = nonce << 8 | buf[i];
		sim_trace(s, "%s -> %s:%u %zu bytes (type %d, nonce %016llx)", s->nodes[node].name,
			  lisp_addr_format(dst, b, sizeof(b)), dport, len, buf[0] >> 4,
			  (unsigned long long)nonce);
	}
	transmit(s, node, E_DGRAM, sport, dst, dport, buf, len);
}

void sim_send_data(struct sim *s, int node, const uint8_t *pkt, size_t len)
{
	struct lisp_addr dst;

	if (len < 40)
		return;
	if (pkt[0] >> 4 == 4) {
		dst.afi = LISP_AFI_IPV4;
		memcpy(dst.u.v4, pkt + 16, 4);
	} else {
		lisp_addr_set_v6(&dst, pkt + 24);
	}
	transmit(s, node, E_DATA, 4341, &dst, 4341, pkt, len);
}

/* The attacker: any datagram it saw, to anyone, from any address; mutated; random bytes */
static void attack(struct sim *s)
{
	uint64_t *r = s->rng_attack;
	size_t ncap = s->ncaps < 128 ? s->ncaps : 128;
	int to = (int)(sim_rand(r) % s->nnodes), mode = (int)(sim_rand(r) % 10);
	static const uint16_t ports[] = { LISP_CONTROL_PORT, 4349, FHR_HV_PORT, 4351 };
	uint8_t buf[1500];
	struct lisp_addr src = s->nodes[s->attacker].addr, dst = s->nodes[to].addr;
	uint16_t sport = (uint16_t)(1024 + sim_rand(r) % 60000), dport = ports[sim_rand(r) % 4];
	size_t len;

	s->st.attacks++;
	if (mode < 8 && ncap) {
		const struct capture *c = &s->caps[sim_rand(r) % ncap];
		int from = (int)(sim_rand(r) % 4);

		len = c->len;
		memcpy(buf, c->buf, len);
		if (sim_rand(r) % 2) { /* to where it went */
			dst = c->dst;
			dport = c->dport;
		} else {
			dport = c->dport;
		}
		if (from < 2) { /* as its sender */
			src = c->src;
			sport = c->sport;
		} else if (from == 2) {
			src = s->nodes[sim_rand(r) % s->nnodes].addr;
			sport = c->sport;
		}
		if (mode >= 6) /* a few bits flipped */
			for (int i = 0, n = 1 + (int)(sim_rand(r) % 3); i < n && len; i++)
				buf[sim_rand(r) % len] ^= (uint8_t)(1u << (sim_rand(r) % 8));
	} else {
		len = 1 + sim_rand(r) % 200;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)sim_rand(r);
	}
	deliver_at(s, sim_uniform(r, 0.0002, 0.002), E_DGRAM, &src, sport, &dst, dport, buf, len);
}

/* Scheduling the world's periodic work */

static void schedule_tick(struct sim *s, int node, double at)
{
	struct sim_event *e = ev_new(s, at, E_TICK, 0);

	e->node = node;
}

static double tick_every(const struct node *n)
{
	return n->kind == N_FHR ? 0.1 : 1.0;
}

static void vm_talks(struct sim *s)
{
	for (size_t i = 0; i < SIM_VMS; i++) {
		struct vm *v = &s->vms[i];

		if (!v->exists || v->dc < 0 || s->t < v->quiet_until || s->t < v->next_talk)
			continue;
		/* an ARP for its gateway or a packet (DNS, NTP): every 10 to 30 s */
		v->next_talk = s->t + sim_uniform(s->rng_work, 10, 30);
		if (sim_rand(s->rng_work) % 2)
			world_vm_announce(s, v);
		else
			world_vm_data(s, v);
	}
}

static void traffic(struct sim *s)
{
	for (size_t i = 0; i < SIM_VMS; i++)
		if (s->vms[i].exists && !s->vms[i].impostor)
			world_branch_send(s, &s->vms[i]);
}

/* Phases: faults for a round's actions, then calm until everyone agrees (and a while more) */

static void calm_down(struct sim *s)
{
	s->calm = true;
	s->loss = s->dup = 0;
	s->delay_max = SIM_DELAY_CALM;
	memset(s->part_until, 0, sizeof(s->part_until));
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].down) {
			sim_trace(s, "%s starts (calm)", s->nodes[i].name);
			world_start(s, (int)i);
		}
	sim_trace(s, "calm: faults stop");
}

static void window_open(struct sim *s, bool open)
{
	for (size_t i = 0; i < SIM_VMS; i++) {
		struct vm *v = &s->vms[i];

		if (open) {
			v->win_lo = v->flow_seq;
			v->win_hi = UINT64_MAX;
			v->win_rx = 0;
		} else {
			v->win_hi = v->flow_seq;
		}
	}
}

static void window_check(struct sim *s)
{
	for (size_t i = 0; i < SIM_VMS; i++) {
		struct vm *v = &s->vms[i];

		if (v->win_hi == UINT64_MAX || v->win_hi < v->win_lo)
			continue;
		if (v->win_rx != v->win_hi - v->win_lo) {
			char a[LISP_ADDR_STRLEN];
			struct lisp_addr addr;

			world_vm_addr(v->slot, &addr);
			s->st.calm_lost += v->win_hi - v->win_lo - v->win_rx;
			sim_fail(s,
				 "packets lost after everyone agreed: VM %s of tenant %u got %llu "
				 "of "
				 "%llu",
				 lisp_addr_format(&addr, a, sizeof(a)), world_iid(v->tenant),
				 (unsigned long long)v->win_rx,
				 (unsigned long long)(v->win_hi - v->win_lo));
			return;
		}
	}
}

struct phase {
	int round;
	double calm_at, agreed_at;
	int state;	   /* 0 chaos, 1 calm waiting for agreement, 2 agreed, 3 window closed */
	char waiting[768]; /* the disagreement last traced */
};

static void phase_step(struct sim *s, struct phase *ph, struct sim_event *e)
{
	const char *why;

	switch (ph->state) {
	case 0:
		calm_down(s);
		ph->calm_at = s->t;
		ph->state = 1;
		ev_new(s, s->t + CHECK_EVERY, E_PHASE, 0);
		return;
	case 1:
		why = check_agreement(s);
		if (!why) {
			double took = s->t - ph->calm_at;

			sim_trace(s, "agreement %.2f s after the faults stopped", took);
			s->st.settle_sum += took;
			s->st.settles++;
			if (took > s->st.settle_max)
				s->st.settle_max = took;
			ph->agreed_at = s->t;
			ph->state = 2;
			window_open(s, true);
			ev_new(s, s->t + 10.0, E_PHASE, 0);
		} else if (strcmp(why, ph->waiting) != 0) { /* what it waits for, when it changes */
			snprintf(ph->waiting, sizeof(ph->waiting), "%s", why);
			sim_trace(s, "not yet: %s", why);
		}
		if (why && s->t - ph->calm_at > SIM_SETTLE_MAX) {
			sim_fail(s, "no agreement %.0f s after the faults stopped: %s",
				 SIM_SETTLE_MAX, why);
		} else if (why) {
			ev_new(s, s->t + CHECK_EVERY, E_PHASE, 0);
		}
		return;
	case 2:
		window_open(s, false);
		ph->state = 3;
		ev_new(s, s->t + 1.0, E_PHASE, 0);
		return;
	case 3:
		window_check(s);
		why = check_agreement(s);
		if (why)
			sim_fail(s, "agreement lost in a calm phase: %s", why);
		ph->state = 4; /* the round is over */
		(void)e;
		return;
	}
}

/* One run of the simulation */

static void sim_init(struct sim *s, uint64_t seed)
{
	struct platform_ops ops = { .realtime_ns = plat_realtime,
				    .monotonic_ns = plat_monotonic,
				    .random = plat_random,
				    .arg = s };

	s->seed = seed;
	rng_seed(s->rng_work, seed, 1);
	rng_seed(s->rng_net, seed, 2);
	rng_seed(s->rng_engine, seed, 3);
	rng_seed(s->rng_attack, seed, 4);
	platform_set(&ops);
	log_set_sink(log_sink, s);
	s->delay_max = SIM_DELAY_CALM;
	s->calm = true;
	trace_hash = 0xcbf29ce484222325ull;
	for (int t = 0; t < SIM_TENANTS; t++)
		for (int slot = 0; slot < SIM_SLOTS; slot++)
			for (int imp = 0; imp < 2; imp++) {
				struct vm *v = work_vm(s, t, slot, imp);

				v->tenant = t;
				v->slot = slot;
				v->impostor = imp;
				v->dc = -1;
			}
}

static void sim_free(struct sim *s)
{
	struct sim_event *e;

	while ((e = ev_pop(s)))
		free(e);
	free(s->heap);
	s->heap = NULL;
	s->nheap = s->capheap = 0;
	world_free(s);
	platform_set(NULL);
	log_set_sink(NULL, NULL);
}

static void run_round(struct sim *s, struct phase *ph, double end)
{
	struct sim_event *e;

	while (!s->failed && ph->state != 4 && (e = ev_pop(s))) {
		s->t = e->t;
		s->st.events++;
		switch (e->kind) {
		case E_DGRAM:
		case E_DATA: {
			int to = world_node_by_addr(s, &e->dst);

			if (to < 0)
				break;
			s->st.delivered++;
			if (e->kind == E_DATA)
				world_data(s, to, e->buf, e->len);
			else
				world_input(s, to, &e->src, e->sport, &e->dst, e->dport, e->buf,
					    e->len);
			break;
		}
		case E_TICK:
			world_tick(s, e->node);
			schedule_tick(s, e->node, s->t + tick_every(&s->nodes[e->node]));
			break;
		case E_FN:
			e->fn(s, e->a, e->b, e->c);
			break;
		case E_ACTION:
			work_run(s, &s->acts[e->a]);
			break;
		case E_TRAFFIC:
			traffic(s);
			ev_new(s, s->t + TRAFFIC_EVERY, E_TRAFFIC, 0);
			break;
		case E_TALK:
			vm_talks(s);
			ev_new(s, s->t + 1.0, E_TALK, 0);
			break;
		case E_ATTACK:
			attack(s);
			ev_new(s, s->t + expo(s->rng_attack, ATTACK_MEAN), E_ATTACK, 0);
			break;
		case E_PHASE:
			phase_step(s, ph, e);
			break;
		}
		free(e);
		if (!s->failed)
			check_safety(s);
		if (s->t > end)
			sim_fail(s, "the round did not end by %.0f s", end);
	}
}

/* Runs seed with the actions not turned off; true if every invariant held. */
static bool sim_run(struct sim *s, uint64_t seed, const bool *off)
{
	double start = 1.0;

	sim_init(s, seed);
	world_layout(s);
	work_generate(s);
	if (off)
		for (size_t i = 0; i < s->nacts; i++)
			s->acts[i].off = off[i];
	world_build(s);
	for (size_t i = 0; i < s->nnodes; i++)
		schedule_tick(s, (int)i, sim_uniform(s->rng_net, 0, tick_every(&s->nodes[i])));
	ev_new(s, 0.5, E_TRAFFIC, 0);
	ev_new(s, 0.7, E_TALK, 0);
	ev_new(s, 2.0, E_ATTACK, 0);
	for (unsigned r = 0; r < s->rounds && !s->failed; r++) {
		struct phase ph = { .round = (int)r };
		double chaos_end = start;

		for (size_t i = 0; i < s->nacts; i++) {
			if (s->acts[i].round != r || s->acts[i].off)
				continue;
			ev_new(s, start + s->acts[i].t, E_ACTION, 0)->a = (int)i;
			if (start + s->acts[i].t > chaos_end)
				chaos_end = start + s->acts[i].t;
		}
		chaos_end += 1.0;
		s->calm = false;
		s->delay_max = 0.03;
		sim_trace(s, "round %u: faults until %.1f s", r + 1, chaos_end);
		ev_new(s, chaos_end, E_PHASE, 0);
		run_round(s, &ph, chaos_end + ROUND_CALM + 30);
		start = s->t + 1.0;
	}
	return !s->failed;
}

static struct sim *sim_alloc(const struct sim *opts)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->rounds = opts->rounds;
	s->actions_per_round = opts->actions_per_round;
	s->trace_all = opts->trace_all;
	s->trace = opts->trace;
	return s;
}

static void sim_release(struct sim *s)
{
	sim_free(s);
	free(s->acts);
	free(s);
}

/* Shrinking: turn actions off while the run still breaks an invariant */
static size_t shrink(const struct sim *opts, uint64_t seed, size_t nacts, bool *off)
{
	size_t runs = 0, left = nacts;

	for (size_t chunk = nacts / 2; chunk >= 1 && runs < SHRINK_RUNS; chunk /= 2) {
		for (size_t i = 0; i < nacts && runs < SHRINK_RUNS; i += chunk) {
			bool save[4096], fails, any = false;
			struct sim *s;

			for (size_t j = i; j < i + chunk && j < nacts; j++) {
				save[j - i] = off[j];
				any |= !off[j];
				off[j] = true;
			}
			if (!any)
				continue;
			s = sim_alloc(opts);
			s->trace = NULL;
			fails = !sim_run(s, seed, off);
			sim_release(s);
			runs++;
			if (!fails)
				for (size_t j = i; j < i + chunk && j < nacts; j++)
					off[j] = save[j - i];
		}
		if (chunk == 1)
			break;
	}
	for (size_t i = 0; i < nacts; i++)
		left -= off[i];
	return left;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmroam-sim [--seed N] [--seeds K] [--rounds R] [--actions A]\n"
		"                  [--only I,J,...] [--trace] [--verbose] [--no-shrink]\n"
		"                  [--determinism]\n"
		"  --seed N       the first seed (default 1)\n"
		"  --seeds K      seeds N .. N+K-1 (default 1)\n"
		"  --rounds R     fault phases per seed, each followed by a calm one (default 3)\n"
		"  --actions A    workload and fault actions per round (default 40)\n"
		"  --only LIST    run only these actions (a shrunk failure's list)\n"
		"  --trace        print the whole trace (--verbose: every datagram too)\n"
		"  --no-shrink    do not shrink a failure's actions\n"
		"  --determinism  run each seed twice and compare the traces\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seeds", required_argument, NULL, 'k' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "actions", required_argument, NULL, 'a' },
		{ "only", required_argument, NULL, 'o' },
		{ "trace", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-shrink", no_argument, NULL, 'n' },
		{ "determinism", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim opts = { .rounds = 3, .actions_per_round = 40 };
	uint64_t seed = 1, seeds = 1;
	const char *only = NULL;
	bool no_shrink = false, determinism = false, all_ok = true;
	unsigned failed = 0;
	struct sim_stats tot = { 0 };
	int c;
	struct timespec t0, t1;

	while ((c = getopt_long(argc, argv, "s:k:r:a:o:tvndh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			seeds = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			opts.rounds = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'a':
			opts.actions_per_round = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			only = optarg;
			break;
		case 't':
			opts.trace = stdout;
			break;
		case 'v':
			opts.trace = stdout;
			opts.trace_all = true;
			break;
		case 'n':
			no_shrink = true;
			break;
		case 'd':
			determinism = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !opts.rounds || !opts.actions_per_round || !seeds ||
	    opts.rounds * opts.actions_per_round > 4096)
		usage();
	log_init("vmroam-sim", true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t sd = seed; sd < seed + seeds; sd++) {
		struct sim *s = sim_alloc(&opts);
		bool off[4096] = { false }, ok;
		size_t nacts;

		if (only) {
			for (size_t i = 0; i < 4096; i++)
				off[i] = true;
			for (const char *p = only; *p;) {
				char *end;
				unsigned long i = strtoul(p, &end, 10);

				if (end == p || i >= 4096)
					usage();
				off[i] = false;
				p = *end == ',' ? end + 1 : end;
			}
		}
		ok = sim_run(s, sd, off);
		nacts = s->nacts;
		if (determinism) {
			uint64_t h = trace_hash;
			struct sim *again = sim_alloc(&opts);

			again->trace = NULL;
			sim_run(again, sd, off);
			if (trace_hash != h) {
				printf("seed %llu: NOT DETERMINISTIC: the same seed ran "
				       "differently\n",
				       (unsigned long long)sd);
				ok = false;
			}
			sim_release(again);
		}
		tot.events += s->st.events;
		tot.datagrams += s->st.datagrams;
		tot.attacks += s->st.attacks;
		tot.data_sent += s->st.data_sent;
		tot.data_received += s->st.data_received;
		tot.actions_done += s->st.actions_done;
		tot.restarts += s->st.restarts;
		tot.moves += s->st.moves;
		for (size_t i = 0; i < s->nnodes; i++)
			if (s->nodes[i].mc)
				s->st.publications += mc_counters(s->nodes[i].mc)->publications,
					s->st.subscriptions +=
					mc_counters(s->nodes[i].mc)->subs_confirmed;
		tot.publications += s->st.publications;
		tot.subscriptions += s->st.subscriptions;
		tot.settles += s->st.settles;
		tot.settle_sum += s->st.settle_sum;
		if (s->st.settle_max > tot.settle_max)
			tot.settle_max = s->st.settle_max;
		if (ok) {
			if (seeds == 1 || opts.trace)
				printf("seed %llu: ok: %llu events, %llu actions, %llu moves, %llu "
				       "restarts, %llu attacks; agreement at most %.1f s after the "
				       "faults stopped\n",
				       (unsigned long long)sd, (unsigned long long)s->st.events,
				       (unsigned long long)s->st.actions_done,
				       (unsigned long long)s->st.moves,
				       (unsigned long long)s->st.restarts,
				       (unsigned long long)s->st.attacks, s->st.settle_max);
			sim_release(s);
			continue;
		}
		all_ok = false;
		failed++;
		printf("seed %llu: FAILED at %.3f s: %s\n", (unsigned long long)sd, s->t,
		       s->failure);
		sim_release(s);
		if (!opts.trace) { /* the trace's tail, from a run again with it */
			char *buf = NULL;
			size_t blen = 0;
			FILE *mem = open_memstream(&buf, &blen);
			struct sim *again = sim_alloc(&opts);
			size_t lines = 0, from = 0, line = 0;

			again->trace = mem;
			sim_run(again, sd, off);
			sim_release(again);
			fclose(mem);
			for (size_t i = 0; i < blen; i++)
				lines += buf[i] == '\n';
			printf("  the last %d of %zu trace lines:\n", TRACE_TAIL, lines);
			from = lines > TRACE_TAIL ? lines - TRACE_TAIL : 0;
			for (size_t i = 0; i < blen; i++) {
				if (line >= from)
					putchar(buf[i]);
				line += buf[i] == '\n';
			}
			free(buf);
		}
		if (!no_shrink && !only) {
			size_t left = shrink(&opts, sd, nacts, off);
			struct sim *g = sim_alloc(&opts);
			bool first = true;

			printf("  shrunk to %zu of %zu actions:\n", left, nacts);
			g->trace = NULL;
			sim_init(g, sd);
			world_layout(g);
			work_generate(g);
			for (size_t i = 0; i < g->nacts; i++)
				if (!off[i])
					work_print(g, &g->acts[i], stdout);
			printf("  replay: tests/sim/run --seed %llu --only ",
			       (unsigned long long)sd);
			for (size_t i = 0; i < nacts; i++)
				if (!off[i]) {
					printf("%s%zu", first ? "" : ",", i);
					first = false;
				}
			printf(" --trace\n");
			free(g->acts);
			platform_set(NULL);
			log_set_sink(NULL, NULL);
			free(g);
		} else {
			printf("  replay: tests/sim/run --seed %llu%s%s --trace\n",
			       (unsigned long long)sd, only ? " --only " : "", only ? only : "");
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("vmroam-sim: %llu seed(s) from %llu, %u round(s) x %u actions each: %u failed; "
	       "%llu events, %llu datagrams, %llu attacks, %llu moves, %llu restarts, "
	       "%llu subscriptions, %llu publications; "
	       "agreement after the faults stopped: mean %.1f s, max %.1f s (bound %.0f s); "
	       "%.1f s\n",
	       (unsigned long long)seeds, (unsigned long long)seed, opts.rounds,
	       opts.actions_per_round, failed, (unsigned long long)tot.events,
	       (unsigned long long)tot.datagrams, (unsigned long long)tot.attacks,
	       (unsigned long long)tot.moves, (unsigned long long)tot.restarts,
	       (unsigned long long)tot.subscriptions, (unsigned long long)tot.publications,
	       tot.settles ? tot.settle_sum / tot.settles : 0.0, tot.settle_max, SIM_SETTLE_MAX,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return all_ok ? 0 : 1;
}
