/*
 * fhr-agent's EID table and channel against the real gateway end (xtr_notify
 * with an ETR behind it), in memory: datagrams are queued and delivered by
 * pump(). Arrival, acknowledgement, hijack guard, RARP, move away, FHR and
 * gateway restarts (tables converge), a silent gateway, a VM leaving (a
 * live migration's switchover).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fhr-agent/fhr.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

static const char *gw_text = "router lisp\n"
			     " locator-set L\n  192.0.2.10 priority 1 weight 1\n"
			     " eid-table vrf A instance-id 4100\n"
			     "  dynamic-eid VMS\n"
			     "   database-mapping 198.51.100.0/24 locator-set L\n"
			     "   eid-notify authentication-key key-a\n"
			     " ipv4 etr\n ipv4 etr map-server 192.0.2.1 key ms-key\n";
static const char *fhr_text = "router lisp\n fhr-id fhr-1\n"
			      " eid-table vrf A instance-id 4100\n"
			      "  dynamic-eid VMS\n"
			      "   database-mapping 198.51.100.0/24\n"
			      "   eid-notify 192.0.2.10 key key-a\n"
			      "interface br0\n lisp mobility VMS\n lisp extended-subnet-mode\n";

struct dgram {
	bool to_gw;
	struct lisp_addr peer; /* to the gateway: its address; from a gateway: which */
	uint8_t buf[4096];
	size_t len;
};

static struct dgram q[256];
static int nq;
static bool drop_to_gw;	 /* the gateway is away */
static bool drop_to_fhr; /* the gateway's datagrams are lost */
static int registers;

static int fhr_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	(void)arg;
	(void)dst;
	assert_int_equal(dport, NOTIFY_PORT);
	if (drop_to_gw)
		return 0;
	assert_true(nq < 256 && len <= 4096);
	q[nq].to_gw = true;
	q[nq].peer = *dst;
	memcpy(q[nq].buf, buf, len);
	q[nq++].len = len;
	return 0;
}

static int gw_send(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		   uint16_t dport, const uint8_t *buf, size_t len)
{
	(void)arg;
	(void)from;
	(void)dst;
	(void)dport;
	if (drop_to_fhr)
		return 0;
	assert_true(nq < 256 && len <= 4096);
	q[nq].to_gw = false;
	q[nq].peer = *(const struct lisp_addr *)arg; /* the gateway's own address */
	memcpy(q[nq].buf, buf, len);
	q[nq++].len = len;
	return 0;
}

static int withdrawals; /* Map-Registers withdrawing 198.51.100.10/32 */

static int ms_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	struct lisp_map_register m;
	struct lisp_eid_record r;
	struct lisp_prefix vm;
	struct lisp_iter it;

	(void)arg;
	(void)dst;
	(void)dport;
	registers++;
	lisp_prefix_parse("198.51.100.10/32", 4100, &vm);
	if (lisp_msg_decode_map_register(buf, len, &m) < 0)
		return 0;
	lisp_record_iter_init(&it, &m.records);
	while (lisp_record_iter_next(&it, &r))
		withdrawals += r.ttl == 0 && lisp_prefix_equal(&r.eid, &vm);
	return 0;
}

struct env {
	struct xtr_conf *gconf;
	struct fhr_conf *fconf;
	struct etr *etr;
	struct xtr_notify *gw, *gw2; /* gw2: a second gateway of a multihomed site */
	struct etr *etr2;
	struct fhr *fhr;
	struct lisp_addr gw_addr, gw2_addr, fhr_addr, vm;
	uint64_t fhr_session;
};

static void pump(struct env *e, double now)
{
	for (int i = 0; i < nq; i++) { /* what is sent while delivering is delivered too */
		bool second = e->gw2 && lisp_addr_equal(&q[i].peer, &e->gw2_addr);

		if (q[i].to_gw)
			xtr_notify_input(second ? e->gw2 : e->gw, &e->fhr_addr, 40000,
					 second ? &e->gw2_addr : &e->gw_addr, q[i].buf, q[i].len,
					 now);
		else
			fhr_input(e->fhr, second ? &e->gw2_addr : &e->gw_addr, NOTIFY_PORT,
				  q[i].buf, q[i].len, now);
	}
	nq = 0;
}

static void new_gateway(struct env *e)
{
	struct etr_io eio = { .send = ms_send, .if_addr = fake_no_if_addr };
	struct xtr_notify_io nio = { .send = gw_send, .arg = &e->gw_addr };

	xtr_notify_free(e->gw);
	etr_free(e->etr);
	e->etr = etr_new(&eio);
	etr_configure(e->etr, e->gconf, 0);
	e->gw = xtr_notify_new(&nio, e->etr, "gw-dc1");
	xtr_notify_configure(e->gw, e->gconf);
}

