/*
 * The simulation's nodes (see sim.h): their configurations, the real
 * engines wired to the simulated network as the daemons wire them to
 * sockets, restarts, reloads, and the data plane (the real pipeline and SMR
 * policy on the packets the branch and the VMs send).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/ippkt.h"
#include "lib/lisp_auth.h"
#include "lib/notify.h"
#include "lib/platform.h"
#include "tests/sim/sim.h"

#define CHANNEL_PORT	4349 /* the FHRs' channel socket (they send from it) */
#define HOST_PORT	4351 /* the hypervisors' source port */
#define NEIGH_REACHABLE 30.0 /* s a neighbour entry is REACHABLE after its host's last word */
#define NEIGH_STALE	60.0 /* s it is STALE then, before the kernel forgets it */
#define PROBE_WAIT	0.5  /* s: fhr-agent's first tick waits for the hosts it probed */
#define FLOW_PORT	7

static const char *tenant_name[SIM_TENANTS] = { "A", "B", "C" };

uint32_t world_iid(int tenant)
{
	return (uint32_t)(100 * (tenant + 1));
}

void world_vm_addr(int slot, struct lisp_addr *out)
{
	char a[64];

	if (slot < SIM_V4)
		snprintf(a, sizeof(a), "198.51.100.%d", 10 + slot);
	else
		snprintf(a, sizeof(a), "2001:db8:100::%x", 0x10 + slot - SIM_V4);
	lisp_addr_parse(a, out);
}

static void client_addr(uint16_t afi, struct lisp_addr *out)
{
	lisp_addr_parse(afi == LISP_AFI_IPV4 ? "203.0.113.5" : "2001:db8:203::5", out);
}

const struct lisp_addr *world_rloc(const struct sim *s, int dc)
{
	return &s->nodes[s->gw[dc]].addr;
}

int world_node_by_addr(const struct sim *s, const struct lisp_addr *a)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (lisp_addr_equal(&s->nodes[i].addr, a))
			return (int)i;
	return -1;
}

static double now_of(struct node *n)
{
	n->sim->cur = n->idx; /* lib/platform's clock is this node's while its engines run */
	return sim_now(n->sim, n->idx);
}

/* Configurations (variant: what a reload switches to; the truth does not depend on it) */

static char *text_ms(int variant)
{
	static char b[8192];
	size_t o = 0;

	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      "router lisp\n site DC\n  authentication-key dc-key\n");
	for (int t = 0; t < SIM_TENANTS; t++)
		o += (size_t)snprintf(b + o, sizeof(b) - o,
				      "  eid-prefix instance-id %u 198.51.100.0/24 "
				      "accept-more-specifics\n"
				      "  eid-prefix instance-id %u 2001:db8:100::/64 "
				      "accept-more-specifics\n",
				      world_iid(t), world_iid(t));
	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      "  exit\n site BRANCH\n  authentication-key branch-key\n");
	for (int t = 0; t < SIM_TENANTS; t++)
		o += (size_t)snprintf(b + o, sizeof(b) - o,
				      "  eid-prefix instance-id %u 203.0.113.0/25\n"
				      "  eid-prefix instance-id %u 2001:db8:203::/64\n",
				      world_iid(t), world_iid(t));
	/* publish/subscribe: the gateways' and the branch's ITRs */
	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      "  exit\n subscriber GW1\n  authentication-key gw1-sub-key\n"
			      "  xtr-id 000000000000000000000000000000d1 site-id 1\n"
			      "  itr-rloc 192.0.2.10\n"
			      "  exit\n subscriber GW2\n  authentication-key gw2-sub-key\n"
			      "  xtr-id 000000000000000000000000000000d2 site-id 2\n"
			      "  itr-rloc 192.0.2.20\n"
			      "  exit\n subscriber BRANCH\n  authentication-key branch-sub-key\n"
			      "  xtr-id 000000000000000000000000000000b1\n"
			      "  itr-rloc 192.0.2.30\n%s",
			      variant ? "  subscription-limit 4\n" : "");
	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      "  exit\n ipv4 map-server\n ipv4 map-resolver\n"
			      " ipv6 map-server\n ipv6 map-resolver\n%s",
			      variant ? " map-reply rate-limit 300 burst 400\n" : "");
	return b;
}

