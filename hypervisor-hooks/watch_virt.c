/*
 * vmroam-virtwatch: the host daemon that follows libvirt's domain
 * lifecycle events (libvirt's event loop on libev, loop_virt.c) and tells
 * each tenant VM's FHR: arriving (STARTED_MIGRATED), live here
 * (RESUMED_MIGRATED: the moment a migrated VM runs on this host, which no
 * hook sees), leaving (SUSPENDED_MIGRATED/POSTCOPY: the switchover of a live
 * migration away from here; its FHR holds the VM's packets, and a LIVE from
 * here after it says the migration failed), left (STOPPED_*). Every event
 * leaves at once from the callback, one datagram, no batching; LIVE and
 * LEAVING from the cached domain (no round trip to libvirtd). Events are signed HypervisorEvents
 * (hv.h), retransmitted until the FHR acknowledges them. It reconnects
 * when libvirtd restarts (close callback, keepalives) and then tells the
 * FHRs the VMs running here, so that they know their MACs and addresses.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "hypervisor-hooks/hv.h"
#include "hypervisor-hooks/loop_virt.h"
#include "hypervisor-hooks/steer.h"
#include "hypervisor-hooks/watch_virt.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define PEERS_MAX 256
#define CACHE_MAX 4096
#define TICK	  0.1 /* s: retransmissions */

struct peer {
	struct lisp_addr addr;
	uint16_t port;
	char tenant[HV_NAME_MAX];
	uint32_t iid;
	struct lisp_auth_key *key;
	struct notify_tx tx;
};

struct cached {
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct hv_domain d;
};

/* A live migration away from here, watched until the guest pauses. */
struct mig {
	virDomainPtr dom; /* (a reference of ours) */
	unsigned long long limit_ms;
	unsigned long long
		bps; /* the fastest rate seen: QEMU's threshold follows its rate up at once */
	double told; /* the last HV_PAUSING sent for it */
	/* led by us (hv.h: hv_switch): QEMU's limit is HV_SWITCH_FLOOR_MS until the switchover */
	bool led;
	struct hv_switch sw;
	struct peer *peer; /* where its HV_LEAVING went, and its sequence number */
	uint64_t seq;
	bool paused_told; /* the FHR was told it paused (libvirt's SUSPENDED need not be) */
	/* the FHR's Ack: where each held VM interface's frames may go (steer.h) */
	struct {
		uint8_t vm[6], fhr[6];
	} to[HV_IFACES_MAX];
	size_t nto;
};

/* A tap whose frames are steered to its guest's FHR now (steer.h), until the guest runs here
 * again (told to its FHR), or its tap goes (migrated: the chain goes with it). */
struct steered {
	char domain[256], tap[HV_NAME_MAX];
	uint8_t vm[6], fhr[6];
	/* the guest runs here again: the FHR's frames pass (steer.h: but_fhr) until it
	 * acknowledges what it was told (seq, to peer), which delivers what it held first */
	struct peer *peer;
	uint64_t seq;
	double until; /* (its Ack awaited at most until then) */
};
#define STEER_THROUGH_MAX 2.0 /* s */
#define STEERED_MAX	  64
#define MIGS_MAX	  16
#define MIG_POLL	  0.005 /* s between looks at a migration's progress */

struct vw {
	struct ev_loop *loop;
	const char *uri;
	struct hv_conf *conf;
	virConnectPtr conn;
	int cb_id;
	int iter_id; /* MIGRATION_ITERATION: a pass that may be the last (HV_PAUSING) */
	bool closed;
	double backoff;
	ev_timer reconnect, tick;
	int udp[2];
	ev_io udp_io[2];
	struct peer peers[PEERS_MAX];
	size_t npeers;
	struct cached *cache;
	size_t ncache;
	struct mig migs[MIGS_MAX];
	size_t nmigs;
	ev_timer poll; /* their progress, every MIG_POLL while there are any */
	uint64_t session;
	struct vw_counters c;
	struct log_rate rl;
	struct hv_steer *steer; /* opened at the first switchover with frames to steer */
	bool steer_broken;	/* it could not be: not tried again */
	struct steered steered[STEERED_MAX];
	size_t nsteered;
	uint8_t buf[NOTIFY_MAX];
};

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct peer *peer_for(struct vw *w, const struct hv_tenant *t, const struct lisp_addr *a,
			     uint16_t port)
{
	struct peer *p;

	for (size_t i = 0; i < w->npeers; i++) {
		p = &w->peers[i];
		if (p->port == port && p->iid == t->iid && lisp_addr_equal(&p->addr, a) &&
		    strcmp(p->tenant, t->name) == 0)
			return p;
	}
	if (w->npeers == PEERS_MAX)
		return NULL;
	p = &w->peers[w->npeers++];
	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->port = port;
	p->iid = t->iid;
	snprintf(p->tenant, sizeof(p->tenant), "%s", t->name);
	p->key = lisp_auth_key_new(t->key, t->keylen);
	notify_tx_init(&p->tx, w->session);
	p->tx.rseq = w->session; /* an Ack from an earlier run never matches */
	return p;
}

