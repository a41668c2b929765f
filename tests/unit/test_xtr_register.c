/* The ETR: registration timers, Map-Notify matching, withdrawal, Map-Replies (fake clock/net). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/lisp_auth.h"
#include "lib/lpmh.h"
#include "lib/platform.h"
#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"

static const char *conf_text = "router lisp\n"
			       " locator-set L\n"
			       "  ipv4-interface eth0 priority 1 weight 50\n"
			       "  ipv4-interface down0 priority 1 weight 50\n"
			       " eid-table vrf T instance-id 4100\n"
			       "  database-mapping 10.1.1.0/24 locator-set L\n"
			       " ipv4 etr\n"
			       " ipv4 etr map-server 192.0.2.1 key k1\n";

/* eth0 has 192.0.2.10; down0 has no address. */
static int fake_if_addr(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *a)
{
	(void)arg;
	if (strcmp(ifname, "eth0") != 0 || afi != LISP_AFI_IPV4)
		return -ENOENT;
	return lisp_addr_parse("192.0.2.10", a);
}

struct env {
	struct xtr_conf *conf;
	struct etr *etr;
};

static struct xtr_conf *parse(const char *text)
{
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string("t", text, err, sizeof(err));

	if (!c)
		fail_msg("%s", err);
	return c;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };

	e->conf = parse(conf_text);
	e->etr = etr_new(&io);
	etr_configure(e->etr, e->conf, 0);
	nout = 0;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	etr_free(e->etr);
	xtr_conf_free(e->conf);
	free(e);
	return 0;
}

/* A new ETR with io under the configuration text (parsed first: a refusal fails the test only). */
static void restart(struct env *e, const char *text, const struct etr_io *io)
{
	struct xtr_conf *c = parse(text);

	etr_free(e->etr);
	xtr_conf_free(e->conf);
	e->conf = c;
	e->etr = etr_new(io);
	etr_configure(e->etr, e->conf, 0);
}

/* The Map-Notify a Map-Server sends for out[i] (signed with key). */
static size_t notify_for(int i, const char *key, uint8_t *buf)
{
	struct lisp_auth_key *k = lisp_auth_key_new(key, strlen(key));
	size_t len = out[i].len;

	memcpy(buf, out[i].buf, len);
	assert_true(buf[0] & 0x02); /* the I bit: the xTR-ID and site-ID end the Map-Register */
	len -= 24;		    /* (our Map-Server's Map-Notify does not echo them) */
	buf[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY << 4);
	buf[1] = buf[2] = 0; /* flags of the Map-Register are not in a Map-Notify */
	assert_int_equal(lisp_auth_sign(k, buf, len), 0);
	lisp_auth_key_free(k);
	return len;
}

/* What our Map-Server puts in an unsolicited Map-Notify: its realtime clock in ns, less ago s. */
static uint64_t clock_nonce(double ago)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - (uint64_t)(ago * 1e9);
}

/*
 * An unsolicited Map-Notify from a Map-Server with key: eid (instance-id
 * 4100) now lives at 192.0.2.30. Its length.
 */
static size_t moved_notify(uint8_t *buf, size_t cap, uint64_t nonce, const char *eid,
			   const char *key)
{
	struct lisp_auth_key *k = lisp_auth_key_new(key, strlen(key));
	struct lisp_map_notify n = { .nonce = nonce, .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 10, .loc_count = 1, .locs = &l };
	struct buf_writer w;

	l.addr[0] = A("192.0.2.30");
	assert_int_equal(lisp_prefix_parse(eid, 4100, &r.eid), 0);
	buf_writer_init(&w, buf, cap);
	assert_int_equal(lisp_msg_encode_map_notify(&w, &n, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	return w.off;
}

static void test_register_and_refresh(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
	struct lisp_addr ms;
	struct lisp_map_register m;
	struct lisp_eid_record r;
	struct lisp_locator l;
	struct lisp_iter it, lit;
	struct etr_reg_info ri;
	uint8_t buf[1024];
	size_t len;

	assert_int_equal(lisp_addr_parse("192.0.2.1", &ms), 0);
	etr_tick(e->etr, 0);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &ms));
	assert_int_equal(out[0].port, 4342);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m), 0);
	assert_true(m.want_map_notify);
	lisp_record_iter_init(&it, &m.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.eid.iid, 4100);
	assert_int_equal(r.ttl, 1440);
	assert_int_equal(r.loc_count, 1); /* down0 has no address: not announced */
	lisp_locator_iter_init(&lit, &r);
	assert_true(lisp_locator_iter_next(&lit, &l));
	assert_true(l.local && l.reachable && l.weight == 50);
	/* no Map-Notify: 1, 2, 4 ... s */
	etr_tick(e->etr, 0.9);
	assert_int_equal(nout, 1);
	etr_tick(e->etr, 1);
	assert_int_equal(nout, 2);
	etr_tick(e->etr, 2.9);
	assert_int_equal(nout, 2);
	etr_tick(e->etr, 3);
	assert_int_equal(nout, 3);
	/* a Map-Notify for an older nonce, or with a bad MAC, does not count */
	len = notify_for(1, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 3.1);
	len = notify_for(2, "wrong", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 3.1);
	etr_reg_info(e->etr, 0, &ri);
	assert_false(ri.registered);
	assert_int_equal(etr_counters(e->etr)->notify_auth_failures, 1);
	/* the right one: registered, refreshed 60 s after the last send */
	len = notify_for(2, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 3.2);
	etr_reg_info(e->etr, 0, &ri);
	assert_true(ri.registered);
	etr_tick(e->etr, 62.9);
	assert_int_equal(nout, 3);
	etr_tick(e->etr, 63);
	assert_int_equal(nout, 4);
	assert_true(out[3].buf[4] != out[2].buf[4] || memcmp(out[3].buf + 4, out[2].buf + 4, 8));
	lisp_auth_key_free(k);
}

static void test_withdraw_on_reconfigure(void **state)
{
	struct env *e = *state;
	struct xtr_conf *c2 =
		parse("router lisp\n ipv4 etr\n ipv4 etr map-server 192.0.2.1 key k1\n");
	struct lisp_map_register m;
	struct lisp_eid_record r;
	struct lisp_iter it;
	uint8_t buf[1024];
	size_t len;

	etr_tick(e->etr, 0);
	len = notify_for(0, "k1", buf);
	etr_input(e->etr, &out[0].dst, 4342, buf, len, 0.1);
	etr_configure(e->etr, c2, 10);
	assert_int_equal(nout, 2);
	assert_int_equal(lisp_msg_decode_map_register(out[1].buf, out[1].len, &m), 0);
	assert_true(m.want_map_notify); /* acknowledged, or sent again */
	lisp_record_iter_init(&it, &m.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.ttl, 0);
	assert_int_equal(etr_reg_count(e->etr), 0);
	xtr_conf_free(e->conf);
	e->conf = c2;
}

