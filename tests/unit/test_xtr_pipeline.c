/* The data-plane pipeline on crafted packets: every action and drop reason, encap/decap round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ippkt.h"
#include "lib/lisp_data.h"
#include "lib/lpmh.h"
#include "tests/unit/tv.h"
#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

static const char *conf_text = "router lisp\n"
			       " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
			       " eid-table vrf T instance-id 4100\n"
			       "  map-cache 10.5.0.0/16 drop\n"
			       "  map-cache 10.6.0.0/16 map-request\n"
			       " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n";

struct env {
	struct xtr_conf *conf;
	struct mapcache *mc;
	struct dp dp;
};

/* Resolves eid (iid 4100) and answers with prefix -> locators (none: negative, act). */
static void learn(struct env *e, const char *eid, const char *prefix, const char *loc1,
		  const char *loc2, uint8_t prio2, uint8_t act)
{
	struct lisp_addr a = A(eid);
	struct lisp_map_reply m;
	struct lisp_locator l[2] = {
		{ .priority = 1, .weight = 1, .reachable = true, .naddr = 1 },
		{ .priority = prio2, .weight = 3, .reachable = true, .naddr = 1 }
	};
	struct lisp_eid_record r = { .ttl = 60, .act = act, .locs = l };
	uint8_t buf[256];
	struct buf_writer w;

	assert_int_equal(mc_resolve(e->mc, 4100, &a, 0), 0);
	m = (struct lisp_map_reply){ .nonce = fake_mr_nonce };
	if (loc1) {
		l[0].addr[0] = A(loc1);
		r.loc_count = 1;
	}
	if (loc2) {
		l[1].addr[0] = A(loc2);
		r.loc_count = 2;
	}
	assert_int_equal(lisp_prefix_parse(prefix, 4100, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	mc_input(e->mc, &a, 4342, buf, w.off, 0);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct mc_io io = { .send = fake_mr_send, .if_addr = fake_no_if_addr };
	struct lisp_addr r4 = A("192.0.2.20"), pending;
	char err[256];

	e->conf = xtr_conf_parse_string("t", conf_text, err, sizeof(err));
	assert_non_null(e->conf);
	e->mc = mc_new(&io);
	mc_configure(e->mc, &e->conf->itr, e->conf, 0);
	learn(e, "10.1.1.10", "10.1.1.0/24", "192.0.2.30", NULL, 0, 0);
	learn(e, "172.16.1.1", "172.16.0.0/12", NULL, NULL, 0, LISP_ACT_NATIVE_FORWARD);
	learn(e, "10.7.7.7", "10.7.7.0/24", "192.0.2.40", "192.0.2.41", 1, 0);
	learn(e, "10.8.8.8", "10.8.8.0/24", "2001:db8::30", NULL, 0, 0);
	pending = A("10.9.9.9");
	assert_int_equal(mc_resolve(e->mc, 4100, &pending, 0), 0); /* no answer: pending */
	dp_init(&e->dp, e->mc, &r4, NULL, 1500);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	mc_free(e->mc);
	xtr_conf_free(e->conf);
	free(e);
	return 0;
}

/* TV9's inner packet (ICMP 10.2.2.20 -> 10.1.1.10, TTL 64) with dst and ttl changed, in a buffer. */
static struct dp_pkt inner(uint8_t *buf, const char *dst, uint8_t ttl)
{
	struct dp_pkt p = { .buf = buf, .off = DP_HEADROOM, .len = 32, .iid = 4100 };
	struct lisp_addr d = A(dst);
	uint8_t *ip = buf + DP_HEADROOM;
	uint16_t c;

	memcpy(ip, tv9 + 36, 32);
	memcpy(ip + 16, d.u.v4, 4);
	ip[8] = ttl;
	ip[10] = ip[11] = 0;
	c = ippkt_csum_fold(ippkt_csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return p;
}

static void test_encap_decap(void **state)
{
	struct env *e = *state;
	uint8_t buf[256], orig[32];
	struct dp_pkt p = inner(buf, "10.1.1.10", 64);
	struct lisp_addr r30 = A("192.0.2.30"), r20 = A("192.0.2.20");
	struct ippkt_udp u;
	struct lisp_data_hdr h;

	memcpy(orig, buf + DP_HEADROOM, 32);
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(p.reason, DP_R_ENCAP);
	assert_true(lisp_addr_equal(&p.next_hop, &r30));
	assert_int_equal(p.len, 32 + 36);
	/* the outer headers as RFC 9300 and the spec file say */
	assert_int_equal(ippkt_decode_udp(p.buf + p.off, p.len, false, &u), 0);
	assert_true(lisp_addr_equal(&u.src, &r20) && lisp_addr_equal(&u.dst, &r30));
	assert_true(u.df && u.ttl == 64 && u.udp_csum0);
	assert_int_equal(u.dport, 4341);
	assert_true(u.sport >= 49152);
	assert_int_equal(u.payload_len, 32 + 8);
	assert_int_equal(lisp_data_decode(u.payload, 8, &h), 0);
	assert_true(h.nonce_present && h.iid_present && !h.lsb_valid && h.iid == 4100);
	assert_memory_equal(u.payload + 8, orig, 32);
	/* the same flow, the same source port */
	{
		uint8_t buf2[256];
		struct dp_pkt q = inner(buf2, "10.1.1.10", 64);
		struct ippkt_udp u2;

		dp_encap_batch(&e->dp, &q, 1);
		assert_int_equal(ippkt_decode_udp(q.buf + q.off, q.len, false, &u2), 0);
		assert_int_equal(u2.sport, u.sport);
	}
	/* and back: decap gives the inner packet and its instance-id */
	p.iid = 0;
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(p.reason, DP_R_DECAP);
	assert_int_equal(p.iid, 4100);
	assert_int_equal(p.len, 32);
	assert_memory_equal(p.buf + p.off, orig, 32);
}

/* A UDP packet 10.2.2.20:sport -> 10.1.1.10:dport (32 bytes) with flags/offset frag, encapsulated:
 * the outer UDP source port. */
static uint16_t udp_outer_sport(struct env *e, uint16_t sport, uint16_t dport, uint16_t frag)
{
	uint8_t buf[256];
	struct dp_pkt p = inner(buf, "10.1.1.10", 64);
	uint8_t *ip = buf + DP_HEADROOM;
	struct ippkt_udp u;
	uint16_t c;

	ip[9] = 17;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[10] = ip[11] = 0;
	c = ippkt_csum_fold(ippkt_csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	ip[20] = (uint8_t)(sport >> 8);
	ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(ippkt_decode_udp(p.buf + p.off, p.len, false, &u), 0);
	return u.sport;
}

/* The outer source port hashes the inner 5-tuple (spec §1.3): flows between two hosts spread. */
static void test_flow_ports(void **state)
{
	struct env *e = *state;
	uint16_t seen[64];
	size_t distinct = 0;

	for (uint16_t i = 0; i < 64; i++) {
		uint16_t sp = udp_outer_sport(e, (uint16_t)(40000 + i), 53, 0x4000);
		bool dup = false;

		assert_true(sp >= 49152);
		assert_int_equal(udp_outer_sport(e, (uint16_t)(40000 + i), 53, 0x4000), sp);
		for (size_t k = 0; k < distinct; k++)
			dup |= seen[k] == sp;
		if (!dup)
			seen[distinct++] = sp;
	}
	assert_true(distinct >= 32); /* 64 flows on 14 bits: collisions are few */
	/* fragments of one datagram hash alike: addresses and protocol only (no ports in later ones) */
	assert_int_equal(udp_outer_sport(e, 40000, 53, 0x2000), /* MF: the first */
			 udp_outer_sport(e, 1, 2, 0x00b9));	/* a later one */
	assert_int_equal(udp_outer_sport(e, 40000, 53, 0x2000),
			 udp_outer_sport(e, 40001, 53, 0x2000));
	/* with a pool of 64 ports (the I/O's GSO sockets), still spread */
	e->dp.sport_mask = 63;
	distinct = 0;
	for (uint16_t i = 0; i < 64; i++) {
		uint16_t sp = udp_outer_sport(e, (uint16_t)(40000 + i), 53, 0);
		bool dup = false;

		assert_true(sp >= 49152 && sp < 49152 + 64);
		for (size_t k = 0; k < distinct; k++)
			dup |= seen[k] == sp;
		if (!dup)
			seen[distinct++] = sp;
	}
	assert_true(distinct >= 16);
}

static int first_locator(const struct mc_info *i, void *arg)
{
	*(const struct mc_locator **)arg = i->nloc ? i->locs : NULL;
	return 1;
}

/* Locators count: packets encapsulated to them (out), decapsulated from them for their EIDs (in). */
static void test_locator_counters(void **state)
{
	struct env *e = *state;
	struct lisp_prefix p10, p2;
	const struct mc_locator *to30, *from20;
	uint8_t buf[256];
	struct dp_pkt p;

	learn(e, "10.2.2.20", "10.2.2.0/24", "192.0.2.20", NULL, 0, 0); /* the sender's own site */
	assert_int_equal(lisp_prefix_parse("10.1.1.0/24", 4100, &p10), 0);
	assert_int_equal(lisp_prefix_parse("10.2.2.0/24", 4100, &p2), 0);
	for (int i = 0; i < 3; i++) {
		p = inner(buf, "10.1.1.10", 64);
		dp_encap_batch(&e->dp, &p, 1);
		assert_int_equal(p.reason, DP_R_ENCAP);
		p.iid = 0;
		dp_decap_batch(&e->dp, &p, 1); /* outer source 192.0.2.20, inner 10.2.2.20 */
		assert_int_equal(p.reason, DP_R_DECAP);
	}
	mc_walk(e->mc, LISP_AFI_IPV4, &p10, first_locator, &to30);
	mc_walk(e->mc, LISP_AFI_IPV4, &p2, first_locator, &from20);
	assert_non_null(to30);
	assert_non_null(from20);
	assert_int_equal(to30->packets, 3);
	assert_int_equal(to30->bytes, 3 * (32 + 36));
	assert_int_equal(to30->packets_in, 0);
	assert_int_equal(from20->packets_in, 3);
	assert_int_equal(from20->bytes_in, 3 * 32);
	assert_int_equal(from20->packets, 0);
}

static void test_decap_ttl_and_refusals(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	struct dp_pkt p = inner(buf, "10.1.1.10", 64);
	uint8_t *outer;

	dp_encap_batch(&e->dp, &p, 1);
	outer = p.buf + p.off;
	outer[8] = 10; /* outer TTL below the inner one */
	outer[10] = outer[11] = 0;
	uint16_t c = ippkt_csum_fold(ippkt_csum_add(0, outer, 20));

	outer[10] = (uint8_t)(c >> 8);
	outer[11] = (uint8_t)c;
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_DECAP);
	assert_int_equal(p.buf[p.off + 8], 10);
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, p.buf + p.off, 20)), 0);
	/* an inner IPv4 header longer than the packet (found by fuzz_pipeline) */
	p = inner(buf, "10.1.1.10", 64);
	dp_encap_batch(&e->dp, &p, 1);
	p.buf[p.off + 36] = 0x4f; /* IHL 15: 60 bytes of header in a 32-byte packet */
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_MALFORMED);
	/* not LISP: another UDP port, a truncated packet */
	p = inner(buf, "10.1.1.10", 64);
	dp_encap_batch(&e->dp, &p, 1);
	p.buf[p.off + 22] = 0x10; /* dport 4341 -> 4342 */
	p.buf[p.off + 23] = 0xf6;
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_NOT_LISP);
	assert_int_equal(p.verdict, DP_DROP);
	p = inner(buf, "10.1.1.10", 64);
	dp_encap_batch(&e->dp, &p, 1);
	for (size_t n = 0; n < p.len; n++) {
		struct dp_pkt t = p;

		t.len = n;
		dp_decap_batch(&e->dp, &t, 1);
		assert_int_equal(t.verdict, DP_DROP);
	}
}