static void send_to(struct vw *w, const struct peer *p, const uint8_t *buf, size_t len)
{
	if (notify_sendto(w->udp, &p->addr, p->port, buf, len) < 0)
		w->c.send_errors++;
}

struct resend_arg {
	struct vw *w;
	const struct peer *p;
};

static void resend(void *arg, const uint8_t *buf, size_t len)
{
	struct resend_arg *r = arg;

	send_to(r->w, r->p, buf, len);
}

static void unsteer(struct vw *w, const char *domain);
static bool steer_through(struct vw *w, const char *domain, struct peer *p, uint64_t seq);

/* Tells d's FHR (reliably: until acknowledged): the sequence number (to *to), or 0. */
static uint64_t tell(struct vw *w, const struct hv_domain *d, enum hv_kind kind, const char *reason,
		     struct peer **to)
{
	const struct hv_tenant *t;
	struct lisp_addr fhr;
	uint16_t port;
	struct peer *p;
	char err[256], a[LISP_ADDR_STRLEN];
	size_t len;
	uint64_t seq;

	/* it runs here (the migration failed after the pause, or was cancelled): what its FHR
	 * sends reaches it from now on (what it held, delivered on this news), the rest still
	 * through the FHR, behind, until its Ack; told nothing, all reach it again at once */
	bool runs = kind != HV_LEAVING && kind != HV_SWITCHING && kind != HV_STEERED &&
		    kind != HV_PAUSING;

	if (hv_route(w->conf, d, &t, &fhr, &port, err, sizeof(err)) < 0) {
		if (d->tenant_vm)
			log_warn_rl(&w->rl, "virtwatch: %s", err);
		w->c.unroutable++;
		if (runs)
			unsteer(w, d->name);
		return 0;
	}
	p = peer_for(w, t, &fhr, port);
	if (!p) {
		log_warn_rl(&w->rl, "virtwatch: more than %d FHRs: %s not told", PEERS_MAX,
			    d->name);
		if (runs)
			unsteer(w, d->name);
		return 0;
	}
	seq = notify_tx_next_reliable(&p->tx);
	len = hv_event_pack(w->conf, t, d, kind, reason, "virtwatch", wall(), w->session, seq,
			    w->buf, sizeof(w->buf));
	if (!len) {
		log_warn_rl(&w->rl, "virtwatch: %s: the event does not fit a datagram", d->name);
		if (runs)
			unsteer(w, d->name);
		return 0;
	}
	if (runs && !steer_through(w, d->name, p, seq))
		unsteer(w, d->name);
	/* per domain only the newest news matter: it replaces an older unacknowledged one */
	if (notify_tx_keep(&p->tx, seq, d->uuid[0] ? d->uuid : d->name, w->buf, len,
			   ev_now(w->loop))) {
		struct resend_arg r = { w, p };

		notify_tx_due(&p->tx, ev_now(w->loop), resend, &r); /* now, if there is room */
	}
	w->c.sent++;
	log_info("virtwatch: %s: %s: %s told to FHR %s (tenant %s)", d->name, reason,
		 hv_kind_name(kind), lisp_addr_format(&fhr, a, sizeof(a)), t->name);
	if (to)
		*to = p;
	return seq;
}

static struct cached *cache_find(struct vw *w, const char *uuid)
{
	for (size_t i = 0; i < w->ncache; i++)
		if (strcmp(w->cache[i].uuid, uuid) == 0)
			return &w->cache[i];
	return NULL;
}

static void cache_del(struct vw *w, const char *uuid)
{
	struct cached *c = cache_find(w, uuid);

	if (c)
		*c = w->cache[--w->ncache];
}

/* The addresses libvirt knows (DHCP leases, then the host's ARP table) for interfaces without. */
static void add_addresses(virDomainPtr dom, struct hv_domain *d)
{
	static const unsigned int sources[] = { VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
						VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP };
	bool need = false;

	for (size_t i = 0; i < d->nifaces; i++)
		need |= d->ifaces[i].naddrs == 0;
	for (size_t s = 0; need && s < sizeof(sources) / sizeof(sources[0]); s++) {
		virDomainInterfacePtr *ifs = NULL;
		int n = virDomainInterfaceAddresses(dom, &ifs, sources[s], 0);

		for (int i = 0; i < n; i++) {
			uint8_t mac[6];
			unsigned m[6];

			if (!ifs[i]->hwaddr ||
			    sscanf(ifs[i]->hwaddr, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2],
				   &m[3], &m[4], &m[5]) != 6)
				continue;
			for (int k = 0; k < 6; k++)
				mac[k] = (uint8_t)m[k];
			for (size_t j = 0; j < d->nifaces; j++) {
				struct hv_iface *f = &d->ifaces[j];

				if (memcmp(f->mac, mac, 6) != 0 || f->naddrs)
					continue;
				for (unsigned a = 0; a < ifs[i]->naddrs && f->naddrs < HV_ADDRS_MAX;
				     a++)
					if (lisp_addr_parse(ifs[i]->addrs[a].addr,
							    &f->addrs[f->naddrs]) == 0)
						f->naddrs++;
			}
			virDomainInterfaceFree(ifs[i]);
		}
		free(ifs);
		need = false;
		for (size_t i = 0; i < d->nifaces; i++)
			need |= d->ifaces[i].naddrs == 0;
	}
	virResetLastError();
}

