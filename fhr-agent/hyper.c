/*
 * HypervisorEvents from the tenant's hosts (libvirt's qemu hook and
 * vmroam-virtwatch, hypervisor-hooks/): a VM is arriving on this FHR's
 * segment, is live here, or left. The event names the VM's MACs and, when
 * known, its addresses; the FHR keeps that MAC <-> address binding. When
 * a VM is live here, every EID bound to its MACs (by this event, an
 * earlier one, or this FHR's own table) is detected at once, so that a
 * silent VM is registered the moment it resumes; a RARP from QEMU does
 * the same with the bindings. When a VM left, its EIDs are withdrawn.
 * When it paused to leave (a live migration's switchover), its EIDs here
 * are leaving (fhr_leaving: the gateways told, their packets held) until
 * the MovedAway, the hold time, or a live from here (the migration failed:
 * fhr_stays, delivered here).
 *
 * Every datagram is signed with the tenant's hypervisor-events key; a
 * sender's (session, seq) go through a replay window, and an event whose
 * timestamp is more than 60 s from our clock is refused (a hook is a new
 * sender each time it runs, so the window alone would not stop a replay).
 * No OS calls: the daemon moves the bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhr-agent/fhr.h"
#include "lib/evhist.h"
#include "lib/xalloc.h"

#define SENDERS_MAX  256
#define SENDER_IDLE  120.0 /* s: a sender's replay state is kept that long (> 2 x slack) */
#define HV_STEER_MAX 8	   /* VM interfaces an Ack says where to steer */
#define SLACK	     60.0  /* s: the largest |event timestamp - now| accepted */
#define BINDINGS_MAX 4096
#define BINDING_IDLE 86400.0 /* s: a binding nobody spoke of for a day is dropped */
#define HV_KEYS_MAX  64

struct sender {
	char id[FHR_NAME_MAX * 2];
	uint32_t iid;
	struct notify_rx rx;
	double last;
};

struct hv_key {
	uint32_t iid;
	struct lisp_auth_key *key;
};

struct fhr_hv {
	struct fhr *f;
	const struct fhr_conf *conf;
	struct fhr_hv_io io;
	struct hv_key keys[HV_KEYS_MAX];
	size_t nkeys;
	struct sender senders[SENDERS_MAX];
	size_t nsenders;
	struct fhr_hv_binding *b;
	size_t nb;
	/* the Ack of the event being applied: where its hypervisor may steer each VM interface's
	 * frames (an HV_LEAVING whose pause follows, for the interfaces held here) */
	struct {
		uint8_t vm[6], fhr[6];
	} steer[HV_STEER_MAX];
	size_t nsteer;
	uint64_t session, seq;
	struct fhr_hv_counters c;
	struct log_rate rl;
	uint8_t out[1024];
};

struct fhr_hv *fhr_hv_new(struct fhr *f, const struct fhr_hv_io *io, uint64_t session)
{
	struct fhr_hv *h = xcalloc(1, sizeof(*h));

	h->f = f;
	h->io = *io;
	h->session = session;
	h->seq = session;
	h->b = xcalloc(BINDINGS_MAX, sizeof(*h->b));
	return h;
}

static void free_keys(struct fhr_hv *h)
{
	for (size_t i = 0; i < h->nkeys; i++)
		lisp_auth_key_free(h->keys[i].key);
	h->nkeys = 0;
}

void fhr_hv_free(struct fhr_hv *h)
{
	if (!h)
		return;
	free_keys(h);
	free(h->b);
	free(h);
}

size_t fhr_hv_configure(struct fhr_hv *h, const struct fhr_conf *conf)
{
	free_keys(h);
	h->conf = conf;
	for (size_t i = 0; i < conf->ndyneids && h->nkeys < HV_KEYS_MAX; i++) {
		const struct fhr_conf_dyneid *d = &conf->dyneids[i];
		bool have = false;

		for (size_t k = 0; k < h->nkeys; k++)
			have |= h->keys[k].iid == d->iid;
		if (!d->hv_keylen || have)
			continue; /* (one key per instance-id: the parser checks they agree) */
		h->keys[h->nkeys].iid = d->iid;
		h->keys[h->nkeys++].key = lisp_auth_key_new(d->hv_key, d->hv_keylen);
	}
	return h->nkeys;
}

static struct lisp_auth_key *key_of(const struct fhr_hv *h, uint32_t iid)
{
	for (size_t i = 0; i < h->nkeys; i++)
		if (h->keys[i].iid == iid)
			return h->keys[i].key;
	return NULL;
}