static void test_map_reply(void **state)
{
	struct env *e = *state;
	struct lisp_map_request q = { .nonce = 77, .itr_rloc_count = 1 };
	struct lisp_prefix eid, want;
	struct lisp_map_reply rep;
	struct lisp_eid_record r;
	struct lisp_iter it;
	uint8_t buf[512];
	struct buf_writer w;

	assert_int_equal(lisp_addr_parse("192.0.2.20", &q.itr_rlocs[0]), 0);
	assert_int_equal(lisp_prefix_parse("10.1.1.5/32", 4100, &eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, &eid, 1), 0);
	etr_input(e->etr, &q.itr_rlocs[0], 50000, buf, w.off, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(out[0].port, 50000);
	assert_true(lisp_addr_equal(&out[0].dst, &q.itr_rlocs[0]));
	assert_int_equal(lisp_msg_decode_map_reply(out[0].buf, out[0].len, &rep), 0);
	assert_int_equal(rep.nonce, 77);
	lisp_record_iter_init(&it, &rep.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(lisp_prefix_parse("10.1.1.0/24", 4100, &want), 0);
	assert_true(lisp_prefix_equal(&r.eid, &want) && r.authoritative && r.loc_count == 1);
	/* not ours (another instance-id): no answer */
	assert_int_equal(lisp_prefix_parse("10.1.1.5/32", 0, &eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, &eid, 1), 0);
	etr_input(e->etr, &q.itr_rlocs[0], 50000, buf, w.off, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(etr_counters(e->etr)->requests_not_ours, 1);
}

static int count_away(const struct etr_away_info *a, void *arg)
{
	struct lisp_prefix want;

	assert_int_equal(lisp_prefix_parse("10.1.1.77/32", 4100, &want), 0);
	assert_true(lisp_prefix_equal(&a->p, &want));
	assert_int_equal(a->nloc, 1);
	(*(int *)arg)++;
	return 0;
}

/* An unsolicited Map-Notify from our Map-Server: acknowledged, and an away entry until its TTL. */
static void test_moved_away(void **state)
{
	struct env *e = *state;
	struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
	struct lisp_map_notify n = { .nonce = clock_nonce(0), .auth = { .alg_id = 2 } }, ack;
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 10, .loc_count = 1, .locs = &l };
	struct lisp_addr ms, other;
	uint8_t buf[512];
	struct buf_writer w;
	int naway = 0;

	assert_int_equal(lisp_addr_parse("192.0.2.1", &ms), 0);
	assert_int_equal(lisp_addr_parse("192.0.2.99", &other), 0);
	assert_int_equal(lisp_addr_parse("192.0.2.30", &l.addr[0]), 0);
	assert_int_equal(lisp_prefix_parse("10.1.1.77/32", 4100, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &n, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	etr_input(e->etr, &other, 4342, buf, w.off, 1); /* not one of our Map-Servers */
	assert_int_equal(nout, 0);
	etr_input(e->etr, &ms, 4342, buf, w.off, 1);
	assert_int_equal(nout, 1);
	assert_true(lisp_addr_equal(&out[0].dst, &ms));
	assert_int_equal(out[0].port, 4342);
	assert_int_equal(lisp_msg_decode_map_notify(out[0].buf, out[0].len, &ack), 0);
	assert_true(ack.ack);
	assert_int_equal(ack.nonce, n.nonce);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	etr_away_walk(e->etr, count_away, &naway);
	assert_int_equal(naway, 1);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
	/* expires with the record TTL (10 minutes) */
	etr_tick(e->etr, 1 + 600);
	naway = 0;
	etr_away_walk(e->etr, count_away, &naway);
	assert_int_equal(naway, 0);
	/* a forged one (bad MAC) is neither acknowledged nor kept */
	buf[20] ^= 1;
	etr_input(e->etr, &ms, 4342, buf, w.off, 700);
	assert_int_equal(etr_counters(e->etr)->notify_auth_failures, 1);
	etr_away_walk(e->etr, count_away, &naway);
	assert_int_equal(naway, 0);
	lisp_auth_key_free(k);
}

static const char *dyn_conf_text = "router lisp\n"
				   " locator-set L\n"
				   "  ipv4-interface eth0 priority 1 weight 50\n"
				   " eid-table vrf T instance-id 4100\n"
				   "  dynamic-eid VMS\n"
				   "   database-mapping 10.3.3.0/24 locator-set L\n"
				   "  dynamic-eid IDLE\n"
				   "   database-mapping 10.4.4.0/24 locator-set L\n"
				   " ipv4 etr\n"
				   " ipv4 etr map-server 192.0.2.1 key k1\n"
				   "interface vmbr\n"
				   " lisp mobility VMS\n";

static struct {
	enum etr_event ev;
	struct lisp_prefix p;
	char ifname[IF_NAMESIZE];
} events[16];
static int nevents;

static void record_event(void *arg, enum etr_event ev, const struct lisp_prefix *p,
			 const char *ifname)
{
	(void)arg;
	assert_true(nevents < 16);
	events[nevents].ev = ev;
	events[nevents].p = *p;
	snprintf(events[nevents].ifname, IF_NAMESIZE, "%s", ifname ? ifname : "");
	nevents++;
}

static int dyn_info(const struct etr_dyn_info *d, void *arg)
{
	*(struct etr_dyn_info *)arg = *d;
	return 1;
}

/* The record of a Map-Register we sent: its EID and TTL. */
static void sent_record(int i, struct lisp_eid_record *r)
{
	struct lisp_map_register m;
	struct lisp_iter it;

	assert_int_equal(lisp_msg_decode_map_register(out[i].buf, out[i].len, &m), 0);
	lisp_record_iter_init(&it, &m.records);
	assert_true(lisp_record_iter_next(&it, r));
}

/*
 * Dynamic EIDs: learned through one function (registered at once with the
 * dynamic-eid's locators, only in a dynamic-eid that is on a lisp mobility
 * interface), refreshed, answered for as /32, forgotten without a
 * withdrawal when the Map-Server says they moved (then away), learned again
 * when they come back, withdrawn (TTL 0) when cleared.
 */
static void test_dynamic_eid(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr, .event = record_event };
	struct lisp_addr vm, far, idle, ms;
	struct lisp_prefix host;
	struct lisp_eid_record r;
	struct etr_dyn_info info;
	uint8_t buf[512];
	size_t len;

	etr_free(e->etr);
	xtr_conf_free(e->conf);
	e->conf = parse(dyn_conf_text);
	e->etr = etr_new(&io);
	etr_configure(e->etr, e->conf, 0);
	nout = nevents = 0;
	assert_int_equal(lisp_addr_parse("10.3.3.7", &vm), 0);
	assert_int_equal(lisp_addr_parse("10.9.9.9", &far), 0);
	assert_int_equal(lisp_addr_parse("10.4.4.4", &idle), 0);
	assert_int_equal(lisp_addr_parse("192.0.2.1", &ms), 0);
	assert_int_equal(lisp_prefix_parse("10.3.3.7/32", 4100, &host), 0);

	assert_int_equal(etr_dyn_learn(e->etr, 4100, &far, ETR_SRC_DATA, NULL, 5), -ENOENT);
	assert_int_equal(etr_dyn_learn(e->etr, 0, &vm, ETR_SRC_DATA, NULL, 5), -ENOENT);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &idle, ETR_SRC_DATA, NULL, 5), -ENOENT);
	assert_int_equal(nout, 0);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 5), 1);
	assert_int_equal(nout, 1); /* at once */
	sent_record(0, &r);
	assert_true(lisp_prefix_equal(&r.eid, &host));
	assert_int_equal(r.loc_count, 1);
	assert_int_equal(nevents, 1);
	assert_int_equal(events[0].ev, ETR_EV_DYN_UP);
	assert_string_equal(events[0].ifname, "vmbr"); /* across-subnet: a host route */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 6), 0);
	assert_int_equal(nout, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);

	len = notify_for(0, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 5.01);
	assert_int_equal(etr_dyn_walk(e->etr, dyn_info, &info), 1);
	assert_true(info.registered);
	assert_string_equal(info.policy, "VMS");
	assert_string_equal(info.ifname, "vmbr");
	assert_true(info.last_seen == 6);
	etr_tick(e->etr, 5 + 59);
	assert_int_equal(nout, 1);
	etr_tick(e->etr, 5 + 60); /* refreshed */
	assert_int_equal(nout, 2);

	/* moved: the Map-Server registered it with 192.0.2.30 */
	{
		struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
		struct lisp_map_notify n = { .nonce = clock_nonce(0), .auth = { .alg_id = 2 } };
		struct lisp_locator l = {
			.priority = 1, .weight = 1, .reachable = true, .naddr = 1
		};
		struct lisp_eid_record mr = { .ttl = 10, .loc_count = 1, .locs = &l, .eid = host };
		struct buf_writer w;

		assert_int_equal(lisp_addr_parse("192.0.2.30", &l.addr[0]), 0);
		buf_writer_init(&w, buf, sizeof(buf));
		assert_int_equal(lisp_msg_encode_map_notify(&w, &n, &mr, 1), 0);
		assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
		nout = nevents = 0;
		etr_input(e->etr, &ms, 4342, buf, w.off, 100);
		lisp_auth_key_free(k);
	}
	assert_int_equal(nout, 1); /* the Map-Notify-Ack, and no withdrawal */
	assert_int_equal(lisp_msg_type(out[0].buf, out[0].len), LISP_TYPE_MAP_NOTIFY_ACK);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(etr_counters(e->etr)->dyn_moved, 1);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].ev, ETR_EV_DYN_DOWN);
	assert_int_equal(events[1].ev, ETR_EV_AWAY_UP);
	assert_true(lisp_prefix_equal(&events[1].p, &host));
	etr_tick(e->etr, 200); /* nothing to refresh any more */
	assert_int_equal(nout, 1);

	/* it comes back: the away entry goes, the EID is registered again */
	nout = nevents = 0;
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, NULL, 300), 1);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].ev, ETR_EV_AWAY_DOWN);
	assert_int_equal(events[1].ev, ETR_EV_DYN_UP);
	assert_int_equal(nout, 1);

	/* cleared: withdrawn with TTL 0 */
	assert_int_equal(etr_dyn_clear(e->etr, NULL, 301), 1);
	assert_int_equal(nout, 2);
	sent_record(1, &r);
	assert_int_equal(r.ttl, 0);
	assert_true(lisp_prefix_equal(&r.eid, &host));
	assert_int_equal(etr_dyn_count(e->etr), 0);
}

