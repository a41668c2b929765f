/* The Map-Server / Map-Resolver engine (xtr-gateway/ms/) with a fake network and a fake clock. */
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
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, 0);
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
	bool merge;	  /* the "a" bit */
	uint8_t xtr_id;	  /* non-zero: an xTR-ID of 16 such bytes */
	uint64_t site_id; /* with xtr_id: the Site-ID */
	bool ttl_expiry;  /* T: keep it for the Record TTL */
	uint8_t alg;	  /* 0: HMAC-SHA-256 */
};

/* Nonces of Map-Registers that name none: increasing, as strict-nonce (the default) wants. */
static uint64_t auto_nonce = 1000000;

/* Builds and feeds a signed Map-Register from src:4342 at time now (nonce 0: the next auto one). */
static void reg(struct env *e, const char *src, struct reg_opts o, double now)
{
	struct lisp_map_register m = { .want_map_notify = o.notify,
				       .proxy_reply = o.proxy,
				       .merge = o.merge,
				       .xtr_id_present = o.xtr_id != 0,
				       .nonce = o.nonce ? o.nonce : ++auto_nonce,
				       .ttl_expiry = o.ttl_expiry,
				       .auth = { .alg_id = o.alg ? o.alg : 2 } };
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

	memset(m.xtr_id, o.xtr_id, sizeof(m.xtr_id));
	m.site_id = o.site_id;
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
	/*
	 * 4 after 5: sent before it, come later (Map-Registers sent together, one per
	 * EID, reordered on the way). Found by tests/sim (issue 19): refused, an ETR's
	 * refreshes sent together kept losing all but the last until they expired.
	 */
	o.nonce = 4;
	reg(e, "192.0.2.20", o, 3);
	assert_int_equal(br->nonce_replays, 1);
	assert_int_equal(br->registrations, 2);
	reg(e, "192.0.2.20", o, 3); /* but once only */
	assert_int_equal(br->nonce_replays, 2);
	o.nonce = 6;
	reg(e, "192.0.2.20", o, 4);
	assert_int_equal(br->registrations, 3);
	assert_int_equal(nout, 3);
	/* the window is the last MS_NONCE_RECENT nonces taken: below it, refused */
	for (uint64_t n = 100; n < 100 + MS_NONCE_RECENT; n++) {
		o.nonce = n;
		reg(e, "192.0.2.20", o, 5);
	}
	assert_int_equal(br->registrations, 3 + MS_NONCE_RECENT);
	o.nonce = 7; /* never seen, but older than the whole window */
	reg(e, "192.0.2.20", o, 6);
	assert_int_equal(br->nonce_replays, 3);
	o.nonce = 99;
	reg(e, "192.0.2.20", o, 6);
	assert_int_equal(br->nonce_replays, 4);
	/* the counter is per xTR: another address starts its own */
	o.nonce = 1;
	reg(e, "192.0.2.21", o, 7);
	assert_int_equal(br->registrations, 4 + MS_NONCE_RECENT);
}

/* conf_text with `from` (its first occurrence) replaced by `to`; caller frees the result. */
static struct xtr_conf *conf_with(const char *from, const char *to)
{
	const char *at = strstr(conf_text, from);
	char text[2048], err[256];
	struct xtr_conf *c;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - conf_text), conf_text, to,
		 at + strlen(from));
	c = xtr_conf_parse_string("test", text, err, sizeof(err));
	assert_non_null(c);
	return c;
}

/* A configuration for the running engine (a reload); the old one is freed. */
static void reconfigure(struct env *e, struct xtr_conf *c, double now)
{
	ms_configure(e->ms, &c->msmr, &c->reply, now);
	xtr_conf_free(e->conf);
	e->conf = c;
}

/* The engine restarted at now with the state file path (its registrations: want). */
static void restart(struct env *e, const char *path, double now, int want)
{
	struct ms_io io = { .send = fake_send };
	char err[256];

	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, now);
	assert_int_equal(ms_load(e->ms, path, now, err, sizeof(err)), want);
	nout = 0;
}

/* strict-nonce is the default: a site that says nothing refuses a replayed Map-Register. */
static void test_nonce_strict_by_default(void **state)
{
	struct env *e = *state;
	const struct ms_site_counters *dc = ms_site_counters(site(e, "DC"));
	struct reg_opts o = { .eid = "10.1.1.10/32", .iid = 4100, .nonce = 50, .notify = true };

	assert_true(ms_site_conf(site(e, "DC"))->strict_nonce);
	reg(e, "192.0.2.10", o, 1);
	assert_int_equal(nout, 1);
	reg(e, "192.0.2.10", o, 2); /* replayed: no Map-Notify, nothing changes */
	assert_int_equal(dc->nonce_replays, 1);
	assert_int_equal(dc->registrations, 1);
	assert_int_equal(nout, 1);
	/* with an xTR-ID the counter is the xTR's, wherever it sends from */
	o = (struct reg_opts){ .eid = "10.1.1.20/32", .iid = 4100, .nonce = 60, .xtr_id = 7 };
	reg(e, "192.0.2.11", o, 3);
	reg(e, "192.0.2.12", o, 4);
	assert_int_equal(dc->nonce_replays, 2);
	o.nonce = 61;
	reg(e, "192.0.2.12", o, 5);
	assert_int_equal(dc->registrations, 3);
}

