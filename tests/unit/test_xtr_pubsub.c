/*
 * Publish/subscribe (RFC 9437): the Map-Server's engine and an ITR's
 * map-cache over a fake network (the Map-Server 192.0.2.1, the ITR
 * 192.0.2.20, ETRs 192.0.2.10 and .11), and an attacker who injects,
 * replays and forges.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/lisp_auth.h"
#include "tests/fakes.h"
#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"

#define DC_KEY	"dc-key"
#define SUB_KEY "branch-pubsub-key"
#define XTR_ID	"000000000000000000000000000000b1"
#define LISPERS "000000000000000000000000000000c1"

static const char *ms_text = "router lisp\n"
			     " site DC\n"
			     "  authentication-key " DC_KEY "\n"
			     "  eid-prefix 10.1.1.0/24 accept-more-specifics\n"
			     " subscriber BRANCH\n"
			     "  authentication-key " SUB_KEY "\n"
			     "  xtr-id " XTR_ID " site-id 20\n"
			     "  itr-rloc 192.0.2.20\n"
			     "  subscription-limit 2\n"
			     " subscriber LISPERS\n"
			     "  authentication-key lispers-key\n"
			     "  xtr-id " LISPERS "\n"
			     "  itr-rloc 192.0.2.30\n"
			     " ipv4 map-server\n"
			     " ipv4 map-resolver\n";

static const char *itr_text =
	"router lisp\n"
	" database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
	" ipv4 itr\n"
	" ipv4 itr map-resolver 192.0.2.1\n"
	" itr subscribe xtr-id " XTR_ID " site-id 20 authentication-key " SUB_KEY "\n";

/* Datagrams in flight: who sent them (the Map-Server or the ITR). */
struct pkt {
	bool from_ms;
	struct lisp_addr dst;
	uint8_t buf[2048];
	size_t len;
};
static struct pkt net[64];
static int nnet;

static int queue(bool from_ms, const struct lisp_addr *dst, const uint8_t *buf, size_t len)
{
	assert_true(nnet < 64 && len <= sizeof(net[0].buf));
	net[nnet].from_ms = from_ms;
	net[nnet].dst = *dst;
	memcpy(net[nnet].buf, buf, len);
	net[nnet++].len = len;
	return 0;
}

static int ms_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	assert_int_equal(dport, 4342);
	return queue(true, dst, buf, len);
}

static int mc_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	assert_int_equal(dport, 4342);
	return queue(false, dst, buf, len);
}

struct env {
	struct xtr_conf *msc, *itrc;
	struct ms *ms;
	struct mapcache *mc;
	struct xtr_counters gc;
	struct ms_io msio;
	struct pkt seen[64]; /* everything delivered, for replays */
	int nseen;
	double now;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct mc_io io = { .send = mc_send, .if_addr = fake_no_if_addr };
	char err[256];

	e->msio.send = ms_send;
	e->msc = xtr_conf_parse_string("ms", ms_text, err, sizeof(err));
	assert_non_null(e->msc);
	e->itrc = xtr_conf_parse_string("itr", itr_text, err, sizeof(err));
	assert_non_null(e->itrc);
	e->ms = ms_new(&e->msio, &e->gc);
	ms_configure(e->ms, &e->msc->msmr, &e->msc->reply, 0);
	e->mc = mc_new(&io);
	mc_configure(e->mc, &e->itrc->itr, e->itrc, 0);
	e->now = 100;
	nnet = 0;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	mc_free(e->mc);
	ms_free(e->ms);
	xtr_conf_free(e->msc);
	xtr_conf_free(e->itrc);
	free(e);
	return 0;
}

static const struct lisp_addr *ms_addr(void)
{
	static struct lisp_addr a;

	a = A("192.0.2.1");
	return &a;
}

static const struct lisp_addr *itr_addr(void)
{
	static struct lisp_addr a;

	a = A("192.0.2.20");
	return &a;
}

