/* The ITR map-cache: resolution timers, replies, SMRs, expiry, capacity (fake clock/net). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

static const char *conf_text = "router lisp\n"
			       " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
			       " map-cache 10.4.0.0/16 drop\n"
			       " ipv4 itr\n"
			       " ipv4 itr map-resolver 192.0.2.1\n"
			       " dataplane map-cache-limit 3\n";

static int fake_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		     size_t len)
{
	assert_int_equal(dport, 4342);
	return capture_send(arg, dst, dport, buf, len);
}

struct env {
	struct xtr_conf *conf;
	struct mapcache *mc;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct mc_io io = { .send = fake_send, .if_addr = fake_no_if_addr };
	char err[256];

	e->conf = xtr_conf_parse_string("t", conf_text, err, sizeof(err));
	assert_non_null(e->conf);
	e->mc = mc_new(&io);
	mc_configure(e->mc, &e->conf->itr, e->conf, 0);
	nout = 0;
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

/* The Map-Request inside sent ECM i. */
static void request_of(int i, struct lisp_map_request *q, struct lisp_ecm *ecm)
{
	assert_int_equal(lisp_msg_decode_ecm(out[i].buf, out[i].len, ecm), 0);
	assert_int_equal(lisp_msg_decode_map_request(ecm->inner.payload, ecm->inner.payload_len, q),
			 0);
}

/* Feeds a Map-Reply with nonce for prefix s (TTL ttl, one locator or none). */
static void reply(struct env *e, uint64_t nonce, const char *s, uint32_t ttl, const char *loc,
		  double now)
{
	struct lisp_map_reply m = { .nonce = nonce };
	struct lisp_locator l = { .priority = 1, .weight = 100, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = ttl, .act = LISP_ACT_NATIVE_FORWARD, .locs = &l };
	uint8_t buf[256];
	struct buf_writer w;

	if (loc) {
		l.addr[0] = A(loc);
		r.loc_count = 1;
		r.act = 0;
	}
	assert_int_equal(lisp_prefix_parse(s, 0, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	mc_input(e->mc, &l.addr[0], 4342, buf, w.off, now);
}

struct find {
	const char *p;
	struct mc_info info;
	bool found;
	struct mc_info all[16]; /* find_iid_cb: every entry walked */
	size_t n;
};

static int find_iid_cb(const struct mc_info *i, void *arg)
{
	struct find *f = arg;

	if (f->n < 16)
		f->all[f->n++] = *i;
	return 0;
}

static int find_cb(const struct mc_info *i, void *arg)
{
	struct find *f = arg;
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(f->p, 0, &p), 0);
	if (lisp_prefix_equal(&p, &i->p)) {
		f->info = *i;
		f->found = true;
	}
	return 0;
}

static bool cached(struct env *e, const char *p, struct mc_info *info)
{
	struct find f = { .p = p };

	mc_walk(e->mc, LISP_AFI_IPV4, NULL, find_cb, &f);
	if (info)
		*info = f.info;
	return f.found;
}

static void test_resolve_and_install(void **state)
{
	struct env *e = *state;
	struct lisp_addr eid = A("10.1.1.10"), mr = A("192.0.2.1"), itr = A("192.0.2.20");
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	struct mc_info info;

	assert_int_equal(mc_resolve(e->mc, 0, &eid, 0), 0);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &mr));
	request_of(0, &q, &ecm);
	assert_true(lisp_addr_equal(&ecm.inner.dst, &eid));
	assert_true(lisp_addr_equal(&q.itr_rlocs[0], &itr)); /* our database-mapping locator */
	assert_int_equal(mc_resolve(e->mc, 0, &eid, 0.5), -EINPROGRESS); /* one a second */
	assert_int_equal(nout, 1);
	assert_true(cached(e, "10.1.1.10/32", &info) && info.state == MC_PENDING);
	/* an unsolicited reply changes nothing */
	reply(e, q.nonce + 1, "10.1.1.0/24", 1440, "192.0.2.10", 0.6);
	assert_false(cached(e, "10.1.1.0/24", NULL));
	assert_int_equal(mc_counters(e->mc)->replies_unsolicited, 1);
	/* the answer: a covering prefix replaces the pending host entry */
	reply(e, q.nonce, "10.1.1.0/24", 1440, "192.0.2.10", 0.7);
	assert_false(cached(e, "10.1.1.10/32", NULL));
	assert_true(cached(e, "10.1.1.0/24", &info));
	assert_true(info.state == MC_COMPLETE && info.nloc == 1 && info.expires == 0.7 + 86400);
	assert_int_equal(mc_resolve(e->mc, 0, &eid, 1), -EEXIST);
	/* expiry */
	mc_tick(e->mc, 0.7 + 86400);
	assert_false(cached(e, "10.1.1.0/24", NULL));
}

