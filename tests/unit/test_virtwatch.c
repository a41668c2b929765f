/*
 * vmroam-virtwatch's engine against libvirt's test driver in this process
 * (test:///default, its event loop on libev): lifecycle events of a tenant
 * VM reach a fake FHR on loopback as signed HypervisorEvents, are
 * retransmitted until acknowledged, and a domain without our metadata is
 * not told. The test driver cannot migrate, so the recorded sequences of a
 * live migration (platform notes §2c) are replayed through the daemon's own
 * callback path (vw_lifecycle).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <libvirt/virterror.h>

#include "hypervisor-hooks/loop_virt.h"
#include "hypervisor-hooks/watch_virt.h"
#include "lib/notify.h"

static struct ev_loop *loop;
static int fhr_fd; /* the fake FHR */
static int ack_fd; /* its Acks leave from 127.0.0.2 */
static uint16_t fhr_port;
static struct lisp_auth_key *key;

static const char *dom_xml = "<domain type='test'><name>vm-a</name>"
			     "<uuid>6d1c4b0e-0000-4000-8000-0000000000a1</uuid>"
			     "<memory>65536</memory><os><type>hvm</type></os>"
			     "<metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'><v:tenant>A</v:tenant>"
			     "<v:instance-id>4100</v:instance-id>"
			     "<v:address>198.51.100.10</v:address></v:vm></metadata>"
			     "<devices><interface type='network'><source network='default'/>"
			     "<mac address='52:54:00:11:22:33'/></interface></devices></domain>";
static const char *plain_xml = "<domain type='test'><name>not-a-tenant</name>"
			       "<memory>65536</memory><os><type>hvm</type></os>"
			       "<devices><interface type='network'><source network='default'/>"
			       "<mac address='52:54:00:11:22:44'/></interface></devices></domain>";

/* Runs the loop until the fake FHR has a datagram or ms pass; true if it has. */
static bool pump(int ms)
{
	for (int i = 0; i < ms; i++) {
		struct pollfd p = { .fd = fhr_fd, .events = POLLIN };

		if (poll(&p, 1, 0) == 1)
			return true;
		ev_run(loop, EVRUN_NOWAIT);
		poll(NULL, 0, 1);
	}
	return false;
}

struct got {
	int kind; /* -1: nothing */
	char reason[64], domain[64], mac[18], addr[64];
	uint64_t seq;
	struct sockaddr_storage from;
	socklen_t fromlen;
};

static struct got receive(int ms)
{
	struct got g = { .kind = -1 };
	uint8_t buf[NOTIFY_MAX];
	Vmroam__Notify__Envelope *env;
	ssize_t len;
	int err;

	if (!pump(ms))
		return g;
	g.fromlen = sizeof(g.from);
	len = recvfrom(fhr_fd, buf, sizeof(buf), 0, (struct sockaddr *)&g.from, &g.fromlen);
	assert_true(len > 0);
	env = notify_unpack(key, buf, (size_t)len, &err);
	assert_non_null(env);
	assert_int_equal(env->instance_id, 4100);
	assert_int_equal(env->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT);
	g.kind = env->hypervisor_event->kind;
	g.seq = env->seq;
	snprintf(g.reason, sizeof(g.reason), "%s", env->hypervisor_event->reason);
	snprintf(g.domain, sizeof(g.domain), "%s", env->hypervisor_event->domain);
	if (env->hypervisor_event->n_interfaces) {
		const Vmroam__Notify__VmInterface *v = env->hypervisor_event->interfaces[0];

		assert_int_equal(v->mac.len, 6);
		snprintf(g.mac, sizeof(g.mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac.data[0],
			 v->mac.data[1], v->mac.data[2], v->mac.data[3], v->mac.data[4],
			 v->mac.data[5]);
		if (v->n_addresses)
			snprintf(g.addr, sizeof(g.addr), "%s", v->addresses[0]);
	}
	assert_string_equal(env->sender, "host-t/virtwatch");
	vmroam__notify__envelope__free_unpacked(env, NULL);
	return g;
}

static void ack(const struct got *g)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack a;
	uint8_t buf[256];
	size_t len;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__ack__init(&a);
	a.seq = g->seq;
	env.instance_id = 4100;
	env.sender = (char *)(uintptr_t) "fhr";
	env.seq = 1;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &a;
	len = notify_pack(key, 4100, &env, buf, sizeof(buf));
	/* from another address than the one the event went to, as an FHR with several answers */
	assert_true(sendto(ack_fd, buf, len, 0, (const struct sockaddr *)&g->from, g->fromlen) ==
		    (ssize_t)len);
}

/* The next event, acknowledged; asserts its kind and reason. */
static void expect(int kind, const char *reason)
{
	struct got g = receive(2000);

	if (g.kind != kind || strcmp(g.reason, reason) != 0)
		fail_msg("expected kind %d '%s', got %d '%s'", kind, reason, g.kind, g.reason);
	assert_string_equal(g.domain, "vm-a");
	assert_string_equal(g.mac, "52:54:00:11:22:33");
	assert_string_equal(g.addr, "198.51.100.10");
	ack(&g);
}

static void quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