static void new_fhr(struct env *e, double now)
{
	struct fhr_io io = { .send = fhr_send };

	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, e->fconf, now);
	fhr_tick(e->fhr, now); /* the Hello and the whole table go at the first tick */
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[256];

	e->gconf = xtr_conf_parse_string("gw", gw_text, err, sizeof(err));
	e->fconf = fhr_conf_parse_string("fhr", fhr_text, err, sizeof(err));
	assert_non_null(e->gconf);
	assert_non_null(e->fconf);
	lisp_addr_parse("192.0.2.10", &e->gw_addr);
	lisp_addr_parse("192.0.2.11", &e->gw2_addr);
	lisp_addr_parse("192.0.2.50", &e->fhr_addr);
	lisp_addr_parse("198.51.100.10", &e->vm);
	e->fhr_session = 1000;
	nq = registers = 0;
	drop_to_gw = drop_to_fhr = false;
	new_gateway(e);
	new_fhr(e, 0);
	pump(e, 0); /* Hello and an empty Resync, acknowledged */
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fhr_free(e->fhr);
	xtr_notify_free(e->gw);
	xtr_notify_free(e->gw2);
	etr_free(e->etr);
	etr_free(e->etr2);
	xtr_conf_free(e->gconf);
	fhr_conf_free(e->fconf);
	free(e);
	return 0;
}

static int state_of(const struct fhr_eid_info *i, void *arg)
{
	*(enum fhr_eid_state *)arg = i->state;
	return 1;
}

static enum fhr_eid_state eid_state(struct env *e)
{
	enum fhr_eid_state s = (enum fhr_eid_state) - 1;

	fhr_eid_walk(e->fhr, state_of, &s);
	return s;
}

static const uint8_t mac1[6] = { 0x52, 0x54, 0, 0, 0, 1 }, mac2[6] = { 0x52, 0x54, 0, 0, 0, 2 };

static void test_arrival(void **state)
{
	struct env *e = *state;
	struct lisp_addr outside;

	lisp_addr_parse("203.0.113.9", &outside);
	assert_int_equal(fhr_detect(e->fhr, "eth9", &e->vm, mac1, FHR_SRC_ARP, 1), -ENOENT);
	assert_int_equal(fhr_detect(e->fhr, "br0", &outside, mac1, FHR_SRC_ARP, 1), -ENOENT);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1), 1);
	assert_int_equal(eid_state(e), FHR_EID_DETECTED);
	pump(e, 1.001);
	assert_int_equal(etr_dyn_count(e->etr), 1); /* the gateway learned it ... */
	assert_true(registers > 0);		    /* ... and registered it */
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	/* known: a refresh, nothing sent */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 2), 0);
	assert_int_equal(nq, 0);
	/* another MAC claims it: refused by the hijack guard */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac2, FHR_SRC_ARP, 2), -EEXIST);
	assert_int_equal(fhr_counters(e->fhr)->hijacks, 1);
	assert_int_equal(nq, 0);
}

/* The hijack guard holds while the known MAC answers its probes; when it stops, the claim wins. */
static void test_hijack_guard(void **state)
{
	struct env *e = *state;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	pump(e, 1);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac2, FHR_SRC_ARP, 2), -EEXIST);
	fhr_tick(e->fhr, 2); /* contested: the known MAC is probed at once (extended subnet too) */
	assert_int_equal(fhr_counters(e->fhr)->probes, 1);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 2.1),
			 0); /* answers */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac2, FHR_SRC_ARP, 3), -EEXIST);
	for (double t = 3; t < 13; t += 1) /* now it stays silent */
		fhr_tick(e->fhr, t);
	pump(e, 13);
	assert_int_equal(fhr_eid_count(e->fhr), 0); /* departed */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac2, FHR_SRC_ARP, 13), 1);
	pump(e, 13);
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

static void test_lost_and_retransmitted(void **state)
{
	struct env *e = *state;

	drop_to_gw = true;
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	fhr_tick(e->fhr, 1.1);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	drop_to_gw = false;
	fhr_tick(e->fhr, 1.25); /* 0.2 s later: sent again */
	pump(e, 1.25);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
}

/*
 * No tick: fhr_next_due() says when fhr_tick() has work, and a tick before
 * it does nothing. Connected and empty: only the Keepalive (1 s after the
 * last) and the gateway's death (3.5 s after it was last heard); an event
 * lost: its retransmission 0.2 s after; an EID: its liveness probe 10 s
 * after it was last seen, then every 3 s; answered: 10 s after the answer.
 */