static void test_retries_and_rest(void **state)
{
	struct env *e = *state;
	struct lisp_addr eid = A("10.9.9.9");

	assert_int_equal(mc_resolve(e->mc, 0, &eid, 0), 0);
	for (double t = 0.5; t <= 12; t += 0.5)
		mc_tick(e->mc, t);
	assert_int_equal(nout, 10); /* 1 a second, 10 tries */
	for (double t = 12.5; t < 39; t += 0.5)
		mc_tick(e->mc, t);
	assert_int_equal(nout, 10); /* resting 30 s */
	mc_tick(e->mc, 41);
	assert_int_equal(nout, 11);
}

static void test_negative_smr_capacity(void **state)
{
	struct env *e = *state;
	struct lisp_addr eid = A("172.16.0.1"), other = A("10.1.1.10"), third = A("10.3.3.3");
	struct lisp_map_request q, smr = { .smr = true, .itr_rloc_count = 1, .nonce = 5 };
	struct lisp_ecm ecm;
	struct mc_info info;
	uint8_t buf[256];
	struct buf_writer w;

	assert_true(cached(e, "10.4.0.0/16", &info) && info.is_static && info.act == LISP_ACT_DROP);
	assert_int_equal(mc_resolve(e->mc, 0, &eid, 0), 0);
	request_of(0, &q, &ecm);
	reply(e, q.nonce, "128.0.0.0/1", 15, NULL, 0.1);
	assert_true(cached(e, "128.0.0.0/1", &info));
	assert_true(info.state == MC_NEGATIVE && info.act == LISP_ACT_NATIVE_FORWARD);
	/* an SMR for a cached EID: one SMR-invoked request, then at most one per 3 s per change */
	smr.itr_rlocs[0] = A("192.0.2.10");
	assert_int_equal(lisp_prefix_parse("172.16.5.5/32", 0, &smr.src_eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &smr, &smr.src_eid, 1), 0);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 1);
	assert_int_equal(nout, 2);
	request_of(1, &q, &ecm);
	assert_true(q.smr_invoked);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 2);
	assert_int_equal(nout, 2);
	/* its answer installs a mapping: an SMR after that is about another change (a VM that
	 * moved again) and is not held back */
	reply(e, q.nonce, "128.0.0.0/1", 15, NULL, 2.2);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 2.5);
	assert_int_equal(nout, 3);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 2.6);
	assert_int_equal(nout, 3);
	/* capacity 3: the static entry, the negative one, one more pending; then full */
	assert_int_equal(mc_resolve(e->mc, 0, &other, 3), 0);
	assert_int_equal(mc_resolve(e->mc, 0, &third, 3), -ENOSPC);
	assert_int_equal(mc_counters(e->mc)->overflows, 1);
	/* clear keeps what is configured */
	assert_int_equal(mc_clear(e->mc, NULL), 2);
	assert_int_equal(mc_count(e->mc), 1);
}

/*
 * Resolutions outstanding are bounded per instance-id and in total: one
 * tenant's misses are refused (counted) while another tenant's are still
 * asked; an answer or a clear makes room again.
 */
