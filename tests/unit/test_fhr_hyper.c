/*
 * fhr-agent's HypervisorEvent listener (fhr-agent/hyper.c) fed with the
 * datagrams the hook and the watcher build (hypervisor-hooks' engine):
 * a silent VM registered when it is live, a RARP with a binding, a VM that
 * left withdrawn, a VM leaving (a live migration's switchover: held until
 * the MovedAway, a live from here, the hold time), and what is refused
 * (key, replay, clock, instance-id, garbage). What the FHR sends its gateway is decoded with the gateway's key.
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
#include "hypervisor-hooks/hv.h"

static const char *fhr_text = "router lisp\n fhr-id fhr-2\n"
			      " eid-table vrf A instance-id 4100\n"
			      "  dynamic-eid VMS\n"
			      "   database-mapping 198.51.100.0/25\n"
			      "   eid-notify 192.0.2.10 key key-a\n"
			      "   hypervisor-events key hv-a\n"
			      "   migration-hold 500\n"
			      "interface br0\n lisp mobility VMS\n lisp extended-subnet-mode\n";
static const char *hv_text = "hypervisor\n host-id host-9\n"
			     " tenant A\n  instance-id 4100\n  key hv-a\n"
			     " tenant A-WRONG-KEY\n  instance-id 4100\n  key not-hv-a\n"
			     " tenant B\n  instance-id 4200\n  key hv-a\n";
static const char *vm_xml = "<domain><name>vm1</name><uuid>u-1</uuid><metadata>"
			    "<v:vm xmlns:v='urn:vmroam:libvirt:1'><v:tenant>A</v:tenant>"
			    "<v:fhr>198.51.100.1</v:fhr>"
			    "<v:address>198.51.100.10</v:address>"
			    "<v:address>198.51.100.200</v:address>" /* outside the /25 */
			    "</v:vm></metadata><devices><interface type='bridge'>"
			    "<mac address='52:54:00:00:00:10'/><source bridge='br0'/></interface>"
			    "</devices></domain>";
static const uint8_t vm_mac[6] = { 0x52, 0x54, 0, 0, 0, 0x10 };

/* What the FHR sent: to the gateway (eid-notify) and back to the hypervisor (Acks). */
struct sent {
	uint8_t buf[4096];
	size_t len;
};
static struct sent to_gw[64], to_hv[64];
static int ngw, nhv;
static char knowns[512];      /* what fhr_io.known was told: "leaving stays away gone ..." */
static uint64_t last_version; /* of the last EID event to the gateway */
static uint64_t seen_seq;     /* the last one gw_events() read (retransmissions: once) */

static void rec_known(void *arg, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
		      enum fhr_known what)
{
	static const char *names[] = { "here",	"back", "away",	  "gone",    "leaving",
				       "stays", "left", "paused", "steered", "hold-drop" };
	size_t n = strlen(knowns);

	(void)arg;
	(void)ifname;
	(void)a;
	(void)mac;
	snprintf(knowns + n, sizeof(knowns) - n, "%s%s", n ? " " : "", names[what]);
}

static int gw_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	(void)dst;
	assert_int_equal(dport, NOTIFY_PORT);
	assert_true(ngw < 64 && len <= 4096);
	memcpy(to_gw[ngw].buf, buf, len);
	to_gw[ngw++].len = len;
	return 0;
}

static int hv_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	(void)dst;
	assert_int_equal(dport, 40000); /* back to the sender's port */
	assert_true(nhv < 64 && len <= 4096);
	memcpy(to_hv[nhv].buf, buf, len);
	to_hv[nhv++].len = len;
	return 0;
}

/* Our MAC on br0 (only there): where a hypervisor may steer a VM's frames. */
static const uint8_t br0_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x01, 0x0a };
static int if_mac(void *arg, const char *ifname, uint8_t mac[6])
{
	(void)arg;
	if (strcmp(ifname, "br0") != 0)
		return -ENODEV;
	memcpy(mac, br0_mac, 6);
	return 0;
}

struct env {
	struct fhr_conf *fconf;
	struct hv_conf *hconf;
	struct fhr *fhr;
	struct fhr_hv *hv;
	struct hv_domain dom;
	struct lisp_addr host, me; /* a hypervisor; the FHR's address it sends to */
	uint64_t seq;
	uint64_t fsession, gwseq; /* the FHR's session (its Hello's); the gateway's next seq */
};

