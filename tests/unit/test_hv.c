/*
 * hypervisor-hooks' engine: domain XML (sample domains, odd ones), the
 * host configuration, hook arguments and lifecycle events translated, the
 * signed HypervisorEvent decoded by the FHR's own decoder, Acks.
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

#include "hypervisor-hooks/hv.h"
#include "lib/notify.h"

/* As libvirt hands it to the hook on `started` (live XML: target devs, aliases). */
static const char *xml_two =
	"<domain type='qemu' id='3'>\n"
	"  <name>vm1</name>\n"
	"  <uuid>6d1c4b0e-0000-4000-8000-000000000001</uuid>\n"
	"  <metadata>\n"
	"    <nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
	"<nova:name>x</nova:name></nova:instance>\n"
	"    <vmroam:vm xmlns:vmroam='urn:vmroam:libvirt:1'>\n"
	"      <vmroam:address mac='52:54:00:aa:bb:02'>2001:db8:d::10</vmroam:address>\n"
	"      <vmroam:tenant> TENANT-A </vmroam:tenant>\n"
	"      <vmroam:instance-id>100</vmroam:instance-id>\n"
	"      <vmroam:fhr>198.51.100.1</vmroam:fhr>\n"
	"      <vmroam:address>198.51.100.10</vmroam:address>\n"
	"      <vmroam:address>198.51.100.10</vmroam:address>\n"
	"    </vmroam:vm>\n"
	"  </metadata>\n"
	"  <memory unit='KiB'>65536</memory>\n"
	"  <devices>\n"
	"    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	"    <interface type='bridge'>\n"
	"      <mac address='52:54:00:AA:BB:01'/>\n"
	"      <source bridge='br0'/>\n"
	"      <target dev='vnet0'/>\n"
	"      <model type='e1000'/>\n"
	"    </interface>\n"
	"    <interface type='network'>\n"
	"      <mac address='52:54:00:aa:bb:02'/>\n"
	"      <source network='default'/>\n"
	"    </interface>\n"
	"  </devices>\n"
	"</domain>\n";

static void xml_two_interfaces(void **state)
{
	struct hv_domain d;
	char err[256], b[LISP_ADDR_STRLEN];
	const uint8_t mac1[6] = { 0x52, 0x54, 0, 0xaa, 0xbb, 1 };

	(void)state;
	assert_int_equal(hv_domain_parse(xml_two, strlen(xml_two), &d, err, sizeof(err)), 0);
	assert_string_equal(d.name, "vm1");
	assert_string_equal(d.uuid, "6d1c4b0e-0000-4000-8000-000000000001");
	assert_true(d.tenant_vm);
	assert_string_equal(d.tenant, "TENANT-A"); /* trimmed */
	assert_true(d.has_iid);
	assert_int_equal(d.iid, 100);
	assert_true(d.has_fhr);
	assert_string_equal(lisp_addr_format(&d.fhr, b, sizeof(b)), "198.51.100.1");
	assert_int_equal(d.nifaces, 2);
	assert_memory_equal(d.ifaces[0].mac, mac1, 6); /* upper-case hex too */
	assert_string_equal(d.ifaces[0].bridge, "br0");
	assert_string_equal(d.ifaces[0].target, "vnet0");
	assert_string_equal(d.ifaces[1].bridge, "default");
	assert_string_equal(d.ifaces[1].target, "");
	/* an address without mac= is the first interface's, given twice counts once */
	assert_int_equal(d.ifaces[0].naddrs, 1);
	assert_string_equal(lisp_addr_format(&d.ifaces[0].addrs[0], b, sizeof(b)), "198.51.100.10");
	assert_int_equal(d.ifaces[1].naddrs, 1);
	assert_string_equal(lisp_addr_format(&d.ifaces[1].addrs[0], b, sizeof(b)),
			    "2001:db8:d::10");
	assert_int_equal(d.skipped, 0);
}