static void test_actions(void **state)
{
	struct env *e = *state;
	const struct {
		const char *dst;
		uint8_t verdict, reason;
	} cases[] = {
		{ "10.1.1.10", DP_FORWARD, DP_R_ENCAP },
		{ "10.3.3.3", DP_PUNT, DP_R_MISS },	     /* nothing cached */
		{ "172.16.9.9", DP_NATIVE, DP_R_NATIVE },    /* negative, natively-forward */
		{ "10.5.1.1", DP_DROP, DP_R_NEGATIVE_DROP }, /* map-cache ... drop */
		{ "10.6.1.1", DP_PUNT, DP_R_MISS },	     /* map-cache ... map-request */
		{ "10.9.9.9", DP_PUNT, DP_R_PENDING },	     /* asked, no answer yet */
		{ "10.8.8.8", DP_DROP, DP_R_NO_RLOC },	     /* IPv6 locator, no IPv6 RLOC */
		{ "224.0.0.5", DP_DROP, DP_R_LINK_LOCAL },   /* multicast: never resolved */
		{ "169.254.1.1", DP_DROP, DP_R_LINK_LOCAL }, /* link-local */
		{ "255.255.255.255", DP_DROP, DP_R_LINK_LOCAL },
	};
	uint8_t bufs[16][256];
	struct dp_pkt p[16];
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++)
		p[i] = inner(bufs[i], cases[i].dst, 64);
	p[n] = inner(bufs[n], "10.1.1.10", 64);
	p[n].len = 19; /* malformed */
	dp_encap_batch(&e->dp, p, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (p[i].verdict != cases[i].verdict || p[i].reason != cases[i].reason)
			fail_msg("%s: verdict %u reason %s", cases[i].dst, p[i].verdict,
				 dp_reason_name(p[i].reason));
	}
	assert_int_equal(p[n].reason, DP_R_MALFORMED);
	assert_int_equal(e->dp.c.packets[DP_R_MISS], 2);
	/* too big for the MTU */
	e->dp.mtu = 60;
	p[0] = inner(bufs[0], "10.1.1.10", 64);
	dp_encap_batch(&e->dp, p, 1);
	assert_int_equal(p[0].reason, DP_R_TOO_BIG);
}