static char *text_gw(const struct sim *s, int dc, int variant)
{
	static char b[8192];
	char rloc[LISP_ADDR_STRLEN];
	size_t o = 0;

	lisp_addr_format(world_rloc(s, dc), rloc, sizeof(rloc));
	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      "router lisp\n locator-set DC\n  %s priority 1 weight 100\n  exit\n",
			      rloc);
	for (int t = 0; t < SIM_TENANTS; t++)
		o += (size_t)snprintf(b + o, sizeof(b) - o,
				      " eid-table vrf T%s instance-id %u\n"
				      "  dynamic-eid VMS-%s\n"
				      "   database-mapping 198.51.100.0/24 locator-set DC\n"
				      "   database-mapping 2001:db8:100::/64 locator-set DC\n"
				      "   eid-notify authentication-key tenant-%s-key\n"
				      "   exit\n"
				      "  map-cache 203.0.113.0/25 map-request\n"
				      "  map-cache 2001:db8:203::/64 map-request\n"
				      "  exit\n",
				      tenant_name[t], world_iid(t), tenant_name[t], tenant_name[t]);
	o += (size_t)snprintf(b + o, sizeof(b) - o,
			      " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n ipv4 etr\n"
			      " itr subscribe xtr-id 000000000000000000000000000000d%d site-id %d"
			      " authentication-key gw%d-sub-key\n"
			      " ipv4 etr map-server 192.0.2.1 key dc-key\n ipv6 itr\n ipv6 etr\n"
			      " dataplane mtu 1600\n%s",
			      dc + 1, dc + 1, dc + 1,
			      variant ? " map-reply rate-limit 50 burst 100\n"
					" dataplane map-cache-limit 20000\n"
				      : "");
	return b;
}

static char *text_branch(int variant)
{
	static char b[8192];
	size_t o = 0;

	o += (size_t)snprintf(b + o, sizeof(b) - o, "router lisp\n");
	for (int t = 0; t < SIM_TENANTS; t++)
		o += (size_t)snprintf(
			b + o, sizeof(b) - o,
			" eid-table vrf T%s instance-id %u\n"
			"  database-mapping 203.0.113.0/25 192.0.2.30 priority 1 weight 100\n"
			"  database-mapping 2001:db8:203::/64 192.0.2.30 priority 1 weight 100\n"
			"  map-cache 198.51.100.0/24 map-request\n"
			"  map-cache 2001:db8:100::/64 map-request\n"
			"  exit\n",
			tenant_name[t], world_iid(t));
	o += (size_t)snprintf(
		b + o, sizeof(b) - o,
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n ipv4 etr\n"
		" ipv4 etr map-server 192.0.2.1 key branch-key\n ipv6 itr\n ipv6 etr\n"
		" dataplane mtu 1600\n%s",
		variant ? " map-reply rate-limit 80\n"
			: " itr subscribe xtr-id 000000000000000000000000000000b1 site-id 30"
			  " authentication-key branch-sub-key\n");
	return b;
}

static char *text_fhr(const struct sim *s, int tenant, int dc)
{
	static char b[4096];
	char gw[LISP_ADDR_STRLEN];

	lisp_addr_format(world_rloc(s, dc), gw, sizeof(gw));
	snprintf(b, sizeof(b),
		 "router lisp\n fhr-id fhr-%s-dc%d\n"
		 " eid-table vrf T%s instance-id %u\n"
		 "  dynamic-eid VMS-%s\n"
		 "   database-mapping 198.51.100.0/24\n"
		 "   database-mapping 2001:db8:100::/64\n"
		 "   eid-notify %s key tenant-%s-key\n"
		 "   hypervisor-events key hv-%s-key\n"
		 "   eid-limit %d\n"
		 "   exit\n"
		 "  exit\n"
		 "interface br0\n lisp mobility VMS-%s\n %s\n",
		 tenant_name[tenant], dc + 1, tenant_name[tenant], world_iid(tenant),
		 tenant_name[tenant], gw, tenant_name[tenant], tenant_name[tenant], SIM_EID_LIMIT,
		 tenant_name[tenant],
		 tenant == 1 ? "ip proxy-arp"
			     : "lisp extended-subnet-mode"); /* B: across subnets */
	return b;
}

static char *text_host(const struct sim *s, int dc)
{
	static char b[4096];
	size_t o = 0;

	o += (size_t)snprintf(b + o, sizeof(b) - o, "hypervisor\n host-id host-dc%d\n", dc + 1);
	for (int t = 0; t < SIM_TENANTS; t++) {
		char fhr[LISP_ADDR_STRLEN];

		lisp_addr_format(&s->nodes[s->fhr[t][dc]].addr, fhr, sizeof(fhr));
		o += (size_t)snprintf(b + o, sizeof(b) - o,
				      " tenant %s\n  instance-id %u\n  key hv-%s-key\n  fhr %s\n",
				      tenant_name[t], world_iid(t), tenant_name[t], fhr);
	}
	return b;
}

static struct xtr_conf *xconf_of(struct sim *s, struct node *n)
{
	const char *text = n->kind == N_MS   ? text_ms(n->variant)
			   : n->kind == N_GW ? text_gw(s, n->dc, n->variant)
					     : text_branch(n->variant);
	char err[512];
	struct xtr_conf *c = xtr_conf_parse_string(n->name, text, err, sizeof(err));

	if (!c) {
		fprintf(stderr, "sim: %s's configuration: %s\n", n->name, err);
		exit(2);
	}
	return c;
}

/* The engines' I/O: the simulated network */