/*
 * The nonces survive a restart (the state file): Map-Registers captured
 * before it are refused after it. They belong to the site's key: a new key
 * starts afresh, on reload and across a restart.
 */
static void test_nonce_replay_after_restart(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/test_xtr_site_nonce_XXXXXX";
	struct reg_opts o = { .eid = "10.1.1.10/32", .iid = 4100, .nonce = 500, .notify = true };
	struct reg_opts x = { .eid = "10.1.1.20/32", .iid = 4100, .nonce = 800, .xtr_id = 9 };
	const struct ms_site_counters *dc;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	reg(e, "192.0.2.10", o, 1);
	reg(e, "192.0.2.40", x, 1);
	assert_int_equal(ms_site_counters(site(e, "DC"))->registrations, 2);
	assert_true(ms_dirty(e->ms));
	assert_false(ms_dirty_urgent(e->ms)); /* new registrations: the 10 s cadence */
	assert_int_equal(ms_save(e->ms, path, 2), 0);
	assert_false(ms_dirty(e->ms));
	/*
	 * A withdrawal is urgent (found by tests/sim, issue 19): a Map-Server that
	 * crashed before its next write took the registration back from the older
	 * file and answered for a VM that had left, until it expired (3 min).
	 */
	x.ttl = (uint32_t)-1;
	x.nonce = 801;
	reg(e, "192.0.2.40", x, 2);
	assert_true(ms_dirty(e->ms) && ms_dirty_urgent(e->ms));
	assert_int_equal(ms_save(e->ms, path, 2), 0);
	assert_false(ms_dirty(e->ms) || ms_dirty_urgent(e->ms));
	x.ttl = 0;
	x.nonce = 802;
	reg(e, "192.0.2.40", x, 2); /* (back, for what follows) */
	assert_int_equal(ms_save(e->ms, path, 2), 0);
	x.nonce = 800;

	restart(e, path, 3, 2);
	dc = ms_site_counters(site(e, "DC"));
	reg(e, "192.0.2.10", o, 4); /* the captured messages again */
	reg(e, "192.0.2.41", x, 4); /* by xTR-ID, from another address */
	assert_int_equal(dc->nonce_replays, 2);
	assert_int_equal(dc->registrations, 0);
	assert_int_equal(nout, 0);
	o.nonce = 501;
	reg(e, "192.0.2.10", o, 5);
	assert_int_equal(dc->registrations, 1);
	assert_int_equal(nout, 1);

	/* a new key (reload): nonce 500 under it is no replay */
	reconfigure(e, conf_with(KEY, "n3wkey"), 6);
	o.key = "n3wkey";
	o.nonce = 500;
	reg(e, "192.0.2.10", o, 7);
	assert_int_equal(dc->registrations, 2);
	assert_int_equal(dc->nonce_replays, 2);
	/* ... and across a restart with that key it is kept */
	assert_int_equal(ms_save(e->ms, path, 8), 0);
	restart(e, path, 9, 2);
	dc = ms_site_counters(site(e, "DC"));
	reg(e, "192.0.2.10", o, 10);
	assert_int_equal(dc->nonce_replays, 1);
	/* a restart with the first key again: the saved nonces were another key's */
	reconfigure(e, conf_with(KEY, KEY), 11);
	restart(e, path, 12, 2);
	dc = ms_site_counters(site(e, "DC"));
	o.key = KEY;
	o.nonce = 1;
	reg(e, "192.0.2.10", o, 13);
	assert_int_equal(dc->registrations, 1);
	assert_int_equal(dc->nonce_replays, 0);
	unlink(path);
}

/* `no strict-nonce`: for peers that send constant or random nonces; nothing is kept for them. */
static void test_no_strict_nonce(void **state)
{
	struct env *e = *state;
	const struct ms_site_counters *dc = ms_site_counters(site(e, "DC"));
	struct reg_opts o = { .eid = "10.1.1.10/32", .iid = 4100, .nonce = 3 };
	char *text;
	size_t len;

	reconfigure(e, conf_with(" site BRANCH\n", "  no strict-nonce\n site BRANCH\n"), 0);
	assert_false(ms_site_conf(site(e, "DC"))->strict_nonce);
	assert_true(ms_site_conf(site(e, "BRANCH"))->strict_nonce);
	for (int i = 0; i < 3; i++)
		reg(e, "192.0.2.10", o, i);
	assert_int_equal(dc->registrations, 3);
	assert_int_equal(dc->nonce_replays, 0);
	assert_int_equal(ms_state_text(e->ms, 3, &text, &len), 0);
	assert_null(strstr(text, "\nN DC "));
	free(text);
}