/* The domain as we know it: from the cache, or its XML now (fresh when refresh). */
static const struct hv_domain *domain_of(struct vw *w, virDomainPtr dom, bool refresh)
{
	char uuid[VIR_UUID_STRING_BUFLEN] = "", err[256];
	struct cached *c;
	struct hv_domain d;
	char *xml;
	int rc;

	virDomainGetUUIDString(dom, uuid);
	c = cache_find(w, uuid);
	if (c && !refresh)
		return &c->d;
	xml = virDomainGetXMLDesc(dom, 0);
	if (!xml) {
		virResetLastError();
		return c ? &c->d : NULL; /* gone already: what we knew */
	}
	rc = hv_domain_parse(xml, strlen(xml), &d, err, sizeof(err));
	free(xml);
	if (rc < 0) {
		log_warn_rl(&w->rl, "virtwatch: %s: %s", virDomainGetName(dom), err);
		w->c.bad_xml++;
		return NULL;
	}
	if (!d.tenant_vm)
		return NULL;
	if (refresh)
		add_addresses(dom, &d);
	if (!c) {
		if (w->ncache == CACHE_MAX)
			w->ncache--; /* (the last one out: it is only a cache) */
		c = &w->cache[w->ncache++];
		snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
	}
	c->d = d;
	return &c->d;
}

/* The watched migration of dom, or NULL. */
static struct mig *mig_of(struct vw *w, virDomainPtr dom)
{
	for (size_t i = 0; i < w->nmigs; i++)
		if (virDomainGetID(w->migs[i].dom) == virDomainGetID(dom) &&
		    strcmp(virDomainGetName(w->migs[i].dom), virDomainGetName(dom)) == 0)
			return &w->migs[i];
	return NULL;
}

/* The i-th steered tap gets its frames again (gone: forgotten). */
static void unsteer_one(struct vw *w, size_t i)
{
	struct steered *t = &w->steered[i];
	int rc = if_nametoindex(t->tap) ? hv_steer_off(w->steer, t->tap) : 0;

	if (rc < 0) { /* (its frames would loop between the FHR and the tap) */
		w->c.steer_failed++;
		log_err("virtwatch: %s: cannot stop steering %s to its FHR: %s", t->domain, t->tap,
			strerror(-rc));
	} else {
		log_info("virtwatch: %s: %s's frames reach it again", t->domain, t->tap);
	}
	*t = w->steered[--w->nsteered];
}

/*
 * The guest runs here again, and its FHR is told so (seq, to p): what the
 * FHR sends reaches it (what it held first), the rest still through the
 * FHR until its Ack. False if there is nothing of it steered, or the rules
 * could not be changed (then: unsteer()).
 */
static bool steer_through(struct vw *w, const char *domain, struct peer *p, uint64_t seq)
{
	bool any = false;

	for (size_t i = 0; i < w->nsteered; i++) {
		struct steered *t = &w->steered[i];

		if (strcmp(t->domain, domain) != 0)
			continue;
		if (hv_steer_on(w->steer, t->tap, t->vm, t->fhr, true) < 0)
			return false;
		t->peer = p;
		t->seq = seq;
		t->until = ev_now(w->loop) + STEER_THROUGH_MAX;
		any = true;
		log_info("virtwatch: %s: %s: its FHR's frames reach it, the rest once it "
			 "acknowledges",
			 t->domain, t->tap);
	}
	return any;
}

/* The FHR (p) acknowledged seq: the taps awaiting it get their frames again. */
static void steer_acked(struct vw *w, const struct peer *p, uint64_t seq)
{
	for (size_t i = 0; i < w->nsteered;) {
		if (w->steered[i].peer == p && w->steered[i].seq == seq)
			unsteer_one(w, i);
		else
			i++;
	}
}

/*
 * The taps of domain get their frames again (a failed pause, its FHR not
 * to be told); those gone (migrated) are forgotten.
 */
