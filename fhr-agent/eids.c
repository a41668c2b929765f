/*
 * The FHR's EID table (the channel's rules are written in
 * proto/eid_notify.proto; gw.c speaks it). Detections (ARP, RARP, ND,
 * ...) call fhr_detect(); a new EID, or one that comes back, takes the
 * next version of the table and goes to the gateways of its dynamic-eid
 * (gw_notify()). A MovedAway (gw.c) marks the EID moved; a MAC other than
 * the known one claiming a known EID is refused (hijack guard); an EID two
 * sites keep claiming is held (conflict_held()). Each dynamic-eid keeps at
 * most eid-limit EIDs. Across-subnet mode probes quiet EIDs. No OS calls:
 * probes and the known set go through io.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhr-agent/eids_int.h"
#include "lib/evhist.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"

static const char *src_names[] = { "arp", "nd", "rarp", "data", "hypervisor", "neighbor" };

const char *fhr_source_name(enum fhr_source s)
{
	return (unsigned)s < sizeof(src_names) / sizeof(src_names[0]) ? src_names[s] : "?";
}

/* e's departure waits (yes) or not any more. */
static void left_pending_set(struct fhr *f, struct fhr_eid *e, bool yes)
{
	if (e->left_pending == yes)
		return;
	e->left_pending = yes;
	if (yes)
		f->ndeferred++;
	else
		f->ndeferred--;
}

static double live_due(const struct fhr *f, const struct fhr_eid *e);

/* e may have work for the liveness walk sooner than it expects (new, back, contested, held). */
static void live_note(struct fhr *f, const struct fhr_eid *e)
{
	f->live_due = due_min(f->live_due, live_due(f, e));
}

struct fhr *fhr_new(const struct fhr_io *io, uint64_t session)
{
	struct fhr *f = xcalloc(1, sizeof(*f));

	f->io = *io;
	f->session = session;
	f->eids = ptable_new(free);
	return f;
}

void fhr_free(struct fhr *f)
{
	if (!f)
		return;
	gw_free_all(f);
	ptable_free(f->eids);
	free(f->neids);
	free(f->refused);
	free(f);
}

/* How many EIDs of each dynamic-eid the table holds (after a configuration). */
static int count_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct fhr *f = arg;
	const struct fhr_eid *e = v;

	(void)p;
	if (e->dyn >= 0 && (size_t)e->dyn < f->conf->ndyneids)
		f->neids[e->dyn]++;
	return 0;
}

void fhr_configure(struct fhr *f, const struct fhr_conf *conf, double now)
{
	f->conf = conf;
	gw_configure(f, conf, now);
	free(f->neids);
	f->neids = xcalloc(conf->ndyneids + 1, sizeof(*f->neids));
	free(f->refused);
	f->refused = xcalloc(conf->ndyneids + 1, sizeof(*f->refused));
	ptable_walk(f->eids, NULL, count_one, f);
	f->live_due = 0; /* (its interfaces may differ: the walk tells) */
}

/* The dynamic-eid of interface ifname, or -1. */
static int iface_dyn(const struct fhr_conf *c, const char *ifname)
{
	for (size_t i = 0; i < c->nifaces; i++) {
		if (strcmp(c->ifaces[i].name, ifname) != 0)
			continue;
		for (size_t d = 0; d < c->ndyneids; d++)
			if (strcmp(c->dyneids[d].name, c->ifaces[i].mobility) == 0)
				return (int)d;
	}
	return -1;
}

/* Is host inside a database-mapping prefix of dynamic-eid d? */
static bool inside_dyn(const struct fhr_conf *c, int d, const struct lisp_prefix *host)
{
	for (size_t i = 0; i < c->dyneids[d].nprefixes; i++)
		if (lisp_prefix_contains(&c->dyneids[d].prefixes[i], host))
			return true;
	return false;
}

/*
 * A moved-away EID detected again: is its re-assertion held? Detected
 * within FHR_CONFLICT_GAP of the MovedAway, it is still here while
 * another site claims it (a duplicate address, or two gateways of one
 * site registering other locators): from the FHR_CONFLICTS-th time in a
 * minute the re-assertion waits 2, 4 ... 60 s, so that two sites do not
 * take the EID from each other at wire speed.
 */