/*
 * Issue 16: who may teach the gateway its hosts. FHRS has first-hop routers
 * (an eid-notify key) and no data-plane learning; OPEN has both, with a
 * short learning timeout and a host-limit of 2; LAB learns from data
 * only (no key), as a branch or a lab does.
 */
static const char *learn_conf_text = "router lisp\n"
				     " locator-set L\n"
				     "  ipv4-interface eth0 priority 1 weight 50\n"
				     " eid-table vrf T instance-id 4100\n"
				     "  dynamic-eid FHRS\n"
				     "   database-mapping 10.3.3.0/24 locator-set L\n"
				     "   eid-notify authentication-key fk\n"
				     "   learning timeout 60\n"
				     "  dynamic-eid OPEN\n"
				     "   database-mapping 10.4.4.0/24 locator-set L\n"
				     "   eid-notify authentication-key ok\n"
				     "   learning data-plane\n"
				     "   learning timeout 60\n"
				     "   host-limit 2\n"
				     "  dynamic-eid LAB\n"
				     "   database-mapping 10.5.5.0/24 locator-set L\n"
				     " ipv4 etr\n"
				     " ipv4 etr map-server 192.0.2.1 key k1\n"
				     "interface vmbr\n"
				     " lisp mobility LAB\n";

static void learn_setup(struct env *e)
{
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };

	etr_free(e->etr);
	xtr_conf_free(e->conf);
	e->conf = parse(learn_conf_text);
	e->etr = etr_new(&io);
	etr_configure(e->etr, e->conf, 0);
	nout = 0;
}

struct find_dyn {
	struct lisp_prefix p;
	struct etr_dyn_info info;
	bool found;
};

static int find_dyn_cb(const struct etr_dyn_info *d, void *arg)
{
	struct find_dyn *f = arg;

	if (lisp_prefix_equal(&d->p, &f->p)) {
		f->info = *d;
		f->found = true;
	}
	return 0;
}

/* The learned host s (iid 4100), or found false. */
static struct find_dyn find_host(struct env *e, const char *s)
{
	struct find_dyn f = { 0 };

	assert_int_equal(lisp_prefix_parse(s, 4100, &f.p), 0);
	etr_dyn_walk(e->etr, find_dyn_cb, &f);
	return f;
}

/* The dynamic-eid named name. */
static struct etr_policy_info policy(struct env *e, const char *name)
{
	struct etr_policy_info pi;

	for (size_t i = 0; i < etr_policy_count(e->etr); i++) {
		etr_policy_info(e->etr, i, &pi);
		if (strcmp(pi.conf->name, name) == 0)
			return pi;
	}
	fail_msg("no dynamic-eid %s", name);
	return pi;
}

/* Where its first-hop routers tell, a data packet does not make a host: unless told so. */
static void test_data_learning_needs_consent(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm = A("10.3.3.7"), open = A("10.4.4.7"), lab = A("10.5.5.7");

	learn_setup(e);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 1), -EPERM);
	assert_int_equal(nout, 0); /* nothing registered */
	assert_false(find_host(e, "10.3.3.7/32").found);
	assert_int_equal(etr_counters(e->etr)->dyn_refused_data, 1);
	assert_int_equal(policy(e, "FHRS").refused_data, 1);
	/* its first-hop router's word is taken */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 2), 1);
	assert_int_equal(nout, 1);
	/* learning data-plane, or no key: the data plane learns */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &open, ETR_SRC_DATA, NULL, 3), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &lab, ETR_SRC_DATA, NULL, 3), 1);
	assert_int_equal(etr_dyn_count(e->etr), 3);
	assert_true(policy(e, "FHRS").active && policy(e, "FHRS").hosts == 1);
	assert_int_equal(policy(e, "OPEN").learned, 1);
}

/* A data packet never takes a host from its first-hop router (nor from anyone). */
static void test_data_never_takes_over(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm = A("10.4.4.8");
	struct find_dyn f;

	learn_setup(e);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 1), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, "forged", 2), 0);
	f = find_host(e, "10.4.4.8/32");
	assert_true(f.found);
	assert_string_equal(f.info.who, "fhr-1");
	assert_int_equal(f.info.source, ETR_SRC_FHR);
	assert_int_equal(nout, 1); /* no second registration */
	/* and the FHR's host is not aged like a data-learned one */
	etr_tick(e->etr, 1000);
	assert_true(find_host(e, "10.4.4.8/32").found);
	/* a data-learned host is taken over by its FHR when it speaks (then not aged) */
	vm = A("10.4.4.9");
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 1000), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-2", 1001), 0);
	f = find_host(e, "10.4.4.9/32");
	assert_string_equal(f.info.who, "fhr-2");
	assert_int_equal(f.info.source, ETR_SRC_FHR);
}