/* A site remembers MS_NONCE_XTRS_MAX xTRs: a new one beyond is refused (counted), also after a restart. */
static void test_nonce_table_full(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/test_xtr_site_nonces_XXXXXX", src[64];
	struct reg_opts o = { .eid = "10.1.1.0/24", .iid = 4100, .rloc = "192.0.2.10", .nonce = 1 };
	const struct ms_site_counters *dc = ms_site_counters(site(e, "DC"));
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	for (int i = 1; i <= MS_NONCE_XTRS_MAX; i++) {
		snprintf(src, sizeof(src), "2001:db8::%x", i);
		reg(e, src, o, 1);
	}
	assert_int_equal(dc->registrations, MS_NONCE_XTRS_MAX);
	reg(e, "2001:db8::ffff", o, 2);
	assert_int_equal(dc->nonce_overflows, 1);
	assert_int_equal(dc->registrations, MS_NONCE_XTRS_MAX);
	o.nonce = 2; /* a known xTR goes on */
	reg(e, "2001:db8::1", o, 3);
	assert_int_equal(dc->registrations, MS_NONCE_XTRS_MAX + 1);
	assert_int_equal(ms_save(e->ms, path, 4), 0);
	restart(e, path, 5, MS_NONCE_XTRS_MAX);
	dc = ms_site_counters(site(e, "DC"));
	reg(e, "2001:db8::ffff", o, 6);
	assert_int_equal(dc->nonce_overflows, 1);
	reg(e, "2001:db8::1", o, 6); /* nonce 2 again: kept across the restart */
	assert_int_equal(dc->nonce_replays, 1);
	unlink(path);
}

/* T=1 keeps a registration for its Record TTL: a huge TTL is a week, not 44 s (uint32 wrap). */
static void test_ttl_expiry_clamped(void **state)
{
	struct env *e = *state;
	struct reg_opts o = {
		.eid = "10.1.1.10/32", .iid = 4100, .ttl = 71582789, .ttl_expiry = true
	};

	reg(e, "192.0.2.10", o, 0); /* 71582789 * 60 = 2^32 + 44 */
	ms_tick(e->ms, 3600);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	ms_tick(e->ms, XTR_TTL_MAX_MINUTES * 60.0 - 1);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	ms_tick(e->ms, XTR_TTL_MAX_MINUTES * 60.0);
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	/* a modest one is taken as it is */
	o.ttl = 10;
	reg(e, "192.0.2.10", o, 100000);
	ms_tick(e->ms, 100000 + 599);
	assert_non_null(registered(e, "DC", "10.1.1.10/32", 4100));
	ms_tick(e->ms, 100000 + 600);
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
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
	struct ms_registrant_info ri;
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
	/* refreshes of the new owner notify nobody again, nor change when it moved */
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 20);
	ms_registrant_info(ms_reg_registrants(registered(e, "DC", "10.1.1.10/32", 4100)), &ri);
	assert_true(ri.since == 10 && ri.last == 20);
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
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, 200);
	assert_int_equal(ms_load(e->ms, path, 200, err, sizeof(err)), 1);
	assert_non_null(registered(e, "BRANCH", "10.2.2.0/24", 0));
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));

	/* restart at 100 instead: all three back, with their locators and flags */
	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, 100);
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

	/* a damaged file: an error naming the line (the magic, 3 registrations, 2 nonces, it) */
	f = fopen(path, "a");
	fprintf(f, "R 0 10.2.2.0/24 BRANCH 0 1440 0 0 192.0.2.21 4342 - 150 180 1 192.0.2.21 1\n");
	fclose(f);
	ms_free(e->ms);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, 100);
	assert_int_equal(ms_load(e->ms, path, 100, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":7: malformed registration"));
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
	ms_configure(e->ms, &c2->msmr, &c2->reply, 1);
	xtr_conf_free(e->conf);
	e->conf = c2;
	assert_null(ms_site_by_name(e->ms, "BRANCH"));
	assert_null(registered(e, "DC", "10.1.1.10/32", 4100));
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.0/24", .iid = 4100 }, 2);
	assert_non_null(registered(e, "DC", "10.1.1.0/24", 4100));
	assert_int_equal(ms_site_counters(site(e, "DC"))->registrations, 2); /* kept */
}

/* --- issue 17: holes, one answer per request, rate limits, merged registrations ------------- */