static void test_request_limits(void **state)
{
	struct env *e = *state;
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string(
		"t",
		"router lisp\n"
		" database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
		" dataplane map-request-limit 16\n"
		" dataplane map-request-limit per-instance-id 2\n",
		err, sizeof(err));
	struct lisp_addr a1 = A("10.1.1.1"), a2 = A("10.1.1.2"), a3 = A("10.1.1.3");
	struct lisp_prefix p1;
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	int sent;

	assert_non_null(c);
	mc_configure(e->mc, &c->itr, c, 0);
	xtr_conf_free(e->conf);
	e->conf = c;
	assert_int_equal(mc_resolve(e->mc, 100, &a1, 0), 0);
	assert_int_equal(mc_resolve(e->mc, 100, &a2, 0), 0);
	assert_int_equal(mc_resolve(e->mc, 100, &a3, 0), -EBUSY); /* its share is out */
	assert_int_equal(nout, 2);
	assert_int_equal(mc_counters(e->mc)->requests_limited, 1);
	/* no entry for it */
	assert_int_equal(mc_count(e->mc), 2);
	assert_int_equal(mc_resolve(e->mc, 200, &a3, 0), 0); /* another tenant is still asked */
	assert_int_equal(nout, 3);
	assert_int_equal(mc_outstanding_iid(e->mc, 100), 2);
	assert_int_equal(mc_outstanding_iid(e->mc, 200), 1);
	assert_int_equal(mc_outstanding(e->mc), 3);
	mc_tick(e->mc, 1); /* the three are asked again, nothing else */
	assert_int_equal(nout, 6);
	/* room again when one goes */
	assert_int_equal(lisp_prefix_parse("10.1.1.1/32", 100, &p1), 0);
	assert_int_equal(mc_clear(e->mc, &p1), 1);
	assert_int_equal(mc_resolve(e->mc, 100, &a3, 1), 0);
	assert_int_equal(mc_outstanding(e->mc), 3);
	/* the total: 16 */
	sent = nout;
	for (uint8_t i = 1; i <= 12; i++) {
		struct lisp_addr x = A("10.7.7.0");

		x.u.v4[3] = i;
		assert_int_equal(mc_resolve(e->mc, 300 + i, &x, 1), 0);
	}
	assert_int_equal(mc_resolve(e->mc, 0, &a1, 1), 0);
	assert_int_equal(nout, sent + 13);
	request_of(nout - 1, &q, &ecm);
	assert_int_equal(mc_outstanding(e->mc), 16);
	assert_int_equal(mc_resolve(e->mc, 500, &a1, 1), -EBUSY);
	assert_int_equal(mc_counters(e->mc)->requests_limited, 2);
	/* a reload with more room keeps what is outstanding: its answers still match */
	c = xtr_conf_parse_string("t",
				  "router lisp\n"
				  " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
				  " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
				  " dataplane map-request-limit 20\n",
				  err, sizeof(err));
	assert_non_null(c);
	mc_configure(e->mc, &c->itr, c, 2);
	xtr_conf_free(e->conf);
	e->conf = c;
	assert_int_equal(mc_outstanding(e->mc), 16);
	assert_int_equal(mc_outstanding_iid(e->mc, 100), 2);
	assert_int_equal(mc_resolve(e->mc, 500, &a1, 2), 0);
	reply(e, q.nonce, "10.1.1.0/24", 60, "192.0.2.10", 2.1);
	assert_true(cached(e, "10.1.1.0/24", NULL));
	assert_int_equal(mc_outstanding(e->mc), 16);
}

/* A record for the Map-Replies below: "[iid] prefix", one locator or none (negative, act). */
struct rec {
	uint32_t iid;
	const char *p;
	uint32_t ttl;
	const char *loc;
	uint8_t act;
};

/* Feeds a Map-Reply with nonce and the records recs[0..n) from 192.0.2.1. */
static void reply_recs(struct env *e, uint64_t nonce, const struct rec *recs, size_t n, double now)
{
	struct lisp_map_reply m = { .nonce = nonce };
	struct lisp_locator l[8];
	struct lisp_eid_record r[8];
	struct lisp_addr from = A("192.0.2.1");
	uint8_t buf[512];
	struct buf_writer w;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		l[i] = (struct lisp_locator){
			.priority = 1, .weight = 100, .reachable = true, .naddr = 1
		};
		r[i] = (struct lisp_eid_record){ .ttl = recs[i].ttl,
						 .act = recs[i].act,
						 .locs = &l[i] };
		if (recs[i].loc) {
			l[i].addr[0] = A(recs[i].loc);
			r[i].loc_count = 1;
		}
		assert_int_equal(lisp_prefix_parse(recs[i].p, recs[i].iid, &r[i].eid), 0);
	}
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, r, n), 0);
	mc_input(e->mc, &from, 4342, buf, w.off, now);
}