/* Delivers datagram p (the ITR's go to the Map-Server; the Map-Server's to the ITR if for it). */
static void deliver(struct env *e, const struct pkt *p)
{
	if (e->nseen < 64)
		e->seen[e->nseen++] = *p;
	if (!p->from_ms)
		ms_input(e->ms, itr_addr(), 4342, p->buf, p->len, e->now);
	else if (lisp_addr_equal(&p->dst, itr_addr()))
		mc_input(e->mc, ms_addr(), 4342, p->buf, p->len, e->now);
}

/* Delivers everything in flight, and what that sends, until the network is quiet. */
static void pump(struct env *e)
{
	for (int rounds = 0; nnet && rounds < 16; rounds++) {
		struct pkt batch[64];
		int n = nnet;

		memcpy(batch, net, sizeof(net[0]) * (size_t)n);
		nnet = 0;
		for (int i = 0; i < n; i++)
			deliver(e, &batch[i]);
	}
	assert_int_equal(nnet, 0);
}

/* A signed Map-Register of eid to locator rloc from ETR src (ttl 0: a withdrawal). */
static void reg(struct env *e, const char *src, const char *eid, const char *rloc, uint32_t ttl)
{
	static uint64_t nonce = 1000;
	struct lisp_map_register m = { .proxy_reply = true,
				       .xtr_id_present = true,
				       .nonce = ++nonce,
				       .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct lisp_locator l = { .priority = 1, .weight = 100, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = {
		.ttl = ttl, .loc_count = 1, .locs = &l, .authoritative = true
	};
	struct lisp_auth_key *k = lisp_auth_key_new(DC_KEY, strlen(DC_KEY));
	struct lisp_addr s = A(src);
	uint8_t buf[512];
	struct buf_writer w;

	memset(m.xtr_id, src[strlen(src) - 1], 16);
	l.addr[0] = A(rloc);
	assert_int_equal(lisp_prefix_parse(eid, 0, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	ms_input(e->ms, &s, 4342, buf, w.off, e->now);
}

struct subs {
	struct ms_sub_info all[8];
	int n;
};

static int collect(const struct ms_sub_info *s, void *arg)
{
	struct subs *c = arg;

	if (c->n < 8)
		c->all[c->n++] = *s;
	return 0;
}

/* The Map-Server's subscriptions. */
static struct subs ms_subs(struct env *e)
{
	struct subs c = { 0 };

	ms_sub_walk(e->ms, collect, &c);
	return c;
}

struct loc_find {
	struct lisp_prefix p;
	char loc[LISP_ADDR_STRLEN];
	bool found;
};

static int find_cb(const struct mc_info *i, void *arg)
{
	struct loc_find *f = arg;

	if (lisp_prefix_equal(&i->p, &f->p)) {
		f->found = true;
		if (i->nloc)
			lisp_addr_format(&i->locs[0].addr, f->loc, sizeof(f->loc));
	}
	return 0;
}

/* The first locator of the ITR's entry for prefix s ("" negative, NULL: no entry). */
static const char *cached(struct env *e, const char *s)
{
	static struct loc_find f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(lisp_prefix_parse(s, 0, &f.p), 0);
	mc_walk(e->mc, LISP_AFI_IPV4, NULL, find_cb, &f);
	return f.found ? f.loc : NULL;
}

/* The Map-Request inside ECM p. */
static void request_of(const struct pkt *p, struct lisp_map_request *q)
{
	struct lisp_ecm ecm;

	assert_int_equal(lisp_msg_decode_ecm(p->buf, p->len, &ecm), 0);
	assert_int_equal(lisp_msg_decode_map_request(ecm.inner.payload, ecm.inner.payload_len, q),
			 0);
}

/* Resolves 10.1.1.5 at the ITR and runs the exchange: a confirmed subscription. */
static void subscribe_host(struct env *e)
{
	struct lisp_addr h = A("10.1.1.5");

	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 1440);
	assert_int_equal(mc_resolve(e->mc, 0, &h, e->now), 0);
	pump(e);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.10");
	assert_int_equal(ms_subs(e).n, 1);
	assert_true(ms_subs(e).all[0].active);
	assert_int_equal(mc_sub_count(e->mc), 1);
}

static void test_subscribe_confirm_publish(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new(SUB_KEY, strlen(SUB_KEY));
	struct lisp_addr h = A("10.1.1.5");
	struct lisp_map_request q;
	struct lisp_map_notify n;
	struct subs s;
	struct pkt req;
	uint8_t id[16] = { [15] = 0xb1 };
	int confirm = -1;

	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 1440);
	assert_int_equal(mc_resolve(e->mc, 0, &h, e->now), 0);
	/* the request: I with our xTR-ID and Site-ID, N on the record */
	assert_int_equal(nnet, 1);
	request_of(&net[0], &q);
	assert_true(q.xtr_id_present && q.site_id_present && q.notify);
	assert_memory_equal(q.xtr_id, id, 16);
	assert_int_equal(q.site_id, 20);
	req = net[0];
	nnet = 0;
	/* the Map-Server's answers: a proxy reply and the confirmation (not yet in force) */
	deliver(e, &req);
	for (int i = 0; i < nnet; i++)
		if (lisp_msg_type(net[i].buf, net[i].len) == LISP_TYPE_MAP_NOTIFY)
			confirm = i;
	assert_true(confirm >= 0);
	assert_true(lisp_addr_equal(&net[confirm].dst, itr_addr()));
	assert_int_equal(lisp_msg_decode_map_notify(net[confirm].buf, net[confirm].len, &n), 0);
	assert_int_equal(n.nonce, q.nonce);
	assert_int_equal(lisp_auth_verify(k, net[confirm].buf, net[confirm].len), 0);
	s = ms_subs(e);
	assert_int_equal(s.n, 1);
	assert_false(s.all[0].active); /* a Map-Request alone changes nothing */
	pump(e);
	s = ms_subs(e);
	assert_true(s.all[0].active);
	assert_int_equal(mc_counters(e->mc)->subs_confirmed, 1);
	assert_int_equal(mc_counters(e->mc)->replies_unsolicited, 0);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.10");

	/* the VM moves: the ITR learns it from the Map-Server, no packet needed */
	reg(e, "192.0.2.11", "10.1.1.5/32", "192.0.2.11", 1440);
	assert_true(nnet >= 1);
	pump(e);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.11");
	assert_int_equal(mc_counters(e->mc)->publications, 1);
	assert_int_equal(mc_counters(e->mc)->notify_acks_sent, 2);
	s = ms_subs(e);
	assert_null(s.all[0].outstanding); /* acknowledged */
	assert_int_equal(s.all[0].publications, 1);
	assert_int_equal(s.all[0].nonce, q.nonce + 1);
	lisp_auth_key_free(k);
}

/* The last Map-Notify the Map-Server sent among what was delivered. */
static struct pkt last_notify(struct env *e)
{
	for (int i = e->nseen - 1; i >= 0; i--)
		if (e->seen[i].from_ms &&
		    lisp_msg_type(e->seen[i].buf, e->seen[i].len) == LISP_TYPE_MAP_NOTIFY)
			return e->seen[i];
	fail();
	return e->seen[0];
}

static void test_replays_and_forgeries_refused(void **state)
{
	struct env *e = *state;
	struct pkt pub1, pub2, forged;
	uint64_t acks;

	subscribe_host(e);
	reg(e, "192.0.2.11", "10.1.1.5/32", "192.0.2.11", 1440);
	pump(e);
	pub1 = last_notify(e);
	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 1440);
	pump(e);
	pub2 = last_notify(e);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.10");
	acks = mc_counters(e->mc)->notify_acks_sent;
	/* replays: the older publication, and the last one again: neither taken nor acked */
	mc_input(e->mc, ms_addr(), 4342, pub1.buf, pub1.len, e->now);
	mc_input(e->mc, ms_addr(), 4342, pub2.buf, pub2.len, e->now);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.10");
	assert_int_equal(mc_counters(e->mc)->publications_refused, 2);
	assert_int_equal(mc_counters(e->mc)->notify_acks_sent, acks);
	assert_int_equal(nnet, 0);
	/* from another source: not claimed, not taken */
	{
		struct lisp_addr other = A("192.0.2.99");

		assert_false(mc_takes_notify(e->mc, &other, pub2.buf, pub2.len));
	}
	/* the next nonce, but signed with another key */
	{
		struct lisp_map_notify m;
		struct lisp_auth_key *bad = lisp_auth_key_new("guess", 5);
		uint64_t nonce;

		forged = pub2;
		assert_int_equal(lisp_msg_decode_map_notify(forged.buf, forged.len, &m), 0);
		nonce = m.nonce + 1;
		for (int i = 0; i < 8; i++)
			forged.buf[4 + i] = (uint8_t)(nonce >> (56 - 8 * i));
		/* and pointing the EID at the attacker */
		assert_true(mc_takes_notify(e->mc, ms_addr(), forged.buf, forged.len));
		assert_int_equal(lisp_auth_sign(bad, forged.buf, forged.len), 0);
		lisp_auth_key_free(bad);
		mc_input(e->mc, ms_addr(), 4342, forged.buf, forged.len, e->now);
		assert_int_equal(mc_counters(e->mc)->publications_refused, 3);
		assert_int_equal(nnet, 0);
	}
}

/* Feeds the Map-Server an ECM Map-Request for eid from ITR-RLOC rloc with xTR-ID id. */
static void raw_request(struct env *e, const char *eid, const char *rloc, const char *id, bool site,
			uint64_t site_id, uint64_t nonce)
{
	struct lisp_map_request q = { .itr_rloc_count = 1,
				      .notify = true,
				      .xtr_id_present = true,
				      .site_id = site_id,
				      .nonce = nonce };
	struct lisp_ecm ecm = { .inner = { .sport = 4342, .dport = 4342, .ttl = 64 } };
	struct lisp_prefix p;
	uint8_t req[512], buf[1024];
	struct buf_writer w;
	size_t len;

	for (int i = 0; i < 16; i++)
		sscanf(id + 2 * i, "%2hhx", &q.xtr_id[i]);
	if (rloc)
		q.itr_rlocs[0] = A(rloc);
	assert_int_equal(lisp_prefix_parse(eid, 0, &p), 0);
	buf_writer_init(&w, req, sizeof(req));
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, &p, 1), 0);
	len = site ? w.off : w.off - 8; /* lispers.net: the xTR-ID alone */
	ecm.inner.src = rloc ? A(rloc) : A("192.0.2.66");
	ecm.inner.dst = p.addr;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_ecm(&w, &ecm, req, len), 0);
	ms_input(e->ms, &ecm.inner.src, 4342, buf, w.off, e->now);
}