static bool conflict_held(struct fhr *f, struct fhr_eid *e, double now)
{
	char b[LISP_PREFIX_STRLEN];
	double hold;

	if (e->state != FHR_EID_MOVED)
		return false;
	if (now < e->hold_until) {
		f->c.conflicts_held++;
		return true;
	}
	if (e->hold_until > 0 || now - e->moved_at > FHR_CONFLICT_GAP) {
		e->hold_until = 0; /* held long enough, or a VM that came back later */
		return false;
	}
	if (now - e->conflict_since > 60.0) {
		e->conflict_since = now;
		e->conflicts = 0;
	}
	if (++e->conflicts < FHR_CONFLICTS)
		return false;
	hold = 2.0 * (double)(1u << (e->conflicts - FHR_CONFLICTS < 5 ? e->conflicts - FHR_CONFLICTS
								      : 5));
	e->hold_until = now + (hold > 60.0 ? 60.0 : hold);
	f->c.conflicts_held++;
	log_warn_rl(&f->rl,
		    "fhr: %s is here but another site claimed it %u times in %.0f s (a "
		    "duplicate address?): not re-asserted for %.0f s",
		    lisp_prefix_format(&e->p, b, sizeof(b)), e->conflicts, now - e->conflict_since,
		    e->hold_until - now);
	evh_add(f->io.evh, "conflict-held", &e->p, NULL, "%u claims, held %.0f s", e->conflicts,
		e->hold_until - now);
	return true;
}

int fhr_detect(struct fhr *f, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
	       enum fhr_source src, double now)
{
	char b[LISP_PREFIX_STRLEN];
	int d = iface_dyn(f->conf, ifname);
	const struct fhr_conf_dyneid *dyn;
	struct lisp_prefix host;
	struct fhr_eid *e;
	bool back;

	f->c.detections++;
	if (d < 0)
		return -ENOENT;
	dyn = &f->conf->dyneids[d];
	lisp_prefix_from_addr(&host, dyn->iid, a);
	if (!inside_dyn(f->conf, d, &host)) {
		f->c.out_of_prefix++;
		return -ENOENT;
	}
	e = ptable_lookup_exact(f->eids, &host);
	if (e && mac && e->has_mac && memcmp(e->mac, mac, 6) != 0 && e->state != FHR_EID_MOVED) {
		f->c.hijacks++;
		e->contested = true; /* the liveness probes decide: fhr_tick() */
		live_note(f, e);
		log_warn_rl(&f->rl,
			    "fhr: %s claimed by %02x:%02x:%02x:%02x:%02x:%02x, known at "
			    "%02x:%02x:%02x:%02x:%02x:%02x: not notified",
			    lisp_prefix_format(&host, b, sizeof(b)), mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
			    e->mac[5]);
		return -EEXIST;
	}
	if (e && e->state != FHR_EID_MOVED) {
		if (e->probes || e->contested)
			f->live_dirty = true; /* (its probe's retry is off) */
		e->last_seen = now;
		e->probes = 0; /* alive */
		e->contested = false;
		f->c.refreshes++;
		if (mac && !e->has_mac) { /* (it arrived without one: see below) */
			memcpy(e->mac, mac, 6);
			e->has_mac = true;
			f->c.macs_learned++;
			if (f->io.known)
				f->io.known(f->io.arg, e->ifname, &e->p.addr, e->mac,
					    e->back ? FHR_KNOWN_MAC_BACK : FHR_KNOWN_MAC_HERE);
		}
		return 0;
	}
	if (e && conflict_held(f, e, now)) {
		live_note(f, e); /* (probed when its hold is over) */
		return -EAGAIN;
	}
	if (!e) {
		if (f->neids[d] >= dyn->eid_limit) {
			f->c.eid_limit++;
			f->refused[d]++;
			log_warn_rl(
				&f->rl_limit,
				"fhr: dynamic-eid %s holds %u EIDs (eid-limit): %s on %s refused",
				dyn->name, dyn->eid_limit, lisp_prefix_format(&host, b, sizeof(b)),
				ifname);
			return -ENOSPC;
		}
		e = xcalloc(1, sizeof(*e));
		e->p = host;
		if (ptable_add(f->eids, &e->p, e) < 0) {
			free(e);
			return -ENOSPC;
		}
		f->neids[d]++;
	}
	if (e->dyn != d) { /* (back on an interface of another dynamic-eid) */
		f->neids[e->dyn]--;
		f->neids[d]++;
	}
	e->dyn = d;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	if (mac) {
		memcpy(e->mac, mac, 6);
		e->has_mac = true;
	}
	e->source = src;
	back = e->state == FHR_EID_MOVED; /* (a new one is DETECTED, zeroed) */
	e->announced_ours = false;	  /* (here again: its frames tell the segment) */
	left_pending_set(f, e, false);
	e->state = FHR_EID_DETECTED;
	e->since = e->last_seen = now;
	e->probes = 0;
	e->back = back;
	live_note(f, e);
	f->c.arrivals++;
	if (f->io.known)
		f->io.known(f->io.arg, e->ifname, &e->p.addr, e->has_mac ? e->mac : NULL,
			    back ? FHR_KNOWN_BACK : FHR_KNOWN_HERE);
	/*
	 * Without a MAC (a data packet whose link-layer header the kernel did
	 * not give, as for a GSO packet it segmented for the queue) it is asked
	 * at once: its answer is a detection with the MAC, and what needs the
	 * MAC follows (FHR_KNOWN_MAC_*); a moved-in VM whose packets to its old
	 * subnet's hosts went unseen until then lost them.
	 */
	if (!e->has_mac && f->io.probe) {
		f->c.mac_asks++;
		f->io.probe(f->io.arg, e->ifname, &e->p.addr, NULL);
	}
	log_info_rl(&f->rl_info, "fhr: dynamic-eid %s: %s arrived on %s (%s)", dyn->name,
		    lisp_prefix_format(&host, b, sizeof(b)), ifname, fhr_source_name(src));
	evh_add(f->io.evh, "detected", &host, NULL, "%s on %s", fhr_source_name(src), ifname);
	gw_notify(f, e, GW_ARRIVED, now);
	return 1;
}