/* Is "[iid] p" cached (its entry in *info)? */
static bool cached_in(struct env *e, uint32_t iid, const char *p, struct mc_info *info)
{
	struct lisp_prefix want;
	struct find f = { 0 };

	assert_int_equal(lisp_prefix_parse(p, iid, &want), 0);
	mc_walk(e->mc, want.addr.afi, &want, find_iid_cb, &f);
	for (size_t i = 0; i < f.n; i++)
		if (lisp_prefix_equal(&f.all[i].p, &want)) {
			if (info)
				*info = f.all[i];
			return true;
		}
	return false;
}

/* What the data plane finds for address a of table iid. */
static struct mc_fwd lookup(struct env *e, uint32_t iid, const char *a)
{
	struct lisp_addr addr = A(a);
	struct mc_fwd f;

	mc_lookup_batch(e->mc, 1, &iid, &addr, &f);
	return f;
}

/* Replaces the configuration. */
static void reconfigure(struct env *e, const char *text)
{
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string("t", text, err, sizeof(err));

	assert_non_null(c);
	mc_configure(e->mc, &c->itr, c, 0);
	xtr_conf_free(e->conf);
	e->conf = c;
}

/*
 * Cache poisoning: only the records of a Map-Reply that answer the
 * question asked are installed: of the request's instance-id, the most
 * specific prefix covering the requested EID (the best match) and
 * more-specifics inside it; any other record is refused and counted,
 * whatever its nonce.
 */
static void test_reply_scope(void **state)
{
	struct env *e = *state;
	struct lisp_addr eid = A("10.1.1.10");
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	struct mc_info info;
	const struct rec poison[] = {
		{ 200, "0.0.0.0/0", 1440, NULL, LISP_ACT_NATIVE_FORWARD }, /* another tenant */
		{ 100, "10.1.1.0/24", 1440, "192.0.2.30", 0 },		   /* the answer */
		{ 100, "10.1.1.128/25", 1440, "192.0.2.31", 0 },	   /* inside it */
		{ 100, "10.9.0.0/16", 1440, NULL, LISP_ACT_DROP },	   /* elsewhere */
		{ 100, "0.0.0.0/1", 1440, NULL, LISP_ACT_DROP }, /* wider than the answer */
		{ 0, "10.1.1.0/24", 1440, NULL, LISP_ACT_DROP }, /* the default table */
	};
	const struct rec unrelated[] = { { 100, "10.2.0.0/16", 60, NULL, LISP_ACT_DROP } };
	const struct rec moved[] = { { 100, "10.1.1.10/32", 1440, "192.0.2.11", 0 } };
	struct lisp_map_request smr = { .smr = true, .itr_rloc_count = 1, .nonce = 5 };
	uint8_t buf[256];
	struct buf_writer w;

	reconfigure(e, "router lisp\n"
		       " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		       " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n");
	assert_int_equal(mc_resolve(e->mc, 100, &eid, 0), 0);
	request_of(0, &q, &ecm);
	reply_recs(e, q.nonce, poison, 6, 0.1);
	assert_int_equal(mc_counters(e->mc)->replies, 1);
	assert_false(cached_in(e, 200, "0.0.0.0/0", NULL));
	assert_false(cached_in(e, 100, "10.9.0.0/16", NULL));
	assert_false(cached_in(e, 0, "10.1.1.0/24", NULL));
	assert_true(cached_in(e, 100, "10.1.1.0/24", &info) && info.state == MC_COMPLETE);
	assert_true(cached_in(e, 100, "10.1.1.128/25", &info) && info.state == MC_COMPLETE);
	/* only the best match answers: a wider prefix would speak for all it covers */
	assert_false(cached_in(e, 100, "0.0.0.0/1", NULL));
	assert_false(cached_in(e, 100, "10.1.1.10/32", NULL)); /* the pending entry went */
	assert_int_equal(mc_counters(e->mc)->records_refused, 4);
	assert_int_equal(lookup(e, 200, "10.7.7.7").state, MC_MISS);
	/* a reply answering nothing asked: nothing installed, the resolution goes on */
	eid = A("10.1.3.3");
	assert_int_equal(mc_resolve(e->mc, 100, &eid, 1), 0);
	request_of(1, &q, &ecm);
	reply_recs(e, q.nonce, unrelated, 1, 1.1);
	assert_false(cached_in(e, 100, "10.2.0.0/16", NULL));
	assert_true(cached_in(e, 100, "10.1.3.3/32", &info) && info.state == MC_PENDING);
	assert_int_equal(mc_counters(e->mc)->records_refused, 5);
	mc_tick(e->mc, 2.1);
	assert_int_equal(nout, 3); /* asked again */
	/* a cached prefix asked again (SMR): a more-specific inside it is an answer too */
	smr.itr_rlocs[0] = A("192.0.2.10");
	assert_int_equal(lisp_prefix_parse("10.1.1.10/32", 100, &smr.src_eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &smr, &smr.src_eid, 1), 0);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 3);
	assert_int_equal(nout, 4);
	request_of(3, &q, &ecm);
	assert_true(q.smr_invoked);
	reply_recs(e, q.nonce, moved, 1, 3.1);
	assert_true(cached_in(e, 100, "10.1.1.10/32", &info) && info.state == MC_COMPLETE);
	assert_true(cached_in(e, 100, "10.1.1.0/24", NULL));
	assert_int_equal(mc_counters(e->mc)->records_refused, 5);
}

