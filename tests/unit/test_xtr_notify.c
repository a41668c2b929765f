/*
 * The gateway's end of the eid-notify channel, with an ETR behind it (fake
 * clock and sockets): events, versions, snapshots, and every datagram an
 * outsider can replay or craft.
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

#include "lib/notify.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

static const char *conf_text = "router lisp\n"
			       " locator-set L\n  192.0.2.10 priority 1 weight 1\n"
			       " eid-table vrf A instance-id 4100\n"
			       "  dynamic-eid VMS\n"
			       "   database-mapping 198.51.100.0/24 locator-set L\n"
			       "   eid-notify authentication-key key-a\n"
			       "   learning data-plane\n" /* test_data_first_then_fhr */
			       " eid-table vrf B instance-id 4200\n"
			       "  dynamic-eid VMS-B\n"
			       "   database-mapping 198.51.100.0/24 locator-set L\n"
			       "   eid-notify authentication-key key-b\n"
			       " ipv4 etr\n ipv4 etr map-server 192.0.2.1 key ms-key\n";

struct dgram {
	struct lisp_addr dst, from;
	uint16_t port;
	uint8_t buf[2048];
	size_t len;
};

static struct dgram to_fhr[64], to_ms[64];
static int nfhr, nms;
static struct xtr_notify *gw;

static int send_fhr(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len)
{
	(void)arg;
	assert_true(nfhr < 64 && len <= 2048);
	to_fhr[nfhr] = (struct dgram){ .dst = *dst, .from = *from, .port = dport, .len = len };
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
	struct lisp_addr fhr, me; /* the FHR's address; ours, the one it sends to */
	uint64_t seq, session;
	const char *id;
};

/* A datagram from src to us. */
static void input(struct env *e, const struct lisp_addr *src, const uint8_t *b, size_t len,
		  double now)
{
	xtr_notify_input(gw, src, 40000, &e->me, b, len, now);
}

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
	lisp_addr_parse("192.0.2.10", &e->me);
	e->session = 1000;
	e->id = "fhr-a1";
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

/*
 * An FHR's datagram: env with its id and session, to us (our address and
 * session), on the channel of instance-id iid's dynamic-eid, signed with k.
 */
static size_t fhr_dgram(struct env *e, struct lisp_auth_key *k, uint32_t iid,
			Vmroam__Notify__Envelope *env, uint8_t *out)
{
	env->instance_id = iid;
	env->direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY;
	env->sender = (char *)(uintptr_t)e->id;
	env->receiver = (char *)(uintptr_t) "192.0.2.10";
	env->session = e->session;
	env->receiver_session = xtr_notify_session(gw);
	env->dynamic_eid = (char *)(uintptr_t)(iid == 4200 ? "VMS-B" : "VMS");
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
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_true(lisp_addr_equal(&to_fhr[0].dst, &e->fhr) && to_fhr[0].port == 40000);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(nms, 1); /* its Map-Register */
	etr_dyn_walk(e->etr, dyn_who, who);
	assert_string_equal(who, "fhr-a1");
	/* the same datagram again: applied once; acknowledged again (its Ack may have been lost) */
	nms = 0;
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(nfhr, 2);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_int_equal(nms, 0);
	assert_int_equal(xtr_notify_counters(gw)->replays, 1);
	/* outside the dynamic-eid's prefixes: refused, counted */
	len = event(e, e->ka, 4100, "VMS", "203.0.113.5", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(last_ack(e, e->seq), -EDOM);
	assert_int_equal(xtr_notify_counters(gw)->refused_prefix, 1);
	/* another dynamic-eid than the key's */
	len = event(e, e->ka, 4100, "VMS-B", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		    1, b);
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(last_ack(e, e->seq), -EPERM);
	/* tenant B's key claiming tenant A's instance-id: authentication fails, nothing answered */
	nfhr = 0;
	len = event(e, e->kb, 4100, "VMS", "198.51.100.12", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 3);
	assert_int_equal(nfhr, 0);
	assert_int_equal(xtr_notify_counters(gw)->auth_failures, 1);
	/* tenant B in its own instance-id: learned there, isolated from A's 198.51.100.10 */
	len = event(e, e->kb, 4200, "VMS-B", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		    1, b);
	input(e, &e->fhr, b, len, 3);
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
	input(e, &e->fhr, b, len, 1);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 2,
		    b);
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 3,
		    b);
	nms = 0;
	input(e, &e->fhr, b, len, 2); /* departed: withdrawn */
	assert_int_equal(etr_dyn_count(e->etr), 1);
	assert_int_equal(nms, 1);
	/* a complete snapshot at version 3 that lists nothing: .11 (version 2) is gone too */
	vmroam__notify__envelope__init(&env);
	vmroam__notify__resync__init(&rs);
	rs.complete = true;
	rs.as_of = 3;
	rs.part = rs.parts = 1;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC;
	env.resync = &rs;
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	input(e, &e->fhr, b, len, 3);
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
	struct lisp_map_notify mn = { .nonce = fake_ms_nonce(0x55), .auth = { .alg_id = 2 } };
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
	input(e, &e->fhr, b, len, 49.5); /* heard recently */
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
	input(e, &e->fhr, b, len, 50.4);
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
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_int_equal(nroutes, 1);
	assert_true(lisp_addr_equal(&route_via, &e->fhr));
	/* its departure takes the route away again */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 2,
		    b);
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(nroutes, 0);
}