/* The mobility interface whose dynamic-eid (of instance-id iid) holds a, or NULL. */
static const char *iface_for(const struct fhr_conf *c, uint32_t iid, const struct lisp_addr *a)
{
	struct lisp_prefix host;

	lisp_prefix_from_addr(&host, iid, a);
	for (size_t i = 0; i < c->nifaces; i++) {
		for (size_t d = 0; d < c->ndyneids; d++) {
			const struct fhr_conf_dyneid *y = &c->dyneids[d];

			if (y->iid != iid || strcmp(y->name, c->ifaces[i].mobility) != 0)
				continue;
			for (size_t k = 0; k < y->nprefixes; k++)
				if (lisp_prefix_contains(&y->prefixes[k], &host))
					return c->ifaces[i].name;
		}
	}
	return NULL;
}

static struct fhr_hv_binding *binding(struct fhr_hv *h, const uint8_t *mac, uint32_t iid,
				      bool create, double now)
{
	for (size_t i = 0; i < h->nb; i++)
		if (h->b[i].iid == iid && memcmp(h->b[i].mac, mac, 6) == 0)
			return &h->b[i];
	if (!create)
		return NULL;
	if (h->nb == BINDINGS_MAX) {
		size_t old = 0;

		for (size_t i = 1; i < h->nb; i++)
			if (h->b[i].updated < h->b[old].updated)
				old = i;
		h->b[old] = h->b[--h->nb]; /* the stalest makes room */
		h->c.bindings_dropped++;
	}
	memset(&h->b[h->nb], 0, sizeof(h->b[0]));
	memcpy(h->b[h->nb].mac, mac, 6);
	h->b[h->nb].iid = iid;
	h->b[h->nb].since = now;
	return &h->b[h->nb++];
}

/* Detects address a of the VM with mac (source hypervisor or RARP); 1 when it is new here. */
static int detect_one(struct fhr_hv *h, const char *ifname, uint32_t iid, const struct lisp_addr *a,
		      const uint8_t *mac, enum fhr_source src, double now)
{
	const char *ifn = ifname ? ifname : iface_for(h->conf, iid, a);
	int rc;

	if (!ifn) {
		h->c.out_of_prefix++;
		return 0;
	}
	rc = fhr_detect(h->f, ifn, a, mac, src, now);
	if (rc == 1)
		h->c.detected++;
	return rc == 1;
}

struct past_walk {
	const uint8_t *mac;
	uint32_t iid;
	struct lisp_addr a[16];
	char ifname[16][FHR_NAME_MAX];
	size_t n;
};

static int past_one(const struct fhr_eid_info *e, void *arg)
{
	struct past_walk *w = arg;

	if (e->has_mac && memcmp(e->mac, w->mac, 6) == 0 && e->p.iid == w->iid && w->n < 16) {
		w->a[w->n] = e->p.addr;
		snprintf(w->ifname[w->n++], FHR_NAME_MAX, "%s", e->ifname);
	}
	return 0;
}

/* Detects the addresses bound in b (on ifname, or where each belongs); how many are new here. */
static int detect_bound(struct fhr_hv *h, struct fhr_hv_binding *b, const char *ifname,
			enum fhr_source src, double now)
{
	int n = 0;

	for (size_t i = 0; i < b->naddrs; i++)
		n += detect_one(h, ifname, b->iid, &b->addrs[i], b->mac, src, now);
	b->live = true;
	return n;
}

/* The hypervisor says the VM with mac runs here: what its event bound and this FHR's own past. */
static void live(struct fhr_hv *h, const uint8_t *mac, uint32_t iid, double now)
{
	struct fhr_hv_binding *b = binding(h, mac, iid, false, now);
	struct past_walk w = { .mac = mac, .iid = iid };

	fhr_eid_walk(h->f, past_one, &w); /* (collected first: detecting changes the table) */
	/* it was leaving (the migration failed, or was cancelled): it stays, delivered here */
	for (size_t i = 0; b && i < b->naddrs; i++)
		h->c.stayed += (uint64_t)fhr_stays(h->f, iid, &b->addrs[i], now);
	for (size_t i = 0; i < w.n; i++)
		h->c.stayed += (uint64_t)fhr_stays(h->f, iid, &w.a[i], now);
	if (b)
		detect_bound(h, b, NULL, FHR_SRC_HYPERVISOR, now);
	for (size_t i = 0; i < w.n; i++)
		detect_one(h, w.ifname[i], iid, &w.a[i], mac, FHR_SRC_HYPERVISOR, now);
	if (!w.n && (!b || !b->naddrs))
		h->c.live_unknown++; /* nothing known of it: it must speak */
}