/* Two locators of one priority, weights 1 and 3: flows spread about 1:3. */
static void test_weights(void **state)
{
	struct env *e = *state;
	struct lisp_addr a = A("192.0.2.40");
	uint8_t buf[256];
	int first = 0;

	for (int i = 0; i < 400; i++) {
		struct dp_pkt p = inner(buf, "10.7.7.7", 64);

		p.buf[p.off + 12] = (uint8_t)i; /* another source: another flow */
		p.buf[p.off + 13] = (uint8_t)(i >> 8);
		dp_encap_batch(&e->dp, &p, 1);
		assert_int_equal(p.reason, DP_R_ENCAP);
		first += lisp_addr_equal(&p.next_hop, &a);
	}
	assert_true(first > 50 && first < 150); /* 100 expected */
}

static struct etr_local *local_add(struct lpmh *t, const char *prefix, uint8_t kind)
{
	static struct etr_local pool[8];
	static int used;
	struct etr_local *l = &pool[used++ % 8];
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(prefix, 4100, &p), 0);
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	assert_int_equal(lpmh_set(t, &p, l), 0);
	return l;
}

/* Encapsulates the packet for dst without local checks; the outer source is 192.0.2.20. */
static struct dp_pkt encapsulated(struct env *e, uint8_t *buf, const char *dst)
{
	const struct lpmh *local = e->dp.local;
	struct dp_pkt p = inner(buf, "10.1.1.10", 64);
	struct lisp_addr d = A(dst);