static void xml_odd(void **state)
{
	struct hv_domain d;
	char err[256];

	(void)state;
	/* no interfaces, no metadata: a domain, not a tenant VM */
	const char *bare = "<domain type='qemu'><name>plain</name><devices/></domain>";
	assert_int_equal(hv_domain_parse(bare, strlen(bare), &d, err, sizeof(err)), 0);
	assert_false(d.tenant_vm);
	assert_int_equal(d.nifaces, 0);

	/* other software's metadata only */
	const char *other = "<domain><name>o</name><metadata><x:vm xmlns:x='urn:other'>"
			    "<x:tenant>T</x:tenant></x:vm></metadata></domain>";
	assert_int_equal(hv_domain_parse(other, strlen(other), &d, err, sizeof(err)), 0);
	assert_false(d.tenant_vm);

	/* our element in another namespace prefix is still ours; interface without MAC left out */
	const char *pfx = "<domain><name>p</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
			  "<v:tenant>T</v:tenant><v:colour>blue</v:colour></v:vm></metadata>"
			  "<devices><interface type='bridge'><source bridge='b'/></interface>"
			  "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
			  "</devices></domain>";
	assert_int_equal(hv_domain_parse(pfx, strlen(pfx), &d, err, sizeof(err)), 0);
	assert_true(d.tenant_vm);
	assert_int_equal(d.nifaces, 1);
	assert_int_equal(d.skipped, 2); /* the interface without a MAC, the unknown element */
	assert_non_null(strstr(d.warning, "without a valid"));

	/* an address of a MAC the domain does not have: left out */
	const char *stray = "<domain><name>s</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
			    "<v:tenant>T</v:tenant><v:address mac='52:54:00:00:00:99'>192.0.2.5"
			    "</v:address></v:vm></metadata></domain>";
	assert_int_equal(hv_domain_parse(stray, strlen(stray), &d, err, sizeof(err)), 0);
	assert_int_equal(d.skipped, 1);

	/* 17 interfaces: 16 kept */
	char big[8192];
	size_t n = (size_t)snprintf(big, sizeof(big), "<domain><name>b</name><devices>");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(
			big + n, sizeof(big) - n,
			"<interface type='bridge'><mac address='52:54:00:00:01:%02x'/>"
			"</interface>",
			i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "</devices></domain>");
	assert_int_equal(hv_domain_parse(big, n, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nifaces, HV_IFACES_MAX);
	assert_int_equal(d.skipped, 1);
}

static void xml_refused(void **state)
{
	static const struct {
		const char *xml, *why;
	} bad[] = {
		{ "", "not well-formed" },
		{ "<domain><name>x</name>", "not well-formed" },
		{ "<network><name>x</name></network>", "not <domain>" },
		{ "<domain><uuid>1</uuid></domain>", "no <name>" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'/>"
		  "</metadata></domain>",
		  "without <vmroam:tenant>" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		  "<v:tenant>T</v:tenant><v:instance-id>-1</v:instance-id></v:vm></metadata></"
		  "domain>",
		  "instance-id" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		  "<v:tenant>T</v:tenant><v:instance-id>16777216</v:instance-id></v:vm></metadata>"
		  "</domain>",
		  "instance-id" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		  "<v:tenant>T</v:tenant><v:fhr>host.example</v:fhr></v:vm></metadata></domain>",
		  "<vmroam:fhr>" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		  "<v:tenant>T</v:tenant><v:address>198.51.100.300</v:address></v:vm></metadata>"
		  "</domain>",
		  "<vmroam:address>" },
		{ "<domain><name>x</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'>"
		  "<v:tenant>T</v:tenant><v:address mac='zz'>192.0.2.1</v:address></v:vm>"
		  "</metadata></domain>",
		  "not a MAC" },
		/* an external entity is neither fetched nor expanded */
		{ "<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain><name>&e;</name>"
		  "</domain>",
		  "no <name>" },
	};
	struct hv_domain d;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
			hv_domain_parse(bad[i].xml, strlen(bad[i].xml), &d, err, sizeof(err)),
			-EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
	}
}

static const char *conf_text = "hypervisor\n"
			       " host-id dc2-host7\n"
			       " tenant TENANT-A\n"
			       "  instance-id 100\n"
			       "  key tenant-a-hv\n"
			       " tenant TENANT-B\n"
			       "  instance-id 200\n"
			       "  key hex 0102030405\n"
			       "  fhr 192.0.2.77 port 5000\n";