struct mac_walk {
	const uint8_t *mac;
	struct lisp_prefix found[16];
	size_t n;
};

static int by_mac(const struct lisp_prefix *p, void *v, void *arg)
{
	struct mac_walk *w = arg;
	const struct fhr_eid *e = v;

	if (e->has_mac && memcmp(e->mac, w->mac, 6) == 0 && w->n < 16)
		w->found[w->n++] = *p;
	return 0;
}

int fhr_detect_mac(struct fhr *f, const char *ifname, const uint8_t *mac, double now)
{
	struct mac_walk w = { .mac = mac };
	int n = 0;

	ptable_walk(f->eids, NULL, by_mac, &w);
	for (size_t i = 0; i < w.n; i++) {
		const struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.found[i]);
		struct lisp_addr a = e->p.addr;

		if (fhr_detect(f, ifname, &a, mac, FHR_SRC_RARP, now) >= 0)
			n++;
	}
	return n;
}

int fhr_probe_mac(struct fhr *f, const char *ifname, const uint8_t *mac)
{
	struct mac_walk w = { .mac = mac };

	ptable_walk(f->eids, NULL, by_mac, &w);
	for (size_t i = 0; i < w.n && f->io.probe; i++)
		f->io.probe(f->io.arg, ifname, &w.found[i].addr, mac);
	return (int)w.n;
}

bool fhr_is_here(const struct fhr *f, const char *ifname, const struct lisp_addr *a, uint8_t *mac)
{
	int d = iface_dyn(f->conf, ifname);
	struct lisp_prefix host;
	const struct fhr_eid *e;

	if (d < 0)
		return false;
	lisp_prefix_from_addr(&host, f->conf->dyneids[d].iid, a);
	e = ptable_lookup_exact(f->eids, &host);
	if (!e || e->state == FHR_EID_MOVED || strcmp(e->ifname, ifname) != 0)
		return false;
	if (mac && e->has_mac)
		memcpy(mac, e->mac, 6);
	return true;
}