	e->dp.local = NULL;
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_ENCAP);
	memcpy(p.buf + p.inner + 16, d.u.v4, 4);
	p.iid = 0;
	e->dp.local = local;
	return p;
}

/*
 * The ETR's local table in the pipeline: a new source in a dynamic-eid
 * prefix is flagged for learning (and still forwarded), a known one counts
 * its packets; an away EID is encapsulated to its new site from either
 * side, with an SMR flagged toward the ITR that sent it; decapsulated
 * packets for no EID of ours are dropped unless proxy-ETR; a negative
 * natively-forward entry goes to the PETR.
 */
static void test_local_table(void **state)
{
	struct env *e = *state;
	struct lpmh *t = lpmh_new(16);
	struct mc_locator away_loc = {
		.addr = A("192.0.2.50"), .priority = 1, .weight = 1, .up = true
	};
	struct etr_local *host, *away, *policy;
	struct lisp_addr src = A("10.2.2.20"), itr = A("192.0.2.20"), petr = A("192.0.2.60");
	uint8_t buf[256];
	struct dp_pkt p;

	policy = local_add(t, "10.2.2.0/24", LOCAL_DYN_POLICY);
	host = local_add(t, "10.2.2.21/32", LOCAL_DYN_HOST);
	away = local_add(t, "10.1.1.10/32", LOCAL_AWAY);
	away->nloc = 1;
	away->locs = &away_loc;
	e->dp.local = t;
	e->dp.now = 42;

	p = inner(buf, "10.7.7.7", 64); /* from 10.2.2.20: not known yet */
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_ENCAP);
	assert_int_equal(p.flags, DP_F_LEARN);
	assert_true(lisp_addr_equal(&p.aux, &src));

	p = inner(buf, "10.7.7.7", 64);
	p.buf[p.off + 15] = 21; /* from 10.2.2.21: known */
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.flags, 0);
	assert_int_equal(host->packets, 1);
	assert_true(host->last_packet == 42);
	assert_true(host->last_from == 42); /* from it: its learning timeout starts again */

	/* a dynamic-eid that does not learn from data (its FHRs tell, or full): counted only */
	policy->flags = LOCAL_F_NO_LEARN;
	p = inner(buf, "10.7.7.7", 64); /* from 10.2.2.20: not known */
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD); /* handled as before */
	assert_int_equal(p.reason, DP_R_ENCAP);
	assert_int_equal(p.flags, 0); /* not punted for learning */
	assert_int_equal(policy->packets, 1);
	policy->flags = 0;

	p = inner(buf, "10.1.1.10", 64); /* away: not to the map-cache's 192.0.2.30 */
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(p.reason, DP_R_AWAY);
	assert_true(lisp_addr_equal(&p.next_hop, &away_loc.addr));

	p = encapsulated(e, buf, "10.1.1.10"); /* a remote ITR still sends it here */
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(p.reason, DP_R_AWAY);
	assert_int_equal(p.flags, DP_F_SMR);
	assert_true(lisp_addr_equal(&p.aux, &itr));
	assert_true(lisp_addr_equal(&p.next_hop, &away_loc.addr));
	/* the inner packet behind the new outer header, one hop further */
	assert_int_equal(p.buf[p.off + 36 + 8], 63);
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, p.buf + p.off + 36, 20)), 0);
	assert_int_equal(away->packets, 2);

	p = encapsulated(e, buf, "10.2.2.5"); /* in the dynamic-eid prefix: ours */
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_DECAP);
	/* but no host 10.2.2.5 here: the ITR maps a host that left (no away entry to say where,
	 * its Map-Notify lost): it is told to ask again (found by tests/sim, issue 19) */
	assert_int_equal(p.flags, DP_F_SMR);
	assert_true(lisp_addr_equal(&p.aux, &itr));
	p = encapsulated(e, buf, "10.2.2.21"); /* a host we have: no SMR */
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_DECAP);
	/* but its sender (10.2.2.20) has no mapping here: it is asked for now, before the host
	 * answers (a VM that moved in answers a burst held for it: found by the lab, issue 21) */
	assert_int_equal(p.flags, DP_F_RESOLVE);
	/* a sender mapped, being resolved, or negative: nothing to ask */
	for (size_t i = 0; i < 3; i++) {
		static const char *from[] = { "10.7.7.8", "10.9.9.9", "172.16.1.1" };
		struct lisp_addr f = A(from[i]);

		p = encapsulated(e, buf, "10.2.2.21");
		memcpy(p.buf + p.off + 36 + 12, f.u.v4, 4);
		dp_decap_batch(&e->dp, &p, 1);
		assert_int_equal(p.reason, DP_R_DECAP);
		assert_int_equal(p.flags, 0);
	}
	p = encapsulated(e, buf, "10.3.3.3"); /* nobody's here */
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_DROP);
	assert_int_equal(p.reason, DP_R_NOT_LOCAL);
	e->dp.proxy_etr = true;
	p = encapsulated(e, buf, "10.3.3.3");
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_DECAP);
	assert_int_equal(p.flags, 0); /* (for no EID of ours: its sender not asked for) */

	e->conf->dp.petrs[0] = (struct xtr_conf_petr){ .addr = petr, .priority = 1, .weight = 1 };
	e->conf->dp.npetrs = 1;
	dp_set_petrs(&e->dp, &e->conf->dp);
	p = inner(buf, "172.16.9.9", 64); /* negative, natively-forward: to the PETR */
	dp_encap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_FORWARD);
	assert_int_equal(p.reason, DP_R_PETR);
	assert_true(lisp_addr_equal(&p.next_hop, &petr));
	lpmh_free(t);
}