static const char *holes_conf = "router lisp\n"
				" site A\n"
				"  authentication-key " KEY "\n"
				"  eid-prefix 10.77.0.0/16 accept-more-specifics\n"
				"  eid-prefix 2001:db8:77::/48 accept-more-specifics\n"
				"  eid-prefix instance-id 200 10.77.0.0/16 accept-more-specifics\n"
				" site B\n"
				"  authentication-key bkey\n"
				"  eid-prefix 10.77.200.0/24\n"
				" ipv4 map-server\n"
				" ipv4 map-resolver\n"
				" ipv6 map-server\n"
				" ipv6 map-resolver\n";

static const char *limits_conf = "router lisp\n"
				 " site A\n"
				 "  authentication-key " KEY "\n"
				 "  eid-prefix 10.77.0.0/16 accept-more-specifics\n"
				 " ipv4 map-server\n"
				 " ipv4 map-resolver\n"
				 " map-reply rate-limit 1 burst 5\n";

/* Like fake_send, and a send to 192.0.2.66 fails (no route). */
static int fake_send_unreach(void *arg, const struct lisp_addr *dst, uint16_t dport,
			     const uint8_t *buf, size_t len)
{
	struct lisp_addr bad = A("192.0.2.66");

	if (lisp_addr_equal(dst, &bad))
		return -ENETUNREACH;
	return fake_send(arg, dst, dport, buf, len);
}

static int setup_text(void **state, const char *text)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ms_io io = { .send = fake_send_unreach };
	char err[256];

	e->conf = xtr_conf_parse_string("test", text, err, sizeof(err));
	if (!e->conf)
		fail_msg("%s", err);
	e->ms = ms_new(&io, &e->gc);
	ms_configure(e->ms, &e->conf->msmr, &e->conf->reply, 0);
	nout = 0;
	*state = e;
	return 0;
}

static int setup_holes(void **state)
{
	return setup_text(state, holes_conf);
}

static int setup_limits(void **state)
{
	return setup_text(state, limits_conf);
}

static uint64_t next_nonce = 1000; /* increasing, whatever the strict-nonce setting */

/* reg() with the next nonce and without a Map-Notify asked. */
static void reg_n(struct env *e, const char *src, struct reg_opts o, double now)
{
	o.nonce = next_nonce++;
	reg(e, src, o, now);
}

/*
 * Feeds at now an ECM Map-Request for eid (iid) in nrec identical records,
 * with the ITR-RLOCs itr1 (and itr2 if not NULL), from port 50000.
 */
static void ask(struct env *e, const char *eid, uint32_t iid, unsigned nrec, const char *itr1,
		const char *itr2, double now)
{
	struct lisp_map_request q = { .nonce = 0xabc, .itr_rloc_count = itr2 ? 2 : 1 };
	struct lisp_ecm m = { .inner = { .sport = 50000, .dport = 4342, .ttl = 64 } };
	static struct lisp_prefix p[255];
	static uint8_t req[4096], ecm[4200];
	struct buf_writer w;
	size_t len;

	assert_true(nrec >= 1 && nrec <= 255);
	for (unsigned i = 0; i < nrec; i++)
		assert_int_equal(lisp_prefix_parse(eid, iid, &p[i]), 0);
	q.itr_rlocs[0] = A(itr1);
	if (itr2)
		q.itr_rlocs[1] = A(itr2);
	m.inner.dst = p[0].addr;
	m.inner.src = A(p[0].addr.afi == LISP_AFI_IPV6 ? "2001:db8::20" : "192.0.2.20");
	buf_writer_init(&w, req, sizeof(req));
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, p, nrec), 0);
	len = w.off;
	buf_writer_init(&w, ecm, sizeof(ecm));
	assert_int_equal(lisp_msg_encode_ecm(&w, &m, req, len), 0);
	ms_input(e->ms, &q.itr_rlocs[0], 50000, ecm, w.off, now);
}

/* The record of the negative Map-Reply sent last, checked to be one. */
static struct lisp_eid_record last_negative(void)
{
	struct lisp_eid_record r;

	assert_true(nout > 0);
	reply_record(&out[nout - 1], &r);
	assert_int_equal(r.loc_count, 0);
	return r;
}

/* r's prefix is want (iid), and it holds eid but not registered. */
static void assert_hole(const struct lisp_eid_record *r, const char *want, uint32_t iid,
			const char *eid, const char *registered_eid)
{
	struct lisp_prefix w, in, out_;

	assert_int_equal(lisp_prefix_parse(want, iid, &w), 0);
	if (!lisp_prefix_equal(&r->eid, &w)) {
		char got[LISP_PREFIX_STRLEN];

		fail_msg("negative answer %s [%u], want %s [%u]",
			 lisp_prefix_format(&r->eid, got, sizeof(got)), r->eid.iid, want, iid);
	}
	assert_int_equal(lisp_prefix_parse(eid, iid, &in), 0);
	assert_true(lisp_prefix_contains(&r->eid, &in));
	if (registered_eid) {
		assert_int_equal(lisp_prefix_parse(registered_eid, iid, &out_), 0);
		assert_false(lisp_prefix_contains(&r->eid, &out_));
	}
}

