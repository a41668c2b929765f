/* Map-Server / Map-Resolver engine with a fake network and a fake clock. */
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
#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"

#define KEY "s3cret"

static const char *conf_text = "router lisp\n"
			       " site DC\n"
			       "  authentication-key " KEY "\n"
			       "  eid-prefix instance-id 4100 10.1.1.0/24 accept-more-specifics\n"
			       " site BRANCH\n"
			       "  authentication-key branchkey\n"
			       "  eid-prefix 10.2.2.0/24\n"
			       "  strict-nonce\n"
			       " site LOCKED\n"
			       "  authentication-key lockedkey\n"
			       "  eid-prefix 10.3.0.0/16 accept-more-specifics\n"
			       "  allowed-locator 192.0.2.99\n"
			       " ipv4 map-server\n"
			       " ipv4 map-resolver\n";

/* What the engine sent. */
static int fake_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		     size_t len)
{
	if (dst->afi != LISP_AFI_IPV4)
		return -EAFNOSUPPORT; /* like a daemon with IPv4 sockets only */
	return capture_send(arg, dst, dport, buf, len);
}

struct env {
	struct xtr_conf *conf;
	struct ms *ms;
	struct xtr_counters gc;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ms_io io = { .send = fake_send };
	char err[256];

	e->conf = xtr_conf_parse_string("test", conf_text, err, sizeof(err));
	assert_non_null(e->conf);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, e->conf, 0);
	nout = 0;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	ms_free(e->ms);
	xtr_conf_free(e->conf);
	free(e);
	return 0;
}

struct reg_opts {
	const char *key, *eid, *rloc, *rloc2;
	uint32_t iid, ttl;
	uint64_t nonce;
	bool notify, proxy;
};

/* Builds and feeds a signed Map-Register from src:4342 at time now. */
static void reg(struct env *e, const char *src, struct reg_opts o, double now)
{
	struct lisp_map_register m = { .want_map_notify = o.notify,
				       .proxy_reply = o.proxy,
				       .nonce = o.nonce,
				       .auth = { .alg_id = 2 } };
	struct lisp_locator l[2] = {
		{ .priority = 1, .weight = 50, .reachable = true, .naddr = 1 },
		{ .priority = 1, .weight = 50, .reachable = true, .naddr = 1 }
	};
	struct lisp_eid_record r = { .ttl = o.ttl ? o.ttl : 1440,
				     .loc_count = o.rloc2 ? 2 : 1,
				     .locs = l,
				     .authoritative = true };
	const char *key = o.key ? o.key : KEY;
	struct lisp_auth_key *k = lisp_auth_key_new(key, strlen(key));
	struct lisp_addr s = A(src);
	uint8_t buf[512];
	struct buf_writer w;

	if (o.ttl == (uint32_t)-1)
		r.ttl = 0;
	l[0].addr[0] = A(o.rloc ? o.rloc : src);
	if (o.rloc2)
		l[1].addr[0] = A(o.rloc2);
	assert_int_equal(lisp_prefix_parse(o.eid, o.iid, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	ms_input(e->ms, &s, 4342, buf, w.off, now);
}

static const struct ms_site *site(struct env *e, const char *name)
{
	const struct ms_site *s = ms_site_by_name(e->ms, name);

	assert_non_null(s);
	return s;
}

struct find {
	struct lisp_prefix p;
	const struct ms_row *row;
	struct ms_row copy;
};

static int find_row(const struct ms_row *row, void *arg)
{
	struct find *f = arg;

	if (lisp_prefix_equal(&row->p, &f->p)) {
		f->copy = *row;
		f->row = &f->copy;
	}
	return 0;
}

/* The registration of prefix s (iid) in site name, or NULL. */
static const struct ms_reg *registered(struct env *e, const char *name, const char *s, uint32_t iid)
{
	struct find f = { 0 };

	assert_int_equal(lisp_prefix_parse(s, iid, &f.p), 0);
	ms_site_rows(e->ms, site(e, name), find_row, &f);
	return f.row ? f.row->reg : NULL;
}

static int nregistrants(const struct ms_reg *r)
{
	struct ms_registrant_info ri;
	int n = 0;

	for (const struct ms_registrant *it = ms_reg_registrants(r); it;
	     it = ms_registrant_info(it, &ri))
		n++;
	return n;
}

static void test_register_and_ack(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct lisp_addr dc1 = A("192.0.2.10");
	struct lisp_map_notify n;
	struct ms_reg_info ri;

	reg(e, "192.0.2.10",
	    (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100, .nonce = 7, .notify = true },
	    100);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &dc1));
	assert_int_equal(out[0].port, 4342);
	assert_int_equal(lisp_msg_decode_map_notify(out[0].buf, out[0].len, &n), 0);
	assert_false(n.ack);
	assert_int_equal(n.nonce, 7);
	assert_int_equal(n.records.count, 1);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	ms_reg_info(registered(e, "DC", "10.1.1.10/32", 4100), &ri);
	assert_true(ri.first == 100 && ri.last == 100 && ri.want_map_notify && ri.ttl == 1440);
	assert_int_equal(ms_site_counters(site(e, "DC"))->registrations, 1);
	/* without M no ack */
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.11/32", .iid = 4100 }, 101);
	assert_int_equal(nout, 1);
	lisp_auth_key_free(k);
}