/* A LISP payload (header, iid 4100, then an IPv6 ICMP packet 2001:db8:2::20 -> dst, hop limit). */
static struct dp_pkt payload6(uint8_t *buf, const char *dst, uint8_t hops)
{
	struct lisp_data_hdr h = { .nonce_present = true, .iid_present = true, .iid = 4100 };
	struct dp_pkt p = { .buf = buf, .off = DP_HEADROOM, .len = 8 + 48, .ttl = 64 };
	struct lisp_addr s = A("2001:db8:2::20"), d = A(dst);
	uint8_t *ip = buf + DP_HEADROOM + 8;

	assert_int_equal(lisp_data_encode(&h, buf + DP_HEADROOM), 0);
	memset(ip, 0, 48);
	ip[0] = 0x60;
	ip[5] = 8; /* payload length */
	ip[6] = 58;
	ip[7] = hops;
	memcpy(ip + 8, s.u.v6, 16);
	memcpy(ip + 24, d.u.v6, 16);
	ip[40] = 128; /* echo request */
	p.aux = A("192.0.2.99");
	return p;
}

/*
 * Re-encapsulation toward an away EID's new site is a hop: the inner
 * TTL / hop limit goes down by one (IPv4 checksum still right), and a
 * packet two sites keep sending each other is dropped when it reaches 0.
 */