/* A Resync snapshot part of the FHR at version as_of, listing eids (versions vers). */
static size_t snapshot(struct env *e, uint64_t as_of, uint32_t part, uint32_t parts,
		       const char *const *eids, const uint64_t *vers, size_t n, uint8_t *out)
{
	Vmroam__Notify__EidEvent ev[8], *evp[8];
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Resync rs;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		vmroam__notify__eid_event__init(&ev[i]);
		ev[i].dynamic_eid = (char *)(uintptr_t) "VMS";
		ev[i].eid = (char *)(uintptr_t)eids[i];
		ev[i].eid_len = 32;
		ev[i].event_seq = vers[i];
		evp[i] = &ev[i];
	}
	vmroam__notify__envelope__init(&env);
	vmroam__notify__resync__init(&rs);
	rs.eids = evp;
	rs.n_eids = n;
	rs.as_of = as_of;
	rs.part = part;
	rs.parts = parts;
	rs.complete = parts != 0;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC;
	env.resync = &rs;
	return fhr_dgram(e, e->ka, 4100, &env, out);
}

/*
 * The lab's lost VM: the FHR's first snapshot (empty, version 0) was
 * retransmitted and arrived after the arrival (version 1) it did not list:
 * applied as it was, it withdrew the VM, and nothing healed it. A snapshot
 * only removes what it does not list and was not changed after it.
 */
static void test_snapshot_never_undoes_newer(void **state)
{
	struct env *e = *state;
	uint8_t b0[2048], b[2048];
	size_t len0, len;

	len0 = snapshot(e, 0, 1, 1, NULL, NULL, 0, b0); /* sent first, delivered last */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	input(e, &e->fhr, b0, len0, 1.2);
	assert_int_equal(last_ack(e, e->seq - 1), 0);
	assert_int_equal(etr_dyn_count(e->etr), 1); /* still there */
	/* a snapshot taken after the arrival, without it, removes it */
	len = snapshot(e, 1, 1, 1, NULL, NULL, 0, b);
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(etr_dyn_count(e->etr), 0);
}

/* A snapshot in two parts: only when both arrived (in any order) is what they omit gone. */
static void test_snapshot_parts(void **state)
{
	struct env *e = *state;
	const char *a[] = { "198.51.100.10" }, *c[] = { "198.51.100.12" };
	const uint64_t v[] = { 1 }, w[] = { 3 };
	uint8_t b[2048], p1[2048], p2[2048];
	size_t len, l1, l2;

	len = event(e, e->ka, 4100, "VMS", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 2,
		    b);
	input(e, &e->fhr, b, len, 1);
	l1 = snapshot(e, 4, 1, 0, a, v, 1, p1);
	l2 = snapshot(e, 4, 2, 2, c, w, 1, p2);
	input(e, &e->fhr, p2, l2, 2); /* the last part first: .11 (unlisted) stays for now */
	assert_int_equal(etr_dyn_count(e->etr), 2);
	input(e, &e->fhr, p1, l1, 2);
	assert_int_equal(etr_dyn_count(e->etr), 2); /* .10 and .12; .11 gone */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 2,
		    b);
	input(e, &e->fhr, b, len, 3); /* the old arrival of .11, delayed: the tombstone wins */
	assert_int_equal(etr_dyn_count(e->etr), 2);
}

/* A departure, then the arrival before it delivered late: not learned again. */
static void test_tombstone(void **state)
{
	struct env *e = *state;
	uint8_t b[2048], late[2048];
	size_t len, llen;

	llen = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 5,
		     late);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 6,
		    b);
	input(e, &e->fhr, b, len, 1);
	input(e, &e->fhr, late, llen, 1.1);
	assert_int_equal(last_ack(e, e->seq - 1), 0);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	/* tombstones go after a while; a new arrival (newer version) is learned */
	xtr_notify_tick(gw, 100);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 7,
		    b);
	input(e, &e->fhr, b, len, 100);
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