/* Map-Registers sent that withdraw (TTL 0). */
static int withdrawals(void)
{
	struct lisp_eid_record r;
	int n = 0;

	for (int i = 0; i < nout; i++) {
		sent_record(i, &r);
		n += r.ttl == 0;
	}
	return n;
}

/* Hosts learned from data go after their learning timeout of silence, counted from their packets. */
static void test_data_learned_ages_out(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm = A("10.4.4.7"), fhr = A("10.3.3.9");
	uint32_t iid = 4100;
	struct etr_local *l;
	double t = 50;

	learn_setup(e);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 10), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &fhr, ETR_SRC_FHR, "fhr-1", 10), 1);
	nout = 0;
	etr_tick(e->etr, 69.9); /* 60 s after it was learned: not yet */
	assert_true(find_host(e, "10.4.4.7/32").found);
	assert_int_equal(withdrawals(), 0);
	/* a packet from it at 50, as the data plane notes it */
	l = lpmh_lookup(etr_local_table(e->etr), iid, &vm);
	assert_non_null(l);
	assert_int_equal(l->kind, LOCAL_DYN_HOST);
	__atomic_store(&l->last_from, &t, __ATOMIC_RELAXED);
	etr_tick(e->etr, 100);
	assert_true(find_host(e, "10.4.4.7/32").found);
	assert_int_equal(withdrawals(), 0);
	nout = 0;
	etr_tick(e->etr, 110); /* 60 s of silence */
	assert_false(find_host(e, "10.4.4.7/32").found);
	assert_int_equal(withdrawals(), 1); /* withdrawn from the Map-Server */
	assert_int_equal(etr_counters(e->etr)->dyn_aged, 1);
	assert_int_equal(policy(e, "OPEN").aged, 1);
	assert_int_equal(policy(e, "OPEN").hosts, 0);
	/* the FHR's host stays */
	assert_true(find_host(e, "10.3.3.9/32").found);
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

/* A dynamic-eid learns at most host-limit hosts (from any source); another still learns. */
static void test_host_limit(void **state)
{
	struct env *e = *state;
	struct lisp_addr a = A("10.4.4.1"), b = A("10.4.4.2"), c = A("10.4.4.3"),
			 lab = A("10.5.5.5");
	struct etr_local *pl;
	struct lisp_prefix open;

	learn_setup(e);
	assert_int_equal(lisp_prefix_parse("10.4.4.0/24", 4100, &open), 0);
	pl = lpmh_lookup(etr_local_table(e->etr), 4100, &c);
	assert_int_equal(pl->kind, LOCAL_DYN_POLICY);
	assert_int_equal(pl->flags, 0); /* its data plane may ask */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &a, ETR_SRC_DATA, NULL, 1), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &b, ETR_SRC_FHR, "fhr-1", 1), 1);
	assert_int_equal(pl->flags, LOCAL_F_NO_LEARN); /* full: the data plane stops asking */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &c, ETR_SRC_FHR, "fhr-1", 2), -ENOSPC);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &c, ETR_SRC_DATA, NULL, 2), -ENOSPC);
	assert_int_equal(etr_counters(e->etr)->dyn_overflows, 2);
	assert_int_equal(policy(e, "OPEN").refused_limit, 2);
	assert_int_equal(policy(e, "OPEN").hosts, 2);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &lab, ETR_SRC_DATA, NULL, 2), 1);
	/* packets the data plane refused meanwhile are counted at the tick */
	pl->packets = 5;
	etr_tick(e->etr, 3);
	assert_int_equal(policy(e, "OPEN").refused_limit, 7);
	/* room again */
	assert_int_equal(etr_dyn_clear(e->etr, &open, 4), 2);
	assert_int_equal(pl->flags, 0);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &c, ETR_SRC_DATA, NULL, 5), 1);
	/* counters stay across a reload */
	etr_configure(e->etr, e->conf, 6);
	assert_int_equal(policy(e, "OPEN").refused_limit, 7);
	assert_int_equal(policy(e, "OPEN").hosts, 1);
}

/* A dynamic-conf ETR with io (events recorded), its registration of 10.3.3.7 acknowledged at 1. */
static void vm_registered(struct env *e)
{
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr, .event = record_event };
	struct lisp_addr vm = A("10.3.3.7"), ms = A("192.0.2.1");
	uint8_t buf[512];
	size_t len;

	restart(e, dyn_conf_text, &io);
	nout = nevents = 0;
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 1), 1);
	len = notify_for(0, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 1);
	assert_int_equal(etr_counters(e->etr)->notifies, 1);
	nout = nevents = 0;
}

