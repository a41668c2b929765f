/*
 * The whole-system deterministic simulation (tests/sim, README "Simulation"):
 * the real engines of every node (fhr-agent's EID table, channel and
 * hypervisor listener; the gateways' eid-notify, ETR, ITR map-cache,
 * data-plane pipeline and SMR policy; the Map-Server/Map-Resolver; a
 * branch xTR; the hypervisors' signed events) in one process, over a
 * simulated network and clock. One seed decides everything: the workload,
 * the faults, the network's delays and losses, the attacker, and every
 * nonce and session the engines draw (lib/platform.h).
 *
 *   sim.c    the scheduler, the network and its faults, the attacker, main()
 *   world.c  the nodes: their configurations, engines, restarts, reloads, data plane
 *   work.c   the workload (VMs boot, move, come back, depart, are hijacked) as a
 *            list of actions (so that a failing run can be shrunk)
 *   check.c  the invariants
 */
#ifndef TESTS_SIM_SIM_H
#define TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fhr-agent/fhr.h"
#include "hypervisor-hooks/hv.h"
#include "xtr-gateway/dataplane/smr.h"
#include "xtr-gateway/xtr.h"

/* The world's size */
#define SIM_TENANTS   3 /* instance-ids 100, 200, 300; the same addresses in each */
#define SIM_DCS	      2 /* data centers 1 and 2 (index 0 and 1) */
#define SIM_SLOTS     8 /* addresses a tenant's VMs use (IPv4: IPv6 EIDs need IPv6 map-resolvers) */
#define SIM_V4	      8
#define SIM_EID_LIMIT 64 /* the FHRs' eid-limit */

/* Bounds the invariants are checked against (README "Simulation") */
/*
 * s after the faults stop: everyone agrees with the truth. When a gateway and its FHR both
 * restart around a VM's departure (neither remembers it), or the Map-Server crashes within a
 * second of a withdrawal, the registration lasts until it expires (MS_REG_LIFETIME, 180 s:
 * RFC 9301's soft state). Otherwise the ETR's 60 s refresh bounds it.
 */
#define SIM_SETTLE_MAX (MS_REG_LIFETIME + 20.0)
#define SIM_SKEW_MAX   15.0  /* s: each node's clock, ± */
#define SIM_DELAY_CALM 0.002 /* s: the network's largest delay when calm */

enum node_kind {
	N_MS,
	N_GW,
	N_BRANCH,
	N_FHR,
	N_HOST,
	N_ATTACKER,
	N_KINDS
};

struct sim;

/* A node: one daemon (or a hypervisor host), its address and clock. */
struct node {
	struct sim *sim;
	int idx;
	enum node_kind kind;
	char name[24];
	struct lisp_addr addr;
	int tenant, dc; /* FHR: both; GW, HOST: dc; else -1 */
	double skew;	/* its clock minus the simulation's */
	bool down;
	unsigned restarts;
	int variant; /* configuration variant (reloads switch it) */
	/* an xtr-gateway (MS, GW, BRANCH) */
	struct xtr_conf *xconf;
	struct xtr_counters gc;
	struct ms *ms;
	struct etr *etr;
	struct mapcache *mc;
	struct xtr_notify *notify;
	struct smr *smr;
	struct dp dp;
	char state_path[256]; /* MS: its state file */
	double state_saved;
	/* an fhr-agent (FHR) */
	struct fhr_conf *fconf;
	struct fhr *fhr;
	struct fhr_hv *hv;
	struct lisp_addr known[SIM_SLOTS]; /* fhr_io.known: skip the data-packet detection */
	bool is_known[SIM_SLOTS];
	double neigh[SIM_SLOTS]; /* its neighbour table: when each address last spoke here */
	double tick_after;	 /* its first tick after a start (it waits for its probes) */
	/* a hypervisor host (HOST) */
	struct hv_conf *hconf;
	uint64_t hv_session, hv_seq;
	struct hv_pending {
		uint64_t seq;
		int tenant, fhr, tries;
		uint8_t buf[1024];
		size_t len;
	} hvq[32];
	size_t nhvq;
};

/* A VM: its tenant, address slot, MAC; where it is (dc -1: nowhere). */
struct vm {
	bool exists;
	int tenant, slot, dc;
	uint8_t mac[6];
	bool impostor;			 /* hijack: another VM claiming the slot's address */
	double since;			 /* where it is since */
	uint64_t flow_seq;		 /* the branch's packets to it (next sequence number) */
	uint64_t rx_next;		 /* the next sequence number it expects */
	double quiet_until;		 /* a silent VM sends nothing before */
	double next_talk;		 /* when it next speaks on its own */
	uint64_t win_lo, win_hi, win_rx; /* a calm window's packets: sent [lo, hi), received */
	unsigned gen;			 /* boots of this address (each with a MAC of its own) */
};
#define SIM_VMS (SIM_TENANTS * SIM_SLOTS * 2) /* legitimate and impostor per slot */

/* A workload or fault action (work.c), executed at its time if what it names still exists. */
enum act_kind {
	A_BOOT,	  /* tenant, slot, dc, how */
	A_MOVE,	  /* tenant, slot, how; back: seconds until it moves back (0: no) */
	A_DEPART, /* tenant, slot, how */
	A_HIJACK, /* tenant, slot, dc: an impostor for arg seconds */
	A_CLEAR,  /* an operator clears the FHR of tenant, dc */
	A_RESTART, /* node (index), how: 0 clean, 1 crash (MS: state as last written), 2 MS no state */
	A_RELOAD,    /* node: its configuration again, the other variant */
	A_PARTITION, /* node cut off for arg seconds */
	A_LOSS,	     /* arg: loss probability for arg2 seconds */
	A_DUP,	     /* arg: duplication probability for arg2 seconds */
	A_DELAY,     /* arg: largest delay for arg2 seconds */
	A_KINDS,
};
enum how {
	HOW_ANNOUNCE,
	HOW_SILENT,
	HOW_HYPERVISOR,
	HOW_KINDS
};