static void test_reencap_ttl(void **state)
{
	struct env *e = *state;
	struct lpmh *t = lpmh_new(16);
	struct mc_locator away_loc = {
		.addr = A("192.0.2.50"), .priority = 1, .weight = 1, .up = true
	};
	struct etr_local *away = local_add(t, "10.1.1.10/32", LOCAL_AWAY);
	struct etr_local *away6 = local_add(t, "2001:db8:1::10/128", LOCAL_AWAY);
	uint8_t buf[256];
	struct dp_pkt p = inner(buf, "10.1.1.10", 3);
	int hops = 0;

	away->nloc = away6->nloc = 1;
	away->locs = away6->locs = &away_loc;
	e->dp.local = t;
	dp_encap_batch(&e->dp, &p, 1); /* to the new site, first: TTL 3 */
	assert_int_equal(p.reason, DP_R_AWAY);
	for (;;) { /* the new site sends it back, and so on */
		dp_decap_batch(&e->dp, &p, 1);
		if (p.verdict != DP_FORWARD)
			break;
		assert_int_equal(p.reason, DP_R_AWAY);
		hops++;
		assert_int_equal(p.buf[p.off + 36 + 8], 3 - hops);
		assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, p.buf + p.off + 36, 20)), 0);
		assert_true(hops < 10);
	}
	assert_int_equal(hops, 2); /* 3 -> 2 -> 1, then no further */
	assert_int_equal(p.verdict, DP_DROP);
	assert_int_equal(p.reason, DP_R_TTL_EXCEEDED);
	assert_int_equal(p.flags & DP_F_SMR, 0);
	assert_int_equal(e->dp.c.packets[DP_R_TTL_EXCEEDED], 1);
	assert_string_equal(dp_reason_name(DP_R_TTL_EXCEEDED),
			    "inner TTL exceeded, not re-encapsulated");

	/* IPv6: the hop limit likewise */
	e->dp.rloc6 = A("2001:db8::20");
	away_loc.addr = A("2001:db8::50");
	p = payload6(buf, "2001:db8:1::10", 2);
	dp_decap_payload_batch(&e->dp, &p, 1);
	assert_int_equal(p.reason, DP_R_AWAY);
	assert_int_equal(p.buf[p.off + 56 + 7], 1);
	p = payload6(buf, "2001:db8:1::10", 1);
	dp_decap_payload_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_DROP);
	assert_int_equal(p.reason, DP_R_TTL_EXCEEDED);
	assert_int_equal(e->dp.c.packets[DP_R_TTL_EXCEEDED], 2);
	lpmh_free(t);
}