static int xtr_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	struct node *n = arg;

	sim_send(n->sim, n->idx, LISP_CONTROL_PORT, dst, dport, buf, len);
	return 0;
}

static int no_if_addr(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out)
{
	(void)arg;
	(void)ifname;
	(void)afi;
	(void)out;
	return -ENOENT;
}

static void etr_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	struct node *n = arg;

	(void)ifname;
	if (n->notify)
		xtr_notify_event(n->notify, ev, p, now_of(n));
}

static int notify_send(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		       uint16_t dport, const uint8_t *buf, size_t len)
{
	struct node *n = arg;

	(void)from;
	sim_send(n->sim, n->idx, NOTIFY_PORT, dst, dport, buf, len);
	return 0;
}

static bool smr_local_rloc(void *arg, uint16_t afi, struct lisp_addr *out)
{
	struct node *n = arg;

	return mc_local_rloc(n->mc, afi, out);
}

static int smr_away_since(void *arg, const struct lisp_prefix *p, double *since)
{
	struct node *n = arg;
	struct etr_away_info a;
	int rc = etr_away_get(n->etr, p, &a);

	if (rc == 0)
		*since = a.since;
	return rc;
}

static void smr_sent(void *arg, const struct lisp_prefix *p)
{
	struct node *n = arg;

	etr_away_smr_sent(n->etr, p);
}

static int fhr_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	struct node *n = arg;

	sim_send(n->sim, n->idx, CHANNEL_PORT, dst, dport, buf, len);
	return 0;
}

static int hv_ack_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		       size_t len)
{
	struct node *n = arg;

	sim_send(n->sim, n->idx, FHR_HV_PORT, dst, dport, buf, len);
	return 0;
}

int world_slot_of(const struct lisp_addr *a)
{
	for (int i = 0; i < SIM_SLOTS; i++) {
		struct lisp_addr b;

		world_vm_addr(i, &b);
		if (lisp_addr_equal(a, &b))
			return i;
	}
	return -1;
}

static void fhr_known(void *arg, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
		      enum fhr_known what)
{
	struct node *n = arg;
	int i = world_slot_of(a);

	(void)ifname;
	(void)mac;
	if (i >= 0 && what != FHR_KNOWN_MAC_HERE && what != FHR_KNOWN_MAC_BACK)
		n->is_known[i] = what == FHR_KNOWN_HERE || what == FHR_KNOWN_BACK;
}

/* The VM a probe reaches: on this FHR's segment, with that MAC (any, if none given). */
static struct vm *vm_here(struct sim *s, struct node *n, int slot, const uint8_t *mac)
{
	for (int imp = 0; imp < 2; imp++) {
		struct vm *v = work_vm(s, n->tenant, slot, imp);

		if (v && v->exists && v->dc == n->dc && (!mac || memcmp(mac, v->mac, 6) == 0))
			return v;
	}
	return NULL;
}

static void probe_answer(struct sim *s, int node, int slot, int imp)
{
	struct vm *v = work_vm(s, s->nodes[node].tenant, slot, imp);

	if (v && v->exists && v->dc == s->nodes[node].dc)
		world_vm_announce(s, v);
}

static void fhr_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac)
{
	struct node *n = arg;
	struct sim *s = n->sim;
	int slot = world_slot_of(eid);
	struct vm *v = slot >= 0 ? vm_here(s, n, slot, mac) : NULL;

	(void)ifname;
	if (v)
		sim_at(s, sim_uniform(s->rng_net, 0.0005, 0.003), probe_answer, n->idx, slot,
		       v->impostor);
}

/* Start, stop, reload */

static void start_xtr(struct sim *s, struct node *n)
{
	double now = now_of(n);
	struct ms_io mio = { .send = xtr_send, .arg = n };
	struct etr_io eio = {
		.send = xtr_send, .if_addr = no_if_addr, .event = etr_event, .arg = n
	};
	struct mc_io cio = { .send = xtr_send, .if_addr = no_if_addr, .arg = n };
	struct xtr_notify_io nio = { .send = notify_send, .arg = n };
	struct smr_io sio = { .send = xtr_send,
			      .local_rloc = smr_local_rloc,
			      .away_since = smr_away_since,
			      .sent = smr_sent,
			      .arg = n };

	if (!n->xconf)
		n->xconf = xconf_of(s, n);
	memset(&n->gc, 0, sizeof(n->gc));
	n->ms = ms_new(&mio, &n->gc);
	ms_configure(n->ms, &n->xconf->msmr, &n->xconf->reply, now);
	if (n->kind == N_MS) {
		char err[512];
		int rc = ms_load(n->ms, n->state_path, now, err, sizeof(err));

		if (rc < 0)
			sim_fail(s, "%s: state file not taken back: %s", n->name, err);
		else
			sim_trace(s, "%s: %d registration(s) from the state file", n->name, rc);
		n->state_saved = now;
		return;
	}
	n->etr = etr_new(&eio);
	etr_configure(n->etr, n->xconf, now);
	etr_tick(n->etr, now);
	n->mc = mc_new(&cio);
	mc_configure(n->mc, &n->xconf->itr, n->xconf, now);
	n->smr = smr_new(&sio);
	dp_init(&n->dp, n->mc, &n->addr, NULL, n->xconf->dp.mtu);
	n->dp.local = etr_local_table(n->etr);
	n->dp.sport_mask = 63;
	if (n->kind == N_GW) {
		n->notify = xtr_notify_new(&nio, n->etr, n->name);
		xtr_notify_configure(n->notify, n->xconf);
	}
}