static void unsteer(struct vw *w, const char *domain)
{
	for (size_t i = 0; i < w->nsteered;) {
		struct steered *t = &w->steered[i];

		if (domain && strcmp(t->domain, domain) != 0) {
			i++;
			continue;
		}
		unsteer_one(w, i);
	}
}

/*
 * The guest's frames steered to its FHR (steer.h), every interface whose
 * FHR said where (its Ack), before the pause: from now on nothing reaches
 * it, and the FHR holds it all. How many taps.
 */
static size_t steer(struct vw *w, struct mig *m, const struct hv_domain *d)
{
	size_t n = 0;
	int rc;

	if (!m->nto || !d || w->steer_broken)
		return 0;
	if (!w->steer && (rc = hv_steer_open(&w->steer)) < 0) {
		w->steer_broken = true;
		log_warn(
			"virtwatch: cannot steer guests' frames to their FHR (nftables: %s): on an "
			"extended subnet the FHR draws them at the pause instead",
			strerror(-rc));
		return 0;
	}
	for (size_t i = 0; i < d->nifaces; i++) {
		const struct hv_iface *f = &d->ifaces[i];

		for (size_t k = 0; k < m->nto && f->target[0]; k++) {
			if (memcmp(m->to[k].vm, f->mac, 6) != 0)
				continue;
			rc = w->nsteered < STEERED_MAX
				     ? hv_steer_on(w->steer, f->target, f->mac, m->to[k].fhr, false)
				     : -ENOSPC;
			if (rc == -EHOSTUNREACH) {
				log_debug(LOG_VIRT,
					  "virtwatch: %s: %s: its FHR is its bridge, here: not "
					  "steered "
					  "(its MAC drawn at the pause)",
					  d->name, f->target);
			} else if (rc < 0) {
				w->c.steer_failed++;
				log_warn_rl(&w->rl, "virtwatch: %s: cannot steer %s to its FHR: %s",
					    d->name, f->target, strerror(-rc));
			} else {
				struct steered *t = &w->steered[w->nsteered++];

				*t = (struct steered){ .peer = NULL };
				snprintf(t->domain, sizeof(t->domain), "%s", d->name);
				snprintf(t->tap, sizeof(t->tap), "%s", f->target);
				memcpy(t->vm, f->mac, 6);
				memcpy(t->fhr, m->to[k].fhr, 6);
				n++;
			}
			break;
		}
	}
	return n;
}

static void mig_end(struct vw *w, struct mig *m)
{
	/* QEMU gets the operator's limit back (if the migration failed, for the next one) */
	if (m->led && m->sw.phase != HV_SWITCH_SWITCHED &&
	    virDomainMigrateSetMaxDowntime(m->dom, m->limit_ms, 0) < 0) {
		log_warn_rl(&w->rl, "virtwatch: %s: cannot set its downtime limit back to %llu ms",
			    virDomainGetName(m->dom), m->limit_ms);
		virResetLastError();
	}
	virDomainFree(m->dom);
	*m = w->migs[--w->nmigs];
	if (!w->nmigs)
		ev_timer_stop(w->loop, &w->poll);
}

/*
 * A migration away from here began (its first pass): its progress is
 * looked at every MIG_POLL. We lead its switchover (hv.h: hv_switch) when
 * QEMU takes our floor for its downtime limit; else HV_PAUSING is sent
 * when the guest's pause is due within HV_PAUSING_LEAD (libvirt's events
 * come after it).
 */
static void mig_begin(struct vw *w, virDomainPtr dom, bool adopted)
{
	struct mig *m = mig_of(w, dom);

	if (m || w->nmigs == MIGS_MAX)
		return;
	m = &w->migs[w->nmigs++];
	*m = (struct mig){ .dom = dom, .limit_ms = 300 }; /* (QEMU's default) */
	virDomainRef(dom);
	if (virDomainMigrateGetMaxDowntime(dom, &m->limit_ms, 0) < 0)
		virResetLastError();
	else if (adopted && m->limit_ms <= HV_SWITCH_FLOOR_MS) {
		/* (ours from before a restart: the operator's limit is lost) */
		m->limit_ms = 300;
		m->led = true;
		m->sw = (struct hv_switch){ .limit_ms = m->limit_ms };
		w->c.led++;
		log_warn("virtwatch: %s: a migration under way with our 1 ms downtime limit: "
			 "its switchover is ours, its limit QEMU's default (%llu ms)",
			 virDomainGetName(dom), m->limit_ms);
	} else if (m->limit_ms > HV_SWITCH_FLOOR_MS && domain_of(w, dom, false)) {
		if (virDomainMigrateSetMaxDowntime(dom, HV_SWITCH_FLOOR_MS, 0) == 0) {
			m->led = true;
			m->sw = (struct hv_switch){ .limit_ms = m->limit_ms };
			w->c.led++;
			log_debug(
				LOG_VIRT,
				"virtwatch: %s: migration: its switchover is ours (limit %llu ms)",
				virDomainGetName(dom), m->limit_ms);
		} else {
			log_warn_rl(
				&w->rl,
				"virtwatch: %s: cannot lower its downtime limit: the hold "
				"begins before the pause only as QEMU's progress lets foresee it",
				virDomainGetName(dom));
			virResetLastError();
		}
	}
	if (w->nmigs == 1)
		ev_timer_start(w->loop, &w->poll);
}