static int count_away_entries(const struct etr_away_info *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static int aways(struct env *e)
{
	int n = 0;

	etr_away_walk(e->etr, count_away_entries, &n);
	return n;
}

/*
 * Issue 17 item 4: an unsolicited Map-Notify is applied once. A
 * retransmission is acknowledged again; a replay after the EID came back
 * does not divert it again; one below the window, or older than our start
 * less 120 s, is refused without an answer.
 */
static void test_notify_replay_window(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm = A("10.3.3.7"), ms = A("192.0.2.1");
	const struct etr_counters *c;
	uint8_t moved[512], buf[512];
	size_t mlen, len;
	char eid[32];

	vm_registered(e);
	c = etr_counters(e->etr);
	mlen = moved_notify(moved, sizeof(moved), clock_nonce(1), "10.3.3.7/32", "k1");
	etr_input(e->etr, &ms, 4342, moved, mlen, 2);
	assert_int_equal(nout, 1); /* the ack */
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(aways(e), 1);
	assert_int_equal(c->moved_notifies, 1);
	/* the Map-Server lost our ack: its retransmission is acknowledged, not applied again */
	etr_input(e->etr, &ms, 4342, moved, mlen, 5);
	assert_int_equal(nout, 2);
	assert_int_equal(lisp_msg_type(out[1].buf, out[1].len), LISP_TYPE_MAP_NOTIFY_ACK);
	assert_memory_equal(out[1].buf + 4, moved + 4, 8);
	assert_int_equal(c->notifies_repeated, 1);
	assert_int_equal(c->moved_notifies, 1);
	/* the VM comes back; a replay of the old notify does not send it away again */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 10), 1);
	assert_int_equal(aways(e), 0);
	nevents = 0;
	etr_input(e->etr, &ms, 4342, moved, mlen, 11);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(aways(e), 0);
	assert_int_equal(nevents, 0);
	assert_int_equal(c->dyn_moved, 1);
	assert_int_equal(c->notifies_repeated, 2);
	/* 64 newer notifies (other EIDs) push it below the window: refused, no answer */
	for (int i = 0; i < 64; i++) {
		snprintf(eid, sizeof(eid), "10.9.9.%d/32", i + 1);
		len = moved_notify(buf, sizeof(buf), clock_nonce(0), eid, "k1");
		etr_input(e->etr, &ms, 4342, buf, len, 12);
		nevents = nout = 0;
	}
	assert_int_equal(c->moved_notifies, 65);
	nout = 0;
	etr_input(e->etr, &ms, 4342, moved, mlen, 13);
	assert_int_equal(nout, 0);
	assert_int_equal(c->notifies_stale, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	/* a capture from before our start (less 120 s): refused */
	len = moved_notify(buf, sizeof(buf), clock_nonce(200), "10.3.3.7/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 14);
	assert_int_equal(nout, 0);
	assert_int_equal(c->notifies_stale, 2);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(c->moved_notifies, 65);
}

/* After a restart the window is empty: recent notifies still apply, captures of old ones do not. */
static void test_notify_after_restart(void **state)
{
	struct env *e = *state;
	struct lisp_addr ms = A("192.0.2.1");
	uint8_t buf[512];
	size_t len;

	vm_registered(e); /* a new etr: our start is now */
	len = moved_notify(buf, sizeof(buf), clock_nonce(300), "10.3.3.7/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 2);
	assert_int_equal(nout, 0);
	assert_int_equal(etr_counters(e->etr)->notifies_stale, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	/* sent 60 s before our start and retransmitted since: taken */
	len = moved_notify(buf, sizeof(buf), clock_nonce(60), "10.3.3.7/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 3);
	assert_int_equal(nout, 1);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
	/* a reload keeps the window of a map-server it keeps */
	etr_configure(e->etr, e->conf, 4);
	etr_input(e->etr, &ms, 4342, buf, len, 5);
	assert_int_equal(etr_counters(e->etr)->notifies_repeated, 1);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
}

/* notify-nonce random (a third-party Map-Server): any nonce, repeats among the recent ones caught. */
static void test_notify_random_nonces(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_addr ms = A("192.0.2.1");
	uint8_t buf[512];
	size_t len;

	restart(e,
		"router lisp\n ipv4 etr\n"
		" ipv4 etr map-server 192.0.2.1 key k1 notify-nonce random\n",
		&io);
	nout = 0;
	len = moved_notify(buf, sizeof(buf), 0x1234, "10.1.1.77/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
	etr_input(e->etr, &ms, 4342, buf, len, 2);
	assert_int_equal(nout, 2);
	assert_int_equal(etr_counters(e->etr)->notifies_repeated, 1);
	len = moved_notify(buf, sizeof(buf), 7, "10.1.1.78/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 3);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 2);
	assert_int_equal(etr_counters(e->etr)->notifies_stale, 0);
}

/* A Map-Request for our EID; records copies of its EID-record; the ITR-RLOC itr. */
static size_t request(uint8_t *buf, size_t cap, const char *itr, unsigned records)
{
	struct lisp_map_request q = { .nonce = 77, .itr_rloc_count = 1 };
	struct lisp_prefix eids[255];
	struct buf_writer w;

	q.itr_rlocs[0] = A(itr);
	for (unsigned i = 0; i < records; i++)
		assert_int_equal(lisp_prefix_parse("10.1.1.5/32", 4100, &eids[i]), 0);
	buf_writer_init(&w, buf, cap);
	assert_int_equal(lisp_msg_encode_map_request(&w, &q, eids, records), 0);
	return w.off;
}

/* Issue 17 item 2: one Map-Request, at most one Map-Reply (RFC 9301 senders use one record). */
static void test_one_reply_per_request(void **state)
{
	struct env *e = *state;
	struct lisp_addr itr = A("192.0.2.20");
	struct lisp_map_reply rep;
	uint8_t buf[8192];
	size_t len = request(buf, sizeof(buf), "192.0.2.20", 200);

	etr_input(e->etr, &itr, 50000, buf, len, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(lisp_msg_decode_map_reply(out[0].buf, out[0].len, &rep), 0);
	assert_int_equal(rep.records.count, 1);
	assert_int_equal(etr_counters(e->etr)->requests_answered, 1);
	assert_int_equal(etr_counters(e->etr)->request_records_ignored, 199);
}

/* Issue 17 item 2: Map-Replies per destination are limited (map-reply rate-limit), counted. */
static void test_reply_rate_limit(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_addr itr = A("192.0.2.20");
	uint8_t buf[512];
	size_t len = request(buf, sizeof(buf), "192.0.2.20", 1);
	char text[1024];

	snprintf(text, sizeof(text), "%s map-reply rate-limit 1 burst 3\n", conf_text);
	restart(e, text, &io);
	nout = 0;
	for (int i = 0; i < 10; i++)
		etr_input(e->etr, &itr, 50000, buf, len, 100);
	assert_int_equal(nout, 3);
	assert_int_equal(etr_counters(e->etr)->replies_rate_limited, 7);
	/* another destination is answered */
	len = request(buf, sizeof(buf), "192.0.2.21", 1);
	etr_input(e->etr, &itr, 50000, buf, len, 100);
	assert_int_equal(nout, 4);
	itr = A("192.0.2.21");
	assert_true(lisp_addr_equal(&out[3].dst, &itr));
	/* a second later, one more for the first */
	len = request(buf, sizeof(buf), "192.0.2.20", 1);
	etr_input(e->etr, &itr, 50000, buf, len, 101);
	etr_input(e->etr, &itr, 50000, buf, len, 101);
	assert_int_equal(nout, 5);
	assert_int_equal(etr_counters(e->etr)->replies_rate_limited, 8);
	assert_int_equal(etr_counters(e->etr)->requests_answered, 5);
}

/*
 * Our ETR and our Map-Server, wired together: site DC of the Map-Server
 * holds 10.1.1.0/24 (instance-id 4100) and 10.3.3.0/24 more-specifics.
 */
static const char *ms_conf_text =
	"router lisp\n"
	" site DC\n"
	"  authentication-key k1\n"
	"  eid-prefix instance-id 4100 10.1.1.0/24\n"
	"  eid-prefix instance-id 4100 10.3.3.0/24 accept-more-specifics\n"
	" ipv4 map-server\n";

struct pair {
	struct xtr_conf *msconf;
	struct ms *ms;
	struct xtr_counters gc;
};

static void pair_open(struct pair *p)
{
	struct ms_io io = { .send = capture_send };

	p->msconf = parse(ms_conf_text);
	p->ms = ms_new(&io, &p->gc);
	ms_configure(p->ms, &p->msconf->msmr, &p->msconf->reply, 0);
}

static void pair_close(struct pair *p)
{
	ms_free(p->ms);
	xtr_conf_free(p->msconf);
}

/* A Map-Register from another xTR (192.0.2.30) for eid, nonce n, signed with k1 (alg, alen). */
static size_t foreign_register(uint8_t *buf, size_t cap, const char *eid, uint64_t n, uint8_t alg,
			       uint16_t alen)
{
	struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
	struct lisp_map_register m = { .want_map_notify = true,
				       .nonce = n,
				       .auth = { .alg_id = alg, .len = alen } };
	struct lisp_locator l = { .priority = 1, .weight = 100, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = {
		.ttl = 1440, .authoritative = true, .loc_count = 1, .locs = &l
	};
	struct buf_writer w;

	l.addr[0] = A("192.0.2.30");
	assert_int_equal(lisp_prefix_parse(eid, 4100, &r.eid), 0);
	buf_writer_init(&w, buf, cap);
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	return w.off;
}

/* Issue 17 item 5a: an ETR with hash-function sha1 registers with our Map-Server. */
static void test_sha1_registration(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
	struct lisp_addr rloc = A("192.0.2.10"), ms = A("192.0.2.1"), other = A("192.0.2.30");
	struct lisp_map_register m;
	struct etr_reg_info ri;
	struct pair p;
	char text[1024];
	uint8_t buf[512];
	size_t len;

	pair_open(&p);
	snprintf(text, sizeof(text), "%s", conf_text);
	*strrchr(text, '\n') = '\0';
	strcat(text, " hash-function sha1\n");
	restart(e, text, &io);
	nout = 0;
	etr_tick(e->etr, 0);
	assert_int_equal(nout, 1);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m), 0);
	assert_int_equal(m.auth.key_id, 0);
	assert_int_equal(m.auth.alg_id, LISP_ALG_HMAC_SHA1_96);
	assert_int_equal(m.auth.len, 20); /* the full MAC */
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	/* our Map-Server takes it and answers with SHA-1 too */
	ms_input(p.ms, &rloc, 4342, out[0].buf, out[0].len, 0);
	assert_int_equal(ms_reg_count(p.ms), 1);
	assert_int_equal(nout, 2);
	assert_int_equal(lisp_msg_type(out[1].buf, out[1].len), LISP_TYPE_MAP_NOTIFY);
	assert_int_equal(out[1].buf[13], LISP_ALG_HMAC_SHA1_96);
	assert_int_equal(out[1].buf[15], 20);
	assert_int_equal(lisp_auth_verify(k, out[1].buf, out[1].len), 0);
	etr_input(e->etr, &ms, 4342, out[1].buf, out[1].len, 0.1);
	etr_reg_info(e->etr, 0, &ri);
	assert_true(ri.registered);
	assert_int_equal(etr_counters(e->etr)->notifies, 1);
	/* and the RFC 2404 form, 12 bytes (another xTR): accepted, answered in the same form */
	nout = 0;
	len = foreign_register(buf, sizeof(buf), "10.3.3.8/32", 2, LISP_ALG_HMAC_SHA1_96, 12);
	ms_input(p.ms, &other, 4342, buf, len, 1);
	assert_int_equal(ms_reg_count(p.ms), 2);
	assert_int_equal(nout, 1);
	assert_int_equal(out[0].buf[13], LISP_ALG_HMAC_SHA1_96);
	assert_int_equal(out[0].buf[15], 12);
	assert_int_equal(lisp_auth_verify(k, out[0].buf, out[0].len), 0);
	lisp_auth_key_free(k);
	pair_close(&p);
}

/* The nonce of a control message (bytes 4-11). */
static uint64_t nonce_of(const uint8_t *msg)
{
	uint64_t n = 0;

	for (int i = 4; i < 12; i++)
		n = n << 8 | msg[i];
	return n;
}

/* The index in out[] (from from on) of the first Map-Notify sent to dst, or -1. */
static int sent_notify_to(int from, const char *dst)
{
	struct lisp_addr d = A(dst);

	for (int i = from; i < nout; i++)
		if (lisp_addr_equal(&out[i].dst, &d) &&
		    lisp_msg_type(out[i].buf, out[i].len) == LISP_TYPE_MAP_NOTIFY)
			return i;
	return -1;
}

/*
 * Issue 17 item 4 end to end: our Map-Server's unsolicited Map-Notifies
 * carry increasing clock nonces; the VM moves away and back, and a replay
 * of the first Map-Notify changes nothing at the ETR.
 */
/*
 * Found by tests/sim (issue 19): a withdrawal is sent again until the
 * Map-Server acknowledges it. Sent once, one lost (the Map-Server down a
 * moment) left the VM registered where it no longer was for 3 minutes.
 */
static void test_withdrawal_retransmitted(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_addr vm = A("10.3.3.7"), ms = A("192.0.2.1");
	struct lisp_map_register m;
	uint8_t buf[512];
	size_t len;

	restart(e, dyn_conf_text, &io);
	nout = 0;
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 1), 1);
	len = notify_for(0, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 1);
	/* it departs: withdrawn; lost, so sent again 1, 2, 4, 8 and 16 s later, then given up */
	nout = 0;
	assert_int_equal(etr_dyn_clear(e->etr, NULL, 2), 1);
	assert_int_equal(nout, 1);
	etr_tick(e->etr, 2.5);
	assert_int_equal(nout, 1);
	etr_tick(e->etr, 3);
	assert_int_equal(nout, 2);
	assert_int_equal(lisp_msg_decode_map_register(out[1].buf, out[1].len, &m), 0);
	assert_true(nonce_of(out[1].buf) > nonce_of(out[0].buf)); /* a new nonce: not a replay */
	for (double t = 4; t <= 70; t += 1)
		etr_tick(e->etr, t);
	assert_int_equal(nout, 6); /* at 2, 3, 5, 9, 17 and 33 s */
	assert_int_equal(etr_counters(e->etr)->withdrawals_unacked, 1);
	/* again, and this time acknowledged at the second try: not sent any more */
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 80), 1);
	nout = 0;
	assert_int_equal(etr_dyn_clear(e->etr, NULL, 81), 1);
	etr_tick(e->etr, 82);
	assert_int_equal(nout, 2);
	len = notify_for(1, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 82.1);
	for (double t = 83; t <= 150; t += 1)
		etr_tick(e->etr, t);
	assert_int_equal(nout, 2);
	assert_int_equal(etr_counters(e->etr)->withdrawals_unacked, 1);
}

/* A withdrawal still unacknowledged never overtakes a registration of the same EID after it. */
static void test_withdrawal_superseded(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_addr vm = A("10.3.3.7"), ms = A("192.0.2.1");
	struct lisp_map_register m;
	struct lisp_eid_record r;
	struct lisp_iter it;
	uint8_t buf[512];
	size_t len;

	restart(e, dyn_conf_text, &io);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 1), 1);
	len = notify_for(0, "k1", buf);
	etr_input(e->etr, &ms, 4342, buf, len, 1);
	assert_int_equal(etr_dyn_clear(e->etr, NULL, 2), 1);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 2.5), 1);
	nout = 0;
	for (double t = 3; t <= 40; t += 1)
		etr_tick(e->etr, t);
	for (int i = 0; i < nout; i++) { /* registrations (retransmitted), no withdrawal */
		assert_int_equal(lisp_msg_decode_map_register(out[i].buf, out[i].len, &m), 0);
		lisp_record_iter_init(&it, &m.records);
		assert_true(lisp_record_iter_next(&it, &r));
		assert_true(r.ttl > 0);
	}
	assert_true(nout > 0);
	assert_int_equal(etr_counters(e->etr)->withdrawals_unacked, 0);
}