static void start_fhr(struct sim *s, struct node *n)
{
	double now = now_of(n);
	struct fhr_io io = { .send = fhr_send, .known = fhr_known, .probe = fhr_probe, .arg = n };
	struct fhr_hv_io hio = { .send = hv_ack_send, .arg = n };
	uint64_t session = platform_realtime_ns(); /* as fhr-agent's main() */
	char err[512];

	if (!n->fconf) {
		n->fconf = fhr_conf_parse_string(n->name, text_fhr(s, n->tenant, n->dc), err,
						 sizeof(err));
		if (!n->fconf) {
			fprintf(stderr, "sim: %s's configuration: %s\n", n->name, err);
			exit(2);
		}
	}
	memset(n->is_known, 0, sizeof(n->is_known));
	n->fhr = fhr_new(&io, session);
	fhr_configure(n->fhr, n->fconf, now);
	n->hv = fhr_hv_new(n->fhr, &hio, session);
	fhr_hv_configure(n->hv, n->fconf);
	/*
	 * fhr_neigh_seed() and fhr_neigh_probe_stale(): the kernel's neighbour table
	 * holds a host for NEIGH_REACHABLE + NEIGH_STALE after its last word, here or
	 * gone; each entry is probed (a host still here answers) and the first tick,
	 * which sends the gateways the table, waits PROBE_WAIT for the answers.
	 */
	for (int slot = 0; slot < SIM_SLOTS; slot++) {
		struct lisp_addr a;
		struct vm *v = vm_here(s, n, slot, NULL);

		if (n->neigh[slot] == 0 || s->t - n->neigh[slot] > NEIGH_REACHABLE + NEIGH_STALE)
			continue;
		world_vm_addr(slot, &a);
		if (!v) /* it left: its entry is still there, with the MAC it had */
			v = work_vm(s, n->tenant, slot, false);
		fhr_probe(n, "br0", &a, v->mac);
	}
	n->tick_after = s->t + PROBE_WAIT;
}

void world_start(struct sim *s, int node)
{
	struct node *n = &s->nodes[node];

	n->down = false;
	if (n->kind == N_FHR)
		start_fhr(s, n);
	else if (n->kind == N_MS || n->kind == N_GW || n->kind == N_BRANCH)
		start_xtr(s, n);
}

void world_stop(struct sim *s, int node, int how)
{
	struct node *n = &s->nodes[node];
	double now = now_of(n);

	n->down = true;
	n->restarts++;
	if (n->kind == N_FHR) {
		fhr_hv_free(n->hv);
		fhr_free(n->fhr);
		n->hv = NULL;
		n->fhr = NULL;
		return;
	}
	if (n->kind == N_MS && how == 0 && ms_save(n->ms, n->state_path, now) < 0)
		sim_fail(s, "%s: state file not written", n->name);
	if (n->kind == N_MS && how == 2)
		unlink(n->state_path);
	xtr_notify_free(n->notify);
	smr_free(n->smr);
	if (n->mc) /* what publish/subscribe did in the life that ends */
		s->st.publications += mc_counters(n->mc)->publications,
			s->st.subscriptions += mc_counters(n->mc)->subs_confirmed;
	mc_free(n->mc);
	etr_free(n->etr);
	ms_free(n->ms);
	n->notify = NULL;
	n->smr = NULL;
	n->mc = NULL;
	n->etr = NULL;
	n->ms = NULL;
}

void world_reload(struct sim *s, int node)
{
	struct node *n = &s->nodes[node];
	struct xtr_conf *old = n->xconf, *c;
	double now;

	if (n->kind == N_FHR) { /* fhr-agent starts again in place on SIGHUP */
		world_stop(s, node, 0);
		world_start(s, node);
		return;
	}
	n->variant ^= 1;
	c = xconf_of(s, n);
	now = now_of(n);
	ms_configure(n->ms, &c->msmr, &c->reply, now);
	if (n->etr) {
		etr_configure(n->etr, c, now);
		mc_configure(n->mc, &c->itr, c, now);
	}
	n->xconf = c;
	if (n->notify)
		xtr_notify_configure(n->notify, c);
	xtr_conf_free(old);
	if (n->etr)
		etr_tick(n->etr, now);
}