static void conf_ok_and_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "hypervisor\n tenant A\n  key k\n", "t:2: tenant A has no instance-id" },
		{ "hypervisor\n tenant A\n  instance-id 1\n", "t:2: tenant A has no key" },
		{ "hypervisor\n tenant A\n  instance-id 99999999\n", "t:3: instance-id" },
		{ "hypervisor\n tenant A\n  fhr 1.2.3 \n", "t:3: fhr: '1.2.3'" },
		{ "hypervisor\n tenant A\n  fhr 192.0.2.1 port 0\n", "t:3: fhr: expected" },
		{ "hypervisor\n tenant A\n instance-id 1\n key k\n tenant A\n", "given twice" },
		{ "hypervisor\n colour blue\n", "t:2:" },
	};
	char err[256];
	struct hv_conf *c = hv_conf_parse_string("t", conf_text, err, sizeof(err));
	const struct hv_tenant *t;

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->host_id, "dc2-host7");
	assert_int_equal(c->ntenants, 2);
	t = hv_conf_tenant(c, "TENANT-B");
	assert_non_null(t);
	assert_int_equal(t->iid, 200);
	assert_int_equal(t->keylen, 5);
	assert_true(t->has_fhr);
	assert_int_equal(t->port, 5000);
	assert_false(hv_conf_tenant(c, "TENANT-A")->has_fhr);
	assert_null(hv_conf_tenant(c, "TENANT-C"));
	hv_conf_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(hv_conf_parse_string("t", bad[i].text, err, sizeof(err)));
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
	}
}

static void hook_arguments(void **state)
{
	bool filter;

	(void)state;
	assert_int_equal(hv_hook_kind("migrate", "begin", &filter), HV_ARRIVING);
	assert_true(filter); /* its stdout is read as a new XML: the hook prints nothing */
	assert_int_equal(hv_hook_kind("restore", "begin", &filter), HV_ARRIVING);
	assert_true(filter);
	assert_int_equal(hv_hook_kind("started", "begin", &filter), HV_ARRIVING);
	assert_false(filter);
	assert_int_equal(hv_hook_kind("reconnect", "begin", &filter), HV_ARRIVING);
	assert_int_equal(hv_hook_kind("stopped", "end", &filter), HV_LEFT);
	assert_int_equal(hv_hook_kind("prepare", "begin", &filter), HV_NONE);
	assert_int_equal(hv_hook_kind("start", "begin", &filter), HV_NONE);
	assert_int_equal(hv_hook_kind("release", "end", &filter), HV_NONE);
	assert_int_equal(hv_hook_kind("started", "end", &filter), HV_NONE);
	assert_int_equal(hv_hook_kind("frobnicate", "-", &filter), HV_NONE);
	assert_int_equal(hv_hook_kind(NULL, NULL, &filter), HV_NONE);
	/* -e KIND (by hand) */
	assert_int_equal(hv_kind_from_name("leaving"), HV_LEAVING);
	assert_int_equal(hv_kind_from_name("pausing"), HV_PAUSING);
	/* a migration's pause is due when what remains fits the downtime limit (and the lead) */
	assert_false(hv_pausing_due(100 << 20, 0, 300, HV_PAUSING_LEAD)); /* (no rate yet) */
	assert_false(hv_pausing_due(100 << 20, 100 << 20, 300, HV_PAUSING_LEAD));
	assert_false(hv_pausing_due(33 << 20, 100 << 20, 300, 0.015)); /* 330 ms of it */
	assert_true(hv_pausing_due(31 << 20, 100 << 20, 300, 0.015));  /* 310 ms: due */
	assert_true(hv_pausing_due(0, 100 << 20, 300, 0.015));
	assert_false(hv_pausing_due(0, 100 << 20, 0, 0.015));
	assert_string_equal(hv_kind_name(HV_PAUSING), "pausing");
	assert_int_equal(hv_kind_from_name("live"), HV_LIVE);
	assert_int_equal(hv_kind_from_name("none"), HV_NONE);
	assert_int_equal(hv_kind_from_name("Leaving"), HV_NONE);
	assert_false(filter);
}

