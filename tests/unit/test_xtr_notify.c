/* The gateway's end of the eid-notify channel, with an ETR behind it (fake clock and sockets). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/notify.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

static const char *conf_text = "router lisp\n"
			       " locator-set L\n  192.0.2.10 priority 1 weight 1\n"
			       " eid-table vrf A instance-id 4100\n"
			       "  dynamic-eid VMS\n"
			       "   database-mapping 198.51.100.0/24 locator-set L\n"
			       "   eid-notify authentication-key key-a\n"
			       " eid-table vrf B instance-id 4200\n"
			       "  dynamic-eid VMS-B\n"
			       "   database-mapping 198.51.100.0/24 locator-set L\n"
			       "   eid-notify authentication-key key-b\n"
			       " ipv4 etr\n ipv4 etr map-server 192.0.2.1 key ms-key\n";

struct dgram {
	struct lisp_addr dst;
	uint16_t port;
	uint8_t buf[2048];
	size_t len;
};

static struct dgram to_fhr[64], to_ms[64];
static int nfhr, nms;
static struct xtr_notify *gw;

static int send_fhr(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	(void)arg;
	assert_true(nfhr < 64 && len <= 2048);
	to_fhr[nfhr] = (struct dgram){ .dst = *dst, .port = dport, .len = len };
	memcpy(to_fhr[nfhr++].buf, buf, len);
	return 0;
}

static int send_ms(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	assert_true(nms < 64 && len <= 2048);
	to_ms[nms] = (struct dgram){ .dst = *dst, .port = dport, .len = len };
	memcpy(to_ms[nms++].buf, buf, len);
	return 0;
}

static int nroutes; /* host routes toward an FHR: added minus removed */
static struct lisp_addr route_via;

static void on_route(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr, bool add)
{
	(void)arg;
	(void)p;
	nroutes += add ? 1 : -1;
	route_via = *fhr;
}

static void on_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	(void)arg;
	(void)ifname;
	xtr_notify_event(gw, ev, p, 50);
}

struct env {
	struct xtr_conf *conf;
	struct etr *etr;
	struct lisp_auth_key *ka, *kb, *kms;
	struct lisp_addr fhr;
	uint64_t seq;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct etr_io eio = { .send = send_ms, .if_addr = fake_no_if_addr, .event = on_event };
	struct xtr_notify_io nio = { .send = send_fhr, .route = on_route };
	char err[256];

	e->conf = xtr_conf_parse_string("t", conf_text, err, sizeof(err));
	if (!e->conf)
		fail_msg("%s", err);
	e->etr = etr_new(&eio);
	etr_configure(e->etr, e->conf, 0);
	gw = xtr_notify_new(&nio, e->etr, "gw-dc1");
	xtr_notify_configure(gw, e->conf);
	e->ka = lisp_auth_key_new("key-a", 5);
	e->kb = lisp_auth_key_new("key-b", 5);
	e->kms = lisp_auth_key_new("ms-key", 6);
	lisp_addr_parse("192.0.2.50", &e->fhr);
	nfhr = nms = 0;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	xtr_notify_free(gw);
	etr_free(e->etr);
	xtr_conf_free(e->conf);
	lisp_auth_key_free(e->ka);
	lisp_auth_key_free(e->kb);
	lisp_auth_key_free(e->kms);
	free(e);
	return 0;
}

/* An FHR's datagram: env with its id and session, signed with k for instance-id iid. */
static size_t fhr_dgram(struct env *e, struct lisp_auth_key *k, uint32_t iid,
			Vmroam__Notify__Envelope *env, uint8_t *out)
{
	env->instance_id = iid;
	env->sender = (char *)(uintptr_t) "fhr-a1";
	env->session = 1000;
	env->seq = ++e->seq;
	return notify_pack(k, iid, env, out, 2048);
}

static size_t event(struct env *e, struct lisp_auth_key *k, uint32_t iid, const char *policy,
		    const char *eid, Vmroam__Notify__EventKind kind, uint64_t evseq, uint8_t *out)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__eid_event__init(&ev);
	ev.kind = kind;
	ev.dynamic_eid = (char *)(uintptr_t)policy;
	ev.eid = (char *)(uintptr_t)eid;
	ev.eid_len = 32;
	ev.event_seq = evseq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
	env.eid_event = &ev;
	return fhr_dgram(e, k, iid, &env, out);
}

/* The last datagram to the FHR, decoded with k (NULL if none). */
static Vmroam__Notify__Envelope *last_to_fhr(struct lisp_auth_key *k)
{
	int err;

	return nfhr ? notify_unpack(k, to_fhr[nfhr - 1].buf, to_fhr[nfhr - 1].len, &err) : NULL;
}

static int32_t last_ack(struct env *e, uint64_t seq)
{
	Vmroam__Notify__Envelope *r = last_to_fhr(e->ka ? e->ka : NULL);
	int32_t status;

	assert_non_null(r);
	assert_int_equal(r->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_ACK);
	assert_int_equal(r->ack->seq, seq);
	status = r->ack->status;
	vmroam__notify__envelope__free_unpacked(r, NULL);
	return status;
}

static int dyn_who(const struct etr_dyn_info *d, void *arg)
{
	snprintf(arg, 64, "%s", d->who);
	return 1;
}