/* What a receiver checks before anything counts: direction, receiver, our session. */
static void test_bound_to_us(void **state)
{
	struct env *e = *state;
	Vmroam__Notify__Envelope *r;
	uint8_t b[2048];
	size_t len;
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__eid_event__init(&ev);
	ev.dynamic_eid = (char *)(uintptr_t) "VMS";
	ev.eid = (char *)(uintptr_t) "198.51.100.10";
	ev.eid_len = 32;
	ev.event_seq = 1;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
	env.eid_event = &ev;
	/* a gateway's own message reflected back at it */
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	env.direction = VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR;
	len = notify_pack(e->ka, 4100, &env, b, sizeof(b));
	input(e, &e->fhr, b, len, 1);
	/* sent to another gateway (DC2's address), replayed to us */
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	env.receiver = (char *)(uintptr_t) "192.0.2.11";
	len = notify_pack(e->ka, 4100, &env, b, sizeof(b));
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(xtr_notify_counters(gw)->misdirected, 2);
	/* for an earlier life of ours: refused; answered with our session (-ESTALE) */
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	env.receiver_session = xtr_notify_session(gw) - 1;
	len = notify_pack(e->ka, 4100, &env, b, sizeof(b));
	nfhr = 0;
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(xtr_notify_counters(gw)->stale_session, 1);
	assert_int_equal(nfhr, 1);
	r = last_to_fhr(e->ka);
	assert_int_equal(r->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_ACK);
	assert_int_equal(r->ack->status, -ESTALE);
	assert_true(r->session == xtr_notify_session(gw) && r->receiver_session == 1000);
	assert_string_equal(r->receiver, "fhr-a1");
	assert_string_equal(r->sender, "192.0.2.10");
	assert_int_equal(r->direction, VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR);
	vmroam__notify__envelope__free_unpacked(r, NULL);
	/* none of them changed anything: no peer, no EID, no registration */
	assert_int_equal(xtr_notify_peer_count(gw), 0);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(nms, 0);
}

/* A Hello is answered (our session), and changes nothing; answers are rate-limited. */
static void test_hello(void **state)
{
	struct env *e = *state;
	Vmroam__Notify__Envelope env, *r;
	Vmroam__Notify__Hello h;
	uint8_t b[2048];
	size_t len;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__hello__init(&h);
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	len = fhr_dgram(e, e->ka, 4100, &env, b);
	env.receiver_session = 0; /* it does not know us yet */
	len = notify_pack(e->ka, 4100, &env, b, sizeof(b));
	input(e, &e->fhr, b, len, 1);
	r = last_to_fhr(e->ka);
	assert_non_null(r);
	assert_int_equal(r->ack->seq, e->seq);
	assert_int_equal(r->ack->status, 0);
	assert_true(r->session == xtr_notify_session(gw));
	vmroam__notify__envelope__free_unpacked(r, NULL);
	assert_int_equal(xtr_notify_peer_count(gw), 0);
	/* replayed a thousand times in one second: at most the bucket's worth of answers */
	nfhr = 0;
	for (int i = 0; i < 1000; i++)
		xtr_notify_input(gw, &e->fhr, 40000, &e->me, b, len, 2);
	assert_true(nfhr <= 64 && nfhr > 0);
	assert_true(xtr_notify_counters(gw)->answers_limited >= 1000 - 64);
	/* the bucket is that dynamic-eid's: another tenant's Hello is answered all the same */
	env.seq = 0;
	len = fhr_dgram(e, e->kb, 4200, &env, b);
	env.receiver_session = 0;
	len = notify_pack(e->kb, 4200, &env, b, sizeof(b));
	nfhr = 0;
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(nfhr, 1);
	r = last_to_fhr(e->kb);
	assert_non_null(r);
	assert_int_equal(r->ack->status, 0);
	vmroam__notify__envelope__free_unpacked(r, NULL);
}

/*
 * A refused replay changes nothing: not the peer's address (where Acks and
 * MovedAways go), nor its session; a retransmission is acknowledged again
 * toward the peer's own address.
 */