/*
 * The VM interface mac is held here on ifname (its switchover follows):
 * its hypervisor may steer the frames bound for it to our MAC there (the
 * Ack says so, once per interface).
 */
static void steer_to(struct fhr_hv *h, const uint8_t *mac, const char *ifname)
{
	uint8_t ours[6];

	for (size_t i = 0; i < h->nsteer; i++)
		if (memcmp(h->steer[i].vm, mac, 6) == 0)
			return;
	if (!ifname || !h->io.if_mac || h->nsteer == HV_STEER_MAX ||
	    h->io.if_mac(h->io.arg, ifname, ours) < 0)
		return;
	memcpy(h->steer[h->nsteer].vm, mac, 6);
	memcpy(h->steer[h->nsteer++].fhr, ours, 6);
}

/*
 * The hypervisor says the VM with mac paused to leave this host (a live
 * migration's switchover): its EIDs here (bound by the events, or this
 * FHR's own by MAC) are leaving: held until the MovedAway.
 */
enum leave_how {
	LEAVE_SOON,    /* a migration pass that may be the last (HV_PAUSING) */
	LEAVE_NOW,     /* the watcher pauses it once we acknowledge (pause_follows) */
	LEAVE_PAUSED,  /* paused: on an extended subnet its MAC drawn to us */
	LEAVE_STEERED, /* paused, its frames steered to us by its hypervisor: nothing to draw */
};

static void leaving(struct fhr_hv *h, const uint8_t *mac, uint32_t iid, enum leave_how how,
		    double now)
{
	struct fhr_hv_binding *b = binding(h, mac, iid, false, now);
	struct past_walk w = { .mac = mac, .iid = iid };
	size_t known = 0;
	int n = 0;

	fhr_eid_walk(h->f, past_one, &w); /* (what this FHR knows of the MAC: here, or not) */
	known = w.n;
	/* and the addresses the events bound, that are in a dynamic-eid here (once each) */
	for (size_t i = 0; b && i < b->naddrs && w.n < 16; i++) {
		bool have = !iface_for(h->conf, iid, &b->addrs[i]);

		for (size_t k = 0; k < w.n && !have; k++)
			have = lisp_addr_equal(&w.a[k], &b->addrs[i]);
		if (!have)
			w.a[w.n++] = b->addrs[i];
	}
	for (size_t i = 0; i < w.n; i++) {
		int rc = how == LEAVE_SOON	? fhr_leaving_soon(h->f, iid, &w.a[i], now)
			 : how == LEAVE_PAUSED	? fhr_paused(h->f, iid, &w.a[i], now)
			 : how == LEAVE_STEERED ? fhr_steered(h->f, iid, &w.a[i], now)
						: fhr_leaving(h->f, iid, &w.a[i], now);

		n += rc > 0;
		if (how == LEAVE_NOW && rc >= 0)
			steer_to(h, mac,
				 i < known ? w.ifname[i] : iface_for(h->conf, iid, &w.a[i]));
	}
	h->c.leaving += (uint64_t)n;
	if (!known && !n)
		h->c.leaving_unknown++; /* nothing of it is here: ignored */
}

/* A RARP (fhr.h); the FHR's own table fhr_detect_mac() has gone through already. */
int fhr_hv_mac_seen(struct fhr_hv *h, const char *ifname, const uint8_t *mac, double now)
{
	int n = 0;

	for (size_t i = 0; i < h->nb; i++)
		if (memcmp(h->b[i].mac, mac, 6) == 0 && h->b[i].naddrs)
			n += detect_bound(h, &h->b[i], ifname, FHR_SRC_RARP, now);
	return n;
}