static void test_arrival_and_refusals(void **state)
{
	struct env *e = *state;
	uint8_t b[2048];
	char who[64] = "";
	size_t len;

	/* an arrival in the dynamic-eid: acknowledged, registered at once, the FHR named */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 1);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_true(lisp_addr_equal(&to_fhr[0].dst, &e->fhr) && to_fhr[0].port == 40000);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(nms, 1); /* its Map-Register */
	etr_dyn_walk(e->etr, dyn_who, who);
	assert_string_equal(who, "fhr-a1");
	/* the same datagram again: a replay, not even acknowledged */
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 1);
	assert_int_equal(nfhr, 1);
	assert_int_equal(xtr_notify_counters(gw)->replays, 1);
	/* outside the dynamic-eid's prefixes: refused, counted */
	len = event(e, e->ka, 4100, "VMS", "203.0.113.5", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 2);
	assert_int_equal(last_ack(e, e->seq), -EDOM);
	assert_int_equal(xtr_notify_counters(gw)->refused_prefix, 1);
	/* another dynamic-eid than the key's */
	len = event(e, e->ka, 4100, "VMS-B", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		    1, b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 2);
	assert_int_equal(last_ack(e, e->seq), -EPERM);
	/* tenant B's key claiming tenant A's instance-id: authentication fails, nothing answered */
	nfhr = 0;
	len = event(e, e->kb, 4100, "VMS", "198.51.100.12", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 3);
	assert_int_equal(nfhr, 0);
	assert_int_equal(xtr_notify_counters(gw)->auth_failures, 1);
	/* tenant B in its own instance-id: learned there, isolated from A's 198.51.100.10 */
	len = event(e, e->kb, 4200, "VMS-B", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		    1, b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 3);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	assert_int_equal(xtr_notify_peer_count(gw), 2); /* fhr-a1 of 4100 and of 4200 */
}

static void test_departure_resync_and_death(void **state)
{
	struct env *e = *state;
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Resync rs;
	struct xtr_notify_peer_info info;
	uint8_t b[2048];
	size_t len;

	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 1);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 1);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	/* an older event about .10 arriving late is ignored */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 0,
		    b);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 2,
		    b);
	nms = 0;
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 2); /* departed: withdrawn */
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(nms, 1);
	/* a complete resync that lists nothing: .11 is gone too */
	vmroam__notify__envelope__init(&env);
	vmroam__notify__resync__init(&rs);
	rs.complete = true;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC;
	env.resync = &rs;
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 3);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	/* keepalives go out every tick while the FHR is heard; silent 3.5 s: down */
	nfhr = 0;
	xtr_notify_tick(gw, 4);
	assert_int_equal(nfhr, 1);
	xtr_notify_peer_info(gw, 0, &info);
	assert_true(info.alive);
	xtr_notify_tick(gw, 3 + NOTIFY_DEAD + 0.1);
	xtr_notify_peer_info(gw, 0, &info);
	assert_false(info.alive);
	assert_int_equal(info.c.deaths, 1);
}

/* The Map-Server says .10 moved: the FHR that reported it is told, until it acknowledges. */
static void test_moved_away(void **state)
{
	struct env *e = *state;
	struct lisp_map_notify mn = { .nonce = 0x55, .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 10, .loc_count = 1, .locs = &l };
	Vmroam__Notify__Envelope *got, env;
	Vmroam__Notify__Ack ack;
	struct lisp_addr ms;
	struct buf_writer w;
	uint8_t b[2048];
	uint64_t moved_seq;
	size_t len;

	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 49.5); /* heard recently */
	lisp_addr_parse("192.0.2.1", &ms);
	lisp_addr_parse("192.0.2.11", &l.addr[0]);
	lisp_prefix_parse("198.51.100.10/32", 4100, &r.eid);
	buf_writer_init(&w, b, sizeof(b));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &mn, &r, 1), 0);
	assert_int_equal(lisp_auth_sign(e->kms, b, w.off), 0);
	nfhr = 0;
	etr_input(e->etr, &ms, 4342, b, w.off, 50);
	assert_int_equal(nfhr, 1);
	got = last_to_fhr(e->ka);
	assert_non_null(got);
	assert_int_equal(got->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY);
	assert_string_equal(got->moved_away->eid, "198.51.100.10");
	assert_int_equal(got->moved_away->n_locators, 1);
	assert_string_equal(got->moved_away->locators[0], "192.0.2.11");
	moved_seq = got->seq;
	vmroam__notify__envelope__free_unpacked(got, NULL);
	/* not acknowledged: sent again (with the keepalive) */
	xtr_notify_tick(gw, 50.3);
	assert_int_equal(nfhr, 3);
	/* acknowledged: no more */
	vmroam__notify__envelope__init(&env);
	vmroam__notify__ack__init(&ack);
	ack.seq = moved_seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 50.4);
	nfhr = 0;
	xtr_notify_tick(gw, 52);
	assert_int_equal(nfhr, 1); /* the keepalive only */
}

/*
 * The gateway's data plane sees the VM's packets before its FHR's word
 * arrives (learned from data): the FHR's arrival must still route the EID
 * toward that FHR, or across subnets the gateway has no way to it.
 */
static void test_data_first_then_fhr(void **state)
{
	struct env *e = *state;
	struct lisp_addr vm;
	uint8_t b[2048];
	size_t len;

	nroutes = 0;
	lisp_addr_parse("198.51.100.10", &vm);
	assert_int_equal(etr_dyn_learn(e->etr, 4100, &vm, ETR_SRC_DATA, NULL, 1), 1);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 1);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_int_equal(nroutes, 1);
	assert_true(lisp_addr_equal(&route_via, &e->fhr));
	/* its departure takes the route away again */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 2,
		    b);
	xtr_notify_input(gw, &e->fhr, 40000, b, len, 2);
	assert_int_equal(nroutes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arrival_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_departure_resync_and_death, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_first_then_fhr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