static void test_next_due(void **state)
{
	struct env *e = *state;
	uint64_t probes;

	assert_true(fhr_next_due(e->fhr) == NOTIFY_KEEPALIVE); /* (configured and heard at 0) */
	nq = 0;
	fhr_tick(e->fhr, 0.5); /* nothing due: nothing sent */
	assert_int_equal(nq, 0);
	fhr_tick(e->fhr, 1.0);
	assert_int_equal(nq, 1); /* the Keepalive */
	nq = 0;
	assert_true(fhr_next_due(e->fhr) == 2.0);
	drop_to_gw = true;
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1.5);
	assert_true(fhr_next_due(e->fhr) == 1.5 + 0.2); /* its retransmission */
	drop_to_gw = false;
	fhr_tick(e->fhr, 1.7);
	pump(e, 1.7);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	fhr_tick(e->fhr, 2.0); /* (the Keepalive) */
	pump(e, 2.0);
	/* the gateway's own Keepalives keep it alive: only ours and the probe are due */
	assert_true(fhr_next_due(e->fhr) == 3.0);
	for (double t = 3.0; t < 11.5; t += 1.0) {
		fhr_tick(e->fhr, t);
		pump(e, t);
		xtr_notify_tick(e->gw, t);
		pump(e, t);
	}
	/* its probe: 10 s after it was seen (the walk runs once a second at most) */
	assert_true(fhr_next_due(e->fhr) == 1.5 + FHR_PROBE_AFTER);
	probes = fhr_counters(e->fhr)->probes;
	fhr_tick(e->fhr, 11.5);
	assert_int_equal(fhr_counters(e->fhr)->probes, probes + 1);
	assert_true(fhr_next_due(e->fhr) == 12.0); /* the Keepalive; the probe's retry at 14.5 */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 11.6), 0);
	for (double t = 12.0; t < 21.5; t += 1.0) {
		fhr_tick(e->fhr, t);
		pump(e, t);
		xtr_notify_tick(e->gw, t);
		pump(e, t);
	}
	assert_int_equal(fhr_counters(e->fhr)->probes, probes + 1); /* (answered) */
	assert_true(fhr_next_due(e->fhr) == 11.6 + FHR_PROBE_AFTER);
}

/* The Map-Server tells the gateway the VM now lives at rloc; the gateway tells this FHR. */
static void told_moved(struct env *e, uint64_t nonce, const char *rloc, double now)
{
	struct lisp_map_notify mn = { .nonce = fake_ms_nonce(nonce), .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 10, .loc_count = 1, .locs = &l };
	struct lisp_auth_key *k = lisp_auth_key_new("ms-key", 6);
	struct lisp_addr ms;
	struct buf_writer w;
	uint8_t b[512];

	lisp_addr_parse("192.0.2.1", &ms);
	lisp_addr_parse(rloc, &l.addr[0]);
	lisp_prefix_parse("198.51.100.10/32", 4100, &r.eid);
	buf_writer_init(&w, b, sizeof(b));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &mn, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, b, w.off), 0);
	lisp_auth_key_free(k);
	etr_input(e->etr, &ms, 4342, b, w.off, now);
	/* the ETR's event is not wired here: the glue's job; call it as the daemon does */
	xtr_notify_event(e->gw, ETR_EV_AWAY_UP, &r.eid, now);
	pump(e, now);
}

static void test_rarp_and_move(void **state)
{
	struct env *e = *state;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	pump(e, 1);
	told_moved(e, 9, "192.0.2.11", 5);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	assert_int_equal(fhr_counters(e->fhr)->moves_told, 1);
	/* one probe to its MAC: were it still here, its answer would be a detection */
	assert_int_equal(fhr_counters(e->fhr)->move_checks, 1);
	/* it comes back (QEMU's RARP, only the MAC): known by its MAC, notified again */
	assert_int_equal(fhr_detect_mac(e->fhr, "br0", mac1, 9), 1);
	assert_int_equal(eid_state(e), FHR_EID_DETECTED);
	pump(e, 9);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

/*
 * A stale claim: another site's old registration, refreshed at a Map-Server
 * that lost its state, takes the EID of a VM that is here. The FHR is told
 * it moved away, probes it, the VM answers: detected again and re-asserted.
 */
static void test_stale_claim_reasserted(void **state)
{
	struct env *e = *state;
	uint64_t sent_before;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	pump(e, 1);
	told_moved(e, 11, "192.0.2.99", 5);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(fhr_counters(e->fhr)->move_checks, 1);
	/* the VM answers the probe (an ARP reply from its MAC): here after all */
	sent_before = registers;
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 6), 1);
	pump(e, 6);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	assert_int_equal(etr_dyn_count(e->etr), 1); /* the gateway has it again ... */
	assert_true(registers > (int)sent_before);  /* ... and registers it again */
}

static void test_restarts_converge(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm2;

	lisp_addr_parse("198.51.100.11", &vm2);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	fhr_detect(e->fhr, "br0", &vm2, mac2, FHR_SRC_ARP, 1);
	pump(e, 1);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	/* the gateway restarts, empty: the FHR sees its new session and resyncs */
	new_gateway(e);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	xtr_notify_tick(e->gw, 2); /* nobody known yet: nothing */
	fhr_tick(e->fhr, 2);	   /* our keepalive reaches it ... */
	pump(e, 2);		   /* ... its answers carry the new session */
	xtr_notify_tick(e->gw, 2.5);
	pump(e, 2.5);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	/* the FHR restarts and knows nothing: its complete resync withdraws both */
	new_fhr(e, 3);
	pump(e, 3);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	/* a silent gateway is down after 3 keepalives; when it answers again: resync */
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 3);
	pump(e, 3);
	{
		struct fhr_gw_info g;
		double t = 3;

		drop_to_fhr = true; /* the gateway's datagrams stop arriving */
		for (; t < 3 + NOTIFY_DEAD + 1; t += 0.5) {
			fhr_tick(e->fhr, t);
			xtr_notify_tick(e->gw, t);
			pump(e, t);
		}
		fhr_gw_info(e->fhr, 0, &g);
		assert_false(g.up);
		drop_to_fhr = false;
		xtr_notify_tick(e->gw, t); /* its keepalive arrives again */
		pump(e, t);
		fhr_gw_info(e->fhr, 0, &g);
		assert_true(g.up);
		assert_int_equal(g.resyncs, 2);
	}
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