/* A Map-Register with one allowed and one refused record is acknowledged for the first only. */
static void test_partial_ack(void **state)
{
	struct env *e = *state;
	struct lisp_map_register m = { .want_map_notify = true,
				       .nonce = 9,
				       .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r[2] = { { .ttl = 1440, .loc_count = 1, .locs = &l },
					{ .ttl = 1440, .loc_count = 1, .locs = &l } };
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct lisp_addr src = A("192.0.2.10");
	struct lisp_map_notify n;
	struct lisp_eid_record got;
	struct lisp_iter it;
	uint8_t buf[512];
	struct buf_writer w;

	l.addr[0] = src;
	assert_int_equal(lisp_prefix_parse("10.1.1.10/32", 4100, &r[0].eid), 0);
	assert_int_equal(lisp_prefix_parse("10.9.9.9/32", 4100, &r[1].eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, r, 2), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	ms_input(e->ms, &src, 4342, buf, w.off, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(lisp_msg_decode_map_notify(out[0].buf, out[0].len, &n), 0);
	assert_int_equal(n.records.count, 1);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	lisp_record_iter_init(&it, &n.records);
	assert_true(lisp_record_iter_next(&it, &got));
	assert_true(lisp_prefix_equal(&got.eid, &r[0].eid));
	assert_int_equal(ms_site_counters(site(e, "DC"))->prefix_rejects, 1);
	lisp_auth_key_free(k);
}

static void test_refusals(void **state)
{
	struct env *e = *state;
	const struct ms_site_counters *dc = ms_site_counters(site(e, "DC"));
	const struct ms_site_counters *br = ms_site_counters(site(e, "BRANCH"));
	const struct ms_site_counters *lk = ms_site_counters(site(e, "LOCKED"));

	reg(e, "192.0.2.10",
	    (struct reg_opts){ .key = "wrong", .eid = "10.1.1.10/32", .iid = 4100, .notify = true },
	    1);
	assert_int_equal(dc->auth_failures, 1);
	/* the right prefix in the wrong instance-id is in no site */
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .notify = true }, 1);
	assert_int_equal(e->gc.unknown_eid, 1);
	/* a more-specific of a prefix without accept-more-specifics */
	reg(e, "192.0.2.20",
	    (struct reg_opts){
		    .key = "branchkey", .eid = "10.2.2.5/32", .nonce = 1, .notify = true },
	    1);
	assert_int_equal(br->prefix_rejects, 1);
	/* a locator that is not allowed */
	reg(e, "192.0.2.50",
	    (struct reg_opts){ .key = "lockedkey", .eid = "10.3.1.0/24", .notify = true }, 1);
	assert_int_equal(lk->allowed_locator_mismatches, 1);
	reg(e, "192.0.2.50",
	    (struct reg_opts){ .key = "lockedkey",
			       .eid = "10.3.1.0/24",
			       .rloc = "192.0.2.99",
			       .notify = true },
	    1);
	assert_non_null(registered(e, "LOCKED", "10.3.1.0/24", 0));
	assert_int_equal(nout, 1); /* only the last one was acknowledged */
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	assert_null(registered(e, "BRANCH", "10.2.2.5/32", 0));
	/* garbage */
	ms_input(e->ms, &(struct lisp_addr){ .afi = LISP_AFI_IPV4 }, 1, (const uint8_t *)"\x30", 1,
		 1);
	assert_int_equal(e->gc.malformed, 1);
}

static void test_strict_nonce(void **state)
{
	struct env *e = *state;
	const struct ms_site_counters *br = ms_site_counters(site(e, "BRANCH"));
	struct reg_opts o = {
		.key = "branchkey", .eid = "10.2.2.0/24", .nonce = 5, .notify = true
	};

	reg(e, "192.0.2.20", o, 1);
	reg(e, "192.0.2.20", o, 2); /* the same nonce again: a replay */
	assert_int_equal(br->nonce_replays, 1);
	o.nonce = 4;
	reg(e, "192.0.2.20", o, 3);
	assert_int_equal(br->nonce_replays, 2);
	o.nonce = 6;
	reg(e, "192.0.2.20", o, 4);
	assert_int_equal(br->registrations, 2);
	assert_int_equal(nout, 2);
	/* the counter is per xTR: another address starts its own */
	o.nonce = 1;
	reg(e, "192.0.2.21", o, 5);
	assert_int_equal(br->registrations, 3);
}

static void test_expiry_and_refresh(void **state)
{
	struct env *e = *state;
	struct reg_opts o = { .eid = "10.1.1.10/32", .iid = 4100 };

	reg(e, "192.0.2.10", o, 0);
	ms_tick(e->ms, 179);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	reg(e, "192.0.2.10", o, 100); /* refresh: now expires at 280 */
	ms_tick(e->ms, 181);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	ms_tick(e->ms, 281);
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	assert_int_equal(ms_site_counters(site(e, "DC"))->expirations, 1);
}

static void test_ttl0_deregisters(void **state)
{
	struct env *e = *state;
	struct reg_opts o = { .eid = "10.1.1.10/32", .iid = 4100 };

	reg(e, "192.0.2.10", o, 0);
	o.ttl = (uint32_t)-1;	    /* TTL 0 */
	reg(e, "192.0.2.11", o, 1); /* not a registrant: nothing happens */
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	reg(e, "192.0.2.10", o, 2);
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	assert_int_equal(ms_site_counters(site(e, "DC"))->deregistrations, 1);
}

static void test_multihoming(void **state)
{
	struct env *e = *state;
	struct reg_opts o = {
		.eid = "10.1.1.0/24", .iid = 4100, .rloc = "192.0.2.10", .rloc2 = "192.0.2.11"
	};

	reg(e, "192.0.2.10", o, 0);
	o.rloc = "192.0.2.11"; /* the other gateway lists the same two locators */
	o.rloc2 = "192.0.2.10";
	reg(e, "192.0.2.11", o, 1);
	assert_int_equal(nregistrants(registered(e, "DC", "10.1.1.0/24", 4100)), 2);
	assert_int_equal(nout, 0);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 0);
}