static void test_replay_changes_nothing(void **state)
{
	struct env *e = *state;
	struct xtr_notify_peer_info info;
	struct lisp_addr attacker;
	uint8_t b[2048];
	size_t len;

	lisp_addr_parse("203.0.113.66", &attacker);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	nfhr = 0;
	input(e, &attacker, b, len, 2);
	xtr_notify_peer_info(gw, 0, &info);
	assert_true(lisp_addr_equal(&info.addr, &e->fhr));
	assert_int_equal(info.c.replays, 1);
	assert_int_equal(nfhr, 1); /* acknowledged again, to the FHR, not to the sender */
	assert_true(lisp_addr_equal(&to_fhr[0].dst, &e->fhr));
	assert_true(lisp_addr_equal(&to_fhr[0].from, &e->me)); /* from where it sent to */
}

/* After a restart of the gateway, a capture of the FHR's earlier datagrams changes nothing. */
static void test_restart_refuses_captures(void **state)
{
	struct env *e = *state;
	struct etr_io eio = { .send = send_ms, .if_addr = fake_no_if_addr, .event = on_event };
	struct xtr_notify_io nio = { .send = send_fhr, .route = on_route };
	uint8_t b[2048];
	size_t len;

	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	xtr_notify_free(gw);
	etr_free(e->etr);
	e->etr = etr_new(&eio);
	etr_configure(e->etr, e->conf, 0);
	gw = xtr_notify_new(&nio, e->etr, "gw-dc1");
	xtr_notify_configure(gw, e->conf);
	nms = 0;
	input(e, &e->fhr, b, len, 2);
	assert_int_equal(etr_dyn_count(e->etr), 0);
	assert_int_equal(nms, 0);
	assert_int_equal(xtr_notify_peer_count(gw), 0);
	assert_int_equal(xtr_notify_counters(gw)->stale_session, 1);
}

/* eid-notify peer-limit: one tenant's FHRs beyond it are refused, counted; others go on. */
static void test_peer_limit(void **state)
{
	struct env *e = *state;
	char text[1024], err[256];
	struct xtr_conf *old;
	uint8_t b[2048];
	size_t len;

	snprintf(text, sizeof(text), "%.*s   eid-notify peer-limit 2\n%s",
		 (int)(strstr(conf_text, "   eid-notify authentication-key key-a\n") - conf_text),
		 conf_text, strstr(conf_text, "   eid-notify authentication-key key-a\n"));
	old = e->conf;
	e->conf = xtr_conf_parse_string("t", text, err, sizeof(err));
	if (!e->conf)
		fail_msg("%s", err);
	etr_configure(e->etr, e->conf, 0);
	xtr_notify_configure(gw, e->conf);
	xtr_conf_free(old);
	for (int i = 0; i < 3; i++) {
		char id[16], eid[32];

		snprintf(id, sizeof(id), "fhr-%d", i);
		snprintf(eid, sizeof(eid), "198.51.100.%d", 10 + i);
		e->id = id;
		len = event(e, e->ka, 4100, "VMS", eid, VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1, b);
		input(e, &e->fhr, b, len, 1);
	}
	assert_int_equal(xtr_notify_peer_count(gw), 2);
	assert_int_equal(xtr_notify_counters(gw)->peer_limit, 1);
	assert_int_equal(etr_dyn_count(e->etr), 2);
	e->id = "fhr-b"; /* tenant B's limit is its own */
	len = event(e, e->kb, 4200, "VMS-B", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		    1, b);
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(xtr_notify_peer_count(gw), 3);
}

/*
 * Two keyed dynamic-eids in one instance-id: after a reload each peer keeps
 * its own dynamic-eid's key (it took the last one's, so what we sent did
 * not verify at the FHR).
 */
static void test_reload_keeps_each_key(void **state)
{
	struct env *e = *state;
	static const char *two = "router lisp\n"
				 " locator-set L\n  192.0.2.10 priority 1 weight 1\n"
				 " eid-table vrf A instance-id 4100\n"
				 "  dynamic-eid VMS\n"
				 "   database-mapping 198.51.100.0/25 locator-set L\n"
				 "   eid-notify authentication-key key-a\n"
				 "  dynamic-eid OTHER\n"
				 "   database-mapping 198.51.100.128/25 locator-set L\n"
				 "   eid-notify authentication-key key-b\n"
				 " ipv4 etr\n ipv4 etr map-server 192.0.2.1 key ms-key\n";
	struct xtr_conf *again, *old;
	char err[256];
	uint8_t b[2048];
	size_t len;

	old = e->conf;
	e->conf = xtr_conf_parse_string("t", two, err, sizeof(err));
	again = xtr_conf_parse_string("t", two, err, sizeof(err));
	assert_non_null(e->conf);
	etr_configure(e->etr, e->conf, 0);
	xtr_notify_configure(gw, e->conf);
	xtr_conf_free(old);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	assert_int_equal(last_ack(e, e->seq), 0);
	etr_configure(e->etr, again, 2); /* the reload */
	xtr_notify_configure(gw, again);
	xtr_conf_free(e->conf);
	e->conf = again;
	nfhr = 0;
	xtr_notify_tick(gw, 2);
	assert_int_equal(nfhr, 1);
	{
		Vmroam__Notify__Envelope *r = last_to_fhr(e->ka); /* VMS's key verifies it */

		assert_non_null(r);
		assert_string_equal(r->dynamic_eid, "VMS");
		vmroam__notify__envelope__free_unpacked(r, NULL);
	}
}

