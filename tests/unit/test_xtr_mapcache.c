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
	mc_configure(e->mc, e->conf, 0);
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
};

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
	mc_configure(e->mc, c, 0);
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
	mc_configure(e->mc, c, 2);
	xtr_conf_free(e->conf);
	e->conf = c;
	assert_int_equal(mc_outstanding(e->mc), 16);
	assert_int_equal(mc_outstanding_iid(e->mc, 100), 2);
	assert_int_equal(mc_resolve(e->mc, 500, &a1, 2), 0);
	reply(e, q.nonce, "10.1.1.0/24", 60, "192.0.2.10", 2.1);
	assert_true(cached(e, "10.1.1.0/24", NULL));
	assert_int_equal(mc_outstanding(e->mc), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_and_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_and_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_smr_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