/* The agent again, in across-subnet mode (ip proxy-arp), with io, at time 0: its configuration. */
static struct fhr_conf *asm_start(struct env *e, const struct fhr_io *io)
{
	char err[256];
	struct fhr_conf *c =
		fhr_conf_parse_string("asm",
				      "router lisp\n fhr-id fhr-1\n"
				      " eid-table vrf A instance-id 4100\n"
				      "  dynamic-eid VMS\n"
				      "   database-mapping 198.51.100.0/24\n"
				      "   eid-notify 192.0.2.10 key key-a\n"
				      "interface br0\n lisp mobility VMS\n ip proxy-arp\n",
				      err, sizeof(err));

	assert_non_null(c);
	fhr_free(e->fhr);
	e->fhr = fhr_new(io, ++e->fhr_session);
	fhr_configure(e->fhr, c, 0);
	fhr_tick(e->fhr, 0);
	pump(e, 0);
	return c;
}

static int nprobes;

static void count_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
			const uint8_t *mac)
{
	(void)arg;
	(void)eid;
	(void)mac;
	assert_string_equal(ifname, "br0");
	nprobes++;
}

/*
 * Across-subnet mode (ip proxy-arp): the agent answers ARP for addresses of
 * the dynamic-eid that are not here (never seen, or moved away), and probes
 * quiet EIDs, declaring them departed after 3 unanswered probes.
 */
static void test_across_subnet(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send, .probe = count_probe };
	struct lisp_addr peer, outside;
	struct fhr_conf *asm_conf;

	asm_conf = asm_start(e, &io);
	lisp_addr_parse("198.51.100.20", &peer);
	lisp_addr_parse("203.0.113.5", &outside);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 0);
	pump(e, 0);
	/* proxy-ARP: not for what is here, for what is not, never outside or for oneself */
	assert_false(fhr_proxy_arp(e->fhr, "br0", &e->vm, &peer));
	assert_true(fhr_proxy_arp(e->fhr, "br0", &peer, &e->vm));
	assert_false(fhr_proxy_arp(e->fhr, "br0", &outside, &e->vm));
	assert_false(fhr_proxy_arp(e->fhr, "br0", &peer, &peer));
	assert_false(fhr_proxy_arp(e->fhr, "eth9", &peer, &e->vm));
	/* liveness: quiet for 10 s, then probed every 3 s; an answer resets it */
	nprobes = 0;
	fhr_tick(e->fhr, 9);
	assert_int_equal(nprobes, 0);
	fhr_tick(e->fhr, 10.5);
	assert_int_equal(nprobes, 1);
	fhr_tick(e->fhr, 11);
	assert_int_equal(nprobes, 1);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 12), 0); /* answer */
	fhr_tick(e->fhr, 21); /* 9 s quiet: not yet */
	assert_int_equal(nprobes, 1);
	fhr_tick(e->fhr, 22.5);
	fhr_tick(e->fhr, 25.6);
	fhr_tick(e->fhr, 28.7);
	assert_int_equal(nprobes, 4);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	fhr_tick(e->fhr, 31.8); /* three unanswered: departed, withdrawn at the gateway */
	pump(e, 31.8);
	assert_int_equal(fhr_eid_count(e->fhr), 0);
	assert_int_equal(fhr_counters(e->fhr)->departures, 1);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	/* gone from here: ARP for it is answered by the agent now */
	assert_true(fhr_proxy_arp(e->fhr, "br0", &e->vm, &peer));
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(asm_conf);
}

/*
 * Across subnets, a moved-away EID stays routed up when its VM's host says
 * it left (HV_LEFT, 1-2 s after the switchover): the hosts of its old
 * subnet reach it through that route (found by the lab with real guests:
 * srv-a1 lost every ping after libvirt's STOPPED/MIGRATED). In
 * extended-subnet mode it departs.
 */
static void test_moved_away_stays_across_subnets(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send };
	struct fhr_conf *asm_conf;

	asm_conf = asm_start(e, &io);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	pump(e, 1);
	told_moved(e, 9, "192.0.2.11", 5);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	assert_int_equal(fhr_depart_mac(e->fhr, mac1, 6.5), 0);
	fhr_tick(e->fhr, 9);
	assert_int_equal(fhr_eid_count(e->fhr), 1);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(asm_conf);

	/* extended subnet: it departs */
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, e->fconf, 10);
	fhr_tick(e->fhr, 10);
	pump(e, 10);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 11);
	pump(e, 11);
	told_moved(e, 19, "192.0.2.12", 15);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	assert_int_equal(fhr_depart_mac(e->fhr, mac1, 16.5), 1);
	assert_int_equal(fhr_eid_count(e->fhr), 0);
}