/*
 * Negative answers inside a site prefix name the hole around the EID:
 * never a prefix that covers a registered host or another site's prefix.
 * IPv4, IPv6, another instance-id; the configured prefix when it is empty.
 */
static void test_negative_holes(void **state)
{
	struct env *e = *state;
	struct lisp_eid_record r;

	/* empty: the configured prefix itself, send-map-request, one minute */
	ask(e, "10.77.1.20/32", 200, 1, "192.0.2.20", NULL, 0);
	r = last_negative();
	assert_hole(&r, "10.77.0.0/16", 200, "10.77.1.20/32", NULL);
	assert_true(r.ttl == 1 && r.act == LISP_ACT_SEND_MAP_REQUEST && !r.authoritative);
	/* the other site's more-specific prefix makes a hole */
	ask(e, "10.77.5.5/32", 0, 1, "192.0.2.20", NULL, 0);
	r = last_negative();
	assert_hole(&r, "10.77.0.0/17", 0, "10.77.5.5/32", "10.77.200.0/24");

	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32" }, 0);
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32", .iid = 200 }, 0);
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "2001:db8:77:1::10/128" }, 0);

	/* .20 and .10 share 27 bits: 10.77.1.16/28, the least specific without .10 */
	ask(e, "10.77.1.20/32", 0, 1, "192.0.2.20", NULL, 1);
	r = last_negative();
	assert_hole(&r, "10.77.1.16/28", 0, "10.77.1.20/32", "10.77.1.10/32");
	assert_true(r.ttl == 1 && r.act == LISP_ACT_SEND_MAP_REQUEST);
	/* the same in instance-id 200 */
	ask(e, "10.77.1.20/32", 200, 1, "192.0.2.20", NULL, 1);
	r = last_negative();
	assert_hole(&r, "10.77.1.16/28", 200, "10.77.1.20/32", "10.77.1.10/32");
	/* and in IPv6: ::10 and ::20 share 122 bits */
	ask(e, "2001:db8:77:1::20/128", 0, 1, "192.0.2.20", NULL, 1);
	r = last_negative();
	assert_hole(&r, "2001:db8:77:1::20/123", 0, "2001:db8:77:1::20/128",
		    "2001:db8:77:1::10/128");
	assert_true(r.ttl == 1 && r.act == LISP_ACT_SEND_MAP_REQUEST);
	/* farther from the host: they share 21 bits */
	ask(e, "10.77.5.5/32", 0, 1, "192.0.2.20", NULL, 1);
	r = last_negative();
	assert_hole(&r, "10.77.4.0/22", 0, "10.77.5.5/32", "10.77.1.10/32");
	assert_int_equal(ms_site_counters(site(e, "A"))->map_requests_negative, 6);
	/* outside every site: native-forward, 15 minutes, covering no site prefix */
	ask(e, "10.78.0.1/32", 0, 1, "192.0.2.20", NULL, 1);
	r = last_negative();
	assert_hole(&r, "10.78.0.0/15", 0, "10.78.0.1/32", "10.77.0.0/16");
	assert_true(r.ttl == 15 && r.act == LISP_ACT_NATIVE_FORWARD);
	assert_int_equal(e->gc.negative_not_lisp, 1);
	/* the registered host itself is still forwarded to its ETR */
	ask(e, "10.77.1.10/32", 0, 1, "192.0.2.20", NULL, 1);
	assert_int_equal(lisp_msg_type(out[nout - 1].buf, out[nout - 1].len), LISP_TYPE_ECM);
}

/* A request with 200 identical records gets one answer, not 200. */
static void test_one_answer_per_request(void **state)
{
	struct env *e = *state;
	struct lisp_addr etr = A("192.0.2.30"), itr = A("192.0.2.20");

	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "10.77.1.10/32" }, 0);
	ask(e, "10.77.1.10/32", 0, 200, "192.0.2.20", NULL, 1);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &etr));
	assert_int_equal(ms_site_counters(site(e, "A"))->map_requests_forwarded, 1);
	ask(e, "10.77.1.20/32", 0, 200, "192.0.2.20", NULL, 1);
	assert_int_equal(nout, 2);
	assert_true(lisp_addr_equal(&out[1].dst, &itr));
	last_negative();
	assert_int_equal(e->gc.map_request_records_ignored, 2 * 199);
	assert_int_equal(e->gc.map_requests, 2);
}

/*
 * map-reply rate-limit 1 burst 5: toward one ITR-RLOC five answers, then
 * refusals, counted; another ITR-RLOC is still answered; a second later
 * one more. Forwarded requests count against the ITR-RLOC too. One
 * answer only, to the first ITR-RLOC we can send to.
 */