/*
 * Configured entries are never replaced, shortened or removed by what is
 * learned: a negative answer for a configured prefix leaves it as it is
 * (the requested EID alone gets the answer, so that it is not asked for
 * again at every packet); a positive one is used over it until it
 * expires or is cleared, and then the configured action is back.
 */
static void test_configured_kept(void **state)
{
	struct env *e = *state;
	struct lisp_addr a1 = A("198.51.100.7"), a2 = A("198.51.100.8");
	const struct rec neg[] = { { 0, "198.51.100.0/24", 1, NULL, LISP_ACT_NATIVE_FORWARD } };
	const struct rec pos[] = { { 0, "198.51.100.0/24", 1, "192.0.2.30", 0 } };
	const struct rec gone[] = { { 0, "198.51.100.0/24", 0, NULL, LISP_ACT_NATIVE_FORWARD } };
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	struct mc_info info;

	reconfigure(e, "router lisp\n"
		       " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		       " map-cache 198.51.100.0/24 map-request\n"
		       " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n");
	assert_int_equal(mc_resolve(e->mc, 0, &a1, 0), 0);
	request_of(0, &q, &ecm);
	reply_recs(e, q.nonce, neg, 1, 0.1);
	assert_true(cached_in(e, 0, "198.51.100.0/24", &info));
	assert_true(info.is_static && info.act == LISP_ACT_SEND_MAP_REQUEST && info.expires == 0);
	/* the EID asked about has its answer, for its minute */
	assert_true(cached_in(e, 0, "198.51.100.7/32", &info));
	assert_true(info.state == MC_NEGATIVE && info.act == LISP_ACT_NATIVE_FORWARD);
	assert_true(info.expires == 0.1 + 60);
	assert_int_equal(mc_resolve(e->mc, 0, &a1, 0.2), -EEXIST);
	assert_int_equal(lookup(e, 0, "198.51.100.9").act, LISP_ACT_SEND_MAP_REQUEST);
	/* a positive answer for the configured prefix: used until it expires */
	assert_int_equal(mc_resolve(e->mc, 0, &a2, 1), 0);
	request_of(1, &q, &ecm);
	reply_recs(e, q.nonce, pos, 1, 1.1);
	assert_true(cached_in(e, 0, "198.51.100.0/24", &info));
	assert_true(!info.is_static && info.state == MC_COMPLETE);
	assert_int_equal(lookup(e, 0, "198.51.100.9").state, MC_COMPLETE);
	mc_tick(e->mc, 1.1 + 60);
	assert_true(cached_in(e, 0, "198.51.100.0/24", &info));
	assert_true(info.is_static && info.act == LISP_ACT_SEND_MAP_REQUEST);
	/* cleared, or withdrawn with TTL 0: the configured entry again */
	assert_int_equal(mc_resolve(e->mc, 0, &a2, 62), 0);
	request_of(2, &q, &ecm);
	reply_recs(e, q.nonce, pos, 1, 62);
	assert_int_equal(mc_clear(e->mc, NULL), 1);
	assert_true(cached_in(e, 0, "198.51.100.0/24", &info) && info.is_static);
	assert_int_equal(mc_resolve(e->mc, 0, &a2, 63), 0);
	request_of(3, &q, &ecm);
	reply_recs(e, q.nonce, gone, 1, 63);
	assert_true(cached_in(e, 0, "198.51.100.0/24", &info) && info.is_static);
	assert_int_equal(info.act, LISP_ACT_SEND_MAP_REQUEST);
	assert_int_equal(mc_counters(e->mc)->records_refused, 0);
}