/* The ACT of the single Map-Reply in flight (-1: none). */
static int reply_act(void)
{
	struct lisp_map_reply m;
	struct lisp_eid_record r;
	struct lisp_iter it;

	for (int i = 0; i < nnet; i++) {
		if (lisp_msg_type(net[i].buf, net[i].len) != LISP_TYPE_MAP_REPLY)
			continue;
		assert_int_equal(lisp_msg_decode_map_reply(net[i].buf, net[i].len, &m), 0);
		lisp_record_iter_init(&it, &m.records);
		assert_true(lisp_record_iter_next(&it, &r));
		return r.loc_count ? 0 : r.act;
	}
	return -1;
}

static int notifies_in_flight(void)
{
	int n = 0;

	for (int i = 0; i < nnet; i++)
		n += lisp_msg_type(net[i].buf, net[i].len) == LISP_TYPE_MAP_NOTIFY;
	return n;
}

static void test_refusals(void **state)
{
	struct env *e = *state;

	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 1440);
	/* an xTR-ID nobody has: ACT 5, nothing kept */
	raw_request(e, "10.1.1.5/32", "192.0.2.20", "000000000000000000000000000000ee", true, 20,
		    1);
	assert_int_equal(reply_act(), LISP_ACT_DROP_AUTH);
	assert_int_equal(notifies_in_flight(), 0);
	nnet = 0;
	/* the subscriber's xTR-ID with another Site-ID, or another ITR-RLOC: ACT 5 */
	raw_request(e, "10.1.1.5/32", "192.0.2.20", XTR_ID, true, 21, 2);
	assert_int_equal(reply_act(), LISP_ACT_DROP_AUTH);
	nnet = 0;
	raw_request(e, "10.1.1.5/32", "192.0.2.66", XTR_ID, true, 20, 3);
	assert_int_equal(reply_act(), LISP_ACT_DROP_AUTH);
	nnet = 0;
	/* without the Site-ID where one is configured: ACT 5 */
	raw_request(e, "10.1.1.5/32", "192.0.2.20", XTR_ID, false, 0, 4);
	assert_int_equal(reply_act(), LISP_ACT_DROP_AUTH);
	nnet = 0;
	assert_int_equal(ms_subs(e).n, 0);
	assert_int_equal(ms_pub_counters(e->ms)->unknown_xtr_id, 1);
	/* lispers.net's form (the xTR-ID alone) for a subscriber configured without a Site-ID */
	raw_request(e, "10.1.1.5/32", "192.0.2.30", LISPERS, false, 0, 5);
	assert_int_equal(reply_act(), 0);
	assert_int_equal(notifies_in_flight(), 1);
	nnet = 0;
	/* the subscription-limit (2): the third prefix is refused with ACT 4 */
	raw_request(e, "10.1.1.5/32", "192.0.2.20", XTR_ID, true, 20, 6);
	raw_request(e, "10.1.1.6/32", "192.0.2.20", XTR_ID, true, 20, 7);
	nnet = 0;
	raw_request(e, "10.1.1.200/32", "192.0.2.20", XTR_ID, true, 20, 8);
	assert_int_equal(reply_act(), LISP_ACT_DROP_POLICY);
	nnet = 0;
	assert_int_equal(ms_subs(e).n, 3); /* two BRANCH (unconfirmed), one LISPERS */
}