static const struct fhr_conf_iface *iface_conf(const struct fhr_conf *c, const char *ifname);

/*
 * A moved-away EID of an across-subnet interface: its route up is how the
 * hosts of its old subnet (told it is at our MAC) reach it at its new site.
 * Its VM leaving this host changes nothing of that: it stays until the VM
 * is back (or an operator clears it). In extended-subnet mode the VM is
 * reached at layer 2, and it departs.
 */
static bool routed_up_stays(const struct fhr *f, const struct fhr_eid *e)
{
	const struct fhr_conf_iface *x = iface_conf(f->conf, e->ifname);

	return e->state == FHR_EID_MOVED && x && !x->extended_subnet;
}

int fhr_depart_mac(struct fhr *f, const uint8_t *mac, double now)
{
	struct mac_walk w = { .mac = mac };
	char b[LISP_PREFIX_STRLEN];
	int n = 0;

	ptable_walk(f->eids, NULL, by_mac, &w);
	for (size_t i = 0; i < w.n; i++) {
		struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.found[i]);

		/*
		 * Leaving: the source host's STOPPED/MIGRATED comes as the VM resumes
		 * at the destination, ahead of the MovedAway that says where it went.
		 * Departing now would withdraw it and deliver what is held onto a
		 * segment it has left: the departure waits for the end of the leaving.
		 */
		if (e && e->leaving) {
			if (!e->left_pending)
				f->c.leaving_left++;
			left_pending_set(f, e, true);
			evh_add(f->io.evh, "left-while-leaving", &e->p, NULL,
				"its departure waits for the MovedAway or the hold time");
			log_info("fhr: %s: its VM left while leaving: departure deferred",
				 lisp_prefix_format(&e->p, b, sizeof(b)));
			continue;
		}
		if (e && routed_up_stays(f, e)) {
			evh_add(f->io.evh, "left", &e->p, NULL,
				"moved away across subnets: its route up stays");
			continue;
		}
		/* moved away just now: what was held is on its way up (FHR_LEFT_DRAIN) */
		if (e && e->state == FHR_EID_MOVED && e->announced_ours &&
		    now - e->moved_at < FHR_LEFT_DRAIN) {
			left_pending_set(f, e, true);
			continue;
		}
		n += fhr_clear(f, &w.found[i], now);
	}
	return n;
}

int fhr_leaving(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now)
{
	char b[LISP_PREFIX_STRLEN];
	struct lisp_prefix host;
	struct fhr_eid *e;

	lisp_prefix_from_addr(&host, iid, a);
	e = ptable_lookup_exact(f->eids, &host);
	if (!e || e->state == FHR_EID_MOVED) {
		f->c.leaving_ignored++;
		return -ENOENT;
	}
	if (e->leaving) {
		if (e->tentative_until > 0) {
			/*
			 * It paused: held until the end, the hold time from now. The
			 * gateways are told again (a newer LEAVING): their hold time ran
			 * from the first, and a migration's last passes may outlast it.
			 */
			evh_add(f->io.evh, "paused", &e->p, NULL,
				"%.1f ms after its migration pass began",
				(now - e->leaving_since) * 1000.0);
			e->tentative_until = 0;
			e->leaving_since = now;
			gw_notify(f, e, GW_LEAVING, now);
		}
		return 0;
	}
	e->tentative_until = 0;
	e->leaving = true;
	left_pending_set(f, e, false);
	e->announced_ours = true;
	e->leaving_since = now;
	e->leave_from = e->version;
	f->nleaving++;
	f->c.leaving++;
	log_info("fhr: %s is leaving (its VM paused to migrate): held up to %u ms",
		 lisp_prefix_format(&host, b, sizeof(b)), f->conf->dyneids[e->dyn].migration_hold);
	evh_add(f->io.evh, "leaving", &e->p, NULL, "its VM paused to leave; held up to %u ms",
		f->conf->dyneids[e->dyn].migration_hold);
	if (f->io.known)
		f->io.known(f->io.arg, e->ifname, &e->p.addr, e->has_mac ? e->mac : NULL,
			    FHR_KNOWN_LEAVING);
	gw_notify(f, e, GW_LEAVING, now);
	return 1;
}