/* One accepted event: 0 or why it was not applied. */
static int apply(struct fhr_hv *h, uint32_t iid, const Vmroam__Notify__HypervisorEvent *ev,
		 const struct lisp_addr *src, double now)
{
	static const char *names[] = { "hv-arriving", "hv-live", "hv-left", "hv-leaving",
				       "hv-pausing" };
	int rc = 0;

	/* (a kind we do not know, from a newer host: refused before it changes anything) */
	if ((unsigned)ev->kind >= sizeof(names) / sizeof(names[0]) ||
	    (unsigned)ev->kind >= sizeof(h->c.by_kind) / sizeof(h->c.by_kind[0]))
		return -EINVAL;
	h->c.by_kind[ev->kind]++;
	for (size_t i = 0; i < ev->n_interfaces; i++) {
		const Vmroam__Notify__VmInterface *vi = ev->interfaces[i];
		struct lisp_addr addrs[FHR_HV_ADDRS];
		struct fhr_hv_binding *b;
		size_t na = 0;

		if (vi->mac.len != 6) {
			rc = -EINVAL;
			continue;
		}
		for (size_t j = 0; j < vi->n_addresses && na < FHR_HV_ADDRS; j++) {
			if (lisp_addr_parse(vi->addresses[j], &addrs[na]) < 0 ||
			    (addrs[na].afi != LISP_AFI_IPV4 && addrs[na].afi != LISP_AFI_IPV6))
				rc = -EINVAL;
			else
				na++;
		}
		b = binding(h, vi->mac.data, iid, true, now);
		if (na) {
			memcpy(b->addrs, addrs, na * sizeof(addrs[0]));
			b->naddrs = na;
		}
		snprintf(b->domain, sizeof(b->domain), "%s", ev->domain);
		snprintf(b->host, sizeof(b->host), "%s", ev->host);
		b->last_kind = (int)ev->kind;
		b->updated = now;
		for (size_t j = 0; j < (b->naddrs ? b->naddrs : 1); j++) {
			struct lisp_prefix host;

			if (b->naddrs)
				lisp_prefix_from_addr(&host, iid, &b->addrs[j]);
			evh_add(h->io.evh, names[ev->kind], b->naddrs ? &host : NULL, src,
				"%s on %s (%s)", ev->domain, ev->host, ev->reason);
		}
		switch (ev->kind) {
		case VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LIVE:
			live(h, vi->mac.data, iid, now);
			break;
		case VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEFT:
			b->live = false;
			h->c.departed += (uint64_t)fhr_depart_mac(h->f, vi->mac.data, now);
			break;
		case VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEAVING:
			b->live = false;
			/* (pause_follows: the watcher pauses it once we acknowledged) */
			leaving(h, vi->mac.data, iid,
				ev->pause_follows ? LEAVE_NOW
				: ev->steered	  ? LEAVE_STEERED
						  : LEAVE_PAUSED,
				now);
			break;
		case VMROAM__NOTIFY__HYPERVISOR_KIND__HV_PAUSING: /* (it still runs) */
			leaving(h, vi->mac.data, iid, LEAVE_SOON, now);
			break;
		default: /* arriving: a VM live here stays live (libvirtd reconnecting says it) */
			break;
		}
	}
	return rc;
}

static struct sender *sender_for(struct fhr_hv *h, const char *id, uint32_t iid, double now)
{
	struct sender *s = NULL;