/* The switchover of a migration we lead: the guest paused, QEMU its limit back. */
static void switch_over(struct vw *w, struct mig *m, double now, bool acked)
{
	const char *name = virDomainGetName(m->dom);
	double waited = (now - m->sw.told) * 1000.0;

	if (!acked) {
		w->c.switch_unconfirmed++;
		log_warn("virtwatch: %s: its FHR did not confirm the hold in %.0f ms: pausing it "
			 "all the same",
			 name, waited);
	}
	size_t steered = acked ? steer(w, m, domain_of(w, m->dom, false)) : 0;

	w->c.steered += steered > 0;
	if (virDomainSuspend(m->dom) < 0) {
		virErrorPtr e = virGetLastError();
		const struct hv_domain *d;
		int state = VIR_DOMAIN_NOSTATE;

		w->c.switch_failed++;
		log_warn("virtwatch: %s: cannot pause it for its switchover (%s): QEMU switches "
			 "over by itself",
			 name, e && e->message ? e->message : "?");
		virResetLastError();
		/* running on here (no switchover yet): the FHR stops holding */
		if (virDomainGetState(m->dom, &state, NULL, 0) == 0 &&
		    state == VIR_DOMAIN_RUNNING && (d = domain_of(w, m->dom, false)))
			tell(w, d, HV_LIVE, "switchover failed: it runs here", NULL);
		else
			unsteer(w, name); /* (not running here: QEMU switches over, its tap goes) */
		virResetLastError();
	} else {
		const struct hv_domain *d = domain_of(w, m->dom, false);

		w->c.switched++;
		log_info("virtwatch: %s: paused for its switchover, %.1f ms after telling its FHR",
			 name, (ev_time() - m->sw.told) * 1000.0);
		/* at once, not after libvirt's SUSPENDED: on an extended subnet the FHR draws
		 * the frames to the guest's MAC to itself now (not while the guest still runs),
		 * unless they are steered to it already */
		m->paused_told = d && tell(w, d, steered ? HV_STEERED : HV_LEAVING,
					   steered ? "paused for its switchover, its frames "
						     "steered to its FHR"
						   : "paused for its switchover",
					   NULL);
	}
	if (virDomainMigrateSetMaxDowntime(m->dom, m->limit_ms, 0) < 0)
		virResetLastError(); /* (gone already: migrated) */
}

static void poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vw *w = container_of(t, struct vw, poll);
	double now = ev_now(loop);

	(void)revents;
	for (size_t i = 0; i < w->nmigs;) {
		struct mig *m = &w->migs[i];
		virTypedParameterPtr par = NULL;
		unsigned long long remaining = 0, bps = 0;
		const struct hv_domain *d;
		int type = VIR_DOMAIN_JOB_NONE, n = 0;
		char reason[48];

		if (virDomainGetJobStats(m->dom, &type, &par, &n, 0) < 0 ||
		    type == VIR_DOMAIN_JOB_NONE) {
			virResetLastError();
			virTypedParamsFree(par, n);
			mig_end(w, m); /* (over, or gone) */
			continue;
		}
		virTypedParamsGetULLong(par, n, VIR_DOMAIN_JOB_MEMORY_REMAINING, &remaining);
		virTypedParamsGetULLong(par, n, VIR_DOMAIN_JOB_MEMORY_BPS, &bps);
		virTypedParamsFree(par, n);
		if (bps > m->bps)
			m->bps = bps;
		log_debug(LOG_VIRT,
			  "virtwatch: %s: migration: %llu KiB left at %llu KiB/s (limit %llu ms)",
			  virDomainGetName(m->dom), remaining >> 10, bps >> 10, m->limit_ms);
		i++;
		if (m->led) {
			switch (hv_switch_poll(&m->sw, remaining, bps, now)) {
			case HV_SWITCH_TELL:
				snprintf(reason, sizeof(reason), "switchover: %llu KiB left",
					 remaining >> 10);
				d = domain_of(w, m->dom, false);
				m->seq = d ? tell(w, d, HV_SWITCHING, reason, &m->peer) : 0;
				if (!m->seq) { /* (no FHR to hold: nothing to wait for) */
					m->sw.phase = HV_SWITCH_SWITCHED;
					switch_over(w, m, now, true);
				}
				break;
			case HV_SWITCH_PAUSE:
				switch_over(w, m, now, false);
				break;
			default:
				break;
			}
			continue;
		}
		if (!hv_pausing_due(remaining, m->bps, m->limit_ms, HV_PAUSING_LEAD) ||
		    now - m->told < HV_PAUSING_RENEW || !(d = domain_of(w, m->dom, false)))
			continue;
		m->told = now;
		snprintf(reason, sizeof(reason), "migration: %llu KiB left", remaining >> 10);
		tell(w, d, HV_PAUSING, reason, NULL);
	}
}