/* fhr_leaving(), then, if a is leaving (and not steered already), known(what). */
static int leaving_then(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now,
			enum fhr_known what)
{
	struct lisp_prefix host;
	struct fhr_eid *e;
	int rc = fhr_leaving(f, iid, a, now);

	lisp_prefix_from_addr(&host, iid, a);
	e = ptable_lookup_exact(f->eids, &host);
	if (rc < 0 || !e || !e->leaving || (what == FHR_KNOWN_STEERED && e->steered))
		return rc;
	if (what == FHR_KNOWN_STEERED)
		e->steered = true;
	if (f->io.known)
		f->io.known(f->io.arg, e->ifname, &e->p.addr, e->has_mac ? e->mac : NULL, what);
	return rc;
}

int fhr_paused(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now)
{
	return leaving_then(f, iid, a, now, FHR_KNOWN_PAUSED);
}

int fhr_steered(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now)
{
	return leaving_then(f, iid, a, now, FHR_KNOWN_STEERED);
}

int fhr_leaving_soon(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now)
{
	struct lisp_prefix host;
	struct fhr_eid *e;
	int rc;

	lisp_prefix_from_addr(&host, iid, a);
	e = ptable_lookup_exact(f->eids, &host);
	if (e && e->leaving) {
		if (e->tentative_until > 0) /* another pass: it may be the last */
			e->tentative_until = now + FHR_PAUSING_WAIT;
		return 0;
	}
	rc = fhr_leaving(f, iid, a, now);
	if (rc > 0 && (e = ptable_lookup_exact(f->eids, &host)) != NULL)
		e->tentative_until = now + FHR_PAUSING_WAIT;
	return rc;
}

/* The leaving of e ends here (the VM stays, or the hold time is over): REFRESH, delivered here. */
static void leaving_end_here(struct fhr *f, struct fhr_eid *e, const char *why, double now)
{
	char b[LISP_PREFIX_STRLEN];

	e->leaving = false;
	e->steered = false; /* (its hypervisor lets our frames through again: it runs here) */
	e->tentative_until = 0;
	e->announced_ours = false; /* (known() tells the segment its MAC again) */
	f->nleaving--;
	log_info("fhr: %s no longer leaving (%s, after %.0f ms): delivered here",
		 lisp_prefix_format(&e->p, b, sizeof(b)), why, (now - e->leaving_since) * 1000.0);
	evh_add(f->io.evh, "leaving-ended", &e->p, NULL, "%s after %.0f ms", why,
		(now - e->leaving_since) * 1000.0);
	e->last_seen = now;
	live_note(f, e);
	if (f->io.known)
		f->io.known(f->io.arg, e->ifname, &e->p.addr, e->has_mac ? e->mac : NULL,
			    FHR_KNOWN_STAYS);
	gw_notify(f, e, GW_REFRESH, now);
}

int fhr_stays(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now)
{
	struct lisp_prefix host;
	struct fhr_eid *e;

	lisp_prefix_from_addr(&host, iid, a);
	e = ptable_lookup_exact(f->eids, &host);
	if (!e || !e->leaving)
		return 0;
	left_pending_set(f, e, false); /* (it runs here: whatever left was an earlier life) */
	f->c.leaving_stayed++;
	leaving_end_here(f, e, "its VM runs here again", now);
	return 1;
}

void fhr_leaving_moved(struct fhr *f, struct fhr_eid *e)
{
	if (!e->leaving)
		return;
	e->leaving = false;
	e->steered = false;
	f->nleaving--;
	f->c.leaving_moved++;
	/* (a departure that waited goes FHR_LEFT_DRAIN after the MovedAway: leaving_expire()) */
}

size_t fhr_leaving_count(const struct fhr *f)
{
	return f->nleaving;
}

struct expire_walk {
	struct fhr *f;
	double now;
	struct lisp_prefix v[64];
	size_t n;
};

