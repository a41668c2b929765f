/* Hook calls and lifecycle events -> HypervisorEvents, signed for the tenant's FHR (hv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor-hooks/hv.h"
#include "lib/lisp_auth.h"
#include "lib/notify.h"

const char *hv_kind_name(enum hv_kind k)
{
	switch (k) {
	case HV_ARRIVING:
		return "arriving";
	case HV_LIVE:
		return "live";
	case HV_LEFT:
		return "left";
	case HV_LEAVING:
		return "leaving";
	case HV_PAUSING:
		return "pausing";
	case HV_SWITCHING:
		return "switching";
	case HV_STEERED:
		return "steered";
	default:
		return "none";
	}
}

enum hv_kind hv_kind_from_name(const char *name)
{
	for (enum hv_kind k = HV_ARRIVING; k <= HV_STEERED; k++)
		if (strcmp(hv_kind_name(k), name) == 0)
			return k;
	return HV_NONE;
}

enum hv_kind hv_hook_kind(const char *operation, const char *subop, bool *filter)
{
	static const struct {
		const char *op, *sub;
		enum hv_kind kind;
		bool filter;
	} map[] = {
		{ "migrate", "begin", HV_ARRIVING, true },
		{ "restore", "begin", HV_ARRIVING, true },
		{ "started", "begin", HV_ARRIVING, false },
		{ "reconnect", "begin", HV_ARRIVING, false },
		{ "attach", "begin", HV_ARRIVING, false },
		{ "stopped", "end", HV_LEFT, false },
	};

	*filter = operation &&
		  (strcmp(operation, "migrate") == 0 || strcmp(operation, "restore") == 0);
	if (!operation || !subop)
		return HV_NONE;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].op, operation) == 0 && strcmp(map[i].sub, subop) == 0)
			return map[i].kind;
	return HV_NONE;
}

/* libvirt's lifecycle event types and details (libvirt-domain.h, a stable ABI) */
enum {
	EV_STARTED = 2,
	EV_SUSPENDED = 3,
	EV_RESUMED = 4,
	EV_STOPPED = 5
};

enum hv_kind hv_lifecycle_kind(int event, int detail, char *reason, size_t reasonlen)
{
	static const char *started[] = { "booted", "migrated", "restored", "from-snapshot",
					 "wakeup" };
	static const char *resumed[] = { "unpaused", "migrated", "from-snapshot", "postcopy",
					 "postcopy-failed" };
	static const char *suspended[] = { "paused",	"migrated", "ioerror",
					   "watchdog",	"restored", "from-snapshot",
					   "api-error", "postcopy", "postcopy-failed" };
	static const char *stopped[] = { "shutdown", "destroyed", "crashed",	  "migrated",
					 "saved",    "failed",	  "from-snapshot" };
#define NAME(tab) ((unsigned)detail < sizeof(tab) / sizeof(tab[0]) ? tab[detail] : "other")

	switch (event) {
	case EV_STARTED:
		snprintf(reason, reasonlen, "started/%s", NAME(started));
		return detail == 1 ? HV_ARRIVING : HV_LIVE;
	case EV_SUSPENDED: /* only a migration's switchover: the others stay where they are */
		snprintf(reason, reasonlen, "suspended/%s", NAME(suspended));
		return detail == 1 || detail == 7 ? HV_LEAVING : HV_NONE;
	case EV_RESUMED:
		snprintf(reason, reasonlen, "resumed/%s", NAME(resumed));
		return detail == 4 ? HV_NONE : HV_LIVE;
	case EV_STOPPED:
		snprintf(reason, reasonlen, "stopped/%s", NAME(stopped));
		return HV_LEFT;
	default:
		snprintf(reason, reasonlen, "event %d/%d", event, detail);
		return HV_NONE;
	}
#undef NAME
}

bool hv_pausing_due(uint64_t remaining, uint64_t bps, uint64_t limit_ms, double lead)
{
	if (!bps || !limit_ms)
		return false; /* (not measured yet) */
	return (double)remaining <= (double)bps * ((double)limit_ms / 1000.0 + lead);
}

enum hv_switch_act hv_switch_poll(struct hv_switch *s, uint64_t remaining, uint64_t bps, double now)
{
	switch (s->phase) {
	case HV_SWITCH_WATCH:
		/* QEMU's rule with the operator's limit (not measured yet: not due) */
		if (!bps || !s->limit_ms ||
		    (double)remaining > (double)bps * ((double)s->limit_ms / 1000.0))
			return HV_SWITCH_NONE;
		s->phase = HV_SWITCH_HOLDING;
		s->told = now;
		return HV_SWITCH_TELL;
	case HV_SWITCH_HOLDING:
		if (now - s->told < HV_SWITCH_WAIT)
			return HV_SWITCH_NONE;
		s->phase = HV_SWITCH_SWITCHED; /* (no Ack: the migration goes on all the same) */
		return HV_SWITCH_PAUSE;
	default:
		return HV_SWITCH_NONE;
	}
}

enum hv_switch_act hv_switch_acked(struct hv_switch *s)
{
	if (s->phase != HV_SWITCH_HOLDING)
		return HV_SWITCH_NONE;
	s->phase = HV_SWITCH_SWITCHED;
	return HV_SWITCH_PAUSE;
}