/* The gateway's Ack of the FHR's Hello (the last datagram to it): the channel is up. */
static void gateway_answers(struct env *e)
{
	struct lisp_auth_key *k = lisp_auth_key_new("key-a", 5);
	Vmroam__Notify__Envelope *hello, env;
	Vmroam__Notify__Ack ack;
	struct lisp_addr gw;
	uint8_t b[NOTIFY_MAX];
	size_t len;
	int err;

	assert_true(ngw > 0);
	hello = notify_unpack(k, to_gw[ngw - 1].buf, to_gw[ngw - 1].len, &err);
	assert_non_null(hello);
	assert_int_equal(hello->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_HELLO);
	vmroam__notify__envelope__init(&env);
	vmroam__notify__ack__init(&ack);
	ack.seq = hello->seq;
	e->fsession = hello->session;
	e->gwseq = 2;
	env.instance_id = 4100;
	env.direction = VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR;
	env.sender = (char *)(uintptr_t) "192.0.2.10";
	env.receiver = (char *)(uintptr_t) "fhr-2";
	env.session = 5000;
	env.receiver_session = hello->session;
	env.dynamic_eid = (char *)(uintptr_t) "VMS";
	env.seq = 1;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	len = notify_pack(k, 4100, &env, b, sizeof(b));
	vmroam__notify__envelope__free_unpacked(hello, NULL);
	lisp_auth_key_free(k);
	lisp_addr_parse("192.0.2.10", &gw);
	fhr_input(e->fhr, &gw, NOTIFY_PORT, b, len, 1000);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct fhr_io io = { .send = gw_send, .known = rec_known };
	struct fhr_hv_io hio = { .send = hv_send, .if_mac = if_mac };
	char err[256];

	ngw = nhv = 0;
	seen_seq = 0;
	knowns[0] = '\0';
	e->fconf = fhr_conf_parse_string("fhr", fhr_text, err, sizeof(err));
	assert_non_null(e->fconf);
	e->hconf = hv_conf_parse_string("hv", hv_text, err, sizeof(err));
	assert_non_null(e->hconf);
	e->fhr = fhr_new(&io, 1);
	fhr_configure(e->fhr, e->fconf, 1000);
	fhr_tick(e->fhr, 1000); /* the Hello */
	gateway_answers(e);	/* then the (empty) table */
	e->hv = fhr_hv_new(e->fhr, &hio, 1);
	assert_int_equal(fhr_hv_configure(e->hv, e->fconf), 1);
	assert_int_equal(hv_domain_parse(vm_xml, strlen(vm_xml), &e->dom, err, sizeof(err)), 0);
	lisp_addr_parse("192.0.2.99", &e->host);
	lisp_addr_parse("198.51.100.1", &e->me);
	e->seq = 1;
	ngw = 0;
	knowns[0] = '\0';
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fhr_hv_free(e->hv);
	fhr_free(e->fhr);
	fhr_conf_free(e->fconf);
	hv_conf_free(e->hconf);
	free(e);
	return 0;
}

/* Tenant t's host says kind about the domain at time ts; the datagram in out (for replays). */
static size_t say(struct env *e, const char *tenant, enum hv_kind kind, double ts, double now,
		  uint8_t *out)
{
	uint8_t buf[NOTIFY_MAX];
	uint8_t *b = out ? out : buf;
	size_t len = hv_event_pack(e->hconf, hv_conf_tenant(e->hconf, tenant), &e->dom, kind,
				   "test", "virtwatch", ts, 77, e->seq++, b, NOTIFY_MAX);

	assert_true(len > 0);
	fhr_hv_input(e->hv, &e->host, 40000, &e->me, b, len, now);
	return len;
}

/* The status of the last Ack, or 1 when none came; where it says to steer, in steer (if not NULL:
 * "VMMAC>FHRMAC ..." as hex bytes). */