/* Decodes a sent Map-Notify; returns its first record's first locator. */
static struct lisp_addr notify_locator(const struct sent *s, uint64_t *nonce)
{
	struct lisp_map_notify n;
	struct lisp_eid_record r;
	struct lisp_locator l;
	struct lisp_iter it, lit;

	assert_int_equal(lisp_msg_decode_map_notify(s->buf, s->len, &n), 0);
	*nonce = n.nonce;
	lisp_record_iter_init(&it, &n.records);
	assert_true(lisp_record_iter_next(&it, &r));
	lisp_locator_iter_init(&lit, &r);
	assert_true(lisp_locator_iter_next(&lit, &l));
	return l.addr[0];
}

static void test_move_notifies_old_registrant(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct lisp_addr dc1 = A("192.0.2.10"), dc2 = A("192.0.2.30"), loc;
	uint64_t nonce;
	uint8_t ack[2048];

	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.0/24", .iid = 4100 }, 0);
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 10);
	/* one notify to DC1 (it had the /32 and the covering /24) */
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &dc1));
	assert_int_equal(out[0].port, 4342);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	loc = notify_locator(&out[0], &nonce);
	assert_true(lisp_addr_equal(&loc, &dc2));
	assert_int_equal(nregistrants(registered(e, "DC", "10.1.1.10/32", 4100)), 1);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 1);
	/* refreshes of the new owner notify nobody again */
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 20);
	ms_tick(e->ms, 12); /* no ack yet: retransmitted at 13 */
	assert_int_equal(nout, 1);
	ms_tick(e->ms, 13);
	assert_int_equal(nout, 2);
	assert_memory_equal(out[1].buf, out[0].buf, out[0].len);
	/* DC1 acknowledges: no more retransmissions */
	memcpy(ack, out[0].buf, out[0].len);
	ack[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY_ACK << 4);
	assert_int_equal(lisp_auth_sign(k, ack, out[0].len), 0);
	ms_input(e->ms, &dc1, 4342, ack, out[0].len, 14);
	assert_int_equal(ms_site_counters(site(e, "DC"))->map_notify_acks, 1);
	for (double t = 14; t < 100; t += 1)
		ms_tick(e->ms, t);
	assert_int_equal(nout, 2);
	lisp_auth_key_free(k);
}