struct reg_find {
	const struct lisp_prefix *p;
	const struct ms_reg *reg;
};

static int find_row(const struct ms_row *row, void *arg)
{
	struct reg_find *f = arg;

	if (!row->reg || !lisp_prefix_equal(&row->p, f->p))
		return 0;
	f->reg = row->reg;
	return 1;
}

/* The registrants of exactly p at Map-Server ms. */
static int registrants(struct ms *ms, const char *prefix)
{
	struct lisp_prefix p;
	const struct ms_site *site;
	struct reg_find f = { .p = &p };
	int n = 0;

	assert_int_equal(lisp_prefix_parse(prefix, 4100, &p), 0);
	site = ms_site_by_prefix(ms, &p);
	if (!site)
		return 0;
	ms_site_rows(ms, site, find_row, &f);
	for (const struct ms_registrant *r = f.reg ? ms_reg_registrants(f.reg) : NULL; r; n++) {
		struct ms_registrant_info ri;

		r = ms_registrant_info(r, &ri);
	}
	return n;
}

/*
 * Found by tests/sim (issue 19): our Map-Registers carry an xTR-ID, the
 * same after a restart, so that our Map-Server keys its strict nonces on
 * it: a capture replayed from another source address is refused, not
 * taken for a new xTR (a second registrant, maybe with a VM's old
 * locators). Without it, the replay below registered a second time.
 */