/* A DEPARTED from an FHR the EID is no longer behind (it moved to another FHR here) clears nothing. */
static void test_departure_from_old_fhr(void **state)
{
	struct env *e = *state;
	uint8_t b[2048];
	size_t len;

	e->id = "fhr-old";
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	e->id = "fhr-new";
	e->session = 2000;
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 2);
	e->id = "fhr-old";
	e->session = 1000;
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__DEPARTED, 2,
		    b);
	input(e, &e->fhr, b, len, 3);
	assert_int_equal(etr_dyn_count(e->etr), 1);
}

static int dyn_leaving(const struct etr_dyn_info *d, void *arg)
{
	*(double *)arg = d->leaving_since;
	return 1;
}

/* The leaving time of the only dynamic EID (0: not leaving). */
static double leaving_of(struct env *e)
{
	double t = -1;

	etr_dyn_walk(e->etr, dyn_leaving, &t);
	return t;
}

/*
 * LEAVING (a VM paused for a migration's switchover): the host is held from
 * its FHR's notice; an older notice, a replay, or another FHR's, changes
 * nothing; news at a newer version (an ARRIVED or REFRESH: it runs there
 * still) ends the hold; a LEAVING for an EID the FHR does not have here is
 * acknowledged and holds nothing.
 */
static void test_leaving(void **state)
{
	struct env *e = *state;
	uint8_t b[2048], replay[2048];
	size_t len, rlen;

	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 1,
		    b);
	input(e, &e->fhr, b, len, 1);
	assert_true(leaving_of(e) == 0);
	rlen = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__LEAVING, 2,
		     replay);
	input(e, &e->fhr, replay, rlen, 2);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_true(leaving_of(e) == 2);
	assert_int_equal(etr_counters(e->etr)->leaving, 1);
	/* it stays: REFRESH at version 3 */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__REFRESH, 3,
		    b);
	input(e, &e->fhr, b, len, 2.5);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_true(leaving_of(e) == 0);
	assert_int_equal(etr_counters(e->etr)->leaving_stayed, 1);
	/* the captured LEAVING again (replay), and a new one at an old version: nothing held */
	input(e, &e->fhr, replay, rlen, 3);
	assert_true(leaving_of(e) == 0);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__LEAVING, 2,
		    b);
	input(e, &e->fhr, b, len, 3);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_true(leaving_of(e) == 0);
	assert_int_equal(etr_counters(e->etr)->leaving, 1);
	/* another FHR of the tenant (same key) says it is leaving: not the one it is behind */
	e->id = "fhr-a2";
	e->session = 2000;
	e->seq = 0;
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__LEAVING, 9,
		    b);
	input(e, &e->fhr, b, len, 4);
	assert_true(leaving_of(e) == 0);
	/* its own FHR, at a newer version: held; an EID it does not have: acknowledged, nothing */
	e->id = "fhr-a1";
	e->session = 1000;
	e->seq = 100;
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__LEAVING, 4,
		    b);
	input(e, &e->fhr, b, len, 5);
	assert_true(leaving_of(e) == 5);
	len = event(e, e->ka, 4100, "VMS", "198.51.100.11", VMROAM__NOTIFY__EVENT_KIND__LEAVING, 5,
		    b);
	input(e, &e->fhr, b, len, 5);
	assert_int_equal(last_ack(e, e->seq), 0);
	assert_int_equal(etr_dyn_count(e->etr), 1);
	/* an ARRIVED at a newer version: it stays */
	len = event(e, e->ka, 4100, "VMS", "198.51.100.10", VMROAM__NOTIFY__EVENT_KIND__ARRIVED, 6,
		    b);
	input(e, &e->fhr, b, len, 5.5);
	assert_true(leaving_of(e) == 0);
	assert_int_equal(etr_counters(e->etr)->leaving_stayed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leaving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrival_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_departure_resync_and_death, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_first_then_fhr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_never_undoes_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_to_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_refuses_captures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_each_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_departure_from_old_fhr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