static void test_itr_falls_back_when_refused(void **state)
{
	struct env *e = *state;
	struct lisp_addr h = A("10.1.1.5");
	struct lisp_map_request q;

	/* a Map-Server that does not know us: ACT 5, asked again at once without subscribing */
	e->msc->msmr.subscribers[0]->ids[0].site_id = 99;
	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 1440);
	assert_int_equal(mc_resolve(e->mc, 0, &h, e->now), 0);
	pump(e);
	assert_int_equal(mc_counters(e->mc)->subs_refused, 1);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.10"); /* not a drop entry */
	request_of(&e->seen[e->nseen - 2], &q);
	assert_false(q.notify || q.xtr_id_present);
	assert_int_equal(mc_sub_count(e->mc), 0);
}

static void test_unsubscribe(void **state)
{
	struct env *e = *state;
	struct lisp_map_request q;
	struct lisp_prefix all;

	subscribe_host(e);
	/* a forged unsubscription: the subscriber acknowledges the mapping sent, and keeps it */
	raw_request(e, "10.1.1.5/32", NULL, XTR_ID, true, 20, 77);
	assert_int_equal(notifies_in_flight(), 1);
	assert_int_equal(reply_act(), -1); /* nothing answered to the request itself */
	pump(e);
	assert_int_equal(ms_subs(e).n, 1);
	assert_true(ms_subs(e).all[0].active);
	/* the entry goes at the ITR: it unsubscribes (N, ITR-RLOC AFI 0) and stays silent */
	assert_int_equal(lisp_prefix_parse("0.0.0.0/0", 0, &all), 0);
	assert_int_equal(mc_clear(e->mc, &all), 1);
	assert_int_equal(nnet, 1);
	request_of(&net[0], &q);
	assert_true(q.notify && q.xtr_id_present);
	assert_int_equal(q.itr_rlocs[0].afi, LISP_AFI_NONE);
	pump(e);
	assert_int_equal(mc_sub_count(e->mc), 0);
	for (int i = 0; i < 6; i++) {
		e->now += 5;
		ms_tick(e->ms, e->now);
		pump(e);
	}
	assert_int_equal(ms_subs(e).n, 0);
	assert_int_equal(mc_counters(e->mc)->publications_refused, 4); /* the probe, 4 tries */
}