struct action {
	unsigned round;
	double t; /* from the start of its round */
	enum act_kind kind;
	int tenant, slot, dc, node, how;
	double arg, arg2, back;
	bool off; /* shrinking: left out */
};

struct sim_stats {
	uint64_t events, datagrams, delivered, lost_net, dup_net, attacks;
	uint64_t data_sent, data_received, data_lost, data_dup, data_reordered;
	uint64_t calm_lost; /* lost after agreement in a calm phase (an invariant) */
	uint64_t actions_done, actions_skipped, restarts, reloads, moves, hijacks;
	uint64_t subscriptions,
		publications; /* ITRs' confirmed subscriptions, publications taken */
	double settle_max, settle_sum;
	unsigned settles;
};

/* The simulation: everything of one run. */
struct sim {
	uint64_t seed;
	double t;  /* the simulation's clock (s) */
	bool calm; /* faults off: no loss, duplication, partitions, restarts */
	/* one PRNG per purpose, all from the seed: removing an action changes little else */
	uint64_t rng_work[4], rng_net[4], rng_engine[4], rng_attack[4];
	struct node nodes[64];
	size_t nnodes;
	int cur; /* the node whose engine runs now: its clock for lib/platform */
	int ms, gw[SIM_DCS], branch, host[SIM_DCS], fhr[SIM_TENANTS][SIM_DCS], attacker;
	struct vm vms[SIM_VMS];
	uint32_t ever[SIM_TENANTS][SIM_SLOTS]; /* bit dc: a VM with this address was ever there */
	struct action *acts;
	size_t nacts, next_act;
	/* faults in force */
	double loss, dup, delay_max, faults_until[4];
	double part_until[64];
	/* the attacker's captures */
	struct capture {
		struct lisp_addr src, dst;
		uint16_t sport, dport;
		uint8_t buf[1500];
		size_t len;
	} caps[128];
	size_t ncaps;
	/* options */
	unsigned rounds, actions_per_round;
	bool trace_all, quiet;
	FILE *trace;
	char tracebuf_path[256];
	/* outcome */
	bool failed;
	char failure[512];
	struct sim_stats st;
	uint64_t heap_seq;
	struct sim_event **heap;
	size_t nheap, capheap;
};

/* sim.c */
uint64_t sim_rand(uint64_t s[4]);
double sim_uniform(uint64_t s[4], double lo, double hi);
double sim_now(const struct sim *s, int node); /* a node's clock: unix time */
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A datagram from node (its address, sport) to dst:dport, through the network's faults. */
void sim_send(struct sim *s, int node, uint16_t sport, const struct lisp_addr *dst, uint16_t dport,
	      const uint8_t *buf, size_t len);
/* A LISP data packet (outer IP packet) from node to its outer destination. */
void sim_send_data(struct sim *s, int node, const uint8_t *pkt, size_t len);
/* Calls fn(s, arg) at now + delay (the VMs' answers, the hypervisors' retransmissions). */
typedef void (*sim_fn)(struct sim *s, int a, int b, int c);
void sim_at(struct sim *s, double delay, sim_fn fn, int a, int b, int c);
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* world.c */
/* The nodes (names, addresses, clocks), then their engines started. */
void world_layout(struct sim *s);
void world_build(struct sim *s);
void world_free(struct sim *s);
void world_start(struct sim *s, int node); /* new engines (a restart: after world_stop) */
void world_stop(struct sim *s, int node, int how);
void world_reload(struct sim *s, int node);
void world_tick(struct sim *s, int node);
void world_input(struct sim *s, int node, const struct lisp_addr *src, uint16_t sport,
		 const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf, size_t len);
void world_data(struct sim *s, int node, const uint8_t *pkt, size_t len);
/* The branch sends one packet to VM v (its client's flow); a VM answers. */
void world_branch_send(struct sim *s, struct vm *v);
int world_node_by_addr(const struct sim *s, const struct lisp_addr *a);
void world_vm_addr(int slot, struct lisp_addr *out);
uint32_t world_iid(int tenant);
/* The slot of a VM address, the tenant of an instance-id; -1 if none. */
int world_slot_of(const struct lisp_addr *a);
int world_tenant_of(uint32_t iid);
extern const struct lisp_addr *world_rloc(const struct sim *s, int dc);
/* VM v speaks on its segment: ARP or ND (announce), or a data packet (data), or RARP. */
void world_vm_announce(struct sim *s, struct vm *v);
void world_vm_data(struct sim *s, struct vm *v);
void world_vm_rarp(struct sim *s, struct vm *v);
/* Hypervisor host of dc tells the FHR of v's tenant kind about v. */
void world_hv_event(struct sim *s, int dc, struct vm *v, enum hv_kind kind);
/* Checks that a datagram sent decodes (the invariant "every datagram sent decodes"). */
void world_check_datagram(struct sim *s, int node, uint16_t sport, uint16_t dport,
			  const uint8_t *buf, size_t len);

/* work.c */
void work_generate(struct sim *s);
void work_run(struct sim *s, struct action *a);
void work_print(const struct sim *s, const struct action *a, FILE *f);
struct vm *work_vm(struct sim *s, int tenant, int slot, bool impostor);

/* check.c */
/* Safety, after every step: tables within limits, no tenant's or attacker's state where it
 * cannot be. */
void check_safety(struct sim *s);
/* Agreement with the truth: NULL when everyone agrees, else what disagrees (static buffer). */
const char *check_agreement(struct sim *s);

#endif /* TESTS_SIM_SIM_H */