static int last_ack_steer(char *steer, size_t cap)
{
	struct lisp_auth_key *k;
	Vmroam__Notify__Envelope *env;
	int err, status;
	size_t n = 0;

	if (steer)
		steer[0] = '\0';
	if (!nhv)
		return 1;
	k = lisp_auth_key_new("hv-a", 4);
	env = notify_unpack(k, to_hv[nhv - 1].buf, to_hv[nhv - 1].len, &err);
	lisp_auth_key_free(k);
	assert_non_null(env);
	assert_int_equal(env->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_ACK);
	status = env->ack->status;
	for (size_t i = 0; steer && i < env->ack->n_steer; i++) {
		const Vmroam__Notify__SteerTo *t = env->ack->steer[i];

		assert_int_equal(t->vm_mac.len, 6);
		assert_int_equal(t->fhr_mac.len, 6);
		n += (size_t)snprintf(steer + n, cap - n, "%s%02x%02x>%02x%02x", i ? " " : "",
				      t->vm_mac.data[0], t->vm_mac.data[5], t->fhr_mac.data[0],
				      t->fhr_mac.data[5]);
	}
	vmroam__notify__envelope__free_unpacked(env, NULL);
	return status;
}

static int last_ack(void)
{
	return last_ack_steer(NULL, 0);
}

/* The EID events the FHR sent its gateway: "A:198.51.100.10:hypervisor D:..." */
static void gw_events(char *out, size_t cap)
{
	struct lisp_auth_key *k = lisp_auth_key_new("key-a", 5);
	static const char *src[] = { "arp", "nd", "rarp", "data", "hypervisor", "neighbor" };
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < ngw; i++) {
		int err;
		Vmroam__Notify__Envelope *env = notify_unpack(k, to_gw[i].buf, to_gw[i].len, &err);

		assert_non_null(env);
		if (env->seq <= seen_seq) {
			vmroam__notify__envelope__free_unpacked(env, NULL);
			continue; /* (sent again: not acknowledged) */
		}
		seen_seq = env->seq;
		if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT)
			n += (size_t)snprintf(
				out + n, cap - n, "%s%.1s:%s:%s", n ? " " : "",
				"ADRL" + (env->eid_event->kind < 4 ? env->eid_event->kind : 0),
				env->eid_event->eid, src[env->eid_event->source]);
		if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT)
			last_version = env->eid_event->event_seq;
		vmroam__notify__envelope__free_unpacked(env, NULL);
	}
	lisp_auth_key_free(k);
	ngw = 0;
}