void world_tick(struct sim *s, int node)
{
	struct node *n = &s->nodes[node];
	double now;

	if (n->down)
		return;
	now = now_of(n);
	switch (n->kind) {
	case N_FHR:
		if (s->t >= n->tick_after)
			fhr_tick(n->fhr, now);
		fhr_hv_tick(n->hv, now);
		break;
	case N_MS:
		ms_tick(n->ms, now);
		/* as main.c: every STATE_EVERY (10 s), at once when a registration went */
		if (ms_dirty(n->ms) && (now - n->state_saved >= 10.0 || ms_dirty_urgent(n->ms))) {
			if (ms_save(n->ms, n->state_path, now) < 0)
				sim_fail(s, "%s: state file not written", n->name);
			n->state_saved = now;
		}
		break;
	case N_GW:
	case N_BRANCH:
		ms_tick(n->ms, now);
		etr_tick(n->etr, now);
		mc_tick(n->mc, now);
		if (n->notify)
			xtr_notify_tick(n->notify, now);
		break;
	default:
		break;
	}
}

/* Hypervisor hosts: signed events, retransmitted until acknowledged */

static void hv_retry(struct sim *s, int host, int seq_lo, int unused)
{
	struct node *h = &s->nodes[host];

	(void)unused;
	for (size_t i = 0; i < h->nhvq; i++) {
		struct hv_pending *p = &h->hvq[i];

		if ((int)(p->seq & 0x7fffffff) != seq_lo)
			continue;
		if (++p->tries > 5) { /* the hook gives up (2 s cap) */
			h->hvq[i] = h->hvq[--h->nhvq];
			return;
		}
		sim_send(s, host, HOST_PORT, &s->nodes[p->fhr].addr, FHR_HV_PORT, p->buf, p->len);
		sim_at(s, 0.2 * p->tries, hv_retry, host, seq_lo, 0);
		return;
	}
}

void world_hv_event(struct sim *s, int dc, struct vm *v, enum hv_kind kind)
{
	struct node *h = &s->nodes[s->host[dc]];
	struct hv_domain d = { .tenant_vm = true, .has_iid = true, .nifaces = 1 };
	const struct hv_tenant *t = hv_conf_tenant(h->hconf, tenant_name[v->tenant]);
	struct hv_pending *p;

	if (h->nhvq == sizeof(h->hvq) / sizeof(h->hvq[0]))
		return; /* the host's hooks are all waiting: this one is lost */
	p = &h->hvq[h->nhvq];
	snprintf(d.name, sizeof(d.name), "vm-%s-%d%s", tenant_name[v->tenant], v->slot,
		 v->impostor ? "-x" : "");
	snprintf(d.tenant, sizeof(d.tenant), "%s", tenant_name[v->tenant]);
	d.iid = world_iid(v->tenant);
	memcpy(d.ifaces[0].mac, v->mac, 6);
	snprintf(d.ifaces[0].bridge, sizeof(d.ifaces[0].bridge), "br0");
	world_vm_addr(v->slot, &d.ifaces[0].addrs[0]);
	d.ifaces[0].naddrs = 1;
	s->cur = h->idx;
	p->seq = ++h->hv_seq;
	p->len = hv_event_pack(h->hconf, t, &d, kind, "sim", "virtwatch", sim_now(s, h->idx),
			       h->hv_session, p->seq, p->buf, sizeof(p->buf));
	if (!p->len) {
		sim_fail(s, "hv_event_pack: the event does not fit");
		return;
	}
	p->tenant = v->tenant;
	p->fhr = s->fhr[v->tenant][dc];
	p->tries = 0;
	h->nhvq++;
	sim_trace(s, "host-dc%d: %s for %s", dc + 1, hv_kind_name(kind), d.name);
	hv_retry(s, h->idx, (int)(p->seq & 0x7fffffff), 0);
}

static void host_input(struct sim *s, struct node *h, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < h->nhvq; i++) {
		const struct hv_tenant *t = hv_conf_tenant(h->hconf, tenant_name[h->hvq[i].tenant]);
		int status;

		if (hv_ack_check(t, buf, len, h->hvq[i].seq, &status) == 0) {
			h->hvq[i] = h->hvq[--h->nhvq];
			return;
		}
	}
	(void)s;
}

/* The VMs on their segments */

static void segment_saw(struct sim *s, struct vm *v)
{
	struct node *f = &s->nodes[s->fhr[v->tenant][v->dc]];

	f->neigh[v->slot] = s->t;
}

void world_vm_announce(struct sim *s, struct vm *v)
{
	struct node *f = &s->nodes[s->fhr[v->tenant][v->dc]];
	struct lisp_addr a;

	segment_saw(s, v);
	if (f->down)
		return;
	world_vm_addr(v->slot, &a);
	fhr_detect(f->fhr, "br0", &a, v->mac, a.afi == LISP_AFI_IPV4 ? FHR_SRC_ARP : FHR_SRC_ND,
		   now_of(f));
}

