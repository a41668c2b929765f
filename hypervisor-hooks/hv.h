/*
 * hypervisor-hooks: what libvirt knows about a tenant VM, told to the
 * tenant's first-hop router (fhr-agent) on the host the VM runs on.
 * Shared by the qemu hook (qemu_hook.c) and the event watcher
 * (watch_virt.c): the domain XML reader, the host configuration, the
 * translation of hook calls and lifecycle events, and the signed
 * HypervisorEvent datagram (proto/eid_notify.proto). No libvirt calls
 * here, so that all of it is unit-tested and fuzzed without a daemon.
 *
 * A domain is a tenant's VM when its <metadata> holds
 *
 *   <vmroam:vm xmlns:vmroam="urn:vmroam:libvirt:1">
 *     <vmroam:tenant>TENANT-A</vmroam:tenant>
 *     <vmroam:instance-id>100</vmroam:instance-id>          (optional: checked)
 *     <vmroam:fhr>198.51.100.1</vmroam:fhr>                 (optional: the host's config wins)
 *     <vmroam:address mac="52:54:00:00:00:10">198.51.100.10</vmroam:address>   (repeatable)
 *   </vmroam:vm>
 *
 * The keys are not in the domain (anyone who may read it would have
 * them): they are in the host's configuration, per tenant.
 */
#ifndef HYPERVISOR_HOOKS_HV_H
#define HYPERVISOR_HOOKS_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/lisp_addr.h"

#define HV_XMLNS	   "urn:vmroam:libvirt:1"
#define HV_PORT		   4350 /* the FHR's HypervisorEvent listener */
#define HV_NAME_MAX	   64
#define HV_IFACES_MAX	   16
#define HV_ADDRS_MAX	   8
#define HV_XML_MAX	   (4u << 20) /* a domain XML larger than this is refused */
#define HV_KEY_MAX	   128
#define HV_CONF_DEFAULT	   "/etc/vmroam/hypervisor.conf"
#define HV_TIMESTAMP_SLACK 60.0 /* s: the FHR refuses events further from its clock */

/* Domain XML (domain.c) */

struct hv_iface {
	uint8_t mac[6];
	char bridge[HV_NAME_MAX]; /* <source bridge=...> or <source network=...> */
	char target[HV_NAME_MAX]; /* <target dev=...>, "" before the tap exists */
	struct lisp_addr addrs[HV_ADDRS_MAX];
	size_t naddrs;
};

struct hv_domain {
	char name[256];
	char uuid[40];
	bool tenant_vm; /* our <metadata> element is there */
	char tenant[HV_NAME_MAX];
	bool has_iid, has_fhr;
	uint32_t iid;
	struct lisp_addr fhr;
	struct hv_iface ifaces[HV_IFACES_MAX];
	size_t nifaces;
	unsigned skipped;  /* interfaces, addresses or metadata entries left out (see warning) */
	char warning[160]; /* the first of them */
};

/*
 * Reads a domain XML (as libvirt gives it to hooks and from
 * virDomainGetXMLDesc). Returns 0, or -EINVAL with the reason in err:
 * not XML, not a <domain>, no name, a malformed vmroam element. Parts it
 * cannot use (an interface without a MAC, more than HV_IFACES_MAX) are
 * left out and counted in skipped.
 */
int hv_domain_parse(const char *xml, size_t len, struct hv_domain *d, char *err, size_t errlen);

/* The host's configuration (conf.c) */

struct hv_tenant {
	char name[HV_NAME_MAX];
	uint32_t iid;
	bool has_iid;
	uint8_t key[HV_KEY_MAX];
	size_t keylen;
	bool has_fhr;
	struct lisp_addr fhr;
	uint16_t port;
	unsigned line;
};

struct hv_conf {
	char host_id[HV_NAME_MAX];
	struct hv_tenant *tenants;
	size_t ntenants;
};

/*
 *   hypervisor
 *    host-id NAME                         (default: the host name)
 *    tenant NAME
 *     instance-id N
 *     key [0|hex] KEY                     (the tenant's hypervisor-events key on its FHRs)
 *     fhr ADDRESS [port N]                (default: the domain's <vmroam:fhr>, port 4350)
 */
struct hv_conf *hv_conf_load(const char *path, char *err, size_t errlen);
struct hv_conf *hv_conf_parse_string(const char *name, const char *text, char *err, size_t errlen);
void hv_conf_free(struct hv_conf *c);
const struct hv_tenant *hv_conf_tenant(const struct hv_conf *c, const char *name);

/* Translation (event.c) */

enum hv_kind {
	HV_NONE = -1, /* nothing to tell */
	HV_ARRIVING = 0,
	HV_LIVE = 1,
	HV_LEFT = 2,
	HV_LEAVING = 3, /* paused for a migration's switchover away from here */
	HV_PAUSING = 4, /* a migration away from here began a pass that may be its last */
	/* (sent as HV_LEAVING with pause_follows: the watcher pauses the guest next) */
	HV_SWITCHING = 5,
	/* (sent as HV_LEAVING with steered: paused, its frames steered to the FHR since before) */
	HV_STEERED = 6,
};

const char *hv_kind_name(enum hv_kind k);
/* The kind named name (as hv_kind_name() writes it), or HV_NONE. */
enum hv_kind hv_kind_from_name(const char *name);