/*
 * A negative answer with action send-map-request (the Map-Server's hole
 * in a site prefix, TTL 1 minute): packets under it ask again, at most
 * once a second for the hole, and a positive answer takes over at once,
 * whether for the host or for a prefix covering the hole.
 */
static void test_negative_send_map_request(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm = A("10.77.1.20"), vm2 = A("10.77.1.21"), src = A("10.2.2.20");
	const struct rec hole[] = { { 0, "10.77.1.16/28", 1, NULL, LISP_ACT_SEND_MAP_REQUEST } };
	const struct rec host[] = { { 0, "10.77.1.20/32", 1440, "192.0.2.30", 0 } };
	const struct rec site[] = { { 0, "10.77.1.0/24", 1440, "192.0.2.31", 0 } };
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	struct mc_info info;

	reconfigure(e, "router lisp\n"
		       " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		       " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n");
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm, &src, 0), 0);
	request_of(0, &q, &ecm);
	reply_recs(e, q.nonce, hole, 1, 0.1);
	assert_true(cached_in(e, 0, "10.77.1.16/28", &info));
	assert_true(info.state == MC_NEGATIVE && info.expires == 0.1 + 60);
	assert_int_equal(lookup(e, 0, "10.77.1.20").state, MC_NEGATIVE);
	/* the packets that follow: one Map-Request a second for the hole, not one a packet */
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm, &src, 0.2), -EINPROGRESS);
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm2, &src, 0.5), -EINPROGRESS);
	assert_int_equal(nout, 1);
	/* the VM registered meanwhile: the next question finds it */
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm, &src, 1.0), 0);
	assert_int_equal(nout, 2);
	request_of(1, &q, &ecm);
	reply_recs(e, q.nonce, host, 1, 1.1);
	assert_int_equal(lookup(e, 0, "10.77.1.20").state, MC_COMPLETE);
	assert_int_equal(lookup(e, 0, "10.77.1.21").state, MC_NEGATIVE); /* the hole stays */
	/* a positive prefix covering the hole: the hole would hide it and goes */
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm2, &src, 1.5), -EINPROGRESS);
	assert_int_equal(mc_resolve_from(e->mc, 0, &vm2, &src, 2.1), 0);
	request_of(2, &q, &ecm);
	reply_recs(e, q.nonce, site, 1, 2.2);
	assert_false(cached_in(e, 0, "10.77.1.16/28", NULL));
	assert_int_equal(lookup(e, 0, "10.77.1.21").state, MC_COMPLETE);
	assert_true(cached_in(e, 0, "10.77.1.20/32", NULL)); /* more specific: kept */
	/* a hole's TTL is honoured */
	assert_int_equal(mc_resolve(e->mc, 0, &vm, 3), -EEXIST);
	reply_recs(e, 0, hole, 1, 3); /* unsolicited: nothing */
	assert_false(cached_in(e, 0, "10.77.1.16/28", NULL));
}