void world_vm_data(struct sim *s, struct vm *v)
{
	struct node *f = &s->nodes[s->fhr[v->tenant][v->dc]];
	struct lisp_addr a;

	segment_saw(s, v);
	if (s->trace_all)
		sim_trace(s, "vm %d (tenant %d slot %d) sends a packet at dc%d%s",
			  (int)(v - s->vms), v->tenant, v->slot, v->dc + 1,
			  f->is_known[v->slot] ? " (known)" : "");
	if (f->down || f->is_known[v->slot]) /* known: its packets skip the queue */
		return;
	world_vm_addr(v->slot, &a);
	fhr_detect(f->fhr, "br0", &a, v->mac, FHR_SRC_DATA, now_of(f));
}

void world_vm_rarp(struct sim *s, struct vm *v)
{
	struct node *f = &s->nodes[s->fhr[v->tenant][v->dc]];
	double now;

	if (f->down)
		return;
	now = now_of(f);
	fhr_detect_mac(f->fhr, "br0", v->mac, now);
	fhr_hv_mac_seen(f->hv, "br0", v->mac, now);
}

/* Delivery */

void world_input(struct sim *s, int node, const struct lisp_addr *src, uint16_t sport,
		 const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf, size_t len)
{
	struct node *n = &s->nodes[node];
	double now;

	if (n->down)
		return;
	now = now_of(n);
	switch (n->kind) {
	case N_MS:
		if (dport == LISP_CONTROL_PORT)
			ms_input(n->ms, src, sport, buf, len, now);
		break;
	case N_GW:
	case N_BRANCH:
		if (dport == NOTIFY_PORT && n->notify) {
			xtr_notify_input(n->notify, src, sport, dst, buf, len, now);
			break;
		}
		if (dport != LISP_CONTROL_PORT)
			break;
		switch (xtr_dispatch(n->xconf, n->mc, src, buf, len)) {
		case XTR_TO_ITR:
			mc_input(n->mc, src, sport, buf, len, now);
			break;
		case XTR_TO_ETR:
			etr_input(n->etr, src, sport, buf, len, now);
			break;
		case XTR_TO_MS:
			ms_input(n->ms, src, sport, buf, len, now);
			break;
		}
		break;
	case N_FHR:
		if (dport == CHANNEL_PORT)
			fhr_input(n->fhr, src, sport, buf, len, now);
		else if (dport == FHR_HV_PORT)
			fhr_hv_input(n->hv, src, sport, dst, buf, len, now);
		break;
	case N_HOST:
		if (dport == HOST_PORT)
			host_input(s, n, buf, len);
		break;
	default:
		break;
	}
}

/* The data plane: the branch's client and the VMs exchange UDP packets through LISP */

struct flow_payload {
	uint32_t vm;
	uint64_t seq;
} __attribute__((packed));

static bool inner_of(const uint8_t *pkt, size_t len, struct ippkt_udp *u)
{
	return ippkt_decode_udp(pkt, len, false, u) == 0 &&
	       u->payload_len == sizeof(struct flow_payload);
}

/* Encapsulates an inner packet at node n (an ITR) for instance-id iid: sent, or resolved. */
static bool encap_send(struct sim *s, struct node *n, uint32_t iid, const uint8_t *inner,
		       size_t len)
{
	uint8_t buf[DP_HEADROOM + 256];
	struct dp_pkt p = { .buf = buf, .off = DP_HEADROOM, .len = len, .iid = iid };
	double now = now_of(n);
	struct ippkt_udp u;

	memcpy(buf + DP_HEADROOM, inner, len);
	n->dp.now = now;
	dp_encap_batch(&n->dp, &p, 1);
	if (p.verdict == DP_FORWARD) {
		sim_send_data(s, n->idx, p.buf + p.off, p.len);
		return true;
	}
	if (p.verdict == DP_PUNT && inner_of(inner, len, &u)) {
		int rc = mc_resolve_from(n->mc, iid, &u.dst, &u.src, now);

		if (s->trace_all)
			sim_trace(s, "%s: [%u] resolve: %s", n->name, iid, strerror(-rc));
	} else if (s->trace_all) {
		sim_trace(s, "%s: [%u] not sent: %s", n->name, iid, dp_reason_name(p.reason));
	}
	return false;
}

static size_t build_inner(uint8_t *out, size_t cap, const struct lisp_addr *src,
			  const struct lisp_addr *dst, uint32_t vm, uint64_t seq)
{
	struct buf_writer w;
	struct flow_payload pl = { .vm = vm, .seq = seq };
	struct ippkt_udp h = {
		.src = *src, .dst = *dst, .sport = 5000, .dport = FLOW_PORT, .ttl = 64
	};

	buf_writer_init(&w, out, cap);
	if (ippkt_encode_udp(&w, &h, &pl, sizeof(pl)) < 0)
		return 0;
	return w.off;
}