static void test_answers_rate_limited(void **state)
{
	struct env *e = *state;
	struct lisp_addr itr = A("192.0.2.20"), other = A("192.0.2.21");

	for (int i = 0; i < 8; i++)
		ask(e, "10.77.1.20/32", 0, 1, "192.0.2.20", NULL, 10);
	assert_int_equal(nout, 5);
	for (int i = 0; i < 5; i++)
		assert_true(lisp_addr_equal(&out[i].dst, &itr));
	assert_int_equal(e->gc.map_replies_rate_limited, 3);
	ask(e, "10.77.1.20/32", 0, 1, "192.0.2.21", NULL, 10);
	assert_int_equal(nout, 6);
	assert_true(lisp_addr_equal(&out[5].dst, &other));
	ask(e, "10.77.1.20/32", 0, 1, "192.0.2.20", NULL, 11);
	assert_int_equal(nout, 7);
	ask(e, "10.77.1.20/32", 0, 1, "192.0.2.20", NULL, 11);
	assert_int_equal(nout, 7);
	assert_int_equal(e->gc.map_replies_rate_limited, 4);

	/* forwarded to the ETR, keyed by the ITR-RLOC the ETR will answer */
	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "10.77.1.10/32" }, 10);
	nout = 0;
	for (int i = 0; i < 7; i++)
		ask(e, "10.77.1.10/32", 0, 1, "192.0.2.22", NULL, 12);
	assert_int_equal(nout, 5);
	assert_int_equal(e->gc.map_requests_forward_rate_limited, 2);
	assert_int_equal(ms_site_counters(site(e, "A"))->map_requests_forwarded, 5);

	/* one answer: an IPv6 ITR-RLOC we have no socket for is skipped, the next taken */
	nout = 0;
	ask(e, "10.77.1.20/32", 0, 1, "2001:db8::20", "192.0.2.23", 20);
	assert_int_equal(nout, 1);
	other = A("192.0.2.23");
	assert_true(lisp_addr_equal(&out[0].dst, &other));
	/* but after a failed send no second ITR-RLOC gets one */
	ask(e, "10.77.1.20/32", 0, 1, "192.0.2.66", "192.0.2.24", 20);
	assert_int_equal(nout, 1);
}

/* Whether the locators of a proxy Map-Reply r are exactly a and b. */
static bool locators_are(const struct lisp_eid_record *r, const char *a, const char *b)
{
	struct lisp_addr want[2] = { A(a), A(b) };
	bool seen[2] = { false, false };
	struct lisp_locator l;
	struct lisp_iter it;

	if (r->loc_count != 2)
		return false;
	lisp_locator_iter_init(&it, r);
	while (lisp_locator_iter_next(&it, &l))
		for (int i = 0; i < 2; i++)
			seen[i] |= lisp_addr_equal(&l.addr[0], &want[i]);
	return seen[0] && seen[1];
}

/*
 * Two ETRs of a multihomed site, each registering its own locator for the
 * site's prefix, are merged: nobody displaced, no notify, no move; the
 * proxy reply lists both; requests go to the one heard from last.
 */
static void test_multihomed_merged(void **state)
{
	struct env *e = *state;
	struct reg_opts o = { .eid = "10.77.1.0/24" };
	struct lisp_addr etr1 = A("192.0.2.10"), etr2 = A("192.0.2.11");
	struct lisp_eid_record r;

	for (double t = 0; t < 200; t += 60) {
		reg_n(e, "192.0.2.10", o, t);
		reg_n(e, "192.0.2.11", o, t + 1);
	}
	assert_int_equal(nout, 0);
	assert_int_equal(nregistrants(registered(e, "A", "10.77.1.0/24", 0)), 2);
	assert_int_equal(ms_site_counters(site(e, "A"))->moves, 0);
	assert_int_equal(ms_pending_notifies(e->ms), 0);
	ask(e, "10.77.1.5/32", 0, 1, "192.0.2.20", NULL, 200);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &etr2));
	reg_n(e, "192.0.2.10", o, 201);
	ask(e, "10.77.1.5/32", 0, 1, "192.0.2.20", NULL, 202);
	assert_true(lisp_addr_equal(&out[1].dst, &etr1));
	/* with proxy replies: both locators */
	o.proxy = true;
	reg_n(e, "192.0.2.10", o, 203);
	reg_n(e, "192.0.2.11", o, 203);
	ask(e, "10.77.1.5/32", 0, 1, "192.0.2.20", NULL, 204);
	assert_int_equal(nout, 3);
	reply_record(&out[2], &r);
	assert_true(locators_are(&r, "192.0.2.10", "192.0.2.11"));
	/* one of them stops: the other remains */
	reg_n(e, "192.0.2.11", o, 300);
	ms_tick(e->ms, 390);
	assert_int_equal(nregistrants(registered(e, "A", "10.77.1.0/24", 0)), 1);
	assert_int_equal(nout, 3);
}

/*
 * An xTR renumbered: its prefix registered again from a new address is no
 * move (no Map-Notify to the old, dead address); without an xTR-ID the
 * old registration lasts until it expires.
 */