static void lifecycle_and_replayed_migration(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	char conf_text[512], err[256];
	struct hv_conf *conf;
	virConnectPtr c2;
	virDomainPtr d, plain;
	struct vw *w;
	struct got g;

	(void)state;
	fhr_fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(fhr_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fhr_fd, (struct sockaddr *)&sin, &sl), 0);
	fhr_port = ntohs(sin.sin_port);
	ack_fd = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_addr.s_addr = htonl(0x7f000002);
	sin.sin_port = 0;
	assert_int_equal(bind(ack_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	snprintf(conf_text, sizeof(conf_text),
		 "hypervisor\n host-id host-t\n tenant A\n  instance-id 4100\n  key k-a\n"
		 "  fhr 127.0.0.1 port %u\n",
		 fhr_port);
	conf = hv_conf_parse_string("t", conf_text, err, sizeof(err));
	assert_non_null(conf);
	key = lisp_auth_key_new("k-a", 3);

	virSetErrorFunc(NULL, quiet);
	loop = ev_loop_new(EVFLAG_AUTO);
	virt_ev_register(loop);
	w = vw_new(loop, "test:///default", conf);
	vw_start(w);
	for (int i = 0; i < 2000 && !vw_connected(w); i++)
		pump(1);
	assert_true(vw_connected(w));
	assert_true(virt_ev_active() > 0); /* libvirt's timers and handles live on libev */

	/* the operator's side: another connection to the same test driver */
	c2 = virConnectOpen("test:///default");
	assert_non_null(c2);
	plain = virDomainDefineXML(c2, plain_xml);
	assert_non_null(plain);
	assert_int_equal(virDomainCreate(plain), 0);
	d = virDomainDefineXML(c2, dom_xml);
	assert_non_null(d);

	/* a boot: live (the not-a-tenant domain before it is not told) */
	assert_int_equal(virDomainCreate(d), 0);
	expect(1, "started/booted");
	/* pause, resume: live again */
	assert_int_equal(virDomainSuspend(d), 0);
	assert_int_equal(virDomainResume(d), 0);
	expect(1, "resumed/unpaused");
	/* destroyed: left */
	assert_int_equal(virDomainDestroy(d), 0);
	expect(2, "stopped/destroyed");
	for (int i = 0; i < 500 && vw_pending(w); i++)
		pump(1); /* (the last Ack on its way) */
	assert_int_equal(vw_pending(w), 0);

	/* an unacknowledged event is sent again (0.2 s), with the same sequence number */
	assert_int_equal(virDomainCreate(d), 0);
	g = receive(2000);
	assert_int_equal(g.kind, 1);
	assert_int_equal(vw_pending(w), 1);
	struct got again = receive(1000);
	assert_int_equal(again.kind, 1);
	assert_int_equal(again.seq, g.seq);
	assert_true(vw_counters(w)->retransmits >= 1);
	ack(&again);
	for (int i = 0; i < 500 && vw_pending(w); i++)
		pump(1);
	assert_int_equal(vw_pending(w), 0);

	/* a live migration as the destination's libvirtd reports it: STARTED/MIGRATED, then
	 * RESUMED/MIGRATED when the VM runs here; the source sees SUSPENDED/MIGRATED (leaving:
	 * its FHR holds the VM's packets) and STOPPED/MIGRATED */
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED);
	expect(0, "started/migrated");
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
	expect(1, "resumed/migrated");
	{
		/* leaving goes at once, from what is known (no round trip to libvirtd) */
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		vw_lifecycle(w, d, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED);
		g = receive(1); /* (sent before the loop ran again) */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(g.kind, 3);
		assert_string_equal(g.reason, "suspended/migrated");
		assert_true((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 <
			    0.05);
		ack(&g);
	}
	/* a migration pass that may be the last: the second and later (the first copies all) */
	vw_iteration(w, d, 1);
	assert_int_equal(receive(100).kind, -1);
	vw_iteration(w, d, 2);
	g = receive(1); /* (at once, as leaving) */
	assert_int_equal(g.kind, 4);
	assert_string_equal(g.reason, "migration pass 2");
	ack(&g);
	vw_iteration(w, d, 3);
	expect(4, "migration pass 3");
	/* the migration failed: the source resumes it, live here again */
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
	expect(1, "resumed/migrated");
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY);
	expect(3, "suspended/postcopy");
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED);
	expect(2, "stopped/migrated");
	/* post-copy: the VM runs at the destination from RESUMED/POSTCOPY */
	vw_lifecycle(w, d, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY);
	expect(1, "resumed/postcopy");

	/* a reloaded configuration with another key: what is sent from now on carries it */
	{
		char text2[512];
		struct hv_conf *c2conf, *old;

		snprintf(text2, sizeof(text2),
			 "hypervisor\n host-id host-t\n tenant A\n  instance-id 4100\n"
			 "  key k-new\n  fhr 127.0.0.1 port %u\n",
			 fhr_port);
		c2conf = hv_conf_parse_string("t2", text2, err, sizeof(err));
		assert_non_null(c2conf);
		old = vw_reconfigure(w, c2conf);
		assert_ptr_equal(old, conf);
		hv_conf_free(old);
		conf = c2conf;
		lisp_auth_key_free(key);
		key = lisp_auth_key_new("k-new", 5); /* receive() refuses anything else */
		vw_lifecycle(w, d, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
		vw_lifecycle(w, d, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
		expect(1, "resumed/unpaused");
	}

	/* the not-a-tenant domain's events are counted, never told */
	assert_int_equal(virDomainDestroy(plain), 0);
	assert_int_equal(receive(300).kind, -1);
	assert_true(vw_counters(w)->events >= 6);
	assert_int_equal(vw_counters(w)->bad_xml, 0);

	virDomainDestroy(d);
	virDomainUndefine(d);
	virDomainUndefine(plain);
	virDomainFree(d);
	virDomainFree(plain);
	virConnectClose(c2);
	vw_free(w);
	for (int i = 0; i < 100; i++)
		ev_run(loop, EVRUN_NOWAIT); /* libvirt's deferred frees */
	hv_conf_free(conf);
	lisp_auth_key_free(key);
	close(fhr_fd);
	close(ack_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lifecycle_and_replayed_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