/* The switchover we lead: told once due by QEMU's rule, paused on the Ack or after the wait. */
static void switchover(void **state)
{
	struct hv_switch s = { .limit_ms = 300 };

	(void)state;
	assert_int_equal(hv_switch_poll(&s, 100 << 20, 0, 1.0), HV_SWITCH_NONE); /* no rate yet */
	assert_int_equal(hv_switch_poll(&s, 31 << 20, 100 << 20, 1.0), HV_SWITCH_NONE); /* 310 ms */
	assert_int_equal(hv_switch_acked(&s), HV_SWITCH_NONE); /* (an Ack of something else) */
	assert_int_equal(s.phase, HV_SWITCH_WATCH);
	assert_int_equal(hv_switch_poll(&s, 29 << 20, 100 << 20, 1.005), HV_SWITCH_TELL);
	assert_int_equal(s.phase, HV_SWITCH_HOLDING);
	/* told once: the next looks wait for the Ack */
	assert_int_equal(hv_switch_poll(&s, 20 << 20, 100 << 20, 1.010), HV_SWITCH_NONE);
	assert_int_equal(hv_switch_poll(&s, 1 << 20, 100 << 20, 1.2), HV_SWITCH_NONE);
	assert_int_equal(hv_switch_acked(&s), HV_SWITCH_PAUSE);
	assert_int_equal(s.phase, HV_SWITCH_SWITCHED);
	/* once only: a late retransmission's Ack, later looks */
	assert_int_equal(hv_switch_acked(&s), HV_SWITCH_NONE);
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 2.0), HV_SWITCH_NONE);

	/* no Ack: paused all the same once HV_SWITCH_WAIT is over */
	s = (struct hv_switch){ .limit_ms = 300 };
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 5.0), HV_SWITCH_TELL);
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 5.0 + HV_SWITCH_WAIT - 0.001),
			 HV_SWITCH_NONE);
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 5.0 + HV_SWITCH_WAIT), HV_SWITCH_PAUSE);
	assert_int_equal(hv_switch_acked(&s), HV_SWITCH_NONE);
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 9.0), HV_SWITCH_NONE);

	/* no limit known: never due */
	s = (struct hv_switch){ .limit_ms = 0 };
	assert_int_equal(hv_switch_poll(&s, 0, 100 << 20, 1.0), HV_SWITCH_NONE);
}

static void lifecycle_translation(void **state)
{
	static const struct {
		int event, detail;
		enum hv_kind kind;
		const char *reason;
	} cases[] = {
		{ 2, 1, HV_ARRIVING, "started/migrated" },
		{ 4, 1, HV_LIVE, "resumed/migrated" },
		{ 4, 3, HV_LIVE, "resumed/postcopy" },
		{ 4, 4, HV_NONE, "resumed/postcopy-failed" },
		{ 2, 0, HV_LIVE, "started/booted" },
		{ 2, 2, HV_LIVE, "started/restored" },
		{ 4, 0, HV_LIVE, "resumed/unpaused" },
		{ 5, 3, HV_LEFT, "stopped/migrated" },
		{ 5, 0, HV_LEFT, "stopped/shutdown" },
		{ 5, 1, HV_LEFT, "stopped/destroyed" },
		{ 5, 4, HV_LEFT, "stopped/saved" },
		{ 5, 42, HV_LEFT, "stopped/other" },
		/* the switchover of a live migration away from here; no other pause */
		{ 3, 1, HV_LEAVING, "suspended/migrated" },
		{ 3, 7, HV_LEAVING, "suspended/postcopy" },
		{ 3, 0, HV_NONE, "suspended/paused" },
		{ 3, 2, HV_NONE, "suspended/ioerror" },
		{ 3, 8, HV_NONE, "suspended/postcopy-failed" },
		{ 3, 42, HV_NONE, "suspended/other" },
		{ 0, 0, HV_NONE, "event 0/0" },
		{ 1, 0, HV_NONE, "event 1/0" },
	};
	char reason[48];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			hv_lifecycle_kind(cases[i].event, cases[i].detail, reason, sizeof(reason)),
			cases[i].kind);
		assert_string_equal(reason, cases[i].reason);
	}
}