/* When leaving_expire() has work for e: its hold time or pass over, its drain done. */
static double expire_due(const struct fhr *f, const struct fhr_eid *e)
{
	double due = INFINITY;

	if (e->leaving) {
		due = e->leaving_since + f->conf->dyneids[e->dyn].migration_hold / 1000.0;
		if (e->tentative_until > 0)
			due = due_min(due, e->tentative_until);
	}
	if (e->left_pending && e->state == FHR_EID_MOVED)
		due = due_min(due, e->moved_at + FHR_LEFT_DRAIN);
	return due;
}

static int expire_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct expire_walk *w = arg;
	const struct fhr_eid *e = v;

	if (w->n < 64 && w->now >= expire_due(w->f, e))
		w->v[w->n++] = *p;
	return w->n == 64;
}

/*
 * Leaving EIDs whose migration-hold is over: REFRESH, delivered here (or
 * their deferred departure); moved-away ones whose departure waited for the
 * drain.
 */
static void leaving_expire(struct fhr *f, double now)
{
	static struct expire_walk w;

	w.f = f;
	w.now = now;
again:
	w.n = 0;
	ptable_walk(f->eids, NULL, expire_one, &w);
	for (size_t i = 0; i < w.n; i++) {
		struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.v[i]);

		if (!e->leaving && routed_up_stays(f, e)) {
			left_pending_set(f, e, false);
			continue;
		}
		if (!e->leaving) { /* moved away, drained: the departure that waited */
			evh_add(f->io.evh, "departed", &e->p, NULL,
				"its VM left; %.0f ms after the MovedAway", FHR_LEFT_DRAIN * 1000);
			fhr_clear(f, &w.v[i], now);
			continue;
		}
		if (e->tentative_until > 0 && now >= e->tentative_until &&
		    now - e->leaving_since < f->conf->dyneids[e->dyn].migration_hold / 1000.0) {
			f->c.leaving_unpaused++;
			leaving_end_here(f, e, "no pause followed its migration pass", now);
			continue;
		}
		if (e->steered && !e->left_pending) {
			/* its VM still paused, our frames to it steered back to us: nothing
			 * can be delivered to it (it would loop), and it may move yet */
			char b[LISP_PREFIX_STRLEN];

			f->c.leaving_steered_over++;
			log_warn("fhr: %s: hold time over, its VM still paused (its frames steered "
				 "to us): what was held dropped, held on",
				 lisp_prefix_format(&e->p, b, sizeof(b)));
			evh_add(f->io.evh, "hold-dropped", &e->p, NULL,
				"hold time over, its VM still paused: held on");
			e->leaving_since = now;
			if (f->io.known)
				f->io.known(f->io.arg, e->ifname, &e->p.addr,
					    e->has_mac ? e->mac : NULL, FHR_KNOWN_HOLD_DROP);
			continue;
		}
		f->c.leaving_expired++;
		if (e->left_pending) {
			e->leaving = false;
			e->steered = false;
			f->nleaving--;
			evh_add(f->io.evh, "leaving-ended", &e->p, NULL,
				"hold time over, no MovedAway: departed");
			fhr_clear(f, &w.v[i], now);
			continue;
		}
		leaving_end_here(f, e, "hold time over", now);
	}
	if (w.n == 64)
		goto again; /* (the ones done are no longer leaving) */
}

/* The interface configuration named ifname, or NULL. */
static const struct fhr_conf_iface *iface_conf(const struct fhr_conf *c, const char *ifname)
{
	for (size_t i = 0; i < c->nifaces; i++)
		if (strcmp(c->ifaces[i].name, ifname) == 0)
			return &c->ifaces[i];
	return NULL;
}

bool fhr_in_dynamic_eid(const struct fhr *f, const char *ifname, const struct lisp_addr *a)
{
	int d = iface_dyn(f->conf, ifname);
	struct lisp_prefix host;

	if (d < 0)
		return false;
	lisp_prefix_from_addr(&host, f->conf->dyneids[d].iid, a);
	return inside_dyn(f->conf, d, &host);
}