/*
 * A restart with the state file: the registrations come back (not the
 * expired one, not one of a site no longer configured), and a move right
 * after the restart still tells the old site. A bad file changes nothing.
 */
static void test_state_across_restart(void **state)
{
	struct env *e = *state;
	struct ms_io io = { .send = fake_send };
	char path[] = "/tmp/test_xtr_site_state_XXXXXX", err[256];
	struct lisp_addr dc1 = A("192.0.2.10"), dc2 = A("192.0.2.30"), loc;
	uint64_t nonce;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	reg(e, "192.0.2.10",
	    (struct reg_opts){
		    .eid = "10.1.1.10/32", .iid = 4100, .proxy = true, .rloc2 = "192.0.2.11" },
	    0);
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.11/32", .iid = 4100 }, 0);
	reg(e, "192.0.2.20",
	    (struct reg_opts){ .key = "branchkey", .eid = "10.2.2.0/24", .nonce = 1 }, 0);
	reg(e, "192.0.2.20",
	    (struct reg_opts){ .key = "branchkey", .eid = "10.2.2.0/24", .nonce = 2 }, 150);
	assert_true(ms_dirty(e->ms));
	assert_int_equal(ms_save(e->ms, path, 170), 0);
	assert_false(ms_dirty(e->ms));

	/* "restart" at 200: 10.1.1.10 and .11 (last registered at 0) expired at 180 */
	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, e->conf, 200);
	assert_int_equal(ms_load(e->ms, path, 200, err, sizeof(err)), 1);
	assert_non_null(registered(e, "BRANCH", "10.2.2.0/24", 0));
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));

	/* restart at 100 instead: all three back, with their locators and flags */
	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, e->conf, 100);
	assert_int_equal(ms_load(e->ms, path, 100, err, sizeof(err)), 3);
	assert_non_null(registered(e, "DC", "10.1.1.11/32", 4100));
	{
		const struct ms_reg *r = registered(e, "DC", "10.1.1.10/32", 4100);
		struct ms_registrant_info ri;

		assert_non_null(r);
		assert_int_equal(nregistrants(r), 1);
		ms_registrant_info(ms_reg_registrants(r), &ri);
		assert_true(lisp_addr_equal(&ri.addr, &dc1));
		assert_int_equal(ri.nloc, 2);
		assert_true(ri.last == 0);
	}
	/* the VM moves right after the restart: DC1 is told */
	nout = 0;
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 101);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &dc1));
	loc = notify_locator(&out[0], &nonce);
	assert_true(lisp_addr_equal(&loc, &dc2));
	/* what is taken back still expires */
	ms_tick(e->ms, 181);
	assert_null(registered(e, "DC", "10.1.1.11/32", 4100));

	/* a damaged file: an error naming the line, and nothing taken */
	f = fopen(path, "a");
	fprintf(f, "R 0 10.2.2.0/24 BRANCH 0 1440 0 0 192.0.2.21 4342 - 150 180 1 192.0.2.21 1\n");
	fclose(f);
	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, e->conf, 100);
	assert_int_equal(ms_load(e->ms, path, 100, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5: malformed registration"));
	assert_null(registered(e, "BRANCH", "10.2.2.0/24", 0));
	/* not a state file at all; a missing one is no error */
	f = fopen(path, "w");
	fprintf(f, "router lisp\n");
	fclose(f);
	assert_int_equal(ms_load(e->ms, path, 100, err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_int_equal(ms_load(e->ms, path, 100, err, sizeof(err)), 0);
}

static void test_notify_retransmit_schedule(void **state)
{
	struct env *e = *state;
	const double at[] = { 3, 6, 9, 15, 27, 51 };
	int sends = 1;

	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	assert_int_equal(nout, 1);
	for (double t = 0; t <= 120; t += 0.5) {
		ms_tick(e->ms, t);
		if (sends < 7 && t == at[sends - 1])
			sends++;
		assert_int_equal(nout, sends);
	}
	assert_int_equal(ms_site_counters(site(e, "DC"))->map_notify_giveups, 1);
	/* an ack signed with the wrong key, after the fact, matches nothing */
	assert_int_equal(e->gc.acks_unmatched, 0);
}

/* Feeds an ECM Map-Request for eid (iid) from ITR 192.0.2.20:50000; returns the ECM length. */
static size_t request(struct env *e, const char *eid, uint32_t iid, uint8_t *ecm)
{
	struct lisp_map_request q = { .nonce = 0xabc, .itr_rloc_count = 1 };
	struct lisp_ecm m = {
		.inner = { .src = A("192.0.2.20"), .sport = 50000, .dport = 4342, .ttl = 64 }
	};
	struct lisp_prefix p;
	uint8_t req[256];
	struct buf_writer w;
	size_t len;

	assert_int_equal(lisp_prefix_parse(eid, iid, &p), 0);
	q.itr_rlocs[0] = A("192.0.2.20");
	m.inner.dst = p.addr;
	buf_writer_init(&w, req, sizeof(req));
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, &p, 1), 0);
	len = w.off;
	buf_writer_init(&w, ecm, 512);
	assert_int_equal(lisp_msg_encode_ecm(&w, &m, req, len), 0);
	ms_input(e->ms, &m.inner.src, 50000, ecm, w.off, 0);
	return w.off;
}

static void reply_record(const struct sent *s, struct lisp_eid_record *r)
{
	struct lisp_map_reply m;
	struct lisp_iter it;

	assert_int_equal(s->port, 50000);
	assert_int_equal(lisp_msg_decode_map_reply(s->buf, s->len, &m), 0);
	assert_int_equal(m.nonce, 0xabc);
	lisp_record_iter_init(&it, &m.records);
	assert_true(lisp_record_iter_next(&it, r));
}

static void test_map_resolver(void **state)
{
	struct env *e = *state;
	struct lisp_addr etr = A("192.0.2.30");
	struct lisp_eid_record r;
	struct lisp_prefix want;
	uint8_t ecm[512];
	size_t len;

	/* not a LISP EID: the shortest prefix that holds no site prefix, 15 minutes */
	request(e, "172.16.1.1/32", 0, ecm);
	reply_record(&out[0], &r);
	assert_int_equal(lisp_prefix_parse("128.0.0.0/1", 0, &want), 0);
	assert_true(lisp_prefix_equal(&r.eid, &want));
	assert_true(r.ttl == 15 && r.loc_count == 0 && r.act == LISP_ACT_NATIVE_FORWARD);
	/* in a site, not registered: the site prefix, 1 minute */
	request(e, "10.1.1.10/32", 4100, ecm);
	reply_record(&out[1], &r);
	assert_int_equal(lisp_prefix_parse("10.1.1.0/24", 4100, &want), 0);
	assert_true(lisp_prefix_equal(&r.eid, &want) && r.ttl == 1 && r.loc_count == 0);
	/* registered: the ECM goes unchanged to the ETR's locator */
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	len = request(e, "10.1.1.10/32", 4100, ecm);
	assert_int_equal(nout, 3);
	assert_true(lisp_addr_equal(&out[2].dst, &etr));
	assert_int_equal(out[2].port, 4342);
	assert_int_equal(out[2].len, len);
	/* unchanged but for the E bit ("forwarded to an ETR") */
	assert_int_equal(out[2].buf[0], ecm[0] | LISP_ECM_E_BIT);
	assert_memory_equal(out[2].buf + 1, ecm + 1, len - 1);
	/* and an E=1 ECM is never resolved again: a Map-Resolver cannot forward to itself */
	ms_input(e->ms, &etr, 4342, out[2].buf, out[2].len, 0);
	assert_int_equal(nout, 3);
	assert_int_equal(ms_site_counters(site(e, "DC"))->map_requests_forwarded, 1);
	/* registered with proxy-reply: the MS answers, not authoritative */
	reg(e, "192.0.2.40",
	    (struct reg_opts){ .eid = "10.1.1.20/32",
			       .iid = 4100,
			       .rloc = "192.0.2.40",
			       .rloc2 = "192.0.2.41",
			       .proxy = true },
	    0);
	request(e, "10.1.1.20/32", 4100, ecm);
	reply_record(&out[3], &r);
	assert_true(r.loc_count == 2 && !r.authoritative && r.ttl == 1440);
	assert_int_equal(ms_site_counters(site(e, "DC"))->map_requests_proxied, 1);
}

/* Builds a signed Map-Register for eid from src (an ETR at that address). */
static size_t build_register(const char *eid, const char *src, uint8_t *buf)
{
	struct lisp_map_register m = { .nonce = 1, .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 1440, .loc_count = 1, .locs = &l };
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct buf_writer w;

	l.addr[0] = A(src);
	assert_int_equal(lisp_prefix_parse(eid, 4100, &r.eid), 0);
	buf_writer_init(&w, buf, 512);
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	return w.off;
}

/* A receive batch answers as the same packets one by one would, in order. */
static void test_batch_in_order(void **state)
{
	struct env *e = *state;
	uint8_t pkts[5][512];
	struct ms_pkt pk[5];
	struct lisp_eid_record r;
	struct lisp_addr etr;

	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	pk[0].len = request(e, "10.1.1.10/32", 4100, pkts[0]); /* registered: forwarded */
	pk[1].len = request(e, "10.1.1.20/32", 4100, pkts[1]); /* not yet: negative */
	pk[2].len = build_register("10.1.1.20/32", "192.0.2.40", pkts[2]);
	pk[3].len = request(e, "10.1.1.20/32", 4100, pkts[3]); /* now registered: forwarded */
	pk[4].len = 3;					       /* garbage */
	memcpy(pkts[4], "\x80\x00\x00", 3);
	nout = 0;
	for (int i = 0; i < 5; i++) {
		pk[i].src = A(i == 2 ? "192.0.2.40" : "192.0.2.20");
		pk[i].sport = i == 2 ? 4342 : 50000;
		pk[i].buf = pkts[i];
	}
	ms_input_batch(e->ms, pk, 5, 1);
	assert_int_equal(nout, 3);
	etr = A("192.0.2.30");
	assert_true(lisp_addr_equal(&out[0].dst, &etr));
	assert_int_equal(lisp_msg_type(out[0].buf, out[0].len), LISP_TYPE_ECM);
	reply_record(&out[1], &r);
	assert_true(r.ttl == 1 && r.loc_count == 0);
	etr = A("192.0.2.40");
	assert_true(lisp_addr_equal(&out[2].dst, &etr));
	assert_int_equal(lisp_msg_type(out[2].buf, out[2].len), LISP_TYPE_ECM);
	assert_int_equal(e->gc.malformed, 1);
	assert_int_equal(e->gc.map_requests, 3 + 3); /* three before, fed one by one by request() */
}

static void test_reconfigure(void **state)
{
	struct env *e = *state;
	char err[256];
	struct xtr_conf *c2;

	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 0);
	reg(e, "192.0.2.20",
	    (struct reg_opts){ .key = "branchkey", .eid = "10.2.2.0/24", .nonce = 1 }, 0);
	/* BRANCH goes away; DC keeps its prefix but no longer accepts more-specifics */
	c2 = xtr_conf_parse_string("new",
				   "router lisp\n site DC\n  authentication-key " KEY
				   "\n  eid-prefix instance-id 4100 10.1.1.0/24\n"
				   " ipv4 map-server\n",
				   err, sizeof(err));
	assert_non_null(c2);
	ms_configure(e->ms, c2, 1);
	xtr_conf_free(e->conf);
	e->conf = c2;
	assert_null(ms_site_by_name(e->ms, "BRANCH"));
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.0/24", .iid = 4100 }, 2);
	assert_non_null(registered(e, "DC", "10.1.1.0/24", 4100));
	assert_int_equal(ms_site_counters(site(e, "DC"))->registrations, 2); /* kept */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl0_deregisters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multihoming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_notifies_old_registrant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_retransmit_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_resolver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_in_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