static void test_renumbered_not_a_move(void **state)
{
	struct env *e = *state;
	struct lisp_addr now_at = A("192.0.2.12");
	struct ms_registrant_info ri;
	const struct ms_reg *g;

	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.0/24" }, 0);
	reg_n(e, "192.0.2.12", (struct reg_opts){ .eid = "10.77.1.0/24" }, 60);
	reg_n(e, "192.0.2.12", (struct reg_opts){ .eid = "10.77.1.0/24" }, 120);
	for (double t = 60; t <= 200; t++)
		ms_tick(e->ms, t);
	assert_int_equal(nout, 0);
	assert_int_equal(ms_site_counters(site(e, "A"))->moves, 0);
	g = registered(e, "A", "10.77.1.0/24", 0);
	assert_int_equal(nregistrants(g), 1); /* the old one expired at 180 */
	ms_registrant_info(ms_reg_registrants(g), &ri);
	assert_true(lisp_addr_equal(&ri.addr, &now_at));
	assert_int_equal(ms_site_counters(site(e, "A"))->expirations, 1);
}

/*
 * The same with an xTR-ID, holding a host under its prefix: the host and
 * the prefix come again from the new address, the xTR is one registrant
 * throughout and is not told its own host moved.
 */
static void test_renumbered_xtr_id(void **state)
{
	struct env *e = *state;
	struct lisp_addr now_at = A("192.0.2.12");
	struct ms_registrant_info ri;
	const struct ms_reg *g;

	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.0/24", .xtr_id = 7 }, 0);
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32", .xtr_id = 7 }, 0);
	reg_n(e, "192.0.2.12", (struct reg_opts){ .eid = "10.77.1.10/32", .xtr_id = 7 }, 60);
	reg_n(e, "192.0.2.12", (struct reg_opts){ .eid = "10.77.1.0/24", .xtr_id = 7 }, 60);
	for (double t = 60; t <= 100; t++)
		ms_tick(e->ms, t);
	assert_int_equal(nout, 0);
	assert_int_equal(ms_site_counters(site(e, "A"))->moves, 0);
	g = registered(e, "A", "10.77.1.0/24", 0);
	assert_int_equal(nregistrants(g), 1);
	ms_registrant_info(ms_reg_registrants(g), &ri);
	assert_true(lisp_addr_equal(&ri.addr, &now_at));
	assert_int_equal(nregistrants(registered(e, "A", "10.77.1.10/32", 0)), 1);
}

/*
 * A host is still a VM that moves (IPv4 and IPv6): the old registrant is
 * told, and a move counted; with the merge bit it is merged instead. A
 * notify to an address that never acks stops after MS_NOTIFY_TRIES, and a
 * newer one about the same host replaces it rather than adding to it.
 */
static void test_host_still_moves(void **state)
{
	struct env *e = *state;
	struct lisp_addr dc1 = A("192.0.2.10");
	int to_dc1 = 0;

	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32" }, 0);
	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "10.77.1.10/32" }, 1);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &dc1));
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "2001:db8:77:1::10/128" }, 1);
	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "2001:db8:77:1::10/128" }, 2);
	assert_int_equal(nout, 2);
	assert_true(lisp_addr_equal(&out[1].dst, &dc1));
	assert_int_equal(ms_site_counters(site(e, "A"))->moves, 2);
	/* back and forth: DC1 has one notify per host pending, not one per move */
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32" }, 3);
	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "10.77.1.10/32" }, 4);
	assert_int_equal(ms_site_counters(site(e, "A"))->moves, 4);
	assert_int_equal(ms_pending_notifies(e->ms), 3); /* DC1: two hosts; DC2: one */
	/* nobody acks: each gives up after MS_NOTIFY_TRIES sends */
	nout = 0;
	for (double t = 4; t <= 200; t += 0.5)
		ms_tick(e->ms, t);
	assert_int_equal(ms_pending_notifies(e->ms), 0);
	for (int i = 0; i < nout; i++)
		to_dc1 += lisp_addr_equal(&out[i].dst, &dc1);
	assert_int_equal(to_dc1, 2 * (MS_NOTIFY_TRIES - 1));
	assert_int_equal(nout - to_dc1, MS_NOTIFY_TRIES - 1);
	/* the merge bit: a second xTR adds its locator to the host */
	nout = 0;
	reg_n(e, "192.0.2.30", (struct reg_opts){ .eid = "10.77.1.10/32" }, 300);
	reg_n(e, "192.0.2.10", (struct reg_opts){ .eid = "10.77.1.10/32", .merge = true }, 301);
	assert_int_equal(nout, 0);
	assert_int_equal(nregistrants(registered(e, "A", "10.77.1.10/32", 0)), 2);
}