static struct {
	int n;
	enum fhr_known what[8];
	bool mac[8];
} knowns;
static int nasks, nprobes_mac;

static void record_known(void *arg, const char *ifname, const struct lisp_addr *a,
			 const uint8_t *mac, enum fhr_known what)
{
	(void)arg;
	(void)ifname;
	(void)a;
	if (knowns.n < 8) {
		knowns.what[knowns.n] = what;
		knowns.mac[knowns.n++] = mac && memcmp(mac, mac1, 6) == 0;
	}
}

static void record_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
			 const uint8_t *mac)
{
	(void)arg;
	(void)ifname;
	(void)eid;
	if (mac)
		nprobes_mac++;
	else
		nasks++;
}

/*
 * Found by the lab (issue 22): a VM that arrives with a data packet that
 * carries no MAC (the kernel segments a GSO packet for the queue without its
 * link-layer header) is asked for its MAC at once, and when its answer
 * brings it, what its arrival does with the MAC is done (FHR_KNOWN_MAC_*:
 * across subnets, its packets to its old subnet's hosts are picked up).
 * Before, a later detection with the MAC was only a refresh: a moved-in VM
 * lost the hosts left on its subnet for as long as its neighbour entries
 * for them lasted. Back after a move, the same (FHR_KNOWN_MAC_BACK); an
 * EID still without a MAC is probed by broadcast and departs unanswered.
 */
static void test_arrival_without_mac(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send, .known = record_known, .probe = record_probe };
	struct fhr_conf *asm_conf;

	asm_conf = asm_start(e, &io);
	memset(&knowns, 0, sizeof(knowns));
	nasks = nprobes_mac = 0;
	/* a data packet without a MAC: here, notified, and asked (broadcast) */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, NULL, FHR_SRC_DATA, 1), 1);
	pump(e, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(knowns.n, 1);
	assert_int_equal(knowns.what[0], FHR_KNOWN_HERE);
	assert_false(knowns.mac[0]);
	assert_int_equal(nasks, 1);
	assert_int_equal(fhr_counters(e->fhr)->mac_asks, 1);
	/* its answer (an ARP reply): the MAC, and what needs it, once */
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1.001), 0);
	assert_int_equal(knowns.n, 2);
	assert_int_equal(knowns.what[1], FHR_KNOWN_MAC_HERE);
	assert_true(knowns.mac[1]);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1.002), 0);
	assert_int_equal(knowns.n, 2);
	assert_int_equal(fhr_counters(e->fhr)->macs_learned, 1);
	assert_int_equal(nasks, 1);
	/* moved away, then back by a data packet without a MAC: the known one stays */
	told_moved(e, 9, "192.0.2.11", 5);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	knowns.n = 0;
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, NULL, FHR_SRC_DATA, 10), 1);
	assert_int_equal(knowns.n, 1);
	assert_int_equal(knowns.what[0], FHR_KNOWN_BACK);
	assert_true(knowns.mac[0]);
	assert_int_equal(nasks, 1);
	fhr_free(e->fhr);

	/* back with no MAC ever known (a restart forgot it): FHR_KNOWN_MAC_BACK once it comes */
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, asm_conf, 20);
	fhr_tick(e->fhr, 20);
	pump(e, 20);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, NULL, FHR_SRC_DATA, 21), 1);
	pump(e, 21);
	told_moved(e, 29, "192.0.2.12", 25);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	knowns.n = 0;
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, NULL, FHR_SRC_DATA, 30), 1);
	assert_int_equal(knowns.what[0], FHR_KNOWN_BACK);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 30.5), 0);
	assert_int_equal(knowns.n, 2);
	assert_int_equal(knowns.what[1], FHR_KNOWN_MAC_BACK);
	assert_true(knowns.mac[1]);
	fhr_free(e->fhr);

	/* never answers: probed by broadcast when quiet, and departs */
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, asm_conf, 40);
	fhr_tick(e->fhr, 40);
	pump(e, 40);
	nasks = nprobes_mac = 0;
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, NULL, FHR_SRC_DATA, 41), 1);
	pump(e, 41);
	assert_int_equal(nasks, 1);
	fhr_tick(e->fhr, 51.5);
	fhr_tick(e->fhr, 54.6);
	fhr_tick(e->fhr, 57.7);
	assert_int_equal(nasks, 4);
	assert_int_equal(nprobes_mac, 0);
	fhr_tick(e->fhr, 60.8);
	pump(e, 60.8);
	assert_int_equal(fhr_eid_count(e->fhr), 0);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(asm_conf);
}

/*
 * Found by tests/sim (issue 19): in extended-subnet mode too, a quiet EID
 * is probed and, unanswered, departs. A VM gone without its host's event
 * reaching us (lost, or we restarted and took it back from a STALE
 * neighbour entry) stayed registered for ever: nothing else ever asked.
 */