static void route_and_pack(void **state)
{
	char err[256], b[LISP_ADDR_STRLEN];
	struct hv_conf *c = hv_conf_parse_string("t", conf_text, err, sizeof(err));
	const struct hv_tenant *t;
	struct hv_domain d;
	struct lisp_addr fhr;
	uint16_t port;
	uint8_t out[NOTIFY_MAX];
	size_t len;
	int e, status;

	(void)state;
	assert_int_equal(hv_domain_parse(xml_two, strlen(xml_two), &d, err, sizeof(err)), 0);
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), 0);
	assert_string_equal(t->name, "TENANT-A");
	assert_string_equal(lisp_addr_format(&fhr, b, sizeof(b)), "198.51.100.1");
	assert_int_equal(port, HV_PORT);
	len = hv_event_pack(c, t, &d, HV_LIVE, "resumed/migrated", "virtwatch", 1.7e9, 11, 12, out,
			    sizeof(out));
	assert_true(len > 0);

	/* the FHR's decoder, with the tenant's key */
	struct lisp_auth_key *k = lisp_auth_key_new("tenant-a-hv", 11);
	Vmroam__Notify__Envelope *env = notify_unpack(k, out, len, &e);
	assert_non_null(env);
	assert_int_equal(env->instance_id, 100);
	assert_string_equal(env->sender, "dc2-host7/virtwatch");
	assert_int_equal(env->session, 11);
	assert_int_equal(env->seq, 12);
	assert_int_equal(env->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT);
	Vmroam__Notify__HypervisorEvent *ev = env->hypervisor_event;
	assert_int_equal(ev->kind, VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LIVE);
	assert_string_equal(ev->domain, "vm1");
	assert_string_equal(ev->tenant, "TENANT-A");
	assert_string_equal(ev->host, "dc2-host7");
	assert_string_equal(ev->reason, "resumed/migrated");
	assert_true(ev->timestamp == 1.7e9);
	assert_int_equal(ev->n_interfaces, 2);
	assert_int_equal(ev->interfaces[0]->mac.len, 6);
	assert_string_equal(ev->interfaces[0]->target, "vnet0");
	assert_int_equal(ev->interfaces[0]->n_addresses, 1);
	assert_string_equal(ev->interfaces[0]->addresses[0], "198.51.100.10");
	assert_string_equal(ev->interfaces[1]->addresses[0], "2001:db8:d::10");
	vmroam__notify__envelope__free_unpacked(env, NULL);
	/* one bit changed: refused */
	out[len / 2] ^= 1;
	assert_null(notify_unpack(k, out, len, &e));
	assert_int_equal(e, -EACCES);

	/* an Ack for seq 12 with the key; another seq, another key: not ours */
	Vmroam__Notify__Envelope a;
	Vmroam__Notify__Ack ack;
	vmroam__notify__envelope__init(&a);
	vmroam__notify__ack__init(&ack);
	ack.seq = 12;
	ack.status = -ETIME;
	a.instance_id = 100;
	a.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	a.ack = &ack;
	len = notify_pack(k, 100, &a, out, sizeof(out)); /* no direction: not from an FHR */
	assert_int_equal(hv_ack_check(t, out, len, 12, &status), -EBADMSG);
	a.direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_HYPERVISOR;
	len = notify_pack(k, 100, &a, out, sizeof(out));
	assert_int_equal(hv_ack_check(t, out, len, 12, &status), 0);
	assert_int_equal(status, -ETIME);
	assert_int_equal(hv_ack_check(t, out, len, 13, &status), -EBADMSG);
	assert_int_equal(hv_ack_check(hv_conf_tenant(c, "TENANT-B"), out, len, 12, &status),
			 -EACCES);
	lisp_auth_key_free(k);

	/* the host's fhr wins over the domain's; a wrong instance-id, an unknown tenant, none */
	strcpy(d.tenant, "TENANT-B");
	d.has_iid = false;
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), 0);
	assert_string_equal(lisp_addr_format(&fhr, b, sizeof(b)), "192.0.2.77");
	assert_int_equal(port, 5000);
	d.has_iid = true;
	d.iid = 100;
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "instance-id 100 in the domain"));
	strcpy(d.tenant, "TENANT-C");
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), -ENOENT);
	strcpy(d.tenant, "TENANT-A");
	d.has_fhr = false;
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), -EDESTADDRREQ);
	d.tenant_vm = false;
	assert_int_equal(hv_route(c, &d, &t, &fhr, &port, err, sizeof(err)), -ENOENT);
	assert_int_equal(hv_event_pack(c, t, &d, HV_NONE, "", "x", 0, 1, 1, out, sizeof(out)), 0);
	hv_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xml_two_interfaces), cmocka_unit_test(xml_odd),
		cmocka_unit_test(xml_refused),	      cmocka_unit_test(conf_ok_and_refused),
		cmocka_unit_test(hook_arguments),     cmocka_unit_test(lifecycle_translation),
		cmocka_unit_test(switchover),	      cmocka_unit_test(route_and_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