void vw_lifecycle(struct vw *w, virDomainPtr dom, int event, int detail)
{
	char reason[48], uuid[VIR_UUID_STRING_BUFLEN] = "";
	enum hv_kind kind = hv_lifecycle_kind(event, detail, reason, sizeof(reason));
	struct mig *m = mig_of(w, dom);
	const struct hv_domain *d;
	bool told = false;

	w->c.events++;
	log_debug(LOG_VIRT, "virtwatch: %s: %s", virDomainGetName(dom), reason);
	if (m && event != VIR_DOMAIN_EVENT_DEFINED && event != VIR_DOMAIN_EVENT_UNDEFINED) {
		told = m->paused_told;
		mig_end(w, m); /* paused, running again, or stopped: no more to watch */
	}
	if (kind == HV_NONE || (kind == HV_LEAVING && told))
		return; /* (the pause we made: told already, as it returned) */
	/* live, leaving: at once from what we know (no round trip to libvirtd on the critical path) */
	d = domain_of(w, dom, kind == HV_ARRIVING);
	if (!d)
		return;
	tell(w, d, kind, reason, NULL);
	if (kind == HV_LEFT) {
		virDomainGetUUIDString(dom, uuid);
		cache_del(w, uuid);
	}
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *arg)
{
	(void)conn;
	vw_lifecycle(arg, dom, event, detail);
	return 0;
}

void vw_iteration(struct vw *w, virDomainPtr dom, int iteration)
{
	const struct hv_domain *d;
	char reason[48];

	w->c.events++;
	log_debug(LOG_VIRT, "virtwatch: %s: migration pass %d", virDomainGetName(dom), iteration);
	/*
	 * The first pass copies all the memory; QEMU starts another one when few
	 * dirty pages are left, syncing them first, and stops the guest right
	 * after the sync (milliseconds: 0-4 ms here) if they fit its downtime.
	 * So from the second pass on, each may be the last: the FHR holds
	 * before the guest pauses, not a libvirt event after it.
	 */
	if (iteration < 2) {
		mig_begin(w, dom, false);
		return;
	}
	if (mig_of(w, dom) && mig_of(w, dom)->led)
		return; /* (the guest pauses when we pause it) */
	d = domain_of(w, dom, false);
	if (!d)
		return;
	snprintf(reason, sizeof(reason), "migration pass %d", iteration);
	tell(w, d, HV_PAUSING, reason, NULL);
}

static void iteration_cb(virConnectPtr conn, virDomainPtr dom, int iteration, void *arg)
{
	(void)conn;
	vw_iteration(arg, dom, iteration);
}

static void close_cb(virConnectPtr conn, int reason, void *arg)
{
	struct vw *w = arg;

	(void)conn;
	log_warn("virtwatch: connection to %s closed (%s): reconnecting", w->uri,
		 reason == VIR_CONNECT_CLOSE_REASON_EOF		? "libvirtd went away"
		 : reason == VIR_CONNECT_CLOSE_REASON_KEEPALIVE ? "keepalive timeout"
		 : reason == VIR_CONNECT_CLOSE_REASON_ERROR	? "error"
								: "client");
	w->closed = true;
	ev_timer_stop(w->loop, &w->reconnect);
	ev_timer_set(&w->reconnect, 0, 0);
	ev_timer_start(w->loop, &w->reconnect);
}

static void mig_end(struct vw *w, struct mig *m);

static void disconnect(struct vw *w)
{
	if (!w->conn)
		return;
	while (w->nmigs)
		mig_end(w, &w->migs[0]);
	if (w->cb_id >= 0)
		virConnectDomainEventDeregisterAny(w->conn, w->cb_id);
	if (w->iter_id >= 0)
		virConnectDomainEventDeregisterAny(w->conn, w->iter_id);
	virConnectUnregisterCloseCallback(w->conn, close_cb);
	virConnectClose(w->conn);
	virResetLastError();
	w->conn = NULL;
	w->cb_id = -1;
	w->iter_id = -1;
}