static void silent_vm_registered_when_live(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	char ev[512];

	/* the hook on migrate: the binding, nothing told (the VM does not run here yet) */
	say(e, "A", HV_ARRIVING, 1000, 1000.01, NULL);
	assert_int_equal(last_ack(), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(fhr_eid_count(e->fhr), 0);
	/* RESUMED_MIGRATED: registered at once; the address outside the dynamic-eid is not */
	say(e, "A", HV_LIVE, 1001, 1001.002, NULL);
	assert_int_equal(last_ack(), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "A:198.51.100.10:hypervisor");
	assert_int_equal(c->detected, 1);
	assert_int_equal(c->out_of_prefix, 1);
	assert_int_equal(c->by_kind[0], 1);
	assert_int_equal(c->by_kind[1], 1);
	/* live again (a retransmission from another sender, say): nothing new */
	say(e, "A", HV_LIVE, 1002, 1002, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* it left: withdrawn at once */
	say(e, "A", HV_LEFT, 1003, 1003, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "D:198.51.100.10:hypervisor");
	assert_int_equal(fhr_eid_count(e->fhr), 0);
	assert_int_equal(c->departed, 1);
	/* back by QEMU's RARP alone: the binding names its address */
	assert_int_equal(fhr_hv_mac_seen(e->hv, "br0", vm_mac, 1004), 1);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "A:198.51.100.10:rarp");
	/* bindings are listed */
	const struct fhr_hv_binding *b;
	assert_int_equal(fhr_hv_bindings(e->hv, &b), 1);
	assert_string_equal(b[0].domain, "vm1");
	assert_string_equal(b[0].host, "host-9");
	assert_int_equal(b[0].naddrs, 2);
	assert_true(b[0].live);
	/* libvirtd restarted and its hook says "reconnect" (arriving): it stays live */
	say(e, "A", HV_ARRIVING, 1005, 1005, NULL);
	assert_true(b[0].live);
	assert_int_equal(b[0].last_kind, 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* a day later with no news: gone */
	fhr_hv_tick(e->hv, 1005 + 86401);
	assert_int_equal(fhr_hv_bindings(e->hv, &b), 0);
}

static void live_from_own_table(void **state)
{
	struct env *e = *state;
	struct lisp_addr a;
	char ev[512], err[256];
	const char *bare =
		"<domain><name>vm2</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		"<v:tenant>A</v:tenant><v:fhr>198.51.100.1</v:fhr></v:vm></metadata><devices>"
		"<interface type='bridge'><mac address='52:54:00:00:00:10'/></interface>"
		"</devices></domain>";

	/* no addresses in the domain: the FHR's own past binding of the MAC serves */
	assert_int_equal(hv_domain_parse(bare, strlen(bare), &e->dom, err, sizeof(err)), 0);
	lisp_addr_parse("198.51.100.20", &a);
	assert_int_equal(fhr_detect(e->fhr, "br0", &a, vm_mac, FHR_SRC_ARP, 1000), 1);
	gw_events(ev, sizeof(ev));
	say(e, "A", HV_LEFT, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "D:198.51.100.20:arp");
	/* nothing known any more: live tells nothing, counted */
	say(e, "A", HV_LIVE, 1002, 1002, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(fhr_hv_counters(e->hv)->live_unknown, 1);
	/* known by this FHR (ARP), then live: refreshed, not told again */
	assert_int_equal(fhr_detect(e->fhr, "br0", &a, vm_mac, FHR_SRC_ARP, 1003), 1);
	gw_events(ev, sizeof(ev));
	say(e, "A", HV_LIVE, 1004, 1004, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(fhr_hv_counters(e->hv)->live_unknown, 1);
}

static void refused(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	uint8_t dg[NOTIFY_MAX];
	size_t len;
	char ev[512];

	/* another key for the same instance-id: dropped, no Ack (nothing to sign it with) */
	say(e, "A-WRONG-KEY", HV_LIVE, 1000, 1000, NULL);
	assert_int_equal(c->auth_failures, 1);
	assert_int_equal(nhv, 0);
	/* an instance-id the FHR takes no events for */
	say(e, "B", HV_LIVE, 1000, 1000, NULL);
	assert_int_equal(c->unknown_iid, 1);
	/* stamped 61 s before our clock (a replay of an old capture, or a clock off): refused */
	say(e, "A", HV_LIVE, 1000, 1061, NULL);
	assert_int_equal(c->stale, 1);
	assert_int_equal(last_ack(), -ETIME);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* accepted once; the same datagram again is a replay: acknowledged, not applied */
	len = say(e, "A", HV_LEFT, 1100, 1100, dg);
	assert_int_equal(c->accepted, 1);
	fhr_hv_input(e->hv, &e->host, 40000, &e->me, dg, len, 1100.5);
	assert_int_equal(c->replays, 1);
	assert_int_equal(c->accepted, 1);
	assert_int_equal(c->by_kind[2], 1);
	/* garbage and a truncated datagram */
	fhr_hv_input(e->hv, &e->host, 40000, &e->me, (const uint8_t *)"hello", 5, 1100);
	fhr_hv_input(e->hv, &e->host, 40000, &e->me, dg, len - 1, 1100);
	assert_int_equal(c->malformed, 1);
	assert_int_equal(c->auth_failures, 2);
	assert_int_equal(c->received, 7);
	/* an event for the tenant's FHR on another host (its address), replayed to this one */
	{
		struct lisp_addr other;

		lisp_addr_parse("198.51.100.2", &other);
		len = hv_event_pack(e->hconf, hv_conf_tenant(e->hconf, "A"), &e->dom, HV_LEFT,
				    "test", "virtwatch", 1101, 77, e->seq++, dg, NOTIFY_MAX);
		fhr_hv_input(e->hv, &e->host, 40000, &other, dg, len, 1101);
		assert_int_equal(c->misdirected, 1);
		assert_int_equal(c->by_kind[2], 1);			     /* not applied */
		fhr_hv_input(e->hv, &e->host, 40000, &e->me, dg, len, 1101); /* here it is */
		assert_int_equal(c->by_kind[2], 2);
	}
}

/* The gateway says eid moved away (to 203.0.113.1), naming our version of it. */
static void moved_away(struct env *e, const char *eid, uint64_t version, double now)
{
	struct lisp_auth_key *k = lisp_auth_key_new("key-a", 5);
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__MovedAway m;
	char *locs[] = { (char *)(uintptr_t) "203.0.113.1" };
	struct lisp_addr gw;
	uint8_t b[NOTIFY_MAX];
	size_t len;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__moved_away__init(&m);
	m.eid = (char *)(uintptr_t)eid;
	m.eid_len = 32;
	m.version = version;
	m.n_locators = 1;
	m.locators = locs;
	env.instance_id = 4100;
	env.direction = VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR;
	env.sender = (char *)(uintptr_t) "192.0.2.10";
	env.receiver = (char *)(uintptr_t) "fhr-2";
	env.session = 5000;
	env.receiver_session = e->fsession;
	env.dynamic_eid = (char *)(uintptr_t) "VMS";
	env.seq = e->gwseq++;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY;
	env.moved_away = &m;
	len = notify_pack(k, 4100, &env, b, sizeof(b));
	lisp_auth_key_free(k);
	lisp_addr_parse("192.0.2.10", &gw);
	fhr_input(e->fhr, &gw, NOTIFY_PORT, b, len, now);
}

static int leaving_of(const struct fhr_eid_info *i, void *arg)
{
	int *out = arg;

	*out = i->leaving ? 1 : i->state == FHR_EID_MOVED ? 2 : 0;
	return 0;
}

/* 1 leaving, 2 moved away, 0 neither, -1 not in the table (the table holds one EID at most). */
static int eid_state(struct env *e)
{
	int st = -1;

	fhr_eid_walk(e->fhr, leaving_of, &st);
	return st;
}

static void leaving_then_stays_then_moves(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	const struct fhr_counters *fc = fhr_counters(e->fhr);
	uint64_t v;
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "A:198.51.100.10:hypervisor");
	v = last_version;
	knowns[0] = '\0';
	/* SUSPENDED/MIGRATED at the source: leaving, a new version, LEAVING to the gateway */
	say(e, "A", HV_LEAVING, 1002, 1002, NULL);
	assert_int_equal(last_ack(), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	assert_true(last_version > v);
	assert_int_equal(eid_state(e), 1);
	assert_string_equal(knowns, "leaving paused"); /* (held, then drawn: it is paused) */
	assert_int_equal(c->by_kind[3], 1);
	assert_int_equal(c->leaving, 1);
	assert_int_equal(fc->leaving, 1);
	assert_int_equal(fhr_leaving_count(e->fhr), 1);
	/* the same again (another sender): nothing new */
	say(e, "A", HV_LEAVING, 1002.1, 1002.1, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* the migration failed: RESUMED at the source, it stays (REFRESH, newer) */
	v = last_version;
	say(e, "A", HV_LIVE, 1003, 1003, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "R:198.51.100.10:hypervisor");
	assert_true(last_version > v);
	assert_int_equal(eid_state(e), 0);
	assert_string_equal(knowns, "leaving paused paused stays"); /* (drawn again) */
	assert_int_equal(c->stayed, 1);
	assert_int_equal(fc->leaving_stayed, 1);
	assert_int_equal(fhr_leaving_count(e->fhr), 0);
	/* a MovedAway about the leaving it came back from: stale, ignored */
	moved_away(e, "198.51.100.10", v, 1003.5);
	assert_int_equal(eid_state(e), 0);
	assert_int_equal(fc->moves_stale, 1);
	/* leaving again; the source's STOPPED/MIGRATED comes before the MovedAway: it waits */
	say(e, "A", HV_LEAVING, 1004, 1004, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	v = last_version;
	say(e, "A", HV_LEFT, 1004.01, 1004.01, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(eid_state(e), 1);
	assert_int_equal(fc->leaving_left, 1);
	/* the MovedAway: moved away (its packets released up), then the departure that waited,
	 * once they are on their way (1 s: the segment told the VM's MAC must not pass them) */
	knowns[0] = '\0';
	moved_away(e, "198.51.100.10", v, 1004.02);
	assert_string_equal(knowns, "away");
	assert_int_equal(eid_state(e), 2);
	fhr_tick(e->fhr, 1004.9);
	assert_int_equal(eid_state(e), 2);
	fhr_tick(e->fhr, 1005.1);
	assert_string_equal(knowns, "away left gone");
	assert_int_equal(eid_state(e), -1);
	assert_int_equal(fc->leaving_moved, 1);
	assert_int_equal(fhr_leaving_count(e->fhr), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, ""); /* (moved: no departure to withdraw) */
	/* the order libvirt has more often: the MovedAway first, then HV_LEFT: it waits too */
	say(e, "A", HV_LIVE, 1005.2, 1005.2, NULL);
	say(e, "A", HV_LEAVING, 1005.3, 1005.3, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "A:198.51.100.10:hypervisor L:198.51.100.10:hypervisor");
	knowns[0] = '\0';
	moved_away(e, "198.51.100.10", last_version, 1005.4);
	say(e, "A", HV_LEFT, 1005.41, 1005.41, NULL);
	assert_string_equal(knowns, "away");
	assert_int_equal(eid_state(e), 2);
	fhr_tick(e->fhr, 1006.5);
	assert_string_equal(knowns, "away left gone");
	assert_int_equal(eid_state(e), -1);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, ""); /* (moved: no departure to withdraw) */
	/* leaving for a VM with no EID here: ignored, counted */
	say(e, "A", HV_LEAVING, 1007, 1007, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(c->leaving_unknown, 1);
	assert_int_equal(fc->leaving_ignored, 1);
}

/*
 * HV_PAUSING (a migration pass that may be the last) holds at once, before
 * the pause: the gateways are told LEAVING; if the pause (HV_LEAVING)
 * follows, the hold stays; if not within FHR_PAUSING_WAIT, the guest ran
 * on: it ends as when the VM stays (REFRESH, delivered here). Another pass
 * renews the wait.
 */
static void pausing_then_paused_or_not(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	const struct fhr_counters *fc = fhr_counters(e->fhr);
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	knowns[0] = '\0';
	/* a pass, and no pause: held, then not (the tick after FHR_PAUSING_WAIT) */
	say(e, "A", HV_PAUSING, 1002, 1002, NULL);
	assert_int_equal(last_ack(), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	assert_int_equal(eid_state(e), 1);
	assert_int_equal(c->by_kind[4], 1);
	fhr_tick(e->fhr, 1002 + FHR_PAUSING_WAIT / 2);
	assert_int_equal(eid_state(e), 1);
	/* another pass renews the wait */
	say(e, "A", HV_PAUSING, 1002.08, 1002.08, NULL);
	fhr_tick(e->fhr, 1002.08 + FHR_PAUSING_WAIT * 0.9);
	assert_int_equal(eid_state(e), 1);
	fhr_tick(e->fhr, 1002.08 + FHR_PAUSING_WAIT * 1.01);
	assert_int_equal(eid_state(e), 0);
	assert_string_equal(knowns, "leaving stays");
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "R:198.51.100.10:hypervisor");
	assert_int_equal(fc->leaving_unpaused, 1);
	/* a pass, then the pause: held until the end (here: the migration-hold, 500 ms) */
	knowns[0] = '\0';
	say(e, "A", HV_PAUSING, 1003, 1003, NULL);
	say(e, "A", HV_LEAVING, 1003.003, 1003.003, NULL);
	gw_events(ev, sizeof(ev));
	/* told again at the pause: the gateways' hold time from then (a last pass may be long) */
	assert_string_equal(ev, "L:198.51.100.10:hypervisor L:198.51.100.10:hypervisor");
	fhr_tick(e->fhr, 1003.3);
	assert_int_equal(eid_state(e), 1);
	/* a pass after the pause changes nothing */
	say(e, "A", HV_PAUSING, 1003.35, 1003.35, NULL);
	fhr_tick(e->fhr, 1003.45);
	assert_int_equal(eid_state(e), 1);
	fhr_tick(e->fhr, 1003.55);
	assert_int_equal(eid_state(e), 0);
	assert_int_equal(fc->leaving_unpaused, 1);
	assert_int_equal(fc->leaving_expired, 1);
}

/*
 * The switchover a watcher leads: a LEAVING whose pause follows holds (the
 * gateways told, acknowledged before the pause) but draws nothing to us
 * while the VM still runs; the LEAVING after the pause draws its frames
 * (paused), the hold going on, the gateways not told again.
 */
static void switching_then_paused(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	knowns[0] = '\0';
	say(e, "A", HV_SWITCHING, 1002, 1002, NULL);
	assert_int_equal(last_ack(), 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	assert_int_equal(eid_state(e), 1);
	assert_string_equal(knowns, "leaving");
	assert_int_equal(c->by_kind[3], 1); /* (an HV_LEAVING on the wire) */
	/* not tentative: no pause wait ends it */
	fhr_tick(e->fhr, 1002 + FHR_PAUSING_WAIT * 2);
	assert_int_equal(eid_state(e), 1);
	/* paused: drawn now */
	say(e, "A", HV_LEAVING, 1002.3, 1002.3, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_string_equal(knowns, "leaving paused");
	assert_int_equal(eid_state(e), 1);
	/* the pause failed (the watcher says it runs here): it stays */
	say(e, "A", HV_LIVE, 1002.4, 1002.4, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "R:198.51.100.10:hypervisor");
	assert_string_equal(knowns, "leaving paused stays");
	assert_int_equal(eid_state(e), 0);
}

/*
 * The watcher steers the guest's frames to us (steer.h): the Ack of the
 * switchover says where (our MAC on the VM's segment, for its interface);
 * the LEAVING at the pause says they are steered: nothing drawn (knowns
 * has no "paused"). Any other Ack says nothing of it.
 */
static void steered_switchover(void **state)
{
	struct env *e = *state;
	char ev[512], steer[128];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	assert_int_equal(last_ack_steer(steer, sizeof(steer)), 0);
	assert_string_equal(steer, ""); /* (not leaving) */
	gw_events(ev, sizeof(ev));
	knowns[0] = '\0';
	say(e, "A", HV_SWITCHING, 1002, 1002, NULL);
	assert_int_equal(last_ack_steer(steer, sizeof(steer)), 0);
	assert_string_equal(steer, "5210>020a"); /* 52:..:10 to 02:..:0a */
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	say(e, "A", HV_STEERED, 1002.3, 1002.3, NULL);
	assert_int_equal(last_ack_steer(steer, sizeof(steer)), 0);
	assert_string_equal(steer, "");
	assert_string_equal(knowns, "leaving steered"); /* held, not drawn */
	assert_int_equal(eid_state(e), 1);
	/* the hold time (500 ms) ends, the VM still paused: nothing delivered here (it would
	 * come back), what was held dropped, held on; twice */
	fhr_tick(e->fhr, 1002.9);
	assert_string_equal(knowns, "leaving steered hold-drop");
	assert_int_equal(eid_state(e), 1);
	fhr_tick(e->fhr, 1003.5);
	assert_string_equal(knowns, "leaving steered hold-drop hold-drop");
	assert_int_equal(fhr_counters(e->fhr)->leaving_steered_over, 2);
	assert_int_equal(fhr_counters(e->fhr)->leaving_expired, 0);
	/* the migration failed: it runs here (the watcher lets our frames through first) */
	say(e, "A", HV_LIVE, 1003.6, 1003.6, NULL);
	assert_string_equal(knowns, "leaving steered hold-drop hold-drop stays");
	assert_int_equal(eid_state(e), 0);
	/* leaving again, not steered this time: the hold time delivers it here */
	knowns[0] = '\0';
	say(e, "A", HV_SWITCHING, 1004, 1004, NULL);
	say(e, "A", HV_LEAVING, 1004.1, 1004.1, NULL);
	fhr_tick(e->fhr, 1004.7);
	assert_string_equal(knowns, "leaving paused stays");
	assert_int_equal(fhr_counters(e->fhr)->leaving_expired, 1);
	/* a VM not held here (tenant B's instance-id has none of it): nothing to steer */
	say(e, "B", HV_SWITCHING, 1002.4, 1002.4, NULL);
	assert_int_equal(last_ack_steer(steer, sizeof(steer)), 0);
	assert_string_equal(steer, "");
}

static void leaving_moved_naming_the_version_before(void **state)
{
	struct env *e = *state;
	const struct fhr_counters *fc = fhr_counters(e->fhr);
	uint64_t before;
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	before = last_version;
	say(e, "A", HV_LEAVING, 1002, 1002, NULL);
	gw_events(ev, sizeof(ev));
	/* the gateway's Map-Notify came before our LEAVING: it names the version before */
	knowns[0] = '\0';
	moved_away(e, "198.51.100.10", before, 1002.01);
	assert_string_equal(knowns, "away");
	assert_int_equal(eid_state(e), 2);
	assert_int_equal(fc->moves_stale, 0);
	assert_int_equal(fc->leaving_moved, 1);
}

static void leaving_hold_time(void **state)
{
	struct env *e = *state;
	const struct fhr_counters *fc = fhr_counters(e->fhr);
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	say(e, "A", HV_LEAVING, 1002, 1002, NULL);
	gw_events(ev, sizeof(ev));
	knowns[0] = '\0';
	fhr_tick(e->fhr, 1002.45); /* (migration-hold 500) */
	assert_int_equal(eid_state(e), 1);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	fhr_tick(e->fhr, 1002.5);
	assert_int_equal(eid_state(e), 0);
	assert_string_equal(knowns, "stays");
	assert_int_equal(fc->leaving_expired, 1);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "R:198.51.100.10:hypervisor");
	/* leaving and left, then no MovedAway in the hold time: it departs then */
	say(e, "A", HV_LEAVING, 1002.6, 1002.6, NULL);
	say(e, "A", HV_LEFT, 1002.7, 1002.7, NULL);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "L:198.51.100.10:hypervisor");
	fhr_tick(e->fhr, 1003.1);
	assert_int_equal(eid_state(e), -1);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "D:198.51.100.10:hypervisor");
	assert_int_equal(fc->leaving_expired, 2);
}

static void leaving_refused(void **state)
{
	struct env *e = *state;
	const struct fhr_hv_counters *c = fhr_hv_counters(e->hv);
	uint8_t dg[NOTIFY_MAX];
	size_t len;
	char ev[512];

	say(e, "A", HV_LIVE, 1001, 1001, NULL);
	gw_events(ev, sizeof(ev));
	/* a LEAVING with another key, or stamped long ago: nothing changes */
	say(e, "A-WRONG-KEY", HV_LEAVING, 1002, 1002, NULL);
	say(e, "A", HV_LEAVING, 1002, 1070, NULL);
	assert_int_equal(c->auth_failures, 1);
	assert_int_equal(c->stale, 1);
	assert_int_equal(eid_state(e), 0);
	assert_int_equal(c->by_kind[3], 0);
	gw_events(ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* a LEAVING accepted, the migration failed; the LEAVING replayed: not leaving again */
	len = say(e, "A", HV_LEAVING, 1071, 1071, dg);
	say(e, "A", HV_LIVE, 1072, 1072, NULL);
	assert_int_equal(eid_state(e), 0);
	fhr_hv_input(e->hv, &e->host, 40000, &e->me, dg, len, 1073);
	assert_int_equal(c->replays, 1);
	assert_int_equal(eid_state(e), 0);
	assert_int_equal(c->by_kind[3], 1);
	/* a kind this FHR does not know (a newer host's): refused, nothing applied */
	{
		struct lisp_auth_key *k = lisp_auth_key_new("hv-a", 4);
		int err;
		Vmroam__Notify__Envelope *env = notify_unpack(k, dg, len, &err);
		uint64_t accepted = c->accepted;

		assert_non_null(env);
		env->hypervisor_event->kind = 9;
		env->seq = e->seq++;
		env->hypervisor_event->timestamp = 1074;
		len = notify_pack(k, 4100, env, dg, sizeof(dg));
		vmroam__notify__envelope__free_unpacked(env, NULL);
		lisp_auth_key_free(k);
		fhr_hv_input(e->hv, &e->host, 40000, &e->me, dg, len, 1074);
		assert_int_equal(c->accepted, accepted + 1);
		assert_int_equal(last_ack(), -EINVAL);
		assert_int_equal(eid_state(e), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(silent_vm_registered_when_live, setup, teardown),
		cmocka_unit_test_setup_teardown(live_from_own_table, setup, teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(leaving_then_stays_then_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(pausing_then_paused_or_not, setup, teardown),
		cmocka_unit_test_setup_teardown(switching_then_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(steered_switchover, setup, teardown),
		cmocka_unit_test_setup_teardown(leaving_moved_naming_the_version_before, setup,
						teardown),
		cmocka_unit_test_setup_teardown(leaving_hold_time, setup, teardown),
		cmocka_unit_test_setup_teardown(leaving_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