/*
 * The Map-Request for a packet's destination carries the packet's source
 * as Source-EID (RFC 9301 §5.3), in the instance-id's LCAF, also when
 * retransmitted; a request without a packet (lig) carries none.
 */
static void test_source_eid(void **state)
{
	struct env *e = *state;
	struct lisp_addr dst = A("10.1.1.10"), src = A("10.2.2.20"), other = A("10.1.1.11");
	struct lisp_map_request q;
	struct lisp_ecm ecm;

	assert_int_equal(mc_resolve_from(e->mc, 4100, &dst, &src, 0), 0);
	request_of(0, &q, &ecm);
	assert_true(lisp_addr_equal(&q.src_eid.addr, &src));
	assert_int_equal(q.src_eid.iid, 4100);
	assert_int_equal(q.src_eid.plen, 32);
	mc_tick(e->mc, 1); /* retransmitted */
	assert_int_equal(nout, 2);
	request_of(1, &q, &ecm);
	assert_true(lisp_addr_equal(&q.src_eid.addr, &src));
	assert_int_equal(mc_resolve(e->mc, 4100, &other, 1), 0);
	request_of(2, &q, &ecm);
	assert_int_equal(q.src_eid.addr.afi, LISP_AFI_NONE);
	assert_int_equal(q.src_eid.iid, 4100);
}

/* An SMR-invoked request names the host whose packet made us ask (spec TV6), not AFI 0. */
static void test_source_eid_smr_invoked(void **state)
{
	struct env *e = *state;
	struct lisp_addr dst = A("10.1.1.10"), src = A("10.2.2.20");
	struct lisp_map_request q, smr = { .smr = true, .itr_rloc_count = 1, .nonce = 9 };
	struct lisp_ecm ecm;
	uint8_t buf[256];
	struct buf_writer w;

	assert_int_equal(mc_resolve_from(e->mc, 0, &dst, &src, 0), 0);
	request_of(0, &q, &ecm);
	reply(e, q.nonce, "10.1.1.0/24", 1440, "192.0.2.10", 0.1);
	assert_true(cached(e, "10.1.1.0/24", NULL));
	smr.itr_rlocs[0] = A("192.0.2.30");
	assert_int_equal(lisp_prefix_parse("10.1.1.10/32", 0, &smr.src_eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &smr, &smr.src_eid, 1), 0);
	mc_input(e->mc, &smr.itr_rlocs[0], 4342, buf, w.off, 1);
	assert_int_equal(nout, 2);
	request_of(1, &q, &ecm);
	assert_true(q.smr_invoked);
	assert_true(lisp_addr_equal(&q.src_eid.addr, &src));
}

/* The RLOC-probe to dst among what was sent (its nonce), or 0. */
static uint64_t probe_to(const char *dst)
{
	struct lisp_addr d = A(dst);
	struct lisp_map_request q;

	for (int i = 0; i < nout; i++) {
		if (!lisp_addr_equal(&out[i].dst, &d) ||
		    lisp_msg_type(out[i].buf, out[i].len) != LISP_TYPE_MAP_REQUEST)
			continue;
		assert_int_equal(lisp_msg_decode_map_request(out[i].buf, out[i].len, &q), 0);
		assert_true(q.probe);
		return q.nonce;
	}
	return 0;
}