/* Is a live migration of dom away from here under way? */
static bool migrating_out(virDomainPtr dom)
{
	virTypedParameterPtr par = NULL;
	int type = VIR_DOMAIN_JOB_NONE, n = 0, op = 0;
	bool out;

	if (virDomainGetJobStats(dom, &type, &par, &n, 0) < 0) {
		virResetLastError();
		return false;
	}
	out = type != VIR_DOMAIN_JOB_NONE &&
	      virTypedParamsGetInt(par, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
	      op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
	virTypedParamsFree(par, n);
	return out;
}

/*
 * After a (re)connection: the tenant VMs running here, as ARRIVING (their
 * bindings); their migrations away under way are watched again.
 */
static void announce_running(struct vw *w)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(w->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	for (int i = 0; i < n; i++) {
		const struct hv_domain *d = domain_of(w, doms[i], true);

		if (d)
			tell(w, d, HV_ARRIVING, "running", NULL);
		if (d && migrating_out(doms[i]))
			mig_begin(w, doms[i], true);
		virDomainFree(doms[i]);
	}
	free(doms);
}

static void reconnect_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vw *w = container_of(t, struct vw, reconnect);

	(void)loop;
	(void)revents;
	if (w->closed) {
		disconnect(w);
		w->closed = false;
	}
	w->conn = virConnectOpen(w->uri);
	if (!w->conn) {
		virErrorPtr e = virGetLastError();

		log_warn_rl(&w->rl, "virtwatch: %s: %s (retrying in %.0f s)", w->uri,
			    e && e->message ? e->message : "cannot connect", w->backoff);
		virResetLastError();
		ev_timer_set(&w->reconnect, w->backoff, 0);
		ev_timer_start(w->loop, &w->reconnect);
		w->backoff = w->backoff * 2 > 10 ? 10 : w->backoff * 2;
		return;
	}
	w->backoff = 0.5;
	virConnectSetKeepAlive(w->conn, 5, 3);
	virConnectRegisterCloseCallback(w->conn, close_cb, w, NULL);
	w->cb_id =
		virConnectDomainEventRegisterAny(w->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						 VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), w, NULL);
	if (w->cb_id < 0) {
		log_warn("virtwatch: %s: cannot subscribe to lifecycle events", w->uri);
		w->closed = true;
		ev_timer_set(&w->reconnect, 1, 0);
		ev_timer_start(w->loop, &w->reconnect);
		return;
	}
	w->iter_id = virConnectDomainEventRegisterAny(
		w->conn, NULL, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
		VIR_DOMAIN_EVENT_CALLBACK(iteration_cb), w, NULL);
	if (w->iter_id < 0) /* (an older libvirtd: its FHRs hold from the pause on) */
		log_warn("virtwatch: %s: no migration iteration events: holds begin at the pause",
			 w->uri);
	w->c.connects++;
	log_info("virtwatch: connected to %s", w->uri);
	announce_running(w);
}

/*
 * An Ack: the FHR answers from its listening socket, whose source address
 * the FHR's routing picks (not always the one we sent to), so it is matched
 * by instance-id, key and sequence number, not by where it came from.
 */
static void take_ack(struct vw *w, const uint8_t *buf, size_t len)
{
	uint32_t iid;

	if (notify_peek_iid(buf, len, &iid) < 0) {
		w->c.bad_acks++;
		return;
	}
	for (size_t i = 0; i < w->npeers; i++) {
		struct peer *p = &w->peers[i];
		Vmroam__Notify__Envelope *env;
		bool mine;
		int err;

		if (p->iid != iid || !p->tx.n)
			continue;
		env = notify_unpack(p->key, buf, len, &err);
		if (!env)
			continue; /* another tenant's key for the same instance-id */
		mine = env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
		       notify_tx_ack(&p->tx, env->ack->seq, NULL, 0);
		if (mine) {
			struct resend_arg r = { w, p };

			notify_tx_due(&p->tx, ev_now(w->loop), resend, &r); /* the room it made */
		}
		for (size_t k = 0; mine && k < w->nmigs; k++) {
			struct mig *m = &w->migs[k];

			if (!m->led || m->peer != p || m->seq != env->ack->seq)
				continue;
			m->nto = 0;
			for (size_t j = 0; j < env->ack->n_steer && m->nto < HV_IFACES_MAX; j++) {
				const Vmroam__Notify__SteerTo *st = env->ack->steer[j];

				/* (a unicast MAC, not the VM's own: else its frames would go to
				 * every port, or back to it) */
				if (st->vm_mac.len != 6 || st->fhr_mac.len != 6 ||
				    (st->fhr_mac.data[0] & 1) ||
				    !memcmp(st->fhr_mac.data, (uint8_t[6]){ 0 }, 6) ||
				    !memcmp(st->fhr_mac.data, st->vm_mac.data, 6)) {
					w->c.bad_acks++;
					continue;
				}
				memcpy(m->to[m->nto].vm, st->vm_mac.data, 6);
				memcpy(m->to[m->nto++].fhr, st->fhr_mac.data, 6);
			}
			if (hv_switch_acked(&m->sw) == HV_SWITCH_PAUSE)
				switch_over(w, m, ev_time(), true);
		}
		if (mine) {
			steer_acked(w, p, env->ack->seq);
			w->c.acked++;
			if (env->ack->status < 0) {
				w->c.refused++;
				log_warn_rl(&w->rl,
					    "virtwatch: FHR of tenant %s refused an event: %s",
					    p->tenant, strerror(-env->ack->status));
			}
		}
		vmroam__notify__envelope__free_unpacked(env, NULL);
		if (mine)
			return;
	}
	w->c.bad_acks++; /* unsigned, late or not an Ack of ours */
}