static void test_xtr_id_binds_replays(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_addr rloc = A("192.0.2.10"), spoofed = A("192.0.2.66");
	struct lisp_map_register m1, m2;
	uint8_t cap[512];
	size_t clen;
	struct pair p;

	pair_open(&p);
	nout = 0;
	etr_tick(e->etr, 0);
	assert_int_equal(nout, 1);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m1), 0);
	assert_true(m1.xtr_id_present);
	clen = out[0].len;
	memcpy(cap, out[0].buf, clen);
	ms_input(p.ms, &rloc, 4342, cap, clen, 0);
	assert_int_equal(registrants(p.ms, "10.1.1.0/24"), 1);
	/* restarted: the same xTR-ID */
	restart(e, conf_text, &io);
	nout = 0;
	etr_tick(e->etr, 1);
	assert_int_equal(nout, 1);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m2), 0);
	assert_true(m2.xtr_id_present);
	assert_memory_equal(m1.xtr_id, m2.xtr_id, 16);
	ms_input(p.ms, &rloc, 4342, out[0].buf, out[0].len, 1);
	/* the first capture, from another address: a replay */
	ms_input(p.ms, &spoofed, 4342, cap, clen, 2);
	assert_int_equal(registrants(p.ms, "10.1.1.0/24"), 1);
	assert_int_equal(ms_site_counters(ms_site_at(p.ms, 0))->nonce_replays, 1);
	pair_close(&p);
}

/* Another locator set, another xTR (the gateways of one site differ). */
static void test_xtr_id_per_locators(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_map_register m1, m2;
	char text[1024];

	nout = 0;
	etr_tick(e->etr, 0);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m1), 0);
	snprintf(text, sizeof(text), "%s", conf_text);
	memcpy(strstr(text, "ipv4-interface eth0"), "192.0.2.11         ", 19);
	restart(e, text, &io);
	nout = 0;
	etr_tick(e->etr, 0);
	assert_int_equal(lisp_msg_decode_map_register(out[0].buf, out[0].len, &m2), 0);
	assert_true(m1.xtr_id_present && m2.xtr_id_present);
	assert_memory_not_equal(m1.xtr_id, m2.xtr_id, 16);
}

static uint64_t test_clock_ns;

static uint64_t test_clock(void *arg)
{
	(void)arg;
	return test_clock_ns;
}

static void test_random(void *arg, void *buf, size_t len)
{
	(void)arg;
	memset(buf, 0x5a, len);
}

/*
 * Found by tests/sim (issue 19): the Map-Register nonce follows the
 * realtime clock. It used to count up from the clock at start, so that a
 * gateway whose clock stepped back 20 s across a restart sent nonces below
 * the last one the Map-Server kept, for good (one more a message): every
 * Map-Register refused. Now only until the clock passes the old value.
 */
static void test_register_nonce_follows_clock(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct platform_ops ops = { .realtime_ns = test_clock, .random = test_random };
	uint64_t last, first;

	platform_set(&ops);
	test_clock_ns = 2000000000ull * 1000000000ull;
	restart(e, conf_text, &io);
	nout = 0;
	etr_tick(e->etr, 0);
	etr_tick(e->etr, 1); /* a retransmission */
	assert_int_equal(nout, 2);
	last = nonce_of(out[1].buf);
	assert_true(last > nonce_of(out[0].buf));
	/* restarted with the clock 20 s back */
	test_clock_ns -= 20000000000ull;
	restart(e, conf_text, &io);
	nout = 0;
	etr_tick(e->etr, 0);
	first = nonce_of(out[0].buf);
	assert_true(first < last); /* refused by a strict Map-Server, as it must be */
	/* 21 s later its clock has passed the old value: so have its nonces */
	test_clock_ns += 21000000000ull;
	etr_tick(e->etr, 1);
	etr_tick(e->etr, 3);
	assert_true(nout >= 2);
	assert_true(nonce_of(out[nout - 1].buf) > last);
	platform_set(NULL);
}

/*
 * Found by tests/sim (issue 19): a Map-Notify the Map-Server sent another
 * ETR of the site ("10.3.3.7 now lives at 192.0.2.10", our locator),
 * replayed to us, is not a move away from us: no away entry pointing at
 * ourselves (a loop for every packet to that EID).
 */
static void test_notice_naming_us_is_no_move(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr };
	struct lisp_auth_key *k = lisp_auth_key_new("k1", 2);
	struct lisp_map_notify n = { .nonce = clock_nonce(0), .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 50, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 10, .loc_count = 1, .locs = &l };
	struct lisp_addr ms = A("192.0.2.1");
	struct buf_writer w;
	uint8_t buf[512];

	restart(e, dyn_conf_text, &io);
	l.addr[0] = A("192.0.2.10"); /* eth0: ours */
	assert_int_equal(lisp_prefix_parse("10.3.3.7/32", 4100, &r.eid), 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &n, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(k, buf, w.off), 0);
	lisp_auth_key_free(k);
	etr_input(e->etr, &ms, 4342, buf, w.off, 1);
	assert_int_equal(aways(e), 0);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 0);
	assert_int_equal(etr_counters(e->etr)->notifies_unmatched, 1);
}

static void test_move_replay_with_our_ms(void **state)
{
	struct env *e = *state;
	struct lisp_addr rloc = A("192.0.2.10"), ms = A("192.0.2.1"), other = A("192.0.2.30");
	struct lisp_addr vm = A("10.3.3.7");
	uint8_t reg[512], moved[512];
	uint64_t before = clock_nonce(0), n1, n2;
	size_t len, mlen;
	struct pair p;
	int i;

	vm_registered(e);
	pair_open(&p);
	etr_tick(e->etr, 70); /* the refresh, as the Map-Server sees it */
	assert_int_equal(nout, 1);
	ms_input(p.ms, &rloc, 4342, out[0].buf, out[0].len, 70);
	/* the VM moves to 192.0.2.30: the Map-Server tells us */
	len = foreign_register(reg, sizeof(reg), "10.3.3.7/32", 1, LISP_ALG_HMAC_SHA256_128, 32);
	nout = 0;
	ms_input(p.ms, &other, 4342, reg, len, 80);
	i = sent_notify_to(0, "192.0.2.10");
	assert_true(i >= 0);
	mlen = out[i].len;
	memcpy(moved, out[i].buf, mlen);
	n1 = nonce_of(moved);
	assert_true(n1 >= before); /* the Map-Server's clock in ns */
	etr_input(e->etr, &ms, 4342, moved, mlen, 80);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
	/* it comes back; the Map-Server tells 192.0.2.30, with a larger nonce */
	nout = 0;
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr-1", 90), 1);
	assert_int_equal(nout, 1);
	ms_input(p.ms, &rloc, 4342, out[0].buf, out[0].len, 90);
	i = sent_notify_to(1, "192.0.2.30");
	assert_true(i >= 0);
	n2 = nonce_of(out[i].buf);
	assert_true(n2 > n1);
	/* the capture of the first Map-Notify, replayed: acknowledged, nothing moves */
	nout = 0;
	etr_input(e->etr, &ms, 4342, moved, mlen, 100);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(aways(e), 0);
	assert_int_equal(etr_counters(e->etr)->moved_notifies, 1);
	assert_int_equal(etr_counters(e->etr)->notifies_repeated, 1);
	pair_close(&p);
}