/* A probe reply (Map-Reply, P bit) with nonce from src. */
static void probe_answer(struct mapcache *mc, const char *src, uint64_t nonce, double now)
{
	struct lisp_map_reply m = { .nonce = nonce, .probe = true };
	struct lisp_locator l = { .priority = 1, .weight = 50, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .locs = &l, .authoritative = true
	};
	struct lisp_addr s = A(src);
	uint8_t buf[256];
	struct buf_writer w;

	l.addr[0] = s;
	assert_int_equal(lisp_prefix_parse("10.1.1.5/32", 0, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	mc_input(mc, &s, 4342, buf, w.off, now);
}

static int locs_cb(const struct mc_info *i, void *arg)
{
	bool *up = arg;

	for (uint8_t k = 0; k < i->nloc && k < 2; k++)
		up[k] = i->locs[k].up;
	return 0;
}

/*
 * RLOC-probing: a multihomed site's two gateways; one stops answering its
 * probes: down after 3 intervals (the data plane uses the other), a forged
 * reply does not bring it back, its own does.
 */
static void test_rloc_probing(void **state)
{
	static const char *text = "router lisp\n"
				  " database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
				  " ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
				  " rloc-probing interval 1000 misses 3\n";
	struct mc_io io = { .send = fake_send, .if_addr = fake_no_if_addr };
	struct lisp_locator l[2] = {
		{ .priority = 1, .weight = 50, .reachable = true, .naddr = 1 },
		{ .priority = 1, .weight = 50, .reachable = true, .naddr = 1 }
	};
	struct lisp_eid_record r = { .ttl = 1440, .loc_count = 2, .locs = l };
	struct lisp_addr h = A("10.1.1.5"), ms = A("192.0.2.1");
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	struct lisp_map_reply m = { 0 };
	struct xtr_conf *c;
	struct mapcache *mc;
	bool up[2];
	char err[256];
	uint8_t buf[256];
	struct buf_writer w;
	double t = 0;
	uint64_t n12;

	(void)state;
	c = xtr_conf_parse_string("probe", text, err, sizeof(err));
	assert_non_null(c);
	mc = mc_new(&io);
	mc_configure(mc, &c->itr, c, 0);
	nout = 0;
	assert_int_equal(mc_resolve(mc, 0, &h, 0), 0);
	request_of(0, &q, &ecm);
	l[0].addr[0] = A("192.0.2.10");
	l[1].addr[0] = A("192.0.2.12");
	assert_int_equal(lisp_prefix_parse("10.1.1.5/32", 0, &r.eid), 0);
	m.nonce = q.nonce;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	mc_input(mc, &ms, 4342, buf, w.off, 0);
	/* every interval both are probed, directly; only .10 answers */
	for (int k = 1; k <= 3; k++) {
		uint64_t n10;

		nout = 0;
		t = 1.3 * k;
		mc_tick(mc, t);
		n10 = probe_to("192.0.2.10");
		assert_true(n10 != 0 && probe_to("192.0.2.12") != 0);
		assert_int_equal(nout, 2);
		mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
		assert_true(up[0] && up[1]); /* not down before 3 probes unanswered */
		probe_answer(mc, "192.0.2.10", n10, t + 0.01);
	}
	nout = 0;
	mc_tick(mc, 1.3 * 4);
	mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
	assert_true(up[0] && !up[1]);
	assert_int_equal(mc_counters(mc)->rlocs_down, 1);
	n12 = probe_to("192.0.2.12"); /* probed on */
	assert_true(n12 != 0);
	/* its probe's nonce from another address: nothing */
	probe_answer(mc, "192.0.2.66", n12, 5.3);
	mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
	assert_false(up[1]);
	/* a reply to no probe of ours: nothing */
	probe_answer(mc, "192.0.2.12", 12345, 5.3);
	mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
	assert_false(up[1]);
	/* the mapping learned again keeps what the probes found */
	assert_int_equal(mc_clear(mc, NULL), 1);
	nout = 0;
	assert_int_equal(mc_resolve(mc, 0, &h, 5.3), 0);
	request_of(0, &q, &ecm);
	m.nonce = q.nonce;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	mc_input(mc, &ms, 4342, buf, w.off, 5.3);
	mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
	assert_true(up[0] && !up[1]);
	/* it answers: up again */
	probe_answer(mc, "192.0.2.12", n12, 5.4);
	mc_walk(mc, LISP_AFI_IPV4, NULL, locs_cb, up);
	assert_true(up[0] && up[1]);
	assert_int_equal(mc_counters(mc)->rlocs_up, 1);
	assert_int_equal(mc_counters(mc)->probe_replies, 4);
	mc_free(mc);
	xtr_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_and_install, setup, teardown),
		cmocka_unit_test(test_rloc_probing),
		cmocka_unit_test_setup_teardown(test_retries_and_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_smr_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_send_map_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_eid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_eid_smr_invoked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