void world_branch_send(struct sim *s, struct vm *v)
{
	struct node *b = &s->nodes[s->branch];
	struct lisp_addr dst, src;
	uint8_t pkt[256];
	size_t len;

	if (b->down)
		return;
	world_vm_addr(v->slot, &dst);
	client_addr(dst.afi, &src);
	len = build_inner(pkt, sizeof(pkt), &src, &dst, (uint32_t)(v - s->vms), v->flow_seq);
	if (!len)
		return;
	if (encap_send(s, b, world_iid(v->tenant), pkt, len)) {
		v->flow_seq++;
		s->st.data_sent++;
	}
}

int world_tenant_of(uint32_t iid)
{
	for (int t = 0; t < SIM_TENANTS; t++)
		if (world_iid(t) == iid)
			return t;
	return -1;
}

/* A packet decapsulated at gateway n reaches the VM with its address on this DC's segment. */
static void vm_receive(struct sim *s, struct node *n, uint32_t iid, const uint8_t *inner,
		       size_t len)
{
	struct ippkt_udp u;
	struct flow_payload pl;
	int t = world_tenant_of(iid), slot;
	struct vm *v = NULL;
	uint8_t reply[256];
	size_t rlen;

	if (t < 0 || !inner_of(inner, len, &u) || (slot = world_slot_of(&u.dst)) < 0)
		return;
	memcpy(&pl, u.payload, sizeof(pl));
	for (int imp = 0; imp < 2 && !v; imp++) {
		struct vm *c = work_vm(s, t, slot, imp);

		if (c && c->exists && c->dc == n->dc)
			v = c;
	}
	if (!v || v->impostor || pl.vm >= SIM_VMS || &s->vms[pl.vm] != v)
		return; /* nobody there (a black hole), or not the VM it was for */
	if (pl.seq >= v->win_lo && pl.seq < v->win_hi)
		v->win_rx++;
	if (pl.seq < v->rx_next)
		s->st.data_reordered++;
	else
		v->rx_next = pl.seq + 1;
	s->st.data_received++;
	/* it answers, through its FHR (which sees a packet of a host it does not know) and the
	 * gateway's ITR */
	world_vm_data(s, v);
	rlen = build_inner(reply, sizeof(reply), &u.dst, &u.src, pl.vm, pl.seq);
	if (rlen)
		encap_send(s, n, iid, reply, rlen);
}

void world_data(struct sim *s, int node, const uint8_t *pkt, size_t len)
{
	struct node *n = &s->nodes[node];
	uint8_t buf[DP_HEADROOM + 512];
	struct dp_pkt p = { .buf = buf, .off = DP_HEADROOM, .len = len };
	struct ippkt_udp u;
	double now;

	if (n->down || (n->kind != N_GW && n->kind != N_BRANCH) || len > 512)
		return;
	now = now_of(n);
	memcpy(buf + DP_HEADROOM, pkt, len);
	n->dp.now = now;
	dp_decap_batch(&n->dp, &p, 1);
	if (p.verdict != DP_FORWARD) {
		if (s->trace_all)
			sim_trace(s, "%s: [%u] dropped: %s", n->name, p.iid,
				  dp_reason_name(p.reason));
		return;
	}
	if ((p.flags & DP_F_SMR) && inner_of(p.buf + p.inner, p.len - (p.inner - p.off), &u))
		smr_send(n->smr, &p.aux, p.iid, &u.dst, &u.src, now);
	if (p.reason == DP_R_AWAY) { /* re-encapsulated to the new site */
		sim_send_data(s, node, p.buf + p.off, p.len);
		return;
	}
	if (n->kind == N_GW)
		vm_receive(s, n, p.iid, p.buf + p.inner, p.len - (p.inner - p.off));
}

/* Every datagram sent decodes, with the receiver's key where it is signed */

static struct lisp_auth_key *channel_key(uint32_t iid, bool hv)
{
	char k[64];
	int t = world_tenant_of(iid);

	if (t < 0)
		return NULL;
	snprintf(k, sizeof(k), hv ? "hv-%s-key" : "tenant-%s-key", tenant_name[t]);
	return lisp_auth_key_new(k, strlen(k));
}