/*
 * A qemu hook call (operation, sub-operation as libvirt passes them):
 * migrate/restore/started/reconnect/attach -> ARRIVING (the VM is being set
 * up here; it does not run yet); stopped -> LEFT; anything else NONE.
 * filter is set for the operations whose stdout libvirt reads as a new
 * domain XML (migrate, restore): the hook must print nothing there.
 */
enum hv_kind hv_hook_kind(const char *operation, const char *subop, bool *filter);

/*
 * A lifecycle event (virDomainEventType, detail) -> kind, with a short
 * name of it in reason ("resumed/migrated"). STARTED/MIGRATED -> ARRIVING;
 * RESUMED (but POSTCOPY_FAILED) and the other STARTED -> LIVE; STOPPED ->
 * LEFT; SUSPENDED/MIGRATED and SUSPENDED/POSTCOPY (the switchover of a
 * live migration away from here) -> LEAVING; the rest NONE. A LIVE after a
 * LEAVING (RESUMED at the source: the migration failed or was cancelled)
 * tells the FHR that the VM stays.
 */
enum hv_kind hv_lifecycle_kind(int event, int detail, char *reason, size_t reasonlen);

/*
 * A live migration's progress (libvirt's job: memory remaining, bytes/s;
 * the downtime limit in ms): is the guest's pause due within about lead
 * seconds? QEMU pauses the guest once what remains fits its downtime limit
 * at its rate; HV_PAUSING then, before it does.
 */
bool hv_pausing_due(uint64_t remaining, uint64_t bps, uint64_t limit_ms, double lead);
#define HV_PAUSING_LEAD	 0.05 /* s (QEMU looks at what remains every pass chunk, up to 50 ms) */
#define HV_PAUSING_RENEW 0.05 /* s: sent again while due (the FHR's wait is 0.1 s) */

/*
 * The switchover of a live migration away from here, led by the watcher
 * so that the network holds before the guest pauses, never after:
 *  - at the migration's start QEMU's downtime limit is lowered to
 *    HV_SWITCH_FLOOR_MS, so that QEMU does not pause the guest by itself
 *    (unless what is left fits in that);
 *  - once what is left fits in the operator's limit at QEMU's current rate
 *    (QEMU's own rule), HV_LEAVING goes to the FHR (hold);
 *  - once the FHR acknowledges it (its gateways were told before its Ack
 *    left), or after HV_SWITCH_WAIT without, the watcher pauses the guest
 *    (virDomainSuspend: QEMU then sends what is left and switches over),
 *    and gives QEMU the operator's limit back.
 */
enum hv_switch_phase {
	HV_SWITCH_WATCH,    /* copying; nothing told */
	HV_SWITCH_HOLDING,  /* HV_LEAVING told, its Ack awaited */
	HV_SWITCH_SWITCHED, /* the guest paused by us (or given up) */
};
enum hv_switch_act {
	HV_SWITCH_NONE,
	HV_SWITCH_TELL,	 /* tell the FHR HV_LEAVING (then HOLDING) */
	HV_SWITCH_PAUSE, /* pause the guest now (then SWITCHED) */
};
struct hv_switch {
	enum hv_switch_phase phase;
	uint64_t limit_ms; /* the operator's downtime limit */
	double told;	   /* when HV_LEAVING was told */
};
/* A look at the migration's progress at now: what to do. */
enum hv_switch_act hv_switch_poll(struct hv_switch *s, uint64_t remaining, uint64_t bps,
				  double now);
/* The FHR acknowledged the HV_LEAVING: what to do (PAUSE when it was awaited). */
enum hv_switch_act hv_switch_acked(struct hv_switch *s);
#define HV_SWITCH_FLOOR_MS 1	/* QEMU's downtime limit while the watcher leads */
#define HV_SWITCH_WAIT	   0.25 /* s: the FHR's Ack awaited at most (2 retransmissions) */

/*
 * Where the event for d goes: the tenant (from the configuration), the
 * FHR's address and port. 0, or -ENOENT (not a tenant VM, or a tenant this
 * host has no key for) / -EPERM (the domain's instance-id is not the
 * tenant's) / -EDESTADDRREQ (no FHR address) with the reason in err.
 */
int hv_route(const struct hv_conf *c, const struct hv_domain *d, const struct hv_tenant **t,
	     struct lisp_addr *fhr, uint16_t *port, char *err, size_t errlen);

/*
 * The signed datagram: an Envelope (instance-id of t, sender "host/who",
 * session, seq) with a HypervisorEvent for d. Returns its length, or 0
 * when it does not fit in cap.
 */
size_t hv_event_pack(const struct hv_conf *c, const struct hv_tenant *t, const struct hv_domain *d,
		     enum hv_kind kind, const char *reason, const char *who, double timestamp,
		     uint64_t session, uint64_t seq, uint8_t *out, size_t cap);

/*
 * An Ack from the FHR for (session, seq) signed with t's key: its status
 * (0 accepted, else a negative errno) or -EBADMSG/-EACCES when buf is not
 * such an Ack.
 */
int hv_ack_check(const struct hv_tenant *t, const uint8_t *buf, size_t len, uint64_t seq,
		 int *status);

#endif /* HYPERVISOR_HOOKS_HV_H */