static void test_extended_subnet_liveness(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send, .probe = count_probe };

	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, e->fconf, 0); /* lisp extended-subnet-mode */
	fhr_tick(e->fhr, 0);
	pump(e, 0);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_NEIGHBOR, 0); /* a stale entry */
	pump(e, 0);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	nprobes = 0;
	fhr_tick(e->fhr, 10.5);
	assert_int_equal(nprobes, 1);
	fhr_tick(e->fhr, 13.6);
	fhr_tick(e->fhr, 16.7);
	assert_int_equal(nprobes, 3);
	fhr_tick(e->fhr, 19.8); /* three unanswered: departed, withdrawn at the gateway */
	pump(e, 19.8);
	assert_int_equal(fhr_eid_count(e->fhr), 0);
	assert_int_equal(fhr_counters(e->fhr)->departures, 1);
	assert_int_equal(etr_dyn_count(e->etr), 0);
}

/* Sets up the FHR of conf text c against both gateways (gw2 created), channels up. */
static struct fhr_conf *two_gateways(struct env *e, const char *text)
{
	struct etr_io eio = { .send = ms_send, .if_addr = fake_no_if_addr };
	struct xtr_notify_io nio = { .send = gw_send, .arg = &e->gw2_addr };
	struct fhr_io io = { .send = fhr_send };
	struct fhr_conf *c;
	char err[256];

	c = fhr_conf_parse_string("two", text, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	e->etr2 = etr_new(&eio);
	etr_configure(e->etr2, e->gconf, 0);
	e->gw2 = xtr_notify_new(&nio, e->etr2, "gw-dc2");
	xtr_notify_configure(e->gw2, e->gconf);
	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, c, 0);
	fhr_tick(e->fhr, 0);
	pump(e, 0);
	return c;
}

static const char *two_text = "router lisp\n fhr-id fhr-1\n"
			      " eid-table vrf A instance-id 4100\n"
			      "  dynamic-eid VMS\n"
			      "   database-mapping 198.51.100.0/24\n"
			      "   eid-notify 192.0.2.10 key key-a\n"
			      "   eid-notify 192.0.2.11 key key-a\n"
			      "interface br0\n lisp mobility VMS\n";

/* A multihomed site: the FHR tells both gateways; acknowledged only when both have it. */
static void test_two_gateways(void **state)
{
	struct env *e = *state;
	struct fhr_conf *c = two_gateways(e, two_text);

	assert_int_equal(fhr_gw_count(e->fhr), 2);
	/* the second gateway is unreachable for now: the EID waits for it */
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	for (int i = 0; i < nq; i++)
		if (lisp_addr_equal(&q[i].peer, &e->gw2_addr))
			q[i].len = 0; /* lost */
	for (int i = 0; i < nq; i++)
		if (!q[i].len)
			q[i] = q[--nq], i--;
	pump(e, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(etr_dyn_count(e->etr2), 0);
	assert_int_equal(eid_state(e), FHR_EID_DETECTED);
	fhr_tick(e->fhr, 1.25); /* retransmitted to the second */
	pump(e, 1.25);
	assert_int_equal(etr_dyn_count(e->etr2), 1);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(c);
}

/* Runs both ends for the seconds from t0 to t1 (ticks every 0.1 s, datagrams delivered). */
static void run(struct env *e, double t0, double t1)
{
	for (double t = t0; t < t1; t += 0.1) {
		fhr_tick(e->fhr, t);
		xtr_notify_tick(e->gw, t);
		if (e->gw2)
			xtr_notify_tick(e->gw2, t);
		pump(e, t);
	}
}

/*
 * The lab's lost VM, end to end: the gateway is not there yet when the FHR
 * starts (its first datagrams are lost), the VM arrives meanwhile; when the
 * gateway comes, both ends agree and stay so.
 */
static void test_gateway_comes_late(void **state)
{
	struct env *e = *state;

	new_gateway(e);
	drop_to_gw = true;
	new_fhr(e, 10);
	run(e, 10, 10.5);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 10.5), 1);
	run(e, 10.5, 13.1);
	drop_to_gw = false;
	run(e, 13.1, 25);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
}

/*
 * Found by tests/sim (issue 19): a VM departs while its gateway restarts.
 * The new gateway never heard of it (a Resync lists what is here), so the
 * Map-Server kept the earlier life's registration until it expired (3 min).
 * The FHR now tells a restarted gateway its recent departures after the
 * snapshot, and the gateway withdraws what it does not hold.
 */
static void test_departed_while_gateway_restarted(void **state)
{
	struct env *e = *state;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	run(e, 1, 2);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	new_gateway(e); /* restarted: knows nothing */
	drop_to_gw = true;
	assert_int_equal(fhr_depart_mac(e->fhr, mac1, 2.5), 1); /* the host says it left */
	run(e, 2.5, 3);
	drop_to_gw = false;
	withdrawals = 0;
	run(e, 3, 9);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(withdrawals, 1);
}