/* An xTR that signs with HMAC-SHA-1 (a SHA-1-only implementation) gets its move notices so too. */
/*
 * A multihomed data center: its two gateways (one Site-ID) each register a
 * VM with their own locator. Merged: no move, both locators answered. The
 * VM then moves to the other data center (another Site-ID): both gateways
 * of the first are told, and the second's two merge again.
 */
static void test_multihomed_site_merges(void **state)
{
	struct env *e = *state;
	struct lisp_addr a1 = A("192.0.2.10"), a2 = A("192.0.2.12");
	const char *eid = "10.1.1.10/32";
	bool told_a1 = false, told_a2 = false;

	reg(e, "192.0.2.10",
	    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xa1, .site_id = 1 }, 0);
	reg(e, "192.0.2.12",
	    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xa2, .site_id = 1 }, 1);
	assert_int_equal(nout, 0);
	assert_int_equal(nregistrants(registered(e, "DC", eid, 4100)), 2);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 0);
	/* the other data center (Site-ID 2): a move; both of site 1 are told */
	reg(e, "192.0.2.30",
	    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xb1, .site_id = 2 }, 2);
	assert_int_equal(nout, 2);
	for (int i = 0; i < nout; i++) {
		told_a1 |= lisp_addr_equal(&out[i].dst, &a1);
		told_a2 |= lisp_addr_equal(&out[i].dst, &a2);
	}
	assert_true(told_a1 && told_a2);
	assert_int_equal(nregistrants(registered(e, "DC", eid, 4100)), 1);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 1);
	/* its second gateway joins: merged, nobody told */
	reg(e, "192.0.2.32",
	    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xb2, .site_id = 2 }, 3);
	assert_int_equal(nout, 2);
	assert_int_equal(nregistrants(registered(e, "DC", eid, 4100)), 2);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 1);
	/* after a restart (the state file) they still merge: their Site-ID came back */
	{
		char path[] = "/tmp/test_xtr_site_multi_XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(ms_save(e->ms, path, 3), 0);
		restart(e, path, 3, 2);
		unlink(path);
		reg(e, "192.0.2.32",
		    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xb2, .site_id = 2 },
		    3.5);
		reg(e, "192.0.2.30",
		    (struct reg_opts){ .eid = eid, .iid = 4100, .xtr_id = 0xb1, .site_id = 2 },
		    3.5);
		assert_int_equal(nout, 0);
		assert_int_equal(nregistrants(registered(e, "DC", eid, 4100)), 2);
	}
	/* without a Site-ID (0) two xTRs are two sites: a move, as before */
	reg(e, "192.0.2.10",
	    (struct reg_opts){ .eid = "10.1.1.11/32", .iid = 4100, .xtr_id = 0xc1 }, 4);
	reg(e, "192.0.2.12",
	    (struct reg_opts){ .eid = "10.1.1.11/32", .iid = 4100, .xtr_id = 0xc2 }, 5);
	assert_int_equal(nregistrants(registered(e, "DC", "10.1.1.11/32", 4100)), 1);
	assert_int_equal(ms_site_counters(site(e, "DC"))->moves, 1); /* counted since the restart */
}

static void test_notify_moved_sha1(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct lisp_addr dc1 = A("192.0.2.10"), dc2 = A("192.0.2.30");

	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100, .alg = 1 }, 0);
	reg(e, "192.0.2.30", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100 }, 1);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &dc1));
	assert_int_equal(out[0].buf[12] << 8 | out[0].buf[13], LISP_ALG_HMAC_SHA1_96);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	/* and back: DC2 signed with SHA-256, its notice is SHA-256 */
	reg(e, "192.0.2.10", (struct reg_opts){ .eid = "10.1.1.10/32", .iid = 4100, .alg = 1 }, 2);
	assert_int_equal(nout, 2);
	assert_true(lisp_addr_equal(&out[1].dst, &dc2));
	assert_int_equal(out[1].buf[12] << 8 | out[1].buf[13], LISP_ALG_HMAC_SHA256_128);
	assert_int_equal(lisp_auth_verify(k, out[1].buf, out[1].len), 0);
	lisp_auth_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_moved_sha1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_strict_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_replay_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_strict_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_expiry_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl0_deregisters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multihoming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_notifies_old_registrant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multihomed_site_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_retransmit_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_resolver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_holes, setup_holes, teardown),
		cmocka_unit_test_setup_teardown(test_one_answer_per_request, setup_holes, teardown),
		cmocka_unit_test_setup_teardown(test_answers_rate_limited, setup_limits, teardown),
		cmocka_unit_test_setup_teardown(test_multihomed_merged, setup_holes, teardown),
		cmocka_unit_test_setup_teardown(test_renumbered_not_a_move, setup_holes, teardown),
		cmocka_unit_test_setup_teardown(test_renumbered_xtr_id, setup_holes, teardown),
		cmocka_unit_test_setup_teardown(test_host_still_moves, setup_holes, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