bool fhr_proxy_arp(const struct fhr *f, const char *ifname, const struct lisp_addr *target,
		   const struct lisp_addr *requester)
{
	const struct fhr_conf_iface *x = iface_conf(f->conf, ifname);
	int d = iface_dyn(f->conf, ifname);
	const struct fhr_eid *e;
	struct lisp_prefix host;

	if (!x || !x->proxy_arp || d < 0 || lisp_addr_equal(target, requester))
		return false;
	lisp_prefix_from_addr(&host, f->conf->dyneids[d].iid, target);
	if (!inside_dyn(f->conf, d, &host))
		return false;
	e = ptable_lookup_exact(f->eids, &host);
	return !e || e->state == FHR_EID_MOVED;
}

struct live_walk {
	struct fhr *f;
	double now;
	double next; /* the earliest live_due() after the walk */
	struct lisp_prefix gone[64];
	size_t ngone;
};

/*
 * When the liveness walk has work for e (INFINITY: none): a moved-away EID
 * whose conflict hold is over, probed every FHR_PROBE_EVERY; one here
 * probed FHR_PROBE_AFTER after it was last seen (at once when contested),
 * then every FHR_PROBE_EVERY, gone after FHR_PROBES unanswered. None while
 * it is leaving (its hold decides).
 */
static double live_due(const struct fhr *f, const struct fhr_eid *e)
{
	if (e->state == FHR_EID_MOVED) {
		if (e->hold_until <= 0 || !e->has_mac)
			return INFINITY;
		return e->hold_until > e->last_probe + FHR_PROBE_EVERY
			       ? e->hold_until
			       : e->last_probe + FHR_PROBE_EVERY;
	}
	if (e->leaving)
		return INFINITY;
	if (e->probes) /* (it was quiet or contested, and was not heard of since) */
		return e->last_probe + FHR_PROBE_EVERY;
	if (e->contested)
		return 0;
	return iface_conf(f->conf, e->ifname) ? e->last_seen + FHR_PROBE_AFTER : INFINITY;
}

/*
 * Probe the EIDs that went quiet, note the ones that stopped answering: in
 * both modes, since a VM can go without a word reaching us (its host's
 * event lost, or a restart that took it from a stale neighbour entry), and
 * an EID claimed for a VM that is gone would stay registered for ever.
 */
static void liveness_probe(struct live_walk *w, const struct lisp_prefix *p, struct fhr_eid *e)
{
	if (w->now < live_due(w->f, e))
		return;
	if (e->state == FHR_EID_MOVED) {
		e->last_probe = w->now; /* its hold is over: still here? its answer re-asserts it */
		w->f->c.probes++;
		if (w->f->io.probe)
			w->f->io.probe(w->f->io.arg, e->ifname, &p->addr, e->mac);
		return;
	}
	if (e->probes >= FHR_PROBES) {
		if (w->ngone < 64)
			w->gone[w->ngone++] = *p;
		return;
	}
	e->probes++;
	e->last_probe = w->now;
	w->f->c.probes++;
	if (w->f->io.probe) /* (no MAC yet: asked of every host) */
		w->f->io.probe(w->f->io.arg, e->ifname, &p->addr, e->has_mac ? e->mac : NULL);
}

static int liveness_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct live_walk *w = arg;
	struct fhr_eid *e = v;

	liveness_probe(w, p, e);
	w->next = due_min(w->next, live_due(w->f, e));
	return 0;
}

/* The earliest live_due() of the table, without probing. */
static int live_next_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct live_walk *w = arg;

	(void)p;
	w->next = due_min(w->next, live_due(w->f, v));
	return 0;
}

void fhr_tick(struct fhr *f, double now)
{
	static struct live_walk w;
	char b[LISP_PREFIX_STRLEN];

	w.f = f;
	w.now = now;
	w.ngone = 0;
	if (f->nleaving || f->ndeferred)
		leaving_expire(f, now);
	if (now >= f->live_due && now >= f->last_liveness + FHR_LIVENESS_GAP) {
		f->last_liveness = now;
		w.next = INFINITY;
		ptable_walk(f->eids, NULL, liveness_one, &w);
		f->live_due = w.next; /* (the departures below only remove work) */
		f->live_dirty = false;
	}
	for (size_t i = 0; i < w.ngone; i++) {
		log_info("fhr: %s stopped answering (%d probes): departed",
			 lisp_prefix_format(&w.gone[i], b, sizeof(b)), FHR_PROBES);
		f->c.departures++;
		evh_add(f->io.evh, "departed", &w.gone[i], NULL, "no answer to %d probes",
			FHR_PROBES);
		fhr_clear(f, &w.gone[i], now);
	}
	gw_tick(f, now);
}