/* Anti-entropy: the gateway loses the EID behind the FHR's back; it is back within seconds. */
static void test_anti_entropy(void **state)
{
	struct env *e = *state;
	struct xtr_notify_peer_info pi;
	struct fhr_gw_info g;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	run(e, 1, 3);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	xtr_notify_peer_info(e->gw, 0, &pi);
	assert_true(pi.in_sync);
	assert_int_equal(etr_dyn_clear(e->etr, NULL, 3), 1); /* lost, nobody told */
	run(e, 3, 4.05);
	fhr_gw_info(e->fhr, 0, &g);
	assert_int_equal(g.digest_resyncs, 0); /* one mismatch is not enough */
	run(e, 4.05, 8);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	fhr_gw_info(e->fhr, 0, &g);
	assert_int_equal(g.digest_resyncs, 1);
	assert_true(g.in_sync);
	run(e, 8, 20); /* and no more after that */
	fhr_gw_info(e->fhr, 0, &g);
	assert_int_equal(g.digest_resyncs, 1);
}

static int leaving_of(const struct fhr_eid_info *i, void *arg)
{
	*(int *)arg = i->leaving;
	return 0;
}

/*
 * Leaving (issue 21): the EID stays the FHR's (the gateway keeps it, the
 * digests agree, no Resync), each change takes a new version the gateway
 * applies; it ends when the VM stays or the migration-hold is over.
 */
static void test_leaving(void **state)
{
	struct env *e = *state;
	struct lisp_addr other;
	struct fhr_gw_info g;
	int leaving = -1;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	run(e, 1, 3);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	lisp_addr_parse("198.51.100.99", &other);
	assert_int_equal(fhr_leaving(e->fhr, 4100, &other, 3), -ENOENT); /* not here */
	assert_int_equal(fhr_counters(e->fhr)->leaving_ignored, 1);
	assert_int_equal(fhr_leaving(e->fhr, 4100, &e->vm, 3), 1);
	assert_int_equal(fhr_leaving(e->fhr, 4100, &e->vm, 3), 0); /* (again: nothing new) */
	fhr_eid_walk(e->fhr, leaving_of, &leaving);
	assert_int_equal(leaving, 1);
	run(e, 3, 4.9);
	assert_int_equal(etr_dyn_count(e->etr), 1);    /* still ours at the gateway */
	assert_int_equal(eid_state(e), FHR_EID_ACKED); /* the LEAVING acknowledged */
	fhr_gw_info(e->fhr, 0, &g);
	assert_true(g.in_sync);
	assert_int_equal(g.eids, 1);
	/* the VM stays: no longer leaving, the gateway acknowledges the REFRESH */
	assert_int_equal(fhr_stays(e->fhr, 4100, &e->vm, 4.9), 1);
	assert_int_equal(fhr_stays(e->fhr, 4100, &e->vm, 4.9), 0);
	fhr_eid_walk(e->fhr, leaving_of, &leaving);
	assert_int_equal(leaving, 0);
	run(e, 4.9, 6);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
	/* leaving again, and nothing ends it: the migration-hold (2 s) does */
	assert_int_equal(fhr_leaving(e->fhr, 4100, &e->vm, 6), 1);
	run(e, 6, 7.95);
	fhr_eid_walk(e->fhr, leaving_of, &leaving);
	assert_int_equal(leaving, 1);
	run(e, 7.95, 8.1);
	fhr_eid_walk(e->fhr, leaving_of, &leaving);
	assert_int_equal(leaving, 0);
	assert_int_equal(fhr_counters(e->fhr)->leaving_expired, 1);
	assert_int_equal(fhr_leaving_count(e->fhr), 0);
	run(e, 8.1, 20);
	fhr_gw_info(e->fhr, 0, &g);
	assert_true(g.in_sync);
	assert_int_equal(g.digest_resyncs, 0);
	assert_int_equal(g.resyncs, 1); /* (the first, after the Hello) */
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

/*
 * Both gateways share the tenant's key: a datagram of the second one
 * delivered with the first one's address is refused, and the first one's
 * session stays (it raised it: every real keepalive after was a "replay").
 */
static void test_other_gateway_spoofed(void **state)
{
	struct env *e = *state;
	struct fhr_conf *c = two_gateways(e, two_text);
	const struct fhr_counters *fc = fhr_counters(e->fhr);
	struct fhr_gw_info g;
	struct dgram from2 = { 0 };

	run(e, 0, 2);
	xtr_notify_tick(e->gw2, 2.05); /* a keepalive of the second gateway ... */
	for (int i = 0; i < nq; i++)
		if (!q[i].to_gw && lisp_addr_equal(&q[i].peer, &e->gw2_addr))
			from2 = q[i];
	assert_true(from2.len > 0);
	nq = 0;
	/* ... from the first one's address */
	fhr_input(e->fhr, &e->gw_addr, NOTIFY_PORT, from2.buf, from2.len, 2.1);
	assert_int_equal(fc->misdirected, 1);
	run(e, 2.1, 8);
	assert_int_equal(fc->replays, 0);
	fhr_gw_info(e->fhr, 0, &g);
	assert_true(g.up);
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(c);
}

/* A capture of what the gateway sent the FHR's previous life is refused by the new one. */
static void test_fhr_restart_refuses_captures(void **state)
{
	struct env *e = *state;
	struct dgram old[8];
	int n = 0;

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	xtr_notify_tick(e->gw, 1);
	for (int i = 0; i < nq && n < 8; i++)
		if (!q[i].to_gw)
			old[n++] = q[i];
	pump(e, 1);
	assert_true(n > 0);
	new_fhr(e, 2);
	pump(e, 2);
	for (int i = 0; i < n; i++)
		fhr_input(e->fhr, &e->gw_addr, NOTIFY_PORT, old[i].buf, old[i].len, 2.5);
	assert_int_equal(fhr_counters(e->fhr)->stale_session, (uint64_t)n);
}

/* eid-limit: an ND flood from random addresses stops at the limit; counted. */
static void test_eid_limit(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send };
	struct fhr_conf *c;
	char err[256], text[1024];

	snprintf(text, sizeof(text), "%s", fhr_text);
	*strstr(text, "interface br0") = '\0';
	strcat(text, "   eid-limit 3\ninterface br0\n lisp mobility VMS\n");
	c = fhr_conf_parse_string("limit", text, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, c, 0);
	for (int i = 0; i < 100; i++) {
		struct lisp_addr a;
		char s[32];
		int rc;

		snprintf(s, sizeof(s), "198.51.100.%d", 10 + i);
		lisp_addr_parse(s, &a);
		rc = fhr_detect(e->fhr, "br0", &a, NULL, FHR_SRC_ND, 1);
		assert_int_equal(rc, i < 3 ? 1 : -ENOSPC);
	}
	assert_int_equal(fhr_eid_count(e->fhr), 3);
	assert_int_equal(fhr_counters(e->fhr)->eid_limit, 97);
	/* one leaves: room for one more */
	{
		struct lisp_prefix p;
		struct lisp_addr a;

		lisp_prefix_parse("198.51.100.10/32", 4100, &p);
		assert_int_equal(fhr_clear(e->fhr, &p, 2), 1);
		lisp_addr_parse("198.51.100.200", &a);
		assert_int_equal(fhr_detect(e->fhr, "br0", &a, NULL, FHR_SRC_ND, 2), 1);
	}
	fhr_free(e->fhr);
	e->fhr = NULL;
	fhr_conf_free(c);
}