/*
 * A host whose VM is leaving (etr_dyn_leaving): flagged for the data plane
 * until it stays (HOLD_END, nothing sent), its hold time ends (etr_tick:
 * HOLD_END), or the Map-Server says it moved (the host goes, HOLD_END, then
 * the away entry: AWAY_UP); counted; refused for no host of ours and without
 * migration-hold; a second notice changes nothing.
 */
static void test_leaving(void **state)
{
	struct env *e = *state;
	struct etr_io io = { .send = capture_send, .if_addr = fake_if_addr, .event = record_event };
	struct lisp_addr vm, ms;
	struct lisp_prefix host, other;
	struct etr_dyn_info info;
	const struct etr_local *l;
	const struct etr_counters *c;
	size_t packets, bytes;
	uint8_t buf[512];
	size_t len;

	etr_free(e->etr);
	xtr_conf_free(e->conf);
	e->conf = parse(dyn_conf_text);
	e->etr = etr_new(&io);
	etr_configure(e->etr, e->conf, 0);
	c = etr_counters(e->etr);
	assert_int_equal(lisp_addr_parse("10.3.3.7", &vm), 0);
	assert_int_equal(lisp_addr_parse("192.0.2.1", &ms), 0);
	assert_int_equal(lisp_prefix_parse("10.3.3.7/32", 4100, &host), 0);
	assert_int_equal(lisp_prefix_parse("10.3.3.8/32", 4100, &other), 0);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr1", 5), 1);
	l = lpmh_lookup(etr_local_table(e->etr), 4100, &vm);
	assert_non_null(l);

	/* leaving, then it stays: the data plane lets go (HOLD_END), nothing sent */
	nout = nevents = 0;
	assert_int_equal(etr_dyn_leaving(e->etr, &other, true, 10), -ENOENT);
	assert_int_equal(etr_dyn_hold_quota(e->etr, &other, &packets, &bytes), -ENOENT);
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 9.9), 1);
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 10), 0); /* told again: from now */
	assert_true(l->flags & LOCAL_F_LEAVING);
	assert_int_equal(etr_dyn_hold_quota(e->etr, &host, &packets, &bytes), 0);
	assert_int_equal(packets, XTR_MHOLD_PACKETS_DEFAULT);
	assert_int_equal(bytes, XTR_MHOLD_BYTES_DEFAULT);
	assert_int_equal(etr_dyn_walk(e->etr, dyn_info, &info), 1);
	assert_true(info.leaving_since == 9.9 && info.leaving_until == 12); /* 2000 ms */
	assert_true(etr_dyn_hold_next(e->etr) == 12);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].ev, ETR_EV_HOLD_START);
	assert_int_equal(events[1].ev, ETR_EV_HOLD_START);
	nevents = 1;
	assert_int_equal(etr_dyn_leaving(e->etr, &host, false, 10.5), 1);
	assert_false(l->flags & LOCAL_F_LEAVING);
	assert_int_equal(etr_dyn_leaving(e->etr, &host, false, 10.6), 0);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[1].ev, ETR_EV_HOLD_END);
	assert_true(lisp_prefix_equal(&events[1].p, &host));
	assert_true(etr_dyn_hold_next(e->etr) == 0);
	assert_int_equal(nout, 0);
	assert_int_equal(etr_dyn_walk(e->etr, dyn_info, &info), 1);
	assert_true(info.leaving_since == 0);

	/* leaving, and nothing more: the hold time ends after 2 s (its timer, or the tick) */
	nevents = 0;
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 20), 1);
	etr_dyn_hold_expire(e->etr, 21.9);
	assert_true(l->flags & LOCAL_F_LEAVING);
	etr_dyn_hold_expire(e->etr, 22.0);
	assert_false(l->flags & LOCAL_F_LEAVING);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[1].ev, ETR_EV_HOLD_END);
	nevents = 0;
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 23), 1);
	etr_tick(e->etr, 25.5);
	assert_false(l->flags & LOCAL_F_LEAVING);
	assert_int_equal(nevents, 2);
	assert_int_equal(c->leaving_expired, 2);

	/* leaving, then the Map-Server's Map-Notify: the host goes, its hold ends, the away entry
	 * is in place before anything is sent on (the data plane acts after the callback) */
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 30), 1);
	nout = nevents = 0;
	len = moved_notify(buf, sizeof(buf), clock_nonce(0), "10.3.3.7/32", "k1");
	etr_input(e->etr, &ms, 4342, buf, len, 30.05);
	assert_int_equal(nevents, 3);
	assert_int_equal(events[0].ev, ETR_EV_DYN_DOWN);
	assert_int_equal(events[1].ev, ETR_EV_HOLD_END);
	assert_int_equal(events[2].ev, ETR_EV_AWAY_UP);
	l = lpmh_lookup(etr_local_table(e->etr), 4100, &vm);
	assert_int_equal(l->kind, LOCAL_AWAY);
	assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 31), -ENOENT); /* away: not ours */
	assert_true(etr_dyn_hold_next(e->etr) == 0);
	assert_int_equal(c->leaving, 4);
	assert_int_equal(c->leaving_stayed, 1);
	assert_int_equal(c->leaving_expired, 2);
	assert_int_equal(c->leaving_moved, 1);
	assert_int_equal(c->leaving_refused, 2);

	/* no migration-hold in its dynamic-eid: refused, nothing held */
	{
		struct xtr_conf *old = e->conf;

		e->conf = parse("router lisp\n"
				" eid-table vrf T instance-id 4100\n"
				"  dynamic-eid VMS\n"
				"   database-mapping 10.3.3.0/24 192.0.2.20 priority 1 weight 100\n"
				"   no migration-hold\n"
				"   exit\n"
				"  exit\n"
				" ipv4 etr\n"
				" ipv4 etr map-server 192.0.2.1 key k1\n"
				"interface vmbr\n"
				" lisp mobility VMS\n");
		etr_configure(e->etr, e->conf, 40);
		xtr_conf_free(old);
		assert_true(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_FHR, "fhr1", 41) >= 0);
		assert_int_equal(etr_dyn_leaving(e->etr, &host, true, 42), -EPERM);
		l = lpmh_lookup(etr_local_table(e->etr), 4100, &vm);
		assert_false(l->flags & LOCAL_F_LEAVING);
		assert_int_equal(c->leaving_refused, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_on_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_retransmitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_superseded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dynamic_eid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_learning_needs_consent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_never_takes_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_learned_ages_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_replay_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_random_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_reply_per_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha1_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_replay_with_our_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xtr_id_binds_replays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xtr_id_per_locators, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_nonce_follows_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_naming_us_is_no_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaving, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