/*
 * A host whose VM is leaving (LOCAL_F_LEAVING): what is decapsulated for it
 * is punted to be held (DP_R_LEAVING), not delivered; once held, a pass of
 * dp_deliver_batch() keeps it while the host is leaving, delivers it here
 * when it stays, and re-encapsulates it (a hop less) to the new site when
 * an away entry replaced the host; never to the map-cache's locator.
 */
static void test_leaving_host(void **state)
{
	struct env *e = *state;
	struct lpmh *t = lpmh_new(16);
	struct mc_locator away_loc = {
		.addr = A("192.0.2.50"), .priority = 1, .weight = 1, .up = true
	};
	struct etr_local *host = local_add(t, "10.1.1.10/32", LOCAL_DYN_HOST);
	struct lisp_prefix p10;
	uint8_t buf[256], held[256];
	struct dp_pkt p, q;

	assert_int_equal(lisp_prefix_parse("10.1.1.10/32", 4100, &p10), 0);
	e->dp.local = t;
	e->dp.now = 7;
	host->flags = LOCAL_F_LEAVING;
	p = encapsulated(e, buf, "10.1.1.10");
	p.iid = 4100;
	dp_decap_batch(&e->dp, &p, 1);
	assert_int_equal(p.verdict, DP_PUNT);
	assert_int_equal(p.reason, DP_R_LEAVING);
	assert_int_equal(p.flags, 0);
	assert_int_equal(host->packets, 1); /* it is alive, for its liveness */
	assert_int_equal(e->dp.c.packets[DP_R_LEAVING], 1);
	assert_string_equal(dp_reason_name(DP_R_LEAVING), "held: its VM is leaving (a migration)");

	/* held: the inner packet, as the glue copies it */
	memcpy(held + DP_HEADROOM, p.buf + p.inner, p.len);
	q = (struct dp_pkt){ .buf = held, .off = DP_HEADROOM, .len = p.len, .iid = 4100 };
	dp_deliver_batch(&e->dp, &q, 1);
	assert_int_equal(q.verdict, DP_PUNT); /* still leaving: kept */
	assert_int_equal(q.reason, DP_R_LEAVING);

	host->flags = 0; /* it stays (the migration failed) */
	q = (struct dp_pkt){ .buf = held, .off = DP_HEADROOM, .len = p.len, .iid = 4100 };
	dp_deliver_batch(&e->dp, &q, 1);
	assert_int_equal(q.verdict, DP_FORWARD);
	assert_int_equal(q.reason, DP_R_DECAP);
	assert_int_equal(q.off, DP_HEADROOM);

	/* it moved: the away entry replaced the host */
	host->kind = LOCAL_AWAY;
	host->nloc = 1;
	host->locs = &away_loc;
	q = (struct dp_pkt){ .buf = held, .off = DP_HEADROOM, .len = p.len, .iid = 4100 };
	dp_deliver_batch(&e->dp, &q, 1);
	assert_int_equal(q.verdict, DP_FORWARD);
	assert_int_equal(q.reason, DP_R_AWAY);
	assert_int_equal(q.flags, 0); /* no SMR: the ITR is not known any more */
	assert_true(lisp_addr_equal(&q.next_hop, &away_loc.addr));
	assert_int_equal(q.buf[q.off + 36 + 8], 63); /* a hop: TTL 64 -> 63 */
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, q.buf + q.off + 36, 20)), 0);

	/* gone from the table (not ours), and a malformed packet: dropped */
	lpmh_del(t, &p10);
	q = (struct dp_pkt){ .buf = held, .off = DP_HEADROOM, .len = p.len, .iid = 4100 };
	dp_deliver_batch(&e->dp, &q, 1);
	assert_int_equal(q.verdict, DP_DROP);
	assert_int_equal(q.reason, DP_R_NOT_LOCAL);
	q = (struct dp_pkt){ .buf = held, .off = DP_HEADROOM, .len = 7, .iid = 4100 };
	dp_deliver_batch(&e->dp, &q, 1);
	assert_int_equal(q.verdict, DP_DROP);
	assert_int_equal(q.reason, DP_R_MALFORMED);
	lpmh_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_encap_decap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decap_ttl_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locator_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reencap_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaving_host, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