/*
 * The FHR restarts with its clock behind (a session older than the one the
 * gateway knows): the gateway's answer to its Hello names the session to
 * start above, and the tables converge; nothing older is taken meanwhile.
 */
static void test_fhr_clock_went_back(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send };

	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	run(e, 1, 2);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, e->fhr_session - 500); /* before the previous life */
	fhr_configure(e->fhr, e->fconf, 3);
	run(e, 3, 4);
	/* its table (empty: it knows nothing yet) was taken, under a session above the old one */
	assert_int_equal(etr_dyn_count(e->etr), 0);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 4);
	run(e, 4, 6);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(eid_state(e), FHR_EID_ACKED);
}

static int nprobes_all;

static void any_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac)
{
	(void)arg;
	(void)ifname;
	(void)eid;
	(void)mac;
	nprobes_all++;
}

/*
 * Another site keeps claiming a VM that is here (a duplicate address in
 * another data centre): each MovedAway is answered by the VM's probe
 * answer and a re-assertion, and the two sites would take the EID from
 * each other at wire speed. From the third such conflict in a minute the
 * re-assertion waits (2 s, then longer); when the hold ends, one probe.
 */
static void test_conflict_held(void **state)
{
	struct env *e = *state;
	struct fhr_io io = { .send = fhr_send, .probe = any_probe };
	int rc[5];

	fhr_free(e->fhr);
	e->fhr = fhr_new(&io, ++e->fhr_session);
	fhr_configure(e->fhr, e->fconf, 0);
	run(e, 0, 1);
	fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 1);
	pump(e, 1);
	for (int i = 0; i < 5; i++) {
		double t = 2 + i * 0.5;

		told_moved(e, 100 + (uint64_t)i, "192.0.2.11", t);
		assert_int_equal(eid_state(e), FHR_EID_MOVED);
		rc[i] = fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, t + 0.01);
		pump(e, t + 0.01);
		if (rc[i] == -EAGAIN)
			break;
	}
	assert_int_equal(rc[0], 1);
	assert_int_equal(rc[1], 1);
	assert_int_equal(rc[2], -EAGAIN); /* the third: held */
	assert_int_equal(fhr_counters(e->fhr)->conflicts_held, 1);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 3.5), -EAGAIN);
	assert_int_equal(eid_state(e), FHR_EID_MOVED);
	nprobes_all = 0;
	fhr_tick(e->fhr, 5.5); /* the hold (2 s) is over: one probe */
	assert_int_equal(nprobes_all, 1);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 5.6), 1);
	pump(e, 5.6);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	/* a VM that comes back later than right after its MovedAway is no conflict */
	told_moved(e, 200, "192.0.2.11", 70);
	assert_int_equal(fhr_detect(e->fhr, "br0", &e->vm, mac1, FHR_SRC_ARP, 75), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hijack_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_and_retransmitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rarp_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_claim_reasserted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restarts_converge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_across_subnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_away_stays_across_subnets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_extended_subnet_liveness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrival_without_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_gateways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway_comes_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_departed_while_gateway_restarted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_anti_entropy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_gateway_spoofed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fhr_restart_refuses_captures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eid_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fhr_clock_went_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_due, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