static void test_withdrawal_ends_it(void **state)
{
	struct env *e = *state;

	subscribe_host(e);
	reg(e, "192.0.2.10", "10.1.1.5/32", "192.0.2.10", 0);
	pump(e);
	assert_null(cached(e, "10.1.1.5/32"));
	assert_int_equal(mc_sub_count(e->mc), 0);
	assert_int_equal(ms_subs(e).n, 0); /* its TTL-0 publication acknowledged */
}

static void test_replayed_request_changes_nothing(void **state)
{
	struct env *e = *state;
	struct pkt req;
	struct subs before;

	subscribe_host(e);
	req = e->seen[0]; /* the ECM Map-Request that subscribed */
	assert_false(req.from_ms);
	before = ms_subs(e);
	/* replayed: a confirmation goes out, the ITR refuses it (confirmed before), never acks */
	ms_input(e->ms, itr_addr(), 4342, req.buf, req.len, e->now);
	pump(e);
	for (int i = 0; i < 6; i++) {
		e->now += 5;
		ms_tick(e->ms, e->now);
		pump(e);
	}
	assert_int_equal(ms_subs(e).n, 1);
	assert_true(ms_subs(e).all[0].active);
	assert_int_equal(ms_subs(e).all[0].nonce, before.all[0].nonce);
	/* and publications still reach the subscriber */
	reg(e, "192.0.2.11", "10.1.1.5/32", "192.0.2.11", 1440);
	pump(e);
	assert_string_equal(cached(e, "10.1.1.5/32"), "192.0.2.11");
}