static void udp_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct vw *w = io->data;
	static uint8_t buf[NOTIFY_MAX];
	struct lisp_addr src;
	uint16_t port;
	ssize_t len;

	(void)loop;
	(void)revents;
	while ((len = notify_recv(io->fd, buf, sizeof(buf), &src, &port, NULL)) >= 0)
		take_ack(w, buf, (size_t)len);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vw *w = container_of(t, struct vw, tick);

	(void)revents;
	for (size_t i = 0; i < w->nsteered;) {
		struct steered *st = &w->steered[i];

		if (!if_nametoindex(st->tap)) { /* (migrated: the tap went, its chain with it) */
			*st = w->steered[--w->nsteered];
		} else if (st->until && ev_now(loop) > st->until) {
			log_warn("virtwatch: %s: its FHR did not acknowledge that it runs here in "
				 "%.0f s: %s's frames reach it again all the same",
				 st->domain, STEER_THROUGH_MAX, st->tap);
			unsteer_one(w, i);
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < w->npeers; i++) {
		struct resend_arg r = { w, &w->peers[i] };
		uint64_t before = w->peers[i].tx.retransmits;

		notify_tx_due(&w->peers[i].tx, ev_now(loop), resend, &r);
		w->c.retransmits += w->peers[i].tx.retransmits - before;
	}
}

struct hv_conf *vw_reconfigure(struct vw *w, struct hv_conf *conf)
{
	struct hv_conf *old = w->conf;

	w->conf = conf;
	for (size_t i = 0; i < w->npeers; i++) {
		struct peer *p = &w->peers[i];

		for (size_t k = 0; k < conf->ntenants; k++) {
			const struct hv_tenant *t = &conf->tenants[k];

			if (t->iid == p->iid && strcmp(t->name, p->tenant) == 0) {
				lisp_auth_key_free(p->key);
				p->key = lisp_auth_key_new(t->key, t->keylen);
			}
		}
	}
	log_info("virtwatch: configuration reloaded: host %s, %zu tenant(s)", conf->host_id,
		 conf->ntenants);
	return old;
}

struct vw *vw_new(struct ev_loop *loop, const char *uri, struct hv_conf *conf)
{
	struct vw *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->uri = uri;
	w->conf = conf;
	w->cb_id = -1;
	w->iter_id = -1;
	w->backoff = 0.5;
	w->session = (uint64_t)(wall() * 1e9);
	w->cache = xcalloc(CACHE_MAX, sizeof(*w->cache));
	for (int i = 0; i < 2; i++) {
		w->udp[i] = notify_socket(i ? AF_INET6 : AF_INET, 0);
		if (w->udp[i] < 0)
			continue;
		ev_io_init(&w->udp_io[i], udp_cb, w->udp[i], EV_READ);
		w->udp_io[i].data = w;
		ev_io_start(loop, &w->udp_io[i]);
	}
	ev_timer_init(&w->reconnect, reconnect_cb, 0, 0);
	ev_timer_init(&w->tick, tick_cb, TICK, TICK);
	ev_timer_init(&w->poll, poll_cb, MIG_POLL, MIG_POLL);
	ev_timer_start(loop, &w->tick);
	return w;
}

void vw_start(struct vw *w)
{
	ev_timer_start(w->loop, &w->reconnect);
}

bool vw_connected(const struct vw *w)
{
	return w->conn && !w->closed;
}

const struct vw_counters *vw_counters(const struct vw *w)
{
	return &w->c;
}

size_t vw_pending(const struct vw *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->npeers; i++)
		n += w->peers[i].tx.n;
	return n;
}

void vw_free(struct vw *w)
{
	if (!w)
		return;
	disconnect(w);
	ev_timer_stop(w->loop, &w->reconnect);
	ev_timer_stop(w->loop, &w->tick);
	for (int i = 0; i < 2; i++) {
		if (w->udp[i] < 0)
			continue;
		ev_io_stop(w->loop, &w->udp_io[i]);
		close(w->udp[i]);
	}
	for (size_t i = 0; i < w->npeers; i++) {
		lisp_auth_key_free(w->peers[i].key);
		notify_tx_free(&w->peers[i].tx);
	}
	hv_steer_close(w->steer);
	free(w->cache);
	free(w);
}