void world_check_datagram(struct sim *s, int node, uint16_t sport, uint16_t dport,
			  const uint8_t *buf, size_t len)
{
	struct node *n = &s->nodes[node];
	int rc = 0, type;

	/* by the sender's socket: an answer goes to whatever port the datagram came from */
	if (sport == LISP_CONTROL_PORT) {
		struct lisp_map_request rq;
		struct lisp_map_reply rp;
		struct lisp_map_register rg;
		struct lisp_map_notify nt;
		struct lisp_ecm ecm;

		type = lisp_msg_type(buf, len);
		switch (type) {
		case LISP_TYPE_MAP_REQUEST:
			rc = lisp_msg_decode_map_request(buf, len, &rq);
			break;
		case LISP_TYPE_MAP_REPLY:
			rc = lisp_msg_decode_map_reply(buf, len, &rp);
			break;
		case LISP_TYPE_MAP_REGISTER:
			rc = lisp_msg_decode_map_register(buf, len, &rg);
			break;
		case LISP_TYPE_MAP_NOTIFY:
		case LISP_TYPE_MAP_NOTIFY_ACK:
			rc = lisp_msg_decode_map_notify(buf, len, &nt);
			break;
		case LISP_TYPE_ECM:
			rc = lisp_msg_decode_ecm(buf, len, &ecm);
			if (rc == 0)
				rc = lisp_msg_decode_map_request(ecm.inner.payload,
								 ecm.inner.payload_len, &rq);
			break;
		default:
			rc = -EBADMSG;
		}
	} else {
		uint32_t iid;
		struct lisp_auth_key *k;
		Vmroam__Notify__Envelope *env = NULL;

		rc = notify_peek_iid(buf, len, &iid);
		k = rc == 0 ? channel_key(iid, n->kind == N_HOST || sport == FHR_HV_PORT) : NULL;
		if (k)
			env = notify_unpack(k, buf, len, &rc);
		else if (rc == 0)
			rc = -ENOKEY;
		if (env)
			vmroam__notify__envelope__free_unpacked(env, NULL);
		lisp_auth_key_free(k);
	}
	if (rc < 0)
		sim_fail(s,
			 "%s sent a datagram (port %u to %u, %zu bytes) that does not decode: %s",
			 n->name, sport, dport, len, strerror(-rc));
}

/* The world */

static int add_node(struct sim *s, enum node_kind kind, const char *name, const char *addr,
		    int tenant, int dc)
{
	struct node *n = &s->nodes[s->nnodes];

	memset(n, 0, sizeof(*n));
	n->sim = s;
	n->idx = (int)s->nnodes;
	n->kind = kind;
	snprintf(n->name, sizeof(n->name), "%s", name);
	lisp_addr_parse(addr, &n->addr);
	n->tenant = tenant;
	n->dc = dc;
	n->skew = sim_uniform(s->rng_work, -SIM_SKEW_MAX, SIM_SKEW_MAX);
	return (int)s->nnodes++;
}

void world_layout(struct sim *s)
{
	char name[24], addr[32];

	s->ms = add_node(s, N_MS, "ms", "192.0.2.1", -1, -1);
	snprintf(s->nodes[s->ms].state_path, sizeof(s->nodes[s->ms].state_path),
		 "%s/vmroam-sim-%d.state", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	unlink(s->nodes[s->ms].state_path);
	for (int d = 0; d < SIM_DCS; d++) {
		snprintf(name, sizeof(name), "gw-dc%d", d + 1);
		snprintf(addr, sizeof(addr), "192.0.2.%d", 10 * (d + 1));
		s->gw[d] = add_node(s, N_GW, name, addr, -1, d);
	}
	s->branch = add_node(s, N_BRANCH, "branch", "192.0.2.30", -1, -1);
	for (int d = 0; d < SIM_DCS; d++) {
		snprintf(name, sizeof(name), "host-dc%d", d + 1);
		snprintf(addr, sizeof(addr), "192.0.2.%d", 41 + d);
		s->host[d] = add_node(s, N_HOST, name, addr, -1, d);
	}
	for (int t = 0; t < SIM_TENANTS; t++)
		for (int d = 0; d < SIM_DCS; d++) {
			snprintf(name, sizeof(name), "fhr-%s-dc%d", tenant_name[t], d + 1);
			snprintf(addr, sizeof(addr), "192.0.2.%d", 100 + 10 * t + d);
			s->fhr[t][d] = add_node(s, N_FHR, name, addr, t, d);
		}
	s->attacker = add_node(s, N_ATTACKER, "attacker", "192.0.2.66", -1, -1);
}

void world_build(struct sim *s)
{
	for (int d = 0; d < SIM_DCS; d++) {
		struct node *h = &s->nodes[s->host[d]];
		char err[256];

		h->hconf = hv_conf_parse_string(h->name, text_host(s, d), err, sizeof(err));
		if (!h->hconf) {
			fprintf(stderr, "sim: %s's configuration: %s\n", h->name, err);
			exit(2);
		}
		s->cur = h->idx;
		h->hv_session = platform_realtime_ns();
	}
	for (size_t i = 0; i < s->nnodes; i++)
		world_start(s, (int)i);
}

void world_free(struct sim *s)
{
	for (size_t i = 0; i < s->nnodes; i++) {
		struct node *n = &s->nodes[i];

		if (!n->down &&
		    (n->kind == N_FHR || n->kind == N_MS || n->kind == N_GW || n->kind == N_BRANCH))
			world_stop(s, (int)i, 1);
		xtr_conf_free(n->xconf);
		fhr_conf_free(n->fconf);
		hv_conf_free(n->hconf);
	}
	unlink(s->nodes[s->ms].state_path);
}