int hv_route(const struct hv_conf *c, const struct hv_domain *d, const struct hv_tenant **t,
	     struct lisp_addr *fhr, uint16_t *port, char *err, size_t errlen)
{
	if (!d->tenant_vm) {
		snprintf(err, errlen, "%s: no <vmroam:vm> metadata: not a tenant VM", d->name);
		return -ENOENT;
	}
	*t = hv_conf_tenant(c, d->tenant);
	if (!*t) {
		snprintf(err, errlen, "%s: tenant %s is not configured on this host", d->name,
			 d->tenant);
		return -ENOENT;
	}
	if (d->has_iid && d->iid != (*t)->iid) {
		snprintf(err, errlen, "%s: instance-id %u in the domain, tenant %s has %u", d->name,
			 d->iid, d->tenant, (*t)->iid);
		return -EPERM;
	}
	if (!(*t)->has_fhr && !d->has_fhr) {
		snprintf(err, errlen, "%s: no FHR address (neither <vmroam:fhr> nor 'fhr' for %s)",
			 d->name, d->tenant);
		return -EDESTADDRREQ;
	}
	*fhr = (*t)->has_fhr ? (*t)->fhr : d->fhr;
	*port = (*t)->has_fhr ? (*t)->port : HV_PORT;
	return 0;
}

size_t hv_event_pack(const struct hv_conf *c, const struct hv_tenant *t, const struct hv_domain *d,
		     enum hv_kind kind, const char *reason, const char *who, double timestamp,
		     uint64_t session, uint64_t seq, uint8_t *out, size_t cap)
{
	static const Vmroam__Notify__HypervisorKind kinds[] = {
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_ARRIVING,
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LIVE,
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEFT,
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEAVING,
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_PAUSING,
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEAVING, /* HV_SWITCHING */
		VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEAVING  /* HV_STEERED */
	};
	Vmroam__Notify__VmInterface vifs[HV_IFACES_MAX], *vifp[HV_IFACES_MAX];
	char abuf[HV_IFACES_MAX][HV_ADDRS_MAX][LISP_ADDR_STRLEN];
	char *aptr[HV_IFACES_MAX][HV_ADDRS_MAX];
	Vmroam__Notify__HypervisorEvent ev;
	Vmroam__Notify__Envelope env;
	struct lisp_auth_key *k;
	char sender[2 * HV_NAME_MAX + 2], receiver[LISP_ADDR_STRLEN] = "";
	size_t len;

	if (kind < HV_ARRIVING || kind > HV_STEERED)
		return 0;
	if (t->has_fhr || d->has_fhr) /* the FHR it goes to (hv_route's choice) */
		lisp_addr_format(t->has_fhr ? &t->fhr : &d->fhr, receiver, sizeof(receiver));
	vmroam__notify__hypervisor_event__init(&ev);
	ev.kind = kinds[kind];
	ev.domain = (char *)(uintptr_t)d->name;
	ev.uuid = (char *)(uintptr_t)d->uuid;
	ev.tenant = (char *)(uintptr_t)t->name;
	ev.host = (char *)(uintptr_t)c->host_id;
	ev.reason = (char *)(uintptr_t)(reason ? reason : "");
	ev.timestamp = timestamp;
	ev.pause_follows = kind == HV_SWITCHING;
	ev.steered = kind == HV_STEERED;
	for (size_t i = 0; i < d->nifaces; i++) {
		const struct hv_iface *f = &d->ifaces[i];

		vmroam__notify__vm_interface__init(&vifs[i]);
		vifs[i].mac.data = (uint8_t *)(uintptr_t)f->mac;
		vifs[i].mac.len = 6;
		vifs[i].bridge = (char *)(uintptr_t)f->bridge;
		vifs[i].target = (char *)(uintptr_t)f->target;
		for (size_t j = 0; j < f->naddrs; j++)
			aptr[i][j] = lisp_addr_format(&f->addrs[j], abuf[i][j], LISP_ADDR_STRLEN);
		vifs[i].n_addresses = f->naddrs;
		vifs[i].addresses = aptr[i];
		vifp[i] = &vifs[i];
	}
	ev.n_interfaces = d->nifaces;
	ev.interfaces = vifp;
	vmroam__notify__envelope__init(&env);
	snprintf(sender, sizeof(sender), "%s/%s", c->host_id, who);
	env.instance_id = t->iid;
	env.direction = VMROAM__NOTIFY__DIRECTION__HYPERVISOR_TO_FHR;
	env.sender = sender;
	env.receiver = receiver;
	env.session = session;
	env.seq = seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT;
	env.hypervisor_event = &ev;
	k = lisp_auth_key_new(t->key, t->keylen);
	len = notify_pack(k, t->iid, &env, out, cap);
	lisp_auth_key_free(k);
	return len;
}

int hv_ack_check(const struct hv_tenant *t, const uint8_t *buf, size_t len, uint64_t seq,
		 int *status)
{
	struct lisp_auth_key *k = lisp_auth_key_new(t->key, t->keylen);
	Vmroam__Notify__Envelope *env;
	int err, rc = -EBADMSG;

	env = notify_unpack(k, buf, len, &err);
	lisp_auth_key_free(k);
	if (!env)
		return err;
	if (env->instance_id == t->iid && env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
	    env->direction == VMROAM__NOTIFY__DIRECTION__FHR_TO_HYPERVISOR &&
	    env->ack->seq == seq) {
		*status = env->ack->status;
		rc = 0;
	}
	vmroam__notify__envelope__free_unpacked(env, NULL);
	return rc;
}