static int expire_next_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct live_walk *w = arg;

	(void)p;
	w->next = due_min(w->next, expire_due(w->f, v));
	return 0;
}

double fhr_next_due(struct fhr *f)
{
	struct live_walk w = { .f = f, .next = INFINITY };
	double live;

	if (f->live_dirty) { /* probes answered: their retries are off */
		ptable_walk(f->eids, NULL, live_next_one, &w);
		f->live_due = w.next;
		f->live_dirty = false;
	}
	live = f->live_due < f->last_liveness + FHR_LIVENESS_GAP
		       ? f->last_liveness + FHR_LIVENESS_GAP
		       : f->live_due;
	w.next = INFINITY;
	if (f->nleaving || f->ndeferred)
		ptable_walk(f->eids, NULL, expire_next_one, &w);
	return due_min(due_min(live, w.next), gw_next_due(f));
}

struct clear_walk {
	struct lisp_prefix v[256];
	size_t n;
};

static int clear_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct clear_walk *w = arg;

	(void)v;
	if (w->n == 256)
		return 1;
	w->v[w->n++] = *p;
	return 0;
}

int fhr_clear(struct fhr *f, const struct lisp_prefix *under, double now)
{
	static struct clear_walk w;
	int n = 0;

	do {
		w.n = 0;
		ptable_walk(f->eids, under, clear_one, &w);
		for (size_t i = 0; i < w.n; i++) {
			struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.v[i]);

			if (e->leaving) { /* (known() below lets what was held go) */
				e->leaving = false;
				f->nleaving--;
			}
			left_pending_set(f, e, false);
			if (e->announced_ours && f->io.known) /* (before its route goes) */
				f->io.known(f->io.arg, e->ifname, &e->p.addr,
					    e->has_mac ? e->mac : NULL, FHR_KNOWN_LEFT);
			if (f->io.known) /* (a moved-away one's route up goes too) */
				f->io.known(f->io.arg, e->ifname, &e->p.addr,
					    e->has_mac ? e->mac : NULL, FHR_KNOWN_GONE);
			if (e->state != FHR_EID_MOVED) {
				gw_notify(f, e, GW_DEPARTED, now);
				e->last_seen = now; /* (its version: the departure's) */
				f->gone[f->gone_next++ % FHR_GONE_MAX] = *e;
			}
			f->neids[e->dyn]--;
			ptable_del(f->eids, &w.v[i]);
			n++;
		}
	} while (w.n == 256);
	return n;
}

struct info_walk {
	const struct fhr *f;
	fhr_eid_fn fn;
	void *arg;
};

static int info_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct info_walk *w = arg;
	const struct fhr_eid *e = v;
	struct fhr_eid_info i = { .p = *p,
				  .policy = w->f->conf->dyneids[e->dyn].name,
				  .ifname = e->ifname,
				  .has_mac = e->has_mac,
				  .source = e->source,
				  .state = e->state,
				  .since = e->since,
				  .last_seen = e->last_seen,
				  .probes = e->probes,
				  .leaving = e->leaving,
				  .leaving_since = e->leaving_since };

	memcpy(i.mac, e->mac, 6);
	return w->fn(&i, w->arg);
}

int fhr_eid_walk(const struct fhr *f, fhr_eid_fn fn, void *arg)
{
	struct info_walk w = { .f = f, .fn = fn, .arg = arg };

	return ptable_walk(f->eids, NULL, info_one, &w);
}

void fhr_dyn_info(const struct fhr *f, size_t d, size_t *eids, uint64_t *refused)
{
	*eids = f->neids[d];
	*refused = f->refused[d];
}

size_t fhr_eid_count(const struct fhr *f)
{
	return ptable_count(f->eids);
}

const struct fhr_counters *fhr_counters(const struct fhr *f)
{
	return &f->c;
}