	for (size_t i = 0; i < h->nsenders;) {
		if (now - h->senders[i].last > SENDER_IDLE) {
			h->senders[i] = h->senders[--h->nsenders];
			continue;
		}
		if (h->senders[i].iid == iid && strcmp(h->senders[i].id, id) == 0)
			s = &h->senders[i];
		i++;
	}
	if (s || h->nsenders == SENDERS_MAX || strlen(id) >= sizeof(s->id))
		return s;
	s = &h->senders[h->nsenders++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->iid = iid;
	return s;
}

static void ack(struct fhr_hv *h, struct lisp_auth_key *k, uint32_t iid, const char *to,
		const struct lisp_addr *dst, uint16_t port, uint64_t seq, int status)
{
	Vmroam__Notify__SteerTo st[HV_STEER_MAX], *stp[HV_STEER_MAX];
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack a;
	size_t len;

	vmroam__notify__ack__init(&a);
	a.seq = seq;
	a.status = status;
	for (size_t i = 0; i < h->nsteer && status == 0; i++) {
		vmroam__notify__steer_to__init(&st[i]);
		st[i].vm_mac = (ProtobufCBinaryData){ 6, h->steer[i].vm };
		st[i].fhr_mac = (ProtobufCBinaryData){ 6, h->steer[i].fhr };
		stp[i] = &st[i];
		a.n_steer = i + 1;
	}
	a.steer = stp;
	vmroam__notify__envelope__init(&env);
	env.instance_id = iid;
	env.direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_HYPERVISOR;
	env.receiver = (char *)(uintptr_t)to;
	env.sender = (char *)(uintptr_t)h->conf->fhr_id;
	env.session = h->session;
	env.seq = ++h->seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &a;
	len = notify_pack(k, iid, &env, h->out, sizeof(h->out));
	if (len)
		h->io.send(h->io.arg, dst, port, h->out, len);
}

void fhr_hv_input(struct fhr_hv *h, const struct lisp_addr *src, uint16_t sport,
		  const struct lisp_addr *dst, const uint8_t *buf, size_t len, double now)
{
	char me[LISP_ADDR_STRLEN];
	Vmroam__Notify__Envelope *env;
	struct lisp_auth_key *k;
	struct sender *s;
	char a[LISP_ADDR_STRLEN];
	uint32_t iid;
	int err, rc;

	h->c.received++;
	if (notify_peek_iid(buf, len, &iid) < 0) {
		h->c.malformed++;
		log_warn_rl(&h->rl, "hypervisor: %s: malformed datagram (%zu bytes) dropped",
			    lisp_addr_format(src, a, sizeof(a)), len);
		return;
	}
	k = key_of(h, iid);
	if (!k) {
		h->c.unknown_iid++;
		log_warn_rl(&h->rl, "hypervisor: %s: instance-id %u has no hypervisor-events key",
			    lisp_addr_format(src, a, sizeof(a)), iid);
		return;
	}
	env = notify_unpack(k, buf, len, &err);
	if (!env) {
		if (err == -EACCES)
			h->c.auth_failures++;
		else
			h->c.malformed++;
		log_warn_rl(&h->rl, "hypervisor: %s: %s: dropped",
			    lisp_addr_format(src, a, sizeof(a)),
			    err == -EACCES ? "authentication failed" : "undecodable");
		return;
	}
	if (env->body_case != VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT) {
		h->c.malformed++;
		goto out;
	}
	/* from a hypervisor, to the address it arrived at: captured elsewhere, it is refused */
	if (dst->afi != LISP_AFI_NONE)
		lisp_addr_format(dst, me, sizeof(me));
	if (notify_bound(env, VMROAM__NOTIFY__DIRECTION__HYPERVISOR_TO_FHR,
			 dst->afi != LISP_AFI_NONE ? me : NULL, 0) < 0) {
		h->c.misdirected++;
		log_warn_rl(&h->rl, "hypervisor: %s (%s): sent to another FHR (%.64s): refused",
			    env->sender, lisp_addr_format(src, a, sizeof(a)), env->receiver);
		goto out;
	}
	if (!isfinite(env->hypervisor_event->timestamp) ||
	    fabs(env->hypervisor_event->timestamp - now) > SLACK) {
		h->c.stale++;
		log_warn_rl(&h->rl,
			    "hypervisor: %s (%s): event stamped %.0f s from our clock: refused "
			    "(replayed, or the clocks disagree)",
			    env->sender, lisp_addr_format(src, a, sizeof(a)),
			    env->hypervisor_event->timestamp - now);
		ack(h, k, iid, env->sender, src, sport, env->seq, -ETIME);
		goto out;
	}
	s = sender_for(h, env->sender, iid, now);
	if (!s) {
		h->c.busy++;
		ack(h, k, iid, env->sender, src, sport, env->seq, -EBUSY);
		goto out;
	}
	rc = notify_rx_accept(&s->rx, env->session, env->seq, notify_is_reliable(env));
	if (rc < 0) {
		h->c.replays++;
		if (rc == -EALREADY) /* a retransmission whose Ack was lost: again */
			ack(h, k, iid, env->sender, src, sport, env->seq, 0);
		goto out;
	}
	s->last = now;
	h->c.accepted++;
	h->nsteer = 0;
	rc = apply(h, iid, env->hypervisor_event, src, now);
	ack(h, k, iid, env->sender, src, sport, env->seq, rc);
	h->nsteer = 0;
out:
	vmroam__notify__envelope__free_unpacked(env, NULL);
}

void fhr_hv_tick(struct fhr_hv *h, double now)
{
	for (size_t i = 0; i < h->nb;) {
		if (now > h->b[i].updated + BINDING_IDLE)
			h->b[i] = h->b[--h->nb];
		else
			i++;
	}
}

double fhr_hv_next_due(const struct fhr_hv *h)
{
	double due = INFINITY;

	for (size_t i = 0; i < h->nb; i++)
		if (h->b[i].updated + BINDING_IDLE < due)
			due = h->b[i].updated + BINDING_IDLE;
	return due; /* (dropped just after) */
}

const struct fhr_hv_counters *fhr_hv_counters(const struct fhr_hv *h)
{
	return &h->c;
}

size_t fhr_hv_bindings(const struct fhr_hv *h, const struct fhr_hv_binding **out)
{
	*out = h->b;
	return h->nb;
}