static void test_unacknowledged_dropped(void **state)
{
	struct env *e = *state;
	uint64_t giveups;
	const struct ms_subscriber_counters *c;
	size_t n;

	subscribe_host(e);
	reg(e, "192.0.2.11", "10.1.1.5/32", "192.0.2.11", 1440);
	for (int i = 0; i < 6; i++) { /* the ITR is gone: nothing delivered */
		nnet = 0;
		e->now += 5;
		ms_tick(e->ms, e->now);
	}
	nnet = 0;
	assert_int_equal(ms_subs(e).n, 0);
	assert_non_null(ms_subscriber_at(e->ms, 0, &c, &n));
	giveups = c->giveups;
	assert_int_equal(giveups, 1);
	assert_int_equal(c->retransmissions, 3);
}

static void test_state_file_keeps_them(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/test_pubsub_XXXXXX", err[256];
	struct ms *ms2 = ms_new(&e->msio, &e->gc);
	struct subs before, after;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	subscribe_host(e);
	before = ms_subs(e);
	assert_int_equal(ms_save(e->ms, path, e->now), 0);
	ms_configure(ms2, &e->msc->msmr, &e->msc->reply, e->now);
	assert_true(ms_load(ms2, path, e->now + 1, err, sizeof(err)) >= 0);
	{
		struct subs c = { 0 };

		ms_sub_walk(ms2, collect, &c);
		after = c;
	}
	assert_int_equal(after.n, 1);
	assert_true(after.all[0].active);
	assert_true(lisp_addr_equal(&after.all[0].itr, itr_addr()));
	assert_int_equal(after.all[0].nonce, before.all[0].nonce + MS_SUB_NONCE_GAP);
	ms_free(ms2);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscribe_confirm_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replays_and_forgeries_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_itr_falls_back_when_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_ends_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_request_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unacknowledged_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_keeps_them, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
